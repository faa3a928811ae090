/*  obs_stream.c - streams of records in JSON Lines or MessagePack (see obs_stream.h).

    This module frames a stream into records and picks the codec; jsonio.c and wire.c do the
    decoding. MessagePack framing is wire.c's wire_reader_t.

    JSON Lines are framed inside stdio's own buffer: memchr finds the newline among the bytes
    stdio has read ahead, and exactly the line and its newline are consumed from the FILE
    (never more, so the FILE stays usable by its owner and pipes deliver records as they
    arrive). A file the reader opens itself gets a large stdio buffer that the reader
    allocates with JSONIO_PADDING spare bytes after it, so a line lying whole in it is decoded
    where it lies, without a copy (jsonio_obs_decode_padded). Other lines - one that straddles
    a refill, the unterminated last line, any line of a borrowed FILE or of stdin - are copied
    into the reader's padded line buffer, which keeps at most OBS_MAX_RECORD bytes of a line:
    a longer line is read to its end, dropped and reported. The reader owns its buffers and
    framer; it owns the FILE only when it opened it.
*/
#include "obs_stream.h"

#include "err.h"
#include "jsonio.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/*  --------------------------------------------------------------------------------------
    Formats */

int
obs_format_parse(const char *name, obs_format_t *out)
{
    if (strcmp(name, "jsonl") == 0 || strcmp(name, "json") == 0) {
        *out = OBS_FORMAT_JSONL;
    } else if (strcmp(name, "msgpack") == 0 || strcmp(name, "mp") == 0) {
        *out = OBS_FORMAT_MSGPACK;
    } else if (strcmp(name, "auto") == 0) {
        *out = OBS_FORMAT_AUTO;
    } else {
        return CADRE_ECONFIG;
    }
    return 0;
}

/*  True when path ends with suffix. */
static bool
s_ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path);
    size_t m = strlen(suffix);
    return n >= m && strcmp(path + n - m, suffix) == 0;
}

obs_format_t
obs_format_from_path(const char *path)
{
    if (s_ends_with(path, ".msgpack") || s_ends_with(path, ".mp")) {
        return OBS_FORMAT_MSGPACK;
    }
    return OBS_FORMAT_JSONL;
}

/*  --------------------------------------------------------------------------------------
    Reader */

/*  stdio buffer of the files a reader opens itself, bytes (plus JSONIO_PADDING). */
#define S_FILE_BUFFER (1u << 20)

struct obs_reader_t {
    FILE *file;          /* input */
    bool owns_file;      /* opened by obs_reader_open, closed by destroy */
    char *stdio_buf;     /* file's stdio buffer when we opened it: S_FILE_BUFFER bytes and
                            JSONIO_PADDING spare ones, owned, freed after fclose */
    char *source;        /* name used in error messages, owned */
    obs_format_t format; /* AUTO until the first read detects it */
    uint64_t records;    /* last record number used */
    char *line;          /* JSON Lines: a copy of the current line, padded, owned */
    size_t line_cap;     /* bytes allocated for line */
    wire_reader_t *wire; /* MessagePack framer, owned */
    bool done;           /* end of input reached */
};

obs_reader_t *
obs_reader_new(FILE *file, obs_format_t format, const char *source)
{
    assert(file);
    if (format != OBS_FORMAT_AUTO && format != OBS_FORMAT_JSONL && format != OBS_FORMAT_MSGPACK) {
        log_error("obs_reader_new: invalid format %d", (int)format);
        return NULL;
    }
    obs_reader_t *self = xcalloc(1, sizeof *self);
    self->file = file;
    self->format = format;
    self->source = xstrdup(source ? source : "-");
    return self;
}

