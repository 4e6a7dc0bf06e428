/* Contract v2 on the relay side, with in-process fakes: a destination that rejects
 * for good is asked once (no retry, past backoff), the row ends with a signed
 * receipt of status rejected carrying the reason (tradebridge receipts verify
 * accepts it), and its reply is a record of the destination's network linked to
 * the record it answers and delivered over a route onward; the same reply seen
 * on every confirm is stored once; a source's ack comes once per committed batch
 * with its cursor, after the commit (another connection already reads it), and
 * never for a batch that failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "fake_relay.h"
#include "lib/hex.h"
#include "relay.h"
#include "runcli.h"
#include "tmpdir.h"

#define REASON "CUSRES: item 3: tariff code 9999.99 is not in the national tariff"

static char dir[64];

struct fixture {
	struct fake_relay *fr; /* src routed to dst, as the other relay tests have it */
	struct fake_sink back; /* the sender's side of the reply: dst routes to it */
	/* ack checks */
	sqlite3 *reader; /* a second connection: sees only what was committed */
	long ack_mismatch;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct tb_error err;
	struct tb_relay_config cfg = {.retry = {.max_attempts = 3, .base_ms = 1, .max_ms = 5},
	                              .lease_ms = 1000, .confirm_ms = 1};
	struct fake_source src = {.total = 1, .batch = 6, .unknown_at = -1};
	if (!f || fake_relay_open(&f->fr, dir, cfg, src, 0) != 0)
		return -1;
	if (tb_relay_add_network(f->fr->relay, "back", &fake_sink_ops, &f->back, &err) ||
	    tb_relay_add_route(f->fr->relay, "dst", "back", &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fake_relay_close(f->fr);
	if (f->reader)
		sqlite3_close(f->reader);
	free(f);
	return 0;
}

/* Steps until idle, then again past every backoff: anything retried would be. */
static void run_rounds(struct fixture *f, int rounds)
{
	struct tb_error err;
	size_t work;
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < 100; k++) {
			assert_int_equal(tb_relay_step(f->fr->relay, &work, &err), 0);
			if (work == 0)
				break;
		}
		usleep(10000); /* > max backoff (5 ms) and confirm_ms */
	}
	/* and a round an hour ahead: nothing is left waiting for a later attempt */
	assert_int_equal(tb_relay_deliver(f->fr->relay, tb_relay_now_ms() + 3600000, &work, &err), 0);
}

struct chain {
	struct tb_receipt r[16];
	size_t n;
};

static int collect(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct chain *c = ctx;
	(void)json;
	if (c->n == 16)
		return 1;
	c->r[c->n++] = *r;
	return 0;
}

