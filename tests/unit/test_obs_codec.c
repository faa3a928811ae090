/*  test_obs_codec.c - observation and assignment codecs: obs.c, jsonio.c, wire.c,
    obs_stream.c and assign.c.

    Schema errors are written once as JSON and run through both codecs: a test-only converter
    (jansson tree -> hand-packed MessagePack bytes) gives the MessagePack form, so both
    encodings must report the same record, id and field. MessagePack-only faults (NaN, bin,
    non-string keys, truncation, framing) are packed by hand with the small mp_* builder
    below; the tests never call msgpack-c themselves.
*/
#include "assign.h"
#include "err.h"
#include "jsonio.h"
#include "obs.h"
#include "obs_stream.h"
#include "wire.h"
#include "mp.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  --------------------------------------------------------------------------------------
    Helpers */

/*  A temporary file holding len bytes, positioned at the start. */
static FILE *
s_tmp(const void *data, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    if (len > 0) {
        assert_int_equal(fwrite(data, 1, len, f), len);
    }
    rewind(f);
    return f;
}

/*  One result of obs_reader_next. */
typedef struct {
    int rc;          /* 1, CADRE_ERECORD, CADRE_ETRUNC or -errno */
    obs_t *obs;      /* the record when rc == 1 */
    obs_error_t err; /* the error otherwise */
} read_result_t;

/*  Every result of reading a stream, up to its end. */
typedef struct {
    read_result_t *ev; /* results in order */
    size_t n;          /* number of results */
} evs_t;

static evs_t
s_read_all(FILE *f, obs_format_t format)
{
    obs_reader_t *r = obs_reader_new(f, format, "t");
    assert_non_null(r);
    evs_t out = {0};
    size_t cap = 0;
    for (;;) {
        obs_t *obs = NULL;
        obs_error_t err;
        memset(&err, 0, sizeof err);
        int rc = obs_reader_next(r, &obs, &err);
        if (rc == 0) {
            break;
        }
        assert_true(out.n < 100000);
        xgrow(&out.ev, &cap, out.n + 1);
        out.ev[out.n].rc = rc;
        out.ev[out.n].obs = obs;
        out.ev[out.n].err = err;
        out.n++;
    }
    /*  End of input is sticky. */
    obs_t *obs = NULL;
    obs_error_t err;
    assert_int_equal(obs_reader_next(r, &obs, &err), 0);
    obs_reader_destroy(&r);
    assert_null(r);
    return out;
}

static evs_t
s_read_bytes(const void *data, size_t len, obs_format_t format)
{
    FILE *f = s_tmp(data, len);
    evs_t evs = s_read_all(f, format);
    fclose(f);
    return evs;
}

static void
s_evs_free(evs_t *evs)
{
    for (size_t i = 0; i < evs->n; i++) {
        obs_destroy(&evs->ev[i].obs);
    }
    free(evs->ev);
    evs->ev = NULL;
    evs->n = 0;
}

/*  Asserts that ev is a good record with that id. */
static void
s_expect_good(const read_result_t *ev, const char *id)
{
    if (ev->rc != 1) {
        char msg[512];
        obs_error_format(&ev->err, "t", msg, sizeof msg);
        fail_msg("expected record '%s', got rc %d: %s", id, ev->rc, msg);
    }
    assert_string_equal(ev->obs->id, id);
}

/*  Asserts that ev is an error with that code, record number, id and field, and that its
    message contains what. */
static void
s_expect_err(const read_result_t *ev, int rc, uint64_t record, const char *id, const char *field,
             const char *what)
{
    if (ev->rc != rc) {
        fail_msg("expected rc %d, got %d (%s)", rc, ev->rc,
                 ev->rc == 1 ? ev->obs->id : ev->err.message);
    }
    assert_int_equal(ev->err.record, record);
    assert_string_equal(ev->err.id, id);
    assert_string_equal(ev->err.field, field);
    if (!strstr(ev->err.message, what)) {
        fail_msg("message '%s' lacks '%s'", ev->err.message, what);
    }
}

/*  JSON-encodes obs (which must be valid); the caller frees the text. */
static char *
s_json(const obs_t *obs)
{
    char *text = NULL;
    size_t len = 0;
    obs_error_t err;
    int rc = jsonio_obs_encode(obs, &text, &len, &err);
    if (rc != 0) {
        fail_msg("encode failed: %s: %s", err.field, err.message);
    }
    assert_int_equal(strlen(text), len);
    return text;
}

/*  Decodes JSON text that must be good. */
static obs_t *
s_from_json(const char *text)
{
    obs_t *obs = NULL;
    obs_error_t err;
    int rc = jsonio_obs_decode(text, strlen(text), 1, &obs, &err);
    if (rc != 0) {
        fail_msg("decode of %s failed: %s: %s", text, err.field, err.message);
    }
    return obs;
}

/*  MessagePack round trip of obs: encode, decode, compare. Returns the decoded copy. */
static obs_t *
s_mp_roundtrip(const obs_t *obs)
{
    wire_buf_t buf;
    wire_buf_init(&buf);
    obs_error_t err;
    assert_int_equal(wire_obs_encode(obs, &buf, &err), 0);
    obs_t *back = NULL;
    int rc = wire_obs_decode(buf.data, buf.len, 1, &back, &err);
    if (rc != 0) {
        fail_msg("msgpack decode failed: %s: %s", err.field, err.message);
    }
    wire_buf_free(&buf);
    assert_true(obs_equal(obs, back));
    return back;
}

/*  A record with every optional field set, odd strings and edge-case numbers. */
static obs_t *
s_full_record(void)
{
    obs_t *o = obs_new();
    o->id = xstrdup("att-\xc3\xa9\xf0\x9f\x98\x80 \"q\" \\ \n\t\x01\x7f/");
    o->ip = xstrdup("");
    o->has_asn = true;
    o->asn = INT64_MIN;
    o->ja3 = xstrdup("771,4865-4866-4867,0-23-65281,29-23-24,0");
    o->ja4 = xstrdup("t13d1516h2_8daaf6152771_02713d6af862");
    o->hassh = xstrdup("");
    o->has_kd = true;
    o->kd_simhash = UINT64_MAX;
    o->truth_campaign = xstrdup("camp\xe2\x80\xa8");
    o->truth_actor = xstrdup("");

    obs_session_t *s = obs_add_session(o);
    s->id = xstrdup("sess-1");
    s->decky = xstrdup("decky-\xe6\x97\xa5");
    s->phase = UKC_OBJECTIVES;
    s->start = 0.1;
    s->duration = 5e-324;
    s->n_commands = 3;
    s->commands = xcalloc(3, sizeof *s->commands);
    s->commands[0] = xstrdup("uname -a");
    s->commands[1] = xstrdup("");
    s->commands[2] = xstrdup("echo \xe6\x97\xa5\xe6\x9c\xac > /dev/null\r\n");
    s->n_creds = 2;
    s->creds = xcalloc(2, sizeof *s->creds);
    s->creds[0].user = xstrdup("root");
    s->creds[0].pass = xstrdup("toor");
    s->creds[1].user = xstrdup("");
    s->creds[1].pass = xstrdup("\xf4\x8f\xbf\xbf");
    s->payload_hash = xstrdup("");
    s->c2 = xstrdup("203.0.113.9:443");

    s = obs_add_session(o);
    s->phase = UKC_RECONNAISSANCE;
    s->start = -0.0;

    s = obs_add_session(o);
    s->phase = UKC_DISCOVERY;
    s->start = 1.7976931348623157e308;
    s->duration = 1e16;
    s->id = xstrdup("");
    return o;
}

/*  --------------------------------------------------------------------------------------
    obs.c */

static void
test_utf8_validator(void **state)
{
    (void)state;
    static const struct {
        const char *s; /* bytes */
        size_t len;    /* length */
        bool ok;       /* valid UTF-8 without NUL */
    } cases[] = {
        {"plain ascii", 11, true},
        {"\xc3\xa9", 2, true},          /* U+00E9 */
        {"\xe2\x82\xac", 3, true},      /* U+20AC */
        {"\xf0\x9f\x98\x80", 4, true},  /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
        {"\xed\x9f\xbf", 3, true},      /* U+D7FF */
        {"\xee\x80\x80", 3, true},      /* U+E000 */
        {"\xc0\x80", 2, false},         /* overlong NUL */
        {"\xc1\xbf", 2, false},         /* overlong */
        {"\xe0\x9f\xbf", 3, false},     /* overlong 3-byte */
        {"\xf0\x8f\xbf\xbf", 4, false}, /* overlong 4-byte */
        {"\xed\xa0\x80", 3, false},     /* surrogate U+D800 */
        {"\xed\xbf\xbf", 3, false},     /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, false}, /* lead byte above F4 */
        {"\x80", 1, false},             /* stray continuation */
        {"\xe2\x82", 2, false},         /* cut short */
        {"a\xc3", 2, false},            /* cut short at the end */
        {"\xe2\x28\xa1", 3, false},     /* bad continuation */
        {"\xff", 1, false},             /* never valid */
        {"a\0b", 3, false},             /* NUL */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        obs_error_t err;
        obs_error_reset(&err, 7, "rec");
        int rc = obs_check_string(cases[i].s, cases[i].len, 100, &err, "f");
        if ((rc == 0) != cases[i].ok) {
            fail_msg("case %zu: rc %d", i, rc);
        }
        if (rc != 0) {
            assert_int_equal(rc, CADRE_ERECORD);
            assert_int_equal(err.record, 7);
            assert_string_equal(err.id, "rec");
            assert_string_equal(err.field, "f");
        }
    }
    uint32_t cp = 0;
    assert_int_equal(obs_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(obs_utf8_next("\xf0\x9f\x98", 3, &cp), 0);

    obs_error_t err;
    obs_error_reset(&err, 1, NULL);
    assert_int_equal(obs_check_string("abcd", 4, 3, &err, "x"), CADRE_ERECORD);
    assert_non_null(strstr(err.message, "longer than the limit"));
    assert_int_equal(obs_check_string("abc", 3, 3, &err, "x"), 0);
}

