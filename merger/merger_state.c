/*  merger_state.c - records + block forests -> the engine, with durable snapshots (see
    merger_state.h).

    Change tracking for the snapshot: the engine lists the slots it applied and the
    lifecycle entries it changed (cluster.h, life.h); the model adds the record bytes of
    every slot upserted since the last snapshot (the engine keeps only features, and a
    restore rebuilds them from the bytes) and the blocks whose forest it replaced. All of it
    is forgotten once a snapshot commits, so memory and write cost follow the change between
    two snapshots, not the size of the model.
*/
#include "merger_state.h"

#include "err.h"
#include "life.h"
#include "log.h"
#include "u64map.h"
#include "uf.h"
#include "wire.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*  The latest forest of one block, as pairs of slots. */
typedef struct {
    uint64_t key;     /* CCFG_KEY(family, interned value) */
    uint32_t *edges;  /* 2 * n slots */
    size_t n;         /* number of edges */
    size_t cap;       /* allocated pairs */
    uint64_t holders; /* members of the block */
    bool generic;     /* the key is generic */
    bool changed;     /* replaced since the last snapshot */
} s_forest_t;

/*  One adjacency entry: an edge to nbr in the forest of block forest. */
typedef struct {
    uint32_t nbr;    /* the other slot */
    uint32_t forest; /* index into forests */
} s_adj_t;

/*  A slot's adjacency list over every forest's edges. */
typedef struct {
    s_adj_t *v; /* entries */
    size_t n;   /* count */
    size_t cap; /* allocated */
} s_adjs_t;

/*  A live slot of a restored snapshot whose record is still to come from the journal. */
typedef struct {
    uint64_t jseq; /* the record's journal seq */
    uint32_t slot; /* the slot */
} s_want_t;

struct merger_state_t {
    cluster_t *cluster;    /* the engine */
    merger_timings_t time; /* stage timings */
    u64map_t *block_idx;   /* CCFG_KEY(family, interned value) -> index into forests */
    s_forest_t *forests;   /* per block */
    size_t n_forests;      /* blocks seen */
    size_t forests_cap;    /* allocated */
    u64map_t *generic;     /* generic keys -> holder counts */
    merger_store_t *store; /* the snapshot store, or NULL in memory */
    uint64_t reconciled;   /* barrier seq of the last reconciliation */
    uint64_t saved;        /* barrier seq of the last committed snapshot */
    bool unsaved;          /* a reconciliation's changes are not committed yet */
    bool moved;            /* records or forests applied since the last reconciliation */
    uint64_t *jseq;        /* per slot: journal seq of its record (0: dead, or not known) */
    s_want_t *want;        /* restoring: the records to fetch, by jseq */
    size_t n_want;         /* entries */
    size_t want_cap;       /* allocated */
    u64map_t *want_idx;    /* restoring: jseq -> index into want, while not yet restored */
    size_t n_wanted;       /* restoring: records not restored yet (0: restored) */
    uint32_t *changed;     /* blocks whose forest changed since the last snapshot */
    size_t n_changed;      /* count */
    size_t changed_cap;    /* allocated */
    /* Incremental identity partition (merger_state_reconcile). */
    s_adjs_t *adj;       /* per slot: its edges in every forest */
    uint8_t *mark;       /* per slot: 1 affected, 2 visited, 4 filtered (scratch) */
    size_t slots_cap;    /* allocated per-slot entries */
    uint32_t *affected;  /* slots whose edges or record changed since the last reconciliation */
    size_t n_affected;   /* count */
    size_t affected_cap; /* allocated */
    uint64_t blocks;     /* non-generic forests with at least two holders */
    uint64_t largest;    /* holders of the largest of them */
    uint64_t n_largest;  /* how many have that size; 0 = recount (largest went) */
};

merger_state_t *
merger_state_new(const ccfg_t *cfg, const char *deployment)
{
    merger_state_t *self = xcalloc(1, sizeof *self);
    self->cluster = cluster_new(cfg, deployment);
    self->block_idx = u64map_new();
    self->generic = u64map_new();
    self->want_idx = u64map_new();
    return self;
}

