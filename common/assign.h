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

/*  Frees the strings an assignment owns (not the struct). */
void
assign_clear(assign_t *self);

/*  Opens path ("-" = stdin); format AUTO detects as for observations. NULL (logged) if the
    file cannot be opened. */
assign_reader_t *
assign_reader_open(const char *path, obs_format_t format);
void
assign_reader_destroy(assign_reader_t **self_p);
/*  Reads the next record into *out (caller clears it with assign_clear). Returns 1, 0 at end,
    CADRE_ERECORD (err filled; call again), CADRE_ETRUNC or -errno, as obs_reader_next. */
int
assign_reader_next(assign_reader_t *self, assign_t *out, obs_error_t *err);

/*  Opens a writer on a borrowed FILE (AUTO = JSON Lines). */
assign_writer_t *
assign_writer_new(FILE *file, obs_format_t format);
void
assign_writer_destroy(assign_writer_t **self_p);
/*  Writes one record; absent identity/campaign are written as null. Returns 0 or -errno. */
int
assign_writer_put(assign_writer_t *self, const assign_t *rec);

#endif
