/*  cmd_ship.c - `cadre ship`: follows log files like `tail -F` and feeds a running engine
    with what they gain, losing nothing across restarts of the shipper or outages of the
    broker (docs/ship.md).

    Every file is a unit: the file as identified by device, inode and the fingerprint of its
    first bytes, with its reader, its input instance (ship_in.h) and its progress. Records
    are fed to the input as they are read; a log adapter emits at cuts, positions the
    shipper picks (the file went quiet, the oldest record waited long enough, enough records
    piled up, the file ended), each cut emitting everything fed since the previous one as
    one part, sent as appends. A cut is written to the state file (ship_state.h) before its
    records are sent, so a restart cuts at the same positions and sends the same parts,
    which the engine recognises (an append that brings nothing new is no input). Once every
    record of a cut is acknowledged (ACK: on disk in the broker's journal), the unit's commit
    moves to the cut, and a restart resumes there.

    Followed paths are checked every poll: a new inode at the path is a rename rotation (the
    old file is read to its end, then finished), a file shorter than what was read or whose
    first bytes changed was truncated in place (copytruncate: the rest is read from the copy
    among the path's siblings with the same first bytes). One reactor: the loop reads,
    cuts, sends, then waits on the broker's replies for at most a poll period.

    With --listen-syslog the shipper is also the master's syslog-over-TLS listener
    (syslog_tls.h): each turn first takes what DECNET's forwarders sent (unless the window is
    full: then nothing is read and TCP holds the forwarders back), writes it to one spool file
    per worker (ship_spool.h) and fsyncs it, and the spool files are followed like the files
    of the command line, so every guarantee of the file route holds from the spool on. A
    spool renamed away at its size limit is read to its end and deleted once acknowledged.
*/
#include "cmds.h"
#include "endpoint.h"
#include "err.h"
#include "feeder.h"
#include "jsonio.h"
#include "log.h"
#include "sdnotify.h"
#include "ship_file.h"
#include "ship_in.h"
#include "ship_spool.h"
#include "ship_state.h"
#include "sig.h"
#include "syslog_tls.h"
#include "xalloc.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define S_WINDOW 1000          /* default submissions in flight */
#define S_MAX_WINDOW 5000      /* largest --window (as cadre send) */
#define S_POLL_MS 50           /* default --poll-ms */
#define S_IDLE_MS 100          /* default --idle-ms */
#define S_MAX_DELAY_MS 250     /* default --max-delay-ms */
#define S_MAX_BATCH 20000      /* default --max-batch */
#define S_ROTATE_WAIT_MS 10000 /* default --rotate-wait-ms */
#define S_TIMEOUT_MS 60000     /* default --timeout-ms (--once: the final flush) */
#define S_DRAIN_MS 5000        /* on TERM: longest wait for what is in flight */
#define S_SAVE_MS 1000         /* commits moved: the state is saved at least this often */
#define S_REPORTED 20          /* bad records printed in full */
#define S_MAX_MS 86400000      /* largest value of a millisecond option */
/* Largest --max-frame: an escaped message (at most twice as long) with its worker name is
   still one line the DECNET input takes. */
#define S_MAX_FRAME ((DECNET_MAX_LINE - SYSLOG_TLS_MAX_WORKER - 2) / 2)

/*  Options of one run. */
typedef struct {
    const char *endpoint;     /* --endpoint, or NULL */
    const char *config;       /* --config, or NULL */
    const char *cert;         /* --cert, or NULL */
    const char *state;        /* --state DIR, or NULL */
    const char *tee;          /* --tee FILE, or NULL */
    const char *decnet_state; /* --decnet-state FILE, or NULL */
    bool once;                /* --once */
    const ship_in_t *kind;    /* --input */
    ship_in_opts_t in;        /* input options */
    bool op_upsert;           /* --op upsert given */
    char decky[256];          /* --decky, default the host name */
    uint32_t window;          /* --window */
    int poll_ms;              /* --poll-ms */
    int idle_ms;              /* --idle-ms */
    int max_delay_ms;         /* --max-delay-ms */
    uint64_t max_batch;       /* --max-batch */
    int rotate_wait_ms;       /* --rotate-wait-ms */
    int timeout_ms;           /* --timeout-ms */
    char **paths;             /* files, borrowed from argv (then the spools, borrowed) */
    int n_paths;              /* their number */
    bool input_given;         /* --input was given */
    const char *listen;       /* --listen-syslog HOST:PORT, or NULL */
    syslog_tls_opts_t rx;     /* the receiver's options (strings borrowed from argv) */
    uint64_t spool_max;       /* --spool-max-bytes: a worker's spool rotates at this size */
} s_opts_t;

/*  One cut: an emission position past the unit's commit. */
typedef struct {
    uint64_t pos;      /* where the part ends */
    uint64_t line;     /* records before pos */
    uint64_t last_ref; /* the part's records have refs up to this one */
    bool sent;         /* emitted (false: replayed from the state, not reached yet) */
} s_cut_t;

/*  One file as the shipper reads it. */
typedef struct {
    ship_rec_t rec;        /* identity and acknowledged progress (rec.cuts unused) */
    ship_file_t *file;     /* the reader, or NULL (finished, or its data is gone) */
    void *in;              /* the input instance, or NULL once finished */
    bool frame_known;      /* the framing is decided (obs: after the first byte) */
    bool final;            /* will not grow: read to the end, cut, finish */
    bool gz;               /* a gzip file (read once) */
    bool eof;              /* the last read reached the end of the file */
    bool finished;         /* final, read to the end, last cut made */
    int64_t rotated_at;    /* when it was seen rotated away (zclock_mono), 0: not */
    int64_t last_data;     /* when a read last got records */
    int64_t pending_since; /* when the first record since the last cut was read, 0: none */
    uint64_t pending;      /* records fed since the last cut */
    uint64_t fed;          /* position after the last record fed */
    uint64_t line;         /* records fed before fed */
    uint64_t seg;          /* position of the last cut (start of the current part) */
    s_cut_t *cuts;         /* cuts past the commit, in order */
    size_t n_cuts;         /* their number */
    size_t cap;            /* slots in cuts */
    char *unlink_path;     /* a rotated spool: deleted once done (read, acknowledged), owned */
} s_unit_t;

/*  One followed path. */
typedef struct {
    const char *path; /* borrowed from argv or from the spool */
    s_unit_t *cur;    /* the unit of the file now at the path, or NULL */
    bool told;        /* "does not exist (yet)" was said */
} s_follow_t;

