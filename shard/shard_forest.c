/*  shard_forest.c - spanning forests of a shard's dirty blocks (see shard_forest.h). */
#include "shard_forest.h"

#include "ccfg.h"
#include "ident.h"
#include "part.h"
#include "strtab.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/*  State of one FORESTS build. */
typedef struct {
    shard_store_t *store;       /* the shard's store */
    wmsg_forests_t *out;        /* the body being filled */
    size_t cap;                 /* allocated blocks */
    const char *const *members; /* current block's members (borrowed) */
    wmsg_block_t *block;        /* current block */
    size_t edges_cap;           /* allocated edge slots of the current block */
} s_build_t;

static void
s_edge(uint32_t a, uint32_t b, void *arg)
{
    s_build_t *st = arg;
    wmsg_block_t *bl = st->block;
    xgrow(&bl->edges, &st->edges_cap, 2 * bl->n_edges + 2);
    bl->edges[2 * bl->n_edges] = xstrdup(st->members[a]);
    bl->edges[2 * bl->n_edges + 1] = xstrdup(st->members[b]);
    bl->n_edges++;
}

static int
s_block(int family, const char *value, const char *const *members, const char *const (*triples)[3],
        size_t n, void *arg)
{
    s_build_t *st = arg;
    xgrow(&st->out->blocks, &st->cap, st->out->n + 1);
    wmsg_block_t *bl = &st->out->blocks[st->out->n++];
    memset(bl, 0, sizeof *bl);
    bl->family = family;
    bl->value = xstrdup(value);
    bl->generic = shard_store_is_generic(st->store, family, value);
    bl->holders = n;
    st->block = bl;
    st->members = members;
    st->edges_cap = 0;
    if (bl->generic || n < 2) {
        return 0;
    }
    if (family == KEY_JA3 || family == KEY_JA4 || family == KEY_HASSH) {
        uint32_t *idx = xcalloc(n, sizeof *idx);
        for (size_t i = 0; i < n; i++) {
            idx[i] = (uint32_t)i;
        }
        part_forest_fingerprint(idx, n, s_edge, st);
        free(idx);
        return 0;
    }
    /* Payload or C2: bucket by the (already masked) triples, interned locally. */
    strtab_t *vals = strtab_new();
    part_trip_t *t = xcalloc(n, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < 3; s++) {
            const char *v = triples[i][s];
            t[i].slot[s] = v ? strtab_intern(vals, v, strlen(v)) : IDENT_NONE;
        }
        t[i].member = (uint32_t)i;
    }
    part_forest_infra(t, n, s_edge, st);
    free(t);
    strtab_destroy(&vals);
    return 0;
}

int
shard_forests(shard_store_t *store, wmsg_forests_t *out)
{
    memset(out, 0, sizeof *out);
    s_build_t st = {.store = store, .out = out};
    int rc = shard_store_each_dirty(store, s_block, &st);
    if (rc != 0) {
        wmsg_forests_free(out);
    }
    return rc;
}
