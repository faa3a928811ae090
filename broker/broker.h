/*  broker.h - the broker role: ingest, journal, routing by blocking key, barriers
    (docs/protocol.md §4-§7).

    One broker per deployment. It owns the `ingest` ROUTER (clients) and the `backend`
    ROUTER (shards and the merger). Every good input is journaled (LMDB) before it is
    acknowledged; every journaled input is streamed to the shards owning its keys and to the
    merger, and reconciliation barriers are driven at the points fixed by the input. The
    broker runs one reactor (zmq_poll) in the calling thread; embedded mode runs it as a
    zactor (broker_actor).
*/
#ifndef CADRE_BROKER_H
#define CADRE_BROKER_H

#include "cfg.h"
#include "sig.h"

#include <czmq.h>

typedef struct broker_t broker_t;

/*  Opens the journal under cfg->data_dir/broker and binds both sockets. Returns NULL (and
    logs) when the journal cannot be opened or an endpoint cannot be bound. cfg is borrowed
    for the broker's lifetime. */
broker_t *broker_new(const cfg_t *cfg);
/*  Closes sockets (bounded linger) and the journal; NULLs *self_p. */
void broker_destroy(broker_t **self_p);
/*  Runs the reactor until a TERM/INT (sig, may be NULL) or "$TERM" on pipe (may be NULL).
    Returns 0 on a clean stop, negative on a fatal storage error. */
int broker_run(broker_t *self, zsock_t *pipe, sigev_t *sig);
/*  zactor body for embedded mode: args is the const cfg_t *. Signals the pipe once bound
    (0) or failed (-1). */
void broker_actor(zsock_t *pipe, void *args);
/*  The role's name, for logs and usage lines. */
const char *broker_role_name(void);

#endif
