/*  endpoint.c - client endpoints from --endpoint or --config (see endpoint.h). */
#include "endpoint.h"

#include "cfg.h"
#include "cmds.h"
#include "err.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
endpoint_resolve(const char *cmd, const char *endpoint, const char *config, endpoint_kind_t kind,
                 char **out)
{
    *out = NULL;
    if ((endpoint == NULL) == (config == NULL)) {
        fprintf(stderr, "cadre %s: give one of --endpoint E and --config FILE\n", cmd);
        return CLI_EX_USAGE;
    }
    char *found = NULL;
    if (endpoint) {
        found = xstrdup(endpoint);
    } else {
        cfg_t cfg;
        char err[1024];
        int rc = cfg_load_file(&cfg, config, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "cadre %s: %s\n", cmd, err);
            return rc == CADRE_ECONFIG ? CLI_EX_CONFIG : 1;
        }
        const char *which = kind == ENDPOINT_INGEST   ? cfg.broker.ingest
                            : kind == ENDPOINT_EVENTS ? cfg.merger.events
                                                      : cfg.merger.query;
        found = xstrdup(which);
        cfg_clear(&cfg);
    }
    if (strncmp(found, "inproc://", 9) == 0) {
        fprintf(stderr,
                "cadre %s: %s is an in-process endpoint, reachable only inside `cadre run`; "
                "configure ipc:// or tcp:// endpoints\n",
                cmd, found);
        free(found);
        return CLI_EX_USAGE;
    }
    *out = found;
    return 0;
}
