/*  test_fixtures.c - the campaign fixtures in fixtures/campaigns/ and the generator shapes
    they rely on (R§11 "Generator" and "Shapes", SPEC §10).

    Every corpus here comes from the real DSL loader (dsl_load_file, dsl_load_buffer) and the
    real generator (gen_run); a sink keeps a deep copy of each record. The tests check:
    - the seven DECNET scenarios reproduce the reference vectors byte for byte and have the
      shapes R§11 lists;
    - the generator properties of R§11 on small inline specs;
    - for each cadre scenario, the conditions its header comment relies on, at seeds 0..49
      (pinned deckies, time containment, handoff gaps, which keys are shared and which not);
    - every expected file is well formed and its corpus counts match the generated corpus.

    Environment: FIXTURES_DIR (the project's fixtures/) and SHARED_DIR (../shared).
*/
#include "dsl.h"
#include "err.h"
#include "gen.h"
#include "jsonio.h"
#include "obs.h"
#include "ukc.h"
#include "xalloc.h"
#include "ydoc.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <cmocka.h>

#define SEEDS 50          /* the cadre scenarios are checked at seeds 0..SEEDS-1 */
#define DAY 86400.0       /* seconds per day */
#define HANDOFF_W 86400.0 /* the campaign layer's handoff window (SPEC §4) */

/*  Every generated record of one run, deep-copied, in output order. */
typedef struct {
    obs_t **items; /* owned records */
    size_t n;      /* number of records */
    size_t cap;    /* slots allocated in items */
} rows_t;

/*  A time span [lo, hi] in epoch seconds. */
typedef struct {
    double lo; /* earliest start */
    double hi; /* latest end */
} span_t;

/*  The eight pairs both shared_wordlist campaigns replay, in order. */
static const char *const s_wordlist[8][2] = {
    {"admin", "admin"}, {"admin", "password"}, {"admin", "12345"}, {"root", "root"},
    {"root", "toor"},   {"root", "123456"},    {"user", "user"},   {"test", "test"},
};

/*  The scenario files, without extension. */
static const char *const s_decnet_names[] = {
    "shared_wordlist", "vpn_hopping", "lone_wolf", "paused_campaign",
    "multi_operator",  "noise_floor", "slow_burn",
};
static const char *const s_cadre_names[] = {
    "handoff_only", "keystroke_overlap", "generic_revocation", "delete_split", "asymmetric_overlap",
};

/* --- collecting generated corpora -------------------------------------------------------- */

static int
s_collect(const obs_t *obs, void *arg)
{
    rows_t *rows = arg;
    xgrow(&rows->items, &rows->cap, rows->n + 1);
    rows->items[rows->n++] = obs_dup(obs);
    return 0;
}

static void
s_rows_clear(rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        obs_destroy(&rows->items[i]);
    }
    free(rows->items);
    memset(rows, 0, sizeof(*rows));
}

/*  "<env>/<rel>" into buf; fails the test when the variable is not set. */
static void
s_env_path(char *buf, size_t size, const char *env, const char *rel)
{
    const char *dir = getenv(env);
    if (dir == NULL || *dir == '\0') {
        fail_msg("environment variable %s is not set", env);
    }
    int n = snprintf(buf, size, "%s/%s", dir, rel);
    assert_true(n > 0 && (size_t)n < size);
}

/*  Loads fixtures/campaigns/<name>.yaml; fails the test on any load error. The caller
    destroys the corpus. */
static dsl_corpus_t *
s_load(const char *name)
{
    char rel[256];
    char path[PATH_MAX];
    snprintf(rel, sizeof(rel), "campaigns/%s.yaml", name);
    s_env_path(path, sizeof(path), "FIXTURES_DIR", rel);
    dsl_corpus_t *corpus = NULL;
    char err[512] = "";
    int rc = dsl_load_file(path, &corpus, err, sizeof(err));
    if (rc != 0) {
        fail_msg("loading %s: %s (%s)", path, err, cadre_strerror(rc));
    }
    assert_non_null(corpus);
    return corpus;
}

/*  Generates a loaded corpus with seed into rows. */
static void
s_run(const dsl_corpus_t *corpus, int64_t seed, rows_t *rows)
{
    memset(rows, 0, sizeof(*rows));
    int rc = gen_run(corpus, seed, s_collect, rows);
    if (rc != 0) {
        fail_msg("gen_run(seed %lld): %s", (long long)seed, cadre_strerror(rc));
    }
}

/*  Loads and generates fixtures/campaigns/<name>.yaml with seed. */
static void
s_gen(const char *name, int64_t seed, rows_t *rows)
{
    dsl_corpus_t *corpus = s_load(name);
    s_run(corpus, seed, rows);
    dsl_corpus_destroy(&corpus);
}

/*  Loads an inline spec (must succeed) and generates it with seed. The caller destroys the
    returned corpus (kept for its warnings). */
static dsl_corpus_t *
s_gen_text(const char *yaml, int64_t seed, rows_t *rows)
{
    dsl_corpus_t *corpus = NULL;
    char err[512] = "";
    int rc = dsl_load_buffer(yaml, strlen(yaml), "inline.yaml", NULL, &corpus, err, sizeof(err));
    if (rc != 0) {
        fail_msg("loading inline spec: %s (%s)", err, cadre_strerror(rc));
    }
    s_run(corpus, seed, rows);
    return corpus;
}

/* --- small queries over a generated corpus ----------------------------------------------- */

static bool
s_streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*  Number of distinct non-NULL strings among n (NULLs are not counted). */
static size_t
s_distinct(const char *const *v, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == NULL) {
            continue;
        }
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            seen = s_streq(v[i], v[j]);
        }
        count += seen ? 0 : 1;
    }
    return count;
}

/*  Number of distinct truth campaign labels among the rows. */
static size_t
s_truth_campaigns(const rows_t *rows)
{
    const char **v = xcalloc(rows->n + 1, sizeof(*v));
    for (size_t i = 0; i < rows->n; i++) {
        v[i] = rows->items[i]->truth_campaign;
    }
    size_t count = s_distinct(v, rows->n);
    free(v);
    return count;
}

static size_t
s_sessions(const rows_t *rows)
{
    size_t n = 0;
    for (size_t i = 0; i < rows->n; i++) {
        n += rows->items[i]->n_sessions;
    }
    return n;
}

/*  The k-th row (0-based, output order) of the DSL actor `actor`, or NULL. */
static const obs_t *
s_row(const rows_t *rows, const char *actor, size_t k)
{
    for (size_t i = 0; i < rows->n; i++) {
        if (s_streq(rows->items[i]->truth_actor, actor) && k-- == 0) {
            return rows->items[i];
        }
    }
    return NULL;
}

