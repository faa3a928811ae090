/*  cmd_run.c - `cadre run`: the whole engine embedded in one process (broker, shards and
    merger as zactors over inproc://, LMDB in a data directory), fed from a corpus file or
    standard input, or listening for clients. */
#include "broker.h"
#include "cfg.h"
#include "cmds.h"
#include "cowrie_in.h"
#include "decnet_in.h"
#include "curve.h"
#include "err.h"
#include "feeder.h"
#include "log.h"
#include "merger.h"
#include "metrics.h"
#include "obs_stream.h"
#include "jsonio.h"
#include "shard.h"
#include "sig.h"
#include "strtab.h"
#include "wire.h"
#include "xalloc.h"
#include "assign.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TIMEOUT_MS (10 * 60 * 1000) /* longest silence from the engine we wait out */

/*  Options of one run. */
typedef struct {
    const char *corpus;     /* input path, "-" for stdin, NULL with --listen */
    const char **files;     /* every input path (Cowrie input takes several), owned array */
    size_t n_files;         /* number of input paths */
    bool cowrie;            /* --input cowrie: the inputs are Cowrie logs, not observations */
    bool decnet;            /* --input decnet: the inputs are DECNET logs */
    cowrie_in_opts_t copts; /* Cowrie options (--group, --flush-idle, --fatt) */
    decnet_in_opts_t dopts; /* DECNET options (--decnet-state, --session-gap, --flush-idle) */
    const char *config;     /* configuration file, or NULL */
    const char *data_dir;   /* kept data directory, or NULL for a temporary one */
    const char *out;        /* assignments path, or NULL */
    const char *events;     /* events path, or NULL */
    const char *identities; /* identity records path, or NULL */
    const char *campaigns;  /* campaign records path, or NULL */
    obs_format_t format;    /* input format */
    int shards;             /* shard count override (0: from the configuration) */
    bool listen;            /* serve clients until TERM/INT instead of reading a corpus */
    bool quiet;             /* no progress, no summary */
} s_opts_t;

/*  Event subscriber state. */
typedef struct {
    FILE *file;          /* events file, or NULL */
    obs_format_t format; /* its format: JSON lines, or the envelopes as published */
    uint64_t received;   /* events received */
    int failed;          /* first write error (-errno), or 0 */
} s_events_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre run [CORPUS|-] [--config FILE] [--shards N] [--data-dir DIR]\n"
            "                 [--out ASSIGNMENTS] [--events FILE] [--identities FILE]\n"
            "                 [--campaigns FILE] [--format jsonl|msgpack] [--listen] [--quiet]\n"
            "       cadre run --input cowrie COWRIE_LOG... [Cowrie options] [the options above]\n"
            "       cadre run --input decnet DECNET_LOG... [DECNET options] [the options above]\n\n"
            "Runs the engine embedded in one process: a broker, N shards (default one per two\n"
            "cores, 1 to 4, or the config's `shards`) and the merger as threads over\n"
            "inproc://, with LMDB state in --data-dir, else in the config's data_dir when\n"
            "the file sets it, else in a fresh temporary directory removed on exit (a\n"
            "directory you name is kept, and a later run resumes it). Streams CORPUS through\n"
            "the broker, flushes, writes the outputs asked for and prints a summary, with\n"
            "quality metrics when the corpus carries truth labels. --listen serves clients\n"
            "on the configured ingest endpoint until TERM/INT. --input cowrie (default obs)\n"
            "reads Cowrie logs (plain or gzip, any order) through the Cowrie adapter\n"
            "(docs/cowrie.md) instead; its bad lines are reported, not counted as unreadable\n"
            "records (but when every line is bad, run exits 65). --input decnet reads DECNET's\n"
            "RFC 5424 logs (or cadre syslog-recv's output) through the DECNET adapter\n"
            "(docs/decnet.md) the same way. Cowrie options:\n" COWRIE_IN_USAGE
            "DECNET options (--flush-idle as above):\n"
            "  --decnet-state FILE    DECNET's decnet-state.json (docs/decnet.md)\n"
            "  --session-gap SECONDS  largest gap between two events of one session (1800)\n");
}

