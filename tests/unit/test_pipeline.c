/*  test_pipeline.c - the campaign fixtures through the chained identity -> campaign pipeline
    (SPEC §10-§11, R§10-§11).

    For every fixtures/campaigns/<name>.expected.yaml: the spec is loaded and generated with
    the file's seed, every observation is applied to one cluster_t in corpus order, the
    engine reconciles, the file's ops are applied (before_ops counts checked just before),
    it reconciles again, and then every bound, identity_level bound and count of the file is
    checked, plus the time-shift invariance when asked. Each fixture is its own test case and
    reports every observed metric when it fails. The same fixtures fed with a reconciliation
    after every input must give the batch partition and converge.

    Then the R§11 chained-pipeline properties (F1, F2, F3, F5, F6, F7) as separate tests,
    and the R§10 adversarial checks: naive clusterers must breach the expected bounds, so
    the bounds are not vacuous.

    Fixture checks never assert half-way: everything they allocate is freed before a failure
    is raised (cmocka leaves a failing test with longjmp), so the sanitizer run stays clean.

    Environment: FIXTURES_DIR (the project's fixtures/).
*/
#include "ccfg.h"
#include "cluster.h"
#include "dsl.h"
#include "err.h"
#include "gen.h"
#include "ident.h"
#include "metrics.h"
#include "obs.h"
#include "strtab.h"
#include "xalloc.h"
#include "ydoc.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define DAY 86400.0 /* seconds per day */
#define EXPECTED_SUFFIX ".expected.yaml"
#define REPORT_MAX 16384           /* bytes of one fixture's failure report */
#define MAX_EXPECTED_BYTES 1048576 /* one expected file */

/* --- failure reports ------------------------------------------------------------------ */

/*  What went wrong in one fixture, as lines of text (on the stack, so a failing test that
    leaves by longjmp leaks nothing). */
typedef struct {
    char text[REPORT_MAX]; /* the lines */
    size_t len;            /* bytes used */
    int fails;             /* failed checks */
} s_report_t;

static void s_note(s_report_t *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*  Appends one line to the report (cut when the report is full). */
static void
s_note(s_report_t *rep, const char *fmt, ...)
{
    if (rep->len + 2 >= sizeof rep->text) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(rep->text + rep->len, sizeof rep->text - rep->len - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    rep->len += (size_t)n;
    if (rep->len > sizeof rep->text - 2) {
        rep->len = sizeof rep->text - 2;
    }
    rep->text[rep->len++] = '\n';
    rep->text[rep->len] = '\0';
}

/* --- expected files ------------------------------------------------------------------- */

enum { M_ARI, M_HOM, M_COMP, M_REC, M_COUNT };
static const char *const s_metric_names[M_COUNT] = {
    "adjusted_rand_index",
    "homogeneity",
    "completeness",
    "singleton_recall",
};

enum { C_OBS, C_SESS, C_TRUTH, C_IDENT, C_CAMP, C_COUNT };
static const char *const s_count_names[C_COUNT] = {
    "observations", "sessions", "truth_campaigns", "identities", "campaigns",
};

/*  Metric -> minimum, for the metrics an expected file lists. */
typedef struct {
    bool has[M_COUNT];   /* metric listed */
    double min[M_COUNT]; /* its bound */
} s_bounds_t;

/*  Exact counts, for the ones an expected file lists. */
typedef struct {
    bool has[C_COUNT];   /* count listed */
    uint64_t v[C_COUNT]; /* its value */
} s_counts_t;

/*  One op: delete row `row` of DSL actor `actor` (of campaign `campaign` when given). */
typedef struct {
    char *actor;    /* DSL actor id (owned) */
    char *campaign; /* DSL campaign id, or NULL (owned) */
    uint64_t row;   /* 0-based row of that actor in corpus order */
} s_op_t;

/*  One parsed expected file. */
typedef struct {
    s_bounds_t camp;     /* top-level bounds: campaign level */
    bool has_ident;      /* identity_level present */
    s_bounds_t ident;    /* identity_level bounds */
    int64_t seed;        /* generator seed (default 0) */
    s_counts_t counts;   /* counts after the ops */
    bool has_before;     /* before_ops present */
    s_counts_t before;   /* counts just before the first op */
    bool has_shift;      /* shift_invariant_days present */
    int64_t shift_days;  /* its value */
    ccfg_t cfg;          /* ccfg_reference() plus the config overrides */
    s_op_t *ops;         /* ops in order */
    size_t n_ops;        /* number of ops */
    char cfg_text[1024]; /* the config overrides as given, for reports ("" when none) */
} s_expect_t;

static void
s_expect_clear(s_expect_t *ex)
{
    for (size_t i = 0; i < ex->n_ops; i++) {
        free(ex->ops[i].actor);
        free(ex->ops[i].campaign);
    }
    free(ex->ops);
    memset(ex, 0, sizeof *ex);
}

/*  Reports a problem at node's position in the expected file; always returns -1. */
static int s_bad(s_report_t *rep, const char *file, const ydoc_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
s_bad(s_report_t *rep, const char *file, const ydoc_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ydoc_mark_t m = ydoc_mark(node);
    s_note(rep, "%s:%d:%d: %s", file, m.line, m.column, msg);
    rep->fails++;
    return -1;
}

static int
s_index_of(const char *const *names, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], key) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/*  {min: X} of one metric into *min. */
static int
s_parse_min(const ydoc_node_t *v, const char *metric, const char *file, double *min,
            s_report_t *rep)
{
    if (ydoc_type(v) != YDOC_MAP || ydoc_len(v) != 1 ||
        strcmp(ydoc_text(ydoc_map_key(v, 0), NULL), "min") != 0) {
        return s_bad(rep, file, v, "metric '%s': expected exactly {min: X}", metric);
    }
    if (ydoc_float(ydoc_map_value(v, 0), min) != 0 || !isfinite(*min)) {
        return s_bad(rep, file, ydoc_map_value(v, 0), "min of '%s' must be a number", metric);
    }
    return 0;
}

/*  metric -> {min: X} for each listed metric; unknown metrics and keys are errors. */
static int
s_parse_bounds(const ydoc_node_t *node, const char *file, s_bounds_t *out, s_report_t *rep)
{
    if (ydoc_type(node) != YDOC_MAP) {
        return s_bad(rep, file, node, "expected a mapping of metric -> {min: X}");
    }
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *k = ydoc_map_key(node, i);
        const ydoc_node_t *v = ydoc_map_value(node, i);
        int m = s_index_of(s_metric_names, M_COUNT, ydoc_text(k, NULL));
        if (m < 0) {
            return s_bad(rep, file, k, "unknown metric '%s'", ydoc_text(k, NULL));
        }
        if (s_parse_min(v, s_metric_names[m], file, &out->min[m], rep) != 0) {
            return -1;
        }
        out->has[m] = true;
    }
    return 0;
}

static int
s_parse_counts(const ydoc_node_t *node, const char *file, s_counts_t *out, s_report_t *rep)
{
    if (ydoc_type(node) != YDOC_MAP) {
        return s_bad(rep, file, node, "counts: expected a mapping");
    }
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *k = ydoc_map_key(node, i);
        int c = s_index_of(s_count_names, C_COUNT, ydoc_text(k, NULL));
        if (c < 0) {
            return s_bad(rep, file, k, "unknown count '%s'", ydoc_text(k, NULL));
        }
        if (ydoc_uint(ydoc_map_value(node, i), &out->v[c]) != 0) {
            return s_bad(rep, file, ydoc_map_value(node, i),
                         "count '%s' must be a non-negative integer", s_count_names[c]);
        }
        out->has[c] = true;
    }
    return 0;
}

