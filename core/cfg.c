/*  cfg.c - the engine configuration loader (see cfg.h, docs/config.md).

    One descriptor per key drives defaults, parsing, range checks and printing, as redis'
    config.c does. The document is walked as a tree: a mapping under a section name
    (`broker:`) is walked with the dotted prefix, a leaf is looked up in the table, and
    everything under `clustering:` goes to ccfg_set(). Parsing writes into a private copy
    that replaces the caller's cfg_t only when the whole document and the cross-key checks
    pass, so a refused file leaves nothing half-applied.
*/
#include "cfg.h"

#include "err.h"
#include "xalloc.h"
#include "ydoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*  How a key's value is read and where it is stored. */
typedef enum {
    S_STR,      /* char *: a non-empty string */
    S_NAME,     /* char *: 1..64 letters, digits, '.', '_' or '-' */
    S_ENDPOINT, /* char *: inproc://name, ipc://path or tcp://host:port */
    S_OPT_STR,  /* char *: a non-empty string, or null for unset */
    S_INT,      /* int: an integer in [min, max] */
    S_I64,      /* int64_t: an integer in [min, max] */
    S_BOOL,     /* bool: true or false */
    S_LEVEL,    /* log_level_t: "error", "warn", "info" or "debug" */
} s_type_t;

/*  One configuration key. Keys of a section are listed together (cfg_print relies on it). */
typedef struct {
    const char *path;    /* dotted key, e.g. "broker.batch" */
    s_type_t type;       /* value type */
    size_t offset;       /* offsetof(cfg_t, field) */
    const char *def_str; /* default of a string key (NULL: unset) */
    int64_t def_int;     /* default of an integer, boolean or level key */
    int64_t min;         /* smallest accepted integer */
    int64_t max;         /* largest accepted integer */
} s_desc_t;

#define S_STRING(path, type, field, def)                                                           \
    {                                                                                              \
        path, type, offsetof(cfg_t, field), def, 0, 0, 0                                           \
    }
#define S_NUMBER(path, type, field, def, lo, hi)                                                   \
    {                                                                                              \
        path, type, offsetof(cfg_t, field), NULL, def, lo, hi                                      \
    }

static const s_desc_t s_desc[] = {
    S_STRING("data_dir", S_STR, data_dir, "./cadre-data"),
    S_STRING("deployment", S_NAME, deployment, "default"),
    S_NUMBER("shards", S_INT, shards, 4, 1, CFG_MAX_SHARDS),
    S_NUMBER("heartbeat_ms", S_INT, heartbeat_ms, 1000, 100, 60000),
    S_NUMBER("liveness", S_INT, liveness, 3, 1, 100),
    S_NUMBER("shutdown_timeout_ms", S_INT, shutdown_timeout_ms, 5000, 0, 600000),
    S_NUMBER("ipc_group", S_BOOL, ipc_group, 0, 0, 1),
    S_NUMBER("log_level", S_LEVEL, log_level, LOG_LEVEL_INFO, LOG_LEVEL_ERROR, LOG_LEVEL_DEBUG),
    S_STRING("broker.ingest", S_ENDPOINT, broker.ingest, "inproc://cadre-ingest"),
    S_STRING("broker.backend", S_ENDPOINT, broker.backend, "inproc://cadre-backend"),
    S_NUMBER("broker.batch", S_INT, broker.batch, 1000, 1, 100000),
    S_NUMBER("broker.max_lag", S_I64, broker.max_lag, 100000, 1, 1000000000),
    S_NUMBER("broker.reconcile_ms", S_I64, broker.reconcile_ms, 0, 0, 86400000),
    S_NUMBER("broker.map_size_mb", S_I64, broker.map_size_mb, 65536, 1, CFG_MAX_MAP_SIZE_MB),
    S_NUMBER("shard.map_size_mb", S_I64, shard.map_size_mb, 16384, 1, CFG_MAX_MAP_SIZE_MB),
    S_STRING("merger.shards", S_ENDPOINT, merger.shards, "inproc://cadre-merger-shards"),
    S_STRING("merger.events", S_ENDPOINT, merger.events, "inproc://cadre-events"),
    S_STRING("merger.query", S_ENDPOINT, merger.query, "inproc://cadre-query"),
    S_NUMBER("merger.map_size_mb", S_I64, merger.map_size_mb, 65536, 1, CFG_MAX_MAP_SIZE_MB),
    S_NUMBER("curve.enabled", S_BOOL, curve.enabled, 0, 0, 1),
    S_STRING("curve.secret_key_file", S_OPT_STR, curve.secret_key_file, NULL),
    S_STRING("curve.public_key_file", S_OPT_STR, curve.public_key_file, NULL),
    S_STRING("curve.server_public_key_file", S_OPT_STR, curve.server_public_key_file, NULL),
    S_STRING("curve.client_secret_key_file", S_OPT_STR, curve.client_secret_key_file, NULL),
    S_STRING("curve.authorized_keys_dir", S_OPT_STR, curve.authorized_keys_dir, NULL),
    S_STRING("curve.peer_keys_dir", S_OPT_STR, curve.peer_keys_dir, NULL),
    S_NUMBER("limits.client_message_mb", S_INT, limits.client_message_mb, 64, 1, 1024),
    S_NUMBER("limits.peer_message_mb", S_INT, limits.peer_message_mb, 1024, 1, 4096),
    S_NUMBER("limits.client_hwm", S_INT, limits.client_hwm, 10000, 100, 1000000),
    S_NUMBER("limits.events_hwm", S_INT, limits.events_hwm, 10000, 10, 10000000),
    S_NUMBER("limits.max_clients", S_INT, limits.max_clients, 1000, 1, 1000000),
};

