/*  part.c - identity and campaign partitions through blocking keys (see part.h). */
#include "part.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/*  One (key, member) pair; sorting them groups members by key. */
typedef struct {
    uint64_t key;    /* blocking key */
    uint32_t member; /* observation or identity index */
} s_kp_t;

static int
s_cmp_kp(const void *a, const void *b)
{
    const s_kp_t *x = a;
    const s_kp_t *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return (x->member > y->member) - (x->member < y->member);
}

/*  A growable array of key pairs. */
typedef struct {
    s_kp_t *v;  /* pairs */
    size_t n;   /* count */
    size_t cap; /* allocated */
} s_kps_t;

static void
s_push(s_kps_t *kps, uint64_t key, uint32_t member)
{
    xgrow(&kps->v, &kps->cap, kps->n + 1);
    kps->v[kps->n].key = key;
    kps->v[kps->n].member = member;
    kps->n++;
}

static void
s_note_block(part_stats_t *stats, size_t size)
{
    if (size >= 2) {
        stats->blocks++;
        if (size > stats->largest_block) {
            stats->largest_block = size;
        }
    }
}

static int
s_cmp_trip(const void *a, const void *b)
{
    const part_trip_t *x = a;
    const part_trip_t *y = b;
    for (int i = 0; i < 3; i++) {
        if (x->slot[i] != y->slot[i]) {
            return x->slot[i] < y->slot[i] ? -1 : 1;
        }
    }
    return (x->member > y->member) - (x->member < y->member);
}

static unsigned
s_mask(const part_trip_t *t)
{
    unsigned m = 0;
    for (int i = 0; i < 3; i++) {
        if (t->slot[i] != IDENT_NONE) {
            m |= 1u << i;
        }
    }
    return m;
}

/*  A local union-find over block positions that reports each successful union as an edge
    between the members at those positions. */
typedef struct {
    uf_t *uf;             /* over positions 0..n-1 */
    const part_trip_t *t; /* positions -> members */
    part_edge_fn fn;      /* edge sink */
    void *arg;            /* its argument */
} s_forest_t;

static void
s_join(s_forest_t *f, size_t a, size_t b)
{
    if (uf_union(f->uf, (uint32_t)a, (uint32_t)b)) {
        f->fn(f->t[a].member, f->t[b].member, f->arg);
    }
}

void
part_forest_fingerprint(const uint32_t *members, size_t n, part_edge_fn fn, void *arg)
{
    for (size_t i = 1; i < n; i++) {
        fn(members[0], members[i], arg);
    }
}

void
part_forest_infra(part_trip_t *t, size_t n, part_edge_fn fn, void *arg)
{
    if (n < 2) {
        return;
    }
    qsort(t, n, sizeof *t, s_cmp_trip);
    s_forest_t f = {.uf = uf_new(n), .t = t, .fn = fn, .arg = arg};
    size_t first_of_mask[8];
    bool present[8] = {false};
    /* Members with the same triple are one bucket. */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && memcmp(t[j].slot, t[i].slot, sizeof t[i].slot) == 0) {
            s_join(&f, i, j);
            j++;
        }
        unsigned m = s_mask(&t[i]);
        if (!present[m]) {
            present[m] = true;
            first_of_mask[m] = i;
        }
        i = j;
    }
    /* Null patterns with no slot present on both sides are compatible: nothing to veto. */
    bool joined[8] = {false};
    for (unsigned a = 0; a < 8; a++) {
        for (unsigned b = 0; b < 8; b++) {
            if (present[a] && present[b] && (a & b) == 0) {
                s_join(&f, first_of_mask[a], first_of_mask[b]);
                joined[a] = true;
                joined[b] = true;
            }
        }
    }
    /* Every bucket of a joined pattern is connected to that pattern's partner. */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && memcmp(t[j].slot, t[i].slot, sizeof t[i].slot) == 0) {
            j++;
        }
        unsigned m = s_mask(&t[i]);
        if (joined[m]) {
            s_join(&f, first_of_mask[m], i);
        }
        i = j;
    }
    uf_destroy(&f.uf);
}

/*  Edge sink that unions into the global union-find. */
static void
s_union_edge(uint32_t a, uint32_t b, void *arg)
{
    uf_union(arg, a, b);
}