static void
test_field_checks(void **state)
{
    (void)state;
    obs_error_t err;
    obs_error_reset(&err, 1, NULL);
    uint64_t v = 0;
    assert_int_equal(obs_check_simhash("0123456789ABCdef", 16, &v, &err, "k"), 0);
    assert_true(v == UINT64_C(0x0123456789abcdef));
    assert_int_equal(obs_check_simhash("0123456789abcde", 15, &v, &err, "k"), CADRE_ERECORD);
    assert_int_equal(obs_check_simhash("0123456789abcdeg", 16, &v, &err, "k"), CADRE_ERECORD);
    assert_int_equal(obs_check_simhash("0x23456789abcdef", 16, &v, &err, "k"), CADRE_ERECORD);
    char hex[17];
    obs_format_simhash(UINT64_C(0x00ab), hex);
    assert_string_equal(hex, "00000000000000ab");

    ukc_phase_t p = UKC_NONE;
    assert_int_equal(obs_check_phase("discovery", 9, &p, &err, "p"), 0);
    assert_int_equal(p, UKC_DISCOVERY);
    assert_int_equal(obs_check_phase("Discovery", 9, &p, &err, "p"), CADRE_ERECORD);
    assert_int_equal(obs_check_phase("discovery\0", 10, &p, &err, "p"), CADRE_ERECORD);

    assert_int_equal(obs_check_number(1.5, true, &err, "n"), 0);
    assert_int_equal(obs_check_number(-0.0, true, &err, "n"), 0);
    assert_int_equal(obs_check_number(-1.0, false, &err, "n"), 0);
    assert_int_equal(obs_check_number(-1.0, true, &err, "n"), CADRE_ERECORD);
    assert_int_equal(obs_check_number(NAN, false, &err, "n"), CADRE_ERECORD);
    assert_int_equal(obs_check_number(INFINITY, false, &err, "n"), CADRE_ERECORD);
    assert_int_equal(obs_check_number(-INFINITY, false, &err, "n"), CADRE_ERECORD);
}

static void
test_error_format(void **state)
{
    (void)state;
    obs_error_t err;
    char buf[512];
    assert_int_equal(obs_error_set(&err, 3, "a", "sessions[0].phase", "bad %d", 5), CADRE_ERECORD);
    obs_error_format(&err, "f.jsonl", buf, sizeof buf);
    assert_string_equal(buf, "f.jsonl:3: record 'a': field 'sessions[0].phase': bad 5");
    obs_error_set(&err, 9, NULL, "", "no json");
    obs_error_format(&err, "f.jsonl", buf, sizeof buf);
    assert_string_equal(buf, "f.jsonl:9: no json");

    /*  Control characters and bad bytes are masked; long ids are cut on a boundary. */
    obs_error_set(&err, 1, "a\nb\x1b[31m\xff", "x", "m\tn");
    assert_string_equal(err.id, "a?b?[31m?");
    assert_string_equal(err.message, "m?n");
    char id[301];
    for (int i = 0; i < 150; i++) {
        memcpy(id + 2 * i, "\xc3\xa9", 2);
    }
    id[300] = '\0';
    obs_error_set(&err, 1, id, "", "x");
    assert_int_equal(strlen(err.id) % 2, 0);
    assert_true(strlen(err.id) >= sizeof err.id - 2);
    assert_int_equal(obs_check_string(err.id, strlen(err.id), 100, &err, "f"), 0);

    /*  obs_error_nest builds paths from the inside out. */
    obs_error_reset(&err, 4, "n");
    obs_error_field(&err, "[1]", "m");
    obs_error_nest(&err, "credentials[%d]", 3);
    obs_error_nest(&err, "sessions[%d]", 2);
    assert_string_equal(err.field, "sessions[2].credentials[3][1]");
    obs_error_field(&err, "", "m");
    obs_error_nest(&err, "sessions[%d]", 0);
    assert_string_equal(err.field, "sessions[0]");
    obs_error_field(&err, "phase", "m");
    obs_error_nest(&err, "sessions[%d]", 0);
    assert_string_equal(err.field, "sessions[0].phase");

    /*  obs_error_field keeps record and id. */
    obs_error_reset(&err, 4, "keep");
    obs_error_field(&err, "ip", "bad");
    assert_int_equal(err.record, 4);
    assert_string_equal(err.id, "keep");
    assert_string_equal(err.field, "ip");
}

static void
test_lifecycle(void **state)
{
    (void)state;
    obs_t *a = s_full_record();
    obs_t *b = obs_dup(a);
    assert_true(obs_equal(a, b));
    assert_true(obs_equal(a, a));
    assert_false(obs_equal(a, NULL));

    /*  "" differs from NULL, -0.0 from 0.0, and asn matters only when set. */
    free(b->ip);
    b->ip = NULL;
    assert_false(obs_equal(a, b));
    b->ip = xstrdup("");
    assert_true(obs_equal(a, b));
    b->sessions[1].start = 0.0;
    assert_false(obs_equal(a, b));
    b->sessions[1].start = -0.0;
    b->has_asn = false;
    assert_false(obs_equal(a, b));
    a->has_asn = false;
    a->asn = 5;
    assert_true(obs_equal(a, b));

    /*  Appending to a dup'd or hand-built array grows it correctly. */
    for (int i = 0; i < 100; i++) {
        obs_session_t *s = obs_add_session(b);
        s->phase = UKC_IMPACT;
        s->start = i;
    }
    assert_int_equal(b->n_sessions, 103);
    assert_true(b->sessions[102].start == 99);
    assert_null(b->sessions[102].id);

    obs_t *c = obs_new();
    c->sessions = xcalloc(3, sizeof *c->sessions);
    c->n_sessions = 3;
    obs_add_session(c)->start = 7;
    assert_int_equal(c->n_sessions, 4);
    assert_true(c->sessions[3].start == 7);

    obs_destroy(&a);
    obs_destroy(&b);
    obs_destroy(&c);
    assert_null(a);
    obs_destroy(&a); /* NULL is a no-op */
}

