/*  test_equivalence.c - SPEC §11: the production clusterer (core/, blocking keys) against the
    brute-force all-pairs reference (tests/ref/) on random corpora, at both layers, plus the
    partition properties of SPEC §4-§5: order independence, +90-day shift invariance,
    convergence (a fixed point after every reconciliation) and determinism of events and ids.

    Every random corpus comes from its own MT19937 stream (pyrand.h) seeded with a number
    printed on failure, together with a compact dump of the corpus, so a mismatch can be
    replayed alone. Partitions are compared canonically: each observation is labelled with
    the smallest index (in a stated order) of its identity and of its campaign.

    Generators:
    - s_random_obs: observations drawn from tiny pools, so every row of the fingerprint veto
      truth table occurs (null, x, y per slot, "" included), payload and C2 values collide
      (and "" never counts), sessions land on a few deckies with handoff phases and start
      times on a lattice whose gaps hit 0, 86400 s exactly and just over, and whose windows
      overlap, contain and touch each other.
    - s_random_spec: DSL documents (1-4 campaigns, colliding fingerprints) run through the
      generator at random seeds.
    - s_random_stream: upserts that change fingerprints, deletes and re-upserts, reconciled
      every k inputs.
    - s_skewed_corpus: random observations, most with a HASSH of their own and one more
      session carrying a C2 shared by nearly all of them (the candidate index's worst case).
*/
#include "cluster.h"
#include "dsl.h"
#include "gen.h"
#include "obs.h"
#include "pyrand.h"
#include "records.h"
#include "ref_cluster.h"
#include "ukc.h"
#include "xalloc.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  --------------------------------------------------------------------------------------
    Sizes of the random runs (chosen to keep the binary well under a minute with ASan) */

#define N_DIRECT 3000    /* test 1: random observation sets */
#define N_SPECS 300      /* test 2: random DSL specs (each at two seeds) */
#define N_ORDER 300      /* test 3: corpora, each in 3 extra orders */
#define N_SHIFT 400      /* test 4: random corpora shifted by 90 days */
#define N_STREAMS 200    /* test 5: incremental streams */
#define N_DETERM 60      /* test 6: streams run twice */
#define N_SKEW 40        /* test 7: corpora sharing one C2 */
#define MAX_SKEW 240     /* largest of them */
#define MAX_OBS 80       /* largest random observation set */
#define T0 GEN_T0        /* 2026-01-01T00:00:00Z */
#define DAY 86400.0      /* one day, also the handoff window */
#define SHIFT (90 * DAY) /* R§11: the +90-day shift */

/*  --------------------------------------------------------------------------------------
    Random helpers */

/*  True with probability pct / 100. */
static bool
s_chance(pyrand_t *r, unsigned pct)
{
    return pyrand_below(r, 100) < pct;
}

/*  A random permutation of 0 .. n-1 (Fisher-Yates). */
static void
s_shuffle(pyrand_t *r, size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)pyrand_below(r, i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/*  --------------------------------------------------------------------------------------
    Corpora */

/*  An owned list of observation records (upserts, and deletes in streams). */
typedef struct {
    obs_t **v;  /* records, owned */
    size_t n;   /* count */
    size_t cap; /* allocated */
} s_corpus_t;

/*  Appends o; the corpus takes ownership. */
static void
s_corpus_push(s_corpus_t *c, obs_t *o)
{
    xgrow(&c->v, &c->cap, c->n + 1);
    c->v[c->n++] = o;
}

static void
s_corpus_free(s_corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        obs_destroy(&c->v[i]);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static const obs_t *const *
s_view(const s_corpus_t *c)
{
    return (const obs_t *const *)c->v;
}

/*  --------------------------------------------------------------------------------------
    Dumping a corpus (printed on a mismatch) */

static void
s_put_str(FILE *f, const char *key, const char *s)
{
    if (!s) {
        fprintf(f, " %s=-", key);
    } else {
        fprintf(f, " %s=\"%s\"", key, s);
    }
}

static void
s_dump_obs(FILE *f, size_t i, const obs_t *o)
{
    fprintf(f, "  [%zu] %s%s", i, o->op == OBS_DELETE ? "DELETE " : "", o->id);
    if (o->op == OBS_DELETE) {
        fprintf(f, "\n");
        return;
    }
    s_put_str(f, "ja3", o->ja3);
    s_put_str(f, "hassh", o->hassh);
    s_put_str(f, "ja4", o->ja4);
    if (o->has_asn) {
        fprintf(f, " asn=%" PRId64, o->asn);
    }
    if (o->has_kd) {
        fprintf(f, " kd=%016" PRIx64, o->kd_simhash);
    }
    fprintf(f, "\n");
    for (size_t s = 0; s < o->n_sessions; s++) {
        const obs_session_t *ss = &o->sessions[s];
        fprintf(f, "      s%zu", s);
        s_put_str(f, "decky", ss->decky);
        fprintf(f, " %s start=T0%+.17g dur=%.17g", ukc_phase_name(ss->phase), ss->start - T0,
                ss->duration);
        s_put_str(f, "pay", ss->payload_hash);
        s_put_str(f, "c2", ss->c2);
        if (ss->n_commands) {
            fprintf(f, " cmds=[");
            for (size_t k = 0; k < ss->n_commands; k++) {
                fprintf(f, "%s%s", k ? "," : "", ss->commands[k]);
            }
            fprintf(f, "]");
        }
        if (ss->n_creds) {
            fprintf(f, " creds=[");
            for (size_t k = 0; k < ss->n_creds; k++) {
                fprintf(f, "%s%s:%s", k ? "," : "", ss->creds[k].user, ss->creds[k].pass);
            }
            fprintf(f, "]");
        }
        fprintf(f, "\n");
    }
}

/*  --------------------------------------------------------------------------------------
    Partitions */

/*  Canonical labels of both layers: per observation, the smallest index of its group. */
typedef struct {
    uint32_t *ident; /* identity layer */
    uint32_t *camp;  /* campaign layer */
    size_t n;        /* observations */
} s_part_t;

static void
s_part_init(s_part_t *p, size_t n)
{
    p->ident = xcalloc(n + 1, sizeof *p->ident);
    p->camp = xcalloc(n + 1, sizeof *p->camp);
    p->n = n;
}

static void
s_part_free(s_part_t *p)
{
    free(p->ident);
    free(p->camp);
    memset(p, 0, sizeof *p);
}

/*  out[i] = the smallest j with name[j] equal to name[i]. */
static void
s_canon_strings(const char *const *name, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint32_t)i;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(name[j], name[i]) == 0) {
                out[i] = (uint32_t)j;
                break;
            }
        }
    }
}

/*  out[i] = the smallest j with group[j] == group[i]. */
static void
s_canon_groups(const uint32_t *group, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint32_t)i;
        for (size_t j = 0; j < i; j++) {
            if (group[j] == group[i]) {
                out[i] = (uint32_t)j;
                break;
            }
        }
    }
}

/*  Production's partition of obs[0..n-1] (each live in c), canonical in that order. */
static void
s_prod_canon(const cluster_t *c, const obs_t *const *obs, size_t n, s_part_t *out)
{
    const char **ids = xcalloc(n + 1, sizeof *ids);
    const char **camps = xcalloc(n + 1, sizeof *camps);
    for (size_t i = 0; i < n; i++) {
        int64_t slot = cluster_find(c, obs[i]->id);
        assert_true(slot >= 0);
        ids[i] = cluster_identity_of(c, (size_t)slot);
        camps[i] = cluster_campaign_of(c, (size_t)slot);
        assert_non_null(ids[i]);
        assert_non_null(camps[i]);
    }
    s_canon_strings(ids, n, out->ident);
    s_canon_strings(camps, n, out->camp);
    free(ids);
    free(camps);
}

static int
s_count_event(const ev_t *ev, void *arg)
{
    (void)ev;
    (*(size_t *)arg)++;
    return 0;
}

static cluster_t *
s_engine(void)
{
    ccfg_t cfg;
    ccfg_reference(&cfg);
    return cluster_new(&cfg, "equivalence");
}

/*  Reconciles c and checks the fixed point: a second reconciliation reports nothing. */
static void
s_reconcile_twice(cluster_t *c)
{
    size_t events = 0;
    assert_int_equal(cluster_reconcile(c, s_count_event, &events), 0);
    size_t again = 0;
    assert_int_equal(cluster_reconcile(c, s_count_event, &again), 0);
    if (again != 0) {
        print_error("second reconciliation reported %zu events (first: %zu)\n", again, events);
    }
    assert_int_equal(again, 0);
}

/*  Production on obs applied in the given order (NULL = index order), reconciled once;
    labels canonical by index in obs. */
static void
s_prod_part(const obs_t *const *obs, size_t n, const size_t *order, s_part_t *out)
{
    cluster_t *c = s_engine();
    for (size_t k = 0; k < n; k++) {
        cluster_apply(c, obs[order ? order[k] : k]);
    }
    s_reconcile_twice(c);
    s_prod_canon(c, obs, n, out);
    cluster_destroy(&c);
}

