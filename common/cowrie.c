/*  cowrie.c - the Cowrie adapter (see cowrie.h and docs/cowrie.md).

    Open sources are individually allocated and found by their group key through a hash map
    (owned keys, XXH3, linear probing with backward-shift deletion, so idle sources can be
    forgotten); each carries a first-seen serial that orders emission. A source owns its
    sessions (found through a per-source map) and each session owns the few events that
    carry content (commands, logins, files, tunnels) as small copies. Times are folded into
    each session's first/last as events arrive, so order does not matter for them; content
    events are sorted by (time, arrival) when the observation is built, which undoes the
    reordering Cowrie does within one second, and then cut into runs of one phase. fatt
    records live in an array chained per (ip, port) key until the adapter is destroyed.
    The limits (OBS_MAX_*, COWRIE_MAX_EVENTS) are applied where an item would be kept
    (s_session_for, s_command, s_keep, s_take, s_add_run, s_build_session), each counting
    what it keeps out in dropped[]; past a session's event limit only evidence that is new
    to the session (a command's C2 host, a transfer's hash or host) is still kept.
*/
#include "cowrie.h"

#include "cmdrule.h"
#include "digest.h"
#include "err.h"
#include "jsonio.h"
#include "xalloc.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/*  Longest src_ip and sensor used in a group key, so that "cowrie:ip@sensor~N" fits
    OBS_MAX_ID. A longer sensor is left out of the key. */
#define S_MAX_IP 120
#define S_MAX_SENSOR 100

/*  What a kept event contributes. */
typedef enum {
    S_EV_COMMAND,      /* cowrie.command.input: a: the command */
    S_EV_COMMAND_ALSO, /* cowrie.command.failed / .success: a: the command, if not seen */
    S_EV_DROPPED,      /* a COMMAND_ALSO repeating an input line (set when building) */
    S_EV_LOGIN,        /* cowrie.login.failed / .success: a: username, b: password */
    S_EV_PUBKEY,       /* cowrie.client.fingerprint: a: username, b: "publickey:<fp>" */
    S_EV_DOWNLOAD,     /* cowrie.session.file_download(.failed): a: shasum, b: url host */
    S_EV_UPLOAD,       /* cowrie.session.file_upload: a: shasum */
    S_EV_TUNNEL,       /* cowrie.direct-tcpip.request: no strings */
    S_EV_C2            /* a command whose text is not kept (past the event limit, or over
                          OBS_MAX_TEXT) naming a C2 host: b: the host, phase: its phase */
} s_kind_t;

/*  One kept event. */
typedef struct {
    double t;          /* event time, epoch seconds */
    uint64_t seq;      /* arrival order, so the sort is stable */
    s_kind_t kind;     /* what it contributes */
    char *a;           /* first string (see s_kind_t), owned, or NULL */
    char *b;           /* second string, owned, or NULL */
    ukc_phase_t phase; /* S_EV_C2: the command's phase (else unused) */
} s_event_t;

/*  An open-addressing map from an owned string key to an index. */
typedef struct {
    char **keys;   /* slot keys, owned, NULL = empty */
    size_t *vals;  /* slot values */
    size_t n;      /* keys stored */
    size_t n_slot; /* slots, a power of two (0 before first insert) */
} s_map_t;

/*  One Cowrie session of a source. */
typedef struct {
    char *id;            /* Cowrie session id, owned */
    char *decky;         /* first sensor seen, owned, or NULL */
    double first;        /* earliest event time */
    double last;         /* latest event time */
    long src_port;       /* src_port of cowrie.session.connect, -1 when not seen */
    double connect_t;    /* time of that connect event */
    s_event_t *events;   /* content events, in arrival order */
    size_t n_events;     /* number of events */
    size_t cap;          /* slots in events */
    s_map_t over;        /* evidence kept past COWRIE_MAX_EVENTS: "h:<host>", "p:<hash>" */
    uint64_t input_hash; /* XXH3 of the last command.input whose text was not kept */
    bool has_input_hash; /* input_hash is set */
    bool connected;      /* its cowrie.session.connect event was fed */
    bool closed;         /* its cowrie.session.closed event was fed */
} s_session_t;

/*  One open source: the future observation. Allocated alone, owned by the adapter. */
typedef struct {
    char *key;             /* group key: src_ip or "src_ip@sensor", owned */
    char *ip;              /* src_ip, owned */
    uint64_t serial;       /* first-seen order among all sources ever opened */
    uint64_t instance;     /* 1 for a key's first observation, 2, 3... after idle flushes */
    double last;           /* latest event time of the source */
    bool closed;           /* idle, then returned: replaced in by_key by its next instance */
    char *hassh;           /* first cowrie.client.kex hassh, owned, or NULL */
    char *hassh_legacy;    /* HASSH computed from a version event's lists, owned, or NULL */
    char *version;         /* last client version, b'' stripped, owned, or NULL */
    s_session_t *sessions; /* sessions in first-seen order */
    size_t n_sessions;     /* number of sessions */
    size_t cap;            /* slots in sessions */
    s_map_t by_session;    /* session id -> index in sessions */
    s_map_t dropped;       /* ids of the sessions past OBS_MAX_SESSIONS (counted once) */
} s_source_t;

/*  One kept fatt record. */
typedef struct {
    double t;    /* record time, or NAN when it had none */
    char *hassh; /* client HASSH, owned, or NULL */
    char *ja3;   /* client JA3, owned, or NULL */
    size_t prev; /* the previous record of the same (ip, port), or SIZE_MAX */
} s_fatt_t;

