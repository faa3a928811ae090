/*  test_metrics.c - clustering metrics (metrics.h; SPEC §9, R§9, R§11 "Metrics").

    Expected values that are not degenerate were computed independently during development
    with a Python 3 standard-library reimplementation of R§9: pair counts and divisions with
    Python integers (int / int is correctly rounded), entropies with math.log in the same
    evaluation order; the doubles were printed with float.hex() and are written below as C
    hex-float literals. Python is not needed to run these tests.
*/
#include "metrics.h"

#include "err.h"
#include "xalloc.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

/*  The correctly rounded 128-bit division inside metrics.c (a test hook, not public API). */
double metrics_div_u128_for_test(uint64_t a_hi, uint64_t a_lo, uint64_t b_hi, uint64_t b_lo);

/*  Tolerance for entropy-based values (R§12.20). */
#define TOL 1e-12

/*  Number of elements of an array. */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*  All eight scores, in metrics_t order, for table-driven checks. */
typedef struct {
    double ari;  /* adjusted_rand_index */
    double hom;  /* homogeneity */
    double com;  /* completeness */
    double srec; /* singleton_recall */
    double prec; /* pairwise_precision */
    double rec;  /* pairwise_recall */
    double f1;   /* pairwise_f1 */
    double v;    /* v_measure */
} expect_t;

static metrics_t
s_score(const uint32_t *truth, const uint32_t *pred, size_t n)
{
    metrics_t m;
    assert_int_equal(metrics_score(truth, pred, n, &m), 0);
    return m;
}

static void
s_assert_near(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= TOL)) {
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
    }
}

static void
s_assert_exact(double got, double want, const char *what)
{
    if (got != want) {
        fail_msg("%s: got %.17g, want exactly %.17g", what, got, want);
    }
}

/*  Checks every score against want within TOL (values of exactly 0 or 1 must be exact). */
static void
s_check(const metrics_t *m, const expect_t *want)
{
    const double got[8] = {m->adjusted_rand_index, m->homogeneity,        m->completeness,
                           m->singleton_recall,    m->pairwise_precision, m->pairwise_recall,
                           m->pairwise_f1,         m->v_measure};
    const double exp[8] = {want->ari,  want->hom, want->com, want->srec,
                           want->prec, want->rec, want->f1,  want->v};
    static const char *const names[8] = {
        "adjusted_rand_index", "homogeneity",     "completeness", "singleton_recall",
        "pairwise_precision",  "pairwise_recall", "pairwise_f1",  "v_measure"};
    for (int i = 0; i < 8; i++) {
        if (exp[i] == 0.0 || exp[i] == 1.0) {
            s_assert_exact(got[i], exp[i], names[i]);
        } else {
            s_assert_near(got[i], exp[i], names[i]);
        }
    }
}

static const expect_t s_all_one = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};

/* ----------------------------------------------------------------------------------------- */
/*  Correctly rounded 128-bit division. */

/*  One division case: a / b with both as (high, low) halves, and Python's a / b. */
typedef struct {
    uint64_t a_hi; /* numerator, high 64 bits */
    uint64_t a_lo; /* numerator, low 64 bits */
    uint64_t b_hi; /* denominator, high 64 bits */
    uint64_t b_lo; /* denominator, low 64 bits */
    double want;   /* float.hex() of Python's a / b */
} div_case_t;