/*  The reference's partition of obs in the given order (NULL = index order) under weights
    w, canonical by index in obs. */
static void
s_ref_part_w(const obs_t *const *obs, size_t n, const size_t *order, const ref_weights_t *w,
             s_part_t *out)
{
    const obs_t **in = xcalloc(n + 1, sizeof *in);
    for (size_t k = 0; k < n; k++) {
        in[k] = obs[order ? order[k] : k];
    }
    uint32_t *li = xcalloc(n + 1, sizeof *li);
    uint32_t *lc = xcalloc(n + 1, sizeof *lc);
    ref_cluster(in, n, w, li, lc);
    /*  Labels are positions in `in`; map them back to indexes of obs. */
    uint32_t *gi = xcalloc(n + 1, sizeof *gi);
    uint32_t *gc = xcalloc(n + 1, sizeof *gc);
    for (size_t k = 0; k < n; k++) {
        size_t i = order ? order[k] : k;
        gi[i] = li[k];
        gc[i] = lc[k];
    }
    s_canon_groups(gi, n, out->ident);
    s_canon_groups(gc, n, out->camp);
    free(gi);
    free(gc);
    free(li);
    free(lc);
    free(in);
}

/*  The reference's partition under the SPEC default weights. */
static void
s_ref_part(const obs_t *const *obs, size_t n, const size_t *order, s_part_t *out)
{
    ref_weights_t w;
    ref_weights_default(&w);
    s_ref_part_w(obs, n, order, &w, out);
}

/*  True when a and b are the same partitions at both layers; otherwise prints the seed,
    both labelings and the corpus. */
static bool
s_part_same(const char *what, uint64_t seed, const char *an, const s_part_t *a, const char *bn,
            const s_part_t *b, const obs_t *const *obs, size_t n)
{
    bool id_ok = memcmp(a->ident, b->ident, n * sizeof *a->ident) == 0;
    bool camp_ok = memcmp(a->camp, b->camp, n * sizeof *a->camp) == 0;
    if (id_ok && camp_ok) {
        return true;
    }
    fprintf(stderr, "MISMATCH %s seed=%" PRIu64 " n=%zu at the %s layer\n", what, seed, n,
            id_ok ? "campaign" : (camp_ok ? "identity" : "identity and campaign"));
    fprintf(stderr, "  labels (identity/campaign) %s vs %s:\n", an, bn);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "    [%zu] %" PRIu32 "/%" PRIu32 " vs %" PRIu32 "/%" PRIu32 "%s\n", i,
                a->ident[i], a->camp[i], b->ident[i], b->camp[i],
                (a->ident[i] != b->ident[i] || a->camp[i] != b->camp[i]) ? "  <--" : "");
    }
    fprintf(stderr, "  corpus:\n");
    for (size_t i = 0; i < n; i++) {
        s_dump_obs(stderr, i, obs[i]);
    }
    return false;
}

/*  Production against the reference on obs in index order. */
static bool
s_check_equiv(const char *what, uint64_t seed, const obs_t *const *obs, size_t n)
{
    s_part_t p, r;
    s_part_init(&p, n);
    s_part_init(&r, n);
    s_prod_part(obs, n, NULL, &p);
    s_ref_part(obs, n, NULL, &r);
    bool ok = s_part_same(what, seed, "production", &p, "reference", &r, obs, n);
    s_part_free(&p);
    s_part_free(&r);
    return ok;
}

/*  --------------------------------------------------------------------------------------
    Random observations */

/*  Per-corpus densities, so corpora range from all-singletons to one big campaign. */
typedef struct {
    unsigned fp_vals;   /* distinct non-empty values per fingerprint slot (1..3) */
    unsigned fp_null;   /* percent chance a fingerprint slot is NULL */
    bool use_ja4;       /* whether the ja4 slot is ever set */
    unsigned p_payload; /* percent chance a session carries a payload value ("" included) */
    unsigned p_c2;      /* percent chance a session carries a C2 value ("" included) */
    unsigned n_deckies; /* deckies in the pool (1..4) */
    unsigned p_kd;      /* percent chance an observation carries a kd_simhash */
    unsigned max_sess;  /* sessions per observation: 0 .. max_sess */
    bool exact_times;   /* only dyadic times, so a 90-day shift rounds nothing */
    unsigned p_fp;      /* percent chance of each further fingerprint draw */
} s_knobs_t;

static void
s_random_knobs(pyrand_t *r, s_knobs_t *k)
{
    static const unsigned nulls[] = {20, 50, 75, 90};
    static const unsigned infra[] = {5, 20, 40, 70};
    static const unsigned kds[] = {0, 30, 70, 100};
    k->fp_vals = 1 + (unsigned)pyrand_below(r, 3);
    k->fp_null = nulls[pyrand_below(r, 4)];
    k->use_ja4 = s_chance(r, 35);
    k->p_payload = infra[pyrand_below(r, 4)];
    k->p_c2 = infra[pyrand_below(r, 4)];
    k->n_deckies = 1 + (unsigned)pyrand_below(r, 4);
    k->p_kd = kds[pyrand_below(r, 4)];
    k->max_sess = 1 + (unsigned)pyrand_below(r, 5);
    k->exact_times = s_chance(r, 70);
    static const unsigned fps[] = {0, 0, 30, 70};
    k->p_fp = fps[pyrand_below(r, 4)];
}

/*  A fingerprint: NULL, "" or one of fp_vals values. */
static char *
s_random_fp(pyrand_t *r, const s_knobs_t *k)
{
    static const char *const vals[] = {"", "x", "y", "z"};
    if (s_chance(r, k->fp_null)) {
        return NULL;
    }
    return xstrdup(vals[pyrand_below(r, k->fp_vals + 1)]);
}

/*  A keystroke hash: 0-3 bits flipped in one of a few bases (zero included). Flips favour
    bits around the 32-bit band boundary. */
static uint64_t
s_random_kd(pyrand_t *r)
{
    static const uint64_t bases[] = {0, 0x9e3779b97f4a7c15ULL, 0xffffffff00000000ULL};
    static const unsigned bits[] = {0, 1, 7, 31, 32, 33, 63};
    uint64_t v = bases[pyrand_below(r, 3)];
    unsigned flips = (unsigned)pyrand_below(r, 4);
    for (unsigned f = 0; f < flips; f++) {
        unsigned bit = s_chance(r, 50) ? bits[pyrand_below(r, 7)] : (unsigned)pyrand_below(r, 64);
        v ^= (uint64_t)1 << bit;
    }
    return v;
}

/*  Session start offsets from T0: out sessions ending at 0, 5 or 10 hand off to in sessions
    starting 0 s, 86400 s exactly, 86400.5 s, 86400 s + 2^-20 and 86401 s later. */
static const double s_starts[] = {
    0.0, 5.0, 10.0, 100.0, 86400.0, 86405.0, 86410.0, 86410.5, 86411.0, 86500.0, 172800.0, 172810.0,
};
/*  Durations: zero (no window) twice as likely; 86400 s windows contain the others. */
static const double s_durs[] = {0.0, 0.0, 5.0, 10.0, 0.5, 100.0, 86400.0};
/*  Non-dyadic durations, whose end times round (not used where times are shifted). */
static const double s_durs_inexact[] = {0.1, 0.3, 1e-3};

static const ukc_phase_t s_handoff_phases[] = {UKC_COMMAND_AND_CONTROL, UKC_PERSISTENCE,
                                               UKC_DISCOVERY, UKC_LATERAL_MOVEMENT};

