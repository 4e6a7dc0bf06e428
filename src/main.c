/* tradebridge: the one binary. main() only dispatches to a subcommand. */
#include "config.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("tradebridge %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: tradebridge COMMAND [ARGS]\n");
	return 2;
}
