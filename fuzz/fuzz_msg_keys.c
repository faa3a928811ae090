/*  fuzz_msg_keys.c - the KEYS body {entries: [{seq, id, op, keys, triple}]}
    (wmsg_keys_decode), as a shard decodes what the broker routes to it. */
#include "fuzz_msg.h"

static void
s_same(const wmsg_keys_t *a, const wmsg_keys_t *b)
{
    FUZZ_CHECK(a->n == b->n, "round trip changed the number of entries");
    for (size_t i = 0; i < a->n; i++) {
        const wmsg_keys_entry_t *x = &a->entries[i];
        const wmsg_keys_entry_t *y = &b->entries[i];
        FUZZ_CHECK(x->seq == y->seq && fuzz_streq(x->id, y->id) && x->is_delete == y->is_delete &&
                       x->n_keys == y->n_keys,
                   "round trip changed entry %zu", i);
        for (size_t k = 0; k < x->n_keys; k++) {
            FUZZ_CHECK(x->keys[k].family == y->keys[k].family &&
                           fuzz_streq(x->keys[k].value, y->keys[k].value),
                       "round trip changed key %zu of entry %zu", k, i);
        }
        for (int t = 0; t < 3; t++) {
            FUZZ_CHECK(fuzz_streq(x->triple[t], y->triple[t]),
                       "round trip changed the triple of entry %zu", i);
        }
    }
}

FUZZ_MSG_TARGET(wmsg_keys_t, wmsg_keys, s_same, NULL)
