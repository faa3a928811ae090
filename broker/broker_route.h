/*  broker_route.h - which shard owns which blocking key, and what each shard is told about an
    input (docs/protocol.md §5).

    The owner of a key is jump_consistent_hash(XXH3-64(value, seed = family), shards), so the
    shard count can change with little movement. For every input the broker sends one KEYS
    entry to each shard that owns one of the observation's current keys or held one of its
    previous keys (the previous owner set is kept per observation id, so retractions reach
    the right shards).
*/
#ifndef CADRE_BROKER_ROUTE_H
#define CADRE_BROKER_ROUTE_H

#include "obs.h"
#include "wire_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_MAX_SHARDS 256 /* shard ids fit one byte */

/*  A set of shard ids (a 256-bit mask), stored per observation id. */
typedef struct {
    uint64_t bits[ROUTE_MAX_SHARDS / 64]; /* bit k set: shard k */
} route_mask_t;

/*  The identity-layer keys of one observation, each with its owner shard. */
typedef struct {
    wmsg_key_t *keys; /* distinct keys (values borrowed from the observation) */
    uint32_t *owner;  /* owner shard per key */
    size_t n;         /* number of keys */
} route_keys_t;

/*  Jump consistent hash (Lamping and Veach, 2014) of key into [0, buckets). */
uint32_t route_jump(uint64_t key, uint32_t buckets);
/*  The owner shard of a key. */
uint32_t route_owner(int family, const char *value, uint32_t shards);
/*  Extracts an observation's keys (ja3, ja4, hassh, non-empty payloads and C2s, deduplicated)
    with their owners. A delete has none. Values are borrowed from obs; release with
    route_keys_clear. */
void route_keys(const obs_t *obs, uint32_t shards, route_keys_t *out);
void route_keys_clear(route_keys_t *keys);
/*  The set of shards owning keys. */
void route_mask_of(const route_keys_t *keys, route_mask_t *out);
/*  True iff shard is in mask. */
bool route_mask_has(const route_mask_t *mask, uint32_t shard);
/*  What routing needs of one input: its id, its keys with their owners and its fingerprint
    triple. The broker makes it when it journals the input and keeps it until the input is
    streamed, so a record is decoded once. Every string and array lives in one allocation
    (mem), so a kept input costs one block of a few hundred bytes. */
typedef struct {
    const char *id;        /* observation id */
    bool is_delete;        /* the input was a delete */
    route_keys_t keys;     /* its keys (route_keys), values and arrays inside mem */
    const char *triple[3]; /* ja3, hassh, ja4, or NULL when absent */
    char *mem;             /* the allocation */
} route_info_t;
/*  Makes the routing information of obs (copied: obs may go). */
void route_info_make(const obs_t *obs, uint32_t shards, route_info_t *out);
/*  Frees it and zeroes it. */
void route_info_clear(route_info_t *info);
/*  Fills entry (for shard) with the keys that shard owns and the observation's triple;
    strings are copied (release with wmsg_keys_free on the containing body). */
void route_entry(const route_info_t *info, uint64_t seq, uint32_t shard, wmsg_keys_entry_t *entry);

#endif
