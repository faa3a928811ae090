/*  merger_store.c - the merger's durable snapshot in LMDB (see merger_store.h).

    The environment holds five named databases:

      meta     "version", "deployment", "reconciled", "inputs", "clock", "events",
               "reconciliations" -> u64 (native byte order; clock is a double's bytes;
               deployment is its name's bytes)
      slots    slot (u32 big-endian) -> either (format 2) u8 0x80|alive | u64 seq |
               u64 journal seq | u32 name length | name: the record is the broker's
               journal entry at that seq; or (format 1, still read and written when the
               caller hands the bytes) u8 alive | u64 seq | u32 name length | name |
               record bytes (alive only: the rest of the value)
      ids      layer (u8) | id (u32 big-endian) -> uuid (36 bytes) | u64 formed |
               u64 formed_seq | u32 merged_into | u8 live
      elems    layer (u8) | element (u32 big-endian) -> u32 literal | u32 founded
      forests  block (u32 big-endian) -> u8 family | u8 generic | u64 holders |
               u32 value length | value | u32 edge count | 2 x u32 slots per edge

    Numbers in keys are big-endian so that LMDB's byte order is number order (a load walks
    slots, ids and blocks in the order they must be re-created); values are native, as in
    the shard store. Every key is short, so long observation ids and key values (up to
    4096 bytes) live in values, with no 511-byte limit.

    LMDB memory is valid only while its transaction lives: a load copies each entry into
    scratch buffers of the store before handing it out.
*/
#include "merger_store.h"

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

#define S_FORMAT_VERSION 2         /* meta "version": the layout described above */
#define S_FORMAT_OLDEST 1          /* the oldest version read (slots with record bytes) */
#define S_SLOT_JREF 0x80           /* first byte of a format-2 slot: flag | alive */
#define S_DEFAULT_MAP (1ull << 30) /* map size when the caller passes 0 */
#define S_UUID_LEN 36              /* a uuid's text */
#define S_ID_VALUE (S_UUID_LEN + 8 + 8 + 4 + 1)
#define S_ELEM_VALUE (4 + 4)

/*  The largest key of a table, so a put past it can append (fixed-size big-endian keys sort
    as numbers). */
typedef struct {
    unsigned char key[16]; /* the key */
    size_t len;            /* its length */
    bool has;              /* the table is not empty */
} s_last_t;

struct merger_store_t {
    MDB_env *env;               /* the environment (owned) */
    MDB_dbi meta;               /* version, deployment, reconciled seq, counters */
    MDB_dbi slots;              /* slot -> slot entry */
    MDB_dbi ids;                /* layer, id -> id entry */
    MDB_dbi elems;              /* layer, element -> element entry */
    MDB_dbi forests;            /* block -> forest entry */
    MDB_txn *txn;               /* the open snapshot, or NULL */
    int failed;                 /* the open snapshot's failed write, or 0 */
    uint64_t reconciled;        /* barrier seq as of the last commit */
    uint64_t version;           /* meta "version" as stored */
    uint64_t written;           /* entries written by the open snapshot */
    uint64_t bytes;             /* key and value bytes written by the open snapshot */
    merger_store_stats_t stats; /* cost counters */
    merger_store_hook_fn hook;  /* write hook, or NULL */
    void *hook_arg;             /* its argument */
    char *buf;                  /* scratch: values being encoded, copies being loaded */
    size_t buf_cap;             /* capacity of buf */
    uint32_t *edges;            /* scratch: a loaded forest's edges */
    size_t edges_cap;           /* capacity of edges */
    s_last_t last[4];           /* open snapshot: largest key of slots, ids, elems, forests */
};

/*  --------------------------------------------------------------------------------------
    Errors and small helpers */

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
    log_error("merger store: %s", mdb_strerror(rc));
    return CADRE_ESTORE;
}

static void
s_be32(unsigned char *out, uint32_t v)
{
    out[0] = (unsigned char)(v >> 24);
    out[1] = (unsigned char)(v >> 16);
    out[2] = (unsigned char)(v >> 8);
    out[3] = (unsigned char)v;
}

