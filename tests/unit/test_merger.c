/*  test_merger.c - the merger's reactor (merger.c) against peers the test plays itself over
    inproc://.

    A shard that stays unreachable with its connection open (its host cut off, or the
    process stopped) reads nothing, so the merger's heartbeats to it pile up in the queue of
    the shard socket; once the queue is full (ZMQ_SNDHWM) a send waits. Heartbeats must not
    wait there: the merger's loop would stop with them, and the broker would declare the
    merger dead too (docs/protocol.md §7, §10). The queues are made 4 messages long here
    (zsys_set_sndhwm/rcvhwm; an inproc pipe holds both ends' worth), so the shard's fills
    within a second instead of after 1000 heartbeats.

    Also: FORESTS that arrived before the records they name wait in the merger (the early
    list) and are retried on every turn of its loop; a retry is not news from the shard, so
    a shard cut off after sending them is still declared dead. */
#include "cfg.h"
#include "merger.h"
#include "proto.h"
#include "wire.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <czmq.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define S_HWM 4 /* queue length of the sockets made here */

/*  Reads what arrives on sock for ms milliseconds; returns the number of messages. */
static int
s_count_for(zsock_t *sock, int ms)
{
    int n = 0;
    int64_t until = zclock_mono() + ms;
    for (int64_t now = zclock_mono(); now < until; now = zclock_mono()) {
        zmq_pollitem_t item = {zsock_resolve(sock), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, until - now) > 0) {
            zmsg_t *m = zmsg_recv(sock);
            n += m != NULL;
            zmsg_destroy(&m);
        }
    }
    return n;
}

/*  A cfg for one merger and one shard over inproc:// names made from tag, with its data in
    dir and 100 ms heartbeats. Clear it with cfg_clear(). */
static void
s_cfg(cfg_t *cfg, const char *dir, const char *tag)
{
    cfg_defaults(cfg);
    free(cfg->data_dir);
    free(cfg->broker.backend);
    free(cfg->merger.shards);
    free(cfg->merger.events);
    free(cfg->merger.query);
    cfg->data_dir = xstrdup(dir);
    cfg->broker.backend = xasprintf("inproc://%s-backend", tag);
    cfg->merger.shards = xasprintf("inproc://%s-shards", tag);
    cfg->merger.events = xasprintf("inproc://%s-events", tag);
    cfg->merger.query = xasprintf("inproc://%s-query", tag);
    cfg->shards = 1;
    cfg->heartbeat_ms = 100;
    cfg->liveness = 3;
    cfg->merger.map_size_mb = 16;
}

/*  A DEALER playing shard 0 towards the merger of cfg; it has sent READY. */
static zsock_t *
s_shard_new(const cfg_t *cfg)
{
    zsock_t *shard = zsock_new(ZMQ_DEALER);
    zsock_set_identity(shard, "shard-0");
    assert_int_equal(zsock_connect(shard, "%s", cfg->merger.shards), 0);
    wmsg_ready_t r = {.role = "shard", .id = 0, .shards = 1, .applied = 0, .barrier = 0};
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_ready_encode(&r, &buf);
    zmsg_t *m = proto_msg_new(PROTO_READY);
    proto_add_body(m, &buf);
    wire_buf_free(&buf);
    assert_int_equal(zmsg_send(&m, shard), 0);
    return shard;
}

static void
s_remove_dir(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/*  Shard 0 sends FORESTS for barrier 500, ahead of the records (the broker, played by the
    test, streams nothing), and then nothing: after liveness × heartbeat_ms the merger
    declares it dead, however often it retries the waiting FORESTS. The merger's log (its
    stderr) is read back. */
static void
test_waiting_forests_are_not_heartbeats(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-test-merger.XXXXXX";
    assert_non_null(mkdtemp(dir));
    cfg_t cfg;
    s_cfg(&cfg, dir, "test-merger-early");
    char *log_path = xasprintf("%s/stderr", dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);

    zsock_t *broker = zsock_new_router("@inproc://test-merger-early-backend");
    zactor_t *merger = zactor_new(merger_actor, &cfg);
    zsock_t *shard = s_shard_new(&cfg);
    wmsg_forests_t none = {0};
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_forests_encode(&none, &buf);
    zmsg_t *m = proto_msg_new(PROTO_FORESTS);
    proto_add_u64(m, 500);
    proto_add_body(m, &buf);
    wire_buf_free(&buf);
    assert_int_equal(zmsg_send(&m, shard), 0);
    s_count_for(broker, 1500); /* five liveness periods of silence from the shard */
    zactor_destroy(&merger);
    zsock_destroy(&shard);
    zsock_destroy(&broker);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *cmd = xasprintf("grep -q 'merger: shard 0 dead (silent' '%s'", log_path);
    int found = system(cmd);
    free(cmd);
    free(log_path);
    s_remove_dir(dir);
    cfg_clear(&cfg);
    assert_int_equal(found, 0);
}

/*  Shard 0 announces itself and then reads nothing: the merger keeps heartbeating the
    broker (played and read by the test) long after its queue towards the shard is full. */
static void
test_stalled_shard_never_blocks(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-test-merger.XXXXXX";
    assert_non_null(mkdtemp(dir));
    cfg_t cfg;
    s_cfg(&cfg, dir, "test-merger-stalled");

    zsys_set_sndhwm(S_HWM);
    zsys_set_rcvhwm(S_HWM);
    zsock_t *broker = zsock_new_router("@inproc://test-merger-stalled-backend");
    assert_non_null(broker);
    zactor_t *merger = zactor_new(merger_actor, &cfg);
    assert_non_null(merger);
    zsock_t *shard = s_shard_new(&cfg);

    /* 100 ms heartbeats fill the shard's queue (both ends: 8) within a second; the broker
       must still hear the merger in the second after that. */
    s_count_for(broker, 1500);
    int heard = s_count_for(broker, 1000);

    /* The shard reads what waits for it, so a send still waiting completes and the actor
       stops whatever the outcome (before the queue is full again): nothing hangs at exit. */
    s_count_for(shard, 100);
    int64_t t0 = zclock_mono();
    zactor_destroy(&merger);
    int64_t stop_ms = zclock_mono() - t0;
    zsock_destroy(&shard);
    zsock_destroy(&broker);
    zsys_set_sndhwm(1000);
    zsys_set_rcvhwm(1000);

    s_remove_dir(dir);
    cfg_clear(&cfg);

    /* About 10 heartbeats and 3 READYs a second; at least 5 allows for a loaded machine. */
    assert_true(heard >= 5);
    assert_true(stop_ms < 1000);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stalled_shard_never_blocks),
        cmocka_unit_test(test_waiting_forests_are_not_heartbeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
