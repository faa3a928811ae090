/*  proto.h - the CADRE01 wire protocol contract: version frame, commands and frame layout.

    docs/protocol.md is the written contract; this header is its code, and the two change
    together (a change that breaks compatibility bumps PROTO_VERSION). A message is

        [identity]  version "CADRE01"  command (1 byte)  part 0 .. part n-1

    where the identity frame is present only as read from (or written to) a ROUTER socket,
    and each command has a fixed number of parts of fixed kinds (proto_layout()): an
    unsigned 64-bit integer as 8 big-endian bytes (`ref`, `seq`) or a body holding one
    MessagePack value (encoded by wire.h; this module never looks inside a body).

    Ownership: messages are czmq zmsg_t values (czmq owns libzmq for cadre). The builders
    return or append to a message the caller owns and sends with zmsg_send(). proto_parse()
    only reads a received message: every pointer it stores in a proto_frame_t is borrowed
    from that message and valid until the message is destroyed or modified.
*/
#ifndef CADRE_PROTO_H
#define CADRE_PROTO_H

#include "wire.h"

#include <czmq.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION "CADRE01" /* frame 0 of every message (docs/protocol.md §1) */
#define PROTO_VERSION_LEN 7     /* bytes of the version frame (no terminating NUL) */
#define PROTO_CMD_LEN 1         /* bytes of the command frame */
#define PROTO_U64_LEN 8         /* bytes of a `ref` or `seq` frame, big-endian */
#define PROTO_MAX_PARTS 3       /* most frames any command carries after the command */
/*  Most frames in one message: identity, version, command and the parts. */
#define PROTO_MAX_FRAMES (3 + PROTO_MAX_PARTS)

_Static_assert(sizeof(PROTO_VERSION) - 1 == PROTO_VERSION_LEN, "version frame is 7 bytes");
_Static_assert(PROTO_U64_LEN == sizeof(uint64_t), "integer frames hold one uint64_t");

/*  Commands, with the byte values of docs/protocol.md §2. */
typedef enum {
    PROTO_READY = 0x01,      /* shard/merger -> broker, shard -> merger: body */
    PROTO_HEARTBEAT = 0x02,  /* every direction: no parts */
    PROTO_DISCONNECT = 0x03, /* every direction: no parts */
    PROTO_SUBMIT = 0x10,     /* client -> broker: ref, observation body */
    PROTO_ACK = 0x11,        /* broker -> client: ref, seq */
    PROTO_FLUSH = 0x12,      /* client -> broker: ref */
    PROTO_FLUSHED = 0x13,    /* broker -> client: ref, seq */
    PROTO_PSUBMIT = 0x14,    /* client -> broker: producer, ref, observation body */
    PROTO_ERROR = 0x1F,      /* broker -> client: ref, body {code, field, message} */
    PROTO_KEYS = 0x20,       /* broker -> shard: body */
    PROTO_RECORDS = 0x21,    /* broker -> merger: body */
    PROTO_BARRIER = 0x22,    /* broker -> shard, merger: seq */
    PROTO_GENERIC = 0x23,    /* shard -> broker: seq, body */
    PROTO_COMMIT = 0x24,     /* broker -> shard: seq, body */
    PROTO_FORESTS = 0x25,    /* shard -> merger: seq, body */
    PROTO_DONE = 0x26,       /* shard -> merger: seq */
    PROTO_RECONCILED = 0x27, /* merger -> broker: seq */
    PROTO_APPLIED = 0x28,    /* shard/merger -> broker: seq */
    PROTO_RELEASE = 0x29,    /* broker -> shard: seq (the merger reconciled it) */
    PROTO_FETCH = 0x2A,      /* merger -> broker: body {seqs} (restoring its snapshot) */
    PROTO_FETCHED = 0x2B,    /* broker -> merger: body {entries: [{seq, record}]} */
    PROTO_QUERY = 0x30,      /* client -> merger: ref, body */
    PROTO_REPLY = 0x31,      /* merger -> client: ref, body */
} proto_cmd_t;

_Static_assert(PROTO_REPLY <= 0xFF, "commands fit the one-byte command frame");

/*  What one part of a command holds. */
typedef enum {
    PROTO_PART_U64 = 1, /* exactly PROTO_U64_LEN bytes, an unsigned big-endian integer */
    PROTO_PART_BODY,    /* one MessagePack value: at least one byte */
} proto_part_kind_t;

/*  The frame layout of one command (a row of docs/protocol.md §2). */
typedef struct {
    const char *name;                         /* "READY", ... */
    size_t nparts;                            /* frames after the command, exactly */
    proto_part_kind_t parts[PROTO_MAX_PARTS]; /* kind of each of those frames */
} proto_layout_t;

/*  One part of a parsed message: a {ptr, len} span borrowed from the message. */
typedef struct {
    const uint8_t *data; /* the frame's bytes (borrowed) */
    size_t size;         /* number of bytes */
} proto_part_t;