void
part_identity(const ident_feat_t *feats, const bool *alive, size_t n, const ccfg_t *cfg, uf_t *uf,
              u64map_t *generic, part_stats_t *stats)
{
    part_stats_t local = {0};
    if (!stats) {
        stats = &local;
    }
    s_kps_t kps = {0};
    for (size_t i = 0; i < n; i++) {
        if (!alive[i]) {
            continue;
        }
        const ident_feat_t *f = &feats[i];
        uint32_t m = (uint32_t)i;
        if (f->ja3 != IDENT_NONE) {
            s_push(&kps, CCFG_KEY(KEY_JA3, f->ja3), m);
        }
        if (f->ja4 != IDENT_NONE) {
            s_push(&kps, CCFG_KEY(KEY_JA4, f->ja4), m);
        }
        if (f->hassh != IDENT_NONE) {
            s_push(&kps, CCFG_KEY(KEY_HASSH, f->hassh), m);
        }
        for (uint32_t k = 0; k < f->n_payloads; k++) {
            s_push(&kps, CCFG_KEY(KEY_PAYLOAD, f->payloads[k]), m);
        }
        for (uint32_t k = 0; k < f->n_c2s; k++) {
            s_push(&kps, CCFG_KEY(KEY_C2, f->c2s[k]), m);
        }
        for (uint32_t k = 0; k < f->n_fps; k++) {
            s_push(&kps, f->fps[k], m);
        }
    }
    if (kps.n > 0) {
        qsort(kps.v, kps.n, sizeof *kps.v, s_cmp_kp);
    }

    /* Pass 1: generic keys, and fingerprint cliques. */
    u64map_t *gen = generic ? generic : u64map_new();
    for (size_t i = 0; i < kps.n;) {
        size_t j = i;
        while (j < kps.n && kps.v[j].key == kps.v[i].key) {
            j++;
        }
        size_t size = j - i;
        key_family_t fam = (key_family_t)(kps.v[i].key >> 32);
        uint64_t cutoff = cfg->generic_cutoff[fam];
        if (cutoff > 0 && size > cutoff) {
            u64map_put(gen, kps.v[i].key,
                       (uint32_t)(size > UINT32_MAX - 1 ? UINT32_MAX - 1 : size));
            stats->generic_keys++;
        } else {
            s_note_block(stats, size);
            if (fam == KEY_JA3 || fam == KEY_JA4 || fam == KEY_HASSH) {
                for (size_t k = i + 1; k < j; k++) {
                    s_union_edge(kps.v[i].member, kps.v[k].member, uf);
                }
            }
        }
        i = j;
    }

    /* Pass 2: payload and C2 blocks, bucketed by masked fingerprint triples. */
    part_trip_t *trips = NULL;
    size_t trips_cap = 0;
    for (size_t i = 0; i < kps.n;) {
        size_t j = i;
        while (j < kps.n && kps.v[j].key == kps.v[i].key) {
            j++;
        }
        key_family_t fam = (key_family_t)(kps.v[i].key >> 32);
        if (CCFG_SHARED_FAMILY(fam) && j - i >= 2 && u64map_get(gen, kps.v[i].key) == U64MAP_NONE) {
            xgrow(&trips, &trips_cap, j - i);
            for (size_t k = i; k < j; k++) {
                const ident_feat_t *f = &feats[kps.v[k].member];
                part_trip_t *t = &trips[k - i];
                const uint32_t raw[3] = {f->ja3, f->hassh, f->ja4};
                const key_family_t fams[3] = {KEY_JA3, KEY_HASSH, KEY_JA4};
                for (int s = 0; s < 3; s++) {
                    bool masked = raw[s] != IDENT_NONE &&
                                  u64map_get(gen, CCFG_KEY(fams[s], raw[s])) != U64MAP_NONE;
                    t->slot[s] = masked ? IDENT_NONE : raw[s];
                }
                t->member = kps.v[k].member;
            }
            part_forest_infra(trips, j - i, s_union_edge, uf);
        }
        i = j;
    }
    free(trips);
    free(kps.v);
    if (!generic) {
        u64map_destroy(&gen);
    }
}

/*  Evaluates (a, b) unless already connected; unions on an edge. */
static void
s_try_pair(const camp_feat_t *feats, uint32_t a, uint32_t b, const ccfg_t *cfg, uf_t *uf,
           part_stats_t *stats)
{
    if (a == b || uf_find(uf, a) == uf_find(uf, b)) {
        return;
    }
    stats->pairs_evaluated++;
    if (camp_edge(&feats[a], &feats[b], cfg)) {
        uf_union(uf, a, b);
    }
}

/*  A member of an infra block with a hash of its whole infra set. */
typedef struct {
    uint64_t set_hash; /* XXH3 of the sorted infra array */
    uint32_t member;   /* identity index */
} s_setm_t;

static int
s_cmp_setm(const void *a, const void *b)
{
    const s_setm_t *x = a;
    const s_setm_t *y = b;
    if (x->set_hash != y->set_hash) {
        return x->set_hash < y->set_hash ? -1 : 1;
    }
    return (x->member > y->member) - (x->member < y->member);
}

static bool
s_same_infra(const camp_feat_t *a, const camp_feat_t *b)
{
    return a->n_infra == b->n_infra &&
           memcmp(a->infra, b->infra, a->n_infra * sizeof *a->infra) == 0;
}

