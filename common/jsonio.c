/*  jsonio.c - JSON codec of observations and assignments (see jsonio.h).

    Observations are decoded by simdjson first (jsonio_simd.cpp), which accepts only what
    the jansson decoder below accepts identically and declines the rest to it. Decoding
    parses with jansson (rejecting duplicate keys and invalid UTF-8, allowing
    "\u0000" through so that the NUL rule reports the field it is in) and walks the tree in a
    fixed field order, so a record with several faults always reports the same one. Encoding
    does not go through jansson: its number and escape formats differ from Python's, and
    the output must match the generator's text byte for byte. Events and records (records.h)
    share the emitter; the emitter notes any value it cannot write faithfully (invalid
    UTF-8, a non-finite time) and their encoders then drop the text.
*/
#include "jsonio.h"

#include "err.h"
#include "jsonio_simd.h"
#include "xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*  --------------------------------------------------------------------------------------
    Decoding */

/*  Parse flags: any top-level value (so a non-object gets our own message), duplicate keys
    rejected (which one would win is not obvious), NUL allowed (reported per field later). */
#define S_LOAD_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/*  "an object", "a string", ... for type error messages. */
static const char *
s_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

static int
s_type_error(obs_error_t *err, const char *field, const char *expected, const json_t *v)
{
    return obs_error_field(err, field, "expected %s, got %s", expected, s_type_name(v));
}

/*  Turns a jansson parse error into a record error. */
static int
s_syntax_error(obs_error_t *err, const json_error_t *jerr)
{
    obs_error_set(err, err->record, NULL, "", "invalid JSON at column %d: %s", jerr->column,
                  jerr->text);
    return json_error_code(jerr) == json_error_premature_end_of_input ? CADRE_ETRUNC
                                                                      : CADRE_ERECORD;
}

/*  Reads an optional string member (absent or null = NULL) of at most max bytes. */
static int
s_opt_string(const json_t *v, size_t max, char **out, obs_error_t *err, const char *field)
{
    if (!v || json_is_null(v)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v)) {
        return s_type_error(err, field, "a string or null", v);
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    int rc = obs_check_string(s, len, max, err, field);
    if (rc != 0) {
        return rc;
    }
    *out = xstrndup(s, len);
    return 0;
}

/*  Reads a required string element (null is a type error). */
static int
s_req_string(const json_t *v, size_t max, char **out, obs_error_t *err, const char *field)
{
    if (!json_is_string(v)) {
        return s_type_error(err, field, "a string", v);
    }
    return s_opt_string(v, max, out, err, field);
}

/*  Reads a number member: integers and reals are accepted, the value must be finite (and
    not negative when nonneg). *present is false when the member is absent or null. */
static int
s_number(const json_t *v, bool nonneg, double *out, bool *present, obs_error_t *err,
         const char *field)
{
    *present = false;
    if (!v || json_is_null(v)) {
        return 0;
    }
    double d = 0;
    if (json_is_integer(v)) {
        d = (double)json_integer_value(v);
    } else if (json_is_real(v)) {
        d = json_real_value(v);
    } else {
        return s_type_error(err, field, "a number", v);
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
s_kd_simhash(const json_t *v, obs_t *obs, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (json_is_string(v)) {
        int rc = obs_check_simhash(json_string_value(v), json_string_length(v), &obs->kd_simhash,
                                   err, "kd_simhash");
        obs->has_kd = rc == 0;
        return rc;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) {
            return obs_error_field(err, "kd_simhash", "integer %" PRId64 " is negative",
                                   (int64_t)i);
        }
        obs->kd_simhash = (uint64_t)i;
        obs->has_kd = true;
        return 0;
    }
    return s_type_error(err, "kd_simhash", "a string of 16 hex digits, an integer or null", v);
}

static int
s_truth(const json_t *v, obs_t *obs, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_object(v)) {
        return s_type_error(err, "truth", "an object or null", v);
    }
    int rc = 0;
    if ((rc = s_opt_string(json_object_get(v, "campaign"), OBS_MAX_SHORT, &obs->truth_campaign, err,
                           "truth.campaign")) ||
        (rc = s_opt_string(json_object_get(v, "identity"), OBS_MAX_SHORT, &obs->truth_identity, err,
                           "truth.identity")) ||
        (rc = s_opt_string(json_object_get(v, "actor"), OBS_MAX_SHORT, &obs->truth_actor, err,
                           "truth.actor"))) {
        return rc;
    }
    return 0;
}

/*  The session walkers below name fields relative to the session ("phase", "commands[2]")
    and s_sessions() nests them under "sessions[i]" only when an error occurs, so the happy
    path formats no paths at all. */

static int
s_commands(const json_t *v, obs_session_t *s, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v)) {
        return s_type_error(err, "commands", "an array of strings or null", v);
    }
    size_t n = json_array_size(v);
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
        int rc = s_req_string(json_array_get(v, i), OBS_MAX_TEXT, &s->commands[i], err, "");
        if (rc != 0) {
            obs_error_nest(err, "commands[%zu]", i);
            return rc;
        }
    }
    return 0;
}

/*  Reads one [user, password] pair; fields are named relative to it ("", "[1]"). */
static int
s_cred_pair(const json_t *pair, obs_cred_t *cred, obs_error_t *err)
{
    if (!json_is_array(pair)) {
        return s_type_error(err, "", "a [user, password] array", pair);
    }
    size_t n = json_array_size(pair);
    if (n != 2) {
        return obs_error_field(err, "", "expected a [user, password] pair, got %zu element%s", n,
                               n == 1 ? "" : "s");
    }
    int rc = 0;
    if ((rc = s_req_string(json_array_get(pair, 0), OBS_MAX_TEXT, &cred->user, err, "[0]")) ||
        (rc = s_req_string(json_array_get(pair, 1), OBS_MAX_TEXT, &cred->pass, err, "[1]"))) {
        return rc;
    }
    return 0;
}

static int
s_credentials(const json_t *v, obs_session_t *s, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v)) {
        return s_type_error(err, "credentials", "an array of [user, password] pairs or null", v);
    }
    size_t n = json_array_size(v);
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
        int rc = s_cred_pair(json_array_get(v, i), &s->creds[i], err);
        if (rc != 0) {
            obs_error_nest(err, "credentials[%zu]", i);
            return rc;
        }
    }
    return 0;
}

