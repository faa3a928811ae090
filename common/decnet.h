/*  decnet.h - the DECNET adapter: DECNET log lines in, observations out.

    A decnet_t takes DECNET's RFC 5424 event lines (decnet_line.h) one at a time and groups
    them by attacker address: one observation per source IP ("decnet:<ip>"), whatever decky,
    service or file the lines come from. Within a source, events are grouped into sessions
    per decky and service: a session holds the events of one (decky, service) no more than
    the session gap apart, and ends at a disconnect or a session_recorded event; lines that
    carry cadre's extension element with a session id (docs/decnet.md §5) are grouped by that
    id instead. When an observation is built, each session's events are sorted by time, given
    a phase (by event type, by the shared shell-command rule table of cmdrule.h, or by the
    extension element) and cut into maximal runs of one phase, as the Cowrie adapter does:
    each run is one cadre session. Sessions carry the commands, credentials (secret kind kept,
    see docs/decnet.md §3), the first dropped-file hash and the first C2 host a transfer
    command names. Sniffer and prober lines give the source's fingerprints (JA3, JA4, and
    the kinds of decnet_fp_kind_name) and no session.

    Lines without an attacker address (FTP and MQTT credentials, Telnet commands, startup,
    DECNET's own mutator and correlator lines) are counted per (APP-NAME, MSGID) and never
    invented into an attacker; DECNET's diagnostics and native rsyslog lines are counted and
    skipped; malformed lines are counted, the first DECNET_MAX_REPORTED kept with their line
    numbers. Whatever the OBS_MAX_* limits keep out is counted per kind (decnet_dropped), and
    a C2 host or payload hash is never lost to a limit while the source has room for it.
    See docs/decnet.md for the whole mapping.
*/
#ifndef CADRE_DECNET_H
#define CADRE_DECNET_H

#include "decnet_event.h"
#include "obs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECNET_MAX_REPORTED 20       /* bad lines kept with their line numbers */
#define DECNET_MAX_LINE (1u << 20)   /* longest input line the drivers accept, bytes */
#define DECNET_SESSION_GAP 1800.0    /* default session gap, seconds */
#define DECNET_MAX_EVENTS (1u << 21) /* events kept per source; past it only new evidence */
#define DECNET_MAX_NOIP_KINDS 16     /* (APP-NAME, MSGID) kinds of address-less lines named */

typedef struct decnet_t decnet_t;

/*  Adapter options. A plain value; zero is the default. */
typedef struct {
    double flush_idle;  /* > 0: decnet_emit_idle emits a source once the input's event time is
                           more than this many seconds past its last event; 0: off */
    double session_gap; /* > 0: largest gap in seconds between two events of one session;
                           0: DECNET_SESSION_GAP */
} decnet_opts_t;

/*  One bad line: where and why. A plain value. */
typedef struct {
    uint64_t line_no;  /* the line number given to decnet_feed */
    char message[256]; /* why the line was not used */
} decnet_bad_t;

/*  What the limits keep out of observations, by kind (decnet_dropped). */
typedef enum {
    DECNET_DROP_SESSIONS = 0, /* sessions of a source past OBS_MAX_SESSIONS (their events
                                 are not used) */
    DECNET_DROP_SPLITS,       /* phase runs joined to the run before them because the
                                 observation had OBS_MAX_SESSIONS cadre sessions */
    DECNET_DROP_COMMANDS,     /* commands in no command list: past the source's event limit,
                                 or past OBS_MAX_ITEMS in one cadre session */
    DECNET_DROP_CREDENTIALS,  /* credentials in no credential list, likewise */
    DECNET_DROP_EVENTS,       /* other events past the source's event limit */
    DECNET_DROP_VALUES,       /* values over their OBS_MAX_* size: command, username, secret
                                 (OBS_MAX_TEXT), hash, truth label (OBS_MAX_SHORT),
                                 fingerprint (OBS_MAX_FINGERPRINT), session id (OBS_MAX_ID) */
    DECNET_DROP_KINDS         /* number of kinds */
} decnet_drop_t;

/*  Receives one finished observation (borrowed: valid only during the call). Returns 0 to go
    on, or a nonzero code that stops the emitting call, which returns it. */
typedef int (*decnet_sink_fn)(const obs_t *obs, void *arg);

/*  Creates an empty adapter with opts (copied; NULL = defaults). Never returns NULL. */
decnet_t *decnet_new(const decnet_opts_t *opts);
/*  Frees the adapter and every observation not yet emitted, and NULLs *self_p. NULL is a
    no-op. */
