/* Crash safety: a child process runs the relay over 1,000 records into an
 * SQLite-backed sink and is SIGKILLed at random moments, several times, then
 * run to the end. Afterwards: every record is stored once, every VALID one took
 * effect at the destination exactly once, every delivered row has one receipt,
 * nothing is pending or dead, and the receipt chain verifies from seq 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "fake_adapters.h"
#include "relay.h"
#include "runcli.h"
#include "tmpdir.h"

#define TOTAL 1000
#define INVALID_EVERY 10
#define KILLS 8
/* A child that makes no progress for this long (times TB_TEST_SLOW) is hung: it
 * dies by SIGALRM and the test says so. A slow child that keeps delivering on a
 * loaded machine is never cut short: each step with work re-arms the bound. */
#define STALL_S 30

static char dir[64], store_path[128], sink_path[128];
static const uint8_t relay_key[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                      9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1};

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

static int child_run(void)
{
	static struct fake_sink sink; /* large: keep it off the stack */
	struct fake_source src = {.total = TOTAL, .batch = 7, .invalid_every = INVALID_EVERY,
	                          .unknown_at = -1};
	struct tb_relay_config cfg = {.store_path = store_path, .lease_ms = 30,
	                              .retry = {.max_attempts = 50, .base_ms = 5, .max_ms = 50},
	                              .claim_max = 16};
	struct tb_error err;
	struct tb_relay *r;
	memcpy(cfg.key, relay_key, 32);
	unsigned stall = (unsigned)(STALL_S * tb_test_slow());
	alarm(stall);
	if (sqlite3_open(sink_path, &sink.db) != SQLITE_OK ||
	    sqlite3_exec(sink.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                 " CREATE TABLE IF NOT EXISTS effects(idem TEXT PRIMARY KEY)",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return 10;
	sqlite3_busy_timeout(sink.db, 5000);
	if (tb_relay_new(&r, &cfg, &err) ||
	    tb_relay_add_network(r, "src", &fake_source_ops, &src, &err) ||
	    tb_relay_add_network(r, "dst", &fake_sink_ops, &sink, &err) ||
	    tb_relay_add_route(r, "src", "dst", &err)) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 11;
	}
	struct tb_relay_hooks h = {.policy = allow_all};
	tb_relay_set_hooks(r, &h);
	int idle = 0;
	while (idle < 20) {
		size_t work;
		if (tb_relay_step(r, &work, &err)) {
			fprintf(stderr, "child: %s\n", err.msg);
			return 12;
		}
		idle = work ? 0 : idle + 1;
		if (work)
			alarm(stall); /* progress: the hung-child bound starts again */
		else
			usleep(5000); /* leases from a killed run expire */
	}
	tb_relay_free(r);
	sqlite3_close(sink.db);
	return 0;
}

static int run_child(int kill_after_us)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_run());
	if (kill_after_us > 0) {
		usleep((useconds_t)kill_after_us);
		kill(pid, SIGKILL);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		fail_msg("the relay child made no progress for %ld s (set TB_TEST_SLOW on a "
		         "loaded machine)", STALL_S * tb_test_slow());
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGKILL ? 1 : -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}

struct all {
	struct tb_receipt *r;
	size_t n, cap;
};

static int collect(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct all *a = ctx;
	(void)json;
	if (a->n == a->cap)
		return 1;
	a->r[a->n++] = *r;
	return 0;
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void survives_sigkill_without_loss_or_duplicate(void **state)
{
	(void)state;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	srand(seed);
	int landed = 0;
	for (int i = 0; i < KILLS; i++)
		landed += run_child(2000 + rand() % 150000);
	run_child(0);
	printf("# seed %u: %d of %d kills landed mid-run\n", seed, landed, KILLS);
	assert_true(landed >= 3);

	const int64_t invalid = TOTAL / INVALID_EVERY, valid = TOTAL - invalid;
	struct tb_store st;
	struct tb_store_stats s;
	struct tb_error err;
	assert_int_equal(tb_store_open(&st, store_path, 0, &err), 0);
	assert_int_equal(st.ops->stats(st.state, &s, &err), 0);
	assert_int_equal(s.records, TOTAL);
	assert_int_equal(s.invalid, invalid);
	assert_int_equal(s.delivered, valid);
	assert_int_equal(s.pending, 0);
	assert_int_equal(s.dead, 0);
	assert_int_equal(s.receipts, valid);
	struct all a = {.r = calloc(TOTAL, sizeof(struct tb_receipt)), .cap = TOTAL};
	assert_int_equal(st.ops->receipt_range(st.state, 1, TOTAL, collect, &a, &err), 0);
	assert_int_equal(a.n, valid);
	uint8_t pub[65], addr[20];
	size_t bad;
	assert_int_equal(tb_secp_pubkey(relay_key, pub, &err), 0);
	tb_eth_address(pub, addr);
	assert_int_equal(tb_receipt_verify_chain(a.r, a.n, addr, NULL, &bad, &err), 0);
	free(a.r);
	tb_store_close(&st);

	/* The destination saw each delivered row's key once, and nothing else. */
	sqlite3 *db;
	char sql[512];
	assert_int_equal(sqlite3_open(sink_path, &db), SQLITE_OK);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM effects"), valid);
	snprintf(sql, sizeof sql, "ATTACH '%s' AS relay", store_path);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM effects JOIN relay.outbox o ON"
	                            " o.idem_key=effects.idem WHERE o.state='delivered'"), valid);
	assert_int_equal(scalar(db, "SELECT COUNT(DISTINCT record) FROM relay.outbox"), valid);
	assert_int_equal(scalar(db, "SELECT COUNT(*) FROM relay.records r WHERE verdict='INVALID'"
	                            " AND EXISTS(SELECT 1 FROM relay.outbox o WHERE o.record=r.id)"), 0);
	assert_int_equal(scalar(db, "SELECT value FROM relay.cursors WHERE network='src'"), TOTAL);
	sqlite3_close(db);
}

static int setup(void **state)
{
	(void)state;
	if (tb_tmpdir_make(dir, sizeof dir, "tb-crash") != 0)
		return -1;
	snprintf(store_path, sizeof store_path, "%s/relay.db", dir);
	snprintf(sink_path, sizeof sink_path, "%s/sink.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(survives_sigkill_without_loss_or_duplicate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
