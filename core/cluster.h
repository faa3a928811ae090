/*  cluster.h - the clustering engine in one process: observations in, identities and
    campaigns out (SPEC §3-§7).

    Inputs (upserts and deletes) are applied in order, each getting the next input sequence
    number. cluster_reconcile() recomputes both partitions through blocking keys and updates
    the stable ids (life.h), reporting events in SPEC §6 order. Between reconciliations the
    queries answer for the state at the last one. The same module backs `cadre cluster`,
    `cadre explain` and the merger role.

    Persistence (the merger's snapshot, docs/storage.md "Merger snapshot"): the engine's
    state that is not derived from its input is the slot table (names in first-seen order,
    alive flags, input sequences), the two lifecycles (life.h, through cluster_life()), the
    per-id formed_seq arrays and a few counters (cluster_counters_t). The engine lists the
    slots changed since cluster_clear_changes(), as life.h does for elements and ids, so a
    snapshot writes only what changed. Recovery re-creates the slots with
    cluster_restore_slot(), restores the rest, then cluster_rebuild() recomputes everything
    derived (features, member lists, the campaign layer) by reconciling the restored
    partition again, which must be a fixed point.
*/
#ifndef CADRE_CLUSTER_H
#define CADRE_CLUSTER_H

#include "ccfg.h"
#include "life.h"
#include "obs.h"
#include "part.h"
#include "records.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Largest member list carried by one formed event; the rest follow as linked events, so
    no event frame exceeds 1 MiB (SPEC §6). */
#define CLUSTER_FORMED_MAX 16384
/*  Budget for a formed event's member list, leaving room for the envelope under 1 MiB. */
#define CLUSTER_FORMED_BYTES ((1u << 20) - 65536)

typedef struct cluster_t cluster_t;

/*  The two layers, each with its own lifecycle. */
typedef enum {
    CLUSTER_IDENTITY = 0, /* elements are observation slots */
    CLUSTER_CAMPAIGN = 1, /* elements are identity indexes */
} cluster_layer_t;

/*  The engine's counters that are not derived from its state (a plain value). */
typedef struct {
    uint64_t inputs;          /* inputs applied so far */
    double clock;             /* latest session end seen: the stream's time */
    uint64_t events;          /* events reported so far (numbers the next event id) */
    uint64_t reconciliations; /* reconciliations run */
} cluster_counters_t;

/*  Receives one event (borrowed for the call). Returns 0 to go on, or a negative code that
    stops the reconciliation's reporting (state is updated regardless). */
typedef int (*cluster_event_fn)(const ev_t *ev, void *arg);

/*  Called now and then during a long reconciliation (between its phases and every few
    thousand items inside them) so a caller with a network loop can keep its heartbeats
    going. Must not call back into the cluster. */
typedef void (*cluster_tick_fn)(void *arg);

/*  What the last reconciliation saw. */
typedef struct {
    uint64_t inputs;          /* inputs applied so far */
    uint64_t observations;    /* live observations */
    uint64_t identities;      /* live identities */
    uint64_t campaigns;       /* live campaigns */
    uint64_t reconciliations; /* reconciliations run */
    uint64_t events;          /* events reported so far */
    part_stats_t id_part;     /* identity partition statistics */
    part_stats_t camp_part;   /* campaign partition statistics */
    uint64_t index_visits;    /* campaign candidate-index entries the last reconciliation
                                 walked: each list at most once to take identities out and
                                 once to collect candidates */
} cluster_stats_t;

/*  A new engine. cfg must have passed ccfg_check(); deployment names the id namespace
    (ids differ between deployments, repeat within one). Never returns NULL. */
cluster_t *cluster_new(const ccfg_t *cfg, const char *deployment);
/*  Frees the engine and NULLs *self_p; NULL is a no-op. */
void cluster_destroy(cluster_t **self_p);
/*  Applies one input: an upsert replaces the observation with the same id, a delete
    removes it (deleting an unknown id is a no-op). Returns false, changing nothing, for an
    upsert identical to the observation's current record (obs_hash): such a resubmission is
    not an input and takes no sequence number (the broker drops it the same way). */
