/*  cowrie_in.h - Cowrie (and fatt) log files in, observations out, for the CLI: `cadre
    ingest cowrie`, and `--input cowrie` of `cadre run` and `cadre send`.

    Files are plain or gzip text ("-" is standard input), read through textin with lines of
    at most COWRIE_MAX_LINE bytes; each is opened exactly once, so pipes and FIFOs work like
    files. fatt files are read first (the join needs them before the observations are
    built); Cowrie files are then read in the order of their first event time (rotation
    numbers are not dates): every Cowrie file is opened and its first lines read ahead (and
    kept) before any is processed. Bad lines are printed to stderr as
    "<file>:<line>: <message>" (the first COWRIE_MAX_REPORTED), then one summary line.
*/
#ifndef CADRE_CLI_COWRIE_IN_H
#define CADRE_CLI_COWRIE_IN_H

#include "cowrie.h"

#include <stddef.h>

/*  What the Cowrie options asked for. A plain value; zero is the default. */
typedef struct {
    cowrie_opts_t adapter; /* --group, --flush-idle */
    const char **fatt;     /* --fatt files, borrowed from argv, owned array */
    size_t n_fatt;         /* number of fatt files */
} cowrie_in_opts_t;

/*  The options' usage lines, for the commands' help texts. */
#define COWRIE_IN_USAGE                                                                            \
    "  --group ip|ip-sensor   one observation per source IP (default) or per IP and sensor\n"      \
    "  --flush-idle SECONDS   emit a source once event time is SECONDS past its last event\n"      \
    "                         (default: at the end of input); a return gets id ...~2\n"            \
    "  --fatt FILE            fatt JSON log joined by (source IP, port): JA3 and HASSH\n"          \
    "                         (repeatable)\n"

/*  Parses the Cowrie option at argv[*i], taking its value from argv[*i + 1]. Returns 1 when
    it was one (*i then points at its last word), 0 when it is not a Cowrie option, or -1
    on a bad or missing value (said on stderr as "cadre <prog>: ..."). */
int cowrie_in_option(const char *prog, int argc, char **argv, int *i, cowrie_in_opts_t *o);
/*  Frees what the options own (not the struct). */
void cowrie_in_opts_clear(cowrie_in_opts_t *o);

/*  Reads the fatt files, then the Cowrie files, handing every observation to sink, and
    prints the summary "N lines, B bad, S sessions (C cadre sessions), O observations" on
    stderr (plus the fatt counts when there were fatt files, and "dropped over the limits:
    N kind, ..." when the OBS_MAX_* limits kept anything out). A file whose every non-blank
    line is bad is named on stderr. Returns 0; 1 when a file could not be opened or read
    (the input is abandoned); CLI_EX_DATAERR (65) when every non-blank Cowrie line, or every
    non-blank fatt line, of the run was bad (and there was at least one: e.g. not a Cowrie
    log); or the first nonzero code of sink (a negative code). */
int cowrie_in_run(const char *prog, const char *const *files, size_t n_files,
                  const cowrie_in_opts_t *o, cowrie_sink_fn sink, void *arg);

#endif