/*  The shipper. */
typedef struct {
    s_opts_t *o;                       /* options */
    feeder_t *fd;                      /* the broker client */
    sigev_t *sig;                      /* signals */
    bool stop;                         /* TERM or INT received */
    ship_state_t *state;               /* the state directory, or NULL */
    FILE *tee;                         /* --tee: every observation sent, as JSON Lines, or NULL */
    s_unit_t **units;                  /* every unit */
    size_t n_units;                    /* number */
    size_t cap_units;                  /* slots */
    s_follow_t *follows;               /* followed paths */
    size_t n_follows;                  /* number */
    size_t cap_follows;                /* slots */
    syslog_tls_t *rx;                  /* --listen-syslog: the receiver, or NULL */
    ship_spool_t *spool;               /* its spool (STATE/syslog), or NULL */
    bool *spool_followed;              /* per spool worker: its spool path is followed */
    size_t cap_spool_followed;         /* slots */
    bool spool_failing;                /* the last spool flush failed (receiving paused) */
    int64_t checked_at;                /* when the followed paths were last checked (0: due) */
    bool dirty;                        /* commits moved since the last save */
    int64_t saved_at;                  /* time of the last save */
    bool sent;                         /* records sent since the last FLUSH */
    s_unit_t *cutting;                 /* the unit whose part is being emitted */
    char tag[COWRIE_MAX_PART_TAG + 1]; /* the name of the part being emitted, or "" */
    uint64_t records;                  /* records read */
    uint64_t bad;                      /* bad records */
    uint64_t emitted;                  /* observations sent */
    uint64_t local_refused;            /* observations that could not be encoded */
    bool silent_told;                  /* "the broker does not answer" was said */
    bool failed;                       /* --once: the broker stopped answering */
    bool busy;                         /* a file has more to read at once (a backlog) */
} s_ship_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre ship (--endpoint E | --config FILE) [--state DIR] [--once]\n"
            "                  [--input %s] [--decky NAME] FILE...\n"
            "                  [--group ip|ip-sensor] [--op append|upsert] [--cert FILE]\n"
            "                  [--window N] [--poll-ms N] [--idle-ms N] [--max-delay-ms N]\n"
            "                  [--max-batch N] [--rotate-wait-ms N] [--timeout-ms T]\n"
            "                  [--tee FILE] [--decnet-state FILE] [--session-gap S]\n"
            "       cadre ship (--endpoint E | --config FILE) --state DIR\n"
            "                  --listen-syslog HOST:PORT --tls-ca FILE --tls-cert FILE\n"
            "                  --tls-key FILE [--max-frame BYTES] [--max-conns N]\n"
            "                  [--syslog-idle-ms MS] [--handshake-ms MS]\n"
            "                  [--spool-max-bytes N] [options above] [FILE...]\n\n"
            "Follows log files like `tail -F` and feeds a running engine with what they gain,\n"
            "as appends (docs/ship.md). --input cowrie (default): Cowrie JSON logs through the\n"
            "Cowrie adapter; decnet: DECNET's RFC 5424 lines (or cadre syslog-recv's output)\n"
            "through the DECNET adapter (--decnet-state, --session-gap as cadre ingest decnet);\n"
            "obs: cadre observations (JSON Lines or MessagePack), sent as they\n"
            "are (--op append: upserts become appends). Rotation by rename and by copytruncate\n"
            "is followed; gzip files are read once. --state DIR keeps, per file, how far the\n"
            "engine has acknowledged it (DIR/offsets): a restart resumes there and loses\n"
            "nothing. --decky NAME is the sensor of events that carry none (default: this\n"
            "host's name). A file's new records are emitted once it has been quiet for\n"
            "--idle-ms (%d), its oldest unsent record has waited --max-delay-ms (%d), or\n"
            "--max-batch (%d) records are waiting. --once reads every file to its end,\n"
            "flushes and exits (exit 1 when the broker stays silent for --timeout-ms, %d).\n"
            "TERM or INT stops it: what is in flight is waited for (5 s), the state saved.\n"
            "--tee FILE appends every observation sent to FILE as JSON Lines (an audit\n"
            "trail; a part sent again after a restart is written again).\n"
            "--listen-syslog HOST:PORT takes the place of DECNET's SWARM listener (implies\n"
            "--input decnet): forwarders connect with certificates of --tls-ca, each message\n"
            "is written to DIR/syslog/<worker CN>.log (as cadre syslog-recv writes it) and\n"
            "fsync'd, and those files are followed like the FILEs. PORT 0 takes a free port;\n"
            "'cadre ship: listening on ADDR:PORT' is printed. A spool is renamed away at\n"
            "--spool-max-bytes (%u) and deleted once read and acknowledged. Receiver limits\n"
            "as cadre syslog-recv's --max-frame (%d, at most %d), --max-conns (%d),\n"
            "--idle-ms (here --syslog-idle-ms, %d; -1 never) and --handshake-ms (%d).\n",
            ship_in_names(), S_IDLE_MS, S_MAX_DELAY_MS, S_MAX_BATCH, S_TIMEOUT_MS,
            SHIP_SPOOL_MAX_BYTES, SYSLOG_TLS_MAX_FRAME, S_MAX_FRAME, SYSLOG_TLS_MAX_CONNS,
            SYSLOG_TLS_IDLE_MS, SYSLOG_TLS_HANDSHAKE_MS);
}

/*  Parses a decimal integer in [min, max]; false when it is not one. */
static bool
s_int(const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/*  Returns 0, 1 after --help, or a negative exit code. */
static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){.window = S_WINDOW,
                    .poll_ms = S_POLL_MS,
                    .idle_ms = S_IDLE_MS,
                    .max_delay_ms = S_MAX_DELAY_MS,
                    .max_batch = S_MAX_BATCH,
                    .rotate_wait_ms = S_ROTATE_WAIT_MS,
                    .timeout_ms = S_TIMEOUT_MS,
                    .spool_max = SHIP_SPOOL_MAX_BYTES,
                    .kind = ship_in_find("cowrie")};
    o->paths = xcalloc((size_t)argc + 1, sizeof *o->paths);
    if (gethostname(o->decky, sizeof o->decky - 1) != 0 || !o->decky[0]) {
        snprintf(o->decky, sizeof o->decky, "localhost");
    }
    const char *decky = NULL;
    static const struct {
        const char *name; /* option */
        long long max;    /* largest value */
        size_t at;        /* offset of its int field in s_opts_t */
    } ms_opts[] = {
        {"--poll-ms", 10000, offsetof(s_opts_t, poll_ms)},
        {"--idle-ms", S_MAX_MS, offsetof(s_opts_t, idle_ms)},
        {"--max-delay-ms", S_MAX_MS, offsetof(s_opts_t, max_delay_ms)},
        {"--rotate-wait-ms", S_MAX_MS, offsetof(s_opts_t, rotate_wait_ms)},
        {"--timeout-ms", S_MAX_MS, offsetof(s_opts_t, timeout_ms)},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        long long n = 0;
        bool ms = false;
        for (size_t k = 0; k < sizeof ms_opts / sizeof ms_opts[0] && !ms; k++) {
            if (strcmp(a, ms_opts[k].name) == 0 && v) {
                ms = true;
                if (!s_int(argv[++i], 1, ms_opts[k].max, &n)) {
                    fprintf(stderr, "cadre ship: %s wants 1..%lld\n", a, ms_opts[k].max);
                    return -CLI_EX_USAGE;
                }
                *(int *)((char *)o + ms_opts[k].at) = (int)n;
            }
        }
        if (ms) {
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(a, "--endpoint") == 0 && v) {
            o->endpoint = argv[++i];
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = argv[++i];
        } else if (strcmp(a, "--cert") == 0 && v) {
            o->cert = argv[++i];
        } else if (strcmp(a, "--state") == 0 && v) {
            o->state = argv[++i];
        } else if (strcmp(a, "--decnet-state") == 0 && v) {
            o->decnet_state = argv[++i];
        } else if (strcmp(a, "--session-gap") == 0 && v) {
            char *end = NULL;
            double g = strtod(argv[++i], &end);
            if (!*argv[i] || *end || !(g > 0) || g > 1e9) {
                fprintf(stderr, "cadre ship: --session-gap wants a number of seconds > 0\n");
                return -CLI_EX_USAGE;
            }
            o->in.session_gap = g;
        } else if (strcmp(a, "--tee") == 0 && v) {
            o->tee = argv[++i];
        } else if (strcmp(a, "--decky") == 0 && v) {
            decky = argv[++i];
        } else if (strcmp(a, "--once") == 0) {
            o->once = true;
        } else if (strcmp(a, "--listen-syslog") == 0 && v) {
            o->listen = argv[++i];
        } else if (strcmp(a, "--tls-ca") == 0 && v) {
            o->rx.ca_file = argv[++i];
        } else if (strcmp(a, "--tls-cert") == 0 && v) {
            o->rx.cert_file = argv[++i];
        } else if (strcmp(a, "--tls-key") == 0 && v) {
            o->rx.key_file = argv[++i];
        } else if (strcmp(a, "--max-frame") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_FRAME, &n)) {
                fprintf(stderr, "cadre ship: --max-frame wants 1..%d\n", S_MAX_FRAME);
                return -CLI_EX_USAGE;
            }
            o->rx.max_frame = (size_t)n;
        } else if (strcmp(a, "--max-conns") == 0 && v) {
            if (!s_int(argv[++i], 1, 1000000, &n)) {
                fprintf(stderr, "cadre ship: --max-conns wants 1..1000000\n");
                return -CLI_EX_USAGE;
            }
            o->rx.max_conns = (uint32_t)n;
        } else if (strcmp(a, "--syslog-idle-ms") == 0 && v) {
            if (!s_int(argv[++i], -1, S_MAX_MS, &n) || n == 0) {
                fprintf(stderr, "cadre ship: --syslog-idle-ms wants -1 or 1..%d\n", S_MAX_MS);
                return -CLI_EX_USAGE;
            }
            o->rx.idle_ms = (int)n;
        } else if (strcmp(a, "--handshake-ms") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_MS, &n)) {
                fprintf(stderr, "cadre ship: --handshake-ms wants 1..%d\n", S_MAX_MS);
                return -CLI_EX_USAGE;
            }
            o->rx.handshake_ms = (int)n;
        } else if (strcmp(a, "--spool-max-bytes") == 0 && v) {
            if (!s_int(argv[++i], 1, 1LL << 40, &n)) {
                fprintf(stderr, "cadre ship: --spool-max-bytes wants 1..%lld\n", 1LL << 40);
                return -CLI_EX_USAGE;
            }
            o->spool_max = (uint64_t)n;
        } else if (strcmp(a, "--input") == 0 && v) {
            o->input_given = true;
            o->kind = ship_in_find(argv[++i]);
            if (!o->kind) {
                fprintf(stderr, "cadre ship: --input wants %s, not '%s'\n", ship_in_names(),
                        argv[i]);
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--group") == 0 && v) {
            const char *g = argv[++i];
            if (strcmp(g, "ip") != 0 && strcmp(g, "ip-sensor") != 0) {
                fprintf(stderr, "cadre ship: --group wants ip or ip-sensor, not '%s'\n", g);
                return -CLI_EX_USAGE;
            }
            o->in.group = strcmp(g, "ip") == 0 ? COWRIE_GROUP_IP : COWRIE_GROUP_IP_SENSOR;
        } else if (strcmp(a, "--op") == 0 && v) {
            const char *op = argv[++i];
            if (strcmp(op, "append") != 0 && strcmp(op, "upsert") != 0) {
                fprintf(stderr, "cadre ship: --op wants append or upsert, not '%s'\n", op);
                return -CLI_EX_USAGE;
            }
            o->in.op_append = strcmp(op, "append") == 0;
            o->op_upsert = !o->in.op_append;
        } else if (strcmp(a, "--window") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_WINDOW, &n)) {
                fprintf(stderr, "cadre ship: --window wants 1..%d\n", S_MAX_WINDOW);
                return -CLI_EX_USAGE;
            }
            o->window = (uint32_t)n;
        } else if (strcmp(a, "--max-batch") == 0 && v) {
            if (!s_int(argv[++i], 1, 1000000, &n)) {
                fprintf(stderr, "cadre ship: --max-batch wants 1..1000000\n");
                return -CLI_EX_USAGE;
            }
            o->max_batch = (uint64_t)n;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre ship: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        } else {
            o->paths[o->n_paths++] = argv[i];
        }
    }
    if (o->listen) {
        const ship_in_t *decnet = ship_in_find("decnet");
        if (o->input_given && o->kind != decnet) {
            fprintf(stderr,
                    "cadre ship: --listen-syslog receives DECNET's lines: --input decnet\n");
            return -CLI_EX_USAGE;
        }
        o->kind = decnet;
        if (!o->state || o->once) {
            fprintf(stderr, "cadre ship: --listen-syslog wants --state DIR (its spool lives "
                            "there) and no --once\n");
            return -CLI_EX_USAGE;
        }
        if (!o->rx.ca_file || !o->rx.cert_file || !o->rx.key_file) {
            fprintf(stderr, "cadre ship: --listen-syslog wants --tls-ca, --tls-cert and "
                            "--tls-key\n");
            return -CLI_EX_USAGE;
        }
        o->rx.listen = o->listen;
    } else if (o->rx.ca_file || o->rx.cert_file || o->rx.key_file || o->rx.max_frame ||
               o->rx.max_conns || o->rx.idle_ms || o->rx.handshake_ms) {
        fprintf(stderr, "cadre ship: the --tls-*, --max-frame, --max-conns, --syslog-idle-ms "
                        "and --handshake-ms options go with --listen-syslog\n");
        return -CLI_EX_USAGE;
    }
    if (o->n_paths == 0 && !o->listen) {
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    if (o->op_upsert && o->kind->parts) {
        fprintf(stderr,
                "cadre ship: --input %s sends appends only (its parts of one source "
                "must add up), --op upsert is for --input obs\n",
                o->kind->name);
        return -CLI_EX_USAGE;
    }
    if (decky) {
        if (!decky[0] || strlen(decky) >= sizeof o->decky) {
            fprintf(stderr, "cadre ship: --decky wants a name of 1..%zu bytes\n",
                    sizeof o->decky - 1);
            return -CLI_EX_USAGE;
        }
        snprintf(o->decky, sizeof o->decky, "%s", decky);
    }
    o->in.decky = o->decky;
    return 0;
}

