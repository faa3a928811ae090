/*  cmd_ingest.c - `cadre ingest cowrie`: Cowrie JSON-lines logs in, observations out.

    Reads every file line by line into one cowrie_t (so a source seen in several files makes
    one observation), then writes every observation with an obs_writer. The first
    COWRIE_MAX_REPORTED bad lines are printed to stderr as "<file>:<line>: <message>", then
    the summary "N lines, B bad, S sessions, O observations". Bad lines are expected in real
    logs (a truncated last line) and do not change the exit status: 0 success, 1 a file
    unreadable or the output unwritable, 2 usage.
*/
#include "cmds.h"

#include "cowrie.h"
#include "err.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre ingest cowrie FILE... [--out FILE] [--format jsonl|msgpack]\n"
                 "\n"
                 "Turns Cowrie JSON-lines logs (plain text, \"-\" is standard input) into one\n"
                 "observation per source IP (docs/cowrie.md), written to --out (default standard\n"
                 "output). Prints \"N lines, B bad, S sessions, O observations\" on stderr.\n"
                 "Exit status: 0 done (bad lines are counted, not fatal), 1 I/O error, 2 usage.\n");
}

/*  Feeds one file; returns 0 or -errno. */
static int
s_feed_file(cowrie_t *cw, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        int rc = -errno;
        fprintf(stderr, "cadre ingest: %s: %s\n", path, strerror(errno));
        return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    uint64_t line_no = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        line_no++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        size_t reported = cowrie_bad_reported(cw);
        if (cowrie_feed(cw, line, len, line_no) != 0 && cowrie_bad_reported(cw) > reported) {
            const cowrie_bad_t *b = cowrie_bad_at(cw, reported);
            fprintf(stderr, "%s:%" PRIu64 ": %s\n", path, b->line_no, b->message);
        }
    }
    int rc = ferror(f) ? -EIO : 0;
    if (rc != 0) {
        fprintf(stderr, "cadre ingest: %s: read error\n", path);
    }
    free(line);
    if (f != stdin) {
        fclose(f);
    }
    return rc;
}

static int
s_sink(const obs_t *obs, void *arg)
{
    return obs_writer_put(arg, obs);
}

int
cmd_ingest(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        s_usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "cowrie") != 0) {
        s_usage(stderr);
        return CLI_EX_USAGE;
    }
    const char **files = xcalloc((size_t)argc, sizeof *files);
    size_t n_files = 0;
    const char *out_path = NULL;
    obs_format_t format = OBS_FORMAT_JSONL;
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            files[n_files++] = a;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            free(files);
            return 0;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *value = argv[++i];
            if (obs_format_parse(value, &format) != 0 || format == OBS_FORMAT_AUTO) {
                fprintf(stderr, "cadre ingest: unknown format '%s' (jsonl or msgpack)\n", value);
                rc = CLI_EX_USAGE;
            }
        } else {
            fprintf(stderr, "cadre ingest: unknown option or missing value '%s'\n", a);
            rc = CLI_EX_USAGE;
        }
    }
    if (rc == 0 && n_files == 0) {
        s_usage(stderr);
        rc = CLI_EX_USAGE;
    }
    if (rc != 0) {
        free(files);
        return rc;
    }
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") != 0) {
        out = fopen(out_path, "wb");
        if (!out) {
            fprintf(stderr, "cadre ingest: %s: %s\n", out_path, strerror(errno));
            free(files);
            return 1;
        }
    }
    cowrie_t *cw = cowrie_new(NULL);
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        rc = s_feed_file(cw, files[i]) == 0 ? 0 : 1;
    }
    free(files);
    if (rc == 0) {
        obs_writer_t *writer = obs_writer_new(out, format);
        int wrc = cowrie_finish(cw, s_sink, writer);
        obs_writer_destroy(&writer);
        if (wrc != 0) {
            fprintf(stderr, "cadre ingest: writing observations: %s\n", cadre_strerror(wrc));
            rc = 1;
        }
    }
    fprintf(stderr,
            "%" PRIu64 " lines, %" PRIu64 " bad, %" PRIu64 " sessions, %" PRIu64 " observations\n",
            cowrie_lines(cw), cowrie_bad(cw), cowrie_sessions(cw), cowrie_observations(cw));
    cowrie_destroy(&cw);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "cadre ingest: %s: %s\n", out_path, strerror(errno));
        rc = 1;
    } else if (out == stdout && fflush(out) != 0) {
        rc = 1;
    }
    return rc;
}
