/*  stream_bench.c - sustained ingest and ack -> identity-event latency of a running engine,
    for `make bench` (bench/run.sh, docs/bench.md "streaming").

    usage: cadre_stream_bench --ingest E --events E CORPUS --seconds T
                              [--window W] [--rate R] [--flush-ms F] [--sent FILE]
                              [--timeout-ms T]

    A DEALER sends SUBMIT (docs/protocol.md §4) for the MessagePack records of CORPUS in order,
    keeping at most W (default 1000, as `cadre send`) unacknowledged, for T seconds of wall
    time (or until the corpus ends), at most R records per second when R > 0. Every ACK's
    arrival time is recorded against the record. A SUB socket on the merger's event PUB
    (docs/events.md) is subscribed to identity.formed and identity.observation.linked, the two
    events that give a new observation its first identity; the first such event naming an
    observation gives its event time. With --flush-ms F the client also sends FLUSH every F ms
    (one at a time: the next only after the previous FLUSHED), making the last acknowledged
    input a reconciliation point (docs/protocol.md §4), so the latency is not dominated by
    the wait for the next clustering.reconcile_every point. After T seconds the client sends
    FLUSH, waits for FLUSHED (the engine has reconciled everything acknowledged) and listens
    one more second for events. Both sockets are serviced by one poll loop, so the two clocks
    are the same (CLOCK_MONOTONIC) and an event is stamped when the client reads it.

    Prints one JSON object on standard output:
      sent, acked, rejected, seconds (the sending period), obs_per_s (acked / seconds),
      obs_per_s_2nd_half (acks in the second half of the period / its length: the sustained
      rate once queues filled), flushes (periodic FLUSHes answered), flush_s (FLUSH ->
      FLUSHED), matched (acked records that got their identity event), missing (acked
      records that got none), lat_ms_p50/p90/p99/max (ack -> identity event), ack_ms_p50/p99
      (submit -> ack), client_cpu_s.
    With --sent FILE the records actually submitted are written there back to back, so the
    run's assignments can be scored against exactly that corpus.

    Exit status: 0; 1 when the broker stopped answering (--timeout-ms, default 60000) or an
    I/O error; 2 on a usage error; 65 when a record of CORPUS did not decode.
*/
#include "err.h"
#include "obs.h"
#include "proto.h"
#include "wire.h"
#include "xalloc.h"

#include <czmq.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double
s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*  --------------------------------------------------------------------------------------
    Records sent so far: times per record, and an id hash -> index table */

typedef struct {
    double *submit_t; /* submit time per record (index = ref - 1) */
    double *ack_t;    /* ack time, 0 until acknowledged */
    double *event_t;  /* first identity event time, 0 until seen */
    size_t n, cap;    /* records, allocated */
    uint64_t *keys;   /* open addressing: id hash, 0 = empty slot */
    uint32_t *vals;   /* record index + 1 */
    size_t slots;     /* table size (a power of two) */
} s_book_t;

static uint64_t
s_hash(const char *id, size_t len)
{
    uint64_t h = XXH3_64bits(id, len);
    return h ? h : 1;
}

static void
s_table_put(s_book_t *b, uint64_t h, uint32_t val)
{
    size_t mask = b->slots - 1;
    size_t i = (size_t)h & mask;
    while (b->keys[i] != 0 && b->keys[i] != h) {
        i = (i + 1) & mask;
    }
    b->keys[i] = h;
    b->vals[i] = val;
}

static void
s_table_grow(s_book_t *b)
{
    uint64_t *ok = b->keys;
    uint32_t *ov = b->vals;
    size_t os = b->slots;
    b->slots = os ? 2 * os : 1u << 16;
    b->keys = xcalloc(b->slots, sizeof *b->keys);
    b->vals = xcalloc(b->slots, sizeof *b->vals);
    for (size_t i = 0; i < os; i++) {
        if (ok[i]) {
            s_table_put(b, ok[i], ov[i]);
        }
    }
    free(ok);
    free(ov);
}

