/*  fuzz_cfg_yaml.c - the engine configuration (cfg_parse_buffer in core/cfg.c, with the
    `clustering:` keys of core/ccfg.c and common/ydoc.c), as every role loads its --config.
    Properties: a refusal says why and leaves the cfg untouched; an accepted configuration,
    written by cfg_print() (what --check-config prints), parses back to the same cfg (every
    key; data_dir_set is not a key: a printed configuration always sets data_dir). */
#include "fuzz.h"

#include "cfg.h"
#include "err.h"

static void
s_same(const cfg_t *a, const cfg_t *b)
{
    FUZZ_CHECK(fuzz_streq(a->data_dir, b->data_dir) && fuzz_streq(a->deployment, b->deployment) &&
                   a->shards == b->shards && a->heartbeat_ms == b->heartbeat_ms &&
                   a->liveness == b->liveness && a->shutdown_timeout_ms == b->shutdown_timeout_ms &&
                   a->log_level == b->log_level && a->ipc_group == b->ipc_group,
               "round trip changed a top-level key");
    FUZZ_CHECK(fuzz_streq(a->broker.ingest, b->broker.ingest) &&
                   fuzz_streq(a->broker.backend, b->broker.backend) &&
                   a->broker.batch == b->broker.batch && a->broker.max_lag == b->broker.max_lag &&
                   a->broker.reconcile_ms == b->broker.reconcile_ms &&
                   a->broker.map_size_mb == b->broker.map_size_mb &&
                   a->shard.map_size_mb == b->shard.map_size_mb,
               "round trip changed a broker or shard key");
    FUZZ_CHECK(fuzz_streq(a->merger.shards, b->merger.shards) &&
                   fuzz_streq(a->merger.events, b->merger.events) &&
                   fuzz_streq(a->merger.query, b->merger.query) &&
                   a->merger.map_size_mb == b->merger.map_size_mb,
               "round trip changed a merger key");
    FUZZ_CHECK(a->curve.enabled == b->curve.enabled &&
                   fuzz_streq(a->curve.secret_key_file, b->curve.secret_key_file) &&
                   fuzz_streq(a->curve.public_key_file, b->curve.public_key_file) &&
                   fuzz_streq(a->curve.server_public_key_file, b->curve.server_public_key_file) &&
                   fuzz_streq(a->curve.client_secret_key_file, b->curve.client_secret_key_file) &&
                   fuzz_streq(a->curve.authorized_keys_dir, b->curve.authorized_keys_dir) &&
                   fuzz_streq(a->curve.peer_keys_dir, b->curve.peer_keys_dir),
               "round trip changed a curve key");
    FUZZ_CHECK(memcmp(&a->limits, &b->limits, sizeof a->limits) == 0,
               "round trip changed a limits key");
    FUZZ_CHECK(memcmp(&a->clustering, &b->clustering, sizeof a->clustering) == 0,
               "round trip changed a clustering key");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[512] = "";
    int rc = cfg_parse_buffer(&cfg, (const char *)data, size, "fuzz.yaml", err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == CADRE_ECONFIG, "cfg_parse_buffer returned %d", rc);
    if (rc != 0) {
        static const cfg_t zero;
        FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");
        FUZZ_CHECK(memcmp(&cfg, &zero, sizeof cfg) == 0, "a refusal changed the cfg");
        return 0;
    }
    (void)cfg_check_curve(&cfg, true, true, "fuzz.yaml", err, sizeof err);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(out != NULL, "open_memstream");
    cfg_print(&cfg, out);
    fclose(out);
    cfg_t again;
    memset(&again, 0, sizeof again);
    rc = cfg_parse_buffer(&again, text, len, "printed.yaml", err, sizeof err);
    FUZZ_CHECK(rc == 0, "cfg_print wrote what cfg_parse_buffer refuses: %s\n%s", err, text);
    s_same(&cfg, &again);
    cfg_clear(&again);
    free(text);
    cfg_clear(&cfg);
    return 0;
}
