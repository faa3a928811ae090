/*  decnet_line.c - one DECNET log line parsed in place (see decnet_line.h).

    The parser walks the line once, left to right. Header tokens are runs of non-blank
    bytes separated by one or more blanks (DECNET writes single spaces; rsyslog's inner
    headers may have more). Parameter values are unescaped into one buffer sized, per line,
    to the line's length plus one NUL per parameter, so it never moves while a line is being
    parsed and every value pointer stays valid until the next line. Parameter arrays grow
    geometrically and are reused from line to line: after the first lines a parse allocates
    nothing.
*/
#include "decnet_line.h"

#include "err.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct decnet_parser_t {
    decnet_param_t *params; /* relay@55555 parameters of the current line */
    size_t n_params;        /* number of them */
    size_t cap_params;      /* slots in params */
    decnet_param_t *ext;    /* cadre@32473 parameters of the current line */
    size_t n_ext;           /* number of them */
    size_t cap_ext;         /* slots in ext */
    char *buf;              /* unescaped values of the current line */
    size_t buf_len;         /* bytes used in buf */
    size_t buf_cap;         /* bytes allocated in buf */
};

decnet_parser_t *
decnet_parser_new(void)
{
    return xcalloc(1, sizeof(decnet_parser_t));
}

void
decnet_parser_destroy(decnet_parser_t **self_p)
{
    decnet_parser_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->params);
    free(self->ext);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

const decnet_param_t *
decnet_param_find_n(const decnet_param_t *params, size_t n, const char *name, size_t len)
{
    for (size_t i = n; i > 0; i--) {
        const decnet_param_t *p = &params[i - 1];
        if (p->name.n == len && memcmp(p->name.p, name, len) == 0) {
            return p;
        }
    }
    return NULL;
}

/* -------------------------------------------------------------------------------------------
    Time */

/*  Reads exactly n digits at s into *out. */
static bool
s_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/*  Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
s_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
decnet_parse_time(const char *s, size_t len, int64_t *us)
{
    int y, mo, d, h, mi, se;
    if (len < 20 || !s_digits(s, 4, &y) || s[4] != '-' || !s_digits(s + 5, 2, &mo) || s[7] != '-' ||
        !s_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !s_digits(s + 11, 2, &h) ||
        s[13] != ':' || !s_digits(s + 14, 2, &mi) || s[16] != ':' || !s_digits(s + 17, 2, &se)) {
        return CADRE_ERECORD;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return CADRE_ERECORD;
    }
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t first = i;
        int64_t scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == first) {
            return CADRE_ERECORD;
        }
    }
    int64_t offset = 0;
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (!s_digits(s + i + 1, 2, &oh) || !s_digits(s + i + 4, 2, &om) || oh > 23 || om > 59) {
            return CADRE_ERECORD;
        }
        offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    }
    if (i != len) {
        return CADRE_ERECORD;
    }
    int64_t secs = s_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    *us = secs * 1000000 + frac;
    return 0;
}

/* -------------------------------------------------------------------------------------------
    Lines */

static bool
s_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*  The next token at *p (a run of non-blank bytes), skipping the blanks after it. False
    when there is none. */
static bool
s_token(const char **p, const char *end, decnet_span_t *tok)
{
    const char *s = *p;
    const char *e = s;
    while (e < end && !s_blank(*e)) {
        e++;
    }
    if (e == s) {
        return false;
    }
    *tok = (decnet_span_t){s, (size_t)(e - s)};
    while (e < end && s_blank(*e)) {
        e++;
    }
    *p = e;
    return true;
}

/*  Appends a parameter to one of the parser's arrays. */
static void
s_push(decnet_param_t **arr, size_t *n, size_t *cap, decnet_param_t prm)
{
    xgrow(arr, cap, *n + 1);
    (*arr)[(*n)++] = prm;
}

/*  Parses the structured data at *p: NILVALUE "-" or one or more elements, keeping the
    parameters of the relay and extension elements (when keep). Leaves *p after it. */