/*  The single row of a sticky actor; fails the test when there is not exactly one. */
static const obs_t *
s_only_row(const rows_t *rows, const char *actor)
{
    const obs_t *row = s_row(rows, actor, 0);
    if (row == NULL || s_row(rows, actor, 1) != NULL) {
        fail_msg("actor %s: expected exactly one row", actor);
    }
    return row;
}

static size_t
s_rows_of(const rows_t *rows, const char *actor)
{
    size_t n = 0;
    while (s_row(rows, actor, n) != NULL) {
        n++;
    }
    return n;
}

/*  Earliest start and latest end over every session of every row of actor. */
static span_t
s_actor_span(const rows_t *rows, const char *actor)
{
    span_t span = {.lo = 1e300, .hi = -1e300};
    const obs_t *row;
    for (size_t k = 0; (row = s_row(rows, actor, k)) != NULL; k++) {
        for (size_t i = 0; i < row->n_sessions; i++) {
            const obs_session_t *s = &row->sessions[i];
            span.lo = s->start < span.lo ? s->start : span.lo;
            span.hi = s->start + s->duration > span.hi ? s->start + s->duration : span.hi;
        }
    }
    assert_true(span.lo <= span.hi);
    return span;
}

/*  Checks that every session of every row of actor is on decky. */
static void
s_assert_all_on(const rows_t *rows, const char *actor, const char *decky)
{
    const obs_t *row;
    for (size_t k = 0; (row = s_row(rows, actor, k)) != NULL; k++) {
        for (size_t i = 0; i < row->n_sessions; i++) {
            if (!s_streq(row->sessions[i].decky, decky)) {
                fail_msg("actor %s: session on %s, expected %s", actor, row->sessions[i].decky,
                         decky);
            }
        }
    }
}

/*  Checks that no session of actor uses a handoff phase (so P = 0 for its identity). */
static void
s_assert_no_handoff_phase(const rows_t *rows, const char *actor)
{
    const obs_t *row;
    for (size_t k = 0; (row = s_row(rows, actor, k)) != NULL; k++) {
        for (size_t i = 0; i < row->n_sessions; i++) {
            ukc_phase_t p = row->sessions[i].phase;
            assert_false(ukc_handoff_out(p));
            assert_false(ukc_handoff_in(p));
        }
    }
}

/*  Number of sessions across all rows that carry a payload or a C2 value. */
static size_t
s_infra_sessions(const rows_t *rows)
{
    size_t n = 0;
    for (size_t i = 0; i < rows->n; i++) {
        for (size_t j = 0; j < rows->items[i]->n_sessions; j++) {
            const obs_session_t *s = &rows->items[i]->sessions[j];
            n += (s->payload_hash != NULL || s->c2 != NULL) ? 1 : 0;
        }
    }
    return n;
}

/*  Checks that rows of different actors never share a JA3 or a HASSH value, and that every
    row has both (so any two actors' fingerprints are comparable and different). */
static void
s_assert_fingerprints_distinct(const rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        const obs_t *a = rows->items[i];
        assert_non_null(a->ja3);
        assert_non_null(a->hassh);
        for (size_t j = 0; j < i; j++) {
            const obs_t *b = rows->items[j];
            if (s_streq(a->truth_actor, b->truth_actor)) {
                continue;
            }
            assert_false(s_streq(a->ja3, b->ja3));
            assert_false(s_streq(a->hassh, b->hassh));
        }
    }
}

static struct tm
s_utc(double t)
{
    time_t secs = (time_t)t;
    struct tm tm;
    assert_non_null(gmtime_r(&secs, &tm));
    return tm;
}

/*  Every window of a's sessions lies inside every window of b's sessions. */
static bool
s_contained(const obs_t *a, const obs_t *b)
{
    for (size_t i = 0; i < a->n_sessions; i++) {
        const obs_session_t *x = &a->sessions[i];
        for (size_t j = 0; j < b->n_sessions; j++) {
            const obs_session_t *y = &b->sessions[j];
            if (x->start < y->start || x->start + x->duration > y->start + y->duration) {
                return false;
            }
        }
    }
    return true;
}

/*  The session of row that ends the time-ordered session list (latest start, the later one
    in list order on ties): the "last" session of SPEC §4 fix 2. */
static const obs_session_t *
s_last_session(const obs_t *row)
{
    const obs_session_t *last = NULL;
    for (size_t i = 0; i < row->n_sessions; i++) {
        if (last == NULL || row->sessions[i].start >= last->start) {
            last = &row->sessions[i];
        }
    }
    assert_non_null(last);
    return last;
}

/*  The earliest-starting session of row (the earlier one in list order on ties). */
static const obs_session_t *
s_first_session(const obs_t *row)
{
    const obs_session_t *first = NULL;
    for (size_t i = 0; i < row->n_sessions; i++) {
        if (first == NULL || row->sessions[i].start < first->start) {
            first = &row->sessions[i];
        }
    }
    assert_non_null(first);
    return first;
}

/* --- reference vectors ------------------------------------------------------------------- */

/*  Generates fixtures/campaigns/<name>.yaml with seed and compares it, line by line, with
    SHARED_DIR/testvectors/generator/<name>.seed<seed>.jsonl. */
static void
s_assert_vector(const char *name, int64_t seed)
{
    char rel[256];
    char path[PATH_MAX];
    snprintf(rel, sizeof(rel), "testvectors/generator/%s.seed%lld.jsonl", name, (long long)seed);
    s_env_path(path, sizeof(path), "SHARED_DIR", rel);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    rows_t rows;
    s_gen(name, seed, &rows);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    size_t k = 0;
    while ((got = getline(&line, &line_cap, f)) > 0) {
        if (line[got - 1] == '\n') {
            line[--got] = '\0';
        }
        if (k >= rows.n) {
            fail_msg("%s seed %lld: vector has more than %zu records", name, (long long)seed,
                     rows.n);
        }
        char *text = NULL;
        size_t len = 0;
        obs_error_t err;
        assert_int_equal(jsonio_obs_encode(rows.items[k], &text, &len, &err), 0);
        if (len != (size_t)got || memcmp(text, line, len) != 0) {
            fail_msg("%s seed %lld: record %zu differs\n got: %s\nwant: %s", name, (long long)seed,
                     k + 1, text, line);
        }
        free(text);
        k++;
    }
    free(line);
    fclose(f);
    assert_int_equal(k, rows.n);
    s_rows_clear(&rows);
}

static void
test_vectors_seed0(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_decnet_names) / sizeof(s_decnet_names[0]); i++) {
        s_assert_vector(s_decnet_names[i], 0);
    }
    s_assert_vector("noise_floor", 7);
}

