/*  merger.c - the merger role (see merger.h and docs/protocol.md §6). */
#include "merger.h"

#include "curve.h"
#include "err.h"
#include "gate.h"
#include "hb.h"
#include "log.h"
#include "merger_query.h"
#include "merger_state.h"
#include "proto.h"
#include "report.h"
#include "wire.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Largest frame a query client (or a subscriber, subscribing) may send: a QUERY body holds
    at most two ids. */
#define S_QUERY_MAX_BYTES (64 << 10)
/*  Longest wait for a subscriber's full queue to drain before events are dropped. */
#define S_EVENT_STALL_MS 100

/*  A shard as the merger sees it. */
typedef struct {
    zframe_t *identity; /* ROUTER identity, NULL until READY */
    hb_t hb;            /* heartbeats */
    uint64_t done;      /* highest barrier it reported DONE for */
    bool alive;         /* heard within liveness on its connection */
} s_shard_t;

struct merger_t {
    const cfg_t *cfg;      /* configuration (borrowed) */
    merger_state_t *state; /* records + forests -> the engine */
    zsock_t *broker;       /* DEALER to the broker's backend */
    zsock_t *shards_sock;  /* ROUTER for shards */
    zsock_t *events;       /* XPUB for events (subscriptions read and dropped) */
    zsock_t *query;        /* ROUTER for queries */
    curve_t *curve;        /* CURVE credentials, or NULL */
    gate_t *gate;          /* who may connect, how many (ipc:// and tcp://), or NULL */
    hb_t hb_broker;        /* heartbeats with the broker */
    uint32_t n_shards;     /* shard count */
    s_shard_t *shards;     /* per shard */
    uint64_t applied;      /* highest seq received from the broker */
    uint64_t barrier;      /* barrier announced by the broker, not yet reconciled */
    uint64_t reconciled;   /* last reconciled barrier */
    uint64_t unsaved;      /* reconciled barrier whose snapshot failed (RECONCILED waits) */
    zlist_t *early;        /* FORESTS received before their barrier (zmsg_t *) */
    uint64_t dropped;      /* malformed or unauthorized messages dropped */
    proto_unsent_t unsent; /* query replies dropped: the client does not read them */
    bool peer_keys;        /* CURVE on the shard socket: shards are bound to their keys */
    uint64_t published;    /* events published */
    uint64_t ev_dropped;   /* events no subscriber got: one stopped reading */
    bool ev_stalled;       /* this reconciliation's events found a subscriber not reading */
    merger_query_t *qa;    /* QUERY answers: paging order and id indexes */
    size_t fetch_at;       /* restoring: index of the first wanted seq of the FETCH in flight */
    size_t fetch_n;        /* restoring: how many that FETCH asked for */
    uint64_t fetch_first;  /* restoring: its first seq */
    uint64_t fetch_last;   /* restoring: its last seq */
    bool fatal;            /* the snapshot cannot be restored: the loop stops */
    wire_buf_t evbuf;      /* scratch for encoding one event, kept between events */
};

const char *
merger_role_name(void)
{
    return "merger";
}

/*  Restoring: asks the broker for the next chunk of the records the snapshot names (or the
    same chunk again, after a silence). */
static void
s_send_fetch(merger_t *self)
{
    uint64_t seqs[WMSG_FETCH_MAX];
    size_t n = merger_state_wanted_seqs(self->state, self->fetch_at, seqs, WMSG_FETCH_MAX);
    self->fetch_n = n;
    self->fetch_first = n ? seqs[0] : 0;
    self->fetch_last = n ? seqs[n - 1] : 0;
    wmsg_fetch_t body = {.seqs = seqs, .n = n};
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_fetch_encode(&body, &buf);
    zmsg_t *m = proto_msg_new(PROTO_FETCH);
    proto_add_body(m, &buf);
    if (zmsg_send(&m, self->broker) != 0) {
        zmsg_destroy(&m);
    }
    hb_sent(&self->hb_broker, zclock_mono());
    wire_buf_free(&buf);
}

/*  Announces the merger to the broker: the last barrier it reconciled (its snapshot). While
    the snapshot is restoring, its records are fetched first. */
static void
s_send_ready(merger_t *self)
{
    if (merger_state_wanted(self->state) > 0) {
        s_send_fetch(self);
        return;
    }
    wmsg_ready_t r = {.role = "merger",
                      .id = 0,
                      .shards = self->n_shards,
                      .applied = self->reconciled,
                      .barrier = self->reconciled};
    wire_buf_t buf;
    wire_buf_init(&buf);
    wmsg_ready_encode(&r, &buf);
    zmsg_t *m = proto_msg_new(PROTO_READY);
    proto_add_body(m, &buf);
    if (zmsg_send(&m, self->broker) != 0) {
        zmsg_destroy(&m);
    }
    hb_sent(&self->hb_broker, zclock_mono());
    wire_buf_free(&buf);
}

/*  With curve.enabled, makes the bound sockets CURVE servers with the server certificate
    (zauth lets in only the authorized client keys) and the connection to the broker a
    CURVE client with the merger's own certificate; inproc:// endpoints are left alone.
    -1 (logged) when the keys cannot be loaded. */
