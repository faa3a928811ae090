/*  metrics.c - clustering quality against ground truth (see metrics.h, SPEC §9, R§9).

    Every count is an exact integer: cluster and class sizes, contingency cells and the pair
    sums S, A, B and N2 = C(n, 2) are kept in unsigned 128-bit arithmetic, so nothing
    overflows and a perfect match scores exactly 1.0. Where the reference divides two Python
    integers (which is correctly rounded), s_div_u128() performs the same correctly rounded
    division to double.

    The work is O(n) plus O(number of distinct labels): labels are first renumbered densely in
    order of first appearance, then the items are grouped by one label with a counting sort
    and the cells of each group are counted in a scratch array indexed by the other label.
    No dense classes x clusters matrix is ever built. Entropy sums visit groups in order of
    first appearance and, within a group, the other label in order of first appearance, so
    the result does not depend on how the caller numbered its labels.
*/
#include "metrics.h"

#include "err.h"
#include "xalloc.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/*  Marks a label not seen yet in the renumbering tables. */
#define S_UNSEEN UINT32_MAX

/*  Labels are renumbered through a direct array while the largest label is at most this
    factor times n (plus a constant); beyond that a hash table keeps memory O(n). */
#define S_DIRECT_FACTOR 4
#define S_DIRECT_SLACK 1024

/*  Bit length of x (0 for 0). */
static int
s_bitlen(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    uint64_t lo = (uint64_t)x;
    if (hi != 0) {
        return 128 - __builtin_clzll(hi);
    }
    if (lo != 0) {
        return 64 - __builtin_clzll(lo);
    }
    return 0;
}

/*  a / b rounded once to the nearest double, ties to even (what Python's int / int does).
    The quotient is developed by long division until it has at least 55 significant bits;
    whatever lies below the 53 kept bits (the quotient's low bits plus a sticky bit for a
    nonzero remainder) then decides the rounding. b must be nonzero. */
static double
s_div_u128(u128 a, u128 b)
{
    assert(b != 0);
    if (a == 0) {
        return 0.0;
    }
    u128 q = a / b;
    u128 r = a % b;
    int scale = 0; /* the exact quotient is (q + r/b) * 2^scale */
    const u128 min_q = (u128)1 << 54;
    while (q < min_q) {
        /*  One more quotient bit: doubles r without overflowing (r < b <= 2^128 - 1). */
        unsigned bit = 0;
        if (r >= b - r) {
            r -= b - r;
            bit = 1;
        } else {
            r += r;
        }
        q = (q << 1) | bit;
        scale--;
    }
    int drop = s_bitlen(q) - 53; /* >= 2 */
    uint64_t mant = (uint64_t)(q >> drop);
    u128 low = q & (((u128)1 << drop) - 1);
    u128 half = (u128)1 << (drop - 1);
    bool up = false;
    if (low > half) {
        up = true;
    } else if (low == half) {
        up = r != 0 || (mant & 1u) != 0;
    }
    if (up) {
        mant++;
        if (mant == (uint64_t)1 << 53) {
            mant >>= 1;
            drop++;
        }
    }
    /*  mant < 2^53 is exact as a double and the scale stays far from the subnormal range. */
    return ldexp((double)mant, drop + scale);
}

/*  C(m, 2) exactly. */
static u128
s_pairs(uint64_t m)
{
    return m < 2 ? 0 : (u128)m * (m - 1) / 2;
}

/*  Mixes a 32-bit label into a hash-table index (the murmur3 finalizer). */
static uint32_t
s_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/*  Renumbers labels[0..n) to 0..k-1 in order of first appearance into out[], stores k in
 *k_out and returns the size of each new label (k entries; the caller frees it). */
