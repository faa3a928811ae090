/*  fuzz_cowrie.c - Cowrie JSON lines through the Cowrie adapter (common/cowrie.c, with
    jsonio.c's event parser), as `cadre ingest cowrie` and `cadre run --input cowrie` feed
    them: once grouped by source IP with everything built at the end, once grouped by IP and
    sensor with idle sources emitted as the event time moves on. Every observation built is
    checked by fuzz_cowrie_sink (valid, both round trips); every line is also given to the
    one-line helpers (event time, command phase rules, time parsing). */
#include "fuzz_cowrie.h"

static void
s_run(const uint8_t *data, size_t size, const cowrie_opts_t *opts, bool helpers)
{
    cowrie_t *c = cowrie_new(opts);
    size_t built = 0;
    size_t pos = 0;
    const char *line = NULL;
    size_t len = 0;
    uint64_t line_no = 0;
    while (fuzz_next_line(data, size, &pos, &line, &len)) {
        int rc = cowrie_feed(c, line, len, ++line_no);
        FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD || rc == CADRE_ETRUNC, "cowrie_feed: %d", rc);
        if (opts->flush_idle > 0) {
            FUZZ_CHECK(cowrie_emit_idle(c, fuzz_cowrie_sink, &built) == 0, "cowrie_emit_idle");
        }
        if (helpers) {
            fuzz_cowrie_line_helpers(line, len);
        }
    }
    FUZZ_CHECK(cowrie_lines(c) == line_no, "%llu lines fed, %llu counted",
               (unsigned long long)line_no, (unsigned long long)cowrie_lines(c));
    FUZZ_CHECK(cowrie_finish(c, fuzz_cowrie_sink, &built) == 0, "cowrie_finish");
    FUZZ_CHECK(cowrie_open(c) == 0, "sources left open after cowrie_finish");
    FUZZ_CHECK(cowrie_observations(c) == built, "%zu observations built, %llu counted", built,
               (unsigned long long)cowrie_observations(c));
    fuzz_cowrie_books(c);
    cowrie_destroy(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_run(data, size, &(cowrie_opts_t){.group = COWRIE_GROUP_IP}, true);
    s_run(data, size, &(cowrie_opts_t){.group = COWRIE_GROUP_IP_SENSOR, .flush_idle = 60.0}, false);
    return 0;
}
