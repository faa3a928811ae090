/*  opt.c - long options with values (see opt.h). */
#include "opt.h"

#include <stdio.h>
#include <string.h>

int
opt_match(int argc, char **argv, int *i, const char *const *names, int n, const char *cmd,
          const char **value)
{
    const char *arg = argv[*i];
    for (int k = 0; k < n; k++) {
        size_t len = strlen(names[k]);
        if (strncmp(arg, names[k], len) != 0 || (arg[len] != '\0' && arg[len] != '=')) {
            continue;
        }
        if (arg[len] == '=') {
            *value = arg + len + 1;
            return k;
        }
        if (*i + 1 >= argc) {
            fprintf(stderr, "cadre %s: %s needs a value\n", cmd, names[k]);
            return -2;
        }
        *value = argv[++*i];
        return k;
    }
    return -1;
}
