/*  explain.c - why two observations share an identity or a campaign, or why they do not
    (see explain.h).

    The explanation recomputes tiers from the engine's own features, the way the partitions
    were built:

    - identity layer: generic key values count as absent (part.h), so each observation's
      features are copied with them masked before ident_tiers(). Two observations that share
      an identity are joined by a shortest chain of identity edges (BFS over the live
      members of that identity); two that do not get their direct tiers, the keys they share
      and the reason no edge exists.
    - campaign layer: the same over the live identities of a campaign, one representative
      observation per identity (cluster_camp_feat_of() gives its identity's features), each
      link naming what made the pair a candidate: a shared payload or C2, a decky handoff,
      or a keystroke band.

    Everything is borrowed from the engine and printed as it is computed.
*/
#include "explain.h"

#include "camp.h"
#include "ccfg.h"
#include "err.h"
#include "ident.h"
#include "strtab.h"
#include "ukc.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  A tier value: two decimals, trailing zeros dropped ("0.33", "1.07", "1", "0"). */
static const char *
s_num(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.2f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0') {
            *end-- = '\0';
        }
        if (end == dot) {
            *end = '\0';
        }
    }
    if (strcmp(buf, "-0") == 0) {
        snprintf(buf, size, "0");
    }
    return buf;
}

/*  Prints s in double quotes, escaping quotes, backslashes and control characters. */
static void
s_quote(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\x%02x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

static const char *
s_str(const cluster_t *c, uint32_t id)
{
    return strtab_str(cluster_strings(c), id);
}

/*  Prints `family "value"` for a key, with " (generic)" when it was generic. */
static void
s_print_key(FILE *out, const cluster_t *c, key_family_t fam, uint32_t id)
{
    fprintf(out, "%s ", ccfg_family_name(fam));
    s_quote(out, s_str(c, id));
    if (cluster_key_generic(c, CCFG_KEY(fam, id))) {
        fprintf(out, " (generic)");
    }
}

/* --- identity layer ------------------------------------------------------------------- */

static bool
s_generic(const cluster_t *c, key_family_t fam, uint32_t id)
{
    return id != IDENT_NONE && cluster_key_generic(c, CCFG_KEY(fam, id));
}

/*  Copies f into out with generic values masked as absent, as the partition sees them.
    out owns only its payloads, c2s and fps arrays (free with s_unmask); creds and cmds are
    borrowed from f. */
static void
s_mask(const cluster_t *c, const ident_feat_t *f, ident_feat_t *out)
{
    *out = *f;
    out->ja3 = s_generic(c, KEY_JA3, f->ja3) ? IDENT_NONE : f->ja3;
    out->ja4 = s_generic(c, KEY_JA4, f->ja4) ? IDENT_NONE : f->ja4;
    out->hassh = s_generic(c, KEY_HASSH, f->hassh) ? IDENT_NONE : f->hassh;
    out->payloads = xcalloc(f->n_payloads + 1, sizeof *out->payloads);
    out->n_payloads = 0;
    for (uint32_t i = 0; i < f->n_payloads; i++) {
        if (!s_generic(c, KEY_PAYLOAD, f->payloads[i])) {
            out->payloads[out->n_payloads++] = f->payloads[i];
        }
    }
    out->c2s = xcalloc(f->n_c2s + 1, sizeof *out->c2s);
    out->n_c2s = 0;
    for (uint32_t i = 0; i < f->n_c2s; i++) {
        if (!s_generic(c, KEY_C2, f->c2s[i])) {
            out->c2s[out->n_c2s++] = f->c2s[i];
        }
    }
    out->fps = xcalloc(f->n_fps + 1, sizeof *out->fps);
    out->n_fps = 0;
    for (uint32_t i = 0; i < f->n_fps; i++) {
        if (!cluster_key_generic(c, f->fps[i])) {
            out->fps[out->n_fps++] = f->fps[i];
        }
    }
}

static void
s_unmask(ident_feat_t *m)
{
    free(m->payloads);
    free(m->c2s);
    free(m->fps);
    memset(m, 0, sizeof *m);
}

/*  The first value two sorted arrays share, or IDENT_NONE. */
static uint32_t
s_first_shared(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            return a[i];
        }
        if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return IDENT_NONE;
}

