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

    It also encodes what the engine publishes (SPEC §6-§7): events as the MessagePack
    envelope {v, id, topic, type, ts, payload} (the second frame of a PUB message, after the
    topic frame), and identity and campaign records, each with the same keys and value types
    as jsonio.h's JSON form (counts as unsigned integers, times as float64, absent as nil).
    Events decode back into wire_event_t for subscribers.
*/
#ifndef CADRE_WIRE_H
#define CADRE_WIRE_H

#include "assign.h"
#include "obs.h"
#include "records.h"

#include <stdbool.h>
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

/*  What a client needs of a record it forwards without decoding it: the id, whether it is a
    delete, and the truth labels. Strings are malloc'd copies (or NULL); wire_peek_clear
    frees them. A plain value. */
typedef struct {
    char *id;             /* "id" when it is a string, else NULL */
    bool is_delete;       /* "op" is "delete" */
    char *truth_campaign; /* "truth"."campaign" when a string, else NULL */
    char *truth_identity; /* "truth"."identity" when a string, else NULL */
} wire_peek_t;
/*  Reads those members of one MessagePack observation without validating the rest (the
    broker validates it). Returns 0, or CADRE_ERECORD / CADRE_ETRUNC when data is not one
    MessagePack map (err filled, *out cleared). */
int wire_obs_peek(const char *data, size_t len, uint64_t record, wire_peek_t *out,
                  obs_error_t *err);
/*  Frees what a peek holds and zeroes it. */
void wire_peek_clear(wire_peek_t *peek);

/*  Decodes one assignment message, as jsonio_assign_decode. Returns 0 and fills *out (the
    caller clears it with assign_clear), or CADRE_ERECORD / CADRE_ETRUNC (*out zeroed). */
int wire_assign_decode(const char *data, size_t len, uint64_t record, assign_t *out,
                       obs_error_t *err);

/*  Appends rec to buf as one message {"campaign", "id", "identity"}. Returns 0, or
    CADRE_ERECORD (err filled) when rec breaks a rule of assign_check(). */
int wire_assign_encode(const assign_t *rec, wire_buf_t *buf, obs_error_t *err);

/*  True when data (len bytes) is exactly one complete MessagePack message. Checked by
    walking the type headers alone: no declared count is trusted beyond the bytes present
    (every element takes at least one byte), so a caller may hand such data to msgpack-c
    without it allocating for elements that are not there. */
bool wire_is_one_message(const void *data, size_t len);

/*  Finds where the first message of data (len bytes) ends, for callers that read a stream
    in pieces. Returns 1 with *msg_len = its length, 0 when len bytes do not hold all of it
    yet (read more), or CADRE_ERECORD with *msg_len = the offset of a byte that starts no
    MessagePack type (0xc1): the stream cannot be split past it. */
int wire_frame(const void *data, size_t len, size_t *msg_len);

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

/*  --------------------------------------------------------------------------------------
    Events and records (docs/events.md) */

#define WIRE_EVENT_VERSION 1            /* the envelope's "v" */
#define WIRE_EVENT_MAX_MEMBERS 16384    /* largest member list of one formed event */
#define WIRE_EVENT_MAX_BYTES (1u << 20) /* largest encoded event (one PUB frame), bytes */

/*  The number of leading members of a formed event ev that fit in one event: at most
    WIRE_EVENT_MAX_MEMBERS and few enough that the encoded envelope stays within
    WIRE_EVENT_MAX_BYTES (counted with the member array's largest header, so it may keep
    one or two bytes in hand). The engine splits a larger member list there; the rest
    follow as linked or assigned events. 0 for kinds without a member list. */
size_t wire_event_members_fit(const ev_t *ev);

/*  Appends ev to buf as one envelope map {"id", "payload", "topic", "ts", "type", "v"}
    (keys in that sorted order; the payload's keys from ev_keys(), sorted, a NULL prior as
    nil, the members as an array of str). ev's id, subject, object (when its kind has one)
    and members must not be NULL. Returns 0, or (buf unchanged):
      CADRE_ERECORD  a string is not valid UTF-8, or ts is not finite;
      CADRE_ELIMIT   a formed event has more members than wire_event_members_fit(). */
int wire_event_encode(const ev_t *ev, wire_buf_t *buf);

/*  Appends rec to buf as one map with the keys of jsonio_identity_encode(). Returns 0, or
    CADRE_ERECORD (buf unchanged) when a string is not valid UTF-8 or a time not finite. */
int wire_identity_encode(const rec_identity_t *rec, wire_buf_t *buf);

/*  Appends rec to buf as one map with the keys of jsonio_campaign_encode(). Returns 0, or
    CADRE_ERECORD (buf unchanged) when a string is not valid UTF-8, a time not finite or a
    phase out of range. */
int wire_campaign_encode(const rec_campaign_t *rec, wire_buf_t *buf);

/*  One string member of a decoded event's payload. */
typedef struct {
    const char *key; /* payload key (static string, see ev_keys()) */
    char *value;     /* the value, owned, or NULL for nil */
} wire_field_t;

/*  A decoded event: owns every string except the static key names. */
typedef struct {
    int v;                   /* envelope version (WIRE_EVENT_VERSION) */
    ev_kind_t kind;          /* the kind its topic names */
    char *id;                /* envelope id */
    char *topic;             /* topic, e.g. "identity.merged" */
    char *type;              /* type, the topic's leaf ("merged") */
    double ts;               /* stream time, epoch seconds */
    wire_field_t fields[3];  /* the payload's string members, in key order */
    size_t n_fields;         /* number of fields used */
    const char *members_key; /* key of the payload's member list, or NULL for other kinds */
    char **members;          /* member ids, owned (NULL when none) */
    size_t n_members;        /* number of members */
} wire_event_t;

/*  Decodes data (len bytes: exactly one MessagePack message) as one event envelope. Strict:
    "v" must be WIRE_EVENT_VERSION, the topic one of SPEC §6's, "type" its leaf, "ts" a
    finite number, and the envelope and payload must hold exactly their keys with the right
    types (ids are strings of at most OBS_MAX_ID bytes of valid UTF-8; a prior key may be
    nil). Returns 0 and stores a new event in *out (free it with wire_event_free), or, with
    a message in err (errlen bytes; err may be NULL when errlen is 0) and *out untouched:
      CADRE_ERECORD  not a valid event;
      CADRE_ETRUNC   the bytes end inside the message;
      CADRE_ELIMIT   the message is over WIRE_EVENT_MAX_BYTES or its member list over
                     WIRE_EVENT_MAX_MEMBERS. */
int wire_event_decode(const char *data, size_t len, wire_event_t **out, char *err, size_t errlen);

/*  Frees a decoded event and NULLs *ev_p. NULL is a no-op. */
void wire_event_free(wire_event_t **ev_p);

#endif
