/*  broker_journal.c - the broker's durable input log (see broker_journal.h, docs/storage.md).

    One LMDB environment per journal directory, opened with MDB_NOTLS so that read
    transactions (cursors) are not tied to the thread that created them, and otherwise LMDB's
    default, fully synchronous flags: a commit returns only after the data pages and the new
    meta page are fsync'ed. Four named databases:

      "journal"   8-byte big-endian seq -> 1 kind byte followed by the input's bytes
      "keys"      observation id (its bytes, no NUL) -> the broker's opaque key list
      "meta"      "version", "last", "compacted" -> 8-byte big-endian integers
      "producers" 8-byte big-endian producer id -> last ref, its seq, the time in ms
                  (three 8-byte big-endian integers)

    meta "last" is written in the same transaction as the inputs it covers, so it stays
    right after compaction has emptied the journal and seqs continue densely. Every value
    LMDB hands out is copied into a buffer owned by the journal or the cursor before the
    transaction that produced it can end.
*/
#include "broker_journal.h"

#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*  The on-disk format this code writes and reads (meta "version"). */
#define S_FORMAT_VERSION 1
/*  Size of a journal key and of every meta value. */
#define S_U64_SIZE 8

struct broker_journal_t {
    MDB_env *env;        /* the LMDB environment, owned */
    MDB_dbi journal;     /* "journal": seq -> kind + bytes */
    MDB_dbi keys;        /* "keys": observation id -> key list */
    MDB_dbi meta;        /* "meta": version, last, compacted */
    MDB_dbi producers;   /* "producers": producer id -> broker_producer_t */
    char *dir;           /* the directory, for log lines */
    MDB_txn *txn;        /* the open batch's write transaction, or NULL */
    int batch_err;       /* first error of the open batch (0 while it is healthy) */
    uint64_t batch_last; /* last seq appended in the open batch (== last when none) */
    uint64_t last;       /* highest committed seq */
    uint64_t compacted;  /* highest seq dropped by compaction */
    size_t max_id;       /* LMDB's largest key, bounds observation ids */
    uint8_t *kbuf;       /* copy returned by broker_journal_keys_get() */
    size_t kbuf_cap;     /* allocated bytes of kbuf */
    uint8_t *gbuf;       /* copy returned by broker_journal_get() */
    size_t gbuf_cap;     /* allocated bytes of gbuf */
    atomic_int cursors;  /* live cursors (they may live on other threads) */
};

struct broker_journal_cursor_t {
    broker_journal_t *journal; /* the journal the cursor reads, borrowed */
    MDB_txn *txn;              /* the snapshot's read-only transaction, owned */
    MDB_cursor *cur;           /* LMDB cursor on "journal" inside txn, owned */
    uint64_t from;             /* first seq wanted */
    bool started;              /* positioned at least once */
    bool done;                 /* reached the end */
    int err;                   /* sticky error after a failure, else 0 */
    uint8_t *buf;              /* copy of the current input's bytes */
    size_t cap;                /* allocated bytes of buf */
};

