/* tradebridge dead-letters list|redrive: what the relay gave up delivering, and
 * sending it again. Invariant: redrive only moves dead rows back to pending (with
 * their attempts reset); delivery itself stays the relay's, so a re-driven row
 * still carries its idempotency key and cannot cause a second effect. Safe while
 * the relay runs: SQLite in WAL mode lets this process write beside it. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "lib/num.h"
#include "lib/printable.h"
#include "lib/json.h"
#include "store/store.h"

#define LIST_MAX 1000

static const char usage[] =
	"usage: tradebridge dead-letters list (-s STORE | -c CONFIG) [--json]\n"
	"       tradebridge dead-letters redrive (-s STORE | -c CONFIG) (--id N | --all)\n"
	"  list     the outbox rows the relay stopped retrying, with the reason (at most 1000)\n"
	"  redrive  put them back in the outbox: the running relay (or the next start)\n"
	"           delivers them again with the same idempotency key\n"
	"  -s, --store FILE   the relay's SQLite store\n"
	"  -c, --config FILE  take the store from the configuration's relay.store instead\n";

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct tb_json *row_json(const struct tb_outbox_row *r)
{
	struct tb_json *o = tb_json_new_object();
	if (o == NULL)
		return NULL;
	int rc = tb_json_object_set(o, "id", 2, tb_json_new_number((double)r->id));
	rc = rc ? rc : tb_json_object_set(o, "destination", 11,
	                                  tb_json_new_string(r->destination, strlen(r->destination)));
	rc = rc ? rc : tb_json_object_set(o, "idempotency_key", 15,
	                                  tb_json_new_string(r->idem_key, strlen(r->idem_key)));
	rc = rc ? rc : tb_json_object_set(o, "attempts", 8, tb_json_new_number(r->attempts));
	rc = rc ? rc : tb_json_object_set(o, "reason", 6,
	                                  tb_json_new_string(r->reason, strlen(r->reason)));
	if (rc) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static int print_json(struct tb_outbox_row *rows, size_t n)
{
	struct tb_json *arr = tb_json_new_array();
	for (size_t i = 0; arr && i < n; i++)
		if (tb_json_array_push(arr, row_json(&rows[i])) != 0) {
			tb_json_free(arr);
			arr = NULL;
		}
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 0);
	int rc = arr ? tb_json_write_pretty(arr, &b, &err) : TB_ENOMEM;
	if (rc == 0)
		tb_printable_json_out((const char *)b.data, stdout), fputc('\n', stdout);
	else
		fprintf(stderr, "tradebridge dead-letters: cannot write JSON\n");
	tb_buf_fini(&b);
	tb_json_free(arr);
	return rc ? TB_EXIT_UNKNOWN : TB_EXIT_OK;
}

static int list(struct tb_store *st, int json)
{
	struct tb_outbox_row *rows = calloc(LIST_MAX, sizeof *rows);
	size_t n = 0;
	struct tb_error err;
	if (rows == NULL)
		return TB_EXIT_UNKNOWN;
	int status = TB_EXIT_OK;
	if (st->ops->dead_list(st->state, rows, LIST_MAX, &n, &err) != 0) {
		tb_cli_error("dead-letters", err.msg);
		status = TB_EXIT_UNKNOWN;
	} else if (json) {
		status = print_json(rows, n);
	} else {
		if (n == 0)
			printf("no dead letters\n");
		for (size_t i = 0; i < n; i++) {
			printf("%" PRId64 "\t-> ", rows[i].id);
			tb_printable_fputs(rows[i].destination, stdout);
			printf("\t%d attempts\t", rows[i].attempts);
			tb_printable_fputs(rows[i].reason, stdout);
			fputc('\n', stdout);
		}
		if (n == LIST_MAX)
			printf("(the first %d; re-drive or resolve these to see more)\n", LIST_MAX);
	}
	for (size_t i = 0; i < n; i++)
		tb_outbox_row_fini(&rows[i]);
	free(rows);
	return status;
}

static int redrive(struct tb_store *st, int64_t id)
{
	struct tb_error err;
	int count = 0;
	int rc = st->ops->dead_redrive(st->state, id, now_ms(), &count, &err);
	if (rc != 0 && rc != TB_ENOTFOUND) {
		tb_cli_error("dead-letters", err.msg);
		return TB_EXIT_UNKNOWN;
	}
	if (id != 0 && (rc == TB_ENOTFOUND || count == 0)) {
		fprintf(stderr, "tradebridge dead-letters: no dead letter with id %" PRId64 "\n", id);
		return TB_EXIT_USAGE;
	}
	printf("re-driven: %d row%s back in the outbox\n", count, count == 1 ? "" : "s");
	return TB_EXIT_OK;
}

int tb_cmd_dead_letters(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
		{"id", required_argument, NULL, 'i'},    {"all", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store = NULL, *config = NULL;
	int64_t id = 0;
	int all = 0, json = 0, c;
	uint64_t uid;
	struct tb_error err;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'c': config = optarg; break;
		case 'a': all = 1; break;
		case 'j': json = 1; break;
		case 'i':
			if (tb_num_u64(optarg, 1, INT64_MAX, "--id", &uid, &err) != 0)
				return tb_cli_usage("dead-letters", err.msg);
			id = (int64_t)uid;
			break;
		case 'h': fputs(usage, stdout); return TB_EXIT_OK;
		default: return tb_cli_bad_option("dead-letters", argv);
		}
	}
	if (optind >= argc)
		return tb_cli_usage("dead-letters", "say list or redrive");
	const char *what = argv[optind];
	int is_list = strcmp(what, "list") == 0, is_redrive = strcmp(what, "redrive") == 0;
	if (!is_list && !is_redrive)
		return tb_cli_usage("dead-letters", "the subcommands are list and redrive");
	if (optind + 1 != argc)
		return tb_cli_usage("dead-letters", "unexpected argument after the subcommand");
	if (store == NULL && config == NULL)
		return tb_cli_usage("dead-letters", "-s STORE is required (or -c CONFIG with "
		                                  "relay.store)");
	if (is_redrive && (all == (id != 0)))
		return tb_cli_usage("dead-letters", "redrive takes exactly one of --id N and --all");
	struct tb_store st;
	if (tb_config_store_open(store, config, NULL, is_list, &st, &err) != 0) {
		tb_cli_error("dead-letters", err.msg);
		return err.code == TB_ECONFIG ? TB_EXIT_USAGE : TB_EXIT_UNKNOWN;
	}
	int status = is_list ? list(&st, json) : redrive(&st, id);
	tb_store_close(&st);
	return status;
}
