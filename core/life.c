/*  life.c - stable ids over a changing partition (see life.h and SPEC §5). */
#include "life.h"

#include "digest.h"
#include "u64map.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  One id. */
typedef struct {
    char uuid[37];        /* the id as text */
    uint64_t formed;      /* formation order */
    uint32_t merged_into; /* soft-merge pointer, or LIFE_NONE */
    uint32_t home;        /* this reconciliation: component of its oldest literal member */
    bool live;            /* names a component after the last reconciliation */
    bool changed;         /* listed in changed_ids */
    bool marked;          /* listed in touched */
} s_id_t;

struct life_t {
    char *kind;           /* "identity" or "campaign": part of every derived name */
    uint8_t ns[16];       /* deployment namespace for name-based ids */
    life_name_fn name;    /* names elements */
    void *name_arg;       /* argument of name */
    uint32_t *lit;        /* per element: literal id or LIFE_NONE */
    uint32_t *founded;    /* per element: how many ids it founded */
    bool *e_changed;      /* per element: listed in changed_elems */
    size_t n_elems;       /* elements known */
    size_t elems_cap;     /* allocated element slots */
    s_id_t *ids;          /* every id ever formed */
    size_t n_ids;         /* number of ids */
    size_t ids_cap;       /* allocated id slots */
    life_events_t events; /* the last reconciliation's events */
    size_t events_cap;    /* allocated event slots */
    uint32_t *ch_elems;   /* elements changed since life_clear_changes(), first change first */
    size_t n_ch_elems;    /* number of changed elements */
    size_t ch_elems_cap;  /* allocated */
    uint32_t *ch_ids;     /* ids changed since life_clear_changes(), first change first */
    size_t n_ch_ids;      /* number of changed ids */
    size_t ch_ids_cap;    /* allocated */
    uint32_t *touched;    /* ids the last reconciliation re-evaluated, in formation order */
    size_t n_touched;     /* number of them */
    size_t touched_cap;   /* allocated */
    uint32_t *orphans;    /* ids that lost a member to life_forget() since it */
    size_t n_orphans;     /* number of them (may repeat) */
    size_t orphans_cap;   /* allocated */
    uint32_t *label;      /* scratch: component label -> index, all UINT32_MAX between calls */
    size_t label_cap;     /* allocated */
    size_t n_live;        /* live ids */
    life_tick_fn tick;    /* called now and then during a long reconciliation, or NULL */
    void *tick_arg;       /* its argument */
};

/*  Calls the tick, if one is set. */
static void
s_tick(const life_t *self)
{
    if (self->tick) {
        self->tick(self->tick_arg);
    }
}

void
life_set_tick(life_t *self, life_tick_fn fn, void *arg)
{
    self->tick = fn;
    self->tick_arg = arg;
}

life_t *
life_new(const char *kind, const uint8_t ns[16], life_name_fn name, void *name_arg)
{
    life_t *self = xcalloc(1, sizeof *self);
    self->kind = xstrdup(kind);
    memcpy(self->ns, ns, 16);
    self->name = name;
    self->name_arg = name_arg;
    return self;
}

static void
s_events_clear(life_t *self)
{
    for (size_t i = 0; i < self->events.n; i++) {
        free(self->events.ev[i].members);
    }
    self->events.n = 0;
}

void
life_destroy(life_t **self_p)
{
    assert(self_p);
    life_t *self = *self_p;
    if (!self) {
        return;
    }
    s_events_clear(self);
    free(self->events.ev);
    free(self->kind);
    free(self->lit);
    free(self->founded);
    free(self->e_changed);
    free(self->ch_elems);
    free(self->ch_ids);
    free(self->ids);
    free(self->touched);
    free(self->orphans);
    free(self->label);
    free(self);
    *self_p = NULL;
}

static void
s_grow_elems(life_t *self, size_t n)
{
    if (n <= self->n_elems) {
        return;
    }
    size_t cap = self->elems_cap;
    xgrow(&self->lit, &cap, n);
    cap = self->elems_cap;
    xgrow(&self->founded, &cap, n);
    cap = self->elems_cap;
    xgrow(&self->e_changed, &cap, n);
    self->elems_cap = cap;
    for (size_t e = self->n_elems; e < n; e++) {
        self->lit[e] = LIFE_NONE;
        self->founded[e] = 0;
        self->e_changed[e] = false;
    }
    self->n_elems = n;
}

