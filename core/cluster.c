/*  cluster.c - the one-process clustering engine (see cluster.h).

    State per observation slot: its features for both layers and its input sequence. Each
    reconciliation recomputes the identity partition (part_identity), lets the identity
    lifecycle assign stable ids, aggregates campaign features per live identity, recomputes
    the campaign partition and lets the campaign lifecycle assign campaign ids. Member lists
    (CSR arrays) from the last reconciliation answer record queries.
*/
#include "cluster.h"

#include "digest.h"
#include "err.h"
#include "life.h"
#include "strtab.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Members grouped by an index (identity or campaign): list[start[i] .. start[i+1]). */
typedef struct {
    uint32_t *start; /* n + 1 offsets */
    uint32_t *list;  /* members */
    size_t n;        /* number of groups */
} s_csr_t;

struct cluster_t {
    ccfg_t cfg;                /* configuration */
    uint8_t ns[16];            /* deployment namespace for name-based ids */
    strtab_t *names;           /* observation id -> slot */
    strtab_t *strings;         /* every feature string */
    bool *alive;               /* per slot: holds a live observation */
    uint64_t *seq;             /* per slot: input sequence of its first upsert */
    uint64_t *hash;            /* per slot: obs_hash of its current record */
    ident_feat_t *feat;        /* per slot: identity-layer features */
    camp_obs_t *cobs;          /* per slot: campaign-layer contribution */
    bool *changed;             /* per slot: listed in ch_slots */
    size_t n_slots;            /* slots in use */
    size_t cap;                /* slots allocated */
    uint32_t *ch_slots;        /* slots changed since cluster_clear_changes(), in order */
    size_t n_ch_slots;         /* number of changed slots */
    size_t ch_slots_cap;       /* allocated */
    uint64_t inputs;           /* inputs applied */
    double clock;              /* latest session end seen: the stream's time */
    life_t *life_id;           /* identity lifecycle (elements = slots) */
    life_t *life_camp;         /* campaign lifecycle (elements = identity indexes) */
    uint64_t *id_formed_seq;   /* per identity: inputs applied when it was formed */
    size_t id_formed_cap;      /* allocated */
    uint64_t *camp_formed_seq; /* per campaign: inputs applied when it was formed */
    size_t camp_formed_cap;    /* allocated */
    uint32_t *slot_identity;   /* per slot: live identity at the last reconciliation */
    size_t slot_identity_cap;  /* allocated */
    uint32_t *id_campaign;     /* per identity: live campaign (live identities only) */
    s_csr_t comp_members;      /* per identity: slots of its component (live ids only) */
    s_csr_t lit_members;       /* per identity: alive slots whose literal id it is */
    s_csr_t camp_identities;   /* per campaign: its live identities */
    uint32_t *dense;           /* per identity: index into cfeats, or UINT32_MAX */
    camp_feat_t *cfeats;       /* campaign features of live identities */
    size_t n_cfeats;           /* number of live identities */
    u64map_t *generic;         /* generic keys at the last reconciliation */
    cluster_stats_t stats;     /* counters */
    uint64_t *slot_epoch;      /* per slot: epoch + 1 when changed after reconciliation epoch */
    uint64_t epoch;            /* reconciliations completed (s_reconcile runs) */
    uint64_t generic_print;    /* fingerprint of the generic set the cfeats were built with */
    cluster_tick_fn tick;      /* called during long reconciliations, or NULL */
    void *tick_arg;            /* its argument */
};

#define S_TICK_EVERY 4096 /* items between two ticks inside a phase */

void
cluster_set_tick(cluster_t *self, cluster_tick_fn fn, void *arg)
{
    self->tick = fn;
    self->tick_arg = arg;
}

void
cluster_tick(const cluster_t *self)
{
    if (self->tick) {
        self->tick(self->tick_arg);
    }
}

static const char *
s_slot_name(uint32_t e, void *arg)
{
    return strtab_str(((cluster_t *)arg)->names, e);
}

static const char *
s_identity_name(uint32_t e, void *arg)
{
    return life_id_str(((cluster_t *)arg)->life_id, e);
}

cluster_t *
cluster_new(const ccfg_t *cfg, const char *deployment)
{
    cluster_t *self = xcalloc(1, sizeof *self);
    self->cfg = *cfg;
    /* The deployment namespace: a name-based UUID under the RFC 4122 DNS namespace. */
    static const uint8_t dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char *name = xasprintf("cadre/%s", deployment);
    digest_uuid5_bytes(dns, name, strlen(name), self->ns);
    free(name);
    self->names = strtab_new();
    self->strings = strtab_new();
    self->life_id = life_new("identity", self->ns, s_slot_name, self);
    self->life_camp = life_new("campaign", self->ns, s_identity_name, self);
    self->generic = u64map_new();
    return self;
}

static void
s_csr_free(s_csr_t *c)
{
    free(c->start);
    free(c->list);
    memset(c, 0, sizeof *c);
}

static void
s_cfeats_free(cluster_t *self)
{
    for (size_t j = 0; j < self->n_cfeats; j++) {
        camp_feat_clear(&self->cfeats[j]);
    }
    free(self->cfeats);
    self->cfeats = NULL;
    self->n_cfeats = 0;
}

