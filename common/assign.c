/*  assign.c - assignment records and their streams (see assign.h).

    Reading shares the observation stream's framing (obs_reader_next_as): only the decoder
    differs. Writing encodes with jsonio.c or wire.c. Readers and writers own their buffers;
    a reader owns its FILE only when it opened it.
*/
#include "assign.h"

#include "err.h"
#include "jsonio.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
assign_clear(assign_t *self)
{
    free(self->id);
    free(self->identity);
    free(self->campaign);
    memset(self, 0, sizeof *self);
}

/*  Checks an optional string member. */
static int
s_check_opt(const char *s, size_t max, obs_error_t *err, const char *field)
{
    return s ? obs_check_string(s, strlen(s), max, err, field) : 0;
}

int
assign_check(const assign_t *self, obs_error_t *err)
{
    obs_error_reset(err, err->record, NULL);
    if (!self->id) {
        return obs_error_field(err, "id", "required field is missing");
    }
    int rc = obs_check_string(self->id, strlen(self->id), OBS_MAX_ID, err, "id");
    if (rc != 0) {
        return rc;
    }
    if (self->id[0] == '\0') {
        return obs_error_field(err, "id", "must not be empty");
    }
    obs_error_reset(err, err->record, self->id);
    if ((rc = s_check_opt(self->identity, OBS_MAX_SHORT, err, "identity")) ||
        (rc = s_check_opt(self->campaign, OBS_MAX_SHORT, err, "campaign"))) {
        return rc;
    }
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Reader */

struct assign_reader_t {
    obs_reader_t *in; /* the framed stream, owned */
};

assign_reader_t *
assign_reader_new(FILE *file, obs_format_t format, const char *source)
{
    obs_reader_t *in = obs_reader_new(file, format, source);
    if (!in) {
        return NULL;
    }
    assign_reader_t *self = xcalloc(1, sizeof *self);
    self->in = in;
    return self;
}

assign_reader_t *
assign_reader_open(const char *path, obs_format_t format)
{
    obs_reader_t *in = obs_reader_open(path, format);
    if (!in) {
        return NULL;
    }
    assign_reader_t *self = xcalloc(1, sizeof *self);
    self->in = in;
    return self;
}

void
assign_reader_destroy(assign_reader_t **self_p)
{
    assert(self_p);
    if (!*self_p) {
        return;
    }
    obs_reader_destroy(&(*self_p)->in);
    free(*self_p);
    *self_p = NULL;
}

const char *
assign_reader_source(const assign_reader_t *self)
{
    return obs_reader_source(self->in);
}

/*  obs_decode_fn for assignments: out is an assign_t *. */
static int
s_decode(const char *data, size_t len, obs_format_t format, uint64_t record, void *out,
         obs_error_t *err)
{
    if (format == OBS_FORMAT_MSGPACK) {
        return wire_assign_decode(data, len, record, out, err);
    }
    return jsonio_assign_decode(data, len, record, out, err);
}

int
assign_reader_next(assign_reader_t *self, assign_t *out, obs_error_t *err)
{
    memset(out, 0, sizeof *out);
    return obs_reader_next_as(self->in, s_decode, out, err);
}

/*  --------------------------------------------------------------------------------------
    Writer */

struct assign_writer_t {
    FILE *file;          /* output, borrowed */
    obs_format_t format; /* JSONL or MSGPACK */
    wire_buf_t buf;      /* MessagePack encoding buffer, reused */
};

assign_writer_t *
assign_writer_new(FILE *file, obs_format_t format)
{
    assert(file);
    if (format != OBS_FORMAT_AUTO && format != OBS_FORMAT_JSONL && format != OBS_FORMAT_MSGPACK) {
        log_error("assign_writer_new: invalid format %d", (int)format);
        return NULL;
    }
    assign_writer_t *self = xcalloc(1, sizeof *self);
    self->file = file;
    self->format = format == OBS_FORMAT_MSGPACK ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL;
    wire_buf_init(&self->buf);
    return self;
}

void
assign_writer_destroy(assign_writer_t **self_p)
{
    assert(self_p);
    assign_writer_t *self = *self_p;
    if (!self) {
        return;
    }
    fflush(self->file);
    wire_buf_free(&self->buf);
    free(self);
    *self_p = NULL;
}

int
assign_writer_put(assign_writer_t *self, const assign_t *rec)
{
    obs_error_t err;
    char *line = NULL;
    const char *data = NULL;
    size_t len = 0;
    int rc = 0;
    if (self->format == OBS_FORMAT_MSGPACK) {
        wire_buf_reset(&self->buf);
        rc = wire_assign_encode(rec, &self->buf, &err);
        data = self->buf.data;
        len = self->buf.len;
    } else {
        rc = jsonio_assign_encode(rec, &line, &len, &err);
        if (rc == 0) {
            line[len++] = '\n'; /* replaces the NUL: the line is written by length */
            data = line;
        }
    }
    if (rc != 0) {
        char msg[512];
        obs_error_format(&err, "output", msg, sizeof msg);
        log_error("assignment not written: %s", msg);
        return rc;
    }
    if (fwrite(data, 1, len, self->file) != len) {
        rc = errno ? -errno : -EIO;
    }
    free(line);
    return rc;
}