static int
s_session(const json_t *v, obs_session_t *s, obs_error_t *err)
{
    if (!json_is_object(v)) {
        return s_type_error(err, "", "an object", v);
    }
    int rc = 0;
    if ((rc = s_opt_string(json_object_get(v, "id"), OBS_MAX_ID, &s->id, err, "id")) ||
        (rc = s_opt_string(json_object_get(v, "decky"), OBS_MAX_SHORT, &s->decky, err, "decky"))) {
        return rc;
    }
    const json_t *phase = json_object_get(v, "phase");
    if (!phase || json_is_null(phase)) {
        return obs_error_field(err, "phase", "required field is missing");
    }
    if (!json_is_string(phase)) {
        return s_type_error(err, "phase", "a string", phase);
    }
    if ((rc = obs_check_phase(json_string_value(phase), json_string_length(phase), &s->phase, err,
                              "phase"))) {
        return rc;
    }
    bool present = false;
    if ((rc = s_number(json_object_get(v, "start"), false, &s->start, &present, err, "start"))) {
        return rc;
    }
    if (!present) {
        return obs_error_field(err, "start", "required field is missing");
    }
    if ((rc = s_number(json_object_get(v, "duration"), true, &s->duration, &present, err,
                       "duration")) ||
        (rc = s_commands(json_object_get(v, "commands"), s, err)) ||
        (rc = s_credentials(json_object_get(v, "credentials"), s, err)) ||
        (rc = s_opt_string(json_object_get(v, "payload_hash"), OBS_MAX_SHORT, &s->payload_hash, err,
                           "payload_hash")) ||
        (rc = s_opt_string(json_object_get(v, "c2"), OBS_MAX_SHORT, &s->c2, err, "c2"))) {
        return rc;
    }
    return 0;
}

static int
s_sessions(const json_t *v, obs_t *obs, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v)) {
        return s_type_error(err, "sessions", "an array or null", v);
    }
    size_t n = json_array_size(v);
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
        int rc = s_session(json_array_get(v, i), &obs->sessions[i], err);
        if (rc != 0) {
            obs_error_nest(err, "sessions[%zu]", i);
            return rc;
        }
    }
    return 0;
}

/*  Reads the required, non-empty "id" member of a record object into *out. */
static int
s_record_id(const json_t *root, size_t max, char **out, obs_error_t *err)
{
    const json_t *v = json_object_get(root, "id");
    if (!v || json_is_null(v)) {
        return obs_error_set(err, err->record, NULL, "id", "required field is missing");
    }
    if (!json_is_string(v)) {
        return s_type_error(err, "id", "a string", v);
    }
    if (json_string_length(v) == 0) {
        return obs_error_set(err, err->record, NULL, "id", "must not be empty");
    }
    int rc = s_opt_string(v, max, out, err, "id");
    if (rc == 0) {
        obs_error_reset(err, err->record, *out);
    }
    return rc;
}

/*  Reads the "op" member: absent or null means upsert. */
static int
s_op(const json_t *v, obs_op_t *out, obs_error_t *err)
{
    *out = OBS_UPSERT;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return s_type_error(err, "op", "\"upsert\", \"append\", \"delete\" or null", v);
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
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
                           "unknown op '%.40s' (expected \"upsert\", \"append\" or \"delete\")", s);
}

/*  Reads "fingerprints": null, or an object of kind -> string (null values are absent). */
static int
s_fingerprints(const json_t *v, obs_t *obs, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_object(v)) {
        return s_type_error(err, "fingerprints", "an object or null", v);
    }
    if (json_object_size(v) > OBS_MAX_FPS) {
        return obs_error_field(err, "fingerprints", "%zu fingerprints exceed the limit of %d",
                               json_object_size(v), OBS_MAX_FPS);
    }
    const char *kind;
    json_t *val;
    json_object_foreach((json_t *)v, kind, val)
    {
        char field[64];
        snprintf(field, sizeof field, "fingerprints.%.32s", kind);
        int rc = obs_check_fp_kind(kind, strlen(kind), err, "fingerprints");
        char *value = NULL;
        rc = rc ? rc : s_opt_string(val, OBS_MAX_FINGERPRINT, &value, err, field);
        if (rc != 0) {
            return rc;
        }
        if (value) {
            obs_fp_set(obs, kind, value);
            free(value);
        }
    }
    return 0;
}

/*  Reads "append_at": null, or an object of field -> number or null (null: no session). */
static int
s_append_at(const json_t *v, obs_t *obs, obs_error_t *err)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_object(v)) {
        return s_type_error(err, "append_at", "an object or null", v);
    }
    if (json_object_size(v) > OBS_MAX_FPS + 8) {
        return obs_error_field(err, "append_at", "%zu entries exceed the limit of %d",
                               json_object_size(v), OBS_MAX_FPS + 8);
    }
    const char *field;
    json_t *val;
    json_object_foreach((json_t *)v, field, val)
    {
        int rc = obs_check_at_field(field, strlen(field), err, "append_at");
        if (rc != 0) {
            return rc;
        }
        double at = INFINITY;
        if (json_is_number(val)) {
            at = json_number_value(val);
            if ((rc = obs_check_number(at, false, err, "append_at"))) {
                return rc;
            }
        } else if (!json_is_null(val)) {
            return s_type_error(err, "append_at", "a number or null", val);
        }
        obs_at_set(obs, field, at);
    }
    return 0;
}

static int
s_obs_from(const json_t *root, obs_t *obs, obs_error_t *err)
{
    int rc = 0;
    if ((rc = s_record_id(root, OBS_MAX_ID, &obs->id, err)) ||
        (rc = s_op(json_object_get(root, "op"), &obs->op, err))) {
        return rc;
    }
    if (obs->op == OBS_DELETE) {
        return 0; /* a delete needs only its id; anything else in it is ignored */
    }
    if ((rc = s_opt_string(json_object_get(root, "ip"), OBS_MAX_SHORT, &obs->ip, err, "ip"))) {
        return rc;
    }
    const json_t *asn = json_object_get(root, "asn");
    if (asn && !json_is_null(asn)) {
        if (!json_is_integer(asn)) {
            return s_type_error(err, "asn", "an integer or null", asn);
        }
        obs->asn = (int64_t)json_integer_value(asn);
        obs->has_asn = true;
    }
    if ((rc = s_opt_string(json_object_get(root, "ja3"), OBS_MAX_FINGERPRINT, &obs->ja3, err,
                           "ja3")) ||
        (rc = s_opt_string(json_object_get(root, "ja4"), OBS_MAX_FINGERPRINT, &obs->ja4, err,
                           "ja4")) ||
        (rc = s_opt_string(json_object_get(root, "hassh"), OBS_MAX_FINGERPRINT, &obs->hassh, err,
                           "hassh")) ||
        (rc = s_kd_simhash(json_object_get(root, "kd_simhash"), obs, err)) ||
        (rc = s_truth(json_object_get(root, "truth"), obs, err)) ||
        (rc = s_sessions(json_object_get(root, "sessions"), obs, err)) ||
        (rc = s_fingerprints(json_object_get(root, "fingerprints"), obs, err)) ||
        (rc = s_append_at(json_object_get(root, "append_at"), obs, err))) {
        return rc;
    }
    return 0;
}

