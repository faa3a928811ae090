/*  gate.c - the process's ZAP handler: keys and connection caps (see gate.h). */
#include "gate.h"

#include "fdguard.h"

#include "log.h"
#include "xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define S_DOMAINS 2 /* 0 peers, 1 clients */

struct gate_t {
    int users;                     /* roles of this process holding it (under s_lock) */
    zactor_t *actor;               /* the handler thread */
    char *dirs[S_DOMAINS];         /* key directories per domain, or NULL (owned) */
    uint32_t caps[S_DOMAINS];      /* open connections allowed per domain */
    atomic_uint_least64_t refused; /* connections refused, read by the roles */
    unsigned watched;              /* monitors started (names them) */
};

/*  --------------------------------------------------------------------------------------
    Key sets: the public certificates of one directory, re-read when it changes */

/*  One authorized key. */
typedef struct {
    byte key[32]; /* public key */
    char *name;   /* the certificate's file name (peers: the role up to the first '.') */
} s_key_t;

/*  A directory of public certificates. */
typedef struct {
    const char *dir;  /* the directory (borrowed from the handler's arguments) */
    s_key_t *keys;    /* loaded keys */
    size_t n;         /* count */
    struct stat seen; /* the directory's stat when it was read (st_mtim, st_ino) */
    bool loaded;      /* read at least once */
} s_keyset_t;

static void
s_keyset_clear(s_keyset_t *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        free(ks->keys[i].name);
    }
    free(ks->keys);
    ks->keys = NULL;
    ks->n = 0;
}

/*  Reads the directory again when it changed since the last read (a file added, removed or
    renamed changes its modification time). Files named *_secret are skipped, as are files
    that hold no certificate. */
static void
s_keyset_refresh(s_keyset_t *ks)
{
    struct stat st;
    if (stat(ks->dir, &st) != 0) {
        s_keyset_clear(ks);
        ks->loaded = false;
        return;
    }
    if (ks->loaded && st.st_ino == ks->seen.st_ino &&
        st.st_mtim.tv_sec == ks->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == ks->seen.st_mtim.tv_nsec) {
        return;
    }
    s_keyset_clear(ks);
    ks->seen = st;
    ks->loaded = true;
    zdir_t *dir = zdir_new(ks->dir, NULL);
    if (!dir) {
        return;
    }
    zfile_t **files = zdir_flatten(dir);
    size_t cap = 0;
    for (size_t i = 0; files[i]; i++) {
        const char *path = zfile_filename(files[i], NULL);
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t bl = strlen(base);
        if (bl >= 7 && strcmp(base + bl - 7, "_secret") == 0) {
            continue;
        }
        zcert_t *cert = zcert_load(path);
        if (!cert) {
            continue;
        }
        xgrow(&ks->keys, &cap, ks->n + 1);
        memcpy(ks->keys[ks->n].key, zcert_public_key(cert), 32);
        ks->keys[ks->n].name = xstrdup(base);
        ks->n++;
        zcert_destroy(&cert);
    }
    zdir_flatten_free(&files);
    zdir_destroy(&dir);
}

/*  The name of key's certificate, or NULL when the set has none for it (borrowed until the
    next refresh). */
static const char *
s_keyset_find(s_keyset_t *ks, const byte *key)
{
    s_keyset_refresh(ks);
    for (size_t i = 0; i < ks->n; i++) {
        if (memcmp(ks->keys[i].key, key, 32) == 0) {
            return ks->keys[i].name;
        }
    }
    return NULL;
}

/*  --------------------------------------------------------------------------------------
    The handler thread */

/*  Refusals are logged at most once a second, with the count of those not logged. */
typedef struct {
    int64_t last;        /* when the last refusal was logged (zclock_mono) */
    uint64_t suppressed; /* refusals since then not logged */
} s_refusals_t;

/*  One watched socket's monitor. */
typedef struct {
    zsock_t *pair; /* connected to the socket's monitor endpoint */
    int domain;    /* its domain */
} s_monitor_t;

