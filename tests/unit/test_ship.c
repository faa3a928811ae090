/*  test_ship.c - the pieces of `cadre ship`: the offsets file (ship_state: round trip,
    escaped paths, refusals, the lock), the file reader (ship_file: positions, growth,
    unterminated and over-long lines, gzip, MessagePack framing, fingerprints) and the
    syslog spool (ship_spool: file names of worker CNs, escaping, rotation, the spools found
    at start, a line cut short by a crash, a flush that cannot write). */
#include "ship_file.h"
#include "ship_spool.h"
#include "ship_state.h"

#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include <cmocka.h>

/*  A fresh temporary directory per test. */
static int
s_setup(void **state)
{
    char *dir = xstrdup("/tmp/cadre-test-ship.XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int
s_teardown(void **state)
{
    char *cmd = xasprintf("rm -rf '%s'", (char *)*state);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(*state);
    return 0;
}

/*  Appends len bytes of data to path. */
static void
s_append(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* -------------------------------------------------------------------------------------------
    ship_state */

static void
test_state_round_trip(void **state)
{
    const char *dir = *state;
    char *sdir = xasprintf("%s/st", dir);
    char err[256] = "";
    ship_state_t *st = ship_state_open(sdir, "cowrie", err, sizeof err);
    assert_non_null(st);
    ship_rec_t *recs = NULL;
    size_t n = 9;
    ship_state_take(st, &recs, &n);
    assert_int_equal(n, 0);
    free(recs);
    uint64_t cuts[] = {120, 4000, 9000};
    ship_rec_t out[2] = {
        {.dev = 65024,
         .ino = 77,
         .fp_len = 1024,
         .fp = 0xfedcba9876543210ull,
         .commit = 100,
         .line = 3,
         .path = "/var/log/co wrie/50%\n.json",
         .cuts = cuts,
         .n_cuts = 3},
        {.dev = 1, .ino = 2, .fp_len = 0, .commit = 0, .done = true, .path = "x.gz"},
    };
    assert_int_equal(ship_state_save(st, out, 2), 0);
    ship_state_destroy(&st);
    st = ship_state_open(sdir, "cowrie", err, sizeof err);
    assert_non_null(st);
    ship_state_take(st, &recs, &n);
    assert_int_equal(n, 2);
    assert_int_equal(recs[0].dev, 65024);
    assert_int_equal(recs[0].ino, 77);
    assert_int_equal(recs[0].fp_len, 1024);
    assert_true(recs[0].fp == 0xfedcba9876543210ull);
    assert_int_equal(recs[0].commit, 100);
    assert_int_equal(recs[0].line, 3);
    assert_false(recs[0].done);
    assert_string_equal(recs[0].path, "/var/log/co wrie/50%\n.json");
    assert_int_equal(recs[0].n_cuts, 3);
    assert_int_equal(recs[0].cuts[2], 9000);
    assert_true(recs[1].done);
    assert_int_equal(recs[1].n_cuts, 0);
    assert_string_equal(recs[1].path, "x.gz");
    for (size_t i = 0; i < n; i++) {
        ship_rec_clear(&recs[i]);
    }
    free(recs);
    /* The temporary file does not outlive a save. */
    char *tmp = xasprintf("%s/offsets.tmp", sdir);
    assert_int_equal(access(tmp, F_OK), -1);
    free(tmp);
    ship_state_destroy(&st);
    free(sdir);
}

static void
test_state_refusals(void **state)
{
    const char *dir = *state;
    char *sdir = xasprintf("%s/st", dir);
    char err[256] = "";
    ship_state_t *st = ship_state_open(sdir, "cowrie", err, sizeof err);
    assert_non_null(st);
    /* Locked while open. */
    assert_null(ship_state_open(sdir, "cowrie", err, sizeof err));
    assert_non_null(strstr(err, "held by another cadre ship"));
    ship_rec_t rec = {.path = "a"};
    assert_int_equal(ship_state_save(st, &rec, 1), 0);
    ship_state_destroy(&st);
    /* Another input kind. */
    assert_null(ship_state_open(sdir, "obs", err, sizeof err));
    assert_non_null(strstr(err, "written for --input cowrie, not obs"));
    /* Damaged files. */
    const char *bad[] = {
        "not a state\n",
        "cadre-ship 1 cowrie\nunit 1 2 3\n",
        "cadre-ship 1 cowrie\nunit 1 2 0 0 10 0 - a\ncut 5\n", /* a cut before the commit */
        "cadre-ship 1 cowrie\nunit 1 2 0 0 0 0 - a\ncut 9\ncut 9\n",
        "cadre-ship 1 cowrie\nunit 1 2 0 0 0 0 x a\n",
        "cadre-ship 1 cowrie\nunit 1 2 0 0 0 0 - a%2\n",
        "cadre-ship 1 cowrie\nwhat\n",
    };
    char *path = xasprintf("%s/offsets", sdir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        err[0] = '\0';
        st = ship_state_open(sdir, "cowrie", err, sizeof err);
        if (st) {
            fail_msg("accepted: %s", bad[i]);
        }
        assert_true(err[0] != '\0');
    }
    free(path);
    free(sdir);
}

/* -------------------------------------------------------------------------------------------
    ship_file */

static void
test_file_lines(void **state)
{
    const char *dir = *state;
    char *path = xasprintf("%s/log", dir);
    s_append(path, "one\ntwo\nthr", 11);
    ship_file_t *f = ship_file_open(path, SHIP_FRAME_LINES, 16);
    assert_non_null(f);
    assert_false(ship_file_gz(f));
    ship_piece_t p;
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_string_equal(p.data, "one");
    assert_int_equal(p.start, 0);
    assert_int_equal(p.end, 4);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_string_equal(p.data, "two");
    assert_int_equal(p.end, 8);
    /* The unterminated line waits for its newline. */
    assert_int_equal(ship_file_next(f, false, &p), 0);
    assert_int_equal(ship_file_pos(f), 8);
    s_append(path, "ee\n", 3);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_string_equal(p.data, "three");
    assert_int_equal(p.start, 8);
    assert_int_equal(p.end, 14);
    /* Over 16 bytes: skipped, reported once with its positions, across reads. */
    s_append(path, "0123456789", 10);
    assert_int_equal(ship_file_next(f, false, &p), 0);
    s_append(path, "0123456789abcdef\nok\n", 20);
    assert_int_equal(ship_file_next(f, false, &p), CADRE_ELIMIT);
    assert_int_equal(p.start, 14);
    assert_int_equal(p.end, 41);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_string_equal(p.data, "ok");
    /* Final: an unterminated last line is a record. */
    s_append(path, "tail", 4);
    assert_int_equal(ship_file_next(f, false, &p), 0);
    assert_int_equal(ship_file_next(f, true, &p), 1);
    assert_string_equal(p.data, "tail");
    assert_int_equal(p.end, 48);
    assert_int_equal(ship_file_next(f, true, &p), 0);
    assert_int_equal(ship_file_size(f), 48);
    ship_file_destroy(&f);
    /* Resuming at a record boundary; past the end is refused. */
    f = ship_file_open(path, SHIP_FRAME_LINES, 16);
    assert_int_equal(ship_file_seek(f, 8), 0);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_string_equal(p.data, "three");
    ship_file_destroy(&f);
    f = ship_file_open(path, SHIP_FRAME_LINES, 16);
    assert_int_equal(ship_file_seek(f, 49), -ERANGE);
    ship_file_destroy(&f);
    free(path);
}

static void
test_file_gzip_and_fp(void **state)
{
    const char *dir = *state;
    char *plain = xasprintf("%s/log", dir);
    char *gzp = xasprintf("%s/log.1.gz", dir);
    char text[4096];
    size_t len = 0;
    for (int i = 0; i < 200; i++) {
        len += (size_t)snprintf(text + len, sizeof text - len, "line %03d\n", i);
    }
    s_append(plain, text, len);
    gzFile gz = gzopen(gzp, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, text, (unsigned)len), (int)len);
    gzclose(gz);
    ship_file_t *a = ship_file_open(plain, SHIP_FRAME_LINES, 100);
    ship_file_t *b = ship_file_open(gzp, SHIP_FRAME_LINES, 100);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(ship_file_gz(b));
    assert_int_equal(ship_file_size(b), -1);
    /* The same first bytes, compressed or not. */
    uint64_t fa = 0, fb = 0;
    assert_true(ship_file_fp(a, SHIP_FP_MAX, &fa));
    assert_true(ship_file_fp(b, SHIP_FP_MAX, &fb));
    assert_true(fa == fb);
    assert_true(fa == XXH64(text, SHIP_FP_MAX, 0));
    assert_false(ship_file_fp(a, SHIP_FP_MAX + 1, &fa));
    /* Positions in decompressed bytes: a seek lands on the same record. */
    assert_int_equal(ship_file_seek(b, 9 * 150), 0);
    ship_piece_t p;
    assert_int_equal(ship_file_next(b, true, &p), 1);
    assert_string_equal(p.data, "line 150");
    assert_int_equal(p.start, 9 * 150);
    size_t n = 1;
    while (ship_file_next(b, true, &p) == 1) {
        n++;
    }
    assert_int_equal(n, 50);
    assert_int_equal(p.end, len);
    ship_file_destroy(&a);
    ship_file_destroy(&b);
    /* A file shorter than a fingerprint's length has none of that length. */
    char *tiny = xasprintf("%s/tiny", dir);
    s_append(tiny, "x\n", 2);
    a = ship_file_open(tiny, SHIP_FRAME_LINES, 100);
    assert_false(ship_file_fp(a, 3, &fa));
    assert_true(ship_file_fp(a, 2, &fa));
    ship_file_destroy(&a);
    assert_null(ship_file_open(dir, SHIP_FRAME_LINES, 100)); /* not a regular file */
    free(tiny);
    free(plain);
    free(gzp);
}

static void
test_file_msgpack(void **state)
{
    const char *dir = *state;
    char *path = xasprintf("%s/obs.msgpack", dir);
    /* {"id": "a"} twice, then the first two bytes of a third. */
    const unsigned char one[] = {0x81, 0xa2, 'i', 'd', 0xa1, 'a'};
    s_append(path, one, sizeof one);
    s_append(path, one, sizeof one);
    s_append(path, one, 2);
    ship_file_t *f = ship_file_open(path, SHIP_FRAME_MSGPACK, 1000);
    ship_piece_t p;
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_int_equal(p.len, sizeof one);
    assert_memory_equal(p.data, one, sizeof one);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_int_equal(p.start, 6);
    assert_int_equal(ship_file_next(f, false, &p), 0);
    s_append(path, one + 2, sizeof one - 2);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_int_equal(p.end, 18);
    /* Cut short at the end of a final file; then a byte that starts no type. */
    s_append(path, one, 3);
    assert_int_equal(ship_file_next(f, true, &p), CADRE_ETRUNC);
    assert_int_equal(p.start, 18);
    assert_int_equal(p.end, 21);
    ship_file_destroy(&f);
    char *bad = xasprintf("%s/bad.msgpack", dir);
    const unsigned char junk[] = {0xc1, 0x81};
    s_append(bad, one, sizeof one);
    s_append(bad, junk, sizeof junk);
    f = ship_file_open(bad, SHIP_FRAME_MSGPACK, 1000);
    assert_int_equal(ship_file_next(f, false, &p), 1);
    assert_int_equal(ship_file_next(f, false, &p), CADRE_ERECORD);
    assert_int_equal(ship_file_next(f, false, &p), CADRE_ERECORD);
    ship_file_destroy(&f);
    free(bad);
    free(path);
}

/* -------------------------------------------------------------------------------------------
    ship_spool */

/*  The whole content of path (owned), or NULL when it cannot be read. */
static char *
s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *buf = xcalloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/*  What the rotation callback saw. */
typedef struct {
    int calls;         /* rotations reported */
    char path[512];    /* the last one's spool path */
    char rotated[512]; /* and where it went */
    uint64_t ino;      /* and its inode */
} s_rot_t;

static void
s_on_rotated(void *arg, const char *path, const char *rotated, uint64_t dev, uint64_t ino)
{
    (void)dev;
    s_rot_t *r = arg;
    r->calls++;
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->rotated, sizeof r->rotated, "%s", rotated);
    r->ino = ino;
}

static void
test_spool_names(void **state)
{
    (void)state;
    char out[SHIP_SPOOL_NAME_MAX + 1];
    assert_true(ship_spool_name("worker-a", out, sizeof out));
    assert_string_equal(out, "worker-a");
    assert_true(ship_spool_name("a/b", out, sizeof out));
    assert_string_equal(out, "a%2Fb");
    assert_true(ship_spool_name("..", out, sizeof out));
    assert_string_equal(out, "%2E.");
    assert_true(ship_spool_name(".hidden.x", out, sizeof out));
    assert_string_equal(out, "%2Ehidden.x");
    assert_true(ship_spool_name("50%", out, sizeof out));
    assert_string_equal(out, "50%25");
    assert_false(ship_spool_name("", out, sizeof out));
    assert_false(ship_spool_name("abcdef", out, 4));
    /* The longest CN, every byte escaped, fits. */
    char cn[64 + 1];
    memset(cn, '/', 64);
    cn[64] = '\0';
    assert_true(ship_spool_name(cn, out, sizeof out));
    assert_int_equal(strlen(out), 3 * 64);
}

static void
test_spool_lines_and_rotation(void **state)
{
    const char *dir = *state;
    char *sp = xasprintf("%s/syslog", dir);
    s_rot_t rot = {0};
    ship_spool_t *s = ship_spool_new(sp, 40, s_on_rotated, &rot);
    assert_non_null(s);
    assert_int_equal(ship_spool_count(s), 0);
    /* Escaped as cadre syslog-recv escapes: backslash, LF, CR, TAB. */
    ship_spool_add(s, "w/1", "x\\y\nz\r\tq", 8);
    assert_true(ship_spool_pending(s));
    assert_int_equal(ship_spool_count(s), 1);
    assert_false(ship_spool_exists(s, 0));
    assert_int_equal(ship_spool_flush(s), 0);
    assert_false(ship_spool_pending(s));
    assert_true(ship_spool_exists(s, 0));
    char *path = xasprintf("%s/w%%2F1.log", sp);
    assert_string_equal(ship_spool_path(s, 0), path);
    assert_string_equal(ship_spool_worker(s, 0), "w/1");
    char *got = s_slurp(path);
    assert_string_equal(got, "w/1\tx\\\\y\\nz\\r\\tq\n");
    free(got);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(rot.calls, 0);
    /* Past 40 bytes: renamed to .1 after the flush that wrote them, reported. */
    ship_spool_add(s, "w/1", "0123456789012345678901234567890", 31);
    assert_int_equal(ship_spool_flush(s), 0);
    assert_int_equal(rot.calls, 1);
    assert_string_equal(rot.path, path);
    char *r1 = xasprintf("%s.1", path);
    assert_string_equal(rot.rotated, r1);
    assert_int_equal(stat(r1, &st), 0);
    assert_int_equal((uint64_t)st.st_ino, rot.ino);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_false(ship_spool_exists(s, 0));
    /* The next message makes a new spool; the next rotation is .2. */
    ship_spool_add(s, "w/1", "0123456789012345678901234567890123456789", 40);
    ship_spool_add(s, "other", "m", 1);
    assert_int_equal(ship_spool_flush(s), 0);
    assert_int_equal(rot.calls, 2);
    char *r2 = xasprintf("%s.2", path);
    assert_string_equal(rot.rotated, r2);
    assert_int_equal(ship_spool_count(s), 2);
    assert_int_equal(ship_spool_messages(s, 0), 3);
    assert_int_equal(ship_spool_messages(s, 1), 1);
    ship_spool_destroy(&s);
    assert_null(s);

    /* Found at start: the current spool of "other", the rotated ones of "w/1"; a stray
       file is left alone. */
    char *stray = xasprintf("%s/notes.txt", sp);
    s_append(stray, "x", 1);
    s = ship_spool_new(sp, 40, s_on_rotated, &rot);
    assert_non_null(s);
    assert_int_equal(ship_spool_count(s), 1);
    assert_string_equal(ship_spool_worker(s, 0), "other");
    assert_true(ship_spool_exists(s, 0));
    assert_int_equal(ship_spool_n_rotated(s), 2);
    assert_string_equal(ship_spool_rotated(s, 0), r1);
    assert_string_equal(ship_spool_rotated(s, 1), r2);
    /* A rotation after a restart takes the next free number. */
    ship_spool_add(s, "w/1", "0123456789012345678901234567890123456789", 40);
    assert_int_equal(ship_spool_flush(s), 0);
    char *r3 = xasprintf("%s.3", path);
    assert_string_equal(rot.rotated, r3);
    ship_spool_destroy(&s);
    free(r3);
    free(stray);
    free(r2);
    free(r1);
    free(path);
    free(sp);
}

static void
test_spool_cut_line_and_failure(void **state)
{
    const char *dir = *state;
    char *sp = xasprintf("%s/syslog", dir);
    assert_int_equal(mkdir(sp, 0700), 0);
    /* A spool that ends inside a line: closed with a newline before the next one. */
    char *path = xasprintf("%s/w.log", sp);
    s_append(path, "w\tfirst\nw\tcut sh", 16);
    s_rot_t rot = {0};
    ship_spool_t *s = ship_spool_new(sp, SHIP_SPOOL_MAX_BYTES, s_on_rotated, &rot);
    assert_non_null(s);
    ship_spool_add(s, "w", "next", 4);
    assert_int_equal(ship_spool_flush(s), 0);
    char *got = s_slurp(path);
    assert_string_equal(got, "w\tfirst\nw\tcut sh\nw\tnext\n");
    free(got);
    /* A spool that cannot be written (a directory in the way): the lines stay buffered
       and are written by a later flush. */
    char *blocked = xasprintf("%s/x.log", sp);
    assert_int_equal(mkdir(blocked, 0700), 0);
    ship_spool_add(s, "x", "one", 3);
    ship_spool_add(s, "w", "two", 3);
    assert_true(ship_spool_flush(s) < 0);
    assert_true(ship_spool_pending(s));
    got = s_slurp(path);
    assert_string_equal(got, "w\tfirst\nw\tcut sh\nw\tnext\nw\ttwo\n");
    free(got);
    assert_int_equal(rmdir(blocked), 0);
    ship_spool_add(s, "x", "three", 5);
    assert_int_equal(ship_spool_flush(s), 0);
    assert_false(ship_spool_pending(s));
    got = s_slurp(blocked);
    assert_string_equal(got, "x\tone\nx\tthree\n");
    free(got);
    ship_spool_destroy(&s);
    free(blocked);
    free(path);
    free(sp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_state_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_file_lines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_file_gzip_and_fp, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_file_msgpack, s_setup, s_teardown),
        cmocka_unit_test(test_spool_names),
        cmocka_unit_test_setup_teardown(test_spool_lines_and_rotation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_cut_line_and_failure, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