#define S_NKEYS (sizeof s_desc / sizeof s_desc[0])
#define S_CLUSTERING "clustering"
#define S_NAME_MAX 64 /* longest deployment name */
#define S_IPC_MAX 107 /* longest ipc:// path: sun_path holds 108 bytes with the NUL */

static const char *const s_levels[] = {"error", "warn", "info", "debug"};

_Static_assert(LOG_LEVEL_ERROR == 0 && LOG_LEVEL_DEBUG == 3, "s_levels follows log_level_t");

const char *
cfg_log_level_name(log_level_t level)
{
    return level >= LOG_LEVEL_ERROR && level <= LOG_LEVEL_DEBUG ? s_levels[level] : NULL;
}

static char **
s_str_field(cfg_t *cfg, const s_desc_t *d)
{
    return (char **)(void *)((char *)cfg + d->offset);
}

static const char *
s_str_value(const cfg_t *cfg, const s_desc_t *d)
{
    const char *const *p = (const char *const *)(const void *)((const char *)cfg + d->offset);
    return *p;
}

static bool
s_is_string_type(s_type_t type)
{
    return type == S_STR || type == S_NAME || type == S_ENDPOINT || type == S_OPT_STR;
}

/*  Stores an integer, boolean or level value in its field. */
static void
s_store_number(cfg_t *cfg, const s_desc_t *d, int64_t v)
{
    char *field = (char *)cfg + d->offset;
    if (d->type == S_INT) {
        int i = (int)v;
        memcpy(field, &i, sizeof i);
    } else if (d->type == S_I64) {
        memcpy(field, &v, sizeof v);
    } else if (d->type == S_BOOL) {
        bool b = v != 0;
        memcpy(field, &b, sizeof b);
    } else {
        log_level_t l = (log_level_t)v;
        memcpy(field, &l, sizeof l);
    }
}

/*  Reads back what s_store_number stored. */
static int64_t
s_load_number(const cfg_t *cfg, const s_desc_t *d)
{
    const char *field = (const char *)cfg + d->offset;
    if (d->type == S_INT) {
        int i;
        memcpy(&i, field, sizeof i);
        return i;
    }
    if (d->type == S_I64) {
        int64_t v;
        memcpy(&v, field, sizeof v);
        return v;
    }
    if (d->type == S_BOOL) {
        bool b;
        memcpy(&b, field, sizeof b);
        return b;
    }
    log_level_t l;
    memcpy(&l, field, sizeof l);
    return (int64_t)l;
}

void
cfg_defaults(cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < S_NKEYS; i++) {
        const s_desc_t *d = &s_desc[i];
        if (s_is_string_type(d->type)) {
            *s_str_field(cfg, d) = d->def_str ? xstrdup(d->def_str) : NULL;
        } else {
            s_store_number(cfg, d, d->def_int);
        }
    }
    ccfg_defaults(&cfg->clustering);
}

