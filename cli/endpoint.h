/*  endpoint.h - which engine socket a client command connects to: the one named with
    --endpoint, or the one the deployment's configuration file (--config) binds. Shared by
    `cadre send`, `cadre sub` and `cadre query`.
*/
#ifndef CADRE_CLI_ENDPOINT_H
#define CADRE_CLI_ENDPOINT_H

/*  The engine sockets clients use (docs/protocol.md §3). */
typedef enum {
    ENDPOINT_INGEST = 0, /* the broker's ingest ROUTER: SUBMIT, FLUSH */
    ENDPOINT_EVENTS,     /* the merger's events PUB */
    ENDPOINT_QUERY,      /* the merger's query ROUTER: QUERY */
} endpoint_kind_t;

/*  Resolves the endpoint: endpoint when not NULL, else the configuration file's socket of
    that kind. Exactly one of endpoint and config must be given, and an inproc:// endpoint
    is refused (it exists only inside one process, `cadre run`). cmd names the command in
    messages. Returns 0 with *out set (a new string the caller frees), or the exit code to
    return after printing the reason on stderr: 2 (usage), 78 (configuration) or 1. */
int endpoint_resolve(const char *cmd, const char *endpoint, const char *config,
                     endpoint_kind_t kind, char **out);

#endif
