/* The relay loop with in-process source and sink: VALID records reach the sink
 * once with a verifiable receipt each, INVALID ones are kept and never sent,
 * UNKNOWN holds the cursor, policy denies by default and filters fields, an
 * outage backs off, dead-letters after the limit and drains after a re-drive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "fake_relay.h"
#include "relay.h"
#include "tmpdir.h"

static char dir[64];

/* Drops data.secret: a dropped field must never reach the destination. */
static int drop_secret(void *ctx, const char *dest, const struct tb_json *rec,
                       struct tb_json **out, struct tb_error *err)
{
	int rc = fake_allow_all(ctx, dest, rec, out, err);
	if (rc == 0)
		tb_json_object_remove(tb_json_get(*out, "data"), "secret");
	return rc;
}

static int setup(void **state)
{
	struct tb_relay_config cfg = {.retry = {.max_attempts = 3, .base_ms = 100, .max_ms = 1000},
	                              .lease_ms = 1000};
	struct fake_source src = {.total = 20, .batch = 6, .invalid_every = 5, .unknown_at = -1};
	return fake_relay_open((struct fake_relay **)state, dir, cfg, src, 0);
}

static int teardown(void **state)
{
	fake_relay_close(*state);
	return 0;
}

static void run_until_idle(struct fake_relay *f)
{
	struct tb_error err;
	size_t work;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(tb_relay_step(f->relay, &work, &err), 0);
		if (work == 0)
			return;
	}
	fail_msg("relay did not become idle in 100 steps");
}

struct chain {
	struct tb_receipt r[64];
	size_t n;
};

static int collect(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct chain *c = ctx;
	(void)json;
	if (c->n == 64)
		return 1;
	c->r[c->n++] = *r;
	return 0;
}

static void check_chain(struct fake_relay *f, size_t want)
{
	struct chain c = {.n = 0};
	struct tb_error err;
	size_t bad;
	struct tb_store *st = tb_relay_store(f->relay);
	assert_int_equal(st->ops->receipt_range(st->state, 1, 64, collect, &c, &err), 0);
	assert_int_equal(c.n, want);
	assert_int_equal(tb_receipt_verify_chain(c.r, c.n, f->addr, NULL, &bad, &err), 0);
	for (size_t i = 0; i < c.n; i++) {
		assert_string_equal(c.r[i].verdict, "VALID");
		assert_string_equal(c.r[i].destination, "dst");
		assert_string_equal(c.r[i].source_network, "src");
	}
}

static void valid_delivered_once_invalid_kept(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	run_until_idle(f);
	/* 20 records, 4 INVALID (n = 4, 9, 14, 19) */
	assert_int_equal(f->sink.nkeys, 16);
	assert_int_equal(f->sink.submits, 16);
	check_chain(f, 16);
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_store_stats s;
	assert_int_equal(st->ops->stats(st->state, &s, &err), 0);
	assert_int_equal(s.records, 20);
	assert_int_equal(s.invalid, 4);
	struct tb_cursor c;
	assert_int_equal(st->ops->cursor_get(st->state, "src", &c, &err), 0);
	assert_string_equal(c.value, "20");
	struct tb_relay_counts k;
	tb_relay_counts(f->relay, &k);
	assert_int_equal(k.ingested, 20);
	assert_int_equal(k.invalid, 4);
	assert_int_equal(k.delivered, 16);
	/* the INVALID record is kept with its reason, never routed */
	struct tb_store_record rec;
	int found = 0;
	for (int64_t id = 1; id <= 20; id++) {
		assert_int_equal(st->ops->record_get(st->state, id, &rec, &err), 0);
		if (strcmp(rec.locator, "0xfeed:9") == 0) {
			assert_string_equal(rec.verdict, "INVALID");
			assert_non_null(strstr(rec.reason, "authorised issuer"));
			found = 1;
		}
		tb_store_record_fini(&rec);
	}
	assert_true(found);
	for (long i = 0; i < f->sink.nkeys; i++)
		assert_non_null(strstr(f->sink.keys[i], ":dst"));
}

static void unknown_holds_cursor(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	size_t taken;
	f->src.unknown_at = 2;
	f->src.unknown_left = 1;
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), TB_EUNAVAIL);
	assert_non_null(strstr(err.msg, "UNKNOWN"));
	assert_int_equal(taken, 0);
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_cursor c;
	struct tb_store_stats s;
	assert_int_equal(st->ops->cursor_get(st->state, "src", &c, &err), 0);
	assert_string_equal(c.value, "");
	assert_int_equal(st->ops->stats(st->state, &s, &err), 0);
	assert_int_equal(s.records, 0); /* records 0 and 1 were rolled back with the batch */
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	assert_int_equal(taken, 6);
	assert_int_equal(st->ops->cursor_get(st->state, "src", &c, &err), 0);
	assert_string_equal(c.value, "6");
}

