/*  curve.c - CURVE credentials with czmq's zcert, and the ZAP handler (see curve.h). */
#include "curve.h"

#include "log.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*  The ZAP handler thread's arguments (owned by the curve_t, outliving the thread). */
typedef struct {
    char *peers_dir;   /* peer certificates */
    char *clients_dir; /* client certificates */
} s_zap_args_t;

struct curve_t {
    zcert_t *server;  /* server certificate with its secret key, or NULL */
    zactor_t *auth;   /* ZAP handler checking connecting keys (with server) */
    zcert_t *client;  /* own certificate to connect with, or NULL */
    char *server_key; /* Z85 public key of the server (with client) */
    s_zap_args_t zap; /* the handler's directories (with server) */
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
    The ZAP handler (ZeroMQ RFC 27): libzmq asks it about every CURVE handshake on a socket
    of this process. Each serving socket names its domain (curve_serve()); a key is let in
    on a peer socket only when a certificate of the peer directory holds it, and on a client
    socket only when one of the client directory does. The reply's user id tells the roles
    which: "peer:<certificate name>" or "client:<certificate name>", and libzmq attaches it
    to every message of the connection as the "User-Id" property. */

/*  Refusals are logged at most once a second, with the count of those not logged. */
typedef struct {
    int64_t last;        /* when the last refusal was logged (zclock_mono) */
    uint64_t suppressed; /* refusals since then not logged */
} s_refusals_t;

static void
s_zap_reply(zsock_t *handler, const char *request_id, size_t id_len, const char *code,
            const char *text, const char *user)
{
    zmsg_t *r = zmsg_new();
    zmsg_addstr(r, "1.0");
    zmsg_addmem(r, request_id, id_len);
    zmsg_addstr(r, code);
    zmsg_addstr(r, text);
    zmsg_addstr(r, user);
    zmsg_addmem(r, NULL, 0);
    zmsg_send(&r, handler);
}

static void
s_zap_refused(s_refusals_t *rf, const char *domain, const char *address, const byte *key)
{
    int64_t now = zclock_mono();
    if (now - rf->last < 1000 && rf->last != 0) {
        rf->suppressed++;
        return;
    }
    char z85[41] = "(none)";
    if (key) {
        zmq_z85_encode(z85, key, 32);
    }
    if (rf->suppressed) {
        log_warn("curve: refused key %s from %s on the %s sockets (and %" PRIu64
                 " more refusals in the last second)",
                 z85, address, domain, rf->suppressed);
    } else {
        log_warn("curve: refused key %s from %s on the %s sockets", z85, address, domain);
    }
    rf->last = now;
    rf->suppressed = 0;
}

static void
s_zap_handle(zsock_t *handler, s_keyset_t *peers, s_keyset_t *clients, s_refusals_t *rf)
{
    zmsg_t *req = zmsg_recv(handler);
    if (!req) {
        return;
    }
    /* version, request id, domain, address, routing id, mechanism, credentials... */
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
    const byte *key = n == 7 && zframe_size(f[6]) == 32 ? zframe_data(f[6]) : NULL;
    bool curve = zframe_streq(f[5], "CURVE");
    const char *name = NULL;
    const char *kind = NULL;
    if (curve && key && strcmp(domain, CURVE_DOMAIN_PEERS) == 0) {
        name = s_keyset_find(peers, key);
        kind = "peer";
    } else if (curve && key && strcmp(domain, CURVE_DOMAIN_CLIENTS) == 0) {
        name = s_keyset_find(clients, key);
        kind = "client";
    }
    if (name) {
        char *user = xasprintf("%s:%s", kind, name);
        s_zap_reply(handler, (const char *)zframe_data(f[1]), zframe_size(f[1]), "200", "OK", user);
        free(user);
    } else {
        s_zap_refused(rf, domain, address, key);
        s_zap_reply(handler, (const char *)zframe_data(f[1]), zframe_size(f[1]), "400",
                    "key not authorized here", "");
    }
    free(domain);
    free(address);
    zmsg_destroy(&req);
}

static void
s_zap_actor(zsock_t *pipe, void *arg)
{
    s_zap_args_t *a = arg;
    zsock_t *handler = zsock_new(ZMQ_REP);
    if (!handler || zsock_bind(handler, "inproc://zeromq.zap.01") != 0) {
        zsock_destroy(&handler);
        zsock_signal(pipe, 1);
        return;
    }
    s_keyset_t peers = {.dir = a->peers_dir};
    s_keyset_t clients = {.dir = a->clients_dir};
    s_refusals_t rf = {0};
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, handler, NULL);
    for (;;) {
        void *which = zpoller_wait(poller, -1);
        if (which == handler) {
            s_zap_handle(handler, &peers, &clients, &rf);
            continue;
        }
        if (which == pipe) {
            char *cmd = zstr_recv(pipe);
            bool stop = !cmd || streq(cmd, "$TERM");
            zstr_free(&cmd);
            if (stop) {
                break;
            }
            continue;
        }
        break;
    }
    zpoller_destroy(&poller);
    s_keyset_clear(&peers);
    s_keyset_clear(&clients);
    zsock_destroy(&handler);
}