/*  Flattens the config mapping into "dotted.path: value" lines for ccfg_load_buffer, which
    owns the key names, ranges and the lossless-blocking proof. Leaves must be numbers. */
static int
s_flatten_config(const ydoc_node_t *node, const char *prefix, const char *file, char *buf,
                 size_t size, s_report_t *rep)
{
    if (ydoc_type(node) != YDOC_MAP) {
        return s_bad(rep, file, node, "config: expected a mapping");
    }
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *k = ydoc_map_key(node, i);
        const ydoc_node_t *v = ydoc_map_value(node, i);
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", ydoc_text(k, NULL));
        if (ydoc_type(v) == YDOC_MAP) {
            if (s_flatten_config(v, path, file, buf, size, rep) != 0) {
                return -1;
            }
            continue;
        }
        if (ydoc_type(v) != YDOC_INT && ydoc_type(v) != YDOC_FLOAT) {
            return s_bad(rep, file, v, "config '%s' must be a number", path);
        }
        size_t len = strlen(buf);
        int n = snprintf(buf + len, size - len, "\"%s\": %s\n", path, ydoc_text(v, NULL));
        if (n < 0 || (size_t)n >= size - len) {
            return s_bad(rep, file, v, "config too long");
        }
    }
    return 0;
}

static int
s_parse_ops(const ydoc_node_t *node, const char *file, s_expect_t *ex, s_report_t *rep)
{
    if (ydoc_type(node) != YDOC_SEQ) {
        return s_bad(rep, file, node, "ops: expected a sequence");
    }
    ex->ops = xcalloc(ydoc_len(node) + 1, sizeof *ex->ops);
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *op = ydoc_seq_at(node, i);
        if (ydoc_type(op) != YDOC_MAP || ydoc_len(op) != 1 ||
            strcmp(ydoc_text(ydoc_map_key(op, 0), NULL), "delete") != 0) {
            return s_bad(rep, file, op, "ops[%zu]: expected {delete: {actor, row}}", i);
        }
        const ydoc_node_t *d = ydoc_map_value(op, 0);
        if (ydoc_type(d) != YDOC_MAP) {
            return s_bad(rep, file, d, "ops[%zu].delete: expected a mapping", i);
        }
        s_op_t *o = &ex->ops[ex->n_ops++];
        bool has_row = false;
        for (size_t j = 0; j < ydoc_len(d); j++) {
            const char *key = ydoc_text(ydoc_map_key(d, j), NULL);
            const ydoc_node_t *v = ydoc_map_value(d, j);
            if (strcmp(key, "actor") == 0 && ydoc_type(v) == YDOC_STR && !o->actor) {
                o->actor = xstrdup(ydoc_text(v, NULL));
            } else if (strcmp(key, "campaign") == 0 && ydoc_type(v) == YDOC_STR && !o->campaign) {
                o->campaign = xstrdup(ydoc_text(v, NULL));
            } else if (strcmp(key, "row") == 0 && ydoc_uint(v, &o->row) == 0) {
                has_row = true;
            } else {
                return s_bad(rep, file, ydoc_map_key(d, j),
                             "ops[%zu].delete: unknown key or bad value '%s'", i, key);
            }
        }
        if (!o->actor || !has_row) {
            return s_bad(rep, file, d, "ops[%zu].delete needs actor and row", i);
        }
    }
    return 0;
}

