/*  test_engine_model.c - the sharded algorithm without the network: broker routing
    (broker_route), N shard stores computing block forests (shard_store, shard_forest) and
    the merger's model (merger_state), driven through the barrier protocol of
    docs/protocol.md §6 by direct calls. Its ids, assignments and events must equal the
    one-process engine's (cluster_t) on the same input, for every fixture corpus and for
    random streams with upserts, deletes, generic keys and periodic reconciliation. */
#include "broker_route.h"
#include "cluster.h"
#include "dsl.h"
#include "gen.h"
#include "merger_state.h"
#include "pyrand.h"
#include "shard_forest.h"
#include "shard_store.h"
#include "strtab.h"
#include "wire.h"
#include "xalloc.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/*  Events as text lines, for comparing two runs. */
typedef struct {
    char **lines; /* one per event */
    size_t n;     /* count */
    size_t cap;   /* allocated */
} s_log_t;

static int
s_capture(const ev_t *ev, void *arg)
{
    s_log_t *log = arg;
    size_t len = 256;
    for (size_t i = 0; i < ev->n_members; i++) {
        len += strlen(ev->members[i]) + 1;
    }
    char *line = xmalloc(len + strlen(ev->subject) + 200);
    int w = sprintf(line, "%s %s %s %s %s %.17g", ev_topic(ev->kind), ev->id, ev->subject,
                    ev->object ? ev->object : "-", ev->prior ? ev->prior : "-", ev->ts);
    for (size_t i = 0; i < ev->n_members; i++) {
        w += sprintf(line + w, " %s", ev->members[i]);
    }
    xgrow(&log->lines, &log->cap, log->n + 1);
    log->lines[log->n++] = line;
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

/*  The simulated deployment. */
typedef struct {
    uint32_t shards;        /* shard count */
    char *root;             /* temp directory */
    shard_store_t **store;  /* per shard */
    merger_state_t *merger; /* the merger's model */
    strtab_t *ids;          /* observation id -> index into masks */
    route_mask_t *masks;    /* previous owner set per observation */
    size_t masks_cap;       /* allocated */
    uint64_t seq;           /* last input sequence */
    ccfg_t cfg;             /* clustering configuration */
} s_sim_t;

static void
s_sim_init(s_sim_t *sim, uint32_t shards, const ccfg_t *cfg)
{
    memset(sim, 0, sizeof *sim);
    sim->shards = shards;
    sim->cfg = *cfg;
    char tmpl[] = "/tmp/cadre-model.XXXXXX";
    sim->root = xstrdup(mkdtemp(tmpl));
    sim->store = xcalloc(shards, sizeof *sim->store);
    for (uint32_t k = 0; k < shards; k++) {
        char *dir = xasprintf("%s/shard-%u", sim->root, k);
        sim->store[k] = shard_store_open(dir, 64u << 20);
        assert_non_null(sim->store[k]);
        free(dir);
    }
    sim->merger = merger_state_new(cfg, "model");
    sim->ids = strtab_new();
}

static void
s_rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = xasprintf("%s/%s", path, e->d_name);
                s_rm_rf(p);
                free(p);
            }
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void
s_sim_free(s_sim_t *sim)
{
    for (uint32_t k = 0; k < sim->shards; k++) {
        shard_store_destroy(&sim->store[k]);
    }
    free(sim->store);
    merger_state_destroy(&sim->merger);
    strtab_destroy(&sim->ids);
    free(sim->masks);
    s_rm_rf(sim->root);
    free(sim->root);
}

