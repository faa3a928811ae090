/*  cmd_score.c - `cadre score`: scores assignments against a corpus's truth labels (SPEC §9).

    The corpus is replayed as the engine would see it (an upsert replaces the observation
    with the same id, a delete removes it), so the items scored are the observations alive
    at its end, each with its truth label at the chosen level. Every live observation needs
    exactly one assignment with a label in the chosen layer, and every assignment must name
    a live observation. Any malformed record or mismatch is reported and nothing is scored
    (exit 65): a score over partial data would look valid and be wrong.

    Ids and labels are interned in string tables (strtab.h), so items and labels are dense
    integers and the whole run is linear in the size of the inputs.
*/
#include "cmds.h"
#include "opt.h"

#include "assign.h"
#include "err.h"
#include "metrics.h"
#include "obs.h"
#include "obs_stream.h"
#include "strtab.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  How many item-set problems are printed one by one before only counting the rest. */
#define S_MAX_REPORTS 20

/*  Which truth label of an observation is the class. */
typedef enum { S_LEVEL_CAMPAIGN, S_LEVEL_IDENTITY, S_LEVEL_ACTOR } s_level_t;
/*  Which label of an assignment is the predicted cluster. */
typedef enum { S_LAYER_CAMPAIGN, S_LAYER_IDENTITY } s_layer_t;

/*  The parsed command line. */
typedef struct {
    const char *corpus;      /* observation stream path ("-" = stdin) */
    const char *assignments; /* assignment stream path ("-" = stdin) */
    s_level_t level;         /* truth level (default campaign) */
    s_layer_t layer;         /* predicted layer (default campaign) */
    obs_format_t format;     /* encoding of both inputs (default auto-detect) */
} s_args_t;

/*  One observation id seen in the corpus. */
typedef struct {
    uint32_t truth; /* class id, or STRTAB_NONE when the observation has no such label */
    uint32_t pred;  /* cluster id, or STRTAB_NONE when the assignment lacks the layer */
    bool live;      /* upserted and not deleted since */
    bool assigned;  /* an assignment for it has been read */
} s_item_t;

/*  The state of one scoring run. */
typedef struct {
    const s_args_t *args; /* the command line */
    strtab_t *ids;        /* observation id -> index into items */
    strtab_t *classes;    /* truth label -> class id */
    strtab_t *clusters;   /* predicted label -> cluster id */
    s_item_t *items;      /* items by id index */
    size_t items_cap;     /* allocated items */
    uint64_t bad;         /* malformed or truncated records in either input */
    uint64_t problems;    /* item-set problems (mismatches, missing labels, duplicates) */
} s_run_t;

static const char *const s_level_names[] = {"campaign", "identity", "actor"};
static const char *const s_layer_names[] = {"campaign", "identity"};

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre score CORPUS ASSIGNMENTS [--level campaign|identity|actor]\n"
                 "                   [--layer campaign|identity] [--format jsonl|msgpack]\n"
                 "\n"
                 "Scores the assignments against the corpus's truth labels and prints one JSON\n"
                 "object: adjusted_rand_index, homogeneity, completeness, singleton_recall,\n"
                 "pairwise_precision, pairwise_recall, pairwise_f1, v_measure.\n"
                 "--level picks the truth label (default campaign), --layer the assigned\n"
                 "label (default campaign), --format the encoding of both inputs (default:\n"
                 "detected). \"-\" reads standard input. Exit 65 if a record is malformed or\n"
                 "the item sets differ.\n");
}

/*  The display name of a path in messages. */
static const char *
s_source(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/*  Prints an id to stderr, escaping bytes that could garble the terminal or the line. */
static void
s_print_id(const char *id)
{
    fputc('\'', stderr);
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '\'') {
            fprintf(stderr, "\\x%02x", *p);
        } else {
            fputc(*p, stderr);
        }
    }
    fputc('\'', stderr);
}

/*  Reports one item-set problem: "<source>: <what> '<id>'<tail>". Only the first
    S_MAX_REPORTS are printed, and none once a malformed record has been seen (the records
    lost would show up as spurious mismatches); all are counted. */