void
cluster_destroy(cluster_t **self_p)
{
    assert(self_p);
    cluster_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_slots; i++) {
        if (self->alive[i]) {
            ident_feat_clear(&self->feat[i]);
            camp_obs_clear(&self->cobs[i]);
        }
    }
    free(self->alive);
    free(self->changed);
    free(self->slot_epoch);
    free(self->ch_slots);
    free(self->seq);
    free(self->hash);
    free(self->feat);
    free(self->cobs);
    free(self->id_formed_seq);
    free(self->camp_formed_seq);
    free(self->slot_identity);
    free(self->id_campaign);
    free(self->dense);
    s_csr_free(&self->comp_members);
    s_csr_free(&self->lit_members);
    s_csr_free(&self->camp_identities);
    s_cfeats_free(self);
    u64map_destroy(&self->generic);
    life_destroy(&self->life_id);
    life_destroy(&self->life_camp);
    strtab_destroy(&self->names);
    strtab_destroy(&self->strings);
    free(self);
    *self_p = NULL;
}

static void
s_ensure_slots(cluster_t *self, size_t n)
{
    if (n <= self->cap) {
        return;
    }
    size_t cap = self->cap ? self->cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    self->alive = xrealloc(self->alive, cap * sizeof *self->alive);
    self->seq = xrealloc(self->seq, cap * sizeof *self->seq);
    self->hash = xrealloc(self->hash, cap * sizeof *self->hash);
    self->feat = xrealloc(self->feat, cap * sizeof *self->feat);
    self->cobs = xrealloc(self->cobs, cap * sizeof *self->cobs);
    self->changed = xrealloc(self->changed, cap * sizeof *self->changed);
    self->slot_epoch = xrealloc(self->slot_epoch, cap * sizeof *self->slot_epoch);
    for (size_t i = self->cap; i < cap; i++) {
        self->slot_epoch[i] = 0;
        self->alive[i] = false;
        self->seq[i] = 0;
        self->changed[i] = false;
    }
    self->cap = cap;
}

/*  Lists slot as changed (once). */
static void
s_touch_slot(cluster_t *self, uint32_t slot)
{
    self->slot_epoch[slot] = self->epoch + 1;
    if (!self->changed[slot]) {
        self->changed[slot] = true;
        xgrow(&self->ch_slots, &self->ch_slots_cap, self->n_ch_slots + 1);
        self->ch_slots[self->n_ch_slots++] = slot;
    }
}

bool
cluster_apply(cluster_t *self, const obs_t *obs)
{
    size_t len = strlen(obs->id);
    if (obs->op == OBS_DELETE) {
        self->inputs++;
        uint32_t slot = strtab_find(self->names, obs->id, len);
        if (slot != STRTAB_NONE && slot < self->n_slots && self->alive[slot]) {
            ident_feat_clear(&self->feat[slot]);
            camp_obs_clear(&self->cobs[slot]);
            self->alive[slot] = false;
            life_forget(self->life_id, slot);
            s_touch_slot(self, slot);
        }
        return true;
    }
    uint64_t h = obs_hash(obs);
    uint32_t slot = strtab_find(self->names, obs->id, len);
    if (slot != STRTAB_NONE && slot < self->n_slots && self->alive[slot] && self->hash[slot] == h) {
        return false; /* identical to the current record: nothing changes, not an input */
    }
    uint64_t seq = self->inputs++;
    slot = strtab_intern(self->names, obs->id, len);
    if (slot >= self->n_slots) {
        s_ensure_slots(self, (size_t)slot + 1);
        self->n_slots = (size_t)slot + 1;
    }
    s_touch_slot(self, slot);
    if (self->alive[slot]) {
        /* An upsert replaces the whole observation; it keeps its place in input order. */
        ident_feat_clear(&self->feat[slot]);
        camp_obs_clear(&self->cobs[slot]);
    } else {
        self->seq[slot] = seq;
        self->alive[slot] = true;
    }
    self->hash[slot] = h;
    ident_feat_build(&self->feat[slot], obs, self->strings);
    /* The name lives in self->names, whose strings never move, for as long as the slot. */
    camp_obs_build(&self->cobs[slot], obs, strtab_str(self->names, slot), self->strings);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        double end = obs->sessions[i].start + obs->sessions[i].duration;
        if (end > self->clock) {
            self->clock = end;
        }
    }
    return true;
}

/*  Groups n_items items by key[item] (values < n_groups, or UINT32_MAX to skip) into c,
    keeping the items' order within each group. */