/* -------------------------------------------------------------------------------------------
    Units */

/*  Fixes the unit's fingerprint from its file's first bytes once it has any. */
static void
s_fix_fp(s_unit_t *u)
{
    if (u->rec.fp_len > 0 || !u->file) {
        return;
    }
    char head[SHIP_FP_MAX];
    long n = ship_file_head(u->file, head, SHIP_FP_MAX);
    if (n > 0) {
        u->rec.fp_len = (uint32_t)n;
        u->rec.fp = XXH64(head, (size_t)n, 0);
    }
}

/*  True when file f holds the unit's data: its first fp_len bytes hash to fp. */
static bool
s_fp_matches(ship_file_t *f, const ship_rec_t *rec)
{
    uint64_t fp = 0;
    return rec->fp_len == 0 || (ship_file_fp(f, rec->fp_len, &fp) && fp == rec->fp);
}

/*  Decides the framing of the unit's file from its first byte when the kind's framing is
    detected (obs: JSON Lines unless it starts like MessagePack, as obs_stream does). False
    while the file is empty. */
static bool
s_frame_known(s_ship_t *sh, s_unit_t *u)
{
    if (u->frame_known || !u->file) {
        return u->frame_known;
    }
    unsigned char c = 0;
    if (!sh->o->kind->detect) {
        u->frame_known = true;
    } else if (ship_file_head(u->file, (char *)&c, 1) == 1) {
        u->frame_known = true;
        if (c >= 0x80 && c != 0xef) {
            ship_file_set_frame(u->file, SHIP_FRAME_MSGPACK);
        }
    }
    return u->frame_known;
}

/*  Opens path with the kind's framing (obs: decided later, s_frame_known). */
static ship_file_t *
s_open(s_ship_t *sh, const char *path)
{
    const ship_in_t *k = sh->o->kind;
    return ship_file_open(path, k->frame, k->max_len);
}

/*  Adds a unit for rec (taken over) read through file (taken over; may be NULL), resuming
    at rec.commit and replaying its cuts. */
static s_unit_t *
s_unit_add(s_ship_t *sh, ship_rec_t *rec, ship_file_t *file)
{
    s_unit_t *u = xcalloc(1, sizeof *u);
    u->rec = *rec;
    memset(rec, 0, sizeof *rec);
    if (sh->o->kind->parts) {
        for (size_t i = 0; i < u->rec.n_cuts; i++) {
            xgrow(&u->cuts, &u->cap, u->n_cuts + 1);
            u->cuts[u->n_cuts++] = (s_cut_t){.pos = u->rec.cuts[i]};
        }
    }
    free(u->rec.cuts);
    u->rec.cuts = NULL;
    u->rec.n_cuts = 0;
    u->fed = u->seg = u->rec.commit;
    u->line = u->rec.line;
    u->file = file;
    if (file && u->rec.done) {
        ship_file_destroy(&u->file); /* nothing more to read */
    }
    if (u->file) {
        u->gz = ship_file_gz(file);
        u->final = u->gz;
        if (u->rec.dev == 0 && u->rec.ino == 0) {
            /* A new file. A record read on from a copy keeps the original's identity, so
               that the original, while it exists, is still known as itself. */
            u->rec.dev = ship_file_dev(file);
            u->rec.ino = ship_file_ino(file);
        }
        s_frame_known(sh, u);
        int rc = ship_file_seek(file, u->rec.commit);
        if (rc != 0) {
            log_warn("%s: cannot resume at byte %" PRIu64 " (%s): its data is gone",
                     ship_file_path(file), u->rec.commit, cadre_strerror(rc));
            ship_file_destroy(&u->file);
            u->final = true;
        }
        s_fix_fp(u);
    }
    if (!u->rec.done) {
        u->in = sh->o->kind->open(&sh->o->in);
    }
    xgrow(&sh->units, &sh->cap_units, sh->n_units + 1);
    sh->units[sh->n_units++] = u;
    sh->dirty = true;
    return u;
}

static void
s_unit_free(s_unit_t *u)
{
    ship_file_destroy(&u->file);
    ship_rec_clear(&u->rec);
    free(u->cuts);
    free(u->unlink_path);
    free(u);
}

/*  Frees the units marked in gone (one flag per unit) and closes the gaps; a followed path
    whose unit is gone has none. */
