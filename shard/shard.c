/*  shard.c - the shard role (see shard.h and docs/protocol.md §5-§6). */
#include "shard.h"

#include "curve.h"
#include "err.h"
#include "hb.h"
#include "log.h"
#include "proto.h"
#include "shard_forest.h"
#include "shard_store.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FOREST_CHUNK 4096 /* blocks per FORESTS message */

struct shard_t {
    const cfg_t *cfg;     /* configuration (borrowed) */
    uint32_t id;          /* this shard */
    shard_store_t *store; /* LMDB key index */
    zsock_t *broker;      /* DEALER to the broker's backend */
    zsock_t *merger;      /* DEALER to the merger's shard socket */
    curve_t *curve;       /* CURVE client credentials, or NULL */
    hb_t hb_broker;       /* heartbeats with the broker */
    hb_t hb_merger;       /* heartbeats with the merger */
    uint64_t barrier;     /* barrier waiting for COMMIT (0: none) */
    uint64_t dropped;     /* malformed messages dropped */
    bool keys_open;       /* a transaction holds KEYS applied this turn, not committed yet */
};

const char *
shard_role_name(void)
{
    return "shard";
}

static void
s_send(shard_t *self, zsock_t *sock, hb_t *hb, zmsg_t **msg)
{
    if (zmsg_send(msg, sock) != 0) {
        zmsg_destroy(msg);
        log_warn("shard %u: send failed", self->id);
    }
    hb_sent(hb, zclock_mono());
}

/*  Sends a message the shard repeats anyway (HEARTBEAT, the READY of a silent peer) without
    waiting. A peer that stays unreachable (its host cut off, its process stopped) reads
    nothing, and once its queue is full (ZMQ_SNDHWM) a send waits until it is back: this loop
    would stop with it, and the other peer would hear nothing either. What is queued already
    says the same, so the message is dropped then (docs/protocol.md §10). */
static void
s_send_repeated(shard_t *self, zsock_t *sock, hb_t *hb, zmsg_t **msg)
{
    zsock_set_sndtimeo(sock, 0);
    if (zmsg_send(msg, sock) != 0) {
        zmsg_destroy(msg);
        log_debug("shard %u: queue full, %s not sent", self->id,
                  sock == self->broker ? "to the broker" : "to the merger");
    }
    zsock_set_sndtimeo(sock, -1);
    hb_sent(hb, zclock_mono());
}

/*  How far this shard has followed the input stream: the last KEYS entry it applied, or
    the last barrier it completed when that is later (every input up to a barrier reached
    the shard before the barrier did, including the many routed to other shards). READY
    reports it, so a shard restarted after a barrier resumes where the stream stands. */
static uint64_t
s_position(const shard_t *self)
{
    uint64_t applied = shard_store_applied(self->store);
    uint64_t barrier = shard_store_last_barrier(self->store);
    return applied > barrier ? applied : barrier;
}

/*  Announces this shard to one peer: who it is, what it applied, its last barrier. Sent at
    start and again once per liveness window while the peer is silent. */
static void
s_ready_to(shard_t *self, zsock_t *sock, hb_t *hb)
{
    wmsg_ready_t r = {.role = "shard",
                      .id = self->id,
                      .shards = (uint32_t)self->cfg->shards,
                      .applied = shard_store_applied(self->store),
                      .barrier = shard_store_last_barrier(self->store)};
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_ready_encode(&r, &buf);
    zmsg_t *m = proto_msg_new(PROTO_READY);
    proto_add_body(m, &buf);
    s_send_repeated(self, sock, hb, &m);
    wire_buf_free(&buf);
}

/*  With curve.enabled, makes both connections CURVE clients with the shard's own
    certificate and the server's public key (not on inproc://). -1 (logged) when the keys
    cannot be loaded. */