/*  Loads the certificate in path; NULL (err says why) when it is unreadable or holds no
    key, or when need_secret and it holds no secret key. zcert_load() reads path_secret
    first when it exists, so a public file next to its secret file yields both keys. */
static zcert_t *
s_load(const char *what, const char *path, bool need_secret, char *err, size_t errlen)
{
    zcert_t *cert = zcert_load(path);
    if (!cert) {
        snprintf(err, errlen, "%s %s: cannot read a certificate (a zcert file) there", what, path);
        return NULL;
    }
    if (need_secret) {
        const byte *secret = zcert_secret_key(cert);
        bool zero = true;
        for (size_t i = 0; i < 32 && zero; i++) {
            zero = secret[i] == 0;
        }
        if (zero) {
            snprintf(err, errlen,
                     "%s %s: the certificate has no secret key (name the _secret file)", what,
                     path);
            zcert_destroy(&cert);
            return NULL;
        }
    }
    return cert;
}

/*  Loads the server side: the certificate, its public file check, and the ZAP handler. */
static int
s_load_server(curve_t *self, const curve_opts_t *o, char *err, size_t errlen)
{
    self->server = s_load("server certificate", o->server_secret, true, err, errlen);
    if (!self->server) {
        return -1;
    }
    if (o->server_public) {
        zcert_t *pub = s_load("public key file", o->server_public, false, err, errlen);
        if (!pub) {
            return -1;
        }
        bool same = strcmp(zcert_public_txt(pub), zcert_public_txt(self->server)) == 0;
        zcert_destroy(&pub);
        if (!same) {
            snprintf(err, errlen, "public key file %s does not match the certificate %s",
                     o->server_public, o->server_secret);
            return -1;
        }
    }
    const char *dirs[] = {o->authorized_dir, o->peers_dir};
    const char *keys[] = {"client keys directory (curve.authorized_keys_dir)",
                          "peer keys directory (curve.peer_keys_dir)"};
    for (size_t i = 0; i < 2; i++) {
        struct stat st;
        if (!dirs[i] || stat(dirs[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s %s: not a directory", keys[i], dirs[i] ? dirs[i] : "(unset)");
            return -1;
        }
    }
    self->zap.peers_dir = xstrdup(o->peers_dir);
    self->zap.clients_dir = xstrdup(o->authorized_dir);
    /* The handler answers the ZAP requests of every socket in this process's context. */
    self->auth = zactor_new(s_zap_actor, &self->zap);
    if (!self->auth) {
        snprintf(err, errlen, "cannot start the authentication handler (is another running?)");
        return -1;
    }
    return 0;
}

curve_t *
curve_new(const curve_opts_t *opts, char *err, size_t errlen)
{
    if (!zsys_has_curve()) {
        snprintf(err, errlen, "this libzmq was built without CURVE (libsodium)");
        return NULL;
    }
    curve_t *self = xcalloc(1, sizeof *self);
    int rc = 0;
    if (opts->server_secret) {
        rc = s_load_server(self, opts, err, errlen);
    }
    if (rc == 0 && opts->client_secret) {
        self->client = s_load("certificate", opts->client_secret, true, err, errlen);
        zcert_t *server = NULL;
        if (self->client && !opts->server_key) {
            snprintf(err, errlen, "the server's public key file is not set");
        } else if (self->client) {
            server = s_load("server public key file", opts->server_key, false, err, errlen);
        }
        if (server) {
            self->server_key = xstrdup(zcert_public_txt(server));
            zcert_destroy(&server);
        } else {
            rc = -1;
        }
    }
    if (rc != 0) {
        curve_destroy(&self);
    }
    return self;
}

void
curve_destroy(curve_t **self_p)
{
    assert(self_p);
    curve_t *self = *self_p;
    if (!self) {
        return;
    }
    zactor_destroy(&self->auth);
    free(self->zap.peers_dir);
    free(self->zap.clients_dir);
    zcert_destroy(&self->server);
    zcert_destroy(&self->client);
    free(self->server_key);
    free(self);
    *self_p = NULL;
}

bool
curve_applies(const char *endpoint)
{
    return strncmp(endpoint, "inproc://", 9) != 0;
}

void
curve_serve(const curve_t *self, zsock_t *sock, const char *domain)
{
    assert(self->server);
    zcert_apply(self->server, sock);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, domain);
}

const char *
curve_user(zframe_t *frame)
{
    return frame ? zframe_meta(frame, "User-Id") : NULL;
}

bool
curve_user_is_peer(const char *user, const char *role)
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

void
curve_connect(const curve_t *self, zsock_t *sock)
{
    assert(self->client && self->server_key);
    zcert_apply(self->client, sock);
    zsock_set_curve_serverkey(sock, self->server_key);
}

int
curve_keygen(const char *dir, const char *name, char *err, size_t errlen)
{
    if (!name[0] || strchr(name, '/')) {
        snprintf(err, errlen, "%s: a certificate name is a non-empty file name", name);
        return -EINVAL;
    }
    if (!zsys_has_curve()) {
        snprintf(err, errlen, "this libzmq was built without CURVE (libsodium)");
        return -ENOTSUP;
    }
    if (zsys_dir_create("%s", dir) != 0) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: %s", dir, strerror(e));
        return -e;
    }
    char *pub = xasprintf("%s/%s", dir, name);
    char *sec = xasprintf("%s/%s_secret", dir, name);
    int rc = 0;
    struct stat st;
    if (stat(pub, &st) == 0 || stat(sec, &st) == 0) {
        snprintf(err, errlen, "%s: a certificate of that name exists already", pub);
        rc = -EEXIST;
    }
    zcert_t *cert = rc == 0 ? zcert_new() : NULL;
    if (rc == 0 && !cert) {
        snprintf(err, errlen, "cannot generate a key pair");
        rc = -EIO;
    }
    if (cert) {
        zcert_set_meta(cert, "name", "%s", name);
        /* The secret file is written private: umask first, then chmod for any umask. */
        mode_t old = umask(077);
        int saved = zcert_save(cert, pub);
        umask(old);
        if (saved != 0 || chmod(sec, 0600) != 0 || chmod(pub, 0644) != 0) {
            int e = errno ? errno : EIO;
            snprintf(err, errlen, "%s: cannot write the certificate: %s", pub, strerror(e));
            rc = -e;
        }
        zcert_destroy(&cert);
    }
    free(pub);
    free(sec);
    return rc;
}
