/*  xalloc.c - allocation wrappers that abort on exhaustion. */
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_oom(size_t n, const char *file, int line)
{
    fprintf(stderr, "cadre: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *
xalloc_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        s_oom(n, file, line);
    }
    return p;
}

void *
xalloc_calloc(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        s_oom(n * size, file, line);
    }
    return p;
}

void *
xalloc_realloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        s_oom(n, file, line);
    }
    return q;
}

char *
xalloc_strdup(const char *s, const char *file, int line)
{
    size_t n = strlen(s) + 1;
    char *p = xalloc_malloc(n, file, line);
    memcpy(p, s, n);
    return p;
}

char *
xalloc_strndup(const char *s, size_t n, const char *file, int line)
{
    char *p = xalloc_malloc(n + 1, file, line);
    if (n > 0) { /* s may be NULL when n is 0 (msgpack-c's empty strings) */
        memcpy(p, s, n);
    }
    p[n] = '\0';
    return p;
}

void
xalloc_grow(void **array, size_t *cap, size_t need, size_t elem, const char *file, int line)
{
    if (need <= *cap) {
        return;
    }
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        n *= 2;
    }
    *array = xalloc_realloc(*array, n * elem, file, line);
    *cap = n;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        abort();
    }
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