/* --- R§11 shapes of the DECNET scenarios -------------------------------------------------- */

static void
test_shape_lone_wolf(void **state)
{
    (void)state;
    rows_t rows;
    s_gen("lone_wolf", 0, &rows);
    assert_int_equal(rows.n, 9);
    assert_int_equal(s_sessions(&rows), 9);
    assert_int_equal(s_truth_campaigns(&rows), 9);
    const obs_t *wolf = s_only_row(&rows, "wolf-a");
    assert_null(wolf->ja3);
    assert_null(wolf->hassh);
    assert_int_equal(wolf->n_sessions, 1);
    assert_int_equal(wolf->sessions[0].phase, UKC_DELIVERY);
    s_rows_clear(&rows);
}

static void
test_shape_shared_wordlist(void **state)
{
    (void)state;
    rows_t rows;
    s_gen("shared_wordlist", 0, &rows);
    assert_int_equal(rows.n, 2);
    assert_int_equal(s_sessions(&rows), 8);
    assert_int_equal(s_truth_campaigns(&rows), 2);
    const char *actors[2] = {"actor-A", "actor-B"};
    const int64_t asns[2] = {14061, 7922};
    for (size_t a = 0; a < 2; a++) {
        const obs_t *row = s_only_row(&rows, actors[a]);
        assert_true(row->has_asn);
        assert_int_equal(row->asn, asns[a]);
        size_t cred_sessions = 0;
        for (size_t i = 0; i < row->n_sessions; i++) {
            const obs_session_t *s = &row->sessions[i];
            if (s->phase != UKC_CREDENTIAL_ACCESS) {
                assert_int_equal(s->n_creds, 0);
                continue;
            }
            cred_sessions++;
            assert_int_equal(s->n_commands, 0);
            assert_int_equal(s->n_creds, 8);
            for (size_t c = 0; c < 8; c++) {
                assert_string_equal(s->creds[c].user, s_wordlist[c][0]);
                assert_string_equal(s->creds[c].pass, s_wordlist[c][1]);
            }
        }
        assert_int_equal(cred_sessions, 3);
    }
    s_assert_fingerprints_distinct(&rows);
    s_rows_clear(&rows);
}

static void
test_shape_vpn_hopping(void **state)
{
    (void)state;
    rows_t rows;
    s_gen("vpn_hopping", 0, &rows);
    assert_int_equal(rows.n, 5);
    assert_int_equal(s_sessions(&rows), 15);
    const char *ips[5];
    const obs_t *first = rows.items[0];
    assert_non_null(first->ja3);
    assert_non_null(first->hassh);
    assert_non_null(first->truth_identity);
    for (size_t r = 0; r < 5; r++) {
        const obs_t *row = rows.items[r];
        assert_true(row->has_asn);
        assert_int_equal(row->asn, 64512 + (int64_t)r);
        assert_string_equal(row->ja3, first->ja3);
        assert_string_equal(row->hassh, first->hassh);
        assert_string_equal(row->truth_identity, first->truth_identity);
        assert_string_equal(row->truth_actor, "hopper-a");
        assert_string_equal(row->truth_campaign, "vpn-hopping-001");
        ips[r] = row->ip;
        for (size_t i = 0; i < row->n_sessions; i++) {
            if (row->sessions[i].phase == UKC_EXPLOITATION) {
                assert_non_null(row->sessions[i].payload_hash);
            }
        }
    }
    assert_int_equal(s_distinct(ips, 5), 5);
    s_rows_clear(&rows);
}

static void
test_shape_paused_campaign(void **state)
{
    (void)state;
    /* The sprints' hours (9..16) keep even the widest jitter inside the drawn day. */
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("paused_campaign", seed, &rows);
        assert_int_equal(rows.n, 2);
        assert_int_equal(s_sessions(&rows), 10);
        assert_int_equal(s_truth_campaigns(&rows), 1);
        for (size_t r = 0; r < rows.n; r++) {
            const obs_t *row = rows.items[r];
            bool sprint1 = s_streq(row->truth_actor, "ops-sprint-1");
            for (size_t i = 0; i < row->n_sessions; i++) {
                struct tm tm = s_utc(row->sessions[i].start);
                assert_int_equal(tm.tm_year, 126);
                assert_int_equal(tm.tm_mon, 0);
                assert_false(tm.tm_mday >= 3 && tm.tm_mday <= 5);
                if (sprint1) {
                    assert_true(tm.tm_mday == 1 || tm.tm_mday == 2);
                } else {
                    assert_true(tm.tm_mday == 6 || tm.tm_mday == 7);
                }
            }
        }
        s_rows_clear(&rows);
    }
}

/*  True when start lies where the generator can put a session of an actor with these hours
    and jitter on one of days 0..n_days-1: from hour*3600 - jitter to hour*3600 + jitter +
    3600 after the start of the day (R§12.17). */
static bool
s_start_fits(double start, const int64_t *hours, size_t n_hours, int64_t jitter, int64_t n_days)
{
    for (int64_t d = 0; d < n_days; d++) {
        for (size_t h = 0; h < n_hours; h++) {
            double base = GEN_T0 + (double)d * DAY + (double)hours[h] * 3600.0;
            if (start >= base - (double)jitter && start <= base + (double)jitter + 3600.0) {
                return true;
            }
        }
    }
    return false;
}

static void
test_shape_multi_operator(void **state)
{
    (void)state;
    static const int64_t night[] = {22, 23, 0, 1, 2, 3};
    static const int64_t day[] = {9, 10, 11, 12, 13};
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("multi_operator", seed, &rows);
        assert_int_equal(rows.n, 2);
        assert_int_equal(s_sessions(&rows), 14);
        const obs_t *broker = s_only_row(&rows, "ops-broker-night");
        const obs_t *postex = s_only_row(&rows, "ops-postex-day");
        const char *payload[2] = {NULL, NULL};
        for (size_t r = 0; r < 2; r++) {
            const obs_t *row = r == 0 ? broker : postex;
            const int64_t *hours = r == 0 ? night : day;
            size_t n_hours = r == 0 ? 6 : 5;
            for (size_t i = 0; i < row->n_sessions; i++) {
                const obs_session_t *s = &row->sessions[i];
                assert_true(s_streq(s->c2, "c2.shared-op.example"));
                if (s->payload_hash != NULL) {
                    payload[r] = s->payload_hash;
                }
                /* Every seed: within the generator's documented spill around the hours. */
                assert_true(s_start_fits(s->start, hours, n_hours, 60, 3));
                /* Seed 0, as DECNET asserted: the start hour itself is one of the hours. */
                if (seed == 0) {
                    int64_t hour = s_utc(s->start).tm_hour;
                    bool listed = false;
                    for (size_t h = 0; h < n_hours; h++) {
                        listed = listed || hours[h] == hour;
                    }
                    assert_true(listed);
                }
            }
        }
        assert_non_null(payload[0]);
        assert_true(s_streq(payload[0], payload[1]));
        s_rows_clear(&rows);
    }
}

