/*  test_wire_msg.c - the protocol bodies of common/wire_msg.c against hostile input: declared
    counts larger than the bytes present, and values out of range, are refused before any
    allocation for them; good bodies still round-trip. */
#include "err.h"
#include "wire.h"
#include "wire_msg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  Every decoder behind one signature; each frees what it decoded. */
typedef int (*s_decode_fn)(const void *data, size_t len, char *err, size_t errlen);

static int
s_keys(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_keys_t b;
    int rc = wmsg_keys_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_keys_free(&b);
    }
    return rc;
}

static int
s_records(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_records_t b;
    int rc = wmsg_records_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_records_free(&b);
    }
    return rc;
}

static int
s_flips(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_flips_t b;
    int rc = wmsg_flips_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_flips_free(&b);
    }
    return rc;
}

static int
s_forests(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_forests_t b;
    int rc = wmsg_forests_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_forests_free(&b);
    }
    return rc;
}

static int
s_ready(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_ready_t b;
    int rc = wmsg_ready_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_ready_free(&b);
    }
    return rc;
}

static int
s_error(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_error_t b;
    int rc = wmsg_error_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_error_free(&b);
    }
    return rc;
}

static int
s_query(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_query_t b;
    int rc = wmsg_query_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_query_free(&b);
    }
    return rc;
}

static int
s_reply(const void *d, size_t n, char *err, size_t errlen)
{
    wmsg_reply_t b;
    int rc = wmsg_reply_decode(d, n, &b, err, errlen);
    if (rc == 0) {
        wmsg_reply_free(&b);
    }
    return rc;
}

static int
s_text(const void *d, size_t n, char *err, size_t errlen)
{
    char *t = NULL;
    int rc = wmsg_text_decode(d, n, &t, err, errlen);
    free(t);
    return rc;
}

static const struct {
    const char *name;
    s_decode_fn fn;
    const char *list_key; /* the key of its list, or NULL */
} s_decoders[] = {
    {"keys", s_keys, "entries"}, {"records", s_records, "entries"},
    {"flips", s_flips, "flips"}, {"forests", s_forests, "blocks"},
    {"ready", s_ready, NULL},    {"error", s_error, NULL},
    {"query", s_query, NULL},    {"reply", s_reply, "items"},
    {"text", s_text, NULL},
};
#define S_NDECODERS (sizeof s_decoders / sizeof s_decoders[0])

/*  Five bytes that claim 2^32 - 1 elements (or bytes) and hold none: each would make
    msgpack-c reserve gigabytes if it were trusted (a 5-byte QUERY body once asked for
    128 GiB). */
static const unsigned char s_claims[][5] = {
    {0xdd, 0xff, 0xff, 0xff, 0xff}, /* array 32 */
    {0xdf, 0xff, 0xff, 0xff, 0xff}, /* map 32 */
    {0xdb, 0xff, 0xff, 0xff, 0xff}, /* str 32 */
    {0xc6, 0xff, 0xff, 0xff, 0xff}, /* bin 32 */
};

static void
test_declared_counts_are_not_trusted(void **state)
{
    (void)state;
    char err[256];
    for (size_t d = 0; d < S_NDECODERS; d++) {
        for (size_t c = 0; c < sizeof s_claims / sizeof s_claims[0]; c++) {
            err[0] = '\0';
            int rc = s_decoders[d].fn(s_claims[c], sizeof s_claims[c], err, sizeof err);
            if (rc == 0) {
                fail_msg("%s accepted claim %zu", s_decoders[d].name, c);
            }
            assert_true(err[0] != '\0');
        }
        /* The claim one level down, as the value of the body's list. */
        if (s_decoders[d].list_key) {
            unsigned char body[64];
            size_t kl = strlen(s_decoders[d].list_key);
            size_t n = 0;
            body[n++] = 0x81;
            body[n++] = (unsigned char)(0xa0 | kl);
            memcpy(body + n, s_decoders[d].list_key, kl);
            n += kl;
            memcpy(body + n, s_claims[0], 5);
            n += 5;
            assert_int_not_equal(s_decoders[d].fn(body, n, err, sizeof err), 0);
        }
    }
}

static void
test_good_bodies_still_decode(void **state)
{
    (void)state;
    char err[256];
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_query_t q = {.what = "identity", .id = "abc"};
    wmsg_query_encode(&q, &buf);
    wmsg_query_t got;
    assert_int_equal(wmsg_query_decode(buf.data, buf.len, &got, err, sizeof err), 0);
    assert_string_equal(got.what, "identity");
    assert_string_equal(got.id, "abc");
    wmsg_query_free(&got);

    wire_buf_reset(&buf);
    char *edges[] = {"a", "b"};
    wmsg_block_t blk = {.family = 2, .value = "v", .holders = 2, .edges = edges, .n_edges = 1};
    wmsg_forests_t f = {.blocks = &blk, .n = 1};
    wmsg_forests_encode(&f, &buf);
    wmsg_forests_t fg;
    assert_int_equal(wmsg_forests_decode(buf.data, buf.len, &fg, err, sizeof err), 0);
    assert_int_equal(fg.n, 1);
    assert_int_equal(fg.blocks[0].n_edges, 1);
    wmsg_forests_free(&fg);

    /* A body with trailing bytes is not one message. */
    wire_buf_reset(&buf);
    wmsg_text_encode("hello", &buf);
    wire_buf_append(&buf, "\xc0", 1);
    char *t = NULL;
    assert_int_not_equal(wmsg_text_decode(buf.data, buf.len, &t, err, sizeof err), 0);
    assert_null(t);
    wire_buf_free(&buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared_counts_are_not_trusted),
        cmocka_unit_test(test_good_bodies_still_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
