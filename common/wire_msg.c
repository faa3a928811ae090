/*  wire_msg.c - MessagePack bodies of protocol messages (see wire_msg.h). Part of the
    msgpack owner family with wire.c. */
#include "wire_msg.h"

#include "err.h"
#include "xalloc.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  --------------------------------------------------------------------------------------
    Encoding */

static int
s_write(void *data, const char *buf, size_t len)
{
    wire_buf_append(data, buf, len);
    return 0;
}

static void
s_str(msgpack_packer *pk, const char *s)
{
    if (!s) {
        msgpack_pack_nil(pk);
        return;
    }
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void
s_key(msgpack_packer *pk, const char *k)
{
    s_str(pk, k);
}

int
wmsg_keys_encode(const wmsg_keys_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 1);
    s_key(&pk, "entries");
    msgpack_pack_array(&pk, body->n);
    for (size_t i = 0; i < body->n; i++) {
        const wmsg_keys_entry_t *e = &body->entries[i];
        msgpack_pack_map(&pk, 5);
        s_key(&pk, "seq");
        msgpack_pack_uint64(&pk, e->seq);
        s_key(&pk, "id");
        s_str(&pk, e->id);
        s_key(&pk, "op");
        s_str(&pk, e->is_delete ? "delete" : "upsert");
        s_key(&pk, "keys");
        msgpack_pack_array(&pk, e->n_keys);
        for (size_t k = 0; k < e->n_keys; k++) {
            msgpack_pack_array(&pk, 2);
            msgpack_pack_int(&pk, e->keys[k].family);
            s_str(&pk, e->keys[k].value);
        }
        s_key(&pk, "triple");
        msgpack_pack_array(&pk, 3);
        for (int t = 0; t < 3; t++) {
            s_str(&pk, e->triple[t]);
        }
    }
    return 0;
}

int
wmsg_records_encode(const wmsg_records_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 1);
    s_key(&pk, "entries");
    msgpack_pack_array(&pk, body->n);
    for (size_t i = 0; i < body->n; i++) {
        msgpack_pack_map(&pk, 2);
        s_key(&pk, "seq");
        msgpack_pack_uint64(&pk, body->entries[i].seq);
        s_key(&pk, "record");
        msgpack_pack_bin(&pk, body->entries[i].len);
        msgpack_pack_bin_body(&pk, body->entries[i].bytes, body->entries[i].len);
    }
    return 0;
}

int
wmsg_fetch_encode(const wmsg_fetch_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 1);
    s_key(&pk, "seqs");
    msgpack_pack_array(&pk, body->n);
    for (size_t i = 0; i < body->n; i++) {
        msgpack_pack_uint64(&pk, body->seqs[i]);
    }
    return 0;
}

int
wmsg_flips_encode(const wmsg_flips_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 1);
    s_key(&pk, "flips");
    msgpack_pack_array(&pk, body->n);
    for (size_t i = 0; i < body->n; i++) {
        msgpack_pack_array(&pk, 3);
        msgpack_pack_int(&pk, body->flips[i].family);
        s_str(&pk, body->flips[i].value);
        if (body->flips[i].generic) {
            msgpack_pack_true(&pk);
        } else {
            msgpack_pack_false(&pk);
        }
    }
    return 0;
}

int
wmsg_forests_encode(const wmsg_forests_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 1);
    s_key(&pk, "blocks");
    msgpack_pack_array(&pk, body->n);
    for (size_t i = 0; i < body->n; i++) {
        const wmsg_block_t *b = &body->blocks[i];
        msgpack_pack_map(&pk, 5);
        s_key(&pk, "family");
        msgpack_pack_int(&pk, b->family);
        s_key(&pk, "value");
        s_str(&pk, b->value);
        s_key(&pk, "generic");
        if (b->generic) {
            msgpack_pack_true(&pk);
        } else {
            msgpack_pack_false(&pk);
        }
        s_key(&pk, "holders");
        msgpack_pack_uint64(&pk, b->holders);
        s_key(&pk, "edges");
        msgpack_pack_array(&pk, 2 * b->n_edges);
        for (size_t k = 0; k < 2 * b->n_edges; k++) {
            s_str(&pk, b->edges[k]);
        }
    }
    return 0;
}