void
merger_state_destroy(merger_state_t **self_p)
{
    assert(self_p);
    merger_state_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_forests; i++) {
        free(self->forests[i].edges);
    }
    free(self->forests);
    free(self->want);
    free(self->jseq);
    free(self->changed);
    for (size_t i = 0; i < self->slots_cap; i++) {
        free(self->adj[i].v);
    }
    free(self->adj);
    free(self->mark);
    free(self->affected);
    u64map_destroy(&self->want_idx);
    u64map_destroy(&self->block_idx);
    u64map_destroy(&self->generic);
    merger_store_destroy(&self->store);
    cluster_destroy(&self->cluster);
    free(self);
    *self_p = NULL;
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

merger_timings_t
merger_state_timings(const merger_state_t *self)
{
    return self->time;
}

/*  Grows the per-slot arrays to the engine's slots. */
static void
s_ensure_slots(merger_state_t *self)
{
    size_t n = cluster_slots(self->cluster);
    if (n <= self->slots_cap) {
        return;
    }
    size_t cap = self->slots_cap ? self->slots_cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    self->adj = xrealloc(self->adj, cap * sizeof *self->adj);
    self->mark = xrealloc(self->mark, cap * sizeof *self->mark);
    self->jseq = xrealloc(self->jseq, cap * sizeof *self->jseq);
    memset(self->adj + self->slots_cap, 0, (cap - self->slots_cap) * sizeof *self->adj);
    memset(self->mark + self->slots_cap, 0, cap - self->slots_cap);
    memset(self->jseq + self->slots_cap, 0, (cap - self->slots_cap) * sizeof *self->jseq);
    self->slots_cap = cap;
}

/*  Lists slot as affected: its component must be recomputed at the next reconciliation. */
static void
s_affect(merger_state_t *self, uint32_t slot)
{
    if (!(self->mark[slot] & 1)) {
        self->mark[slot] |= 1;
        xgrow(&self->affected, &self->affected_cap, self->n_affected + 1);
        self->affected[self->n_affected++] = slot;
    }
}

/*  Adds forest f's edges to the adjacency lists, marking their ends affected. */
static void
s_adj_add(merger_state_t *self, uint32_t f)
{
    const s_forest_t *fo = &self->forests[f];
    for (size_t k = 0; k < fo->n; k++) {
        uint32_t a = fo->edges[2 * k];
        uint32_t b = fo->edges[2 * k + 1];
        s_adjs_t *la = &self->adj[a];
        xgrow(&la->v, &la->cap, la->n + 1);
        la->v[la->n++] = (s_adj_t){.nbr = b, .forest = f};
        s_adjs_t *lb = &self->adj[b];
        xgrow(&lb->v, &lb->cap, lb->n + 1);
        lb->v[lb->n++] = (s_adj_t){.nbr = a, .forest = f};
        s_affect(self, a);
        s_affect(self, b);
    }
}

/*  Removes forest f's edges from the adjacency lists (each end's list filtered once),
    marking their ends affected. */
static void
s_adj_remove(merger_state_t *self, uint32_t f)
{
    const s_forest_t *fo = &self->forests[f];
    for (size_t k = 0; k < 2 * fo->n; k++) {
        uint32_t v = fo->edges[k];
        if (self->mark[v] & 4) {
            continue;
        }
        self->mark[v] |= 4;
        s_adjs_t *l = &self->adj[v];
        size_t w = 0;
        for (size_t i = 0; i < l->n; i++) {
            if (l->v[i].forest != f) {
                l->v[w++] = l->v[i];
            }
        }
        l->n = w;
        s_affect(self, v);
    }
    for (size_t k = 0; k < 2 * fo->n; k++) {
        self->mark[fo->edges[k]] &= (uint8_t)~4;
    }
}

/*  Counts a forest in the block statistics (sign +1) or takes it out (-1). */
static void
s_count_block(merger_state_t *self, const s_forest_t *f, int sign)
{
    if (f->generic || f->holders < 2) {
        return;
    }
    self->blocks += (uint64_t)(int64_t)sign;
    if (sign > 0 && f->holders > self->largest) {
        self->largest = f->holders;
        self->n_largest = 1;
    } else if (f->holders == self->largest) {
        self->n_largest += (uint64_t)(int64_t)sign;
    }
}

