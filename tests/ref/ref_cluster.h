/*  ref_cluster.h - the brute-force all-pairs reference clusterer (tests only).

    An independent implementation of cadre's two clustering layers, written from the
    specification texts alone (SPEC §3-§4, R§2.2, R§2.3, R§3, R§4, R§7) and from nothing in
    core/: every pair of observations is scored for the identity layer and every pair of
    identities for the campaign layer, with no blocking keys, so a property test can compare
    it with the production clusterer label for label and catch a bug in either.

    Clarity comes before speed: O(n^2) pair scoring over features precomputed once per
    observation or identity (about 2,000 observations take well under a second).

    Ownership: every function here only reads its inputs; obs_t records and the arrays of
    pointers to them stay the caller's. Output arrays are caller-allocated. The op field of an
    obs_t is not read: every record given is treated as a live upsert.

    Labels are canonical, so two implementations can be compared directly: a component's
    label is the smallest input index among its observations.
*/
#ifndef CADRE_REF_CLUSTER_H
#define CADRE_REF_CLUSTER_H

#include "obs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Weights and thresholds of both layers (a plain value); ref_weights_default() fills the
    SPEC defaults. Sums are evaluated left to right in the order of the fields. */
typedef struct {
    double high;           /* identity weight of tier H (1.0) */
    double medium;         /* identity weight of tier M (0.6) */
    double low;            /* identity weight of tier L (0.2) */
    double asn;            /* identity weight of tier V (0.05) */
    double id_threshold;   /* identity edge iff weight >= this (1.0) */
    double handoff;        /* campaign weight of tier P (1.0) */
    double infra;          /* campaign weight of tier I (1.0) */
    double temporal;       /* campaign weight of tier T (0.4) */
    double cohort;         /* campaign weight of tier C (0.1) */
    double keystroke;      /* campaign weight of tier K (0.6) */
    double camp_threshold; /* campaign edge iff weight >= this (1.0) */
    double handoff_window; /* longest out -> in handoff gap, seconds (86400) */
} ref_weights_t;

/*  The identity tiers of one pair of observations and their weighted sum. */
typedef struct {
    double h;      /* high: fingerprint / payload / C2 match with the veto, 0 or 1 */
    double m;      /* medium: best per-phase Jaccard of command sets */
    double l;      /* low: Jaccard of credential pair sets */
    double v;      /* very low: 1 iff both ASNs present and equal */
    double weight; /* high*h + medium*m + low*l + asn*v, left to right */
} ref_id_tiers_t;

/*  The campaign tiers of one pair of identities and their weighted sum. */
typedef struct {
    double p;      /* phase handoff on a shared decky, 0 or 1 */
    double i;      /* Jaccard of the untagged payload + C2 sets */
    double t;      /* symmetric temporal overlap of the merged session windows */
    double c;      /* Jaccard of the tagged ASN + decky cohort sets */
    double k;      /* keystroke centroid closeness, 1 - hamming/8, 0 from 8 bits on */
    double weight; /* handoff*p + infra*i + temporal*t + cohort*c + keystroke*k */
} ref_camp_tiers_t;

/*  A keystroke centroid: present only when at least one member carries a kd_simhash. */
typedef struct {
    bool present;   /* false when no member has a kd_simhash */
    uint64_t value; /* bitwise majority of the members' values (ties give 0) when present */
} ref_centroid_t;

/*  Fills *w with the SPEC defaults: 1.0, 0.6, 0.2, 0.05, threshold 1.0 (identity);
    1.0, 1.0, 0.4, 0.1, 0.6, threshold 1.0, window 86400 s (campaign). */
void ref_weights_default(ref_weights_t *w);

/*  Scores the identity tiers of observations a and b (R§3.1). cadre's third fingerprint
    slot, ja4, follows exactly the ja3 / hassh rules: an equal non-NULL value gives H = 1
    (checked after ja3 and hassh), and a comparable ja4 takes part in the veto. */
void ref_identity_tiers(const obs_t *a, const obs_t *b, const ref_weights_t *w,
                        ref_id_tiers_t *out);

/*  Partitions the n observations obs[0..n-1] into identities: an edge joins i < j iff their
    identity weight is >= w->id_threshold, and identities are the connected components.
    out_label[i] (n entries) receives the smallest index in i's component. n = 0 is fine. */
void ref_identity_partition(const obs_t *const *obs, size_t n, const ref_weights_t *w,
                            uint32_t *out_label);

/*  Bitwise majority of the kd_simhash of the n observations in members (R§7): bit i is set
    iff (members with bit i set) * 2 > (members with a kd_simhash). Members without one are
    skipped; with none the result is not present. */
ref_centroid_t ref_kd_centroid(const obs_t *const *members, size_t n);

/*  Scores the campaign tiers of two identities, each given as the list of its member
    observations (ids unique, any order: the lists' order does not change the result),
    features aggregated over all members (SPEC §4). Per decky, an identity's sessions are
    taken in (start, observation id in byte order, session index) order: first = the first
    session in it, last = the last one. The tiers are symmetric: swapping a and b gives the
    same result. */
void ref_campaign_tiers(const obs_t *const *a, size_t na, const obs_t *const *b, size_t nb,
                        const ref_weights_t *w, ref_camp_tiers_t *out);

/*  Both layers chained over obs[0..n-1]. out_identity[i] = ref_identity_partition's label.
    Each identity's members are its observations in increasing index; campaigns are the
    connected components of all identity pairs whose campaign weight is >= w->camp_threshold;
    out_campaign[i] = the smallest observation index in i's campaign. Both outputs hold n
    entries; n = 0 is fine. */
void ref_cluster(const obs_t *const *obs, size_t n, const ref_weights_t *w, uint32_t *out_identity,
                 uint32_t *out_campaign);

#endif
