/* The subcommands of the tradebridge binary and what they share. Each command
 * takes its own argv (argv[0] is the command's name) and returns the process exit
 * status. Invariant: the exit status means the same in every command (below), so
 * scripts can rely on it. */
#ifndef TB_COMMANDS_H
#define TB_COMMANDS_H

enum {
	TB_EXIT_OK = 0,      /* success, or VALID */
	TB_EXIT_INVALID = 1, /* checked and wrong */
	TB_EXIT_USAGE = 2,   /* usage or configuration error */
	TB_EXIT_UNKNOWN = 3, /* could not check */
};

int tb_cmd_canon(int argc, char **argv);
int tb_cmd_adapters(int argc, char **argv);
int tb_cmd_check_config(int argc, char **argv);
int tb_cmd_keygen(int argc, char **argv);
int tb_cmd_verify(int argc, char **argv);
int tb_cmd_translate(int argc, char **argv);
int tb_cmd_validate(int argc, char **argv);
int tb_cmd_receipts(int argc, char **argv);
int tb_cmd_run(int argc, char **argv);
int tb_cmd_dead_letters(int argc, char **argv);
int tb_cmd_cursor(int argc, char **argv);
int tb_cmd_backfill(int argc, char **argv);

/* "tradebridge CMD: unknown option ..." for the argv element getopt stopped at. */
int tb_cli_bad_option(const char *cmd, char **argv);
/* "tradebridge CMD: MSG" on stderr, MSG escaped (it may quote outside data). */
void tb_cli_error(const char *cmd, const char *msg);
/* "tradebridge CMD: <why>; see tradebridge CMD --help", exit status 2. */
int tb_cli_usage(const char *cmd, const char *why);
/* The configuration file to read: -c's value, else $TRADEBRIDGE_CONFIG, else
 * ./tradebridge.json (borrowed). */
const char *tb_cli_config_path(const char *given);

#endif
