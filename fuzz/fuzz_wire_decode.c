/*  fuzz_wire_decode.c - one MessagePack record (common/wire.c): an observation, as the
    broker decodes a SUBMIT body and the merger a journaled record; what a client peeks of
    it; and, from the same bytes, an assignment. Whatever decodes must survive both round
    trips of fuzz_obs.h. */
#include "fuzz_obs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    obs_error_t err;
    obs_t *obs = NULL;
    int rc = wire_obs_decode(buf, size, 1, &obs, &err);
    FUZZ_CHECK(fuzz_record_rc_ok(rc), "wire_obs_decode returned %d", rc);
    if (rc == 0) {
        fuzz_obs_round_trip(obs);
        obs_destroy(&obs);
    } else {
        FUZZ_CHECK(obs == NULL && err.message[0] != '\0', "a refusal without a reason");
    }

    wire_peek_t peek;
    rc = wire_obs_peek(buf, size, 1, &peek, &err);
    FUZZ_CHECK(fuzz_record_rc_ok(rc), "wire_obs_peek returned %d", rc);
    if (rc == 0) {
        wire_peek_clear(&peek);
    }

    assign_t rec = {0};
    rc = wire_assign_decode(buf, size, 1, &rec, &err);
    FUZZ_CHECK(fuzz_record_rc_ok(rc), "wire_assign_decode returned %d", rc);
    if (rc == 0) {
        fuzz_assign_round_trip(&rec);
    }
    assign_clear(&rec);
    return 0;
}
