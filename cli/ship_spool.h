/*  ship_spool.h - the spool of `cadre ship --listen-syslog`: what DECNET's SWARM forwarders
    send, written to one file per worker before anything else is done with it
    (docs/ship.md, "Receiving syslog over TLS").

    A spool directory (STATE/syslog) holds, per worker, the current spool `<name>.log` and
    rotated spools `<name>.log.<N>`. <name> is the worker's certificate CN with '%', '/'
    and a leading '.' written as %XX, so every CN is a file name of its own, and no two CNs
    share one. Each message is one line, `WORKER TAB MSG` with backslash, LF, CR and TAB of
    MSG escaped as `\\`, `\n`, `\r`, `\t`: the lines `cadre syslog-recv` writes, which
    `--input decnet` reads.

    Messages are gathered in memory by ship_spool_add() and written by ship_spool_flush(),
    which the shipper calls once per turn: every buffered line is written, every file written
    to is fsync'd (and the directory when a file was created or renamed), then a spool that
    reached max_bytes is renamed to `<name>.log.<N>` (N one more than any before) and the
    rotation reported through the callback; the next message of that worker creates a new
    `<name>.log`. What cannot be written (a full disk) stays buffered and is written by a
    later flush; the file then ends inside a line until it is, which a reader never hands
    out. A spool found at start that ends without a newline (a crash between two writes of
    one line) gets one before anything more is appended, so the cut line stands alone.

    The spool only writes; the shipper follows the files it lists like any other file, and
    deletes a rotated spool once it is read and acknowledged. Single-threaded.
*/
#ifndef CADRE_CLI_SHIP_SPOOL_H
#define CADRE_CLI_SHIP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHIP_SPOOL_MAX_BYTES (64u << 20) /* default rotation size of one worker's spool */
#define SHIP_SPOOL_NAME_MAX 200          /* longest encoded worker name (3 x a 64-byte CN) */

typedef struct ship_spool_t ship_spool_t;

/*  Reports a rotation: the spool path (borrowed) was renamed to rotated (borrowed, for the
    call); dev and ino identify the renamed file. */
typedef void(ship_spool_rotated_fn)(void *arg, const char *path, const char *rotated, uint64_t dev,
                                    uint64_t ino);

/*  Opens the spool directory dir (created 0700 when missing) and lists the spools in it:
    current spools (ship_spool_count) and rotated ones (ship_spool_n_rotated). Files of
    other names are left alone. A spool rotates once it holds max_bytes (>= 1). fn (not
    NULL) with arg receives every rotation. Returns the spool, or NULL with the reason
    logged (the directory cannot be made or read). */
ship_spool_t *ship_spool_new(const char *dir, uint64_t max_bytes, ship_spool_rotated_fn *fn,
                             void *arg);
/*  Writes what is buffered (best effort, no fsync), closes the files, frees the spool and
    NULLs *self_p. NULL is a no-op. */
void ship_spool_destroy(ship_spool_t **self_p);

/*  Buffers one message of worker (a CN as syslog_tls hands it: 1..64 printable bytes) as a
    line of that worker's spool: len bytes at data, escaped. Never fails; the file is
    created, if need be, by the next flush. */
void ship_spool_add(ship_spool_t *self, const char *worker, const void *data, size_t len);
/*  Writes every buffered line, fsyncs the files written, rotates the spools past
    max_bytes. Returns 0, or the first -errno met (what was not written stays buffered;
    the next flush tries again). */
int ship_spool_flush(ship_spool_t *self);
/*  True while lines are buffered (a flush could not write them). */
bool ship_spool_pending(const ship_spool_t *self);

/*  The workers known: those with a spool found at start, then those that sent a message
    since, in that order. ship_spool_path is the worker's current spool path, ship_spool_worker
    its CN, both borrowed until ship_spool_destroy(); ship_spool_exists tells whether that file
    exists (a worker's first lines are buffered until a flush creates it);
    ship_spool_messages counts the messages added for the worker since ship_spool_new(). */
size_t ship_spool_count(const ship_spool_t *self);
const char *ship_spool_path(const ship_spool_t *self, size_t i);
const char *ship_spool_worker(const ship_spool_t *self, size_t i);
bool ship_spool_exists(const ship_spool_t *self, size_t i);
uint64_t ship_spool_messages(const ship_spool_t *self, size_t i);

/*  The rotated spools found at start (paths borrowed until ship_spool_destroy()). */
size_t ship_spool_n_rotated(const ship_spool_t *self);
const char *ship_spool_rotated(const ship_spool_t *self, size_t i);

/*  Writes the file name part for worker into out (outlen bytes, at least
    SHIP_SPOOL_NAME_MAX + 1): the CN with '%', '/' and a leading '.' as %XX. Returns false
    when the worker is empty or does not fit. */
bool ship_spool_name(const char *worker, char *out, size_t outlen);

#endif