obs_reader_t *
obs_reader_open(const char *path, obs_format_t format)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *file = is_stdin ? stdin : fopen(path, "rb");
    if (!file) {
        log_error("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    obs_reader_t *self = obs_reader_new(file, format, is_stdin ? "<stdin>" : path);
    if (!self) {
        if (!is_stdin) {
            fclose(file);
        }
        return NULL;
    }
    self->owns_file = !is_stdin;
    if (!is_stdin) {
        /*  A file of our own, untouched so far: read it in large blocks (stdio's default is
            st_blksize, 4 KiB) into a buffer with room for simdjson's padding after it
            (zeroed, so that padding read before the first fill reached it is defined). */
        self->stdio_buf = xcalloc(1, (size_t)S_FILE_BUFFER + JSONIO_PADDING);
        if (setvbuf(file, self->stdio_buf, _IOFBF, S_FILE_BUFFER) != 0) {
            free(self->stdio_buf);
            self->stdio_buf = NULL;
        }
    }
    return self;
}

void
obs_reader_destroy(obs_reader_t **self_p)
{
    assert(self_p);
    obs_reader_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->owns_file) {
        fclose(self->file);
    }
    free(self->stdio_buf); /* stdio's buffer: only once the FILE is closed */
    wire_reader_destroy(&self->wire);
    free(self->line);
    free(self->source);
    free(self);
    *self_p = NULL;
}

uint64_t
obs_reader_records(const obs_reader_t *self)
{
    return self->records;
}

const char *
obs_reader_source(const obs_reader_t *self)
{
    return self->source;
}

obs_format_t
obs_reader_format(const obs_reader_t *self)
{
    return self->format;
}

/*  Picks the format from the stream's first byte, which is peeked and pushed back. */
static void
s_detect(obs_reader_t *self)
{
    int c = getc(self->file);
    if (c == EOF) {
        self->format = OBS_FORMAT_JSONL;
        return;
    }
    ungetc(c, self->file);
    bool map = (c >= 0x80 && c <= 0x8F) || c == 0xDE || c == 0xDF;
    self->format = map || (c >= 0x80 && c != 0xEF) ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL;
}

/*  One line read. */
typedef struct {
    const char *text; /* the line: in stdio's buffer or self->line, followed by JSONIO_PADDING
                         readable bytes; valid until the next read */
    size_t len;       /* bytes of text (line end and a final "\r" removed) */
    uint64_t total;   /* bytes of the line, counting what was dropped */
    bool terminated;  /* ended by "\n" (false: by the end of input) */
    bool too_long;    /* longer than OBS_MAX_RECORD: dropped */
} s_line_t;

/*  Appends n bytes of the current line to self->line, keeping at most keep bytes of it and
    counting the rest as dropped; self->line keeps JSONIO_PADDING bytes spare. */
static void
s_keep(obs_reader_t *self, s_line_t *ln, const char *p, size_t n, size_t keep)
{
    ln->total += n;
    size_t take = ln->len < keep ? keep - ln->len : 0;
    if (take < n) {
        ln->too_long = true;
    } else {
        take = n;
    }
    if (take > 0) {
        xgrow(&self->line, &self->line_cap, ln->len + take + JSONIO_PADDING);
        memcpy(self->line + ln->len, p, take);
        ln->len += take;
    }
}

#if defined(__GLIBC__)
/*  The bytes stdio has read ahead for file and not handed out yet, which is where glibc's
    FILE keeps them (_IO_read_ptr to _IO_read_end, public fields of its struct _IO_FILE;
    gnulib's freadptr() and freadseek() read and advance them the same way). The line
    reader scans them with memchr instead of calling getc per byte, and still consumes
    exactly one line. file must be locked. */
static size_t
s_buffered(FILE *file, const char **p)
{
    *p = file->_IO_read_ptr;
    return file->_IO_read_ptr < file->_IO_read_end
               ? (size_t)(file->_IO_read_end - file->_IO_read_ptr)
               : 0;
}

/*  Consumes n of the bytes s_buffered() returned. */
static void
s_consume(FILE *file, size_t n)
{
    file->_IO_read_ptr += n;
}
#else
/*  Elsewhere the line is read a byte at a time. */
static size_t
s_buffered(FILE *file, const char **p)
{
    (void)file;
    *p = NULL;
    return 0;
}

static void
s_consume(FILE *file, size_t n)
{
    (void)file;
    (void)n;
}
#endif