/*  Lists element e as changed (once). */
static void
s_touch_element(life_t *self, uint32_t e)
{
    if (!self->e_changed[e]) {
        self->e_changed[e] = true;
        xgrow(&self->ch_elems, &self->ch_elems_cap, self->n_ch_elems + 1);
        self->ch_elems[self->n_ch_elems++] = e;
    }
}

/*  Lists id x as changed (once). */
static void
s_touch_id(life_t *self, uint32_t x)
{
    if (!self->ids[x].changed) {
        self->ids[x].changed = true;
        xgrow(&self->ch_ids, &self->ch_ids_cap, self->n_ch_ids + 1);
        self->ch_ids[self->n_ch_ids++] = x;
    }
}

void
life_forget(life_t *self, uint32_t e)
{
    if (e < self->n_elems && self->lit[e] != LIFE_NONE) {
        xgrow(&self->orphans, &self->orphans_cap, self->n_orphans + 1);
        self->orphans[self->n_orphans++] = self->lit[e];
        self->lit[e] = LIFE_NONE;
        s_touch_element(self, e);
    }
}

static life_event_t *
s_event(life_t *self, life_event_kind_t kind, uint32_t id, uint32_t other)
{
    xgrow(&self->events.ev, &self->events_cap, self->events.n + 1);
    life_event_t *ev = &self->events.ev[self->events.n++];
    *ev = (life_event_t){
        .kind = kind, .id = id, .other = other, .element = LIFE_NONE, .prior = LIFE_NONE};
    return ev;
}

/*  Forms a new id founded by element founder. */
static uint32_t
s_form(life_t *self, uint32_t founder)
{
    const char *fname = self->name(founder, self->name_arg);
    char *name = xasprintf("%s:%s:%" PRIu32, self->kind, fname, self->founded[founder]++);
    xgrow(&self->ids, &self->ids_cap, self->n_ids + 1);
    uint32_t id = (uint32_t)self->n_ids++;
    s_id_t *x = &self->ids[id];
    digest_uuid5(self->ns, name, strlen(name), x->uuid);
    free(name);
    x->formed = id;
    x->merged_into = LIFE_NONE;
    x->home = LIFE_NONE;
    x->live = false;
    x->changed = false;
    x->marked = false;
    s_touch_id(self, id);
    s_touch_element(self, founder);
    return id;
}

/*  Sort context: the alive elements ordered by seq. */
typedef struct {
    uint32_t e;   /* element */
    uint64_t seq; /* its ordering key */
} s_elem_t;

static int
s_cmp_seq(const void *a, const void *b)
{
    uint64_t x = ((const s_elem_t *)a)->seq;
    uint64_t y = ((const s_elem_t *)b)->seq;
    return (x > y) - (x < y);
}

/*  life_t pointer for the event comparator (qsort has no context argument). */
typedef struct {
    const life_t *life; /* for id strings and element names */
    life_event_t ev;    /* the event */
} s_sort_ev_t;

static int
s_cmp_event(const void *a, const void *b)
{
    const s_sort_ev_t *x = a;
    const s_sort_ev_t *y = b;
    if (x->ev.kind != y->ev.kind) {
        return x->ev.kind < y->ev.kind ? -1 : 1;
    }
    const life_t *l = x->life;
    int c = strcmp(l->ids[x->ev.id].uuid, l->ids[y->ev.id].uuid);
    if (c != 0) {
        return c;
    }
    if (x->ev.other != y->ev.other && x->ev.other != LIFE_NONE && y->ev.other != LIFE_NONE) {
        return strcmp(l->ids[x->ev.other].uuid, l->ids[y->ev.other].uuid);
    }
    if (x->ev.element != LIFE_NONE && y->ev.element != LIFE_NONE) {
        c = strcmp(l->name(x->ev.element, l->name_arg), l->name(y->ev.element, l->name_arg));
        if (c != 0) {
            return c;
        }
    }
    return 0;
}

static void
s_sort_events(life_t *self)
{
    size_t n = self->events.n;
    s_sort_ev_t *tmp = xcalloc(n, sizeof *tmp);
    for (size_t i = 0; i < n; i++) {
        tmp[i].life = self;
        tmp[i].ev = self->events.ev[i];
    }
    qsort(tmp, n, sizeof *tmp, s_cmp_event);
    for (size_t i = 0; i < n; i++) {
        self->events.ev[i] = tmp[i].ev;
    }
    free(tmp);
}