static void
test_div_u128_cases(void **state)
{
    (void)state;
    static const div_case_t cases[] = {
        /* ties to even, a tie broken by a nonzero remainder, mantissa carry */
        {0x0000000000000000u, 0x0020000000000001u, 0x0000000000000000u, 0x0000000000000001u,
         0x1.0000000000000p+53},
        {0x0000000000000000u, 0x0020000000000003u, 0x0000000000000000u, 0x0000000000000001u,
         0x1.0000000000002p+53},
        {0x0000000000000000u, 0x0040000000000002u, 0x0000000000000000u, 0x0000000000000002u,
         0x1.0000000000000p+53},
        {0x0000000000000000u, 0x0060000000000004u, 0x0000000000000000u, 0x0000000000000003u,
         0x1.0000000000001p+53},
        {0x0000000000000000u, 0x003fffffffffffffu, 0x0000000000000000u, 0x0000000000000001u,
         0x1.0000000000000p+54},
        /* small fractions */
        {0x0000000000000000u, 0x0000000000000001u, 0x0000000000000000u, 0x0000000000000003u,
         0x1.5555555555555p-2},
        {0x0000000000000000u, 0x0000000000000002u, 0x0000000000000000u, 0x0000000000000003u,
         0x1.5555555555555p-1},
        {0x0000000000000000u, 0x0000000000000001u, 0x0000000000000000u, 0x000000000000000au,
         0x1.999999999999ap-4},
        /* the extremes of the 128-bit range */
        {0xffffffffffffffffu, 0xffffffffffffffffu, 0x0000000000000000u, 0x0000000000000001u,
         0x1.0000000000000p+128},
        {0xffffffffffffffffu, 0xffffffffffffffffu, 0xffffffffffffffffu, 0xffffffffffffffffu,
         0x1.0000000000000p+0},
        {0x0000000000000000u, 0x0000000000000001u, 0xffffffffffffffffu, 0xffffffffffffffffu,
         0x1.0000000000000p-128},
        {0xffffffffffffffffu, 0xffffffffffffffffu, 0x0000000000000000u, 0x0000000000000003u,
         0x1.5555555555555p+126},
        {0x8000000000000600u, 0x0000000000000000u, 0x0000000000000000u, 0x0000000000100001u,
         0x1.ffffe00002001p+106},
        {0x0000000000000000u, 0x0000000000000000u, 0x0000000000000000u, 0x0000000000000005u, 0.0},
        /* random.getrandbits() operands (seed 11) */
        {0x0000000027e41b32u, 0x46bec9b16e398115u, 0x0000000000000000u, 0x0db4da5f7ef412b1u,
         0x1.74876e416c000p+33},
        {0x000ec991db5b5fabu, 0x8f4d3e27dda1494cu, 0x00965edadae44550u, 0x8201e2bd73ab4876u,
         0x1.92cc932e29810p-4},
        {0x0000000000000000u, 0x00019b982f45e678u, 0x00bea450cb008853u, 0x9d2c67eda13ffe79u,
         0x1.1459e37bf1088p-71},
        {0x0000000000000000u, 0x0000000000e4a7dbu, 0x0000000000002279u, 0x17362f25244caf9cu,
         0x1.a88144f8010a3p-54},
        {0x0000000000000000u, 0x00000000000004c3u, 0x0000002fa7677796u, 0x73f778aaf6fa5db8u,
         0x1.9948c4af82c20p-92},
        {0x0000000000000000u, 0x000000079f8558a6u, 0x0000000000000000u, 0x0000000000001e7du,
         0x1.0009191c6fe97p+22},
        {0x0000000000000000u, 0x00000000000000c2u, 0x0000000000000000u, 0x01ecdf8599809225u,
         0x1.930e9c0f7f9dbp-50},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        const div_case_t *c = &cases[i];
        double got = metrics_div_u128_for_test(c->a_hi, c->a_lo, c->b_hi, c->b_lo);
        if (got != c->want) {
            fail_msg("case %zu: got %a, want %a", i, got, c->want);
        }
    }
}

/*  ARI's expected = A*B / N2 for pair counts of real corpus sizes, chosen (random search in
    Python) so that both naive evaluations, (double)A * B / N2 and (double)(A*B) / N2, are off
    by one ulp while the single correctly rounded division is right. */
static void
test_div_u128_beats_naive(void **state)
{
    (void)state;
    static const struct {
        uint64_t a;   /* A */
        uint64_t b;   /* B */
        uint64_t n2;  /* N2 = C(n, 2) */
        double exact; /* float.hex() of Python's A*B / N2 */
    } cases[] = {
        {61179664014601935u, 17841743252787920u, 76287864378986028u, 0x1.96aacb7e3bbc2p+53},
        {2632874695949001153u, 2583730650175023673u, 2698694642768918706u, 0x1.17db04c1c8ffep+61},
        {2251392984847411745u, 5298123596289569600u, 5823717595724018565u, 0x1.c6cae28a5b0e0p+60},
        {140934021477223395u, 11300722191920234u, 213706688884789906u, 0x1.a7a0a22774104p+52},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        __extension__ unsigned __int128 prod = (unsigned __int128)cases[i].a * cases[i].b;
        double got =
            metrics_div_u128_for_test((uint64_t)(prod >> 64), (uint64_t)prod, 0, cases[i].n2);
        volatile double da = (double)cases[i].a;
        volatile double db = (double)cases[i].b;
        volatile double naive = da * db / (double)cases[i].n2;
        volatile double naive2 = (double)prod / (double)cases[i].n2;
        if (got != cases[i].exact) {
            fail_msg("case %zu: got %a, want %a", i, got, cases[i].exact);
        }
        assert_true(naive != cases[i].exact);
        assert_true(naive2 != cases[i].exact);
    }
}