static void
s_problem(s_run_t *run, const char *source, const char *what, const char *id, const char *tail)
{
    run->problems++;
    if (run->problems > S_MAX_REPORTS || run->bad > 0) {
        return;
    }
    fprintf(stderr, "cadre score: %s: %s ", source, what);
    s_print_id(id);
    fprintf(stderr, "%s\n", tail);
}

/*  Reports a malformed record; shown is how many this input has had before (only the first
    S_MAX_REPORTS of each input are printed, since a wrong --format makes every record bad). */
static void
s_bad_record(s_run_t *run, const obs_error_t *err, const char *source, uint64_t shown)
{
    run->bad++;
    if (shown >= S_MAX_REPORTS) {
        return;
    }
    char buf[1024];
    obs_error_format(err, source, buf, sizeof buf);
    fprintf(stderr, "cadre score: %s\n", buf);
}

/*  Ends the bad-record report of one input that had `bad` malformed records. */
static void
s_bad_summary(const char *source, uint64_t bad)
{
    if (bad > S_MAX_REPORTS) {
        fprintf(stderr, "cadre score: %s: ... and %llu more malformed records\n", source,
                (unsigned long long)(bad - S_MAX_REPORTS));
    }
}

/*  Looks up a choice among names; returns its index or -1. */
static int
s_choice(const char *value, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(value, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/*  Parses the command line into *args. Returns 0, 1 when --help was printed, or -1 after
    printing a usage error. */
static int
s_parse_args(int argc, char **argv, s_args_t *args)
{
    *args =
        (s_args_t){.level = S_LEVEL_CAMPAIGN, .layer = S_LAYER_CAMPAIGN, .format = OBS_FORMAT_AUTO};
    const char *positional[2] = {NULL, NULL};
    int n_positional = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            s_usage(stdout);
            return 1;
        }
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (n_positional == 2) {
                fprintf(stderr, "cadre score: unexpected argument '%s'\n", arg);
                return -1;
            }
            positional[n_positional++] = arg;
            continue;
        }
        /*  --name value or --name=value */
        static const char *const names[] = {"--level", "--layer", "--format"};
        const char *value = NULL;
        int which = opt_match(argc, argv, &i, names, 3, "score", &value);
        if (which == -1) {
            fprintf(stderr, "cadre score: unknown option '%s'\n", arg);
        }
        if (which < 0) {
            return -1;
        }
        int choice = 0;
        if (which == 0) {
            choice = s_choice(value, s_level_names, 3);
            args->level = (s_level_t)choice;
        } else if (which == 1) {
            choice = s_choice(value, s_layer_names, 2);
            args->layer = (s_layer_t)choice;
        } else {
            choice = obs_format_parse(value, &args->format) == 0 ? 0 : -1;
        }
        if (choice < 0) {
            fprintf(stderr, "cadre score: invalid %s '%s'\n", names[which], value);
            return -1;
        }
    }
    if (n_positional != 2) {
        fprintf(stderr, "cadre score: expected CORPUS and ASSIGNMENTS\n");
        return -1;
    }
    args->corpus = positional[0];
    args->assignments = positional[1];
    if (strcmp(args->corpus, "-") == 0 && strcmp(args->assignments, "-") == 0) {
        fprintf(stderr, "cadre score: only one input can be standard input\n");
        return -1;
    }
    return 0;
}

/*  The truth label of obs at the chosen level (borrowed), or NULL. */
static const char *
s_truth_label(const obs_t *obs, s_level_t level)
{
    switch (level) {
    case S_LEVEL_IDENTITY:
        return obs->truth_identity;
    case S_LEVEL_ACTOR:
        return obs->truth_actor;
    case S_LEVEL_CAMPAIGN:
    default:
        return obs->truth_campaign;
    }
}

