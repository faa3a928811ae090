/*  jsonio.h - the JSON codec of observation and assignment records (SPEC §2).

    The only module that uses jansson. It decodes one JSON text (one line of a JSON Lines
    stream) into an obs_t or assign_t, applying the rules of obs.h, and encodes one record as
    one line of text in the generator's exact shape: Python json.dumps(sort_keys=True) with
    ", " and ": " separators, ensure_ascii escapes, and each double written in the shortest
    form that reads back to the same bits (Python's repr). Absent values are written as null
    and their keys are always present, except "ja4" and "kd_simhash" (written only when
    set), "truth" (only when a label is set) and "op" (only for deletes, which are written as
    {"id": ..., "op": "delete"}).

    Framing (splitting a stream into lines) is obs_stream.c's job; nothing here does I/O.
*/
#ifndef CADRE_JSONIO_H
#define CADRE_JSONIO_H

#include "assign.h"
#include "obs.h"

#include <stddef.h>
#include <stdint.h>

/*  Decodes the JSON text buf (len bytes, need not be NUL-terminated; a trailing "\r" or
    whitespace is fine) as one observation. record is the record number put in err.
    Returns 0 and stores a new record in *out (the caller owns it), or:
      CADRE_ERECORD  the text is not valid JSON or breaks a schema rule (err filled);
      CADRE_ETRUNC   the text ends inside a JSON value (err filled), which a stream reader
                     reports as truncation when it is the stream's unterminated last line.
    *out is left untouched on error. */
int jsonio_obs_decode(const char *buf, size_t len, uint64_t record, obs_t **out, obs_error_t *err);

/*  Encodes obs as one line of JSON without the trailing newline. Returns 0 and stores a
    NUL-terminated string in *out_p (the caller frees it) and its length in *len_p, or
    CADRE_ERECORD (err filled, record number 0) when obs breaks a rule of obs_check_record(),
    so that nothing unreadable is ever written. */
int jsonio_obs_encode(const obs_t *obs, char **out_p, size_t *len_p, obs_error_t *err);

/*  Decodes one assignment {"id", "identity", "campaign"}: id a non-empty string of at most
    OBS_MAX_ID bytes, identity and campaign strings (at most OBS_MAX_SHORT bytes) or null;
    other keys are ignored. Returns 0 and fills *out (the caller clears it with
    assign_clear), or CADRE_ERECORD / CADRE_ETRUNC as jsonio_obs_decode (*out zeroed). */
int jsonio_assign_decode(const char *buf, size_t len, uint64_t record, assign_t *out,
                         obs_error_t *err);

/*  Encodes rec as {"campaign": ..., "id": ..., "identity": ...} (absent values as null).
    Returns 0 with *out_p (caller frees) and *len_p set, or CADRE_ERECORD (err filled) when
    rec breaks a rule of assign_check(). */
int jsonio_assign_encode(const assign_t *rec, char **out_p, size_t *len_p, obs_error_t *err);

#endif