/*  One input, routed as the broker routes it. */
static void
s_sim_input(s_sim_t *sim, const obs_t *obs)
{
    uint64_t seq = ++sim->seq;
    uint32_t idx = strtab_intern(sim->ids, obs->id, strlen(obs->id));
    if (idx >= sim->masks_cap) {
        size_t old = sim->masks_cap;
        xgrow(&sim->masks, &sim->masks_cap, (size_t)idx + 1);
        memset(sim->masks + old, 0, (sim->masks_cap - old) * sizeof *sim->masks);
    }
    route_info_t info;
    route_info_make(obs, sim->shards, &info);
    route_mask_t now;
    route_mask_of(&info.keys, &now);
    for (uint32_t k = 0; k < sim->shards; k++) {
        if (!route_mask_has(&now, k) && !route_mask_has(&sim->masks[idx], k)) {
            continue;
        }
        wmsg_keys_entry_t e;
        route_entry(&info, seq, k, &e);
        shard_key_t *sk = xcalloc(e.n_keys + 1, sizeof *sk);
        for (size_t i = 0; i < e.n_keys; i++) {
            sk[i].family = e.keys[i].family;
            sk[i].value = e.keys[i].value;
        }
        assert_int_equal(shard_store_begin(sim->store[k]), 0);
        assert_int_equal(shard_store_apply(sim->store[k], seq, e.id, sk, e.n_keys,
                                           (const char *const *)e.triple),
                         0);
        assert_int_equal(shard_store_commit(sim->store[k]), 0);
        free(sk);
        wmsg_keys_t body = {.entries = &e, .n = 1};
        wmsg_keys_t copy = body;
        (void)copy;
        free(e.id);
        for (size_t i = 0; i < e.n_keys; i++) {
            free(e.keys[i].value);
        }
        free(e.keys);
        for (int t = 0; t < 3; t++) {
            free(e.triple[t]);
        }
    }
    sim->masks[idx] = now;
    route_info_clear(&info);
    wire_buf_t buf;
    wire_buf_init(&buf);
    obs_error_t err;
    assert_int_equal(wire_obs_encode(obs, &buf, &err), 0);
    assert_int_equal(merger_state_apply_record(sim->merger, seq, buf.data, buf.len), 0);
    wire_buf_free(&buf);
}

/*  Flips of all shards, collected between GENERIC and COMMIT. */
typedef struct {
    wmsg_flip_t *v; /* flips */
    size_t n;       /* count */
    size_t cap;     /* allocated */
} s_flips_t;

static int
s_note_flip(int family, const char *value, bool generic, void *arg)
{
    s_flips_t *f = arg;
    xgrow(&f->v, &f->cap, f->n + 1);
    f->v[f->n].family = family;
    f->v[f->n].value = xstrdup(value);
    f->v[f->n].generic = generic;
    f->n++;
    return 0;
}

/*  One barrier, as protocol §6 runs it. */
static void
s_sim_barrier(s_sim_t *sim, s_log_t *log)
{
    s_flips_t flips = {0};
    for (uint32_t k = 0; k < sim->shards; k++) {
        assert_int_equal(
            shard_store_generic_flips(sim->store[k], sim->cfg.generic_cutoff, s_note_flip, &flips),
            0);
    }
    for (uint32_t k = 0; k < sim->shards; k++) {
        assert_int_equal(shard_store_begin(sim->store[k]), 0);
        for (size_t i = 0; i < flips.n; i++) {
            assert_int_equal(shard_store_set_generic(sim->store[k], flips.v[i].family,
                                                     flips.v[i].value, flips.v[i].generic),
                             0);
        }
        wmsg_forests_t body;
        assert_int_equal(shard_forests(sim->store[k], &body), 0);
        /* Through the wire, as the merger receives it. */
        wire_buf_t buf;
        wire_buf_init(&buf);
        assert_int_equal(wmsg_forests_encode(&body, &buf), 0);
        wmsg_forests_t got;
        char err[256];
        assert_int_equal(wmsg_forests_decode(buf.data, buf.len, &got, err, sizeof err), 0);
        assert_int_equal(merger_state_apply_forests(sim->merger, &got), 0);
        wmsg_forests_free(&got);
        wmsg_forests_free(&body);
        wire_buf_free(&buf);
        assert_int_equal(shard_store_barrier_done(sim->store[k], sim->seq), 0);
        assert_int_equal(shard_store_commit(sim->store[k]), 0);
    }
    for (size_t i = 0; i < flips.n; i++) {
        free(flips.v[i].value);
    }
    free(flips.v);
    assert_int_equal(merger_state_reconcile(sim->merger, sim->seq, s_capture, log), 0);
}