/*  Parses buf into an object tree; on failure fills err and returns the error code. */
static int
s_load_object(const char *buf, size_t len, json_t **root_p, obs_error_t *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, S_LOAD_FLAGS, &jerr);
    if (!root) {
        return s_syntax_error(err, &jerr);
    }
    if (!json_is_object(root)) {
        int rc = obs_error_set(err, err->record, NULL, "", "record is %s, not an object",
                               s_type_name(root));
        json_decref(root);
        return rc;
    }
    *root_p = root;
    return 0;
}

int
jsonio_obs_decode_jansson(const char *buf, size_t len, uint64_t record, obs_t **out,
                          obs_error_t *err)
{
    obs_error_reset(err, record, NULL);
    json_t *root = NULL;
    int rc = s_load_object(buf, len, &root, err);
    if (rc != 0) {
        return rc;
    }
    obs_t *obs = obs_new();
    rc = s_obs_from(root, obs, err);
    json_decref(root);
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

int
jsonio_obs_decode(const char *buf, size_t len, uint64_t record, obs_t **out, obs_error_t *err)
{
    /*  The simdjson walk vouches for the records jansson would accept identically; the
        rest (errors above all) are jansson's to decide and to word (jsonio_simd.h). */
    if (jsonio_simd_obs_decode(buf, len, false, record, out, err) == 0) {
        return 0;
    }
    return jsonio_obs_decode_jansson(buf, len, record, out, err);
}

int
jsonio_obs_decode_padded(const char *buf, size_t len, uint64_t record, obs_t **out,
                         obs_error_t *err)
{
    if (jsonio_simd_obs_decode(buf, len, true, record, out, err) == 0) {
        return 0;
    }
    return jsonio_obs_decode_jansson(buf, len, record, out, err);
}

#ifndef CADRE_HAVE_SIMDJSON
/*  Built without simdjson (CMake CADRE_SIMDJSON=OFF): jansson decodes every record. */
int
jsonio_simd_obs_decode(const char *buf, size_t len, bool padded, uint64_t record, obs_t **out,
                       obs_error_t *err)
{
    (void)buf;
    (void)len;
    (void)padded;
    (void)record;
    (void)out;
    (void)err;
    return JSONIO_SIMD_DECLINED;
}

bool
jsonio_simd_available(void)
{
    return false;
}
#endif

int
jsonio_assign_decode(const char *buf, size_t len, uint64_t record, assign_t *out, obs_error_t *err)
{
    memset(out, 0, sizeof *out);
    obs_error_reset(err, record, NULL);
    json_t *root = NULL;
    int rc = s_load_object(buf, len, &root, err);
    if (rc != 0) {
        return rc;
    }
    assign_t rec = {0};
    if ((rc = s_record_id(root, OBS_MAX_ID, &rec.id, err)) == 0 &&
        (rc = s_opt_string(json_object_get(root, "identity"), OBS_MAX_SHORT, &rec.identity, err,
                           "identity")) == 0) {
        rc = s_opt_string(json_object_get(root, "campaign"), OBS_MAX_SHORT, &rec.campaign, err,
                          "campaign");
    }
    json_decref(root);
    if (rc != 0) {
        assign_clear(&rec);
        return rc;
    }
    *out = rec;
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Encoding */

/*  A growing output string. */
typedef struct {
    char *data; /* bytes written, NUL-terminated once finished */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    bool bad;   /* a value could not be written faithfully (see s_put_string, s_put_time) */
} s_out_t;

static void
s_put(s_out_t *o, const char *s, size_t n)
{
    xgrow(&o->data, &o->cap, o->len + n + 1);
    memcpy(o->data + o->len, s, n);
    o->len += n;
}

static void
s_puts(s_out_t *o, const char *s)
{
    s_put(o, s, strlen(s));
}

/*  Writes a \uXXXX escape (lowercase hex, as Python does). */
static void
s_put_u(s_out_t *o, uint32_t u)
{
    char esc[16];
    snprintf(esc, sizeof esc, "\\u%04x", (unsigned)(u & 0xFFFF));
    s_put(o, esc, 6);
}

/*  Writes a JSON string as json.dumps(ensure_ascii=True) does: \" \\ \b \f \n \r \t, every
    other byte outside printable ASCII as \u escapes (UTF-16 surrogate pairs above U+FFFF).
    The string is valid UTF-8 (obs_check_record ran first); NULL is written as null. */
static void
s_put_string(s_out_t *o, const char *s)
{
    if (!s) {
        s_puts(o, "null");
        return;
    }
    s_put(o, "\"", 1);
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        /*  Copy the longest run of bytes that need no escape in one go. */
        size_t run = i;
        while (run < len && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x7F &&
               s[run] != '"' && s[run] != '\\') {
            run++;
        }
        if (run > i) {
            s_put(o, s + i, run - i);
            i = run;
            continue;
        }
        uint32_t cp = 0;
        size_t n = obs_utf8_next(s + i, len - i, &cp);
        if (n == 0) {
            cp = 0xFFFD; /* not UTF-8 (never in checked records): no raw bytes out */
            n = 1;
            o->bad = true;
        }
        i += n;
        switch (cp) {
        case '"':
            s_put(o, "\\\"", 2);
            break;
        case '\\':
            s_put(o, "\\\\", 2);
            break;
        case '\b':
            s_put(o, "\\b", 2);
            break;
        case '\f':
            s_put(o, "\\f", 2);
            break;
        case '\n':
            s_put(o, "\\n", 2);
            break;
        case '\r':
            s_put(o, "\\r", 2);
            break;
        case '\t':
            s_put(o, "\\t", 2);
            break;
        default:
            if (cp >= 0x10000) {
                cp -= 0x10000;
                s_put_u(o, 0xD800 | (cp >> 10));
                s_put_u(o, 0xDC00 | (cp & 0x3FF));
            } else {
                s_put_u(o, cp);
            }
            break;
        }
    }
    s_put(o, "\"", 1);
}

/*  Writes a finite double as Python's repr() does: the shortest digit string that reads
    back to the same bits, in fixed notation when the decimal exponent is in [-4, 16) (always
    with a fraction part, "1767225600.0"), otherwise as "1.5e+300" / "1e-05". */
static void
s_put_double(s_out_t *o, double v)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    /*  tmp is "[-]d[.ddd]e(+|-)XX": split it into sign, digits and exponent. */
    const char *p = tmp;
    bool neg = *p == '-';
    if (neg) {
        p++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++) {
        if (*p != '.') {
            digits[nd++] = *p;
        }
    }
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
    }
    char out[64];
    size_t k = 0;
    if (neg) {
        out[k++] = '-';
    }
    int decpt = exp10 + 1; /* digits before the decimal point */
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = 0; i < -decpt; i++) {
                out[k++] = '0';
            }
            memcpy(out + k, digits, nd);
            k += nd;
        } else if ((size_t)decpt >= nd) {
            memcpy(out + k, digits, nd);
            k += nd;
            for (size_t i = nd; i < (size_t)decpt; i++) {
                out[k++] = '0';
            }
            out[k++] = '.';
            out[k++] = '0';
        } else {
            memcpy(out + k, digits, (size_t)decpt);
            k += (size_t)decpt;
            out[k++] = '.';
            memcpy(out + k, digits + decpt, nd - (size_t)decpt);
            k += nd - (size_t)decpt;
        }
    } else {
        out[k++] = digits[0];
        if (nd > 1) {
            out[k++] = '.';
            memcpy(out + k, digits + 1, nd - 1);
            k += nd - 1;
        }
        k += (size_t)snprintf(out + k, sizeof out - k, "e%c%02d", exp10 < 0 ? '-' : '+',
                              exp10 < 0 ? -exp10 : exp10);
    }
    s_put(o, out, k);
}