static void default_deny_and_dropped_field(void **state)
{
	struct fake_relay *f = *state;
	struct tb_relay_hooks none = {0};
	tb_relay_set_hooks(f->relay, &none);
	f->src.total = 3;
	f->src.invalid_every = 0;
	run_until_idle(f);
	assert_int_equal(f->sink.submits, 0); /* no policy: nothing leaves */
	struct tb_relay_hooks drop = {.policy = drop_secret};
	tb_relay_set_hooks(f->relay, &drop);
	f->src.total = 4;
	run_until_idle(f);
	assert_int_equal(f->sink.submits, 1);
	assert_null(strstr(f->sink.last_payload, "secret"));
	assert_null(strstr(f->sink.last_payload, "s-3"));
	assert_non_null(strstr(f->sink.last_payload, "\"status\":\"certified\""));
}

/* A translate hook that finds record n = 1 invalid (TB_EINVAL) and wraps the rest. */
static int picky_translate(void *ctx, const char *network, const struct tb_native *in,
                           const struct tb_proof *proof, struct tb_json **out,
                           struct tb_error *err)
{
	(void)ctx;
	(void)network;
	(void)proof;
	*out = tb_json_new_object();
	tb_json_object_set(*out, "type", 4, tb_json_new_string("aeo.status", 10));
	tb_json_object_set(*out, "data", 4, tb_json_clone(in->doc));
	if (strcmp(in->locator, "0xfeed:1") == 0)
		return tb_error_set(err, TB_EINVAL, "translation is invalid: $.data.x: required");
	return 0;
}

static void invalid_translation_kept_never_routed(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	struct tb_relay_hooks h = {.translate = picky_translate, .policy = fake_allow_all};
	tb_relay_set_hooks(f->relay, &h);
	f->src.total = 3;
	f->src.invalid_every = 0;
	run_until_idle(f);
	assert_int_equal(f->sink.submits, 2); /* records 0 and 2 */
	check_chain(f, 2);
	struct tb_relay_counts k;
	tb_relay_counts(f->relay, &k);
	assert_int_equal(k.invalid, 1);
	assert_int_equal(k.verified, 2);
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_store_record rec;
	int found = 0;
	for (int64_t id = 1; id <= 3; id++) {
		assert_int_equal(st->ops->record_get(st->state, id, &rec, &err), 0);
		if (strcmp(rec.locator, "0xfeed:1") == 0) {
			assert_string_equal(rec.verdict, "INVALID");
			assert_non_null(strstr(rec.reason, "$.data.x: required"));
			found = 1;
		}
		tb_store_record_fini(&rec);
	}
	assert_true(found);
}

static size_t deliver_at(struct fake_relay *f, int64_t now)
{
	struct tb_error err;
	size_t n;
	assert_int_equal(tb_relay_deliver(f->relay, now, &n, &err), 0);
	return n;
}

