/*  hb.h - heartbeat and liveness bookkeeping for one peer (docs/protocol.md §7).

    A plain value the loop embeds, one per connection. It holds no clock: every call takes
    `now`, milliseconds on a monotonic clock (zclock_mono()), so the state machine is tested
    with explicit times and no sleeping. The loop
      - calls hb_heard() for every message from the peer and hb_sent() for every message to it;
      - sends HEARTBEAT when hb_should_send() (nothing sent for one interval);
      - declares the peer dead when hb_dead() (silent for liveness intervals);
      - polls with a timeout of at most hb_next_deadline();
      - waits hb_backoff_next() before each reconnection attempt (1 s doubling to 32 s).
*/
#ifndef CADRE_HB_H
#define CADRE_HB_H

#include <stdbool.h>
#include <stdint.h>

#define HB_BACKOFF_MIN_MS 1000  /* first reconnection delay */
#define HB_BACKOFF_MAX_MS 32000 /* longest reconnection delay */

/*  Liveness of one peer. A plain value: embed it and hb_init() it. */
typedef struct {
    int64_t last_heard; /* when the peer was last heard from, ms */
    int64_t last_sent;  /* when we last sent the peer anything, ms */
    int interval_ms;    /* heartbeat interval, ms (> 0) */
    int liveness;       /* intervals of silence after which the peer is dead (> 0) */
    int backoff_ms;     /* the next reconnection delay, ms */
} hb_t;

/*  Starts tracking a peer at now: counts as just heard from and just sent to, with the
    back-off at its minimum. interval_ms and liveness must be positive. */
void hb_init(hb_t *self, int64_t now, int interval_ms, int liveness);
/*  Records that a message (any command) arrived from the peer at now, and resets the
    reconnection back-off: the connection works. */
void hb_heard(hb_t *self, int64_t now);
/*  Records that a message (any command) was sent to the peer at now. */
void hb_sent(hb_t *self, int64_t now);
/*  True when nothing has been sent to the peer for at least one interval: send HEARTBEAT. */
bool hb_should_send(const hb_t *self, int64_t now);
/*  True when the peer has been silent for at least liveness intervals. */
bool hb_dead(const hb_t *self, int64_t now);
/*  Milliseconds from now until the next action is due (a heartbeat to send, or the peer
    turning dead), 0 when one is due already: the longest the loop may poll. Once the peer
    is dead only the heartbeat deadline counts, so a dead peer never makes the poll spin. */
int64_t hb_next_deadline(const hb_t *self, int64_t now);
/*  Returns the delay to wait before the next reconnection attempt and doubles the one
    after it, from HB_BACKOFF_MIN_MS up to HB_BACKOFF_MAX_MS. */
int hb_backoff_next(hb_t *self);
/*  Puts the reconnection delay back to HB_BACKOFF_MIN_MS. */
void hb_backoff_reset(hb_t *self);

#endif