/*  A key (family and value) that links two masked observations: an agreeing fingerprint
    first, then a shared payload, then a shared C2, then a shared further fingerprint. False
    when they share none. */
static bool
s_link_key(const ident_feat_t *a, const ident_feat_t *b, key_family_t *fam, uint32_t *id)
{
    const uint32_t sa[3] = {a->ja3, a->hassh, a->ja4};
    const uint32_t sb[3] = {b->ja3, b->hassh, b->ja4};
    const key_family_t fams[3] = {KEY_JA3, KEY_HASSH, KEY_JA4};
    for (int s = 0; s < 3; s++) {
        if (sa[s] != IDENT_NONE && sa[s] == sb[s]) {
            *fam = fams[s];
            *id = sa[s];
            return true;
        }
    }
    *id = s_first_shared(a->payloads, a->n_payloads, b->payloads, b->n_payloads);
    *fam = KEY_PAYLOAD;
    if (*id == IDENT_NONE) {
        *id = s_first_shared(a->c2s, a->n_c2s, b->c2s, b->n_c2s);
        *fam = KEY_C2;
    }
    for (uint32_t i = 0, j = 0; *id == IDENT_NONE && i < a->n_fps && j < b->n_fps;) {
        if (a->fps[i] == b->fps[j]) {
            *fam = (key_family_t)(a->fps[i] >> 32);
            *id = (uint32_t)a->fps[i];
        } else if (a->fps[i] < b->fps[j]) {
            i++;
        } else {
            j++;
        }
    }
    return *id != IDENT_NONE;
}

/*  True when (a, b) is an identity edge as the partition decides it: a shared non-generic
    key and a weight reaching the threshold. Fills t. */
static bool
s_id_edge(const ident_feat_t *a, const ident_feat_t *b, const ccfg_t *cfg, ident_tiers_t *t)
{
    key_family_t fam;
    uint32_t id;
    ident_tiers(a, b, cfg, t);
    return t->weight >= cfg->id_threshold && s_link_key(a, b, &fam, &id);
}

static void
s_print_id_tiers(FILE *out, const ident_tiers_t *t)
{
    char h[32], m[32], l[32], v[32], w[32];
    fprintf(out, "H=%s M=%s L=%s V=%s weight=%s", s_num(h, sizeof h, t->h),
            s_num(m, sizeof m, t->m), s_num(l, sizeof l, t->l), s_num(v, sizeof v, t->v),
            s_num(w, sizeof w, t->weight));
}

/*  One line about an observation: its id, fingerprints, ASN and session count. */
static void
s_print_obs(FILE *out, const cluster_t *c, const char *tag, size_t slot)
{
    const ident_feat_t *f = cluster_ident_feat(c, slot);
    fprintf(out, "%s %s: identity %s, campaign %s\n", tag, cluster_slot_name(c, slot),
            cluster_identity_of(c, slot), cluster_campaign_of(c, slot));
    const uint32_t vals[3] = {f->ja3, f->hassh, f->ja4};
    const key_family_t fams[3] = {KEY_JA3, KEY_HASSH, KEY_JA4};
    fprintf(out, "   ");
    for (int s = 0; s < 3; s++) {
        if (vals[s] != IDENT_NONE) {
            fprintf(out, " ");
            s_print_key(out, c, fams[s], vals[s]);
        } else {
            fprintf(out, " %s none", ccfg_family_name(fams[s]));
        }
        fprintf(out, ",");
    }
    if (f->has_asn) {
        fprintf(out, " asn %" PRId64 "\n", f->asn);
    } else {
        fprintf(out, " asn none\n");
    }
}

/*  Lists the keys two observations share (raw values, generic ones flagged). Returns how
    many. */