void
cfg_clear(cfg_t *cfg)
{
    for (size_t i = 0; i < S_NKEYS; i++) {
        if (s_is_string_type(s_desc[i].type)) {
            char **p = s_str_field(cfg, &s_desc[i]);
            free(*p);
            *p = NULL;
        }
    }
    memset(cfg, 0, sizeof *cfg);
}

/*  ---------------------------------------------------------------------------------------
    Loading */

/*  The state of one parse. */
typedef struct {
    const char *name;            /* document name for messages */
    char *err;                   /* where the message goes */
    size_t errlen;               /* its size */
    ydoc_mark_t marks[S_NKEYS];  /* where each key's value was set */
    bool seen[S_NKEYS];          /* which keys the document set */
    bool clustering_seen;        /* the document has a `clustering:` key */
    ydoc_mark_t clustering_mark; /* where that key is */
} s_loader_t;

/*  Writes "name:line:col: path: message" (no position when mark is NULL, no path when
    path is NULL) and returns CADRE_ECONFIG. */
__attribute__((format(printf, 4, 5))) static int
s_fail(s_loader_t *ld, const ydoc_mark_t *mark, const char *path, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char where[160];
    if (mark) {
        snprintf(where, sizeof where, "%s:%d:%d", ld->name, mark->line, mark->column);
    } else {
        snprintf(where, sizeof where, "%s", ld->name);
    }
    if (path) {
        snprintf(ld->err, ld->errlen, "%s: %s: %s", where, path, msg);
    } else {
        snprintf(ld->err, ld->errlen, "%s: %s", where, msg);
    }
    return CADRE_ECONFIG;
}

/*  Describes a node for a type error: "null", "a mapping", "a string ('abc')", "an
    integer (12)"... */
static void
s_describe(const ydoc_node_t *node, char *buf, size_t len)
{
    ydoc_type_t t = ydoc_type(node);
    if (t == YDOC_NULL) {
        snprintf(buf, len, "null");
        return;
    }
    if (!ydoc_is_scalar(node)) {
        snprintf(buf, len, "a %s", ydoc_type_name(t));
        return;
    }
    size_t n = 0;
    const char *text = ydoc_text(node, &n);
    const char *more = n > 40 ? "..." : "";
    if (t == YDOC_STR) {
        snprintf(buf, len, "a string ('%.40s%s')", text, more);
    } else {
        snprintf(buf, len, "%s %s (%.40s%s)", t == YDOC_INT ? "an" : "a", ydoc_type_name(t), text,
                 more);
    }
}

/*  Checks an endpoint; returns NULL when usable, else why not (static text). */
static const char *
s_endpoint_problem(const char *s)
{
    static const char *const usage =
        "expected an endpoint inproc://name, ipc://path or tcp://host:port";
    if (strncmp(s, "inproc://", 9) == 0) {
        return s[9] ? NULL : usage;
    }
    if (strncmp(s, "ipc://", 6) == 0) {
        if (!s[6]) {
            return usage;
        }
        return strlen(s + 6) > S_IPC_MAX
                   ? "an ipc:// path longer than 107 bytes does not fit a socket address"
                   : NULL;
    }
    if (strncmp(s, "tcp://", 6) == 0) {
        const char *colon = strrchr(s + 6, ':');
        return colon && colon > s + 6 && colon[1] ? NULL : usage;
    }
    return usage;
}

