/*  opt.h - the long options of the cadre subcommands: "--name value" and "--name=value".

    Plain functions over argv; nothing is allocated, values are borrowed from argv.
*/
#ifndef CADRE_OPT_H
#define CADRE_OPT_H

/*  Matches argv[*i] against the n option names (each "--name", taking a value). Returns the
    index of the name matched and sets *value to its value: the text after '=' or the next
    argument, past which *i is advanced. Returns -1 when argv[*i] is none of the names, and
    -2 when the value is missing (after printing "cadre CMD: --name needs a value" on
    stderr). */
int opt_match(int argc, char **argv, int *i, const char *const *names, int n, const char *cmd,
              const char **value);

#endif