struct cowrie_t {
    cowrie_opts_t opts;                         /* options, copied */
    s_source_t **slots;                         /* open sources by slot; NULL = free slot */
    size_t n_slots;                             /* slots used (free ones included) */
    size_t cap;                                 /* slots allocated */
    size_t *free_slots;                         /* free slot indices, a stack */
    size_t n_free;                              /* entries in free_slots */
    size_t free_cap;                            /* slots allocated in free_slots */
    s_map_t by_key;                             /* group key -> slot */
    s_map_t returns;                            /* group key -> observations emitted (idle) */
    s_fatt_t *fatt;                             /* fatt records kept */
    size_t n_fatt;                              /* number of fatt records */
    size_t fatt_cap;                            /* slots in fatt */
    s_map_t fatt_by_conn;                       /* "ip\x1fport" -> latest record index */
    uint64_t serial;                            /* sources opened so far */
    uint64_t seq;                               /* events kept so far */
    double now;                                 /* latest event time fed */
    double scanned;                             /* now at the last idle scan */
    size_t open;                                /* sources open */
    size_t open_peak;                           /* most sources open at once */
    uint64_t lines;                             /* lines fed */
    uint64_t bad;                               /* bad lines */
    uint64_t sessions;                          /* Cowrie sessions opened */
    uint64_t cadre_sessions;                    /* cadre sessions emitted */
    uint64_t observations;                      /* observations emitted */
    uint64_t fatt_lines;                        /* fatt lines fed */
    uint64_t fatt_bad;                          /* bad fatt lines */
    uint64_t fatt_joined;                       /* cadre sessions with a fatt join */
    uint64_t dropped[COWRIE_DROP_KINDS];        /* items kept out by the limits, by kind */
    cowrie_bad_t reported[COWRIE_MAX_REPORTED]; /* first bad lines */
    size_t n_reported;                          /* entries used in reported */
    char *part;                                 /* part tag (cowrie_set_part), owned, or NULL */
};

/* -------------------------------------------------------------------------------------------
    The string map */

static size_t
s_hash(const char *key)
{
    return (size_t)XXH3_64bits(key, strlen(key));
}

static size_t
s_map_slot(const s_map_t *m, const char *key)
{
    size_t mask = m->n_slot - 1;
    size_t i = s_hash(key) & mask;
    while (m->keys[i] && strcmp(m->keys[i], key) != 0) {
        i = (i + 1) & mask;
    }
    return i;
}

/*  The value stored for key, or SIZE_MAX. */
static size_t
s_map_get(const s_map_t *m, const char *key)
{
    if (m->n_slot == 0) {
        return SIZE_MAX;
    }
    size_t i = s_map_slot(m, key);
    return m->keys[i] ? m->vals[i] : SIZE_MAX;
}

/*  Stores key (copied) -> val, replacing the value when key is present. */
static void
s_map_put(s_map_t *m, const char *key, size_t val)
{
    if (m->n_slot > 0) {
        size_t i = s_map_slot(m, key);
        if (m->keys[i]) {
            m->vals[i] = val;
            return;
        }
    }
    if ((m->n + 1) * 4 > m->n_slot * 3) {
        s_map_t grown = {.n_slot = m->n_slot ? m->n_slot * 2 : 8};
        grown.keys = xcalloc(grown.n_slot, sizeof *grown.keys);
        grown.vals = xcalloc(grown.n_slot, sizeof *grown.vals);
        for (size_t i = 0; i < m->n_slot; i++) {
            if (m->keys[i]) {
                size_t j = s_map_slot(&grown, m->keys[i]);
                grown.keys[j] = m->keys[i];
                grown.vals[j] = m->vals[i];
                grown.n++;
            }
        }
        free(m->keys);
        free(m->vals);
        *m = grown;
    }
    size_t i = s_map_slot(m, key);
    assert(!m->keys[i]);
    m->keys[i] = xstrdup(key);
    m->vals[i] = val;
    m->n++;
}

/*  Removes key (absent: no-op), shifting later entries of its probe run back. */
static void
s_map_del(s_map_t *m, const char *key)
{
    if (m->n_slot == 0) {
        return;
    }
    size_t mask = m->n_slot - 1;
    size_t i = s_map_slot(m, key);
    if (!m->keys[i]) {
        return;
    }
    free(m->keys[i]);
    m->keys[i] = NULL;
    m->n--;
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = s_hash(m->keys[j]) & mask;
        /* The entry at j may move to the hole at i unless its home lies cyclically in
           (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->keys[j] = NULL;
            i = j;
        }
    }
}

static void
s_map_clear(s_map_t *m)
{
    for (size_t i = 0; i < m->n_slot; i++) {
        free(m->keys[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* -------------------------------------------------------------------------------------------
    Lifecycle */

cowrie_t *
cowrie_new(const cowrie_opts_t *opts)
{
    cowrie_t *self = xcalloc(1, sizeof *self);
    if (opts) {
        self->opts = *opts;
    }
    self->now = -INFINITY;
    self->scanned = -INFINITY;
    return self;
}

static void
s_source_free(s_source_t *src)
{
    for (size_t j = 0; j < src->n_sessions; j++) {
        s_session_t *ss = &src->sessions[j];
        for (size_t k = 0; k < ss->n_events; k++) {
            free(ss->events[k].a);
            free(ss->events[k].b);
        }
        free(ss->events);
        free(ss->id);
        free(ss->decky);
        s_map_clear(&ss->over);
    }
    free(src->sessions);
    s_map_clear(&src->by_session);
    s_map_clear(&src->dropped);
    free(src->key);
    free(src->ip);
    free(src->hassh);
    free(src->hassh_legacy);
    free(src->version);
    free(src);
}

/*  Forgets the source in slot i. */
static void
s_source_drop(cowrie_t *self, size_t i)
{
    s_source_t *src = self->slots[i];
    if (!src->closed) {
        s_map_del(&self->by_key, src->key);
    }
    s_source_free(src);
    self->slots[i] = NULL;
    xgrow(&self->free_slots, &self->free_cap, self->n_free + 1);
    self->free_slots[self->n_free++] = i;
    self->open--;
}

void
cowrie_destroy(cowrie_t **self_p)
{
    cowrie_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_slots; i++) {
        if (self->slots[i]) {
            s_source_free(self->slots[i]);
        }
    }
    free(self->slots);
    free(self->free_slots);
    s_map_clear(&self->by_key);
    s_map_clear(&self->returns);
    for (size_t i = 0; i < self->n_fatt; i++) {
        free(self->fatt[i].hassh);
        free(self->fatt[i].ja3);
    }
    free(self->fatt);
    s_map_clear(&self->fatt_by_conn);
    free(self->part);
    free(self);
    *self_p = NULL;
}

