/*  endpoint.c - client endpoints from --endpoint or --config (see endpoint.h). */
#include "endpoint.h"

#include "cfg.h"
#include "cmds.h"
#include "err.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Loads the client's CURVE credentials from cfg (loaded from config) into *curve; 0 or
    an exit code after printing why. */
static int
s_curve(const char *cmd, const cfg_t *cfg, const char *config, const char *cert, curve_t **curve)
{
    char err[1024];
    if (cfg_check_curve(cfg, false, true, config, err, sizeof err) != 0) {
        fprintf(stderr, "cadre %s: %s\n", cmd, err);
        return CLI_EX_CONFIG;
    }
    curve_opts_t o = {.client_secret = cert ? cert : cfg_client_cert(cfg),
                      .server_key = cfg->curve.server_public_key_file};
    *curve = curve_new(&o, err, sizeof err);
    if (!*curve) {
        fprintf(stderr, "cadre %s: CURVE: %s\n", cmd, err);
        return CLI_EX_CONFIG;
    }
    return 0;
}

int
endpoint_resolve(const char *cmd, const char *endpoint, const char *config, const char *cert,
                 endpoint_kind_t kind, char **out, curve_t **curve)
{
    *out = NULL;
    *curve = NULL;
    if ((endpoint == NULL) == (config == NULL)) {
        fprintf(stderr, "cadre %s: give one of --endpoint E and --config FILE\n", cmd);
        return CLI_EX_USAGE;
    }
    char *found = NULL;
    int rc = 0;
    if (endpoint) {
        found = xstrdup(endpoint);
    } else {
        cfg_t cfg;
        char err[1024];
        rc = cfg_load_file(&cfg, config, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "cadre %s: %s\n", cmd, err);
            return rc == CADRE_ECONFIG ? CLI_EX_CONFIG : 1;
        }
        const char *which = kind == ENDPOINT_INGEST   ? cfg.broker.ingest
                            : kind == ENDPOINT_EVENTS ? cfg.merger.events
                                                      : cfg.merger.query;
        found = xstrdup(which);
        if (cfg.curve.enabled && curve_applies(found)) {
            rc = s_curve(cmd, &cfg, config, cert, curve);
        }
        cfg_clear(&cfg);
    }
    if (rc == 0 && cert && !*curve) {
        fprintf(stderr, "cadre %s: --cert needs --config FILE with curve.enabled: true\n", cmd);
        rc = CLI_EX_USAGE;
    }
    if (rc == 0 && strncmp(found, "inproc://", 9) == 0) {
        fprintf(stderr,
                "cadre %s: %s is an in-process endpoint, reachable only inside `cadre run`; "
                "configure ipc:// or tcp:// endpoints\n",
                cmd, found);
        rc = CLI_EX_USAGE;
    }
    if (rc != 0) {
        curve_destroy(curve);
        free(found);
        return rc;
    }
    *out = found;
    return 0;
}
