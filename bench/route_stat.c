/*  route_stat.c - how the broker's routing (broker/broker_route.h, docs/protocol.md §5) spreads
    a corpus over S shards, for `make bench` (bench/run.sh, docs/bench.md "throttled
    scale-out").

    usage: cadre_route_stat CORPUS SHARDS...

    For each shard count S it routes every observation of CORPUS as the broker does for a
    batch of distinct ids (each record gets one KEYS entry on every shard owning one of its
    identity-layer keys; a record without keys goes to no shard) and prints one JSON line:

      {"shards": S, "records": N, "keys": K, "entries": E, "max_entries": M, "max_keys": X}

    K is the number of (record, key) pairs, E the number of KEYS entries over all shards, M
    and X the entries and keys of the busiest shard. A shard's work is per entry (decode,
    store the id's keys and triple, index each key) and per key, so when every shard runs on
    the same small CPU quota the engine's rate is bounded by the busiest shard:
    M(1) / M(S) is the best speed-up S throttled shards can give over one.

    Exit status: 0, 2 on a usage error, 65 when the corpus holds a malformed record, 1 on an
    I/O error.
*/
#include "broker_route.h"
#include "err.h"
#include "obs.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_usage(void)
{
    fprintf(stderr, "usage: cadre_route_stat CORPUS SHARDS...\n");
    return 2;
}

/*  Routes every record of path over shards shards and prints the JSON line; returns 0, 65 on
    a malformed record or 1 on an I/O error. */
static int
s_route(const char *path, uint32_t shards)
{
    obs_reader_t *reader = obs_reader_open(path, OBS_FORMAT_AUTO);
    if (!reader) {
        return 1;
    }
    uint64_t *entries = xcalloc(shards, sizeof *entries);
    uint64_t *keys = xcalloc(shards, sizeof *keys);
    uint64_t records = 0, all_keys = 0, all_entries = 0;
    int status = 0;
    for (;;) {
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = obs_reader_next(reader, &obs, &err);
        if (rc == 0) {
            break;
        }
        if (rc < 0) {
            fprintf(stderr, "cadre_route_stat: %s: %s\n", path, cadre_strerror(rc));
            status = rc == CADRE_ERECORD || rc == CADRE_ETRUNC ? 65 : 1;
            break;
        }
        route_keys_t rk;
        route_keys(obs, shards, &rk);
        route_mask_t mask;
        route_mask_of(&rk, &mask);
        records++;
        all_keys += rk.n;
        for (size_t i = 0; i < rk.n; i++) {
            keys[rk.owner[i]]++;
        }
        for (uint32_t k = 0; k < shards; k++) {
            if (route_mask_has(&mask, k)) {
                entries[k]++;
                all_entries++;
            }
        }
        route_keys_clear(&rk);
        obs_destroy(&obs);
    }
    obs_reader_destroy(&reader);
    uint64_t max_entries = 0, max_keys = 0;
    for (uint32_t k = 0; k < shards; k++) {
        max_entries = entries[k] > max_entries ? entries[k] : max_entries;
        max_keys = keys[k] > max_keys ? keys[k] : max_keys;
    }
    free(entries);
    free(keys);
    if (status == 0) {
        printf("{\"shards\": %" PRIu32 ", \"records\": %" PRIu64 ", \"keys\": %" PRIu64
               ", \"entries\": %" PRIu64 ", \"max_entries\": %" PRIu64 ", \"max_keys\": %" PRIu64
               "}\n",
               shards, records, all_keys, all_entries, max_entries, max_keys);
    }
    return status;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        return s_usage();
    }
    for (int i = 2; i < argc; i++) {
        char *end = NULL;
        long s = strtol(argv[i], &end, 10);
        if (!end || *end || s < 1 || s > ROUTE_MAX_SHARDS) {
            fprintf(stderr, "cadre_route_stat: bad shard count '%s' (1 to %d)\n", argv[i],
                    ROUTE_MAX_SHARDS);
            return 2;
        }
        int rc = s_route(argv[1], (uint32_t)s);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}