static int
s_apply_curve(shard_t *self)
{
    const cfg_t *cfg = self->cfg;
    bool to_broker = curve_applies(cfg->broker.backend);
    bool to_merger = curve_applies(cfg->merger.shards);
    if (!cfg->curve.enabled || (!to_broker && !to_merger)) {
        return 0;
    }
    curve_opts_t o = {.client_secret = cfg_client_cert(cfg),
                      .server_key = cfg->curve.server_public_key_file};
    char err[512];
    self->curve = curve_new(&o, err, sizeof err);
    if (!self->curve) {
        log_error("shard %u: CURVE: %s", self->id, err);
        return -1;
    }
    if (to_broker) {
        curve_connect(self->curve, self->broker);
    }
    if (to_merger) {
        curve_connect(self->curve, self->merger);
    }
    return 0;
}

shard_t *
shard_new(const cfg_t *cfg, uint32_t id)
{
    char *dir = xasprintf("%s/shard-%u", cfg->data_dir, id);
    shard_store_t *store = shard_store_open(dir, (size_t)cfg->shard.map_size_mb << 20);
    free(dir);
    if (!store) {
        return NULL;
    }
    shard_t *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    self->id = id;
    self->store = store;
    self->broker = zsock_new(ZMQ_DEALER);
    self->merger = zsock_new(ZMQ_DEALER);
    zsock_set_linger(self->broker, 1000);
    zsock_set_linger(self->merger, 1000);
    zsock_set_rcvtimeo(self->broker, 0);
    zsock_set_rcvtimeo(self->merger, 0);
    proto_set_max_message(self->broker, (int64_t)cfg->limits.peer_message_mb << 20);
    proto_set_max_message(self->merger, (int64_t)cfg->limits.peer_message_mb << 20);
    proto_set_link_keepalive(self->broker, PROTO_KEEPALIVE_S(cfg->heartbeat_ms, cfg->liveness));
    proto_set_link_keepalive(self->merger, PROTO_KEEPALIVE_S(cfg->heartbeat_ms, cfg->liveness));
    /* A fixed routing id lets a restarted broker or merger recognise this shard. */
    char name[32];
    snprintf(name, sizeof name, "shard-%u", id);
    zsock_set_identity(self->broker, name);
    zsock_set_identity(self->merger, name);
    if (s_apply_curve(self) != 0) {
        shard_destroy(&self);
        return NULL;
    }
    if (zsock_connect(self->broker, "%s", cfg->broker.backend) < 0 ||
        zsock_connect(self->merger, "%s", cfg->merger.shards) < 0) {
        log_error("shard %u: cannot connect to %s / %s", id, cfg->broker.backend,
                  cfg->merger.shards);
        shard_destroy(&self);
        return NULL;
    }
    int64_t now = zclock_mono();
    hb_init(&self->hb_broker, now, cfg->heartbeat_ms, cfg->liveness);
    hb_init(&self->hb_merger, now, cfg->heartbeat_ms, cfg->liveness);
    s_ready_to(self, self->broker, &self->hb_broker);
    s_ready_to(self, self->merger, &self->hb_merger);
    log_info("shard %u: ready at %" PRIu64, id, s_position(self));
    return self;
}

void
shard_destroy(shard_t **self_p)
{
    shard_t *self = *self_p;
    if (!self) {
        return;
    }
    zsock_destroy(&self->broker);
    zsock_destroy(&self->merger);
    curve_destroy(&self->curve);
    shard_store_destroy(&self->store);
    free(self);
    *self_p = NULL;
}

