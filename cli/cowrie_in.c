/*  cowrie_in.c - Cowrie log files into observations for the CLI (see cowrie_in.h). */
#include "cowrie_in.h"

#include "cmds.h"
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

#define S_PEEK_LINES 100        /* lines read ahead at most to find a file's first event time */
#define S_PEEK_BYTES (4u << 20) /* bytes read ahead at most for the same */

int
cowrie_in_option(const char *prog, int argc, char **argv, int *i, cowrie_in_opts_t *o)
{
    const char *a = argv[*i];
    bool is_group = strcmp(a, "--group") == 0;
    bool is_idle = strcmp(a, "--flush-idle") == 0;
    bool is_fatt = strcmp(a, "--fatt") == 0;
    if (!is_group && !is_idle && !is_fatt) {
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "cadre %s: %s wants a value\n", prog, a);
        return -1;
    }
    const char *v = argv[++*i];
    if (is_group) {
        if (strcmp(v, "ip") == 0) {
            o->adapter.group = COWRIE_GROUP_IP;
        } else if (strcmp(v, "ip-sensor") == 0) {
            o->adapter.group = COWRIE_GROUP_IP_SENSOR;
        } else {
            fprintf(stderr, "cadre %s: --group wants ip or ip-sensor, not '%s'\n", prog, v);
            return -1;
        }
    } else if (is_idle) {
        char *end = NULL;
        double s = strtod(v, &end);
        if (!*v || *end || !isfinite(s) || s <= 0) {
            fprintf(stderr, "cadre %s: --flush-idle wants a number of seconds > 0, not '%s'\n",
                    prog, v);
            return -1;
        }
        o->adapter.flush_idle = s;
    } else {
        o->fatt = xrealloc(o->fatt, (o->n_fatt + 1) * sizeof *o->fatt);
        o->fatt[o->n_fatt++] = v;
    }
    return 1;
}

void
cowrie_in_opts_clear(cowrie_in_opts_t *o)
{
    free(o->fatt);
    o->fatt = NULL;
    o->n_fatt = 0;
}

/*  One line read ahead while looking for a file's first event time. */
typedef struct {
    char *text;  /* the line (NUL-terminated copy), owned; NULL for an over-long line */
    size_t len;  /* its length */
    uint64_t no; /* its line number */
} s_ahead_t;

/*  One input, opened once: its reader, the lines read ahead of time and its sort key. The
    input is never opened a second time, so a pipe, a FIFO or standard input is read whole. */
typedef struct {
    const char *path; /* borrowed */
    textin_t *in;     /* the reader, owned; NULL before opening and after reading */
    s_ahead_t *ahead; /* lines read ahead (to find the first event time), owned */
    size_t n_ahead;   /* number of lines in ahead */
    size_t next;      /* the next line of ahead to hand out */
    bool ended;       /* the read-ahead reached the end of input or a read error */
    int end_rc;       /* then: what textin_next returned (0, or -EIO) */
    double first;     /* first event time, -INFINITY when none was found */
    size_t index;     /* position on the command line, the tie-breaker */
} s_file_t;

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

/*  Opens f->path once. Returns 0, or 1 after saying why on stderr. */
static int
s_file_open(const char *prog, s_file_t *f)
{
    f->in = textin_open(f->path, COWRIE_MAX_LINE);
    if (!f->in) {
        fprintf(stderr, "cadre %s: %s: %s\n", prog, f->path, strerror(errno));
        return 1;
    }
    f->first = -INFINITY;
    return 0;
}

/*  Reads f's first lines, up to its first event time (at most S_PEEK_LINES lines and
    S_PEEK_BYTES bytes), keeping them for s_file_next: nothing is read twice. */
static void
s_file_peek(s_file_t *f)
{
    size_t bytes = 0;
    while (f->n_ahead < S_PEEK_LINES && bytes < S_PEEK_BYTES) {
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
        if (cowrie_event_time(line, len, &t) == 0) {
            f->first = t;
            return;
        }
    }
}