/*  The identity partition's statistics (recounting the largest block only when the last
    block of that size shrank or went generic). */
static part_stats_t
s_block_stats(merger_state_t *self)
{
    if (self->n_largest == 0 && self->blocks > 0) {
        self->largest = 0;
        for (size_t i = 0; i < self->n_forests; i++) {
            const s_forest_t *f = &self->forests[i];
            if (!f->generic && f->holders >= 2) {
                if (f->holders > self->largest) {
                    self->largest = f->holders;
                    self->n_largest = 0;
                }
                self->n_largest += f->holders == self->largest;
            }
        }
    }
    part_stats_t st = {0};
    st.blocks = self->blocks;
    st.largest_block = self->blocks ? self->largest : 0;
    return st;
}

static int s_apply_record(merger_state_t *self, uint64_t seq, const char *bytes, size_t len);

int
merger_state_apply_record(merger_state_t *self, uint64_t seq, const char *bytes, size_t len)
{
    assert(self->n_wanted == 0);
    double t0 = s_now();
    int rc = s_apply_record(self, seq, bytes, len);
    self->time.apply_s += s_now() - t0;
    return rc;
}

static int
s_apply_record(merger_state_t *self, uint64_t seq, const char *bytes, size_t len)
{
    obs_t *obs = NULL;
    obs_error_t err;
    int rc = wire_obs_decode(bytes, len, 0, &obs, &err);
    if (rc != 0) {
        char line[512];
        obs_error_format(&err, "journal", line, sizeof line);
        log_error("merger: undecodable journaled record: %s", line);
        return CADRE_ERECORD;
    }
    cluster_apply(self->cluster, obs);
    self->moved = true;
    int64_t slot = cluster_find(self->cluster, obs->id);
    if (slot >= 0) {
        s_ensure_slots(self);
        s_affect(self, (uint32_t)slot);
        /* The snapshot names the record by its journal seq; the bytes stay in the journal. */
        self->jseq[slot] = obs->op != OBS_DELETE ? seq : 0;
    }
    obs_destroy(&obs);
    return 0;
}

/*  Generic status lives in a map without deletion; rebuild it without the key. */
typedef struct {
    uint64_t drop;  /* key to leave out */
    u64map_t *into; /* destination */
} s_without_t;

static void
s_copy_without(uint64_t key, uint32_t value, void *arg)
{
    s_without_t *w = arg;
    if (key != w->drop) {
        u64map_put(w->into, key, value);
    }
}

/*  The forest of key, created empty if the block is new. */
static s_forest_t *
s_forest(merger_state_t *self, uint64_t key)
{
    uint32_t idx = u64map_get_or_put(self->block_idx, key, (uint32_t)self->n_forests);
    if (idx == self->n_forests) {
        xgrow(&self->forests, &self->forests_cap, self->n_forests + 1);
        memset(&self->forests[self->n_forests], 0, sizeof self->forests[0]);
        self->forests[self->n_forests].key = key;
        self->n_forests++;
    }
    return &self->forests[idx];
}

/*  Records a block's generic status and holder count in the generic map. */
static void
s_set_generic(merger_state_t *self, uint64_t key, bool generic, uint64_t holders)
{
    bool was = u64map_get(self->generic, key) != U64MAP_NONE;
    if (generic) {
        u64map_put(self->generic, key,
                   (uint32_t)(holders > UINT32_MAX - 1 ? UINT32_MAX - 1 : holders));
    } else if (was) {
        u64map_t *next = u64map_new();
        s_without_t w = {.drop = key, .into = next};
        u64map_each(self->generic, s_copy_without, &w);
        u64map_destroy(&self->generic);
        self->generic = next;
    }
}

