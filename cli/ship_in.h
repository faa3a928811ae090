/*  ship_in.h - the input kinds of `cadre ship`: how the records of one log file become
    observations (docs/ship.md, "Inputs").

    A kind is a small function table. The shipper opens one instance per file it reads and
    hands it the file's records in order (feed); a kind that builds observations from many
    records (the log adapters) keeps them until the shipper cuts the file, then emits what
    it has as one part (cut), after which it holds nothing: every cut is a clean boundary,
    so a restart can begin at any acknowledged cut. A kind whose records are observations
    already (obs) emits each one as it is fed and has no cut.

    A third adapter plugs in with one more row of the table in ship_in.c: its framing, its
    open / feed / cut / close, and whether its session ids are unique across parts (when
    not, the shipper suffixes every session id of a part with the part's tag).
*/
#ifndef CADRE_CLI_SHIP_IN_H
#define CADRE_CLI_SHIP_IN_H

#include "cowrie.h"
#include "decnet.h"
#include "obs.h"
#include "ship_file.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Receives one observation (borrowed for the call). Returns 0, or a nonzero code that
    stops the emitting call, which returns it. */
typedef int (*ship_emit_fn)(const obs_t *obs, void *arg);

/*  What the command line asked of the inputs. A plain value; zero is the default. */
typedef struct {
    cowrie_group_t group;     /* Cowrie grouping (--group) */
    const char *decky;        /* the sensor of events that carry none (--decky), borrowed */
    bool op_append;           /* obs: upserts become appends (--op append) */
    double session_gap;       /* DECNET: largest gap within a session, s (0: the default) */
    const char *decnet_state; /* DECNET: the state file's text (--decnet-state), borrowed,
                                 checked already; NULL: none */
    size_t decnet_state_len;  /* its length */
} ship_in_opts_t;

/*  One input kind. Static data. */
typedef struct {
    const char *name;   /* its --input name */
    bool detect;        /* the framing is detected per file (JSON Lines or MessagePack) */
    ship_frame_t frame; /* else the framing of its files */
    size_t max_len;     /* longest record accepted, bytes */
    bool parts;         /* emits at cuts (stateful); false: each record as it is fed */
    bool unique_ids;    /* its session ids never repeat across parts (no suffix needed) */
    /*  A new instance for one file (never NULL); opts is borrowed for its lifetime. */
    void *(*open)(const ship_in_opts_t *opts);
    /*  Feeds one record (len bytes; data NULL for a record too long to hand over). no is
        its record number in the file (for messages). Returns 0 when it was used or
        deliberately ignored, CADRE_ERECORD when it is bad (why gets the reason, whylen
        bytes), or the first nonzero code of emit. */
    int (*feed)(void *st, const char *data, size_t len, uint64_t no, ship_emit_fn emit, void *arg,
                char *why, size_t whylen);
    /*  Emits everything held as one part named tag (see cowrie_set_part); NULL for kinds
        without parts. Returns 0 or the first nonzero code of emit. */
    int (*cut)(void *st, const char *tag, ship_emit_fn emit, void *arg);
    /*  Frees the instance and NULLs *st_p. */
    void (*close)(void **st_p);
} ship_in_t;

/*  The kind named name, or NULL. */
const ship_in_t *ship_in_find(const char *name);
/*  The names of every kind, for usage lines ("cowrie|obs|decnet"; static). */
const char *ship_in_names(void);

#endif
