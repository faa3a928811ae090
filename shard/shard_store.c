/*  shard_store.c - one shard's durable key index in LMDB (see shard_store.h).

    The environment holds six named databases:

      meta     "version", "applied", "barrier" -> u64 (native byte order)
      obs      observation id -> record: the id's keys (sorted, distinct) and its triple
      members  ekey -> observation id (MDB_DUPSORT: one duplicate per member)
      fpidx    ekey of a fingerprint (ja3, hassh or ja4 family) -> ids whose triple holds it
      dirty    ekey -> raw value, for every block dirtied since the last barrier
      generic  ekey -> raw value, for every (family, value) the broker committed as generic

    An ekey ("encoded key") is one family byte followed by the value's bytes, so equal
    strings of different families never collide. LMDB keys are at most 511 bytes while
    fingerprints may be 4096 (SPEC §2), so a value too long for that is stored as the family
    byte with its high bit set followed by the value's SHA-256; the raw value stays
    recoverable because the dirty and generic sets keep it as their data, and those two are
    the only sets that are ever iterated back into (family, value) pairs.

    The holder count of a key is the number of duplicates under its ekey in members
    (mdb_cursor_count), so it is consistent with the membership by construction.

    An obs record is: one byte whose bit s says triple slot s is present; for each present
    slot u32 length, the bytes and a NUL; u32 key count; for each key one family byte,
    u32 length, the bytes and a NUL. The NULs let decoded strings be used as C strings.

    LMDB memory is valid only while its transaction lives and, in a write transaction, only
    until the next write; every record that is used across a write is first copied into a
    scratch buffer of the store, and every string handed to a callback is copied into the
    store's arena.
*/
#include "shard_store.h"

#include "ccfg.h"
#include "digest.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define S_FORMAT_VERSION 1         /* meta "version": the layout described above */
#define S_KEY_MAX 511              /* LMDB's key size limit (MDB_MAXKEYSIZE's default) */
#define S_LONG_BIT 0x80            /* family byte flag: the value is hashed */
#define S_HASH_LEN 32              /* SHA-256 */
#define S_DEFAULT_MAP (1ull << 30) /* map size when the caller passes 0 */
#define S_NONE SIZE_MAX            /* arena offset of an absent string */

_Static_assert(KEY_FAMILY_COUNT < S_LONG_BIT, "families fit below the long-key bit");
_Static_assert(CCFG_GENERIC_FAMILIES == 18,
               "the API's cutoff array has one entry per blocking family");
_Static_assert(SHARD_STORE_MAX_ID <= S_KEY_MAX, "ids are LMDB duplicate data");

/*  The family of each triple slot, in the protocol's order [ja3, hassh, ja4]. */
static const int s_slot_family[3] = {KEY_JA3, KEY_HASSH, KEY_JA4};

/*  A key with its length. */
typedef struct {
    int family;        /* key_family_t */
    const char *value; /* NUL-terminated */
    size_t len;        /* strlen(value) */
} s_key_t;

/*  A decoded obs record; its strings point into the buffer it was decoded from. */
typedef struct {
    const char *triple[3]; /* NULL when absent */
    size_t tlen[3];        /* lengths of the present slots */
    size_t n;              /* number of keys */
    s_key_t *keys;         /* the keys (store scratch), sorted; NULL unless asked for */
} s_rec_t;

struct shard_store_t {
    MDB_env *env;          /* the environment (owned) */
    MDB_dbi meta;          /* applied and barrier seqs, format version */
    MDB_dbi obs;           /* id -> record */
    MDB_dbi members;       /* ekey -> ids (dupsort) */
    MDB_dbi fpidx;         /* fingerprint ekey -> ids (dupsort) */
    MDB_dbi dirty;         /* ekey -> raw value */
    MDB_dbi generic;       /* ekey -> raw value */
    MDB_txn *txn;          /* the open write transaction, or NULL */
    uint64_t applied;      /* applied seq as of the last commit */
    uint64_t barrier;      /* last barrier seq as of the last commit */
    uint64_t cur_applied;  /* applied seq as seen by the open transaction */
    uint64_t cur_barrier;  /* last barrier seq as seen by the open transaction */
    s_key_t *nkeys;        /* scratch: the new keys of an apply, sorted and distinct */
    size_t nkeys_cap;      /* capacity of nkeys */
    s_key_t *okeys;        /* scratch: the keys of a decoded record */
    size_t okeys_cap;      /* capacity of okeys */
    char *rec;             /* scratch: copy of one obs record */
    size_t rec_cap;        /* capacity of rec */
    char *enc;             /* scratch: an obs record being encoded */
    size_t enc_cap;        /* capacity of enc */
    char *arena;           /* strings handed to callbacks, and collected ids */
    size_t arena_cap;      /* capacity of arena */
    size_t *offs;          /* arena offsets: members, then 3 per member for triples */
    size_t offs_cap;       /* capacity of offs */
    const char **ptrs;     /* each_dirty: member pointers */
    size_t ptrs_cap;       /* capacity of ptrs */
    const char *(*tri)[3]; /* each_dirty: triple pointers */
    size_t tri_cap;        /* capacity of tri */
    char *fbuf;            /* generic_flips: the reported value */
    size_t fbuf_cap;       /* capacity of fbuf */
};

