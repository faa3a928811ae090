/*  test_weak.c - scoring against weak labels (weak.h, docs/eval-weak.md).

    The main case is small enough to check by hand; its expected numbers are worked out in
    the comment above s_build_case(). Entropy-based metrics are checked against the same
    formulas (docs/metrics.md) written out for this case, to 1e-12.
*/
#include "weak.h"

#include "err.h"
#include "jsonio.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  Tolerance for entropy-based values. */
#define TOL 1e-12

/*  Adds one label line, expecting rc. */
static void
s_line(weak_t *w, uint64_t lineno, const char *line, int want)
{
    char why[256];
    assert_int_equal(weak_add_label_line(w, line, strlen(line), "f.tsv", lineno, why, sizeof why),
                     want);
}

/*  The hand-made case.
    IPs and their first-observation campaigns (.6 has a second observation in K1: split):
        .1 K1  C1_a                 .5 K2  (no labels)
        .2 K1  C1b_x, C2_y          .6 K3  C3_z, G1_g   (+ obs .6~2 in K1)
        .3 K2  C2_y                 .7 K3  G1_g
        .4 K2  C3_z                 .9 --  C3_z         (absent from the observations)
    C1b folds into C1, .2 joins C1 and C2: truth groups C1+C2 {.1 .2 .3}, C3 {.4 .6 .9}.
    Scored: .1 .2 .3 .4 .6 (5 IPs); .7 is generic only; .9 absent.
    Campaign sizes over IPs: K1 2 (.1 .2), K2 3 (.3 .4 .5), K3 2 (.6 .7); labelled K1 2, K2 2,
    K3 1. C1+C2: 3 IPs in 2 campaigns, main K1 holds 2, purity 2/2, size 2. C3: 2 IPs in 2
    campaigns, K2 and K3 tie at 1, K2 wins by name: purity 1/2, size 3. K2 is fused (C1+C2 1,
    C3 1). G1: 2 IPs, both in K3 (size 2, 1 labelled), 1 also truth-labelled.
    Metrics: truth A A A B B, pred K1 K1 K2 K2 K3: pairs S 1, A 2, B 4, N2 10;
    precision 1/2, recall 1/4, F1 1/3, ARI (1 - 0.8) / (3 - 0.8) = 1/11. */
static weak_t *
s_build_case(void)
{
    weak_t *w = weak_new();
    s_line(w, 1, "session\tsrc_ip\tfirst_ts\tlabels\n", 0);
    s_line(w, 2, "s1\t10.0.0.1\tt\tC1_a\n", 0);
    s_line(w, 3, "s2\t10.0.0.2\tt\tC1b_x,C2_y\r\n", 0);
    s_line(w, 4, "s3\t10.0.0.3\tt\tC2_y\n", 0);
    s_line(w, 5, "s4\t10.0.0.4\tt\tC3_z\n", 0);
    s_line(w, 6, "s5\t10.0.0.6\tt\tC3_z\n", 0);
    s_line(w, 7, "s6\t10.0.0.6\tt\tG1_g\n", 0);
    s_line(w, 8, "s7\t10.0.0.7\tt\tG1_g\n", 0);
    s_line(w, 9, "s8\t10.0.0.9\tt\tC3_z\n", 0);
    s_line(w, 10, "s9\t10.0.0.8\tt\n", CADRE_ERECORD);
    s_line(w, 11, "\n", 0);
    const char *obs[][3] = {
        {"cowrie:10.0.0.1", "10.0.0.1", "K1"},   {"cowrie:10.0.0.2", "10.0.0.2", "K1"},
        {"cowrie:10.0.0.3", "10.0.0.3", "K2"},   {"cowrie:10.0.0.4", "10.0.0.4", "K2"},
        {"cowrie:10.0.0.5", "10.0.0.5", "K2"},   {"cowrie:10.0.0.6@s", "10.0.0.6", "K3"},
        {"cowrie:10.0.0.6~2", "10.0.0.6", "K1"}, {"cowrie:10.0.0.7", "10.0.0.7", "K3"},
    };
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
        assert_int_equal(weak_add_observation(w, obs[i][0], obs[i][1]), 0);
    }
    /*  Assignments in reverse order: the first observation is the observation order's. */
    for (size_t i = sizeof obs / sizeof obs[0]; i-- > 0;) {
        assert_int_equal(weak_add_assignment(w, obs[i][0], "I0", obs[i][2]), 0);
    }
    return w;
}

