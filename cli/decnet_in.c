/*  decnet_in.c - DECNET log files into observations for the CLI (see decnet_in.h). */
#include "decnet_in.h"

#include "cmds.h"
#include "cowrie_in.h"
#include "err.h"
#include "logfiles.h"
#include "obs_append.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
decnet_in_option(const char *prog, int argc, char **argv, int *i, decnet_in_opts_t *o)
{
    const char *a = argv[*i];
    bool is_state = strcmp(a, "--decnet-state") == 0;
    bool is_gap = strcmp(a, "--session-gap") == 0;
    bool is_idle = strcmp(a, "--flush-idle") == 0;
    if (!is_state && !is_gap && !is_idle) {
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "cadre %s: %s wants a value\n", prog, a);
        return -1;
    }
    const char *v = argv[++*i];
    if (is_state) {
        o->state = v;
        return 1;
    }
    char *end = NULL;
    double s = strtod(v, &end);
    if (!*v || *end || !isfinite(s) || s <= 0 || s > 1e9) {
        fprintf(stderr, "cadre %s: %s wants a number of seconds > 0, not '%s'\n", prog, a, v);
        return -1;
    }
    if (is_gap) {
        o->adapter.session_gap = s;
    } else {
        o->adapter.flush_idle = s;
    }
    return 1;
}

/*  Checks that the adapter options given go with the --input chosen, and gives the DECNET
    adapter the shared --flush-idle. Returns 0, or -CLI_EX_USAGE (said on stderr). */
int
decnet_in_check_input(const char *prog, bool cowrie, bool decnet, const cowrie_in_opts_t *copts,
                      decnet_in_opts_t *dopts)
{
    if (!decnet && (dopts->state || dopts->adapter.session_gap > 0)) {
        fprintf(stderr, "cadre %s: --decnet-state and --session-gap go with --input decnet\n",
                prog);
        return -CLI_EX_USAGE;
    }
    if (!cowrie && (copts->n_fatt > 0 || copts->adapter.group != COWRIE_GROUP_IP)) {
        fprintf(stderr, "cadre %s: --group and --fatt go with --input cowrie\n", prog);
        return -CLI_EX_USAGE;
    }
    if (!cowrie && !decnet && copts->adapter.flush_idle > 0) {
        fprintf(stderr, "cadre %s: --flush-idle goes with --input cowrie or decnet\n", prog);
        return -CLI_EX_USAGE;
    }
    dopts->adapter.flush_idle = copts->adapter.flush_idle;
    return 0;
}

/*  Reads the state file into dn. Returns 0, 1 (unreadable) or CLI_EX_DATAERR. */
static int
s_load_state(const char *prog, decnet_t *dn, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cadre %s: %s: %s\n", prog, path, strerror(errno));
        return 1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        xgrow(&text, &cap, len + 65536);
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len > (64u << 20)) {
            break;
        }
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        fprintf(stderr, "cadre %s: %s: read error\n", prog, path);
        free(text);
        return 1;
    }
    obs_error_t err;
    int n = decnet_load_state(dn, text, len, &err);
    free(text);
    if (n < 0) {
        char buf[512];
        obs_error_format(&err, path, buf, sizeof buf);
        fprintf(stderr, "cadre %s: not a DECNET state file: %s\n", prog, buf);
        return CLI_EX_DATAERR;
    }
    return 0;
}

/*  The DECNET adapter as logfiles_feed() drives it. */
typedef struct {
    decnet_t *dn;        /* the adapter */
    decnet_sink_fn sink; /* where idle sources go */
    void *arg;           /* its argument */
} s_feed_t;

static int
s_feed(void *ctx, const char *line, size_t len, uint64_t no)
{
    return decnet_feed(((s_feed_t *)ctx)->dn, line, len, no);
}

static void
s_bad_line(void *ctx, uint64_t no, const char *message)
{
    decnet_bad_line(((s_feed_t *)ctx)->dn, no, message);
}

static size_t
s_bad_reported(void *ctx)
{
    return decnet_bad_reported(((s_feed_t *)ctx)->dn);
}

static const char *
s_bad_message(void *ctx, size_t k)
{
    return decnet_bad_at(((s_feed_t *)ctx)->dn, k)->message;
}

static int
s_emit_idle(void *ctx)
{
    s_feed_t *f = ctx;
    return decnet_emit_idle(f->dn, f->sink, f->arg);
}

