/*  hb.c - heartbeat and liveness bookkeeping for one peer (see hb.h). */
#include "hb.h"

#include <assert.h>

void
hb_init(hb_t *self, int64_t now, int interval_ms, int liveness)
{
    assert(self && interval_ms > 0 && liveness > 0);
    *self = (hb_t){
        .last_heard = now,
        .last_sent = now,
        .interval_ms = interval_ms,
        .liveness = liveness,
        .backoff_ms = HB_BACKOFF_MIN_MS,
    };
}

void
hb_heard(hb_t *self, int64_t now)
{
    assert(self);
    self->last_heard = now;
    self->backoff_ms = HB_BACKOFF_MIN_MS;
}

void
hb_sent(hb_t *self, int64_t now)
{
    assert(self);
    self->last_sent = now;
}

/*  The silence, in ms, after which the peer is dead. */
static int64_t
s_expiry(const hb_t *self)
{
    return (int64_t)self->liveness * self->interval_ms;
}

bool
hb_should_send(const hb_t *self, int64_t now)
{
    assert(self);
    return now - self->last_sent >= self->interval_ms;
}

bool
hb_dead(const hb_t *self, int64_t now)
{
    assert(self);
    return now - self->last_heard >= s_expiry(self);
}

int64_t
hb_next_deadline(const hb_t *self, int64_t now)
{
    assert(self);
    int64_t next = self->last_sent + self->interval_ms - now;
    if (!hb_dead(self, now)) {
        int64_t dies = self->last_heard + s_expiry(self) - now;
        if (dies < next) {
            next = dies;
        }
    }
    return next > 0 ? next : 0;
}

int
hb_backoff_next(hb_t *self)
{
    assert(self);
    int delay = self->backoff_ms;
    if (self->backoff_ms < HB_BACKOFF_MAX_MS) {
        self->backoff_ms *= 2;
        if (self->backoff_ms > HB_BACKOFF_MAX_MS) {
            self->backoff_ms = HB_BACKOFF_MAX_MS;
        }
    }
    return delay;
}

void
hb_backoff_reset(hb_t *self)
{
    assert(self);
    self->backoff_ms = HB_BACKOFF_MIN_MS;
}