static void
s_random_session(pyrand_t *r, const s_knobs_t *k, obs_session_t *s)
{
    static const char *const deckies[] = {"d1", "d2", "d3", "d4"};
    static const char *const payloads[] = {"", "p1", "p2", "k"};
    static const char *const c2s[] = {"", "c1", "c2", "k"};
    static const char *const commands[] = {"ls", "id", "uname -a", "whoami", "cat /etc/passwd"};
    static const char *const users[] = {"root", "admin", ""};
    static const char *const passes[] = {"toor", "admin", ""};
    if (s_chance(r, 12)) {
        s->decky = NULL;
    } else if (s_chance(r, 4)) {
        s->decky = xstrdup("");
    } else {
        s->decky = xstrdup(deckies[pyrand_below(r, k->n_deckies)]);
    }
    s->phase = s_chance(r, 70) ? s_handoff_phases[pyrand_below(r, 4)]
                               : (ukc_phase_t)pyrand_below(r, UKC_PHASE_COUNT);
    s->start = T0 + s_starts[pyrand_below(r, sizeof s_starts / sizeof s_starts[0])];
    if (s_chance(r, 4)) {
        s->start += 0x1p-20; /* just over an exact gap, still exactly representable */
    }
    s->duration = s_durs[pyrand_below(r, sizeof s_durs / sizeof s_durs[0])];
    if (!k->exact_times && s_chance(r, 15)) {
        s->duration = s_durs_inexact[pyrand_below(r, 3)];
    }
    if (s_chance(r, k->p_payload)) {
        s->payload_hash = xstrdup(payloads[pyrand_below(r, 4)]);
    }
    if (s_chance(r, k->p_c2)) {
        s->c2 = xstrdup(c2s[pyrand_below(r, 4)]);
    }
    size_t nc = (size_t)pyrand_below(r, 3);
    s->commands = nc ? xcalloc(nc, sizeof *s->commands) : NULL;
    for (size_t i = 0; i < nc; i++) {
        s->commands[s->n_commands++] = xstrdup(commands[pyrand_below(r, 5)]);
    }
    size_t np = (size_t)pyrand_below(r, 3);
    s->creds = np ? xcalloc(np, sizeof *s->creds) : NULL;
    for (size_t i = 0; i < np; i++) {
        s->creds[i].user = xstrdup(users[pyrand_below(r, 3)]);
        s->creds[i].pass = xstrdup(passes[pyrand_below(r, 3)]);
        s->n_creds++;
    }
}

static obs_t *
s_random_obs(pyrand_t *r, const s_knobs_t *k, const char *id)
{
    static const int64_t asns[] = {0, 64512, 64513};
    obs_t *o = obs_new();
    o->id = xstrdup(id);
    o->ja3 = s_random_fp(r, k);
    o->hassh = s_random_fp(r, k);
    o->ja4 = k->use_ja4 ? s_random_fp(r, k) : NULL;
    if (s_chance(r, 67)) {
        o->has_asn = true;
        o->asn = asns[pyrand_below(r, 3)];
    }
    if (s_chance(r, k->p_kd)) {
        o->has_kd = true;
        o->kd_simhash = s_random_kd(r);
    }
    size_t ns = (size_t)pyrand_below(r, k->max_sess + 1);
    for (size_t s = 0; s < ns; s++) {
        s_random_session(r, k, obs_add_session(o));
    }
    /* Further fingerprints: two kinds the engine uses and one it does not, values shared
       across kinds ("x" of jarm is not "x" of ja4h), "" counting as absent. */
    static const char *const kinds[] = {"jarm", "ja4h", "other"};
    static const char *const vals[] = {"", "x", "y"};
    for (int i = 0; i < 2; i++) {
        if (s_chance(r, k->p_fp)) {
            obs_fp_set(o, kinds[pyrand_below(r, 3)], vals[pyrand_below(r, 3)]);
        }
    }
    return o;
}

/*  A random corpus of 2 .. MAX_OBS observations with ids "o<i>". */
static void
s_random_corpus(pyrand_t *r, s_corpus_t *c, bool exact_times)
{
    s_knobs_t k;
    s_random_knobs(r, &k);
    if (exact_times) {
        k.exact_times = true;
    }
    size_t n = 2 + (size_t)pyrand_below(r, MAX_OBS - 1);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "o%zu", i);
        s_corpus_push(c, s_random_obs(r, &k, id));
    }
}

/*  --------------------------------------------------------------------------------------
    Hand-built corpora for the exact-threshold and tie cases */

static obs_t *
s_obs(const char *id, const char *ja3)
{
    obs_t *o = obs_new();
    o->id = xstrdup(id);
    o->ja3 = ja3 ? xstrdup(ja3) : NULL;
    return o;
}

static obs_session_t *
s_sess(obs_t *o, const char *decky, ukc_phase_t phase, double start, double duration)
{
    obs_session_t *s = obs_add_session(o);
    s->decky = decky ? xstrdup(decky) : NULL;
    s->phase = phase;
    s->start = start;
    s->duration = duration;
    return s;
}

/*  A session with no decky and no window carrying one payload value. */
static void
s_payload(obs_t *o, const char *payload)
{
    s_sess(o, NULL, UKC_DELIVERY, T0, 0.0)->payload_hash = xstrdup(payload);
}

static void
s_set_kd(obs_t *o, uint64_t kd)
{
    o->has_kd = true;
    o->kd_simhash = kd;
}

/*  The reference's campaign weight between single-observation identities a and b. */
static double
s_ref_weight(const obs_t *a, const obs_t *b, ref_camp_tiers_t *t)
{
    ref_weights_t w;
    ref_weights_default(&w);
    const obs_t *const la[] = {a};
    const obs_t *const lb[] = {b};
    ref_campaign_tiers(la, 1, lb, 1, &w, t);
    return t->weight;
}

/*  Production = reference on c, and both equal the wanted labels. */
static void
s_expect(const char *what, const s_corpus_t *c, const uint32_t *ident, const uint32_t *camp)
{
    assert_true(s_check_equiv(what, 0, s_view(c), c->n));
    s_part_t p;
    s_part_init(&p, c->n);
    s_prod_part(s_view(c), c->n, NULL, &p);
    assert_memory_equal(p.ident, ident, c->n * sizeof *ident);
    assert_memory_equal(p.camp, camp, c->n * sizeof *camp);
    s_part_free(&p);
}

#define KD0 0x9e3779b97f4a7c15ULL

/*  w = 1.0*0.3 + 0.4*0.25 + 0.1*0 + 0.6*1 is exactly 1.0 in the SPEC's order and
    0.9999999999999999 with K added before T: both sides must sum in the stated order. */
static void
test_exact_threshold_sum_order(void **state)
{
    (void)state;
    s_corpus_t c = {0};
    obs_t *a = s_obs("a", "ja3-a"); /* ja3 comparable and different: two identities */
    obs_t *b = s_obs("b", "ja3-b");
    s_set_kd(a, KD0);
    s_set_kd(b, KD0);
    s_sess(a, NULL, UKC_EXECUTION, T0, 100.0);
    s_sess(b, NULL, UKC_EXECUTION, T0 + 75.0, 100.0); /* T = 25 / 100 */
    static const char *const shared[] = {"s1", "s2", "s3"};
    static const char *const only_a[] = {"a1", "a2", "a3", "a4"};
    static const char *const only_b[] = {"b1", "b2", "b3"};
    for (size_t i = 0; i < 3; i++) {
        s_payload(a, shared[i]);
        s_payload(b, shared[i]);
        s_payload(b, only_b[i]);
    }
    for (size_t i = 0; i < 4; i++) {
        s_payload(a, only_a[i]); /* I = 3 / 10 */
    }
    ref_camp_tiers_t t;
    assert_true(s_ref_weight(a, b, &t) == 1.0);
    assert_true(t.i == 0.3 && t.t == 0.25 && t.c == 0.0 && t.k == 1.0 && t.p == 0.0);
    s_corpus_push(&c, a);
    s_corpus_push(&c, b);
    static const uint32_t ident[] = {0, 1}, camp[] = {0, 0};
    s_expect("sum order", &c, ident, camp);
    s_corpus_free(&c);
}

/*  0.4*T + 0.6*K = 1.0 needs T = 1 exactly: one identity's windows (non-dyadic, so their
    lengths round) lie inside the other's, and both sides sum the same pieces in time order. */
static void
test_exact_threshold_contained_windows(void **state)
{
    (void)state;
    s_corpus_t c = {0};
    obs_t *a = s_obs("a", "ja3-a");
    obs_t *b = s_obs("b", "ja3-b");
    obs_t *d = s_obs("d", "ja3-d"); /* one window sticks out by 0.1 s: T < 1, no edge */
    s_set_kd(a, KD0);
    s_set_kd(b, KD0);
    s_set_kd(d, KD0);
    s_sess(a, NULL, UKC_EXECUTION, T0 + 0.1, 0.7);
    s_sess(a, NULL, UKC_EXECUTION, T0 + 5.3, 0.2);
    s_sess(a, NULL, UKC_EXECUTION, T0 + 7.7, 1.1);
    s_sess(a, NULL, UKC_EXECUTION, T0 + 0.3, 0.1); /* inside the first: merged away */
    s_sess(b, NULL, UKC_EXECUTION, T0, 10.0);
    s_sess(d, NULL, UKC_EXECUTION, T0 + 20.1, 0.7);
    s_sess(d, NULL, UKC_EXECUTION, T0 + 9.9, 0.3);
    ref_camp_tiers_t t;
    assert_true(s_ref_weight(a, b, &t) == 1.0);
    assert_true(t.t == 1.0 && t.c == 0.0 && t.k == 1.0);
    assert_true(s_ref_weight(b, d, &t) < 1.0);
    assert_true(s_ref_weight(a, d, &t) < 1.0);
    s_corpus_push(&c, a);
    s_corpus_push(&c, b);
    s_corpus_push(&c, d);
    static const uint32_t ident[] = {0, 1, 2}, camp[] = {0, 0, 2};
    s_expect("contained windows", &c, ident, camp);
    s_corpus_free(&c);
}