/* ----------------------------------------------------------------------------------------- */
/*  R§11 properties. */

static void
test_renamed_identical_partition(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 4};
    const uint32_t pred[] = {9, 9, 9, 7, 7, 100, 5, 5, 5, 5, 0};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    s_check(&m, &s_all_one);
}

static void
test_all_singletons(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 1, 2, 3, 4, 5};
    const uint32_t pred[] = {5, 4, 3, 2, 1, 0};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    s_check(&m, &s_all_one);
}

/*  Both partitions a single cluster: max == expected, the other degenerate ARI case. */
static void
test_one_cluster_each(void **state)
{
    (void)state;
    const uint32_t truth[] = {3, 3, 3, 3};
    const uint32_t pred[] = {8, 8, 8, 8};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    s_check(&m, &s_all_one);
}

/*  Two truth singletons merged into one cluster. */
static void
test_false_merge(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 1};
    const uint32_t pred[] = {0, 0};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    const expect_t want = {.ari = 0.0,
                           .hom = 0.0,
                           .com = 1.0,
                           .srec = 0.0,
                           .prec = 0.0,
                           .rec = 1.0,
                           .f1 = 0.0,
                           .v = 0.0};
    s_check(&m, &want);
}

/*  One class split in five. */
static void
test_false_split(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 0, 0, 0, 0};
    const uint32_t pred[] = {0, 1, 2, 3, 4};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    const expect_t want = {.ari = 0.0,
                           .hom = 1.0,
                           .com = 0.0,
                           .srec = 1.0,
                           .prec = 1.0,
                           .rec = 0.0,
                           .f1 = 0.0,
                           .v = 0.0};
    s_check(&m, &want);
}

/*  Truth singletons absorbed into a real cluster lose all singleton recall. */
static void
test_absorbed_singletons(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 0, 0, 1, 2};
    const uint32_t pred[] = {4, 4, 4, 4, 4};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    assert_true(m.singleton_recall == 0.0);
    assert_true(m.completeness == 1.0);
    assert_true(m.homogeneity < 1.0);
}

/*  Groups (label i/5, and R§11's i/4) against labels 7i mod 5 agree badly: ARI < 0.3. */
static void
test_scrambled_groups(void **state)
{
    (void)state;
    uint32_t truth5[20];
    uint32_t truth4[20];
    uint32_t pred[20];
    for (uint32_t i = 0; i < 20; i++) {
        truth5[i] = i / 5;
        truth4[i] = i / 4;
        pred[i] = (7 * i) % 5;
    }
    metrics_t m = s_score(truth5, pred, 20);
    assert_true(m.adjusted_rand_index < 0.3);
    /* Python reference: -0.22018348623853212; every pair split, so hom = com = 0 */
    const expect_t want5 = {.ari = -0x1.c2ef8f441c2f0p-3,
                            .hom = 0.0,
                            .com = 0.0,
                            .srec = 1.0,
                            .prec = 0.0,
                            .rec = 0.0,
                            .f1 = 0.0,
                            .v = 0.0};
    s_check(&m, &want5);
    m = s_score(truth4, pred, 20);
    assert_true(m.adjusted_rand_index < 0.3);
    /* Python reference: ARI -0.18749999999999997, hom = com = v = 0.138646883853214 */
    const expect_t want4 = {.ari = -0.18749999999999997,
                            .hom = 0.138646883853214,
                            .com = 0.138646883853214,
                            .srec = 1.0,
                            .prec = 0.0,
                            .rec = 0.0,
                            .f1 = 0.0,
                            .v = 0.138646883853214};
    s_check(&m, &want4);
}