/*  True when the n bytes at p lie in the stdio buffer the reader gave its file, so that
    JSONIO_PADDING allocated bytes follow them. (After an ungetc of a byte that was not the
    one read, glibc reads from a separate pushback buffer.) */
static bool
s_in_own_buffer(const obs_reader_t *self, const char *p, size_t n)
{
    uintptr_t lo = (uintptr_t)self->stdio_buf;
    uintptr_t at = (uintptr_t)p;
    return self->stdio_buf && at >= lo && at - lo + n <= S_FILE_BUFFER;
}

/*  Reads one line. Returns 1, 0 at end of input (nothing read), or -errno. */
static int
s_read_line(obs_reader_t *self, s_line_t *ln)
{
    memset(ln, 0, sizeof *ln);
    /*  Keep one byte more than the limit: a "\r" before the "\n" is not part of the record. */
    const size_t keep = (size_t)OBS_MAX_RECORD + 1;
    int c = 0;
    flockfile(self->file);
    const char *p = NULL;
    size_t n = s_buffered(self->file, &p);
    const char *nl = n > 0 ? memchr(p, '\n', n) : NULL;
    if (nl && (size_t)(nl - p) <= keep && s_in_own_buffer(self, p, n)) {
        /*  The common case: the whole line is in our padded stdio buffer. */
        ln->text = p;
        ln->len = (size_t)(nl - p);
        ln->total = ln->len;
        s_consume(self->file, ln->len + 1);
        c = '\n';
    } else {
        for (;;) {
            if (n > 0) {
                nl = memchr(p, '\n', n);
                size_t run = nl ? (size_t)(nl - p) : n;
                s_keep(self, ln, p, run, keep);
                s_consume(self->file, run + (nl != NULL));
                if (nl) {
                    c = '\n';
                    break;
                }
            } else {
                /*  Nothing buffered: getc refills stdio's buffer (one read, as much as is
                    there). */
                c = getc_unlocked(self->file);
                if (c == EOF || c == '\n') {
                    break;
                }
                char ch = (char)c;
                s_keep(self, ln, &ch, 1, keep);
            }
            n = s_buffered(self->file, &p);
        }
        /*  The copy (never NULL, so that an empty line has a padded text too), its padding
            zeroed: simdjson may read it, and what it reads should be defined. */
        xgrow(&self->line, &self->line_cap, ln->len + JSONIO_PADDING);
        memset(self->line + ln->len, 0, JSONIO_PADDING);
        ln->text = self->line;
    }
    bool failed = c == EOF && ferror(self->file);
    funlockfile(self->file);
    if (failed) {
        return errno ? -errno : -EIO;
    }
    ln->terminated = c == '\n';
    if (!ln->terminated && ln->total == 0) {
        return 0;
    }
    if (ln->len > 0 && ln->text[ln->len - 1] == '\r' && !ln->too_long) {
        ln->len--;
    }
    if (ln->len > OBS_MAX_RECORD) {
        ln->too_long = true;
    }
    return 1;
}

/*  True for a line of JSON whitespace only. */
static bool
s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

int
obs_reader_next_as(obs_reader_t *self, obs_decode_fn decode, void *out, obs_error_t *err)
{
    if (self->done) {
        return 0;
    }
    if (self->format == OBS_FORMAT_AUTO) {
        s_detect(self);
    }
    if (self->format == OBS_FORMAT_MSGPACK) {
        if (!self->wire) {
            self->wire = wire_reader_new(self->file, OBS_MAX_RECORD);
        }
        const char *data = NULL;
        size_t len = 0;
        int rc = wire_reader_next(self->wire, &data, &len, err);
        self->records = wire_reader_messages(self->wire);
        if (rc != 1) {
            self->done = rc == 0 || rc == CADRE_ETRUNC || (rc < 0 && rc > -1000);
            return rc;
        }
        rc = decode(data, len, OBS_FORMAT_MSGPACK, self->records, out, err);
        return rc == 0 ? 1 : rc;
    }
    for (;;) {
        s_line_t ln;
        int rc = s_read_line(self, &ln);
        if (rc == 0) {
            self->done = true;
            return 0;
        }
        self->records++;
        if (rc < 0) {
            self->done = true;
            obs_error_set(err, self->records, NULL, "", "read error: %s", strerror(-rc));
            return rc;
        }
        if (ln.too_long) {
            return obs_error_set(err, self->records, NULL, "",
                                 "line of %" PRIu64 " bytes is longer than the limit of %u bytes",
                                 ln.total, OBS_MAX_RECORD);
        }
        if (s_blank(ln.text, ln.len)) {
            continue;
        }
        rc = decode(ln.text, ln.len, OBS_FORMAT_JSONL, self->records, out, err);
        if (rc == CADRE_ETRUNC && ln.terminated) {
            rc = CADRE_ERECORD; /* a complete line with a bad ending is malformed, not cut */
        }
        if (rc == CADRE_ETRUNC) {
            self->done = true;
        }
        return rc == 0 ? 1 : rc;
    }
}

