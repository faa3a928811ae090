/*  test_cfg.c - the engine configuration: defaults, a full file, every refusal with
    file:line:col, delegation of `clustering:` to ccfg (including the lossless-blocking
    refusal), --check-config output that reads back to the same configuration, and files. */
#include "ccfg.h"
#include "cfg.h"
#include "err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int
s_parse(cfg_t *cfg, const char *text, char *err, size_t errlen)
{
    return cfg_parse_buffer(cfg, text, strlen(text), "t.yaml", err, errlen);
}

static void
s_assert_defaults(const cfg_t *cfg)
{
    assert_string_equal(cfg->data_dir, "./cadre-data");
    assert_false(cfg->data_dir_set);
    assert_string_equal(cfg->deployment, "default");
    assert_int_equal(cfg->shards, 4);
    assert_int_equal(cfg->heartbeat_ms, 1000);
    assert_int_equal(cfg->liveness, 3);
    assert_int_equal(cfg->shutdown_timeout_ms, 5000);
    assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
    assert_string_equal(cfg->broker.ingest, "inproc://cadre-ingest");
    assert_string_equal(cfg->broker.backend, "inproc://cadre-backend");
    assert_int_equal(cfg->broker.batch, 1000);
    assert_int_equal(cfg->broker.max_lag, 100000);
    assert_int_equal(cfg->broker.map_size_mb, 65536);
    assert_int_equal(cfg->shard.map_size_mb, 16384);
    assert_string_equal(cfg->merger.shards, "inproc://cadre-merger-shards");
    assert_string_equal(cfg->merger.events, "inproc://cadre-events");
    assert_string_equal(cfg->merger.query, "inproc://cadre-query");
    assert_int_equal(cfg->merger.map_size_mb, 65536);
    assert_false(cfg->curve.enabled);
    assert_null(cfg->curve.secret_key_file);
    assert_null(cfg->curve.public_key_file);
    assert_null(cfg->curve.server_public_key_file);
    ccfg_t want;
    ccfg_defaults(&want);
    assert_memory_equal(&cfg->clustering, &want, sizeof want);
}

static void
test_defaults(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    s_assert_defaults(&cfg);
    cfg_clear(&cfg);
    assert_null(cfg.data_dir);
    cfg_clear(&cfg);
    /* Documents without content give the defaults. */
    static const char *const empty[] = {"", "# nothing\n\n", "---\n", "~\n", "{}\n"};
    char err[512];
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        assert_int_equal(s_parse(&cfg, empty[i], err, sizeof err), 0);
        s_assert_defaults(&cfg);
        cfg_clear(&cfg);
    }
    assert_string_equal(cfg_log_level_name(LOG_LEVEL_WARN), "warn");
    assert_null(cfg_log_level_name((log_level_t)9));
}

/*  Every key set to something other than its default. */
static const char s_full[] = "data_dir: /var/lib/cadre\n"
                             "deployment: honeynet-eu.1\n"
                             "shards: 3\n"
                             "heartbeat_ms: 500\n"
                             "liveness: 5\n"
                             "shutdown_timeout_ms: 0\n"
                             "log_level: debug\n"
                             "broker:\n"
                             "  ingest: ipc:///run/cadre/ingest\n"
                             "  backend: ipc:///run/cadre/backend\n"
                             "  batch: 100000\n"
                             "  max_lag: 5000\n"
                             "  map_size_mb: 1048576\n"
                             "shard:\n"
                             "  map_size_mb: 1\n"
                             "merger:\n"
                             "  shards: tcp://10.0.0.5:7101\n"
                             "  events: 'tcp://*:7102'\n"
                             "  query: \"tcp://[::1]:7103\"\n"
                             "  map_size_mb: 2048\n"
                             "curve:\n"
                             "  enabled: true\n"
                             "  secret_key_file: /etc/cadre/host.key_secret\n"
                             "  public_key_file: /etc/cadre/host.key\n"
                             "  server_public_key_file: /etc/cadre/broker.key\n"
                             "clustering:\n"
                             "  identity:\n"
                             "    weights: {medium: 0.5, asn: 0.1}\n"
                             "  campaign:\n"
                             "    handoff_window: 3600\n"
                             "  generic_cutoff: {hassh: 50}\n"
                             "  reconcile_every: 1000\n";

