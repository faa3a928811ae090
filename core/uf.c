/*  uf.c - union-find with path halving and union by size (see uf.h). */
#include "uf.h"

#include "xalloc.h"

#include <assert.h>
#include <stdlib.h>

struct uf_t {
    uint32_t *parent; /* parent[x], parent[x] == x for roots */
    uint32_t *size;   /* set size, meaningful at roots */
    size_t n;         /* number of elements */
    size_t cap;       /* allocated slots */
};

uf_t *
uf_new(size_t n)
{
    uf_t *self = xcalloc(1, sizeof *self);
    uf_grow(self, n);
    return self;
}

void
uf_destroy(uf_t **self_p)
{
    assert(self_p);
    uf_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->parent);
    free(self->size);
    free(self);
    *self_p = NULL;
}

size_t
uf_size(const uf_t *self)
{
    return self->n;
}

void
uf_grow(uf_t *self, size_t n)
{
    if (n <= self->n) {
        return;
    }
    assert(n <= UINT32_MAX);
    if (n > self->cap) {
        size_t cap = self->cap ? self->cap : 64;
        while (cap < n) {
            cap *= 2;
        }
        self->parent = xrealloc(self->parent, cap * sizeof *self->parent);
        self->size = xrealloc(self->size, cap * sizeof *self->size);
        self->cap = cap;
    }
    for (size_t i = self->n; i < n; i++) {
        self->parent[i] = (uint32_t)i;
        self->size[i] = 1;
    }
    self->n = n;
}

void
uf_reset(uf_t *self, uint32_t x)
{
    assert(x < self->n);
    self->parent[x] = x;
    self->size[x] = 1;
}

uint32_t
uf_find(uf_t *self, uint32_t x)
{
    assert(x < self->n);
    uint32_t *p = self->parent;
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

int
uf_union(uf_t *self, uint32_t x, uint32_t y)
{
    uint32_t a = uf_find(self, x);
    uint32_t b = uf_find(self, y);
    if (a == b) {
        return 0;
    }
    if (self->size[a] < self->size[b]) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    self->parent[b] = a;
    self->size[a] += self->size[b];
    return 1;
}

uint32_t
uf_set_size(uf_t *self, uint32_t x)
{
    return self->size[uf_find(self, x)];
}