static void
s_units_drop(s_ship_t *sh, const bool *gone)
{
    size_t k = 0;
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (!gone[i]) {
            sh->units[k++] = u;
            continue;
        }
        for (size_t j = 0; j < sh->n_follows; j++) {
            if (sh->follows[j].cur == u) {
                sh->follows[j].cur = NULL;
            }
        }
        s_unit_free(u);
        sh->dirty = true;
    }
    sh->n_units = k;
}

/*  Follows path (borrowed for the run) from now on. Returns its follow. */
static s_follow_t *
s_follow_add(s_ship_t *sh, const char *path)
{
    xgrow(&sh->follows, &sh->cap_follows, sh->n_follows + 1);
    s_follow_t *f = &sh->follows[sh->n_follows++];
    *f = (s_follow_t){.path = path};
    return f;
}

/*  The unit whose file is (dev, ino), or NULL. */
static s_unit_t *
s_unit_by_inode(s_ship_t *sh, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (u->file && u->rec.dev == dev && u->rec.ino == ino) {
            return u;
        }
    }
    return NULL;
}

/*  The unit that read file before (the same inode and first bytes), or NULL. A unit that
    never read a byte (no fingerprint) knows no file: its inode may be another file's now. */
static s_unit_t *
s_known(s_ship_t *sh, ship_file_t *file)
{
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (u->rec.fp_len > 0 && u->rec.dev == ship_file_dev(file) &&
            u->rec.ino == ship_file_ino(file) && s_fp_matches(file, &u->rec)) {
            return u;
        }
    }
    return NULL;
}

/*  Finds where rec's data is now among the siblings of rec.path (the names in its
    directory that start with its name: cowrie.json.1, cowrie.json.2024-04-01,
    decnet.log.1.gz...), rec.path included unless skip_path: the same inode with the same
    first bytes (renamed), else a file with the same first bytes (a copy, or compressed).
    Files other units read are skipped. Returns the open file (positioned at 0), or NULL. */
static ship_file_t *
s_find_moved(s_ship_t *sh, const ship_rec_t *rec, bool skip_path)
{
    if (rec->fp_len == 0) {
        return NULL;
    }
    char *dcopy = xstrdup(rec->path);
    char *bcopy = xstrdup(rec->path);
    const char *dir = dirname(dcopy);
    const char *base = basename(bcopy);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    ship_file_t *best = NULL;
    int best_rank = 0; /* 3 same inode, 2 plain copy, 1 gzip */
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && best_rank < 3) {
        if (strncmp(e->d_name, base, blen) != 0 || (skip_path && e->d_name[blen] == '\0')) {
            continue;
        }
        char *path = xasprintf("%s/%s", dir, e->d_name);
        ship_file_t *f = s_open(sh, path);
        free(path);
        if (!f) {
            continue;
        }
        int rank = 0;
        if (s_fp_matches(f, rec) && !s_unit_by_inode(sh, ship_file_dev(f), ship_file_ino(f))) {
            rank = ship_file_dev(f) == rec->dev && ship_file_ino(f) == rec->ino ? 3
                   : ship_file_gz(f)                                            ? 1
                                                                                : 2;
        }
        if (rank > best_rank) {
            ship_file_destroy(&best);
            best = f;
            best_rank = rank;
        } else {
            ship_file_destroy(&f);
        }
    }
    if (d) {
        closedir(d);
    }
    free(dcopy);
    free(bcopy);
    return best;
}

/* -------------------------------------------------------------------------------------------
    Sending */

/*  Submits one observation, waiting while the window is full; a silent broker is waited
    for as long as it takes (said once), unless TERM arrives. Returns 0, or -ECANCELED when
    the shipper is stopping. */
static int
s_submit(s_ship_t *sh, const obs_t *obs)
{
    if (sh->tee) {
        char *line = NULL;
        size_t len = 0;
        obs_error_t e;
        if (jsonio_obs_encode(obs, &line, &len, &e) == 0) {
            fwrite(line, 1, len, sh->tee);
            fputc('\n', sh->tee);
        }
        free(line);
    }
    int64_t since = zclock_mono();
    for (;;) {
        int rc = feeder_submit(sh->fd, obs, 1000);
        if (rc == 0) {
            sh->sent = true;
            sh->emitted++;
            return 0;
        }
        if (rc != -ETIMEDOUT) {
            /* The record breaks a rule of the wire encoder: nothing to send. */
            sh->local_refused++;
            log_warn("%s: an observation (%s) cannot be sent: %s",
                     sh->cutting ? sh->cutting->rec.path : "?", obs->id, cadre_strerror(rc));
            return 0;
        }
        if (sh->o->once && zclock_mono() - since >= sh->o->timeout_ms) {
            fprintf(stderr, "cadre ship: the broker stopped answering\n");
            sh->failed = true;
            sh->stop = true;
            return -ETIMEDOUT;
        }
        if (!sh->silent_told && !sh->o->once) {
            sh->silent_told = true;
            log_warn("the broker does not answer; waiting (nothing is dropped)");
        }
        int s = sig_take(sh->sig);
        if (s == SIGTERM || s == SIGINT || sig_stopping(sh->sig)) {
            sh->stop = true;
            return -ECANCELED;
        }
    }
}

/*  The emit function of the inputs: the record as it is for obs; for the log adapters an
    append whose sessions without a decky get --decky, and whose session ids are suffixed
    with the part's tag ("<id>@<tag>") when the kind's ids repeat across parts. */
static int
s_emit(const obs_t *obs, void *arg)
{
    s_ship_t *sh = arg;
    if (!sh->o->kind->parts) {
        return s_submit(sh, obs);
    }
    obs_t rec = *obs;
    rec.op = OBS_APPEND;
    bool rename = !sh->o->kind->unique_ids && sh->tag[0];
    bool decky = false;
    for (size_t i = 0; i < obs->n_sessions && !decky; i++) {
        decky = !obs->sessions[i].decky;
    }
    if (!rename && !decky) {
        return s_submit(sh, &rec);
    }
    /* Shallow copies of the sessions with their own id and decky strings. */
    obs_session_t *ss = xcalloc(obs->n_sessions + 1, sizeof *ss);
    char **ids = xcalloc(obs->n_sessions + 1, sizeof *ids);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        ss[i] = obs->sessions[i];
        if (rename) {
            ids[i] = xasprintf("%s@%s", ss[i].id ? ss[i].id : "", sh->tag);
            ss[i].id = ids[i];
        }
        if (!ss[i].decky) {
            ss[i].decky = sh->o->decky;
        }
    }
    rec.sessions = ss;
    rec.sessions_cap = 0;
    int rc = s_submit(sh, &rec);
    for (size_t i = 0; i < obs->n_sessions; i++) {
        free(ids[i]);
    }
    free(ids);
    free(ss);
    return rc;
}

/*  Emits the unit's cut c (cuts[i]): everything fed since the last cut, as one part
    named "<fp>:<start>". Returns 0 or -ECANCELED. */
static int
s_emit_cut(s_ship_t *sh, s_unit_t *u, size_t i)
{
    s_cut_t *c = &u->cuts[i];
    int rc = 0;
    if (sh->o->kind->cut) {
        char tag[COWRIE_MAX_PART_TAG + 1];
        snprintf(tag, sizeof tag, "%08" PRIx32 ":%" PRIu64, (uint32_t)u->rec.fp, u->seg);
        sh->cutting = u;
        snprintf(sh->tag, sizeof sh->tag, "%s", tag);
        rc = sh->o->kind->cut(u->in, tag, s_emit, sh);
        sh->cutting = NULL;
        sh->tag[0] = '\0';
    }
    if (sh->tee) {
        fflush(sh->tee); /* before any commit that counts on this part */
    }
    c->last_ref = feeder_last_ref(sh->fd);
    c->sent = rc == 0;
    u->seg = c->pos;
    u->pending = 0;
    u->pending_since = 0;
    return rc;
}

/*  The index of the unit's first cut not sent yet, or n_cuts. */
static size_t
s_next_replay(const s_unit_t *u)
{
    size_t i = 0;
    while (i < u->n_cuts && u->cuts[i].sent) {
        i++;
    }
    return i;
}

/* -------------------------------------------------------------------------------------------
    Reading */

/*  Reports a bad record (the first S_REPORTED in full). */
static void
s_bad(s_ship_t *sh, const s_unit_t *u, uint64_t no, const char *why)
{
    if (sh->bad++ < S_REPORTED) {
        log_warn("%s:%" PRIu64 ": %s", u->file ? ship_file_path(u->file) : u->rec.path, no, why);
    } else if (sh->bad == S_REPORTED + 1) {
        log_warn("more bad records are counted, not shown");
    }
}

