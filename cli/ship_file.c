/*  ship_file.c - one log file read record by record with positions (see ship_file.h).

    The buffer holds the bytes from position base on: [0, at) were handed out or skipped,
    [at, filled) are read and not yet framed. It is compacted before each read and grows
    (doubling) up to max_len plus one read's worth, so one record of max_len bytes always
    fits. A line longer than max_len switches to skipping: bytes are dropped up to the next
    newline, and the whole line is reported once as skipped.
*/
#include "ship_file.h"

#include "err.h"
#include "textin.h"
#include "wire.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define S_READ (64u * 1024u) /* bytes asked of the file at a time */

struct ship_file_t {
    char *path;             /* the path it was opened as, owned */
    int fd;                 /* plain: the descriptor; gzip: -1 */
    textin_t *gz;           /* gzip: the decompressing reader, else NULL */
    uint64_t dev;           /* device */
    uint64_t ino;           /* inode */
    ship_frame_t frame;     /* record framing */
    size_t max_len;         /* longest record handed out */
    char *buf;              /* bytes from position base on, owned */
    size_t cap;             /* bytes allocated in buf (one more for a NUL) */
    size_t at;              /* next unframed byte in buf */
    size_t filled;          /* bytes valid in buf */
    uint64_t base;          /* file position of buf[0] */
    uint64_t handed;        /* position after the last record handed out or skipped */
    bool skipping;          /* dropping an over-long line up to its newline */
    uint64_t skip_start;    /* where that line started */
    bool bad;               /* a byte that starts no MessagePack type was met */
    char head[SHIP_FP_MAX]; /* gzip: the first bytes, kept for fingerprints */
    size_t head_len;        /* bytes in head */
};

/*  Reads more bytes into buf at filled. Returns the count, 0 when there are none now, or
    -errno. */
