/*  cowrie.h - the Cowrie adapter: Cowrie JSON-lines events in, observations out.

    A cowrie_t takes Cowrie events one line at a time and groups them by source (one
    observation per src_ip, id "cowrie:<src_ip>", or per src_ip and sensor, id
    "cowrie:<src_ip>@<sensor>") and, within a source, by Cowrie session. Events are parsed by
    jsonio.c (the jansson owner); this module keeps only the few fields it needs, so memory
    per open source is bounded by its events' useful content, capped by the OBS_MAX_* limits
    of obs.h. When an observation is built, each Cowrie session's events are sorted by time,
    classified by the phase rule table and cut into maximal runs of one phase: each run is
    one cadre session ("<session>", then "<session>#2", ...). Observations are handed to a
    sink by cowrie_finish() (everything still open) and, with opts.flush_idle, by
    cowrie_emit_idle() (sources idle for that long in event time), in first-seen order.
    fatt records (cowrie_fatt_feed) add network-side HASSH and JA3 by (src_ip, src_port).
    Bad lines are counted, never fatal; the first COWRIE_MAX_REPORTED are kept with their
    line numbers and messages. Whatever the OBS_MAX_* limits keep out of an observation is
    counted per kind (cowrie_dropped), and the evidence a limit would lose is kept: the C2
    host of a command whose text is not kept (past a session's event limit, or over
    OBS_MAX_TEXT), and the payload hash and host of a file transfer past the event limit.
    See docs/cowrie.md for the whole mapping.
*/
#ifndef CADRE_COWRIE_H
#define CADRE_COWRIE_H

#include "cmdrule.h"
#include "obs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COWRIE_MAX_REPORTED 20     /* bad lines kept with their line numbers */
#define COWRIE_MAX_LINE (1u << 20) /* longest input line the drivers accept, bytes */
#define COWRIE_FATT_WINDOW 300.0   /* largest |fatt time - connect time| joined, seconds */
#define COWRIE_MAX_SESSION_ID 200  /* longest Cowrie session id (room for "#N"), bytes */

typedef struct cowrie_t cowrie_t;

/*  How events are grouped into observations. */
typedef enum {
    COWRIE_GROUP_IP = 0,    /* one observation per src_ip: "cowrie:<ip>" */
    COWRIE_GROUP_IP_SENSOR, /* one per src_ip and sensor: "cowrie:<ip>@<sensor>" */
} cowrie_group_t;

/*  Adapter options. A plain value; zero is the default. */
typedef struct {
    cowrie_group_t group; /* grouping of events into observations */
    double flush_idle;    /* > 0: cowrie_emit_idle emits a source once the input's event time
                             is more than this many seconds past its last event; 0: off */
    const char *decky;    /* the sensor of events that carry none (borrowed: it must outlive
                             the adapter), or NULL: none */
} cowrie_opts_t;

/*  One bad line: where and why. A plain value. */
typedef struct {
    uint64_t line_no;  /* the line number given to cowrie_feed / cowrie_fatt_feed */
    char message[256]; /* why the line was not used */
} cowrie_bad_t;

/*  The phase rule table is common/cmdrule.h's, shared with the DECNET adapter; a row of it. */
typedef cmdrule_t cowrie_rule_t;

/*  What the limits keep out of observations, by kind (cowrie_dropped). */
typedef enum {
    COWRIE_DROP_SESSIONS = 0, /* Cowrie sessions of a source past OBS_MAX_SESSIONS: none of
                                 their events is used (and none is counted again below) */
    COWRIE_DROP_SPLITS,       /* phase runs not split off (they join the run before them)
                                 because the observation had OBS_MAX_SESSIONS cadre sessions */
    COWRIE_DROP_COMMANDS,     /* commands in no command list: past a Cowrie session's event
                                 limit, or past OBS_MAX_ITEMS in one cadre session */
    COWRIE_DROP_CREDENTIALS,  /* credential pairs in no credential list, likewise */
    COWRIE_DROP_EVENTS,       /* other events past a Cowrie session's event limit: login
                                 attempts without a pair, tunnels, file transfers whose hash
                                 and host were kept already */
    COWRIE_DROP_VALUES,       /* values over their OBS_MAX_* size: command, username,
                                 password (OBS_MAX_TEXT), hash, sensor, fingerprint, URL host
                                 (OBS_MAX_SHORT), HASSH, JA3 (OBS_MAX_FINGERPRINT) */
    COWRIE_DROP_KINDS         /* number of kinds */
} cowrie_drop_t;

