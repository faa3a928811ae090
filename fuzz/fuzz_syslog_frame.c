/*  fuzz_syslog_frame.c - the octet-counting frame reader under the syslog-over-TLS receiver
    (common/syslog_frame.c: what DECNET's forwarders, or anyone holding a worker certificate,
    send to `cadre syslog-recv` and `cadre ship --listen-syslog`).

    Input: two bytes give the frame cap (1 + big-endian value: 1..65536), one byte seeds the
    chunking, the rest is the stream. Properties:
      - the stream fed whole, in pseudo-random chunks and (when short) byte by byte gives the
        same frames, the same return code, the same reason, counters and offset;
      - all of them equal a straight-line reference parser of the framing rules written here
        (digits 1..10, SP, MSG-LEN bytes; 0 skipped; over the cap or any other byte refused);
      - every frame is 1..cap bytes; partial is true exactly when the stream ends inside a frame;
      - a refusal is final: a further feed returns the same code and hands out nothing. */
#include "fuzz.h"

#include "err.h"
#include "syslog_frame.h"
#include "xalloc.h"

#define S_BYTEWISE_MAX 4096 /* streams up to this long are also fed one byte at a time */

/*  Frames handed out, concatenated, with their lengths. */
typedef struct {
    uint8_t *bytes;  /* the frames' bytes back to back */
    size_t n_bytes;  /* used */
    size_t cap;      /* allocated */
    size_t *lens;    /* each frame's length */
    size_t n;        /* frames */
    size_t lens_cap; /* allocated */
    size_t max;      /* the cap every frame must respect */
} s_got_t;

static void
s_collect(void *arg, const uint8_t *msg, size_t len)
{
    s_got_t *g = arg;
    FUZZ_CHECK(len >= 1 && len <= g->max, "frame of %zu bytes with cap %zu", len, g->max);
    xgrow(&g->bytes, &g->cap, g->n_bytes + len);
    memcpy(g->bytes + g->n_bytes, msg, len);
    g->n_bytes += len;
    xgrow(&g->lens, &g->lens_cap, g->n + 1);
    g->lens[g->n++] = len;
}

static void
s_free(s_got_t *g)
{
    free(g->bytes);
    free(g->lens);
}

static bool
s_same(const s_got_t *a, const s_got_t *b)
{
    return a->n == b->n && a->n_bytes == b->n_bytes &&
           (a->n == 0 || memcmp(a->lens, b->lens, a->n * sizeof a->lens[0]) == 0) &&
           (a->n_bytes == 0 || memcmp(a->bytes, b->bytes, a->n_bytes) == 0);
}

/*  What one way of feeding gave. */
typedef struct {
    s_got_t got;     /* frames */
    int rc;          /* the first non-zero return, or 0 */
    char error[128]; /* the reason */
    bool partial;    /* syslog_frame_partial() at the end */
    uint64_t count;  /* syslog_frame_count() */
    uint64_t empty;  /* syslog_frame_empty() */
    uint64_t offset; /* syslog_frame_offset() */
} s_run_t;

/*  Feeds data all at once (seed 0), in chunk sizes drawn from the seed, or byte by byte. */
static void
s_feed(const uint8_t *data, size_t size, size_t cap, unsigned seed, bool bytewise, s_run_t *out)
{
    memset(out, 0, sizeof *out);
    out->got.max = cap;
    syslog_frame_t *r = syslog_frame_new(cap);
    size_t pos = 0;
    uint32_t x = seed * 2654435761u + 1;
    do {
        size_t n = size - pos;
        if (bytewise) {
            n = n ? 1 : 0;
        } else if (seed) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t want = 1 + x % (x & 1 ? 7 : 20000);
            n = want < n ? want : n;
        }
        int rc = syslog_frame_feed(r, data + pos, n, s_collect, &out->got);
        pos += n;
        if (rc != 0) {
            out->rc = rc;
            break;
        }
    } while (pos < size);
    if (out->rc) {
        /* Final: the same code again, nothing handed out. */
        size_t before = out->got.n;
        FUZZ_CHECK(syslog_frame_feed(r, (const uint8_t *)"1 a", 3, s_collect, &out->got) == out->rc,
                   "a refused reader took more input");
        FUZZ_CHECK(out->got.n == before, "a refused reader handed out a frame");
        FUZZ_CHECK(syslog_frame_error(r)[0], "a refusal without a reason");
    } else {
        FUZZ_CHECK(!syslog_frame_error(r)[0], "a reason without a refusal");
    }
    snprintf(out->error, sizeof out->error, "%s", syslog_frame_error(r));
    out->partial = syslog_frame_partial(r);
    out->count = syslog_frame_count(r);
    out->empty = syslog_frame_empty(r);
    out->offset = syslog_frame_offset(r);
    FUZZ_CHECK(out->count == out->got.n, "count %llu, frames %zu", (unsigned long long)out->count,
               out->got.n);
    syslog_frame_destroy(&r);
}

