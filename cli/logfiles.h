/*  logfiles.h - the log inputs of one `cadre ingest` run, each opened once and read in the
    order of its first event time (cowrie_in.c, decnet_in.c).

    Files are plain or gzip text ("-" is standard input) read through textin. Every input is
    opened, and its first lines read ahead (at most LOGFILES_PEEK_LINES lines or
    LOGFILES_PEEK_BYTES bytes, kept for its turn) until one has an event time, before any is
    processed; inputs are then ordered by that time (one without sorts first), ties in the
    order given. Nothing is read twice, so pipes, FIFOs and standard input work like files.
    Rotation numbers (x.log.3) are not dates: the order given never matters.
*/
#ifndef CADRE_CLI_LOGFILES_H
#define CADRE_CLI_LOGFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGFILES_PEEK_LINES 100        /* lines read ahead at most to find the first time */
#define LOGFILES_PEEK_BYTES (4u << 20) /* bytes read ahead at most for the same */

/*  The event time of one line in epoch seconds (0 and *t set), or nonzero when it has
    none. */
typedef int (*logfiles_time_fn)(const char *line, size_t len, double *t);

typedef struct logfiles_t logfiles_t;

/*  Opens the n paths with lines of at most max_line bytes and, when time_fn is not NULL,
    reads each one's first lines ahead and orders them by first event time. Returns the set,
    or NULL after saying on stderr ("cadre <prog>: <path>: <error>") which path could not be
    opened. Raises the soft limit on open files towards the hard one when n needs it. */
logfiles_t *logfiles_open(const char *prog, const char *const *paths, size_t n, size_t max_line,
                          logfiles_time_fn time_fn);
/*  Closes every input still open, frees the set and NULLs *self_p. NULL is a no-op. */
void logfiles_destroy(logfiles_t **self_p);

/*  The number of inputs, and the path of the i-th in reading order (borrowed from the
    caller's array). */
size_t logfiles_count(const logfiles_t *self);
const char *logfiles_path(const logfiles_t *self, size_t i);
/*  The next line of the i-th input: its lines read ahead first, then its reader's. Returns
    1 (*line borrowed until the next call, NUL-terminated; *len), 0 at the end, CADRE_ELIMIT
    for a line over max_line (skipped), or -EIO (logfiles_error says why); *no is the line's
    number. */
int logfiles_next(logfiles_t *self, size_t i, const char **line, size_t *len, uint64_t *no);
/*  The last read error of the i-th input, or "". */
const char *logfiles_error(const logfiles_t *self, size_t i);
/*  Closes the i-th input and frees what it read ahead (done reading it). */
void logfiles_close(logfiles_t *self, size_t i);

/*  Line counts of a run's inputs of one kind. */
typedef struct {
    uint64_t lines; /* lines read */
    uint64_t blank; /* blank lines (ignored, neither used nor bad) */
    uint64_t bad;   /* bad lines */
} logfiles_tally_t;

/*  True when lines were read and every one that was not blank is bad. */
static inline bool
logfiles_all_bad(const logfiles_tally_t *t)
{
    return t->bad > 0 && t->bad == t->lines - t->blank;
}

/*  True when s holds only blanks (spaces, tabs, CR, LF). */
bool logfiles_blank(const char *s, size_t len);

/*  A log adapter as logfiles_feed() drives it: functions on ctx. */
typedef struct {
    int (*feed)(void *ctx, const char *line, size_t len, uint64_t no); /* nonzero: bad line */
    void (*bad_line)(void *ctx, uint64_t no, const char *message);     /* one it never saw */
    size_t (*bad_reported)(void *ctx);               /* bad lines kept with their message */
    const char *(*bad_message)(void *ctx, size_t k); /* the k-th one's message */
    int (*emit_idle)(void *ctx); /* after every line when not NULL; nonzero stops */
    const char *what;            /* "DECNET RFC 5424", "Cowrie JSON": "not a <what> log?" */
    void *ctx;                   /* the adapter */
} logfiles_adapter_t;

/*  Feeds every line of the i-th input to the adapter (a line over max_line as a bad line
    it never saw; a blank line fed, counted as blank), prints "<path>:<line>: <message>" for
    each bad line the adapter kept, calls emit_idle after every line, then closes the input,
    adds its counts to tally and says on stderr when its every line was bad. Returns 0, 1 on
    an I/O error (said on stderr), or emit_idle's nonzero code. */
int logfiles_feed(logfiles_t *self, size_t i, const char *prog, const logfiles_adapter_t *a,
                  logfiles_tally_t *tally);

#endif
