/*  test_merger_query.c - the QUERY / REPLY bodies (common/wire_msg.h) and the merger's
    answers (merger/merger_query.h): every body round-trips, malformed ones are refused, and
    the answers about a small engine state are the records and assignments that
    `cadre cluster` would write: pages in input and formation order, look-ups that follow
    merged_into, errors for unknown ids and malformed questions. */
#include "ccfg.h"
#include "cluster.h"
#include "err.h"
#include "jsonio.h"
#include "merger_query.h"
#include "wire.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  --------------------------------------------------------------------------------------
    Codecs */

static void
test_query_round_trips(void **state)
{
    (void)state;
    wmsg_query_t in[] = {
        {.what = "health"},
        {.what = "assignments", .offset = 2000, .limit = 500},
        {.what = "identity", .id = "8a5c-\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        wire_buf_t buf;
        wire_buf_init(&buf);
        assert_int_equal(wmsg_query_encode(&in[i], &buf), 0);
        wmsg_query_t out;
        char err[256];
        assert_int_equal(wmsg_query_decode(buf.data, buf.len, &out, err, sizeof err), 0);
        assert_string_equal(out.what, in[i].what);
        if (in[i].id) {
            assert_string_equal(out.id, in[i].id);
        } else {
            assert_null(out.id);
        }
        assert_int_equal(out.offset, in[i].offset);
        assert_int_equal(out.limit, in[i].limit);
        wmsg_query_free(&out);
        wire_buf_free(&buf);
    }
}

/*  A hand-written MessagePack body (the tests never call msgpack-c themselves). */
typedef struct {
    const char *bytes; /* the message */
    size_t len;        /* its length */
    const char *names; /* a word the decoder's reason must contain, or NULL */
} s_raw_t;

#define S_RAW(lit, names)                                                                          \
    {                                                                                              \
        lit, sizeof(lit) - 1, names                                                                \
    }

static void
test_malformed_queries_refused(void **state)
{
    (void)state;
    const s_raw_t bad[] = {
        S_RAW("\xc1", NULL), /* not msgpack */
        S_RAW("\x90", NULL), /* [] */
        S_RAW("\x81\xa2"
              "id"
              "\xa1"
              "x",
              "what"), /* {id: "x"} */
        S_RAW("\x82\xa4"
              "what"
              "\xab"
              "assignments"
              "\xa6"
              "offset"
              "\xff", /* offset -1 */
              "offset"),
        S_RAW("\x82\xa4"
              "what"
              "\xa8"
              "identity"
              "\xa2"
              "id"
              "\x07",
              "id"), /* id: 7 */
        S_RAW("\x81\xa4"
              "what"
              "\xc0",
              "what"), /* what: nil */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wmsg_query_t out;
        char err[256] = "";
        assert_int_equal(wmsg_query_decode(bad[i].bytes, bad[i].len, &out, err, sizeof err),
                         CADRE_EPROTO);
        if (bad[i].names) {
            assert_non_null(strstr(err, bad[i].names));
        }
    }
}

static wmsg_reply_t
s_reply_round_trip(const wmsg_reply_t *in)
{
    wire_buf_t buf;
    wire_buf_init(&buf);
    assert_int_equal(wmsg_reply_encode(in, &buf), 0);
    wmsg_reply_t out;
    char err[256];
    assert_int_equal(wmsg_reply_decode(buf.data, buf.len, &out, err, sizeof err), 0);
    wire_buf_free(&buf);
    assert_int_equal(out.kind, in->kind);
    return out;
}

static void
test_reply_round_trips(void **state)
{
    (void)state;
    wmsg_reply_t text = {.kind = WMSG_REPLY_TEXT, .text = "{\"role\": \"merger\"}"};
    wmsg_reply_t r = s_reply_round_trip(&text);
    assert_string_equal(r.text, text.text);
    wmsg_reply_free(&r);

    wmsg_reply_t error = {.kind = WMSG_REPLY_ERROR, .text = "unknown identity 'x'"};
    r = s_reply_round_trip(&error);
    assert_string_equal(r.text, error.text);
    wmsg_reply_free(&r);

    wmsg_reply_t one = {.kind = WMSG_REPLY_ASSIGNMENT, .assignment = {"o-1", "I-1", NULL}};
    r = s_reply_round_trip(&one);
    assert_string_equal(r.assignment.id, "o-1");
    assert_string_equal(r.assignment.identity, "I-1");
    assert_null(r.assignment.campaign);
    wmsg_reply_free(&r);

    wmsg_assignment_t items[2] = {{"o-1", "I-1", "C-1"}, {"o-2", NULL, NULL}};
    wmsg_reply_t page = {
        .kind = WMSG_REPLY_PAGE, .assignments = items, .n = 2, .has_next = true, .next = 7};
    r = s_reply_round_trip(&page);
    assert_int_equal(r.n, 2);
    assert_non_null(r.assignments);
    assert_null(r.texts);
    assert_string_equal(r.assignments[0].campaign, "C-1");
    assert_null(r.assignments[1].identity);
    assert_true(r.has_next);
    assert_int_equal(r.next, 7);
    wmsg_reply_free(&r);

    char *texts[1] = {"{\"id\": \"I-1\"}"};
    wmsg_reply_t records = {.kind = WMSG_REPLY_PAGE, .texts = texts, .n = 1};
    r = s_reply_round_trip(&records);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.texts[0], texts[0]);
    assert_false(r.has_next);
    wmsg_reply_free(&r);

    /*  msgpack-c decodes an empty string with a NULL pointer; UBSan caught the decoder
        passing it to memchr (fuzz/regressions/msg_reply/empty-text). */
    wmsg_reply_t blank = {.kind = WMSG_REPLY_TEXT, .text = ""};
    r = s_reply_round_trip(&blank);
    assert_string_equal(r.text, "");
    wmsg_reply_free(&r);

    wmsg_reply_t empty = {.kind = WMSG_REPLY_PAGE};
    r = s_reply_round_trip(&empty);
    assert_int_equal(r.n, 0);
    assert_false(r.has_next);
    wmsg_reply_free(&r);
}

