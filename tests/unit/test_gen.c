/*  test_gen.c - the generator: bit-exact parity with DECNET's factory on every shared test
    vector, determinism, seeds, and replication.

    Vectors: $SHARED_DIR/testvectors/generator/<fixture>.seed<S>.jsonl were written by
    DECNET's factory for the spec $SHARED_DIR/reference/decnet-fixtures/<fixture>.yaml; cadre's
    own spec of the same scenario, $FIXTURES_DIR/campaigns/<fixture>.yaml, must give the same.
*/
#include "dsl.h"
#include "gen.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  Records collected from the generator or a file. */
typedef struct {
    obs_t **recs; /* owned records */
    size_t n;     /* count */
    size_t cap;   /* allocated */
} s_list_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_list_t *l = arg;
    xgrow(&l->recs, &l->cap, l->n + 1);
    l->recs[l->n++] = obs_dup(obs);
    return 0;
}

static void
s_list_free(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        obs_destroy(&l->recs[i]);
    }
    free(l->recs);
    memset(l, 0, sizeof *l);
}

static const char *
s_env(const char *name)
{
    const char *v = getenv(name);
    assert_non_null(v);
    return v;
}

static void
s_generate(const char *spec, int64_t seed, s_list_t *out)
{
    char err[1024];
    dsl_corpus_t *corpus = NULL;
    int rc = dsl_load_file(spec, &corpus, err, sizeof err);
    if (rc != 0) {
        fail_msg("%s: %s", spec, err);
    }
    assert_int_equal(gen_run(corpus, seed, s_collect, out), 0);
    dsl_corpus_destroy(&corpus);
}

static void
s_read(const char *path, s_list_t *out)
{
    obs_reader_t *r = obs_reader_open(path, OBS_FORMAT_JSONL);
    assert_non_null(r);
    obs_t *o = NULL;
    obs_error_t err;
    int rc;
    while ((rc = obs_reader_next(r, &o, &err)) == 1) {
        xgrow(&out->recs, &out->cap, out->n + 1);
        out->recs[out->n++] = o;
    }
    assert_int_equal(rc, 0);
    obs_reader_destroy(&r);
}

/*  Compares generated records with a vector file, naming the first difference. */
static void
s_expect_equal(const s_list_t *got, const s_list_t *want, const char *what)
{
    if (got->n != want->n) {
        fail_msg("%s: %zu records generated, %zu in the vector", what, got->n, want->n);
    }
    for (size_t i = 0; i < got->n; i++) {
        if (!obs_equal(got->recs[i], want->recs[i])) {
            fail_msg("%s: record %zu differs (generated %s, vector %s)", what, i + 1,
                     got->recs[i]->id, want->recs[i]->id);
        }
    }
}

/*  Runs every vector against the spec found in spec_dir (DECNET's or cadre's own). */
static void
s_check_vectors(const char *spec_dir)
{
    char *dir = xasprintf("%s/testvectors/generator", s_env("SHARED_DIR"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t checked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *dot = strstr(e->d_name, ".seed");
        if (!dot || !strstr(dot, ".jsonl")) {
            continue;
        }
        char *name = xstrndup(e->d_name, (size_t)(dot - e->d_name));
        int64_t seed = strtoll(dot + 5, NULL, 10);
        char *spec = xasprintf("%s/%s.yaml", spec_dir, name);
        char *vec = xasprintf("%s/%s", dir, e->d_name);
        s_list_t got = {0};
        s_list_t want = {0};
        s_generate(spec, seed, &got);
        s_read(vec, &want);
        s_expect_equal(&got, &want, vec);
        s_list_free(&got);
        s_list_free(&want);
        free(name);
        free(spec);
        free(vec);
        checked++;
    }
    closedir(d);
    free(dir);
    assert_int_equal(checked, 8);
}

static void
test_vectors_decnet_specs(void **state)
{
    (void)state;
    char *dir = xasprintf("%s/reference/decnet-fixtures", s_env("SHARED_DIR"));
    s_check_vectors(dir);
    free(dir);
}

static void
test_vectors_cadre_specs(void **state)
{
    (void)state;
    char *dir = xasprintf("%s/campaigns", s_env("FIXTURES_DIR"));
    s_check_vectors(dir);
    free(dir);
}

static char *
s_spec(const char *name)
{
    return xasprintf("%s/reference/decnet-fixtures/%s", s_env("SHARED_DIR"), name);
}

static void
test_deterministic_and_seeded(void **state)
{
    (void)state;
    char *spec = s_spec("noise_floor.yaml");
    s_list_t a = {0};
    s_list_t b = {0};
    s_list_t c = {0};
    s_list_t neg = {0};
    s_generate(spec, 11, &a);
    s_generate(spec, 11, &b);
    s_generate(spec, 12, &c);
    s_generate(spec, -11, &neg);
    s_expect_equal(&a, &b, "same seed");
    s_expect_equal(&a, &neg, "seed -11 behaves as 11");
    assert_int_equal(a.n, c.n);
    assert_string_not_equal(a.recs[0]->id, c.recs[0]->id);
    s_list_free(&a);
    s_list_free(&b);
    s_list_free(&c);
    s_list_free(&neg);
    free(spec);
}

/*  Every string signal of copy k ends in "#r<k>"; copy 0 is the record itself. */
static void
test_replicate(void **state)
{
    (void)state;
    char *spec = s_spec("multi_operator.yaml");
    s_list_t base = {0};
    s_generate(spec, 0, &base);
    free(spec);
    obs_t *orig = base.recs[0];
    obs_t *c0 = obs_dup(orig);
    gen_replicate(c0, 0);
    assert_true(obs_equal(c0, orig));
    obs_t *c3 = obs_dup(orig);
    c3->has_kd = true;
    c3->kd_simhash = 0x0123456789abcdefULL;
    obs_t *c4 = obs_dup(c3);
    gen_replicate(c3, 3);
    gen_replicate(c4, 4);
    char *want = xasprintf("%s#r3", orig->id);
    assert_string_equal(c3->id, want);
    free(want);
    assert_non_null(strstr(c3->ja3, "#r3"));
    assert_non_null(strstr(c3->hassh, "#r3"));
    assert_non_null(strstr(c3->truth_campaign, "#r3"));
    assert_non_null(strstr(c3->truth_identity, "#r3"));
    assert_non_null(strstr(c3->truth_actor, "#r3"));
    assert_true(c3->kd_simhash != 0x0123456789abcdefULL);
    assert_true(c3->kd_simhash != c4->kd_simhash);
    /* Copies far apart in keystroke space: more than one bit differs. */
    assert_true(__builtin_popcountll(c3->kd_simhash ^ c4->kd_simhash) > 1);
    assert_int_equal(c3->n_sessions, orig->n_sessions);
    for (size_t i = 0; i < c3->n_sessions; i++) {
        const obs_session_t *s = &c3->sessions[i];
        assert_non_null(strstr(s->id, "#r3"));
        assert_non_null(strstr(s->decky, "#r3"));
        assert_true(s->c2 == NULL || strstr(s->c2, "#r3") != NULL);
        assert_true(s->payload_hash == NULL || strstr(s->payload_hash, "#r3") != NULL);
        assert_true(s->start == orig->sessions[i].start);
        assert_int_equal(s->phase, orig->sessions[i].phase);
    }
    obs_destroy(&c0);
    obs_destroy(&c3);
    obs_destroy(&c4);
    s_list_free(&base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_decnet_specs),
        cmocka_unit_test(test_vectors_cadre_specs),
        cmocka_unit_test(test_deterministic_and_seeded),
        cmocka_unit_test(test_replicate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
