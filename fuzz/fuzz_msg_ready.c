/*  fuzz_msg_ready.c - the READY body {role, id, shards, applied, barrier} (wmsg_ready_decode),
    as the broker and the merger decode it from their peers. */
#include "fuzz_msg.h"

static void
s_same(const wmsg_ready_t *a, const wmsg_ready_t *b)
{
    FUZZ_CHECK(fuzz_streq(a->role, b->role) && a->id == b->id && a->shards == b->shards &&
                   a->applied == b->applied && a->barrier == b->barrier,
               "READY round trip changed the body");
}

FUZZ_MSG_TARGET(wmsg_ready_t, wmsg_ready, s_same, NULL)