/*  Reads path strictly: every key must be known, so a typo cannot skip a check. */
static int
s_parse_expected(const char *path, s_expect_t *ex, s_report_t *rep)
{
    memset(ex, 0, sizeof *ex);
    ccfg_reference(&ex->cfg);
    FILE *f = fopen(path, "rb");
    if (!f) {
        s_note(rep, "%s: %s", path, strerror(errno));
        rep->fails++;
        return -1;
    }
    char *buf = xmalloc(MAX_EXPECTED_BYTES);
    size_t len = fread(buf, 1, MAX_EXPECTED_BYTES, f);
    fclose(f);
    if (len == MAX_EXPECTED_BYTES) {
        free(buf);
        s_note(rep, "%s: larger than %d bytes", path, MAX_EXPECTED_BYTES);
        rep->fails++;
        return -1;
    }
    char err[512] = "";
    ydoc_t *doc = ydoc_parse(buf, len, path, err, sizeof err);
    free(buf);
    if (!doc) {
        s_note(rep, "%s", err);
        rep->fails++;
        return -1;
    }
    const ydoc_node_t *root = ydoc_root(doc);
    int rc = 0;
    if (ydoc_type(root) != YDOC_MAP) {
        rc = s_bad(rep, path, root, "an expected file must be a mapping");
    }
    char cfg_lines[1024] = "";
    for (size_t i = 0; rc == 0 && i < ydoc_len(root); i++) {
        const ydoc_node_t *k = ydoc_map_key(root, i);
        const ydoc_node_t *v = ydoc_map_value(root, i);
        const char *key = ydoc_text(k, NULL);
        int m = s_index_of(s_metric_names, M_COUNT, key);
        if (m >= 0) {
            ex->camp.has[m] = true;
            rc = s_parse_min(v, key, path, &ex->camp.min[m], rep);
        } else if (strcmp(key, "seed") == 0) {
            if (ydoc_int(v, &ex->seed) != 0) {
                rc = s_bad(rep, path, v, "seed must be an integer");
            }
        } else if (strcmp(key, "identity_level") == 0) {
            ex->has_ident = true;
            rc = s_parse_bounds(v, path, &ex->ident, rep);
        } else if (strcmp(key, "counts") == 0) {
            rc = s_parse_counts(v, path, &ex->counts, rep);
        } else if (strcmp(key, "shift_invariant_days") == 0) {
            ex->has_shift = true;
            if (ydoc_int(v, &ex->shift_days) != 0) {
                rc = s_bad(rep, path, v, "shift_invariant_days must be an integer");
            }
        } else if (strcmp(key, "config") == 0) {
            rc = s_flatten_config(v, "", path, cfg_lines, sizeof cfg_lines, rep);
        } else if (strcmp(key, "ops") == 0) {
            rc = s_parse_ops(v, path, ex, rep);
        } else if (strcmp(key, "before_ops") == 0) {
            ex->has_before = true;
            if (ydoc_type(v) != YDOC_MAP || ydoc_len(v) != 1 ||
                strcmp(ydoc_text(ydoc_map_key(v, 0), NULL), "counts") != 0) {
                rc = s_bad(rep, path, v, "before_ops: expected exactly {counts: {...}}");
            } else {
                rc = s_parse_counts(ydoc_map_value(v, 0), path, &ex->before, rep);
            }
        } else {
            rc = s_bad(rep, path, k, "unknown key '%s'", key);
        }
    }
    ydoc_destroy(&doc);
    if (rc == 0 && ex->has_before && ex->n_ops == 0) {
        s_note(rep, "%s: before_ops without ops", path);
        rep->fails++;
        rc = -1;
    }
    if (rc == 0 && cfg_lines[0]) {
        snprintf(ex->cfg_text, sizeof ex->cfg_text, "%s", cfg_lines);
        char name[PATH_MAX + 16];
        snprintf(name, sizeof name, "%s (config)", path);
        char cerr[1024] = "";
        if (ccfg_load_buffer(&ex->cfg, cfg_lines, strlen(cfg_lines), name, cerr, sizeof cerr) !=
            0) {
            s_note(rep, "%s", cerr);
            rep->fails++;
            rc = -1;
        }
    }
    return rc;
}

static bool
s_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* --- generated corpora ---------------------------------------------------------------- */

/*  Every generated record of one run, deep-copied, in corpus order. */
typedef struct {
    obs_t **items; /* owned records */
    size_t n;      /* number of records */
    size_t cap;    /* slots allocated */
} s_rows_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_rows_t *rows = arg;
    xgrow(&rows->items, &rows->cap, rows->n + 1);
    rows->items[rows->n++] = obs_dup(obs);
    return 0;
}

static void
s_rows_clear(s_rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        obs_destroy(&rows->items[i]);
    }
    free(rows->items);
    memset(rows, 0, sizeof *rows);
}

/*  FIXTURES_DIR/campaigns/<file> into buf; false when FIXTURES_DIR is not set. */
static bool
s_path(char *buf, size_t size, const char *file)
{
    const char *dir = getenv("FIXTURES_DIR");
    if (!dir || !*dir) {
        return false;
    }
    int n = snprintf(buf, size, "%s/campaigns/%s", dir, file);
    return n > 0 && (size_t)n < size;
}

/*  Loads <name>.yaml and generates it with seed into rows. */
static int
s_generate(const char *name, int64_t seed, s_rows_t *rows, s_report_t *rep)
{
    memset(rows, 0, sizeof *rows);
    char file[256];
    char path[PATH_MAX];
    snprintf(file, sizeof file, "%s.yaml", name);
    if (!s_path(path, sizeof path, file)) {
        s_note(rep, "FIXTURES_DIR is not set");
        rep->fails++;
        return -1;
    }
    dsl_corpus_t *corpus = NULL;
    char err[512] = "";
    int rc = dsl_load_file(path, &corpus, err, sizeof err);
    if (rc != 0) {
        s_note(rep, "loading %s: %s (%s)", path, err, cadre_strerror(rc));
        rep->fails++;
        return -1;
    }
    rc = gen_run(corpus, seed, s_collect, rows);
    dsl_corpus_destroy(&corpus);
    if (rc != 0) {
        s_note(rep, "generating %s: %s", path, cadre_strerror(rc));
        rep->fails++;
        s_rows_clear(rows);
        return -1;
    }
    return 0;
}

/*  Loads a fixture: its expected file, then its corpus at the file's seed. */
static int
s_fixture_load(const char *name, s_expect_t *ex, s_rows_t *rows, s_report_t *rep)
{
    memset(rows, 0, sizeof *rows);
    char file[256];
    char path[PATH_MAX];
    snprintf(file, sizeof file, "%s%s", name, EXPECTED_SUFFIX);
    if (!s_path(path, sizeof path, file)) {
        s_note(rep, "FIXTURES_DIR is not set");
        rep->fails++;
        memset(ex, 0, sizeof *ex);
        return -1;
    }
    if (s_parse_expected(path, ex, rep) != 0) {
        return -1;
    }
    return s_generate(name, ex->seed, rows, rep);
}

/*  The row an op names: the row-th row (corpus order) whose truth_actor is the op's actor
    (and truth_campaign its campaign, when given); -1 when there is none. */
static int64_t
s_op_row(const s_rows_t *rows, const s_op_t *op)
{
    uint64_t k = op->row;
    for (size_t i = 0; i < rows->n; i++) {
        const obs_t *o = rows->items[i];
        if (!o->truth_actor || strcmp(o->truth_actor, op->actor) != 0) {
            continue;
        }
        if (op->campaign && (!o->truth_campaign || strcmp(o->truth_campaign, op->campaign) != 0)) {
            continue;
        }
        if (k-- == 0) {
            return (int64_t)i;
        }
    }
    return -1;
}

