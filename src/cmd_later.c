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
	{"translate", "tradebridge translate -m MAPPING [--reverse] [FILE]\n  Native record to "
	              "canonical record (--reverse: canonical to native).\n",
	 "the mapping engine comes with the canonical-record work"},
	{"validate", "tradebridge validate [FILE]\n  Check a canonical record against the WCO "
	             "dictionary.\n",
	 "the WCO dictionary and validation come with the canonical-record work"},
	{"verify", "tradebridge verify [--json] [FILE]\n  Verify a proof-carrying input "
	           "(TradeTrust/OA document, Fabric endorsements,\n  EVM receipt/log/eth_getProof, "
	           "relay receipt): exit 0 VALID, 1 INVALID, 3 UNKNOWN.\n",
	 "proof verification comes with the adapter work (EVM, TradeTrust, Fabric)"},
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
