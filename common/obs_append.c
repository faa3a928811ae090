/*  obs_append.c - merging an append into the stored observation (see obs_append.h). */
#include "obs_append.h"

#include "err.h"
#include "xalloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/*  --------------------------------------------------------------------------------------
    Sessions */

static void
s_feed(XXH3_state_t *st, const void *p, size_t n)
{
    XXH3_64bits_update(st, p, n);
}

/*  Feeds an optional string: a presence byte, then its length and bytes. */
static void
s_feed_str(XXH3_state_t *st, const char *s)
{
    unsigned char present = s != NULL;
    s_feed(st, &present, 1);
    if (s) {
        uint64_t n = strlen(s);
        s_feed(st, &n, sizeof n);
        s_feed(st, s, n);
    }
}

uint64_t
obs_session_digest(const obs_session_t *s)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) {
        abort();
    }
    XXH3_64bits_reset(st);
    s_feed_str(st, s->id);
    s_feed_str(st, s->decky);
    uint64_t v = (uint64_t)s->phase;
    s_feed(st, &v, sizeof v);
    s_feed(st, &s->start, sizeof s->start);
    s_feed(st, &s->duration, sizeof s->duration);
    v = s->n_commands;
    s_feed(st, &v, sizeof v);
    for (size_t i = 0; i < s->n_commands; i++) {
        s_feed_str(st, s->commands[i]);
    }
    v = s->n_creds;
    s_feed(st, &v, sizeof v);
    for (size_t i = 0; i < s->n_creds; i++) {
        s_feed_str(st, s->creds[i].user);
        s_feed_str(st, s->creds[i].pass);
    }
    s_feed_str(st, s->payload_hash);
    s_feed_str(st, s->c2);
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

/*  A session with what orders and deduplicates it. */
typedef struct {
    const obs_session_t *s; /* borrowed from the stored record or the delta */
    char key[24];           /* "#<digest>" for a session without an id (s->id otherwise) */
    uint64_t digest;        /* obs_session_digest */
} s_item_t;

static const char *
s_key(const s_item_t *it)
{
    return it->s->id ? it->s->id : it->key;
}

/*  By key, then digest (a key's smallest digest first). */
static int
s_by_key(const void *a, const void *b)
{
    const s_item_t *x = a;
    const s_item_t *y = b;
    int c = strcmp(s_key(x), s_key(y));
    if (c != 0) {
        return c;
    }
    return x->digest < y->digest ? -1 : x->digest > y->digest;
}

/*  Canonical order: by start, then key. Starts are finite (checked on input). */
static int
s_by_start(const void *a, const void *b)
{
    const s_item_t *x = a;
    const s_item_t *y = b;
    if (x->s->start != y->s->start) {
        return x->s->start < y->s->start ? -1 : 1;
    }
    return strcmp(s_key(x), s_key(y));
}

static void
s_item(s_item_t *it, const obs_session_t *s)
{
    it->s = s;
    it->digest = obs_session_digest(s);
    snprintf(it->key, sizeof it->key, "#%016" PRIx64, it->digest);
}

/*  The merged sessions of a and b (either may be NULL), deduplicated by key and in canonical
    order, as new copies in *out (n_out of them). */
static void
s_merge_sessions(const obs_t *a, const obs_t *b, obs_session_t **out, size_t *n_out)
{
    size_t na = a ? a->n_sessions : 0;
    size_t nb = b ? b->n_sessions : 0;
    s_item_t *items = xcalloc(na + nb + 1, sizeof *items);
    for (size_t i = 0; i < na; i++) {
        s_item(&items[i], &a->sessions[i]);
    }
    for (size_t i = 0; i < nb; i++) {
        s_item(&items[na + i], &b->sessions[i]);
    }
    size_t n = na + nb;
    qsort(items, n, sizeof *items, s_by_key);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && strcmp(s_key(&items[kept - 1]), s_key(&items[i])) == 0) {
            continue; /* the same key: the smallest digest came first */
        }
        items[kept++] = items[i];
    }
    qsort(items, kept, sizeof *items, s_by_start);
    obs_session_t *sessions = kept ? xcalloc(kept, sizeof *sessions) : NULL;
    for (size_t i = 0; i < kept; i++) {
        obs_session_copy(&sessions[i], items[i].s);
    }
    free(items);
    *out = sessions;
    *n_out = kept;
}