/*  --------------------------------------------------------------------------------------
    Errors and transactions */

/*  Translates an LMDB return code into cadre's convention (the table in docs/storage.md). */
static int
s_err(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case MDB_MAP_FULL:
        return CADRE_EFULL;
    case MDB_TXN_FULL:
    case MDB_BAD_VALSIZE:
        return CADRE_ELIMIT;
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return CADRE_EFORMAT;
    default:
        break;
    }
    if (rc > 0) {
        return -rc;
    }
    log_error("shard store: %s", mdb_strerror(rc));
    return CADRE_ESTORE;
}

/*  Joins the open batch, or opens a write transaction of its own (*own = true). */
static int
s_wbegin(shard_store_t *self, bool *own)
{
    *own = false;
    if (self->txn) {
        return 0;
    }
    int rc = shard_store_begin(self);
    if (rc == 0) {
        *own = true;
    }
    return rc;
}

/*  Ends a write started by s_wbegin: on failure the whole batch is aborted; on success an
    own transaction is committed. Returns rc or the commit's error. */
static int
s_wend(shard_store_t *self, bool own, int rc)
{
    if (rc != 0) {
        shard_store_abort(self);
        return rc;
    }
    return own ? shard_store_commit(self) : 0;
}

/*  The open batch, or a new read-only transaction (end it with s_rend). */
static int
s_rbegin(shard_store_t *self, MDB_txn **txn)
{
    if (self->txn) {
        *txn = self->txn;
        return 0;
    }
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn);
    if (rc != 0) {
        *txn = NULL;
    }
    return s_err(rc);
}

static void
s_rend(shard_store_t *self, MDB_txn *txn)
{
    if (txn && txn != self->txn) {
        mdb_txn_abort(txn);
    }
}

/*  --------------------------------------------------------------------------------------
    Encodings */

/*  Writes the ekey of (family, value) into out and returns its length. */
static size_t
s_ekey(int family, const char *value, size_t len, unsigned char out[S_KEY_MAX])
{
    if (1 + len <= S_KEY_MAX) {
        out[0] = (unsigned char)family;
        memcpy(out + 1, value, len);
        return 1 + len;
    }
    out[0] = (unsigned char)(family | S_LONG_BIT);
    digest_sha256(value, len, out + 1);
    return 1 + S_HASH_LEN;
}

/*  Orders keys by family, then by value bytes (a prefix first). */
static int
s_key_cmp(const void *pa, const void *pb)
{
    const s_key_t *a = pa;
    const s_key_t *b = pb;
    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->value, b->value, n);
    if (c != 0) {
        return c;
    }
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static bool
s_is_block_family(int family)
{
    return CCFG_SHARED_FAMILY(family);
}

static bool
s_same_str(const char *a, size_t alen, const char *b, size_t blen)
{
    if (!a || !b) {
        return a == b;
    }
    return alen == blen && memcmp(a, b, alen) == 0;
}

static void
s_put_u32(char **p, size_t v)
{
    uint32_t u = (uint32_t)v;
    memcpy(*p, &u, 4);
    *p += 4;
}

/*  Appends u32 length, the bytes and a NUL. */
static void
s_put_str(char **p, const char *s, size_t len)
{
    s_put_u32(p, len);
    memcpy(*p, s, len);
    (*p)[len] = '\0';
    *p += len + 1;
}

/*  Encodes keys and triple into self->enc; returns the length. */
static size_t
s_encode(shard_store_t *self, const s_key_t *keys, size_t n, const char *const t[3],
         const size_t tlen[3])
{
    size_t need = 1 + 4;
    for (int s = 0; s < 3; s++) {
        need += t[s] ? 4 + tlen[s] + 1 : 0;
    }
    for (size_t i = 0; i < n; i++) {
        need += 1 + 4 + keys[i].len + 1;
    }
    xgrow(&self->enc, &self->enc_cap, need);
    char *p = self->enc;
    *p++ = (char)((t[0] ? 1 : 0) | (t[1] ? 2 : 0) | (t[2] ? 4 : 0));
    for (int s = 0; s < 3; s++) {
        if (t[s]) {
            s_put_str(&p, t[s], tlen[s]);
        }
    }
    s_put_u32(&p, n);
    for (size_t i = 0; i < n; i++) {
        *p++ = (char)keys[i].family;
        s_put_str(&p, keys[i].value, keys[i].len);
    }
    assert((size_t)(p - self->enc) == need);
    return need;
}