static uint32_t
s_get_be32(const unsigned char *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/*  Appends n bytes at src to the value being encoded at *p. */
static void
s_put_bytes(char **p, const void *src, size_t n)
{
    if (n) {
        memcpy(*p, src, n);
        *p += n;
    }
}

/*  Reads n bytes from the value at *p (end bounds it) into dst. Returns false when short. */
static bool
s_get_bytes(const char **p, const char *end, void *dst, size_t n)
{
    if ((size_t)(end - *p) < n) {
        return false;
    }
    memcpy(dst, *p, n);
    *p += n;
    return true;
}

static int
s_meta_get(MDB_txn *txn, MDB_dbi dbi, const char *name, void *out, size_t size)
{
    MDB_val k = {strlen(name), (void *)name};
    MDB_val d;
    int rc = mdb_get(txn, dbi, &k, &d);
    if (rc == MDB_NOTFOUND) {
        memset(out, 0, size);
        return MDB_NOTFOUND;
    }
    if (rc != 0) {
        return s_err(rc);
    }
    if (d.mv_size != size) {
        return CADRE_EFORMAT;
    }
    memcpy(out, d.mv_data, size);
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Lifecycle */

static int
s_open_dbs(merger_store_t *self, const char *deployment)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc != 0) {
        return s_err(rc);
    }
    const struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"meta", &self->meta},   {"slots", &self->slots},     {"ids", &self->ids},
        {"elems", &self->elems}, {"forests", &self->forests},
    };
    for (size_t i = 0; rc == 0 && i < sizeof dbs / sizeof dbs[0]; i++) {
        rc = s_err(mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi));
    }
    uint64_t version = 0;
    if (rc == 0) {
        rc = s_meta_get(txn, self->meta, "version", &version, sizeof version);
        if (rc == MDB_NOTFOUND) {
            version = S_FORMAT_VERSION;
            MDB_val k = {7, (void *)"version"};
            MDB_val d = {sizeof version, &version};
            rc = s_err(mdb_put(txn, self->meta, &k, &d, 0));
            MDB_val dk = {10, (void *)"deployment"};
            MDB_val dd = {strlen(deployment), (void *)deployment};
            if (rc == 0) {
                rc = s_err(mdb_put(txn, self->meta, &dk, &dd, 0));
            }
        }
    }
    if (rc == 0 && (version < S_FORMAT_OLDEST || version > S_FORMAT_VERSION)) {
        log_error("merger store: format version %llu, this build reads %d to %d",
                  (unsigned long long)version, S_FORMAT_OLDEST, S_FORMAT_VERSION);
        rc = CADRE_EFORMAT;
    }
    self->version = version;
    if (rc == 0) {
        MDB_val dk = {10, (void *)"deployment"};
        MDB_val dd;
        rc = mdb_get(txn, self->meta, &dk, &dd);
        if (rc == 0 &&
            (dd.mv_size != strlen(deployment) || memcmp(dd.mv_data, deployment, dd.mv_size) != 0)) {
            log_error("merger store: made for deployment \"%.*s\", not \"%s\"", (int)dd.mv_size,
                      (const char *)dd.mv_data, deployment);
            rc = CADRE_EMISMATCH;
        } else {
            rc = rc == MDB_NOTFOUND ? CADRE_EFORMAT : s_err(rc);
        }
    }
    if (rc == 0) {
        rc = s_meta_get(txn, self->meta, "reconciled", &self->reconciled, sizeof(uint64_t));
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return s_err(mdb_txn_commit(txn));
}

merger_store_t *
merger_store_open(const char *dir, size_t map_bytes, const char *deployment)
{
    assert(dir && deployment);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("merger store %s: %s", dir, strerror(errno));
        return NULL;
    }
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc != 0) {
        log_error("merger store %s: %s", dir, mdb_strerror(rc));
        return NULL;
    }
    rc = mdb_env_set_maxdbs(env, 5);
    if (rc == 0) {
        rc = mdb_env_set_mapsize(env, map_bytes ? map_bytes : S_DEFAULT_MAP);
    }
    if (rc == 0) {
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    }
    /* reader slots of processes that died would pin old pages forever */
    int dead = 0;
    if (rc == 0) {
        rc = mdb_reader_check(env, &dead);
    }
    if (rc != 0) {
        log_error("merger store %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(env);
        return NULL;
    }
    if (dead > 0) {
        log_warn("merger store %s: cleared %d stale reader slots", dir, dead);
    }
    merger_store_t *self = xcalloc(1, sizeof *self);
    self->env = env;
    rc = s_open_dbs(self, deployment);
    if (rc != 0) {
        log_error("merger store %s: %s", dir, cadre_strerror(rc));
        mdb_env_close(env);
        free(self);
        return NULL;
    }
    return self;
}

