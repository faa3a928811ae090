/*  fuzz_fatt.c - fatt JSON lines (passive fingerprints, common/jsonio.c and cowrie.c) joined
    to Cowrie sessions. The lines before the first line "--" are fatt records, fed with
    cowrie_fatt_feed() and parsed alone with jsonio_fatt_record(); the lines after it are
    Cowrie events. Every observation built is checked by fuzz_cowrie_sink. */
#include "fuzz_cowrie.h"

/*  Parses one fatt line alone: a record or a refusal with a reason. */
static void
s_fatt_record(const char *line, size_t len, uint64_t line_no)
{
    jsonio_fatt_record_t rec;
    obs_error_t err;
    int rc = jsonio_fatt_record(line, len, line_no, &rec, &err);
    FUZZ_CHECK(fuzz_record_rc_ok(rc), "jsonio_fatt_record: %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(rec.src_port >= -1, "src_port %ld", rec.src_port);
        jsonio_fatt_record_clear(&rec);
    } else {
        FUZZ_CHECK(err.message[0] != '\0', "a refusal without a reason");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cowrie_t *c = cowrie_new(NULL);
    size_t built = 0;
    size_t pos = 0;
    const char *line = NULL;
    size_t len = 0;
    uint64_t line_no = 0;
    bool fatt = true;
    while (fuzz_next_line(data, size, &pos, &line, &len)) {
        line_no++;
        if (fatt && len == 2 && memcmp(line, "--", 2) == 0) {
            fatt = false;
            continue;
        }
        if (fatt) {
            int rc = cowrie_fatt_feed(c, line, len, line_no);
            FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD || rc == CADRE_ETRUNC, "cowrie_fatt_feed: %d",
                       rc);
            s_fatt_record(line, len, line_no);
        } else {
            int rc = cowrie_feed(c, line, len, line_no);
            FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD || rc == CADRE_ETRUNC, "cowrie_feed: %d", rc);
        }
    }
    FUZZ_CHECK(cowrie_finish(c, fuzz_cowrie_sink, &built) == 0, "cowrie_finish");
    FUZZ_CHECK(cowrie_fatt_joined(c) <= cowrie_cadre_sessions(c), "more fatt joins than sessions");
    fuzz_cowrie_books(c);
    cowrie_destroy(&c);
    return 0;
}
