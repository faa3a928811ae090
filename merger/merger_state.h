/*  merger_state.h - the merger's model: the one-process engine (core/cluster.h) fed with the
    journaled records, plus the latest spanning forest of every block as the shards report
    them. At a barrier the identity partition is the connected components of all forests,
    brought up to date incrementally: the model keeps every slot's adjacency over the
    forests and walks it from the slots whose record or edges changed since the last
    barrier, handing only those components to cluster_reconcile_some(). Everything after it
    (lifecycle, campaign layer, events) is the engine's own code, which is what makes every
    deployment give the same ids and events as `cadre cluster`.

    Durability (ARCHITECTURE.md "Durability and recovery", docs/storage.md "Merger
    snapshot"): a model opened on a directory keeps a snapshot of itself in a merger_store_t
    and restores it at open. Each reconciliation writes, in one transaction, only what
    changed since the previous snapshot (slots applied, lifecycle entries, block forests),
    after its events were reported and before merger_state_reconcile() returns; the
    snapshot's barrier seq is merger_state_reconciled(). After a crash the model reopens at
    its last snapshot, and the inputs and barriers after it must be run again: events are
    at-least-once, and a re-run barrier reports them with the same ids.
*/
#ifndef CADRE_MERGER_STATE_H
#define CADRE_MERGER_STATE_H

#include "ccfg.h"
#include "cluster.h"
#include "merger_store.h"
#include "wire_msg.h"

#include <stdint.h>

typedef struct merger_state_t merger_state_t;

/*  A new, empty model kept only in memory (no snapshot). Never returns NULL. */
merger_state_t *merger_state_new(const ccfg_t *cfg, const char *deployment);
/*  A model kept durably in the merger store in dir (map_bytes as merger_store_open(); 0 =
    1 GiB): restored from its last snapshot when there is one, empty otherwise. The snapshot
    names each live record by its seq in the broker's journal instead of holding its bytes
    (docs/storage.md "Merger snapshot"): while merger_state_wanted() is not 0 the model is
    **restoring** and needs those records, given by merger_state_restore_record(); the last
    one completes the restore. Returns NULL after logging the reason when the store cannot be
    opened or its snapshot cannot be restored: an entry does not decode, the snapshot was made
    for another deployment, or (when no record was wanted) reconciling the restored partition
    is not a fixed point (another clustering configuration). */
merger_state_t *merger_state_open(const ccfg_t *cfg, const char *deployment, const char *dir,
                                  size_t map_bytes);
/*  Frees the model (closing its store; an unsaved snapshot is lost) and NULLs *self_p. */
void merger_state_destroy(merger_state_t **self_p);
/*  Applies the record journaled at seq (its MessagePack bytes); the model must not be
    restoring. Returns 0, or CADRE_ERECORD when the bytes do not decode (the broker validated
    them, so this means corruption; logged). */
int merger_state_apply_record(merger_state_t *self, uint64_t seq, const char *bytes, size_t len);

/*  Restoring: the number of journal records still needed (0: restored, the model is usable). */
size_t merger_state_wanted(const merger_state_t *self);
/*  Restoring: copies into out up to max journal seqs of the records the snapshot names, in
    ascending order, starting at the from-th (so a caller asks for them in chunks: from = 0,
    max, 2 max, ...); returns how many were copied (0 past the end). Seqs already restored are
    listed too. */
size_t merger_state_wanted_seqs(const merger_state_t *self, size_t from, uint64_t *out, size_t max);
/*  Restoring: the record journaled at seq. Completes the restore with the last wanted record
    (a rebuild that must be a fixed point). Returns 0; -ENOENT when seq is not wanted (any
    more: a duplicate is harmless); CADRE_EFORMAT when the bytes do not decode or are not the
    named slot's record; CADRE_EMISMATCH (logged) when the rebuild is not a fixed point. After
    an error other than -ENOENT the model cannot be used. */
int merger_state_restore_record(merger_state_t *self, uint64_t seq, const char *bytes, size_t len);

/*  Where the merger's time went since the process started (seconds, monotonic clock). */
typedef struct {
    uint64_t reconciliations; /* merger_state_reconcile calls */
    double apply_s;           /* decoding and applying records */
    double reconcile_s;       /* partitions, lifecycle, campaign layer and events */
    double snapshot_s;        /* writing and committing snapshots */
    double last_reconcile_s;  /* the last reconciliation's share of reconcile_s */
    double last_snapshot_s;   /* the last snapshot's share of snapshot_s */
} merger_timings_t;
/*  The cumulative stage timings. */
merger_timings_t merger_state_timings(const merger_state_t *self);
/*  Replaces the forests of the blocks in body. Observation ids an edge names must have been
    applied (the merger applies every record up to a barrier before its forests); an unknown
    id makes the edge count as missing and is returned as CADRE_EPROTO after the rest. */
int merger_state_apply_forests(merger_state_t *self, const wmsg_forests_t *body);
/*  Reconciles at barrier seq (>= 1): components of all forests as the identity partition,
    then the engine, reporting events to fn (may be NULL); then, for a durable model, writes
    and commits the snapshot (merger_state_snapshot()). Returns 0, fn's first negative return,
    or the snapshot's store error (the state has reconciled regardless; retry the snapshot
    with merger_state_snapshot() before acknowledging the barrier). */
int merger_state_reconcile(merger_state_t *self, uint64_t seq, cluster_event_fn fn, void *arg);
/*  Writes the changes since the last committed snapshot as the snapshot of the last
    reconciliation. Returns 0 (also when nothing is pending or the model is in memory only),
    -EBUSY when records or forests were applied after that reconciliation (the next one will
    write them together), or a store error (the changes stay pending). */
int merger_state_snapshot(merger_state_t *self);
/*  The barrier seq of the last committed snapshot (in memory: of the last reconciliation);
    0 before the first. Inputs with seq <= this are in the model. */
uint64_t merger_state_reconciled(const merger_state_t *self);
/*  The engine (borrowed), for queries and summaries. */
cluster_t *merger_state_cluster(merger_state_t *self);
/*  The snapshot store (borrowed; NULL when in memory), for its statistics and tests. */
merger_store_t *merger_state_store(merger_state_t *self);

#endif
