/*  syslog_tls.h - a syslog-over-TLS receiver (RFC 5425) for DECNET's SWARM forwarder: mutual
    TLS, the worker named by its certificate, octet-counted frames (docs/syslog-tls.md).

    The receiver listens on one TCP address and takes TLS 1.2 or 1.3 connections whose client
    certificate chains to the CA file (DECNET's ca.crt); a connection without a certificate, or
    with one that does not verify, is refused. The certificate's subject CN is the connection's
    provenance, the worker name, as for DECNET's listener: it must be the subject's only CN, 1
    to 64 bytes of printable ASCII without spaces (0x21..0x7e), else the connection is refused.
    What the worker sends is read with syslog_frame.h; each complete message is handed, with the
    worker name, to the callback given to syslog_tls_new(), which decides what becomes of it
    (`cadre syslog-recv` writes it to a file; `cadre ship` feeds the engine). Nothing is ever
    written back to a worker beyond TLS itself: RFC 5425 has no acknowledgement.

    A connection is closed, counted and logged (at most 100 lines a second about workers and
    100 about other connections, then a count of the lines left out) when its framing breaks or a
   frame exceeds max_frame, when it stays silent for idle_ms, when its handshake takes longer than
   handshake_ms, when the worker closes it, or when TLS fails. Other connections are not affected. A
   connection over max_conns is accepted and closed at once (counted). Per connection the receiver
   holds the TLS state
    (~40 KiB with OpenSSL's buffers while in use) and at most max_frame bytes of one split
    frame; TCP keepalive (60 s, then every 10 s, 6 probes) finds peers that vanished.

    Threading model: none of its own. The receiver is a poll-driven state machine that the
    caller's single-threaded loop drives, and it never blocks beyond the timeout it is given:
      - standalone, call syslog_tls_run(self, timeout_ms) in a loop;
      - inside another loop (zmq_poll with a pollitem's fd, zpoller_add() of a pointer to an
        int holding it, poll), add syslog_tls_fd() to it and call syslog_tls_run(self, 0)
        whenever that descriptor is readable. That is all: the descriptor (an epoll set) also
        becomes readable when a timeout is due.
    One call does bounded work: at most 64 new connections, and at most 64 KiB of TLS records
    read from each ready connection, so a busy worker cannot starve the caller's other duties
    and memory stays bounded whatever the workers send. Back-pressure: a caller that cannot
    take more messages just stops calling syslog_tls_run() (and polling the descriptor); the
    kernel buffers then fill and the workers' writes wait, losing nothing. Idle and handshake
    deadlines are only enforced while it is called.

    The process must ignore SIGPIPE (sig_new() does): TLS writes to a peer that has gone
    would otherwise kill it. One instance is used by one thread at a time.

    This module is the only user of OpenSSL (libssl); no OpenSSL type appears here.
*/
#ifndef CADRE_SYSLOG_TLS_H
#define CADRE_SYSLOG_TLS_H

#include <stddef.h>
#include <stdint.h>

#define SYSLOG_TLS_PORT 6514                /* RFC 5425's port, DECNET's default */
#define SYSLOG_TLS_MAX_FRAME 65536          /* default max_frame */
#define SYSLOG_TLS_MAX_CONNS 256            /* default max_conns */
#define SYSLOG_TLS_IDLE_MS (60 * 60 * 1000) /* default idle_ms: an hour */
#define SYSLOG_TLS_HANDSHAKE_MS 10000       /* default handshake_ms */
#define SYSLOG_TLS_MAX_WORKER 64            /* longest worker name (X.509 ub-common-name) */

typedef struct syslog_tls_t syslog_tls_t;

/*  How a receiver listens; the strings are borrowed for syslog_tls_new() only. Zero values
    take the defaults. */
typedef struct {
    const char *listen;    /* "HOST:PORT", "[IPv6]:PORT" ("[::]:P": IPv6 and IPv4), ":PORT" or
                              "*:PORT" (every IPv4 address); PORT 0 takes a free port */
    const char *ca_file;   /* PEM: the CA(s) client certificates must chain to (ca.crt) */
    const char *cert_file; /* PEM: the receiver's certificate, then any intermediates */
    const char *key_file;  /* PEM: cert_file's private key */
    size_t max_frame;      /* largest MSG accepted, 1..UINT32_MAX (0: SYSLOG_TLS_MAX_FRAME) */
    uint32_t max_conns;    /* connections open at once, handshakes included (0: default) */
    int idle_ms;           /* close a connection silent this long; 0 default, < 0 never */
    int handshake_ms;      /* close a connection not through its handshake by then (0: def.) */
} syslog_tls_opts_t;

