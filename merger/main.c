/*  main.c - cadre-merger: thin entry point (args, config, run, exit code). */
#include "merger.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("cadre-%s\n", merger_role_name());
        return 0;
    }
    fprintf(stderr,
            "cadre-%s: the multi-process engine arrives with issue 4; "
            "use `cadre` for now\n",
            merger_role_name());
    return 2;
}
