/*  cfg.h - the engine configuration: one YAML file for every role (docs/config.md).

    The document is parsed once (through ydoc, the libyaml owner) into a plain cfg_t, driven
    by a table of descriptors (name, type, default, min, max) in cfg.c. Keys under
    `clustering:` are handed one by one to ccfg_set(), so the clustering keys keep a single
    table (core/ccfg.c) and the lossless-blocking proof runs on the result. Unknown keys,
    values of the wrong type and values out of range are refused with
    "file:line:col: key: message"; main() prints it and exits 78 (EX_CONFIG) before binding
    anything. Nothing here logs or exits.

    Ownership: a loaded cfg_t owns its strings; cfg_clear() frees them.
*/
#ifndef CADRE_CFG_H
#define CADRE_CFG_H

#include "ccfg.h"
#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_SHARDS 256          /* most shard processes */
#define CFG_MAX_MAP_SIZE_MB 1048576 /* largest LMDB map: 1 TiB */
#define CFG_EX_CONFIG 78            /* exit status for a configuration error (EX_CONFIG) */

/*  The engine configuration; a plain value. Strings are owned (NULL only where optional). */
typedef struct {
    char *data_dir;          /* directory of the LMDB environments, "./cadre-data" */
    bool data_dir_set;       /* the document set data_dir (not a key: false by default) */
    char *deployment;        /* deployment name (letters, digits, '.', '_', '-'), "default" */
    int shards;              /* number of shards, 1..CFG_MAX_SHARDS, 4 */
    int heartbeat_ms;        /* heartbeat interval, 100..60000 ms, 1000 */
    int liveness;            /* silent intervals before a peer is dead, 1..100, 3 */
    int shutdown_timeout_ms; /* drain time on TERM/INT, 0..600000 ms, 5000 */
    bool ipc_group;          /* ipc:// socket files 0660 instead of 0600, false */
    log_level_t log_level;   /* most verbose level logged, LOG_LEVEL_INFO */
    struct {
        char *ingest;         /* ROUTER for clients, "inproc://cadre-ingest" */
        char *backend;        /* ROUTER for shards and the merger, "inproc://cadre-backend" */
        int batch;            /* most records per journal commit, 1..100000, 1000 */
        int64_t max_lag;      /* inputs a live peer may trail before ingest pauses, 100000 */
        int64_t reconcile_ms; /* also reconcile when inputs wait this long, 0 = off */
        int64_t map_size_mb;  /* journal LMDB map size, MiB, 4096 */
    } broker;
    struct {
        int64_t map_size_mb; /* each shard's LMDB map size, MiB, 1024 */
    } shard;
    struct {
        char *shards;        /* ROUTER for shards, "inproc://cadre-merger-shards" */
        char *events;        /* PUB for events, "inproc://cadre-events" */
        char *query;         /* ROUTER for queries, "inproc://cadre-query" */
        int64_t map_size_mb; /* merger LMDB map size, MiB, 4096 */
    } merger;
    struct {
        bool enabled;                 /* CURVE on tcp:// endpoints, false */
        char *secret_key_file;        /* this host's secret key (zcert file), or NULL */
        char *public_key_file;        /* this host's public key (zcert file), or NULL */
        char *server_public_key_file; /* the servers' public key, for connecting roles */
        char *client_secret_key_file; /* certificate to connect with, NULL = secret_key_file */
        char *authorized_keys_dir;    /* client public certificates the servers let in */
        char *peer_keys_dir;          /* peer public certificates, each named after its role */
    } curve;
    struct {
        int client_message_mb; /* largest message frame from a client (ingest), MiB, 64 */
        int peer_message_mb;   /* largest message frame between peers, MiB, 1024 */
        int client_hwm;        /* messages queued per client connection each way, 10000 */
        int events_hwm;        /* events queued per subscriber before it loses some, 10000 */
        int max_clients;       /* client connections served at once (ingest, query, events) */
    } limits;
    ccfg_t clustering; /* the `clustering:` section (core/ccfg.h), SPEC defaults */
} cfg_t;

/*  Fills cfg with every default (allocating the default strings). cfg's previous contents
    are not read or freed: pass a fresh or cleared cfg. Clear the result with cfg_clear(). */
void cfg_defaults(cfg_t *cfg);
/*  Frees cfg's strings and zeroes it. Clearing a cleared (or zeroed) cfg is a no-op. */
void cfg_clear(cfg_t *cfg);

/*  Parses len bytes at buf (a YAML document named name in messages, NULL = "<input>"):
    defaults first, then every key the document sets, then the cross-key checks (CURVE key
    files, distinct endpoints) and the lossless-blocking proof of `clustering`. A document
    with no content gives the defaults. On success *cfg is overwritten without being read
    (clear a loaded cfg first) and the caller clears it; on error *cfg is untouched. Returns
    0, or CADRE_ECONFIG with "name:line:col: key: message" (or "name: message" where no
    position applies) in err (errlen bytes; err may be NULL when errlen is 0). Any input
    is safe (the fuzzing entry point). */
int cfg_parse_buffer(cfg_t *cfg, const char *buf, size_t len, const char *name, char *err,
                     size_t errlen);
/*  Same for the file at path (named path in messages). Returns 0, CADRE_ECONFIG, or -errno
    when the file cannot be read (err says so). */
int cfg_load_file(cfg_t *cfg, const char *path, char *err, size_t errlen);

/*  The CURVE checks that depend on the role (docs/config.md): with curve.enabled, a role
    that binds (serves: broker, merger) needs curve.authorized_keys_dir, and one that
    connects (shard, merger, clients) needs curve.server_public_key_file. Returns 0, or
    CADRE_ECONFIG with "name: key: message" in err. */
int cfg_check_curve(const cfg_t *cfg, bool serves, bool connects, const char *name, char *err,
                    size_t errlen);

/*  The certificate a connecting role uses: curve.client_secret_key_file when set, else
    curve.secret_key_file (borrowed from cfg; NULL when neither is set). */
const char *cfg_client_cert(const cfg_t *cfg);

/*  Writes the effective configuration, every key with its value, as YAML that
    cfg_parse_buffer() reads back to the same cfg (for --check-config). */
void cfg_print(const cfg_t *cfg, FILE *out);

/*  The name of a log level as written in the file ("error", "warn", "info", "debug"). */
const char *cfg_log_level_name(log_level_t level);

#endif
