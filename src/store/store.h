/* The relay's durable state behind a small ops table (curl vtls style): SQLite
 * now (sqlite.c), PostgreSQL later as another table of the same functions.
 * Invariants every backend keeps: a record version is never overwritten; an
 * outbox row moves pending -> delivered (or rejected) exactly once, in the same
 * transaction that appends its receipt; receipts are numbered 1, 2, 3 ... without a gap;
 * a row is not claimed while an earlier version of its key is pending for the
 * same destination. */
#ifndef TB_STORE_H
#define TB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "receipt.h"

/* REJECTED: the destination refused the record for good (a receipt says why); ended,
 * like DELIVERED, and never re-driven. */
enum tb_outbox_state { TB_OUTBOX_PENDING, TB_OUTBOX_DELIVERED, TB_OUTBOX_DEAD, TB_OUTBOX_REJECTED };

/* A record as kept: body is its canonical JSON (or, for INVALID, what was seen). */
struct tb_store_record {
	int64_t id;          /* the store's row id (filled by put) */
	char record_id[80];  /* content id, unique */
	char key[256];       /* business key: versions of one key form its history */
	int64_t version;     /* 1, 2, ... per key, assigned by the store */
	char network[64];
	char locator[256];
	char verdict[16];    /* VALID / INVALID */
	char reason[512];    /* why, for INVALID */
	const char *body;    /* put: borrowed; get: owned by the caller (free()) */
	int64_t answers;     /* a destination's reply: the id of the record it answers; 0 = none */
};

struct tb_outbox_row {
	int64_t id;
	int64_t record;      /* records.id */
	char destination[64];
	char idem_key[80];
	enum tb_outbox_state state;
	int attempts;
	int64_t next_ms;     /* earliest next attempt, ms since the epoch */
	char reason[256];    /* last failure / why dead */
	char *payload;       /* what to deliver (policy-filtered JSON); owned, free() */
	int64_t created_ms;  /* when it entered the outbox */
	char txref[256];     /* set while a submission awaits confirmation */
};

struct tb_retry_policy {
	int max_attempts;    /* dead after this many failures */
	int64_t base_ms;     /* first delay */
	int64_t max_ms;      /* cap on a delay */
};

struct tb_store_stats {
	int64_t records, invalid, pending, delivered, dead, receipts, rejected;
};

/* A cursor as it was stored, with the newest record id at that moment (records
 * after it came from later polls). */
struct tb_cursor_mark {
	struct tb_cursor cursor;
	int64_t last_record;
	int64_t ms;
};

/* What a retraction changed. */
struct tb_retraction {
	int64_t records; /* records newly marked retracted */
	int64_t dead;    /* pending outbox rows retired as dead letters */
};

/* Pending rows of one destination: how many and when the oldest entered. */
struct tb_store_pending {
	char destination[64];
	int64_t oldest_ms;
	int64_t rows;
};

/* Called with each receipt in a range; return nonzero to stop (returned as is). */
typedef int (*tb_receipt_fn)(void *ctx, const struct tb_receipt *r, const char *json);