/*  One message, as handed to the callback. Every pointer is borrowed for the call only. */
typedef struct {
    const char *worker;  /* the client certificate's CN (NUL-terminated, printable ASCII) */
    const char *peer;    /* the worker's address, "IP:PORT" or "[IPv6]:PORT" */
    uint64_t conn;       /* the connection's number: 1, 2, ... for the receiver's life */
    const uint8_t *data; /* the MSG bytes as sent: no framing, not NUL-terminated */
    size_t len;          /* bytes at data, 1..max_frame */
} syslog_tls_msg_t;

/*  Receives one message, from inside syslog_tls_run(). It must not call syslog_tls_run() or
    syslog_tls_destroy() on the same receiver; it should return quickly. */
typedef void(syslog_tls_fn)(void *arg, const syslog_tls_msg_t *msg);

/*  What the receiver has done since syslog_tls_new() (a plain value). */
typedef struct {
    uint64_t accepted;         /* TCP connections accepted (those over the cap included) */
    uint64_t workers;          /* connections through the handshake with a usable CN */
    uint64_t open;             /* connections open now (handshakes included) */
    uint64_t messages;         /* messages handed to the callback */
    uint64_t bytes;            /* their MSG bytes */
    uint64_t empty;            /* empty frames (MSG-LEN 0) skipped */
    uint64_t refused_cap;      /* closed at once: max_conns were open */
    uint64_t refused_tls;      /* handshake failed: no certificate, unknown CA, bad TLS ... */
    uint64_t refused_cn;       /* certificate verified but its CN is missing or unusable */
    uint64_t closed_frame;     /* closed on a framing error (bad length, non-digit) */
    uint64_t closed_oversize;  /* closed on a MSG-LEN over max_frame */
    uint64_t closed_idle;      /* closed after idle_ms of silence */
    uint64_t closed_handshake; /* closed when the handshake took over handshake_ms */
    uint64_t closed_error;     /* closed on a TLS or socket error after the handshake */
    uint64_t closed_by_peer;   /* the worker closed the connection */
    uint64_t truncated;        /* connections that ended inside a frame (that frame lost) */
    uint64_t accept_errors;    /* accept() failures (e.g. out of descriptors) */
} syslog_tls_stats_t;

/*  Loads the certificates, binds and listens. Returns the receiver, or NULL with the reason
    logged: an address that does not parse or bind, a file that does not load, a key that
    does not match the certificate, an option out of range. fn (not NULL) and arg are kept
    for every message. */
syslog_tls_t *syslog_tls_new(const syslog_tls_opts_t *opts, syslog_tls_fn *fn, void *arg);
/*  Closes every connection (partial frames are lost, as on any close) and the listener, frees
    the receiver and NULLs *self_p. NULL *self_p is a no-op. */
void syslog_tls_destroy(syslog_tls_t **self_p);

/*  Waits at most timeout_ms (0: not at all; < 0: until something happens) for connections,
    data or a due timeout, then does one bounded round of work, calling the callback for each
    message completed. Returns the number of messages delivered (>= 0; 0 also when a signal
    interrupted the wait), or -errno when waiting failed (the receiver is unusable). */
int syslog_tls_run(syslog_tls_t *self, int timeout_ms);
/*  A descriptor that is readable whenever syslog_tls_run(self, 0) has work; owned by self
    (poll it, never read or close it). Valid until syslog_tls_destroy(). */
int syslog_tls_fd(const syslog_tls_t *self);
/*  The address actually bound, "IP:PORT" or "[IPv6]:PORT" (with the port chosen for PORT 0).
    Borrowed until syslog_tls_destroy(). */
const char *syslog_tls_address(const syslog_tls_t *self);
/*  The port actually bound. */
uint16_t syslog_tls_port(const syslog_tls_t *self);
/*  Copies the counters into *out. */
void syslog_tls_stats(const syslog_tls_t *self, syslog_tls_stats_t *out);

#endif