static void
s_csr_build(s_csr_t *c, size_t n_groups, const uint32_t *items, size_t n_items, const uint32_t *key)
{
    s_csr_free(c);
    c->n = n_groups;
    c->start = xcalloc(n_groups + 1, sizeof *c->start);
    size_t total = 0;
    for (size_t i = 0; i < n_items; i++) {
        uint32_t k = key[items[i]];
        if (k != UINT32_MAX) {
            c->start[k + 1]++;
            total++;
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        c->start[g + 1] += c->start[g];
    }
    c->list = xcalloc(total + 1, sizeof *c->list);
    uint32_t *fill = xcalloc(n_groups + 1, sizeof *fill);
    memcpy(fill, c->start, (n_groups + 1) * sizeof *fill);
    for (size_t i = 0; i < n_items; i++) {
        uint32_t k = key[items[i]];
        if (k != UINT32_MAX) {
            c->list[fill[k]++] = items[i];
        }
    }
    free(fill);
}

/*  An alive slot and its sequence, for ordering. */
typedef struct {
    uint64_t seq;  /* input sequence */
    uint32_t slot; /* the slot */
} s_ord_t;

static int
s_cmp_ord(const void *a, const void *b)
{
    uint64_t x = ((const s_ord_t *)a)->seq;
    uint64_t y = ((const s_ord_t *)b)->seq;
    return (x > y) - (x < y);
}

/*  Event reporting state for one reconciliation. */
typedef struct {
    cluster_t *self;     /* the engine */
    cluster_event_fn fn; /* sink, or NULL */
    void *arg;           /* sink argument */
    int rc;              /* first negative sink return */
    const char **names;  /* scratch for member lists */
    size_t names_cap;    /* allocated */
} s_emit_t;

static void
s_emit(s_emit_t *em, ev_kind_t kind, const char *subject, const char *object, const char *prior,
       const char *const *members, size_t n_members)
{
    cluster_t *self = em->self;
    char name[64];
    snprintf(name, sizeof name, "event:%" PRIu64, self->stats.events++);
    char id[37];
    digest_uuid5(self->ns, name, strlen(name), id);
    if (!em->fn || em->rc != 0) {
        return;
    }
    ev_t ev = {.kind = kind,
               .id = id,
               .ts = self->clock,
               .subject = subject,
               .object = object,
               .prior = prior,
               .members = members,
               .n_members = n_members};
    int rc = em->fn(&ev, em->arg);
    if (rc < 0) {
        em->rc = rc;
    }
}

/*  A formed event with at most CLUSTER_FORMED_MAX members and a member list well under
    1 MiB once encoded (each member costs its length plus at most 5 bytes of framing); the
    rest follow as linked events. */
static void
s_emit_formed(s_emit_t *em, ev_kind_t formed, ev_kind_t linked, const char *id,
              const uint32_t *members, size_t n, const char *(*name)(uint32_t, void *), void *arg)
{
    size_t head = 0;
    size_t bytes = 0;
    xgrow(&em->names, &em->names_cap, (n < CLUSTER_FORMED_MAX ? n : CLUSTER_FORMED_MAX) + 1);
    while (head < n && head < CLUSTER_FORMED_MAX) {
        const char *m = name(members[head], arg);
        bytes += strlen(m) + 5;
        if (bytes > CLUSTER_FORMED_BYTES) {
            break;
        }
        em->names[head++] = m;
    }
    s_emit(em, formed, id, NULL, NULL, em->names, head);
    for (size_t i = head; i < n; i++) {
        s_emit(em, linked, id, name(members[i], arg), NULL, NULL, 0);
    }
}

static void
s_emit_identity_events(s_emit_t *em, const life_events_t *evs)
{
    cluster_t *self = em->self;
    const life_t *l = self->life_id;
    for (size_t i = 0; i < evs->n; i++) {
        if (i % S_TICK_EVERY == S_TICK_EVERY - 1) {
            cluster_tick(em->self);
        }
        const life_event_t *e = &evs->ev[i];
        const char *id = life_id_str(l, e->id);
        switch (e->kind) {
        case LIFE_FORMED:
            s_emit_formed(em, EV_IDENTITY_FORMED, EV_IDENTITY_LINKED, id, e->members, e->n_members,
                          s_slot_name, self);
            break;
        case LIFE_LINKED:
            s_emit(em, EV_IDENTITY_LINKED, id, strtab_str(self->names, e->element),
                   e->prior == LIFE_NONE ? NULL : life_id_str(l, e->prior), NULL, 0);
            break;
        case LIFE_MERGED:
            s_emit(em, EV_IDENTITY_MERGED, life_id_str(l, e->other), id, NULL, NULL, 0);
            break;
        case LIFE_UNMERGED:
            s_emit(em, EV_IDENTITY_UNMERGED, id, life_id_str(l, e->other), NULL, NULL, 0);
            break;
        }
    }
}

static void
s_emit_campaign_events(s_emit_t *em, const life_events_t *evs)
{
    cluster_t *self = em->self;
    const life_t *lc = self->life_camp;
    const life_t *li = self->life_id;
    for (size_t i = 0; i < evs->n; i++) {
        if (i % S_TICK_EVERY == S_TICK_EVERY - 1) {
            cluster_tick(em->self);
        }
        const life_event_t *e = &evs->ev[i];
        const char *c = life_id_str(lc, e->id);
        switch (e->kind) {
        case LIFE_FORMED:
            s_emit_formed(em, EV_CAMPAIGN_FORMED, EV_CAMPAIGN_IDENTITY_ASSIGNED, c, e->members,
                          e->n_members, s_identity_name, self);
            for (uint32_t k = 0; k < e->n_members; k++) {
                s_emit(em, EV_IDENTITY_CAMPAIGN_ASSIGNED, life_id_str(li, e->members[k]), c, NULL,
                       NULL, 0);
            }
            break;
        case LIFE_LINKED: {
            const char *ident = life_id_str(li, e->element);
            const char *prior = e->prior == LIFE_NONE ? NULL : life_id_str(lc, e->prior);
            s_emit(em, EV_CAMPAIGN_IDENTITY_ASSIGNED, c, ident, prior, NULL, 0);
            s_emit(em, EV_IDENTITY_CAMPAIGN_ASSIGNED, ident, c, prior, NULL, 0);
            break;
        }
        case LIFE_MERGED:
            s_emit(em, EV_CAMPAIGN_MERGED, life_id_str(lc, e->other), c, NULL, NULL, 0);
            break;
        case LIFE_UNMERGED:
            s_emit(em, EV_CAMPAIGN_UNMERGED, c, life_id_str(lc, e->other), NULL, NULL, 0);
            break;
        }
    }
}

static void
s_record_formed(uint64_t **arr, size_t *cap, size_t from, size_t to, uint64_t value)
{
    xgrow(arr, cap, to + 1);
    for (size_t i = from; i < to; i++) {
        (*arr)[i] = value;
    }
}

static int s_reconcile(cluster_t *self, const uint32_t *comp, cluster_event_fn fn, void *arg);

int
cluster_reconcile(cluster_t *self, cluster_event_fn fn, void *arg)
{
    size_t n = self->n_slots;
    uf_t *uf = uf_new(n);
    u64map_clear(self->generic);
    memset(&self->stats.id_part, 0, sizeof self->stats.id_part);
    part_identity(self->feat, self->alive, n, &self->cfg, uf, self->generic, &self->stats.id_part);
    uint32_t *comp = xcalloc(n + 1, sizeof *comp);
    for (size_t e = 0; e < n; e++) {
        if (self->alive[e]) {
            comp[e] = uf_find(uf, (uint32_t)e);
        }
    }
    uf_destroy(&uf);
    int rc = s_reconcile(self, comp, fn, arg);
    free(comp);
    return rc;
}

static void
s_copy_generic(uint64_t key, uint32_t value, void *arg)
{
    u64map_put(arg, key, value);
}

int
cluster_reconcile_with(cluster_t *self, const uint32_t *comp, size_t n, const u64map_t *generic,
                       const part_stats_t *id_stats, cluster_event_fn fn, void *arg)
{
    if (n != self->n_slots) {
        return -EINVAL;
    }
    u64map_clear(self->generic);
    if (generic) {
        u64map_each(generic, s_copy_generic, self->generic);
    }
    memset(&self->stats.id_part, 0, sizeof self->stats.id_part);
    if (id_stats) {
        self->stats.id_part = *id_stats;
    }
    self->stats.id_part.generic_keys = u64map_count(self->generic);
    return s_reconcile(self, comp, fn, arg);
}

uint32_t
cluster_intern(cluster_t *self, const char *s)
{
    return strtab_intern(self->strings, s, strlen(s));
}

static void
s_generic_mix(uint64_t key, uint32_t value, void *arg)
{
    uint64_t x = key * 0x9E3779B97F4A7C15ull ^ ((uint64_t)value + 0x632BE59BD9B4E019ull);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    *(uint64_t *)arg += x ^ (x >> 29);
}

/*  An order-independent fingerprint of the generic set (its size and a sum of mixed keys):
    campaign features are reused only while it stays the same. */
static uint64_t
s_generic_print(const u64map_t *generic)
{
    uint64_t acc = (uint64_t)u64map_count(generic) * 0xD6E8FEB86659FD93ull;
    u64map_each(generic, s_generic_mix, &acc);
    return acc;
}

/*  True when identity x has the same member slots, in the same order, as in old (the last
    reconciliation's grouping), and none of them changed since that reconciliation. */
static bool
s_same_members(const cluster_t *self, const s_csr_t *old, size_t x, uint32_t a, uint32_t b)
{
    uint32_t oa = old->start[x];
    uint32_t ob = old->start[x + 1];
    if (ob - oa != b - a || memcmp(old->list + oa, self->comp_members.list + a,
                                   (size_t)(b - a) * sizeof(uint32_t)) != 0) {
        return false;
    }
    for (uint32_t k = a; k < b; k++) {
        if (self->slot_epoch[self->comp_members.list[k]] > self->epoch) {
            return false;
        }
    }
    return true;
}

/*  Everything after the identity partition: lifecycle, campaign layer, events. */
static int
s_reconcile(cluster_t *self, const uint32_t *comp, cluster_event_fn fn, void *arg)
{
    size_t n = self->n_slots;
    self->stats.reconciliations++;
    s_ord_t *ord = xcalloc(n + 1, sizeof *ord);
    size_t n_alive = 0;
    for (size_t e = 0; e < n; e++) {
        if (self->alive[e]) {
            ord[n_alive].seq = self->seq[e];
            ord[n_alive].slot = (uint32_t)e;
            n_alive++;
        }
    }
    size_t ids_before = life_id_count(self->life_id);
    cluster_tick(self);
    const life_events_t *id_events = life_reconcile(self->life_id, n, self->alive, comp, self->seq);
    cluster_tick(self);
    size_t n_ids = life_id_count(self->life_id);
    s_record_formed(&self->id_formed_seq, &self->id_formed_cap, ids_before, n_ids, self->inputs);

    /* Alive slots in input order, grouped by live identity and by literal identity. */
    bool sorted = true; /* slots are numbered in arrival order: usually sorted already */
    for (size_t i = 1; sorted && i < n_alive; i++) {
        sorted = ord[i - 1].seq < ord[i].seq;
    }
    if (!sorted) {
        qsort(ord, n_alive, sizeof *ord, s_cmp_ord);
    }
    uint32_t *items = xcalloc(n_alive + 1, sizeof *items);
    for (size_t i = 0; i < n_alive; i++) {
        items[i] = ord[i].slot;
    }
    free(ord);
    xgrow(&self->slot_identity, &self->slot_identity_cap, n + 1);
    uint32_t *lit = xcalloc(n + 1, sizeof *lit);
    for (size_t e = 0; e < n; e++) {
        self->slot_identity[e] =
            self->alive[e] ? life_resolve_element(self->life_id, (uint32_t)e) : UINT32_MAX;
        lit[e] = self->alive[e] ? life_literal(self->life_id, (uint32_t)e) : UINT32_MAX;
    }
    s_csr_t old_members = self->comp_members; /* the last reconciliation's, for reuse */
    memset(&self->comp_members, 0, sizeof self->comp_members);
    s_csr_build(&self->comp_members, n_ids, items, n_alive, self->slot_identity);
    s_csr_build(&self->lit_members, n_ids, items, n_alive, lit);
    free(lit);
    free(items);
    cluster_tick(self);

    /* Campaign layer over live identities, in formation order. An identity whose members
       are the same slots in the same order as at the last reconciliation, none of them
       changed since, keeps its features (they depend on nothing else but the generic set). */
    uint64_t gprint = s_generic_print(self->generic);
    bool reuse = self->cfeats && gprint == self->generic_print;
    camp_feat_t *old_cfeats = self->cfeats;
    size_t old_n_cfeats = self->n_cfeats;
    uint32_t *old_dense = self->dense;
    self->dense = xcalloc(n_ids + 1, sizeof *self->dense);
    self->cfeats = xcalloc(n_ids + 1, sizeof *self->cfeats);
    self->n_cfeats = 0;
    const camp_obs_t **mem = NULL;
    size_t mem_cap = 0;
    for (size_t x = 0; x < n_ids; x++) {
        if (x % S_TICK_EVERY == 0) {
            cluster_tick(self);
        }
        self->dense[x] = UINT32_MAX;
        if (!life_is_live(self->life_id, (uint32_t)x)) {
            continue;
        }
        uint32_t a = self->comp_members.start[x];
        uint32_t b = self->comp_members.start[x + 1];
        camp_feat_t *cf = &self->cfeats[self->n_cfeats];
        self->dense[x] = (uint32_t)self->n_cfeats++;
        if (reuse && x < old_members.n && old_dense[x] != UINT32_MAX &&
            s_same_members(self, &old_members, x, a, b)) {
            *cf = old_cfeats[old_dense[x]];
            memset(&old_cfeats[old_dense[x]], 0, sizeof *cf); /* moved */
            continue;
        }
        xgrow(&mem, &mem_cap, (size_t)(b - a) + 1);
        for (uint32_t k = a; k < b; k++) {
            mem[k - a] = &self->cobs[self->comp_members.list[k]];
        }
        camp_feat_build(cf, mem, b - a, self->generic);
    }
    free(mem);
    for (size_t j = 0; j < old_n_cfeats; j++) {
        camp_feat_clear(&old_cfeats[j]);
    }
    free(old_cfeats);
    free(old_dense);
    s_csr_free(&old_members);
    self->generic_print = gprint;
    uf_t *ufc = uf_new(self->n_cfeats);
    memset(&self->stats.camp_part, 0, sizeof self->stats.camp_part);
    cluster_tick(self);
    part_campaign(self->cfeats, self->n_cfeats, &self->cfg, ufc, &self->stats.camp_part);
    cluster_tick(self);
    bool *alive_c = xcalloc(n_ids + 1, sizeof *alive_c);
    uint32_t *comp_c = xcalloc(n_ids + 1, sizeof *comp_c);
    uint64_t *seq_c = xcalloc(n_ids + 1, sizeof *seq_c);
    for (size_t x = 0; x < n_ids; x++) {
        alive_c[x] = self->dense[x] != UINT32_MAX;
        comp_c[x] = alive_c[x] ? uf_find(ufc, self->dense[x]) : 0;
        seq_c[x] = life_formed(self->life_id, (uint32_t)x);
    }
    uf_destroy(&ufc);
    size_t camps_before = life_id_count(self->life_camp);
    const life_events_t *camp_events =
        life_reconcile(self->life_camp, n_ids, alive_c, comp_c, seq_c);
    cluster_tick(self);
    size_t n_camps = life_id_count(self->life_camp);
    s_record_formed(&self->camp_formed_seq, &self->camp_formed_cap, camps_before, n_camps,
                    self->inputs);
    free(comp_c);
    free(seq_c);

    free(self->id_campaign);
    self->id_campaign = xcalloc(n_ids + 1, sizeof *self->id_campaign);
    uint32_t *live_ids = xcalloc(n_ids + 1, sizeof *live_ids);
    size_t n_live = 0;
    for (size_t x = 0; x < n_ids; x++) {
        self->id_campaign[x] =
            alive_c[x] ? life_resolve_element(self->life_camp, (uint32_t)x) : UINT32_MAX;
        if (alive_c[x]) {
            live_ids[n_live++] = (uint32_t)x;
        }
    }
    s_csr_build(&self->camp_identities, n_camps, live_ids, n_live, self->id_campaign);
    free(live_ids);
    free(alive_c);

    self->stats.inputs = self->inputs;
    self->stats.observations = n_alive;
    self->stats.identities = n_live;
    size_t live_camps = 0;
    for (size_t c = 0; c < n_camps; c++) {
        live_camps += life_is_live(self->life_camp, (uint32_t)c);
    }
    self->stats.campaigns = live_camps;

    self->epoch++; /* slots changed from now on are newer than this reconciliation */
    s_emit_t em = {.self = self, .fn = fn, .arg = arg};
    s_emit_identity_events(&em, id_events);
    s_emit_campaign_events(&em, camp_events);
    free(em.names);
    return em.rc;
}

cluster_stats_t
cluster_stats(const cluster_t *self)
{
    return self->stats;
}

const ccfg_t *
cluster_cfg(const cluster_t *self)
{
    return &self->cfg;
}

size_t
cluster_slots(const cluster_t *self)
{
    return self->n_slots;
}

bool
cluster_slot_alive(const cluster_t *self, size_t slot)
{
    return slot < self->n_slots && self->alive[slot];
}

const char *
cluster_slot_name(const cluster_t *self, size_t slot)
{
    return strtab_str(self->names, (uint32_t)slot);
}

uint64_t
cluster_slot_seq(const cluster_t *self, size_t slot)
{
    return self->seq[slot];
}

int64_t
cluster_find(const cluster_t *self, const char *id)
{
    uint32_t slot = strtab_find(self->names, id, strlen(id));
    return slot == STRTAB_NONE || slot >= self->n_slots ? -1 : (int64_t)slot;
}

const char *
cluster_identity_of(const cluster_t *self, size_t slot)
{
    if (!cluster_slot_alive(self, slot) || !self->slot_identity ||
        slot >= self->slot_identity_cap || self->slot_identity[slot] == UINT32_MAX) {
        return NULL;
    }
    return life_id_str(self->life_id, self->slot_identity[slot]);
}

const char *
cluster_campaign_of(const cluster_t *self, size_t slot)
{
    if (!cluster_identity_of(self, slot)) {
        return NULL;
    }
    uint32_t x = self->slot_identity[slot];
    if (x >= self->comp_members.n || self->id_campaign[x] == UINT32_MAX) {
        return NULL;
    }
    return life_id_str(self->life_camp, self->id_campaign[x]);
}

size_t
cluster_identity_count(const cluster_t *self)
{
    return self->comp_members.n;
}

size_t
cluster_campaign_count(const cluster_t *self)
{
    return self->camp_identities.n;
}

/*  Collects the strings with the given interned ids as a sorted unique list. */
static int
s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
s_strs_finish(const cluster_t *self, uint32_t *ids, size_t n, rec_strs_t *out)
{
    n = ident_sort_unique_u32(ids, (uint32_t)n);
    out->v = xcalloc(n + 1, sizeof *out->v);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        out->v[i] = strtab_str(self->strings, ids[i]);
    }
    qsort(out->v, n, sizeof *out->v, s_cmp_str);
}

