/*  shard.h - the shard role: one slice of the identity layer's blocking keys
    (docs/protocol.md §5-§6).

    A shard applies the KEYS entries the broker routes to it into its LMDB store, reports
    generic-status changes of its keys at each barrier (GENERIC), applies the broker's
    COMMIT, and sends the merger the spanning forests of the blocks that changed (FORESTS,
    DONE). One reactor per shard; embedded mode runs it as a zactor (shard_actor).
*/
#ifndef CADRE_SHARD_H
#define CADRE_SHARD_H

#include "cfg.h"
#include "sig.h"

#include <czmq.h>
#include <stdint.h>

typedef struct shard_t shard_t;

/*  Arguments of the embedded actor. */
typedef struct {
    const cfg_t *cfg; /* configuration (borrowed) */
    uint32_t id;      /* shard id, 0 .. shards-1 */
} shard_args_t;

/*  Opens the store under cfg->data_dir/shard-<id> and connects to the broker's backend and
    the merger's shard socket. NULL (logged) on failure. cfg is borrowed. */
shard_t *shard_new(const cfg_t *cfg, uint32_t id);
void shard_destroy(shard_t **self_p);
/*  Runs the reactor until TERM/INT (sig), "$TERM" on pipe, or DISCONNECT from the broker.
    Returns 0, or negative on a fatal storage error. */
int shard_run(shard_t *self, zsock_t *pipe, sigev_t *sig);
/*  zactor body: args is a shard_args_t *. */
void shard_actor(zsock_t *pipe, void *args);
/*  The role's name, for logs and usage lines. */
const char *shard_role_name(void);

#endif
