/*  merger_state.h - the merger's model: the one-process engine (core/cluster.h) fed with the
    journaled records, plus the latest spanning forest of every block as the shards report
    them. At a barrier the identity partition is the connected components of all forests;
    everything after it (lifecycle, campaign layer, events) is the engine's own code, which
    is what makes every deployment give the same ids and events as `cadre cluster`.
*/
#ifndef CADRE_MERGER_STATE_H
#define CADRE_MERGER_STATE_H

#include "ccfg.h"
#include "cluster.h"
#include "wire_msg.h"

#include <stdint.h>

typedef struct merger_state_t merger_state_t;

/*  A new, empty model. Never returns NULL. */
merger_state_t *merger_state_new(const ccfg_t *cfg, const char *deployment);
void merger_state_destroy(merger_state_t **self_p);
/*  Applies one journaled record (its MessagePack bytes). Returns 0, or CADRE_ERECORD when the
    bytes do not decode (the broker validated them, so this means corruption; logged). */
int merger_state_apply_record(merger_state_t *self, const char *bytes, size_t len);
/*  Replaces the forests of the blocks in body. Observation ids an edge names must have been
    applied (the merger applies every record up to a barrier before its forests); an unknown
    id makes the edge count as missing and is returned as CADRE_EPROTO after the rest. */
int merger_state_apply_forests(merger_state_t *self, const wmsg_forests_t *body);
/*  Reconciles: components of all forests as the identity partition, then the engine. */
int merger_state_reconcile(merger_state_t *self, cluster_event_fn fn, void *arg);
/*  The engine (borrowed), for queries and summaries. */
cluster_t *merger_state_cluster(merger_state_t *self);

#endif