/*  Reads one length-prefixed, NUL-terminated string at *p (bounded by end). */
static int
s_get_str(const char **p, const char *end, const char **s, size_t *len)
{
    uint32_t u;
    if (end - *p < 4) {
        return CADRE_ESTORE;
    }
    memcpy(&u, *p, 4);
    *p += 4;
    if ((size_t)(end - *p) < (size_t)u + 1 || (*p)[u] != '\0') {
        return CADRE_ESTORE;
    }
    *s = *p;
    *len = u;
    *p += (size_t)u + 1;
    return 0;
}

/*  Decodes the record in buf (len bytes). With want_keys the keys go to self->okeys;
    otherwise only the triple is decoded. Strings point into buf. */
static int
s_decode(shard_store_t *self, const char *buf, size_t len, s_rec_t *rec, bool want_keys)
{
    const char *p = buf;
    const char *end = buf + len;
    memset(rec, 0, sizeof *rec);
    if (len < 1 + 4 || (*p & ~7) != 0) {
        return CADRE_ESTORE;
    }
    int mask = *p++;
    for (int s = 0; s < 3; s++) {
        if ((mask & (1 << s)) && s_get_str(&p, end, &rec->triple[s], &rec->tlen[s]) != 0) {
            return CADRE_ESTORE;
        }
    }
    if (!want_keys) {
        return 0;
    }
    uint32_t n;
    if (end - p < 4) {
        return CADRE_ESTORE;
    }
    memcpy(&n, p, 4);
    p += 4;
    if (n > (size_t)(end - p) / 6) {
        return CADRE_ESTORE;
    }
    xgrow(&self->okeys, &self->okeys_cap, n);
    for (uint32_t i = 0; i < n; i++) {
        if (p == end) {
            return CADRE_ESTORE;
        }
        s_key_t *k = &self->okeys[i];
        k->family = (unsigned char)*p++;
        if (k->family >= KEY_FAMILY_COUNT || s_get_str(&p, end, &k->value, &k->len) != 0) {
            return CADRE_ESTORE;
        }
    }
    rec->n = n;
    rec->keys = self->okeys;
    return 0;
}

/*  Reads the record of id into rec (a copy in self->rec, so it survives writes). Sets
 *found; a missing record is not an error. */
static int
s_load(shard_store_t *self, MDB_txn *txn, const char *id, size_t idlen, s_rec_t *rec, bool *found)
{
    MDB_val k = {idlen, (void *)id};
    MDB_val d;
    *found = false;
    memset(rec, 0, sizeof *rec);
    int rc = mdb_get(txn, self->obs, &k, &d);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return s_err(rc);
    }
    xgrow(&self->rec, &self->rec_cap, d.mv_size + 1);
    memcpy(self->rec, d.mv_data, d.mv_size);
    *found = true;
    return s_decode(self, self->rec, d.mv_size, rec, true);
}

/*  --------------------------------------------------------------------------------------
    Small database helpers */

static int
s_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name};
    MDB_val d;
    *out = 0;
    int rc = mdb_get(txn, dbi, &k, &d);
    if (rc == MDB_NOTFOUND) {
        return MDB_NOTFOUND;
    }
    if (rc != 0) {
        return s_err(rc);
    }
    if (d.mv_size != sizeof *out) {
        return CADRE_ESTORE;
    }
    memcpy(out, d.mv_data, sizeof *out);
    return 0;
}

static int
s_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t v)
{
    MDB_val k = {strlen(name), (void *)name};
    MDB_val d = {sizeof v, &v};
    return s_err(mdb_put(txn, dbi, &k, &d, 0));
}

