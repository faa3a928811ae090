/*  shard_forest.h - the FORESTS a shard reports at a barrier (docs/protocol.md §6.4): for every
    block dirtied since the last barrier, its generic status, holder count and spanning
    forest, computed by the same block functions the one-process engine uses (core/part.h),
    so the merger's union of all forests is exactly the identity partition.
*/
#ifndef CADRE_SHARD_FOREST_H
#define CADRE_SHARD_FOREST_H

#include "shard_store.h"
#include "wire_msg.h"

/*  Fills out with one block per dirty block of store (call after COMMIT's flips were applied,
    before shard_store_barrier_done). Returns 0 or the store's error. out is released with
    wmsg_forests_free. */
int shard_forests(shard_store_t *store, wmsg_forests_t *out);

#endif