static size_t
s_print_shared_keys(FILE *out, const cluster_t *c, const ident_feat_t *a, const ident_feat_t *b)
{
    size_t n = 0;
    const uint32_t sa[3] = {a->ja3, a->hassh, a->ja4};
    const uint32_t sb[3] = {b->ja3, b->hassh, b->ja4};
    const key_family_t fams[3] = {KEY_JA3, KEY_HASSH, KEY_JA4};
    for (int s = 0; s < 3; s++) {
        if (sa[s] != IDENT_NONE && sa[s] == sb[s]) {
            fprintf(out, "    ");
            s_print_key(out, c, fams[s], sa[s]);
            fprintf(out, "\n");
            n++;
        }
    }
    const struct {
        const uint32_t *va, *vb;
        uint32_t na, nb;
        key_family_t fam;
    } sets[2] = {
        {a->payloads, b->payloads, a->n_payloads, b->n_payloads, KEY_PAYLOAD},
        {a->c2s, b->c2s, a->n_c2s, b->n_c2s, KEY_C2},
    };
    for (int k = 0; k < 2; k++) {
        uint32_t i = 0;
        uint32_t j = 0;
        while (i < sets[k].na && j < sets[k].nb) {
            if (sets[k].va[i] == sets[k].vb[j]) {
                fprintf(out, "    ");
                s_print_key(out, c, sets[k].fam, sets[k].va[i]);
                fprintf(out, "\n");
                n++;
                i++;
                j++;
            } else if (sets[k].va[i] < sets[k].vb[j]) {
                i++;
            } else {
                j++;
            }
        }
    }
    for (uint32_t i = 0, j = 0; i < a->n_fps && j < b->n_fps;) {
        if (a->fps[i] == b->fps[j]) {
            fprintf(out, "    ");
            s_print_key(out, c, (key_family_t)(a->fps[i] >> 32), (uint32_t)a->fps[i]);
            fprintf(out, "\n");
            n++;
            i++;
            j++;
        } else if (a->fps[i] < b->fps[j]) {
            i++;
        } else {
            j++;
        }
    }
    return n;
}

/*  Why two observations have no identity edge: ra, rb are their features, ma, mb the same
    with generic values masked. */
static void
s_print_no_edge(FILE *out, const cluster_t *c, const ident_feat_t *ra, const ident_feat_t *rb,
                const ident_feat_t *ma, const ident_feat_t *mb, const ident_tiers_t *t)
{
    static const char *const names[3] = {"JA3", "HASSH", "JA4"};
    const ccfg_t *cfg = cluster_cfg(c);
    const uint32_t ra3[3] = {ra->ja3, ra->hassh, ra->ja4};
    const uint32_t rb3[3] = {rb->ja3, rb->hassh, rb->ja4};
    const uint32_t sa[3] = {ma->ja3, ma->hassh, ma->ja4};
    const uint32_t sb[3] = {mb->ja3, mb->hassh, mb->ja4};
    const key_family_t fams[3] = {KEY_JA3, KEY_HASSH, KEY_JA4};
    char w[32], th[32];
    for (int s = 0; s < 3; s++) {
        if (ra3[s] != IDENT_NONE && ra3[s] == rb3[s] && s_generic(c, fams[s], ra3[s])) {
            fprintf(out,
                    "    the shared %s is generic (held by more than %" PRIu64
                    " observations), so it counts as absent\n",
                    names[s], cfg->generic_cutoff[fams[s]]);
        }
    }
    if (ident_intersects_u32(ra->payloads, ra->n_payloads, rb->payloads, rb->n_payloads) &&
        !ident_intersects_u32(ma->payloads, ma->n_payloads, mb->payloads, mb->n_payloads)) {
        fprintf(out, "    every shared payload is generic, so none counts\n");
    }
    if (ident_intersects_u32(ra->c2s, ra->n_c2s, rb->c2s, rb->n_c2s) &&
        !ident_intersects_u32(ma->c2s, ma->n_c2s, mb->c2s, mb->n_c2s)) {
        fprintf(out, "    every shared C2 is generic, so none counts\n");
    }
    if (ident_intersects_u64(ra->fps, ra->n_fps, rb->fps, rb->n_fps) &&
        !ident_intersects_u64(ma->fps, ma->n_fps, mb->fps, mb->n_fps)) {
        fprintf(out, "    every shared further fingerprint (jarm, ssh_client, ...) is generic, so "
                     "none counts\n");
    }
    if (!ident_fingerprints_compatible(ma, mb)) {
        for (int s = 0; s < 3; s++) {
            if (sa[s] != IDENT_NONE && sb[s] != IDENT_NONE && sa[s] != sb[s]) {
                fprintf(out, "    veto: both have a %s and they differ\n", names[s]);
            }
        }
        fprintf(out, "    (no fingerprint agrees, so a shared payload, C2 or further fingerprint "
                     "cannot give H)\n");
    } else {
        key_family_t fam;
        uint32_t id;
        if (!s_link_key(ma, mb, &fam, &id)) {
            fprintf(out, "    no shared key: no common non-generic ja3, ja4, hassh, payload, c2 "
                         "or further fingerprint\n");
        }
    }
    fprintf(out, "    weight %s < threshold %s: M, L and V alone cannot reach it\n",
            s_num(w, sizeof w, t->weight), s_num(th, sizeof th, cfg->id_threshold));
}

