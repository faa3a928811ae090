/*  logfiles.c - the log inputs of one ingest run, in first-event-time order (see
    logfiles.h). */
#include "logfiles.h"

#include "err.h"
#include "textin.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/*  One line read ahead while looking for an input's first event time. */
typedef struct {
    char *text;  /* the line (NUL-terminated copy), owned; NULL for an over-long line */
    size_t len;  /* its length */
    uint64_t no; /* its line number */
} s_ahead_t;

/*  One input, opened once: its reader, the lines read ahead and its sort key. */
typedef struct {
    const char *path; /* borrowed */
    textin_t *in;     /* the reader, owned; NULL once closed */
    s_ahead_t *ahead; /* lines read ahead, owned */
    size_t n_ahead;   /* number of lines in ahead */
    size_t next;      /* the next line of ahead to hand out */
    bool ended;       /* the read-ahead reached the end of input or a read error */
    int end_rc;       /* then: what textin_next returned (0, or -EIO) */
    double first;     /* first event time, -INFINITY when none was found */
    size_t index;     /* position in the caller's list, the tie-breaker */
} s_file_t;

struct logfiles_t {
    s_file_t *files; /* the inputs, in reading order */
    size_t n;        /* number of inputs */
    size_t max_line; /* longest line */
};

static int
s_file_cmp(const void *pa, const void *pb)
{
    const s_file_t *a = pa;
    const s_file_t *b = pb;
    if (a->first != b->first) {
        return a->first < b->first ? -1 : 1;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

/*  Reads f's first lines, up to its first event time, keeping them for logfiles_next. */
static void
s_peek(s_file_t *f, logfiles_time_fn time_fn)
{
    size_t bytes = 0;
    while (f->n_ahead < LOGFILES_PEEK_LINES && bytes < LOGFILES_PEEK_BYTES) {
        const char *line;
        size_t len;
        int rc = textin_next(f->in, &line, &len);
        if (rc != 1 && rc != CADRE_ELIMIT) {
            f->ended = true;
            f->end_rc = rc;
            return;
        }
        f->ahead = xrealloc(f->ahead, (f->n_ahead + 1) * sizeof *f->ahead);
        s_ahead_t *a = &f->ahead[f->n_ahead++];
        *a = (s_ahead_t){.no = textin_line_no(f->in)};
        if (rc == CADRE_ELIMIT) {
            continue;
        }
        a->text = xmalloc(len + 1);
        memcpy(a->text, line, len + 1);
        a->len = len;
        bytes += len;
        double t;
        if (time_fn(line, len, &t) == 0) {
            f->first = t;
            return;
        }
    }
}

/*  Makes room for n inputs open at once: raises the soft limit on open files towards the
    hard one when it is too low. */
static void
s_room_for(size_t n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

logfiles_t *
logfiles_open(const char *prog, const char *const *paths, size_t n, size_t max_line,
              logfiles_time_fn time_fn)
{
    logfiles_t *self = xcalloc(1, sizeof *self);
    self->max_line = max_line;
    self->files = xcalloc(n + 1, sizeof *self->files);
    s_room_for(n);
    for (size_t i = 0; i < n; i++) {
        s_file_t *f = &self->files[i];
        *f = (s_file_t){.path = paths[i], .index = i, .first = -INFINITY};
        f->in = textin_open(f->path, max_line);
        if (!f->in) {
            fprintf(stderr, "cadre %s: %s: %s\n", prog, f->path, strerror(errno));
            self->n = i;
            logfiles_destroy(&self);
            return NULL;
        }
        if (time_fn) {
            s_peek(f, time_fn);
        }
    }
    self->n = n;
    if (time_fn) {
        qsort(self->files, n, sizeof *self->files, s_file_cmp);
    }
    return self;
}

void
logfiles_close(logfiles_t *self, size_t i)
{
    s_file_t *f = &self->files[i];
    textin_destroy(&f->in);
    for (size_t k = 0; k < f->n_ahead; k++) {
        free(f->ahead[k].text);
    }
    free(f->ahead);
    f->ahead = NULL;
    f->n_ahead = f->next = 0;
}

void
logfiles_destroy(logfiles_t **self_p)
{
    logfiles_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->n; i++) {
        logfiles_close(self, i);
    }
    free(self->files);
    free(self);
    *self_p = NULL;
}

size_t
logfiles_count(const logfiles_t *self)
{
    return self->n;
}

const char *
logfiles_path(const logfiles_t *self, size_t i)
{
    return self->files[i].path;
}

int
logfiles_next(logfiles_t *self, size_t i, const char **line, size_t *len, uint64_t *no)
{
    s_file_t *f = &self->files[i];
    if (f->next < f->n_ahead) {
        s_ahead_t *a = &f->ahead[f->next++];
        *no = a->no;
        if (!a->text) {
            return CADRE_ELIMIT;
        }
        *line = a->text;
        *len = a->len;
        return 1;
    }
    if (f->ended) {
        return f->end_rc;
    }
    if (!f->in) {
        return 0;
    }
    int rc = textin_next(f->in, line, len);
    *no = textin_line_no(f->in);
    return rc;
}

const char *
logfiles_error(const logfiles_t *self, size_t i)
{
    return self->files[i].in ? textin_error(self->files[i].in) : "";
}

bool
logfiles_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return false;
        }
    }
    return true;
}

int
logfiles_feed(logfiles_t *self, size_t i, const char *prog, const logfiles_adapter_t *a,
              logfiles_tally_t *tally)
{
    logfiles_tally_t mine = {0};
    const char *path = logfiles_path(self, i);
    int rc = 0;
    const char *line = NULL;
    size_t len = 0;
    while (rc == 0) {
        size_t reported = a->bad_reported(a->ctx);
        uint64_t no = 0;
        int got = logfiles_next(self, i, &line, &len, &no);
        if (got == 0) {
            break;
        }
        if (got == -EIO) {
            fprintf(stderr, "cadre %s: %s: %s\n", prog, path, logfiles_error(self, i));
            rc = 1;
            break;
        }
        mine.lines++;
        if (got == CADRE_ELIMIT) {
            char msg[96];
            snprintf(msg, sizeof msg, "line longer than %zu bytes, skipped", self->max_line);
            a->bad_line(a->ctx, no, msg);
            mine.bad++;
        } else if (logfiles_blank(line, len)) {
            mine.blank++;
            a->feed(a->ctx, line, len, no); /* counted as a line, ignored */
        } else if (a->feed(a->ctx, line, len, no) != 0) {
            mine.bad++;
        }
        if (a->bad_reported(a->ctx) > reported) {
            fprintf(stderr, "%s:%" PRIu64 ": %s\n", path, no, a->bad_message(a->ctx, reported));
        }
        if (a->emit_idle) {
            rc = a->emit_idle(a->ctx);
        }
    }
    if (rc == 0 && logfiles_all_bad(&mine)) {
        fprintf(stderr,
                "cadre %s: %s: every line is bad (%" PRIu64 " of %" PRIu64 "): not a %s log?\n",
                prog, path, mine.bad, mine.lines - mine.blank, a->what);
    }
    tally->lines += mine.lines;
    tally->blank += mine.blank;
    tally->bad += mine.bad;
    logfiles_close(self, i);
    return rc;
}
