/*  wire.c - MessagePack codec and framing (see wire.h).

    Three layers: s_header()/s_frame() know MessagePack's type headers and find where a
    message ends without allocating; the decoders run msgpack-c on a framed message and
    walk its object tree in the same fixed field order as jsonio.c, so both encodings report
    the same error for the same record; the encoders drive a msgpack_packer that appends to
    a wire_buf_t. Ownership: a decoded record owns copies of its strings; the msgpack zone is
    freed before returning. Events and records (records.h) are encoded by the same packer
    helpers, and events decoded by the same walkers, strictly (exact key sets).
*/
#include "wire.h"

#include "err.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/*  --------------------------------------------------------------------------------------
    Buffers */

void
wire_buf_init(wire_buf_t *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void
wire_buf_reset(wire_buf_t *buf)
{
    buf->len = 0;
}

void
wire_buf_free(wire_buf_t *buf)
{
    free(buf->data);
    wire_buf_init(buf);
}

void
wire_buf_append(wire_buf_t *buf, const void *data, size_t len)
{
    if (len == 0) {
        return;
    }
    xgrow(&buf->data, &buf->cap, buf->len + len);
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

/*  --------------------------------------------------------------------------------------
    Framing */

/*  Larger than any count a real stream can satisfy; more pending items is a syntax error
    (it also keeps the item counter from overflowing). */
#define S_MAX_PENDING (UINT64_C(1) << 62)

/*  One MessagePack type header. */
typedef struct {
    size_t size;    /* bytes of the header: marker, length field, ext type, fixed payload */
    uint64_t items; /* objects nested under it (2n for a map of n pairs) */
    uint64_t body;  /* bytes of str/bin/ext payload after the header */
} s_hdr_t;

/*  Reads a big-endian unsigned integer of n (1, 2 or 4) bytes. */
static uint64_t
s_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*  Parses the header starting at p, of which avail >= 1 bytes are present. Returns 1 with
    *h filled, 0 when the header is longer than avail (h->size tells how long it is), or -1
    when p[0] is 0xc1, the one byte that starts no type. */
static int
s_header(const unsigned char *p, size_t avail, s_hdr_t *h)
{
    unsigned b = p[0];
    h->items = 0;
    h->body = 0;
    h->size = 1;
    if (b <= 0x7F || b >= 0xE0) { /* positive / negative fixint */
        return 1;
    }
    if (b <= 0x8F) { /* fixmap */
        h->items = 2 * (uint64_t)(b & 0x0F);
        return 1;
    }
    if (b <= 0x9F) { /* fixarray */
        h->items = b & 0x0F;
        return 1;
    }
    if (b <= 0xBF) { /* fixstr */
        h->body = b & 0x1F;
        return 1;
    }
    size_t lsize = 0; /* bytes of the length field */
    size_t extra = 0; /* ext type byte */
    int kind = 0;     /* 0 scalar, 1 payload, 2 array, 3 map */
    switch (b) {
    case 0xC0: /* nil, false, true */
    case 0xC2:
    case 0xC3:
        return 1;
    case 0xC1:
        return -1;
    case 0xC4: /* bin 8/16/32 */
    case 0xC5:
    case 0xC6:
        lsize = (size_t)1 << (b - 0xC4);
        kind = 1;
        break;
    case 0xC7: /* ext 8/16/32 */
    case 0xC8:
    case 0xC9:
        lsize = (size_t)1 << (b - 0xC7);
        extra = 1;
        kind = 1;
        break;
    case 0xCA: /* float 32/64 */
        h->size = 5;
        break;
    case 0xCB:
        h->size = 9;
        break;
    case 0xCC: /* uint 8/16/32/64 */
    case 0xCD:
    case 0xCE:
    case 0xCF:
        h->size = 1 + ((size_t)1 << (b - 0xCC));
        break;
    case 0xD0: /* int 8/16/32/64 */
    case 0xD1:
    case 0xD2:
    case 0xD3:
        h->size = 1 + ((size_t)1 << (b - 0xD0));
        break;
    case 0xD4: /* fixext 1/2/4/8/16: marker, type, payload */
    case 0xD5:
    case 0xD6:
    case 0xD7:
    case 0xD8:
        h->size = 2;
        h->body = (uint64_t)1 << (b - 0xD4);
        return avail >= 2 ? 1 : 0;
    case 0xD9: /* str 8/16/32 */
    case 0xDA:
    case 0xDB:
        lsize = (size_t)1 << (b - 0xD9);
        kind = 1;
        break;
    case 0xDC: /* array 16/32 */
    case 0xDD:
        lsize = (size_t)2 << (b - 0xDC);
        kind = 2;
        break;
    default: /* 0xDE, 0xDF: map 16/32 */
        lsize = (size_t)2 << (b - 0xDE);
        kind = 3;
        break;
    }
    if (kind == 0) {
        return avail >= h->size ? 1 : 0;
    }
    h->size = 1 + lsize + extra;
    if (avail < h->size) {
        return 0;
    }
    uint64_t n = s_be(p + 1, lsize);
    if (kind == 1) {
        h->body = n;
    } else if (kind == 2) {
        h->items = n;
    } else {
        h->items = 2 * n;
    }
    return 1;
}

/*  Finds the end of the message at the start of p (len bytes). Returns 1 with *used = its
    length, 0 when len bytes cannot hold all of it, or -1 with *used = the offset of an
    invalid byte. Every element takes at least one byte, so no declared count is trusted
    beyond the bytes actually present. */
static int
s_frame(const unsigned char *p, size_t len, size_t *used)
{
    uint64_t pending = 1;
    size_t pos = 0;
    while (pending > 0) {
        if (pos >= len) {
            return 0;
        }
        s_hdr_t h;
        int r = s_header(p + pos, len - pos, &h);
        if (r < 0) {
            *used = pos;
            return -1;
        }
        if (r == 0 || h.body > len - pos - h.size) {
            return 0;
        }
        pos += h.size + (size_t)h.body;
        pending = pending - 1 + h.items;
        if (pending > len - pos) {
            return 0;
        }
    }
    *used = pos;
    return 1;
}

int
wire_frame(const void *data, size_t len, size_t *msg_len)
{
    size_t used = 0;
    int r = s_frame(data, len, &used);
    if (r < 0) {
        *msg_len = used;
        return CADRE_ERECORD;
    }
    if (r == 1) {
        *msg_len = used;
    }
    return r;
}

bool
wire_is_one_message(const void *data, size_t len)
{
    size_t used = 0;
    return len > 0 && s_frame(data, len, &used) == 1 && used == len;
}

/*  The framer over a FILE. */
struct wire_reader_t {
    FILE *file;         /* borrowed input */
    size_t max_message; /* larger messages are skipped */
    wire_buf_t msg;     /* the current message's bytes */
    uint64_t messages;  /* messages started so far */
    bool done;          /* end reached, or the stream can no longer be split */
};

wire_reader_t *
wire_reader_new(FILE *file, size_t max_message)
{
    assert(file);
    wire_reader_t *self = xcalloc(1, sizeof *self);
    self->file = file;
    self->max_message = max_message;
    wire_buf_init(&self->msg);
    return self;
}

void
wire_reader_destroy(wire_reader_t **self_p)
{
    assert(self_p);
    if (!*self_p) {
        return;
    }
    wire_buf_free(&(*self_p)->msg);
    free(*self_p);
    *self_p = NULL;
}

uint64_t
wire_reader_messages(const wire_reader_t *self)
{
    return self->messages;
}

/*  Reads exactly n bytes into dst (NULL: read and drop them). Returns 0, 1 at end of input
    before n bytes, or -errno. */
static int
s_read(wire_reader_t *self, void *dst, uint64_t n)
{
    char scratch[4096];
    while (n > 0) {
        size_t want = dst ? (size_t)n : (n < sizeof scratch ? (size_t)n : sizeof scratch);
        size_t got = fread(dst ? dst : scratch, 1, want, self->file);
        if (got < want) {
            if (ferror(self->file)) {
                return errno ? -errno : -EIO;
            }
            return 1;
        }
        if (dst) {
            dst = (char *)dst + got;
        }
        n -= got;
    }
    return 0;
}

/*  Ends the stream with a truncation or read error, filling err for truncation. */
static int
s_stop(wire_reader_t *self, int rc, uint64_t total, obs_error_t *err)
{
    self->done = true;
    wire_buf_free(&self->msg);
    if (rc > 0) {
        obs_error_set(err, self->messages, NULL, "",
                      "input ends inside a MessagePack message (%" PRIu64 " bytes read)", total);
        return CADRE_ETRUNC;
    }
    obs_error_set(err, self->messages, NULL, "", "read error: %s", strerror(-rc));
    return rc;
}

int
wire_reader_next(wire_reader_t *self, const char **data_p, size_t *len_p, obs_error_t *err)
{
    if (self->done) {
        return 0;
    }
    wire_buf_reset(&self->msg);
    uint64_t pending = 1;  /* objects still to read */
    uint64_t total = 0;    /* bytes of the message so far */
    bool oversize = false; /* skipping a message over the limit */
    while (pending > 0) {
        int c = getc_unlocked(self->file); /* one thread reads a reader */
        if (c == EOF) {
            if (ferror(self->file)) {
                return s_stop(self, errno ? -errno : -EIO, total, err);
            }
            if (total == 0) {
                self->done = true;
                return 0;
            }
            return s_stop(self, 1, total, err);
        }
        if (total == 0) {
            self->messages++;
        }
        unsigned char hb[16];
        hb[0] = (unsigned char)c;
        size_t have = 1;
        s_hdr_t h;
        int r = 0;
        while ((r = s_header(hb, have, &h)) == 0) {
            int rc = s_read(self, hb + have, h.size - have);
            if (rc != 0) {
                return s_stop(self, rc, total + have, err);
            }
            have = h.size;
        }
        if (r < 0 || pending - 1 + h.items > S_MAX_PENDING) {
            self->done = true;
            wire_buf_free(&self->msg);
            return obs_error_set(err, self->messages, NULL, "",
                                 "byte 0x%02x at offset %" PRIu64 " of the message %s; the rest "
                                 "of the stream cannot be split into records",
                                 (unsigned)c, total,
                                 r < 0 ? "starts no MessagePack type"
                                       : "declares more elements than a stream can hold");
        }
        pending = pending - 1 + h.items;
        total += h.size;
        /*  The message needs at least one more byte per pending object. */
        if (!oversize &&
            (h.body > self->max_message || total + h.body + pending > self->max_message)) {
            oversize = true;
            wire_buf_free(&self->msg);
        }
        if (!oversize) {
            wire_buf_append(&self->msg, hb, h.size);
            if (h.body > 0) {
                xgrow(&self->msg.data, &self->msg.cap, self->msg.len + (size_t)h.body);
            }
        }
        int rc = s_read(self, oversize ? NULL : self->msg.data + self->msg.len, h.body);
        if (rc != 0) {
            return s_stop(self, rc, total, err);
        }
        total += h.body;
        if (!oversize) {
            self->msg.len += (size_t)h.body;
        }
    }
    if (oversize) {
        return obs_error_set(err, self->messages, NULL, "",
                             "message of %" PRIu64 " bytes is larger than the limit of %zu "
                             "bytes; skipped",
                             total, self->max_message);
    }
    *data_p = self->msg.data;
    *len_p = self->msg.len;
    return 1;
}

/*  --------------------------------------------------------------------------------------
    Decoding */

/*  "a map", "a string", ... for type error messages. */
static const char *
s_type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return "nil";
    case MSGPACK_OBJECT_BOOLEAN:
        return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return "a float";
    case MSGPACK_OBJECT_STR:
        return "a string";
    case MSGPACK_OBJECT_ARRAY:
        return "an array";
    case MSGPACK_OBJECT_MAP:
        return "a map";
    case MSGPACK_OBJECT_BIN:
        return "binary data";
    case MSGPACK_OBJECT_EXT:
        return "an extension value";
    }
    return "an unknown value";
}

