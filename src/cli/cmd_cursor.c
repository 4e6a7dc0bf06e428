/* tradebridge cursor show|history|reset: where ingest resumes for each source, the
 * positions the store remembers, and moving a cursor back to one of them (after a
 * re-org deeper than the confirmation depth). Invariant: reset only ever sets a
 * cursor the relay itself stored, so the adapter gets a value it wrote; a running
 * relay notices the move at its next commit and drops the batch it was taking. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "store/store.h"

#define HISTORY_MAX 1024

static const char usage[] =
	"usage: tradebridge cursor show (-s STORE | -c CONFIG) NETWORK\n"
	"       tradebridge cursor history (-s STORE | -c CONFIG) NETWORK\n"
	"       tradebridge cursor reset (-s STORE | -c CONFIG) NETWORK --to POSITION\n"
	"  show     where ingest from NETWORK resumes\n"
	"  history  the positions the store remembers for NETWORK (newest first, at most 1024)\n"
	"  reset    move NETWORK's cursor back to a remembered position: a block number (the\n"
	"           cursor that ends at that block) or a whole cursor value as history prints\n"
	"           it. Records already taken and not retracted are not taken twice. The relay\n"
	"           may keep running: it takes the new cursor at its next poll (a batch it was\n"
	"           taking meanwhile is dropped and taken again from the new cursor)\n"
	"  -s, --store FILE   the relay's SQLite store\n"
	"  -c, --config FILE  take the store from the configuration's relay.store instead\n";

/* A history entry is the one asked for: the same value, or a value that starts with
 * the block number asked for followed by ':' (NUMBER:HASH cursors). */
static int matches(const char *value, const char *to)
{
	size_t n = strlen(to);
	if (strcmp(value, to) == 0)
		return 1;
	if (n == 0 || strspn(to, "0123456789") != n)
		return 0;
	return strncmp(value, to, n) == 0 && value[n] == ':';
}

static int load_history(struct tb_store *st, const char *network, struct tb_cursor_mark **h,
                        size_t *n)
{
	struct tb_error err;
	*h = calloc(HISTORY_MAX, sizeof **h);
	if (*h == NULL) {
		fprintf(stderr, "tradebridge cursor: out of memory\n");
		return TB_EXIT_UNKNOWN;
	}
	if (st->ops->cursor_history(st->state, network, *h, HISTORY_MAX, n, &err) != 0) {
		fprintf(stderr, "tradebridge cursor: %s\n", err.msg);
		return TB_EXIT_UNKNOWN;
	}
	return TB_EXIT_OK;
}

static int show(struct tb_store *st, const char *network)
{
	struct tb_cursor c;
	struct tb_error err;
	if (st->ops->cursor_get(st->state, network, &c, &err) != 0) {
		fprintf(stderr, "tradebridge cursor: %s\n", err.msg);
		return TB_EXIT_UNKNOWN;
	}
	printf("%s\t%s\n", network, c.value[0] ? c.value : "(none: from the configured start)");
	return TB_EXIT_OK;
}

static int history(struct tb_store *st, const char *network)
{
	struct tb_cursor_mark *h = NULL;
	size_t n = 0;
	int status = load_history(st, network, &h, &n);
	for (size_t i = 0; status == TB_EXIT_OK && i < n; i++) {
		time_t t = (time_t)(h[i].ms / 1000);
		struct tm tm;
		char when[32];
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%s\t%s\tafter record %" PRId64 "\n", when, h[i].cursor.value, h[i].last_record);
	}
	if (status == TB_EXIT_OK && n == 0)
		printf("no stored cursor for %s\n", network);
	free(h);
	return status;
}

static int reset(struct tb_store *st, const char *network, const char *to)
{
	struct tb_cursor_mark *h = NULL;
	struct tb_cursor old;
	struct tb_error err;
	size_t n = 0, i = 0;
	int status = load_history(st, network, &h, &n);
	while (status == TB_EXIT_OK && i < n && !matches(h[i].cursor.value, to))
		i++;
	if (status == TB_EXIT_OK && i == n) {
		fprintf(stderr, "tradebridge cursor: %s has no stored cursor at \"%s\"", network, to);
		if (n)
			fprintf(stderr, "; the store remembers %s (newest) back to %s (oldest): see "
			        "tradebridge cursor history", h[0].cursor.value, h[n - 1].cursor.value);
		fprintf(stderr, "\n");
		status = TB_EXIT_USAGE;
	}
	int rc = status ? 0 : st->ops->begin(st->state, &err);
	rc = rc || status ? rc : st->ops->cursor_get(st->state, network, &old, &err);
	rc = rc || status ? rc : st->ops->cursor_set(st->state, network, &h[i].cursor, &err);
	rc = rc || status ? rc : st->ops->commit(st->state, &err);
	if (rc) {
		st->ops->rollback(st->state);
		fprintf(stderr, "tradebridge cursor: %s\n", err.msg);
		status = TB_EXIT_UNKNOWN;
	}
	if (status == TB_EXIT_OK)
		printf("%s: cursor moved from %s to %s; ingest resumes there at the relay's next poll\n",
		       network, old.value[0] ? old.value : "(none)", h[i].cursor.value);
	free(h);
	return status;
}

int tb_cmd_cursor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
		{"to", required_argument, NULL, 't'},    {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store = NULL, *to = NULL, *config = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'c': config = optarg; break;
		case 't': to = optarg; break;
		case 'h': fputs(usage, stdout); return TB_EXIT_OK;
		default: return tb_cli_bad_option("cursor", argv);
		}
	}
	if (optind + 2 != argc)
		return tb_cli_usage("cursor", "say show, history or reset, then the network");
	const char *what = argv[optind], *network = argv[optind + 1];
	int is_show = strcmp(what, "show") == 0, is_history = strcmp(what, "history") == 0;
	int is_reset = strcmp(what, "reset") == 0;
	if (!is_show && !is_history && !is_reset)
		return tb_cli_usage("cursor", "the subcommands are show, history and reset");
	if (store == NULL && config == NULL)
		return tb_cli_usage("cursor", "-s STORE is required (or -c CONFIG with "
		                                  "relay.store)");
	if (is_reset != (to != NULL))
		return tb_cli_usage("cursor", "--to POSITION goes with reset, and only with it");
	struct tb_store st;
	struct tb_error err;
	if (tb_config_store_open(store, config, NULL, !is_reset, &st, &err) != 0) {
		fprintf(stderr, "tradebridge cursor: %s\n", err.msg);
		return err.code == TB_ECONFIG ? TB_EXIT_USAGE : TB_EXIT_UNKNOWN;
	}
	int status = is_show ? show(&st, network) : is_history ? history(&st, network)
	                                                       : reset(&st, network, to);
	tb_store_close(&st);
	return status;
}
