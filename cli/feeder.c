/*  feeder.c - windowed SUBMIT / FLUSH client (see feeder.h). */
#include "feeder.h"

#include "err.h"
#include "proto.h"
#include "wire.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define S_REPORTED 20 /* rejections printed in full */

/*  A submission kept until it is answered, so it can be sent again if the broker restarts. */
typedef struct {
    uint64_t ref;  /* its ref */
    char *bytes;   /* the record's MessagePack bytes (owned) */
    size_t len;    /* their length */
    bool answered; /* ACK or ERROR received */
} s_pending_t;

struct feeder_t {
    zsock_t *sock;            /* DEALER to the broker's ingest */
    uint64_t producer;        /* this feeder's producer id (random), named in every PSUBMIT */
    uint32_t window;          /* most submissions in flight */
    uint64_t next_ref;        /* next ref to use */
    uint64_t in_flight;       /* submitted, not yet answered */
    uint64_t acked;           /* ACKs received */
    uint64_t rejected;        /* ERRORs received for submissions */
    bool flushed;             /* FLUSHED received for the pending flush */
    uint64_t flush_ref;       /* ref of the pending flush (0: none) */
    uint64_t flushed_seq;     /* seq of the FLUSHED */
    zsock_t *extra;           /* another socket to service, or NULL */
    feeder_extra_fn extra_fn; /* its handler */
    void *extra_arg;          /* handler argument */
    wire_buf_t buf;           /* encoding scratch */
    uint64_t submitted;       /* SUBMITs sent */
    s_pending_t *pend;        /* unanswered submissions, a ring in ref order */
    size_t pend_cap;          /* ring capacity (2 * window) */
    size_t pend_head;         /* index of the oldest entry */
    size_t pend_n;            /* entries in the ring, answered ones included */
    uint64_t resent;          /* submissions sent again after a silence */
    int resend_ms;            /* silence before resending what is unanswered */
    feeder_tick_fn tick;      /* progress callback, or NULL */
    void *tick_arg;           /* its argument */
    char *endpoint;           /* the broker's ingest endpoint */
    const curve_t *curve;     /* CURVE client credentials (borrowed), or NULL */
    zsock_t *monitor;         /* PAIR receiving the DEALER's disconnect events */
    uint64_t reconnects;      /* connections replaced after the broker went away */
    bool refused;             /* the last connection failed its handshake (CURVE) */
    bool refusal_told;        /* a failed handshake was reported on stderr */
    uint64_t last_submit;     /* ref of the last SUBMIT (0: none yet) */
    uint64_t flushes;         /* FLUSHED answers received for pending flushes */
    uint64_t poll_seen;       /* feeder_poll: answers counted at its last progress */
    int64_t poll_quiet;       /* feeder_poll: when it last saw progress (zclock_mono) */
    int wake_fd;              /* a descriptor that also ends a pump's wait, or -1 */
};

/*  A fresh DEALER to the broker, with a monitor reporting when the connection drops. */
static void
s_connect(feeder_t *self)
{
    static int counter = 0;
    self->sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(self->sock, 0);
    zsock_set_rcvtimeo(self->sock, 0);
    /* The window bounds what is queued; a send never blocks, so a silent broker shows as
       a timeout instead of a hang. */
    zsock_set_sndhwm(self->sock, 0);
    /* Likewise the replies: at most a window of them is ever outstanding. */
    zsock_set_rcvhwm(self->sock, 0);
    /* libzmq drops a connection whose handshake is refused (a CURVE key the broker does
       not authorize) for good: with no connection left a DEALER send would block. */
    zsock_set_sndtimeo(self->sock, 0);
    char name[96];
    snprintf(name, sizeof name, "inproc://cadre-feeder-monitor-%p-%d", (void *)self, counter++);
    zmq_socket_monitor(zsock_resolve(self->sock), name,
                       ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    self->monitor = zsock_new(ZMQ_PAIR);
    zsock_set_rcvtimeo(self->monitor, 0);
    zsock_connect(self->monitor, "%s", name);
    if (self->curve) {
        curve_connect(self->curve, self->sock);
    }
    zsock_connect(self->sock, "%s", self->endpoint);
}

static void
s_disconnect(feeder_t *self)
{
    zmq_socket_monitor(zsock_resolve(self->sock), NULL, 0);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->sock);
}

