/*  u64map.h - an open-addressing hash map from 64-bit keys to 32-bit values.

    Used for blocking keys ((family << 32) | interned string) and other integer-keyed
    indexes. Linear probing over a power-of-two table kept at most half full; keys are mixed
    with a 64-bit finaliser so dense keys spread. No deletion: maps are rebuilt, not edited.
*/
#ifndef CADRE_U64MAP_H
#define CADRE_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#define U64MAP_NONE UINT32_MAX /* returned by u64map_get for a missing key */

typedef struct u64map_t u64map_t;

/*  A new, empty map. Never returns NULL. */
u64map_t *u64map_new(void);
/*  Frees the map and NULLs *self_p; NULL is a no-op. */
void u64map_destroy(u64map_t **self_p);
/*  Removes every entry, keeping the allocation. */
void u64map_clear(u64map_t *self);
/*  The value stored for key, or U64MAP_NONE. */
uint32_t u64map_get(const u64map_t *self, uint64_t key);
/*  Stores value (not U64MAP_NONE) for key, replacing any previous value. */
void u64map_put(u64map_t *self, uint64_t key, uint32_t value);
/*  The value for key; when absent, stores and returns value. */
uint32_t u64map_get_or_put(u64map_t *self, uint64_t key, uint32_t value);
/*  Calls fn for every entry (in table order, not insertion order). */
void u64map_each(const u64map_t *self, void (*fn)(uint64_t key, uint32_t value, void *arg),
                 void *arg);
/*  Number of entries. */
size_t u64map_count(const u64map_t *self);

#endif
