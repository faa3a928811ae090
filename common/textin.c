/*  textin.c - line reader over plain or gzip text (see textin.h). */
#include "textin.h"

#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define S_CHUNK (64u * 1024u) /* bytes asked of gzread at a time */

struct textin_t {
    gzFile gz;        /* the open file */
    size_t max_line;  /* longest line returned, bytes */
    char *chunk;      /* S_CHUNK bytes read ahead, owned */
    size_t at;        /* next unread byte in chunk */
    size_t filled;    /* bytes valid in chunk */
    bool eof;         /* gzread reported the end */
    char *line;       /* the line being assembled (max_line + 1 bytes), owned */
    size_t len;       /* bytes in line */
    uint64_t line_no; /* lines returned or skipped */
    char error[160];  /* last read error, or "" */
};

/*  A reader on gz, or NULL (errno set) when gz is NULL. */
static textin_t *
s_new(gzFile gz, size_t max_line)
{
    if (!gz) {
        if (errno == 0) {
            errno = ENOMEM;
        }
        return NULL;
    }
    gzbuffer(gz, S_CHUNK);
    textin_t *self = xcalloc(1, sizeof *self);
    self->gz = gz;
    self->max_line = max_line;
    self->chunk = xmalloc(S_CHUNK);
    self->line = xmalloc(max_line + 1);
    return self;
}

textin_t *
textin_open_fd(int fd, size_t max_line)
{
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
    }
    return s_new(gz, max_line);
}

textin_t *
textin_open(const char *path, size_t max_line)
{
    gzFile gz;
    if (strcmp(path, "-") == 0) {
        int fd = dup(STDIN_FILENO);
        gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
        if (!gz && fd >= 0) {
            close(fd);
        }
    } else {
        gz = gzopen(path, "rb");
    }
    return s_new(gz, max_line);
}

void
textin_destroy(textin_t **self_p)
{
    textin_t *self = *self_p;
    if (!self) {
        return;
    }
    gzclose(self->gz);
    free(self->chunk);
    free(self->line);
    free(self);
    *self_p = NULL;
}

/*  Refills chunk. Returns 1 with data, 0 at the end, -EIO on an error. */
static int
s_fill(textin_t *self)
{
    if (self->eof) {
        return 0;
    }
    int n = gzread(self->gz, self->chunk, S_CHUNK);
    if (n < 0) {
        int zerr = 0;
        const char *msg = gzerror(self->gz, &zerr);
        snprintf(self->error, sizeof self->error, "read error: %s",
                 zerr == Z_ERRNO ? strerror(errno) : msg);
        return -EIO;
    }
    if (n == 0) {
        self->eof = true;
        /* gzread returns 0 for a gzip stream cut short; gzerror tells it from a clean end. */
        int zerr = 0;
        const char *msg = gzerror(self->gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            snprintf(self->error, sizeof self->error, "damaged gzip stream: %s", msg);
            return -EIO;
        }
        return 0;
    }
    self->at = 0;
    self->filled = (size_t)n;
    return 1;
}

int
textin_next(textin_t *self, const char **line, size_t *len)
{
    self->len = 0;
    bool too_long = false;
    bool any = false;
    for (;;) {
        if (self->at == self->filled) {
            int rc = s_fill(self);
            if (rc < 0) {
                return rc;
            }
            if (rc == 0) {
                break;
            }
        }
        any = true;
        const char *start = self->chunk + self->at;
        size_t avail = self->filled - self->at;
        const char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) : avail;
        if (!too_long && self->len + take > self->max_line) {
            too_long = true;
        }
        if (!too_long) {
            memcpy(self->line + self->len, start, take);
            self->len += take;
        }
        self->at += take + (nl ? 1 : 0);
        if (nl) {
            break;
        }
    }
    if (!any) {
        return 0;
    }
    self->line_no++;
    if (too_long) {
        return CADRE_ELIMIT;
    }
    self->line[self->len] = '\0';
    *line = self->line;
    *len = self->len;
    return 1;
}

long
textin_read(textin_t *self, char *buf, size_t cap)
{
    if (cap == 0) {
        return 0;
    }
    if (self->at == self->filled) {
        int rc = s_fill(self);
        if (rc <= 0) {
            return rc;
        }
    }
    size_t n = self->filled - self->at;
    n = n < cap ? n : cap;
    memcpy(buf, self->chunk + self->at, n);
    self->at += n;
    return (long)n;
}

uint64_t
textin_line_no(const textin_t *self)
{
    return self->line_no;
}

const char *
textin_error(const textin_t *self)
{
    return self->error;
}