static void
test_malformed_replies_refused(void **state)
{
    (void)state;
    const s_raw_t bad[] = {
        /* a page mixing a map and a string */
        S_RAW("\x82\xa5"
              "items"
              "\x92\x81\xa2"
              "id"
              "\xa3"
              "o-1"
              "\xa4"
              "text"
              "\xa4"
              "next"
              "\xc0",
              NULL),
        S_RAW("\x81\xa5"
              "items"
              "\x90",
              "next"),       /* a page without next */
        S_RAW("\x80", NULL), /* a map of no known shape */
        S_RAW("\x03", NULL), /* a number */
        S_RAW("\xa1"
              "x"
              "\xa1"
              "y",
              NULL), /* two messages */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wmsg_reply_t out;
        char err[256] = "";
        assert_int_equal(wmsg_reply_decode(bad[i].bytes, bad[i].len, &out, err, sizeof err),
                         CADRE_EPROTO);
        if (bad[i].names) {
            assert_non_null(strstr(err, bad[i].names));
        }
    }
}

/*  --------------------------------------------------------------------------------------
    Answers */

/*  A small engine state: {a, b} (shared JA3) and {c} reconciled apart, then d (the JA3 of a
    and the HASSH of c) merges c's identity into a's. */
typedef struct {
    cluster_t *c;       /* the engine */
    merger_query_t *q;  /* the answerer */
    uint64_t version;   /* bumped at every change */
    const char *winner; /* a's identity */
    const char *loser;  /* c's identity before the merge */
} s_fix_t;

static void
s_apply(s_fix_t *f, const char *json)
{
    obs_t *o = NULL;
    obs_error_t e;
    assert_int_equal(jsonio_obs_decode(json, strlen(json), 1, &o, &e), 0);
    cluster_apply(f->c, o);
    obs_destroy(&o);
    f->version++;
}

