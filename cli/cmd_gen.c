/*  cmd_gen.c - `cadre gen`: a synthetic corpus with ground truth from a campaign DSL spec. */
#include "cmds.h"
#include "decnet_gen.h"
#include "dsl.h"
#include "err.h"
#include "gen.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*  The base corpus (copy 0), collected before it is written N times. */
typedef struct {
    obs_t **recs; /* generated records, owned */
    size_t n;     /* number of records */
    size_t cap;   /* allocated slots */
} s_corpus_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_corpus_t *c = arg;
    xgrow(&c->recs, &c->cap, c->n + 1);
    c->recs[c->n++] = obs_dup(obs);
    return 0;
}

/*  Writes the corpus's copies as DECNET lines (each copy's lines in time order), then the
    state file when state_path is not NULL. Returns 0, or -errno. */
static int
s_write_decnet(FILE *out, const s_corpus_t *base, int64_t copies, const char *state_path)
{
    decnet_gen_t *g = decnet_gen_new();
    int rc = 0;
    for (int64_t k = 0; k < copies && rc == 0; k++) {
        for (size_t i = 0; i < base->n; i++) {
            if (k == 0) {
                decnet_gen_add(g, base->recs[i], 0);
                continue;
            }
            obs_t *copy = obs_dup(base->recs[i]);
            gen_replicate(copy, (uint64_t)k);
            decnet_gen_add(g, copy, (uint64_t)k);
            obs_destroy(&copy);
        }
        rc = decnet_gen_flush(g, out);
    }
    if (rc == 0 && state_path) {
        char *text = NULL;
        size_t len = 0;
        decnet_gen_state(g, &text, &len);
        FILE *f = fopen(state_path, "wb");
        if (!f || fwrite(text, 1, len, f) != len) {
            rc = -errno;
        }
        if (f && fclose(f) != 0 && rc == 0) {
            rc = -errno;
        }
        free(text);
    }
    decnet_gen_destroy(&g);
    return rc;
}

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre gen SPEC [--seed S] [--format jsonl|msgpack|decnet] [--out FILE]\n"
            "                 [--replicate N] [--summary] [--decnet-state FILE]\n\n"
            "Generates the corpus a campaign DSL spec describes, bit-exact with DECNET's\n"
            "factory for the same seed (default 0). Writes to FILE (format from its extension)\n"
            "or to standard output as JSON Lines. --replicate N writes N independent copies with\n"
            "distinct ids and signals (copy 0 unchanged). --summary describes the corpus.\n"
            "--format decnet writes the corpus as DECNET RFC 5424 log lines (its DECNET-format\n"
            "twin, truth labels included; docs/decnet.md), in time order within each copy;\n"
            "--decnet-state FILE also writes the decnet-state.json that maps the lines'\n"
            "cosmetic hostnames back to deckies (give it to cadre ingest decnet).\n");
}

static bool
s_parse_int(const char *text, int64_t min, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min) {
        return false;
    }
    *out = v;
    return true;
}

/*  Prints what the corpus holds, campaign by campaign, in order of first appearance. */
static void
s_summary(FILE *out, const char *spec, int64_t seed, const s_corpus_t *c, int64_t copies)
{
    size_t n_sessions = 0;
    size_t n_noise = 0;
    double first = 0.0;
    double last = 0.0;
    bool any = false;
    for (size_t i = 0; i < c->n; i++) {
        const obs_t *o = c->recs[i];
        n_sessions += o->n_sessions;
        if (o->truth_campaign && strncmp(o->truth_campaign, "noise-scanner-", 14) == 0) {
            n_noise++;
        }
        for (size_t s = 0; s < o->n_sessions; s++) {
            double a = o->sessions[s].start;
            double b = a + o->sessions[s].duration;
            if (!any || a < first) {
                first = a;
            }
            if (!any || b > last) {
                last = b;
            }
            any = true;
        }
    }
    fprintf(out, "corpus %s, seed %" PRId64 ": %zu observations, %zu sessions", spec, seed, c->n,
            n_sessions);
    if (copies > 1) {
        fprintf(out, " per copy, %" PRId64 " copies (%" PRIu64 " observations)", copies,
                (uint64_t)copies * c->n);
    }
    fprintf(out, "\n");
    if (any) {
        char a[32];
        char b[32];
        time_t ta = (time_t)first;
        time_t tb = (time_t)last;
        struct tm tm;
        strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&ta, &tm));
        strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tb, &tm));
        fprintf(out, "time span: %s .. %s\n", a, b);
    }
    fprintf(out, "%-24s %6s %6s %8s  %s\n", "campaign (truth)", "actors", "obs", "sessions",
            "phases observed");
    /* Campaigns in order of first appearance; a corpus holds few, so a linear scan is fine. */
    for (size_t i = 0; i < c->n; i++) {
        const obs_t *o = c->recs[i];
        const char *camp = o->truth_campaign ? o->truth_campaign : "(none)";
        if (strncmp(camp, "noise-scanner-", 14) == 0) {
            continue;
        }
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *other = c->recs[j]->truth_campaign;
            seen = other && strcmp(other, camp) == 0;
        }
        if (seen) {
            continue;
        }
        size_t n_obs = 0;
        size_t n_sess = 0;
        size_t n_actors = 0;
        bool phases[UKC_PHASE_COUNT] = {false};
        for (size_t j = i; j < c->n; j++) {
            const obs_t *p = c->recs[j];
            if (!p->truth_campaign || strcmp(p->truth_campaign, camp) != 0) {
                continue;
            }
            n_obs++;
            n_sess += p->n_sessions;
            bool new_actor = true;
            for (size_t k = i; k < j && new_actor; k++) {
                const obs_t *q = c->recs[k];
                new_actor =
                    !(q->truth_campaign && strcmp(q->truth_campaign, camp) == 0 && q->truth_actor &&
                      p->truth_actor && strcmp(q->truth_actor, p->truth_actor) == 0);
            }
            n_actors += new_actor;
            for (size_t s = 0; s < p->n_sessions; s++) {
                phases[p->sessions[s].phase] = true;
            }
        }
        fprintf(out, "%-24s %6zu %6zu %8zu  ", camp, n_actors, n_obs, n_sess);
        const char *sep = "";
        for (int ph = 0; ph < UKC_PHASE_COUNT; ph++) {
            if (phases[ph]) {
                fprintf(out, "%s%s", sep, ukc_phase_name((ukc_phase_t)ph));
                sep = ", ";
            }
        }
        fprintf(out, "\n");
    }
    fprintf(out, "%-24s %6zu %6zu %8zu  delivery\n", "noise scanners", n_noise, n_noise, n_noise);
}

