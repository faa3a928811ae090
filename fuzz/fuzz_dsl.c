/*  fuzz_dsl.c - a campaign DSL document (common/dsl.c over common/ydoc.c, libyaml), as
    `cadre gen` loads a spec. Properties: a refusal says where and why; a loaded corpus is
    consistent (each campaign has an actor, each phase's actor exists, its phase is a UKC
    phase) and is freed whole.

    include_fixtures resolves against fuzz/dsl_include/, which holds a few small documents
    (one includes another, one includes itself). So that fuzzing never reads arbitrary
    files (/dev/stdin would block), an input whose top-level include_fixtures names a path
    with a '/' is skipped: the items are read with ydoc, after YAML escapes are resolved. */
#include "fuzz.h"

#include "dsl.h"
#include "err.h"
#include "ydoc.h"

#ifndef CADRE_FUZZ_DIR
#define CADRE_FUZZ_DIR "fuzz"
#endif
#define S_INCLUDE_DIR CADRE_FUZZ_DIR "/dsl_include"

/*  True when the document's include_fixtures names only files of S_INCLUDE_DIR. */
static bool
s_includes_confined(const char *buf, size_t len)
{
    ydoc_t *doc = ydoc_parse(buf, len, NULL, NULL, 0);
    if (!doc) {
        return true; /* dsl_load_buffer refuses it the same way */
    }
    bool confined = true;
    const ydoc_node_t *list = ydoc_map_get(ydoc_root(doc), "include_fixtures");
    for (size_t i = 0; list && i < ydoc_len(list); i++) {
        const ydoc_node_t *item = ydoc_seq_at(list, i);
        size_t n = 0;
        const char *text = item ? ydoc_text(item, &n) : NULL;
        if (text && memchr(text, '/', n)) {
            confined = false;
        }
    }
    ydoc_destroy(&doc);
    return confined;
}

static void
s_check_corpus(const dsl_corpus_t *c)
{
    FUZZ_CHECK(c->noise_scanners >= 0, "negative noise");
    for (size_t i = 0; i < c->n_campaigns; i++) {
        const dsl_campaign_t *cp = &c->campaigns[i];
        FUZZ_CHECK(cp->id && cp->n_actors >= 1, "campaign %zu without id or actors", i);
        for (size_t a = 0; a < cp->n_actors; a++) {
            FUZZ_CHECK(cp->actors[a].id && cp->actors[a].n_hours >= 1, "actor %zu of campaign %zu",
                       a, i);
        }
        for (size_t p = 0; p < cp->n_phases; p++) {
            FUZZ_CHECK(cp->phases[p].actor < cp->n_actors, "phase %zu names actor %zu of %zu", p,
                       cp->phases[p].actor, cp->n_actors);
            FUZZ_CHECK((size_t)cp->phases[p].phase < (size_t)UKC_PHASE_COUNT,
                       "phase %zu out of range", p);
        }
    }
    for (size_t w = 0; w < c->n_warnings; w++) {
        FUZZ_CHECK(c->warnings[w] && c->warnings[w][0], "empty warning %zu", w);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    if (!s_includes_confined(buf, size)) {
        return 0;
    }
    dsl_corpus_t *corpus = NULL;
    char err[512] = "";
    int rc = dsl_load_buffer(buf, size, "fuzz.yaml", S_INCLUDE_DIR, &corpus, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == CADRE_EDSL || rc == CADRE_ELIMIT || (rc < 0 && rc > -1000),
               "dsl_load_buffer returned %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(corpus == NULL && err[0] != '\0', "a refusal without a reason");
        return 0;
    }
    s_check_corpus(corpus);
    dsl_corpus_destroy(&corpus);
    FUZZ_CHECK(corpus == NULL, "dsl_corpus_destroy did not clear the pointer");
    return 0;
}
