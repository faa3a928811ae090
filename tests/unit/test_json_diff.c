/*  test_json_diff.c - the two JSON observation decoders against each other: the simdjson fast
    path (common/jsonio_simd.cpp) behind jsonio_obs_decode() and jsonio_obs_decode_padded(),
    and the jansson decoder it stands in for (jsonio_obs_decode_jansson). On every text both
    must give the same return code, an obs_equal() record and the same obs_error_t (record,
    id, field, message), also on success. The texts: every line of every JSON Lines file under
    fixtures/ and tests/fixtures/, every record the generator makes from
    fixtures/campaigns/ (all of which the fast path must take itself), and a list of
    crafted edge cases (numbers, escapes, invalid UTF-8, NUL bytes, duplicate keys, nesting,
    trailing bytes, truncation, limits). The JSON Lines reader is checked the same way: a file
    of those lines (CRLF and LF, blank lines, lines straddling the reader's 1 MiB buffer, an
    unterminated last line) read through obs_reader_open() (lines decoded where they lie) and
    obs_reader_new() (lines copied) gives, record by record, what jansson gives line by line.
*/
#include "dsl.h"
#include "err.h"
#include "gen.h"
#include "jsonio.h"
#include "jsonio_simd.h"
#include "obs.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*  --------------------------------------------------------------------------------------
    The comparison */

/*  Bytes written after a padded copy: digits, quotes, brackets and letters, never JSON
    whitespace, so a decoder that read past the text would see something that changes it. */
static const char s_garbage[] = "1e9\"}]x\\u0041,{:tru";

/*  What one decoder made of a text. */
typedef struct {
    int rc;          /* return code */
    obs_t *obs;      /* the record when rc is 0, owned */
    obs_error_t err; /* err as the decoder left it */
} s_result_t;

/*  Records accepted by the simdjson walk itself, over the whole run (how much the fast path
    really covers). */
static size_t s_fast;

static void
s_result_clear(s_result_t *r)
{
    obs_destroy(&r->obs);
}

/*  Asserts that b is the same result as a (the jansson reference). */
static void
s_assert_same(const s_result_t *a, const s_result_t *b, const char *what, const char *text,
              size_t len)
{
    if (a->rc != b->rc || (a->rc == 0 && !obs_equal(a->obs, b->obs)) ||
        a->err.record != b->err.record || strcmp(a->err.id, b->err.id) != 0 ||
        strcmp(a->err.field, b->err.field) != 0 || strcmp(a->err.message, b->err.message) != 0) {
        print_error("%s differs from jansson on %.*s\n"
                    "  jansson: rc %d, record %llu, id '%s', field '%s': %s\n"
                    "  %s: rc %d, record %llu, id '%s', field '%s': %s\n",
                    what, (int)(len > 300 ? 300 : len), text, a->rc,
                    (unsigned long long)a->err.record, a->err.id, a->err.field, a->err.message,
                    what, b->rc, (unsigned long long)b->err.record, b->err.id, b->err.field,
                    b->err.message);
        fail();
    }
}

/*  Decodes text through every path and asserts they agree with jansson. Returns true when
    the simdjson walk took the text itself. */
static bool
s_check_text(const char *text, size_t len, uint64_t record)
{
    s_result_t ref = {0};
    ref.rc = jsonio_obs_decode_jansson(text, len, record, &ref.obs, &ref.err);
    assert_true(ref.rc == 0 || ref.rc == CADRE_ERECORD || ref.rc == CADRE_ETRUNC);

    s_result_t plain = {0};
    plain.rc = jsonio_obs_decode(text, len, record, &plain.obs, &plain.err);
    s_assert_same(&ref, &plain, "jsonio_obs_decode", text, len);

    /*  Padded copies: garbage after the text, then zeros. */
    char *copy = xmalloc(len + JSONIO_PADDING);
    memcpy(copy, text, len);
    for (size_t i = 0; i < JSONIO_PADDING; i++) {
        copy[len + i] = s_garbage[i % (sizeof s_garbage - 1)];
    }
    s_result_t padded = {0};
    padded.rc = jsonio_obs_decode_padded(copy, len, record, &padded.obs, &padded.err);
    s_assert_same(&ref, &padded, "jsonio_obs_decode_padded", text, len);
    memset(copy + len, 0, JSONIO_PADDING);
    s_result_t zeros = {0};
    zeros.rc = jsonio_obs_decode_padded(copy, len, record, &zeros.obs, &zeros.err);
    s_assert_same(&ref, &zeros, "jsonio_obs_decode_padded (zeros)", text, len);

    /*  The walk alone: whatever it accepts, jansson accepts identically. */
    s_result_t fast = {0};
    fast.rc = jsonio_simd_obs_decode(copy, len, true, record, &fast.obs, &fast.err);
    bool took = fast.rc == 0;
    if (took) {
        s_assert_same(&ref, &fast, "jsonio_simd_obs_decode", text, len);
        s_fast++;
    } else {
        assert_int_equal(fast.rc, JSONIO_SIMD_DECLINED);
        assert_null(fast.obs);
    }
    free(copy);
    s_result_clear(&fast);
    s_result_clear(&zeros);
    s_result_clear(&padded);
    s_result_clear(&plain);
    s_result_clear(&ref);
    return took;
}

/*  s_check_text on a NUL-terminated string. */
static bool
s_check(const char *text)
{
    return s_check_text(text, strlen(text), 7);
}