int
wmsg_ready_encode(const wmsg_ready_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 5);
    s_key(&pk, "role");
    s_str(&pk, body->role);
    s_key(&pk, "id");
    msgpack_pack_uint32(&pk, body->id);
    s_key(&pk, "shards");
    msgpack_pack_uint32(&pk, body->shards);
    s_key(&pk, "applied");
    msgpack_pack_uint64(&pk, body->applied);
    s_key(&pk, "barrier");
    msgpack_pack_uint64(&pk, body->barrier);
    return 0;
}

int
wmsg_error_encode(const wmsg_error_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 3);
    s_key(&pk, "code");
    s_str(&pk, body->code);
    s_key(&pk, "field");
    s_str(&pk, body->field ? body->field : "");
    s_key(&pk, "message");
    s_str(&pk, body->message);
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Decoding */

/*  A decoded message: the unpacked tree and its zone. */
typedef struct {
    msgpack_zone zone;   /* owns the tree */
    msgpack_object root; /* the body */
} s_doc_t;

static int
s_fail(char *err, size_t errlen, const char *what, const char *field)
{
    snprintf(err, errlen, "%s '%s'", what, field);
    return CADRE_EPROTO;
}

static int
s_open(s_doc_t *doc, const void *data, size_t len, char *err, size_t errlen)
{
    /* Framed first: a declared count larger than the bytes present would make msgpack-c
       allocate for it before finding the end of the data. */
    if (!wire_is_one_message(data, len)) {
        return s_fail(err, errlen, "undecodable body", "");
    }
    msgpack_zone_init(&doc->zone, 2048);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack(data, len, &off, &doc->zone, &doc->root);
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_zone_destroy(&doc->zone);
        return s_fail(err, errlen, "undecodable body", "");
    }
    if (doc->root.type != MSGPACK_OBJECT_MAP) {
        msgpack_zone_destroy(&doc->zone);
        return s_fail(err, errlen, "body is not a map", "");
    }
    return 0;
}

static const msgpack_object *
s_get(const msgpack_object *map, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0) {
            return &map->via.map.ptr[i].val;
        }
    }
    return NULL;
}

/*  A string (or nil when nullable) as a new C string; strings may not hold NUL bytes. An
    empty string's ptr is NULL (msgpack-c), which memchr may not be given. */
static int
s_dup(const msgpack_object *o, bool nullable, char **out, const char *field, char *err,
      size_t errlen)
{
    *out = NULL;
    if (o && o->type == MSGPACK_OBJECT_NIL && nullable) {
        return 0;
    }
    if (!o || o->type != MSGPACK_OBJECT_STR ||
        (o->via.str.size > 0 && memchr(o->via.str.ptr, 0, o->via.str.size))) {
        return s_fail(err, errlen, "expected a string for", field);
    }
    *out = xstrndup(o->via.str.ptr, o->via.str.size);
    return 0;
}

static int
s_u64(const msgpack_object *o, uint64_t *out, const char *field, char *err, size_t errlen)
{
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        return s_fail(err, errlen, "expected an unsigned integer for", field);
    }
    *out = o->via.u64;
    return 0;
}

static int
s_family(const msgpack_object *o, int *out, const char *field, char *err, size_t errlen)
{
    uint64_t v = 0;
    if (s_u64(o, &v, field, err, errlen) != 0 || v > 63) {
        return s_fail(err, errlen, "expected a key family for", field);
    }
    *out = (int)v;
    return 0;
}

static int
s_bool(const msgpack_object *o, bool *out, const char *field, char *err, size_t errlen)
{
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN) {
        return s_fail(err, errlen, "expected a boolean for", field);
    }
    *out = o->via.boolean;
    return 0;
}

static const msgpack_object *
s_array(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_ARRAY ? o : NULL;
}

/*  An item decoder for s_decode_list: fills *item from o. */
typedef int (*s_item_fn)(const msgpack_object *o, void *item, char *err, size_t errlen);

/*  Decodes a body {key: [items]}: *items gets n + 1 zeroed elements of elem bytes, filled by
    each() in order; *n counts the items reached (the failing one included), so the body's
    free function releases exactly what was filled. The msgpack zone is gone on return: each()
    copies what it keeps, or points into data. */