/*  The next line of f: first those read ahead, then the reader's. Returns what
    textin_next returns (1, 0, CADRE_ELIMIT or -EIO), with *no the line's number. */
static int
s_file_next(s_file_t *f, const char **line, size_t *len, uint64_t *no)
{
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
    int rc = textin_next(f->in, line, len);
    *no = textin_line_no(f->in);
    return rc;
}

/*  Closes f's reader and frees what it read ahead. */
static void
s_file_close(s_file_t *f)
{
    textin_destroy(&f->in);
    for (size_t i = 0; i < f->n_ahead; i++) {
        free(f->ahead[i].text);
    }
    free(f->ahead);
    f->ahead = NULL;
    f->n_ahead = f->next = 0;
}

/*  Makes room for n_files inputs open at once: raises the soft limit on open files towards
    the hard one when it is too low (every Cowrie input stays open until its turn). */
static void
s_room_for(size_t n_files)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n_files + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

typedef int (*s_feed_fn)(cowrie_t *, const char *, size_t, uint64_t);

/*  Line counts of the files of one kind (Cowrie or fatt). */
typedef struct {
    const char *kind; /* "Cowrie" or "fatt", for messages */
    uint64_t lines;   /* lines read */
    uint64_t blank;   /* blank lines (ignored, neither used nor bad) */
    uint64_t bad;     /* bad lines */
} s_tally_t;

/*  True when s holds only blanks (as the adapter's blank lines). */
static bool
s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return false;
        }
    }
    return true;
}

/*  True when lines were read and every one that was not blank is bad. */
static bool
s_all_bad(const s_tally_t *t)
{
    return t->bad > 0 && t->bad == t->lines - t->blank;
}

/*  Feeds one opened file through feed (emitting idle sources after each line when idle),
    then closes it, adding its line counts to tally and saying on stderr when its every
    line was bad. Returns 0, 1 on an I/O error, or the sink's code. */
static int
s_feed_file(const char *prog, cowrie_t *cw, s_file_t *f, s_feed_fn feed, bool idle,
            cowrie_sink_fn sink, void *arg, s_tally_t *tally)
{
    s_tally_t mine = {.kind = tally->kind};
    int rc = 0;
    const char *line = NULL;
    size_t len = 0;
    while (rc == 0) {
        size_t reported = cowrie_bad_reported(cw);
        uint64_t no = 0;
        int got = s_file_next(f, &line, &len, &no);
        if (got == 0) {
            break;
        }
        if (got == -EIO) {
            fprintf(stderr, "cadre %s: %s: %s\n", prog, f->path, textin_error(f->in));
            rc = 1;
            break;
        }
        mine.lines++;
        if (got == CADRE_ELIMIT) {
            char msg[96];
            snprintf(msg, sizeof msg, "line longer than %u bytes, skipped", COWRIE_MAX_LINE);
            cowrie_bad_line(cw, no, msg);
            mine.bad++;
        } else if (s_blank(line, len)) {
            mine.blank++;
            feed(cw, line, len, no); /* counted as a line, ignored */
        } else if (feed(cw, line, len, no) != 0) {
            mine.bad++;
        }
        if (cowrie_bad_reported(cw) > reported) {
            fprintf(stderr, "%s:%" PRIu64 ": %s\n", f->path, no,
                    cowrie_bad_at(cw, reported)->message);
        }
        if (idle) {
            rc = cowrie_emit_idle(cw, sink, arg);
        }
    }
    if (rc == 0 && s_all_bad(&mine)) {
        fprintf(stderr,
                "cadre %s: %s: every line is bad (%" PRIu64 " of %" PRIu64
                "): not a %s JSON log?\n",
                prog, f->path, mine.bad, mine.lines - mine.blank, mine.kind);
    }
    tally->lines += mine.lines;
    tally->blank += mine.blank;
    tally->bad += mine.bad;
    s_file_close(f);
    return rc;
}

