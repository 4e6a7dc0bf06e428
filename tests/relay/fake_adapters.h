/* In-process stand-ins for a source and a destination network, for the relay's
 * tests and benchmark only. The source yields records 0..total-1 from an integer
 * cursor; the sink keeps each idempotency key once ("already exists" is success),
 * optionally in an SQLite file so its effects survive a SIGKILL of the relay. */
#ifndef TB_TEST_FAKE_ADAPTERS_H
#define TB_TEST_FAKE_ADAPTERS_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

struct fake_source {
	long total, batch;
	long invalid_every; /* records n with n % invalid_every == invalid_every-1 are INVALID */
	long unknown_at;    /* this record is UNKNOWN while unknown_left > 0 */
	int unknown_left;
	int verify_calls;
	int poll_fail;      /* poll fails with TB_EIO */
	/* History rewrites (a deep re-org): records from fork_at on differ in each
	 * generation; a cursor of another generation past fork_at is TB_EREORG. */
	int generation;
	long fork_at;
	/* ack: counted, the last cursor kept, and on_ack (if set) called with it */
	long acks;
	struct tb_cursor acked;
	void (*on_ack)(void *ctx, const struct tb_cursor *done);
	void *on_ack_ctx;
};

struct fake_sink {
	int down;        /* submit fails with TB_EUNAVAIL */
	int reject;      /* submit fails with TB_EINVAL (permanent) */
	int pending_confirms; /* confirm says PENDING this many times */
	long submits;    /* attempts, including repeats */
	char keys[4096][80];
	long nkeys;
	char last_payload[1024];
	sqlite3 *db;     /* if set: effects kept in table effects(idem PRIMARY KEY) */
	int delay_ms;    /* submit takes this long (a destination's own latency) */
	long long confirmed_at_ms; /* the sink's wall clock when it last said CONFIRMED */
	/* A destination that refuses for good: 1 = submit, 2 = confirm answers TB_REJECTED
	 * with reject_reason and a CUSRES-like reply naming the idempotency key. */
	int reject_final;
	const char *reject_reason;
	int reply_every_confirm; /* every confirm (PENDING too) answers the same reply */
	char last_idem[80];
};

/* The reply the sink gives: {"answer": "CUSRES", "status": ..., "ref": idem}. */
static inline void fake_sink_reply(struct fake_sink *k, const char *status, struct tb_status *st)
{
	struct tb_json *j = tb_json_new_object();
	const char *v[3][2] = {{"answer", "CUSRES"}, {"status", status}, {"ref", k->last_idem}};
	for (int i = 0; j && i < 3; i++)
		if (tb_json_object_set(j, v[i][0], strlen(v[i][0]),
		                       tb_json_new_string(v[i][1], strlen(v[i][1]))) != 0) {
			tb_json_free(j);
			j = NULL;
		}
	st->reply = j;
	snprintf(st->reply_type, sizeof st->reply_type, "cusres");
}

static inline void fake_sink_refuse(struct fake_sink *k, struct tb_status *st)
{
	st->state = TB_REJECTED;
	snprintf(st->reason, sizeof st->reason, "%s",
	         k->reject_reason ? k->reject_reason : "sink: declaration refused");
	fake_sink_reply(k, "refused", st);
}

static inline long long fake_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int fake_source_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
                                   struct tb_error *err)
{
	struct fake_source *s = state;
	long at = from->value[0] ? atol(from->value) : 0;
	long end = at + s->batch < s->total ? at + s->batch : s->total;
	const char *g = strstr(from->value, ":g");
	int gen = g ? atoi(g + 2) : 0;
	if (s->poll_fail)
		return tb_error_set(err, TB_EIO, "source: node answered 500");
	if (gen != s->generation && at > s->fork_at)
		return tb_error_set(err, TB_EREORG, "source: position %ld was generation %d, is now "
		                    "generation %d", at, gen, s->generation);
	for (long i = at; i < end; i++) {
		char loc[64], doc[96];
		struct tb_json *j = NULL;
		if (s->generation && i >= s->fork_at)
			snprintf(loc, sizeof loc, "0xfeed:g%d:%ld", s->generation, i);
		else
			snprintf(loc, sizeof loc, "0xfeed:%ld", i);
		snprintf(doc, sizeof doc, "{\"n\":%ld,\"secret\":\"s-%ld\",\"status\":\"certified\"}", i, i);
		if (tb_json_parse(doc, strlen(doc), NULL, &j, NULL) || tb_batch_push(out, loc, "aeo.event", j))
			return TB_ENOMEM;
	}
	if (s->generation)
		snprintf(out->next.value, sizeof out->next.value, "%ld:g%d", end, s->generation);
	else
		snprintf(out->next.value, sizeof out->next.value, "%ld", end);
	out->behind = s->total - at;
	return 0;
}