static void
test_shape_slow_burn(void **state)
{
    (void)state;
    /* Active days 7-11, 35-39 and 75-79 are days of year 8-12, 36-40 and 76-80. */
    static const char *const actors[] = {"ops-recon", "ops-exploit", "ops-action"};
    static const int first_yday[] = {8, 36, 76};
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("slow_burn", seed, &rows);
        assert_int_equal(rows.n, 3);
        assert_int_equal(s_sessions(&rows), 18);
        for (size_t a = 0; a < 3; a++) {
            const obs_t *row = s_only_row(&rows, actors[a]);
            for (size_t i = 0; i < row->n_sessions; i++) {
                int yday = s_utc(row->sessions[i].start).tm_yday + 1;
                assert_in_range(yday, first_yday[a], first_yday[a] + 4);
            }
        }
        s_rows_clear(&rows);
    }
}

static void
test_shape_noise_floor(void **state)
{
    (void)state;
    rows_t rows;
    s_gen("noise_floor", 0, &rows);
    assert_int_equal(rows.n, 30);
    assert_int_equal(s_sessions(&rows), 66);
    const char *real[30];
    size_t n_real = 0;
    size_t n_noise = 0;
    for (size_t i = 0; i < rows.n; i++) {
        const obs_t *row = rows.items[i];
        if (strncmp(row->truth_campaign, "noise-scanner-", 14) == 0) {
            n_noise++;
            assert_string_equal(row->truth_identity, row->truth_campaign);
            assert_string_equal(row->truth_actor, row->truth_campaign);
        } else {
            real[n_real++] = row->truth_campaign;
        }
    }
    assert_int_equal(n_noise, 18);
    assert_int_equal(n_real, 12);
    assert_int_equal(s_distinct(real, n_real), 6);
    assert_int_equal(s_truth_campaigns(&rows), 24);
    size_t singletons = 0;
    for (size_t i = 0; i < rows.n; i++) {
        size_t same = 0;
        for (size_t j = 0; j < rows.n; j++) {
            same += s_streq(rows.items[i]->truth_campaign, rows.items[j]->truth_campaign);
        }
        singletons += same == 1 ? 1 : 0;
    }
    assert_int_equal(singletons, 21);
    s_rows_clear(&rows);
}

/* --- R§11 generator properties on inline specs ------------------------------------------- */

static void
test_gen_deterministic(void **state)
{
    (void)state;
    static const char *const names[] = {"lone_wolf", "noise_floor"};
    for (size_t k = 0; k < 2; k++) {
        rows_t a;
        rows_t b;
        s_gen(names[k], 7, &a);
        s_gen(names[k], 7, &b);
        assert_int_equal(a.n, b.n);
        for (size_t i = 0; i < a.n; i++) {
            assert_true(obs_equal(a.items[i], b.items[i]));
        }
        s_rows_clear(&a);
        s_rows_clear(&b);
    }
}

static void
test_gen_seeds_differ(void **state)
{
    (void)state;
    rows_t a;
    rows_t b;
    s_gen("lone_wolf", 0, &a);
    s_gen("lone_wolf", 1, &b);
    assert_true(a.n > 0 && b.n > 0);
    assert_string_not_equal(a.items[0]->id, b.items[0]->id);
    s_rows_clear(&a);
    s_rows_clear(&b);
}

static void
test_gen_campaign_plus_noise(void **state)
{
    (void)state;
    static const char spec[] = "corpus:\n"
                               "  campaigns:\n"
                               "    - campaign:\n"
                               "        id: c1\n"
                               "        actors: [{id: a1}]\n"
                               "        phases: [{name: delivery}]\n"
                               "  noise: {scanner_count: 5}\n";
    rows_t rows;
    dsl_corpus_t *corpus = s_gen_text(spec, 0, &rows);
    assert_int_equal(rows.n, 6);
    assert_int_equal(s_truth_campaigns(&rows), 6);
    assert_string_equal(rows.items[0]->truth_campaign, "c1");
    for (size_t i = 1; i < rows.n; i++) {
        char label[48];
        snprintf(label, sizeof(label), "noise-scanner-%04zu", i - 1);
        assert_string_equal(rows.items[i]->truth_campaign, label);
        assert_int_equal(rows.items[i]->n_sessions, 1);
        assert_int_equal(rows.items[i]->sessions[0].phase, UKC_DELIVERY);
    }
    s_rows_clear(&rows);
    dsl_corpus_destroy(&corpus);
}

static void
test_gen_multi_actor_campaign(void **state)
{
    (void)state;
    static const char spec[] = "campaign:\n"
                               "  id: shared-c\n"
                               "  actors: [{id: x}, {id: y}]\n"
                               "  phases:\n"
                               "    - {name: delivery, actor: x}\n"
                               "    - {name: discovery, actor: y}\n";
    rows_t rows;
    dsl_corpus_t *corpus = s_gen_text(spec, 0, &rows);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.items[0]->truth_campaign, "shared-c");
    assert_string_equal(rows.items[1]->truth_campaign, "shared-c");
    assert_string_equal(rows.items[0]->truth_actor, "x");
    assert_string_equal(rows.items[1]->truth_actor, "y");
    assert_string_not_equal(rows.items[0]->truth_identity, rows.items[1]->truth_identity);
    s_rows_clear(&rows);
    dsl_corpus_destroy(&corpus);
}

static void
test_gen_rotation(void **state)
{
    (void)state;
    static const char spec[] = "campaign:\n"
                               "  id: rot\n"
                               "  actors:\n"
                               "    - id: r\n"
                               "      ip_pool: rotating\n"
                               "      rotation_count: 5\n"
                               "      rotation_asns: [100, 200]\n"
                               "      ja3: j\n"
                               "      hassh: h\n"
                               "  phases:\n"
                               "    - name: discovery\n"
                               "      target_selector: {count: 9}\n";
    rows_t rows;
    dsl_corpus_t *corpus = s_gen_text(spec, 0, &rows);
    assert_int_equal(rows.n, 5);
    static const int64_t asns[5] = {100, 200, 100, 200, 100};
    static const size_t per_row[5] = {2, 2, 2, 2, 1};
    const char *ips[5];
    for (size_t r = 0; r < 5; r++) {
        const obs_t *row = rows.items[r];
        assert_string_equal(row->truth_identity, rows.items[0]->truth_identity);
        assert_int_equal(strncmp(row->truth_identity, "id-", 3), 0);
        assert_string_equal(row->truth_actor, "r");
        assert_string_equal(row->truth_campaign, "rot");
        assert_string_equal(row->ja3, "j");
        assert_string_equal(row->hassh, "h");
        assert_true(row->has_asn);
        assert_int_equal(row->asn, asns[r]);
        assert_int_equal(row->n_sessions, per_row[r]);
        ips[r] = row->ip;
    }
    assert_int_equal(s_distinct(ips, 5), 5);
    s_rows_clear(&rows);
    dsl_corpus_destroy(&corpus);
}

