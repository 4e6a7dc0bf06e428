/* HTTP client against the scripted fake peer (tests/unit/fakepeer.h) on 127.0.0.1:
 * connection reuse, body limits at and past the bound, timeouts, retries only for
 * idempotent requests, and the difference between "could not reach" and
 * "answered with an error status". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakepeer.h"
#include "lib/http.h"

static const struct tb_fake_rule ok_rule[] = {{.body = "{\"ok\":true}"}};
/* busy twice, then fine */
static const struct tb_fake_rule flaky[] = {{.status = 503, .body = "busy", .times = 2},
                                            {.body = "{\"ok\":true}"}};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct tb_http *client(const struct tb_http_options *o)
{
	struct tb_http *h;
	struct tb_error err;
	if (tb_http_new(&h, o, &err) != 0)
		fail_msg("tb_http_new: %s", err.msg);
	return h;
}

static void get_ok(void **state)
{
	struct tb_fakepeer *s = tb_fakepeer_start(ok_rule, 1);
	struct tb_http *h = client(NULL);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/status"));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 1);
	assert_string_equal((char *)r.body.data, "{\"ok\":true}");
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void keep_alive_reuses_connection(void **state)
{
	struct tb_fakepeer *s = tb_fakepeer_start(ok_rule, 1);
	struct tb_http *h = client(NULL);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/"));
	tb_http_response_init(&r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tb_http_post_json(h, url, "{}", 2, 0, &r, &err), 0);
		assert_int_equal(r.status, 200);
	}
	assert_int_equal(tb_fakepeer_requests(s), 3);
	assert_int_equal(tb_fakepeer_accepted(s), 1);
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void post_json_sends_body_and_type(void **state)
{
	static const char rpc[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}";
	static const struct tb_fake_rule echo[] = {{.action = TB_FAKE_ECHO}};
	struct tb_fakepeer *s = tb_fakepeer_start(echo, 1);
	struct tb_http *h = client(NULL);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/"));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_post_json(h, url, rpc, strlen(rpc), 1, &r, &err), 0);
	assert_string_equal((char *)r.body.data, rpc);
	char ctype[128], *seen = tb_fakepeer_body(s, -1);
	tb_fakepeer_header(s, -1, "Content-Type", ctype, sizeof(ctype));
	assert_string_equal(ctype, "application/json");
	assert_string_equal(seen, rpc);
	free(seen);
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void body_limit(void **state)
{
	struct tb_http_options o = {.max_response = 1000};
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	for (int chunked = 0; chunked <= 1; chunked++) {
		const struct tb_fake_rule big[] = {
			{.path = "/1000", .fill = 1000, .chunked = chunked},
			{.path = "/1001", .fill = 1001, .chunked = chunked},
		};
		struct tb_fakepeer *s = tb_fakepeer_start(big, 2);
		struct tb_http *h = client(&o);
		tb_http_response_init(&r);
		/* exactly at the limit: accepted */
		assert_int_equal(tb_http_get(h, tb_fakepeer_url(s, "/1000"), &r, &err), 0);
		assert_int_equal(r.body.len, 1000);
		snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/1001"));
		assert_int_equal(tb_http_get(h, url, &r, &err), TB_ELIMIT);
		assert_non_null(strstr(err.msg, url));
		assert_non_null(strstr(err.msg, "limit of 1000 bytes"));
		assert_int_equal(r.attempts, 1); /* a limit is not worth retrying */
		assert_true(r.body.len <= 1000);
		tb_http_response_fini(&r);
		tb_http_free(h);
		tb_fakepeer_stop(s);
	}
}

static void stall_times_out(void **state)
{
	struct tb_http_options o = {.timeout_ms = 300, .max_attempts = 2, .backoff_base_ms = 10};
	static const struct tb_fake_rule stall[] = {{.action = TB_FAKE_STALL}};
	struct tb_fakepeer *s = tb_fakepeer_start(stall, 1);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/"));
	tb_http_response_init(&r);
	long t0 = now_ms();
	assert_int_equal(tb_http_post_json(h, url, "{}", 2, 0, &r, &err), TB_EUNAVAIL);
	long took = now_ms() - t0;
	assert_true(took >= 250 && took < 3000);
	assert_non_null(strstr(err.msg, "timed out"));
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.status, 0);
	/* the same call made idempotent is tried max_attempts times */
	assert_int_equal(tb_http_post_json(h, url, "{}", 2, 1, &r, &err), TB_EUNAVAIL);
	assert_int_equal(r.attempts, 2);
	assert_non_null(strstr(err.msg, "after 2 attempts"));
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void retries_idempotent_until_success(void **state)
{
	char *logtext = NULL;
	size_t loglen = 0;
	FILE *lf = open_memstream(&logtext, &loglen);
	struct tb_log log;
	tb_log_init(&log, lf, "http", TB_LOG_INFO, TB_LOG_JSON);
	struct tb_http_options o = {.backoff_base_ms = 20, .backoff_max_ms = 40, .log = &log};
	struct tb_fakepeer *s = tb_fakepeer_start(flaky, 2);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/"));
	tb_http_response_init(&r);
	long t0 = now_ms();
	assert_int_equal(tb_http_get(h, url, &r, &err), 0);
	/* two delays: 10..20 ms then 20..40 ms (equal jitter) */
	assert_true(now_ms() - t0 >= 30);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(tb_fakepeer_requests(s), 3);
	fflush(lf);
	assert_non_null(strstr(logtext, "retrying"));
	assert_non_null(strstr(logtext, "\"attempt\":2"));
	fclose(lf);
	free(logtext);
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void non_idempotent_not_retried(void **state)
{
	struct tb_http_options o = {.backoff_base_ms = 10};
	struct tb_fakepeer *s = tb_fakepeer_start(flaky, 2);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/"));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_post_json(h, url, "{}", 2, 0, &r, &err), TB_EIO);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.attempts, 1);
	assert_string_equal((char *)r.body.data, "busy");
	assert_non_null(strstr(err.msg, "HTTP 503"));
	assert_int_equal(tb_fakepeer_requests(s), 1);
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void client_error_status_not_retried(void **state)
{
	struct tb_http_options o = {.backoff_base_ms = 10};
	static const struct tb_fake_rule nope[] = {{.path = "/v1?apikey=S3CRET", .status = 404,
	                                            .body = "nope"}};
	struct tb_fakepeer *s = tb_fakepeer_start(nope, 1);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[128];
	/* credentials and query must not leak into the message */
	snprintf(url, sizeof(url), "http://user:pa55word@127.0.0.1:%d/v1?apikey=S3CRET", tb_fakepeer_port(s));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), TB_EIO);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.attempts, 1);
	assert_null(strstr(err.msg, "pa55word"));
	assert_null(strstr(err.msg, "S3CRET"));
	char shown[64];
	snprintf(shown, sizeof(shown), "GET http://127.0.0.1:%d/v1: peer answered HTTP 404", tb_fakepeer_port(s));
	assert_non_null(strstr(err.msg, shown));
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void closed_connection_is_unavailable(void **state)
{
	struct tb_http_options o = {.backoff_base_ms = 10};
	static const struct tb_fake_rule hangup[] = {{.action = TB_FAKE_CLOSE}};
	struct tb_fakepeer *s = tb_fakepeer_start(hangup, 1);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(s, "/"));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), TB_EUNAVAIL);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(tb_fakepeer_accepted(s), 3);
	assert_non_null(strstr(err.msg, "could not reach"));
	tb_http_response_fini(&r);
	tb_http_free(h);
	tb_fakepeer_stop(s);
}

