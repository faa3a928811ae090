/*  cowrie_in.c - Cowrie log files into observations for the CLI (see cowrie_in.h). */
#include "cowrie_in.h"

#include "cmds.h"
#include "err.h"
#include "logfiles.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*  Feeds the i-th input of files through feed (emitting idle sources after each line when
    idle), then closes it, adding its line counts to tally and saying on stderr when its
    every line was bad. Returns 0, 1 on an I/O error, or the sink's code. */
static int
s_feed_file(const char *prog, cowrie_t *cw, logfiles_t *files, size_t i, s_feed_fn feed, bool idle,
            cowrie_sink_fn sink, void *arg, s_tally_t *tally)
{
    s_tally_t mine = {.kind = tally->kind};
    const char *path = logfiles_path(files, i);
    int rc = 0;
    const char *line = NULL;
    size_t len = 0;
    while (rc == 0) {
        size_t reported = cowrie_bad_reported(cw);
        uint64_t no = 0;
        int got = logfiles_next(files, i, &line, &len, &no);
        if (got == 0) {
            break;
        }
        if (got == -EIO) {
            fprintf(stderr, "cadre %s: %s: %s\n", prog, path, logfiles_error(files, i));
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
            fprintf(stderr, "%s:%" PRIu64 ": %s\n", path, no, cowrie_bad_at(cw, reported)->message);
        }
        if (idle) {
            rc = cowrie_emit_idle(cw, sink, arg);
        }
    }
    if (rc == 0 && s_all_bad(&mine)) {
        fprintf(stderr,
                "cadre %s: %s: every line is bad (%" PRIu64 " of %" PRIu64
                "): not a %s JSON log?\n",
                prog, path, mine.bad, mine.lines - mine.blank, mine.kind);
    }
    tally->lines += mine.lines;
    tally->blank += mine.blank;
    tally->bad += mine.bad;
    logfiles_close(files, i);
    return rc;
}

static int
s_event_time(const char *line, size_t len, double *t)
{
    return cowrie_event_time(line, len, t);
}

int
cowrie_in_run(const char *prog, const char *const *files_in, size_t n_files,
              const cowrie_in_opts_t *o, cowrie_sink_fn sink, void *arg)
{
    cowrie_t *cw = cowrie_new(&o->adapter);
    s_tally_t fatt = {.kind = "fatt"};
    s_tally_t cowrie = {.kind = "Cowrie"};
    int rc = 0;
    for (size_t i = 0; i < o->n_fatt && rc == 0; i++) {
        logfiles_t *f = logfiles_open(prog, &o->fatt[i], 1, COWRIE_MAX_LINE, NULL);
        rc = f ? s_feed_file(prog, cw, f, 0, cowrie_fatt_feed, false, sink, arg, &fatt) : 1;
        logfiles_destroy(&f);
    }
    /* Every Cowrie input is opened once and its first lines read ahead to find its first
       event time; the readers stay open, holding those lines, until their turn. */
    logfiles_t *files =
        rc == 0 ? logfiles_open(prog, files_in, n_files, COWRIE_MAX_LINE, s_event_time) : NULL;
    rc = rc == 0 && !files ? 1 : rc;
    bool idle = o->adapter.flush_idle > 0;
    for (size_t i = 0; files && i < n_files && rc == 0; i++) {
        rc = s_feed_file(prog, cw, files, i, cowrie_feed, idle, sink, arg, &cowrie);
    }
    logfiles_destroy(&files);
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
