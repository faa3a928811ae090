/*  proto.c - building and checking CADRE01 messages (see proto.h, docs/protocol.md).

    The layout table below is the single source of the per-command frame counts; the parser
    and the tests read it through proto_layout(). Parsing never copies: it walks the zmsg_t
    and stores spans into its frames.
*/
#include "proto.h"

#include "err.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define S_U64 PROTO_PART_U64
#define S_BODY PROTO_PART_BODY

/*  Every command's layout, indexed by its byte; name NULL = not a command. */
static const proto_layout_t s_layouts[256] = {
    [PROTO_READY] = {"READY", 1, {S_BODY}},
    [PROTO_HEARTBEAT] = {"HEARTBEAT", 0, {0}},
    [PROTO_DISCONNECT] = {"DISCONNECT", 0, {0}},
    [PROTO_SUBMIT] = {"SUBMIT", 2, {S_U64, S_BODY}},
    [PROTO_ACK] = {"ACK", 2, {S_U64, S_U64}},
    [PROTO_FLUSH] = {"FLUSH", 1, {S_U64}},
    [PROTO_FLUSHED] = {"FLUSHED", 2, {S_U64, S_U64}},
    [PROTO_PSUBMIT] = {"PSUBMIT", 3, {S_U64, S_U64, S_BODY}},
    [PROTO_ERROR] = {"ERROR", 2, {S_U64, S_BODY}},
    [PROTO_KEYS] = {"KEYS", 1, {S_BODY}},
    [PROTO_RECORDS] = {"RECORDS", 1, {S_BODY}},
    [PROTO_BARRIER] = {"BARRIER", 1, {S_U64}},
    [PROTO_GENERIC] = {"GENERIC", 2, {S_U64, S_BODY}},
    [PROTO_COMMIT] = {"COMMIT", 2, {S_U64, S_BODY}},
    [PROTO_FORESTS] = {"FORESTS", 2, {S_U64, S_BODY}},
    [PROTO_DONE] = {"DONE", 1, {S_U64}},
    [PROTO_RECONCILED] = {"RECONCILED", 1, {S_U64}},
    [PROTO_APPLIED] = {"APPLIED", 1, {S_U64}},
    [PROTO_RELEASE] = {"RELEASE", 1, {S_U64}},
    [PROTO_FETCH] = {"FETCH", 1, {S_BODY}},
    [PROTO_FETCHED] = {"FETCHED", 1, {S_BODY}},
    [PROTO_QUERY] = {"QUERY", 2, {S_U64, S_BODY}},
    [PROTO_REPLY] = {"REPLY", 2, {S_U64, S_BODY}},
};

_Static_assert(sizeof s_layouts / sizeof s_layouts[0] == 256, "one row per command byte");

const proto_layout_t *
proto_layout(proto_cmd_t cmd)
{
    if ((unsigned)cmd > 0xFFu || !s_layouts[cmd].name) {
        return NULL;
    }
    return &s_layouts[cmd];
}

const char *
proto_cmd_name(proto_cmd_t cmd)
{
    const proto_layout_t *layout = proto_layout(cmd);
    return layout ? layout->name : NULL;
}

/*  Appends one frame; czmq aborts on allocation failure, so appending cannot fail. */
static void
s_add(zmsg_t *msg, const void *data, size_t size)
{
    assert(msg);
    int rc = zmsg_addmem(msg, data, size);
    assert(rc == 0);
    (void)rc;
}

zmsg_t *
proto_msg_new(proto_cmd_t cmd)
{
    assert(proto_layout(cmd));
    zmsg_t *msg = zmsg_new();
    assert(msg);
    s_add(msg, PROTO_VERSION, PROTO_VERSION_LEN);
    uint8_t byte = (uint8_t)cmd;
    s_add(msg, &byte, PROTO_CMD_LEN);
    return msg;
}

zmsg_t *
proto_msg_new_to(zframe_t *identity, proto_cmd_t cmd)
{
    assert(identity);
    zmsg_t *msg = proto_msg_new(cmd);
    zframe_t *copy = zframe_dup(identity);
    assert(copy);
    int rc = zmsg_prepend(msg, &copy);
    assert(rc == 0);
    (void)rc;
    return msg;
}

void
proto_add_u64(zmsg_t *msg, uint64_t value)
{
    uint8_t be[PROTO_U64_LEN];
    for (int i = PROTO_U64_LEN - 1; i >= 0; i--) {
        be[i] = (uint8_t)(value & 0xFFu);
        value >>= 8;
    }
    s_add(msg, be, sizeof be);
}

void
proto_add_body(zmsg_t *msg, const wire_buf_t *body)
{
    assert(body && body->len > 0);
    s_add(msg, body->data, body->len);
}

void
proto_add_bytes(zmsg_t *msg, const void *data, size_t size)
{
    assert(data || size == 0);
    s_add(msg, data, size);
}

/*  Records why a message was rejected and returns CADRE_EPROTO. */
__attribute__((format(printf, 3, 4))) static int
s_reject(proto_frame_t *out, const char *code, const char *fmt, ...)
{
    out->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    return CADRE_EPROTO;
}

/*  Copies up to 16 bytes of a frame into text for a log line, each non-printable byte as
    '?', so a garbage version frame cannot inject control characters into the log. */