/*  The thread's state. */
typedef struct {
    gate_t *gate;               /* the gate (its options are read-only here) */
    zsock_t *pipe;              /* the actor pipe */
    zsock_t *handler;           /* REP on inproc://zeromq.zap.01 */
    zpoller_t *poller;          /* pipe, handler, monitors */
    s_keyset_t keys[S_DOMAINS]; /* key sets, when the directories are set */
    s_monitor_t *monitors;      /* watched sockets */
    size_t n_monitors;          /* count */
    size_t monitors_cap;        /* allocated */
    int64_t open[S_DOMAINS];    /* open connections per domain (accepted - disconnected) */
    s_refusals_t rf;            /* refusal logging */
} s_thread_t;

static const char *const s_domain_names[S_DOMAINS] = {GATE_PEERS, GATE_CLIENTS};

static int
s_domain_of(const char *name)
{
    for (int d = 0; d < S_DOMAINS; d++) {
        if (strcmp(name, s_domain_names[d]) == 0) {
            return d;
        }
    }
    return -1;
}

/*  Counts the events one monitor has queued: accepted and disconnected connections. */
static void
s_read_monitor(s_thread_t *t, s_monitor_t *m)
{
    for (;;) {
        zmsg_t *ev = zmsg_recv(m->pair);
        if (!ev) {
            return;
        }
        zframe_t *f = zmsg_first(ev);
        if (f && zframe_size(f) >= 2) {
            uint16_t event = 0;
            memcpy(&event, zframe_data(f), 2);
            if (event == ZMQ_EVENT_ACCEPTED) {
                t->open[m->domain]++;
            } else if (event == ZMQ_EVENT_DISCONNECTED && t->open[m->domain] > 0) {
                t->open[m->domain]--;
            }
        }
        zmsg_destroy(&ev);
    }
}

static void
s_read_monitors(s_thread_t *t)
{
    for (size_t i = 0; i < t->n_monitors; i++) {
        s_read_monitor(t, &t->monitors[i]);
    }
}

static void
s_reply(zsock_t *handler, zframe_t *request_id, const char *code, const char *text,
        const char *user)
{
    zmsg_t *r = zmsg_new();
    zmsg_addstr(r, "1.0");
    zmsg_addmem(r, zframe_data(request_id), zframe_size(request_id));
    zmsg_addstr(r, code);
    zmsg_addstr(r, text);
    zmsg_addstr(r, user);
    zmsg_addmem(r, NULL, 0);
    zmsg_send(&r, handler);
}

static void
s_refuse(s_thread_t *t, zframe_t *request_id, const char *domain, const char *address,
         const char *why)
{
    atomic_fetch_add(&t->gate->refused, 1);
    s_reply(t->handler, request_id, "400", why, "");
    int64_t now = zclock_mono();
    if (t->rf.last != 0 && now - t->rf.last < 1000) {
        t->rf.suppressed++;
        return;
    }
    if (t->rf.suppressed) {
        log_warn("gate: refused a connection from %s on the %s sockets: %s (and %" PRIu64
                 " more refusals in the last second)",
                 address, domain, why, t->rf.suppressed);
    } else {
        log_warn("gate: refused a connection from %s on the %s sockets: %s", address, domain, why);
    }
    t->rf.last = now;
    t->rf.suppressed = 0;
}

/*  One ZAP request: version, request id, domain, address, routing id, mechanism, then the
    mechanism's credentials (CURVE: the client's 32-byte public key). */
static void
s_handle(s_thread_t *t)
{
    zmsg_t *req = zmsg_recv(t->handler);
    if (!req) {
        return;
    }
    zframe_t *f[7] = {NULL};
    size_t n = 0;
    for (zframe_t *fr = zmsg_first(req); fr && n < 7; fr = zmsg_next(req)) {
        f[n++] = fr;
    }
    if (n < 6) {
        zmsg_destroy(&req);
        return; /* not a ZAP request: nothing to answer */
    }
    char *domain = zframe_strdup(f[2]);
    char *address = zframe_strdup(f[3]);
    int d = s_domain_of(domain);
    s_read_monitors(t);
    if (d < 0) {
        s_refuse(t, f[1], domain, address, "unknown domain");
    } else if (t->open[d] > (int64_t)t->gate->caps[d]) {
        char why[96];
        snprintf(why, sizeof why, "%u connections open already", t->gate->caps[d]);
        s_refuse(t, f[1], domain, address, why);
    } else if (!t->gate->dirs[d]) {
        s_reply(t->handler, f[1], "200", "OK", "");
    } else {
        const byte *key = n == 7 && zframe_size(f[6]) == 32 ? zframe_data(f[6]) : NULL;
        const char *name =
            key && zframe_streq(f[5], "CURVE") ? s_keyset_find(&t->keys[d], key) : NULL;
        if (name) {
            char *user = xasprintf("%s:%s", d == 0 ? "peer" : "client", name);
            s_reply(t->handler, f[1], "200", "OK", user);
            free(user);
        } else {
            char why[96] = "no CURVE key";
            if (key) {
                char z85[41];
                zmq_z85_encode(z85, key, 32);
                snprintf(why, sizeof why, "key %s not authorized there", z85);
            }
            s_refuse(t, f[1], domain, address, why);
        }
    }
    free(domain);
    free(address);
    zmsg_destroy(&req);
}

