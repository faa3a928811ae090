/*  fuzz_msg_query.c - the QUERY body {what, id, other, offset, limit} (wmsg_query_decode), as
    the merger decodes a client's question. */
#include "fuzz_msg.h"

static void
s_same(const wmsg_query_t *a, const wmsg_query_t *b)
{
    FUZZ_CHECK(fuzz_streq(a->what, b->what) && fuzz_streq(a->id, b->id) &&
                   fuzz_streq(a->other, b->other) && a->offset == b->offset && a->limit == b->limit,
               "QUERY round trip changed the body");
}

FUZZ_MSG_TARGET(wmsg_query_t, wmsg_query, s_same, NULL)