/* -------------------------------------------------------------------------------------------
    Parsing helpers */

/*  Reads exactly n digits at *s into *out and advances *s. */
static bool
s_digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return true;
}

/*  Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long
s_days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
cowrie_parse_time(const char *s, double *out)
{
    int y, mo, d, h, mi, se;
    if (!s_digits(&s, 4, &y) || *s++ != '-' || !s_digits(&s, 2, &mo) || *s++ != '-' ||
        !s_digits(&s, 2, &d) || (*s != 'T' && *s != ' ')) {
        return CADRE_ERECORD;
    }
    s++;
    if (!s_digits(&s, 2, &h) || *s++ != ':' || !s_digits(&s, 2, &mi) || *s++ != ':' ||
        !s_digits(&s, 2, &se)) {
        return CADRE_ERECORD;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return CADRE_ERECORD;
    }
    double frac = 0.0;
    if (*s == '.') {
        s++;
        double scale = 0.1;
        if (*s < '0' || *s > '9') {
            return CADRE_ERECORD;
        }
        while (*s >= '0' && *s <= '9') {
            frac += (*s - '0') * scale;
            scale /= 10.0;
            s++;
        }
    }
    if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0 && strcmp(s, "") != 0) {
        return CADRE_ERECORD;
    }
    long long secs = s_days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + se;
    *out = (double)secs + frac;
    return 0;
}

/*  A copy of a client version without a Python bytes repr wrapper (b'...' or b"..."). */
static char *
s_strip_bytes_repr(const char *v)
{
    size_t len = strlen(v);
    if (len >= 3 && v[0] == 'b' && (v[1] == '\'' || v[1] == '"') && v[len - 1] == v[1]) {
        return xstrndup(v + 2, len - 3);
    }
    return xstrdup(v);
}

/* -------------------------------------------------------------------------------------------
    Feeding */

static int
s_bad(cowrie_t *self, uint64_t *counter, uint64_t line_no, int rc, const char *message)
{
    (*counter)++;
    if (self->n_reported < COWRIE_MAX_REPORTED) {
        cowrie_bad_t *b = &self->reported[self->n_reported++];
        b->line_no = line_no;
        snprintf(b->message, sizeof b->message, "%s", message);
    }
    return rc;
}

/*  The open source of ip (and sensor, when grouping by sensor) for an event at time t,
    opened if new. With flush_idle, a source idle for longer than that before t is closed
    (cowrie_emit_idle emits it) and a new instance opened. */
static s_source_t *
s_source_for(cowrie_t *self, const char *ip, const char *sensor, double t)
{
    bool by_sensor = self->opts.group == COWRIE_GROUP_IP_SENSOR && sensor && sensor[0] &&
                     strlen(sensor) <= S_MAX_SENSOR;
    char *key = by_sensor ? xasprintf("%s@%s", ip, sensor) : xstrdup(ip);
    size_t i = s_map_get(&self->by_key, key);
    uint64_t instance = 0;
    if (i != SIZE_MAX) {
        s_source_t *old = self->slots[i];
        if (!(self->opts.flush_idle > 0 && t - old->last > self->opts.flush_idle)) {
            free(key);
            return old;
        }
        old->closed = true;
        instance = old->instance;
        s_map_del(&self->by_key, key);
    } else {
        size_t emitted = s_map_get(&self->returns, key);
        instance = emitted == SIZE_MAX ? 0 : (uint64_t)emitted;
    }
    s_source_t *src = xcalloc(1, sizeof *src);
    src->key = key;
    src->ip = xstrdup(ip);
    src->serial = self->serial++;
    src->instance = instance + 1;
    src->last = -INFINITY;
    if (self->n_free > 0) {
        i = self->free_slots[--self->n_free];
    } else {
        xgrow(&self->slots, &self->cap, self->n_slots + 1);
        i = self->n_slots++;
    }
    self->slots[i] = src;
    s_map_put(&self->by_key, key, i);
    self->open++;
    if (self->open > self->open_peak) {
        self->open_peak = self->open;
    }
    return src;
}

/*  The session named id of src, opened at time t if new; NULL when src is at
    OBS_MAX_SESSIONS (a session left out so is counted once). */
static s_session_t *
s_session_for(cowrie_t *self, s_source_t *src, const char *id, double t)
{
    size_t i = s_map_get(&src->by_session, id);
    if (i != SIZE_MAX) {
        return &src->sessions[i];
    }
    if (src->n_sessions >= OBS_MAX_SESSIONS) {
        if (s_map_get(&src->dropped, id) == SIZE_MAX) {
            s_map_put(&src->dropped, id, 0);
            self->dropped[COWRIE_DROP_SESSIONS]++;
        }
        return NULL;
    }
    xgrow(&src->sessions, &src->cap, src->n_sessions + 1);
    s_session_t *ss = &src->sessions[src->n_sessions];
    memset(ss, 0, sizeof *ss);
    ss->id = xstrdup(id);
    ss->first = t;
    ss->last = t;
    ss->src_port = -1;
    ss->connect_t = t;
    s_map_put(&src->by_session, id, src->n_sessions);
    src->n_sessions++;
    self->sessions++;
    return ss;
}

