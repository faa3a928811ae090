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

/*  A FETCH body: journal seqs whose records the merger needs to restore its snapshot. */
typedef struct {
    uint64_t *seqs; /* ascending */
    size_t n;       /* count */
} wmsg_fetch_t;

/*  Most seqs one FETCH may name (the FETCHED answer stays far below the peer message cap). */
#define WMSG_FETCH_MAX 4096

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
    uint64_t barrier; /* last barrier the peer completed (shard: released; merger: reconciled) */
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

/*  FETCH {seqs: [u64]}: at most WMSG_FETCH_MAX seqs, each > 0, strictly ascending (decode
    refuses anything else). */
int wmsg_fetch_encode(const wmsg_fetch_t *body, wire_buf_t *buf);
int wmsg_fetch_decode(const void *data, size_t len, wmsg_fetch_t *out, char *err, size_t errlen);
void wmsg_fetch_free(wmsg_fetch_t *body);

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

/*  A QUERY body (docs/protocol.md §9): what to answer, and the id or page it is about. */
typedef struct {
    char *what;      /* "health", "assignments", "identities", "campaigns", "identity",
                        "campaign", "assignment", "members" or "explain" (any string
                        decodes; the merger judges) */
    char *id;        /* the id asked about, or NULL when the body has none */
    char *other;     /* explain: the second observation id, or NULL */
    uint64_t offset; /* pages: index of the first item (0 when absent) */
    uint64_t limit;  /* pages: most items wanted (0 when absent: the merger's default) */
} wmsg_query_t;

/*  One assignment as a REPLY carries it (strings owned when decoded; NULL = nil). */
typedef struct {
    char *id;       /* observation id */
    char *identity; /* its live identity, or NULL before its first reconciliation */
    char *campaign; /* its live campaign, or NULL */
} wmsg_assignment_t;

/*  What a REPLY body holds. */
typedef enum {
    WMSG_REPLY_TEXT = 1,   /* a text: health JSON, or one record's JSON */
    WMSG_REPLY_ERROR,      /* {error: message} */
    WMSG_REPLY_ASSIGNMENT, /* {id, identity, campaign} */
    WMSG_REPLY_PAGE,       /* {items: [...], next} */
} wmsg_reply_kind_t;

/*  A REPLY body. Encoding reads it (strings borrowed from the caller); decoding fills it
    with owned strings (release with wmsg_reply_free). */
typedef struct {
    wmsg_reply_kind_t kind;         /* which of the fields below are set */
    char *text;                     /* TEXT: the text; ERROR: the message */
    wmsg_assignment_t assignment;   /* ASSIGNMENT */
    wmsg_assignment_t *assignments; /* PAGE of assignments: the items, else NULL */
    char **texts;                   /* PAGE of records: each record's JSON text, else NULL */
    size_t n;                       /* PAGE: number of items (in whichever array is set) */
    bool has_next;                  /* PAGE: more items follow */
    uint64_t next;                  /* PAGE: offset of the next page when has_next */
} wmsg_reply_t;

/*  QUERY: encodes {what} plus id (when not NULL) and offset/limit (when non-zero). */
int wmsg_query_encode(const wmsg_query_t *body, wire_buf_t *buf);
/*  Decodes a QUERY body: a map with a string `what`; `id` a string or absent; `offset` and
    `limit` unsigned integers or absent; other keys are ignored. Returns 0 (release with
    wmsg_query_free) or CADRE_EPROTO with err saying why (*out then holds nothing). */
int wmsg_query_decode(const void *data, size_t len, wmsg_query_t *out, char *err, size_t errlen);
void wmsg_query_free(wmsg_query_t *body);

/*  REPLY: encodes body by its kind: TEXT as a bare string, ERROR as {error}, ASSIGNMENT as
    {id, identity, campaign} (nil where NULL), PAGE as {items, next} with items the
    assignments (maps) or the texts (strings), whichever array is set, and next nil unless
    has_next. Always returns 0. */
int wmsg_reply_encode(const wmsg_reply_t *body, wire_buf_t *buf);
/*  REPLY {error: message}. Always returns 0. */
int wmsg_reply_error_encode(const char *message, wire_buf_t *buf);
/*  Decodes a REPLY body, telling the kinds apart by shape: a string is TEXT; a map with
    `error` is ERROR, with `items` a PAGE (all items maps, or all strings; `next` nil or an
    unsigned integer), with `id` an ASSIGNMENT. Returns 0 (release with wmsg_reply_free) or
    CADRE_EPROTO with err saying why. */
int wmsg_reply_decode(const void *data, size_t len, wmsg_reply_t *out, char *err, size_t errlen);
void wmsg_reply_free(wmsg_reply_t *body);

/*  A REPLY body holding one text (e.g. the health report as JSON). */
int wmsg_text_encode(const char *text, wire_buf_t *buf);
/*  Decodes a text body into a new string (caller frees). */
int wmsg_text_decode(const void *data, size_t len, char **out, char *err, size_t errlen);

#endif
