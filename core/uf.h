/*  uf.h - union-find over dense element indexes 0..n-1.

    Path halving on find and union by size, so a sequence of m operations costs
    O(m α(n)). Elements can be added at any time (uf_grow). The representative of a set is
    an implementation detail: callers that need stable labels canonicalise (e.g. by the
    smallest member), never rely on which root wins.
*/
#ifndef CADRE_UF_H
#define CADRE_UF_H

#include <stddef.h>
#include <stdint.h>

typedef struct uf_t uf_t;

/*  A new structure with n singleton elements. Never returns NULL. */
uf_t *uf_new(size_t n);
/*  Frees the structure and NULLs *self_p; NULL is a no-op. */
void uf_destroy(uf_t **self_p);
/*  Number of elements. */
size_t uf_size(const uf_t *self);
/*  Grows to n elements (new ones are singletons); a smaller n is ignored. */
void uf_grow(uf_t *self, size_t n);
/*  Resets element x to a singleton. Only valid when every element that pointed to x has been
    reset too (callers reset whole components at once). */
void uf_reset(uf_t *self, uint32_t x);
/*  The representative of x's set. */
uint32_t uf_find(uf_t *self, uint32_t x);
/*  Joins the sets of x and y. Returns 1 if they were different sets, 0 otherwise. */
int uf_union(uf_t *self, uint32_t x, uint32_t y);
/*  Number of elements in x's set. */
uint32_t uf_set_size(uf_t *self, uint32_t x);

#endif