/*  Content events kept per Cowrie session (commands, logins, file transfers, tunnels):
    enough for OBS_MAX_ITEMS commands and as many credentials. Past it only new evidence
    (C2 hosts, payload hashes) is kept. */
#define COWRIE_MAX_EVENTS (2 * (size_t)OBS_MAX_ITEMS)

/*  Receives one finished observation (borrowed: valid only during the call). Returns 0 to
    go on, or a nonzero code that stops the emitting call, which returns it. */
typedef int (*cowrie_sink_fn)(const obs_t *obs, void *arg);

/*  Creates an empty adapter with opts (copied; NULL = defaults). Never returns NULL. */
cowrie_t *cowrie_new(const cowrie_opts_t *opts);
/*  Frees the adapter and every observation not yet emitted, and NULLs *self_p. NULL is a
    no-op. */
void cowrie_destroy(cowrie_t **self_p);

/*  Feeds one event line (len bytes, without its newline; need not be NUL-terminated).
    line_no is used in bad-line reports. A blank line is ignored. Returns 0 when the event
    was used or deliberately ignored (an event type the adapter does not map still opens its
    source and session), or CADRE_ERECORD / CADRE_ETRUNC when the line is bad: not JSON, cut
    short, not an object, or missing src_ip, session, eventid or a readable timestamp. A bad
    line is counted and (for the first COWRIE_MAX_REPORTED) recorded; the caller may go on. */
int cowrie_feed(cowrie_t *self, const char *line, size_t len, uint64_t line_no);

/*  Counts a line the caller could not hand over (e.g. longer than COWRIE_MAX_LINE) as bad,
    recorded like the others. Returns CADRE_ERECORD. */
int cowrie_bad_line(cowrie_t *self, uint64_t line_no, const char *message);

/*  The timestamp of one event line in epoch seconds: 0 and *t set, or CADRE_ERECORD when
    the line is not an event with a readable timestamp. Used to order input files. */
int cowrie_event_time(const char *line, size_t len, double *t);

/*  Feeds one fatt JSON line. Records with a sourceIp, a sourcePort and a client HASSH or
    JA3 are kept (all of them, until the adapter is destroyed) and joined to Cowrie sessions
    by (src_ip, src_port) when observations are built, so fatt input must be fed before the
    Cowrie events whose observations it should reach. Returns 0, or CADRE_ERECORD /
    CADRE_ETRUNC for a line that is not a JSON object (counted in cowrie_fatt_bad and
    recorded like a bad event line). */
int cowrie_fatt_feed(cowrie_t *self, const char *line, size_t len, uint64_t line_no);

/*  With opts.flush_idle > 0: builds and hands to sink every source whose last event is more
    than flush_idle seconds before the latest event time fed so far, in first-seen order,
    then forgets it; a later event of the same key opens a new observation "<id>~2", "~3"...
    Cheap to call after every line (it scans at most once per second of event time).
    Returns 0, or the first nonzero value returned by sink (the source is dropped). Without
    flush_idle it does nothing. */
int cowrie_emit_idle(cowrie_t *self, cowrie_sink_fn sink, void *arg);

/*  Longest part tag (cowrie_set_part), bytes: a session id of COWRIE_MAX_SESSION_ID bytes,
    '@', the tag and "#N" fit OBS_MAX_ID. */
#define COWRIE_MAX_PART_TAG 40