static int
s_sd(decnet_parser_t *self, const char **p, const char *end, bool keep, const char **why)
{
    const char *s = *p;
    if (s < end && *s == '-' && (s + 1 == end || s_blank(s[1]))) {
        *p = s + 1;
        return 0;
    }
    if (s >= end || *s != '[') {
        *why = "no structured data ('-' or '[...]') after MSGID";
        return CADRE_ERECORD;
    }
    while (s < end && *s == '[') {
        s++;
        const char *id = s;
        while (s < end && *s != ' ' && *s != ']' && *s != '=' && *s != '"') {
            s++;
        }
        if (s == id || s >= end || (*s != ' ' && *s != ']')) {
            *why = "structured data: bad SD-ID";
            return CADRE_ERECORD;
        }
        decnet_span_t sd_id = {id, (size_t)(s - id)};
        int which = !keep                                     ? 0
                    : decnet_span_is(sd_id, DECNET_SD_ID)     ? 1
                    : decnet_span_is(sd_id, DECNET_EXT_SD_ID) ? 2
                                                              : 0;
        for (;;) {
            while (s < end && *s == ' ') {
                s++;
            }
            if (s >= end) {
                *why = "structured data cut short (no closing ']')";
                return CADRE_ERECORD;
            }
            if (*s == ']') {
                s++;
                break;
            }
            const char *name = s;
            while (s < end && *s != '=' && *s != ' ' && *s != ']' && *s != '"') {
                s++;
            }
            if (s == name || s + 1 >= end || *s != '=' || s[1] != '"') {
                *why = "structured data: a parameter is not name=\"value\"";
                return CADRE_ERECORD;
            }
            decnet_param_t prm = {.name = {name, (size_t)(s - name)}};
            s += 2;
            char *out = self->buf + self->buf_len;
            size_t o = 0;
            bool closed = false;
            while (s < end) {
                const char *q = s;
                while (q < end && *q != '"' && *q != '\\') {
                    q++;
                }
                if (which) {
                    memcpy(out + o, s, (size_t)(q - s));
                    o += (size_t)(q - s);
                }
                s = q;
                if (s >= end) {
                    break;
                }
                if (*s == '"') {
                    s++;
                    closed = true;
                    break;
                }
                /* A backslash escapes '"', '\' and ']'; before anything else it is itself. */
                if (s + 1 < end && (s[1] == '"' || s[1] == '\\' || s[1] == ']')) {
                    if (which) {
                        out[o++] = s[1];
                    }
                    s += 2;
                } else {
                    if (which) {
                        out[o++] = '\\';
                    }
                    s++;
                }
            }
            if (!closed) {
                *why = "structured data cut short (a value has no closing quote)";
                return CADRE_ERECORD;
            }
            if (s < end && *s != ' ' && *s != ']') {
                *why = "structured data: no space or ']' after a value";
                return CADRE_ERECORD;
            }
            if (which) {
                out[o] = '\0';
                self->buf_len += o + 1;
                prm.value = (decnet_span_t){out, o};
                if (which == 1) {
                    s_push(&self->params, &self->n_params, &self->cap_params, prm);
                } else {
                    s_push(&self->ext, &self->n_ext, &self->cap_ext, prm);
                }
            }
        }
    }
    *p = s;
    return 0;
}

/*  Splits a CMD body ("CMD uid=0 user=root src=1.2.3.4 pwd=/root cmd=ls -la") into out.
    False when it has no "cmd=". */
static bool
s_cmd_body(decnet_span_t msg, decnet_line_t *out)
{
    const char *s = msg.p + 4; /* after "CMD " */
    const char *end = msg.p + msg.n;
    while (s < end) {
        while (s < end && *s == ' ') {
            s++;
        }
        if (end - s >= 4 && memcmp(s, "cmd=", 4) == 0) {
            out->cmd = (decnet_span_t){s + 4, (size_t)(end - s - 4)};
            return true;
        }
        const char *t = s;
        while (t < end && *t != ' ') {
            t++;
        }
        const char *eq = memchr(s, '=', (size_t)(t - s));
        if (eq) {
            decnet_span_t key = {s, (size_t)(eq - s)};
            decnet_span_t val = {eq + 1, (size_t)(t - eq - 1)};
            if (decnet_span_is(key, "src")) {
                out->cmd_src = val;
            } else if (decnet_span_is(key, "user")) {
                out->cmd_user = val;
            } else if (decnet_span_is(key, "uid")) {
                out->cmd_uid = val;
            } else if (decnet_span_is(key, "pwd")) {
                out->cmd_pwd = val;
            }
        }
        s = t;
    }
    return false;
}

/*  True when s (n bytes) starts like an RFC 3339 date-time: "dddd-dd-ddT". */
static bool
s_looks_like_time(const char *s, size_t n)
{
    int v;
    return n >= 11 && s_digits(s, 4, &v) && s[4] == '-' && s_digits(s + 5, 2, &v) && s[7] == '-' &&
           s_digits(s + 8, 2, &v) && (s[10] == 'T' || s[10] == 't');
}

