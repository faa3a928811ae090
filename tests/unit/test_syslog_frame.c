/*  test_syslog_frame.c - the octet-counting frame reader (common/syslog_frame.h): frames back
    to back, every split of a stream into two and into single bytes, random chunkings against
    a model, empty frames, leading zeros, the cap at its exact boundary and refused before the
    body arrives, every kind of framing error (with the frames before it delivered and the
    refusal sticky), the partial-frame flag and the offsets. */
#include "err.h"
#include "syslog_frame.h"
#include "xalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  What a reader handed out: the frames, concatenated with their lengths. */
typedef struct {
    uint8_t *bytes;           /* every frame's bytes, back to back */
    size_t n_bytes;           /* used */
    size_t cap;               /* allocated */
    size_t lens[4096];        /* each frame's length */
    size_t n;                 /* frames */
    const uint8_t *last_data; /* where the last frame was handed out from */
} s_got_t;

static void
s_collect(void *arg, const uint8_t *msg, size_t len)
{
    s_got_t *g = arg;
    assert_true(len >= 1);
    assert_true(g->n < sizeof g->lens / sizeof g->lens[0]);
    xgrow(&g->bytes, &g->cap, g->n_bytes + len);
    memcpy(g->bytes + g->n_bytes, msg, len);
    g->n_bytes += len;
    g->lens[g->n++] = len;
    g->last_data = msg;
}

static void
s_got_free(s_got_t *g)
{
    free(g->bytes);
    memset(g, 0, sizeof *g);
}

static void
s_assert_same(const s_got_t *a, const s_got_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->n_bytes, b->n_bytes);
    assert_memory_equal(a->lens, b->lens, a->n * sizeof a->lens[0]);
    if (a->n_bytes) {
        assert_memory_equal(a->bytes, b->bytes, a->n_bytes);
    }
}

/*  Appends the frame "LEN SP msg" to *buf. */
static void
s_frame(uint8_t **buf, size_t *len, size_t *cap, const void *msg, size_t n)
{
    char head[24];
    int h = snprintf(head, sizeof head, "%zu ", n);
    xgrow(buf, cap, *len + (size_t)h + n);
    memcpy(*buf + *len, head, (size_t)h);
    memcpy(*buf + *len + h, msg, n);
    *len += (size_t)h + n;
}

/*  Feeds stream in chunks of the given sizes (cycled); returns the last return code. */
static int
s_feed_chunks(syslog_frame_t *r, const uint8_t *stream, size_t len, const size_t *sizes,
              size_t n_sizes, s_got_t *got)
{
    size_t pos = 0;
    size_t k = 0;
    int rc = 0;
    while (pos < len) {
        size_t n = sizes[k++ % n_sizes];
        if (n > len - pos) {
            n = len - pos;
        }
        /* A copy per chunk, so a frame handed out "in place" really lies in that chunk. */
        uint8_t *chunk = xmalloc(n ? n : 1);
        memcpy(chunk, stream + pos, n);
        rc = syslog_frame_feed(r, chunk, n, s_collect, got);
        free(chunk);
        pos += n;
        if (rc != 0) {
            break;
        }
    }
    return rc;
}

/*  The frames of the test stream: DECNET-like lines, a multi-byte UTF-8 one, one holding an
    LF and a space, and one of exactly the cap. */
#define S_CAP 300

static size_t s_ends[16]; /* where the test stream's frames end (its frame boundaries) */
static size_t s_n_ends;   /* count */

static uint8_t *
s_stream(size_t *len, s_got_t *want)
{
    static const char *const lines[] = {
        "<13>1 2026-01-02T03:04:05.000000+00:00 decky-01 ssh - login [decnet@55555 "
        "src_ip=\"203.0.113.9\" username=\"root\"] failed password",
        "x",
        "<14>1 - - - - - - caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\x9d",
        "two\nlines and  spaces ",
        "12 34",
    };
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    s_n_ends = 0;
    memset(want, 0, sizeof *want);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        s_frame(&buf, len, &cap, lines[i], strlen(lines[i]));
        s_collect(want, (const uint8_t *)lines[i], strlen(lines[i]));
        s_ends[s_n_ends++] = *len;
        if (i == 1) {
            xgrow(&buf, &cap, *len + 2);
            memcpy(buf + *len, "0 ", 2); /* an empty frame: skipped */
            *len += 2;
            s_ends[s_n_ends++] = *len;
        }
    }
    uint8_t full[S_CAP];
    for (size_t i = 0; i < S_CAP; i++) {
        full[i] = (uint8_t)('a' + i % 26);
    }
    s_frame(&buf, len, &cap, full, S_CAP);
    s_collect(want, full, S_CAP);
    s_ends[s_n_ends++] = *len;
    return buf;
}