static void
s_put_u64(uint8_t *out, uint64_t v)
{
    for (int i = S_U64_SIZE - 1; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t
s_get_u64(const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < S_U64_SIZE; i++) {
        v = (v << 8) | in[i];
    }
    return v;
}

/*  Translates an LMDB return code (0, a negative MDB_* code or a positive errno) into a
    project code. */
static int
s_translate(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
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
    return CADRE_ESTORE;
}

/*  Logs an LMDB failure of operation what and returns its project code. */
static int
s_fail(const char *dir, int rc, const char *what)
{
    log_error("journal %s: %s: %s", dir, what, mdb_strerror(rc));
    return s_translate(rc);
}

/*  Records an LMDB failure inside the open batch: the batch keeps failing with this code
    until it is ended (LMDB itself refuses further work in a transaction after most errors,
    notably MDB_MAP_FULL). */
static int
s_batch_fail(broker_journal_t *self, int rc, const char *what)
{
    self->batch_err = s_fail(self->dir, rc, what);
    return self->batch_err;
}

/*  Checks an observation id and sets *len to its length. */
static int
s_check_id(const broker_journal_t *self, const char *obs_id, size_t *len)
{
    assert(obs_id);
    *len = strlen(obs_id);
    if (*len == 0) {
        return -EINVAL;
    }
    if (*len > self->max_id) {
        return CADRE_ELIMIT;
    }
    return 0;
}

/*  Reads meta value name into *value (0 and *present = false when absent). */
static int
s_meta_get(broker_journal_t *self, MDB_txn *txn, const char *name, uint64_t *value, bool *present)
{
    MDB_val k = {.mv_size = strlen(name), .mv_data = (void *)name};
    MDB_val v;
    *value = 0;
    *present = false;
    int rc = mdb_get(txn, self->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return s_fail(self->dir, rc, "reading meta");
    }
    if (v.mv_size != S_U64_SIZE) {
        log_error("journal %s: meta \"%s\" has %zu bytes, not %d", self->dir, name, v.mv_size,
                  S_U64_SIZE);
        return CADRE_EFORMAT;
    }
    *value = s_get_u64(v.mv_data);
    *present = true;
    return 0;
}

/*  Writes meta value name in txn (LMDB code: the caller translates and logs). */
static int
s_meta_put(broker_journal_t *self, MDB_txn *txn, const char *name, uint64_t value)
{
    uint8_t buf[S_U64_SIZE];
    s_put_u64(buf, value);
    MDB_val k = {.mv_size = strlen(name), .mv_data = (void *)name};
    MDB_val v = {.mv_size = sizeof buf, .mv_data = buf};
    return mdb_put(txn, self->meta, &k, &v, 0);
}

/*  Reads the seq of the first or last journal entry (op MDB_FIRST / MDB_LAST) into *seq,
    0 when the journal is empty. */
static int
s_edge_seq(broker_journal_t *self, MDB_txn *txn, MDB_cursor_op op, uint64_t *seq)
{
    MDB_cursor *cur;
    *seq = 0;
    int rc = mdb_cursor_open(txn, self->journal, &cur);
    if (rc != 0) {
        return s_fail(self->dir, rc, "opening a cursor");
    }
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, op);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return s_fail(self->dir, rc, "reading the journal");
    }
    if (k.mv_size != S_U64_SIZE) {
        log_error("journal %s: a key has %zu bytes, not %d", self->dir, k.mv_size, S_U64_SIZE);
        return CADRE_EFORMAT;
    }
    *seq = s_get_u64(k.mv_data);
    return 0;
}

/*  Opens the named databases, checks or writes the format version and loads last and
    compacted, in one write transaction. */
static int
s_load(broker_journal_t *self)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc != 0) {
        return s_fail(self->dir, rc, "beginning the open transaction");
    }
    if ((rc = mdb_dbi_open(txn, "journal", MDB_CREATE, &self->journal)) != 0 ||
        (rc = mdb_dbi_open(txn, "keys", MDB_CREATE, &self->keys)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &self->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "producers", MDB_CREATE, &self->producers)) != 0) {
        mdb_txn_abort(txn);
        return s_fail(self->dir, rc, "opening the databases");
    }
    uint64_t version, last, compacted, first_key, last_key;
    bool has_version, has_last, has_compacted;
    int err = s_meta_get(self, txn, "version", &version, &has_version);
    if (!err) {
        err = s_meta_get(self, txn, "last", &last, &has_last);
    }
    if (!err) {
        err = s_meta_get(self, txn, "compacted", &compacted, &has_compacted);
    }
    if (!err) {
        err = s_edge_seq(self, txn, MDB_FIRST, &first_key);
    }
    if (!err) {
        err = s_edge_seq(self, txn, MDB_LAST, &last_key);
    }
    if (!err && has_version && version != S_FORMAT_VERSION) {
        log_error("journal %s: format version %llu, this build reads %d", self->dir,
                  (unsigned long long)version, S_FORMAT_VERSION);
        err = CADRE_EFORMAT;
    }
    if (!err && !has_version && (last_key != 0 || has_last)) {
        log_error("journal %s: holds entries but no format version", self->dir);
        err = CADRE_EFORMAT;
    }
    if (!err && !has_version) {
        rc = s_meta_put(self, txn, "version", S_FORMAT_VERSION);
        if (rc != 0) {
            err = s_fail(self->dir, rc, "writing the format version");
        }
    }
    if (err) {
        mdb_txn_abort(txn);
        return err;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        return s_fail(self->dir, rc, "committing the open transaction");
    }
    /* meta and the keys are written together; taking the larger of each pair only matters
       for a journal written by hand. */
    self->last = last > last_key ? last : last_key;
    self->compacted = compacted;
    if (first_key != 0 && first_key - 1 < self->compacted) {
        self->compacted = first_key - 1;
    }
    self->batch_last = self->last;
    return 0;
}

