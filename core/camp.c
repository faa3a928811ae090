/*  camp.c - campaign-layer features and tiers (see camp.h). */
#include "camp.h"

#include "ident.h"
#include "xalloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void
camp_obs_build(camp_obs_t *co, const obs_t *obs, const char *name, strtab_t *strings)
{
    assert(name);
    memset(co, 0, sizeof *co);
    co->name = name;
    co->has_asn = obs->has_asn;
    co->asn = obs->asn;
    co->has_kd = obs->has_kd;
    co->kd = obs->kd_simhash;
    co->sess = xcalloc(obs->n_sessions, sizeof *co->sess);
    co->infra = xcalloc(2 * obs->n_sessions, sizeof *co->infra);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        const obs_session_t *s = &obs->sessions[i];
        camp_sess_t *cs = &co->sess[co->n_sess++];
        cs->start = s->start;
        cs->end = s->start + s->duration;
        cs->decky = s->decky ? strtab_intern(strings, s->decky, strlen(s->decky)) : IDENT_NONE;
        cs->phase = s->phase;
        if (s->payload_hash && s->payload_hash[0]) {
            co->infra[co->n_infra++] =
                strtab_intern(strings, s->payload_hash, strlen(s->payload_hash));
        }
        if (s->c2 && s->c2[0]) {
            co->infra[co->n_infra++] = strtab_intern(strings, s->c2, strlen(s->c2));
        }
    }
    co->n_infra = ident_sort_unique_u32(co->infra, co->n_infra);
}

void
camp_obs_clear(camp_obs_t *co)
{
    free(co->sess);
    free(co->infra);
    memset(co, 0, sizeof *co);
}

uint64_t
camp_centroid(const uint64_t *hashes, size_t n)
{
    uint64_t out = 0;
    for (int bit = 0; bit < 64; bit++) {
        size_t ones = 0;
        for (size_t i = 0; i < n; i++) {
            ones += (hashes[i] >> bit) & 1U;
        }
        if (ones * 2 > n) {
            out |= (uint64_t)1 << bit;
        }
    }
    return out;
}

/*  A session of a member, with what breaks start-time ties: its observation's name and its
    index there. Both come from content, never from the member's position in the list. */
typedef struct {
    const camp_sess_t *s; /* the session */
    const char *name;     /* its observation's id (borrowed from the camp_obs_t) */
    uint32_t index;       /* its index within that observation */
} s_pos_sess_t;

/*  (decky, start, name in byte order, session index): total over one identity's sessions,
    because names are unique among its members. */
static int
s_cmp_decky_time(const void *x, const void *y)
{
    const s_pos_sess_t *a = x;
    const s_pos_sess_t *b = y;
    if (a->s->decky != b->s->decky) {
        return a->s->decky < b->s->decky ? -1 : 1;
    }
    if (a->s->start != b->s->start) {
        return a->s->start < b->s->start ? -1 : 1;
    }
    int by_name = strcmp(a->name, b->name);
    if (by_name != 0) {
        return by_name;
    }
    return (a->index > b->index) - (a->index < b->index);
}

static int
s_cmp_window(const void *x, const void *y)
{
    const double *a = x;
    const double *b = y;
    if (a[0] != b[0]) {
        return a[0] < b[0] ? -1 : 1;
    }
    return (a[1] > b[1]) - (a[1] < b[1]);
}

static int
s_cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x;
    int64_t b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static bool
s_generic(const u64map_t *generic, uint32_t value)
{
    return generic && (u64map_get(generic, CCFG_KEY(KEY_PAYLOAD, value)) != U64MAP_NONE ||
                       u64map_get(generic, CCFG_KEY(KEY_C2, value)) != U64MAP_NONE);
}

