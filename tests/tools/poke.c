/*  poke.c - cadre_poke: a test tool that speaks, and deliberately mis-speaks, the CADRE01
    protocol (docs/protocol.md), for the black-box integration tests.

    Two modes:

      cadre_poke ENDPOINT FRAME... [--wait MS]
          connects a DEALER to ENDPOINT and sends one multi-part message made of the FRAMEs,
          in order, exactly as given (no version or command frame is added: the test writes
          them, so it can get them wrong). A FRAME is
              --text S    the bytes of S             --hex H      bytes from hex digits
              --u64 N     8 bytes, big-endian         --file PATH  the bytes of a file
              --zeros N   N zero bytes                --empty      a zero-length frame
              --json J    the JSON value J as one MessagePack value
          and `--truncate N` cuts N bytes off the end of the frame before it. With --wait,
          waits up to MS for one reply (`--replies N`: for N replies, each waited up to MS)
          and prints it, one line per frame:
              <index> text <bytes>     printable ASCII, two bytes or more
              <index> msgpack <json>   one whole MessagePack map, array or string, as JSON
              <index> hex <digits>     anything else (a command byte, a ref or seq)
          Exit status: 0 sent (and, with --wait, a reply arrived), 1 no reply in time or the
          message could not be sent, 2 usage.
          Connection options (anywhere on the line):
              --cert SECRET --server-key PUBLIC   connect as a CURVE client with the zcert
                                                  SECRET file, to the server PUBLIC names
              --identity NAME   the DEALER's routing id (to pose as a peer)
              --repeat N        send the message N times (a flood; --wait then reads the
                                first reply only)
              --rcvhwm N        the socket's receive high-water mark
              --hold MS         after sending, keep the connection open MS ms without
                                reading anything (a client that never reads)
              --connections N   open N connections to ENDPOINT (the message goes out on
                                the first); with --hold they stay open that long
          `--then` ends one message and starts the next, sent in order on the same
          connection (each of them --repeat times).

      cadre_poke --sub ENDPOINT [--topic P] [--count N] [--timeout MS] [--ready FILE]
                 [--stuck MS]
          subscribes to the merger's events (topic prefix P, default all), checks that each
          message is two frames whose topic frame names the envelope's topic, and prints each
          event as one JSON line, exactly as `cadre cluster --events` writes it. --ready
          creates FILE once the subscription is connected (after the ZeroMQ handshake), so
          a test knows when to start publishing. Stops after N events (exit 0), or after MS
          of silence (default 10000; exit 0 without --count, 1 when fewer than N arrived).
          A malformed event exits 1. With --stuck, it subscribes with a one-message queue
          and then never reads, for MS ms (a subscriber that has stopped reading).

    The tool never installs signal handlers (czmq's are switched off), so a test's trap ends
    it with a plain SIGTERM.
*/
#include "jsonio.h"
#include "wire.h"
#include "xalloc.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_EX_USAGE 2         /* bad command line */
#define S_MAX_FRAMES 64      /* most frames one message may be given */
#define S_LINGER_MS 10000    /* time for a sent message to leave before the socket closes */
#define S_DEFAULT_WAIT 10000 /* default silence, ms, before --sub gives up */
static char s_then_mark;
#define S_THEN (&s_then_mark) /* the frame list's message boundary (--then) */

/*  One frame to send: owned bytes. */
typedef struct {
    char *data;  /* bytes, owned (may be NULL when size is 0) */
    size_t size; /* number of bytes */
} s_frame_t;

static void
s_usage(void)
{
    fprintf(stderr,
            "usage: cadre_poke ENDPOINT FRAME... [--wait MS [--replies N]]\n"
            "                  [--cert SECRET --server-key PUBLIC] [--identity NAME]\n"
            "                  [--repeat N] [--rcvhwm N] [--hold MS]\n"
            "                  [--connections N]\n"
            "       FRAME: --text S | --hex H | --u64 N | --file PATH | --zeros N | --empty |\n"
            "              --json J, each optionally followed by --truncate N\n"
            "       cadre_poke --sub ENDPOINT [--topic P] [--count N] [--timeout MS] "
            "[--ready FILE]\n");
}

/*  Parses a non-negative decimal integer; false when s is not one. */
static bool
s_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/*  --------------------------------------------------------------------------------------
    JSON <-> MessagePack (test crafting and display only) */