feeder_t *
feeder_new(const char *endpoint, const curve_t *curve, uint32_t window, zsock_t *extra_sock,
           feeder_extra_fn extra_fn, void *extra_arg)
{
    feeder_t *self = xcalloc(1, sizeof *self);
    self->endpoint = xstrdup(endpoint);
    self->curve = curve;
    s_connect(self);
    self->window = window ? window : 1;
    self->next_ref = 1;
    /* A random 64-bit id: two feeders of one broker share one with odds of about n^2/2^65. */
    while (self->producer == 0) {
        if (getrandom(&self->producer, sizeof self->producer, 0) != sizeof self->producer) {
            self->producer =
                (uint64_t)zclock_time() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)self;
        }
    }
    self->extra = extra_sock;
    self->extra_fn = extra_fn;
    self->extra_arg = extra_arg;
    wire_buf_init(&self->buf);
    self->pend_cap = 2 * (size_t)self->window;
    self->pend = xcalloc(self->pend_cap, sizeof *self->pend);
    self->resend_ms = 3000;
    self->wake_fd = -1;
    return self;
}

void
feeder_destroy(feeder_t **self_p)
{
    feeder_t *self = *self_p;
    if (!self) {
        return;
    }
    s_disconnect(self);
    free(self->endpoint);
    wire_buf_free(&self->buf);
    for (size_t i = 0; i < self->pend_n; i++) {
        free(self->pend[(self->pend_head + i) % self->pend_cap].bytes);
    }
    free(self->pend);
    free(self);
    *self_p = NULL;
}

/*  Marks ref answered; false when it was not pending (a duplicate answer after a resend). */
static bool
s_answer(feeder_t *self, uint64_t ref)
{
    bool found = false;
    for (size_t i = 0; i < self->pend_n && !found; i++) {
        s_pending_t *p = &self->pend[(self->pend_head + i) % self->pend_cap];
        if (p->ref == ref && !p->answered) {
            p->answered = true;
            free(p->bytes);
            p->bytes = NULL;
            found = true;
        }
    }
    while (self->pend_n > 0 && self->pend[self->pend_head].answered) {
        self->pend_head = (self->pend_head + 1) % self->pend_cap;
        self->pend_n--;
    }
    return found;
}

/*  Sends everything unanswered again, in ref order, and the pending flush: after a broker
    restart what was in flight is gone; the broker drops what it had already journaled. */
static void
s_resend(feeder_t *self)
{
    for (size_t i = 0; i < self->pend_n; i++) {
        s_pending_t *p = &self->pend[(self->pend_head + i) % self->pend_cap];
        if (p->answered) {
            continue;
        }
        zmsg_t *m = proto_msg_new(PROTO_PSUBMIT);
        proto_add_u64(m, self->producer);
        proto_add_u64(m, p->ref);
        proto_add_bytes(m, p->bytes, p->len);
        if (zmsg_send(&m, self->sock) != 0) {
            zmsg_destroy(&m);
        }
        self->resent++;
    }
    if (self->flush_ref && !self->flushed) {
        zmsg_t *m = proto_msg_new(PROTO_FLUSH);
        proto_add_u64(m, self->flush_ref);
        if (zmsg_send(&m, self->sock) != 0) {
            zmsg_destroy(&m);
        }
    }
}

static void
s_on_reply(feeder_t *self, zmsg_t *msg)
{
    proto_frame_t f;
    if (proto_parse(msg, false, &f) != 0) {
        fprintf(stderr, "cadre: malformed reply from the broker: %s\n", f.reason);
        return;
    }
    uint64_t ref = 0;
    if (f.nparts > 0) {
        proto_get_u64(&f.parts[0], &ref);
    }
    switch (f.cmd) {
    case PROTO_ACK:
        if (s_answer(self, ref)) {
            self->acked++;
            self->in_flight--;
        }
        break;
    case PROTO_FLUSHED:
        if (ref == self->flush_ref && !self->flushed) {
            self->flushed = true;
            self->flushes++;
            proto_get_u64(&f.parts[1], &self->flushed_seq);
        }
        break;
    case PROTO_ERROR: {
        wmsg_error_t e;
        char err[256];
        bool decoded =
            wmsg_error_decode(f.parts[1].data, f.parts[1].size, &e, err, sizeof err) == 0;
        if (ref != 0 && ref != self->flush_ref && s_answer(self, ref)) {
            self->rejected++;
            self->in_flight--;
        }
        if (self->rejected <= S_REPORTED || ref == 0 || ref == self->flush_ref) {
            fprintf(stderr, "cadre: broker refused submission %" PRIu64 ": %s%s%s%s\n", ref,
                    decoded ? e.code : "?", decoded && e.field[0] ? " field '" : "",
                    decoded && e.field[0] ? e.field : "", decoded && e.field[0] ? "'" : "");
            if (decoded) {
                fprintf(stderr, "       %s\n", e.message);
            }
        }
        if (decoded) {
            wmsg_error_free(&e);
        }
        break;
    }
    default:
        break;
    }
}

