/*  cmd_query.c - `cadre query`: asks a merger's query socket (docs/protocol.md §9) and
    prints the answer. Lists (assignments, identities, campaigns) are fetched page by page
    and written exactly as `cadre cluster --out / --identities / --campaigns` writes them.
*/
#include "assign.h"
#include "cmds.h"
#include "endpoint.h"
#include "err.h"
#include "jsonio.h"
#include "obs_stream.h"
#include "proto.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TIMEOUT_MS 10000        /* default wait for one reply */
#define S_MAX_TIMEOUT_MS 86400000 /* largest --timeout-ms: a day */
#define S_PAGE 1000               /* default items per page */
#define S_MAX_PAGE 10000          /* the merger's largest page */

/*  Options of one run. */
typedef struct {
    const char *endpoint; /* --endpoint, or NULL */
    const char *config;   /* --config, or NULL */
    const char *cert;     /* --cert, or NULL */
    const char *what;     /* the question: health, assignments, ... */
    const char *id;       /* its id (identity, campaign, assignment, members, explain), or NULL */
    const char *other;    /* explain: the second observation id, or NULL */
    const char *out;      /* output path, or NULL for stdout */
    int timeout_ms;       /* longest wait for one reply */
    uint64_t page;        /* items per page */
} s_opts_t;

/*  A connection to the merger's query socket. */
typedef struct {
    zsock_t *sock;  /* DEALER */
    uint64_t ref;   /* ref of the last query sent */
    int timeout_ms; /* longest wait for a reply */
    wire_buf_t buf; /* encoding scratch */
} s_conn_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre query (--endpoint E | --config FILE) QUESTION [--out FILE]\n"
            "                   [--page N] [--timeout-ms T] [--cert FILE]\n\n"
            "QUESTION is one of\n"
            "  health             the merger's counters (one JSON object)\n"
            "  assignments        {id, identity, campaign} per live observation, in input order\n"
            "  identities         every identity record, in formation order\n"
            "  campaigns          every campaign record, in formation order\n"
            "  members ID         the observations of identity ID, or the identities of\n"
            "                     campaign ID (after following merged_into), one per line\n"
            "  explain A B        why observations A and B share an identity or campaign\n"
            "  identity ID        the record of the live identity ID was merged into, or ID's\n"
            "  campaign ID        the same for a campaign\n"
            "  assignment ID      one observation's identity and campaign\n\n"
            "Asks the merger's query socket (merger.query with --config). Lists are fetched N\n"
            "items (default %d) at a time and written as `cadre cluster` writes them:\n"
            "assignments as JSON Lines or MessagePack (by the --out extension), records as JSON\n"
            "Lines. With --config and curve.enabled it connects with CURVE using the\n"
            "certificate --cert FILE (default curve.client_secret_key_file, else\n"
            "curve.secret_key_file). Exit status: 0, 1 when the merger answers with an error or\n"
            "not within T ms\n"
            "(default %d), 2 on a usage error.\n",
            S_PAGE, S_TIMEOUT_MS);
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

static bool
s_takes_id(const char *what)
{
    return strcmp(what, "identity") == 0 || strcmp(what, "campaign") == 0 ||
           strcmp(what, "assignment") == 0 || strcmp(what, "members") == 0 ||
           strcmp(what, "explain") == 0;
}

static bool
s_is_list(const char *what)
{
    return strcmp(what, "assignments") == 0 || strcmp(what, "identities") == 0 ||
           strcmp(what, "campaigns") == 0;
}

