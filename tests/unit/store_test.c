/* The SQLite store: schema migrations, record history that is never
 * overwritten, outbox claim/lease/backoff/dead-letter/re-drive, and delivery
 * that appends exactly one chained, signed receipt per row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "lib/hex.h"
#include "store/store.h"
#include "tmpdir.h"

static char dir[64], path[128];
static const uint8_t relay_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static int setup(void **state)
{
	(void)state;
	if (tb_tmpdir_make(dir, sizeof dir, "tb-store") != 0)
		return -1;
	snprintf(path, sizeof path, "%s/relay.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

static void fresh(struct tb_store *st)
{
	struct tb_error err;
	char f[160];
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
	assert_int_equal(tb_store_open(st, path, 0, &err), 0);
}

static int64_t put(struct tb_store *st, const char *rid, const char *key, int *created)
{
	struct tb_store_record r = {0};
	struct tb_error err;
	snprintf(r.record_id, sizeof r.record_id, "%s", rid);
	snprintf(r.key, sizeof r.key, "%s", key);
	strcpy(r.network, "src");
	strcpy(r.locator, "loc");
	strcpy(r.verdict, "VALID");
	r.body = "{\"a\":1}";
	assert_int_equal(st->ops->record_put(st->state, &r, created, &err), 0);
	return r.id;
}

static void schema_versioned_and_newer_refused(void **state)
{
	(void)state;
	struct tb_store st;
	struct tb_error err;
	fresh(&st);
	tb_store_close(&st);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	assert_true(v >= 1);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tb_store_open(&st, path, 0, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "newer"));
	assert_int_equal(tb_store_open(&st, "postgres://x/y", 0, &err), TB_ENOTSUP);
}

/* A store as schema 3 left it (the tables the relay then wrote, with a delivered row
 * and its receipt) moves to 4: rows kept, their links intact, 'rejected' allowed,
 * and records can name the record they answer. */
static const char schema3[] =
	"CREATE TABLE cursors(network TEXT PRIMARY KEY, value TEXT NOT NULL,"
	" updated_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE records(id INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE,"
	" key TEXT NOT NULL, version INTEGER NOT NULL, network TEXT NOT NULL,"
	" locator TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" body TEXT NOT NULL, UNIQUE(key, version));"
	"CREATE TABLE outbox(id INTEGER PRIMARY KEY, record INTEGER NOT NULL REFERENCES records(id),"
	" destination TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','delivered','dead')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,"
	" lease_ms INTEGER NOT NULL DEFAULT 0, txref TEXT, reason TEXT NOT NULL DEFAULT '',"
	" payload TEXT NOT NULL, created_ms INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(record, destination));"
	"CREATE INDEX outbox_due ON outbox(state, next_ms);"
	"CREATE TABLE receipts(seq INTEGER PRIMARY KEY, outbox INTEGER NOT NULL"
	" REFERENCES outbox(id), status TEXT NOT NULL DEFAULT 'confirmed',"
	" record_id TEXT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, UNIQUE(outbox, status));"
	"CREATE TABLE cursor_log(id INTEGER PRIMARY KEY, network TEXT NOT NULL, value TEXT NOT NULL,"
	" last_record INTEGER NOT NULL, ms INTEGER NOT NULL);"
	"CREATE TABLE retracted(record INTEGER PRIMARY KEY REFERENCES records(id),"
	" reason TEXT NOT NULL, ms INTEGER NOT NULL);"
	"CREATE TABLE kv(network TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY(network, key)) WITHOUT ROWID;"
	"CREATE INDEX outbox_record ON outbox(record);"
	"INSERT INTO records VALUES(1, 'sha256:aa', 'K', 1, 'src', 'loc', 'VALID', '', '{}');"
	"INSERT INTO outbox VALUES(7, 1, 'dst', 'tb1:aa:dst', 'delivered', 1, 0, 0, '0xt', '',"
	" '{}', 5);"
	"INSERT INTO receipts VALUES(1, 7, 'confirmed', 'sha256:aa', 'h', '{}');"
	"PRAGMA user_version=3;";

