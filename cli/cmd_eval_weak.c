/*  cmd_eval_weak.c - `cadre eval-weak`: scores assignments against weak labels at IP level
    (common/weak.h, docs/eval-weak.md).

    Reads the three inputs into a weak_t (observations give id -> ip, assignments give
    id -> identity/campaign, the labels file gives ip -> labels), evaluates, and prints the
    report as text or as one JSON object. Weak labels are approximate, so bad input lines and
    records are reported on stderr, skipped and counted rather than fatal; only unreadable
    files (exit 1) and usage errors (exit 2) stop the command.
*/
#include "cmds.h"
#include "opt.h"

#include "assign.h"
#include "err.h"
#include "jsonio.h"
#include "obs.h"
#include "obs_stream.h"
#include "weak.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  How many malformed records of one input are printed before only counting the rest. */
#define S_MAX_REPORTS 20

/*  The parsed command line. */
typedef struct {
    const char *labels;       /* labels_weak.tsv path */
    const char *observations; /* observation stream path ("-" = stdin) */
    const char *assignments;  /* assignment stream path ("-" = stdin) */
    bool json;                /* --format json */
    weak_level_t level;       /* --level (default campaign) */
} s_args_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre eval-weak --labels LABELS.tsv --observations OBS --assignments ASSIGN\n"
            "                       [--format text|json] [--level campaign|identity]\n"
            "\n"
            "Scores assignments against weak labels (labels_weak.tsv: session, src_ip,\n"
            "first_ts, labels) at source-IP level. An IP's cluster is the campaign (or\n"
            "identity) of its first observation; IPs whose observations landed in different\n"
            "clusters are reported as split. A label's operation is its prefix before '_'\n"
            "(C1b, C1c fold into C1); G* labels are generic and no truth; operations that\n"
            "co-occur on one IP are joined. Prints per operation the fragmentation and\n"
            "purity, every cluster fusing two operations, the generic labels' spread, and\n"
            "ARI, homogeneity, completeness, V-measure and pairwise P/R/F1 over the labelled\n"
            "IPs. Bad lines and records are reported and skipped. Exit 1 if a file cannot\n"
            "be read, 2 on a usage error. See docs/eval-weak.md.\n");
}

/*  The display name of a path in messages. */
static const char *
s_source(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/*  Parses the command line into *args. Returns 0, 1 when --help was printed, or -1 after
    printing a usage error. */
static int
s_parse_args(int argc, char **argv, s_args_t *args)
{
    *args = (s_args_t){.level = WEAK_LEVEL_CAMPAIGN};
    static const char *const names[] = {"--labels", "--observations", "--assignments", "--format",
                                        "--level"};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(stdout);
            return 1;
        }
        const char *value = NULL;
        int which = opt_match(argc, argv, &i, names, 5, "eval-weak", &value);
        if (which == -1) {
            fprintf(stderr, "cadre eval-weak: unexpected argument '%s'\n", arg);
        }
        if (which < 0) {
            return -1;
        }
        bool ok = true;
        switch (which) {
        case 0:
            args->labels = value;
            break;
        case 1:
            args->observations = value;
            break;
        case 2:
            args->assignments = value;
            break;
        case 3:
            ok = strcmp(value, "text") == 0 || strcmp(value, "json") == 0;
            args->json = strcmp(value, "json") == 0;
            break;
        default:
            ok = strcmp(value, "campaign") == 0 || strcmp(value, "identity") == 0;
            args->level =
                strcmp(value, "identity") == 0 ? WEAK_LEVEL_IDENTITY : WEAK_LEVEL_CAMPAIGN;
            break;
        }
        if (!ok) {
            fprintf(stderr, "cadre eval-weak: invalid %s '%s'\n", names[which], value);
            return -1;
        }
    }
    if (!args->labels || !args->observations || !args->assignments) {
        fprintf(stderr, "cadre eval-weak: --labels, --observations and --assignments are "
                        "required\n");
        return -1;
    }
    int stdins = (strcmp(args->labels, "-") == 0) + (strcmp(args->observations, "-") == 0) +
                 (strcmp(args->assignments, "-") == 0);
    if (stdins > 1) {
        fprintf(stderr, "cadre eval-weak: only one input can be standard input\n");
        return -1;
    }
    return 0;
}

/*  Reports one malformed record (the first S_MAX_REPORTS of an input); shown counts them. */
static void
s_bad_record(const obs_error_t *err, const char *source, uint64_t *shown)
{
    if ((*shown)++ < S_MAX_REPORTS) {
        char buf[1024];
        obs_error_format(err, source, buf, sizeof buf);
        fprintf(stderr, "cadre eval-weak: %s (skipped)\n", buf);
    }
}

/*  Ends the report of one input that had bad malformed records. */
static void
s_bad_summary(const char *source, uint64_t bad)
{
    if (bad > S_MAX_REPORTS) {
        fprintf(stderr, "cadre eval-weak: %s: ... and %llu more malformed records\n", source,
                (unsigned long long)(bad - S_MAX_REPORTS));
    }
}