static uint64_t *
s_renumber(const uint32_t *labels, size_t n, uint32_t *out, size_t *k_out)
{
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] > max) {
            max = labels[i];
        }
    }
    size_t k = 0;
    if ((uint64_t)max <= (uint64_t)n * S_DIRECT_FACTOR + S_DIRECT_SLACK) {
        uint32_t *map = xmalloc(((size_t)max + 1) * sizeof *map);
        memset(map, 0xff, ((size_t)max + 1) * sizeof *map);
        for (size_t i = 0; i < n; i++) {
            uint32_t *slot = &map[labels[i]];
            if (*slot == S_UNSEEN) {
                *slot = (uint32_t)k++;
            }
            out[i] = *slot;
        }
        free(map);
    } else {
        /*  Sparse labels: open addressing with linear probing, load factor <= 1/2. */
        size_t cap = 16;
        while (cap < 2 * n) {
            cap *= 2;
        }
        uint32_t *keys = xmalloc(cap * sizeof *keys);
        uint32_t *vals = xmalloc(cap * sizeof *vals);
        memset(vals, 0xff, cap * sizeof *vals);
        for (size_t i = 0; i < n; i++) {
            size_t at = s_mix32(labels[i]) & (cap - 1);
            while (vals[at] != S_UNSEEN && keys[at] != labels[i]) {
                at = (at + 1) & (cap - 1);
            }
            if (vals[at] == S_UNSEEN) {
                keys[at] = labels[i];
                vals[at] = (uint32_t)k++;
            }
            out[i] = vals[at];
        }
        free(keys);
        free(vals);
    }
    uint64_t *size = xcalloc(k ? k : 1, sizeof *size);
    for (size_t i = 0; i < n; i++) {
        size[out[i]]++;
    }
    *k_out = k;
    return size;
}

/*  Entropy of a labelling with sizes size[0..k) over n items:
    -sum (n_c/n) ln(n_c/n), in label order. */
static double
s_entropy(const uint64_t *size, size_t k, size_t n)
{
    double sum = 0.0;
    for (size_t c = 0; c < k; c++) {
        double p = (double)size[c] / (double)n;
        sum += p * log(p);
    }
    return -sum;
}

/*  Conditional entropy H(inner | outer) = sum_o (n_o/n) * (-sum_i (n_io/n_o) ln(n_io/n_o)),
    with outer groups in label order and, within a group, inner labels in order of first
    appearance. Also stores S = sum C(n_io, 2) over the cells in *pairs_out. outer has
    k_outer labels of sizes outer_size; inner has k_inner labels. */
static double
s_cond_entropy(const uint32_t *outer, const uint64_t *outer_size, size_t k_outer,
               const uint32_t *inner, size_t k_inner, size_t n, u128 *pairs_out)
{
    /*  Counting sort of the inner labels by outer label; stable, so item order is kept
        within each group. */
    size_t *next = xmalloc((k_outer ? k_outer : 1) * sizeof *next);
    size_t at = 0;
    for (size_t o = 0; o < k_outer; o++) {
        next[o] = at;
        at += outer_size[o];
    }
    uint32_t *grouped = xmalloc((n ? n : 1) * sizeof *grouped);
    for (size_t i = 0; i < n; i++) {
        grouped[next[outer[i]]++] = inner[i];
    }
    free(next);

    uint64_t *count = xmalloc((k_inner ? k_inner : 1) * sizeof *count);
    uint32_t *stamp = xmalloc((k_inner ? k_inner : 1) * sizeof *stamp);
    uint32_t *touched = xmalloc((k_inner ? k_inner : 1) * sizeof *touched);
    memset(stamp, 0xff, (k_inner ? k_inner : 1) * sizeof *stamp);

    u128 pairs = 0;
    double h = 0.0;
    size_t start = 0;
    for (size_t o = 0; o < k_outer; o++) {
        uint64_t n_o = outer_size[o];
        size_t n_touched = 0;
        for (size_t j = start; j < start + n_o; j++) {
            uint32_t c = grouped[j];
            if (stamp[c] != (uint32_t)o) {
                stamp[c] = (uint32_t)o;
                count[c] = 0;
                touched[n_touched++] = c;
            }
            count[c]++;
        }
        start += n_o;
        double sum = 0.0;
        for (size_t t = 0; t < n_touched; t++) {
            uint64_t m = count[touched[t]];
            pairs += s_pairs(m);
            double p = (double)m / (double)n_o;
            sum += p * log(p);
        }
        /*  A pure group has one cell with p = 1 and ln 1 = 0, so it adds exactly zero. */
        double h_o = -sum;
        h += ((double)n_o / (double)n) * h_o;
    }
    free(grouped);
    free(count);
    free(stamp);
    free(touched);
    *pairs_out = pairs;
    return h;
}