const life_events_t *
life_reconcile(life_t *self, size_t n, const bool *alive, const uint32_t *comp, const uint64_t *seq)
{
    return life_reconcile_some(self, n, alive, comp, seq, NULL, 0);
}

/*  Adds id x to the ids this reconciliation re-evaluates (once). */
static void
s_mark(life_t *self, uint32_t x)
{
    if (!self->ids[x].marked) {
        self->ids[x].marked = true;
        xgrow(&self->touched, &self->touched_cap, self->n_touched + 1);
        self->touched[self->n_touched++] = x;
    }
}

static int
s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

const life_events_t *
life_reconcile_some(life_t *self, size_t n, const bool *alive, const uint32_t *comp,
                    const uint64_t *seq, const uint32_t *elems, size_t k)
{
    s_events_clear(self);
    s_grow_elems(self, n);
    bool all = elems == NULL;
    size_t listed = all ? n : k;

    /* Listed alive elements in seq order; components numbered by their oldest member. */
    s_elem_t *order = xcalloc(listed + 1, sizeof *order);
    size_t n_alive = 0;
    for (size_t i = 0; i < listed; i++) {
        uint32_t e = all ? (uint32_t)i : elems[i];
        assert(e < n);
        if (alive[e]) {
            order[n_alive].e = e;
            order[n_alive].seq = seq[e];
            n_alive++;
        }
    }
    /* Usually in seq order already (elements are numbered in arrival order): skip the sort
       when strictly increasing, where every sort agrees. */
    bool sorted = true;
    for (size_t i = 1; sorted && i < n_alive; i++) {
        sorted = order[i - 1].seq < order[i].seq;
    }
    if (!sorted) {
        qsort(order, n_alive, sizeof *order, s_cmp_seq);
    }
    s_tick(self);
    /* Components numbered in order of their oldest member. Labels below n (union-find
       roots, as both layers pass) index a scratch array kept between calls (only the
       entries used are reset); any other label goes through a map. */
    bool small = true;
    for (size_t i = 0; small && i < n_alive; i++) {
        small = comp[order[i].e] < n;
    }
    uint32_t *cidx = xcalloc(n_alive + 1, sizeof *cidx);
    uint32_t n_comp = 0;
    if (small) {
        if (self->label_cap < n + 1) {
            size_t old = self->label_cap;
            xgrow(&self->label, &self->label_cap, n + 1);
            memset(self->label + old, 0xff, (self->label_cap - old) * sizeof *self->label);
        }
        uint32_t *label = self->label;
        for (size_t i = 0; i < n_alive; i++) {
            uint32_t *slot = &label[comp[order[i].e]];
            if (*slot == UINT32_MAX) {
                *slot = n_comp++;
            }
            cidx[i] = *slot;
        }
        for (size_t i = 0; i < n_alive; i++) {
            label[comp[order[i].e]] = UINT32_MAX;
        }
    } else {
        u64map_t *label = u64map_new();
        for (size_t i = 0; i < n_alive; i++) {
            uint32_t c = u64map_get_or_put(label, comp[order[i].e], n_comp);
            if (c == n_comp) {
                n_comp++;
            }
            cidx[i] = c;
        }
        u64map_destroy(&label);
    }

    /* Members of each component in seq order (counting sort by component). */
    uint32_t *start = xcalloc((size_t)n_comp + 1, sizeof *start);
    for (size_t i = 0; i < n_alive; i++) {
        start[cidx[i] + 1]++;
    }
    for (uint32_t c = 0; c < n_comp; c++) {
        start[c + 1] += start[c];
    }
    uint32_t *members = xcalloc(n_alive + 1, sizeof *members);
    uint32_t *fill = xcalloc((size_t)n_comp + 1, sizeof *fill);
    memcpy(fill, start, ((size_t)n_comp + 1) * sizeof *fill);
    for (size_t i = 0; i < n_alive; i++) {
        members[fill[cidx[i]]++] = order[i].e;
    }
    free(fill);
    s_tick(self);

    /* The ids re-evaluated: every literal id of a listed element and every id that lost a
       member to life_forget(). The rest keep their state (life.h: the list is closed). */
    for (size_t x = 0; x < self->n_touched; x++) {
        self->ids[self->touched[x]].marked = false;
    }
    self->n_touched = 0;
    for (size_t i = 0; i < listed; i++) {
        uint32_t e = all ? (uint32_t)i : elems[i];
        if (self->lit[e] != LIFE_NONE) {
            s_mark(self, self->lit[e]);
        }
    }
    for (size_t i = 0; i < self->n_orphans; i++) {
        s_mark(self, self->orphans[i]);
    }
    self->n_orphans = 0;
    size_t n_known = self->n_touched;
    if (n_known > 1) {
        qsort(self->touched, n_known, sizeof *self->touched, s_cmp_u32); /* formation order */
    }
    /* home(x): the component of x's oldest alive literal member. Live flags are recomputed;
       the old ones are kept to list the ids whose flag changes. */
    bool *was_live = xcalloc(n_known + 1, sizeof *was_live);
    for (size_t i = 0; i < n_known; i++) {
        s_id_t *x = &self->ids[self->touched[i]];
        was_live[i] = x->live;
        self->n_live -= x->live;
        x->home = LIFE_NONE;
        x->live = false;
    }
    for (size_t i = 0; i < n_alive; i++) {
        uint32_t x = self->lit[order[i].e];
        if (x != LIFE_NONE && self->ids[x].home == LIFE_NONE) {
            self->ids[x].home = cidx[i];
        }
    }
    free(order);
    free(cidx);
    s_tick(self);

    /* Candidates per component, each list in formation order (ids are numbered by it). */
    uint32_t *cstart = xcalloc((size_t)n_comp + 1, sizeof *cstart);
    for (size_t i = 0; i < n_known; i++) {
        uint32_t home = self->ids[self->touched[i]].home;
        if (home != LIFE_NONE) {
            cstart[home + 1]++;
        }
    }
    for (uint32_t c = 0; c < n_comp; c++) {
        cstart[c + 1] += cstart[c];
    }
    uint32_t *cands = xcalloc(cstart[n_comp] + 1, sizeof *cands);
    uint32_t *cfill = xcalloc((size_t)n_comp + 1, sizeof *cfill);
    memcpy(cfill, cstart, ((size_t)n_comp + 1) * sizeof *cfill);
    for (size_t i = 0; i < n_known; i++) {
        uint32_t x = self->touched[i];
        if (self->ids[x].home != LIFE_NONE) {
            cands[cfill[self->ids[x].home]++] = x;
        }
    }
    free(cfill);

    for (uint32_t c = 0; c < n_comp; c++) {
        if (c % 4096 == 4095) {
            s_tick(self);
        }
        uint32_t nc = cstart[c + 1] - cstart[c];
        const uint32_t *ck = cands + cstart[c];
        const uint32_t *mk = members + start[c];
        uint32_t nm = start[c + 1] - start[c];
        uint32_t live;
        size_t formed = SIZE_MAX; /* index of this component's formed event */
        if (nc == 0) {
            live = s_form(self, mk[0]);
            s_mark(self, live);
            s_event(self, LIFE_FORMED, live, LIFE_NONE);
            formed = self->events.n - 1;
            self->events.ev[formed].members = xcalloc(nm, sizeof(uint32_t));
        } else {
            live = ck[0]; /* ids are numbered in formation order: the oldest wins */
        }
        self->ids[live].live = true;
        self->n_live++;
        for (uint32_t i = 0; i < nm; i++) {
            uint32_t e = mk[i];
            uint32_t x = self->lit[e];
            if (x == live || (x != LIFE_NONE && self->ids[x].home == c)) {
                continue; /* already live here, or a soft-merged member keeping its id */
            }
            self->lit[e] = live;
            s_touch_element(self, e);
            if (formed != SIZE_MAX && x == LIFE_NONE) {
                life_event_t *f = &self->events.ev[formed];
                f->members[f->n_members++] = e;
            } else {
                life_event_t *ev = s_event(self, LIFE_LINKED, live, LIFE_NONE);
                ev->element = e;
                ev->prior = x;
            }
        }
        for (uint32_t i = 0; i < nc; i++) {
            uint32_t y = ck[i];
            if (y != live && self->ids[y].merged_into != live) {
                self->ids[y].merged_into = live;
                s_touch_id(self, y);
                s_event(self, LIFE_MERGED, y, live);
            }
        }
        if (self->ids[live].merged_into != LIFE_NONE) {
            s_event(self, LIFE_UNMERGED, live, self->ids[live].merged_into);
            self->ids[live].merged_into = LIFE_NONE;
            s_touch_id(self, live);
        }
    }
    for (size_t i = 0; i < n_known; i++) {
        uint32_t x = self->touched[i];
        if (self->ids[x].live != was_live[i]) {
            s_touch_id(self, x);
        }
    }
    free(was_live);
    free(start);
    free(members);
    free(cstart);
    free(cands);
    s_tick(self);
    s_sort_events(self);
    s_tick(self);
    return &self->events;
}