/*  True when s is a deployment name. */
static bool
s_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > S_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/*  Sets one table key from its value node. */
static int
s_set(s_loader_t *ld, cfg_t *cfg, size_t index, const ydoc_node_t *v)
{
    const s_desc_t *d = &s_desc[index];
    ydoc_mark_t mark = ydoc_mark(v);
    char desc[96];
    s_describe(v, desc, sizeof desc);
    if (s_is_string_type(d->type)) {
        if (d->type == S_OPT_STR && ydoc_type(v) == YDOC_NULL) {
            char **p = s_str_field(cfg, d);
            free(*p);
            *p = NULL;
            return 0;
        }
        size_t len = 0;
        const char *text = ydoc_type(v) == YDOC_STR ? ydoc_text(v, &len) : NULL;
        if (!text || len == 0 || strlen(text) != len) {
            return s_fail(ld, &mark, d->path, "expected a non-empty string%s, not %s",
                          d->type == S_OPT_STR ? " or null" : "", desc);
        }
        if (d->type == S_NAME && !s_valid_name(text)) {
            return s_fail(ld, &mark, d->path,
                          "expected 1 to %d letters, digits, '.', '_' or '-', not %s", S_NAME_MAX,
                          desc);
        }
        const char *problem = d->type == S_ENDPOINT ? s_endpoint_problem(text) : NULL;
        if (problem) {
            return s_fail(ld, &mark, d->path, "%s, not %s", problem, desc);
        }
        char **p = s_str_field(cfg, d);
        free(*p);
        *p = xstrdup(text);
        return 0;
    }
    if (d->type == S_BOOL) {
        if (ydoc_type(v) != YDOC_BOOL) {
            return s_fail(ld, &mark, d->path, "expected true or false, not %s", desc);
        }
        s_store_number(cfg, d, ydoc_bool(v));
        return 0;
    }
    if (d->type == S_LEVEL) {
        const char *text = ydoc_type(v) == YDOC_STR ? ydoc_text(v, NULL) : NULL;
        for (int l = LOG_LEVEL_ERROR; text && l <= LOG_LEVEL_DEBUG; l++) {
            if (strcmp(text, s_levels[l]) == 0) {
                s_store_number(cfg, d, l);
                return 0;
            }
        }
        return s_fail(ld, &mark, d->path, "expected error, warn, info or debug, not %s", desc);
    }
    int64_t i = 0;
    if (ydoc_int(v, &i) != 0 || i < d->min || i > d->max) {
        return s_fail(ld, &mark, d->path, "expected an integer from %lld to %lld, not %s",
                      (long long)d->min, (long long)d->max, desc);
    }
    s_store_number(cfg, d, i);
    return 0;
}

/*  Index of the table key at path, or -1. */
static int
s_find(const char *path)
{
    for (size_t i = 0; i < S_NKEYS; i++) {
        if (strcmp(s_desc[i].path, path) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/*  True when path is a section: a proper dotted prefix of some key. */
static bool
s_is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < S_NKEYS; i++) {
        if (strncmp(s_desc[i].path, path, n) == 0 && s_desc[i].path[n] == '.') {
            return true;
        }
    }
    return false;
}

/*  Builds "prefix.key" into path; false when it does not fit (no key is that long). */
static bool
s_join(char *path, size_t size, const char *prefix, const ydoc_node_t *key)
{
    int n = snprintf(path, size, "%s%s%s", prefix, prefix[0] ? "." : "", ydoc_text(key, NULL));
    return n >= 0 && (size_t)n < size;
}

/*  Walks the clustering mapping, handing each leaf to ccfg_set(). prefix starts with
    "clustering", which ccfg's paths do not have. */
static int
s_walk_clustering(s_loader_t *ld, ccfg_t *ccfg, const ydoc_node_t *node, const char *prefix)
{
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *k = ydoc_map_key(node, i);
        const ydoc_node_t *v = ydoc_map_value(node, i);
        char path[256];
        char why[256];
        int rc = -ENOENT;
        snprintf(why, sizeof why, "unknown configuration key");
        if (s_join(path, sizeof path, prefix, k)) {
            if (ydoc_type(v) == YDOC_MAP) {
                rc = s_walk_clustering(ld, ccfg, v, path);
                if (rc != 0) {
                    return rc;
                }
                continue;
            }
            rc = ccfg_set(ccfg, path + sizeof S_CLUSTERING, v, why, sizeof why);
        }
        if (rc != 0) {
            ydoc_mark_t m = ydoc_mark(rc == -ENOENT ? k : v);
            return s_fail(ld, &m, path, "%s", why);
        }
    }
    return 0;
}

