/*  curve.h - CURVE authentication and encryption between cadre peers (docs/protocol.md §1).

    The owner of czmq's zcert and of the process's ZAP handler. A deployment has one server
    certificate, held by the two binding roles (broker, merger); every connecting party
    (each shard, the merger's connection to the broker, each client tool) has its own
    certificate and knows the server's public key. Certificates are czmq zcert files: `name`
    holds the public key, `name_secret` both keys.

    Keys are bound to what they may do. Two directories of public certificates: the peer
    directory, where a certificate's file name up to its first '.' is the one role it may
    hold (`merger`, `shard-0`, `shard-0.2027` ...), and the client directory (`cadre send`,
    `sub`, `query`). Each serving socket belongs to one domain: the peer sockets (broker
    backend, merger shards) let in only peer keys, the client sockets (ingest, query,
    events) only client keys. On every message of an accepted connection libzmq sets the
    "User-Id" property to "peer:<file name>" or "client:<file name>"; the roles check it
    against the role a peer claims (curve_user_is_peer()) on READY and on every command.

    A curve_t is one process's credentials: what it serves with (the server certificate and
    the ZAP handler thread that checks connecting keys against the two directories, re-read
    when they change, and logs refusals at most once a second) and what it connects with
    (its own certificate and the server's public key). The loop modules apply it to their
    sockets before binding or connecting; CURVE is never applied to inproc:// endpoints
    (curve_applies()).

    A peer whose key is not authorized there, or that holds the wrong server key, never
    completes its handshake: ZeroMQ drops the connection and the peer keeps retrying.
    Nothing is delivered from it and nothing fails on either side.

    Ownership: curve_new() copies what it needs; curve_destroy() stops the handler.
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

/*  Loads the certificates opts names and, when it names a server certificate, starts the
    ZAP handler (one per process: it serves every socket of the process's context).
    Returns NULL with a message naming the file in err (errlen bytes) when a file cannot
    be read, holds no key (a secret file without its secret key), the public file does not
    match the secret file, a directory does not exist, or libzmq lacks CURVE. */
curve_t *curve_new(const curve_opts_t *opts, char *err, size_t errlen);
/*  Stops the zauth actor and frees the keys; NULLs *self_p. NULL *self_p is a no-op. */
void curve_destroy(curve_t **self_p);

/*  True when CURVE is applied to endpoint: every transport but inproc://. */
bool curve_applies(const char *endpoint);
#define CURVE_DOMAIN_PEERS "cadre-peers"     /* broker backend, merger shards */
#define CURVE_DOMAIN_CLIENTS "cadre-clients" /* ingest, query, events */

/*  Makes sock a CURVE server with the server certificate in domain (CURVE_DOMAIN_PEERS or
    CURVE_DOMAIN_CLIENTS: whose keys it lets in), before binding it. self must have been
    loaded with server_secret. */
void curve_serve(const curve_t *self, zsock_t *sock, const char *domain);
/*  The "User-Id" of the connection a received frame came on (borrowed until the frame is
    destroyed): "peer:NAME" or "client:NAME" on a CURVE server socket, NULL where no CURVE
    handshake took place (inproc://, or CURVE off). */
const char *curve_user(zframe_t *frame);
/*  True when user (from curve_user()) is a peer certificate whose name, up to its first
    '.', is role ("merger", "shard-3"). */
bool curve_user_is_peer(const char *user, const char *role);
/*  Makes sock a CURVE client with the own certificate and the server's public key (before
    connecting it). self must have been loaded with client_secret. */
void curve_connect(const curve_t *self, zsock_t *sock);
/*  Writes a new certificate pair, dir/name (public) and dir/name_secret (mode 0600),
    creating dir when missing. Refuses to overwrite either file. Returns 0, or -errno with
    a message in err. */
int curve_keygen(const char *dir, const char *name, char *err, size_t errlen);

#endif