static void read_chain(struct fixture *f, struct chain *c)
{
	struct tb_error err;
	size_t bad;
	struct tb_store *st = tb_relay_store(f->fr->relay);
	c->n = 0;
	assert_int_equal(st->ops->receipt_range(st->state, 1, 16, collect, c, &err), 0);
	assert_int_equal(tb_receipt_verify_chain(c->r, c->n, f->fr->addr, NULL, &bad, &err), 0);
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* One text column of a one-row query ("" when no row), copied into out. */
static void text_of(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	out[0] = 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void rejected_once_receipted_reply_linked_and_routed(void **state)
{
	struct fixture *f = *state;
	struct tb_error err;
	f->fr->sink.reject_final = 1;
	f->fr->sink.reject_reason = REASON;
	run_rounds(f, 6);
	assert_int_equal(f->fr->sink.submits, 1); /* final: never asked again */

	/* the chain: the rejection, then the reply's delivery to back */
	struct chain c;
	read_chain(f, &c);
	assert_int_equal(c.n, 2);
	const struct tb_receipt *rej = &c.r[0];
	assert_string_equal(rej->status, "rejected");
	assert_string_equal(rej->destination, "dst");
	assert_string_equal(rej->source_network, "src");
	assert_string_equal(rej->source_locator, "0xfeed:0");
	assert_string_equal(rej->reason, REASON);
	assert_non_null(strstr(rej->txref, f->fr->sink.last_idem)); /* no destination ref: the key */
	assert_string_equal(c.r[1].status, "confirmed");
	assert_string_equal(c.r[1].destination, "back");
	assert_string_equal(c.r[1].source_network, "dst");

	/* the row ended: not pending, not a dead letter to re-drive */
	struct tb_store *st = tb_relay_store(f->fr->relay);
	struct tb_store_stats s;
	assert_int_equal(st->ops->stats(st->state, &s, &err), 0);
	assert_int_equal(s.rejected, 1);
	assert_int_equal(s.dead, 0);
	assert_int_equal(s.pending, 0);
	int count = -1;
	assert_int_equal(st->ops->dead_redrive(st->state, 0, tb_relay_now_ms(), &count, &err), 0);
	assert_int_equal(count, 0);

	/* the reply: a record of dst, linked to the record it answers, honest about its proof */
	sqlite3 *db = open_db(f->fr->store);
	char v[1024], want[128];
	text_of(db, "SELECT COUNT(*) FROM records WHERE answers IS NOT NULL", v, sizeof v);
	assert_string_equal(v, "1");
	text_of(db, "SELECT COUNT(*) FROM records a JOIN records r"
	            " ON r.id = a.answers WHERE r.network='src' AND r.locator='0xfeed:0'"
	            " AND a.network='dst'", v, sizeof v);
	assert_string_equal(v, "1");
	text_of(db, "SELECT record_id FROM records WHERE network='src'", want, sizeof want);
	assert_string_equal(want, rej->record);
	text_of(db, "SELECT locator FROM records WHERE answers IS NOT NULL", v, sizeof v);
	assert_true(strncmp(v, "reply:", 6) == 0);
	assert_non_null(strstr(v, f->fr->sink.last_idem));
	text_of(db, "SELECT verdict || ' ' || reason FROM records WHERE answers IS NOT NULL", v,
	        sizeof v);
	assert_true(strncmp(v, "VALID ", 6) == 0);
	assert_non_null(strstr(v, "not independently verified"));
	text_of(db, "SELECT body FROM records WHERE answers IS NOT NULL", v, sizeof v);
	assert_non_null(strstr(v, "\"proof\":\"destination-reply\""));
	assert_non_null(strstr(v, "\"type\":\"cusres\""));
	text_of(db, "SELECT reason FROM outbox WHERE destination='dst'", v, sizeof v);
	assert_string_equal(v, REASON);
	sqlite3_close(db);

	/* routed back: the sender's side got the CUSRES, naming the delivery it answers */
	assert_int_equal(f->back.submits, 1);
	assert_non_null(strstr(f->back.last_payload, "\"answer\":\"CUSRES\""));
	assert_non_null(strstr(f->back.last_payload, "\"status\":\"refused\""));
	snprintf(want, sizeof want, "\"ref\":\"%s\"", f->fr->sink.last_idem);
	assert_non_null(strstr(f->back.last_payload, want));

	assert_true(fake_relay_metric_has(f->fr, "tradebridge_records_rejected_total{network=\"dst\"} 1\n"));
	assert_true(fake_relay_metric_has(f->fr, "tradebridge_replies_total{network=\"dst\"} 1\n"));
	assert_true(fake_relay_metric_has(f->fr, "tradebridge_records_dead_total{network=\"dst\"} 0\n"));
	struct tb_relay_counts k;
	tb_relay_counts(f->fr->relay, &k);
	assert_int_equal(k.rejected, 1);

	/* what an outside party runs: the receipt and the chain verify; list shows why */
	char signer[43];
	tb_eth_address_checksum(f->fr->addr, signer);
	struct tb_run r;
	TB_RUN(&r, "receipts", "verify", "--signer", signer, "-s", f->fr->store);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "VALID: 2 receipts"));
	tb_run_fini(&r);
	TB_RUN(&r, "receipts", "list", "-s", f->fr->store);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "rejected\t" REASON "\n"));
	tb_run_fini(&r);
	TB_RUN(&r, "dead-letters", "list", "-s", f->fr->store);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "no dead letters"));
	tb_run_fini(&r);
}