bool cluster_apply(cluster_t *self, const obs_t *obs);
/*  Reconciles: recomputes the partitions and stable ids, reporting events to fn (may be
    NULL). Returns 0 or fn's first negative return. */
int cluster_reconcile(cluster_t *self, cluster_event_fn fn, void *arg);
/*  Sets (fn non-NULL) or clears the tick called during reconciliations. */
void cluster_set_tick(cluster_t *self, cluster_tick_fn fn, void *arg);
/*  The tick set (fn and its argument; fn NULL when none). */
void cluster_get_tick(const cluster_t *self, cluster_tick_fn *fn, void **arg);
/*  Calls the tick, if one is set: for callers doing long work on the cluster's behalf. */
void cluster_tick(const cluster_t *self);
/*  Reconciles with an identity partition computed elsewhere (the merger composes it from the
    shards' block forests): comp[slot] labels the component of every live slot (n must equal
    cluster_slots()), generic holds the generic keys (CCFG_KEY(family, cluster_intern(value)))
    with their holder counts; id_stats (may be NULL) describes how the partition was made.
    Everything else is as cluster_reconcile(); -EINVAL when n does
    not match. */
int cluster_reconcile_with(cluster_t *self, const uint32_t *comp, size_t n, const u64map_t *generic,
                           const part_stats_t *id_stats, cluster_event_fn fn, void *arg);
/*  Reconciles with only the part of the identity partition that may have changed since the
    last reconciliation (the merger's incremental path): slots[0 .. k) lists distinct slots
    with their component labels (labels[i], any values below cluster_slots(); equal labels
    = same component). The list must hold every slot changed since the last
    reconciliation, and be closed: every live slot of every component (now, and at the
    last reconciliation) that holds a listed slot. Slots not listed keep their identity.
    The cost follows k and the campaigns touched, not the model. Returns -EINVAL, changing
    nothing, when a slot is out of range or a changed slot is missing; otherwise as
    cluster_reconcile(). */
int cluster_reconcile_some(cluster_t *self, const uint32_t *slots, const uint32_t *labels, size_t k,
                           const u64map_t *generic, const part_stats_t *id_stats,
                           cluster_event_fn fn, void *arg);
/*  The interned id of a string in the engine's feature-string table (added if new). */
uint32_t cluster_intern(cluster_t *self, const char *s);
/*  Statistics (a copy). */
cluster_stats_t cluster_stats(const cluster_t *self);
/*  The configuration in use (borrowed). */
const ccfg_t *cluster_cfg(const cluster_t *self);

/*  Number of observation slots (live or deleted); slots are numbered in first-seen order. */
size_t cluster_slots(const cluster_t *self);
/*  True iff slot holds a live observation. */
bool cluster_slot_alive(const cluster_t *self, size_t slot);
/*  The observation id of slot (borrowed, lives as long as the engine). */
const char *cluster_slot_name(const cluster_t *self, size_t slot);
/*  The input sequence of the slot's observation (its first upsert since any delete). */
uint64_t cluster_slot_seq(const cluster_t *self, size_t slot);
/*  The slot of an observation id, or -1. */
int64_t cluster_find(const cluster_t *self, const char *id);
/*  The live identity and campaign of a live slot at the last reconciliation (borrowed
    strings), or NULL before its first reconciliation. */
const char *cluster_identity_of(const cluster_t *self, size_t slot);
const char *cluster_campaign_of(const cluster_t *self, size_t slot);

/*  Number of identity ids ever formed; ids are indexed 0 .. count-1. */
size_t cluster_identity_count(const cluster_t *self);
/*  Fills rec for identity index i (see records.h; clear it with rec_identity_clear). */
void cluster_identity_record(const cluster_t *self, size_t i, rec_identity_t *rec);
/*  Number of campaign ids ever formed. */
size_t cluster_campaign_count(const cluster_t *self);
/*  Fills rec for campaign index i (clear it with rec_campaign_clear). */
void cluster_campaign_record(const cluster_t *self, size_t i, rec_campaign_t *rec);