int
merger_state_apply_forests(merger_state_t *self, const wmsg_forests_t *body)
{
    int rc = 0;
    self->moved = true;
    for (size_t i = 0; i < body->n; i++) {
        if (i % 4096 == 4095) {
            cluster_tick(self->cluster);
        }
        const wmsg_block_t *b = &body->blocks[i];
        uint64_t key = CCFG_KEY(b->family, cluster_intern(self->cluster, b->value));
        s_forest_t *f = s_forest(self, key);
        if (!f->changed) {
            f->changed = true;
            xgrow(&self->changed, &self->changed_cap, self->n_changed + 1);
            self->changed[self->n_changed++] = (uint32_t)(f - self->forests);
        }
        uint32_t fi = (uint32_t)(f - self->forests);
        s_ensure_slots(self);
        s_adj_remove(self, fi);
        s_count_block(self, f, -1);
        f->n = 0;
        f->holders = b->holders;
        f->generic = b->generic;
        s_count_block(self, f, +1);
        for (size_t k = 0; k < b->n_edges; k++) {
            int64_t a = cluster_find(self->cluster, b->edges[2 * k]);
            int64_t c = cluster_find(self->cluster, b->edges[2 * k + 1]);
            if (a < 0 || c < 0) {
                log_error("merger: forest of %s names an unknown observation", b->value);
                rc = CADRE_EPROTO;
                continue;
            }
            xgrow(&f->edges, &f->cap, 2 * f->n + 2);
            f->edges[2 * f->n] = (uint32_t)a;
            f->edges[2 * f->n + 1] = (uint32_t)c;
            f->n++;
        }
        s_adj_add(self, fi);
        s_set_generic(self, key, b->generic, b->holders);
    }
    return rc;
}

/*  The identity partition: the components of all forests, as a label per slot (the
    caller frees *comp_p), and how it was made. */
static void
s_partition(merger_state_t *self, uint32_t **comp_p, part_stats_t *st)
{
    size_t n = cluster_slots(self->cluster);
    uf_t *uf = uf_new(n);
    for (size_t i = 0; i < self->n_forests; i++) {
        const s_forest_t *f = &self->forests[i];
        for (size_t k = 0; k < f->n; k++) {
            uf_union(uf, f->edges[2 * k], f->edges[2 * k + 1]);
        }
        if (i % 4096 == 4095) {
            cluster_tick(self->cluster);
        }
    }
    uint32_t *comp = xcalloc(n + 1, sizeof *comp);
    for (size_t e = 0; e < n; e++) {
        comp[e] = uf_find(uf, (uint32_t)e);
    }
    uf_destroy(&uf);
    *comp_p = comp;
    *st = s_block_stats(self);
}

/*  The part of the identity partition that may have changed since the last
    reconciliation: every slot of every component (of all forests' edges) holding an
    affected slot, found by a walk over the adjacency lists, labelled by the slot it was
    found from. A component without an affected slot has the same edges as before, so it
    is the same component (cluster_reconcile_some()'s closed list). The caller frees both
    arrays; clears the affected list. */