/*  R§12.19: 0.4*1 + 0.1*0.75 + 0.6*0.875 = 1.0 exactly. A one-bit keystroke neighbour with
    T = 1 and C = 3/4 is an edge, found only through the SimHash bands (no infra, no
    handoff); two bits away (K = 0.75) it is not. */
static void
test_exact_threshold_one_bit_keystroke(void **state)
{
    (void)state;
    s_corpus_t c = {0};
    obs_t *a = s_obs("a", "ja3-a");
    obs_t *b = s_obs("b", "ja3-b");
    obs_t *d = s_obs("d", "ja3-d");
    a->has_asn = b->has_asn = d->has_asn = true;
    a->asn = b->asn = d->asn = 64512;
    s_set_kd(a, KD0);
    s_set_kd(b, KD0 ^ ((uint64_t)1 << 32)); /* d = 1 across the band boundary */
    s_set_kd(d, KD0 ^ 3);                   /* d = 2 from a, 3 from b */
    s_sess(a, "d1", UKC_EXECUTION, T0 + 10.0, 5.0);
    s_sess(a, "d2", UKC_EXECUTION, T0 + 20.0, 5.0);
    s_sess(b, "d1", UKC_EXECUTION, T0, 100.0);
    s_sess(b, "d2", UKC_EXECUTION, T0 + 1.0, 0.0);
    s_sess(b, "d3", UKC_EXECUTION, T0 + 2.0, 0.0); /* cohorts {asn, d1, d2} vs + d3 */
    s_sess(d, "d1", UKC_EXECUTION, T0 + 10.0, 5.0);
    s_sess(d, "d2", UKC_EXECUTION, T0 + 20.0, 5.0);
    ref_camp_tiers_t t;
    assert_true(s_ref_weight(a, b, &t) == 1.0);
    assert_true(t.t == 1.0 && t.c == 0.75 && t.k == 0.875);
    assert_true(s_ref_weight(a, d, &t) < 1.0);
    assert_true(s_ref_weight(b, d, &t) < 1.0);
    s_corpus_push(&c, a);
    s_corpus_push(&c, b);
    s_corpus_push(&c, d);
    static const uint32_t ident[] = {0, 1, 2}, camp[] = {0, 0, 2};
    s_expect("one-bit keystroke", &c, ident, camp);
    s_corpus_free(&c);
}

/*  One identity of two observations, id_c2 (command_and_control on d1 at T0) and id_other
    (exploitation on d1 at T0, a tie), and y (discovery on d1 110 s later), in both input
    orders. SPEC §4 fix 2 takes the identity's sessions on d1 in (start, observation id in
    byte order, session index) order, so its last phase there is id_c2's C2, which hands
    off to y, exactly when strcmp(id_c2, id_other) > 0; arrival order never decides. */
static void
s_tie_case(const char *id_c2, const char *id_other)
{
    s_corpus_t c = {0};
    obs_t *x1 = s_obs(id_c2, "ja3-x"); /* x1 and x2: one identity (same JA3) */
    obs_t *x2 = s_obs(id_other, "ja3-x");
    obs_t *y = s_obs("y", "ja3-y");
    s_sess(x1, "d1", UKC_COMMAND_AND_CONTROL, T0, 10.0);
    s_sess(x2, "d1", UKC_EXPLOITATION, T0, 10.0);
    s_sess(y, "d1", UKC_DISCOVERY, T0 + 110.0, 10.0);
    s_corpus_push(&c, x1);
    s_corpus_push(&c, x2);
    s_corpus_push(&c, y);
    /*  Handoff: w = 1.0*P + 0.1*C = 1.1; no handoff: w = 0.1*C = 0.1. */
    static const uint32_t ident[] = {0, 0, 2}, apart[] = {0, 0, 2}, together[] = {0, 0, 0};
    const uint32_t *camp = strcmp(id_c2, id_other) > 0 ? together : apart;
    static const size_t orders[2][3] = {{0, 1, 2}, {1, 0, 2}};
    for (size_t k = 0; k < 2; k++) {
        s_part_t p, q;
        s_part_init(&p, 3);
        s_part_init(&q, 3);
        s_prod_part(s_view(&c), 3, orders[k], &p);
        s_ref_part(s_view(&c), 3, orders[k], &q);
        char *what = xasprintf("tie %s/%s, %s first", id_c2, id_other, k ? id_other : id_c2);
        assert_true(s_part_same(what, 0, "production", &p, "reference", &q, s_view(&c), 3));
        free(what);
        assert_memory_equal(p.ident, ident, sizeof ident);
        assert_memory_equal(p.camp, camp, sizeof apart);
        s_part_free(&p);
        s_part_free(&q);
    }
    s_corpus_free(&c);
}

/*  Two observations of one identity starting sessions on the same decky at the same second:
    the tie is broken by observation id, so both input orders give the same partition at
    both layers (SPEC §4: the partition must not depend on arrival order), and production =
    reference in each. Under an arrival-order tie-break each case below changes its campaign
    partition when the two observations swap places. */
static void
test_tie_order_independence(void **state)
{
    (void)state;
    s_tie_case("x1", "x2");  /* x2's exploitation is last on d1: no handoff */
    s_tie_case("x2", "x1");  /* x2's C2 is last: it hands off to y */
    s_tie_case("x10", "x9"); /* byte order: "x10" < "x9", so x9 is last (no handoff) */
    s_tie_case("a", "B");    /* byte order: "B" < "a", so a's C2 is last (handoff) */
}

/*  --------------------------------------------------------------------------------------
    Coverage of the random corpora: which signals actually decided a partition */

/*  Counts of corpora in which each kind of case occurred. */
typedef struct {
    size_t multi_obs;   /* an identity with two or more observations */
    size_t multi_ident; /* a campaign with two or more identities */
    size_t gap_exact;   /* a handoff gap of exactly the window decided an edge */
    size_t gap_over;    /* a gap just over the window decided a non-edge */
    size_t handoff;     /* the handoff tier decided an edge */
    size_t keystroke;   /* the keystroke tier decided an edge */
    size_t temporal;    /* the temporal tier decided an edge */
} s_cov_t;

static bool
s_camp_differs(const obs_t *const *obs, size_t n, const ref_weights_t *w, const s_part_t *base)
{
    s_part_t q;
    s_part_init(&q, n);
    s_ref_part_w(obs, n, NULL, w, &q);
    bool differs = memcmp(q.camp, base->camp, n * sizeof *q.camp) != 0;
    s_part_free(&q);
    return differs;
}

/*  Adds what decided obs's partition to cov, by re-running the reference with one tier or
    the window changed. */
static void
s_cover(s_cov_t *cov, const obs_t *const *obs, size_t n)
{
    s_part_t base;
    s_part_init(&base, n);
    s_ref_part(obs, n, NULL, &base);
    bool multi_obs = false, multi_ident = false;
    for (size_t i = 0; i < n; i++) {
        multi_obs |= base.ident[i] != i;
        multi_ident |= base.camp[i] != i && base.ident[i] != base.camp[i];
    }
    cov->multi_obs += multi_obs;
    cov->multi_ident += multi_ident;
    ref_weights_t w;
    ref_weights_default(&w);
    w.handoff_window = DAY - 0x1p-20;
    cov->gap_exact += s_camp_differs(obs, n, &w, &base);
    w.handoff_window = DAY + 1.0;
    cov->gap_over += s_camp_differs(obs, n, &w, &base);
    ref_weights_default(&w);
    w.handoff = 0.0;
    cov->handoff += s_camp_differs(obs, n, &w, &base);
    ref_weights_default(&w);
    w.keystroke = 0.0;
    cov->keystroke += s_camp_differs(obs, n, &w, &base);
    ref_weights_default(&w);
    w.temporal = 0.0;
    cov->temporal += s_camp_differs(obs, n, &w, &base);
    s_part_free(&base);
}

static void
s_cov_print(const char *what, const s_cov_t *cov)
{
    printf("[ equivalence ] %s, corpora where: an identity has >1 observation %zu, a campaign "
           "has >1 identity %zu; decided by a handoff %zu, a gap of exactly 86400 s %zu, a gap "
           "just over %zu, keystrokes %zu, temporal overlap %zu\n",
           what, cov->multi_obs, cov->multi_ident, cov->handoff, cov->gap_exact, cov->gap_over,
           cov->keystroke, cov->temporal);
}

/*  --------------------------------------------------------------------------------------
    1. Random observation sets: production = reference */

