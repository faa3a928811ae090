/*  decnet_gen.h - observations written as DECNET log lines: the DECNET-format twin of a
    generated corpus (`cadre gen --format decnet`, docs/decnet.md §5).

    Each observation becomes the lines DECNET's sniffer, ssh (auth-helper, bash, ssh
    file_captured, sessrec), http (Flask request, Caddy http_access) and smb services would
    have logged for it: a session with commands, a payload or a C2 is an SSH session, one
    with credentials only an SSH login or HTTP Basic requests, an empty one an HTTP request
    or an SMB connection. What DECNET's lines cannot carry rides in cadre's own SD element
    [cadre@32473 ...] (ignored by DECNET's parsers): each session line names its session id
    and phase, and one line per observation its truth labels. decnet_gen_view() gives the
    observation `cadre ingest decnet` reads back from those lines, so tests can compare them.

    Lines are buffered and written in time order (stable: same-time lines keep the order they
    were made in) by decnet_gen_flush(); the deckies named so far, with a cosmetic hostname
    and an address each, form the state file (decnet_gen_state) that maps auth-helper lines
    back to their decky.
*/
#ifndef CADRE_DECNET_GEN_H
#define CADRE_DECNET_GEN_H

#include "obs.h"

#include <stdint.h>
#include <stdio.h>

typedef struct decnet_gen_t decnet_gen_t;

/*  Creates a writer with an empty line buffer and decky table. Never returns NULL. */
decnet_gen_t *decnet_gen_new(void);
/*  Frees the writer (lines not flushed are lost) and NULLs *self_p. NULL is a no-op. */
void decnet_gen_destroy(decnet_gen_t **self_p);

/*  Renders obs as DECNET lines into the buffer. copy is the --replicate copy number: copy 0
    keeps the observation's address, copy k >= 1 gets the IPv6 address 2001:db8:<k>::<the
    IPv4 address> (copies of one record never share an address; docs/decnet.md §5). */
void decnet_gen_add(decnet_gen_t *self, const obs_t *obs, uint64_t copy);
/*  Writes the buffered lines to out in time order and empties the buffer. Returns 0, or
    -errno when writing failed. */
int decnet_gen_flush(decnet_gen_t *self, FILE *out);
/*  The state file naming every decky rendered so far (name, cosmetic hostname, address,
    services), as decnet_load_state() reads it: a new buffer (*out_p, *len_p). Returns 0. */
int decnet_gen_state(const decnet_gen_t *self, char **out_p, size_t *len_p);

/*  The observation `cadre ingest decnet --decnet-state` builds from the lines
    decnet_gen_add(obs, copy) renders (docs/decnet.md §5): id "decnet:<address>", no ASN,
    HASSH or keystroke hash, the fingerprints the lines carry, sessions in start order with
    the C2 host the rendered commands name. Owned. */
obs_t *decnet_gen_view(const obs_t *obs, uint64_t copy);

#endif
