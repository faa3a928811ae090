/*  u64map.c - open-addressing uint64 -> uint32 map (see u64map.h). */
#include "u64map.h"

#include "xalloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/*  One table slot; value U64MAP_NONE marks it empty. */
typedef struct {
    uint64_t key;   /* the key */
    uint32_t value; /* the value, or U64MAP_NONE when the slot is empty */
} s_slot_t;

struct u64map_t {
    s_slot_t *slots; /* the table, cap slots */
    size_t cap;      /* a power of two */
    size_t count;    /* occupied slots */
};

static uint64_t
s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void
s_alloc(u64map_t *self, size_t cap)
{
    self->slots = xmalloc(cap * sizeof *self->slots);
    for (size_t i = 0; i < cap; i++) {
        self->slots[i].value = U64MAP_NONE;
    }
    self->cap = cap;
    self->count = 0;
}

u64map_t *
u64map_new(void)
{
    u64map_t *self = xcalloc(1, sizeof *self);
    s_alloc(self, 16);
    return self;
}

void
u64map_destroy(u64map_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        free((*self_p)->slots);
        free(*self_p);
        *self_p = NULL;
    }
}

void
u64map_clear(u64map_t *self)
{
    for (size_t i = 0; i < self->cap; i++) {
        self->slots[i].value = U64MAP_NONE;
    }
    self->count = 0;
}

static size_t
s_probe(const u64map_t *self, uint64_t key)
{
    size_t mask = self->cap - 1;
    size_t i = (size_t)s_mix(key) & mask;
    while (self->slots[i].value != U64MAP_NONE && self->slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return i;
}

static void
s_grow(u64map_t *self)
{
    s_slot_t *old = self->slots;
    size_t old_cap = self->cap;
    s_alloc(self, old_cap * 2);
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].value != U64MAP_NONE) {
            size_t j = s_probe(self, old[i].key);
            self->slots[j] = old[i];
            self->count++;
        }
    }
    free(old);
}

uint32_t
u64map_get(const u64map_t *self, uint64_t key)
{
    return self->slots[s_probe(self, key)].value;
}

uint32_t
u64map_get_or_put(u64map_t *self, uint64_t key, uint32_t value)
{
    assert(value != U64MAP_NONE);
    if (2 * (self->count + 1) > self->cap) {
        s_grow(self);
    }
    size_t i = s_probe(self, key);
    if (self->slots[i].value == U64MAP_NONE) {
        self->slots[i].key = key;
        self->slots[i].value = value;
        self->count++;
    }
    return self->slots[i].value;
}

void
u64map_put(u64map_t *self, uint64_t key, uint32_t value)
{
    assert(value != U64MAP_NONE);
    if (2 * (self->count + 1) > self->cap) {
        s_grow(self);
    }
    size_t i = s_probe(self, key);
    if (self->slots[i].value == U64MAP_NONE) {
        self->count++;
    }
    self->slots[i].key = key;
    self->slots[i].value = value;
}

size_t
u64map_count(const u64map_t *self)
{
    return self->count;
}

void
u64map_each(const u64map_t *self, void (*fn)(uint64_t key, uint32_t value, void *arg), void *arg)
{
    for (size_t i = 0; i < self->cap; i++) {
        if (self->slots[i].value != U64MAP_NONE) {
            fn(self->slots[i].key, self->slots[i].value, arg);
        }
    }
}
