/*  ident.h - identity-layer features of one observation and the similarity tiers between two
    (SPEC §3, R§2.2, R§3).

    Strings are interned in a strtab_t shared by the whole clustering run, so features are
    small arrays of sorted, unique uint32 ids and comparisons are merges of integer arrays.
    ident_feat_t is a plain value that owns its arrays (ident_feat_clear frees them).
*/
#ifndef CADRE_IDENT_H
#define CADRE_IDENT_H

#include "ccfg.h"
#include "obs.h"
#include "strtab.h"

#include <stdbool.h>
#include <stdint.h>

#define IDENT_NONE UINT32_MAX /* an absent (null) string slot */

/*  What the identity layer knows about one observation. */
typedef struct {
    uint32_t ja3;        /* interned JA3, or IDENT_NONE */
    uint32_t ja4;        /* interned JA4, or IDENT_NONE */
    uint32_t hassh;      /* interned HASSH, or IDENT_NONE */
    bool has_asn;        /* asn present */
    int64_t asn;         /* ASN when has_asn */
    uint32_t *payloads;  /* sorted unique interned non-empty payload hashes */
    uint32_t n_payloads; /* number of payloads */
    uint32_t *c2s;       /* sorted unique interned non-empty C2 endpoints */
    uint32_t n_c2s;      /* number of C2s */
    uint32_t *creds;     /* sorted unique interned "user\0pass" pairs */
    uint32_t n_creds;    /* number of credential pairs */
    uint64_t *cmds;      /* sorted unique (phase << 32 | interned command) */
    uint32_t n_cmds;     /* number of (phase, command) entries */
    uint64_t *fps;       /* sorted further fingerprints, CCFG_KEY(family, interned value),
                            of the kinds the engine uses (ccfg_fp_family), non-empty only */
    uint32_t n_fps;      /* number of them */
} ident_feat_t;

/*  The four tiers and the combined weight of one pair. */
typedef struct {
    double h;      /* high: fingerprint agreement, or payload/C2 overlap without a veto */
    double m;      /* medium: best per-phase command Jaccard */
    double l;      /* low: credential Jaccard */
    double v;      /* very low: ASN equality */
    double weight; /* w_high*h + w_medium*m + w_low*l + w_asn*v, left to right */
} ident_tiers_t;

/*  Builds the features of obs, interning its strings into strings. */
void ident_feat_build(ident_feat_t *feat, const obs_t *obs, strtab_t *strings);
/*  Frees what feat owns and zeroes it. */
void ident_feat_clear(ident_feat_t *feat);
/*  Computes the tiers and weight of (a, b) under cfg. Symmetric. */
void ident_tiers(const ident_feat_t *a, const ident_feat_t *b, const ccfg_t *cfg,
                 ident_tiers_t *out);
/*  True iff (a, b) is an identity edge: weight >= id_threshold. */
bool ident_edge(const ident_feat_t *a, const ident_feat_t *b, const ccfg_t *cfg);
/*  True iff no fingerprint slot is comparable between a and b, or one comparable slot
    agrees: the veto of tier H does not apply. */
bool ident_fingerprints_compatible(const ident_feat_t *a, const ident_feat_t *b);

/*  Jaccard index of two sorted unique uint32 arrays: |A∩B| / |A∪B|, 0 when both are empty. */
double ident_jaccard_u32(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb);
/*  True iff two sorted uint64 arrays share an element. */
bool ident_intersects_u64(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb);
/*  True iff two sorted uint32 arrays share an element. */
bool ident_intersects_u32(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb);
/*  Sorts ids and drops duplicates; returns the new count. */
uint32_t ident_sort_unique_u32(uint32_t *ids, uint32_t n);

#endif