static int
s_type_error(obs_error_t *err, const char *field, const char *expected, const msgpack_object *o)
{
    return obs_error_field(err, field, "expected %s, got %s", expected, s_type_name(o));
}

/*  True for an absent member or an explicit nil. */
static bool
s_absent(const msgpack_object *o)
{
    return !o || o->type == MSGPACK_OBJECT_NIL;
}

/*  Orders map entries by key bytes, for duplicate detection. */
static int
s_kv_cmp(const void *a, const void *b)
{
    const msgpack_object_str *x = &(*(const msgpack_object_kv *const *)a)->key.via.str;
    const msgpack_object_str *y = &(*(const msgpack_object_kv *const *)b)->key.via.str;
    size_t n = x->size < y->size ? x->size : y->size;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    if (c != 0) {
        return c;
    }
    return x->size < y->size ? -1 : x->size > y->size;
}

/*  Joins a map's path and one of its keys into out ("sessions[0]" + "x" -> "sessions[0].x"). */
static void
s_join(char *out, size_t size, const char *path, const char *key, size_t key_len)
{
    int n = (int)(key_len > 64 ? 64 : key_len);
    snprintf(out, size, "%s%s%.*s", path, path[0] ? "." : "", n, key);
}

/*  Checks map (at path) for non-str and duplicate keys, and finds the values of the n names
    in keys: vals[i] is the value of keys[i], or NULL. */
static int
s_lookup(const msgpack_object *map, const char *path, const char *const *keys, size_t n,
         const msgpack_object **vals, obs_error_t *err)
{
    for (size_t k = 0; k < n; k++) {
        vals[k] = NULL;
    }
    uint32_t size = map->via.map.size;
    const msgpack_object_kv *kv = map->via.map.ptr;
    for (uint32_t i = 0; i < size; i++) {
        if (kv[i].key.type != MSGPACK_OBJECT_STR) {
            return obs_error_field(err, path, "map key #%" PRIu32 " is %s, not a string", i,
                                   s_type_name(&kv[i].key));
        }
        const msgpack_object_str *key = &kv[i].key.via.str;
        for (size_t k = 0; k < n; k++) {
            if (strlen(keys[k]) == key->size && memcmp(keys[k], key->ptr, key->size) == 0) {
                vals[k] = &kv[i].val;
                break;
            }
        }
    }
    if (size < 2) {
        return 0;
    }
    const msgpack_object_kv *small[16];
    const msgpack_object_kv **sorted = size <= 16 ? small : xmalloc(size * sizeof *sorted);
    for (uint32_t i = 0; i < size; i++) {
        sorted[i] = &kv[i];
    }
    qsort(sorted, size, sizeof *sorted, s_kv_cmp);
    int rc = 0;
    for (uint32_t i = 1; i < size && rc == 0; i++) {
        if (s_kv_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            char f[192]; /* path, ".", key; obs_error_field cuts it to fit */
            s_join(f, sizeof f, path, sorted[i]->key.via.str.ptr, sorted[i]->key.via.str.size);
            rc = obs_error_field(err, f, "duplicate key");
        }
    }
    if (sorted != small) {
        free(sorted);
    }
    return rc;
}