/*  Applies one good corpus record. Returns 0 or CADRE_ELIMIT. */
static int
s_apply_obs(s_run_t *run, const obs_t *obs)
{
    size_t len = strlen(obs->id);
    if (obs->op == OBS_DELETE) {
        uint32_t idx = strtab_find(run->ids, obs->id, len);
        if (idx != STRTAB_NONE) {
            run->items[idx].live = false;
        }
        return 0;
    }
    size_t before = strtab_count(run->ids);
    uint32_t idx = strtab_intern(run->ids, obs->id, len);
    if (idx == STRTAB_NONE) {
        return CADRE_ELIMIT;
    }
    if (idx == before) {
        xgrow(&run->items, &run->items_cap, before + 1);
        run->items[idx] = (s_item_t){.truth = STRTAB_NONE, .pred = STRTAB_NONE};
    }
    s_item_t *item = &run->items[idx];
    const char *label = s_truth_label(obs, run->args->level);
    item->live = true;
    item->truth = label ? strtab_intern(run->classes, label, strlen(label)) : STRTAB_NONE;
    if (label && item->truth == STRTAB_NONE) {
        return CADRE_ELIMIT;
    }
    return 0;
}

/*  Reads the whole corpus. Returns 0 (malformed records are counted in run->bad), or a
    negative code after printing why reading had to stop. */
static int
s_read_corpus(s_run_t *run)
{
    const char *path = run->args->corpus;
    obs_reader_t *reader = obs_reader_open(path, run->args->format);
    if (!reader) {
        fprintf(stderr, "cadre score: cannot read corpus %s\n", s_source(path));
        return -1;
    }
    int rc = 0;
    uint64_t bad = 0;
    for (;;) {
        obs_t *obs = NULL;
        obs_error_t err;
        memset(&err, 0, sizeof err);
        rc = obs_reader_next(reader, &obs, &err);
        if (rc == 0) {
            break;
        }
        if (rc == CADRE_ERECORD || rc == CADRE_ETRUNC) {
            s_bad_record(run, &err, obs_reader_source(reader), bad++);
            rc = 0;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "cadre score: %s: %s\n", s_source(path), cadre_strerror(rc));
            break;
        }
        rc = s_apply_obs(run, obs);
        obs_destroy(&obs);
        if (rc < 0) {
            fprintf(stderr, "cadre score: %s: too many distinct ids or labels\n", s_source(path));
            break;
        }
    }
    s_bad_summary(obs_reader_source(reader), bad);
    obs_reader_destroy(&reader);
    return rc;
}

/*  Applies one good assignment record. Returns 0 or CADRE_ELIMIT. */
static int
s_apply_assign(s_run_t *run, const assign_t *rec)
{
    const char *source = s_source(run->args->assignments);
    uint32_t idx = strtab_find(run->ids, rec->id, strlen(rec->id));
    if (idx == STRTAB_NONE || !run->items[idx].live) {
        s_problem(run, source, "assignment for", rec->id, ", which is not in the corpus");
        return 0;
    }
    s_item_t *item = &run->items[idx];
    if (item->assigned) {
        s_problem(run, source, "duplicate assignment for", rec->id, "");
        return 0;
    }
    item->assigned = true;
    const char *label = run->args->layer == S_LAYER_IDENTITY ? rec->identity : rec->campaign;
    if (!label) {
        char tail[64];
        snprintf(tail, sizeof tail, " has no %s", s_layer_names[run->args->layer]);
        s_problem(run, source, "assignment for", rec->id, tail);
        return 0;
    }
    item->pred = strtab_intern(run->clusters, label, strlen(label));
    return item->pred == STRTAB_NONE ? CADRE_ELIMIT : 0;
}

/*  Reads the whole assignment stream, as s_read_corpus(). */
static int
s_read_assignments(s_run_t *run)
{
    const char *path = run->args->assignments;
    assign_reader_t *reader = assign_reader_open(path, run->args->format);
    if (!reader) {
        fprintf(stderr, "cadre score: cannot read assignments %s\n", s_source(path));
        return -1;
    }
    int rc = 0;
    uint64_t bad = 0;
    for (;;) {
        assign_t rec = {0};
        obs_error_t err;
        memset(&err, 0, sizeof err);
        rc = assign_reader_next(reader, &rec, &err);
        if (rc == 0) {
            break;
        }
        if (rc == CADRE_ERECORD || rc == CADRE_ETRUNC) {
            s_bad_record(run, &err, assign_reader_source(reader), bad++);
            rc = 0;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "cadre score: %s: %s\n", s_source(path), cadre_strerror(rc));
            break;
        }
        rc = s_apply_assign(run, &rec);
        assign_clear(&rec);
        if (rc < 0) {
            fprintf(stderr, "cadre score: %s: too many distinct labels\n", s_source(path));
            break;
        }
    }
    s_bad_summary(assign_reader_source(reader), bad);
    assign_reader_destroy(&reader);
    return rc;
}