static size_t
s_partition_some(merger_state_t *self, uint32_t **slots_p, uint32_t **labels_p)
{
    uint32_t *slots = NULL;
    uint32_t *labels = NULL;
    size_t n = 0;
    size_t cap = 0;
    size_t lcap = 0;
    for (size_t i = 0; i < self->n_affected; i++) {
        uint32_t root = self->affected[i];
        if (self->mark[root] & 2) {
            continue;
        }
        size_t head = n;
        self->mark[root] |= 2;
        xgrow(&slots, &cap, n + 1);
        xgrow(&labels, &lcap, n + 1);
        slots[n] = root;
        labels[n++] = root;
        while (head < n) {
            const s_adjs_t *l = &self->adj[slots[head++]];
            for (size_t k = 0; k < l->n; k++) {
                uint32_t v = l->v[k].nbr;
                if (!(self->mark[v] & 2)) {
                    self->mark[v] |= 2;
                    xgrow(&slots, &cap, n + 1);
                    xgrow(&labels, &lcap, n + 1);
                    slots[n] = v;
                    labels[n++] = root;
                }
            }
            if (head % 4096 == 4095) {
                cluster_tick(self->cluster);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        self->mark[slots[i]] &= (uint8_t)~2;
    }
    for (size_t i = 0; i < self->n_affected; i++) {
        self->mark[self->affected[i]] &= (uint8_t)~1;
    }
    self->n_affected = 0;
    *slots_p = slots;
    *labels_p = labels;
    return n;
}

/*  Forgets every change: the state as it is becomes the last snapshot's. */
static void
s_forget_changes(merger_state_t *self)
{
    cluster_clear_changes(self->cluster);
    for (size_t i = 0; i < self->n_changed; i++) {
        self->forests[self->changed[i]].changed = false;
    }
    self->n_changed = 0;
}

/*  Writes one lifecycle's changed ids and elements into the open snapshot. */
static int
s_write_life(merger_state_t *self, cluster_layer_t layer)
{
    life_t *l = cluster_life(self->cluster, layer);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < life_changed_ids(l); i++) {
        uint32_t id = life_changed_id(l, i);
        merger_store_id_t x = {.layer = layer,
                               .id = id,
                               .uuid = life_id_str(l, id),
                               .formed = life_formed(l, id),
                               .formed_seq = cluster_formed_seq(self->cluster, layer, id),
                               .merged_into = life_merged_into(l, id),
                               .live = life_is_live(l, id)};
        rc = merger_store_put_id(self->store, &x);
    }
    for (size_t i = 0; rc == 0 && i < life_changed_elements(l); i++) {
        uint32_t e = life_changed_element(l, i);
        merger_store_elem_t x = {.layer = layer,
                                 .element = e,
                                 .literal = life_literal(l, e),
                                 .founded = life_founded(l, e)};
        rc = merger_store_put_elem(self->store, &x);
    }
    return rc;
}

/*  Writes every change since the last snapshot and commits them as the snapshot of the
    last reconciliation. */
static int
s_write(merger_state_t *self)
{
    cluster_t *c = self->cluster;
    int rc = merger_store_begin(self->store);
    for (size_t i = 0; rc == 0 && i < cluster_changed_slots(c); i++) {
        if (i % 4096 == 4095) {
            cluster_tick(c);
        }
        size_t slot = cluster_changed_slot(c, i);
        merger_store_slot_t s = {.slot = (uint32_t)slot,
                                 .name = cluster_slot_name(c, slot),
                                 .alive = cluster_slot_alive(c, slot),
                                 .seq = cluster_slot_seq(c, slot)};
        if (s.alive) {
            /* every upsert went through merger_state_apply_record, which noted its seq */
            s.jseq = self->jseq[slot];
            assert(s.jseq != 0);
        }
        rc = merger_store_put_slot(self->store, &s);
    }
    if (rc == 0) {
        rc = s_write_life(self, CLUSTER_IDENTITY);
    }
    if (rc == 0) {
        rc = s_write_life(self, CLUSTER_CAMPAIGN);
    }
    const strtab_t *strings = cluster_strings(c);
    for (size_t i = 0; rc == 0 && i < self->n_changed; i++) {
        const s_forest_t *f = &self->forests[self->changed[i]];
        merger_store_forest_t x = {.block = self->changed[i],
                                   .family = (int)(f->key >> 32),
                                   .value = strtab_str(strings, (uint32_t)f->key),
                                   .holders = f->holders,
                                   .generic = f->generic,
                                   .edges = f->edges,
                                   .n_edges = f->n};
        rc = merger_store_put_forest(self->store, &x);
    }
    cluster_counters_t counters = cluster_counters(c);
    if (rc == 0) {
        rc = merger_store_commit(self->store, self->reconciled, &counters);
    } else {
        merger_store_abort(self->store);
    }
    return rc;
}

/*  A snapshot written by a helper thread while the caller's thread keeps ticking. */
typedef struct {
    merger_state_t *self; /* the model (only the helper touches it until done) */
    int rc;               /* s_write's result */
    bool done;            /* the helper has finished */
    pthread_mutex_t mu;   /* guards done */
    pthread_cond_t cv;    /* signalled when done */
} s_writer_t;

static void *
s_writer_main(void *arg)
{
    s_writer_t *w = arg;
    int rc = s_write(w->self);
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/*  Changed slots from which a snapshot is written by a helper thread: below it the write is
    short and stays on the caller's thread. */
#define S_WRITER_THREAD_SLOTS 8192

/*  s_write, for a large snapshot on a helper thread: the LMDB commit (an fsync of all the
    snapshot's pages) can take seconds, and the caller's tick (the merger's heartbeats) must
    go on meanwhile. The tick hook is taken off the engine while the helper runs, so only the
    caller's thread ever calls it, and the caller touches nothing else until the helper is
    done. */
static int
s_write_ticking(merger_state_t *self)
{
    cluster_tick_fn fn = NULL;
    void *targ = NULL;
    cluster_get_tick(self->cluster, &fn, &targ);
    if (!fn || cluster_changed_slots(self->cluster) < S_WRITER_THREAD_SLOTS) {
        return s_write(self);
    }
    s_writer_t w = {.self = self};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    cluster_set_tick(self->cluster, NULL, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, s_writer_main, &w) != 0) {
        cluster_set_tick(self->cluster, fn, targ);
        pthread_cond_destroy(&w.cv);
        pthread_mutex_destroy(&w.mu);
        return s_write(self);
    }
    pthread_mutex_lock(&w.mu);
    while (!w.done) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000; /* tick every 50 ms */
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w.cv, &w.mu, &until);
        if (!w.done) {
            pthread_mutex_unlock(&w.mu);
            fn(targ);
            pthread_mutex_lock(&w.mu);
        }
    }
    pthread_mutex_unlock(&w.mu);
    pthread_join(th, NULL);
    cluster_set_tick(self->cluster, fn, targ);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return w.rc;
}

