/*  decnet_event.c - what one parsed DECNET line says (see decnet_event.h and docs/decnet.md
    §3-4): the tables of attacker parameters, event phases and fingerprints, and the
    credential decoding. */
#include "decnet_event.h"

#include "jsonio.h"
#include "obs.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The last relay parameter called name (a literal: its length is folded), or NULL. */
#define s_param(l, name) decnet_param_find((l)->params, (l)->n_params, (name))

char *
decnet_clean(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80 && s[i] != '\0') {
        i++;
    }
    if (i == n) {
        return xstrndup(s, n);
    }
    char *out = xmalloc(n * 3 + 1);
    memcpy(out, s, i);
    size_t o = i;
    while (i < n) {
        uint32_t cp;
        size_t k = s[i] == '\0' ? 0 : obs_utf8_next(s + i, n - i, &cp);
        if (k == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return out;
}

bool
decnet_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = s[i] == '\0' ? 0 : obs_utf8_next(s + i, n - i, &cp);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

/* -------------------------------------------------------------------------------------------
    The attacker */

/*  The parameters that name the attacker, in the order DECNET looks for them (its
    correlation parser's order; DECNET-LOGS.md §2.1 step 8). The first present one decides. */
static const char *const s_ip_keys[] = {"src_ip",      "src",       "client_ip", "remote_ip",
                                        "remote_addr", "target_ip", "ip"};
#define S_N_IP_KEYS (sizeof s_ip_keys / sizeof s_ip_keys[0])

/*  The parameter naming the attacker: of the first key of s_ip_keys present, its last
    occurrence (later duplicates win, as everywhere); NULL when none is. One pass. */
static const decnet_param_t *
s_ip_param(const decnet_line_t *l)
{
    const decnet_param_t *best = NULL;
    size_t rank = S_N_IP_KEYS;
    for (size_t i = 0; i < l->n_params; i++) {
        const decnet_param_t *p = &l->params[i];
        char c = p->name.p[0];
        if (p->name.n > 11 || (c != 's' && c != 'c' && c != 'r' && c != 't' && c != 'i')) {
            continue;
        }
        for (size_t k = 0; k <= rank && k < S_N_IP_KEYS; k++) {
            if (decnet_span_is(p->name, s_ip_keys[k])) {
                best = p;
                rank = k;
                break;
            }
        }
    }
    return best;
}

size_t
decnet_event_addr(const decnet_line_t *l, char out[DECNET_ADDR_MAX])
{
    if (l->command) {
        return l->cmd_src.n ? decnet_addr(l->cmd_src.p, l->cmd_src.n, out) : 0;
    }
    const decnet_param_t *p = s_ip_param(l);
    return p ? decnet_addr(p->value.p, p->value.n, out) : 0;
}

/* -------------------------------------------------------------------------------------------
    Phases */

/*  MSGIDs with a phase of their own (docs/decnet.md §3.2): APP-NAME (NULL: any), MSGID. */
typedef struct {
    const char *app;   /* APP-NAME, or NULL for any */
    const char *msgid; /* MSGID */
    ukc_phase_t phase; /* its phase */
} s_phase_rule_t;

static const s_phase_rule_t s_phase_rules[] = {
    {NULL, "auth_attempt", UKC_CREDENTIAL_ACCESS},
    {NULL, "auth", UKC_CREDENTIAL_ACCESS},
    {NULL, "auth_start", UKC_CREDENTIAL_ACCESS},
    {NULL, "auth_response", UKC_CREDENTIAL_ACCESS},
    {"ldap", "bind", UKC_CREDENTIAL_ACCESS},
    {"rdp", "rdp_cookie", UKC_CREDENTIAL_ACCESS},
    {"smtp", "mail_from", UKC_DELIVERY},
    {"smtp", "rcpt_to", UKC_DELIVERY},
    {"smtp", "message_accepted", UKC_DELIVERY},
    {"smtp", "message_stored", UKC_DELIVERY},
    {"smtp_relay", "mail_from", UKC_DELIVERY},
    {"smtp_relay", "rcpt_to", UKC_DELIVERY},
    {"smtp_relay", "message_accepted", UKC_DELIVERY},
    {"smtp_relay", "message_stored", UKC_DELIVERY},
    {"elasticsearch", "cluster_recon", UKC_DISCOVERY},
    {"elasticsearch", "nodes_recon", UKC_DISCOVERY},
    {"elasticsearch", "cat_api", UKC_DISCOVERY},
    {"elasticsearch", "security_probe", UKC_DISCOVERY},
    {"pop3", "retr", UKC_COLLECTION},
    {"redis", "command", UKC_EXECUTION},
};

ukc_phase_t
decnet_event_phase(const decnet_line_t *l)
{
    for (size_t i = 0; i < sizeof s_phase_rules / sizeof s_phase_rules[0]; i++) {
        const s_phase_rule_t *r = &s_phase_rules[i];
        if (decnet_span_is(l->msgid, r->msgid) && (!r->app || decnet_span_is(l->app, r->app))) {
            return r->phase;
        }
    }
    if (decnet_span_is(l->app, "tftp") && decnet_span_is(l->msgid, "request")) {
        const decnet_param_t *op = s_param(l, "op");
        if (op && (decnet_span_is(op->value, "WRQ") || decnet_span_is(op->value, "write"))) {
            return UKC_DELIVERY;
        }
    }
    return UKC_NONE;
}

/*  A decimal number of seconds ("12", "0.25") in microseconds; -1 when it is none. */
static int64_t
s_decimal_us(const char *s)
{
    int64_t whole = 0, frac = 0, scale = 100000;
    size_t i = 0;
    if (!s[0]) {
        return -1;
    }
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (whole > INT64_MAX / 10 / 1000000 - 1) {
            return -1;
        }
        whole = whole * 10 + (s[i] - '0');
    }
    if (s[i] == '.') {
        for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
            frac += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    return s[i] == '\0' ? whole * 1000000 + frac : -1;
}

int64_t
decnet_event_span(const decnet_line_t *l)
{
    if (!decnet_span_is(l->msgid, "session_recorded")) {
        return 0;
    }
    const decnet_param_t *d = s_param(l, "duration_s");
    int64_t us = d && d->value.n < 32 ? s_decimal_us(d->value.p) : -1;
    return us > 0 ? us : 0;
}

/* -------------------------------------------------------------------------------------------
    Credentials */

/*  Decodes standard base64 (padding optional) into a new buffer (*out, *n, NUL-terminated).
    False when s is not base64. */
static bool
s_b64_decode(const char *s, size_t len, char **out, size_t *n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while (len > 0 && s[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1) {
        return false;
    }
    char *buf = xmalloc(len * 3 / 4 + 1);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        const char *c = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (!c) {
            free(buf);
            return false;
        }
        acc = acc << 6 | (uint32_t)(c - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)(acc >> bits & 0xff);
        }
    }
    buf[o] = '\0';
    *out = buf;
    *n = o;
    return true;
}