static int
s_decode_list(const void *data, size_t len, const char *key, size_t elem, void **items, size_t *n,
              s_item_fn each, char *err, size_t errlen)
{
    s_doc_t doc;
    int rc = s_open(&doc, data, len, err, errlen);
    if (rc != 0) {
        return rc;
    }
    const msgpack_object *arr = s_array(s_get(&doc.root, key));
    if (!arr) {
        rc = s_fail(err, errlen, "expected an array for", key);
    } else {
        *items = xcalloc((size_t)arr->via.array.size + 1, elem);
        for (uint32_t i = 0; i < arr->via.array.size && rc == 0; i++) {
            (*n)++;
            rc = each(&arr->via.array.ptr[i], (char *)*items + (size_t)i * elem, err, errlen);
        }
    }
    msgpack_zone_destroy(&doc.zone);
    return rc;
}

void
wmsg_keys_free(wmsg_keys_t *body)
{
    for (size_t i = 0; i < body->n; i++) {
        wmsg_keys_entry_t *e = &body->entries[i];
        free(e->id);
        for (size_t k = 0; k < e->n_keys; k++) {
            free(e->keys[k].value);
        }
        free(e->keys);
        for (int t = 0; t < 3; t++) {
            free(e->triple[t]);
        }
    }
    free(body->entries);
    memset(body, 0, sizeof *body);
}

static int
s_keys_entry(const msgpack_object *o, void *item, char *err, size_t errlen)
{
    wmsg_keys_entry_t *e = item;
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_fail(err, errlen, "expected a map for", "entries[]");
    }
    char *op = NULL;
    int rc = s_u64(s_get(o, "seq"), &e->seq, "seq", err, errlen);
    rc = rc ? rc : s_dup(s_get(o, "id"), false, &e->id, "id", err, errlen);
    rc = rc ? rc : s_dup(s_get(o, "op"), false, &op, "op", err, errlen);
    if (rc == 0) {
        e->is_delete = strcmp(op, "delete") == 0;
        if (!e->is_delete && strcmp(op, "upsert") != 0) {
            rc = s_fail(err, errlen, "unknown op in", "op");
        }
    }
    free(op);
    const msgpack_object *keys = s_array(s_get(o, "keys"));
    if (rc == 0 && !keys) {
        rc = s_fail(err, errlen, "expected an array for", "keys");
    }
    if (rc == 0) {
        e->keys = xcalloc(keys->via.array.size + 1, sizeof *e->keys);
        for (uint32_t k = 0; k < keys->via.array.size && rc == 0; k++) {
            const msgpack_object *pair = &keys->via.array.ptr[k];
            if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size != 2) {
                rc = s_fail(err, errlen, "expected [family, value] in", "keys");
                break;
            }
            rc =
                s_family(&pair->via.array.ptr[0], &e->keys[k].family, "keys[].family", err, errlen);
            rc = rc ? rc
                    : s_dup(&pair->via.array.ptr[1], false, &e->keys[k].value, "keys[].value", err,
                            errlen);
            if (rc == 0) {
                e->n_keys++;
            }
        }
    }
    const msgpack_object *trip = s_array(s_get(o, "triple"));
    if (rc == 0 && (!trip || trip->via.array.size != 3)) {
        rc = s_fail(err, errlen, "expected three items in", "triple");
    }
    for (int t = 0; t < 3 && rc == 0; t++) {
        rc = s_dup(&trip->via.array.ptr[t], true, &e->triple[t], "triple[]", err, errlen);
    }
    return rc;
}

int
wmsg_keys_decode(const void *data, size_t len, wmsg_keys_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    void *items = NULL;
    int rc = s_decode_list(data, len, "entries", sizeof *out->entries, &items, &out->n,
                           s_keys_entry, err, errlen);
    out->entries = items;
    if (rc != 0) {
        wmsg_keys_free(out);
    }
    return rc;
}

void
wmsg_records_free(wmsg_records_t *body)
{
    free(body->entries);
    memset(body, 0, sizeof *body);
}