static void
test_n_below_two(void **state)
{
    (void)state;
    const uint32_t truth[] = {42};
    const uint32_t pred[] = {7};
    metrics_t m = s_score(truth, pred, 1);
    s_check(&m, &s_all_one);
}

static void
test_empty(void **state)
{
    (void)state;
    metrics_t m = s_score(NULL, NULL, 0);
    s_check(&m, &s_all_one);
}

static void
test_too_many_items(void **state)
{
    (void)state;
    const uint32_t one[] = {0};
    metrics_t m;
    /* rejected before the arrays are read */
    assert_int_equal(metrics_score(one, one, (size_t)UINT32_MAX, &m), CADRE_ELIMIT);
}

/* ----------------------------------------------------------------------------------------- */
/*  Known values (Python reference, see the file header). */

/*  K1: 12 items, one truth singleton kept. */
static void
test_known_small(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4};
    const uint32_t pred[] = {5, 5, 1, 1, 1, 2, 2, 9, 9, 3, 8, 6};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    const expect_t want = {
        .ari = 0x1.999999999999ap-2,  /* 0.4 */
        .hom = 0x1.ca4bec2b5f756p-1,  /* 0.8951104929871956 */
        .com = 0x1.751222b07439ap-1,  /* 0.7286539879224734 */
        .srec = 1.0,                  /* */
        .prec = 0x1.5555555555555p-1, /* 0.6666666666666666 */
        .rec = 0x1.745d1745d1746p-2,  /* 0.36363636363636365 */
        .f1 = 0x1.e1e1e1e1e1e1fp-2,   /* 0.4705882352941177 */
        .v = 0x1.9b50ba8e271ccp-1,    /* 0.803350286343226 */
    };
    s_check(&m, &want);
    /* the pair counts are exact, so these are bit for bit */
    s_assert_exact(m.adjusted_rand_index, want.ari, "ari");
    s_assert_exact(m.pairwise_precision, want.prec, "precision");
    s_assert_exact(m.pairwise_recall, want.rec, "recall");
}

/*  K4: 15 items, four truth singletons of which two are absorbed. */
static void
test_known_singletons(void **state)
{
    (void)state;
    const uint32_t truth[] = {0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4, 5, 6, 7};
    const uint32_t pred[] = {5, 5, 1, 1, 1, 2, 2, 9, 9, 3, 8, 6, 10, 10, 11};
    metrics_t m = s_score(truth, pred, COUNT(truth));
    const expect_t want = {
        .ari = 0x1.94a5294a52949p-2,  /* 0.39516129032258057 */
        .hom = 0x1.c5d365fa49a36p-1,  /* 0.8863784664179721 */
        .com = 0x1.9e3b74026d823p-1,  /* 0.8090473416293701 */
        .srec = 0.5,                  /* */
        .prec = 0x1.2492492492492p-1, /* 0.5714285714285714 */
        .rec = 0x1.745d1745d1746p-2,  /* 0.36363636363636365 */
        .f1 = 0x1.c71c71c71c71cp-2,   /* 0.4444444444444444 */
        .v = 0x1.b120446d6f750p-1,    /* 0.8459493049228772 */
    };
    s_check(&m, &want);
    s_assert_exact(m.singleton_recall, 0.5, "singleton_recall");
}

/*  The Python reference's generator for K2: an LCG, truth then pred per item. */
static void
s_lcg_labels(uint64_t seed, size_t n, uint32_t mod_t, uint32_t mod_p, uint32_t *truth,
             uint32_t *pred)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = (x * 1103515245u + 12345u) % 2147483648u;
        truth[i] = (uint32_t)((x >> 16) % mod_t);
        x = (x * 1103515245u + 12345u) % 2147483648u;
        pred[i] = (uint32_t)((x >> 16) % mod_p);
    }
}