/*  Adds (ekey -> raw value) to the dirty set unless it is there already. */
static int
s_mark_dirty(shard_store_t *self, const unsigned char *ek, size_t eklen, const char *value,
             size_t len)
{
    MDB_val k = {eklen, (void *)ek};
    MDB_val d = {len, (void *)value};
    int rc = mdb_put(self->txn, self->dirty, &k, &d, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? 0 : s_err(rc);
}

/*  Number of duplicates under ek in members, through the members cursor mc. */
static int
s_count(MDB_cursor *mc, const unsigned char *ek, size_t eklen, uint64_t *count)
{
    MDB_val k = {eklen, (void *)ek};
    MDB_val d;
    *count = 0;
    int rc = mdb_cursor_get(mc, &k, &d, MDB_SET);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    size_t n = 0;
    if (rc == 0) {
        rc = mdb_cursor_count(mc, &n);
    }
    *count = n;
    return s_err(rc);
}

/*  Grows the arena so it holds need bytes. */
static void
s_arena_need(shard_store_t *self, size_t need)
{
    xgrow(&self->arena, &self->arena_cap, need);
}

/*  Copies len bytes and a NUL to the arena at *used; returns their offset. */
static size_t
s_arena_add(shard_store_t *self, size_t *used, const void *s, size_t len)
{
    s_arena_need(self, *used + len + 1);
    size_t off = *used;
    memcpy(self->arena + off, s, len);
    self->arena[off + len] = '\0';
    *used += len + 1;
    return off;
}

static void
s_offs_push(shard_store_t *self, size_t *n, size_t off)
{
    xgrow(&self->offs, &self->offs_cap, *n + 1);
    self->offs[(*n)++] = off;
}

/*  Collects the duplicates under ek in dbi into the arena (from offset 0) and their
    offsets into self->offs. Returns their number through *n and the arena bytes used
    through *used. */
static int
s_collect_dups(shard_store_t *self, MDB_txn *txn, MDB_dbi dbi, const unsigned char *ek,
               size_t eklen, size_t *n, size_t *used)
{
    MDB_cursor *c;
    *n = 0;
    *used = 0;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0) {
        return s_err(rc);
    }
    MDB_val k = {eklen, (void *)ek};
    MDB_val d;
    rc = mdb_cursor_get(c, &k, &d, MDB_SET_KEY);
    while (rc == 0) {
        s_offs_push(self, n, s_arena_add(self, used, d.mv_data, d.mv_size));
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_DUP);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

/*  --------------------------------------------------------------------------------------
    Lifecycle */

static int
s_open_dbs(shard_store_t *self, uint64_t *applied, uint64_t *barrier)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc != 0) {
        return s_err(rc);
    }
    const struct {
        const char *name;
        unsigned flags;
        MDB_dbi *dbi;
    } dbs[] = {
        {"meta", 0, &self->meta},
        {"obs", 0, &self->obs},
        {"members", MDB_DUPSORT, &self->members},
        {"fpidx", MDB_DUPSORT, &self->fpidx},
        {"dirty", 0, &self->dirty},
        {"generic", 0, &self->generic},
    };
    for (size_t i = 0; rc == 0 && i < sizeof dbs / sizeof dbs[0]; i++) {
        rc = s_err(mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | MDB_CREATE, dbs[i].dbi));
    }
    uint64_t version = 0;
    if (rc == 0) {
        rc = s_get_u64(txn, self->meta, "version", &version);
        if (rc == MDB_NOTFOUND) {
            version = S_FORMAT_VERSION;
            rc = s_put_u64(txn, self->meta, "version", version);
        }
    }
    if (rc == 0 && version != S_FORMAT_VERSION) {
        log_error("shard store: format version %llu, expected %d", (unsigned long long)version,
                  S_FORMAT_VERSION);
        rc = CADRE_EFORMAT;
    }
    if (rc == 0) {
        rc = s_get_u64(txn, self->meta, "applied", applied);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    if (rc == 0) {
        rc = s_get_u64(txn, self->meta, "barrier", barrier);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return s_err(mdb_txn_commit(txn));
}

shard_store_t *
shard_store_open(const char *dir, size_t map_bytes)
{
    assert(dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("shard store %s: %s", dir, strerror(errno));
        return NULL;
    }
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc != 0) {
        log_error("shard store %s: %s", dir, mdb_strerror(rc));
        return NULL;
    }
    rc = mdb_env_set_maxdbs(env, 6);
    if (rc == 0) {
        rc = mdb_env_set_mapsize(env, map_bytes ? map_bytes : S_DEFAULT_MAP);
    }
    if (rc == 0) {
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    }
    /* reader slots of processes that died (a crashed shard) would pin old pages forever */
    int dead = 0;
    if (rc == 0) {
        rc = mdb_reader_check(env, &dead);
    }
    if (rc != 0) {
        log_error("shard store %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(env);
        return NULL;
    }
    if (dead > 0) {
        log_warn("shard store %s: cleared %d stale reader slots", dir, dead);
    }
    if (mdb_env_get_maxkeysize(env) < S_KEY_MAX) {
        log_error("shard store %s: LMDB built with keys below %d bytes", dir, S_KEY_MAX);
        mdb_env_close(env);
        return NULL;
    }
    shard_store_t *self = xcalloc(1, sizeof *self);
    self->env = env;
    uint64_t applied = 0;
    uint64_t barrier = 0;
    rc = s_open_dbs(self, &applied, &barrier);
    if (rc != 0) {
        log_error("shard store %s: %s", dir, cadre_strerror(rc));
        mdb_env_close(env);
        free(self);
        return NULL;
    }
    self->applied = self->cur_applied = applied;
    self->barrier = self->cur_barrier = barrier;
    return self;
}

void
shard_store_destroy(shard_store_t **self_p)
{
    assert(self_p);
    shard_store_t *self = *self_p;
    if (!self) {
        return;
    }
    shard_store_abort(self);
    mdb_env_close(self->env);
    free(self->nkeys);
    free(self->okeys);
    free(self->rec);
    free(self->enc);
    free(self->arena);
    free(self->offs);
    free(self->ptrs);
    free(self->tri);
    free(self->fbuf);
    free(self);
    *self_p = NULL;
}

int
shard_store_begin(shard_store_t *self)
{
    assert(self && !self->txn);
    int rc = mdb_txn_begin(self->env, NULL, 0, &self->txn);
    if (rc != 0) {
        self->txn = NULL;
        return s_err(rc);
    }
    self->cur_applied = self->applied;
    self->cur_barrier = self->barrier;
    return 0;
}

int
shard_store_commit(shard_store_t *self)
{
    assert(self && self->txn);
    int rc = mdb_txn_commit(self->txn);
    self->txn = NULL;
    if (rc != 0) {
        self->cur_applied = self->applied;
        self->cur_barrier = self->barrier;
        return s_err(rc);
    }
    self->applied = self->cur_applied;
    self->barrier = self->cur_barrier;
    return 0;
}

void
shard_store_abort(shard_store_t *self)
{
    assert(self);
    if (self->txn) {
        mdb_txn_abort(self->txn);
        self->txn = NULL;
    }
    self->cur_applied = self->applied;
    self->cur_barrier = self->barrier;
}

uint64_t
shard_store_applied(const shard_store_t *self)
{
    assert(self);
    return self->cur_applied;
}

uint64_t
shard_store_last_barrier(const shard_store_t *self)
{
    assert(self);
    return self->cur_barrier;
}

/*  --------------------------------------------------------------------------------------
    Apply */

/*  The id joins the block of key: one more member, and the block is dirty. */
static int
s_join(shard_store_t *self, MDB_val *id, const s_key_t *key)
{
    unsigned char ek[S_KEY_MAX];
    MDB_val k = {s_ekey(key->family, key->value, key->len, ek), ek};
    int rc = mdb_put(self->txn, self->members, &k, id, MDB_NODUPDATA);
    if (rc != 0 && rc != MDB_KEYEXIST) {
        return s_err(rc);
    }
    return s_mark_dirty(self, ek, k.mv_size, key->value, key->len);
}

/*  The id leaves the block of key: one member less, and the block is dirty. */
static int
s_leave(shard_store_t *self, MDB_val *id, const s_key_t *key)
{
    unsigned char ek[S_KEY_MAX];
    MDB_val k = {s_ekey(key->family, key->value, key->len, ek), ek};
    int rc = mdb_del(self->txn, self->members, &k, id);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return s_err(rc);
    }
    return s_mark_dirty(self, ek, k.mv_size, key->value, key->len);
}