static void
s_pack_json(msgpack_packer *pk, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        msgpack_pack_map(pk, json_object_size(v));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            msgpack_pack_str(pk, strlen(key));
            msgpack_pack_str_body(pk, key, strlen(key));
            s_pack_json(pk, val);
        }
        break;
    }
    case JSON_ARRAY:
        msgpack_pack_array(pk, json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++) {
            s_pack_json(pk, json_array_get(v, i));
        }
        break;
    case JSON_STRING:
        msgpack_pack_str(pk, json_string_length(v));
        msgpack_pack_str_body(pk, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i >= 0) {
            msgpack_pack_uint64(pk, (uint64_t)i);
        } else {
            msgpack_pack_int64(pk, (int64_t)i);
        }
        break;
    }
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

/*  Encodes the JSON text as one MessagePack value; false (and a message) when it is not
    JSON. */
static bool
s_json_frame(const char *text, s_frame_t *out)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v) {
        fprintf(stderr, "cadre_poke: --json: %s\n", jerr.text);
        return false;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_pack_json(&pk, v);
    json_decref(v);
    out->data = xmalloc(sb.size ? sb.size : 1);
    memcpy(out->data, sb.data, sb.size);
    out->size = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return true;
}

static json_t *
s_to_json(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR:
        return json_stringn_nocheck(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            json_array_append_new(a, s_to_json(&o->via.array.ptr[i]));
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            char *name = k->type == MSGPACK_OBJECT_STR
                             ? xasprintf("%.*s", (int)k->via.str.size, k->via.str.ptr)
                             : xstrdup("?");
            json_object_set_new_nocheck(m, name, s_to_json(&o->via.map.ptr[i].val));
            free(name);
        }
        return m;
    }
    default:
        return json_string("<binary>");
    }
}

/*  Prints a frame as JSON when it is exactly one MessagePack map, array or string; false
    when it is not. */
static bool
s_print_msgpack(size_t index, const char *data, size_t size)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    bool shown = false;
    if (msgpack_unpack_next(&u, data, size, &off) == MSGPACK_UNPACK_SUCCESS && off == size &&
        (u.data.type == MSGPACK_OBJECT_MAP || u.data.type == MSGPACK_OBJECT_ARRAY ||
         u.data.type == MSGPACK_OBJECT_STR)) {
        json_t *j = s_to_json(&u.data);
        char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%zu msgpack %s\n", index, text ? text : "?");
        free(text);
        json_decref(j);
        shown = true;
    }
    msgpack_unpacked_destroy(&u);
    return shown;
}

static void
s_print_frame(size_t index, zframe_t *frame)
{
    const unsigned char *d = zframe_data(frame);
    size_t n = zframe_size(frame);
    bool text = n > 1; /* a one-byte frame is a command: hex */
    for (size_t i = 0; i < n && text; i++) {
        text = d[i] >= 0x20 && d[i] < 0x7f;
    }
    if (text) {
        printf("%zu text %.*s\n", index, (int)n, (const char *)d);
    } else if (!s_print_msgpack(index, (const char *)d, n)) {
        printf("%zu hex ", index);
        for (size_t i = 0; i < n; i++) {
            printf("%02x", d[i]);
        }
        printf("\n");
    }
}

/*  --------------------------------------------------------------------------------------
    Raw mode */

static int
s_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool
s_hex_frame(const char *hex, s_frame_t *out)
{
    size_t n = strlen(hex);
    if (n % 2 != 0) {
        return false;
    }
    out->data = xmalloc(n / 2 + 1);
    out->size = n / 2;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = s_hex_value(hex[2 * i]);
        int lo = s_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out->data[i] = (char)(hi << 4 | lo);
    }
    return true;
}

static bool
s_file_frame(const char *path, s_frame_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cadre_poke: %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t cap = 4096;
    out->data = xmalloc(cap);
    out->size = 0;
    size_t got;
    while ((got = fread(out->data + out->size, 1, cap - out->size, f)) > 0) {
        out->size += got;
        if (out->size == cap) {
            cap *= 2;
            out->data = xrealloc(out->data, cap);
        }
    }
    bool ok = !ferror(f);
    fclose(f);
    return ok;
}

/*  Parses one frame option at argv[*i] (advancing *i past its value); false on a usage
    error. */