char *
decnet_credential_secret(const char *kind, const char *secret)
{
    if (!kind || !kind[0] || strcmp(kind, "plaintext") == 0) {
        return xstrdup(secret);
    }
    return xasprintf("%s:%s", kind, secret);
}

bool
decnet_event_credential(const decnet_line_t *l, char **user_p, char **secret_p)
{
    const decnet_param_t *b64 = s_param(l, "secret_b64");
    const decnet_param_t *printable = s_param(l, "secret_printable");
    if (!b64 && !printable) {
        return false;
    }
    const decnet_param_t *kind_p = s_param(l, "secret_kind");
    char *kind = kind_p ? decnet_clean(kind_p->value.p, kind_p->value.n) : xstrdup("plaintext");
    bool plain = strcmp(kind, "plaintext") == 0 || kind[0] == '\0';
    char *secret = NULL;
    size_t n = 0;
    if (b64 && (plain || !printable) && s_b64_decode(b64->value.p, b64->value.n, &secret, &n) &&
        !decnet_utf8(secret, n)) {
        free(secret);
        secret = NULL;
    }
    if (!secret) {
        const decnet_param_t *p = printable ? printable : b64;
        secret = decnet_clean(p->value.p, p->value.n);
    }
    *secret_p = decnet_credential_secret(kind, secret);
    free(secret);
    free(kind);
    const decnet_param_t *user = s_param(l, "principal");
    if (!user || decnet_span_is(user->value, "None")) {
        user = s_param(l, "username") ? s_param(l, "username") : user;
    }
    *user_p = user ? decnet_clean(user->value.p, user->value.n) : xstrdup("");
    return true;
}

