/*  broker.c - the broker role (see broker.h and docs/protocol.md).

    Reactor: zmq_poll over ingest, backend, the actor pipe and the signal fd, with a timeout
    no longer than the heartbeat interval. One loop turn reads up to broker.batch client
    messages into one journal transaction, commits it, acknowledges, then streams newly
    journaled inputs to the live peers until the next barrier point. A barrier stops the
    stream until the merger reports RECONCILED, which answers pending FLUSHes.
*/
#include "broker.h"

#include "broker_journal.h"
#include "broker_route.h"
#include "curve.h"
#include "err.h"
#include "gate.h"
#include "hb.h"
#include "log.h"
#include "obs_append.h"
#include "proto.h"
#include "wire.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STREAM_BATCH 1000 /* journal entries per KEYS/RECORDS message */

/*  A downstream peer (shard or merger) on the backend socket. */
typedef struct {
    zframe_t *identity; /* its ROUTER identity, NULL until READY */
    hb_t hb;            /* heartbeat state */
    bool alive;         /* READY seen and not declared dead since */
    bool silent;        /* declared dead for silence only: its connection still stands */
    uint64_t applied;   /* highest seq it reports applied */
    uint64_t sent;      /* every input <= this was streamed to it */
    bool barrier_sent;  /* BARRIER of the barrier in progress was sent to it */
} s_peer_t;

/*  A client waiting for FLUSHED. */
typedef struct {
    zframe_t *identity; /* client identity (owned) */
    uint64_t ref;       /* its ref */
    uint64_t seq;       /* the last input before the flush: its reconciliation point */
} s_flush_t;

/*  An acknowledgement to send after the journal commit. */
typedef struct {
    zframe_t *identity; /* client identity (owned) */
    uint64_t ref;       /* its ref */
    uint64_t seq;       /* the seq it got */
} s_ack_t;

/*  What the keys index keeps per observation id: where its keys live, and which record
    is current (so an identical resubmission is recognised and not journaled again). */
typedef struct {
    route_mask_t mask; /* shards owning its current keys */
    uint64_t hash;     /* obs_hash of its current record */
    uint64_t seq;      /* the seq that record got */
} s_current_t;

/*  What routing needs of a record journaled at ingest, kept so streaming it later does not
    decode the record again. */
typedef struct {
    uint64_t seq;      /* its journal seq */
    route_info_t info; /* owned */
} s_decoded_t;

/*  Ring size: an input waits at most broker.max_lag inputs (plus a batch) between its
    journaling and its streaming, so a ring that large always hits; a few hundred bytes an
    entry, capped for very large max_lag settings. */
#define S_DECODED_MIN 8192
#define S_DECODED_CAP (1u << 18)

struct broker_t {
    const cfg_t *cfg;          /* configuration (borrowed) */
    broker_journal_t *journal; /* durable input log */
    zsock_t *ingest;           /* ROUTER for clients */
    zsock_t *backend;          /* ROUTER for shards and the merger */
    curve_t *curve;            /* CURVE server credentials, or NULL */
    gate_t *gate;              /* who may connect, how many (ipc:// and tcp://), or NULL */
    uint32_t n_shards;         /* shard count */
    s_peer_t *shards;          /* per shard */
    s_peer_t merger;           /* the merger */
    bool know_passed;          /* `passed` is known (the merger said where it stands) */
    uint64_t passed;           /* last barrier the merger reconciled */
    int64_t passed_at;         /* when it did (zclock_mono ms), for broker.reconcile_ms */
    uint64_t barrier;          /* barrier in progress (0: none) */
    bool committed;            /* COMMIT sent for the barrier in progress */
    bool *generic_in;          /* per shard: GENERIC received for the barrier */
    wmsg_flips_t flips;        /* union of the shards' flips for the barrier */
    size_t flips_cap;          /* allocated flips */
    s_ack_t *acks;             /* acknowledgements of the open batch */
    size_t n_acks;             /* count */
    size_t acks_cap;           /* allocated */
    s_flush_t *flushes;        /* flushes waiting for RECONCILED */
    size_t n_flushes;          /* count */
    size_t flushes_cap;        /* allocated */
    uint64_t dropped;          /* malformed or unauthorized backend messages dropped */
    proto_unsent_t unsent;     /* client replies dropped: the client does not read them */
    bool peer_keys;            /* CURVE on the backend: peers are bound to their keys */
    uint64_t rejected;         /* client records rejected */
    uint64_t duplicates;       /* resubmissions acknowledged without journaling */
    int64_t pruned_at;         /* zclock_mono() of the last pruning of producers (0: never) */
    uint64_t appended;         /* highest seq appended, the open batch included */
    bool stream_more;          /* the last streaming pass stopped for time, not for want */
    s_decoded_t *decoded;      /* ring of records routed at ingest, in seq order */
    size_t dec_cap;            /* ring size */
    size_t dec_head;           /* index of the oldest */
    size_t dec_n;              /* records in the ring */
};

const char *
broker_role_name(void)
{
    return "broker";
}

/*  With curve.enabled, makes both sockets CURVE servers (not on inproc://). -1 (logged)
    when the keys cannot be loaded. */
static int
s_apply_curve(broker_t *self)
{
    const cfg_t *cfg = self->cfg;
    if (!cfg->curve.enabled ||
        (!curve_applies(cfg->broker.ingest) && !curve_applies(cfg->broker.backend))) {
        return 0;
    }
    curve_opts_t o = {.server_secret = cfg->curve.secret_key_file,
                      .server_public = cfg->curve.public_key_file,
                      .authorized_dir = cfg->curve.authorized_keys_dir,
                      .peers_dir = cfg->curve.peer_keys_dir};
    char err[512];
    self->curve = curve_new(&o, err, sizeof err);
    if (!self->curve) {
        log_error("broker: CURVE: %s", err);
        return -1;
    }
    if (curve_applies(cfg->broker.ingest)) {
        curve_serve(self->curve, self->ingest);
    }
    if (curve_applies(cfg->broker.backend)) {
        curve_serve(self->curve, self->backend);
        /* Routing ids are claimed, not proven: with keys checked, a connection may not take
           over the id of a live one (a restarted peer gets it once the old connection is
           closed, by the peer or by the link heartbeats). */
        zsock_set_router_handover(self->backend, 0);
        self->peer_keys = true;
    }
    log_info("broker: CURVE on, clients authorized by %s, peers by %s",
             cfg->curve.authorized_keys_dir, cfg->curve.peer_keys_dir);
    return 0;
}

/*  Puts the sockets that bind ipc:// or tcp:// under the process's gate: the keys each
    may let in, and how many connections (docs/protocol.md §10). -1 (logged) on failure. */