static void
test_whole_stream(void **state)
{
    (void)state;
    size_t len;
    s_got_t want, got = {0};
    uint8_t *stream = s_stream(&len, &want);
    syslog_frame_t *r = syslog_frame_new(S_CAP);
    assert_int_equal(syslog_frame_feed(r, stream, len, s_collect, &got), 0);
    s_assert_same(&want, &got);
    /* Whole frames are handed out in place: the last one points into the stream. */
    assert_ptr_equal(got.last_data, stream + len - S_CAP);
    assert_int_equal(syslog_frame_count(r), want.n);
    assert_int_equal(syslog_frame_empty(r), 1);
    assert_int_equal(syslog_frame_offset(r), len);
    assert_false(syslog_frame_partial(r));
    assert_string_equal(syslog_frame_error(r), "");
    assert_int_equal(syslog_frame_feed(r, NULL, 0, s_collect, &got), 0);
    syslog_frame_destroy(&r);
    assert_null(r);
    syslog_frame_destroy(&r); /* NULL: a no-op */
    s_got_free(&want);
    s_got_free(&got);
    free(stream);
}

static void
test_every_split(void **state)
{
    (void)state;
    size_t len;
    s_got_t want;
    uint8_t *stream = s_stream(&len, &want);
    for (size_t cut = 0; cut <= len; cut++) {
        s_got_t got = {0};
        syslog_frame_t *r = syslog_frame_new(S_CAP);
        assert_int_equal(syslog_frame_feed(r, stream, cut, s_collect, &got), 0);
        /* partial is exactly "the cut is not at a frame boundary" */
        bool boundary = cut == 0;
        for (size_t i = 0; i < s_n_ends; i++) {
            boundary = boundary || s_ends[i] == cut;
        }
        assert_int_equal(syslog_frame_partial(r), !boundary);
        assert_int_equal(syslog_frame_offset(r), cut);
        assert_int_equal(syslog_frame_feed(r, stream + cut, len - cut, s_collect, &got), 0);
        s_assert_same(&want, &got);
        assert_false(syslog_frame_partial(r));
        assert_int_equal(syslog_frame_offset(r), len);
        syslog_frame_destroy(&r);
        s_got_free(&got);
    }
    /* One byte at a time. */
    s_got_t got = {0};
    syslog_frame_t *r = syslog_frame_new(S_CAP);
    size_t one = 1;
    assert_int_equal(s_feed_chunks(r, stream, len, &one, 1, &got), 0);
    s_assert_same(&want, &got);
    syslog_frame_destroy(&r);
    s_got_free(&got);
    s_got_free(&want);
    free(stream);
}

/*  Random frames (lengths 0..cap, any bytes) in random chunks, against the model. */
static void
test_random_chunks(void **state)
{
    (void)state;
    srand(12345);
    for (int round = 0; round < 300; round++) {
        size_t cap = 1 + (size_t)(rand() % 2000);
        uint8_t *stream = NULL;
        size_t len = 0, scap = 0;
        s_got_t want = {0};
        int frames = rand() % 40;
        uint64_t empty = 0;
        for (int f = 0; f < frames; f++) {
            size_t n = (size_t)(rand() % 5 == 0 ? 0 : 1 + rand() % (int)cap);
            uint8_t *msg = xmalloc(n ? n : 1);
            for (size_t i = 0; i < n; i++) {
                msg[i] = (uint8_t)rand();
            }
            s_frame(&stream, &len, &scap, msg, n);
            if (n) {
                s_collect(&want, msg, n);
            } else {
                empty++;
            }
            free(msg);
        }
        size_t sizes[8];
        for (int i = 0; i < 8; i++) {
            sizes[i] = 1 + (size_t)(rand() % (rand() % 2 ? 7 : 3000));
        }
        s_got_t got = {0};
        syslog_frame_t *r = syslog_frame_new(cap);
        assert_int_equal(s_feed_chunks(r, stream, len, sizes, 8, &got), 0);
        s_assert_same(&want, &got);
        assert_int_equal(syslog_frame_empty(r), empty);
        assert_false(syslog_frame_partial(r));
        syslog_frame_destroy(&r);
        s_got_free(&got);
        s_got_free(&want);
        free(stream);
    }
}

static void
test_leading_zeros_and_empty(void **state)
{
    (void)state;
    static const char in[] = "0 0 003 abc0000000001 z0 ";
    s_got_t got = {0};
    syslog_frame_t *r = syslog_frame_new(10);
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)in, strlen(in), s_collect, &got), 0);
    assert_int_equal(got.n, 2);
    assert_memory_equal(got.bytes, "abcz", 4);
    assert_int_equal(syslog_frame_empty(r), 3);
    syslog_frame_destroy(&r);
    s_got_free(&got);
}

/*  Feeds `in` to a fresh reader with the cap; checks the code, the frames delivered before
    it, a substring of the reason and that the refusal is sticky. */
