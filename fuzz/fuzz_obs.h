/*  fuzz_obs.h - the observation round trips the fuzz targets check (docs/fuzzing.md).

    A record that decodes from either encoding is a valid record (obs_check_record), and
    each encoder writes it back as bytes that decode to an obs_equal() record: JSON text ->
    record -> JSON -> record, and the same through MessagePack. Re-encoding the second record
    gives the same bytes again (the encoders are canonical).
*/
#ifndef CADRE_FUZZ_FUZZ_OBS_H
#define CADRE_FUZZ_FUZZ_OBS_H

#include "fuzz.h"

#include "err.h"
#include "jsonio.h"
#include "obs.h"
#include "wire.h"

/*  Checks both round trips of a decoded record. */
static inline void
fuzz_obs_round_trip(const obs_t *obs)
{
    obs_error_t err;
    obs_error_reset(&err, 0, NULL);
    FUZZ_CHECK(obs_check_record(obs, &err) == 0, "decoded record is invalid: %s: %s", err.field,
               err.message);

    /* JSON */
    char *text = NULL;
    size_t len = 0;
    FUZZ_CHECK(jsonio_obs_encode(obs, &text, &len, &err) == 0, "JSON encode: %s: %s", err.field,
               err.message);
    obs_t *again = NULL;
    int rc = jsonio_obs_decode(text, len, 1, &again, &err);
    FUZZ_CHECK(rc == 0, "JSON re-decode (%d): %s: %s\n%.*s", rc, err.field, err.message, (int)len,
               text);
    FUZZ_CHECK(obs_equal(obs, again), "JSON round trip changed the record:\n%.*s", (int)len, text);
    FUZZ_CHECK(obs_hash(obs) == obs_hash(again), "equal records hash differently");
    char *text2 = NULL;
    size_t len2 = 0;
    FUZZ_CHECK(jsonio_obs_encode(again, &text2, &len2, &err) == 0, "JSON re-encode");
    FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0, "JSON encoding not canonical");
    free(text2);
    free(text);
    obs_destroy(&again);

    /* MessagePack */
    wire_buf_t buf;
    wire_buf_init(&buf);
    FUZZ_CHECK(wire_obs_encode(obs, &buf, &err) == 0, "msgpack encode: %s: %s", err.field,
               err.message);
    rc = wire_obs_decode(buf.data, buf.len, 1, &again, &err);
    FUZZ_CHECK(rc == 0, "msgpack re-decode (%d): %s: %s", rc, err.field, err.message);
    FUZZ_CHECK(obs_equal(obs, again), "msgpack round trip changed the record");
    wire_buf_t buf2;
    wire_buf_init(&buf2);
    FUZZ_CHECK(wire_obs_encode(again, &buf2, &err) == 0, "msgpack re-encode");
    FUZZ_CHECK(buf.len == buf2.len && memcmp(buf.data, buf2.data, buf.len) == 0,
               "msgpack encoding not canonical");
    wire_buf_free(&buf2);
    obs_destroy(&again);

    /* What a client peeks of the record it forwards (cadre run, cadre send). */
    wire_peek_t peek;
    FUZZ_CHECK(wire_obs_peek(buf.data, buf.len, 1, &peek, &err) == 0, "peek of a good record");
    FUZZ_CHECK(fuzz_streq(peek.id, obs->id) && peek.is_delete == (obs->op == OBS_DELETE) &&
                   fuzz_streq(peek.truth_campaign, obs->truth_campaign) &&
                   fuzz_streq(peek.truth_identity, obs->truth_identity),
               "peek disagrees with the decoded record");
    wire_peek_clear(&peek);
    wire_buf_free(&buf);
}

/*  Checks an assignment's round trips the same way. */
static inline void
fuzz_assign_round_trip(const assign_t *rec)
{
    obs_error_t err;
    obs_error_reset(&err, 0, NULL);
    FUZZ_CHECK(assign_check(rec, &err) == 0, "decoded assignment is invalid: %s", err.message);
    char *text = NULL;
    size_t len = 0;
    FUZZ_CHECK(jsonio_assign_encode(rec, &text, &len, &err) == 0, "JSON encode: %s", err.message);
    assign_t again = {0};
    FUZZ_CHECK(jsonio_assign_decode(text, len, 1, &again, &err) == 0, "JSON re-decode: %s",
               err.message);
    FUZZ_CHECK(fuzz_streq(rec->id, again.id) && fuzz_streq(rec->identity, again.identity) &&
                   fuzz_streq(rec->campaign, again.campaign),
               "JSON round trip changed the assignment");
    assign_clear(&again);
    free(text);
    wire_buf_t buf;
    wire_buf_init(&buf);
    FUZZ_CHECK(wire_assign_encode(rec, &buf, &err) == 0, "msgpack encode: %s", err.message);
    FUZZ_CHECK(wire_assign_decode(buf.data, buf.len, 1, &again, &err) == 0, "msgpack re-decode: %s",
               err.message);
    FUZZ_CHECK(fuzz_streq(rec->id, again.id) && fuzz_streq(rec->identity, again.identity) &&
                   fuzz_streq(rec->campaign, again.campaign),
               "msgpack round trip changed the assignment");
    assign_clear(&again);
    wire_buf_free(&buf);
}

/*  A decoder's return code: 0, or one of the two refusals a record decoder may give. */
static inline bool
fuzz_record_rc_ok(int rc)
{
    return rc == 0 || rc == CADRE_ERECORD || rc == CADRE_ETRUNC;
}

#endif
