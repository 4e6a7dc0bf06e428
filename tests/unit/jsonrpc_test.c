/* JSON-RPC client against the scripted fake peer (tests/unit/fakepeer.h) on
 * 127.0.0.1: results, error objects, batches matched by id in
 * any order, failover past a dead endpoint, and "no endpoint answered" being
 * TB_EUNAVAIL (never a result) for refused connections, HTML and wrong ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakepeer.h"
#include "lib/jsonrpc.h"

static int setup(void **state)
{
	*state = tb_fakepeer_start(NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	tb_fakepeer_stop(*state);
	return 0;
}

/* Every request gets answer with status; "%ID%" becomes the request's first id. */
static void set_answer(struct tb_fakepeer *s, int status, const char *answer)
{
	const struct tb_fake_rule r = {.status = status, .body = answer};
	tb_fakepeer_script(s, &r, 1);
}

/* The last request the peer received, kept for the test's asserts. */
static char last[65536];

static const char *last_request(struct tb_fakepeer *s)
{
	char *b = tb_fakepeer_body(s, -1);
	assert_non_null(b);
	snprintf(last, sizeof(last), "%s", b);
	free(b);
	return last;
}

static struct tb_jsonrpc *client(int port_a, int port_b)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "http://127.0.0.1:%d/", port_a);
	snprintf(b, sizeof(b), "http://127.0.0.1:%d/", port_b);
	const char *urls[2] = {a, b};
	struct tb_http_options ho = {.max_attempts = 1, .connect_timeout_ms = 2000,
	                             .timeout_ms = 5000};
	struct tb_jsonrpc *c = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_new(&c, urls, port_b ? 2 : 1, &ho, &e), 0);
	return c;
}

static void test_result(void **state)
{
	struct tb_fakepeer *s = *state;
	set_answer(s, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1a\"}");
	struct tb_jsonrpc *c = client(tb_fakepeer_port(s), 0);
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_call(c, "eth_blockNumber", NULL, &r, NULL, &e), 0);
	uint64_t v;
	assert_int_equal(tb_jsonrpc_quantity(r, &v, &e), 0);
	assert_int_equal(v, 26);
	tb_json_free(r);
	/* the request is JSON-RPC 2.0 with our method and params */
	assert_non_null(strstr(last_request(s), "\"jsonrpc\":\"2.0\""));
	assert_non_null(strstr(last_request(s), "\"method\":\"eth_blockNumber\""));
	assert_non_null(strstr(last_request(s), "\"params\":[]"));
	/* params that are not an array are refused before sending */
	assert_int_equal(tb_jsonrpc_call(c, "x", "{}", &r, NULL, &e), TB_EINVAL);
	tb_jsonrpc_free(c);
}

static void test_fault(void **state)
{
	struct tb_fakepeer *s = *state;
	/* geth answers reverts with HTTP 200; some proxies use 500: both are faults */
	const long statuses[2] = {200, 500};
	for (int i = 0; i < 2; i++) {
		set_answer(s, statuses[i], "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
		                           "\"message\":\"nonce too low\"}}");
		struct tb_jsonrpc *c = client(tb_fakepeer_port(s), 0);
		struct tb_json *r = NULL;
		struct tb_jsonrpc_fault f;
		struct tb_error e = {0};
		assert_int_equal(tb_jsonrpc_call(c, "eth_sendRawTransaction", "[\"0x00\"]", &r, &f, &e),
		                 TB_EIO);
		assert_null(r);
		assert_int_equal(f.code, -32000);
		assert_string_equal(f.message, "nonce too low");
		assert_non_null(strstr(e.msg, "nonce too low"));
		tb_jsonrpc_free(c);
	}
}

