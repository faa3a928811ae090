/*  ident.c - identity-layer features and tiers (see ident.h). */
#include "ident.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static int
s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int
s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint32_t
ident_sort_unique_u32(uint32_t *ids, uint32_t n)
{
    if (n < 2) {
        return n;
    }
    qsort(ids, n, sizeof *ids, s_cmp_u32);
    uint32_t k = 1;
    for (uint32_t i = 1; i < n; i++) {
        if (ids[i] != ids[k - 1]) {
            ids[k++] = ids[i];
        }
    }
    return k;
}

static uint32_t
s_sort_unique_u64(uint64_t *v, uint32_t n)
{
    if (n < 2) {
        return n;
    }
    qsort(v, n, sizeof *v, s_cmp_u64);
    uint32_t k = 1;
    for (uint32_t i = 1; i < n; i++) {
        if (v[i] != v[k - 1]) {
            v[k++] = v[i];
        }
    }
    return k;
}

static uint32_t
s_intern(strtab_t *strings, const char *s)
{
    return s ? strtab_intern(strings, s, strlen(s)) : IDENT_NONE;
}

void
ident_feat_build(ident_feat_t *feat, const obs_t *obs, strtab_t *strings)
{
    memset(feat, 0, sizeof *feat);
    feat->ja3 = s_intern(strings, obs->ja3);
    feat->ja4 = s_intern(strings, obs->ja4);
    feat->hassh = s_intern(strings, obs->hassh);
    feat->has_asn = obs->has_asn;
    feat->asn = obs->asn;
    size_t n_cred = 0;
    size_t n_cmd = 0;
    for (size_t i = 0; i < obs->n_sessions; i++) {
        n_cred += obs->sessions[i].n_creds;
        n_cmd += obs->sessions[i].n_commands;
    }
    feat->payloads = xcalloc(obs->n_sessions, sizeof *feat->payloads);
    feat->c2s = xcalloc(obs->n_sessions, sizeof *feat->c2s);
    feat->creds = xcalloc(n_cred, sizeof *feat->creds);
    feat->cmds = xcalloc(n_cmd, sizeof *feat->cmds);
    char *pair = NULL;
    size_t pair_cap = 0;
    for (size_t i = 0; i < obs->n_sessions; i++) {
        const obs_session_t *s = &obs->sessions[i];
        /* Payloads and C2s count when present and non-empty (R§2.2). */
        if (s->payload_hash && s->payload_hash[0]) {
            feat->payloads[feat->n_payloads++] = s_intern(strings, s->payload_hash);
        }
        if (s->c2 && s->c2[0]) {
            feat->c2s[feat->n_c2s++] = s_intern(strings, s->c2);
        }
        for (size_t c = 0; c < s->n_creds; c++) {
            /* Strings hold no NUL byte (obs.h), so "user\0pass" is unambiguous. */
            size_t lu = strlen(s->creds[c].user);
            size_t lp = strlen(s->creds[c].pass);
            xgrow(&pair, &pair_cap, lu + lp + 1);
            memcpy(pair, s->creds[c].user, lu);
            pair[lu] = '\0';
            memcpy(pair + lu + 1, s->creds[c].pass, lp);
            feat->creds[feat->n_creds++] = strtab_intern(strings, pair, lu + lp + 1);
        }
        for (size_t c = 0; c < s->n_commands; c++) {
            uint64_t id = s_intern(strings, s->commands[c]);
            feat->cmds[feat->n_cmds++] = ((uint64_t)s->phase << 32) | id;
        }
    }
    free(pair);
    /* The further fingerprints of the kinds the engine uses, each a key of its own family;
       an empty value counts as absent, as for payloads and C2s. */
    feat->fps = xcalloc(obs->n_fps + 1, sizeof *feat->fps);
    for (size_t i = 0; i < obs->n_fps; i++) {
        int fam = ccfg_fp_family(obs->fps[i].kind);
        if (fam >= 0 && obs->fps[i].value[0]) {
            feat->fps[feat->n_fps++] = CCFG_KEY(fam, s_intern(strings, obs->fps[i].value));
        }
    }
    feat->n_fps = s_sort_unique_u64(feat->fps, feat->n_fps);
    feat->n_payloads = ident_sort_unique_u32(feat->payloads, feat->n_payloads);
    feat->n_c2s = ident_sort_unique_u32(feat->c2s, feat->n_c2s);
    feat->n_creds = ident_sort_unique_u32(feat->creds, feat->n_creds);
    feat->n_cmds = s_sort_unique_u64(feat->cmds, feat->n_cmds);
}

void
ident_feat_clear(ident_feat_t *feat)
{
    free(feat->payloads);
    free(feat->c2s);
    free(feat->creds);
    free(feat->cmds);
    free(feat->fps);
    memset(feat, 0, sizeof *feat);
}

