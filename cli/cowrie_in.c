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

/*  The Cowrie adapter, fed Cowrie or fatt lines, as logfiles_feed() drives it. */
typedef struct {
    cowrie_t *cw;        /* the adapter */
    s_feed_fn feed;      /* cowrie_feed or cowrie_fatt_feed */
    cowrie_sink_fn sink; /* where idle sources go */
    void *arg;           /* its argument */
} s_feed_t;

static int
s_feed(void *ctx, const char *line, size_t len, uint64_t no)
{
    s_feed_t *f = ctx;
    return f->feed(f->cw, line, len, no);
}

static void
s_bad_line(void *ctx, uint64_t no, const char *message)
{
    cowrie_bad_line(((s_feed_t *)ctx)->cw, no, message);
}

static size_t
s_bad_reported(void *ctx)
{
    return cowrie_bad_reported(((s_feed_t *)ctx)->cw);
}

static const char *
s_bad_message(void *ctx, size_t k)
{
    return cowrie_bad_at(((s_feed_t *)ctx)->cw, k)->message;
}

static int
s_emit_idle(void *ctx)
{
    s_feed_t *f = ctx;
    return cowrie_emit_idle(f->cw, f->sink, f->arg);
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
    logfiles_tally_t fatt = {0};
    logfiles_tally_t cowrie = {0};
    int rc = 0;
    s_feed_t fctx = {cw, cowrie_fatt_feed, sink, arg};
    logfiles_adapter_t fad = {s_feed, s_bad_line,  s_bad_reported, s_bad_message,
                              NULL,   "fatt JSON", &fctx};
    for (size_t i = 0; i < o->n_fatt && rc == 0; i++) {
        logfiles_t *f = logfiles_open(prog, &o->fatt[i], 1, COWRIE_MAX_LINE, NULL);
        rc = f ? logfiles_feed(f, 0, prog, &fad, &fatt) : 1;
        logfiles_destroy(&f);
    }
    /* Every Cowrie input is opened once and its first lines read ahead to find its first
       event time; the readers stay open, holding those lines, until their turn. */
    logfiles_t *files =
        rc == 0 ? logfiles_open(prog, files_in, n_files, COWRIE_MAX_LINE, s_event_time) : NULL;
    rc = rc == 0 && !files ? 1 : rc;
    bool idle = o->adapter.flush_idle > 0;
    s_feed_t cctx = {cw, cowrie_feed, sink, arg};
    logfiles_adapter_t cad = {
        s_feed,        s_bad_line, s_bad_reported, s_bad_message, idle ? s_emit_idle : NULL,
        "Cowrie JSON", &cctx};
    for (size_t i = 0; files && i < n_files && rc == 0; i++) {
        rc = logfiles_feed(files, i, prog, &cad, &cowrie);
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
        const logfiles_tally_t *t = k == 0 ? &cowrie : &fatt;
        if (logfiles_all_bad(t)) {
            fprintf(stderr,
                    "cadre %s: every %s line is bad (%" PRIu64 " of %" PRIu64 "): nothing to use\n",
                    prog, k == 0 ? "Cowrie" : "fatt", t->bad, t->lines - t->blank);
            rc = CLI_EX_DATAERR;
        }
    }
    cowrie_destroy(&cw);
    return rc;
}