static void test_unavailable(void **state)
{
	struct tb_fakepeer *s = *state;
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	/* refused */
	struct tb_jsonrpc *c = client(tb_fakepeer_dead_port(), 0);
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	assert_null(r);
	tb_jsonrpc_free(c);
	/* an HTML error page from a proxy */
	set_answer(s, 502, "<html>bad gateway</html>");
	c = client(tb_fakepeer_port(s), 0);
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	/* an answer to another request id is never taken as ours */
	set_answer(s, 200, "{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":\"0x1\"}");
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	assert_non_null(strstr(e.msg, "not a JSON-RPC 2.0 answer"));
	/* an error code no integer can hold (found by jsonrpc_fuzz) */
	set_answer(s, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-3e55,"
	                   "\"message\":\"x\"}}");
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	assert_non_null(strstr(e.msg, "integer code"));
	/* nor a 1.0 answer */
	set_answer(s, 200, "{\"id\":%ID%,\"result\":\"0x1\"}");
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	assert_null(r);
	tb_jsonrpc_free(c);
}

static void test_failover(void **state)
{
	struct tb_fakepeer *s = *state;
	set_answer(s, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x539\"}");
	struct tb_jsonrpc *c = client(tb_fakepeer_dead_port(), tb_fakepeer_port(s));
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), 0);
	assert_string_equal(tb_json_string(r), "0x539");
	tb_json_free(r);
	char want[64];
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/", tb_fakepeer_port(s));
	assert_string_equal(tb_jsonrpc_endpoint(c), want);
	tb_jsonrpc_free(c);
}

static void test_batch(void **state)
{
	struct tb_fakepeer *s = *state;
	/* answers out of order, one of them a fault; ids are the request's first id + k,
	 * and the client numbers from 1, so the first batch is ids 1..3 */
	set_answer(s, 200, "[{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"c\"},"
	                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\"},"
	                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,"
	                   "\"message\":\"method not found\"}}]");
	struct tb_jsonrpc *c = client(tb_fakepeer_port(s), 0);
	struct tb_jsonrpc_call calls[3] = {{.method = "a"}, {.method = "b"}, {.method = "c"}};
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_batch(c, calls, 3, &e), 0);
	assert_string_equal(tb_json_string(calls[0].result), "a");
	assert_true(calls[1].faulted);
	assert_int_equal(calls[1].fault.code, -32601);
	assert_string_equal(tb_json_string(calls[2].result), "c");
	tb_jsonrpc_calls_fini(calls, 3);
	assert_non_null(strstr(last_request(s), "[{"));
	/* a batch with a missing answer is not taken: ids now 4..6, answer has 4 only */
	set_answer(s, 200, "[{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":\"a\"}]");
	assert_int_equal(tb_jsonrpc_batch(c, calls, 3, &e), TB_EUNAVAIL);
	assert_null(calls[0].result);
	/* the bound */
	struct tb_jsonrpc_call *many = calloc(TB_JSONRPC_MAX_BATCH + 1, sizeof(*many));
	assert_int_equal(tb_jsonrpc_batch(c, many, TB_JSONRPC_MAX_BATCH + 1, &e), TB_ELIMIT);
	free(many);
	tb_jsonrpc_free(c);
}

static void test_quantity(void **state)
{
	(void)state;
	const char *bad[] = {"\"0x\"", "\"0x01\"", "\"12\"", "\"0x10000000000000000\"", "\"0xg\"",
	                     "12"};
	struct tb_error e = {0};
	uint64_t v;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tb_json *j = NULL;
		assert_int_equal(tb_json_parse(bad[i], strlen(bad[i]), NULL, &j, &e), 0);
		assert_int_equal(tb_jsonrpc_quantity(j, &v, &e), TB_EINVAL);
		tb_json_free(j);
	}
	struct tb_json *j = NULL;
	assert_int_equal(tb_json_parse("\"0xffffffffffffffff\"", 20, NULL, &j, &e), 0);
	assert_int_equal(tb_jsonrpc_quantity(j, &v, &e), 0);
	assert_true(v == UINT64_MAX);
	tb_json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test(test_quantity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
