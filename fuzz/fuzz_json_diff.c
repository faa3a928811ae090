/*  fuzz_json_diff.c - the two decoders of JSON observations against each other: the simdjson
    fast path (common/jsonio_simd.cpp) behind jsonio_obs_decode() and
    jsonio_obs_decode_padded(), and the jansson decoder it stands in for
    (jsonio_obs_decode_jansson). The input as one text, and each of its lines (with a final
    "\r" removed, as the reader removes it), must decode through every path - unpadded, padded
    with bytes that are not JSON whitespace, and the simdjson walk alone when it takes the
    text - to the same return code, an obs_equal() record and the same obs_error_t (record,
    id, field, message) as through jansson. The input is also read as a JSON Lines file
    through obs_reader_open(), whose lines are decoded where they lie in the reader's buffer,
    and must give, record by record, what jansson gives line by line. Any difference aborts. */
#include "fuzz.h"

#include "err.h"
#include "jsonio.h"
#include "jsonio_simd.h"
#include "obs.h"
#include "obs_stream.h"

#include <unistd.h>

/*  What one decoder made of a text. */
typedef struct {
    int rc;          /* return code (0 for a record, whatever the API's success value) */
    obs_t *obs;      /* the record when rc is 0, owned */
    obs_error_t err; /* err as the decoder left it */
} s_result_t;

/*  Aborts unless b is the same result as the jansson reference a. */
static void
s_same(const s_result_t *a, const s_result_t *b, const char *what, const char *text, size_t len)
{
    FUZZ_CHECK(a->rc == b->rc && (a->rc != 0 || obs_equal(a->obs, b->obs)) &&
                   a->err.record == b->err.record && strcmp(a->err.id, b->err.id) == 0 &&
                   strcmp(a->err.field, b->err.field) == 0 &&
                   strcmp(a->err.message, b->err.message) == 0,
               "%s differs from jansson on %.*s\n  jansson: rc %d, record %llu, id '%s', "
               "field '%s': %s\n  %s: rc %d, record %llu, id '%s', field '%s': %s",
               what, (int)(len > 200 ? 200 : len), text, a->rc, (unsigned long long)a->err.record,
               a->err.id, a->err.field, a->err.message, what, b->rc,
               (unsigned long long)b->err.record, b->err.id, b->err.field, b->err.message);
}

/*  Decodes one text through every path and compares each with jansson. */
static void
s_text(const char *text, size_t len, uint64_t record, uint8_t fill)
{
    s_result_t ref = {0};
    ref.rc = jsonio_obs_decode_jansson(text, len, record, &ref.obs, &ref.err);
    FUZZ_CHECK(ref.rc == 0 || ref.rc == CADRE_ERECORD || ref.rc == CADRE_ETRUNC, "jansson rc %d",
               ref.rc);

    s_result_t got = {0};
    got.rc = jsonio_obs_decode(text, len, record, &got.obs, &got.err);
    s_same(&ref, &got, "jsonio_obs_decode", text, len);
    obs_destroy(&got.obs);

    /*  A padded copy of exactly len bytes plus the padding (ASan sees reads past it), the
        padding filled with a byte chosen by the input (never JSON whitespace) and digits. */
    char *copy = malloc(len + JSONIO_PADDING);
    FUZZ_CHECK(copy != NULL, "out of memory");
    if (len > 0) {
        memcpy(copy, text, len);
    }
    uint8_t b = fill == ' ' || fill == '\t' || fill == '\n' || fill == '\r' ? '"' : fill;
    for (size_t i = 0; i < JSONIO_PADDING; i++) {
        copy[len + i] = (char)(i % 2 ? b : '0' + (char)(i % 10));
    }
    got = (s_result_t){0};
    got.rc = jsonio_obs_decode_padded(copy, len, record, &got.obs, &got.err);
    s_same(&ref, &got, "jsonio_obs_decode_padded", text, len);
    obs_destroy(&got.obs);

    got = (s_result_t){0};
    got.rc = jsonio_simd_obs_decode(copy, len, true, record, &got.obs, &got.err);
    if (got.rc == 0) {
        s_same(&ref, &got, "jsonio_simd_obs_decode", text, len);
    } else {
        FUZZ_CHECK(got.rc == JSONIO_SIMD_DECLINED && got.obs == NULL, "simd rc %d", got.rc);
    }
    obs_destroy(&got.obs);
    free(copy);
    obs_destroy(&ref.obs);
}

static char s_path[64]; /* the temporary file, created on the first input */

static void
s_unlink(void)
{
    unlink(s_path);
}

/*  Writes data to the temporary file; returns false when that is not possible. */
static bool
s_store(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(s_path, sizeof s_path, "%.40s/cadre-fuzz-XXXXXX", dir && dir[0] ? dir : "/tmp");
        int fd = mkstemp(s_path);
        if (fd < 0) {
            s_path[0] = '\0';
            return false;
        }
        close(fd);
        atexit(s_unlink);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f) {
        return false;
    }
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/*  True for a line of spaces, tabs and "\r" only (the reader skips those). */
static bool
s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

/*  Reads data as a JSON Lines file and compares each record with jansson's decoding of its
    line. */
static void
s_stream(const uint8_t *data, size_t size)
{
    if (!s_store(data, size)) {
        return;
    }
    obs_reader_t *r = obs_reader_open(s_path, OBS_FORMAT_JSONL);
    FUZZ_CHECK(r != NULL, "obs_reader_open");
    size_t pos = 0;
    uint64_t record = 0;
    const char *line = NULL;
    size_t len = 0;
    bool ended = false;
    while (!ended && fuzz_next_line(data, size, &pos, &line, &len)) {
        bool terminated = line + len < (const char *)data + size;
        record++;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (s_blank(line, len)) {
            continue;
        }
        s_result_t want = {0};
        want.rc = jsonio_obs_decode_jansson(line, len, record, &want.obs, &want.err);
        if (want.rc == CADRE_ETRUNC && terminated) {
            want.rc = CADRE_ERECORD;
        }
        ended = want.rc == CADRE_ETRUNC;
        s_result_t got = {0};
        got.rc = obs_reader_next(r, &got.obs, &got.err);
        got.rc = got.rc == 1 ? 0 : got.rc;
        s_same(&want, &got, "obs_reader_next", line, len);
        obs_destroy(&got.obs);
        obs_destroy(&want.obs);
    }
    obs_t *obs = NULL;
    obs_error_t err;
    FUZZ_CHECK(obs_reader_next(r, &obs, &err) == 0, "the reader has more records than lines");
    obs_reader_destroy(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t fill = size > 0 ? data[size - 1] : '1';
    s_text((const char *)data, size, 1, fill);
    size_t pos = 0;
    const char *line = NULL;
    size_t len = 0;
    uint64_t record = 0;
    while (fuzz_next_line(data, size, &pos, &line, &len)) {
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (++record > 1 || len < size) {
            s_text(line, len, record, fill);
        }
    }
    s_stream(data, size);
    return 0;
}
