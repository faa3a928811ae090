/*  merger_query.h - answers the merger's QUERY messages (docs/protocol.md §9) from the
    engine's state.

    The reactor (merger.c) owns the socket and the framing; this module turns one QUERY body
    into one REPLY body. It keeps what makes paging and look-ups cheap on a large state: the
    live observations in input order (rebuilt only when the state changed since the last
    page) and an index from identity and campaign ids to their record indexes (extended as
    ids are formed; ids are never forgotten). Records are rendered with the same encoders as
    the files `cadre cluster` writes, so clients print exactly those bytes.
*/
#ifndef CADRE_MERGER_QUERY_H
#define CADRE_MERGER_QUERY_H

#include "cluster.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

#define MERGER_QUERY_LIMIT 1000      /* items per page when the query sets no limit */
#define MERGER_QUERY_MAX_LIMIT 10000 /* most items per page, whatever the query asks */

typedef struct merger_query_t merger_query_t;

/*  A new, empty answerer. Never returns NULL. */
merger_query_t *merger_query_new(void);
/*  Frees it and NULLs *self_p; NULL is a no-op. */
void merger_query_destroy(merger_query_t **self_p);

/*  Answers the QUERY body (len bytes at body) about c, appending the REPLY body to out.
    health is the health report's JSON text (borrowed), the answer to {what: "health"}.
    version must change whenever c changed since the previous call (the merger passes the
    sum of its applied and reconciled sequence numbers, both non-decreasing). Returns
      0             answered: out holds the result, or {error} for a well-formed question
                    without an answer (an unknown id);
      CADRE_EPROTO  a malformed query (undecodable body, unknown `what`, missing `id`):
                    out holds {error: reason} and err (errlen bytes) the reason for the log. */
int merger_query_answer(merger_query_t *self, const cluster_t *c, uint64_t version,
                        const char *health, const void *body, size_t len, wire_buf_t *out,
                        char *err, size_t errlen);

#endif
