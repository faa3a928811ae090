/* placeholder */
#include "cmds.h"
#include <stdio.h>
int
cmd_score(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "not built yet\n");
    return 1;
}