static int
s_apply_gate(broker_t *self)
{
    const cfg_t *cfg = self->cfg;
    bool ingest = curve_applies(cfg->broker.ingest);
    bool backend = curve_applies(cfg->broker.backend);
    if (!ingest && !backend) {
        return 0;
    }
    uint64_t limit = gate_raise_nofile();
    uint32_t peers = 4 * (self->n_shards + 1) + 16;
    gate_opts_t o = {.peers_dir = cfg->curve.enabled ? cfg->curve.peer_keys_dir : NULL,
                     .clients_dir = cfg->curve.enabled ? cfg->curve.authorized_keys_dir : NULL,
                     .max_clients =
                         gate_client_cap((uint32_t)cfg->limits.max_clients, limit, peers),
                     .max_peers = peers};
    char err[256];
    self->gate = gate_new(&o, err, sizeof err);
    if (!self->gate || (ingest && gate_watch(self->gate, self->ingest, GATE_CLIENTS) != 0) ||
        (backend && gate_watch(self->gate, self->backend, GATE_PEERS) != 0)) {
        log_error("broker: %s", self->gate ? "cannot watch its sockets' connections" : err);
        return -1;
    }
    log_info("broker: at most %u client connections (open-file limit %" PRIu64 ")", o.max_clients,
             limit);
    return 0;
}

broker_t *
broker_new(const cfg_t *cfg)
{
    char *dir = xasprintf("%s/broker", cfg->data_dir);
    broker_journal_t *journal = broker_journal_open(dir, (size_t)cfg->broker.map_size_mb << 20);
    free(dir);
    if (!journal) {
        return NULL;
    }
    broker_t *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    self->journal = journal;
    self->appended = broker_journal_last(journal);
    self->n_shards = (uint32_t)cfg->shards;
    self->shards = xcalloc(self->n_shards, sizeof *self->shards);
    self->generic_in = xcalloc(self->n_shards, sizeof *self->generic_in);
    self->ingest = zsock_new(ZMQ_ROUTER);
    self->backend = zsock_new(ZMQ_ROUTER);
    zsock_set_router_mandatory(self->ingest, 1);
    zsock_set_router_mandatory(self->backend, 1);
    /* Peers use fixed routing ids: a restarted one takes its name over at once. */
    zsock_set_router_handover(self->backend, 1);
    zsock_set_linger(self->ingest, 1000);
    zsock_set_linger(self->backend, 1000);
    zsock_set_rcvtimeo(self->ingest, 0);
    zsock_set_rcvtimeo(self->backend, 0);
    /* Clients are not trusted to read: a reply that does not fit in a client's queue is
       dropped and counted, never waited for (docs/protocol.md §10). */
    zsock_set_sndtimeo(self->ingest, 0);
    zsock_set_sndhwm(self->ingest, cfg->limits.client_hwm);
    zsock_set_rcvhwm(self->ingest, cfg->limits.client_hwm);
    proto_set_max_message(self->ingest, (int64_t)cfg->limits.client_message_mb << 20);
    proto_set_max_message(self->backend, (int64_t)cfg->limits.peer_message_mb << 20);
    proto_set_link_keepalive(self->backend, PROTO_KEEPALIVE_S(cfg->heartbeat_ms, cfg->liveness));
    if (s_apply_curve(self) != 0 || s_apply_gate(self) != 0) {
        broker_destroy(&self);
        return NULL;
    }
    const char *eps[] = {cfg->broker.ingest, cfg->broker.backend};
    zsock_t *socks[] = {self->ingest, self->backend};
    for (size_t i = 0; i < 2; i++) {
        if (proto_bind(socks[i], eps[i], cfg->ipc_group) != 0) {
            log_error("broker: cannot bind %s: %s", eps[i], zmq_strerror(errno));
            broker_destroy(&self);
            return NULL;
        }
    }
    /* Nothing is streamed until the merger says which barrier it reconciled last; every
       peer is then streamed from what it reports applied (protocol §7). */
    log_info("broker: journal at %" PRIu64 ", %u shards, ingest %s, backend %s",
             broker_journal_last(journal), self->n_shards, cfg->broker.ingest, cfg->broker.backend);
    return self;
}

static void
s_peer_clear(s_peer_t *p)
{
    zframe_destroy(&p->identity);
}

void
broker_destroy(broker_t **self_p)
{
    broker_t *self = *self_p;
    if (!self) {
        return;
    }
    for (uint32_t k = 0; k < self->n_shards; k++) {
        s_peer_clear(&self->shards[k]);
    }
    s_peer_clear(&self->merger);
    for (size_t i = 0; i < self->n_acks; i++) {
        zframe_destroy(&self->acks[i].identity);
    }
    for (size_t i = 0; i < self->n_flushes; i++) {
        zframe_destroy(&self->flushes[i].identity);
    }
    free(self->acks);
    free(self->flushes);
    for (size_t i = 0; i < self->dec_n; i++) {
        route_info_clear(&self->decoded[(self->dec_head + i) % self->dec_cap].info);
    }
    free(self->decoded);
    wmsg_flips_free(&self->flips);
    free(self->shards);
    free(self->generic_in);
    if (self->gate) {
        gate_unwatch(self->gate, self->ingest);
        gate_unwatch(self->gate, self->backend);
    }
    zsock_destroy(&self->ingest);
    zsock_destroy(&self->backend);
    gate_destroy(&self->gate);
    curve_destroy(&self->curve);
    broker_journal_destroy(&self->journal);
    free(self);
    *self_p = NULL;
}

/*  --------------------------------------------------------------------------------------
    Sending */

static void
s_send_peer(broker_t *self, s_peer_t *p, zmsg_t **msg)
{
    if (zmsg_send(msg, self->backend) != 0) {
        zmsg_destroy(msg);
        /* ROUTER_MANDATORY: its connection is gone (a crash closes it at once, usually
           before liveness runs out), which is as dead as silence. */
        if (p->alive && p == &self->merger) {
            log_error("broker: merger dead (connection closed)");
        } else if (p->alive) {
            log_error("broker: shard %u dead (connection closed)", (unsigned)(p - self->shards));
        }
        p->alive = false;
        p->silent = false;
        return;
    }
    hb_sent(&p->hb, zclock_mono());
}

static void
s_send_body(broker_t *self, s_peer_t *p, proto_cmd_t cmd, const uint64_t *seq,
            const wire_buf_t *body)
{
    /* A silent peer may only be paused: what it is sent waits in its queue. */
    if (!p->alive && !p->silent) {
        return;
    }
    zmsg_t *msg = proto_msg_new_to(p->identity, cmd);
    if (seq) {
        proto_add_u64(msg, *seq);
    }
    if (body) {
        proto_add_body(msg, body);
    }
    s_send_peer(self, p, &msg);
}

static void
s_reply_client(broker_t *self, zframe_t *identity, proto_cmd_t cmd, uint64_t ref,
               const uint64_t *seq, const wire_buf_t *body)
{
    zmsg_t *msg = proto_msg_new_to(identity, cmd);
    proto_add_u64(msg, ref);
    if (seq) {
        proto_add_u64(msg, *seq);
    }
    if (body) {
        proto_add_body(msg, body);
    }
    proto_reply(self->ingest, &msg, &self->unsent, "broker");
}

