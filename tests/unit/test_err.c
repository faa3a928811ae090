/*  test_err.c - error codes, descriptions and the allocation helpers in common/. */
#include "digest.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_strerror(void **state)
{
    (void)state;
    assert_string_equal(cadre_strerror(0), "success");
    assert_string_equal(cadre_strerror(CADRE_ERECORD), "malformed input record");
    assert_string_equal(cadre_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(cadre_strerror(-99999), "unknown error");
    assert_true(CADRE_ERECORD <= -1000 && CADRE_ELIMIT <= -1000);
}

static void
test_grow_and_asprintf(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    for (int i = 0; i < 1000; i++) {
        xgrow(&v, &cap, (size_t)i + 1);
        v[i] = i;
    }
    assert_true(cap >= 1000);
    assert_int_equal(v[999], 999);
    free(v);
    char *s = xasprintf("%s-%d", "decky", 7);
    assert_string_equal(s, "decky-7");
    free(s);
    char *t = xstrndup("abcdef", 3);
    assert_string_equal(t, "abc");
    free(t);
}

static void
test_digests(void **state)
{
    (void)state;
    char hex[DIGEST_SHA256_HEX];
    /* FIPS 180-2 example: SHA-256("abc"). */
    digest_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char md5[DIGEST_MD5_HEX];
    /* RFC 1321 test suite: MD5("abc"). */
    digest_md5_hex("abc", 3, md5);
    assert_string_equal(md5, "900150983cd24fb0d6963f7d28e17f72");
    /* RFC 4122 name-based UUID; the value is Python's uuid.uuid5(NAMESPACE_DNS, "python.org"). */
    static const uint8_t dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char u[37];
    digest_uuid5(dns, "python.org", 10, u);
    assert_string_equal(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_grow_and_asprintf),
        cmocka_unit_test(test_digests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
