/*  test_shard_store.c - one shard's durable key index (shard_store.h).

    Every test opens its store in a fresh mkdtemp directory, removed by the teardown. The
    dirty set is checked through a text rendering of shard_store_each_dirty():
    "<family>:<value>{id(ja3,hassh,ja4) ...}" per block, where the family letters are
    J (ja3), 4 (ja4), H (hassh), P (payload), C (c2) and '-' is an absent (or masked)
    fingerprint.
*/
#include "shard_store.h"

#include "ccfg.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/*  The per-test fixture: a temporary directory and the store open in it. */
typedef struct {
    char dir[64];         /* the mkdtemp directory */
    shard_store_t *store; /* open in dir (NULL while closed) */
} fixture_t;

/*  A growing text buffer. */
typedef struct {
    char *s;    /* NUL-terminated text */
    size_t len; /* strlen(s) */
    size_t cap; /* allocated bytes */
} text_t;

static void
text_add(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-shard-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->store = shard_store_open(f->dir, 0);
    assert_non_null(f->store);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    shard_store_destroy(&f->store);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/*  Closes and reopens the fixture's store. */
static void
reopen(fixture_t *f)
{
    shard_store_destroy(&f->store);
    assert_null(f->store);
    f->store = shard_store_open(f->dir, 0);
    assert_non_null(f->store);
}

static char
family_letter(int family)
{
    static const char letters[KEY_FAMILY_COUNT] = {'J', '4', 'H', 'P', 'C', 'D', 'K'};
    return family >= 0 && family < KEY_FAMILY_COUNT ? letters[family] : '?';
}

static int
render_block(int family, const char *value, const char *const *members,
             const char *const (*triples)[3], size_t n, void *arg)
{
    text_t *t = arg;
    text_add(t, "%c:%s{", family_letter(family), value);
    for (size_t i = 0; i < n; i++) {
        text_add(t, "%s%s(%s,%s,%s)", i ? " " : "", members[i], triples[i][0] ? triples[i][0] : "-",
                 triples[i][1] ? triples[i][1] : "-", triples[i][2] ? triples[i][2] : "-");
    }
    text_add(t, "}");
    return 0;
}

/*  The dirty set rendered as text; the caller frees it. */
static char *
dirty_text(shard_store_t *s)
{
    text_t t = {0};
    text_add(&t, "%s", "");
    assert_int_equal(shard_store_each_dirty(s, render_block, &t), 0);
    return t.s;
}

static void
assert_dirty(shard_store_t *s, const char *expected)
{
    char *got = dirty_text(s);
    assert_string_equal(got, expected);
    free(got);
}

static int
render_flip(int family, const char *value, bool generic, void *arg)
{
    text_t *t = arg;
    text_add(t, "%s%c:%s", generic ? "+" : "-", family_letter(family), value);
    return 0;
}

/*  The flips for cutoff rendered as text ("+P:x-J:y"); the caller frees it. */
static char *
flips_text(shard_store_t *s, const uint64_t cutoff[CCFG_GENERIC_FAMILIES])
{
    text_t t = {0};
    text_add(&t, "%s", "");
    assert_int_equal(shard_store_generic_flips(s, cutoff, render_flip, &t), 0);
    return t.s;
}

static void
assert_flips(shard_store_t *s, const uint64_t cutoff[CCFG_GENERIC_FAMILIES], const char *expected)
{
    char *got = flips_text(s, cutoff);
    assert_string_equal(got, expected);
    free(got);
}

/*  Applies id with up to four keys given as "P:value" strings and the triple. */
static int
apply(shard_store_t *s, uint64_t seq, const char *id, const char *ja3, const char *hassh,
      const char *ja4, const char *k1, const char *k2, const char *k3, const char *k4)
{
    const char *in[4] = {k1, k2, k3, k4};
    shard_key_t keys[4];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (!in[i]) {
            continue;
        }
        int family = -1;
        for (int fam = 0; fam < KEY_FAMILY_COUNT; fam++) {
            if (family_letter(fam) == in[i][0]) {
                family = fam;
            }
        }
        assert_true(family >= 0 && in[i][1] == ':');
        keys[n++] = (shard_key_t){family, in[i] + 2};
    }
    const char *const triple[3] = {ja3, hassh, ja4};
    return shard_store_apply(s, seq, id, keys, n, triple);
}