static void
test_check_record(void **state)
{
    (void)state;
    obs_error_t err;
    obs_t *o = obs_new();
    err.record = 0;
    assert_int_equal(obs_check_record(o, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "id");
    o->id = xstrdup("");
    assert_int_equal(obs_check_record(o, &err), CADRE_ERECORD);
    free(o->id);
    o->id = xstrdup("x");
    assert_int_equal(obs_check_record(o, &err), 0);

    o->op = OBS_DELETE;
    obs_add_session(o);
    assert_int_equal(obs_check_record(o, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "sessions");
    assert_string_equal(err.id, "x");
    o->op = OBS_UPSERT;
    o->sessions[0].phase = UKC_PHASE_COUNT;
    assert_int_equal(obs_check_record(o, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "sessions[0].phase");
    o->sessions[0].phase = UKC_DELIVERY;
    o->sessions[0].start = NAN;
    assert_int_equal(obs_check_record(o, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "sessions[0].start");
    o->sessions[0].start = 1;
    o->sessions[0].n_commands = 1;
    o->sessions[0].commands = xcalloc(1, sizeof(char *));
    assert_int_equal(obs_check_record(o, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "sessions[0].commands[0]");
    o->sessions[0].commands[0] = xstrdup("ls");
    assert_int_equal(obs_check_record(o, &err), 0);

    /*  Writers refuse what readers would reject, and write nothing. */
    o->sessions[0].duration = -1;
    FILE *f = tmpfile();
    obs_writer_t *w = obs_writer_new(f, OBS_FORMAT_JSONL);
    assert_int_equal(obs_writer_put(w, o), CADRE_ERECORD);
    obs_writer_destroy(&w);
    w = obs_writer_new(f, OBS_FORMAT_MSGPACK);
    assert_int_equal(obs_writer_put(w, o), CADRE_ERECORD);
    obs_writer_destroy(&w);
    assert_int_equal(ftell(f), 0);
    fclose(f);
    obs_destroy(&o);
}

/*  --------------------------------------------------------------------------------------
    Schema errors, in both encodings */

/*  One malformed record and the error expected from it. */
typedef struct {
    const char *json;  /* the record as JSON */
    const char *id;    /* expected err.id */
    const char *field; /* expected err.field */
    const char *what;  /* a substring of the expected message */
} bad_case_t;

static const bad_case_t s_bad_cases[] = {
    {"{\"ip\": \"1.2.3.4\"}", "", "id", "missing"},
    {"{\"id\": null}", "", "id", "missing"},
    {"{\"id\": \"\"}", "", "id", "empty"},
    {"{\"id\": 5}", "", "id", "expected a string"},
    {"{\"id\": [\"a\"]}", "", "id", "expected a string"},
    {"{\"id\": \"a\", \"op\": \"remove\"}", "a", "op", "unknown op 'remove'"},
    {"{\"id\": \"a\", \"op\": 1}", "a", "op", "got an integer"},
    {"{\"id\": \"a\", \"op\": \"DELETE\"}", "a", "op", "unknown op"},
    {"{\"id\": \"a\", \"ip\": 5}", "a", "ip", "expected a string or"},
    {"{\"id\": \"a\", \"asn\": 1.5}", "a", "asn", "expected an integer"},
    {"{\"id\": \"a\", \"asn\": 1.0}", "a", "asn", "expected an integer"},
    {"{\"id\": \"a\", \"asn\": true}", "a", "asn", "got a boolean"},
    {"{\"id\": \"a\", \"asn\": \"64512\"}", "a", "asn", "got a string"},
    {"{\"id\": \"a\", \"ja3\": []}", "a", "ja3", "got an array"},
    {"{\"id\": \"a\", \"ja4\": {}}", "a", "ja4", "expected a string"},
    {"{\"id\": \"a\", \"hassh\": false}", "a", "hassh", "got a boolean"},
    {"{\"id\": \"a\", \"kd_simhash\": \"xyz\"}", "a", "kd_simhash", "16 hex digits"},
    {"{\"id\": \"a\", \"kd_simhash\": \"0123456789abcdeg\"}", "a", "kd_simhash", "hex"},
    {"{\"id\": \"a\", \"kd_simhash\": \"0123456789abcdef0\"}", "a", "kd_simhash", "16 hex"},
    {"{\"id\": \"a\", \"kd_simhash\": -1}", "a", "kd_simhash", "negative"},
    {"{\"id\": \"a\", \"kd_simhash\": 1.0}", "a", "kd_simhash", "expected a string of 16"},
    {"{\"id\": \"a\", \"truth\": \"x\"}", "a", "truth", "expected a"},
    {"{\"id\": \"a\", \"truth\": {\"campaign\": 1}}", "a", "truth.campaign", "expected a string"},
    {"{\"id\": \"a\", \"truth\": {\"actor\": []}}", "a", "truth.actor", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": {}}", "a", "sessions", "expected an array"},
    {"{\"id\": \"a\", \"sessions\": \"x\"}", "a", "sessions", "expected an array"},
    {"{\"id\": \"a\", \"sessions\": [1]}", "a", "sessions[0]", "expected a"},
    {"{\"id\": \"a\", \"sessions\": [null]}", "a", "sessions[0]", "expected a"},
    {"{\"id\": \"a\", \"sessions\": [{\"start\": 1}]}", "a", "sessions[0].phase", "missing"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": null, \"start\": 1}]}", "a", "sessions[0].phase",
     "missing"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"Discovery\", \"start\": 1}]}", "a",
     "sessions[0].phase", "unknown phase 'Discovery'"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"\", \"start\": 1}]}", "a", "sessions[0].phase",
     "unknown phase"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": 3, \"start\": 1}]}", "a", "sessions[0].phase",
     "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\"}]}", "a", "sessions[0].start",
     "missing"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": null}]}", "a",
     "sessions[0].start", "missing"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": \"1\"}]}", "a",
     "sessions[0].start", "expected a number"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": true}]}", "a",
     "sessions[0].start", "expected a number"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"duration\": -1}]}",
     "a", "sessions[0].duration", "negative"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"duration\": -0.5}]}",
     "a", "sessions[0].duration", "negative"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"duration\": \"5\"}]}",
     "a", "sessions[0].duration", "expected a number"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"id\": 5}]}", "a",
     "sessions[0].id", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"decky\": true}]}", "a",
     "sessions[0].decky", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"commands\": \"ls\"}]}",
     "a", "sessions[0].commands", "expected an array"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"commands\": [1]}]}",
     "a", "sessions[0].commands[0]", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"commands\": [\"ls\", null]}]}",
     "a", "sessions[0].commands[1]", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": {}}]}",
     "a", "sessions[0].credentials", "expected an array"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": [\"root\"]}]}",
     "a", "sessions[0].credentials[0]", "expected a [user, password]"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": [[\"root\"]]}]}",
     "a", "sessions[0].credentials[0]", "got 1 element"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": [[\"a\", \"b\"], [\"r\", \"t\", \"x\"]]}]}",
     "a", "sessions[0].credentials[1]", "got 3 elements"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": [[]]}]}",
     "a", "sessions[0].credentials[0]", "got 0 elements"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": [[\"a\", \"b\"], [\"a\", \"b\"], [\"a\", \"b\"], [\"a\", 1]]}]}",
     "a", "sessions[0].credentials[3][1]", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"credentials\": [[null, \"b\"]]}]}",
     "a", "sessions[0].credentials[0][0]", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"payload_hash\": 1}]}",
     "a", "sessions[0].payload_hash", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"c2\": []}]}", "a",
     "sessions[0].c2", "expected a string"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1}, "
     "{\"phase\": \"impact\", \"start\": 2}, {\"phase\": \"nope\", \"start\": 3}]}",
     "a", "sessions[2].phase", "unknown phase"},
    {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
     "\"commands\": [\"a\\u0000b\"]}]}",
     "a", "sessions[0].commands[0]", "NUL"},
    {"{\"id\": \"a\\u0000\"}", "", "id", "NUL"},
    {"{\"id\": \"a\", \"ip\": \"\\u0000\"}", "a", "ip", "NUL"},
    /*  The first fault in field order wins, whatever the key order. */
    {"{\"sessions\": 5, \"ip\": 5, \"id\": \"z\"}", "z", "ip", "expected a string"},
};

/*  Runs every bad case through one codec and checks the error. */
static void
s_run_bad_cases(bool msgpack)
{
    for (size_t i = 0; i < sizeof s_bad_cases / sizeof s_bad_cases[0]; i++) {
        const bad_case_t *c = &s_bad_cases[i];
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = 0;
        if (msgpack) {
            mp_t m = mp_from_json(c->json, MP_INTS_WIDE);
            rc = wire_obs_decode(m.data, m.len, 42, &obs, &err);
            free(m.data);
        } else {
            rc = jsonio_obs_decode(c->json, strlen(c->json), 42, &obs, &err);
        }
        if (rc != CADRE_ERECORD) {
            fail_msg("%s case %zu (%s): rc %d", msgpack ? "msgpack" : "json", i, c->json, rc);
        }
        assert_null(obs);
        if (err.record != 42 || strcmp(err.id, c->id) != 0 || strcmp(err.field, c->field) != 0 ||
            !strstr(err.message, c->what)) {
            fail_msg("%s case %zu (%s): got id '%s' field '%s' message '%s'",
                     msgpack ? "msgpack" : "json", i, c->json, err.id, err.field, err.message);
        }
    }
}

static void
test_bad_records_json(void **state)
{
    (void)state;
    s_run_bad_cases(false);
}

static void
test_bad_records_msgpack(void **state)
{
    (void)state;
    s_run_bad_cases(true);
}

/*  Oversized fields: one byte over each limit is rejected, the limit itself is accepted. */
static void
test_limits(void **state)
{
    (void)state;
    static const struct {
        const char *pre;   /* record text before the long value */
        const char *post;  /* and after it */
        size_t limit;      /* the field's limit */
        const char *id;    /* expected err.id */
        const char *field; /* expected err.field */
    } cases[] = {
        {"{\"id\": \"", "\"}", OBS_MAX_ID, "", "id"},
        {"{\"id\": \"a\", \"ip\": \"", "\"}", OBS_MAX_SHORT, "a", "ip"},
        {"{\"id\": \"a\", \"ja3\": \"", "\"}", OBS_MAX_FINGERPRINT, "a", "ja3"},
        {"{\"id\": \"a\", \"ja4\": \"", "\"}", OBS_MAX_FINGERPRINT, "a", "ja4"},
        {"{\"id\": \"a\", \"hassh\": \"", "\"}", OBS_MAX_FINGERPRINT, "a", "hassh"},
        {"{\"id\": \"a\", \"truth\": {\"identity\": \"", "\"}}", OBS_MAX_SHORT, "a",
         "truth.identity"},
        {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"id\": \"", "\"}]}",
         OBS_MAX_ID, "a", "sessions[0].id"},
        {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, \"c2\": \"", "\"}]}",
         OBS_MAX_SHORT, "a", "sessions[0].c2"},
        {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
         "\"commands\": [\"",
         "\"]}]}", OBS_MAX_TEXT, "a", "sessions[0].commands[0]"},
        {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1, "
         "\"credentials\": [[\"u\", \"",
         "\"]]}]}", OBS_MAX_TEXT, "a", "sessions[0].credentials[0][1]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t extra = 0; extra <= 1; extra++) {
            size_t n = cases[i].limit + extra;
            char *val = xmalloc(n + 1);
            memset(val, 'v', n);
            val[n] = '\0';
            char *json = xasprintf("%s%s%s", cases[i].pre, val, cases[i].post);
            for (int mp = 0; mp <= 1; mp++) {
                obs_t *obs = NULL;
                obs_error_t err;
                int rc = 0;
                if (mp) {
                    mp_t m = mp_from_json(json, MP_INTS_WIDE);
                    rc = wire_obs_decode(m.data, m.len, 1, &obs, &err);
                    free(m.data);
                } else {
                    rc = jsonio_obs_decode(json, strlen(json), 1, &obs, &err);
                }
                if (extra == 0) {
                    assert_int_equal(rc, 0);
                    obs_destroy(&obs);
                } else {
                    assert_int_equal(rc, CADRE_ERECORD);
                    assert_string_equal(err.field, cases[i].field);
                    assert_string_equal(err.id, cases[i].id);
                    assert_non_null(strstr(err.message, "longer than the limit"));
                }
            }
            free(json);
            free(val);
        }
    }

    /*  Too many sessions and commands. */
    mp_t m = {0};
    mp_map(&m, 2);
    mp_str(&m, "id");
    mp_str(&m, "many");
    mp_str(&m, "sessions");
    mp_arr(&m, OBS_MAX_SESSIONS + 1);
    for (int i = 0; i <= OBS_MAX_SESSIONS; i++) {
        mp_nil(&m);
    }
    obs_t *obs = NULL;
    obs_error_t err;
    assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "sessions");
    assert_non_null(strstr(err.message, "exceed the limit"));
    free(m.data);

    size_t cap = 64 + 5 * (size_t)(OBS_MAX_ITEMS + 1);
    char *json = xmalloc(cap);
    size_t k = (size_t)snprintf(json, cap,
                                "{\"id\": \"c\", \"sessions\": [{\"phase\": \"impact\", "
                                "\"start\": 1, \"commands\": [");
    for (int i = 0; i <= OBS_MAX_ITEMS; i++) {
        k += (size_t)snprintf(json + k, cap - k, i ? ",\"\"" : "\"\"");
    }
    k += (size_t)snprintf(json + k, cap - k, "]}]}");
    assert_int_equal(jsonio_obs_decode(json, k, 1, &obs, &err), CADRE_ERECORD);
    assert_string_equal(err.field, "sessions[0].commands");
    free(json);
}

/*  A string literal and its length in bytes (it may hold NUL). */
#define S_LIT(s) s, sizeof(s) - 1

static void
test_json_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *text; /* the line */
        size_t len;       /* bytes (may hold NUL) */
        int rc;           /* expected code */
        const char *what; /* message substring */
    } cases[] = {
        {S_LIT("{\"id\": \"a\""), CADRE_ETRUNC, "invalid JSON"},
        {S_LIT("{\"id\": \"a\"}}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": 'a'}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{id: \"a\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("[{\"id\": \"a\"}]"), CADRE_ERECORD, "is an array, not an object"},
        {S_LIT("\"a\""), CADRE_ERECORD, "is a string, not an object"},
        {S_LIT("17"), CADRE_ERECORD, "not an object"},
        {S_LIT("null"), CADRE_ERECORD, "not an object"},
        {S_LIT("{\"id\": \"a\", \"id\": \"b\"}"), CADRE_ERECORD, "duplicate"},
        {S_LIT("{\"id\": \"a\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1e999}]}"),
         CADRE_ERECORD, "overflow"},
        {S_LIT("{\"id\": \"a\", \"asn\": 9223372036854775808}"), CADRE_ERECORD, "too big"},
        {S_LIT("{\"id\": \"a\", \"x\": NaN}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"a\", \"x\": Infinity}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"\xc3\xa9\xc0\x80\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"\xed\xa0\x80\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"\xf4\x90\x80\x80\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"a\xff\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"\\ud800\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"a\0\"}"), CADRE_ERECORD, "invalid JSON"},
        {S_LIT("{\"id\": \"a\tb\"}"), CADRE_ERECORD, "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = jsonio_obs_decode(cases[i].text, cases[i].len, 5, &obs, &err);
        if (rc != cases[i].rc || !strstr(err.message, cases[i].what)) {
            fail_msg("case %zu: rc %d message '%s'", i, rc, err.message);
        }
        assert_null(obs);
        assert_int_equal(err.record, 5);
        assert_string_equal(err.id, "");
        /*  jansson echoes input: the message must stay printable. */
        for (const char *p = err.message; *p; p++) {
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7F);
        }
    }
}

/*  MessagePack-only faults. */
static void
test_msgpack_faults(void **state)
{
    (void)state;
    obs_t *obs = NULL;
    obs_error_t err;

    /*  Non-finite numbers as float64 and float32. */
    const double nonfinite[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        for (int field = 0; field < 2; field++) {
            for (int f32 = 0; f32 < 2; f32++) {
                mp_t m = {0};
                mp_map(&m, 2);
                mp_str(&m, "id");
                mp_str(&m, "nf");
                mp_str(&m, "sessions");
                mp_arr(&m, 1);
                mp_map(&m, 3);
                mp_str(&m, "phase");
                mp_str(&m, "impact");
                mp_str(&m, "start");
                if (field == 0) {
                    f32 ? mp_f32(&m, (float)nonfinite[i]) : mp_f64(&m, nonfinite[i]);
                } else {
                    mp_f64(&m, 1.0);
                }
                mp_str(&m, "duration");
                if (field == 1) {
                    f32 ? mp_f32(&m, (float)nonfinite[i]) : mp_f64(&m, nonfinite[i]);
                } else {
                    mp_f32(&m, 2.5f);
                }
                assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
                assert_string_equal(err.field,
                                    field == 0 ? "sessions[0].start" : "sessions[0].duration");
                assert_non_null(strstr(err.message, "not finite"));
                assert_string_equal(err.id, "nf");
                free(m.data);
            }
        }
    }

    /*  float32, integers and negative integers are numbers. */
    {
        mp_t m = {0};
        mp_map(&m, 3);
        mp_str(&m, "id");
        mp_str(&m, "nums");
        mp_str(&m, "asn");
        mp_int_wide(&m, -5);
        mp_str(&m, "sessions");
        mp_arr(&m, 2);
        mp_map(&m, 3);
        mp_str(&m, "phase");
        mp_str(&m, "impact");
        mp_str(&m, "start");
        mp_int_wide(&m, -1767225600);
        mp_str(&m, "duration");
        mp_f32(&m, 0.5f);
        mp_map(&m, 2);
        mp_str(&m, "phase");
        mp_str(&m, "impact");
        mp_str(&m, "start");
        mp_uint_wide(&m, UINT64_MAX);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), 0);
        assert_true(obs->has_asn && obs->asn == -5);
        assert_true(obs->sessions[0].start == -1767225600.0);
        assert_true(obs->sessions[0].duration == 0.5);
        assert_true(obs->sessions[1].start == 18446744073709551616.0);
        obs_destroy(&obs);
        free(m.data);
    }

    /*  Invalid UTF-8 in a str, and bin where a string belongs. */
    static const char *const bad_utf8[] = {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\x80",
                                           "\xe2\x82"};
    for (size_t i = 0; i < 5; i++) {
        mp_t m = {0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "u");
        mp_str(&m, "hassh");
        mp_str(&m, bad_utf8[i]);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_string_equal(err.field, "hassh");
        assert_non_null(strstr(err.message, "not valid UTF-8"));
        free(m.data);
    }
    {
        mp_t m = {0};
        mp_map(&m, 1);
        mp_str(&m, "id");
        mp_bin(&m, "abc", 3);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_string_equal(err.field, "id");
        assert_non_null(strstr(err.message, "got binary data"));
        free(m.data);
    }

    /*  Non-string keys, at the top and in a session; duplicates; an unknown key with a
        non-string key inside its (unwalked) value is fine. */
    {
        mp_t m = {0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "k");
        mp_uint_wide(&m, 1);
        mp_str(&m, "x");
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_string_equal(err.field, "");
        assert_non_null(strstr(err.message, "map key #1 is an integer, not a string"));
        free(m.data);

        m = (mp_t){0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "k");
        mp_str(&m, "sessions");
        mp_arr(&m, 1);
        mp_map(&m, 3);
        mp_str(&m, "phase");
        mp_str(&m, "impact");
        mp_str(&m, "start");
        mp_uint_wide(&m, 1);
        mp_nil(&m);
        mp_nil(&m);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_string_equal(err.field, "sessions[0]");
        assert_string_equal(err.id, "k");
        assert_non_null(strstr(err.message, "map key #2 is nil"));
        free(m.data);

        m = (mp_t){0};
        mp_map(&m, 3);
        mp_str(&m, "id");
        mp_str(&m, "k");
        mp_str(&m, "zz");
        mp_uint_wide(&m, 1);
        mp_str(&m, "zz");
        mp_uint_wide(&m, 2);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_string_equal(err.field, "zz");
        assert_non_null(strstr(err.message, "duplicate key"));
        free(m.data);

        m = (mp_t){0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "k");
        mp_str(&m, "extra");
        mp_map(&m, 1);
        mp_uint_wide(&m, 7);
        mp_bin(&m, "\xff", 1);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), 0);
        obs_destroy(&obs);
        free(m.data);
    }

    /*  asn out of int64 range; kd_simhash as a full-range integer. */
    {
        mp_t m = {0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "k");
        mp_str(&m, "asn");
        mp_uint_wide(&m, (uint64_t)INT64_MAX + 1);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_string_equal(err.field, "asn");
        free(m.data);

        m = (mp_t){0};
        mp_map(&m, 3);
        mp_str(&m, "id");
        mp_str(&m, "k");
        mp_str(&m, "asn");
        mp_int_wide(&m, INT64_MIN);
        mp_str(&m, "kd_simhash");
        mp_uint_wide(&m, UINT64_MAX);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), 0);
        assert_true(obs->asn == INT64_MIN);
        assert_true(obs->has_kd && obs->kd_simhash == UINT64_MAX);
        obs_destroy(&obs);
        free(m.data);
    }

    /*  Not a map; truncated; trailing bytes; 0xc1; too deep; a huge declared count. */
    {
        mp_t m = {0};
        mp_arr(&m, 1);
        mp_str(&m, "id");
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_non_null(strstr(err.message, "is an array, not a map"));
        free(m.data);

        m = mp_from_json("{\"id\": \"t\", \"ip\": \"1.2.3.4\"}", MP_INTS_WIDE);
        for (size_t cut = 0; cut < m.len; cut++) {
            assert_int_equal(wire_obs_decode(m.data, cut, 1, &obs, &err), CADRE_ETRUNC);
        }
        mp_byte(&m, 0xC0);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_non_null(strstr(err.message, "trailing"));
        m.data[m.len - 1] = (char)0xC1;
        m.data[4] = (char)0xC1; /* the header of the value "t" */
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_non_null(strstr(err.message, "0xc1 at offset 4"));
        free(m.data);

        m = (mp_t){0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "deep");
        mp_str(&m, "x");
        for (int i = 0; i < 40; i++) {
            mp_arr(&m, 1);
        }
        mp_nil(&m);
        assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), CADRE_ERECORD);
        assert_non_null(strstr(err.message, "nesting"));
        free(m.data);

        const unsigned char huge[] = {0x81, 0xA2, 'i', 'd', 0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0};
        assert_int_equal(wire_obs_decode((const char *)huge, sizeof huge, 1, &obs, &err),
                         CADRE_ETRUNC);
        const unsigned char huge_map[] = {0xDF, 0xFF, 0xFF, 0xFF, 0xFF};
        assert_int_equal(wire_obs_decode((const char *)huge_map, sizeof huge_map, 1, &obs, &err),
                         CADRE_ETRUNC);
    }
    assert_null(obs);
}

