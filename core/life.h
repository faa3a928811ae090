/*  life.h - stable ids over a changing partition: formation, oldest-wins soft merges,
    revocable unmerges, splits with re-linking (SPEC §5). One life_t per layer: at the
    identity layer elements are observations, at the campaign layer they are identities.

    The partition is a pure function of the current input; a life_t carries the history on
    top of it: each element's literal id, each id's formation order and merged_into pointer.
    life_reconcile() takes the current partition and updates that state by the rules of
    SPEC §5, reporting what changed as events. New ids are name-based UUIDs derived from the
    founding element's name and a per-deployment namespace, so the same input stream yields
    the same ids on any process layout.
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
/*  Forgets element e's literal id (the element was deleted; a later upsert starts fresh). */
void life_forget(life_t *self, uint32_t e);
/*  Applies SPEC §5 to the partition of n elements: for alive elements, comp[e] is the
    component (any label, equal labels = same component) and seq[e] the ordering key
    (unique among alive elements: input sequence at the identity layer, formation order at
    the campaign layer). Returns the events (borrowed until the next call). */
const life_events_t *life_reconcile(life_t *self, size_t n, const bool *alive, const uint32_t *comp,
                                    const uint64_t *seq);
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

#endif
