/* The SQLite store: one file per relay, WAL mode, synchronous=FULL, schema
 * versioned by PRAGMA user_version and migrated forward in one transaction.
 * Invariants: records can only be inserted (triggers refuse UPDATE and DELETE);
 * a row leaves 'pending' only through outbox_delivered or outbox_rejected (with its
 * receipt, in the caller's transaction) or outbox_fail; only this file knows SQL. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hex.h"
#include "store/store.h"

struct sq {
	sqlite3 *db;
	int in_tx;
};

/* migrations[i] takes the schema from version i to i+1; append, never edit. */
static const char *const migrations[] = {
	"CREATE TABLE cursors(network TEXT PRIMARY KEY, value TEXT NOT NULL,"
	" updated_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE records(id INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE,"
	" key TEXT NOT NULL, version INTEGER NOT NULL, network TEXT NOT NULL,"
	" locator TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" body TEXT NOT NULL, UNIQUE(key, version));"
	"CREATE TRIGGER records_no_update BEFORE UPDATE ON records"
	" BEGIN SELECT RAISE(ABORT, 'records are never overwritten'); END;"
	"CREATE TRIGGER records_no_delete BEFORE DELETE ON records"
	" BEGIN SELECT RAISE(ABORT, 'records are never deleted'); END;"
	"CREATE TABLE outbox(id INTEGER PRIMARY KEY, record INTEGER NOT NULL REFERENCES records(id),"
	" destination TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','delivered','dead')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,"
	" lease_ms INTEGER NOT NULL DEFAULT 0, txref TEXT, reason TEXT NOT NULL DEFAULT '',"
	" payload TEXT NOT NULL, created_ms INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(record, destination));"
	"CREATE INDEX outbox_due ON outbox(state, next_ms);"
	"CREATE TABLE receipts(seq INTEGER PRIMARY KEY, outbox INTEGER NOT NULL UNIQUE"
	" REFERENCES outbox(id), record_id TEXT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX receipts_record ON receipts(record_id);",
	/* 2: a receipt has a status, and a delivered row may get a later one (retracted at
	 * source) but never two of one status; cursors keep a recent history (where a
	 * re-org finds the common ancestor); records from dropped blocks are marked. */
	"CREATE TABLE receipts_v2(seq INTEGER PRIMARY KEY, outbox INTEGER NOT NULL"
	" REFERENCES outbox(id), status TEXT NOT NULL DEFAULT 'confirmed',"
	" record_id TEXT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, UNIQUE(outbox, status));"
	"INSERT INTO receipts_v2(seq, outbox, record_id, hash, body)"
	" SELECT seq, outbox, record_id, hash, body FROM receipts;"
	"DROP TABLE receipts;"
	"ALTER TABLE receipts_v2 RENAME TO receipts;"
	"CREATE INDEX receipts_record ON receipts(record_id);"
	"CREATE TABLE cursor_log(id INTEGER PRIMARY KEY, network TEXT NOT NULL, value TEXT NOT NULL,"
	" last_record INTEGER NOT NULL, ms INTEGER NOT NULL);"
	"CREATE INDEX cursor_log_network ON cursor_log(network, id);"
	"CREATE TABLE retracted(record INTEGER PRIMARY KEY REFERENCES records(id),"
	" reason TEXT NOT NULL, ms INTEGER NOT NULL);"
	"CREATE INDEX records_locator ON records(network, locator);",
	/* 3: each network's own durable key-value space (an EVM write journal, EDI counters) */
	"CREATE TABLE kv(network TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY(network, key)) WITHOUT ROWID;"
	"CREATE INDEX outbox_record ON outbox(record);",
	/* 4: a destination can refuse a record for good: the row ends 'rejected' (with its
	 * receipt; not a dead letter to re-drive), and the destination's answer is a record
	 * of its own that names the record it answers. SQLite cannot change a CHECK in
	 * place: the outbox is rebuilt (foreign keys are off while migrating). */
	"CREATE TABLE outbox_v4(id INTEGER PRIMARY KEY,"
	" record INTEGER NOT NULL REFERENCES records(id), destination TEXT NOT NULL,"
	" idem_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending'"
	" CHECK(state IN ('pending','delivered','dead','rejected')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,"
	" lease_ms INTEGER NOT NULL DEFAULT 0, txref TEXT, reason TEXT NOT NULL DEFAULT '',"
	" payload TEXT NOT NULL, created_ms INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(record, destination));"
	"INSERT INTO outbox_v4(id, record, destination, idem_key, state, attempts, next_ms,"
	" lease_ms, txref, reason, payload, created_ms) SELECT id, record, destination, idem_key,"
	" state, attempts, next_ms, lease_ms, txref, reason, payload, created_ms FROM outbox;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v4 RENAME TO outbox;"
	"CREATE INDEX outbox_due ON outbox(state, next_ms);"
	"CREATE INDEX outbox_record ON outbox(record);"
	"ALTER TABLE records ADD COLUMN answers INTEGER REFERENCES records(id);"
	"CREATE INDEX records_answers ON records(answers) WHERE answers IS NOT NULL;",
};
#define CURSOR_LOG_KEEP 1024 /* cursors kept per network for finding a re-org's ancestor */
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

