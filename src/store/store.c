/* The store's front door: picks the backend from the path, and holds what every
 * backend shares (backoff arithmetic, the delivery transaction). Invariant: a
 * receipt's seq and prev are read and its row written in one transaction, so two
 * receipts can never share a seq or fork the chain. */
#include <stdlib.h>
#include <string.h>

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

int tb_store_deliver(struct tb_store *st, int64_t row, const char *txref,
                     struct tb_receipt *r, const uint8_t key[32], struct tb_error *err)
{
	const struct tb_store_ops *o = st->ops;
	uint64_t last = 0;
	int rc = o->begin(st->state, err);
	if (rc)
		return rc;
	rc = o->receipt_last(st->state, &last, r->prev, err);
	if (rc == 0) {
		r->seq = last + 1;
		rc = tb_receipt_sign(r, key, err);
	}
	if (rc == 0)
		rc = o->outbox_delivered(st->state, row, txref, r, err);
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
	}
	return "?";
}