/*  Accepted variants: unknown keys, nulls, integers as numbers, deletes, case of hex. */
static void
test_accepted_variants(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{\"id\": \"a\", \"zzz\": [1, {\"x\": [null, 2.5]}], \"truth\": {\"foo\": 1, "
        "\"campaign\": null}, \"sessions\": [{\"phase\": \"discovery\", \"start\": 1, "
        "\"extra\": {\"y\": []}, \"commands\": null, \"credentials\": null}]}",
        "{\"id\": \"a\", \"op\": null, \"ip\": null, \"asn\": null, \"ja3\": null, "
        "\"ja4\": null, \"hassh\": null, \"kd_simhash\": null, \"truth\": null, "
        "\"sessions\": null}",
        "{\"id\": \"a\", \"op\": \"upsert\"}",
        "  {\"id\": \"a\"}  \r",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        for (int mp = 0; mp <= 1; mp++) {
            obs_t *obs = NULL;
            obs_error_t err;
            int rc = 0;
            if (mp && i < 3) {
                mp_t m = mp_from_json(texts[i], MP_INTS_WIDE);
                rc = wire_obs_decode(m.data, m.len, 1, &obs, &err);
                free(m.data);
            } else {
                rc = jsonio_obs_decode(texts[i], strlen(texts[i]), 1, &obs, &err);
            }
            if (rc != 0) {
                fail_msg("text %zu mp %d: %s: %s", i, mp, err.field, err.message);
            }
            assert_string_equal(obs->id, "a");
            assert_int_equal(obs->op, OBS_UPSERT);
            assert_null(obs->truth_campaign);
            assert_false(obs->has_asn);
            obs_destroy(&obs);
        }
    }

    /*  A delete ignores every other field, even malformed ones. */
    const char *del = "{\"id\": \"gone\", \"op\": \"delete\", \"sessions\": 5, \"asn\": \"x\"}";
    obs_t *obs = s_from_json(del);
    assert_int_equal(obs->op, OBS_DELETE);
    assert_false(obs->has_asn);
    assert_int_equal(obs->n_sessions, 0);
    char *text = s_json(obs);
    assert_string_equal(text, "{\"id\": \"gone\", \"op\": \"delete\"}");
    free(text);
    obs_t *back = s_mp_roundtrip(obs);
    obs_destroy(&back);
    obs_destroy(&obs);
    mp_t m = mp_from_json(del, MP_INTS_WIDE);
    obs_error_t err;
    assert_int_equal(wire_obs_decode(m.data, m.len, 1, &obs, &err), 0);
    assert_int_equal(obs->op, OBS_DELETE);
    obs_destroy(&obs);
    free(m.data);

    /*  kd_simhash: either case in, lowercase out; a JSON integer is accepted. */
    obs = s_from_json("{\"id\": \"k\", \"kd_simhash\": \"00000000DEADBEEF\"}");
    assert_true(obs->kd_simhash == 0xDEADBEEF);
    text = s_json(obs);
    assert_non_null(strstr(text, "\"kd_simhash\": \"00000000deadbeef\""));
    free(text);
    obs_destroy(&obs);
    obs = s_from_json("{\"id\": \"k\", \"kd_simhash\": 9223372036854775807}");
    assert_true(obs->kd_simhash == (uint64_t)INT64_MAX);
    obs_destroy(&obs);

    /*  asn over the whole int64 range; an integer start is a double. */
    obs = s_from_json("{\"id\": \"n\", \"asn\": -9223372036854775808, \"sessions\": "
                      "[{\"phase\": \"impact\", \"start\": 1767225600}]}");
    assert_true(obs->asn == INT64_MIN);
    assert_true(obs->sessions[0].start == 1767225600.0);
    assert_true(obs->sessions[0].duration == 0.0);
    text = s_json(obs);
    assert_non_null(strstr(text, "\"start\": 1767225600.0}"));
    assert_non_null(strstr(text, "\"asn\": -9223372036854775808,"));
    free(text);
    obs_destroy(&obs);

    /*  1e-999 underflows to 0, which is finite. */
    obs =
        s_from_json("{\"id\": \"u\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1e-999}]}");
    assert_true(obs->sessions[0].start == 0.0);
    obs_destroy(&obs);
}