static void
s_on_event(zsock_t *sub, void *arg)
{
    s_events_t *ev = arg;
    zmsg_t *m;
    while ((m = zmsg_recv(sub)) != NULL) {
        zframe_t *topic = zmsg_first(m);
        zframe_t *body = zmsg_next(m);
        if (topic && body && ev->file && ev->failed == 0) {
            if (ev->format == OBS_FORMAT_MSGPACK) {
                if (fwrite(zframe_data(body), 1, zframe_size(body), ev->file) !=
                    zframe_size(body)) {
                    ev->failed = -EIO;
                }
            } else {
                wire_event_t *e = NULL;
                char err[256];
                char *line = NULL;
                size_t len = 0;
                if (wire_event_decode((const char *)zframe_data(body), zframe_size(body), &e, err,
                                      sizeof err) == 0 &&
                    jsonio_event_print(e, &line, &len) == 0) {
                    if (fwrite(line, 1, len, ev->file) != len || fputc('\n', ev->file) == EOF) {
                        ev->failed = -EIO;
                    }
                } else {
                    fprintf(stderr, "cadre run: undecodable event: %s\n", err);
                }
                free(line);
                wire_event_free(&e);
            }
        }
        ev->received++;
        zmsg_destroy(&m);
    }
}

static void
s_rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char *p = xasprintf("%s/%s", path, e->d_name);
                s_rm_rf(p);
                free(p);
            }
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){0};
    o->files = xcalloc((size_t)argc + 1, sizeof *o->files);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        int got = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = argv[++i];
        } else if (strcmp(a, "--data-dir") == 0 && v) {
            o->data_dir = argv[++i];
        } else if (strcmp(a, "--out") == 0 && v) {
            o->out = argv[++i];
        } else if (strcmp(a, "--events") == 0 && v) {
            o->events = argv[++i];
        } else if (strcmp(a, "--identities") == 0 && v) {
            o->identities = argv[++i];
        } else if (strcmp(a, "--campaigns") == 0 && v) {
            o->campaigns = argv[++i];
        } else if (strcmp(a, "--shards") == 0 && v) {
            o->shards = atoi(argv[++i]);
            if (o->shards < 1 || o->shards > 256) {
                fprintf(stderr, "cadre run: --shards wants 1..256\n");
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--format") == 0 && v) {
            if (obs_format_parse(argv[++i], &o->format) != 0) {
                fprintf(stderr, "cadre run: unknown format '%s'\n", argv[i]);
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--input") == 0 && v) {
            const char *kind = argv[++i];
            if (strcmp(kind, "cowrie") != 0 && strcmp(kind, "obs") != 0 &&
                strcmp(kind, "decnet") != 0) {
                fprintf(stderr, "cadre run: --input wants obs, cowrie or decnet, not '%s'\n", kind);
                return -CLI_EX_USAGE;
            }
            o->cowrie = strcmp(kind, "cowrie") == 0;
            o->decnet = strcmp(kind, "decnet") == 0;
        } else if ((got = cowrie_in_option("run", argc, argv, &i, &o->copts)) != 0 ||
                   (got = decnet_in_option("run", argc, argv, &i, &o->dopts)) != 0) {
            if (got < 0) {
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--listen") == 0) {
            o->listen = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre run: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        } else {
            o->files[o->n_files++] = a;
        }
    }
    o->corpus = o->n_files > 0 ? o->files[0] : NULL;
    if (decnet_in_check_input("run", o->cowrie, o->decnet, &o->copts, &o->dopts) != 0) {
        return -CLI_EX_USAGE;
    }
    if (o->n_files > 1 && !o->cowrie && !o->decnet) {
        fprintf(stderr, "cadre run: one CORPUS only\n");
        return -CLI_EX_USAGE;
    }
    if (!o->corpus && !o->listen) {
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    return 0;
}

/*  Truth labels by observation id, for the metrics. */
typedef struct {
    strtab_t *ids;    /* observation ids */
    strtab_t *labels; /* label strings */
    uint32_t *camp;   /* per id: campaign label or UINT32_MAX */
    uint32_t *ident;  /* per id: identity label or UINT32_MAX */
    size_t cap;       /* allocated */
    bool complete;    /* every upsert carried both labels */
} s_truth_t;

/*  Notes the truth labels of one input record (by its id; a delete has none). */
static void
s_truth_note_fields(s_truth_t *t, const char *id, bool is_delete, const char *campaign,
                    const char *identity)
{
    if (is_delete || !id) {
        return;
    }
    uint32_t i = strtab_intern(t->ids, id, strlen(id));
    if (i >= t->cap) {
        size_t old = t->cap;
        size_t cap = old ? old : 1024;
        while (cap <= i) {
            cap *= 2;
        }
        t->camp = xrealloc(t->camp, cap * sizeof *t->camp);
        t->ident = xrealloc(t->ident, cap * sizeof *t->ident);
        t->cap = cap;
    }
    if (!campaign || !identity) {
        t->complete = false;
        return;
    }
    t->camp[i] = strtab_intern(t->labels, campaign, strlen(campaign));
    t->ident[i] = strtab_intern(t->labels, identity, strlen(identity));
}

static void
s_truth_note(s_truth_t *t, const obs_t *o)
{
    s_truth_note_fields(t, o->id, o->op == OBS_DELETE, o->truth_campaign, o->truth_identity);
}

/*  Scores the assignments file against the truth at both layers. */
static void
s_print_metrics(const char *assignments, const s_truth_t *t, FILE *out)
{
    assign_reader_t *r = assign_reader_open(assignments, OBS_FORMAT_AUTO);
    if (!r) {
        return;
    }
    size_t n = strtab_count(t->ids);
    uint32_t *tc = xcalloc(n + 1, sizeof *tc);
    uint32_t *ti = xcalloc(n + 1, sizeof *ti);
    uint32_t *pc = xcalloc(n + 1, sizeof *pc);
    uint32_t *pi = xcalloc(n + 1, sizeof *pi);
    strtab_t *pred = strtab_new();
    size_t k = 0;
    assign_t a;
    obs_error_t e;
    bool ok = true;
    while (ok && assign_reader_next(r, &a, &e) == 1) {
        uint32_t i = strtab_find(t->ids, a.id, strlen(a.id));
        if (i == STRTAB_NONE || !a.identity || !a.campaign || k >= n) {
            ok = false;
        } else {
            tc[k] = t->camp[i];
            ti[k] = t->ident[i];
            pc[k] = strtab_intern(pred, a.campaign, strlen(a.campaign));
            pi[k] = strtab_intern(pred, a.identity, strlen(a.identity));
            k++;
        }
        assign_clear(&a);
    }
    assign_reader_destroy(&r);
    metrics_t mc;
    metrics_t mi;
    if (ok && k > 0 && metrics_score(tc, pc, k, &mc) == 0 && metrics_score(ti, pi, k, &mi) == 0) {
        const metrics_t *m[2] = {&mc, &mi};
        const char *name[2] = {"campaign", "identity"};
        fprintf(out, "{\n");
        for (int j = 0; j < 2; j++) {
            fprintf(out,
                    "  \"%s\": {\"adjusted_rand_index\": %.17g, \"homogeneity\": %.17g, "
                    "\"completeness\": %.17g, \"singleton_recall\": %.17g, "
                    "\"pairwise_precision\": %.17g, \"pairwise_recall\": %.17g, "
                    "\"pairwise_f1\": %.17g, \"v_measure\": %.17g}%s\n",
                    name[j], m[j]->adjusted_rand_index, m[j]->homogeneity, m[j]->completeness,
                    m[j]->singleton_recall, m[j]->pairwise_precision, m[j]->pairwise_recall,
                    m[j]->pairwise_f1, m[j]->v_measure, j == 0 ? "," : "");
        }
        fprintf(out, "}\n");
    }
    strtab_destroy(&pred);
    free(tc);
    free(ti);
    free(pc);
    free(pi);
}

/*  Where a log adapter's observations go: the feeder, and the truth notes. */
typedef struct {
    feeder_t *fd;     /* the engine's ingest client */
    s_truth_t *truth; /* truth labels (Cowrie observations carry none) */
    bool decnet;      /* the DECNET adapter's records (their sessions get named) */
} s_adapter_ctx_t;

static int
s_submit(const obs_t *obs, void *arg)
{
    s_adapter_ctx_t *ctx = arg;
    int rc = feeder_submit(ctx->fd, obs, S_TIMEOUT_MS);
    if (rc != 0) {
        fprintf(stderr, "cadre run: the engine stopped answering: %s\n", cadre_strerror(rc));
    }
    return rc;
}

/*  A log adapter's records are appends, as `cadre send` sends them: a run resuming a data
    directory adds to what it holds. */
static int
s_adapter_sink(const obs_t *obs, void *arg)
{
    s_adapter_ctx_t *ctx = arg;
    s_truth_note(ctx->truth, obs);
    return adapter_append(obs, ctx->decnet, s_submit, ctx);
}

/*  One input record on its way to the broker, as MessagePack bytes. */
typedef struct {
    s_truth_t *truth;  /* where its truth labels go */
    wire_buf_t buf;    /* the encoding of a JSON record */
    const char *bytes; /* the record: the reader's message or buf (borrowed) */
    size_t len;        /* its length */
} s_raw_t;

/*  The decode step of the corpus reader. A MessagePack record goes to the broker as it is
    (the broker validates it and answers ERROR for a bad one), so it is only peeked at for
    its id and truth labels: one decode per record in the whole run. A JSON record is
    decoded (its errors named here) and encoded. */
static int
s_raw_decode(const char *data, size_t len, obs_format_t format, uint64_t record, void *out,
             obs_error_t *err)
{
    s_raw_t *raw = out;
    if (format == OBS_FORMAT_MSGPACK) {
        wire_peek_t peek;
        int rc = wire_obs_peek(data, len, record, &peek, err);
        if (rc == 0) {
            s_truth_note_fields(raw->truth, peek.id, peek.is_delete, peek.truth_campaign,
                                peek.truth_identity);
            wire_peek_clear(&peek);
            raw->bytes = data;
            raw->len = len;
        }
        return rc;
    }
    obs_t *obs = NULL;
    int rc = jsonio_obs_decode(data, len, record, &obs, err);
    if (rc == 0) {
        s_truth_note(raw->truth, obs);
        wire_buf_reset(&raw->buf);
        rc = wire_obs_encode(obs, &raw->buf, err);
        raw->bytes = raw->buf.data;
        raw->len = raw->buf.len;
    }
    obs_destroy(&obs);
    return rc;
}

/*  Feeds the corpus; returns the number of bad input records, or -1 on a transport
    failure. *all_bad is set when every line of Cowrie input was bad (they are not counted
    as bad records). */
static int64_t
s_feed(const s_opts_t *o, feeder_t *fd, s_truth_t *truth, bool *all_bad)
{
    if (o->cowrie) {
        s_adapter_ctx_t ctx = {.fd = fd, .truth = truth};
        int crc = cowrie_in_run("run", o->files, o->n_files, &o->copts, s_adapter_sink, &ctx);
        *all_bad = crc == CLI_EX_DATAERR;
        return crc == 0 || *all_bad ? 0 : -1;
    }
    if (o->decnet) {
        s_adapter_ctx_t ctx = {.fd = fd, .truth = truth, .decnet = true};
        int crc = decnet_in_run("run", o->files, o->n_files, &o->dopts, s_adapter_sink, &ctx);
        *all_bad = crc == CLI_EX_DATAERR;
        return crc == 0 || *all_bad ? 0 : -1;
    }
    obs_reader_t *r = obs_reader_open(o->corpus, o->format);
    if (!r) {
        return -1;
    }
    int64_t bad = 0;
    bool tty = !o->quiet && isatty(fileno(stderr));
    uint64_t sent = 0;
    s_raw_t raw = {.truth = truth};
    wire_buf_init(&raw.buf);
    for (;;) {
        obs_error_t e;
        int got = obs_reader_next_as(r, s_raw_decode, &raw, &e);
        if (got == 0) {
            break;
        }
        if (got == CADRE_ERECORD || got == CADRE_ETRUNC) {
            if (bad++ < 20) {
                char line[1024];
                obs_error_format(&e, obs_reader_source(r), line, sizeof line);
                fprintf(stderr, "cadre run: %s\n", line);
            }
            continue;
        }
        if (got < 0) {
            bad = -1;
            break;
        }
        int rc = feeder_submit_raw(fd, raw.bytes, raw.len, S_TIMEOUT_MS);
        if (rc != 0) {
            fprintf(stderr, "cadre run: the engine stopped answering: %s\n", cadre_strerror(rc));
            bad = -1;
            break;
        }
        if (tty && ++sent % 10000 == 0) {
            fprintf(stderr, "\r%" PRIu64 " submitted, %" PRIu64 " acknowledged", sent,
                    feeder_acked(fd));
        }
    }
    if (tty) {
        fprintf(stderr, "\r%*s\r", 60, "");
    }
    wire_buf_free(&raw.buf);
    obs_reader_destroy(&r);
    return bad;
}

static int s_run(const s_opts_t *opts);

int
cmd_run(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc != 0) {
        free(o.files);
        cowrie_in_opts_clear(&o.copts);
        return prc > 0 ? 0 : -prc;
    }
    int rc = s_run(&o);
    free(o.files);
    cowrie_in_opts_clear(&o.copts);
    return rc;
}

/*  Runs the engine on parsed options; returns the exit status. */
static int
s_run(const s_opts_t *opts)
{
    s_opts_t o = *opts;
    cfg_t cfg;
    char err[1024];
    if (o.config) {
        int rc = cfg_load_file(&cfg, o.config, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "cadre run: %s\n", err);
            return rc == CADRE_ECONFIG ? CLI_EX_CONFIG : 1;
        }
    } else {
        cfg_defaults(&cfg);
    }
    const char *endpoints[] = {cfg.broker.ingest, cfg.broker.backend, cfg.merger.shards,
                               cfg.merger.events, cfg.merger.query};
    for (size_t i = 0; i < 5 && cfg.curve.enabled; i++) {
        if (curve_applies(endpoints[i])) {
            /* Every role here would share one certificate: CURVE needs separate processes. */
            fprintf(stderr,
                    "cadre run: %s: curve.enabled with %s: the embedded engine does not apply "
                    "CURVE; run cadre-broker, cadre-merger and cadre-shard instead\n",
                    o.config, endpoints[i]);
            cfg_clear(&cfg);
            return CLI_EX_CONFIG;
        }
    }
    if (o.shards) {
        cfg.shards = o.shards;
    } else if (!o.config) {
        /* Embedded shards are threads beside the broker, the merger and the feeder: one per
           two cores, 1 to 4 (on 2 cores 1 shard ran 100k observations 17% faster than 4;
           the result is the same for any count). */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cfg.shards = cpus >= 8 ? 4 : cpus >= 2 ? (int)(cpus / 2) : 1;
    }
    /* The data directory: --data-dir, else the configuration's data_dir when the file sets
       it, else a fresh temporary one. Only that temporary one is removed at the end: a
       directory the user named holds state that the next run (a restarted --listen) resumes. */
    const char *named = o.data_dir ? o.data_dir : cfg.data_dir_set ? cfg.data_dir : NULL;
    char *tmp = NULL;
    if (named) {
        char *dir = xstrdup(named);
        free(cfg.data_dir);
        cfg.data_dir = dir;
        struct stat st;
        int dir_err = 0;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            dir_err = errno;
        } else if (stat(dir, &st) != 0) {
            dir_err = errno;
        } else if (!S_ISDIR(st.st_mode)) {
            dir_err = ENOTDIR;
        }
        if (dir_err != 0) {
            fprintf(stderr, "cadre run: data directory %s: %s\n", dir, strerror(dir_err));
            cfg_clear(&cfg);
            return 1;
        }
    } else {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char *tmpl = xasprintf("%s/cadre-run.XXXXXX", base);
        tmp = mkdtemp(tmpl) ? tmpl : NULL;
        if (!tmp) {
            fprintf(stderr, "cadre run: cannot create a data directory in %s: %s\n", base,
                    strerror(errno));
            free(tmpl);
            cfg_clear(&cfg);
            return 1;
        }
        free(cfg.data_dir);
        cfg.data_dir = xstrdup(tmp);
    }
    /* The roles' routine lines would drown the summary; a configuration can ask for them. */
    log_set_level(o.config ? cfg.log_level : LOG_LEVEL_WARN);
    zsys_init();
    zsys_handler_set(NULL);

    int rc = 0;
    zactor_t *merger = zactor_new(merger_actor, &cfg);
    zactor_t *broker = zactor_new(broker_actor, &cfg);
    zactor_t **shards = xcalloc((size_t)cfg.shards, sizeof *shards);
    shard_args_t *sargs = xcalloc((size_t)cfg.shards, sizeof *sargs);
    for (int k = 0; k < cfg.shards; k++) {
        sargs[k] = (shard_args_t){&cfg, (uint32_t)k};
        shards[k] = zactor_new(shard_actor, &sargs[k]);
    }
    /* Events are received only to be written: without --events nobody subscribes, and the
       merger's PUB socket drops them at no cost (the summary then counts what it published). */
    zsock_t *sub = o.events ? zsock_new_sub(cfg.merger.events, "") : NULL;
    if (sub) {
        zsock_set_rcvtimeo(sub, 0);
        zsock_set_rcvhwm(sub, 0);
    }
    FILE *events_file = o.events ? fopen(o.events, "wb") : NULL;
    s_events_t ev = {.file = events_file,
                     .format = o.events ? obs_format_from_path(o.events) : OBS_FORMAT_JSONL};
    s_truth_t truth = {.ids = strtab_new(), .labels = strtab_new(), .complete = true};
    feeder_t *fd = feeder_new(cfg.broker.ingest, NULL, 1000, sub, sub ? s_on_event : NULL, &ev);
    if (o.events && !events_file) {
        fprintf(stderr, "cadre run: cannot write %s: %s\n", o.events, strerror(errno));
        rc = 1;
    }
    int64_t bad = 0;
    bool all_bad = false;
    if (rc == 0 && o.listen) {
        sigev_t *sig = sig_new();
        fprintf(stderr, "cadre run: listening on %s (TERM/INT to stop), state in %s\n",
                cfg.broker.ingest, cfg.data_dir);
        if (tmp) {
            fprintf(stderr,
                    "cadre run: %s is temporary and removed on exit; set data_dir in the "
                    "configuration or --data-dir to keep the state\n",
                    tmp);
        }
        while (!sig_stopping(sig)) {
            zmq_pollitem_t it[2] = {{NULL, sig_fd(sig), ZMQ_POLLIN, 0},
                                    {sub ? zsock_resolve(sub) : NULL, 0, ZMQ_POLLIN, 0}};
            if (zmq_poll(it, sub ? 2 : 1, 1000) > 0) {
                if (it[0].revents & ZMQ_POLLIN) {
                    sig_take(sig);
                }
                if (sub && (it[1].revents & ZMQ_POLLIN)) {
                    s_on_event(sub, &ev);
                }
            }
        }
        sig_destroy(&sig);
    } else if (rc == 0) {
        bad = s_feed(&o, fd, &truth, &all_bad);
        uint64_t seq = 0;
        if (bad < 0 || feeder_flush(fd, S_TIMEOUT_MS, &seq) != 0) {
            fprintf(stderr, "cadre run: the engine did not finish\n");
            rc = 1;
        }
    }
    /* Wait until every published event arrived on the subscriber. */
    if (rc == 0) {
        zstr_send(merger, "EVENTS");
        char *count = zstr_recv(merger);
        uint64_t published = count ? strtoull(count, NULL, 10) : 0;
        zstr_free(&count);
        int64_t deadline = zclock_mono() + 30000;
        while (sub && ev.received < published && zclock_mono() < deadline) {
            feeder_pump(fd, 100);
        }
        if (!sub) {
            ev.received = published;
        }
    }
    char *tmp_assign = NULL;
    if (rc == 0) {
        const char *assignments = o.out;
        if (!assignments && truth.complete && !o.listen) {
            /* A file of its own, removed after scoring: the data directory may be the user's. */
            tmp_assign = xasprintf("%s/run-assignments.XXXXXX", cfg.data_dir);
            int afd = mkstemp(tmp_assign);
            if (afd >= 0) {
                close(afd);
                assignments = tmp_assign;
            } else {
                free(tmp_assign);
                tmp_assign = NULL;
            }
        }
        obs_format_t fmt = o.out ? obs_format_from_path(o.out) : OBS_FORMAT_JSONL;
        zstr_sendm(merger, "DUMP");
        zstr_sendm(merger, assignments ? assignments : "");
        zstr_sendm(merger, o.identities ? o.identities : "");
        zstr_sendm(merger, o.campaigns ? o.campaigns : "");
        zstr_send(merger, fmt == OBS_FORMAT_MSGPACK ? "msgpack" : "jsonl");
        char *reply = zstr_recv(merger);
        if (!reply || strcmp(reply, "OK") != 0) {
            fprintf(stderr, "cadre run: writing outputs failed: %s\n", reply ? reply : "?");
            rc = 1;
        }
        zstr_free(&reply);
        if (rc == 0 && !o.quiet) {
            zstr_send(merger, "SUMMARY");
            char *text = zstr_recv(merger);
            printf("%" PRIu64 " records acknowledged, %" PRIu64 " refused by the broker, %" PRId64
                   " unreadable; %" PRIu64 " events\n%s",
                   feeder_acked(fd), feeder_rejected(fd), bad, ev.received, text ? text : "");
            zstr_free(&text);
            if (truth.complete && assignments && strtab_count(truth.ids) > 0) {
                s_print_metrics(assignments, &truth, stdout);
            }
        }
    }
    if (tmp_assign) {
        unlink(tmp_assign);
        free(tmp_assign);
    }
    uint64_t rejected = feeder_rejected(fd);
    feeder_destroy(&fd);
    if (events_file && (fclose(events_file) != 0 || ev.failed != 0)) {
        fprintf(stderr, "cadre run: writing %s failed\n", o.events);
        rc = 1;
    }
    zsock_destroy(&sub);
    for (int k = 0; k < cfg.shards; k++) {
        zactor_destroy(&shards[k]);
    }
    zactor_destroy(&broker);
    zactor_destroy(&merger);
    free(shards);
    free(sargs);
    strtab_destroy(&truth.ids);
    strtab_destroy(&truth.labels);
    free(truth.camp);
    free(truth.ident);
    if (tmp) {
        s_rm_rf(tmp);
        free(tmp);
    }
    cfg_clear(&cfg);
    if (rc == 0 && (bad > 0 || all_bad || rejected > 0)) {
        rc = CLI_EX_DATAERR;
    }
    return rc;
}