static inline int fake_source_verify(void *state, const struct tb_native *rec, struct tb_proof *out,
                                     struct tb_error *err)
{
	struct fake_source *s = state;
	long n = (long)tb_json_get(rec->doc, "n")->u.number.value;
	(void)err;
	s->verify_calls++;
	strcpy(out->kind, "fake");
	if (n == s->unknown_at && s->unknown_left > 0) {
		s->unknown_left--;
		out->verdict = TB_UNKNOWN;
		strcpy(out->reason, "source node unreachable");
	} else if (s->invalid_every && n % s->invalid_every == s->invalid_every - 1) {
		out->verdict = TB_INVALID;
		strcpy(out->reason, "issuer signature does not recover to an authorised issuer");
	} else {
		out->verdict = TB_VALID;
		strcpy(out->reason, "ok");
	}
	return 0;
}

static inline int fake_sink_submit(void *state, const struct tb_outgoing *rec,
                                   struct tb_txref *out, struct tb_status *status,
                                   struct tb_error *err)
{
	struct fake_sink *k = state;
	const char *idem = rec->idempotency_key;
	k->submits++;
	snprintf(k->last_idem, sizeof k->last_idem, "%s", idem);
	if (k->delay_ms > 0) {
		struct timespec d = {k->delay_ms / 1000, (long)(k->delay_ms % 1000) * 1000000L};
		nanosleep(&d, NULL);
	}
	if (k->down)
		return tb_error_set(err, TB_EUNAVAIL, "sink: connection refused");
	if (k->reject)
		return tb_error_set(err, TB_EINVAL, "sink: rejected: schema mismatch");
	if (k->reject_final == 1) {
		fake_sink_refuse(k, status);
		return 0;
	}
	struct tb_buf b;
	tb_buf_init(&b, sizeof k->last_payload - 1);
	if (tb_json_write_canonical(rec->doc, &b, err) == 0)
		snprintf(k->last_payload, sizeof k->last_payload, "%s", (char *)b.data);
	tb_buf_fini(&b);
	if (k->db) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(k->db, "INSERT OR IGNORE INTO effects(idem) VALUES(?)", -1, &st,
		                       NULL) != SQLITE_OK)
			return tb_error_set(err, TB_EIO, "sink: %s", sqlite3_errmsg(k->db));
		sqlite3_bind_text(st, 1, idem, -1, SQLITE_STATIC);
		int r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r != SQLITE_DONE)
			return tb_error_set(err, TB_EUNAVAIL, "sink: %s", sqlite3_errmsg(k->db));
	} else {
		long i = 0;
		while (i < k->nkeys && strcmp(k->keys[i], idem) != 0)
			i++;
		if (i == k->nkeys) {
			if (k->nkeys == 4096)
				return tb_error_set(err, TB_ELIMIT, "sink: full");
			snprintf(k->keys[k->nkeys++], sizeof k->keys[0], "%s", idem);
		}
	}
	snprintf(out->ref, sizeof out->ref, "0xtx-%s", idem);
	return 0;
}

static inline int fake_sink_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                                    struct tb_error *err)
{
	struct fake_sink *k = state;
	(void)ref;
	(void)err;
	if (k->reply_every_confirm)
		fake_sink_reply(k, "accepted", out);
	if (k->pending_confirms > 0) {
		k->pending_confirms--;
		out->state = TB_PENDING;
		return 0;
	}
	if (k->reject_final == 2) {
		tb_json_free(out->reply);
		fake_sink_refuse(k, out);
		return 0;
	}
	out->state = TB_CONFIRMED;
	out->confirmations = 1;
	k->confirmed_at_ms = fake_wall_ms();
	return 0;
}

static inline void fake_source_ack(void *state, const struct tb_cursor *done)
{
	struct fake_source *s = state;
	s->acks++;
	s->acked = *done;
	if (s->on_ack)
		s->on_ack(s->on_ack_ctx, done);
}

static const struct tb_adapter_ops fake_source_ops = {
	.abi = TB_ADAPTER_ABI, .name = "fake-source", .poll = fake_source_poll,
	.verify = fake_source_verify, .ack = fake_source_ack,
};
static const struct tb_adapter_ops fake_sink_ops = {
	.abi = TB_ADAPTER_ABI, .name = "fake-sink", .submit = fake_sink_submit,
	.confirm = fake_sink_confirm,
};

#endif
