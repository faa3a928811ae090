/*  ref_cluster.c - brute-force all-pairs reference clusterer (see ref_cluster.h).

    Each observation (identity layer) or identity (campaign layer) is turned once into a
    feature record whose strings are interned in a strtab, so every set is a sorted array of
    unique uint32 ids and set algebra is a merge walk. Then every pair is scored exactly as the
    texts define the tiers, and components come from a union-find whose root is always the
    smallest index (so labels are canonical). All feature memory is owned by this file and
    freed before each public function returns.
*/
#include "ref_cluster.h"

#include "strtab.h"
#include "xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  "Absent" for an interned fingerprint (NULL in the record). */
#define S_NULL STRTAB_NONE

void
ref_weights_default(ref_weights_t *w)
{
    assert(w);
    *w = (ref_weights_t){
        .high = 1.0,
        .medium = 0.6,
        .low = 0.2,
        .asn = 0.05,
        .id_threshold = 1.0,
        .handoff = 1.0,
        .infra = 1.0,
        .temporal = 0.4,
        .cohort = 0.1,
        .keystroke = 0.6,
        .camp_threshold = 1.0,
        .handoff_window = 86400.0,
    };
}

/*  --------------------------------------------------------------------------------------
    Sets of interned ids */

/*  A set of interned ids: appended freely, then sealed (sorted, duplicates removed). */
typedef struct {
    uint32_t *ids; /* the ids; sorted and unique once sealed */
    size_t n;      /* number of ids */
    size_t cap;    /* allocated slots */
} s_set_t;

static void
s_set_add(s_set_t *set, uint32_t id)
{
    xgrow(&set->ids, &set->cap, set->n + 1);
    set->ids[set->n++] = id;
}

static int
s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/*  Sorts the set and drops duplicates. */
static void
s_set_seal(s_set_t *set)
{
    if (set->n < 2) {
        return;
    }
    qsort(set->ids, set->n, sizeof *set->ids, s_cmp_u32);
    size_t out = 1;
    for (size_t i = 1; i < set->n; i++) {
        if (set->ids[i] != set->ids[out - 1]) {
            set->ids[out++] = set->ids[i];
        }
    }
    set->n = out;
}

static void
s_set_free(s_set_t *set)
{
    free(set->ids);
    *set = (s_set_t){0};
}

/*  |a & b| of two sealed sets. */
static size_t
s_set_inter(const s_set_t *a, const s_set_t *b)
{
    size_t i = 0, j = 0, common = 0;
    while (i < a->n && j < b->n) {
        if (a->ids[i] < b->ids[j]) {
            i++;
        } else if (a->ids[i] > b->ids[j]) {
            j++;
        } else {
            common++;
            i++;
            j++;
        }
    }
    return common;
}

/*  Jaccard |a & b| / |a | b| as one division of integer sizes; 0.0 when both are empty. */
static double
s_jaccard(const s_set_t *a, const s_set_t *b)
{
    size_t common = s_set_inter(a, b);
    size_t all = a->n + b->n - common;
    if (all == 0) {
        return 0.0;
    }
    return (double)common / (double)all;
}

/*  Interns a NUL-terminated string. */
static uint32_t
s_intern(strtab_t *tab, const char *s)
{
    uint32_t id = strtab_intern(tab, s, strlen(s));
    assert(id != STRTAB_NONE);
    return id;
}

/*  Interns the byte string head + '\0' + tail. Used for tagged values and credential pairs:
    the head is a C string (no NUL inside), so the separator makes the encoding unambiguous. */
static uint32_t
s_intern_pair(strtab_t *tab, const char *head, const char *tail)
{
    size_t lh = strlen(head), lt = strlen(tail);
    char *buf = xmalloc(lh + 1 + lt);
    memcpy(buf, head, lh);
    buf[lh] = '\0';
    memcpy(buf + lh + 1, tail, lt);
    uint32_t id = strtab_intern(tab, buf, lh + 1 + lt);
    assert(id != STRTAB_NONE);
    free(buf);
    return id;
}