size_t
life_touched_count(const life_t *self)
{
    return self->n_touched;
}

uint32_t
life_touched(const life_t *self, size_t i)
{
    assert(i < self->n_touched);
    return self->touched[i];
}

size_t
life_live_count(const life_t *self)
{
    return self->n_live;
}

uint32_t
life_literal(const life_t *self, uint32_t e)
{
    return e < self->n_elems ? self->lit[e] : LIFE_NONE;
}

uint32_t
life_resolve(const life_t *self, uint32_t id)
{
    /* Every chain ends at a live id after a reconciliation; the guard bounds a walk that
       starts at a dead id whose chain was never re-pointed. */
    for (size_t hops = 0;
         id != LIFE_NONE && self->ids[id].merged_into != LIFE_NONE && hops <= self->n_ids; hops++) {
        id = self->ids[id].merged_into;
    }
    return id;
}

uint32_t
life_resolve_element(const life_t *self, uint32_t e)
{
    return life_resolve(self, life_literal(self, e));
}

uint32_t
life_merged_into(const life_t *self, uint32_t id)
{
    return self->ids[id].merged_into;
}

uint64_t
life_formed(const life_t *self, uint32_t id)
{
    return self->ids[id].formed;
}

const char *
life_id_str(const life_t *self, uint32_t id)
{
    return self->ids[id].uuid;
}

