/*  cmd_cluster.c - `cadre cluster`: a corpus through both layers in one process. */
#include "assign.h"
#include "ccfg.h"
#include "cluster.h"
#include "cmds.h"
#include "err.h"
#include "metrics.h"
#include "obs_resolve.h"
#include "obs_stream.h"
#include "rec_stream.h"
#include "report.h"
#include "strtab.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_REPORTED 20 /* bad records printed in full; the rest are counted */

/*  Options of one run. */
typedef struct {
    const char *corpus;      /* input path ("-" = stdin) */
    const char *out;         /* assignments path, or NULL */
    const char *events;      /* events path, or NULL */
    const char *identities;  /* identity records path, or NULL */
    const char *campaigns;   /* campaign records path, or NULL */
    const char *config;      /* configuration file, or NULL */
    const char *deployment;  /* id namespace name */
    obs_format_t in_format;  /* input format */
    obs_format_t out_format; /* output format (AUTO: from each path) */
    bool reference;          /* reference parity: generic cutoffs off */
    bool quiet;              /* no summary */
    int64_t reconcile_every; /* -1: from the configuration */
} s_opts_t;

/*  Truth labels per slot, interned, for the metrics. */
typedef struct {
    strtab_t *labels; /* label strings */
    uint32_t *camp;   /* per slot: campaign label or UINT32_MAX */
    uint32_t *ident;  /* per slot: identity label or UINT32_MAX */
    size_t cap;       /* allocated slots */
} s_truth_t;

static void
s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: cadre cluster CORPUS [--out ASSIGNMENTS] [--events FILE]\n"
        "                     [--identities FILE] [--campaigns FILE] [--config FILE]\n"
        "                     [--reconcile-every N] [--reference] [--deployment NAME]\n"
        "                     [--format jsonl|msgpack] [--out-format jsonl|msgpack] [--quiet]\n\n"
        "Clusters a corpus of observations (JSON Lines or MessagePack, '-' for stdin)\n"
        "into identities and campaigns, reconciling every N inputs and at the end.\n"
        "Writes assignments {id, identity, campaign}, events and records as asked, and\n"
        "prints a summary, with quality metrics when the corpus carries truth labels.\n"
        "--reference turns generic-key cutoffs off (DECNET parity).\n");
}

static FILE *
s_open_out(const char *path)
{
    if (!path) {
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        return stdout;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cadre cluster: cannot write %s: %s\n", path, strerror(errno));
    }
    return f;
}

static obs_format_t
s_fmt(const s_opts_t *o, const char *path)
{
    if (o->out_format != OBS_FORMAT_AUTO) {
        return o->out_format;
    }
    return strcmp(path, "-") == 0 ? OBS_FORMAT_JSONL : obs_format_from_path(path);
}

static int
s_event_sink(const ev_t *ev, void *arg)
{
    return arg ? rec_writer_event(arg, ev) : 0;
}

static void
s_truth_note(s_truth_t *t, int64_t slot, const obs_t *obs)
{
    size_t need = (size_t)slot + 1;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        while (cap < need) {
            cap *= 2;
        }
        t->camp = xrealloc(t->camp, cap * sizeof *t->camp);
        t->ident = xrealloc(t->ident, cap * sizeof *t->ident);
        for (size_t i = t->cap; i < cap; i++) {
            t->camp[i] = UINT32_MAX;
            t->ident[i] = UINT32_MAX;
        }
        t->cap = cap;
    }
    const char *c = obs->truth_campaign;
    const char *i = obs->truth_identity;
    t->camp[slot] = c ? strtab_intern(t->labels, c, strlen(c)) : UINT32_MAX;
    t->ident[slot] = i ? strtab_intern(t->labels, i, strlen(i)) : UINT32_MAX;
}

/*  Scores one layer against one truth level over the live slots; false when some live
    observation has no truth label at that level. */
