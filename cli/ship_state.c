/*  ship_state.c - the offsets file of `cadre ship` (see ship_state.h). */
#include "ship_state.h"

#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAGIC "cadre-ship 1"

struct ship_state_t {
    char *dir;        /* the state directory, owned */
    char *input;      /* the input kind, owned */
    int lock_fd;      /* DIR/lock, flock'ed */
    ship_rec_t *recs; /* loaded records not taken yet, owned */
    size_t n_recs;    /* their number */
};

void
ship_rec_clear(ship_rec_t *rec)
{
    free(rec->path);
    free(rec->cuts);
    memset(rec, 0, sizeof *rec);
}

/*  Writes path into out with bytes below 0x21, '%' and 0x7f as %XX. */
static void
s_escape(FILE *out, const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p < 0x21 || *p == '%' || *p == 0x7f) {
            fprintf(out, "%%%02X", *p);
        } else {
            fputc(*p, out);
        }
    }
}

static int
s_hex(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*  Undoes s_escape on text (len bytes, no newline): a new string, or NULL when malformed. */
static char *
s_unescape(const char *text, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '%') {
            out[o++] = text[i];
            continue;
        }
        int hi = i + 2 < len ? s_hex(text[i + 1]) : -1;
        int lo = i + 2 < len ? s_hex(text[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

/*  Parses one "unit ..." line (without "unit "). Returns 0 or -1. */
static int
s_parse_unit(const char *text, ship_rec_t *rec)
{
    char flags[8];
    int used = 0;
    uint64_t fp_len = 0;
    if (sscanf(
            text, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNx64 " %" SCNu64 " %" SCNu64 " %7s %n",
            &rec->dev, &rec->ino, &fp_len, &rec->fp, &rec->commit, &rec->line, flags, &used) != 7 ||
        used == 0 || fp_len > UINT32_MAX || (strcmp(flags, "d") != 0 && strcmp(flags, "-") != 0)) {
        return -1;
    }
    rec->fp_len = (uint32_t)fp_len;
    rec->done = strcmp(flags, "d") == 0;
    rec->path = s_unescape(text + used, strlen(text + used));
    return rec->path && rec->path[0] ? 0 : -1;
}

/*  Loads DIR/offsets into self. Returns 0 (also when there is none) or -1 with err set. */
static int
s_load(ship_state_t *self, char *err, size_t errlen)
{
    char *path = xasprintf("%s/offsets", self->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        free(path);
        if (e == ENOENT) {
            return 0;
        }
        snprintf(err, errlen, "%s/offsets: %s", self->dir, strerror(e));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint64_t no = 0;
    size_t cuts_cap = 0;
    int rc = 0;
    while (rc == 0 && (got = getline(&line, &cap, f)) >= 0) {
        no++;
        if (got > 0 && line[got - 1] == '\n') {
            line[--got] = '\0';
        }
        if (no == 1) {
            size_t m = strlen(S_MAGIC);
            if (strncmp(line, S_MAGIC " ", m + 1) != 0) {
                snprintf(err, errlen, "%s: not a cadre ship state file", path);
                rc = -1;
            } else if (strcmp(line + m + 1, self->input) != 0) {
                snprintf(err, errlen,
                         "%s was written for --input %s, not %s (use another --state directory)",
                         path, line + m + 1, self->input);
                rc = -1;
            }
            continue;
        }
        if (strncmp(line, "unit ", 5) == 0) {
            xgrow(&self->recs, &cuts_cap, self->n_recs + 1);
            ship_rec_t *rec = &self->recs[self->n_recs];
            memset(rec, 0, sizeof *rec);
            if (s_parse_unit(line + 5, rec) != 0) {
                ship_rec_clear(rec);
                snprintf(err, errlen, "%s:%" PRIu64 ": malformed unit line", path, no);
                rc = -1;
            } else {
                self->n_recs++;
            }
        } else if (strncmp(line, "cut ", 4) == 0 && self->n_recs > 0) {
            ship_rec_t *rec = &self->recs[self->n_recs - 1];
            char *end = NULL;
            uint64_t pos = strtoull(line + 4, &end, 10);
            uint64_t prev = rec->n_cuts ? rec->cuts[rec->n_cuts - 1] : rec->commit;
            if (!end || *end || end == line + 4 || pos <= prev) {
                snprintf(err, errlen, "%s:%" PRIu64 ": malformed cut line", path, no);
                rc = -1;
            } else {
                rec->cuts = xrealloc(rec->cuts, (rec->n_cuts + 1) * sizeof *rec->cuts);
                rec->cuts[rec->n_cuts++] = pos;
            }
        } else if (line[0] != '\0') {
            snprintf(err, errlen, "%s:%" PRIu64 ": unknown line", path, no);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    free(path);
    return rc;
}

ship_state_t *
ship_state_open(const char *dir, const char *input, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    char *lock = xasprintf("%s/lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", lock, strerror(errno));
        free(lock);
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s: %s", lock,
                 errno == EWOULDBLOCK ? "held by another cadre ship" : strerror(errno));
        close(fd);
        free(lock);
        return NULL;
    }
    free(lock);
    ship_state_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    self->input = xstrdup(input);
    self->lock_fd = fd;
    if (s_load(self, err, errlen) != 0) {
        ship_state_destroy(&self);
        return NULL;
    }
    return self;
}

void
ship_state_destroy(ship_state_t **self_p)
{
    ship_state_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n_recs; i++) {
        ship_rec_clear(&self->recs[i]);
    }
    free(self->recs);
    if (self->lock_fd >= 0) {
        close(self->lock_fd);
    }
    free(self->dir);
    free(self->input);
    free(self);
    *self_p = NULL;
}

void
ship_state_take(ship_state_t *self, ship_rec_t **recs, size_t *n)
{
    *recs = self->recs;
    *n = self->n_recs;
    self->recs = NULL;
    self->n_recs = 0;
}

int
ship_state_save(ship_state_t *self, const ship_rec_t *recs, size_t n)
{
    char *tmp = xasprintf("%s/offsets.tmp", self->dir);
    char *path = xasprintf("%s/offsets", self->dir);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        rc = -errno;
        if (fd >= 0) {
            close(fd);
        }
        goto out;
    }
    fprintf(f, "%s %s\n", S_MAGIC, self->input);
    for (size_t i = 0; i < n; i++) {
        const ship_rec_t *r = &recs[i];
        fprintf(f,
                "unit %" PRIu64 " %" PRIu64 " %" PRIu32 " %016" PRIx64 " %" PRIu64 " %" PRIu64
                " %s ",
                r->dev, r->ino, r->fp_len, r->fp, r->commit, r->line, r->done ? "d" : "-");
        s_escape(f, r->path);
        fputc('\n', f);
        for (size_t k = 0; k < r->n_cuts; k++) {
            fprintf(f, "cut %" PRIu64 "\n", r->cuts[k]);
        }
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = -errno;
        fclose(f);
        goto out;
    }
    if (fclose(f) != 0) {
        rc = -errno;
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = -errno;
        goto out;
    }
    /* The rename itself is durable only once the directory is. */
    int dfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        rc = -errno;
    }
    if (dfd >= 0) {
        close(dfd);
    }
out:
    free(tmp);
    free(path);
    return rc;
}