/*  Writes `"key": ` (keys are plain ASCII) preceded by ", " unless first. */
static void
s_key(s_out_t *o, const char *key, bool *first)
{
    if (!*first) {
        s_put(o, ", ", 2);
    }
    *first = false;
    s_put(o, "\"", 1);
    s_puts(o, key);
    s_put(o, "\": ", 3);
}

static void
s_put_session(s_out_t *o, const obs_session_t *s)
{
    bool first = true;
    s_put(o, "{", 1);
    s_key(o, "c2", &first);
    s_put_string(o, s->c2);
    s_key(o, "commands", &first);
    s_put(o, "[", 1);
    for (size_t i = 0; i < s->n_commands; i++) {
        if (i > 0) {
            s_put(o, ", ", 2);
        }
        s_put_string(o, s->commands[i]);
    }
    s_put(o, "]", 1);
    s_key(o, "credentials", &first);
    s_put(o, "[", 1);
    for (size_t i = 0; i < s->n_creds; i++) {
        s_puts(o, i > 0 ? ", [" : "[");
        s_put_string(o, s->creds[i].user);
        s_put(o, ", ", 2);
        s_put_string(o, s->creds[i].pass);
        s_put(o, "]", 1);
    }
    s_put(o, "]", 1);
    s_key(o, "decky", &first);
    s_put_string(o, s->decky);
    s_key(o, "duration", &first);
    s_put_double(o, s->duration);
    s_key(o, "id", &first);
    s_put_string(o, s->id);
    s_key(o, "payload_hash", &first);
    s_put_string(o, s->payload_hash);
    s_key(o, "phase", &first);
    s_put_string(o, ukc_phase_name(s->phase));
    s_key(o, "start", &first);
    s_put_double(o, s->start);
    s_put(o, "}", 1);
}

/*  Hands the finished string to the caller. */
static int
s_finish(s_out_t *o, char **out_p, size_t *len_p)
{
    o->data[o->len] = '\0';
    *out_p = o->data;
    *len_p = o->len;
    return 0;
}

int
jsonio_obs_encode(const obs_t *obs, char **out_p, size_t *len_p, obs_error_t *err)
{
    obs_error_reset(err, 0, NULL);
    int rc = obs_check_record(obs, err);
    if (rc != 0) {
        return rc;
    }
    s_out_t o = {0};
    bool first = true;
    s_put(&o, "{", 1);
    if (obs->op == OBS_DELETE) {
        s_key(&o, "id", &first);
        s_put_string(&o, obs->id);
        s_key(&o, "op", &first);
        s_puts(&o, "\"delete\"}");
        return s_finish(&o, out_p, len_p);
    }
    if (obs->n_at > 0) {
        bool afirst = true;
        s_key(&o, "append_at", &first);
        s_put(&o, "{", 1);
        for (size_t i = 0; i < obs->n_at; i++) {
            s_key(&o, obs->at[i].field, &afirst);
            if (isinf(obs->at[i].at)) {
                s_puts(&o, "null");
            } else {
                s_put_double(&o, obs->at[i].at);
            }
        }
        s_put(&o, "}", 1);
    }
    s_key(&o, "asn", &first);
    if (obs->has_asn) {
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, obs->asn);
        s_puts(&o, num);
    } else {
        s_puts(&o, "null");
    }
    if (obs->n_fps > 0) {
        bool ffirst = true;
        s_key(&o, "fingerprints", &first);
        s_put(&o, "{", 1);
        for (size_t i = 0; i < obs->n_fps; i++) {
            s_key(&o, obs->fps[i].kind, &ffirst);
            s_put_string(&o, obs->fps[i].value);
        }
        s_put(&o, "}", 1);
    }
    s_key(&o, "hassh", &first);
    s_put_string(&o, obs->hassh);
    s_key(&o, "id", &first);
    s_put_string(&o, obs->id);
    s_key(&o, "ip", &first);
    s_put_string(&o, obs->ip);
    s_key(&o, "ja3", &first);
    s_put_string(&o, obs->ja3);
    if (obs->ja4) {
        s_key(&o, "ja4", &first);
        s_put_string(&o, obs->ja4);
    }
    if (obs->has_kd) {
        char hex[17];
        obs_format_simhash(obs->kd_simhash, hex);
        s_key(&o, "kd_simhash", &first);
        s_put_string(&o, hex);
    }
    if (obs->op == OBS_APPEND) {
        s_key(&o, "op", &first);
        s_puts(&o, "\"append\"");
    }
    s_key(&o, "sessions", &first);
    s_put(&o, "[", 1);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        if (i > 0) {
            s_put(&o, ", ", 2);
        }
        s_put_session(&o, &obs->sessions[i]);
    }
    s_put(&o, "]", 1);
    if (obs->truth_campaign || obs->truth_identity || obs->truth_actor) {
        bool tfirst = true;
        s_key(&o, "truth", &first);
        s_put(&o, "{", 1);
        s_key(&o, "actor", &tfirst);
        s_put_string(&o, obs->truth_actor);
        s_key(&o, "campaign", &tfirst);
        s_put_string(&o, obs->truth_campaign);
        s_key(&o, "identity", &tfirst);
        s_put_string(&o, obs->truth_identity);
        s_put(&o, "}", 1);
    }
    s_put(&o, "}", 1);
    return s_finish(&o, out_p, len_p);
}

