/*  fuzz_decnet.c - DECNET RFC 5424 lines through the line parser (common/decnet_line.c), the
    per-line readers (common/decnet_event.c) and the DECNET adapter (common/decnet.c), as
    `cadre ingest decnet` feeds them. Every line is parsed on its own: a refusal has a
    reason; an accepted line's spans lie inside it, its values are NUL-terminated inside the
    parser's buffer, its address text is canonical (reads back as itself), its credential is
    clean UTF-8 and its fingerprint values lie inside the line or the reader's buffers. Then
    the whole input goes through two adapters: one grouping to the end, one with a state file
    entry, a short session gap and idle flushing. Every observation built is valid and
    survives both round trips (fuzz_obs.h), and the counters add up. */
#include "fuzz_obs.h"

#include "decnet.h"
#include "decnet_event.h"
#include "decnet_line.h"

/*  True when span lies within [base, base + size). */
static bool
s_inside(decnet_span_t span, const char *base, size_t size)
{
    return span.n == 0 || (span.p >= base && span.p + span.n <= base + size);
}

static int
s_sink(const obs_t *obs, void *arg)
{
    size_t *count = arg;
    (*count)++;
    fuzz_obs_round_trip(obs);
    return 0;
}

/*  One line through the parser and the per-line readers. */
static void
s_line(decnet_parser_t *parser, const char *line, size_t len)
{
    decnet_line_t l;
    const char *why = NULL;
    int rc = decnet_parse(parser, line, len, &l, &why);
    FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD, "decnet_parse: %d", rc);
    double t = 0;
    (void)decnet_line_time(line, len, &t);
    if (rc != 0) {
        FUZZ_CHECK(why && why[0], "a refusal without a reason");
        return;
    }
    FUZZ_CHECK(l.pri >= 0 && l.pri <= 191, "PRI %d", l.pri);
    const decnet_span_t spans[] = {l.host, l.app,     l.procid,   l.msgid,   l.msg,    l.inner_host,
                                   l.cmd,  l.cmd_src, l.cmd_user, l.cmd_uid, l.cmd_pwd};
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
        FUZZ_CHECK(s_inside(spans[i], line, len), "span %zu outside the line", i);
    }
    for (int k = 0; k < 2; k++) {
        const decnet_param_t *ps = k ? l.ext : l.params;
        size_t n = k ? l.n_ext : l.n_params;
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(ps[i].name.n > 0 && s_inside(ps[i].name, line, len), "a parameter name");
            FUZZ_CHECK(ps[i].value.n <= len && ps[i].value.p[ps[i].value.n] == '\0',
                       "a value not NUL-terminated");
        }
    }
    char addr[DECNET_ADDR_MAX], again[DECNET_ADDR_MAX];
    size_t n = decnet_event_addr(&l, addr);
    if (n > 0) {
        FUZZ_CHECK(n == strlen(addr) && decnet_addr(addr, n, again) == n &&
                       memcmp(addr, again, n) == 0,
                   "address '%s' is not canonical", addr);
    }
    char *user = NULL, *secret = NULL;
    if (decnet_event_credential(&l, &user, &secret)) {
        FUZZ_CHECK(decnet_utf8(user, strlen(user)) && decnet_utf8(secret, strlen(secret)),
                   "a credential that is not clean UTF-8");
        free(user);
        free(secret);
    }
    (void)decnet_event_phase(&l);
    FUZZ_CHECK(decnet_event_span(&l) >= 0, "a negative span");
    decnet_fps_t fps;
    decnet_event_fingerprints(&l, 0, &fps);
    FUZZ_CHECK(fps.n <= fps.present, "more fingerprints than the line records");
    for (size_t i = 0; i < fps.n; i++) {
        const decnet_fp_value_t *v = &fps.v[i];
        bool in_line = v->v >= line && v->v + v->n <= line + len;
        bool in_buf = v->v >= fps.buf && v->v + v->n <= fps.buf + sizeof fps.buf;
        bool owned = fps.owned && v->v == fps.owned;
        bool in_params = false;
        for (size_t k = 0; k < l.n_params && !in_params; k++) {
            in_params = v->v >= l.params[k].value.p &&
                        v->v + v->n <= l.params[k].value.p + l.params[k].value.n;
        }
        FUZZ_CHECK(in_line || in_buf || owned || in_params, "fingerprint %zu points elsewhere", i);
        FUZZ_CHECK(v->kind < DECNET_FP_ALL, "fingerprint kind %u", (unsigned)v->kind);
    }
    decnet_fps_clear(&fps);
}

/*  The whole input through one adapter. */
static void
s_run(const uint8_t *data, size_t size, const decnet_opts_t *opts, bool state, bool lines)
{
    decnet_t *dn = decnet_new(opts);
    decnet_parser_t *parser = lines ? decnet_parser_new() : NULL;
    if (state) {
        decnet_add_decky(dn, "decky-01", "SRV-1", "telnet");
        decnet_add_decky(dn, "decky-02", NULL, NULL);
    }
    size_t built = 0, pos = 0, len = 0;
    const char *line = NULL;
    uint64_t line_no = 0;
    while (fuzz_next_line(data, size, &pos, &line, &len)) {
        if (parser) {
            s_line(parser, line, len);
        }
        int rc = decnet_feed(dn, line, len, ++line_no);
        FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD, "decnet_feed: %d", rc);
        if (opts->flush_idle > 0) {
            FUZZ_CHECK(decnet_emit_idle(dn, s_sink, &built) == 0, "decnet_emit_idle");
        }
    }
    FUZZ_CHECK(decnet_lines(dn) == line_no, "%llu lines fed, %llu counted",
               (unsigned long long)line_no, (unsigned long long)decnet_lines(dn));
    FUZZ_CHECK(decnet_finish(dn, s_sink, &built) == 0, "decnet_finish");
    FUZZ_CHECK(decnet_open(dn) == 0, "sources left open after decnet_finish");
    FUZZ_CHECK(decnet_observations(dn) == built, "%zu observations built, %llu counted", built,
               (unsigned long long)decnet_observations(dn));
    FUZZ_CHECK(decnet_bad(dn) + decnet_native(dn) + decnet_no_ip(dn) + decnet_ignored(dn) <=
                   decnet_lines(dn),
               "more lines skipped than fed");
    size_t n = decnet_bad_reported(dn);
    FUZZ_CHECK(n <= DECNET_MAX_REPORTED && n <= decnet_bad(dn), "%zu bad lines reported", n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(decnet_bad_at(dn, i)->message[0] != '\0', "a bad line without a reason");
    }
    uint64_t kinds = 0;
    for (size_t i = 0; i < decnet_no_ip_kinds(dn); i++) {
        uint64_t c = 0;
        FUZZ_CHECK(decnet_no_ip_kind(dn, i, &c) != NULL, "a kind without a name");
        kinds += c;
    }
    FUZZ_CHECK(kinds == decnet_no_ip(dn), "address-less kinds count %llu of %llu",
               (unsigned long long)kinds, (unsigned long long)decnet_no_ip(dn));
    decnet_parser_destroy(&parser);
    decnet_destroy(&dn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_run(data, size, &(decnet_opts_t){0}, false, true);
    s_run(data, size, &(decnet_opts_t){.flush_idle = 60.0, .session_gap = 5.0}, true, false);
    return 0;
}