int
cowrie_in_run(const char *prog, const char *const *files, size_t n_files, const cowrie_in_opts_t *o,
              cowrie_sink_fn sink, void *arg)
{
    cowrie_t *cw = cowrie_new(&o->adapter);
    s_tally_t fatt = {.kind = "fatt"};
    s_tally_t cowrie = {.kind = "Cowrie"};
    int rc = 0;
    for (size_t i = 0; i < o->n_fatt && rc == 0; i++) {
        s_file_t f = {.path = o->fatt[i]};
        rc = s_file_open(prog, &f);
        if (rc == 0) {
            rc = s_feed_file(prog, cw, &f, cowrie_fatt_feed, false, sink, arg, &fatt);
        }
    }
    /* Every Cowrie input is opened once and its first lines read ahead to find its first
       event time; the readers stay open, holding those lines, until their turn. */
    s_file_t *order = xcalloc(n_files + 1, sizeof *order);
    s_room_for(n_files);
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        order[i] = (s_file_t){.path = files[i], .index = i};
        rc = s_file_open(prog, &order[i]);
        if (rc == 0) {
            s_file_peek(&order[i]);
        }
    }
    if (rc == 0) {
        qsort(order, n_files, sizeof *order, s_file_cmp);
    }
    bool idle = o->adapter.flush_idle > 0;
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        rc = s_feed_file(prog, cw, &order[i], cowrie_feed, idle, sink, arg, &cowrie);
    }
    for (size_t i = 0; i < n_files; i++) {
        s_file_close(&order[i]);
    }
    free(order);
    if (rc == 0) {
        rc = cowrie_finish(cw, sink, arg);
    }
    fprintf(stderr,
            "%" PRIu64 " lines, %" PRIu64 " bad, %" PRIu64 " sessions (%" PRIu64
            " cadre sessions), %" PRIu64 " observations\n",
            cowrie_lines(cw), cowrie_bad(cw), cowrie_sessions(cw), cowrie_cadre_sessions(cw),
            cowrie_observations(cw));
    if (o->n_fatt > 0) {
        fprintf(stderr,
                "fatt: %" PRIu64 " lines, %" PRIu64 " bad, %" PRIu64 " records, %" PRIu64
                " sessions joined\n",
                cowrie_fatt_lines(cw), cowrie_fatt_bad(cw), cowrie_fatt_records(cw),
                cowrie_fatt_joined(cw));
    }
    if (idle) {
        fprintf(stderr, "at most %zu sources open at once\n", cowrie_open_peak(cw));
    }
    /* What the OBS_MAX_* limits kept out, per kind: never dropped without a word. */
    char drops[256] = "";
    size_t at = 0;
    for (int k = 0; k < COWRIE_DROP_KINDS && at < sizeof drops; k++) {
        uint64_t n = cowrie_dropped(cw, (cowrie_drop_t)k);
        if (n > 0) {
            at += (size_t)snprintf(drops + at, sizeof drops - at, "%s%" PRIu64 " %s",
                                   at ? ", " : "", n, cowrie_drop_name((cowrie_drop_t)k));
        }
    }
    if (at > 0) {
        fprintf(stderr, "dropped over the limits (docs/cowrie.md): %s\n", drops);
    }
    for (int k = 0; k < 2 && rc == 0; k++) {
        const s_tally_t *t = k == 0 ? &cowrie : &fatt;
        if (s_all_bad(t)) {
            fprintf(stderr,
                    "cadre %s: every %s line is bad (%" PRIu64 " of %" PRIu64 "): nothing to use\n",
                    prog, t->kind, t->bad, t->lines - t->blank);
            rc = CLI_EX_DATAERR;
        }
    }
    cowrie_destroy(&cw);
    return rc;
}