/*  Reads an optional string (absent or nil = NULL) of at most max bytes. */
static int
s_opt_string(const msgpack_object *o, size_t max, char **out, obs_error_t *err, const char *field)
{
    *out = NULL;
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_STR) {
        return s_type_error(err, field, "a string or nil", o);
    }
    int rc = obs_check_string(o->via.str.ptr, o->via.str.size, max, err, field);
    if (rc != 0) {
        return rc;
    }
    *out = xstrndup(o->via.str.ptr, o->via.str.size);
    return 0;
}

/*  Reads a required string element (nil is a type error). */
static int
s_req_string(const msgpack_object *o, size_t max, char **out, obs_error_t *err, const char *field)
{
    if (o->type != MSGPACK_OBJECT_STR) {
        return s_type_error(err, field, "a string", o);
    }
    return s_opt_string(o, max, out, err, field);
}

/*  Reads a number: any integer or float, finite (and not negative when nonneg). *present
    is false when the member is absent or nil. */
static int
s_number(const msgpack_object *o, bool nonneg, double *out, bool *present, obs_error_t *err,
         const char *field)
{
    *present = false;
    if (s_absent(o)) {
        return 0;
    }
    double d = 0;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        d = (double)o->via.u64;
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        d = (double)o->via.i64;
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        d = o->via.f64;
        break;
    default:
        return s_type_error(err, field, "a number", o);
    }
    int rc = obs_check_number(d, nonneg, err, field);
    if (rc != 0) {
        return rc;
    }
    *out = d;
    *present = true;
    return 0;
}

static int
s_asn(const msgpack_object *o, obs_t *obs, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        obs->asn = o->via.i64;
    } else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > INT64_MAX) {
            return obs_error_field(err, "asn", "integer %" PRIu64 " is out of range", o->via.u64);
        }
        obs->asn = (int64_t)o->via.u64;
    } else {
        return s_type_error(err, "asn", "an integer or nil", o);
    }
    obs->has_asn = true;
    return 0;
}

static int
s_kd_simhash(const msgpack_object *o, obs_t *obs, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_STR) {
        int rc =
            obs_check_simhash(o->via.str.ptr, o->via.str.size, &obs->kd_simhash, err, "kd_simhash");
        obs->has_kd = rc == 0;
        return rc;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        obs->kd_simhash = o->via.u64;
        obs->has_kd = true;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        return obs_error_field(err, "kd_simhash", "integer %" PRId64 " is negative", o->via.i64);
    }
    return s_type_error(err, "kd_simhash", "a string of 16 hex digits, an integer or nil", o);
}

static int
s_truth(const msgpack_object *o, obs_t *obs, obs_error_t *err)
{
    static const char *const keys[] = {"campaign", "identity", "actor"};
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_type_error(err, "truth", "a map or nil", o);
    }
    const msgpack_object *v[3];
    int rc = 0;
    if ((rc = s_lookup(o, "truth", keys, 3, v, err)) ||
        (rc = s_opt_string(v[0], OBS_MAX_SHORT, &obs->truth_campaign, err, "truth.campaign")) ||
        (rc = s_opt_string(v[1], OBS_MAX_SHORT, &obs->truth_identity, err, "truth.identity")) ||
        (rc = s_opt_string(v[2], OBS_MAX_SHORT, &obs->truth_actor, err, "truth.actor"))) {
        return rc;
    }
    return 0;
}

/*  The session walkers below name fields relative to the session ("phase", "commands[2]")
    and s_sessions() nests them under "sessions[i]" only when an error occurs, so the happy
    path formats no paths at all. */

static int
s_commands(const msgpack_object *o, obs_session_t *s, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        return s_type_error(err, "commands", "an array of strings or nil", o);
    }
    size_t n = o->via.array.size;
    if (n > OBS_MAX_ITEMS) {
        return obs_error_field(err, "commands", "%zu commands exceed the limit of %d", n,
                               OBS_MAX_ITEMS);
    }
    if (n == 0) {
        return 0;
    }
    s->commands = xcalloc(n, sizeof *s->commands);
    s->n_commands = n;
    for (size_t i = 0; i < n; i++) {
        int rc = s_req_string(&o->via.array.ptr[i], OBS_MAX_TEXT, &s->commands[i], err, "");
        if (rc != 0) {
            obs_error_nest(err, "commands[%zu]", i);
            return rc;
        }
    }
    return 0;
}

/*  Reads one [user, password] pair; fields are named relative to it ("", "[1]"). */
static int
s_cred_pair(const msgpack_object *pair, obs_cred_t *cred, obs_error_t *err)
{
    if (pair->type != MSGPACK_OBJECT_ARRAY) {
        return s_type_error(err, "", "a [user, password] array", pair);
    }
    uint32_t n = pair->via.array.size;
    if (n != 2) {
        return obs_error_field(err, "",
                               "expected a [user, password] pair, got %" PRIu32 " element%s", n,
                               n == 1 ? "" : "s");
    }
    int rc = 0;
    if ((rc = s_req_string(&pair->via.array.ptr[0], OBS_MAX_TEXT, &cred->user, err, "[0]")) ||
        (rc = s_req_string(&pair->via.array.ptr[1], OBS_MAX_TEXT, &cred->pass, err, "[1]"))) {
        return rc;
    }
    return 0;
}

static int
s_credentials(const msgpack_object *o, obs_session_t *s, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        return s_type_error(err, "credentials", "an array of [user, password] pairs or nil", o);
    }
    size_t n = o->via.array.size;
    if (n > OBS_MAX_ITEMS) {
        return obs_error_field(err, "credentials", "%zu credentials exceed the limit of %d", n,
                               OBS_MAX_ITEMS);
    }
    if (n == 0) {
        return 0;
    }
    s->creds = xcalloc(n, sizeof *s->creds);
    s->n_creds = n;
    for (size_t i = 0; i < n; i++) {
        int rc = s_cred_pair(&o->via.array.ptr[i], &s->creds[i], err);
        if (rc != 0) {
            obs_error_nest(err, "credentials[%zu]", i);
            return rc;
        }
    }
    return 0;
}

/*  Session keys, in the order they are checked. */
enum { S_SID, S_DECKY, S_PHASE, S_START, S_DURATION, S_COMMANDS, S_CREDS, S_PAYLOAD, S_C2 };

static int
s_session(const msgpack_object *o, obs_session_t *s, obs_error_t *err)
{
    static const char *const keys[] = {"id",          "decky",        "phase",
                                       "start",       "duration",     "commands",
                                       "credentials", "payload_hash", "c2"};
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_type_error(err, "", "a map", o);
    }
    const msgpack_object *v[9];
    int rc = 0;
    if ((rc = s_lookup(o, "", keys, 9, v, err)) ||
        (rc = s_opt_string(v[S_SID], OBS_MAX_ID, &s->id, err, "id")) ||
        (rc = s_opt_string(v[S_DECKY], OBS_MAX_SHORT, &s->decky, err, "decky"))) {
        return rc;
    }
    const msgpack_object *phase = v[S_PHASE];
    if (s_absent(phase)) {
        return obs_error_field(err, "phase", "required field is missing");
    }
    if (phase->type != MSGPACK_OBJECT_STR) {
        return s_type_error(err, "phase", "a string", phase);
    }
    if ((rc = obs_check_phase(phase->via.str.ptr, phase->via.str.size, &s->phase, err, "phase"))) {
        return rc;
    }
    bool present = false;
    if ((rc = s_number(v[S_START], false, &s->start, &present, err, "start"))) {
        return rc;
    }
    if (!present) {
        return obs_error_field(err, "start", "required field is missing");
    }
    if ((rc = s_number(v[S_DURATION], true, &s->duration, &present, err, "duration")) ||
        (rc = s_commands(v[S_COMMANDS], s, err)) || (rc = s_credentials(v[S_CREDS], s, err)) ||
        (rc = s_opt_string(v[S_PAYLOAD], OBS_MAX_SHORT, &s->payload_hash, err, "payload_hash")) ||
        (rc = s_opt_string(v[S_C2], OBS_MAX_SHORT, &s->c2, err, "c2"))) {
        return rc;
    }
    return 0;
}