/*  The live slots of one identity, in slot order. The caller frees the array. */
static size_t *
s_identity_members(const cluster_t *c, const char *identity, size_t *n)
{
    size_t cap = 0;
    size_t *v = NULL;
    *n = 0;
    for (size_t s = 0; s < cluster_slots(c); s++) {
        const char *x = cluster_slot_alive(c, s) ? cluster_identity_of(c, s) : NULL;
        if (x && strcmp(x, identity) == 0) {
            xgrow(&v, &cap, *n + 1);
            v[(*n)++] = s;
        }
    }
    return v;
}

/*  Breadth-first search over n nodes where edge(i, j) is computed on demand; fills
    parent[] (SIZE_MAX for unreached, the root its own parent). Returns true when goal
    was reached. */
typedef bool (*s_edge_fn)(size_t i, size_t j, void *arg);

static bool
s_bfs(size_t n, size_t root, size_t goal, s_edge_fn edge, void *arg, size_t *parent)
{
    size_t *queue = xcalloc(n + 1, sizeof *queue);
    for (size_t i = 0; i < n; i++) {
        parent[i] = SIZE_MAX;
    }
    size_t head = 0;
    size_t tail = 0;
    parent[root] = root;
    queue[tail++] = root;
    while (head < tail && parent[goal] == SIZE_MAX) {
        size_t u = queue[head++];
        for (size_t v = 0; v < n; v++) {
            if (parent[v] == SIZE_MAX && edge(u, v, arg)) {
                parent[v] = u;
                queue[tail++] = v;
            }
        }
    }
    free(queue);
    return parent[goal] != SIZE_MAX;
}

/*  The path root .. goal from a BFS parent array, into path (n entries); returns its
    length in nodes. */
static size_t
s_path(const size_t *parent, size_t root, size_t goal, size_t *path)
{
    size_t len = 0;
    for (size_t v = goal;; v = parent[v]) {
        path[len++] = v;
        if (v == root) {
            break;
        }
    }
    for (size_t i = 0; i < len / 2; i++) {
        size_t t = path[i];
        path[i] = path[len - 1 - i];
        path[len - 1 - i] = t;
    }
    return len;
}

/*  Identity-layer BFS state: masked features of the identity's members. */
typedef struct {
    ident_feat_t *m; /* masked features, per member */
    const ccfg_t *cfg;
} s_id_graph_t;

static bool
s_id_graph_edge(size_t i, size_t j, void *arg)
{
    s_id_graph_t *g = arg;
    ident_tiers_t t;
    return i != j && s_id_edge(&g->m[i], &g->m[j], g->cfg, &t);
}

/*  The identity half of the explanation. Returns 0, or 1 when the recomputed edges do not
    connect two members of one identity (the engine and the explanation disagree). */
