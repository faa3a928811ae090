/*  syslog_tls.c - the syslog-over-TLS receiver (see syslog_tls.h). The only OpenSSL user.

    One epoll set holds the listener, a timerfd and every connection; its descriptor is what
    syslog_tls_fd() hands out, so a caller's loop needs nothing else. Each connection is a
    non-blocking socket with an SSL object (its handshake run by SSL_do_handshake() until it
    stops asking for I/O), then a syslog_frame_t fed with whatever SSL_read() returns. The
    epoll mask of a connection follows what OpenSSL last asked for (read or write), never
    both, so a connection waiting to write does not spin on readable data. The timerfd is
    armed after every round for the earliest deadline (handshake or idle) or immediately when
    OpenSSL still holds decrypted bytes, so deadlines fire without the caller's help.

    Ownership: the receiver owns the SSL_CTX, the listener, the epoll set, the timer and every
    connection (its descriptor, SSL object and frame reader); a connection is freed as soon as
    it is closed, only ever from the handling of its own event or from the deadline scan.
*/
#define _GNU_SOURCE /* accept4, epoll, timerfd, TCP_KEEPIDLE */
#include "syslog_tls.h"

#include "err.h"
#include "log.h"
#include "syslog_frame.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define S_MAX_EVENTS 64           /* epoll events taken per round */
#define S_ACCEPT_BUDGET 64        /* connections accepted per round */
#define S_READ_CHUNK 16384        /* one TLS record's plaintext at most */
#define S_READ_BUDGET (4 * 16384) /* TLS plaintext read per connection per round */
#define S_LOG_PER_SECOND 100      /* connection notes logged per second and kind at most */
#define S_ACCEPT_PAUSE_MS 100     /* listener pause after accept() runs out of descriptors */
#define S_MAX_TIMEOUT_MS 86400000 /* longest idle_ms / handshake_ms: a day */
#define S_KEEPALIVE_IDLE_S 60     /* TCP keepalive: first probe after this much silence */
#define S_KEEPALIVE_INTVL_S 10    /* ... then a probe every this many seconds */
#define S_KEEPALIVE_CNT 6         /* ... and the peer is gone after this many unanswered */
#define S_ADDR_LEN (INET6_ADDRSTRLEN + 10) /* "[addr]:port" */

/*  Whom a note is about: a worker (through its handshake, CN known) or anyone else. Each kind
    has its own rate limit, so a flood of strangers never hides what the workers do. */
typedef enum { S_STRANGERS = 0, S_WORKERS, S_KINDS } s_kind_t;

/*  The rate limit of one kind of note. */
typedef struct {
    int64_t window;   /* start of the current second */
    int count;        /* notes logged in it */
    uint64_t dropped; /* notes left out since the last one logged */
} s_limit_t;

/*  One connection. */
typedef struct {
    int fd;                                 /* the socket */
    SSL *ssl;                               /* its TLS state */
    syslog_frame_t *frames;                 /* its frame reader (after the handshake) */
    uint64_t id;                            /* 1, 2, ... */
    char peer[S_ADDR_LEN];                  /* "IP:PORT" */
    char worker[SYSLOG_TLS_MAX_WORKER + 1]; /* the certificate's CN, "" before the handshake */
    bool ready;                             /* the handshake is done and the CN taken */
    int64_t deadline;                       /* when the handshake or idle timeout fires, or 0 */
    uint32_t mask;                          /* the epoll events registered */
    bool pending;                           /* OpenSSL held decrypted bytes after its budget */
    uint64_t round;                         /* the last round that serviced it */
    size_t slot;                            /* index in the receiver's conns */
} s_conn_t;