void
merger_store_destroy(merger_store_t **self_p)
{
    assert(self_p);
    merger_store_t *self = *self_p;
    if (!self) {
        return;
    }
    merger_store_abort(self);
    mdb_env_close(self->env);
    free(self->buf);
    free(self->edges);
    free(self);
    *self_p = NULL;
}

uint64_t
merger_store_reconciled(const merger_store_t *self)
{
    return self->reconciled;
}

merger_store_stats_t
merger_store_stats(const merger_store_t *self)
{
    return self->stats;
}

void
merger_store_set_hook(merger_store_t *self, merger_store_hook_fn fn, void *arg)
{
    self->hook = fn;
    self->hook_arg = arg;
}

/*  --------------------------------------------------------------------------------------
    Writing a snapshot */

int
merger_store_begin(merger_store_t *self)
{
    assert(self && !self->txn);
    self->failed = 0;
    self->written = 0;
    self->bytes = 0;
    int rc = mdb_txn_begin(self->env, NULL, 0, &self->txn);
    if (rc != 0) {
        self->txn = NULL;
        return s_err(rc);
    }
    MDB_dbi tables[4] = {self->slots, self->ids, self->elems, self->forests};
    for (int i = 0; i < 4; i++) {
        s_last_t *l = &self->last[i];
        l->has = false;
        MDB_cursor *cur = NULL;
        MDB_val k, d;
        if (mdb_cursor_open(self->txn, tables[i], &cur) == 0 &&
            mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0 && k.mv_size <= sizeof l->key) {
            memcpy(l->key, k.mv_data, k.mv_size);
            l->len = k.mv_size;
            l->has = true;
        }
        mdb_cursor_close(cur);
    }
    return 0;
}

/*  The largest-key record of dbi, or NULL for the meta table. */
static s_last_t *
s_last_of(merger_store_t *self, MDB_dbi dbi)
{
    MDB_dbi tables[4] = {self->slots, self->ids, self->elems, self->forests};
    for (int i = 0; i < 4; i++) {
        if (tables[i] == dbi) {
            return &self->last[i];
        }
    }
    return NULL;
}

/*  True when key sorts after l's key in LMDB's default order (bytes, then length). */
static bool
s_after(const s_last_t *l, const void *key, size_t klen)
{
    if (!l->has) {
        return true;
    }
    size_t n = klen < l->len ? klen : l->len;
    int c = memcmp(key, l->key, n);
    return c > 0 || (c == 0 && klen > l->len);
}

void
merger_store_abort(merger_store_t *self)
{
    assert(self);
    if (self->txn) {
        mdb_txn_abort(self->txn);
        self->txn = NULL;
    }
    self->failed = 0;
}

/*  Puts one entry into the open snapshot; a failure fails the snapshot. */
static int
s_put(merger_store_t *self, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (self->failed) {
        return self->failed;
    }
    assert(self->txn);
    MDB_val k = {klen, (void *)key};
    MDB_val d = {vlen, (void *)val};
    /* A key past the table's largest appends: pages fill up instead of splitting in half,
       which halves the pages a batch's first snapshot writes. */
    s_last_t *l = s_last_of(self, dbi);
    bool append = l && klen <= sizeof l->key && s_after(l, key, klen);
    int rc = s_err(mdb_put(self->txn, dbi, &k, &d, append ? MDB_APPEND : 0));
    if (rc == 0 && append) {
        memcpy(l->key, key, klen);
        l->len = klen;
        l->has = true;
    }
    if (rc != 0) {
        mdb_txn_abort(self->txn);
        self->txn = NULL;
        self->failed = rc;
        return rc;
    }
    self->written++;
    self->bytes += klen + vlen;
    if (self->hook) {
        self->hook(self->written, self->hook_arg);
    }
    return 0;
}

/*  Makes room for an encoded value of n bytes in the scratch buffer. */
static char *
s_scratch(merger_store_t *self, size_t n)
{
    xgrow(&self->buf, &self->buf_cap, n + 1);
    return self->buf;
}