int
cmd_gen(int argc, char **argv)
{
    const char *spec = NULL;
    const char *out_path = NULL;
    const char *format_name = NULL;
    const char *state_path = NULL;
    int64_t seed = 0;
    int64_t copies = 1;
    bool summary = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(a, "--seed") == 0 && has_value) {
            if (!s_parse_int(argv[++i], INT64_MIN + 1, &seed)) {
                fprintf(stderr, "cadre gen: --seed wants an integer, not '%s'\n", argv[i]);
                return CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--replicate") == 0 && has_value) {
            if (!s_parse_int(argv[++i], 1, &copies)) {
                fprintf(stderr, "cadre gen: --replicate wants an integer >= 1, not '%s'\n",
                        argv[i]);
                return CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--out") == 0 && has_value) {
            out_path = argv[++i];
        } else if (strcmp(a, "--format") == 0 && has_value) {
            format_name = argv[++i];
        } else if (strcmp(a, "--decnet-state") == 0 && has_value) {
            state_path = argv[++i];
        } else if (strcmp(a, "--summary") == 0) {
            summary = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre gen: unknown or incomplete option '%s'\n", a);
            s_usage(stderr);
            return CLI_EX_USAGE;
        } else if (!spec) {
            spec = a;
        } else {
            fprintf(stderr, "cadre gen: one SPEC only ('%s' is extra)\n", a);
            return CLI_EX_USAGE;
        }
    }
    if (!spec) {
        s_usage(stderr);
        return CLI_EX_USAGE;
    }
    obs_format_t format = out_path ? obs_format_from_path(out_path) : OBS_FORMAT_JSONL;
    bool decnet = format_name && strcmp(format_name, "decnet") == 0;
    if (format_name && !decnet && obs_format_parse(format_name, &format) != 0) {
        fprintf(stderr, "cadre gen: unknown format '%s' (jsonl, msgpack or decnet)\n", format_name);
        return CLI_EX_USAGE;
    }
    if (state_path && !decnet) {
        fprintf(stderr, "cadre gen: --decnet-state goes with --format decnet\n");
        return CLI_EX_USAGE;
    }

    char err[1024];
    dsl_corpus_t *corpus = NULL;
    int rc = dsl_load_file(spec, &corpus, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "cadre gen: %s\n", err);
        return rc == CADRE_EDSL ? CLI_EX_DATAERR : 1;
    }
    for (size_t i = 0; i < corpus->n_warnings; i++) {
        fprintf(stderr, "cadre gen: warning: %s\n", corpus->warnings[i]);
    }
    s_corpus_t base = {0};
    gen_run(corpus, seed, s_collect, &base);
    dsl_corpus_destroy(&corpus);

    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "wb"))) {
        fprintf(stderr, "cadre gen: cannot write %s: %s\n", out_path, strerror(errno));
        rc = 1;
    } else if (decnet) {
        rc = s_write_decnet(out, &base, copies, state_path);
    } else {
        obs_writer_t *w = obs_writer_new(out, format);
        for (int64_t k = 0; k < copies && rc == 0; k++) {
            for (size_t i = 0; i < base.n && rc == 0; i++) {
                if (k == 0) {
                    rc = obs_writer_put(w, base.recs[i]);
                    continue;
                }
                obs_t *copy = obs_dup(base.recs[i]);
                gen_replicate(copy, (uint64_t)k);
                rc = obs_writer_put(w, copy);
                obs_destroy(&copy);
            }
        }
        obs_writer_destroy(&w);
        if (rc != 0) {
            fprintf(stderr, "cadre gen: write failed: %s\n", cadre_strerror(rc));
        }
        if (out != stdout && fclose(out) != 0 && rc == 0) {
            fprintf(stderr, "cadre gen: cannot write %s: %s\n", out_path, strerror(errno));
            rc = -errno;
        }
    }
    if (summary && rc == 0) {
        FILE *sum = out_path ? stdout : stderr;
        s_summary(sum, spec, seed, &base, copies);
        if (out_path) {
            fprintf(sum, "written to %s\n", out_path);
        }
    }
    for (size_t i = 0; i < base.n; i++) {
        obs_destroy(&base.recs[i]);
    }
    free(base.recs);
    return rc == 0 ? 0 : 1;
}