struct sq;
static int count(struct sq *s, const char *sql, int64_t *out, struct tb_error *err);

static int db_error(struct sq *s, struct tb_error *err, const char *what)
{
	int code = sqlite3_errcode(s->db);
	int rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? TB_EUNAVAIL : TB_EIO;
	return tb_error_set(err, rc, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct sq *s, const char *sql, struct tb_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	int rc = tb_error_set(err, TB_EIO, "store: %s", msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return rc;
}

static int prep(struct sq *s, const char *sql, sqlite3_stmt **st, struct tb_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	return db_error(s, err, "prepare");
}

/* Run a statement that returns no rows; finalizes it. */
static int run(struct sq *s, sqlite3_stmt *st, const char *what, struct tb_error *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, err, what);
	sqlite3_finalize(st);
	return rc;
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = 0;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *p = malloc(n + 1);
	if (p) {
		if (n)
			memcpy(p, t, n);
		p[n] = 0;
	}
	return p;
}

static int sq_begin(void *state, struct tb_error *err)
{
	struct sq *s = state;
	if (s->in_tx)
		return tb_error_set(err, TB_EINVAL, "store: transaction already open");
	int rc = exec(s, "BEGIN IMMEDIATE", err);
	s->in_tx = rc == 0;
	return rc;
}

static int sq_commit(void *state, struct tb_error *err)
{
	struct sq *s = state;
	int rc = exec(s, "COMMIT", err);
	if (rc == 0 || sqlite3_get_autocommit(s->db))
		s->in_tx = 0;
	return rc;
}

static void sq_rollback(void *state)
{
	struct sq *s = state;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = 0;
}

/* Statements that must be atomic open their own transaction when the caller has none. */
static int auto_begin(struct sq *s, int *own, struct tb_error *err)
{
	*own = !s->in_tx;
	return *own ? sq_begin(s, err) : 0;
}

static int auto_end(struct sq *s, int own, int rc, struct tb_error *err)
{
	if (!own)
		return rc;
	if (rc == 0)
		return sq_commit(s, err);
	sq_rollback(s);
	return rc;
}

/* The store's schema version; a newer one than this build knows is refused, by
 * readers as much as by writers (its tables may mean something else now). */
static int schema_version(struct sq *s, int *have, struct tb_error *err)
{
	sqlite3_stmt *st;
	int rc = prep(s, "PRAGMA user_version", &st, err);
	if (rc)
		return rc;
	*have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (*have < 0)
		return db_error(s, err, "reading the schema version");
	if (*have > SCHEMA_VERSION)
		return tb_error_set(err, TB_ECONFIG, "store: schema version %d is newer than this "
		                    "tradebridge understands (%d): upgrade tradebridge", *have,
		                    SCHEMA_VERSION);
	return 0;
}

static int migrate(struct sq *s, struct tb_error *err)
{
	int have = 0;
	int rc = schema_version(s, &have, err);
	if (rc || have == SCHEMA_VERSION)
		return rc;
	/* Foreign keys off while tables are rebuilt (a pragma that is a no-op inside a
	 * transaction); the result is checked before the commit instead. */
	rc = exec(s, "PRAGMA foreign_keys=OFF", err);
	rc = rc ? rc : sq_begin(s, err);
	for (int v = have; rc == 0 && v < SCHEMA_VERSION; v++)
		rc = exec(s, migrations[v], err);
	if (rc == 0) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
		rc = exec(s, sql, err);
	}
	int64_t broken = 0;
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM pragma_foreign_key_check", &broken, err);
	if (rc == 0 && broken)
		rc = tb_error_set(err, TB_EIO, "store: %" PRId64 " rows break a foreign key after the "
		                  "migration", broken);
	rc = rc ? rc : sq_commit(s, err);
	if (rc)
		sq_rollback(s);
	int fk = exec(s, "PRAGMA foreign_keys=ON", rc ? NULL : err);
	if (rc == 0)
		return fk;
	tb_error_prefix(err, "migrating to schema %d", SCHEMA_VERSION);
	return rc;
}

/* A new store holds unfiltered trade records: create it 0600 ourselves (SQLite
 * would use 0644 less the umask), and SQLite gives its -wal and -shm files the
 * database file's mode. An existing file is left as it is (run warns). */
static int create_private(const char *path, struct tb_error *err)
{
	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		return close(fd), 0;
	if (errno == EEXIST)
		return 0;
	return tb_error_set(err, TB_EIO, "store %s: cannot create: %s", path, strerror(errno));
}

