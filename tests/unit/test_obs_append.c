/*  test_obs_append.c - the append merge (common/obs_append.c): order-free, idempotent,
    fills what is missing, earliest session wins, limits, and records round-trip through
    both codecs with their new fields. */
#include "err.h"
#include "jsonio.h"
#include "obs_append.h"
#include "wire.h"
#include "xalloc.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  A small deterministic generator (xorshift64*). */
static uint64_t
s_rand(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ull;
}

static const char *
s_pick(uint64_t *st, const char *const *pool, size_t n)
{
    return pool[s_rand(st) % n];
}

/*  A random append of source "att-1" drawn from tiny pools, so ids, values and times
    collide often. */
static obs_t *
s_random_append(uint64_t *st)
{
    static const char *const fps[] = {"aaa", "bbb", "ccc"};
    static const char *const kinds[] = {"jarm", "ssh_client", "tcp_syn"};
    static const char *const ids[] = {"s1", "s2", "s3", "s4", NULL};
    static const char *const deckies[] = {"d1", "d2"};
    static const char *const cmds[] = {"uname -a", "id", "wget http://x/y"};
    obs_t *o = obs_new();
    o->op = OBS_APPEND;
    o->id = xstrdup("att-1");
    if (s_rand(st) % 3 == 0) {
        o->ja3 = xstrdup(s_pick(st, fps, 3));
    }
    if (s_rand(st) % 3 == 0) {
        o->hassh = xstrdup(s_pick(st, fps, 3));
    }
    if (s_rand(st) % 4 == 0) {
        o->ip = xstrdup(s_pick(st, fps, 3));
    }
    if (s_rand(st) % 4 == 0) {
        o->has_asn = true;
        o->asn = (int64_t)(s_rand(st) % 3);
    }
    if (s_rand(st) % 5 == 0) {
        o->truth_campaign = xstrdup(s_pick(st, fps, 3));
    }
    for (int k = 0; k < 2; k++) {
        if (s_rand(st) % 3 == 0) {
            obs_fp_set(o, s_pick(st, kinds, 3), s_pick(st, fps, 3));
        }
    }
    size_t n = s_rand(st) % 3;
    for (size_t i = 0; i < n; i++) {
        obs_session_t *s = obs_add_session(o);
        const char *id = s_pick(st, ids, 5);
        s->id = id ? xstrdup(id) : NULL;
        s->decky = xstrdup(s_pick(st, deckies, 2));
        s->phase = UKC_DISCOVERY;
        s->start = (double)(s_rand(st) % 4) * 10.0;
        if (s_rand(st) % 2) {
            s->commands = xcalloc(1, sizeof *s->commands);
            s->commands[0] = xstrdup(s_pick(st, cmds, 3));
            s->n_commands = 1;
        }
    }
    return o;
}

/*  Merges appends[order[0..n)] one by one from nothing. */
static obs_t *
s_fold(obs_t **appends, const size_t *order, size_t n)
{
    obs_t *m = NULL;
    obs_error_t err;
    for (size_t i = 0; i < n; i++) {
        obs_error_reset(&err, 0, NULL);
        assert_int_equal(obs_append_merge(&m, appends[order[i]], &err), 0);
    }
    return m;
}

/*  Any order of any set of appends ends in the same record; merging any of them again
    changes nothing; the result is a valid record that round-trips through both codecs. */