static void
test_operation(void **state)
{
    (void)state;
    char op[16];
    size_t plen = 0;
    weak_operation("C1_mdrfckr_authorized_keys", op, sizeof op, &plen);
    assert_string_equal(op, "C1");
    assert_int_equal(plen, 2);
    weak_operation("C1b_cred_nproc_nproc", op, sizeof op, &plen);
    assert_string_equal(op, "C1");
    assert_int_equal(plen, 3);
    weak_operation("C1c_cred_345gs5662d34", op, sizeof op, NULL);
    assert_string_equal(op, "C1");
    weak_operation("C12ab", op, sizeof op, NULL);
    assert_string_equal(op, "C12");
    weak_operation("Cb_x", op, sizeof op, NULL);
    assert_string_equal(op, "Cb");
    weak_operation("G1_telnet_prompt_walk_generic", op, sizeof op, NULL);
    assert_string_equal(op, "G1");
    assert_true(weak_is_generic("G1"));
    assert_false(weak_is_generic("C2"));
    weak_operation("C2", op, 2, NULL);
    assert_string_equal(op, "C");
}

static void
test_bad_lines(void **state)
{
    (void)state;
    weak_t *w = weak_new();
    char why[256];
    const char *three = "abc\t1.2.3.4\t2020\n";
    assert_int_equal(weak_add_label_line(w, three, strlen(three), "l.tsv", 3, why, sizeof why),
                     CADRE_ERECORD);
    assert_string_equal(why, "l.tsv:3: column 4 (labels): missing: expected 4 tab-separated "
                             "columns, got 3");
    const char *five = "abc\t1.2.3.4\t2020\tC1_x\textra";
    assert_int_equal(weak_add_label_line(w, five, strlen(five), "l.tsv", 4, why, sizeof why),
                     CADRE_ERECORD);
    assert_non_null(strstr(why, "l.tsv:4: column 5: unexpected extra column"));
    const char *noip = "abc\t\t2020\tC1_x";
    assert_int_equal(weak_add_label_line(w, noip, strlen(noip), "l.tsv", 5, why, sizeof why),
                     CADRE_ERECORD);
    assert_string_equal(why, "l.tsv:5: column 2 (src_ip): empty source IP");
    const char *badutf = "abc\t1.2.3.4\t2020\tC1_\xff";
    assert_int_equal(weak_add_label_line(w, badutf, strlen(badutf), "l.tsv", 6, why, sizeof why),
                     CADRE_ERECORD);
    assert_non_null(strstr(why, "l.tsv:6: column 4 (labels): "));
    const char *noprefix = "abc\t1.2.3.4\t2020\t_x";
    assert_int_equal(
        weak_add_label_line(w, noprefix, strlen(noprefix), "l.tsv", 7, why, sizeof why),
        CADRE_ERECORD);
    /*  The header only counts as one on line 1; empty label items are ignored. */
    const char *header = "session\tsrc_ip\tfirst_ts\tlabels";
    assert_int_equal(weak_add_label_line(w, header, strlen(header), "l.tsv", 1, why, sizeof why),
                     0);
    const char *empties = "abc\t1.2.3.5\t2020\t , C2_x,,";
    assert_int_equal(weak_add_label_line(w, empties, strlen(empties), "l.tsv", 8, why, sizeof why),
                     0);
    assert_int_equal(weak_bad_count(w), 5);
    assert_non_null(strstr(weak_bad_at(w, 0), "l.tsv:3: column 4"));
    assert_non_null(strstr(weak_bad_at(w, 4), "l.tsv:7: column 4"));
    assert_int_equal(weak_add_observation(w, "o", "1.2.3.5"), 0);
    assert_int_equal(weak_add_assignment(w, "o", NULL, "K"), 0);
    weak_report_t *r = weak_evaluate(w, WEAK_LEVEL_CAMPAIGN);
    assert_int_equal(r->label_lines, 6);
    assert_int_equal(r->bad_lines, 5);
    assert_int_equal(r->labelled_ips, 1);
    assert_int_equal(r->n_groups, 1);
    assert_string_equal(r->groups[0].name, "C2");
    weak_report_destroy(&r);
    assert_null(r);
    weak_destroy(&w);
    assert_null(w);
}