/*  K2 values: 200 LCG items (seed 12345), 7 classes against 9 clusters. */
static const expect_t s_k2 = {
    .ari = 0x1.30d77bbbd0791p-9,  /* 0.002325757841306016 */
    .hom = 0x1.0deb861ea4108p-4,  /* 0.0658984412241389 */
    .com = 0x1.e4bbd8d5ebf10p-5,  /* 0.05917160368642105 */
    .srec = 1.0,                  /* */
    .prec = 0x1.263a2d3fa3462p-3, /* 0.1436656508489334 */
    .rec = 0x1.e05755b27d8b3p-4,  /* 0.11727078891257996 */
    .f1 = 0x1.0877025aa8cc0p-3,   /* 0.1291332420270006 */
    .v = 0x1.fece12965d122p-5,    /* 0.0623541224512414 */
};

static void
test_known_random(void **state)
{
    (void)state;
    uint32_t truth[200];
    uint32_t pred[200];
    s_lcg_labels(12345, 200, 7, 9, truth, pred);
    metrics_t m = s_score(truth, pred, 200);
    s_check(&m, &s_k2);
    s_assert_exact(m.adjusted_rand_index, s_k2.ari, "ari");
}

/*  Renumbering labels (a bijection to huge, sparse values, which takes the hash-table path)
    changes nothing, bit for bit: sums run in order of first appearance. */
static void
test_label_numbering_invariance(void **state)
{
    (void)state;
    uint32_t truth[200];
    uint32_t pred[200];
    s_lcg_labels(12345, 200, 7, 9, truth, pred);
    metrics_t base = s_score(truth, pred, 200);
    for (size_t i = 0; i < 200; i++) {
        truth[i] = 0xfffffff0u - truth[i] * 2654435761u % 1000003u;
        pred[i] = pred[i] * 40503u + 3000000000u;
    }
    metrics_t m = s_score(truth, pred, 200);
    s_assert_exact(m.adjusted_rand_index, base.adjusted_rand_index, "ari");
    s_assert_exact(m.homogeneity, base.homogeneity, "homogeneity");
    s_assert_exact(m.completeness, base.completeness, "completeness");
    s_assert_exact(m.singleton_recall, base.singleton_recall, "singleton_recall");
    s_assert_exact(m.pairwise_precision, base.pairwise_precision, "precision");
    s_assert_exact(m.pairwise_recall, base.pairwise_recall, "recall");
    s_assert_exact(m.pairwise_f1, base.pairwise_f1, "f1");
    s_assert_exact(m.v_measure, base.v_measure, "v_measure");
    s_check(&m, &s_k2);
}

/*  K3: 1000 items in 37 classes (i mod 37); an LCG (seed 99) moves about a tenth of them
    into five extra clusters 100..104. */
static void
test_known_mostly_right(void **state)
{
    (void)state;
    uint32_t truth[1000];
    uint32_t pred[1000];
    uint64_t x = 99;
    for (uint32_t i = 0; i < 1000; i++) {
        truth[i] = i % 37;
        pred[i] = truth[i];
        x = (x * 1103515245u + 12345u) % 2147483648u;
        if ((x >> 16) % 10 == 0) {
            pred[i] = (uint32_t)(100 + (x >> 20) % 5);
        }
    }
    metrics_t m = s_score(truth, pred, 1000);
    const expect_t want = {
        .ari = 0x1.c2f4ec92607e6p-1,  /* 0.8807748726542257 */
        .hom = 0x1.e03e4e2ff10e6p-1,  /* 0.9379753526232235 */
        .com = 0x1.d19930efa6b81p-1,  /* 0.9093718807738328 */
        .srec = 1.0,                  /* */
        .prec = 0x1.de99df4267232p-1, /* 0.9347677010114863 */
        .rec = 0x1.ad06f6ad06f6bp-1,  /* 0.8379437528815122 */
        .f1 = 0x1.c475d5add8ffap-1,   /* 0.883711507293355 */
        .v = 0x1.d8ceb937fd007p-1,    /* 0.9234521752209738 */
    };
    s_check(&m, &want);
}

/* ----------------------------------------------------------------------------------------- */
/*  Large n. */

#define BIG_N 3000000u

static double
s_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*  3,000,000 items in 1,000,000 classes of three, predicted under a sparse relabelling:
    every score is exactly 1. */
