/*  obs_resolve.c - stream-side append resolution (see obs_resolve.h). */
#include "obs_resolve.h"

#include "err.h"
#include "obs_append.h"
#include "wire.h"
#include "xalloc.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct obs_resolver_t {
    bool keep;         /* records are kept */
    zhashx_t *current; /* id -> wire_buf_t * (the current record's MessagePack bytes) */
};

static void
s_buf_destroy(void **item)
{
    wire_buf_t *buf = *item;
    if (buf) {
        wire_buf_free(buf);
        free(buf);
        *item = NULL;
    }
}

obs_resolver_t *
obs_resolver_new(bool keep)
{
    obs_resolver_t *self = xcalloc(1, sizeof *self);
    self->keep = keep;
    if (keep) {
        self->current = zhashx_new();
        zhashx_set_destructor(self->current, s_buf_destroy);
    }
    return self;
}

void
obs_resolver_destroy(obs_resolver_t **self_p)
{
    if (!*self_p) {
        return;
    }
    zhashx_destroy(&(*self_p)->current);
    free(*self_p);
    *self_p = NULL;
}

/*  Remembers obs as its id's current record. */
static void
s_keep(obs_resolver_t *self, const obs_t *obs)
{
    wire_buf_t *buf = xcalloc(1, sizeof *buf);
    wire_buf_init(buf);
    obs_error_t err;
    if (wire_obs_encode(obs, buf, &err) != 0) {
        /* A record that passed its checks always encodes. */
        abort();
    }
    zhashx_update(self->current, obs->id, buf);
}

int
obs_resolver_apply(obs_resolver_t *self, obs_t **obs_p, obs_error_t *err)
{
    obs_t *obs = *obs_p;
    if (obs->op == OBS_DELETE) {
        if (self->keep) {
            zhashx_delete(self->current, obs->id);
        }
        return 0;
    }
    if (obs->op == OBS_UPSERT) {
        if (self->keep) {
            s_keep(self, obs);
        }
        return 0;
    }
    obs_t *stored = NULL;
    wire_buf_t *buf = self->keep ? zhashx_lookup(self->current, obs->id) : NULL;
    if (buf) {
        obs_error_t e;
        if (wire_obs_decode(buf->data, buf->len, 0, &stored, &e) != 0) {
            abort(); /* written by s_keep */
        }
    }
    int rc = obs_append_merge(&stored, obs, err);
    if (rc != 0) {
        obs_destroy(&stored);
        return rc;
    }
    if (self->keep) {
        s_keep(self, stored);
    }
    obs_destroy(obs_p);
    *obs_p = stored;
    return 0;
}

bool
obs_resolve_needed(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return true;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        return true;
    }
    static const char word[] = "append";
    const size_t wl = sizeof word - 1;
    char buf[1 << 16];
    size_t carry = 0;
    bool found = false;
    for (;;) {
        size_t got = fread(buf + carry, 1, sizeof buf - carry, f);
        if (got == 0) {
            break;
        }
        size_t n = carry + got;
        for (size_t i = 0; i + wl <= n && !found; i++) {
            found = buf[i] == 'a' && memcmp(buf + i, word, wl) == 0;
        }
        if (found) {
            break;
        }
        /* Keep the tail, so a word across two reads is seen. */
        carry = n < wl - 1 ? n : wl - 1;
        memmove(buf, buf + n - carry, carry);
    }
    fclose(f);
    return found;
}