struct syslog_tls_t {
    SSL_CTX *ctx;                /* TLS configuration shared by the connections */
    int listen_fd;               /* the listening socket */
    int epoll_fd;                /* listener, timer and connections */
    int timer_fd;                /* armed for the next deadline */
    char address[S_ADDR_LEN];    /* what listen_fd is bound to */
    uint16_t port;               /* its port */
    syslog_tls_fn *fn;           /* where messages go */
    void *arg;                   /* fn's argument */
    size_t max_frame;            /* options, defaults applied */
    uint32_t max_conns;          /* ... */
    int idle_ms;                 /* ... (< 0: never) */
    int handshake_ms;            /* ... */
    s_conn_t **conns;            /* open connections */
    size_t n_conns;              /* count */
    size_t conns_cap;            /* allocated */
    uint64_t next_id;            /* the next connection's number */
    int64_t listen_paused_until; /* accept() ran out of descriptors: resume then, or 0 */
    bool again;                  /* OpenSSL holds unread plaintext: run again at once */
    uint64_t round;              /* rounds run (syslog_tls_run() calls) */
    s_limit_t limits[S_KINDS];   /* logging rate limits */
    syslog_tls_stats_t stats;    /* counters */
    uint8_t buf[S_READ_CHUNK];   /* SSL_read() target, shared by the connections */
    s_conn_t *current;           /* the connection whose frames are being delivered */
    uint64_t delivered;          /* messages delivered in this round */
};

/*  ----------------------------------------------------------------------------------------
    Helpers */

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  Logs one note of a kind at level, at most S_LOG_PER_SECOND a second per kind; the first
    note of a later second says how many were left out. */
static void s_note(syslog_tls_t *self, s_kind_t kind, log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_note(syslog_tls_t *self, s_kind_t kind, log_level_t level, const char *fmt, ...)
{
    if (!log_enabled(level)) {
        return;
    }
    s_limit_t *lim = &self->limits[kind];
    int64_t now = s_now_ms();
    if (now - lim->window >= 1000) {
        if (lim->dropped) {
            log_write(LOG_LEVEL_WARN, "syslog-tls: %" PRIu64 " notes about %s not logged",
                      lim->dropped, kind == S_WORKERS ? "workers" : "other connections");
        }
        lim->window = now;
        lim->count = 0;
        lim->dropped = 0;
    }
    if (lim->count >= S_LOG_PER_SECOND) {
        lim->dropped++;
        return;
    }
    lim->count++;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_write(level, "syslog-tls: %s", line);
}

/*  The reason of OpenSSL's last error, or "" (and clears the queue). */
static const char *
s_ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (!e) {
        return "";
    }
    const char *r = ERR_reason_error_string(e);
    return r ? r : "unknown TLS error";
}

/*  Formats a socket address as "IP:PORT" or "[IPv6]:PORT". */
static void
s_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN + 1];
    char serv[8];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, outlen, "?");
        return;
    }
    snprintf(out, outlen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/*  Splits "HOST:PORT" / "[HOST]:PORT" into host ("" for ":PORT") and port; false when it does
    not parse. */
static bool
s_split_listen(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= portlen) {
        return false;
    }
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
    }
    long v = strtol(colon + 1, NULL, 10);
    if (v < 0 || v > 65535) {
        return false;
    }
    snprintf(port, portlen, "%ld", v);
    const char *h = addr;
    size_t n = (size_t)(colon - addr);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    } else if (memchr(h, ':', n)) {
        return false; /* an IPv6 address needs its brackets */
    }
    if (n >= hostlen) {
        return false;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    return true;
}

/*  Binds and listens on addr; returns the descriptor or -1 (logged). */
static int
s_listen(syslog_tls_t *self, const char *addr)
{
    char host[256];
    char port[8];
    if (!s_split_listen(addr, host, sizeof host, port, sizeof port)) {
        log_error("syslog-tls: listen address '%s' is not HOST:PORT", addr);
        return -1;
    }
    bool any = host[0] == '\0' || strcmp(host, "*") == 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(any ? "0.0.0.0" : host, port, &hints, &res);
    if (gai != 0) {
        log_error("syslog-tls: listen address '%s': %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        log_error("syslog-tls: cannot listen on %s: %s", addr, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        s_format_addr((struct sockaddr *)&ss, sl, self->address, sizeof self->address);
        self->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                    : ((struct sockaddr_in *)&ss)->sin_port);
    }
    return fd;
}

