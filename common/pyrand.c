/*  pyrand.c - MT19937 with CPython 3.11's seeding and derived draws (see pyrand.h).

    The recurrences are the reference MT19937 ones (Matsumoto and Nishimura, 1997-2002);
    the seeding through init_by_array and the derivations follow CPython's _randommodule.c
    and random.py behaviour as described in R§8.4.
*/
#include "pyrand.h"

#include <assert.h>
#include <stdio.h>

#define N 624
#define M 397
#define MATRIX_A 0x9908b0dfU
#define UPPER_MASK 0x80000000U
#define LOWER_MASK 0x7fffffffU

static void
s_init_genrand(pyrand_t *self, uint32_t s)
{
    self->mt[0] = s;
    for (int i = 1; i < N; i++) {
        self->mt[i] = 1812433253U * (self->mt[i - 1] ^ (self->mt[i - 1] >> 30)) + (uint32_t)i;
    }
    self->mti = N;
}

void
pyrand_seed_array(pyrand_t *self, const uint32_t *key, size_t n)
{
    assert(n >= 1);
    s_init_genrand(self, 19650218U);
    size_t i = 1;
    size_t j = 0;
    for (size_t k = (N > n ? N : n); k; k--) {
        self->mt[i] = (self->mt[i] ^ ((self->mt[i - 1] ^ (self->mt[i - 1] >> 30)) * 1664525U)) +
                      key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= N) {
            self->mt[0] = self->mt[N - 1];
            i = 1;
        }
        if (j >= n) {
            j = 0;
        }
    }
    for (size_t k = N - 1; k; k--) {
        self->mt[i] = (self->mt[i] ^ ((self->mt[i - 1] ^ (self->mt[i - 1] >> 30)) * 1566083941U)) -
                      (uint32_t)i;
        i++;
        if (i >= N) {
            self->mt[0] = self->mt[N - 1];
            i = 1;
        }
    }
    self->mt[0] = 0x80000000U; /* MSB is 1, assuring a non-zero initial array */
    self->mti = N;
}

void
pyrand_seed(pyrand_t *self, uint64_t magnitude)
{
    /* CPython splits |seed| into 32-bit limbs, least significant first; zero is [0]. */
    uint32_t key[2] = {(uint32_t)magnitude, (uint32_t)(magnitude >> 32)};
    pyrand_seed_array(self, key, key[1] ? 2 : 1);
}

uint32_t
pyrand_u32(pyrand_t *self)
{
    static const uint32_t mag01[2] = {0U, MATRIX_A};
    uint32_t y;
    if (self->mti >= N) {
        int kk;
        for (kk = 0; kk < N - M; kk++) {
            y = (self->mt[kk] & UPPER_MASK) | (self->mt[kk + 1] & LOWER_MASK);
            self->mt[kk] = self->mt[kk + M] ^ (y >> 1) ^ mag01[y & 1U];
        }
        for (; kk < N - 1; kk++) {
            y = (self->mt[kk] & UPPER_MASK) | (self->mt[kk + 1] & LOWER_MASK);
            self->mt[kk] = self->mt[kk + (M - N)] ^ (y >> 1) ^ mag01[y & 1U];
        }
        y = (self->mt[N - 1] & UPPER_MASK) | (self->mt[0] & LOWER_MASK);
        self->mt[N - 1] = self->mt[M - 1] ^ (y >> 1) ^ mag01[y & 1U];
        self->mti = 0;
    }
    y = self->mt[self->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

uint32_t
pyrand_getrandbits(pyrand_t *self, int k)
{
    assert(k >= 1 && k <= 32);
    return pyrand_u32(self) >> (32 - k);
}

/*  getrandbits(k) for 1 <= k <= 64, assembled like CPython: 32-bit words, least
    significant first, the last word shifted down to its remaining bits. */
static uint64_t
s_bits64(pyrand_t *self, int k)
{
    if (k <= 32) {
        return pyrand_getrandbits(self, k);
    }
    uint64_t lo = pyrand_u32(self);
    uint64_t hi = pyrand_u32(self) >> (64 - k);
    return lo | (hi << 32);
}

uint64_t
pyrand_below(pyrand_t *self, uint64_t n)
{
    assert(n >= 1);
    int k = 0;
    for (uint64_t v = n; v; v >>= 1) {
        k++;
    }
    uint64_t r = s_bits64(self, k);
    while (r >= n) {
        r = s_bits64(self, k);
    }
    return r;
}

int64_t
pyrand_randint(pyrand_t *self, int64_t a, int64_t b)
{
    assert(a <= b);
    uint64_t width = (uint64_t)b - (uint64_t)a + 1;
    return (int64_t)((uint64_t)a + pyrand_below(self, width));
}

void
pyrand_bytes(pyrand_t *self, uint8_t *out, size_t n)
{
    /* getrandbits(8n).to_bytes(n, 'little'): whole 32-bit words, each little-endian. */
    size_t i = 0;
    while (i < n) {
        size_t left = n - i;
        uint32_t w = left >= 4 ? pyrand_u32(self) : pyrand_u32(self) >> (32 - 8 * left);
        for (size_t b = 0; b < 4 && i < n; b++, i++) {
            out[i] = (uint8_t)(w >> (8 * b));
        }
    }
}

double
pyrand_random(pyrand_t *self)
{
    uint32_t a = pyrand_u32(self) >> 5;
    uint32_t b = pyrand_u32(self) >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

void
pyrand_uuid(pyrand_t *self, char out[37])
{
    uint8_t raw[16];
    pyrand_bytes(self, raw, sizeof raw);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9],
             raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]);
}
