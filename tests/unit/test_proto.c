/*  test_proto.c - the CADRE01 contract: every command's frames round-trip through real
    inproc:// sockets (PAIR, and DEALER to ROUTER with identities), and every malformed
    message is rejected with its docs/protocol.md §8 code and a reason. */
#include "err.h"
#include "proto.h"
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/*  Every command of docs/protocol.md §2 with its number of parts after the command. */
static const struct {
    proto_cmd_t cmd;
    uint8_t byte;
    const char *name;
    size_t nparts;
} s_commands[] = {
    {PROTO_READY, 0x01, "READY", 1},
    {PROTO_HEARTBEAT, 0x02, "HEARTBEAT", 0},
    {PROTO_DISCONNECT, 0x03, "DISCONNECT", 0},
    {PROTO_SUBMIT, 0x10, "SUBMIT", 2},
    {PROTO_ACK, 0x11, "ACK", 2},
    {PROTO_FLUSH, 0x12, "FLUSH", 1},
    {PROTO_FLUSHED, 0x13, "FLUSHED", 2},
    {PROTO_PSUBMIT, 0x14, "PSUBMIT", 3},
    {PROTO_ERROR, 0x1F, "ERROR", 2},
    {PROTO_KEYS, 0x20, "KEYS", 1},
    {PROTO_RECORDS, 0x21, "RECORDS", 1},
    {PROTO_BARRIER, 0x22, "BARRIER", 1},
    {PROTO_GENERIC, 0x23, "GENERIC", 2},
    {PROTO_COMMIT, 0x24, "COMMIT", 2},
    {PROTO_FORESTS, 0x25, "FORESTS", 2},
    {PROTO_DONE, 0x26, "DONE", 1},
    {PROTO_RECONCILED, 0x27, "RECONCILED", 1},
    {PROTO_APPLIED, 0x28, "APPLIED", 1},
    {PROTO_RELEASE, 0x29, "RELEASE", 1},
    {PROTO_FETCH, 0x2A, "FETCH", 1},
    {PROTO_FETCHED, 0x2B, "FETCHED", 1},
    {PROTO_QUERY, 0x30, "QUERY", 2},
    {PROTO_REPLY, 0x31, "REPLY", 2},
};
#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

/*  A bound and a connected socket of the given types on a fresh inproc:// endpoint, with
    receive timeouts so a lost message fails the test instead of hanging it. */
typedef struct {
    zsock_t *server; /* bound */
    zsock_t *client; /* connected */
} pair_t;

static void
s_pair_open(pair_t *p, int server_type, int client_type, const char *endpoint)
{
    p->server = zsock_new(server_type);
    p->client = zsock_new(client_type);
    assert_non_null(p->server);
    assert_non_null(p->client);
    zsock_set_rcvtimeo(p->server, 5000);
    zsock_set_rcvtimeo(p->client, 5000);
    zsock_set_linger(p->server, 0);
    zsock_set_linger(p->client, 0);
    assert_int_equal(zsock_bind(p->server, "%s", endpoint), 0);
    assert_int_equal(zsock_connect(p->client, "%s", endpoint), 0);
}

static void
s_pair_close(pair_t *p)
{
    zsock_destroy(&p->client);
    zsock_destroy(&p->server);
}

/*  Sends msg from one socket and returns what the other receives. */
static zmsg_t *
s_transfer(zmsg_t *msg, zsock_t *from, zsock_t *to)
{
    assert_int_equal(zmsg_send(&msg, from), 0);
    assert_null(msg);
    zmsg_t *got = zmsg_recv(to);
    assert_non_null(got);
    return got;
}

/*  A message with the version frame and a raw command frame. */
static zmsg_t *
s_raw(const void *version, size_t vlen, const void *cmd, size_t clen)
{
    zmsg_t *msg = zmsg_new();
    if (version) {
        zmsg_addmem(msg, version, vlen);
    }
    if (cmd) {
        zmsg_addmem(msg, cmd, clen);
    }
    return msg;
}

