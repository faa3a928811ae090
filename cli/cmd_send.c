/*  cmd_send.c - `cadre send`: streams observation files to a running broker's ingest socket
    (docs/protocol.md §4) through the windowed feeder, then flushes, so that the engine has
    reconciled everything sent when the command returns. */
#include "cmds.h"
#include "cowrie_in.h"
#include "decnet_in.h"
#include "endpoint.h"
#include "err.h"
#include "feeder.h"
#include "obs_stream.h"
#include "xalloc.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_REPORTED 20         /* unreadable records printed in full; the rest counted */
#define S_WINDOW 1000             /* default submissions in flight */
#define S_TIMEOUT_MS 60000        /* default longest silence from the broker */
#define S_PROGRESS_MS 100         /* --progress: one line at most this often */
#define S_PROGRESS_EVERY 1000     /* --progress: and one at every this many submissions */
#define S_MAX_WINDOW 5000         /* largest --window: half the default limits.client_hwm */
#define S_MAX_TIMEOUT_MS 86400000 /* largest --timeout-ms: a day */

/*  Options of one run. */
typedef struct {
    const char *endpoint;   /* --endpoint, or NULL */
    const char *config;     /* --config, or NULL */
    const char *cert;       /* --cert, or NULL */
    char **corpora;         /* input paths ("-" = stdin), borrowed from argv */
    int n_corpora;          /* count */
    uint32_t window;        /* submissions in flight */
    obs_format_t format;    /* input format */
    bool flush;             /* FLUSH at the end */
    bool progress;          /* progress lines on stderr */
    int timeout_ms;         /* longest silence from the broker */
    bool cowrie;            /* --input cowrie: the corpora are Cowrie logs */
    bool decnet;            /* --input decnet: the corpora are DECNET logs */
    bool upsert;            /* --op upsert: adapter records replace instead of append */
    cowrie_in_opts_t copts; /* Cowrie options (--group, --flush-idle, --fatt) */
    decnet_in_opts_t dopts; /* DECNET options (--decnet-state, --session-gap, --flush-idle) */
} s_opts_t;

