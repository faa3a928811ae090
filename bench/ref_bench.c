/*  ref_bench.c - times the brute-force all-pairs reference clusterer (tests/ref/ref_cluster.h)
    on a corpus file, for `make bench` (bench/run.sh, docs/bench.md "brute-force ratio").

    usage: cadre_ref_bench CORPUS [--out ASSIGNMENTS]

    Reads every observation of CORPUS (JSON Lines or MessagePack), runs ref_cluster() over all
    of them (both layers, every pair scored, SPEC default weights) and prints one line
    "ref_cluster: N observations, I identities, C campaigns, read R s, cluster S s" on standard
    output. With --out it writes one assignment {id, identity, campaign} per observation in
    input order, as `cadre cluster --out` does, the labels being "ref-I-<k>" / "ref-C-<k>"
    with k the smallest input index of the component, so `cadre score` can rate it against
    the corpus's truth and bench/partcmp.py can compare it with cadre's partition.

    Exit status: 0, 2 on a usage error, 65 when the corpus holds a malformed record, 1 on an
    I/O error.
*/
#include "assign.h"
#include "err.h"
#include "obs.h"
#include "obs_stream.h"
#include "ref_cluster.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int
s_usage(void)
{
    fprintf(stderr, "usage: cadre_ref_bench CORPUS [--out ASSIGNMENTS]\n");
    return 2;
}

/*  Writes the n assignments of obs with the reference's labels; 0 or 1 on an I/O error. */
static int
s_write(const char *path, obs_t *const *obs, size_t n, const uint32_t *ident, const uint32_t *camp)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    assign_writer_t *w = assign_writer_new(f, OBS_FORMAT_JSONL);
    int rc = 0;
    char bi[32], bc[32];
    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf(bi, sizeof bi, "ref-I-%" PRIu32, ident[i]);
        snprintf(bc, sizeof bc, "ref-C-%" PRIu32, camp[i]);
        assign_t a = {.id = obs[i]->id, .identity = bi, .campaign = bc};
        rc = assign_writer_put(w, &a);
    }
    assign_writer_destroy(&w);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "cadre_ref_bench: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *corpus = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return s_usage();
        } else if (!corpus) {
            corpus = argv[i];
        } else {
            return s_usage();
        }
    }
    if (!corpus) {
        return s_usage();
    }
    double t0 = s_now();
    obs_reader_t *r = obs_reader_open(corpus, OBS_FORMAT_AUTO);
    if (!r) {
        return 1;
    }
    obs_t **obs = NULL;
    size_t n = 0, cap = 0;
    int rc;
    obs_t *o = NULL;
    obs_error_t err;
    while ((rc = obs_reader_next(r, &o, &err)) != 0) {
        if (rc < 0) {
            fprintf(stderr, "cadre_ref_bench: %s: %s\n", corpus, cadre_strerror(rc));
            obs_reader_destroy(&r);
            return rc == CADRE_ERECORD || rc == CADRE_ETRUNC ? 65 : 1;
        }
        xgrow(&obs, &cap, n + 1);
        obs[n++] = o;
        o = NULL;
    }
    obs_reader_destroy(&r);
    double t1 = s_now();

    ref_weights_t w;
    ref_weights_default(&w);
    uint32_t *ident = xmalloc((n ? n : 1) * sizeof *ident);
    uint32_t *camp = xmalloc((n ? n : 1) * sizeof *camp);
    ref_cluster((const obs_t *const *)obs, n, &w, ident, camp);
    double t2 = s_now();

    size_t n_ident = 0, n_camp = 0;
    for (size_t i = 0; i < n; i++) {
        n_ident += ident[i] == i;
        n_camp += camp[i] == i;
    }
    printf("ref_cluster: %zu observations, %zu identities, %zu campaigns, read %.3f s, "
           "cluster %.3f s\n",
           n, n_ident, n_camp, t1 - t0, t2 - t1);
    int status = out ? s_write(out, obs, n, ident, camp) : 0;
    for (size_t i = 0; i < n; i++) {
        obs_destroy(&obs[i]);
    }
    free(obs);
    free(ident);
    free(camp);
    return status;
}
