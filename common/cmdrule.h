/*  cmdrule.h - the shell-command phase rule table shared by the input adapters.

    A command an attacker typed (Cowrie's cowrie.command.input, DECNET's bash CMD lines) gets
    a Unified Kill Chain phase from a fixed table of rows tried in priority order: substrings
    anywhere in the command, program names of its simple commands, and transfer tools (wget,
    curl, tftp, ftpget, nc...) that name a host. The same pass finds the first host a transfer
    tool names, which the adapters keep as the session's C2. The table is static data; the
    parser is a word splitter (at ; | & ( ) backquotes and newlines, quotes removed), not a
    shell. docs/cowrie.md ("Phase rule table", "C2 from command text") documents every row.
*/
#ifndef CADRE_CMDRULE_H
#define CADRE_CMDRULE_H

#include "ukc.h"

#include <stdbool.h>
#include <stddef.h>

/*  How a row's text is matched. */
typedef enum {
    CMDRULE_SUBSTRING, /* text occurs anywhere in the command (case-sensitive) */
    CMDRULE_PROGRAM,   /* text is the program of one of the command's simple commands
                          (basename, after env assignments, sudo, busybox, nohup) */
    CMDRULE_TRANSFER,  /* a transfer tool (wget, curl, tftp, ftpget, nc...) names a host;
                          text lists the tools for documentation */
} cmdrule_kind_t;

/*  One row of the table. Static data. */
typedef struct {
    ukc_phase_t phase;   /* the phase of a matching command */
    cmdrule_kind_t kind; /* how text is matched */
    const char *text;    /* substring or program name */
    const char *example; /* a command that this row matches and no earlier row does */
} cmdrule_t;

/*  The phase of one command by the table (a command no row matches is execution). When
    c2_p is not NULL, *c2_p gets the first host a transfer tool in the command names (owned,
    or NULL): a URL's host, "tftp -g -r f HOST", "nc HOST PORT", "ftpget HOST ...". */
ukc_phase_t cmdrule_phase(const char *cmd, char **c2_p);
/*  The table: its number of rows, and row i (static; NULL past the end), in priority
    order. */
size_t cmdrule_count(void);
const cmdrule_t *cmdrule_at(size_t i);

/*  The host of a URL ("scheme://user@host:port/path" -> "host", "[::1]" -> "::1"; no scheme:
    "host/path"), owned, or NULL when there is none or it is longer than OBS_MAX_SHORT bytes;
    *too_long (when not NULL) says whether it was the latter. */
char *cmdrule_url_host(const char *url, bool *too_long);

#endif
