/*  cmd_sub.c - `cadre sub`: subscribes to a merger's event socket (docs/events.md §2) and
    writes each event as one JSON line, or the envelopes as published. It stops after N
    events, after T ms without one, or on TERM/INT (common/sig.h).

    Readiness: a SUB socket's connection is asynchronous, and events published before the
    subscription reaches the merger are not delivered to it. The command watches its own
    socket (zmq_socket_monitor) and prints "cadre sub: subscribed to E" on stderr once the
    connection's handshake has completed, which is when ZeroMQ hands the subscriptions to
    the publisher: scripts wait for that line before sending inputs.
*/
#include "cmds.h"
#include "endpoint.h"
#include "err.h"
#include "jsonio.h"
#include "obs_stream.h"
#include "sig.h"
#include "wire.h"
#include "xalloc.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_REPORTED 20         /* undecodable events printed in full */
#define S_POLL_MS 1000            /* longest single wait of the loop */
#define S_MAX_TIMEOUT_MS 86400000 /* largest --timeout-ms: a day */
#define S_MONITOR "inproc://cadre-sub-monitor"

/*  Options of one run. */
typedef struct {
    const char *endpoint; /* --endpoint, or NULL */
    const char *config;   /* --config, or NULL */
    const char *cert;     /* --cert, or NULL */
    char **topics;        /* topic prefixes (none: every topic), borrowed from argv */
    int n_topics;         /* count */
    uint64_t count;       /* stop after this many events (0: no limit) */
    int timeout_ms;       /* stop after this much silence (0: no limit) */
    obs_format_t format;  /* JSONL (default) or MSGPACK */
    const char *out;      /* output path, or NULL for stdout */
} s_opts_t;

/*  What the loop has done. */
typedef struct {
    FILE *file;        /* output (borrowed) */
    uint64_t received; /* events received */
    uint64_t bad;      /* events that did not decode */
    int failed;        /* first write error (-errno), or 0 */
} s_state_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre sub (--endpoint E | --config FILE) [--topic PREFIX]... [--count N]\n"
            "                 [--timeout-ms T] [--format jsonl|msgpack] [--out FILE]\n"
            "                 [--cert FILE]\n\n"
            "Subscribes to a merger's event socket (merger.events with --config) and writes\n"
            "each event as one JSON line, or with --format msgpack the envelopes as published,\n"
            "back to back. --topic keeps only topics starting with PREFIX (repeatable). Stops\n"
            "after N events, after T ms without an event, or on TERM/INT. Prints\n"
            "'cadre sub: subscribed to E' on stderr once connected, and the number of events\n"
            "at the end. With --config and curve.enabled it connects with CURVE using the\n"
            "certificate --cert FILE (default curve.client_secret_key_file, else\n"
            "curve.secret_key_file). Exit status: 0, 65 when an event did not decode, 1 on a\n"
            "write error.\n");
}

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
    *o = (s_opts_t){.format = OBS_FORMAT_JSONL};
    o->topics = xcalloc((size_t)argc + 1, sizeof *o->topics);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        long long n = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(a, "--endpoint") == 0 && v) {
            o->endpoint = argv[++i];
        } else if (strcmp(a, "--config") == 0 && v) {
            o->config = argv[++i];
        } else if (strcmp(a, "--cert") == 0 && v) {
            o->cert = argv[++i];
        } else if (strcmp(a, "--topic") == 0 && v) {
            o->topics[o->n_topics++] = argv[++i];
        } else if (strcmp(a, "--count") == 0 && v) {
            if (!s_int(argv[++i], 1, INT64_MAX, &n)) {
                fprintf(stderr, "cadre sub: --count wants a positive integer\n");
                return -CLI_EX_USAGE;
            }
            o->count = (uint64_t)n;
        } else if (strcmp(a, "--timeout-ms") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_TIMEOUT_MS, &n)) {
                fprintf(stderr, "cadre sub: --timeout-ms wants 1..%d\n", S_MAX_TIMEOUT_MS);
                return -CLI_EX_USAGE;
            }
            o->timeout_ms = (int)n;
        } else if (strcmp(a, "--format") == 0 && v) {
            if (obs_format_parse(argv[++i], &o->format) != 0 || o->format == OBS_FORMAT_AUTO) {
                fprintf(stderr, "cadre sub: --format wants jsonl or msgpack\n");
                return -CLI_EX_USAGE;
            }
        } else if (strcmp(a, "--out") == 0 && v) {
            o->out = argv[++i];
        } else {
            fprintf(stderr, "cadre sub: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        }
    }
    return 0;
}

