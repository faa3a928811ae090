/*  endpoint.h - which engine socket a client command connects to: the one named with
    --endpoint, or the one the deployment's configuration file (--config) binds, and with
    which CURVE credentials. Shared by `cadre send`, `cadre sub` and `cadre query`.
*/
#ifndef CADRE_CLI_ENDPOINT_H
#define CADRE_CLI_ENDPOINT_H

#include "curve.h"

/*  The engine sockets clients use (docs/protocol.md §3). */
typedef enum {
    ENDPOINT_INGEST = 0, /* the broker's ingest ROUTER: SUBMIT, FLUSH */
    ENDPOINT_EVENTS,     /* the merger's events PUB */
    ENDPOINT_QUERY,      /* the merger's query ROUTER: QUERY */
} endpoint_kind_t;

/*  Resolves the endpoint: endpoint when not NULL, else the configuration file's socket of
    that kind. Exactly one of endpoint and config must be given, and an inproc:// endpoint
    is refused (it exists only inside one process, `cadre run`). cmd names the command in
    messages.

    With a configuration whose curve.enabled is true, *curve gets the client's CURVE
    credentials (docs/config.md, "curve"): its own certificate from cert (--cert, may be
    NULL) or else curve.client_secret_key_file or curve.secret_key_file, and the server's
    public key from curve.server_public_key_file; apply it with curve_connect() and free
    it with curve_destroy(). Otherwise *curve is NULL. cert is refused without a
    configuration that enables CURVE.

    Returns 0 with *out set (a new string the caller frees), or the exit code to return
    after printing the reason on stderr: 2 (usage), 78 (configuration, a certificate that
    cannot be loaded) or 1; *out and *curve are then NULL. */
int endpoint_resolve(const char *cmd, const char *endpoint, const char *config, const char *cert,
                     endpoint_kind_t kind, char **out, curve_t **curve);

#endif
