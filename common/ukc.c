/*  ukc.c - the Unified Kill Chain tables (see ukc.h). */
#include "ukc.h"

#include <string.h>

static const char *const s_names[UKC_PHASE_COUNT] = {
    "reconnaissance",      "resource_development",
    "weaponization",       "delivery",
    "social_engineering",  "exploitation",
    "persistence",         "defense_evasion",
    "command_and_control", "pivoting",
    "discovery",           "privilege_escalation",
    "execution",           "credential_access",
    "lateral_movement",    "collection",
    "exfiltration",        "impact",
    "objectives",
};

/*  ATT&CK tactic -> phase, in declaration order (enterprise tactics before ICS ones), so the
    first entry naming a phase is that phase's inverse. */
static const struct {
    const char *tactic; /* ATT&CK tactic id */
    ukc_phase_t phase;  /* the UKC phase it maps to */
} s_tactics[] = {
    {"TA0043", UKC_RECONNAISSANCE},   {"TA0042", UKC_RESOURCE_DEVELOPMENT},
    {"TA0001", UKC_DELIVERY},         {"TA0003", UKC_PERSISTENCE},
    {"TA0005", UKC_DEFENSE_EVASION},  {"TA0011", UKC_COMMAND_AND_CONTROL},
    {"TA0007", UKC_DISCOVERY},        {"TA0004", UKC_PRIVILEGE_ESCALATION},
    {"TA0002", UKC_EXECUTION},        {"TA0006", UKC_CREDENTIAL_ACCESS},
    {"TA0008", UKC_LATERAL_MOVEMENT}, {"TA0009", UKC_COLLECTION},
    {"TA0010", UKC_EXFILTRATION},     {"TA0040", UKC_IMPACT},
    {"TA0102", UKC_DISCOVERY},        {"TA0100", UKC_COLLECTION},
    {"TA0105", UKC_IMPACT},           {"TA0106", UKC_IMPACT},
};

const char *
ukc_phase_name(ukc_phase_t phase)
{
    if (phase < 0 || phase >= UKC_PHASE_COUNT) {
        return NULL;
    }
    return s_names[phase];
}

ukc_phase_t
ukc_phase_from_name_len(const char *name, size_t len)
{
    for (int i = 0; i < UKC_PHASE_COUNT; i++) {
        if (strlen(s_names[i]) == len && memcmp(s_names[i], name, len) == 0) {
            return (ukc_phase_t)i;
        }
    }
    return UKC_NONE;
}

ukc_phase_t
ukc_phase_from_name(const char *name)
{
    return ukc_phase_from_name_len(name, strlen(name));
}

ukc_stage_t
ukc_stage_of(ukc_phase_t phase)
{
    if (phase >= UKC_RECONNAISSANCE && phase <= UKC_COMMAND_AND_CONTROL) {
        return UKC_STAGE_IN;
    }
    if (phase >= UKC_PIVOTING && phase <= UKC_LATERAL_MOVEMENT) {
        return UKC_STAGE_THROUGH;
    }
    return UKC_STAGE_OUT;
}

const char *
ukc_stage_name(ukc_stage_t stage)
{
    static const char *const names[] = {"in", "through", "out"};
    return names[stage];
}

bool
ukc_observable(ukc_phase_t phase)
{
    return phase >= 0 && phase < UKC_PHASE_COUNT && phase != UKC_RECONNAISSANCE &&
           phase != UKC_RESOURCE_DEVELOPMENT && phase != UKC_WEAPONIZATION &&
           phase != UKC_SOCIAL_ENGINEERING;
}

ukc_phase_t
ukc_phase_from_tactic(const char *tactic)
{
    for (size_t i = 0; i < sizeof s_tactics / sizeof s_tactics[0]; i++) {
        if (strcmp(s_tactics[i].tactic, tactic) == 0) {
            return s_tactics[i].phase;
        }
    }
    return UKC_NONE;
}

const char *
ukc_tactic_of(ukc_phase_t phase)
{
    for (size_t i = 0; i < sizeof s_tactics / sizeof s_tactics[0]; i++) {
        if (s_tactics[i].phase == phase) {
            return s_tactics[i].tactic;
        }
    }
    return NULL;
}

size_t
ukc_tactic_count(void)
{
    return sizeof s_tactics / sizeof s_tactics[0];
}

const char *
ukc_tactic_at(size_t i)
{
    return i < ukc_tactic_count() ? s_tactics[i].tactic : NULL;
}

bool
ukc_handoff_out(ukc_phase_t phase)
{
    return phase == UKC_COMMAND_AND_CONTROL || phase == UKC_PERSISTENCE;
}

bool
ukc_handoff_in(ukc_phase_t phase)
{
    return phase == UKC_DISCOVERY || phase == UKC_LATERAL_MOVEMENT;
}
