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

void
route_entry(const obs_t *obs, uint64_t seq, const route_keys_t *keys, uint32_t shard,
            wmsg_keys_entry_t *entry)
{
    memset(entry, 0, sizeof *entry);
    entry->seq = seq;
    entry->id = xstrdup(obs->id);
    entry->is_delete = obs->op == OBS_DELETE;
    entry->keys = xcalloc(keys->n + 1, sizeof *entry->keys);
    for (size_t i = 0; i < keys->n; i++) {
        if (keys->owner[i] == shard) {
            entry->keys[entry->n_keys].family = keys->keys[i].family;
            entry->keys[entry->n_keys].value = xstrdup(keys->keys[i].value);
            entry->n_keys++;
        }
    }
    if (!entry->is_delete) {
        entry->triple[0] = obs->ja3 ? xstrdup(obs->ja3) : NULL;
        entry->triple[1] = obs->hassh ? xstrdup(obs->hassh) : NULL;
        entry->triple[2] = obs->ja4 ? xstrdup(obs->ja4) : NULL;
    }
}