static int
s_setup(void **state)
{
    s_fix_t *f = xcalloc(1, sizeof *f);
    ccfg_t cfg;
    ccfg_reference(&cfg);
    f->c = cluster_new(&cfg, "test");
    f->q = merger_query_new();
    s_apply(f, "{\"id\": \"a\", \"ja3\": \"J1\"}");
    s_apply(f, "{\"id\": \"b\", \"ja3\": \"J1\"}");
    s_apply(f, "{\"id\": \"c\", \"hassh\": \"H2\"}");
    assert_int_equal(cluster_reconcile(f->c, NULL, NULL), 0);
    f->version++;
    f->loser = cluster_identity_of(f->c, (size_t)cluster_find(f->c, "c"));
    s_apply(f, "{\"id\": \"d\", \"ja3\": \"J1\", \"hassh\": \"H2\"}");
    assert_int_equal(cluster_reconcile(f->c, NULL, NULL), 0);
    f->version++;
    f->winner = cluster_identity_of(f->c, (size_t)cluster_find(f->c, "a"));
    assert_string_equal(cluster_identity_of(f->c, (size_t)cluster_find(f->c, "c")), f->winner);
    assert_string_not_equal(f->loser, f->winner);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *f = *state;
    merger_query_destroy(&f->q);
    cluster_destroy(&f->c);
    free(f);
    return 0;
}

/*  Asks one question (built by the caller) and decodes the answer; returns the answerer's
    code. */
static int
s_ask(s_fix_t *f, const wmsg_query_t *q, wmsg_reply_t *reply)
{
    wire_buf_t in;
    wire_buf_t out;
    wire_buf_init(&in);
    wire_buf_init(&out);
    wmsg_query_encode(q, &in);
    char err[256] = "";
    int rc = merger_query_answer(f->q, f->c, f->version, "{\"role\": \"merger\"}", in.data, in.len,
                                 &out, err, sizeof err);
    assert_true(rc == 0 || err[0] != '\0');
    char derr[256];
    assert_int_equal(wmsg_reply_decode(out.data, out.len, reply, derr, sizeof derr), 0);
    wire_buf_free(&in);
    wire_buf_free(&out);
    return rc;
}

/*  The JSON text of identity record i. */
static char *
s_identity_text(const cluster_t *c, size_t i)
{
    rec_identity_t r;
    cluster_identity_record(c, i, &r);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(jsonio_identity_encode(&r, &text, &len), 0);
    rec_identity_clear(&r);
    return text;
}

static void
test_health(void **state)
{
    s_fix_t *f = *state;
    wmsg_reply_t r;
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "health"}, &r), 0);
    assert_int_equal(r.kind, WMSG_REPLY_TEXT);
    assert_string_equal(r.text, "{\"role\": \"merger\"}");
    wmsg_reply_free(&r);
}

static void
test_assignments_page_in_input_order(void **state)
{
    s_fix_t *f = *state;
    const char *ids[] = {"a", "b", "c", "d"};
    uint64_t offset = 0;
    size_t seen = 0;
    for (;;) {
        wmsg_reply_t r;
        assert_int_equal(
            s_ask(f, &(wmsg_query_t){.what = "assignments", .offset = offset, .limit = 3}, &r), 0);
        assert_int_equal(r.kind, WMSG_REPLY_PAGE);
        for (size_t i = 0; i < r.n; i++, seen++) {
            assert_string_equal(r.assignments[i].id, ids[seen]);
            assert_string_equal(r.assignments[i].identity, f->winner);
            assert_non_null(r.assignments[i].campaign);
        }
        bool more = r.has_next;
        offset = r.next;
        wmsg_reply_free(&r);
        if (!more) {
            break;
        }
        assert_int_equal(offset, 3);
    }
    assert_int_equal(seen, 4);
    /* A delete changes the list once the version moves. */
    s_apply(f, "{\"id\": \"b\", \"op\": \"delete\"}");
    wmsg_reply_t r;
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "assignments"}, &r), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.assignments[1].id, "c");
    assert_false(r.has_next);
    wmsg_reply_free(&r);
    /* Past the end: an empty last page. */
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "assignments", .offset = 99}, &r), 0);
    assert_int_equal(r.n, 0);
    assert_false(r.has_next);
    wmsg_reply_free(&r);
}

static void
test_records_pages_are_the_cluster_records(void **state)
{
    s_fix_t *f = *state;
    size_t n = cluster_identity_count(f->c);
    assert_int_equal(n, 2);
    for (uint64_t k = 0; k < n; k++) {
        wmsg_reply_t r;
        assert_int_equal(
            s_ask(f, &(wmsg_query_t){.what = "identities", .offset = k, .limit = 1}, &r), 0);
        assert_int_equal(r.n, 1);
        char *want = s_identity_text(f->c, (size_t)k);
        assert_string_equal(r.texts[0], want);
        free(want);
        assert_int_equal(r.has_next, k + 1 < n);
        wmsg_reply_free(&r);
    }
    wmsg_reply_t r;
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "campaigns"}, &r), 0);
    assert_int_equal(r.n, cluster_campaign_count(f->c));
    assert_non_null(strstr(r.texts[0], "\"identity_count\": "));
    wmsg_reply_free(&r);
}