broker_journal_t *
broker_journal_open(const char *dir, size_t map_bytes)
{
    assert(dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("journal %s: cannot create the directory: %s", dir, strerror(errno));
        return NULL;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t map = map_bytes ? map_bytes : BROKER_JOURNAL_DEFAULT_MAP;
    if (map > SIZE_MAX - page) {
        map = SIZE_MAX - page;
    }
    map = (map + page - 1) / page * page;

    broker_journal_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    atomic_init(&self->cursors, 0);
    int rc = mdb_env_create(&self->env);
    if (rc != 0) {
        s_fail(dir, rc, "creating the environment");
        self->env = NULL;
        broker_journal_destroy(&self);
        return NULL;
    }
    if ((rc = mdb_env_set_maxdbs(self->env, 4)) != 0 ||
        (rc = mdb_env_set_mapsize(self->env, map)) != 0 ||
        (rc = mdb_env_open(self->env, dir, MDB_NOTLS, 0600)) != 0) {
        s_fail(dir, rc, "opening the environment");
        broker_journal_destroy(&self);
        return NULL;
    }
    /* Reader slots left by crashed processes would pin old pages forever. */
    int dead = 0;
    if (mdb_reader_check(self->env, &dead) == 0 && dead > 0) {
        log_info("journal %s: cleared %d stale reader slots", dir, dead);
    }
    self->max_id = (size_t)mdb_env_get_maxkeysize(self->env);
    if (s_load(self) != 0) {
        broker_journal_destroy(&self);
        return NULL;
    }
    log_debug("journal %s: opened, seqs %llu..%llu present, map %zu bytes", dir,
              (unsigned long long)self->compacted + 1, (unsigned long long)self->last, map);
    return self;
}

void
broker_journal_destroy(broker_journal_t **self_p)
{
    assert(self_p);
    broker_journal_t *self = *self_p;
    if (!self) {
        return;
    }
    assert(atomic_load(&self->cursors) == 0);
    broker_journal_abort(self);
    if (self->env) {
        mdb_env_close(self->env);
    }
    free(self->kbuf);
    free(self->gbuf);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int
broker_journal_begin(broker_journal_t *self)
{
    assert(self);
    assert(!self->txn);
    int rc = mdb_txn_begin(self->env, NULL, 0, &self->txn);
    if (rc != 0) {
        self->txn = NULL;
        return s_fail(self->dir, rc, "beginning a batch");
    }
    self->batch_err = 0;
    self->batch_last = self->last;
    return 0;
}

int
broker_journal_append(broker_journal_t *self, int kind, const void *bytes, size_t len,
                      uint64_t *seq_out)
{
    assert(self);
    assert(self->txn);
    assert(seq_out);
    if (self->batch_err) {
        return self->batch_err;
    }
    if ((kind != BROKER_INPUT_RECORD && kind != BROKER_INPUT_FLUSH) ||
        (kind == BROKER_INPUT_FLUSH && len != 0) || (len != 0 && !bytes) || len == SIZE_MAX) {
        return -EINVAL;
    }
    uint64_t seq = self->batch_last + 1;
    uint8_t kb[S_U64_SIZE];
    s_put_u64(kb, seq);
    MDB_val k = {.mv_size = sizeof kb, .mv_data = kb};
    MDB_val v = {.mv_size = len + 1, .mv_data = NULL};
    /* Seqs only grow, so MDB_APPEND fills pages to the brim instead of splitting them, and
       MDB_RESERVE lets the kind byte and the bytes be written in place. */
    int rc = mdb_put(self->txn, self->journal, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (rc != 0) {
        return s_batch_fail(self, rc, "appending an input");
    }
    uint8_t *out = v.mv_data;
    out[0] = (uint8_t)kind;
    if (len) {
        memcpy(out + 1, bytes, len);
    }
    self->batch_last = seq;
    *seq_out = seq;
    return 0;
}

int
broker_journal_keys_get(broker_journal_t *self, const char *obs_id, const void **data_out,
                        size_t *len_out, bool *found)
{
    assert(self);
    assert(data_out && len_out && found);
    *data_out = NULL;
    *len_out = 0;
    *found = false;
    size_t id_len;
    int err = s_check_id(self, obs_id, &id_len);
    if (err) {
        return err;
    }
    MDB_txn *txn = self->txn;
    if (txn && self->batch_err) {
        return self->batch_err;
    }
    if (!txn) {
        int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn);
        if (rc != 0) {
            return s_fail(self->dir, rc, "beginning a read");
        }
    }
    MDB_val k = {.mv_size = id_len, .mv_data = (void *)obs_id};
    MDB_val v;
    int rc = mdb_get(txn, self->keys, &k, &v);
    if (rc == 0) {
        /* Copied before the transaction can end: LMDB's pointer is into the map. */
        xgrow(&self->kbuf, &self->kbuf_cap, v.mv_size ? v.mv_size : 1);
        memcpy(self->kbuf, v.mv_data, v.mv_size);
        *data_out = self->kbuf;
        *len_out = v.mv_size;
        *found = true;
    }
    if (txn != self->txn) {
        mdb_txn_abort(txn);
    }
    if (rc == 0 || rc == MDB_NOTFOUND) {
        return 0;
    }
    if (self->txn) {
        return s_batch_fail(self, rc, "reading a key list");
    }
    return s_fail(self->dir, rc, "reading a key list");
}

int
broker_journal_producer_get(broker_journal_t *self, uint64_t producer, broker_producer_t *out,
                            bool *found)
{
    assert(self && out && found);
    *found = false;
    *out = (broker_producer_t){0};
    MDB_txn *txn = self->txn;
    if (txn && self->batch_err) {
        return self->batch_err;
    }
    if (!txn) {
        int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn);
        if (rc != 0) {
            return s_fail(self->dir, rc, "beginning a read");
        }
    }
    uint8_t kb[S_U64_SIZE];
    s_put_u64(kb, producer);
    MDB_val k = {.mv_size = sizeof kb, .mv_data = kb};
    MDB_val v;
    int rc = mdb_get(txn, self->producers, &k, &v);
    int err = 0;
    if (rc == 0 && v.mv_size == 3 * S_U64_SIZE) {
        const uint8_t *b = v.mv_data;
        *out = (broker_producer_t){s_get_u64(b), s_get_u64(b + S_U64_SIZE),
                                   s_get_u64(b + 2 * S_U64_SIZE)};
        *found = true;
    } else if (rc == 0) {
        /* Treated as unknown: its next submissions are journaled again (at least once). */
        log_error("journal %s: producer %016" PRIx64 " has %zu bytes, not %d; forgotten", self->dir,
                  producer, v.mv_size, 3 * S_U64_SIZE);
    } else if (rc != MDB_NOTFOUND) {
        err = self->txn ? s_batch_fail(self, rc, "reading a producer")
                        : s_fail(self->dir, rc, "reading a producer");
    }
    if (txn != self->txn) {
        mdb_txn_abort(txn);
    }
    return err;
}

int
broker_journal_producer_put(broker_journal_t *self, uint64_t producer, const broker_producer_t *p)
{
    assert(self && p);
    assert(self->txn);
    if (self->batch_err) {
        return self->batch_err;
    }
    uint8_t kb[S_U64_SIZE], vb[3 * S_U64_SIZE];
    s_put_u64(kb, producer);
    s_put_u64(vb, p->ref);
    s_put_u64(vb + S_U64_SIZE, p->seq);
    s_put_u64(vb + 2 * S_U64_SIZE, p->at_ms);
    MDB_val k = {.mv_size = sizeof kb, .mv_data = kb};
    MDB_val v = {.mv_size = sizeof vb, .mv_data = vb};
    int rc = mdb_put(self->txn, self->producers, &k, &v, 0);
    if (rc != 0) {
        return s_batch_fail(self, rc, "storing a producer");
    }
    return 0;
}

int
broker_journal_producers_prune(broker_journal_t *self, uint64_t before_ms, size_t *dropped)
{
    assert(self);
    assert(!self->txn);
    size_t n = 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc != 0) {
        return s_fail(self->dir, rc, "beginning a producer pruning");
    }
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, self->producers, &cur);
    if (rc == 0) {
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            bool old = v.mv_size != 3 * S_U64_SIZE ||
                       s_get_u64((const uint8_t *)v.mv_data + 2 * S_U64_SIZE) < before_ms;
            if (old && (rc = mdb_cursor_del(cur, 0)) != 0) {
                break;
            }
            n += old;
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }
    if (rc == 0 && n == 0) {
        mdb_txn_abort(txn);
    } else if (rc == 0) {
        rc = mdb_txn_commit(txn);
    } else {
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        return s_fail(self->dir, rc, "pruning producers");
    }
    if (dropped) {
        *dropped = n;
    }
    return 0;
}

