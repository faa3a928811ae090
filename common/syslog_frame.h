/*  syslog_frame.h - the octet-counting frame reader of syslog over TLS (RFC 5425 §4.3, the
    same MSG-LEN framing as RFC 6587 §3.4.1): bytes in, messages out, no I/O and no TLS.

    A stream is a sequence of frames `MSG-LEN SP MSG`, back to back, where MSG-LEN is the
    decimal byte length of MSG. DECNET's SWARM forwarder writes one frame per log line, the
    line without its LF (docs/syslog-tls.md). The reader accepts what DECNET's own listener
    accepts, within a cap:

      - MSG-LEN is 1 to 10 ASCII digits (leading zeros allowed) followed by one SP;
      - MSG-LEN 0 is an empty frame: counted and skipped, never handed out;
      - MSG-LEN above max_frame is refused (CADRE_ELIMIT) as soon as its digits exceed it,
        before any of MSG is read;
      - any other byte where a digit or the SP belongs, an SP with no digit before it, or an
        11th digit is refused (CADRE_EPROTO).

    A refusal is final for the stream: the framing is lost, so the connection carrying it
    must be closed; every later call returns the same code. MSG bytes are not inspected.

    Memory: a frame whole inside one chunk is handed out in place (no copy); only a frame split
    across chunks is gathered in a buffer of at most max_frame bytes, released again after a
    frame of more than 4 KiB. The reader never holds more than max_frame + its fixed state.
    Single-threaded: one reader per stream.
*/
#ifndef CADRE_SYSLOG_FRAME_H
#define CADRE_SYSLOG_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSLOG_FRAME_MAX_DIGITS 10 /* longest MSG-LEN, as DECNET's listener allows */

typedef struct syslog_frame_t syslog_frame_t;

/*  Receives one complete, non-empty MSG: len bytes at msg (1..max_frame), borrowed for the
    call only (they point into the chunk given to syslog_frame_feed() or into the reader's
    buffer). arg is syslog_frame_feed()'s. The callback must not feed the same reader. */
typedef void(syslog_frame_fn)(void *arg, const uint8_t *msg, size_t len);

/*  A reader of one stream with frames of at most max_frame bytes (1 <= max_frame <=
    UINT32_MAX, asserted). Never NULL (allocation aborts on exhaustion). */
syslog_frame_t *syslog_frame_new(size_t max_frame);
/*  Frees the reader and its buffer (a partial frame is dropped) and NULLs *self_p. NULL
 *self_p is a no-op. */
void syslog_frame_destroy(syslog_frame_t **self_p);

/*  Reads len bytes of the stream (any split: a frame may begin in one call and end many calls
    later) and calls fn for every frame completed in them, in stream order. Returns 0 when
    every byte was consumed, or, after handing out the frames before the fault:
      CADRE_EPROTO  a byte that breaks the framing (syslog_frame_error() names it);
      CADRE_ELIMIT  a MSG-LEN above max_frame.
    Once refused, a reader refuses every later call with the same code and calls fn no more.
    len 0 is a no-op. */
int syslog_frame_feed(syslog_frame_t *self, const uint8_t *data, size_t len, syslog_frame_fn *fn,
                      void *arg);

/*  True when the stream stopped inside a frame (some of a MSG-LEN or MSG read, not all):
    if the stream ends now, that frame is lost. False after a refusal. */
bool syslog_frame_partial(const syslog_frame_t *self);
/*  Why the stream was refused (e.g. "byte 0x3c at offset 0 where a length digit belongs"),
    or "" while it was not. Borrowed until the reader is destroyed. */
const char *syslog_frame_error(const syslog_frame_t *self);
/*  Complete non-empty frames handed out so far. */
uint64_t syslog_frame_count(const syslog_frame_t *self);
/*  Empty frames (MSG-LEN 0) skipped so far. */
uint64_t syslog_frame_empty(const syslog_frame_t *self);
/*  Stream bytes consumed so far (up to and including a refused byte). */
uint64_t syslog_frame_offset(const syslog_frame_t *self);

#endif
