/* Subcommands whose capability comes with later work. Invariant: they print one
 * line saying what they wait for and exit 2 — never output that looks real. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct later {
	const char *name;
	const char *usage;
	const char *waits_for;
};

static const struct later later[] = {
	{"run", "tradebridge run [-c FILE]\n  Run the relay in the foreground; SIGTERM drains, "
	        "SIGHUP reloads.\n",
	 "the relay loop comes with the store, routing and outbox work"},
	{"receipts", "tradebridge receipts list|show|verify|tail [--json] [FILE]\n  Read and "
	             "check the receipt log, live or from a file.\n",
	 "the receipt log comes with the relay's store"},
};

int tb_cmd_later(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
		if (strcmp(argv[0], later[i].name) != 0)
			continue;
		for (int a = 1; a < argc; a++) {
			if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
				printf("usage: %snot available yet: %s.\n", later[i].usage,
				       later[i].waits_for);
				return TB_EXIT_OK;
			}
		}
		fprintf(stderr, "tradebridge %s: not available yet: %s\n", argv[0], later[i].waits_for);
		return TB_EXIT_USAGE;
	}
	fprintf(stderr, "tradebridge %s: unknown command\n", argv[0]);
	return TB_EXIT_USAGE;
}
