/*  test_records.c - what the engine publishes: event and record encoders (jsonio.c,
    wire.c), the event decoder and printer, and the record writer (rec_stream.c).

    Every expected JSON text is written by hand from SPEC §6-§7 and docs/events.md. The
    MessagePack side is checked against the same texts: a test-only converter (jansson tree
    -> hand-packed MessagePack bytes, with msgpack-c's minimal integer forms) turns each
    expected text into the bytes the encoders must produce, so the two encodings cannot
    drift apart. The tests never call msgpack-c themselves.
*/
#include "err.h"
#include "jsonio.h"
#include "obs_stream.h"
#include "rec_stream.h"
#include "records.h"
#include "wire.h"
#include "mp.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  --------------------------------------------------------------------------------------
    Events: one case per kind, and some more */

static const char *const s_obs2[] = {"o-1", "o-2"};
static const char *const s_ids2[] = {"I-1", "I-2"};

typedef struct {
    ev_t ev;          /* the event */
    const char *json; /* its text, by hand */
} ev_case_t;

static const ev_case_t s_cases[] = {
    {{EV_IDENTITY_FORMED, "ev-1", 1767225600.0, "I-1", NULL, NULL, s_obs2, 2},
     "{\"id\": \"ev-1\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuids\": "
     "[\"o-1\", \"o-2\"]}, \"topic\": \"identity.formed\", \"ts\": 1767225600.0, \"type\": "
     "\"formed\", \"v\": 1}"},
    {{EV_IDENTITY_LINKED, "ev-2", 1767225600.5, "I-1", "o-3", NULL, NULL, 0},
     "{\"id\": \"ev-2\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuid\": "
     "\"o-3\", \"prior_identity_uuid\": null}, \"topic\": \"identity.observation.linked\", "
     "\"ts\": 1767225600.5, \"type\": \"linked\", \"v\": 1}"},
    {{EV_IDENTITY_LINKED, "ev-3", 0.1, "I-1", "o-4", "I-0", NULL, 0},
     "{\"id\": \"ev-3\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuid\": "
     "\"o-4\", \"prior_identity_uuid\": \"I-0\"}, \"topic\": \"identity.observation.linked\", "
     "\"ts\": 0.1, \"type\": \"linked\", \"v\": 1}"},
    {{EV_IDENTITY_MERGED, "ev-4", 1767225601.25, "I-1", "I-2", NULL, NULL, 0},
     "{\"id\": \"ev-4\", \"payload\": {\"loser_uuid\": \"I-2\", \"winner_uuid\": \"I-1\"}, "
     "\"topic\": \"identity.merged\", \"ts\": 1767225601.25, \"type\": \"merged\", \"v\": 1}"},
    {{EV_IDENTITY_UNMERGED, "ev-5", 1767225602.0, "I-2", "I-1", NULL, NULL, 0},
     "{\"id\": \"ev-5\", \"payload\": {\"former_winner_uuid\": \"I-1\", \"resurrected_uuid\": "
     "\"I-2\"}, \"topic\": \"identity.unmerged\", \"ts\": 1767225602.0, \"type\": "
     "\"unmerged\", \"v\": 1}"},
    {{EV_IDENTITY_CAMPAIGN_ASSIGNED, "ev-6", 1767225603.0, "I-1", "C-1", NULL, NULL, 0},
     "{\"id\": \"ev-6\", \"payload\": {\"campaign_uuid\": \"C-1\", \"identity_uuid\": \"I-1\", "
     "\"prior_campaign_uuid\": null}, \"topic\": \"identity.campaign.assigned\", \"ts\": "
     "1767225603.0, \"type\": \"assigned\", \"v\": 1}"},
    {{EV_IDENTITY_CAMPAIGN_ASSIGNED, "ev-7", 1767225603.0, "I-1", "C-2", "C-1", NULL, 0},
     "{\"id\": \"ev-7\", \"payload\": {\"campaign_uuid\": \"C-2\", \"identity_uuid\": \"I-1\", "
     "\"prior_campaign_uuid\": \"C-1\"}, \"topic\": \"identity.campaign.assigned\", \"ts\": "
     "1767225603.0, \"type\": \"assigned\", \"v\": 1}"},
    {{EV_CAMPAIGN_FORMED, "ev-8", 1767225604.0, "C-1", NULL, NULL, s_ids2, 2},
     "{\"id\": \"ev-8\", \"payload\": {\"campaign_uuid\": \"C-1\", \"identity_uuids\": "
     "[\"I-1\", \"I-2\"]}, \"topic\": \"campaign.formed\", \"ts\": 1767225604.0, \"type\": "
     "\"formed\", \"v\": 1}"},
    {{EV_CAMPAIGN_IDENTITY_ASSIGNED, "ev-9", 1767225605.0, "C-2", "I-1", "C-1", NULL, 0},
     "{\"id\": \"ev-9\", \"payload\": {\"campaign_uuid\": \"C-2\", \"identity_uuid\": \"I-1\", "
     "\"prior_campaign_uuid\": \"C-1\"}, \"topic\": \"campaign.identity.assigned\", \"ts\": "
     "1767225605.0, \"type\": \"assigned\", \"v\": 1}"},
    {{EV_CAMPAIGN_IDENTITY_ASSIGNED, "ev-10", 1767225605.0, "C-2", "I-3", NULL, NULL, 0},
     "{\"id\": \"ev-10\", \"payload\": {\"campaign_uuid\": \"C-2\", \"identity_uuid\": \"I-3\", "
     "\"prior_campaign_uuid\": null}, \"topic\": \"campaign.identity.assigned\", \"ts\": "
     "1767225605.0, \"type\": \"assigned\", \"v\": 1}"},
    {{EV_CAMPAIGN_MERGED, "ev-11", 1767225606.0, "C-1", "C-2", NULL, NULL, 0},
     "{\"id\": \"ev-11\", \"payload\": {\"loser_uuid\": \"C-2\", \"winner_uuid\": \"C-1\"}, "
     "\"topic\": \"campaign.merged\", \"ts\": 1767225606.0, \"type\": \"merged\", \"v\": 1}"},
    {{EV_CAMPAIGN_UNMERGED, "ev-12", 1767225607.0, "C-2", "C-1", NULL, NULL, 0},
     "{\"id\": \"ev-12\", \"payload\": {\"former_winner_uuid\": \"C-1\", \"resurrected_uuid\": "
     "\"C-2\"}, \"topic\": \"campaign.unmerged\", \"ts\": 1767225607.0, \"type\": "
     "\"unmerged\", \"v\": 1}"},
    /*  An empty member list, a tiny time in exponent form. */
    {{EV_IDENTITY_FORMED, "ev-13", 1e-05, "I-9", NULL, NULL, NULL, 0},
     "{\"id\": \"ev-13\", \"payload\": {\"identity_uuid\": \"I-9\", \"observation_uuids\": "
     "[]}, \"topic\": \"identity.formed\", \"ts\": 1e-05, \"type\": \"formed\", \"v\": 1}"},
    /*  Non-ASCII and characters JSON escapes (ensure_ascii, surrogate pairs). */
    {{EV_IDENTITY_LINKED, "ev-14", 1767225608.0, "I-1", "o-\xc3\xa9\"\\\t\xf0\x9f\x98\x80", NULL,
      NULL, 0},
     "{\"id\": \"ev-14\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuid\": "
     "\"o-\\u00e9\\\"\\\\\\t\\ud83d\\ude00\", \"prior_identity_uuid\": null}, \"topic\": "
     "\"identity.observation.linked\", \"ts\": 1767225608.0, \"type\": \"linked\", \"v\": 1}"},
};
#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