/*  The TLS configuration: TLS 1.2+, client certificate required and verified against the
    CA file, no sessions kept (no tickets, no cache), no renegotiation; NULL when a file
    does not load (logged). */
static SSL_CTX *
s_ctx_new(const syslog_tls_opts_t *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        log_error("syslog-tls: cannot create the TLS context: %s", s_ssl_reason());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    const char *what = NULL;
    const char *file = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        what = "cannot load the certificate";
        file = o->cert_file;
    } else if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
        what = "cannot load the private key, or it does not match the certificate";
        file = o->key_file;
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        what = "the private key does not match the certificate";
        file = o->key_file;
    } else if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
        what = "cannot load the CA certificates";
        file = o->ca_file;
    }
    if (what) {
        log_error("syslog-tls: %s: %s (%s)", file, what, s_ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
    if (names) {
        SSL_CTX_set_client_CA_list(ctx, names); /* takes ownership */
    }
    ERR_clear_error();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
}

/*  Sets the epoll mask of a connection (EPOLLIN or EPOLLOUT); returns 0 or -errno (the
    kernel's watch limit or memory). */
static int
s_watch(syslog_tls_t *self, s_conn_t *c, uint32_t mask)
{
    if (c->mask == mask) {
        return 0;
    }
    struct epoll_event ev = {.events = mask, .data.ptr = c};
    if (epoll_ctl(self->epoll_fd, c->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        return -errno;
    }
    c->mask = mask;
    return 0;
}

/*  Why a connection is closed: the counter it goes to. */
typedef enum {
    S_REFUSED_TLS = 0,
    S_REFUSED_CN,
    S_CLOSED_FRAME,
    S_CLOSED_OVERSIZE,
    S_CLOSED_IDLE,
    S_CLOSED_HANDSHAKE,
    S_CLOSED_ERROR,
    S_CLOSED_BY_PEER,
    S_CLOSED_SHUTDOWN,
} s_why_t;

/*  Counts, logs (reason: "" or a description) and frees a connection. */
static void
s_close(syslog_tls_t *self, s_conn_t *c, s_why_t why, const char *reason)
{
    syslog_tls_stats_t *st = &self->stats;
    bool partial = c->frames && syslog_frame_partial(c->frames);
    const char *who = c->ready ? c->worker : "(no worker yet)";
    s_kind_t kind = c->ready ? S_WORKERS : S_STRANGERS;
    switch (why) {
    case S_REFUSED_TLS:
        st->refused_tls++;
        s_note(self, kind, LOG_LEVEL_WARN, "refused %s: TLS handshake failed: %s", c->peer, reason);
        break;
    case S_REFUSED_CN:
        st->refused_cn++;
        s_note(self, kind, LOG_LEVEL_WARN, "refused %s: %s", c->peer, reason);
        break;
    case S_CLOSED_FRAME:
        st->closed_frame++;
        s_note(self, kind, LOG_LEVEL_WARN, "closed %s (%s): bad frame: %s", who, c->peer, reason);
        break;
    case S_CLOSED_OVERSIZE:
        st->closed_oversize++;
        s_note(self, kind, LOG_LEVEL_WARN, "closed %s (%s): frame too large: %s", who, c->peer,
               reason);
        break;
    case S_CLOSED_IDLE:
        st->closed_idle++;
        s_note(self, kind, LOG_LEVEL_INFO, "closed %s (%s): silent for %d ms", who, c->peer,
               self->idle_ms);
        break;
    case S_CLOSED_HANDSHAKE:
        st->closed_handshake++;
        s_note(self, kind, LOG_LEVEL_WARN, "closed %s: no TLS handshake within %d ms", c->peer,
               self->handshake_ms);
        break;
    case S_CLOSED_ERROR:
        st->closed_error++;
        s_note(self, kind, LOG_LEVEL_WARN, "closed %s (%s): %s", who, c->peer, reason);
        break;
    case S_CLOSED_BY_PEER:
        st->closed_by_peer++;
        s_note(self, kind, LOG_LEVEL_INFO, "%s (%s) disconnected", who, c->peer);
        break;
    case S_CLOSED_SHUTDOWN:
        break;
    }
    if (partial) {
        st->truncated++;
        s_note(self, kind, LOG_LEVEL_WARN,
               "%s (%s): connection ended inside a frame, which is lost", who, c->peer);
    }
    /* A close_notify where the TLS state still allows one, so the worker sees a clean end. */
    if (c->ready && why != S_CLOSED_ERROR && why != S_CLOSED_BY_PEER) {
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    if (c->mask) {
        epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    }
    SSL_free(c->ssl);
    close(c->fd);
    syslog_frame_destroy(&c->frames);
    size_t last = self->n_conns - 1;
    self->conns[c->slot] = self->conns[last];
    self->conns[c->slot]->slot = c->slot;
    self->n_conns = last;
    self->stats.open = self->n_conns;
    free(c);
}

/*  ----------------------------------------------------------------------------------------
    Connections */

/*  Takes the worker name from the verified peer certificate; false with a reason when the
    subject has no CN, several, or one that is not a usable name. */
static bool
s_take_worker(s_conn_t *c, char *reason, size_t reasonlen)
{
    X509 *cert = SSL_get0_peer_certificate(c->ssl);
    if (!cert) {
        snprintf(reason, reasonlen, "no client certificate");
        return false;
    }
    X509_NAME *subject = X509_get_subject_name(cert);
    int idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
    if (idx < 0) {
        snprintf(reason, reasonlen, "the client certificate has no CN");
        return false;
    }
    if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
        snprintf(reason, reasonlen, "the client certificate has several CNs");
        return false;
    }
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    bool ok = n >= 1 && n <= SYSLOG_TLS_MAX_WORKER;
    for (int i = 0; ok && i < n; i++) {
        ok = utf8[i] >= 0x21 && utf8[i] <= 0x7e;
    }
    if (ok) {
        memcpy(c->worker, utf8, (size_t)n);
        c->worker[n] = '\0';
    } else {
        snprintf(reason, reasonlen,
                 "the client certificate's CN is not 1 to %d printable ASCII characters "
                 "without spaces",
                 SYSLOG_TLS_MAX_WORKER);
    }
    OPENSSL_free(utf8);
    ERR_clear_error();
    return ok;
}

/*  The frame reader's callback: one message of the current connection. */
static void
s_deliver(void *arg, const uint8_t *data, size_t len)
{
    syslog_tls_t *self = arg;
    s_conn_t *c = self->current;
    self->stats.messages++;
    self->stats.bytes += len;
    self->delivered++;
    syslog_tls_msg_t msg = {
        .worker = c->worker, .peer = c->peer, .conn = c->id, .data = data, .len = len};
    self->fn(self->arg, &msg);
}

/*  What OpenSSL asks after a call returned rc <= 0: returns true when the connection just waits
    (its epoll mask set), false when it is to be closed, with *why and reason set. */
static bool
s_ssl_wait(syslog_tls_t *self, s_conn_t *c, int rc, bool handshake, s_why_t *why, char *reason,
           size_t reasonlen)
{
    int saved = errno;
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        int w = s_watch(self, c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
        if (w == 0) {
            return true;
        }
        *why = handshake ? S_REFUSED_TLS : S_CLOSED_ERROR;
        snprintf(reason, reasonlen, "cannot watch the socket: %s", strerror(-w));
        return false;
    }
    if (e == SSL_ERROR_ZERO_RETURN ||
        (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && (saved == 0 || saved == ECONNRESET))) {
        /* The worker closed (close_notify, or EOF / reset: DECNET's forwarder sends no
           close_notify when it drops a connection). */
        ERR_clear_error();
        *why = handshake ? S_REFUSED_TLS : S_CLOSED_BY_PEER;
        snprintf(reason, reasonlen, "%s", handshake ? "the peer closed the connection" : "");
        return false;
    }
    *why = handshake ? S_REFUSED_TLS : S_CLOSED_ERROR;
    long vr = SSL_get_verify_result(c->ssl);
    const char *r = s_ssl_reason();
    if (handshake && vr != X509_V_OK) {
        snprintf(reason, reasonlen, "client certificate refused: %s",
                 X509_verify_cert_error_string(vr));
    } else if (r[0]) {
        snprintf(reason, reasonlen, "%s", r);
    } else if (e == SSL_ERROR_SYSCALL && saved) {
        snprintf(reason, reasonlen, "%s", strerror(saved));
    } else {
        snprintf(reason, reasonlen, "TLS error %d", e);
    }
    return false;
}

/*  Reads what a connection has (at most S_READ_BUDGET) and delivers its frames; false when
    it was closed. */
static bool
s_read(syslog_tls_t *self, s_conn_t *c, int64_t now)
{
    char reason[256];
    size_t got = 0;
    c->pending = false;
    while (got < S_READ_BUDGET) {
        ERR_clear_error();
        int n = SSL_read(c->ssl, self->buf, sizeof self->buf);
        if (n <= 0) {
            s_why_t why;
            if (s_ssl_wait(self, c, n, false, &why, reason, sizeof reason)) {
                return true;
            }
            s_close(self, c, why, reason);
            return false;
        }
        got += (size_t)n;
        if (self->idle_ms >= 0) {
            c->deadline = now + self->idle_ms;
        }
        self->current = c;
        uint64_t empty_before = syslog_frame_empty(c->frames);
        int rc = syslog_frame_feed(c->frames, self->buf, (size_t)n, s_deliver, self);
        self->current = NULL;
        self->stats.empty += syslog_frame_empty(c->frames) - empty_before;
        if (rc != 0) {
            snprintf(reason, sizeof reason, "%s", syslog_frame_error(c->frames));
            s_close(self, c, rc == CADRE_ELIMIT ? S_CLOSED_OVERSIZE : S_CLOSED_FRAME, reason);
            return false;
        }
    }
    /* The budget ran out: whatever is still in the kernel keeps the socket readable, and
       what OpenSSL already decrypted makes the next round start at once. */
    if (SSL_has_pending(c->ssl)) {
        c->pending = true;
        self->again = true;
    }
    return true;
}

/*  Moves a connection's handshake on; false when it was closed. */
static bool
s_handshake(syslog_tls_t *self, s_conn_t *c, int64_t now)
{
    char reason[256];
    ERR_clear_error();
    int rc = SSL_do_handshake(c->ssl);
    if (rc != 1) {
        s_why_t why;
        if (s_ssl_wait(self, c, rc, true, &why, reason, sizeof reason)) {
            return true;
        }
        s_close(self, c, why, reason);
        return false;
    }
    if (!s_take_worker(c, reason, sizeof reason)) {
        s_close(self, c, S_REFUSED_CN, reason);
        return false;
    }
    c->ready = true;
    c->frames = syslog_frame_new(self->max_frame);
    c->deadline = self->idle_ms >= 0 ? now + self->idle_ms : 0;
    self->stats.workers++;
    s_note(self, S_WORKERS, LOG_LEVEL_INFO, "%s connected from %s (%s, %s)", c->worker, c->peer,
           SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
    return true;
}

/*  Handles an event of one connection (or its pending plaintext), once per round; false
    when it was closed. */
static bool
s_service(syslog_tls_t *self, s_conn_t *c, int64_t now)
{
    if (c->round == self->round) {
        return true;
    }
    c->round = self->round;
    if (!c->ready && !s_handshake(self, c, now)) {
        return false;
    }
    return !c->ready || s_read(self, c, now);
}

/*  Accepts up to S_ACCEPT_BUDGET waiting connections. */
static void
s_accept(syslog_tls_t *self, int64_t now)
{
    for (int k = 0; k < S_ACCEPT_BUDGET; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd =
            accept4(self->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                errno == ECONNABORTED) {
                return;
            }
            /* Out of descriptors (or memory): the listener stays readable, so stop watching
               it for a moment instead of spinning. */
            self->stats.accept_errors++;
            s_note(self, S_STRANGERS, LOG_LEVEL_WARN, "accept failed: %s; pausing for %d ms",
                   strerror(errno), S_ACCEPT_PAUSE_MS);
            struct epoll_event ev = {.events = 0, .data.ptr = &self->listen_fd};
            epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, self->listen_fd, &ev);
            self->listen_paused_until = now + S_ACCEPT_PAUSE_MS;
            return;
        }
        self->stats.accepted++;
        char peer[S_ADDR_LEN];
        s_format_addr((struct sockaddr *)&ss, sl, peer, sizeof peer);
        if (self->n_conns >= self->max_conns) {
            self->stats.refused_cap++;
            s_note(self, S_STRANGERS, LOG_LEVEL_WARN, "refused %s: %u connections open (the cap)",
                   peer, self->max_conns);
            close(fd);
            continue;
        }
        int one = 1;
        int idle = S_KEEPALIVE_IDLE_S, intvl = S_KEEPALIVE_INTVL_S, cnt = S_KEEPALIVE_CNT;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
        SSL *ssl = SSL_new(self->ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1) {
            s_note(self, S_STRANGERS, LOG_LEVEL_WARN, "refused %s: %s", peer, s_ssl_reason());
            SSL_free(ssl);
            close(fd);
            self->stats.refused_tls++;
            continue;
        }
        SSL_set_accept_state(ssl);
        s_conn_t *c = xcalloc(1, sizeof *c);
        c->fd = fd;
        c->ssl = ssl;
        c->id = self->next_id++;
        memcpy(c->peer, peer, sizeof peer);
        c->deadline = now + self->handshake_ms;
        xgrow(&self->conns, &self->conns_cap, self->n_conns + 1);
        c->slot = self->n_conns;
        self->conns[self->n_conns++] = c;
        self->stats.open = self->n_conns;
        int w = s_watch(self, c, EPOLLIN);
        if (w != 0) {
            char reason[128];
            snprintf(reason, sizeof reason, "cannot watch the socket: %s", strerror(-w));
            s_close(self, c, S_REFUSED_TLS, reason);
        }
    }
}

/*  Closes the connections whose deadline has passed and re-arms the timer for the next one
    (at once when a connection still has decrypted bytes waiting). */
static void
s_deadlines(syslog_tls_t *self, int64_t now)
{
    if (self->listen_paused_until && now >= self->listen_paused_until) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &self->listen_fd};
        epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, self->listen_fd, &ev);
        self->listen_paused_until = 0;
    }
    for (size_t i = 0; i < self->n_conns;) {
        s_conn_t *c = self->conns[i];
        if (c->deadline && now >= c->deadline) {
            s_close(self, c, c->ready ? S_CLOSED_IDLE : S_CLOSED_HANDSHAKE, "");
            continue; /* the last connection moved into slot i */
        }
        i++;
    }
    int64_t next = self->listen_paused_until;
    for (size_t i = 0; i < self->n_conns; i++) {
        int64_t d = self->conns[i]->deadline;
        if (d && (!next || d < next)) {
            next = d;
        }
    }
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (self->again) {
        its.it_value.tv_nsec = 1; /* fire now: the next round reads what OpenSSL holds */
    } else if (next) {
        int64_t ms = next > now ? next - now : 1;
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (ms % 1000) * 1000000;
    }
    timerfd_settime(self->timer_fd, 0, &its, NULL);
}