static void rejected_at_confirm_names_the_destination_ref(void **state)
{
	struct fixture *f = *state;
	f->fr->sink.reject_final = 2;
	f->fr->sink.pending_confirms = 2;
	f->fr->sink.reject_reason = "ENDORSEMENT_POLICY_FAILURE";
	run_rounds(f, 6);
	assert_int_equal(f->fr->sink.submits, 1);
	struct chain c;
	read_chain(f, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.r[0].status, "rejected");
	assert_string_equal(c.r[0].reason, "ENDORSEMENT_POLICY_FAILURE");
	char ref[128];
	snprintf(ref, sizeof ref, "0xtx-%s", f->fr->sink.last_idem);
	assert_string_equal(c.r[0].txref, ref);
	assert_int_equal(f->back.submits, 1);
}

/* A reply on every confirm (PENDING twice, then CONFIRMED): one record, one delivery. */
static void same_reply_seen_again_stored_once(void **state)
{
	struct fixture *f = *state;
	f->fr->sink.pending_confirms = 2;
	f->fr->sink.reply_every_confirm = 1;
	run_rounds(f, 8);
	assert_int_equal(f->fr->sink.submits, 1);
	sqlite3 *db = open_db(f->fr->store);
	char v[64];
	text_of(db, "SELECT COUNT(*) FROM records WHERE network='dst' AND answers IS NOT NULL", v,
	        sizeof v);
	assert_string_equal(v, "1");
	text_of(db, "SELECT state FROM outbox WHERE destination='dst'", v, sizeof v);
	assert_string_equal(v, "delivered");
	sqlite3_close(db);
	assert_int_equal(f->back.submits, 1);
	struct chain c;
	read_chain(f, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.r[0].status, "confirmed");
	assert_string_equal(c.r[0].reason, ""); /* no reason member on a plain receipt */
	assert_true(fake_relay_metric_has(f->fr, "tradebridge_replies_total{network=\"dst\"} 1\n"));
}

/* ack: the cursor it is given is already committed (another connection reads it). */
static void check_committed(void *ctx, const struct tb_cursor *done)
{
	struct fixture *f = ctx;
	char v[256];
	text_of(f->reader, "SELECT value FROM cursors WHERE network='src'", v, sizeof v);
	f->ack_mismatch += strcmp(v, done->value) != 0;
}

static void ack_once_per_committed_batch(void **state)
{
	struct fixture *f = *state;
	struct tb_error err;
	size_t taken;
	f->fr->src.total = 20;
	f->fr->src.on_ack = check_committed;
	f->fr->src.on_ack_ctx = f;
	f->reader = open_db(f->fr->store);
	/* a batch that fails (UNKNOWN verdict: rolled back) is not acknowledged */
	f->fr->src.unknown_at = 2;
	f->fr->src.unknown_left = 1;
	assert_int_equal(tb_relay_ingest(f->fr->relay, "src", &taken, &err), TB_EUNAVAIL);
	assert_int_equal(f->fr->src.acks, 0);
	/* 20 records in batches of 6: four commits, four acks, the last at "20" */
	for (int i = 0; i < 6; i++)
		assert_int_equal(tb_relay_ingest(f->fr->relay, "src", &taken, &err), 0);
	assert_int_equal(f->fr->src.acks, 4);
	assert_string_equal(f->fr->src.acked.value, "20");
	assert_int_equal(f->ack_mismatch, 0);
	/* a store that cannot commit: no ack until a batch commits again */
	f->fr->src.total = 26;
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	fflush(stdout);
	fflush(stderr);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rcs[3];
	for (int i = 0; i < 3; i++)
		rcs[i] = tb_relay_ingest(f->fr->relay, "src", &taken, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(rcs[i], 0);
	assert_int_equal(f->fr->src.acks, 4);
	assert_int_equal(tb_relay_ingest(f->fr->relay, "src", &taken, &err), 0);
	assert_int_equal(taken, 6);
	assert_int_equal(f->fr->src.acks, 5);
	assert_string_equal(f->fr->src.acked.value, "26");
	assert_int_equal(f->ack_mismatch, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rejected_once_receipted_reply_linked_and_routed, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(rejected_at_confirm_names_the_destination_ref, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(same_reply_seen_again_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(ack_once_per_committed_batch, setup, teardown),
	};
	if (tb_tmpdir_make(dir, sizeof dir, "tb-reply") != 0)
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tb_tmpdir_remove(dir);
	return rc;
}
