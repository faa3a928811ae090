/*  jsonio.h - the JSON codec of observation and assignment records (SPEC §2).

    The only module that uses jansson. It decodes one JSON text (one line of a JSON Lines
    stream) into an obs_t or assign_t, applying the rules of obs.h, and encodes one record as
    one line of text in the generator's exact shape: Python json.dumps(sort_keys=True) with
    ", " and ": " separators, ensure_ascii escapes, and each double written in the shortest
    form that reads back to the same bits (Python's repr). Absent values are written as null
    and their keys are always present, except "ja4" and "kd_simhash" (written only when
    set), "truth" (only when a label is set) and "op" (only for deletes, which are written as
    {"id": ..., "op": "delete"}).

    It also encodes what the engine publishes (SPEC §6-§7, docs/events.md) in the same
    shape: events as their envelope {"id", "payload", "topic", "ts", "type", "v"}, and
    identity and campaign records. Those encoders check what they write (valid UTF-8,
    finite times) instead of running a record check first.

    Framing (splitting a stream into lines) is obs_stream.c's job; nothing here does I/O.
*/
#ifndef CADRE_JSONIO_H
#define CADRE_JSONIO_H

#include "assign.h"
#include "obs.h"
#include "records.h"
#include "weak.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

/*  Decodes the JSON text buf (len bytes, need not be NUL-terminated; a trailing "\r" or
    whitespace is fine) as one observation. record is the record number put in err.
    Returns 0 and stores a new record in *out (the caller owns it), or:
      CADRE_ERECORD  the text is not valid JSON or breaks a schema rule (err filled);
      CADRE_ETRUNC   the text ends inside a JSON value (err filled), which a stream reader
                     reports as truncation when it is the stream's unterminated last line.
    *out is left untouched on error. */
int jsonio_obs_decode(const char *buf, size_t len, uint64_t record, obs_t **out, obs_error_t *err);
/*  Bytes a caller of jsonio_obs_decode_padded() guarantees readable after the text
    (simdjson's SIMDJSON_PADDING: its SIMD loads may read that far past the end). */
#define JSONIO_PADDING 64
/*  jsonio_obs_decode() for a text followed by at least JSONIO_PADDING readable bytes (of any
    value, never written), which the fast path then parses where it lies instead of copying
    it first. The JSON Lines reader (obs_stream.c) decodes every line this way. Same contract
    and results as jsonio_obs_decode(). */
int jsonio_obs_decode_padded(const char *buf, size_t len, uint64_t record, obs_t **out,
                             obs_error_t *err);
/*  The jansson decoder alone, with jsonio_obs_decode's contract: the reference the fast
    path (jsonio_simd.h) is held to. jsonio_obs_decode() returns what this returns on every
    input; it runs simdjson first and this only for the texts simdjson declines (every
    rejected record, and a few rare accepted ones). For the differential tests and fuzz
    targets; other callers use jsonio_obs_decode(). */
int jsonio_obs_decode_jansson(const char *buf, size_t len, uint64_t record, obs_t **out,
                              obs_error_t *err);

/*  Encodes obs as one line of JSON without the trailing newline. Returns 0 and stores a
    NUL-terminated string in *out_p (the caller frees it) and its length in *len_p, or
    CADRE_ERECORD (err filled, record number 0) when obs breaks a rule of obs_check_record(),
    so that nothing unreadable is ever written. */
int jsonio_obs_encode(const obs_t *obs, char **out_p, size_t *len_p, obs_error_t *err);

/*  Decodes one assignment {"id", "identity", "campaign"}: id a non-empty string of at most
    OBS_MAX_ID bytes, identity and campaign strings (at most OBS_MAX_SHORT bytes) or null;
    other keys are ignored. Returns 0 and fills *out (the caller clears it with
    assign_clear), or CADRE_ERECORD / CADRE_ETRUNC as jsonio_obs_decode (*out zeroed). */
int jsonio_assign_decode(const char *buf, size_t len, uint64_t record, assign_t *out,
                         obs_error_t *err);

/*  Encodes rec as {"campaign": ..., "id": ..., "identity": ...} (absent values as null).
    Returns 0 with *out_p (caller frees) and *len_p set, or CADRE_ERECORD (err filled) when
    rec breaks a rule of assign_check(). */
int jsonio_assign_encode(const assign_t *rec, char **out_p, size_t *len_p, obs_error_t *err);