/*  Checks that every live observation has a truth label and an assignment. */
static void
s_check_items(s_run_t *run)
{
    const char *corpus = s_source(run->args->corpus);
    char tail[64];
    snprintf(tail, sizeof tail, " has no truth %s label", s_level_names[run->args->level]);
    size_t n = strtab_count(run->ids);
    for (uint32_t i = 0; i < n; i++) {
        const s_item_t *item = &run->items[i];
        if (!item->live) {
            continue;
        }
        if (item->truth == STRTAB_NONE) {
            s_problem(run, corpus, "observation", strtab_str(run->ids, i), tail);
        }
        if (!item->assigned) {
            s_problem(run, corpus, "observation", strtab_str(run->ids, i), " has no assignment");
        }
    }
}

/*  Scores the live items and prints the JSON object. Returns the exit code. */
static int
s_score_and_print(const s_run_t *run)
{
    size_t total = strtab_count(run->ids);
    uint32_t *truth = xmalloc((total ? total : 1) * sizeof *truth);
    uint32_t *pred = xmalloc((total ? total : 1) * sizeof *pred);
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        if (run->items[i].live) {
            truth[n] = run->items[i].truth;
            pred[n] = run->items[i].pred;
            n++;
        }
    }
    metrics_t m;
    int rc = metrics_score(truth, pred, n, &m);
    free(truth);
    free(pred);
    if (rc < 0) {
        fprintf(stderr, "cadre score: %s\n", cadre_strerror(rc));
        return 1;
    }
    printf("{\"adjusted_rand_index\": %.17g, \"homogeneity\": %.17g, \"completeness\": %.17g, "
           "\"singleton_recall\": %.17g, \"pairwise_precision\": %.17g, "
           "\"pairwise_recall\": %.17g, \"pairwise_f1\": %.17g, \"v_measure\": %.17g}\n",
           m.adjusted_rand_index, m.homogeneity, m.completeness, m.singleton_recall,
           m.pairwise_precision, m.pairwise_recall, m.pairwise_f1, m.v_measure);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "cadre score: cannot write the result\n");
        return 1;
    }
    return 0;
}

int
cmd_score(int argc, char **argv)
{
    s_args_t args;
    int rc = s_parse_args(argc, argv, &args);
    if (rc != 0) {
        if (rc < 0) {
            s_usage(stderr);
        }
        return rc > 0 ? 0 : CLI_EX_USAGE;
    }
    s_run_t run = {
        .args = &args,
        .ids = strtab_new(),
        .classes = strtab_new(),
        .clusters = strtab_new(),
    };
    int exit_code = 0;
    if (s_read_corpus(&run) < 0 || s_read_assignments(&run) < 0) {
        exit_code = 1;
    } else if (run.bad > 0) {
        fprintf(stderr, "cadre score: %llu malformed record(s); not scoring partial data\n",
                (unsigned long long)run.bad);
        exit_code = CLI_EX_DATAERR;
    } else {
        s_check_items(&run);
        if (run.problems > 0) {
            if (run.problems > S_MAX_REPORTS) {
                fprintf(stderr, "cadre score: ... and %llu more\n",
                        (unsigned long long)(run.problems - S_MAX_REPORTS));
            }
            fprintf(stderr,
                    "cadre score: %llu problem(s): the corpus and the assignments must cover "
                    "the same observations, each with a label; not scoring\n",
                    (unsigned long long)run.problems);
            exit_code = CLI_EX_DATAERR;
        } else {
            exit_code = s_score_and_print(&run);
        }
    }
    strtab_destroy(&run.ids);
    strtab_destroy(&run.classes);
    strtab_destroy(&run.clusters);
    free(run.items);
    return exit_code;
}