/*  Reads the labels file. Returns 0, or -1 after printing why it could not be read. */
static int
s_read_labels(weak_t *weak, const char *path)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *file = is_stdin ? stdin : fopen(path, "r");
    if (!file) {
        fprintf(stderr, "cadre eval-weak: cannot read labels %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = weak_read_labels(weak, file, s_source(path));
    if (!is_stdin) {
        fclose(file);
    }
    uint64_t bad = weak_bad_count(weak);
    for (size_t i = 0; i < bad && i < WEAK_MAX_BAD; i++) {
        fprintf(stderr, "cadre eval-weak: %s (line skipped)\n", weak_bad_at(weak, i));
    }
    if (bad > WEAK_MAX_BAD) {
        fprintf(stderr, "cadre eval-weak: %s: ... and %llu more bad lines\n", s_source(path),
                (unsigned long long)(bad - WEAK_MAX_BAD));
    }
    if (rc < 0) {
        fprintf(stderr, "cadre eval-weak: %s: %s\n", s_source(path), cadre_strerror(rc));
        return -1;
    }
    return 0;
}

/*  Reads the observation stream. Returns 0, or -1 after printing why reading stopped. */
static int
s_read_observations(weak_t *weak, const char *path)
{
    obs_reader_t *reader = obs_reader_open(path, OBS_FORMAT_AUTO);
    if (!reader) {
        fprintf(stderr, "cadre eval-weak: cannot read observations %s\n", s_source(path));
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
            s_bad_record(&err, obs_reader_source(reader), &bad);
            rc = 0;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "cadre eval-weak: %s: %s\n", s_source(path), cadre_strerror(rc));
            break;
        }
        rc = 0;
        if (obs->op == OBS_DELETE) {
            weak_delete_observation(weak, obs->id);
        } else {
            rc = weak_add_observation(weak, obs->id, obs->ip);
        }
        obs_destroy(&obs);
        if (rc < 0) {
            fprintf(stderr, "cadre eval-weak: %s: %s\n", s_source(path), cadre_strerror(rc));
            break;
        }
    }
    s_bad_summary(obs_reader_source(reader), bad);
    obs_reader_destroy(&reader);
    return rc < 0 ? -1 : 0;
}

/*  Reads the assignment stream, as s_read_observations(). */
static int
s_read_assignments(weak_t *weak, const char *path)
{
    assign_reader_t *reader = assign_reader_open(path, OBS_FORMAT_AUTO);
    if (!reader) {
        fprintf(stderr, "cadre eval-weak: cannot read assignments %s\n", s_source(path));
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
            s_bad_record(&err, assign_reader_source(reader), &bad);
            rc = 0;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "cadre eval-weak: %s: %s\n", s_source(path), cadre_strerror(rc));
            break;
        }
        rc = weak_add_assignment(weak, rec.id, rec.identity, rec.campaign);
        assign_clear(&rec);
        if (rc < 0) {
            fprintf(stderr, "cadre eval-weak: %s: %s\n", s_source(path), cadre_strerror(rc));
            break;
        }
    }
    s_bad_summary(assign_reader_source(reader), bad);
    assign_reader_destroy(&reader);
    return rc < 0 ? -1 : 0;
}

/*  Prints the report in the chosen format. Returns the exit code. */
static int
s_print(const weak_report_t *rep, bool json)
{
    int rc = 0;
    if (json) {
        char *text = NULL;
        size_t len = 0;
        rc = jsonio_weak_encode(rep, &text, &len);
        if (rc == 0) {
            fwrite(text, 1, len, stdout);
            fputc('\n', stdout);
            free(text);
            rc = fflush(stdout) != 0 || ferror(stdout) ? -EIO : 0;
        }
    } else {
        rc = weak_report_print(rep, stdout);
    }
    if (rc < 0) {
        fprintf(stderr, "cadre eval-weak: cannot write the report: %s\n", cadre_strerror(rc));
        return 1;
    }
    return 0;
}

int
cmd_eval_weak(int argc, char **argv)
{
    s_args_t args;
    int rc = s_parse_args(argc, argv, &args);
    if (rc != 0) {
        if (rc < 0) {
            s_usage(stderr);
        }
        return rc > 0 ? 0 : CLI_EX_USAGE;
    }
    weak_t *weak = weak_new();
    int exit_code = 0;
    if (s_read_labels(weak, args.labels) < 0 || s_read_observations(weak, args.observations) < 0 ||
        s_read_assignments(weak, args.assignments) < 0) {
        exit_code = 1;
    } else {
        weak_report_t *rep = weak_evaluate(weak, args.level);
        exit_code = s_print(rep, args.json);
        weak_report_destroy(&rep);
    }
    weak_destroy(&weak);
    return exit_code;
}
