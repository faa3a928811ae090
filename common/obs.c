/*  obs.c - the observation record: lifecycle, comparison, and the validation rules both
    codecs share (see obs.h).

    Ownership: an obs_t owns every string and array it points to; obs_destroy() frees them
    all. The obs_check_* helpers never allocate; they only fill an obs_error_t.
*/
#include "obs.h"

#include <xxhash.h>

#include "err.h"
#include "xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  --------------------------------------------------------------------------------------
    Lifecycle */

obs_t *
obs_new(void)
{
    obs_t *self = xcalloc(1, sizeof *self);
    self->op = OBS_UPSERT;
    return self;
}

void
obs_session_clear(obs_session_t *session)
{
    if (!session) {
        return;
    }
    free(session->id);
    free(session->decky);
    for (size_t i = 0; i < session->n_commands; i++) {
        free(session->commands[i]);
    }
    free(session->commands);
    for (size_t i = 0; i < session->n_creds; i++) {
        free(session->creds[i].user);
        free(session->creds[i].pass);
    }
    free(session->creds);
    free(session->payload_hash);
    free(session->c2);
    memset(session, 0, sizeof *session);
}

void
obs_destroy(obs_t **self_p)
{
    assert(self_p);
    if (!*self_p) {
        return;
    }
    obs_t *self = *self_p;
    free(self->id);
    free(self->ip);
    free(self->ja3);
    free(self->ja4);
    free(self->hassh);
    free(self->truth_campaign);
    free(self->truth_identity);
    free(self->truth_actor);
    for (size_t i = 0; i < self->n_sessions; i++) {
        obs_session_clear(&self->sessions[i]);
    }
    free(self->sessions);
    for (size_t i = 0; i < self->n_fps; i++) {
        free(self->fps[i].kind);
        free(self->fps[i].value);
    }
    free(self->fps);
    for (size_t i = 0; i < self->n_at; i++) {
        free(self->at[i].field);
    }
    free(self->at);
    free(self);
    *self_p = NULL;
}

/*  Duplicates a possibly-NULL string. */
static char *
s_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void
obs_session_copy(obs_session_t *dst, const obs_session_t *src)
{
    dst->id = s_dup(src->id);
    dst->decky = s_dup(src->decky);
    dst->phase = src->phase;
    dst->start = src->start;
    dst->duration = src->duration;
    if (src->n_commands > 0) {
        dst->commands = xcalloc(src->n_commands, sizeof *dst->commands);
        for (size_t i = 0; i < src->n_commands; i++) {
            dst->commands[i] = s_dup(src->commands[i]);
        }
    }
    dst->n_commands = src->n_commands;
    if (src->n_creds > 0) {
        dst->creds = xcalloc(src->n_creds, sizeof *dst->creds);
        for (size_t i = 0; i < src->n_creds; i++) {
            dst->creds[i].user = s_dup(src->creds[i].user);
            dst->creds[i].pass = s_dup(src->creds[i].pass);
        }
    }
    dst->n_creds = src->n_creds;
    dst->payload_hash = s_dup(src->payload_hash);
    dst->c2 = s_dup(src->c2);
}

obs_t *
obs_dup(const obs_t *self)
{
    obs_t *copy = obs_new();
    copy->op = self->op;
    copy->id = s_dup(self->id);
    copy->ip = s_dup(self->ip);
    copy->has_asn = self->has_asn;
    copy->asn = self->asn;
    copy->ja3 = s_dup(self->ja3);
    copy->ja4 = s_dup(self->ja4);
    copy->hassh = s_dup(self->hassh);
    copy->has_kd = self->has_kd;
    copy->kd_simhash = self->kd_simhash;
    copy->truth_campaign = s_dup(self->truth_campaign);
    copy->truth_identity = s_dup(self->truth_identity);
    copy->truth_actor = s_dup(self->truth_actor);
    if (self->n_sessions > 0) {
        copy->sessions = xcalloc(self->n_sessions, sizeof *copy->sessions);
        copy->sessions_cap = self->n_sessions;
        for (size_t i = 0; i < self->n_sessions; i++) {
            obs_session_copy(&copy->sessions[i], &self->sessions[i]);
        }
    }
    copy->n_sessions = self->n_sessions;
    if (self->n_fps > 0) {
        copy->fps = xcalloc(self->n_fps, sizeof *copy->fps);
        for (size_t i = 0; i < self->n_fps; i++) {
            copy->fps[i].kind = xstrdup(self->fps[i].kind);
            copy->fps[i].value = xstrdup(self->fps[i].value);
        }
    }
    copy->n_fps = self->n_fps;
    if (self->n_at > 0) {
        copy->at = xcalloc(self->n_at, sizeof *copy->at);
        for (size_t i = 0; i < self->n_at; i++) {
            copy->at[i].field = xstrdup(self->at[i].field);
            copy->at[i].at = self->at[i].at;
        }
    }
    copy->n_at = self->n_at;
    return copy;
}