void decnet_destroy(decnet_t **self_p);

/*  Declares one decky of DECNET's state file: events whose HOSTNAME is its name or its
    cosmetic hostname (NULL: none) belong to decky name; services (comma list, NULL: unknown)
    tells SSH from Telnet deckies. A name that is no RFC 5424 HOSTNAME (1-255 printable
    US-ASCII bytes) is ignored. Call before feeding lines. */
void decnet_add_decky(decnet_t *self, const char *name, const char *hostname, const char *services);
/*  Reads DECNET's state file text (decnet-state.json) and declares its deckies. Returns the
    number of deckies, or CADRE_ERECORD with err filled. */
int decnet_load_state(decnet_t *self, const char *text, size_t len, obs_error_t *err);

/*  Feeds one log line (len bytes, without its newline; need not be NUL-terminated). line_no
    is used in bad-line reports. A blank line is ignored. Returns 0 when the line was used or
    deliberately skipped (native, no attacker address, nothing to keep), or CADRE_ERECORD
    when it is malformed (counted, and for the first DECNET_MAX_REPORTED recorded). */
int decnet_feed(decnet_t *self, const char *line, size_t len, uint64_t line_no);
/*  Counts a line the caller could not hand over (e.g. longer than DECNET_MAX_LINE) as bad,
    recorded like the others. Returns CADRE_ERECORD. */
int decnet_bad_line(decnet_t *self, uint64_t line_no, const char *message);
/*  The header time of one line in epoch seconds: 0 and *t set, or CADRE_ERECORD when the
    line has no readable RFC 5424 timestamp. Used to order input files. */
int decnet_line_time(const char *line, size_t len, double *t);

/*  With opts.flush_idle > 0: builds and hands to sink every source whose last event is more
    than flush_idle seconds before the latest event time fed so far, in first-seen order,
    then forgets it; a later event of the same address opens a new observation "<id>~2",
    "~3"... Cheap to call after every line (it scans at most once per second of event time).
    Returns 0, or the first nonzero value returned by sink. Without flush_idle it does
    nothing. */
int decnet_emit_idle(decnet_t *self, decnet_sink_fn sink, void *arg);
/*  Builds every open observation and calls sink on each in first-seen order of its address,
    then forgets them (counters stay). Returns 0, or the first nonzero value returned by sink
    (the remaining observations are dropped). */
int decnet_finish(decnet_t *self, decnet_sink_fn sink, void *arg);

/*  Counters so far: lines fed (blank ones included), bad lines, native lines (diagnostics,
    native rsyslog: not events), events without an attacker address, events that carried
    nothing kept (e.g. a sniffer flow-timing line), cadre sessions and observations
    emitted. */
uint64_t decnet_lines(const decnet_t *self);
uint64_t decnet_bad(const decnet_t *self);
uint64_t decnet_native(const decnet_t *self);
uint64_t decnet_no_ip(const decnet_t *self);
uint64_t decnet_ignored(const decnet_t *self);
uint64_t decnet_sessions(const decnet_t *self);
uint64_t decnet_observations(const decnet_t *self);
/*  Sources open now, and the most open at any time. */
size_t decnet_open(const decnet_t *self);
size_t decnet_open_peak(const decnet_t *self);
/*  Address-less events by kind: the number of kinds counted (at most DECNET_MAX_NOIP_KINDS,
    the last one "other" once they overflow), and kind i's "APP-NAME/MSGID" name (borrowed)
    and count; NULL past the end. */
size_t decnet_no_ip_kinds(const decnet_t *self);
const char *decnet_no_ip_kind(const decnet_t *self, size_t i, uint64_t *count);
/*  Items of one kind the limits kept out; 0 for an unknown kind. */
uint64_t decnet_dropped(const decnet_t *self, decnet_drop_t kind);
/*  The plural noun of a kind (static), or NULL for an unknown kind. */
const char *decnet_drop_name(decnet_drop_t kind);
/*  The number of recorded bad lines (at most DECNET_MAX_REPORTED), and the i-th one
    (borrowed until the adapter is destroyed), NULL past the end. */
size_t decnet_bad_reported(const decnet_t *self);
const decnet_bad_t *decnet_bad_at(const decnet_t *self, size_t i);

/*  The first value of a fingerprint kind seen so far for the open source of address ip
    (canonical text, as in the observation's ip), or NULL. Borrowed until the next feed,
    emit or finish. */
const char *decnet_fingerprint(const decnet_t *self, const char *ip, decnet_fp_kind_t kind);

#endif