/*  Progress reporting state. */
typedef struct {
    int64_t last;  /* when the last line was printed (zclock_mono), 0 = never */
    uint64_t sent; /* submissions at the previous tick */
} s_progress_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre send (--endpoint E | --config FILE) CORPUS... [--window N]\n"
            "                  [--format auto|jsonl|msgpack] [--no-flush] [--progress]\n"
            "                  [--timeout-ms T] [--cert FILE] [--input obs|cowrie|decnet]\n"
            "                  [--op append|upsert]\n"
            "                  [Cowrie options | DECNET options]\n\n"
            "Streams observations (JSON Lines or MessagePack, '-' for stdin) to a broker's\n"
            "ingest socket, keeping at most N (default %d) unacknowledged, then flushes and\n"
            "waits until the engine has reconciled them. --config FILE takes the endpoint\n"
            "from the deployment's configuration (broker.ingest) and, with curve.enabled,\n"
            "connects with CURVE using the certificate --cert FILE (a zcert secret file;\n"
            "default curve.client_secret_key_file, else curve.secret_key_file). --progress prints\n"
            "'progress: S submitted, A acknowledged' on stderr every %d ms and every %d\n"
            "submissions. Prints\n"
            "'N acknowledged, M refused, B unreadable, flushed at seq S'. Exit status: 0,\n"
            "65 when a record was refused or unreadable, 1 when the broker stops answering\n"
            "for T ms (default %d). --input cowrie reads Cowrie logs (plain or gzip, any\n"
            "order) through the Cowrie adapter (docs/cowrie.md); its bad lines are reported,\n"
            "not counted as unreadable (when every line is bad, send exits 65). --input\n"
            "decnet reads DECNET's RFC 5424 logs (or cadre syslog-recv's output) through the\n"
            "DECNET adapter (docs/decnet.md) the same way. A log adapter's records are sent\n"
            "as appends (--op upsert: as upserts), so a later batch about the same source\n"
            "adds to what the engine knows (docs/schema.md). Cowrie "
            "options:\n" COWRIE_IN_USAGE "DECNET options (--flush-idle as above):\n"
            "  --decnet-state FILE    DECNET's decnet-state.json (docs/decnet.md)\n"
            "  --session-gap SECONDS  largest gap between two events of one session (1800)\n",
            S_WINDOW, S_PROGRESS_MS, S_PROGRESS_EVERY, S_TIMEOUT_MS);
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
    *o = (s_opts_t){.window = S_WINDOW, .flush = true, .timeout_ms = S_TIMEOUT_MS};
    o->corpora = xcalloc((size_t)argc + 1, sizeof *o->corpora);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        long long n = 0;
        int got = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(a, "--endpoint") == 0 && v) {
            o->endpoint = argv[++i];
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = argv[++i];
        } else if (strcmp(a, "--cert") == 0 && v) {
            o->cert = argv[++i];
        } else if (strcmp(a, "--window") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_WINDOW, &n)) {
                fprintf(stderr, "cadre send: --window wants 1..%d\n", S_MAX_WINDOW);
                return -CLI_EX_USAGE;
            }
            o->window = (uint32_t)n;
        } else if (strcmp(a, "--timeout-ms") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_TIMEOUT_MS, &n)) {
                fprintf(stderr, "cadre send: --timeout-ms wants 1..%d\n", S_MAX_TIMEOUT_MS);
                return -CLI_EX_USAGE;
            }
            o->timeout_ms = (int)n;
        } else if (strcmp(a, "--format") == 0 && v) {
            if (obs_format_parse(argv[++i], &o->format) != 0) {
                fprintf(stderr, "cadre send: unknown format '%s'\n", argv[i]);
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--input") == 0 && v) {
            const char *kind = argv[++i];
            if (strcmp(kind, "cowrie") != 0 && strcmp(kind, "obs") != 0 &&
                strcmp(kind, "decnet") != 0) {
                fprintf(stderr, "cadre send: --input wants obs, cowrie or decnet, not '%s'\n",
                        kind);
                return -CLI_EX_USAGE;
            }
            o->cowrie = strcmp(kind, "cowrie") == 0;
            o->decnet = strcmp(kind, "decnet") == 0;
        } else if (strcmp(a, "--op") == 0 && v) {
            const char *op = argv[++i];
            if (strcmp(op, "append") != 0 && strcmp(op, "upsert") != 0) {
                fprintf(stderr, "cadre send: --op wants append or upsert, not '%s'\n", op);
                return -CLI_EX_USAGE;
            }
            o->upsert = strcmp(op, "upsert") == 0;
        } else if ((got = cowrie_in_option("send", argc, argv, &i, &o->copts)) != 0 ||
                   (got = decnet_in_option("send", argc, argv, &i, &o->dopts)) != 0) {
            if (got < 0) {
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--no-flush") == 0) {
            o->flush = false;
        } else if (strcmp(a, "--progress") == 0) {
            o->progress = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre send: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        } else {
            o->corpora[o->n_corpora++] = argv[i];
        }
    }
    if (o->n_corpora == 0) {
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    return decnet_in_check_input("send", o->cowrie, o->decnet, &o->copts, &o->dopts);
}

static void
s_on_tick(const feeder_t *fd, void *arg)
{
    s_progress_t *p = arg;
    int64_t now = zclock_mono();
    /* Every 1000th submission is reported too, so a reader knows exactly when the sender
       got that far even when it then waits for input. */
    uint64_t sent = feeder_submitted(fd);
    bool milestone = sent != p->sent && sent % S_PROGRESS_EVERY == 0;
    p->sent = sent;
    if (!milestone && p->last && now - p->last < S_PROGRESS_MS) {
        return;
    }
    p->last = now;
    fprintf(stderr, "progress: %" PRIu64 " submitted, %" PRIu64 " acknowledged\n",
            feeder_submitted(fd), feeder_acked(fd));
}

/*  Sends one corpus. Returns 0, or -1 when the broker stopped answering or the file could
    not be read (said on stderr). *bad counts unreadable records. */
static int
s_send_corpus(const s_opts_t *o, const char *path, feeder_t *fd, uint64_t *bad)
{
    obs_reader_t *r = obs_reader_open(path, o->format);
    if (!r) {
        fprintf(stderr, "cadre send: cannot read %s\n", path);
        return -1;
    }
    int rc = 0;
    for (;;) {
        obs_t *obs = NULL;
        obs_error_t e;
        int got = obs_reader_next(r, &obs, &e);
        if (got == 0) {
            break;
        }
        if (got == CADRE_ERECORD || got == CADRE_ETRUNC) {
            if ((*bad)++ < S_MAX_REPORTED) {
                char line[1024];
                obs_error_format(&e, obs_reader_source(r), line, sizeof line);
                fprintf(stderr, "cadre send: %s\n", line);
            }
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "cadre send: reading %s: %s\n", path, cadre_strerror(got));
            rc = -1;
            break;
        }
        int src = feeder_submit(fd, obs, o->timeout_ms);
        obs_destroy(&obs);
        if (src != 0) {
            fprintf(stderr, "cadre send: the broker stopped answering: %s\n", cadre_strerror(src));
            rc = -1;
            break;
        }
    }
    obs_reader_destroy(&r);
    return rc;
}

