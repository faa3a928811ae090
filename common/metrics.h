/*  metrics.h - clustering quality against ground truth (SPEC §9, R§9).

    Items carry two labels, a truth class and a predicted cluster, as dense integers
    (0..n_labels-1, any numbering). Pair counts are exact (128-bit), so a perfect match
    scores exactly 1.0 and large corpora lose no precision.
*/
#ifndef CADRE_METRICS_H
#define CADRE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/*  The scores of one prediction against one truth. */
typedef struct {
    double adjusted_rand_index; /* ARI, may be negative; 1.0 for a perfect match */
    double homogeneity;         /* each cluster holds one class */
    double completeness;        /* each class lies in one cluster */
    double singleton_recall;    /* share of truth singletons predicted as singletons */
    double pairwise_precision;  /* co-clustered pairs that share a class */
    double pairwise_recall;     /* same-class pairs that are co-clustered */
    double pairwise_f1;         /* harmonic mean of the two */
    double v_measure;           /* harmonic mean of homogeneity and completeness */
} metrics_t;

/*  Scores n items: truth[i] and pred[i] are item i's labels. Returns 0 and fills *out. */
int metrics_score(const uint32_t *truth, const uint32_t *pred, size_t n, metrics_t *out);

#endif
