/*  ship_file.h - one log file as `cadre ship` reads it: records with their byte positions,
    from a plain file that may still grow or from a gzip file read once.

    A ship_file_t owns one open descriptor (plain) or one textin reader (gzip, recognised by
    its magic bytes whatever its name), and a buffer of what was read but not yet handed
    out. Records are lines (without the newline; a line longer than the limit is skipped up
    to its newline) or MessagePack messages. Positions count bytes from the start of the
    file, decompressed for gzip, so a plain log and its compressed rotation have the same
    positions. A plain file that reaches its end returns "nothing yet"; more may come later
    (the writer appends). An unterminated last line is handed out only when the caller says
    the file is final (rotated away, --once).

    The fingerprint of a file is XXH64 of its first bytes (at most SHIP_FP_MAX): it tells a
    file that moved (rename, compression, a copy) from a new file that reuses an inode.
*/
#ifndef CADRE_CLI_SHIP_FILE_H
#define CADRE_CLI_SHIP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHIP_FP_MAX 1024u /* bytes a fingerprint covers at most */

/*  How records are framed. */
typedef enum {
    SHIP_FRAME_LINES = 0, /* text lines */
    SHIP_FRAME_MSGPACK,   /* MessagePack messages, back to back */
} ship_frame_t;

/*  One record handed out: borrowed bytes and where they were. */
typedef struct {
    const char *data; /* the record (NUL-terminated for lines), valid until the next call */
    size_t len;       /* its length (0 for a skipped record) */
    uint64_t start;   /* its position in the file */
    uint64_t end;     /* the position after it (and after its newline) */
} ship_piece_t;

typedef struct ship_file_t ship_file_t;

/*  Opens path for reading from its start, records framed by frame with at most max_len
    bytes each. Returns the file, or NULL with errno set. */
ship_file_t *ship_file_open(const char *path, ship_frame_t frame, size_t max_len);
/*  Closes the file, frees it and NULLs *self_p. NULL is a no-op. */
void ship_file_destroy(ship_file_t **self_p);

/*  The path it was opened as (borrowed), its device and inode, whether it is gzip. */
const char *ship_file_path(const ship_file_t *self);
uint64_t ship_file_dev(const ship_file_t *self);
uint64_t ship_file_ino(const ship_file_t *self);
bool ship_file_gz(const ship_file_t *self);
/*  The file's size now (plain), or -1 for gzip (unknown until read). */
int64_t ship_file_size(const ship_file_t *self);
/*  Copies the file's first n (<= SHIP_FP_MAX) bytes into buf. Returns how many there are
    (fewer when the file is shorter), or -errno. For gzip they are decompressed bytes. */
long ship_file_head(ship_file_t *self, char *buf, size_t n);
/*  XXH64 of the file's first n bytes; false when it has fewer than n bytes or cannot be
    read. */
bool ship_file_fp(ship_file_t *self, uint32_t n, uint64_t *fp);

/*  Changes the framing; only before the first record is handed out (a file whose framing
    is told by its first byte, which an empty file does not have yet). */
void ship_file_set_frame(ship_file_t *self, ship_frame_t frame);

/*  Moves to pos, which must not be past what was read (nothing was handed out yet, or pos
    is a record boundary): the next record starts there. For gzip this reads and drops the
    bytes before pos. Returns 0, -ERANGE when the file is shorter than pos, or -errno. */
int ship_file_seek(ship_file_t *self, uint64_t pos);
/*  The position after the last record handed out (where the next one starts). */
uint64_t ship_file_pos(const ship_file_t *self);

/*  Hands out the next record. Returns 1 with *out set; 0 when no whole record is there yet
    (with final: at the end of the file); CADRE_ELIMIT for a record over max_len, skipped
    (out has its positions, data NULL); CADRE_ETRUNC when final and the file ends inside a
    MessagePack message (out has its positions; the next call returns 0); CADRE_ERECORD for
    a byte that starts no MessagePack type (the file cannot be split past it: every later
    call returns it again); or -errno on a read error. With final an unterminated last line
    is a record. */
int ship_file_next(ship_file_t *self, bool final, ship_piece_t *out);

#endif