static int
s_explain_identity(FILE *out, const cluster_t *c, size_t a, size_t b)
{
    const ccfg_t *cfg = cluster_cfg(c);
    const char *ia = cluster_identity_of(c, a);
    const char *ib = cluster_identity_of(c, b);
    if (strcmp(ia, ib) != 0) {
        fprintf(out, "identity layer: different identities (%s, %s)\n", ia, ib);
        ident_feat_t ma;
        ident_feat_t mb;
        s_mask(c, cluster_ident_feat(c, a), &ma);
        s_mask(c, cluster_ident_feat(c, b), &mb);
        ident_tiers_t t;
        ident_tiers(&ma, &mb, cfg, &t);
        fprintf(out, "  direct tiers: ");
        s_print_id_tiers(out, &t);
        fprintf(out, "\n  shared keys:\n");
        if (s_print_shared_keys(out, c, cluster_ident_feat(c, a), cluster_ident_feat(c, b)) == 0) {
            fprintf(out, "    none\n");
        }
        fprintf(out, "  why no edge:\n");
        s_print_no_edge(out, c, cluster_ident_feat(c, a), cluster_ident_feat(c, b), &ma, &mb, &t);
        s_unmask(&ma);
        s_unmask(&mb);
        return 0;
    }
    size_t n = 0;
    size_t *mem = s_identity_members(c, ia, &n);
    fprintf(out, "identity layer: same identity %s (%zu observations)\n", ia, n);
    s_id_graph_t g = {.m = xcalloc(n + 1, sizeof *g.m), .cfg = cfg};
    size_t root = 0;
    size_t goal = 0;
    for (size_t i = 0; i < n; i++) {
        s_mask(c, cluster_ident_feat(c, mem[i]), &g.m[i]);
        root = mem[i] == a ? i : root;
        goal = mem[i] == b ? i : goal;
    }
    size_t *parent = xcalloc(n + 1, sizeof *parent);
    int rc = 0;
    if (!s_bfs(n, root, goal, s_id_graph_edge, &g, parent)) {
        fprintf(out, "  no chain of identity edges found: the explanation disagrees with the "
                     "engine\n");
        rc = 1;
    } else {
        size_t *path = xcalloc(n + 1, sizeof *path);
        size_t len = s_path(parent, root, goal, path);
        fprintf(out, "  chain of %zu identity edge%s:\n", len - 1, len == 2 ? "" : "s");
        for (size_t k = 0; k + 1 < len; k++) {
            const ident_feat_t *x = &g.m[path[k]];
            const ident_feat_t *y = &g.m[path[k + 1]];
            ident_tiers_t t;
            ident_tiers(x, y, cfg, &t);
            key_family_t fam = KEY_JA3;
            uint32_t id = IDENT_NONE;
            s_link_key(x, y, &fam, &id);
            fprintf(out, "  %s --[", cluster_slot_name(c, mem[path[k]]));
            s_print_key(out, c, fam, id);
            fprintf(out, " | ");
            s_print_id_tiers(out, &t);
            fprintf(out, "]--> %s\n", cluster_slot_name(c, mem[path[k + 1]]));
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++) {
        s_unmask(&g.m[i]);
    }
    free(g.m);
    free(parent);
    free(mem);
    return rc;
}

/* --- campaign layer ------------------------------------------------------------------- */

/*  "payload" or "c2": what an infrastructure value was seen as on some live observation. */
static const char *
s_infra_kind(const cluster_t *c, uint32_t id)
{
    for (size_t s = 0; s < cluster_slots(c); s++) {
        const ident_feat_t *f = cluster_ident_feat(c, s);
        if (f && ident_intersects_u32(f->payloads, f->n_payloads, &id, 1)) {
            return "payload";
        }
    }
    return "c2";
}

/*  Prints the handoffs from `from`'s identity to `to`'s on the deckies they share (with
    misses, every shared decky, saying why it is no handoff), each preceded by sep once
    *count is non-zero; *count grows by the number printed. */
static void
s_print_handoffs(FILE *out, const cluster_t *c, const camp_feat_t *from, const camp_feat_t *to,
                 bool misses, const char *sep, size_t *count)
{
    double window = cluster_cfg(c)->handoff_window;
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < from->n_deckies && j < to->n_deckies) {
        const camp_decky_t *o = &from->deckies[i];
        const camp_decky_t *d = &to->deckies[j];
        if (o->decky < d->decky) {
            i++;
            continue;
        }
        if (d->decky < o->decky) {
            j++;
            continue;
        }
        double gap = d->first_seen - o->last_seen;
        bool ok = ukc_handoff_out(o->last_phase) && ukc_handoff_in(d->first_phase) && gap >= 0.0 &&
                  gap <= window;
        if (ok || misses) {
            fprintf(out, "%s%sdecky ", *count ? sep : "", ok ? "handoff on " : "no handoff on ");
            s_quote(out, s_str(c, o->decky));
            fprintf(out, " (last %s -> first %s, gap %.0f s)", ukc_phase_name(o->last_phase),
                    ukc_phase_name(d->first_phase), gap);
            (*count)++;
        }
        i++;
        j++;
    }
}

/*  What made two identities candidates: shared infrastructure values, decky handoffs and
    a keystroke band. Prints "no shared key" when nothing. */
