/*  ship_in.c - the input kinds of `cadre ship` (see ship_in.h). */
#include "ship_in.h"

#include "err.h"
#include "jsonio.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------------------------------------
    cowrie: Cowrie JSON logs through the Cowrie adapter */

/*  One Cowrie instance: the adapter, emptied at every cut. */
typedef struct {
    cowrie_t *cw; /* the adapter, owned */
} s_cowrie_t;

static void *
s_cowrie_open(const ship_in_opts_t *opts)
{
    s_cowrie_t *st = xcalloc(1, sizeof *st);
    cowrie_opts_t co = {.group = opts->group, .decky = opts->decky};
    st->cw = cowrie_new(&co);
    return st;
}

static int
s_cowrie_feed(void *arg_st, const char *data, size_t len, uint64_t no, ship_emit_fn emit, void *arg,
              char *why, size_t whylen)
{
    (void)emit;
    (void)arg;
    s_cowrie_t *st = arg_st;
    size_t before = cowrie_bad_reported(st->cw);
    int rc;
    if (!data) {
        char msg[96];
        snprintf(msg, sizeof msg, "line longer than %u bytes, skipped", COWRIE_MAX_LINE);
        rc = cowrie_bad_line(st->cw, no, msg);
    } else {
        rc = cowrie_feed(st->cw, data, len, no);
    }
    if (rc != 0) {
        const cowrie_bad_t *b = cowrie_bad_at(st->cw, before);
        snprintf(why, whylen, "%s",
                 b && cowrie_bad_reported(st->cw) > before ? b->message : "bad Cowrie event");
        return CADRE_ERECORD;
    }
    return 0;
}

/*  The adapter's sink: an observation on to the shipper's emit. */
typedef struct {
    ship_emit_fn emit; /* the shipper's */
    void *arg;         /* its argument */
} s_relay_t;

static int
s_relay(const obs_t *obs, void *arg)
{
    s_relay_t *r = arg;
    return r->emit(obs, r->arg);
}

static int
s_cowrie_cut(void *arg_st, const char *tag, ship_emit_fn emit, void *arg)
{
    s_cowrie_t *st = arg_st;
    s_relay_t relay = {.emit = emit, .arg = arg};
    cowrie_set_part(st->cw, tag);
    return cowrie_finish(st->cw, s_relay, &relay);
}

static void
s_cowrie_close(void **st_p)
{
    s_cowrie_t *st = *st_p;
    if (st) {
        cowrie_destroy(&st->cw);
        free(st);
    }
    *st_p = NULL;
}

/* -------------------------------------------------------------------------------------------
    decnet: DECNET's RFC 5424 lines (and `cadre syslog-recv` output) through the DECNET
    adapter. Its session ids are numbered per observation ("ssh-1"), so they repeat across
    parts: the shipper names them after the part (unique_ids false). */

/*  One DECNET instance: the adapter, replaced by a new one at every cut (the adapter
    numbers a source's later observations "~2", "~3": a part's must be its first). */
typedef struct {
    decnet_t *dn;               /* the adapter, owned */
    const ship_in_opts_t *opts; /* the options (borrowed: they outlive every instance) */
} s_decnet_t;

static decnet_t *
s_decnet_new(const ship_in_opts_t *opts)
{
    decnet_opts_t d = {.session_gap = opts->session_gap};
    decnet_t *dn = decnet_new(&d);
    if (opts->decnet_state) {
        obs_error_t e;
        decnet_load_state(dn, opts->decnet_state, opts->decnet_state_len, &e);
    }
    return dn;
}

static void *
s_decnet_open(const ship_in_opts_t *opts)
{
    s_decnet_t *st = xcalloc(1, sizeof *st);
    st->opts = opts;
    st->dn = s_decnet_new(opts);
    return st;
}

static int
s_decnet_feed(void *arg_st, const char *data, size_t len, uint64_t no, ship_emit_fn emit, void *arg,
              char *why, size_t whylen)
{
    (void)emit;
    (void)arg;
    s_decnet_t *st = arg_st;
    size_t before = decnet_bad_reported(st->dn);
    int rc;
    if (!data) {
        char msg[96];
        snprintf(msg, sizeof msg, "line longer than %u bytes, skipped", DECNET_MAX_LINE);
        rc = decnet_bad_line(st->dn, no, msg);
    } else {
        rc = decnet_feed(st->dn, data, len, no);
    }
    if (rc != 0) {
        const decnet_bad_t *b = decnet_bad_at(st->dn, before);
        snprintf(why, whylen, "%s",
                 b && decnet_bad_reported(st->dn) > before ? b->message : "bad DECNET line");
        return CADRE_ERECORD;
    }
    return 0;
}

