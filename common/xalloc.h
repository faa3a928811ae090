/*  xalloc.h - allocation that never returns NULL.

    Every allocation in cadre goes through these wrappers; on exhaustion they print the
    caller's file:line and abort, so no other code carries out-of-memory branches.
*/
#ifndef CADRE_XALLOC_H
#define CADRE_XALLOC_H

#include <stddef.h>

#define xmalloc(n) xalloc_malloc((n), __FILE__, __LINE__)
#define xcalloc(n, s) xalloc_calloc((n), (s), __FILE__, __LINE__)
#define xrealloc(p, n) xalloc_realloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s) xalloc_strdup((s), __FILE__, __LINE__)
#define xstrndup(s, n) xalloc_strndup((s), (n), __FILE__, __LINE__)
/*  Grows *array (of *cap elements of size elem) so it holds at least need elements. */
#define xgrow(array, cap, need)                                                                    \
    xalloc_grow((void **)(array), (cap), (need), sizeof(**(array)), __FILE__, __LINE__)

void *xalloc_malloc(size_t n, const char *file, int line);
void *xalloc_calloc(size_t n, size_t size, const char *file, int line);
void *xalloc_realloc(void *p, size_t n, const char *file, int line);
char *xalloc_strdup(const char *s, const char *file, int line);
/*  The first n bytes at s plus a NUL (s may be NULL when n is 0). */
char *xalloc_strndup(const char *s, size_t n, const char *file, int line);
void xalloc_grow(void **array, size_t *cap, size_t need, size_t elem, const char *file, int line);

/*  printf into a freshly allocated string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