int
merger_state_snapshot(merger_state_t *self)
{
    if (!self->unsaved) {
        return 0;
    }
    if (self->moved) {
        return -EBUSY;
    }
    if (self->store) {
        double t0 = s_now();
        int rc = s_write_ticking(self);
        self->time.last_snapshot_s = s_now() - t0;
        self->time.snapshot_s += self->time.last_snapshot_s;
        if (rc != 0) {
            return rc;
        }
    }
    s_forget_changes(self);
    self->saved = self->reconciled;
    self->unsaved = false;
    return 0;
}

int
merger_state_reconcile(merger_state_t *self, uint64_t seq, cluster_event_fn fn, void *arg)
{
    uint32_t *slots = NULL;
    uint32_t *labels = NULL;
    double t0 = s_now();
    size_t k = s_partition_some(self, &slots, &labels);
    part_stats_t st = s_block_stats(self);
    int rc = cluster_reconcile_some(self->cluster, slots, labels, k, self->generic, &st, fn, arg);
    free(slots);
    free(labels);
    self->time.reconciliations++;
    self->time.last_reconcile_s = s_now() - t0;
    self->time.reconcile_s += self->time.last_reconcile_s;
    /* A barrier re-run after a restart may be older than the snapshot: never go back. */
    self->reconciled = seq > self->reconciled ? seq : self->reconciled;
    self->moved = false;
    self->unsaved = true;
    int src = merger_state_snapshot(self);
    return src != 0 ? src : rc;
}

uint64_t
merger_state_reconciled(const merger_state_t *self)
{
    return self->saved;
}

cluster_t *
merger_state_cluster(merger_state_t *self)
{
    return self->cluster;
}

merger_store_t *
merger_state_store(merger_state_t *self)
{
    return self->store;
}

/*  --------------------------------------------------------------------------------------
    Recovery */

static int
s_restore_slot(const merger_store_slot_t *s, void *arg)
{
    merger_state_t *self = arg;
    if (s->slot != cluster_slots(self->cluster)) {
        log_error("merger: snapshot slot %" PRIu32 " out of order", s->slot);
        return CADRE_EFORMAT;
    }
    obs_t *obs = NULL;
    if (s->alive && s->rec) {
        obs_error_t err;
        if (wire_obs_decode(s->rec, s->rec_len, 0, &obs, &err) != 0) {
            char line[512];
            obs_error_format(&err, "snapshot", line, sizeof line);
            log_error("merger: snapshot record of slot %" PRIu32 ": %s", s->slot, line);
            return CADRE_EFORMAT;
        }
    }
    int rc = cluster_restore_slot(self->cluster, s->name, s->alive, s->seq, obs);
    obs_destroy(&obs);
    if (rc != 0) {
        log_error("merger: snapshot slot %" PRIu32 " (%s) does not fit", s->slot, s->name);
        return CADRE_EFORMAT;
    }
    s_ensure_slots(self);
    if (s->alive && !s->rec) {
        /* Its record is the journal's entry jseq, fetched before the rebuild. */
        if (u64map_get_or_put(self->want_idx, s->jseq, (uint32_t)self->n_want) != self->n_want) {
            log_error("merger: snapshot slots %" PRIu32 " and another name journal entry %" PRIu64,
                      s->slot, s->jseq);
            return CADRE_EFORMAT;
        }
        xgrow(&self->want, &self->want_cap, self->n_want + 1);
        self->want[self->n_want++] = (s_want_t){s->jseq, s->slot};
        self->jseq[s->slot] = s->jseq;
    }
    return 0;
}