static int
s_record_item(const msgpack_object *e, void *item, char *err, size_t errlen)
{
    wmsg_record_t *r = item;
    const msgpack_object *rec = e->type == MSGPACK_OBJECT_MAP ? s_get(e, "record") : NULL;
    if (!rec || rec->type != MSGPACK_OBJECT_BIN) {
        return s_fail(err, errlen, "expected bytes for", "record");
    }
    /* msgpack-c points bin bodies into the input buffer, which outlives the body. */
    r->bytes = rec->via.bin.ptr;
    r->len = rec->via.bin.size;
    return s_u64(s_get(e, "seq"), &r->seq, "seq", err, errlen);
}

int
wmsg_records_decode(const void *data, size_t len, wmsg_records_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    void *items = NULL;
    int rc = s_decode_list(data, len, "entries", sizeof *out->entries, &items, &out->n,
                           s_record_item, err, errlen);
    out->entries = items;
    if (rc != 0) {
        wmsg_records_free(out);
    }
    return rc;
}

static int
s_seq_item(const msgpack_object *o, void *item, char *err, size_t errlen)
{
    uint64_t *seq = item;
    int rc = s_u64(o, seq, "seqs[]", err, errlen);
    return rc == 0 && *seq == 0 ? s_fail(err, errlen, "expected a seq > 0 in", "seqs") : rc;
}

int
wmsg_fetch_decode(const void *data, size_t len, wmsg_fetch_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    void *items = NULL;
    int rc = s_decode_list(data, len, "seqs", sizeof *out->seqs, &items, &out->n, s_seq_item, err,
                           errlen);
    out->seqs = items;
    if (rc == 0 && out->n > WMSG_FETCH_MAX) {
        rc = s_fail(err, errlen, "more seqs than a FETCH may name in", "seqs");
    }
    for (size_t i = 1; rc == 0 && i < out->n; i++) {
        if (out->seqs[i] <= out->seqs[i - 1]) {
            rc = s_fail(err, errlen, "seqs not strictly ascending in", "seqs");
        }
    }
    if (rc != 0) {
        wmsg_fetch_free(out);
    }
    return rc;
}

void
wmsg_fetch_free(wmsg_fetch_t *body)
{
    free(body->seqs);
    memset(body, 0, sizeof *body);
}

void
wmsg_flips_free(wmsg_flips_t *body)
{
    for (size_t i = 0; i < body->n; i++) {
        free(body->flips[i].value);
    }
    free(body->flips);
    memset(body, 0, sizeof *body);
}

static int
s_flip_item(const msgpack_object *f, void *item, char *err, size_t errlen)
{
    wmsg_flip_t *fl = item;
    if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size != 3) {
        return s_fail(err, errlen, "expected [family, value, generic] in", "flips");
    }
    int rc = s_family(&f->via.array.ptr[0], &fl->family, "flips[].family", err, errlen);
    rc = rc ? rc : s_dup(&f->via.array.ptr[1], false, &fl->value, "flips[].value", err, errlen);
    return rc ? rc : s_bool(&f->via.array.ptr[2], &fl->generic, "flips[].generic", err, errlen);
}

int
wmsg_flips_decode(const void *data, size_t len, wmsg_flips_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    void *items = NULL;
    int rc = s_decode_list(data, len, "flips", sizeof *out->flips, &items, &out->n, s_flip_item,
                           err, errlen);
    out->flips = items;
    if (rc != 0) {
        wmsg_flips_free(out);
    }
    return rc;
}

void
wmsg_forests_free(wmsg_forests_t *body)
{
    for (size_t i = 0; i < body->n; i++) {
        wmsg_block_t *b = &body->blocks[i];
        free(b->value);
        for (size_t k = 0; k < 2 * b->n_edges; k++) {
            free(b->edges[k]);
        }
        free(b->edges);
    }
    free(body->blocks);
    memset(body, 0, sizeof *body);
}