static int
s_apply_curve(merger_t *self)
{
    const cfg_t *cfg = self->cfg;
    if (!cfg->curve.enabled) {
        return 0;
    }
    zsock_t *socks[] = {self->shards_sock, self->events, self->query};
    const char *endpoints[] = {cfg->merger.shards, cfg->merger.events, cfg->merger.query};
    bool serves = false;
    for (size_t i = 0; i < 3; i++) {
        serves = serves || curve_applies(endpoints[i]);
    }
    bool connects = curve_applies(cfg->broker.backend);
    if (!serves && !connects) {
        return 0;
    }
    curve_opts_t o = {.server_secret = serves ? cfg->curve.secret_key_file : NULL,
                      .server_public = cfg->curve.public_key_file,
                      .authorized_dir = cfg->curve.authorized_keys_dir,
                      .peers_dir = cfg->curve.peer_keys_dir,
                      .client_secret = connects ? cfg_client_cert(cfg) : NULL,
                      .server_key = cfg->curve.server_public_key_file};
    char err[512];
    self->curve = curve_new(&o, err, sizeof err);
    if (!self->curve) {
        log_error("merger: CURVE: %s", err);
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        if (curve_applies(endpoints[i])) {
            curve_serve(self->curve, socks[i]);
        }
    }
    self->peer_keys = curve_applies(cfg->merger.shards);
    if (self->peer_keys) {
        /* As at the broker: no takeover of a live connection's routing id. */
        zsock_set_router_handover(self->shards_sock, 0);
    }
    if (connects) {
        curve_connect(self->curve, self->broker);
    }
    log_info("merger: CURVE on, clients authorized by %s, shards by %s",
             cfg->curve.authorized_keys_dir, cfg->curve.peer_keys_dir);
    return 0;
}

/*  Puts the sockets that bind ipc:// or tcp:// under the process's gate: the keys each
    may let in, and how many connections (docs/protocol.md §10). -1 (logged) on failure. */