static int
s_on_keys(shard_t *self, const proto_part_t *body)
{
    wmsg_keys_t keys;
    char err[256];
    if (wmsg_keys_decode(body->data, body->size, &keys, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("shard %u: dropped KEYS: %s", self->id, err);
        return 0;
    }
    for (size_t i = 0; i < keys.n; i++) {
        for (size_t k = 0; k < keys.entries[i].n_keys; k++) {
            if (keys.entries[i].keys[k].family >= CCFG_GENERIC_FAMILIES) {
                self->dropped++;
                log_warn("shard %u: dropped KEYS: key family %d is not a blocking family", self->id,
                         keys.entries[i].keys[k].family);
                wmsg_keys_free(&keys);
                return 0;
            }
        }
    }
    /* Every KEYS message of a loop turn goes into one transaction, committed at the end of
       the turn (s_flush_keys): one fsync per turn instead of one per message. Nothing is
       acknowledged by a shard, so nothing waits for it; after a crash the shard's READY names
       what it committed, and the broker replays the rest. */
    int rc = 0;
    if (!self->keys_open) {
        rc = shard_store_begin(self->store);
        self->keys_open = rc == 0;
    }
    for (size_t i = 0; i < keys.n && rc == 0; i++) {
        const wmsg_keys_entry_t *e = &keys.entries[i];
        shard_key_t *sk = xcalloc(e->n_keys + 1, sizeof *sk);
        for (size_t k = 0; k < e->n_keys; k++) {
            sk[k].family = e->keys[k].family;
            sk[k].value = e->keys[k].value;
        }
        rc = shard_store_apply(self->store, e->seq, e->id, sk, e->n_keys,
                               (const char *const *)e->triple);
        free(sk);
        if (rc == -EINVAL) {
            log_warn("shard %u: entry %" PRIu64 " refused by the store", self->id, e->seq);
            rc = 0;
        }
    }
    wmsg_keys_free(&keys);
    if (rc != 0 && self->keys_open) {
        shard_store_abort(self->store);
        self->keys_open = false;
    }
    return rc;
}

/*  Commits the KEYS applied since the last commit and reports how far the shard applied.
    Returns 0 or the store's error. */
static int
s_flush_keys(shard_t *self)
{
    if (!self->keys_open) {
        return 0;
    }
    self->keys_open = false;
    int rc = shard_store_commit(self->store);
    if (rc == 0) {
        zmsg_t *m = proto_msg_new(PROTO_APPLIED);
        proto_add_u64(m, shard_store_applied(self->store));
        s_send(self, self->broker, &self->hb_broker, &m);
    }
    return rc;
}

/*  Collects this shard's generic flips into a GENERIC body. */
static int
s_flip(int family, const char *value, bool generic, void *arg)
{
    wmsg_flips_t *f = arg;
    f->flips = xrealloc(f->flips, (f->n + 1) * sizeof *f->flips);
    f->flips[f->n].family = family;
    f->flips[f->n].value = xstrdup(value);
    f->flips[f->n].generic = generic;
    f->n++;
    return 0;
}

static int
s_on_barrier(shard_t *self, uint64_t seq)
{
    wmsg_flips_t flips = {0};
    int rc = shard_store_generic_flips(self->store, self->cfg->clustering.generic_cutoff, s_flip,
                                       &flips);
    if (rc == 0) {
        wire_buf_t buf;
        wire_buf_init(&buf);
        wmsg_flips_encode(&flips, &buf);
        zmsg_t *m = proto_msg_new(PROTO_GENERIC);
        proto_add_u64(m, seq);
        proto_add_body(m, &buf);
        s_send(self, self->broker, &self->hb_broker, &m);
        wire_buf_free(&buf);
        self->barrier = seq;
    }
    wmsg_flips_free(&flips);
    return rc;
}

static void
s_send_forests(shard_t *self, uint64_t seq, const wmsg_forests_t *all)
{
    wire_buf_t buf;
    wire_buf_init(&buf);
    for (size_t at = 0; at < all->n; at += S_FOREST_CHUNK) {
        wmsg_forests_t part = {.blocks = all->blocks + at,
                               .n = all->n - at < S_FOREST_CHUNK ? all->n - at : S_FOREST_CHUNK};
        wire_buf_reset(&buf);
        wmsg_forests_encode(&part, &buf);
        zmsg_t *m = proto_msg_new(PROTO_FORESTS);
        proto_add_u64(m, seq);
        proto_add_body(m, &buf);
        s_send(self, self->merger, &self->hb_merger, &m);
    }
    wire_buf_free(&buf);
    zmsg_t *m = proto_msg_new(PROTO_DONE);
    proto_add_u64(m, seq);
    s_send(self, self->merger, &self->hb_merger, &m);
}

static int
s_on_commit(shard_t *self, uint64_t seq, const proto_part_t *body)
{
    wmsg_flips_t flips;
    char err[256];
    if (seq != self->barrier ||
        wmsg_flips_decode(body->data, body->size, &flips, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("shard %u: dropped COMMIT %" PRIu64, self->id, seq);
        return 0;
    }
    for (size_t i = 0; i < flips.n; i++) {
        if (flips.flips[i].family >= CCFG_GENERIC_FAMILIES) {
            self->dropped++;
            log_warn("shard %u: dropped COMMIT %" PRIu64 ": key family %d is not a blocking "
                     "family",
                     self->id, seq, flips.flips[i].family);
            wmsg_flips_free(&flips);
            return 0;
        }
    }
    int rc = shard_store_begin(self->store);
    for (size_t i = 0; i < flips.n && rc == 0; i++) {
        rc = shard_store_set_generic(self->store, flips.flips[i].family, flips.flips[i].value,
                                     flips.flips[i].generic);
    }
    wmsg_flips_free(&flips);
    /* The dirty set is kept until RELEASE: if the merger loses this barrier, the broker runs
       it again and the same forests are computed from the same changes. */
    wmsg_forests_t forests = {0};
    rc = rc ? rc : shard_forests(self->store, &forests);
    rc = rc ? rc : shard_store_commit(self->store);
    if (rc == 0) {
        s_send_forests(self, seq, &forests);
    } else {
        shard_store_abort(self->store);
    }
    wmsg_forests_free(&forests);
    return rc;
}

/*  The merger reconciled seq: forget the changes up to it. */
static int
s_on_release(shard_t *self, uint64_t seq)
{
    if (seq <= shard_store_last_barrier(self->store)) {
        return 0;
    }
    int rc = shard_store_begin(self->store);
    rc = rc ? rc : shard_store_barrier_done(self->store, seq);
    rc = rc ? rc : shard_store_commit(self->store);
    if (rc != 0) {
        shard_store_abort(self->store);
    }
    self->barrier = 0;
    return rc;
}

/*  Handles one broker message; returns 1 to stop (DISCONNECT), 0, or a storage error. */
static int
s_on_broker(shard_t *self, zmsg_t *msg)
{
    proto_frame_t f;
    if (proto_parse(msg, false, &f) != 0) {
        self->dropped++;
        log_warn("shard %u: dropped message from the broker: %s", self->id, f.reason);
        return 0;
    }
    hb_heard(&self->hb_broker, zclock_mono());
    uint64_t seq = 0;
    if (f.cmd != PROTO_KEYS && f.cmd != PROTO_HEARTBEAT) {
        /* A barrier's work reads and writes the store in transactions of its own. */
        int rc = s_flush_keys(self);
        if (rc != 0) {
            return rc;
        }
    }
    switch (f.cmd) {
    case PROTO_KEYS:
        return s_on_keys(self, &f.parts[0]);
    case PROTO_BARRIER:
        proto_get_u64(&f.parts[0], &seq);
        return s_on_barrier(self, seq);
    case PROTO_COMMIT:
        proto_get_u64(&f.parts[0], &seq);
        return s_on_commit(self, seq, &f.parts[1]);
    case PROTO_RELEASE:
        proto_get_u64(&f.parts[0], &seq);
        return s_on_release(self, seq);
    case PROTO_HEARTBEAT:
        return 0;
    case PROTO_DISCONNECT:
        return 1;
    default:
        self->dropped++;
        log_warn("shard %u: dropped %s from the broker", self->id, proto_cmd_name(f.cmd));
        return 0;
    }
}

static void
s_heartbeat(shard_t *self, zsock_t *sock, hb_t *hb, const char *peer)
{
    int64_t now = zclock_mono();
    if (hb_should_send(hb, now)) {
        zmsg_t *m = proto_msg_new(PROTO_HEARTBEAT);
        s_send_repeated(self, sock, hb, &m);
    }
    if (hb_dead(hb, now)) {
        /* The peer may have restarted and not know this shard: announce it again, once per
           liveness window until it answers (zguide Paranoid Pirate). */
        log_warn("shard %u: %s silent for %d x %d ms", self->id, peer, self->cfg->liveness,
                 self->cfg->heartbeat_ms);
        s_ready_to(self, sock, hb);
        hb_heard(hb, now);
    }
}

int
shard_run(shard_t *self, zsock_t *pipe, sigev_t *sig)
{
    int rc = 0;
    for (;;) {
        zmq_pollitem_t items[4];
        int n = 0;
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->broker), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->merger), 0, ZMQ_POLLIN, 0};
        int pipe_at = -1;
        int sig_at = -1;
        if (pipe) {
            pipe_at = n;
            items[n++] = (zmq_pollitem_t){zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
        }
        if (sig) {
            sig_at = n;
            items[n++] = (zmq_pollitem_t){NULL, sig_fd(sig), ZMQ_POLLIN, 0};
        }
        if (zmq_poll(items, n, self->cfg->heartbeat_ms / 2) < 0 && zmq_errno() != EINTR) {
            break;
        }
        if (sig_at >= 0 && (items[sig_at].revents & ZMQ_POLLIN) && sig_take(sig) &&
            sig_stopping(sig)) {
            break;
        }
        if (pipe_at >= 0 && (items[pipe_at].revents & ZMQ_POLLIN)) {
            char *cmd = zstr_recv(pipe);
            bool stop = !cmd || streq(cmd, "$TERM");
            zstr_free(&cmd);
            if (stop) {
                break;
            }
        }
        bool stop = false;
        /* Read for at most a quarter of a heartbeat interval before heartbeats are due. */
        int64_t busy_until = zclock_mono() + self->cfg->heartbeat_ms / 4;
        for (int i = 0;
             i < 1000 && (i == 0 || zclock_mono() < busy_until) && (items[0].revents & ZMQ_POLLIN);
             i++) {
            zmsg_t *msg = zmsg_recv(self->broker);
            if (!msg) {
                break;
            }
            rc = s_on_broker(self, msg);
            zmsg_destroy(&msg);
            if (rc != 0) {
                stop = true;
                break;
            }
        }
        if (!stop && (rc = s_flush_keys(self)) != 0) {
            stop = true;
        }
        /* The merger link carries only heartbeats: read what is there now (not what the poll
           saw before a long COMMIT), so work on the broker's messages never makes the merger
           look silent. */
        for (int i = 0; i < 1000 && (zsock_events(self->merger) & ZMQ_POLLIN); i++) {
            zmsg_t *msg = zmsg_recv(self->merger);
            if (!msg) {
                break;
            }
            hb_heard(&self->hb_merger, zclock_mono());
            zmsg_destroy(&msg);
        }
        if (stop) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
        s_heartbeat(self, self->broker, &self->hb_broker, "broker");
        s_heartbeat(self, self->merger, &self->hb_merger, "merger");
    }
    if (self->keys_open) {
        /* Stopping: what was applied this turn is kept (a failed commit is replayed). */
        int frc = s_flush_keys(self);
        rc = rc ? rc : frc;
    }
    if (rc < 0) {
        log_error("shard %u: storage failure: %s", self->id, cadre_strerror(rc));
    }
    log_info("shard %u: stopped at %" PRIu64 " (%" PRIu64 " messages dropped)", self->id,
             shard_store_applied(self->store), self->dropped);
    return rc;
}

void
shard_actor(zsock_t *pipe, void *args)
{
    const shard_args_t *a = args;
    shard_t *self = shard_new(a->cfg, a->id);
    zsock_signal(pipe, self ? 0 : 255);
    if (self) {
        shard_run(self, pipe, NULL);
        shard_destroy(&self);
    }
}