static void
test_read_labels_file(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs("session\tsrc_ip\tfirst_ts\tlabels\n"
          "a\t1.1.1.1\tt\tC1_x,C2_y\n"
          "b\t2.2.2.2\tt\n"
          "c\t3.3.3.3\tt\tC2_y",
          f);
    rewind(f);
    weak_t *w = weak_new();
    assert_int_equal(weak_read_labels(w, f, "x.tsv"), 0);
    fclose(f);
    assert_int_equal(weak_bad_count(w), 1);
    assert_non_null(strstr(weak_bad_at(w, 0), "x.tsv:3: column 4 (labels)"));
    weak_report_t *r = weak_evaluate(w, WEAK_LEVEL_CAMPAIGN);
    assert_int_equal(r->label_lines, 3);
    assert_int_equal(r->label_ips, 2);
    assert_int_equal(r->n_absent_ips, 2);
    assert_string_equal(r->absent_ips[0], "1.1.1.1");
    assert_int_equal(r->labelled_ips, 0);
    assert_int_equal(r->n_groups, 1);
    assert_string_equal(r->groups[0].name, "C1+C2");
    assert_int_equal(r->groups[0].label_ips, 2);
    assert_int_equal(r->groups[0].ips, 0);
    assert_null(r->groups[0].main_cluster);
    weak_report_destroy(&r);
    weak_destroy(&w);
}