/*  The broker went away: what was queued for it or in flight is lost. A new connection
    gets everything unanswered again, oldest first, so the journal keeps the client's order
    (the broker recognises what it had already journaled). */
static void
s_reconnect(feeder_t *self)
{
    s_disconnect(self);
    s_connect(self);
    self->refused = false;
    self->reconnects++;
    s_resend(self);
}

/*  Reads the monitor's events; true when the connection dropped and should be replaced
    now. A connection that failed its handshake is not replaced at once, which would
    retry in a tight loop: the next resend (s_wait) reconnects. */
static bool
s_on_monitor(feeder_t *self)
{
    bool dropped = false;
    zmsg_t *ev;
    while ((ev = zmsg_recv(self->monitor)) != NULL) {
        zframe_t *head = zmsg_first(ev);
        uint16_t event = 0;
        if (head && zframe_size(head) >= sizeof event) {
            memcpy(&event, zframe_data(head), sizeof event);
        }
        zmsg_destroy(&ev);
        if (event == ZMQ_EVENT_DISCONNECTED) {
            dropped = true;
            continue;
        }
        self->refused = true;
        if (!self->refusal_told) {
            self->refusal_told = true;
            fprintf(stderr,
                    "cadre: the connection to the broker failed its handshake (%s); "
                    "retrying\n",
                    event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "this client's key is not authorized"
                    : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                        ? "a security mismatch: CURVE on one side only?"
                        : "closed by the broker: a wrong server key, or CURVE on one side only?");
        }
    }
    return dropped && !self->refused;
}

void
feeder_pump(feeder_t *self, int timeout_ms)
{
    zmq_pollitem_t items[4] = {{zsock_resolve(self->sock), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->monitor), 0, ZMQ_POLLIN, 0}};
    int n = 2;
    int extra_at = -1;
    if (self->extra) {
        extra_at = n;
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->extra), 0, ZMQ_POLLIN, 0};
    }
    if (self->wake_fd >= 0) {
        items[n++] = (zmq_pollitem_t){NULL, self->wake_fd, ZMQ_POLLIN, 0};
    }
    if (zmq_poll(items, n, timeout_ms) <= 0) {
        return;
    }
    if ((items[1].revents & ZMQ_POLLIN) && s_on_monitor(self)) {
        s_reconnect(self);
        return;
    }
    if (items[0].revents & ZMQ_POLLIN) {
        zmsg_t *m;
        while ((m = zmsg_recv(self->sock)) != NULL) {
            s_on_reply(self, m);
            zmsg_destroy(&m);
        }
    }
    if (extra_at >= 0 && (items[extra_at].revents & ZMQ_POLLIN)) {
        self->extra_fn(self->extra, self->extra_arg);
    }
}

/*  Waits until cond holds, pumping replies; after resend_ms of silence with something
    unanswered, sends it again; -ETIMEDOUT after timeout_ms of no progress. */
static int
s_wait(feeder_t *self, bool (*cond)(const feeder_t *), int timeout_ms)
{
    int64_t now = zclock_mono();
    int64_t deadline = now + timeout_ms;
    int64_t quiet_since = now;
    uint64_t seen = self->acked + self->rejected;
    while (!cond(self)) {
        feeder_pump(self, 100);
        if (self->tick) {
            self->tick(self, self->tick_arg);
        }
        now = zclock_mono();
        if (self->acked + self->rejected != seen || self->flushed) {
            seen = self->acked + self->rejected;
            deadline = now + timeout_ms;
            quiet_since = now;
        } else if (now - quiet_since > self->resend_ms &&
                   (self->in_flight > 0 || (self->flush_ref && !self->flushed))) {
            if (self->refused) {
                s_reconnect(self); /* resends too */
            } else {
                s_resend(self);
            }
            quiet_since = now;
        }
        if (now > deadline) {
            return -ETIMEDOUT;
        }
    }
    return 0;
}

/*  Room for one more submission: the window is not full, and neither is the ring of
    unanswered ones (answers can come out of order when a broker restarted; the ring then
    holds holes until the oldest are resent and answered). */
static bool
s_has_room(const feeder_t *self)
{
    return self->in_flight < self->window && self->pend_n < self->pend_cap;
}

int
feeder_submit(feeder_t *self, const obs_t *obs, int timeout_ms)
{
    wire_buf_reset(&self->buf);
    obs_error_t err;
    int rc = wire_obs_encode(obs, &self->buf, &err);
    return rc == 0 ? feeder_submit_raw(self, self->buf.data, self->buf.len, timeout_ms) : rc;
}