int
metrics_score(const uint32_t *truth, const uint32_t *pred, size_t n, metrics_t *out)
{
    assert(out);
    assert(n == 0 || (truth && pred));
    /*  Dense ids and item indices are 32-bit, and C(n, 2)^2 must fit in 128 bits. */
    if (n >= UINT32_MAX) {
        return CADRE_ELIMIT;
    }
    uint32_t *t = xmalloc((n ? n : 1) * sizeof *t);
    uint32_t *p = xmalloc((n ? n : 1) * sizeof *p);
    size_t k_t = 0;
    size_t k_p = 0;
    uint64_t *t_size = s_renumber(truth, n, t, &k_t);
    uint64_t *p_size = s_renumber(pred, n, p, &k_p);

    /*  Pair counts: S over contingency cells, A over predicted clusters, B over classes. */
    u128 a = 0;
    for (size_t k = 0; k < k_p; k++) {
        a += s_pairs(p_size[k]);
    }
    u128 b = 0;
    for (size_t c = 0; c < k_t; c++) {
        b += s_pairs(t_size[c]);
    }
    u128 s = 0;
    u128 s_again = 0;
    double h_c_given_k = s_cond_entropy(p, p_size, k_p, t, k_t, n, &s);
    double h_k_given_c = s_cond_entropy(t, t_size, k_t, p, k_p, n, &s_again);
    assert(s == s_again);

    /*  ARI (R§9): expected = A*B/N2 and max = (A+B)/2, each one correctly rounded division;
        S enters as a correctly rounded double, as a Python int minus a float does. */
    if (n < 2) {
        out->adjusted_rand_index = 1.0;
    } else {
        u128 n2 = s_pairs(n);
        double expected = s_div_u128(a * b, n2);
        double max = s_div_u128(a + b, 2);
        if (max == expected) {
            out->adjusted_rand_index = 1.0;
        } else {
            out->adjusted_rand_index = (s_div_u128(s, 1) - expected) / (max - expected);
        }
    }

    /*  Homogeneity and completeness: 1 - H(C|K)/H(C) and 1 - H(K|C)/H(K). */
    double h_c = n ? s_entropy(t_size, k_t, n) : 0.0;
    double h_k = n ? s_entropy(p_size, k_p, n) : 0.0;
    out->homogeneity = (n == 0 || h_c == 0.0) ? 1.0 : 1.0 - h_c_given_k / h_c;
    out->completeness = (n == 0 || h_k == 0.0) ? 1.0 : 1.0 - h_k_given_c / h_k;

    /*  Singleton recall: truth singletons that are also predicted singletons. */
    uint64_t singles = 0;
    uint64_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (t_size[t[i]] == 1) {
            singles++;
            if (p_size[p[i]] == 1) {
                kept++;
            }
        }
    }
    out->singleton_recall = singles == 0 ? 1.0 : s_div_u128(kept, singles);

    /*  Pairwise scores over co-clustered pairs. */
    double prec = a == 0 ? 1.0 : s_div_u128(s, a);
    double rec = b == 0 ? 1.0 : s_div_u128(s, b);
    out->pairwise_precision = prec;
    out->pairwise_recall = rec;
    out->pairwise_f1 = prec + rec == 0.0 ? 0.0 : 2.0 * prec * rec / (prec + rec);
    double hom = out->homogeneity;
    double com = out->completeness;
    out->v_measure = hom + com == 0.0 ? 0.0 : 2.0 * hom * com / (hom + com);

    free(t);
    free(p);
    free(t_size);
    free(p_size);
    return 0;
}

/*  Exposed for the unit tests only (declared there): the correctly rounded division of two
    128-bit integers given as high and low halves. */
double metrics_div_u128_for_test(uint64_t a_hi, uint64_t a_lo, uint64_t b_hi, uint64_t b_lo);

double
metrics_div_u128_for_test(uint64_t a_hi, uint64_t a_lo, uint64_t b_hi, uint64_t b_lo)
{
    return s_div_u128(((u128)a_hi << 64) | a_lo, ((u128)b_hi << 64) | b_lo);
}