/*  Returns 0, 1 after --help, or a negative exit code. */
static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){.timeout_ms = S_TIMEOUT_MS, .page = S_PAGE};
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
        } else if (strcmp(a, "--out") == 0 && v) {
            o->out = argv[++i];
        } else if (strcmp(a, "--timeout-ms") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_TIMEOUT_MS, &n)) {
                fprintf(stderr, "cadre query: --timeout-ms wants 1..%d\n", S_MAX_TIMEOUT_MS);
                return -CLI_EX_USAGE;
            }
            o->timeout_ms = (int)n;
        } else if (strcmp(a, "--page") == 0 && v) {
            if (!s_int(argv[++i], 1, S_MAX_PAGE, &n)) {
                fprintf(stderr, "cadre query: --page wants 1..%d\n", S_MAX_PAGE);
                return -CLI_EX_USAGE;
            }
            o->page = (uint64_t)n;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cadre query: unknown or incomplete option '%s'\n", a);
            return -CLI_EX_USAGE;
        } else if (!o->what) {
            o->what = a;
        } else if (s_takes_id(o->what) && !o->id) {
            o->id = a;
        } else if (strcmp(o->what, "explain") == 0 && !o->other) {
            o->other = a;
        } else {
            fprintf(stderr, "cadre query: unexpected argument '%s'\n", a);
            return -CLI_EX_USAGE;
        }
    }
    if (!o->what) {
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    if (strcmp(o->what, "health") != 0 && !s_is_list(o->what) && !s_takes_id(o->what)) {
        fprintf(stderr, "cadre query: unknown question '%s'\n", o->what);
        return -CLI_EX_USAGE;
    }
    if (s_takes_id(o->what) && !o->id) {
        fprintf(stderr, "cadre query: %s wants an ID\n", o->what);
        return -CLI_EX_USAGE;
    }
    if (strcmp(o->what, "explain") == 0 && !o->other) {
        fprintf(stderr, "cadre query: explain wants two observation ids\n");
        return -CLI_EX_USAGE;
    }
    if (o->out && strcmp(o->what, "assignments") != 0 &&
        obs_format_from_path(o->out) == OBS_FORMAT_MSGPACK) {
        fprintf(stderr, "cadre query: %s are served as JSON; write them to a .jsonl file\n",
                o->what);
        return -CLI_EX_USAGE;
    }
    return 0;
}

/*  Sends one QUERY and waits for its REPLY, skipping replies to earlier queries. Returns
    0 with *reply filled (release with wmsg_reply_free), or -ETIMEDOUT / CADRE_EPROTO
    (said on stderr). */
static int
s_ask(s_conn_t *c, const wmsg_query_t *q, wmsg_reply_t *reply)
{
    wire_buf_reset(&c->buf);
    wmsg_query_encode(q, &c->buf);
    zmsg_t *m = proto_msg_new(PROTO_QUERY);
    proto_add_u64(m, ++c->ref);
    proto_add_body(m, &c->buf);
    if (zmsg_send(&m, c->sock) != 0) {
        zmsg_destroy(&m);
        fprintf(stderr, "cadre query: cannot send: %s\n", zmq_strerror(zmq_errno()));
        return -EIO;
    }
    int64_t deadline = zclock_mono() + c->timeout_ms;
    for (;;) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0) {
            fprintf(stderr, "cadre query: no reply from the merger within %d ms\n", c->timeout_ms);
            return -ETIMEDOUT;
        }
        zmq_pollitem_t it = {zsock_resolve(c->sock), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, left) <= 0) {
            continue;
        }
        zmsg_t *r = zmsg_recv(c->sock);
        if (!r) {
            continue;
        }
        proto_frame_t f;
        uint64_t ref = 0;
        int rc = 1;
        if (proto_parse(r, false, &f) != 0) {
            fprintf(stderr, "cadre query: malformed reply: %s\n", f.reason);
            rc = CADRE_EPROTO;
        } else if (f.cmd == PROTO_REPLY && proto_get_u64(&f.parts[0], &ref) == 0 && ref == c->ref) {
            char err[256];
            rc = wmsg_reply_decode(f.parts[1].data, f.parts[1].size, reply, err, sizeof err);
            if (rc != 0) {
                fprintf(stderr, "cadre query: undecodable reply: %s\n", err);
            }
        }
        zmsg_destroy(&r);
        if (rc <= 0) {
            return rc;
        }
    }
}

/*  Prints an {error} reply; true when reply is one. */
static bool
s_is_error(const wmsg_reply_t *reply)
{
    if (reply->kind == WMSG_REPLY_ERROR) {
        fprintf(stderr, "cadre query: the merger says: %s\n", reply->text);
        return true;
    }
    return false;
}

/*  Writes one page's items; returns 0, -errno or CADRE_EPROTO for an item of the wrong
    kind. */
static int
s_write_page(const s_opts_t *o, const wmsg_reply_t *page, FILE *out, assign_writer_t *aw)
{
    bool assignments = strcmp(o->what, "assignments") == 0;
    if (page->n > 0 && assignments != (page->assignments != NULL)) {
        fprintf(stderr, "cadre query: the merger answered with items of another kind\n");
        return CADRE_EPROTO;
    }
    for (size_t i = 0; i < page->n; i++) {
        if (assignments) {
            const wmsg_assignment_t *a = &page->assignments[i];
            assign_t rec = {.id = a->id, .identity = a->identity, .campaign = a->campaign};
            int rc = assign_writer_put(aw, &rec);
            if (rc != 0) {
                return rc;
            }
        } else if (fputs(page->texts[i], out) == EOF || fputc('\n', out) == EOF) {
            return -errno;
        }
    }
    return 0;
}