/*  A pipe command: WATCH <monitor endpoint> <domain>, or $TERM. Returns false to stop. */
static bool
s_command(s_thread_t *t)
{
    zmsg_t *msg = zmsg_recv(t->pipe);
    if (!msg) {
        return false;
    }
    char *cmd = zmsg_popstr(msg);
    bool go = cmd && !streq(cmd, "$TERM");
    if (go && streq(cmd, "WATCH")) {
        char *endpoint = zmsg_popstr(msg);
        char *domain = zmsg_popstr(msg);
        zsock_t *pair = zsock_new(ZMQ_PAIR);
        int rc = pair && endpoint && domain && s_domain_of(domain) >= 0 &&
                         zsock_connect(pair, "%s", endpoint) == 0
                     ? 0
                     : -1;
        if (rc == 0) {
            zsock_set_rcvtimeo(pair, 0);
            xgrow(&t->monitors, &t->monitors_cap, t->n_monitors + 1);
            t->monitors[t->n_monitors++] = (s_monitor_t){pair, s_domain_of(domain)};
            zpoller_add(t->poller, pair);
        } else {
            zsock_destroy(&pair);
        }
        zsock_signal(t->pipe, rc == 0 ? 0 : 1);
        zstr_free(&endpoint);
        zstr_free(&domain);
    }
    zstr_free(&cmd);
    zmsg_destroy(&msg);
    return go;
}

static void
s_actor(zsock_t *pipe, void *arg)
{
    s_thread_t t = {.gate = arg, .pipe = pipe};
    t.handler = zsock_new(ZMQ_REP);
    if (!t.handler || zsock_bind(t.handler, "inproc://zeromq.zap.01") != 0) {
        zsock_destroy(&t.handler);
        zsock_signal(pipe, 1);
        return;
    }
    for (int d = 0; d < S_DOMAINS; d++) {
        t.keys[d].dir = t.gate->dirs[d];
    }
    t.poller = zpoller_new(pipe, t.handler, NULL);
    zsock_signal(pipe, 0);
    uint64_t guarded = 0;
    for (;;) {
        void *which = zpoller_wait(t.poller, 1000);
        uint64_t g = fdguard_refused();
        if (g != guarded) {
            log_warn("gate: %" PRIu64 " connections closed at accept: the process is near its "
                     "open-file limit",
                     g - guarded);
            guarded = g;
        }
        if (!which && zpoller_expired(t.poller)) {
            continue;
        }
        if (which == t.handler) {
            s_handle(&t);
        } else if (which == pipe) {
            if (!s_command(&t)) {
                break;
            }
        } else if (which) {
            for (size_t i = 0; i < t.n_monitors; i++) {
                if (t.monitors[i].pair == which) {
                    s_read_monitor(&t, &t.monitors[i]);
                }
            }
        } else {
            break;
        }
    }
    zpoller_destroy(&t.poller);
    for (size_t i = 0; i < t.n_monitors; i++) {
        zsock_destroy(&t.monitors[i].pair);
    }
    free(t.monitors);
    for (int d = 0; d < S_DOMAINS; d++) {
        s_keyset_clear(&t.keys[d]);
    }
    zsock_destroy(&t.handler);
}

/*  --------------------------------------------------------------------------------------
    The gate */