static int
s_apply_gate(merger_t *self)
{
    const cfg_t *cfg = self->cfg;
    zsock_t *socks[] = {self->shards_sock, self->events, self->query};
    const char *endpoints[] = {cfg->merger.shards, cfg->merger.events, cfg->merger.query};
    bool any = false;
    for (size_t i = 0; i < 3; i++) {
        any = any || curve_applies(endpoints[i]);
    }
    if (!any) {
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
    if (!self->gate) {
        log_error("merger: %s", err);
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        if (curve_applies(endpoints[i]) &&
            gate_watch(self->gate, socks[i], i == 0 ? GATE_PEERS : GATE_CLIENTS) != 0) {
            log_error("merger: cannot watch the connections of %s", endpoints[i]);
            return -1;
        }
    }
    log_info("merger: at most %u client connections (open-file limit %" PRIu64 ")", o.max_clients,
             limit);
    return 0;
}

static void s_tick(void *arg);

merger_t *
merger_new(const cfg_t *cfg)
{
    merger_t *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    wire_buf_init(&self->evbuf);
    char *dir = xasprintf("%s/merger", cfg->data_dir);
    self->state = merger_state_open(&cfg->clustering, cfg->deployment, dir,
                                    (size_t)cfg->merger.map_size_mb << 20);
    free(dir);
    if (!self->state) {
        free(self);
        return NULL;
    }
    /* Restarted from the snapshot: the broker replays the inputs after it. */
    self->applied = self->reconciled = merger_state_reconciled(self->state);
    self->n_shards = (uint32_t)cfg->shards;
    self->shards = xcalloc(self->n_shards, sizeof *self->shards);
    cluster_set_tick(merger_state_cluster(self->state), s_tick, self);
    self->early = zlist_new();
    self->qa = merger_query_new();
    self->broker = zsock_new(ZMQ_DEALER);
    self->shards_sock = zsock_new(ZMQ_ROUTER);
    self->events = zsock_new(ZMQ_XPUB);
    self->query = zsock_new(ZMQ_ROUTER);
    zsock_t *socks[] = {self->broker, self->shards_sock, self->events, self->query};
    for (size_t i = 0; i < 4; i++) {
        zsock_set_linger(socks[i], 1000);
        zsock_set_rcvtimeo(socks[i], 0);
    }
    /* The broker link carries only control messages (READY, RECONCILED, HEARTBEAT), each
       repeated or re-derived after a reconnection: a send waits at most one liveness period,
       so a broker that is gone (or was shut down first, as in `cadre run`) never wedges the
       merger. */
    zsock_set_sndtimeo(self->broker, cfg->heartbeat_ms * cfg->liveness);
    zsock_set_router_mandatory(self->shards_sock, 1);
    zsock_set_router_handover(self->shards_sock, 1);
    /* The merger sends shards nothing but heartbeats: one that cannot be queued because the
       shard has read nothing for long (cut off, stopped) is dropped, instead of stopping
       this loop until the shard is back (docs/protocol.md §10). */
    zsock_set_sndtimeo(self->shards_sock, 0);
    zsock_set_identity(self->broker, "merger");
    zsock_set_router_mandatory(self->query, 1);
    /* Query clients are not trusted to read: a reply that does not fit in a client's queue
       is dropped and counted, never waited for. Events queue at most events_hwm per
       subscriber (s_publish says what happens then); in `cadre run` the in-process
       subscriber sets no limit and loses nothing. */
    zsock_set_sndtimeo(self->query, 0);
    zsock_set_sndhwm(self->query, cfg->limits.client_hwm);
    zsock_set_rcvhwm(self->query, cfg->limits.client_hwm);
    zsock_set_sndhwm(self->events, cfg->limits.events_hwm);
    zsock_set_xpub_nodrop(self->events, 1);
    proto_set_max_message(self->query, S_QUERY_MAX_BYTES);
    proto_set_max_message(self->events, S_QUERY_MAX_BYTES);
    proto_set_max_message(self->shards_sock, (int64_t)cfg->limits.peer_message_mb << 20);
    proto_set_max_message(self->broker, (int64_t)cfg->limits.peer_message_mb << 20);
    proto_set_link_keepalive(self->shards_sock,
                             PROTO_KEEPALIVE_S(cfg->heartbeat_ms, cfg->liveness));
    proto_set_link_keepalive(self->broker, PROTO_KEEPALIVE_S(cfg->heartbeat_ms, cfg->liveness));
    if (s_apply_curve(self) != 0 || s_apply_gate(self) != 0) {
        merger_destroy(&self);
        return NULL;
    }
    const char *eps[] = {cfg->merger.shards, cfg->merger.events, cfg->merger.query};
    zsock_t *bound[] = {self->shards_sock, self->events, self->query};
    for (size_t i = 0; i < 3; i++) {
        if (proto_bind(bound[i], eps[i], cfg->ipc_group) != 0) {
            log_error("merger: cannot bind %s: %s", eps[i], zmq_strerror(errno));
            merger_destroy(&self);
            return NULL;
        }
    }
    if (zsock_connect(self->broker, "%s", cfg->broker.backend) < 0) {
        log_error("merger: cannot connect to %s: %s", cfg->broker.backend,
                  zmq_strerror(zmq_errno()));
        merger_destroy(&self);
        return NULL;
    }
    int64_t now = zclock_mono();
    hb_init(&self->hb_broker, now, cfg->heartbeat_ms, cfg->liveness);
    for (uint32_t k = 0; k < self->n_shards; k++) {
        hb_init(&self->shards[k].hb, now, cfg->heartbeat_ms, cfg->liveness);
    }
    s_send_ready(self);
    log_info("merger: ready, events on %s, queries on %s", cfg->merger.events, cfg->merger.query);
    return self;
}

void
merger_destroy(merger_t **self_p)
{
    merger_t *self = *self_p;
    if (!self) {
        return;
    }
    while (zlist_size(self->early) > 0) {
        zmsg_t *m = zlist_pop(self->early);
        zmsg_destroy(&m);
    }
    zlist_destroy(&self->early);
    wire_buf_free(&self->evbuf);
    for (uint32_t k = 0; k < self->n_shards; k++) {
        zframe_destroy(&self->shards[k].identity);
    }
    free(self->shards);
    if (self->gate) {
        gate_unwatch(self->gate, self->shards_sock);
        gate_unwatch(self->gate, self->events);
        gate_unwatch(self->gate, self->query);
    }
    zsock_destroy(&self->broker);
    zsock_destroy(&self->shards_sock);
    zsock_destroy(&self->events);
    zsock_destroy(&self->query);
    gate_destroy(&self->gate);
    curve_destroy(&self->curve);
    merger_state_destroy(&self->state);
    merger_query_destroy(&self->qa);
    free(self);
    *self_p = NULL;
}

static void
s_to_broker(merger_t *self, zmsg_t **m)
{
    if (zmsg_send(m, self->broker) != 0) {
        zmsg_destroy(m);
        log_warn("merger: send to the broker failed");
    }
    hb_sent(&self->hb_broker, zclock_mono());
}

/*  Sends HEARTBEAT to every peer that has had nothing from the merger for an interval. */
static void
s_send_heartbeats(merger_t *self, int64_t now)
{
    if (hb_should_send(&self->hb_broker, now)) {
        zmsg_t *m = proto_msg_new(PROTO_HEARTBEAT);
        s_to_broker(self, &m);
    }
    for (uint32_t k = 0; k < self->n_shards; k++) {
        s_shard_t *s = &self->shards[k];
        if (s->identity && hb_should_send(&s->hb, now)) {
            zmsg_t *m = proto_msg_new_to(s->identity, PROTO_HEARTBEAT);
            if (zmsg_send(&m, self->shards_sock) != 0) {
                zmsg_destroy(&m);
            }
            hb_sent(&s->hb, now);
        }
    }
}

/*  The cluster's tick during a long reconciliation or snapshot: the merger reads nothing
    meanwhile, but keeps telling its peers it is alive (docs/protocol.md §7). */
static void
s_tick(void *arg)
{
    s_send_heartbeats(arg, zclock_mono());
}

/*  Sends one two-frame event on the XPUB socket, waiting up to wait_ms for room. False when
    a subscriber's queue stayed full that long (nothing of the event was sent). */
static bool
s_send_event(void *pub, const char *topic, const wire_buf_t *body, int wait_ms)
{
    zmq_setsockopt(pub, ZMQ_SNDTIMEO, &wait_ms, sizeof wait_ms);
    if (zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE) < 0) {
        return false;
    }
    /* The second frame of a message whose first went out always fits. */
    zmq_send(pub, body->data, body->len, 0);
    return true;
}