static void
test_gen_sessions_round_robin(void **state)
{
    (void)state;
    static const char spec[] = "campaign:\n"
                               "  id: rr\n"
                               "  actors: [{id: r, ip_pool: rotating, rotation_count: 3}]\n"
                               "  phases: [{name: execution, target_selector: {count: 9}}]\n";
    rows_t rows;
    dsl_corpus_t *corpus = s_gen_text(spec, 3, &rows);
    assert_int_equal(rows.n, 3);
    for (size_t r = 0; r < 3; r++) {
        assert_int_equal(rows.items[r]->n_sessions, 3);
        /* The sessions of a row are that row's: its identity label is the actor's. */
        assert_string_equal(rows.items[r]->truth_identity, rows.items[0]->truth_identity);
    }
    s_rows_clear(&rows);
    dsl_corpus_destroy(&corpus);
}

static void
test_gen_sticky_default(void **state)
{
    (void)state;
    static const char spec[] = "campaign:\n"
                               "  id: st\n"
                               "  actors: [{id: s1}, {id: s2, ip_pool: tor, rotation_count: 4}]\n"
                               "  phases:\n"
                               "    - {name: delivery, actor: s1, target_selector: {count: 3}}\n"
                               "    - {name: delivery, actor: s2, target_selector: {count: 2}}\n";
    rows_t rows;
    dsl_corpus_t *corpus = s_gen_text(spec, 0, &rows);
    assert_int_equal(rows.n, 2);
    assert_int_equal(s_rows_of(&rows, "s1"), 1);
    assert_int_equal(s_rows_of(&rows, "s2"), 1);
    const obs_t *s1 = s_only_row(&rows, "s1");
    assert_int_equal(s1->n_sessions, 3);
    assert_int_equal(strncmp(s1->truth_identity, "id-", 3), 0);
    assert_true(s1->has_asn);
    assert_int_equal(s1->asn, 0);
    for (size_t i = 0; i < s1->n_sessions; i++) {
        assert_true(s1->sessions[i].duration == 5.0);
    }
    s_rows_clear(&rows);
    dsl_corpus_destroy(&corpus);
}

static void
test_gen_unobservable_phase(void **state)
{
    (void)state;
    static const char spec[] = "campaign:\n"
                               "  id: u\n"
                               "  actors: [{id: a}]\n"
                               "  phases:\n"
                               "    - {name: reconnaissance, target_selector: {count: 4}}\n"
                               "    - {name: delivery}\n";
    rows_t rows;
    dsl_corpus_t *corpus = s_gen_text(spec, 0, &rows);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.items[0]->n_sessions, 1);
    assert_int_equal(rows.items[0]->sessions[0].phase, UKC_DELIVERY);
    assert_int_equal(corpus->n_warnings, 1);
    assert_non_null(strstr(corpus->warnings[0], "reconnaissance"));
    s_rows_clear(&rows);
    dsl_corpus_destroy(&corpus);
}

/*  Loading spec must fail with CADRE_EDSL, a "inline.yaml:" mark and needle in the text. */
static void
s_assert_load_error(const char *spec, const char *needle)
{
    dsl_corpus_t *corpus = NULL;
    char err[512] = "";
    int rc = dsl_load_buffer(spec, strlen(spec), "inline.yaml", NULL, &corpus, err, sizeof(err));
    assert_int_equal(rc, CADRE_EDSL);
    assert_null(corpus);
    if (strncmp(err, "inline.yaml:", 12) != 0 || strstr(err, needle) == NULL) {
        fail_msg("error '%s' lacks the mark or '%s'", err, needle);
    }
}

static void
test_gen_validation_errors(void **state)
{
    (void)state;
    s_assert_load_error("campaign:\n"
                        "  id: v\n"
                        "  actors: [{id: a}]\n"
                        "  phases: [{name: delivery}, {name: bogus_phase}]\n",
                        "unknown UKC phase 'bogus_phase'");
    s_assert_load_error("campaign:\n"
                        "  id: v\n"
                        "  actors: [{id: a}]\n"
                        "  phases: [{name: delivery, actor: ghost}]\n",
                        "unknown actor 'ghost'");
}

/* --- the cadre scenarios: designed invariants at seeds 0..SEEDS-1 ------------------------ */

static void
test_handoff_only(void **state)
{
    (void)state;
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("handoff_only", seed, &rows);
        assert_int_equal(rows.n, 4);
        assert_int_equal(s_sessions(&rows), 9);
        assert_int_equal(s_truth_campaigns(&rows), 3);
        s_assert_fingerprints_distinct(&rows);
        const obs_t *a = s_only_row(&rows, "broker-a");
        const obs_t *b = s_only_row(&rows, "operator-b");
        const obs_t *late = s_only_row(&rows, "late-decoy");
        const obs_t *early = s_only_row(&rows, "early-decoy");
        static const char *const actors[] = {"broker-a", "operator-b", "late-decoy", "early-decoy"};
        for (size_t k = 0; k < 4; k++) {
            s_assert_all_on(&rows, actors[k], "decky-01");
        }
        /* Only the broker carries infrastructure (its own C2): I = 0 for every pair. */
        for (size_t i = 0; i < rows.n; i++) {
            for (size_t j = 0; j < rows.items[i]->n_sessions; j++) {
                const obs_session_t *s = &rows.items[i]->sessions[j];
                assert_null(s->payload_hash);
                assert_true(s->c2 == NULL || rows.items[i] == a);
            }
            assert_false(rows.items[i]->has_kd);
        }
        /* The broker only has OUT phases, the others only IN phases. */
        for (size_t i = 0; i < a->n_sessions; i++) {
            assert_true(ukc_handoff_out(a->sessions[i].phase));
        }
        const obs_t *ins[3] = {b, late, early};
        for (size_t k = 0; k < 3; k++) {
            for (size_t i = 0; i < ins[k]->n_sessions; i++) {
                assert_true(ukc_handoff_in(ins[k]->sessions[i].phase));
            }
        }
        /* The handoff pair: 0 <= first IN start - last OUT end <= W, in time order. */
        const obs_session_t *out = s_last_session(a);
        double out_end = out->start + out->duration;
        double gap = s_first_session(b)->start - out_end;
        assert_true(gap >= 0.0 && gap <= HANDOFF_W);
        /* Disjoint activity everywhere, so T = 0 for every pair. */
        span_t sa = s_actor_span(&rows, "broker-a");
        span_t sb = s_actor_span(&rows, "operator-b");
        span_t sl = s_actor_span(&rows, "late-decoy");
        span_t se = s_actor_span(&rows, "early-decoy");
        assert_true(se.hi < sa.lo && sa.hi < sb.lo && sb.hi < sl.lo);
        /* The decoys miss the window: one too late, one before the foothold. */
        assert_true(s_first_session(late)->start - out_end > HANDOFF_W);
        assert_true(s_first_session(early)->start - out_end < 0.0);
        s_rows_clear(&rows);
    }
}

