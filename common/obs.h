/*  obs.h - the observation record (SPEC §2) and its validation rules.

    An observation is what the fleet knows about one attacker source: fingerprints and
    sessions. obs_t is a plain value record (like MDB_val, its fields are public): every
    string it points to is owned by the record and freed by obs_destroy(). A NULL string
    means "absent" (JSON null or missing key); an empty string is a value (R§3.1).

    The codecs (jsonio.c for JSON Lines, wire.c for MessagePack) walk their own trees and
    call the obs_check_* helpers here, so both encodings share one set of rules and one
    error format. Strings must be valid UTF-8 without NUL bytes and within the limits below.
*/
#ifndef CADRE_OBS_H
#define CADRE_OBS_H

#include "ukc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Size limits; a record over any of them is rejected with CADRE_ERECORD. */
#define OBS_MAX_ID 256             /* observation and session ids, bytes */
#define OBS_MAX_SHORT 1024         /* ip, decky, payload_hash, c2, truth labels, bytes */
#define OBS_MAX_FINGERPRINT 4096   /* ja3, ja4, hassh, bytes */
#define OBS_MAX_TEXT 65536         /* one command, one username or password, bytes */
#define OBS_MAX_SESSIONS 100000    /* sessions per observation */
#define OBS_MAX_ITEMS 100000       /* commands or credentials per session */
#define OBS_MAX_RECORD (64u << 20) /* one encoded record (JSON line or msgpack map), bytes */

#define OBS_MAX_FP_KIND 32 /* a fingerprint kind's name, bytes: [a-z0-9_]+ */
#define OBS_MAX_FPS 32     /* fingerprints (kinds) per observation */

/*  What an input does to the observation with its id (SPEC §2): replace it, remove it, or
    merge into it (obs_append.h). */
typedef enum { OBS_UPSERT = 0, OBS_DELETE = 1, OBS_APPEND = 2 } obs_op_t;

/*  One further fingerprint of the source, beyond ja3/ja4/hassh: a kind ("jarm", "tcp_syn",
    "ssh_client", "ja4h", ...; docs/schema.md) and its value. */
typedef struct {
    char *kind;  /* [a-z0-9_]{1,32}, owned */
    char *value; /* owned, <= OBS_MAX_FINGERPRINT bytes */
} obs_fp_t;

/*  Where a field of a record merged from appends came from (obs_append.h): the start of the
    earliest session of the append that set it, or INFINITY when that append had none. */
typedef struct {
    char *field; /* "ip", "asn", "ja3", "ja4", "hassh", "kd_simhash", "truth" or
                    "fingerprints.<kind>", owned */
    double at;   /* epoch seconds, or INFINITY */
} obs_at_t;

/*  One (username, password) pair tried by an attacker. */
typedef struct {
    char *user; /* username, owned */
    char *pass; /* password, owned */
} obs_cred_t;

/*  One session of an observation. */
typedef struct {
    char *id;           /* session id, or NULL */
    char *decky;        /* decky (honeypot host) id, or NULL */
    ukc_phase_t phase;  /* UKC phase (required) */
    double start;       /* epoch seconds (required, finite) */
    double duration;    /* seconds (default 0, finite, >= 0) */
    char **commands;    /* command strings, in order */
    size_t n_commands;  /* number of commands */
    obs_cred_t *creds;  /* credential pairs tried, in order */
    size_t n_creds;     /* number of credential pairs */
    char *payload_hash; /* payload hash, or NULL */
    char *c2;           /* C2 endpoint, or NULL */
} obs_session_t;

/*  One observation (an upsert or an append) or a delete of one (only op and id are
    meaningful). */
typedef struct {
    obs_op_t op;             /* upsert (default) or delete */
    char *id;                /* unique, stable id (required, <= OBS_MAX_ID bytes) */
    char *ip;                /* source IP, or NULL */
    bool has_asn;            /* false when asn was absent or null */
    int64_t asn;             /* autonomous system number when has_asn */
    char *ja3;               /* TLS client fingerprint, or NULL */
    char *ja4;               /* JA4 TLS client fingerprint, or NULL */
    char *hassh;             /* SSH client fingerprint, or NULL */
    bool has_kd;             /* false when kd_simhash was absent or null */
    uint64_t kd_simhash;     /* keystroke-rhythm SimHash-64 when has_kd */
    char *truth_campaign;    /* oracle label, never read by clustering, or NULL */
    char *truth_identity;    /* oracle label, or NULL */
    char *truth_actor;       /* oracle label, or NULL */
    obs_session_t *sessions; /* sessions, in input order */
    size_t n_sessions;       /* number of sessions */
    size_t sessions_cap;     /* slots allocated in sessions (0 = exactly n_sessions) */
    obs_fp_t *fps;           /* further fingerprints, sorted by kind, kinds distinct */
    size_t n_fps;            /* number of them */
    obs_at_t *at;            /* provenance of the fields a merge of appends set, sorted by
                                field (empty for records that never saw an append) */
    size_t n_at;             /* number of them */
} obs_t;

/*  Where and why a record was rejected. A plain value; the codecs fill it. */
typedef struct {
    uint64_t record;   /* 1-based record number in its stream (JSON: line number) */
    char id[80];       /* the record's id when it was readable (truncated), else "" */
    char field[96];    /* the offending field path, e.g. "sessions[2].phase", or "" */
    char message[256]; /* what is wrong with it */
} obs_error_t;