static int sq_open(const char *path, int readonly, void **state, struct tb_error *err)
{
	struct sq *s = calloc(1, sizeof *s);
	if (!s)
		return tb_error_set(err, TB_ENOMEM, "store: out of memory");
	/* A reader of a WAL database still writes the -shm index: open read-write and
	 * forbid writes with query_only instead of SQLITE_OPEN_READONLY. */
	int flags = readonly ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = readonly ? 0 : create_private(path, err);
	if (rc == 0 && sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		rc = tb_error_set(err, TB_EIO, "store %s: %s", path,
		                  s->db ? sqlite3_errmsg(s->db) : "cannot open");
	if (rc == 0)
		sqlite3_busy_timeout(s->db, 5000);
	/* SQLite falls back to read-only on a file it cannot write: for the relay that is a
	 * start-up error, not a stream of failed writes later. */
	if (rc == 0 && !readonly && sqlite3_db_readonly(s->db, "main") == 1)
		rc = tb_error_set(err, TB_EIO, "store: the file cannot be written (check its mode, "
		                  "owner and file system: the relay writes it and its folder)");
	if (rc == 0 && !readonly)
		rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		             " PRAGMA foreign_keys=ON", err);
	if (rc == 0 && !readonly)
		rc = migrate(s, err);
	if (rc == 0 && readonly)
		rc = exec(s, "PRAGMA query_only=1", err);
	int have;
	if (rc == 0 && readonly)
		rc = schema_version(s, &have, err);
	if (rc != 0) {
		tb_error_prefix(err, "%s", path);
		sqlite3_close(s->db);
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void sq_close(void *state)
{
	struct sq *s = state;
	if (!s)
		return;
	sq_rollback(s);
	sqlite3_close(s->db);
	free(s);
}

static int sq_cursor_get(void *state, const char *network, struct tb_cursor *out,
                         struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT value FROM cursors WHERE network=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	out->value[0] = 0;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		copy_col(st, 0, out->value, sizeof out->value);
	else if (r != SQLITE_DONE)
		rc = db_error(s, err, "reading a cursor");
	sqlite3_finalize(st);
	return rc;
}

static int sq_cursor_set(void *state, const char *network, const struct tb_cursor *c,
                         struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "INSERT INTO cursors(network, value) VALUES(?, ?) ON CONFLICT(network)"
	                 " DO UPDATE SET value=excluded.value", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->value, -1, SQLITE_STATIC);
	rc = run(s, st, "writing a cursor", err);
	rc = rc ? rc : prep(s, "INSERT INTO cursor_log(network, value, last_record, ms) SELECT ?1, ?2,"
	                       " COALESCE(MAX(id), 0), CAST((julianday('now') - 2440587.5) * 86400000"
	                       " AS INTEGER) FROM records", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->value, -1, SQLITE_STATIC);
	rc = run(s, st, "logging a cursor", err);
	rc = rc ? rc : prep(s, "DELETE FROM cursor_log WHERE network=?1 AND id <= (SELECT id FROM"
	                       " cursor_log WHERE network=?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	                    &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, CURSOR_LOG_KEEP);
	return run(s, st, "pruning the cursor log", err);
}

static int sq_cursor_history(void *state, const char *network, struct tb_cursor_mark *out,
                             size_t max, size_t *n, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	*n = 0;
	int rc = prep(s, "SELECT value, last_record, ms FROM cursor_log WHERE network=?"
	                 " ORDER BY id DESC LIMIT ?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct tb_cursor_mark *m = &out[(*n)++];
		copy_col(st, 0, m->cursor.value, sizeof m->cursor.value);
		m->last_record = sqlite3_column_int64(st, 1);
		m->ms = sqlite3_column_int64(st, 2);
	}
	if (r != SQLITE_DONE)
		rc = db_error(s, err, "reading the cursor log");
	sqlite3_finalize(st);
	return rc;
}

static int find_record(struct sq *s, const char *record_id, int64_t *id, struct tb_error *err)
{
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT id FROM records WHERE record_id=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else
		rc = r == SQLITE_DONE ? TB_ENOTFOUND : db_error(s, err, "finding a record");
	sqlite3_finalize(st);
	return rc;
}

static int sq_record_put(void *state, struct tb_store_record *rec, int *created,
                         struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "INSERT OR IGNORE INTO records(record_id, key, version, network, locator,"
	                 " verdict, reason, body, answers) SELECT ?1, ?2, COALESCE(MAX(version), 0)"
	                 " + 1, ?3, ?4, ?5, ?6, ?7, ?8 FROM records WHERE key=?2", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, rec->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rec->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rec->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rec->locator, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rec->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rec->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, rec->body, -1, SQLITE_STATIC);
	if (rec->answers > 0)
		sqlite3_bind_int64(st, 8, rec->answers);
	else
		sqlite3_bind_null(st, 8);
	rc = run(s, st, "storing a record", err);
	if (rc)
		return rc;
	*created = sqlite3_changes(s->db) == 1;
	rc = find_record(s, rec->record_id, &rec->id, err);
	if (rc == TB_ENOTFOUND)
		rc = tb_error_set(err, TB_EIO, "store: record %s vanished after insert",
		                  rec->record_id);
	return rc;
}

static int sq_record_taken(void *state, const char *network, const char *locator, int *taken,
                           struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT 1 FROM records r WHERE network=? AND locator=? AND NOT EXISTS"
	                 " (SELECT 1 FROM retracted WHERE record=r.id) LIMIT 1", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, locator, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*taken = r == SQLITE_ROW;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = db_error(s, err, "looking up a source locator");
	sqlite3_finalize(st);
	return rc;
}

#define RECORD_COLS \
	"id, record_id, key, version, network, locator, verdict, reason, body, answers"

static void record_from(sqlite3_stmt *st, struct tb_store_record *r)
{
	r->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, r->record_id, sizeof r->record_id);
	copy_col(st, 2, r->key, sizeof r->key);
	r->version = sqlite3_column_int64(st, 3);
	copy_col(st, 4, r->network, sizeof r->network);
	copy_col(st, 5, r->locator, sizeof r->locator);
	copy_col(st, 6, r->verdict, sizeof r->verdict);
	copy_col(st, 7, r->reason, sizeof r->reason);
	r->body = dup_col(st, 8);
	r->answers = sqlite3_column_int64(st, 9); /* NULL reads as 0: answers nothing */
}