/*  The process's gate: ZeroMQ has one ZAP endpoint per context, and czmq one context per
    process, so roles sharing a process (cadre run --listen) share the gate. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static gate_t *s_gate = NULL;

gate_t *
gate_new(const gate_opts_t *opts, char *err, size_t errlen)
{
    assert(opts->max_clients > 0 && opts->max_peers > 0);
    pthread_mutex_lock(&s_lock);
    gate_t *self = s_gate;
    if (self) {
        self->users++;
        pthread_mutex_unlock(&s_lock);
        return self;
    }
    self = xcalloc(1, sizeof *self);
    self->users = 1;
    self->dirs[0] = opts->peers_dir ? xstrdup(opts->peers_dir) : NULL;
    self->dirs[1] = opts->clients_dir ? xstrdup(opts->clients_dir) : NULL;
    self->caps[0] = opts->max_peers;
    self->caps[1] = opts->max_clients;
    atomic_init(&self->refused, 0);
    self->actor = zactor_new(s_actor, self);
    if (!self->actor) {
        snprintf(err, errlen,
                 "cannot start the connection gate (another ZAP handler runs in "
                 "this process)");
        for (int d = 0; d < S_DOMAINS; d++) {
            free(self->dirs[d]);
        }
        free(self);
        self = NULL;
    }
    if (self) {
        /* The last defence: descriptors above the limit less what the process keeps for
           its own files are refused at accept() (fdguard.h). */
        uint64_t limit = gate_raise_nofile();
        fdguard_set_ceiling(limit > 48 && limit < INT32_MAX ? (int)(limit - 32) : 0);
    }
    s_gate = self;
    pthread_mutex_unlock(&s_lock);
    return self;
}

void
gate_destroy(gate_t **self_p)
{
    assert(self_p);
    gate_t *self = *self_p;
    if (!self) {
        return;
    }
    *self_p = NULL;
    pthread_mutex_lock(&s_lock);
    bool last = --self->users == 0;
    if (last) {
        s_gate = NULL;
    }
    pthread_mutex_unlock(&s_lock);
    if (!last) {
        return;
    }
    zactor_destroy(&self->actor);
    for (int d = 0; d < S_DOMAINS; d++) {
        free(self->dirs[d]);
    }
    free(self);
}

int
gate_watch(gate_t *self, zsock_t *sock, const char *domain)
{
    assert(s_domain_of(domain) >= 0);
    zsock_set_zap_domain(sock, domain);
    char endpoint[96];
    pthread_mutex_lock(&s_lock);
    unsigned k = self->watched++;
    pthread_mutex_unlock(&s_lock);
    snprintf(endpoint, sizeof endpoint, "inproc://cadre-gate-%p-%u", (void *)self, k);
    if (zmq_socket_monitor(zsock_resolve(sock), endpoint,
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
        return -1;
    }
    pthread_mutex_lock(&s_lock); /* the actor pipe is one thread's at a time */
    zstr_sendx(self->actor, "WATCH", endpoint, domain, NULL);
    int rc = zsock_wait(self->actor) == 0 ? 0 : -1;
    pthread_mutex_unlock(&s_lock);
    return rc;
}

void
gate_unwatch(gate_t *self, zsock_t *sock)
{
    (void)self;
    if (sock) {
        zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    }
}

uint64_t
gate_refused(const gate_t *self)
{
    return atomic_load(&((gate_t *)self)->refused) + fdguard_refused();
}

uint64_t
gate_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 1024;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            getrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
}

uint32_t
gate_client_cap(uint32_t wanted, uint64_t limit, uint32_t peers)
{
    /* Files (LMDB, logs, ZeroMQ's own descriptors: each socket and thread holds a few) and
       the peers first, then a quarter of what is left for connections on their way to
       being refused; the rest may be open clients. */
    uint64_t fixed = 64 + 4 * (uint64_t)peers;
    uint64_t room = limit > fixed ? (limit - fixed) * 3 / 4 : 0;
    uint64_t cap = room < wanted ? room : wanted;
    return cap > 0 ? (uint32_t)cap : 1;
}

const char *
gate_user(zframe_t *frame)
{
    const char *user = frame ? zframe_meta(frame, "User-Id") : NULL;
    return user && user[0] ? user : NULL;
}

bool
gate_user_is_peer(const char *user, const char *role)
{
    if (!user || strncmp(user, "peer:", 5) != 0) {
        return false;
    }
    /* The certificate's name up to its first '.' is the role: "shard-0" and "shard-0.new"
       both hold shard 0. */
    const char *name = user + 5;
    size_t n = strcspn(name, ".");
    return strlen(role) == n && strncmp(name, role, n) == 0;
}
