/*  decnet.c - the DECNET adapter (see decnet.h and docs/decnet.md).

    Addresses, decky names, HOSTNAMEs and service names are interned once (strtab) and
    events refer to them by id. Each address id points at its open source, if any; open
    sources are also kept in a list, with a first-seen serial that orders emission. A source
    owns its events (small fixed records plus copies of the strings a cadre session keeps:
    commands, credentials, hashes), its first fingerprint value per kind, its truth labels
    and, for generated input, the session ids of cadre's extension element. Nothing is
    grouped while lines arrive: when an observation is built, its events are sorted by
    (time, arrival), walked once to assign sessions (by carried id, or by (decky, service)
    within the session gap), and each session is cut into runs of one phase, as
    cowrie.c does. Limits are applied where items are kept (s_push, s_text) and where
    sessions are built, each counting what it keeps out in dropped[].
*/
#include "decnet.h"

#include "cmdrule.h"
#include "decnet_line.h"
#include "err.h"
#include "jsonio.h"
#include "slab.h"
#include "strtab.h"
#include "xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define S_NONE UINT32_MAX
#define S_MAX_SESSION_ID 200 /* longest carried session id used (room for "#N") */

/*  What a kept event contributes. */
typedef enum {
    S_EV_PLAIN = 0, /* nothing but its time, decky, service and phase */
    S_EV_COMMAND,   /* a shell command: a */
    S_EV_CRED,      /* a credential: a user, b stored secret */
    S_EV_PAYLOAD,   /* a dropped file or stored message: a its hash */
    S_EV_C2         /* a command whose text is not kept naming a C2 host: b, with phase */
} s_kind_t;

/*  One kept event. */
typedef struct {
    int64_t t;        /* event time, UTC microseconds */
    int64_t t0;       /* start of the span it covers (session_recorded: t - duration_s) */
    char *a;          /* first string (see s_kind_t), in the source's arena, or NULL */
    char *b;          /* second string, in the source's arena, or NULL */
    uint32_t seq;     /* arrival order in the source, so the sort is stable */
    uint32_t decky;   /* decky id, or S_NONE */
    uint32_t service; /* service id */
    uint32_t session; /* carried session index, or S_NONE */
    uint8_t kind;     /* s_kind_t */
    int8_t phase;     /* the event's own phase, or UKC_NONE */
    int8_t forced;    /* the phase of cadre's extension element, or UKC_NONE */
    bool closes;      /* ends its session (disconnect, session_recorded) */
} s_event_t;

/*  The first value of one fingerprint kind. */
typedef struct {
    int64_t t;     /* time of the line it came from */
    uint32_t seq;  /* its arrival order */
    uint32_t kind; /* decnet_fp_kind_t, DECNET_FP_JA3 or DECNET_FP_JA4 */
    char *v;       /* the value, in the source's arena */
} s_fp_t;

/*  One block of a source's string arena: every string a source keeps is copied into its
    arena, freed all at once with the source (one allocation per block, not per string). */
typedef struct s_block {
    struct s_block *next; /* the block filled before this one, or NULL */
    size_t used;          /* bytes used in data */
    size_t cap;           /* bytes in data */
    char data[];          /* the strings, NUL-terminated */
} s_block_t;

/*  One open source: the future observation. */
typedef struct {
    uint32_t ip;        /* address id */
    uint32_t instance;  /* 1 for an address's first observation, 2, 3... after idle flushes */
    uint64_t serial;    /* first-seen order among all sources ever opened */
    int64_t last;       /* latest event time */
    bool closed;        /* idle, then returned: no longer by_ip's source of its address */
    uint32_t seq;       /* events and fingerprints fed so far */
    s_event_t *ev;      /* kept events, in arrival order */
    size_t n_ev;        /* number of events */
    size_t ev_bytes;    /* bytes allocated in ev (slab) */
    s_fp_t *fp;         /* first value per fingerprint kind */
    size_t n_fp;        /* number of kinds with a value */
    size_t fp_bytes;    /* bytes allocated in fp (slab) */
    s_block_t *arena;   /* the source's strings */
    char *truth[3];     /* campaign, identity, actor of cadre's extension element, or NULL */
    char **sess;        /* carried session ids (index = session index), in the arena */
    size_t n_sess;      /* number of them */
    size_t sess_bytes;  /* bytes allocated in sess (slab) */
    uint32_t *sess_map; /* hash index over sess (slab): indices, S_NONE when empty, or NULL */
    size_t sess_slots;  /* slots in sess_map, a power of two */
    strtab_t *over;     /* evidence kept past DECNET_MAX_EVENTS ("h:host", "p:hash"), or NULL */
} s_source_t;

/*  One remembered verdict of the command rule table (s_command_phase). */
typedef struct {
    uint64_t hash;     /* XXH3 of text */
    char *text;        /* the command, owned, or NULL for an empty entry */
    char *host;        /* its C2 host, owned, or NULL */
    ukc_phase_t phase; /* its phase */
} s_cmd_cache_t;

#define S_CMD_CACHE 4096     /* entries of the command cache, a power of two */
#define S_CMD_CACHE_TEXT 512 /* longest command cached, bytes */

/*  Per-decky knowledge from the state file. */
enum { S_SHELL_UNKNOWN = 0, S_SHELL_SSH, S_SHELL_TELNET };