/*  --------------------------------------------------------------------------------------
    Files */

/*  Reads a whole file into a new buffer (*len bytes, NUL-terminated). */
static char *
s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    char *buf = xmalloc((size_t)size + 1);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

/*  Checks every line of a JSON Lines file, split as the reader splits it. Returns the
    number of lines. */
static size_t
s_check_file(const char *path)
{
    size_t len = 0;
    char *buf = s_slurp(path, &len);
    size_t lines = 0;
    size_t at = 0;
    while (at < len) {
        const char *start = buf + at;
        const char *nl = memchr(start, '\n', len - at);
        size_t n = nl ? (size_t)(nl - start) : len - at;
        at += n + (nl != NULL);
        if (n > 0 && start[n - 1] == '\r') {
            n--;
        }
        s_check_text(start, n, ++lines);
    }
    free(buf);
    return lines;
}

/*  Checks every *.jsonl file under dir (recursively); returns how many there were. */
static size_t
s_check_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char *path = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            files += s_check_tree(path);
        } else {
            size_t n = strlen(e->d_name);
            if (n > 6 && strcmp(e->d_name + n - 6, ".jsonl") == 0) {
                assert_true(s_check_file(path) > 0);
                files++;
            }
        }
        free(path);
    }
    closedir(d);
    return files;
}

static void
test_fixture_files(void **state)
{
    (void)state;
    const char *fixtures = getenv("FIXTURES_DIR");
    const char *testdata = getenv("TESTDATA_DIR");
    size_t files = s_check_tree(fixtures ? fixtures : "fixtures");
    files += s_check_tree(testdata ? testdata : "tests/fixtures");
    assert_true(files >= 4);
}

/*  --------------------------------------------------------------------------------------
    Generated records: what the fast path exists for, so it must take every one */

typedef struct {
    size_t records; /* records checked */
    size_t taken;   /* of them, taken by the simdjson walk */
} s_gen_t;

static int
s_gen_sink(const obs_t *obs, void *arg)
{
    s_gen_t *g = arg;
    char *text = NULL;
    size_t len = 0;
    obs_error_t err;
    assert_int_equal(jsonio_obs_encode(obs, &text, &len, &err), 0);
    g->records++;
    g->taken += s_check_text(text, len, g->records);
    free(text);
    /*  Replicated copies too (the benchmark corpora). */
    obs_t *copy = obs_dup(obs);
    gen_replicate(copy, 3);
    assert_int_equal(jsonio_obs_encode(copy, &text, &len, &err), 0);
    g->records++;
    g->taken += s_check_text(text, len, g->records);
    free(text);
    obs_destroy(&copy);
    return 0;
}

static void
test_generated(void **state)
{
    (void)state;
    const char *fixtures = getenv("FIXTURES_DIR");
    char *dir = xasprintf("%s/campaigns", fixtures ? fixtures : "fixtures");
    DIR *d = opendir(dir);
    assert_non_null(d);
    s_gen_t g = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".yaml") != 0 || strstr(e->d_name, ".expected")) {
            continue;
        }
        char *path = xasprintf("%s/%s", dir, e->d_name);
        dsl_corpus_t *corpus = NULL;
        char msg[256];
        assert_int_equal(dsl_load_file(path, &corpus, msg, sizeof msg), 0);
        for (int64_t seed = 0; seed < 3; seed++) {
            assert_int_equal(gen_run(corpus, seed, s_gen_sink, &g), 0);
        }
        dsl_corpus_destroy(&corpus);
        free(path);
    }
    closedir(d);
    free(dir);
    assert_true(g.records > 100);
    if (jsonio_simd_available()) {
        assert_int_equal(g.taken, g.records);
    }
}

/*  --------------------------------------------------------------------------------------
    Crafted edge cases */

