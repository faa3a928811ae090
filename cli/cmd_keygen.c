/*  cmd_keygen.c - `cadre keygen`: a new CURVE certificate pair for a deployment
    (docs/config.md, "curve"). */
#include "cmds.h"
#include "curve.h"

#include <stdio.h>
#include <string.h>

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre keygen DIR NAME\n\n"
                 "Writes a new CURVE certificate (czmq zcert format): DIR/NAME holds the public\n"
                 "key, DIR/NAME_secret both keys (mode 0600). DIR is created when missing; an\n"
                 "existing certificate of that name is never overwritten. The broker and the\n"
                 "merger share one server certificate; every shard, the merger's connection to\n"
                 "the broker and every client have their own, whose public file goes into the\n"
                 "servers' curve.authorized_keys_dir.\n");
}

int
cmd_keygen(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        s_usage(stdout);
        return 0;
    }
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        s_usage(stderr);
        return CLI_EX_USAGE;
    }
    char err[1024];
    if (curve_keygen(argv[1], argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "cadre keygen: %s\n", err);
        return 1;
    }
    printf("%s/%s\n%s/%s_secret\n", argv[1], argv[2], argv[1], argv[2]);
    return 0;
}
