/*  test_ccfg.c - clustering configuration: defaults, the lossless-blocking proof, and the
    YAML loader's refusals with file:line:col. */
#include "ccfg.h"
#include "err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int
s_load(ccfg_t *cfg, const char *text, char *err, size_t errlen)
{
    ccfg_reference(cfg);
    return ccfg_load_buffer(cfg, text, strlen(text), "test.yaml", err, errlen);
}

static void
test_defaults_pass_the_proof(void **state)
{
    (void)state;
    ccfg_t cfg;
    char err[512];
    ccfg_defaults(&cfg);
    assert_int_equal(ccfg_check(&cfg, err, sizeof err), 0);
    /* Defaults measured on the shared Cowrie data (docs/realdata.md). */
    assert_int_equal(cfg.generic_cutoff[KEY_JA3], 16);
    assert_int_equal(cfg.generic_cutoff[KEY_JA4], 16);
    assert_int_equal(cfg.generic_cutoff[KEY_HASSH], 16);
    assert_int_equal(cfg.generic_cutoff[KEY_PAYLOAD], 0);
    assert_int_equal(cfg.generic_cutoff[KEY_C2], 0);
    ccfg_reference(&cfg);
    assert_int_equal(ccfg_check(&cfg, err, sizeof err), 0);
    for (int f = 0; f < CCFG_GENERIC_FAMILIES; f++) {
        assert_int_equal(cfg.generic_cutoff[f], 0);
    }
    /* 0.4 + 0.1 + 0.6 * (1 - 1/8) = 1.025 >= 1 but 0.4 + 0.1 + 0.6 * 0.75 = 0.95 < 1. */
    assert_int_equal(ccfg_kd_max_distance(&cfg), 1);
    assert_string_equal(ccfg_family_name(KEY_HASSH), "hassh");
    assert_null(ccfg_family_name(KEY_FAMILY_COUNT));
}

static void
test_loader_sets_values(void **state)
{
    (void)state;
    ccfg_t cfg;
    char err[512];
    assert_int_equal(s_load(&cfg,
                            "identity:\n  weights: {medium: 0.5}\n"
                            "campaign:\n  handoff_window: 3600\n  weights: {keystroke: 0.9}\n"
                            "generic_cutoff: {hassh: 50, c2: 1000}\nreconcile_every: 100\n",
                            err, sizeof err),
                     0);
    assert_true(cfg.w_medium == 0.5);
    assert_true(cfg.w_low == 0.2);
    assert_true(cfg.handoff_window == 3600.0);
    assert_int_equal(cfg.generic_cutoff[KEY_HASSH], 50);
    assert_int_equal(cfg.generic_cutoff[KEY_C2], 1000);
    assert_int_equal(cfg.generic_cutoff[KEY_JA3], 0);
    assert_int_equal(cfg.reconcile_every, 100);
    /* A heavier keystroke weight widens the bands: 0.5 + 0.9 * (1 - d/8) >= 1 up to d = 3. */
    assert_int_equal(ccfg_kd_max_distance(&cfg), 3);
    assert_int_equal(s_load(&cfg, "", err, sizeof err), 0);
}

static void
test_loader_refuses_with_marks(void **state)
{
    (void)state;
    ccfg_t cfg;
    char err[512];
    assert_int_equal(s_load(&cfg, "identity:\n  wieghts: {high: 1}\n", err, sizeof err),
                     CADRE_ECONFIG);
    assert_non_null(strstr(err, "test.yaml:2:"));
    assert_non_null(strstr(err, "identity.wieghts.high"));
    assert_int_equal(s_load(&cfg, "generic_cutoff: {hassh: -1}\n", err, sizeof err), CADRE_ECONFIG);
    assert_non_null(strstr(err, "test.yaml:1:"));
    assert_int_equal(s_load(&cfg, "campaign: {threshold: abc}\n", err, sizeof err), CADRE_ECONFIG);
    assert_int_equal(s_load(&cfg, "- 1\n- 2\n", err, sizeof err), CADRE_ECONFIG);
    assert_int_equal(s_load(&cfg, "identity: {threshold: [\n", err, sizeof err), CADRE_ECONFIG);
    assert_non_null(strstr(err, "test.yaml:"));
}

static void
test_lossy_configurations_refused(void **state)
{
    (void)state;
    ccfg_t cfg;
    char err[512];
    /* medium + low + asn = 0.9 + 0.2 + 0.05 >= 1: commands alone could link. */
    assert_int_equal(s_load(&cfg, "identity: {weights: {medium: 0.9}}\n", err, sizeof err),
                     CADRE_ECONFIG);
    assert_non_null(strstr(err, "medium + low + asn"));
    /* A key match alone below threshold. */
    assert_int_equal(s_load(&cfg, "identity: {weights: {high: 0.5}}\n", err, sizeof err),
                     CADRE_ECONFIG);
    assert_non_null(strstr(err, "high"));
    /* temporal + cohort = 0.95 + 0.1 >= 1: time overlap alone could link. */
    assert_int_equal(s_load(&cfg, "campaign: {weights: {temporal: 0.95}}\n", err, sizeof err),
                     CADRE_ECONFIG);
    assert_non_null(strstr(err, "temporal + cohort"));
    /* Lowering the threshold has the same effect. */
    assert_int_equal(s_load(&cfg, "campaign: {threshold: 0.5}\n", err, sizeof err), CADRE_ECONFIG);
    /* The R§12.19 sum 0.6 + 0.2 + 0.05 = 0.8500000000000001 stays below 1: accepted. */
    assert_int_equal(s_load(&cfg, "identity: {threshold: 0.86}\n", err, sizeof err), 0);
    assert_int_equal(s_load(&cfg, "identity: {threshold: 0.85}\n", err, sizeof err), CADRE_ECONFIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_pass_the_proof),
        cmocka_unit_test(test_loader_sets_values),
        cmocka_unit_test(test_loader_refuses_with_marks),
        cmocka_unit_test(test_lossy_configurations_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
