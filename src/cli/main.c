/* tradebridge: the one binary. main() only dispatches to a subcommand; each
 * subcommand lives in its own cmd_*.c and returns the exit status (commands.h).
 * Invariant: no subcommand prints output it did not compute, and the exit
 * status means the same in every one (commands.h). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"run", tb_cmd_run, "run the relay in the foreground"},
	{"check-config", tb_cmd_check_config, "validate the configuration and print what it resolved"},
	{"translate", tb_cmd_translate, "native record to canonical record through a mapping"},
	{"validate", tb_cmd_validate, "check a canonical record against the WCO dictionary"},
	{"canon", tb_cmd_canon, "RFC 8785 canonical form of JSON, its sha256 and keccak256"},
	{"verify", tb_cmd_verify, "verify a proof-carrying input: VALID, INVALID or UNKNOWN"},
	{"receipts", tb_cmd_receipts, "list, show, verify or tail the receipt log"},
	{"dead-letters", tb_cmd_dead_letters, "list what the relay gave up on, or re-drive it"},
	{"cursor", tb_cmd_cursor, "where ingest resumes per source; move it back after a re-org"},
	{"backfill", tb_cmd_backfill, "offer a restored route the records stored while it was gone"},
	{"adapters", tb_cmd_adapters, "the adapters found and their options"},
	{"keygen", tb_cmd_keygen, "a new relay key (secp256k1), written 0600"},
};

static void usage(FILE *to)
{
	fprintf(to, "usage: tradebridge COMMAND [OPTIONS] [ARGS]\n"
	            "       tradebridge --version | --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(to, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fprintf(to, "\n'tradebridge COMMAND --help' describes a command. Exit status: 0 success or "
	            "VALID,\n1 INVALID, 2 usage or configuration error, 3 UNKNOWN (could not check).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("tradebridge %s\n", PACKAGE_VERSION);
		return TB_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return TB_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tradebridge: unknown command \"%s\"; see tradebridge --help\n", argv[1]);
	return TB_EXIT_USAGE;
}