static bool
s_parse_frame(int argc, char **argv, int *i, s_frame_t *out)
{
    const char *opt = argv[*i];
    *out = (s_frame_t){0};
    if (strcmp(opt, "--empty") == 0) {
        return true;
    }
    if (*i + 1 >= argc) {
        return false;
    }
    const char *v = argv[++*i];
    uint64_t n = 0;
    if (strcmp(opt, "--text") == 0) {
        out->size = strlen(v);
        out->data = xstrdup(v);
        return true;
    }
    if (strcmp(opt, "--hex") == 0) {
        return s_hex_frame(v, out);
    }
    if (strcmp(opt, "--u64") == 0) {
        if (!s_parse_u64(v, &n)) {
            return false;
        }
        out->data = xmalloc(8);
        out->size = 8;
        for (int b = 0; b < 8; b++) {
            out->data[b] = (char)(n >> (56 - 8 * b));
        }
        return true;
    }
    if (strcmp(opt, "--file") == 0) {
        return s_file_frame(v, out);
    }
    if (strcmp(opt, "--zeros") == 0) {
        if (!s_parse_u64(v, &n) || n > (1u << 30)) {
            return false;
        }
        out->data = xcalloc(n ? n : 1, 1);
        out->size = n;
        return true;
    }
    if (strcmp(opt, "--json") == 0) {
        return s_json_frame(v, out);
    }
    return false;
}

/*  Connection options of the raw mode. */
typedef struct {
    const char *cert;       /* CURVE client certificate (secret file), or NULL */
    const char *server_key; /* the server's public certificate file, with cert */
    const char *identity;   /* routing id, or NULL */
    uint64_t repeat;        /* sends of the message, 1 */
    uint64_t rcvhwm;        /* receive high-water mark, 0 = libzmq's default */
    uint64_t hold_ms;       /* time to keep the connections open unread, 0 */
    uint64_t connections;   /* connections to open, 1 */
} s_conn_opts_t;

/*  Parses a connection option at argv[*i]; false when argv[*i] is not one. */
static bool
s_parse_conn(int argc, char **argv, int *i, s_conn_opts_t *o)
{
    const char *opt = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!v) {
        return false;
    }
    bool ok = true;
    if (strcmp(opt, "--cert") == 0) {
        o->cert = v;
    } else if (strcmp(opt, "--server-key") == 0) {
        o->server_key = v;
    } else if (strcmp(opt, "--identity") == 0) {
        o->identity = v;
    } else if (strcmp(opt, "--repeat") == 0) {
        ok = s_parse_u64(v, &o->repeat) && o->repeat > 0;
    } else if (strcmp(opt, "--rcvhwm") == 0) {
        ok = s_parse_u64(v, &o->rcvhwm) && o->rcvhwm <= INT32_MAX;
    } else if (strcmp(opt, "--hold") == 0) {
        ok = s_parse_u64(v, &o->hold_ms);
    } else if (strcmp(opt, "--connections") == 0) {
        ok = s_parse_u64(v, &o->connections) && o->connections > 0 && o->connections <= 100000;
    } else {
        return false;
    }
    if (ok) {
        ++*i;
    }
    return ok;
}

/*  A DEALER connected to endpoint with the options; NULL (printed) on failure. */
static zsock_t *
s_connect(const char *endpoint, const s_conn_opts_t *o)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, S_LINGER_MS);
    zsock_set_sndtimeo(sock, S_LINGER_MS);
    if (o->rcvhwm) {
        zsock_set_rcvhwm(sock, (int)o->rcvhwm);
    }
    if (o->identity) {
        zsock_set_identity(sock, o->identity);
    }
    if (o->cert) {
        zcert_t *mine = zcert_load(o->cert);
        zcert_t *server = o->server_key ? zcert_load(o->server_key) : NULL;
        if (!mine || !server) {
            fprintf(stderr, "cadre_poke: cannot load %s / %s\n", o->cert,
                    o->server_key ? o->server_key : "(no --server-key)");
            zcert_destroy(&mine);
            zcert_destroy(&server);
            zsock_destroy(&sock);
            return NULL;
        }
        zcert_apply(mine, sock);
        zsock_set_curve_serverkey(sock, zcert_public_txt(server));
        zcert_destroy(&mine);
        zcert_destroy(&server);
    }
    if (zsock_connect(sock, "%s", endpoint) < 0) {
        fprintf(stderr, "cadre_poke: cannot connect to %s\n", endpoint);
        zsock_destroy(&sock);
    }
    return sock;
}