int
jsonio_assign_encode(const assign_t *rec, char **out_p, size_t *len_p, obs_error_t *err)
{
    obs_error_reset(err, 0, NULL);
    int rc = assign_check(rec, err);
    if (rc != 0) {
        return rc;
    }
    s_out_t o = {0};
    bool first = true;
    s_put(&o, "{", 1);
    s_key(&o, "campaign", &first);
    s_put_string(&o, rec->campaign);
    s_key(&o, "id", &first);
    s_put_string(&o, rec->id);
    s_key(&o, "identity", &first);
    s_put_string(&o, rec->identity);
    s_put(&o, "}", 1);
    return s_finish(&o, out_p, len_p);
}

/*  --------------------------------------------------------------------------------------
    Events and records */

/*  Writes a time, or null when !has; a non-finite time marks the output bad (Python would
    write "NaN" or "Infinity", which is not JSON). */
static void
s_put_time(s_out_t *o, bool has, double t)
{
    if (!has) {
        s_puts(o, "null");
    } else if (!isfinite(t)) {
        o->bad = true;
        s_puts(o, "null");
    } else {
        s_put_double(o, t);
    }
}

static void
s_put_u64(s_out_t *o, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, v);
    s_puts(o, num);
}

/*  Writes an array of n non-NULL strings. */
static void
s_put_strings(s_out_t *o, const char *const *v, size_t n)
{
    s_put(o, "[", 1);
    for (size_t i = 0; i < n; i++) {
        assert(v[i]);
        if (i > 0) {
            s_put(o, ", ", 2);
        }
        s_put_string(o, v[i]);
    }
    s_put(o, "]", 1);
}

/*  Hands over the text, or drops it when a value was bad. */
static int
s_finish_checked(s_out_t *o, char **out_p, size_t *len_p)
{
    if (o->bad) {
        free(o->data);
        return CADRE_ERECORD;
    }
    return s_finish(o, out_p, len_p);
}

/*  One payload member of an event. */
typedef struct {
    const char *key;          /* payload key */
    const char *value;        /* string value (NULL = null), when !is_list */
    const char *const *items; /* member ids, when is_list */
    size_t n;                 /* number of member ids */
    bool is_list;             /* the member list */
} s_pl_t;

/*  Writes an event envelope; pl holds its n payload members in any order. Both the engine's
    events and decoded ones are written here, so they cannot drift apart. */
static void
s_put_event(s_out_t *o, const char *id, s_pl_t *pl, size_t n, const char *topic, double ts,
            const char *type, int v)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(pl[j - 1].key, pl[j].key) > 0; j--) {
            s_pl_t t = pl[j];
            pl[j] = pl[j - 1];
            pl[j - 1] = t;
        }
    }
    bool first = true;
    s_put(o, "{", 1);
    s_key(o, "id", &first);
    s_put_string(o, id);
    s_key(o, "payload", &first);
    bool pfirst = true;
    s_put(o, "{", 1);
    for (size_t i = 0; i < n; i++) {
        s_key(o, pl[i].key, &pfirst);
        if (pl[i].is_list) {
            s_put_strings(o, pl[i].items, pl[i].n);
        } else {
            s_put_string(o, pl[i].value);
        }
    }
    s_put(o, "}", 1);
    s_key(o, "topic", &first);
    s_put_string(o, topic);
    s_key(o, "ts", &first);
    s_put_time(o, true, ts);
    s_key(o, "type", &first);
    s_put_string(o, type);
    s_key(o, "v", &first);
    s_put_u64(o, (uint64_t)v);
    s_put(o, "}", 1);
}

int
jsonio_event_encode(const ev_t *ev, char **out_p, size_t *len_p)
{
    assert(ev && ev->id && ev->subject && (size_t)ev->kind < (size_t)EV_KIND_COUNT);
    const char *sk = NULL;
    const char *ok = NULL;
    const char *pk = NULL;
    const char *mk = NULL;
    ev_keys(ev->kind, &sk, &ok, &pk, &mk);
    if (mk && ev->n_members > wire_event_members_fit(ev)) {
        return CADRE_ELIMIT;
    }
    s_pl_t pl[4];
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
    s_out_t o = {0};
    s_put_event(&o, ev->id, pl, n, ev_topic(ev->kind), ev->ts, ev_type(ev->kind),
                WIRE_EVENT_VERSION);
    return s_finish_checked(&o, out_p, len_p);
}

int
jsonio_event_print(const wire_event_t *ev, char **out_p, size_t *len_p)
{
    s_pl_t pl[4];
    size_t n = 0;
    for (size_t i = 0; i < ev->n_fields && i < 3; i++) {
        pl[n++] = (s_pl_t){.key = ev->fields[i].key, .value = ev->fields[i].value};
    }
    if (ev->members_key) {
        pl[n++] = (s_pl_t){.key = ev->members_key,
                           .items = (const char *const *)ev->members,
                           .n = ev->n_members,
                           .is_list = true};
    }
    s_out_t o = {0};
    s_put_event(&o, ev->id, pl, n, ev->topic, ev->ts, ev->type, ev->v);
    return s_finish_checked(&o, out_p, len_p);
}

/*  Writes `"key": [strings]`. */
static void
s_key_strs(s_out_t *o, const char *key, const rec_strs_t *strs, bool *first)
{
    s_key(o, key, first);
    s_put_strings(o, strs->v, strs->n);
}

