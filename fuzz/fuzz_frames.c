/*  fuzz_frames.c - the CADRE01 envelope (proto_parse in common/proto.c) and, for a message it
    accepts, every body decoder the receiving role runs on it (common/wire.c, wire_msg.c).

    The input describes one multi-part message: byte 0 bit 0 says whether it carries a
    ROUTER identity frame, then each frame is a length byte n and n bytes (n = 255: a 2-byte
    big-endian length follows), the last frame cut short where the input ends; at most
    S_MAX_FRAMES frames. Properties: a rejection names an ERROR code of docs/protocol.md §8
    and a reason; an accepted message has exactly its layout's parts, and rebuilding it with
    the proto_msg_new()/proto_add_*() builders parses back to the same command and parts.
*/
#include "fuzz.h"

#include "err.h"
#include "obs.h"
#include "proto.h"
#include "wire.h"
#include "wire_msg.h"

#define S_MAX_FRAMES 8

/*  Builds the message the input describes. */
static zmsg_t *
s_message(const uint8_t *data, size_t size, bool *has_identity)
{
    zmsg_t *msg = zmsg_new();
    FUZZ_CHECK(msg != NULL, "zmsg_new");
    *has_identity = size > 0 && (data[0] & 1);
    size_t pos = 1;
    for (int n = 0; n < S_MAX_FRAMES && pos < size; n++) {
        size_t len = data[pos++];
        if (len == 255) {
            len = pos + 2 <= size ? ((size_t)data[pos] << 8 | data[pos + 1]) : 0;
            pos += 2;
        }
        if (pos > size) {
            pos = size;
        }
        if (len > size - pos) {
            len = size - pos;
        }
        FUZZ_CHECK(zmsg_addmem(msg, data + pos, len) == 0, "zmsg_addmem");
        pos += len;
    }
    return msg;
}

/*  Runs the decoder the receiving role runs on body (part i of a cmd message). */
static void
s_decode_body(proto_cmd_t cmd, const proto_part_t *body)
{
    char err[256] = "";
    int rc = 0;
    switch (cmd) {
    case PROTO_READY: {
        wmsg_ready_t b;
        if ((rc = wmsg_ready_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_ready_free(&b);
        }
        break;
    }
    case PROTO_SUBMIT:
    case PROTO_PSUBMIT: {
        obs_t *obs = NULL;
        obs_error_t e;
        int orc = wire_obs_decode((const char *)body->data, body->size, 0, &obs, &e);
        FUZZ_CHECK(orc == 0 || orc == CADRE_ERECORD || orc == CADRE_ETRUNC, "SUBMIT body: %d", orc);
        obs_destroy(&obs);
        break;
    }
    case PROTO_ERROR: {
        wmsg_error_t b;
        if ((rc = wmsg_error_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_error_free(&b);
        }
        break;
    }
    case PROTO_KEYS: {
        wmsg_keys_t b;
        if ((rc = wmsg_keys_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_keys_free(&b);
        }
        break;
    }
    case PROTO_FETCH: {
        wmsg_fetch_t b;
        if ((rc = wmsg_fetch_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_fetch_free(&b);
        }
        break;
    }
    case PROTO_RECORDS:
    case PROTO_FETCHED: {
        wmsg_records_t b;
        if ((rc = wmsg_records_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            for (size_t i = 0; i < b.n; i++) {
                obs_t *obs = NULL;
                obs_error_t e;
                wire_obs_decode(b.entries[i].bytes, b.entries[i].len, 0, &obs, &e);
                obs_destroy(&obs);
            }
            wmsg_records_free(&b);
        }
        break;
    }
    case PROTO_GENERIC:
    case PROTO_COMMIT: {
        wmsg_flips_t b;
        if ((rc = wmsg_flips_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_flips_free(&b);
        }
        break;
    }
    case PROTO_FORESTS: {
        wmsg_forests_t b;
        if ((rc = wmsg_forests_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_forests_free(&b);
        }
        break;
    }
    case PROTO_QUERY: {
        wmsg_query_t b;
        if ((rc = wmsg_query_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_query_free(&b);
        }
        break;
    }
    case PROTO_REPLY: {
        wmsg_reply_t b;
        if ((rc = wmsg_reply_decode(body->data, body->size, &b, err, sizeof err)) == 0) {
            wmsg_reply_free(&b);
        }
        break;
    }
    default:
        FUZZ_CHECK(false, "a body part in command 0x%02x", (unsigned)cmd);
    }
    FUZZ_CHECK(rc == 0 || (rc == CADRE_EPROTO && err[0] != '\0'), "body decoder returned %d", rc);
}

/*  Rebuilds an accepted message with the builders and checks it parses the same. */
static void
s_rebuild(const proto_frame_t *f)
{
    zmsg_t *msg = f->identity ? proto_msg_new_to(f->identity, f->cmd) : proto_msg_new(f->cmd);
    for (size_t i = 0; i < f->nparts; i++) {
        proto_add_bytes(msg, f->parts[i].data, f->parts[i].size);
    }
    proto_frame_t g;
    FUZZ_CHECK(proto_parse(msg, f->identity != NULL, &g) == 0, "rebuilt message refused: %s",
               g.reason);
    FUZZ_CHECK(g.cmd == f->cmd && g.nparts == f->nparts, "rebuilt message differs");
    for (size_t i = 0; i < f->nparts; i++) {
        FUZZ_CHECK(g.parts[i].size == f->parts[i].size &&
                       memcmp(g.parts[i].data, f->parts[i].data, f->parts[i].size) == 0,
                   "rebuilt part %zu differs", i);
    }
    if (f->identity) {
        FUZZ_CHECK(zframe_eq(f->identity, g.identity), "rebuilt identity differs");
    }
    zmsg_destroy(&msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool has_identity = false;
    zmsg_t *msg = s_message(data, size, &has_identity);
    proto_frame_t f;
    int rc = proto_parse(msg, has_identity, &f);
    FUZZ_CHECK(rc == 0 || rc == CADRE_EPROTO, "proto_parse returned %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(f.code && (strcmp(f.code, "version") == 0 || strcmp(f.code, "command") == 0 ||
                              strcmp(f.code, "frame") == 0),
                   "rejection without an ERROR code");
        FUZZ_CHECK(f.reason[0] != '\0', "rejection without a reason");
        zmsg_destroy(&msg);
        return 0;
    }
    FUZZ_CHECK(f.code == NULL && f.reason[0] == '\0', "accepted with a rejection code");
    const proto_layout_t *layout = proto_layout(f.cmd);
    FUZZ_CHECK(layout && proto_cmd_name(f.cmd) && f.nparts == layout->nparts,
               "accepted message does not follow its layout");
    for (size_t i = 0; i < f.nparts; i++) {
        uint64_t v = 0;
        int grc = proto_get_u64(&f.parts[i], &v);
        FUZZ_CHECK((grc == 0) == (f.parts[i].size == PROTO_U64_LEN), "proto_get_u64 returned %d",
                   grc);
        if (layout->parts[i] == PROTO_PART_U64) {
            FUZZ_CHECK(grc == 0, "an accepted integer part that does not read");
        } else {
            FUZZ_CHECK(f.parts[i].size > 0, "an accepted empty body");
            s_decode_body(f.cmd, &f.parts[i]);
        }
    }
    s_rebuild(&f);
    zmsg_destroy(&msg);
    return 0;
}
