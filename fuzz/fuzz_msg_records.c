/*  fuzz_msg_records.c - the RECORDS body {entries: [{seq, record}]} (wmsg_records_decode), as
    the merger decodes it, then each journaled record as the merger does (wire_obs_decode),
    with the observation round trips of fuzz_obs.h. */
#include "fuzz_msg.h"
#include "fuzz_obs.h"

static void
s_same(const wmsg_records_t *a, const wmsg_records_t *b)
{
    FUZZ_CHECK(a->n == b->n, "round trip changed the number of entries");
    for (size_t i = 0; i < a->n; i++) {
        const wmsg_record_t *x = &a->entries[i];
        const wmsg_record_t *y = &b->entries[i];
        FUZZ_CHECK(x->seq == y->seq && x->len == y->len &&
                       (x->len == 0 || memcmp(x->bytes, y->bytes, x->len) == 0),
                   "round trip changed entry %zu", i);
    }
}

/*  The entries borrow from data: check they lie inside it, then decode each record. */
static void
s_more(const uint8_t *data, size_t size, const wmsg_records_t *body)
{
    for (size_t i = 0; i < body->n; i++) {
        const wmsg_record_t *r = &body->entries[i];
        FUZZ_CHECK(r->len == 0 || ((const uint8_t *)r->bytes >= data &&
                                   (const uint8_t *)r->bytes + r->len <= data + size),
                   "entry %zu does not point into the message", i);
        obs_t *obs = NULL;
        obs_error_t err;
        int rc = wire_obs_decode(r->bytes, r->len, r->seq, &obs, &err);
        FUZZ_CHECK(fuzz_record_rc_ok(rc), "wire_obs_decode returned %d", rc);
        if (rc == 0) {
            fuzz_obs_round_trip(obs);
            obs_destroy(&obs);
        }
    }
}

FUZZ_MSG_TARGET(wmsg_records_t, wmsg_records, s_same, s_more)