/*  Leading blanks and a UTF-8 BOM removed from MSG. */
static decnet_span_t
s_trim_msg(const char *s, const char *end)
{
    while (s < end && s_blank(*s)) {
        s++;
    }
    if (end - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
    }
    return (decnet_span_t){s, (size_t)(end - s)};
}

/*  Reads an rsyslog inner header from MSG (TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD
    [MSG]) into out; the parameters of the inner SD's relay and extension elements are kept
    like the outer ones. False (out and the parameters untouched) when MSG is no such
    header. */
static bool
s_unwrap(decnet_parser_t *self, decnet_line_t *out)
{
    const char *p = out->msg.p;
    const char *end = p + out->msg.n;
    decnet_span_t ts, host, app, procid, msgid;
    int64_t t_us;
    if (!s_looks_like_time(p, out->msg.n) || !s_token(&p, end, &ts) ||
        decnet_parse_time(ts.p, ts.n, &t_us) != 0 || !s_token(&p, end, &host) ||
        !s_token(&p, end, &app) || !s_token(&p, end, &procid) || !s_token(&p, end, &msgid)) {
        return false;
    }
    const char *why = NULL;
    size_t n_params = self->n_params, n_ext = self->n_ext, buf_len = self->buf_len;
    if (s_sd(self, &p, end, true, &why) != 0) {
        self->n_params = n_params;
        self->n_ext = n_ext;
        self->buf_len = buf_len;
        return false;
    }
    out->wrapped = true;
    out->t_us = t_us;
    out->inner_host = host;
    out->app = app;
    out->msgid = msgid;
    out->msg = s_trim_msg(p, end);
    return true;
}

int
decnet_parse(decnet_parser_t *self, const char *line, size_t len, decnet_line_t *out,
             const char **why)
{
    memset(out, 0, sizeof *out);
    self->n_params = 0;
    self->n_ext = 0;
    self->buf_len = 0;
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    /* Every unescaped value is at most as long as its raw text, plus its NUL: a buffer of
       len + len / 4 + 16 bytes holds all of them (a value takes at least 4 bytes: ` a=""`). */
    size_t need = len + len / 4 + 16;
    if (self->buf_cap < need) {
        free(self->buf);
        self->buf_cap = need + need / 2;
        self->buf = xmalloc(self->buf_cap);
    }
    const char *p = line;
    const char *end = line + len;
    if (p >= end || *p != '<') {
        *why = "not an RFC 5424 line (no <PRI>)";
        return CADRE_ERECORD;
    }
    p++;
    int pri = 0, digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
        pri = pri * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || digits > 3 || p >= end || *p != '>' || pri > 191) {
        *why = "not an RFC 5424 line (bad <PRI>)";
        return CADRE_ERECORD;
    }
    p++;
    out->pri = pri;
    if (end - p < 2 || p[0] != '1' || p[1] != ' ') {
        *why = "not an RFC 5424 line (VERSION is not 1)";
        return CADRE_ERECORD;
    }
    p += 2;
    decnet_span_t ts;
    if (!s_token(&p, end, &ts) || !s_token(&p, end, &out->host) || !s_token(&p, end, &out->app) ||
        !s_token(&p, end, &out->procid) || !s_token(&p, end, &out->msgid) || p >= end) {
        *why = "RFC 5424 header cut short";
        return CADRE_ERECORD;
    }
    int rc = s_sd(self, &p, end, true, why);
    if (rc != 0) {
        return rc;
    }
    if (p < end && !s_blank(*p)) {
        *why = "no space between structured data and MSG";
        return CADRE_ERECORD;
    }
    out->msg = s_trim_msg(p, end);
    bool time_ok = decnet_parse_time(ts.p, ts.n, &out->t_us) == 0;
    bool nil_id = decnet_span_is(out->msgid, "-");
    if (nil_id && self->n_params == 0 && self->n_ext == 0) {
        s_unwrap(self, out);
        nil_id = decnet_span_is(out->msgid, "-");
    }
    if ((nil_id || decnet_span_is(out->msgid, "command")) && out->msg.n >= 4 &&
        memcmp(out->msg.p, "CMD ", 4) == 0) {
        out->command = s_cmd_body(out->msg, out);
    }
    out->native = !out->command && (nil_id || !decnet_span_is(out->procid, "-"));
    if (!time_ok && !out->wrapped) {
        *why = "TIMESTAMP is not an RFC 3339 time";
        return CADRE_ERECORD;
    }
    out->params = self->params;
    out->n_params = self->n_params;
    out->ext = self->ext;
    out->n_ext = self->n_ext;
    return 0;
}