struct decnet_t {
    decnet_opts_t opts;                         /* options, copied */
    int64_t gap;                                /* session gap, microseconds */
    decnet_parser_t *parser;                    /* the line parser */
    slab_t *slab;                               /* sources, their events and strings */
    strtab_t *ips;                              /* addresses ever seen */
    s_source_t **by_ip;                         /* open source per address id, or NULL */
    uint32_t *instances;                        /* observations begun per address id */
    size_t cap_ip;                              /* slots in by_ip and instances */
    s_source_t **open;                          /* open sources (closed ones included) */
    size_t n_open;                              /* number of them */
    size_t cap_open;                            /* slots in open */
    strtab_t *deckies;                          /* decky names */
    uint8_t *shell;                             /* S_SHELL_* per decky id */
    size_t cap_shell;                           /* slots in shell */
    strtab_t *hosts;                            /* HOSTNAMEs seen or declared */
    uint32_t *host_decky;                       /* decky id per host id, or S_NONE */
    size_t cap_host;                            /* slots in host_decky */
    strtab_t *services;                         /* service names */
    uint32_t svc_ssh;                           /* the id of service "ssh" */
    uint32_t svc_telnet;                        /* the id of service "telnet" */
    char last_app[64];                          /* the APP-NAME of the last service event */
    uint32_t last_service;                      /* its service id */
    uint64_t serial;                            /* sources opened so far */
    int64_t now;                                /* latest event time fed */
    int64_t scanned;                            /* now at the last idle scan */
    size_t live;                                /* open sources not closed */
    size_t open_peak;                           /* most sources open at once */
    uint64_t lines;                             /* lines fed */
    uint64_t bad;                               /* bad lines */
    uint64_t native;                            /* native lines */
    uint64_t no_ip;                             /* events without an attacker address */
    uint64_t ignored;                           /* events with nothing to keep */
    uint64_t cadre_sessions;                    /* cadre sessions emitted */
    uint64_t observations;                      /* observations emitted */
    char *noip_name[DECNET_MAX_NOIP_KINDS];     /* "APP/MSGID" of address-less events, owned */
    uint64_t noip_count[DECNET_MAX_NOIP_KINDS]; /* their counts */
    size_t n_noip;                              /* kinds used */
    uint64_t dropped[DECNET_DROP_KINDS];        /* items kept out by the limits, by kind */
    s_cmd_cache_t *cmd_cache;                   /* S_CMD_CACHE verdicts of the rule table */
    char *unesc;                                /* an unescaped cadre syslog-recv line */
    size_t unesc_cap;                           /* bytes allocated in unesc */
    decnet_bad_t reported[DECNET_MAX_REPORTED]; /* first bad lines */
    size_t n_reported;                          /* entries used in reported */
};

/* -------------------------------------------------------------------------------------------
    Lifecycle */

static uint32_t
s_intern(strtab_t *t, const char *s, size_t n)
{
    uint32_t id = strtab_intern(t, s, n);
    assert(id != STRTAB_NONE);
    return id;
}

decnet_t *
decnet_new(const decnet_opts_t *opts)
{
    decnet_t *self = xcalloc(1, sizeof *self);
    if (opts) {
        self->opts = *opts;
    }
    double gap = self->opts.session_gap > 0 ? self->opts.session_gap : DECNET_SESSION_GAP;
    self->gap = (int64_t)llround(gap * 1e6);
    self->parser = decnet_parser_new();
    self->slab = slab_new();
    self->cmd_cache = xcalloc(S_CMD_CACHE, sizeof *self->cmd_cache);
    self->ips = strtab_new();
    self->deckies = strtab_new();
    self->hosts = strtab_new();
    self->services = strtab_new();
    self->svc_ssh = s_intern(self->services, "ssh", 3);
    self->svc_telnet = s_intern(self->services, "telnet", 6);
    self->last_service = self->svc_ssh;
    snprintf(self->last_app, sizeof self->last_app, "ssh");
    self->now = INT64_MIN;
    self->scanned = INT64_MIN;
    return self;
}

static void
s_source_free(decnet_t *self, s_source_t *src)
{
    slab_free(self->slab, src->ev, src->ev_bytes);
    slab_free(self->slab, src->fp, src->fp_bytes);
    while (src->arena) {
        s_block_t *next = src->arena->next;
        slab_free(self->slab, src->arena, sizeof *src->arena + src->arena->cap);
        src->arena = next;
    }
    slab_free(self->slab, src->sess, src->sess_bytes);
    slab_free(self->slab, src->sess_map, src->sess_slots * sizeof *src->sess_map);
    strtab_destroy(&src->over);
    slab_free(self->slab, src, sizeof *src);
}

void
decnet_destroy(decnet_t **self_p)
{
    decnet_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_open; i++) {
        s_source_free(self, self->open[i]);
    }
    free(self->open);
    free(self->by_ip);
    free(self->instances);
    free(self->shell);
    free(self->host_decky);
    for (size_t i = 0; i < self->n_noip; i++) {
        free(self->noip_name[i]);
    }
    decnet_parser_destroy(&self->parser);
    slab_destroy(&self->slab);
    for (size_t i = 0; i < S_CMD_CACHE; i++) {
        free(self->cmd_cache[i].text);
        free(self->cmd_cache[i].host);
    }
    free(self->cmd_cache);
    free(self->unesc);
    strtab_destroy(&self->ips);
    strtab_destroy(&self->deckies);
    strtab_destroy(&self->hosts);
    strtab_destroy(&self->services);
    free(self);
    *self_p = NULL;
}

/* -------------------------------------------------------------------------------------------
    Deckies, hosts and services */

/*  True when span is 1 to max bytes of printable US-ASCII (33..126), as RFC 5424 wants a
    HOSTNAME (255) and an APP-NAME (48) to be. */
static bool
s_printusascii(decnet_span_t span, size_t max)
{
    if (span.n == 0 || span.n > max) {
        return false;
    }
    for (size_t i = 0; i < span.n; i++) {
        if (span.p[i] < 33 || span.p[i] > 126) {
            return false;
        }
    }
    return true;
}

static uint32_t
s_decky_id(decnet_t *self, const char *name, size_t n)
{
    uint32_t id = s_intern(self->deckies, name, n);
    size_t have = self->cap_shell;
    xgrow(&self->shell, &self->cap_shell, (size_t)id + 1);
    if (self->cap_shell > have) {
        memset(self->shell + have, 0, self->cap_shell - have);
    }
    return id;
}

/*  Sets host's decky (S_NONE: none). */
static void
s_host_set(decnet_t *self, const char *host, size_t n, uint32_t decky)
{
    uint32_t h = s_intern(self->hosts, host, n);
    size_t have = self->cap_host;
    xgrow(&self->host_decky, &self->cap_host, (size_t)h + 1);
    for (size_t i = have; i < self->cap_host; i++) {
        self->host_decky[i] = S_NONE;
    }
    self->host_decky[h] = decky;
}

void
decnet_add_decky(decnet_t *self, const char *name, const char *hostname, const char *services)
{
    if (!s_printusascii((decnet_span_t){name, strlen(name)}, 255)) {
        return; /* no HOSTNAME can name it */
    }
    uint32_t d = s_decky_id(self, name, strlen(name));
    s_host_set(self, name, strlen(name), d);
    if (hostname && hostname[0]) {
        s_host_set(self, hostname, strlen(hostname), d);
    }
    if (services) {
        bool ssh = false, telnet = false;
        for (const char *s = services; *s;) {
            size_t k = strcspn(s, ",");
            ssh |= k == 3 && memcmp(s, "ssh", 3) == 0;
            telnet |= k == 6 && memcmp(s, "telnet", 6) == 0;
            s += k + (s[k] == ',');
        }
        self->shell[d] = telnet && !ssh ? S_SHELL_TELNET : ssh ? S_SHELL_SSH : S_SHELL_UNKNOWN;
    }
}

