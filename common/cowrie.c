/*  cowrie.c - the Cowrie adapter (see cowrie.h and docs/cowrie.md).

    Sources live in an array in first-seen order; each owns its sessions, and each session
    owns the few events that carry content (commands, logins, files) as small copies. Two
    hash maps (owned keys, XXH3) find a source by IP and a session by "ip \x1f session".
    Times are folded into each session's first/last as events arrive, so order does not
    matter for them; content events are sorted by (time, arrival) when the observation is
    built, which undoes the reordering Cowrie does within one second.
*/
#include "cowrie.h"

#include "digest.h"
#include "err.h"
#include "jsonio.h"
#include "xalloc.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/*  Longest src_ip accepted, so that "cowrie:" + ip fits OBS_MAX_ID. */
#define S_MAX_IP 200
/*  Content events kept per session: enough for OBS_MAX_ITEMS commands and credentials. */
#define S_MAX_EVENTS (2 * (size_t)OBS_MAX_ITEMS)

/*  What a kept event contributes. */
typedef enum {
    S_EV_COMMAND,      /* cowrie.command.input: a: the command */
    S_EV_COMMAND_ALSO, /* cowrie.command.failed / .success: a: the command, if not seen */
    S_EV_LOGIN_FAILED, /* cowrie.login.failed: a: username, b: password */
    S_EV_LOGIN_OK,     /* cowrie.login.success: a: username, b: password */
    S_EV_DOWNLOAD,     /* cowrie.session.file_download: a: shasum, b: url host */
    S_EV_UPLOAD        /* cowrie.session.file_upload: a: shasum */
} s_kind_t;

/*  One kept event. */
typedef struct {
    double t;      /* event time, epoch seconds */
    uint64_t seq;  /* arrival order, so the sort is stable */
    s_kind_t kind; /* what it contributes */
    char *a;       /* first string (see s_kind_t), owned, or NULL */
    char *b;       /* second string, owned, or NULL */
} s_event_t;

/*  One Cowrie session of a source. */
typedef struct {
    char *id;          /* Cowrie session id, owned */
    char *decky;       /* first sensor seen, owned, or NULL */
    double first;      /* earliest event time */
    double last;       /* latest event time */
    s_event_t *events; /* content events, in arrival order */
    size_t n_events;   /* number of events */
    size_t cap;        /* slots in events */
} s_session_t;

/*  One source IP: the future observation. */
typedef struct {
    char *ip;              /* src_ip, owned */
    char *hassh;           /* first cowrie.client.kex hassh, owned, or NULL */
    char *hassh_legacy;    /* HASSH computed from a version event's lists, owned, or NULL */
    char *version;         /* last client version, b'' stripped, owned, or NULL */
    s_session_t *sessions; /* sessions in first-seen order */
    size_t n_sessions;     /* number of sessions */
    size_t cap;            /* slots in sessions */
} s_source_t;

/*  An open-addressing map from an owned string key to an index. */
typedef struct {
    char **keys;   /* slot keys, owned, NULL = empty */
    size_t *vals;  /* slot values */
    size_t n;      /* keys stored */
    size_t n_slot; /* slots, a power of two (0 before first insert) */
} s_map_t;

struct cowrie_t {
    s_source_t *sources;                        /* open sources in first-seen order */
    size_t n_sources;                           /* number of open sources */
    size_t cap;                                 /* slots in sources */
    s_map_t by_ip;                              /* ip -> index in sources */
    s_map_t by_session;                         /* "ip\x1fsession" -> session index */
    uint64_t seq;                               /* events kept so far */
    uint64_t lines;                             /* lines fed */
    uint64_t bad;                               /* bad lines */
    uint64_t sessions;                          /* sessions opened */
    uint64_t observations;                      /* observations emitted */
    cowrie_bad_t reported[COWRIE_MAX_REPORTED]; /* first bad lines */
    size_t n_reported;                          /* entries used in reported */
};

/* -------------------------------------------------------------------------------------------
    The string map */

