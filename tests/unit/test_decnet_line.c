/*  test_decnet_line.c - the DECNET line parser: the example lines of DECNET-LOGS.md §1.11,
    every parser defect of §2.4 done right (escaped ']' and '"', IPv6 sources, ip:port,
    no address from a command's text), wrapped shell-command lines (§1.10), diagnostics and
    native lines, RFC 3339 times and malformed lines. */
#include "decnet_line.h"
#include "err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

/*  The example lines of DECNET-LOGS.md §1.11. */
#define FTP_CONNECTION                                                                             \
    "<134>1 2026-05-02T06:22:48.089309+00:00 decky-03 ftp - connection [relay@55555 "              \
    "src_ip=\"203.0.113.7\" src_port=\"51514\"]"
#define SSH_CREDENTIAL                                                                             \
    "<134>1 2026-05-02T06:22:48.089309+00:00 SRV-DELTA-77 auth-helper - auth_attempt "             \
    "[relay@55555 username=\"root\" principal=\"root\" secret_printable=\"123456\" "               \
    "secret_b64=\"MTIzNDU2\" src_ip=\"203.0.113.7\"]"
#define HTTP_REQUEST                                                                               \
    "<134>1 2026-05-02T06:22:48.089309+00:00 decky-01 http - request [relay@55555 "                \
    "method=\"GET\" path=\"/admin\" remote_addr=\"203.0.113.7\" headers=\"{\\\"Host\\\": "         \
    "\\\"192.168.1.110\\\", \\\"User-Agent\\\": \\\"curl/8.5.0\\\", \\\"Authorization\\\": "       \
    "\\\"Basic YWRtaW46YWRtaW4=\\\"}\" body=\"\" principal=\"admin\" secret_kind=\"plaintext\" "   \
    "secret_printable=\"admin\" secret_b64=\"YWRtaW4=\"]"
#define TLS_HELLO                                                                                  \
    "<134>1 2026-05-02T06:22:48.089309+00:00 decky-01 sniffer - tls_client_hello [relay@55555 "    \
    "src_ip=\"203.0.113.7\" src_port=\"51514\" dst_ip=\"192.168.1.110\" dst_port=\"443\" "         \
    "ja3=\"e7d705a3286e19ea42f587b344ee6865\" ja4=\"t13d1516h2_8daaf6152771_02713d6af862\" "       \
    "tls_version=\"TLS 1.2\" sni=\"\" alpn=\"h2,http/1.1\" raw_ciphers=\"4865-4866\" "             \
    "raw_extensions=\"0-23-65281\"]"
#define DOUBLE_WRAP                                                                                \
    "<14>1 2026-05-02T06:22:48.089309+00:00 omega-decky 1 - - -  "                                 \
    "2026-05-02T06:22:48.089286+00:00 SRV-DELTA-77 bash - command [timeQuality tzKnown=\"1\" "     \
    "isSynced=\"1\" syncAccuracy=\"326228\"] CMD uid=0 user=root src=192.168.1.5 pwd=/root "       \
    "cmd=ls /var/www/html"

/*  2026-05-02T06:22:48.089309Z in microseconds. */
#define T_EXAMPLE 1777702968089309LL

static decnet_parser_t *g_parser;

static int
s_setup(void **state)
{
    (void)state;
    g_parser = decnet_parser_new();
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    decnet_parser_destroy(&g_parser);
    assert_null(g_parser);
    return 0;
}

/*  Parses text, which must parse. */
static decnet_line_t
s_parse(const char *text)
{
    decnet_line_t l;
    const char *why = NULL;
    int rc = decnet_parse(g_parser, text, strlen(text), &l, &why);
    if (rc != 0) {
        fail_msg("'%s' did not parse: %s", text, why);
    }
    return l;
}

static void
s_span_eq(decnet_span_t span, const char *want)
{
    if (!decnet_span_is(span, want)) {
        fail_msg("'%.*s', wanted '%s'", (int)span.n, span.p, want);
    }
}