int
jsonio_identity_encode(const rec_identity_t *rec, char **out_p, size_t *len_p)
{
    assert(rec && rec->id);
    s_out_t o = {0};
    bool first = true;
    s_put(&o, "{", 1);
    s_key_strs(&o, "c2_endpoints", &rec->c2s, &first);
    s_key(&o, "campaign", &first);
    s_put_string(&o, rec->campaign);
    s_key(&o, "first_seen", &first);
    s_put_time(&o, rec->has_seen, rec->first_seen);
    s_key(&o, "formed_seq", &first);
    s_put_u64(&o, rec->formed_seq);
    s_key_strs(&o, "hassh_hashes", &rec->hasshs, &first);
    s_key(&o, "id", &first);
    s_put_string(&o, rec->id);
    s_key_strs(&o, "ja3_hashes", &rec->ja3s, &first);
    s_key_strs(&o, "ja4_hashes", &rec->ja4s, &first);
    s_key(&o, "kd_simhash", &first);
    if (rec->has_kd) {
        char hex[17];
        obs_format_simhash(rec->kd, hex);
        s_put_string(&o, hex);
    } else {
        s_puts(&o, "null");
    }
    s_key(&o, "last_seen", &first);
    s_put_time(&o, rec->has_seen, rec->last_seen);
    s_key(&o, "merged_into", &first);
    s_put_string(&o, rec->merged_into);
    s_key(&o, "observation_count", &first);
    s_put_u64(&o, rec->observations);
    s_key_strs(&o, "payload_hashes", &rec->payloads, &first);
    s_put(&o, "}", 1);
    return s_finish_checked(&o, out_p, len_p);
}

int
jsonio_campaign_encode(const rec_campaign_t *rec, char **out_p, size_t *len_p)
{
    assert(rec && rec->id);
    s_out_t o = {0};
    bool first = true;
    s_put(&o, "{", 1);
    s_key_strs(&o, "c2_endpoints", &rec->c2s, &first);
    s_key_strs(&o, "deckies", &rec->deckies, &first);
    s_key(&o, "first_seen", &first);
    s_put_time(&o, rec->has_seen, rec->first_seen);
    s_key(&o, "formed_seq", &first);
    s_put_u64(&o, rec->formed_seq);
    s_key(&o, "id", &first);
    s_put_string(&o, rec->id);
    s_key(&o, "identity_count", &first);
    s_put_u64(&o, rec->identities);
    s_key(&o, "last_seen", &first);
    s_put_time(&o, rec->has_seen, rec->last_seen);
    s_key(&o, "merged_into", &first);
    s_put_string(&o, rec->merged_into);
    s_key(&o, "observation_count", &first);
    s_put_u64(&o, rec->observations);
    s_key_strs(&o, "payload_hashes", &rec->payloads, &first);
    s_key(&o, "phases", &first);
    s_put(&o, "[", 1);
    for (size_t i = 0; i < rec->n_phases; i++) {
        const rec_phase_t *ph = &rec->phases[i];
        const char *name = ukc_phase_name(ph->phase);
        if (!name) {
            o.bad = true;
            break;
        }
        bool pfirst = true;
        s_puts(&o, i > 0 ? ", {" : "{");
        s_key(&o, "first_seen", &pfirst);
        s_put_time(&o, true, ph->first);
        s_key(&o, "phase", &pfirst);
        s_put_string(&o, name);
        s_key(&o, "stage", &pfirst);
        s_put_string(&o, ukc_stage_name(ukc_stage_of(ph->phase)));
        s_put(&o, "}", 1);
    }
    s_put(&o, "]}", 2);
    return s_finish_checked(&o, out_p, len_p);
}

/*  --------------------------------------------------------------------------------------
    Weak-label evaluation report (weak.h) */

/*  Writes `"key": n`. */
static void
s_key_u64(s_out_t *o, const char *key, uint64_t v, bool *first)
{
    s_key(o, key, first);
    s_put_u64(o, v);
}

/*  Writes `"key": value` for a finite double; a non-finite one marks the output bad. */
static void
s_key_double(s_out_t *o, const char *key, double v, bool *first)
{
    s_key(o, key, first);
    if (!isfinite(v)) {
        o->bad = true;
        s_puts(o, "null");
        return;
    }
    s_put_double(o, v);
}

/*  Writes `"key": [strings]`. */
static void
s_key_list(s_out_t *o, const char *key, char *const *v, size_t n, bool *first)
{
    s_key(o, key, first);
    s_put_strings(o, (const char *const *)v, n);
}

/*  Writes the spread of a truth group or a generic operation as an object. */
static void
s_put_spread(s_out_t *o, const weak_spread_t *s, bool generic)
{
    bool first = true;
    s_put(o, "{", 1);
    s_key(o, "name", &first);
    s_put_string(o, s->name);
    if (!generic) {
        s_key(o, "members", &first);
        s_put(o, "{", 1);
        bool mfirst = true;
        for (size_t i = 0; i < s->n_members; i++) {
            s_key(o, s->members[i].name, &mfirst);
            s_put_u64(o, s->members[i].ips);
        }
        s_put(o, "}", 1);
    }
    s_key_u64(o, "label_ips", s->label_ips, &first);
    if (generic) {
        s_key_u64(o, "with_truth", s->with_truth, &first);
    }
    s_key_u64(o, "ips", s->ips, &first);
    s_key_u64(o, "clusters", s->clusters, &first);
    s_key(o, "main_cluster", &first);
    s_put_string(o, s->main_cluster);
    s_key_u64(o, "main_share", s->main_share, &first);
    s_key_u64(o, "main_labelled", s->main_labelled, &first);
    s_key_u64(o, "main_size", s->main_size, &first);
    s_key(o, "purity", &first);
    if (s->main_labelled) {
        s_put_double(o, (double)s->main_share / (double)s->main_labelled);
    } else {
        s_puts(o, "null");
    }
    s_put(o, "}", 1);
}