/*  The start of the earliest session, or INFINITY without sessions. -0.0 and 0.0 compare
    equal, so whichever came first would otherwise be the time written into append_at, and
    two orders of the same appends would end in records that differ in that sign: a zero is
    returned as +0.0. */
static double
s_earliest(const obs_t *o)
{
    double t = INFINITY;
    for (size_t i = 0; o && i < o->n_sessions; i++) {
        if (o->sessions[i].start < t) {
            t = o->sessions[i].start;
        }
    }
    return t == 0.0 ? 0.0 : t;
}

/*  --------------------------------------------------------------------------------------
    Fields */

/*  -1, 0, 1 comparing two optional strings (absent first). */
static int
s_strcmp(const char *a, const char *b)
{
    if (!a || !b) {
        return (a != NULL) - (b != NULL);
    }
    return strcmp(a, b);
}

/*  One field's value in a record, seen generically. */
typedef struct {
    bool present;     /* the record has the field */
    const char *s[3]; /* string parts (truth: campaign, identity, actor) */
    int64_t i;        /* integer value (asn, kd_simhash) */
} s_val_t;

/*  Orders two present values of the same field. */
static int
s_val_cmp(const s_val_t *a, const s_val_t *b)
{
    for (int k = 0; k < 3; k++) {
        int c = s_strcmp(a->s[k], b->s[k]);
        if (c != 0) {
            return c;
        }
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

/*  The scalar fields a merge fills, in append_at's names. Fingerprint kinds are handled
    after them. */
enum { S_F_ASN, S_F_HASSH, S_F_IP, S_F_JA3, S_F_JA4, S_F_KD, S_F_TRUTH, S_F_COUNT };
static const char *const s_field_names[S_F_COUNT] = {"asn", "hassh",      "ip",   "ja3",
                                                     "ja4", "kd_simhash", "truth"};

static s_val_t
s_get(const obs_t *o, int f)
{
    s_val_t v = {0};
    switch (f) {
    case S_F_ASN:
        v.present = o->has_asn;
        v.i = o->asn;
        break;
    case S_F_HASSH:
        v.present = o->hassh != NULL;
        v.s[0] = o->hassh;
        break;
    case S_F_IP:
        v.present = o->ip != NULL;
        v.s[0] = o->ip;
        break;
    case S_F_JA3:
        v.present = o->ja3 != NULL;
        v.s[0] = o->ja3;
        break;
    case S_F_JA4:
        v.present = o->ja4 != NULL;
        v.s[0] = o->ja4;
        break;
    case S_F_KD:
        v.present = o->has_kd;
        v.i = (int64_t)o->kd_simhash;
        break;
    default: /* S_F_TRUTH */
        v.present = o->truth_campaign || o->truth_identity || o->truth_actor;
        v.s[0] = o->truth_campaign;
        v.s[1] = o->truth_identity;
        v.s[2] = o->truth_actor;
        break;
    }
    return v;
}

static char *
s_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/*  Copies field f from src to dst. */
static void
s_copy_field(obs_t *dst, const obs_t *src, int f)
{
    switch (f) {
    case S_F_ASN:
        dst->has_asn = src->has_asn;
        dst->asn = src->asn;
        break;
    case S_F_HASSH:
        free(dst->hassh);
        dst->hassh = s_dup(src->hassh);
        break;
    case S_F_IP:
        free(dst->ip);
        dst->ip = s_dup(src->ip);
        break;
    case S_F_JA3:
        free(dst->ja3);
        dst->ja3 = s_dup(src->ja3);
        break;
    case S_F_JA4:
        free(dst->ja4);
        dst->ja4 = s_dup(src->ja4);
        break;
    case S_F_KD:
        dst->has_kd = src->has_kd;
        dst->kd_simhash = src->kd_simhash;
        break;
    default:
        free(dst->truth_campaign);
        free(dst->truth_identity);
        free(dst->truth_actor);
        dst->truth_campaign = s_dup(src->truth_campaign);
        dst->truth_identity = s_dup(src->truth_identity);
        dst->truth_actor = s_dup(src->truth_actor);
        break;
    }
}

/*  The provenance of a field the stored record holds: its append_at entry, or, for a record
    an upsert wrote, its earliest session. */
static double
s_at(const obs_t *o, const char *field, double fallback)
{
    double t = obs_at_get(o, field);
    return isnan(t) ? fallback : t;
}

/*  Decides one field: the stored value (at t_old) or the delta's (at t_new), keeping the
    smaller (time, value); equal values keep the earlier time. Returns the winner: 0 stored,
    1 delta, 2 equal. */
static int
s_choose(int cmp_values, double t_old, double t_new)
{
    if (cmp_values == 0) {
        return 2;
    }
    if (t_new != t_old) {
        return t_new < t_old ? 1 : 0;
    }
    return cmp_values > 0 ? 1 : 0;
}

/*  --------------------------------------------------------------------------------------
    The merge */

int
obs_append_merge(obs_t **stored_p, const obs_t *delta, obs_error_t *err)
{
    const obs_t *old = *stored_p;
    double t_new = s_earliest(delta);
    double t_base = s_earliest(old);
    obs_t *m = old ? obs_dup(old) : obs_new();
    m->op = OBS_UPSERT;
    if (!m->id) {
        m->id = xstrdup(delta->id);
    }
    /* Every field the stored record holds gets its provenance written down, so the next
       merge compares against the same times whatever happened since. */
    for (int f = 0; f < S_F_COUNT; f++) {
        s_val_t ov = s_get(m, f);
        s_val_t nv = s_get(delta, f);
        double t_old = s_at(m, s_field_names[f], t_base);
        if (ov.present) {
            obs_at_set(m, s_field_names[f], t_old);
        }
        if (!nv.present) {
            continue;
        }
        int win = ov.present ? s_choose(s_val_cmp(&ov, &nv), t_old, t_new) : 1;
        if (win == 1) {
            s_copy_field(m, delta, f);
            obs_at_set(m, s_field_names[f], t_new);
        } else if (win == 2 && t_new < t_old) {
            obs_at_set(m, s_field_names[f], t_new);
        }
    }
    for (size_t i = 0; i < m->n_fps; i++) {
        char field[64];
        snprintf(field, sizeof field, "fingerprints.%s", m->fps[i].kind);
        obs_at_set(m, field, s_at(m, field, t_base));
    }
    for (size_t i = 0; i < delta->n_fps; i++) {
        const char *kind = delta->fps[i].kind;
        const char *value = delta->fps[i].value;
        char field[64];
        snprintf(field, sizeof field, "fingerprints.%s", kind);
        const char *have = obs_fp_get(m, kind);
        int win = 1;
        if (have) {
            win = s_choose(strcmp(have, value), s_at(m, field, t_base), t_new);
        } else if (m->n_fps >= OBS_MAX_FPS) {
            obs_destroy(&m);
            return obs_error_set(err, err->record, delta->id, "fingerprints",
                                 "the append would make more than %d fingerprints", OBS_MAX_FPS);
        }
        if (win == 1) {
            obs_fp_set(m, kind, value);
            obs_at_set(m, field, t_new);
        } else if (win == 2 && t_new < s_at(m, field, t_base)) {
            obs_at_set(m, field, t_new);
        }
    }
    obs_session_t *sessions = NULL;
    size_t n = 0;
    s_merge_sessions(old, delta, &sessions, &n);
    for (size_t i = 0; i < m->n_sessions; i++) {
        obs_session_clear(&m->sessions[i]);
    }
    free(m->sessions);
    m->sessions = sessions;
    m->n_sessions = n;
    m->sessions_cap = n;
    if (n > OBS_MAX_SESSIONS) {
        obs_destroy(&m);
        return obs_error_set(err, err->record, delta->id, "sessions",
                             "the append would make %zu sessions, over the limit of %d", n,
                             OBS_MAX_SESSIONS);
    }
    obs_t *prev = *stored_p;
    obs_destroy(&prev);
    *stored_p = m;
    return 0;
}