/*  The value of relay parameter name, which must be present. */
static const char *
s_val(const decnet_line_t *l, const char *name)
{
    const decnet_param_t *p = decnet_param_find(l->params, l->n_params, name);
    if (!p) {
        fail_msg("no parameter '%s'", name);
    }
    return p->value.p;
}

/*  The canonical address of a value, or "" when it names none. */
static const char *
s_addr(const char *v)
{
    static char out[DECNET_ADDR_MAX];
    return decnet_addr(v, strlen(v), out) ? out : "";
}

static void
test_example_lines(void **state)
{
    (void)state;
    decnet_line_t l = s_parse(FTP_CONNECTION);
    assert_int_equal(l.pri, 134);
    assert_true(l.t_us == T_EXAMPLE);
    s_span_eq(l.host, "decky-03");
    s_span_eq(l.app, "ftp");
    s_span_eq(l.procid, "-");
    s_span_eq(l.msgid, "connection");
    assert_int_equal(l.n_params, 2);
    assert_string_equal(s_val(&l, "src_ip"), "203.0.113.7");
    assert_string_equal(s_val(&l, "src_port"), "51514");
    assert_false(l.native || l.command || l.wrapped);
    assert_int_equal(l.msg.n, 0);

    l = s_parse(SSH_CREDENTIAL);
    s_span_eq(l.host, "SRV-DELTA-77");
    s_span_eq(l.app, "auth-helper");
    s_span_eq(l.msgid, "auth_attempt");
    assert_string_equal(s_val(&l, "principal"), "root");
    assert_string_equal(s_val(&l, "secret_b64"), "MTIzNDU2");
    assert_string_equal(s_val(&l, "src_ip"), "203.0.113.7");

    l = s_parse(HTTP_REQUEST);
    s_span_eq(l.app, "http");
    s_span_eq(l.msgid, "request");
    assert_string_equal(s_val(&l, "headers"),
                        "{\"Host\": \"192.168.1.110\", \"User-Agent\": \"curl/8.5.0\", "
                        "\"Authorization\": \"Basic YWRtaW46YWRtaW4=\"}");
    assert_string_equal(s_val(&l, "body"), "");
    assert_string_equal(s_val(&l, "remote_addr"), "203.0.113.7");
    assert_string_equal(s_val(&l, "secret_kind"), "plaintext");

    l = s_parse(TLS_HELLO);
    s_span_eq(l.app, "sniffer");
    s_span_eq(l.msgid, "tls_client_hello");
    assert_string_equal(s_val(&l, "ja3"), "e7d705a3286e19ea42f587b344ee6865");
    assert_string_equal(s_val(&l, "sni"), "");
    assert_string_equal(s_val(&l, "raw_extensions"), "0-23-65281");
    assert_int_equal(l.n_params, 11);
}

