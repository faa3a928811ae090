/*  explain.h - why two observations share an identity or a campaign, or why they do not:
    the chain of edges with the key and the tier scores behind each link, or the direct
    tiers and the reason there is no edge. Used by `cadre explain` and the merger's
    `explain` query. */
#ifndef CADRE_EXPLAIN_H
#define CADRE_EXPLAIN_H

#include "cluster.h"

#include <stddef.h>
#include <stdio.h>

/*  Prints the explanation for the live slots a and b of c (after a reconciliation) to out.
    Returns 0, or non-zero when an explanation could not be completed (printed as such). */
int explain_pair(FILE *out, const cluster_t *c, size_t a, size_t b);

#endif