/*  A payload_hash or c2 value counts only when non-NULL and non-empty (R§2.2). */
static bool
s_truthy(const char *s)
{
    return s && s[0] != '\0';
}

/*  --------------------------------------------------------------------------------------
    Union-find with the smallest index as root */

static uint32_t
s_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/*  Joins the components of x and y; the smaller root becomes the root of both. */
static void
s_union(uint32_t *parent, uint32_t x, uint32_t y)
{
    uint32_t rx = s_find(parent, x);
    uint32_t ry = s_find(parent, y);
    if (rx < ry) {
        parent[ry] = rx;
    } else if (ry < rx) {
        parent[rx] = ry;
    }
}

/*  --------------------------------------------------------------------------------------
    Identity layer */

/*  The identity-layer features of one observation (R§2.2, plus ja4). */
typedef struct {
    uint32_t ja3;                      /* interned ja3, or S_NULL */
    uint32_t hassh;                    /* interned hassh, or S_NULL */
    uint32_t ja4;                      /* interned ja4, or S_NULL */
    bool has_asn;                      /* asn present */
    int64_t asn;                       /* the ASN when has_asn */
    s_set_t payloads;                  /* non-empty payload hashes */
    s_set_t c2s;                       /* non-empty C2 endpoints */
    s_set_t fps;                       /* further fingerprints the engine uses, interned as
                                          "kind\0value" (cadre extension, docs/schema.md) */
    s_set_t creds;                     /* (user, pass) pairs, interned as one byte string */
    s_set_t commands[UKC_PHASE_COUNT]; /* command set per phase (empty = phase not keyed) */
} s_idfeat_t;

static uint32_t
s_intern_opt(strtab_t *tab, const char *s)
{
    return s ? s_intern(tab, s) : S_NULL;
}

static void
s_idfeat_build(s_idfeat_t *f, const obs_t *o, strtab_t *tab)
{
    *f = (s_idfeat_t){0};
    f->ja3 = s_intern_opt(tab, o->ja3);
    f->hassh = s_intern_opt(tab, o->hassh);
    f->ja4 = s_intern_opt(tab, o->ja4);
    f->has_asn = o->has_asn;
    f->asn = o->asn;
    for (size_t s = 0; s < o->n_sessions; s++) {
        const obs_session_t *sess = &o->sessions[s];
        if (s_truthy(sess->payload_hash)) {
            s_set_add(&f->payloads, s_intern(tab, sess->payload_hash));
        }
        if (s_truthy(sess->c2)) {
            s_set_add(&f->c2s, s_intern(tab, sess->c2));
        }
        for (size_t c = 0; c < sess->n_creds; c++) {
            s_set_add(&f->creds, s_intern_pair(tab, sess->creds[c].user, sess->creds[c].pass));
        }
        assert(sess->phase >= 0 && sess->phase < UKC_PHASE_COUNT);
        for (size_t c = 0; c < sess->n_commands; c++) {
            s_set_add(&f->commands[sess->phase], s_intern(tab, sess->commands[c]));
        }
    }
    /*  The kinds are listed here on their own, not taken from core/ccfg.c: the reference
        is a second implementation. A non-empty value of one of them is a shared value like
        a payload or C2. */
    static const char *const kinds[] = {
        "jarm",         "hassh_server", "tcp_syn",        "ssh_client",     "ja4h",
        "http_headers", "ja4_quic",     "http2_settings", "http3_settings", "http_useragent",
        "vnc_client",   "tcpfp",        "tls_cert_sha256"};
    for (size_t i = 0; i < o->n_fps; i++) {
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            if (strcmp(o->fps[i].kind, kinds[k]) == 0 && s_truthy(o->fps[i].value)) {
                s_set_add(&f->fps, s_intern_pair(tab, o->fps[i].kind, o->fps[i].value));
            }
        }
    }
    s_set_seal(&f->payloads);
    s_set_seal(&f->c2s);
    s_set_seal(&f->fps);
    s_set_seal(&f->creds);
    for (int p = 0; p < UKC_PHASE_COUNT; p++) {
        s_set_seal(&f->commands[p]);
    }
}