static bool
s_score(const cluster_t *c, const s_truth_t *t, bool campaign_level, metrics_t *out)
{
    size_t n = cluster_slots(c);
    uint32_t *truth = xcalloc(n + 1, sizeof *truth);
    uint32_t *pred = xcalloc(n + 1, sizeof *pred);
    strtab_t *ids = strtab_new();
    size_t k = 0;
    bool complete = true;
    for (size_t s = 0; s < n && complete; s++) {
        if (!cluster_slot_alive(c, s)) {
            continue;
        }
        uint32_t label = s < t->cap ? (campaign_level ? t->camp[s] : t->ident[s]) : UINT32_MAX;
        const char *p = campaign_level ? cluster_campaign_of(c, s) : cluster_identity_of(c, s);
        if (label == UINT32_MAX || !p) {
            complete = false;
            break;
        }
        truth[k] = label;
        pred[k] = strtab_intern(ids, p, strlen(p));
        k++;
    }
    bool ok = complete && k > 0 && metrics_score(truth, pred, k, out) == 0;
    strtab_destroy(&ids);
    free(truth);
    free(pred);
    return ok;
}

static void
s_print_metrics(FILE *out, const char *name, const metrics_t *m)
{
    fprintf(out,
            "  \"%s\": {\"adjusted_rand_index\": %.17g, \"homogeneity\": %.17g, "
            "\"completeness\": %.17g, \"singleton_recall\": %.17g, \"pairwise_precision\": "
            "%.17g, \"pairwise_recall\": %.17g, \"pairwise_f1\": %.17g, \"v_measure\": %.17g}",
            name, m->adjusted_rand_index, m->homogeneity, m->completeness, m->singleton_recall,
            m->pairwise_precision, m->pairwise_recall, m->pairwise_f1, m->v_measure);
}

