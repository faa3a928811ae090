/*  slab.c - a size-class allocator over huge-page chunks (see slab.h). */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE, MAP_ANONYMOUS */
#include "slab.h"

#include "xalloc.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define S_CHUNK ((size_t)4 << 20) /* bytes mapped at a time */
#define S_ALIGN ((size_t)2 << 20) /* chunk alignment: one huge page */
#define S_CLASSES 14              /* 32 B .. 256 KiB */

_Static_assert(SLAB_MIN << (S_CLASSES - 1) == SLAB_MAX, "classes span SLAB_MIN..SLAB_MAX");

/*  A free block: the next free block of its class. */
typedef struct s_free {
    struct s_free *next;
} s_free_t;

struct slab_t {
    char **chunks;             /* mapped chunks (their aligned starts) */
    size_t n_chunks;           /* number of them */
    size_t cap_chunks;         /* slots in chunks */
    char *at;                  /* next unused byte of the current chunk */
    char *end;                 /* end of the current chunk */
    s_free_t *free[S_CLASSES]; /* free blocks per class */
};

slab_t *
slab_new(void)
{
    return xcalloc(1, sizeof(slab_t));
}

void
slab_destroy(slab_t **self_p)
{
    slab_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_chunks; i++) {
        munmap(self->chunks[i], S_CHUNK);
    }
    free(self->chunks);
    free(self);
    *self_p = NULL;
}

/*  The class of n bytes (n <= SLAB_MAX). */
static int
s_class(size_t n)
{
    int c = 0;
    while ((SLAB_MIN << c) < n) {
        c++;
    }
    return c;
}

/*  Maps a new chunk, aligned to S_ALIGN, and makes it current. */
static void
s_chunk(slab_t *self)
{
    size_t len = S_CHUNK + S_ALIGN;
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        fprintf(stderr, "slab: out of memory mapping %zu bytes\n", len);
        abort();
    }
    uintptr_t start = ((uintptr_t)raw + S_ALIGN - 1) & ~(uintptr_t)(S_ALIGN - 1);
    char *base = (char *)start;
    if (base > raw) {
        munmap(raw, (size_t)(base - raw));
    }
    munmap(base + S_CHUNK, (size_t)(raw + len - (base + S_CHUNK)));
#ifdef MADV_HUGEPAGE
    madvise(base, S_CHUNK, MADV_HUGEPAGE); /* a hint: ignored where THP is off */
#endif
    xgrow(&self->chunks, &self->cap_chunks, self->n_chunks + 1);
    self->chunks[self->n_chunks++] = base;
    self->at = base;
    self->end = base + S_CHUNK;
}

void *
slab_alloc(slab_t *self, size_t n, size_t *cap)
{
    assert(n > 0);
    if (n > SLAB_MAX) {
        *cap = n;
        return xmalloc(n);
    }
    int c = s_class(n);
    size_t size = SLAB_MIN << c;
    *cap = size;
    s_free_t *f = self->free[c];
    if (f) {
        self->free[c] = f->next;
        return f;
    }
    if ((size_t)(self->end - self->at) < size) {
        /* The rest of the chunk is cut into free blocks of the classes that fit. */
        while (self->at && self->end > self->at) {
            int k = s_class((size_t)(self->end - self->at));
            if ((SLAB_MIN << k) > (size_t)(self->end - self->at)) {
                k--;
            }
            if (k < 0) {
                break;
            }
            s_free_t *rest = (s_free_t *)self->at;
            rest->next = self->free[k];
            self->free[k] = rest;
            self->at += SLAB_MIN << k;
        }
        s_chunk(self);
    }
    void *p = self->at;
    self->at += size;
    return p;
}

void
slab_free(slab_t *self, void *p, size_t cap)
{
    if (!p) {
        return;
    }
    if (cap > SLAB_MAX) {
        free(p);
        return;
    }
    int c = s_class(cap);
    s_free_t *f = p;
    f->next = self->free[c];
    self->free[c] = f;
}

void
slab_grow(slab_t *self, void **p, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return;
    }
    size_t want = *cap ? *cap * 2 : need;
    want = want < need ? need : want;
    size_t got = 0;
    void *fresh = slab_alloc(self, want, &got);
    if (*p) {
        memcpy(fresh, *p, *cap);
        slab_free(self, *p, *cap);
    }
    *p = fresh;
    *cap = got;
}
