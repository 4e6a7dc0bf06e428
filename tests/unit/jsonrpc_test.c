/* JSON-RPC client against a one-thread HTTP server run by the test on 127.0.0.1
 * (ephemeral port, bounded waits): results, error objects, batches matched by id in
 * any order, failover past a dead endpoint, and "no endpoint answered" being
 * TB_EUNAVAIL (never a result) for refused connections, HTML and wrong ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/jsonrpc.h"

#define REQ_MAX 65536

/* The server answers every request with answer, where "%ID%" becomes the first id
 * of the request, and keeps the last request body. */
struct server {
	int lfd, port;
	pthread_t th;
	atomic_int stop, requests;
	pthread_mutex_t mu;
	char answer[4096];
	long status;
	char last[REQ_MAX];
};

static long first_id(const char *body)
{
	const char *p = strstr(body, "\"id\":");
	return p ? strtol(p + 5, NULL, 10) : 0;
}

static void serve_one(struct server *s, int fd)
{
	char buf[REQ_MAX];
	size_t len = 0;
	char *end = NULL;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	for (int waits = 0; waits < 250 && !atomic_load(&s->stop); waits++) {
		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (r <= 0)
			return;
		len += (size_t)r;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
		const char *cl = strstr(buf, "Content-Length:");
		if (!cl)
			cl = strstr(buf, "content-length:");
		if (end && cl && len >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 15))
			break;
		if (len >= sizeof(buf) - 1)
			return;
	}
	if (!end)
		return;
	pthread_mutex_lock(&s->mu);
	snprintf(s->last, sizeof(s->last), "%s", end + 4);
	char body[8192], id[32];
	snprintf(id, sizeof(id), "%ld", first_id(end + 4));
	const char *a = s->answer, *m;
	size_t o = 0;
	while ((m = strstr(a, "%ID%")) && o < sizeof(body) - 64) {
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%.*s%s", (int)(m - a), a, id);
		a = m + 4;
	}
	snprintf(body + o, sizeof(body) - o, "%s", a);
	long status = s->status;
	pthread_mutex_unlock(&s->mu);
	char head[256];
	int hn = snprintf(head, sizeof(head),
	                  "HTTP/1.1 %ld X\r\nContent-Type: application/json\r\n"
	                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                  status, strlen(body));
	send(fd, head, (size_t)hn, MSG_NOSIGNAL);
	send(fd, body, strlen(body), MSG_NOSIGNAL);
	atomic_fetch_add(&s->requests, 1);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd p = {.fd = s->lfd, .events = POLLIN};
	for (int waits = 0; waits < 1500 && !atomic_load(&s->stop); waits++) { /* <= 30 s */
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

static int listen_port(int *fd_out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*fd_out = fd;
	return ntohs(a.sin_port);
}

static int setup(void **state)
{
	struct server *s = calloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->status = 200;
	s->port = listen_port(&s->lfd);
	pthread_create(&s->th, NULL, server_main, s);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct server *s = *state;
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return 0;
}

static void set_answer(struct server *s, long status, const char *a)
{
	pthread_mutex_lock(&s->mu);
	s->status = status;
	snprintf(s->answer, sizeof(s->answer), "%s", a);
	pthread_mutex_unlock(&s->mu);
}

/* A port nothing listens on: bound, then closed. */
static int dead_port(void)
{
	int fd;
	int port = listen_port(&fd);
	close(fd);
	return port;
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
	struct server *s = *state;
	set_answer(s, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x1a\"}");
	struct tb_jsonrpc *c = client(s->port, 0);
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_call(c, "eth_blockNumber", NULL, &r, NULL, &e), 0);
	uint64_t v;
	assert_int_equal(tb_jsonrpc_quantity(r, &v, &e), 0);
	assert_int_equal(v, 26);
	tb_json_free(r);
	/* the request is JSON-RPC 2.0 with our method and params */
	assert_non_null(strstr(s->last, "\"jsonrpc\":\"2.0\""));
	assert_non_null(strstr(s->last, "\"method\":\"eth_blockNumber\""));
	assert_non_null(strstr(s->last, "\"params\":[]"));
	/* params that are not an array are refused before sending */
	assert_int_equal(tb_jsonrpc_call(c, "x", "{}", &r, NULL, &e), TB_EINVAL);
	tb_jsonrpc_free(c);
}

static void test_fault(void **state)
{
	struct server *s = *state;
	/* geth answers reverts with HTTP 200; some proxies use 500: both are faults */
	const long statuses[2] = {200, 500};
	for (int i = 0; i < 2; i++) {
		set_answer(s, statuses[i], "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"error\":{\"code\":-32000,"
		                           "\"message\":\"nonce too low\"}}");
		struct tb_jsonrpc *c = client(s->port, 0);
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
	struct server *s = *state;
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	/* refused */
	struct tb_jsonrpc *c = client(dead_port(), 0);
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	assert_null(r);
	tb_jsonrpc_free(c);
	/* an HTML error page from a proxy */
	set_answer(s, 502, "<html>bad gateway</html>");
	c = client(s->port, 0);
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
	struct server *s = *state;
	set_answer(s, 200, "{\"jsonrpc\":\"2.0\",\"id\":%ID%,\"result\":\"0x539\"}");
	struct tb_jsonrpc *c = client(dead_port(), s->port);
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), 0);
	assert_string_equal(tb_json_string(r), "0x539");
	tb_json_free(r);
	char want[64];
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/", s->port);
	assert_string_equal(tb_jsonrpc_endpoint(c), want);
	tb_jsonrpc_free(c);
}

static void test_batch(void **state)
{
	struct server *s = *state;
	/* answers out of order, one of them a fault; ids are the request's first id + k,
	 * and the client numbers from 1, so the first batch is ids 1..3 */
	set_answer(s, 200, "[{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"c\"},"
	                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\"},"
	                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,"
	                   "\"message\":\"method not found\"}}]");
	struct tb_jsonrpc *c = client(s->port, 0);
	struct tb_jsonrpc_call calls[3] = {{.method = "a"}, {.method = "b"}, {.method = "c"}};
	struct tb_error e = {0};
	assert_int_equal(tb_jsonrpc_batch(c, calls, 3, &e), 0);
	assert_string_equal(tb_json_string(calls[0].result), "a");
	assert_true(calls[1].faulted);
	assert_int_equal(calls[1].fault.code, -32601);
	assert_string_equal(tb_json_string(calls[2].result), "c");
	tb_jsonrpc_calls_fini(calls, 3);
	assert_non_null(strstr(s->last, "[{"));
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