static void
test_event_json_text(void **state)
{
    (void)state;
    bool seen[EV_KIND_COUNT] = {false};
    for (size_t i = 0; i < S_NCASES; i++) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(jsonio_event_encode(&s_cases[i].ev, &text, &len), 0);
        assert_string_equal(text, s_cases[i].json);
        assert_int_equal(len, strlen(text));
        free(text);
        seen[s_cases[i].ev.kind] = true;
    }
    for (int k = 0; k < EV_KIND_COUNT; k++) {
        assert_true(seen[k]);
    }
}

/*  The MessagePack envelope: the bytes the expected text converts to, then back. */
static void
test_event_msgpack_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < S_NCASES; i++) {
        const ev_t *ev = &s_cases[i].ev;
        wire_buf_t buf;
        wire_buf_init(&buf);
        wire_buf_append(&buf, "xy", 2); /* appends after what is there */
        assert_int_equal(wire_event_encode(ev, &buf), 0);
        mp_t want = mp_from_json(s_cases[i].json, MP_INTS_MINIMAL);
        assert_int_equal(buf.len - 2, want.len);
        assert_memory_equal(buf.data + 2, want.data, want.len);

        char err[256] = "";
        wire_event_t *got = NULL;
        assert_int_equal(wire_event_decode(buf.data + 2, buf.len - 2, &got, err, sizeof err), 0);
        assert_non_null(got);
        assert_int_equal(got->v, 1);
        assert_int_equal(got->kind, ev->kind);
        assert_string_equal(got->id, ev->id);
        assert_string_equal(got->topic, ev_topic(ev->kind));
        assert_string_equal(got->type, ev_type(ev->kind));
        assert_true(got->ts == ev->ts);
        const char *sk = NULL;
        const char *ok = NULL;
        const char *pk = NULL;
        const char *mk = NULL;
        ev_keys(ev->kind, &sk, &ok, &pk, &mk);
        size_t nf = 1 + (ok != NULL) + (pk != NULL);
        assert_int_equal(got->n_fields, nf);
        for (size_t f = 0; f < got->n_fields; f++) {
            const wire_field_t *fld = &got->fields[f];
            if (f > 0) {
                assert_true(strcmp(got->fields[f - 1].key, fld->key) < 0);
            }
            const char *want_v = ev->prior;
            if (strcmp(fld->key, sk) == 0) {
                want_v = ev->subject;
            } else if (ok && strcmp(fld->key, ok) == 0) {
                want_v = ev->object;
            } else {
                assert_non_null(pk);
                assert_string_equal(fld->key, pk);
            }
            if (want_v) {
                assert_string_equal(fld->value, want_v);
            } else {
                assert_null(fld->value);
            }
        }
        if (mk) {
            assert_string_equal(got->members_key, mk);
            assert_int_equal(got->n_members, ev->n_members);
            for (size_t m = 0; m < ev->n_members; m++) {
                assert_string_equal(got->members[m], ev->members[m]);
            }
        } else {
            assert_null(got->members_key);
            assert_int_equal(got->n_members, 0);
        }
        /*  The subscriber's rendering is the publisher's JSON text. */
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(jsonio_event_print(got, &text, &len), 0);
        assert_string_equal(text, s_cases[i].json);
        assert_int_equal(len, strlen(text));
        free(text);
        wire_event_free(&got);
        assert_null(got);
        wire_event_free(&got); /* NULL is a no-op */
        free(want.data);
        wire_buf_free(&buf);
    }
}