static void
s_assert_full(const cfg_t *cfg)
{
    assert_string_equal(cfg->data_dir, "/var/lib/cadre");
    assert_true(cfg->data_dir_set);
    assert_string_equal(cfg->deployment, "honeynet-eu.1");
    assert_int_equal(cfg->shards, 3);
    assert_int_equal(cfg->heartbeat_ms, 500);
    assert_int_equal(cfg->liveness, 5);
    assert_int_equal(cfg->shutdown_timeout_ms, 0);
    assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(cfg->broker.ingest, "ipc:///run/cadre/ingest");
    assert_string_equal(cfg->broker.backend, "ipc:///run/cadre/backend");
    assert_int_equal(cfg->broker.batch, 100000);
    assert_int_equal(cfg->broker.max_lag, 5000);
    assert_int_equal(cfg->broker.map_size_mb, CFG_MAX_MAP_SIZE_MB);
    assert_int_equal(cfg->shard.map_size_mb, 1);
    assert_string_equal(cfg->merger.shards, "tcp://10.0.0.5:7101");
    assert_string_equal(cfg->merger.events, "tcp://*:7102");
    assert_string_equal(cfg->merger.query, "tcp://[::1]:7103");
    assert_int_equal(cfg->merger.map_size_mb, 2048);
    assert_true(cfg->curve.enabled);
    assert_string_equal(cfg->curve.secret_key_file, "/etc/cadre/host.key_secret");
    assert_string_equal(cfg->curve.public_key_file, "/etc/cadre/host.key");
    assert_string_equal(cfg->curve.server_public_key_file, "/etc/cadre/broker.key");
    assert_true(cfg->clustering.w_medium == 0.5);
    assert_true(cfg->clustering.w_asn == 0.1);
    assert_true(cfg->clustering.w_high == 1.0);
    assert_true(cfg->clustering.handoff_window == 3600.0);
    assert_int_equal(cfg->clustering.generic_cutoff[KEY_HASSH], 50);
    assert_int_equal(cfg->clustering.generic_cutoff[KEY_JA3], 16); /* the default */
    assert_int_equal(cfg->clustering.reconcile_every, 1000);
}

static void
test_full_file(void **state)
{
    (void)state;
    cfg_t cfg;
    char err[512];
    int rc = s_parse(&cfg, s_full, err, sizeof err);
    if (rc != 0) {
        fail_msg("%s", err);
    }
    s_assert_full(&cfg);
    cfg_clear(&cfg);
    /* An optional key file can be unset again with null. */
    assert_int_equal(s_parse(&cfg, "curve: {server_public_key_file: ~}\n", err, sizeof err), 0);
    assert_null(cfg.curve.server_public_key_file);
    cfg_clear(&cfg);
}

/*  Parses text, expecting a refusal whose message contains want, with *cfg untouched. */
static void
s_refused(const char *text, const char *want)
{
    cfg_t cfg;
    memset(&cfg, 0x5A, sizeof cfg);
    cfg_t copy = cfg;
    char err[512] = "";
    int rc = s_parse(&cfg, text, err, sizeof err);
    if (rc != CADRE_ECONFIG) {
        if (rc == 0) {
            cfg_clear(&cfg);
        }
        fail_msg("accepted (%d): %s", rc, text);
    }
    if (!strstr(err, want)) {
        fail_msg("message '%s' lacks '%s'", err, want);
    }
    assert_memory_equal(&cfg, &copy, sizeof cfg);
}