static void
test_order_free_and_idempotent(void **state)
{
    (void)state;
    uint64_t st = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + s_rand(&st) % 6;
        obs_t *appends[6];
        size_t order[6];
        for (size_t i = 0; i < n; i++) {
            appends[i] = s_random_append(&st);
            order[i] = i;
        }
        obs_t *want = s_fold(appends, order, n);
        for (int perm = 0; perm < 8; perm++) {
            for (size_t i = n; i > 1; i--) {
                size_t j = s_rand(&st) % i;
                size_t t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
            }
            obs_t *got = s_fold(appends, order, n);
            if (!obs_equal(want, got)) {
                fail_msg("round %d: a reordering of %zu appends gave another record", round, n);
            }
            obs_destroy(&got);
        }
        /* Idempotent: every append again changes nothing. */
        obs_error_t err;
        for (size_t i = 0; i < n; i++) {
            obs_t *again = obs_dup(want);
            obs_error_reset(&err, 0, NULL);
            assert_int_equal(obs_append_merge(&again, appends[i], &err), 0);
            assert_true(obs_equal(again, want));
            assert_true(obs_hash(again) == obs_hash(want));
            obs_destroy(&again);
        }
        /* Valid, and read back the same from JSON and MessagePack. */
        obs_error_reset(&err, 0, NULL);
        assert_int_equal(obs_check_record(want, &err), 0);
        char *json = NULL;
        size_t len = 0;
        assert_int_equal(jsonio_obs_encode(want, &json, &len, &err), 0);
        obs_t *back = NULL;
        assert_int_equal(jsonio_obs_decode(json, len, 1, &back, &err), 0);
        assert_true(obs_equal(back, want));
        obs_destroy(&back);
        free(json);
        wire_buf_t buf;
        wire_buf_init(&buf);
        assert_int_equal(wire_obs_encode(want, &buf, &err), 0);
        assert_int_equal(wire_obs_decode(buf.data, buf.len, 1, &back, &err), 0);
        assert_true(obs_equal(back, want));
        obs_destroy(&back);
        wire_buf_free(&buf);
        obs_destroy(&want);
        for (size_t i = 0; i < n; i++) {
            obs_destroy(&appends[i]);
        }
    }
}

static obs_t *
s_session_append(const char *ja3, const char *sid, double start)
{
    obs_t *o = obs_new();
    o->op = OBS_APPEND;
    o->id = xstrdup("att-9");
    o->ja3 = ja3 ? xstrdup(ja3) : NULL;
    if (sid) {
        obs_session_t *s = obs_add_session(o);
        s->id = xstrdup(sid);
        s->phase = UKC_RECONNAISSANCE;
        s->start = start;
    }
    return o;
}

/*  The worked rules: fill what is missing; the earliest session's value wins; ties go to
    the smaller value; an upsert-written record counts from its earliest session; sessions
    are merged by id and sorted by start. */
static void
test_rules(void **state)
{
    (void)state;
    obs_error_t err;
    obs_error_reset(&err, 0, NULL);
    obs_t *m = NULL;
    obs_t *a = s_session_append(NULL, "s2", 20.0);
    assert_int_equal(obs_append_merge(&m, a, &err), 0);
    assert_null(m->ja3);
    assert_int_equal(m->op, OBS_UPSERT);
    obs_t *b = s_session_append("late", "s3", 30.0);
    assert_int_equal(obs_append_merge(&m, b, &err), 0);
    assert_string_equal(m->ja3, "late"); /* filled */
    obs_t *c = s_session_append("early", "s1", 10.0);
    assert_int_equal(obs_append_merge(&m, c, &err), 0);
    assert_string_equal(m->ja3, "early"); /* the earliest session wins */
    assert_true(obs_at_get(m, "ja3") == 10.0);
    assert_int_equal(m->n_sessions, 3);
    assert_string_equal(m->sessions[0].id, "s1");
    assert_string_equal(m->sessions[2].id, "s3");
    obs_t *d = s_session_append("aaa", "s4", 10.0);
    assert_int_equal(obs_append_merge(&m, d, &err), 0);
    assert_string_equal(m->ja3, "aaa"); /* same time: the smaller value */
    obs_t *e = s_session_append("zzz", NULL, 0.0);
    assert_int_equal(obs_append_merge(&m, e, &err), 0);
    assert_string_equal(m->ja3, "aaa"); /* no session: later than any */
    /* An upsert-written record: its fields count from its earliest session (5.0). */
    obs_t *up = s_session_append("upserted", "u1", 5.0);
    up->op = OBS_UPSERT;
    obs_t *f = s_session_append("other", "s9", 7.0);
    assert_int_equal(obs_append_merge(&up, f, &err), 0);
    assert_string_equal(up->ja3, "upserted");
    assert_true(obs_at_get(up, "ja3") == 5.0);
    obs_destroy(&up);
    obs_destroy(&f);
    obs_destroy(&m);
    obs_destroy(&a);
    obs_destroy(&b);
    obs_destroy(&c);
    obs_destroy(&d);
    obs_destroy(&e);
}