/*  obs_decode_fn for observations: out is an obs_t **. */
static int
s_decode_obs(const char *data, size_t len, obs_format_t format, uint64_t record, void *out,
             obs_error_t *err)
{
    if (format == OBS_FORMAT_MSGPACK) {
        return wire_obs_decode(data, len, record, out, err);
    }
    return jsonio_obs_decode_padded(data, len, record, out, err);
}

int
obs_reader_next(obs_reader_t *self, obs_t **obs_p, obs_error_t *err)
{
    return obs_reader_next_as(self, s_decode_obs, obs_p, err);
}

/*  --------------------------------------------------------------------------------------
    Writer */

struct obs_writer_t {
    FILE *file;          /* output, borrowed */
    obs_format_t format; /* JSONL or MSGPACK */
    wire_buf_t buf;      /* MessagePack encoding buffer, reused */
};

obs_writer_t *
obs_writer_new(FILE *file, obs_format_t format)
{
    assert(file);
    if (format != OBS_FORMAT_AUTO && format != OBS_FORMAT_JSONL && format != OBS_FORMAT_MSGPACK) {
        log_error("obs_writer_new: invalid format %d", (int)format);
        return NULL;
    }
    obs_writer_t *self = xcalloc(1, sizeof *self);
    self->file = file;
    self->format = format == OBS_FORMAT_MSGPACK ? OBS_FORMAT_MSGPACK : OBS_FORMAT_JSONL;
    wire_buf_init(&self->buf);
    return self;
}

void
obs_writer_destroy(obs_writer_t **self_p)
{
    assert(self_p);
    obs_writer_t *self = *self_p;
    if (!self) {
        return;
    }
    fflush(self->file);
    wire_buf_free(&self->buf);
    free(self);
    *self_p = NULL;
}

/*  Writes len bytes; returns 0 or -errno. */
static int
s_write_all(FILE *file, const void *data, size_t len)
{
    if (fwrite(data, 1, len, file) != len) {
        return errno ? -errno : -EIO;
    }
    return 0;
}

/*  Logs why a record could not be written. */
static void
s_log_reject(const obs_error_t *err)
{
    char msg[512];
    obs_error_format(err, "output", msg, sizeof msg);
    log_error("record not written: %s", msg);
}

int
obs_writer_put(obs_writer_t *self, const obs_t *obs)
{
    obs_error_t err;
    if (self->format == OBS_FORMAT_MSGPACK) {
        wire_buf_reset(&self->buf);
        int rc = wire_obs_encode(obs, &self->buf, &err);
        if (rc != 0) {
            s_log_reject(&err);
            return rc;
        }
        return s_write_all(self->file, self->buf.data, self->buf.len);
    }
    char *line = NULL;
    size_t len = 0;
    int rc = jsonio_obs_encode(obs, &line, &len, &err);
    if (rc != 0) {
        s_log_reject(&err);
        return rc;
    }
    line[len] = '\n'; /* replaces the NUL: the line is written by length */
    rc = s_write_all(self->file, line, len + 1);
    free(line);
    return rc;
}