/* -------------------------------------------------------------------------------------------
    Fingerprints */

/*  The fingerprint parameters of sniffer, prober and service events. */
typedef struct {
    const char *app;   /* APP-NAME, or NULL for any */
    const char *msgid; /* MSGID */
    size_t msgid_n;    /* its length */
    const char *param; /* the parameter holding the value */
    uint32_t kind;     /* decnet_fp_kind_t, DECNET_FP_JA3 or DECNET_FP_JA4 */
} s_fp_rule_t;

#define S_LIT(s) s, sizeof(s) - 1

static const s_fp_rule_t s_fp_rules[] = {
    {"sniffer", S_LIT("tls_client_hello"), "ja3", DECNET_FP_JA3},
    {"sniffer", S_LIT("tls_client_hello"), "ja4", DECNET_FP_JA4},
    {"sniffer", S_LIT("tls_client_hello"), "resumption", DECNET_FP_TLS_RESUMPTION},
    {"sniffer", S_LIT("tls_session"), "ja3", DECNET_FP_JA3},
    {"sniffer", S_LIT("tls_session"), "ja4", DECNET_FP_JA4},
    {"sniffer", S_LIT("tls_session"), "resumption", DECNET_FP_TLS_RESUMPTION},
    {"sniffer", S_LIT("quic_client_hello"), "ja4_quic", DECNET_FP_JA4_QUIC},
    {"sniffer", S_LIT("ssh_client_banner"), "ssh_version", DECNET_FP_SSH_CLIENT},
    {"prober", S_LIT("jarm_fingerprint"), "jarm_hash", DECNET_FP_JARM},
    {"prober", S_LIT("hassh_fingerprint"), "hassh_server_hash", DECNET_FP_HASSH_SERVER},
    {"prober", S_LIT("tcpfp_fingerprint"), "tcpfp_hash", DECNET_FP_TCPFP},
    {"prober", S_LIT("tls_certificate"), "cert_sha256", DECNET_FP_TLS_CERT},
    {"prober", S_LIT("icmp_error_leak"), "icmp_fp_hash", DECNET_FP_ICMP},
    {"prober", S_LIT("icmp6_error_leak"), "icmp6_fp_hash", DECNET_FP_ICMP6},
    {NULL, S_LIT("http_request_fingerprint"), "ja4h", DECNET_FP_JA4H},
    {NULL, S_LIT("http_request_fingerprint"), "headers_ordered", DECNET_FP_HTTP_HEADERS},
    {NULL, S_LIT("http2_settings"), "settings", DECNET_FP_HTTP2},
    {NULL, S_LIT("http3_settings"), "settings", DECNET_FP_HTTP3},
    {"elasticsearch", S_LIT("post_request"), "user_agent", DECNET_FP_USER_AGENT},
    {"vnc", S_LIT("version"), "client_version", DECNET_FP_VNC_CLIENT},
};

/*  Adds a value to out unless its kind is settled (then only counted). */
static void
s_fp_add(decnet_fps_t *out, uint32_t settled, uint32_t kind, const char *v, size_t n)
{
    out->present++;
    if ((settled >> kind & 1) == 0 && out->n < DECNET_EVENT_MAX_FPS) {
        out->v[out->n++] = (decnet_fp_value_t){.kind = kind, .v = v, .n = n};
    }
}