static void
barrier(shard_store_t *s, uint64_t seq)
{
    assert_int_equal(shard_store_barrier_done(s, seq), 0);
    assert_int_equal(shard_store_dirty_count(s), 0);
    assert_int_equal(shard_store_last_barrier(s), seq);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*  ------------------------------------------------------------------------------------ */

/*  Apply, replace and remove keep membership and holder counts exact. */
static void
test_apply_replace_remove(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    assert_int_equal(shard_store_applied(s), 0);
    assert_int_equal(shard_store_last_barrier(s), 0);

    /* a key listed twice counts once */
    assert_int_equal(apply(s, 1, "a", "j1", NULL, NULL, "P:x", "C:y", "J:j1", "P:x"), 0);
    assert_int_equal(apply(s, 2, "b", "j2", "h2", NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_applied(s), 2);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 2);
    assert_int_equal(shard_store_holders(s, KEY_C2, "y"), 1);
    assert_int_equal(shard_store_holders(s, KEY_JA3, "j1"), 1);
    /* families never collide */
    assert_int_equal(shard_store_holders(s, KEY_C2, "x"), 0);
    assert_dirty(s, "J:j1{a(j1,-,-)}P:x{a(j1,-,-) b(j2,h2,-)}C:y{a(j1,-,-)}");

    /* replace: a leaves x and y and joins z */
    assert_int_equal(apply(s, 3, "a", NULL, NULL, "q4", "P:z", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 1);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "z"), 1);
    assert_int_equal(shard_store_holders(s, KEY_C2, "y"), 0);
    assert_int_equal(shard_store_holders(s, KEY_JA3, "j1"), 0);
    assert_dirty(s, "J:j1{}P:x{b(j2,h2,-)}P:z{a(-,-,q4)}C:y{}");

    /* remove */
    assert_int_equal(shard_store_apply(s, 4, "b", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 0);
    /* removing an id that is not there only advances the seq */
    assert_int_equal(shard_store_apply(s, 5, "never", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_applied(s), 5);
    assert_dirty(s, "J:j1{}P:x{}P:z{a(-,-,q4)}C:y{}");

    /* an id re-added after removal */
    assert_int_equal(apply(s, 6, "b", NULL, NULL, NULL, "P:z", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "z"), 2);
    assert_dirty(s, "J:j1{}P:x{}P:z{a(-,-,q4) b(-,-,-)}C:y{}");
}

/*  The same, inside one batch, and an aborted batch leaves nothing behind. */
static void
test_batches(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    assert_int_equal(shard_store_begin(s), 0);
    assert_int_equal(apply(s, 1, "a", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(apply(s, 2, "b", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    /* reads see the open batch */
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 2);
    assert_int_equal(shard_store_applied(s), 2);
    assert_int_equal(shard_store_commit(s), 0);

    assert_int_equal(shard_store_begin(s), 0);
    assert_int_equal(apply(s, 3, "c", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_barrier_done(s, 3), 0);
    assert_int_equal(shard_store_last_barrier(s), 3);
    shard_store_abort(s);
    assert_int_equal(shard_store_applied(s), 2);
    assert_int_equal(shard_store_last_barrier(s), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 2);
    assert_dirty(s, "P:x{a(-,-,-) b(-,-,-)}");
    /* abort without a batch is harmless */
    shard_store_abort(s);
}

/*  Dirty marking: joined and left blocks; a triple change dirties only the id's payload and
    c2 blocks; an unchanged re-apply dirties nothing. */
static void
test_dirty_rules(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    assert_int_equal(apply(s, 1, "a", "j1", "h1", NULL, "J:j1", "H:h1", "P:p", "C:c"), 0);
    assert_int_equal(apply(s, 2, "b", "j1", NULL, NULL, "J:j1", "P:p", NULL, NULL), 0);
    barrier(s, 2);

    /* unchanged: nothing dirty, the seq still advances */
    assert_int_equal(apply(s, 3, "a", "j1", "h1", NULL, "C:c", "P:p", "H:h1", "J:j1"), 0);
    assert_int_equal(shard_store_dirty_count(s), 0);
    assert_int_equal(shard_store_applied(s), 3);

    /* joined */
    assert_int_equal(apply(s, 4, "a", "j1", "h1", NULL, "J:j1", "H:h1", "P:p", "P:new"), 0);
    assert_dirty(s, "P:new{a(j1,h1,-)}C:c{}");
    barrier(s, 4);

    /* left */
    assert_int_equal(apply(s, 5, "a", "j1", "h1", NULL, "J:j1", "H:h1", "P:p", NULL), 0);
    assert_dirty(s, "P:new{}");
    barrier(s, 5);

    /* triple change only: payload/c2 blocks of the id, not its fingerprint blocks */
    assert_int_equal(apply(s, 6, "b", "j1", "h9", NULL, "J:j1", "P:p", NULL, NULL), 0);
    assert_dirty(s, "P:p{a(j1,h1,-) b(j1,h9,-)}");
    barrier(s, 6);
    /* a fingerprint slot turning absent is a change too */
    assert_int_equal(apply(s, 7, "b", "j1", NULL, NULL, "J:j1", "P:p", NULL, NULL), 0);
    assert_dirty(s, "P:p{a(j1,h1,-) b(j1,-,-)}");
    barrier(s, 7);

    /* triple change together with a join: both kinds of block */
    assert_int_equal(apply(s, 8, "b", "j2", NULL, NULL, "J:j1", "P:p", "C:c2", NULL), 0);
    assert_dirty(s, "P:p{a(j1,h1,-) b(j2,-,-)}C:c2{b(j2,-,-)}");
    barrier(s, 8);

    /* removal dirties every block the id was in */
    assert_int_equal(shard_store_apply(s, 9, "a", NULL, 0, NULL), 0);
    assert_dirty(s, "J:j1{b(j2,-,-)}H:h1{}P:p{b(j2,-,-)}");
}

/*  Replays (seq <= applied) change nothing, inside and outside a batch. */
static void
test_replay_skip(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    assert_int_equal(apply(s, 5, "a", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    barrier(s, 5);
    assert_int_equal(apply(s, 5, "a", NULL, NULL, NULL, "P:y", NULL, NULL, NULL), 0);
    assert_int_equal(apply(s, 3, "b", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_apply(s, 4, "a", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_applied(s), 5);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 1);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "y"), 0);
    assert_int_equal(shard_store_dirty_count(s), 0);

    assert_int_equal(shard_store_begin(s), 0);
    assert_int_equal(apply(s, 6, "b", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(apply(s, 6, "c", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(apply(s, 7, "c", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_commit(s), 0);
    assert_int_equal(shard_store_applied(s), 7);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 3);

    /* a barrier replay does not clear later dirtiness */
    assert_int_equal(shard_store_barrier_done(s, 5), 0);
    assert_int_equal(shard_store_last_barrier(s), 5);
    assert_int_equal(shard_store_dirty_count(s), 1);
}

/*  Holder counts crossing the cutoff: generic iff holders > cutoff, reported once per
    barrier, in both directions. */
static void
test_generic_flips(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    const uint64_t cutoff[CCFG_GENERIC_FAMILIES] = {[KEY_JA3] = 3, [KEY_PAYLOAD] = 2};
    const uint64_t off[CCFG_GENERIC_FAMILIES] = {0};

    assert_int_equal(apply(s, 1, "a", NULL, NULL, NULL, "P:x", "J:j", NULL, NULL), 0);
    assert_int_equal(apply(s, 2, "b", NULL, NULL, NULL, "P:x", "J:j", NULL, NULL), 0);
    /* exactly at the cutoff is not generic */
    assert_flips(s, cutoff, "");
    barrier(s, 2);

    assert_int_equal(apply(s, 3, "c", NULL, NULL, NULL, "P:x", "J:j", "P:y", NULL), 0);
    assert_flips(s, cutoff, "+P:x");
    /* asking again before COMMIT gives the same answer; disabled cutoffs give none */
    assert_flips(s, cutoff, "+P:x");
    assert_flips(s, off, "");
    /* COMMIT records the flip; it is not reported again */
    assert_int_equal(shard_store_set_generic(s, KEY_PAYLOAD, "x", true), 0);
    assert_true(shard_store_is_generic(s, KEY_PAYLOAD, "x"));
    assert_false(shard_store_is_generic(s, KEY_C2, "x"));
    assert_flips(s, cutoff, "");
    barrier(s, 3);
    assert_flips(s, cutoff, "");

    /* more holders of a generic key: no flip */
    assert_int_equal(apply(s, 4, "d", NULL, NULL, NULL, "P:x", NULL, NULL, NULL), 0);
    assert_flips(s, cutoff, "");
    barrier(s, 4);

    /* up and back down within one interval: no flip */
    assert_int_equal(apply(s, 5, "e", NULL, NULL, NULL, "J:j", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_JA3, "j"), 4);
    assert_int_equal(shard_store_apply(s, 6, "e", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_apply(s, 7, "d", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_JA3, "j"), 3);
    assert_flips(s, cutoff, "");
    barrier(s, 7);

    /* down: x falls to the cutoff (2 holders), no longer generic */
    assert_int_equal(shard_store_apply(s, 8, "c", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 2);
    assert_flips(s, cutoff, "-P:x");
    assert_int_equal(shard_store_set_generic(s, KEY_PAYLOAD, "x", false), 0);
    assert_false(shard_store_is_generic(s, KEY_PAYLOAD, "x"));
    assert_flips(s, cutoff, "");
    barrier(s, 8);

    /* several at once, in key order; a dissolved generic block flips back */
    for (uint64_t i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "n%llu", (unsigned long long)i);
        assert_int_equal(apply(s, 9 + i, id, NULL, NULL, NULL, "P:y", "J:j", NULL, NULL), 0);
    }
    assert_flips(s, cutoff, "+J:j+P:y");
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, "j", true), 0);
    assert_int_equal(shard_store_set_generic(s, KEY_PAYLOAD, "y", true), 0);
    barrier(s, 12);
    for (uint64_t i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "n%llu", (unsigned long long)i);
        assert_int_equal(shard_store_apply(s, 13 + i, id, NULL, 0, NULL), 0);
    }
    assert_int_equal(shard_store_apply(s, 17, "c", NULL, 0, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "y"), 0);
    assert_flips(s, cutoff, "-J:j-P:y");
}

/*  A flip stops the iteration when the callback says so. */
static int
stop_at_first(int family, const char *value, bool generic, void *arg)
{
    (void)family;
    (void)value;
    (void)generic;
    int *calls = arg;
    (*calls)++;
    return 42;
}

static void
test_callback_stops(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    const uint64_t cutoff[CCFG_GENERIC_FAMILIES] = {1, 1, 1, 1, 1};
    assert_int_equal(apply(s, 1, "a", NULL, NULL, NULL, "P:x", "P:y", NULL, NULL), 0);
    assert_int_equal(apply(s, 2, "b", NULL, NULL, NULL, "P:x", "P:y", NULL, NULL), 0);
    int calls = 0;
    assert_int_equal(shard_store_generic_flips(s, cutoff, stop_at_first, &calls), 42);
    assert_int_equal(calls, 1);
}

/*  COMMIT of a fingerprint value dirties the payload/c2 blocks of the ids holding it, and
    each_dirty masks generic fingerprints. */
static void
test_set_generic_dirties(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    assert_int_equal(apply(s, 1, "a", "j1", "h1", "q1", "J:j1", "P:p1", "C:c1", NULL), 0);
    assert_int_equal(apply(s, 2, "b", "j2", "h1", NULL, "P:p2", NULL, NULL, NULL), 0);
    assert_int_equal(apply(s, 3, "c", "j1", NULL, NULL, "J:j1", NULL, NULL, NULL), 0);
    assert_int_equal(apply(s, 4, "d", NULL, NULL, NULL, "P:p2", NULL, NULL, NULL), 0);
    barrier(s, 4);

    /* j1's own block (held here) and the payload/c2 blocks of a; c has none */
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, "j1", true), 0);
    assert_dirty(s, "J:j1{a(-,h1,q1) c(-,-,-)}P:p1{a(-,h1,q1)}C:c1{a(-,h1,q1)}");
    barrier(s, 5);
    /* setting the status it already has changes nothing */
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, "j1", true), 0);
    assert_int_equal(shard_store_dirty_count(s), 0);

    /* a hassh value held by a and b (owned by another shard: no block of its own here) */
    assert_int_equal(shard_store_set_generic(s, KEY_HASSH, "h1", true), 0);
    assert_false(shard_store_is_generic(s, KEY_JA3, "h1"));
    assert_true(shard_store_is_generic(s, KEY_HASSH, "h1"));
    assert_dirty(s, "P:p1{a(-,-,q1)}P:p2{b(j2,-,-) d(-,-,-)}C:c1{a(-,-,q1)}");
    barrier(s, 6);

    /* ja4 is the third slot */
    assert_int_equal(shard_store_set_generic(s, KEY_JA4, "q1", true), 0);
    assert_dirty(s, "P:p1{a(-,-,-)}C:c1{a(-,-,-)}");
    barrier(s, 7);

    /* back to specific */
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, "j1", false), 0);
    assert_dirty(s, "J:j1{a(j1,-,-) c(j1,-,-)}P:p1{a(j1,-,-)}C:c1{a(j1,-,-)}");
    barrier(s, 8);

    /* a payload value: only its own block */
    assert_int_equal(shard_store_set_generic(s, KEY_PAYLOAD, "p2", true), 0);
    assert_dirty(s, "P:p2{b(j2,-,-) d(-,-,-)}");
    barrier(s, 9);
    /* a value this shard holds nowhere is recorded but dirties nothing */
    assert_int_equal(shard_store_set_generic(s, KEY_C2, "elsewhere", true), 0);
    assert_true(shard_store_is_generic(s, KEY_C2, "elsewhere"));
    assert_int_equal(shard_store_dirty_count(s), 0);

    /* after a triple change the index follows: j2 now belongs to a */
    assert_int_equal(apply(s, 10, "a", "j2", "h1", "q1", "J:j1", "P:p1", "C:c1", NULL), 0);
    barrier(s, 10);
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, "j2", true), 0);
    assert_dirty(s, "P:p1{a(-,-,-)}P:p2{b(-,-,-) d(-,-,-)}C:c1{a(-,-,-)}");

    assert_int_equal(shard_store_set_generic(s, KEY_DECKY, "x", true), -EINVAL);
    assert_int_equal(shard_store_set_generic(s, -1, "x", true), -EINVAL);
}

/*  Everything survives close and reopen. */
static void
test_persistence(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(apply(f->store, 1, "a", "j1", NULL, NULL, "J:j1", "P:p", NULL, NULL), 0);
    assert_int_equal(apply(f->store, 2, "b", "j1", "h", NULL, "J:j1", "P:p", "C:c", NULL), 0);
    assert_int_equal(shard_store_set_generic(f->store, KEY_HASSH, "h", true), 0);
    barrier(f->store, 2);
    assert_int_equal(apply(f->store, 3, "c", NULL, NULL, "q", "P:p", "P:r", NULL, NULL), 0);
    assert_int_equal(shard_store_set_generic(f->store, KEY_JA3, "j1", true), 0);
    char *before = dirty_text(f->store);
    assert_string_equal(before, "J:j1{a(-,-,-) b(-,-,-)}P:p{a(-,-,-) b(-,-,-) c(-,-,q)}"
                                "P:r{c(-,-,q)}C:c{b(-,-,-)}");

    reopen(f);
    shard_store_t *s = f->store;
    assert_int_equal(shard_store_applied(s), 3);
    assert_int_equal(shard_store_last_barrier(s), 2);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "p"), 3);
    assert_int_equal(shard_store_holders(s, KEY_JA3, "j1"), 2);
    assert_int_equal(shard_store_holders(s, KEY_C2, "c"), 1);
    assert_true(shard_store_is_generic(s, KEY_HASSH, "h"));
    assert_true(shard_store_is_generic(s, KEY_JA3, "j1"));
    assert_false(shard_store_is_generic(s, KEY_PAYLOAD, "p"));
    assert_dirty(s, before);
    free(before);

    /* the reopened store keeps working: replays still skip, the barrier clears */
    assert_int_equal(apply(s, 3, "z", NULL, NULL, NULL, "P:p", NULL, NULL, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "p"), 3);
    barrier(s, 3);
    reopen(f);
    assert_int_equal(shard_store_dirty_count(f->store), 0);
    assert_int_equal(shard_store_last_barrier(f->store), 3);
}

