/*  decnet_in.h - DECNET log files in, observations out, for the CLI: `cadre ingest decnet`.

    Files are plain or gzip text ("-" is standard input: pipes, FIFOs and rotated .gz files
    work like files), read through logfiles (so through textin) with lines of at most
    DECNET_MAX_LINE bytes, in the order of their first event time. The state file
    (--decnet-state) is read first. Bad lines are printed to stderr as "<file>:<line>:
    <message>" (the first DECNET_MAX_REPORTED), then the summary lines (docs/decnet.md §6).
*/
#ifndef CADRE_CLI_DECNET_IN_H
#define CADRE_CLI_DECNET_IN_H

#include "cowrie_in.h"
#include "decnet.h"

#include <stdbool.h>

/*  What the DECNET options asked for. A plain value; zero is the default. */
typedef struct {
    decnet_opts_t adapter; /* --flush-idle, --session-gap */
    const char *state;     /* --decnet-state FILE, borrowed from argv, or NULL */
} decnet_in_opts_t;

/*  The options' usage lines, for the command's help text. */
#define DECNET_IN_USAGE                                                                            \
    "  --decnet-state FILE    DECNET's decnet-state.json: cosmetic hostnames (auth-helper\n"       \
    "                         lines) mapped to decky names, SSH told from Telnet\n"                \
    "  --session-gap SECONDS  largest gap between two events of one session (default 1800)\n"      \
    "  --flush-idle SECONDS   emit a source once event time is SECONDS past its last event\n"      \
    "                         (default: at the end of input); a return gets id ...~2\n"

/*  Parses the DECNET option at argv[*i], taking its value from argv[*i + 1]. Returns 1 when
    it was one (*i then points at its last word), 0 when it is not a DECNET option, or -1 on
    a bad or missing value (said on stderr as "cadre <prog>: ..."). */
int decnet_in_option(const char *prog, int argc, char **argv, int *i, decnet_in_opts_t *o);

/*  For commands taking both adapters' options (`cadre send`, `cadre run`): checks that the
    options given go with the --input chosen (cowrie, decnet, or neither: observations), and
    gives the DECNET options the shared --flush-idle (parsed by cowrie_in_option). Returns
    0, or -CLI_EX_USAGE (said on stderr as "cadre <prog>: ..."). */
int decnet_in_check_input(const char *prog, bool cowrie, bool decnet, const cowrie_in_opts_t *copts,
                          decnet_in_opts_t *dopts);

/*  Reads the state file, then the log files, handing every observation to sink, and prints
    the summary on stderr: "N lines, B bad, S sessions, O observations", then what was
    skipped ("skipped: N not events, N without an attacker address (kind n, ...), N with
    nothing to keep") and what the limits kept out ("dropped over the limits
    (docs/decnet.md): ..."), each only when non-zero. A file whose every non-blank line is
    bad is named on stderr. Returns 0; 1 when a file could not be opened or read (the input
    is abandoned); CLI_EX_DATAERR (65) when the state file is unusable, or when no line of
    the run was usable (there were non-blank lines and no observation came of them: every
    one bad, native, address-less or carrying nothing to keep); or the first nonzero code of sink (a
   negative code). */
int decnet_in_run(const char *prog, const char *const *files, size_t n_files,
                  const decnet_in_opts_t *o, decnet_sink_fn sink, void *arg);

/*  How a log adapter's record feeds a running engine (`cadre send`, `cadre run`): as an
    append (docs/schema.md "Appends"), handed to submit(copy, arg). With name_sessions (the
    DECNET adapter, which numbers a source's sessions per run: ssh-1, ssh-2...) each session
    id becomes "<id>@<obs_session_digest as 16 hex digits>", so two batches never give two
    different sessions one id (the append would keep one), and a batch sent again brings
    nothing new. Cowrie's session ids are Cowrie's own and unique. Returns submit's code. */
int adapter_append(const obs_t *obs, bool name_sessions, int (*submit)(const obs_t *, void *),
                   void *arg);

#endif
