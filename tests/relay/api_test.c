/* The admin API: loopback by default (a public address is refused unless
 * allowed), 401 without the exact bearer token, Prometheus metrics, receipts by
 * sequence and by record id, dead letters with their reason; strict paths (a
 * table) and a tampered record refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "fake_adapters.h"
#include "lib/http.h"
#include "relay.h"
#include "tmpdir.h"

#define TOKEN "0123456789abcdef-admin-token"

static char dir[64];

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

static int metrics(void *ctx, struct tb_buf *out, struct tb_error *err)
{
	return tb_relay_metrics_text(ctx, out, err);
}

static long get(int port, const char *path, const char *token, struct tb_buf *body)
{
	struct tb_http *h;
	struct tb_error err;
	struct tb_http_options o = {.timeout_ms = 5000, .max_attempts = 1};
	char url[2048], auth[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
	const char *headers[] = {auth, NULL};
	struct tb_http_request req = {.method = "GET", .url = url, .idempotent = 1,
	                              .headers = token ? headers : NULL};
	struct tb_http_response resp;
	assert_int_equal(tb_http_new(&h, &o, &err), 0);
	tb_http_response_init(&resp);
	int rc = tb_http_send(h, &req, &resp, &err);
	assert_true(rc == 0 || rc == TB_EIO);
	long status = resp.status;
	tb_buf_reset(body);
	if (resp.body.len)
		tb_buf_append(body, resp.body.data, resp.body.len);
	tb_http_response_fini(&resp);
	tb_http_free(h);
	return status;
}

static volatile int store_down;

static const char *not_ready(void *ctx)
{
	return store_down ? "the store cannot be written" : tb_relay_not_ready(ctx);
}

static void serves_with_token_refuses_without(void **state)
{
	(void)state;
	char store[128];
	struct tb_error err;
	snprintf(store, sizeof store, "%s/relay.db", dir);
	struct tb_relay_config cfg = {.store_path = store,
	                              .retry = {.max_attempts = 1, .base_ms = 1, .max_ms = 1}};
	memset(cfg.key, 3, 32);
	struct tb_relay *r;
	static struct fake_sink sink;
	struct fake_source src = {.total = 3, .batch = 10, .unknown_at = -1};
	assert_int_equal(tb_relay_new(&r, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "src", &fake_source_ops, &src, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "dst", &fake_sink_ops, &sink, &err), 0);
	assert_int_equal(tb_relay_add_route(r, "src", "dst", &err), 0);
	struct tb_relay_hooks hk = {.policy = allow_all};
	tb_relay_set_hooks(r, &hk);
	size_t work;
	assert_int_equal(tb_relay_step(r, &work, &err), 0);
	sink.down = 1; /* the fourth record dies after one attempt */
	src.total = 4;
	assert_int_equal(tb_relay_step(r, &work, &err), 0);

	struct tb_api *api;
	struct tb_api_config ac = {.listen = "127.0.0.1:0", .token = TOKEN, .store_path = store,
	                           .ctx = r, .metrics = metrics, .not_ready = not_ready};
	assert_int_equal(tb_api_start(&api, &ac, &err), 0);
	int port = tb_api_port(api);
	assert_true(port > 0);
	struct tb_buf b;
	tb_buf_init(&b, 0);

	assert_int_equal(get(port, "/healthz", NULL, &b), 200);
	assert_int_equal(get(port, "/readyz", NULL, &b), 200);
	assert_string_equal((char *)b.data, "ready\n");
	store_down = 1; /* /readyz says why, without detail: it is open */
	assert_int_equal(get(port, "/readyz", NULL, &b), 503);
	assert_string_equal((char *)b.data, "not ready: the store cannot be written\n");
	store_down = 0;
	assert_int_equal(get(port, "/metrics", NULL, &b), 401);
	assert_null(strstr((char *)b.data, "tradebridge_"));
	assert_int_equal(get(port, "/metrics", "wrong-token-wrong-token", &b), 401);
	assert_int_equal(get(port, "/metrics", TOKEN "x", &b), 401);
	assert_int_equal(get(port, "/metrics", "0123456789abcdef-admin-toke", &b), 401);
	assert_int_equal(get(port, "/receipts/seq/1", NULL, &b), 401);
	assert_int_equal(get(port, "/dead-letters", NULL, &b), 401);

	assert_int_equal(get(port, "/metrics", TOKEN, &b), 200);
	assert_non_null(strstr((char *)b.data, "# TYPE tradebridge_records_ingested_total counter\n"));
	assert_non_null(strstr((char *)b.data, "tradebridge_records_delivered_total{network=\"dst\"} 3\n"));
	assert_non_null(strstr((char *)b.data, "tradebridge_records_dead_total{network=\"dst\"} 1\n"));
	assert_non_null(strstr((char *)b.data, "tradebridge_delivery_latency_seconds_bucket{le=\"+Inf\"} 3\n"));

	assert_int_equal(get(port, "/receipts/seq/2", TOKEN, &b), 200);
	assert_non_null(strstr((char *)b.data, "\"seq\":2,"));
	struct tb_json *j;
	assert_int_equal(tb_json_parse((char *)b.data, b.len, NULL, &j, &err), 0);
	const char *rid = tb_json_string(tb_json_get(tb_json_at(j, 0), "record"));
	assert_non_null(rid);
	char path[160];
	char keep[100];
	snprintf(keep, sizeof keep, "%s", rid);
	rid = keep;
	snprintf(path, sizeof path, "/receipts/record/%s", rid);
	tb_json_free(j);
	assert_int_equal(get(port, path, TOKEN, &b), 200);
	assert_non_null(strstr((char *)b.data, "\"seq\":2,"));
	snprintf(path, sizeof path, "/records/%s", rid);
	assert_int_equal(get(port, path, TOKEN, &b), 200);
	assert_non_null(strstr((char *)b.data, "\"verdict\":\"VALID\""));
	assert_non_null(strstr((char *)b.data, "\"locator\":\"0xfeed:"));
	assert_int_equal(get(port, "/records/sha256:nothing", TOKEN, &b), 404);
	assert_int_equal(get(port, "/receipts/seq/99", TOKEN, &b), 404);
	assert_int_equal(get(port, "/receipts/seq/x", TOKEN, &b), 400);
	assert_int_equal(get(port, "/nothing", TOKEN, &b), 404);
	assert_int_equal(get(port, "/dead-letters", TOKEN, &b), 200);
	assert_non_null(strstr((char *)b.data, "connection refused"));
	assert_non_null(strstr((char *)b.data, "\"destination\":\"dst\""));

	tb_buf_fini(&b);
	tb_api_stop(api);
	tb_relay_free(r);
}