/*  Runs inputs through both engines, reconciling every `every` inputs and at the end, and
    asserts identical events and assignments. */
static void
s_compare(obs_t **inputs, size_t n, uint32_t shards, const ccfg_t *cfg, size_t every)
{
    s_sim_t sim;
    s_sim_init(&sim, shards, cfg);
    cluster_t *one = cluster_new(cfg, "model");
    s_log_t a = {0};
    s_log_t b = {0};
    for (size_t i = 0; i < n; i++) {
        cluster_apply(one, inputs[i]);
        s_sim_input(&sim, inputs[i]);
        if (every && (i + 1) % every == 0) {
            assert_int_equal(cluster_reconcile(one, s_capture, &a), 0);
            s_sim_barrier(&sim, &b);
        }
    }
    assert_int_equal(cluster_reconcile(one, s_capture, &a), 0);
    s_sim_barrier(&sim, &b);
    if (a.n != b.n) {
        fail_msg("%zu events from the one-process engine, %zu from the sharded model", a.n, b.n);
    }
    for (size_t i = 0; i < a.n; i++) {
        if (strcmp(a.lines[i], b.lines[i]) != 0) {
            fail_msg("event %zu differs:\n  one process: %s\n  sharded:     %s", i, a.lines[i],
                     b.lines[i]);
        }
    }
    cluster_t *two = merger_state_cluster(sim.merger);
    assert_int_equal(cluster_slots(one), cluster_slots(two));
    for (size_t s = 0; s < cluster_slots(one); s++) {
        assert_string_equal(cluster_slot_name(one, s), cluster_slot_name(two, s));
        const char *i1 = cluster_identity_of(one, s);
        const char *i2 = cluster_identity_of(two, s);
        assert_true((i1 == NULL) == (i2 == NULL));
        if (i1) {
            assert_string_equal(i1, i2);
            assert_string_equal(cluster_campaign_of(one, s), cluster_campaign_of(two, s));
        }
    }
    s_log_free(&a);
    s_log_free(&b);
    cluster_destroy(&one);
    s_sim_free(&sim);
}

/*  Collected generator output. */
typedef struct {
    obs_t **v;  /* records */
    size_t n;   /* count */
    size_t cap; /* allocated */
} s_list_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_list_t *l = arg;
    xgrow(&l->v, &l->cap, l->n + 1);
    l->v[l->n++] = obs_dup(obs);
    return 0;
}