/* --- the pipeline --------------------------------------------------------------------- */

/*  One run of the chained pipeline over a generated corpus. */
typedef struct {
    cluster_t *cluster; /* the engine after the last reconciliation */
    bool *deleted;      /* per row: removed by an op */
    s_counts_t before;  /* all counts just before the first op (when there are ops) */
    uint64_t tail;      /* events of one more reconciliation after the last one */
} s_run_t;

static void
s_run_clear(s_run_t *run)
{
    cluster_destroy(&run->cluster);
    free(run->deleted);
    memset(run, 0, sizeof *run);
}

static int
s_count_events(const ev_t *ev, void *arg)
{
    (void)ev;
    (*(uint64_t *)arg)++;
    return 0;
}

/*  Every count of the current state, over the rows not deleted. */
static void
s_observe_counts(const s_rows_t *rows, const s_run_t *run, s_counts_t *out)
{
    memset(out, 0, sizeof *out);
    strtab_t *labels = strtab_new();
    for (size_t i = 0; i < rows->n; i++) {
        if (run->deleted[i]) {
            continue;
        }
        const obs_t *o = rows->items[i];
        out->v[C_OBS]++;
        out->v[C_SESS] += o->n_sessions;
        if (o->truth_campaign) {
            strtab_intern(labels, o->truth_campaign, strlen(o->truth_campaign));
        }
    }
    out->v[C_TRUTH] = strtab_count(labels);
    strtab_destroy(&labels);
    cluster_stats_t st = cluster_stats(run->cluster);
    out->v[C_IDENT] = st.identities;
    out->v[C_CAMP] = st.campaigns;
    for (int c = 0; c < C_COUNT; c++) {
        out->has[c] = true;
    }
}

/*  Applies rows (every session start moved by shift seconds), reconciles, applies the ops
    and reconciles again. With incremental, it also reconciles after every input. Returns 0,
    or -1 with the reason in rep (run is still to be cleared). */
static int
s_pipeline(const s_rows_t *rows, const s_expect_t *ex, double shift, bool incremental, s_run_t *run,
           s_report_t *rep)
{
    memset(run, 0, sizeof *run);
    run->cluster = cluster_new(&ex->cfg, "pipeline");
    run->deleted = xcalloc(rows->n + 1, sizeof *run->deleted);
    for (size_t i = 0; i < rows->n; i++) {
        if (shift != 0.0) {
            obs_t *o = obs_dup(rows->items[i]);
            for (size_t s = 0; s < o->n_sessions; s++) {
                o->sessions[s].start += shift;
            }
            cluster_apply(run->cluster, o);
            obs_destroy(&o);
        } else {
            cluster_apply(run->cluster, rows->items[i]);
        }
        if (incremental) {
            cluster_reconcile(run->cluster, NULL, NULL);
        }
    }
    cluster_reconcile(run->cluster, NULL, NULL);
    if (ex->n_ops > 0) {
        s_observe_counts(rows, run, &run->before);
    }
    for (size_t k = 0; k < ex->n_ops; k++) {
        int64_t row = s_op_row(rows, &ex->ops[k]);
        if (row < 0) {
            s_note(rep, "ops[%zu]: actor '%s' has no row %" PRIu64, k, ex->ops[k].actor,
                   ex->ops[k].row);
            rep->fails++;
            return -1;
        }
        obs_t *del = obs_new();
        del->op = OBS_DELETE;
        del->id = xstrdup(rows->items[row]->id);
        cluster_apply(run->cluster, del);
        obs_destroy(&del);
        run->deleted[row] = true;
        if (incremental) {
            cluster_reconcile(run->cluster, NULL, NULL);
        }
    }
    cluster_reconcile(run->cluster, NULL, NULL);
    cluster_reconcile(run->cluster, s_count_events, &run->tail);
    return 0;
}

/*  Per row, the layer's predicted id as a canonical label (ids numbered by first appearance
    in row order), UINT32_MAX for deleted rows or rows without an id. The caller frees it. */
static uint32_t *
s_partition(const s_rows_t *rows, const s_run_t *run, bool identity)
{
    uint32_t *lab = xcalloc(rows->n + 1, sizeof *lab);
    strtab_t *ids = strtab_new();
    for (size_t i = 0; i < rows->n; i++) {
        lab[i] = UINT32_MAX;
        if (run->deleted[i]) {
            continue;
        }
        int64_t slot = cluster_find(run->cluster, rows->items[i]->id);
        const char *p = NULL;
        if (slot >= 0) {
            p = identity ? cluster_identity_of(run->cluster, (size_t)slot)
                         : cluster_campaign_of(run->cluster, (size_t)slot);
        }
        if (p) {
            lab[i] = strtab_intern(ids, p, strlen(p));
        }
    }
    strtab_destroy(&ids);
    return lab;
}

/*  Scores pred (per row, UINT32_MAX = skip) against the rows' truth at one level over the
    rows not skipped. Returns 0, or -1 when a kept row has no prediction or truth label. */
static int
s_score_labels(const s_rows_t *rows, const bool *skip, const uint32_t *pred, bool identity,
               metrics_t *out)
{
    uint32_t *truth = xcalloc(rows->n + 1, sizeof *truth);
    uint32_t *kept = xcalloc(rows->n + 1, sizeof *kept);
    strtab_t *labels = strtab_new();
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < rows->n && rc == 0; i++) {
        if (skip && skip[i]) {
            continue;
        }
        const char *t = identity ? rows->items[i]->truth_identity : rows->items[i]->truth_campaign;
        if (!t || pred[i] == UINT32_MAX) {
            rc = -1;
            break;
        }
        truth[k] = strtab_intern(labels, t, strlen(t));
        kept[k] = pred[i];
        k++;
    }
    if (rc == 0) {
        rc = metrics_score(truth, kept, k, out) == 0 ? 0 : -1;
    }
    strtab_destroy(&labels);
    free(truth);
    free(kept);
    return rc;
}

/*  Scores one layer of a run against the matching truth level. */
static int
s_score_run(const s_rows_t *rows, const s_run_t *run, bool identity, metrics_t *out)
{
    uint32_t *pred = s_partition(rows, run, identity);
    int rc = s_score_labels(rows, run->deleted, pred, identity, out);
    free(pred);
    return rc;
}