static void
test_hand_case(void **state)
{
    (void)state;
    weak_t *w = s_build_case();
    weak_report_t *r = weak_evaluate(w, WEAK_LEVEL_CAMPAIGN);

    assert_int_equal(r->observations, 8);
    assert_int_equal(r->ips, 7);
    assert_int_equal(r->unassigned_obs, 0);
    assert_int_equal(r->campaigns, 3);
    assert_int_equal(r->identities, 1);
    assert_int_equal(r->clusters, 3);
    assert_int_equal(r->largest_size, 3);
    assert_string_equal(r->largest_cluster, "K2");
    assert_int_equal(r->n_split_ips, 1);
    assert_string_equal(r->split_ips[0], "10.0.0.6");

    assert_int_equal(r->label_lines, 9);
    assert_int_equal(r->bad_lines, 1);
    assert_int_equal(r->label_ips, 7);
    assert_int_equal(r->labelled_ips, 5);
    assert_int_equal(r->generic_only_ips, 1);
    assert_int_equal(r->n_absent_ips, 1);
    assert_string_equal(r->absent_ips[0], "10.0.0.9");

    /*  C1 joined with C2 through .2; C1b folded into C1. */
    assert_int_equal(r->n_groups, 2);
    const weak_spread_t *g = &r->groups[0];
    assert_string_equal(g->name, "C1+C2");
    assert_int_equal(g->n_members, 3);
    assert_string_equal(g->members[0].name, "C1");
    assert_int_equal(g->members[0].ips, 1);
    assert_string_equal(g->members[1].name, "C1b");
    assert_int_equal(g->members[1].ips, 1);
    assert_string_equal(g->members[2].name, "C2");
    assert_int_equal(g->members[2].ips, 2);
    assert_int_equal(g->label_ips, 3);
    assert_int_equal(g->ips, 3);
    assert_int_equal(g->clusters, 2);
    assert_string_equal(g->main_cluster, "K1");
    assert_int_equal(g->main_share, 2);
    assert_int_equal(g->main_labelled, 2);
    assert_int_equal(g->main_size, 2);

    g = &r->groups[1];
    assert_string_equal(g->name, "C3");
    assert_int_equal(g->label_ips, 3);
    assert_int_equal(g->ips, 2);
    assert_int_equal(g->clusters, 2);
    assert_string_equal(g->main_cluster, "K2");
    assert_int_equal(g->main_share, 1);
    assert_int_equal(g->main_labelled, 2);
    assert_int_equal(g->main_size, 3);

    assert_int_equal(r->n_fusions, 1);
    const weak_fusion_t *f = &r->fusions[0];
    assert_string_equal(f->cluster, "K2");
    assert_int_equal(f->size, 3);
    assert_int_equal(f->labelled, 2);
    assert_int_equal(f->n_parts, 2);
    assert_int_equal(f->parts[0].group, 0);
    assert_int_equal(f->parts[0].ips, 1);
    assert_int_equal(f->parts[1].group, 1);
    assert_int_equal(f->parts[1].ips, 1);

    /*  G1 is no truth: its IP .7 is unlabelled, and it joins nothing through .6. */
    assert_int_equal(r->n_generic, 1);
    g = &r->generic[0];
    assert_string_equal(g->name, "G1");
    assert_int_equal(g->label_ips, 2);
    assert_int_equal(g->with_truth, 1);
    assert_int_equal(g->ips, 2);
    assert_int_equal(g->clusters, 1);
    assert_string_equal(g->main_cluster, "K3");
    assert_int_equal(g->main_share, 2);
    assert_int_equal(g->main_labelled, 1);
    assert_int_equal(g->main_size, 2);

    const metrics_t *m = &r->metrics;
    assert_true(m->pairwise_precision == 0.5);
    assert_true(m->pairwise_recall == 0.25);
    assert_true(fabs(m->pairwise_f1 - 1.0 / 3.0) <= TOL);
    assert_true(fabs(m->adjusted_rand_index - 1.0 / 11.0) <= TOL);
    double hc = -(0.6 * log(0.6) + 0.4 * log(0.4));
    double hc_k = 0.4 * log(2.0);
    double hk = -(0.4 * log(0.4) + 0.4 * log(0.4) + 0.2 * log(0.2));
    double hk_c = 0.6 * -(2.0 / 3 * log(2.0 / 3) + 1.0 / 3 * log(1.0 / 3)) + 0.4 * log(2.0);
    double h = 1 - hc_k / hc;
    double c = 1 - hk_c / hk;
    assert_true(fabs(m->homogeneity - h) <= TOL);
    assert_true(fabs(m->completeness - c) <= TOL);
    assert_true(fabs(m->v_measure - 2 * h * c / (h + c)) <= TOL);

    /*  Both renderings work and name the fusion. */
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(jsonio_weak_encode(r, &json, &len), 0);
    assert_int_equal(strlen(json), len);
    assert_non_null(strstr(json, "\"fusions\": [{\"cluster\": \"K2\", \"size\": 3, "
                                 "\"labelled\": 2, \"operations\": {\"C1+C2\": 1, \"C3\": 1}}]"));
    assert_non_null(strstr(json, "\"split_ips\": [\"10.0.0.6\"]"));
    free(json);
    FILE *out = tmpfile();
    assert_non_null(out);
    assert_int_equal(weak_report_print(r, out), 0);
    rewind(out);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = '\0';
    fclose(out);
    assert_non_null(strstr(text, "truth operations: C1+C2 (3 IPs), C3 (2 IPs)\n"));
    assert_non_null(strstr(text, "FUSED K2 (3 IPs, 2 labelled): C1+C2 1, C3 1\n"));
    assert_non_null(strstr(text, "split IPs: 1 "));
    weak_report_destroy(&r);
    weak_destroy(&w);
}