/*  Scratch id lists for one record. */
typedef struct {
    uint32_t *v; /* ids */
    size_t n;    /* count */
    size_t cap;  /* allocated */
} s_ids_t;

static void
s_ids_add(s_ids_t *l, uint32_t id)
{
    if (id != IDENT_NONE) {
        xgrow(&l->v, &l->cap, l->n + 1);
        l->v[l->n++] = id;
    }
}

static void
s_seen(const camp_obs_t *co, bool *has, double *first, double *last)
{
    for (uint32_t s = 0; s < co->n_sess; s++) {
        if (!*has || co->sess[s].start < *first) {
            *first = co->sess[s].start;
        }
        if (!*has || co->sess[s].end > *last) {
            *last = co->sess[s].end;
        }
        *has = true;
    }
}

void
cluster_identity_record(const cluster_t *self, size_t i, rec_identity_t *rec)
{
    memset(rec, 0, sizeof *rec);
    const life_t *l = self->life_id;
    rec->id = life_id_str(l, (uint32_t)i);
    uint32_t into = life_merged_into(l, (uint32_t)i);
    rec->merged_into = into == LIFE_NONE ? NULL : life_id_str(l, into);
    uint32_t live = life_resolve(l, (uint32_t)i);
    if (live != LIFE_NONE && life_is_live(l, live) && self->id_campaign[live] != UINT32_MAX) {
        rec->campaign = life_id_str(self->life_camp, self->id_campaign[live]);
    }
    rec->formed_seq = self->id_formed_seq[i];
    /* A live identity speaks for its whole component; a merged-out one for its literal
       members. */
    const s_csr_t *c = life_is_live(l, (uint32_t)i) ? &self->comp_members : &self->lit_members;
    s_ids_t ja3 = {0}, ja4 = {0}, hassh = {0}, pay = {0}, c2 = {0};
    uint64_t *kds = NULL;
    size_t n_kd = 0;
    size_t kd_cap = 0;
    for (uint32_t k = c->start[i]; k < c->start[i + 1]; k++) {
        uint32_t slot = c->list[k];
        const ident_feat_t *f = &self->feat[slot];
        rec->observations++;
        s_ids_add(&ja3, f->ja3);
        s_ids_add(&ja4, f->ja4);
        s_ids_add(&hassh, f->hassh);
        for (uint32_t p = 0; p < f->n_payloads; p++) {
            s_ids_add(&pay, f->payloads[p]);
        }
        for (uint32_t p = 0; p < f->n_c2s; p++) {
            s_ids_add(&c2, f->c2s[p]);
        }
        const camp_obs_t *co = &self->cobs[slot];
        s_seen(co, &rec->has_seen, &rec->first_seen, &rec->last_seen);
        if (co->has_kd) {
            xgrow(&kds, &kd_cap, n_kd + 1);
            kds[n_kd++] = co->kd;
        }
    }
    s_strs_finish(self, ja3.v, ja3.n, &rec->ja3s);
    s_strs_finish(self, ja4.v, ja4.n, &rec->ja4s);
    s_strs_finish(self, hassh.v, hassh.n, &rec->hasshs);
    s_strs_finish(self, pay.v, pay.n, &rec->payloads);
    s_strs_finish(self, c2.v, c2.n, &rec->c2s);
    rec->has_kd = n_kd > 0;
    rec->kd = n_kd ? camp_centroid(kds, n_kd) : 0;
    free(kds);
    free(ja3.v);
    free(ja4.v);
    free(hassh.v);
    free(pay.v);
    free(c2.v);
}

