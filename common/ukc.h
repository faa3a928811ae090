/*  ukc.h - the Unified Kill Chain vocabulary (SPEC §1, R§1).

    19 phases in declaration order, each with a stage (in / through / out) and an
    observability flag; the ATT&CK tactic map both ways; the campaign layer's handoff sets.
    All strings returned here are static.
*/
#ifndef CADRE_UKC_H
#define CADRE_UKC_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    UKC_RECONNAISSANCE = 0,
    UKC_RESOURCE_DEVELOPMENT,
    UKC_WEAPONIZATION,
    UKC_DELIVERY,
    UKC_SOCIAL_ENGINEERING,
    UKC_EXPLOITATION,
    UKC_PERSISTENCE,
    UKC_DEFENSE_EVASION,
    UKC_COMMAND_AND_CONTROL,
    UKC_PIVOTING,
    UKC_DISCOVERY,
    UKC_PRIVILEGE_ESCALATION,
    UKC_EXECUTION,
    UKC_CREDENTIAL_ACCESS,
    UKC_LATERAL_MOVEMENT,
    UKC_COLLECTION,
    UKC_EXFILTRATION,
    UKC_IMPACT,
    UKC_OBJECTIVES,
    UKC_PHASE_COUNT, /* number of phases (19) */
    UKC_NONE = -1    /* "no phase": an unknown name or an unmapped tactic */
} ukc_phase_t;

typedef enum { UKC_STAGE_IN = 0, UKC_STAGE_THROUGH, UKC_STAGE_OUT } ukc_stage_t;

/*  The phase's lowercase snake_case name, or NULL for a value out of range. */
const char *ukc_phase_name(ukc_phase_t phase);
/*  The phase named exactly name (case-sensitive), or UKC_NONE. */
ukc_phase_t ukc_phase_from_name(const char *name);
/*  Same, for a name of len bytes that need not be NUL-terminated. */
ukc_phase_t ukc_phase_from_name_len(const char *name, size_t len);
/*  The phase's stage: in for phases 1-9, through for 10-15, out for the rest. */
ukc_stage_t ukc_stage_of(ukc_phase_t phase);
/*  "in", "through" or "out". */
const char *ukc_stage_name(ukc_stage_t stage);
/*  True for the 15 phases a honeypot can observe (all but reconnaissance,
    resource_development, weaponization and social_engineering). */
bool ukc_observable(ukc_phase_t phase);
/*  The phase an ATT&CK tactic id ("TA0007") maps to, or UKC_NONE for unknown tactics. */
ukc_phase_t ukc_phase_from_tactic(const char *tactic);
/*  The first tactic (enterprise before ICS) that maps to phase, or NULL when none does. */
const char *ukc_tactic_of(ukc_phase_t phase);
/*  Number of tactic keys in the map (18), and the i-th key in declaration order. */
size_t ukc_tactic_count(void);
const char *ukc_tactic_at(size_t i);
/*  Handoff sets of the campaign layer: OUT = {command_and_control, persistence},
    IN = {discovery, lateral_movement}. */
bool ukc_handoff_out(ukc_phase_t phase);
bool ukc_handoff_in(ukc_phase_t phase);

#endif