/*  Valid records the fast path must take itself. */
static const char *const s_fast_cases[] = {
    "{\"id\": \"a\"}",
    "{\"id\":\"a\"}",
    " \t{\"id\": \"a\"}\t \r",
    "{ \"id\" : \"a\" , \"ip\" : null , \"asn\" : null }",
    "{\"id\": \"a\", \"op\": \"delete\"}",
    "{\"op\": \"delete\", \"id\": \"a\"}",
    "{\"id\": \"a\", \"op\": \"append\", \"ip\": \"192.0.2.1\"}",
    "{\"id\": \"a\", \"op\": \"upsert\"}",
    "{\"id\": \"a\", \"op\": null}",
    "{\"id\": \"a\", \"asn\": 64512}",
    "{\"id\": \"a\", \"asn\": -1}",
    "{\"id\": \"a\", \"asn\": 0}",
    "{\"id\": \"a\", \"asn\": -0}",
    "{\"id\": \"a\", \"asn\": 9223372036854775807}",
    "{\"id\": \"a\", \"asn\": -9223372036854775808}",
    "{\"id\": \"a\", \"kd_simhash\": 0}",
    "{\"id\": \"a\", \"kd_simhash\": 9223372036854775807}",
    "{\"id\": \"a\", \"kd_simhash\": \"00000000000000FF\"}",
    "{\"id\": \"a\", \"kd_simhash\": \"0123456789abcdef\"}",
    "{\"id\": \"a\", \"kd_simhash\": null}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": -0}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": -0.0}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 0.0, \"duration\": "
    "-0.0}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1e-400}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": -1e-400}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 5e-324}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "2.4703282292062328e-324}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "2.4703282292062327e-324}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "2.2250738585072011e-308}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "1.7976931348623157e308}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "1.7976931348623158e308}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1E2, \"duration\": "
    "1e+2}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1E-2, \"duration\": "
    "0e0}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 9007199254740993}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "9223372036854775807}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "-9223372036854775808}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "9007199254740993.0}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "3.14159265358979323846264338327950288419716939937510582097494459}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "1767225600.0000000000000000000000000000001}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "123456789012345678901234567890e-10}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": "
    "0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000001e-10}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"duration\": "
    "null, "
    "\"commands\": null, \"credentials\": null, \"decky\": null, \"id\": null, "
    "\"payload_hash\": null, \"c2\": null}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"commands\": "
    "[], "
    "\"credentials\": []}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"exploitation\", \"start\": 1, \"commands\": "
    "[\"ls\", \"\", \"wget http://x/\\u00e9\"], \"credentials\": [[\"\", \"\"], [\"root\", "
    "\"toor\"]], \"id\": \"\", \"decky\": \"d\", \"payload_hash\": \"p\", \"c2\": \"c\", "
    "\"extra\": {\"a\": [1, 2.5, true, false, null, \"s\", {}, []]}}]}",
    "{\"id\": \"a\", \"sessions\": []}",
    "{\"id\": \"a\", \"sessions\": null}",
    "{\"id\": \"\\u00e9\\ud83d\\ude00\"}",
    "{\"id\": \"\\uD83D\\uDE00\\u00E9\"}",
    "{\"id\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}",
    "{\"id\": \"a\", \"x\": \"\\u0000\"}",
    "{\"id\": \"a\", \"x\": [\"\\u0000\", {\"y\": \"\\u0000\"}]}",
    "{\"id\": \"a\", \"ip\": \"\x7f\"}",
    "{\"id\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}",
    "{\"id\": \"a\", \"truth\": {\"campaign\": \"c\", \"identity\": null, \"actor\": \"x\", "
    "\"other\": [1, {\"campaign\": 2}]}}",
    "{\"id\": \"a\", \"truth\": null}",
    "{\"id\": \"a\", \"truth\": {}}",
    "{\"id\": \"a\", \"fingerprints\": {\"jarm\": \"j\", \"ssh_client\": null, \"ja4h\": \"\"}}",
    "{\"id\": \"a\", \"fingerprints\": {}}",
    "{\"id\": \"a\", \"fingerprints\": null}",
    "{\"id\": \"a\", \"op\": \"append\", \"append_at\": {\"ip\": 5, \"ja3\": null, "
    "\"fingerprints.jarm\": 1.5, \"truth\": -0.0}, \"fingerprints\": {\"jarm\": \"j\"}}",
    "{\"id\": \"a\", \"append_at\": null}",
    "{\"id\": \"a\", \"x\": {\"a\": {\"b\": {\"c\": {\"d\": [[[[[[[[[[1]]]]]]]]]]}}}}}",
    "{\"id\": \"a\", \"id2\": 1, \"i\": 2, \"\": 3, \"ID\": 4}",
    "{\"id\": \"a\", \"x\": {\"id\": 1, \"ip\": 2}, \"y\": {\"id\": 1}}",
    "{\"id\": \"a\", \"k01\": 1, \"k02\": 1, \"k03\": 1, \"k04\": 1, \"k05\": 1, \"k06\": 1, "
    "\"k07\": 1, \"k08\": 1, \"k09\": 1, \"k10\": 1, \"k11\": 1, \"k12\": 1, \"k13\": 1, "
    "\"k14\": 1, \"k15\": 1, \"k16\": 1, \"k17\": 1, \"k18\": 1, \"k19\": 1, \"k20\": 1}",
    "{\"id\": \"a\", \"x\": 1.5e300, \"y\": -1e-300, \"z\": 12345678901234567890123e-5}",
    /* mantissas of 20 digits and more, which simdjson 3.0.1 can misread */
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"delivery\", \"start\": 0.79769391590490817398}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"delivery\", \"start\": 0.99999999999999999999, "
    "\"duration\": 0.00000000000000000000018446744073709551616e22}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"delivery\", \"start\": 18446744073709551616.5, "
    "\"duration\": 98765432109876543210.0e-400}]}",
    "{\"id\": \"a\", \"x\": 1e-99999}",
};

/*  Texts jansson rejects, or accepts in a way the fast path leaves to it; all that matters is
    that the results agree. */