/*  One infra block: identical sets are an I = 1 clique when that alone reaches the
    threshold; every other pair is decided by its full weight. */
static void
s_camp_infra_block(const camp_feat_t *feats, s_setm_t *mem, size_t n, const ccfg_t *cfg, uf_t *uf,
                   part_stats_t *stats)
{
    for (size_t i = 0; i < n; i++) {
        const camp_feat_t *f = &feats[mem[i].member];
        mem[i].set_hash = XXH3_64bits(f->infra, f->n_infra * sizeof *f->infra);
    }
    qsort(mem, n, sizeof *mem, s_cmp_setm);
    /* Groups of identical sets: [gstart[g], gstart[g+1]). */
    size_t *gstart = xcalloc(n + 1, sizeof *gstart);
    size_t ng = 0;
    bool clique = cfg->w_infra * 1.0 >= cfg->camp_threshold;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || mem[i].set_hash != mem[i - 1].set_hash ||
            !s_same_infra(&feats[mem[i].member], &feats[mem[i - 1].member])) {
            gstart[ng++] = i;
        } else if (clique) {
            uf_union(uf, mem[gstart[ng - 1]].member, mem[i].member);
        }
    }
    gstart[ng] = n;
    for (size_t g = 0; g < ng; g++) {
        for (size_t h = clique ? g + 1 : g; h < ng; h++) {
            if (clique &&
                uf_find(uf, mem[gstart[g]].member) == uf_find(uf, mem[gstart[h]].member)) {
                continue;
            }
            for (size_t a = gstart[g]; a < gstart[g + 1]; a++) {
                for (size_t b = (g == h ? a + 1 : gstart[h]); b < gstart[h + 1]; b++) {
                    s_try_pair(feats, mem[a].member, mem[b].member, cfg, uf, stats);
                }
            }
        }
    }
    free(gstart);
}

/*  A handoff event: an identity's OUT phase ending or IN phase starting on a decky. */
typedef struct {
    uint32_t decky;  /* interned decky */
    bool is_in;      /* IN event (first phase) rather than OUT (last phase) */
    double time;     /* first_seen for IN, last_seen for OUT */
    uint32_t member; /* identity index */
} s_hev_t;

static int
s_cmp_hev(const void *a, const void *b)
{
    const s_hev_t *x = a;
    const s_hev_t *y = b;
    if (x->decky != y->decky) {
        return x->decky < y->decky ? -1 : 1;
    }
    if (x->is_in != y->is_in) {
        return x->is_in ? 1 : -1;
    }
    if (x->time != y->time) {
        return x->time < y->time ? -1 : 1;
    }
    return (x->member > y->member) - (x->member < y->member);
}

/*  Per decky, pairs every IN event with the OUT events in [t - window, t] (R§13.3). When a
    handoff alone is an edge, connectivity suffices: the IN event joins the first OUT event
    of its range and consecutive OUT events inside any range are joined. */
static void
s_camp_handoff(const camp_feat_t *feats, size_t m, const ccfg_t *cfg, uf_t *uf, part_stats_t *stats)
{
    s_hev_t *ev = NULL;
    size_t n = 0;
    size_t cap = 0;
    for (size_t x = 0; x < m; x++) {
        for (uint32_t d = 0; d < feats[x].n_deckies; d++) {
            const camp_decky_t *cd = &feats[x].deckies[d];
            if (ukc_handoff_out(cd->last_phase)) {
                xgrow(&ev, &cap, n + 1);
                ev[n++] = (s_hev_t){cd->decky, false, cd->last_seen, (uint32_t)x};
            }
            if (ukc_handoff_in(cd->first_phase)) {
                xgrow(&ev, &cap, n + 1);
                ev[n++] = (s_hev_t){cd->decky, true, cd->first_seen, (uint32_t)x};
            }
        }
    }
    if (n > 0) {
        qsort(ev, n, sizeof *ev, s_cmp_hev);
    }
    bool alone = cfg->w_handoff * 1.0 >= cfg->camp_threshold;
    int32_t *chain = xcalloc(n + 1, sizeof *chain);
    for (size_t i = 0; i < n;) {
        size_t outs = i;
        while (i < n && ev[i].decky == ev[outs].decky && !ev[i].is_in) {
            i++;
        }
        size_t out_end = i;
        size_t ins = i;
        while (i < n && ev[i].decky == ev[outs].decky) {
            i++;
        }
        size_t in_end = i;
        size_t n_out = out_end - outs;
        if (n_out == 0 || ins == in_end) {
            continue;
        }
        memset(chain, 0, (n_out + 1) * sizeof *chain);
        size_t lo = outs;
        size_t hi = outs; /* outs[lo, hi) have time in [t - window, t] */
        for (size_t k = ins; k < in_end; k++) {
            double t = ev[k].time;
            while (hi < out_end && ev[hi].time <= t) {
                hi++;
            }
            while (lo < hi && t - ev[lo].time > cfg->handoff_window) {
                lo++;
            }
            if (lo >= hi) {
                continue;
            }
            if (alone) {
                uf_union(uf, ev[k].member, ev[lo].member);
                /* Mark outs[lo .. hi-1] as one run: a difference array over positions. */
                chain[lo - outs]++;
                chain[hi - 1 - outs]--;
            } else {
                for (size_t o = lo; o < hi; o++) {
                    s_try_pair(feats, ev[o].member, ev[k].member, cfg, uf, stats);
                }
            }
        }
        if (alone) {
            int64_t open = 0;
            for (size_t o = 0; o + 1 < n_out; o++) {
                open += chain[o];
                if (open > 0) {
                    uf_union(uf, ev[outs + o].member, ev[outs + o + 1].member);
                }
            }
        }
    }
    free(chain);
    free(ev);
}