static int
s_sessions(const msgpack_object *o, obs_t *obs, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        return s_type_error(err, "sessions", "an array or nil", o);
    }
    size_t n = o->via.array.size;
    if (n > OBS_MAX_SESSIONS) {
        return obs_error_field(err, "sessions", "%zu sessions exceed the limit of %d", n,
                               OBS_MAX_SESSIONS);
    }
    if (n == 0) {
        return 0;
    }
    obs->sessions = xcalloc(n, sizeof *obs->sessions);
    obs->n_sessions = n;
    obs->sessions_cap = n;
    for (size_t i = 0; i < n; i++) {
        int rc = s_session(&o->via.array.ptr[i], &obs->sessions[i], err);
        if (rc != 0) {
            obs_error_nest(err, "sessions[%zu]", i);
            return rc;
        }
    }
    return 0;
}

/*  Reads the required, non-empty "id" string into *out and names the record in err. */
static int
s_record_id(const msgpack_object *o, char **out, obs_error_t *err)
{
    if (s_absent(o)) {
        return obs_error_field(err, "id", "required field is missing");
    }
    if (o->type != MSGPACK_OBJECT_STR) {
        return s_type_error(err, "id", "a string", o);
    }
    if (o->via.str.size == 0) {
        return obs_error_field(err, "id", "must not be empty");
    }
    int rc = s_opt_string(o, OBS_MAX_ID, out, err, "id");
    if (rc == 0) {
        obs_error_reset(err, err->record, *out);
    }
    return rc;
}

static int
s_op(const msgpack_object *o, obs_op_t *out, obs_error_t *err)
{
    *out = OBS_UPSERT;
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_STR) {
        return s_type_error(err, "op", "\"upsert\", \"append\", \"delete\" or nil", o);
    }
    const char *s = o->via.str.ptr;
    size_t len = o->via.str.size;
    if (len == 6 && memcmp(s, "upsert", 6) == 0) {
        return 0;
    }
    if (len == 6 && memcmp(s, "delete", 6) == 0) {
        *out = OBS_DELETE;
        return 0;
    }
    if (len == 6 && memcmp(s, "append", 6) == 0) {
        *out = OBS_APPEND;
        return 0;
    }
    return obs_error_field(err, "op",
                           "unknown op '%.*s' (expected \"upsert\", \"append\" or \"delete\")",
                           (int)(len > 40 ? 40 : len), s);
}

/*  A map member's key as a new C string, checked by check (a kind or a provenance field). */
static int
s_map_key(const msgpack_object *k, int (*check)(const char *, size_t, obs_error_t *, const char *),
          const char *field, char **out, obs_error_t *err)
{
    if (k->type != MSGPACK_OBJECT_STR) {
        return s_type_error(err, field, "string keys", k);
    }
    int rc = check(k->via.str.ptr, k->via.str.size, err, field);
    if (rc == 0) {
        *out = xstrndup(k->via.str.ptr, k->via.str.size);
    }
    return rc;
}

/*  Reads "fingerprints": nil, or a map of kind -> string (nil values are absent). */
static int
s_fingerprints(const msgpack_object *o, obs_t *obs, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_type_error(err, "fingerprints", "a map or nil", o);
    }
    if (o->via.map.size > OBS_MAX_FPS) {
        return obs_error_field(err, "fingerprints",
                               "%" PRIu32 " fingerprints exceed the limit "
                               "of %d",
                               o->via.map.size, OBS_MAX_FPS);
    }
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        char *kind = NULL;
        char *value = NULL;
        int rc = s_map_key(&o->via.map.ptr[i].key, obs_check_fp_kind, "fingerprints", &kind, err);
        if (rc == 0) {
            char field[64];
            snprintf(field, sizeof field, "fingerprints.%s", kind);
            if (obs_fp_get(obs, kind)) {
                rc = obs_error_field(err, field, "duplicate key");
            } else {
                rc = s_opt_string(&o->via.map.ptr[i].val, OBS_MAX_FINGERPRINT, &value, err, field);
            }
        }
        if (rc == 0 && value) {
            obs_fp_set(obs, kind, value);
        }
        free(kind);
        free(value);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*  Reads "append_at": nil, or a map of field -> number or nil (nil: no session). */
static int
s_append_at(const msgpack_object *o, obs_t *obs, obs_error_t *err)
{
    if (s_absent(o)) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_type_error(err, "append_at", "a map or nil", o);
    }
    if (o->via.map.size > OBS_MAX_FPS + 8) {
        return obs_error_field(err, "append_at", "%" PRIu32 " entries exceed the limit of %d",
                               o->via.map.size, OBS_MAX_FPS + 8);
    }
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        char *field = NULL;
        int rc = s_map_key(&o->via.map.ptr[i].key, obs_check_at_field, "append_at", &field, err);
        double at = INFINITY;
        bool present = false;
        if (rc == 0 && !isnan(obs_at_get(obs, field))) {
            rc = obs_error_field(err, "append_at", "duplicate key '%s'", field);
        }
        if (rc == 0) {
            rc = s_number(&o->via.map.ptr[i].val, false, &at, &present, err, "append_at");
        }
        if (rc == 0) {
            obs_at_set(obs, field, present ? at : INFINITY);
        }
        free(field);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*  Observation keys, in the order they are checked. */
enum {
    S_ID,
    S_OP,
    S_IP,
    S_ASN,
    S_JA3,
    S_JA4,
    S_HASSH,
    S_KD,
    S_TRUTH,
    S_SESSIONS,
    S_FPS,
    S_AT,
    S_NKEYS
};

static int
s_obs_from(const msgpack_object *root, obs_t *obs, obs_error_t *err)
{
    static const char *const keys[S_NKEYS] = {"id",    "op",       "ip",           "asn",
                                              "ja3",   "ja4",      "hassh",        "kd_simhash",
                                              "truth", "sessions", "fingerprints", "append_at"};
    const msgpack_object *v[S_NKEYS];
    int rc = 0;
    if ((rc = s_lookup(root, "", keys, S_NKEYS, v, err)) ||
        (rc = s_record_id(v[S_ID], &obs->id, err)) || (rc = s_op(v[S_OP], &obs->op, err))) {
        return rc;
    }
    if (obs->op == OBS_DELETE) {
        return 0; /* a delete needs only its id; anything else in it is ignored */
    }
    if ((rc = s_opt_string(v[S_IP], OBS_MAX_SHORT, &obs->ip, err, "ip")) ||
        (rc = s_asn(v[S_ASN], obs, err)) ||
        (rc = s_opt_string(v[S_JA3], OBS_MAX_FINGERPRINT, &obs->ja3, err, "ja3")) ||
        (rc = s_opt_string(v[S_JA4], OBS_MAX_FINGERPRINT, &obs->ja4, err, "ja4")) ||
        (rc = s_opt_string(v[S_HASSH], OBS_MAX_FINGERPRINT, &obs->hassh, err, "hassh")) ||
        (rc = s_kd_simhash(v[S_KD], obs, err)) || (rc = s_truth(v[S_TRUTH], obs, err)) ||
        (rc = s_sessions(v[S_SESSIONS], obs, err)) || (rc = s_fingerprints(v[S_FPS], obs, err)) ||
        (rc = s_append_at(v[S_AT], obs, err))) {
        return rc;
    }
    return 0;
}