static const char *const s_other_cases[] = {
    /* not a record */
    "",
    " ",
    "\t",
    "\r",
    "\r\r",
    "[]",
    "[\"att-14\"]",
    "\"a\"",
    "1",
    "null",
    "true",
    "{}",
    "{",
    "}",
    "{\"id\"",
    "\xef\xbb\xbf{\"id\": \"a\"}",
    "\x0c{\"id\": \"a\"}",
    "{\"id\": \"a\"}\x0c",
    /* id */
    "{\"id\": null}",
    "{\"id\": 1}",
    "{\"id\": \"\"}",
    "{\"id\": [\"a\"]}",
    "{\"ip\": \"x\"}",
    "{\"id\": \"\\u0000\"}",
    "{\"id\": \"a\\u0000b\"}",
    /* trailing bytes */
    "{\"id\": \"a\"} x",
    "{\"id\": \"a\"}}",
    "{\"id\": \"a\"}]",
    "{\"id\": \"a\"},",
    "{\"id\": \"a\"} {\"id\": \"b\"}",
    "{\"id\": \"a\"}{}",
    "{\"id\": \"a\"} 1",
    "{\"id\": \"a\"}\"",
    "{\"id\": \"a\"} null",
    /* truncation */
    "{\"id\": \"a\"",
    "{\"id\": \"a\",",
    "{\"id\": \"a\", \"sessions\": [",
    "{\"id\": \"a",
    "{\"id\": \"a\", \"asn\": 12",
    "{\"id\": \"a\", \"asn\": tr",
    "{\"id\": \"a\", \"x\": {\"y\": [1, 2",
    "{\"id\": \"a\", \"x\": \"\\u00",
    "{\"id\": \"a\", \"x\": \"\\",
    "{\"id\": \"a\", \"asn\": -",
    /* structure */
    "{\"id\": \"a\",}",
    "{\"id\": \"a\" \"x\": 1}",
    "{\"id\" \"a\"}",
    "{\"id\": \"a\", \"x\": [1,]}",
    "{\"id\": \"a\", \"x\": [1 2]}",
    "{\"id\": \"a\", \"x\": {\"y\"}}",
    "{,\"id\": \"a\"}",
    "{\"id\": \"a\", \"x\": [}",
    "{\"id\": \"a\", \"x\": {]}",
    "{\"id\": \"a\", \"x\": [1}]}",
    "{\"id\": \"a\", \"x\": {\"y\": 1]}",
    "{\"id\": \"a\", 1: 2}",
    "{\"id\": \"a\", null: 2}",
    "{\"id\": \"a\", \"x\": [,1]}",
    "{\"id\": \"a\", \"x\":: 1}",
    "{\"id\": 'a'}",
    "{\"id\": \"a\", \"x\": [1]]}",
    "{\"id\": \"a\", \"x\": {}}}",
    /* literals */
    "{\"id\": \"a\", \"x\": tru}",
    "{\"id\": \"a\", \"x\": truex}",
    "{\"id\": \"a\", \"x\": nul}",
    "{\"id\": \"a\", \"x\": null1}",
    "{\"id\": \"a\", \"x\": True}",
    "{\"id\": \"a\", \"x\": NaN}",
    "{\"id\": \"a\", \"x\": Infinity}",
    "{\"id\": \"a\", \"x\": -Infinity}",
    "{\"id\": \"a\", \"x\": falsee}",
    "{\"id\": \"a\", \"x\": nulll}",
    "{\"id\": \"a\", \"x\": n}",
    /* numbers */
    "{\"id\": \"a\", \"x\": 01}",
    "{\"id\": \"a\", \"x\": 1.}",
    "{\"id\": \"a\", \"x\": .5}",
    "{\"id\": \"a\", \"x\": -}",
    "{\"id\": \"a\", \"x\": +1}",
    "{\"id\": \"a\", \"x\": 1e}",
    "{\"id\": \"a\", \"x\": 1e+}",
    "{\"id\": \"a\", \"x\": 0x10}",
    "{\"id\": \"a\", \"x\": 1.5.2}",
    "{\"id\": \"a\", \"x\": 1e309}",
    "{\"id\": \"a\", \"x\": -1e309}",
    "{\"id\": \"a\", \"x\": 1.7976931348623159e308}",
    "{\"id\": \"a\", \"x\": 9223372036854775808}",
    "{\"id\": \"a\", \"x\": -9223372036854775809}",
    "{\"id\": \"a\", \"x\": 123456789012345678901234567890}",
    "{\"id\": \"a\", \"x\": -01}",
    "{\"id\": \"a\", \"x\": 1e99999999999999999999}",
    "{\"id\": \"a\", \"x\": 0e99999999999999999999}",
    "{\"id\": \"a\", \"x\": 1e-99999999999999999999}",
    "{\"id\": \"a\", \"x\": 1x}",
    "{\"id\": \"a\", \"x\": 1-}",
    "{\"id\": \"a\", \"x\": --1}",
    "{\"id\": \"a\", \"x\": 1 2}",
    "{\"id\": \"a\", \"asn\": 1.0}",
    "{\"id\": \"a\", \"asn\": 1e3}",
    "{\"id\": \"a\", \"asn\": \"1\"}",
    "{\"id\": \"a\", \"asn\": 9223372036854775808}",
    "{\"id\": \"a\", \"asn\": true}",
    "{\"id\": \"a\", \"kd_simhash\": -1}",
    "{\"id\": \"a\", \"kd_simhash\": 1.0}",
    "{\"id\": \"a\", \"kd_simhash\": 18446744073709551615}",
    "{\"id\": \"a\", \"kd_simhash\": \"00000000000000fg\"}",
    "{\"id\": \"a\", \"kd_simhash\": \"0000000000000000a\"}",
    "{\"id\": \"a\", \"kd_simhash\": []}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1e309}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"duration\": "
    "-1}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"duration\": "
    "-1e-400}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"duration\": "
    "-0}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": \"1\"}]}",
    /* strings and escapes */
    "{\"id\": \"\\ud800\"}",
    "{\"id\": \"\\udc00\"}",
    "{\"id\": \"\\ud800\\u0041\"}",
    "{\"id\": \"\\ud800x\"}",
    "{\"id\": \"\\ud800\\udbff\"}",
    "{\"id\": \"\\ud800\\ue000\"}",
    "{\"id\": \"\\udbff\\udfff\"}",
    "{\"id\": \"\\u00zz\"}",
    "{\"id\": \"\\u12\"}",
    "{\"id\": \"\\U0041\"}",
    "{\"id\": \"\\a\"}",
    "{\"id\": \"\\x41\"}",
    "{\"id\": \"\\'\"}",
    "{\"id\": \"a\", \"x\": \"\\ud800\"}",
    "{\"id\": \"a\", \"x\": \"\\udfff\"}",
    "{\"id\": \"a\", \"x\": [\"\\ud83d\"]}",
    "{\"id\": \"a\", \"x\": {\"\\ud800\": 1}}",
    "{\"id\": \"a\", \"ip\": \"a\\u0000b\"}",
    "{\"id\": \"a\", \"truth\": {\"campaign\": \"\\u0000\"}}",
    "{\"id\": \"a\", \"\\u0000\": 1}",
    "{\"id\": \"a\", \"x\": {\"a\\u0000\": 1}}",
    "{\"id\": \"a\", \"fingerprints\": {\"jarm\\u0000\": \"x\"}}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"commands\": "
    "[\"a\\u0000\"]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\\u0000\", \"start\": 1}]}",
    "{\"id\": \"a\", \"op\": \"delete\\u0000\"}",
    "{\"id\": \"a\", \"op\": \"Delete\"}",
    "{\"id\": \"a\", \"op\": \"\"}",
    "{\"id\": \"a\", \"op\": 1}",
    /* raw control characters and invalid UTF-8 */
    "{\"id\": \"a\tb\"}",
    "{\"id\": \"a\x01\"}",
    "{\"id\": \"a\x1f\"}",
    "{\"id\": \"a\", \"x\": \"\t\"}",
    "{\"id\": \"\xff\"}",
    "{\"id\": \"a\", \"x\": \"\xc3\x28\"}",
    "{\"id\": \"\xc0\xaf\"}",
    "{\"id\": \"\xed\xa0\x80\"}",
    "{\"id\": \"\xf4\x90\x80\x80\"}",
    "{\"id\": \"\xf8\x88\x80\x80\x80\"}",
    "{\"id\": \"\xe2\x82\"}",
    "{\"id\": \"a\", \"x\": \"\xe2\x82\"}",
    "{\"id\": \"a\"}\xff",
    "{\"id\": \"a\", \"\xff\": 1}",
    "{\"id\": \"a\", \"x\": \xc3\xa9}",
    "\xc3\xa9",
    "{\"id\": \"a\", \"x\": \"\xf0\x9f\x98\"}",
    "{\"id\": \"a\xe2\x82\xac\xe2\x82\"}",
    /* duplicate keys */
    "{\"id\": \"a\", \"id\": \"b\"}",
    "{\"id\": \"a\", \"i\\u0064\": \"b\"}",
    "{\"i\\u0064\": \"a\"}",
    "{\"id\": \"a\", \"x\": 1, \"x\": 2}",
    "{\"id\": \"a\", \"\\u0078\": 1, \"x\": 2}",
    "{\"id\": \"a\", \"x\": {\"y\": 1, \"y\": 2}}",
    "{\"id\": \"a\", \"x\": [{\"y\": 1, \"y\": 2}]}",
    "{\"id\": \"a\", \"ip\": null, \"ip\": null}",
    "{\"id\": \"a\", \"op\": \"delete\", \"op\": \"delete\"}",
    "{\"id\": \"a\", \"op\": \"delete\", \"x\": 1, \"x\": 1}",
    "{\"id\": \"a\", \"truth\": {\"campaign\": \"c\", \"campaign\": \"d\"}}",
    "{\"id\": \"a\", \"truth\": {\"x\": 1, \"x\": 1}}",
    "{\"id\": \"a\", \"fingerprints\": {\"jarm\": \"a\", \"jarm\": \"b\"}}",
    "{\"id\": \"a\", \"fingerprints\": {\"jarm\": null, \"jarm\": null}}",
    "{\"id\": \"a\", \"append_at\": {\"ip\": 1, \"ip\": 2}}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"start\": 2}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"x\": 1, \"x\": "
    "1}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"st\\u0061rt\": 1, \"start\": "
    "2}]}",
    "{\"id\": \"a\", \"k01\": 1, \"k02\": 1, \"k03\": 1, \"k04\": 1, \"k05\": 1, \"k06\": 1, "
    "\"k07\": 1, \"k08\": 1, \"k09\": 1, \"k10\": 1, \"k11\": 1, \"k12\": 1, \"k13\": 1, "
    "\"k14\": 1, \"k15\": 1, \"k16\": 1, \"k17\": 1, \"k18\": 1, \"k19\": 1, \"k03\": 1}",
    /* schema */
    "{\"id\": \"a\", \"ip\": 1}",
    "{\"id\": \"a\", \"ja3\": []}",
    "{\"id\": \"a\", \"hassh\": {}}",
    "{\"id\": \"a\", \"ja4\": true}",
    "{\"id\": \"a\", \"truth\": []}",
    "{\"id\": \"a\", \"truth\": {\"campaign\": 1}}",
    "{\"id\": \"a\", \"sessions\": {}}",
    "{\"id\": \"a\", \"sessions\": [1]}",
    "{\"id\": \"a\", \"sessions\": [null]}",
    "{\"id\": \"a\", \"sessions\": [{}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": null}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": 1, \"start\": 1}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\"}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": null}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"nope\", \"start\": 1}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"commands\": "
    "{}}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"commands\": "
    "[1]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"commands\": "
    "[null]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"credentials\": "
    "[[\"a\"]]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"credentials\": "
    "[[\"a\", \"b\", \"c\"]]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"credentials\": "
    "[[\"a\", 1]]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"credentials\": "
    "[null]}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"credentials\": "
    "{}}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"decky\": 1}]}",
    "{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1}, 5]}",
    "{\"id\": \"a\", \"fingerprints\": []}",
    "{\"id\": \"a\", \"fingerprints\": {\"JARM\": \"x\"}}",
    "{\"id\": \"a\", \"fingerprints\": {\"\": \"x\"}}",
    "{\"id\": \"a\", \"fingerprints\": {\"a-b\": \"x\"}}",
    "{\"id\": \"a\", \"fingerprints\": {\"jarm\": 1}}",
    "{\"id\": \"a\", \"fingerprints\": {\"abcdefghijklmnopqrstuvwxyz0123456\": \"x\"}}",
    "{\"id\": \"a\", \"fingerprints\": {\"abcdefghijklmnopqrstuvwxyz012345\": \"x\"}}",
    "{\"id\": \"a\", \"fingerprints\": {\"ja\\u0072m\": \"x\"}}",
    "{\"id\": \"a\", \"append_at\": []}",
    "{\"id\": \"a\", \"append_at\": {\"nope\": 1}}",
    "{\"id\": \"a\", \"append_at\": {\"ip\": \"x\"}}",
    "{\"id\": \"a\", \"append_at\": {\"ip\": 1e999}}",
    "{\"id\": \"a\", \"append_at\": {\"fingerprints.JARM\": 1}}",
    "{\"id\": \"a\", \"append_at\": {\"fingerprints.\": 1}}",
    "{\"id\": \"a\", \"append_at\": {\"\": 1}}",
    /* deletes: other keys are not validated by jansson */
    "{\"id\": \"a\", \"op\": \"delete\", \"sessions\": 5}",
    "{\"id\": \"a\", \"op\": \"delete\", \"ip\": \"\\u0000\", \"asn\": 1.5}",
    "{\"id\": \"a\", \"op\": \"delete\", \"x\": \"\\ud800\"}",
    "{\"id\": \"a\", \"op\": \"delete\", \"x\": 1e999}",
    "{\"id\": \"a\", \"ip\": \"x\", \"op\": \"delete\"}",
    "{\"op\": \"delete\"}",
    "{\"id\": \"\", \"op\": \"delete\"}",
};