/*  --------------------------------------------------------------------------------------
    Encoding and round trips */

static void
test_json_text(void **state)
{
    (void)state;
    /*  Python json.dumps(ensure_ascii=True) escapes. */
    obs_t *obs = obs_new();
    obs->id = xstrdup("\xc3\xa9\n\"\\\x01\x7f\xf0\x9f\x98\x80/\t\b\f\r~ ");
    char *text = s_json(obs);
    assert_string_equal(text,
                        "{\"asn\": null, \"hassh\": null, "
                        "\"id\": \"\\u00e9\\n\\\"\\\\\\u0001\\u007f\\ud83d\\ude00/\\t\\b\\f\\r~ "
                        "\", \"ip\": null, \"ja3\": null, \"sessions\": []}");
    obs_t *back = s_from_json(text);
    assert_true(obs_equal(obs, back));
    obs_destroy(&back);
    free(text);

    /*  Python repr() numbers. */
    static const struct {
        double v;         /* value */
        const char *text; /* repr */
    } nums[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0, "1.0"},
        {0.1, "0.1"},
        {1.5, "1.5"},
        {123.456, "123.456"},
        {1767225600.0, "1767225600.0"},
        {1767225600.25, "1767225600.25"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {1.5e-7, "1.5e-07"},
        {1e15, "1000000000000000.0"},
        {1e16, "1e+16"},
        {1.2345e16, "1.2345e+16"},
        {1.5e300, "1.5e+300"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {0.30000000000000004, "0.30000000000000004"},
        {-1767225600.5, "-1767225600.5"},
        {123456789012345.6, "123456789012345.6"},
        {9007199254740993.0, "9007199254740992.0"},
    };
    obs_session_t *s = obs_add_session(obs);
    s->phase = UKC_IMPACT;
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        s->start = nums[i].v;
        text = s_json(obs);
        char *want = xasprintf("\"start\": %s}", nums[i].text);
        if (!strstr(text, want)) {
            fail_msg("%.17g: got %s, want %s", nums[i].v, text, want);
        }
        free(want);
        back = s_from_json(text);
        assert_memory_equal(&back->sessions[0].start, &nums[i].v, sizeof(double));
        obs_destroy(&back);
        free(text);
    }
    obs_destroy(&obs);
}

/*  Random doubles (every finite bit pattern class) survive both codecs bit for bit. */
static void
test_double_roundtrip(void **state)
{
    (void)state;
    obs_t *obs = obs_new();
    obs->id = xstrdup("d");
    obs_session_t *s = obs_add_session(obs);
    s->phase = UKC_DELIVERY;
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v)) {
            continue;
        }
        s->start = v;
        s->duration = fabs(v);
        char *text = s_json(obs);
        obs_t *back = s_from_json(text);
        if (!obs_equal(obs, back)) {
            fail_msg("%.17g does not survive JSON: %s", v, text);
        }
        obs_destroy(&back);
        free(text);
        back = s_mp_roundtrip(obs);
        obs_destroy(&back);
    }
    obs_destroy(&obs);
}

static void
test_full_record_roundtrip(void **state)
{
    (void)state;
    obs_t *full = s_full_record();
    char *text = s_json(full);
    /*  Keys are sorted, "truth" is written with nulls for unset labels. */
    assert_non_null(strstr(text, "\"truth\": {\"actor\": \"\", \"campaign\": \"camp\\u2028\", "
                                 "\"identity\": null}}"));
    assert_non_null(strstr(text, "\"ja4\": \"t13d"));
    assert_non_null(strstr(text, "\"kd_simhash\": \"ffffffffffffffff\""));
    assert_non_null(
        strstr(text, "\"credentials\": [[\"root\", \"toor\"], [\"\", \"\\udbff\\udfff\"]]"));
    assert_non_null(strstr(text, "{\"c2\": null, \"commands\": [], \"credentials\": [], "
                                 "\"decky\": null, \"duration\": 0.0, \"id\": null, "
                                 "\"payload_hash\": null, \"phase\": \"reconnaissance\", "
                                 "\"start\": -0.0}"));
    obs_t *back = s_from_json(text);
    assert_true(obs_equal(full, back));
    obs_destroy(&back);

    /*  JSON -> msgpack -> JSON gives the same text. */
    back = s_mp_roundtrip(full);
    char *text2 = s_json(back);
    assert_string_equal(text, text2);
    free(text2);
    obs_destroy(&back);
    free(text);

    /*  A record with no truth at all omits the key; empty lists stay empty. */
    obs_t *bare = obs_new();
    bare->id = xstrdup("bare");
    obs_session_t *s = obs_add_session(bare);
    s->phase = UKC_EXECUTION;
    text = s_json(bare);
    assert_null(strstr(text, "truth"));
    assert_null(strstr(text, "ja4"));
    assert_null(strstr(text, "kd_simhash"));
    assert_null(strstr(text, "\"op\""));
    back = s_from_json(text);
    assert_true(obs_equal(bare, back));
    obs_destroy(&back);
    back = s_mp_roundtrip(bare);
    obs_destroy(&back);
    free(text);
    obs_destroy(&bare);
    obs_destroy(&full);
}

/*  Lists the generator test vectors; returns how many paths were stored in paths. */
static size_t
s_vector_files(char paths[][1024], size_t max)
{
    const char *shared = getenv("SHARED_DIR");
    char dir[400];
    snprintf(dir, sizeof dir, "%s/testvectors/generator", shared ? shared : "/work/shared");
    DIR *d = opendir(dir);
    if (!d) {
        fail_msg("cannot open %s", dir);
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len > 6 && strcmp(e->d_name + len - 6, ".jsonl") == 0) {
            snprintf(paths[n++], 1024, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    assert_true(n > 0);
    return n;
}

/*  Reads a whole file into a malloc'd buffer. */
static char *
s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *data = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        xgrow(&data, &cap, *len + 4096 + 1);
        size_t got = fread(data + *len, 1, 4096, f);
        *len += got;
        if (got < 4096) {
            break;
        }
    }
    fclose(f);
    data[*len] = '\0';
    return data;
}

static void
test_generator_vectors(void **state)
{
    (void)state;
    char paths[32][1024];
    size_t n_files = s_vector_files(paths, 32);
    size_t total = 0;
    for (size_t fi = 0; fi < n_files; fi++) {
        size_t len = 0;
        char *original = s_slurp(paths[fi], &len);

        /*  Read the file as a stream, record by record. */
        FILE *in = fopen(paths[fi], "rb");
        evs_t evs = s_read_all(in, OBS_FORMAT_AUTO);
        fclose(in);
        assert_true(evs.n > 0);

        /*  Line by line: decode then encode gives the generator's exact text, and so does
            JSON -> msgpack -> JSON. */
        char *line = original;
        for (size_t i = 0; i < evs.n; i++) {
            s_expect_good(&evs.ev[i], evs.ev[i].rc == 1 ? evs.ev[i].obs->id : "?");
            char *nl = strchr(line, '\n');
            assert_non_null(nl);
            *nl = '\0';
            char *text = s_json(evs.ev[i].obs);
            if (strcmp(text, line) != 0) {
                fail_msg("%s line %zu re-encodes differently:\n%s\n%s", paths[fi], i + 1, line,
                         text);
            }
            free(text);
            obs_t *back = s_mp_roundtrip(evs.ev[i].obs);
            text = s_json(back);
            assert_string_equal(text, line);
            free(text);
            obs_destroy(&back);
            *nl = '\n';
            line = nl + 1;
        }
        assert_int_equal((size_t)(line - original), len);

        /*  Writers in both formats, read back with detection. */
        for (int fmt = 0; fmt < 2; fmt++) {
            FILE *out = tmpfile();
            obs_writer_t *w = obs_writer_new(out, fmt ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL);
            for (size_t i = 0; i < evs.n; i++) {
                assert_int_equal(obs_writer_put(w, evs.ev[i].obs), 0);
            }
            obs_writer_destroy(&w);
            if (!fmt) {
                /*  The JSON Lines output is the original file, byte for byte. */
                assert_int_equal(ftell(out), (long)len);
                rewind(out);
                char *copy = xmalloc(len + 1);
                assert_int_equal(fread(copy, 1, len, out), len);
                assert_memory_equal(copy, original, len);
                free(copy);
            }
            rewind(out);
            evs_t again = s_read_all(out, OBS_FORMAT_AUTO);
            fclose(out);
            assert_int_equal(again.n, evs.n);
            for (size_t i = 0; i < evs.n; i++) {
                assert_int_equal(again.ev[i].rc, 1);
                assert_true(obs_equal(evs.ev[i].obs, again.ev[i].obs));
            }
            s_evs_free(&again);
        }
        total += evs.n;
        s_evs_free(&evs);
        free(original);
    }
    assert_true(total >= 80);
}

