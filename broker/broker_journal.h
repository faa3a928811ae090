/*  broker_journal.h - the broker's durable input log, kept in LMDB.

    Every input the broker accepts (an observation's MessagePack bytes, or a flush marker)
    is stored under the next sequence number, dense from 1, before the broker acknowledges
    it (docs/protocol.md §4). Inputs are written in batches: broker_journal_begin() opens one
    LMDB write transaction, broker_journal_append() adds inputs to it, and
    broker_journal_commit() makes them durable with LMDB's default synchronous commit (the
    data and meta pages are fsync'ed before it returns). Only after a successful commit may
    the broker acknowledge the batch's seqs. An aborted or failed batch leaves nothing behind
    and consumes no seqs.

    The same environment keeps the key index: for each observation id, the opaque key list
    the broker routed it with last time, so retractions survive restarts. It is updated
    inside the batch that journals the observation, so the journal and the index never
    disagree after a crash.

    Replay goes through cursors (broker_journal_cursor_new()), which read a snapshot of the
    committed inputs. Compaction drops inputs every downstream peer has applied; seq
    numbering and the key index are unaffected.

    Ownership and threads: the journal owns its LMDB environment. This module is the only
    broker file that includes lmdb.h, and LMDB errors are translated to codes from err.h
    (CADRE_EFULL, CADRE_ELIMIT, CADRE_ESTORE, CADRE_EFORMAT, or -errno). A journal handle is
    used by one thread at a time, and a batch must begin and end on the same thread (LMDB's
    writer lock belongs to that thread). Cursors may be created and used on any thread, each
    by one thread at a time, concurrently with the writer. Open a directory at most once per
    process, and never use a journal or cursor inherited through fork(). docs/storage.md
    describes the on-disk layout.
*/
#ifndef CADRE_BROKER_JOURNAL_H
#define CADRE_BROKER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Kinds of journaled input (stored as one byte in front of the input's bytes). */
enum {
    BROKER_INPUT_RECORD = 1, /* an observation: its MessagePack bytes, as submitted */
    BROKER_INPUT_FLUSH = 2,  /* a flush marker: no bytes */
};

/*  Map size used when broker_journal_open() is given 0: 1 GiB. */
#define BROKER_JOURNAL_DEFAULT_MAP ((size_t)1 << 30)

typedef struct broker_journal_t broker_journal_t;
typedef struct broker_journal_cursor_t broker_journal_cursor_t;

/*  Opens the journal in directory dir, creating the directory (one level, mode 0700) and an
    empty journal in it if needed. map_bytes is the LMDB map size, the most the journal file
    may grow to (rounded up to the page size; 0 means BROKER_JOURNAL_DEFAULT_MAP); an
    existing file larger than map_bytes keeps its size. Returns the journal, which the caller
    destroys with broker_journal_destroy(), or NULL after logging the reason (the directory
    cannot be created or opened, the files are not a cadre journal, LMDB fails). */
broker_journal_t *broker_journal_open(const char *dir, size_t map_bytes);

/*  Aborts any open batch, closes the environment, frees the journal and NULLs *self_p.
    NULL *self_p is a no-op. Every cursor on the journal must be destroyed first. */
void broker_journal_destroy(broker_journal_t **self_p);

/*  Begins a write batch (one LMDB write transaction). No batch may be open already.
    Returns 0, or CADRE_ESTORE / -errno when LMDB cannot start the transaction. */
int broker_journal_begin(broker_journal_t *self);

/*  Appends one input to the open batch under the next seq, and sets *seq_out to it (the
    first input of a batch gets broker_journal_last() + 1). kind is BROKER_INPUT_RECORD
    with the len bytes at bytes (which may be NULL only when len is 0), or
    BROKER_INPUT_FLUSH with len 0. The bytes are copied; the seq is durable only once
    broker_journal_commit() returns 0.
    Returns 0; -EINVAL for an unknown kind, a FLUSH with bytes or NULL bytes with len > 0
    (nothing changes);
    CADRE_EFULL when the map is full; CADRE_ELIMIT when the batch outgrows one LMDB
    transaction; CADRE_ESTORE / -errno on other LMDB failures. After an LMDB failure the
    batch is failed: every later call in it returns the same code, and it must be ended with
    broker_journal_abort() or broker_journal_commit(), which then discards it. */
int broker_journal_append(broker_journal_t *self, int kind, const void *bytes, size_t len,
                          uint64_t *seq_out);

/*  Looks up the key list stored for observation id obs_id (a NUL-terminated string of 1 to
    broker_journal_max_id() bytes). Inside a batch it sees the batch's own puts; outside one
    it reads the last committed state. On success *found tells whether a list is stored, and
    *data_out / *len_out give a copy of it (NULL / 0 when absent). The copy is borrowed: it
    belongs to the journal and is valid until the next call on this journal.
    Returns 0; -EINVAL for an empty id; CADRE_ELIMIT for an id that is too long; the batch's
    error if the batch has failed; CADRE_ESTORE / -errno on LMDB failures. */
int broker_journal_keys_get(broker_journal_t *self, const char *obs_id, const void **data_out,
                            size_t *len_out, bool *found);

/*  Looks up the input journaled under seq. Inside a batch it sees the batch's own appends;
    outside one, the last committed state. On success *found tells whether the entry exists
    (not yet appended, or dropped by compaction: false), *kind is its kind and *bytes / *len
    a copy of its bytes, borrowed from the journal until the next call on it.
    Returns 0; the batch's error if the batch has failed; CADRE_ESTORE / -errno on LMDB
    failures. */
int broker_journal_get(broker_journal_t *self, uint64_t seq, int *kind, const void **bytes,
                       size_t *len, bool *found);