/*  A parsed message; a plain value filled by proto_parse(). */
typedef struct {
    zframe_t *identity;                  /* ROUTER identity frame (borrowed), or NULL */
    zframe_t *version;                   /* the version frame (borrowed; carries the
                                            connection's properties, curve_user()), or NULL */
    proto_cmd_t cmd;                     /* the command (0 until its frame was read) */
    size_t nparts;                       /* parts stored below (the layout's count) */
    proto_part_t parts[PROTO_MAX_PARTS]; /* the frames after the command (borrowed) */
    const char *code; /* on rejection, docs/protocol.md §8's ERROR code: "version",
                         "command" or "frame" (static); NULL when accepted */
    char reason[128]; /* on rejection, a one-line reason for the log; "" when accepted */
} proto_frame_t;

/*  The layout of cmd (any byte value), or NULL when cmd is not a command. Static. */
const proto_layout_t *proto_layout(proto_cmd_t cmd);
/*  The name of cmd ("READY", ...), or NULL when cmd is not a command. Static. */
const char *proto_cmd_name(proto_cmd_t cmd);

/*  Returns a new message holding the version and command frames; the caller owns it
    (append the parts, then zmsg_send() it). cmd must be a command. Never returns NULL. */
zmsg_t *proto_msg_new(proto_cmd_t cmd);
/*  Same, for a reply through a ROUTER socket: first a copy of identity (borrowed, not
    consumed), then the version and command frames. */
zmsg_t *proto_msg_new_to(zframe_t *identity, proto_cmd_t cmd);
/*  Appends value as one 8-byte big-endian frame. */
void proto_add_u64(zmsg_t *msg, uint64_t value);
/*  Appends the bytes of body (one encoded MessagePack value, at least one byte) as one
    frame. body is copied and stays the caller's. */
void proto_add_body(zmsg_t *msg, const wire_buf_t *body);
/*  Appends size bytes at data as one frame (copied). */
void proto_add_bytes(zmsg_t *msg, const void *data, size_t size);

/*  The replies a role could not send to its clients. A plain value; zero it. */
typedef struct {
    uint64_t dropped;  /* replies dropped: the client's queue was full */
    int64_t logged_at; /* when that was last logged (zclock_mono) */
} proto_unsent_t;

/*  Sends a reply to a client on sock, whose send timeout is 0: a role never waits for a
    client to read (docs/protocol.md §10). A reply that does not fit in the client's queue is
    dropped, counted in u and logged at most once a second ("<who>: a client does not read
    its replies"); one to a client that is gone is logged. *msg is consumed either way. */
void proto_reply(zsock_t *sock, zmsg_t **msg, proto_unsent_t *u, const char *who);

/*  Sets ZMQ_MAXMSGSIZE on sock: a peer that sends a larger frame is disconnected by ZeroMQ
    before the frame is buffered (docs/protocol.md §10). bytes > 0. */
void proto_set_max_message(zsock_t *sock, int64_t bytes);

/*  Turns on TCP keepalive on a peer link (tcp:// only; ipc:// and inproc:// connections
    end with their process): a connection whose other end is gone without a word (a host
    down, a network cut) is closed after idle_s seconds of silence and three unanswered
    probes a second apart, so it frees its routing id and its descriptor and the peer
    reconnects. Not ZeroMQ's own heartbeats: those close a connection that takes longer
    than their timeout to carry one large frame. */
void proto_set_link_keepalive(zsock_t *sock, int idle_s);
/*  The idle time of a peer link's keepalive: the liveness period, in whole seconds. */
#define PROTO_KEEPALIVE_S(heartbeat_ms, liveness) (((heartbeat_ms) * (liveness) + 999) / 1000)

/*  Binds sock to endpoint. An ipc:// socket file is created with mode 0600, or 0660 when
    group is true, whatever the process's umask (the umask is narrowed around the bind, under
    a lock, and the file chmod'ed after it). Returns 0, or -1 with zmq_errno() set (the
    bind failed) or errno set (the chmod failed; the socket is then unbound). */
int proto_bind(zsock_t *sock, const char *endpoint, bool group);

/*  Checks a received message against the contract and fills *out: the identity frame when
    has_identity (the message came from a ROUTER socket), the command, and its parts, each
    borrowed from msg (valid until msg is destroyed). msg's frames are not modified; its
    frame cursor (zmsg_first/zmsg_next) is. Returns 0, or CADRE_EPROTO with out->code and
    out->reason saying why, when:
      - a frame is missing: no identity, version or command frame ("frame");
      - the version frame is not PROTO_VERSION ("version");
      - the command byte names no command ("command");
      - the command frame is not one byte, the command has fewer or more parts than its
        layout, an integer part is not 8 bytes, or a body part is empty ("frame").
    On rejection out->identity is still set when it was read, and out->cmd when the command
    was known, so the caller can answer the sender; the parts are unspecified. */
int proto_parse(zmsg_t *msg, bool has_identity, proto_frame_t *out);

/*  Reads an integer part into *value. Returns 0, or CADRE_EPROTO (*value untouched) when
    the part is not PROTO_U64_LEN bytes. */
int proto_get_u64(const proto_part_t *part, uint64_t *value);

#endif