static int
s_block(const msgpack_object *o, void *item, char *err, size_t errlen)
{
    wmsg_block_t *b = item;
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_fail(err, errlen, "expected a map for", "blocks[]");
    }
    int rc = s_family(s_get(o, "family"), &b->family, "family", err, errlen);
    rc = rc ? rc : s_dup(s_get(o, "value"), false, &b->value, "value", err, errlen);
    rc = rc ? rc : s_bool(s_get(o, "generic"), &b->generic, "generic", err, errlen);
    rc = rc ? rc : s_u64(s_get(o, "holders"), &b->holders, "holders", err, errlen);
    const msgpack_object *edges = s_array(s_get(o, "edges"));
    if (rc == 0 && (!edges || edges->via.array.size % 2 != 0)) {
        rc = s_fail(err, errlen, "expected an even-sized array for", "edges");
    }
    if (rc == 0) {
        b->edges = xcalloc(edges->via.array.size + 1, sizeof *b->edges);
        for (uint32_t k = 0; k < edges->via.array.size && rc == 0; k++) {
            rc = s_dup(&edges->via.array.ptr[k], false, &b->edges[k], "edges[]", err, errlen);
        }
        /* Free exactly what was filled: count whole pairs only after success. */
        b->n_edges = rc == 0 ? edges->via.array.size / 2 : 0;
        if (rc != 0) {
            for (uint32_t k = 0; k < edges->via.array.size; k++) {
                free(b->edges[k]);
            }
        }
    }
    return rc;
}

int
wmsg_forests_decode(const void *data, size_t len, wmsg_forests_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    void *items = NULL;
    int rc = s_decode_list(data, len, "blocks", sizeof *out->blocks, &items, &out->n, s_block, err,
                           errlen);
    out->blocks = items;
    if (rc != 0) {
        wmsg_forests_free(out);
    }
    return rc;
}

void
wmsg_ready_free(wmsg_ready_t *body)
{
    free(body->role);
    memset(body, 0, sizeof *body);
}

int
wmsg_ready_decode(const void *data, size_t len, wmsg_ready_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    s_doc_t doc;
    int rc = s_open(&doc, data, len, err, errlen);
    if (rc != 0) {
        return rc;
    }
    uint64_t id = 0;
    uint64_t shards = 0;
    rc = s_dup(s_get(&doc.root, "role"), false, &out->role, "role", err, errlen);
    rc = rc ? rc : s_u64(s_get(&doc.root, "id"), &id, "id", err, errlen);
    rc = rc ? rc : s_u64(s_get(&doc.root, "shards"), &shards, "shards", err, errlen);
    rc = rc ? rc : s_u64(s_get(&doc.root, "applied"), &out->applied, "applied", err, errlen);
    /* barrier is optional (absent: 0), so a peer that never completed one may leave it out. */
    const msgpack_object *barrier = s_get(&doc.root, "barrier");
    rc = rc || !barrier ? rc : s_u64(barrier, &out->barrier, "barrier", err, errlen);
    if (rc == 0 && (id > UINT32_MAX || shards > UINT32_MAX)) {
        rc = s_fail(err, errlen, "out of range", "id");
    }
    out->id = (uint32_t)id;
    out->shards = (uint32_t)shards;
    msgpack_zone_destroy(&doc.zone);
    if (rc != 0) {
        wmsg_ready_free(out);
    }
    return rc;
}

void
wmsg_error_free(wmsg_error_t *body)
{
    free(body->code);
    free(body->field);
    free(body->message);
    memset(body, 0, sizeof *body);
}

int
wmsg_error_decode(const void *data, size_t len, wmsg_error_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    s_doc_t doc;
    int rc = s_open(&doc, data, len, err, errlen);
    if (rc != 0) {
        return rc;
    }
    rc = s_dup(s_get(&doc.root, "code"), false, &out->code, "code", err, errlen);
    rc = rc ? rc : s_dup(s_get(&doc.root, "field"), false, &out->field, "field", err, errlen);
    rc = rc ? rc : s_dup(s_get(&doc.root, "message"), false, &out->message, "message", err, errlen);
    msgpack_zone_destroy(&doc.zone);
    if (rc != 0) {
        wmsg_error_free(out);
    }
    return rc;
}

int
wmsg_text_encode(const char *text, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    s_str(&pk, text);
    return 0;
}