static void
test_random_observation_sets(void **state)
{
    (void)state;
    size_t corpora = 0, observations = 0, sampled = 0;
    s_cov_t cov = {0};
    for (uint64_t seed = 1; seed <= N_DIRECT; seed++) {
        pyrand_t r;
        pyrand_seed(&r, seed);
        s_corpus_t c = {0};
        s_random_corpus(&r, &c, false);
        bool ok = s_check_equiv("random observation set", seed, s_view(&c), c.n);
        if (seed % 2 == 0) {
            s_cover(&cov, s_view(&c), c.n); /* every other corpus, to save time */
            sampled++;
        }
        corpora++;
        observations += c.n;
        s_corpus_free(&c);
        assert_true(ok);
    }
    printf("[ equivalence ] random observation sets: %zu corpora, %zu observations, "
           "production = reference at both layers\n",
           corpora, observations);
    char what[64];
    snprintf(what, sizeof what, "random observation sets (%zu sampled)", sampled);
    s_cov_print(what, &cov);
    /*  The generator must keep producing every kind of deciding case. */
    assert_true(cov.multi_obs > sampled / 4 && cov.multi_ident > sampled / 10);
    assert_true(cov.gap_exact > 0 && cov.gap_over > 0 && cov.handoff > sampled / 10);
    assert_true(cov.keystroke > 0 && cov.temporal > 0);
}

/*  --------------------------------------------------------------------------------------
    2. Random DSL specs through the generator */

/*  A growing text buffer. */
typedef struct {
    char *s;    /* text, NUL-terminated */
    size_t n;   /* length */
    size_t cap; /* allocated */
} s_buf_t;

