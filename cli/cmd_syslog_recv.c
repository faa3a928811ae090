/*  cmd_syslog_recv.c - `cadre syslog-recv`: runs the syslog-over-TLS receiver
    (common/syslog_tls.h) and writes each message it receives as one line, `WORKER TAB MSG`,
    so tests and operators can see what DECNET's forwarders send (docs/syslog-tls.md).

    The receiving side is the module; this file only decides what becomes of a message (the
    callback s_on_message). `cadre ship --listen-syslog` uses the same module with a callback
    that feeds the engine instead. The loop is the embedding pattern the module documents: it
    polls the receiver's descriptor with the signal pipe and calls syslog_tls_run(rx, 0).

    Output: MSG bytes are written as received except four, escaped so that one message is
    always one line: backslash as `\\`, LF as `\n`, CR as `\r`, TAB as `\t`. The file is
    flushed after every round, so a reader sees each message within one round of its arrival.
*/
#include "cmds.h"
#include "log.h"
#include "opt.h"
#include "sig.h"
#include "syslog_tls.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_MS 86400000 /* largest --idle-ms / --handshake-ms: a day */

/*  Options of one run. */
typedef struct {
    syslog_tls_opts_t rx; /* the receiver's options (strings borrowed from argv) */
    const char *out;      /* output path, or NULL for stdout */
    uint64_t count;       /* stop after this many messages (0: no limit) */
} s_opts_t;

/*  What the callback writes to. */
typedef struct {
    FILE *file;        /* output (borrowed) */
    uint64_t received; /* messages written */
    int failed;        /* the first write error (errno), or 0 */
} s_out_t;

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: cadre syslog-recv --listen HOST:PORT --ca CA.crt --cert SERVER.crt\n"
            "                         --key SERVER.key [--out FILE] [--max-frame BYTES]\n"
            "                         [--max-conns N] [--idle-ms MS] [--handshake-ms MS]\n"
            "                         [--count N]\n\n"
            "Receives syslog over TLS as DECNET's SWARM forwarder sends it (RFC 5425\n"
            "octet-counted frames, mutual TLS on port 6514) and writes each message as one\n"
            "line: the worker name (the client certificate's CN), a TAB, the message with\n"
            "backslash, LF, CR and TAB escaped as \\\\, \\n, \\r, \\t. Clients must present a\n"
            "certificate signed by CA.crt. PORT 0 takes a free port; the address bound is\n"
            "printed on stderr as 'cadre syslog-recv: listening on ADDR:PORT'.\n\n"
            "  --max-frame BYTES  largest message (default %d); a longer frame closes its\n"
            "                     connection\n"
            "  --max-conns N      connections open at once (default %d); more are refused\n"
            "  --idle-ms MS       close a connection silent this long (default %d; -1 never)\n"
            "  --handshake-ms MS  close a connection not through its handshake by then\n"
            "                     (default %d)\n"
            "  --count N          stop after N messages\n\n"
            "Stops on TERM/INT (or after --count), then prints its counters on stderr as\n"
            "'cadre syslog-recv: stats name=value ...'. Exit status: 0, 1 when it cannot\n"
            "listen or load the certificates, or on a write error, 2 on a usage error.\n",
            SYSLOG_TLS_MAX_FRAME, SYSLOG_TLS_MAX_CONNS, SYSLOG_TLS_IDLE_MS,
            SYSLOG_TLS_HANDSHAKE_MS);
}

static bool
s_int(const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/*  Returns 0, 1 after --help, or a negative exit code. */
static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const char *const names[] = {"--listen",       "--ca",        "--cert",      "--key",
                                        "--out",          "--max-frame", "--max-conns", "--idle-ms",
                                        "--handshake-ms", "--count"};
    *o = (s_opts_t){0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 1;
        }
        const char *v = NULL;
        long long n = 0;
        int k = opt_match(argc, argv, &i, names, (int)(sizeof names / sizeof names[0]),
                          "syslog-recv", &v);
        bool ok = true;
        switch (k) {
        case 0:
            o->rx.listen = v;
            break;
        case 1:
            o->rx.ca_file = v;
            break;
        case 2:
            o->rx.cert_file = v;
            break;
        case 3:
            o->rx.key_file = v;
            break;
        case 4:
            o->out = v;
            break;
        case 5:
            ok = s_int(v, 1, UINT32_MAX, &n);
            o->rx.max_frame = (size_t)n;
            break;
        case 6:
            ok = s_int(v, 1, UINT32_MAX, &n);
            o->rx.max_conns = (uint32_t)n;
            break;
        case 7:
            ok = s_int(v, -1, S_MAX_MS, &n) && n != 0;
            o->rx.idle_ms = (int)n;
            break;
        case 8:
            ok = s_int(v, 1, S_MAX_MS, &n);
            o->rx.handshake_ms = (int)n;
            break;
        case 9:
            ok = s_int(v, 1, LLONG_MAX, &n);
            o->count = (uint64_t)n;
            break;
        case -2:
            return -CLI_EX_USAGE;
        default:
            fprintf(stderr, "cadre syslog-recv: unknown option '%s'\n", argv[i]);
            return -CLI_EX_USAGE;
        }
        if (!ok) {
            fprintf(stderr, "cadre syslog-recv: %s: '%s' is out of range\n", names[k], v);
            return -CLI_EX_USAGE;
        }
    }
    if (!o->rx.listen || !o->rx.ca_file || !o->rx.cert_file || !o->rx.key_file) {
        fprintf(stderr, "cadre syslog-recv: --listen, --ca, --cert and --key are required\n");
        s_usage(stderr);
        return -CLI_EX_USAGE;
    }
    return 0;
}