/*  Texts with NUL bytes (given with their lengths). */
static const struct {
    const char *text;
    size_t len;
} s_nul_cases[] = {
    {"{\"id\": \"a\0b\"}", 13},
    {"{\"id\": \"a\"}\0", 12},
    {"\0{\"id\": \"a\"}", 12},
    {"{\"id\": \"a\", \"x\": \"\0\"}", 21},
    {"{\"id\": \"a\", \0 \"x\": 1}", 21},
    {"{\"id\": \"a\"} \0", 13},
    {"\0", 1},
};

static void
test_crafted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_fast_cases / sizeof s_fast_cases[0]; i++) {
        bool took = s_check(s_fast_cases[i]);
        if (jsonio_simd_available() && !took) {
            print_error("the fast path declined %s\n", s_fast_cases[i]);
            fail();
        }
    }
    for (size_t i = 0; i < sizeof s_other_cases / sizeof s_other_cases[0]; i++) {
        s_check(s_other_cases[i]);
    }
    for (size_t i = 0; i < sizeof s_nul_cases / sizeof s_nul_cases[0]; i++) {
        s_check_text(s_nul_cases[i].text, s_nul_cases[i].len, 3);
    }
}

/*  Appends printf output to a growing buffer. */
static void s_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    xgrow(buf, cap, *len + (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
}

/*  A record of n repetitions of item inside "sessions"/"commands"/... built by the caller's
    prefix and suffix. */
static char *
s_repeat(const char *prefix, const char *item, size_t n, const char *suffix, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    s_appendf(&buf, len, &cap, "%s", prefix);
    for (size_t i = 0; i < n; i++) {
        s_appendf(&buf, len, &cap, "%s%s", i ? ", " : "", item);
    }
    s_appendf(&buf, len, &cap, "%s", suffix);
    return buf;
}

/*  Limits, long strings, deep nesting: texts built at run time. */
static void
test_limits(void **state)
{
    (void)state;
    size_t len = 0;
    /* string limits at the bound and one past it */
    static const struct {
        const char *pre;
        size_t max;
        const char *post;
    } strs[] = {
        {"{\"id\": \"", OBS_MAX_ID, "\"}"},
        {"{\"id\": \"a\", \"ip\": \"", OBS_MAX_SHORT, "\"}"},
        {"{\"id\": \"a\", \"ja3\": \"", OBS_MAX_FINGERPRINT, "\"}"},
        {"{\"id\": \"a\", \"fingerprints\": {\"jarm\": \"", OBS_MAX_FINGERPRINT, "\"}}"},
        {"{\"id\": \"a\", \"truth\": {\"actor\": \"", OBS_MAX_SHORT, "\"}}"},
        {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, "
         "\"commands\": [\"",
         OBS_MAX_TEXT, "\"]}]}"},
        {"{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, \"id\": \"",
         OBS_MAX_ID, "\"}]}"},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        for (size_t extra = 0; extra < 2; extra++) {
            char *fill = xmalloc(strs[i].max + 2);
            memset(fill, 'x', strs[i].max + extra);
            fill[strs[i].max + extra] = '\0';
            char *text = xasprintf("%s%s%s", strs[i].pre, fill, strs[i].post);
            bool took = s_check(text);
            assert_true(!jsonio_simd_available() || took == (extra == 0));
            /* the same length spelled with escapes (6 text bytes per byte) */
            fill[0] = '\0';
            char *esc = xmalloc(6 * (strs[i].max + extra) + 1);
            for (size_t k = 0; k < strs[i].max + extra; k++) {
                memcpy(esc + 6 * k, "\\u0078", 6);
            }
            esc[6 * (strs[i].max + extra)] = '\0';
            free(text);
            text = xasprintf("%s%s%s", strs[i].pre, esc, strs[i].post);
            s_check(text);
            free(text);
            free(esc);
            free(fill);
        }
    }

    /* counts at the bound and one past it */
    char *text =
        s_repeat("{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, "
                 "\"commands\": [",
                 "\"c\"", OBS_MAX_ITEMS, "]}]}", &len);
    assert_true(s_check_text(text, len, 1) || !jsonio_simd_available());
    free(text);
    text = s_repeat("{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, "
                    "\"commands\": [",
                    "\"c\"", OBS_MAX_ITEMS + 1, "]}]}", &len);
    s_check_text(text, len, 1);
    free(text);
    text = s_repeat("{\"id\": \"a\", \"sessions\": [{\"phase\": \"reconnaissance\", \"start\": 1, "
                    "\"credentials\": [",
                    "[\"u\", \"p\"]", OBS_MAX_ITEMS + 1, "]}]}", &len);
    s_check_text(text, len, 1);
    free(text);
    text =
        s_repeat("{\"id\": \"a\", \"sessions\": [", "{\"phase\": \"reconnaissance\", \"start\": 1}",
                 OBS_MAX_SESSIONS + 1, "]}", &len);
    s_check_text(text, len, 1);
    free(text);
    text = s_repeat("{\"id\": \"a\", \"sessions\": [",
                    "{\"phase\": \"reconnaissance\", \"start\": 1.5}", 1000, "]}", &len);
    assert_true(s_check_text(text, len, 1) || !jsonio_simd_available());
    free(text);

    /* 32 and 33 fingerprint kinds; 40 and 41 append_at fields (only 8 + kinds exist) */
    for (size_t n = 32; n <= 33; n++) {
        char *buf = NULL;
        size_t cap = 0;
        len = 0;
        s_appendf(&buf, &len, &cap, "{\"id\": \"a\", \"fingerprints\": {");
        for (size_t k = 0; k < n; k++) {
            s_appendf(&buf, &len, &cap, "%s\"k%02zu\": \"v\"", k ? ", " : "", k);
        }
        s_appendf(&buf, &len, &cap, "}, \"append_at\": {\"ip\": 1, \"asn\": 2");
        for (size_t k = 0; k < n; k++) {
            s_appendf(&buf, &len, &cap, ", \"fingerprints.k%02zu\": %zu", k, k);
        }
        s_appendf(&buf, &len, &cap, "}}");
        s_check_text(buf, len, 1);
        free(buf);
    }

    /* nesting of an unknown value: within and past the fast path's depth, past simdjson's
       and past jansson's */
    static const size_t depths[] = {1, 30, 60, 61, 62, 63, 64, 65, 66, 100, 1000, 1100, 2100};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        size_t d = depths[i];
        char *buf = NULL;
        size_t cap = 0;
        len = 0;
        s_appendf(&buf, &len, &cap, "{\"id\": \"a\", \"x\": ");
        for (size_t k = 0; k < d; k++) {
            s_appendf(&buf, &len, &cap, k % 2 ? "[" : "{\"k\": ");
        }
        s_appendf(&buf, &len, &cap, "1");
        for (size_t k = d; k-- > 0;) {
            s_appendf(&buf, &len, &cap, k % 2 ? "]" : "}");
        }
        s_appendf(&buf, &len, &cap, "}");
        bool took = s_check_text(buf, len, 1);
        assert_true(!jsonio_simd_available() || took == (d <= 63));
        /* and cut short */
        s_check_text(buf, len - 1, 1);
        free(buf);
    }

    /* a line above the fast path's 1 MiB keep size, good and then bad */
    char *big = xmalloc(3u << 20);
    memset(big, 'y', 3u << 20);
    big[(3u << 20) - 1] = '\0';
    text = xasprintf("{\"id\": \"a\", \"x\": \"%s\"}", big);
    assert_true(s_check(text) || !jsonio_simd_available());
    text[strlen(text) - 1] = ']';
    s_check(text);
    free(text);
    free(big);
    /* and a small one after it, through the shrunk state */
    assert_true(s_check("{\"id\": \"b\"}") || !jsonio_simd_available());
}

