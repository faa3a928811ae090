/*  slab.h - a size-class allocator for many small, long-lived blocks (the DECNET adapter's
    per-source events and strings).

    Blocks come in power-of-two classes from SLAB_MIN to SLAB_MAX bytes, cut from large
    chunks mapped once (and marked for transparent huge pages where the kernel offers them,
    so that touching hundreds of megabytes costs a few hundred page faults instead of tens of
    thousands); a freed block goes on its class's free list and serves the next request of
    that class. Larger requests go to malloc. Memory is returned to the system only when the
    slab is destroyed: the peak stays mapped, which suits an adapter whose open sources come
    and go (--flush-idle) around a steady size.
*/
#ifndef CADRE_SLAB_H
#define CADRE_SLAB_H

#include <stddef.h>

#define SLAB_MIN ((size_t)32)        /* smallest class, bytes */
#define SLAB_MAX ((size_t)256 << 10) /* largest class, bytes; larger blocks are malloc'd */

typedef struct slab_t slab_t;

/*  Creates an empty slab. Never returns NULL. */
slab_t *slab_new(void);
/*  Unmaps every chunk (every block of the slab becomes invalid) and NULLs *self_p. NULL is a
    no-op. Blocks over SLAB_MAX must have been freed with slab_free. */
void slab_destroy(slab_t **self_p);

/*  A block of at least n bytes (n > 0), aligned for any type; *cap gets its usable size (the
    class size). Never returns NULL (aborts when memory runs out, as xmalloc does). */
void *slab_alloc(slab_t *self, size_t n, size_t *cap);
/*  Gives back block p of capacity cap (as slab_alloc returned it). NULL is a no-op. */
void slab_free(slab_t *self, void *p, size_t cap);
/*  Makes *p (capacity *cap; NULL with 0 for none) at least need bytes, keeping its first
    *cap bytes: a no-op when it is large enough, else a block of the next classes, the old
    one freed. */
void slab_grow(slab_t *self, void **p, size_t *cap, size_t need);

#endif
