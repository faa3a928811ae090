/*  fuzz_obs_json.c - one JSON Lines record: an observation (common/jsonio.c) and, from the
    same bytes, an assignment (the `cadre score` input). Whatever decodes must survive both
    round trips of fuzz_obs.h. */
#include "fuzz_obs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    obs_error_t err;
    obs_t *obs = NULL;
    int rc = jsonio_obs_decode(buf, size, 1, &obs, &err);
    FUZZ_CHECK(fuzz_record_rc_ok(rc), "jsonio_obs_decode returned %d", rc);
    if (rc == 0) {
        fuzz_obs_round_trip(obs);
        obs_destroy(&obs);
    } else {
        FUZZ_CHECK(obs == NULL && err.message[0] != '\0', "a refusal without a reason");
    }

    assign_t rec = {0};
    rc = jsonio_assign_decode(buf, size, 1, &rec, &err);
    FUZZ_CHECK(fuzz_record_rc_ok(rc), "jsonio_assign_decode returned %d", rc);
    if (rc == 0) {
        fuzz_assign_round_trip(&rec);
    }
    assign_clear(&rec);
    return 0;
}