int
broker_journal_get(broker_journal_t *self, uint64_t seq, int *kind, const void **bytes, size_t *len,
                   bool *found)
{
    assert(self && kind && bytes && len && found);
    *kind = 0;
    *bytes = NULL;
    *len = 0;
    *found = false;
    MDB_txn *txn = self->txn;
    if (txn && self->batch_err) {
        return self->batch_err;
    }
    if (!txn) {
        int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn);
        if (rc != 0) {
            return s_fail(self->dir, rc, "beginning a read");
        }
    }
    uint8_t kb[S_U64_SIZE];
    s_put_u64(kb, seq);
    MDB_val k = {.mv_size = sizeof kb, .mv_data = kb};
    MDB_val v;
    int rc = mdb_get(txn, self->journal, &k, &v);
    if (rc == 0 && v.mv_size >= 1) {
        const uint8_t *val = v.mv_data;
        size_t n = v.mv_size - 1;
        /* Copied before the transaction can end: LMDB's pointer is into the map. */
        xgrow(&self->gbuf, &self->gbuf_cap, n ? n : 1);
        memcpy(self->gbuf, val + 1, n);
        *kind = val[0];
        *bytes = self->gbuf;
        *len = n;
        *found = true;
    }
    if (txn != self->txn) {
        mdb_txn_abort(txn);
    }
    if (rc == 0 || rc == MDB_NOTFOUND) {
        return 0;
    }
    if (self->txn) {
        return s_batch_fail(self, rc, "reading an entry");
    }
    return s_fail(self->dir, rc, "reading an entry");
}