static size_t
s_map_slot(const s_map_t *m, const char *key)
{
    size_t mask = m->n_slot - 1;
    size_t i = (size_t)XXH3_64bits(key, strlen(key)) & mask;
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

/*  Stores key (copied) -> val; key must not be present yet. */
static void
s_map_put(s_map_t *m, const char *key, size_t val)
{
    if ((m->n + 1) * 4 > m->n_slot * 3) {
        s_map_t grown = {.n_slot = m->n_slot ? m->n_slot * 2 : 64};
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
cowrie_new(void)
{
    return xcalloc(1, sizeof(cowrie_t));
}

static void
s_sources_clear(cowrie_t *self)
{
    for (size_t i = 0; i < self->n_sources; i++) {
        s_source_t *src = &self->sources[i];
        for (size_t j = 0; j < src->n_sessions; j++) {
            s_session_t *ss = &src->sessions[j];
            for (size_t k = 0; k < ss->n_events; k++) {
                free(ss->events[k].a);
                free(ss->events[k].b);
            }
            free(ss->events);
            free(ss->id);
            free(ss->decky);
        }
        free(src->sessions);
        free(src->ip);
        free(src->hassh);
        free(src->hassh_legacy);
        free(src->version);
    }
    free(self->sources);
    self->sources = NULL;
    self->n_sources = 0;
    self->cap = 0;
    s_map_clear(&self->by_ip);
    s_map_clear(&self->by_session);
}

void
cowrie_destroy(cowrie_t **self_p)
{
    assert(self_p);
    cowrie_t *self = *self_p;
    if (!self) {
        return;
    }
    s_sources_clear(self);
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

/*  The host of a URL ("scheme://user@host:port/path" -> "host", "[::1]" -> "::1"), owned,
    or NULL when there is none. */
static char *
s_url_host(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t end = strcspn(p, "/?#");
    const char *at = memchr(p, '@', end);
    while (at) {
        end -= (size_t)(at + 1 - p);
        p = at + 1;
        at = memchr(p, '@', end);
    }
    size_t host_len;
    if (end > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', end);
        if (!close) {
            return NULL;
        }
        p++;
        host_len = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', end);
        host_len = colon ? (size_t)(colon - p) : end;
    }
    if (host_len == 0 || host_len > OBS_MAX_SHORT) {
        return NULL;
    }
    return xstrndup(p, host_len);
}

/* -------------------------------------------------------------------------------------------
    Feeding */

static int
s_bad(cowrie_t *self, uint64_t line_no, int rc, const char *message)
{
    self->bad++;
    if (self->n_reported < COWRIE_MAX_REPORTED) {
        cowrie_bad_t *b = &self->reported[self->n_reported++];
        b->line_no = line_no;
        snprintf(b->message, sizeof b->message, "%s", message);
    }
    return rc;
}

static s_source_t *
s_source_for(cowrie_t *self, const char *ip)
{
    size_t i = s_map_get(&self->by_ip, ip);
    if (i != SIZE_MAX) {
        return &self->sources[i];
    }
    xgrow(&self->sources, &self->cap, self->n_sources + 1);
    s_source_t *src = &self->sources[self->n_sources];
    memset(src, 0, sizeof *src);
    src->ip = xstrdup(ip);
    s_map_put(&self->by_ip, ip, self->n_sources);
    self->n_sources++;
    return src;
}

/*  The session named id of src, opened at time t if new; NULL when src is at
    OBS_MAX_SESSIONS. */
static s_session_t *
s_session_for(cowrie_t *self, s_source_t *src, const char *id, double t)
{
    char *key = xasprintf("%s\x1f%s", src->ip, id);
    size_t i = s_map_get(&self->by_session, key);
    s_session_t *ss = NULL;
    if (i != SIZE_MAX) {
        ss = &src->sessions[i];
    } else if (src->n_sessions < OBS_MAX_SESSIONS) {
        xgrow(&src->sessions, &src->cap, src->n_sessions + 1);
        ss = &src->sessions[src->n_sessions];
        memset(ss, 0, sizeof *ss);
        ss->id = xstrdup(id);
        ss->first = t;
        ss->last = t;
        s_map_put(&self->by_session, key, src->n_sessions);
        src->n_sessions++;
        self->sessions++;
    }
    free(key);
    return ss;
}

/*  Keeps an event with strings a and b (taken over; either may be NULL). */
static void
s_keep(cowrie_t *self, s_session_t *ss, double t, s_kind_t kind, char *a, char *b)
{
    if (ss->n_events >= S_MAX_EVENTS) {
        free(a);
        free(b);
        return;
    }
    xgrow(&ss->events, &ss->cap, ss->n_events + 1);
    ss->events[ss->n_events++] =
        (s_event_t){.t = t, .seq = self->seq++, .kind = kind, .a = a, .b = b};
}

/*  A copy of s when it is present and at most max bytes, else NULL. */
static char *
s_take(char **s, size_t max)
{
    char *v = *s;
    if (!v || strlen(v) > max) {
        return NULL;
    }
    *s = NULL;
    return v;
}

/*  Applies one well-formed event. */
static void
s_apply(cowrie_t *self, jsonio_cowrie_event_t *ev, double t)
{
    s_source_t *src = s_source_for(self, ev->src_ip);
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
    if (!ss->decky && ev->sensor && strlen(ev->sensor) <= OBS_MAX_SHORT) {
        ss->decky = s_take(&ev->sensor, OBS_MAX_SHORT);
    }
    const char *id = ev->eventid;
    if (strcmp(id, "cowrie.command.input") == 0) {
        char *cmd = s_take(&ev->input, OBS_MAX_TEXT);
        if (cmd) {
            s_keep(self, ss, t, S_EV_COMMAND, cmd, NULL);
        }
    } else if (strcmp(id, "cowrie.command.failed") == 0 ||
               strcmp(id, "cowrie.command.success") == 0) {
        char *cmd = s_take(&ev->input, OBS_MAX_TEXT);
        if (cmd) {
            s_keep(self, ss, t, S_EV_COMMAND_ALSO, cmd, NULL);
        }
    } else if (strcmp(id, "cowrie.login.failed") == 0 || strcmp(id, "cowrie.login.success") == 0) {
        s_kind_t kind = id[13] == 'f' ? S_EV_LOGIN_FAILED : S_EV_LOGIN_OK;
        /* A login without a username or password still counts as an attempt (for the
           phase) but contributes no credential pair. */
        s_keep(self, ss, t, kind, s_take(&ev->username, OBS_MAX_TEXT),
               s_take(&ev->password, OBS_MAX_TEXT));
    } else if (strcmp(id, "cowrie.session.file_download") == 0) {
        char *host = ev->url ? s_url_host(ev->url) : NULL;
        s_keep(self, ss, t, S_EV_DOWNLOAD, s_take(&ev->shasum, OBS_MAX_SHORT), host);
    } else if (strcmp(id, "cowrie.session.file_upload") == 0) {
        s_keep(self, ss, t, S_EV_UPLOAD, s_take(&ev->shasum, OBS_MAX_SHORT), NULL);
    } else if (strcmp(id, "cowrie.client.kex") == 0) {
        if (!src->hassh && ev->hassh && strlen(ev->hassh) <= OBS_MAX_FINGERPRINT) {
            src->hassh = s_take(&ev->hassh, OBS_MAX_FINGERPRINT);
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

int
cowrie_feed(cowrie_t *self, const char *line, size_t len, uint64_t line_no)
{
    self->lines++;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n')) {
        i++;
    }
    if (i == len) {
        return 0;
    }
    jsonio_cowrie_event_t ev;
    obs_error_t err;
    int rc = jsonio_cowrie_event(line, len, line_no, &ev, &err);
    if (rc != 0) {
        return s_bad(self, line_no, rc, err.message);
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
        rc = s_bad(self, line_no, CADRE_ERECORD, message);
    } else if (cowrie_parse_time(ev.timestamp, &t) != 0) {
        rc = s_bad(self, line_no, CADRE_ERECORD, "timestamp is not an ISO-8601 UTC time");
    } else if (strlen(ev.src_ip) == 0 || strlen(ev.src_ip) > S_MAX_IP) {
        rc = s_bad(self, line_no, CADRE_ERECORD, "src_ip is empty or too long");
    } else if (strlen(ev.session) > OBS_MAX_ID) {
        rc = s_bad(self, line_no, CADRE_ERECORD, "session id is too long");
    } else {
        s_apply(self, &ev, t);
    }
    jsonio_cowrie_event_clear(&ev);
    return rc;
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

static bool
s_has_any(const char *cmd, const char *const *needles)
{
    for (size_t i = 0; needles[i]; i++) {
        if (strstr(cmd, needles[i])) {
            return true;
        }
    }
    return false;
}

/*  The phase rule table (docs/cowrie.md); the first row that matches wins. */
static const char *const s_c2_words[] = {"wget", "curl", "tftp", NULL};
static const char *const s_persist_words[] = {"authorized_keys", "crontab", "chpasswd", NULL};
static const char *const s_discover_words[] = {"uname",         "whoami", "/proc/cpuinfo",
                                               "/proc/meminfo", "nproc",  "lscpu",
                                               "ifconfig",      "free -", NULL};

static ukc_phase_t
s_phase(const s_session_t *ss, const obs_session_t *out)
{
    bool login = false, upload = false, url = false;
    for (size_t i = 0; i < ss->n_events; i++) {
        const s_event_t *e = &ss->events[i];
        login |= e->kind == S_EV_LOGIN_FAILED || e->kind == S_EV_LOGIN_OK;
        upload |= e->kind == S_EV_UPLOAD;
        url |= e->kind == S_EV_DOWNLOAD && e->b;
    }
    bool c2 = url, persist = false, discover = false;
    for (size_t i = 0; i < out->n_commands; i++) {
        c2 |= s_has_any(out->commands[i], s_c2_words);
        persist |= s_has_any(out->commands[i], s_persist_words);
        discover |= s_has_any(out->commands[i], s_discover_words);
    }
    if (c2) {
        return UKC_COMMAND_AND_CONTROL;
    }
    if (persist) {
        return UKC_PERSISTENCE;
    }
    if (discover) {
        return UKC_DISCOVERY;
    }
    if (out->n_commands > 0) {
        return UKC_EXECUTION;
    }
    if (upload) {
        return UKC_DELIVERY;
    }
    if (login) {
        return UKC_CREDENTIAL_ACCESS;
    }
    return UKC_RECONNAISSANCE;
}

static bool
s_has_command(const obs_session_t *out, const char *cmd)
{
    for (size_t i = 0; i < out->n_commands; i++) {
        if (strcmp(out->commands[i], cmd) == 0) {
            return true;
        }
    }
    return false;
}

/*  Fills out from ss (whose events it sorts). */
static void
s_build_session(s_session_t *ss, obs_session_t *out)
{
    if (ss->n_events > 1) {
        qsort(ss->events, ss->n_events, sizeof *ss->events, s_event_cmp);
    }
    out->id = xstrdup(ss->id);
    out->decky = ss->decky ? xstrdup(ss->decky) : NULL;
    out->start = ss->first;
    out->duration = ss->last - ss->first;
    size_t cap_cmd = 0, cap_cred = 0;
    for (size_t i = 0; i < ss->n_events; i++) {
        const s_event_t *e = &ss->events[i];
        switch (e->kind) {
        case S_EV_COMMAND:
        case S_EV_COMMAND_ALSO:
            /* .failed/.success repeat (part of) an input line; keep them only when no
               .input event of the session carried the same text. */
            if (out->n_commands < OBS_MAX_ITEMS &&
                (e->kind == S_EV_COMMAND || !s_has_command(out, e->a))) {
                xgrow(&out->commands, &cap_cmd, out->n_commands + 1);
                out->commands[out->n_commands++] = xstrdup(e->a);
            }
            break;
        case S_EV_LOGIN_FAILED:
        case S_EV_LOGIN_OK:
            if (e->a && e->b && out->n_creds < OBS_MAX_ITEMS) {
                xgrow(&out->creds, &cap_cred, out->n_creds + 1);
                out->creds[out->n_creds].user = xstrdup(e->a);
                out->creds[out->n_creds].pass = xstrdup(e->b);
                out->n_creds++;
            }
            break;
        case S_EV_DOWNLOAD:
        case S_EV_UPLOAD:
            if (!out->payload_hash && e->a) {
                out->payload_hash = xstrdup(e->a);
            }
            if (!out->c2 && e->b) {
                out->c2 = xstrdup(e->b);
            }
            break;
        }
    }
    out->phase = s_phase(ss, out);
}

static obs_t *
s_build(s_source_t *src)
{
    obs_t *obs = obs_new();
    obs->id = xasprintf("cowrie:%s", src->ip);
    obs->ip = xstrdup(src->ip);
    const char *hassh = src->hassh ? src->hassh : src->hassh_legacy;
    obs->hassh = hassh ? xstrdup(hassh) : NULL;
    for (size_t i = 0; i < src->n_sessions; i++) {
        s_build_session(&src->sessions[i], obs_add_session(obs));
    }
    return obs;
}

int
cowrie_finish(cowrie_t *self, cowrie_sink_fn sink, void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < self->n_sources && rc == 0; i++) {
        obs_t *obs = s_build(&self->sources[i]);
        self->observations++;
        rc = sink(obs, arg);
        obs_destroy(&obs);
    }
    s_sources_clear(self);
    return rc;
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
cowrie_observations(const cowrie_t *self)
{
    return self->observations;
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
cowrie_client_version(const cowrie_t *self, const char *src_ip)
{
    size_t i = s_map_get(&self->by_ip, src_ip);
    return i == SIZE_MAX ? NULL : self->sources[i].version;
}
