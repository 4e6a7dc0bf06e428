/* The ingest side under faults, with in-process source and sink: a source that
 * keeps failing is logged once per interval and its end too, and its lag shows
 * what waits there; more versions of one key than the relay keeps are INVALID
 * records, never a blocked network; a store that cannot be written is logged,
 * makes the relay not ready, and heals by itself; a rewritten source history is
 * logged with the common ancestor, what was taken after it is retracted (receipts
 * for what was delivered, dead letters for what was pending), and ingest holds
 * until `tradebridge cursor reset` moves the cursor, then takes the new history;
 * a route removed and restored gets what was stored meanwhile from `backfill`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "fake_relay.h"
#include "relay.h"
#include "runcli.h"
#include "sharing.h"
#include "tmpdir.h"

static char dir[64];

static int setup(void **state)
{
	struct tb_relay_config cfg = {.retry = {.max_attempts = 3, .base_ms = 100, .max_ms = 1000},
	                              .lease_ms = 1000, .log_every_ms = 3600000};
	struct fake_source src = {.total = 20, .batch = 6, .unknown_at = -1};
	return fake_relay_open((struct fake_relay **)state, dir, cfg, src, 1);
}

static int teardown(void **state)
{
	fake_relay_close(*state);
	return 0;
}

static int step(struct fake_relay *f)
{
	struct tb_error err;
	size_t work;
	return tb_relay_step(f->relay, &work, &err);
}

static void run_until_idle(struct fake_relay *f)
{
	struct tb_error err;
	size_t work;
	/* in-order delivery sends one version of a key per round: room for 512 and more */
	for (int i = 0; i < 2000; i++) {
		int rc = tb_relay_step(f->relay, &work, &err);
		if (rc)
			fail_msg("step: %s", err.msg);
		if (work == 0)
			return;
	}
	fail_msg("relay did not become idle in 2000 steps");
}

static void source_stall_logged_once_and_lag_shown(void **state)
{
	struct fake_relay *f = *state;
	f->src.unknown_at = 3;
	f->src.unknown_left = 1000;
	for (int i = 0; i < 5; i++)
		assert_int_equal(step(f), 0); /* a retry, not an error of the step */
	assert_int_equal(fake_relay_log_count(f, "ingest stalled"), 1);
	assert_int_equal(fake_relay_log_count(f, "network=src"), 1);
	assert_int_equal(fake_relay_log_count(f, "0xfeed:3: verification UNKNOWN: source node unreachable"), 1);
	/* nothing reached the outbox, but the source shows what waits there */
	assert_true(fake_relay_metric_has(f, "tradebridge_outbox_depth 0\n"));
	assert_true(fake_relay_metric_has(f, "tradebridge_source_lag{network=\"src\"} 20\n"));
	assert_true(fake_relay_metric_has(f, "tradebridge_ingest_errors_total{network=\"src\"} 5\n"));
	f->src.unknown_left = 0;
	run_until_idle(f);
	assert_int_equal(fake_relay_log_count(f, "ingest resumed"), 1);
	assert_int_equal(f->sink.nkeys, 20);
	assert_true(fake_relay_metric_has(f, "tradebridge_source_lag{network=\"src\"} 0\n"));
}

static void delivery_outage_logged_once(void **state)
{
	struct fake_relay *f = *state;
	f->sink.down = 1;
	for (int i = 0; i < 4; i++)
		assert_int_equal(step(f), 0); /* each step ingests a batch; its delivery fails */
	assert_true(f->sink.submits >= 12);
	assert_int_equal(fake_relay_log_count(f, "delivery failing"), 1);
	assert_int_equal(fake_relay_log_count(f, "network=dst cause=\"sink: connection refused\""), 1);
	f->sink.down = 0;
	assert_int_equal(tb_relay_deliver(f->relay, tb_relay_now_ms() + 600000, &(size_t){0},
	                                  &(struct tb_error){0}), 0);
	assert_true(f->sink.nkeys > 0);
	assert_int_equal(fake_relay_log_count(f, "delivery resumed"), 1);
}

/* Every record of the source is a new version of one certificate. */
static int one_key(void *ctx, const char *network, const struct tb_native *in,
                   const struct tb_proof *p, struct tb_json **out, struct tb_error *err)
{
	struct tb_native k = *in;
	snprintf(k.locator, sizeof k.locator, "cert-1");
	return tb_sharing_translate(ctx, network, &k, p, out, err);
}

