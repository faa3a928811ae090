/*  camp.h - campaign-layer features of one identity and the edge tiers between two
    (SPEC §4, R§2.3, R§4), with cadre's fixes: symmetric temporal overlap, time-ordered
    first/last phase per decky, and features aggregated over every member observation.

    camp_obs_t is what one observation contributes; camp_feat_t aggregates the contributions
    of an identity's members. Both are plain values owning their arrays; camp_obs_t only
    borrows its observation's id (name).
*/
#ifndef CADRE_CAMP_H
#define CADRE_CAMP_H

#include "ccfg.h"
#include "obs.h"
#include "strtab.h"
#include "u64map.h"
#include "ukc.h"

#include <stdbool.h>
#include <stdint.h>

/*  One session as the campaign layer sees it. */
typedef struct {
    double start;      /* epoch seconds */
    double end;        /* start + duration */
    uint32_t decky;    /* interned decky, or IDENT_NONE */
    ukc_phase_t phase; /* UKC phase */
} camp_sess_t;

/*  One observation's contribution to its identity's features. */
typedef struct {
    const char *name;  /* observation id, borrowed (see camp_obs_build) */
    camp_sess_t *sess; /* sessions in input order */
    uint32_t n_sess;   /* number of sessions */
    uint32_t *infra;   /* sorted unique interned non-empty payloads and C2s (one set) */
    uint32_t n_infra;  /* number of infra values */
    bool has_asn;      /* asn present */
    int64_t asn;       /* ASN when has_asn */
    bool has_kd;       /* kd_simhash present */
    uint64_t kd;       /* keystroke SimHash when has_kd */
} camp_obs_t;

/*  First and last activity of an identity on one decky, in time order. */
typedef struct {
    uint32_t decky;          /* interned decky */
    ukc_phase_t first_phase; /* phase of the first session in camp_feat_build's time order */
    ukc_phase_t last_phase;  /* phase of the last session in that order */
    double first_seen;       /* start of the first session */
    double last_seen;        /* end of the last session (its start + duration) */
} camp_decky_t;

/*  The features of one identity. */
typedef struct {
    uint32_t *infra;       /* sorted unique payloads and C2s of all members */
    uint32_t n_infra;      /* number of infra values */
    int64_t *asns;         /* sorted unique ASNs of all members (the ASN cohort) */
    uint32_t n_asns;       /* number of ASNs */
    camp_decky_t *deckies; /* per decky, sorted by interned id */
    uint32_t n_deckies;    /* number of deckies */
    double *win;           /* merged session windows: win[2i] start, win[2i+1] end, sorted */
    uint32_t n_win;        /* number of merged windows */
    double win_total;      /* total length of the merged windows */
    bool has_kd;           /* some member had a keystroke SimHash */
    uint64_t kd;           /* bitwise-majority centroid of the members' hashes (ties 0) */
} camp_feat_t;

/*  The five tiers and the combined weight of one pair of identities. */
typedef struct {
    double p;      /* phase handoff on a shared decky within the window */
    double i;      /* Jaccard of payload+C2 sets */
    double t;      /* symmetric overlap of merged session windows */
    double c;      /* Jaccard of tagged ASN + decky cohorts */
    double k;      /* keystroke closeness 1 - d/8 for Hamming d < 8 */
    double weight; /* w_handoff*p + w_infra*i + w_temporal*t + w_cohort*c + w_keystroke*k */
} camp_tiers_t;

/*  Builds one observation's contribution, interning its strings into strings. name is the
    observation's id (NUL-terminated, unique among the observations that may be aggregated
    together); it orders same-time sessions in camp_feat_build. Borrowed, not copied: the
    caller keeps it valid and unchanged until co is cleared. */
void camp_obs_build(camp_obs_t *co, const obs_t *obs, const char *name, strtab_t *strings);
/*  Frees what co owns and zeroes it. */
void camp_obs_clear(camp_obs_t *co);
/*  Aggregates the contributions of an identity's n members, in any order: the result
    depends only on their content. Per decky, the member sessions are taken in (start,
    observation name in byte order (strcmp), session index within the observation) order, a
    total order that does not depend on arrival (SPEC §4: the partition must not depend on
    input order); first = the first session in it, last = the last one. generic, when not
    NULL, holds the generic payload and C2 keys (CCFG_KEY(KEY_PAYLOAD or KEY_C2, value));
    those values are left out of infra. */
void camp_feat_build(camp_feat_t *feat, const camp_obs_t *const *members, size_t n,
                     const u64map_t *generic);
/*  Frees what feat owns and zeroes it. */
void camp_feat_clear(camp_feat_t *feat);
/*  Computes the tiers and weight of (a, b). Symmetric. */
void camp_tiers(const camp_feat_t *a, const camp_feat_t *b, const ccfg_t *cfg, camp_tiers_t *out);
/*  True iff (a, b) is a campaign edge: weight >= camp_threshold. */
bool camp_edge(const camp_feat_t *a, const camp_feat_t *b, const ccfg_t *cfg);
/*  Bitwise majority of n hashes: bit i set iff more than half have it (ties give 0). */
uint64_t camp_centroid(const uint64_t *hashes, size_t n);

#endif