static void
s_printable(const uint8_t *data, size_t size, char *text, size_t textlen)
{
    size_t n = size < 16 ? size : 16;
    if (n >= textlen) {
        n = textlen - 1;
    }
    for (size_t i = 0; i < n; i++) {
        text[i] = data[i] >= 0x20 && data[i] < 0x7F ? (char)data[i] : '?';
    }
    text[n] = '\0';
}

void
proto_reply(zsock_t *sock, zmsg_t **msg, proto_unsent_t *u, const char *who)
{
    if (zmsg_send(msg, sock) == 0) {
        return;
    }
    int e = zmq_errno();
    zmsg_destroy(msg);
    if (e != EAGAIN) {
        log_warn("%s: a client vanished before its reply", who);
        return;
    }
    u->dropped++;
    int64_t now = zclock_mono();
    if (now - u->logged_at >= 1000) {
        log_warn("%s: a client does not read its replies; %" PRIu64 " replies dropped so far", who,
                 u->dropped);
        u->logged_at = now;
    }
}

void
proto_set_max_message(zsock_t *sock, int64_t bytes)
{
    assert(bytes > 0);
    zmq_setsockopt(zsock_resolve(sock), ZMQ_MAXMSGSIZE, &bytes, sizeof bytes);
}

void
proto_set_link_keepalive(zsock_t *sock, int idle_s)
{
    zsock_set_tcp_keepalive(sock, 1);
    zsock_set_tcp_keepalive_idle(sock, idle_s > 0 ? idle_s : 1);
    zsock_set_tcp_keepalive_intvl(sock, 1);
    zsock_set_tcp_keepalive_cnt(sock, 3);
}

/*  The umask is the process's: binds of two roles in one process (cadre run --listen)
    must not interleave their umask changes. */
static pthread_mutex_t s_bind_lock = PTHREAD_MUTEX_INITIALIZER;

int
proto_bind(zsock_t *sock, const char *endpoint, bool group)
{
    bool ipc = strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] != '@';
    if (!ipc) {
        return zsock_bind(sock, "%s", endpoint) < 0 ? -1 : 0;
    }
    mode_t mode = group ? 0660 : 0600;
    pthread_mutex_lock(&s_bind_lock);
    mode_t old = umask(0777 & ~mode);
    int rc = zsock_bind(sock, "%s", endpoint) < 0 ? -1 : 0;
    umask(old);
    pthread_mutex_unlock(&s_bind_lock);
    if (rc == 0 && chmod(endpoint + 6, mode) != 0) {
        int e = errno;
        zsock_unbind(sock, "%s", endpoint);
        errno = e;
        rc = -1;
    }
    return rc;
}

int
proto_parse(zmsg_t *msg, bool has_identity, proto_frame_t *out)
{
    assert(msg && out);
    *out = (proto_frame_t){0};
    zframe_t *frame = zmsg_first(msg);
    if (has_identity) {
        if (!frame) {
            return s_reject(out, "frame", "empty message (no identity frame)");
        }
        out->identity = frame;
        frame = zmsg_next(msg);
    }
    if (!frame) {
        return s_reject(out, "frame", "missing version frame");
    }
    out->version = frame;
    const uint8_t *data = zframe_data(frame);
    size_t size = zframe_size(frame);
    if (size != PROTO_VERSION_LEN || memcmp(data, PROTO_VERSION, PROTO_VERSION_LEN) != 0) {
        char text[17];
        s_printable(data, size, text, sizeof text);
        return s_reject(out, "version", "wrong version frame '%s' (%zu bytes), expected '%s'", text,
                        size, PROTO_VERSION);
    }
    frame = zmsg_next(msg);
    if (!frame) {
        return s_reject(out, "frame", "missing command frame");
    }
    if (zframe_size(frame) != PROTO_CMD_LEN) {
        return s_reject(out, "frame", "command frame of %zu bytes, expected %d", zframe_size(frame),
                        PROTO_CMD_LEN);
    }
    proto_cmd_t cmd = (proto_cmd_t)zframe_data(frame)[0];
    const proto_layout_t *layout = proto_layout(cmd);
    if (!layout) {
        return s_reject(out, "command", "unknown command 0x%02X", (unsigned)cmd);
    }
    out->cmd = cmd;
    size_t n = 0;
    for (frame = zmsg_next(msg); frame; frame = zmsg_next(msg)) {
        if (n < PROTO_MAX_PARTS) {
            out->parts[n] = (proto_part_t){zframe_data(frame), zframe_size(frame)};
        }
        n++;
    }
    if (n != layout->nparts) {
        return s_reject(out, "frame", "%s with %zu frame%s after the command, expected %zu",
                        layout->name, n, n == 1 ? "" : "s", layout->nparts);
    }
    for (size_t i = 0; i < n; i++) {
        size_t got = out->parts[i].size;
        if (layout->parts[i] == PROTO_PART_U64 && got != PROTO_U64_LEN) {
            return s_reject(out, "frame", "%s part %zu is an integer of %zu bytes, expected %d",
                            layout->name, i, got, PROTO_U64_LEN);
        }
        if (layout->parts[i] == PROTO_PART_BODY && got == 0) {
            return s_reject(out, "frame", "%s part %zu is an empty body", layout->name, i);
        }
    }
    out->nparts = n;
    return 0;
}

int
proto_get_u64(const proto_part_t *part, uint64_t *value)
{
    assert(part && value);
    if (part->size != PROTO_U64_LEN || !part->data) {
        return CADRE_EPROTO;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < PROTO_U64_LEN; i++) {
        v = (v << 8) | part->data[i];
    }
    *value = v;
    return 0;
}
