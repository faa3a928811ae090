/*  report.c - summaries and output files of an engine's state (see report.h). */
#include "report.h"

#include "assign.h"
#include "rec_stream.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdlib.h>

/*  The largest live campaigns, with their kill-chain phases. */
static void
s_print_top(FILE *out, const cluster_t *c, size_t top)
{
    size_t n = cluster_campaign_count(c);
    size_t *best = xcalloc(top + 1, sizeof *best);
    uint64_t *size = xcalloc(top + 1, sizeof *size);
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        rec_campaign_t r;
        cluster_campaign_record(c, i, &r);
        uint64_t obs = r.merged_into ? 0 : r.observations;
        rec_campaign_clear(&r);
        if (obs == 0) {
            continue;
        }
        size_t pos = have < top ? have++ : top;
        while (pos > 0 && size[pos - 1] < obs) {
            if (pos < top) {
                best[pos] = best[pos - 1];
                size[pos] = size[pos - 1];
            }
            pos--;
        }
        if (pos < top) {
            best[pos] = i;
            size[pos] = obs;
        }
    }
    for (size_t k = 0; k < have; k++) {
        rec_campaign_t r;
        cluster_campaign_record(c, best[k], &r);
        fprintf(out, "  %s  %" PRIu64 " identities, %" PRIu64 " observations:", r.id, r.identities,
                r.observations);
        for (size_t p = 0; p < r.n_phases; p++) {
            fprintf(out, "%s%s", p ? " > " : " ", ukc_phase_name(r.phases[p].phase));
        }
        fprintf(out, "\n");
        rec_campaign_clear(&r);
    }
    free(best);
    free(size);
}

void
report_summary(const cluster_t *c, FILE *out, size_t top)
{
    cluster_stats_t st = cluster_stats(c);
    fprintf(out,
            "%" PRIu64 " observations, %" PRIu64 " identities, %" PRIu64 " campaigns after %" PRIu64
            " inputs and %" PRIu64 " reconciliations\n",
            st.observations, st.identities, st.campaigns, st.inputs, st.reconciliations);
    fprintf(out,
            "identity layer: %" PRIu64 " key blocks (largest %" PRIu64 "), %" PRIu64
            " generic keys; campaign layer: %" PRIu64 " pair evaluations\n",
            st.id_part.blocks, st.id_part.largest_block, st.id_part.generic_keys,
            st.camp_part.pairs_evaluated);
    if (top > 0) {
        fprintf(out, "largest campaigns:\n");
        s_print_top(out, c, top);
    }
}

/*  A live slot and its input sequence. */
typedef struct {
    uint64_t seq; /* input sequence */
    size_t slot;  /* slot */
} s_order_t;

static int
s_cmp_order(const void *a, const void *b)
{
    uint64_t x = ((const s_order_t *)a)->seq;
    uint64_t y = ((const s_order_t *)b)->seq;
    return (x > y) - (x < y);
}

int
report_assignments(const cluster_t *c, FILE *out, obs_format_t format)
{
    /* Slots are numbered by first sight; a re-upsert after a delete counts from its new
       position, so order by sequence. */
    size_t n = cluster_slots(c);
    s_order_t *ord = xcalloc(n + 1, sizeof *ord);
    size_t k = 0;
    for (size_t s = 0; s < n; s++) {
        if (cluster_slot_alive(c, s)) {
            ord[k].seq = cluster_slot_seq(c, s);
            ord[k].slot = s;
            k++;
        }
    }
    if (k > 0) {
        qsort(ord, k, sizeof *ord, s_cmp_order);
    }
    assign_writer_t *w = assign_writer_new(out, format);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        size_t s = ord[i].slot;
        assign_t a = {.id = (char *)cluster_slot_name(c, s),
                      .identity = (char *)cluster_identity_of(c, s),
                      .campaign = (char *)cluster_campaign_of(c, s)};
        rc = assign_writer_put(w, &a);
    }
    assign_writer_destroy(&w);
    free(ord);
    return rc;
}

int
report_records(const cluster_t *c, FILE *identities, obs_format_t fmt_i, FILE *campaigns,
               obs_format_t fmt_c)
{
    int rc = 0;
    if (identities) {
        rec_writer_t *w = rec_writer_new(identities, fmt_i);
        for (size_t i = 0; i < cluster_identity_count(c) && rc == 0; i++) {
            rec_identity_t r;
            cluster_identity_record(c, i, &r);
            rc = rec_writer_identity(w, &r);
            rec_identity_clear(&r);
        }
        rec_writer_destroy(&w);
    }
    if (campaigns && rc == 0) {
        rec_writer_t *w = rec_writer_new(campaigns, fmt_c);
        for (size_t i = 0; i < cluster_campaign_count(c) && rc == 0; i++) {
            rec_campaign_t r;
            cluster_campaign_record(c, i, &r);
            rc = rec_writer_campaign(w, &r);
            rec_campaign_clear(&r);
        }
        rec_writer_destroy(&w);
    }
    return rc;
}
