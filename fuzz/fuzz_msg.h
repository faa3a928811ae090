/*  fuzz_msg.h - the shape of the protocol-body targets fuzz_msg_<body>.c (docs/fuzzing.md).

    A body decoder of common/wire_msg.c either refuses the bytes with CADRE_EPROTO and a
    reason, leaving nothing to free, or fills the body; a filled body encodes and decodes
    again to an equal body. FUZZ_MSG_TARGET(type, prefix, same, more) defines the entry point
    for the body type `type` with prefix_decode/_encode/_free, an equality check
    same(const type *, const type *) that aborts on a difference, and more, NULL or a
    function more(data, size, const type *) that checks what else a decoded body allows.
*/
#ifndef CADRE_FUZZ_FUZZ_MSG_H
#define CADRE_FUZZ_FUZZ_MSG_H

#include "fuzz.h"

#include "err.h"
#include "wire_msg.h"

#define FUZZ_MSG_TARGET(type, prefix, same, more)                                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        type body;                                                                                 \
        char err[256] = "";                                                                        \
        int rc = prefix##_decode(data, size, &body, err, sizeof err);                              \
        FUZZ_CHECK(rc == 0 || rc == CADRE_EPROTO, #prefix "_decode returned %d", rc);              \
        if (rc != 0) {                                                                             \
            FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");                              \
            return 0;                                                                              \
        }                                                                                          \
        wire_buf_t buf;                                                                            \
        wire_buf_init(&buf);                                                                       \
        FUZZ_CHECK(prefix##_encode(&body, &buf) == 0, #prefix "_encode of a decoded body");        \
        type again;                                                                                \
        rc = prefix##_decode(buf.data, buf.len, &again, err, sizeof err);                          \
        FUZZ_CHECK(rc == 0, "re-decode of an encoded body: %s", err);                              \
        same(&body, &again);                                                                       \
        prefix##_free(&again);                                                                     \
        wire_buf_free(&buf);                                                                       \
        void (*more_fn)(const uint8_t *, size_t, const type *) = more;                             \
        if (more_fn) {                                                                             \
            more_fn(data, size, &body);                                                            \
        }                                                                                          \
        prefix##_free(&body);                                                                      \
        return 0;                                                                                  \
    }

#endif
