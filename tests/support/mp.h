/*  mp.h - a MessagePack byte builder for the tests: hand-made messages (good and malformed)
    and the MessagePack form of JSON texts, independent of the codecs under test.

    An mp_t is a plain growable byte buffer; the caller frees its data. Integers come in two
    forms: MP_INTS_MINIMAL packs them as msgpack-c does (the smallest form, so bytes compare
    with cadre's encoder), MP_INTS_WIDE uses 64-bit forms above the fixints (what another
    encoder may send, which decoders must accept).
*/
#ifndef CADRE_TEST_MP_H
#define CADRE_TEST_MP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data; /* bytes (owned) */
    size_t len; /* used */
    size_t cap; /* allocated */
} mp_t;

/*  How mp_json packs JSON integers. */
typedef enum {
    MP_INTS_MINIMAL, /* smallest unsigned form; negative integers are a test error */
    MP_INTS_WIDE     /* fixint, else uint64 / int64 */
} mp_ints_t;

void mp_raw(mp_t *m, const void *p, size_t n);
void mp_byte(mp_t *m, unsigned b);
/*  v big-endian in n bytes. */
void mp_be(mp_t *m, uint64_t v, int n);
void mp_map(mp_t *m, uint32_t n);
void mp_arr(mp_t *m, uint32_t n);
void mp_strn(mp_t *m, const char *s, size_t n);
void mp_str(mp_t *m, const char *s);
/*  bin 8 (n < 256). */
void mp_bin(mp_t *m, const char *s, size_t n);
void mp_nil(mp_t *m);
/*  The smallest unsigned form, as msgpack-c packs it. */
void mp_uint(mp_t *m, uint64_t v);
/*  A positive fixint, else uint 64. */
void mp_uint_wide(mp_t *m, uint64_t v);
/*  mp_uint_wide for v >= 0; a negative fixint, else int 64. */
void mp_int_wide(mp_t *m, int64_t v);
void mp_f64(mp_t *m, double d);
void mp_f32(mp_t *m, float f);
/*  The MessagePack form of a JSON text (keys in the text's order; \u0000 allowed in
    strings). A text that does not parse fails the test. */
mp_t mp_from_json(const char *text, mp_ints_t ints);

#endif