/*  Allocates an empty upsert record (all fields absent). Never returns NULL. */
obs_t *obs_new(void);
/*  Frees the record and everything it owns, and NULLs *self_p. NULL is a no-op. */
void obs_destroy(obs_t **self_p);
/*  Frees what a session owns (not the session struct itself). */
void obs_session_clear(obs_session_t *session);
/*  Deep copy of src into dst (whose previous contents are not read or freed). */
void obs_session_copy(obs_session_t *dst, const obs_session_t *src);
/*  Deep copy. The caller owns the result. */
obs_t *obs_dup(const obs_t *self);
/*  True when both records hold exactly the same values (doubles compared bit for bit). */
bool obs_equal(const obs_t *a, const obs_t *b);
/*  A 64-bit digest of every field of the record (XXH3 over a length-prefixed walk), so two
    records hash equal iff they are obs_equal (up to hash collisions). The broker and the
    engine use it to recognise an upsert identical to the current record, which changes
    nothing and is not an input. */
uint64_t obs_hash(const obs_t *self);
/*  The value of fingerprint kind, or NULL (borrowed from the record). */
const char *obs_fp_get(const obs_t *self, const char *kind);
/*  Sets fingerprint kind to a copy of value (replacing it; value NULL removes it), keeping
    the list sorted. kind must be a valid kind name (obs_check_fp_kind). */
void obs_fp_set(obs_t *self, const char *kind, const char *value);
/*  The provenance time of field, or NAN when the record has none for it. */
double obs_at_get(const obs_t *self, const char *field);
/*  Sets the provenance time of field (a copy of the name), keeping the list sorted. */
void obs_at_set(obs_t *self, const char *field, double at);
/*  Checks a fingerprint kind name: 1 to OBS_MAX_FP_KIND bytes of [a-z0-9_]. */
int obs_check_fp_kind(const char *s, size_t len, obs_error_t *err, const char *field);
/*  Checks a provenance field name (the list in obs_at_t). */
int obs_check_at_field(const char *s, size_t len, obs_error_t *err, const char *field);

/*  Appends a zeroed session and returns it (borrowed: valid until the next append). The
    array grows geometrically; a sessions array allocated by hand (sessions_cap 0) is fine. */
obs_session_t *obs_add_session(obs_t *self);

/*  Fills err (record number and id from the arguments, field and a printf-style message).
    id may be NULL. Control characters and invalid UTF-8 in id, field and message are
    replaced by '?', and each is cut at a character boundary to fit its array.
    Always returns CADRE_ERECORD, so callers can `return obs_error_set(...)`. */
int obs_error_set(obs_error_t *err, uint64_t record, const char *id, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*  Fills err's field and message, keeping the record number and id already in it (see
    obs_error_reset). Always returns CADRE_ERECORD. */
int obs_error_field(obs_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*  Puts err's field inside a container, for codecs that name fields relative to the value
    being walked and build the full path only on error: "phase" in "sessions[%zu]" becomes
    "sessions[2].phase", "[1]" in "credentials[%zu]" becomes "credentials[3][1]", and an
    empty field becomes the container's name. */
void obs_error_nest(obs_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*  Starts a record's error context: sets record and id (NULL = unknown), clears field and
    message. The obs_check_* helpers keep record and id and fill only field and message. */
void obs_error_reset(obs_error_t *err, uint64_t record, const char *id);
/*  Formats err as "<source>:<record>: record '<id>': field '<field>': <message>" into buf;
    the record and field parts are left out when err has no id or no field. */
void obs_error_format(const obs_error_t *err, const char *source, char *buf, size_t size);

/*  Decodes one UTF-8 character at the start of s (len > 0 bytes) into *cp. Returns its length
    in bytes (1-4), or 0 if the bytes there are not valid UTF-8 (overlong forms, surrogates,
    values above U+10FFFF, stray continuation bytes, or a sequence cut short). */
size_t obs_utf8_next(const char *s, size_t len, uint32_t *cp);

/*  Checks a string value of len bytes against max (bytes), UTF-8 validity and NUL bytes.
    Returns 0, or CADRE_ERECORD with err filled (field names the value). */
int obs_check_string(const char *s, size_t len, size_t max, obs_error_t *err, const char *field);
/*  Checks a kd_simhash text: exactly 16 hex digits. Stores the value in *out. */
int obs_check_simhash(const char *s, size_t len, uint64_t *out, obs_error_t *err,
                      const char *field);
/*  Checks a phase name and stores the phase in *out. */
int obs_check_phase(const char *s, size_t len, ukc_phase_t *out, obs_error_t *err,
                    const char *field);
/*  Checks that a time or duration is finite (and, when nonneg, not negative). */
int obs_check_number(double v, bool nonneg, obs_error_t *err, const char *field);
/*  Checks the whole record: every rule above, plus the ones that span fields (id present and
    non-empty, a delete carries only its id, counts within limits, phases in range). The codecs
    call it last, and the writers first, so nothing unreadable is ever written. Keeps
    err->record, sets err->id from the record. Returns 0 or CADRE_ERECORD. */
int obs_check_record(const obs_t *self, obs_error_t *err);

/*  Formats a kd_simhash as 16 lowercase hex digits into buf (>= 17 bytes). */
void obs_format_simhash(uint64_t v, char *buf);

#endif
