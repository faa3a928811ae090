/*  decnet_view.c - `cadre_decnet_view IN OUT [COPY]`: writes, for every observation of IN (a
    generated corpus, JSON Lines or MessagePack), the observation `cadre ingest decnet`
    reads back from its DECNET-format twin (`cadre gen --format decnet`; decnet_gen_view(),
    docs/decnet.md §5), as JSON Lines. COPY (default 0) is the --replicate copy number. The
    DECNET round-trip test (tests/it/decnet.sh) compares ingest's output with it. */
#include "decnet_gen.h"
#include "err.h"
#include "obs_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: cadre_decnet_view IN OUT [COPY]\n");
        return 2;
    }
    uint64_t copy = argc == 4 ? strtoull(argv[3], NULL, 10) : 0;
    FILE *in = fopen(argv[1], "rb");
    FILE *out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "cadre_decnet_view: cannot open %s\n", !in ? argv[1] : argv[2]);
        return 1;
    }
    obs_reader_t *r = obs_reader_new(in, OBS_FORMAT_AUTO, argv[1]);
    obs_writer_t *w = obs_writer_new(out, OBS_FORMAT_JSONL);
    int rc = 0;
    for (;;) {
        obs_t *obs = NULL;
        obs_error_t err;
        int got = obs_reader_next(r, &obs, &err);
        if (got == 0) {
            break;
        }
        if (got != 1) {
            fprintf(stderr, "cadre_decnet_view: %s: record %llu: %s\n", argv[1],
                    (unsigned long long)err.record, err.message);
            rc = 1;
            break;
        }
        obs_t *view = decnet_gen_view(obs, copy);
        if (obs_writer_put(w, view) != 0) {
            rc = 1;
        }
        obs_destroy(&view);
        obs_destroy(&obs);
    }
    obs_writer_destroy(&w);
    obs_reader_destroy(&r);
    fclose(in);
    return fclose(out) == 0 ? rc : 1;
}