/*  Adds (add) or removes the id under fingerprint value v of triple slot s in fpidx. */
static int
s_fp_update(shard_store_t *self, MDB_val *id, int s, const char *v, size_t len, bool add)
{
    unsigned char ek[S_KEY_MAX];
    MDB_val k = {s_ekey(s_slot_family[s], v, len, ek), ek};
    int rc = add ? mdb_put(self->txn, self->fpidx, &k, id, MDB_NODUPDATA)
                 : mdb_del(self->txn, self->fpidx, &k, id);
    return rc == MDB_KEYEXIST || rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

/*  The body of shard_store_apply inside the write transaction; self->nkeys holds nn sorted,
    distinct keys. */
static int
s_apply(shard_store_t *self, uint64_t seq, const char *obs_id, size_t idlen, size_t nn,
        const char *const triple[3])
{
    MDB_val id = {idlen, (void *)obs_id};
    s_rec_t old;
    bool found;
    int rc = s_load(self, self->txn, obs_id, idlen, &old, &found);
    if (rc != 0) {
        return rc;
    }
    const s_key_t *nk = self->nkeys;
    bool changed = !found && nn > 0;
    /* Walk both sorted key lists: keys only in the old list are left, only in the new
       one joined; common keys keep their membership. */
    size_t i = 0;
    size_t j = 0;
    while (rc == 0 && (i < old.n || j < nn)) {
        int c = i == old.n ? 1 : j == nn ? -1 : s_key_cmp(&old.keys[i], &nk[j]);
        if (c < 0) {
            rc = s_leave(self, &id, &old.keys[i++]);
            changed = true;
        } else if (c > 0) {
            rc = s_join(self, &id, &nk[j++]);
            changed = true;
        } else {
            i++;
            j++;
        }
    }
    /* The triple as of this input: a removed id holds no fingerprint. */
    const char *nt[3] = {NULL, NULL, NULL};
    size_t ntlen[3] = {0, 0, 0};
    for (int s = 0; s < 3; s++) {
        if (nn > 0 && triple && triple[s]) {
            nt[s] = triple[s];
            ntlen[s] = strlen(triple[s]);
        }
    }
    bool tchanged = false;
    for (int s = 0; rc == 0 && s < 3; s++) {
        if (s_same_str(old.triple[s], old.tlen[s], nt[s], ntlen[s])) {
            continue;
        }
        tchanged = true;
        if (old.triple[s]) {
            rc = s_fp_update(self, &id, s, old.triple[s], old.tlen[s], false);
        }
        if (rc == 0 && nt[s]) {
            rc = s_fp_update(self, &id, s, nt[s], ntlen[s], true);
        }
    }
    /* The veto inside payload and c2 blocks reads the triple, so their connectivity may
       change with it; fingerprint blocks are cliques and do not care. */
    for (size_t k = 0; rc == 0 && tchanged && k < nn; k++) {
        if (s_is_block_family(nk[k].family)) {
            unsigned char ek[S_KEY_MAX];
            size_t eklen = s_ekey(nk[k].family, nk[k].value, nk[k].len, ek);
            rc = s_mark_dirty(self, ek, eklen, nk[k].value, nk[k].len);
        }
    }
    if (rc == 0 && nn == 0 && found) {
        rc = s_err(mdb_del(self->txn, self->obs, &id, NULL));
    } else if (rc == 0 && nn > 0 && (changed || tchanged)) {
        size_t elen = s_encode(self, nk, nn, nt, ntlen);
        MDB_val d = {elen, self->enc};
        rc = s_err(mdb_put(self->txn, self->obs, &id, &d, 0));
    }
    if (rc == 0) {
        rc = s_put_u64(self->txn, self->meta, "applied", seq);
    }
    if (rc == 0) {
        self->cur_applied = seq;
    }
    return rc;
}

int
shard_store_apply(shard_store_t *self, uint64_t seq, const char *obs_id, const shard_key_t *keys,
                  size_t n_keys, const char *const triple[3])
{
    assert(self);
    if (!obs_id || (n_keys > 0 && !keys)) {
        return -EINVAL;
    }
    size_t idlen = strlen(obs_id);
    if (idlen == 0 || idlen > SHARD_STORE_MAX_ID) {
        return -EINVAL;
    }
    for (size_t i = 0; i < n_keys; i++) {
        if (keys[i].family < 0 || keys[i].family >= KEY_FAMILY_COUNT || !keys[i].value) {
            return -EINVAL;
        }
    }
    if (seq <= self->cur_applied) {
        return 0;
    }
    xgrow(&self->nkeys, &self->nkeys_cap, n_keys);
    for (size_t i = 0; i < n_keys; i++) {
        self->nkeys[i] = (s_key_t){keys[i].family, keys[i].value, strlen(keys[i].value)};
        if (self->nkeys[i].len > UINT32_MAX) {
            return -EINVAL;
        }
    }
    size_t nn = 0;
    if (n_keys > 0) {
        qsort(self->nkeys, n_keys, sizeof *self->nkeys, s_key_cmp);
        nn = 1;
        for (size_t i = 1; i < n_keys; i++) {
            if (s_key_cmp(&self->nkeys[nn - 1], &self->nkeys[i]) != 0) {
                self->nkeys[nn++] = self->nkeys[i];
            }
        }
    }
    bool own;
    int rc = s_wbegin(self, &own);
    if (rc != 0) {
        return rc;
    }
    return s_wend(self, own, s_apply(self, seq, obs_id, idlen, nn, triple));
}

/*  --------------------------------------------------------------------------------------
    Generic keys */

int
shard_store_generic_flips(shard_store_t *self, const uint64_t cutoff[CCFG_GENERIC_FAMILIES],
                          int (*fn)(int family, const char *value, bool generic, void *arg),
                          void *arg)
{
    assert(self && cutoff && fn);
    MDB_txn *txn;
    int rc = s_rbegin(self, &txn);
    if (rc != 0) {
        return rc;
    }
    MDB_cursor *dc = NULL;
    MDB_cursor *mc = NULL;
    rc = s_err(mdb_cursor_open(txn, self->dirty, &dc));
    if (rc == 0) {
        rc = s_err(mdb_cursor_open(txn, self->members, &mc));
    }
    MDB_val k;
    MDB_val d;
    int grc = rc == 0 ? mdb_cursor_get(dc, &k, &d, MDB_FIRST) : MDB_NOTFOUND;
    for (; rc == 0 && grc == 0; grc = mdb_cursor_get(dc, &k, &d, MDB_NEXT)) {
        int family = ((const unsigned char *)k.mv_data)[0] & ~S_LONG_BIT;
        if (family >= CCFG_GENERIC_FAMILIES) {
            continue;
        }
        uint64_t count;
        rc = s_count(mc, k.mv_data, k.mv_size, &count);
        if (rc != 0) {
            break;
        }
        bool now = cutoff[family] != 0 && count > cutoff[family];
        MDB_val gd;
        int g = mdb_get(txn, self->generic, &k, &gd);
        if (g != 0 && g != MDB_NOTFOUND) {
            rc = s_err(g);
            break;
        }
        if (now == (g == 0)) {
            continue;
        }
        xgrow(&self->fbuf, &self->fbuf_cap, d.mv_size + 1);
        memcpy(self->fbuf, d.mv_data, d.mv_size);
        self->fbuf[d.mv_size] = '\0';
        rc = fn(family, self->fbuf, now, arg);
    }
    if (rc == 0 && grc != MDB_NOTFOUND) {
        rc = s_err(grc);
    }
    if (mc) {
        mdb_cursor_close(mc);
    }
    if (dc) {
        mdb_cursor_close(dc);
    }
    s_rend(self, txn);
    return rc;
}

/*  Marks dirty the payload and c2 blocks of every id whose triple holds the fingerprint
    ekey ek. */
static int
s_dirty_fp_holders(shard_store_t *self, const unsigned char *ek, size_t eklen)
{
    size_t n;
    size_t used;
    int rc = s_collect_dups(self, self->txn, self->fpidx, ek, eklen, &n, &used);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *id = self->arena + self->offs[i];
        s_rec_t rec;
        bool found;
        rc = s_load(self, self->txn, id, strlen(id), &rec, &found);
        if (rc == 0 && !found) {
            log_error("shard store: fingerprint index names a missing id");
            rc = CADRE_ESTORE;
        }
        for (size_t k = 0; rc == 0 && k < rec.n; k++) {
            if (s_is_block_family(rec.keys[k].family)) {
                unsigned char bek[S_KEY_MAX];
                size_t beklen = s_ekey(rec.keys[k].family, rec.keys[k].value, rec.keys[k].len, bek);
                rc = s_mark_dirty(self, bek, beklen, rec.keys[k].value, rec.keys[k].len);
            }
        }
    }
    return rc;
}

