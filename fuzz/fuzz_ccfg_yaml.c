/*  fuzz_ccfg_yaml.c - a clustering configuration file (ccfg_load_buffer in core/ccfg.c, with
    the lossless-blocking proof), as `cadre cluster --config` loads it. Properties: a
    refusal says why; an accepted configuration passes ccfg_check(), and ccfg_print() writes
    it as a document that loads back, over any starting values, to the same values. */
#include "fuzz.h"

#include "ccfg.h"
#include "err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccfg_t cfg;
    ccfg_defaults(&cfg);
    char err[512] = "";
    int rc = ccfg_load_buffer(&cfg, (const char *)data, size, "fuzz.yaml", err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == CADRE_ECONFIG, "ccfg_load_buffer returned %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");
        return 0;
    }
    FUZZ_CHECK(ccfg_check(&cfg, err, sizeof err) == 0, "a loaded configuration fails: %s", err);
    int d = ccfg_kd_max_distance(&cfg);
    FUZZ_CHECK(d >= -1 && d <= 7, "keystroke distance %d", d);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(out != NULL, "open_memstream");
    ccfg_print(&cfg, out, 0);
    fclose(out);
    ccfg_t again;
    ccfg_reference(&again);
    rc = ccfg_load_buffer(&again, text, len, "printed.yaml", err, sizeof err);
    FUZZ_CHECK(rc == 0, "ccfg_print wrote what ccfg_load_buffer refuses: %s\n%s", err, text);
    FUZZ_CHECK(memcmp(&cfg, &again, sizeof cfg) == 0, "round trip changed a value:\n%s", text);
    free(text);
    return 0;
}