/*  Reads and feeds what the unit's file has gained, up to --max-batch records past the
    last cut (unless a replayed cut lies ahead), cutting at replayed cuts on the way.
    Returns 0 or -ECANCELED. */
static int
s_read(s_ship_t *sh, s_unit_t *u, int64_t now)
{
    const ship_in_t *k = sh->o->kind;
    if (!u->file || !s_frame_known(sh, u)) {
        u->eof = true;
        return 0;
    }
    u->eof = false;
    uint64_t got = 0;
    for (;;) {
        size_t r = s_next_replay(u);
        bool replaying = r < u->n_cuts;
        if (!replaying && u->pending >= sh->o->max_batch) {
            sh->busy = true; /* more to read: the loop does not wait */
            break;
        }
        ship_piece_t p;
        int rc = ship_file_next(u->file, u->final, &p);
        if (rc == 0) {
            u->eof = true;
            break;
        }
        if (rc < 0 && rc != CADRE_ELIMIT && rc != CADRE_ETRUNC && rc != CADRE_ERECORD) {
            log_error("%s: read error: %s; the file is left", ship_file_path(u->file),
                      cadre_strerror(rc));
            ship_file_destroy(&u->file);
            u->final = true;
            u->eof = true;
            break;
        }
        if (rc == CADRE_ERECORD && p.start == p.end) {
            /* A MessagePack stream that cannot be split any further: reported once. */
            u->eof = true;
            break;
        }
        if (replaying && p.end > u->cuts[r].pos) {
            log_warn("%s: a record spans the part boundary at byte %" PRIu64
                     " kept from before: the file changed; its parts are cut anew",
                     ship_file_path(u->file), u->cuts[r].pos);
            u->n_cuts = r; /* the cuts not yet sent are forgotten */
        }
        got++;
        sh->records++;
        u->line++;
        if (u->pending++ == 0) {
            u->pending_since = now;
        }
        char why[512] = "";
        int frc;
        if (rc == 1) {
            frc = k->feed(u->in, p.data, p.len, u->line, s_emit, sh, why, sizeof why);
        } else if (rc == CADRE_ELIMIT) {
            frc = k->feed(u->in, NULL, 0, u->line, s_emit, sh, why, sizeof why);
        } else {
            frc = CADRE_ERECORD;
            snprintf(why, sizeof why, "%s",
                     rc == CADRE_ETRUNC ? "the file ends inside a MessagePack message"
                                        : "a byte that starts no MessagePack type: the rest "
                                          "of the file cannot be read");
        }
        u->fed = p.end;
        if (frc == CADRE_ERECORD) {
            s_bad(sh, u, u->line, why);
        } else if (frc != 0) {
            return frc;
        }
        if (k->parts) {
            r = s_next_replay(u);
            if (r < u->n_cuts && u->fed == u->cuts[r].pos) {
                u->cuts[r].line = u->line;
                int crc = s_emit_cut(sh, u, r);
                if (crc != 0) {
                    return crc;
                }
            }
        }
    }
    if (got > 0) {
        u->last_data = now;
        s_fix_fp(u);
    }
    if (sh->tee) {
        fflush(sh->tee);
    }
    if (!k->parts && u->fed > u->seg) {
        /* Records were sent as they were fed: the cut only marks their position. */
        xgrow(&u->cuts, &u->cap, u->n_cuts + 1);
        u->cuts[u->n_cuts++] = (s_cut_t){
            .pos = u->fed, .line = u->line, .last_ref = feeder_last_ref(sh->fd), .sent = true};
        u->seg = u->fed;
        u->pending = 0;
        u->pending_since = 0;
    }
    if (u->eof && s_next_replay(u) < u->n_cuts) {
        log_warn("%s: ends before byte %" PRIu64 ", where a part was cut before: its parts are "
                 "cut anew",
                 u->rec.path, u->cuts[s_next_replay(u)].pos);
        u->n_cuts = s_next_replay(u);
    }
    return 0;
}

/*  True when the unit's records since the last cut should be emitted now. */
static bool
s_due(const s_ship_t *sh, const s_unit_t *u, int64_t now)
{
    if (!sh->o->kind->parts || s_next_replay(u) < u->n_cuts || u->fed == u->seg) {
        return false;
    }
    return (u->eof && (u->final || sh->o->once || now - u->last_data >= sh->o->idle_ms)) ||
           now - u->pending_since >= sh->o->max_delay_ms || u->pending >= sh->o->max_batch;
}

/* -------------------------------------------------------------------------------------------
    State */

/*  Writes the state file (when there is a state directory). */
static void
s_save(s_ship_t *sh, int64_t now)
{
    sh->saved_at = now;
    sh->dirty = false;
    if (!sh->state) {
        return;
    }
    ship_rec_t *recs = xcalloc(sh->n_units + 1, sizeof *recs);
    uint64_t *cuts = NULL;
    size_t total = 0;
    for (size_t i = 0; i < sh->n_units; i++) {
        total += sh->units[i]->n_cuts;
    }
    cuts = xcalloc(total + 1, sizeof *cuts);
    size_t at = 0;
    for (size_t i = 0; i < sh->n_units; i++) {
        const s_unit_t *u = sh->units[i];
        recs[i] = u->rec;
        recs[i].cuts = cuts + at;
        recs[i].n_cuts = 0;
        for (size_t k = 0; k < u->n_cuts && sh->o->kind->parts; k++) {
            cuts[at++] = u->cuts[k].pos;
            recs[i].n_cuts++;
        }
    }
    int rc = ship_state_save(sh->state, recs, sh->n_units);
    if (rc != 0) {
        log_error("cannot write the state file: %s", cadre_strerror(rc));
    }
    free(cuts);
    free(recs);
}

/*  Deletes the rotated spools of the units read to their end and acknowledged (the state
    saying so is written first: a crash in between leaves a finished unit whose file is
    gone, which a restart forgets) and drops their units. */
static void
s_delete_spools(s_ship_t *sh)
{
    bool *gone = NULL;
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (!u->unlink_path || !u->rec.done) {
            continue;
        }
        if (!gone) {
            s_save(sh, zclock_mono());
            gone = xcalloc(sh->n_units + 1, sizeof *gone);
        }
        if (unlink(u->unlink_path) != 0 && errno != ENOENT) {
            log_warn("%s: cannot delete the rotated spool: %s", u->unlink_path, strerror(errno));
        } else {
            log_info("%s: rotated spool read and acknowledged (%" PRIu64 " bytes): deleted",
                     u->unlink_path, u->rec.commit);
        }
        gone[i] = true;
    }
    if (gone) {
        s_units_drop(sh, gone);
        free(gone);
    }
}

/*  Moves commits past the cuts whose records were all answered; finishes units that are
    read to their end (and deletes them when they are rotated spools). */
static void
s_advance(s_ship_t *sh)
{
    uint64_t floor = feeder_answered_below(sh->fd);
    bool spools = false;
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        size_t n = 0;
        while (n < u->n_cuts && u->cuts[n].sent && u->cuts[n].last_ref < floor) {
            u->rec.commit = u->cuts[n].pos;
            u->rec.line = u->cuts[n].line;
            n++;
        }
        if (n > 0) {
            memmove(u->cuts, u->cuts + n, (u->n_cuts - n) * sizeof *u->cuts);
            u->n_cuts -= n;
            sh->dirty = true;
        }
        if (u->finished && u->n_cuts == 0 && !u->rec.done) {
            u->rec.done = true;
            sh->dirty = true;
            ship_file_destroy(&u->file);
            if (u->in) {
                sh->o->kind->close(&u->in);
            }
            log_info("%s: read to its end (%" PRIu64 " bytes) and acknowledged", u->rec.path,
                     u->rec.commit);
            spools = spools || u->unlink_path;
        }
    }
    if (spools) {
        s_delete_spools(sh);
    }
}

/* -------------------------------------------------------------------------------------------
    Rotation */

/*  The unit of a followed file that was truncated in place: the rest is read from its copy
    (copytruncate) when one is found, and the path gets a new unit. */