static long
s_read(ship_file_t *self)
{
    if (self->at > 0) {
        memmove(self->buf, self->buf + self->at, self->filled - self->at);
        self->base += self->at;
        self->filled -= self->at;
        self->at = 0;
    }
    if (self->cap - self->filled < S_READ && self->cap < self->max_len + S_READ) {
        size_t want = self->cap * 2;
        if (want > self->max_len + S_READ) {
            want = self->max_len + S_READ;
        }
        self->buf = xrealloc(self->buf, want + 1);
        self->cap = want;
    }
    size_t room = self->cap - self->filled;
    if (room == 0) {
        return 0;
    }
    if (self->gz) {
        long n = textin_read(self->gz, self->buf + self->filled, room);
        if (n < 0) {
            return -EIO;
        }
        self->filled += (size_t)n;
        return n;
    }
    ssize_t n;
    do {
        n = read(self->fd, self->buf + self->filled, room);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    self->filled += (size_t)n;
    return (long)n;
}

ship_file_t *
ship_file_open(const char *path, ship_frame_t frame, size_t max_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    unsigned char magic[2] = {0, 0};
    bool gz = pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    ship_file_t *self = xcalloc(1, sizeof *self);
    self->path = xstrdup(path);
    self->fd = fd;
    self->dev = (uint64_t)st.st_dev;
    self->ino = (uint64_t)st.st_ino;
    self->frame = frame;
    self->max_len = max_len;
    self->cap = S_READ;
    self->buf = xmalloc(self->cap + 1);
    if (gz) {
        self->fd = -1;
        self->gz = textin_open_fd(fd, 1);
        if (!self->gz) {
            int e = errno;
            ship_file_destroy(&self);
            errno = e;
            return NULL;
        }
        /* The first bytes stay in the buffer (they are the start of the data) and are
           copied for the fingerprint, which cannot be read again without reopening. */
        while (self->filled < SHIP_FP_MAX) {
            long n = s_read(self);
            if (n <= 0) {
                break;
            }
        }
        self->head_len = self->filled < SHIP_FP_MAX ? self->filled : SHIP_FP_MAX;
        memcpy(self->head, self->buf, self->head_len);
    }
    return self;
}

void
ship_file_destroy(ship_file_t **self_p)
{
    ship_file_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->fd >= 0) {
        close(self->fd);
    }
    textin_destroy(&self->gz);
    free(self->buf);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const char *
ship_file_path(const ship_file_t *self)
{
    return self->path;
}

uint64_t
ship_file_dev(const ship_file_t *self)
{
    return self->dev;
}

uint64_t
ship_file_ino(const ship_file_t *self)
{
    return self->ino;
}

bool
ship_file_gz(const ship_file_t *self)
{
    return self->gz != NULL;
}

int64_t
ship_file_size(const ship_file_t *self)
{
    struct stat st;
    if (self->gz || fstat(self->fd, &st) != 0) {
        return -1;
    }
    return (int64_t)st.st_size;
}

long
ship_file_head(ship_file_t *self, char *buf, size_t n)
{
    if (n > SHIP_FP_MAX) {
        n = SHIP_FP_MAX;
    }
    if (self->gz) {
        size_t k = n < self->head_len ? n : self->head_len;
        memcpy(buf, self->head, k);
        return (long)k;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(self->fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -errno;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (long)got;
}

bool
ship_file_fp(ship_file_t *self, uint32_t n, uint64_t *fp)
{
    char head[SHIP_FP_MAX];
    if (n > SHIP_FP_MAX) {
        return false;
    }
    long got = ship_file_head(self, head, n);
    if (got < 0 || (size_t)got < n) {
        return false;
    }
    *fp = XXH64(head, n, 0);
    return true;
}

void
ship_file_set_frame(ship_file_t *self, ship_frame_t frame)
{
    self->frame = frame;
}

int
ship_file_seek(ship_file_t *self, uint64_t pos)
{
    if (!self->gz) {
        int64_t size = ship_file_size(self);
        if (size >= 0 && (uint64_t)size < pos) {
            return -ERANGE;
        }
        if (lseek(self->fd, (off_t)pos, SEEK_SET) < 0) {
            return -errno;
        }
        self->base = pos;
        self->at = self->filled = 0;
        self->handed = pos;
        self->skipping = false;
        return 0;
    }
    /* gzip cannot seek: read and drop up to pos. */
    while (self->base + self->filled < pos) {
        self->at = self->filled;
        long n = s_read(self);
        if (n < 0) {
            return (int)n;
        }
        if (n == 0) {
            return -ERANGE;
        }
    }
    if (pos < self->base) {
        return -ERANGE; /* before what is buffered: only seeks forward from the start */
    }
    self->at = (size_t)(pos - self->base);
    self->handed = pos;
    self->skipping = false;
    return 0;
}

uint64_t
ship_file_pos(const ship_file_t *self)
{
    return self->handed;
}

/*  Frames one record in [at, filled). Returns 1, CADRE_ELIMIT or CADRE_ERECORD with *out
    set, or 0 when none is whole there (skipping what an over-long line leaves). */
static int
s_frame(ship_file_t *self, ship_piece_t *out)
{
    char *p = self->buf + self->at;
    size_t avail = self->filled - self->at;
    if (self->frame == SHIP_FRAME_MSGPACK) {
        size_t len = 0;
        int r = avail > 0 ? wire_frame(p, avail, &len) : 0;
        if (r < 0) {
            self->bad = true;
            *out = (ship_piece_t){.start = self->base + self->at, .end = self->base + self->filled};
            return CADRE_ERECORD;
        }
        if (r == 0) {
            /* A message past max_len cannot be skipped without framing it whole. */
            if (avail > self->max_len) {
                self->bad = true;
                *out = (ship_piece_t){.start = self->base + self->at,
                                      .end = self->base + self->filled};
                return CADRE_ERECORD;
            }
            return 0;
        }
        *out = (ship_piece_t){.data = p,
                              .len = len,
                              .start = self->base + self->at,
                              .end = self->base + self->at + len};
        self->at += len;
        self->handed = out->end;
        return 1;
    }
    char *nl = memchr(p, '\n', avail);
    if (self->skipping) {
        if (!nl) {
            self->at = self->filled;
            return 0;
        }
        self->at += (size_t)(nl - p) + 1;
        self->skipping = false;
        *out = (ship_piece_t){.start = self->skip_start, .end = self->base + self->at};
        self->handed = out->end;
        return CADRE_ELIMIT;
    }
    if (!nl) {
        if (avail > self->max_len) {
            self->skipping = true;
            self->skip_start = self->base + self->at;
            self->at = self->filled;
        }
        return 0;
    }
    size_t len = (size_t)(nl - p);
    uint64_t start = self->base + self->at;
    self->at += len + 1;
    self->handed = self->base + self->at;
    if (len > self->max_len) {
        *out = (ship_piece_t){.start = start, .end = self->handed};
        return CADRE_ELIMIT;
    }
    *nl = '\0';
    *out = (ship_piece_t){.data = p, .len = len, .start = start, .end = self->handed};
    return 1;
}

int
ship_file_next(ship_file_t *self, bool final, ship_piece_t *out)
{
    for (;;) {
        if (self->bad) {
            *out = (ship_piece_t){.start = self->handed, .end = self->handed};
            return CADRE_ERECORD;
        }
        int r = s_frame(self, out);
        if (r != 0) {
            return r;
        }
        long n = s_read(self);
        if (n < 0) {
            return (int)n;
        }
        if (n > 0) {
            continue;
        }
        if (!final) {
            return 0;
        }
        /* The end of a final file: what is left is an unterminated line, a cut-short
           message, or the tail of a skipped line. */
        uint64_t start = self->skipping ? self->skip_start : self->base + self->at;
        uint64_t end = self->base + self->filled;
        if (start == end) {
            return 0;
        }
        size_t len = self->filled - self->at;
        char *p = self->buf + self->at;
        self->at = self->filled;
        self->handed = end;
        if (self->skipping) {
            self->skipping = false;
            *out = (ship_piece_t){.start = start, .end = end};
            return CADRE_ELIMIT;
        }
        if (self->frame == SHIP_FRAME_MSGPACK) {
            *out = (ship_piece_t){.start = start, .end = end};
            return CADRE_ETRUNC;
        }
        p[len] = '\0';
        *out = (ship_piece_t){.data = p, .len = len, .start = start, .end = end};
        return 1;
    }
}