static double
s_metric(const metrics_t *m, int which)
{
    switch (which) {
    case M_ARI:
        return m->adjusted_rand_index;
    case M_HOM:
        return m->homogeneity;
    case M_COMP:
        return m->completeness;
    default:
        return m->singleton_recall;
    }
}

/*  True when observed meets min. No metric exceeds 1.0, so a min of 1.0 needs exactly 1.0. */
static bool
s_meets(double observed, double min)
{
    return observed >= min;
}

/*  True when m breaks at least one bound of b. */
static bool
s_breaches(const s_bounds_t *b, const metrics_t *m)
{
    for (int i = 0; i < M_COUNT; i++) {
        if (b->has[i] && !s_meets(s_metric(m, i), b->min[i])) {
            return true;
        }
    }
    return false;
}

static void
s_check_bounds(const s_bounds_t *b, const metrics_t *m, const char *level, s_report_t *rep)
{
    for (int i = 0; i < M_COUNT; i++) {
        if (b->has[i] && !s_meets(s_metric(m, i), b->min[i])) {
            s_note(rep, "%s %s = %.17g, below min %.17g", level, s_metric_names[i], s_metric(m, i),
                   b->min[i]);
            rep->fails++;
        }
    }
}

static void
s_check_counts(const s_counts_t *want, const s_counts_t *got, const char *when, s_report_t *rep)
{
    for (int c = 0; c < C_COUNT; c++) {
        if (want->has[c] && want->v[c] != got->v[c]) {
            s_note(rep, "%s %s = %" PRIu64 ", expected %" PRIu64, when, s_count_names[c], got->v[c],
                   want->v[c]);
            rep->fails++;
        }
    }
}

static void
s_note_metrics(s_report_t *rep, const char *level, const metrics_t *m)
{
    s_note(rep,
           "  %s level: ARI %.17g, homogeneity %.17g, completeness %.17g, singleton_recall "
           "%.17g",
           level, m->adjusted_rand_index, m->homogeneity, m->completeness, m->singleton_recall);
}

/*  True when two partitions (s_partition) are the same. */
static bool
s_same_partition(const uint32_t *a, const uint32_t *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/*  Checks that a run shifted by days gives both partitions of base. */
static void
s_check_shift(const s_rows_t *rows, const s_expect_t *ex, const s_run_t *base, int64_t days,
              s_report_t *rep)
{
    s_run_t shifted;
    if (s_pipeline(rows, ex, (double)days * DAY, false, &shifted, rep) == 0) {
        for (int layer = 0; layer < 2; layer++) {
            uint32_t *a = s_partition(rows, base, layer == 0);
            uint32_t *b = s_partition(rows, &shifted, layer == 0);
            if (!s_same_partition(a, b, rows->n)) {
                s_note(rep, "shifting every session by %" PRId64 " days changed the %s partition",
                       days, layer == 0 ? "identity" : "campaign");
                rep->fails++;
            }
            free(a);
            free(b);
        }
    }
    s_run_clear(&shifted);
}

/*  The whole expected-file check of one fixture, collected into rep. */
static void
s_check_fixture(const char *name, s_report_t *rep)
{
    s_expect_t ex;
    s_rows_t rows;
    if (s_fixture_load(name, &ex, &rows, rep) != 0) {
        s_rows_clear(&rows);
        s_expect_clear(&ex);
        return;
    }
    s_run_t run;
    if (s_pipeline(&rows, &ex, 0.0, false, &run, rep) == 0) {
        s_counts_t got;
        s_observe_counts(&rows, &run, &got);
        if (ex.has_before) {
            s_check_counts(&ex.before, &run.before, "before ops:", rep);
        }
        s_check_counts(&ex.counts, &got, "after the run:", rep);
        cluster_stats_t st = cluster_stats(run.cluster);
        if (st.observations != got.v[C_OBS]) {
            s_note(rep, "engine holds %" PRIu64 " observations, corpus %" PRIu64, st.observations,
                   got.v[C_OBS]);
            rep->fails++;
        }
        metrics_t mc = {0};
        metrics_t mi = {0};
        bool have_c = s_score_run(&rows, &run, false, &mc) == 0;
        bool have_i = s_score_run(&rows, &run, true, &mi) == 0;
        if (!have_c || !have_i) {
            s_note(rep, "some live observation has no truth label or no assigned %s",
                   have_c ? "identity" : "campaign");
            rep->fails++;
        }
        if (have_c) {
            s_check_bounds(&ex.camp, &mc, "campaign", rep);
        }
        if (have_i && ex.has_ident) {
            s_check_bounds(&ex.ident, &mi, "identity", rep);
        }
        if (ex.has_shift) {
            s_check_shift(&rows, &ex, &run, ex.shift_days, rep);
        }
        if (rep->fails) {
            s_note(rep, "observed (seed %" PRId64 "%s%s):", ex.seed, ex.cfg_text[0] ? ", " : "",
                   ex.cfg_text[0] ? "config overrides below" : ", reference config");
            if (ex.cfg_text[0]) {
                s_note(rep, "  config: %.*s", (int)strcspn(ex.cfg_text, "\n"), ex.cfg_text);
            }
            if (have_c) {
                s_note_metrics(rep, "campaign", &mc);
            }
            if (have_i) {
                s_note_metrics(rep, "identity", &mi);
            }
            s_note(rep,
                   "  counts: observations %" PRIu64 ", sessions %" PRIu64
                   ", truth_campaigns %" PRIu64 ", identities %" PRIu64 ", campaigns %" PRIu64,
                   got.v[C_OBS], got.v[C_SESS], got.v[C_TRUTH], got.v[C_IDENT], got.v[C_CAMP]);
            if (ex.n_ops > 0) {
                s_note(rep,
                       "  before ops: observations %" PRIu64 ", identities %" PRIu64
                       ", campaigns %" PRIu64,
                       run.before.v[C_OBS], run.before.v[C_IDENT], run.before.v[C_CAMP]);
            }
        }
    }
    s_run_clear(&run);
    s_rows_clear(&rows);
    s_expect_clear(&ex);
}

/*  Incremental equivalence: a reconciliation after every input gives the batch partitions,
    and one more reconciliation reports nothing (convergence), in both modes. */
static void
s_check_incremental(const char *name, s_report_t *rep)
{
    s_expect_t ex;
    s_rows_t rows;
    if (s_fixture_load(name, &ex, &rows, rep) != 0) {
        s_rows_clear(&rows);
        s_expect_clear(&ex);
        return;
    }
    s_run_t batch;
    s_run_t inc;
    int rb = s_pipeline(&rows, &ex, 0.0, false, &batch, rep);
    int ri = rb == 0 ? s_pipeline(&rows, &ex, 0.0, true, &inc, rep) : -1;
    if (rb == 0 && ri == 0) {
        for (int layer = 0; layer < 2; layer++) {
            uint32_t *a = s_partition(&rows, &batch, layer == 0);
            uint32_t *b = s_partition(&rows, &inc, layer == 0);
            if (!s_same_partition(a, b, rows.n)) {
                s_note(rep, "incremental %s partition differs from the batch one",
                       layer == 0 ? "identity" : "campaign");
                rep->fails++;
            }
            free(a);
            free(b);
        }
        if (batch.tail != 0 || inc.tail != 0) {
            s_note(rep,
                   "no fixed point: a further reconciliation reported %" PRIu64
                   " events (batch) and %" PRIu64 " (incremental)",
                   batch.tail, inc.tail);
            rep->fails++;
        }
    }
    if (rb == 0) {
        s_run_clear(&inc);
    }
    s_run_clear(&batch);
    s_rows_clear(&rows);
    s_expect_clear(&ex);
}

static void
test_fixture_bounds(void **state)
{
    const char *name = *state;
    s_report_t rep = {.len = 0};
    s_check_fixture(name, &rep);
    if (rep.fails) {
        fail_msg("fixture %s: %d failed checks\n%s", name, rep.fails, rep.text);
    }
}

static void
test_fixture_incremental(void **state)
{
    const char *name = *state;
    s_report_t rep = {.len = 0};
    s_check_incremental(name, &rep);
    if (rep.fails) {
        fail_msg("fixture %s: %d failed checks\n%s", name, rep.fails, rep.text);
    }
}

/* --- R§11 chained-pipeline properties ---------------------------------------------------- */

/*  What the property tests look at after one fixture run (plain values only, so the run is
    freed before anything is asserted). */
typedef struct {
    bool ok;              /* the run completed */
    metrics_t camp;       /* campaign level */
    metrics_t ident;      /* identity level */
    s_counts_t counts;    /* counts after the run */
    bool camp_pure;       /* no predicted campaign holds two truth campaigns */
    bool shift_invariant; /* +90 days left both partitions unchanged */
    char why[512];        /* the first problem when !ok */
} s_facts_t;

/*  True when every predicted cluster holds rows of one truth campaign only. */
static bool
s_pure(const s_rows_t *rows, const uint32_t *pred)
{
    for (size_t i = 0; i < rows->n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (pred[i] != UINT32_MAX && pred[i] == pred[j] &&
                !s_streq(rows->items[i]->truth_campaign, rows->items[j]->truth_campaign)) {
                return false;
            }
        }
    }
    return true;
}