void
decnet_event_fingerprints(const decnet_line_t *l, uint32_t settled, decnet_fps_t *out)
{
    out->n = 0;
    out->present = 0;
    out->owned = NULL;
    for (size_t i = 0; i < sizeof s_fp_rules / sizeof s_fp_rules[0]; i++) {
        const s_fp_rule_t *r = &s_fp_rules[i];
        if (l->msgid.n != r->msgid_n || memcmp(l->msgid.p, r->msgid, r->msgid_n) != 0 ||
            (r->app && !decnet_span_is(l->app, r->app))) {
            continue;
        }
        const decnet_param_t *p = decnet_param_find(l->params, l->n_params, r->param);
        if (p) {
            s_fp_add(out, settled, r->kind, p->value.p, p->value.n);
        }
    }
    size_t used = 0;
    bool sniffer = decnet_span_is(l->app, "sniffer");
    if (sniffer && decnet_span_is(l->msgid, "tcp_syn_fingerprint")) {
        /* p0f-style: the initial TTL, not the hop-dependent one; no derived os_guess */
        static const char *const parts[] = {"initial_ttl", "window", "mss", "wscale",
                                            "options_sig"};
        for (size_t k = 0; k < 5; k++) {
            const decnet_param_t *p = decnet_param_find(l->params, l->n_params, parts[k]);
            int w = snprintf(out->buf + used, 320 - used, "%s%.*s", k ? ":" : "",
                             p ? (int)(p->value.n > 60 ? 60 : p->value.n) : 0, p ? p->value.p : "");
            used += w > 0 ? (size_t)w : 0;
        }
        s_fp_add(out, settled, DECNET_FP_TCP_SYN, out->buf, used);
    }
    const decnet_param_t *rtt = sniffer ? s_param(l, "ja4l_rtt_ms") : NULL;
    const decnet_param_t *ttl = sniffer ? s_param(l, "ja4l_client_ttl") : NULL;
    if (rtt && ttl && rtt->value.n + ttl->value.n < 256) {
        int w = snprintf(out->buf + used, sizeof out->buf - used, "%.*s_%.*s", (int)rtt->value.n,
                         rtt->value.p, (int)ttl->value.n, ttl->value.p);
        s_fp_add(out, settled, DECNET_FP_JA4L, out->buf + used, (size_t)w);
        used += (size_t)w;
    }
    const decnet_param_t *headers =
        decnet_span_is(l->msgid, "request") ? s_param(l, "headers") : NULL;
    if (headers && (settled >> DECNET_FP_USER_AGENT & 1) != 0) {
        out->present++; /* settled: the JSON is not even parsed */
    } else if (headers) {
        out->owned = jsonio_member_string(headers->value.p, headers->value.n, "User-Agent");
        if (out->owned) {
            s_fp_add(out, settled, DECNET_FP_USER_AGENT, out->owned, strlen(out->owned));
        }
    }
}

void
decnet_fps_clear(decnet_fps_t *out)
{
    free(out->owned);
    out->owned = NULL;
    out->n = 0;
}

const char *
decnet_fp_kind_name(decnet_fp_kind_t kind)
{
    static const char *const names[DECNET_FP_KINDS] = {
        [DECNET_FP_SSH_CLIENT] = "ssh_client",
        [DECNET_FP_TCP_SYN] = "tcp_syn",
        [DECNET_FP_JA4_QUIC] = "ja4_quic",
        [DECNET_FP_JA4L] = "ja4l",
        [DECNET_FP_TLS_RESUMPTION] = "tls_resumption",
        [DECNET_FP_JA4H] = "ja4h",
        [DECNET_FP_HTTP_HEADERS] = "http_headers",
        [DECNET_FP_HTTP2] = "http2_settings",
        [DECNET_FP_HTTP3] = "http3_settings",
        [DECNET_FP_USER_AGENT] = "http_useragent",
        [DECNET_FP_VNC_CLIENT] = "vnc_client",
        [DECNET_FP_JARM] = "jarm",
        [DECNET_FP_HASSH_SERVER] = "hassh_server",
        [DECNET_FP_TCPFP] = "tcpfp",
        [DECNET_FP_TLS_CERT] = "tls_cert_sha256",
        [DECNET_FP_ICMP] = "icmp",
        [DECNET_FP_ICMP6] = "icmp6",
    };
    return kind >= 0 && kind < DECNET_FP_KINDS ? names[kind] : NULL;
}
