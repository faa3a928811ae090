/*  textin.h - a line reader over plain or gzip-compressed text (the one zlib user).

    zlib's gzread reads plain files unchanged, so callers need not know which they have;
    "-" is standard input (also plain or gzip). Lines are bounded: a line longer than the
    reader's limit is reported and skipped up to its newline, never buffered whole. The
    last line may lack its newline (a truncated log); it is returned as it is.
*/
#ifndef CADRE_TEXTIN_H
#define CADRE_TEXTIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct textin_t textin_t;

/*  Opens path ("-" = standard input, which the reader then owns) with lines of at most
    max_line bytes (> 0). Returns NULL with errno set when the file cannot be opened. */
textin_t *textin_open(const char *path, size_t max_line);
/*  Like textin_open, on an open file descriptor, which the reader then owns (closed by
    textin_destroy, also when this fails). */
textin_t *textin_open_fd(int fd, size_t max_line);
/*  Closes the file, frees the reader and NULLs *self_p. NULL is a no-op. */
void textin_destroy(textin_t **self_p);

/*  Reads the next line, without its newline. Returns 1 with *line (borrowed until the next
    call; NUL-terminated, but may hold NUL bytes) and *len set; 0 at the end of input;
    CADRE_ELIMIT when the line is longer than max_line (it is skipped; reading may go on);
    -EIO on a read error or a damaged gzip stream (textin_error says which; stop). */
int textin_next(textin_t *self, const char **line, size_t *len);
/*  Reads up to cap raw bytes (decompressed, newlines included) into buf, for callers that
    frame the text themselves: bytes textin_next has read ahead are returned first. Returns
    the number of bytes (> 0), 0 at the end of input, or -EIO (textin_error says why). */
long textin_read(textin_t *self, char *buf, size_t cap);
/*  The 1-based number of the line last returned (or skipped). */
uint64_t textin_line_no(const textin_t *self);
/*  A description of the last read error, or "". */
const char *textin_error(const textin_t *self);

#endif
