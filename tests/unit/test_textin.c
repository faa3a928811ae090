/*  test_textin.c - the line reader: plain and gzip input, a last line without newline,
    blank lines, over-long lines skipped, a gzip stream cut short, a missing file. */
#include "err.h"
#include "textin.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static const char s_text[] = "first\n\nthird line\n0123456789012345678901234567890123456789\n"
                             "last, no newline";

/*  A temporary file holding data (gzip-compressed when gz), owned path. */
static char *
s_temp(const void *data, size_t len, bool gz)
{
    char *path = xstrdup("/tmp/cadre-textin.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    if (gz) {
        gzFile g = gzdopen(fd, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
    }
    return path;
}

/*  Reads s_text from path with a 20-byte limit and checks every line. */
static void
s_check_lines(const char *path)
{
    textin_t *in = textin_open(path, 20);
    assert_non_null(in);
    const char *line;
    size_t len;
    assert_int_equal(textin_next(in, &line, &len), 1);
    assert_string_equal(line, "first");
    assert_int_equal(textin_next(in, &line, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(textin_next(in, &line, &len), 1);
    assert_string_equal(line, "third line");
    assert_int_equal(textin_next(in, &line, &len), CADRE_ELIMIT);
    assert_int_equal(textin_line_no(in), 4);
    assert_int_equal(textin_next(in, &line, &len), 1);
    assert_string_equal(line, "last, no newline");
    assert_int_equal(len, 16);
    assert_int_equal(textin_line_no(in), 5);
    assert_int_equal(textin_next(in, &line, &len), 0);
    assert_int_equal(textin_next(in, &line, &len), 0);
    textin_destroy(&in);
    assert_null(in);
}

static void
test_plain(void **state)
{
    (void)state;
    char *path = s_temp(s_text, strlen(s_text), false);
    s_check_lines(path);
    unlink(path);
    free(path);
}

static void
test_gzip(void **state)
{
    (void)state;
    char *path = s_temp(s_text, strlen(s_text), true);
    s_check_lines(path);
    unlink(path);
    free(path);
}

/*  textin_read: raw bytes after a line read with textin_next (what was read ahead comes
    first), from a descriptor (textin_open_fd), plain and gzip. */
static void
test_read_raw(void **state)
{
    (void)state;
    for (int gz = 0; gz < 2; gz++) {
        char *path = s_temp(s_text, strlen(s_text), gz);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        textin_t *in = textin_open_fd(fd, 20);
        assert_non_null(in);
        const char *line;
        size_t len;
        assert_int_equal(textin_next(in, &line, &len), 1);
        assert_string_equal(line, "first");
        char buf[256];
        size_t got = 0;
        long n;
        while ((n = textin_read(in, buf + got, 7)) > 0) {
            assert_true(n <= 7);
            got += (size_t)n;
        }
        assert_int_equal(n, 0);
        assert_int_equal(got, strlen(s_text) - 6);
        assert_memory_equal(buf, s_text + 6, got);
        textin_destroy(&in);
        unlink(path);
        free(path);
    }
}

/*  Lines longer than the read chunk, one at the limit exactly. */
static void
test_long_lines(void **state)
{
    (void)state;
    size_t big = 200000;
    char *data = xmalloc(2 * big + 4);
    memset(data, 'a', big);
    data[big] = '\n';
    memset(data + big + 1, 'b', big);
    data[2 * big + 1] = '\n';
    char *path = s_temp(data, 2 * big + 2, true);
    textin_t *in = textin_open(path, big);
    const char *line;
    size_t len;
    assert_int_equal(textin_next(in, &line, &len), 1);
    assert_int_equal(len, big);
    assert_true(line[0] == 'a' && line[big - 1] == 'a');
    assert_int_equal(textin_next(in, &line, &len), 1);
    assert_true(line[0] == 'b');
    assert_int_equal(textin_next(in, &line, &len), 0);
    textin_destroy(&in);
    in = textin_open(path, big - 1);
    assert_int_equal(textin_next(in, &line, &len), CADRE_ELIMIT);
    assert_int_equal(textin_next(in, &line, &len), CADRE_ELIMIT);
    assert_int_equal(textin_next(in, &line, &len), 0);
    textin_destroy(&in);
    unlink(path);
    free(path);
    free(data);
}

static void
test_damaged_gzip(void **state)
{
    (void)state;
    char *data = xmalloc(100000);
    for (size_t i = 0; i < 100000; i++) {
        data[i] = (char)(i % 7 == 6 ? '\n' : 'a' + (int)(i * 2654435761u % 26));
    }
    char *path = s_temp(data, 100000, true);
    FILE *f = fopen(path, "rb");
    char buf[200000];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(buf, 1, n / 2, f); /* cut the compressed stream in half */
    fclose(f);
    textin_t *in = textin_open(path, 1000);
    const char *line;
    size_t len;
    int rc;
    while ((rc = textin_next(in, &line, &len)) == 1) {
    }
    assert_int_equal(rc, -EIO);
    assert_non_null(strstr(textin_error(in), "gzip"));
    textin_destroy(&in);
    unlink(path);
    free(path);
    free(data);
}

static void
test_missing(void **state)
{
    (void)state;
    errno = 0;
    assert_null(textin_open("/nonexistent/cadre/file", 10));
    assert_int_equal(errno, ENOENT);
    textin_t *in = NULL;
    textin_destroy(&in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),      cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_long_lines), cmocka_unit_test(test_damaged_gzip),
        cmocka_unit_test(test_missing),    cmocka_unit_test(test_read_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