/*  --------------------------------------------------------------------------------------
    The JSON Lines reader */

/*  One reader result. */
typedef struct {
    int rc;
    obs_t *obs;
    obs_error_t err;
} s_event_t;

/*  Bytes of the line at p (n bytes left) before its newline; *nl tells whether it has one. */
static size_t
s_line_len(const char *p, size_t n, bool *nl)
{
    size_t k = 0;
    while (k < n && p[k] != '\n') {
        k++;
    }
    *nl = k < n;
    return k;
}

/*  What the reader must return for data: the lines split by hand, decoded by jansson. */
static s_event_t *
s_expected(const char *data, size_t len, size_t *n)
{
    s_event_t *ev = NULL;
    size_t cap = 0;
    *n = 0;
    uint64_t record = 0;
    size_t at = 0;
    while (at < len) {
        const char *start = data + at;
        bool nl = false;
        size_t line = s_line_len(start, len - at, &nl);
        at += line + nl;
        record++;
        if (line > 0 && start[line - 1] == '\r') {
            line--;
        }
        size_t k = 0;
        while (k < line && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r')) {
            k++;
        }
        if (k == line) {
            continue;
        }
        xgrow(&ev, &cap, *n + 1);
        s_event_t *e = &ev[(*n)++];
        memset(e, 0, sizeof *e);
        e->rc = jsonio_obs_decode_jansson(start, line, record, &e->obs, &e->err);
        if (e->rc == CADRE_ETRUNC && nl) {
            e->rc = CADRE_ERECORD;
        }
        if (e->rc == CADRE_ETRUNC) {
            break;
        }
    }
    return ev;
}