static void
s_client_error(broker_t *self, zframe_t *identity, uint64_t ref, const char *code,
               const char *field, const char *message)
{
    wmsg_error_t e = {.code = (char *)code, .field = (char *)field, .message = (char *)message};
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_error_encode(&e, &buf);
    s_reply_client(self, identity, PROTO_ERROR, ref, NULL, &buf);
    wire_buf_free(&buf);
}

/*  Keeps the routing information of a freshly journaled record for streaming (taking it),
    dropping the oldest kept one when the ring is full. */
static void
s_decoded_push(broker_t *self, uint64_t seq, route_info_t *info)
{
    if (!self->decoded) {
        int64_t lag = self->cfg->broker.max_lag + 4096;
        self->dec_cap = lag < S_DECODED_MIN   ? S_DECODED_MIN
                        : lag > S_DECODED_CAP ? S_DECODED_CAP
                                              : (size_t)lag;
        self->decoded = xcalloc(self->dec_cap, sizeof *self->decoded);
    }
    if (self->dec_n == self->dec_cap) {
        route_info_clear(&self->decoded[self->dec_head].info);
        self->dec_head = (self->dec_head + 1) % self->dec_cap;
        self->dec_n--;
    }
    s_decoded_t *d = &self->decoded[(self->dec_head + self->dec_n) % self->dec_cap];
    d->seq = seq;
    d->info = *info;
    memset(info, 0, sizeof *info);
    self->dec_n++;
}

/*  Takes the kept routing information of seq into *out (true), or false (then the caller
    decodes the journal entry); kept records older than seq are dropped. */
static bool
s_decoded_take(broker_t *self, uint64_t seq, route_info_t *out)
{
    while (self->dec_n > 0) {
        s_decoded_t *d = &self->decoded[self->dec_head];
        if (d->seq > seq) {
            return false;
        }
        self->dec_head = (self->dec_head + 1) % self->dec_cap;
        self->dec_n--;
        if (d->seq == seq) {
            *out = d->info;
            memset(&d->info, 0, sizeof d->info);
            return true;
        }
        route_info_clear(&d->info);
    }
    return false;
}

/*  Drops every kept record (their seqs are void after a failed commit). */
static void
s_decoded_clear(broker_t *self)
{
    while (self->dec_n > 0) {
        route_info_clear(&self->decoded[self->dec_head].info);
        self->dec_head = (self->dec_head + 1) % self->dec_cap;
        self->dec_n--;
    }
}

/*  --------------------------------------------------------------------------------------
    Ingest */

/*  Journals one good record: the entry is [owner mask of old and new keys][record]. An upsert
    identical to the id's current record is not journaled; *seq then gets that record's seq
    and *fresh is false. */
static int
s_journal_record(broker_t *self, const obs_t *obs, const route_info_t *info, const void *bytes,
                 size_t len, uint64_t *seq, bool *fresh)
{
    *fresh = true;
    s_current_t prev = {0};
    const void *old = NULL;
    size_t old_len = 0;
    bool found = false;
    int rc = broker_journal_keys_get(self->journal, obs->id, &old, &old_len, &found);
    if (rc != 0) {
        return rc;
    }
    found = found && old_len == sizeof prev;
    if (found) {
        memcpy(&prev, old, sizeof prev);
    }
    uint64_t h = obs->op == OBS_DELETE ? 0 : obs_hash(obs);
    if (found && obs->op != OBS_DELETE && prev.hash == h) {
        *seq = prev.seq;
        *fresh = false;
        return 0;
    }
    s_current_t now = {.hash = h};
    route_mask_of(&info->keys, &now.mask);
    route_mask_t entry = now.mask;
    for (size_t i = 0; found && i < ROUTE_MAX_SHARDS / 64; i++) {
        entry.bits[i] |= prev.mask.bits[i];
    }
    char *val = xmalloc(sizeof entry + len);
    memcpy(val, &entry, sizeof entry);
    memcpy(val + sizeof entry, bytes, len);
    rc = broker_journal_append(self->journal, BROKER_INPUT_RECORD, val, sizeof entry + len, seq);
    free(val);
    if (rc == 0) {
        self->appended = *seq;
    }
    now.seq = *seq;
    if (rc == 0) {
        rc = broker_journal_keys_put(self->journal, obs->id, &now,
                                     obs->op == OBS_DELETE ? 0 : sizeof now);
    }
    return rc;
}

/*  Merges the append *obs_p into the id's current record (the journal entry its key index
    names), replacing *obs_p with the merged record (op upsert) and encoding it into buf.
    Returns 0; CADRE_ERECORD (err filled) when the merge breaks a limit; a storage error;
    CADRE_EFORMAT when the current record does not decode (logged). */
static int
s_resolve_append(broker_t *self, obs_t **obs_p, wire_buf_t *buf, obs_error_t *err)
{
    obs_t *stored = NULL;
    const void *old = NULL;
    size_t old_len = 0;
    bool found = false;
    int rc = broker_journal_keys_get(self->journal, (*obs_p)->id, &old, &old_len, &found);
    if (rc == 0 && found && old_len == sizeof(s_current_t)) {
        s_current_t cur;
        memcpy(&cur, old, sizeof cur);
        int kind = 0;
        const void *entry = NULL;
        size_t entry_len = 0;
        bool have = false;
        rc = broker_journal_get(self->journal, cur.seq, &kind, &entry, &entry_len, &have);
        if (rc == 0 && have && kind == BROKER_INPUT_RECORD && entry_len > sizeof(route_mask_t)) {
            obs_error_t e;
            if (wire_obs_decode((const char *)entry + sizeof(route_mask_t),
                                entry_len - sizeof(route_mask_t), cur.seq, &stored, &e) != 0) {
                log_error("broker: journal entry %" PRIu64 " of '%s' does not decode: %s", cur.seq,
                          (*obs_p)->id, e.message);
                rc = CADRE_EFORMAT;
            }
        }
    }
    if (rc == 0) {
        rc = obs_append_merge(&stored, *obs_p, err);
    }
    if (rc == 0) {
        rc = wire_obs_encode(stored, buf, err);
    }
    if (rc == 0) {
        obs_destroy(obs_p);
        *obs_p = stored;
        return 0;
    }
    obs_destroy(&stored);
    return rc;
}

static int
s_ensure_batch(broker_t *self)
{
    return broker_journal_in_batch(self->journal) ? 0 : broker_journal_begin(self->journal);
}

