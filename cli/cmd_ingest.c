/*  cmd_ingest.c - `cadre ingest cowrie`: Cowrie JSON-lines logs in, observations out.

    Reads every file (plain or gzip, "-" for standard input) through cowrie_in into one
    cowrie_t (so a source seen in several files makes one observation), and writes every
    observation with an obs_writer as it is emitted (at the end, or with --flush-idle as
    sources go idle). Bad lines are printed to stderr as "<file>:<line>: <message>", then
    the summary "N lines, B bad, S sessions (C cadre sessions), O observations". Bad lines
    are expected in real logs (a truncated last line) and do not change the exit status
    unless every line is bad: 0 success, 1 a file unreadable or the output unwritable,
    2 usage, 65 every (non-blank) Cowrie or fatt line bad.
*/
#include "cmds.h"

#include "cowrie_in.h"
#include "err.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre ingest cowrie FILE... [--out FILE] [--format jsonl|msgpack]\n"
                 "                           [--group ip|ip-sensor] [--flush-idle SECONDS]\n"
                 "                           [--fatt FILE]...\n"
                 "\n"
                 "Turns Cowrie JSON-lines logs (plain or gzip, \"-\" is standard input, in any\n"
                 "order) into observations (docs/cowrie.md), written to --out (default standard\n"
                 "output).\n" COWRIE_IN_USAGE
                 "Prints \"N lines, B bad, S sessions (C cadre sessions), O observations\" on\n"
                 "stderr, and what the limits kept out, per kind. Exit status: 0 done (bad\n"
                 "lines are counted, not fatal), 1 I/O error, 2 usage, 65 every line bad.\n");
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
    cowrie_in_opts_t copts = {0};
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        int got = 0;
        if (a[0] != '-' || a[1] == '\0') {
            files[n_files++] = a;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            free(files);
            cowrie_in_opts_clear(&copts);
            return 0;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *value = argv[++i];
            if (obs_format_parse(value, &format) != 0 || format == OBS_FORMAT_AUTO) {
                fprintf(stderr, "cadre ingest: unknown format '%s' (jsonl or msgpack)\n", value);
                rc = CLI_EX_USAGE;
            }
        } else if ((got = cowrie_in_option("ingest", argc, argv, &i, &copts)) != 0) {
            rc = got < 0 ? CLI_EX_USAGE : 0;
        } else {
            fprintf(stderr, "cadre ingest: unknown option or missing value '%s'\n", a);
            rc = CLI_EX_USAGE;
        }
    }
    if (rc == 0 && n_files == 0) {
        s_usage(stderr);
        rc = CLI_EX_USAGE;
    }
    FILE *out = stdout;
    if (rc == 0 && out_path && strcmp(out_path, "-") != 0) {
        out = fopen(out_path, "wb");
        if (!out) {
            fprintf(stderr, "cadre ingest: %s: %s\n", out_path, strerror(errno));
            out = stdout;
            rc = 1;
        }
    }
    if (rc == 0) {
        obs_writer_t *writer = obs_writer_new(out, format);
        int wrc = cowrie_in_run("ingest", files, n_files, &copts, s_sink, writer);
        obs_writer_destroy(&writer);
        if (wrc < 0) {
            fprintf(stderr, "cadre ingest: writing observations: %s\n", cadre_strerror(wrc));
        }
        rc = wrc == 0 || wrc == CLI_EX_DATAERR ? wrc : 1;
        if (out != stdout && fclose(out) != 0) {
            fprintf(stderr, "cadre ingest: %s: %s\n", out_path, strerror(errno));
            rc = 1;
        } else if (out == stdout && fflush(out) != 0) {
            rc = 1;
        }
    }
    free(files);
    cowrie_in_opts_clear(&copts);
    return rc;
}
