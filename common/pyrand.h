/*  pyrand.h - a random stream bit-identical to CPython 3.11's `random.Random(seed)`.

    The generator must reproduce DECNET's factory draw for draw (SPEC §8, R§8.4): MT19937
    seeded through init_by_array over the 32-bit limbs of |seed|, and CPython's derivations
    of getrandbits, randbelow, randint, choice and randbytes on top of it. pyrand_t is a
    plain value (caller-allocated, no heap), so copies fork the stream.
*/
#ifndef CADRE_PYRAND_H
#define CADRE_PYRAND_H

#include <stddef.h>
#include <stdint.h>

/*  MT19937 state. */
typedef struct {
    uint32_t mt[624]; /* state vector */
    int mti;          /* next index into mt */
} pyrand_t;

/*  Seeds like random.seed(n) for an integer n, given magnitude = |n| (Python seeds a
    negative n exactly as its absolute value): key = the 32-bit limbs of |n|, least
    significant first ([0] for 0). */
void pyrand_seed(pyrand_t *self, uint64_t magnitude);
/*  Seeds from an explicit init_by_array key of n 32-bit words (n >= 1). */
void pyrand_seed_array(pyrand_t *self, const uint32_t *key, size_t n);
/*  The next raw 32-bit output (genrand_uint32). */
uint32_t pyrand_u32(pyrand_t *self);
/*  getrandbits(k) for 1 <= k <= 32. */
uint32_t pyrand_getrandbits(pyrand_t *self, int k);
/*  _randbelow(n) for n >= 1: draws getrandbits(bit_length(n)) until below n. */
uint64_t pyrand_below(pyrand_t *self, uint64_t n);
/*  randint(a, b), a <= b, b - a < 2^32. */
int64_t pyrand_randint(pyrand_t *self, int64_t a, int64_t b);
/*  randbytes(n): getrandbits(8n) in little-endian byte order. */
void pyrand_bytes(pyrand_t *self, uint8_t *out, size_t n);
/*  random(): a double in [0, 1) from two outputs (53 bits). */
double pyrand_random(pyrand_t *self);
/*  A uuid-shaped id from 16 random bytes: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into out
    (>= 37 bytes), no version bits set (R§8.4). */
void pyrand_uuid(pyrand_t *self, char out[37]);

#endif