static void
test_lookups_follow_merged_into(void **state)
{
    s_fix_t *f = *state;
    char *want = s_identity_text(f->c, 0);
    assert_non_null(strstr(want, f->winner));
    const char *asked[] = {f->winner, f->loser};
    for (size_t i = 0; i < 2; i++) {
        wmsg_reply_t r;
        assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "identity", .id = (char *)asked[i]}, &r),
                         0);
        assert_int_equal(r.kind, WMSG_REPLY_TEXT);
        assert_string_equal(r.text, want);
        wmsg_reply_free(&r);
    }
    free(want);
    const char *camp = cluster_campaign_of(f->c, (size_t)cluster_find(f->c, "a"));
    wmsg_reply_t r;
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "campaign", .id = (char *)camp}, &r), 0);
    assert_int_equal(r.kind, WMSG_REPLY_TEXT);
    assert_non_null(strstr(r.text, camp));
    wmsg_reply_free(&r);
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "assignment", .id = "d"}, &r), 0);
    assert_int_equal(r.kind, WMSG_REPLY_ASSIGNMENT);
    assert_string_equal(r.assignment.id, "d");
    assert_string_equal(r.assignment.identity, f->winner);
    assert_string_equal(r.assignment.campaign, camp);
    wmsg_reply_free(&r);
}

static void
test_unknown_ids_are_errors(void **state)
{
    s_fix_t *f = *state;
    const char *whats[] = {"identity", "campaign", "assignment"};
    for (size_t i = 0; i < 3; i++) {
        wmsg_reply_t r;
        assert_int_equal(s_ask(f, &(wmsg_query_t){.what = (char *)whats[i], .id = "nope"}, &r), 0);
        assert_int_equal(r.kind, WMSG_REPLY_ERROR);
        assert_non_null(strstr(r.text, "'nope'"));
        wmsg_reply_free(&r);
    }
}

static void
test_malformed_questions(void **state)
{
    s_fix_t *f = *state;
    wmsg_reply_t r;
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "frobnicate"}, &r), CADRE_EPROTO);
    assert_int_equal(r.kind, WMSG_REPLY_ERROR);
    assert_non_null(strstr(r.text, "unknown query 'frobnicate'"));
    wmsg_reply_free(&r);
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "members"}, &r), CADRE_EPROTO);
    assert_int_equal(r.kind, WMSG_REPLY_ERROR);
    assert_non_null(strstr(r.text, "needs an id"));
    wmsg_reply_free(&r);
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "explain", .id = "a"}, &r), CADRE_EPROTO);
    assert_int_equal(r.kind, WMSG_REPLY_ERROR);
    wmsg_reply_free(&r);
    assert_int_equal(s_ask(f, &(wmsg_query_t){.what = "identity"}, &r), CADRE_EPROTO);
    assert_int_equal(r.kind, WMSG_REPLY_ERROR);
    assert_non_null(strstr(r.text, "needs an id"));
    wmsg_reply_free(&r);
    /* An undecodable body: still an {error} reply. */
    wire_buf_t out;
    wire_buf_init(&out);
    char err[256] = "";
    assert_int_equal(
        merger_query_answer(f->q, f->c, f->version, "{}", "\x93", 1, &out, err, sizeof err),
        CADRE_EPROTO);
    assert_non_null(strstr(err, "malformed query"));
    char derr[256];
    assert_int_equal(wmsg_reply_decode(out.data, out.len, &r, derr, sizeof derr), 0);
    assert_int_equal(r.kind, WMSG_REPLY_ERROR);
    wmsg_reply_free(&r);
    wire_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_round_trips),
        cmocka_unit_test(test_malformed_queries_refused),
        cmocka_unit_test(test_reply_round_trips),
        cmocka_unit_test(test_malformed_replies_refused),
        cmocka_unit_test_setup_teardown(test_health, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assignments_page_in_input_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_records_pages_are_the_cluster_records, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_lookups_follow_merged_into, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ids_are_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_questions, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
