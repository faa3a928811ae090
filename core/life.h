/*  life.h - stable ids over a changing partition: formation, oldest-wins soft merges,
    revocable unmerges, splits with re-linking (SPEC §5). One life_t per layer: at the
    identity layer elements are observations, at the campaign layer they are identities.

    The partition is a pure function of the current input; a life_t carries the history on
    top of it: each element's literal id, each id's formation order and merged_into pointer.
    life_reconcile() takes the current partition and updates that state by the rules of
    SPEC §5, reporting what changed as events. New ids are name-based UUIDs derived from the
    founding element's name and a per-deployment namespace, so the same input stream yields
    the same ids on any process layout.

    Persistence (the merger's snapshot, docs/storage.md "Merger snapshot"): the whole state
    is the per-element (literal id, founded count) pairs and the per-id (uuid, formed order,
    merged_into, live) tuples, readable through the accessors below and written back with
    life_restore_id() and life_restore_element(). A life_t also records which elements and
    ids changed since life_clear_changes(), so a snapshot writes only those.
*/
#ifndef CADRE_LIFE_H
#define CADRE_LIFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIFE_NONE UINT32_MAX /* no id */

typedef struct life_t life_t;

/*  Kinds of lifecycle event. */
typedef enum {
    LIFE_FORMED = 0, /* a new id: id, and the members that had no prior id */
    LIFE_LINKED,     /* element joined id (prior = its previous literal id, or LIFE_NONE) */
    LIFE_MERGED,     /* id (loser) now points to other (winner) */
    LIFE_UNMERGED,   /* id (resurrected) no longer points to other (former winner) */
} life_event_kind_t;

/*  One event, in terms of id indexes and element indexes. */
typedef struct {
    life_event_kind_t kind; /* what happened */
    uint32_t id;            /* formed/linked: the id; merged: loser; unmerged: resurrected */
    uint32_t other;         /* merged: winner; unmerged: former winner; else LIFE_NONE */
    uint32_t element;       /* linked: the element; else LIFE_NONE */
    uint32_t prior;         /* linked: the element's previous literal id or LIFE_NONE */
    uint32_t *members;      /* formed: elements linked with no prior id, in seq order */
    uint32_t n_members;     /* formed: number of members */
} life_event_t;

/*  The events of one reconciliation, ordered formed, linked, merged, unmerged, each sorted
    by id string (then element name). Owned by the life_t until the next reconciliation. */
typedef struct {
    life_event_t *ev; /* events */
    size_t n;         /* number of events */
} life_events_t;

/*  Names an element (e.g. an observation id): used to derive ids and order events. The
    returned string is borrowed for the duration of the call. */
typedef const char *(*life_name_fn)(uint32_t element, void *arg);

/*  A new lifecycle for one layer. kind ("identity" or "campaign") and ns (16 bytes, the
    deployment's namespace) seed the name-based ids. Never returns NULL. */
life_t *life_new(const char *kind, const uint8_t ns[16], life_name_fn name, void *name_arg);
/*  Frees everything and NULLs *self_p; NULL is a no-op. */
void life_destroy(life_t **self_p);
/*  Called now and then during a long reconciliation (between its phases and every few
    thousand components), so a caller with a network loop keeps its heartbeats going. */
typedef void (*life_tick_fn)(void *arg);
/*  Sets (fn non-NULL) or clears the tick. */
void life_set_tick(life_t *self, life_tick_fn fn, void *arg);
/*  Forgets element e's literal id (the element was deleted; a later upsert starts fresh). */
void life_forget(life_t *self, uint32_t e);
/*  Applies SPEC §5 to the partition of n elements: for alive elements, comp[e] is the
    component (any label, equal labels = same component) and seq[e] the ordering key
    (unique among alive elements: input sequence at the identity layer, formation order at
    the campaign layer). Returns the events (borrowed until the next call). */
const life_events_t *life_reconcile(life_t *self, size_t n, const bool *alive, const uint32_t *comp,
                                    const uint64_t *seq);
