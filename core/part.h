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
