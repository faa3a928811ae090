/*  test_cluster.c - the one-process engine: reconciliation cases of SPEC §5 (R§11 "Identity
    tick" restated), events in SPEC §6 order, generic keys, convergence and determinism. */
#include "cluster.h"
#include "part.h"
#include "uf.h"
#include "xalloc.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  Events captured from one reconciliation, as "topic subject object prior" lines. */
typedef struct {
    char **lines; /* one line per event */
    size_t n;     /* count */
    size_t cap;   /* allocated */
} s_log_t;

static int
s_capture(const ev_t *ev, void *arg)
{
    s_log_t *log = arg;
    char members[4096] = "";
    for (size_t i = 0; i < ev->n_members; i++) {
        strncat(members, ev->members[i], sizeof members - strlen(members) - 2);
        strncat(members, ",", sizeof members - strlen(members) - 1);
    }
    xgrow(&log->lines, &log->cap, log->n + 1);
    log->lines[log->n++] =
        xasprintf("%s %s %s %s %s", ev_topic(ev->kind), ev->subject, ev->object ? ev->object : "-",
                  ev->prior ? ev->prior : "-", members);
    return 0;
}

/*  Like s_capture, but records only the topic and member count (for huge events). */
static int
s_capture_counts(const ev_t *ev, void *arg)
{
    s_log_t *log = arg;
    xgrow(&log->lines, &log->cap, log->n + 1);
    log->lines[log->n++] = xasprintf("%s %zu", ev_topic(ev->kind), ev->n_members);
    return 0;
}

static void
s_log_free(s_log_t *log)
{
    for (size_t i = 0; i < log->n; i++) {
        free(log->lines[i]);
    }
    free(log->lines);
    memset(log, 0, sizeof *log);
}

static size_t
s_count(const s_log_t *log, const char *topic)
{
    size_t n = 0;
    size_t len = strlen(topic);
    for (size_t i = 0; i < log->n; i++) {
        n += strncmp(log->lines[i], topic, len) == 0 && log->lines[i][len] == ' ';
    }
    return n;
}

/*  An observation with the given fingerprints and optional payload / C2. */
static obs_t *
s_obs(const char *id, const char *ja3, const char *hassh, const char *payload, const char *c2)
{
    obs_t *o = obs_new();
    o->id = xstrdup(id);
    o->ja3 = ja3 ? xstrdup(ja3) : NULL;
    o->hassh = hassh ? xstrdup(hassh) : NULL;
    obs_session_t *s = obs_add_session(o);
    s->phase = UKC_DELIVERY;
    s->start = 1767225600.0;
    s->duration = 1.0;
    s->payload_hash = payload ? xstrdup(payload) : NULL;
    s->c2 = c2 ? xstrdup(c2) : NULL;
    return o;
}

static void
s_put(cluster_t *c, obs_t *o)
{
    cluster_apply(c, o);
    obs_destroy(&o);
}

static void
s_delete(cluster_t *c, const char *id)
{
    obs_t *o = obs_new();
    o->op = OBS_DELETE;
    o->id = xstrdup(id);
    cluster_apply(c, o);
    obs_destroy(&o);
}

static cluster_t *
s_new(void)
{
    ccfg_t cfg;
    ccfg_reference(&cfg);
    return cluster_new(&cfg, "test");
}

static const char *
s_ident(cluster_t *c, const char *id)
{
    int64_t slot = cluster_find(c, id);
    assert_true(slot >= 0);
    return cluster_identity_of(c, (size_t)slot);
}

static void
s_reconcile(cluster_t *c, s_log_t *log)
{
    s_log_free(log);
    assert_int_equal(cluster_reconcile(c, s_capture, log), 0);
}

static void
test_empty(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    s_log_t log = {0};
    s_reconcile(c, &log);
    assert_int_equal(log.n, 0);
    assert_int_equal(cluster_stats(c).identities, 0);
    s_log_free(&log);
    cluster_destroy(&c);
    assert_null(c);
}

