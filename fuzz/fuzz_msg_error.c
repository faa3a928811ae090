/*  fuzz_msg_error.c - the ERROR body {code, field, message} (wmsg_error_decode), as a client
    (cadre send) decodes the broker's refusal of a record. */
#include "fuzz_msg.h"

static void
s_same(const wmsg_error_t *a, const wmsg_error_t *b)
{
    FUZZ_CHECK(fuzz_streq(a->code, b->code) && fuzz_streq(a->field, b->field) &&
                   fuzz_streq(a->message, b->message),
               "ERROR round trip changed the body");
}

FUZZ_MSG_TARGET(wmsg_error_t, wmsg_error, s_same, NULL)