static void
s_print_camp_keys(FILE *out, const cluster_t *c, const camp_feat_t *a, const camp_feat_t *b)
{
    size_t n = 0;
    uint32_t i = 0;
    uint32_t j = 0;
    while (i < a->n_infra && j < b->n_infra) {
        if (a->infra[i] == b->infra[j]) {
            fprintf(out, "%s%s ", n++ ? ", " : "", s_infra_kind(c, a->infra[i]));
            s_quote(out, s_str(c, a->infra[i]));
            i++;
            j++;
        } else if (a->infra[i] < b->infra[j]) {
            i++;
        } else {
            j++;
        }
    }
    s_print_handoffs(out, c, a, b, false, ", ", &n);
    s_print_handoffs(out, c, b, a, false, ", ", &n);
    int dmax = ccfg_kd_max_distance(cluster_cfg(c));
    if (a->has_kd && b->has_kd) {
        int d = __builtin_popcountll(a->kd ^ b->kd);
        if (dmax >= 0 && d <= dmax) {
            fprintf(out, "%skeystroke band (Hamming distance %d <= %d)", n++ ? ", " : "", d, dmax);
        }
    }
    if (n == 0) {
        fprintf(out, "no shared key");
    }
}

static void
s_print_camp_tiers(FILE *out, const camp_tiers_t *t)
{
    char p[32], i[32], tt[32], cc[32], k[32], w[32];
    fprintf(out, "P=%s I=%s T=%s C=%s K=%s weight=%s", s_num(p, sizeof p, t->p),
            s_num(i, sizeof i, t->i), s_num(tt, sizeof tt, t->t), s_num(cc, sizeof cc, t->c),
            s_num(k, sizeof k, t->k), s_num(w, sizeof w, t->weight));
}

/*  Why two identities have no campaign edge, term by term. */
static void
s_print_camp_no_edge(FILE *out, const cluster_t *c, const camp_feat_t *a, const camp_feat_t *b,
                     const camp_tiers_t *t)
{
    const ccfg_t *cfg = cluster_cfg(c);
    char w[32], th[32], x[32];
    if (t->p == 0.0) {
        fprintf(out, "    P=0: ");
        size_t n = 0;
        s_print_handoffs(out, c, a, b, true, "; ", &n);
        s_print_handoffs(out, c, b, a, true, "; ", &n);
        if (n == 0) {
            fprintf(out, "no shared decky");
        }
        fprintf(out,
                " (a handoff is command_and_control/persistence ending, then "
                "discovery/lateral_movement starting on the same decky within %.0f s)\n",
                cfg->handoff_window);
    }
    if (t->i == 0.0) {
        fprintf(out, "    I=0: no shared payload or C2\n");
    } else if (t->i < 1.0) {
        fprintf(out, "    I=%s: the payload/C2 sets only partly overlap\n",
                s_num(x, sizeof x, t->i));
    }
    if (!a->has_kd || !b->has_kd) {
        fprintf(out, "    K=0: keystroke data missing on %s\n",
                !a->has_kd && !b->has_kd ? "both" : "one side");
    } else if (t->k == 0.0) {
        fprintf(out, "    K=0: keystroke centroids differ in %d bits (>= 8)\n",
                __builtin_popcountll(a->kd ^ b->kd));
    }
    fprintf(out, "    weight %s < threshold %s\n", s_num(w, sizeof w, t->weight),
            s_num(th, sizeof th, cfg->camp_threshold));
}

/*  Campaign-layer BFS state: campaign features of the campaign's identities. */
typedef struct {
    const camp_feat_t **f; /* per identity */
    const ccfg_t *cfg;
} s_camp_graph_t;

static bool
s_camp_graph_edge(size_t i, size_t j, void *arg)
{
    s_camp_graph_t *g = arg;
    return i != j && camp_edge(g->f[i], g->f[j], g->cfg);
}

/*  One representative live slot per live identity of campaign (the first in slot order).
    The caller frees the array. */
static size_t *
s_campaign_identities(const cluster_t *c, const char *campaign, size_t *n)
{
    strtab_t *seen = strtab_new();
    size_t cap = 0;
    size_t *v = NULL;
    *n = 0;
    for (size_t s = 0; s < cluster_slots(c); s++) {
        const char *camp = cluster_slot_alive(c, s) ? cluster_campaign_of(c, s) : NULL;
        if (!camp || strcmp(camp, campaign) != 0) {
            continue;
        }
        const char *id = cluster_identity_of(c, s);
        size_t before = strtab_count(seen);
        strtab_intern(seen, id, strlen(id));
        if (strtab_count(seen) > before) {
            xgrow(&v, &cap, *n + 1);
            v[(*n)++] = s;
        }
    }
    strtab_destroy(&seen);
    return v;
}