static void
test_unknown_keys(void **state)
{
    (void)state;
    s_refused("shard_count: 3\n", "t.yaml:1:1: shard_count: unknown configuration key");
    s_refused("shards: 2\nbroker:\n  ingest: ipc:///tmp/i\n  batchsize: 5\n",
              "t.yaml:4:3: broker.batchsize: unknown configuration key");
    s_refused("merger: {query: inproc://q, mapsize: 1}\n",
              "t.yaml:1:29: merger.mapsize: unknown configuration key");
    s_refused("broker:\n  ingest:\n    path: x\n",
              "t.yaml:3:5: broker.ingest: expected a non-empty string, not a mapping");
    s_refused("curve: {enabled: false, key: x}\n", "t.yaml:1:25: curve.key: unknown");
    s_refused("clustering:\n  identity:\n    wieghts: {high: 1}\n",
              "t.yaml:3:15: clustering.identity.wieghts.high: unknown configuration key");
    s_refused("clustering: {shards: 3}\n", "t.yaml:1:14: clustering.shards: unknown");
    s_refused("identity: {threshold: 1}\n", "t.yaml:1:1: identity: unknown configuration key");
}

static void
test_out_of_range(void **state)
{
    (void)state;
    s_refused("shards: 0\n",
              "t.yaml:1:9: shards: expected an integer from 1 to 256, not an integer (0)");
    s_refused("shards: 257\n", "shards: expected an integer from 1 to 256");
    s_refused("heartbeat_ms: 99\n", "t.yaml:1:15: heartbeat_ms: expected an integer from 100 to");
    s_refused("heartbeat_ms: 60001\n", "heartbeat_ms: expected an integer from 100 to 60000");
    s_refused("liveness: 101\n", "liveness: expected an integer from 1 to 100");
    s_refused("shutdown_timeout_ms: -1\n", "shutdown_timeout_ms: expected an integer from 0");
    s_refused("broker: {batch: 100001}\n", "t.yaml:1:17: broker.batch: expected an integer");
    s_refused("broker: {max_lag: 0}\n", "broker.max_lag: expected an integer from 1");
    s_refused("broker: {map_size_mb: 1048577}\n",
              "broker.map_size_mb: expected an integer from 1 to 1048576");
    s_refused("shard: {map_size_mb: 0}\n", "shard.map_size_mb: expected an integer from 1");
    s_refused("merger: {map_size_mb: 99999999999999999999}\n",
              "merger.map_size_mb: expected an integer");
    s_refused("clustering: {generic_cutoff: {hassh: -1}}\n",
              "t.yaml:1:38: clustering.generic_cutoff.hassh: expected an integer from 0 to");
    s_refused("clustering: {identity: {weights: {high: 1e7}}}\n",
              "clustering.identity.weights.high: expected a finite number from 0 to 1e+06");
    s_refused("clustering: {campaign: {threshold: .nan}}\n", "clustering.campaign.threshold");
}

static void
test_wrong_types(void **state)
{
    (void)state;
    s_refused("shards: four\n", "t.yaml:1:9: shards: expected an integer from 1 to 256, not a "
                                "string ('four')");
    s_refused("shards: 4.0\n", "not a float (4.0)");
    s_refused("shards: '4'\n", "not a string ('4')");
    s_refused("shards: true\n", "not a boolean (true)");
    s_refused("shards:\n", "not null");
    s_refused("shards: [4]\n", "not a sequence");
    s_refused("data_dir: 5\n", "t.yaml:1:11: data_dir: expected a non-empty string, not an "
                               "integer (5)");
    s_refused("data_dir: ''\n", "data_dir: expected a non-empty string");
    s_refused("data_dir: \"a\\0b\"\n", "data_dir: expected a non-empty string");
    s_refused("deployment: a b\n", "deployment: expected 1 to 64 letters, digits");
    s_refused("deployment: ../x\n", "deployment: expected 1 to 64 letters");
    s_refused("log_level: verbose\n",
              "log_level: expected error, warn, info or debug, not a string ('verbose')");
    s_refused("log_level: 3\n", "log_level: expected error, warn, info or debug");
    s_refused("curve: {enabled: 1}\n", "curve.enabled: expected true or false, not an integer");
    s_refused("curve: {enabled: 'true'}\n", "curve.enabled: expected true or false");
    s_refused("curve: {secret_key_file: 7}\n",
              "curve.secret_key_file: expected a non-empty string or null");
    s_refused("broker: 5\n", "t.yaml:1:9: broker: expected a mapping, not an integer (5)");
    s_refused("clustering: [1]\n", "t.yaml:1:13: clustering: expected a mapping, not a sequence");
    s_refused("clustering: {campaign: {threshold: abc}}\n",
              "clustering.campaign.threshold: expected a finite number from 1e-09 to 1e+06, "
              "not a string ('abc')");
    s_refused("- 1\n- 2\n", "t.yaml:1:1: the configuration must be a mapping, not a sequence");
    s_refused("shards: 3\nshards: 4\n", "t.yaml:2:");
    s_refused("shards: [\n", "t.yaml:");
}