/*  Fetches a whole list, page by page. Returns an exit code. */
static int
s_list(const s_opts_t *o, s_conn_t *c, FILE *out)
{
    assign_writer_t *aw = NULL;
    if (strcmp(o->what, "assignments") == 0) {
        obs_format_t fmt =
            o->out && strcmp(o->out, "-") != 0 ? obs_format_from_path(o->out) : OBS_FORMAT_JSONL;
        aw = assign_writer_new(out, fmt);
    }
    int rc = 0;
    uint64_t offset = 0;
    for (;;) {
        wmsg_query_t q = {.what = (char *)o->what, .offset = offset, .limit = o->page};
        wmsg_reply_t page;
        if (s_ask(c, &q, &page) != 0) {
            rc = 1;
            break;
        }
        if (s_is_error(&page)) {
            rc = 1;
        } else if (page.kind != WMSG_REPLY_PAGE || (page.has_next && page.next <= offset)) {
            fprintf(stderr, "cadre query: the merger answered with something else than a page\n");
            rc = 1;
        } else if (s_write_page(o, &page, out, aw) != 0) {
            fprintf(stderr, "cadre query: writing %s failed\n", o->out ? o->out : "stdout");
            rc = 1;
        }
        bool more = rc == 0 && page.has_next;
        offset = page.next;
        wmsg_reply_free(&page);
        if (!more) {
            break;
        }
    }
    assign_writer_destroy(&aw);
    return rc;
}

/*  Asks one question with a single answer. Returns an exit code. */
static int
s_single(const s_opts_t *o, s_conn_t *c, FILE *out)
{
    wmsg_query_t q = {.what = (char *)o->what, .id = (char *)o->id, .other = (char *)o->other};
    wmsg_reply_t r;
    if (s_ask(c, &q, &r) != 0) {
        return 1;
    }
    int rc = 0;
    if (s_is_error(&r)) {
        rc = 1;
    } else if (strcmp(o->what, "assignment") == 0 && r.kind == WMSG_REPLY_ASSIGNMENT) {
        assign_t rec = {.id = r.assignment.id,
                        .identity = r.assignment.identity,
                        .campaign = r.assignment.campaign};
        char *line = NULL;
        size_t len = 0;
        obs_error_t e;
        if (jsonio_assign_encode(&rec, &line, &len, &e) != 0 || fwrite(line, 1, len, out) != len ||
            fputc('\n', out) == EOF) {
            rc = 1;
        }
        free(line);
    } else if (strcmp(o->what, "assignment") != 0 && r.kind == WMSG_REPLY_TEXT) {
        size_t tl = strlen(r.text);
        bool ends = tl > 0 && r.text[tl - 1] == '\n';
        if (fputs(r.text, out) == EOF || (!ends && fputc('\n', out) == EOF)) {
            rc = 1;
        }
    } else {
        fprintf(stderr, "cadre query: the merger answered with another kind of reply\n");
        rc = 1;
    }
    wmsg_reply_free(&r);
    return rc;
}

int
cmd_query(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc != 0) {
        return prc > 0 ? 0 : -prc;
    }
    char *endpoint = NULL;
    curve_t *curve = NULL;
    int rc =
        endpoint_resolve("query", o.endpoint, o.config, o.cert, ENDPOINT_QUERY, &endpoint, &curve);
    if (rc != 0) {
        return rc;
    }
    FILE *out = stdout;
    if (o.out && strcmp(o.out, "-") != 0 && !(out = fopen(o.out, "wb"))) {
        fprintf(stderr, "cadre query: cannot write %s: %s\n", o.out, strerror(errno));
        curve_destroy(&curve);
        free(endpoint);
        return 1;
    }
    zsys_init();
    zsys_handler_set(NULL);
    s_conn_t c = {.sock = zsock_new(ZMQ_DEALER), .timeout_ms = o.timeout_ms};
    wire_buf_init(&c.buf);
    zsock_set_linger(c.sock, 0);
    zsock_set_rcvtimeo(c.sock, 0);
    if (curve) {
        curve_connect(curve, c.sock);
    }
    if (zsock_connect(c.sock, "%s", endpoint) != 0) {
        fprintf(stderr, "cadre query: cannot connect to %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
        rc = 1;
    } else {
        rc = s_is_list(o.what) ? s_list(&o, &c, out) : s_single(&o, &c, out);
    }
    wire_buf_free(&c.buf);
    zsock_destroy(&c.sock);
    if (out != stdout ? fclose(out) != 0 : fflush(out) != 0) {
        fprintf(stderr, "cadre query: writing %s failed\n", o.out ? o.out : "stdout");
        rc = 1;
    }
    curve_destroy(&curve);
    free(endpoint);
    zsys_shutdown();
    return rc;
}
