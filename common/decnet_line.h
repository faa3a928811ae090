/*  decnet_line.h - one DECNET log line (RFC 5424) parsed in place.

    DECNET writes one event per line: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`
    with one structured-data element `[relay@55555 key="value" ...]` (docs/decnet.md,
    /work/shared/reference/DECNET-LOGS.md §1). A decnet_parser_t parses a line without
    copying it: header fields, MSG and parameter names are spans of the line; parameter
    values are unescaped (RFC 5424 §6.3.3: `\"`, `\\`, `\]`; any other backslash is kept)
    into the parser's own buffer. It is a real RFC 5424 SD parser, so it has none of
    DECNET's own parser defects (DECNET-LOGS.md §2.4): an escaped `]` or `"` inside a value
    does not end the element, several elements may follow each other, and a truncated
    element is an error instead of a silent loss of the parameters after it.

    Shell-command lines (DECNET-LOGS.md §1.10), single- or double-wrapped by rsyslog, are
    recognised: the inner header gives APP-NAME, MSGID and time, and the `CMD uid=.. user=..
    src=.. pwd=.. cmd=...` body is split (cmd runs to the end of the line). Lines that are
    not events (DECNET's own diagnostics and native rsyslog lines: a PID in PROCID or no
    MSGID, and no CMD body) are marked native.

    Besides relay@55555 the parser keeps the parameters of one more element, cadre@32473:
    cadre's own extension, written only by `cadre gen --format decnet` (docs/decnet.md §5).
    Every other element (timeQuality, ...) is parsed and skipped.
*/
#ifndef CADRE_DECNET_LINE_H
#define CADRE_DECNET_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECNET_SD_ID "relay@55555"     /* DECNET's structured-data element */
#define DECNET_EXT_SD_ID "cadre@32473" /* cadre's extension element (docs/decnet.md §5) */
#define DECNET_ADDR_MAX 64             /* room for a canonical address text and its NUL */

/*  A run of bytes inside the line being parsed (or the parser's buffer). A plain value. */
typedef struct {
    const char *p; /* first byte (not NUL-terminated unless said) */
    size_t n;      /* number of bytes */
} decnet_span_t;

/*  One SD parameter. */
typedef struct {
    decnet_span_t name;  /* parameter name, a span of the line */
    decnet_span_t value; /* unescaped value in the parser's buffer, NUL-terminated (it may
                            hold NUL bytes of its own) */
} decnet_param_t;

/*  A parsed line. Spans point into the line given to decnet_parse() and into the parser;
    valid until the next decnet_parse() on the same parser or until either is freed. */
typedef struct {
    int pri;                      /* PRI value, 0..191 */
    int64_t t_us;                 /* event time, UTC microseconds since 1970 (the inner header's
                                     on wrapped command lines) */
    decnet_span_t host;           /* HOSTNAME of the outer header ("-" is possible) */
    decnet_span_t app;            /* APP-NAME (the inner one on wrapped lines) */
    decnet_span_t procid;         /* PROCID of the outer header */
    decnet_span_t msgid;          /* MSGID (the inner one on wrapped lines; "-" possible) */
    decnet_span_t msg;            /* MSG after the structured data, leading blanks and a BOM
                                     removed; empty when absent */
    bool wrapped;                 /* an rsyslog-wrapped line: an inner header was found in MSG */
    decnet_span_t inner_host;     /* wrapped: the inner HOSTNAME (logger's, the cosmetic one) */
    bool native;                  /* not an event: PROCID is a PID or MSGID is "-", no CMD body */
    bool command;                 /* a shell-command line: the CMD fields below are set */
    decnet_span_t cmd;            /* the command (everything after "cmd=") */
    decnet_span_t cmd_src;        /* "src=" of the CMD body (SSH; Telnet has none), or empty */
    decnet_span_t cmd_user;       /* "user=", or empty */
    decnet_span_t cmd_uid;        /* "uid=", or empty */
    decnet_span_t cmd_pwd;        /* "pwd=", or empty */
    const decnet_param_t *params; /* relay@55555 parameters in line order */
    size_t n_params;              /* number of them */
    const decnet_param_t *ext;    /* cadre@32473 parameters in line order */
    size_t n_ext;                 /* number of them */
} decnet_line_t;

typedef struct decnet_parser_t decnet_parser_t;

/*  Creates a parser. Never returns NULL. */
decnet_parser_t *decnet_parser_new(void);
/*  Frees the parser and NULLs *self_p. NULL is a no-op. */
void decnet_parser_destroy(decnet_parser_t **self_p);

/*  Parses one line of len bytes (without its newline; a trailing CR is ignored; need not be
    NUL-terminated) into *out. Returns 0, or CADRE_ERECORD with *why set to a static
    description (no <PRI>, bad version, header cut short, bad timestamp, structured data
    malformed or cut short). A native line parses (out->native); its fields are set as far
    as they are known. */
int decnet_parse(decnet_parser_t *self, const char *line, size_t len, decnet_line_t *out,
                 const char **why);

/*  When line (len bytes) is a line of `cadre syslog-recv` output, "WORKER TAB MSG" (the
    worker name 1 to 64 printable US-ASCII bytes without spaces, MSG an RFC 5424 line with
    backslash, LF, CR and TAB escaped; docs/syslog-tls.md), the offset of MSG; else 0. */
size_t decnet_worker_prefix(const char *line, size_t len);
/*  Undoes cadre syslog-recv's escapes (\\, \n, \r, \t; any other backslash is kept) of n
    bytes at s into out (room for n bytes). Returns the length written. */
size_t decnet_unescape(const char *s, size_t n, char *out);

/*  The last parameter called name (len bytes) among params, or NULL. */
const decnet_param_t *decnet_param_find_n(const decnet_param_t *params, size_t n, const char *name,
                                          size_t len);

/*  The last parameter called name (NUL-terminated) among params, or NULL (inline, so that
    the length of a literal is folded at compile time). */
static inline const decnet_param_t *
decnet_param_find(const decnet_param_t *params, size_t n, const char *name)
{
    return decnet_param_find_n(params, n, name, __builtin_strlen(name));
}

/*  True when the span holds exactly the NUL-terminated text s (inline, so that the length
    of a literal is folded at compile time). */
static inline bool
decnet_span_is(decnet_span_t span, const char *s)
{
    size_t n = __builtin_strlen(s);
    return span.n == n && __builtin_memcmp(span.p, s, n) == 0;
}

/*  Parses an RFC 3339 time "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" of len bytes
    into UTC microseconds since 1970 (digits past the sixth of the fraction are ignored).
    Returns 0, or CADRE_ERECORD. */
int decnet_parse_time(const char *s, size_t len, int64_t *us);

/*  The attacker address a parameter value names, in canonical text, into out: a bare IPv4
    or IPv6 address (a zone "%eth0" dropped), "ipv4:port", "[ipv6]:port" or "[ipv6]";
    IPv4-mapped IPv6 ("::ffff:a.b.c.d") becomes the IPv4 address; IPv6 is written as
    inet_ntop writes it (lowercase, "::" compressed). A bare IPv6 address is never split at
    its last colon. Returns the text's length, or 0 when the value is no address: empty,
    DECNET's sentinels ("?", "-", "None", "Unknown"), or anything else. */
size_t decnet_addr(const char *v, size_t n, char out[DECNET_ADDR_MAX]);

#endif