int
wmsg_text_decode(const void *data, size_t len, char **out, char *err, size_t errlen)
{
    *out = NULL;
    msgpack_zone zone;
    msgpack_zone_init(&zone, 256);
    msgpack_object o;
    size_t off = 0;
    int rc = 0;
    if (!wire_is_one_message(data, len) ||
        msgpack_unpack(data, len, &off, &zone, &o) != MSGPACK_UNPACK_SUCCESS || off != len) {
        rc = s_fail(err, errlen, "undecodable body", "");
    } else {
        rc = s_dup(&o, false, out, "text", err, errlen);
    }
    msgpack_zone_destroy(&zone);
    return rc;
}

/*  --------------------------------------------------------------------------------------
    Queries and replies (docs/protocol.md §9) */

int
wmsg_query_encode(const wmsg_query_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    size_t n =
        1 + (body->id != NULL) + (body->other != NULL) + (body->offset != 0) + (body->limit != 0);
    msgpack_pack_map(&pk, n);
    s_key(&pk, "what");
    s_str(&pk, body->what);
    if (body->id) {
        s_key(&pk, "id");
        s_str(&pk, body->id);
    }
    if (body->other) {
        s_key(&pk, "other");
        s_str(&pk, body->other);
    }
    if (body->offset) {
        s_key(&pk, "offset");
        msgpack_pack_uint64(&pk, body->offset);
    }
    if (body->limit) {
        s_key(&pk, "limit");
        msgpack_pack_uint64(&pk, body->limit);
    }
    return 0;
}

void
wmsg_query_free(wmsg_query_t *body)
{
    free(body->what);
    free(body->id);
    free(body->other);
    memset(body, 0, sizeof *body);
}

int
wmsg_query_decode(const void *data, size_t len, wmsg_query_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    s_doc_t doc;
    int rc = s_open(&doc, data, len, err, errlen);
    if (rc != 0) {
        return rc;
    }
    const msgpack_object *o = NULL;
    rc = s_dup(s_get(&doc.root, "what"), false, &out->what, "what", err, errlen);
    if (rc == 0 && (o = s_get(&doc.root, "id")) != NULL) {
        rc = s_dup(o, false, &out->id, "id", err, errlen);
    }
    if (rc == 0 && (o = s_get(&doc.root, "other")) != NULL) {
        rc = s_dup(o, false, &out->other, "other", err, errlen);
    }
    if (rc == 0 && (o = s_get(&doc.root, "offset")) != NULL) {
        rc = s_u64(o, &out->offset, "offset", err, errlen);
    }
    if (rc == 0 && (o = s_get(&doc.root, "limit")) != NULL) {
        rc = s_u64(o, &out->limit, "limit", err, errlen);
    }
    msgpack_zone_destroy(&doc.zone);
    if (rc != 0) {
        wmsg_query_free(out);
    }
    return rc;
}

static void
s_assignment(msgpack_packer *pk, const wmsg_assignment_t *a)
{
    msgpack_pack_map(pk, 3);
    s_key(pk, "id");
    s_str(pk, a->id);
    s_key(pk, "identity");
    s_str(pk, a->identity);
    s_key(pk, "campaign");
    s_str(pk, a->campaign);
}

int
wmsg_reply_encode(const wmsg_reply_t *body, wire_buf_t *buf)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    switch (body->kind) {
    case WMSG_REPLY_TEXT:
        s_str(&pk, body->text ? body->text : "");
        break;
    case WMSG_REPLY_ERROR:
        msgpack_pack_map(&pk, 1);
        s_key(&pk, "error");
        s_str(&pk, body->text ? body->text : "");
        break;
    case WMSG_REPLY_ASSIGNMENT:
        s_assignment(&pk, &body->assignment);
        break;
    case WMSG_REPLY_PAGE:
        msgpack_pack_map(&pk, 2);
        s_key(&pk, "items");
        msgpack_pack_array(&pk, body->n);
        for (size_t i = 0; i < body->n; i++) {
            if (body->assignments) {
                s_assignment(&pk, &body->assignments[i]);
            } else {
                s_str(&pk, body->texts[i]);
            }
        }
        s_key(&pk, "next");
        if (body->has_next) {
            msgpack_pack_uint64(&pk, body->next);
        } else {
            msgpack_pack_nil(&pk);
        }
        break;
    }
    return 0;
}