static int
s_popcount64(uint64_t v)
{
    int n = 0;
    for (; v != 0; v &= v - 1) {
        n++;
    }
    return n;
}

static void
test_keystroke_overlap(void **state)
{
    (void)state;
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("keystroke_overlap", seed, &rows);
        assert_int_equal(rows.n, 5);
        assert_int_equal(s_sessions(&rows), 7);
        assert_int_equal(s_truth_campaigns(&rows), 4);
        s_assert_fingerprints_distinct(&rows);
        assert_int_equal(s_infra_sessions(&rows), 0);
        const obs_t *lng = s_only_row(&rows, "console-long");
        const obs_t *shrt = s_only_row(&rows, "script-short");
        const obs_t *twin = s_only_row(&rows, "kd-twin-late");
        const obs_t *far = s_only_row(&rows, "kd-far");
        const obs_t *near = s_only_row(&rows, "kd-near");
        for (size_t i = 0; i < rows.n; i++) {
            assert_true(rows.items[i]->has_kd);
            s_assert_no_handoff_phase(&rows, rows.items[i]->truth_actor);
        }
        /* K = 1 for the pair and the twin; 8 bits (K = 0) and 1 bit (K = 0.875) away. */
        assert_true(lng->kd_simhash == UINT64_C(0x9e3779b97f4a7c15));
        assert_true(shrt->kd_simhash == lng->kd_simhash);
        assert_true(twin->kd_simhash == lng->kd_simhash);
        assert_int_equal(s_popcount64(far->kd_simhash ^ lng->kd_simhash), 8);
        assert_int_equal(s_popcount64(near->kd_simhash ^ lng->kd_simhash), 1);
        assert_int_equal(s_popcount64(near->kd_simhash ^ far->kd_simhash), 7);
        /* T = 1 for the pair and for each overlapping decoy (windows inside every long
           window); the twin starts after every other window ended (T = 0). */
        assert_true(s_contained(shrt, lng));
        assert_true(s_contained(far, lng));
        assert_true(s_contained(near, lng));
        span_t st = s_actor_span(&rows, "kd-twin-late");
        static const char *const others[] = {"console-long", "script-short", "kd-far", "kd-near"};
        for (size_t k = 0; k < 4; k++) {
            assert_true(s_actor_span(&rows, others[k]).hi < st.lo);
        }
        /* The decoys have one session each: one decky, so C <= 1/3 with anyone. */
        assert_int_equal(far->n_sessions, 1);
        assert_int_equal(near->n_sessions, 1);
        assert_int_equal(twin->n_sessions, 1);
        s_rows_clear(&rows);
    }
}

static void
test_generic_revocation(void **state)
{
    (void)state;
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("generic_revocation", seed, &rows);
        assert_int_equal(rows.n, 14);
        assert_int_equal(s_sessions(&rows), 28);
        assert_int_equal(s_truth_campaigns(&rows), 13);
        assert_int_equal(s_infra_sessions(&rows), 0);
        /* One HASSH on all 14 rows (above the cutoff of 10 in the expected file). */
        const char *ja3s[14];
        for (size_t i = 0; i < rows.n; i++) {
            assert_string_equal(rows.items[i]->hassh, rows.items[0]->hassh);
            assert_false(rows.items[i]->has_kd);
            s_assert_no_handoff_phase(&rows, rows.items[i]->truth_actor);
            ja3s[i] = rows.items[i]->ja3;
            assert_non_null(ja3s[i]);
        }
        /* The rotator's two rows share a JA3; every other JA3 is held by one row. */
        assert_int_equal(s_rows_of(&rows, "rotator"), 2);
        assert_string_equal(s_row(&rows, "rotator", 0)->ja3, s_row(&rows, "rotator", 1)->ja3);
        assert_int_equal(s_distinct(ja3s, 14), 13);
        for (int b = 1; b <= 12; b++) {
            char actor[16];
            snprintf(actor, sizeof(actor), "bot-%02d", b);
            assert_int_equal(s_rows_of(&rows, actor), 1);
        }
        s_rows_clear(&rows);
    }
}

static void
test_delete_split(void **state)
{
    (void)state;
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("delete_split", seed, &rows);
        assert_int_equal(rows.n, 5);
        assert_int_equal(s_sessions(&rows), 9);
        assert_int_equal(s_truth_campaigns(&rows), 3);
        assert_int_equal(s_rows_of(&rows, "dropper-a"), 2);
        assert_int_equal(s_rows_of(&rows, "beacon-b"), 2);
        const obs_t *bridge = s_only_row(&rows, "bridge");
        assert_null(bridge->ja3);
        assert_null(bridge->hassh);
        assert_int_equal(bridge->n_sessions, 1);
        const char *payload = bridge->sessions[0].payload_hash;
        const char *c2 = bridge->sessions[0].c2;
        assert_non_null(payload);
        assert_non_null(c2);
        /* Each group holds one of the bridge's two values and never the other, and every
           row of a group has it (so the bridge has an H = 1 edge to each row). */
        for (size_t g = 0; g < 2; g++) {
            const char *actor = g == 0 ? "dropper-a" : "beacon-b";
            for (size_t k = 0; k < 2; k++) {
                const obs_t *row = s_row(&rows, actor, k);
                assert_non_null(row->ja3);
                assert_non_null(row->hassh);
                bool has_own = false;
                for (size_t i = 0; i < row->n_sessions; i++) {
                    const obs_session_t *s = &row->sessions[i];
                    const char *own = g == 0 ? s->payload_hash : s->c2;
                    const char *other = g == 0 ? s->c2 : s->payload_hash;
                    assert_null(other);
                    has_own = has_own || s_streq(own, g == 0 ? payload : c2);
                    assert_true(own == NULL || s_streq(own, g == 0 ? payload : c2));
                }
                assert_true(has_own);
            }
            s_assert_no_handoff_phase(&rows, actor);
        }
        assert_string_not_equal(s_row(&rows, "dropper-a", 0)->ja3,
                                s_row(&rows, "beacon-b", 0)->ja3);
        assert_string_not_equal(s_row(&rows, "dropper-a", 0)->hassh,
                                s_row(&rows, "beacon-b", 0)->hassh);
        s_rows_clear(&rows);
    }
}