/*  Appends an event with strings a and b (taken over; either may be NULL), limit or not. */
static void
s_push(cowrie_t *self, s_session_t *ss, double t, s_kind_t kind, char *a, char *b,
       ukc_phase_t phase)
{
    xgrow(&ss->events, &ss->cap, ss->n_events + 1);
    ss->events[ss->n_events++] =
        (s_event_t){.t = t, .seq = self->seq++, .kind = kind, .a = a, .b = b, .phase = phase};
}

/*  True when value (with its one-letter prefix, "h:" or "p:") is evidence not yet kept
    past the session's event limit; it is then noted as kept. NULL is never new. */
static bool
s_new_evidence(s_session_t *ss, const char *prefix, const char *value)
{
    if (!value) {
        return false;
    }
    char *key = xasprintf("%s%s", prefix, value);
    bool fresh = s_map_get(&ss->over, key) == SIZE_MAX;
    if (fresh) {
        s_map_put(&ss->over, key, 0);
    }
    free(key);
    return fresh;
}

/*  Keeps a non-command event with strings a and b (taken over; either may be NULL). Past
    COWRIE_MAX_EVENTS only a file transfer bringing a hash or host not kept past the limit
    yet is kept; everything else is counted as dropped. */
static void
s_keep(cowrie_t *self, s_session_t *ss, double t, s_kind_t kind, char *a, char *b)
{
    if (ss->n_events < COWRIE_MAX_EVENTS) {
        s_push(self, ss, t, kind, a, b, UKC_NONE);
        return;
    }
    if (kind == S_EV_DOWNLOAD || kind == S_EV_UPLOAD) {
        bool fresh_hash = s_new_evidence(ss, "p:", a);
        bool fresh_host = s_new_evidence(ss, "h:", b);
        if (fresh_hash || fresh_host) {
            s_push(self, ss, t, kind, a, b, UKC_NONE);
            return;
        }
    }
    bool pair = (kind == S_EV_LOGIN || kind == S_EV_PUBKEY) && a && b;
    self->dropped[pair ? COWRIE_DROP_CREDENTIALS : COWRIE_DROP_EVENTS]++;
    free(a);
    free(b);
}

/*  True when a command.failed / .success text repeats the session's last command.input
    (Cowrie logs a failed command on top of its input line): the last kept input among the
    latest events, or the last one whose text was not kept. */
static bool
s_repeats_input(const s_session_t *ss, const char *text)
{
    if (ss->has_input_hash && ss->input_hash == XXH3_64bits(text, strlen(text))) {
        return true;
    }
    for (size_t k = ss->n_events; k > 0 && k + 8 > ss->n_events; k--) {
        const s_event_t *e = &ss->events[k - 1];
        if (e->kind == S_EV_COMMAND) {
            return strcmp(e->a, text) == 0;
        }
    }
    return false;
}

/*  Keeps a command event (S_EV_COMMAND for command.input, S_EV_COMMAND_ALSO for .failed /
    .success) of text (borrowed). Within COWRIE_MAX_EVENTS a text of at most OBS_MAX_TEXT
    bytes is kept as it is. Otherwise the text is dropped (counted: a value when too long,
    else a command; a .failed / .success repeating its input line is no command of its own),
    but the C2 host the command names is kept as an S_EV_C2 event (past the limit: a host
    not kept past the limit yet), so a cap never hides a command's evidence. */
static void
s_command(cowrie_t *self, s_session_t *ss, double t, s_kind_t kind, const char *text)
{
    bool full = ss->n_events >= COWRIE_MAX_EVENTS;
    size_t len = strlen(text);
    bool fits = len <= OBS_MAX_TEXT;
    if (!full && fits) {
        s_push(self, ss, t, kind, xstrdup(text), NULL, UKC_NONE);
        return;
    }
    if (kind == S_EV_COMMAND_ALSO && s_repeats_input(ss, text)) {
        return;
    }
    if (kind == S_EV_COMMAND) {
        ss->input_hash = XXH3_64bits(text, len);
        ss->has_input_hash = true;
    }
    self->dropped[fits ? COWRIE_DROP_COMMANDS : COWRIE_DROP_VALUES]++;
    char *host = NULL;
    ukc_phase_t phase = cmdrule_phase(text, &host);
    if (host && (!full || s_new_evidence(ss, "h:", host))) {
        s_push(self, ss, t, S_EV_C2, NULL, host, phase);
    } else {
        free(host);
    }
}

/*  Takes *s over when it is present and at most max bytes; else NULL (*s is left). A
    present value over max is counted as dropped. */
static char *
s_take(cowrie_t *self, char **s, size_t max)
{
    char *v = *s;
    if (!v) {
        return NULL;
    }
    if (strlen(v) > max) {
        self->dropped[COWRIE_DROP_VALUES]++;
        return NULL;
    }
    *s = NULL;
    return v;
}

/*  The command text of a cowrie.command.input event: "input", or for old Cowrie versions
    that log only a message, the text after "CMD: ". Borrowed from ev, or NULL. */
static const char *
s_command_text(const jsonio_cowrie_event_t *ev)
{
    if (ev->input) {
        return ev->input;
    }
    if (ev->message && strncmp(ev->message, "CMD: ", 5) == 0) {
        return ev->message + 5;
    }
    return NULL;
}