static void s_addf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
s_addf(s_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(len >= 0);
    xgrow(&b->s, &b->cap, b->n + (size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

/*  A YAML scalar from a pool where NULL prints as null. */
static void
s_add_opt(s_buf_t *b, const char *key, const char *v)
{
    if (v) {
        s_addf(b, "%s: \"%s\"", key, v);
    } else {
        s_addf(b, "%s: null", key);
    }
}

/*  What the actors and phases of one campaign tend to share, so that campaigns hold together
    through infrastructure, handoffs on the previous_success decky, or keystrokes and time. */
typedef struct {
    const char *c2;      /* the campaign's usual C2 callback, or NULL */
    const char *payload; /* the campaign's usual payload seed, or NULL */
    const char *kd;      /* the campaign's usual keystroke hash, or NULL */
    int hour;            /* first of the campaign's four working hours */
    unsigned p_prev;     /* percent of phases aimed at previous_success */
    unsigned p_handoff;  /* percent of phases drawn from the handoff sets */
} s_style_t;

static const char *const s_spec_kds[] = {"9e3779b97f4a7c15", "9e3779b97f4a7c14", "0000000000000000",
                                         "9e3779b97f4a7cea"};
static const char *const s_spec_c2s[] = {"c2-a", "c2-b", ""};
static const char *const s_spec_payloads[] = {"pay-a", "pay-b", ""};

static void
s_spec_actor(pyrand_t *r, s_buf_t *b, size_t a, int64_t days, const s_style_t *st)
{
    static const char *const ja3s[] = {NULL, "ja3-a", "ja3-b", "ja3-c", "ja3-d", "ja3-e", ""};
    static const char *const hasshs[] = {NULL, "hassh-a", "hassh-b", "hassh-c", ""};
    static const int64_t jitters[] = {0, 60, 600};
    s_addf(b, "          - id: act-%zu\n", a);
    s_addf(b, "            asn: %d\n", 64512 + (int)pyrand_below(r, 4));
    if (s_chance(r, 40)) {
        s_addf(b, "            ip_pool: rotating\n            rotation_count: %d\n",
               1 + (int)pyrand_below(r, 4));
        if (s_chance(r, 50)) {
            s_addf(b, "            rotation_asns: [64520, 64521]\n");
        }
    } else {
        s_addf(b, "            ip_pool: sticky\n");
    }
    s_addf(b, "            ");
    s_add_opt(b, "ja3", ja3s[pyrand_below(r, 7)]);
    s_addf(b, "\n            ");
    s_add_opt(b, "hassh", hasshs[pyrand_below(r, 5)]);
    s_addf(b, "\n            hours_active_utc: [");
    size_t nh = 1 + (size_t)pyrand_below(r, 3);
    for (size_t h = 0; h < nh; h++) {
        int hour =
            s_chance(r, 80) ? (st->hour + (int)pyrand_below(r, 4)) % 24 : (int)pyrand_below(r, 24);
        s_addf(b, "%s%d", h ? ", " : "", hour);
    }
    s_addf(b, "]\n            jitter_seconds: %" PRId64 "\n", jitters[pyrand_below(r, 3)]);
    if (s_chance(r, 30)) {
        s_addf(b, "            active_days: [");
        size_t nd = 1 + (size_t)pyrand_below(r, 3);
        for (size_t d = 0; d < nd; d++) {
            s_addf(b, "%s%d", d ? ", " : "", (int)pyrand_below(r, (uint64_t)days + 1));
        }
        s_addf(b, "]\n");
    }
    if (st->kd && s_chance(r, 70)) {
        s_addf(b, "            kd_simhash: \"%s\"\n", st->kd);
    } else if (s_chance(r, 30)) {
        s_addf(b, "            kd_simhash: \"%s\"\n", s_spec_kds[pyrand_below(r, 4)]);
    }
}

static void
s_spec_phase(pyrand_t *r, s_buf_t *b, size_t n_actors, const s_style_t *st)
{
    static const char *const commands[] = {"ls", "id", "whoami", "uname -a"};
    static const double dwells[] = {0.0, 1.0, 5.0, 600.0, 3600.0, 14400.0};
    ukc_phase_t phase = s_chance(r, st->p_handoff) ? s_handoff_phases[pyrand_below(r, 4)]
                                                   : (ukc_phase_t)pyrand_below(r, UKC_PHASE_COUNT);
    s_addf(b, "          - name: %s\n", ukc_phase_name(phase));
    s_addf(b, "            actor: act-%zu\n", (size_t)pyrand_below(r, n_actors));
    s_addf(b, "            tool_signature: {");
    const char *sep = "";
    if (s_chance(r, 30)) {
        s_addf(b, "commands: [");
        size_t nc = (size_t)pyrand_below(r, 4);
        for (size_t i = 0; i < nc; i++) {
            s_addf(b, "%s\"%s\"", i ? ", " : "", commands[pyrand_below(r, 4)]);
        }
        s_addf(b, "]");
        sep = ", ";
    }
    if (s_chance(r, 30)) {
        s_addf(b, "%scredentials: [[\"root\", \"toor\"]%s]", sep,
               s_chance(r, 50) ? ", [\"admin\", \"admin\"]" : "");
        sep = ", ";
    }
    if (st->c2 && s_chance(r, 70)) {
        s_addf(b, "%sc2_callback: \"%s\"", sep, st->c2);
        sep = ", ";
    } else if (s_chance(r, 25)) {
        s_addf(b, "%sc2_callback: \"%s\"", sep, s_spec_c2s[pyrand_below(r, 3)]);
        sep = ", ";
    }
    if (st->payload && s_chance(r, 50)) {
        s_addf(b, "%spayload_hash: \"%s\"", sep, st->payload);
    } else if (s_chance(r, 20)) {
        s_addf(b, "%spayload_hash: \"%s\"", sep, s_spec_payloads[pyrand_below(r, 3)]);
    }
    s_addf(b, "}\n            target_selector: {count: %d%s}\n", (int)pyrand_below(r, 5),
           s_chance(r, st->p_prev) ? ", decky: previous_success" : "");
    s_addf(b, "            dwell_seconds: %g\n", dwells[pyrand_below(r, 6)]);
}

/*  A random DSL document: 1-4 campaigns of 1-3 actors with colliding fingerprints. */
static char *
s_random_spec(pyrand_t *r)
{
    static const unsigned shares[] = {0, 40, 80};
    s_buf_t b = {0};
    s_addf(&b, "corpus:\n  campaigns:\n");
    size_t nc = 1 + (size_t)pyrand_below(r, 4);
    for (size_t c = 0; c < nc; c++) {
        s_style_t st = {
            .c2 = s_chance(r, 50) ? s_spec_c2s[pyrand_below(r, 3)] : NULL,
            .payload = s_chance(r, 30) ? s_spec_payloads[pyrand_below(r, 3)] : NULL,
            .kd = s_chance(r, 30) ? s_spec_kds[pyrand_below(r, 4)] : NULL,
            .hour = (int)pyrand_below(r, 24),
            .p_prev = shares[pyrand_below(r, 3)],
            .p_handoff = shares[pyrand_below(r, 3)],
        };
        int64_t days = 1 + (int64_t)pyrand_below(r, 4);
        s_addf(&b, "    - campaign:\n        id: camp-%zu\n        duration_days: %" PRId64 "\n", c,
               days);
        if (s_chance(r, 30)) {
            int64_t a = (int64_t)pyrand_below(r, (uint64_t)days);
            s_addf(&b, "        pause_windows: [[%" PRId64 ", %" PRId64 "]]\n", a,
                   a + (int64_t)pyrand_below(r, 3));
        }
        s_addf(&b, "        actors:\n");
        size_t na = 1 + (size_t)pyrand_below(r, 3);
        for (size_t a = 0; a < na; a++) {
            s_spec_actor(r, &b, a, days, &st);
        }
        s_addf(&b, "        phases:\n");
        size_t np = 1 + (size_t)pyrand_below(r, 8);
        for (size_t p = 0; p < np; p++) {
            s_spec_phase(r, &b, na, &st);
        }
    }
    s_addf(&b, "  noise:\n    scanner_count: %d\n", (int)pyrand_below(r, 6));
    return b.s;
}

static int
s_collect(const obs_t *obs, void *arg)
{
    s_corpus_push(arg, obs_dup(obs));
    return 0;
}

/*  Loads a DSL document and generates it at seed into c. */
static void
s_generate_buffer(const char *text, int64_t seed, s_corpus_t *c)
{
    dsl_corpus_t *corpus = NULL;
    char err[512];
    int rc = dsl_load_buffer(text, strlen(text), "random.yaml", NULL, &corpus, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s\n--- spec ---\n%s\n", err, text);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(gen_run(corpus, seed, s_collect, c), 0);
    dsl_corpus_destroy(&corpus);
}

static void
test_random_dsl_specs(void **state)
{
    (void)state;
    size_t specs = 0, corpora = 0, observations = 0;
    s_cov_t cov = {0};
    for (uint64_t seed = 1; seed <= N_SPECS; seed++) {
        pyrand_t r;
        pyrand_seed(&r, 1000000 + seed);
        char *text = s_random_spec(&r);
        for (int run = 0; run < 2; run++) {
            int64_t gseed = (int64_t)pyrand_below(&r, 1u << 30);
            s_corpus_t c = {0};
            s_generate_buffer(text, gseed, &c);
            bool ok = s_check_equiv("random DSL spec", 1000000 + seed, s_view(&c), c.n);
            s_cover(&cov, s_view(&c), c.n);
            if (!ok) {
                fprintf(stderr, "generator seed %" PRId64 "\n--- spec ---\n%s\n", gseed, text);
            }
            corpora++;
            observations += c.n;
            s_corpus_free(&c);
            assert_true(ok);
        }
        specs++;
        free(text);
    }
    printf("[ equivalence ] random DSL specs: %zu specs, %zu generated corpora, %zu "
           "observations, production = reference at both layers\n",
           specs, corpora, observations);
    s_cov_print("random DSL specs", &cov);
    assert_true(cov.multi_obs > corpora / 4 && cov.multi_ident > corpora / 10);
    assert_true(cov.handoff > 0 && cov.keystroke > 0 && cov.temporal > 0);
}

/*  --------------------------------------------------------------------------------------
    3. Order independence */

/*  True when two observations of one identity (same ident label) have sessions on the same
    decky with the same start: a tie that SPEC §4 fix 2 must break without input order. */
static bool
s_has_identity_tie(const obs_t *const *obs, size_t n, const uint32_t *ident)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (ident[i] != ident[j]) {
                continue;
            }
            for (size_t s = 0; s < obs[i]->n_sessions; s++) {
                const obs_session_t *a = &obs[i]->sessions[s];
                for (size_t t = 0; t < obs[j]->n_sessions; t++) {
                    const obs_session_t *b = &obs[j]->sessions[t];
                    if (a->decky && b->decky && strcmp(a->decky, b->decky) == 0 &&
                        a->start == b->start) {
                        return true;
                    }
                }
            }
        }
    }
    return false;
}

/*  Corpora as generated, same-start ties included: in every permutation production =
    reference, and both layers equal the partition of the input order. */
static void
test_order_independence(void **state)
{
    (void)state;
    size_t corpora = 0, orders = 0, tied = 0;
    for (uint64_t seed = 1; seed <= N_ORDER; seed++) {
        pyrand_t r;
        pyrand_seed(&r, 2000000 + seed);
        s_corpus_t c = {0};
        s_random_corpus(&r, &c, false);
        const obs_t *const *obs = s_view(&c);
        size_t n = c.n;
        s_part_t base;
        s_part_init(&base, n);
        s_prod_part(obs, n, NULL, &base);
        tied += s_has_identity_tie(obs, n, base.ident);
        size_t *order = xcalloc(n + 1, sizeof *order);
        bool ok = true;
        for (int k = 0; k < 3 && ok; k++) {
            s_shuffle(&r, order, n);
            s_part_t p, q;
            s_part_init(&p, n);
            s_part_init(&q, n);
            s_prod_part(obs, n, order, &p);
            s_ref_part(obs, n, order, &q);
            ok = s_part_same("permuted input", 2000000 + seed, "production", &p, "reference", &q,
                             obs, n) &&
                 s_part_same("order independence", 2000000 + seed, "input order", &base,
                             "permutation", &p, obs, n);
            if (!ok) {
                fprintf(stderr, "  permutation:");
                for (size_t i = 0; i < n; i++) {
                    fprintf(stderr, " %zu", order[i]);
                }
                fprintf(stderr, "\n");
            }
            orders++;
            s_part_free(&p);
            s_part_free(&q);
        }
        free(order);
        s_part_free(&base);
        corpora++;
        s_corpus_free(&c);
        assert_true(ok);
    }
    printf("[ equivalence ] order independence: %zu corpora x 3 permutations (%zu orders), "
           "same-start ties kept; %zu corpora had two observations of one identity starting "
           "on one decky at the same time\n",
           corpora, orders, tied);
    /*  The generator's time lattice must actually produce the ties this test is about. */
    assert_true(tied > 0);
}

/*  --------------------------------------------------------------------------------------
    4. +90-day shift */

/*  A deep copy of c with every session start moved by SHIFT. */
static void
s_shifted(const s_corpus_t *c, s_corpus_t *out)
{
    for (size_t i = 0; i < c->n; i++) {
        obs_t *o = obs_dup(c->v[i]);
        for (size_t s = 0; s < o->n_sessions; s++) {
            o->sessions[s].start += SHIFT;
        }
        s_corpus_push(out, o);
    }
}

/*  Production on c and on c shifted: identical partitions, each equal to the reference. */
static bool
s_check_shift(const char *what, uint64_t seed, const s_corpus_t *c)
{
    s_corpus_t sh = {0};
    s_shifted(c, &sh);
    size_t n = c->n;
    s_part_t a, b;
    s_part_init(&a, n);
    s_part_init(&b, n);
    s_prod_part(s_view(c), n, NULL, &a);
    s_prod_part(s_view(&sh), n, NULL, &b);
    bool ok = s_part_same(what, seed, "original", &a, "shifted +90 days", &b, s_view(c), n);
    if (ok) {
        ok = s_check_equiv(what, seed, s_view(&sh), n);
    }
    s_part_free(&a);
    s_part_free(&b);
    s_corpus_free(&sh);
    return ok;
}

static void
test_shift_90_days(void **state)
{
    (void)state;
    size_t corpora = 0;
    for (uint64_t seed = 1; seed <= N_SHIFT; seed++) {
        pyrand_t r;
        pyrand_seed(&r, 3000000 + seed);
        s_corpus_t c = {0};
        s_random_corpus(&r, &c, true);
        bool ok = s_check_shift("+90-day shift", 3000000 + seed, &c);
        s_corpus_free(&c);
        corpora++;
        assert_true(ok);
    }
    /*  The DECNET scenarios and cadre's fixtures without `ops:` in their expected file. */
    static const char *const names[] = {
        "shared_wordlist", "vpn_hopping",        "lone_wolf", "paused_campaign",
        "multi_operator",  "noise_floor",        "slow_burn", "keystroke_overlap",
        "handoff_only",    "asymmetric_overlap",
    };
    const char *dir = getenv("FIXTURES_DIR");
    assert_non_null(dir);
    size_t fixtures = 0;
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        char *path = xasprintf("%s/campaigns/%s.yaml", dir, names[f]);
        dsl_corpus_t *corpus = NULL;
        char err[512];
        int rc = dsl_load_file(path, &corpus, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "%s\n", err);
        }
        assert_int_equal(rc, 0);
        for (int64_t gseed = 0; gseed < 4; gseed++) {
            s_corpus_t c = {0};
            assert_int_equal(gen_run(corpus, gseed, s_collect, &c), 0);
            bool ok = s_check_shift(names[f], (uint64_t)gseed, &c);
            s_corpus_free(&c);
            corpora++;
            assert_true(ok);
        }
        fixtures++;
        dsl_corpus_destroy(&corpus);
        free(path);
    }
    printf("[ equivalence ] +90-day shift: %zu corpora (%zu fixtures at seeds 0-3 included), "
           "partitions unchanged\n",
           corpora, fixtures);
}

/*  --------------------------------------------------------------------------------------
    Streams: upserts, fingerprint changes, deletes and re-upserts */

/*  A stream of records and its reconciliation interval. */
typedef struct {
    s_corpus_t rec; /* the inputs in order (upserts and deletes) */
    size_t every;   /* reconcile after every this many inputs */
} s_stream_t;