/*  NULL-aware string equality: NULL equals only NULL, "" is a value. */
static bool
s_str_eq(const char *a, const char *b)
{
    if (!a || !b) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

/*  Bit-for-bit double equality, so -0.0 differs from 0.0 and a NaN equals itself. */
static bool
s_dbl_eq(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static bool
s_session_eq(const obs_session_t *a, const obs_session_t *b)
{
    if (!s_str_eq(a->id, b->id) || !s_str_eq(a->decky, b->decky) || a->phase != b->phase ||
        !s_dbl_eq(a->start, b->start) || !s_dbl_eq(a->duration, b->duration) ||
        a->n_commands != b->n_commands || a->n_creds != b->n_creds ||
        !s_str_eq(a->payload_hash, b->payload_hash) || !s_str_eq(a->c2, b->c2)) {
        return false;
    }
    for (size_t i = 0; i < a->n_commands; i++) {
        if (!s_str_eq(a->commands[i], b->commands[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_creds; i++) {
        if (!s_str_eq(a->creds[i].user, b->creds[i].user) ||
            !s_str_eq(a->creds[i].pass, b->creds[i].pass)) {
            return false;
        }
    }
    return true;
}

bool
obs_equal(const obs_t *a, const obs_t *b)
{
    if (a == b) {
        return true;
    }
    if (!a || !b) {
        return false;
    }
    if (a->op != b->op || !s_str_eq(a->id, b->id) || !s_str_eq(a->ip, b->ip) ||
        a->has_asn != b->has_asn || (a->has_asn && a->asn != b->asn) || !s_str_eq(a->ja3, b->ja3) ||
        !s_str_eq(a->ja4, b->ja4) || !s_str_eq(a->hassh, b->hassh) || a->has_kd != b->has_kd ||
        (a->has_kd && a->kd_simhash != b->kd_simhash) ||
        !s_str_eq(a->truth_campaign, b->truth_campaign) ||
        !s_str_eq(a->truth_identity, b->truth_identity) ||
        !s_str_eq(a->truth_actor, b->truth_actor) || a->n_sessions != b->n_sessions ||
        a->n_fps != b->n_fps || a->n_at != b->n_at) {
        return false;
    }
    for (size_t i = 0; i < a->n_sessions; i++) {
        if (!s_session_eq(&a->sessions[i], &b->sessions[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_fps; i++) {
        if (strcmp(a->fps[i].kind, b->fps[i].kind) != 0 ||
            strcmp(a->fps[i].value, b->fps[i].value) != 0) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_at; i++) {
        if (strcmp(a->at[i].field, b->at[i].field) != 0 ||
            memcmp(&a->at[i].at, &b->at[i].at, sizeof(double)) != 0) {
            return false;
        }
    }
    return true;
}

const char *
obs_fp_get(const obs_t *self, const char *kind)
{
    for (size_t i = 0; i < self->n_fps; i++) {
        if (strcmp(self->fps[i].kind, kind) == 0) {
            return self->fps[i].value;
        }
    }
    return NULL;
}

void
obs_fp_set(obs_t *self, const char *kind, const char *value)
{
    size_t i = 0;
    while (i < self->n_fps && strcmp(self->fps[i].kind, kind) < 0) {
        i++;
    }
    if (i < self->n_fps && strcmp(self->fps[i].kind, kind) == 0) {
        free(self->fps[i].value);
        if (value) {
            self->fps[i].value = xstrdup(value);
            return;
        }
        free(self->fps[i].kind);
        memmove(&self->fps[i], &self->fps[i + 1], (self->n_fps - i - 1) * sizeof *self->fps);
        self->n_fps--;
        return;
    }
    if (!value) {
        return;
    }
    self->fps = xrealloc(self->fps, (self->n_fps + 1) * sizeof *self->fps);
    memmove(&self->fps[i + 1], &self->fps[i], (self->n_fps - i) * sizeof *self->fps);
    self->fps[i].kind = xstrdup(kind);
    self->fps[i].value = xstrdup(value);
    self->n_fps++;
}

double
obs_at_get(const obs_t *self, const char *field)
{
    for (size_t i = 0; i < self->n_at; i++) {
        if (strcmp(self->at[i].field, field) == 0) {
            return self->at[i].at;
        }
    }
    return NAN;
}

void
obs_at_set(obs_t *self, const char *field, double at)
{
    size_t i = 0;
    while (i < self->n_at && strcmp(self->at[i].field, field) < 0) {
        i++;
    }
    if (i < self->n_at && strcmp(self->at[i].field, field) == 0) {
        self->at[i].at = at;
        return;
    }
    self->at = xrealloc(self->at, (self->n_at + 1) * sizeof *self->at);
    memmove(&self->at[i + 1], &self->at[i], (self->n_at - i) * sizeof *self->at);
    self->at[i].field = xstrdup(field);
    self->at[i].at = at;
    self->n_at++;
}

obs_session_t *
obs_add_session(obs_t *self)
{
    /*  A hand-built array has sessions_cap 0 (or smaller than n_sessions): treat it as full,
        so the first append reallocates it and from then on the capacity is tracked. */
    if (self->n_sessions >= self->sessions_cap) {
        size_t cap = self->n_sessions;
        self->sessions_cap = cap;
        xgrow(&self->sessions, &self->sessions_cap, self->n_sessions + 1);
    }
    obs_session_t *session = &self->sessions[self->n_sessions++];
    memset(session, 0, sizeof *session);
    return session;
}

/*  --------------------------------------------------------------------------------------
    UTF-8 */

size_t
obs_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (len == 0) {
        return 0;
    }
    unsigned char b0 = p[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t n = 0;
    unsigned char lo = 0x80; /* allowed range of the second byte, which rules out */
    unsigned char hi = 0xBF; /* overlongs, surrogates and values above U+10FFFF */
    uint32_t v = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
        v = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        v = b0 & 0x0F;
        if (b0 == 0xE0) {
            lo = 0xA0;
        } else if (b0 == 0xED) {
            hi = 0x9F;
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        v = b0 & 0x07;
        if (b0 == 0xF0) {
            lo = 0x90;
        } else if (b0 == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    v = (v << 6) | (p[1] & 0x3F);
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    *cp = v;
    return n;
}

/*  Copies src (len bytes) into dst (cap bytes, NUL-terminated) for display: control
    characters and invalid UTF-8 bytes become '?', and the copy stops at a character
    boundary when dst is full. */
static void
s_copy_clean(char *dst, size_t cap, const char *src, size_t len)
{
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x20 && c < 0x7F) { /* printable ASCII: the common case, no decoding */
            if (o + 1 >= cap) {
                break;
            }
            dst[o++] = (char)c;
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = obs_utf8_next(src + i, len - i, &cp);
        bool bad = n == 0 || cp < 0x20 || cp == 0x7F;
        size_t out = bad ? 1 : n;
        if (o + out >= cap) {
            break;
        }
        if (bad) {
            dst[o++] = '?';
            i += n ? n : 1;
        } else {
            memcpy(dst + o, src + i, n);
            o += n;
            i += n;
        }
    }
    dst[o] = '\0';
}

/*  --------------------------------------------------------------------------------------
    Errors */

void
obs_error_reset(obs_error_t *err, uint64_t record, const char *id)
{
    err->record = record;
    if (id != err->id) { /* obs_error_set(err, r, err->id, ...) keeps the id as it is */
        s_copy_clean(err->id, sizeof err->id, id ? id : "", id ? strlen(id) : 0);
    }
    err->field[0] = '\0';
    err->message[0] = '\0';
}

/*  Fills field and message, keeping record and id. Returns CADRE_ERECORD. */
static int s_vfail(obs_error_t *err, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int
s_vfail(obs_error_t *err, const char *field, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    s_copy_clean(err->field, sizeof err->field, field ? field : "", field ? strlen(field) : 0);
    s_copy_clean(err->message, sizeof err->message, msg, strlen(msg));
    return CADRE_ERECORD;
}

static int s_fail(obs_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
s_fail(obs_error_t *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(err, field, fmt, ap);
    va_end(ap);
    return rc;
}

int
obs_error_field(obs_error_t *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(err, field, fmt, ap);
    va_end(ap);
    return rc;
}

int
obs_error_set(obs_error_t *err, uint64_t record, const char *id, const char *field, const char *fmt,
              ...)
{
    obs_error_reset(err, record, id);
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(err, field, fmt, ap);
    va_end(ap);
    return rc;
}

void
obs_error_nest(obs_error_t *err, const char *fmt, ...)
{
    char name[sizeof err->field];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    char joined[2 * sizeof err->field + 2];
    const char *sep = err->field[0] == '\0' || err->field[0] == '[' ? "" : ".";
    snprintf(joined, sizeof joined, "%s%s%s", name, sep, err->field);
    s_copy_clean(err->field, sizeof err->field, joined, strlen(joined));
}

void
obs_error_format(const obs_error_t *err, const char *source, char *buf, size_t size)
{
    char id_part[sizeof err->id + 16] = "";
    char field_part[sizeof err->field + 16] = "";
    if (err->id[0]) {
        snprintf(id_part, sizeof id_part, "record '%s': ", err->id);
    }
    if (err->field[0]) {
        snprintf(field_part, sizeof field_part, "field '%s': ", err->field);
    }
    snprintf(buf, size, "%s:%" PRIu64 ": %s%s%s", source ? source : "-", err->record, id_part,
             field_part, err->message);
}

/*  --------------------------------------------------------------------------------------
    Field checks */

int
obs_check_string(const char *s, size_t len, size_t max, obs_error_t *err, const char *field)
{
    if (len > max) {
        return s_fail(err, field, "string of %zu bytes is longer than the limit of %zu", len, max);
    }
    size_t i = 0;
    while (i < len) {
        /* Eight bytes at a time while they are ASCII without NUL (no high bit, no zero byte). */
        while (len - i >= 8) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            const uint64_t ones = 0x0101010101010101ull;
            const uint64_t highs = 0x8080808080808080ull;
            if (((v | ((v - ones) & ~v)) & highs) != 0) {
                break;
            }
            i += 8;
        }
        if (i >= len) {
            break;
        }
        if ((unsigned char)s[i] < 0x80) {
            if (s[i] == '\0') {
                return s_fail(err, field, "string contains a NUL character at byte %zu", i);
            }
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = obs_utf8_next(s + i, len - i, &cp);
        if (n == 0) {
            return s_fail(err, field, "string is not valid UTF-8 (byte 0x%02x at offset %zu)",
                          (unsigned char)s[i], i);
        }
        i += n;
    }
    return 0;
}

/*  Value of one hex digit, or -1. */
static int
s_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
obs_check_simhash(const char *s, size_t len, uint64_t *out, obs_error_t *err, const char *field)
{
    if (len != 16) {
        return s_fail(err, field, "expected exactly 16 hex digits, got %zu bytes", len);
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        int d = s_hexval(s[i]);
        if (d < 0) {
            return s_fail(err, field, "expected 16 hex digits, byte %zu is not one", i);
        }
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return 0;
}

int
obs_check_phase(const char *s, size_t len, ukc_phase_t *out, obs_error_t *err, const char *field)
{
    ukc_phase_t phase = ukc_phase_from_name_len(s, len);
    if (phase == UKC_NONE) {
        /*  Echo at most 40 bytes of the value; s_copy_clean makes it safe to print. */
        char shown[48];
        s_copy_clean(shown, sizeof shown, s, len < 40 ? len : 40);
        return s_fail(err, field, "unknown phase '%s%s' (expected a UKC phase name)", shown,
                      len > 40 ? "..." : "");
    }
    *out = phase;
    return 0;
}

int
obs_check_number(double v, bool nonneg, obs_error_t *err, const char *field)
{
    if (!isfinite(v)) {
        return s_fail(err, field, "number is not finite");
    }
    if (nonneg && v < 0) {
        return s_fail(err, field, "number %.17g is negative", v);
    }
    return 0;
}

/*  Checks an optional (NULL = absent) NUL-terminated string. */
static int
s_check_opt(const char *s, size_t max, obs_error_t *err, const char *field)
{
    return s ? obs_check_string(s, strlen(s), max, err, field) : 0;
}

/*  Checks a required string (NULL is an error). */
static int
s_check_req(const char *s, size_t max, obs_error_t *err, const char *field)
{
    if (!s) {
        return s_fail(err, field, "required string is missing");
    }
    return obs_check_string(s, strlen(s), max, err, field);
}

/*  Checks one session; fields are named relative to it (the caller nests them). */
static int
s_check_session(const obs_session_t *s, obs_error_t *err)
{
    int rc = 0;
    if ((rc = s_check_opt(s->id, OBS_MAX_ID, err, "id")) ||
        (rc = s_check_opt(s->decky, OBS_MAX_SHORT, err, "decky"))) {
        return rc;
    }
    if (s->phase < 0 || s->phase >= UKC_PHASE_COUNT) {
        return s_fail(err, "phase", "phase %d is out of range", (int)s->phase);
    }
    if ((rc = obs_check_number(s->start, false, err, "start")) ||
        (rc = obs_check_number(s->duration, true, err, "duration"))) {
        return rc;
    }
    if (s->n_commands > OBS_MAX_ITEMS) {
        return s_fail(err, "commands", "%zu commands exceed the limit of %d", s->n_commands,
                      OBS_MAX_ITEMS);
    }
    for (size_t i = 0; i < s->n_commands; i++) {
        if ((rc = s_check_req(s->commands[i], OBS_MAX_TEXT, err, ""))) {
            obs_error_nest(err, "commands[%zu]", i);
            return rc;
        }
    }
    if (s->n_creds > OBS_MAX_ITEMS) {
        return s_fail(err, "credentials", "%zu credentials exceed the limit of %d", s->n_creds,
                      OBS_MAX_ITEMS);
    }
    for (size_t i = 0; i < s->n_creds; i++) {
        if ((rc = s_check_req(s->creds[i].user, OBS_MAX_TEXT, err, "[0]")) ||
            (rc = s_check_req(s->creds[i].pass, OBS_MAX_TEXT, err, "[1]"))) {
            obs_error_nest(err, "credentials[%zu]", i);
            return rc;
        }
    }
    if ((rc = s_check_opt(s->payload_hash, OBS_MAX_SHORT, err, "payload_hash")) ||
        (rc = s_check_opt(s->c2, OBS_MAX_SHORT, err, "c2"))) {
        return rc;
    }
    return 0;
}

/*  For a delete: the name of the first field set besides id, or NULL. */
static const char *
s_delete_extra(const obs_t *self)
{
    if (self->ip) {
        return "ip";
    }
    if (self->has_asn) {
        return "asn";
    }
    if (self->ja3) {
        return "ja3";
    }
    if (self->ja4) {
        return "ja4";
    }
    if (self->hassh) {
        return "hassh";
    }
    if (self->has_kd) {
        return "kd_simhash";
    }
    if (self->truth_campaign || self->truth_identity || self->truth_actor) {
        return "truth";
    }
    if (self->n_sessions > 0) {
        return "sessions";
    }
    if (self->n_fps > 0) {
        return "fingerprints";
    }
    if (self->n_at > 0) {
        return "append_at";
    }
    return NULL;
}

int
obs_check_record(const obs_t *self, obs_error_t *err)
{
    obs_error_reset(err, err->record, NULL);
    if (!self->id) {
        return s_fail(err, "id", "required field is missing");
    }
    int rc = obs_check_string(self->id, strlen(self->id), OBS_MAX_ID, err, "id");
    if (rc != 0) {
        return rc;
    }
    if (self->id[0] == '\0') {
        return s_fail(err, "id", "must not be empty");
    }
    obs_error_reset(err, err->record, self->id);
    if (self->op != OBS_UPSERT && self->op != OBS_DELETE && self->op != OBS_APPEND) {
        return s_fail(err, "op", "op %d is not upsert, append or delete", (int)self->op);
    }
    if (self->op == OBS_DELETE) {
        const char *extra = s_delete_extra(self);
        if (extra) {
            return s_fail(err, extra, "a delete carries only its id");
        }
        return 0;
    }
    if ((rc = s_check_opt(self->ip, OBS_MAX_SHORT, err, "ip")) ||
        (rc = s_check_opt(self->ja3, OBS_MAX_FINGERPRINT, err, "ja3")) ||
        (rc = s_check_opt(self->ja4, OBS_MAX_FINGERPRINT, err, "ja4")) ||
        (rc = s_check_opt(self->hassh, OBS_MAX_FINGERPRINT, err, "hassh")) ||
        (rc = s_check_opt(self->truth_campaign, OBS_MAX_SHORT, err, "truth.campaign")) ||
        (rc = s_check_opt(self->truth_identity, OBS_MAX_SHORT, err, "truth.identity")) ||
        (rc = s_check_opt(self->truth_actor, OBS_MAX_SHORT, err, "truth.actor"))) {
        return rc;
    }
    if (self->n_sessions > OBS_MAX_SESSIONS) {
        return s_fail(err, "sessions", "%zu sessions exceed the limit of %d", self->n_sessions,
                      OBS_MAX_SESSIONS);
    }
    for (size_t i = 0; i < self->n_sessions; i++) {
        if ((rc = s_check_session(&self->sessions[i], err))) {
            obs_error_nest(err, "sessions[%zu]", i);
            return rc;
        }
    }
    if (self->n_fps > OBS_MAX_FPS) {
        return s_fail(err, "fingerprints", "%zu fingerprints exceed the limit of %d", self->n_fps,
                      OBS_MAX_FPS);
    }
    for (size_t i = 0; i < self->n_fps; i++) {
        char field[64];
        snprintf(field, sizeof field, "fingerprints.%.32s", self->fps[i].kind);
        if ((rc = obs_check_fp_kind(self->fps[i].kind, strlen(self->fps[i].kind), err,
                                    "fingerprints")) ||
            (rc = s_check_opt(self->fps[i].value, OBS_MAX_FINGERPRINT, err, field))) {
            return rc;
        }
        if (i > 0 && strcmp(self->fps[i - 1].kind, self->fps[i].kind) >= 0) {
            return s_fail(err, "fingerprints", "kinds not sorted or repeated ('%s')",
                          self->fps[i].kind);
        }
    }
    if (self->n_at > OBS_MAX_FPS + 8) {
        return s_fail(err, "append_at", "%zu entries exceed the limit of %d", self->n_at,
                      OBS_MAX_FPS + 8);
    }
    for (size_t i = 0; i < self->n_at; i++) {
        if ((rc = obs_check_at_field(self->at[i].field, strlen(self->at[i].field), err,
                                     "append_at")) ||
            (rc = obs_check_number(isinf(self->at[i].at) && self->at[i].at > 0 ? 0 : self->at[i].at,
                                   false, err, "append_at"))) {
            return rc;
        }
        if (i > 0 && strcmp(self->at[i - 1].field, self->at[i].field) >= 0) {
            return s_fail(err, "append_at", "fields not sorted or repeated ('%s')",
                          self->at[i].field);
        }
    }
    return 0;
}

int
obs_check_fp_kind(const char *s, size_t len, obs_error_t *err, const char *field)
{
    if (len == 0 || len > OBS_MAX_FP_KIND) {
        return obs_error_field(err, field, "a fingerprint kind is 1 to %d bytes", OBS_MAX_FP_KIND);
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return obs_error_field(err, field,
                                   "fingerprint kind '%.32s' is not made of a-z, 0-9 and _", s);
        }
    }
    return 0;
}

int
obs_check_at_field(const char *s, size_t len, obs_error_t *err, const char *field)
{
    static const char *const names[] = {"asn", "hassh", "ip", "ja3", "ja4", "kd_simhash", "truth"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            return 0;
        }
    }
    if (len > 13 && memcmp(s, "fingerprints.", 13) == 0) {
        return obs_check_fp_kind(s + 13, len - 13, err, field);
    }
    return obs_error_field(err, field, "'%.48s' is not a field a merge sets", s);
}

void
obs_format_simhash(uint64_t v, char *buf)
{
    snprintf(buf, 17, "%016" PRIx64, v);
}

/*  Feeds one optional string: a presence byte, then length and bytes. */
static void
s_hash_str(XXH3_state_t *st, const char *s)
{
    unsigned char present = s != NULL;
    XXH3_64bits_update(st, &present, 1);
    if (s) {
        uint64_t n = strlen(s);
        XXH3_64bits_update(st, &n, sizeof n);
        XXH3_64bits_update(st, s, n);
    }
}

static void
s_hash_u64(XXH3_state_t *st, uint64_t v)
{
    XXH3_64bits_update(st, &v, sizeof v);
}

uint64_t
obs_hash(const obs_t *self)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) {
        abort();
    }
    XXH3_64bits_reset(st);
    s_hash_u64(st, (uint64_t)self->op);
    s_hash_str(st, self->id);
    s_hash_str(st, self->ip);
    s_hash_u64(st, self->has_asn);
    s_hash_u64(st, self->has_asn ? (uint64_t)self->asn : 0);
    s_hash_str(st, self->ja3);
    s_hash_str(st, self->ja4);
    s_hash_str(st, self->hassh);
    s_hash_u64(st, self->has_kd);
    s_hash_u64(st, self->has_kd ? self->kd_simhash : 0);
    s_hash_str(st, self->truth_campaign);
    s_hash_str(st, self->truth_identity);
    s_hash_str(st, self->truth_actor);
    s_hash_u64(st, self->n_sessions);
    for (size_t i = 0; i < self->n_sessions; i++) {
        const obs_session_t *s = &self->sessions[i];
        uint64_t bits;
        s_hash_str(st, s->id);
        s_hash_str(st, s->decky);
        s_hash_u64(st, (uint64_t)s->phase);
        memcpy(&bits, &s->start, sizeof bits);
        s_hash_u64(st, bits);
        memcpy(&bits, &s->duration, sizeof bits);
        s_hash_u64(st, bits);
        s_hash_u64(st, s->n_commands);
        for (size_t c = 0; c < s->n_commands; c++) {
            s_hash_str(st, s->commands[c]);
        }
        s_hash_u64(st, s->n_creds);
        for (size_t c = 0; c < s->n_creds; c++) {
            s_hash_str(st, s->creds[c].user);
            s_hash_str(st, s->creds[c].pass);
        }
        s_hash_str(st, s->payload_hash);
        s_hash_str(st, s->c2);
    }
    /* Fed only when present, so a record without them hashes as it always did. */
    if (self->n_fps > 0) {
        s_hash_u64(st, 0x6670u); /* "fp" */
        s_hash_u64(st, self->n_fps);
        for (size_t i = 0; i < self->n_fps; i++) {
            s_hash_str(st, self->fps[i].kind);
            s_hash_str(st, self->fps[i].value);
        }
    }
    if (self->n_at > 0) {
        s_hash_u64(st, 0x6174u); /* "at" */
        s_hash_u64(st, self->n_at);
        for (size_t i = 0; i < self->n_at; i++) {
            uint64_t bits;
            s_hash_str(st, self->at[i].field);
            memcpy(&bits, &self->at[i].at, sizeof bits);
            s_hash_u64(st, bits);
        }
    }
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}