static void
test_shared_ja3_forms_one_then_nothing(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    s_log_t log = {0};
    s_put(c, s_obs("a", "J", NULL, NULL, NULL));
    s_put(c, s_obs("b", "J", NULL, NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.formed"), 1);
    assert_int_equal(s_count(&log, "identity.observation.linked"), 0);
    assert_int_equal(s_count(&log, "campaign.formed"), 1);
    assert_int_equal(s_count(&log, "identity.campaign.assigned"), 1);
    assert_non_null(strstr(log.lines[0], " a,b,"));
    assert_string_equal(s_ident(c, "a"), s_ident(c, "b"));
    /* A second reconciliation with no input change reports nothing (fixed point). */
    s_reconcile(c, &log);
    assert_int_equal(log.n, 0);
    /* A new observation with a known JA3 is linked, not formed. */
    s_put(c, s_obs("c", "J", NULL, NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(log.n, 1);
    assert_int_equal(s_count(&log, "identity.observation.linked"), 1);
    s_log_free(&log);
    cluster_destroy(&c);
}

static void
test_distinct_form_two(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    s_log_t log = {0};
    s_put(c, s_obs("a", "J1", NULL, NULL, NULL));
    s_put(c, s_obs("b", "J2", NULL, NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.formed"), 2);
    assert_string_not_equal(s_ident(c, "a"), s_ident(c, "b"));
    assert_int_equal(cluster_stats(c).campaigns, 2);
    s_log_free(&log);
    cluster_destroy(&c);
}

/*  A bridge merges two identities (oldest wins, soft); removing it unmerges them. */
static void
test_merge_then_unmerge(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    s_log_t log = {0};
    s_put(c, s_obs("a", "J1", NULL, NULL, NULL));
    s_put(c, s_obs("b", NULL, "H2", NULL, NULL));
    s_reconcile(c, &log);
    char *ia = xstrdup(s_ident(c, "a"));
    char *ib = xstrdup(s_ident(c, "b"));
    /* The bridge agrees with a on JA3 and with b on HASSH. */
    s_put(c, s_obs("x", "J1", "H2", NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.merged"), 1);
    assert_int_equal(s_count(&log, "identity.observation.linked"), 1);
    assert_int_equal(s_count(&log, "identity.formed"), 0);
    char *want = xasprintf("identity.merged %s %s - ", ia, ib);
    assert_string_equal(log.lines[1], want); /* linked first, then merged */
    free(want);
    assert_string_equal(s_ident(c, "b"), ia);
    rec_identity_t r;
    cluster_identity_record(c, 1, &r);
    assert_string_equal(r.id, ib);
    assert_string_equal(r.merged_into, ia);
    rec_identity_clear(&r);
    cluster_identity_record(c, 0, &r);
    assert_null(r.merged_into);
    assert_int_equal(r.observations, 3);
    rec_identity_clear(&r);
    /* Campaign layer: the merged-out identity leaves, so its campaign merges too. */
    assert_int_equal(cluster_stats(c).campaigns, 1);
    /* Upsert the bridge so it no longer agrees with b: b's identity comes back. */
    s_put(c, s_obs("x", "J1", NULL, NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.unmerged"), 1);
    want = xasprintf("identity.unmerged %s %s - ", ib, ia);
    assert_string_equal(log.lines[0], want);
    free(want);
    assert_string_equal(s_ident(c, "b"), ib);
    cluster_identity_record(c, 1, &r);
    assert_null(r.merged_into);
    rec_identity_clear(&r);
    s_reconcile(c, &log);
    assert_int_equal(log.n, 0);
    free(ia);
    free(ib);
    s_log_free(&log);
    cluster_destroy(&c);
}

/*  A delete that removes the only link splits an identity: the part with the oldest member
    keeps the id, the other part gets a new one and its members are re-linked. */
static void
test_delete_splits(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    s_log_t log = {0};
    s_put(c, s_obs("a1", NULL, NULL, "P", NULL));
    s_put(c, s_obs("a2", NULL, NULL, "P", NULL));
    s_put(c, s_obs("bridge", NULL, NULL, "P", "C"));
    s_put(c, s_obs("b1", NULL, NULL, NULL, "C"));
    s_put(c, s_obs("b2", NULL, NULL, NULL, "C"));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.formed"), 1);
    char *id0 = xstrdup(s_ident(c, "a1"));
    assert_string_equal(s_ident(c, "b2"), id0);
    s_delete(c, "bridge");
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.formed"), 1);
    assert_int_equal(s_count(&log, "identity.observation.linked"), 2);
    assert_string_equal(s_ident(c, "a1"), id0);
    assert_string_equal(s_ident(c, "a2"), id0);
    assert_string_not_equal(s_ident(c, "b1"), id0);
    assert_string_equal(s_ident(c, "b1"), s_ident(c, "b2"));
    /* The re-link events carry the real prior id. */
    for (size_t i = 0; i < log.n; i++) {
        if (strncmp(log.lines[i], "identity.observation.linked", 27) == 0) {
            assert_non_null(strstr(log.lines[i], id0));
        }
    }
    assert_int_equal(cluster_stats(c).identities, 2);
    assert_int_equal(cluster_stats(c).campaigns, 2);
    s_reconcile(c, &log);
    assert_int_equal(log.n, 0);
    free(id0);
    s_log_free(&log);
    cluster_destroy(&c);
}

/*  R§12.9: identities a, b, c formed in that order, b merged into a, one observation each;
    then b's and c's observations come to share a JA3 while a's differs. DECNET oscillates
    forever between merging a with c and with b; cadre settles in one reconciliation: b and
    c form one component, b (formed first) wins, c merges into it, b leaves a. */
static void
test_oscillation_converges(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    s_log_t log = {0};
    s_put(c, s_obs("oa", "JA", NULL, NULL, NULL));
    s_put(c, s_obs("ob", "JB", "HB", NULL, NULL));
    s_put(c, s_obs("oc", "JC", NULL, NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.formed"), 3);
    char *ia = xstrdup(s_ident(c, "oa"));
    char *ib = xstrdup(s_ident(c, "ob"));
    char *ic = xstrdup(s_ident(c, "oc"));
    /* A bridge agreeing with a on JA3 and with b on HASSH merges b into a. */
    s_put(c, s_obs("bridge", "JA", "HB", NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(s_count(&log, "identity.merged"), 1);
    assert_string_equal(s_ident(c, "ob"), ia);
    /* The bridge goes, and c's observation now shares b's JA3. */
    s_delete(c, "bridge");
    s_put(c, s_obs("oc", "JB", NULL, NULL, NULL));
    s_reconcile(c, &log);
    char *merged = xasprintf("identity.merged %s %s - ", ib, ic);
    char *unmerged = xasprintf("identity.unmerged %s %s - ", ib, ia);
    assert_int_equal(log.n, 2);
    assert_string_equal(log.lines[0], merged);
    assert_string_equal(log.lines[1], unmerged);
    assert_string_equal(s_ident(c, "oa"), ia);
    assert_string_equal(s_ident(c, "ob"), ib);
    assert_string_equal(s_ident(c, "oc"), ib);
    for (int round = 0; round < 3; round++) {
        s_reconcile(c, &log);
        assert_int_equal(log.n, 0);
    }
    free(merged);
    free(unmerged);
    free(ia);
    free(ib);
    free(ic);
    s_log_free(&log);
    cluster_destroy(&c);
}

/*  A formed event never carries more than CLUSTER_FORMED_MAX members; the rest arrive as
    linked events with a null prior. */
static void
test_huge_formed_is_split(void **state)
{
    (void)state;
    cluster_t *c = s_new();
    size_t n = CLUSTER_FORMED_MAX + 1000;
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "o%zu", i);
        s_put(c, s_obs(id, "SAME", NULL, NULL, NULL));
    }
    s_log_t log = {0};
    assert_int_equal(cluster_reconcile(c, s_capture_counts, &log), 0);
    /* s_capture_counts stores one line per event: the topic and the member count. */
    assert_int_equal(s_count(&log, "identity.formed"), 1);
    assert_int_equal(s_count(&log, "identity.observation.linked"), 1000);
    char want[64];
    snprintf(want, sizeof want, "identity.formed %d", CLUSTER_FORMED_MAX);
    assert_string_equal(log.lines[0], want);
    assert_int_equal(cluster_stats(c).identities, 1);
    s_log_free(&log);
    cluster_destroy(&c);
}

/*  A shared HASSH over the generic cutoff stops linking: the identity unmerges. */
static void
test_generic_key_unmerges(void **state)
{
    (void)state;
    ccfg_t cfg;
    ccfg_reference(&cfg);
    cfg.generic_cutoff[KEY_HASSH] = 3;
    cluster_t *c = cluster_new(&cfg, "test");
    s_log_t log = {0};
    s_put(c, s_obs("a", "J1", "LIB", NULL, NULL));
    s_put(c, s_obs("b", "J2", "LIB", NULL, NULL));
    s_reconcile(c, &log);
    assert_string_equal(s_ident(c, "a"), s_ident(c, "b"));
    s_put(c, s_obs("c", "J3", "LIB", NULL, NULL));
    s_put(c, s_obs("d", "J4", "LIB", NULL, NULL));
    s_reconcile(c, &log);
    assert_int_equal(cluster_stats(c).id_part.generic_keys, 1);
    assert_int_equal(cluster_stats(c).identities, 4);
    assert_string_not_equal(s_ident(c, "a"), s_ident(c, "b"));
    s_log_free(&log);
    cluster_destroy(&c);
}

/*  N identities held apart by distinct HASSHes and sharing one C2 form one campaign.
    Finding the campaign candidates walks the C2's list of holders once per
    reconciliation, not once for every identity probing it; and when every holder's
    features are rebuilt (a payload turned generic), the list is walked once to take them
    all out, not once per holder (N^2 entries each before; the count is the engine's own,
    index_visits, not a time). */
static void
test_shared_c2_index_work(void **state)
{
    (void)state;
    enum { N = 400 };
    ccfg_t cfg;
    ccfg_reference(&cfg);
    cfg.generic_cutoff[KEY_PAYLOAD] = 1;
    cluster_t *c = cluster_new(&cfg, "test");
    char id[32];
    char hassh[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "o%d", i);
        snprintf(hassh, sizeof hassh, "H%d", i);
        s_put(c, s_obs(id, NULL, hassh, NULL, "C2"));
    }
    assert_int_equal(cluster_reconcile(c, NULL, NULL), 0);
    cluster_stats_t st = cluster_stats(c);
    assert_int_equal(st.identities, N);
    assert_int_equal(st.campaigns, 1);
    assert_true(st.index_visits >= N && st.index_visits <= 2 * N);
    /* One more holder, reconciled alone: the one list again, once. */
    s_put(c, s_obs("extra", NULL, "Hx", NULL, "C2"));
    assert_int_equal(cluster_reconcile(c, NULL, NULL), 0);
    st = cluster_stats(c);
    assert_int_equal(st.identities, N + 1);
    assert_int_equal(st.campaigns, 1);
    assert_true(st.index_visits <= 2 * (N + 1));
    assert_string_equal(cluster_campaign_of(c, (size_t)cluster_find(c, "extra")),
                        cluster_campaign_of(c, 0));
    /* A payload held twice turns generic: every identity's features are rebuilt. */
    s_put(c, s_obs("p1", NULL, "Hp1", "P", NULL));
    s_put(c, s_obs("p2", NULL, "Hp2", "P", NULL));
    assert_int_equal(cluster_reconcile(c, NULL, NULL), 0);
    st = cluster_stats(c);
    assert_int_equal(st.id_part.generic_keys, 1);
    assert_int_equal(st.identities, N + 3);
    assert_int_equal(st.campaigns, 3);
    assert_true(st.index_visits >= N && st.index_visits <= 2 * (N + 3));
    cluster_destroy(&c);
}

/*  One random record of the incremental test: small value pools so that identities merge,
    split and keys turn generic; two deckies and handoff phases so campaigns form. */
typedef struct {
    int ja3, hassh, payload, c2, phase, decky; /* pool indexes, -1 = absent */
    double start;                              /* session start */
} s_rnd_rec_t;

static obs_t *
s_rnd_obs(const char *id, const s_rnd_rec_t *r)
{
    static const ukc_phase_t phases[] = {UKC_COMMAND_AND_CONTROL, UKC_PERSISTENCE, UKC_DISCOVERY,
                                         UKC_LATERAL_MOVEMENT, UKC_DELIVERY};
    char buf[32];
    obs_t *o = obs_new();
    o->id = xstrdup(id);
    if (r->ja3 >= 0) {
        snprintf(buf, sizeof buf, "J%d", r->ja3);
        o->ja3 = xstrdup(buf);
    }
    if (r->hassh >= 0) {
        snprintf(buf, sizeof buf, "H%d", r->hassh);
        o->hassh = xstrdup(buf);
    }
    obs_session_t *s = obs_add_session(o);
    s->phase = phases[r->phase];
    s->start = r->start;
    s->duration = 60.0;
    snprintf(buf, sizeof buf, "d%d", r->decky);
    s->decky = xstrdup(buf);
    if (r->payload >= 0) {
        snprintf(buf, sizeof buf, "P%d", r->payload);
        s->payload_hash = xstrdup(buf);
    }
    if (r->c2 >= 0) {
        snprintf(buf, sizeof buf, "C%d", r->c2);
        s->c2 = xstrdup(buf);
    }
    return o;
}

/*  For each of n ids, the index of the first id in the same group (identity or campaign),
    or -1 when the id is not live: a canonical form of a partition. */
static void
s_groups(cluster_t *c, int n, bool campaign, int *out)
{
    char id[16];
    const char *label[64];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "o%d", i);
        int64_t slot = cluster_find(c, id);
        label[i] = NULL;
        out[i] = -1;
        if (slot < 0 || !cluster_slot_alive(c, (size_t)slot)) {
            continue;
        }
        label[i] =
            campaign ? cluster_campaign_of(c, (size_t)slot) : cluster_identity_of(c, (size_t)slot);
        assert_non_null(label[i]);
        out[i] = i;
        for (int j = 0; j < i; j++) {
            if (label[j] && strcmp(label[j], label[i]) == 0) {
                out[i] = out[j];
                break;
            }
        }
    }
}

/*  Reconciling every few inputs (features of unchanged identities reused between
    reconciliations) gives, after each reconciliation, the same identity and campaign
    partitions as a fresh engine fed only the live records. */
static void
test_incremental_matches_fresh(void **state)
{
    (void)state;
    enum { N_IDS = 40, STEPS = 600, EVERY = 7 };
    ccfg_t cfg;
    ccfg_reference(&cfg);
    cfg.generic_cutoff[KEY_HASSH] = 6; /* keys turn generic and back */
    cfg.generic_cutoff[KEY_PAYLOAD] = 8;
    srand(12345);
    cluster_t *c = cluster_new(&cfg, "test");
    s_rnd_rec_t rec[N_IDS];
    bool live[N_IDS] = {false};
    char id[16];
    for (int step = 1; step <= STEPS; step++) {
        int i = rand() % N_IDS;
        snprintf(id, sizeof id, "o%d", i);
        if (live[i] && rand() % 5 == 0) {
            s_delete(c, id);
            live[i] = false;
        } else {
            s_rnd_rec_t r = {rand() % 7 - 2,
                             rand() % 6 - 1,
                             rand() % 8 - 3,
                             rand() % 5 - 2,
                             rand() % 5,
                             rand() % 2,
                             1767225600.0 + (rand() % 48) * 3600.0};
            rec[i] = r;
            live[i] = true;
            s_put(c, s_rnd_obs(id, &r));
        }
        if (step % EVERY != 0) {
            continue;
        }
        assert_int_equal(cluster_reconcile(c, NULL, NULL), 0);
        cluster_t *fresh = cluster_new(&cfg, "test");
        for (int k = 0; k < N_IDS; k++) {
            if (live[k]) {
                snprintf(id, sizeof id, "o%d", k);
                s_put(fresh, s_rnd_obs(id, &rec[k]));
            }
        }
        assert_int_equal(cluster_reconcile(fresh, NULL, NULL), 0);
        for (int layer = 0; layer < 2; layer++) {
            int a[N_IDS];
            int b[N_IDS];
            s_groups(c, N_IDS, layer == 1, a);
            s_groups(fresh, N_IDS, layer == 1, b);
            assert_memory_equal(a, b, sizeof a);
        }
        cluster_destroy(&fresh);
    }
    cluster_destroy(&c);
}

/*  The identity partition of c's live slots, as union-find roots (comp[slot]), with the
    generic keys into generic (cleared first). */
static void
s_full_partition(cluster_t *c, uint32_t *comp, u64map_t *generic)
{
    size_t n = cluster_slots(c);
    ident_feat_t *feats = xcalloc(n + 1, sizeof *feats);
    bool *alive = xcalloc(n + 1, sizeof *alive);
    for (size_t e = 0; e < n; e++) {
        alive[e] = cluster_slot_alive(c, e);
        if (alive[e]) {
            feats[e] = *cluster_ident_feat(c, e); /* shallow, read only */
        }
    }
    uf_t *uf = uf_new(n);
    u64map_clear(generic);
    part_identity(feats, alive, n, cluster_cfg(c), uf, generic, NULL);
    for (size_t e = 0; e < n; e++) {
        comp[e] = alive[e] ? uf_find(uf, (uint32_t)e) : UINT32_MAX;
    }
    uf_destroy(&uf);
    free(feats);
    free(alive);
}

/*  cluster_reconcile_some() over only the components that changed (found here by
    comparing the partition with the last one) reports the same events, byte for byte, and
    gives the same records as cluster_reconcile() over everything, on a random stream of
    upserts and deletes with keys turning generic and back. Leaving out a changed slot is
    refused. With shared_c2, every record holds the same C2 and a HASSH of its own id: one
    candidate-index list holds every identity (the skewed case of docs/bench.md). */
static void
s_some_vs_full(int pool, unsigned seed, bool shared_c2)
{
    enum { N_IDS = 48, STEPS = 900, EVERY = 5 };
    ccfg_t cfg;
    ccfg_reference(&cfg);
    cfg.generic_cutoff[KEY_HASSH] = 6;
    cfg.generic_cutoff[KEY_PAYLOAD] = 8;
    srand(seed);
    cluster_t *full = cluster_new(&cfg, "test");
    cluster_t *some = cluster_new(&cfg, "test");
    u64map_t *generic = u64map_new();
    uint32_t prev[N_IDS];   /* component label per slot at the last reconciliation */
    bool prev_alive[N_IDS]; /* alive then */
    bool dirty[N_IDS] = {false};
    size_t listed_total = 0, slots_total = 0, events = 0;
    for (int k = 0; k < N_IDS; k++) {
        prev[k] = UINT32_MAX;
        prev_alive[k] = false;
    }
    char id[16];
    for (int step = 1; step <= STEPS; step++) {
        int i = rand() % N_IDS;
        snprintf(id, sizeof id, "o%d", i);
        if (cluster_find(some, id) >= 0 &&
            cluster_slot_alive(some, (size_t)cluster_find(some, id)) && rand() % 5 == 0) {
            s_delete(full, id);
            s_delete(some, id);
        } else {
            s_rnd_rec_t r = {rand() % (7 * pool) - 2,
                             rand() % (6 * pool) - 1,
                             rand() % (8 * pool) - 3,
                             rand() % (5 * pool) - 2,
                             rand() % 5,
                             rand() % 2,
                             1767225600.0 + (rand() % (48 * pool)) * 3600.0};
            if (shared_c2) {
                r.hassh = 100 + i;
                r.c2 = 0;
            }
            s_put(full, s_rnd_obs(id, &r));
            s_put(some, s_rnd_obs(id, &r));
        }
        dirty[cluster_find(some, id)] = true;
        if (step % EVERY != 0) {
            continue;
        }
        size_t n = cluster_slots(some);
        uint32_t comp[N_IDS];
        s_full_partition(some, comp, generic);
        /* A component is unchanged when none of its slots changed and it holds exactly
           the live slots of one old component. */
        size_t size_new[N_IDS] = {0};
        size_t size_old[N_IDS] = {0};
        bool changed[N_IDS] = {false};
        uint32_t old_of[N_IDS];
        for (size_t e = 0; e < n; e++) {
            old_of[e] = UINT32_MAX;
        }
        for (size_t e = 0; e < n; e++) {
            if (prev_alive[e]) {
                size_old[prev[e]]++;
            }
            if (!cluster_slot_alive(some, e)) {
                continue;
            }
            size_new[comp[e]]++;
            uint32_t want = prev_alive[e] ? prev[e] : UINT32_MAX - 1;
            if (dirty[e] || want == UINT32_MAX - 1 ||
                (old_of[comp[e]] != UINT32_MAX && old_of[comp[e]] != want)) {
                changed[comp[e]] = true;
            }
            old_of[comp[e]] = want;
        }
        for (size_t e = 0; e < n; e++) {
            if (cluster_slot_alive(some, e) && !changed[comp[e]] &&
                size_old[old_of[comp[e]]] != size_new[comp[e]]) {
                changed[comp[e]] = true;
            }
        }
        uint32_t slots[N_IDS];
        uint32_t labels[N_IDS];
        size_t k = 0;
        for (size_t e = 0; e < n; e++) {
            if ((cluster_slot_alive(some, e) && changed[comp[e]]) ||
                (!cluster_slot_alive(some, e) && dirty[e])) {
                slots[k] = (uint32_t)e;
                labels[k++] = cluster_slot_alive(some, e) ? comp[e] : 0;
            }
        }
        if (k > 0 && cluster_slot_alive(some, slots[k - 1]) && dirty[slots[k - 1]]) {
            /* leaving out a changed slot is refused, changing nothing */
            assert_int_equal(
                cluster_reconcile_some(some, slots, labels, k - 1, generic, NULL, NULL, NULL),
                -EINVAL);
        }
        s_log_t la = {0}, lb = {0};
        assert_int_equal(cluster_reconcile(full, s_capture, &la), 0);
        assert_int_equal(
            cluster_reconcile_some(some, slots, labels, k, generic, NULL, s_capture, &lb), 0);
        assert_int_equal(la.n, lb.n);
        for (size_t j = 0; j < la.n; j++) {
            assert_string_equal(la.lines[j], lb.lines[j]);
        }
        events += la.n;
        s_log_free(&la);
        s_log_free(&lb);
        for (size_t x = 0; x < cluster_identity_count(full); x++) {
            rec_identity_t ra, rb;
            cluster_identity_record(full, x, &ra);
            cluster_identity_record(some, x, &rb);
            assert_string_equal(ra.id, rb.id);
            assert_int_equal(ra.observations, rb.observations);
            assert_true((ra.campaign == NULL) == (rb.campaign == NULL));
            if (ra.campaign) {
                assert_string_equal(ra.campaign, rb.campaign);
            }
            rec_identity_clear(&ra);
            rec_identity_clear(&rb);
        }
        for (size_t x = 0; x < cluster_campaign_count(full); x++) {
            rec_campaign_t ra, rb;
            cluster_campaign_record(full, x, &ra);
            cluster_campaign_record(some, x, &rb);
            assert_string_equal(ra.id, rb.id);
            assert_int_equal(ra.identities, rb.identities);
            assert_int_equal(ra.observations, rb.observations);
            rec_campaign_clear(&ra);
            rec_campaign_clear(&rb);
        }
        assert_int_equal(cluster_identity_count(full), cluster_identity_count(some));
        assert_int_equal(cluster_campaign_count(full), cluster_campaign_count(some));
        listed_total += k;
        slots_total += n;
        for (size_t e = 0; e < n; e++) {
            prev_alive[e] = cluster_slot_alive(some, e);
            prev[e] = comp[e];
            dirty[e] = false;
        }
    }
    printf("[ cluster ] reconcile_some, value pools x%d%s: %d reconciliations, %zu events "
           "equal, %zu of %zu slots listed\n",
           pool, shared_c2 ? ", one shared C2" : "", STEPS / EVERY, events, listed_total,
           slots_total);
    assert_true(listed_total < slots_total); /* it skipped unchanged components */
    u64map_destroy(&generic);
    cluster_destroy(&full);
    cluster_destroy(&some);
}

static void
test_reconcile_some_matches_full(void **state)
{
    (void)state;
    s_some_vs_full(1, 777, false); /* small pools: large components, merges and splits */
    s_some_vs_full(6, 778, false); /* wide pools: small components, most left alone */
    s_some_vs_full(6, 779, true);  /* one C2 on every record: one giant campaign */
}

/*  Same input, same order: byte-identical ids and events; the partition does not depend on
    the order (ids may). */
static void
test_determinism_and_order(void **state)
{
    (void)state;
    const char *spec[][5] = {
        {"o1", "J1", NULL, "P1", NULL}, {"o2", NULL, "H1", "P1", NULL},
        {"o3", "J2", "H2", NULL, "C1"}, {"o4", NULL, NULL, NULL, "C1"},
        {"o5", "J1", "H3", NULL, NULL}, {"o6", "J9", "H9", "P1", NULL},
    };
    size_t n = sizeof spec / sizeof spec[0];
    s_log_t run[2] = {{0}, {0}};
    for (int r = 0; r < 2; r++) {
        cluster_t *c = s_new();
        for (size_t i = 0; i < n; i++) {
            s_put(c, s_obs(spec[i][0], spec[i][1], spec[i][2], spec[i][3], spec[i][4]));
        }
        assert_int_equal(cluster_reconcile(c, s_capture, &run[r]), 0);
        cluster_destroy(&c);
    }
    assert_int_equal(run[0].n, run[1].n);
    for (size_t i = 0; i < run[0].n; i++) {
        assert_string_equal(run[0].lines[i], run[1].lines[i]);
    }
    s_log_free(&run[0]);
    s_log_free(&run[1]);
    /* Reversed order: same partition. */
    cluster_t *f = s_new();
    cluster_t *b = s_new();
    for (size_t i = 0; i < n; i++) {
        s_put(f, s_obs(spec[i][0], spec[i][1], spec[i][2], spec[i][3], spec[i][4]));
        size_t j = n - 1 - i;
        s_put(b, s_obs(spec[j][0], spec[j][1], spec[j][2], spec[j][3], spec[j][4]));
    }
    cluster_reconcile(f, NULL, NULL);
    cluster_reconcile(b, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            bool same_f = strcmp(s_ident(f, spec[i][0]), s_ident(f, spec[j][0])) == 0;
            bool same_b = strcmp(s_ident(b, spec[i][0]), s_ident(b, spec[j][0])) == 0;
            assert_int_equal(same_f, same_b);
        }
    }
    /* o6 is vetoed away from o1/o2 (both slots comparable? no: o1 has only JA3, o2 only
       HASSH, o6 has both and disagrees), so it stays alone. */
    assert_string_not_equal(s_ident(f, "o6"), s_ident(f, "o1"));
    assert_string_equal(s_ident(f, "o1"), s_ident(f, "o2"));
    assert_string_equal(s_ident(f, "o1"), s_ident(f, "o5"));
    assert_string_equal(s_ident(f, "o3"), s_ident(f, "o4"));
    cluster_destroy(&f);
    cluster_destroy(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_shared_ja3_forms_one_then_nothing),
        cmocka_unit_test(test_distinct_form_two),
        cmocka_unit_test(test_merge_then_unmerge),
        cmocka_unit_test(test_delete_splits),
        cmocka_unit_test(test_oscillation_converges),
        cmocka_unit_test(test_huge_formed_is_split),
        cmocka_unit_test(test_generic_key_unmerges),
        cmocka_unit_test(test_shared_c2_index_work),
        cmocka_unit_test(test_determinism_and_order),
        cmocka_unit_test(test_incremental_matches_fresh),
        cmocka_unit_test(test_reconcile_some_matches_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
