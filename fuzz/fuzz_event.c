/*  fuzz_event.c - one event envelope as a subscriber decodes it (wire_event_decode in
    common/wire.c: `cadre sub`, `cadre run --events`). A decoded event, turned back into the
    ev_t the engine publishes, encodes (wire_event_encode) to bytes that decode to the same
    event, and jsonio_event_print() of the decoded event writes exactly what
    jsonio_event_encode() writes for the ev_t. */
#include "fuzz.h"

#include "err.h"
#include "jsonio.h"
#include "records.h"
#include "wire.h"

/*  The ev_t a decoded event came from; its strings are borrowed from ev. */
static ev_t
s_ev_of(const wire_event_t *ev)
{
    const char *keys[4] = {NULL, NULL, NULL, NULL};
    ev_keys(ev->kind, &keys[0], &keys[1], &keys[2], &keys[3]);
    const char *values[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < ev->n_fields; i++) {
        for (size_t k = 0; k < 3; k++) {
            if (keys[k] && strcmp(ev->fields[i].key, keys[k]) == 0) {
                values[k] = ev->fields[i].value;
            }
        }
    }
    static const char *const no_members[1] = {NULL};
    return (ev_t){
        .kind = ev->kind,
        .id = ev->id,
        .ts = ev->ts,
        .subject = values[0],
        .object = values[1],
        .prior = values[2],
        .members = ev->members ? (const char *const *)ev->members : no_members,
        .n_members = ev->n_members,
    };
}

static void
s_same_event(const wire_event_t *a, const wire_event_t *b)
{
    FUZZ_CHECK(a->v == b->v && a->kind == b->kind && fuzz_streq(a->id, b->id) &&
                   fuzz_streq(a->topic, b->topic) && fuzz_streq(a->type, b->type) &&
                   memcmp(&a->ts, &b->ts, sizeof a->ts) == 0 && a->n_fields == b->n_fields &&
                   fuzz_streq(a->members_key, b->members_key) && a->n_members == b->n_members,
               "round trip changed the envelope");
    for (size_t i = 0; i < a->n_fields; i++) {
        FUZZ_CHECK(strcmp(a->fields[i].key, b->fields[i].key) == 0 &&
                       fuzz_streq(a->fields[i].value, b->fields[i].value),
                   "round trip changed payload field %zu", i);
    }
    for (size_t i = 0; i < a->n_members; i++) {
        FUZZ_CHECK(strcmp(a->members[i], b->members[i]) == 0, "round trip changed member %zu", i);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_event_t *ev = NULL;
    char err[256] = "";
    int rc = wire_event_decode((const char *)data, size, &ev, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD || rc == CADRE_ETRUNC || rc == CADRE_ELIMIT,
               "wire_event_decode returned %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(ev == NULL && err[0] != '\0', "a refusal without a reason");
        return 0;
    }
    ev_t e = s_ev_of(ev);
    FUZZ_CHECK(e.subject != NULL, "decoded event without a subject");

    wire_buf_t buf;
    wire_buf_init(&buf);
    rc = wire_event_encode(&e, &buf);
    /* A member list at the limit may not fit again once ts is re-encoded as float64. */
    if (rc == CADRE_ELIMIT && size > WIRE_EVENT_MAX_BYTES / 2) {
        wire_buf_free(&buf);
        wire_event_free(&ev);
        return 0;
    }
    FUZZ_CHECK(rc == 0, "wire_event_encode of a decoded event returned %d", rc);
    wire_event_t *again = NULL;
    rc = wire_event_decode(buf.data, buf.len, &again, err, sizeof err);
    FUZZ_CHECK(rc == 0, "re-decode returned %d: %s", rc, err);
    s_same_event(ev, again);
    wire_event_free(&again);
    wire_buf_free(&buf);

    char *printed = NULL;
    size_t printed_len = 0;
    FUZZ_CHECK(jsonio_event_print(ev, &printed, &printed_len) == 0, "jsonio_event_print");
    char *encoded = NULL;
    size_t encoded_len = 0;
    FUZZ_CHECK(jsonio_event_encode(&e, &encoded, &encoded_len) == 0, "jsonio_event_encode");
    FUZZ_CHECK(printed_len == encoded_len && memcmp(printed, encoded, printed_len) == 0,
               "print and encode disagree:\n%s\n%s", printed, encoded);
    free(printed);
    free(encoded);
    wire_event_free(&ev);
    return 0;
}