/*  A formed event's members: 16384 UUIDs fit in 1 MiB; one more is refused; long ids are
    refused earlier, where wire_event_members_fit() says. */
static void
test_event_size_limits(void **state)
{
    (void)state;
    size_t n = WIRE_EVENT_MAX_MEMBERS + 1;
    char **ids = xcalloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        ids[i] = xasprintf("%08zx-0000-5000-8000-%012zx", i, i * 7919);
        assert_int_equal(strlen(ids[i]), 36);
    }
    ev_t ev = {EV_IDENTITY_FORMED,
               "ev-big",
               1767225600.0,
               "I-big",
               NULL,
               NULL,
               (const char *const *)ids,
               WIRE_EVENT_MAX_MEMBERS};
    assert_int_equal(wire_event_members_fit(&ev), WIRE_EVENT_MAX_MEMBERS);
    wire_buf_t buf;
    wire_buf_init(&buf);
    assert_int_equal(wire_event_encode(&ev, &buf), 0);
    assert_true(buf.len < WIRE_EVENT_MAX_BYTES);
    assert_true(buf.len > WIRE_EVENT_MAX_MEMBERS * 38u);
    char err[256] = "";
    wire_event_t *got = NULL;
    assert_int_equal(wire_event_decode(buf.data, buf.len, &got, err, sizeof err), 0);
    assert_int_equal(got->n_members, WIRE_EVENT_MAX_MEMBERS);
    assert_string_equal(got->members[WIRE_EVENT_MAX_MEMBERS - 1], ids[WIRE_EVENT_MAX_MEMBERS - 1]);
    wire_event_free(&got);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(jsonio_event_encode(&ev, &text, &len), 0);
    free(text);

    /*  One member too many: both encoders refuse, and buf is left as it was. */
    ev.n_members = n;
    assert_int_equal(wire_event_members_fit(&ev), WIRE_EVENT_MAX_MEMBERS);
    size_t before = buf.len;
    assert_int_equal(wire_event_encode(&ev, &buf), CADRE_ELIMIT);
    assert_int_equal(buf.len, before);
    text = NULL;
    assert_int_equal(jsonio_event_encode(&ev, &text, &len), CADRE_ELIMIT);
    assert_null(text);

    /*  Long ids (250 bytes, the schema allows 256): the byte limit comes first. */
    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
        ids[i] = xmalloc(251);
        memset(ids[i], 'a' + (int)(i % 26), 250);
        ids[i][250] = '\0';
    }
    ev.n_members = n;
    size_t fit = wire_event_members_fit(&ev);
    assert_true(fit > 4000 && fit < 4200);
    ev.n_members = fit;
    wire_buf_reset(&buf);
    assert_int_equal(wire_event_encode(&ev, &buf), 0);
    assert_true(buf.len <= WIRE_EVENT_MAX_BYTES);
    assert_true(buf.len + 252 > WIRE_EVENT_MAX_BYTES); /* the count is exact past 15 members */
    /*  A last member that fills the message to exactly 1 MiB still fits. */
    size_t room = WIRE_EVENT_MAX_BYTES - buf.len;
    assert_true(room >= 34 && room < 252);
    ids[fit][room - 2] = '\0'; /* a str8 of room - 2 bytes takes room bytes */
    ev.n_members = fit + 1;
    assert_int_equal(wire_event_members_fit(&ev), fit + 1);
    wire_buf_reset(&buf);
    assert_int_equal(wire_event_encode(&ev, &buf), 0);
    assert_int_equal(buf.len, WIRE_EVENT_MAX_BYTES);
    ids[fit][room - 2] = 'x'; /* 250 bytes again: one member too many */
    ev.n_members = fit + 1;
    wire_buf_reset(&buf);
    assert_int_equal(wire_event_encode(&ev, &buf), CADRE_ELIMIT);
    assert_int_equal(buf.len, 0);
    assert_int_equal(jsonio_event_encode(&ev, &text, &len), CADRE_ELIMIT);

    /*  Kinds without members have nothing to fit. */
    assert_int_equal(wire_event_members_fit(&s_cases[1].ev), 0);

    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
    wire_buf_free(&buf);
}