static void
s_facts(const char *name, s_facts_t *f)
{
    memset(f, 0, sizeof *f);
    s_report_t rep = {.len = 0};
    s_expect_t ex;
    s_rows_t rows;
    if (s_fixture_load(name, &ex, &rows, &rep) == 0) {
        s_run_t run;
        if (s_pipeline(&rows, &ex, 0.0, false, &run, &rep) == 0) {
            s_observe_counts(&rows, &run, &f->counts);
            f->ok = s_score_run(&rows, &run, false, &f->camp) == 0 &&
                    s_score_run(&rows, &run, true, &f->ident) == 0;
            if (!f->ok) {
                s_note(&rep, "a live observation lacks a label or an id");
            }
            uint32_t *pc = s_partition(&rows, &run, false);
            f->camp_pure = s_pure(&rows, pc);
            free(pc);
            s_report_t shift_rep = {.len = 0};
            s_check_shift(&rows, &ex, &run, 90, &shift_rep);
            f->shift_invariant = shift_rep.fails == 0;
        }
        s_run_clear(&run);
    }
    snprintf(f->why, sizeof f->why, "%.*s", (int)sizeof f->why - 1, rep.text);
    s_rows_clear(&rows);
    s_expect_clear(&ex);
}

static void
s_assert_ran(const s_facts_t *f, const char *name)
{
    if (!f->ok) {
        fail_msg("%s: %s", name, f->why);
    }
}

/*  F3: the lone scanner stays alone among the noise. */
static void
test_f3_lone_wolf(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("lone_wolf", &f);
    s_assert_ran(&f, "lone_wolf");
    assert_true(f.camp.singleton_recall == 1.0);
    assert_true(f.camp.adjusted_rand_index == 1.0);
}

/*  F1: the shared wordlist joins nothing; one identity per row. */
static void
test_f1_shared_wordlist(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("shared_wordlist", &f);
    s_assert_ran(&f, "shared_wordlist");
    assert_true(f.camp_pure);
    assert_int_equal(f.counts.v[C_IDENT], f.counts.v[C_OBS]);
    assert_true(f.camp.homogeneity == 1.0);
}

/*  F5: two operators, two identities (veto), one campaign (shared C2). */
static void
test_f5_multi_operator(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("multi_operator", &f);
    s_assert_ran(&f, "multi_operator");
    assert_int_equal(f.counts.v[C_CAMP], 1);
    assert_true(f.camp.adjusted_rand_index == 1.0);
    assert_int_equal(f.counts.v[C_IDENT], 2);
    assert_true(f.ident.adjusted_rand_index == 1.0);
    assert_true(f.ident.homogeneity == 1.0);
}

/*  F7: three windows over 90 days are one identity and one campaign, whatever the date. */
static void
test_f7_slow_burn(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("slow_burn", &f);
    s_assert_ran(&f, "slow_burn");
    assert_true(f.shift_invariant);
    assert_int_equal(f.counts.v[C_IDENT], 1);
    assert_true(f.camp.completeness == 1.0);
}