/*  Adds a record with id; returns its index. */
static size_t
s_book_add(s_book_t *b, const char *id, double t)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1u << 16;
        b->submit_t = xrealloc(b->submit_t, b->cap * sizeof *b->submit_t);
        b->ack_t = xrealloc(b->ack_t, b->cap * sizeof *b->ack_t);
        b->event_t = xrealloc(b->event_t, b->cap * sizeof *b->event_t);
    }
    if (2 * (b->n + 1) > b->slots) {
        s_table_grow(b);
    }
    size_t k = b->n++;
    b->submit_t[k] = t;
    b->ack_t[k] = 0;
    b->event_t[k] = 0;
    s_table_put(b, s_hash(id, strlen(id)), (uint32_t)(k + 1));
    return k;
}

/*  The index + 1 of the record with id, 0 when unknown. */
static size_t
s_book_find(const s_book_t *b, const char *id)
{
    if (!b->slots) {
        return 0;
    }
    uint64_t h = s_hash(id, strlen(id));
    size_t mask = b->slots - 1;
    for (size_t i = (size_t)h & mask; b->keys[i] != 0; i = (i + 1) & mask) {
        if (b->keys[i] == h) {
            return b->vals[i];
        }
    }
    return 0;
}

/*  --------------------------------------------------------------------------------------
    The client */

typedef struct {
    zsock_t *dealer;   /* to the broker's ingest */
    zsock_t *sub;      /* the merger's events */
    s_book_t book;     /* what was sent */
    uint64_t acked;    /* ACKs */
    uint64_t rejected; /* ERRORs for submissions */
    uint64_t in_flight;
    uint64_t flush_ref;  /* ref of the FLUSH, 0 before */
    bool flushed;        /* FLUSHED received */
    uint64_t tick_ref;   /* ref of the periodic FLUSH in flight, 0 when none */
    uint64_t ticks;      /* periodic FLUSHes answered */
    double half_t;       /* start of the second half of the sending period */
    uint64_t acked_half; /* ACKs received after half_t */
    uint64_t events;     /* identity events read */
    uint64_t bad_events; /* events that did not decode */
} s_client_t;

static void
s_mark_event(s_client_t *c, const char *id, double t)
{
    size_t k = s_book_find(&c->book, id);
    if (k && c->book.event_t[k - 1] == 0) {
        c->book.event_t[k - 1] = t;
    }
}

static void
s_on_events(s_client_t *c)
{
    zmsg_t *m;
    while ((m = zmsg_recv(c->sub)) != NULL) {
        double t = s_now();
        zframe_t *topic = zmsg_first(m), *body = zmsg_next(m);
        if (!topic || !body) {
            c->bad_events++;
            zmsg_destroy(&m);
            continue;
        }
        wire_event_t *ev = NULL;
        if (wire_event_decode((const char *)zframe_data(body), zframe_size(body), &ev, NULL, 0) !=
            0) {
            c->bad_events++;
            zmsg_destroy(&m);
            continue;
        }
        c->events++;
        if (ev->kind == EV_IDENTITY_FORMED) {
            for (size_t i = 0; i < ev->n_members; i++) {
                s_mark_event(c, ev->members[i], t);
            }
        } else if (ev->kind == EV_IDENTITY_LINKED) {
            for (size_t i = 0; i < ev->n_fields; i++) {
                if (strcmp(ev->fields[i].key, "observation_uuid") == 0 && ev->fields[i].value) {
                    s_mark_event(c, ev->fields[i].value, t);
                }
            }
        }
        wire_event_free(&ev);
        zmsg_destroy(&m);
    }
}

