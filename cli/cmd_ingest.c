/*  cmd_ingest.c - `cadre ingest cowrie` and `cadre ingest decnet`: honeypot logs in,
    observations out.

    Reads every file (plain or gzip, "-" for standard input) through cowrie_in (Cowrie
    JSON lines) or decnet_in (DECNET RFC 5424 lines) into one adapter (so a source seen in
    several files makes one observation), and writes every observation with an obs_writer
    as it is emitted (at the end, or with --flush-idle as sources go idle). Bad lines are
    printed to stderr as "<file>:<line>: <message>", then the adapter's summary. Bad lines
    are expected in real logs (a truncated last line) and do not change the exit status
    unless no line was usable: 0 success, 1 a file unreadable or the output unwritable,
    2 usage, 65 every (non-blank) line bad or unusable.
*/
#include "cmds.h"

#include "cowrie_in.h"
#include "decnet_in.h"
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
                 "       cadre ingest decnet FILE... [--out FILE] [--format jsonl|msgpack]\n"
                 "                           [--decnet-state FILE] [--session-gap SECONDS]\n"
                 "                           [--flush-idle SECONDS]\n"
                 "\n"
                 "Turns Cowrie JSON-lines logs (docs/cowrie.md) or DECNET RFC 5424 logs\n"
                 "(docs/decnet.md) into observations, one per source IP (plain or gzip, \"-\" is\n"
                 "standard input, in any order), written to --out (default standard output).\n"
                 "Cowrie options:\n" COWRIE_IN_USAGE "DECNET options:\n" DECNET_IN_USAGE
                 "Prints \"N lines, B bad, S sessions ..., O observations\" on stderr, what was\n"
                 "skipped and what the limits kept out, per kind. Exit status: 0 done (bad\n"
                 "lines are counted, not fatal), 1 I/O error, 2 usage, 65 no line usable.\n");
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
    bool decnet = argc >= 2 && strcmp(argv[1], "decnet") == 0;
    if (argc < 2 || (!decnet && strcmp(argv[1], "cowrie") != 0)) {
        s_usage(stderr);
        return CLI_EX_USAGE;
    }
    const char **files = xcalloc((size_t)argc, sizeof *files);
    size_t n_files = 0;
    const char *out_path = NULL;
    obs_format_t format = OBS_FORMAT_JSONL;
    cowrie_in_opts_t copts = {0};
    decnet_in_opts_t dopts = {0};
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
        } else if (decnet && (got = decnet_in_option("ingest", argc, argv, &i, &dopts)) != 0) {
            rc = got < 0 ? CLI_EX_USAGE : 0;
        } else if (!decnet && (got = cowrie_in_option("ingest", argc, argv, &i, &copts)) != 0) {
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
        int wrc = decnet ? decnet_in_run("ingest", files, n_files, &dopts, s_sink, writer)
                         : cowrie_in_run("ingest", files, n_files, &copts, s_sink, writer);
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
