/* tradebridge backfill: offer a restored route the records stored while it was
 * missing. A route removed from the configuration and later added back does not
 * reach back by itself: the relay routes a record once, when it is ingested. This
 * command runs the configured sharing policy over the records of the source that
 * came after the last one the route carried, and puts what the policy lets through
 * in the outbox, with progress. Invariants: only VALID, not retracted records;
 * never a second outbox row for a (record, destination); safe beside a running
 * relay (SQLite WAL), which then delivers the rows like any others. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "lib/json.h"
#include "sharing.h"
#include "store/store.h"

#define CHUNK 256

static const char usage[] =
	"usage: tradebridge backfill [-c FILE] [-s STORE] --from NETWORK --to NETWORK [--all]\n"
	"                            [--dry-run]\n"
	"  Offer the route FROM -> TO the records stored from FROM after the last one it\n"
	"  carried (a route that was removed and is configured again): each goes through the\n"
	"  configured sharing policy, and what may go is put in the outbox for TO. The relay\n"
	"  may keep running; it delivers them at its next rounds.\n"
	"  -c, --config FILE   the relay's configuration (routes, policies, mras)\n"
	"  -s, --store FILE    the store (default: relay.store in the configuration)\n"
	"  --all               the route never carried anything: offer every stored record\n"
	"  --dry-run           count, change nothing\n";

struct backfill {
	struct tb_store st;
	struct tb_sharing sh;
	const char *from, *to;
	int all, dry;
	int64_t examined, queued;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The policy's copy of one stored record for b->to, into the outbox (unless dry). */
static int offer(struct backfill *b, const struct tb_store_record *rec, struct tb_error *err)
{
	struct tb_json *canon = NULL, *out = NULL;
	struct tb_buf payload;
	tb_buf_init(&payload, 0);
	int rc = tb_json_parse(rec->body, strlen(rec->body), NULL, &canon, err);
	rc = rc ? rc : tb_sharing_policy(&b->sh, b->to, canon, &out, err);
	if (rc == 0 && out)
		rc = tb_json_write_canonical(out, &payload, err);
	if (rc == 0 && out && !b->dry)
		rc = b->st.ops->outbox_add(b->st.state, rec->id, b->to, (const char *)payload.data,
		                           now_ms(), err);
	b->queued += rc == 0 && out;
	if (rc)
		tb_error_prefix(err, "record %s", rec->record_id);
	tb_json_free(canon);
	tb_json_free(out);
	tb_buf_fini(&payload);
	return rc;
}

/* One transaction per chunk of records; *last = the id to continue after. */
static int chunk(struct backfill *b, int64_t *last, size_t *n, struct tb_error *err)
{
	struct tb_store_record *recs = calloc(CHUNK, sizeof *recs);
	if (!recs)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	int rc = b->st.ops->begin(b->st.state, err);
	rc = rc ? rc : b->st.ops->route_missing(b->st.state, b->from, b->to, *last, recs, CHUNK, n,
	                                        err);
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		rc = offer(b, &recs[i], err);
		b->examined++;
		*last = recs[i].id;
	}
	rc = rc ? rc : b->st.ops->commit(b->st.state, err);
	if (rc)
		b->st.ops->rollback(b->st.state);
	for (size_t i = 0; i < *n; i++)
		tb_store_record_fini(&recs[i]);
	free(recs);
	return rc;
}

static int run_backfill(struct backfill *b, struct tb_error *err)
{
	int64_t last = 0;
	int rc = b->st.ops->route_last(b->st.state, b->from, b->to, &last, err);
	if (rc == 0 && last == 0 && !b->all)
		return tb_error_set(err, TB_ECONFIG, "the route %s -> %s never carried a record: "
		                    "--all offers it every record stored from %s", b->from, b->to,
		                    b->from);
	fprintf(stderr, "backfill %s -> %s: records after #%" PRId64 "%s\n", b->from, b->to, last,
	        b->dry ? " (dry run)" : "");
	size_t n = CHUNK;
	while (rc == 0 && n == CHUNK) {
		rc = chunk(b, &last, &n, err);
		if (rc == 0 && n)
			fprintf(stderr, "backfill %s -> %s: %" PRId64 " examined, %" PRId64 " %s\n", b->from,
			        b->to, b->examined, b->queued, b->dry ? "would be queued" : "queued");
	}
	return rc;
}

static int has_route(const struct tb_sharing *s, const char *from, const char *to)
{
	for (size_t i = 0; i < s->n_routes; i++)
		if (strcmp(s->routes[i].from, from) == 0 && strcmp(s->routes[i].to, to) == 0)
			return 1;
	return 0;
}

static int open_all(struct backfill *b, const char *config, const char *store,
                    struct tb_json **doc, struct tb_error *err)
{
	int rc = tb_config_read(config, doc, err);
	rc = rc ? rc : tb_sharing_load(&b->sh, *doc, config, 1, err);
	if (rc)
		return rc;
	if (!has_route(&b->sh, b->from, b->to)) {
		tb_sharing_fini(&b->sh);
		return tb_error_set(err, TB_ECONFIG, "%s: no route from %s to %s: configure it first",
		                    config, b->from, b->to);
	}
	rc = tb_config_store_open(store, config, &b->sh.relay, 0, &b->st, err);
	if (rc)
		tb_sharing_fini(&b->sh);
	return rc;
}

int tb_cmd_backfill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"store", required_argument, NULL, 's'},
		{"from", required_argument, NULL, 'f'},   {"to", required_argument, NULL, 't'},
		{"all", no_argument, NULL, 'a'},          {"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	struct backfill b;
	const char *config = NULL, *store = NULL;
	int c;
	memset(&b, 0, sizeof b);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': store = optarg; break;
		case 'f': b.from = optarg; break;
		case 't': b.to = optarg; break;
		case 'a': b.all = 1; break;
		case 'n': b.dry = 1; break;
		case 'h': fputs(usage, stdout); return TB_EXIT_OK;
		default: return tb_cli_bad_option("backfill", argv);
		}
	}
	if (optind != argc)
		return tb_cli_usage("backfill", "unexpected argument");
	if (!b.from || !b.to)
		return tb_cli_usage("backfill", "--from NETWORK and --to NETWORK are required");
	struct tb_json *doc = NULL;
	struct tb_error err;
	config = tb_cli_config_path(config);
	if (open_all(&b, config, store, &doc, &err) != 0) {
		fprintf(stderr, "tradebridge backfill: %s\n", err.msg);
		tb_json_free(doc);
		return TB_EXIT_USAGE;
	}
	int rc = run_backfill(&b, &err);
	if (rc)
		fprintf(stderr, "tradebridge backfill: %s\n", err.msg);
	else
		printf("%s -> %s: %" PRId64 " records examined, %" PRId64 " %s\n", b.from, b.to,
		       b.examined, b.queued, b.dry ? "would be queued" : "queued for delivery");
	tb_store_close(&b.st);
	tb_sharing_fini(&b.sh);
	tb_json_free(doc);
	return rc == 0 ? TB_EXIT_OK : rc == TB_ECONFIG ? TB_EXIT_USAGE : TB_EXIT_UNKNOWN;
}