static int
s_set_generic(shard_store_t *self, int family, const char *value, bool generic)
{
    size_t len = strlen(value);
    unsigned char ek[S_KEY_MAX];
    MDB_val k = {s_ekey(family, value, len, ek), ek};
    MDB_val d;
    int rc = mdb_get(self->txn, self->generic, &k, &d);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return s_err(rc);
    }
    if ((rc == 0) == generic) {
        return 0;
    }
    if (generic) {
        d = (MDB_val){len, (void *)value};
        rc = s_err(mdb_put(self->txn, self->generic, &k, &d, 0));
    } else {
        rc = s_err(mdb_del(self->txn, self->generic, &k, NULL));
    }
    MDB_cursor *mc;
    if (rc == 0) {
        rc = s_err(mdb_cursor_open(self->txn, self->members, &mc));
    }
    if (rc == 0) {
        uint64_t count;
        rc = s_count(mc, ek, k.mv_size, &count);
        mdb_cursor_close(mc);
        if (rc == 0 && count > 0) {
            rc = s_mark_dirty(self, ek, k.mv_size, value, len);
        }
    }
    if (rc == 0 && (family == KEY_JA3 || family == KEY_HASSH || family == KEY_JA4)) {
        rc = s_dirty_fp_holders(self, ek, k.mv_size);
    }
    return rc;
}