/*  Applies one well-formed event. */
static void
s_apply(cowrie_t *self, jsonio_cowrie_event_t *ev, double t)
{
    s_source_t *src = s_source_for(self, ev->src_ip, ev->sensor, t);
    if (t > src->last) {
        src->last = t;
    }
    if (t > self->now) {
        self->now = t;
    }
    s_session_t *ss = s_session_for(self, src, ev->session, t);
    if (!ss) {
        return;
    }
    if (t < ss->first) {
        ss->first = t;
    }
    if (t > ss->last) {
        ss->last = t;
    }
    if (!ss->decky && ev->sensor) {
        ss->decky = s_take(self, &ev->sensor, OBS_MAX_SHORT);
    }
    const char *id = ev->eventid;
    if (strcmp(id, "cowrie.session.closed") == 0) {
        ss->closed = true;
    } else if (strcmp(id, "cowrie.session.connect") == 0) {
        ss->connected = true;
        if (ev->src_port >= 0 && ss->src_port < 0) {
            ss->src_port = ev->src_port;
            ss->connect_t = t;
        }
    } else if (strcmp(id, "cowrie.command.input") == 0) {
        const char *cmd = s_command_text(ev);
        if (cmd) {
            s_command(self, ss, t, S_EV_COMMAND, cmd);
        }
    } else if (strcmp(id, "cowrie.command.failed") == 0 ||
               strcmp(id, "cowrie.command.success") == 0) {
        if (ev->input) {
            s_command(self, ss, t, S_EV_COMMAND_ALSO, ev->input);
        }
    } else if (strcmp(id, "cowrie.login.failed") == 0 || strcmp(id, "cowrie.login.success") == 0) {
        /* A login without a username or password still counts as an attempt (for the
           phase) but contributes no credential pair. */
        char *user = s_take(self, &ev->username, OBS_MAX_TEXT);
        s_keep(self, ss, t, S_EV_LOGIN, user, s_take(self, &ev->password, OBS_MAX_TEXT));
    } else if (strcmp(id, "cowrie.client.fingerprint") == 0) {
        /* A public-key login attempt: the key's fingerprint stands in for the password. */
        char *fp = s_take(self, &ev->fingerprint, OBS_MAX_SHORT);
        char *pass = fp ? xasprintf("publickey:%s", fp) : NULL;
        free(fp);
        char *user = s_take(self, &ev->username, OBS_MAX_TEXT);
        s_keep(self, ss, t, S_EV_PUBKEY, user ? user : xstrdup(""), pass);
    } else if (strcmp(id, "cowrie.session.file_download") == 0 ||
               strcmp(id, "cowrie.session.file_download.failed") == 0) {
        bool too_long = false;
        char *host = ev->url ? cmdrule_url_host(ev->url, &too_long) : NULL;
        if (too_long) {
            self->dropped[COWRIE_DROP_VALUES]++;
        }
        s_keep(self, ss, t, S_EV_DOWNLOAD, s_take(self, &ev->shasum, OBS_MAX_SHORT), host);
    } else if (strcmp(id, "cowrie.session.file_upload") == 0) {
        s_keep(self, ss, t, S_EV_UPLOAD, s_take(self, &ev->shasum, OBS_MAX_SHORT), NULL);
    } else if (strcmp(id, "cowrie.direct-tcpip.request") == 0) {
        s_keep(self, ss, t, S_EV_TUNNEL, NULL, NULL);
    } else if (strcmp(id, "cowrie.client.kex") == 0) {
        if (!src->hassh && ev->hassh) {
            src->hassh = s_take(self, &ev->hassh, OBS_MAX_FINGERPRINT);
        }
    } else if (strcmp(id, "cowrie.client.version") == 0) {
        if (ev->version) {
            free(src->version);
            src->version = s_strip_bytes_repr(ev->version);
        }
        if (!src->hassh_legacy && ev->kex_algs && ev->enc_cs && ev->mac_cs && ev->comp_cs) {
            char *algs =
                xasprintf("%s;%s;%s;%s", ev->kex_algs, ev->enc_cs, ev->mac_cs, ev->comp_cs);
            src->hassh_legacy = xmalloc(DIGEST_MD5_HEX);
            digest_md5_hex(algs, strlen(algs), src->hassh_legacy);
            free(algs);
        }
    }
}

static bool
s_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') {
            return false;
        }
    }
    return true;
}

int
cowrie_feed(cowrie_t *self, const char *line, size_t len, uint64_t line_no)
{
    self->lines++;
    if (s_blank(line, len)) {
        return 0;
    }
    jsonio_cowrie_event_t ev;
    obs_error_t err;
    int rc = jsonio_cowrie_event(line, len, line_no, &ev, &err);
    if (rc != 0) {
        return s_bad(self, &self->bad, line_no, rc, err.message);
    }
    if (!ev.sensor && self->opts.decky) {
        ev.sensor = xstrdup(self->opts.decky);
    }
    const char *missing = !ev.eventid     ? "eventid"
                          : !ev.src_ip    ? "src_ip"
                          : !ev.session   ? "session"
                          : !ev.timestamp ? "timestamp"
                                          : NULL;
    char message[96];
    double t = 0.0;
    if (missing) {
        snprintf(message, sizeof message, "event has no string field '%s'", missing);
        rc = s_bad(self, &self->bad, line_no, CADRE_ERECORD, message);
    } else if (cowrie_parse_time(ev.timestamp, &t) != 0) {
        rc = s_bad(self, &self->bad, line_no, CADRE_ERECORD,
                   "field 'timestamp' is not an ISO-8601 UTC time");
    } else if (strlen(ev.src_ip) == 0 || strlen(ev.src_ip) > S_MAX_IP) {
        rc = s_bad(self, &self->bad, line_no, CADRE_ERECORD, "field 'src_ip' is empty or too long");
    } else if (strlen(ev.session) > COWRIE_MAX_SESSION_ID) {
        rc = s_bad(self, &self->bad, line_no, CADRE_ERECORD, "field 'session' is too long");
    } else {
        s_apply(self, &ev, t);
    }
    jsonio_cowrie_event_clear(&ev);
    return rc;
}