static void
s_on_replies(s_client_t *c)
{
    zmsg_t *m;
    while ((m = zmsg_recv(c->dealer)) != NULL) {
        double t = s_now();
        proto_frame_t f;
        uint64_t ref = 0;
        if (proto_parse(m, false, &f) == 0 && f.nparts > 0) {
            proto_get_u64(&f.parts[0], &ref);
            if (f.cmd == PROTO_ACK && ref >= 1 && ref <= c->book.n && c->book.ack_t[ref - 1] == 0) {
                c->book.ack_t[ref - 1] = t;
                c->acked++;
                c->in_flight--;
                if (c->half_t > 0 && t >= c->half_t) {
                    c->acked_half++;
                }
            } else if (f.cmd == PROTO_FLUSHED && ref == c->flush_ref) {
                c->flushed = true;
            } else if (f.cmd == PROTO_FLUSHED && ref == c->tick_ref) {
                c->tick_ref = 0;
                c->ticks++;
            } else if (f.cmd == PROTO_ERROR && ref >= 1 && ref <= c->book.n &&
                       c->book.ack_t[ref - 1] == 0) {
                c->book.ack_t[ref - 1] = -1;
                c->rejected++;
                c->in_flight--;
            }
        }
        zmsg_destroy(&m);
    }
}