/*  Prints the summary lines. */
static void
s_summary(const decnet_t *dn, bool idle)
{
    fprintf(stderr,
            "%" PRIu64 " lines, %" PRIu64 " bad, %" PRIu64 " sessions, %" PRIu64 " observations\n",
            decnet_lines(dn), decnet_bad(dn), decnet_sessions(dn), decnet_observations(dn));
    if (decnet_native(dn) + decnet_no_ip(dn) + decnet_ignored(dn) > 0) {
        char kinds[512] = "";
        size_t at = 0;
        for (size_t k = 0; k < decnet_no_ip_kinds(dn) && at < sizeof kinds; k++) {
            uint64_t n = 0;
            const char *name = decnet_no_ip_kind(dn, k, &n);
            at += (size_t)snprintf(kinds + at, sizeof kinds - at, "%s%s %" PRIu64, at ? ", " : " (",
                                   name, n);
        }
        if (at > 0 && at < sizeof kinds - 1) {
            strcat(kinds, ")");
        }
        fprintf(stderr,
                "skipped: %" PRIu64 " not events (diagnostics, native syslog), %" PRIu64
                " without an attacker address%s, %" PRIu64 " with nothing to keep\n",
                decnet_native(dn), decnet_no_ip(dn), kinds, decnet_ignored(dn));
    }
    if (idle) {
        fprintf(stderr, "at most %zu sources open at once\n", decnet_open_peak(dn));
    }
    char drops[256] = "";
    size_t at = 0;
    for (int k = 0; k < DECNET_DROP_KINDS && at < sizeof drops; k++) {
        uint64_t n = decnet_dropped(dn, (decnet_drop_t)k);
        if (n > 0) {
            at += (size_t)snprintf(drops + at, sizeof drops - at, "%s%" PRIu64 " %s",
                                   at ? ", " : "", n, decnet_drop_name((decnet_drop_t)k));
        }
    }
    if (at > 0) {
        fprintf(stderr, "dropped over the limits (docs/decnet.md): %s\n", drops);
    }
}

int
decnet_in_run(const char *prog, const char *const *files_in, size_t n_files,
              const decnet_in_opts_t *o, decnet_sink_fn sink, void *arg)
{
    decnet_t *dn = decnet_new(&o->adapter);
    int rc = o->state ? s_load_state(prog, dn, o->state) : 0;
    logfiles_tally_t tally = {0};
    logfiles_t *files =
        rc == 0 ? logfiles_open(prog, files_in, n_files, DECNET_MAX_LINE, decnet_line_time) : NULL;
    rc = rc == 0 && !files ? 1 : rc;
    bool idle = o->adapter.flush_idle > 0;
    s_feed_t ctx = {dn, sink, arg};
    logfiles_adapter_t ad = {s_feed,
                             s_bad_line,
                             s_bad_reported,
                             s_bad_message,
                             idle ? s_emit_idle : NULL,
                             "DECNET RFC 5424",
                             &ctx};
    for (size_t i = 0; files && i < n_files && rc == 0; i++) {
        rc = logfiles_feed(files, i, prog, &ad, &tally);
    }
    logfiles_destroy(&files);
    if (rc == 0) {
        rc = decnet_finish(dn, sink, arg);
    }
    s_summary(dn, idle);
    if (rc == 0 && tally.lines > tally.blank && decnet_observations(dn) == 0) {
        fprintf(stderr,
                "cadre %s: no line was usable (%" PRIu64
                " lines: bad, not events, without an attacker address or nothing to keep)\n",
                prog, tally.lines - tally.blank);
        rc = CLI_EX_DATAERR;
    }
    decnet_destroy(&dn);
    return rc;
}

int
adapter_append(const obs_t *obs, bool name_sessions, int (*submit)(const obs_t *, void *),
               void *arg)
{
    obs_t rec = *obs;
    rec.op = OBS_APPEND;
    if (!name_sessions || obs->n_sessions == 0) {
        return submit(&rec, arg);
    }
    /* Shallow copies of the sessions with ids of their own. */
    obs_session_t *ss = xcalloc(obs->n_sessions, sizeof *ss);
    char **ids = xcalloc(obs->n_sessions, sizeof *ids);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        ss[i] = obs->sessions[i];
        ids[i] = xasprintf("%s@%016" PRIx64, ss[i].id ? ss[i].id : "",
                           obs_session_digest(&obs->sessions[i]));
        ss[i].id = ids[i];
    }
    rec.sessions = ss;
    rec.sessions_cap = 0;
    int rc = submit(&rec, arg);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        free(ids[i]);
    }
    free(ids);
    free(ss);
    return rc;
}
