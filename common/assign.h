/*  assign.h - assignment records: which identity and campaign each observation landed in.

    One record per observation: {"id", "identity", "campaign"}, in JSON Lines or MessagePack
    (the same two encodings as observations, SPEC §2). identity or campaign may be absent
    (NULL) in a file written for one layer only.
*/
#ifndef CADRE_ASSIGN_H
#define CADRE_ASSIGN_H

#include "obs.h"
#include "obs_stream.h"

#include <stdio.h>

/*  One assignment; a plain value record owning its strings. */
typedef struct {
    char *id;       /* observation id (required) */
    char *identity; /* identity id, or NULL */
    char *campaign; /* campaign id, or NULL */
} assign_t;

typedef struct assign_reader_t assign_reader_t;
typedef struct assign_writer_t assign_writer_t;

/*  Frees the strings an assignment owns (not the struct) and zeroes it. */
void assign_clear(assign_t *self);
/*  Checks an assignment: id a non-empty string of at most OBS_MAX_ID bytes, identity and
    campaign NULL or at most OBS_MAX_SHORT bytes, all valid UTF-8 without NUL. Keeps
    err->record, sets err->id. Returns 0 or CADRE_ERECORD. */
int assign_check(const assign_t *self, obs_error_t *err);

/*  Opens a reader on a borrowed FILE (not closed by the reader); source names the stream in
    error messages. Returns NULL (logged) only if format is invalid. */
assign_reader_t *assign_reader_new(FILE *file, obs_format_t format, const char *source);
/*  Opens path ("-" = stdin); format AUTO detects as for observations. NULL (logged) if the
    file cannot be opened. */
assign_reader_t *assign_reader_open(const char *path, obs_format_t format);
/*  Frees the reader (closing the file if it opened it) and NULLs *self_p. */
void assign_reader_destroy(assign_reader_t **self_p);
/*  Reads the next record into *out (caller clears it with assign_clear). Returns 1, 0 at end,
    CADRE_ERECORD (err filled; call again), CADRE_ETRUNC or -errno, as obs_reader_next. */
int assign_reader_next(assign_reader_t *self, assign_t *out, obs_error_t *err);

/*  The reader's source name (borrowed, lives as long as the reader). */
const char *assign_reader_source(const assign_reader_t *self);

/*  Opens a writer on a borrowed FILE (AUTO = JSON Lines). Returns NULL (logged) only if
    format is invalid. */
assign_writer_t *assign_writer_new(FILE *file, obs_format_t format);
/*  Frees the writer (flushing, not closing, the file) and NULLs *self_p. */
void assign_writer_destroy(assign_writer_t **self_p);
/*  Writes one record; absent identity/campaign are written as null. Returns 0, -errno, or
    CADRE_ERECORD when rec breaks a rule of assign_check() (nothing written, reason logged). */
int assign_writer_put(assign_writer_t *self, const assign_t *rec);

#endif