/*  A process that dies in the middle of a batch leaves exactly the last commit. */
static void
test_crash_mid_batch(void **state)
{
    fixture_t *f = *state;
    /* LMDB environments must not cross fork(): the child opens its own */
    shard_store_destroy(&f->store);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        shard_store_t *c = shard_store_open(f->dir, 0);
        int bad = !c;
        bad |= c && shard_store_begin(c) != 0;
        bad |= c && apply(c, 1, "a", "j", NULL, NULL, "P:x", "J:j", NULL, NULL) != 0;
        bad |= c && apply(c, 2, "b", "j", NULL, NULL, "P:x", NULL, NULL, NULL) != 0;
        bad |= c && shard_store_set_generic(c, KEY_JA3, "j", true) != 0;
        bad |= c && shard_store_commit(c) != 0;
        bad |= c && shard_store_begin(c) != 0;
        bad |= c && apply(c, 3, "c", NULL, NULL, NULL, "P:x", "C:y", NULL, NULL) != 0;
        bad |= c && shard_store_apply(c, 4, "a", NULL, 0, NULL) != 0;
        bad |= c && shard_store_set_generic(c, KEY_JA3, "j", false) != 0;
        bad |= c && shard_store_barrier_done(c, 4) != 0;
        /* dies holding the write transaction, without closing anything */
        _exit(bad ? 3 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    f->store = shard_store_open(f->dir, 0);
    assert_non_null(f->store);
    shard_store_t *s = f->store;
    assert_int_equal(shard_store_applied(s), 2);
    assert_int_equal(shard_store_last_barrier(s), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 2);
    assert_int_equal(shard_store_holders(s, KEY_C2, "y"), 0);
    assert_true(shard_store_is_generic(s, KEY_JA3, "j"));
    assert_dirty(s, "J:j{a(-,-,-)}P:x{a(-,-,-) b(-,-,-)}");
    /* the dead writer's lock is recovered: the inputs after the commit apply again */
    assert_int_equal(apply(s, 3, "c", NULL, NULL, NULL, "P:x", "C:y", NULL, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 3);
}

/*  A full map is an error, never a crash; the batch is lost and the store still usable. */
static void
test_map_full(void **state)
{
    fixture_t *f = *state;
    shard_store_destroy(&f->store);
    f->store = shard_store_open(f->dir, 64 * 1024);
    assert_non_null(f->store);
    shard_store_t *s = f->store;
    char big[400];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    uint64_t seq = 0;
    uint64_t committed = 0;
    int rc = 0;
    while (rc == 0 && seq < 100000) {
        rc = shard_store_begin(s);
        for (int i = 0; rc == 0 && i < 10; i++) {
            char id[32];
            char val[32];
            seq++;
            snprintf(id, sizeof id, "id-%llu", (unsigned long long)seq);
            snprintf(val, sizeof val, "%llu", (unsigned long long)seq);
            const shard_key_t keys[2] = {{KEY_PAYLOAD, val}, {KEY_C2, big}};
            const char *const triple[3] = {big, NULL, val};
            rc = shard_store_apply(s, seq, id, keys, 2, triple);
        }
        if (rc == 0) {
            rc = shard_store_commit(s);
        }
        if (rc == 0) {
            committed = seq;
        }
    }
    assert_int_equal(rc, CADRE_EFULL);
    assert_true(committed > 0);
    /* the failed batch was aborted */
    assert_int_equal(shard_store_applied(s), committed);
    assert_int_equal(shard_store_holders(s, KEY_C2, big), committed);
    /* reads and a fresh batch still work */
    assert_int_equal(shard_store_begin(s), 0);
    shard_store_abort(s);
    reopen(f);
    assert_int_equal(shard_store_applied(f->store), committed);
    assert_int_equal(shard_store_holders(f->store, KEY_C2, big), committed);
}

/*  Values too long for an LMDB key are stored hashed and still come back whole. */
static void
test_long_values(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    size_t n = 4096;
    char *v1 = malloc(n + 1);
    char *v2 = malloc(n + 1);
    assert_non_null(v1);
    assert_non_null(v2);
    memset(v1, 'a', n);
    memset(v2, 'a', n);
    v1[n] = v2[n] = '\0';
    v2[n - 1] = 'b'; /* differs from v1 only in the last byte */
    const shard_key_t k1[2] = {{KEY_JA3, v1}, {KEY_PAYLOAD, "p"}};
    const shard_key_t k2[2] = {{KEY_JA3, v2}, {KEY_PAYLOAD, "p"}};
    const char *const t1[3] = {v1, NULL, NULL};
    const char *const t2[3] = {v2, NULL, NULL};
    assert_int_equal(shard_store_apply(s, 1, "a", k1, 2, t1), 0);
    assert_int_equal(shard_store_apply(s, 2, "b", k2, 2, t2), 0);
    assert_int_equal(shard_store_apply(s, 3, "c", k1, 1, t1), 0);
    assert_int_equal(shard_store_holders(s, KEY_JA3, v1), 2);
    assert_int_equal(shard_store_holders(s, KEY_JA3, v2), 1);
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, v1, true), 0);
    assert_true(shard_store_is_generic(s, KEY_JA3, v1));
    assert_false(shard_store_is_generic(s, KEY_JA3, v2));
    const uint64_t cutoff[CCFG_GENERIC_FAMILIES] = {[KEY_JA3] = 1};
    char *flips = flips_text(s, cutoff);
    /* v1 (2 holders) agrees with the generic set; v2 (1 holder) is not generic */
    assert_string_equal(flips, "");
    free(flips);
    char *text = dirty_text(s);
    /* P:p, then the two hashed J keys in hash order: compare by content */
    assert_non_null(strstr(text, "P:p{a(-,-,-) b("));
    size_t l1 = strlen("J:") + n + strlen("{a(-,-,-) c(-,-,-)}");
    size_t l2 = strlen("J:") + n + strlen("{b(") + n + strlen(",-,-)}");
    assert_int_equal(strlen(text), l1 + l2 + strlen("P:p{a(-,-,-) b(") + n + strlen(",-,-)}"));
    char *want1 = malloc(l1 + 1);
    assert_non_null(want1);
    snprintf(want1, l1 + 1, "J:%s{a(-,-,-) c(-,-,-)}", v1);
    assert_non_null(strstr(text, want1));
    free(want1);
    free(text);
    free(v1);
    free(v2);
}

