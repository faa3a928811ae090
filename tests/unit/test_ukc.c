/*  test_ukc.c - the Unified Kill Chain vocabulary (R§1, R§11 "UKC"). */
#include "ukc.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_phases_in_declaration_order(void **state)
{
    (void)state;
    static const char *const want[] = {"reconnaissance",      "resource_development",
                                       "weaponization",       "delivery",
                                       "social_engineering",  "exploitation",
                                       "persistence",         "defense_evasion",
                                       "command_and_control", "pivoting",
                                       "discovery",           "privilege_escalation",
                                       "execution",           "credential_access",
                                       "lateral_movement",    "collection",
                                       "exfiltration",        "impact",
                                       "objectives"};
    assert_int_equal(UKC_PHASE_COUNT, 19);
    for (int i = 0; i < UKC_PHASE_COUNT; i++) {
        assert_string_equal(ukc_phase_name((ukc_phase_t)i), want[i]);
        assert_int_equal(ukc_phase_from_name(want[i]), i);
    }
    assert_null(ukc_phase_name(UKC_PHASE_COUNT));
    assert_int_equal(ukc_phase_from_name("Discovery"), UKC_NONE);
    assert_int_equal(ukc_phase_from_name(""), UKC_NONE);
    assert_int_equal(ukc_phase_from_name_len("discoveryX", 9), UKC_DISCOVERY);
}

static void
test_stages_and_observable(void **state)
{
    (void)state;
    int observable = 0;
    for (int i = 0; i < UKC_PHASE_COUNT; i++) {
        ukc_stage_t want = i <= UKC_COMMAND_AND_CONTROL ? UKC_STAGE_IN
                           : i <= UKC_LATERAL_MOVEMENT  ? UKC_STAGE_THROUGH
                                                        : UKC_STAGE_OUT;
        assert_int_equal(ukc_stage_of((ukc_phase_t)i), want);
        observable += ukc_observable((ukc_phase_t)i);
    }
    assert_int_equal(observable, 15);
    assert_false(ukc_observable(UKC_RECONNAISSANCE));
    assert_false(ukc_observable(UKC_RESOURCE_DEVELOPMENT));
    assert_false(ukc_observable(UKC_WEAPONIZATION));
    assert_false(ukc_observable(UKC_SOCIAL_ENGINEERING));
    assert_true(ukc_observable(UKC_DELIVERY));
    assert_string_equal(ukc_stage_name(UKC_STAGE_THROUGH), "through");
}

static void
test_tactic_keys(void **state)
{
    (void)state;
    assert_int_equal(ukc_tactic_count(), 18);
    for (size_t i = 0; i < ukc_tactic_count(); i++) {
        const char *t = ukc_tactic_at(i);
        assert_int_equal(strlen(t), 6);
        assert_memory_equal(t, "TA", 2);
        for (int k = 2; k < 6; k++) {
            assert_true(isdigit((unsigned char)t[k]));
        }
        assert_int_not_equal(ukc_phase_from_tactic(t), UKC_NONE);
    }
    assert_null(ukc_tactic_at(18));
    assert_int_equal(ukc_phase_from_tactic("TA9999"), UKC_NONE);
    assert_int_equal(ukc_phase_from_tactic("TA0102"), UKC_DISCOVERY);
    assert_int_equal(ukc_phase_from_tactic("TA0106"), UKC_IMPACT);
}

static void
test_round_trip_and_pinned_inverse(void **state)
{
    (void)state;
    /* Observable phases with a tactic round-trip through it. */
    for (int i = 0; i < UKC_PHASE_COUNT; i++) {
        ukc_phase_t p = (ukc_phase_t)i;
        if (!ukc_observable(p) || p == UKC_EXPLOITATION || p == UKC_PIVOTING ||
            p == UKC_OBJECTIVES) {
            continue;
        }
        assert_int_equal(ukc_phase_from_tactic(ukc_tactic_of(p)), p);
    }
    /* The seven lossy phases have a pinned inverse. */
    assert_string_equal(ukc_tactic_of(UKC_RECONNAISSANCE), "TA0043");
    assert_string_equal(ukc_tactic_of(UKC_RESOURCE_DEVELOPMENT), "TA0042");
    assert_null(ukc_tactic_of(UKC_WEAPONIZATION));
    assert_null(ukc_tactic_of(UKC_SOCIAL_ENGINEERING));
    assert_null(ukc_tactic_of(UKC_EXPLOITATION));
    assert_null(ukc_tactic_of(UKC_PIVOTING));
    assert_null(ukc_tactic_of(UKC_OBJECTIVES));
    /* Enterprise tactics come before ICS ones. */
    assert_string_equal(ukc_tactic_of(UKC_DISCOVERY), "TA0007");
    assert_string_equal(ukc_tactic_of(UKC_COLLECTION), "TA0009");
    assert_string_equal(ukc_tactic_of(UKC_IMPACT), "TA0040");
}

static void
test_handoff_sets(void **state)
{
    (void)state;
    int out = 0;
    int in = 0;
    for (int i = 0; i < UKC_PHASE_COUNT; i++) {
        out += ukc_handoff_out((ukc_phase_t)i);
        in += ukc_handoff_in((ukc_phase_t)i);
    }
    assert_int_equal(out, 2);
    assert_int_equal(in, 2);
    assert_true(ukc_handoff_out(UKC_COMMAND_AND_CONTROL));
    assert_true(ukc_handoff_out(UKC_PERSISTENCE));
    assert_true(ukc_handoff_in(UKC_DISCOVERY));
    assert_true(ukc_handoff_in(UKC_LATERAL_MOVEMENT));
    assert_false(ukc_handoff_out(UKC_EXPLOITATION));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phases_in_declaration_order),
        cmocka_unit_test(test_stages_and_observable),
        cmocka_unit_test(test_tactic_keys),
        cmocka_unit_test(test_round_trip_and_pinned_inverse),
        cmocka_unit_test(test_handoff_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