static void
s_refused(const char *in, size_t cap, int code, size_t frames, const char *reason)
{
    s_got_t got = {0};
    syslog_frame_t *r = syslog_frame_new(cap);
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)in, strlen(in), s_collect, &got), code);
    assert_int_equal(got.n, frames);
    if (!strstr(syslog_frame_error(r), reason)) {
        fail_msg("'%s': reason '%s' lacks '%s'", in, syslog_frame_error(r), reason);
    }
    assert_false(syslog_frame_partial(r));
    /* Sticky: a good frame afterwards is refused the same way and never delivered. */
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)"1 a", 3, s_collect, &got), code);
    assert_int_equal(got.n, frames);
    syslog_frame_destroy(&r);
    s_got_free(&got);
}

static void
test_refusals(void **state)
{
    (void)state;
    /* Plain LF-framed syslog, the usual misconfiguration. */
    s_refused("<13>1 2026-01-01T00:00:00Z host app - - - hi\n", 100, CADRE_EPROTO, 0,
              "byte 0x3c at offset 0 where a length digit belongs");
    s_refused("3 abc12x hello", 100, CADRE_EPROTO, 1,
              "byte 0x78 at offset 7 where a length digit or the space belongs");
    s_refused("3 abc 3 abc", 100, CADRE_EPROTO, 1, "a space without a length at offset 5");
    s_refused("3 abc-1 a", 100, CADRE_EPROTO, 1, "byte 0x2d");
    s_refused("3 abc\n3 abc", 100, CADRE_EPROTO, 1, "byte 0x0a");
    s_refused("00000000001 a", 100, CADRE_EPROTO, 0, "more than 10 digits");
    s_refused("10000000000 a", UINT32_MAX, CADRE_EPROTO, 0, "more than 10 digits");
    s_refused("9999999999 a", UINT32_MAX, CADRE_ELIMIT, 0, "over 4294967295 bytes");
    s_refused("4294967296 a", UINT32_MAX, CADRE_ELIMIT, 0, "over 4294967295 bytes");
    /* The cap, exactly: 100 is taken, 101 refused, as soon as its digits pass the cap. */
    char ok[140];
    memset(ok, 'q', sizeof ok);
    memcpy(ok, "100 ", 4);
    ok[104] = '\0';
    s_got_t got = {0};
    syslog_frame_t *r = syslog_frame_new(100);
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)ok, 104, s_collect, &got), 0);
    assert_int_equal(got.n, 1);
    syslog_frame_destroy(&r);
    s_got_free(&got);
    s_refused("2 ab101", 100, CADRE_ELIMIT, 1, "frame length over 100 bytes (at offset 6)");
    s_refused("1000", 100, CADRE_ELIMIT, 0, "over 100 bytes (at offset 3)");
    s_refused("2 a", 1, CADRE_ELIMIT, 0, "over 1 bytes");
}

static void
test_partial(void **state)
{
    (void)state;
    s_got_t got = {0};
    syslog_frame_t *r = syslog_frame_new(64);
    assert_false(syslog_frame_partial(r));
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)"1", 1, s_collect, &got), 0);
    assert_true(syslog_frame_partial(r));
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)"2 hello", 7, s_collect, &got), 0);
    assert_true(syslog_frame_partial(r));
    assert_int_equal(got.n, 0);
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)" world", 6, s_collect, &got), 0);
    assert_int_equal(got.n, 0);
    assert_int_equal(syslog_frame_feed(r, (const uint8_t *)"!0 ", 3, s_collect, &got), 0);
    assert_int_equal(got.n, 1);
    assert_memory_equal(got.bytes, "hello world!", 12);
    assert_false(syslog_frame_partial(r));
    assert_int_equal(syslog_frame_offset(r), 17);
    assert_int_equal(syslog_frame_count(r), 1);
    assert_int_equal(syslog_frame_empty(r), 1);
    syslog_frame_destroy(&r);
    s_got_free(&got);
}

/*  A large split frame, then small ones: the gather buffer is given back and taken again. */
static void
test_large_then_small(void **state)
{
    (void)state;
    size_t cap = 65536;
    uint8_t *stream = NULL;
    size_t len = 0, scap = 0;
    s_got_t want = {0};
    uint8_t *big = xmalloc(cap);
    for (size_t i = 0; i < cap; i++) {
        big[i] = (uint8_t)(i * 7);
    }
    for (int k = 0; k < 3; k++) {
        s_frame(&stream, &len, &scap, big, cap);
        s_collect(&want, big, cap);
        s_frame(&stream, &len, &scap, "small", 5);
        s_collect(&want, (const uint8_t *)"small", 5);
    }
    size_t sizes[] = {16384, 1, 1000, 16383};
    s_got_t got = {0};
    syslog_frame_t *r = syslog_frame_new(cap);
    assert_int_equal(s_feed_chunks(r, stream, len, sizes, 4, &got), 0);
    s_assert_same(&want, &got);
    syslog_frame_destroy(&r);
    s_got_free(&got);
    s_got_free(&want);
    free(big);
    free(stream);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_stream),     cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_random_chunks),    cmocka_unit_test(test_leading_zeros_and_empty),
        cmocka_unit_test(test_refusals),         cmocka_unit_test(test_partial),
        cmocka_unit_test(test_large_then_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