static int
s_on_client(broker_t *self, zmsg_t *msg)
{
    proto_frame_t f;
    if (proto_parse(msg, true, &f) != 0) {
        if (f.identity) {
            s_client_error(self, f.identity, 0, f.code ? f.code : "frame", "", f.reason);
        }
        return 0;
    }
    uint64_t ref = 0;
    if (f.cmd == PROTO_HEARTBEAT || f.cmd == PROTO_DISCONNECT) {
        return 0;
    }
    if (f.cmd != PROTO_SUBMIT && f.cmd != PROTO_PSUBMIT && f.cmd != PROTO_FLUSH) {
        s_client_error(self, f.identity, 0, "command", "", "not a client command");
        return 0;
    }
    bool named = f.cmd == PROTO_PSUBMIT;
    uint64_t producer = 0;
    if (named) {
        proto_get_u64(&f.parts[0], &producer);
    }
    proto_get_u64(&f.parts[named ? 1 : 0], &ref);
    if (f.cmd == PROTO_FLUSH) {
        /* A flush is a reconciliation point at the last input before it; it takes no seq,
           so it never moves the every-N points. Answered once the merger reconciled it. */
        uint64_t at = self->appended;
        xgrow(&self->flushes, &self->flushes_cap, self->n_flushes + 1);
        self->flushes[self->n_flushes++] = (s_flush_t){zframe_dup(f.identity), ref, at};
        return 0;
    }
    const proto_part_t *body = &f.parts[named ? 2 : 1];
    int rc = 0;
    if (named) {
        /* A producer's refs grow, and it resends in ref order on every connection: a ref at
           or below the highest one accepted is a resubmission of an accepted input. */
        broker_producer_t known;
        bool found = false;
        rc = s_ensure_batch(self);
        if (rc == 0) {
            rc = broker_journal_producer_get(self->journal, producer, &known, &found);
        }
        if (rc != 0) {
            return rc;
        }
        if (found && ref <= known.ref) {
            self->duplicates++;
            xgrow(&self->acks, &self->acks_cap, self->n_acks + 1);
            self->acks[self->n_acks++] = (s_ack_t){zframe_dup(f.identity), ref, known.seq};
            return 0;
        }
    }
    obs_t *obs = NULL;
    obs_error_t err;
    if (wire_obs_decode((const char *)body->data, body->size, 0, &obs, &err) != 0) {
        self->rejected++;
        s_client_error(self, f.identity, ref, "record", err.field, err.message);
        return 0;
    }
    rc = s_ensure_batch(self);
    const void *bytes = body->data;
    size_t len = body->size;
    wire_buf_t merged;
    wire_buf_init(&merged);
    if (rc == 0 && obs->op == OBS_APPEND) {
        /* Resolved here, once: what is journaled and streamed is the merged record, as an
           upsert, so nothing downstream knows about appends. */
        rc = s_resolve_append(self, &obs, &merged, &err);
        if (rc == CADRE_ERECORD || rc == CADRE_EFORMAT) {
            self->rejected++;
            if (rc == CADRE_ERECORD) {
                s_client_error(self, f.identity, ref, "record", err.field, err.message);
            } else {
                s_client_error(self, f.identity, ref, "busy", "",
                               "the journaled record of this id cannot be read");
            }
            wire_buf_free(&merged);
            obs_destroy(&obs);
            return 0;
        }
        bytes = merged.data;
        len = merged.len;
    }
    uint64_t seq = 0;
    bool fresh = true;
    route_info_t info;
    route_info_make(obs, self->n_shards, &info);
    if (rc == 0) {
        rc = s_journal_record(self, obs, &info, bytes, len, &seq, &fresh);
    }
    if (rc == 0 && named) {
        broker_producer_t now = {ref, seq, (uint64_t)zclock_time()};
        rc = broker_journal_producer_put(self->journal, producer, &now);
    }
    if (rc == 0 && fresh) {
        s_decoded_push(self, seq, &info);
    }
    route_info_clear(&info);
    wire_buf_free(&merged);
    obs_destroy(&obs);
    if (rc == 0) {
        self->duplicates += !fresh;
        xgrow(&self->acks, &self->acks_cap, self->n_acks + 1);
        self->acks[self->n_acks++] = (s_ack_t){zframe_dup(f.identity), ref, seq};
    }
    return rc;
}

/*  Answers the flushes whose point the merger has reconciled. */
static void
s_answer_flushes(broker_t *self)
{
    if (!self->know_passed) {
        return;
    }
    for (size_t i = 0; i < self->n_flushes; i++) {
        if (self->flushes[i].seq <= self->passed) {
            uint64_t seq = self->flushes[i].seq;
            s_reply_client(self, self->flushes[i].identity, PROTO_FLUSHED, self->flushes[i].ref,
                           &seq, NULL);
            zframe_destroy(&self->flushes[i].identity);
            self->flushes[i--] = self->flushes[--self->n_flushes];
        }
    }
}

/*  Once a minute (and at the first call), forgets the producers silent for
    BROKER_PRODUCER_TTL_MS: the journal keeps what a client needs to resubmit after a
    restart, not every client ever seen. A failure is logged and retried a minute later. */
static void
s_prune_producers(broker_t *self)
{
    int64_t now = zclock_mono();
    if (self->pruned_at != 0 && now - self->pruned_at < 60000) {
        return;
    }
    self->pruned_at = now;
    int64_t wall = zclock_time();
    if (broker_journal_in_batch(self->journal) || wall < BROKER_PRODUCER_TTL_MS) {
        return;
    }
    size_t n = 0;
    if (broker_journal_producers_prune(self->journal, (uint64_t)(wall - BROKER_PRODUCER_TTL_MS),
                                       &n) == 0 &&
        n > 0) {
        log_info("broker: forgot %zu producers silent for an hour", n);
    }
}

/*  Commits the open batch and acknowledges it; on a storage failure nothing is
    acknowledged and every submitter gets an error. */
static int
s_commit(broker_t *self)
{
    int rc = broker_journal_in_batch(self->journal) ? broker_journal_commit(self->journal) : 0;
    if (rc != 0) {
        s_decoded_clear(self);
    }
    /* A failed batch is gone: flush points never name its seqs. */
    self->appended = broker_journal_last(self->journal);
    for (size_t i = 0; i < self->n_acks; i++) {
        if (rc == 0) {
            s_reply_client(self, self->acks[i].identity, PROTO_ACK, self->acks[i].ref,
                           &self->acks[i].seq, NULL);
        } else {
            s_client_error(self, self->acks[i].identity, self->acks[i].ref, "busy", "",
                           cadre_strerror(rc));
        }
        zframe_destroy(&self->acks[i].identity);
    }
    self->n_acks = 0;
    if (rc != 0) {
        log_error("broker: journal commit failed: %s", cadre_strerror(rc));
    }
    return rc;
}

/*  --------------------------------------------------------------------------------------
    Streaming and barriers */

static bool
s_all_ready(const broker_t *self)
{
    if (!self->merger.alive) {
        return false;
    }
    for (uint32_t k = 0; k < self->n_shards; k++) {
        if (!self->shards[k].alive) {
            return false;
        }
    }
    return true;
}

