/*  decnet_event.h - what one parsed DECNET line says, event by event (docs/decnet.md §3-4).

    Pure functions over a decnet_line_t, with no state of the adapter: the attacker address
    the line names, the phase its event type has, the credential it carries (with its secret
    kind kept), the span a session_recorded covers and the fingerprints it records. The
    adapter (decnet.c) keeps what they return; the tables behind them are the mapping of
    docs/decnet.md.
*/
#ifndef CADRE_DECNET_EVENT_H
#define CADRE_DECNET_EVENT_H

#include "decnet_line.h"
#include "ukc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  The fingerprint kinds kept besides JA3 and JA4 (docs/decnet.md §4). */
typedef enum {
    DECNET_FP_SSH_CLIENT = 0, /* sniffer ssh_client_banner ssh_version */
    DECNET_FP_TCP_SYN,        /* sniffer tcp_syn_fingerprint, "ttl:window:mss:wscale:options" */
    DECNET_FP_JA4_QUIC,       /* sniffer quic_client_hello ja4_quic */
    DECNET_FP_JA4L,           /* sniffer JA4L, "rtt_ms_ttl" */
    DECNET_FP_TLS_RESUMPTION, /* sniffer resumption */
    DECNET_FP_JA4H,           /* http(s) http_request_fingerprint ja4h */
    DECNET_FP_HTTP_HEADERS,   /* http(s) http_request_fingerprint headers_ordered */
    DECNET_FP_HTTP2,          /* http(s) http2_settings settings */
    DECNET_FP_HTTP3,          /* http(s) http3_settings settings */
    DECNET_FP_USER_AGENT,     /* User-Agent of an HTTP request's headers, elasticsearch
                                 user_agent */
    DECNET_FP_VNC_CLIENT,     /* vnc version client_version */
    DECNET_FP_JARM,           /* prober jarm_fingerprint jarm_hash */
    DECNET_FP_HASSH_SERVER,   /* prober hassh_fingerprint hassh_server_hash (the attacker's
                                 own sshd) */
    DECNET_FP_TCPFP,          /* prober tcpfp_fingerprint tcpfp_hash (the attacker's SYN-ACK) */
    DECNET_FP_TLS_CERT,       /* prober tls_certificate cert_sha256 (the attacker's own
                                 certificate) */
    DECNET_FP_ICMP,           /* prober icmp_error_leak icmp_fp_hash */
    DECNET_FP_ICMP6,          /* prober icmp6_error_leak icmp6_fp_hash */
    DECNET_FP_KINDS           /* number of kinds */
} decnet_fp_kind_t;

#define DECNET_FP_JA3 ((uint32_t)DECNET_FP_KINDS)     /* JA3: the observation's ja3 field */
#define DECNET_FP_JA4 ((uint32_t)DECNET_FP_KINDS + 1) /* JA4: the observation's ja4 field */
#define DECNET_FP_ALL ((uint32_t)DECNET_FP_KINDS + 2) /* kinds, JA3 and JA4 included */
#define DECNET_EVENT_MAX_FPS 8                        /* fingerprints of one line, at most */

/*  One fingerprint value of a line. A plain value. */
typedef struct {
    uint32_t kind; /* decnet_fp_kind_t, DECNET_FP_JA3 or DECNET_FP_JA4 */
    const char *v; /* its bytes, raw (not cleaned): in the line's parameters or out->buf */
    size_t n;      /* their number */
} decnet_fp_value_t;

/*  The fingerprints of one line (decnet_event_fingerprints). */
typedef struct {
    decnet_fp_value_t v[DECNET_EVENT_MAX_FPS]; /* the values to keep */
    size_t n;                                  /* number of them */
    size_t present;                            /* values the line records, kept or settled */
    char buf[640];                             /* room for composed values */
    char *owned;                               /* a value decoded from JSON, owned, or NULL */
} decnet_fps_t;

/*  The name of a fingerprint kind ("ssh_client", "tcp_syn", "jarm"...; static), or NULL. */
const char *decnet_fp_kind_name(decnet_fp_kind_t kind);

/*  The attacker address of line l, in canonical text (decnet_addr), into out: on a command
    line its CMD body's src= token, else the first present of src_ip, src, client_ip,
    remote_ip, remote_addr, target_ip, ip (its last occurrence). Returns the text's length,
    or 0 when the line names no address. */
size_t decnet_event_addr(const decnet_line_t *l, char out[DECNET_ADDR_MAX]);

/*  The phase the event type of l has of its own (docs/decnet.md §3.2), or UKC_NONE. The
    phases of credentials and commands are the adapter's. */
ukc_phase_t decnet_event_phase(const decnet_line_t *l);

/*  When l is a session_recorded with a readable duration_s, that duration in microseconds;
    else 0. */
int64_t decnet_event_span(const decnet_line_t *l);

/*  The credential of l, when it has one (secret_b64 or secret_printable): *user_p gets the
    principal (or, when that is the text "None" or absent, username; else ""), *secret_p the
    stored secret (decnet_credential_secret of the decoded secret_b64 when it is UTF-8, else
    of secret_printable), both owned and clean (decnet_clean). False (nothing set) when l
    has none. */
bool decnet_event_credential(const decnet_line_t *l, char **user_p, char **secret_p);

/*  The fingerprints line l records (the tables of docs/decnet.md §4) into *out (which the
    caller clears with decnet_fps_clear): every value except those of the kinds whose bit
    is set in settled (the caller holds an earlier value of them, so a new one cannot win;
    a settled kind is counted in out->present but not extracted). */
void decnet_event_fingerprints(const decnet_line_t *l, uint32_t settled, decnet_fps_t *out);
/*  Frees what out owns. */
void decnet_fps_clear(decnet_fps_t *out);

/*  The stored password of a credential of DECNET's secret kind kind (docs/decnet.md §3):
    secret itself for "plaintext" (or NULL / empty kind), else "<kind>:" + secret, so a
    hash or challenge response never looks like a password. Owned. */
char *decnet_credential_secret(const char *kind, const char *secret);

/*  A copy of n bytes at s as valid UTF-8 without NUL bytes: every byte that does not start a
    valid character (and every NUL) becomes U+FFFD. Owned. */
char *decnet_clean(const char *s, size_t n);
/*  True when n bytes at s are valid UTF-8 without NUL bytes. */
bool decnet_utf8(const char *s, size_t n);

#endif