/*  Values that cannot be written faithfully are refused by both encoders. */
static void
test_event_bad_values(void **state)
{
    (void)state;
    const ev_t bad[] = {
        {EV_IDENTITY_MERGED, "ev", NAN, "I-1", "I-2", NULL, NULL, 0},
        {EV_IDENTITY_MERGED, "ev", INFINITY, "I-1", "I-2", NULL, NULL, 0},
        {EV_IDENTITY_MERGED, "ev", 1.0, "I-\xff", "I-2", NULL, NULL, 0},
        {EV_IDENTITY_LINKED, "ev", 1.0, "I-1", "o-1", "I-\xc3", NULL, 0},
        {EV_CAMPAIGN_FORMED, "e\xed\xa0\x80v", 1.0, "C-1", NULL, NULL, s_ids2, 2},
    };
    static const char *const bad_members[] = {"I-1", "I-\xc0\xaf"};
    const ev_t bad_member = {EV_CAMPAIGN_FORMED, "ev", 1.0, "C-1", NULL, NULL, bad_members, 2};
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        const ev_t *ev = i < sizeof bad / sizeof bad[0] ? &bad[i] : &bad_member;
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(jsonio_event_encode(ev, &text, &len), CADRE_ERECORD);
        assert_null(text);
        wire_buf_t buf;
        wire_buf_init(&buf);
        wire_buf_append(&buf, "x", 1);
        assert_int_equal(wire_event_encode(ev, &buf), CADRE_ERECORD);
        assert_int_equal(buf.len, 1);
        wire_buf_free(&buf);
    }
}

/*  A valid identity.merged envelope, as JSON text with one part replaced: %s stands for the
    rest of the keys. */
#define S_MERGED_PAYLOAD "{\"loser_uuid\": \"I-2\", \"winner_uuid\": \"I-1\"}"

typedef struct {
    const char *json;    /* the message, as JSON text */
    int code;            /* expected return */
    const char *message; /* expected error text */
} bad_event_t;

static const bad_event_t s_bad_events[] = {
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": 2}",
     CADRE_ERECORD, "field 'v': unsupported envelope version 2 (expected 1)"},
    /*  Another version is reported before keys this version does not know. */
    {"{\"id\": \"e\", \"new\": 1, \"v\": 3}", CADRE_ERECORD,
     "field 'v': unsupported envelope version 3 (expected 1)"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\"}",
     CADRE_ERECORD, "field 'v': required field is missing"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": \"1\"}",
     CADRE_ERECORD, "field 'v': expected an integer, got a string"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": 1, \"extra\": null}",
     CADRE_ERECORD, "field 'extra': unknown key"},
    {"{\"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'id': required field is missing"},
    {"{\"id\": null, \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'id': expected a string, got nil"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.split\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'topic': unknown topic 'identity.split'"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"ts\": 1.0, \"type\": \"merged\", "
     "\"v\": 1}",
     CADRE_ERECORD, "field 'topic': required field is missing"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"formed\", \"v\": 1}",
     CADRE_ERECORD,
     "field 'type': type 'formed' does not match topic identity.merged (expected 'merged')"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": \"now\", \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'ts': expected a number, got a string"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"ts\": null, \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'ts': expected a number, got nil"},
    {"{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": \"identity.merged\", "
     "\"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'ts': required field is missing"},
    {"{\"id\": \"e\", \"topic\": \"identity.merged\", \"ts\": 1.0, \"type\": \"merged\", "
     "\"v\": 1}",
     CADRE_ERECORD, "field 'payload': required field is missing"},
    {"{\"id\": \"e\", \"payload\": [], \"topic\": \"identity.merged\", \"ts\": 1.0, "
     "\"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'payload': expected a map, got an array"},
    {"{\"id\": \"e\", \"payload\": {\"winner_uuid\": \"I-1\"}, \"topic\": \"identity.merged\", "
     "\"ts\": 1.0, \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'payload.loser_uuid': required field is missing"},
    {"{\"id\": \"e\", \"payload\": {\"loser_uuid\": \"I-2\", \"winner_uuid\": \"I-1\", "
     "\"why\": \"x\"}, \"topic\": \"identity.merged\", \"ts\": 1.0, \"type\": \"merged\", "
     "\"v\": 1}",
     CADRE_ERECORD, "field 'payload.why': unknown key"},
    {"{\"id\": \"e\", \"payload\": {\"loser_uuid\": \"I-2\", \"winner_uuid\": null}, "
     "\"topic\": \"identity.merged\", \"ts\": 1.0, \"type\": \"merged\", \"v\": 1}",
     CADRE_ERECORD, "field 'payload.winner_uuid': expected a string, got nil"},
    {"{\"id\": \"e\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuid\": \"o\", "
     "\"prior_identity_uuid\": 5}, \"topic\": \"identity.observation.linked\", \"ts\": 1.0, "
     "\"type\": \"linked\", \"v\": 1}",
     CADRE_ERECORD,
     "field 'payload.prior_identity_uuid': expected a string or nil, got an "
     "integer"},
    {"{\"id\": \"e\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuid\": \"o\"}, "
     "\"topic\": \"identity.observation.linked\", \"ts\": 1.0, \"type\": \"linked\", \"v\": 1}",
     CADRE_ERECORD, "field 'payload.prior_identity_uuid': required field is missing"},
    {"{\"id\": \"e\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuids\": \"o\"}, "
     "\"topic\": \"identity.formed\", \"ts\": 1.0, \"type\": \"formed\", \"v\": 1}",
     CADRE_ERECORD,
     "field 'payload.observation_uuids': expected an array of strings, got a "
     "string"},
    {"{\"id\": \"e\", \"payload\": {\"identity_uuid\": \"I-1\", \"observation_uuids\": "
     "[\"o\", 1]}, \"topic\": \"identity.formed\", \"ts\": 1.0, \"type\": \"formed\", \"v\": 1}",
     CADRE_ERECORD, "field 'payload.observation_uuids[1]': expected a string, got an integer"},
    {"{\"id\": \"e\", \"payload\": {\"identity_uuid\": \"I-1\"}, "
     "\"topic\": \"identity.formed\", \"ts\": 1.0, \"type\": \"formed\", \"v\": 1}",
     CADRE_ERECORD, "field 'payload.observation_uuids': required field is missing"},
    {"[1, 2]", CADRE_ERECORD, "record is an array, not a map"},
};