/*  Writes one event (its envelope) in the chosen format. */
static void
s_write_event(const s_opts_t *o, s_state_t *st, const void *data, size_t len)
{
    if (st->failed) {
        return;
    }
    if (o->format == OBS_FORMAT_MSGPACK) {
        if (fwrite(data, 1, len, st->file) != len) {
            st->failed = -errno;
        }
        return;
    }
    wire_event_t *ev = NULL;
    char err[256];
    char *line = NULL;
    size_t n = 0;
    int rc = wire_event_decode(data, len, &ev, err, sizeof err);
    if (rc == 0) {
        rc = jsonio_event_print(ev, &line, &n);
        if (rc != 0) {
            snprintf(err, sizeof err, "%s", cadre_strerror(rc));
        }
    }
    if (rc != 0) {
        if (st->bad++ < S_MAX_REPORTED) {
            fprintf(stderr, "cadre sub: undecodable event %" PRIu64 ": %s\n", st->received, err);
        }
    } else if (fwrite(line, 1, n, st->file) != n || fputc('\n', st->file) == EOF) {
        st->failed = -errno;
    }
    free(line);
    wire_event_free(&ev);
}

/*  Reads every event waiting on sub, up to the count. */
static void
s_drain(const s_opts_t *o, s_state_t *st, zsock_t *sub)
{
    zmsg_t *m;
    while ((!o->count || st->received < o->count) && (m = zmsg_recv(sub)) != NULL) {
        zframe_t *topic = zmsg_first(m);
        zframe_t *body = zmsg_next(m);
        st->received++;
        if (topic && body && !zmsg_next(m)) {
            s_write_event(o, st, zframe_data(body), zframe_size(body));
        } else if (st->bad++ < S_MAX_REPORTED) {
            fprintf(stderr, "cadre sub: event %" PRIu64 " is not [topic, envelope]\n",
                    st->received);
        }
        zmsg_destroy(&m);
    }
    /* Flushed per batch, so a reader of the file sees every event already received. */
    if (fflush(st->file) != 0 && !st->failed) {
        st->failed = -errno;
    }
}

/*  Reads monitor events; says "subscribed" on each completed handshake. */
static void
s_on_monitor(zsock_t *mon, const char *endpoint)
{
    zmsg_t *m;
    while ((m = zmsg_recv(mon)) != NULL) {
        zframe_t *head = zmsg_first(m);
        if (head && zframe_size(head) >= 2) {
            uint16_t event;
            memcpy(&event, zframe_data(head), sizeof event);
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
                fprintf(stderr, "cadre sub: subscribed to %s\n", endpoint);
            }
        }
        zmsg_destroy(&m);
    }
}

/*  Runs the loop until the count, the silence limit or a signal. */
static void
s_loop(const s_opts_t *o, s_state_t *st, zsock_t *sub, zsock_t *mon, sigev_t *sig,
       const char *endpoint)
{
    int64_t last = zclock_mono();
    while ((!o->count || st->received < o->count) && !st->failed) {
        int wait = S_POLL_MS;
        if (o->timeout_ms) {
            int64_t left = last + o->timeout_ms - zclock_mono();
            if (left <= 0) {
                break;
            }
            wait = left < wait ? (int)left : wait;
        }
        zmq_pollitem_t it[3] = {{zsock_resolve(sub), 0, ZMQ_POLLIN, 0},
                                {zsock_resolve(mon), 0, ZMQ_POLLIN, 0},
                                {NULL, sig_fd(sig), ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 3, wait) < 0 && zmq_errno() != EINTR) {
            break;
        }
        if ((it[2].revents & ZMQ_POLLIN) && sig_take(sig) && sig_stopping(sig)) {
            break;
        }
        if (it[1].revents & ZMQ_POLLIN) {
            s_on_monitor(mon, endpoint);
        }
        if (it[0].revents & ZMQ_POLLIN) {
            uint64_t before = st->received;
            s_drain(o, st, sub);
            if (st->received != before) {
                last = zclock_mono();
            }
        }
    }
}