static void
test_identity_level(void **state)
{
    (void)state;
    weak_t *w = s_build_case();
    /*  Every observation has identity I0: one cluster, both groups fused in it. */
    weak_report_t *r = weak_evaluate(w, WEAK_LEVEL_IDENTITY);
    assert_int_equal(r->clusters, 1);
    assert_int_equal(r->largest_size, 7);
    assert_int_equal(r->n_split_ips, 0);
    assert_int_equal(r->n_fusions, 1);
    assert_string_equal(r->fusions[0].cluster, "I0");
    assert_int_equal(r->fusions[0].labelled, 5);
    assert_int_equal(r->fusions[0].parts[0].ips, 3);
    assert_int_equal(r->fusions[0].parts[1].ips, 2);
    assert_true(r->metrics.pairwise_recall == 1.0);
    assert_true(r->metrics.pairwise_precision == 0.4);
    assert_true(fabs(r->metrics.homogeneity) <= TOL);
    weak_report_destroy(&r);
    weak_destroy(&w);
}

static void
test_inputs_edge_cases(void **state)
{
    (void)state;
    weak_t *w = weak_new();
    s_line(w, 1, "a\t1.1.1.1\tt\tC1_x", 0);
    s_line(w, 2, "b\t2.2.2.2\tt\tC1_x", 0);
    s_line(w, 3, "c\t3.3.3.3\tt\tC1_x", 0);
    assert_int_equal(weak_add_observation(w, "o1", "1.1.1.1"), 0);
    assert_int_equal(weak_add_observation(w, "o2", "2.2.2.2"), 0);
    assert_int_equal(weak_add_observation(w, "o3", "3.3.3.3"), 0);
    assert_int_equal(weak_add_observation(w, "o4", NULL), 0);
    weak_delete_observation(w, "o3");
    weak_delete_observation(w, "nothing");
    assert_int_equal(weak_add_assignment(w, "o1", NULL, "K"), 0);
    assert_int_equal(weak_add_assignment(w, "o1", NULL, "L"), 0);
    assert_int_equal(weak_add_assignment(w, "o3", NULL, "K"), 0);
    assert_int_equal(weak_add_assignment(w, "zz", NULL, "K"), 0);
    weak_report_t *r = weak_evaluate(w, WEAK_LEVEL_CAMPAIGN);
    assert_int_equal(r->observations, 3);
    assert_int_equal(r->obs_without_ip, 1);
    assert_int_equal(r->unassigned_obs, 2);
    assert_int_equal(r->unknown_assigns, 2);
    assert_int_equal(r->duplicate_assigns, 1);
    assert_int_equal(r->ips, 2);
    assert_int_equal(r->labelled_ips, 1);
    assert_int_equal(r->unclustered_ips, 1);
    assert_int_equal(r->n_absent_ips, 1);
    assert_string_equal(r->absent_ips[0], "3.3.3.3");
    assert_string_equal(r->groups[0].main_cluster, "K");
    weak_report_destroy(&r);
    /*  Identity level: no identities were given, so nothing is clustered. */
    r = weak_evaluate(w, WEAK_LEVEL_IDENTITY);
    assert_int_equal(r->clusters, 0);
    assert_null(r->largest_cluster);
    assert_int_equal(r->labelled_ips, 0);
    assert_true(r->metrics.adjusted_rand_index == 1.0);
    weak_report_destroy(&r);
    weak_destroy(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operation),        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_read_labels_file), cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_identity_level),   cmocka_unit_test(test_inputs_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