size_t
life_id_count(const life_t *self)
{
    return self->n_ids;
}

bool
life_is_live(const life_t *self, uint32_t id)
{
    return id < self->n_ids && self->ids[id].live;
}

size_t
life_elements(const life_t *self)
{
    return self->n_elems;
}

uint32_t
life_founded(const life_t *self, uint32_t e)
{
    return e < self->n_elems ? self->founded[e] : 0;
}

size_t
life_changed_elements(const life_t *self)
{
    return self->n_ch_elems;
}

uint32_t
life_changed_element(const life_t *self, size_t i)
{
    assert(i < self->n_ch_elems);
    return self->ch_elems[i];
}

size_t
life_changed_ids(const life_t *self)
{
    return self->n_ch_ids;
}

uint32_t
life_changed_id(const life_t *self, size_t i)
{
    assert(i < self->n_ch_ids);
    return self->ch_ids[i];
}

void
life_clear_changes(life_t *self)
{
    for (size_t i = 0; i < self->n_ch_elems; i++) {
        self->e_changed[self->ch_elems[i]] = false;
    }
    for (size_t i = 0; i < self->n_ch_ids; i++) {
        self->ids[self->ch_ids[i]].changed = false;
    }
    self->n_ch_elems = 0;
    self->n_ch_ids = 0;
}

int
life_restore_id(life_t *self, uint32_t id, const char *uuid, uint64_t formed, uint32_t merged_into,
                bool live)
{
    if (id != self->n_ids || id == LIFE_NONE || !uuid || strlen(uuid) != 36 || formed != id ||
        (merged_into != LIFE_NONE && merged_into >= id)) {
        return -EINVAL;
    }
    xgrow(&self->ids, &self->ids_cap, self->n_ids + 1);
    s_id_t *x = &self->ids[self->n_ids++];
    memcpy(x->uuid, uuid, 37);
    x->formed = formed;
    x->merged_into = merged_into;
    x->home = LIFE_NONE;
    x->live = live;
    x->changed = false;
    x->marked = false;
    self->n_live += live;
    return 0;
}

int
life_restore_element(life_t *self, uint32_t e, uint32_t literal, uint32_t founded)
{
    if (e == LIFE_NONE || (literal != LIFE_NONE && literal >= self->n_ids)) {
        return -EINVAL;
    }
    s_grow_elems(self, (size_t)e + 1);
    self->lit[e] = literal;
    self->founded[e] = founded;
    return 0;
}