static void
test_large_perfect(void **state)
{
    (void)state;
    uint32_t *truth = xmalloc(BIG_N * sizeof *truth);
    uint32_t *pred = xmalloc(BIG_N * sizeof *pred);
    for (uint32_t i = 0; i < BIG_N; i++) {
        truth[i] = i / 3;
        /* odd multiplier: a bijection modulo 2^32 */
        pred[i] = (i / 3) * 2654435761u;
    }
    double t0 = s_seconds();
    metrics_t m = s_score(truth, pred, BIG_N);
    double took = s_seconds() - t0;
    s_check(&m, &s_all_one);
    /* generous even under sanitizers; an O(n^2) or dense-matrix approach would not finish */
    assert_true(took < 20.0);

    /*  Three blocks of a million against four of 750,000: A*B exceeds 2^64 (L3). */
    for (uint32_t i = 0; i < BIG_N; i++) {
        truth[i] = (uint32_t)((uint64_t)i * 3 / BIG_N);
        pred[i] = (uint32_t)((uint64_t)i * 4 / BIG_N);
    }
    m = s_score(truth, pred, BIG_N);
    const expect_t want = {
        .ari = 0x1.1111048a27744p-1,  /* 0.5333329599995769 */
        .hom = 0x1.6badbdd6711bfp-1,  /* 0.7103099178571525 */
        .com = 0x1.203562725340ap-1,  /* 0.5629072918469558 */
        .srec = 1.0,                  /* */
        .prec = 0x1.8e38d99d0d92fp-1, /* 0.7777774814810864 */
        .rec = 0x1.2aaa9caf860f8p-1,  /* 0.58333291666625 */
        .f1 = 0x1.5555488cf93b1p-1,   /* 0.6666662857138502 */
        .v = 0x1.41932fdd46a69p-1,    /* 0.6280760724651603 */
    };
    s_check(&m, &want);
    s_assert_exact(m.adjusted_rand_index, want.ari, "ari");
    free(truth);
    free(pred);
}

/*  3,000,000 items: classes of three (i/3) against clusters of four (i/4) (L2). */
static void
test_large_known(void **state)
{
    (void)state;
    uint32_t *truth = xmalloc(BIG_N * sizeof *truth);
    uint32_t *pred = xmalloc(BIG_N * sizeof *pred);
    for (uint32_t i = 0; i < BIG_N; i++) {
        truth[i] = i / 3;
        pred[i] = i / 4;
    }
    metrics_t m = s_score(truth, pred, BIG_N);
    const expect_t want = {
        .ari = 0x1.1111048a27744p-1,  /* 0.5333329599995769 */
        .hom = 0x1.e98b44cd7c5dap-1,  /* 0.9561406613194621 */
        .com = 0x1.f3f462fb66962p-1,  /* 0.9764738971601157 */
        .srec = 1.0,                  /* */
        .prec = 0x1.c71c71c71c71cp-2, /* 0.4444444444444444 */
        .rec = 0x1.5555555555555p-1,  /* 0.6666666666666666 */
        .f1 = 0x1.1111111111111p-1,   /* 0.5333333333333333 */
        .v = 0x1.eeb1cec66df94p-1,    /* 0.966200315210687 */
    };
    s_check(&m, &want);
    s_assert_exact(m.adjusted_rand_index, want.ari, "ari");
    s_assert_exact(m.pairwise_f1, want.f1, "f1");
    free(truth);
    free(pred);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_div_u128_cases),
        cmocka_unit_test(test_div_u128_beats_naive),
        cmocka_unit_test(test_renamed_identical_partition),
        cmocka_unit_test(test_all_singletons),
        cmocka_unit_test(test_one_cluster_each),
        cmocka_unit_test(test_false_merge),
        cmocka_unit_test(test_false_split),
        cmocka_unit_test(test_absorbed_singletons),
        cmocka_unit_test(test_scrambled_groups),
        cmocka_unit_test(test_n_below_two),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_too_many_items),
        cmocka_unit_test(test_known_small),
        cmocka_unit_test(test_known_singletons),
        cmocka_unit_test(test_known_random),
        cmocka_unit_test(test_label_numbering_invariance),
        cmocka_unit_test(test_known_mostly_right),
        cmocka_unit_test(test_large_perfect),
        cmocka_unit_test(test_large_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
