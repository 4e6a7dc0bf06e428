/* What every subcommand shares: how usage errors look and where the
 * configuration file is. Invariant: every usage error names the command and
 * points at its --help, and exits TB_EXIT_USAGE. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/printable.h"

int tb_cli_bad_option(const char *cmd, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (optopt && optopt != '?')
		fprintf(stderr, "tradebridge %s: option -%c: unknown or missing its value; see "
		                "tradebridge %s --help\n", cmd, optopt, cmd);
	else {
		fprintf(stderr, "tradebridge %s: unknown option ", cmd);
		tb_printable_fputs(arg, stderr);
		fprintf(stderr, "; see tradebridge %s --help\n", cmd);
	}
	return TB_EXIT_USAGE;
}

void tb_cli_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "tradebridge %s: ", cmd);
	tb_printable_fputs(msg, stderr);
	fputc('\n', stderr);
}

int tb_cli_usage(const char *cmd, const char *why)
{
	fprintf(stderr, "tradebridge %s: ", cmd);
	tb_printable_fputs(why, stderr);
	fprintf(stderr, "; see tradebridge %s --help\n", cmd);
	return TB_EXIT_USAGE;
}

const char *tb_cli_config_path(const char *given)
{
	if (given)
		return given;
	const char *env = getenv("TRADEBRIDGE_CONFIG");
	return env && *env ? env : "./tradebridge.json";
}
