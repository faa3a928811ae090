/*  syslog_frame.c - the octet-counting frame reader (see syslog_frame.h).

    A two-state machine: HEADER accumulates MSG-LEN digits up to the SP, BODY collects MSG.
    The reader owns its gather buffer only; the bytes given to a feed stay the caller's.
*/
#include "syslog_frame.h"

#include "err.h"
#include "xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEEP_BUFFER 4096 /* a gather buffer larger than this is freed after its frame */

typedef enum { S_HEADER = 0, S_BODY } s_state_t;

struct syslog_frame_t {
    size_t max_frame; /* largest MSG-LEN accepted */
    s_state_t state;  /* reading a MSG-LEN or a MSG */
    uint64_t len;     /* HEADER: the digits' value so far; BODY: the MSG-LEN */
    int digits;       /* HEADER: digits read so far */
    uint8_t *buf;     /* BODY: the gathered part of a split MSG, or NULL */
    size_t have;      /* bytes in buf */
    size_t cap;       /* bytes allocated at buf */
    int failed;       /* the refusal code, or 0 */
    char error[96];   /* why, or "" */
    uint64_t frames;  /* non-empty frames handed out */
    uint64_t empty;   /* empty frames skipped */
    uint64_t offset;  /* stream bytes consumed */
};

syslog_frame_t *
syslog_frame_new(size_t max_frame)
{
    assert(max_frame >= 1 && max_frame <= UINT32_MAX);
    syslog_frame_t *self = xcalloc(1, sizeof *self);
    self->max_frame = max_frame;
    return self;
}

void
syslog_frame_destroy(syslog_frame_t **self_p)
{
    assert(self_p);
    if (!*self_p) {
        return;
    }
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

/*  Why a stream is refused. */
typedef enum { S_BAD_BYTE = 0, S_BARE_SPACE, S_TOO_MANY_DIGITS, S_TOO_LONG } s_fault_t;

/*  Refuses the stream at `byte`, the stream's byte number `at`; returns the code. */
static int
s_refuse(syslog_frame_t *self, s_fault_t fault, uint64_t at, uint8_t byte)
{
    switch (fault) {
    case S_TOO_LONG:
        snprintf(self->error, sizeof self->error,
                 "frame length over %zu bytes (at offset %" PRIu64 ")", self->max_frame, at);
        break;
    case S_BARE_SPACE:
        snprintf(self->error, sizeof self->error, "a space without a length at offset %" PRIu64,
                 at);
        break;
    case S_TOO_MANY_DIGITS:
        snprintf(self->error, sizeof self->error,
                 "a length of more than %d digits at offset %" PRIu64, SYSLOG_FRAME_MAX_DIGITS, at);
        break;
    case S_BAD_BYTE:
        snprintf(self->error, sizeof self->error,
                 "byte 0x%02x at offset %" PRIu64 " where a length %s belongs", byte, at,
                 self->digits ? "digit or the space" : "digit");
        break;
    }
    self->failed = fault == S_TOO_LONG ? CADRE_ELIMIT : CADRE_EPROTO;
    self->state = S_HEADER;
    self->digits = 0;
    self->len = 0;
    free(self->buf);
    self->buf = NULL;
    self->have = self->cap = 0;
    return self->failed;
}

/*  The frame is complete: back to HEADER, dropping a large gather buffer. */
static void
s_next_frame(syslog_frame_t *self)
{
    self->state = S_HEADER;
    self->len = 0;
    self->digits = 0;
    self->have = 0;
    if (self->cap > S_KEEP_BUFFER) {
        free(self->buf);
        self->buf = NULL;
        self->cap = 0;
    }
}

int
syslog_frame_feed(syslog_frame_t *self, const uint8_t *data, size_t len, syslog_frame_fn *fn,
                  void *arg)
{
    assert(self);
    assert(fn);
    assert(data || len == 0);
    if (self->failed) {
        return self->failed;
    }
    size_t pos = 0;
    while (pos < len) {
        if (self->state == S_HEADER) {
            uint8_t c = data[pos];
            uint64_t at = self->offset + pos;
            if (c >= '0' && c <= '9') {
                if (self->digits == SYSLOG_FRAME_MAX_DIGITS) {
                    self->offset += pos + 1;
                    return s_refuse(self, S_TOO_MANY_DIGITS, at, c);
                }
                self->len = self->len * 10 + (uint64_t)(c - '0');
                self->digits++;
                if (self->len > self->max_frame) {
                    self->offset += pos + 1;
                    return s_refuse(self, S_TOO_LONG, at, c);
                }
                pos++;
                continue;
            }
            if (c != ' ') {
                self->offset += pos + 1;
                return s_refuse(self, S_BAD_BYTE, at, c);
            }
            if (self->digits == 0) {
                self->offset += pos + 1;
                return s_refuse(self, S_BARE_SPACE, at, c);
            }
            pos++;
            if (self->len == 0) {
                self->empty++;
                s_next_frame(self);
                continue;
            }
            self->state = S_BODY;
            self->have = 0;
            continue;
        }
        /* BODY: hand a frame lying whole in this chunk out in place; gather the others. */
        size_t want = (size_t)self->len;
        size_t avail = len - pos;
        if (self->have == 0 && avail >= want) {
            fn(arg, data + pos, want);
            pos += want;
            self->frames++;
            s_next_frame(self);
            continue;
        }
        if (self->cap < want) {
            free(self->buf);
            self->buf = xmalloc(want);
            self->cap = want;
        }
        size_t take = want - self->have < avail ? want - self->have : avail;
        memcpy(self->buf + self->have, data + pos, take);
        self->have += take;
        pos += take;
        if (self->have == want) {
            fn(arg, self->buf, want);
            self->frames++;
            s_next_frame(self);
        }
    }
    self->offset += len;
    return 0;
}

bool
syslog_frame_partial(const syslog_frame_t *self)
{
    assert(self);
    return !self->failed && (self->state == S_BODY || self->digits > 0);
}

const char *
syslog_frame_error(const syslog_frame_t *self)
{
    assert(self);
    return self->error;
}

uint64_t
syslog_frame_count(const syslog_frame_t *self)
{
    assert(self);
    return self->frames;
}

uint64_t
syslog_frame_empty(const syslog_frame_t *self)
{
    assert(self);
    return self->empty;
}

uint64_t
syslog_frame_offset(const syslog_frame_t *self)
{
    assert(self);
    return self->offset;
}