/*  Checks one decoding failure: the code, the message, and *out left alone. */
static void
s_expect_decode_error(const char *data, size_t len, int code, const char *message)
{
    static wire_event_t dummy;
    char err[512] = "";
    wire_event_t *sentinel = &dummy;
    wire_event_t *got = sentinel;
    int rc = wire_event_decode(data, len, &got, err, sizeof err);
    if (rc != code || (message && strcmp(err, message) != 0)) {
        fail_msg("decode returned %d '%s', expected %d '%s'", rc, err, code,
                 message ? message : "(any)");
    }
    assert_ptr_equal(got, sentinel);
    /*  No error buffer is fine too. */
    assert_int_equal(wire_event_decode(data, len, &got, NULL, 0), code);
}

static void
test_event_decode_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_bad_events / sizeof s_bad_events[0]; i++) {
        mp_t m = mp_from_json(s_bad_events[i].json, MP_INTS_MINIMAL);
        s_expect_decode_error(m.data, m.len, s_bad_events[i].code, s_bad_events[i].message);
        free(m.data);
    }

    /*  An integer time is a number too. */
    mp_t m = mp_from_json("{\"id\": \"e\", \"payload\": " S_MERGED_PAYLOAD ", \"topic\": "
                          "\"identity.merged\", \"ts\": 5, \"type\": \"merged\", \"v\": 1}",
                          MP_INTS_MINIMAL);
    wire_event_t *got = NULL;
    assert_int_equal(wire_event_decode(m.data, m.len, &got, NULL, 0), 0);
    assert_true(got->ts == 5.0);
    wire_event_free(&got);

    /*  Truncated, then trailing bytes. */
    s_expect_decode_error(m.data, m.len - 1, CADRE_ETRUNC, NULL);
    mp_raw(&m, "\xc0", 1);
    s_expect_decode_error(m.data, m.len, CADRE_ERECORD,
                          "1 trailing bytes after the MessagePack message");
    free(m.data);

    /*  A duplicate key, invalid UTF-8 in an id, a byte that starts no type. */
    m = (mp_t){0};
    mp_map(&m, 2);
    mp_str(&m, "v");
    mp_uint(&m, 1);
    mp_str(&m, "v");
    mp_uint(&m, 1);
    s_expect_decode_error(m.data, m.len, CADRE_ERECORD, "field 'v': duplicate key");
    free(m.data);
    m = mp_from_json("{\"id\": \"e\", \"payload\": {\"loser_uuid\": \"I-2\", \"winner_uuid\": "
                     "\"I-\\u00e9\"}, \"topic\": \"identity.merged\", \"ts\": 1.0, \"type\": "
                     "\"merged\", \"v\": 1}",
                     MP_INTS_MINIMAL);
    char *e_acute = NULL;
    for (size_t i = 0; i + 4 <= m.len && !e_acute; i++) {
        if (memcmp(m.data + i, "I-\xc3\xa9", 4) == 0) {
            e_acute = m.data + i;
        }
    }
    assert_non_null(e_acute);
    e_acute[2] = '\xff';
    s_expect_decode_error(m.data, m.len, CADRE_ERECORD, NULL);
    free(m.data);
    s_expect_decode_error("\xc1", 1, CADRE_ERECORD, NULL);

    /*  Over the limits: the message size, then the member count. */
    char *huge = xcalloc(WIRE_EVENT_MAX_BYTES + 1, 1);
    s_expect_decode_error(huge, WIRE_EVENT_MAX_BYTES + 1, CADRE_ELIMIT,
                          "message of 1048577 bytes is over the limit of 1048576 bytes");
    free(huge);
    m = (mp_t){0};
    mp_map(&m, 6);
    mp_str(&m, "v");
    mp_uint(&m, 1);
    mp_str(&m, "id");
    mp_str(&m, "e");
    mp_str(&m, "topic");
    mp_str(&m, "campaign.formed");
    mp_str(&m, "type");
    mp_str(&m, "formed");
    mp_str(&m, "ts");
    mp_f64(&m, 1.0);
    mp_str(&m, "payload");
    mp_map(&m, 2);
    mp_str(&m, "campaign_uuid");
    mp_str(&m, "C-1");
    mp_str(&m, "identity_uuids");
    mp_arr(&m, WIRE_EVENT_MAX_MEMBERS + 1);
    for (size_t i = 0; i < WIRE_EVENT_MAX_MEMBERS + 1; i++) {
        mp_str(&m, "I");
    }
    s_expect_decode_error(m.data, m.len, CADRE_ELIMIT,
                          "field 'payload.identity_uuids': 16385 members exceed the limit of "
                          "16384");
    free(m.data);
}