static void
s_truncated(s_ship_t *sh, s_follow_t *f, s_unit_t *u, int64_t now)
{
    ship_file_destroy(&u->file);
    ship_file_t *copy = s_find_moved(sh, &u->rec, true);
    if (copy && ship_file_seek(copy, u->fed) == 0) {
        log_info("%s: truncated in place (copytruncate); the rest from byte %" PRIu64 " is read "
                 "from %s",
                 f->path, u->fed, ship_file_path(copy));
        u->rec.dev = ship_file_dev(copy);
        u->rec.ino = ship_file_ino(copy);
        u->file = copy;
    } else {
        if (copy) {
            /* The copy ends before what was read: the original gained lines after the
               copy was taken, and they were read already. */
            ship_file_destroy(&copy);
            log_info("%s: truncated in place (copytruncate) after byte %" PRIu64 ", which was read",
                     f->path, u->fed);
        } else {
            log_warn("%s: truncated in place, and no sibling starts with its first bytes: "
                     "what it held past byte %" PRIu64 " cannot be read",
                     f->path, u->fed);
        }
    }
    u->final = true;
    u->rotated_at = now;
    f->cur = NULL;
}

/*  Forgets the units read to their end whose files are gone (no sibling has their first
    bytes any more): nothing can bring them back to be read again. */
static void
s_prune(s_ship_t *sh)
{
    /* First every unit is looked for (the search skips files other units read, so none
       may be freed yet), then the gone ones are freed. */
    bool *gone = xcalloc(sh->n_units + 1, sizeof *gone);
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (u->rec.done && !u->file && !u->in) {
            ship_file_t *f = s_find_moved(sh, &u->rec, false);
            gone[i] = f == NULL;
            ship_file_destroy(&f);
        }
    }
    s_units_drop(sh, gone);
    free(gone);
}

/*  Checks a followed path: a new file there (rename rotation, or the first appearance),
    or its file truncated in place. */
static void
s_check_follow(s_ship_t *sh, s_follow_t *f, int64_t now)
{
    s_unit_t *u = f->cur;
    s_unit_t *was = u;
    struct stat st;
    if (stat(f->path, &st) != 0) {
        if (u && !u->rotated_at) {
            u->rotated_at = now; /* moved away; the new file is not there yet */
        }
        if (!f->told && !u) {
            f->told = true;
            log_info("%s: does not exist (yet); waiting for it", f->path);
        }
        return;
    }
    if (u && u->rec.dev == (uint64_t)st.st_dev && u->rec.ino == (uint64_t)st.st_ino && u->file) {
        /* The same file: truncated in place? Shorter than what was read, or other first
           bytes. */
        uint64_t fp = 0;
        bool shorter = (uint64_t)st.st_size < ship_file_pos(u->file);
        bool changed =
            u->rec.fp_len > 0 && (!ship_file_fp(u->file, u->rec.fp_len, &fp) || fp != u->rec.fp);
        if (!shorter && !changed) {
            return;
        }
        s_truncated(sh, f, u, now);
        u = NULL;
    }
    if (u && u->rec.dev == (uint64_t)st.st_dev && u->rec.ino == (uint64_t)st.st_ino) {
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        return;
    }
    ship_file_t *file = s_open(sh, f->path);
    if (!file) {
        return;
    }
    if (u) {
        if (!u->rotated_at) {
            u->rotated_at = now;
        }
        log_info("%s: rotated; the old file is read to its end", f->path);
    }
    s_unit_t *known = s_known(sh, file);
    if (known) {
        /* A file read before under another name (a numbered rotation moved it here). */
        ship_file_destroy(&file);
        f->cur = known;
        return;
    }
    ship_rec_t rec = {.path = xstrdup(f->path)};
    f->cur = s_unit_add(sh, &rec, file);
    f->told = false;
    if (!was) {
        log_info("%s: following from its start", f->path);
    } else {
        s_prune(sh); /* a rotation: older rotations may have been deleted */
    }
}

/* -------------------------------------------------------------------------------------------
    Start */

/*  Matches the command line's files and the state's records: a file whose inode and first
    bytes a record has resumes it, a file with a record's first bytes elsewhere (a copy, a
    compressed rotation) too; a record not on the command line and not finished is looked
    for among its path's siblings (rotated while the shipper was down). */
static void
s_attach(s_ship_t *sh)
{
    ship_rec_t *recs = NULL;
    size_t n = 0;
    if (sh->state) {
        ship_state_take(sh->state, &recs, &n);
    }
    bool *used = xcalloc(n + 1, sizeof *used);
    size_t np = (size_t)sh->o->n_paths;
    ship_file_t **files = xcalloc(np + 1, sizeof *files);
    size_t *hit = xcalloc(np + 1, sizeof *hit);
    for (size_t p = 0; p < np; p++) {
        const char *path = sh->o->paths[p];
        files[p] = s_open(sh, path);
        hit[p] = n;
        if (!files[p] && (errno != ENOENT || sh->o->once)) {
            log_warn("%s: %s", path, strerror(errno));
        }
        for (size_t q = 0; q < p && files[p]; q++) {
            if (files[q] && ship_file_dev(files[q]) == ship_file_dev(files[p]) &&
                ship_file_ino(files[q]) == ship_file_ino(files[p])) {
                ship_file_destroy(&files[p]); /* named twice */
                hit[p] = SIZE_MAX;
            }
        }
    }
    /* Pass 0: the file a record was read from (its inode, its first bytes). Pass 1: a file
       with a record's first bytes elsewhere (a copy, a compressed rotation); when that
       record is taken already, the file is a second copy of what is read anyway: skipped. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t p = 0; p < np; p++) {
            ship_file_t *f = files[p];
            if (!f || hit[p] != n) {
                continue;
            }
            int64_t size = ship_file_size(f);
            for (size_t i = 0; i < n && hit[p] == n; i++) {
                bool inode = recs[i].dev == ship_file_dev(f) && recs[i].ino == ship_file_ino(f);
                bool grown = size < 0 || (uint64_t)size >= recs[i].commit;
                bool fp = (pass == 0 ? inode : recs[i].fp_len > 0) && s_fp_matches(f, &recs[i]);
                if (fp && grown && !used[i]) {
                    hit[p] = i;
                    used[i] = true;
                } else if (fp && pass == 1) {
                    log_info("%s: holds what %s held, read already: skipped", sh->o->paths[p],
                             recs[i].path);
                    ship_file_destroy(&files[p]);
                    hit[p] = SIZE_MAX;
                }
            }
        }
    }
    for (size_t p = 0; p < np; p++) {
        const char *path = sh->o->paths[p];
        ship_file_t *file = files[p];
        bool follow = hit[p] != SIZE_MAX && (!file || !ship_file_gz(file));
        s_follow_t *fw = NULL;
        if (follow && !sh->o->once) {
            fw = s_follow_add(sh, path);
        }
        if (!file) {
            continue;
        }
        int64_t size = ship_file_size(file);
        ship_rec_t rec = {.path = xstrdup(path)};
        if (hit[p] < n) {
            free(rec.path);
            rec = recs[hit[p]];
            memset(&recs[hit[p]], 0, sizeof recs[hit[p]]);
            if (strcmp(rec.path, path) != 0 && follow) {
                free(rec.path);
                rec.path = xstrdup(path);
            }
            if (rec.done &&
                ((size >= 0 && (uint64_t)size > rec.commit) || (follow && !sh->o->once))) {
                rec.done = false; /* it has grown since, or is followed: it may grow */
            }
        }
        s_unit_t *u = s_unit_add(sh, &rec, file);
        if (fw) {
            fw->cur = u;
        }
        if (u->rec.commit > 0 || u->n_cuts > 0) {
            log_info("%s: resuming at byte %" PRIu64 "%s", path, u->rec.commit,
                     u->rec.done ? " (read to its end before)" : "");
        }
    }
    free(files);
    free(hit);
    for (size_t i = 0; i < n; i++) {
        if (used[i]) {
            continue;
        }
        ship_file_t *file = s_find_moved(sh, &recs[i], false);
        if (file && recs[i].done) {
            /* Finished before and still there: kept, so that it is never read again. */
            ship_rec_t rec = recs[i];
            memset(&recs[i], 0, sizeof recs[i]);
            s_unit_add(sh, &rec, file);
            continue;
        }
        if (file) {
            log_info("%s: rotated while stopped; read from %s at byte %" PRIu64, recs[i].path,
                     ship_file_path(file), recs[i].commit);
            ship_rec_t rec = recs[i];
            memset(&recs[i], 0, sizeof recs[i]);
            s_unit_t *u = s_unit_add(sh, &rec, file);
            u->final = true;
            continue;
        }
        if (!recs[i].done) {
            log_warn("%s: the file read up to byte %" PRIu64 " is gone (no sibling starts with "
                     "its first bytes): what it held past that byte cannot be read",
                     recs[i].path, recs[i].commit);
        }
        ship_rec_clear(&recs[i]);
    }
    for (size_t i = 0; i < n; i++) {
        ship_rec_clear(&recs[i]);
    }
    free(recs);
    free(used);
}