int
merger_store_put_slot(merger_store_t *self, const merger_store_slot_t *slot)
{
    if (self->failed) {
        return self->failed;
    }
    size_t nlen = slot->name ? strlen(slot->name) : 0;
    bool bytes = slot->alive && slot->rec;
    size_t rlen = bytes ? slot->rec_len : 0;
    if (nlen == 0 || nlen > UINT32_MAX || (slot->alive && !slot->rec && slot->jseq == 0)) {
        return -EINVAL;
    }
    unsigned char key[4];
    s_be32(key, slot->slot);
    char *val = s_scratch(self, 1 + 8 + 8 + 4 + nlen + rlen);
    char *p = val;
    uint8_t head = (uint8_t)((bytes ? 0 : S_SLOT_JREF) | slot->alive);
    uint32_t n32 = (uint32_t)nlen;
    s_put_bytes(&p, &head, 1);
    s_put_bytes(&p, &slot->seq, 8);
    if (!bytes) {
        uint64_t jseq = slot->alive ? slot->jseq : 0;
        s_put_bytes(&p, &jseq, 8);
    }
    s_put_bytes(&p, &n32, 4);
    s_put_bytes(&p, slot->name, nlen);
    s_put_bytes(&p, slot->rec, rlen);
    return s_put(self, self->slots, key, sizeof key, val, (size_t)(p - val));
}

int
merger_store_put_id(merger_store_t *self, const merger_store_id_t *id)
{
    if (self->failed) {
        return self->failed;
    }
    if (!id->uuid || strlen(id->uuid) != S_UUID_LEN) {
        return -EINVAL;
    }
    unsigned char key[5] = {(unsigned char)id->layer};
    s_be32(key + 1, id->id);
    char val[S_ID_VALUE];
    char *p = val;
    uint8_t live = id->live;
    s_put_bytes(&p, id->uuid, S_UUID_LEN);
    s_put_bytes(&p, &id->formed, 8);
    s_put_bytes(&p, &id->formed_seq, 8);
    s_put_bytes(&p, &id->merged_into, 4);
    s_put_bytes(&p, &live, 1);
    return s_put(self, self->ids, key, sizeof key, val, sizeof val);
}

int
merger_store_put_elem(merger_store_t *self, const merger_store_elem_t *elem)
{
    if (self->failed) {
        return self->failed;
    }
    unsigned char key[5] = {(unsigned char)elem->layer};
    s_be32(key + 1, elem->element);
    char val[S_ELEM_VALUE];
    char *p = val;
    s_put_bytes(&p, &elem->literal, 4);
    s_put_bytes(&p, &elem->founded, 4);
    return s_put(self, self->elems, key, sizeof key, val, sizeof val);
}

int
merger_store_put_forest(merger_store_t *self, const merger_store_forest_t *forest)
{
    if (self->failed) {
        return self->failed;
    }
    size_t vlen = forest->value ? strlen(forest->value) : 0;
    if (!forest->value || vlen > UINT32_MAX || forest->n_edges > UINT32_MAX / 2 ||
        forest->family < 0 || forest->family > UINT8_MAX) {
        return -EINVAL;
    }
    unsigned char key[4];
    s_be32(key, forest->block);
    size_t n = 1 + 1 + 8 + 4 + vlen + 4 + forest->n_edges * 8;
    char *val = s_scratch(self, n);
    char *p = val;
    uint8_t family = (uint8_t)forest->family;
    uint8_t generic = forest->generic;
    uint32_t v32 = (uint32_t)vlen;
    uint32_t e32 = (uint32_t)forest->n_edges;
    s_put_bytes(&p, &family, 1);
    s_put_bytes(&p, &generic, 1);
    s_put_bytes(&p, &forest->holders, 8);
    s_put_bytes(&p, &v32, 4);
    s_put_bytes(&p, forest->value, vlen);
    s_put_bytes(&p, &e32, 4);
    s_put_bytes(&p, forest->edges, forest->n_edges * 8);
    return s_put(self, self->forests, key, sizeof key, val, n);
}

static int
s_put_meta(merger_store_t *self, const char *name, const void *v)
{
    return s_put(self, self->meta, name, strlen(name), v, 8);
}

/*  Entries in every database, as the open snapshot sees them. */
static uint64_t
s_count(merger_store_t *self)
{
    MDB_dbi dbis[] = {self->meta, self->slots, self->ids, self->elems, self->forests};
    uint64_t total = 0;
    for (size_t i = 0; i < sizeof dbis / sizeof dbis[0]; i++) {
        MDB_stat st;
        if (mdb_stat(self->txn, dbis[i], &st) == 0) {
            total += st.ms_entries;
        }
    }
    return total;
}