static int sq_record_get(void *state, int64_t id, struct tb_store_record *out,
                         struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT " RECORD_COLS " FROM records WHERE id=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		record_from(st, out);
		if (!out->body)
			rc = tb_error_set(err, TB_ENOMEM, "store: out of memory");
	} else {
		rc = r == SQLITE_DONE ? tb_error_set(err, TB_ENOTFOUND, "store: no record %" PRId64, id)
		                      : db_error(s, err, "reading a record");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_record_by_id(void *state, const char *record_id, struct tb_store_record *out,
                          struct tb_error *err)
{
	int64_t id = 0;
	int rc = find_record(state, record_id, &id, err);
	if (rc == TB_ENOTFOUND)
		return tb_error_set(err, rc, "store: no record %s", record_id);
	return rc ? rc : sq_record_get(state, id, out, err);
}

static int sq_record_history(void *state, const char *key, struct tb_store_record *out,
                             size_t max, size_t *n, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	*n = 0;
	int rc = prep(s, "SELECT " RECORD_COLS " FROM records WHERE key=? ORDER BY version LIMIT ?",
	              &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		record_from(st, &out[(*n)++]);
	if (r != SQLITE_DONE)
		rc = db_error(s, err, "reading a record history");
	sqlite3_finalize(st);
	return rc;
}

static int sq_route_last(void *state, const char *from, const char *to, int64_t *id,
                         struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT COALESCE(MAX(o.record), 0) FROM outbox o JOIN records r ON"
	                 " r.id=o.record WHERE r.network=? AND o.destination=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else
		rc = db_error(s, err, "finding a route's last record");
	sqlite3_finalize(st);
	return rc;
}

static int sq_route_missing(void *state, const char *from, const char *to, int64_t after,
                            struct tb_store_record *out, size_t max, size_t *n,
                            struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	*n = 0;
	int rc = prep(s, "SELECT " RECORD_COLS " FROM records r WHERE network=?1 AND id>?3 AND"
	                 " verdict='VALID' AND NOT EXISTS (SELECT 1 FROM retracted WHERE record=r.id)"
	                 " AND NOT EXISTS (SELECT 1 FROM outbox WHERE record=r.id AND"
	                 " destination=?2) ORDER BY id LIMIT ?4", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		record_from(st, &out[*n]);
		if (!out[(*n)++].body) {
			rc = tb_error_set(err, TB_ENOMEM, "store: out of memory");
			break;
		}
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = db_error(s, err, "reading records a route missed");
	sqlite3_finalize(st);
	return rc;
}

static int sq_outbox_add(void *state, int64_t record, const char *destination,
                         const char *payload, int64_t now_ms, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	/* The idempotency key names (record, route): the same on every retry and restart. */
	int rc = prep(s, "INSERT OR IGNORE INTO outbox(record, destination, idem_key, next_ms,"
	                 " payload, created_ms) SELECT ?1, ?2, 'tb1:' || substr(record_id, -40) ||"
	                 " ':' || ?2, ?3, ?4, ?3 FROM records WHERE id=?1", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, record);
	sqlite3_bind_text(st, 2, destination, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
	return run(s, st, "adding to the outbox", err);
}

#define ROW_COLS \
	"id, record, destination, idem_key, state, attempts, next_ms, reason, payload, created_ms," \
	" txref"
#define ROW_COLS_O \
	"o.id, o.record, o.destination, o.idem_key, o.state, o.attempts, o.next_ms, o.reason," \
	" o.payload, o.created_ms, o.txref"

static int row_from(sqlite3_stmt *st, struct tb_outbox_row *r)
{
	static const char *const names[] = {"pending", "delivered", "dead", "rejected"};
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->record = sqlite3_column_int64(st, 1);
	copy_col(st, 2, r->destination, sizeof r->destination);
	copy_col(st, 3, r->idem_key, sizeof r->idem_key);
	const char *state = (const char *)sqlite3_column_text(st, 4);
	for (int i = 0; i < 4; i++)
		if (state && strcmp(state, names[i]) == 0)
			r->state = (enum tb_outbox_state)i;
	r->attempts = sqlite3_column_int(st, 5);
	r->next_ms = sqlite3_column_int64(st, 6);
	copy_col(st, 7, r->reason, sizeof r->reason);
	r->payload = dup_col(st, 8);
	r->created_ms = sqlite3_column_int64(st, 9);
	copy_col(st, 10, r->txref, sizeof r->txref);
	return r->payload ? 0 : TB_ENOMEM;
}

static int select_rows(struct sq *s, sqlite3_stmt *st, struct tb_outbox_row *rows, size_t max,
                       size_t *n, struct tb_error *err)
{
	int r, rc = 0;
	*n = 0;
	while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_from(st, &rows[*n]) != 0) {
			rc = tb_error_set(err, TB_ENOMEM, "store: out of memory");
			break;
		}
		(*n)++;
	}
	if (rc == 0 && *n < max && r != SQLITE_DONE)
		rc = db_error(s, err, "reading the outbox");
	sqlite3_finalize(st);
	if (rc)
		for (size_t i = 0; i < *n; i++)
			tb_outbox_row_fini(&rows[i]);
	return rc;
}

static int claim_rows(struct sq *s, int64_t now_ms, int64_t lease_ms, struct tb_outbox_row *rows,
                      size_t max, size_t *n, struct tb_error *err)
{
	sqlite3_stmt *st;
	/* Versions of one key reach a destination in order: a row waits while an earlier
	 * version of its key is still pending for the same destination. */
	int rc = prep(s, "SELECT " ROW_COLS_O " FROM outbox o JOIN records r ON r.id=o.record"
	                 " WHERE o.state='pending' AND o.next_ms<=?1 AND o.lease_ms<=?1"
	                 " AND NOT EXISTS (SELECT 1 FROM records e JOIN outbox p ON p.record=e.id"
	                 " WHERE e.key=r.key AND e.version<r.version AND p.destination=o.destination"
	                 " AND p.state='pending') ORDER BY o.next_ms, o.id LIMIT ?2", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	rc = select_rows(s, st, rows, max, n, err);
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		rc = prep(s, "UPDATE outbox SET lease_ms=? WHERE id=?", &st, err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, now_ms + lease_ms);
		sqlite3_bind_int64(st, 2, rows[i].id);
		rc = run(s, st, "leasing an outbox row", err);
	}
	if (rc) {
		for (size_t i = 0; i < *n; i++)
			tb_outbox_row_fini(&rows[i]);
		*n = 0;
	}
	return rc;
}

static int sq_outbox_claim(void *state, int64_t now_ms, int64_t lease_ms,
                           struct tb_outbox_row *rows, size_t max, size_t *n, struct tb_error *err)
{
	struct sq *s = state;
	int own;
	*n = 0;
	int rc = auto_begin(s, &own, err);
	if (rc)
		return rc;
	rc = claim_rows(s, now_ms, lease_ms, rows, max, n, err);
	rc = auto_end(s, own, rc, err);
	if (rc) {
		for (size_t i = 0; i < *n; i++)
			tb_outbox_row_fini(&rows[i]);
		*n = 0;
	}
	return rc;
}

static int sq_outbox_get(void *state, int64_t id, struct tb_outbox_row *out, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc = prep(s, "SELECT " ROW_COLS " FROM outbox WHERE id=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = select_rows(s, st, out, 1, &n, err);
	if (rc == 0 && n == 0)
		rc = tb_error_set(err, TB_ENOTFOUND, "store: no outbox row %" PRId64, id);
	return rc;
}

static int sq_outbox_fail(void *state, int64_t id, int64_t now_ms, const char *reason,
                          const struct tb_retry_policy *p, uint32_t jitter, int permanent,
                          struct tb_error *err)
{
	struct sq *s = state;
	struct tb_outbox_row row = {0};
	int own, rc = auto_begin(s, &own, err);
	if (rc)
		return rc;
	rc = sq_outbox_get(s, id, &row, err);
	if (rc == 0 && row.state != TB_OUTBOX_PENDING)
		rc = tb_error_set(err, TB_EINVAL, "store: outbox row %" PRId64 " is %s, not pending",
		                  id, tb_outbox_state_name(row.state));
	sqlite3_stmt *st;
	if (rc == 0)
		rc = prep(s, "UPDATE outbox SET attempts=?1, state=?2, next_ms=?3, reason=?4,"
		             " lease_ms=0, txref=NULL WHERE id=?5", &st, err);
	if (rc == 0) {
		int attempts = row.attempts + 1;
		int dead = permanent || attempts >= p->max_attempts;
		sqlite3_bind_int(st, 1, attempts);
		sqlite3_bind_text(st, 2, dead ? "dead" : "pending", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, dead ? now_ms : now_ms + tb_store_backoff_ms(p, attempts,
		                                                                        jitter));
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, id);
		rc = run(s, st, "recording a failed delivery", err);
	}
	tb_outbox_row_fini(&row);
	return auto_end(s, own, rc, err);
}

static int sq_outbox_submitted(void *state, int64_t id, const char *txref, int64_t next_ms,
                               struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "UPDATE outbox SET txref=?, next_ms=?, lease_ms=0 WHERE id=? AND"
	                 " state='pending'", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, txref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, next_ms);
	sqlite3_bind_int64(st, 3, id);
	return run(s, st, "noting a submission", err);
}

/* Append r (signed, seq and prev set) for outbox row id, in the caller's transaction. */
static int sq_receipt_append(void *state, int64_t id, const struct tb_receipt *r,
                             struct tb_error *err)
{
	struct sq *s = state;
	if (!s->in_tx)
		return tb_error_set(err, TB_EINVAL, "store: a receipt must be appended in a transaction");
	struct tb_buf body;
	uint8_t h[32];
	char hex[65];
	sqlite3_stmt *st;
	tb_buf_init(&body, TB_RECEIPT_MAX_BYTES);
	int rc = tb_receipt_write(r, &body, err);
	rc = rc ? rc : tb_receipt_hash(r, h, err);
	rc = rc ? rc : prep(s, "INSERT INTO receipts(seq, outbox, status, record_id, hash, body)"
	                       " VALUES(?, ?, ?, ?, ?, ?)", &st, err);
	if (rc == 0) {
		tb_hex_encode(h, 32, hex);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)r->seq);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_text(st, 3, r->status, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->record, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, hex, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, (const char *)body.data, (int)body.len, SQLITE_STATIC);
		rc = run(s, st, "appending a receipt", err);
	}
	tb_buf_fini(&body);
	return rc;
}