static void
test_layout_table(void **state)
{
    (void)state;
    size_t known = 0;
    for (unsigned b = 0; b <= 0xFF; b++) {
        if (proto_layout((proto_cmd_t)b)) {
            known++;
        }
    }
    assert_int_equal(known, S_NCOMMANDS);
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        assert_int_equal((int)s_commands[i].cmd, s_commands[i].byte);
        const proto_layout_t *layout = proto_layout(s_commands[i].cmd);
        assert_non_null(layout);
        assert_string_equal(layout->name, s_commands[i].name);
        assert_string_equal(proto_cmd_name(s_commands[i].cmd), s_commands[i].name);
        assert_int_equal(layout->nparts, s_commands[i].nparts);
        /* Where a command has a ref or seq, it comes first; a body always comes last. */
        for (size_t k = 0; k < layout->nparts; k++) {
            assert_true(layout->parts[k] == PROTO_PART_U64 || layout->parts[k] == PROTO_PART_BODY);
        }
    }
    assert_int_equal(proto_layout(PROTO_ACK)->parts[1], PROTO_PART_U64);
    assert_int_equal(proto_layout(PROTO_SUBMIT)->parts[1], PROTO_PART_BODY);
    assert_null(proto_cmd_name((proto_cmd_t)0x00));
    assert_null(proto_cmd_name((proto_cmd_t)0x04));
    assert_null(proto_cmd_name((proto_cmd_t)0xFF));
    assert_null(proto_layout((proto_cmd_t)0x100));
    assert_string_equal(cadre_strerror(CADRE_EPROTO), "wire protocol violation");
}

static void
test_u64_is_big_endian(void **state)
{
    (void)state;
    zmsg_t *msg = zmsg_new();
    proto_add_u64(msg, 0x0102030405060708ull);
    zframe_t *f = zmsg_first(msg);
    assert_int_equal(zframe_size(f), 8);
    static const uint8_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(zframe_data(f), want, 8);
    proto_part_t part = {zframe_data(f), zframe_size(f)};
    uint64_t v = 0;
    assert_int_equal(proto_get_u64(&part, &v), 0);
    assert_true(v == 0x0102030405060708ull);
    part.size = 7;
    v = 42;
    assert_int_equal(proto_get_u64(&part, &v), CADRE_EPROTO);
    assert_true(v == 42);
    zmsg_destroy(&msg);
}

/*  Builds cmd with its parts: integers base + k, bodies of k + 1 bytes of 0x90 + k. */
static zmsg_t *
s_build(proto_cmd_t cmd, uint64_t base)
{
    const proto_layout_t *layout = proto_layout(cmd);
    zmsg_t *msg = proto_msg_new(cmd);
    for (size_t k = 0; k < layout->nparts; k++) {
        if (layout->parts[k] == PROTO_PART_U64) {
            proto_add_u64(msg, base + k);
        } else {
            wire_buf_t body;
            wire_buf_init(&body);
            for (size_t j = 0; j <= k; j++) {
                uint8_t b = (uint8_t)(0x90 + k);
                wire_buf_append(&body, &b, 1);
            }
            proto_add_body(msg, &body);
            wire_buf_free(&body);
        }
    }
    return msg;
}

/*  Checks a parsed message against what s_build(cmd, base) put in. */
static void
s_check_parts(const proto_frame_t *pf, proto_cmd_t cmd, uint64_t base)
{
    const proto_layout_t *layout = proto_layout(cmd);
    assert_int_equal(pf->cmd, cmd);
    assert_null(pf->code);
    assert_string_equal(pf->reason, "");
    assert_int_equal(pf->nparts, layout->nparts);
    for (size_t k = 0; k < layout->nparts; k++) {
        if (layout->parts[k] == PROTO_PART_U64) {
            uint64_t v = 0;
            assert_int_equal(proto_get_u64(&pf->parts[k], &v), 0);
            assert_true(v == base + k);
        } else {
            assert_int_equal(pf->parts[k].size, k + 1);
            for (size_t j = 0; j <= k; j++) {
                assert_int_equal(pf->parts[k].data[j], 0x90 + k);
            }
        }
    }
}

static void
test_every_command_round_trips_pair(void **state)
{
    (void)state;
    pair_t p;
    s_pair_open(&p, ZMQ_PAIR, ZMQ_PAIR, "inproc://test-proto-pair");
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        proto_cmd_t cmd = s_commands[i].cmd;
        /* Integers near the top of the range prove all 8 bytes travel. */
        uint64_t base = i % 2 ? UINT64_MAX - 1 : (uint64_t)i << 40;
        zmsg_t *got = s_transfer(s_build(cmd, base), p.client, p.server);
        assert_int_equal(zmsg_size(got), 2 + s_commands[i].nparts);
        proto_frame_t pf;
        assert_int_equal(proto_parse(got, false, &pf), 0);
        assert_null(pf.identity);
        s_check_parts(&pf, cmd, base);
        zmsg_destroy(&got);
    }
    s_pair_close(&p);
}