int
cowrie_bad_line(cowrie_t *self, uint64_t line_no, const char *message)
{
    self->lines++;
    return s_bad(self, &self->bad, line_no, CADRE_ERECORD, message);
}

int
cowrie_event_time(const char *line, size_t len, double *t)
{
    jsonio_cowrie_event_t ev;
    obs_error_t err;
    if (jsonio_cowrie_event(line, len, 0, &ev, &err) != 0) {
        return CADRE_ERECORD;
    }
    int rc = ev.timestamp ? cowrie_parse_time(ev.timestamp, t) : CADRE_ERECORD;
    jsonio_cowrie_event_clear(&ev);
    return rc;
}

int
cowrie_fatt_feed(cowrie_t *self, const char *line, size_t len, uint64_t line_no)
{
    self->fatt_lines++;
    if (s_blank(line, len)) {
        return 0;
    }
    jsonio_fatt_record_t rec;
    obs_error_t err;
    int rc = jsonio_fatt_record(line, len, line_no, &rec, &err);
    if (rc != 0) {
        return s_bad(self, &self->fatt_bad, line_no, rc, err.message);
    }
    char *hassh = s_take(self, &rec.hassh, OBS_MAX_FINGERPRINT);
    char *ja3 = s_take(self, &rec.ja3, OBS_MAX_FINGERPRINT);
    if (rec.src_ip && strlen(rec.src_ip) <= S_MAX_IP && rec.src_port >= 0 && (hassh || ja3)) {
        double t = NAN;
        if (rec.timestamp && cowrie_parse_time(rec.timestamp, &t) != 0) {
            t = NAN;
        }
        char *key = xasprintf("%s\x1f%ld", rec.src_ip, rec.src_port);
        xgrow(&self->fatt, &self->fatt_cap, self->n_fatt + 1);
        self->fatt[self->n_fatt] = (s_fatt_t){
            .t = t, .hassh = hassh, .ja3 = ja3, .prev = s_map_get(&self->fatt_by_conn, key)};
        s_map_put(&self->fatt_by_conn, key, self->n_fatt);
        self->n_fatt++;
        free(key);
    } else {
        free(hassh);
        free(ja3);
    }
    jsonio_fatt_record_clear(&rec);
    return 0;
}

/* -------------------------------------------------------------------------------------------
    Building */