/*  F2: five exits, one identity. */
static void
test_f2_vpn_hopping(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("vpn_hopping", &f);
    s_assert_ran(&f, "vpn_hopping");
    assert_int_equal(f.counts.v[C_IDENT], 1);
    assert_true(f.ident.adjusted_rand_index == 1.0);
    assert_true(f.ident.completeness == 1.0);
}

/*  F4: the pause does not split the campaign. */
static void
test_f4_paused_campaign(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("paused_campaign", &f);
    s_assert_ran(&f, "paused_campaign");
    assert_int_equal(f.counts.v[C_IDENT], 1);
    assert_int_equal(f.counts.v[C_CAMP], 1);
    assert_true(f.camp.completeness == 1.0);
}

/*  F6: everything together: 25 identities, 24 campaigns (R§10), every metric 1.0. */
static void
test_f6_noise_floor(void **state)
{
    (void)state;
    s_facts_t f;
    s_facts("noise_floor", &f);
    s_assert_ran(&f, "noise_floor");
    assert_int_equal(f.counts.v[C_OBS], 30);
    assert_int_equal(f.counts.v[C_IDENT], 25);
    assert_int_equal(f.counts.v[C_CAMP], 24);
    assert_true(f.camp.adjusted_rand_index == 1.0);
    assert_true(f.camp.homogeneity == 1.0);
    assert_true(f.camp.completeness == 1.0);
    assert_true(f.camp.singleton_recall == 1.0);
    assert_true(f.camp_pure);
}

/* --- R§10 adversarial clusterers ---------------------------------------------------------- */

/*  A tiny union-find over rows for the naive clusterers. */
static uint32_t
s_find(uint32_t *up, uint32_t x)
{
    while (up[x] != x) {
        up[x] = up[up[x]];
        x = up[x];
    }
    return x;
}

static void
s_union(uint32_t *up, uint32_t a, uint32_t b)
{
    a = s_find(up, a);
    b = s_find(up, b);
    if (a != b) {
        up[a > b ? a : b] = a < b ? a : b;
    }
}

/*  A naive pair rule: true when rows a and b belong together. */
typedef bool (*s_pair_fn)(const obs_t *a, const obs_t *b, void *ctx);

/*  Groups rows by the connected components of a pair rule; labels are component roots. */
static uint32_t *
s_naive(const s_rows_t *rows, s_pair_fn fn, void *ctx)
{
    uint32_t *up = xcalloc(rows->n + 1, sizeof *up);
    for (size_t i = 0; i < rows->n; i++) {
        up[i] = (uint32_t)i;
    }
    for (size_t i = 0; i < rows->n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (fn(rows->items[i], rows->items[j], ctx)) {
                s_union(up, (uint32_t)i, (uint32_t)j);
            }
        }
    }
    for (size_t i = 0; i < rows->n; i++) {
        up[i] = s_find(up, (uint32_t)i);
    }
    return up;
}

/*  Credential Jaccard >= 0.5 (the F1 trap). */
static bool
s_pair_creds(const obs_t *a, const obs_t *b, void *ctx)
{
    strtab_t *strings = ctx;
    ident_feat_t fa;
    ident_feat_t fb;
    ident_feat_build(&fa, a, strings);
    ident_feat_build(&fb, b, strings);
    bool join = fa.n_creds > 0 && fb.n_creds > 0 &&
                ident_jaccard_u32(fa.creds, fa.n_creds, fb.creds, fb.n_creds) >= 0.5;
    ident_feat_clear(&fa);
    ident_feat_clear(&fb);
    return join;
}

/*  Same ASN (the F2 trap); rows without one stay alone. */
static bool
s_pair_asn(const obs_t *a, const obs_t *b, void *ctx)
{
    (void)ctx;
    return a->has_asn && b->has_asn && a->asn == b->asn;
}

/*  First start and last end of a row's sessions. */
static void
s_span(const obs_t *o, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < o->n_sessions; s++) {
        double st = o->sessions[s].start;
        double en = st + o->sessions[s].duration;
        *lo = st < *lo ? st : *lo;
        *hi = en > *hi ? en : *hi;
    }
}

/*  Activity ranges at most one day apart (the F4 trap). */
static bool
s_pair_window(const obs_t *a, const obs_t *b, void *ctx)
{
    (void)ctx;
    double alo, ahi, blo, bhi;
    s_span(a, &alo, &ahi);
    s_span(b, &blo, &bhi);
    double gap = alo > bhi ? alo - bhi : (blo > ahi ? blo - ahi : 0.0);
    return gap <= DAY;
}

/*  Shared JA3 or HASSH (both null: alone); passes F2 and F4, splits F5. */
static bool
s_pair_fingerprint(const obs_t *a, const obs_t *b, void *ctx)
{
    (void)ctx;
    return s_streq(a->ja3, b->ja3) || s_streq(a->hassh, b->hassh);
}

/*  Mean of a row's session midpoints. */
static double
s_midpoint(const obs_t *o)
{
    double sum = 0.0;
    for (size_t s = 0; s < o->n_sessions; s++) {
        sum += o->sessions[s].start + o->sessions[s].duration / 2.0;
    }
    return o->n_sessions ? sum / (double)o->n_sessions : 0.0;
}

static bool
s_share_c2(const obs_t *a, const obs_t *b)
{
    for (size_t i = 0; i < a->n_sessions; i++) {
        for (size_t j = 0; j < b->n_sessions; j++) {
            if (s_streq(a->sessions[i].c2, b->sessions[j].c2)) {
                return true;
            }
        }
    }
    return false;
}

/*  Recency decay: exp(-gap_days / 14) on fingerprint-or-C2 edges, threshold 0.5 (F7). */
static bool
s_pair_decay(const obs_t *a, const obs_t *b, void *ctx)
{
    (void)ctx;
    if (!s_pair_fingerprint(a, b, NULL) && !s_share_c2(a, b)) {
        return false;
    }
    double gap = fabs(s_midpoint(a) - s_midpoint(b)) / DAY;
    return exp(-gap / 14.0) >= 0.5;
}