int
broker_journal_keys_put(broker_journal_t *self, const char *obs_id, const void *data, size_t len)
{
    assert(self);
    assert(self->txn);
    assert(data || len == 0);
    size_t id_len;
    int err = s_check_id(self, obs_id, &id_len);
    if (err) {
        return err;
    }
    if (self->batch_err) {
        return self->batch_err;
    }
    MDB_val k = {.mv_size = id_len, .mv_data = (void *)obs_id};
    if (len == 0) {
        int rc = mdb_del(self->txn, self->keys, &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return s_batch_fail(self, rc, "deleting a key list");
        }
        return 0;
    }
    MDB_val v = {.mv_size = len, .mv_data = (void *)data};
    int rc = mdb_put(self->txn, self->keys, &k, &v, 0);
    if (rc != 0) {
        return s_batch_fail(self, rc, "storing a key list");
    }
    return 0;
}

int
broker_journal_commit(broker_journal_t *self)
{
    assert(self);
    assert(self->txn);
    MDB_txn *txn = self->txn;
    uint64_t batch_last = self->batch_last;
    int err = self->batch_err;
    self->txn = NULL;
    self->batch_err = 0;
    self->batch_last = self->last;
    if (err) {
        mdb_txn_abort(txn);
        return err;
    }
    if (batch_last != self->last) {
        int rc = s_meta_put(self, txn, "last", batch_last);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return s_fail(self->dir, rc, "recording the last seq");
        }
    }
    /* mdb_txn_commit frees the transaction whatever it returns. */
    int rc = mdb_txn_commit(txn);
    if (rc != 0) {
        return s_fail(self->dir, rc, "committing a batch");
    }
    self->last = batch_last;
    self->batch_last = batch_last;
    return 0;
}

void
broker_journal_abort(broker_journal_t *self)
{
    assert(self);
    if (!self->txn) {
        return;
    }
    mdb_txn_abort(self->txn);
    self->txn = NULL;
    self->batch_err = 0;
    self->batch_last = self->last;
}

bool
broker_journal_in_batch(const broker_journal_t *self)
{
    assert(self);
    return self->txn != NULL;
}

uint64_t
broker_journal_last(const broker_journal_t *self)
{
    assert(self);
    return self->last;
}

uint64_t
broker_journal_compacted(const broker_journal_t *self)
{
    assert(self);
    return self->compacted;
}

size_t
broker_journal_max_id(const broker_journal_t *self)
{
    assert(self);
    return self->max_id;
}