static int
s_event_cmp(const void *pa, const void *pb)
{
    const s_event_t *a = pa;
    const s_event_t *b = pb;
    if (a->t != b->t) {
        return a->t < b->t ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*  The fatt record joined to a session of ip: same (ip, src_port), closest in time within
    COWRIE_FATT_WINDOW (a record without a time counts as at the window's edge); or NULL. */
static const s_fatt_t *
s_fatt_for(const cowrie_t *self, const char *ip, const s_session_t *ss)
{
    if (ss->src_port < 0 || self->n_fatt == 0) {
        return NULL;
    }
    char *key = xasprintf("%s\x1f%ld", ip, ss->src_port);
    const s_fatt_t *best = NULL;
    double best_d = INFINITY;
    for (size_t i = s_map_get(&self->fatt_by_conn, key); i != SIZE_MAX; i = self->fatt[i].prev) {
        const s_fatt_t *f = &self->fatt[i];
        double d = isnan(f->t) ? COWRIE_FATT_WINDOW : fabs(f->t - ss->connect_t);
        if (d <= COWRIE_FATT_WINDOW && d < best_d) {
            best = f;
            best_d = d;
        }
    }
    free(key);
    return best;
}

/*  The phase of one sorted event (UKC_NONE: it joins the run it falls in), with its C2
    host (owned) in *host. inputs holds the session's command.input texts. */
static ukc_phase_t
s_event_phase(s_event_t *e, const s_map_t *inputs, char **host)
{
    *host = NULL;
    switch (e->kind) {
    case S_EV_COMMAND_ALSO:
        /* .failed/.success repeat (part of) an input line; such a repeat is dropped. */
        if (s_map_get(inputs, e->a) != SIZE_MAX) {
            e->kind = S_EV_DROPPED;
            return UKC_NONE;
        }
        return cmdrule_phase(e->a, host);
    case S_EV_COMMAND:
        return cmdrule_phase(e->a, host);
    case S_EV_LOGIN:
    case S_EV_PUBKEY:
        return UKC_CREDENTIAL_ACCESS;
    case S_EV_DOWNLOAD:
        return e->b ? UKC_COMMAND_AND_CONTROL : UKC_NONE;
    case S_EV_UPLOAD:
        return UKC_DELIVERY;
    case S_EV_TUNNEL:
        return UKC_PIVOTING;
    case S_EV_C2:
        return e->phase;
    case S_EV_DROPPED:
        break;
    }
    return UKC_NONE;
}

/*  Appends the cadre session made of events [begin, end) of ss (the k-th run, 0-based). */
static void
s_add_run(cowrie_t *self, const s_session_t *ss, size_t begin, size_t end, size_t k, bool last,
          ukc_phase_t phase, char **hosts, obs_t *obs)
{
    obs_session_t *out = obs_add_session(obs);
    /* A session only partly in this part is named after the part, so no other part's
       share of it gets the same id (cowrie_set_part). */
    char *base = self->part && !(ss->connected && ss->closed)
                     ? xasprintf("%s@%s", ss->id, self->part)
                     : xstrdup(ss->id);
    if (k == 0) {
        out->id = base;
    } else {
        out->id = xasprintf("%s#%zu", base, k + 1);
        free(base);
    }
    out->decky = ss->decky ? xstrdup(ss->decky) : NULL;
    out->phase = phase == UKC_NONE ? UKC_RECONNAISSANCE : phase;
    out->start = k == 0 || begin >= end ? ss->first : ss->events[begin].t;
    double stop = last || begin >= end ? ss->last : ss->events[end - 1].t;
    out->duration = stop > out->start ? stop - out->start : 0.0;
    size_t cap_cmd = 0, cap_cred = 0;
    for (size_t i = begin; i < end; i++) {
        const s_event_t *e = &ss->events[i];
        const char *c2 = hosts[i];
        switch (e->kind) {
        case S_EV_COMMAND:
        case S_EV_COMMAND_ALSO:
            if (out->n_commands < OBS_MAX_ITEMS) {
                xgrow(&out->commands, &cap_cmd, out->n_commands + 1);
                out->commands[out->n_commands++] = xstrdup(e->a);
            } else {
                self->dropped[COWRIE_DROP_COMMANDS]++; /* its C2 host still counts (above) */
            }
            break;
        case S_EV_LOGIN:
        case S_EV_PUBKEY:
            if (e->a && e->b && out->n_creds < OBS_MAX_ITEMS) {
                xgrow(&out->creds, &cap_cred, out->n_creds + 1);
                out->creds[out->n_creds].user = xstrdup(e->a);
                out->creds[out->n_creds].pass = xstrdup(e->b);
                out->n_creds++;
            } else if (e->a && e->b) {
                self->dropped[COWRIE_DROP_CREDENTIALS]++;
            }
            break;
        case S_EV_C2:
            c2 = e->b;
            break;
        case S_EV_DOWNLOAD:
        case S_EV_UPLOAD:
            if (!out->payload_hash && e->a) {
                out->payload_hash = xstrdup(e->a);
            }
            c2 = e->b;
            break;
        case S_EV_DROPPED:
        case S_EV_TUNNEL:
            break;
        }
        if (!out->c2 && c2) {
            out->c2 = xstrdup(c2);
        }
    }
    self->cadre_sessions++;
}

/*  Appends the cadre sessions of ss (whose events it sorts) to obs: one per maximal run of
    events of one phase, events without a phase joining the run they fall in, and at most
    max_runs (>= 1) of them: past that, a run joins the one before it (counted as a split
    dropped) and the joined run keeps the phase of its first phased event. */
static void
s_build_session(cowrie_t *self, s_session_t *ss, size_t max_runs, obs_t *obs)
{
    size_t n = ss->n_events;
    if (n > 1) {
        qsort(ss->events, n, sizeof *ss->events, s_event_cmp);
    }
    s_map_t inputs = {0};
    for (size_t i = 0; i < n; i++) {
        if (ss->events[i].kind == S_EV_COMMAND && s_map_get(&inputs, ss->events[i].a) == SIZE_MAX) {
            s_map_put(&inputs, ss->events[i].a, i);
        }
    }
    ukc_phase_t *phases = xcalloc(n + 1, sizeof *phases);
    char **hosts = xcalloc(n + 1, sizeof *hosts);
    for (size_t i = 0; i < n; i++) {
        phases[i] = s_event_phase(&ss->events[i], &inputs, &hosts[i]);
    }
    s_map_clear(&inputs);
    size_t begin = 0, k = 0;
    ukc_phase_t cur = UKC_NONE;  /* the phase of the run being built */
    ukc_phase_t last = UKC_NONE; /* the phase of the latest phased event */
    for (size_t i = 0; i <= n; i++) {
        bool boundary = i < n && phases[i] != UKC_NONE && last != UKC_NONE && phases[i] != last;
        if (boundary && k + 1 >= max_runs) {
            self->dropped[COWRIE_DROP_SPLITS]++;
            boundary = false;
        }
        if (i == n || boundary) {
            s_add_run(self, ss, begin, i, k++, i == n, cur, hosts, obs);
            begin = i;
            cur = UKC_NONE;
        }
        if (i < n && phases[i] != UKC_NONE) {
            last = phases[i];
            cur = cur == UKC_NONE ? phases[i] : cur;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(hosts[i]);
    }
    free(hosts);
    free(phases);
}

static obs_t *
s_build(cowrie_t *self, s_source_t *src)
{
    obs_t *obs = obs_new();
    obs->id = src->instance > 1
                  ? xasprintf("cowrie:%s~%llu", src->key, (unsigned long long)src->instance)
                  : xasprintf("cowrie:%s", src->key);
    obs->ip = xstrdup(src->ip);
    const char *fatt_hassh = NULL, *ja3 = NULL;
    for (size_t i = 0; i < src->n_sessions; i++) {
        const s_fatt_t *f = s_fatt_for(self, src->ip, &src->sessions[i]);
        if (f) {
            self->fatt_joined++;
            fatt_hassh = fatt_hassh ? fatt_hassh : f->hassh;
            ja3 = ja3 ? ja3 : f->ja3;
        }
    }
    const char *hassh = src->hassh ? src->hassh : fatt_hassh ? fatt_hassh : src->hassh_legacy;
    obs->hassh = hassh ? xstrdup(hassh) : NULL;
    obs->ja3 = ja3 ? xstrdup(ja3) : NULL;
    /* Every Cowrie session gets at least one cadre session, and the splits fit in
       OBS_MAX_SESSIONS: session i may make as many runs as leave one for each after it. */
    for (size_t i = 0; i < src->n_sessions; i++) {
        size_t after = src->n_sessions - i - 1;
        s_build_session(self, &src->sessions[i], OBS_MAX_SESSIONS - obs->n_sessions - after, obs);
    }
    return obs;
}

/*  Builds the source in slot i, hands it to sink and forgets it. */
static int
s_emit(cowrie_t *self, size_t i, cowrie_sink_fn sink, void *arg)
{
    s_source_t *src = self->slots[i];
    obs_t *obs = s_build(self, src);
    size_t emitted = s_map_get(&self->returns, src->key);
    if (self->opts.flush_idle > 0 && (emitted == SIZE_MAX || emitted < src->instance)) {
        s_map_put(&self->returns, src->key, (size_t)src->instance);
    }
    self->observations++;
    int rc = sink(obs, arg);
    obs_destroy(&obs);
    s_source_drop(self, i);
    return rc;
}

/*  An open source picked for emission. */
typedef struct {
    uint64_t serial; /* its first-seen serial */
    size_t slot;     /* its slot */
} s_pick_t;

static int
s_pick_cmp(const void *pa, const void *pb)
{
    const s_pick_t *a = pa;
    const s_pick_t *b = pb;
    return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/*  Emits the open sources last seen before limit (all with INFINITY) in first-seen order. */
static int
s_emit_before(cowrie_t *self, double limit, cowrie_sink_fn sink, void *arg)
{
    s_pick_t *pick = xcalloc(self->n_slots + 1, sizeof *pick);
    size_t n = 0;
    for (size_t i = 0; i < self->n_slots; i++) {
        if (self->slots[i] && (self->slots[i]->last < limit || self->slots[i]->closed)) {
            pick[n++] = (s_pick_t){.serial = self->slots[i]->serial, .slot = i};
        }
    }
    qsort(pick, n, sizeof *pick, s_pick_cmp);
    int rc = 0;
    for (size_t j = 0; j < n; j++) {
        if (rc == 0) {
            rc = s_emit(self, pick[j].slot, sink, arg);
        } else {
            s_source_drop(self, pick[j].slot);
        }
    }
    free(pick);
    return rc;
}

int
cowrie_emit_idle(cowrie_t *self, cowrie_sink_fn sink, void *arg)
{
    if (!(self->opts.flush_idle > 0) || self->now < self->scanned + 1.0) {
        return 0;
    }
    self->scanned = self->now;
    return s_emit_before(self, self->now - self->opts.flush_idle, sink, arg);
}

void
cowrie_set_part(cowrie_t *self, const char *tag)
{
    free(self->part);
    self->part = tag ? xstrndup(tag, strnlen(tag, COWRIE_MAX_PART_TAG)) : NULL;
}

int
cowrie_finish(cowrie_t *self, cowrie_sink_fn sink, void *arg)
{
    return s_emit_before(self, INFINITY, sink, arg);
}

/* -------------------------------------------------------------------------------------------
    The rule table (common/cmdrule.c) */

ukc_phase_t
cowrie_command_phase(const char *cmd, char **c2_p)
{
    return cmdrule_phase(cmd, c2_p);
}

size_t
cowrie_rule_count(void)
{
    return cmdrule_count();
}

const cowrie_rule_t *
cowrie_rule_at(size_t i)
{
    return cmdrule_at(i);
}

/* -------------------------------------------------------------------------------------------
    Accessors */

uint64_t
cowrie_lines(const cowrie_t *self)
{
    return self->lines;
}

uint64_t
cowrie_bad(const cowrie_t *self)
{
    return self->bad;
}

uint64_t
cowrie_sessions(const cowrie_t *self)
{
    return self->sessions;
}

uint64_t
cowrie_cadre_sessions(const cowrie_t *self)
{
    return self->cadre_sessions;
}

uint64_t
cowrie_observations(const cowrie_t *self)
{
    return self->observations;
}

size_t
cowrie_open(const cowrie_t *self)
{
    return self->open;
}

size_t
cowrie_open_peak(const cowrie_t *self)
{
    return self->open_peak;
}

uint64_t
cowrie_fatt_lines(const cowrie_t *self)
{
    return self->fatt_lines;
}

uint64_t
cowrie_fatt_bad(const cowrie_t *self)
{
    return self->fatt_bad;
}

uint64_t
cowrie_fatt_records(const cowrie_t *self)
{
    return self->n_fatt;
}

uint64_t
cowrie_fatt_joined(const cowrie_t *self)
{
    return self->fatt_joined;
}

uint64_t
cowrie_dropped(const cowrie_t *self, cowrie_drop_t kind)
{
    return kind >= 0 && kind < COWRIE_DROP_KINDS ? self->dropped[kind] : 0;
}

const char *
cowrie_drop_name(cowrie_drop_t kind)
{
    static const char *const names[COWRIE_DROP_KINDS] = {
        [COWRIE_DROP_SESSIONS] = "sessions", [COWRIE_DROP_SPLITS] = "splits",
        [COWRIE_DROP_COMMANDS] = "commands", [COWRIE_DROP_CREDENTIALS] = "credentials",
        [COWRIE_DROP_EVENTS] = "events",     [COWRIE_DROP_VALUES] = "values",
    };
    return kind >= 0 && kind < COWRIE_DROP_KINDS ? names[kind] : NULL;
}

size_t
cowrie_bad_reported(const cowrie_t *self)
{
    return self->n_reported;
}

const cowrie_bad_t *
cowrie_bad_at(const cowrie_t *self, size_t i)
{
    return i < self->n_reported ? &self->reported[i] : NULL;
}

const char *
cowrie_client_version(const cowrie_t *self, const char *key)
{
    size_t i = s_map_get(&self->by_key, key);
    return i == SIZE_MAX ? NULL : self->slots[i]->version;
}