static int
s_restore_id(const merger_store_id_t *x, void *arg)
{
    merger_state_t *self = arg;
    life_t *l = cluster_life(self->cluster, x->layer);
    if (life_restore_id(l, x->id, x->uuid, x->formed, x->merged_into, x->live) != 0 ||
        cluster_restore_formed_seq(self->cluster, x->layer, x->id, x->formed_seq) != 0) {
        log_error("merger: snapshot id %" PRIu32 " of layer %d does not fit", x->id, x->layer);
        return CADRE_EFORMAT;
    }
    return 0;
}

static int
s_restore_elem(const merger_store_elem_t *x, void *arg)
{
    merger_state_t *self = arg;
    /* identity elements are slots, campaign elements are identities */
    size_t bound = x->layer == CLUSTER_IDENTITY
                       ? cluster_slots(self->cluster)
                       : life_id_count(cluster_life(self->cluster, CLUSTER_IDENTITY));
    if (x->element >= bound || life_restore_element(cluster_life(self->cluster, x->layer),
                                                    x->element, x->literal, x->founded) != 0) {
        log_error("merger: snapshot element %" PRIu32 " of layer %d does not fit", x->element,
                  x->layer);
        return CADRE_EFORMAT;
    }
    return 0;
}

static int
s_restore_forest(const merger_store_forest_t *x, void *arg)
{
    merger_state_t *self = arg;
    size_t n = cluster_slots(self->cluster);
    bool ok = x->block == self->n_forests && x->family >= 0 && x->family < KEY_FAMILY_COUNT;
    for (size_t k = 0; ok && k < 2 * x->n_edges; k++) {
        ok = x->edges[k] < n;
    }
    uint64_t key = CCFG_KEY(x->family, cluster_intern(self->cluster, x->value));
    if (!ok || u64map_get(self->block_idx, key) != U64MAP_NONE) {
        log_error("merger: snapshot forest %" PRIu32 " (%s) does not fit", x->block, x->value);
        return CADRE_EFORMAT;
    }
    s_forest_t *f = s_forest(self, key);
    xgrow(&f->edges, &f->cap, 2 * x->n_edges + 2);
    if (x->n_edges) {
        memcpy(f->edges, x->edges, 2 * x->n_edges * sizeof *f->edges);
    }
    f->n = x->n_edges;
    f->holders = x->holders;
    f->generic = x->generic;
    s_count_block(self, f, +1);
    s_ensure_slots(self);
    s_adj_add(self, (uint32_t)(f - self->forests));
    s_set_generic(self, key, x->generic, x->holders);
    return 0;
}

static int s_rebuild(merger_state_t *self);

static int
s_want_cmp(const void *a, const void *b)
{
    uint64_t x = ((const s_want_t *)a)->jseq, y = ((const s_want_t *)b)->jseq;
    return x < y ? -1 : x > y;
}

/*  Loads the store's snapshot into the (empty) model, and rebuilds the derived state when
    every record is at hand (format-1 slots); otherwise the records are fetched first. */
static int
s_restore(merger_state_t *self)
{
    static const merger_store_visit_t visit = {
        .slot = s_restore_slot,
        .id = s_restore_id,
        .elem = s_restore_elem,
        .forest = s_restore_forest,
    };
    cluster_counters_t counters;
    int rc = merger_store_load(self->store, &counters, &visit, self);
    if (rc != 0) {
        return rc;
    }
    cluster_restore_counters(self->cluster, &counters);
    self->reconciled = self->saved = merger_store_reconciled(self->store);
    /* The records to fetch, in journal order (a cursor's order, for the broker). */
    if (self->n_want > 1) {
        qsort(self->want, self->n_want, sizeof *self->want, s_want_cmp);
    }
    u64map_clear(self->want_idx);
    for (size_t i = 0; i < self->n_want; i++) {
        u64map_put(self->want_idx, self->want[i].jseq, (uint32_t)i);
    }
    self->n_wanted = self->n_want;
    return self->n_wanted == 0 ? s_rebuild(self) : 0;
}