/*  Reads every record through r and asserts each equals the expected one. */
static void
s_read_compare(obs_reader_t *r, const s_event_t *want, size_t n)
{
    for (size_t i = 0; i <= n; i++) {
        s_event_t got = {0};
        got.rc = obs_reader_next(r, &got.obs, &got.err);
        if (i == n) {
            assert_int_equal(got.rc, 0);
            break;
        }
        s_result_t a = {.rc = want[i].rc, .obs = want[i].obs, .err = want[i].err};
        s_result_t b = {.rc = got.rc == 1 ? 0 : got.rc, .obs = got.obs, .err = got.err};
        if (got.rc != 1 && a.rc == 0) {
            print_error("record %zu: reader returned %d (%s: %s)\n", i, got.rc, got.err.field,
                        got.err.message);
        }
        s_assert_same(&a, &b, "obs_reader_next", "(stream)", 8);
        obs_destroy(&got.obs);
    }
    obs_t *obs = NULL;
    obs_error_t err;
    assert_int_equal(obs_reader_next(r, &obs, &err), 0);
}

/*  A stream of the crafted lines, padded with good records so that some straddle the
    reader's 1 MiB buffer, with CRLF and LF, blank lines, a line of 1.5 MiB, and last the
    given tail (which may lack its newline). */