/*  The reference: the framing rules, straight over the whole stream. Sets the frames, the
    code, the empty count, the offset consumed and whether it ends inside a frame. */
static void
s_model(const uint8_t *d, size_t size, size_t cap, s_run_t *out)
{
    memset(out, 0, sizeof *out);
    out->got.max = cap;
    size_t pos = 0;
    while (pos < size) {
        size_t start = pos;
        uint64_t len = 0;
        int digits = 0;
        while (pos < size && d[pos] >= '0' && d[pos] <= '9') {
            if (digits == SYSLOG_FRAME_MAX_DIGITS) {
                out->rc = CADRE_EPROTO;
                out->offset = pos + 1;
                return;
            }
            len = len * 10 + (uint64_t)(d[pos] - '0');
            digits++;
            pos++;
            if (len > cap) {
                out->rc = CADRE_ELIMIT;
                out->offset = pos;
                return;
            }
        }
        if (pos == size) {
            out->partial = pos > start;
            break;
        }
        if (d[pos] != ' ' || digits == 0) {
            out->rc = CADRE_EPROTO;
            out->offset = pos + 1;
            return;
        }
        pos++;
        if (len == 0) {
            out->empty++;
            continue;
        }
        if (size - pos < len) {
            out->partial = true;
            pos = size;
            break;
        }
        s_collect(&out->got, d + pos, (size_t)len);
        pos += (size_t)len;
    }
    out->offset = size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    size_t cap = 1 + (((size_t)data[0] << 8) | data[1]);
    unsigned seed = data[2];
    data += 3;
    size -= 3;

    s_run_t model, whole, chunks, bytes;
    s_model(data, size, cap, &model);
    s_feed(data, size, cap, 0, false, &whole);
    s_feed(data, size, cap, seed | 1u, false, &chunks);
    bool bytewise = size <= S_BYTEWISE_MAX;
    if (bytewise) {
        s_feed(data, size, cap, 0, true, &bytes);
    }
    const s_run_t *runs[] = {&whole, &chunks, bytewise ? &bytes : &chunks};
    for (int i = 0; i < 3; i++) {
        const s_run_t *r = runs[i];
        FUZZ_CHECK(r->rc == model.rc, "run %d: code %d, reference %d", i, r->rc, model.rc);
        FUZZ_CHECK(s_same(&r->got, &model.got), "run %d: %zu frames, reference %zu", i, r->got.n,
                   model.got.n);
        FUZZ_CHECK(r->empty == model.empty, "run %d: %llu empty frames, reference %llu", i,
                   (unsigned long long)r->empty, (unsigned long long)model.empty);
        FUZZ_CHECK(r->offset == model.offset, "run %d: offset %llu, reference %llu", i,
                   (unsigned long long)r->offset, (unsigned long long)model.offset);
        FUZZ_CHECK(r->partial == model.partial, "run %d: partial %d, reference %d", i, r->partial,
                   model.partial);
        FUZZ_CHECK(strcmp(r->error, whole.error) == 0, "run %d: reason '%s', whole '%s'", i,
                   r->error, whole.error);
    }
    s_free(&model.got);
    s_free(&whole.got);
    s_free(&chunks.got);
    if (bytewise) {
        s_free(&bytes.got);
    }
    return 0;
}