/*  Milliseconds until broker.reconcile_ms makes a reconciliation point (0: now), or -1
    when it will not: the option is off, a barrier is running, or no input waits. */
static int64_t
s_time_point_in(const broker_t *self)
{
    int64_t ms = self->cfg->broker.reconcile_ms;
    if (ms <= 0 || self->barrier || !self->know_passed || !s_all_ready(self) ||
        broker_journal_last(self->journal) <= self->passed) {
        return -1; /* (with a peer down no barrier can start: do not spin waiting for it) */
    }
    int64_t left = self->passed_at + ms - zclock_mono();
    return left > 0 ? left : 0;
}

/*  The next reconciliation point after `passed` that the journal has reached: the next
    multiple of reconcile_every, a pending flush's point, or, when inputs have waited
    broker.reconcile_ms since the last one, the journal's end; 0 when there is none yet. */
static uint64_t
s_next_barrier(const broker_t *self)
{
    uint64_t last = broker_journal_last(self->journal);
    uint64_t best = s_time_point_in(self) == 0 ? last : 0;
    uint64_t every = self->cfg->clustering.reconcile_every;
    if (every) {
        uint64_t next = (self->passed / every + 1) * every;
        if (next <= last) {
            best = next;
        }
    }
    for (size_t i = 0; i < self->n_flushes; i++) {
        uint64_t f = self->flushes[i].seq;
        if (f > self->passed && (best == 0 || f < best)) {
            best = f;
        }
    }
    return best;
}

/*  Per-peer batches of one streaming pass. */
typedef struct {
    wmsg_keys_t *keys;      /* per shard */
    size_t *keys_cap;       /* per shard */
    wmsg_records_t records; /* for the merger */
    size_t records_cap;     /* allocated */
} s_batches_t;

static void
s_flush_batches(broker_t *self, s_batches_t *b)
{
    wire_buf_t buf;
    wire_buf_init(&buf);
    for (uint32_t k = 0; k < self->n_shards; k++) {
        if (b->keys[k].n) {
            wire_buf_reset(&buf);
            wmsg_keys_encode(&b->keys[k], &buf);
            s_send_body(self, &self->shards[k], PROTO_KEYS, NULL, &buf);
            wmsg_keys_free(&b->keys[k]);
            b->keys_cap[k] = 0;
        }
    }
    if (b->records.n) {
        wire_buf_reset(&buf);
        wmsg_records_encode(&b->records, &buf);
        s_send_body(self, &self->merger, PROTO_RECORDS, NULL, &buf);
        for (size_t i = 0; i < b->records.n; i++) {
            free((char *)b->records.entries[i].bytes);
        }
        wmsg_records_free(&b->records);
        b->records_cap = 0;
    }
    wire_buf_free(&buf);
}

/*  Routes one journal entry to the peers that have not had it yet. */
static void
s_route_entry(broker_t *self, s_batches_t *b, uint64_t seq, const char *val, size_t len)
{
    route_mask_t mask;
    memcpy(&mask, val, sizeof mask);
    const char *rec = val + sizeof mask;
    size_t rec_len = len - sizeof mask;
    route_info_t info;
    if (!s_decoded_take(self, seq, &info)) {
        obs_t *obs = NULL;
        obs_error_t err;
        if (wire_obs_decode(rec, rec_len, seq, &obs, &err) != 0) {
            log_error("broker: journal entry %" PRIu64 " does not decode; skipped", seq);
            return;
        }
        route_info_make(obs, self->n_shards, &info);
        obs_destroy(&obs);
    }
    for (uint32_t k = 0; k < self->n_shards; k++) {
        if (!route_mask_has(&mask, k) || self->shards[k].sent >= seq) {
            continue;
        }
        wmsg_keys_t *kb = &b->keys[k];
        xgrow(&kb->entries, &b->keys_cap[k], kb->n + 1);
        route_entry(&info, seq, k, &kb->entries[kb->n++]);
    }
    route_info_clear(&info);
    if (self->merger.sent < seq) {
        xgrow(&b->records.entries, &b->records_cap, b->records.n + 1);
        char *copy = xmalloc(rec_len);
        memcpy(copy, rec, rec_len);
        b->records.entries[b->records.n++] = (wmsg_record_t){seq, copy, rec_len};
    }
}

static s_peer_t *
s_peer_at(broker_t *self, uint32_t k)
{
    return k < self->n_shards ? &self->shards[k] : &self->merger;
}

/*  Sends BARRIER to every peer that has everything up to it and has not had it. */
static void
s_send_barriers(broker_t *self)
{
    if (!self->barrier) {
        return;
    }
    for (uint32_t k = 0; k <= self->n_shards; k++) {
        s_peer_t *p = s_peer_at(self, k);
        if (p->alive && !p->barrier_sent && p->sent >= self->barrier) {
            s_send_body(self, p, PROTO_BARRIER, &self->barrier, NULL);
            p->barrier_sent = true;
        }
    }
}

/*  Streams journaled inputs to every live peer from its own position, up to the next
    reconciliation point; a restarted peer catches up from what it applied. */
static int
s_stream(broker_t *self)
{
    if (!self->know_passed || !s_all_ready(self)) {
        return 0;
    }
    uint64_t target = self->barrier ? self->barrier : s_next_barrier(self);
    uint64_t limit = target ? target : broker_journal_last(self->journal);
    if (target && !self->barrier) {
        self->barrier = target;
        self->committed = false;
        memset(self->generic_in, 0, self->n_shards * sizeof *self->generic_in);
        for (uint32_t k = 0; k <= self->n_shards; k++) {
            s_peer_at(self, k)->barrier_sent = false;
        }
        wmsg_flips_free(&self->flips);
        self->flips_cap = 0;
    }
    uint64_t low = UINT64_MAX;
    for (uint32_t k = 0; k <= self->n_shards; k++) {
        uint64_t sent = s_peer_at(self, k)->sent;
        low = sent < low ? sent : low;
    }
    if (low < limit && (int64_t)(low - self->merger.applied) <= self->cfg->broker.max_lag) {
        broker_journal_cursor_t *cur = broker_journal_cursor_new(self->journal, low + 1);
        if (!cur) {
            return CADRE_ESTORE;
        }
        int64_t until = zclock_mono() + self->cfg->heartbeat_ms / 4;
        s_batches_t b = {.keys = xcalloc(self->n_shards, sizeof(wmsg_keys_t)),
                         .keys_cap = xcalloc(self->n_shards, sizeof(size_t))};
        size_t in_batch = 0;
        int kind = 0;
        uint64_t seq = 0;
        const void *bytes = NULL;
        size_t len = 0;
        int rc;
        while ((rc = broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len)) == 1 &&
               seq <= limit) {
            if (kind == BROKER_INPUT_RECORD && len >= sizeof(route_mask_t)) {
                s_route_entry(self, &b, seq, bytes, len);
                in_batch++;
            }
            for (uint32_t k = 0; k <= self->n_shards; k++) {
                s_peer_t *p = s_peer_at(self, k);
                p->sent = p->sent < seq ? seq : p->sent;
            }
            if (in_batch >= S_STREAM_BATCH) {
                s_flush_batches(self, &b);
                in_batch = 0;
                /* Past max_lag, or a quarter interval spent: the loop resumes from each
                   peer's position after it has read, committed and heartbeated. */
                if ((int64_t)(seq - self->merger.applied) > self->cfg->broker.max_lag) {
                    break;
                }
                if (zclock_mono() > until) {
                    self->stream_more = true; /* poll without waiting, then go on */
                    break;
                }
            }
        }
        s_flush_batches(self, &b);
        free(b.keys);
        free(b.keys_cap);
        broker_journal_cursor_destroy(&cur);
        if (rc < 0) {
            return rc;
        }
    }
    s_send_barriers(self);
    return 0;
}