/* -------------------------------------------------------------------------------------------
    cadre syslog-recv's lines */

size_t
decnet_worker_prefix(const char *line, size_t len)
{
    size_t k = 0;
    while (k < len && k <= 64 && line[k] > 32 && line[k] < 127) {
        k++;
    }
    return k > 0 && k <= 64 && k + 1 < len && line[k] == '\t' && line[k + 1] == '<' ? k + 1 : 0;
}

size_t
decnet_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            char e = s[i + 1];
            char v = e == '\\' ? '\\' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : 0;
            if (v) {
                out[o++] = v;
                i++;
                continue;
            }
        }
        out[o++] = c;
    }
    return o;
}

/* -------------------------------------------------------------------------------------------
    Addresses */

/*  Writes a.b.c.d of 4 bytes; returns its length. */
static size_t
s_v4_text(const uint8_t *b, char *out)
{
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (i) {
            out[o++] = '.';
        }
        if (v >= 100) {
            out[o++] = (char)('0' + v / 100);
        }
        if (v >= 10) {
            out[o++] = (char)('0' + v / 10 % 10);
        }
        out[o++] = (char)('0' + v % 10);
    }
    out[o] = '\0';
    return o;
}

/*  Writes the canonical text of an IPv6 address (RFC 5952, as inet_ntop writes it:
    lowercase, no leading zeros, the longest run of two or more zero groups as "::", the
    first of equal runs; IPv4-mapped and IPv4-compatible forms with a dotted tail as glibc
    writes them; IPv4-mapped ones become the IPv4 address). Returns its length. */
static size_t
s_v6_text(const struct in6_addr *a, char out[DECNET_ADDR_MAX])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *b = a->s6_addr;
    if (memcmp(b, mapped, 12) == 0) {
        return s_v4_text(b + 12, out);
    }
    static const uint8_t zero10[10] = {0};
    if (memcmp(b, zero10, 10) == 0 && b[10] == 0 && b[11] == 0 && (b[12] | b[13]) != 0) {
        /* "::a.b.c.d" (IPv4-compatible), the one other dotted form: leave it to libc */
        return inet_ntop(AF_INET6, a, out, DECNET_ADDR_MAX) ? strlen(out) : 0;
    }
    unsigned g[8];
    for (int i = 0; i < 8; i++) {
        g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    }
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0) {
            j++;
        }
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            out[o++] = ':';
            if (i == 0) {
                out[o++] = ':';
            }
            i += best_len - 1;
            continue;
        }
        bool lead = true;
        for (int s = 12; s >= 0; s -= 4) {
            unsigned d = g[i] >> s & 15;
            if (d || !lead || s == 0) {
                out[o++] = hex[d];
                lead = false;
            }
        }
        if (i < 7) {
            out[o++] = ':';
        }
    }
    out[o] = '\0';
    return o;
}

/*  Parses s (NUL-terminated, zone "%..." dropped) as IPv6 into out's canonical text. */
static size_t
s_v6(char *s, char out[DECNET_ADDR_MAX])
{
    char *zone = strchr(s, '%');
    if (zone) {
        *zone = '\0';
    }
    struct in6_addr a;
    return inet_pton(AF_INET6, s, &a) == 1 ? s_v6_text(&a, out) : 0;
}

static size_t
s_v4(const char *s, char out[DECNET_ADDR_MAX])
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1 ? s_v4_text((const uint8_t *)&a, out) : 0;
}

/*  True when s is 1-5 decimal digits. */
static bool
s_port(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n <= 5 && s[n] == '\0';
}

size_t
decnet_addr(const char *v, size_t n, char out[DECNET_ADDR_MAX])
{
    char buf[DECNET_ADDR_MAX + 16];
    if (n == 0 || n >= sizeof buf || memchr(v, '\0', n)) {
        return 0;
    }
    memcpy(buf, v, n);
    buf[n] = '\0';
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || (close[1] != '\0' && (close[1] != ':' || !s_port(close + 2)))) {
            return 0;
        }
        *close = '\0';
        return s_v6(buf + 1, out);
    }
    size_t got = s_v4(buf, out);
    if (got) {
        return got;
    }
    char *colon = strchr(buf, ':');
    if (colon && !strchr(colon + 1, ':')) {
        /* exactly one colon: "ipv4:port" (an IPv6 address has at least two) */
        if (!s_port(colon + 1)) {
            return 0;
        }
        *colon = '\0';
        return s_v4(buf, out);
    }
    return colon ? s_v6(buf, out) : 0;
}