static char *
s_stream(const char *tail, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < sizeof s_fast_cases / sizeof s_fast_cases[0]; i++) {
            s_appendf(&buf, len, &cap, "%s%s", s_fast_cases[i], i % 3 ? "\n" : "\r\n");
        }
        for (size_t i = 0; i < sizeof s_other_cases / sizeof s_other_cases[0]; i++) {
            s_appendf(&buf, len, &cap, "%s%s", s_other_cases[i], i % 2 ? "\n" : "\r\n");
        }
        s_appendf(&buf, len, &cap, "\n \t\r\n\r\n");
        for (int k = 0; k < 2000 + 37 * round; k++) {
            s_appendf(&buf, len, &cap,
                      "{\"id\": \"r%d-%d\", \"ip\": \"192.0.2.%d\", \"sessions\": [{\"phase\": "
                      "\"reconnaissance\", \"start\": %d.25, \"commands\": [\"%*s\"]}]}\n",
                      round, k, k % 256, k, k % 300, "");
        }
        size_t big = (3u << 19) + (size_t)round;
        xgrow(&buf, &cap, *len + big + 64);
        *len += (size_t)snprintf(buf + *len, 32, "{\"id\": \"big%d\", \"x\": \"", round);
        memset(buf + *len, 'z', big);
        *len += big;
        s_appendf(&buf, len, &cap, "\"}\n");
    }
    s_appendf(&buf, len, &cap, "%s", tail);
    return buf;
}

static void
test_reader(void **state)
{
    (void)state;
    static const char *const tails[] = {
        "{\"id\": \"last\"}\n",
        "{\"id\": \"last\"}",
        "{\"id\": \"last\"}\r",
        "{\"id\": \"la",
        "{\"id\": \"last\"",
        "{\"id\": \"last\"} x",
        "  ",
        "",
    };
    char path[] = "/tmp/cadre-json-diff-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        size_t len = 0;
        char *data = s_stream(tails[t], &len);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        size_t n = 0;
        s_event_t *want = s_expected(data, len, &n);
        assert_true(n > 1000);

        /* a file the reader opens: lines decoded in its own buffer */
        obs_reader_t *r = obs_reader_open(path, OBS_FORMAT_JSONL);
        assert_non_null(r);
        s_read_compare(r, want, n);
        obs_reader_destroy(&r);
        /* the same, format detected */
        r = obs_reader_open(path, OBS_FORMAT_AUTO);
        s_read_compare(r, want, n);
        obs_reader_destroy(&r);
        /* a borrowed FILE: lines copied */
        f = fopen(path, "rb");
        r = obs_reader_new(f, OBS_FORMAT_AUTO, "t");
        s_read_compare(r, want, n);
        obs_reader_destroy(&r);
        fclose(f);

        for (size_t i = 0; i < n; i++) {
            obs_destroy(&want[i].obs);
        }
        free(want);
        free(data);
    }
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_generated), cmocka_unit_test(test_fixture_files),
        cmocka_unit_test(test_reader),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("# %zu texts taken by the fast path\n", s_fast);
    return failed;
}