int
decnet_load_state(decnet_t *self, const char *text, size_t len, obs_error_t *err)
{
    jsonio_decky_t *d = NULL;
    size_t n = 0;
    int rc = jsonio_decnet_state(text, len, &d, &n, err);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        decnet_add_decky(self, d[i].name, d[i].hostname, d[i].services);
    }
    jsonio_decnet_state_clear(d, n);
    return (int)n;
}

/*  The decky a HOSTNAME names: its declared decky, else the HOSTNAME itself as a decky
    name; none for "-", DECNET's host-side components ("decnet-prober", ...) and anything
    that is no RFC 5424 HOSTNAME (1-255 printable US-ASCII bytes). */
static uint32_t
s_decky_of_host(decnet_t *self, decnet_span_t host)
{
    uint32_t h = strtab_find(self->hosts, host.p, host.n);
    if (h != STRTAB_NONE) {
        return self->host_decky[h];
    }
    bool none = decnet_span_is(host, "-") || (host.n >= 7 && memcmp(host.p, "decnet-", 7) == 0) ||
                !s_printusascii(host, 255);
    uint32_t d = none ? S_NONE : s_decky_id(self, host.p, host.n);
    s_host_set(self, host.p, host.n, d);
    return d;
}

/* -------------------------------------------------------------------------------------------
    Small helpers */

static int
s_bad(decnet_t *self, uint64_t line_no, const char *message)
{
    self->bad++;
    if (self->n_reported < DECNET_MAX_REPORTED) {
        decnet_bad_t *b = &self->reported[self->n_reported++];
        b->line_no = line_no;
        snprintf(b->message, sizeof b->message, "%s", message);
    }
    return CADRE_ERECORD;
}

/*  n bytes of src's arena (slab blocks of 128 bytes doubling to 64 KiB, or larger for a
    larger n). */