/*  Where a log adapter's observations go. */
typedef struct {
    const s_opts_t *o; /* options */
    feeder_t *fd;      /* the broker client */
} s_adapter_ctx_t;

/*  Submits one adapter record (the callback of adapter_append). */
static int
s_submit(const obs_t *obs, void *arg)
{
    const s_adapter_ctx_t *ctx = arg;
    int rc = feeder_submit(ctx->fd, obs, ctx->o->timeout_ms);
    if (rc != 0) {
        fprintf(stderr, "cadre send: the broker stopped answering: %s\n", cadre_strerror(rc));
    }
    return rc;
}

static int
s_adapter_sink(const obs_t *obs, void *arg)
{
    s_adapter_ctx_t *ctx = arg;
    if (ctx->o->upsert) {
        return s_submit(obs, ctx);
    }
    return adapter_append(obs, ctx->o->decnet, s_submit, ctx);
}

int
cmd_send(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc != 0) {
        free(o.corpora);
        cowrie_in_opts_clear(&o.copts);
        return prc > 0 ? 0 : -prc;
    }
    char *endpoint = NULL;
    curve_t *curve = NULL;
    int rc =
        endpoint_resolve("send", o.endpoint, o.config, o.cert, ENDPOINT_INGEST, &endpoint, &curve);
    if (rc != 0) {
        free(o.corpora);
        cowrie_in_opts_clear(&o.copts);
        return rc;
    }
    zsys_init();
    zsys_handler_set(NULL);
    feeder_t *fd = feeder_new(endpoint, curve, o.window, NULL, NULL, NULL);
    s_progress_t progress = {0};
    if (o.progress) {
        feeder_set_tick(fd, s_on_tick, &progress);
    }
    uint64_t bad = 0;
    bool all_bad = false;
    if (o.cowrie) {
        s_adapter_ctx_t ctx = {.o = &o, .fd = fd};
        int crc = cowrie_in_run("send", (const char *const *)o.corpora, (size_t)o.n_corpora,
                                &o.copts, s_adapter_sink, &ctx);
        /* Every Cowrie line bad: nothing was sent, the (empty) flush still runs. */
        all_bad = crc == CLI_EX_DATAERR;
        rc = crc == 0 || all_bad ? 0 : 1;
    } else if (o.decnet) {
        s_adapter_ctx_t ctx = {.o = &o, .fd = fd};
        int crc = decnet_in_run("send", (const char *const *)o.corpora, (size_t)o.n_corpora,
                                &o.dopts, s_adapter_sink, &ctx);
        all_bad = crc == CLI_EX_DATAERR;
        rc = crc == 0 || all_bad ? 0 : 1;
    }
    for (int i = 0; i < o.n_corpora && rc == 0 && !o.cowrie && !o.decnet; i++) {
        rc = s_send_corpus(&o, o.corpora[i], fd, &bad) == 0 ? 0 : 1;
    }
    uint64_t seq = 0;
    if (rc == 0) {
        int wrc = o.flush ? feeder_flush(fd, o.timeout_ms, &seq) : feeder_drain(fd, o.timeout_ms);
        if (wrc != 0) {
            fprintf(stderr, "cadre send: the broker stopped answering: %s\n", cadre_strerror(wrc));
            rc = 1;
        }
    }
    if (bad > S_MAX_REPORTED) {
        fprintf(stderr, "cadre send: ... and %" PRIu64 " more unreadable records\n",
                bad - S_MAX_REPORTED);
    }
    if (o.progress) {
        progress.last = 0;
        s_on_tick(fd, &progress);
    }
    printf("%" PRIu64 " acknowledged, %" PRIu64 " refused, %" PRIu64 " unreadable, ",
           feeder_acked(fd), feeder_rejected(fd), bad);
    if (rc == 0 && o.flush) {
        printf("flushed at seq %" PRIu64 "\n", seq);
    } else {
        printf("not flushed\n");
    }
    if (rc == 0 && (bad > 0 || all_bad || feeder_rejected(fd) > 0)) {
        rc = CLI_EX_DATAERR;
    }
    feeder_destroy(&fd);
    curve_destroy(&curve);
    free(endpoint);
    free(o.corpora);
    cowrie_in_opts_clear(&o.copts);
    zsys_shutdown();
    return rc;
}
