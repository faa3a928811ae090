/*  cluster.c - the one-process clustering engine (see cluster.h).

    State per observation slot: its features for both layers and its input sequence. A
    reconciliation takes the identity partition over a closed set of slots (all of them,
    or, from the merger, the components that may have changed), lets the identity
    lifecycle re-evaluate the ids living there (life_reconcile_some), rebuilds the member
    lists and campaign features of the identities it touched, and recomputes the campaign
    partition over the identities whose components may have changed: those whose features
    changed, their candidates (through an index of the campaign blocking keys) and the
    old campaigns of both. Everything else keeps its state, so the cost follows the change
    since the last reconciliation, not the size of the model (docs/bench.md "Incremental
    reconciliation"). Per-identity and per-campaign member lists answer record queries.
*/
#include "cluster.h"

#include "digest.h"
#include "err.h"
#include "life.h"
#include "strtab.h"
#include "ukc.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/*  A growable list of 32-bit ids. */
typedef struct {
    uint32_t *v; /* items */
    size_t n;    /* count */
    size_t cap;  /* allocated */
} s_vec_t;

static void
s_vec_push(s_vec_t *l, uint32_t x)
{
    xgrow(&l->v, &l->cap, l->n + 1);
    l->v[l->n++] = x;
}

static void
s_vec_free(s_vec_t *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

/*  The identities listed under one campaign blocking key. */
typedef struct {
    s_vec_t held;    /* the identities, in no particular order */
    uint64_t walked; /* the campaign pass (ck_pass) that last walked held, 0 = none */
} s_ck_list_t;

/*  An identity to take out of a candidate-index list at the next s_ck_flush(). */
typedef struct {
    uint32_t list; /* index into ck_lists */
    uint32_t x;    /* the identity */
} s_ck_gone_t;

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
    uint32_t *slot_identity;   /* per slot: live identity at the last reconciliation */
    uint32_t *comp;            /* per slot: component label of the reconciliation running */
    size_t n_slots;            /* slots in use */
    size_t cap;                /* slots allocated */
    size_t n_alive;            /* live observations */
    uint32_t *ch_slots;        /* slots changed since cluster_clear_changes(), in order */
    size_t n_ch_slots;         /* number of changed slots */
    size_t ch_slots_cap;       /* allocated */
    s_vec_t dirty;             /* slots changed since the last reconciliation */
    uint64_t inputs;           /* inputs applied */
    double clock;              /* latest session end seen: the stream's time */
    life_t *life_id;           /* identity lifecycle (elements = slots) */
    life_t *life_camp;         /* campaign lifecycle (elements = identity indexes) */
    uint64_t *id_formed_seq;   /* per identity: inputs applied when it was formed */
    size_t id_formed_cap;      /* allocated */
    uint64_t *camp_formed_seq; /* per campaign: inputs applied when it was formed */
    size_t camp_formed_cap;    /* allocated */
    /* Per identity id (ids_cap allocated, n_ids_seen known at the last reconciliation). */
    s_vec_t *id_mem;       /* live identity: the slots of its component, in input order */
    s_vec_t *id_lit;       /* alive slots whose literal id it is, in input order */
    uint32_t *id_campaign; /* live campaign of a live identity, else UINT32_MAX */
    camp_feat_t *cf;       /* campaign features of a live identity */
    bool *cf_ok;           /* cf holds features */
    bool *c_alive;         /* campaign-layer element alive: the identity is live */
    uint32_t *c_comp;      /* campaign-layer component label */
    uint64_t *c_seq;       /* campaign-layer ordering key: formation order */
    uint8_t *imark;        /* scratch marks, all 0 between reconciliations */
    size_t ids_cap;        /* allocated */
    size_t n_ids_seen;     /* identity ids at the last reconciliation */
    /* Per campaign id. */
    s_vec_t *camp_mem;   /* live campaign: its live identities in formation order */
    uint8_t *cmark;      /* scratch marks, all 0 between reconciliations */
    size_t camps_cap;    /* allocated */
    size_t n_camps_seen; /* campaign ids at the last reconciliation */
    /* Campaign candidate index: blocking key -> identities listed under it. */
    u64map_t *ck_idx;       /* key -> index into ck_lists */
    s_ck_list_t *ck_lists;  /* identities per key */
    size_t n_ck;            /* keys */
    size_t ck_cap;          /* allocated */
    uint64_t ck_pass;       /* campaign passes run (numbers s_ck_list_t.walked) */
    s_ck_gone_t *ck_gone;   /* identities to take out of lists at the next s_ck_flush() */
    size_t n_ck_gone;       /* their number */
    size_t ck_gone_cap;     /* allocated */
    uint32_t *ck_count;     /* per identity: scratch count for s_ck_flush(), 0 between */
    u64map_t *generic;      /* generic keys at the last reconciliation */
    cluster_stats_t stats;  /* counters */
    uint64_t *slot_epoch;   /* per slot: epoch + 1 when changed after reconciliation epoch */
    uint64_t epoch;         /* reconciliations completed (s_reconcile runs) */
    uint64_t generic_print; /* fingerprint of the generic payload/C2 set cf was built with */
    bool cf_built;          /* campaign features were built once */
    struct s_upass *probe;  /* the campaign pass running, for the index callbacks */
    cluster_tick_fn tick;   /* called during long reconciliations, or NULL */
    void *tick_arg;         /* its argument */
};

