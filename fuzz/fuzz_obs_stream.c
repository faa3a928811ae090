/*  fuzz_obs_stream.c - a whole observation stream (common/obs_stream.c, and for MessagePack
    the framer of common/wire.c) in the detected format, as `cadre check`, `cadre run` and
    `cadre cluster` read files. Each record is a good one, a malformed one reported alone, or
    a truncation that ends the stream; reading always ends. The good records, written back
    by obs_writer in the same format, read back as the same records in the same order. The
    same bytes are also read as an assignment stream. */
#include "fuzz_obs.h"

#include "assign.h"
#include "obs_stream.h"

/*  Most records a stream of size bytes can hold (each takes at least one byte), plus the
    end; a reader that returns more is not making progress. */
#define S_MAX_CALLS(size) ((size) + 2)

/*  Reads every record of the stream in file with format; returns the good ones (*n of
    them, the caller destroys them and frees the array) and the format detected. */
static obs_t **
s_read_all(FILE *file, obs_format_t format, size_t size, size_t *n, obs_format_t *detected)
{
    obs_reader_t *r = obs_reader_new(file, format, "fuzz");
    FUZZ_CHECK(r != NULL, "obs_reader_new");
    obs_t **good = NULL;
    *n = 0;
    uint64_t last = 0;
    for (size_t calls = 0;; calls++) {
        FUZZ_CHECK(calls <= S_MAX_CALLS(size), "obs_reader_next never reaches the end");
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = obs_reader_next(r, &obs, &err);
        FUZZ_CHECK(rc == 1 || rc == 0 || fuzz_record_rc_ok(rc), "obs_reader_next returned %d", rc);
        FUZZ_CHECK(obs_reader_records(r) >= last, "record numbers went back");
        last = obs_reader_records(r);
        if (rc == 0) {
            break;
        }
        if (rc == 1) {
            good = realloc(good, (*n + 1) * sizeof *good);
            FUZZ_CHECK(good != NULL, "out of memory");
            good[(*n)++] = obs;
        }
    }
    /* The end is sticky. */
    obs_t *obs = NULL;
    obs_error_t err;
    FUZZ_CHECK(obs_reader_next(r, &obs, &err) == 0, "a record after the end");
    *detected = obs_reader_format(r);
    obs_reader_destroy(&r);
    return good;
}

static void
s_free_all(obs_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        obs_destroy(&v[i]);
    }
    free(v);
}

static void
s_assignments(const uint8_t *data, size_t size)
{
    FILE *file = fmemopen((void *)data, size, "r");
    if (!file) {
        return;
    }
    assign_reader_t *r = assign_reader_new(file, OBS_FORMAT_AUTO, "fuzz");
    FUZZ_CHECK(r != NULL, "assign_reader_new");
    for (size_t calls = 0;; calls++) {
        FUZZ_CHECK(calls <= S_MAX_CALLS(size), "assign_reader_next never reaches the end");
        assign_t rec = {0};
        obs_error_t err;
        int rc = assign_reader_next(r, &rec, &err);
        FUZZ_CHECK(rc == 1 || rc == 0 || fuzz_record_rc_ok(rc), "assign_reader_next returned %d",
                   rc);
        if (rc == 1) {
            fuzz_assign_round_trip(&rec);
        }
        assign_clear(&rec);
        if (rc == 0) {
            break;
        }
    }
    assign_reader_destroy(&r);
    fclose(file);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fmemopen() of a zero-sized buffer is refused by some C libraries. */
    FILE *file = size ? fmemopen((void *)data, size, "r") : NULL;
    if (!file) {
        return 0;
    }
    size_t n = 0;
    obs_format_t format = OBS_FORMAT_AUTO;
    obs_t **good = s_read_all(file, OBS_FORMAT_AUTO, size, &n, &format);
    fclose(file);
    FUZZ_CHECK(format == OBS_FORMAT_JSONL || format == OBS_FORMAT_MSGPACK, "format %d",
               (int)format);

    /* Write the good records back and read them again. */
    char *out = NULL;
    size_t out_len = 0;
    FILE *mem = open_memstream(&out, &out_len);
    FUZZ_CHECK(mem != NULL, "open_memstream");
    obs_writer_t *w = obs_writer_new(mem, format);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(obs_writer_put(w, good[i]) == 0, "obs_writer_put refused a record it read");
    }
    obs_writer_destroy(&w);
    fclose(mem);
    size_t n2 = 0;
    obs_format_t format2 = format;
    obs_t **again = NULL;
    if (out_len > 0) {
        mem = fmemopen(out, out_len, "r");
        FUZZ_CHECK(mem != NULL, "fmemopen");
        again = s_read_all(mem, format, out_len, &n2, &format2);
        fclose(mem);
    }
    FUZZ_CHECK(n2 == n, "%zu records written, %zu read back", n, n2);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(obs_equal(good[i], again[i]), "record %zu changed through the stream", i);
    }
    s_free_all(again, n2);
    s_free_all(good, n);
    free(out);

    s_assignments(data, size);
    return 0;
}
