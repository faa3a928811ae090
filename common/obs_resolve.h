/*  obs_resolve.h - turning a stream of upserts, appends and deletes into what the engine
    applies, outside the broker (`cadre cluster`, `cadre explain`).

    The broker merges each append into the current record of its id and journals the result
    as an upsert (obs_append.h). A tool that reads a stream itself does the same here, so it
    sees the same inputs as the engine: it keeps the current record of every id (its
    MessagePack bytes) and replaces each append with the merged record. Keeping costs the
    records' bytes, so a reader that knows its input has no append (obs_resolve_needed())
    keeps nothing.

    Ownership: the resolver owns the records it keeps; obs_resolver_apply() replaces the
    caller's record in place.
*/
#ifndef CADRE_OBS_RESOLVE_H
#define CADRE_OBS_RESOLVE_H

#include "obs.h"

#include <stdbool.h>

typedef struct obs_resolver_t obs_resolver_t;

/*  A resolver; keep false when the stream holds no append (nothing is kept, and an append
    then counts as the first record of its id). Never returns NULL. */
obs_resolver_t *obs_resolver_new(bool keep);
/*  Frees the resolver and what it keeps; NULLs *self_p. NULL is a no-op. */
void obs_resolver_destroy(obs_resolver_t **self_p);
/*  Resolves one input in stream order: an append is replaced by its id's merged record (op
    upsert; *obs_p is freed and replaced); an upsert becomes its id's current record and a
    delete forgets it. Returns 0, or CADRE_ERECORD (err filled, *obs_p untouched, nothing
    remembered) when the merge would break a limit, exactly as the broker refuses it. */
int obs_resolver_apply(obs_resolver_t *self, obs_t **obs_p, obs_error_t *err);
/*  True when the input at path may hold an append: stdin ("-") or anything that is not a
    regular file, or a file whose bytes contain "append" anywhere (a quick scan, which a
    command mentioning the word also trips: then records are kept for nothing). */
bool obs_resolve_needed(const char *path);

#endif