static int
s_raw(int argc, char **argv)
{
    const char *endpoint = argv[1];
    s_frame_t frames[S_MAX_FRAMES];
    size_t n = 0;
    uint64_t wait_ms = 0, replies = 1;
    bool wait = false;
    s_conn_opts_t co = {.repeat = 1, .connections = 1};
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        const char *opt = argv[i];
        uint64_t cut = 0;
        if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc && s_parse_u64(argv[i + 1], &wait_ms)) {
            wait = true;
            i++;
        } else if (strcmp(argv[i], "--replies") == 0 && i + 1 < argc &&
                   s_parse_u64(argv[i + 1], &replies) && replies > 0) {
            i++;
        } else if (strcmp(argv[i], "--truncate") == 0 && i + 1 < argc && n > 0 &&
                   s_parse_u64(argv[i + 1], &cut) && cut <= frames[n - 1].size) {
            frames[n - 1].size -= cut;
            i++;
        } else if (s_parse_conn(argc, argv, &i, &co)) {
            continue;
        } else if (strcmp(argv[i], "--then") == 0 && n > 0 && n < S_MAX_FRAMES &&
                   frames[n - 1].data != S_THEN) {
            frames[n++] = (s_frame_t){S_THEN, 0};
        } else if (n < S_MAX_FRAMES && s_parse_frame(argc, argv, &i, &frames[n])) {
            n++;
        } else {
            fprintf(stderr, "cadre_poke: bad or incomplete option '%s'\n", opt);
            if (n < S_MAX_FRAMES) {
                free(frames[n].data);
            }
            rc = S_EX_USAGE;
        }
    }
    if (rc == 0 && n == 0) {
        fprintf(stderr, "cadre_poke: no frames to send\n");
        rc = S_EX_USAGE;
    }
    if (rc != 0) {
        for (size_t k = 0; k < n; k++) {
            if (frames[k].data != S_THEN) {
                free(frames[k].data);
            }
        }
        s_usage();
        return rc;
    }
    zsock_t **socks = xcalloc(co.connections, sizeof *socks);
    for (uint64_t c = 0; c < co.connections && rc == 0; c++) {
        socks[c] = s_connect(endpoint, &co);
        rc = socks[c] ? 0 : 1;
    }
    zsock_t *sock = socks[0];
    for (size_t first = 0; first < n && rc == 0;) {
        size_t end = first;
        while (end < n && frames[end].data != S_THEN) {
            end++;
        }
        for (uint64_t r = 0; r < co.repeat && rc == 0; r++) {
            zmsg_t *msg = zmsg_new();
            for (size_t k = first; k < end; k++) {
                zmsg_addmem(msg, frames[k].data, frames[k].size);
            }
            if (zmsg_send(&msg, sock) != 0) {
                fprintf(stderr, "cadre_poke: send %" PRIu64 " failed: %s\n", r + 1,
                        zmq_strerror(zmq_errno()));
                zmsg_destroy(&msg);
                rc = 1;
            }
        }
        first = end + 1;
    }
    for (size_t k = 0; k < n; k++) {
        if (frames[k].data != S_THEN) {
            free(frames[k].data);
        }
    }
    if (rc == 0 && co.hold_ms) {
        /* Never reads: whatever the peer sends piles up until the high-water mark. */
        zclock_sleep((int)(co.hold_ms > INT32_MAX ? INT32_MAX : co.hold_ms));
    }
    if (rc == 0 && wait) {
        zsock_set_rcvtimeo(sock, (int)(wait_ms > INT32_MAX ? INT32_MAX : wait_ms));
        for (uint64_t r = 0; r < replies && rc == 0; r++) {
            zmsg_t *reply = zmsg_recv(sock);
            if (!reply) {
                printf("no reply\n");
                rc = 1;
            } else {
                size_t index = 0;
                for (zframe_t *f = zmsg_first(reply); f; f = zmsg_next(reply)) {
                    s_print_frame(index++, f);
                }
                zmsg_destroy(&reply);
            }
        }
    }
    for (uint64_t c = 0; c < co.connections; c++) {
        if (socks[c] && co.hold_ms) {
            zsock_set_linger(socks[c], 0);
        }
        zsock_destroy(&socks[c]);
    }
    free(socks);
    return rc;
}

/*  --------------------------------------------------------------------------------------
    Subscribe mode */

/*  Connects sub to endpoint and, when ready is not NULL, waits (up to timeout_ms) until the
    ZeroMQ handshake with the publisher succeeded, then creates the file ready. The monitor
    is attached before connecting, so the handshake cannot be missed. Returns 0, or 1 (with
    a message) when the endpoint is bad or the handshake did not come in time. */
static int
s_connect_sub(zsock_t *sub, const char *endpoint, const char *ready, int timeout_ms)
{
    zsock_t *mon = NULL;
    char *ep = xasprintf("inproc://cadre-poke-monitor-%p", (void *)sub);
    if (ready && zmq_socket_monitor(zsock_resolve(sub), ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) == 0) {
        mon = zsock_new_pair(ep);
    }
    free(ep);
    int rc = zsock_connect(sub, "%s", endpoint) < 0 || (ready && !mon) ? 1 : 0;
    if (rc == 0 && mon) {
        zsock_set_rcvtimeo(mon, timeout_ms);
        zmsg_t *ev = zmsg_recv(mon);
        FILE *f = ev ? fopen(ready, "w") : NULL;
        rc = f && fclose(f) == 0 ? 0 : 1;
        zmsg_destroy(&ev);
    }
    if (mon) {
        zmq_socket_monitor(zsock_resolve(sub), NULL, 0);
        zsock_destroy(&mon);
    }
    if (rc != 0) {
        fprintf(stderr, "cadre_poke: not connected to %s\n", endpoint);
    }
    return rc;
}

