/*  main.c - cadre-broker: parse arguments, load the configuration, install signal handling,
    run the role, exit with its status (STYLE rule 1). */
#include "broker.h"

#include "cfg.h"
#include "log.h"
#include "sdnotify.h"
#include "sig.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre-broker --config FILE [--check-config]\n");
}

int
main(int argc, char **argv)
{
    const char *path = NULL;
    bool check = false;
    long id = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
            id = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = true;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("cadre-%s %s\n", broker_role_name(), CADRE_VERSION);
            return 0;
        } else {
            s_usage(stderr);
            return 2;
        }
    }
    cfg_t cfg;
    char err[1024];
    if (path) {
        if (cfg_load_file(&cfg, path, err, sizeof err) != 0) {
            fprintf(stderr, "cadre-%s: %s\n", broker_role_name(), err);
            return 78; /* EX_CONFIG */
        }
    } else {
        cfg_defaults(&cfg);
    }
    if (cfg_check_curve(&cfg, true, false, path, err, sizeof err) != 0) {
        fprintf(stderr, "cadre-%s: %s\n", broker_role_name(), err);
        cfg_clear(&cfg);
        return 78; /* EX_CONFIG */
    }
    (void)id;
    if (check) {
        cfg_print(&cfg, stdout);
        cfg_clear(&cfg);
        return 0;
    }
    log_set_role('B', id < 0 ? 0 : (int)id);
    log_set_level(cfg.log_level);
    zsys_init();
    sigev_t *sig = sig_new();
    broker_t *self = broker_new(&cfg);
    int rc = 1;
    if (self) {
        sdnotify_ready("broker running");
        rc = broker_run(self, NULL, sig) == 0 ? 0 : 1;
        sdnotify_stopping();
        broker_destroy(&self);
    }
    sig_destroy(&sig);
    cfg_clear(&cfg);
    zsys_shutdown();
    return rc;
}