static void outage_backoff_dead_letter_redrive(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	size_t taken;
	f->src.total = 2;
	f->src.invalid_every = 0;
	f->sink.down = 1;
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	int64_t now = tb_relay_now_ms();
	assert_int_equal(deliver_at(f, now), 0);
	assert_int_equal(f->sink.submits, 2);
	/* backing off: nothing is due 40 ms later (first delay is 50..100 ms) */
	assert_int_equal(deliver_at(f, now + 40), 0);
	assert_int_equal(f->sink.submits, 2);
	assert_int_equal(deliver_at(f, now + 200), 0);
	assert_int_equal(f->sink.submits, 4);
	assert_int_equal(deliver_at(f, now + 2000), 0);
	assert_int_equal(f->sink.submits, 6); /* third failure: dead */
	assert_int_equal(deliver_at(f, now + 100000), 0);
	assert_int_equal(f->sink.submits, 6);
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_outbox_row rows[4];
	size_t n;
	assert_int_equal(st->ops->dead_list(st->state, rows, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr(rows[0].reason, "connection refused"));
	for (size_t i = 0; i < n; i++)
		tb_outbox_row_fini(&rows[i]);
	struct tb_relay_counts k;
	tb_relay_counts(f->relay, &k);
	assert_int_equal(k.dead, 2);
	/* the destination returns; re-drive drains the backlog */
	f->sink.down = 0;
	int count;
	assert_int_equal(tb_relay_redrive(f->relay, 0, &count, &err), 0);
	assert_int_equal(count, 2);
	tb_relay_counts(f->relay, &k);
	struct tb_buf m;
	tb_buf_init(&m, 0);
	assert_int_equal(tb_relay_metrics_text(f->relay, &m, &err), 0);
	assert_non_null(strstr((char *)m.data, "tradebridge_outbox_depth 2\n"));
	assert_non_null(strstr((char *)m.data, "tradebridge_dead_letters 0\n"));
	tb_buf_fini(&m);
	assert_int_equal(deliver_at(f, now + 100000), 2);
	assert_int_equal(f->sink.nkeys, 2);
	check_chain(f, 2);
}

static void permanent_rejection_is_dead_at_once(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	size_t taken;
	f->src.total = 1;
	f->sink.reject = 1;
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	assert_int_equal(deliver_at(f, tb_relay_now_ms()), 0);
	struct tb_relay_counts k;
	tb_relay_counts(f->relay, &k);
	assert_int_equal(k.dead, 1);
}

static void pending_confirmation_is_confirmed_not_resubmitted(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	size_t taken;
	f->src.total = 1;
	f->sink.pending_confirms = 2;
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	int64_t now = tb_relay_now_ms();
	assert_int_equal(deliver_at(f, now), 0);
	assert_int_equal(deliver_at(f, now + 10), 0);    /* not due: asked again after 1 s */
	assert_int_equal(deliver_at(f, now + 1000), 0);  /* still pending */
	assert_int_equal(deliver_at(f, now + 2000), 1);  /* confirmed */
	assert_int_equal(f->sink.submits, 1);            /* never sent twice */
	assert_int_equal(f->sink.nkeys, 1);
	check_chain(f, 1);
	/* the receipt names the transaction the destination gave */
	struct tb_store *st = tb_relay_store(f->relay);
	struct chain c = {.n = 0};
	assert_int_equal(st->ops->receipt_range(st->state, 1, 1, collect, &c, &err), 0);
	assert_non_null(strstr(c.r[0].txref, "0xtx-tb1:"));
}

static void backpressure_at_high_water(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	struct tb_relay_config cfg = {.outbox_high_water = 6, .store_path = NULL};
	char path[160];
	snprintf(path, sizeof path, "%s/bp.db", dir);
	cfg.store_path = path;
	memset(cfg.key, 7, 32);
	struct tb_relay *r;
	assert_int_equal(tb_relay_new(&r, &cfg, &err), 0);
	f->src.invalid_every = 0;
	assert_int_equal(tb_relay_add_network(r, "src", &fake_source_ops, &f->src, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "dst", &fake_sink_ops, &f->sink, &err), 0);
	assert_int_equal(tb_relay_add_route(r, "src", "dst", &err), 0);
	struct tb_relay_hooks h = {.policy = fake_allow_all};
	tb_relay_set_hooks(r, &h);
	size_t taken;
	assert_int_equal(tb_relay_ingest(r, "src", &taken, &err), 0);
	assert_int_equal(taken, 6);
	assert_int_equal(tb_relay_ingest(r, "src", &taken, &err), 0);
	assert_int_equal(taken, 0); /* 6 pending: at the mark, ingest waits */
	size_t done;
	assert_int_equal(tb_relay_deliver(r, tb_relay_now_ms(), &done, &err), 0);
	assert_int_equal(done, 6);
	assert_int_equal(tb_relay_ingest(r, "src", &taken, &err), 0);
	assert_int_equal(taken, 6);
	struct tb_buf m;
	tb_buf_init(&m, 0);
	assert_int_equal(tb_relay_metrics_text(r, &m, &err), 0);
	assert_non_null(strstr((char *)m.data, "tradebridge_records_ingested_total{network=\"src\"} 12\n"));
	assert_non_null(strstr((char *)m.data, "tradebridge_records_delivered_total{network=\"dst\"} 6\n"));
	assert_non_null(strstr((char *)m.data, "tradebridge_outbox_depth 6\n"));
	assert_non_null(strstr((char *)m.data, "tradebridge_delivery_latency_seconds_count 6\n"));
	assert_non_null(strstr((char *)m.data, "le=\"+Inf\"} 6\n"));
	tb_buf_fini(&m);
	tb_relay_free(r);
}

static void failing_source_does_not_stop_delivery(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	size_t taken, work;
	f->src.total = 3;
	f->src.invalid_every = 0;
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	f->src.poll_fail = 1;
	assert_int_equal(tb_relay_step(f->relay, &work, &err), TB_EIO);
	assert_non_null(strstr(err.msg, "node answered 500"));
	assert_int_equal(work, 3); /* the rows already stored were delivered anyway */
	assert_int_equal(f->sink.nkeys, 3);
}

/* A record of key `key` stored directly, with an outbox row for dest (ids follow
 * insertion order in a fresh store). */
static void add_row(struct fake_relay *f, const char *key, int n, const char *dest)
{
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_store_record rec;
	struct tb_error err;
	char body[128];
	int created = 0;
	memset(&rec, 0, sizeof rec);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"n\":%d}", key, n);
	snprintf(rec.record_id, sizeof rec.record_id, "sha256:%064d", n);
	snprintf(rec.key, sizeof rec.key, "%s", key);
	snprintf(rec.network, sizeof rec.network, "src");
	snprintf(rec.locator, sizeof rec.locator, "0xrow:%d", n);
	snprintf(rec.verdict, sizeof rec.verdict, "VALID");
	rec.body = body;
	assert_int_equal(st->ops->record_put(st->state, &rec, &created, &err), 0);
	assert_int_equal(created, 1);
	assert_int_equal(st->ops->outbox_add(st->state, rec.id, dest, body, tb_relay_now_ms(), &err),
	                 0);
}

