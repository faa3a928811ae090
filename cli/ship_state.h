/*  ship_state.h - the offsets file of `cadre ship` (docs/ship.md, "State").

    A state directory holds DIR/offsets, the one record of what the engine has acknowledged
    of each log file, and DIR/lock, which the running shipper holds (flock) so that two
    shippers never share a directory. The offsets file is text, rewritten whole and
    atomically: DIR/offsets.tmp is written and fsync'd, renamed over DIR/offsets, and the
    directory fsync'd; a crash leaves the old file or the new one, never a mix.

        cadre-ship 1 INPUT
        unit DEV INO FP_LEN FP COMMIT LINE FLAGS PATH
        cut POS
        ...

    INPUT is the input kind the file was written for (cowrie, obs, decnet); a state of
    another kind is refused. Each unit line is one file as the shipper knows it: the device
    and inode it was read from, its fingerprint (FP, 16 hex digits: XXH64 of its first
    FP_LEN bytes; FP_LEN 0 when not fixed yet), COMMIT (every byte before it is in records
    the engine acknowledged, and reading resumes there), LINE (lines before COMMIT), FLAGS
    ("d" read to its end and acknowledged, "-" otherwise) and PATH, the path it was followed
    as (bytes below 0x21, '%' and 0x7f written as %XX). The cut lines after it are the
    positions past COMMIT where the shipper emitted (each written before its records were
    sent), so a restart emits the same parts again. Ownership: the state owns the units it
    loaded until the caller takes them (ship_state_take).
*/
#ifndef CADRE_CLI_SHIP_STATE_H
#define CADRE_CLI_SHIP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  One file as recorded. A plain value whose path and cuts are owned by whoever holds it. */
typedef struct {
    uint64_t dev;    /* device of the file it was last read from */
    uint64_t ino;    /* its inode */
    uint32_t fp_len; /* bytes the fingerprint covers (0: not fixed yet) */
    uint64_t fp;     /* XXH64 of the file's first fp_len bytes */
    uint64_t commit; /* every byte before it was acknowledged; reading resumes here */
    uint64_t line;   /* lines before commit */
    bool done;       /* read to its end and acknowledged: nothing more will come */
    char *path;      /* the path it was followed as, owned */
    uint64_t *cuts;  /* emission positions past commit, increasing, owned (may be NULL) */
    size_t n_cuts;   /* number of cuts */
} ship_rec_t;

typedef struct ship_state_t ship_state_t;

/*  Opens the state directory dir (created 0700 when missing) for input kind input: takes
    DIR/lock and loads DIR/offsets when it exists. Returns the state, or NULL after writing
    the reason into err (errlen bytes): the directory cannot be made or locked (another
    shipper holds it), the file cannot be read or is malformed, or it was written for
    another input kind. */
ship_state_t *ship_state_open(const char *dir, const char *input, char *err, size_t errlen);
/*  Frees the state and what it still owns, releases the lock and NULLs *self_p. NULL is a
    no-op. */
void ship_state_destroy(ship_state_t **self_p);
/*  Moves the loaded records out: *recs gets the array (the caller frees each with
    ship_rec_clear, then the array), *n their number. The state holds none afterwards. */
void ship_state_take(ship_state_t *self, ship_rec_t **recs, size_t *n);
/*  Writes the n records atomically (see above). Returns 0 or -errno (the old file stays). */
int ship_state_save(ship_state_t *self, const ship_rec_t *recs, size_t n);
/*  Frees what a record owns and zeroes it. */
void ship_rec_clear(ship_rec_t *rec);

#endif
