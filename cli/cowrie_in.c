/*  cowrie_in.c - Cowrie log files into observations for the CLI (see cowrie_in.h). */
#include "cowrie_in.h"

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

#define S_PEEK_LINES 100 /* lines read at most to find a file's first event time */

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

/*  One Cowrie input file and its sort key. */
typedef struct {
    const char *path; /* borrowed */
    double first;     /* first event time, -INFINITY for "-" or when none was found */
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

/*  The first event time of path, or -INFINITY. */
static double
s_first_time(const char *path)
{
    if (strcmp(path, "-") == 0) {
        return -INFINITY;
    }
    textin_t *in = textin_open(path, COWRIE_MAX_LINE);
    double t = -INFINITY;
    const char *line;
    size_t len;
    for (int k = 0; in && k < S_PEEK_LINES; k++) {
        int rc = textin_next(in, &line, &len);
        if (rc == 0 || rc == -EIO) {
            break;
        }
        if (rc == 1 && cowrie_event_time(line, len, &t) == 0) {
            break;
        }
        t = -INFINITY;
    }
    textin_destroy(&in);
    return t;
}

typedef int (*s_feed_fn)(cowrie_t *, const char *, size_t, uint64_t);

/*  Feeds one file through feed (emitting idle sources after each line when idle). Returns
    0, 1 on an I/O error, or the sink's code. */
static int
s_feed_file(const char *prog, cowrie_t *cw, const char *path, s_feed_fn feed, bool idle,
            cowrie_sink_fn sink, void *arg)
{
    textin_t *in = textin_open(path, COWRIE_MAX_LINE);
    if (!in) {
        fprintf(stderr, "cadre %s: %s: %s\n", prog, path, strerror(errno));
        return 1;
    }
    int rc = 0;
    const char *line;
    size_t len;
    while (rc == 0) {
        size_t reported = cowrie_bad_reported(cw);
        int got = textin_next(in, &line, &len);
        if (got == 0) {
            break;
        }
        if (got == -EIO) {
            fprintf(stderr, "cadre %s: %s: %s\n", prog, path, textin_error(in));
            rc = 1;
            break;
        }
        uint64_t no = textin_line_no(in);
        if (got == CADRE_ELIMIT) {
            char msg[96];
            snprintf(msg, sizeof msg, "line longer than %u bytes, skipped", COWRIE_MAX_LINE);
            cowrie_bad_line(cw, no, msg);
        } else {
            feed(cw, line, len, no);
        }
        if (cowrie_bad_reported(cw) > reported) {
            fprintf(stderr, "%s:%" PRIu64 ": %s\n", path, no, cowrie_bad_at(cw, reported)->message);
        }
        if (idle) {
            rc = cowrie_emit_idle(cw, sink, arg);
        }
    }
    textin_destroy(&in);
    return rc;
}

int
cowrie_in_run(const char *prog, const char *const *files, size_t n_files, const cowrie_in_opts_t *o,
              cowrie_sink_fn sink, void *arg)
{
    cowrie_t *cw = cowrie_new(&o->adapter);
    int rc = 0;
    for (size_t i = 0; i < o->n_fatt && rc == 0; i++) {
        rc = s_feed_file(prog, cw, o->fatt[i], cowrie_fatt_feed, false, sink, arg);
    }
    s_file_t *order = xcalloc(n_files + 1, sizeof *order);
    for (size_t i = 0; i < n_files; i++) {
        order[i] = (s_file_t){.path = files[i], .first = s_first_time(files[i]), .index = i};
    }
    qsort(order, n_files, sizeof *order, s_file_cmp);
    bool idle = o->adapter.flush_idle > 0;
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        rc = s_feed_file(prog, cw, order[i].path, cowrie_feed, idle, sink, arg);
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
    cowrie_destroy(&cw);
    return rc;
}