#define S_TICK_EVERY 4096 /* items between two ticks inside a phase */

void
cluster_set_tick(cluster_t *self, cluster_tick_fn fn, void *arg)
{
    self->tick = fn;
    self->tick_arg = arg;
    life_set_tick(self->life_id, fn, arg);
    life_set_tick(self->life_camp, fn, arg);
}

void
cluster_get_tick(const cluster_t *self, cluster_tick_fn *fn, void **arg)
{
    *fn = self->tick;
    *arg = self->tick_arg;
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
    self->ck_idx = u64map_new();
    return self;
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
    for (size_t x = 0; x < self->ids_cap; x++) {
        s_vec_free(&self->id_mem[x]);
        s_vec_free(&self->id_lit[x]);
        if (self->cf_ok[x]) {
            camp_feat_clear(&self->cf[x]);
        }
    }
    for (size_t c = 0; c < self->camps_cap; c++) {
        s_vec_free(&self->camp_mem[c]);
    }
    for (size_t k = 0; k < self->n_ck; k++) {
        s_vec_free(&self->ck_lists[k].held);
    }
    free(self->id_mem);
    free(self->id_lit);
    free(self->cf);
    free(self->cf_ok);
    free(self->c_alive);
    free(self->c_comp);
    free(self->c_seq);
    free(self->imark);
    free(self->camp_mem);
    free(self->cmark);
    free(self->ck_lists);
    free(self->ck_gone);
    free(self->ck_count);
    u64map_destroy(&self->ck_idx);
    s_vec_free(&self->dirty);
    free(self->comp);
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
    self->slot_identity = xrealloc(self->slot_identity, cap * sizeof *self->slot_identity);
    self->comp = xrealloc(self->comp, cap * sizeof *self->comp);
    for (size_t i = self->cap; i < cap; i++) {
        self->slot_epoch[i] = 0;
        self->slot_identity[i] = UINT32_MAX;
        self->comp[i] = 0;
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
    if (self->slot_epoch[slot] != self->epoch + 1) {
        self->slot_epoch[slot] = self->epoch + 1;
        s_vec_push(&self->dirty, slot);
    }
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
            self->n_alive--;
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
        self->n_alive++;
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

static int s_reconcile(cluster_t *self, const uint32_t *slots, size_t k, cluster_event_fn fn,
                       void *arg);

int
cluster_reconcile(cluster_t *self, cluster_event_fn fn, void *arg)
{
    size_t n = self->n_slots;
    uf_t *uf = uf_new(n);
    u64map_clear(self->generic);
    memset(&self->stats.id_part, 0, sizeof self->stats.id_part);
    part_identity(self->feat, self->alive, n, &self->cfg, uf, self->generic, &self->stats.id_part);
    for (size_t e = 0; e < n; e++) {
        if (self->alive[e]) {
            self->comp[e] = uf_find(uf, (uint32_t)e);
        }
    }
    uf_destroy(&uf);
    return s_reconcile(self, NULL, 0, fn, arg);
}

static void
s_copy_generic(uint64_t key, uint32_t value, void *arg)
{
    u64map_put(arg, key, value);
}

/*  Takes the generic keys and partition statistics handed in by the merger. */
static void
s_take_generic(cluster_t *self, const u64map_t *generic, const part_stats_t *id_stats)
{
    u64map_clear(self->generic);
    if (generic) {
        u64map_each(generic, s_copy_generic, self->generic);
    }
    memset(&self->stats.id_part, 0, sizeof self->stats.id_part);
    if (id_stats) {
        self->stats.id_part = *id_stats;
    }
    self->stats.id_part.generic_keys = u64map_count(self->generic);
}

int
cluster_reconcile_with(cluster_t *self, const uint32_t *comp, size_t n, const u64map_t *generic,
                       const part_stats_t *id_stats, cluster_event_fn fn, void *arg)
{
    if (n != self->n_slots) {
        return -EINVAL;
    }
    s_take_generic(self, generic, id_stats);
    for (size_t e = 0; e < n; e++) {
        if (self->alive[e]) {
            self->comp[e] = comp[e];
        }
    }
    return s_reconcile(self, NULL, 0, fn, arg);
}

int
cluster_reconcile_some(cluster_t *self, const uint32_t *slots, const uint32_t *labels, size_t k,
                       const u64map_t *generic, const part_stats_t *id_stats, cluster_event_fn fn,
                       void *arg)
{
    /* Every slot changed since the last reconciliation must be listed (its component may
       have changed); the merger lists them, so a miss is a caller's error. */
    int rc = 0;
    for (size_t i = 0; i < k; i++) {
        if (slots[i] >= self->n_slots) {
            rc = -EINVAL;
            break;
        }
        self->slot_epoch[slots[i]] |= (uint64_t)1 << 63; /* listed */
    }
    for (size_t i = 0; rc == 0 && i < self->dirty.n; i++) {
        uint32_t e = self->dirty.v[i];
        if (self->alive[e] && !(self->slot_epoch[e] >> 63)) {
            rc = -EINVAL;
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (slots[i] < self->n_slots) {
            self->slot_epoch[slots[i]] &= ~((uint64_t)1 << 63);
        }
    }
    if (rc != 0) {
        return rc;
    }
    s_take_generic(self, generic, id_stats);
    for (size_t i = 0; i < k; i++) {
        self->comp[slots[i]] = labels[i];
    }
    return s_reconcile(self, slots, k, fn, arg);
}

uint32_t
cluster_intern(cluster_t *self, const char *s)
{
    return strtab_intern(self->strings, s, strlen(s));
}

static void
s_generic_mix(uint64_t key, uint32_t value, void *arg)
{
    uint64_t family = key >> 32;
    if (family != KEY_PAYLOAD && family != KEY_C2) {
        return; /* campaign features read only the generic payloads and C2s */
    }
    uint64_t x = key * 0x9E3779B97F4A7C15ull ^ ((uint64_t)value + 0x632BE59BD9B4E019ull);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    *(uint64_t *)arg += x ^ (x >> 29);
}

/*  An order-independent fingerprint of the generic payload and C2 keys (a sum of mixed
    keys): campaign features are reused only while it stays the same. */
static uint64_t
s_generic_print(const u64map_t *generic)
{
    uint64_t acc = 0xD6E8FEB86659FD93ull;
    u64map_each(generic, s_generic_mix, &acc);
    return acc;
}

/*  Grows the per-identity arrays to hold n ids. */
static void
s_ensure_ids(cluster_t *self, size_t n)
{
    if (n <= self->ids_cap) {
        return;
    }
    size_t cap = self->ids_cap ? self->ids_cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    self->id_mem = xrealloc(self->id_mem, cap * sizeof *self->id_mem);
    self->id_lit = xrealloc(self->id_lit, cap * sizeof *self->id_lit);
    self->id_campaign = xrealloc(self->id_campaign, cap * sizeof *self->id_campaign);
    self->cf = xrealloc(self->cf, cap * sizeof *self->cf);
    self->cf_ok = xrealloc(self->cf_ok, cap * sizeof *self->cf_ok);
    self->c_alive = xrealloc(self->c_alive, cap * sizeof *self->c_alive);
    self->c_comp = xrealloc(self->c_comp, cap * sizeof *self->c_comp);
    self->c_seq = xrealloc(self->c_seq, cap * sizeof *self->c_seq);
    self->imark = xrealloc(self->imark, cap * sizeof *self->imark);
    self->ck_count = xrealloc(self->ck_count, cap * sizeof *self->ck_count);
    for (size_t x = self->ids_cap; x < cap; x++) {
        memset(&self->id_mem[x], 0, sizeof self->id_mem[x]);
        memset(&self->id_lit[x], 0, sizeof self->id_lit[x]);
        memset(&self->cf[x], 0, sizeof self->cf[x]);
        self->id_campaign[x] = UINT32_MAX;
        self->cf_ok[x] = false;
        self->c_alive[x] = false;
        self->c_comp[x] = 0;
        self->c_seq[x] = x;
        self->imark[x] = 0;
        self->ck_count[x] = 0;
    }
    self->ids_cap = cap;
}

/*  Grows the per-campaign arrays to hold n ids. */
static void
s_ensure_camps(cluster_t *self, size_t n)
{
    if (n <= self->camps_cap) {
        return;
    }
    size_t cap = self->camps_cap ? self->camps_cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    self->camp_mem = xrealloc(self->camp_mem, cap * sizeof *self->camp_mem);
    self->cmark = xrealloc(self->cmark, cap * sizeof *self->cmark);
    for (size_t c = self->camps_cap; c < cap; c++) {
        memset(&self->camp_mem[c], 0, sizeof self->camp_mem[c]);
        self->cmark[c] = 0;
    }
    self->camps_cap = cap;
}

/*  --- The campaign candidate index ---
    Every live identity is listed under its campaign blocking keys (part.h): each infra
    value, each handoff event as (decky, OUT or IN, time bucket of the handoff window) and
    each keystroke band. Two identities that part_campaign() could pair share a key, or hold
    an OUT and an IN event on one decky in the same or adjacent buckets, so the lists give
    a superset of every identity's candidates. */

#define S_CK_OUT 1  /* handoff OUT event */
#define S_CK_IN 2   /* handoff IN event */
#define S_CK_BAND 3 /* keystroke band */

/*  A hashed key (top bit set: infra keys, CCFG_KEY(KEY_PAYLOAD, v), never have it). */
static uint64_t
s_ck_key(uint64_t tag, uint64_t a, int64_t b)
{
    uint64_t w[3] = {tag, a, (uint64_t)b};
    return XXH3_64bits(w, sizeof w) | ((uint64_t)1 << 63);
}

static int64_t
s_ck_bucket(const cluster_t *self, double t)
{
    double w = self->cfg.handoff_window > 0 ? self->cfg.handoff_window : 1.0;
    double b = floor(t / w);
    return b > -9e18 && b < 9e18 ? (int64_t)b : 0;
}

/*  Calls fn for every key identity features f are listed under (probe false), or every key
    whose list may hold its candidates (probe true). */
static void
s_ck_keys(cluster_t *self, const camp_feat_t *f, bool probe,
          void (*fn)(cluster_t *, uint64_t, uint32_t), uint32_t x)
{
    for (uint32_t i = 0; i < f->n_infra; i++) {
        fn(self, CCFG_KEY(KEY_PAYLOAD, f->infra[i]), x);
    }
    for (uint32_t d = 0; d < f->n_deckies; d++) {
        const camp_decky_t *cd = &f->deckies[d];
        if (ukc_handoff_out(cd->last_phase)) {
            int64_t b = s_ck_bucket(self, cd->last_seen);
            if (probe) { /* IN events at or after it, within the window */
                fn(self, s_ck_key(S_CK_IN, cd->decky, b), x);
                fn(self, s_ck_key(S_CK_IN, cd->decky, b + 1), x);
            } else {
                fn(self, s_ck_key(S_CK_OUT, cd->decky, b), x);
            }
        }
        if (ukc_handoff_in(cd->first_phase)) {
            int64_t b = s_ck_bucket(self, cd->first_seen);
            if (probe) { /* OUT events at or before it, within the window */
                fn(self, s_ck_key(S_CK_OUT, cd->decky, b - 1), x);
                fn(self, s_ck_key(S_CK_OUT, cd->decky, b), x);
            } else {
                fn(self, s_ck_key(S_CK_IN, cd->decky, b), x);
            }
        }
    }
    int dmax = ccfg_kd_max_distance(&self->cfg);
    if (f->has_kd && dmax >= 0) {
        unsigned bands = (unsigned)dmax + 1;
        for (unsigned b = 0; b < bands; b++) {
            unsigned lo = 64 * b / bands;
            unsigned hi = 64 * (b + 1) / bands;
            uint64_t width = hi - lo;
            uint64_t mask = width >= 64 ? UINT64_MAX : (((uint64_t)1 << width) - 1);
            fn(self, s_ck_key(S_CK_BAND, b, (int64_t)((f->kd >> lo) & mask)), x);
        }
    }
}

static void
s_ck_add_key(cluster_t *self, uint64_t key, uint32_t x)
{
    uint32_t i = u64map_get_or_put(self->ck_idx, key, (uint32_t)self->n_ck);
    if (i == self->n_ck) {
        xgrow(&self->ck_lists, &self->ck_cap, self->n_ck + 1);
        memset(&self->ck_lists[self->n_ck], 0, sizeof self->ck_lists[0]);
        self->n_ck++;
    }
    s_vec_push(&self->ck_lists[i].held, x);
}

/*  Takes x out of key's list at the next s_ck_flush(): one walk of a list then takes out
    every identity leaving it, where searching the list for each would cost its length per
    identity (quadratic when every identity holding one key is rebuilt). */
static void
s_ck_remove_key(cluster_t *self, uint64_t key, uint32_t x)
{
    uint32_t i = u64map_get(self->ck_idx, key);
    if (i != U64MAP_NONE) {
        xgrow(&self->ck_gone, &self->ck_gone_cap, self->n_ck_gone + 1);
        self->ck_gone[self->n_ck_gone++] = (s_ck_gone_t){.list = i, .x = x};
    }
}

static int
s_cmp_gone(const void *a, const void *b)
{
    const s_ck_gone_t *p = a;
    const s_ck_gone_t *q = b;
    if (p->list != q->list) {
        return p->list < q->list ? -1 : 1;
    }
    return (p->x > q->x) - (p->x < q->x);
}

/*  Carries out the pending removals: each list with some is walked once, taking out one
    occurrence per removal (the order of a list does not matter: its walks only collect
    sets). */
static void
s_ck_flush(cluster_t *self)
{
    s_ck_gone_t *g = self->ck_gone;
    size_t n = self->n_ck_gone;
    if (n > 1) {
        qsort(g, n, sizeof *g, s_cmp_gone);
    }
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && g[b].list == g[a].list) {
            self->ck_count[g[b++].x]++;
        }
        s_vec_t *l = &self->ck_lists[g[a].list].held;
        size_t left = b - a;
        size_t j = 0;
        while (left > 0 && j < l->n) {
            self->stats.index_visits++;
            uint32_t y = l->v[j];
            if (self->ck_count[y] > 0) {
                self->ck_count[y]--;
                left--;
                l->v[j] = l->v[--l->n];
            } else {
                j++;
            }
        }
        assert(left == 0); /* every identity taken out was listed */
        for (; a < b; a++) {
            self->ck_count[g[a].x] = 0;
        }
    }
    self->n_ck_gone = 0;
}

/*  Scratch of one reconciliation's campaign pass: the identities to recompute. */
typedef struct s_upass {
    s_vec_t u; /* identities, each once (imark) */
    s_vec_t c; /* campaigns already expanded (cmark) */
} s_upass_t;

/*  Adds every identity of campaign c at the last reconciliation (once per pass). */
static void
s_u_add_campaign(cluster_t *self, s_upass_t *up, uint32_t c)
{
    if (c == UINT32_MAX || c >= self->camps_cap || self->cmark[c]) {
        return;
    }
    self->cmark[c] = 1;
    s_vec_push(&up->c, c);
    const s_vec_t *m = &self->camp_mem[c];
    for (size_t i = 0; i < m->n; i++) {
        if (!(self->imark[m->v[i]] & 1)) {
            self->imark[m->v[i]] |= 1;
            s_vec_push(&up->u, m->v[i]);
        }
    }
}

/*  Adds identity y and every identity of its campaign at the last reconciliation. */
static void
s_u_add(cluster_t *self, s_upass_t *up, uint32_t y)
{
    if (!(self->imark[y] & 1)) {
        self->imark[y] |= 1;
        s_vec_push(&up->u, y);
    }
    s_u_add_campaign(self, up, self->id_campaign[y]);
}

/*  Adds every identity listed under key, and their campaigns, to the pass. A list is
    walked once per pass: a second walk would find every holder (and its campaign) already
    added, so it is skipped, and a key shared by every identity costs its length once
    instead of once per identity probing it (quadratic; docs/bench.md, skew_c2). */
static void
s_ck_probe_key(cluster_t *self, uint64_t key, uint32_t x)
{
    (void)x;
    uint32_t i = u64map_get(self->ck_idx, key);
    if (i == U64MAP_NONE || self->ck_lists[i].walked == self->ck_pass) {
        return;
    }
    self->ck_lists[i].walked = self->ck_pass;
    const s_vec_t *l = &self->ck_lists[i].held;
    self->stats.index_visits += l->n;
    for (size_t j = 0; j < l->n; j++) {
        s_u_add(self, self->probe, l->v[j]);
    }
}

static int
s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/*  (Re)builds the campaign features of identity x from its member list, keeping the
    candidate index current. */
static void
s_build_cf(cluster_t *self, uint32_t x, const camp_obs_t ***mem, size_t *mem_cap)
{
    if (self->cf_ok[x]) {
        s_ck_keys(self, &self->cf[x], false, s_ck_remove_key, x);
        camp_feat_clear(&self->cf[x]);
    }
    const s_vec_t *m = &self->id_mem[x];
    xgrow(mem, mem_cap, m->n + 1);
    for (size_t k = 0; k < m->n; k++) {
        (*mem)[k] = &self->cobs[m->v[k]];
    }
    camp_feat_build(&self->cf[x], *mem, m->n, self->generic);
    self->cf_ok[x] = true;
    s_ck_keys(self, &self->cf[x], false, s_ck_add_key, x);
}

/*  Drops the campaign features of identity x (no longer live). */
static void
s_drop_cf(cluster_t *self, uint32_t x)
{
    if (self->cf_ok[x]) {
        s_ck_keys(self, &self->cf[x], false, s_ck_remove_key, x);
        camp_feat_clear(&self->cf[x]);
        self->cf_ok[x] = false;
    }
}

/*  True when a member list equals old and none of its slots changed since the last
    reconciliation. */
static bool
s_same_members(const cluster_t *self, const s_vec_t *old, const s_vec_t *now)
{
    if (old->n != now->n || (now->n && memcmp(old->v, now->v, now->n * sizeof *now->v) != 0)) {
        return false;
    }
    for (size_t k = 0; k < now->n; k++) {
        if (self->slot_epoch[now->v[k]] > self->epoch) {
            return false;
        }
    }
    return true;
}

/*  The listed alive slots (all when slots is NULL) in input order. */
static s_vec_t
s_listed_in_order(const cluster_t *self, const uint32_t *slots, size_t k)
{
    size_t listed = slots ? k : self->n_slots;
    s_ord_t *ord = xcalloc(listed + 1, sizeof *ord);
    size_t n = 0;
    for (size_t i = 0; i < listed; i++) {
        uint32_t e = slots ? slots[i] : (uint32_t)i;
        if (self->alive[e]) {
            ord[n].seq = self->seq[e];
            ord[n].slot = e;
            n++;
        }
    }
    bool sorted = true; /* slots are numbered in arrival order: often sorted already */
    for (size_t i = 1; sorted && i < n; i++) {
        sorted = ord[i - 1].seq < ord[i].seq;
    }
    if (!sorted) {
        qsort(ord, n, sizeof *ord, s_cmp_ord);
    }
    s_vec_t out = {0};
    xgrow(&out.v, &out.cap, n + 1);
    for (size_t i = 0; i < n; i++) {
        out.v[i] = ord[i].slot;
    }
    out.n = n;
    free(ord);
    return out;
}

/*  The identity layer after its lifecycle ran over the listed slots: the slots' live
    identities, the member lists of every identity the lifecycle touched, and the campaign
    features of the live ones whose members changed. Appends to a the identities whose
    campaign features changed (built, rebuilt or dropped). */
static void
s_identity_pass(cluster_t *self, const uint32_t *slots, size_t k, bool rebuild_all, s_vec_t *a)
{
    life_t *l = self->life_id;
    size_t listed = slots ? k : self->n_slots;
    for (size_t i = 0; i < listed; i++) {
        uint32_t e = slots ? slots[i] : (uint32_t)i;
        self->slot_identity[e] = self->alive[e] ? life_resolve_element(l, e) : UINT32_MAX;
    }
    cluster_tick(self);
    s_vec_t in_order = s_listed_in_order(self, slots, k);
    cluster_tick(self);
    size_t n_t = life_touched_count(l);
    s_vec_t *old = xcalloc(n_t + 1, sizeof *old);
    for (size_t i = 0; i < n_t; i++) {
        uint32_t x = life_touched(l, i);
        old[i] = self->id_mem[x];
        memset(&self->id_mem[x], 0, sizeof self->id_mem[x]);
        self->id_lit[x].n = 0;
        self->imark[x] |= 2;
    }
    for (size_t i = 0; i < in_order.n; i++) {
        if (i % (16 * S_TICK_EVERY) == 16 * S_TICK_EVERY - 1) {
            cluster_tick(self);
        }
        uint32_t e = in_order.v[i];
        uint32_t x = self->slot_identity[e];
        uint32_t lx = life_literal(l, e);
        assert((self->imark[x] & 2) && (self->imark[lx] & 2)); /* life.h: a closed list */
        s_vec_push(&self->id_mem[x], e);
        s_vec_push(&self->id_lit[lx], e);
    }
    s_vec_free(&in_order);
    cluster_tick(self);
    const camp_obs_t **mem = NULL;
    size_t mem_cap = 0;
    for (size_t i = 0; i < n_t; i++) {
        if (i % S_TICK_EVERY == S_TICK_EVERY - 1) {
            cluster_tick(self);
        }
        uint32_t x = life_touched(l, i);
        self->imark[x] &= (uint8_t)~2;
        bool live = life_is_live(l, x);
        self->c_alive[x] = live;
        if (!live) {
            if (self->cf_ok[x]) {
                s_drop_cf(self, x);
                s_vec_push(a, x);
            }
        } else if (rebuild_all || !self->cf_ok[x] ||
                   !s_same_members(self, &old[i], &self->id_mem[x])) {
            s_build_cf(self, x, &mem, &mem_cap);
            s_vec_push(a, x);
        }
        s_vec_free(&old[i]);
    }
    free(old);
    if (rebuild_all) { /* the generic payloads or C2s changed: every live identity */
        for (size_t i = 0; i < n_t; i++) {
            self->imark[life_touched(l, i)] |= 2;
        }
        for (size_t x = 0; x < life_id_count(l); x++) {
            if (!(self->imark[x] & 2) && self->cf_ok[x]) {
                s_build_cf(self, (uint32_t)x, &mem, &mem_cap);
                s_vec_push(a, (uint32_t)x);
            }
            if (x % S_TICK_EVERY == S_TICK_EVERY - 1) {
                cluster_tick(self);
            }
        }
        for (size_t i = 0; i < n_t; i++) {
            self->imark[life_touched(l, i)] &= (uint8_t)~2;
        }
    }
    free(mem);
    s_ck_flush(self);
}

/*  The campaign layer: recomputes the partition over the identities whose component may
    have changed (u: those in a, their candidates, and the campaigns of all of them at the
    last reconciliation), runs the campaign lifecycle over them and updates the campaign
    member lists. Returns the lifecycle's events. */
static const life_events_t *
s_campaign_pass(cluster_t *self, const s_vec_t *a)
{
    s_upass_t up = {0};
    const life_t *lc = self->life_camp;
    for (size_t i = 0; i < a->n; i++) {
        if (i % S_TICK_EVERY == S_TICK_EVERY - 1) {
            cluster_tick(self);
        }
        s_u_add(self, &up, a->v[i]);
        /* An identity live again keeps its literal campaign, whose alive literal members
           lie in that campaign's home component (the live one it resolves to): add it. */
        uint32_t lit = life_literal(lc, a->v[i]);
        if (lit != LIFE_NONE) {
            s_u_add_campaign(self, &up, life_resolve(lc, lit));
        }
    }
    self->probe = &up;
    self->ck_pass++;
    for (size_t i = 0; i < a->n; i++) {
        uint32_t x = a->v[i];
        if (self->cf_ok[x]) {
            s_ck_keys(self, &self->cf[x], true, s_ck_probe_key, x);
        }
        if (i % S_TICK_EVERY == S_TICK_EVERY - 1) {
            cluster_tick(self);
        }
    }
    self->probe = NULL;
    for (size_t i = 0; i < up.c.n; i++) {
        self->cmark[up.c.v[i]] = 0;
    }
    s_vec_free(&up.c);
    s_vec_push(&up.u, 0); /* never NULL: a NULL list would mean every element */
    uint32_t *u = up.u.v;
    size_t nu = --up.u.n;
    qsort(u, nu, sizeof *u, s_cmp_u32);
    /* Campaign partition of the live identities among them. */
    camp_feat_t *fe = xcalloc(nu + 1, sizeof *fe);
    uint32_t *back = xcalloc(nu + 1, sizeof *back);
    size_t m = 0;
    for (size_t i = 0; i < nu; i++) {
        self->imark[u[i]] &= (uint8_t)~1;
        if (self->c_alive[u[i]]) {
            fe[m] = self->cf[u[i]]; /* a shallow copy, read only */
            back[m++] = u[i];
        }
    }
    uf_t *ufc = uf_new(m);
    memset(&self->stats.camp_part, 0, sizeof self->stats.camp_part);
    cluster_tick(self);
    part_campaign(fe, m, &self->cfg, ufc, &self->stats.camp_part);
    cluster_tick(self);
    for (size_t j = 0; j < m; j++) {
        self->c_comp[back[j]] = back[uf_find(ufc, (uint32_t)j)];
    }
    uf_destroy(&ufc);
    free(fe);
    free(back);
    size_t n_ids = life_id_count(self->life_id);
    const life_events_t *ev = life_reconcile_some(self->life_camp, n_ids, self->c_alive,
                                                  self->c_comp, self->c_seq, u, nu);
    cluster_tick(self);
    s_ensure_camps(self, life_id_count(lc) + 1);
    for (size_t i = 0; i < life_touched_count(lc); i++) {
        uint32_t c = life_touched(lc, i);
        self->camp_mem[c].n = 0;
        self->cmark[c] = 1;
    }
    cluster_tick(self);
    for (size_t i = 0; i < nu; i++) {
        if (i % (16 * S_TICK_EVERY) == 16 * S_TICK_EVERY - 1) {
            cluster_tick(self);
        }
        uint32_t x = u[i];
        self->id_campaign[x] = self->c_alive[x] ? life_resolve_element(lc, x) : UINT32_MAX;
        if (self->c_alive[x]) {
            assert(self->cmark[self->id_campaign[x]]); /* life.h: a closed list */
            s_vec_push(&self->camp_mem[self->id_campaign[x]], x);
        }
    }
    for (size_t i = 0; i < life_touched_count(lc); i++) {
        self->cmark[life_touched(lc, i)] = 0;
    }
    s_vec_free(&up.u);
    return ev;
}

/*  Everything after the identity partition (comp[] set for the listed alive slots, all of
    them when slots is NULL): lifecycles, member lists, campaign layer, events. */
static int
s_reconcile(cluster_t *self, const uint32_t *slots, size_t k, cluster_event_fn fn, void *arg)
{
    size_t n = self->n_slots;
    self->stats.reconciliations++;
    self->stats.index_visits = 0;
    size_t ids_before = life_id_count(self->life_id);
    cluster_tick(self);
    const life_events_t *id_events =
        life_reconcile_some(self->life_id, n, self->alive, self->comp, self->seq, slots, k);
    cluster_tick(self);
    size_t n_ids = life_id_count(self->life_id);
    s_record_formed(&self->id_formed_seq, &self->id_formed_cap, ids_before, n_ids, self->inputs);
    s_ensure_ids(self, n_ids + 1);

    /* Campaign features are reused while the generic payloads and C2s stay the same. */
    uint64_t gprint = s_generic_print(self->generic);
    bool rebuild_all = !self->cf_built || gprint != self->generic_print;
    self->generic_print = gprint;
    self->cf_built = true;
    s_vec_t a = {0};
    s_identity_pass(self, slots, k, rebuild_all, &a);
    size_t camps_before = life_id_count(self->life_camp);
    const life_events_t *camp_events = s_campaign_pass(self, &a);
    s_vec_free(&a);
    size_t n_camps = life_id_count(self->life_camp);
    s_record_formed(&self->camp_formed_seq, &self->camp_formed_cap, camps_before, n_camps,
                    self->inputs);
    self->n_ids_seen = n_ids;
    self->n_camps_seen = n_camps;

    self->stats.inputs = self->inputs;
    self->stats.observations = self->n_alive;
    self->stats.identities = life_live_count(self->life_id);
    self->stats.campaigns = life_live_count(self->life_camp);

    self->epoch++; /* slots changed from now on are newer than this reconciliation */
    self->dirty.n = 0;
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
    if (!cluster_slot_alive(self, slot) || self->slot_identity[slot] == UINT32_MAX) {
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
    if (x >= self->n_ids_seen || self->id_campaign[x] == UINT32_MAX) {
        return NULL;
    }
    return life_id_str(self->life_camp, self->id_campaign[x]);
}

size_t
cluster_identity_count(const cluster_t *self)
{
    return self->n_ids_seen;
}

size_t
cluster_campaign_count(const cluster_t *self)
{
    return self->n_camps_seen;
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

static void
s_ids_add(s_vec_t *l, uint32_t id)
{
    if (id != IDENT_NONE) {
        s_vec_push(l, id);
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
    const s_vec_t *c = life_is_live(l, (uint32_t)i) ? &self->id_mem[i] : &self->id_lit[i];
    s_vec_t ja3 = {0}, ja4 = {0}, hassh = {0}, pay = {0}, c2 = {0};
    uint64_t *kds = NULL;
    size_t n_kd = 0;
    size_t kd_cap = 0;
    for (size_t k = 0; k < c->n; k++) {
        uint32_t slot = c->v[k];
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
    s_vec_t pay = {0}, c2 = {0}, deckies = {0};
    bool seen[UKC_PHASE_COUNT] = {false};
    double first[UKC_PHASE_COUNT] = {0};
    const s_vec_t *ci = &self->camp_mem[i];
    for (size_t k = 0; k < ci->n; k++) {
        uint32_t x = ci->v[k];
        rec->identities++;
        for (size_t m = 0; m < self->id_mem[x].n; m++) {
            uint32_t slot = self->id_mem[x].v[m];
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
    return self->cf_ok[x] ? &self->cf[x] : NULL;
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
        (alive && obs && (obs->op == OBS_DELETE || !obs->id || strcmp(obs->id, name) != 0)) ||
        (!alive && obs)) {
        return -EINVAL;
    }
    uint32_t slot = strtab_intern(self->names, name, len);
    assert(slot == self->n_slots);
    s_ensure_slots(self, (size_t)slot + 1);
    self->n_slots = (size_t)slot + 1;
    self->alive[slot] = alive;
    self->seq[slot] = seq;
    self->n_alive += alive;
    if (alive && obs) {
        self->hash[slot] = obs_hash(obs);
        ident_feat_build(&self->feat[slot], obs, self->strings);
        camp_obs_build(&self->cobs[slot], obs, strtab_str(self->names, slot), self->strings);
    } else if (alive) {
        /* Empty until cluster_restore_features(), and safe to clear if that never comes. */
        self->hash[slot] = 0;
        memset(&self->feat[slot], 0, sizeof self->feat[slot]);
        memset(&self->cobs[slot], 0, sizeof self->cobs[slot]);
    }
    return 0;
}

int
cluster_restore_features(cluster_t *self, size_t slot, const obs_t *obs)
{
    if (slot >= self->n_slots || !self->alive[slot] || !obs || obs->op == OBS_DELETE || !obs->id ||
        strcmp(obs->id, strtab_str(self->names, (uint32_t)slot)) != 0) {
        return -EINVAL;
    }
    self->hash[slot] = obs_hash(obs);
    ident_feat_build(&self->feat[slot], obs, self->strings);
    camp_obs_build(&self->cobs[slot], obs, strtab_str(self->names, (uint32_t)slot), self->strings);
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