/*  Frames and unpacks data as one message whose root must be a map. On success the caller
    destroys *up. */
static int
s_unpack(const char *data, size_t len, msgpack_unpacked *up, obs_error_t *err)
{
    size_t used = 0;
    int r = s_frame((const unsigned char *)data, len, &used);
    if (r == 0) {
        obs_error_field(err, "", "MessagePack message is truncated (%zu bytes)", len);
        return CADRE_ETRUNC;
    }
    if (r < 0) {
        return obs_error_field(err, "", "invalid MessagePack: byte 0x%02x at offset %zu",
                               (unsigned char)data[used], used);
    }
    if (used != len) {
        return obs_error_field(err, "", "%zu trailing bytes after the MessagePack message",
                               len - used);
    }
    msgpack_unpacked_init(up);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(up, data, len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(up);
        return obs_error_field(err, "", "%s",
                               ur == MSGPACK_UNPACK_NOMEM_ERROR
                                   ? "MessagePack nesting is deeper than 32 levels"
                                   : "invalid MessagePack message");
    }
    if (up->data.type != MSGPACK_OBJECT_MAP) {
        int rc = obs_error_field(err, "", "record is %s, not a map", s_type_name(&up->data));
        msgpack_unpacked_destroy(up);
        return rc;
    }
    return 0;
}

int
wire_obs_decode(const char *data, size_t len, uint64_t record, obs_t **out, obs_error_t *err)
{
    obs_error_reset(err, record, NULL);
    msgpack_unpacked up;
    int rc = s_unpack(data, len, &up, err);
    if (rc != 0) {
        return rc;
    }
    obs_t *obs = obs_new();
    rc = s_obs_from(&up.data, obs, err);
    msgpack_unpacked_destroy(&up);
    if (rc == 0) {
        rc = obs_check_record(obs, err);
    }
    if (rc != 0) {
        obs_destroy(&obs);
        return rc;
    }
    *out = obs;
    return 0;
}

/*  The value of map's first member whose key is the str key, or NULL. */
static const msgpack_object *
s_peek_member(const msgpack_object *map, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0) {
            return &map->via.map.ptr[i].val;
        }
    }
    return NULL;
}

/*  A string member's copy, or NULL when it is absent or not a string. */
static char *
s_peek_str(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_STR ? xstrndup(o->via.str.ptr, o->via.str.size) : NULL;
}

int
wire_obs_peek(const char *data, size_t len, uint64_t record, wire_peek_t *out, obs_error_t *err)
{
    memset(out, 0, sizeof *out);
    obs_error_reset(err, record, NULL);
    msgpack_unpacked up;
    int rc = s_unpack(data, len, &up, err);
    if (rc != 0) {
        return rc;
    }
    if (up.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&up);
        return obs_error_field(err, "", "a record must be a map");
    }
    const msgpack_object *id = s_peek_member(&up.data, "id");
    const msgpack_object *op = s_peek_member(&up.data, "op");
    /*  The labels live in the "truth" map ({campaign, identity, actor}, docs/schema.md). */
    const msgpack_object *truth = s_peek_member(&up.data, "truth");
    const msgpack_object *tc = NULL, *ti = NULL;
    if (truth && truth->type == MSGPACK_OBJECT_MAP) {
        tc = s_peek_member(truth, "campaign");
        ti = s_peek_member(truth, "identity");
    }
    out->id = s_peek_str(id);
    out->is_delete = op && op->type == MSGPACK_OBJECT_STR && op->via.str.size == 6 &&
                     memcmp(op->via.str.ptr, "delete", 6) == 0;
    out->truth_campaign = s_peek_str(tc);
    out->truth_identity = s_peek_str(ti);
    msgpack_unpacked_destroy(&up);
    return 0;
}

void
wire_peek_clear(wire_peek_t *peek)
{
    free(peek->id);
    free(peek->truth_campaign);
    free(peek->truth_identity);
    memset(peek, 0, sizeof *peek);
}