/*  ----------------------------------------------------------------------------------------
    The public interface */

syslog_tls_t *
syslog_tls_new(const syslog_tls_opts_t *opts, syslog_tls_fn *fn, void *arg)
{
    assert(opts);
    assert(fn);
    if (!opts->listen || !opts->ca_file || !opts->cert_file || !opts->key_file) {
        log_error("syslog-tls: the listen address, CA, certificate and key are all required");
        return NULL;
    }
    if (opts->max_frame > UINT32_MAX || opts->idle_ms > S_MAX_TIMEOUT_MS ||
        opts->handshake_ms < 0 || opts->handshake_ms > S_MAX_TIMEOUT_MS) {
        log_error("syslog-tls: max_frame, idle_ms or handshake_ms out of range");
        return NULL;
    }
    syslog_tls_t *self = xcalloc(1, sizeof *self);
    self->listen_fd = self->epoll_fd = self->timer_fd = -1;
    self->fn = fn;
    self->arg = arg;
    self->max_frame = opts->max_frame ? opts->max_frame : SYSLOG_TLS_MAX_FRAME;
    self->max_conns = opts->max_conns ? opts->max_conns : SYSLOG_TLS_MAX_CONNS;
    self->idle_ms = opts->idle_ms ? opts->idle_ms : SYSLOG_TLS_IDLE_MS;
    self->handshake_ms = opts->handshake_ms ? opts->handshake_ms : SYSLOG_TLS_HANDSHAKE_MS;
    self->next_id = 1;
    self->ctx = s_ctx_new(opts);
    if (!self->ctx) {
        syslog_tls_destroy(&self);
        return NULL;
    }
    self->listen_fd = s_listen(self, opts->listen);
    if (self->listen_fd < 0) {
        syslog_tls_destroy(&self);
        return NULL;
    }
    self->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    self->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &self->listen_fd};
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &self->timer_fd};
    if (self->epoll_fd < 0 || self->timer_fd < 0 ||
        epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, self->listen_fd, &lev) != 0 ||
        epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, self->timer_fd, &tev) != 0) {
        log_error("syslog-tls: cannot set up the event set: %s", strerror(errno));
        syslog_tls_destroy(&self);
        return NULL;
    }
    return self;
}