/*  Argument errors change nothing. */
static void
test_bad_arguments(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    char id[SHARD_STORE_MAX_ID + 2];
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    const shard_key_t bad_family[1] = {{KEY_FAMILY_COUNT, "x"}};
    const shard_key_t null_value[1] = {{KEY_PAYLOAD, NULL}};
    const shard_key_t ok[1] = {{KEY_PAYLOAD, "x"}};
    assert_int_equal(shard_store_apply(s, 1, "", ok, 1, NULL), -EINVAL);
    assert_int_equal(shard_store_apply(s, 1, id, ok, 1, NULL), -EINVAL);
    assert_int_equal(shard_store_apply(s, 1, "a", bad_family, 1, NULL), -EINVAL);
    assert_int_equal(shard_store_apply(s, 1, "a", null_value, 1, NULL), -EINVAL);
    assert_int_equal(shard_store_apply(s, 1, "a", NULL, 1, NULL), -EINVAL);
    assert_int_equal(shard_store_applied(s), 0);
    /* the longest id is fine; an empty value is a value */
    id[SHARD_STORE_MAX_ID] = '\0';
    const shard_key_t empty[1] = {{KEY_C2, ""}};
    assert_int_equal(shard_store_apply(s, 1, id, empty, 1, NULL), 0);
    assert_int_equal(shard_store_holders(s, KEY_C2, ""), 1);
    /* an argument error inside a batch keeps the batch */
    assert_int_equal(shard_store_begin(s), 0);
    assert_int_equal(shard_store_apply(s, 2, "a", ok, 1, NULL), 0);
    assert_int_equal(shard_store_apply(s, 3, "a", bad_family, 1, NULL), -EINVAL);
    assert_int_equal(shard_store_commit(s), 0);
    assert_int_equal(shard_store_applied(s), 2);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "x"), 1);
    /* an unusable directory is refused */
    assert_null(shard_store_open("/proc/cadre-no-such-dir/x", 0));
}