static void version_limit_keeps_invalid_never_blocks(void **state)
{
	struct fake_relay *f = *state;
	struct tb_sharing sh;
	struct tb_error err;
	struct tb_json *doc = NULL;
	const char conf[] = "{\"routes\": [{\"from\": \"src\", \"to\": \"dst\"}]}";
	assert_int_equal(tb_json_parse(conf, strlen(conf), NULL, &doc, &err), 0);
	assert_int_equal(tb_sharing_load(&sh, doc, "test.json", 0, &err), 0);
	sh.store = tb_relay_store(f->relay);
	struct tb_relay_hooks h = {.ctx = &sh, .translate = one_key, .policy = fake_allow_all};
	tb_relay_set_hooks(f->relay, &h);
	f->src.total = TB_SHARING_MAX_HISTORY + 3;
	f->src.batch = 100;
	run_until_idle(f);
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_cursor c;
	struct tb_store_stats s;
	assert_int_equal(st->ops->cursor_get(st->state, "src", &c, &err), 0);
	assert_int_equal(atol(c.value), TB_SHARING_MAX_HISTORY + 3); /* the cursor went past */
	assert_int_equal(st->ops->stats(st->state, &s, &err), 0);
	assert_int_equal(s.records, TB_SHARING_MAX_HISTORY + 3);
	assert_int_equal(s.invalid, 3);
	assert_int_equal(f->sink.nkeys, TB_SHARING_MAX_HISTORY);
	struct tb_store_record rec;
	assert_int_equal(st->ops->record_get(st->state, TB_SHARING_MAX_HISTORY + 1, &rec, &err), 0);
	assert_string_equal(rec.verdict, "INVALID");
	assert_non_null(strstr(rec.reason, "cert-1 already has 512 versions"));
	tb_store_record_fini(&rec);
	tb_sharing_fini(&sh);
	tb_json_free(doc);
}

static void full_store_logged_not_ready_then_heals(void **state)
{
	struct fake_relay *f = *state;
	f->src.total = 6;
	run_until_idle(f);
	assert_null(tb_relay_not_ready(f->relay));
	f->src.total = 12;
	/* A file-size limit below the store's files: every write fails as on a full disk. */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	fflush(stdout);
	fflush(stderr);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rcs[4];
	for (int i = 0; i < 4; i++)
		rcs[i] = step(f);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(rcs[i], 0);
	assert_non_null(tb_relay_not_ready(f->relay));
	assert_true(fake_relay_metric_has(f, "tradebridge_store_ok 0\n"));
	assert_false(fake_relay_metric_has(f, "tradebridge_store_errors_total 0\n"));
	assert_int_equal(fake_relay_log_count(f, "store cannot be written"), 1);
	run_until_idle(f); /* the fault cleared: no restart */
	assert_null(tb_relay_not_ready(f->relay));
	assert_true(fake_relay_metric_has(f, "tradebridge_store_ok 1\n"));
	assert_int_equal(fake_relay_log_count(f, "store writable again"), 1);
	assert_int_equal(f->sink.nkeys, 12);
}

struct statuses {
	int confirmed, retracted;
	char last_retracted_locator[256];
};

static int count_status(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct statuses *s = ctx;
	(void)json;
	if (strcmp(r->status, "confirmed") == 0)
		s->confirmed++;
	if (strcmp(r->status, "retracted-at-source") == 0) {
		s->retracted++;
		snprintf(s->last_retracted_locator, sizeof s->last_retracted_locator, "%s",
		         r->source_locator);
	}
	return 0;
}

static void count_statuses(struct fake_relay *f, struct statuses *s)
{
	struct tb_error err;
	struct tb_store *st = tb_relay_store(f->relay);
	memset(s, 0, sizeof *s);
	assert_int_equal(st->ops->receipt_range(st->state, 1, 64, count_status, s, &err), 0);
}

static int collect(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct tb_receipt *rs = ctx;
	(void)json;
	rs[r->seq - 1] = *r;
	return r->seq >= 64;
}