static int
s_parse_args(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){.deployment = "default", .reconcile_every = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(a, "--out") == 0 && v) {
            o->out = argv[++i];
        } else if (strcmp(a, "--events") == 0 && v) {
            o->events = argv[++i];
        } else if (strcmp(a, "--identities") == 0 && v) {
            o->identities = argv[++i];
        } else if (strcmp(a, "--campaigns") == 0 && v) {
            o->campaigns = argv[++i];
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = argv[++i];
        } else if (strcmp(a, "--deployment") == 0 && v) {
            o->deployment = argv[++i];
        } else if (strcmp(a, "--reconcile-every") == 0 && v) {
            char *end = NULL;
            long long n = strtoll(argv[++i], &end, 10);
            if (!end || *end || n < 0) {
                fprintf(stderr, "cadre cluster: --reconcile-every wants an integer >= 0\n");
                return -CLI_EX_USAGE;
            }
            o->reconcile_every = n;
        } else if (strcmp(a, "--format") == 0 && v) {
            if (obs_format_parse(argv[++i], &o->in_format) != 0) {
                fprintf(stderr, "cadre cluster: unknown format '%s'\n", argv[i]);
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--out-format") == 0 && v) {
            if (obs_format_parse(argv[++i], &o->out_format) != 0) {
                fprintf(stderr, "cadre cluster: unknown format '%s'\n", argv[i]);
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--reference") == 0) {
            o->reference = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre cluster: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        } else if (!o->corpus) {
            o->corpus = a;
        } else {
            fprintf(stderr, "cadre cluster: one CORPUS only ('%s' is extra)\n", a);
            return -CLI_EX_USAGE;
        }
    }
    if (!o->corpus) {
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    return 0;
}

int
cmd_cluster(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse_args(argc, argv, &o);
    if (prc != 0) {
        return prc > 0 ? 0 : -prc;
    }
    ccfg_t cfg;
    if (o.reference) {
        ccfg_reference(&cfg);
    } else {
        ccfg_defaults(&cfg);
    }
    char err[1024];
    if (o.config) {
        int rc = ccfg_load_file(&cfg, o.config, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "cadre cluster: %s\n", err);
            return rc == CADRE_ECONFIG ? CLI_EX_CONFIG : 1;
        }
    } else if (ccfg_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "cadre cluster: %s\n", err);
        return CLI_EX_CONFIG;
    }
    if (o.reconcile_every >= 0) {
        cfg.reconcile_every = (uint64_t)o.reconcile_every;
    }

    obs_reader_t *r = obs_reader_open(o.corpus, o.in_format);
    if (!r) {
        return 1;
    }
    /* Appends are merged into their id's current record, as the broker does. */
    obs_resolver_t *res = obs_resolver_new(obs_resolve_needed(o.corpus));
    FILE *fa = s_open_out(o.out);
    FILE *fe = s_open_out(o.events);
    FILE *fi = s_open_out(o.identities);
    FILE *fc = s_open_out(o.campaigns);
    int rc = 0;
    if ((o.out && !fa) || (o.events && !fe) || (o.identities && !fi) || (o.campaigns && !fc)) {
        rc = 1;
    }
    rec_writer_t *ew = fe ? rec_writer_new(fe, s_fmt(&o, o.events)) : NULL;
    cluster_t *c = cluster_new(&cfg, o.deployment);
    s_truth_t truth = {.labels = strtab_new()};
    uint64_t good = 0;
    uint64_t inputs = 0;
    uint64_t bad = 0;
    clock_t t0 = clock();
    while (rc == 0) {
        obs_t *obs = NULL;
        obs_error_t e;
        int got = obs_reader_next(r, &obs, &e);
        if (got == 0) {
            break;
        }
        if (got == CADRE_ERECORD || got == CADRE_ETRUNC) {
            if (bad++ < S_MAX_REPORTED) {
                char line[1024];
                obs_error_format(&e, obs_reader_source(r), line, sizeof line);
                fprintf(stderr, "cadre cluster: %s\n", line);
            }
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "cadre cluster: reading %s: %s\n", o.corpus, cadre_strerror(got));
            rc = 1;
            break;
        }
        if (obs_resolver_apply(res, &obs, &e) != 0) {
            /* An append the broker would refuse too (a limit): the same bad record. */
            if (bad++ < S_MAX_REPORTED) {
                char line[1024];
                obs_error_format(&e, obs_reader_source(r), line, sizeof line);
                fprintf(stderr, "cadre cluster: %s\n", line);
            }
            obs_destroy(&obs);
            continue;
        }
        good++;
        /* Reconciliation points count inputs: an identical resubmission is none. */
        bool counted = cluster_apply(c, obs);
        inputs += counted;
        if (obs->op == OBS_UPSERT) {
            s_truth_note(&truth, cluster_find(c, obs->id), obs);
        }
        obs_destroy(&obs);
        if (counted && cfg.reconcile_every && inputs % cfg.reconcile_every == 0) {
            if (cluster_reconcile(c, s_event_sink, ew) != 0) {
                fprintf(stderr, "cadre cluster: writing events failed\n");
                rc = 1;
            }
        }
    }
    if (bad > S_MAX_REPORTED) {
        fprintf(stderr, "cadre cluster: ... and %" PRIu64 " more bad records\n",
                bad - S_MAX_REPORTED);
    }
    if (rc == 0 && cluster_reconcile(c, s_event_sink, ew) != 0) {
        fprintf(stderr, "cadre cluster: writing events failed\n");
        rc = 1;
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (rc == 0 && fa) {
        rc = report_assignments(c, fa, s_fmt(&o, o.out)) == 0 ? 0 : 1;
    }
    if (rc == 0) {
        rc = report_records(c, fi, fi ? s_fmt(&o, o.identities) : OBS_FORMAT_JSONL, fc,
                            fc ? s_fmt(&o, o.campaigns) : OBS_FORMAT_JSONL) == 0
                 ? 0
                 : 1;
    }
    rec_writer_destroy(&ew);
    FILE *outs[] = {fa, fe, fi, fc};
    for (size_t i = 0; i < 4; i++) {
        if (outs[i] && outs[i] != stdout && fclose(outs[i]) != 0) {
            rc = 1;
        }
    }
    if (rc == 0 && !o.quiet) {
        FILE *out =
            (fa == stdout || fe == stdout || fi == stdout || fc == stdout) ? stderr : stdout;
        fprintf(out, "%" PRIu64 " records read (%" PRIu64 " bad, skipped) in %.3f s\n", good + bad,
                bad, secs);
        report_summary(c, out, 5);
        metrics_t mc;
        metrics_t mi;
        bool have_c = s_score(c, &truth, true, &mc);
        bool have_i = s_score(c, &truth, false, &mi);
        if (have_c || have_i) {
            fprintf(out, "{\n");
            if (have_c) {
                s_print_metrics(out, "campaign", &mc);
            }
            if (have_i) {
                fprintf(out, "%s", have_c ? ",\n" : "");
                s_print_metrics(out, "identity", &mi);
            }
            fprintf(out, "\n}\n");
        }
    }
    if (rc == 0 && bad > 0) {
        rc = CLI_EX_DATAERR;
    }
    cluster_destroy(&c);
    strtab_destroy(&truth.labels);
    free(truth.camp);
    free(truth.ident);
    obs_resolver_destroy(&res);
    obs_reader_destroy(&r);
    return rc;
}