/* The row ends as `to` (delivered or rejected) with its receipt, in one transaction. */
static int row_ends(struct sq *s, int64_t id, const char *to, const char *txref,
                    const char *reason, const struct tb_receipt *r, struct tb_error *err)
{
	if (!s->in_tx)
		return tb_error_set(err, TB_EINVAL, "store: delivery must be recorded in a transaction");
	sqlite3_stmt *st;
	int rc = prep(s, "UPDATE outbox SET state=?3, txref=?1, lease_ms=0,"
	                 " reason=COALESCE(?4, reason) WHERE id=?2 AND state='pending'", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, txref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	rc = run(s, st, "ending an outbox row", err);
	if (rc == 0 && sqlite3_changes(s->db) != 1)
		return tb_error_set(err, TB_EINVAL, "store: outbox row %" PRId64 " is not pending: "
		                    "refusing a second receipt for it", id);
	return rc ? rc : sq_receipt_append(s, id, r, err);
}

static int sq_outbox_delivered(void *state, int64_t id, const char *txref,
                               const struct tb_receipt *r, struct tb_error *err)
{
	return row_ends(state, id, "delivered", txref, NULL, r, err);
}

static int sq_outbox_rejected(void *state, int64_t id, const char *txref,
                              const struct tb_receipt *r, struct tb_error *err)
{
	return row_ends(state, id, "rejected", txref, r->reason, r, err);
}

static int retract_step(struct sq *s, const char *sql, const char *network, int64_t after,
                        const char *reason, int64_t now_ms, int64_t *changed, const char *what,
                        struct tb_error *err)
{
	sqlite3_stmt *st;
	int rc = prep(s, sql, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	rc = run(s, st, what, err);
	*changed = rc ? 0 : sqlite3_changes(s->db);
	return rc;
}

/* Mark network's records after record id `after` retracted and their pending rows
 * dead; fill out with delivered rows still owed a retraction receipt (at most max). */
static int sq_retract(void *state, const char *network, int64_t after, const char *reason,
                      int64_t now_ms, struct tb_retraction *res, struct tb_outbox_row *out,
                      size_t max, size_t *n, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	*n = 0;
	if (!s->in_tx)
		return tb_error_set(err, TB_EINVAL, "store: retraction must run in a transaction");
	int rc = retract_step(s, "INSERT OR IGNORE INTO retracted(record, reason, ms) SELECT id, ?3, ?4"
	                         " FROM records WHERE network=?1 AND id>?2", network, after, reason,
	                      now_ms, &res->records, "marking retracted records", err);
	rc = rc ? rc : retract_step(s, "UPDATE outbox SET state='dead', lease_ms=0, next_ms=?4,"
	                               " reason='retracted at source: ' || ?3 ||"
	                               " CASE WHEN txref IS NULL THEN '' ELSE"
	                               " ' (was in flight as ' || txref || ')' END"
	                               " WHERE state='pending' AND record IN (SELECT id FROM records"
	                               " WHERE network=?1 AND id>?2)", network, after, reason,
	                            now_ms, &res->dead, "retiring retracted rows", err);
	rc = rc ? rc : prep(s, "SELECT " ROW_COLS " FROM outbox o WHERE state='delivered' AND record IN"
	                       " (SELECT id FROM records WHERE network=?1 AND id>?2) AND NOT EXISTS"
	                       " (SELECT 1 FROM receipts WHERE outbox=o.id AND"
	                       " status='retracted-at-source') ORDER BY id LIMIT ?3", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	return select_rows(s, st, out, max, n, err);
}

static int sq_dead_list(void *state, struct tb_outbox_row *rows, size_t max, size_t *n,
                        struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT " ROW_COLS " FROM outbox WHERE state='dead' ORDER BY id LIMIT ?",
	              &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	return select_rows(s, st, rows, max, n, err);
}

static int sq_outbox_unreceipted(void *state, struct tb_outbox_row *rows, size_t max, size_t *n,
                                 int64_t *total, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	*n = 0;
#define UNRECEIPTED " FROM outbox o WHERE o.state IN ('delivered', 'rejected') AND NOT EXISTS" \
	" (SELECT 1 FROM receipts r WHERE r.outbox=o.id)"
	int rc = count(s, "SELECT COUNT(*)" UNRECEIPTED, total, err);
	if (rc || *total == 0)
		return rc;
	rc = prep(s, "SELECT " ROW_COLS UNRECEIPTED " ORDER BY o.id LIMIT ?", &st, err);
#undef UNRECEIPTED
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	return select_rows(s, st, rows, max, n, err);
}

static int sq_dead_redrive(void *state, int64_t id, int64_t now_ms, int *count,
                           struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "UPDATE outbox SET state='pending', attempts=0, next_ms=?1, lease_ms=0,"
	                 " reason='re-driven after: ' || reason WHERE state='dead' AND (?2=0 OR id=?2)",
	              &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	rc = run(s, st, "re-driving dead letters", err);
	*count = rc ? 0 : sqlite3_changes(s->db);
	if (rc == 0 && id != 0 && *count == 0)
		rc = tb_error_set(err, TB_ENOTFOUND, "store: outbox row %" PRId64 " is not a dead letter",
		                  id);
	return rc;
}

static int sq_receipt_last(void *state, uint64_t *seq, uint8_t hash[32], struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1", &st, err);
	if (rc)
		return rc;
	*seq = 0;
	memset(hash, 0, 32);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		size_t n = 0;
		const char *h = (const char *)sqlite3_column_text(st, 1);
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (!h || tb_hex_decode(h, strlen(h), hash, 32, &n, err) != 0 || n != 32)
			rc = tb_error_set(err, TB_EIO, "store: receipt %" PRIu64 " has a damaged hash", *seq);
	} else if (r != SQLITE_DONE) {
		rc = db_error(s, err, "reading the last receipt");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The receipt stored in row seq: its body must parse and name that seq. */
static int stored_receipt(sqlite3_stmt *st, struct tb_receipt *rec, struct tb_error *err)
{
	int64_t seq = sqlite3_column_int64(st, 0);
	const char *body = (const char *)sqlite3_column_text(st, 1);
	size_t len = (size_t)sqlite3_column_bytes(st, 1);
	struct tb_error perr;
	if (tb_receipt_parse(body ? body : "", len, rec, &perr) != 0)
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRId64 ": the stored receipt no "
		                    "longer parses (altered in the store): %s", seq, perr.msg);
	if (rec->seq != (uint64_t)seq)
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRId64 ": the stored receipt says "
		                    "seq %" PRIu64 " (moved in the store)", seq, rec->seq);
	return 0;
}

static int each_receipt(struct sq *s, sqlite3_stmt *st, tb_receipt_fn fn, void *ctx,
                        struct tb_error *err)
{
	int r, rc = 0;
	while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		struct tb_receipt rec;
		rc = stored_receipt(st, &rec, err);
		if (rc == 0)
			rc = fn(ctx, &rec, (const char *)sqlite3_column_text(st, 1));
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = db_error(s, err, "reading receipts");
	sqlite3_finalize(st);
	return rc;
}

static int sq_receipt_range(void *state, uint64_t from, size_t max, tb_receipt_fn fn, void *ctx,
                            struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT seq, body FROM receipts WHERE seq>=? ORDER BY seq LIMIT ?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	return each_receipt(s, st, fn, ctx, err);
}

static int sq_receipt_by_record(void *state, const char *record_id, tb_receipt_fn fn, void *ctx,
                                struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT seq, body FROM receipts WHERE record_id=? ORDER BY seq LIMIT 64", &st,
	              err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_STATIC);
	return each_receipt(s, st, fn, ctx, err);
}

static int sq_kv_get(void *state, const char *network, const char *key, struct tb_buf *out,
                     struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, "SELECT value FROM kv WHERE network=? AND key=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	tb_buf_reset(out);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const void *v = sqlite3_column_blob(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		rc = tb_buf_append(out, v ? v : "", (size_t)n);
		if (rc)
			rc = tb_error_set(err, rc, "store: kv %s/%s: value larger than the reader takes",
			                  network, key);
	} else {
		rc = r == SQLITE_DONE ? 1 : db_error(s, err, "reading a network's kv");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_kv_put(void *state, const char *network, const char *key, const void *val,
                     size_t len, struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	int rc = prep(s, val ? "INSERT INTO kv(network, key, value) VALUES(?1, ?2, ?3)"
	                       " ON CONFLICT(network, key) DO UPDATE SET value=excluded.value"
	                     : "DELETE FROM kv WHERE network=?1 AND key=?2", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (val)
		sqlite3_bind_blob(st, 3, val, (int)len, SQLITE_STATIC);
	return run(s, st, "writing a network's kv", err);
}

static int sq_pending_ages(void *state, struct tb_store_pending *out, size_t max, size_t *n,
                           struct tb_error *err)
{
	struct sq *s = state;
	sqlite3_stmt *st;
	*n = 0;
	int rc = prep(s, "SELECT destination, MIN(created_ms), COUNT(*) FROM outbox"
	                 " WHERE state='pending' GROUP BY destination ORDER BY destination LIMIT ?",
	              &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		copy_col(st, 0, out[*n].destination, sizeof out[*n].destination);
		out[*n].oldest_ms = sqlite3_column_int64(st, 1);
		out[*n].rows = sqlite3_column_int64(st, 2);
		(*n)++;
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		rc = db_error(s, err, "reading pending rows per destination");
	sqlite3_finalize(st);
	return rc;
}

static int count(struct sq *s, const char *sql, int64_t *out, struct tb_error *err)
{
	sqlite3_stmt *st;
	int rc = prep(s, sql, &st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = db_error(s, err, "counting");
	sqlite3_finalize(st);
	return rc;
}

static int sq_stats(void *state, struct tb_store_stats *o, struct tb_error *err)
{
	struct sq *s = state;
	memset(o, 0, sizeof *o);
	int rc = count(s, "SELECT COUNT(*) FROM records", &o->records, err);
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM records WHERE verdict='INVALID'", &o->invalid, err);
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM outbox WHERE state='pending'", &o->pending, err);
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM outbox WHERE state='delivered'", &o->delivered,
	                     err);
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM outbox WHERE state='dead'", &o->dead, err);
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM outbox WHERE state='rejected'", &o->rejected,
	                     err);
	rc = rc ? rc : count(s, "SELECT COUNT(*) FROM receipts", &o->receipts, err);
	return rc;
}

const struct tb_store_ops tb_store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.cursor_get = sq_cursor_get,
	.cursor_set = sq_cursor_set,
	.cursor_history = sq_cursor_history,
	.record_taken = sq_record_taken,
	.retract = sq_retract,
	.receipt_append = sq_receipt_append,
	.route_last = sq_route_last,
	.route_missing = sq_route_missing,
	.record_put = sq_record_put,
	.record_get = sq_record_get,
	.record_by_id = sq_record_by_id,
	.record_history = sq_record_history,
	.outbox_add = sq_outbox_add,
	.outbox_claim = sq_outbox_claim,
	.outbox_get = sq_outbox_get,
	.outbox_fail = sq_outbox_fail,
	.outbox_submitted = sq_outbox_submitted,
	.outbox_delivered = sq_outbox_delivered,
	.outbox_rejected = sq_outbox_rejected,
	.dead_list = sq_dead_list,
	.dead_redrive = sq_dead_redrive,
	.outbox_unreceipted = sq_outbox_unreceipted,
	.receipt_last = sq_receipt_last,
	.receipt_range = sq_receipt_range,
	.receipt_by_record = sq_receipt_by_record,
	.stats = sq_stats,
	.kv_get = sq_kv_get,
	.kv_put = sq_kv_put,
	.pending_ages = sq_pending_ages,
};
