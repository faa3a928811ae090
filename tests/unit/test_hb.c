/*  test_hb.c - the heartbeat state machine driven with explicit times (no sleeping):
    when to send, when a peer is dead, the poll deadline, and the reconnection back-off. */
#include "hb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/*  An arbitrary monotonic origin, far from 0, so nothing depends on times starting at 0. */
#define T0 INT64_C(5000000000)

static void
test_send_when_idle(void **state)
{
    (void)state;
    hb_t hb;
    hb_init(&hb, T0, 1000, 3);
    assert_false(hb_should_send(&hb, T0));
    assert_false(hb_should_send(&hb, T0 + 999));
    assert_true(hb_should_send(&hb, T0 + 1000));
    /* Any message sent counts as a heartbeat: the next one is an interval later. */
    hb_sent(&hb, T0 + 600);
    assert_false(hb_should_send(&hb, T0 + 1000));
    assert_false(hb_should_send(&hb, T0 + 1599));
    assert_true(hb_should_send(&hb, T0 + 1600));
    /* Hearing from the peer does not replace sending to it. */
    hb_heard(&hb, T0 + 1700);
    assert_true(hb_should_send(&hb, T0 + 1700));
}

static void
test_dead_after_liveness_intervals(void **state)
{
    (void)state;
    hb_t hb;
    hb_init(&hb, T0, 1000, 3);
    assert_false(hb_dead(&hb, T0));
    assert_false(hb_dead(&hb, T0 + 2999));
    assert_true(hb_dead(&hb, T0 + 3000));
    /* Sending keeps nobody alive; hearing does. */
    hb_sent(&hb, T0 + 2500);
    assert_true(hb_dead(&hb, T0 + 3000));
    hb_heard(&hb, T0 + 2900);
    assert_false(hb_dead(&hb, T0 + 3000));
    assert_false(hb_dead(&hb, T0 + 5899));
    assert_true(hb_dead(&hb, T0 + 5900));
    /* liveness 1: one silent interval is enough. */
    hb_init(&hb, T0, 250, 1);
    assert_false(hb_dead(&hb, T0 + 249));
    assert_true(hb_dead(&hb, T0 + 250));
}

static void
test_next_deadline(void **state)
{
    (void)state;
    hb_t hb;
    hb_init(&hb, T0, 1000, 3);
    /* Next heartbeat due in a full interval. */
    assert_int_equal(hb_next_deadline(&hb, T0), 1000);
    assert_int_equal(hb_next_deadline(&hb, T0 + 400), 600);
    assert_int_equal(hb_next_deadline(&hb, T0 + 1000), 0);
    assert_int_equal(hb_next_deadline(&hb, T0 + 1500), 0);
    /* Sent often, but silence brings death closer than the next heartbeat. */
    hb_sent(&hb, T0 + 2800);
    assert_int_equal(hb_next_deadline(&hb, T0 + 2800), 200);
    assert_int_equal(hb_next_deadline(&hb, T0 + 2950), 50);
    /* Dead: only the heartbeat deadline counts, so the poll does not spin. */
    assert_true(hb_dead(&hb, T0 + 3000));
    assert_int_equal(hb_next_deadline(&hb, T0 + 3000), 800);
    assert_int_equal(hb_next_deadline(&hb, T0 + 3800), 0);
    /* The loop that follows the deadlines sends exactly once per interval. */
    hb_init(&hb, T0, 1000, 3);
    int64_t now = T0;
    int sent = 0;
    for (int step = 0; step < 100 && now < T0 + 10000; step++) {
        int64_t wait = hb_next_deadline(&hb, now);
        assert_true(wait >= 0 && wait <= 1000);
        now += wait;
        hb_heard(&hb, now); /* a chatty peer never dies */
        if (hb_should_send(&hb, now)) {
            hb_sent(&hb, now);
            sent++;
        }
    }
    assert_int_equal(sent, 10);
}

static void
test_backoff_doubles_to_32s(void **state)
{
    (void)state;
    hb_t hb;
    hb_init(&hb, T0, 1000, 3);
    static const int want[] = {1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(hb_backoff_next(&hb), want[i]);
    }
    hb_backoff_reset(&hb);
    assert_int_equal(hb_backoff_next(&hb), HB_BACKOFF_MIN_MS);
    assert_int_equal(hb_backoff_next(&hb), 2000);
    /* A message from the peer proves the connection: the back-off starts over. */
    hb_heard(&hb, T0 + 10);
    assert_int_equal(hb_backoff_next(&hb), 1000);
    /* Re-initialising (a new connection) also starts over. */
    hb_backoff_next(&hb);
    hb_init(&hb, T0 + 20, 1000, 3);
    assert_int_equal(hb_backoff_next(&hb), 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_when_idle),
        cmocka_unit_test(test_dead_after_liveness_intervals),
        cmocka_unit_test(test_next_deadline),
        cmocka_unit_test(test_backoff_doubles_to_32s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
