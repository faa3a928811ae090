/*  records.h - what the engine publishes: events (SPEC §6) and identity and campaign
    records (SPEC §7), as plain value views.

    The clustering engine fills these views with strings it owns (borrowed by the view until
    the engine's next change); jsonio.c and wire.c encode them. Arrays allocated for a view
    are released with the matching *_clear function.
*/
#ifndef CADRE_RECORDS_H
#define CADRE_RECORDS_H

#include "ukc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Event kinds, one per topic of SPEC §6. */
typedef enum {
    EV_IDENTITY_FORMED = 0,        /* identity.formed */
    EV_IDENTITY_LINKED,            /* identity.observation.linked */
    EV_IDENTITY_MERGED,            /* identity.merged */
    EV_IDENTITY_UNMERGED,          /* identity.unmerged */
    EV_IDENTITY_CAMPAIGN_ASSIGNED, /* identity.campaign.assigned */
    EV_CAMPAIGN_FORMED,            /* campaign.formed */
    EV_CAMPAIGN_IDENTITY_ASSIGNED, /* campaign.identity.assigned */
    EV_CAMPAIGN_MERGED,            /* campaign.merged */
    EV_CAMPAIGN_UNMERGED,          /* campaign.unmerged */
    EV_KIND_COUNT
} ev_kind_t;

/*  One event. Which fields are set depends on kind (the payload keys of SPEC §6):
    formed: subject + members; linked/assigned: subject, object, prior;
    merged: subject = winner, object = loser; unmerged: subject = resurrected,
    object = former winner. */
typedef struct {
    ev_kind_t kind;             /* the topic */
    const char *id;             /* envelope id (name-based UUID) */
    double ts;                  /* time of the input that caused it (epoch seconds) */
    const char *subject;        /* see above */
    const char *object;         /* see above, or NULL */
    const char *prior;          /* prior id for linked/assigned events, NULL when none */
    const char *const *members; /* formed: member ids */
    size_t n_members;           /* formed: number of members */
} ev_t;

/*  The topic string of an event kind, e.g. "identity.observation.linked". */
const char *ev_topic(ev_kind_t kind);
/*  The envelope type: the topic's leaf ("formed", "linked", "merged", "unmerged",
    "assigned"). */
const char *ev_type(ev_kind_t kind);
/*  The payload key names for an event kind: subject, object, prior and members keys
    (NULL where the kind has no such key). */
void ev_keys(ev_kind_t kind, const char **subject, const char **object, const char **prior,
             const char **members);

/*  A list of strings borrowed from the engine, sorted and unique. */
typedef struct {
    const char **v; /* the strings (array owned by the record, strings borrowed) */
    size_t n;       /* count */
} rec_strs_t;

/*  An identity record (SPEC §7). */
typedef struct {
    const char *id;          /* identity id */
    const char *merged_into; /* winner, or NULL */
    const char *campaign;    /* live campaign, or NULL */
    uint64_t observations;   /* live member observations (literal or through merges) */
    bool has_seen;           /* first/last seen are set (some member had sessions) */
    double first_seen;       /* min session start */
    double last_seen;        /* max session end */
    rec_strs_t ja3s;         /* sorted unique JA3s */
    rec_strs_t ja4s;         /* sorted unique JA4s */
    rec_strs_t hasshs;       /* sorted unique HASSHs */
    rec_strs_t payloads;     /* sorted unique payload hashes */
    rec_strs_t c2s;          /* sorted unique C2 endpoints */
    bool has_kd;             /* keystroke centroid present */
    uint64_t kd;             /* keystroke centroid */
    uint64_t formed_seq;     /* input sequence of the reconciliation that formed it */
} rec_identity_t;

/*  One UKC phase a campaign was seen in, with its first time. */
typedef struct {
    ukc_phase_t phase; /* the phase */
    double first;      /* earliest session start in that phase */
} rec_phase_t;

/*  A campaign record (SPEC §7). */
typedef struct {
    const char *id;          /* campaign id */
    const char *merged_into; /* winner, or NULL */
    uint64_t identities;     /* live member identities */
    uint64_t observations;   /* observations of those identities */
    bool has_seen;           /* first/last seen are set */
    double first_seen;       /* min session start */
    double last_seen;        /* max session end */
    rec_strs_t payloads;     /* sorted unique payload hashes */
    rec_strs_t c2s;          /* sorted unique C2 endpoints */
    rec_strs_t deckies;      /* sorted unique deckies */
    rec_phase_t *phases;     /* phases observed, in kill-chain order */
    size_t n_phases;         /* number of phases */
    uint64_t formed_seq;     /* input sequence of the reconciliation that formed it */
} rec_campaign_t;

/*  Frees the arrays a record owns (not the borrowed strings) and zeroes it. */
void rec_identity_clear(rec_identity_t *rec);
void rec_campaign_clear(rec_campaign_t *rec);

#endif