int
wire_assign_decode(const char *data, size_t len, uint64_t record, assign_t *out, obs_error_t *err)
{
    static const char *const keys[] = {"id", "identity", "campaign"};
    memset(out, 0, sizeof *out);
    obs_error_reset(err, record, NULL);
    msgpack_unpacked up;
    int rc = s_unpack(data, len, &up, err);
    if (rc != 0) {
        return rc;
    }
    const msgpack_object *v[3];
    assign_t rec = {0};
    if ((rc = s_lookup(&up.data, "", keys, 3, v, err)) == 0 &&
        (rc = s_record_id(v[0], &rec.id, err)) == 0 &&
        (rc = s_opt_string(v[1], OBS_MAX_SHORT, &rec.identity, err, "identity")) == 0) {
        rc = s_opt_string(v[2], OBS_MAX_SHORT, &rec.campaign, err, "campaign");
    }
    msgpack_unpacked_destroy(&up);
    if (rc != 0) {
        assign_clear(&rec);
        return rc;
    }
    *out = rec;
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Encoding */

/*  msgpack_packer's write callback: appends to a wire_buf_t. */
static int
s_write(void *data, const char *buf, size_t len)
{
    wire_buf_append(data, buf, len);
    return 0;
}

static void
s_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/*  Packs a string, or nil for NULL. */
static void
s_pack_opt(msgpack_packer *pk, const char *s)
{
    if (s) {
        s_pack_cstr(pk, s);
    } else {
        msgpack_pack_nil(pk);
    }
}

static void
s_pack_session(msgpack_packer *pk, const obs_session_t *s)
{
    msgpack_pack_map(pk, 9);
    s_pack_cstr(pk, "c2");
    s_pack_opt(pk, s->c2);
    s_pack_cstr(pk, "commands");
    msgpack_pack_array(pk, s->n_commands);
    for (size_t i = 0; i < s->n_commands; i++) {
        s_pack_cstr(pk, s->commands[i]);
    }
    s_pack_cstr(pk, "credentials");
    msgpack_pack_array(pk, s->n_creds);
    for (size_t i = 0; i < s->n_creds; i++) {
        msgpack_pack_array(pk, 2);
        s_pack_cstr(pk, s->creds[i].user);
        s_pack_cstr(pk, s->creds[i].pass);
    }
    s_pack_cstr(pk, "decky");
    s_pack_opt(pk, s->decky);
    s_pack_cstr(pk, "duration");
    msgpack_pack_double(pk, s->duration);
    s_pack_cstr(pk, "id");
    s_pack_opt(pk, s->id);
    s_pack_cstr(pk, "payload_hash");
    s_pack_opt(pk, s->payload_hash);
    s_pack_cstr(pk, "phase");
    s_pack_cstr(pk, ukc_phase_name(s->phase));
    s_pack_cstr(pk, "start");
    msgpack_pack_double(pk, s->start);
}

int
wire_obs_encode(const obs_t *obs, wire_buf_t *buf, obs_error_t *err)
{
    obs_error_reset(err, 0, NULL);
    int rc = obs_check_record(obs, err);
    if (rc != 0) {
        return rc;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    if (obs->op == OBS_DELETE) {
        msgpack_pack_map(&pk, 2);
        s_pack_cstr(&pk, "id");
        s_pack_cstr(&pk, obs->id);
        s_pack_cstr(&pk, "op");
        s_pack_cstr(&pk, "delete");
        return 0;
    }
    bool truth = obs->truth_campaign || obs->truth_identity || obs->truth_actor;
    size_t n = 6 + (obs->ja4 != NULL) + obs->has_kd + truth + (obs->n_fps > 0) + (obs->n_at > 0) +
               (obs->op == OBS_APPEND);
    msgpack_pack_map(&pk, n);
    if (obs->n_at > 0) {
        s_pack_cstr(&pk, "append_at");
        msgpack_pack_map(&pk, obs->n_at);
        for (size_t i = 0; i < obs->n_at; i++) {
            s_pack_cstr(&pk, obs->at[i].field);
            if (isinf(obs->at[i].at)) {
                msgpack_pack_nil(&pk);
            } else {
                msgpack_pack_double(&pk, obs->at[i].at);
            }
        }
    }
    s_pack_cstr(&pk, "asn");
    if (obs->has_asn) {
        msgpack_pack_int64(&pk, obs->asn);
    } else {
        msgpack_pack_nil(&pk);
    }
    if (obs->n_fps > 0) {
        s_pack_cstr(&pk, "fingerprints");
        msgpack_pack_map(&pk, obs->n_fps);
        for (size_t i = 0; i < obs->n_fps; i++) {
            s_pack_cstr(&pk, obs->fps[i].kind);
            s_pack_cstr(&pk, obs->fps[i].value);
        }
    }
    s_pack_cstr(&pk, "hassh");
    s_pack_opt(&pk, obs->hassh);
    s_pack_cstr(&pk, "id");
    s_pack_cstr(&pk, obs->id);
    s_pack_cstr(&pk, "ip");
    s_pack_opt(&pk, obs->ip);
    s_pack_cstr(&pk, "ja3");
    s_pack_opt(&pk, obs->ja3);
    if (obs->ja4) {
        s_pack_cstr(&pk, "ja4");
        s_pack_cstr(&pk, obs->ja4);
    }
    if (obs->has_kd) {
        char hex[17];
        obs_format_simhash(obs->kd_simhash, hex);
        s_pack_cstr(&pk, "kd_simhash");
        s_pack_cstr(&pk, hex);
    }
    if (obs->op == OBS_APPEND) {
        s_pack_cstr(&pk, "op");
        s_pack_cstr(&pk, "append");
    }
    s_pack_cstr(&pk, "sessions");
    msgpack_pack_array(&pk, obs->n_sessions);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        s_pack_session(&pk, &obs->sessions[i]);
    }
    if (truth) {
        s_pack_cstr(&pk, "truth");
        msgpack_pack_map(&pk, 3);
        s_pack_cstr(&pk, "actor");
        s_pack_opt(&pk, obs->truth_actor);
        s_pack_cstr(&pk, "campaign");
        s_pack_opt(&pk, obs->truth_campaign);
        s_pack_cstr(&pk, "identity");
        s_pack_opt(&pk, obs->truth_identity);
    }
    return 0;
}

int
wire_assign_encode(const assign_t *rec, wire_buf_t *buf, obs_error_t *err)
{
    obs_error_reset(err, 0, NULL);
    int rc = assign_check(rec, err);
    if (rc != 0) {
        return rc;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, s_write);
    msgpack_pack_map(&pk, 3);
    s_pack_cstr(&pk, "campaign");
    s_pack_opt(&pk, rec->campaign);
    s_pack_cstr(&pk, "id");
    s_pack_cstr(&pk, rec->id);
    s_pack_cstr(&pk, "identity");
    s_pack_opt(&pk, rec->identity);
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Events and records: encoding */

/*  A packer for events and records. Their strings come from the engine, not from a record
    that was checked on the way in, so each is checked as it is packed (valid UTF-8, finite
    times) and the caller drops the whole message if one was not. */
typedef struct {
    msgpack_packer pk; /* appends to the caller's buffer */
    bool ok;           /* every value packed so far was valid */
} s_rpk_t;

static void
s_rpk_init(s_rpk_t *p, wire_buf_t *buf)
{
    msgpack_packer_init(&p->pk, buf, s_write);
    p->ok = true;
}

/*  True when the NUL-terminated s is valid UTF-8. */
static bool
s_utf8_ok(const char *s)
{
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = obs_utf8_next(s + i, len - i, &cp);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/*  Packs a string value (NULL as nil), checking it. */
static void
s_rpk_text(s_rpk_t *p, const char *s)
{
    if (s && !s_utf8_ok(s)) {
        p->ok = false;
    }
    s_pack_opt(&p->pk, s);
}

/*  Packs a time as float64, or nil when !has, checking it is finite. */
static void
s_rpk_time(s_rpk_t *p, bool has, double t)
{
    if (!has) {
        msgpack_pack_nil(&p->pk);
        return;
    }
    if (!isfinite(t)) {
        p->ok = false;
    }
    msgpack_pack_double(&p->pk, t);
}

/*  Packs an array of n non-NULL strings. */
static void
s_rpk_texts(s_rpk_t *p, const char *const *v, size_t n)
{
    msgpack_pack_array(&p->pk, n);
    for (size_t i = 0; i < n; i++) {
        assert(v[i]);
        s_rpk_text(p, v[i]);
    }
}

/*  Packs a key and an unsigned count. */
static void
s_rpk_count(s_rpk_t *p, const char *key, uint64_t v)
{
    s_pack_cstr(&p->pk, key);
    msgpack_pack_uint64(&p->pk, v);
}

/*  Packs a key and a string list. */
static void
s_rpk_strs(s_rpk_t *p, const char *key, const rec_strs_t *strs)
{
    s_pack_cstr(&p->pk, key);
    s_rpk_texts(p, strs->v, strs->n);
}

/*  Bytes MessagePack takes for a str of n bytes (header and body). */
static size_t
s_str_size(size_t n)
{
    return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

/*  One payload member of an event, as its key sorts. */
typedef struct {
    const char *key;          /* payload key */
    const char *value;        /* string value (NULL = nil), when !is_list */
    const char *const *items; /* member ids, when is_list */
    size_t n;                 /* number of member ids */
    bool is_list;             /* the member list */
} s_pl_t;

/*  Fills pl with ev's payload members in key order; returns how many. */
static size_t
s_payload_of(const ev_t *ev, s_pl_t pl[4])
{
    const char *sk = NULL;
    const char *ok = NULL;
    const char *pk = NULL;
    const char *mk = NULL;
    ev_keys(ev->kind, &sk, &ok, &pk, &mk);
    size_t n = 0;
    pl[n++] = (s_pl_t){.key = sk, .value = ev->subject};
    if (ok) {
        assert(ev->object);
        pl[n++] = (s_pl_t){.key = ok, .value = ev->object};
    }
    if (pk) {
        pl[n++] = (s_pl_t){.key = pk, .value = ev->prior};
    }
    if (mk) {
        assert(ev->members || ev->n_members == 0);
        pl[n++] = (s_pl_t){.key = mk, .items = ev->members, .n = ev->n_members, .is_list = true};
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(pl[j - 1].key, pl[j].key) > 0; j--) {
            s_pl_t t = pl[j];
            pl[j] = pl[j - 1];
            pl[j - 1] = t;
        }
    }
    return n;
}

size_t
wire_event_members_fit(const ev_t *ev)
{
    s_pl_t pl[4];
    size_t npl = s_payload_of(ev, pl);
    const s_pl_t *members = NULL;
    /*  Everything but the member strings: both map headers (fixmaps), the envelope's keys
        and values, the payload's keys and strings, and the largest array header the
        member list can need (array16, as WIRE_EVENT_MAX_MEMBERS < 65536). */
    size_t size = 1 + s_str_size(2) + s_str_size(strlen(ev->id)) + s_str_size(7) + 1 +
                  s_str_size(5) + s_str_size(strlen(ev_topic(ev->kind))) + s_str_size(2) + 9 +
                  s_str_size(4) + s_str_size(strlen(ev_type(ev->kind))) + s_str_size(1) + 1;
    for (size_t i = 0; i < npl; i++) {
        size += s_str_size(strlen(pl[i].key));
        if (pl[i].is_list) {
            members = &pl[i];
            size += 3;
        } else {
            size += pl[i].value ? s_str_size(strlen(pl[i].value)) : 1;
        }
    }
    if (!members) {
        return 0;
    }
    size_t k = 0;
    while (k < members->n && k < WIRE_EVENT_MAX_MEMBERS) {
        size_t add = s_str_size(strlen(members->items[k]));
        if (size + add > WIRE_EVENT_MAX_BYTES) {
            break;
        }
        size += add;
        k++;
    }
    return k;
}

int
wire_event_encode(const ev_t *ev, wire_buf_t *buf)
{
    assert(ev && ev->id && ev->subject && (size_t)ev->kind < (size_t)EV_KIND_COUNT);
    s_pl_t pl[4];
    size_t npl = s_payload_of(ev, pl);
    for (size_t i = 0; i < npl; i++) {
        if (pl[i].is_list && pl[i].n > wire_event_members_fit(ev)) {
            return CADRE_ELIMIT;
        }
    }
    size_t start = buf->len;
    s_rpk_t p;
    s_rpk_init(&p, buf);
    msgpack_pack_map(&p.pk, 6);
    s_pack_cstr(&p.pk, "id");
    s_rpk_text(&p, ev->id);
    s_pack_cstr(&p.pk, "payload");
    msgpack_pack_map(&p.pk, npl);
    for (size_t i = 0; i < npl; i++) {
        s_pack_cstr(&p.pk, pl[i].key);
        if (pl[i].is_list) {
            s_rpk_texts(&p, pl[i].items, pl[i].n);
        } else {
            s_rpk_text(&p, pl[i].value);
        }
    }
    s_pack_cstr(&p.pk, "topic");
    s_pack_cstr(&p.pk, ev_topic(ev->kind));
    s_pack_cstr(&p.pk, "ts");
    s_rpk_time(&p, true, ev->ts);
    s_pack_cstr(&p.pk, "type");
    s_pack_cstr(&p.pk, ev_type(ev->kind));
    s_pack_cstr(&p.pk, "v");
    msgpack_pack_uint32(&p.pk, WIRE_EVENT_VERSION);
    if (!p.ok) {
        buf->len = start;
        return CADRE_ERECORD;
    }
    assert(buf->len - start <= WIRE_EVENT_MAX_BYTES);
    return 0;
}

int
wire_identity_encode(const rec_identity_t *rec, wire_buf_t *buf)
{
    assert(rec && rec->id);
    size_t start = buf->len;
    s_rpk_t p;
    s_rpk_init(&p, buf);
    msgpack_pack_map(&p.pk, 13);
    s_rpk_strs(&p, "c2_endpoints", &rec->c2s);
    s_pack_cstr(&p.pk, "campaign");
    s_rpk_text(&p, rec->campaign);
    s_pack_cstr(&p.pk, "first_seen");
    s_rpk_time(&p, rec->has_seen, rec->first_seen);
    s_rpk_count(&p, "formed_seq", rec->formed_seq);
    s_rpk_strs(&p, "hassh_hashes", &rec->hasshs);
    s_pack_cstr(&p.pk, "id");
    s_rpk_text(&p, rec->id);
    s_rpk_strs(&p, "ja3_hashes", &rec->ja3s);
    s_rpk_strs(&p, "ja4_hashes", &rec->ja4s);
    s_pack_cstr(&p.pk, "kd_simhash");
    if (rec->has_kd) {
        char hex[17];
        obs_format_simhash(rec->kd, hex);
        s_pack_cstr(&p.pk, hex);
    } else {
        msgpack_pack_nil(&p.pk);
    }
    s_pack_cstr(&p.pk, "last_seen");
    s_rpk_time(&p, rec->has_seen, rec->last_seen);
    s_pack_cstr(&p.pk, "merged_into");
    s_rpk_text(&p, rec->merged_into);
    s_rpk_count(&p, "observation_count", rec->observations);
    s_rpk_strs(&p, "payload_hashes", &rec->payloads);
    if (!p.ok) {
        buf->len = start;
        return CADRE_ERECORD;
    }
    return 0;
}

int
wire_campaign_encode(const rec_campaign_t *rec, wire_buf_t *buf)
{
    assert(rec && rec->id);
    size_t start = buf->len;
    s_rpk_t p;
    s_rpk_init(&p, buf);
    msgpack_pack_map(&p.pk, 11);
    s_rpk_strs(&p, "c2_endpoints", &rec->c2s);
    s_rpk_strs(&p, "deckies", &rec->deckies);
    s_pack_cstr(&p.pk, "first_seen");
    s_rpk_time(&p, rec->has_seen, rec->first_seen);
    s_rpk_count(&p, "formed_seq", rec->formed_seq);
    s_pack_cstr(&p.pk, "id");
    s_rpk_text(&p, rec->id);
    s_rpk_count(&p, "identity_count", rec->identities);
    s_pack_cstr(&p.pk, "last_seen");
    s_rpk_time(&p, rec->has_seen, rec->last_seen);
    s_pack_cstr(&p.pk, "merged_into");
    s_rpk_text(&p, rec->merged_into);
    s_rpk_count(&p, "observation_count", rec->observations);
    s_rpk_strs(&p, "payload_hashes", &rec->payloads);
    s_pack_cstr(&p.pk, "phases");
    msgpack_pack_array(&p.pk, rec->n_phases);
    for (size_t i = 0; i < rec->n_phases; i++) {
        const rec_phase_t *ph = &rec->phases[i];
        const char *name = ukc_phase_name(ph->phase);
        msgpack_pack_map(&p.pk, 3);
        s_pack_cstr(&p.pk, "first_seen");
        s_rpk_time(&p, true, ph->first);
        s_pack_cstr(&p.pk, "phase");
        s_pack_opt(&p.pk, name);
        s_pack_cstr(&p.pk, "stage");
        s_pack_opt(&p.pk, name ? ukc_stage_name(ukc_stage_of(ph->phase)) : NULL);
        if (!name) {
            p.ok = false;
        }
    }
    if (!p.ok) {
        buf->len = start;
        return CADRE_ERECORD;
    }
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Events: decoding */

/*  Fails on the first key of map (at path) that is not one of the n names in keys; the
    keys are known to be strings (s_lookup ran first). */
static int
s_only_keys(const msgpack_object *map, const char *path, const char *const *keys, size_t n,
            obs_error_t *err)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_str *key = &map->via.map.ptr[i].key.via.str;
        bool known = false;
        for (size_t k = 0; k < n && !known; k++) {
            known = strlen(keys[k]) == key->size && memcmp(keys[k], key->ptr, key->size) == 0;
        }
        if (!known) {
            char f[192];
            s_join(f, sizeof f, path, key->ptr, key->size);
            return obs_error_field(err, f, "unknown key");
        }
    }
    return 0;
}

/*  Reads a member that must be present: a string, or (nullable) also nil. */
static int
s_member_string(const msgpack_object *o, size_t max, bool nullable, char **out, obs_error_t *err,
                const char *field)
{
    if (!o) {
        return obs_error_field(err, field, "required field is missing");
    }
    if (nullable) {
        return s_opt_string(o, max, out, err, field);
    }
    return s_req_string(o, max, out, err, field);
}

/*  Reads the payload's member list into ev. */
static int
s_event_members(const msgpack_object *o, wire_event_t *ev, obs_error_t *err, const char *field)
{
    if (!o) {
        return obs_error_field(err, field, "required field is missing");
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        return s_type_error(err, field, "an array of strings", o);
    }
    size_t n = o->via.array.size;
    if (n > WIRE_EVENT_MAX_MEMBERS) {
        obs_error_field(err, field, "%zu members exceed the limit of %d", n,
                        WIRE_EVENT_MAX_MEMBERS);
        return CADRE_ELIMIT;
    }
    if (n == 0) {
        return 0;
    }
    ev->members = xcalloc(n, sizeof *ev->members);
    ev->n_members = n;
    for (size_t i = 0; i < n; i++) {
        int rc = s_req_string(&o->via.array.ptr[i], OBS_MAX_ID, &ev->members[i], err, "");
        if (rc != 0) {
            obs_error_nest(err, "%s[%zu]", field, i);
            return rc;
        }
    }
    return 0;
}

/*  Reads the payload map: exactly the keys of ev->kind. */
static int
s_event_payload(const msgpack_object *o, wire_event_t *ev, obs_error_t *err)
{
    if (!o) {
        return obs_error_field(err, "payload", "required field is missing");
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        return s_type_error(err, "payload", "a map", o);
    }
    const char *keys[4] = {NULL, NULL, NULL, NULL}; /* subject, object, prior, members */
    ev_keys(ev->kind, &keys[0], &keys[1], &keys[2], &keys[3]);
    const char *names[4];
    size_t n = 0;
    for (size_t k = 0; k < 4; k++) {
        if (keys[k]) {
            names[n++] = keys[k];
        }
    }
    const msgpack_object *v[4];
    int rc = 0;
    if ((rc = s_lookup(o, "payload", names, n, v, err)) ||
        (rc = s_only_keys(o, "payload", names, n, err))) {
        return rc;
    }
    for (size_t k = 0; k < n; k++) {
        char field[96];
        snprintf(field, sizeof field, "payload.%s", names[k]);
        if (names[k] == keys[3]) {
            ev->members_key = keys[3];
            rc = s_event_members(v[k], ev, err, field);
        } else {
            wire_field_t *f = &ev->fields[ev->n_fields++];
            f->key = names[k];
            rc = s_member_string(v[k], OBS_MAX_ID, names[k] == keys[2], &f->value, err, field);
        }
        if (rc != 0) {
            return rc;
        }
    }
    /*  Key order, as the encoders write them (at most three fields). */
    for (size_t i = 1; i < ev->n_fields; i++) {
        for (size_t j = i; j > 0 && strcmp(ev->fields[j - 1].key, ev->fields[j].key) > 0; j--) {
            wire_field_t t = ev->fields[j];
            ev->fields[j] = ev->fields[j - 1];
            ev->fields[j - 1] = t;
        }
    }
    return 0;
}

/*  Envelope keys, in the order they are checked. */
enum { S_EV_V, S_EV_ID, S_EV_TOPIC, S_EV_TYPE, S_EV_TS, S_EV_PAYLOAD, S_EV_NKEYS };

static int
s_event_from(const msgpack_object *root, wire_event_t *ev, obs_error_t *err)
{
    static const char *const keys[S_EV_NKEYS] = {"v", "id", "topic", "type", "ts", "payload"};
    const msgpack_object *v[S_EV_NKEYS];
    int rc = s_lookup(root, "", keys, S_EV_NKEYS, v, err);
    if (rc != 0) {
        return rc;
    }
    /*  The version first: another version may have other keys. */
    const msgpack_object *ver = v[S_EV_V];
    if (!ver) {
        return obs_error_field(err, "v", "required field is missing");
    }
    if (ver->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        return s_type_error(err, "v", "an integer", ver);
    }
    if (ver->via.u64 != WIRE_EVENT_VERSION) {
        return obs_error_field(err, "v", "unsupported envelope version %" PRIu64 " (expected %d)",
                               ver->via.u64, WIRE_EVENT_VERSION);
    }
    ev->v = WIRE_EVENT_VERSION;
    if ((rc = s_only_keys(root, "", keys, S_EV_NKEYS, err)) ||
        (rc = s_member_string(v[S_EV_ID], OBS_MAX_ID, false, &ev->id, err, "id")) ||
        (rc = s_member_string(v[S_EV_TOPIC], OBS_MAX_SHORT, false, &ev->topic, err, "topic"))) {
        return rc;
    }
    int kind = 0;
    while (kind < EV_KIND_COUNT && strcmp(ev_topic((ev_kind_t)kind), ev->topic) != 0) {
        kind++;
    }
    if (kind == EV_KIND_COUNT) {
        return obs_error_field(err, "topic", "unknown topic '%.64s'", ev->topic);
    }
    ev->kind = (ev_kind_t)kind;
    if ((rc = s_member_string(v[S_EV_TYPE], OBS_MAX_SHORT, false, &ev->type, err, "type"))) {
        return rc;
    }
    if (strcmp(ev->type, ev_type(ev->kind)) != 0) {
        return obs_error_field(err, "type", "type '%.64s' does not match topic %s (expected '%s')",
                               ev->type, ev->topic, ev_type(ev->kind));
    }
    bool present = false;
    if ((rc = s_number(v[S_EV_TS], false, &ev->ts, &present, err, "ts"))) {
        return rc;
    }
    if (!present) {
        return v[S_EV_TS] ? s_type_error(err, "ts", "a number", v[S_EV_TS])
                          : obs_error_field(err, "ts", "required field is missing");
    }
    return s_event_payload(v[S_EV_PAYLOAD], ev, err);
}

/*  Copies a decoding error into the caller's buffer as "field 'f': message". */
static void
s_event_error(const obs_error_t *e, char *err, size_t errlen)
{
    if (!err || errlen == 0) {
        return;
    }
    if (e->field[0]) {
        snprintf(err, errlen, "field '%s': %s", e->field, e->message);
    } else {
        snprintf(err, errlen, "%s", e->message);
    }
}

int
wire_event_decode(const char *data, size_t len, wire_event_t **out, char *err, size_t errlen)
{
    obs_error_t e;
    obs_error_reset(&e, 0, NULL);
    if (len > WIRE_EVENT_MAX_BYTES) {
        obs_error_field(&e, "", "message of %zu bytes is over the limit of %u bytes", len,
                        WIRE_EVENT_MAX_BYTES);
        s_event_error(&e, err, errlen);
        return CADRE_ELIMIT;
    }
    msgpack_unpacked up;
    int rc = s_unpack(data, len, &up, &e);
    if (rc != 0) {
        s_event_error(&e, err, errlen);
        return rc;
    }
    wire_event_t *ev = xcalloc(1, sizeof *ev);
    rc = s_event_from(&up.data, ev, &e);
    msgpack_unpacked_destroy(&up);
    if (rc != 0) {
        wire_event_free(&ev);
        s_event_error(&e, err, errlen);
        return rc;
    }
    *out = ev;
    return 0;
}

void
wire_event_free(wire_event_t **ev_p)
{
    assert(ev_p);
    wire_event_t *ev = *ev_p;
    if (!ev) {
        return;
    }
    free(ev->id);
    free(ev->topic);
    free(ev->type);
    for (size_t i = 0; i < ev->n_fields; i++) {
        free(ev->fields[i].value);
    }
    for (size_t i = 0; i < ev->n_members; i++) {
        free(ev->members[i]);
    }
    free(ev->members);
    free(ev);
    *ev_p = NULL;
}