int
feeder_submit_raw(feeder_t *self, const void *bytes, size_t len, int timeout_ms)
{
    int rc = s_wait(self, s_has_room, timeout_ms);
    if (rc != 0) {
        return rc;
    }
    uint64_t ref = self->next_ref++;
    self->last_submit = ref;
    s_pending_t *p = &self->pend[(self->pend_head + self->pend_n) % self->pend_cap];
    if (self->pend_n == self->pend_cap) {
        /* The ring is full of answered-out-of-order holes: compact it by waiting them out. */
        return -ENOBUFS;
    }
    *p = (s_pending_t){.ref = ref, .bytes = xmalloc(len), .len = len};
    memcpy(p->bytes, bytes, len);
    self->pend_n++;
    zmsg_t *m = proto_msg_new(PROTO_PSUBMIT);
    proto_add_u64(m, self->producer);
    proto_add_u64(m, ref);
    proto_add_bytes(m, bytes, len);
    if (zmsg_send(&m, self->sock) != 0) {
        /* No connection to send on (its handshake was refused): the ring keeps the
           record, and it is sent again after the next silence (s_wait). */
        zmsg_destroy(&m);
    }
    self->in_flight++;
    self->submitted++;
    if (self->tick) {
        self->tick(self, self->tick_arg);
    }
    return 0;
}

static bool
s_flushed(const feeder_t *self)
{
    return self->in_flight == 0 && self->flushed;
}

/*  Sends a new FLUSH (replacing any pending one). */
static void
s_send_flush(feeder_t *self)
{
    self->flushed = false;
    self->flush_ref = self->next_ref++;
    zmsg_t *m = proto_msg_new(PROTO_FLUSH);
    proto_add_u64(m, self->flush_ref);
    if (zmsg_send(&m, self->sock) != 0) {
        zmsg_destroy(&m); /* sent again with what is unanswered (s_resend) */
    }
}

int
feeder_flush(feeder_t *self, int timeout_ms, uint64_t *seq)
{
    s_send_flush(self);
    int rc = s_wait(self, s_flushed, timeout_ms);
    *seq = self->flushed_seq;
    return rc;
}

uint64_t
feeder_acked(const feeder_t *self)
{
    return self->acked;
}

uint64_t
feeder_rejected(const feeder_t *self)
{
    return self->rejected;
}

static bool
s_drained(const feeder_t *self)
{
    return self->in_flight == 0;
}

int
feeder_drain(feeder_t *self, int timeout_ms)
{
    return s_wait(self, s_drained, timeout_ms);
}

void
feeder_set_tick(feeder_t *self, feeder_tick_fn fn, void *arg)
{
    self->tick = fn;
    self->tick_arg = arg;
}

uint64_t
feeder_submitted(const feeder_t *self)
{
    return self->submitted;
}

uint64_t
feeder_last_ref(const feeder_t *self)
{
    return self->last_submit;
}

uint64_t
feeder_answered_below(const feeder_t *self)
{
    /* Answered entries at the head are popped at once (s_answer), so the head, when there
       is one, is the oldest unanswered submission. */
    return self->pend_n > 0 ? self->pend[self->pend_head].ref : self->next_ref;
}

bool
feeder_flush_pending(const feeder_t *self)
{
    return self->flush_ref != 0 && !self->flushed;
}

bool
feeder_flush_send(feeder_t *self)
{
    if (feeder_flush_pending(self)) {
        return false;
    }
    s_send_flush(self);
    return true;
}

uint64_t
feeder_flushed_seq(const feeder_t *self)
{
    return self->flushed_seq;
}

void
feeder_poll(feeder_t *self, int timeout_ms)
{
    feeder_pump(self, timeout_ms);
    int64_t now = zclock_mono();
    uint64_t seen = self->acked + self->rejected + self->flushes;
    bool waiting = self->in_flight > 0 || feeder_flush_pending(self);
    if (seen != self->poll_seen || !waiting || self->poll_quiet == 0) {
        self->poll_seen = seen;
        self->poll_quiet = now;
    } else if (now - self->poll_quiet > self->resend_ms) {
        if (self->refused) {
            s_reconnect(self); /* resends too */
        } else {
            s_resend(self);
        }
        self->poll_quiet = now;
    }
}

uint64_t
feeder_resent(const feeder_t *self)
{
    return self->resent;
}

bool
feeder_full(const feeder_t *self)
{
    return !s_has_room(self);
}

void
feeder_set_wake_fd(feeder_t *self, int fd)
{
    self->wake_fd = fd;
}
