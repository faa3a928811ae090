/*  feeder.h - a client that streams observations to a broker's ingest socket with a window
    of unacknowledged submissions (docs/protocol.md §4), then flushes. Used by `cadre send`
    and `cadre run`. The window is the client's share of back-pressure: it never has more
    than `window` records in flight, and blocks on the socket when the broker stops reading.
*/
#ifndef CADRE_CLI_FEEDER_H
#define CADRE_CLI_FEEDER_H

#include "curve.h"
#include "obs.h"
#include "obs_stream.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct feeder_t feeder_t;

/*  Called for every message the feeder does not consume itself (e.g. a SUB socket's
    events); the feeder polls extra_sock too when it is not NULL. */
typedef void (*feeder_extra_fn)(zsock_t *sock, void *arg);

/*  Connects a DEALER to endpoint, as a CURVE client when curve is not NULL (borrowed for
    the feeder's lifetime: every reconnection applies it again). window >= 1. extra_sock
    (may be NULL) is polled alongside and handed to extra_fn when readable. Never returns
    NULL. */
feeder_t *feeder_new(const char *endpoint, const curve_t *curve, uint32_t window,
                     zsock_t *extra_sock, feeder_extra_fn extra_fn, void *extra_arg);
void feeder_destroy(feeder_t **self_p);
/*  Submits one observation, waiting while the window is full. Returns 0, or -ETIMEDOUT when
    the broker stays silent for timeout_ms with records in flight. */
int feeder_submit(feeder_t *self, const obs_t *obs, int timeout_ms);
/*  Submits one observation already encoded as a MessagePack record (len bytes, copied),
    without decoding it: the broker validates it and answers ERROR for a bad one. Returns as
    feeder_submit. */
int feeder_submit_raw(feeder_t *self, const void *bytes, size_t len, int timeout_ms);
/*  Sends FLUSH and waits for every ACK and the FLUSHED; *seq gets the flushed seq.
    Returns 0 or -ETIMEDOUT. */
int feeder_flush(feeder_t *self, int timeout_ms, uint64_t *seq);
/*  Counters: records acknowledged, records rejected by the broker (each reported on stderr,
    at most the first 20 in full). */
uint64_t feeder_acked(const feeder_t *self);
uint64_t feeder_rejected(const feeder_t *self);
/*  Polls extra_sock (and pending replies) for up to timeout_ms. */
void feeder_pump(feeder_t *self, int timeout_ms);
/*  Waits until every submission in flight is answered (ACK or ERROR), without flushing.
    Returns 0 or -ETIMEDOUT after timeout_ms with no answer. */
int feeder_drain(feeder_t *self, int timeout_ms);

/*  Called after each submission and at least every 100 ms while the feeder waits (for
    the window, the drain or the flush): a place for progress reports. */
typedef void (*feeder_tick_fn)(const feeder_t *self, void *arg);
/*  Installs fn (NULL to remove) with its argument. */
void feeder_set_tick(feeder_t *self, feeder_tick_fn fn, void *arg);
/*  Submissions sent so far. */
uint64_t feeder_submitted(const feeder_t *self);

/*  The ref of the last submission (refs grow by one per SUBMIT or FLUSH; 0: none yet). */
uint64_t feeder_last_ref(const feeder_t *self);
/*  Every submission whose ref is smaller than this has been answered (ACK or ERROR):
    the ref of the oldest unanswered one, or the next ref when none is. */
uint64_t feeder_answered_below(const feeder_t *self);
/*  Sends FLUSH without waiting for it, unless one is pending already (then returns false
    and sends nothing). FLUSHED is taken by the next pump, poll or wait. */
bool feeder_flush_send(feeder_t *self);
/*  True while a FLUSH is waiting for its FLUSHED. */
bool feeder_flush_pending(const feeder_t *self);
/*  The seq of the last FLUSHED received. */
uint64_t feeder_flushed_seq(const feeder_t *self);
/*  Pumps replies for up to timeout_ms, like feeder_pump, and, when nothing was answered for
    the resend interval (3 s) while something is in flight, sends it again (reconnecting
    after a refused handshake): the loop of a client that waits elsewhere (a log shipper)
    calls it instead of feeder_pump so a restarted broker gets everything unanswered. */
void feeder_poll(feeder_t *self, int timeout_ms);
/*  Submissions sent again after a silence or a reconnection. */
uint64_t feeder_resent(const feeder_t *self);
/*  True while the window is full: a submission now would wait for an answer. */
bool feeder_full(const feeder_t *self);
/*  Makes feeder_pump and feeder_poll also return when descriptor fd is readable (fd < 0:
    none, the default). The feeder never reads it: a loop that serves another source (a
    listening receiver) wakes up for it. fd is borrowed; set -1 before closing it. */
void feeder_set_wake_fd(feeder_t *self, int fd);

#endif