/*  Feature access for explanations: the identity-layer features of a live slot, the
    campaign-layer features of the live identity holding it (NULL when not live). */
const ident_feat_t *cluster_ident_feat(const cluster_t *self, size_t slot);
const camp_feat_t *cluster_camp_feat_of(const cluster_t *self, size_t slot);
/*  The interned-string table (borrowed), to print feature values. */
const strtab_t *cluster_strings(const cluster_t *self);
/*  True iff the key (CCFG_KEY(family, string id)) was generic at the last reconciliation. */
bool cluster_key_generic(const cluster_t *self, uint64_t key);

/*  --- Snapshots and recovery (see the file comment) --- */

/*  The counters (a copy). */
cluster_counters_t cluster_counters(const cluster_t *self);
/*  The lifecycle of a layer (borrowed, lives as long as the engine). Read it freely; change
    it only through life_restore_*() while recovering, before cluster_rebuild(). */
life_t *cluster_life(cluster_t *self, cluster_layer_t layer);
/*  The value of `inputs` when id (of layer; id < life_id_count()) was formed. */
uint64_t cluster_formed_seq(const cluster_t *self, cluster_layer_t layer, size_t id);
/*  Number of slots changed (upserted, or deleted while live) since the last
    cluster_clear_changes(); each is listed once, in the order it first changed. */
size_t cluster_changed_slots(const cluster_t *self);
/*  The i-th changed slot (i < cluster_changed_slots()). */
size_t cluster_changed_slot(const cluster_t *self, size_t i);
/*  Forgets the changed slots and both lifecycles' changes (life_clear_changes()). */
void cluster_clear_changes(cluster_t *self);

/*  Recovery only, on an engine that has applied nothing: appends the next slot, named name,
    with the given alive flag and input sequence; a live slot's observation is obs (an
    upsert with that id; ignored for a dead slot), or NULL when the record is not at hand
    yet: its features are then given by cluster_restore_features() before the rebuild. Slots
    must be restored in their original order, dead ones included, so that they keep their
    numbers. Counters are left alone, and nothing counts as changed. Returns 0, or -EINVAL
    when name is already a slot, a live slot's obs does not match it, or a dead one has one
    (a corrupt snapshot). */
int cluster_restore_slot(cluster_t *self, const char *name, bool alive, uint64_t seq,
                         const obs_t *obs);
/*  Recovery only: the features of live slot `slot`, restored without its observation, from
    obs (an upsert with the slot's id). Returns 0, or -EINVAL when the slot is not live or obs
    does not match it. */
int cluster_restore_features(cluster_t *self, size_t slot, const obs_t *obs);
/*  Recovery only: sets the formed_seq of id (which life_restore_id() has restored in that
    layer's lifecycle). Returns 0 or -EINVAL when id is not a restored id. */
int cluster_restore_formed_seq(cluster_t *self, cluster_layer_t layer, size_t id, uint64_t seq);
/*  Recovery only: sets the counters. */
void cluster_restore_counters(cluster_t *self, const cluster_counters_t *counters);
/*  Recovery only, after everything above: recomputes the derived state by reconciling
    with the identity partition the snapshot was taken at (arguments as
    cluster_reconcile_with()). Restored state is a fixed point of reconciliation, so this
    reports no event and leaves the counters and the changes as they were. Returns 0,
    -EINVAL when n does not match, or CADRE_EMISMATCH when the reconciliation changed ids (the
    snapshot does not belong to this partition or configuration; the engine is then
    unusable). */
int cluster_rebuild(cluster_t *self, const uint32_t *comp, size_t n, const u64map_t *generic,
                    const part_stats_t *id_stats);

#endif