/*  Polls both sockets for up to timeout_ms and services them; true when anything came. */
static bool
s_pump(s_client_t *c, int timeout_ms)
{
    zmq_pollitem_t items[2] = {{zsock_resolve(c->dealer), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(c->sub), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, timeout_ms) <= 0) {
        return false;
    }
    if (items[0].revents & ZMQ_POLLIN) {
        s_on_replies(c);
    }
    if (items[1].revents & ZMQ_POLLIN) {
        s_on_events(c);
    }
    return true;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*  The q-quantile (nearest rank) of v[0..n-1], sorted in place; 0 when n = 0. */
static double
s_quantile(double *v, size_t n, double q)
{
    if (n == 0) {
        return 0;
    }
    size_t k = (size_t)ceil(q * (double)n);
    return v[k == 0 ? 0 : k - 1];
}

static int
s_usage(void)
{
    fprintf(stderr, "usage: cadre_stream_bench --ingest E --events E CORPUS --seconds T\n"
                    "                          [--window W] [--rate R] [--sent FILE]"
                    " [--timeout-ms T]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *ingest = NULL, *events = NULL, *corpus = NULL, *sent_path = NULL;
    double seconds = 0, rate = 0, flush_ms = 0;
    long window = 1000, timeout_ms = 60000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--ingest") == 0 && more) {
            ingest = argv[++i];
        } else if (strcmp(a, "--events") == 0 && more) {
            events = argv[++i];
        } else if (strcmp(a, "--seconds") == 0 && more) {
            seconds = atof(argv[++i]);
        } else if (strcmp(a, "--rate") == 0 && more) {
            rate = atof(argv[++i]);
        } else if (strcmp(a, "--flush-ms") == 0 && more) {
            flush_ms = atof(argv[++i]);
        } else if (strcmp(a, "--window") == 0 && more) {
            window = atol(argv[++i]);
        } else if (strcmp(a, "--timeout-ms") == 0 && more) {
            timeout_ms = atol(argv[++i]);
        } else if (strcmp(a, "--sent") == 0 && more) {
            sent_path = argv[++i];
        } else if (a[0] == '-') {
            return s_usage();
        } else if (!corpus) {
            corpus = a;
        } else {
            return s_usage();
        }
    }
    if (!ingest || !events || !corpus || seconds <= 0 || window < 1 || timeout_ms < 1) {
        return s_usage();
    }
    FILE *in = fopen(corpus, "rb");
    if (!in) {
        perror(corpus);
        return 1;
    }
    FILE *sent = NULL;
    if (sent_path && !(sent = fopen(sent_path, "wb"))) {
        perror(sent_path);
        fclose(in);
        return 1;
    }
    wire_reader_t *reader = wire_reader_new(in, OBS_MAX_RECORD);

    s_client_t c;
    memset(&c, 0, sizeof c);
    c.sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(c.sub, 0);
    zsock_set_rcvtimeo(c.sub, 0);
    zsock_set_subscribe(c.sub, "identity.formed");
    zsock_set_subscribe(c.sub, "identity.observation.linked");
    zsock_connect(c.sub, "%s", events);
    c.dealer = zsock_new(ZMQ_DEALER);
    zsock_set_linger(c.dealer, 0);
    zsock_set_rcvtimeo(c.dealer, 0);
    zsock_set_sndhwm(c.dealer, 0);
    zsock_set_rcvhwm(c.dealer, 0);
    zsock_connect(c.dealer, "%s", ingest);
    zclock_sleep(300); /* the SUB's subscription reaches the PUB before the first event */

    int status = 0;
    double cpu0 = s_cpu();
    double t0 = s_now();
    double t_end = t0 + seconds;
    c.half_t = t0 + seconds / 2;
    double last_progress = t0;
    uint64_t last_answers = 0;
    bool eof = false;
    unsigned since_pump = 0;
    double last_tick = t0;
    uint64_t next_tick_ref = UINT64_C(1) << 62; /* far above any record's ref */
    while (!eof) {
        double now = s_now();
        if (now >= t_end) {
            break;
        }
        if (flush_ms > 0 && c.tick_ref == 0 && (now - last_tick) * 1000 >= flush_ms) {
            c.tick_ref = next_tick_ref++;
            zmsg_t *fm = proto_msg_new(PROTO_FLUSH);
            proto_add_u64(fm, c.tick_ref);
            if (zmsg_send(&fm, c.dealer) != 0) {
                zmsg_destroy(&fm);
            }
            last_tick = now;
        }
        bool room = c.in_flight < (uint64_t)window;
        bool due = rate <= 0 || (double)c.book.n < rate * (now - t0);
        if (room && due) {
            const char *data;
            size_t len;
            obs_error_t err;
            int rc = wire_reader_next(reader, &data, &len, &err);
            if (rc == 0) {
                eof = true;
                break;
            }
            /* Only the id is needed here (the broker validates the record): a peek costs
               a fraction of a full decode, leaving the CPU to the engine. */
            wire_peek_t pk = {0};
            if (rc < 0 || wire_obs_peek(data, len, wire_reader_messages(reader), &pk, &err) != 0 ||
                !pk.id) {
                fprintf(stderr, "cadre_stream_bench: %s: record %" PRIu64 " has no id\n", corpus,
                        wire_reader_messages(reader));
                wire_peek_clear(&pk);
                status = 65;
                break;
            }
            size_t k = s_book_add(&c.book, pk.id, now);
            wire_peek_clear(&pk);
            zmsg_t *m = proto_msg_new(PROTO_SUBMIT);
            proto_add_u64(m, (uint64_t)k + 1);
            proto_add_bytes(m, data, len);
            if (zmsg_send(&m, c.dealer) != 0) {
                zmsg_destroy(&m);
                fprintf(stderr, "cadre_stream_bench: send failed\n");
                status = 1;
                break;
            }
            c.in_flight++;
            if (sent && fwrite(data, 1, len, sent) != len) {
                perror(sent_path);
                status = 1;
                break;
            }
            if (++since_pump >= 32) { /* one poll per 32 sends, not per record */
                since_pump = 0;
                s_pump(&c, 0);
            }
        } else {
            since_pump = 0;
            int wait_ms = room ? 1 : (flush_ms > 0 ? 1 : 100);
            s_pump(&c, wait_ms);
        }
        now = s_now();
        if (c.acked + c.rejected != last_answers || c.in_flight == 0) {
            last_answers = c.acked + c.rejected;
            last_progress = now;
        } else if ((now - last_progress) * 1000 > (double)timeout_ms) {
            fprintf(stderr, "cadre_stream_bench: the broker stopped answering\n");
            status = 1;
            break;
        }
    }
    double t_stop = s_now();
    if (eof && t_stop < t_end) {
        fprintf(stderr, "cadre_stream_bench: the corpus ended after %.1f s (%zu records)\n",
                t_stop - t0, c.book.n);
    }
    double flush_s = 0;
    if (status == 0) {
        c.flush_ref = (uint64_t)c.book.n + 1;
        zmsg_t *m = proto_msg_new(PROTO_FLUSH);
        proto_add_u64(m, c.flush_ref);
        zmsg_send(&m, c.dealer);
        double last = s_now();
        uint64_t seen = c.acked + c.rejected;
        while (!(c.flushed && c.in_flight == 0)) {
            s_pump(&c, 100);
            double now = s_now();
            if (c.acked + c.rejected != seen) {
                seen = c.acked + c.rejected;
                last = now;
            } else if ((now - last) * 1000 > (double)timeout_ms) {
                fprintf(stderr, "cadre_stream_bench: no FLUSHED within the timeout\n");
                status = 1;
                break;
            }
        }
        flush_s = s_now() - t_stop;
        double until = s_now() + 1.0;
        while (s_now() < until) {
            s_pump(&c, 100);
        }
    }
    double cpu = s_cpu() - cpu0;
    double period = (eof ? t_stop : t_end) - t0;

    size_t n = c.book.n, matched = 0, missing = 0, answered = 0;
    double *lat = xmalloc((n ? n : 1) * sizeof *lat);
    double *ackl = xmalloc((n ? n : 1) * sizeof *ackl);
    for (size_t k = 0; k < n; k++) {
        double a = c.book.ack_t[k], e = c.book.event_t[k];
        if (a <= 0) {
            continue;
        }
        ackl[answered++] = a - c.book.submit_t[k];
        if (e > 0) {
            /* An event can be read before the ACK (both are in flight at once): 0. */
            lat[matched++] = e > a ? e - a : 0;
        } else {
            missing++;
        }
    }
    qsort(lat, matched, sizeof *lat, s_cmp_double);
    qsort(ackl, answered, sizeof *ackl, s_cmp_double);
    double half = period - seconds / 2;
    printf("{\"sent\": %zu, \"acked\": %" PRIu64 ", \"rejected\": %" PRIu64
           ", \"seconds\": %.3f, \"obs_per_s\": %.1f, \"obs_per_s_2nd_half\": %.1f, "
           "\"flushes\": %" PRIu64
           ", \"flush_s\": %.3f, \"matched\": %zu, \"missing\": %zu, \"events\": %" PRIu64
           ", \"bad_events\": %" PRIu64 ", \"lat_ms_p50\": %.3f, \"lat_ms_p90\": %.3f, "
           "\"lat_ms_p99\": %.3f, \"lat_ms_max\": %.3f, \"ack_ms_p50\": %.3f, "
           "\"ack_ms_p99\": %.3f, \"client_cpu_s\": %.3f}\n",
           n, c.acked, c.rejected, period, period > 0 ? (double)c.acked / period : 0,
           half > 0 ? (double)c.acked_half / half : 0, c.ticks, flush_s, matched, missing, c.events,
           c.bad_events, 1e3 * s_quantile(lat, matched, 0.50), 1e3 * s_quantile(lat, matched, 0.90),
           1e3 * s_quantile(lat, matched, 0.99), 1e3 * s_quantile(lat, matched, 1.0),
           1e3 * s_quantile(ackl, answered, 0.50), 1e3 * s_quantile(ackl, answered, 0.99), cpu);

    free(lat);
    free(ackl);
    free(c.book.submit_t);
    free(c.book.ack_t);
    free(c.book.event_t);
    free(c.book.keys);
    free(c.book.vals);
    zsock_destroy(&c.dealer);
    zsock_destroy(&c.sub);
    wire_reader_destroy(&reader);
    fclose(in);
    if (sent && fclose(sent) != 0) {
        perror(sent_path);
        status = status ? status : 1;
    }
    return status;
}