static void
test_double_wrap(void **state)
{
    (void)state;
    decnet_line_t l = s_parse(DOUBLE_WRAP);
    assert_true(l.wrapped);
    assert_true(l.command);
    assert_false(l.native);
    assert_int_equal(l.pri, 14);
    s_span_eq(l.host, "omega-decky");
    s_span_eq(l.inner_host, "SRV-DELTA-77");
    s_span_eq(l.app, "bash");
    s_span_eq(l.msgid, "command");
    assert_true(l.t_us == T_EXAMPLE - 23); /* the inner header's time */
    s_span_eq(l.cmd, "ls /var/www/html");
    s_span_eq(l.cmd_src, "192.168.1.5");
    s_span_eq(l.cmd_user, "root");
    s_span_eq(l.cmd_uid, "0");
    s_span_eq(l.cmd_pwd, "/root");
    assert_int_equal(l.n_params, 0); /* timeQuality is not DECNET's element */

    /* The single-wrapped variant, and a command with spaces, '=' and an IP in its text. */
    l = s_parse("<14>1 2026-05-02T06:22:48+00:00 decky-02 bash - - -  CMD uid=0 user=admin "
                "src=2001:db8::10 pwd=/tmp cmd=ping -c1 8.8.8.8 && X=1 echo ok");
    assert_true(l.command);
    assert_false(l.wrapped);
    s_span_eq(l.host, "decky-02");
    s_span_eq(l.cmd, "ping -c1 8.8.8.8 && X=1 echo ok");
    s_span_eq(l.cmd_src, "2001:db8::10");
    assert_true(l.t_us == T_EXAMPLE - 89309);

    /* Telnet: no user, no src; the IP in the command is no source. */
    l = s_parse("<14>1 2026-05-02T06:22:48+00:00 omega-decky 1 - - -  2026-05-02T06:22:48+00:00 "
                "SRV-OMEGA bash 311 command - CMD uid=0 pwd=/ cmd=ping -c1 8.8.8.8");
    assert_true(l.command && l.wrapped);
    assert_int_equal(l.cmd_src.n, 0);
    assert_int_equal(l.cmd_user.n, 0);
    s_span_eq(l.cmd, "ping -c1 8.8.8.8");
}

static void
test_escapes(void **state)
{
    (void)state;
    /* An escaped ']' does not end the element: src_ip after it survives (DECNET loses it). */
    decnet_line_t l =
        s_parse("<134>1 2026-05-02T06:22:48+00:00 SRV-X auth-helper - auth_attempt [relay@55555 "
                "username=\"root\" principal=\"root\" secret_printable=\"pa\\]ss\\\"w\\\\d\" "
                "secret_b64=\"cGFdc3MidlxkCg==\" src_ip=\"198.51.100.4\"]");
    assert_string_equal(s_val(&l, "secret_printable"), "pa]ss\"w\\d");
    assert_string_equal(s_val(&l, "src_ip"), "198.51.100.4");
    /* JSON lists with ']' (headers_ordered), a backslash before another character kept. */
    l = s_parse("<134>1 2026-05-02T06:22:48+00:00 decky-01 http - http_request_fingerprint "
                "[relay@55555 remote_addr=\"203.0.113.7:51514\" headers_ordered=\"[\\\"host\\\", "
                "\\\"user-agent\\\"\\]\" path=\"/a\\b\\]c\" ja4h=\"ge11nn020000_x\"]");
    assert_string_equal(s_val(&l, "headers_ordered"), "[\"host\", \"user-agent\"]");
    assert_string_equal(s_val(&l, "path"), "/a\\b]c");
    assert_string_equal(s_val(&l, "ja4h"), "ge11nn020000_x");
    /* Duplicate keys: the later wins. Non-ASCII passes through. */
    l = s_parse("<134>1 2026-05-02T06:22:48+00:00 d http - request [relay@55555 a=\"1\" "
                "a=\"2\" body=\"\xc3\xa9t\xc3\xa9\"]");
    assert_string_equal(s_val(&l, "a"), "2");
    assert_string_equal(s_val(&l, "body"), "\xc3\xa9t\xc3\xa9");
}

static void
test_extension_and_msg(void **state)
{
    (void)state;
    decnet_line_t l =
        s_parse("<134>1 2026-05-02T06:22:48+00:00 decky-01 smb - connection [relay@55555 "
                "src_ip=\"203.0.113.9\"][cadre@32473 session=\"sess-1\" phase=\"delivery\"] "
                "\xEF\xBB\xBFsome text");
    assert_int_equal(l.n_params, 1);
    assert_int_equal(l.n_ext, 2);
    assert_string_equal(decnet_param_find(l.ext, l.n_ext, "session")->value.p, "sess-1");
    s_span_eq(l.msg, "some text");
    /* Other elements are skipped, in either order. */
    l = s_parse("<134>1 2026-05-02T06:22:48+00:00 d x - e [other@1 k=\"v\"][relay@55555 "
                "src=\"10.1.1.1\"]");
    assert_int_equal(l.n_params, 1);
    assert_string_equal(s_val(&l, "src"), "10.1.1.1");
}