static void
test_asymmetric_overlap(void **state)
{
    (void)state;
    for (int64_t seed = 0; seed < SEEDS; seed++) {
        rows_t rows;
        s_gen("asymmetric_overlap", seed, &rows);
        assert_int_equal(rows.n, 2);
        assert_int_equal(s_truth_campaigns(&rows), 1);
        s_assert_fingerprints_distinct(&rows);
        /* The long side comes first in input order. */
        const obs_t *b = rows.items[0];
        const obs_t *a = rows.items[1];
        assert_string_equal(b->truth_actor, "stager-long");
        assert_string_equal(a->truth_actor, "runner-short");
        s_assert_all_on(&rows, "stager-long", "decky-01");
        s_assert_all_on(&rows, "runner-short", "decky-01");
        s_assert_no_handoff_phase(&rows, "stager-long");
        s_assert_no_handoff_phase(&rows, "runner-short");
        /* C = 1: same ASN, same single decky. */
        assert_true(a->has_asn && b->has_asn);
        assert_int_equal(a->asn, b->asn);
        /* I = 1/2: a's set {p}, b's set {p, q}. */
        const char *p = a->sessions[0].payload_hash;
        assert_non_null(p);
        for (size_t i = 0; i < a->n_sessions; i++) {
            assert_string_equal(a->sessions[i].payload_hash, p);
            assert_null(a->sessions[i].c2);
        }
        const char *q = b->sessions[0].c2;
        assert_non_null(q);
        assert_string_not_equal(p, q);
        for (size_t i = 0; i < b->n_sessions; i++) {
            assert_string_equal(b->sessions[i].payload_hash, p);
            assert_string_equal(b->sessions[i].c2, q);
        }
        /* cadre's symmetric T = 1: a's windows lie inside every window of b. */
        assert_true(s_contained(a, b));
        /* DECNET's T(b, a) = summed pairwise overlap / b's total length stays well below 1,
           so w(b, a) = 0.5 + 0.4*T + 0.1 < 1 (no edge in DECNET's order). */
        double overlap = 0.0;
        double total_b = 0.0;
        for (size_t j = 0; j < b->n_sessions; j++) {
            total_b += b->sessions[j].duration;
            for (size_t i = 0; i < a->n_sessions; i++) {
                overlap += a->sessions[i].duration; /* contained: the whole a window */
            }
        }
        assert_true(overlap / total_b < 0.2);
        s_rows_clear(&rows);
    }
}

/* --- every fixture: loads, generates, and its expected file agrees ----------------------- */

static const char *const s_metric_keys[] = {"adjusted_rand_index", "homogeneity", "completeness",
                                            "singleton_recall"};

