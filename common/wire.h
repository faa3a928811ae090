/*  wire.h - the MessagePack codec: observation and assignment records, and message framing.

    The only module that uses msgpack-c; no msgpack type appears in this header. A record is
    one MessagePack map with the same keys and value types as its JSON form (jsonio.h): keys
    are str, strings are str (bin is a type error), numbers are any integer or float32/64,
    and the encoder writes keys in the same sorted order with the same nulls, doubles as
    float64 and kd_simhash as its 16-hex-digit string.

    Input is framed before msgpack-c sees it: a small scanner walks the type headers, so a
    message's extent is known without trusting its declared counts (a 5-byte header claiming
    4 billion elements costs nothing), an oversized message is skipped without buffering it,
    and a stream that ends inside a message is told apart from a malformed one.

    Later this module also carries the engine's protocol envelopes (wire_<envelope>_*).
*/
#ifndef CADRE_WIRE_H
#define CADRE_WIRE_H

#include "assign.h"
#include "obs.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*  A growable byte buffer; a plain value (embed it, init it, free it). */
typedef struct {
    char *data; /* bytes, owned (NULL until the first append) */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} wire_buf_t;

/*  Makes buf empty, without memory. */
void wire_buf_init(wire_buf_t *buf);
/*  Empties buf, keeping its memory for reuse. */
void wire_buf_reset(wire_buf_t *buf);
/*  Frees buf's memory and leaves it empty (as after wire_buf_init). */
void wire_buf_free(wire_buf_t *buf);
/*  Appends len bytes. */
void wire_buf_append(wire_buf_t *buf, const void *data, size_t len);

/*  Decodes data (len bytes: exactly one MessagePack message) as one observation, with the
    rules of obs.h. record is the record number put in err. Returns 0 and stores a new record
    in *out (the caller owns it), or:
      CADRE_ERECORD  not one valid message (syntax, trailing bytes, nesting deeper than 32),
                     not a map, a non-str key, a duplicate key, or a schema rule broken;
      CADRE_ETRUNC   the bytes end inside the message.
    err is filled on error and *out left untouched. */
int wire_obs_decode(const char *data, size_t len, uint64_t record, obs_t **out, obs_error_t *err);

/*  Appends obs to buf as one message. Returns 0, or CADRE_ERECORD (err filled, record 0,
    buf unchanged) when obs breaks a rule of obs_check_record(). */
int wire_obs_encode(const obs_t *obs, wire_buf_t *buf, obs_error_t *err);

/*  Decodes one assignment message, as jsonio_assign_decode. Returns 0 and fills *out (the
    caller clears it with assign_clear), or CADRE_ERECORD / CADRE_ETRUNC (*out zeroed). */
int wire_assign_decode(const char *data, size_t len, uint64_t record, assign_t *out,
                       obs_error_t *err);

/*  Appends rec to buf as one message {"campaign", "id", "identity"}. Returns 0, or
    CADRE_ERECORD (err filled) when rec breaks a rule of assign_check(). */
int wire_assign_encode(const assign_t *rec, wire_buf_t *buf, obs_error_t *err);

/*  Splits a stream of MessagePack messages read from a FILE. It reads exactly the bytes of
    each message (never ahead), so it works on pipes and leaves the FILE positioned just
    after the last message returned. */
typedef struct wire_reader_t wire_reader_t;

/*  Opens a framer on a borrowed FILE; messages larger than max_message bytes are skipped
    and reported. Never returns NULL. */
wire_reader_t *wire_reader_new(FILE *file, size_t max_message);
/*  Frees the framer (not the FILE) and NULLs *self_p. NULL is a no-op. */
void wire_reader_destroy(wire_reader_t **self_p);
/*  Reads the next message. Returns 1 with *data_p / *len_p set (borrowed: valid until the
    next call), 0 at end of input, or, with err filled (record = the message's 1-based index):
      CADRE_ERECORD  the message is larger than max_message: it was skipped, call again; or
                     it holds a byte that starts no MessagePack type (0xc1): the stream
                     cannot be split any further, and the next call returns 0;
      CADRE_ETRUNC   input ended inside a message; the next call returns 0;
      -errno         a read error. */
int wire_reader_next(wire_reader_t *self, const char **data_p, size_t *len_p, obs_error_t *err);
/*  Number of messages started so far (the index of the last one returned or reported). */
uint64_t wire_reader_messages(const wire_reader_t *self);

#endif