/*  Counts members and checks their order while iterating. */
static int
count_block(int family, const char *value, const char *const *members,
            const char *const (*triples)[3], size_t n, void *arg)
{
    assert_int_equal(family, KEY_PAYLOAD);
    assert_string_equal(value, "hot");
    size_t *total = arg;
    for (size_t i = 1; i < n; i++) {
        assert_true(strcmp(members[i - 1], members[i]) < 0);
    }
    for (size_t i = 0; i < n; i++) {
        assert_non_null(triples[i][0]);
    }
    *total += n;
    return 0;
}

/*  Applies ids first..last (1-based seqs from *seq) to the hot key in batches; with
    remove they leave it instead. Returns the seconds taken. */
static double
hot_apply(shard_store_t *s, uint64_t *seq, int first, int last, bool remove)
{
    enum { BATCH = 5000 };
    double t0 = now_s();
    for (int i = first; i <= last;) {
        assert_int_equal(shard_store_begin(s), 0);
        for (int b = 0; b < BATCH && i <= last; b++, i++) {
            char id[32];
            char ja3[32];
            snprintf(id, sizeof id, "att-%08d", i);
            snprintf(ja3, sizeof ja3, "ja3-%d", i % 97);
            const shard_key_t keys[1] = {{KEY_PAYLOAD, "hot"}};
            const char *const triple[3] = {ja3, NULL, NULL};
            assert_int_equal(shard_store_apply(s, ++*seq, id, keys, remove ? 0 : 1, triple), 0);
        }
        assert_int_equal(shard_store_commit(s), 0);
    }
    return now_s() - t0;
}

