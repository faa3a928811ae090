/*  part.h - the two partitions, computed through blocking keys, never all pairs
    (SPEC §3-§4, R§13.2-13.3, ARCHITECTURE "Lossless blocking").

    Identity layer: observations sharing a ja3, ja4 or hassh value form a clique; inside a
    payload or C2 block only the fingerprint veto matters, so members are bucketed by their
    fingerprint triple and buckets are joined by their null pattern, in linear time. Key
    values held by more observations than their family's generic cutoff produce no edges and
    count as absent (null) everywhere.

    Campaign layer: candidates share an infrastructure value, a decky handoff (found by a
    per-decky time sweep), or a keystroke SimHash band; each candidate pair is decided by its
    full weight, skipping pairs already connected.
*/
#ifndef CADRE_PART_H
#define CADRE_PART_H

#include "camp.h"
#include "ccfg.h"
#include "ident.h"
#include "u64map.h"
#include "uf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  What one partition run saw; a plain value. */
typedef struct {
    uint64_t blocks;          /* key groups with at least two members */
    uint64_t largest_block;   /* members of the largest non-generic key group */
    uint64_t generic_keys;    /* key values over their family's cutoff */
    uint64_t pairs_evaluated; /* full-weight evaluations (campaign layer) */
} part_stats_t;

/*  One member of a payload or C2 block: its fingerprint triple (ja3, hassh, ja4 as interned
    ids, IDENT_NONE when absent or generic) and its id. */
typedef struct {
    uint32_t slot[3]; /* ja3, hassh, ja4 */
    uint32_t member;  /* observation index */
} part_trip_t;

/*  Receives one edge of a block's spanning forest. */
typedef void (*part_edge_fn)(uint32_t a, uint32_t b, void *arg);

/*  A spanning forest of a JA3, JA4 or HASSH block (a clique): a star on members[0]. */
void part_forest_fingerprint(const uint32_t *members, size_t n, part_edge_fn fn, void *arg);
/*  A spanning forest of a payload or C2 block (R§13.2): members with the same triple are one
    bucket; buckets with no slot present on both sides are joined. Sorts t in place. The
    edges, unioned with every fingerprint block's, give exactly part_identity's partition. */
void part_forest_infra(part_trip_t *t, size_t n, part_edge_fn fn, void *arg);

/*  Unions every identity edge among the n observations into uf (n elements). feats[i] is
    read only where alive[i]. generic, when not NULL, receives every generic key with its
    holder count (caller-owned map). stats may be NULL. */
void part_identity(const ident_feat_t *feats, const bool *alive, size_t n, const ccfg_t *cfg,
                   uf_t *uf, u64map_t *generic, part_stats_t *stats);
/*  Unions every campaign edge among the m identities into uf (m elements). stats may be
    NULL. */
void part_campaign(const camp_feat_t *feats, size_t m, const ccfg_t *cfg, uf_t *uf,
                   part_stats_t *stats);

#endif
