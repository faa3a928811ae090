/*  mp.c - the tests' MessagePack byte builder (see mp.h). */
#include "mp.h"

#include "xalloc.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include <cmocka.h>

void
mp_raw(mp_t *m, const void *p, size_t n)
{
    xgrow(&m->data, &m->cap, m->len + n + 1);
    memcpy(m->data + m->len, p, n);
    m->len += n;
}

void
mp_byte(mp_t *m, unsigned b)
{
    unsigned char c = (unsigned char)b;
    mp_raw(m, &c, 1);
}

void
mp_be(mp_t *m, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        mp_byte(m, (unsigned)((v >> (8 * i)) & 0xFF));
    }
}

static void
s_hdr(mp_t *m, uint32_t n, unsigned fix, unsigned fixmax, unsigned m8, unsigned m16, unsigned m32)
{
    if (n <= fixmax) {
        mp_byte(m, fix | n);
    } else if (m8 && n < 256) {
        mp_byte(m, m8);
        mp_be(m, n, 1);
    } else if (n < 65536) {
        mp_byte(m, m16);
        mp_be(m, n, 2);
    } else {
        mp_byte(m, m32);
        mp_be(m, n, 4);
    }
}

void
mp_map(mp_t *m, uint32_t n)
{
    s_hdr(m, n, 0x80, 15, 0, 0xDE, 0xDF);
}

void
mp_arr(mp_t *m, uint32_t n)
{
    s_hdr(m, n, 0x90, 15, 0, 0xDC, 0xDD);
}

void
mp_strn(mp_t *m, const char *s, size_t n)
{
    s_hdr(m, (uint32_t)n, 0xA0, 31, 0xD9, 0xDA, 0xDB);
    mp_raw(m, s, n);
}

void
mp_str(mp_t *m, const char *s)
{
    mp_strn(m, s, strlen(s));
}

void
mp_bin(mp_t *m, const char *s, size_t n)
{
    mp_byte(m, 0xC4);
    mp_be(m, n, 1);
    mp_raw(m, s, n);
}

void
mp_nil(mp_t *m)
{
    mp_byte(m, 0xC0);
}

void
mp_uint(mp_t *m, uint64_t v)
{
    if (v < 128) {
        mp_byte(m, (unsigned)v);
    } else if (v < 256) {
        mp_byte(m, 0xCC);
        mp_be(m, v, 1);
    } else if (v < 65536) {
        mp_byte(m, 0xCD);
        mp_be(m, v, 2);
    } else if (v <= UINT32_MAX) {
        mp_byte(m, 0xCE);
        mp_be(m, v, 4);
    } else {
        mp_byte(m, 0xCF);
        mp_be(m, v, 8);
    }
}

void
mp_uint_wide(mp_t *m, uint64_t v)
{
    if (v < 128) {
        mp_byte(m, (unsigned)v);
    } else {
        mp_byte(m, 0xCF);
        mp_be(m, v, 8);
    }
}

void
mp_int_wide(mp_t *m, int64_t v)
{
    if (v >= 0) {
        mp_uint_wide(m, (uint64_t)v);
    } else if (v >= -32) {
        mp_byte(m, (unsigned)(v & 0xFF));
    } else {
        mp_byte(m, 0xD3);
        mp_be(m, (uint64_t)v, 8);
    }
}

void
mp_f64(mp_t *m, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    mp_byte(m, 0xCB);
    mp_be(m, bits, 8);
}

void
mp_f32(mp_t *m, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    mp_byte(m, 0xCA);
    mp_be(m, bits, 4);
}

/*  Packs a jansson tree (keys in the tree's order). */
static void
s_json(mp_t *m, const json_t *v, mp_ints_t ints)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        mp_map(m, (uint32_t)json_object_size(v));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            mp_str(m, key);
            s_json(m, val, ints);
        }
        break;
    }
    case JSON_ARRAY:
        mp_arr(m, (uint32_t)json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++) {
            s_json(m, json_array_get(v, i), ints);
        }
        break;
    case JSON_STRING:
        mp_strn(m, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        if (ints == MP_INTS_WIDE) {
            mp_int_wide(m, (int64_t)json_integer_value(v));
        } else {
            assert_true(json_integer_value(v) >= 0);
            mp_uint(m, (uint64_t)json_integer_value(v));
        }
        break;
    case JSON_REAL:
        mp_f64(m, json_real_value(v));
        break;
    case JSON_TRUE:
        mp_byte(m, 0xC3);
        break;
    case JSON_FALSE:
        mp_byte(m, 0xC2);
        break;
    case JSON_NULL:
        mp_nil(m);
        break;
    }
}

mp_t
mp_from_json(const char *text, mp_ints_t ints)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) {
        fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
    }
    mp_t m = {0};
    s_json(&m, v, ints);
    json_decref(v);
    return m;
}
