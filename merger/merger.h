/*  merger.h - the merger role: the single writer of ids (docs/protocol.md §6, SPEC §5-§7).

    It receives every journaled record from the broker and every changed block forest from
    the shards; at each barrier it composes the identity partition from the forests, runs the
    lifecycle and the campaign layer (merger_state.h), publishes the events on its PUB socket,
    and reports RECONCILED to the broker. Embedded mode runs it as a zactor (merger_actor),
    which also answers "SUMMARY" and "DUMP" requests on its pipe for `cadre run`.
*/
#ifndef CADRE_MERGER_H
#define CADRE_MERGER_H

#include "cfg.h"
#include "sig.h"

#include <czmq.h>

typedef struct merger_t merger_t;

/*  Binds the shard, event and query sockets and connects to the broker. NULL (logged) on
    failure. cfg is borrowed. */
merger_t *merger_new(const cfg_t *cfg);
void merger_destroy(merger_t **self_p);
/*  Runs the reactor until TERM/INT (sig), "$TERM" on pipe or DISCONNECT from the broker. */
int merger_run(merger_t *self, zsock_t *pipe, sigev_t *sig);
/*  zactor body: args is the const cfg_t *. Pipe requests (string frames):
    "SUMMARY" -> one string frame with the human summary;
    "DUMP" assignments identities campaigns format -> writes the files ("" = skip), replies
    "OK" or an error text. */
void merger_actor(zsock_t *pipe, void *args);
/*  The role's name, for logs and usage lines. */
const char *merger_role_name(void);

#endif
