/*  strtab.c - string interning table (see strtab.h).

    Strings are copied into an arena of large blocks that are never reallocated, so their
    addresses are stable. An entry array, indexed by id, records each string's address,
    length and hash; the hash index is an array of ids probed linearly, grown by doubling
    whenever it would become more than half full (rehashing from the stored hashes, without
    touching the strings).
*/
#include "strtab.h"

#include "xalloc.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/*  Size of one arena block; longer strings get a block of their own. */
#define S_BLOCK_SIZE ((size_t)64 * 1024)

/*  One interned string. */
typedef struct {
    const char *str; /* NUL-terminated copy in the arena */
    size_t len;      /* length in bytes, without the NUL */
    uint64_t hash;   /* XXH3-64 of the bytes */
} s_entry_t;

struct strtab_t {
    s_entry_t *entries; /* entries by id */
    size_t count;       /* number of entries */
    size_t entries_cap; /* allocated entries */
    uint32_t *slots;    /* hash index: ids, STRTAB_NONE when empty */
    size_t slots_cap;   /* number of slots, a power of two */
    char **blocks;      /* arena blocks, each malloc'ed */
    size_t n_blocks;    /* blocks in use */
    size_t blocks_cap;  /* allocated block pointers */
    size_t block_used;  /* bytes used in the current (last) block */
    size_t block_size;  /* size of the current block */
};

strtab_t *
strtab_new(void)
{
    strtab_t *self = xcalloc(1, sizeof *self);
    self->slots_cap = 64;
    self->slots = xmalloc(self->slots_cap * sizeof *self->slots);
    memset(self->slots, 0xff, self->slots_cap * sizeof *self->slots);
    return self;
}

void
strtab_destroy(strtab_t **self_p)
{
    assert(self_p);
    strtab_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_blocks; i++) {
        free(self->blocks[i]);
    }
    free(self->blocks);
    free(self->entries);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

/*  The slot holding the string with this hash and these bytes, or the empty slot where it
    would go. */
static size_t
s_probe(const strtab_t *self, const char *str, size_t len, uint64_t hash)
{
    size_t mask = self->slots_cap - 1;
    size_t at = (size_t)hash & mask;
    for (;;) {
        uint32_t id = self->slots[at];
        if (id == STRTAB_NONE) {
            return at;
        }
        const s_entry_t *e = &self->entries[id];
        if (e->hash == hash && e->len == len && (len == 0 || memcmp(e->str, str, len) == 0)) {
            return at;
        }
        at = (at + 1) & mask;
    }
}

/*  Doubles the hash index and reinserts every id. */
static void
s_grow_slots(strtab_t *self)
{
    size_t cap = self->slots_cap * 2;
    uint32_t *slots = xmalloc(cap * sizeof *slots);
    memset(slots, 0xff, cap * sizeof *slots);
    for (size_t id = 0; id < self->count; id++) {
        size_t at = (size_t)self->entries[id].hash & (cap - 1);
        while (slots[at] != STRTAB_NONE) {
            at = (at + 1) & (cap - 1);
        }
        slots[at] = (uint32_t)id;
    }
    free(self->slots);
    self->slots = slots;
    self->slots_cap = cap;
}

/*  Copies len bytes plus a NUL into the arena and returns the copy. */
static const char *
s_store(strtab_t *self, const char *str, size_t len)
{
    if (self->n_blocks == 0 || self->block_size - self->block_used < len + 1) {
        size_t size = len + 1 > S_BLOCK_SIZE ? len + 1 : S_BLOCK_SIZE;
        xgrow(&self->blocks, &self->blocks_cap, self->n_blocks + 1);
        self->blocks[self->n_blocks++] = xmalloc(size);
        self->block_size = size;
        self->block_used = 0;
    }
    char *copy = self->blocks[self->n_blocks - 1] + self->block_used;
    if (len > 0) {
        memcpy(copy, str, len);
    }
    copy[len] = '\0';
    self->block_used += len + 1;
    return copy;
}

uint32_t
strtab_intern(strtab_t *self, const char *str, size_t len)
{
    assert(self);
    assert(str || len == 0);
    uint64_t hash = XXH3_64bits(str, len);
    size_t at = s_probe(self, str, len, hash);
    if (self->slots[at] != STRTAB_NONE) {
        return self->slots[at];
    }
    if (self->count >= STRTAB_MAX) {
        return STRTAB_NONE;
    }
    uint32_t id = (uint32_t)self->count;
    xgrow(&self->entries, &self->entries_cap, self->count + 1);
    self->entries[id] = (s_entry_t){.str = s_store(self, str, len), .len = len, .hash = hash};
    self->count++;
    self->slots[at] = id;
    if (self->count * 2 > self->slots_cap) {
        s_grow_slots(self);
    }
    return id;
}

uint32_t
strtab_find(const strtab_t *self, const char *str, size_t len)
{
    assert(self);
    assert(str || len == 0);
    uint64_t hash = XXH3_64bits(str, len);
    return self->slots[s_probe(self, str, len, hash)];
}

size_t
strtab_count(const strtab_t *self)
{
    assert(self);
    return self->count;
}

const char *
strtab_str(const strtab_t *self, uint32_t id)
{
    assert(self);
    assert(id < self->count);
    return self->entries[id].str;
}

size_t
strtab_len(const strtab_t *self, uint32_t id)
{
    assert(self);
    assert(id < self->count);
    return self->entries[id].len;
}