int
jsonio_weak_encode(const weak_report_t *rep, char **out_p, size_t *len_p)
{
    assert(rep);
    s_out_t o = {0};
    bool first = true;
    s_put(&o, "{", 1);
    s_key(&o, "level", &first);
    s_put_string(&o, weak_level_name(rep->level));

    s_key(&o, "observations", &first);
    bool f = true;
    s_put(&o, "{", 1);
    s_key_u64(&o, "count", rep->observations, &f);
    s_key_u64(&o, "without_ip", rep->obs_without_ip, &f);
    s_key_u64(&o, "unassigned", rep->unassigned_obs, &f);
    s_key_u64(&o, "unknown_assignments", rep->unknown_assigns, &f);
    s_key_u64(&o, "duplicate_assignments", rep->duplicate_assigns, &f);
    s_key_u64(&o, "ips", rep->ips, &f);
    s_key_u64(&o, "identities", rep->identities, &f);
    s_key_u64(&o, "campaigns", rep->campaigns, &f);
    s_key_u64(&o, "clusters", rep->clusters, &f);
    s_key(&o, "largest_cluster", &f);
    s_put_string(&o, rep->largest_cluster);
    s_key_u64(&o, "largest_size", rep->largest_size, &f);
    s_key_list(&o, "split_ips", rep->split_ips, rep->n_split_ips, &f);
    s_put(&o, "}", 1);

    s_key(&o, "labels", &first);
    f = true;
    s_put(&o, "{", 1);
    s_key_u64(&o, "lines", rep->label_lines, &f);
    s_key_u64(&o, "bad_lines", rep->bad_lines, &f);
    s_key_u64(&o, "ips", rep->label_ips, &f);
    s_key_u64(&o, "labelled_ips", rep->labelled_ips, &f);
    s_key_u64(&o, "generic_only_ips", rep->generic_only_ips, &f);
    s_key_u64(&o, "unclustered_ips", rep->unclustered_ips, &f);
    s_key_list(&o, "absent_ips", rep->absent_ips, rep->n_absent_ips, &f);
    s_put(&o, "}", 1);

    s_key(&o, "truth_operations", &first);
    s_put(&o, "[", 1);
    for (size_t i = 0; i < rep->n_groups; i++) {
        if (i > 0) {
            s_put(&o, ", ", 2);
        }
        s_put_spread(&o, &rep->groups[i], false);
    }
    s_put(&o, "]", 1);

    s_key(&o, "fusions", &first);
    s_put(&o, "[", 1);
    for (size_t i = 0; i < rep->n_fusions; i++) {
        const weak_fusion_t *fu = &rep->fusions[i];
        if (i > 0) {
            s_put(&o, ", ", 2);
        }
        f = true;
        s_put(&o, "{", 1);
        s_key(&o, "cluster", &f);
        s_put_string(&o, fu->cluster);
        s_key_u64(&o, "size", fu->size, &f);
        s_key_u64(&o, "labelled", fu->labelled, &f);
        s_key(&o, "operations", &f);
        s_put(&o, "{", 1);
        bool pf = true;
        for (size_t k = 0; k < fu->n_parts; k++) {
            s_key(&o, rep->groups[fu->parts[k].group].name, &pf);
            s_put_u64(&o, fu->parts[k].ips);
        }
        s_put(&o, "}}", 2);
    }
    s_put(&o, "]", 1);

    s_key(&o, "generic", &first);
    s_put(&o, "[", 1);
    for (size_t i = 0; i < rep->n_generic; i++) {
        if (i > 0) {
            s_put(&o, ", ", 2);
        }
        s_put_spread(&o, &rep->generic[i], true);
    }
    s_put(&o, "]", 1);

    const metrics_t *m = &rep->metrics;
    s_key(&o, "metrics", &first);
    f = true;
    s_put(&o, "{", 1);
    s_key_u64(&o, "items", rep->labelled_ips, &f);
    s_key_double(&o, "adjusted_rand_index", m->adjusted_rand_index, &f);
    s_key_double(&o, "homogeneity", m->homogeneity, &f);
    s_key_double(&o, "completeness", m->completeness, &f);
    s_key_double(&o, "v_measure", m->v_measure, &f);
    s_key_double(&o, "pairwise_precision", m->pairwise_precision, &f);
    s_key_double(&o, "pairwise_recall", m->pairwise_recall, &f);
    s_key_double(&o, "pairwise_f1", m->pairwise_f1, &f);
    s_put(&o, "}}", 2);
    return s_finish_checked(&o, out_p, len_p);
}

/* -------------------------------------------------------------------------------------------
    Cowrie events (for cowrie.c, which stays free of jansson) */

/*  A copy of obj[key] when it is a string without NUL bytes, else NULL. */
static char *
s_cowrie_string(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (memchr(s, '\0', len)) {
        return NULL;
    }
    return xstrndup(s, len);
}

/*  obj[key] as a string, or an array of strings joined with ","; NULL otherwise. */
static char *
s_cowrie_list(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_array(v)) {
        return s_cowrie_string(obj, key);
    }
    size_t total = 1;
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item) ||
            memchr(json_string_value(item), '\0', json_string_length(item))) {
            return NULL;
        }
        total += json_string_length(item) + 1;
    }
    char *out = xmalloc(total);
    size_t at = 0;
    json_array_foreach(v, i, item)
    {
        if (i > 0) {
            out[at++] = ',';
        }
        memcpy(out + at, json_string_value(item), json_string_length(item));
        at += json_string_length(item);
    }
    out[at] = '\0';
    return out;
}

/*  obj[key] as a port: an integer in 0..65535 or a string of 1-5 digits; -1 otherwise. */
static long
s_cowrie_port(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    long port = -1;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        port = n >= 0 && n <= 65535 ? (long)n : -1;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len >= 1 && len <= 5 && strspn(s, "0123456789") == len) {
            port = strtol(s, NULL, 10);
            port = port <= 65535 ? port : -1;
        }
    }
    return port;
}

int
jsonio_cowrie_event(const char *buf, size_t len, uint64_t record, jsonio_cowrie_event_t *out,
                    obs_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->src_port = -1;
    obs_error_reset(err, record, NULL);
    json_t *root = NULL;
    int rc = s_load_object(buf, len, &root, err);
    if (rc != 0) {
        return rc;
    }
    out->eventid = s_cowrie_string(root, "eventid");
    out->src_ip = s_cowrie_string(root, "src_ip");
    out->session = s_cowrie_string(root, "session");
    out->timestamp = s_cowrie_string(root, "timestamp");
    out->sensor = s_cowrie_string(root, "sensor");
    out->input = s_cowrie_string(root, "input");
    out->username = s_cowrie_string(root, "username");
    out->password = s_cowrie_string(root, "password");
    out->shasum = s_cowrie_string(root, "shasum");
    out->url = s_cowrie_string(root, "url");
    out->hassh = s_cowrie_string(root, "hassh");
    out->version = s_cowrie_string(root, "version");
    out->kex_algs = s_cowrie_list(root, "kexAlgs");
    out->enc_cs = s_cowrie_list(root, "encCS");
    out->mac_cs = s_cowrie_list(root, "macCS");
    out->comp_cs = s_cowrie_list(root, "compCS");
    out->fingerprint = s_cowrie_string(root, "fingerprint");
    out->message = s_cowrie_string(root, "message");
    out->src_port = s_cowrie_port(root, "src_port");
    json_decref(root);
    return 0;
}

