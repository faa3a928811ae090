/*  fuzz_textin.c - the line reader under every Cowrie and labels input (common/textin.c:
    plain text or gzip through zlib), as `cadre ingest cowrie` reads its logs. The input is
    written to a temporary file (textin reads paths) and read with a small line limit, so
    long lines are skipped. Properties: each line returned is within the limit, NUL-terminated
    and without its newline; line numbers advance by one per line returned or skipped; the
    end is sticky; a damaged gzip stream is an error with a description. */
#include "fuzz.h"

#include "err.h"
#include "textin.h"

#include <errno.h>
#include <unistd.h>

#define S_MAX_LINE 256     /* the line limit used: small, so the skipping path runs */
#define S_MAX_CALLS 400000 /* a gzip bomb may hold many lines; stop reading after these */

static char s_path[64]; /* the temporary file, created on the first input */

static void
s_unlink(void)
{
    unlink(s_path);
}

/*  Writes data to the temporary file; returns false when that is not possible. */
static bool
s_store(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(s_path, sizeof s_path, "%.40s/cadre-fuzz-XXXXXX", dir && dir[0] ? dir : "/tmp");
        int fd = mkstemp(s_path);
        if (fd < 0) {
            s_path[0] = '\0';
            return false;
        }
        close(fd);
        atexit(s_unlink);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f) {
        return false;
    }
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_store(data, size)) {
        return 0;
    }
    textin_t *in = textin_open(s_path, S_MAX_LINE);
    FUZZ_CHECK(in != NULL, "textin_open: %s", strerror(errno));
    uint64_t expect = 0;
    int rc = 0;
    for (size_t calls = 0; calls < S_MAX_CALLS; calls++) {
        const char *line = NULL;
        size_t len = 0;
        rc = textin_next(in, &line, &len);
        FUZZ_CHECK(rc == 1 || rc == 0 || rc == CADRE_ELIMIT || rc == -EIO, "textin_next: %d", rc);
        if (rc == 0 || rc == -EIO) {
            break;
        }
        expect++;
        FUZZ_CHECK(textin_line_no(in) == expect, "line %llu numbered %llu",
                   (unsigned long long)expect, (unsigned long long)textin_line_no(in));
        if (rc == 1) {
            FUZZ_CHECK(len <= S_MAX_LINE && line[len] == '\0', "a line of %zu bytes", len);
            FUZZ_CHECK(!memchr(line, '\n', len), "a line holds its newline");
        }
    }
    if (rc == -EIO) {
        FUZZ_CHECK(textin_error(in)[0] != '\0', "a read error without a description");
    } else if (rc == 0) {
        const char *line = NULL;
        size_t len = 0;
        FUZZ_CHECK(textin_next(in, &line, &len) == 0, "a line after the end");
    }
    textin_destroy(&in);
    return 0;
}