/*  Walks a mapping of engine keys under prefix ("" for the root). */
static int
s_walk(s_loader_t *ld, cfg_t *cfg, const ydoc_node_t *node, const char *prefix)
{
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *k = ydoc_map_key(node, i);
        const ydoc_node_t *v = ydoc_map_value(node, i);
        ydoc_mark_t kmark = ydoc_mark(k);
        ydoc_mark_t vmark = ydoc_mark(v);
        char path[256];
        if (!s_join(path, sizeof path, prefix, k)) {
            return s_fail(ld, &kmark, NULL, "unknown configuration key '%.64s...'", path);
        }
        int index = s_find(path);
        if (index >= 0) {
            int rc = s_set(ld, cfg, (size_t)index, v);
            if (rc != 0) {
                return rc;
            }
            ld->seen[index] = true;
            ld->marks[index] = vmark;
            continue;
        }
        bool clustering = prefix[0] == '\0' && strcmp(path, S_CLUSTERING) == 0;
        if (!clustering && !s_is_section(path)) {
            return s_fail(ld, &kmark, path, "unknown configuration key");
        }
        if (ydoc_type(v) == YDOC_NULL) {
            continue; /* an empty section (`broker:`) sets nothing */
        }
        if (ydoc_type(v) != YDOC_MAP) {
            char desc[96];
            s_describe(v, desc, sizeof desc);
            return s_fail(ld, &vmark, path, "expected a mapping, not %s", desc);
        }
        int rc;
        if (clustering) {
            ld->clustering_seen = true;
            ld->clustering_mark = kmark;
            rc = s_walk_clustering(ld, &cfg->clustering, v, path);
        } else {
            rc = s_walk(ld, cfg, v, path);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*  The checks that involve more than one key. */
static int
s_check(s_loader_t *ld, const cfg_t *cfg)
{
    int enabled = s_find("curve.enabled");
    if (cfg->curve.enabled && (!cfg->curve.secret_key_file || !cfg->curve.public_key_file)) {
        return s_fail(ld, ld->seen[enabled] ? &ld->marks[enabled] : NULL, "curve.enabled",
                      "CURVE needs curve.secret_key_file and curve.public_key_file");
    }
    for (size_t i = 0; i < S_NKEYS; i++) {
        for (size_t j = i + 1; j < S_NKEYS && s_desc[i].type == S_ENDPOINT; j++) {
            if (s_desc[j].type != S_ENDPOINT ||
                strcmp(s_str_value(cfg, &s_desc[i]), s_str_value(cfg, &s_desc[j])) != 0) {
                continue;
            }
            /* Point at the key the document set (the later one when it set both). */
            size_t at = ld->seen[j] ? j : i;
            size_t other = at == j ? i : j;
            return s_fail(ld, ld->seen[at] ? &ld->marks[at] : NULL, s_desc[at].path,
                          "the same endpoint as %s ('%s'); every socket needs its own",
                          s_desc[other].path, s_str_value(cfg, &s_desc[at]));
        }
    }
    char why[512];
    if (ccfg_check(&cfg->clustering, why, sizeof why) != 0) {
        return s_fail(ld, ld->clustering_seen ? &ld->clustering_mark : NULL, S_CLUSTERING, "%s",
                      why);
    }
    return 0;
}

/*  True when the text holds only blank lines and comments: an empty configuration. */
static bool
s_blank(const char *buf, size_t len)
{
    bool comment = false;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            comment = false;
        } else if (ch == '#') {
            comment = true;
        } else if (!comment && ch != ' ' && ch != '\t' && ch != '\r') {
            return false;
        }
    }
    return true;
}

int
cfg_parse_buffer(cfg_t *cfg, const char *buf, size_t len, const char *name, char *err,
                 size_t errlen)
{
    s_loader_t ld = {.name = name ? name : "<input>", .err = err, .errlen = errlen};
    cfg_t work;
    cfg_defaults(&work);
    int rc = 0;
    if (!s_blank(buf, len)) {
        ydoc_t *doc = ydoc_parse(buf, len, ld.name, err, errlen);
        if (!doc) {
            cfg_clear(&work);
            return CADRE_ECONFIG;
        }
        const ydoc_node_t *root = ydoc_root(doc);
        if (ydoc_type(root) == YDOC_MAP) {
            rc = s_walk(&ld, &work, root, "");
        } else if (ydoc_type(root) != YDOC_NULL) {
            ydoc_mark_t m = ydoc_mark(root);
            char desc[96];
            s_describe(root, desc, sizeof desc);
            rc = s_fail(&ld, &m, NULL, "the configuration must be a mapping, not %s", desc);
        }
        ydoc_destroy(&doc);
    }
    if (rc == 0) {
        rc = s_check(&ld, &work);
    }
    if (rc != 0) {
        cfg_clear(&work);
        return rc;
    }
    work.data_dir_set = ld.seen[s_find("data_dir")];
    *cfg = work;
    return 0;
}