/*  --------------------------------------------------------------------------------------
    Streams */

static void
test_stream_good_bad_good(void **state)
{
    (void)state;
    /*  JSON Lines: errors carry the line number; blank lines count but yield nothing. */
    const char *jsonl = "{\"id\": \"a\"}\n"
                        "\n"
                        "{\"id\": \"b\", \"asn\": \"x\"}\n"
                        "   \t\n"
                        "not json at all\n"
                        "{\"id\": \"c\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1}]}\n"
                        "{\"id\": \"\"}\n"
                        "[]\n"
                        "{\"id\": \"d\"}";
    evs_t evs = s_read_bytes(jsonl, strlen(jsonl), OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 7);
    s_expect_good(&evs.ev[0], "a");
    s_expect_err(&evs.ev[1], CADRE_ERECORD, 3, "b", "asn", "expected an integer");
    s_expect_err(&evs.ev[2], CADRE_ERECORD, 5, "", "", "invalid JSON");
    s_expect_good(&evs.ev[3], "c");
    s_expect_err(&evs.ev[4], CADRE_ERECORD, 7, "", "id", "empty");
    s_expect_err(&evs.ev[5], CADRE_ERECORD, 8, "", "", "not an object");
    s_expect_good(&evs.ev[6], "d");
    assert_int_equal(evs.ev[6].obs->n_sessions, 0);
    s_evs_free(&evs);

    /*  The same records in MessagePack: errors carry the message index. */
    const char *records[] = {
        "{\"id\": \"a\"}",
        "{\"id\": \"b\", \"asn\": \"x\"}",
        "[1]",
        "{\"id\": \"c\", \"sessions\": [{\"phase\": \"impact\", \"start\": 1}]}",
        "{\"id\": \"\"}",
        "7",
        "{\"id\": \"d\"}"};
    mp_t m = {0};
    for (size_t i = 0; i < 7; i++) {
        mp_t one = mp_from_json(records[i], MP_INTS_WIDE);
        mp_raw(&m, one.data, one.len);
        free(one.data);
    }
    evs = s_read_bytes(m.data, m.len, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 7);
    s_expect_good(&evs.ev[0], "a");
    s_expect_err(&evs.ev[1], CADRE_ERECORD, 2, "b", "asn", "expected an integer");
    s_expect_err(&evs.ev[2], CADRE_ERECORD, 3, "", "", "is an array, not a map");
    s_expect_good(&evs.ev[3], "c");
    s_expect_err(&evs.ev[4], CADRE_ERECORD, 5, "", "id", "empty");
    s_expect_err(&evs.ev[5], CADRE_ERECORD, 6, "", "", "is an integer, not a map");
    s_expect_good(&evs.ev[6], "d");
    s_evs_free(&evs);
    free(m.data);
}

static void
test_stream_jsonl_edges(void **state)
{
    (void)state;
    /*  CRLF line endings; a last line without newline. */
    const char *crlf = "{\"id\": \"a\"}\r\n\r\n{\"id\": \"b\"}\r\n{\"id\": \"c\"}\r";
    evs_t evs = s_read_bytes(crlf, strlen(crlf), OBS_FORMAT_JSONL);
    assert_int_equal(evs.n, 3);
    s_expect_good(&evs.ev[0], "a");
    s_expect_good(&evs.ev[1], "b");
    s_expect_good(&evs.ev[2], "c");
    s_evs_free(&evs);

    /*  Invalid UTF-8 and a raw NUL inside a line reject that line only. */
    const char bytes[] = "{\"id\": \"a\xc0\x80\"}\n{\"id\": \"b\"}\n{\"id\": \"c\0\"}\n"
                         "{\"id\": \"d\", \"ip\": \"\\u0000\"}\n{\"id\": \"e\"}\n";
    evs = s_read_bytes(bytes, sizeof bytes - 1, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 5);
    s_expect_err(&evs.ev[0], CADRE_ERECORD, 1, "", "", "invalid JSON");
    s_expect_good(&evs.ev[1], "b");
    s_expect_err(&evs.ev[2], CADRE_ERECORD, 3, "", "", "invalid JSON");
    s_expect_err(&evs.ev[3], CADRE_ERECORD, 4, "d", "ip", "NUL");
    s_expect_good(&evs.ev[4], "e");
    s_evs_free(&evs);

    /*  An unterminated last line that stops inside the JSON is truncation; a terminated
        one is an ordinary bad record. */
    const char *cut = "{\"id\": \"a\"}\n{\"id\": \"b\", \"ip\": \"1.2";
    evs = s_read_bytes(cut, strlen(cut), OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 2);
    s_expect_good(&evs.ev[0], "a");
    s_expect_err(&evs.ev[1], CADRE_ETRUNC, 2, "", "", "invalid JSON");
    s_evs_free(&evs);
    const char *cut_nl = "{\"id\": \"b\", \"ip\": \"1.2\n{\"id\": \"c\"}\n";
    evs = s_read_bytes(cut_nl, strlen(cut_nl), OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 2);
    s_expect_err(&evs.ev[0], CADRE_ERECORD, 1, "", "", "invalid JSON");
    s_expect_good(&evs.ev[1], "c");
    s_evs_free(&evs);

    /*  Empty and blank-only streams. */
    evs = s_read_bytes("", 0, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 0);
    evs = s_read_bytes("\n\n  \n", 5, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 0);
    free(evs.ev);
}

/*  A line over OBS_MAX_RECORD is rejected alone; one exactly at the limit is read. */
static void
test_stream_long_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    const char *head = "{\"id\": \"big\", \"pad\": \"";
    const char *tail = "\"}";
    size_t pad = OBS_MAX_RECORD - strlen(head) - strlen(tail);
    char *chunk = xmalloc(1 << 20);
    memset(chunk, 'a', 1 << 20);
    fputs("{\"id\": \"first\"}\n", f);
    for (int round = 0; round < 2; round++) {
        /*  round 0: exactly the limit (CRLF ending); round 1: one byte over. */
        fputs(head, f);
        size_t left = pad + (size_t)round;
        while (left > 0) {
            size_t n = left < (1u << 20) ? left : (1u << 20);
            assert_int_equal(fwrite(chunk, 1, n, f), n);
            left -= n;
        }
        fputs(tail, f);
        fputs(round == 0 ? "\r\n" : "\n", f);
    }
    fputs("{\"id\": \"last\"}\n", f);
    free(chunk);
    rewind(f);
    evs_t evs = s_read_all(f, OBS_FORMAT_AUTO);
    fclose(f);
    assert_int_equal(evs.n, 4);
    s_expect_good(&evs.ev[0], "first");
    s_expect_good(&evs.ev[1], "big");
    s_expect_err(&evs.ev[2], CADRE_ERECORD, 3, "", "", "longer than the limit");
    s_expect_good(&evs.ev[3], "last");
    s_evs_free(&evs);
}

/*  Appends one JSON record in MessagePack form. */
static void
s_mp_append_json(mp_t *m, const char *json)
{
    mp_t one = mp_from_json(json, MP_INTS_WIDE);
    mp_raw(m, one.data, one.len);
    free(one.data);
}

static void
test_stream_msgpack_edges(void **state)
{
    (void)state;
    /*  Truncated final message: ETRUNC, then end. */
    mp_t m = {0};
    s_mp_append_json(&m, "{\"id\": \"a\"}");
    mp_t last = mp_from_json("{\"id\": \"b\", \"ip\": \"10.0.0.1\"}", MP_INTS_WIDE);
    for (size_t cut = 1; cut < last.len; cut++) {
        mp_t s = {0};
        mp_raw(&s, m.data, m.len);
        mp_raw(&s, last.data, cut);
        evs_t evs = s_read_bytes(s.data, s.len, OBS_FORMAT_MSGPACK);
        assert_int_equal(evs.n, 2);
        s_expect_good(&evs.ev[0], "a");
        s_expect_err(&evs.ev[1], CADRE_ETRUNC, 2, "", "", "input ends inside");
        s_evs_free(&evs);
        free(s.data);
    }
    free(last.data);

    /*  A huge declared count at the end is truncation, found without allocating. */
    const unsigned char huge[] = {0x81, 0xA2, 'i', 'd', 0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0};
    mp_raw(&m, huge, sizeof huge);
    evs_t evs = s_read_bytes(m.data, m.len, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 2);
    s_expect_good(&evs.ev[0], "a");
    s_expect_err(&evs.ev[1], CADRE_ETRUNC, 2, "", "", "input ends inside");
    s_evs_free(&evs);
    free(m.data);

    /*  0xc1 cannot be framed past: the stream ends there. */
    m = (mp_t){0};
    s_mp_append_json(&m, "{\"id\": \"a\"}");
    mp_map(&m, 1);
    mp_str(&m, "id");
    mp_byte(&m, 0xC1);
    s_mp_append_json(&m, "{\"id\": \"c\"}");
    evs = s_read_bytes(m.data, m.len, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 2);
    s_expect_good(&evs.ev[0], "a");
    s_expect_err(&evs.ev[1], CADRE_ERECORD, 2, "", "", "starts no MessagePack type");
    s_evs_free(&evs);
    free(m.data);

    /*  Too-deep nesting, NaN, bin, bad UTF-8, non-string keys: rejected alone. */
    m = (mp_t){0};
    mp_map(&m, 2);
    mp_str(&m, "id");
    mp_str(&m, "deep");
    mp_str(&m, "x");
    for (int i = 0; i < 40; i++) {
        mp_arr(&m, 1);
    }
    mp_nil(&m);
    s_mp_append_json(&m, "{\"id\": \"ok1\"}");
    mp_map(&m, 2);
    mp_str(&m, "id");
    mp_str(&m, "nan");
    mp_str(&m, "sessions");
    mp_arr(&m, 1);
    mp_map(&m, 2);
    mp_str(&m, "phase");
    mp_str(&m, "impact");
    mp_str(&m, "start");
    mp_f64(&m, NAN);
    mp_map(&m, 1);
    mp_str(&m, "id");
    mp_bin(&m, "x", 1);
    mp_map(&m, 1);
    mp_str(&m, "id");
    mp_str(&m, "bad\xed\xa0\x80");
    mp_map(&m, 2);
    mp_str(&m, "id");
    mp_str(&m, "keys");
    mp_f64(&m, 1.0);
    mp_nil(&m);
    s_mp_append_json(&m, "{\"id\": \"ok2\"}");
    evs = s_read_bytes(m.data, m.len, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 7);
    s_expect_err(&evs.ev[0], CADRE_ERECORD, 1, "", "", "nesting");
    s_expect_good(&evs.ev[1], "ok1");
    s_expect_err(&evs.ev[2], CADRE_ERECORD, 3, "nan", "sessions[0].start", "not finite");
    s_expect_err(&evs.ev[3], CADRE_ERECORD, 4, "", "id", "binary");
    s_expect_err(&evs.ev[4], CADRE_ERECORD, 5, "", "id", "UTF-8");
    s_expect_err(&evs.ev[5], CADRE_ERECORD, 6, "", "", "map key #1 is a float");
    s_expect_good(&evs.ev[6], "ok2");
    s_evs_free(&evs);
    free(m.data);
}

