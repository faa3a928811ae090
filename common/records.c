/*  records.c - event topics and record helpers (see records.h). */
#include "records.h"

#include <stdlib.h>
#include <string.h>

/*  Topic, type and payload key names per event kind (SPEC §6). */
static const struct {
    const char *topic;   /* topic string */
    const char *type;    /* envelope type */
    const char *subject; /* payload key of subject */
    const char *object;  /* payload key of object, or NULL */
    const char *prior;   /* payload key of prior, or NULL */
    const char *members; /* payload key of members, or NULL */
} s_kinds[EV_KIND_COUNT] = {
    {"identity.formed", "formed", "identity_uuid", NULL, NULL, "observation_uuids"},
    {"identity.observation.linked", "linked", "identity_uuid", "observation_uuid",
     "prior_identity_uuid", NULL},
    {"identity.merged", "merged", "winner_uuid", "loser_uuid", NULL, NULL},
    {"identity.unmerged", "unmerged", "resurrected_uuid", "former_winner_uuid", NULL, NULL},
    {"identity.campaign.assigned", "assigned", "identity_uuid", "campaign_uuid",
     "prior_campaign_uuid", NULL},
    {"campaign.formed", "formed", "campaign_uuid", NULL, NULL, "identity_uuids"},
    {"campaign.identity.assigned", "assigned", "campaign_uuid", "identity_uuid",
     "prior_campaign_uuid", NULL},
    {"campaign.merged", "merged", "winner_uuid", "loser_uuid", NULL, NULL},
    {"campaign.unmerged", "unmerged", "resurrected_uuid", "former_winner_uuid", NULL, NULL},
};

const char *
ev_topic(ev_kind_t kind)
{
    return s_kinds[kind].topic;
}

const char *
ev_type(ev_kind_t kind)
{
    return s_kinds[kind].type;
}

void
ev_keys(ev_kind_t kind, const char **subject, const char **object, const char **prior,
        const char **members)
{
    *subject = s_kinds[kind].subject;
    *object = s_kinds[kind].object;
    *prior = s_kinds[kind].prior;
    *members = s_kinds[kind].members;
}

void
rec_identity_clear(rec_identity_t *rec)
{
    free(rec->ja3s.v);
    free(rec->ja4s.v);
    free(rec->hasshs.v);
    free(rec->payloads.v);
    free(rec->c2s.v);
    memset(rec, 0, sizeof *rec);
}

void
rec_campaign_clear(rec_campaign_t *rec)
{
    free(rec->payloads.v);
    free(rec->c2s.v);
    free(rec->deckies.v);
    free(rec->phases);
    memset(rec, 0, sizeof *rec);
}
