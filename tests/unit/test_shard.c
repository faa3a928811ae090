/*  test_shard.c - the shard's reactor (shard.c) against peers the test plays itself over
    ipc:// in a temporary directory.

    A peer that stays unreachable (its host cut off, its process stopped) never answers, so
    what the shard sends it piles up in the socket's queue; once the queue is full
    (ZMQ_SNDHWM) a send waits. The repeated messages (HEARTBEAT, the READY of a silent peer)
    must not wait there: the loop would stop with them, silencing the shard towards its
    other peer too (docs/protocol.md §7, §10). The queue is made 4 messages long here
    (zsys_set_sndhwm), so it fills within half a second instead of after 1000 messages. */
#include "cfg.h"
#include "shard.h"
#include "xalloc.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/*  The merger never answers and never reads (nothing is bound at its endpoint): the shard
    keeps heartbeating the broker, which the test plays and reads, long after its queue
    towards the merger is full, and it stops at once on $TERM. */
static void
test_unreachable_merger_never_blocks(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-test-shard.XXXXXX";
    assert_non_null(mkdtemp(dir));
    cfg_t cfg;
    cfg_defaults(&cfg);
    free(cfg.data_dir);
    free(cfg.broker.backend);
    free(cfg.merger.shards);
    cfg.data_dir = xstrdup(dir);
    cfg.broker.backend = xasprintf("ipc://%s/backend", dir);
    cfg.merger.shards = xasprintf("ipc://%s/merger-shards", dir);
    cfg.shards = 1;
    cfg.heartbeat_ms = 100;
    cfg.liveness = 3;
    cfg.shard.map_size_mb = 16;

    zsys_set_sndhwm(S_HWM);
    zsock_t *broker = zsock_new_router(cfg.broker.backend);
    assert_non_null(broker);
    shard_args_t args = {.cfg = &cfg, .id = 0};
    zactor_t *shard = zactor_new(shard_actor, &args);
    assert_non_null(shard);

    /* 100 ms heartbeats and a READY every 300 ms fill the merger's queue within 0.4 s; the
       broker must still hear the shard in the second after that. */
    s_count_for(broker, 1000);
    int heard = s_count_for(broker, 1000);

    /* Let whatever is queued towards the merger drain (a blocked send completes), so the
       actor can stop whatever the outcome and nothing hangs at exit. */
    zsock_t *merger = zsock_new_router(cfg.merger.shards);
    assert_non_null(merger);
    int64_t t0 = zclock_mono();
    zactor_destroy(&shard);
    int64_t stop_ms = zclock_mono() - t0;
    zsock_destroy(&merger);
    zsock_destroy(&broker);
    zsys_set_sndhwm(1000);

    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
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
        cmocka_unit_test(test_unreachable_merger_never_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
