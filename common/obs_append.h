/*  obs_append.h - merging an append into the stored observation (SPEC §2, docs/schema.md
    "Appends").

    An append adds what another sensor, or a later log, saw of the same source. The rule:

    - sessions are merged by key: the session id, or for a session without one a digest of
      its whole content; a key already stored keeps one session, the one whose content
      digest is smaller (so two sensors that disagree about one session id end the same
      whichever came first, and resending a session changes nothing);
    - the merged sessions are in canonical order: by start, then key;
    - every other field (ip, asn, ja3, ja4, hassh, kd_simhash, truth, and each kind of
      fingerprints) that the stored record lacks is filled; where appends disagree, the
      value that came with the earliest session wins (ties: the smaller value). The time an
      append brings is the start of its earliest session (none: later than any), and the
      merged record keeps, per field, the time of the value it holds (`append_at`); a field
      of a record written by an upsert counts as coming with that record's earliest session.

    Each field is the minimum of (time, value) over the appends that carried it and the
    sessions are a union with a minimum per key, so however a set of appends is split into
    batches or ordered, the stored observation ends the same, and an append of nothing new
    leaves it identical (which the broker and `cadre cluster` then treat as no input).

    The broker merges each append into the current record of its id and journals the result
    as an upsert; `cadre cluster` does the same with the records it has read, so both see
    the same inputs.
*/
#ifndef CADRE_OBS_APPEND_H
#define CADRE_OBS_APPEND_H

#include "obs.h"

/*  Merges delta (any op but delete; its op is not read) into *stored_p, or makes a new
    record from delta when *stored_p is NULL (an append to an unknown id creates it). On
    success *stored_p is the merged record (op upsert; the caller owns it; the old one was
    freed) and 0 is returned. CADRE_ERECORD, with err naming the field and *stored_p
    unchanged, when the merged record would break a limit (more than OBS_MAX_SESSIONS
    sessions, or OBS_MAX_FPS fingerprints). */
int obs_append_merge(obs_t **stored_p, const obs_t *delta, obs_error_t *err);

/*  A digest (XXH3-64) of everything session s holds: id, decky, phase, times, commands,
    credentials, payload, C2. The key of a session without an id, and what decides which
    of two sessions under one key is kept. */
uint64_t obs_session_digest(const obs_session_t *s);

#endif
