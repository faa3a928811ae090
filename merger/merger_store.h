/*  merger_store.h - the merger's durable snapshot (docs/storage.md "Merger snapshot").

    The merger's model (merger_state.h) lives in memory; this store keeps, in one LMDB
    environment, a consistent copy of it as of the last reconciled barrier:
      - the slot table: per slot its observation id, alive flag, input sequence and, while
        alive, the seq of its record in the broker's journal, which keeps the record bytes
        (the engine's features are rebuilt from them; format 1 stores kept the bytes here);
      - both lifecycles: per element its literal id and founded count, per id its uuid,
        formation order, formed_seq, merged_into pointer and live flag;
      - every block's latest spanning forest (family, value, holders, generic flag, edges
        as pairs of slots);
      - the engine's counters (cluster_counters_t), the format version, the deployment and
        the seq of the reconciled barrier.
    A snapshot is written incrementally: merger_store_begin() opens one write transaction,
    the caller puts only the entries that changed since the previous snapshot, and
    merger_store_commit() records the counters and the barrier seq and makes the whole
    snapshot durable at once. After a crash the store is exactly its last commit.

    Ownership: the store owns its LMDB environment (this is the only merger file that
    includes lmdb.h). One thread uses a store at a time, and a snapshot begins and commits on
    the same thread (the environment is opened with MDB_NOTLS). Open a directory at most
    once per process and never use a store across fork(); a child opens its own.

    Errors are reported as in docs/storage.md: CADRE_EFULL (the map is full), CADRE_ELIMIT
    (one transaction too big), CADRE_EFORMAT (not a merger store, another format version, or
    an entry that does not decode), CADRE_ESTORE (any other LMDB failure, logged), -errno (a
    system call failed); "a store error" below means any of these.
*/
#ifndef CADRE_MERGER_STORE_H
#define CADRE_MERGER_STORE_H

#include "cluster.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct merger_store_t merger_store_t;

/*  One slot of the engine. */
typedef struct {
    uint32_t slot;    /* slot number (first-seen order) */
    const char *name; /* observation id, NUL-terminated */
    bool alive;       /* holds a live observation */
    uint64_t seq;     /* the engine's input sequence of the slot (cluster_slot_seq) */
    uint64_t jseq;    /* alive: the journal seq of its record (0: rec holds the bytes) */
    const char *rec;  /* alive, format-1 entry: the record's bytes; NULL otherwise */
    size_t rec_len;   /* bytes at rec */
} merger_store_slot_t;

/*  One id of a lifecycle. */
typedef struct {
    cluster_layer_t layer; /* identity or campaign */
    uint32_t id;           /* id index (formation order) */
    const char *uuid;      /* 36 characters and a NUL */
    uint64_t formed;       /* formation order (life_formed) */
    uint64_t formed_seq;   /* cluster_formed_seq */
    uint32_t merged_into;  /* LIFE_NONE or the winner */
    bool live;             /* names a component */
} merger_store_id_t;

/*  One element of a lifecycle. */
typedef struct {
    cluster_layer_t layer; /* identity (elements = slots) or campaign (= identity indexes) */
    uint32_t element;      /* element index */
    uint32_t literal;      /* literal id or LIFE_NONE */
    uint32_t founded;      /* ids it founded */
} merger_store_elem_t;

/*  One block's latest forest. */
typedef struct {
    uint32_t block;        /* block number (the merger's first-seen order) */
    int family;            /* key_family_t */
    const char *value;     /* the key's value, NUL-terminated */
    uint64_t holders;      /* members of the block */
    bool generic;          /* the key is generic */
    const uint32_t *edges; /* 2 * n_edges slots */
    size_t n_edges;        /* number of edges */
} merger_store_forest_t;

/*  Called once per stored entry by merger_store_load(), in the order slots, identity ids,
    campaign ids, elements (identity then campaign), forests, each in number order. The
    entry's strings and arrays are copies owned by the store, valid until the callback
    returns. A non-zero return stops the load and is returned by it. */
typedef struct {
    int (*slot)(const merger_store_slot_t *slot, void *arg);
    int (*id)(const merger_store_id_t *id, void *arg);
    int (*elem)(const merger_store_elem_t *elem, void *arg);
    int (*forest)(const merger_store_forest_t *forest, void *arg);
} merger_store_visit_t;

/*  What snapshots cost. */
typedef struct {
    uint64_t snapshots; /* snapshots committed since the store was opened */
    uint64_t entries;   /* entries the last committed snapshot wrote (meta entries included) */
    uint64_t bytes;     /* key and value bytes it wrote */
    uint64_t stored;    /* entries in the store after it */
} merger_store_stats_t;

/*  Called after every entry a snapshot writes, with the number written so far in it. For
    fault-injection tests (a child process _exits in the middle of a snapshot). */
typedef void (*merger_store_hook_fn)(uint64_t written, void *arg);

/*  Opens (creating it and the directory if needed) the store in dir with a memory map of
    map_bytes (0 = 1 GiB). A new store records deployment; an existing one must have been
    created for the same deployment and format version. Returns the store, or NULL after
    logging the reason. */
merger_store_t *merger_store_open(const char *dir, size_t map_bytes, const char *deployment);
/*  Aborts an open snapshot, closes the environment, frees the store and NULLs *self_p. A
    NULL *self_p is a no-op. */
void merger_store_destroy(merger_store_t **self_p);

/*  The barrier seq of the last committed snapshot, 0 when there is none. */
uint64_t merger_store_reconciled(const merger_store_t *self);
/*  Reads the last committed snapshot: its counters into *counters (zero when there is no
    snapshot), then every entry through v (any callback may be NULL). Returns 0, the first
    non-zero callback return, or a store error. */
int merger_store_load(merger_store_t *self, cluster_counters_t *counters,
                      const merger_store_visit_t *v, void *arg);

/*  Opens the snapshot's write transaction (a programmer error with one open). Returns 0 or a
    store error. */
int merger_store_begin(merger_store_t *self);
/*  Write an entry into the open snapshot, replacing the entry with the same number. The
    arguments are copied. Once a write has failed the snapshot is failed: it is aborted,
    and every later write and the commit return the same error without effect. Returns 0,
    -EINVAL for a value that cannot be stored (an empty name, a uuid not 36 characters long)
    or a store error. */
int merger_store_put_slot(merger_store_t *self, const merger_store_slot_t *slot);
int merger_store_put_id(merger_store_t *self, const merger_store_id_t *id);
int merger_store_put_elem(merger_store_t *self, const merger_store_elem_t *elem);
int merger_store_put_forest(merger_store_t *self, const merger_store_forest_t *forest);
/*  Records the counters and reconciled (the barrier seq) and commits the snapshot durably.
    Returns 0 or a store error (the failed write's, if one failed); on failure nothing of the
    snapshot is stored and the store is as of the previous commit. */
int merger_store_commit(merger_store_t *self, uint64_t reconciled,
                        const cluster_counters_t *counters);
/*  Drops the open snapshot, if any. */
void merger_store_abort(merger_store_t *self);

/*  Cost counters (a copy). */
merger_store_stats_t merger_store_stats(const merger_store_t *self);
/*  Installs (or with NULL removes) the write hook. */
void merger_store_set_hook(merger_store_t *self, merger_store_hook_fn fn, void *arg);

#endif
