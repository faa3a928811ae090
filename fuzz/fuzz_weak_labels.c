/*  fuzz_weak_labels.c - a weak-labels file (weak_read_labels in common/weak.c, the TSV of
    `cadre eval-weak --labels`), then an evaluation over it: each line's second column, when
    there is one, becomes an observation at that IP with an assignment, so the labels meet
    observations. Properties: malformed lines are counted with a reason; both levels
    evaluate, and the report prints as text and encodes as JSON. */
#include "fuzz.h"

#include "err.h"
#include "jsonio.h"
#include "weak.h"

/*  Adds one observation and assignment per line with a second tab-separated column. */
static void
s_observations(weak_t *w, const uint8_t *data, size_t size)
{
    size_t pos = 0;
    const char *line = NULL;
    size_t len = 0;
    for (size_t i = 0; fuzz_next_line(data, size, &pos, &line, &len) && i < 1000; i++) {
        const char *tab = memchr(line, '\t', len);
        if (!tab) {
            continue;
        }
        const char *ip = tab + 1;
        const char *end = memchr(ip, '\t', len - (size_t)(ip - line));
        size_t n = end ? (size_t)(end - ip) : len - (size_t)(ip - line);
        char ipbuf[128];
        snprintf(ipbuf, sizeof ipbuf, "%.*s", (int)(n < 100 ? n : 100), ip);
        if (memchr(ip, '\0', n)) {
            continue;
        }
        char id[32];
        char camp[32];
        snprintf(id, sizeof id, "o%zu", i % 7);
        snprintf(camp, sizeof camp, "c%zu", (n + i) % 3);
        int rc = weak_add_observation(w, id, ipbuf);
        FUZZ_CHECK(rc == 0 || rc == CADRE_ELIMIT, "weak_add_observation: %d", rc);
        rc = weak_add_assignment(w, id, i % 2 ? camp : NULL, camp);
        FUZZ_CHECK(rc == 0 || rc == CADRE_ELIMIT, "weak_add_assignment: %d", rc);
    }
}

static void
s_evaluate(weak_t *w, weak_level_t level)
{
    weak_report_t *rep = weak_evaluate(w, level);
    FUZZ_CHECK(rep != NULL, "weak_evaluate");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(out != NULL, "open_memstream");
    FUZZ_CHECK(weak_report_print(rep, out) == 0, "weak_report_print");
    fclose(out);
    free(text);
    char *json = NULL;
    int rc = jsonio_weak_encode(rep, &json, &len);
    FUZZ_CHECK(rc == 0 || rc == CADRE_ERECORD, "jsonio_weak_encode: %d", rc);
    free(json);
    weak_report_destroy(&rep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *file = size ? fmemopen((void *)data, size, "r") : NULL;
    if (!file) {
        return 0;
    }
    weak_t *w = weak_new();
    FUZZ_CHECK(weak_read_labels(w, file, "fuzz.tsv") == 0, "weak_read_labels");
    fclose(file);
    uint64_t bad = weak_bad_count(w);
    for (size_t i = 0; i < bad && i < WEAK_MAX_BAD; i++) {
        FUZZ_CHECK(weak_bad_at(w, i) && weak_bad_at(w, i)[0], "bad line %zu without a reason", i);
    }
    s_observations(w, data, size);
    s_evaluate(w, WEAK_LEVEL_CAMPAIGN);
    s_evaluate(w, WEAK_LEVEL_IDENTITY);
    weak_destroy(&w);
    return 0;
}