/*  --------------------------------------------------------------------------------------
    Records */

/*  Encodes rec with both codecs; checks the JSON text and that the MessagePack bytes are
    the text's MessagePack form. */
static void
s_check_identity(const rec_identity_t *rec, const char *want)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(jsonio_identity_encode(rec, &text, &len), 0);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    free(text);
    wire_buf_t buf;
    wire_buf_init(&buf);
    assert_int_equal(wire_identity_encode(rec, &buf), 0);
    mp_t m = mp_from_json(want, MP_INTS_MINIMAL);
    assert_int_equal(buf.len, m.len);
    assert_memory_equal(buf.data, m.data, m.len);
    free(m.data);
    wire_buf_free(&buf);
}

static void
s_check_campaign(const rec_campaign_t *rec, const char *want)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(jsonio_campaign_encode(rec, &text, &len), 0);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    free(text);
    wire_buf_t buf;
    wire_buf_init(&buf);
    assert_int_equal(wire_campaign_encode(rec, &buf), 0);
    mp_t m = mp_from_json(want, MP_INTS_MINIMAL);
    assert_int_equal(buf.len, m.len);
    assert_memory_equal(buf.data, m.data, m.len);
    free(m.data);
    wire_buf_free(&buf);
}

static const char *s_ja3[] = {"771,4865,0-23,29,0", "771,4866,0-23,29,0"};
static const char *s_ja4[] = {"t13d1516h2_8daaf6152771_b186095e22b6"};
static const char *s_hassh[] = {"b12d2871a1189eff20364cf5333619ee"};
static const char *s_pay[] = {"sha256:aa", "sha256:bb"};
static const char *s_c2[] = {"198.51.100.7:4444", "b\303\274cher.example:443",
                             "\xf0\x9f\x98\x80.example:80"};
static const char *s_deckies[] = {"decky-01", "decky-02"};

/*  A full identity record. */
static rec_identity_t
s_identity_full(void)
{
    return (rec_identity_t){
        .id = "9f3c2b1e-0000-5000-8000-000000000001",
        .merged_into = NULL,
        .campaign = "5e1d0c9b-0000-5000-8000-0000000000c1",
        .observations = 300,
        .has_seen = true,
        .first_seen = 1767225600.0,
        .last_seen = 1767229200.5,
        .ja3s = {s_ja3, 2},
        .ja4s = {s_ja4, 1},
        .hasshs = {s_hassh, 1},
        .payloads = {s_pay, 2},
        .c2s = {s_c2, 3},
        .has_kd = true,
        .kd = UINT64_C(0x00ab00cd00ef0012),
        .formed_seq = 70000,
    };
}

static void
test_identity_record(void **state)
{
    (void)state;
    rec_identity_t rec = s_identity_full();
    s_check_identity(
        &rec, "{\"c2_endpoints\": [\"198.51.100.7:4444\", \"b\\u00fccher.example:443\", "
              "\"\\ud83d\\ude00.example:80\"], \"campaign\": "
              "\"5e1d0c9b-0000-5000-8000-0000000000c1\", \"first_seen\": 1767225600.0, "
              "\"formed_seq\": 70000, \"hassh_hashes\": [\"b12d2871a1189eff20364cf5333619ee\"], "
              "\"id\": \"9f3c2b1e-0000-5000-8000-000000000001\", \"ja3_hashes\": "
              "[\"771,4865,0-23,29,0\", \"771,4866,0-23,29,0\"], \"ja4_hashes\": "
              "[\"t13d1516h2_8daaf6152771_b186095e22b6\"], \"kd_simhash\": \"00ab00cd00ef0012\", "
              "\"last_seen\": 1767229200.5, \"merged_into\": null, \"observation_count\": 300, "
              "\"payload_hashes\": [\"sha256:aa\", \"sha256:bb\"]}");

    /*  Merged away, no campaign, no sessions, no fingerprints, no keystrokes. */
    rec_identity_t empty = {.id = "I-2", .merged_into = "I-1", .formed_seq = 0};
    s_check_identity(&empty,
                     "{\"c2_endpoints\": [], \"campaign\": null, \"first_seen\": null, "
                     "\"formed_seq\": 0, \"hassh_hashes\": [], \"id\": \"I-2\", \"ja3_hashes\": "
                     "[], \"ja4_hashes\": [], \"kd_simhash\": null, \"last_seen\": null, "
                     "\"merged_into\": \"I-1\", \"observation_count\": 0, \"payload_hashes\": []}");
    /*  has_seen false hides the times even if set; kd 0 is a value. */
    empty.first_seen = 5.0;
    empty.has_kd = true;
    empty.kd = 0;
    empty.observations = UINT32_MAX + UINT64_C(1);
    s_check_identity(&empty,
                     "{\"c2_endpoints\": [], \"campaign\": null, \"first_seen\": null, "
                     "\"formed_seq\": 0, \"hassh_hashes\": [], \"id\": \"I-2\", \"ja3_hashes\": "
                     "[], \"ja4_hashes\": [], \"kd_simhash\": \"0000000000000000\", "
                     "\"last_seen\": null, \"merged_into\": \"I-1\", \"observation_count\": "
                     "4294967296, \"payload_hashes\": []}");

    /*  Refused: invalid UTF-8, a non-finite time. */
    static const char *bad_c2[] = {"x\xe2\x82"};
    rec_identity_t bad = s_identity_full();
    bad.c2s = (rec_strs_t){bad_c2, 1};
    rec_identity_t bad_time = s_identity_full();
    bad_time.last_seen = INFINITY;
    const rec_identity_t *bads[] = {&bad, &bad_time};
    for (size_t i = 0; i < 2; i++) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(jsonio_identity_encode(bads[i], &text, &len), CADRE_ERECORD);
        assert_null(text);
        wire_buf_t buf;
        wire_buf_init(&buf);
        assert_int_equal(wire_identity_encode(bads[i], &buf), CADRE_ERECORD);
        assert_int_equal(buf.len, 0);
        wire_buf_free(&buf);
    }
}