/*  Encodes ev as one line of JSON (no newline), its envelope
    {"id": ..., "payload": {...}, "topic": ..., "ts": ..., "type": ..., "v": 1} with the
    payload keys of ev_keys() in sorted order: subject and object as strings, the prior as
    a string or null, the members as an array of strings. ev's id, subject, object (when its
    kind has one) and members must not be NULL. Returns 0 with *out_p (caller frees) and
    *len_p set, or:
      CADRE_ERECORD  a string is not valid UTF-8, or ts is not finite;
      CADRE_ELIMIT   a formed event has more members than wire_event_members_fit() (so an
                     event is accepted by both encoders or by neither). */
int jsonio_event_encode(const ev_t *ev, char **out_p, size_t *len_p);

/*  Encodes an identity record as one line of JSON (no newline) with the keys
    c2_endpoints, campaign, first_seen, formed_seq, hassh_hashes, id, ja3_hashes,
    ja4_hashes, kd_simhash, last_seen, merged_into, observation_count, payload_hashes:
    absent strings, times (!has_seen) and kd_simhash (!has_kd) as null, lists as arrays
    (possibly empty), kd_simhash as 16 lowercase hex digits. Returns 0 with *out_p (caller
    frees) and *len_p set, or CADRE_ERECORD when a string is not valid UTF-8 or a time not
    finite. */
int jsonio_identity_encode(const rec_identity_t *rec, char **out_p, size_t *len_p);

/*  Encodes a campaign record as one line of JSON (no newline) with the keys c2_endpoints,
    deckies, first_seen, formed_seq, id, identity_count, last_seen, merged_into,
    observation_count, payload_hashes, phases; phases is an array of
    {"first_seen": t, "phase": name, "stage": "in"|"through"|"out"} in the record's
    (kill-chain) order. Returns 0 with *out_p (caller frees) and *len_p set, or
    CADRE_ERECORD when a string is not valid UTF-8, a time not finite or a phase out of
    range. */
int jsonio_campaign_encode(const rec_campaign_t *rec, char **out_p, size_t *len_p);

/*  Renders a decoded event (wire_event_decode) as one line of JSON (no newline), exactly as
    jsonio_event_encode() writes the event it came from. Returns 0 with *out_p (caller
    frees) and *len_p set, or CADRE_ERECORD when ts is not finite (a decoded event's never
    is). */
int jsonio_event_print(const wire_event_t *ev, char **out_p, size_t *len_p);

/*  Encodes a weak-label evaluation (weak.h, `cadre eval-weak --format json`) as one JSON
    object on one line (no newline), keys in a fixed order: level, observations, labels,
    truth_operations, fusions, generic, metrics (docs/eval-weak.md lists every key). Metric
    values are written as Python's repr() writes doubles. Returns 0 with *out_p (caller
    frees) and *len_p set, or CADRE_ERECORD when a string is not valid UTF-8 (the labels
    file is checked on input, so only assignment ids could be) or a metric is not finite. */
int jsonio_weak_encode(const weak_report_t *rep, char **out_p, size_t *len_p);

/*  The fields of one Cowrie JSON-lines event that the Cowrie adapter (cowrie.h) reads. Every
    string is owned (freed by jsonio_cowrie_event_clear) and NULL when the key is missing, is
    not a string (or, for the algorithm lists, not a string or an array of strings), or holds
    a NUL byte. Algorithm lists given as arrays are joined with ",". */
typedef struct {
    char *eventid;     /* "eventid", e.g. "cowrie.login.failed" */
    char *src_ip;      /* "src_ip" */
    char *session;     /* "session", Cowrie's session id */
    char *timestamp;   /* "timestamp", ISO-8601 text */
    char *sensor;      /* "sensor" */
    char *input;       /* "input" of command events */
    char *username;    /* "username" of login events */
    char *password;    /* "password" of login events */
    char *shasum;      /* "shasum" of file download / upload events */
    char *url;         /* "url" of file download events */
    char *hassh;       /* "hassh" of cowrie.client.kex */
    char *version;     /* "version" of cowrie.client.version, as written (maybe b'...') */
    char *kex_algs;    /* "kexAlgs", comma-joined */
    char *enc_cs;      /* "encCS", comma-joined */
    char *mac_cs;      /* "macCS", comma-joined */
    char *comp_cs;     /* "compCS", comma-joined */
    char *fingerprint; /* "fingerprint" of cowrie.client.fingerprint (public-key login) */
    char *message;     /* "message" (old Cowrie versions' only command text: "CMD: ...") */
    long src_port;     /* "src_port" (a number, or a string of digits), -1 when absent */
} jsonio_cowrie_event_t;

