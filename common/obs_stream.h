/*  obs_stream.h - reading and writing streams of observations in either encoding.

    A stream is JSON Lines (one object per line) or MessagePack (one map per message, same
    keys). OBS_FORMAT_AUTO looks at the first non-blank byte: '{' means JSON Lines, a
    MessagePack map header means MessagePack (precisely: the first byte of the stream is
    peeked; a MessagePack map header or any other byte >= 0x80 except a UTF-8 BOM's 0xEF
    means MessagePack, anything else JSON Lines, and an empty stream is empty JSON Lines).
    A bad record is reported alone and reading goes on with the next one; nothing else in the
    stream is lost. The one exception is a MessagePack byte that starts no type (0xc1): a
    MessagePack stream cannot be split past it, so it ends the stream (see wire.h).
    Readers consume exactly the bytes of each record, never more, so they work on pipes.
*/
#ifndef CADRE_OBS_STREAM_H
#define CADRE_OBS_STREAM_H

#include "obs.h"

#include <stdint.h>
#include <stdio.h>

typedef enum { OBS_FORMAT_AUTO = 0, OBS_FORMAT_JSONL, OBS_FORMAT_MSGPACK } obs_format_t;

typedef struct obs_reader_t obs_reader_t;
typedef struct obs_writer_t obs_writer_t;

/*  Parses "jsonl", "json", "msgpack", "mp" or "auto"; returns 0 and sets *out, or CADRE_ECONFIG. */
int obs_format_parse(const char *name, obs_format_t *out);
/*  Guesses the format from a path's extension (.msgpack/.mp -> msgpack, else jsonl). */
obs_format_t obs_format_from_path(const char *path);

/*  Opens a reader on a borrowed FILE (not closed by the reader). source names the stream in
    error messages. Returns NULL (and logs) only if format is invalid. */
obs_reader_t *obs_reader_new(FILE *file, obs_format_t format, const char *source);
/*  Opens path ("-" = standard input) for reading; the reader owns and closes the file.
    Returns NULL and logs the reason if the file cannot be opened. */
obs_reader_t *obs_reader_open(const char *path, obs_format_t format);
/*  Frees the reader (closing the file if it owns it) and NULLs *self_p. */
void obs_reader_destroy(obs_reader_t **self_p);
/*  Reads the next record.
    Returns 1 and stores a new record in *obs_p (the caller owns it), 0 at end of input,
    CADRE_ERECORD when the record was malformed (err says which record and field; call again
    for the next record), CADRE_ETRUNC when the input ends inside a record (err filled; the
    next call returns 0), or -errno on a read error. */
int obs_reader_next(obs_reader_t *self, obs_t **obs_p, obs_error_t *err);
/*  Decodes one framed record (a JSON text or a MessagePack message) of the stream's format
    into out; returns 0, CADRE_ERECORD or CADRE_ETRUNC with err filled, as
    jsonio_obs_decode() and wire_obs_decode() do. A JSON text is followed by at least
    JSONIO_PADDING readable bytes (jsonio.h), so it may be given to
    jsonio_obs_decode_padded(); data is borrowed until the decoder returns. */
typedef int (*obs_decode_fn)(const char *data, size_t len, obs_format_t format, uint64_t record,
                             void *out, obs_error_t *err);
/*  Reads the next record of another record type sharing the stream framing (assignments):
    frames it, then calls decode. Returns 1 (out filled by decode), 0, CADRE_ERECORD,
    CADRE_ETRUNC or -errno exactly as obs_reader_next. */
int obs_reader_next_as(obs_reader_t *self, obs_decode_fn decode, void *out, obs_error_t *err);
/*  The stream's format: JSONL or MSGPACK once the first record was read (AUTO before, when
    the reader was opened with AUTO). */
obs_format_t obs_reader_format(const obs_reader_t *self);
/*  Number of records read so far, good or bad (the last record number used; for JSON Lines
    that is the last line number read, blank lines included). */
uint64_t obs_reader_records(const obs_reader_t *self);
/*  The source name given at construction (borrowed, lives as long as the reader). */
const char *obs_reader_source(const obs_reader_t *self);

/*  Opens a writer on a borrowed FILE in format (AUTO means JSON Lines). */
obs_writer_t *obs_writer_new(FILE *file, obs_format_t format);
/*  Frees the writer (flushing, not closing, the file) and NULLs *self_p. */
void obs_writer_destroy(obs_writer_t **self_p);
/*  Writes one record. Returns 0, -errno on a write error, or CADRE_ERECORD when the record
    breaks a rule of obs_check_record() (nothing is written and the reason is logged). Every
    field is written, so reading it back yields an obs_equal() record. */
int obs_writer_put(obs_writer_t *self, const obs_t *obs);

#endif