void
jsonio_cowrie_event_clear(jsonio_cowrie_event_t *ev)
{
    char **fields[] = {&ev->eventid, &ev->src_ip,      &ev->session,  &ev->timestamp, &ev->sensor,
                       &ev->input,   &ev->username,    &ev->password, &ev->shasum,    &ev->url,
                       &ev->hassh,   &ev->version,     &ev->kex_algs, &ev->enc_cs,    &ev->mac_cs,
                       &ev->comp_cs, &ev->fingerprint, &ev->message};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
    }
    memset(ev, 0, sizeof *ev);
}

int
jsonio_fatt_record(const char *buf, size_t len, uint64_t record, jsonio_fatt_record_t *out,
                   obs_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->src_port = -1;
    obs_error_reset(err, record, NULL);
    json_t *root = NULL;
    int rc = s_load_object(buf, len, &root, err);
    if (rc != 0) {
        return rc;
    }
    out->src_ip = s_cowrie_string(root, "sourceIp");
    out->src_port = s_cowrie_port(root, "sourcePort");
    out->timestamp = s_cowrie_string(root, "timestamp");
    out->protocol = s_cowrie_string(root, "protocol");
    out->hassh = s_cowrie_string(json_object_get(root, "ssh"), "hassh");
    out->ja3 = s_cowrie_string(json_object_get(root, "tls"), "ja3");
    json_decref(root);
    return 0;
}

void
jsonio_fatt_record_clear(jsonio_fatt_record_t *rec)
{
    free(rec->src_ip);
    free(rec->timestamp);
    free(rec->protocol);
    free(rec->hassh);
    free(rec->ja3);
    memset(rec, 0, sizeof *rec);
    rec->src_port = -1;
}

/* ----------------------------------------------------------------------------------------
   DECNET's state file and headers */

/*  A string member's copy, NULL when missing, not a string, or holding a NUL. */
static char *
s_member_dup(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        return NULL;
    }
    return xstrdup(json_string_value(v));
}

int
jsonio_decnet_state(const char *buf, size_t len, jsonio_decky_t **out, size_t *n, obs_error_t *err)
{
    *out = NULL;
    *n = 0;
    obs_error_reset(err, 1, NULL);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    if (!root) {
        s_syntax_error(err, &jerr);
        return CADRE_ERECORD;
    }
    const json_t *list = json_object_get(json_object_get(root, "config"), "deckies");
    if (!json_is_array(list)) {
        list = json_object_get(root, "deckies");
    }
    if (!json_is_array(list)) {
        json_decref(root);
        return obs_error_set(err, 1, NULL, "config.deckies", "no deckies array");
    }
    jsonio_decky_t *d = xcalloc(json_array_size(list) + 1, sizeof *d);
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i);
        char *name = json_is_object(e) ? s_member_dup(e, "name") : NULL;
        if (!name) {
            continue;
        }
        d[k].name = name;
        d[k].hostname = s_member_dup(e, "hostname");
        d[k].ip = s_member_dup(e, "ip");
        const json_t *svc = json_object_get(e, "services");
        if (json_is_array(svc)) {
            size_t total = 1;
            for (size_t j = 0; j < json_array_size(svc); j++) {
                const json_t *s = json_array_get(svc, j);
                total += json_is_string(s) ? json_string_length(s) + 1 : 0;
            }
            char *joined = xcalloc(total, 1);
            for (size_t j = 0; j < json_array_size(svc); j++) {
                const json_t *s = json_array_get(svc, j);
                if (json_is_string(s)) {
                    if (joined[0]) {
                        strcat(joined, ",");
                    }
                    strcat(joined, json_string_value(s));
                }
            }
            d[k].services = joined;
        }
        k++;
    }
    json_decref(root);
    *out = d;
    *n = k;
    return 0;
}

void
jsonio_decnet_state_clear(jsonio_decky_t *deckies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(deckies[i].name);
        free(deckies[i].hostname);
        free(deckies[i].ip);
        free(deckies[i].services);
    }
    free(deckies);
}

int
jsonio_decnet_state_encode(const jsonio_decky_t *deckies, size_t n, char **out_p, size_t *len_p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const jsonio_decky_t *d = &deckies[i];
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(d->name ? d->name : ""));
        json_object_set_new(e, "hostname", d->hostname ? json_string(d->hostname) : json_null());
        json_object_set_new(e, "ip", d->ip ? json_string(d->ip) : json_null());
        json_t *svc = json_array();
        const char *s = d->services ? d->services : "";
        while (*s) {
            size_t k = strcspn(s, ",");
            json_array_append_new(svc, json_stringn(s, k));
            s += k + (s[k] == ',');
        }
        json_object_set_new(e, "services", svc);
        json_array_append_new(list, e);
    }
    json_t *config = json_object();
    json_object_set_new(config, "deckies", list);
    json_t *root = json_object();
    json_object_set_new(root, "config", config);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    assert(text);
    size_t len = strlen(text);
    *out_p = xmalloc(len + 2);
    memcpy(*out_p, text, len);
    (*out_p)[len] = '\n';
    (*out_p)[len + 1] = '\0';
    *len_p = len + 1;
    free(text);
    return 0;
}

int
jsonio_http_headers(const char *host, const char *agent, const char *basic, char **out_p,
                    size_t *len_p)
{
    json_t *o = json_object();
    json_object_set_new(o, "Host", json_string(host));
    json_object_set_new(o, "User-Agent", json_string(agent));
    if (basic) {
        char *v = xasprintf("Basic %s", basic);
        json_object_set_new(o, "Authorization", json_string(v));
        free(v);
    }
    char *text = json_dumps(o, JSON_PRESERVE_ORDER);
    json_decref(o);
    assert(text);
    *len_p = strlen(text);
    *out_p = xstrdup(text);
    free(text);
    return 0;
}

char *
jsonio_member_string(const char *buf, size_t len, const char *key)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    char *out = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (!out && strcasecmp(k, key) == 0 && json_is_string(v) &&
            strlen(json_string_value(v)) == json_string_length(v)) {
            out = xstrdup(json_string_value(v));
        }
    }
    json_decref(root);
    return out;
}