static bool
s_is_metric(const char *key)
{
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(key, s_metric_keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*  Checks a metric -> {min: X} entry (X a number in [-1, 1]). */
static void
s_assert_bound(const char *file, const char *key, const ydoc_node_t *v)
{
    const ydoc_node_t *min = ydoc_map_get(v, "min");
    double x = 0.0;
    if (ydoc_type(v) != YDOC_MAP || ydoc_len(v) != 1 || min == NULL || ydoc_float(min, &x) != 0 ||
        x < -1.0 || x > 1.0) {
        fail_msg("%s: %s must be {min: number in [-1, 1]}", file, key);
    }
}

/*  Checks a map holding all four metrics as bounds of 1.0. */
static void
s_assert_bounds_map(const char *file, const ydoc_node_t *map)
{
    assert_int_equal(ydoc_type(map), YDOC_MAP);
    for (size_t i = 0; i < 4; i++) {
        const ydoc_node_t *v = ydoc_map_get(map, s_metric_keys[i]);
        if (v == NULL) {
            fail_msg("%s: missing %s", file, s_metric_keys[i]);
        }
        s_assert_bound(file, s_metric_keys[i], v);
        double x = 0.0;
        assert_int_equal(ydoc_float(ydoc_map_get(v, "min"), &x), 0);
        assert_true(x == 1.0);
    }
}

/*  Reads an optional non-negative integer entry of a counts map; -1 when absent. */
static int64_t
s_count(const ydoc_node_t *counts, const char *key)
{
    const ydoc_node_t *v = ydoc_map_get(counts, key);
    int64_t n = -1;
    if (v != NULL) {
        assert_int_equal(ydoc_int(v, &n), 0);
        assert_true(n >= 0);
    }
    return n;
}

/*  Checks a counts map: known keys only, and the corpus-side numbers against rows. */
static void
s_assert_counts(const char *file, const ydoc_node_t *counts, const rows_t *rows)
{
    static const char *const keys[] = {"observations", "sessions", "truth_campaigns", "identities",
                                       "campaigns"};
    assert_int_equal(ydoc_type(counts), YDOC_MAP);
    for (size_t i = 0; i < ydoc_len(counts); i++) {
        const char *key = ydoc_text(ydoc_map_key(counts, i), NULL);
        bool known = false;
        for (size_t k = 0; k < 5 && !known; k++) {
            known = strcmp(key, keys[k]) == 0;
        }
        if (!known) {
            fail_msg("%s: unknown counts key %s", file, key);
        }
    }
    int64_t n = s_count(counts, "observations");
    if (n >= 0 && (size_t)n != rows->n) {
        fail_msg("%s: observations %lld, corpus has %zu", file, (long long)n, rows->n);
    }
    n = s_count(counts, "sessions");
    if (n >= 0 && (size_t)n != s_sessions(rows)) {
        fail_msg("%s: sessions %lld, corpus has %zu", file, (long long)n, s_sessions(rows));
    }
    n = s_count(counts, "truth_campaigns");
    if (n >= 0 && (size_t)n != s_truth_campaigns(rows)) {
        fail_msg("%s: truth_campaigns %lld, corpus has %zu", file, (long long)n,
                 s_truth_campaigns(rows));
    }
    /* The clustered numbers need the engine; here only their consistency is checked. */
    int64_t ids = s_count(counts, "identities");
    int64_t camps = s_count(counts, "campaigns");
    assert_true(ids <= (int64_t)rows->n && camps <= (int64_t)rows->n);
    assert_true(ids < 0 || camps <= ids);
}

/*  Applies one op of an expected file to rows: {delete: {actor, row[, campaign]}}. */
static void
s_apply_op(const char *file, const ydoc_node_t *op, rows_t *rows)
{
    const ydoc_node_t *del = ydoc_map_get(op, "delete");
    if (ydoc_type(op) != YDOC_MAP || ydoc_len(op) != 1 || del == NULL ||
        ydoc_type(del) != YDOC_MAP) {
        fail_msg("%s: an op must be {delete: {actor: A, row: R}}", file);
    }
    const ydoc_node_t *actor = ydoc_map_get(del, "actor");
    const ydoc_node_t *row = ydoc_map_get(del, "row");
    const ydoc_node_t *campaign = ydoc_map_get(del, "campaign");
    int64_t r = -1;
    assert_non_null(actor);
    assert_non_null(row);
    assert_int_equal(ydoc_int(row, &r), 0);
    assert_true(r >= 0);
    const char *name = ydoc_text(actor, NULL);
    const char *camp = campaign != NULL ? ydoc_text(campaign, NULL) : NULL;
    size_t hit = rows->n;
    int64_t k = 0;
    for (size_t i = 0; i < rows->n; i++) {
        const obs_t *o = rows->items[i];
        if (s_streq(o->truth_actor, name) && (camp == NULL || s_streq(o->truth_campaign, camp))) {
            if (k++ == r) {
                hit = i;
            }
        }
    }
    if (hit == rows->n) {
        fail_msg("%s: delete names no generated row (%s, %lld)", file, name, (long long)r);
    }
    obs_destroy(&rows->items[hit]);
    memmove(&rows->items[hit], &rows->items[hit + 1], (rows->n - hit - 1) * sizeof(obs_t *));
    rows->n--;
}

static void
s_check_expected(const char *name)
{
    char rel[256];
    char path[PATH_MAX];
    snprintf(rel, sizeof(rel), "campaigns/%s.expected.yaml", name);
    s_env_path(path, sizeof(path), "FIXTURES_DIR", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    char *buf = NULL;
    size_t cap = 0;
    size_t len = 0;
    for (;;) {
        xgrow(&buf, &cap, len + 4096);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    char err[512] = "";
    ydoc_t *doc = ydoc_parse(buf, len, path, err, sizeof(err));
    free(buf);
    if (doc == NULL) {
        fail_msg("%s", err);
    }
    const ydoc_node_t *root = ydoc_root(doc);
    assert_int_equal(ydoc_type(root), YDOC_MAP);
    s_assert_bounds_map(path, root);

    int64_t seed = 0;
    const ydoc_node_t *v = ydoc_map_get(root, "seed");
    if (v != NULL) {
        assert_int_equal(ydoc_int(v, &seed), 0);
    }
    rows_t rows;
    s_gen(name, seed, &rows);

    static const char *const known[] = {
        "seed", "identity_level", "counts", "shift_invariant_days", "config", "ops", "before_ops"};
    for (size_t i = 0; i < ydoc_len(root); i++) {
        const char *key = ydoc_text(ydoc_map_key(root, i), NULL);
        bool ok = s_is_metric(key);
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !ok; k++) {
            ok = strcmp(key, known[k]) == 0;
        }
        if (!ok) {
            fail_msg("%s: unknown key %s", path, key);
        }
    }
    if ((v = ydoc_map_get(root, "identity_level")) != NULL) {
        s_assert_bounds_map(path, v);
    }
    if ((v = ydoc_map_get(root, "shift_invariant_days")) != NULL) {
        int64_t days = 0;
        assert_int_equal(ydoc_int(v, &days), 0);
        assert_true(days > 0);
    }
    if ((v = ydoc_map_get(root, "config")) != NULL) {
        assert_int_equal(ydoc_type(v), YDOC_MAP);
    }
    const ydoc_node_t *before = ydoc_map_get(root, "before_ops");
    const ydoc_node_t *ops = ydoc_map_get(root, "ops");
    assert_true((before == NULL) || (ops != NULL));
    if (before != NULL) {
        assert_int_equal(ydoc_type(before), YDOC_MAP);
        s_assert_counts(path, ydoc_map_get(before, "counts"), &rows);
    }
    if (ops != NULL) {
        assert_int_equal(ydoc_type(ops), YDOC_SEQ);
        assert_true(ydoc_len(ops) > 0);
        for (size_t i = 0; i < ydoc_len(ops); i++) {
            s_apply_op(path, ydoc_seq_at(ops, i), &rows);
        }
    }
    if ((v = ydoc_map_get(root, "counts")) != NULL) {
        s_assert_counts(path, v, &rows);
    }
    s_rows_clear(&rows);
    ydoc_destroy(&doc);
}

static void
test_expected_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_decnet_names) / sizeof(s_decnet_names[0]); i++) {
        s_check_expected(s_decnet_names[i]);
    }
    for (size_t i = 0; i < sizeof(s_cadre_names) / sizeof(s_cadre_names[0]); i++) {
        s_check_expected(s_cadre_names[i]);
    }
}

static void
test_cadre_scenarios_load_cleanly(void **state)
{
    (void)state;
    /* Every phase of the cadre scenarios is observable: no warnings, nothing skipped. */
    for (size_t i = 0; i < sizeof(s_cadre_names) / sizeof(s_cadre_names[0]); i++) {
        dsl_corpus_t *corpus = s_load(s_cadre_names[i]);
        assert_int_equal(corpus->n_warnings, 0);
        assert_int_equal(corpus->noise_scanners, 0);
        dsl_corpus_destroy(&corpus);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_seed0),
        cmocka_unit_test(test_shape_lone_wolf),
        cmocka_unit_test(test_shape_shared_wordlist),
        cmocka_unit_test(test_shape_vpn_hopping),
        cmocka_unit_test(test_shape_paused_campaign),
        cmocka_unit_test(test_shape_multi_operator),
        cmocka_unit_test(test_shape_slow_burn),
        cmocka_unit_test(test_shape_noise_floor),
        cmocka_unit_test(test_gen_deterministic),
        cmocka_unit_test(test_gen_seeds_differ),
        cmocka_unit_test(test_gen_campaign_plus_noise),
        cmocka_unit_test(test_gen_multi_actor_campaign),
        cmocka_unit_test(test_gen_rotation),
        cmocka_unit_test(test_gen_sessions_round_robin),
        cmocka_unit_test(test_gen_sticky_default),
        cmocka_unit_test(test_gen_unobservable_phase),
        cmocka_unit_test(test_gen_validation_errors),
        cmocka_unit_test(test_handoff_only),
        cmocka_unit_test(test_keystroke_overlap),
        cmocka_unit_test(test_generic_revocation),
        cmocka_unit_test(test_delete_split),
        cmocka_unit_test(test_asymmetric_overlap),
        cmocka_unit_test(test_cadre_scenarios_load_cleanly),
        cmocka_unit_test(test_expected_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
