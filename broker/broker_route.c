/*  broker_route.c - key ownership and KEYS entries (see broker_route.h). */
#include "broker_route.h"

#include "ccfg.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

uint32_t
route_jump(uint64_t key, uint32_t buckets)
{
    int64_t b = -1;
    int64_t j = 0;
    while (j < (int64_t)buckets) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (uint32_t)b;
}

uint32_t
route_owner(int family, const char *value, uint32_t shards)
{
    /* The family is the hash seed, so equal strings of different families spread apart. */
    return route_jump(XXH3_64bits_withSeed(value, strlen(value), (XXH64_hash_t)family), shards);
}

static void
s_add(route_keys_t *out, size_t *cap, int family, const char *value, uint32_t shards)
{
    for (size_t i = 0; i < out->n; i++) {
        if (out->keys[i].family == family && strcmp(out->keys[i].value, value) == 0) {
            return;
        }
    }
    if (out->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        out->keys = xrealloc(out->keys, *cap * sizeof *out->keys);
        out->owner = xrealloc(out->owner, *cap * sizeof *out->owner);
    }
    out->keys[out->n].family = family;
    out->keys[out->n].value = (char *)value;
    out->owner[out->n] = route_owner(family, value, shards);
    out->n++;
}

void
route_keys(const obs_t *obs, uint32_t shards, route_keys_t *out)
{
    memset(out, 0, sizeof *out);
    if (obs->op == OBS_DELETE) {
        return;
    }
    size_t cap = 0;
    if (obs->ja3) {
        s_add(out, &cap, KEY_JA3, obs->ja3, shards);
    }
    if (obs->ja4) {
        s_add(out, &cap, KEY_JA4, obs->ja4, shards);
    }
    if (obs->hassh) {
        s_add(out, &cap, KEY_HASSH, obs->hassh, shards);
    }
    for (size_t i = 0; i < obs->n_sessions; i++) {
        const obs_session_t *s = &obs->sessions[i];
        if (s->payload_hash && s->payload_hash[0]) {
            s_add(out, &cap, KEY_PAYLOAD, s->payload_hash, shards);
        }
        if (s->c2 && s->c2[0]) {
            s_add(out, &cap, KEY_C2, s->c2, shards);
        }
    }
    for (size_t i = 0; i < obs->n_fps; i++) {
        int fam = ccfg_fp_family(obs->fps[i].kind);
        if (fam >= 0 && obs->fps[i].value[0]) {
            s_add(out, &cap, (key_family_t)fam, obs->fps[i].value, shards);
        }
    }
}

void
route_keys_clear(route_keys_t *keys)
{
    free(keys->keys);
    free(keys->owner);
    memset(keys, 0, sizeof *keys);
}

void
route_mask_of(const route_keys_t *keys, route_mask_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < keys->n; i++) {
        out->bits[keys->owner[i] / 64] |= (uint64_t)1 << (keys->owner[i] % 64);
    }
}

bool
route_mask_has(const route_mask_t *mask, uint32_t shard)
{
    return (mask->bits[shard / 64] >> (shard % 64)) & 1U;
}

/*  Copies s into the block at *at (advancing it), or returns NULL for NULL. */
static const char *
s_put(char **at, const char *s)
{
    if (!s) {
        return NULL;
    }
    size_t len = strlen(s) + 1;
    memcpy(*at, s, len);
    const char *out = *at;
    *at += len;
    return out;
}

void
route_info_make(const obs_t *obs, uint32_t shards, route_info_t *out)
{
    memset(out, 0, sizeof *out);
    route_keys_t keys;
    route_keys(obs, shards, &keys);
    bool del = obs->op == OBS_DELETE;
    const char *triple[3] = {del ? NULL : obs->ja3, del ? NULL : obs->hassh, del ? NULL : obs->ja4};
    /* Arrays first (aligned), then the strings. */
    size_t arrays = keys.n * (sizeof(wmsg_key_t) + sizeof(uint32_t));
    size_t bytes = arrays + strlen(obs->id) + 1;
    for (size_t i = 0; i < keys.n; i++) {
        bytes += strlen(keys.keys[i].value) + 1;
    }
    for (int t = 0; t < 3; t++) {
        bytes += triple[t] ? strlen(triple[t]) + 1 : 0;
    }
    out->mem = xmalloc(bytes + 1);
    out->keys.keys = (wmsg_key_t *)(void *)out->mem;
    out->keys.owner = (uint32_t *)(void *)(out->mem + keys.n * sizeof(wmsg_key_t));
    out->keys.n = keys.n;
    char *at = out->mem + arrays;
    out->id = s_put(&at, obs->id);
    out->is_delete = del;
    for (size_t i = 0; i < keys.n; i++) {
        out->keys.keys[i].family = keys.keys[i].family;
        out->keys.keys[i].value = (char *)s_put(&at, keys.keys[i].value);
        out->keys.owner[i] = keys.owner[i];
    }
    for (int t = 0; t < 3; t++) {
        out->triple[t] = s_put(&at, triple[t]);
    }
    route_keys_clear(&keys);
}

void
route_info_clear(route_info_t *info)
{
    free(info->mem);
    memset(info, 0, sizeof *info);
}

void
route_entry(const route_info_t *info, uint64_t seq, uint32_t shard, wmsg_keys_entry_t *entry)
{
    const route_keys_t *keys = &info->keys;
    memset(entry, 0, sizeof *entry);
    entry->seq = seq;
    entry->id = xstrdup(info->id);
    entry->is_delete = info->is_delete;
    entry->keys = xcalloc(keys->n + 1, sizeof *entry->keys);
    for (size_t i = 0; i < keys->n; i++) {
        if (keys->owner[i] == shard) {
            entry->keys[entry->n_keys].family = keys->keys[i].family;
            entry->keys[entry->n_keys].value = xstrdup(keys->keys[i].value);
            entry->n_keys++;
        }
    }
    for (int t = 0; t < 3; t++) {
        entry->triple[t] = info->triple[t] ? xstrdup(info->triple[t]) : NULL;
    }
}