/*  A copy of o with its fingerprints redrawn (and sometimes its infrastructure dropped). */
static obs_t *
s_refingerprint(pyrand_t *r, const s_knobs_t *k, const obs_t *o)
{
    obs_t *n = obs_dup(o);
    free(n->ja3);
    free(n->hassh);
    free(n->ja4);
    n->ja3 = s_random_fp(r, k);
    n->hassh = s_random_fp(r, k);
    n->ja4 = k->use_ja4 ? s_random_fp(r, k) : NULL;
    if (s_chance(r, 30)) {
        for (size_t s = 0; s < n->n_sessions; s++) {
            free(n->sessions[s].payload_hash);
            free(n->sessions[s].c2);
            n->sessions[s].payload_hash = NULL;
            n->sessions[s].c2 = NULL;
        }
    }
    return n;
}

static void
s_random_stream(pyrand_t *r, s_stream_t *st)
{
    s_knobs_t k;
    s_random_knobs(r, &k);
    size_t universe = 4 + (size_t)pyrand_below(r, 37);
    size_t steps = 10 + (size_t)pyrand_below(r, 141);
    st->every = 1 + (size_t)pyrand_below(r, 10);
    const obs_t **cur = xcalloc(universe, sizeof *cur); /* latest upsert per id, or NULL */
    for (size_t step = 0; step < steps; step++) {
        size_t u = (size_t)pyrand_below(r, universe);
        char id[32];
        snprintf(id, sizeof id, "u%zu", u);
        obs_t *o;
        if (!cur[u]) {
            o = s_random_obs(r, &k, id); /* first upsert, or a re-upsert after a delete */
        } else if (s_chance(r, 25)) {
            o = obs_new();
            o->op = OBS_DELETE;
            o->id = xstrdup(id);
        } else if (s_chance(r, 60)) {
            o = s_refingerprint(r, &k, cur[u]);
        } else {
            o = s_random_obs(r, &k, id);
        }
        cur[u] = o->op == OBS_DELETE ? NULL : o;
        s_corpus_push(&st->rec, o);
    }
    free(cur);
}

/*  The live observations after the first `upto` inputs, in production's input order (an
    observation keeps the position of its first upsert since its last delete). */
typedef struct {
    const obs_t **live; /* live records, ordered */
    size_t n;           /* count */
} s_live_t;

static void
s_live_at(const s_stream_t *st, size_t upto, s_live_t *out)
{
    /* Per input index i: the record currently live for that id whose position is i. */
    const obs_t **at = xcalloc(upto + 1, sizeof *at);
    for (size_t i = 0; i < upto; i++) {
        const obs_t *o = st->rec.v[i];
        size_t first = SIZE_MAX; /* position of this id's live record */
        for (size_t j = 0; j < i; j++) {
            if (at[j] && strcmp(at[j]->id, o->id) == 0) {
                first = j;
                break;
            }
        }
        if (o->op == OBS_DELETE) {
            if (first != SIZE_MAX) {
                at[first] = NULL;
            }
        } else if (first != SIZE_MAX) {
            at[first] = o; /* replaced, keeps its place */
        } else {
            at[i] = o;
        }
    }
    out->live = xcalloc(upto + 1, sizeof *out->live);
    out->n = 0;
    for (size_t i = 0; i < upto; i++) {
        if (at[i]) {
            out->live[out->n++] = at[i];
        }
    }
    free(at);
}

/*  Production's state c (after a reconciliation over the first `upto` inputs) against the
    reference on the live set; also checks that production orders the live slots the same. */
static bool
s_check_stream_state(const cluster_t *c, const s_stream_t *st, size_t upto, uint64_t seed)
{
    s_live_t lv;
    s_live_at(st, upto, &lv);
    for (size_t i = 1; i < lv.n; i++) {
        int64_t a = cluster_find(c, lv.live[i - 1]->id);
        int64_t b = cluster_find(c, lv.live[i]->id);
        assert_true(a >= 0 && b >= 0);
        assert_true(cluster_slot_seq(c, (size_t)a) < cluster_slot_seq(c, (size_t)b));
    }
    s_part_t p, q;
    s_part_init(&p, lv.n);
    s_part_init(&q, lv.n);
    s_prod_canon(c, lv.live, lv.n, &p);
    s_ref_part(lv.live, lv.n, NULL, &q);
    char what[64];
    snprintf(what, sizeof what, "stream after %zu inputs", upto);
    bool ok = s_part_same(what, seed, "production", &p, "reference", &q, lv.live, lv.n);
    if (!ok) {
        fprintf(stderr, "  stream (reconcile every %zu):\n", st->every);
        for (size_t i = 0; i < upto; i++) {
            s_dump_obs(stderr, i, st->rec.v[i]);
        }
    }
    s_part_free(&p);
    s_part_free(&q);
    free(lv.live);
    return ok;
}

/*  Nothing lost (SPEC §5): every live observation has an identity and a campaign, each
    live identity is a live record pointing at that campaign, and the counts agree. */
static void
s_check_nothing_lost(const cluster_t *c)
{
    size_t slots = cluster_slots(c);
    size_t n_ids = cluster_identity_count(c);
    rec_identity_t *recs = xcalloc(n_ids + 1, sizeof *recs);
    for (size_t i = 0; i < n_ids; i++) {
        cluster_identity_record(c, i, &recs[i]);
    }
    const char **idents = xcalloc(slots + 1, sizeof *idents);
    const char **camps = xcalloc(slots + 1, sizeof *camps);
    size_t live = 0;
    for (size_t s = 0; s < slots; s++) {
        if (!cluster_slot_alive(c, s)) {
            assert_null(cluster_identity_of(c, s));
            assert_null(cluster_campaign_of(c, s));
            continue;
        }
        const char *ident = cluster_identity_of(c, s);
        const char *camp = cluster_campaign_of(c, s);
        assert_non_null(ident);
        assert_non_null(camp);
        const rec_identity_t *rec = NULL;
        for (size_t i = 0; i < n_ids; i++) {
            if (strcmp(recs[i].id, ident) == 0) {
                rec = &recs[i];
                break;
            }
        }
        assert_non_null(rec);
        assert_null(rec->merged_into);
        assert_non_null(rec->campaign);
        assert_string_equal(rec->campaign, camp);
        idents[live] = ident;
        camps[live] = camp;
        live++;
    }
    uint32_t *li = xcalloc(live + 1, sizeof *li);
    uint32_t *lc = xcalloc(live + 1, sizeof *lc);
    s_canon_strings(idents, live, li);
    s_canon_strings(camps, live, lc);
    size_t n_ident = 0, n_camp = 0;
    for (size_t i = 0; i < live; i++) {
        n_ident += li[i] == i;
        n_camp += lc[i] == i;
    }
    cluster_stats_t st = cluster_stats(c);
    assert_int_equal(st.observations, live);
    assert_int_equal(st.identities, n_ident);
    assert_int_equal(st.campaigns, n_camp);
    for (size_t i = 0; i < n_ids; i++) {
        rec_identity_clear(&recs[i]);
    }
    free(recs);
    free(li);
    free(lc);
    free(idents);
    free(camps);
}

/*  Events as text lines, every field included (ts in hexadecimal, so bit-exact). */
typedef struct {
    char **lines; /* one per event */
    size_t n;     /* count */
    size_t cap;   /* allocated */
} s_evlog_t;

static int
s_log_event(const ev_t *ev, void *arg)
{
    s_evlog_t *log = arg;
    s_buf_t b = {0};
    s_addf(&b, "%s|%s|%a|%s|%s|%s|", ev_topic(ev->kind), ev->id, ev->ts, ev->subject,
           ev->object ? ev->object : "-", ev->prior ? ev->prior : "-");
    for (size_t i = 0; i < ev->n_members; i++) {
        s_addf(&b, "%s%s", i ? "," : "", ev->members[i]);
    }
    xgrow(&log->lines, &log->cap, log->n + 1);
    log->lines[log->n++] = b.s ? b.s : xstrdup("");
    return 0;
}

static void
s_evlog_free(s_evlog_t *log)
{
    for (size_t i = 0; i < log->n; i++) {
        free(log->lines[i]);
    }
    free(log->lines);
    memset(log, 0, sizeof *log);
}

/*  Counts events per kind (arg: size_t[EV_KIND_COUNT]); a linked or assigned event with a
    prior id is also counted in the slot after the last kind (re-links). */
static int
s_count_kinds(const ev_t *ev, void *arg)
{
    size_t *kinds = arg;
    kinds[ev->kind]++;
    if (ev->prior) {
        kinds[EV_KIND_COUNT]++;
    }
    return 0;
}

/*  Runs a stream through a new engine, reconciling every st->every inputs and at the end,
    reporting every event to fn (may be NULL). check: compare with the reference at every
    reconciliation and check the fixed point. Returns the engine (caller destroys it), or
    NULL after a reported mismatch. */