void
cluster_campaign_record(const cluster_t *self, size_t i, rec_campaign_t *rec)
{
    memset(rec, 0, sizeof *rec);
    const life_t *l = self->life_camp;
    rec->id = life_id_str(l, (uint32_t)i);
    uint32_t into = life_merged_into(l, (uint32_t)i);
    rec->merged_into = into == LIFE_NONE ? NULL : life_id_str(l, into);
    rec->formed_seq = self->camp_formed_seq[i];
    s_ids_t pay = {0}, c2 = {0}, deckies = {0};
    bool seen[UKC_PHASE_COUNT] = {false};
    double first[UKC_PHASE_COUNT] = {0};
    const s_csr_t *ci = &self->camp_identities;
    for (uint32_t k = ci->start[i]; k < ci->start[i + 1]; k++) {
        uint32_t x = ci->list[k];
        rec->identities++;
        for (uint32_t m = self->comp_members.start[x]; m < self->comp_members.start[x + 1]; m++) {
            uint32_t slot = self->comp_members.list[m];
            const ident_feat_t *f = &self->feat[slot];
            const camp_obs_t *co = &self->cobs[slot];
            rec->observations++;
            for (uint32_t p = 0; p < f->n_payloads; p++) {
                s_ids_add(&pay, f->payloads[p]);
            }
            for (uint32_t p = 0; p < f->n_c2s; p++) {
                s_ids_add(&c2, f->c2s[p]);
            }
            s_seen(co, &rec->has_seen, &rec->first_seen, &rec->last_seen);
            for (uint32_t s = 0; s < co->n_sess; s++) {
                const camp_sess_t *cs = &co->sess[s];
                s_ids_add(&deckies, cs->decky);
                if (!seen[cs->phase] || cs->start < first[cs->phase]) {
                    first[cs->phase] = cs->start;
                    seen[cs->phase] = true;
                }
            }
        }
    }
    s_strs_finish(self, pay.v, pay.n, &rec->payloads);
    s_strs_finish(self, c2.v, c2.n, &rec->c2s);
    s_strs_finish(self, deckies.v, deckies.n, &rec->deckies);
    free(pay.v);
    free(c2.v);
    free(deckies.v);
    rec->phases = xcalloc(UKC_PHASE_COUNT, sizeof *rec->phases);
    for (int p = 0; p < UKC_PHASE_COUNT; p++) {
        if (seen[p]) {
            rec->phases[rec->n_phases].phase = (ukc_phase_t)p;
            rec->phases[rec->n_phases].first = first[p];
            rec->n_phases++;
        }
    }
}

