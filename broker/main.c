/*  main.c - cadre-broker: thin entry point (args, config, run, exit code). */
#include "broker.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("cadre-%s\n", broker_role_name());
        return 0;
    }
    fprintf(stderr,
            "cadre-%s: the multi-process engine arrives with issue 4; "
            "use `cadre` for now\n",
            broker_role_name());
    return 2;
}