static void rewritten_history_retracted_then_reset(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_sharing sh;
	struct tb_json *doc = NULL;
	const char conf[] = "{\"routes\": [{\"from\": \"src\", \"to\": \"dst\"}]}";
	assert_int_equal(tb_json_parse(conf, strlen(conf), NULL, &doc, &err), 0);
	assert_int_equal(tb_sharing_load(&sh, doc, "test.json", 0, &err), 0);
	sh.store = st; /* versions per key, as tradebridge run has them */
	struct tb_relay_hooks h = {.ctx = &sh, .translate = tb_sharing_translate,
	                           .policy = fake_allow_all};
	tb_relay_set_hooks(f->relay, &h);
	f->src.total = 12;
	f->src.batch = 4;
	run_until_idle(f); /* 0..11 delivered; cursors 4, 8, 12 stored */
	f->sink.down = 1;
	f->src.total = 16;
	assert_int_equal(step(f), 0); /* 12..15 taken, their delivery fails: pending */
	f->sink.down = 0;
	/* the source's history from record 6 on is replaced; cursor 4 is the last in common */
	f->src.generation = 1;
	f->src.fork_at = 6;
	assert_int_equal(step(f), TB_EREORG);
	assert_int_equal(fake_relay_log_count(f, "re-org deeper than the confirmation depth"), 1);
	assert_int_equal(fake_relay_log_count(f, "position 16 was generation 0, is now generation 1"), 2);
	assert_int_equal(fake_relay_log_count(f, "common_ancestor=4"), 1);
	assert_int_equal(fake_relay_log_count(f, "depth=12"), 1);
	assert_int_equal(fake_relay_log_count(f, "records_retracted=12"), 1);   /* 4..15 */
	assert_int_equal(fake_relay_log_count(f, "retraction_receipts=8"), 1);  /* 4..11 were delivered */
	assert_int_equal(fake_relay_log_count(f, "pending_retired=4"), 1);      /* 12..15 were not */
	assert_int_equal(fake_relay_log_count(f, "tradebridge cursor reset src --to 4"), 2); /* and the stall */
	struct statuses s;
	count_statuses(f, &s);
	assert_int_equal(s.confirmed, 12);
	assert_int_equal(s.retracted, 8);
	assert_string_equal(s.last_retracted_locator, "0xfeed:11");
	struct tb_receipt rs[64];
	size_t bad;
	assert_int_equal(st->ops->receipt_range(st->state, 1, 64, collect, rs, &err), 0);
	assert_int_equal(tb_receipt_verify_chain(rs, 20, f->addr, NULL, &bad, &err), 0);
	/* ingest holds, the stall stays visible, nothing is marked twice */
	for (int i = 0; i < 3; i++)
		assert_int_equal(step(f), TB_EREORG);
	assert_int_equal(fake_relay_log_count(f, "re-org deeper than the confirmation depth"), 1);
	assert_int_equal(fake_relay_log_count(f, "ingest stopped by a re-org"), 1);
	long sunk = f->sink.nkeys;
	/* the operator moves the cursor back with the relay running */
	struct tb_run r;
	TB_RUN(&r, "cursor", "reset", "-s", f->store, "src", "--to", "4");
	if (r.status != 0)
		fail_msg("cursor reset: %s", TB_ERR(&r));
	assert_non_null(strstr(TB_OUT(&r), "cursor moved from 16 to 4"));
	tb_run_fini(&r);
	run_until_idle(f);
	/* 4..15 of the new history: 4 and 5 again (as new versions), 6..15 new ones */
	assert_int_equal(f->sink.nkeys - sunk, 12);
	struct tb_cursor c;
	assert_int_equal(st->ops->cursor_get(st->state, "src", &c, &err), 0);
	assert_string_equal(c.value, "16:g1");
	assert_int_equal(fake_relay_log_count(f, "ingest resumed"), 1);
	/* moving back over records already taken (and not retracted) takes none twice */
	TB_RUN(&r, "cursor", "reset", "-s", f->store, "src", "--to", "8:g1");
	assert_int_equal(r.status, 0);
	tb_run_fini(&r);
	run_until_idle(f);
	assert_int_equal(f->sink.nkeys - sunk, 12);
	TB_RUN(&r, "cursor", "reset", "-s", f->store, "src", "--to", "5");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(TB_ERR(&r), "src has no stored cursor at \"5\""));
	tb_run_fini(&r);
	tb_sharing_fini(&sh);
	tb_json_free(doc);
}