int
broker_journal_compact(broker_journal_t *self, uint64_t upto)
{
    assert(self);
    assert(!self->txn);
    if (upto > self->last) {
        upto = self->last;
    }
    while (self->compacted < upto) {
        uint64_t end = upto - self->compacted > BROKER_JOURNAL_COMPACT_CHUNK
                           ? self->compacted + BROKER_JOURNAL_COMPACT_CHUNK
                           : upto;
        MDB_txn *txn;
        int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
        if (rc != 0) {
            return s_fail(self->dir, rc, "beginning a compaction");
        }
        for (uint64_t seq = self->compacted + 1; seq <= end && rc == 0; seq++) {
            uint8_t kb[S_U64_SIZE];
            s_put_u64(kb, seq);
            MDB_val k = {.mv_size = sizeof kb, .mv_data = kb};
            rc = mdb_del(txn, self->journal, &k, NULL);
            if (rc == MDB_NOTFOUND) {
                rc = 0;
            }
        }
        if (rc == 0) {
            rc = s_meta_put(self, txn, "compacted", end);
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
            return s_fail(self->dir, rc, "compacting");
        }
        rc = mdb_txn_commit(txn);
        if (rc != 0) {
            return s_fail(self->dir, rc, "committing a compaction");
        }
        self->compacted = end;
    }
    return 0;
}

broker_journal_cursor_t *
broker_journal_cursor_new(broker_journal_t *self, uint64_t from)
{
    assert(self);
    broker_journal_cursor_t *cur = xcalloc(1, sizeof *cur);
    cur->journal = self;
    cur->from = from;
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &cur->txn);
    if (rc != 0) {
        s_fail(self->dir, rc, "beginning a replay");
        free(cur);
        return NULL;
    }
    rc = mdb_cursor_open(cur->txn, self->journal, &cur->cur);
    if (rc != 0) {
        s_fail(self->dir, rc, "opening a replay cursor");
        mdb_txn_abort(cur->txn);
        free(cur);
        return NULL;
    }
    atomic_fetch_add(&self->cursors, 1);
    return cur;
}

int
broker_journal_cursor_next(broker_journal_cursor_t *cur, int *kind, uint64_t *seq,
                           const void **bytes, size_t *len)
{
    assert(cur);
    assert(kind && seq && bytes && len);
    if (cur->err) {
        return cur->err;
    }
    if (cur->done) {
        return 0;
    }
    const char *dir = cur->journal->dir;
    uint8_t kb[S_U64_SIZE];
    MDB_val k, v;
    int rc;
    if (!cur->started) {
        s_put_u64(kb, cur->from);
        k.mv_size = sizeof kb;
        k.mv_data = kb;
        rc = mdb_cursor_get(cur->cur, &k, &v, MDB_SET_RANGE);
        cur->started = true;
    } else {
        rc = mdb_cursor_get(cur->cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND) {
        cur->done = true;
        return 0;
    }
    if (rc != 0) {
        cur->err = s_fail(dir, rc, "replaying");
        return cur->err;
    }
    const uint8_t *val = v.mv_data;
    if (k.mv_size != S_U64_SIZE || v.mv_size < 1 ||
        (val[0] != BROKER_INPUT_RECORD && val[0] != BROKER_INPUT_FLUSH)) {
        log_error("journal %s: malformed entry (key %zu bytes, value %zu bytes)", dir, k.mv_size,
                  v.mv_size);
        cur->err = CADRE_EFORMAT;
        return cur->err;
    }
    size_t n = v.mv_size - 1;
    if (n) {
        /* Copied out of the map: the pointer is only good while the snapshot lives, and the
           caller's view must not depend on that. */
        xgrow(&cur->buf, &cur->cap, n);
        memcpy(cur->buf, val + 1, n);
    }
    *kind = val[0];
    *seq = s_get_u64(k.mv_data);
    *bytes = n ? cur->buf : NULL;
    *len = n;
    return 1;
}

void
broker_journal_cursor_destroy(broker_journal_cursor_t **cur_p)
{
    assert(cur_p);
    broker_journal_cursor_t *cur = *cur_p;
    if (!cur) {
        return;
    }
    mdb_cursor_close(cur->cur);
    mdb_txn_abort(cur->txn);
    atomic_fetch_sub(&cur->journal->cursors, 1);
    free(cur->buf);
    free(cur);
    *cur_p = NULL;
}