int
cfg_check_curve(const cfg_t *cfg, bool serves, bool connects, const char *name, char *err,
                size_t errlen)
{
    s_loader_t ld = {.name = name ? name : "<input>", .err = err, .errlen = errlen};
    if (!cfg->curve.enabled) {
        return 0;
    }
    if (serves && !cfg->curve.authorized_keys_dir) {
        return s_fail(&ld, NULL, "curve.authorized_keys_dir",
                      "CURVE needs the directory of the client certificates allowed to connect "
                      "(authentication is mandatory)");
    }
    if (serves && !cfg->curve.peer_keys_dir) {
        return s_fail(&ld, NULL, "curve.peer_keys_dir",
                      "CURVE needs the directory of the peers' certificates, each named after "
                      "its role (merger, shard-0, ...)");
    }
    if (connects && !cfg->curve.server_public_key_file) {
        return s_fail(&ld, NULL, "curve.server_public_key_file",
                      "CURVE needs the server certificate's public file to connect");
    }
    return 0;
}

const char *
cfg_client_cert(const cfg_t *cfg)
{
    return cfg->curve.client_secret_key_file ? cfg->curve.client_secret_key_file
                                             : cfg->curve.secret_key_file;
}

int
cfg_load_file(cfg_t *cfg, const char *path, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = ydoc_read_file(path, CFG_MAX_FILE_BYTES, &buf, &len, err, errlen);
    if (rc == 0) {
        rc = cfg_parse_buffer(cfg, buf, len, path, err, errlen);
    }
    free(buf);
    return rc;
}

/*  ---------------------------------------------------------------------------------------
    Printing */

/*  Writes s as a YAML double-quoted scalar. */
static void
s_print_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7F) {
            fprintf(out, "\\x%02X", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

/*  Number of leading sections (dotted segments before the last) that paths a and b share. */
static int
s_shared_sections(const char *a, const char *b)
{
    int shared = 0;
    for (;;) {
        const char *da = strchr(a, '.');
        const char *db = strchr(b, '.');
        if (!da || !db || da - a != db - b || memcmp(a, b, (size_t)(da - a)) != 0) {
            return shared;
        }
        shared++;
        a = da + 1;
        b = db + 1;
    }
}

void
cfg_print(const cfg_t *cfg, FILE *out)
{
    fprintf(out, "# cadre effective configuration\n");
    const char *prev = "";
    for (size_t i = 0; i < S_NKEYS; i++) {
        const s_desc_t *d = &s_desc[i];
        int shared = s_shared_sections(prev, d->path);
        const char *p = d->path;
        int depth = 0;
        for (const char *dot = strchr(p, '.'); dot; p = dot + 1, dot = strchr(p, '.'), depth++) {
            if (depth >= shared) {
                fprintf(out, "%*s%.*s:\n", 2 * depth, "", (int)(dot - p), p);
            }
        }
        fprintf(out, "%*s%s: ", 2 * depth, "", p);
        if (s_is_string_type(d->type)) {
            const char *s = s_str_value(cfg, d);
            if (s) {
                s_print_quoted(out, s);
            } else {
                fputc('~', out);
            }
        } else if (d->type == S_BOOL) {
            fputs(s_load_number(cfg, d) ? "true" : "false", out);
        } else if (d->type == S_LEVEL) {
            const char *level = cfg_log_level_name((log_level_t)s_load_number(cfg, d));
            fputs(level ? level : "info", out);
        } else {
            fprintf(out, "%lld", (long long)s_load_number(cfg, d));
        }
        fputc('\n', out);
        prev = d->path;
    }
    fprintf(out, "%s:\n", S_CLUSTERING);
    ccfg_print(&cfg->clustering, out, 2);
}
