/*  curve.h - CURVE authentication and encryption between cadre peers (docs/protocol.md §1).

    The owner of czmq's zcert. A deployment has one server
    certificate, held by the two binding roles (broker, merger); every connecting party
    (each shard, the merger's connection to the broker, each client tool) has its own
    certificate and knows the server's public key. Certificates are czmq zcert files: `name`
    holds the public key, `name_secret` both keys.

    The servers check connecting keys with the process's gate (gate.h): peer keys and
    client keys live in two directories, and each key is bound to what it may do.

    A curve_t is one process's credentials: what it serves with (the server certificate;
    curve_new() checks that the two key directories exist) and what it connects with (its
    own certificate and the server's public key). The loop modules apply it to their
    sockets before binding or connecting; CURVE is never applied to inproc:// endpoints
    (curve_applies()).

    Ownership: curve_new() copies what it needs.
*/
#ifndef CADRE_CURVE_H
#define CADRE_CURVE_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct curve_t curve_t;

/*  What to load; every path is borrowed for the call. */
typedef struct {
    const char *server_secret;  /* server certificate's secret file to serve with, or NULL */
    const char *server_public;  /* its public file, checked against it, or NULL */
    const char *authorized_dir; /* directory of authorized client public certificates (with
                                   server_secret: required) */
    const char *peers_dir;      /* directory of the peers' public certificates, each named
                                   after its role (with server_secret: required) */
    const char *client_secret;  /* own certificate's secret file to connect with, or NULL */
    const char *server_key;     /* the server certificate's public file (with client_secret:
                                   required) */
} curve_opts_t;

/*  Loads the certificates opts names. Returns NULL with a message naming the file in err (errlen
   bytes) when a file cannot be read, holds no key (a secret file without its secret key), the
   public file does not match the secret file, a directory does not exist, or libzmq lacks CURVE. */
curve_t *curve_new(const curve_opts_t *opts, char *err, size_t errlen);
/*  Stops the zauth actor and frees the keys; NULLs *self_p. NULL *self_p is a no-op. */
void curve_destroy(curve_t **self_p);

/*  True when CURVE is applied to endpoint: every transport but inproc://. */
bool curve_applies(const char *endpoint);
/*  Makes sock a CURVE server with the server certificate (before binding it); the gate
    decides which keys it lets in (gate_watch()). self must have been loaded with
    server_secret. */
void curve_serve(const curve_t *self, zsock_t *sock);
/*  Makes sock a CURVE client with the own certificate and the server's public key (before
    connecting it). self must have been loaded with client_secret. */
void curve_connect(const curve_t *self, zsock_t *sock);
/*  Writes a new certificate pair, dir/name (public) and dir/name_secret (mode 0600),
    creating dir when missing. Refuses to overwrite either file. Returns 0, or -errno with
    a message in err. */
int curve_keygen(const char *dir, const char *name, char *err, size_t errlen);

#endif