/* -------------------------------------------------------------------------------------------
    Receiving (--listen-syslog) */

/*  The receiver's callback: one message, one line of its worker's spool. */
static void
s_on_syslog(void *arg, const syslog_tls_msg_t *msg)
{
    s_ship_t *sh = arg;
    ship_spool_add(sh->spool, msg->worker, msg->data, msg->len);
}

/*  The spool's callback: path was renamed to rotated. Nothing writes that file any more, so
    its unit (added here when the follower had not opened it yet) is read to its end at once,
    and the file is deleted once the unit is done. */
static void
s_on_rotated(void *arg, const char *path, const char *rotated, uint64_t dev, uint64_t ino)
{
    s_ship_t *sh = arg;
    s_unit_t *u = s_unit_by_inode(sh, dev, ino);
    if (!u) {
        ship_file_t *file = s_open(sh, rotated);
        if (!file) {
            log_error("%s: %s: the rotated spool cannot be read", rotated, strerror(errno));
            return;
        }
        ship_rec_t rec = {.path = xstrdup(path)};
        u = s_unit_add(sh, &rec, file);
    }
    u->final = true;
    if (!u->rotated_at) {
        u->rotated_at = zclock_mono();
    }
    free(u->unlink_path);
    u->unlink_path = xstrdup(rotated);
}

/*  Follows the spools that exist and are not followed yet (a worker's first message). */
static void
s_follow_spools(s_ship_t *sh)
{
    size_t n = ship_spool_count(sh->spool);
    size_t had = sh->cap_spool_followed;
    xgrow(&sh->spool_followed, &sh->cap_spool_followed, n + 1);
    memset(sh->spool_followed + had, 0, (sh->cap_spool_followed - had) * sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        if (!sh->spool_followed[i] && ship_spool_exists(sh->spool, i)) {
            sh->spool_followed[i] = true;
            s_follow_add(sh, ship_spool_path(sh->spool, i));
            sh->checked_at = 0; /* opened at once */
        }
    }
}

/*  One round of the receiver, unless the window is full or the spool could not take the
    last round's lines (then nothing is read: the kernel's buffers fill and TCP holds the
    forwarders back); then the spool is written and fsync'd, and new spools are followed.
    Returns 0, or -errno when the receiver failed. */
static int
s_receive(s_ship_t *sh)
{
    if (!ship_spool_pending(sh->spool) && !feeder_full(sh->fd)) {
        int n = syslog_tls_run(sh->rx, 0);
        if (n < 0) {
            log_error("syslog: the receiver failed: %s", strerror(-n));
            return n;
        }
    }
    int rc = ship_spool_flush(sh->spool);
    if (rc != 0 && !sh->spool_failing) {
        log_error("cannot write the spool: %s; tried again every turn, nothing more is "
                  "received while lines wait",
                  cadre_strerror(rc));
    } else if (rc == 0 && sh->spool_failing) {
        log_info("the spool is written again");
    }
    sh->spool_failing = rc != 0;
    s_follow_spools(sh);
    return 0;
}

/*  The rotated spools found at start: one the state knows was found by s_attach among its
    spool's siblings and is read on, one it does not know (rotated before its unit was first
    saved) is read from its start, and either is deleted once done; one read to its end and
    acknowledged before is deleted now. */
static void
s_attach_rotated(s_ship_t *sh)
{
    for (size_t r = 0; r < ship_spool_n_rotated(sh->spool); r++) {
        const char *path = ship_spool_rotated(sh->spool, r);
        struct stat st;
        if (stat(path, &st) != 0) {
            continue;
        }
        s_unit_t *u = NULL;
        for (size_t i = 0; i < sh->n_units && !u; i++) {
            s_unit_t *c = sh->units[i];
            if ((c->file && strcmp(ship_file_path(c->file), path) == 0) ||
                (c->rec.dev == (uint64_t)st.st_dev && c->rec.ino == (uint64_t)st.st_ino)) {
                u = c;
            }
        }
        if (!u) {
            ship_file_t *file = s_open(sh, path);
            if (!file) {
                log_warn("%s: %s: the rotated spool cannot be read", path, strerror(errno));
                continue;
            }
            /* The spool it was: the path without its ".<N>". */
            const char *dot = strrchr(path, '.');
            ship_rec_t rec = {.path = xstrndup(path, (size_t)(dot - path))};
            u = s_unit_add(sh, &rec, file);
            log_info("%s: a rotated spool the state does not know: read from its start", path);
        }
        u->final = true;
        free(u->unlink_path);
        u->unlink_path = xstrdup(path);
    }
    s_delete_spools(sh);
}

/*  Prints the receiver's counts on stderr: messages per worker, then its counters. */
static void
s_syslog_summary(const s_ship_t *sh)
{
    for (size_t i = 0; i < ship_spool_count(sh->spool); i++) {
        uint64_t n = ship_spool_messages(sh->spool, i);
        if (n > 0) {
            fprintf(stderr, "cadre ship: syslog: %s: %" PRIu64 " messages\n",
                    ship_spool_worker(sh->spool, i), n);
        }
    }
    syslog_tls_stats_t s;
    syslog_tls_stats(sh->rx, &s);
    fprintf(stderr,
            "cadre ship: syslog stats messages=%" PRIu64 " bytes=%" PRIu64 " accepted=%" PRIu64
            " workers=%" PRIu64 " refused_cap=%" PRIu64 " refused_tls=%" PRIu64
            " refused_cn=%" PRIu64 " closed_frame=%" PRIu64 " closed_oversize=%" PRIu64
            " closed_idle=%" PRIu64 " closed_handshake=%" PRIu64 " closed_error=%" PRIu64
            " closed_by_peer=%" PRIu64 " truncated=%" PRIu64 "\n",
            s.messages, s.bytes, s.accepted, s.workers, s.refused_cap, s.refused_tls, s.refused_cn,
            s.closed_frame, s.closed_oversize, s.closed_idle, s.closed_handshake, s.closed_error,
            s.closed_by_peer, s.truncated);
}

/* -------------------------------------------------------------------------------------------
    The loop */

/*  True when every unit has read what its file holds and emitted it. */
static bool
s_all_read(const s_ship_t *sh)
{
    for (size_t i = 0; i < sh->n_units; i++) {
        const s_unit_t *u = sh->units[i];
        if (u->rec.done || !u->in) {
            continue;
        }
        if (!u->eof || u->fed != u->seg || s_next_replay(u) < u->n_cuts) {
            return false;
        }
    }
    return true;
}

/*  One turn: rotation checks, reads, cuts (written to the state, then sent). Returns 0
    or -ECANCELED. */
static int
s_turn(s_ship_t *sh, int64_t now)
{
    /* Once a poll period: with --listen-syslog turns follow each other as fast as messages
       arrive, and a stat and a pread per path each time would be waste. */
    if (sh->checked_at == 0 || now - sh->checked_at >= sh->o->poll_ms) {
        sh->checked_at = now;
        for (size_t i = 0; i < sh->n_follows; i++) {
            s_check_follow(sh, &sh->follows[i], now);
        }
    }
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (u->rec.done || !u->in || u->finished) {
            continue;
        }
        if (u->rotated_at && !u->final) {
            int64_t since = u->rotated_at > u->last_data ? u->rotated_at : u->last_data;
            if (now - since >= sh->o->rotate_wait_ms) {
                u->final = true;
            }
        }
        int rc = s_read(sh, u, now);
        if (rc != 0) {
            return rc;
        }
    }
    /* Cuts due: written to the state before anything of them is sent. */
    size_t due = 0;
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        if (u->rec.done || !u->in || u->finished) {
            continue;
        }
        if (s_due(sh, u, now)) {
            xgrow(&u->cuts, &u->cap, u->n_cuts + 1);
            u->cuts[u->n_cuts++] = (s_cut_t){.pos = u->fed, .line = u->line};
            due++;
        }
    }
    if (due > 0) {
        s_save(sh, now);
    }
    for (size_t i = 0; i < sh->n_units; i++) {
        s_unit_t *u = sh->units[i];
        size_t r = s_next_replay(u);
        if (r < u->n_cuts && u->cuts[r].pos == u->fed && !u->rec.done && u->in) {
            int rc = s_emit_cut(sh, u, r);
            if (rc != 0) {
                return rc;
            }
        }
        if (u->final && u->eof && u->fed == u->seg && s_next_replay(u) == u->n_cuts &&
            !u->finished && u->in) {
            u->finished = true;
        }
    }
    if (sh->sent && feeder_flush_send(sh->fd)) {
        sh->sent = false;
    }
    return 0;
}

