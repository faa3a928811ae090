/*  cowrie.h - the Cowrie adapter: Cowrie JSON-lines events in, observations out.

    A cowrie_t takes Cowrie events one line at a time and groups them by source IP (one
    observation per src_ip, id "cowrie:<src_ip>") and, within a source, by Cowrie session
    (one cadre session per Cowrie `session`). Events are parsed by jsonio.c (the jansson
    owner); this module keeps only the few fields it needs, so memory per open source is
    bounded by its events' useful content, capped by the OBS_MAX_* limits of obs.h.
    cowrie_finish() builds every observation (events sorted by time within each session,
    the phase chosen by the rule table in docs/cowrie.md) and hands it to a sink in
    first-seen order. Bad lines are counted, never fatal; the first COWRIE_MAX_REPORTED are
    kept with their line numbers and messages. See docs/cowrie.md for the whole mapping.
*/
#ifndef CADRE_COWRIE_H
#define CADRE_COWRIE_H

#include "obs.h"

#include <stddef.h>
#include <stdint.h>

#define COWRIE_MAX_REPORTED 20 /* bad lines kept with their line numbers */

typedef struct cowrie_t cowrie_t;

/*  One bad line: where and why. A plain value. */
typedef struct {
    uint64_t line_no;  /* the line number given to cowrie_feed */
    char message[256]; /* why the line was not used */
} cowrie_bad_t;

/*  Receives one finished observation (borrowed: valid only during the call). Returns 0 to
    go on, or a nonzero code that stops cowrie_finish, which returns it. */
typedef int (*cowrie_sink_fn)(const obs_t *obs, void *arg);

/*  Creates an empty adapter. Never returns NULL. */
cowrie_t *cowrie_new(void);
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

/*  Builds every open observation and calls sink on each in first-seen order of its source
    IP, then forgets them (the adapter is empty but its counters stay). Returns 0, or the
    first nonzero value returned by sink (the remaining observations are dropped). */
int cowrie_finish(cowrie_t *self, cowrie_sink_fn sink, void *arg);

/*  Lines fed (blank lines included), bad lines, Cowrie sessions seen and observations
    emitted so far. */
uint64_t cowrie_lines(const cowrie_t *self);
uint64_t cowrie_bad(const cowrie_t *self);
uint64_t cowrie_sessions(const cowrie_t *self);
uint64_t cowrie_observations(const cowrie_t *self);
/*  The number of recorded bad lines (at most COWRIE_MAX_REPORTED), and the i-th one
    (borrowed, valid until the adapter is destroyed). */
size_t cowrie_bad_reported(const cowrie_t *self);
const cowrie_bad_t *cowrie_bad_at(const cowrie_t *self, size_t i);

/*  The SSH client version last seen for src_ip among the open sources, with a Python
    bytes repr wrapper (b'...' or b"...") stripped, or NULL. Borrowed until the next
    cowrie_feed or cowrie_finish. cadre's observation has no field for it; it is kept for
    the later fatt join. */
const char *cowrie_client_version(const cowrie_t *self, const char *src_ip);

/*  Parses an ISO-8601 UTC time "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+00:00)" into epoch seconds.
    Returns 0 and sets *out, or CADRE_ERECORD when s is not such a time. */
int cowrie_parse_time(const char *s, double *out);

#endif