const ident_feat_t *
cluster_ident_feat(const cluster_t *self, size_t slot)
{
    return cluster_slot_alive(self, slot) ? &self->feat[slot] : NULL;
}

const camp_feat_t *
cluster_camp_feat_of(const cluster_t *self, size_t slot)
{
    if (!cluster_identity_of(self, slot)) {
        return NULL;
    }
    uint32_t x = self->slot_identity[slot];
    return self->dense[x] == UINT32_MAX ? NULL : &self->cfeats[self->dense[x]];
}

const strtab_t *
cluster_strings(const cluster_t *self)
{
    return self->strings;
}

bool
cluster_key_generic(const cluster_t *self, uint64_t key)
{
    return u64map_get(self->generic, key) != U64MAP_NONE;
}

/*  --------------------------------------------------------------------------------------
    Snapshots and recovery */

cluster_counters_t
cluster_counters(const cluster_t *self)
{
    return (cluster_counters_t){.inputs = self->inputs,
                                .clock = self->clock,
                                .events = self->stats.events,
                                .reconciliations = self->stats.reconciliations};
}

life_t *
cluster_life(cluster_t *self, cluster_layer_t layer)
{
    return layer == CLUSTER_IDENTITY ? self->life_id : self->life_camp;
}

uint64_t
cluster_formed_seq(const cluster_t *self, cluster_layer_t layer, size_t id)
{
    if (layer == CLUSTER_IDENTITY) {
        assert(id < life_id_count(self->life_id));
        return self->id_formed_seq[id];
    }
    assert(id < life_id_count(self->life_camp));
    return self->camp_formed_seq[id];
}

