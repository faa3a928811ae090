/*  rec_stream.h - writing what the engine publishes (events, identity and campaign
    records) as a stream, in JSON Lines or MessagePack.

    One writer may mix events and records in one stream; each is one JSON object per line
    (jsonio.h) or one MessagePack map per message (wire.h), with the same keys either way
    (docs/events.md). The writer borrows its FILE and never closes it.
*/
#ifndef CADRE_REC_STREAM_H
#define CADRE_REC_STREAM_H

#include "obs_stream.h"
#include "records.h"

#include <stdio.h>

typedef struct rec_writer_t rec_writer_t;

/*  Opens a writer on a borrowed FILE in format (OBS_FORMAT_AUTO means JSON Lines). Returns
    NULL (and logs) only when format is not an obs_format_t value. */
rec_writer_t *rec_writer_new(FILE *file, obs_format_t format);
/*  Flushes (not closes) the FILE, frees the writer and NULLs *self_p. NULL is a no-op. */
void rec_writer_destroy(rec_writer_t **self_p);
/*  Writes one event. Returns 0, -errno on a write error, or the encoder's CADRE_ERECORD or
    CADRE_ELIMIT (see jsonio_event_encode; nothing is written and the reason is logged). */
int rec_writer_event(rec_writer_t *self, const ev_t *ev);
/*  Writes one identity record. Returns 0, -errno, or CADRE_ERECORD (nothing written, logged). */
int rec_writer_identity(rec_writer_t *self, const rec_identity_t *rec);
/*  Writes one campaign record. Returns 0, -errno, or CADRE_ERECORD (nothing written, logged). */
int rec_writer_campaign(rec_writer_t *self, const rec_campaign_t *rec);

#endif