static void loopback_only_by_default(void **state)
{
	(void)state;
	char store[128];
	struct tb_error err;
	struct tb_api *api;
	snprintf(store, sizeof store, "%s/relay.db", dir);
	struct tb_api_config ac = {.listen = "0.0.0.0:0", .token = TOKEN, .store_path = store};
	assert_int_equal(tb_api_start(&api, &ac, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "not a loopback address"));
	ac.listen = "192.0.2.1:8080";
	assert_int_equal(tb_api_start(&api, &ac, &err), TB_ECONFIG);
	ac.listen = "[::]:0";
	assert_int_equal(tb_api_start(&api, &ac, &err), TB_ECONFIG);
	ac.listen = "127.0.0.1:99999";
	assert_int_equal(tb_api_start(&api, &ac, &err), TB_ECONFIG);
	ac.listen = "127.0.0.1:0";
	ac.token = "short";
	assert_int_equal(tb_api_start(&api, &ac, &err), TB_ECONFIG);
	/* the default listen address is loopback */
	ac.token = TOKEN;
	ac.listen = ":0";
	assert_int_equal(tb_api_start(&api, &ac, &err), 0);
	tb_api_stop(api);
}


static void sql_at(const char *path, const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Paths are read strictly (400 for a malformed number, 404 for a seq that is not
 * stored, 414 for an over-long path, never another receipt than the one asked
 * for), and a record whose stored body no longer hashes to its id is refused. */
static void strict_paths_and_tampered_records(void **state)
{
	(void)state;
	char store[128];
	struct tb_error err;
	snprintf(store, sizeof store, "%s/strict.db", dir);
	struct tb_relay_config cfg = {.store_path = store};
	memset(cfg.key, 3, 32);
	struct tb_relay *r;
	static struct fake_sink sink;
	struct fake_source src = {.total = 4, .batch = 10, .unknown_at = -1};
	assert_int_equal(tb_relay_new(&r, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "src", &fake_source_ops, &src, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "dst", &fake_sink_ops, &sink, &err), 0);
	assert_int_equal(tb_relay_add_route(r, "src", "dst", &err), 0);
	struct tb_relay_hooks hk = {.policy = allow_all};
	tb_relay_set_hooks(r, &hk);
	size_t work;
	assert_int_equal(tb_relay_step(r, &work, &err), 0);
	tb_relay_free(r);
	sql_at(store, "DELETE FROM receipts WHERE seq=3");

	struct tb_api *api;
	struct tb_api_config ac = {.listen = "127.0.0.1:0", .token = TOKEN, .store_path = store};
	assert_int_equal(tb_api_start(&api, &ac, &err), 0);
	int port = tb_api_port(api);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	char longp[700] = "/receipts/seq/1";
	memset(longp + 15, '0', sizeof longp - 16);
	longp[sizeof longp - 1] = 0;
	char at511[513] = "/records/";
	memset(at511 + 9, 'a', 511 - 9);
	at511[511] = 0;
	const struct {
		const char *path;
		long status;
		const char *says;
	} t[] = {
		{"/receipts/seq/1", 200, "\"seq\":1,"},
		{"/receipts/seq/4", 200, "\"seq\":4,"},
		{"/receipts/seq/3", 404, "not found"},  /* not receipt 4 */
		{"/receipts/seq/5", 404, "not found"},
		{"/receipts/seq/0", 400, "receipt seq: \\\"0\\\""},
		{"/receipts/seq/-1", 400, "receipt seq: \\\"-1\\\""},
		{"/receipts/seq/9223372036854775808", 400, "is not a whole number in 1..9007199254740991"},
		{"/receipts/seq/18446744073709551617", 400, "is not a whole number"},
		{"/receipts/seq/9007199254740992", 400, "is not a whole number"},
		{"/receipts/seq/1abc", 400, "\\\"1abc\\\""},
		{"/receipts/seq/01", 400, "\\\"01\\\""},
		{"/receipts/seq/", 400, "\\\"\\\""},
		{"/receipts/seq/1?x=2", 200, "\"seq\":1,"},
		{longp, 414, "longer than 511"},
		{at511, 404, "not found"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		long st = get(port, t[i].path, TOKEN, &b);
		assert_int_equal(tb_buf_putc(&b, 0), 0);
		if (st != t[i].status || !strstr((char *)b.data, t[i].says))
			fail_msg("%.60s: %ld (want %ld): %s", t[i].path, st, t[i].status, (char *)b.data);
	}

	/* a record's body altered in the store (its triggers dropped first) */
	char rid[100], path[160];
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(store, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT record_id FROM records ORDER BY id LIMIT 1",
	                                    -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(rid, sizeof rid, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	snprintf(path, sizeof path, "/records/%s", rid);
	assert_int_equal(get(port, path, TOKEN, &b), 200);
	sql_at(store, "DROP TRIGGER records_no_update;"
	              " UPDATE records SET body=replace(body, 's-0', 's-9') WHERE id=1");
	assert_int_equal(get(port, path, TOKEN, &b), 500);
	assert_int_equal(tb_buf_putc(&b, 0), 0);
	assert_non_null(strstr((char *)b.data, "the stored body no longer hashes to its id"));
	assert_non_null(strstr((char *)b.data, rid));
	assert_null(strstr((char *)b.data, "s-9")); /* the altered body is not served */

	tb_buf_fini(&b);
	tb_api_stop(api);
}

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-api");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_with_token_refuses_without),
		cmocka_unit_test(loopback_only_by_default),
		cmocka_unit_test(strict_paths_and_tampered_records),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
