/*  rec_stream.c - streams of events and records (see rec_stream.h).

    The writer picks the codec per format and writes each encoded item with one fwrite:
    JSON text plus a newline, or one MessagePack message from a reused buffer.
*/
#include "rec_stream.h"

#include "err.h"
#include "jsonio.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

struct rec_writer_t {
    FILE *file;          /* output, borrowed */
    obs_format_t format; /* JSONL or MSGPACK */
    wire_buf_t buf;      /* MessagePack encoding buffer, reused */
};

rec_writer_t *
rec_writer_new(FILE *file, obs_format_t format)
{
    assert(file);
    if (format != OBS_FORMAT_AUTO && format != OBS_FORMAT_JSONL && format != OBS_FORMAT_MSGPACK) {
        log_error("rec_writer_new: invalid format %d", (int)format);
        return NULL;
    }
    rec_writer_t *self = xcalloc(1, sizeof *self);
    self->file = file;
    self->format = format == OBS_FORMAT_MSGPACK ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL;
    wire_buf_init(&self->buf);
    return self;
}

void
rec_writer_destroy(rec_writer_t **self_p)
{
    assert(self_p);
    rec_writer_t *self = *self_p;
    if (!self) {
        return;
    }
    fflush(self->file);
    wire_buf_free(&self->buf);
    free(self);
    *self_p = NULL;
}

/*  Writes len bytes; returns 0 or -errno. */
static int
s_write_all(FILE *file, const void *data, size_t len)
{
    if (fwrite(data, 1, len, file) != len) {
        return errno ? -errno : -EIO;
    }
    return 0;
}

/*  Writes one encoded item, or logs why what (an "event", "identity" ...) named id could
    not be encoded. text is a JSON line to free (JSONL), else the message is in self->buf. */
static int
s_emit(rec_writer_t *self, int rc, char *text, size_t len, const char *what, const char *id)
{
    if (rc != 0) {
        log_error("%s '%.80s' not written: %s", what, id,
                  rc == CADRE_ELIMIT ? "its member list does not fit in one event"
                                     : "it holds invalid UTF-8, a non-finite time or an unknown "
                                       "phase");
        return rc;
    }
    if (self->format == OBS_FORMAT_MSGPACK) {
        return s_write_all(self->file, self->buf.data, self->buf.len);
    }
    text[len] = '\n'; /* replaces the NUL: the line is written by length */
    rc = s_write_all(self->file, text, len + 1);
    free(text);
    return rc;
}

int
rec_writer_event(rec_writer_t *self, const ev_t *ev)
{
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (self->format == OBS_FORMAT_MSGPACK) {
        wire_buf_reset(&self->buf);
        rc = wire_event_encode(ev, &self->buf);
    } else {
        rc = jsonio_event_encode(ev, &text, &len);
    }
    return s_emit(self, rc, text, len, ev_topic(ev->kind), ev->id);
}

int
rec_writer_identity(rec_writer_t *self, const rec_identity_t *rec)
{
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (self->format == OBS_FORMAT_MSGPACK) {
        wire_buf_reset(&self->buf);
        rc = wire_identity_encode(rec, &self->buf);
    } else {
        rc = jsonio_identity_encode(rec, &text, &len);
    }
    return s_emit(self, rc, text, len, "identity", rec->id);
}

int
rec_writer_campaign(rec_writer_t *self, const rec_campaign_t *rec)
{
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (self->format == OBS_FORMAT_MSGPACK) {
        wire_buf_reset(&self->buf);
        rc = wire_campaign_encode(rec, &self->buf);
    } else {
        rc = jsonio_campaign_encode(rec, &text, &len);
    }
    return s_emit(self, rc, text, len, "campaign", rec->id);
}