static void
test_endpoints(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "broker: {ingest: http://x:1}\n",    "broker: {ingest: inproc://}\n",
        "broker: {backend: 'tcp://host'}\n", "broker: {backend: 'tcp://:5'}\n",
        "merger: {events: 'tcp://h:'}\n",    "merger: {query: ipc://}\n",
        "merger: {shards: /tmp/sock}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_refused(bad[i], "expected an endpoint inproc://name, ipc://path or tcp://host:port");
    }
    char text[256];
    snprintf(text, sizeof text, "broker: {ingest: ipc:///%0108d}\n", 0);
    s_refused(text, "t.yaml:1:18: broker.ingest: an ipc:// path longer than 107 bytes");
    /* 107 bytes still fit. */
    snprintf(text, sizeof text, "broker: {ingest: ipc:///%0106d}\n", 0);
    cfg_t cfg;
    char err[512];
    assert_int_equal(s_parse(&cfg, text, err, sizeof err), 0);
    cfg_clear(&cfg);
    /* Every socket has its own endpoint; the message points at the key the file set. */
    s_refused("merger:\n  query: inproc://cadre-ingest\n",
              "t.yaml:2:10: merger.query: the same endpoint as broker.ingest "
              "('inproc://cadre-ingest')");
    s_refused("broker:\n  ingest: ipc:///r/a\n  backend: ipc:///r/a\n",
              "t.yaml:3:12: broker.backend: the same endpoint as broker.ingest");
}

static void
test_curve_needs_keys(void **state)
{
    (void)state;
    s_refused("curve:\n  enabled: true\n",
              "t.yaml:2:12: curve.enabled: CURVE needs curve.secret_key_file and "
              "curve.public_key_file");
    s_refused("curve: {enabled: true, secret_key_file: /k}\n", "curve.enabled: CURVE needs");
    cfg_t cfg;
    char err[512];
    /* Key files without CURVE are kept (harmless), and CURVE with both keys is accepted. */
    assert_int_equal(s_parse(&cfg, "curve: {public_key_file: /k}\n", err, sizeof err), 0);
    assert_false(cfg.curve.enabled);
    assert_string_equal(cfg.curve.public_key_file, "/k");
    cfg_clear(&cfg);
    assert_int_equal(s_parse(&cfg,
                             "curve: {enabled: on, secret_key_file: /s, public_key_file: /p}\n",
                             err, sizeof err),
                     0);
    assert_true(cfg.curve.enabled);
    cfg_clear(&cfg);
}

/*  The role checks: servers need the authorized keys directory, connecting roles the
    server's public key; the client certificate defaults to the secret key file. */
