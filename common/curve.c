/*  curve.c - CURVE credentials with czmq's zcert (see curve.h). */
#include "curve.h"

#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct curve_t {
    zcert_t *server;  /* server certificate with its secret key, or NULL */
    zcert_t *client;  /* own certificate to connect with, or NULL */
    char *server_key; /* Z85 public key of the server (with client) */
};

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

/*  Loads the server side: the certificate, its public file check, the key directories. */
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
curve_serve(const curve_t *self, zsock_t *sock)
{
    assert(self->server);
    zcert_apply(self->server, sock);
    zsock_set_curve_server(sock, 1);
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
