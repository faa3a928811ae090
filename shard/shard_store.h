/*  shard_store.h - one shard's durable key index (protocol §5, §6).

    A shard owns a slice of the identity-layer blocking keys. For every observation id the
    broker routes to it, the store keeps the (family, value) keys this shard owns for that id
    and the id's fingerprint triple [ja3, hassh, ja4] (each a string or absent). From these it
    derives, in the same transaction:
      - key -> member ids (a block), and the holder count of every key;
      - fingerprint value -> ids whose triple holds it, so that a fingerprint value turning
        generic finds the blocks whose masked triples change;
      - the dirty set: blocks whose members, member triples or generic status changed since
        the last barrier;
      - the generic set: (family, value) pairs that are generic system-wide, as pushed by the
        broker in COMMIT;
      - the highest applied input seq and the last completed barrier seq.
    Everything is persistent: a crash between an apply and the next barrier loses neither
    the dirtiness nor the applied seq, and the state after a restart is exactly the state
    of the last commit.

    Ownership: the store owns an LMDB environment in its directory (this module is the only
    shard file that touches LMDB). It is not thread-safe: one thread uses it at a time, but
    that thread may change between calls (the environment is opened with MDB_NOTLS), except
    that a batch begins and ends on the same thread (LMDB's writer lock is a mutex). Open a
    directory at most once per process, and never use a store across fork(); the child opens
    its own.

    Transactions: shard_store_begin() opens one write transaction for a batch; apply,
    set_generic and barrier_done then join it, and shard_store_commit() makes the batch
    durable. Called without an open batch, each of them runs in a transaction of its own
    and commits before returning. Whenever a write fails inside LMDB the whole open batch is
    aborted: the store is as of the last commit and the caller must begin again. Argument
    errors (-EINVAL) change nothing and leave the batch open.

    LMDB failures are reported as in docs/storage.md: CADRE_EFULL (the map is full),
    CADRE_ELIMIT (one transaction too big), CADRE_EFORMAT (not a shard store),
    CADRE_ESTORE (any other LMDB failure, logged), -errno (a system call failed). Below,
    "a store error" means any of these.

    Strings are NUL-terminated UTF-8 (observation values never contain NUL). Families are
    key_family_t values (core/ccfg.h); the five families below CCFG_GENERIC_FAMILIES (ja3,
    ja4, hassh, payload, c2) can turn generic.
*/
#ifndef CADRE_SHARD_STORE_H
#define CADRE_SHARD_STORE_H

#include "ccfg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  The longest observation id the store accepts, in bytes: LMDB's key limit (SPEC §2 caps
    ids at 256). */
#define SHARD_STORE_MAX_ID 511

typedef struct shard_store_t shard_store_t;

/*  One blocking key: a family (key_family_t) and a value. */
typedef struct {
    int family;        /* key_family_t */
    const char *value; /* NUL-terminated; borrowed for the duration of the call */
} shard_key_t;

/*  Opens (creating it and the directory if needed) the store in dir with a memory map of
    map_bytes (0 = 1 GiB; the map bounds the store's size). Returns the store, or NULL after
    logging the reason (unreadable directory, foreign or corrupt environment, ...). */
shard_store_t *shard_store_open(const char *dir, size_t map_bytes);
/*  Aborts an open batch, closes the environment, frees the store and NULLs *self_p. A NULL
 *self_p is a no-op. */
void shard_store_destroy(shard_store_t **self_p);

/*  Opens the batch write transaction. Calling it with a batch open is a programmer error.
    Returns 0 or a store error. */
int shard_store_begin(shard_store_t *self);
/*  Commits the open batch (programmer error without one) and makes it durable. Returns 0
    or a store error; on failure the batch is lost and the store is as of the previous
    commit. */
int shard_store_commit(shard_store_t *self);
/*  Drops the open batch, if any: the store returns to the last commit. */
void shard_store_abort(shard_store_t *self);