/*  A keystroke band: (band index, band bits) of one identity's centroid. */
typedef struct {
    uint64_t band;   /* band index */
    uint64_t bits;   /* the band's bits */
    uint32_t member; /* identity index */
} s_band_t;

static int
s_cmp_band(const void *a, const void *b)
{
    const s_band_t *x = a;
    const s_band_t *y = b;
    if (x->band != y->band) {
        return x->band < y->band ? -1 : 1;
    }
    if (x->bits != y->bits) {
        return x->bits < y->bits ? -1 : 1;
    }
    return (x->member > y->member) - (x->member < y->member);
}

/*  Identities whose centroids are within the deciding Hamming distance d share one of d + 1
    bands exactly (pigeonhole), so each band group is a candidate set. */
static void
s_camp_keystroke(const camp_feat_t *feats, size_t m, const ccfg_t *cfg, uf_t *uf,
                 part_stats_t *stats)
{
    int dmax = ccfg_kd_max_distance(cfg);
    if (dmax < 0) {
        return;
    }
    unsigned bands = (unsigned)dmax + 1;
    s_band_t *bs = NULL;
    size_t n = 0;
    size_t cap = 0;
    for (size_t x = 0; x < m; x++) {
        if (!feats[x].has_kd) {
            continue;
        }
        for (unsigned b = 0; b < bands; b++) {
            unsigned lo = 64 * b / bands;
            unsigned hi = 64 * (b + 1) / bands;
            uint64_t width = hi - lo;
            uint64_t mask = width >= 64 ? UINT64_MAX : (((uint64_t)1 << width) - 1);
            xgrow(&bs, &cap, n + 1);
            bs[n++] = (s_band_t){b, (feats[x].kd >> lo) & mask, (uint32_t)x};
        }
    }
    if (n > 0) {
        qsort(bs, n, sizeof *bs, s_cmp_band);
    }
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && bs[j].band == bs[i].band && bs[j].bits == bs[i].bits) {
            j++;
        }
        s_note_block(stats, j - i);
        for (size_t a = i; a < j; a++) {
            for (size_t b = a + 1; b < j; b++) {
                s_try_pair(feats, bs[a].member, bs[b].member, cfg, uf, stats);
            }
        }
        i = j;
    }
    free(bs);
}

void
part_campaign(const camp_feat_t *feats, size_t m, const ccfg_t *cfg, uf_t *uf, part_stats_t *stats)
{
    part_stats_t local = {0};
    if (!stats) {
        stats = &local;
    }
    s_kps_t kps = {0};
    for (size_t x = 0; x < m; x++) {
        for (uint32_t k = 0; k < feats[x].n_infra; k++) {
            s_push(&kps, CCFG_KEY(KEY_PAYLOAD, feats[x].infra[k]), (uint32_t)x);
        }
    }
    if (kps.n > 0) {
        qsort(kps.v, kps.n, sizeof *kps.v, s_cmp_kp);
    }
    s_setm_t *mem = NULL;
    size_t mem_cap = 0;
    for (size_t i = 0; i < kps.n;) {
        size_t j = i;
        while (j < kps.n && kps.v[j].key == kps.v[i].key) {
            j++;
        }
        s_note_block(stats, j - i);
        if (j - i >= 2) {
            xgrow(&mem, &mem_cap, j - i);
            for (size_t k = i; k < j; k++) {
                mem[k - i].member = kps.v[k].member;
            }
            s_camp_infra_block(feats, mem, j - i, cfg, uf, stats);
        }
        i = j;
    }
    free(mem);
    free(kps.v);
    s_camp_handoff(feats, m, cfg, uf, stats);
    s_camp_keystroke(feats, m, cfg, uf, stats);
}
