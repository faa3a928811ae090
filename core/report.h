/*  report.h - what an engine's state looks like from outside: the human summary (counts,
    blocking statistics, the largest campaigns with their kill-chain phases) and the output
    files (assignments in input order, identity and campaign records). Shared by
    `cadre cluster`, `cadre run` and the merger. */
#ifndef CADRE_REPORT_H
#define CADRE_REPORT_H

#include "cluster.h"
#include "obs_stream.h"

#include <stdio.h>

/*  Prints the summary of c to out, listing at most top campaigns. */
void report_summary(const cluster_t *c, FILE *out, size_t top);
/*  Writes one assignment per live observation, in input order. Returns 0 or -errno. */
int report_assignments(const cluster_t *c, FILE *out, obs_format_t format);
/*  Writes every identity ever formed (formation order) to identities and every campaign to
    campaigns (either may be NULL). Returns 0 or -errno. */
int report_records(const cluster_t *c, FILE *identities, obs_format_t fmt_i, FILE *campaigns,
                   obs_format_t fmt_c);

#endif