int
shard_store_set_generic(shard_store_t *self, int family, const char *value, bool generic)
{
    assert(self);
    if (family < 0 || family >= CCFG_GENERIC_FAMILIES || !value) {
        return -EINVAL;
    }
    bool own;
    int rc = s_wbegin(self, &own);
    if (rc != 0) {
        return rc;
    }
    return s_wend(self, own, s_set_generic(self, family, value, generic));
}

/*  Whether ek is in the generic set, in txn. */
static int
s_in_generic(shard_store_t *self, MDB_txn *txn, const unsigned char *ek, size_t eklen, bool *in)
{
    MDB_val k = {eklen, (void *)ek};
    MDB_val d;
    int rc = mdb_get(txn, self->generic, &k, &d);
    *in = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

bool
shard_store_is_generic(shard_store_t *self, int family, const char *value)
{
    assert(self && value);
    if (family < 0 || family >= KEY_FAMILY_COUNT) {
        return false;
    }
    MDB_txn *txn;
    if (s_rbegin(self, &txn) != 0) {
        return false;
    }
    unsigned char ek[S_KEY_MAX];
    size_t eklen = s_ekey(family, value, strlen(value), ek);
    bool in = false;
    if (s_in_generic(self, txn, ek, eklen, &in) != 0) {
        in = false;
    }
    s_rend(self, txn);
    return in;
}

uint64_t
shard_store_holders(shard_store_t *self, int family, const char *value)
{
    assert(self && value);
    if (family < 0 || family >= KEY_FAMILY_COUNT) {
        return 0;
    }
    MDB_txn *txn;
    if (s_rbegin(self, &txn) != 0) {
        return 0;
    }
    unsigned char ek[S_KEY_MAX];
    size_t eklen = s_ekey(family, value, strlen(value), ek);
    uint64_t count = 0;
    MDB_cursor *mc;
    if (mdb_cursor_open(txn, self->members, &mc) == 0) {
        if (s_count(mc, ek, eklen, &count) != 0) {
            count = 0;
        }
        mdb_cursor_close(mc);
    }
    s_rend(self, txn);
    return count;
}

/*  --------------------------------------------------------------------------------------
    Dirty blocks and barriers */

/*  Loads the block ek with raw value into the arena: the members, their masked triples
    and the value (a C string at *vp), then builds self->ptrs and self->tri. Returns the
    member count through *n. */
static int
s_load_block(shard_store_t *self, MDB_txn *txn, const MDB_val *ek, const MDB_val *value, size_t *n,
             const char **vp)
{
    size_t used;
    int rc = s_collect_dups(self, txn, self->members, ek->mv_data, ek->mv_size, n, &used);
    if (rc != 0) {
        return rc;
    }
    size_t nm = *n;
    size_t no = nm;
    for (size_t i = 0; rc == 0 && i < nm; i++) {
        const char *id = self->arena + self->offs[i];
        MDB_val k = {strlen(id), (void *)id};
        MDB_val d;
        s_rec_t rec;
        rc = mdb_get(txn, self->obs, &k, &d);
        if (rc == MDB_NOTFOUND) {
            log_error("shard store: a block names a missing id");
            rc = CADRE_ESTORE;
        }
        rc = rc == CADRE_ESTORE ? rc : s_err(rc);
        if (rc == 0) {
            rc = s_decode(self, d.mv_data, d.mv_size, &rec, false);
        }
        for (int s = 0; rc == 0 && s < 3; s++) {
            bool masked = false;
            if (rec.triple[s]) {
                unsigned char tek[S_KEY_MAX];
                size_t teklen = s_ekey(s_slot_family[s], rec.triple[s], rec.tlen[s], tek);
                rc = s_in_generic(self, txn, tek, teklen, &masked);
            }
            size_t off = rec.triple[s] && !masked
                             ? s_arena_add(self, &used, rec.triple[s], rec.tlen[s])
                             : S_NONE;
            s_offs_push(self, &no, off);
        }
    }
    if (rc != 0) {
        return rc;
    }
    size_t voff = s_arena_add(self, &used, value->mv_data, value->mv_size);
    xgrow(&self->ptrs, &self->ptrs_cap, nm + 1);
    xgrow(&self->tri, &self->tri_cap, nm + 1);
    *vp = self->arena + voff;
    for (size_t i = 0; i < nm; i++) {
        self->ptrs[i] = self->arena + self->offs[i];
        for (int s = 0; s < 3; s++) {
            size_t off = self->offs[nm + 3 * i + (size_t)s];
            self->tri[i][s] = off == S_NONE ? NULL : self->arena + off;
        }
    }
    return 0;
}

int
shard_store_each_dirty(shard_store_t *self,
                       int (*fn)(int family, const char *value, const char *const *members,
                                 const char *const (*triples)[3], size_t n, void *arg),
                       void *arg)
{
    assert(self && fn);
    MDB_txn *txn;
    int rc = s_rbegin(self, &txn);
    if (rc != 0) {
        return rc;
    }
    MDB_cursor *dc;
    rc = s_err(mdb_cursor_open(txn, self->dirty, &dc));
    if (rc != 0) {
        s_rend(self, txn);
        return rc;
    }
    MDB_val k;
    MDB_val d;
    int grc = mdb_cursor_get(dc, &k, &d, MDB_FIRST);
    for (; rc == 0 && grc == 0; grc = mdb_cursor_get(dc, &k, &d, MDB_NEXT)) {
        int family = ((const unsigned char *)k.mv_data)[0] & ~S_LONG_BIT;
        size_t n;
        const char *value;
        rc = s_load_block(self, txn, &k, &d, &n, &value);
        if (rc == 0) {
            rc = fn(family, value, (const char *const *)self->ptrs,
                    (const char *const(*)[3])self->tri, n, arg);
        }
    }
    if (rc == 0 && grc != MDB_NOTFOUND) {
        rc = s_err(grc);
    }
    mdb_cursor_close(dc);
    s_rend(self, txn);
    return rc;
}

size_t
shard_store_dirty_count(shard_store_t *self)
{
    assert(self);
    MDB_txn *txn;
    if (s_rbegin(self, &txn) != 0) {
        return 0;
    }
    MDB_stat st;
    size_t n = mdb_stat(txn, self->dirty, &st) == 0 ? st.ms_entries : 0;
    s_rend(self, txn);
    return n;
}

int
shard_store_barrier_done(shard_store_t *self, uint64_t seq)
{
    assert(self);
    if (seq <= self->cur_barrier) {
        return 0;
    }
    bool own;
    int rc = s_wbegin(self, &own);
    if (rc != 0) {
        return rc;
    }
    rc = s_err(mdb_drop(self->txn, self->dirty, 0));
    if (rc == 0) {
        rc = s_put_u64(self->txn, self->meta, "barrier", seq);
    }
    if (rc == 0) {
        self->cur_barrier = seq;
    }
    return s_wend(self, own, rc);
}
