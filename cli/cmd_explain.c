/*  cmd_explain.c - `cadre explain`: why two observations share an identity or a campaign,
    or why they do not.

    The corpus is clustered exactly as `cadre cluster` does it (same configuration, same
    reconciliation points); core/explain.c then explains the pair. Its approach:

    - identity layer: generic key values count as absent (part.h), so each observation's
      features are copied with them masked before ident_tiers(). Two observations that share
      an identity are joined by a shortest chain of identity edges (BFS over the live
      members of that identity); two that do not get their direct tiers, the keys they share
      and the reason no edge exists.
    - campaign layer: the same over the live identities of a campaign, one representative
      observation per identity (cluster_camp_feat_of() gives its identity's features), each
      link naming what made the pair a candidate: a shared payload or C2, a decky handoff,
      or a keystroke band.

    Everything is borrowed from the engine and printed as it is computed; the engine is the
    only owner of state and is destroyed before returning.
*/
#include "camp.h"
#include "ccfg.h"
#include "cluster.h"
#include "cmds.h"
#include "explain.h"
#include "err.h"
#include "ident.h"
#include "obs_resolve.h"
#include "obs_stream.h"
#include "strtab.h"
#include "ukc.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_REPORTED 20 /* bad records printed in full; the rest are counted */

/*  Options of one run. */
typedef struct {
    const char *corpus;     /* input path ("-" = stdin) */
    const char *id_a;       /* first observation id */
    const char *id_b;       /* second observation id */
    const char *config;     /* configuration file, or NULL */
    obs_format_t in_format; /* input format */
    bool reference;         /* reference parity: generic cutoffs off */
} s_opts_t;

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre explain CORPUS ID_A ID_B [--config FILE] [--reference]\n"
                 "                     [--format jsonl|msgpack]\n\n"
                 "Clusters CORPUS as `cadre cluster` does, then explains why observations ID_A\n"
                 "and ID_B share an identity (a chain of identity edges with their tiers) or do\n"
                 "not (their direct tiers, shared keys and the missing edge), and the same for\n"
                 "their campaigns over identities.\n");
}

static int
s_parse_args(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){0};
    const char *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = argv[++i];
        } else if (strcmp(a, "--format") == 0 && v) {
            if (obs_format_parse(argv[++i], &o->in_format) != 0) {
                fprintf(stderr, "cadre explain: unknown format '%s'\n", argv[i]);
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--reference") == 0) {
            o->reference = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre explain: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            fprintf(stderr, "cadre explain: unexpected argument '%s'\n", a);
            return -CLI_EX_USAGE;
        }
    }
    if (n_pos != 3) {
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    o->corpus = pos[0];
    o->id_a = pos[1];
    o->id_b = pos[2];
    return 0;
}

/*  Reads the corpus into c, reconciling as `cadre cluster` does. Returns 0, or 1 when the
    corpus cannot be read (bad records are reported and skipped). */
static int
s_load(const s_opts_t *o, const ccfg_t *cfg, cluster_t *c)
{
    obs_reader_t *r = obs_reader_open(o->corpus, o->in_format);
    if (!r) {
        return 1;
    }
    obs_resolver_t *res = obs_resolver_new(obs_resolve_needed(o->corpus));
    uint64_t good = 0;
    uint64_t bad = 0;
    int rc = 0;
    for (;;) {
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
                fprintf(stderr, "cadre explain: %s\n", line);
            }
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "cadre explain: reading %s: %s\n", o->corpus, cadre_strerror(got));
            rc = 1;
            break;
        }
        if (obs_resolver_apply(res, &obs, &e) != 0) {
            if (bad++ < S_MAX_REPORTED) {
                char line[1024];
                obs_error_format(&e, obs_reader_source(r), line, sizeof line);
                fprintf(stderr, "cadre explain: %s\n", line);
            }
            obs_destroy(&obs);
            continue;
        }
        good++;
        cluster_apply(c, obs);
        obs_destroy(&obs);
        if (cfg->reconcile_every && good % cfg->reconcile_every == 0) {
            cluster_reconcile(c, NULL, NULL);
        }
    }
    if (bad > S_MAX_REPORTED) {
        fprintf(stderr, "cadre explain: ... and %" PRIu64 " more bad records\n",
                bad - S_MAX_REPORTED);
    }
    if (bad > 0) {
        fprintf(stderr, "cadre explain: %" PRIu64 " bad records skipped\n", bad);
    }
    cluster_reconcile(c, NULL, NULL);
    obs_resolver_destroy(&res);
    obs_reader_destroy(&r);
    return rc;
}

/* --- printing ------------------------------------------------------------------------- */

/*  The live slot of id, or -1 after an error naming it. */
static int64_t
s_lookup(const cluster_t *c, const char *id)
{
    int64_t slot = cluster_find(c, id);
    if (slot < 0) {
        fprintf(stderr, "cadre explain: unknown observation id '%s'\n", id);
        return -1;
    }
    if (!cluster_slot_alive(c, (size_t)slot)) {
        fprintf(stderr, "cadre explain: observation '%s' was deleted\n", id);
        return -1;
    }
    return slot;
}

int
cmd_explain(int argc, char **argv)
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
            fprintf(stderr, "cadre explain: %s\n", err);
            return rc == CADRE_ECONFIG ? CLI_EX_CONFIG : 1;
        }
    } else if (ccfg_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "cadre explain: %s\n", err);
        return CLI_EX_CONFIG;
    }
    cluster_t *c = cluster_new(&cfg, "default");
    int rc = s_load(&o, &cfg, c);
    int64_t a = -1;
    int64_t b = -1;
    if (rc == 0) {
        a = s_lookup(c, o.id_a);
        b = s_lookup(c, o.id_b);
        if (a < 0 || b < 0) {
            rc = CLI_EX_DATAERR;
        }
    }
    if (rc == 0) {
        FILE *out = stdout;
        rc = explain_pair(out, c, (size_t)a, (size_t)b);
        if (fflush(out) != 0) {
            rc = 1;
        }
    }
    cluster_destroy(&c);
    return rc;
}