static int
s_decnet_cut(void *arg_st, const char *tag, ship_emit_fn emit, void *arg)
{
    (void)tag; /* the shipper names the sessions */
    s_decnet_t *st = arg_st;
    s_relay_t relay = {.emit = emit, .arg = arg};
    int rc = decnet_finish(st->dn, s_relay, &relay);
    decnet_destroy(&st->dn);
    st->dn = s_decnet_new(st->opts);
    return rc;
}

static void
s_decnet_close(void **st_p)
{
    s_decnet_t *st = *st_p;
    if (st) {
        decnet_destroy(&st->dn);
        free(st);
    }
    *st_p = NULL;
}

/* -------------------------------------------------------------------------------------------
    obs: cadre observations (JSON Lines or MessagePack), sent as they are */

/*  One obs instance. */
typedef struct {
    bool op_append; /* upserts become appends */
} s_obs_t;

static void *
s_obs_open(const ship_in_opts_t *opts)
{
    s_obs_t *st = xcalloc(1, sizeof *st);
    st->op_append = opts->op_append;
    return st;
}

static bool
s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

static int
s_obs_feed(void *arg_st, const char *data, size_t len, uint64_t no, ship_emit_fn emit, void *arg,
           char *why, size_t whylen)
{
    s_obs_t *st = arg_st;
    if (!data) {
        snprintf(why, whylen, "record longer than %u bytes, skipped", OBS_MAX_RECORD);
        return CADRE_ERECORD;
    }
    /* A MessagePack map never starts with a JSON text's '{' or blank. */
    bool json = len == 0 || data[0] == '{' || data[0] == ' ' || data[0] == '\t' ||
                data[0] == '\r' || data[0] == '[' || data[0] == '"';
    if (json && s_blank(data, len)) {
        return 0;
    }
    obs_t *obs = NULL;
    obs_error_t e;
    int rc = json ? jsonio_obs_decode(data, len, no, &obs, &e)
                  : wire_obs_decode(data, len, no, &obs, &e);
    if (rc != 0) {
        obs_error_format(&e, NULL, why, whylen);
        return CADRE_ERECORD;
    }
    if (st->op_append && obs->op == OBS_UPSERT) {
        obs->op = OBS_APPEND;
    }
    rc = emit(obs, arg);
    obs_destroy(&obs);
    return rc;
}

static void
s_obs_close(void **st_p)
{
    free(*st_p);
    *st_p = NULL;
}

/* -------------------------------------------------------------------------------------------
    The table */

static const ship_in_t s_kinds[] = {
    {.name = "cowrie",
     .frame = SHIP_FRAME_LINES,
     .max_len = COWRIE_MAX_LINE,
     .parts = true,
     .unique_ids = true,
     .open = s_cowrie_open,
     .feed = s_cowrie_feed,
     .cut = s_cowrie_cut,
     .close = s_cowrie_close},
    {.name = "decnet",
     .frame = SHIP_FRAME_LINES,
     .max_len = DECNET_MAX_LINE,
     .parts = true,
     .unique_ids = false,
     .open = s_decnet_open,
     .feed = s_decnet_feed,
     .cut = s_decnet_cut,
     .close = s_decnet_close},
    {.name = "obs",
     .detect = true,
     .frame = SHIP_FRAME_LINES,
     .max_len = OBS_MAX_RECORD,
     .parts = false,
     .unique_ids = true,
     .open = s_obs_open,
     .feed = s_obs_feed,
     .cut = NULL,
     .close = s_obs_close},
};

const ship_in_t *
ship_in_find(const char *name)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++) {
        if (strcmp(s_kinds[i].name, name) == 0) {
            return &s_kinds[i];
        }
    }
    return NULL;
}

const char *
ship_in_names(void)
{
    return "cowrie|obs|decnet";
}