size_t
cluster_changed_slots(const cluster_t *self)
{
    return self->n_ch_slots;
}

size_t
cluster_changed_slot(const cluster_t *self, size_t i)
{
    assert(i < self->n_ch_slots);
    return self->ch_slots[i];
}

void
cluster_clear_changes(cluster_t *self)
{
    for (size_t i = 0; i < self->n_ch_slots; i++) {
        self->changed[self->ch_slots[i]] = false;
    }
    self->n_ch_slots = 0;
    life_clear_changes(self->life_id);
    life_clear_changes(self->life_camp);
}

int
cluster_restore_slot(cluster_t *self, const char *name, bool alive, uint64_t seq, const obs_t *obs)
{
    size_t len = strlen(name);
    if (len == 0 || strtab_find(self->names, name, len) != STRTAB_NONE ||
        (alive && (!obs || obs->op == OBS_DELETE || !obs->id || strcmp(obs->id, name) != 0)) ||
        (!alive && obs)) {
        return -EINVAL;
    }
    uint32_t slot = strtab_intern(self->names, name, len);
    assert(slot == self->n_slots);
    s_ensure_slots(self, (size_t)slot + 1);
    self->n_slots = (size_t)slot + 1;
    self->alive[slot] = alive;
    self->seq[slot] = seq;
    if (alive) {
        self->hash[slot] = obs_hash(obs);
        ident_feat_build(&self->feat[slot], obs, self->strings);
        camp_obs_build(&self->cobs[slot], obs, strtab_str(self->names, slot), self->strings);
    }
    return 0;
}