static void
s_idfeat_free(s_idfeat_t *f)
{
    s_set_free(&f->payloads);
    s_set_free(&f->c2s);
    s_set_free(&f->fps);
    s_set_free(&f->creds);
    for (int p = 0; p < UKC_PHASE_COUNT; p++) {
        s_set_free(&f->commands[p]);
    }
}

/*  True when both sides hold a value in this fingerprint slot. */
static bool
s_comparable(uint32_t x, uint32_t y)
{
    return x != S_NULL && y != S_NULL;
}

/*  Tier H (R§3.1), steps in the stated order, with ja4 as the third slot. */
static double
s_tier_high(const s_idfeat_t *a, const s_idfeat_t *b)
{
    if (a->ja3 != S_NULL && a->ja3 == b->ja3) {
        return 1.0;
    }
    if (a->hassh != S_NULL && a->hassh == b->hassh) {
        return 1.0;
    }
    if (a->ja4 != S_NULL && a->ja4 == b->ja4) {
        return 1.0;
    }
    /*  Veto: a comparable slot here disagrees (an agreeing one returned above). */
    if (s_comparable(a->ja3, b->ja3) || s_comparable(a->hassh, b->hassh) ||
        s_comparable(a->ja4, b->ja4)) {
        return 0.0;
    }
    if (a->payloads.n > 0 && b->payloads.n > 0 && s_set_inter(&a->payloads, &b->payloads) > 0) {
        return 1.0;
    }
    if (a->c2s.n > 0 && b->c2s.n > 0 && s_set_inter(&a->c2s, &b->c2s) > 0) {
        return 1.0;
    }
    if (a->fps.n > 0 && b->fps.n > 0 && s_set_inter(&a->fps, &b->fps) > 0) {
        return 1.0;
    }
    return 0.0;
}

/*  Tier M: the best command-set Jaccard over phases keyed on both sides. */
static double
s_tier_medium(const s_idfeat_t *a, const s_idfeat_t *b)
{
    double best = 0.0;
    for (int p = 0; p < UKC_PHASE_COUNT; p++) {
        if (a->commands[p].n == 0 || b->commands[p].n == 0) {
            continue;
        }
        double score = s_jaccard(&a->commands[p], &b->commands[p]);
        if (score > best) {
            best = score;
        }
    }
    return best;
}

/*  Tier L: credential-pair Jaccard, 0 when either side tried none. */
static double
s_tier_low(const s_idfeat_t *a, const s_idfeat_t *b)
{
    if (a->creds.n == 0 || b->creds.n == 0) {
        return 0.0;
    }
    return s_jaccard(&a->creds, &b->creds);
}

static void
s_id_score(const s_idfeat_t *a, const s_idfeat_t *b, const ref_weights_t *w, ref_id_tiers_t *out)
{
    out->h = s_tier_high(a, b);
    out->m = s_tier_medium(a, b);
    out->l = s_tier_low(a, b);
    out->v = (a->has_asn && b->has_asn && a->asn == b->asn) ? 1.0 : 0.0;
    out->weight = w->high * out->h + w->medium * out->m + w->low * out->l + w->asn * out->v;
}

void
ref_identity_tiers(const obs_t *a, const obs_t *b, const ref_weights_t *w, ref_id_tiers_t *out)
{
    assert(a && b && w && out);
    strtab_t *tab = strtab_new();
    s_idfeat_t fa, fb;
    s_idfeat_build(&fa, a, tab);
    s_idfeat_build(&fb, b, tab);
    s_id_score(&fa, &fb, w, out);
    s_idfeat_free(&fa);
    s_idfeat_free(&fb);
    strtab_destroy(&tab);
}