/* Version 2 of a key is not submitted while version 1 waits for its retry; another
 * key is not held up; then 1 and 2 go, in that order. */
static void versions_of_a_key_in_order(void **state)
{
	struct fake_relay *f = *state;
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_error err;
	struct tb_retry_policy slow = {.max_attempts = 5, .base_ms = 60000, .max_ms = 60000};
	size_t done = 0;
	add_row(f, "cert-1", 1, "dst");
	add_row(f, "cert-1", 2, "dst");
	add_row(f, "cert-2", 3, "dst");
	int64_t now = tb_relay_now_ms();
	assert_int_equal(st->ops->outbox_fail(st->state, 1, now, "sink: connection refused", &slow, 0,
	                                      0, &err), 0);
	assert_int_equal(tb_relay_deliver(f->relay, now, &done, &err), 0);
	assert_int_equal(done, 1);
	assert_int_equal(f->sink.submits, 1);
	assert_non_null(strstr(f->sink.last_payload, "\"n\":3"));
	assert_int_equal(tb_relay_deliver(f->relay, now + 120000, &done, &err), 0);
	assert_int_equal(done, 1);
	assert_non_null(strstr(f->sink.last_payload, "\"n\":1"));
	assert_int_equal(tb_relay_deliver(f->relay, now + 120000, &done, &err), 0);
	assert_int_equal(done, 1);
	assert_non_null(strstr(f->sink.last_payload, "\"n\":2"));
	assert_int_equal(f->sink.submits, 3);
}

/* A row for a network no longer configured becomes a dead letter naming it; the
 * other rows of the round are delivered. */
static void row_for_removed_network_is_dead_letter(void **state)
{
	struct fake_relay *f = *state;
	struct tb_store *st = tb_relay_store(f->relay);
	struct tb_error err;
	struct tb_outbox_row rows[4];
	size_t done = 0, n = 0;
	add_row(f, "k-gone", 1, "removed-net");
	add_row(f, "k-ok", 2, "dst");
	assert_int_equal(tb_relay_deliver(f->relay, tb_relay_now_ms(), &done, &err), 0);
	assert_int_equal(done, 1);
	assert_int_equal(f->sink.nkeys, 1);
	assert_int_equal(st->ops->dead_list(st->state, rows, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].destination, "removed-net");
	assert_non_null(strstr(rows[0].reason, "\"removed-net\" is no longer configured"));
	tb_outbox_row_fini(&rows[0]);
	check_chain(f, 1);
}

static double metric(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	assert_non_null(p);
	return strtod(p + strlen(name), NULL);
}

/* The latency metric runs from the poll that found the record to the destination's
 * confirmation, checked against the test's own clock around a destination that
 * takes 300 ms to answer. */