void
camp_feat_build(camp_feat_t *feat, const camp_obs_t *const *members, size_t n,
                const u64map_t *generic)
{
    memset(feat, 0, sizeof *feat);
    size_t n_sess = 0;
    size_t n_infra = 0;
    for (size_t m = 0; m < n; m++) {
        n_sess += members[m]->n_sess;
        n_infra += members[m]->n_infra;
    }
    /* Infrastructure and ASN cohort: unions over all members. */
    feat->infra = xcalloc(n_infra, sizeof *feat->infra);
    feat->asns = xcalloc(n, sizeof *feat->asns);
    uint64_t *kds = xcalloc(n, sizeof *kds);
    size_t n_kd = 0;
    for (size_t m = 0; m < n; m++) {
        const camp_obs_t *co = members[m];
        for (uint32_t i = 0; i < co->n_infra; i++) {
            if (!s_generic(generic, co->infra[i])) {
                feat->infra[feat->n_infra++] = co->infra[i];
            }
        }
        if (co->has_asn) {
            feat->asns[feat->n_asns++] = co->asn;
        }
        if (co->has_kd) {
            kds[n_kd++] = co->kd;
        }
    }
    feat->n_infra = ident_sort_unique_u32(feat->infra, feat->n_infra);
    if (feat->n_asns > 1) {
        qsort(feat->asns, feat->n_asns, sizeof *feat->asns, s_cmp_i64);
        uint32_t k = 1;
        for (uint32_t i = 1; i < feat->n_asns; i++) {
            if (feat->asns[i] != feat->asns[k - 1]) {
                feat->asns[k++] = feat->asns[i];
            }
        }
        feat->n_asns = k;
    }
    feat->has_kd = n_kd > 0;
    feat->kd = n_kd ? camp_centroid(kds, n_kd) : 0;
    free(kds);

    /* Session windows: drop zero-length ones, sort, merge overlapping ones. */
    double *w = xcalloc(2 * n_sess, sizeof *w);
    size_t nw = 0;
    s_pos_sess_t *ps = xcalloc(n_sess, sizeof *ps);
    size_t nps = 0;
    for (size_t m = 0; m < n; m++) {
        const camp_obs_t *co = members[m];
        for (uint32_t i = 0; i < co->n_sess; i++) {
            const camp_sess_t *s = &co->sess[i];
            if (s->end > s->start) {
                w[2 * nw] = s->start;
                w[2 * nw + 1] = s->end;
                nw++;
            }
            if (s->decky != IDENT_NONE) {
                ps[nps].s = s;
                ps[nps].name = co->name;
                ps[nps].index = i;
                nps++;
            }
        }
    }
    qsort(w, nw, 2 * sizeof *w, s_cmp_window);
    size_t k = 0;
    for (size_t i = 0; i < nw; i++) {
        if (k > 0 && w[2 * i] <= w[2 * k - 1]) {
            if (w[2 * i + 1] > w[2 * k - 1]) {
                w[2 * k - 1] = w[2 * i + 1];
            }
            continue;
        }
        w[2 * k] = w[2 * i];
        w[2 * k + 1] = w[2 * i + 1];
        k++;
    }
    feat->win = w;
    feat->n_win = (uint32_t)k;
    feat->win_total = 0.0;
    for (size_t i = 0; i < k; i++) {
        feat->win_total += w[2 * i + 1] - w[2 * i];
    }

    /* Per decky, in (start, observation name, session index) order: first = the earliest
       session, last = the last one in that order (SPEC §4 fix 2). Ties at equal start are
       broken by content, not by input position, so the campaign partition does not depend
       on arrival order (SPEC §4, last paragraph). */
    qsort(ps, nps, sizeof *ps, s_cmp_decky_time);
    feat->deckies = xcalloc(nps, sizeof *feat->deckies);
    for (size_t i = 0; i < nps;) {
        size_t j = i;
        while (j + 1 < nps && ps[j + 1].s->decky == ps[i].s->decky) {
            j++;
        }
        camp_decky_t *d = &feat->deckies[feat->n_deckies++];
        d->decky = ps[i].s->decky;
        d->first_phase = ps[i].s->phase;
        d->first_seen = ps[i].s->start;
        d->last_phase = ps[j].s->phase;
        d->last_seen = ps[j].s->end;
        i = j + 1;
    }
    free(ps);
}

void
camp_feat_clear(camp_feat_t *feat)
{
    free(feat->infra);
    free(feat->asns);
    free(feat->deckies);
    free(feat->win);
    memset(feat, 0, sizeof *feat);
}