static void
test_native(void **state)
{
    (void)state;
    /* DECNET's own diagnostics: PROCID a PID, MSGID a logger name, SD "-". */
    decnet_line_t l = s_parse("<134>1 2026-05-02T06:22:48.1+00:00 master decnet 4242 "
                              "decnet.collector - collector started on 203.0.113.7");
    assert_true(l.native);
    /* Native rsyslog lines routed from the SSH image. */
    l = s_parse("<86>1 2026-05-02T06:22:48+02:00 decky-01 sudo 311 - -  root : TTY=pts/0 ; "
                "COMMAND=/bin/ls");
    assert_true(l.native);
    assert_true(l.t_us == T_EXAMPLE - 89309 - 7200LL * 1000000);
    /* systemd-journal plain logger text: MSGID "-". */
    l = s_parse("<14>1 2026-05-02T06:22:48+00:00 decky-01 systemd-journal - - - file_skipped "
                "size=9 path=/x reason=oversize");
    assert_true(l.native);
    assert_false(l.command);
}

static void
test_times(void **state)
{
    (void)state;
    int64_t us = 0;
    assert_int_equal(decnet_parse_time("1970-01-01T00:00:00Z", 20, &us), 0);
    assert_true(us == 0);
    const char *t = "2026-05-02T06:22:48.089309+00:00";
    assert_int_equal(decnet_parse_time(t, strlen(t), &us), 0);
    assert_true(us == T_EXAMPLE);
    t = "2026-05-02T08:22:48.089309123+02:00"; /* nanoseconds cut to microseconds */
    assert_int_equal(decnet_parse_time(t, strlen(t), &us), 0);
    assert_true(us == T_EXAMPLE);
    t = "2026-05-02T01:52:48.5-04:30";
    assert_int_equal(decnet_parse_time(t, strlen(t), &us), 0);
    assert_true(us == T_EXAMPLE - 89309 + 500000);
    const char *bad[] = {"-",
                         "2026-05-02",
                         "2026-05-02T06:22:48",
                         "2026-13-02T06:22:48Z",
                         "2026-05-02T06:22:48.Z",
                         "2026-05-02T06:22:48+0000",
                         "2026-05-02T06:22:48+00:00x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (decnet_parse_time(bad[i], strlen(bad[i]), &us) != CADRE_ERECORD) {
            fail_msg("'%s' parsed", bad[i]);
        }
    }
}

static void
test_addresses(void **state)
{
    (void)state;
    const struct {
        const char *value;
        const char *addr;
    } cases[] = {
        {"203.0.113.7", "203.0.113.7"},
        {"203.0.113.7:51514", "203.0.113.7"}, /* Caddy's remote_addr: split */
        {"2001:db8::10", "2001:db8::10"},     /* never split at the last colon */
        {"2001:DB8:0::10", "2001:db8::10"},
        {"[2001:db8::10]:443", "2001:db8::10"},
        {"[2001:db8::10]", "2001:db8::10"},
        {"::ffff:203.0.113.7", "203.0.113.7"},
        {"fe80::1%eth0", "fe80::1"},
        {"?", ""},
        {"-", ""},
        {"None", ""},
        {"Unknown", ""},
        {"", ""},
        {"12:30:45", ""},
        {"203.0.113.7:port", ""},
        {"[2001:db8::10]x", ""},
        {"1.2.3", ""},
        {"example.com", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = s_addr(cases[i].value);
        if (strcmp(got, cases[i].addr) != 0) {
            fail_msg("'%s' -> '%s', wanted '%s'", cases[i].value, got, cases[i].addr);
        }
    }
}

/*  The canonical IPv6 text is inet_ntop's, on addresses with every pattern of zero groups
    (IPv4-mapped ones become IPv4). */
static void
test_ipv6_text(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; i++) {
        uint8_t a[16];
        for (int g = 0; g < 8; g++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bool zero = (i >> g & 1) != 0 || (x & 3) == 0;
            a[2 * g] = zero ? 0 : (uint8_t)(x >> 8);
            a[2 * g + 1] = zero ? 0 : (uint8_t)(x >> 16);
        }
        if (i % 97 == 0) { /* IPv4-mapped */
            memset(a, 0, 10);
            a[10] = a[11] = 0xff;
        }
        char in[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN], got[DECNET_ADDR_MAX];
        inet_ntop(AF_INET6, a, in, sizeof in);
        if (i % 97 == 0) {
            inet_ntop(AF_INET, a + 12, want, sizeof want);
        } else {
            strcpy(want, in);
        }
        assert_true(decnet_addr(in, strlen(in), got) > 0);
        if (strcmp(got, want) != 0) {
            fail_msg("'%s' -> '%s', wanted '%s'", in, got, want);
        }
    }
}

