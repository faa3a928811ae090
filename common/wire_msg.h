/*  wire_msg.h - MessagePack bodies of the engine's protocol messages (docs/protocol.md §2).

    Together with wire.c this is the msgpack owner family: no other module includes
    msgpack.h. Each body is a plain C value; encoders append to a wire_buf_t, decoders fill a
    caller-owned struct whose strings and arrays they allocate (release with the matching
    *_free). Decoders are strict: a wrong type or a missing key is CADRE_EPROTO with a reason.
*/
#ifndef CADRE_WIRE_MSG_H
#define CADRE_WIRE_MSG_H

#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  A blocking key: family (key_family_t) and value. */
typedef struct {
    int family;  /* key family */
    char *value; /* owned */
} wmsg_key_t;

/*  One KEYS entry: what a shard holds for an observation as of seq. */
typedef struct {
    uint64_t seq;     /* input sequence */
    char *id;         /* observation id */
    bool is_delete;   /* the input was a delete */
    wmsg_key_t *keys; /* the keys this shard owns (empty: drop the id) */
    size_t n_keys;    /* number of keys */
    char *triple[3];  /* ja3, hassh, ja4 (NULL when absent) */
} wmsg_keys_entry_t;

/*  A KEYS body. */
typedef struct {
    wmsg_keys_entry_t *entries; /* in seq order */
    size_t n;                   /* count */
} wmsg_keys_t;

/*  One RECORDS entry: a journaled observation, as its MessagePack bytes. */
typedef struct {
    uint64_t seq;      /* input sequence */
    const char *bytes; /* borrowed from the decoded message */
    size_t len;        /* length */
} wmsg_record_t;

/*  A RECORDS body (entries borrow from the message buffer it was decoded from). */
typedef struct {
    wmsg_record_t *entries; /* in seq order */
    size_t n;               /* count */
} wmsg_records_t;

/*  One generic-status change. */
typedef struct {
    int family;   /* key family */
    char *value;  /* owned */
    bool generic; /* new status */
} wmsg_flip_t;

/*  A GENERIC or COMMIT body. */
typedef struct {
    wmsg_flip_t *flips; /* changes */
    size_t n;           /* count */
} wmsg_flips_t;

/*  One block of a FORESTS body: its spanning forest as pairs of observation ids. */
typedef struct {
    int family;       /* key family */
    char *value;      /* key value, owned */
    bool generic;     /* the key is generic (the forest is then empty) */
    uint64_t holders; /* observations holding the key */
    char **edges;     /* 2 * n_edges observation ids, owned */
    size_t n_edges;   /* number of edges */
} wmsg_block_t;

/*  A FORESTS body. */
typedef struct {
    wmsg_block_t *blocks; /* changed blocks */
    size_t n;             /* count */
} wmsg_forests_t;

/*  A READY body. */
typedef struct {
    char *role;       /* "shard" or "merger" */
    uint32_t id;      /* shard id (0 for the merger) */
    uint32_t shards;  /* shard count the peer was configured with */
    uint64_t applied; /* highest seq the peer has applied */
} wmsg_ready_t;

/*  An ERROR body. */
typedef struct {
    char *code;    /* "record", "version", "command", "frame", "busy" */
    char *field;   /* offending field, or "" */
    char *message; /* what is wrong */
} wmsg_error_t;

int wmsg_keys_encode(const wmsg_keys_t *body, wire_buf_t *buf);
int wmsg_keys_decode(const void *data, size_t len, wmsg_keys_t *out, char *err, size_t errlen);
void wmsg_keys_free(wmsg_keys_t *body);

/*  Records: encode appends each record's bytes as a bin value. */
int wmsg_records_encode(const wmsg_records_t *body, wire_buf_t *buf);
/*  Decoded entries borrow from data, which must outlive out. */
int wmsg_records_decode(const void *data, size_t len, wmsg_records_t *out, char *err,
                        size_t errlen);
void wmsg_records_free(wmsg_records_t *body);

int wmsg_flips_encode(const wmsg_flips_t *body, wire_buf_t *buf);
int wmsg_flips_decode(const void *data, size_t len, wmsg_flips_t *out, char *err, size_t errlen);
void wmsg_flips_free(wmsg_flips_t *body);

int wmsg_forests_encode(const wmsg_forests_t *body, wire_buf_t *buf);
int wmsg_forests_decode(const void *data, size_t len, wmsg_forests_t *out, char *err,
                        size_t errlen);
void wmsg_forests_free(wmsg_forests_t *body);

int wmsg_ready_encode(const wmsg_ready_t *body, wire_buf_t *buf);
int wmsg_ready_decode(const void *data, size_t len, wmsg_ready_t *out, char *err, size_t errlen);
void wmsg_ready_free(wmsg_ready_t *body);

int wmsg_error_encode(const wmsg_error_t *body, wire_buf_t *buf);
int wmsg_error_decode(const void *data, size_t len, wmsg_error_t *out, char *err, size_t errlen);
void wmsg_error_free(wmsg_error_t *body);

/*  A REPLY body holding one text (e.g. the health report as JSON). */
int wmsg_text_encode(const char *text, wire_buf_t *buf);
/*  Decodes a text body into a new string (caller frees). */
int wmsg_text_decode(const void *data, size_t len, char **out, char *err, size_t errlen);

#endif