static void
test_every_command_round_trips_router(void **state)
{
    (void)state;
    pair_t p;
    s_pair_open(&p, ZMQ_ROUTER, ZMQ_DEALER, "inproc://test-proto-router");
    zsock_set_router_mandatory(p.server, 1);
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        proto_cmd_t cmd = s_commands[i].cmd;
        /* DEALER -> ROUTER: the identity frame comes first. */
        zmsg_t *got = s_transfer(s_build(cmd, 1000 + i), p.client, p.server);
        proto_frame_t pf;
        assert_int_equal(proto_parse(got, true, &pf), 0);
        assert_non_null(pf.identity);
        assert_true(zframe_size(pf.identity) > 0);
        s_check_parts(&pf, cmd, 1000 + i);
        /* ROUTER -> DEALER: a reply addressed by that identity, which the dealer gets
           without it. */
        zmsg_t *reply = proto_msg_new_to(pf.identity, cmd);
        zmsg_t *expect = s_build(cmd, 7 * i);
        zmsg_first(expect); /* version */
        zmsg_next(expect);  /* command */
        for (zframe_t *f = zmsg_next(expect); f; f = zmsg_next(expect)) {
            proto_add_bytes(reply, zframe_data(f), zframe_size(f));
        }
        zmsg_destroy(&expect);
        zmsg_destroy(&got);
        zmsg_t *back = s_transfer(reply, p.server, p.client);
        assert_int_equal(proto_parse(back, false, &pf), 0);
        s_check_parts(&pf, cmd, 7 * i);
        zmsg_destroy(&back);
    }
    s_pair_close(&p);
}

/*  Sends msg through the pair, parses it, and checks the rejection. */
static void
s_expect_reject(pair_t *p, zmsg_t *msg, const char *code, const char *reason)
{
    zmsg_t *got = s_transfer(msg, p->client, p->server);
    proto_frame_t pf;
    assert_int_equal(proto_parse(got, false, &pf), CADRE_EPROTO);
    assert_non_null(pf.code);
    assert_string_equal(pf.code, code);
    if (!strstr(pf.reason, reason)) {
        fail_msg("reason '%s' lacks '%s'", pf.reason, reason);
    }
    zmsg_destroy(&got);
}

static void
test_malformed_messages_rejected(void **state)
{
    (void)state;
    pair_t p;
    s_pair_open(&p, ZMQ_PAIR, ZMQ_PAIR, "inproc://test-proto-bad");
    const uint8_t hb = PROTO_HEARTBEAT;
    s_expect_reject(&p, s_raw("CADRE02", 7, &hb, 1), "version",
                    "wrong version frame 'CADRE02' (7 bytes)");
    s_expect_reject(&p, s_raw("CADRE", 5, &hb, 1), "version", "(5 bytes)");
    s_expect_reject(&p, s_raw("CADRE01\n", 8, &hb, 1), "version", "'CADRE01?'");
    s_expect_reject(&p, s_raw("MDPW01\0", 7, &hb, 1), "version", "'MDPW01?'");
    const uint8_t unknown = 0x55;
    s_expect_reject(&p, s_raw(PROTO_VERSION, 7, &unknown, 1), "command", "unknown command 0x55");
    const uint8_t zero = 0x00;
    s_expect_reject(&p, s_raw(PROTO_VERSION, 7, &zero, 1), "command", "unknown command 0x00");
    const uint8_t two[2] = {PROTO_ACK, 0};
    s_expect_reject(&p, s_raw(PROTO_VERSION, 7, two, 2), "frame", "command frame of 2 bytes");
    s_expect_reject(&p, s_raw(PROTO_VERSION, 7, "", 0), "frame", "command frame of 0 bytes");
    s_expect_reject(&p, s_raw(PROTO_VERSION, 7, NULL, 0), "frame", "missing command frame");

    /* Too few frames: SUBMIT without its observation, ACK without its seq, READY bare. */
    zmsg_t *msg = proto_msg_new(PROTO_SUBMIT);
    proto_add_u64(msg, 1);
    s_expect_reject(&p, msg, "frame", "SUBMIT with 1 frame after the command, expected 2");
    msg = proto_msg_new(PROTO_ACK);
    proto_add_u64(msg, 1);
    s_expect_reject(&p, msg, "frame", "ACK with 1 frame after the command, expected 2");
    s_expect_reject(&p, proto_msg_new(PROTO_READY), "frame",
                    "READY with 0 frames after the command, expected 1");
    /* Too many: HEARTBEAT carries nothing; BARRIER carries one seq. */
    msg = proto_msg_new(PROTO_HEARTBEAT);
    proto_add_bytes(msg, "x", 1);
    s_expect_reject(&p, msg, "frame", "HEARTBEAT with 1 frame after the command, expected 0");
    msg = proto_msg_new(PROTO_BARRIER);
    for (int i = 0; i < 5; i++) {
        proto_add_u64(msg, 9);
    }
    s_expect_reject(&p, msg, "frame", "BARRIER with 5 frames after the command, expected 1");
    /* Short and long integer frames. */
    msg = proto_msg_new(PROTO_ACK);
    proto_add_u64(msg, 1);
    proto_add_bytes(msg, "\0\0\0\1", 4);
    s_expect_reject(&p, msg, "frame", "ACK part 1 is an integer of 4 bytes, expected 8");
    msg = proto_msg_new(PROTO_FLUSH);
    proto_add_bytes(msg, "123456789", 9);
    s_expect_reject(&p, msg, "frame", "FLUSH part 0 is an integer of 9 bytes");
    msg = proto_msg_new(PROTO_SUBMIT);
    proto_add_bytes(msg, "", 0);
    proto_add_bytes(msg, "\x80", 1);
    s_expect_reject(&p, msg, "frame", "SUBMIT part 0 is an integer of 0 bytes");
    /* An empty body. */
    msg = proto_msg_new(PROTO_QUERY);
    proto_add_u64(msg, 3);
    proto_add_bytes(msg, "", 0);
    s_expect_reject(&p, msg, "frame", "QUERY part 1 is an empty body");
    s_pair_close(&p);

    /* Messages no socket delivers (no frames at all) are still refused, not crashed on. */
    msg = zmsg_new();
    proto_frame_t pf;
    assert_int_equal(proto_parse(msg, true, &pf), CADRE_EPROTO);
    assert_string_equal(pf.code, "frame");
    assert_non_null(strstr(pf.reason, "no identity frame"));
    assert_int_equal(proto_parse(msg, false, &pf), CADRE_EPROTO);
    assert_non_null(strstr(pf.reason, "missing version frame"));
    zmsg_destroy(&msg);
}

