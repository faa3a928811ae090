/*  ccfg.c - clustering configuration defaults and the lossless-blocking proof. */
#include "ccfg.h"

#include "err.h"
#include "xalloc.h"
#include "ydoc.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

/*  Default generic cutoffs (ja3, ja4, hassh, payload, c2), chosen from the measurements on
    the shared Cowrie datasets in docs/realdata.md: a HASSH held by more than 16 observations
    names an SSH library (the largest cutoff with no fused weak-label operation on either
    dataset is 19; 16 keeps radec73's 16-IP C4 group); JA3/JA4 are client-library
    fingerprints like HASSH and take its value (no TLS in the data to measure); payloads and
    C2s stay exact (0 = off): every shared value in both datasets, up to 132 holders, is
    label-pure. */
static const uint64_t s_default_cutoff[CCFG_GENERIC_FAMILIES] = {
    16, 16, 16, 0,  0,                                 /* ja3, ja4, hassh, payload, c2 */
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16 /* the further fingerprints */
};

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
                 "observations that share no ja3/ja4/hassh/payload/c2/fingerprint key",
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
    static const char *const names[KEY_FAMILY_COUNT] = {
        "ja3",          "ja4",          "hassh",           "payload",        "c2",
        "jarm",         "hassh_server", "tcp_syn",         "ssh_client",     "ja4h",
        "http_headers", "ja4_quic",     "http2_settings",  "http3_settings", "http_useragent",
        "vnc_client",   "tcpfp",        "tls_cert_sha256", "decky",          "kdband"};
    return family >= 0 && family < KEY_FAMILY_COUNT ? names[family] : NULL;
}

int
ccfg_fp_family(const char *kind)
{
    for (int f = KEY_JARM; f < CCFG_GENERIC_FAMILIES; f++) {
        if (strcmp(ccfg_family_name((key_family_t)f), kind) == 0) {
            return f;
        }
    }
    return -1;
}

/*  One configuration key: its dotted path, where it lives in ccfg_t, and its range. */
typedef struct {
    const char *path; /* e.g. "identity.weights.high" */
    bool integer;     /* uint64_t field (else double) */
    size_t offset;    /* offsetof(ccfg_t, field) */
    double min;       /* smallest accepted value */
    double max;       /* largest accepted value */
} s_key_t;

#define S_D(path, field, lo, hi)                                                                   \
    {                                                                                              \
        path, false, offsetof(ccfg_t, field), lo, hi                                               \
    }
#define S_U(path, field, hi)                                                                       \
    {                                                                                              \
        path, true, offsetof(ccfg_t, field), 0, hi                                                 \
    }

static const s_key_t s_keys[] = {
    S_D("identity.weights.high", w_high, 0, 1e6),
    S_D("identity.weights.medium", w_medium, 0, 1e6),
    S_D("identity.weights.low", w_low, 0, 1e6),
    S_D("identity.weights.asn", w_asn, 0, 1e6),
    S_D("identity.threshold", id_threshold, 1e-9, 1e6),
    S_D("campaign.weights.handoff", w_handoff, 0, 1e6),
    S_D("campaign.weights.infra", w_infra, 0, 1e6),
    S_D("campaign.weights.temporal", w_temporal, 0, 1e6),
    S_D("campaign.weights.cohort", w_cohort, 0, 1e6),
    S_D("campaign.weights.keystroke", w_keystroke, 0, 1e6),
    S_D("campaign.threshold", camp_threshold, 1e-9, 1e6),
    S_D("campaign.handoff_window", handoff_window, 0, 1e12),
    S_U("generic_cutoff.ja3", generic_cutoff[KEY_JA3], 1e15),
    S_U("generic_cutoff.ja4", generic_cutoff[KEY_JA4], 1e15),
    S_U("generic_cutoff.hassh", generic_cutoff[KEY_HASSH], 1e15),
    S_U("generic_cutoff.payload", generic_cutoff[KEY_PAYLOAD], 1e15),
    S_U("generic_cutoff.c2", generic_cutoff[KEY_C2], 1e15),
    S_U("generic_cutoff.jarm", generic_cutoff[KEY_JARM], 1e15),
    S_U("generic_cutoff.hassh_server", generic_cutoff[KEY_HASSH_SERVER], 1e15),
    S_U("generic_cutoff.tcp_syn", generic_cutoff[KEY_TCP_SYN], 1e15),
    S_U("generic_cutoff.ssh_client", generic_cutoff[KEY_SSH_CLIENT], 1e15),
    S_U("generic_cutoff.ja4h", generic_cutoff[KEY_JA4H], 1e15),
    S_U("generic_cutoff.http_headers", generic_cutoff[KEY_HTTP_HEADERS], 1e15),
    S_U("generic_cutoff.ja4_quic", generic_cutoff[KEY_JA4_QUIC], 1e15),
    S_U("generic_cutoff.http2_settings", generic_cutoff[KEY_HTTP2], 1e15),
    S_U("generic_cutoff.http3_settings", generic_cutoff[KEY_HTTP3], 1e15),
    S_U("generic_cutoff.http_useragent", generic_cutoff[KEY_USERAGENT], 1e15),
    S_U("generic_cutoff.vnc_client", generic_cutoff[KEY_VNC_CLIENT], 1e15),
    S_U("generic_cutoff.tcpfp", generic_cutoff[KEY_TCPFP], 1e15),
    S_U("generic_cutoff.tls_cert_sha256", generic_cutoff[KEY_TLS_CERT], 1e15),
    S_U("reconcile_every", reconcile_every, 1e15),
};