/*  The receiver's callback: one message, one line. */
static void
s_on_message(void *arg, const syslog_tls_msg_t *msg)
{
    s_out_t *out = arg;
    if (out->failed) {
        return;
    }
    FILE *f = out->file;
    fputs(msg->worker, f);
    fputc('\t', f);
    size_t start = 0;
    for (size_t i = 0; i < msg->len; i++) {
        const char *esc = NULL;
        switch (msg->data[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            continue;
        }
        fwrite(msg->data + start, 1, i - start, f);
        fputs(esc, f);
        start = i + 1;
    }
    fwrite(msg->data + start, 1, msg->len - start, f);
    if (fputc('\n', f) == EOF) {
        out->failed = errno ? errno : EIO;
    }
    out->received++;
}

/*  Prints the receiver's counters as one line. */
static void
s_print_stats(const syslog_tls_t *rx)
{
    syslog_tls_stats_t s;
    syslog_tls_stats(rx, &s);
    fprintf(stderr,
            "cadre syslog-recv: stats messages=%" PRIu64 " bytes=%" PRIu64 " empty=%" PRIu64
            " accepted=%" PRIu64 " workers=%" PRIu64 " open=%" PRIu64 " refused_cap=%" PRIu64
            " refused_tls=%" PRIu64 " refused_cn=%" PRIu64 " closed_frame=%" PRIu64
            " closed_oversize=%" PRIu64 " closed_idle=%" PRIu64 " closed_handshake=%" PRIu64
            " closed_error=%" PRIu64 " closed_by_peer=%" PRIu64 " truncated=%" PRIu64
            " accept_errors=%" PRIu64 "\n",
            s.messages, s.bytes, s.empty, s.accepted, s.workers, s.open, s.refused_cap,
            s.refused_tls, s.refused_cn, s.closed_frame, s.closed_oversize, s.closed_idle,
            s.closed_handshake, s.closed_error, s.closed_by_peer, s.truncated, s.accept_errors);
}

int
cmd_syslog_recv(int argc, char **argv)
{
    s_opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc != 0) {
        return prc > 0 ? 0 : -prc;
    }
    s_out_t out = {.file = stdout};
    if (o.out && strcmp(o.out, "-") != 0 && !(out.file = fopen(o.out, "wb"))) {
        fprintf(stderr, "cadre syslog-recv: cannot write %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    sigev_t *sig = sig_new(); /* also ignores SIGPIPE, as the receiver requires */
    syslog_tls_t *rx = sig ? syslog_tls_new(&o.rx, s_on_message, &out) : NULL;
    int rc = rx ? 0 : 1;
    if (rx) {
        fprintf(stderr, "cadre syslog-recv: listening on %s\n", syslog_tls_address(rx));
    }
    while (rc == 0 && !out.failed && (!o.count || out.received < o.count)) {
        struct pollfd fds[2] = {{.fd = sig_fd(sig), .events = POLLIN},
                                {.fd = syslog_tls_fd(rx), .events = POLLIN}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            fprintf(stderr, "cadre syslog-recv: poll: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        if ((fds[0].revents & POLLIN) && sig_take(sig) && sig_stopping(sig)) {
            break;
        }
        if (fds[1].revents & POLLIN) {
            int n = syslog_tls_run(rx, 0);
            if (n < 0) {
                fprintf(stderr, "cadre syslog-recv: %s\n", strerror(-n));
                rc = 1;
            }
            if (n > 0 && fflush(out.file) != 0 && !out.failed) {
                out.failed = errno;
            }
        }
    }
    if (out.failed) {
        fprintf(stderr, "cadre syslog-recv: writing %s: %s\n", o.out ? o.out : "stdout",
                strerror(out.failed));
        rc = 1;
    }
    if (rx) {
        s_print_stats(rx);
    }
    syslog_tls_destroy(&rx);
    sig_destroy(&sig);
    if (out.file != stdout && fclose(out.file) != 0 && rc == 0) {
        fprintf(stderr, "cadre syslog-recv: writing %s: %s\n", o.out, strerror(errno));
        rc = 1;
    }
    return rc;
}