static char *
s_alloc(decnet_t *self, s_source_t *src, size_t n)
{
    s_block_t *b = src->arena;
    if (!b || b->cap - b->used < n) {
        size_t want = b ? 2 * (sizeof *b + b->cap) : 128;
        want = want > 65536 ? 65536 : want;
        want = want < sizeof *b + n ? sizeof *b + n : want;
        size_t got = 0;
        s_block_t *fresh = slab_alloc(self->slab, want, &got);
        *fresh = (s_block_t){.next = b, .cap = got - sizeof *fresh};
        src->arena = b = fresh;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

/*  A NUL-terminated copy of n bytes at s in src's arena. */
static char *
s_dup(decnet_t *self, s_source_t *src, const char *s, size_t n)
{
    char *p = s_alloc(self, src, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/*  A clean copy (s_clean) of n bytes at s in src's arena, or NULL (counted as a value
    dropped) when it is longer than max bytes. */
static char *
s_text(decnet_t *self, s_source_t *src, const char *s, size_t n, size_t max)
{
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80 && s[i] != '\0') {
        i++;
    }
    if (i == n) {
        if (n > max) {
            self->dropped[DECNET_DROP_VALUES]++;
            return NULL;
        }
        return s_dup(self, src, s, n);
    }
    char *clean = decnet_clean(s, n);
    size_t len = strlen(clean);
    char *out = len <= max ? s_dup(self, src, clean, len) : NULL;
    free(clean);
    if (!out) {
        self->dropped[DECNET_DROP_VALUES]++;
    }
    return out;
}

/*  The last relay parameter called name (a literal: its length is folded), or NULL. */
#define s_param(l, name) decnet_param_find((l)->params, (l)->n_params, (name))

/* -------------------------------------------------------------------------------------------
    Sources */

/*  The open source of address ip (canonical text) for an event at time t, opened if new.
    With flush_idle, a source idle for longer than that before t is closed (decnet_emit_idle
    emits it) and a new instance opened. */
static s_source_t *
s_source_for(decnet_t *self, const char *ip, size_t n, int64_t t)
{
    uint32_t id = s_intern(self->ips, ip, n);
    if ((size_t)id >= self->cap_ip) {
        size_t have = self->cap_ip;
        xgrow(&self->by_ip, &self->cap_ip, (size_t)id + 1);
        size_t cap = have;
        xgrow(&self->instances, &cap, self->cap_ip);
        memset(self->by_ip + have, 0, (self->cap_ip - have) * sizeof *self->by_ip);
        memset(self->instances + have, 0, (self->cap_ip - have) * sizeof *self->instances);
    }
    s_source_t *src = self->by_ip[id];
    if (src) {
        double idle = self->opts.flush_idle;
        if (!(idle > 0 && (double)(t - src->last) > idle * 1e6)) {
            return src;
        }
        src->closed = true;
        self->live--;
    }
    size_t bytes = 0;
    src = slab_alloc(self->slab, sizeof *src, &bytes);
    memset(src, 0, sizeof *src);
    src->ip = id;
    src->instance = ++self->instances[id];
    src->serial = self->serial++;
    src->last = INT64_MIN;
    self->by_ip[id] = src;
    xgrow(&self->open, &self->cap_open, self->n_open + 1);
    self->open[self->n_open++] = src;
    if (++self->live > self->open_peak) {
        self->open_peak = self->live;
    }
    return src;
}

/*  Sets kind's value of src (a string of its arena) unless an earlier one is kept. */
static void
s_fingerprint(decnet_t *self, s_source_t *src, uint32_t kind, int64_t t, char *v)
{
    if (!v) {
        return;
    }
    uint32_t seq = src->seq++;
    for (size_t i = 0; i < src->n_fp; i++) {
        if (src->fp[i].kind == kind) {
            if (t < src->fp[i].t) {
                src->fp[i] = (s_fp_t){.t = t, .seq = seq, .kind = kind, .v = v};
            }
            return;
        }
    }
    slab_grow(self->slab, (void **)&src->fp, &src->fp_bytes, (src->n_fp + 1) * sizeof *src->fp);
    src->fp[src->n_fp++] = (s_fp_t){.t = t, .seq = seq, .kind = kind, .v = v};
}

static const char *
s_fp_value(const s_source_t *src, uint32_t kind)
{
    for (size_t i = 0; i < src->n_fp; i++) {
        if (src->fp[i].kind == kind) {
            return src->fp[i].v;
        }
    }
    return NULL;
}

/*  True when evidence value (prefix "h:" or "p:") has not been kept past the event limit
    yet; it is then noted as kept. */
static bool
s_new_evidence(s_source_t *src, const char *prefix, const char *value)
{
    if (!value) {
        return false;
    }
    if (!src->over) {
        src->over = strtab_new();
    }
    char *key = xasprintf("%s%s", prefix, value);
    size_t before = strtab_count(src->over);
    strtab_intern(src->over, key, strlen(key));
    free(key);
    return strtab_count(src->over) > before;
}

/*  Keeps one event (its strings are in src's arena). Past DECNET_MAX_EVENTS only a command naming a
    new C2 host (as an S_EV_C2 event) or a new payload hash is kept; the rest is counted. */
static void
s_push(decnet_t *self, s_source_t *src, s_event_t ev)
{
    if (src->n_ev >= DECNET_MAX_EVENTS) {
        char *host = NULL;
        bool keep = false;
        if (ev.kind == S_EV_COMMAND) {
            ev.phase = (int8_t)cmdrule_phase(ev.a, &host);
            self->dropped[DECNET_DROP_COMMANDS]++;
            keep = s_new_evidence(src, "h:", host);
            if (keep) {
                ev.a = NULL;
                ev.b = s_dup(self, src, host, strlen(host));
                ev.kind = S_EV_C2;
            }
        } else if (ev.kind == S_EV_PAYLOAD) {
            keep = s_new_evidence(src, "p:", ev.a);
        }
        free(host);
        if (!keep) {
            if (ev.kind == S_EV_CRED) {
                self->dropped[DECNET_DROP_CREDENTIALS]++;
            } else if (ev.kind != S_EV_COMMAND) {
                self->dropped[DECNET_DROP_EVENTS]++;
            }
            return;
        }
    }
    ev.seq = src->seq++;
    slab_grow(self->slab, (void **)&src->ev, &src->ev_bytes, (src->n_ev + 1) * sizeof *src->ev);
    src->ev[src->n_ev++] = ev;
}

/* -------------------------------------------------------------------------------------------
    Feeding */

/*  Counts an event without an attacker address under its "APP/MSGID" kind. */
static void
s_no_ip(decnet_t *self, const decnet_line_t *l)
{
    self->no_ip++;
    char name[96];
    snprintf(name, sizeof name, "%.*s/%.*s", (int)(l->app.n > 40 ? 40 : l->app.n), l->app.p,
             (int)(l->msgid.n > 40 ? 40 : l->msgid.n), l->msgid.p);
    for (size_t i = 0; i < self->n_noip; i++) {
        if (strcmp(self->noip_name[i], name) == 0) {
            self->noip_count[i]++;
            return;
        }
    }
    if (self->n_noip < DECNET_MAX_NOIP_KINDS - 1) {
        char *clean = decnet_clean(name, strlen(name));
        self->noip_name[self->n_noip] = clean;
        self->noip_count[self->n_noip++] = 1;
        return;
    }
    if (self->n_noip == DECNET_MAX_NOIP_KINDS - 1) {
        self->noip_name[self->n_noip++] = xstrdup("other");
    }
    self->noip_count[DECNET_MAX_NOIP_KINDS - 1]++;
}

/*  Takes the fingerprints of line l into src (decnet_event_fingerprints; a kind src holds
    from no later than the line is not even extracted). Returns how many values the line
    records. */
static size_t
s_fingerprints(decnet_t *self, s_source_t *src, const decnet_line_t *l)
{
    uint32_t settled = 0;
    for (size_t i = 0; i < src->n_fp; i++) {
        settled |= src->fp[i].t <= l->t_us ? (uint32_t)1 << src->fp[i].kind : 0;
    }
    decnet_fps_t fps;
    decnet_event_fingerprints(l, settled, &fps);
    for (size_t i = 0; i < fps.n; i++) {
        const decnet_fp_value_t *v = &fps.v[i];
        s_fingerprint(self, src, v->kind, l->t_us,
                      s_text(self, src, v->v, v->n, OBS_MAX_FINGERPRINT));
    }
    decnet_fps_clear(&fps);
    return fps.present;
}

/*  The service an event belongs to: APP-NAME, with the SSH and Telnet helpers (auth-helper,
    bash, sessrec, ssh, and wrapped lines) folded into "ssh" or "telnet". */
static uint32_t
s_service(decnet_t *self, const decnet_line_t *l, uint32_t decky)
{
    static const char *const shell[] = {"auth-helper", "bash", "sessrec", "ssh", "telnet"};
    bool is_shell = l->command;
    for (size_t i = 0; i < 5 && !is_shell; i++) {
        is_shell = decnet_span_is(l->app, shell[i]);
    }
    if (!is_shell && !s_printusascii(l->app, 48)) {
        /* not an RFC 5424 APP-NAME: one service for all of them (its name is in ids) */
        return s_intern(self->services, "other", 5);
    }
    if (!is_shell) {
        if (!decnet_span_is(l->app, self->last_app)) {
            snprintf(self->last_app, sizeof self->last_app, "%.*s",
                     (int)(l->app.n < sizeof self->last_app ? l->app.n : 0), l->app.p);
            self->last_service = s_intern(self->services, l->app.p, l->app.n);
        }
        return self->last_service;
    }
    const decnet_param_t *svc = s_param(l, "service");
    bool telnet =
        decnet_span_is(l->app, "telnet") ||
        (decnet_span_is(l->app, "sessrec") && svc && decnet_span_is(svc->value, "telnet")) ||
        (decky != S_NONE && self->shell[decky] == S_SHELL_TELNET);
    return telnet ? self->svc_telnet : self->svc_ssh;
}

/*  The credential of a line, if it has one (decnet_event_credential), as strings of src's
    arena within OBS_MAX_TEXT. False when it has none or a part is too long (counted). */
static bool
s_credential(decnet_t *self, s_source_t *src, const decnet_line_t *l, char **user_p, char **pass_p)
{
    char *user = NULL, *secret = NULL;
    if (!decnet_event_credential(l, &user, &secret)) {
        return false;
    }
    *user_p = s_text(self, src, user, strlen(user), OBS_MAX_TEXT);
    *pass_p = s_text(self, src, secret, strlen(secret), OBS_MAX_TEXT);
    free(user);
    free(secret);
    return *user_p && *pass_p;
}

/*  The index of carried session id (n bytes) in src, added if new. An open-addressing
    index over the ids (XXH3, linear probing, at most half full); a source's first ids need
    no allocation beyond their copies. */
static uint32_t
s_carried(decnet_t *self, s_source_t *src, const char *id, size_t n)
{
    uint64_t h = XXH3_64bits(id, n);
    if (src->sess_slots > 0) {
        size_t mask = src->sess_slots - 1;
        for (size_t i = h & mask; src->sess_map[i] != S_NONE; i = (i + 1) & mask) {
            const char *k = src->sess[src->sess_map[i]];
            if (strlen(k) == n && memcmp(k, id, n) == 0) {
                return src->sess_map[i];
            }
        }
    }
    uint32_t at = (uint32_t)src->n_sess;
    slab_grow(self->slab, (void **)&src->sess, &src->sess_bytes,
              (src->n_sess + 1) * sizeof *src->sess);
    src->sess[src->n_sess++] = s_dup(self, src, id, n);
    if (src->n_sess * 2 > src->sess_slots) {
        slab_free(self->slab, src->sess_map, src->sess_slots * sizeof *src->sess_map);
        src->sess_slots = src->sess_slots ? src->sess_slots * 2 : 16;
        size_t got = 0;
        src->sess_map = slab_alloc(self->slab, src->sess_slots * sizeof *src->sess_map, &got);
        memset(src->sess_map, 0xff, src->sess_slots * sizeof *src->sess_map);
        for (size_t j = 0; j < src->n_sess; j++) {
            const char *k = src->sess[j];
            size_t i = XXH3_64bits(k, strlen(k)) & (src->sess_slots - 1);
            while (src->sess_map[i] != S_NONE) {
                i = (i + 1) & (src->sess_slots - 1);
            }
            src->sess_map[i] = (uint32_t)j;
        }
    } else {
        size_t mask = src->sess_slots - 1;
        size_t i = h & mask;
        while (src->sess_map[i] != S_NONE) {
            i = (i + 1) & mask;
        }
        src->sess_map[i] = at;
    }
    return at;
}

/*  Reads cadre's extension element into src and (when not NULL) ev (docs/decnet.md §5):
    truth labels (the first of each kept), and the event's phase and session id. */
static void
s_extension(decnet_t *self, s_source_t *src, const decnet_line_t *l, s_event_t *ev)
{
    for (size_t i = 0; i < l->n_ext; i++) {
        const decnet_param_t *p = &l->ext[i];
        int label = decnet_span_is(p->name, "campaign")   ? 0
                    : decnet_span_is(p->name, "identity") ? 1
                    : decnet_span_is(p->name, "actor")    ? 2
                                                          : -1;
        if (label >= 0) {
            if (!src->truth[label]) {
                src->truth[label] = s_text(self, src, p->value.p, p->value.n, OBS_MAX_SHORT);
            }
        } else if (ev && decnet_span_is(p->name, "phase")) {
            ev->forced = (int8_t)ukc_phase_from_name_len(p->value.p, p->value.n);
        } else if (ev && decnet_span_is(p->name, "session") && p->value.n > 0) {
            if (p->value.n > S_MAX_SESSION_ID || !decnet_utf8(p->value.p, p->value.n)) {
                self->dropped[DECNET_DROP_VALUES]++;
                ev->session = S_NONE;
            } else {
                ev->session = s_carried(self, src, p->value.p, p->value.n);
            }
        }
    }
}

/*  Applies one parsed event line of attacker address ip. */
static void
s_apply(decnet_t *self, const decnet_line_t *l, const char *ip, size_t ip_n)
{
    int64_t t = l->t_us;
    bool sniffer = decnet_span_is(l->app, "sniffer");
    bool prober = decnet_span_is(l->app, "prober");
    if (t > self->now) {
        self->now = t;
    }
    s_source_t *src = s_source_for(self, ip, ip_n, t);
    bool fresh = src->n_ev == 0 && src->n_fp == 0;
    size_t fps = s_fingerprints(self, src, l);
    if (sniffer || prober) {
        /* Passive and active fingerprints only: no session. */
        if (l->n_ext > 0) {
            s_extension(self, src, l, NULL);
        }
        if (fps == 0) {
            self->ignored++;
        }
    } else {
        decnet_span_t host = l->host;
        if (l->wrapped && decnet_span_is(host, "-")) {
            host = l->inner_host;
        }
        uint32_t decky = s_decky_of_host(self, host);
        s_event_t ev = {.t = t,
                        .t0 = t,
                        .decky = decky,
                        .service = s_service(self, l, decky),
                        .session = S_NONE,
                        .phase = (int8_t)decnet_event_phase(l),
                        .forced = UKC_NONE};
        ev.closes =
            decnet_span_is(l->msgid, "disconnect") || decnet_span_is(l->msgid, "session_recorded");
        ev.t0 = t - decnet_event_span(l); /* |t| and the span are far below 2^62 */
        char *user = NULL, *pass = NULL;
        const decnet_param_t *sha = s_param(l, "sha256");
        if (l->command) {
            ev.kind = S_EV_COMMAND;
            ev.a = s_text(self, src, l->cmd.p, l->cmd.n, OBS_MAX_TEXT);
            if (!ev.a) {
                /* Too long: the text is not kept (counted), its C2 host is. */
                char *cmd = decnet_clean(l->cmd.p, l->cmd.n);
                char *c2 = NULL;
                ev.phase = (int8_t)cmdrule_phase(cmd, &c2);
                ev.b = c2 ? s_dup(self, src, c2, strlen(c2)) : NULL;
                ev.kind = ev.b ? S_EV_C2 : S_EV_PLAIN;
                free(c2);
                free(cmd);
            }
        } else if (s_credential(self, src, l, &user, &pass)) {
            ev.kind = S_EV_CRED;
            ev.a = user;
            ev.b = pass;
            ev.phase = UKC_CREDENTIAL_ACCESS;
        } else if (sha && (decnet_span_is(l->msgid, "file_captured") ||
                           decnet_span_is(l->msgid, "message_stored"))) {
            ev.a = s_text(self, src, sha->value.p, sha->value.n, OBS_MAX_SHORT);
            ev.kind = ev.a ? S_EV_PAYLOAD : S_EV_PLAIN;
        }
        if (l->n_ext > 0) {
            s_extension(self, src, l, &ev);
        }
        s_push(self, src, ev);
    }
    if (t > src->last) {
        src->last = t;
    }
    if (fresh && src->n_ev == 0 && src->n_fp == 0 && src->truth[0] == NULL) {
        /* Nothing kept: the source was opened for nothing. */
        self->by_ip[src->ip] = NULL;
        self->instances[src->ip]--;
        self->n_open--;
        self->live--;
        self->serial--;
        s_source_free(self, src);
    }
}

int
decnet_feed(decnet_t *self, const char *line, size_t len, uint64_t line_no)
{
    self->lines++;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
        i++;
    }
    if (i == len) {
        return 0;
    }
    size_t at = line[0] == '<' ? 0 : decnet_worker_prefix(line, len);
    if (at > 0) {
        /* cadre syslog-recv's "WORKER TAB MSG": the worker name is not kept (the HOSTNAME is
           the decky), MSG is unescaped, which restores the LFs DECNET's files would cut. */
        xgrow(&self->unesc, &self->unesc_cap, len - at + 1);
        len = decnet_unescape(line + at, len - at, self->unesc);
        line = self->unesc;
    }
    decnet_line_t l;
    const char *why = NULL;
    if (decnet_parse(self->parser, line, len, &l, &why) != 0) {
        return s_bad(self, line_no, why);
    }
    if (l.native) {
        self->native++;
        return 0;
    }
    char ip[DECNET_ADDR_MAX];
    size_t ip_n = decnet_event_addr(&l, ip);
    if (ip_n == 0) {
        s_no_ip(self, &l);
        return 0;
    }
    s_apply(self, &l, ip, ip_n);
    return 0;
}

int
decnet_bad_line(decnet_t *self, uint64_t line_no, const char *message)
{
    self->lines++;
    return s_bad(self, line_no, message);
}

int
decnet_line_time(const char *line, size_t len, double *t)
{
    size_t at = len > 0 && line[0] != '<' ? decnet_worker_prefix(line, len) : 0;
    line += at;
    len -= at;
    const char *end = line + len;
    const char *p = memchr(line, '>', len < 6 ? len : 6);
    if (len == 0 || line[0] != '<' || !p || end - p < 3 || p[1] != '1' || p[2] != ' ') {
        return CADRE_ERECORD;
    }
    p += 3;
    const char *e = memchr(p, ' ', (size_t)(end - p));
    int64_t us;
    if (decnet_parse_time(p, e ? (size_t)(e - p) : (size_t)(end - p), &us) != 0) {
        return CADRE_ERECORD;
    }
    *t = (double)us / 1e6;
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

/*  One session of a source being built: its events (indices into the sorted events). */
typedef struct {
    uint32_t decky;   /* decky id, or S_NONE */
    uint32_t service; /* service id */
    uint32_t carried; /* carried session index, or S_NONE */
    int64_t first;    /* earliest time it covers */
    int64_t last;     /* latest event time */
    bool closed;      /* a closing event was seen (no more events join it by key) */
    size_t *idx;      /* its events, in time order */
    size_t n;         /* number of events */
    size_t cap;       /* slots in idx */
} s_sess_t;

/*  Appends a new session of src's build to *sessions (NULL past OBS_MAX_SESSIONS). */
static s_sess_t *
s_sess_new(decnet_t *self, s_sess_t **sessions, size_t *n, size_t *cap, const s_event_t *e)
{
    if (*n >= OBS_MAX_SESSIONS) {
        self->dropped[DECNET_DROP_SESSIONS]++;
        return NULL;
    }
    xgrow(sessions, cap, *n + 1);
    s_sess_t *s = &(*sessions)[(*n)++];
    *s = (s_sess_t){.decky = e->decky,
                    .service = e->service,
                    .carried = e->session,
                    .first = e->t0,
                    .last = e->t};
    return s;
}

/*  Grows a uint32 array to at least n slots, new slots set to S_NONE. */
static void
s_grow_ids(uint32_t **a, size_t *cap, size_t n)
{
    size_t have = *cap;
    xgrow(a, cap, n);
    for (size_t i = have; i < *cap; i++) {
        (*a)[i] = S_NONE;
    }
}

/*  An open-addressing map from 64-bit keys to dense ids 0, 1, 2... (ids = insertion order),
    kept at most half full. */
typedef struct {
    uint64_t *keys; /* key per slot, then id per slot (2 * slots words), or NULL */
    size_t n;       /* keys stored */
    size_t slots;   /* slots, a power of two */
} s_keymap_t;

/*  The id of key in m, added if new. */
static uint32_t
s_keymap_id(s_keymap_t *m, uint64_t key)
{
    if ((m->n + 1) * 2 > m->slots) {
        s_keymap_t grown = {.slots = m->slots ? m->slots * 2 : 16, .n = m->n};
        grown.keys = xmalloc(2 * grown.slots * sizeof *grown.keys);
        memset(grown.keys, 0xff, grown.slots * sizeof *grown.keys);
        for (size_t i = 0; i < m->slots; i++) {
            if (m->keys[i] != UINT64_MAX) {
                size_t j = XXH3_64bits(&m->keys[i], 8) & (grown.slots - 1);
                while (grown.keys[j] != UINT64_MAX) {
                    j = (j + 1) & (grown.slots - 1);
                }
                grown.keys[j] = m->keys[i];
                grown.keys[grown.slots + j] = m->keys[m->slots + i];
            }
        }
        free(m->keys);
        *m = grown;
    }
    size_t mask = m->slots - 1;
    size_t j = XXH3_64bits(&key, 8) & mask;
    while (m->keys[j] != UINT64_MAX && m->keys[j] != key) {
        j = (j + 1) & mask;
    }
    if (m->keys[j] == UINT64_MAX) {
        m->keys[j] = key;
        m->keys[m->slots + j] = m->n++;
    }
    return (uint32_t)m->keys[m->slots + j];
}

/*  Groups src's sorted events into sessions (*out, *n_out; the caller frees them). */
static void
s_group(decnet_t *self, s_source_t *src, s_sess_t **out, size_t *n_out)
{
    s_sess_t *ss = NULL;
    size_t n = 0, cap = 0;
    uint32_t *by_carried = NULL, *by_key = NULL, *by_service = NULL;
    size_t cap_carried = 0, cap_key = 0, cap_service = 0;
    s_keymap_t keys = {0};
    uint32_t dropped = S_NONE - 1; /* a session index meaning "past the limit" */
    for (size_t i = 0; i < src->n_ev; i++) {
        const s_event_t *e = &src->ev[i];
        uint32_t at = S_NONE;
        if (e->session != S_NONE) {
            s_grow_ids(&by_carried, &cap_carried, (size_t)e->session + 1);
            at = by_carried[e->session];
            if (at == S_NONE) {
                at = s_sess_new(self, &ss, &n, &cap, e) ? (uint32_t)(n - 1) : dropped;
                by_carried[e->session] = at;
            }
        } else {
            uint32_t decky = e->decky;
            s_grow_ids(&by_service, &cap_service, (size_t)e->service + 1);
            if (decky == S_NONE && by_service[e->service] != S_NONE) {
                /* An event without a decky joins its service's latest session. */
                decky = ss[by_service[e->service]].decky;
            }
            uint32_t k = s_keymap_id(&keys, (uint64_t)decky << 32 | e->service);
            s_grow_ids(&by_key, &cap_key, (size_t)k + 1);
            at = by_key[k];
            if (at != S_NONE && at != dropped &&
                (ss[at].closed || e->t - ss[at].last > self->gap)) {
                at = S_NONE;
            }
            if (at == S_NONE) {
                at = s_sess_new(self, &ss, &n, &cap, e) ? (uint32_t)(n - 1) : dropped;
                by_key[k] = at;
            }
            if (at != dropped) {
                by_service[e->service] = at;
            }
        }
        if (at == dropped) {
            continue;
        }
        s_sess_t *s = &ss[at];
        xgrow(&s->idx, &s->cap, s->n + 1);
        s->idx[s->n++] = i;
        s->first = e->t0 < s->first ? e->t0 : s->first;
        s->last = e->t > s->last ? e->t : s->last;
        s->closed |= e->closes && e->session == S_NONE;
        if (s->decky == S_NONE) {
            s->decky = e->decky;
        }
    }
    free(by_carried);
    free(by_key);
    free(by_service);
    free(keys.keys);
    *out = ss;
    *n_out = n;
}

/*  cmdrule_phase() of cmd, remembered: bots repeat their commands, so the rule table's
    verdict on a short command (at most S_CMD_CACHE_TEXT bytes) is kept in a direct-mapped
    cache of S_CMD_CACHE entries. *host gets a copy of the C2 host (owned) or NULL. */
static ukc_phase_t
s_command_phase(decnet_t *self, const char *cmd, char **host)
{
    size_t len = strlen(cmd);
    if (len > S_CMD_CACHE_TEXT) {
        return cmdrule_phase(cmd, host);
    }
    uint64_t h = XXH3_64bits(cmd, len);
    s_cmd_cache_t *c = &self->cmd_cache[h & (S_CMD_CACHE - 1)];
    if (!c->text || c->hash != h || strcmp(c->text, cmd) != 0) {
        free(c->text);
        free(c->host);
        c->hash = h;
        c->text = xstrndup(cmd, len);
        c->host = NULL;
        c->phase = cmdrule_phase(cmd, &c->host);
    }
    *host = c->host ? xstrdup(c->host) : NULL;
    return c->phase;
}

/*  The phase of one event in its session (UKC_NONE: it joins the run it falls in), with
    its C2 host (owned) in *host. */
static ukc_phase_t
s_phase_of(decnet_t *self, const s_event_t *e, char **host)
{
    *host = NULL;
    ukc_phase_t phase = (ukc_phase_t)e->phase;
    if (e->kind == S_EV_COMMAND) {
        phase = s_command_phase(self, e->a, host);
    } else if (e->kind == S_EV_C2) {
        *host = xstrdup(e->b);
    }
    return e->forced != UKC_NONE ? (ukc_phase_t)e->forced : phase;
}

/*  Appends the cadre session made of events [begin, end) of session s (its k-th run). */
static void
s_add_run(decnet_t *self, const s_source_t *src, const s_sess_t *s, const char *sid, size_t begin,
          size_t end, size_t k, bool last, ukc_phase_t phase, char **hosts, obs_t *obs)
{
    obs_session_t *out = obs_add_session(obs);
    out->id = k == 0 ? xstrdup(sid) : xasprintf("%s#%zu", sid, k + 1);
    out->decky = s->decky == S_NONE ? NULL : xstrdup(strtab_str(self->deckies, s->decky));
    out->phase = phase == UKC_NONE ? UKC_RECONNAISSANCE : phase;
    int64_t start = k == 0 || begin >= end ? s->first : src->ev[s->idx[begin]].t;
    int64_t stop = last || begin >= end ? s->last : src->ev[s->idx[end - 1]].t;
    out->start = (double)start / 1e6;
    out->duration = stop > start ? (double)(stop - start) / 1e6 : 0.0;
    size_t cap_cmd = 0, cap_cred = 0;
    for (size_t i = begin; i < end; i++) {
        const s_event_t *e = &src->ev[s->idx[i]];
        switch ((s_kind_t)e->kind) {
        case S_EV_COMMAND:
            if (out->n_commands < OBS_MAX_ITEMS) {
                xgrow(&out->commands, &cap_cmd, out->n_commands + 1);
                out->commands[out->n_commands++] = xstrdup(e->a);
            } else {
                self->dropped[DECNET_DROP_COMMANDS]++; /* its C2 host still counts */
            }
            break;
        case S_EV_CRED:
            if (out->n_creds < OBS_MAX_ITEMS) {
                xgrow(&out->creds, &cap_cred, out->n_creds + 1);
                out->creds[out->n_creds].user = xstrdup(e->a);
                out->creds[out->n_creds].pass = xstrdup(e->b);
                out->n_creds++;
            } else {
                self->dropped[DECNET_DROP_CREDENTIALS]++;
            }
            break;
        case S_EV_PAYLOAD:
            if (!out->payload_hash) {
                out->payload_hash = xstrdup(e->a);
            }
            break;
        case S_EV_PLAIN:
        case S_EV_C2:
            break;
        }
        if (!out->c2 && hosts[i]) {
            out->c2 = xstrdup(hosts[i]);
        }
    }
    self->cadre_sessions++;
}

/*  Appends the cadre sessions of s to obs: one per maximal run of events of one phase,
    events without a phase joining the run they fall in, at most max_runs (>= 1) of them. */
static void
s_build_session(decnet_t *self, const s_source_t *src, const s_sess_t *s, const char *sid,
                size_t max_runs, obs_t *obs)
{
    size_t n = s->n;
    ukc_phase_t *phases = xcalloc(n + 1, sizeof *phases);
    char **hosts = xcalloc(n + 1, sizeof *hosts);
    for (size_t i = 0; i < n; i++) {
        phases[i] = s_phase_of(self, &src->ev[s->idx[i]], &hosts[i]);
    }
    size_t begin = 0, k = 0;
    ukc_phase_t cur = UKC_NONE;  /* the phase of the run being built */
    ukc_phase_t last = UKC_NONE; /* the phase of the latest phased event */
    for (size_t i = 0; i <= n; i++) {
        bool boundary = i < n && phases[i] != UKC_NONE && last != UKC_NONE && phases[i] != last;
        if (boundary && k + 1 >= max_runs) {
            self->dropped[DECNET_DROP_SPLITS]++;
            boundary = false;
        }
        if (i == n || boundary) {
            s_add_run(self, src, s, sid, begin, i, k++, i == n, cur, hosts, obs);
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

/*  Puts the source's fingerprints into the observation: JA3 and JA4 into their fields, the
    other kinds into its fingerprint map under decnet_fp_kind_name() (docs/decnet.md §4). */
static void
s_put_fingerprints(const s_source_t *src, obs_t *obs)
{
    for (size_t i = 0; i < src->n_fp; i++) {
        const s_fp_t *f = &src->fp[i];
        if (f->kind == DECNET_FP_JA3) {
            obs->ja3 = xstrdup(f->v);
        } else if (f->kind == DECNET_FP_JA4) {
            obs->ja4 = xstrdup(f->v);
        } else {
            obs_fp_set(obs, decnet_fp_kind_name((decnet_fp_kind_t)f->kind), f->v);
        }
    }
}

static obs_t *
s_build(decnet_t *self, s_source_t *src)
{
    if (src->n_ev > 1) {
        qsort(src->ev, src->n_ev, sizeof *src->ev, s_event_cmp);
    }
    obs_t *obs = obs_new();
    const char *ip = strtab_str(self->ips, src->ip);
    obs->id = src->instance > 1 ? xasprintf("decnet:%s~%" PRIu32, ip, src->instance)
                                : xasprintf("decnet:%s", ip);
    obs->ip = xstrdup(ip);
    s_put_fingerprints(src, obs);
    obs->truth_campaign = src->truth[0] ? xstrdup(src->truth[0]) : NULL;
    obs->truth_identity = src->truth[1] ? xstrdup(src->truth[1]) : NULL;
    obs->truth_actor = src->truth[2] ? xstrdup(src->truth[2]) : NULL;
    s_sess_t *ss = NULL;
    size_t n = 0;
    s_group(self, src, &ss, &n);
    /* Every session gets at least one cadre session, and the splits fit in
       OBS_MAX_SESSIONS: session i may make as many runs as leave one for each after it. */
    for (size_t i = 0; i < n; i++) {
        char *sid = ss[i].carried != S_NONE
                        ? xstrdup(src->sess[ss[i].carried])
                        : xasprintf("%s-%zu", strtab_str(self->services, ss[i].service), i + 1);
        size_t after = n - i - 1;
        s_build_session(self, src, &ss[i], sid, OBS_MAX_SESSIONS - obs->n_sessions - after, obs);
        free(sid);
        free(ss[i].idx);
    }
    free(ss);
    return obs;
}

/*  Removes open[i] (swapping the last one in). */
static void
s_unlist(decnet_t *self, size_t i)
{
    s_source_t *src = self->open[i];
    if (self->by_ip[src->ip] == src) {
        self->by_ip[src->ip] = NULL;
    }
    self->open[i] = self->open[--self->n_open];
}

static int
s_serial_cmp(const void *pa, const void *pb)
{
    const s_source_t *a = *(s_source_t *const *)pa;
    const s_source_t *b = *(s_source_t *const *)pb;
    return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/*  Emits the open sources last seen before limit (all with INT64_MAX), and the closed ones,
    in first-seen order. */
static int
s_emit_before(decnet_t *self, int64_t limit, decnet_sink_fn sink, void *arg)
{
    s_source_t **pick = xcalloc(self->n_open + 1, sizeof *pick);
    size_t n = 0;
    for (size_t i = 0; i < self->n_open;) {
        s_source_t *src = self->open[i];
        if (src->last < limit || src->closed) {
            self->live -= !src->closed;
            pick[n++] = src;
            s_unlist(self, i);
        } else {
            i++;
        }
    }
    qsort(pick, n, sizeof *pick, s_serial_cmp);
    int rc = 0;
    for (size_t j = 0; j < n; j++) {
        if (rc == 0) {
            obs_t *obs = s_build(self, pick[j]);
            self->observations++;
            rc = sink(obs, arg);
            obs_destroy(&obs);
        }
        s_source_free(self, pick[j]);
    }
    free(pick);
    return rc;
}

int
decnet_emit_idle(decnet_t *self, decnet_sink_fn sink, void *arg)
{
    if (!(self->opts.flush_idle > 0) || self->now == INT64_MIN ||
        (self->scanned != INT64_MIN && self->now < self->scanned + 1000000)) {
        return 0;
    }
    self->scanned = self->now;
    int64_t idle = (int64_t)llround(self->opts.flush_idle * 1e6);
    return s_emit_before(self, self->now - idle, sink, arg);
}

int
decnet_finish(decnet_t *self, decnet_sink_fn sink, void *arg)
{
    return s_emit_before(self, INT64_MAX, sink, arg);
}

/* -------------------------------------------------------------------------------------------
    Accessors */

uint64_t
decnet_lines(const decnet_t *self)
{
    return self->lines;
}

uint64_t
decnet_bad(const decnet_t *self)
{
    return self->bad;
}

uint64_t
decnet_native(const decnet_t *self)
{
    return self->native;
}

uint64_t
decnet_no_ip(const decnet_t *self)
{
    return self->no_ip;
}

uint64_t
decnet_ignored(const decnet_t *self)
{
    return self->ignored;
}

uint64_t
decnet_sessions(const decnet_t *self)
{
    return self->cadre_sessions;
}

uint64_t
decnet_observations(const decnet_t *self)
{
    return self->observations;
}

size_t
decnet_open(const decnet_t *self)
{
    return self->live;
}

size_t
decnet_open_peak(const decnet_t *self)
{
    return self->open_peak;
}

size_t
decnet_no_ip_kinds(const decnet_t *self)
{
    return self->n_noip;
}

const char *
decnet_no_ip_kind(const decnet_t *self, size_t i, uint64_t *count)
{
    if (i >= self->n_noip) {
        return NULL;
    }
    if (count) {
        *count = self->noip_count[i];
    }
    return self->noip_name[i];
}

uint64_t
decnet_dropped(const decnet_t *self, decnet_drop_t kind)
{
    return kind >= 0 && kind < DECNET_DROP_KINDS ? self->dropped[kind] : 0;
}

const char *
decnet_drop_name(decnet_drop_t kind)
{
    static const char *const names[DECNET_DROP_KINDS] = {
        [DECNET_DROP_SESSIONS] = "sessions", [DECNET_DROP_SPLITS] = "splits",
        [DECNET_DROP_COMMANDS] = "commands", [DECNET_DROP_CREDENTIALS] = "credentials",
        [DECNET_DROP_EVENTS] = "events",     [DECNET_DROP_VALUES] = "values",
    };
    return kind >= 0 && kind < DECNET_DROP_KINDS ? names[kind] : NULL;
}

size_t
decnet_bad_reported(const decnet_t *self)
{
    return self->n_reported;
}

const decnet_bad_t *
decnet_bad_at(const decnet_t *self, size_t i)
{
    return i < self->n_reported ? &self->reported[i] : NULL;
}

const char *
decnet_fingerprint(const decnet_t *self, const char *ip, decnet_fp_kind_t kind)
{
    uint32_t id = strtab_find(self->ips, ip, strlen(ip));
    if (id == STRTAB_NONE || (size_t)id >= self->cap_ip || !self->by_ip[id]) {
        return NULL;
    }
    return s_fp_value(self->by_ip[id], (uint32_t)kind);
}