bool
ident_intersects_u64(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            return true;
        }
        if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return false;
}

double
ident_jaccard_u32(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    if (na == 0 && nb == 0) {
        return 0.0;
    }
    uint32_t i = 0;
    uint32_t j = 0;
    uint32_t both = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            both++;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (double)both / (double)(na + nb - both);
}

bool
ident_intersects_u32(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            return true;
        }
        if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return false;
}

bool
ident_fingerprints_compatible(const ident_feat_t *a, const ident_feat_t *b)
{
    const uint32_t sa[3] = {a->ja3, a->hassh, a->ja4};
    const uint32_t sb[3] = {b->ja3, b->hassh, b->ja4};
    bool comparable = false;
    for (int i = 0; i < 3; i++) {
        if (sa[i] != IDENT_NONE && sb[i] != IDENT_NONE) {
            if (sa[i] == sb[i]) {
                return true;
            }
            comparable = true;
        }
    }
    return !comparable;
}

/*  Tier H in R§3.1's order: an agreeing fingerprint slot wins, a comparable disagreeing one
    vetoes, otherwise shared payload or C2 decides. JA4 is a third slot with JA3's rules. */
static double
s_high(const ident_feat_t *a, const ident_feat_t *b)
{
    if (a->ja3 != IDENT_NONE && a->ja3 == b->ja3) {
        return 1.0;
    }
    if (a->hassh != IDENT_NONE && a->hassh == b->hassh) {
        return 1.0;
    }
    if (a->ja4 != IDENT_NONE && a->ja4 == b->ja4) {
        return 1.0;
    }
    if ((a->ja3 != IDENT_NONE && b->ja3 != IDENT_NONE) ||
        (a->hassh != IDENT_NONE && b->hassh != IDENT_NONE) ||
        (a->ja4 != IDENT_NONE && b->ja4 != IDENT_NONE)) {
        return 0.0;
    }
    if (ident_intersects_u32(a->payloads, a->n_payloads, b->payloads, b->n_payloads)) {
        return 1.0;
    }
    if (ident_intersects_u32(a->c2s, a->n_c2s, b->c2s, b->n_c2s)) {
        return 1.0;
    }
    if (ident_intersects_u64(a->fps, a->n_fps, b->fps, b->n_fps)) {
        return 1.0;
    }
    return 0.0;
}

/*  Tier M: the best Jaccard of the per-phase command sets over phases both sides have. */
static double
s_medium(const ident_feat_t *a, const ident_feat_t *b)
{
    double best = 0.0;
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < a->n_cmds && j < b->n_cmds) {
        uint32_t pa = (uint32_t)(a->cmds[i] >> 32);
        uint32_t pb = (uint32_t)(b->cmds[j] >> 32);
        if (pa < pb) {
            i++;
            continue;
        }
        if (pb < pa) {
            j++;
            continue;
        }
        /* One phase on both sides: count its entries and their overlap. */
        uint32_t ie = i;
        while (ie < a->n_cmds && (uint32_t)(a->cmds[ie] >> 32) == pa) {
            ie++;
        }
        uint32_t je = j;
        while (je < b->n_cmds && (uint32_t)(b->cmds[je] >> 32) == pa) {
            je++;
        }
        uint32_t both = 0;
        uint32_t x = i;
        uint32_t y = j;
        while (x < ie && y < je) {
            if (a->cmds[x] == b->cmds[y]) {
                both++;
                x++;
                y++;
            } else if (a->cmds[x] < b->cmds[y]) {
                x++;
            } else {
                y++;
            }
        }
        double jac = (double)both / (double)((ie - i) + (je - j) - both);
        if (jac > best) {
            best = jac;
        }
        i = ie;
        j = je;
    }
    return best;
}

void
ident_tiers(const ident_feat_t *a, const ident_feat_t *b, const ccfg_t *cfg, ident_tiers_t *out)
{
    out->h = s_high(a, b);
    out->m = s_medium(a, b);
    out->l = (a->n_creds == 0 || b->n_creds == 0)
                 ? 0.0
                 : ident_jaccard_u32(a->creds, a->n_creds, b->creds, b->n_creds);
    out->v = (a->has_asn && b->has_asn && a->asn == b->asn) ? 1.0 : 0.0;
    double w = cfg->w_high * out->h;
    w = w + cfg->w_medium * out->m;
    w = w + cfg->w_low * out->l;
    w = w + cfg->w_asn * out->v;
    out->weight = w;
}

bool
ident_edge(const ident_feat_t *a, const ident_feat_t *b, const ccfg_t *cfg)
{
    ident_tiers_t t;
    ident_tiers(a, b, cfg, &t);
    return t.weight >= cfg->id_threshold;
}
