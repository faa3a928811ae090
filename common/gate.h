/*  gate.h - who may connect to a serving role, and how many at once (docs/protocol.md §10).

    A gate is one process's ZAP handler (ZeroMQ RFC 27): libzmq asks it about every
    connection to a socket that names a ZAP domain, before anything of that connection is
    delivered. The serving roles put every ipc:// and tcp:// socket they bind under the gate
    (gate_watch()), in one of two domains:

      GATE_PEERS    the broker's backend and the merger's shard socket (shards, the merger);
      GATE_CLIENTS  ingest, query and events (cadre send, query, sub and other clients).

    With CURVE keys (gate_opts_t's directories set), a key is let in on a peer socket only
    when a certificate of the peer directory holds it, and on a client socket only when one
    of the client directory does. A peer certificate's file name up to its first '.' is the
    role it may hold (`merger`, `shard-0`, `shard-0.2027`); libzmq sets the "User-Id"
    property of every message of an accepted connection to "peer:<file name>" or
    "client:<file name>", and the roles check it (gate_user(), gate_user_is_peer()) against
    the role a peer claims. The directories are re-read when they change.

    Whatever the keys, the gate counts the open connections of each domain (from socket
    monitors) and refuses a new one when its domain has max_clients (or max_peers) open:
    libzmq then closes it, nothing of it is delivered, and the role never sees it. Every
    accepted connection holds a file descriptor; the caps keep the process below its
    open-file limit, which libzmq does not survive reaching on ipc:// sockets. Refusals are
    counted and logged at most once a second.

    The handler runs on its own thread (a zactor), so a busy role never delays a handshake.
    One gate per process: it serves every socket of the process's ZeroMQ context, so roles
    sharing a process (`cadre run --listen`) share it: gate_new() returns the running one
    (its options stay the first caller's) and the last gate_destroy() stops it.

    Ownership: gate_new() copies its options; gate_destroy() releases the caller's hold.
    Destroy the watched sockets first. gate_watch() must be called from the thread that
    owns the socket, while the zactor pipe is used by one thread at a time.
*/
#ifndef CADRE_GATE_H
#define CADRE_GATE_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GATE_PEERS "cadre-peers"     /* broker backend, merger shards */
#define GATE_CLIENTS "cadre-clients" /* ingest, query, events */

typedef struct gate_t gate_t;

/*  What a gate allows; paths are borrowed for the call. */
typedef struct {
    const char *peers_dir;   /* peer certificates, or NULL: no key check (CURVE off) */
    const char *clients_dir; /* client certificates, or NULL: no key check */
    uint32_t max_clients;    /* open connections on the client sockets, > 0 */
    uint32_t max_peers;      /* open connections on the peer sockets, > 0 */
} gate_opts_t;

/*  The process's gate: starts it, or takes another hold of the running one. Returns NULL
    with a reason in err when it cannot start (another ZAP handler serves the context). */
gate_t *gate_new(const gate_opts_t *opts, char *err, size_t errlen);
/*  Releases the hold, stopping the thread with the last one; NULLs *self_p. NULL *self_p
    is a no-op. */
void gate_destroy(gate_t **self_p);

/*  Puts sock (a socket of this thread, before it binds) under the gate in domain
    (GATE_PEERS or GATE_CLIENTS): sets its ZAP domain and counts its connections. Returns 0,
    or -1 when the monitor cannot be set up. */
int gate_watch(gate_t *self, zsock_t *sock, const char *domain);

/*  Stops counting sock's connections (its monitor): call it before destroying a watched
    socket, from the thread that owns it. */
void gate_unwatch(gate_t *self, zsock_t *sock);

/*  Connections refused so far (keys and caps), read from any thread. */
uint64_t gate_refused(const gate_t *self);

/*  Raises the process's soft open-file limit to its hard limit; returns the soft limit it
    has then. */
uint64_t gate_raise_nofile(void);

/*  The largest number of client connections a process may hold open with the open-file
    limit it has (limit), leaving room for its files, its peers and a burst of connections
    on their way to being refused; never more than wanted. */
uint32_t gate_client_cap(uint32_t wanted, uint64_t limit, uint32_t peers);

/*  The "User-Id" of the connection a received frame came on (borrowed until the frame is
    destroyed): "peer:NAME" or "client:NAME" when CURVE keys were checked, NULL where no
    key was (inproc://, or CURVE off). */
const char *gate_user(zframe_t *frame);
/*  True when user (from gate_user()) is a peer certificate whose name, up to its first
    '.', is role ("merger", "shard-3"). */
bool gate_user_is_peer(const char *user, const char *role);

#endif
