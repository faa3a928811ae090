/*  test_strtab.c - the string interning table (strtab.h). */
#include "strtab.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_dense_ids_in_insertion_order(void **state)
{
    (void)state;
    strtab_t *tab = strtab_new();
    assert_int_equal(strtab_count(tab), 0);
    assert_int_equal(strtab_intern(tab, "alpha", 5), 0);
    assert_int_equal(strtab_intern(tab, "beta", 4), 1);
    assert_int_equal(strtab_intern(tab, "alpha", 5), 0);
    assert_int_equal(strtab_intern(tab, "gamma", 5), 2);
    assert_int_equal(strtab_count(tab), 3);
    assert_string_equal(strtab_str(tab, 1), "beta");
    assert_int_equal(strtab_len(tab, 2), 5);
    strtab_destroy(&tab);
    assert_null(tab);
}

static void
test_find(void **state)
{
    (void)state;
    strtab_t *tab = strtab_new();
    assert_int_equal(strtab_find(tab, "x", 1), STRTAB_NONE);
    uint32_t id = strtab_intern(tab, "x", 1);
    assert_int_equal(strtab_find(tab, "x", 1), id);
    /* a prefix or extension is a different string */
    assert_int_equal(strtab_find(tab, "xy", 2), STRTAB_NONE);
    assert_int_equal(strtab_find(tab, "x", 0), STRTAB_NONE);
    /* find never adds */
    assert_int_equal(strtab_count(tab), 1);
    strtab_destroy(&tab);
}

/*  Lengths are explicit: the empty string and strings with NUL bytes are ordinary keys. */
static void
test_empty_and_embedded_nul(void **state)
{
    (void)state;
    strtab_t *tab = strtab_new();
    uint32_t empty = strtab_intern(tab, "", 0);
    uint32_t a = strtab_intern(tab, "a\0b", 3);
    uint32_t a_short = strtab_intern(tab, "a", 1);
    assert_int_not_equal(a, a_short);
    assert_int_equal(strtab_intern(tab, "", 0), empty);
    assert_int_equal(strtab_find(tab, "a\0b", 3), a);
    assert_int_equal(strtab_len(tab, a), 3);
    assert_memory_equal(strtab_str(tab, a), "a\0b", 4);
    assert_string_equal(strtab_str(tab, empty), "");
    strtab_destroy(&tab);
}

/*  Many strings: the index grows and rehashes, and earlier pointers stay valid. */
static void
test_many_strings_stable_pointers(void **state)
{
    (void)state;
    enum { N = 200000 };
    strtab_t *tab = strtab_new();
    const char **first = malloc(N * sizeof *first);
    assert_non_null(first);
    char buf[32];
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "att-%08d", i);
        assert_int_equal(strtab_intern(tab, buf, (size_t)len), (uint32_t)i);
        first[i] = strtab_str(tab, (uint32_t)i);
    }
    assert_int_equal(strtab_count(tab), N);
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "att-%08d", i);
        assert_int_equal(strtab_find(tab, buf, (size_t)len), (uint32_t)i);
        assert_ptr_equal(strtab_str(tab, (uint32_t)i), first[i]);
        assert_string_equal(first[i], buf);
    }
    free(first);
    strtab_destroy(&tab);
}

/*  A string longer than an arena block gets a block of its own. */
static void
test_long_string(void **state)
{
    (void)state;
    size_t len = 300000;
    char *big = malloc(len);
    assert_non_null(big);
    for (size_t i = 0; i < len; i++) {
        big[i] = (char)('a' + i % 26);
    }
    strtab_t *tab = strtab_new();
    uint32_t small = strtab_intern(tab, "small", 5);
    uint32_t id = strtab_intern(tab, big, len);
    uint32_t after = strtab_intern(tab, "after", 5);
    assert_int_equal(strtab_find(tab, big, len), id);
    assert_int_equal(strtab_len(tab, id), len);
    assert_memory_equal(strtab_str(tab, id), big, len);
    assert_string_equal(strtab_str(tab, small), "small");
    assert_string_equal(strtab_str(tab, after), "after");
    free(big);
    strtab_destroy(&tab);
}

static void
test_destroy_null(void **state)
{
    (void)state;
    strtab_t *tab = NULL;
    strtab_destroy(&tab);
    assert_null(tab);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_ids_in_insertion_order),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_empty_and_embedded_nul),
        cmocka_unit_test(test_many_strings_stable_pointers),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_destroy_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