/*  The restored model's derived state, once every slot has its features. */
static int
s_rebuild(merger_state_t *self)
{
    uint32_t *comp = NULL;
    part_stats_t st;
    s_partition(self, &comp, &st);
    int rc = cluster_rebuild(self->cluster, comp, cluster_slots(self->cluster), self->generic, &st);
    free(comp);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < self->n_affected; i++) {
        self->mark[self->affected[i]] &= (uint8_t)~1;
    }
    self->n_affected = 0; /* the rebuild saw everything */
    s_forget_changes(self);
    free(self->want);
    self->want = NULL;
    self->n_want = self->want_cap = 0;
    u64map_clear(self->want_idx);
    return 0;
}

merger_state_t *
merger_state_open(const ccfg_t *cfg, const char *deployment, const char *dir, size_t map_bytes)
{
    merger_store_t *store = merger_store_open(dir, map_bytes, deployment);
    if (!store) {
        return NULL;
    }
    merger_state_t *self = merger_state_new(cfg, deployment);
    self->store = store;
    int rc = s_restore(self);
    if (rc != 0) {
        log_error("merger: cannot restore the snapshot in %s: %s%s", dir, cadre_strerror(rc),
                  rc == CADRE_EMISMATCH ? " (it was made with another clustering configuration)"
                                        : "");
        merger_state_destroy(&self);
        return NULL;
    }
    if (self->n_wanted > 0) {
        log_info("merger: restoring the snapshot at %" PRIu64 ": %zu records to read from the "
                 "journal",
                 self->saved, self->n_wanted);
    } else if (self->saved) {
        cluster_stats_t cs = cluster_stats(self->cluster);
        log_info("merger: restored the snapshot at %" PRIu64 ": %" PRIu64 " observations, %" PRIu64
                 " identities, %" PRIu64 " campaigns",
                 self->saved, cs.observations, cs.identities, cs.campaigns);
    }
    return self;
}

size_t
merger_state_wanted(const merger_state_t *self)
{
    return self->n_wanted;
}

size_t
merger_state_wanted_seqs(const merger_state_t *self, size_t from, uint64_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < self->n_want && n < max; i++) {
        out[n++] = self->want[i].jseq;
    }
    return n;
}

int
merger_state_restore_record(merger_state_t *self, uint64_t seq, const char *bytes, size_t len)
{
    uint32_t k = u64map_get(self->want_idx, seq);
    if (self->n_wanted == 0 || k == U64MAP_NONE || self->want[k].slot == UINT32_MAX) {
        return -ENOENT;
    }
    obs_t *obs = NULL;
    obs_error_t err;
    if (wire_obs_decode(bytes, len, 0, &obs, &err) != 0) {
        char line[512];
        obs_error_format(&err, "journal", line, sizeof line);
        log_error("merger: journal entry %" PRIu64 " named by the snapshot: %s", seq, line);
        return CADRE_EFORMAT;
    }
    int rc = cluster_restore_features(self->cluster, self->want[k].slot, obs);
    obs_destroy(&obs);
    if (rc != 0) {
        log_error("merger: journal entry %" PRIu64 " is not the record of snapshot slot %" PRIu32,
                  seq, self->want[k].slot);
        return CADRE_EFORMAT;
    }
    self->want[k].slot = UINT32_MAX; /* restored */
    self->n_wanted--;
    if (self->n_wanted > 0) {
        return 0;
    }
    rc = s_rebuild(self);
    if (rc != 0) {
        log_error("merger: cannot restore the snapshot: %s%s", cadre_strerror(rc),
                  rc == CADRE_EMISMATCH ? " (it was made with another clustering configuration)"
                                        : "");
        return rc;
    }
    cluster_stats_t cs = cluster_stats(self->cluster);
    log_info("merger: restored the snapshot at %" PRIu64 ": %" PRIu64 " observations, %" PRIu64
             " identities, %" PRIu64 " campaigns",
             self->saved, cs.observations, cs.identities, cs.campaigns);
    return 0;
}
