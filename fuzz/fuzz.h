/*  fuzz.h - what the fuzz targets share (docs/fuzzing.md).

    Each fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput() for one decoder of outside
    input. It must accept any bytes: a decoder may refuse them, never crash, leak, read out
    of bounds or hit undefined behaviour (ASan and UBSan catch those). Where an encoder
    exists, a target also checks the round trip: what decodes, encodes, and decodes again to
    an equal value. A broken property calls FUZZ_CHECK, which prints it and aborts, so
    libFuzzer (and the replay tests) report it like any crash.

    The same file links with libFuzzer (CADRE_FUZZ) or with replay.c's main(), which feeds
    it the committed corpora in every ctest run.
*/
#ifndef CADRE_FUZZ_FUZZ_H
#define CADRE_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The libFuzzer entry point: runs one input. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*  Aborts with file:line, the condition and a printf-style explanation when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: %s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/*  True when both strings are NULL, or both are set and equal. */
static inline bool
fuzz_streq(const char *a, const char *b)
{
    if (!a || !b) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

/*  Splits data into lines: returns true with *line / *len set to the next line (without its
    '\n', borrowed from data) and *pos moved past it, or false when no bytes are left. */
static inline bool
fuzz_next_line(const uint8_t *data, size_t size, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= size) {
        return false;
    }
    const uint8_t *start = data + *pos;
    const uint8_t *nl = memchr(start, '\n', size - *pos);
    *line = (const char *)start;
    *len = nl ? (size_t)(nl - start) : size - *pos;
    *pos += *len + (nl ? 1 : 0);
    return true;
}

#endif