static void
test_curve_role_checks(void **state)
{
    (void)state;
    cfg_t cfg;
    char err[512];
    assert_int_equal(s_parse(&cfg,
                             "curve: {enabled: true, secret_key_file: /s, public_key_file: /p}\n",
                             err, sizeof err),
                     0);
    assert_int_equal(cfg_check_curve(&cfg, true, false, "t.yaml", err, sizeof err), CADRE_ECONFIG);
    assert_non_null(strstr(err, "t.yaml: curve.authorized_keys_dir: CURVE needs"));
    assert_int_equal(cfg_check_curve(&cfg, false, true, "t.yaml", err, sizeof err), CADRE_ECONFIG);
    assert_non_null(strstr(err, "t.yaml: curve.server_public_key_file: CURVE needs"));
    assert_string_equal(cfg_client_cert(&cfg), "/s");
    cfg_clear(&cfg);
    assert_int_equal(s_parse(&cfg,
                             "curve:\n  enabled: true\n  secret_key_file: /s\n"
                             "  public_key_file: /p\n  server_public_key_file: /p\n"
                             "  client_secret_key_file: /c\n  authorized_keys_dir: /a\n",
                             err, sizeof err),
                     0);
    /* Serving needs the peers' directory too: peers and clients are authorized apart. */
    assert_int_equal(cfg_check_curve(&cfg, true, true, "t.yaml", err, sizeof err), CADRE_ECONFIG);
    assert_non_null(strstr(err, "t.yaml: curve.peer_keys_dir: CURVE needs"));
    assert_int_equal(cfg_check_curve(&cfg, false, true, "t.yaml", err, sizeof err), 0);
    cfg_clear(&cfg);
    assert_int_equal(s_parse(&cfg,
                             "curve:\n  enabled: true\n  secret_key_file: /s\n"
                             "  public_key_file: /p\n  server_public_key_file: /p\n"
                             "  client_secret_key_file: /c\n  authorized_keys_dir: /a\n"
                             "  peer_keys_dir: /peers\n",
                             err, sizeof err),
                     0);
    assert_int_equal(cfg_check_curve(&cfg, true, true, "t.yaml", err, sizeof err), 0);
    assert_string_equal(cfg_client_cert(&cfg), "/c");
    assert_string_equal(cfg.curve.authorized_keys_dir, "/a");
    cfg_clear(&cfg);
    /* Without CURVE nothing is needed. */
    cfg_defaults(&cfg);
    assert_int_equal(cfg_check_curve(&cfg, true, true, "t.yaml", err, sizeof err), 0);
    cfg_clear(&cfg);
}

static void
test_clustering_delegation(void **state)
{
    (void)state;
    cfg_t cfg;
    char err[512];
    assert_int_equal(s_parse(&cfg,
                             "shards: 2\n"
                             "clustering:\n"
                             "  identity:\n"
                             "    weights: {medium: 0.5}\n"
                             "    threshold: 1\n"
                             "  campaign: {weights: {keystroke: 0.9}}\n"
                             "  generic_cutoff: {hassh: 50, c2: 1000}\n"
                             "  reconcile_every: 100\n",
                             err, sizeof err),
                     0);
    assert_int_equal(cfg.shards, 2);
    assert_true(cfg.clustering.w_medium == 0.5);
    assert_true(cfg.clustering.w_low == 0.2);
    assert_true(cfg.clustering.id_threshold == 1.0);
    assert_true(cfg.clustering.w_keystroke == 0.9);
    assert_int_equal(cfg.clustering.generic_cutoff[KEY_HASSH], 50);
    assert_int_equal(cfg.clustering.generic_cutoff[KEY_C2], 1000);
    assert_int_equal(cfg.clustering.reconcile_every, 100);
    assert_int_equal(ccfg_kd_max_distance(&cfg.clustering), 3);
    cfg_clear(&cfg);
    /* An empty section keeps the defaults. */
    assert_int_equal(s_parse(&cfg, "clustering:\nbroker:\n", err, sizeof err), 0);
    s_assert_defaults(&cfg);
    cfg_clear(&cfg);
    /* The lossless-blocking proof runs on the result, pointing at the section. */
    s_refused("shards: 1\nclustering:\n  identity: {weights: {medium: 0.9}}\n",
              "t.yaml:2:1: clustering: identity blocking would be lossy: medium + low + asn");
    s_refused("clustering: {campaign: {weights: {temporal: 0.95}}}\n",
              "clustering: campaign blocking would be lossy: temporal + cohort");
    s_refused("clustering: {identity: {weights: {high: 0.5}}}\n", "high = 0.5 is below");
    /* ccfg_set() on its own: a leaf by path, with errors left for the caller to place. */
    ccfg_t cc;
    ccfg_defaults(&cc);
    assert_int_equal(ccfg_load_buffer(&cc, "x: 1\n", 5, "c.yaml", err, sizeof err), CADRE_ECONFIG);
    assert_string_equal(err, "c.yaml:1:1: x: unknown configuration key");
}