int
merger_store_commit(merger_store_t *self, uint64_t reconciled, const cluster_counters_t *counters)
{
    assert(self && (self->txn || self->failed));
    _Static_assert(sizeof counters->clock == 8, "the clock is stored as 8 bytes");
    int rc = 0;
    if (self->version != S_FORMAT_VERSION) {
        /* a format-1 store holds format-2 slots from now on */
        uint64_t version = S_FORMAT_VERSION;
        rc = s_put_meta(self, "version", &version);
    }
    if (rc == 0) {
        rc = s_put_meta(self, "inputs", &counters->inputs);
    }
    if (rc == 0) {
        rc = s_put_meta(self, "clock", &counters->clock);
    }
    if (rc == 0) {
        rc = s_put_meta(self, "events", &counters->events);
    }
    if (rc == 0) {
        rc = s_put_meta(self, "reconciliations", &counters->reconciliations);
    }
    if (rc == 0) {
        rc = s_put_meta(self, "reconciled", &reconciled);
    }
    if (rc != 0) {
        merger_store_abort(self);
        return rc;
    }
    uint64_t stored = s_count(self);
    rc = s_err(mdb_txn_commit(self->txn));
    self->txn = NULL;
    if (rc != 0) {
        return rc;
    }
    self->reconciled = reconciled;
    self->version = S_FORMAT_VERSION;
    self->stats.snapshots++;
    self->stats.entries = self->written;
    self->stats.bytes = self->bytes;
    self->stats.stored = stored;
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Loading */

static int
s_load_slot(merger_store_t *self, const MDB_val *k, const MDB_val *d, const merger_store_visit_t *v,
            void *arg)
{
    const char *p = d->mv_data;
    const char *end = p + d->mv_size;
    uint8_t head = 0;
    merger_store_slot_t s = {0};
    uint32_t nlen = 0;
    if (k->mv_size != 4 || !s_get_bytes(&p, end, &head, 1) || (head & ~(S_SLOT_JREF | 1)) != 0 ||
        !s_get_bytes(&p, end, &s.seq, 8)) {
        return CADRE_EFORMAT;
    }
    bool jref = head & S_SLOT_JREF;
    bool alive = head & 1;
    if ((jref && (!s_get_bytes(&p, end, &s.jseq, 8) || (alive != (s.jseq != 0)))) ||
        !s_get_bytes(&p, end, &nlen, 4) || (size_t)(end - p) < nlen || nlen == 0 ||
        ((!alive || jref) && (size_t)(end - p) != nlen)) {
        return CADRE_EFORMAT;
    }
    s.slot = s_get_be32(k->mv_data);
    s.alive = alive;
    size_t rlen = (size_t)(end - p) - nlen;
    char *buf = s_scratch(self, (size_t)nlen + 1 + rlen);
    memcpy(buf, p, nlen);
    buf[nlen] = '\0';
    if (memchr(buf, '\0', nlen)) {
        return CADRE_EFORMAT;
    }
    memcpy(buf + nlen + 1, p + nlen, rlen);
    s.name = buf;
    s.rec = alive && !jref ? buf + nlen + 1 : NULL;
    s.rec_len = rlen;
    return v->slot ? v->slot(&s, arg) : 0;
}

static int
s_load_id(const MDB_val *k, const MDB_val *d, const merger_store_visit_t *v, void *arg)
{
    const unsigned char *key = k->mv_data;
    if (k->mv_size != 5 || key[0] > CLUSTER_CAMPAIGN || d->mv_size != S_ID_VALUE) {
        return CADRE_EFORMAT;
    }
    char uuid[S_UUID_LEN + 1];
    merger_store_id_t x = {.layer = (cluster_layer_t)key[0], .id = s_get_be32(key + 1)};
    const char *p = d->mv_data;
    const char *end = p + d->mv_size;
    uint8_t live = 0;
    s_get_bytes(&p, end, uuid, S_UUID_LEN);
    s_get_bytes(&p, end, &x.formed, 8);
    s_get_bytes(&p, end, &x.formed_seq, 8);
    s_get_bytes(&p, end, &x.merged_into, 4);
    s_get_bytes(&p, end, &live, 1);
    uuid[S_UUID_LEN] = '\0';
    if (live > 1 || memchr(uuid, '\0', S_UUID_LEN)) {
        return CADRE_EFORMAT;
    }
    x.uuid = uuid;
    x.live = live;
    return v->id ? v->id(&x, arg) : 0;
}

static int
s_load_elem(const MDB_val *k, const MDB_val *d, const merger_store_visit_t *v, void *arg)
{
    const unsigned char *key = k->mv_data;
    if (k->mv_size != 5 || key[0] > CLUSTER_CAMPAIGN || d->mv_size != S_ELEM_VALUE) {
        return CADRE_EFORMAT;
    }
    merger_store_elem_t e = {.layer = (cluster_layer_t)key[0], .element = s_get_be32(key + 1)};
    const char *p = d->mv_data;
    const char *end = p + d->mv_size;
    s_get_bytes(&p, end, &e.literal, 4);
    s_get_bytes(&p, end, &e.founded, 4);
    return v->elem ? v->elem(&e, arg) : 0;
}

static int
s_load_forest(merger_store_t *self, const MDB_val *k, const MDB_val *d,
              const merger_store_visit_t *v, void *arg)
{
    const char *p = d->mv_data;
    const char *end = p + d->mv_size;
    uint8_t family = 0;
    uint8_t generic = 0;
    uint32_t vlen = 0;
    uint32_t n_edges = 0;
    merger_store_forest_t f = {0};
    if (k->mv_size != 4 || !s_get_bytes(&p, end, &family, 1) ||
        !s_get_bytes(&p, end, &generic, 1) || generic > 1 || !s_get_bytes(&p, end, &f.holders, 8) ||
        !s_get_bytes(&p, end, &vlen, 4) || (size_t)(end - p) < vlen) {
        return CADRE_EFORMAT;
    }
    char *value = s_scratch(self, vlen);
    s_get_bytes(&p, end, value, vlen);
    value[vlen] = '\0';
    if (memchr(value, '\0', vlen) || !s_get_bytes(&p, end, &n_edges, 4) ||
        (size_t)(end - p) != (size_t)n_edges * 8) {
        return CADRE_EFORMAT;
    }
    xgrow(&self->edges, &self->edges_cap, (size_t)n_edges * 2 + 1);
    s_get_bytes(&p, end, self->edges, (size_t)n_edges * 8);
    f.block = s_get_be32(k->mv_data);
    f.family = family;
    f.value = value;
    f.generic = generic;
    f.edges = self->edges;
    f.n_edges = n_edges;
    return v->forest ? v->forest(&f, arg) : 0;
}

/*  Walks one database in key order, handing each entry to its loader. */
static int
s_walk(merger_store_t *self, MDB_txn *txn, MDB_dbi dbi, int which, const merger_store_visit_t *v,
       void *arg)
{
    MDB_cursor *mc;
    int rc = s_err(mdb_cursor_open(txn, dbi, &mc));
    if (rc != 0) {
        return rc;
    }
    MDB_val k;
    MDB_val d;
    int mrc = mdb_cursor_get(mc, &k, &d, MDB_FIRST);
    while (mrc == 0 && rc == 0) {
        switch (which) {
        case 0:
            rc = s_load_slot(self, &k, &d, v, arg);
            break;
        case 1:
            rc = s_load_id(&k, &d, v, arg);
            break;
        case 2:
            rc = s_load_elem(&k, &d, v, arg);
            break;
        default:
            rc = s_load_forest(self, &k, &d, v, arg);
            break;
        }
        if (rc == 0) {
            mrc = mdb_cursor_get(mc, &k, &d, MDB_NEXT);
        }
    }
    mdb_cursor_close(mc);
    if (rc == 0 && mrc != MDB_NOTFOUND) {
        rc = s_err(mrc);
    }
    return rc;
}

int
merger_store_load(merger_store_t *self, cluster_counters_t *counters, const merger_store_visit_t *v,
                  void *arg)
{
    assert(self && !self->txn);
    memset(counters, 0, sizeof *counters);
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0) {
        return rc;
    }
    const struct {
        const char *name;
        void *out;
    } metas[] = {
        {"inputs", &counters->inputs},
        {"clock", &counters->clock},
        {"events", &counters->events},
        {"reconciliations", &counters->reconciliations},
    };
    for (size_t i = 0; rc == 0 && i < sizeof metas / sizeof metas[0]; i++) {
        rc = s_meta_get(txn, self->meta, metas[i].name, metas[i].out, 8);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    MDB_dbi order[] = {self->slots, self->ids, self->elems, self->forests};
    for (int i = 0; rc == 0 && i < 4; i++) {
        rc = s_walk(self, txn, order[i], i, v, arg);
    }
    mdb_txn_abort(txn);
    return rc;
}
