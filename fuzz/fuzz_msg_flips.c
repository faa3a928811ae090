/*  fuzz_msg_flips.c - the GENERIC and COMMIT body {flips: [[family, value, generic]]}
    (wmsg_flips_decode), as the broker decodes a shard's GENERIC and a shard the broker's
    COMMIT. */
#include "fuzz_msg.h"

static void
s_same(const wmsg_flips_t *a, const wmsg_flips_t *b)
{
    FUZZ_CHECK(a->n == b->n, "round trip changed the number of flips");
    for (size_t i = 0; i < a->n; i++) {
        FUZZ_CHECK(a->flips[i].family == b->flips[i].family &&
                       fuzz_streq(a->flips[i].value, b->flips[i].value) &&
                       a->flips[i].generic == b->flips[i].generic,
                   "round trip changed flip %zu", i);
    }
}

FUZZ_MSG_TARGET(wmsg_flips_t, wmsg_flips, s_same, NULL)