/*  A merge past a limit is refused with the field named, and changes nothing. */
static void
test_limits(void **state)
{
    (void)state;
    obs_t *m = obs_new();
    m->id = xstrdup("att-2");
    for (size_t i = 0; i < OBS_MAX_SESSIONS; i++) {
        obs_session_t *s = obs_add_session(m);
        char id[16];
        snprintf(id, sizeof id, "s%zu", i);
        s->id = xstrdup(id);
        s->phase = UKC_RECONNAISSANCE;
        s->start = (double)i;
    }
    uint64_t before = obs_hash(m);
    obs_t *more = s_session_append(NULL, "new", 1.0);
    obs_error_t err;
    obs_error_reset(&err, 0, NULL);
    obs_t *keep = m;
    assert_int_equal(obs_append_merge(&m, more, &err), CADRE_ERECORD);
    assert_ptr_equal(m, keep);
    assert_true(obs_hash(m) == before);
    assert_string_equal(err.field, "sessions");
    obs_destroy(&more);
    obs_destroy(&m);
}

/*  The codecs read "op": "append", "fingerprints" and "append_at", and refuse bad ones. */
static void
test_codecs(void **state)
{
    (void)state;
    static const char good[] =
        "{\"id\": \"a\", \"op\": \"append\", \"fingerprints\": {\"jarm\": \"x\", "
        "\"ssh_client\": null}, \"append_at\": {\"ja3\": 1.5, \"fingerprints.jarm\": null}, "
        "\"sessions\": []}";
    obs_t *o = NULL;
    obs_error_t err;
    obs_error_reset(&err, 0, NULL);
    assert_int_equal(jsonio_obs_decode(good, sizeof good - 1, 1, &o, &err), 0);
    assert_int_equal(o->op, OBS_APPEND);
    assert_int_equal(o->n_fps, 1);
    assert_string_equal(obs_fp_get(o, "jarm"), "x");
    assert_true(obs_at_get(o, "ja3") == 1.5);
    assert_true(isinf(obs_at_get(o, "fingerprints.jarm")));
    obs_destroy(&o);
    static const char *const bad[] = {
        "{\"id\": \"a\", \"fingerprints\": {\"Bad-Kind\": \"x\"}}",
        "{\"id\": \"a\", \"fingerprints\": {\"jarm\": 3}}",
        "{\"id\": \"a\", \"fingerprints\": [\"jarm\"]}",
        "{\"id\": \"a\", \"append_at\": {\"sessions\": 1.0}}",
        "{\"id\": \"a\", \"append_at\": {\"ja3\": \"soon\"}}",
        "{\"id\": \"a\", \"op\": \"merge\"}",
    };
    static const char *const fields[] = {"fingerprints", "fingerprints.jarm", "fingerprints",
                                         "append_at",    "append_at",         "op"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        obs_error_reset(&err, 0, NULL);
        assert_int_equal(jsonio_obs_decode(bad[i], strlen(bad[i]), 1, &o, &err), CADRE_ERECORD);
        assert_string_equal(err.field, fields[i]);
    }
}

/*  -0.0 and 0.0 are one time: the provenance a merge writes does not depend on which of them
    came first, so the order of the appends stays irrelevant (found by the append fuzz
    target: fuzz/regressions/append/negative-zero-start). */
static void
test_signed_zero(void **state)
{
    (void)state;
    obs_error_t err;
    obs_error_reset(&err, 0, NULL);
    obs_t *neg = s_session_append("x", "s1", -0.0);
    obs_t *pos = s_session_append("x", "s2", 0.0);
    obs_t *ab = NULL;
    obs_t *ba = NULL;
    assert_int_equal(obs_append_merge(&ab, neg, &err), 0);
    assert_int_equal(obs_append_merge(&ab, pos, &err), 0);
    assert_int_equal(obs_append_merge(&ba, pos, &err), 0);
    assert_int_equal(obs_append_merge(&ba, neg, &err), 0);
    assert_true(obs_equal(ab, ba));
    assert_true(obs_hash(ab) == obs_hash(ba));
    assert_false(signbit(obs_at_get(ab, "ja3")));
    assert_true(signbit(ab->sessions[0].start)); /* the sessions keep their own times */
    obs_destroy(&ab);
    obs_destroy(&ba);
    obs_destroy(&neg);
    obs_destroy(&pos);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_free_and_idempotent),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_signed_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
