/*  fuzz_msg_forests.c - the FORESTS body {blocks: [{family, value, generic, holders, edges}]}
    (wmsg_forests_decode), as the merger decodes a shard's block forests. */
#include "fuzz_msg.h"

static void
s_same(const wmsg_forests_t *a, const wmsg_forests_t *b)
{
    FUZZ_CHECK(a->n == b->n, "round trip changed the number of blocks");
    for (size_t i = 0; i < a->n; i++) {
        const wmsg_block_t *x = &a->blocks[i];
        const wmsg_block_t *y = &b->blocks[i];
        FUZZ_CHECK(x->family == y->family && fuzz_streq(x->value, y->value) &&
                       x->generic == y->generic && x->holders == y->holders &&
                       x->n_edges == y->n_edges,
                   "round trip changed block %zu", i);
        for (size_t k = 0; k < 2 * x->n_edges; k++) {
            FUZZ_CHECK(fuzz_streq(x->edges[k], y->edges[k]),
                       "round trip changed edge end %zu of block %zu", k, i);
        }
    }
}

FUZZ_MSG_TARGET(wmsg_forests_t, wmsg_forests, s_same, NULL)
