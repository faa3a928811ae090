/*  merger_state.c - records + block forests -> the engine (see merger_state.h). */
#include "merger_state.h"

#include "err.h"
#include "log.h"
#include "u64map.h"
#include "uf.h"
#include "wire.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/*  The latest forest of one block, as pairs of slots. */
typedef struct {
    uint32_t *edges;  /* 2 * n slots */
    size_t n;         /* number of edges */
    size_t cap;       /* allocated pairs */
    uint64_t holders; /* members of the block */
    bool generic;     /* the key is generic */
} s_forest_t;

struct merger_state_t {
    cluster_t *cluster;  /* the engine */
    u64map_t *block_idx; /* CCFG_KEY(family, interned value) -> index into forests */
    s_forest_t *forests; /* per block */
    size_t n_forests;    /* blocks seen */
    size_t forests_cap;  /* allocated */
    u64map_t *generic;   /* generic keys -> holder counts */
};

merger_state_t *
merger_state_new(const ccfg_t *cfg, const char *deployment)
{
    merger_state_t *self = xcalloc(1, sizeof *self);
    self->cluster = cluster_new(cfg, deployment);
    self->block_idx = u64map_new();
    self->generic = u64map_new();
    return self;
}

void
merger_state_destroy(merger_state_t **self_p)
{
    merger_state_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_forests; i++) {
        free(self->forests[i].edges);
    }
    free(self->forests);
    u64map_destroy(&self->block_idx);
    u64map_destroy(&self->generic);
    cluster_destroy(&self->cluster);
    free(self);
    *self_p = NULL;
}

int
merger_state_apply_record(merger_state_t *self, const char *bytes, size_t len)
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

int
merger_state_apply_forests(merger_state_t *self, const wmsg_forests_t *body)
{
    int rc = 0;
    for (size_t i = 0; i < body->n; i++) {
        const wmsg_block_t *b = &body->blocks[i];
        uint64_t key = CCFG_KEY(b->family, cluster_intern(self->cluster, b->value));
        uint32_t idx = u64map_get_or_put(self->block_idx, key, (uint32_t)self->n_forests);
        if (idx == self->n_forests) {
            xgrow(&self->forests, &self->forests_cap, self->n_forests + 1);
            memset(&self->forests[self->n_forests], 0, sizeof self->forests[0]);
            self->n_forests++;
        }
        s_forest_t *f = &self->forests[idx];
        f->n = 0;
        f->holders = b->holders;
        f->generic = b->generic;
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
        bool was = u64map_get(self->generic, key) != U64MAP_NONE;
        if (b->generic) {
            u64map_put(self->generic, key,
                       (uint32_t)(b->holders > UINT32_MAX - 1 ? UINT32_MAX - 1 : b->holders));
        } else if (was) {
            u64map_t *next = u64map_new();
            s_without_t w = {.drop = key, .into = next};
            u64map_each(self->generic, s_copy_without, &w);
            u64map_destroy(&self->generic);
            self->generic = next;
        }
    }
    return rc;
}

int
merger_state_reconcile(merger_state_t *self, cluster_event_fn fn, void *arg)
{
    size_t n = cluster_slots(self->cluster);
    uf_t *uf = uf_new(n);
    part_stats_t st = {0};
    for (size_t i = 0; i < self->n_forests; i++) {
        const s_forest_t *f = &self->forests[i];
        if (!f->generic && f->holders >= 2) {
            st.blocks++;
            st.largest_block = f->holders > st.largest_block ? f->holders : st.largest_block;
        }
        for (size_t k = 0; k < f->n; k++) {
            uf_union(uf, f->edges[2 * k], f->edges[2 * k + 1]);
        }
    }
    uint32_t *comp = xcalloc(n + 1, sizeof *comp);
    for (size_t e = 0; e < n; e++) {
        comp[e] = uf_find(uf, (uint32_t)e);
    }
    uf_destroy(&uf);
    int rc = cluster_reconcile_with(self->cluster, comp, n, self->generic, &st, fn, arg);
    free(comp);
    return rc;
}

cluster_t *
merger_state_cluster(merger_state_t *self)
{
    return self->cluster;
}