/*  Waits for what is in flight (at most ms), then moves the commits. */
static void
s_drain(s_ship_t *sh, int ms)
{
    int64_t deadline = zclock_mono() + ms;
    while (feeder_answered_below(sh->fd) <= feeder_last_ref(sh->fd) && zclock_mono() < deadline) {
        feeder_poll(sh->fd, 50);
    }
    s_advance(sh);
}

/*  Prints the run's counts on stderr. */
static void
s_summary(const s_ship_t *sh)
{
    fprintf(stderr,
            "cadre ship: %" PRIu64 " records read, %" PRIu64 " bad, %" PRIu64
            " observations sent, %" PRIu64 " acknowledged, %" PRIu64 " refused\n",
            sh->records, sh->bad, sh->emitted, feeder_acked(sh->fd), feeder_rejected(sh->fd));
}

/*  Reads and checks the DECNET state file (--decnet-state) into *text (owned), which the
    inputs then borrow. Returns 0, 1 when it cannot be read, or 65 when it is no state file. */
static int
s_decnet_state(s_opts_t *o, char **text)
{
    FILE *f = fopen(o->decnet_state, "rb");
    if (!f) {
        fprintf(stderr, "cadre ship: %s: %s\n", o->decnet_state, strerror(errno));
        return 1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        xgrow(&buf, &cap, len + 65536);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len > (64u << 20)) {
            break;
        }
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    decnet_t *dn = decnet_new(NULL);
    obs_error_t err;
    int n = failed ? 0 : decnet_load_state(dn, buf, len, &err);
    decnet_destroy(&dn);
    if (failed || n < 0) {
        char msg[512] = "read error";
        if (!failed) {
            obs_error_format(&err, o->decnet_state, msg, sizeof msg);
        }
        fprintf(stderr, "cadre ship: not a DECNET state file: %s\n", msg);
        free(buf);
        return failed ? 1 : CLI_EX_DATAERR;
    }
    *text = buf;
    o->in.decnet_state = buf;
    o->in.decnet_state_len = len;
    return 0;
}

int
cmd_ship(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc != 0) {
        free(o.paths);
        return prc > 0 ? 0 : -prc;
    }
    char *dstate = NULL;
    if (o.decnet_state) {
        int drc = s_decnet_state(&o, &dstate);
        if (drc != 0) {
            free(o.paths);
            return drc;
        }
    }
    char *endpoint = NULL;
    curve_t *curve = NULL;
    int rc =
        endpoint_resolve("ship", o.endpoint, o.config, o.cert, ENDPOINT_INGEST, &endpoint, &curve);
    if (rc != 0) {
        free(dstate);
        free(o.paths);
        return rc;
    }
    s_ship_t sh = {.o = &o};
    rc = 1; /* until the loop starts: a state, spool, tee or listener that cannot be had */
    if (o.state) {
        char err[512];
        sh.state = ship_state_open(o.state, o.kind->name, err, sizeof err);
        if (!sh.state) {
            fprintf(stderr, "cadre ship: %s\n", err);
            goto done;
        }
    } else if (!o.once) {
        log_warn("no --state: what was sent is not remembered, a restart reads every file "
                 "from its start");
    }
    if (o.listen) {
        /* The spools found are followed as if named on the command line. */
        char *dir = xasprintf("%s/syslog", o.state);
        sh.spool = ship_spool_new(dir, o.spool_max, s_on_rotated, &sh);
        free(dir);
        if (!sh.spool) {
            goto done;
        }
        size_t n = ship_spool_count(sh.spool);
        o.paths = xrealloc(o.paths, ((size_t)o.n_paths + n + 1) * sizeof *o.paths);
        sh.spool_followed = xcalloc(n + 1, sizeof *sh.spool_followed);
        sh.cap_spool_followed = n + 1;
        for (size_t i = 0; i < n; i++) {
            o.paths[o.n_paths++] = (char *)ship_spool_path(sh.spool, i);
            sh.spool_followed[i] = true;
        }
    }
    if (o.tee) {
        sh.tee = fopen(o.tee, "a");
        if (!sh.tee) {
            fprintf(stderr, "cadre ship: %s: %s\n", o.tee, strerror(errno));
            goto done;
        }
    }
    sh.sig = sig_new(); /* ignores SIGPIPE too, as the receiver requires */
    if (o.listen) {
        sh.rx = syslog_tls_new(&o.rx, s_on_syslog, &sh);
        if (!sh.rx) {
            fprintf(stderr, "cadre ship: cannot listen on %s (the reason is logged above)\n",
                    o.listen);
            goto done;
        }
        fprintf(stderr, "cadre ship: listening on %s\n", syslog_tls_address(sh.rx));
    }
    zsys_init();
    zsys_handler_set(NULL);
    sh.fd = feeder_new(endpoint, curve, o.window, NULL, NULL, NULL);
    s_attach(&sh);
    if (sh.spool) {
        s_attach_rotated(&sh);
    }
    int64_t now = zclock_mono();
    s_save(&sh, now);
    sdnotify_ready("following");
    rc = 0;
    while (!sh.stop) {
        now = zclock_mono();
        if (sh.rx && s_receive(&sh) != 0) {
            rc = 1;
            break;
        }
        if (s_turn(&sh, now) != 0) {
            break;
        }
        if (o.once && s_all_read(&sh)) {
            uint64_t seq = 0;
            int frc = feeder_flush(sh.fd, o.timeout_ms, &seq);
            if (frc != 0) {
                fprintf(stderr, "cadre ship: the broker stopped answering: %s\n",
                        cadre_strerror(frc));
                rc = 1;
            }
            break;
        }
        if (sh.rx) {
            /* Woken by the forwarders too, unless nothing may be read now (s_receive). */
            bool open = !ship_spool_pending(sh.spool) && !feeder_full(sh.fd);
            feeder_set_wake_fd(sh.fd, open ? syslog_tls_fd(sh.rx) : -1);
        }
        feeder_poll(sh.fd, sh.busy ? 0 : o.poll_ms);
        sh.busy = false;
        int s = sig_take(sh.sig);
        if (s == SIGTERM || s == SIGINT) {
            sh.stop = true;
        }
        s_advance(&sh);
        now = zclock_mono();
        if (sh.dirty && now - sh.saved_at >= S_SAVE_MS) {
            s_save(&sh, now);
        }
    }
    if (sh.stop) {
        sdnotify_stopping();
    }
    if (sh.failed) {
        rc = 1;
    }
    if (sh.rx) {
        /* The forwarders are cut off first: what they send from now on is theirs to send
           again (or lose), and what the receiver took is in the spool already. */
        feeder_set_wake_fd(sh.fd, -1);
        s_syslog_summary(&sh);
        syslog_tls_destroy(&sh.rx);
        if (ship_spool_flush(sh.spool) != 0) {
            log_error("the spool could not be written whole: the lines left are lost");
        }
    }
    s_drain(&sh, o.once && rc == 0 ? 0 : S_DRAIN_MS);
    s_save(&sh, zclock_mono());
    s_summary(&sh);
    if (rc == 0 && o.once && sh.records > 0 && sh.bad == sh.records) {
        rc = CLI_EX_DATAERR;
    }
done:
    for (size_t i = 0; i < sh.n_units; i++) {
        if (sh.units[i]->in) {
            o.kind->close(&sh.units[i]->in);
        }
        s_unit_free(sh.units[i]);
    }
    free(sh.units);
    free(sh.follows);
    free(sh.spool_followed);
    feeder_destroy(&sh.fd);
    syslog_tls_destroy(&sh.rx);
    ship_spool_destroy(&sh.spool);
    ship_state_destroy(&sh.state);
    if (sh.tee) {
        fclose(sh.tee);
    }
    sig_destroy(&sh.sig);
    curve_destroy(&curve);
    free(endpoint);
    free(dstate);
    free(o.paths);
    if (sh.fd) {
        zsys_shutdown();
    }
    return rc;
}