/*  A MessagePack message over OBS_MAX_RECORD is skipped alone; one at the limit is read. */
static void
test_stream_msgpack_oversize(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    mp_t m = {0};
    s_mp_append_json(&m, "{\"id\": \"first\"}");
    assert_int_equal(fwrite(m.data, 1, m.len, f), m.len);
    free(m.data);
    char *chunk = xcalloc(1, 1 << 20);
    for (int round = 0; round < 2; round++) {
        /*  {"id": "big", "pad": <str32>} : 1 + 3 + 4 + 4 + 5 header bytes. */
        m = (mp_t){0};
        mp_map(&m, 2);
        mp_str(&m, "id");
        mp_str(&m, "big");
        mp_str(&m, "pad");
        size_t body = OBS_MAX_RECORD - m.len - 5 + (size_t)round;
        mp_byte(&m, 0xDB);
        mp_be(&m, body, 4);
        assert_int_equal(fwrite(m.data, 1, m.len, f), m.len);
        free(m.data);
        while (body > 0) {
            size_t n = body < (1u << 20) ? body : (1u << 20);
            assert_int_equal(fwrite(chunk, 1, n, f), n);
            body -= n;
        }
    }
    free(chunk);
    m = (mp_t){0};
    s_mp_append_json(&m, "{\"id\": \"last\"}");
    assert_int_equal(fwrite(m.data, 1, m.len, f), m.len);
    free(m.data);
    rewind(f);
    evs_t evs = s_read_all(f, OBS_FORMAT_AUTO);
    fclose(f);
    assert_int_equal(evs.n, 4);
    s_expect_good(&evs.ev[0], "first");
    s_expect_good(&evs.ev[1], "big");
    s_expect_err(&evs.ev[2], CADRE_ERECORD, 3, "", "", "larger than the limit");
    s_expect_good(&evs.ev[3], "last");
    s_evs_free(&evs);
}

static void
test_stream_writer_roundtrip(void **state)
{
    (void)state;
    obs_t *recs[4];
    recs[0] = s_full_record();
    recs[1] = obs_new();
    recs[1]->id = xstrdup("gone");
    recs[1]->op = OBS_DELETE;
    recs[2] = obs_new();
    recs[2]->id = xstrdup("\xe6\x97\xa5\xe6\x9c\xac");
    recs[3] = obs_dup(recs[0]);
    free(recs[3]->id);
    recs[3]->id = xstrdup("copy");
    /*  JSON -> msgpack -> JSON, each through a writer and a reader. */
    obs_format_t order[] = {OBS_FORMAT_JSONL, OBS_FORMAT_MSGPACK, OBS_FORMAT_JSONL,
                            OBS_FORMAT_AUTO};
    obs_t *cur[4];
    for (int i = 0; i < 4; i++) {
        cur[i] = obs_dup(recs[i]);
    }
    char *first_text = NULL;
    for (size_t k = 0; k < 4; k++) {
        FILE *f = tmpfile();
        obs_writer_t *w = obs_writer_new(f, order[k]);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(obs_writer_put(w, cur[i]), 0);
        }
        obs_writer_destroy(&w);
        long size = ftell(f);
        rewind(f);
        if (order[k] != OBS_FORMAT_MSGPACK) {
            char *text = xcalloc(1, (size_t)size + 1);
            assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
            rewind(f);
            if (!first_text) {
                first_text = text;
            } else {
                assert_string_equal(first_text, text);
                free(text);
            }
        }
        obs_reader_t *r = obs_reader_new(f, OBS_FORMAT_AUTO, "rt");
        for (int i = 0; i < 4; i++) {
            obs_t *obs = NULL;
            obs_error_t err;
            assert_int_equal(obs_reader_next(r, &obs, &err), 1);
            assert_true(obs_equal(obs, recs[i]));
            obs_destroy(&cur[i]);
            cur[i] = obs;
        }
        assert_int_equal(obs_reader_format(r),
                         order[k] == OBS_FORMAT_MSGPACK ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL);
        assert_int_equal(obs_reader_records(r), 4);
        assert_string_equal(obs_reader_source(r), "rt");
        obs_reader_destroy(&r);
        fclose(f);
    }
    free(first_text);
    for (int i = 0; i < 4; i++) {
        obs_destroy(&cur[i]);
        obs_destroy(&recs[i]);
    }
}

static void
test_formats(void **state)
{
    (void)state;
    obs_format_t f = OBS_FORMAT_AUTO;
    assert_int_equal(obs_format_parse("jsonl", &f), 0);
    assert_int_equal(f, OBS_FORMAT_JSONL);
    assert_int_equal(obs_format_parse("json", &f), 0);
    assert_int_equal(f, OBS_FORMAT_JSONL);
    assert_int_equal(obs_format_parse("msgpack", &f), 0);
    assert_int_equal(f, OBS_FORMAT_MSGPACK);
    assert_int_equal(obs_format_parse("mp", &f), 0);
    assert_int_equal(f, OBS_FORMAT_MSGPACK);
    assert_int_equal(obs_format_parse("auto", &f), 0);
    assert_int_equal(f, OBS_FORMAT_AUTO);
    assert_int_equal(obs_format_parse("xml", &f), CADRE_ECONFIG);
    assert_int_equal(obs_format_from_path("a/b.msgpack"), OBS_FORMAT_MSGPACK);
    assert_int_equal(obs_format_from_path("b.mp"), OBS_FORMAT_MSGPACK);
    assert_int_equal(obs_format_from_path("b.jsonl"), OBS_FORMAT_JSONL);
    assert_int_equal(obs_format_from_path("mp"), OBS_FORMAT_JSONL);
    assert_null(obs_reader_new(stdin, (obs_format_t)9, "x"));
    assert_null(obs_reader_open("/nonexistent/cadre/file", OBS_FORMAT_AUTO));

    /*  Forcing JSON Lines on MessagePack input reports bad lines, no crash. */
    mp_t m = {0};
    s_mp_append_json(&m, "{\"id\": \"a\"}");
    evs_t evs = s_read_bytes(m.data, m.len, OBS_FORMAT_JSONL);
    assert_int_equal(evs.n, 1);
    assert_int_equal(evs.ev[0].rc, CADRE_ERECORD);
    s_evs_free(&evs);
    free(m.data);

    /*  A MessagePack stream whose first message is not a map is still MessagePack. */
    m = (mp_t){0};
    mp_arr(&m, 0);
    s_mp_append_json(&m, "{\"id\": \"b\"}");
    evs = s_read_bytes(m.data, m.len, OBS_FORMAT_AUTO);
    assert_int_equal(evs.n, 2);
    s_expect_err(&evs.ev[0], CADRE_ERECORD, 1, "", "", "is an array, not a map");
    s_expect_good(&evs.ev[1], "b");
    s_evs_free(&evs);
    free(m.data);

    /*  The reader reads no further than it must (a pipe-friendly contract). */
    const char *two = "{\"id\": \"a\"}\n{\"id\": \"b\"}\n";
    FILE *in = s_tmp(two, strlen(two));
    obs_reader_t *r = obs_reader_new(in, OBS_FORMAT_AUTO, "x");
    obs_t *obs = NULL;
    obs_error_t err;
    assert_int_equal(obs_reader_next(r, &obs, &err), 1);
    assert_int_equal(ftell(in), 12);
    obs_destroy(&obs);
    obs_reader_destroy(&r);
    fclose(in);
    m = mp_from_json("{\"id\": \"a\"}", MP_INTS_WIDE);
    size_t first = m.len;
    s_mp_append_json(&m, "{\"id\": \"b\"}");
    in = s_tmp(m.data, m.len);
    r = obs_reader_new(in, OBS_FORMAT_AUTO, "x");
    assert_int_equal(obs_reader_next(r, &obs, &err), 1);
    assert_int_equal(ftell(in), (long)first);
    obs_destroy(&obs);
    obs_reader_destroy(&r);
    fclose(in);
    free(m.data);
}