static void
test_rejection_keeps_identity_and_command(void **state)
{
    (void)state;
    pair_t p;
    s_pair_open(&p, ZMQ_ROUTER, ZMQ_DEALER, "inproc://test-proto-reply");
    /* A SUBMIT without its observation: the broker must still be able to answer ERROR. */
    zmsg_t *msg = proto_msg_new(PROTO_SUBMIT);
    proto_add_u64(msg, 77);
    zmsg_t *got = s_transfer(msg, p.client, p.server);
    proto_frame_t pf;
    assert_int_equal(proto_parse(got, true, &pf), CADRE_EPROTO);
    assert_non_null(pf.identity);
    assert_int_equal(pf.cmd, PROTO_SUBMIT);
    assert_string_equal(pf.code, "frame");
    zmsg_t *err = proto_msg_new_to(pf.identity, PROTO_ERROR);
    proto_add_u64(err, 77);
    proto_add_bytes(err, "\x83", 1);
    zmsg_destroy(&got);
    zmsg_t *back = s_transfer(err, p.server, p.client);
    assert_int_equal(proto_parse(back, false, &pf), 0);
    assert_int_equal(pf.cmd, PROTO_ERROR);
    uint64_t ref = 0;
    assert_int_equal(proto_get_u64(&pf.parts[0], &ref), 0);
    assert_true(ref == 77);
    zmsg_destroy(&back);
    /* A wrong version from a ROUTER peer: identity kept, command unknown. */
    msg = s_raw("CADRE00", 7, "\x02", 1);
    got = s_transfer(msg, p.client, p.server);
    assert_int_equal(proto_parse(got, true, &pf), CADRE_EPROTO);
    assert_non_null(pf.identity);
    assert_int_equal(pf.cmd, 0);
    assert_string_equal(pf.code, "version");
    zmsg_destroy(&got);
    s_pair_close(&p);
}

/*  ipc:// socket files are private (or group-shared) whatever the umask. */
static void
test_bind_ipc_modes(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-test-proto.XXXXXX";
    assert_non_null(mkdtemp(dir));
    mode_t old = umask(0);
    for (int group = 0; group < 2; group++) {
        char ep[128];
        snprintf(ep, sizeof ep, "ipc://%s/sock%d", dir, group);
        zsock_t *s = zsock_new(ZMQ_ROUTER);
        assert_int_equal(proto_bind(s, ep, group == 1), 0);
        struct stat st;
        assert_int_equal(stat(ep + 6, &st), 0);
        assert_int_equal(st.st_mode & 0777, group ? 0660 : 0600);
        zsock_destroy(&s);
        unlink(ep + 6);
    }
    umask(old);
    /* The umask is restored after the bind. */
    assert_int_equal(umask(old), old);
    /* A bind that fails reports it. */
    zsock_t *s = zsock_new(ZMQ_ROUTER);
    assert_int_equal(proto_bind(s, "ipc:///nonexistent-dir/x/y", false), -1);
    zsock_destroy(&s);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_table),
        cmocka_unit_test(test_u64_is_big_endian),
        cmocka_unit_test(test_every_command_round_trips_pair),
        cmocka_unit_test(test_every_command_round_trips_router),
        cmocka_unit_test(test_malformed_messages_rejected),
        cmocka_unit_test(test_rejection_keeps_identity_and_command),
        cmocka_unit_test(test_bind_ipc_modes),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed;
}