int
cmd_sub(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc != 0) {
        free(o.topics);
        return prc > 0 ? 0 : -prc;
    }
    char *endpoint = NULL;
    curve_t *curve = NULL;
    int rc =
        endpoint_resolve("sub", o.endpoint, o.config, o.cert, ENDPOINT_EVENTS, &endpoint, &curve);
    if (rc != 0) {
        free(o.topics);
        return rc;
    }
    FILE *file = stdout;
    if (o.out && strcmp(o.out, "-") != 0 && !(file = fopen(o.out, "wb"))) {
        fprintf(stderr, "cadre sub: cannot write %s: %s\n", o.out, strerror(errno));
        curve_destroy(&curve);
        free(endpoint);
        free(o.topics);
        return 1;
    }
    zsys_init();
    sigev_t *sig = sig_new();
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_t *mon = zsock_new(ZMQ_PAIR);
    if (!sig || !sub || !mon) {
        fprintf(stderr, "cadre sub: cannot set up the event loop\n");
        rc = 1;
    }
    s_state_t st = {.file = file};
    if (rc == 0) {
        zsock_set_rcvtimeo(sub, 0);
        zsock_set_rcvtimeo(mon, 0);
        zsock_set_linger(sub, 0);
        zsock_set_linger(mon, 0);
        /* Events are never dropped for want of buffer, as on the merger's side. */
        zsock_set_rcvhwm(sub, 0);
        for (int i = 0; i < o.n_topics; i++) {
            zsock_set_subscribe(sub, o.topics[i]);
        }
        if (o.n_topics == 0) {
            zsock_set_subscribe(sub, "");
        }
        if (curve) {
            curve_connect(curve, sub);
        }
        if (zmq_socket_monitor(zsock_resolve(sub), S_MONITOR, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
            zsock_connect(mon, S_MONITOR) != 0 || zsock_connect(sub, "%s", endpoint) != 0) {
            fprintf(stderr, "cadre sub: cannot connect to %s: %s\n", endpoint,
                    zmq_strerror(zmq_errno()));
            rc = 1;
        }
    }
    if (rc == 0) {
        s_loop(&o, &st, sub, mon, sig, endpoint);
        if (st.failed) {
            fprintf(stderr, "cadre sub: writing %s: %s\n", o.out ? o.out : "stdout",
                    strerror(-st.failed));
            rc = 1;
        }
        if (st.bad > S_MAX_REPORTED) {
            fprintf(stderr, "cadre sub: ... and %" PRIu64 " more undecodable events\n",
                    st.bad - S_MAX_REPORTED);
        }
        fprintf(stderr, "cadre sub: %" PRIu64 " events\n", st.received);
    }
    if (sub) {
        zmq_socket_monitor(zsock_resolve(sub), NULL, 0);
    }
    zsock_destroy(&mon);
    zsock_destroy(&sub);
    if (file != stdout && fclose(file) != 0 && rc == 0) {
        fprintf(stderr, "cadre sub: writing %s: %s\n", o.out, strerror(errno));
        rc = 1;
    }
    if (rc == 0 && st.bad > 0) {
        rc = CLI_EX_DATAERR;
    }
    sig_destroy(&sig);
    curve_destroy(&curve);
    free(endpoint);
    free(o.topics);
    zsys_shutdown();
    return rc;
}