static rec_phase_t s_phases[] = {
    {UKC_DELIVERY, 1767225600.0},
    {UKC_DISCOVERY, 1767225700.25},
    {UKC_EXFILTRATION, 1767229200.0},
};

static rec_campaign_t
s_campaign_full(void)
{
    return (rec_campaign_t){
        .id = "C-1",
        .merged_into = NULL,
        .identities = 3,
        .observations = 12,
        .has_seen = true,
        .first_seen = 1767225600.0,
        .last_seen = 1767229260.125,
        .payloads = {s_pay, 2},
        .c2s = {s_c2, 3},
        .deckies = {s_deckies, 2},
        .phases = s_phases,
        .n_phases = 3,
        .formed_seq = 42,
    };
}

static void
test_campaign_record(void **state)
{
    (void)state;
    rec_campaign_t rec = s_campaign_full();
    s_check_campaign(
        &rec, "{\"c2_endpoints\": [\"198.51.100.7:4444\", \"b\\u00fccher.example:443\", "
              "\"\\ud83d\\ude00.example:80\"], \"deckies\": [\"decky-01\", \"decky-02\"], "
              "\"first_seen\": 1767225600.0, \"formed_seq\": 42, \"id\": \"C-1\", "
              "\"identity_count\": 3, \"last_seen\": 1767229260.125, \"merged_into\": null, "
              "\"observation_count\": 12, \"payload_hashes\": [\"sha256:aa\", \"sha256:bb\"], "
              "\"phases\": [{\"first_seen\": 1767225600.0, \"phase\": \"delivery\", \"stage\": "
              "\"in\"}, {\"first_seen\": 1767225700.25, \"phase\": \"discovery\", \"stage\": "
              "\"through\"}, {\"first_seen\": 1767229200.0, \"phase\": \"exfiltration\", "
              "\"stage\": \"out\"}]}");

    rec_campaign_t empty = {.id = "C-2", .merged_into = "C-1", .formed_seq = 7};
    s_check_campaign(&empty, "{\"c2_endpoints\": [], \"deckies\": [], \"first_seen\": null, "
                             "\"formed_seq\": 7, \"id\": \"C-2\", \"identity_count\": 0, "
                             "\"last_seen\": null, \"merged_into\": \"C-1\", "
                             "\"observation_count\": 0, \"payload_hashes\": [], \"phases\": []}");

    /*  Refused: a phase out of range, a non-finite phase time, invalid UTF-8. */
    rec_phase_t bad_phase[] = {{UKC_PHASE_COUNT, 1.0}};
    rec_phase_t bad_first[] = {{UKC_IMPACT, NAN}};
    static const char *bad_decky[] = {"\x80"};
    rec_campaign_t bads[3] = {s_campaign_full(), s_campaign_full(), s_campaign_full()};
    bads[0].phases = bad_phase;
    bads[0].n_phases = 1;
    bads[1].phases = bad_first;
    bads[1].n_phases = 1;
    bads[2].deckies = (rec_strs_t){bad_decky, 1};
    for (size_t i = 0; i < 3; i++) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(jsonio_campaign_encode(&bads[i], &text, &len), CADRE_ERECORD);
        assert_null(text);
        wire_buf_t buf;
        wire_buf_init(&buf);
        assert_int_equal(wire_campaign_encode(&bads[i], &buf), CADRE_ERECORD);
        assert_int_equal(buf.len, 0);
        wire_buf_free(&buf);
    }
}

/*  --------------------------------------------------------------------------------------
    The record writer */

/*  Reads a whole stream back from the start. */
static char *
s_slurp(FILE *f, size_t *len_p)
{
    assert_int_equal(fflush(f), 0);
    rewind(f);
    char *data = NULL;
    size_t cap = 0;
    size_t len = 0;
    for (;;) {
        xgrow(&data, &cap, len + 4096 + 1);
        size_t got = fread(data + len, 1, 4096, f);
        len += got;
        if (got < 4096) {
            break;
        }
    }
    data[len] = '\0';
    *len_p = len;
    return data;
}