/*  Replaces everything held for obs_id with keys (n_keys entries; duplicates count once)
    and triple ([ja3, hassh, ja4], each NULL when absent; a NULL triple is all absent) as of
    input seq. n_keys == 0 removes the id. Marks dirty every block the id left or joined
    and, when its triple changed, every payload and c2 block it is in afterwards. Sets the
    applied seq to seq.
    Skips the entry (returns 0, changes nothing) when seq <= shard_store_applied(): replays
    are harmless.
    Returns 0; -EINVAL (empty id or longer than SHARD_STORE_MAX_ID, family out of range,
    NULL value: nothing changed); or a store error (the batch was aborted). */
int shard_store_apply(shard_store_t *self, uint64_t seq, const char *obs_id,
                      const shard_key_t *keys, size_t n_keys, const char *const triple[3]);
/*  The highest applied seq as seen by the open batch (or as of the last commit when no
    batch is open); 0 for a new store. */
uint64_t shard_store_applied(const shard_store_t *self);

/*  Generic detection for this shard's keys (protocol §6.2). For every block dirtied since
    the last barrier whose family can turn generic, the key's status by holder count
    (generic iff cutoff[family] != 0 and holders > cutoff[family]) is compared with its
    status in the generic set; each key where they differ is reported once through
    fn(family, value, now_generic, arg) (value borrowed until fn returns). A key whose count
    crossed the cutoff and came back before the barrier is not reported. The call changes
    nothing, so it reports the same flips until COMMIT (shard_store_set_generic) records
    them. fn must not modify the store.
    Returns 0, the first non-zero value fn returned (iteration stops), or a store error. */
int shard_store_generic_flips(shard_store_t *self, const uint64_t cutoff[CCFG_GENERIC_FAMILIES],
                              int (*fn)(int family, const char *value, bool generic, void *arg),
                              void *arg);
/*  Applies one flip of the broker's COMMIT (protocol §6.3): records (family, value) as
    generic or not in the generic set. When the status changes it marks dirty the block of
    that key if this shard holds it and, for a fingerprint family (ja3, hassh, ja4), every
    payload and c2 block containing a member whose triple holds the value. Setting the
    status it already has changes nothing.
    Returns 0; -EINVAL (family not in the five generic families, NULL value: nothing
    changed); or a store error (the batch was aborted). */
int shard_store_set_generic(shard_store_t *self, int family, const char *value, bool generic);
/*  True when (family, value) is in the generic set. The set holds every flip the broker
    committed, this shard's own keys included (COMMIT carries the union of all shards'
    flips), so after COMMIT it is the system-wide status the merger also uses. False on a
    store error. */
bool shard_store_is_generic(shard_store_t *self, int family, const char *value);
/*  Number of ids holding (family, value) on this shard; 0 when none or on a store error. */
uint64_t shard_store_holders(shard_store_t *self, int family, const char *value);

/*  Calls fn once per dirty block, in key order, with the block's current members (n ids in
    byte order; n == 0 for a dissolved block) and their triples as masked by the generic set:
    a fingerprint value in the generic set appears as NULL (absent), as protocol §6.3
    prescribes. The block's own generic status is shard_store_is_generic(family, value).
    value, members and triples are borrowed until fn returns. fn may call the store's
    read-only functions but must not modify the store.
    Returns 0, the first non-zero value fn returned (iteration stops), or a store error. */
int shard_store_each_dirty(shard_store_t *self,
                           int (*fn)(int family, const char *value, const char *const *members,
                                     const char *const (*triples)[3], size_t n, void *arg),
                           void *arg);
/*  Number of dirty blocks; 0 on a store error. */
size_t shard_store_dirty_count(shard_store_t *self);

/*  Finishes the barrier at seq: empties the dirty set and records seq as the last barrier.
    A seq at or below the last barrier is a replay and changes nothing. Returns 0 or a store
    error (the batch was aborted). */
int shard_store_barrier_done(shard_store_t *self, uint64_t seq);
/*  The last completed barrier seq as seen by the open batch (or the last commit); 0 for a
    new store. */
uint64_t shard_store_last_barrier(const shard_store_t *self);

#endif