/*  Iterates the dirty set, checking it is the hot block with n members. Returns seconds. */
static double
hot_iterate(shard_store_t *s, size_t n)
{
    double t0 = now_s();
    size_t total = 0;
    assert_int_equal(shard_store_each_dirty(s, count_block, &total), 0);
    double t = now_s() - t0;
    assert_int_equal(total, n);
    assert_int_equal(shard_store_dirty_count(s), 1);
    return t;
}

/*  One hot key with 100,000 members: apply, iteration and removal stay linear (timings
    printed, not asserted: compare the halves). */
static void
test_hot_key_100k(void **state)
{
    fixture_t *f = *state;
    shard_store_t *s = f->store;
    enum { N = 100000 };
    uint64_t seq = 0;
    double a1 = hot_apply(s, &seq, 1, N / 2, false);
    double i1 = hot_iterate(s, N / 2);
    double a2 = hot_apply(s, &seq, N / 2 + 1, N, false);
    double i2 = hot_iterate(s, N);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "hot"), N);
    double t0 = now_s();
    assert_int_equal(shard_store_set_generic(s, KEY_JA3, "ja3-1", true), 0);
    double g = now_s() - t0;
    double r1 = hot_apply(s, &seq, 1, N / 2, true);
    double r2 = hot_apply(s, &seq, N / 2 + 1, N, true);
    assert_int_equal(shard_store_holders(s, KEY_PAYLOAD, "hot"), 0);
    assert_dirty(s, "P:hot{}");
    printf("hot key: apply members 1-50k %.3f s, 50k-100k %.3f s; iterate 50k %.3f s, "
           "100k %.3f s; set_generic over %d holders %.3f s; remove 1-50k %.3f s, "
           "50k-100k %.3f s\n",
           a1, a2, i1, i2, N / 97, g, r1, r2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_replace_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_flips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_generic_dirties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_mid_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot_key_100k, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