/*  Publishes one event: the topic frame, then the MessagePack envelope. The events socket
    drops nothing silently (XPUB_NODROP): when a subscriber's queue is full (limits.events_hwm)
    the merger waits for it, at most S_EVENT_STALL_MS; a subscriber that drained nothing in
    that time has stopped reading, and the rest of this reconciliation's events are dropped
    for every subscriber, counted in the health report and logged. A subscriber that keeps
    up loses nothing however large the burst; one that never reads costs the merger at most
    S_EVENT_STALL_MS per reconciliation and events_hwm events of memory. */
static int
s_publish(const ev_t *ev, void *arg)
{
    merger_t *self = arg;
    wire_buf_reset(&self->evbuf);
    int rc = wire_event_encode(ev, &self->evbuf);
    if (rc != 0) {
        log_error("merger: event %s not encodable: %s", ev_topic(ev->kind), cadre_strerror(rc));
        return 0;
    }
    /* Two frames (topic, body) straight from the buffers: no message objects per event, the
       merger publishes several events per observation. */
    void *pub = zsock_resolve(self->events);
    const char *topic = ev_topic(ev->kind);
    if (s_send_event(pub, topic, &self->evbuf, 0) ||
        (!self->ev_stalled && s_send_event(pub, topic, &self->evbuf, S_EVENT_STALL_MS))) {
        self->published++;
        return 0;
    }
    if (!self->ev_stalled) {
        log_warn("merger: an event subscriber has not read for %d ms; dropping the events of "
                 "this reconciliation (%" PRIu64 " dropped before)",
                 S_EVENT_STALL_MS, self->ev_dropped);
    }
    self->ev_stalled = true;
    self->ev_dropped++;
    return 0;
}

/*  Reads (and drops) what subscribers send on the events socket: their subscriptions. */
static void
s_drain_subscriptions(merger_t *self)
{
    void *pub = zsock_resolve(self->events);
    char buf[256];
    for (int i = 0; i < 1000 && zmq_recv(pub, buf, sizeof buf, ZMQ_DONTWAIT) >= 0; i++) {
    }
}

static bool
s_barrier_complete(const merger_t *self)
{
    if (!self->barrier) {
        return false;
    }
    for (uint32_t k = 0; k < self->n_shards; k++) {
        if (self->shards[k].done < self->barrier) {
            return false;
        }
    }
    return true;
}

static void
s_try_reconcile(merger_t *self)
{
    if (self->unsaved) {
        /* RECONCILED lets the broker compact its journal: only after a durable snapshot.
           -EBUSY: records past that barrier came in, the next reconciliation writes all. */
        int src = merger_state_snapshot(self->state);
        if (src != 0 && src != -EBUSY) {
            return;
        }
        if (src == 0) {
            log_info("merger: snapshot at %" PRIu64 " written", self->unsaved);
            zmsg_t *m = proto_msg_new(PROTO_RECONCILED);
            proto_add_u64(m, self->unsaved);
            s_to_broker(self, &m);
        }
        self->unsaved = 0;
    }
    if (!s_barrier_complete(self)) {
        return;
    }
    uint64_t seq = self->barrier;
    self->ev_stalled = false;
    int rc = merger_state_reconcile(self->state, seq, s_publish, self);
    self->reconciled = seq > self->reconciled ? seq : self->reconciled;
    self->barrier = 0;
    if (rc != 0) {
        log_error("merger: snapshot at %" PRIu64 " failed: %s; retrying before RECONCILED", seq,
                  cadre_strerror(rc));
        self->unsaved = seq;
        return;
    }
    zmsg_t *m = proto_msg_new(PROTO_RECONCILED);
    proto_add_u64(m, seq);
    s_to_broker(self, &m);
    log_debug("merger: reconciled at %" PRIu64, seq);
}

