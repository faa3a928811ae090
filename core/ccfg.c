/*  ccfg.c - clustering configuration defaults and the lossless-blocking proof. */
#include "ccfg.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*  Default generic cutoffs (ja3, ja4, hassh, payload, c2): 0 keeps a family exact until the
    real-data measurements of docs/realdata.md choose values. */
static const uint64_t s_default_cutoff[CCFG_GENERIC_FAMILIES] = {0, 0, 0, 0, 0};

void
ccfg_reference(ccfg_t *cfg)
{
    *cfg = (ccfg_t){
        .w_high = 1.0,
        .w_medium = 0.6,
        .w_low = 0.2,
        .w_asn = 0.05,
        .id_threshold = 1.0,
        .w_handoff = 1.0,
        .w_infra = 1.0,
        .w_temporal = 0.4,
        .w_cohort = 0.1,
        .w_keystroke = 0.6,
        .camp_threshold = 1.0,
        .handoff_window = 86400.0,
        .reconcile_every = 0,
    };
}

void
ccfg_defaults(ccfg_t *cfg)
{
    ccfg_reference(cfg);
    memcpy(cfg->generic_cutoff, s_default_cutoff, sizeof s_default_cutoff);
}

int
ccfg_kd_max_distance(const ccfg_t *cfg)
{
    /* Without P and I, the best weight at distance d is T + C + K(d), K(d) = 1 - d/8. */
    for (int d = 7; d >= 0; d--) {
        double k = 1.0 - (double)d / 8.0;
        double w = 0.0 + 0.0 + cfg->w_temporal * 1.0 + cfg->w_cohort * 1.0 + cfg->w_keystroke * k;
        if (cfg->w_keystroke > 0.0 && w >= cfg->camp_threshold) {
            return d;
        }
    }
    return -1;
}

static bool
s_weight_ok(double w)
{
    return isfinite(w) && w >= 0.0;
}

int
ccfg_check(const ccfg_t *cfg, char *err, size_t errlen)
{
    const double weights[] = {cfg->w_high,     cfg->w_medium,  cfg->w_low,
                              cfg->w_asn,      cfg->w_handoff, cfg->w_infra,
                              cfg->w_temporal, cfg->w_cohort,  cfg->w_keystroke};
    for (size_t i = 0; i < sizeof weights / sizeof weights[0]; i++) {
        if (!s_weight_ok(weights[i])) {
            snprintf(err, errlen, "weights must be finite and non-negative");
            return CADRE_ECONFIG;
        }
    }
    if (!(cfg->id_threshold > 0.0) || !(cfg->camp_threshold > 0.0) ||
        !isfinite(cfg->id_threshold) || !isfinite(cfg->camp_threshold)) {
        snprintf(err, errlen, "thresholds must be finite and positive");
        return CADRE_ECONFIG;
    }
    if (!isfinite(cfg->handoff_window) || cfg->handoff_window < 0.0) {
        snprintf(err, errlen, "handoff_window must be a finite number of seconds >= 0");
        return CADRE_ECONFIG;
    }
    /* Identity layer: M, L and V carry no key; at their maximum they must stay below the
       threshold, evaluated exactly as the weight is (R§13.2). */
    double unkeyed = cfg->w_high * 0.0 + cfg->w_medium * 1.0 + cfg->w_low * 1.0 + cfg->w_asn * 1.0;
    if (unkeyed >= cfg->id_threshold) {
        snprintf(err, errlen,
                 "identity blocking would be lossy: medium + low + asn = %.17g reaches "
                 "id_threshold %.17g, so commands, credentials and ASN alone could link two "
                 "observations that share no ja3/ja4/hassh/payload/c2 key",
                 unkeyed, cfg->id_threshold);
        return CADRE_ECONFIG;
    }
    /* A key group is unioned whole, so a key match alone must be an edge. */
    if (cfg->w_high * 1.0 < cfg->id_threshold) {
        snprintf(err, errlen,
                 "high = %.17g is below id_threshold %.17g: a fingerprint, payload or C2 "
                 "match alone must be an identity edge for key groups to be unioned whole",
                 cfg->w_high, cfg->id_threshold);
        return CADRE_ECONFIG;
    }
    /* Campaign layer: T and C carry no key; K is keyed by SimHash bands. */
    double camp_unkeyed = 0.0 + 0.0 + cfg->w_temporal * 1.0 + cfg->w_cohort * 1.0 + 0.0;
    if (camp_unkeyed >= cfg->camp_threshold) {
        snprintf(err, errlen,
                 "campaign blocking would be lossy: temporal + cohort = %.17g reaches "
                 "camp_threshold %.17g, so overlapping time windows or shared ASN/deckies "
                 "alone could link two identities that share no payload/c2/decky/keystroke key",
                 camp_unkeyed, cfg->camp_threshold);
        return CADRE_ECONFIG;
    }
    return 0;
}

const char *
ccfg_family_name(key_family_t family)
{
    static const char *const names[KEY_FAMILY_COUNT] = {"ja3", "ja4",   "hassh", "payload",
                                                        "c2",  "decky", "kdband"};
    return family >= 0 && family < KEY_FAMILY_COUNT ? names[family] : NULL;
}
