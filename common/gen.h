/*  gen.h - the synthetic corpus generator (SPEC §8, R§8.4).

    Turns a loaded DSL corpus and an integer seed into observation records, bit-exact with
    DECNET's factory: the same ids, IPs, times, deckies and sessions for the same spec and
    seed. Records are handed to a sink in output order (attackers by campaign, actor, row,
    then noise scanners), each carrying its truth labels.

    Replication (cadre extension, for benchmarks): copy k of a record gets "#r<k>" appended to
    its ids, fingerprints, payloads, C2s, deckies and truth labels and its kd_simhash XORed
    with a per-copy mask, so copies never share a signal; copy 0 is the record unchanged.
*/
#ifndef CADRE_GEN_H
#define CADRE_GEN_H

#include "dsl.h"
#include "obs.h"

#include <stdbool.h>
#include <stdint.h>

/*  Receives one generated record (borrowed: valid only during the call). Returns 0 to go
    on, or a negative code to stop generation with that code. */
typedef int (*gen_sink_fn)(const obs_t *obs, void *arg);

/*  The generator's epoch T0 = 2026-01-01T00:00:00Z. */
#define GEN_T0 1767225600.0

/*  Generates the corpus with seed (negative seeds behave as Python's, i.e. as |seed|).
    Returns 0, or the first non-zero sink return value. */
int gen_run(const dsl_corpus_t *corpus, int64_t seed, gen_sink_fn sink, void *arg);
/*  Rewrites obs in place into copy number copy of itself (see above). copy 0 is a no-op. */
void gen_replicate(obs_t *obs, uint64_t copy);

#endif