static void
s_list_free(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        obs_destroy(&l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void
test_fixture_corpora(void **state)
{
    (void)state;
    static const char *const names[] = {
        "noise_floor",        "slow_burn",          "handoff_only", "keystroke_overlap",
        "asymmetric_overlap", "generic_revocation", "delete_split"};
    const char *dir = getenv("FIXTURES_DIR");
    assert_non_null(dir);
    ccfg_t cfg;
    ccfg_reference(&cfg);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *path = xasprintf("%s/campaigns/%s.yaml", dir, names[i]);
        dsl_corpus_t *corpus = NULL;
        char err[512];
        assert_int_equal(dsl_load_file(path, &corpus, err, sizeof err), 0);
        s_list_t l = {0};
        assert_int_equal(gen_run(corpus, 0, s_collect, &l), 0);
        dsl_corpus_destroy(&corpus);
        for (uint32_t shards = 1; shards <= 4; shards += 3) {
            s_compare(l.v, l.n, shards, &cfg, 0);
            s_compare(l.v, l.n, shards, &cfg, 3);
        }
        s_list_free(&l);
        free(path);
    }
}

/*  A random stream: small pools so keys collide, upserts that change fingerprints, deletes,
    generic cutoffs low enough to flip. */
static obs_t *
s_random_obs(pyrand_t *r, uint32_t n_ids)
{
    static const char *const fp[] = {"a", "b", "c", ""};
    static const char *const inf[] = {"p1", "p2", "c1", "c2", "x"};
    static const ukc_phase_t ph[] = {UKC_COMMAND_AND_CONTROL, UKC_PERSISTENCE, UKC_DISCOVERY,
                                     UKC_LATERAL_MOVEMENT, UKC_EXECUTION};
    obs_t *o = obs_new();
    o->id = xasprintf("o%u", (unsigned)pyrand_below(r, n_ids));
    if (pyrand_below(r, 8) == 0) {
        o->op = OBS_DELETE;
        return o;
    }
    const char **slots[3] = {(const char **)&o->ja3, (const char **)&o->hassh,
                             (const char **)&o->ja4};
    for (int s = 0; s < 3; s++) {
        uint64_t pick = pyrand_below(r, 6);
        if (pick < 4 && (s < 2 || pick < 2)) {
            *slots[s] = xstrdup(fp[pick]);
        }
    }
    if (pyrand_below(r, 3) == 0) {
        o->has_kd = true;
        o->kd_simhash = (uint64_t)pyrand_below(r, 4) << (pyrand_below(r, 3) * 8);
    }
    o->has_asn = pyrand_below(r, 2);
    o->asn = (int64_t)pyrand_below(r, 3);
    uint64_t ns = pyrand_below(r, 3);
    for (uint64_t k = 0; k < ns; k++) {
        obs_session_t *s = obs_add_session(o);
        s->phase = ph[pyrand_below(r, 5)];
        s->start = 1767225600.0 + (double)pyrand_below(r, 4) * 43200.0;
        s->duration = (double)pyrand_below(r, 3) * 3600.0;
        s->decky = pyrand_below(r, 4) ? xasprintf("d%u", (unsigned)pyrand_below(r, 3)) : NULL;
        if (pyrand_below(r, 2)) {
            s->payload_hash = xstrdup(inf[pyrand_below(r, 5)]);
        }
        if (pyrand_below(r, 2)) {
            s->c2 = xstrdup(inf[pyrand_below(r, 5)]);
        }
    }
    return o;
}

static void
test_random_streams(void **state)
{
    (void)state;
    pyrand_t r;
    pyrand_seed(&r, 20261122);
    size_t runs = 60;
    for (size_t run = 0; run < runs; run++) {
        ccfg_t cfg;
        ccfg_reference(&cfg);
        if (run % 2) {
            cfg.generic_cutoff[KEY_HASSH] = 3;
            cfg.generic_cutoff[KEY_PAYLOAD] = 4;
            cfg.generic_cutoff[KEY_JA3] = 5;
        }
        size_t n = 10 + pyrand_below(&r, 60);
        obs_t **in = xcalloc(n, sizeof *in);
        for (size_t i = 0; i < n; i++) {
            in[i] = s_random_obs(&r, (uint32_t)(n / 2 + 1));
        }
        s_compare(in, n, 1 + (uint32_t)pyrand_below(&r, 5), &cfg, pyrand_below(&r, 2) ? 7 : 0);
        for (size_t i = 0; i < n; i++) {
            obs_destroy(&in[i]);
        }
        free(in);
    }
}

static void
test_route_is_stable(void **state)
{
    (void)state;
    /* Jump hash: moving from k to k+1 shards only moves keys to the new shard. */
    for (uint64_t key = 0; key < 2000; key++) {
        uint64_t h = key * 0x9e3779b97f4a7c15ULL;
        for (uint32_t b = 1; b < 8; b++) {
            uint32_t x = route_jump(h, b);
            uint32_t y = route_jump(h, b + 1);
            assert_true(x < b);
            assert_true(y == x || y == b);
        }
    }
    assert_int_equal(route_owner(0, "same", 1), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_is_stable),
        cmocka_unit_test(test_fixture_corpora),
        cmocka_unit_test(test_random_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