static void
s_send_commit(broker_t *self, s_peer_t *p)
{
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_flips_encode(&self->flips, &buf);
    s_send_body(self, p, PROTO_COMMIT, &self->barrier, &buf);
    wire_buf_free(&buf);
}

static void
s_on_generic(broker_t *self, uint32_t k, uint64_t seq, const proto_part_t *body)
{
    wmsg_flips_t got;
    char err[256];
    if (seq != self->barrier ||
        wmsg_flips_decode(body->data, body->size, &got, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("broker: dropped unexpected GENERIC %" PRIu64 " from shard %u", seq, k);
        return;
    }
    for (size_t i = 0; i < got.n; i++) {
        if (got.flips[i].family >= CCFG_GENERIC_FAMILIES) {
            self->dropped++;
            log_warn("broker: dropped GENERIC %" PRIu64 " from shard %u: key family %d is not "
                     "one of the %d blocking families",
                     seq, k, got.flips[i].family, CCFG_GENERIC_FAMILIES);
            wmsg_flips_free(&got);
            return;
        }
    }
    for (size_t i = 0; i < got.n; i++) {
        xgrow(&self->flips.flips, &self->flips_cap, self->flips.n + 1);
        self->flips.flips[self->flips.n++] = got.flips[i];
    }
    free(got.flips);
    self->generic_in[k] = true;
    if (self->committed) {
        /* A shard that restarted inside the barrier gets the same COMMIT again. */
        s_send_commit(self, &self->shards[k]);
        return;
    }
    for (uint32_t s = 0; s < self->n_shards; s++) {
        if (!self->generic_in[s]) {
            return;
        }
    }
    for (uint32_t s = 0; s < self->n_shards; s++) {
        s_send_commit(self, &self->shards[s]);
    }
    self->committed = true;
}

/*  The merger reconciled up to seq: the barrier is passed, its flushes are answered, and
    the shards may forget its changes (RELEASE). */
static void
s_passed(broker_t *self, uint64_t seq)
{
    if (seq > self->passed || !self->know_passed) {
        self->passed_at = zclock_mono();
    }
    self->passed = seq > self->passed ? seq : self->passed;
    self->know_passed = true;
    if (self->barrier && self->barrier <= self->passed) {
        self->barrier = 0;
        for (uint32_t k = 0; k < self->n_shards; k++) {
            s_send_body(self, &self->shards[k], PROTO_RELEASE, &self->passed, NULL);
        }
    }
    s_answer_flushes(self);
}

static s_peer_t *
s_peer_of(broker_t *self, zframe_t *identity, uint32_t *shard)
{
    for (uint32_t k = 0; k < self->n_shards; k++) {
        if (self->shards[k].identity && zframe_eq(self->shards[k].identity, identity)) {
            *shard = k;
            return &self->shards[k];
        }
    }
    *shard = UINT32_MAX;
    if (self->merger.identity && zframe_eq(self->merger.identity, identity)) {
        return &self->merger;
    }
    return NULL;
}

/*  The role name a peer's certificate must carry (docs/protocol.md §10). */
static void
s_role_name(const broker_t *self, const s_peer_t *p, char *out, size_t size)
{
    if (p == &self->merger) {
        snprintf(out, size, "merger");
    } else {
        snprintf(out, size, "shard-%u", (unsigned)(p - self->shards));
    }
}

/*  True when the connection msg came on may act as peer p: always without CURVE on the
    backend, else when its key's certificate is named after p's role. */
static bool
s_key_holds(const broker_t *self, const s_peer_t *p, const proto_frame_t *f)
{
    if (!self->peer_keys) {
        return true;
    }
    char role[32];
    s_role_name(self, p, role, sizeof role);
    return gate_user_is_peer(gate_user(f->version), role);
}

/*  A restarting merger asks for the records its snapshot names by journal seq (it keeps
    only their seqs, docs/storage.md "Merger snapshot"), before its READY. Answered with
    FETCHED holding every requested entry the journal has; one it lacks (never journaled, or
    compacted) is left out and logged, and the merger, missing it, cannot restore. Only the
    merger's connection (its key with CURVE, its routing id "merger" otherwise) is answered. */
static void
s_on_fetch(broker_t *self, const proto_frame_t *f)
{
    bool merger = self->peer_keys ? gate_user_is_peer(gate_user(f->version), "merger")
                                  : zframe_size(f->identity) == 6 &&
                                        memcmp(zframe_data(f->identity), "merger", 6) == 0;
    wmsg_fetch_t req;
    char err[256];
    if (!merger) {
        self->dropped++;
        log_error("broker: dropped FETCH from a connection that is not the merger's");
        return;
    }
    if (wmsg_fetch_decode(f->parts[0].data, f->parts[0].size, &req, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("broker: dropped bad FETCH from the merger: %s", err);
        return;
    }
    wmsg_records_t out = {.entries = xcalloc(req.n + 1, sizeof *out.entries)};
    char **copies = xcalloc(req.n + 1, sizeof *copies);
    size_t missing = 0;
    for (size_t i = 0; i < req.n; i++) {
        int kind = 0;
        const void *entry = NULL;
        size_t len = 0;
        bool found = false;
        int rc = broker_journal_get(self->journal, req.seqs[i], &kind, &entry, &len, &found);
        if (rc != 0 || !found || kind != BROKER_INPUT_RECORD || len <= sizeof(route_mask_t)) {
            missing++;
            continue;
        }
        /* broker_journal_get's copy lives until the next call: keep one per entry. */
        size_t rlen = len - sizeof(route_mask_t);
        char *copy = xmalloc(rlen);
        memcpy(copy, (const char *)entry + sizeof(route_mask_t), rlen);
        copies[out.n] = copy;
        out.entries[out.n++] = (wmsg_record_t){req.seqs[i], copy, rlen};
    }
    if (missing) {
        log_error("broker: the merger's snapshot names %zu records the journal does not hold "
                  "(first asked: %" PRIu64 ")",
                  missing, req.n ? req.seqs[0] : 0);
    }
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_records_encode(&out, &buf);
    zmsg_t *m = proto_msg_new_to(f->identity, PROTO_FETCHED);
    proto_add_body(m, &buf);
    if (zmsg_send(&m, self->backend) != 0) {
        zmsg_destroy(&m); /* it is gone; it asks again */
    }
    wire_buf_free(&buf);
    for (size_t i = 0; i < out.n; i++) {
        free(copies[i]);
    }
    free(copies);
    free(out.entries);
    wmsg_fetch_free(&req);
}

/*  A peer (re)joins: it is streamed from what it applied. A merger behind the barrier in
    progress re-runs it with every shard; a shard behind it redoes its part. A READY is
    refused when the connection's key does not hold the role, and when the role is alive on
    another connection (a takeover: the live peer keeps it; once it is dead, the next READY
    gets the role, so a displaced real peer registers again). */
static void
s_on_ready(broker_t *self, const proto_frame_t *f)
{
    zframe_t *identity = f->identity;
    const proto_part_t *body = &f->parts[0];
    wmsg_ready_t r;
    char err[256];
    if (wmsg_ready_decode(body->data, body->size, &r, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("broker: dropped bad READY from a backend peer: %s", err);
        return;
    }
    s_peer_t *p = NULL;
    bool merger = strcmp(r.role, "merger") == 0;
    if (merger && r.id == 0 && r.shards == self->n_shards) {
        p = &self->merger;
    } else if (strcmp(r.role, "shard") == 0 && r.id < self->n_shards &&
               r.shards == self->n_shards) {
        p = &self->shards[r.id];
    }
    if (!p) {
        self->dropped++;
        log_warn("broker: dropped READY from %s %u configured for %u shards (this deployment "
                 "has %u)",
                 r.role, r.id, r.shards, self->n_shards);
        wmsg_ready_free(&r);
        return;
    }
    char role[32];
    s_role_name(self, p, role, sizeof role);
    if (r.applied > self->appended || r.barrier > self->appended) {
        self->dropped++;
        log_error("broker: dropped READY as %s: applied %" PRIu64 " / barrier %" PRIu64
                  " past the journal (%" PRIu64 "); a peer of another deployment?",
                  role, r.applied, r.barrier, self->appended);
        wmsg_ready_free(&r);
        return;
    }
    if (!s_key_holds(self, p, f)) {
        self->dropped++;
        const char *user = gate_user(f->version);
        log_error("broker: refused READY as %s from a connection whose key is %s", role,
                  user ? user : "unknown");
        wmsg_ready_free(&r);
        return;
    }
    if (p->alive && p->identity && !zframe_eq(p->identity, identity)) {
        self->dropped++;
        log_error("broker: refused READY as %s from another connection: %s is alive", role, role);
        wmsg_ready_free(&r);
        return;
    }
    zframe_destroy(&p->identity);
    p->identity = zframe_dup(identity);
    hb_init(&p->hb, zclock_mono(), self->cfg->heartbeat_ms, self->cfg->liveness);
    p->alive = true;
    p->silent = false;
    p->applied = r.applied;
    p->sent = r.applied;
    p->barrier_sent = false;
    log_info("broker: %s %u ready at %" PRIu64 " (barrier %" PRIu64 ")", r.role, r.id, r.applied,
             r.barrier);
    if (merger) {
        if (self->barrier && r.barrier < self->barrier) {
            /* The merger lost the barrier in progress: run it again with every shard. */
            self->committed = false;
            memset(self->generic_in, 0, self->n_shards * sizeof *self->generic_in);
            for (uint32_t k = 0; k < self->n_shards; k++) {
                self->shards[k].barrier_sent = false;
            }
        }
        s_passed(self, r.barrier);
    } else {
        if (self->know_passed && r.barrier < self->passed) {
            s_send_body(self, p, PROTO_RELEASE, &self->passed, NULL);
        }
        if (self->barrier) {
            self->generic_in[r.id] = false;
        }
    }
    wmsg_ready_free(&r);
}

static void
s_on_backend(broker_t *self, zmsg_t *msg)
{
    proto_frame_t f;
    if (proto_parse(msg, true, &f) != 0) {
        self->dropped++;
        log_warn("broker: dropped %s from a backend peer", f.reason);
        return;
    }
    if (f.cmd == PROTO_READY) {
        s_on_ready(self, &f);
        return;
    }
    if (f.cmd == PROTO_FETCH) {
        s_on_fetch(self, &f);
        return;
    }
    uint32_t k = UINT32_MAX;
    s_peer_t *p = s_peer_of(self, f.identity, &k);
    if (!p) {
        self->dropped++;
        log_warn("broker: dropped %s from an unknown peer", proto_cmd_name(f.cmd));
        return;
    }
    if (!s_key_holds(self, p, &f)) {
        /* Its routing id names a peer its key does not hold: not heard, not obeyed. */
        self->dropped++;
        char role[32];
        s_role_name(self, p, role, sizeof role);
        log_error("broker: dropped %s sent as %s by a connection whose key is %s",
                  proto_cmd_name(f.cmd), role,
                  gate_user(f.version) ? gate_user(f.version) : "unknown");
        return;
    }
    hb_heard(&p->hb, zclock_mono());
    if (p->silent && f.cmd != PROTO_DISCONNECT) {
        /* Declared dead for silence, heard again on the same connection: it was paused or
           overloaded, not restarted, and nothing it was sent was lost. */
        p->alive = true;
        p->silent = false;
        log_info("broker: %s %u heard again, alive", k == UINT32_MAX ? "merger" : "shard",
                 k == UINT32_MAX ? 0 : k);
    }
    uint64_t seq = 0;
    switch (f.cmd) {
    case PROTO_HEARTBEAT:
        break;
    case PROTO_DISCONNECT:
        p->alive = false;
        p->silent = false;
        break;
    case PROTO_APPLIED:
        proto_get_u64(&f.parts[0], &seq);
        if (seq > self->appended) {
            /* No peer can have applied what was never journaled: it would stall
               back-pressure (max_lag) and streaming. */
            self->dropped++;
            log_warn("broker: dropped APPLIED %" PRIu64 " from a backend peer: past the journal "
                     "(%" PRIu64 ")",
                     seq, self->appended);
            break;
        }
        p->applied = seq > p->applied ? seq : p->applied;
        break;
    case PROTO_GENERIC:
        proto_get_u64(&f.parts[0], &seq);
        if (k == UINT32_MAX) {
            self->dropped++;
        } else {
            s_on_generic(self, k, seq, &f.parts[1]);
        }
        break;
    case PROTO_RECONCILED:
        proto_get_u64(&f.parts[0], &seq);
        if (k != UINT32_MAX || (self->barrier && seq != self->barrier) || seq > self->appended) {
            self->dropped++;
            log_warn("broker: dropped unexpected RECONCILED %" PRIu64 " from a backend peer", seq);
            break;
        }
        p->applied = seq > p->applied ? seq : p->applied;
        s_passed(self, seq);
        break;
    default:
        self->dropped++;
        log_warn("broker: dropped %s from a backend peer", proto_cmd_name(f.cmd));
        break;
    }
}

static void
s_heartbeats(broker_t *self)
{
    int64_t now = zclock_mono();
    for (uint32_t k = 0; k <= self->n_shards; k++) {
        s_peer_t *p = k < self->n_shards ? &self->shards[k] : &self->merger;
        if (!p->alive) {
            continue;
        }
        if (hb_dead(&p->hb, now)) {
            p->alive = false;
            p->silent = true;
            if (k < self->n_shards) {
                log_error("broker: shard %u dead (silent for %d x %d ms)", k, self->cfg->liveness,
                          self->cfg->heartbeat_ms);
            } else {
                log_error("broker: merger dead (silent for %d x %d ms)", self->cfg->liveness,
                          self->cfg->heartbeat_ms);
            }
            continue;
        }
        if (hb_should_send(&p->hb, now)) {
            zmsg_t *msg = proto_msg_new_to(p->identity, PROTO_HEARTBEAT);
            s_send_peer(self, p, &msg);
        }
    }
}

/*  True while the slowest live peer trails the journal by more than max_lag: ingest pauses
    and ZeroMQ's high-water mark pushes back on clients. */
static bool
s_backpressure(const broker_t *self)
{
    uint64_t last = broker_journal_last(self->journal);
    if (!self->merger.alive) {
        return last > (uint64_t)self->cfg->broker.max_lag &&
               last - self->merger.applied > (uint64_t)self->cfg->broker.max_lag;
    }
    return last - self->merger.applied > (uint64_t)self->cfg->broker.max_lag;
}

int
broker_run(broker_t *self, zsock_t *pipe, sigev_t *sig)
{
    int rc = 0;
    /* On TERM the broker stops reading clients and keeps running barriers until no flush is
       waiting, for at most shutdown_timeout_ms (STYLE rule 12). */
    bool draining = false;
    int64_t drain_until = 0;
    for (;;) {
        if (draining && (self->n_flushes == 0 || zclock_mono() > drain_until)) {
            break;
        }
        zmq_pollitem_t items[4];
        int n = 0;
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->backend), 0, ZMQ_POLLIN, 0};
        int ingest_at = -1;
        if (!draining && !s_backpressure(self)) {
            ingest_at = n;
            items[n++] = (zmq_pollitem_t){zsock_resolve(self->ingest), 0, ZMQ_POLLIN, 0};
        }
        int pipe_at = -1;
        if (pipe) {
            pipe_at = n;
            items[n++] = (zmq_pollitem_t){zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
        }
        int sig_at = -1;
        if (sig) {
            sig_at = n;
            items[n++] = (zmq_pollitem_t){NULL, sig_fd(sig), ZMQ_POLLIN, 0};
        }
        int wait_ms = self->stream_more ? 0 : self->cfg->heartbeat_ms / 2;
        int64_t point_in = s_time_point_in(self);
        if (point_in >= 0 && point_in < wait_ms) {
            wait_ms = (int)point_in; /* wake up for broker.reconcile_ms */
        }
        self->stream_more = false;
        if (zmq_poll(items, n, wait_ms) < 0 && zmq_errno() != EINTR) {
            break;
        }
        bool stop = false;
        if (sig_at >= 0 && (items[sig_at].revents & ZMQ_POLLIN) && sig_take(sig) &&
            sig_stopping(sig)) {
            stop = true;
        }
        if (pipe_at >= 0 && (items[pipe_at].revents & ZMQ_POLLIN)) {
            char *cmd = zstr_recv(pipe);
            stop = stop || !cmd || streq(cmd, "$TERM");
            zstr_free(&cmd);
        }
        if (stop && !draining) {
            draining = true;
            drain_until = zclock_mono() + self->cfg->shutdown_timeout_ms;
            if (self->n_flushes > 0) {
                log_info("broker: draining %zu flushes for at most %d ms", self->n_flushes,
                         self->cfg->shutdown_timeout_ms);
            }
        }
        /* Read for at most a quarter of a heartbeat interval before heartbeats are due. */
        int64_t busy_until = zclock_mono() + self->cfg->heartbeat_ms / 4;
        for (int i = 0;
             i < 1000 && (i == 0 || zclock_mono() < busy_until) && (items[0].revents & ZMQ_POLLIN);
             i++) {
            zmsg_t *msg = zmsg_recv(self->backend);
            if (!msg) {
                break;
            }
            s_on_backend(self, msg);
            zmsg_destroy(&msg);
        }
        if (ingest_at >= 0 && (items[ingest_at].revents & ZMQ_POLLIN)) {
            for (int i = 0; i < self->cfg->broker.batch; i++) {
                zmsg_t *msg = zmsg_recv(self->ingest);
                if (!msg) {
                    break;
                }
                rc = s_on_client(self, msg);
                zmsg_destroy(&msg);
                if (rc != 0) {
                    break;
                }
            }
            int crc = s_commit(self);
            rc = rc ? rc : crc;
            s_answer_flushes(self);
            if (rc != 0 && rc != CADRE_EFULL) {
                log_error("broker: storage failure, stopping: %s", cadre_strerror(rc));
                break;
            }
            rc = 0;
        }
        rc = s_stream(self);
        if (rc != 0) {
            log_error("broker: journal read failed: %s", cadre_strerror(rc));
            break;
        }
        s_heartbeats(self);
        s_prune_producers(self);
    }
    broker_journal_abort(self->journal);
    for (size_t i = 0; i < self->n_flushes; i++) {
        s_client_error(self, self->flushes[i].identity, self->flushes[i].ref, "busy", "",
                       "the broker is shutting down");
    }
    for (uint32_t k = 0; k <= self->n_shards; k++) {
        s_peer_t *p = k < self->n_shards ? &self->shards[k] : &self->merger;
        if (p->alive) {
            /* Best effort: in embedded mode the peer may already be gone. */
            zmsg_t *msg = proto_msg_new_to(p->identity, PROTO_DISCONNECT);
            if (zmsg_send(&msg, self->backend) != 0) {
                zmsg_destroy(&msg);
            }
        }
    }
    log_info("broker: stopped at %" PRIu64 " (%" PRIu64 " records rejected, %" PRIu64
             " resubmissions acknowledged without journaling, %" PRIu64
             " messages dropped, %" PRIu64 " replies to clients that did not read them dropped)",
             broker_journal_last(self->journal), self->rejected, self->duplicates, self->dropped,
             self->unsent.dropped);
    return rc;
}

void
broker_actor(zsock_t *pipe, void *args)
{
    broker_t *self = broker_new(args);
    zsock_signal(pipe, self ? 0 : 255);
    if (self) {
        broker_run(self, pipe, NULL);
        broker_destroy(&self);
    }
}