/*  The campaign half of the explanation. Returns 0, or 1 on a disagreement with the
    engine. */
static int
s_explain_campaign(FILE *out, const cluster_t *c, size_t a, size_t b)
{
    const ccfg_t *cfg = cluster_cfg(c);
    const char *ca = cluster_campaign_of(c, a);
    const char *cb = cluster_campaign_of(c, b);
    const char *ia = cluster_identity_of(c, a);
    const char *ib = cluster_identity_of(c, b);
    if (strcmp(ia, ib) == 0) {
        fprintf(out, "campaign layer: same identity, hence same campaign %s\n", ca);
        return 0;
    }
    const camp_feat_t *fa = cluster_camp_feat_of(c, a);
    const camp_feat_t *fb = cluster_camp_feat_of(c, b);
    if (strcmp(ca, cb) != 0) {
        fprintf(out, "campaign layer: different campaigns (%s, %s)\n", ca, cb);
        camp_tiers_t t;
        camp_tiers(fa, fb, cfg, &t);
        fprintf(out, "  direct tiers between identities %s and %s: ", ia, ib);
        s_print_camp_tiers(out, &t);
        fprintf(out, "\n  candidate keys: ");
        s_print_camp_keys(out, c, fa, fb);
        fprintf(out, "\n  why below threshold:\n");
        s_print_camp_no_edge(out, c, fa, fb, &t);
        return 0;
    }
    size_t n = 0;
    size_t *reps = s_campaign_identities(c, ca, &n);
    fprintf(out, "campaign layer: same campaign %s (%zu identities)\n", ca, n);
    s_camp_graph_t g = {.f = xcalloc(n + 1, sizeof *g.f), .cfg = cfg};
    size_t root = 0;
    size_t goal = 0;
    for (size_t i = 0; i < n; i++) {
        g.f[i] = cluster_camp_feat_of(c, reps[i]);
        const char *id = cluster_identity_of(c, reps[i]);
        root = strcmp(id, ia) == 0 ? i : root;
        goal = strcmp(id, ib) == 0 ? i : goal;
    }
    size_t *parent = xcalloc(n + 1, sizeof *parent);
    int rc = 0;
    if (!s_bfs(n, root, goal, s_camp_graph_edge, &g, parent)) {
        fprintf(out, "  no chain of campaign edges found: the explanation disagrees with the "
                     "engine\n");
        rc = 1;
    } else {
        size_t *path = xcalloc(n + 1, sizeof *path);
        size_t len = s_path(parent, root, goal, path);
        fprintf(out, "  chain of %zu campaign edge%s:\n", len - 1, len == 2 ? "" : "s");
        for (size_t k = 0; k + 1 < len; k++) {
            size_t x = reps[path[k]];
            size_t y = reps[path[k + 1]];
            camp_tiers_t t;
            camp_tiers(g.f[path[k]], g.f[path[k + 1]], cfg, &t);
            fprintf(out, "  identity %s (holds %s) --[", cluster_identity_of(c, x),
                    cluster_slot_name(c, x));
            s_print_camp_keys(out, c, g.f[path[k]], g.f[path[k + 1]]);
            fprintf(out, " | ");
            s_print_camp_tiers(out, &t);
            fprintf(out, "]--> identity %s (holds %s)\n", cluster_identity_of(c, y),
                    cluster_slot_name(c, y));
        }
        free(path);
    }
    free(g.f);
    free(parent);
    free(reps);
    return rc;
}

int
explain_pair(FILE *out, const cluster_t *c, size_t a, size_t b)
{
    s_print_obs(out, c, "A", a);
    s_print_obs(out, c, "B", b);
    fprintf(out, "\n");
    if (a == b) {
        fprintf(out, "A and B are the same observation\n");
        return 0;
    }
    int rc = s_explain_identity(out, c, a, b);
    fprintf(out, "\n");
    rc |= s_explain_campaign(out, c, a, b);
    return rc;
}