/*  Describes a node for a type error: "null", "a mapping", "a string ('abc')", "an
    integer (12)"... */
static void
s_describe(const ydoc_node_t *node, char *buf, size_t len)
{
    ydoc_type_t t = ydoc_type(node);
    if (t == YDOC_NULL) {
        snprintf(buf, len, "null");
        return;
    }
    if (!ydoc_is_scalar(node)) {
        snprintf(buf, len, "a %s", ydoc_type_name(t));
        return;
    }
    size_t n = 0;
    const char *text = ydoc_text(node, &n);
    const char *more = n > 40 ? "..." : "";
    if (t == YDOC_STR) {
        snprintf(buf, len, "a string ('%.40s%s')", text, more);
    } else {
        snprintf(buf, len, "%s %s (%.40s%s)", t == YDOC_INT ? "an" : "a", ydoc_type_name(t), text,
                 more);
    }
}

int
ccfg_set(ccfg_t *cfg, const char *path, const ydoc_node_t *value, char *err, size_t errlen)
{
    const s_key_t *key = NULL;
    for (size_t j = 0; j < sizeof s_keys / sizeof s_keys[0] && !key; j++) {
        if (strcmp(s_keys[j].path, path) == 0) {
            key = &s_keys[j];
        }
    }
    if (!key) {
        snprintf(err, errlen, "unknown configuration key");
        return -ENOENT;
    }
    char desc[96];
    s_describe(value, desc, sizeof desc);
    char *field = (char *)cfg + key->offset;
    if (key->integer) {
        uint64_t u = 0;
        if (ydoc_uint(value, &u) != 0 || (double)u > key->max) {
            snprintf(err, errlen, "expected an integer from 0 to %.0f, not %s", key->max, desc);
            return CADRE_ECONFIG;
        }
        memcpy(field, &u, sizeof u);
    } else {
        double d = 0.0;
        if (ydoc_float(value, &d) != 0 || !isfinite(d) || d < key->min || d > key->max) {
            snprintf(err, errlen, "expected a finite number from %g to %g, not %s", key->min,
                     key->max, desc);
            return CADRE_ECONFIG;
        }
        memcpy(field, &d, sizeof d);
    }
    return 0;
}

/*  Walks a mapping, setting every leaf through ccfg_set(). */
static int
s_walk(ccfg_t *cfg, const ydoc_node_t *node, const char *prefix, const char *name, char *err,
       size_t errlen)
{
    for (size_t i = 0; i < ydoc_len(node); i++) {
        const ydoc_node_t *k = ydoc_map_key(node, i);
        const ydoc_node_t *v = ydoc_map_value(node, i);
        char path[256];
        int n =
            snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", ydoc_text(k, NULL));
        char why[256];
        int rc = 0;
        if (n < 0 || (size_t)n >= sizeof path) {
            snprintf(why, sizeof why, "unknown configuration key");
            rc = -ENOENT;
        } else if (ydoc_type(v) == YDOC_MAP) {
            rc = s_walk(cfg, v, path, name, err, errlen);
            if (rc != 0) {
                return rc;
            }
            continue;
        } else {
            rc = ccfg_set(cfg, path, v, why, sizeof why);
        }
        if (rc != 0) {
            ydoc_mark_t m = ydoc_mark(rc == -ENOENT ? k : v);
            snprintf(err, errlen, "%s:%d:%d: %s: %s", name, m.line, m.column, path, why);
            return CADRE_ECONFIG;
        }
    }
    return 0;
}