/*  Checks and prints one event message; false when it is malformed. */
static bool
s_print_event(zmsg_t *m)
{
    if (zmsg_size(m) != 2) {
        fprintf(stderr, "cadre_poke: an event of %zu frames (wanted 2)\n", zmsg_size(m));
        return false;
    }
    zframe_t *topic = zmsg_first(m);
    zframe_t *body = zmsg_next(m);
    wire_event_t *ev = NULL;
    char err[256];
    if (wire_event_decode((const char *)zframe_data(body), zframe_size(body), &ev, err,
                          sizeof err) != 0) {
        fprintf(stderr, "cadre_poke: undecodable event: %s\n", err);
        return false;
    }
    bool ok = zframe_streq(topic, ev->topic);
    if (!ok) {
        fprintf(stderr, "cadre_poke: topic frame does not match the envelope's '%s'\n", ev->topic);
    }
    char *line = NULL;
    size_t len = 0;
    if (ok && jsonio_event_print(ev, &line, &len) == 0) {
        printf("%.*s\n", (int)len, line);
        fflush(stdout);
    } else {
        ok = false;
    }
    free(line);
    wire_event_free(&ev);
    return ok;
}

static int
s_sub(int argc, char **argv)
{
    if (argc < 3) {
        s_usage();
        return S_EX_USAGE;
    }
    const char *endpoint = argv[2];
    const char *topic = "";
    const char *ready = NULL;
    uint64_t count = 0;
    uint64_t timeout = S_DEFAULT_WAIT;
    uint64_t stuck = 0;
    for (int i = 3; i < argc; i++) {
        bool v = i + 1 < argc;
        if (strcmp(argv[i], "--stuck") == 0 && v && s_parse_u64(argv[i + 1], &stuck) &&
            stuck <= INT32_MAX) {
            i++;
        } else if (strcmp(argv[i], "--topic") == 0 && v) {
            topic = argv[++i];
        } else if (strcmp(argv[i], "--ready") == 0 && v) {
            ready = argv[++i];
        } else if (strcmp(argv[i], "--count") == 0 && v && s_parse_u64(argv[i + 1], &count)) {
            i++;
        } else if (strcmp(argv[i], "--timeout") == 0 && v && s_parse_u64(argv[i + 1], &timeout) &&
                   timeout <= INT32_MAX) {
            i++;
        } else {
            s_usage();
            return S_EX_USAGE;
        }
    }
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sub, stuck ? 1 : 0);
    if (stuck) {
        zsock_set_rcvbuf(sub, 4096);
    }
    zsock_set_subscribe(sub, topic);
    int rc = s_connect_sub(sub, endpoint, ready, (int)timeout);
    if (rc == 0 && stuck) {
        /* A subscriber that never reads: what the merger sends piles up. */
        zclock_sleep((int)stuck);
        zsock_set_linger(sub, 0);
        zsock_destroy(&sub);
        return 0;
    }
    zsock_set_rcvtimeo(sub, (int)timeout);
    uint64_t got = 0;
    while (rc == 0 && (count == 0 || got < count)) {
        zmsg_t *m = zmsg_recv(sub);
        if (!m) {
            if (count) {
                fprintf(stderr, "cadre_poke: %" PRIu64 " of %" PRIu64 " events\n", got, count);
                rc = 1;
            }
            break;
        }
        if (!s_print_event(m)) {
            rc = 1;
        }
        got++;
        zmsg_destroy(&m);
    }
    zsock_destroy(&sub);
    return rc;
}

int
main(int argc, char **argv)
{
    /* Default dispositions: a test's `kill` ends the tool at once. */
    zsys_handler_set(NULL);
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        s_usage();
        return argc < 2 ? S_EX_USAGE : 0;
    }
    int rc;
    if (strcmp(argv[1], "--sub") == 0) {
        rc = s_sub(argc, argv);
    } else if (argv[1][0] == '-') {
        s_usage();
        rc = S_EX_USAGE;
    } else {
        rc = s_raw(argc, argv);
    }
    zsys_shutdown();
    return rc;
}