/*  Names what the adapter emits next as one part of a longer log (a log shipper emits what
    is new since its last emission; docs/ship.md). With a tag (copied; at most
    COWRIE_MAX_PART_TAG bytes, longer ones are cut), a Cowrie session that is not whole in
    this adapter (its cowrie.session.connect or cowrie.session.closed event was not fed
    since the last emission) gets the cadre session ids "<session>@<tag>",
    "<session>@<tag>#2"... instead of "<session>", "<session>#2"..., so that two parts of
    one session never share an id and merging their appends keeps both; a whole session
    keeps the ids cadre ingest gives it. The caller makes each tag unique among the parts
    of one log. NULL (the default) names every session as cadre ingest does. */
void cowrie_set_part(cowrie_t *self, const char *tag);

/*  Builds every open observation and calls sink on each in first-seen order of its source,
    then forgets them (the adapter is empty but its counters stay). Returns 0, or the first
    nonzero value returned by sink (the remaining observations are dropped). */
int cowrie_finish(cowrie_t *self, cowrie_sink_fn sink, void *arg);

/*  Lines fed (blank lines included), bad lines, Cowrie sessions seen, cadre sessions and
    observations emitted so far. */
uint64_t cowrie_lines(const cowrie_t *self);
uint64_t cowrie_bad(const cowrie_t *self);
uint64_t cowrie_sessions(const cowrie_t *self);
uint64_t cowrie_cadre_sessions(const cowrie_t *self);
uint64_t cowrie_observations(const cowrie_t *self);
/*  Sources open now (observations not yet emitted), and the most open at any time. */
size_t cowrie_open(const cowrie_t *self);
size_t cowrie_open_peak(const cowrie_t *self);
/*  fatt lines fed, bad fatt lines, fatt records kept, cadre sessions that got a fatt join. */
uint64_t cowrie_fatt_lines(const cowrie_t *self);
uint64_t cowrie_fatt_bad(const cowrie_t *self);
uint64_t cowrie_fatt_records(const cowrie_t *self);
uint64_t cowrie_fatt_joined(const cowrie_t *self);
/*  Items of one kind the limits kept out of the observations emitted so far (sessions and
    values as they are fed; the others as observations are built). 0 for an unknown kind. */
uint64_t cowrie_dropped(const cowrie_t *self, cowrie_drop_t kind);
/*  The plural noun of a kind ("sessions", "splits", "commands", "credentials", "events",
    "values"; static), or NULL for an unknown kind. */
const char *cowrie_drop_name(cowrie_drop_t kind);
/*  The number of recorded bad lines (at most COWRIE_MAX_REPORTED), and the i-th one
    (borrowed, valid until the adapter is destroyed). */
size_t cowrie_bad_reported(const cowrie_t *self);
const cowrie_bad_t *cowrie_bad_at(const cowrie_t *self, size_t i);

/*  The SSH client version last seen for an open source (key: src_ip, or "ip@sensor" with
    COWRIE_GROUP_IP_SENSOR), with a Python bytes repr wrapper (b'...' or b"...") stripped,
    or NULL. Borrowed until the next cowrie_feed, cowrie_emit_idle or cowrie_finish. cadre's
    observation has no field for it. */
const char *cowrie_client_version(const cowrie_t *self, const char *key);

/*  The phase of one command by the rule table, and the first host a transfer tool in it
    names: cmdrule_phase() (the adapter's name for it). */
ukc_phase_t cowrie_command_phase(const char *cmd, char **c2_p);
/*  The rule table: cmdrule_count() and cmdrule_at(). */
size_t cowrie_rule_count(void);
const cowrie_rule_t *cowrie_rule_at(size_t i);

/*  Parses an ISO-8601 UTC time "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+00:00)" into epoch seconds.
    Returns 0 and sets *out, or CADRE_ERECORD when s is not such a time. */
int cowrie_parse_time(const char *s, double *out);

#endif