static void
s_on_records(merger_t *self, const proto_part_t *body)
{
    wmsg_records_t recs;
    char err[256];
    if (wmsg_records_decode(body->data, body->size, &recs, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("merger: dropped RECORDS: %s", err);
        return;
    }
    for (size_t i = 0; i < recs.n; i++) {
        if (recs.entries[i].seq <= self->applied) {
            continue; /* a replay */
        }
        merger_state_apply_record(self->state, recs.entries[i].seq, recs.entries[i].bytes,
                                  recs.entries[i].len);
        self->applied = recs.entries[i].seq;
    }
    wmsg_records_free(&recs);
    zmsg_t *m = proto_msg_new(PROTO_APPLIED);
    proto_add_u64(m, self->applied);
    s_to_broker(self, &m);
}

/*  Restoring: the records of the FETCH in flight. The last one completes the restore and
    the merger announces itself; a chunk answered without some of its records means the
    journal lacks them, and the snapshot cannot be restored (fatal). */
static void
s_on_fetched(merger_t *self, const proto_part_t *body)
{
    wmsg_records_t recs;
    char err[256];
    if (wmsg_records_decode(body->data, body->size, &recs, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("merger: dropped FETCHED: %s", err);
        return;
    }
    if (merger_state_wanted(self->state) == 0 || self->fetch_n == 0 ||
        (recs.n > 0 &&
         (recs.entries[0].seq < self->fetch_first || recs.entries[0].seq > self->fetch_last))) {
        wmsg_records_free(&recs); /* an answer to an earlier, repeated FETCH */
        return;
    }
    int rc = 0;
    for (size_t i = 0; i < recs.n && rc == 0; i++) {
        rc = merger_state_restore_record(self->state, recs.entries[i].seq, recs.entries[i].bytes,
                                         recs.entries[i].len);
        rc = rc == -ENOENT ? 0 : rc;
    }
    wmsg_records_free(&recs);
    if (rc != 0) {
        log_error("merger: cannot restore the snapshot from the journal: %s", cadre_strerror(rc));
        self->fatal = true;
        return;
    }
    size_t wanted = merger_state_wanted(self->state);
    self->fetch_at += self->fetch_n;
    if (wanted == 0) {
        s_send_ready(self);
        return;
    }
    uint64_t next;
    if (merger_state_wanted_seqs(self->state, self->fetch_at, &next, 1) == 0) {
        log_error("merger: the broker's journal lacks %zu records the snapshot names (the "
                  "journal is not the one the snapshot was made with?)",
                  wanted);
        self->fatal = true;
        return;
    }
    s_send_fetch(self);
}

/*  Returns 1 to stop (DISCONNECT). */
static int
s_on_broker(merger_t *self, zmsg_t *msg)
{
    proto_frame_t f;
    if (proto_parse(msg, false, &f) != 0) {
        self->dropped++;
        log_warn("merger: dropped message from the broker: %s", f.reason);
        return 0;
    }
    hb_heard(&self->hb_broker, zclock_mono());
    uint64_t seq = 0;
    if (merger_state_wanted(self->state) > 0 && f.cmd != PROTO_FETCHED &&
        f.cmd != PROTO_HEARTBEAT && f.cmd != PROTO_DISCONNECT) {
        self->dropped++; /* nothing is streamed to a merger before its READY */
        log_warn("merger: dropped %s from the broker while restoring", proto_cmd_name(f.cmd));
        return 0;
    }
    switch (f.cmd) {
    case PROTO_FETCHED:
        s_on_fetched(self, &f.parts[0]);
        return self->fatal ? 1 : 0;
    case PROTO_RECORDS:
        s_on_records(self, &f.parts[0]);
        return 0;
    case PROTO_BARRIER:
        proto_get_u64(&f.parts[0], &seq);
        /* Every record up to seq came before this on the same connection. */
        self->barrier = seq;
        self->applied = seq > self->applied ? seq : self->applied;
        return 0;
    case PROTO_HEARTBEAT:
        return 0;
    case PROTO_DISCONNECT:
        return 1;
    default:
        self->dropped++;
        log_warn("merger: dropped %s from the broker", proto_cmd_name(f.cmd));
        return 0;
    }
}

/*  True when the connection f came on may act as shard k: always without CURVE on the
    shard socket, else when its key's certificate is named "shard-<k>". */
static bool
s_key_holds(const merger_t *self, uint32_t k, const proto_frame_t *f)
{
    if (!self->peer_keys) {
        return true;
    }
    char role[32];
    snprintf(role, sizeof role, "shard-%u", k);
    return gate_user_is_peer(gate_user(f->version), role);
}

/*  True when shard s is registered on a connection other than identity and still alive. */
static bool
s_alive_elsewhere(const s_shard_t *s, zframe_t *identity)
{
    return s->identity && s->alive && !zframe_eq(s->identity, identity);
}

static void
s_register(merger_t *self, s_shard_t *s, zframe_t *identity)
{
    zframe_destroy(&s->identity);
    s->identity = zframe_dup(identity);
    s->alive = true;
    hb_init(&s->hb, zclock_mono(), self->cfg->heartbeat_ms, self->cfg->liveness);
}

static s_shard_t *
s_shard_of(merger_t *self, const proto_frame_t *f)
{
    zframe_t *identity = f->identity;
    for (uint32_t k = 0; k < self->n_shards; k++) {
        if (self->shards[k].identity && zframe_eq(self->shards[k].identity, identity)) {
            return s_key_holds(self, k, f) ? &self->shards[k] : NULL;
        }
    }
    /* Shards use the routing id "shard-<k>", so a restarted merger knows them before their
       next READY. */
    char name[32];
    size_t n = zframe_size(identity);
    unsigned k = 0;
    char tail = 0;
    if (n < sizeof name) {
        memcpy(name, zframe_data(identity), n);
        name[n] = '\0';
        if (sscanf(name, "shard-%u%c", &k, &tail) == 1 && k < self->n_shards &&
            s_key_holds(self, k, f) && !s_alive_elsewhere(&self->shards[k], identity)) {
            s_shard_t *s = &self->shards[k];
            s_register(self, s, identity);
            return s;
        }
    }
    return NULL;
}

/*  A shard announces itself. Refused when the body is bad or names another deployment,
    when the connection's key does not hold that shard, and when the shard is alive on
    another connection (once that one is dead, the next READY gets it). */
static void
s_on_ready(merger_t *self, const proto_frame_t *f)
{
    wmsg_ready_t r;
    char err[256];
    if (wmsg_ready_decode(f->parts[0].data, f->parts[0].size, &r, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("merger: dropped bad READY from a shard: %s", err);
        return;
    }
    if (strcmp(r.role, "shard") != 0 || r.id >= self->n_shards || r.shards != self->n_shards) {
        self->dropped++;
        log_warn("merger: dropped READY from %s %u configured for %u shards (this deployment "
                 "has %u)",
                 r.role, r.id, r.shards, self->n_shards);
    } else if (!s_key_holds(self, r.id, f)) {
        self->dropped++;
        const char *user = gate_user(f->version);
        log_error("merger: refused READY as shard-%u from a connection whose key is %s", r.id,
                  user ? user : "unknown");
    } else if (s_alive_elsewhere(&self->shards[r.id], f->identity)) {
        self->dropped++;
        log_error("merger: refused READY as shard-%u from another connection: shard %u is "
                  "alive",
                  r.id, r.id);
    } else {
        s_register(self, &self->shards[r.id], f->identity);
    }
    wmsg_ready_free(&r);
}

/*  A FORESTS or DONE seq the stream can have reached: the merger has the records up to
    `applied`, and the broker streams at most max_lag inputs (plus a message) ahead of what
    it applied. Later ones are not kept for later: nothing legitimate names them. */
static bool
s_seq_plausible(const merger_t *self, uint64_t seq)
{
    return seq <= self->applied + (uint64_t)self->cfg->broker.max_lag + 100000;
}

/*  Handles a shard message; FORESTS ahead of their barrier are kept for later (returns
    false then and the caller keeps msg). fresh: msg was just received, so the shard was
    heard from; a message retried from the early list says nothing about the shard now (it
    may have been cut off since, and the records its FORESTS wait for may only come after
    it is back). */
static bool
s_on_shard(merger_t *self, zmsg_t *msg, bool fresh)
{
    proto_frame_t f;
    if (proto_parse(msg, true, &f) != 0) {
        self->dropped++;
        log_warn("merger: dropped message from a shard: %s", f.reason);
        return true;
    }
    if (f.cmd == PROTO_READY) {
        s_on_ready(self, &f);
        return true;
    }
    s_shard_t *s = s_shard_of(self, &f);
    if (!s) {
        self->dropped++;
        log_warn("merger: dropped %s from an unknown or unauthorized shard", proto_cmd_name(f.cmd));
        return true;
    }
    if (fresh) {
        hb_heard(&s->hb, zclock_mono());
        s->alive = true;
    }
    uint64_t seq = 0;
    switch (f.cmd) {
    case PROTO_FORESTS: {
        proto_get_u64(&f.parts[0], &seq);
        if (!s_seq_plausible(self, seq)) {
            self->dropped++;
            log_warn("merger: dropped FORESTS %" PRIu64 " from shard %u: far past the stream "
                     "(%" PRIu64 ")",
                     seq, (unsigned)(s - self->shards), self->applied);
            return true;
        }
        if (seq > self->applied) {
            return false; /* its records are still on the way */
        }
        wmsg_forests_t body;
        char err[256];
        if (wmsg_forests_decode(f.parts[1].data, f.parts[1].size, &body, err, sizeof err) != 0) {
            self->dropped++;
            log_warn("merger: dropped FORESTS: %s", err);
            return true;
        }
        for (size_t i = 0; i < body.n; i++) {
            if (body.blocks[i].family >= CCFG_GENERIC_FAMILIES) {
                self->dropped++;
                log_warn("merger: dropped FORESTS %" PRIu64 " from shard %u: key family %d is "
                         "not one of the %d blocking families",
                         seq, (unsigned)(s - self->shards), body.blocks[i].family,
                         CCFG_GENERIC_FAMILIES);
                wmsg_forests_free(&body);
                return true;
            }
        }
        if (merger_state_apply_forests(self->state, &body) != 0) {
            log_error("merger: FORESTS %" PRIu64 " named unknown observations", seq);
        }
        wmsg_forests_free(&body);
        return true;
    }
    case PROTO_DONE:
        proto_get_u64(&f.parts[0], &seq);
        if (!s_seq_plausible(self, seq)) {
            self->dropped++;
            log_warn("merger: dropped DONE %" PRIu64 " from shard %u: far past the stream", seq,
                     (unsigned)(s - self->shards));
            return true;
        }
        if (seq > self->applied) {
            return false;
        }
        s->done = seq > s->done ? seq : s->done;
        return true;
    case PROTO_HEARTBEAT:
        return true;
    default:
        self->dropped++;
        log_warn("merger: dropped %s from a shard", proto_cmd_name(f.cmd));
        return true;
    }
}

/*  Retries messages that arrived ahead of their barrier, in arrival order. */
static void
s_retry_early(merger_t *self)
{
    size_t n = zlist_size(self->early);
    for (size_t i = 0; i < n; i++) {
        zmsg_t *m = zlist_pop(self->early);
        if (s_on_shard(self, m, false)) {
            zmsg_destroy(&m);
        } else {
            zlist_append(self->early, m);
        }
    }
}

/*  Reads the ref of a QUERY that failed to parse, when its frames still hold one: the
    identity, the version, the QUERY command, then an 8-byte ref. */
static bool
s_query_ref(zmsg_t *msg, const proto_frame_t *f, uint64_t *ref)
{
    if (!f->identity || f->cmd != PROTO_QUERY || zmsg_size(msg) < 4) {
        return false;
    }
    zframe_t *frame = zmsg_first(msg);
    for (int i = 0; i < 3; i++) {
        frame = zmsg_next(msg);
    }
    proto_part_t part = {zframe_data(frame), zframe_size(frame)};
    return proto_get_u64(&part, ref) == 0;
}

static void
s_reply(merger_t *self, zframe_t *identity, uint64_t ref, const wire_buf_t *body)
{
    zmsg_t *m = proto_msg_new_to(identity, PROTO_REPLY);
    proto_add_u64(m, ref);
    proto_add_body(m, body);
    proto_reply(self->query, &m, &self->unsent, "merger");
}

/*  Answers one QUERY (docs/protocol.md §9). A malformed one is counted and logged, and
    answered with {error} when its ref can be read. */
static void
s_on_query(merger_t *self, zmsg_t *msg)
{
    proto_frame_t f;
    wire_buf_t buf;
    wire_buf_init(&buf);
    uint64_t ref = 0;
    if (proto_parse(msg, true, &f) != 0 || f.cmd != PROTO_QUERY) {
        if (f.code == NULL && (f.cmd == PROTO_HEARTBEAT || f.cmd == PROTO_DISCONNECT)) {
            return; /* a client's liveness traffic needs no answer */
        }
        self->dropped++;
        const char *reason = f.code ? f.reason : "not a QUERY";
        log_warn("merger: dropped %s from a query client", reason);
        if (s_query_ref(msg, &f, &ref)) {
            wmsg_reply_error_encode(reason, &buf);
            s_reply(self, f.identity, ref, &buf);
        }
        wire_buf_free(&buf);
        return;
    }
    proto_get_u64(&f.parts[0], &ref);
    cluster_stats_t st = cluster_stats(merger_state_cluster(self->state));
    merger_timings_t tm = merger_state_timings(self->state);
    char text[1024];
    snprintf(text, sizeof text,
             "{\"role\": \"merger\", \"applied\": %" PRIu64 ", \"reconciled\": %" PRIu64
             ", \"observations\": %" PRIu64 ", \"identities\": %" PRIu64 ", \"campaigns\": %" PRIu64
             ", \"events\": %" PRIu64 ", \"events_dropped\": %" PRIu64 ", \"dropped\": %" PRIu64
             ", \"replies_dropped\": %" PRIu64 ", \"timings\": {\"reconciliations\": %" PRIu64
             ", \"apply_s\": %.6f, \"reconcile_s\": %.6f, \"snapshot_s\": %.6f"
             ", \"last_reconcile_s\": %.6f, \"last_snapshot_s\": %.6f}}",
             self->applied, self->reconciled, st.observations, st.identities, st.campaigns,
             self->published, self->ev_dropped, self->dropped, self->unsent.dropped,
             tm.reconciliations, tm.apply_s, tm.reconcile_s, tm.snapshot_s, tm.last_reconcile_s,
             tm.last_snapshot_s);
    char err[320];
    /* applied and reconciled never decrease, so their sum changes with the state. */
    if (merger_query_answer(self->qa, merger_state_cluster(self->state),
                            self->applied + self->reconciled, text, f.parts[1].data,
                            f.parts[1].size, &buf, err, sizeof err) != 0) {
        self->dropped++;
        log_warn("merger: malformed QUERY: %s", err);
    }
    s_reply(self, f.identity, ref, &buf);
    wire_buf_free(&buf);
}

static void
s_on_pipe(merger_t *self, zsock_t *pipe, zmsg_t *msg, bool *stop)
{
    char *cmd = zmsg_popstr(msg);
    if (!cmd || streq(cmd, "$TERM")) {
        *stop = true;
    } else if (streq(cmd, "EVENTS")) {
        zstr_sendf(pipe, "%" PRIu64, self->published);
    } else if (streq(cmd, "SUMMARY")) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        report_summary(merger_state_cluster(self->state), f, 5);
        fclose(f);
        zstr_send(pipe, text);
        free(text);
    } else if (streq(cmd, "DUMP")) {
        char *paths[3];
        for (int i = 0; i < 3; i++) {
            paths[i] = zmsg_popstr(msg);
        }
        char *fmt_name = zmsg_popstr(msg);
        obs_format_t fmt = OBS_FORMAT_JSONL;
        if (fmt_name) {
            obs_format_parse(fmt_name, &fmt);
        }
        const cluster_t *c = merger_state_cluster(self->state);
        int rc = 0;
        FILE *fs[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3 && rc == 0; i++) {
            if (paths[i] && paths[i][0] && !(fs[i] = fopen(paths[i], "wb"))) {
                rc = -errno;
            }
        }
        if (rc == 0 && fs[0]) {
            rc = report_assignments(c, fs[0], fmt);
        }
        if (rc == 0) {
            rc = report_records(c, fs[1], fmt, fs[2], fmt);
        }
        for (int i = 0; i < 3; i++) {
            if (fs[i] && fclose(fs[i]) != 0 && rc == 0) {
                rc = -errno;
            }
            zstr_free(&paths[i]);
        }
        zstr_free(&fmt_name);
        zstr_send(pipe, rc == 0 ? "OK" : cadre_strerror(rc));
    }
    zstr_free(&cmd);
}

static void
s_heartbeats(merger_t *self)
{
    int64_t now = zclock_mono();
    s_send_heartbeats(self, now);
    if (hb_dead(&self->hb_broker, now)) {
        /* The broker may have restarted and not know the merger: announce it again. */
        log_warn("merger: broker silent for %d x %d ms", self->cfg->liveness,
                 self->cfg->heartbeat_ms);
        s_send_ready(self);
        hb_heard(&self->hb_broker, now);
    }
    for (uint32_t k = 0; k < self->n_shards; k++) {
        s_shard_t *s = &self->shards[k];
        if (s->identity && hb_dead(&s->hb, now)) {
            log_error("merger: shard %u dead (silent for %d x %d ms)", k, self->cfg->liveness,
                      self->cfg->heartbeat_ms);
            s->alive = false;
            hb_heard(&s->hb, now);
        }
    }
}

int
merger_run(merger_t *self, zsock_t *pipe, sigev_t *sig)
{
    bool stop = false;
    while (!stop) {
        zmq_pollitem_t items[5];
        int n = 0;
        /* Restoring, the model cannot take forests or answer queries: they wait. */
        short later = merger_state_wanted(self->state) > 0 ? 0 : ZMQ_POLLIN;
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->broker), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->shards_sock), 0, later, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->query), 0, later, 0};
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
            zmsg_t *m = zmsg_recv(pipe);
            if (!m) {
                break;
            }
            s_on_pipe(self, pipe, m, &stop);
            zmsg_destroy(&m);
            if (stop) {
                break; /* $TERM: stop now, peers may be gone already */
            }
        }
        /* Read for at most a quarter of a heartbeat interval before heartbeats are due. */
        int64_t busy_until = zclock_mono() + self->cfg->heartbeat_ms / 4;
        /* The broker first: records must be applied before the forests that name them. */
        for (int i = 0;
             i < 1000 && (i == 0 || zclock_mono() < busy_until) && (items[0].revents & ZMQ_POLLIN);
             i++) {
            zmsg_t *m = zmsg_recv(self->broker);
            if (!m) {
                break;
            }
            if (s_on_broker(self, m) == 1) {
                stop = true;
            }
            zmsg_destroy(&m);
        }
        s_retry_early(self);
        for (int i = 0;
             i < 1000 && (i == 0 || zclock_mono() < busy_until) && (items[1].revents & ZMQ_POLLIN);
             i++) {
            zmsg_t *m = zmsg_recv(self->shards_sock);
            if (!m) {
                break;
            }
            if (s_on_shard(self, m, true)) {
                zmsg_destroy(&m);
            } else {
                zlist_append(self->early, m);
            }
        }
        for (int i = 0;
             i < 100 && (i == 0 || zclock_mono() < busy_until) && (items[2].revents & ZMQ_POLLIN);
             i++) {
            zmsg_t *m = zmsg_recv(self->query);
            if (!m) {
                break;
            }
            s_on_query(self, m);
            zmsg_destroy(&m);
        }
        s_drain_subscriptions(self);
        /* Liveness first, on what was just read: a long reconciliation reads nothing, so
           checking after it would find every peer silent. */
        s_heartbeats(self);
        s_try_reconcile(self);
    }
    log_info("merger: stopped at %" PRIu64 " (%" PRIu64 " events, %" PRIu64 " dropped)",
             self->reconciled, self->published, self->dropped);
    return self->fatal ? -1 : 0;
}

void
merger_actor(zsock_t *pipe, void *args)
{
    merger_t *self = merger_new(args);
    zsock_signal(pipe, self ? 0 : 255);
    if (self) {
        merger_run(self, pipe, NULL);
        merger_destroy(&self);
    }
}