/*  Inside the open batch, replaces the key list of obs_id with a copy of the len bytes at
    data, or deletes it when len is 0 (deleting an absent id is not an error). The change
    becomes durable with the batch. Returns 0, or the codes of broker_journal_keys_get()
    plus CADRE_EFULL, CADRE_ELIMIT; an LMDB failure fails the batch (see
    broker_journal_append()). */
int broker_journal_keys_put(broker_journal_t *self, const char *obs_id, const void *data,
                            size_t len);

/*  What the journal remembers of one producer (a client that names itself in PSUBMIT,
    docs/protocol.md §4): the highest ref it had accepted, that input's seq, and the wall time
    in ms of that acceptance (for pruning). */
/*  How long the journal remembers a producer after its last accepted submission: a client
    resubmits within seconds of a restart, so an hour is ample. */
#define BROKER_PRODUCER_TTL_MS (3600 * 1000)

typedef struct {
    uint64_t ref;   /* highest accepted ref */
    uint64_t seq;   /* the seq its input got (or the seq it was a duplicate of) */
    uint64_t at_ms; /* when, in ms since the epoch */
} broker_producer_t;

/*  Looks up a producer; inside a batch it sees the batch's own puts. On success *found tells
    whether it is known and *out holds it (zeros when not; a stored value of the wrong size is
    logged and reported as unknown). Returns 0; the batch's error; CADRE_ESTORE / -errno on
    LMDB failures (inside a batch they fail the batch). */
int broker_journal_producer_get(broker_journal_t *self, uint64_t producer, broker_producer_t *out,
                                bool *found);

/*  Inside the open batch, stores *p as what is known of producer; durable with the batch.
    Returns 0; the batch's error; an LMDB failure fails the batch. */
int broker_journal_producer_put(broker_journal_t *self, uint64_t producer,
                                const broker_producer_t *p);

/*  Forgets the producers last seen before before_ms (and any stored value that does not
    decode), in a write transaction of its own (no batch may be open); *dropped (if not NULL)
    gets the count. Returns 0; CADRE_ESTORE / -errno on LMDB failures. */
int broker_journal_producers_prune(broker_journal_t *self, uint64_t before_ms, size_t *dropped);

/*  Commits the open batch durably and ends it. On 0 every seq appended in the batch is on
    disk, and broker_journal_last() reports the batch's last seq. On failure nothing of the
    batch is visible, its seqs are not consumed, and the batch is ended all the same.
    Returns 0; the batch's error if it had failed; CADRE_EFULL when the map filled up while
    committing; CADRE_ESTORE / -errno (e.g. -EIO, -ENOSPC) when LMDB cannot write or sync. */
int broker_journal_commit(broker_journal_t *self);

/*  Discards the open batch, if any: nothing of it is stored and its seqs are reused. */
void broker_journal_abort(broker_journal_t *self);

/*  True while a batch is open (between begin and commit/abort). */
bool broker_journal_in_batch(const broker_journal_t *self);

/*  The highest committed seq, or 0 when nothing was ever committed. Not changed by
    compaction or by uncommitted appends. */
uint64_t broker_journal_last(const broker_journal_t *self);

/*  The highest seq dropped by compaction, or 0. Inputs compacted() + 1 .. last() are
    present. */
uint64_t broker_journal_compacted(const broker_journal_t *self);

/*  The longest observation id the key index accepts, in bytes (LMDB's key size limit). */
size_t broker_journal_max_id(const broker_journal_t *self);

/*  Drops the committed inputs with seq <= upto (clamped to broker_journal_last()); call it
    once every downstream peer has applied them. The key index, the seq numbering and
    broker_journal_last() are unchanged. It runs its own write transactions (one per
    BROKER_JOURNAL_COMPACT_CHUNK inputs), so no batch may be open. Progress is durable chunk
    by chunk: after a failure the inputs dropped so far stay dropped and compacted() says how
    far it got. Returns 0; CADRE_EFULL when even the deletions find no free page;
    CADRE_ESTORE / -errno on other LMDB failures. */
int broker_journal_compact(broker_journal_t *self, uint64_t upto);

/*  Inputs deleted per write transaction by broker_journal_compact(). */
#define BROKER_JOURNAL_COMPACT_CHUNK 10000

/*  Opens a replay cursor over the committed inputs with seq >= from, in seq order (from 0
    means from the start; inputs already compacted are skipped, so compare from with
    broker_journal_compacted() to detect a gap). The cursor reads a snapshot: it sees the
    inputs committed before it was opened, never later ones, and never the open batch. To
    continue after its end, remember the last seq and open a new cursor from seq + 1.
    A cursor holds an LMDB read transaction, which pins the pages of its snapshot so LMDB
    cannot reuse them; destroy cursors promptly (within a loop turn) or the map fills up.
    The journal must outlive the cursor. Returns the cursor, which the caller destroys with
    broker_journal_cursor_destroy(), or NULL after logging the reason (e.g. LMDB's reader
    table is full). */
broker_journal_cursor_t *broker_journal_cursor_new(broker_journal_t *self, uint64_t from);

/*  Moves to the next input. Returns 1 and sets *kind, *seq, *bytes and *len (bytes is NULL
    when len is 0; otherwise a copy owned by the cursor, valid until the next call on this
    cursor or its destruction); 0 at the end (and on every later call); CADRE_EFORMAT for a
    malformed entry on disk; CADRE_ESTORE / -errno on LMDB failures. */
int broker_journal_cursor_next(broker_journal_cursor_t *cur, int *kind, uint64_t *seq,
                               const void **bytes, size_t *len);

/*  Ends the cursor's read transaction, frees it and NULLs *cur_p. NULL *cur_p is a no-op. */
void broker_journal_cursor_destroy(broker_journal_cursor_t **cur_p);

#endif
