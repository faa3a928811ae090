/*  test_merger_store.c - the merger survives kill -9 (ARCHITECTURE.md "Durability and
    recovery", docs/storage.md "Merger snapshot").

    The sharded pipeline runs without the network, as in test_engine_model.c: broker routing
    (broker_route), shard stores computing block forests (shard_store, shard_forest) and the
    merger's model (merger_state), here opened on a directory so that every reconciliation
    commits a snapshot. Crashes are real: a forked child runs the pipeline and _exits at the
    crash point (right after a snapshot, between barriers, or inside a snapshot transaction
    through the store's write hook); the parent reopens everything from disk, replays the
    inputs after the merger's snapshot, and must see the same events and final state as an
    uninterrupted run. LMDB environments never cross fork(): the parent opens nothing before
    the child is done.

    Also: the lifecycle and engine APIs the snapshot rests on (change tracking, restore, the
    rebuild fixed point), the incremental cost of a snapshot, and a full map. */
#include "broker_route.h"
#include "cluster.h"
#include "dsl.h"
#include "err.h"
#include "gen.h"
#include "life.h"
#include "merger_state.h"
#include "merger_store.h"
#include "pyrand.h"
#include "report.h"
#include "shard_forest.h"
#include "shard_store.h"
#include "strtab.h"
#include "wire.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/*  True in a forked child: a failed check must _exit instead of entering cmocka. */
static bool s_in_child;

#define S_CHECK(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (s_in_child) {                                                                      \
                fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
                _exit(3);                                                                          \
            }                                                                                      \
            fail_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                                      \
        }                                                                                          \
    } while (0)

/*  --------------------------------------------------------------------------------------
    Helpers: event logs, state dumps, directories, corpora */

/*  Events as text lines. */
typedef struct {
    char **lines; /* one per event */
    size_t n;     /* count */
    size_t cap;   /* allocated */
} s_log_t;

static int
s_capture(const ev_t *ev, void *arg)
{
    s_log_t *log = arg;
    size_t len = 256 + strlen(ev->subject);
    for (size_t i = 0; i < ev->n_members; i++) {
        len += strlen(ev->members[i]) + 1;
    }
    char *line = xmalloc(len + 200);
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

static void
s_logs_equal(const s_log_t *a, const s_log_t *b, const char *what)
{
    if (a->n != b->n) {
        fail_msg("%s: %zu events uninterrupted, %zu after the crash", what, a->n, b->n);
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->lines[i], b->lines[i]) != 0) {
            fail_msg("%s: event %zu differs:\n  uninterrupted: %s\n  after crash:   %s", what, i,
                     a->lines[i], b->lines[i]);
        }
    }
}

/*  Everything observable of an engine: assignments, records, statistics and counters.
    The campaign-layer work statistics (blocks seen, pairs evaluated) are left out: they
    describe what the last reconciliation recomputed, which for a restored engine is
    everything and for a running one only what changed. */
