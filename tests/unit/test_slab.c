/*  test_slab.c - the size-class allocator: classes, reuse of freed blocks, growth keeping
    contents, large blocks, and many blocks across chunks without overlap. */
#include "slab.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_classes_and_reuse(void **state)
{
    (void)state;
    slab_t *s = slab_new();
    size_t cap = 0;
    void *a = slab_alloc(s, 1, &cap);
    assert_int_equal(cap, SLAB_MIN);
    void *b = slab_alloc(s, 33, &cap);
    assert_int_equal(cap, 64);
    assert_int_equal((uintptr_t)b % 16, 0);
    slab_free(s, b, 64);
    void *c = slab_alloc(s, 40, &cap);
    assert_ptr_equal(b, c); /* the freed block of the class serves the next request */
    void *big = slab_alloc(s, SLAB_MAX + 1, &cap);
    assert_int_equal(cap, SLAB_MAX + 1);
    memset(big, 1, cap);
    slab_free(s, big, cap);
    slab_free(s, NULL, 0);
    slab_free(s, a, SLAB_MIN);
    slab_destroy(&s);
    assert_null(s);
    slab_destroy(&s);
}

static void
test_grow(void **state)
{
    (void)state;
    slab_t *s = slab_new();
    uint32_t *v = NULL;
    size_t bytes = 0;
    for (uint32_t i = 0; i < 200000; i++) {
        slab_grow(s, (void **)&v, &bytes, (i + 1) * sizeof *v);
        v[i] = i * 7;
    }
    assert_true(bytes > SLAB_MAX); /* grew past the classes into malloc */
    for (uint32_t i = 0; i < 200000; i++) {
        assert_int_equal(v[i], i * 7);
    }
    slab_free(s, v, bytes);
    slab_destroy(&s);
}

/*  Many blocks of mixed classes over several chunks: each keeps its own bytes. */
static void
test_many(void **state)
{
    (void)state;
    slab_t *s = slab_new();
    enum { N = 60000 };
    unsigned char **p = calloc(N, sizeof *p);
    size_t *caps = calloc(N, sizeof *caps);
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + (i * 2654435761u) % 3000;
        p[i] = slab_alloc(s, n, &caps[i]);
        assert_true(caps[i] >= n);
        memset(p[i], (int)(i & 0xff), caps[i]);
        if (i % 3 == 0) {
            slab_free(s, p[i], caps[i]);
            p[i] = NULL;
        }
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; p[i] && k < caps[i]; k += 97) {
            assert_int_equal(p[i][k], i & 0xff);
        }
    }
    free(p);
    free(caps);
    slab_destroy(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes_and_reuse),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