/*  The fixture tests/fixtures/records/mixed.jsonl and its expected report. */
static void
test_fixture_report(void **state)
{
    (void)state;
    const char *dir = getenv("TESTDATA_DIR");
    char path[512];
    char expected_path[512];
    snprintf(path, sizeof path, "%s/records/mixed.jsonl", dir ? dir : "tests/fixtures");
    snprintf(expected_path, sizeof expected_path, "%s/records/mixed.expected",
             dir ? dir : "tests/fixtures");
    size_t len = 0;
    char *expected = s_slurp(expected_path, &len);
    obs_reader_t *r = obs_reader_open(path, OBS_FORMAT_AUTO);
    assert_non_null(r);
    char *report = xcalloc(1, 1);
    size_t good = 0;
    size_t bad = 0;
    for (;;) {
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = obs_reader_next(r, &obs, &err);
        if (rc == 0) {
            break;
        }
        if (rc == 1) {
            good++;
            obs_destroy(&obs);
            continue;
        }
        bad++;
        char line[1024];
        obs_error_format(&err, "mixed.jsonl", line, sizeof line);
        char *next = xasprintf("%s%s\n", report, line);
        free(report);
        report = next;
    }
    obs_reader_destroy(&r);
    char *next = xasprintf("%s%zu records, %zu good, %zu bad\n", report, good + bad, good, bad);
    free(report);
    report = next;
    assert_string_equal(report, expected);
    free(report);
    free(expected);
}

/*  --------------------------------------------------------------------------------------
    Assignments */

static void
test_assign(void **state)
{
    (void)state;
    assign_t recs[3] = {
        {.id = "att-1", .identity = "id-1", .campaign = "camp-\xc3\xa9"},
        {.id = "att-2", .identity = NULL, .campaign = ""},
        {.id = "att-3", .identity = "id-3", .campaign = NULL},
    };
    char *text = NULL;
    size_t len = 0;
    obs_error_t err;
    assert_int_equal(jsonio_assign_encode(&recs[0], &text, &len, &err), 0);
    assert_string_equal(
        text, "{\"campaign\": \"camp-\\u00e9\", \"id\": \"att-1\", \"identity\": \"id-1\"}");
    free(text);
    assert_int_equal(jsonio_assign_encode(&recs[1], &text, &len, &err), 0);
    assert_string_equal(text, "{\"campaign\": \"\", \"id\": \"att-2\", \"identity\": null}");
    free(text);

    for (int fmt = 0; fmt < 2; fmt++) {
        FILE *f = tmpfile();
        assign_writer_t *w = assign_writer_new(f, fmt ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(assign_writer_put(w, &recs[i]), 0);
        }
        assign_t bad = {.id = ""};
        assert_int_equal(assign_writer_put(w, &bad), CADRE_ERECORD);
        assign_writer_destroy(&w);
        assert_null(w);
        /*  Append one bad record by hand, then one good. */
        if (fmt) {
            mp_t m = mp_from_json("{\"id\": \"x\", \"identity\": 5}", MP_INTS_WIDE);
            s_mp_append_json(&m, "{\"id\": \"att-4\", \"extra\": [1]}");
            fwrite(m.data, 1, m.len, f);
            free(m.data);
        } else {
            fputs("{\"id\": \"x\", \"identity\": 5}\n{\"id\": \"att-4\", \"extra\": [1]}\n", f);
        }
        rewind(f);
        assign_reader_t *r = assign_reader_new(f, OBS_FORMAT_AUTO, "asg");
        assert_string_equal(assign_reader_source(r), "asg");
        assign_t got;
        for (int i = 0; i < 3; i++) {
            assert_int_equal(assign_reader_next(r, &got, &err), 1);
            assert_string_equal(got.id, recs[i].id);
            if (recs[i].identity) {
                assert_string_equal(got.identity, recs[i].identity);
            } else {
                assert_null(got.identity);
            }
            if (recs[i].campaign) {
                assert_string_equal(got.campaign, recs[i].campaign);
            } else {
                assert_null(got.campaign);
            }
            assign_clear(&got);
        }
        assert_int_equal(assign_reader_next(r, &got, &err), CADRE_ERECORD);
        assert_int_equal(err.record, 4);
        assert_string_equal(err.id, "x");
        assert_string_equal(err.field, "identity");
        assert_null(got.id);
        assert_int_equal(assign_reader_next(r, &got, &err), 1);
        assert_string_equal(got.id, "att-4");
        assert_null(got.identity);
        assign_clear(&got);
        assert_int_equal(assign_reader_next(r, &got, &err), 0);
        assign_reader_destroy(&r);
        fclose(f);
    }

    /*  Decoder errors, both encodings. */
    static const struct {
        const char *json;  /* record */
        const char *field; /* expected field */
    } bad[] = {
        {"{\"identity\": \"i\"}", "id"},
        {"{\"id\": \"\"}", "id"},
        {"{\"id\": 3}", "id"},
        {"{\"id\": \"a\", \"campaign\": []}", "campaign"},
        {"{\"id\": \"a\", \"identity\": \"\\u0000\"}", "identity"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assign_t out;
        assert_int_equal(jsonio_assign_decode(bad[i].json, strlen(bad[i].json), 1, &out, &err),
                         CADRE_ERECORD);
        assert_string_equal(err.field, bad[i].field);
        assert_null(out.id);
        mp_t m = mp_from_json(bad[i].json, MP_INTS_WIDE);
        assert_int_equal(wire_assign_decode(m.data, m.len, 1, &out, &err), CADRE_ERECORD);
        assert_string_equal(err.field, bad[i].field);
        free(m.data);
    }
    assign_t out;
    assert_int_equal(jsonio_assign_decode("[", 1, 1, &out, &err), CADRE_ETRUNC);
    assign_reader_t *none = assign_reader_open("/nonexistent/cadre/file", OBS_FORMAT_AUTO);
    assert_null(none);
}

static void
test_wire_buf(void **state)
{
    (void)state;
    wire_buf_t b;
    wire_buf_init(&b);
    assert_null(b.data);
    for (int i = 0; i < 1000; i++) {
        wire_buf_append(&b, "abc", 3);
    }
    assert_int_equal(b.len, 3000);
    assert_memory_equal(b.data + 2997, "abc", 3);
    wire_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_true(b.cap >= 3000);
    wire_buf_append(&b, "", 0);
    wire_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);

    /*  Encoders append, so several messages can share one buffer. */
    obs_t *a = obs_new();
    a->id = xstrdup("a");
    obs_error_t err;
    assert_int_equal(wire_obs_encode(a, &b, &err), 0);
    size_t one = b.len;
    assert_int_equal(wire_obs_encode(a, &b, &err), 0);
    assert_int_equal(b.len, 2 * one);
    obs_t *back = NULL;
    assert_int_equal(wire_obs_decode(b.data, one, 1, &back, &err), 0);
    assert_true(obs_equal(a, back));
    obs_destroy(&back);
    assert_int_equal(wire_obs_decode(b.data, b.len, 1, &back, &err), CADRE_ERECORD);
    free(a->id);
    a->id = NULL;
    assert_int_equal(wire_obs_encode(a, &b, &err), CADRE_ERECORD);
    assert_int_equal(b.len, 2 * one);
    wire_buf_free(&b);
    obs_destroy(&a);
}

/*  wire_obs_peek (cadre run's MessagePack path) reads the truth labels from the "truth" map
    the encoder writes (docs/schema.md); it used to look for flat "truth_campaign" keys and
    found none, so `cadre run corpus.msgpack` printed no metrics (the fuzz target
    wire_decode found it: fuzz/regressions/wire_decode/peek-truth). */
static void
test_peek(void **state)
{
    (void)state;
    obs_t *o = s_full_record();
    free(o->truth_campaign);
    o->truth_campaign = xstrdup("camp-1");
    o->truth_identity = xstrdup("ident-1");
    wire_buf_t b;
    wire_buf_init(&b);
    obs_error_t err;
    assert_int_equal(wire_obs_encode(o, &b, &err), 0);
    wire_peek_t peek;
    assert_int_equal(wire_obs_peek(b.data, b.len, 1, &peek, &err), 0);
    assert_string_equal(peek.id, o->id);
    assert_false(peek.is_delete);
    assert_string_equal(peek.truth_campaign, "camp-1");
    assert_string_equal(peek.truth_identity, "ident-1");
    wire_peek_clear(&peek);
    assert_null(peek.id);

    /*  A record without labels, a delete, and labels that are not strings. */
    wire_buf_reset(&b);
    mp_t m = mp_from_json("{\"id\": \"d\", \"op\": \"delete\", \"truth\": {\"campaign\": 7}}",
                          MP_INTS_MINIMAL);
    assert_int_equal(wire_obs_peek(m.data, m.len, 1, &peek, &err), 0);
    assert_string_equal(peek.id, "d");
    assert_true(peek.is_delete);
    assert_null(peek.truth_campaign);
    assert_null(peek.truth_identity);
    wire_peek_clear(&peek);
    free(m.data);
    m = mp_from_json("{\"id\": \"x\", \"truth\": \"camp-1\"}", MP_INTS_MINIMAL);
    assert_int_equal(wire_obs_peek(m.data, m.len, 1, &peek, &err), 0);
    assert_null(peek.truth_campaign);
    wire_peek_clear(&peek);
    free(m.data);
    assert_int_equal(wire_obs_peek("\x91\x01", 2, 1, &peek, &err), CADRE_ERECORD);
    assert_null(peek.id);
    wire_buf_free(&b);
    obs_destroy(&o);
}

/*  An optional argument runs only the tests whose names match it (cmocka's filter). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_validator),
        cmocka_unit_test(test_field_checks),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_check_record),
        cmocka_unit_test(test_bad_records_json),
        cmocka_unit_test(test_bad_records_msgpack),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_json_syntax),
        cmocka_unit_test(test_msgpack_faults),
        cmocka_unit_test(test_accepted_variants),
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_double_roundtrip),
        cmocka_unit_test(test_full_record_roundtrip),
        cmocka_unit_test(test_generator_vectors),
        cmocka_unit_test(test_stream_good_bad_good),
        cmocka_unit_test(test_stream_jsonl_edges),
        cmocka_unit_test(test_stream_long_lines),
        cmocka_unit_test(test_stream_msgpack_edges),
        cmocka_unit_test(test_stream_msgpack_oversize),
        cmocka_unit_test(test_stream_writer_roundtrip),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_fixture_report),
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_wire_buf),
        cmocka_unit_test(test_peek),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