static void
test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "garbage",
        "<134>2 2026-05-02T06:22:48+00:00 d a - m -",
        "<999>1 2026-05-02T06:22:48+00:00 d a - m -",
        "<134>1 2026-05-02T06:22:48+00:00 d a -",
        "<134>1 yesterday d a - m -",
        "<134>1 2026-05-02T06:22:48+00:00 d a - m nosd",
        /* a value cut by an LF in the attacker's text: the element never closes */
        "<134>1 2026-05-02T06:22:48+00:00 d http - request [relay@55555 body=\"line one",
        "<134>1 2026-05-02T06:22:48+00:00 d a - m [relay@55555 k=\"v\"",
        "<134>1 2026-05-02T06:22:48+00:00 d a - m [relay@55555 k=v]",
        "<134>1 2026-05-02T06:22:48+00:00 d a - m [relay@55555 k=\"v\"x]",
        "<134>1 2026-05-02T06:22:48+00:00 d a - m [relay@55555 k=\"v\"]x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        decnet_line_t l;
        const char *why = NULL;
        if (decnet_parse(g_parser, bad[i], strlen(bad[i]), &l, &why) != CADRE_ERECORD) {
            fail_msg("'%s' parsed", bad[i]);
        }
        assert_non_null(why);
    }
    /* A CRLF line and a truncated-looking but closed element parse. */
    decnet_line_t l = s_parse(FTP_CONNECTION "\r");
    assert_string_equal(s_val(&l, "src_port"), "51514");
}

/*  The parser reuses its buffers: a long line, then a short one, then the long one again. */
static void
test_reuse(void **state)
{
    (void)state;
    char *long_line = malloc(200000);
    int n = snprintf(long_line, 200000,
                     "<134>1 2026-05-02T06:22:48+00:00 d http - request [relay@55555 "
                     "remote_addr=\"1.2.3.4\" body=\"");
    for (int i = 0; i < 30000; i++) {
        memcpy(long_line + n, "\\]\\\"ab", 6);
        n += 6;
    }
    strcpy(long_line + n, "\"]");
    for (int k = 0; k < 2; k++) {
        decnet_line_t l = s_parse(long_line);
        assert_int_equal(strlen(s_val(&l, "body")), 30000 * 4);
        l = s_parse(FTP_CONNECTION);
        assert_string_equal(s_val(&l, "src_ip"), "203.0.113.7");
    }
    free(long_line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_lines), cmocka_unit_test(test_double_wrap),
        cmocka_unit_test(test_escapes),       cmocka_unit_test(test_extension_and_msg),
        cmocka_unit_test(test_native),        cmocka_unit_test(test_times),
        cmocka_unit_test(test_addresses),     cmocka_unit_test(test_ipv6_text),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_reuse),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