static void nothing_listening_is_unavailable(void **state)
{
	struct tb_http_options o = {.max_attempts = 1};
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	/* bound but never listened on, now free: connections are refused */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", tb_fakepeer_dead_port());
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), TB_EUNAVAIL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(err.msg, "could not reach"));
	tb_http_response_fini(&r);
	tb_http_free(h);
}

static void bad_options_and_requests(void **state)
{
	struct tb_http *h;
	struct tb_error err;
	struct tb_http_options o = {.max_attempts = TB_HTTP_MAX_ATTEMPTS + 1};
	assert_int_equal(tb_http_new(&h, &o, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "max_attempts 11"));
	assert_null(h);
	struct tb_http_options o2 = {.ca_file = "/nonexistent/ca.pem"};
	assert_int_equal(tb_http_new(&h, &o2, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));

	h = client(NULL);
	struct tb_http_response r;
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, "file:///etc/passwd", &r, &err), TB_EINVAL);
	assert_int_equal(r.attempts, 0);
	const char *inject[] = {"X-A: 1\r\nX-B: 2", NULL};
	struct tb_http_request req = {.url = "http://127.0.0.1:1/", .headers = inject};
	assert_int_equal(tb_http_send(h, &req, &r, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "header 1"));
	tb_http_response_fini(&r);
	tb_http_free(h);
}

static void insecure_is_logged(void **state)
{
	char *logtext = NULL;
	size_t loglen = 0;
	FILE *lf = open_memstream(&logtext, &loglen);
	struct tb_log log;
	tb_log_init(&log, lf, "http", TB_LOG_WARN, TB_LOG_JSON);
	struct tb_http_options o = {.insecure = 1, .log = &log};
	struct tb_http *h = client(&o);
	fflush(lf);
	assert_non_null(strstr(logtext, "\"level\":\"warn\""));
	assert_non_null(strstr(logtext, "TLS verification is OFF"));
	tb_http_free(h);
	fclose(lf);
	free(logtext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_ok),
		cmocka_unit_test(keep_alive_reuses_connection),
		cmocka_unit_test(post_json_sends_body_and_type),
		cmocka_unit_test(body_limit),
		cmocka_unit_test(stall_times_out),
		cmocka_unit_test(retries_idempotent_until_success),
		cmocka_unit_test(non_idempotent_not_retried),
		cmocka_unit_test(client_error_status_not_retried),
		cmocka_unit_test(closed_connection_is_unavailable),
		cmocka_unit_test(nothing_listening_is_unavailable),
		cmocka_unit_test(bad_options_and_requests),
		cmocka_unit_test(insecure_is_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