/*  dir(out, in) of R§4.1 over the deckies both identities touched. */
static double
s_handoff_dir(const camp_feat_t *out, const camp_feat_t *in, double window)
{
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < out->n_deckies && j < in->n_deckies) {
        const camp_decky_t *o = &out->deckies[i];
        const camp_decky_t *n = &in->deckies[j];
        if (o->decky < n->decky) {
            i++;
        } else if (n->decky < o->decky) {
            j++;
        } else {
            double gap = n->first_seen - o->last_seen;
            if (ukc_handoff_out(o->last_phase) && ukc_handoff_in(n->first_phase) && gap >= 0.0 &&
                gap <= window) {
                return 1.0;
            }
            i++;
            j++;
        }
    }
    return 0.0;
}

/*  |Ua ∩ Ub| / min(|Ua|, |Ub|) over merged windows, capped at 1 (SPEC §4 fix 1). */
static double
s_temporal(const camp_feat_t *a, const camp_feat_t *b)
{
    if (a->win_total <= 0.0 || b->win_total <= 0.0) {
        return 0.0;
    }
    double overlap = 0.0;
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < a->n_win && j < b->n_win) {
        double lo = a->win[2 * i] > b->win[2 * j] ? a->win[2 * i] : b->win[2 * j];
        double hi = a->win[2 * i + 1] < b->win[2 * j + 1] ? a->win[2 * i + 1] : b->win[2 * j + 1];
        if (hi > lo) {
            overlap += hi - lo;
        }
        if (a->win[2 * i + 1] < b->win[2 * j + 1]) {
            i++;
        } else {
            j++;
        }
    }
    double least = a->win_total < b->win_total ? a->win_total : b->win_total;
    double t = overlap / least;
    return t > 1.0 ? 1.0 : t;
}

/*  Jaccard of the tagged cohort sets {asn} + {decky}, 0 when both are empty. */
static double
s_cohort(const camp_feat_t *a, const camp_feat_t *b)
{
    uint32_t total = a->n_asns + b->n_asns + a->n_deckies + b->n_deckies;
    if (total == 0) {
        return 0.0;
    }
    uint32_t both = 0;
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < a->n_asns && j < b->n_asns) {
        if (a->asns[i] == b->asns[j]) {
            both++;
            i++;
            j++;
        } else if (a->asns[i] < b->asns[j]) {
            i++;
        } else {
            j++;
        }
    }
    i = 0;
    j = 0;
    while (i < a->n_deckies && j < b->n_deckies) {
        if (a->deckies[i].decky == b->deckies[j].decky) {
            both++;
            i++;
            j++;
        } else if (a->deckies[i].decky < b->deckies[j].decky) {
            i++;
        } else {
            j++;
        }
    }
    return (double)both / (double)(total - both);
}

void
camp_tiers(const camp_feat_t *a, const camp_feat_t *b, const ccfg_t *cfg, camp_tiers_t *out)
{
    double ab = s_handoff_dir(a, b, cfg->handoff_window);
    double ba = s_handoff_dir(b, a, cfg->handoff_window);
    out->p = ab > ba ? ab : ba;
    out->i = ident_jaccard_u32(a->infra, a->n_infra, b->infra, b->n_infra);
    out->t = s_temporal(a, b);
    out->c = s_cohort(a, b);
    out->k = 0.0;
    if (a->has_kd && b->has_kd) {
        int d = __builtin_popcountll(a->kd ^ b->kd);
        out->k = d >= 8 ? 0.0 : 1.0 - (double)d / 8.0;
    }
    double w = cfg->w_handoff * out->p;
    w = w + cfg->w_infra * out->i;
    w = w + cfg->w_temporal * out->t;
    w = w + cfg->w_cohort * out->c;
    w = w + cfg->w_keystroke * out->k;
    out->weight = w;
}

bool
camp_edge(const camp_feat_t *a, const camp_feat_t *b, const ccfg_t *cfg)
{
    camp_tiers_t t;
    camp_tiers(a, b, cfg, &t);
    return t.weight >= cfg->camp_threshold;
}