/*  Decodes one Cowrie event line (len bytes, need not be NUL-terminated) into *out, which
    is zeroed first. Returns 0 (the caller clears *out with jsonio_cowrie_event_clear), or
    CADRE_ERECORD (not valid JSON, or not an object) or CADRE_ETRUNC (the text ends inside a
    JSON value), with err filled (record number record) and *out left zeroed. No field is
    required here; the adapter decides which missing fields make an event unusable. */
int jsonio_cowrie_event(const char *buf, size_t len, uint64_t record, jsonio_cowrie_event_t *out,
                        obs_error_t *err);
/*  Frees the strings of ev and zeroes it. */
void jsonio_cowrie_event_clear(jsonio_cowrie_event_t *ev);

/*  The fields of one fatt JSON-lines record (passive fingerprinting, as T-Pot runs it) that
    the Cowrie adapter joins. Strings are owned (freed by jsonio_fatt_record_clear) and NULL
    when missing or not strings. Only client-side fingerprints are read: fatt's server-side
    "hasshServer" and "ja3s" describe the honeypot, not the attacker. */
typedef struct {
    char *src_ip;    /* "sourceIp" */
    long src_port;   /* "sourcePort" (a number, or a string of digits), -1 when absent */
    char *timestamp; /* "timestamp", ISO-8601 text, or NULL */
    char *protocol;  /* "protocol", e.g. "ssh" or "tls" */
    char *hassh;     /* "ssh"."hassh": the client's HASSH */
    char *ja3;       /* "tls"."ja3": the client's JA3 */
} jsonio_fatt_record_t;

/*  Decodes one fatt line (len bytes) into *out, which is zeroed first. Returns 0 (the
    caller clears *out), or CADRE_ERECORD / CADRE_ETRUNC as jsonio_cowrie_event does. */
int jsonio_fatt_record(const char *buf, size_t len, uint64_t record, jsonio_fatt_record_t *out,
                       obs_error_t *err);
/*  Frees the strings of rec and zeroes it. */
void jsonio_fatt_record_clear(jsonio_fatt_record_t *rec);

/*  One decky of DECNET's state file (decnet-state.json: config.deckies[], DECNET-LOGS.md
    §1.4), as the DECNET adapter reads it and `cadre gen --format decnet` writes it. Strings
    are owned (jsonio_decnet_state_clear), NULL when missing or not strings. */
typedef struct {
    char *name;     /* "name": the decky name, which most events carry as HOSTNAME */
    char *hostname; /* "hostname": its cosmetic hostname (auth-helper lines carry this) */
    char *ip;       /* "ip" */
    char *services; /* "services" (an array of strings), joined with "," */
} jsonio_decky_t;

/*  Decodes a DECNET state file (len bytes) into a new array of its deckies (*out, *n; the
    caller frees it with jsonio_decnet_state_clear). The deckies are config.deckies[] (or a
    top-level deckies[]); entries that are not objects or lack a string name are skipped.
    Returns 0, or CADRE_ERECORD with err filled when the text is not a JSON object or holds
    no deckies array. */
int jsonio_decnet_state(const char *buf, size_t len, jsonio_decky_t **out, size_t *n,
                        obs_error_t *err);
/*  Frees n deckies and the array. */
void jsonio_decnet_state_clear(jsonio_decky_t *deckies, size_t n);
/*  Encodes deckies as a state file {"config": {"deckies": [...]}} (services split at ","),
    one JSON document and a newline, into a new buffer (*out_p, *len_p; the caller frees it).
    Returns 0. */
int jsonio_decnet_state_encode(const jsonio_decky_t *deckies, size_t n, char **out_p,
                               size_t *len_p);

/*  The "headers" text of a DECNET http request as Flask's JSON dump writes it: {"Host": host,
    "User-Agent": agent[, "Authorization": "Basic " + basic]} (basic NULL: none), into a new
    buffer (*out_p, *len_p). Returns 0. */
int jsonio_http_headers(const char *host, const char *agent, const char *basic, char **out_p,
                        size_t *len_p);

/*  The string value of member key (compared without regard to ASCII case) of the JSON object
    in buf (len bytes), owned, or NULL when buf is no JSON object, has no such member, or it
    is not a string holding no NUL. Used for one header of a DECNET "headers" parameter. */
char *jsonio_member_string(const char *buf, size_t len, const char *key);

#endif