/*  Prints cfg, parses the output, and checks it gives back the same configuration. */
static void
s_round_trip(const cfg_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_print(cfg, out);
    assert_int_equal(fclose(out), 0);
    cfg_t back;
    char err[512];
    int rc = cfg_parse_buffer(&back, text, len, "printed", err, sizeof err);
    if (rc != 0) {
        fail_msg("%s\n%s", err, text);
    }
    free(text);
    assert_string_equal(back.data_dir, cfg->data_dir);
    assert_string_equal(back.deployment, cfg->deployment);
    assert_int_equal(back.shards, cfg->shards);
    assert_int_equal(back.heartbeat_ms, cfg->heartbeat_ms);
    assert_int_equal(back.liveness, cfg->liveness);
    assert_int_equal(back.shutdown_timeout_ms, cfg->shutdown_timeout_ms);
    assert_int_equal(back.log_level, cfg->log_level);
    assert_string_equal(back.broker.ingest, cfg->broker.ingest);
    assert_string_equal(back.broker.backend, cfg->broker.backend);
    assert_int_equal(back.broker.batch, cfg->broker.batch);
    assert_int_equal(back.broker.max_lag, cfg->broker.max_lag);
    assert_int_equal(back.broker.map_size_mb, cfg->broker.map_size_mb);
    assert_int_equal(back.shard.map_size_mb, cfg->shard.map_size_mb);
    assert_string_equal(back.merger.shards, cfg->merger.shards);
    assert_string_equal(back.merger.events, cfg->merger.events);
    assert_string_equal(back.merger.query, cfg->merger.query);
    assert_int_equal(back.merger.map_size_mb, cfg->merger.map_size_mb);
    assert_int_equal(back.curve.enabled, cfg->curve.enabled);
    const char *const keys[][2] = {
        {back.curve.secret_key_file, cfg->curve.secret_key_file},
        {back.curve.public_key_file, cfg->curve.public_key_file},
        {back.curve.server_public_key_file, cfg->curve.server_public_key_file},
        {back.curve.client_secret_key_file, cfg->curve.client_secret_key_file},
        {back.curve.authorized_keys_dir, cfg->curve.authorized_keys_dir},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i][1]) {
            assert_non_null(keys[i][0]);
            assert_string_equal(keys[i][0], keys[i][1]);
        } else {
            assert_null(keys[i][0]);
        }
    }
    assert_memory_equal(&back.clustering, &cfg->clustering, sizeof back.clustering);
    cfg_clear(&back);
}

static void
test_print_reads_back(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    s_round_trip(&cfg);
    cfg_clear(&cfg);
    char err[512];
    assert_int_equal(s_parse(&cfg, s_full, err, sizeof err), 0);
    s_round_trip(&cfg);
    cfg_clear(&cfg);
    /* Strings that need quoting, and doubles without a short decimal form. */
    assert_int_equal(s_parse(&cfg,
                             "data_dir: \"/tmp/a \\\"b\\\" \\\\c #d: e\\te\"\n"
                             "deployment: '123'\n"
                             "clustering:\n"
                             "  identity: {weights: {high: 1000000.0, low: 0.1234567890123,"
                             " asn: 1.0e-3}, threshold: 999999.5}\n"
                             "  campaign: {handoff_window: 0.1, threshold: 1.0e-9,"
                             " weights: {temporal: 0, cohort: 0}}\n",
                             err, sizeof err),
                     0);
    assert_string_equal(cfg.data_dir, "/tmp/a \"b\" \\c #d: e\te");
    assert_string_equal(cfg.deployment, "123");
    s_round_trip(&cfg);
    cfg_clear(&cfg);
}

