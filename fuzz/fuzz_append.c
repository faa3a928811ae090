/*  fuzz_append.c - appends merged into one stored observation (obs_append_merge in
    common/obs_append.c), as the broker merges each append it receives into its id's current
    record. The input is an observation stream (either format); every good record that is
    not a delete is a delta, all taken as appends to one id. Properties (docs/schema.md,
    "Appends"): each merged record is valid and survives both round trips; merging the deltas
    in reverse order gives the same record (order-free); merging them all again changes
    nothing (idempotent). */
#include "fuzz_obs.h"

#include "obs_append.h"
#include "obs_stream.h"
#include "xalloc.h"

#define S_MAX_DELTAS 16 /* deltas merged per input */

/*  Merges deltas[0..n) into a new record, forwards or backwards; returns it, or NULL when
    a merge was refused (a limit). */
static obs_t *
s_merge_all(obs_t *const *deltas, size_t n, bool backwards, obs_t *start)
{
    obs_t *stored = start;
    for (size_t k = 0; k < n; k++) {
        const obs_t *d = deltas[backwards ? n - 1 - k : k];
        obs_error_t err;
        obs_error_reset(&err, 0, NULL);
        int rc = obs_append_merge(&stored, d, &err);
        FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD, "obs_append_merge returned %d", rc);
        if (rc != 0) {
            FUZZ_CHECK(err.message[0] != '\0', "a refused merge without a reason");
            obs_destroy(&stored);
            return NULL;
        }
        FUZZ_CHECK(stored && stored->op == OBS_UPSERT, "a merge did not give an upsert");
    }
    return stored;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *file = size ? fmemopen((void *)data, size, "r") : NULL;
    if (!file) {
        return 0;
    }
    obs_reader_t *r = obs_reader_new(file, OBS_FORMAT_AUTO, "fuzz");
    obs_t *deltas[S_MAX_DELTAS];
    size_t n = 0;
    for (size_t calls = 0; n < S_MAX_DELTAS && calls <= size + 2; calls++) {
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = obs_reader_next(r, &obs, &err);
        if (rc == 0) {
            break;
        }
        if (rc == 1 && obs->op == OBS_DELETE) {
            obs_destroy(&obs);
        } else if (rc == 1) {
            free(obs->id);
            obs->id = xstrdup("fuzz-id");
            deltas[n++] = obs;
        }
    }
    obs_reader_destroy(&r);
    fclose(file);

    obs_t *forwards = s_merge_all(deltas, n, false, NULL);
    obs_t *backwards = s_merge_all(deltas, n, true, NULL);
    FUZZ_CHECK((forwards == NULL) == (backwards == NULL),
               "a limit refused the deltas in one order only");
    if (forwards && backwards) {
        fuzz_obs_round_trip(forwards);
        FUZZ_CHECK(obs_equal(forwards, backwards), "merging %zu deltas depends on their order", n);
        obs_t *again = s_merge_all(deltas, n, false, obs_dup(forwards));
        FUZZ_CHECK(again && obs_equal(forwards, again), "merging the deltas again changed it");
        obs_destroy(&again);
    }
    obs_destroy(&forwards);
    obs_destroy(&backwards);
    for (size_t i = 0; i < n; i++) {
        obs_destroy(&deltas[i]);
    }
    return 0;
}