/*  Writes d so that it reads back as exactly d and as a YAML 1.1 float: whole numbers with
    one decimal, others in the shortest %g form that round-trips, with a '.' added where %g
    leaves none ("1.0e-09"). */
static void
s_print_double(FILE *out, double d)
{
    if (d == floor(d) && fabs(d) < 1e15) {
        fprintf(out, "%.1f", d); /* whole numbers as written: 86400.0, not 8.64e+04 */
        return;
    }
    char buf[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    if (strchr(buf, '.')) {
        fputs(buf, out);
        return;
    }
    char *e = strchr(buf, 'e');
    if (e) {
        fprintf(out, "%.*s.0%s", (int)(e - buf), buf, e);
    } else {
        fprintf(out, "%s.0", buf);
    }
}

/*  Number of leading sections (dotted segments before the last) that paths a and b share. */
static int
s_shared_sections(const char *a, const char *b)
{
    int shared = 0;
    for (;;) {
        const char *da = strchr(a, '.');
        const char *db = strchr(b, '.');
        if (!da || !db || da - a != db - b || memcmp(a, b, (size_t)(da - a)) != 0) {
            return shared;
        }
        shared++;
        a = da + 1;
        b = db + 1;
    }
}

void
ccfg_print(const ccfg_t *cfg, FILE *out, int indent)
{
    const char *prev = "";
    for (size_t i = 0; i < sizeof s_keys / sizeof s_keys[0]; i++) {
        const s_key_t *key = &s_keys[i];
        /* The table lists keys of one section together, so each section header is
           printed once, when its first key comes. */
        int shared = s_shared_sections(prev, key->path);
        const char *p = key->path;
        int depth = 0;
        for (const char *dot = strchr(p, '.'); dot; p = dot + 1, dot = strchr(p, '.'), depth++) {
            if (depth >= shared) {
                fprintf(out, "%*s%.*s:\n", indent + 2 * depth, "", (int)(dot - p), p);
            }
        }
        fprintf(out, "%*s%s: ", indent + 2 * depth, "", p);
        const char *field = (const char *)cfg + key->offset;
        if (key->integer) {
            uint64_t u;
            memcpy(&u, field, sizeof u);
            fprintf(out, "%llu\n", (unsigned long long)u);
        } else {
            double d;
            memcpy(&d, field, sizeof d);
            s_print_double(out, d);
            fputc('\n', out);
        }
        prev = key->path;
    }
}

/*  True when the text holds only blank lines and comments: an empty configuration. */
static bool
s_blank(const char *buf, size_t len)
{
    bool comment = false;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            comment = false;
        } else if (ch == '#') {
            comment = true;
        } else if (!comment && ch != ' ' && ch != '\t' && ch != '\r') {
            return false;
        }
    }
    return true;
}

int
ccfg_load_buffer(ccfg_t *cfg, const char *buf, size_t len, const char *name, char *err,
                 size_t errlen)
{
    if (s_blank(buf, len)) {
        return ccfg_check(cfg, err, errlen);
    }
    ydoc_t *doc = ydoc_parse(buf, len, name, err, errlen);
    if (!doc) {
        return CADRE_ECONFIG;
    }
    const ydoc_node_t *root = ydoc_root(doc);
    int rc = 0;
    if (ydoc_type(root) == YDOC_MAP) {
        rc = s_walk(cfg, root, "", name, err, errlen);
    } else if (ydoc_type(root) != YDOC_NULL) {
        ydoc_mark_t m = ydoc_mark(root);
        snprintf(err, errlen, "%s:%d:%d: a configuration must be a mapping", name, m.line,
                 m.column);
        rc = CADRE_ECONFIG;
    }
    ydoc_destroy(&doc);
    if (rc == 0) {
        char why[512];
        rc = ccfg_check(cfg, why, sizeof why);
        if (rc != 0) {
            snprintf(err, errlen, "%s: %s", name, why);
        }
    }
    return rc;
}

int
ccfg_load_file(ccfg_t *cfg, const char *path, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = ydoc_read_file(path, CFG_MAX_FILE_BYTES, &buf, &len, err, errlen);
    if (rc == 0) {
        rc = ccfg_load_buffer(cfg, buf, len, path, err, errlen);
    }
    free(buf);
    return rc;
}