static int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void schema3_migrates_keeping_rows(void **state)
{
	(void)state;
	struct tb_store st;
	struct tb_error err;
	sqlite3 *db;
	fresh(&st);
	tb_store_close(&st);
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema3, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tb_store_open(&st, path, 0, &err), 0);
	struct tb_outbox_row row;
	assert_int_equal(st.ops->outbox_get(st.state, 7, &row, &err), 0);
	assert_int_equal(row.state, TB_OUTBOX_DELIVERED);
	assert_string_equal(row.idem_key, "tb1:aa:dst");
	assert_string_equal(row.txref, "0xt");
	tb_outbox_row_fini(&row);
	struct tb_store_record rec;
	assert_int_equal(st.ops->record_get(st.state, 1, &rec, &err), 0);
	assert_int_equal(rec.answers, 0);
	tb_store_record_fini(&rec);
	tb_store_close(&st);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(db_int(db, "PRAGMA user_version"), 4);
	assert_int_equal(db_int(db, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(db_int(db, "SELECT outbox FROM receipts WHERE seq=1"), 7);
	assert_int_equal(sqlite3_exec(db, "UPDATE outbox SET state='rejected'", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE outbox SET state='gone'", NULL, NULL, NULL),
	                     SQLITE_OK);
	sqlite3_close(db);
}

static void records_keep_history_never_overwritten(void **state)
{
	(void)state;
	struct tb_store st;
	struct tb_error err;
	int created;
	fresh(&st);
	int64_t a = put(&st, "r1", "K", &created);
	assert_true(created);
	int64_t b = put(&st, "r2", "K", &created);
	assert_true(created);
	int64_t again = put(&st, "r1", "K", &created);
	assert_false(created);
	assert_int_equal(again, a);
	struct tb_store_record h[4];
	size_t n;
	assert_int_equal(st.ops->record_history(st.state, "K", h, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].version, 1);
	assert_int_equal(h[1].version, 2);
	assert_int_equal(h[1].id, b);
	assert_string_equal(h[0].body, "{\"a\":1}");
	tb_store_record_fini(&h[0]);
	tb_store_record_fini(&h[1]);
	tb_store_close(&st);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE records SET body='x'", NULL, NULL, NULL),
	                     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM records", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void backoff_doubles_with_bounded_jitter(void **state)
{
	(void)state;
	struct tb_retry_policy p = {.max_attempts = 5, .base_ms = 1000, .max_ms = 10000};
	/* jitter 0 gives half the delay, jitter max nearly all of it */
	assert_int_equal(tb_store_backoff_ms(&p, 1, 0), 500);
	assert_int_equal(tb_store_backoff_ms(&p, 2, 0), 1000);
	assert_int_equal(tb_store_backoff_ms(&p, 3, 0), 2000);
	assert_int_equal(tb_store_backoff_ms(&p, 4, 0xffffffffu), 7999);
	assert_int_equal(tb_store_backoff_ms(&p, 10, 0), 5000);
	assert_int_equal(tb_store_backoff_ms(&p, 10, 0xffffffffu), 9999);
	assert_int_equal(tb_store_backoff_ms(&p, 1000, 0), 5000);
}

static void outbox_retry_dead_and_redrive(void **state)
{
	(void)state;
	struct tb_store st;
	struct tb_error err;
	struct tb_outbox_row rows[4];
	size_t n;
	int created, count;
	struct tb_retry_policy p = {.max_attempts = 3, .base_ms = 100, .max_ms = 1000};
	fresh(&st);
	int64_t rec = put(&st, "sha256:00112233445566778899aabbccddeeff0011223344556677", "K",
	                  &created);
	assert_int_equal(st.ops->outbox_add(st.state, rec, "dest", "{}", 1000, &err), 0);
	assert_int_equal(st.ops->outbox_add(st.state, rec, "dest", "{}", 1000, &err), 0);
	assert_int_equal(st.ops->outbox_claim(st.state, 999, 50, rows, 4, &n, &err), 0);
	assert_int_equal(n, 0); /* not due yet */
	assert_int_equal(st.ops->outbox_claim(st.state, 1000, 50, rows, 4, &n, &err), 0);
	assert_int_equal(n, 1); /* the second add was the same (record, destination) */
	char idem[80];
	strcpy(idem, rows[0].idem_key);
	assert_non_null(strstr(idem, ":dest"));
	int64_t id = rows[0].id;
	tb_outbox_row_fini(&rows[0]);
	/* leased: not handed out again until the lease ends */
	assert_int_equal(st.ops->outbox_claim(st.state, 1010, 50, rows, 4, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(st.ops->outbox_claim(st.state, 1050, 50, rows, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].idem_key, idem);
	tb_outbox_row_fini(&rows[0]);

	/* failure 1: retried after 50..100 ms */
	assert_int_equal(st.ops->outbox_fail(st.state, id, 2000, "timeout", &p, 0, 0, &err), 0);
	assert_int_equal(st.ops->outbox_get(st.state, id, rows, &err), 0);
	assert_int_equal(rows[0].state, TB_OUTBOX_PENDING);
	assert_int_equal(rows[0].attempts, 1);
	assert_int_equal(rows[0].next_ms, 2050);
	tb_outbox_row_fini(&rows[0]);
	assert_int_equal(st.ops->outbox_fail(st.state, id, 3000, "timeout", &p, 0, 0, &err), 0);
	assert_int_equal(st.ops->outbox_fail(st.state, id, 4000, "refused: 503", &p, 0, 0, &err), 0);
	assert_int_equal(st.ops->outbox_get(st.state, id, rows, &err), 0);
	assert_int_equal(rows[0].state, TB_OUTBOX_DEAD);
	assert_string_equal(rows[0].reason, "refused: 503");
	tb_outbox_row_fini(&rows[0]);
	assert_int_equal(st.ops->outbox_claim(st.state, 99999, 50, rows, 4, &n, &err), 0);
	assert_int_equal(n, 0); /* dead rows are never claimed */
	assert_int_equal(st.ops->dead_list(st.state, rows, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].id, id);
	tb_outbox_row_fini(&rows[0]);
	/* failing a dead row is refused */
	assert_int_equal(st.ops->outbox_fail(st.state, id, 4000, "x", &p, 0, 0, &err), TB_EINVAL);

	assert_int_equal(st.ops->dead_redrive(st.state, id + 100, 5000, &count, &err), TB_ENOTFOUND);
	assert_int_equal(st.ops->dead_redrive(st.state, id, 5000, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(st.ops->outbox_claim(st.state, 5000, 50, rows, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].attempts, 0);
	tb_outbox_row_fini(&rows[0]);
	/* a permanent failure is dead at once */
	assert_int_equal(st.ops->outbox_fail(st.state, id, 6000, "rejected", &p, 0, 1, &err), 0);
	struct tb_store_stats s;
	assert_int_equal(st.ops->stats(st.state, &s, &err), 0);
	assert_int_equal(s.dead, 1);
	assert_int_equal(s.pending, 0);
	tb_store_close(&st);
}

struct collect {
	struct tb_receipt r[8];
	size_t n;
};

static int collect_fn(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct collect *c = ctx;
	(void)json;
	if (c->n == 8)
		return 1;
	c->r[c->n++] = *r;
	return 0;
}

static void delivery_appends_one_chained_receipt(void **state)
{
	(void)state;
	struct tb_store st;
	struct tb_error err;
	struct tb_outbox_row rows[4];
	size_t n;
	int created;
	fresh(&st);
	for (int i = 0; i < 3; i++) {
		char rid[32];
		snprintf(rid, sizeof rid, "rid%d", i);
		int64_t rec = put(&st, rid, rid, &created);
		assert_int_equal(st.ops->outbox_add(st.state, rec, "dest", "{}", 0, &err), 0);
	}
	assert_int_equal(st.ops->outbox_claim(st.state, 10, 1000, rows, 4, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		struct tb_receipt r = {0};
		snprintf(r.record, sizeof r.record, "rid%zu", i);
		strcpy(r.source_network, "src");
		strcpy(r.source_locator, "loc");
		strcpy(r.verdict, "VALID");
		strcpy(r.destination, "dest");
		strcpy(r.txref, "0xaa");
		strcpy(r.status, "confirmed");
		strcpy(r.time, "2026-11-22T10:00:00Z");
		assert_int_equal(tb_store_deliver(&st, rows[i].id, "0xaa", &r, relay_key, &err), 0);
		assert_int_equal(r.seq, i + 1);
		/* a second receipt for the same row is refused and leaves no trace */
		assert_int_equal(tb_store_deliver(&st, rows[i].id, "0xaa", &r, relay_key, &err), TB_EINVAL);
		tb_outbox_row_fini(&rows[i]);
	}
	struct collect c = {.n = 0};
	assert_int_equal(st.ops->receipt_range(st.state, 1, 8, collect_fn, &c, &err), 0);
	assert_int_equal(c.n, 3);
	uint8_t pub[65], addr[20];
	size_t bad;
	assert_int_equal(tb_secp_pubkey(relay_key, pub, &err), 0);
	tb_eth_address(pub, addr);
	assert_int_equal(tb_receipt_verify_chain(c.r, c.n, addr, NULL, &bad, &err), 0);
	c.n = 0;
	assert_int_equal(st.ops->receipt_by_record(st.state, "rid1", collect_fn, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].seq, 2);
	/* cursors */
	struct tb_cursor cur = {"1203"}, got;
	assert_int_equal(st.ops->cursor_get(st.state, "src", &got, &err), 0);
	assert_string_equal(got.value, "");
	assert_int_equal(st.ops->cursor_set(st.state, "src", &cur, &err), 0);
	assert_int_equal(st.ops->cursor_get(st.state, "src", &got, &err), 0);
	assert_string_equal(got.value, "1203");
	tb_store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schema_versioned_and_newer_refused),
		cmocka_unit_test(schema3_migrates_keeping_rows),
		cmocka_unit_test(records_keep_history_never_overwritten),
		cmocka_unit_test(backoff_doubles_with_bounded_jitter),
		cmocka_unit_test(outbox_retry_dead_and_redrive),
		cmocka_unit_test(delivery_appends_one_chained_receipt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