/*  The same over part of the elements: only elems[0 .. k) (distinct, alive or not) are
    read, and only the ids whose literal members are among them, or that lost a member to
    life_forget() since the last reconciliation, are re-evaluated; every other id and
    element keeps its state. The list must be closed: it holds every alive element of
    every component that holds a listed element (in the new partition and in the one the
    last reconciliation saw). Then the result, events included, is what life_reconcile()
    over all elements would give, because SPEC §5's rules are local to a component and
    every id's alive literal members lie in one component after a reconciliation.
    elems NULL means all n elements (k is then ignored). */
const life_events_t *life_reconcile_some(life_t *self, size_t n, const bool *alive,
                                         const uint32_t *comp, const uint64_t *seq,
                                         const uint32_t *elems, size_t k);
/*  The ids the last reconciliation re-evaluated, new ones included, in formation order:
    every id whose live flag, merged_into pointer or literal members may have changed. */
size_t life_touched_count(const life_t *self);
uint32_t life_touched(const life_t *self, size_t i);
/*  Number of live ids. */
size_t life_live_count(const life_t *self);
/*  The literal id of element e, or LIFE_NONE. */
uint32_t life_literal(const life_t *self, uint32_t e);
/*  The live id of element e: its literal id resolved through merged_into, or LIFE_NONE. */
uint32_t life_resolve_element(const life_t *self, uint32_t e);
/*  Follows merged_into from id to the live end of the chain. */
uint32_t life_resolve(const life_t *self, uint32_t id);
/*  The id's merged_into pointer, or LIFE_NONE. */
uint32_t life_merged_into(const life_t *self, uint32_t id);
/*  The id's formation order (0 for the first id formed). */
uint64_t life_formed(const life_t *self, uint32_t id);
/*  The id as a UUID string (borrowed, lives as long as self). */
const char *life_id_str(const life_t *self, uint32_t id);
/*  Number of ids ever formed (ids are 0 .. count-1). */
size_t life_id_count(const life_t *self);
/*  True iff id is live: it names a component after the last reconciliation. */
bool life_is_live(const life_t *self, uint32_t id);

/*  Number of elements known (0 .. count-1); an element beyond it has no literal id and has
    founded nothing. */
size_t life_elements(const life_t *self);
/*  How many ids element e founded (the next one's name counts from it); 0 when unknown. */
uint32_t life_founded(const life_t *self, uint32_t e);

/*  Change tracking. An element changes when its literal id or founded count does; an id
    when it is formed or its merged_into pointer or live flag changes. Each changed element
    and id is listed once, in the order it first changed, until life_clear_changes(). */
/*  Number of elements changed since the last life_clear_changes(). */
size_t life_changed_elements(const life_t *self);
/*  The i-th changed element (i < life_changed_elements()). */
uint32_t life_changed_element(const life_t *self, size_t i);
/*  Number of ids changed since the last life_clear_changes(). */
size_t life_changed_ids(const life_t *self);
/*  The i-th changed id (i < life_changed_ids()). */
uint32_t life_changed_id(const life_t *self, size_t i);
/*  Forgets the changes: what is current becomes the baseline. */
void life_clear_changes(life_t *self);

/*  Recovery only, on a life_t that has not reconciled yet; nothing restored counts as a
    change. Restores id number id, which must be the next one (life_id_count()): its uuid
    (36 characters), formation order (ids are numbered in formation order, so formed must
    equal id), merged_into (LIFE_NONE or an older id) and live flag. Returns 0 or -EINVAL
    when an argument breaks those rules (a corrupt snapshot). */
int life_restore_id(life_t *self, uint32_t id, const char *uuid, uint64_t formed,
                    uint32_t merged_into, bool live);
/*  Recovery only: restores element e's literal id (LIFE_NONE or an id already restored) and
    founded count, extending the elements known to e + 1 if needed. Returns 0 or -EINVAL. */
int life_restore_element(life_t *self, uint32_t e, uint32_t literal, uint32_t founded);

#endif
