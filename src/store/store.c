/* The store's front door: picks the backend from the path, and holds what every
 * backend shares (backoff arithmetic, the delivery transaction). Invariant: a
 * receipt's seq and prev are read and its row written in one transaction, so two
 * receipts can never share a seq or fork the chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"

int tb_store_open(struct tb_store *st, const char *path, int readonly, struct tb_error *err)
{
	st->ops = &tb_store_sqlite;
	st->state = NULL;
	if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	else if (strstr(path, "://"))
		return tb_error_set(err, TB_ENOTSUP, "store %s: only SQLite files are supported "
		                    "(PostgreSQL comes later)", path);
	return st->ops->open(path, readonly, &st->state, err);
}

int tb_store_exposed(const char *path, char *msg, size_t cap)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		if (stat(p, &st) != 0 || !(st.st_mode & 077))
			continue;
		snprintf(msg, cap, "store file %s has mode %04o: group or others can read unfiltered "
		         "trade records; run chmod 600 %s %s-wal %s-shm", p,
		         (unsigned)(st.st_mode & 07777), path, path, path);
		return 1;
	}
	return 0;
}

void tb_store_close(struct tb_store *st)
{
	if (st->ops && st->state)
		st->ops->close(st->state);
	st->state = NULL;
}

int64_t tb_store_backoff_ms(const struct tb_retry_policy *p, int attempts, uint32_t jitter)
{
	int64_t d = p->base_ms > 0 ? p->base_ms : 1;
	for (int i = 1; i < attempts && d < p->max_ms; i++)
		d *= 2;
	if (d > p->max_ms)
		d = p->max_ms;
	int64_t half = d / 2;
	return d - half + (int64_t)(((uint64_t)half * jitter) >> 32);
}

enum ending { STATUS_ONLY, DELIVERED, REJECTED };

static int append(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs, size_t n,
                  const uint8_t key[32], enum ending how, struct tb_error *err)
{
	const struct tb_store_ops *o = st->ops;
	uint64_t last = 0;
	uint8_t prev[32];
	int rc = n ? o->receipt_last(st->state, &last, prev, err) : 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rs[i].seq = last + 1 + i;
		memcpy(rs[i].prev, prev, 32);
		rc = tb_receipt_sign(&rs[i], key, err);
		if (rc == 0 && how == DELIVERED)
			rc = o->outbox_delivered(st->state, rows[i], rs[i].txref, &rs[i], err);
		else if (rc == 0 && how == REJECTED)
			rc = o->outbox_rejected(st->state, rows[i], rs[i].txref, &rs[i], err);
		else if (rc == 0)
			rc = o->receipt_append(st->state, rows[i], &rs[i], err);
		rc = rc ? rc : tb_receipt_hash(&rs[i], prev, err);
	}
	return rc;
}

int tb_store_append_receipts(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs,
                             size_t n, const uint8_t key[32], struct tb_error *err)
{
	return append(st, rows, rs, n, key, DELIVERED, err);
}

int tb_store_append_status(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs,
                           size_t n, const uint8_t key[32], struct tb_error *err)
{
	return append(st, rows, rs, n, key, STATUS_ONLY, err);
}

int tb_store_append_rejections(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs,
                               size_t n, const uint8_t key[32], struct tb_error *err)
{
	return append(st, rows, rs, n, key, REJECTED, err);
}

int tb_store_cursor_advance(struct tb_store *st, const char *network, const struct tb_cursor *from,
                            const struct tb_cursor *next, struct tb_error *err)
{
	struct tb_cursor now;
	int rc = st->ops->cursor_get(st->state, network, &now, err);
	if (rc == 0 && strcmp(now.value, from->value) != 0)
		return tb_error_set(err, TB_EUNAVAIL, "%s: the cursor moved from \"%.80s\" to \"%.80s\" "
		                    "while a batch was taken (tradebridge cursor reset?): the batch is "
		                    "dropped and ingest resumes from the new cursor", network, from->value,
		                    now.value);
	return rc ? rc : st->ops->cursor_set(st->state, network, next, err);
}

int tb_store_deliver(struct tb_store *st, int64_t row, const char *txref,
                     struct tb_receipt *r, const uint8_t key[32], struct tb_error *err)
{
	const struct tb_store_ops *o = st->ops;
	int rc = o->begin(st->state, err);
	if (rc)
		return rc;
	if (txref != r->txref)
		snprintf(r->txref, sizeof r->txref, "%s", txref);
	rc = tb_store_append_receipts(st, &row, r, 1, key, err);
	if (rc == 0)
		rc = o->commit(st->state, err);
	if (rc != 0)
		o->rollback(st->state);
	return rc;
}

void tb_store_record_fini(struct tb_store_record *r)
{
	free((char *)r->body);
	r->body = NULL;
}

void tb_outbox_row_fini(struct tb_outbox_row *r)
{
	free(r->payload);
	r->payload = NULL;
}

const char *tb_outbox_state_name(enum tb_outbox_state s)
{
	switch (s) {
	case TB_OUTBOX_PENDING:
		return "pending";
	case TB_OUTBOX_DELIVERED:
		return "delivered";
	case TB_OUTBOX_DEAD:
		return "dead";
	case TB_OUTBOX_REJECTED:
		return "rejected";
	}
	return "?";
}
