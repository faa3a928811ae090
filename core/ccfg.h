/*  ccfg.h - the clustering configuration: tier weights, thresholds, handoff window, generic
    key cutoffs and reconciliation points (SPEC §3-§5).

    ccfg_t is a plain value. ccfg_check() is the load-time proof that blocking stays
    lossless: every pair of observations (identities) that can reach the threshold must share
    a blocking key, or cadre would silently miss edges. A configuration that breaks the proof
    is refused with a message that says which tiers can cross the threshold without a key.
*/
#ifndef CADRE_CCFG_H
#define CADRE_CCFG_H

#include "ydoc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*  Blocking key families. Keys are tagged by family, so equal strings of different
    families never collide. */
typedef enum {
    KEY_JA3 = 0, /* identity: TLS client fingerprint */
    KEY_JA4,     /* identity: JA4 TLS fingerprint (cadre's third fingerprint slot) */
    KEY_HASSH,   /* identity: SSH client fingerprint */
    KEY_PAYLOAD, /* identity and campaign: payload hash */
    KEY_C2,      /* identity and campaign: C2 endpoint */
    /* identity: the further fingerprints (obs "fingerprints", docs/schema.md), shared
       like a payload or C2: an edge unless a disagreeing ja3/hassh/ja4 vetoes it */
    KEY_JARM,         /* "jarm": JARM of the source host's TLS service (active prober) */
    KEY_HASSH_SERVER, /* "hassh_server": HASSH of the source host's own sshd (prober) */
    KEY_TCP_SYN,      /* "tcp_syn": the source's TCP SYN signature (passive sniffer) */
    KEY_SSH_CLIENT,   /* "ssh_client": the client's SSH identification string */
    KEY_JA4H,         /* "ja4h": JA4H of the client's HTTP requests */
    KEY_HTTP_HEADERS, /* "http_headers": the client's HTTP header order */
    KEY_JA4_QUIC,     /* "ja4_quic": JA4 of the client's QUIC Initial */
    KEY_HTTP2,        /* "http2_settings": the client's HTTP/2 SETTINGS */
    KEY_HTTP3,        /* "http3_settings": the client's HTTP/3 SETTINGS */
    KEY_USERAGENT,    /* "http_useragent": the client's User-Agent */
    KEY_VNC_CLIENT,   /* "vnc_client": the VNC client's version string */
    KEY_TCPFP,        /* "tcpfp": the source host's SYN-ACK signature (active prober) */
    KEY_TLS_CERT,     /* "tls_cert_sha256": the source host's own TLS certificate (prober) */
    KEY_DECKY,        /* campaign: decky of a handoff event */
    KEY_KDBAND,       /* campaign: one band of a keystroke SimHash */
    KEY_FAMILY_COUNT
} key_family_t;

/*  Largest configuration file (engine or clustering) read, in bytes. */
#define CFG_MAX_FILE_BYTES (1u << 20)

/*  A blocking key: (family << 32) | interned string id. */
#define CCFG_KEY(family, id) (((uint64_t)(family) << 32) | (uint64_t)(id))

/*  Number of identity blocking families, the ones that can turn generic (ja3 .. c2 and the
    further fingerprints): the families below it. */
#define CCFG_GENERIC_FAMILIES KEY_DECKY
/*  The fingerprint slots of the veto (ja3, ja4, hassh) are the families below KEY_PAYLOAD;
    the others from KEY_PAYLOAD on are shared values (payload, C2, further fingerprints). */
#define CCFG_SHARED_FAMILY(f) ((f) >= KEY_PAYLOAD && (f) < CCFG_GENERIC_FAMILIES)

/*  The configuration. Weights are evaluated in the order listed, left to right. */
typedef struct {
    double w_high;         /* identity tier H (fingerprint/payload/C2 match), 1.0 */
    double w_medium;       /* identity tier M (command Jaccard), 0.6 */
    double w_low;          /* identity tier L (credential Jaccard), 0.2 */
    double w_asn;          /* identity tier V (ASN equality), 0.05 */
    double id_threshold;   /* identity edge iff weight >= this, 1.0 */
    double w_handoff;      /* campaign tier P (phase handoff), 1.0 */
    double w_infra;        /* campaign tier I (payload+C2 Jaccard), 1.0 */
    double w_temporal;     /* campaign tier T (session-window overlap), 0.4 */
    double w_cohort;       /* campaign tier C (ASN + decky Jaccard), 0.1 */
    double w_keystroke;    /* campaign tier K (keystroke SimHash closeness), 0.6 */
    double camp_threshold; /* campaign edge iff weight >= this, 1.0 */
    double handoff_window; /* max seconds from an OUT phase to an IN phase, 86400 */
    uint64_t generic_cutoff[CCFG_GENERIC_FAMILIES]; /* a key held by more observations than
                                                       this stops producing edges; 0 = off */
    uint64_t reconcile_every; /* reconcile after this many inputs (0 = only at the end) */
} ccfg_t;

/*  Fills cfg with SPEC defaults (generic cutoffs as documented in docs/config.md). */
void ccfg_defaults(ccfg_t *cfg);
/*  Fills cfg with the reference-parity settings: SPEC defaults with generic cutoffs off. */
void ccfg_reference(ccfg_t *cfg);
/*  Proves blocking lossless for cfg. Returns 0, or CADRE_ECONFIG with the reason in err. */
int ccfg_check(const ccfg_t *cfg, char *err, size_t errlen);
/*  The largest keystroke Hamming distance that can still produce a campaign edge without
    handoff or shared infrastructure (-1 when none can); bands = that + 1. */
int ccfg_kd_max_distance(const ccfg_t *cfg);
/*  Loads a YAML configuration file over cfg (keys absent from the file keep cfg's values),
    then proves it (ccfg_check). Unknown keys and out-of-range values are refused. Returns 0,
    CADRE_ECONFIG with "file:line:col: message" in err, or -errno when the file cannot be
    read. */
int ccfg_load_file(ccfg_t *cfg, const char *path, char *err, size_t errlen);
/*  Same for a document in memory named name. */
int ccfg_load_buffer(ccfg_t *cfg, const char *buf, size_t len, const char *name, char *err,
                     size_t errlen);

/*  Sets the one key named path (dotted, e.g. "identity.weights.high") from a YAML scalar,
    with the loader's type and range rules; other fields are untouched and ccfg_check() is
    not run (the caller proves the whole configuration once every key is set). value is
    borrowed. Returns 0, or, with a message in err (errlen bytes) that carries no location
    (the caller prefixes "file:line:col: path: " from the key's or the value's mark):
      -ENOENT        path names no key (err: "unknown configuration key");
      CADRE_ECONFIG  value has the wrong type or is out of range (err says what was
                     expected and what was found). */
int ccfg_set(ccfg_t *cfg, const char *path, const ydoc_node_t *value, char *err, size_t errlen);
/*  Writes every key of cfg to out as YAML that ccfg_load_buffer() reads back to the same
    values (numbers in their shortest exact form), each line indented by indent spaces. */
void ccfg_print(const ccfg_t *cfg, FILE *out, int indent);

/*  The family's name ("ja3", ...) or NULL. */
const char *ccfg_family_name(key_family_t family);
/*  The family of a further fingerprint kind ("jarm", ...), or -1 for a kind the engine does
    not use (it is kept in the record, not clustered on). */
int ccfg_fp_family(const char *kind);

#endif