static void rewritten_history_resumes_by_itself_when_allowed(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	tb_relay_free(f->relay);
	struct tb_relay_config cfg = {.store_path = f->store, .log = &f->log, .reorg_auto = 1};
	memset(cfg.key, 7, 32);
	assert_int_equal(tb_relay_new(&f->relay, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(f->relay, "src", &fake_source_ops, &f->src, &err), 0);
	assert_int_equal(tb_relay_add_network(f->relay, "dst", &fake_sink_ops, &f->sink, &err), 0);
	assert_int_equal(tb_relay_add_route(f->relay, "src", "dst", &err), 0);
	struct tb_relay_hooks h = {.policy = fake_allow_all};
	tb_relay_set_hooks(f->relay, &h);
	f->src.total = 12;
	f->src.batch = 4;
	run_until_idle(f);
	f->src.generation = 1;
	f->src.fork_at = 8;
	run_until_idle(f); /* the step that finds the re-org moves the cursor back */
	run_until_idle(f);
	assert_int_equal(fake_relay_log_count(f, "resuming from the common ancestor"), 1);
	assert_int_equal(fake_relay_log_count(f, "retraction_receipts=4"), 1);
	if (f->sink.nkeys != 16)
		fail_msg("log:\n%s", f->logbuf);
	assert_int_equal(f->sink.nkeys, 16); /* 0..11, then 8..11 of the new history */
}

/* Reopen the relay on the same store with the route to dst present or not (as a
 * SIGHUP with another configuration does). */
static void reopen(struct fake_relay *f, struct tb_sharing *sh, struct fake_sink *other, int route)
{
	struct tb_error err;
	tb_relay_free(f->relay);
	struct tb_relay_config cfg = {.store_path = f->store, .log = &f->log};
	memset(cfg.key, 7, 32);
	assert_int_equal(tb_relay_new(&f->relay, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(f->relay, "src", &fake_source_ops, &f->src, &err), 0);
	assert_int_equal(tb_relay_add_network(f->relay, "dst", &fake_sink_ops, &f->sink, &err), 0);
	assert_int_equal(tb_relay_add_network(f->relay, "kr", &fake_sink_ops, other, &err), 0);
	assert_int_equal(tb_relay_add_route(f->relay, "src", route ? "dst" : "kr", &err), 0);
	sh->store = tb_relay_store(f->relay);
	struct tb_relay_hooks h = {.ctx = sh, .translate = tb_sharing_translate,
	                           .policy = tb_sharing_policy};
	tb_relay_set_hooks(f->relay, &h);
}

static void restored_route_backfilled(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	struct tb_sharing sh;
	struct tb_json *doc = NULL;
	struct fake_sink other;
	struct tb_run r;
	char conf_path[160];
	const char conf[] = "{\"routes\": [{\"from\": \"src\", \"to\": \"dst\"},"
	                    " {\"from\": \"src\", \"to\": \"kr\"}],"
	                    " \"policies\": {\"dst\": {\"types\": [\"aeo.event\"]}}}";
	memset(&other, 0, sizeof other);
	snprintf(conf_path, sizeof conf_path, "%s/backfill.json", dir);
	FILE *cf = fopen(conf_path, "w");
	assert_non_null(cf);
	fputs(conf, cf);
	fclose(cf);
	assert_int_equal(tb_json_parse(conf, strlen(conf), NULL, &doc, &err), 0);
	assert_int_equal(tb_sharing_load(&sh, doc, "test.json", 0, &err), 0);
	f->src.total = 6;
	reopen(f, &sh, &other, 1);
	run_until_idle(f);
	assert_int_equal(f->sink.nkeys, 6);
	/* the route to dst is removed; 6..9 are stored meanwhile, for no one (kr has no policy) */
	reopen(f, &sh, &other, 0);
	f->src.total = 10;
	run_until_idle(f);
	assert_int_equal(other.submits, 0);
	TB_RUN(&r, "backfill", "-c", conf_path, "-s", f->store, "--from", "src", "--to", "dst",
	       "--dry-run");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "4 records examined, 4 would be queued"));
	tb_run_fini(&r);
	/* restored: nothing reaches back by itself ... */
	reopen(f, &sh, &other, 1);
	run_until_idle(f);
	assert_int_equal(f->sink.nkeys, 6);
	/* ... until backfill offers what was stored meanwhile, with progress */
	TB_RUN(&r, "backfill", "-c", conf_path, "-s", f->store, "--from", "src", "--to", "dst");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "4 records examined, 4 queued for delivery"));
	assert_non_null(strstr(TB_ERR(&r), "backfill src -> dst: records after #6"));
	tb_run_fini(&r);
	run_until_idle(f);
	assert_int_equal(f->sink.nkeys, 10);
	TB_RUN(&r, "backfill", "-c", conf_path, "-s", f->store, "--from", "src", "--to", "dst");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "0 records examined, 0 queued"));
	tb_run_fini(&r);
	/* a route that never carried anything needs --all; one not configured is refused */
	TB_RUN(&r, "backfill", "-c", conf_path, "-s", f->store, "--from", "src", "--to", "kr");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(TB_ERR(&r), "never carried a record: --all"));
	tb_run_fini(&r);
	TB_RUN(&r, "backfill", "-c", conf_path, "-s", f->store, "--from", "dst", "--to", "src");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(TB_ERR(&r), "no route from dst to src"));
	tb_run_fini(&r);
	tb_sharing_fini(&sh);
	tb_json_free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(source_stall_logged_once_and_lag_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(delivery_outage_logged_once, setup, teardown),
		cmocka_unit_test_setup_teardown(version_limit_keeps_invalid_never_blocks, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(full_store_logged_not_ready_then_heals, setup, teardown),
		cmocka_unit_test_setup_teardown(rewritten_history_retracted_then_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(rewritten_history_resumes_by_itself_when_allowed, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(restored_route_backfilled, setup, teardown),
	};
	if (tb_tmpdir_make(dir, sizeof dir, "tb-ingest") != 0)
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tb_tmpdir_remove(dir);
	return rc;
}