void
ref_identity_partition(const obs_t *const *obs, size_t n, const ref_weights_t *w,
                       uint32_t *out_label)
{
    assert(w);
    assert(n == 0 || (obs && out_label));
    assert(n < UINT32_MAX);
    if (n == 0) {
        return;
    }
    strtab_t *tab = strtab_new();
    s_idfeat_t *feat = xcalloc(n, sizeof *feat);
    uint32_t *parent = xmalloc(n * sizeof *parent);
    for (size_t i = 0; i < n; i++) {
        assert(obs[i]);
        s_idfeat_build(&feat[i], obs[i], tab);
        parent[i] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            ref_id_tiers_t t;
            s_id_score(&feat[i], &feat[j], w, &t);
            if (t.weight >= w->id_threshold) {
                s_union(parent, (uint32_t)i, (uint32_t)j);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        out_label[i] = s_find(parent, (uint32_t)i);
        s_idfeat_free(&feat[i]);
    }
    free(parent);
    free(feat);
    strtab_destroy(&tab);
}

/*  --------------------------------------------------------------------------------------
    Campaign layer */

/*  Where a session stands in an identity's time order: (start, observation id in byte order
    (strcmp), session index), compared lexicographically. Observation ids are unique, so the
    order is total, and it depends only on content: equal starts are not decided by the
    position of a member in the list, so the partition does not depend on input order
    (SPEC §4, last paragraph). */
typedef struct {
    double start;   /* session start, epoch seconds */
    const char *id; /* id of the observation holding the session (borrowed) */
    size_t session; /* index of the session in that observation */
} s_pos_t;

static bool
s_pos_before(const s_pos_t *x, const s_pos_t *y)
{
    if (x->start != y->start) {
        return x->start < y->start;
    }
    int by_id = strcmp(x->id, y->id);
    if (by_id != 0) {
        return by_id < 0;
    }
    return x->session < y->session;
}

/*  One decky's first and last session of an identity (SPEC §4 fix 2). */
typedef struct {
    uint32_t decky;          /* interned decky id */
    s_pos_t first_pos;       /* position of the earliest session on the decky */
    ukc_phase_t first_phase; /* its phase */
    double first_seen;       /* its start */
    s_pos_t last_pos;        /* position of the last session in time order */
    ukc_phase_t last_phase;  /* its phase */
    double last_seen;        /* its end (start + duration) */
} s_span_t;

/*  One session window [start, end), end > start. */
typedef struct {
    double start; /* window start */
    double end;   /* window end */
} s_window_t;

/*  The campaign-layer features of one identity, aggregated over all its members. */
typedef struct {
    s_set_t infra;       /* payload hashes and C2 endpoints, one untagged set */
    s_set_t cohort;      /* tagged ("asn", decimal) and ("decky", d) values */
    s_window_t *windows; /* the merged union of session windows, sorted, disjoint */
    size_t n_windows;    /* number of merged windows */
    double total;        /* total length of the merged union (0 when there are none) */
    s_span_t *spans;     /* per-decky first/last, sorted by interned decky id */
    size_t n_spans;      /* number of deckies */
    ref_centroid_t kd;   /* keystroke centroid */
} s_campfeat_t;

static int
s_cmp_window(const void *a, const void *b)
{
    const s_window_t *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    return 0;
}

static int
s_cmp_span(const void *a, const void *b)
{
    const s_span_t *x = a, *y = b;
    return (x->decky > y->decky) - (x->decky < y->decky);
}

ref_centroid_t
ref_kd_centroid(const obs_t *const *members, size_t n)
{
    assert(n == 0 || members);
    size_t votes[64] = {0};
    size_t count = 0;
    for (size_t m = 0; m < n; m++) {
        if (!members[m]->has_kd) {
            continue;
        }
        count++;
        for (int bit = 0; bit < 64; bit++) {
            if ((members[m]->kd_simhash >> bit) & 1u) {
                votes[bit]++;
            }
        }
    }
    ref_centroid_t c = {.present = count > 0, .value = 0};
    for (int bit = 0; bit < 64; bit++) {
        if (votes[bit] * 2 > count) {
            c.value |= (uint64_t)1 << bit;
        }
    }
    return c;
}

/*  Records a session of the identity, at time-order position pos, in its decky's span
    (creating the span). */
static void
s_span_note(s_campfeat_t *f, size_t *spans_cap, uint32_t decky, const obs_session_t *sess,
            s_pos_t pos)
{
    s_span_t *span = NULL;
    for (size_t k = 0; k < f->n_spans; k++) {
        if (f->spans[k].decky == decky) {
            span = &f->spans[k];
            break;
        }
    }
    double end = sess->start + sess->duration;
    if (!span) {
        xgrow(&f->spans, spans_cap, f->n_spans + 1);
        f->spans[f->n_spans++] = (s_span_t){
            .decky = decky,
            .first_pos = pos,
            .first_phase = sess->phase,
            .first_seen = sess->start,
            .last_pos = pos,
            .last_phase = sess->phase,
            .last_seen = end,
        };
        return;
    }
    if (s_pos_before(&pos, &span->first_pos)) {
        span->first_pos = pos;
        span->first_phase = sess->phase;
        span->first_seen = sess->start;
    }
    if (s_pos_before(&span->last_pos, &pos)) {
        span->last_pos = pos;
        span->last_phase = sess->phase;
        span->last_seen = end;
    }
}

/*  Sorts the raw windows and merges overlapping (or touching) ones in place; sums the total
    length of the union, merged window by merged window in time order. */
static void
s_windows_merge(s_campfeat_t *f)
{
    f->total = 0.0;
    if (f->n_windows == 0) {
        return;
    }
    qsort(f->windows, f->n_windows, sizeof *f->windows, s_cmp_window);
    size_t out = 0;
    for (size_t k = 1; k < f->n_windows; k++) {
        s_window_t *cur = &f->windows[out];
        if (f->windows[k].start <= cur->end) {
            if (f->windows[k].end > cur->end) {
                cur->end = f->windows[k].end;
            }
        } else {
            f->windows[++out] = f->windows[k];
        }
    }
    f->n_windows = out + 1;
    for (size_t k = 0; k < f->n_windows; k++) {
        f->total += f->windows[k].end - f->windows[k].start;
    }
}

static void
s_campfeat_build(s_campfeat_t *f, const obs_t *const *members, size_t n, strtab_t *tab)
{
    *f = (s_campfeat_t){0};
    size_t windows_cap = 0, spans_cap = 0;
    for (size_t m = 0; m < n; m++) {
        const obs_t *o = members[m];
        assert(o && o->id);
        if (o->has_asn) {
            char text[32];
            snprintf(text, sizeof text, "%" PRId64, o->asn);
            s_set_add(&f->cohort, s_intern_pair(tab, "asn", text));
        }
        for (size_t s = 0; s < o->n_sessions; s++) {
            const obs_session_t *sess = &o->sessions[s];
            if (s_truthy(sess->payload_hash)) {
                s_set_add(&f->infra, s_intern(tab, sess->payload_hash));
            }
            if (s_truthy(sess->c2)) {
                s_set_add(&f->infra, s_intern(tab, sess->c2));
            }
            double end = sess->start + sess->duration;
            if (end > sess->start) {
                xgrow(&f->windows, &windows_cap, f->n_windows + 1);
                f->windows[f->n_windows++] = (s_window_t){sess->start, end};
            }
            if (sess->decky) {
                s_set_add(&f->cohort, s_intern_pair(tab, "decky", sess->decky));
                s_pos_t pos = {.start = sess->start, .id = o->id, .session = s};
                s_span_note(f, &spans_cap, s_intern(tab, sess->decky), sess, pos);
            }
        }
    }
    s_set_seal(&f->infra);
    s_set_seal(&f->cohort);
    s_windows_merge(f);
    if (f->n_spans > 1) {
        qsort(f->spans, f->n_spans, sizeof *f->spans, s_cmp_span);
    }
    f->kd = ref_kd_centroid(members, n);
}

static void
s_campfeat_free(s_campfeat_t *f)
{
    s_set_free(&f->infra);
    s_set_free(&f->cohort);
    free(f->windows);
    free(f->spans);
    *f = (s_campfeat_t){0};
}

/*  The handoff sets, written out here rather than taken from ukc.c (independence). */
static bool
s_out_phase(ukc_phase_t p)
{
    return p == UKC_COMMAND_AND_CONTROL || p == UKC_PERSISTENCE;
}

static bool
s_in_phase(ukc_phase_t p)
{
    return p == UKC_DISCOVERY || p == UKC_LATERAL_MOVEMENT;
}

/*  dir(out, in): some shared decky where out's last phase hands off to in's first phase
    within the window. */
static bool
s_handoff_dir(const s_campfeat_t *out, const s_campfeat_t *in, double window)
{
    size_t i = 0, j = 0;
    while (i < out->n_spans && j < in->n_spans) {
        const s_span_t *so = &out->spans[i];
        const s_span_t *si = &in->spans[j];
        if (so->decky < si->decky) {
            i++;
        } else if (so->decky > si->decky) {
            j++;
        } else {
            double gap = si->first_seen - so->last_seen;
            if (s_out_phase(so->last_phase) && s_in_phase(si->first_phase) && gap >= 0.0 &&
                gap <= window) {
                return true;
            }
            i++;
            j++;
        }
    }
    return false;
}

/*  |Ua & Ub| of two merged unions, summed piece by piece in time order. */
static double
s_windows_overlap(const s_campfeat_t *a, const s_campfeat_t *b)
{
    double overlap = 0.0;
    size_t i = 0, j = 0;
    while (i < a->n_windows && j < b->n_windows) {
        const s_window_t *x = &a->windows[i];
        const s_window_t *y = &b->windows[j];
        double lo = x->start > y->start ? x->start : y->start;
        double hi = x->end < y->end ? x->end : y->end;
        if (hi > lo) {
            overlap += hi - lo;
        }
        if (x->end < y->end) {
            i++;
        } else if (y->end < x->end) {
            j++;
        } else {
            i++;
            j++;
        }
    }
    return overlap;
}

/*  Tier T, cadre's symmetric form: |Ua & Ub| / min(|Ua|, |Ub|), capped at 1. */
static double
s_tier_temporal(const s_campfeat_t *a, const s_campfeat_t *b)
{
    if (a->total == 0.0 || b->total == 0.0) {
        return 0.0;
    }
    double denom = a->total < b->total ? a->total : b->total;
    double t = s_windows_overlap(a, b) / denom;
    return t > 1.0 ? 1.0 : t;
}

/*  Tier K from two centroids. */
static double
s_tier_keystroke(const ref_centroid_t *a, const ref_centroid_t *b)
{
    if (!a->present || !b->present) {
        return 0.0;
    }
    uint64_t x = a->value ^ b->value;
    int d = 0;
    while (x) {
        x &= x - 1;
        d++;
    }
    if (d >= 8) {
        return 0.0;
    }
    return 1.0 - (double)d / 8.0;
}

static void
s_camp_score(const s_campfeat_t *a, const s_campfeat_t *b, const ref_weights_t *w,
             ref_camp_tiers_t *out)
{
    bool handoff = s_handoff_dir(a, b, w->handoff_window) || s_handoff_dir(b, a, w->handoff_window);
    out->p = handoff ? 1.0 : 0.0;
    out->i = s_jaccard(&a->infra, &b->infra);
    out->t = s_tier_temporal(a, b);
    out->c = s_jaccard(&a->cohort, &b->cohort);
    out->k = s_tier_keystroke(&a->kd, &b->kd);
    out->weight = w->handoff * out->p + w->infra * out->i + w->temporal * out->t +
                  w->cohort * out->c + w->keystroke * out->k;
}

void
ref_campaign_tiers(const obs_t *const *a, size_t na, const obs_t *const *b, size_t nb,
                   const ref_weights_t *w, ref_camp_tiers_t *out)
{
    assert(w && out);
    assert((na == 0 || a) && (nb == 0 || b));
    strtab_t *tab = strtab_new();
    s_campfeat_t fa, fb;
    s_campfeat_build(&fa, a, na, tab);
    s_campfeat_build(&fb, b, nb, tab);
    s_camp_score(&fa, &fb, w, out);
    s_campfeat_free(&fa);
    s_campfeat_free(&fb);
    strtab_destroy(&tab);
}

void
ref_cluster(const obs_t *const *obs, size_t n, const ref_weights_t *w, uint32_t *out_identity,
            uint32_t *out_campaign)
{
    assert(w);
    assert(n == 0 || (obs && out_identity && out_campaign));
    if (n == 0) {
        return;
    }
    ref_identity_partition(obs, n, w, out_identity);

    /*  Identities in order of their smallest member; members in increasing index. Since
        out_identity[i] <= i, walking i upwards meets every identity's root first. */
    uint32_t *ident_of = xmalloc(n * sizeof *ident_of); /* observation -> identity index */
    size_t *first = xcalloc(n + 1, sizeof *first);      /* identity -> offset in members */
    size_t n_ident = 0;
    for (size_t i = 0; i < n; i++) {
        if (out_identity[i] == i) {
            ident_of[i] = (uint32_t)n_ident++;
        } else {
            ident_of[i] = ident_of[out_identity[i]];
        }
        first[ident_of[i] + 1]++;
    }
    for (size_t k = 0; k < n_ident; k++) {
        first[k + 1] += first[k];
    }
    const obs_t **members = xmalloc(n * sizeof *members);
    uint32_t *root_obs = xmalloc(n_ident * sizeof *root_obs); /* identity -> smallest obs */
    size_t *fill = xcalloc(n_ident, sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = ident_of[i];
        if (fill[k] == 0) {
            root_obs[k] = (uint32_t)i;
        }
        members[first[k] + fill[k]++] = obs[i];
    }

    strtab_t *tab = strtab_new();
    s_campfeat_t *feat = xcalloc(n_ident, sizeof *feat);
    uint32_t *parent = xmalloc(n_ident * sizeof *parent);
    for (size_t k = 0; k < n_ident; k++) {
        s_campfeat_build(&feat[k], members + first[k], first[k + 1] - first[k], tab);
        parent[k] = (uint32_t)k;
    }
    for (size_t x = 0; x < n_ident; x++) {
        for (size_t y = x + 1; y < n_ident; y++) {
            ref_camp_tiers_t t;
            s_camp_score(&feat[x], &feat[y], w, &t);
            if (t.weight >= w->camp_threshold) {
                s_union(parent, (uint32_t)x, (uint32_t)y);
            }
        }
    }
    /*  The root identity has the smallest index in its campaign, hence the smallest
        observation index too. */
    for (size_t i = 0; i < n; i++) {
        out_campaign[i] = root_obs[s_find(parent, ident_of[i])];
    }
    for (size_t k = 0; k < n_ident; k++) {
        s_campfeat_free(&feat[k]);
    }
    free(parent);
    free(feat);
    strtab_destroy(&tab);
    free(fill);
    free(root_obs);
    free(members);
    free(first);
    free(ident_of);
}
