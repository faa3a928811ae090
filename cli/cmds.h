/*  cmds.h - the subcommands of the `cadre` umbrella command.

    Each takes the arguments after its name (argv[0] is the subcommand name) and returns the
    process exit code: 0 success, 1 failure, 2 usage error, 65 bad input data (EX_DATAERR),
    78 bad configuration (EX_CONFIG).
*/
#ifndef CADRE_CLI_CMDS_H
#define CADRE_CLI_CMDS_H

#define CLI_EX_USAGE 2
#define CLI_EX_DATAERR 65
#define CLI_EX_CONFIG 78

/*  cadre gen SPEC [--seed S] [--format jsonl|msgpack] [--out FILE] [--replicate N] [--summary] */
int cmd_gen(int argc, char **argv);
/*  cadre score CORPUS ASSIGNMENTS [--level campaign|identity|actor] [--layer campaign|identity] */
int cmd_score(int argc, char **argv);
/*  cadre eval-weak --labels F --observations F --assignments F [--format text|json]
    [--level campaign|identity]: scores assignments against weak labels per source IP. */
int cmd_eval_weak(int argc, char **argv);
/*  cadre cluster CORPUS [--out A] [--events E] [--identities I] [--campaigns C] [--config F] */
int cmd_cluster(int argc, char **argv);
/*  cadre run [CORPUS|-] [--config F] [--shards N] [--data-dir D] [outputs...] [--listen] */
int cmd_run(int argc, char **argv);
/*  cadre check CORPUS...: reads observation streams and reports every malformed record. */
int cmd_check(int argc, char **argv);
/*  cadre explain CORPUS ID_A ID_B [--config FILE] [--reference] [--format jsonl|msgpack]:
    why two observations share an identity or a campaign, or why not. */
int cmd_explain(int argc, char **argv);
/*  cadre ingest cowrie FILE... [--out FILE] [--format jsonl|msgpack]: Cowrie JSON-lines logs
    to observations, one per source IP (docs/cowrie.md). */
int cmd_ingest(int argc, char **argv);

/*  cadre syslog-recv --listen HOST:PORT --ca F --cert F --key F [--out FILE] [limits]
    [--count N]: receives syslog over TLS (DECNET's forwarder) and writes `WORKER TAB MSG`
    lines (docs/syslog-tls.md). */
int cmd_syslog_recv(int argc, char **argv);

/*  cadre keygen DIR NAME: writes a CURVE certificate pair DIR/NAME, DIR/NAME_secret. */
int cmd_keygen(int argc, char **argv);

/*  cadre send (--endpoint E | --config F) CORPUS... [--window N] [--format F] [--no-flush]
    [--progress] [--timeout-ms T] [--cert F]: streams observations to a running broker, then
   flushes. */
int cmd_send(int argc, char **argv);
/*  cadre ship (--endpoint E | --config F) [--state DIR] [--once] [--input cowrie|obs]
    [--decky NAME] FILE...: follows log files and feeds a running engine (docs/ship.md). */
int cmd_ship(int argc, char **argv);
/*  cadre sub (--endpoint E | --config F) [--topic PREFIX]... [--count N] [--timeout-ms T]
    [--format jsonl|msgpack] [--out FILE] [--cert F]: prints a merger's events. */
int cmd_sub(int argc, char **argv);
/*  cadre query (--endpoint E | --config F) QUESTION [ID] [--out FILE] [--cert F]: asks a merger
    (health, assignments, identities, campaigns, identity ID, campaign ID, assignment ID). */
int cmd_query(int argc, char **argv);

#endif
