/*  main.c - the `cadre` umbrella command: dispatches to a subcommand. */
#include "cmds.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/*  One subcommand. */
typedef struct {
    const char *name;                  /* what the user types */
    int (*run)(int argc, char **argv); /* its entry point */
    const char *summary;               /* one line for --help */
} s_cmd_t;

static const s_cmd_t s_cmds[] = {
    {"gen", cmd_gen, "generate a synthetic corpus from a campaign DSL spec"},
    {"run", cmd_run, "run the engine embedded: broker, shards and merger in one process"},
    {"cluster", cmd_cluster, "cluster a corpus into identities and campaigns"},
    {"score", cmd_score, "score assignments against a corpus's truth labels"},
    {"eval-weak", cmd_eval_weak, "score assignments against weak labels (per source IP)"},
    {"check", cmd_check, "validate observation streams, reporting every bad record"},
    {"explain", cmd_explain, "why two observations share an identity or campaign, or why not"},
    {"ingest", cmd_ingest, "turn Cowrie JSON-lines logs into observations (ingest cowrie)"},
    {"send", cmd_send, "stream observations to a running broker and flush"},
    {"ship", cmd_ship, "follow log files (tail -F) and feed a running engine, losing nothing"},
    {"sub", cmd_sub, "print a running merger's events"},
    {"query", cmd_query, "ask a running merger: health, assignments, records"},
    {"keygen", cmd_keygen, "write a CURVE certificate pair for the engine's peers"},
    {"syslog-recv", cmd_syslog_recv, "receive syslog over TLS (DECNET's forwarder), print it"},
};

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: cadre COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++) {
        fprintf(out, "  %-11s %s\n", s_cmds[i].name, s_cmds[i].summary);
    }
    fprintf(out, "\n`cadre COMMAND --help` describes a command.\n");
}

int
main(int argc, char **argv)
{
    log_set_role('C', 0);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EX_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("cadre %s\n", CADRE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++) {
        if (strcmp(argv[1], s_cmds[i].name) == 0) {
            return s_cmds[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "cadre: unknown command '%s'\n", argv[1]);
    s_usage(stderr);
    return CLI_EX_USAGE;
}