/*  docs/config.md's example: one host, 3 shard processes over ipc://. */
static const char s_doc_example[] = "data_dir: /var/lib/cadre\n"
                                    "deployment: lab\n"
                                    "shards: 3\n"
                                    "heartbeat_ms: 1000\n"
                                    "liveness: 3\n"
                                    "shutdown_timeout_ms: 5000\n"
                                    "log_level: info\n"
                                    "broker:\n"
                                    "  ingest: ipc:///run/cadre/ingest.sock\n"
                                    "  backend: ipc:///run/cadre/backend.sock\n"
                                    "  batch: 1000\n"
                                    "  max_lag: 100000\n"
                                    "  map_size_mb: 8192\n"
                                    "shard:\n"
                                    "  map_size_mb: 2048\n"
                                    "merger:\n"
                                    "  shards: ipc:///run/cadre/merger-shards.sock\n"
                                    "  events: ipc:///run/cadre/events.sock\n"
                                    "  query: ipc:///run/cadre/query.sock\n"
                                    "  map_size_mb: 8192\n"
                                    "curve:\n"
                                    "  enabled: false\n"
                                    "clustering:\n"
                                    "  generic_cutoff: {hassh: 0, payload: 0}\n"
                                    "  reconcile_every: 10000\n";

static void
test_files(void **state)
{
    (void)state;
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/test_cfg.XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(s_doc_example, f);
    assert_int_equal(fclose(f), 0);
    cfg_t cfg;
    char err[512];
    int rc = cfg_load_file(&cfg, path, err, sizeof err);
    if (rc != 0) {
        fail_msg("%s", err);
    }
    assert_int_equal(cfg.shards, 3);
    assert_string_equal(cfg.broker.backend, "ipc:///run/cadre/backend.sock");
    assert_int_equal(cfg.clustering.reconcile_every, 10000);
    cfg_clear(&cfg);
    /* A refusal names the file. */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("shards: 3\nliveness: 0\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(cfg_load_file(&cfg, path, err, sizeof err), CADRE_ECONFIG);
    char want[600];
    snprintf(want, sizeof want, "%s:2:11: liveness: expected an integer from 1 to 100", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    assert_int_equal(cfg_load_file(&cfg, path, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, path));
    /* A file past CFG_MAX_FILE_BYTES is refused before it is parsed, naming the file, and
       so is an endless one. */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("shards: 3\n", f);
    for (size_t i = 0; i < CFG_MAX_FILE_BYTES / 64 + 1; i++) {
        fputs("# a comment line of sixty-four bytes, padding out the file ....\n", f);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(cfg_load_file(&cfg, path, err, sizeof err), CADRE_ELIMIT);
    assert_non_null(strstr(err, path));
    ccfg_t cc;
    assert_int_equal(ccfg_load_file(&cc, path, err, sizeof err), CADRE_ELIMIT);
    assert_int_equal(cfg_load_file(&cfg, "/dev/zero", err, sizeof err), CADRE_ELIMIT);
    assert_non_null(strstr(err, "/dev/zero"));
    assert_int_equal(unlink(path), 0);
    /* The fuzzing entry point takes any bytes, with or without a name. */
    static const char junk[] = "\xff\xfe\x00: [\x01";
    assert_int_equal(cfg_parse_buffer(&cfg, junk, sizeof junk - 1, NULL, err, sizeof err),
                     CADRE_ECONFIG);
    assert_int_equal(cfg_parse_buffer(&cfg, "shards: x", 9, NULL, NULL, 0), CADRE_ECONFIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_unknown_keys),      cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_wrong_types),       cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_curve_needs_keys),  cmocka_unit_test(test_clustering_delegation),
        cmocka_unit_test(test_print_reads_back),  cmocka_unit_test(test_files),
        cmocka_unit_test(test_curve_role_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