static cluster_t *
s_run_stream(const s_stream_t *st, bool check, cluster_event_fn fn, void *arg, uint64_t seed)
{
    cluster_t *c = s_engine();
    size_t since = 0;
    for (size_t i = 0; i < st->rec.n; i++) {
        cluster_apply(c, st->rec.v[i]);
        since++;
        if (since < st->every && i + 1 < st->rec.n) {
            continue;
        }
        since = 0;
        assert_int_equal(cluster_reconcile(c, fn, arg), 0);
        if (check) {
            size_t again = 0;
            assert_int_equal(cluster_reconcile(c, s_count_event, &again), 0);
            assert_int_equal(again, 0);
            if (!s_check_stream_state(c, st, i + 1, seed)) {
                cluster_destroy(&c);
                return NULL;
            }
        }
    }
    return c;
}

/*  --------------------------------------------------------------------------------------
    5. Convergence and nothing lost */

static void
test_convergence(void **state)
{
    (void)state;
    size_t streams = 0, inputs = 0, deletes = 0, reconciliations = 0;
    size_t kinds[EV_KIND_COUNT + 1] = {0};
    for (uint64_t seed = 1; seed <= N_STREAMS; seed++) {
        pyrand_t r;
        pyrand_seed(&r, 4000000 + seed);
        s_stream_t st = {0};
        s_random_stream(&r, &st);
        cluster_t *c = s_run_stream(&st, true, s_count_kinds, kinds, 4000000 + seed);
        assert_non_null(c);
        /*  Quiescence: one more reconciliation changes nothing, nothing is lost. */
        size_t again = 0;
        assert_int_equal(cluster_reconcile(c, s_count_event, &again), 0);
        assert_int_equal(again, 0);
        s_check_nothing_lost(c);
        reconciliations += cluster_stats(c).reconciliations;
        cluster_destroy(&c);
        for (size_t i = 0; i < st.rec.n; i++) {
            deletes += st.rec.v[i]->op == OBS_DELETE;
        }
        inputs += st.rec.n;
        streams++;
        s_corpus_free(&st.rec);
    }
    printf("[ equivalence ] convergence: %zu streams, %zu inputs (%zu deletes), %zu "
           "reconciliations, each a fixed point and equal to the reference\n",
           streams, inputs, deletes, reconciliations);
    printf("[ equivalence ] convergence events:");
    for (int k = 0; k < EV_KIND_COUNT; k++) {
        printf(" %s %zu,", ev_topic((ev_kind_t)k), kinds[k]);
    }
    printf(" with a prior id %zu\n", kinds[EV_KIND_COUNT]);
    /*  The streams must exercise merges, unmerges and re-links at both layers. */
    assert_true(kinds[EV_IDENTITY_MERGED] > 0 && kinds[EV_IDENTITY_UNMERGED] > 0);
    assert_true(kinds[EV_CAMPAIGN_MERGED] > 0 && kinds[EV_CAMPAIGN_UNMERGED] > 0);
    assert_true(kinds[EV_KIND_COUNT] > 0);
}

/*  --------------------------------------------------------------------------------------
    6. Determinism */

/*  Both NULL, or equal strings. */
static void
s_same_opt(const char *a, const char *b)
{
    assert_true((a == NULL) == (b == NULL));
    if (a) {
        assert_string_equal(a, b);
    }
}

static void
test_determinism(void **state)
{
    (void)state;
    size_t streams = 0, events = 0;
    for (uint64_t seed = 1; seed <= N_DETERM; seed++) {
        pyrand_t r;
        pyrand_seed(&r, 5000000 + seed);
        s_stream_t st = {0};
        s_random_stream(&r, &st);
        s_evlog_t a = {0}, b = {0};
        cluster_t *ca = s_run_stream(&st, false, s_log_event, &a, 5000000 + seed);
        cluster_t *cb = s_run_stream(&st, false, s_log_event, &b, 5000000 + seed);
        assert_int_equal(a.n, b.n);
        for (size_t i = 0; i < a.n; i++) {
            assert_string_equal(a.lines[i], b.lines[i]);
        }
        assert_int_equal(cluster_slots(ca), cluster_slots(cb));
        for (size_t s = 0; s < cluster_slots(ca); s++) {
            s_same_opt(cluster_identity_of(ca, s), cluster_identity_of(cb, s));
            s_same_opt(cluster_campaign_of(ca, s), cluster_campaign_of(cb, s));
        }
        assert_int_equal(cluster_identity_count(ca), cluster_identity_count(cb));
        assert_int_equal(cluster_campaign_count(ca), cluster_campaign_count(cb));
        for (size_t i = 0; i < cluster_identity_count(ca); i++) {
            rec_identity_t ra, rb;
            cluster_identity_record(ca, i, &ra);
            cluster_identity_record(cb, i, &rb);
            s_same_opt(ra.id, rb.id);
            s_same_opt(ra.merged_into, rb.merged_into);
            s_same_opt(ra.campaign, rb.campaign);
            rec_identity_clear(&ra);
            rec_identity_clear(&rb);
        }
        for (size_t i = 0; i < cluster_campaign_count(ca); i++) {
            rec_campaign_t ra, rb;
            cluster_campaign_record(ca, i, &ra);
            cluster_campaign_record(cb, i, &rb);
            s_same_opt(ra.id, rb.id);
            s_same_opt(ra.merged_into, rb.merged_into);
            rec_campaign_clear(&ra);
            rec_campaign_clear(&rb);
        }
        events += a.n;
        streams++;
        cluster_destroy(&ca);
        cluster_destroy(&cb);
        s_evlog_free(&a);
        s_evlog_free(&b);
        s_corpus_free(&st.rec);
    }
    printf("[ equivalence ] determinism: %zu streams run twice, %zu events byte-identical\n",
           streams, events);
}

/*  --------------------------------------------------------------------------------------
    7. Skew: one C2 shared by nearly every identity */

/*  MAX_SKEW / 2 .. MAX_SKEW random observations; 90% get a HASSH of their own (the
    identity layer keeps them apart) and 85% one more random session carrying the C2
    "shared", so the campaign layer sees one key held by most identities next to the
    corpus's other payloads, C2s, handoffs and keystrokes. */
static void
s_skewed_corpus(pyrand_t *r, s_corpus_t *c)
{
    s_knobs_t k;
    s_random_knobs(r, &k);
    size_t n = MAX_SKEW / 2 + (size_t)pyrand_below(r, MAX_SKEW / 2 + 1);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "o%zu", i);
        obs_t *o = s_random_obs(r, &k, id);
        if (s_chance(r, 90)) {
            char hassh[32];
            snprintf(hassh, sizeof hassh, "h%zu", i);
            free(o->hassh);
            o->hassh = xstrdup(hassh);
        }
        if (s_chance(r, 85)) {
            obs_session_t *sess = obs_add_session(o);
            s_random_session(r, &k, sess);
            free(sess->c2);
            sess->c2 = xstrdup("shared");
        }
        s_corpus_push(c, o);
    }
}

/*  The campaign pass walks each candidate-index list once per reconciliation instead of
    once per identity probing it; the partition must stay the reference's. */
static void
test_shared_c2_skew(void **state)
{
    (void)state;
    size_t observations = 0, multi = 0;
    for (uint64_t seed = 1; seed <= N_SKEW; seed++) {
        pyrand_t r;
        pyrand_seed(&r, 7000000 + seed);
        s_corpus_t c = {0};
        s_skewed_corpus(&r, &c);
        s_part_t p;
        s_part_init(&p, c.n);
        s_prod_part(s_view(&c), c.n, NULL, &p);
        size_t joined = 0; /* observations whose campaign holds an earlier one */
        for (size_t i = 0; i < c.n; i++) {
            joined += p.camp[i] != i;
        }
        multi += joined > c.n / 4;
        s_part_free(&p);
        bool ok = s_check_equiv("one shared C2", 7000000 + seed, s_view(&c), c.n);
        observations += c.n;
        s_corpus_free(&c);
        assert_true(ok);
    }
    printf("[ equivalence ] one shared C2: %d corpora, %zu observations, production = "
           "reference at both layers; %zu corpora with large joined campaigns\n",
           N_SKEW, observations, multi);
    assert_true(multi > N_SKEW / 4); /* the shared C2 does join identities */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_threshold_sum_order),
        cmocka_unit_test(test_exact_threshold_contained_windows),
        cmocka_unit_test(test_exact_threshold_one_bit_keystroke),
        cmocka_unit_test(test_tie_order_independence),
        cmocka_unit_test(test_random_observation_sets),
        cmocka_unit_test(test_random_dsl_specs),
        cmocka_unit_test(test_order_independence),
        cmocka_unit_test(test_shift_90_days),
        cmocka_unit_test(test_convergence),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_shared_c2_skew),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