static char *
s_dump(cluster_t *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    S_CHECK(f);
    S_CHECK(report_assignments(c, f, OBS_FORMAT_JSONL) == 0);
    S_CHECK(report_records(c, f, OBS_FORMAT_JSONL, f, OBS_FORMAT_JSONL) == 0);
    cluster_stats_t st = cluster_stats(c);
    cluster_counters_t cn = cluster_counters(c);
    fprintf(f,
            "inputs %llu observations %llu identities %llu campaigns %llu reconciliations %llu "
            "events %llu id_part %llu %llu %llu clock %.17g slots %zu\n",
            (unsigned long long)st.inputs, (unsigned long long)st.observations,
            (unsigned long long)st.identities, (unsigned long long)st.campaigns,
            (unsigned long long)st.reconciliations, (unsigned long long)st.events,
            (unsigned long long)st.id_part.blocks, (unsigned long long)st.id_part.largest_block,
            (unsigned long long)st.id_part.generic_keys, cn.clock, cluster_slots(c));
    for (size_t s = 0; s < cluster_slots(c); s++) {
        fprintf(f, "slot %zu %s %d %llu\n", s, cluster_slot_name(c, s), cluster_slot_alive(c, s),
                (unsigned long long)cluster_slot_seq(c, s));
    }
    fclose(f);
    return text;
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

/*  --------------------------------------------------------------------------------------
    The broker's journal, as far as the merger needs it: a restored snapshot names its live
    records by journal seq (docs/storage.md "Merger snapshot"), and the tests serve them from
    here. Every record a test applies is put here under its seq. */

static struct {
    char **bytes; /* per seq (index seq - 1), owned, or NULL */
    size_t *lens; /* their lengths */
    size_t cap;   /* entries */
} s_jr;

static void
s_jr_put(uint64_t seq, const char *bytes, size_t len)
{
    if (seq > s_jr.cap) {
        size_t old = s_jr.cap, cap = old;
        xgrow(&s_jr.bytes, &cap, (size_t)seq);
        cap = old;
        xgrow(&s_jr.lens, &cap, (size_t)seq);
        s_jr.cap = cap;
        memset(s_jr.bytes + old, 0, (s_jr.cap - old) * sizeof *s_jr.bytes);
    }
    free(s_jr.bytes[seq - 1]);
    s_jr.bytes[seq - 1] = xmalloc(len);
    memcpy(s_jr.bytes[seq - 1], bytes, len);
    s_jr.lens[seq - 1] = len;
}

static void
s_jr_clear(void)
{
    for (size_t i = 0; i < s_jr.cap; i++) {
        free(s_jr.bytes[i]);
    }
    free(s_jr.bytes);
    free(s_jr.lens);
    memset(&s_jr, 0, sizeof s_jr);
}

/*  Puts obs into the journal at seq and applies it to m. */
static int
s_apply(merger_state_t *m, uint64_t seq, const obs_t *obs)
{
    wire_buf_t buf;
    wire_buf_init(&buf);
    obs_error_t err;
    int rc = wire_obs_encode(obs, &buf, &err);
    if (rc == 0) {
        s_jr_put(seq, buf.data, buf.len);
        rc = merger_state_apply_record(m, seq, buf.data, buf.len);
    }
    wire_buf_free(&buf);
    return rc;
}

/*  merger_state_open(), then the records the snapshot names, from the journal, in chunks of
    up to 7 (as the merger role fetches them from the broker). NULL when the open or the
    restore fails. */
static merger_state_t *
s_state_open(const ccfg_t *cfg, const char *deployment, const char *dir, size_t map_bytes)
{
    merger_state_t *m = merger_state_open(cfg, deployment, dir, map_bytes);
    size_t from = 0, n;
    uint64_t seqs[7];
    while (m && merger_state_wanted(m) > 0 &&
           (n = merger_state_wanted_seqs(m, from, seqs, 7)) > 0) {
        for (size_t i = 0; m && i < n; i++) {
            bool have = seqs[i] <= s_jr.cap && s_jr.bytes[seqs[i] - 1];
            int rc = have ? merger_state_restore_record(m, seqs[i], s_jr.bytes[seqs[i] - 1],
                                                        s_jr.lens[seqs[i] - 1])
                          : -ENOENT;
            if (rc != 0) {
                merger_state_destroy(&m);
            }
        }
        from += n;
    }
    if (m && merger_state_wanted(m) > 0) {
        merger_state_destroy(&m);
    }
    return m;
}

static char *
s_tmpdir(void)
{
    char tmpl[] = "/tmp/cadre-mstore.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return xstrdup(dir);
}

/*  A list of inputs. */
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
s_list_add(s_list_t *l, obs_t *obs)
{
    xgrow(&l->v, &l->cap, l->n + 1);
    l->v[l->n++] = obs;
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

/*  The generated noise_floor corpus, each record replicated copies times. */
static void
s_noise_floor(s_list_t *out, uint64_t copies)
{
    const char *dir = getenv("FIXTURES_DIR");
    assert_non_null(dir);
    char *path = xasprintf("%s/campaigns/noise_floor.yaml", dir);
    dsl_corpus_t *corpus = NULL;
    char err[512];
    assert_int_equal(dsl_load_file(path, &corpus, err, sizeof err), 0);
    s_list_t base = {0};
    assert_int_equal(gen_run(corpus, 0, s_collect, &base), 0);
    dsl_corpus_destroy(&corpus);
    free(path);
    for (uint64_t k = 0; k < copies; k++) {
        for (size_t i = 0; i < base.n; i++) {
            obs_t *o = obs_dup(base.v[i]);
            gen_replicate(o, k);
            s_list_add(out, o);
        }
    }
    s_list_free(&base);
}

/*  A random observation from small pools, so that keys collide, upserts change
    fingerprints, deletes happen and low generic cutoffs flip (as test_engine_model.c). */
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

/*  The noise_floor corpus interleaved with a random stream, plus deletes and re-upserts of
    corpus rows. */
static void
s_mixed_stream(pyrand_t *r, s_list_t *out)
{
    s_list_t corpus = {0};
    s_noise_floor(&corpus, 1);
    size_t n_random = 30 + pyrand_below(r, 40);
    size_t ci = 0;
    size_t ri = 0;
    while (ci < corpus.n || ri < n_random) {
        uint64_t pick = pyrand_below(r, 10);
        if (ci < corpus.n && (pick < 5 || ri == n_random)) {
            s_list_add(out, obs_dup(corpus.v[ci++]));
        } else if (ri < n_random) {
            s_list_add(out, s_random_obs(r, 20));
            ri++;
        }
        if (ci > 0 && pyrand_below(r, 12) == 0) {
            /* an earlier corpus row deleted, or upserted again */
            obs_t *o = obs_dup(corpus.v[pyrand_below(r, ci)]);
            if (pyrand_below(r, 2)) {
                obs_t *d = obs_new();
                d->op = OBS_DELETE;
                d->id = xstrdup(o->id);
                obs_destroy(&o);
                o = d;
            }
            s_list_add(out, o);
        }
    }
    s_list_free(&corpus);
}

/*  --------------------------------------------------------------------------------------
    The simulated deployment */

typedef struct {
    uint32_t shards;        /* shard count */
    const char *root;       /* directory of the stores (borrowed) */
    shard_store_t **store;  /* per shard */
    merger_state_t *merger; /* the merger's model */
    strtab_t *ids;          /* observation id -> index into masks */
    route_mask_t *masks;    /* previous owner set per observation (the broker's key index) */
    size_t masks_cap;       /* allocated */
    uint64_t skip;          /* the merger has every input and barrier with seq <= this */
    ccfg_t cfg;             /* clustering configuration */
} s_sim_t;

/*  Opens the deployment's stores under root (creating them or reopening them after a
    crash); durable = false keeps the merger in memory. */
static void
s_sim_open(s_sim_t *sim, const char *root, uint32_t shards, const ccfg_t *cfg, bool durable)
{
    memset(sim, 0, sizeof *sim);
    sim->shards = shards;
    sim->cfg = *cfg;
    sim->root = root;
    sim->store = xcalloc(shards, sizeof *sim->store);
    for (uint32_t k = 0; k < shards; k++) {
        char *dir = xasprintf("%s/shard-%u", root, k);
        sim->store[k] = shard_store_open(dir, 64u << 20);
        S_CHECK(sim->store[k]);
        free(dir);
    }
    if (durable) {
        char *dir = xasprintf("%s/merger", root);
        sim->merger = s_state_open(cfg, "model", dir, 64u << 20);
        free(dir);
    } else {
        sim->merger = merger_state_new(cfg, "model");
    }
    S_CHECK(sim->merger);
    sim->skip = merger_state_reconciled(sim->merger);
    sim->ids = strtab_new();
}

static void
s_sim_close(s_sim_t *sim)
{
    for (uint32_t k = 0; k < sim->shards; k++) {
        shard_store_destroy(&sim->store[k]);
    }
    free(sim->store);
    merger_state_destroy(&sim->merger);
    strtab_destroy(&sim->ids);
    free(sim->masks);
}

/*  Input seq, routed as the broker routes it. The shards skip what they have applied, the
    merger what its snapshot holds (as merger.c does). */
static void
s_sim_input(s_sim_t *sim, uint64_t seq, const obs_t *obs)
{
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
        S_CHECK(shard_store_apply(sim->store[k], seq, e.id, sk, e.n_keys,
                                  (const char *const *)e.triple) == 0);
        free(sk);
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
    if (seq <= sim->skip) {
        return;
    }
    S_CHECK(s_apply(sim->merger, seq, obs) == 0);
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

static double
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*  When the last merger_state_reconcile() of s_sim_barrier() returned (ms). */
static double s_reconciled_at;

/*  Barrier seq as protocol §6 runs it. The shards' barrier transactions stay open until the
    merger's snapshot is committed, so a crash inside the snapshot leaves the whole barrier
    to be re-run. Returns merger_state_reconcile's result. */
static int
s_sim_barrier(s_sim_t *sim, uint64_t seq, s_log_t *log)
{
    if (seq <= sim->skip) {
        return 0;
    }
    s_flips_t flips = {0};
    for (uint32_t k = 0; k < sim->shards; k++) {
        S_CHECK(shard_store_generic_flips(sim->store[k], sim->cfg.generic_cutoff, s_note_flip,
                                          &flips) == 0);
    }
    for (uint32_t k = 0; k < sim->shards; k++) {
        S_CHECK(shard_store_begin(sim->store[k]) == 0);
        for (size_t i = 0; i < flips.n; i++) {
            S_CHECK(shard_store_set_generic(sim->store[k], flips.v[i].family, flips.v[i].value,
                                            flips.v[i].generic) == 0);
        }
        wmsg_forests_t body;
        S_CHECK(shard_forests(sim->store[k], &body) == 0);
        wire_buf_t buf;
        wire_buf_init(&buf);
        S_CHECK(wmsg_forests_encode(&body, &buf) == 0);
        wmsg_forests_t got;
        char err[256];
        S_CHECK(wmsg_forests_decode(buf.data, buf.len, &got, err, sizeof err) == 0);
        S_CHECK(merger_state_apply_forests(sim->merger, &got) == 0);
        wmsg_forests_free(&got);
        wmsg_forests_free(&body);
        wire_buf_free(&buf);
        S_CHECK(shard_store_barrier_done(sim->store[k], seq) == 0);
    }
    for (size_t i = 0; i < flips.n; i++) {
        free(flips.v[i].value);
    }
    free(flips.v);
    int rc = merger_state_reconcile(sim->merger, seq, s_capture, log);
    s_reconciled_at = s_now_ms();
    for (uint32_t k = 0; k < sim->shards; k++) {
        S_CHECK(shard_store_commit(sim->store[k]) == 0);
    }
    return rc;
}

/*  Where a child dies. */
typedef enum {
    S_CRASH_NONE = 0, /* runs to the end */
    S_CRASH_AFTER,    /* right after barrier `barrier` (its snapshot committed) */
    S_CRASH_INTERVAL, /* `extra` inputs after barrier `barrier` */
    S_CRASH_MID,      /* at write `write` of barrier `barrier`'s snapshot */
} s_crash_t;

typedef struct {
    s_crash_t kind;  /* what */
    size_t barrier;  /* barrier index */
    size_t extra;    /* S_CRASH_INTERVAL: inputs applied after it */
    uint64_t write;  /* S_CRASH_MID: the write that dies (1-based) */
    size_t every;    /* a barrier every this many inputs, and after the last */
    size_t n_inputs; /* inputs in the stream */
} s_plan_t;

/*  What a run saw at each barrier. */
typedef struct {
    s_log_t *events; /* per barrier */
    char **dumps;    /* per barrier: the state after it, or NULL when not kept */
    uint64_t *seqs;  /* per barrier: its seq */
    size_t n;        /* barriers */
} s_run_t;

static size_t
s_barriers(const s_plan_t *plan)
{
    return (plan->n_inputs + plan->every - 1) / plan->every;
}

static void
s_run_init(s_run_t *run, const s_plan_t *plan)
{
    run->n = s_barriers(plan);
    run->events = xcalloc(run->n, sizeof *run->events);
    run->dumps = xcalloc(run->n, sizeof *run->dumps);
    run->seqs = xcalloc(run->n, sizeof *run->seqs);
}

static void
s_run_free(s_run_t *run)
{
    for (size_t j = 0; j < run->n; j++) {
        s_log_free(&run->events[j]);
        free(run->dumps[j]);
    }
    free(run->events);
    free(run->dumps);
    free(run->seqs);
}

static void
s_die_at(uint64_t written, void *arg)
{
    if (written == *(const uint64_t *)arg) {
        _exit(0);
    }
}

/*  Runs the whole stream through sim (the merger skipping what it has), with a barrier
    every plan->every inputs and after the last, dying as plan says. dumps: keep the state
    after each barrier. */
static void
s_drive(s_sim_t *sim, obs_t **in, const s_plan_t *plan, s_run_t *run, bool dumps)
{
    size_t j = 0;
    size_t die_after = SIZE_MAX; /* S_CRASH_INTERVAL: the input after which to die */
    for (size_t i = 0; i < plan->n_inputs; i++) {
        uint64_t seq = i + 1;
        s_sim_input(sim, seq, in[i]);
        if (i == die_after) {
            _exit(0);
        }
        if ((i + 1) % plan->every != 0 && i + 1 != plan->n_inputs) {
            continue;
        }
        run->seqs[j] = seq;
        if (plan->kind == S_CRASH_MID && j == plan->barrier) {
            merger_store_set_hook(merger_state_store(sim->merger), s_die_at, (void *)&plan->write);
        }
        S_CHECK(s_sim_barrier(sim, seq, &run->events[j]) == 0);
        if (dumps) {
            run->dumps[j] = s_dump(merger_state_cluster(sim->merger));
        }
        if (plan->kind == S_CRASH_AFTER && j == plan->barrier) {
            _exit(0);
        }
        if (plan->kind == S_CRASH_INTERVAL && j == plan->barrier) {
            die_after = i + 1 + plan->extra;
            die_after = die_after < plan->n_inputs ? die_after : plan->n_inputs - 1;
        }
        j++;
    }
}

/*  The uninterrupted run: events and state after every barrier. */
static void
s_reference(obs_t **in, const s_plan_t *plan, uint32_t shards, const ccfg_t *cfg, s_run_t *ref)
{
    char *root = s_tmpdir();
    s_sim_t sim;
    s_sim_open(&sim, root, shards, cfg, false);
    s_plan_t clean = *plan;
    clean.kind = S_CRASH_NONE;
    s_run_init(ref, plan);
    s_drive(&sim, in, &clean, ref, true);
    s_sim_close(&sim);
    s_rm_rf(root);
    s_jr_clear(); /* the test's journal goes with its stores */
    free(root);
}

/*  Runs plan in a child that dies at its crash point, then resumes in this process from the
    stores on disk and checks the restored state, the events after the snapshot and the
    final state against ref. Returns the seq the merger restarted from. */
static uint64_t
s_crash_and_resume(obs_t **in, const s_plan_t *plan, uint32_t shards, const ccfg_t *cfg,
                   const s_run_t *ref)
{
    char *root = s_tmpdir();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        s_in_child = true;
        s_sim_t sim;
        s_sim_open(&sim, root, shards, cfg, true);
        s_run_t run;
        s_run_init(&run, plan);
        s_drive(&sim, in, plan, &run, false);
        _exit(9); /* the crash point was never reached */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* The child's journal died with it; the broker's would not have. */
    for (size_t i = 0; i < plan->n_inputs; i++) {
        wire_buf_t buf;
        wire_buf_init(&buf);
        obs_error_t err;
        assert_int_equal(wire_obs_encode(in[i], &buf, &err), 0);
        s_jr_put(i + 1, buf.data, buf.len);
        wire_buf_free(&buf);
    }
    s_sim_t sim;
    s_sim_open(&sim, root, shards, cfg, true);
    uint64_t from = sim.skip;
    /* the snapshot is the state after the last barrier whose snapshot committed */
    size_t b = plan->kind == S_CRASH_MID ? plan->barrier : plan->barrier + 1;
    uint64_t expect = b == 0 ? 0 : ref->seqs[b - 1];
    assert_int_equal(from, expect);
    if (b > 0) {
        char *now = s_dump(merger_state_cluster(sim.merger));
        assert_string_equal(now, ref->dumps[b - 1]);
        free(now);
    } else {
        assert_int_equal(cluster_slots(merger_state_cluster(sim.merger)), 0);
    }
    s_plan_t clean = *plan;
    clean.kind = S_CRASH_NONE;
    s_run_t run;
    s_run_init(&run, plan);
    s_drive(&sim, in, &clean, &run, false);
    for (size_t j = 0; j < ref->n; j++) {
        if (ref->seqs[j] <= from) {
            assert_int_equal(run.events[j].n, 0);
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "barrier %zu", j);
        s_logs_equal(&ref->events[j], &run.events[j], what);
    }
    char *final = s_dump(merger_state_cluster(sim.merger));
    assert_string_equal(final, ref->dumps[ref->n - 1]);
    free(final);
    s_run_free(&run);
    s_sim_close(&sim);
    s_rm_rf(root);
    s_jr_clear(); /* the test's journal goes with its stores */
    free(root);
    return from;
}

/*  --------------------------------------------------------------------------------------
    Lifecycle and engine APIs */

static const char *
s_name(uint32_t e, void *arg)
{
    static const char *const names[] = {"e0", "e1", "e2", "e3", "e4", "e5"};
    (void)arg;
    assert_true(e < 6);
    return names[e];
}

static bool
s_listed(size_t n, uint32_t (*at)(const life_t *, size_t), const life_t *l, uint32_t x)
{
    for (size_t i = 0; i < n; i++) {
        if (at(l, i) == x) {
            return true;
        }
    }
    return false;
}

/*  Component labels are any uint32: labels below n take life.c's array path, larger ones its
    map path; the same partition gives the same ids and events either way. */
static void
test_life_any_labels(void **state)
{
    (void)state;
    static const uint8_t ns[16] = {4, 5, 6};
    bool alive[6] = {true, true, true, true, true, true};
    uint64_t seq[6] = {0, 1, 2, 3, 4, 5};
    uint32_t small[3][6] = {{0, 0, 2, 2, 4, 5}, {0, 0, 0, 0, 4, 4}, {0, 1, 0, 3, 4, 3}};
    life_t *a = life_new("identity", ns, s_name, NULL);
    life_t *b = life_new("identity", ns, s_name, NULL);
    for (int r = 0; r < 3; r++) {
        uint32_t big[6];
        for (int e = 0; e < 6; e++) {
            big[e] = 4000000000u - small[r][e] * 7u; /* same groups, labels far above n */
        }
        const life_events_t *ea = life_reconcile(a, 6, alive, small[r], seq);
        size_t n = ea->n;
        life_event_t *copy = xcalloc(n + 1, sizeof *copy);
        memcpy(copy, ea->ev, n * sizeof *copy);
        const life_events_t *eb = life_reconcile(b, 6, alive, big, seq);
        assert_int_equal(n, eb->n);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(copy[i].kind, eb->ev[i].kind);
            assert_string_equal(life_id_str(a, copy[i].id), life_id_str(b, eb->ev[i].id));
        }
        free(copy);
        for (uint32_t e = 0; e < 6; e++) {
            assert_string_equal(life_id_str(a, life_resolve_element(a, e)),
                                life_id_str(b, life_resolve_element(b, e)));
        }
    }
    life_destroy(&a);
    life_destroy(&b);
}

/*  Names any element "e<number>" (two buffers in turn: a comparison holds two names). */
static const char *
s_any_name(uint32_t e, void *arg)
{
    static char name[2][16];
    static int turn;
    (void)arg;
    turn ^= 1;
    snprintf(name[turn], sizeof name[turn], "e%u", e);
    return name[turn];
}

/*  Counts tick calls (arg: size_t). */
static void
s_tick_count(void *arg)
{
    (*(size_t *)arg)++;
}

/*  A long lifecycle reconciliation ticks: between its phases and every 4,096 components, so
    the merger's heartbeats go on (20,000 new components: 4 in the component loop plus the
    phase boundaries); without a tick set it runs the same. */
static void
test_life_ticks(void **state)
{
    (void)state;
    enum { N = 20000 };
    static const uint8_t ns[16] = {7, 8, 9};
    bool *alive = xcalloc(N, sizeof *alive);
    uint32_t *comp = xcalloc(N, sizeof *comp);
    uint64_t *seq = xcalloc(N, sizeof *seq);
    for (uint32_t e = 0; e < N; e++) {
        alive[e] = true;
        comp[e] = e;
        seq[e] = e;
    }
    life_t *l = life_new("identity", ns, s_any_name, NULL);
    size_t ticks = 0;
    life_set_tick(l, s_tick_count, &ticks);
    const life_events_t *ev = life_reconcile(l, N, alive, comp, seq);
    assert_int_equal(ev->n, N);
    assert_true(ticks >= N / 4096 + 4);
    life_set_tick(l, NULL, NULL);
    size_t before = ticks;
    comp[1] = 0; /* one merge, no tick set */
    ev = life_reconcile(l, N, alive, comp, seq);
    assert_true(ev->n > 0);
    assert_int_equal(ticks, before);
    life_destroy(&l);
    free(alive);
    free(comp);
    free(seq);
}

static void
test_life_changes_and_restore(void **state)
{
    (void)state;
    static const uint8_t ns[16] = {1, 2, 3};
    life_t *a = life_new("identity", ns, s_name, NULL);
    bool alive[6] = {true, true, true, true, false, false};
    uint32_t comp[6] = {0, 0, 1, 1, 0, 0};
    uint64_t seq[6] = {0, 1, 2, 3, 4, 5};
    life_reconcile(a, 4, alive, comp, seq);
    /* two ids formed, four elements linked, e0 and e2 founded */
    assert_int_equal(life_changed_ids(a), 2);
    assert_int_equal(life_changed_elements(a), 4);
    life_clear_changes(a);
    life_reconcile(a, 4, alive, comp, seq);
    assert_int_equal(life_changed_ids(a), 0);
    assert_int_equal(life_changed_elements(a), 0);

    /* one component: the younger id merges into the older; only it changes */
    uint32_t one[6] = {0, 0, 0, 0, 0, 0};
    life_reconcile(a, 4, alive, one, seq);
    assert_int_equal(life_changed_ids(a), 1);
    assert_int_equal(life_changed_id(a, 0), 1);
    assert_int_equal(life_merged_into(a, 1), 0);
    assert_int_equal(life_changed_elements(a), 0);
    life_clear_changes(a);
    /* e2 deleted: its literal id is forgotten */
    life_forget(a, 2);
    assert_int_equal(life_changed_elements(a), 1);
    assert_int_equal(life_changed_element(a, 0), 2);
    alive[2] = false;
    alive[4] = true;
    life_reconcile(a, 5, alive, one, seq);
    assert_true(s_listed(life_changed_elements(a), life_changed_element, a, 4));

    /* a copy through the accessors and the restore calls behaves identically */
    life_t *b = life_new("identity", ns, s_name, NULL);
    for (uint32_t x = 0; x < life_id_count(a); x++) {
        assert_int_equal(life_restore_id(b, x, life_id_str(a, x), life_formed(a, x),
                                         life_merged_into(a, x), life_is_live(a, x)),
                         0);
    }
    for (uint32_t e = 0; e < life_elements(a); e++) {
        assert_int_equal(life_restore_element(b, e, life_literal(a, e), life_founded(a, e)), 0);
    }
    assert_int_equal(life_changed_ids(b), 0);
    assert_int_equal(life_changed_elements(b), 0);
    alive[5] = true;
    uint32_t split[6] = {0, 0, 0, 1, 0, 1};
    const life_events_t *ea = life_reconcile(a, 6, alive, split, seq);
    const life_events_t *eb = life_reconcile(b, 6, alive, split, seq);
    assert_int_equal(ea->n, eb->n);
    assert_true(ea->n > 0);
    for (size_t i = 0; i < ea->n; i++) {
        assert_int_equal(ea->ev[i].kind, eb->ev[i].kind);
        assert_string_equal(life_id_str(a, ea->ev[i].id), life_id_str(b, eb->ev[i].id));
    }
    assert_int_equal(life_id_count(a), life_id_count(b));
    for (uint32_t e = 0; e < 6; e++) {
        assert_int_equal(life_literal(a, e), life_literal(b, e));
        assert_int_equal(life_founded(a, e), life_founded(b, e));
    }

    /* restore refuses what a life_t never holds */
    life_t *c = life_new("identity", ns, s_name, NULL);
    assert_int_equal(life_restore_id(c, 1, life_id_str(a, 0), 1, LIFE_NONE, true), -EINVAL);
    assert_int_equal(life_restore_id(c, 0, "short", 0, LIFE_NONE, true), -EINVAL);
    assert_int_equal(life_restore_id(c, 0, life_id_str(a, 0), 0, 0, true), -EINVAL);
    assert_int_equal(life_restore_element(c, 0, 0, 1), -EINVAL);
    assert_int_equal(life_restore_id(c, 0, life_id_str(a, 0), 0, LIFE_NONE, true), 0);
    assert_int_equal(life_restore_element(c, 3, 0, 1), 0);
    assert_int_equal(life_elements(c), 4);
    life_destroy(&a);
    life_destroy(&b);
    life_destroy(&c);
}

/*  Copies engine a into a new engine through the restore API. last[slot] is the last
    upsert of each live slot. comp: a's identity partition. */
static cluster_t *
s_clone(cluster_t *a, const ccfg_t *cfg, obs_t *const *last, uint32_t *comp)
{
    cluster_t *b = cluster_new(cfg, "clone");
    for (size_t s = 0; s < cluster_slots(a); s++) {
        bool alive = cluster_slot_alive(a, s);
        assert_int_equal(cluster_restore_slot(b, cluster_slot_name(a, s), alive,
                                              cluster_slot_seq(a, s), alive ? last[s] : NULL),
                         0);
        comp[s] = alive ? life_resolve_element(cluster_life(a, CLUSTER_IDENTITY), (uint32_t)s) : 0;
    }
    for (int layer = CLUSTER_IDENTITY; layer <= CLUSTER_CAMPAIGN; layer++) {
        life_t *la = cluster_life(a, (cluster_layer_t)layer);
        life_t *lb = cluster_life(b, (cluster_layer_t)layer);
        for (uint32_t x = 0; x < life_id_count(la); x++) {
            assert_int_equal(life_restore_id(lb, x, life_id_str(la, x), life_formed(la, x),
                                             life_merged_into(la, x), life_is_live(la, x)),
                             0);
            assert_int_equal(
                cluster_restore_formed_seq(b, (cluster_layer_t)layer, x,
                                           cluster_formed_seq(a, (cluster_layer_t)layer, x)),
                0);
        }
        for (uint32_t e = 0; e < life_elements(la); e++) {
            assert_int_equal(life_restore_element(lb, e, life_literal(la, e), life_founded(la, e)),
                             0);
        }
    }
    cluster_counters_t cn = cluster_counters(a);
    cluster_restore_counters(b, &cn);
    return b;
}

static void
test_cluster_rebuild_fixed_point(void **state)
{
    (void)state;
    ccfg_t cfg;
    ccfg_reference(&cfg);
    s_list_t in = {0};
    s_noise_floor(&in, 1);
    pyrand_t r;
    pyrand_seed(&r, 7);
    for (int i = 0; i < 40; i++) {
        s_list_add(&in, s_random_obs(&r, 12));
    }
    cluster_t *a = cluster_new(&cfg, "clone");
    obs_t **last = xcalloc(in.n + 1, sizeof *last);
    for (size_t i = 0; i < in.n; i++) {
        cluster_apply(a, in.v[i]);
        int64_t s = cluster_find(a, in.v[i]->id);
        if (s >= 0) {
            last[s] = in.v[i];
        }
        if (i % 17 == 16) {
            assert_int_equal(cluster_reconcile(a, NULL, NULL), 0);
        }
    }
    assert_int_equal(cluster_reconcile(a, NULL, NULL), 0);
    /* reconciling an unchanged engine is a fixed point: no event, no change */
    cluster_clear_changes(a);
    s_log_t again = {0};
    assert_int_equal(cluster_reconcile(a, s_capture, &again), 0);
    assert_int_equal(again.n, 0);
    assert_int_equal(cluster_changed_slots(a), 0);
    assert_int_equal(life_changed_ids(cluster_life(a, CLUSTER_IDENTITY)), 0);
    assert_int_equal(life_changed_ids(cluster_life(a, CLUSTER_CAMPAIGN)), 0);

    /* the restored copy rebuilds to the same state without an event */
    uint32_t *comp = xcalloc(cluster_slots(a) + 1, sizeof *comp);
    cluster_t *b = s_clone(a, &cfg, last, comp);
    assert_int_equal(cluster_rebuild(b, comp, cluster_slots(b), NULL, NULL), 0);
    assert_int_equal(cluster_counters(b).events, cluster_counters(a).events);
    assert_int_equal(cluster_stats(b).reconciliations, cluster_stats(a).reconciliations);
    for (size_t s = 0; s < cluster_slots(a); s++) {
        const char *ia = cluster_identity_of(a, s);
        const char *ib = cluster_identity_of(b, s);
        assert_true((ia == NULL) == (ib == NULL));
        if (ia) {
            assert_string_equal(ia, ib);
            assert_string_equal(cluster_campaign_of(a, s), cluster_campaign_of(b, s));
        }
    }
    /* a partition the ids were not made for is no fixed point */
    uint32_t *single = xcalloc(cluster_slots(a) + 1, sizeof *single);
    cluster_t *c = s_clone(a, &cfg, last, single);
    for (size_t s = 0; s < cluster_slots(a); s++) {
        single[s] = (uint32_t)s;
    }
    assert_int_equal(cluster_rebuild(c, single, cluster_slots(c), NULL, NULL), CADRE_EMISMATCH);
    assert_int_equal(cluster_rebuild(c, single, cluster_slots(c) + 1, NULL, NULL), -EINVAL);

    /* and goes on exactly as the original */
    s_log_t ea = {0};
    s_log_t eb = {0};
    for (int i = 0; i < 30; i++) {
        obs_t *o = s_random_obs(&r, 12);
        cluster_apply(a, o);
        cluster_apply(b, o);
        obs_destroy(&o);
    }
    assert_int_equal(cluster_reconcile(a, s_capture, &ea), 0);
    assert_int_equal(cluster_reconcile(b, s_capture, &eb), 0);
    s_logs_equal(&ea, &eb, "after the rebuild");

    /* restore_slot refuses what an engine never holds */
    assert_int_equal(cluster_restore_slot(c, cluster_slot_name(a, 0), false, 0, NULL), -EINVAL);
    assert_int_equal(cluster_restore_slot(c, "fresh", false, 0, in.v[0]), -EINVAL);
    assert_int_equal(cluster_restore_slot(c, "fresh", true, 0, in.v[0]), -EINVAL);
    /* a live slot restored without its record takes its features later, from a record with
       its id only, and a dead slot never does */
    size_t fresh = cluster_slots(c);
    assert_int_equal(cluster_restore_slot(c, "fresh", true, 0, NULL), 0);
    assert_int_equal(cluster_restore_features(c, fresh, in.v[0]), -EINVAL);
    obs_t *mine = obs_dup(in.v[0]);
    free(mine->id);
    mine->id = xstrdup("fresh");
    assert_int_equal(cluster_restore_features(c, fresh, mine), 0);
    assert_int_equal(cluster_restore_slot(c, "gone", false, 0, NULL), 0);
    assert_int_equal(cluster_restore_features(c, fresh + 1, mine), -EINVAL);
    obs_destroy(&mine);
    assert_int_equal(cluster_restore_formed_seq(c, CLUSTER_CAMPAIGN, 1u << 30, 0), -EINVAL);

    s_log_free(&again);
    s_log_free(&ea);
    s_log_free(&eb);
    free(comp);
    free(single);
    free(last);
    cluster_destroy(&a);
    cluster_destroy(&b);
    cluster_destroy(&c);
    s_list_free(&in);
}

/*  --------------------------------------------------------------------------------------
    The store */

/*  Slots of both formats: a slot given its record's bytes is stored with them (format 1, as
    stores written before the journal reference), one given a journal seq with that seq, and
    both load back as they were put. */
typedef struct {
    merger_store_slot_t v[4]; /* loaded (names and records copied) */
    char *copies[8];          /* owned copies */
    size_t n;                 /* slots loaded */
} s_slots_t;

static int
s_keep_slot(const merger_store_slot_t *slot, void *arg)
{
    s_slots_t *k = arg;
    assert_true(k->n < 4);
    merger_store_slot_t *x = &k->v[k->n];
    *x = *slot;
    x->name = k->copies[2 * k->n] = xstrdup(slot->name);
    if (slot->rec) {
        char *r = xmalloc(slot->rec_len);
        memcpy(r, slot->rec, slot->rec_len);
        x->rec = k->copies[2 * k->n + 1] = r;
    }
    k->n++;
    return 0;
}

static void
test_slot_formats(void **state)
{
    (void)state;
    char *root = s_tmpdir();
    char *dir = xasprintf("%s/merger", root);
    merger_store_t *st = merger_store_open(dir, 0, "fmt");
    assert_non_null(st);
    assert_int_equal(merger_store_begin(st), 0);
    merger_store_slot_t with_bytes = {0, "a", true, 3, 0, "REC", 3};
    merger_store_slot_t by_seq = {1, "b", true, 4, 17, NULL, 0};
    merger_store_slot_t dead = {2, "c", false, 5, 0, NULL, 0};
    merger_store_slot_t nothing = {3, "d", true, 6, 0, NULL, 0};
    assert_int_equal(merger_store_put_slot(st, &with_bytes), 0);
    assert_int_equal(merger_store_put_slot(st, &by_seq), 0);
    assert_int_equal(merger_store_put_slot(st, &dead), 0);
    assert_int_equal(merger_store_put_slot(st, &nothing), -EINVAL); /* live, no record */
    cluster_counters_t c = {0};
    assert_int_equal(merger_store_commit(st, 9, &c), 0);
    merger_store_destroy(&st);
    st = merger_store_open(dir, 0, "fmt");
    assert_non_null(st);
    s_slots_t k = {0};
    merger_store_visit_t v = {.slot = s_keep_slot};
    assert_int_equal(merger_store_load(st, &c, &v, &k), 0);
    assert_int_equal(k.n, 3);
    assert_true(k.v[0].alive && k.v[0].jseq == 0 && k.v[0].rec_len == 3);
    assert_memory_equal(k.v[0].rec, "REC", 3);
    assert_true(k.v[1].alive && k.v[1].jseq == 17 && k.v[1].rec == NULL && k.v[1].seq == 4);
    assert_true(!k.v[2].alive && k.v[2].jseq == 0 && k.v[2].rec == NULL);
    assert_string_equal(k.v[2].name, "c");
    for (size_t i = 0; i < 8; i++) {
        free(k.copies[i]);
    }
    merger_store_destroy(&st);
    s_rm_rf(root);
    free(dir);
    free(root);
}

static void
test_open_fresh_and_deployment(void **state)
{
    (void)state;
    char *root = s_tmpdir();
    char *dir = xasprintf("%s/merger", root);
    ccfg_t cfg;
    ccfg_reference(&cfg);
    merger_state_t *m = s_state_open(&cfg, "one", dir, 0);
    assert_non_null(m);
    assert_int_equal(merger_state_reconciled(m), 0);
    assert_int_equal(merger_state_snapshot(m), 0); /* nothing pending */
    s_list_t in = {0};
    s_noise_floor(&in, 1);
    for (size_t i = 0; i < in.n; i++) {
        assert_int_equal(s_apply(m, i + 1, in.v[i]), 0);
    }
    s_log_t log = {0};
    assert_int_equal(merger_state_reconcile(m, 30, s_capture, &log), 0);
    assert_true(log.n > 0);
    assert_int_equal(merger_state_reconciled(m), 30);
    assert_int_equal(merger_state_snapshot(m), 0); /* committed: nothing pending */
    char *before = s_dump(merger_state_cluster(m));
    merger_state_destroy(&m);

    /* another deployment's ids would differ: refused */
    assert_null(s_state_open(&cfg, "two", dir, 0));
    /* another clustering configuration does not reproduce the partition: refused */
    ccfg_t other = cfg;
    other.camp_threshold = 1e9; /* no campaign edge at all */
    assert_null(s_state_open(&other, "one", dir, 0));
    /* opened, its records not fetched: restoring, and it can be dropped as it is */
    m = merger_state_open(&cfg, "one", dir, 0);
    assert_non_null(m);
    assert_int_equal(merger_state_wanted(m), 30);
    uint64_t first[2];
    assert_int_equal(merger_state_wanted_seqs(m, 0, first, 2), 2);
    assert_true(first[0] < first[1]);
    assert_int_equal(merger_state_restore_record(m, 999, "x", 1), -ENOENT);
    merger_state_destroy(&m);
    /* the same one restores the state, and a barrier re-run twice is no regression */
    m = s_state_open(&cfg, "one", dir, 0);
    assert_non_null(m);
    assert_int_equal(merger_state_reconciled(m), 30);
    char *after = s_dump(merger_state_cluster(m));
    assert_string_equal(before, after);
    s_log_t none = {0};
    assert_int_equal(merger_state_reconcile(m, 10, s_capture, &none), 0);
    assert_int_equal(none.n, 0);
    assert_int_equal(merger_state_reconciled(m), 30);
    merger_state_destroy(&m);
    free(before);
    free(after);
    s_log_free(&log);
    s_log_free(&none);
    s_list_free(&in);
    s_rm_rf(root);
    s_jr_clear(); /* the test's journal goes with its stores */
    free(root);
    free(dir);
}

/*  (a) kill -9 right after a snapshot, and between two barriers. */
static void
test_crash_after_snapshot(void **state)
{
    (void)state;
    pyrand_t r;
    pyrand_seed(&r, 20260314);
    for (int run = 0; run < 8; run++) {
        ccfg_t cfg;
        ccfg_reference(&cfg);
        if (run % 2) {
            cfg.generic_cutoff[KEY_HASSH] = 3;
            cfg.generic_cutoff[KEY_PAYLOAD] = 4;
            cfg.generic_cutoff[KEY_JA3] = 5;
        }
        s_list_t in = {0};
        s_mixed_stream(&r, &in);
        uint32_t shards = 1 + (uint32_t)pyrand_below(&r, 3);
        s_plan_t plan = {.every = 4 + pyrand_below(&r, 8), .n_inputs = in.n};
        s_run_t ref;
        s_reference(in.v, &plan, shards, &cfg, &ref);
        size_t nb = s_barriers(&plan);
        plan.barrier = pyrand_below(&r, nb - 1);
        plan.kind = run % 4 < 2 ? S_CRASH_AFTER : S_CRASH_INTERVAL;
        plan.extra = pyrand_below(&r, plan.every - 1);
        uint64_t from = s_crash_and_resume(in.v, &plan, shards, &cfg, &ref);
        assert_int_equal(from, ref.seqs[plan.barrier]);
        s_run_free(&ref);
        s_list_free(&in);
    }
}

/*  (b) kill -9 inside a snapshot transaction: the previous snapshot is what reopens, and
    re-running the barrier re-publishes the same events. */
static void
test_crash_mid_snapshot(void **state)
{
    (void)state;
    pyrand_t r;
    pyrand_seed(&r, 977);
    for (int run = 0; run < 6; run++) {
        ccfg_t cfg;
        ccfg_reference(&cfg);
        cfg.generic_cutoff[KEY_PAYLOAD] = run % 2 ? 3 : 0;
        s_list_t in = {0};
        s_mixed_stream(&r, &in);
        uint32_t shards = 1 + (uint32_t)pyrand_below(&r, 3);
        s_plan_t plan = {.every = 5 + pyrand_below(&r, 6), .n_inputs = in.n};
        s_run_t ref;
        s_reference(in.v, &plan, shards, &cfg, &ref);
        size_t nb = s_barriers(&plan);
        plan.kind = S_CRASH_MID;
        plan.barrier = run == 0 ? 0 : 1 + pyrand_below(&r, nb - 1);
        /* every snapshot writes at least one slot and the five meta entries */
        plan.write = 1 + pyrand_below(&r, 5);
        uint64_t from = s_crash_and_resume(in.v, &plan, shards, &cfg, &ref);
        assert_int_equal(from, plan.barrier ? ref.seqs[plan.barrier - 1] : 0);
        s_run_free(&ref);
        s_list_free(&in);
    }
}

/*  The write hook as a stopwatch: the time of a snapshot's first write. */
static void
s_first_write(uint64_t written, void *arg)
{
    if (written == 1) {
        *(double *)arg = s_now_ms();
    }
}

/*  One barrier in sim at seq; returns the snapshot's statistics and its duration (first
    write to commit). */
static merger_store_stats_t
s_timed_barrier(s_sim_t *sim, uint64_t seq, double *ms)
{
    double start = 0;
    merger_store_t *st = merger_state_store(sim->merger);
    merger_store_set_hook(st, s_first_write, &start);
    s_log_t log = {0};
    assert_int_equal(s_sim_barrier(sim, seq, &log), 0);
    *ms = s_reconciled_at - start;
    merger_store_set_hook(st, NULL, NULL);
    s_log_free(&log);
    return merger_store_stats(st);
}

/*  (c) a snapshot writes what changed, not the model. */
static void
test_incremental_cost(void **state)
{
    (void)state;
    ccfg_t cfg;
    ccfg_reference(&cfg);
    s_list_t in = {0};
    s_noise_floor(&in, 100);
    char *root = s_tmpdir();
    s_sim_t sim;
    s_sim_open(&sim, root, 2, &cfg, true);
    uint64_t seq = 0;
    for (size_t i = 0; i < in.n; i++) {
        s_sim_input(&sim, ++seq, in.v[i]);
    }
    double ms = 0;
    merger_store_stats_t full = s_timed_barrier(&sim, seq, &ms);
    cluster_stats_t cs = cluster_stats(merger_state_cluster(sim.merger));
    print_message("first snapshot: %zu observations, %llu identities, %llu campaigns: %llu "
                  "entries, %llu bytes, %.1f ms\n",
                  in.n, (unsigned long long)cs.identities, (unsigned long long)cs.campaigns,
                  (unsigned long long)full.entries, (unsigned long long)full.bytes, ms);
    assert_true(full.entries > in.n);

    /* one observation changes: an upsert with one more session, a new one, a delete */
    obs_t *up = obs_dup(in.v[in.n / 2]);
    obs_session_t *s = obs_add_session(up);
    s->phase = UKC_DISCOVERY;
    s->start = 1767225600.0;
    obs_t *fresh = obs_dup(in.v[3]);
    free(fresh->id);
    fresh->id = xstrdup("fresh-one");
    obs_t *del = obs_new();
    del->op = OBS_DELETE;
    del->id = xstrdup(in.v[7]->id);
    obs_t *const changes[] = {up, fresh, del};
    static const char *const names[] = {"upsert", "new observation", "delete"};
    for (size_t k = 0; k < 3; k++) {
        s_sim_input(&sim, ++seq, changes[k]);
        merger_store_stats_t one = s_timed_barrier(&sim, seq, &ms);
        print_message("%s: %llu entries, %llu bytes, %.2f ms (store holds %llu entries)\n",
                      names[k], (unsigned long long)one.entries, (unsigned long long)one.bytes, ms,
                      (unsigned long long)one.stored);
        assert_true(one.entries <= 32);
        assert_true(one.stored > 50 * one.entries);
    }
    /* a barrier with no change writes only the meta entries */
    merger_store_stats_t idle = s_timed_barrier(&sim, ++seq, &ms);
    assert_int_equal(idle.entries, 5);
    char *before = s_dump(merger_state_cluster(sim.merger));
    s_sim_close(&sim);
    s_sim_open(&sim, root, 2, &cfg, true);
    char *after = s_dump(merger_state_cluster(sim.merger));
    assert_string_equal(before, after);
    s_sim_close(&sim);
    free(before);
    free(after);
    obs_destroy(&up);
    obs_destroy(&fresh);
    obs_destroy(&del);
    s_list_free(&in);
    s_rm_rf(root);
    s_jr_clear(); /* the test's journal goes with its stores */
    free(root);
}

/*  Which threads ticked and wrote during a snapshot. */
typedef struct {
    pthread_t main;    /* the test's thread */
    size_t ticks;      /* tick calls */
    size_t ticks_off;  /* tick calls from another thread */
    size_t writes;     /* store writes */
    size_t writes_off; /* store writes from another thread */
} s_threads_t;

static void
s_count_tick(void *arg)
{
    s_threads_t *t = arg;
    t->ticks++;
    t->ticks_off += !pthread_equal(pthread_self(), t->main);
}

static void
s_count_write(uint64_t written, void *arg)
{
    (void)written;
    s_threads_t *t = arg;
    t->writes++;
    t->writes_off += !pthread_equal(pthread_self(), t->main);
}

/*  (e) a large snapshot is written by a helper thread while the caller's thread keeps
    ticking (the merger's heartbeats go on during a long commit); the tick never runs on the
    helper, and the snapshot restores to the same engine. */
static void
test_large_snapshot_on_helper(void **state)
{
    (void)state;
    ccfg_t cfg;
    ccfg_reference(&cfg);
    s_list_t in = {0};
    s_noise_floor(&in, 400);
    assert_true(in.n >= 8192); /* merger_state.c S_WRITER_THREAD_SLOTS */
    char *root = s_tmpdir();
    s_sim_t sim;
    s_sim_open(&sim, root, 1, &cfg, true);
    s_threads_t t = {.main = pthread_self()};
    cluster_set_tick(merger_state_cluster(sim.merger), s_count_tick, &t);
    merger_store_set_hook(merger_state_store(sim.merger), s_count_write, &t);
    uint64_t seq = 0;
    for (size_t i = 0; i < in.n; i++) {
        s_sim_input(&sim, ++seq, in.v[i]);
    }
    s_log_t log = {0};
    assert_int_equal(s_sim_barrier(&sim, seq, &log), 0);
    s_log_free(&log);
    print_message("%zu observations: %zu store writes (%zu on the helper), %zu ticks\n", in.n,
                  t.writes, t.writes_off, t.ticks);
    assert_true(t.writes > in.n);
    assert_int_equal(t.writes_off, t.writes); /* the snapshot was written by the helper */
    assert_int_equal(t.ticks_off, 0);         /* every tick on the caller's thread */
    merger_store_set_hook(merger_state_store(sim.merger), NULL, NULL);
    char *before = s_dump(merger_state_cluster(sim.merger));
    s_sim_close(&sim);
    s_sim_open(&sim, root, 1, &cfg, true);
    char *after = s_dump(merger_state_cluster(sim.merger));
    assert_string_equal(before, after);
    s_sim_close(&sim);
    free(before);
    free(after);
    s_list_free(&in);
    s_rm_rf(root);
    s_jr_clear(); /* the test's journal goes with its stores */
    free(root);
}

/*  (d) a full map is an error, not a crash; the last snapshot survives. */
static void
test_map_full(void **state)
{
    (void)state;
    ccfg_t cfg;
    ccfg_reference(&cfg);
    s_list_t in = {0};
    s_noise_floor(&in, 40);
    char *root = s_tmpdir();
    char *dir = xasprintf("%s/merger", root);
    merger_state_t *m = s_state_open(&cfg, "full", dir, 256u << 10);
    assert_non_null(m);
    uint64_t seq = 0;
    uint64_t good = 0;
    char *good_dump = NULL;
    int rc = 0;
    while (rc == 0 && seq < in.n) {
        for (int k = 0; k < 20 && seq < in.n; k++) {
            assert_int_equal(s_apply(m, seq + 1, in.v[seq]), 0);
            seq++;
        }
        rc = merger_state_reconcile(m, seq, NULL, NULL);
        if (rc == 0) {
            good = seq;
            free(good_dump);
            good_dump = s_dump(merger_state_cluster(m));
        }
    }
    assert_int_equal(rc, CADRE_EFULL);
    assert_true(good > 0);
    assert_int_equal(merger_state_reconciled(m), good);
    /* the model has reconciled regardless, and the snapshot stays pending */
    assert_int_equal(cluster_stats(merger_state_cluster(m)).inputs, seq);
    assert_int_equal(merger_state_snapshot(m), CADRE_EFULL);
    assert_int_equal(merger_state_reconciled(m), good);
    /* a record applied after that reconciliation: its snapshot can no longer be written */
    assert_int_equal(s_apply(m, in.n + 1, in.v[0]), 0);
    assert_int_equal(merger_state_snapshot(m), -EBUSY);
    merger_state_destroy(&m);

    /* reopened: the last good snapshot; with a larger map the rest goes through */
    m = s_state_open(&cfg, "full", dir, 256u << 10);
    assert_non_null(m);
    assert_int_equal(merger_state_reconciled(m), good);
    char *now = s_dump(merger_state_cluster(m));
    assert_string_equal(now, good_dump);
    free(now);
    merger_state_destroy(&m);
    m = s_state_open(&cfg, "full", dir, 16u << 20);
    assert_non_null(m);
    for (uint64_t i = good; i < in.n; i++) {
        assert_int_equal(s_apply(m, i + 1, in.v[i]), 0);
    }
    assert_int_equal(merger_state_reconcile(m, in.n, NULL, NULL), 0);
    assert_int_equal(merger_state_reconciled(m), in.n);
    merger_state_destroy(&m);
    free(good_dump);
    s_list_free(&in);
    s_rm_rf(root);
    s_jr_clear(); /* the test's journal goes with its stores */
    free(root);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_life_changes_and_restore),
        cmocka_unit_test(test_life_any_labels),
        cmocka_unit_test(test_life_ticks),
        cmocka_unit_test(test_cluster_rebuild_fixed_point),
        cmocka_unit_test(test_slot_formats),
        cmocka_unit_test(test_open_fresh_and_deployment),
        cmocka_unit_test(test_crash_after_snapshot),
        cmocka_unit_test(test_crash_mid_snapshot),
        cmocka_unit_test(test_incremental_cost),
        cmocka_unit_test(test_map_full),
        cmocka_unit_test(test_large_snapshot_on_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