void
syslog_tls_destroy(syslog_tls_t **self_p)
{
    assert(self_p);
    syslog_tls_t *self = *self_p;
    if (!self) {
        return;
    }
    while (self->n_conns) {
        s_close(self, self->conns[self->n_conns - 1], S_CLOSED_SHUTDOWN, "");
    }
    free(self->conns);
    if (self->timer_fd >= 0) {
        close(self->timer_fd);
    }
    if (self->epoll_fd >= 0) {
        close(self->epoll_fd);
    }
    if (self->listen_fd >= 0) {
        close(self->listen_fd);
    }
    SSL_CTX_free(self->ctx);
    free(self);
    *self_p = NULL;
}

int
syslog_tls_run(syslog_tls_t *self, int timeout_ms)
{
    assert(self);
    struct epoll_event evs[S_MAX_EVENTS];
    int n = epoll_wait(self->epoll_fd, evs, S_MAX_EVENTS, timeout_ms < 0 ? -1 : timeout_ms);
    if (n < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    int64_t now = s_now_ms();
    self->delivered = 0;
    self->round++;
    bool again = self->again;
    self->again = false;
    bool accept_ready = false;
    for (int i = 0; i < n; i++) {
        void *p = evs[i].data.ptr;
        if (p == &self->listen_fd) {
            accept_ready = true; /* after the connections, so none of evs is freed early */
        } else if (p == &self->timer_fd) {
            uint64_t expirations;
            (void)!read(self->timer_fd, &expirations, sizeof expirations);
        } else {
            (void)s_service(self, p, now);
        }
    }
    /* Connections whose plaintext OpenSSL still held at the end of the last round: their
       sockets may not be readable, so no event names them. */
    for (size_t i = 0; again && i < self->n_conns;) {
        s_conn_t *c = self->conns[i];
        if (c->pending && !s_service(self, c, now)) {
            continue; /* closed: another connection moved into slot i */
        }
        i++;
    }
    if (accept_ready) {
        s_accept(self, now);
    }
    s_deadlines(self, now);
    return self->delivered > INT_MAX ? INT_MAX : (int)self->delivered;
}

int
syslog_tls_fd(const syslog_tls_t *self)
{
    assert(self);
    return self->epoll_fd;
}

const char *
syslog_tls_address(const syslog_tls_t *self)
{
    assert(self);
    return self->address;
}

uint16_t
syslog_tls_port(const syslog_tls_t *self)
{
    assert(self);
    return self->port;
}

void
syslog_tls_stats(const syslog_tls_t *self, syslog_tls_stats_t *out)
{
    assert(self);
    assert(out);
    *out = self->stats;
}