/*  Shift bucket of a row by majority start hour: night 22-05, day 06-13, swing 14-21. */
static int
s_shift_bucket(const obs_t *o)
{
    size_t votes[3] = {0, 0, 0};
    for (size_t s = 0; s < o->n_sessions; s++) {
        time_t t = (time_t)o->sessions[s].start;
        struct tm tm;
        gmtime_r(&t, &tm);
        int h = tm.tm_hour;
        votes[(h >= 22 || h <= 5) ? 0 : (h <= 13 ? 1 : 2)]++;
    }
    int best = 0;
    for (int b = 1; b < 3; b++) {
        best = votes[b] > votes[best] ? b : best;
    }
    return best;
}

static bool
s_pair_shift(const obs_t *a, const obs_t *b, void *ctx)
{
    (void)ctx;
    return s_shift_bucket(a) == s_shift_bucket(b);
}

/*  One adversarial case: a fixture and the naive rule that must fail it. */
typedef struct {
    const char *fixture; /* fixture name */
    const char *rule;    /* what the naive clusterer does */
    s_pair_fn fn;        /* its pair rule */
} s_adversary_t;

static const s_adversary_t s_adversaries[] = {
    {"shared_wordlist", "credential Jaccard >= 0.5", s_pair_creds},
    {"vpn_hopping", "ASN grouping", s_pair_asn},
    {"paused_campaign", "activity within one day", s_pair_window},
    {"slow_burn", "recency decay exp(-days/14) >= 0.5", s_pair_decay},
    {"multi_operator", "shift buckets", s_pair_shift},
    {"multi_operator", "fingerprint grouping", s_pair_fingerprint},
};

/*  The design doc's original floors (R§10): a bad clusterer must breach even these. */
static const s_bounds_t s_floors = {
    .has = {true, true, true, true},
    .min = {0.85, 0.90, 0.80, 0.95},
};

static void
test_adversarial_clusterers_breach(void **state)
{
    (void)state;
    char problems[4096] = "";
    for (size_t a = 0; a < sizeof s_adversaries / sizeof s_adversaries[0]; a++) {
        const s_adversary_t *adv = &s_adversaries[a];
        s_report_t rep = {.len = 0};
        s_expect_t ex;
        s_rows_t rows;
        if (s_fixture_load(adv->fixture, &ex, &rows, &rep) == 0) {
            strtab_t *strings = strtab_new();
            uint32_t *pred = s_naive(&rows, adv->fn, strings);
            metrics_t m = {0};
            bool scored = s_score_labels(&rows, NULL, pred, false, &m) == 0;
            const char *bad = NULL;
            if (!scored) {
                bad = "could not be scored";
            } else if (!s_breaches(&ex.camp, &m)) {
                bad = "meets the fixture's bounds";
            } else if (!s_breaches(&s_floors, &m)) {
                bad = "meets the original floors";
            }
            if (bad) {
                size_t len = strlen(problems);
                snprintf(problems + len, sizeof problems - len,
                         "%s on %s %s (ARI %.6g, hom %.6g, comp %.6g, recall %.6g)\n", adv->rule,
                         adv->fixture, bad, m.adjusted_rand_index, m.homogeneity, m.completeness,
                         m.singleton_recall);
            }
            free(pred);
            strtab_destroy(&strings);
        } else {
            size_t len = strlen(problems);
            /* A truncated report is still a failure report. */
            if (snprintf(problems + len, sizeof problems - len, "%s\n", rep.text) < 0) {
                fail_msg("%s", rep.text);
            }
        }
        s_rows_clear(&rows);
        s_expect_clear(&ex);
    }
    if (problems[0]) {
        fail_msg("%s", problems);
    }
}

/* --- the runner ----------------------------------------------------------------------- */

static int
s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*  The fixture names that have an expected file, sorted; NULL with *n = 0 on error. */
static char **
s_fixture_names(size_t *n)
{
    *n = 0;
    char dir[PATH_MAX];
    if (!s_path(dir, sizeof dir, "")) {
        fprintf(stderr, "test_pipeline: FIXTURES_DIR is not set\n");
        return NULL;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "test_pipeline: %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    size_t cap = 0;
    size_t suffix = strlen(EXPECTED_SUFFIX);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > suffix && strcmp(e->d_name + len - suffix, EXPECTED_SUFFIX) == 0) {
            xgrow(&names, &cap, *n + 1);
            names[(*n)++] = xstrndup(e->d_name, len - suffix);
        }
    }
    closedir(d);
    if (*n > 0) {
        qsort(names, *n, sizeof *names, s_cmp_str);
    }
    return names;
}

int
main(void)
{
    size_t n = 0;
    char **names = s_fixture_names(&n);
    if (n == 0) {
        fprintf(stderr, "test_pipeline: no *%s files found\n", EXPECTED_SUFFIX);
        free(names);
        return 1;
    }
    struct CMUnitTest *fx = xcalloc(2 * n, sizeof *fx);
    char **titles = xcalloc(2 * n, sizeof *titles);
    for (size_t i = 0; i < n; i++) {
        titles[2 * i] = xasprintf("fixture_bounds:%s", names[i]);
        titles[2 * i + 1] = xasprintf("fixture_incremental:%s", names[i]);
        fx[2 * i] = (struct CMUnitTest){
            .name = titles[2 * i], .test_func = test_fixture_bounds, .initial_state = names[i]};
        fx[2 * i + 1] = (struct CMUnitTest){.name = titles[2 * i + 1],
                                            .test_func = test_fixture_incremental,
                                            .initial_state = names[i]};
    }
    int failed = _cmocka_run_group_tests("fixtures", fx, 2 * n, NULL, NULL);

    static const struct CMUnitTest props[] = {
        cmocka_unit_test(test_f3_lone_wolf),
        cmocka_unit_test(test_f1_shared_wordlist),
        cmocka_unit_test(test_f5_multi_operator),
        cmocka_unit_test(test_f7_slow_burn),
        cmocka_unit_test(test_f2_vpn_hopping),
        cmocka_unit_test(test_f4_paused_campaign),
        cmocka_unit_test(test_f6_noise_floor),
        cmocka_unit_test(test_adversarial_clusterers_breach),
    };
    failed += cmocka_run_group_tests_name("properties", props, NULL, NULL);

    for (size_t i = 0; i < 2 * n; i++) {
        free(titles[i]);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(titles);
    free(fx);
    free(names);
    return failed;
}