static void latency_against_an_outside_clock(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	size_t taken = 0, done = 0;
	f->src.total = 1;
	f->src.invalid_every = 0;
	f->sink.delay_ms = 300;
	long long t0 = fake_wall_ms();
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	long long t1 = fake_wall_ms();
	assert_int_equal(taken, 1);
	assert_int_equal(tb_relay_deliver(f->relay, tb_relay_now_ms(), &done, &err), 0);
	long long t2 = fake_wall_ms();
	assert_int_equal(done, 1);
	struct tb_buf m;
	tb_buf_init(&m, 0);
	assert_int_equal(tb_relay_metrics_text(f->relay, &m, &err), 0);
	double sum = metric((char *)m.data, "tradebridge_delivery_latency_seconds_sum ");
	tb_buf_fini(&m);
	double lo = (double)(f->sink.confirmed_at_ms - t1) / 1000.0, hi = (double)(t2 - t0) / 1000.0;
	assert_true(lo >= 0.299);
	if (sum < lo - 0.002 || sum > hi + 0.002)
		fail_msg("latency %.3f s outside what the test's clock saw: [%.3f, %.3f]", sum, lo, hi);
}

/* An unreachable destination is logged (once per interval, naming network and
 * cause) and the age of its oldest pending row is shown. */
static void unavailable_destination_is_logged(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	struct tb_log log;
	char line[1024];
	size_t taken = 0, done = 0;
	FILE *out = tmpfile();
	assert_non_null(out);
	tb_log_init(&log, out, "relay", TB_LOG_INFO, TB_LOG_TEXT);
	tb_relay_set_log(f->relay, &log);
	f->src.total = 2;
	f->src.invalid_every = 0;
	f->sink.down = 1;
	long long t0 = fake_wall_ms();
	assert_int_equal(tb_relay_ingest(f->relay, "src", &taken, &err), 0);
	long long t1 = fake_wall_ms();
	int64_t now = tb_relay_now_ms();
	for (int i = 0; i < 2; i++)
		assert_int_equal(tb_relay_deliver(f->relay, now + 10000 * i, &done, &err), 0);
	assert_int_equal(f->sink.submits, 4);
	usleep(50000); /* let the oldest row age */
	long long t2 = fake_wall_ms();
	struct tb_buf m;
	tb_buf_init(&m, 0);
	assert_int_equal(tb_relay_metrics_text(f->relay, &m, &err), 0);
	long long t3 = fake_wall_ms();
	double age = metric((char *)m.data,
	                    "tradebridge_outbox_oldest_pending_seconds{destination=\"dst\"} ");
	tb_buf_fini(&m);
	if (age < (double)(t2 - t1) / 1000.0 - 0.002 || age > (double)(t3 - t0) / 1000.0 + 0.002)
		fail_msg("oldest pending age %.3f s outside [%.3f, %.3f]", age,
		         (double)(t2 - t1) / 1000.0, (double)(t3 - t0) / 1000.0);
	rewind(out);
	int lines = 0;
	while (fgets(line, sizeof line, out)) {
		lines++;
		assert_non_null(strstr(line, "dst"));
		assert_non_null(strstr(line, "connection refused"));
	}
	fclose(out);
	assert_int_equal(lines, 1); /* 4 failures within the interval: one line */
}

static void routes_refer_to_networks(void **state)
{
	struct fake_relay *f = *state;
	struct tb_error err;
	assert_int_equal(tb_relay_add_route(f->relay, "src", "nowhere", &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "nowhere"));
	assert_int_equal(tb_relay_add_route(f->relay, "src", "src", &err), TB_ECONFIG);
	assert_int_equal(tb_relay_add_network(f->relay, "src", &fake_sink_ops, NULL, &err), TB_ECONFIG);
}

static int group_setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-relay");
}

static int group_teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(valid_delivered_once_invalid_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_holds_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(default_deny_and_dropped_field, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_translation_kept_never_routed, setup, teardown),
		cmocka_unit_test_setup_teardown(outage_backoff_dead_letter_redrive, setup, teardown),
		cmocka_unit_test_setup_teardown(permanent_rejection_is_dead_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_confirmation_is_confirmed_not_resubmitted, setup, teardown),
		cmocka_unit_test_setup_teardown(backpressure_at_high_water, setup, teardown),
		cmocka_unit_test_setup_teardown(failing_source_does_not_stop_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(routes_refer_to_networks, setup, teardown),
		cmocka_unit_test_setup_teardown(versions_of_a_key_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(row_for_removed_network_is_dead_letter, setup, teardown),
		cmocka_unit_test_setup_teardown(latency_against_an_outside_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(unavailable_destination_is_logged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
