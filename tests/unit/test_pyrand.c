/*  test_pyrand.c - pyrand reproduces CPython 3.11's random.Random draw for draw.

    Expected values were produced with CPython 3.11.7: random.Random(seed) followed by the
    calls named in each test (getrandbits, randint, choice, randrange, randbytes, random).
*/
#include "pyrand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_seed_zero_words(void **state)
{
    (void)state;
    pyrand_t r;
    pyrand_seed(&r, 0);
    const uint32_t want[] = {3626764237U, 1654615998U, 3255389356U, 3823568514U, 1806341205U};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pyrand_getrandbits(&r, 32), want[i]);
    }
}

static void
test_other_seeds(void **state)
{
    (void)state;
    pyrand_t r;
    pyrand_seed(&r, 7);
    assert_int_equal(pyrand_u32(&r), 1390851128U);
    assert_int_equal(pyrand_u32(&r), 4071050724U);
    assert_int_equal(pyrand_u32(&r), 647892279U);
    /* 2**40 + 5 needs two key limbs. */
    pyrand_seed(&r, (UINT64_C(1) << 40) + 5);
    assert_int_equal(pyrand_u32(&r), 2166296868U);
    assert_int_equal(pyrand_u32(&r), 2220160828U);
    assert_int_equal(pyrand_u32(&r), 1153647273U);
    /* Python seeds -3 as 3. */
    pyrand_seed(&r, 3);
    assert_int_equal(pyrand_u32(&r), 1022050301U);
    assert_int_equal(pyrand_u32(&r), 2545373330U);
    assert_int_equal(pyrand_u32(&r), 2337446730U);
}

static void
test_derived_draws(void **state)
{
    (void)state;
    pyrand_t r;
    pyrand_seed(&r, 12345);
    const int64_t jit[] = {-7, 33, -59, 44, 45};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pyrand_randint(&r, -60, 60), jit[i]);
    }
    const int64_t off[] = {3288, 1223, 3502, 1509, 793};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pyrand_randint(&r, 0, 3600), off[i]);
    }
    /* choice(range(20)) is randbelow(20). */
    const uint64_t pick[] = {8, 18, 13, 5, 11};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pyrand_below(&r, 20), pick[i]);
    }
    /* randrange(1): a one-element choice still consumes draws. */
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pyrand_below(&r, 1), 0);
    }
    uint8_t b16[16];
    pyrand_bytes(&r, b16, 16);
    const uint8_t want16[] = {0x24, 0x60, 0xe4, 0x8f, 0x0e, 0x25, 0x91, 0xa0,
                              0x89, 0xc7, 0xa1, 0x2c, 0x0c, 0xea, 0x9c, 0x9c};
    assert_memory_equal(b16, want16, 16);
    uint8_t b5[5];
    pyrand_bytes(&r, b5, 5);
    const uint8_t want5[] = {0xb9, 0xe5, 0x9f, 0x8d, 0x2f};
    assert_memory_equal(b5, want5, 5);
    assert_true(pyrand_random(&r) == 0x1.6b6b44de7ba6ap-2);
    assert_int_equal(pyrand_getrandbits(&r, 1), 1);
    assert_int_equal(pyrand_getrandbits(&r, 7), 93);
    assert_int_equal(pyrand_getrandbits(&r, 31), 196052585);
    assert_int_equal(pyrand_getrandbits(&r, 32), 2280811246U);
    /* Widths above 32 bits assemble two words. */
    const int64_t wide[] = {367236606106LL, 451607849029LL, 170591664909LL};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pyrand_randint(&r, 0, INT64_C(1) << 40), wide[i]);
    }
    assert_int_equal(pyrand_u32(&r), 815920853U);
}

static void
test_uuid_shape_and_determinism(void **state)
{
    (void)state;
    pyrand_t a;
    pyrand_t b;
    pyrand_seed(&a, 99);
    pyrand_seed(&b, 99);
    char ua[37];
    char ub[37];
    pyrand_uuid(&a, ua);
    pyrand_uuid(&b, ub);
    assert_string_equal(ua, ub);
    assert_int_equal(strlen(ua), 36);
    assert_true(ua[8] == '-' && ua[13] == '-' && ua[18] == '-' && ua[23] == '-');
    pyrand_uuid(&a, ub);
    assert_string_not_equal(ua, ub);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_zero_words),
        cmocka_unit_test(test_other_seeds),
        cmocka_unit_test(test_derived_draws),
        cmocka_unit_test(test_uuid_shape_and_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