int
cluster_restore_formed_seq(cluster_t *self, cluster_layer_t layer, size_t id, uint64_t seq)
{
    bool identity = layer == CLUSTER_IDENTITY;
    const life_t *l = identity ? self->life_id : self->life_camp;
    if (id >= life_id_count(l)) {
        return -EINVAL;
    }
    uint64_t **arr = identity ? &self->id_formed_seq : &self->camp_formed_seq;
    size_t *cap = identity ? &self->id_formed_cap : &self->camp_formed_cap;
    xgrow(arr, cap, id + 1);
    (*arr)[id] = seq;
    return 0;
}

void
cluster_restore_counters(cluster_t *self, const cluster_counters_t *counters)
{
    self->inputs = counters->inputs;
    self->clock = counters->clock;
    self->stats.inputs = counters->inputs;
    self->stats.events = counters->events;
    self->stats.reconciliations = counters->reconciliations;
}

int
cluster_rebuild(cluster_t *self, const uint32_t *comp, size_t n, const u64map_t *generic,
                const part_stats_t *id_stats)
{
    cluster_counters_t before = cluster_counters(self);
    size_t changes = life_changed_elements(self->life_id) + life_changed_ids(self->life_id) +
                     life_changed_elements(self->life_camp) + life_changed_ids(self->life_camp);
    int rc = cluster_reconcile_with(self, comp, n, generic, id_stats, NULL, NULL);
    if (rc != 0) {
        return rc;
    }
    size_t after = life_changed_elements(self->life_id) + life_changed_ids(self->life_id) +
                   life_changed_elements(self->life_camp) + life_changed_ids(self->life_camp);
    self->stats.reconciliations = before.reconciliations;
    if (self->stats.events != before.events || after != changes) {
        return CADRE_EMISMATCH;
    }
    return 0;
}