struct tb_store_ops {
	const char *name; /* "sqlite" */
	int (*open)(const char *path, int readonly, void **state, struct tb_error *err);
	void (*close)(void *state);
	int (*begin)(void *state, struct tb_error *err);
	int (*commit)(void *state, struct tb_error *err);
	void (*rollback)(void *state);
	int (*cursor_get)(void *state, const char *network, struct tb_cursor *out,
	                  struct tb_error *err);
	int (*cursor_set)(void *state, const char *network, const struct tb_cursor *c,
	                  struct tb_error *err);
	/* The newest stored cursors of network first (each cursor_set is kept, the last
	 * 1024 per network). */
	int (*cursor_history)(void *state, const char *network, struct tb_cursor_mark *out,
	                      size_t max, size_t *n, struct tb_error *err);
	/* *taken = 1 when a record from network at locator is stored and not retracted. */
	int (*record_taken)(void *state, const char *network, const char *locator, int *taken,
	                    struct tb_error *err);
	/* In the caller's transaction: network's records after record id `after` are marked
	 * retracted with reason, their pending rows become dead letters, and out gets up to
	 * max delivered rows that have no retraction receipt yet. */
	int (*retract)(void *state, const char *network, int64_t after, const char *reason,
	               int64_t now_ms, struct tb_retraction *res, struct tb_outbox_row *out,
	               size_t max, size_t *n, struct tb_error *err);
	/* The newest record of network `from` that has an outbox row for `to` (*id = 0: none). */
	int (*route_last)(void *state, const char *from, const char *to, int64_t *id,
	                  struct tb_error *err);
	/* Up to max VALID, not retracted records of `from` after record id `after`, in id
	 * order, that have no outbox row for `to` (bodies owned by the caller). */
	int (*route_missing)(void *state, const char *from, const char *to, int64_t after,
	                     struct tb_store_record *out, size_t max, size_t *n,
	                     struct tb_error *err);
	/* Append a signed receipt (any status) for outbox row id, in the caller's transaction. */
	int (*receipt_append)(void *state, int64_t id, const struct tb_receipt *r,
	                      struct tb_error *err);
	int (*record_put)(void *state, struct tb_store_record *rec, int *created,
	                  struct tb_error *err);
	int (*record_get)(void *state, int64_t id, struct tb_store_record *out,
	                  struct tb_error *err);
	int (*record_by_id)(void *state, const char *record_id, struct tb_store_record *out,
	                    struct tb_error *err);
	int (*record_history)(void *state, const char *key, struct tb_store_record *out,
	                      size_t max, size_t *n, struct tb_error *err);
	int (*outbox_add)(void *state, int64_t record, const char *destination,
	                  const char *payload, int64_t now_ms, struct tb_error *err);
	int (*outbox_claim)(void *state, int64_t now_ms, int64_t lease_ms,
	                    struct tb_outbox_row *rows, size_t max, size_t *n,
	                    struct tb_error *err);
	int (*outbox_get)(void *state, int64_t id, struct tb_outbox_row *out,
	                  struct tb_error *err);
	int (*outbox_fail)(void *state, int64_t id, int64_t now_ms, const char *reason,
	                   const struct tb_retry_policy *p, uint32_t jitter, int permanent,
	                   struct tb_error *err);
	/* A submission is in flight as txref: confirm it (not resubmit) from next_ms on. */
	int (*outbox_submitted)(void *state, int64_t id, const char *txref, int64_t next_ms,
	                        struct tb_error *err);
	int (*outbox_delivered)(void *state, int64_t id, const char *txref,
	                        const struct tb_receipt *r, struct tb_error *err);
	/* The destination refused the row for good: it ends 'rejected' (reason = r->reason)
	 * with its receipt r, in the caller's transaction. */
	int (*outbox_rejected)(void *state, int64_t id, const char *txref,
	                       const struct tb_receipt *r, struct tb_error *err);
	int (*dead_list)(void *state, struct tb_outbox_row *rows, size_t max, size_t *n,
	                 struct tb_error *err);
	/* Delivered or rejected rows that have no receipt (a truncated receipt log): the first max
	 * by id in rows, how many there are in *total. */
	int (*outbox_unreceipted)(void *state, struct tb_outbox_row *rows, size_t max, size_t *n,
	                          int64_t *total, struct tb_error *err);
	int (*dead_redrive)(void *state, int64_t id, int64_t now_ms, int *count,
	                    struct tb_error *err);
	int (*receipt_last)(void *state, uint64_t *seq, uint8_t hash[32], struct tb_error *err);
	/* Receipts from seq from in order. A stored body that no longer parses, or that
	 * names another seq than its row, is TB_EVERIFY "receipt seq N: ...". */
	int (*receipt_range)(void *state, uint64_t from, size_t max, tb_receipt_fn fn, void *ctx,
	                     struct tb_error *err);
	int (*receipt_by_record)(void *state, const char *record_id, tb_receipt_fn fn, void *ctx,
	                         struct tb_error *err);
	int (*stats)(void *state, struct tb_store_stats *out, struct tb_error *err);
	/* A network's own key-value space: get returns 1 when key is absent; put with
	 * val NULL deletes; both join the caller's open transaction if there is one. */
	int (*kv_get)(void *state, const char *network, const char *key, struct tb_buf *out,
	              struct tb_error *err);
	int (*kv_put)(void *state, const char *network, const char *key, const void *val,
	              size_t len, struct tb_error *err);
	/* Pending rows per destination (at most max, by name). */
	int (*pending_ages)(void *state, struct tb_store_pending *out, size_t max, size_t *n,
	                    struct tb_error *err);
};

extern const struct tb_store_ops tb_store_sqlite;

struct tb_store {
	const struct tb_store_ops *ops;
	void *state;
};

/* Open the store at path ("sqlite:FILE" or a plain file name = SQLite). */
int tb_store_open(struct tb_store *st, const char *path, int readonly, struct tb_error *err);
void tb_store_close(struct tb_store *st);
/* 1, with a message an operator can act on in msg, when the store file (or its
 * -wal or -shm file) lets group or others read it; 0 otherwise. */
int tb_store_exposed(const char *path, char *msg, size_t cap);

/* The delay before attempt attempts+1: base*2^(attempts-1) capped at max, then
 * "equal jitter": half fixed, half scaled by jitter/2^32. */
int64_t tb_store_backoff_ms(const struct tb_retry_policy *p, int attempts, uint32_t jitter);

/* Mark row delivered and append its receipt (next seq, prev = last hash, signed
 * with key) in one transaction; r gets the receipt as stored. */
int tb_store_deliver(struct tb_store *st, int64_t row, const char *txref,
                     struct tb_receipt *r, const uint8_t key[32], struct tb_error *err);
/* The same for n rows inside the caller's open transaction (one commit, one
 * fsync for the lot): rs[i] gets seq and prev, is signed, and is appended. */
int tb_store_append_receipts(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs,
                             size_t n, const uint8_t key[32], struct tb_error *err);

/* Receipts that record no delivery (status retracted-at-source, ...) for rows, in the
 * caller's transaction: numbered, chained and signed like the others. */
int tb_store_append_status(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs,
                           size_t n, const uint8_t key[32], struct tb_error *err);
/* Rows the destination refused for good, in the caller's transaction: each ends
 * 'rejected' with its receipt (status "rejected", numbered, chained, signed). */
int tb_store_append_rejections(struct tb_store *st, const int64_t *rows, struct tb_receipt *rs,
                               size_t n, const uint8_t key[32], struct tb_error *err);
/* Store next as network's cursor only if the stored one is still from (inside the
 * caller's transaction): TB_EUNAVAIL when another writer (cursor reset) moved it. */
int tb_store_cursor_advance(struct tb_store *st, const char *network, const struct tb_cursor *from,
                            const struct tb_cursor *next, struct tb_error *err);

void tb_store_record_fini(struct tb_store_record *r);
void tb_outbox_row_fini(struct tb_outbox_row *r);
const char *tb_outbox_state_name(enum tb_outbox_state s);

#endif