int
wmsg_reply_error_encode(const char *message, wire_buf_t *buf)
{
    wmsg_reply_t r = {.kind = WMSG_REPLY_ERROR, .text = (char *)message};
    return wmsg_reply_encode(&r, buf);
}

static void
s_assignment_free(wmsg_assignment_t *a)
{
    free(a->id);
    free(a->identity);
    free(a->campaign);
    memset(a, 0, sizeof *a);
}

void
wmsg_reply_free(wmsg_reply_t *body)
{
    free(body->text);
    s_assignment_free(&body->assignment);
    for (size_t i = 0; i < body->n; i++) {
        if (body->assignments) {
            s_assignment_free(&body->assignments[i]);
        }
        if (body->texts) {
            free(body->texts[i]);
        }
    }
    free(body->assignments);
    free(body->texts);
    memset(body, 0, sizeof *body);
}

static int
s_assignment_decode(const msgpack_object *o, wmsg_assignment_t *a, char *err, size_t errlen)
{
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_fail(err, errlen, "expected a map for", "items[]");
    }
    int rc = s_dup(s_get(o, "id"), false, &a->id, "id", err, errlen);
    rc = rc ? rc : s_dup(s_get(o, "identity"), true, &a->identity, "identity", err, errlen);
    rc = rc ? rc : s_dup(s_get(o, "campaign"), true, &a->campaign, "campaign", err, errlen);
    return rc;
}

/*  Fills a PAGE from the {items, next} map at root. */
static int
s_page_decode(const msgpack_object *root, wmsg_reply_t *out, char *err, size_t errlen)
{
    out->kind = WMSG_REPLY_PAGE;
    const msgpack_object *items = s_array(s_get(root, "items"));
    if (!items) {
        return s_fail(err, errlen, "expected an array for", "items");
    }
    uint32_t n = items->via.array.size;
    bool maps = n > 0 && items->via.array.ptr[0].type == MSGPACK_OBJECT_MAP;
    if (maps) {
        out->assignments = xcalloc(n, sizeof *out->assignments);
    } else {
        out->texts = xcalloc(n + 1, sizeof *out->texts);
    }
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        out->n++;
        if (maps) {
            rc = s_assignment_decode(&items->via.array.ptr[i], &out->assignments[i], err, errlen);
        } else {
            rc = s_dup(&items->via.array.ptr[i], false, &out->texts[i], "items[]", err, errlen);
        }
    }
    const msgpack_object *next = s_get(root, "next");
    if (rc == 0 && (!next || next->type != MSGPACK_OBJECT_NIL)) {
        rc = s_u64(next, &out->next, "next", err, errlen);
        out->has_next = rc == 0;
    }
    return rc;
}

int
wmsg_reply_decode(const void *data, size_t len, wmsg_reply_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object root;
    size_t off = 0;
    int rc = 0;
    if (!wire_is_one_message(data, len) ||
        msgpack_unpack(data, len, &off, &zone, &root) != MSGPACK_UNPACK_SUCCESS || off != len) {
        rc = s_fail(err, errlen, "undecodable body", "");
    } else if (root.type == MSGPACK_OBJECT_STR) {
        out->kind = WMSG_REPLY_TEXT;
        rc = s_dup(&root, false, &out->text, "text", err, errlen);
    } else if (root.type != MSGPACK_OBJECT_MAP) {
        rc = s_fail(err, errlen, "reply is neither a text nor a map", "");
    } else if (s_get(&root, "error")) {
        out->kind = WMSG_REPLY_ERROR;
        rc = s_dup(s_get(&root, "error"), false, &out->text, "error", err, errlen);
    } else if (s_get(&root, "items")) {
        rc = s_page_decode(&root, out, err, errlen);
    } else if (s_get(&root, "id")) {
        out->kind = WMSG_REPLY_ASSIGNMENT;
        rc = s_assignment_decode(&root, &out->assignment, err, errlen);
    } else {
        rc = s_fail(err, errlen, "reply of unknown shape", "");
    }
    msgpack_zone_destroy(&zone);
    if (rc != 0) {
        wmsg_reply_free(out);
    }
    return rc;
}