/*  Writes the same mix of items in format; returns the stream's bytes. */
static char *
s_write_mix(obs_format_t format, size_t *len_p)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    rec_writer_t *w = rec_writer_new(f, format);
    assert_non_null(w);
    rec_identity_t id = s_identity_full();
    rec_campaign_t camp = s_campaign_full();
    assert_int_equal(rec_writer_event(w, &s_cases[0].ev), 0);
    assert_int_equal(rec_writer_identity(w, &id), 0);
    assert_int_equal(rec_writer_event(w, &s_cases[13].ev), 0);
    assert_int_equal(rec_writer_campaign(w, &camp), 0);
    /*  A refused item writes nothing and the stream goes on. */
    rec_identity_t bad = s_identity_full();
    bad.first_seen = NAN;
    assert_int_equal(rec_writer_identity(w, &bad), CADRE_ERECORD);
    assert_int_equal(rec_writer_event(w, &s_cases[8].ev), 0);
    rec_writer_destroy(&w);
    assert_null(w);
    rec_writer_destroy(&w); /* NULL is a no-op */
    char *data = s_slurp(f, len_p);
    fclose(f);
    return data;
}

static void
test_writer_jsonl(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    rec_identity_t id = s_identity_full();
    rec_campaign_t camp = s_campaign_full();
    char *parts[2] = {NULL, NULL};
    size_t plen = 0;
    assert_int_equal(jsonio_identity_encode(&id, &parts[0], &plen), 0);
    assert_int_equal(jsonio_campaign_encode(&camp, &parts[1], &plen), 0);
    char *want = xasprintf("%s\n%s\n%s\n%s\n%s\n", s_cases[0].json, parts[0], s_cases[13].json,
                           parts[1], s_cases[8].json);
    for (int f = 0; f < 2; f++) {
        text = s_write_mix(f == 0 ? OBS_FORMAT_JSONL : OBS_FORMAT_AUTO, &len);
        assert_string_equal(text, want);
        assert_int_equal(len, strlen(want));
        free(text);
    }
    free(want);
    free(parts[0]);
    free(parts[1]);
}

static void
test_writer_msgpack(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = s_write_mix(OBS_FORMAT_MSGPACK, &len);
    /*  The stream is the five messages back to back. */
    rec_identity_t id = s_identity_full();
    rec_campaign_t camp = s_campaign_full();
    wire_buf_t want;
    wire_buf_init(&want);
    assert_int_equal(wire_event_encode(&s_cases[0].ev, &want), 0);
    assert_int_equal(wire_identity_encode(&id, &want), 0);
    assert_int_equal(wire_event_encode(&s_cases[13].ev, &want), 0);
    assert_int_equal(wire_campaign_encode(&camp, &want), 0);
    assert_int_equal(wire_event_encode(&s_cases[8].ev, &want), 0);
    assert_int_equal(len, want.len);
    assert_memory_equal(data, want.data, len);
    wire_buf_free(&want);

    /*  Framed and decoded again: the events print as their JSON text. */
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    rewind(f);
    wire_reader_t *r = wire_reader_new(f, WIRE_EVENT_MAX_BYTES);
    const size_t ev_at[] = {0, 2, 4};
    const char *ev_json[] = {s_cases[0].json, s_cases[13].json, s_cases[8].json};
    size_t k = 0;
    for (size_t i = 0; i < 5; i++) {
        const char *msg = NULL;
        size_t mlen = 0;
        obs_error_t err;
        assert_int_equal(wire_reader_next(r, &msg, &mlen, &err), 1);
        wire_event_t *ev = NULL;
        char emsg[256] = "";
        int rc = wire_event_decode(msg, mlen, &ev, emsg, sizeof emsg);
        if (k < 3 && i == ev_at[k]) {
            assert_int_equal(rc, 0);
            char *text = NULL;
            size_t tlen = 0;
            assert_int_equal(jsonio_event_print(ev, &text, &tlen), 0);
            assert_string_equal(text, ev_json[k]);
            free(text);
            wire_event_free(&ev);
            k++;
        } else {
            /*  A record is not an event. */
            assert_int_equal(rc, CADRE_ERECORD);
            assert_string_equal(emsg, "field 'v': required field is missing");
        }
    }
    const char *msg = NULL;
    size_t mlen = 0;
    obs_error_t err;
    assert_int_equal(wire_reader_next(r, &msg, &mlen, &err), 0);
    wire_reader_destroy(&r);
    fclose(f);
    free(data);
}

static void
test_writer_errors(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_null(rec_writer_new(f, (obs_format_t)7));
    fclose(f);
    /*  A stream open only for reading fails every write with -errno. */
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    for (int k = 0; k < 2; k++) {
        rec_writer_t *w = rec_writer_new(ro, k == 0 ? OBS_FORMAT_JSONL : OBS_FORMAT_MSGPACK);
        rec_campaign_t camp = s_campaign_full();
        int rc = rec_writer_campaign(w, &camp);
        assert_true(rc < 0 && rc > -1000);
        rc = rec_writer_event(w, &s_cases[3].ev);
        assert_true(rc < 0 && rc > -1000);
        rec_writer_destroy(&w);
    }
    fclose(ro);
}

/*  An optional argument runs only the tests whose names match it (cmocka's filter). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_json_text),     cmocka_unit_test(test_event_msgpack_roundtrip),
        cmocka_unit_test(test_event_size_limits),   cmocka_unit_test(test_event_bad_values),
        cmocka_unit_test(test_event_decode_errors), cmocka_unit_test(test_identity_record),
        cmocka_unit_test(test_campaign_record),     cmocka_unit_test(test_writer_jsonl),
        cmocka_unit_test(test_writer_msgpack),      cmocka_unit_test(test_writer_errors),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
