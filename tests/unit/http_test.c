/* HTTP client against a small HTTP/1.1 server run by the test itself on 127.0.0.1
 * (ephemeral port, one thread, every wait bounded): connection reuse, body limits at
 * and past the bound, timeouts, retries only for idempotent requests, and the
 * difference between "could not reach" and "answered with an error status". */
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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/http.h"

#define SERVER_LIFETIME_MS 15000 /* the server thread ends by itself after this */
#define POLL_MS 20
#define REQ_MAX 16384

enum mode { M_OK, M_ECHO, M_BODY, M_STALL, M_FLAKY, M_CLOSE, M_404 };

struct server {
	int lfd, port;
	pthread_t th;
	enum mode mode;
	_Atomic size_t body_size; /* M_BODY */
	atomic_int chunked; /* M_BODY: no Content-Length, so only the sink can stop it */
	atomic_int stop, accepted, requests;
	pthread_mutex_t mu; /* guards the captured request below */
	char ctype[128];
	char body[512];
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Wait until fd is readable; 0 = readable, -1 = stop or lifetime over. */
static int wait_readable(struct server *s, int fd, long deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (!atomic_load(&s->stop) && now_ms() < deadline)
		if (poll(&p, 1, POLL_MS) > 0)
			return 0;
	return -1;
}

static size_t header_value(const char *req, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(req, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
			const char *v = p + 3 + nl, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return n;
		}
	}
	out[0] = 0;
	return 0;
}

/* Read one request (headers and Content-Length body). 0 = got one, -1 = EOF/stop. */
static int read_request(struct server *s, int fd, char *buf, size_t *body_off, size_t *body_len,
                        long deadline)
{
	size_t len = 0;
	char *end = NULL, cl[32];
	while (!end) {
		if (len >= REQ_MAX - 1 || wait_readable(s, fd, deadline) != 0)
			return -1;
		ssize_t r = recv(fd, buf + len, REQ_MAX - 1 - len, 0);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	*body_off = (size_t)(end + 4 - buf);
	header_value(buf, "Content-Length", cl, sizeof(cl));
	*body_len = (size_t)strtoul(cl, NULL, 10);
	if (*body_off + *body_len >= REQ_MAX)
		return -1;
	while (len < *body_off + *body_len) {
		if (wait_readable(s, fd, deadline) != 0)
			return -1;
		ssize_t r = recv(fd, buf + len, REQ_MAX - 1 - len, 0);
		if (r <= 0)
			return -1;
		len += (size_t)r;
	}
	buf[*body_off + *body_len] = 0;
	return 0;
}

static int respond(int fd, int status, const char *reason, const char *body, size_t n)
{
	char head[256];
	snprintf(head, sizeof(head),
	         "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	         status, reason, n);
	if (send_all(fd, head, strlen(head)) != 0)
		return -1;
	return send_all(fd, body, n);
}

static int respond_body(struct server *s, int fd)
{
	char *body = malloc(s->body_size + 1);
	int rc = 0;
	if (!body)
		return -1;
	memset(body, 'a', s->body_size);
	if (!s->chunked) {
		rc = respond(fd, 200, "OK", body, s->body_size);
	} else {
		const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
		char sz[32];
		rc = send_all(fd, head, strlen(head));
		for (size_t off = 0; rc == 0 && off < s->body_size; off += 100) {
			size_t n = s->body_size - off < 100 ? s->body_size - off : 100;
			snprintf(sz, sizeof(sz), "%zx\r\n", n);
			rc = send_all(fd, sz, strlen(sz)) || send_all(fd, body + off, n) ||
			     send_all(fd, "\r\n", 2);
		}
		if (rc == 0)
			rc = send_all(fd, "0\r\n\r\n", 5);
	}
	free(body);
	return rc;
}

/* Answer one request according to the mode; -1 closes the connection. */
static int answer(struct server *s, int fd, const char *req, const char *body, size_t blen,
                  long deadline)
{
	int n = atomic_fetch_add(&s->requests, 1) + 1;
	static const char ok[] = "{\"ok\":true}";
	pthread_mutex_lock(&s->mu);
	header_value(req, "Content-Type", s->ctype, sizeof(s->ctype));
	snprintf(s->body, sizeof(s->body), "%s", body);
	pthread_mutex_unlock(&s->mu);
	switch (s->mode) {
	case M_OK:
		return respond(fd, 200, "OK", ok, sizeof(ok) - 1);
	case M_ECHO:
		return respond(fd, 200, "OK", body, blen);
	case M_BODY:
		return respond_body(s, fd);
	case M_FLAKY:
		if (n <= 2)
			return respond(fd, 503, "Service Unavailable", "busy", 4);
		return respond(fd, 200, "OK", ok, sizeof(ok) - 1);
	case M_404:
		return respond(fd, 404, "Not Found", "nope", 4);
	case M_STALL: {
		/* never answer: hold the connection until the client gives up */
		char c;
		while (wait_readable(s, fd, deadline) == 0)
			if (recv(fd, &c, 1, 0) <= 0)
				break;
		return -1;
	}
	case M_CLOSE:
	default:
		return -1;
	}
}

static void serve_connection(struct server *s, int fd, long deadline)
{
	char *buf = malloc(REQ_MAX);
	size_t off, blen;
	if (!buf)
		return;
	while (read_request(s, fd, buf, &off, &blen, deadline) == 0)
		if (answer(s, fd, buf, buf + off, blen, deadline) != 0)
			break;
	free(buf);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	long deadline = now_ms() + SERVER_LIFETIME_MS;
	while (wait_readable(s, s->lfd, deadline) == 0) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&s->accepted, 1);
		serve_connection(s, fd, deadline);
		close(fd);
	}
	return NULL;
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct server *server_start(enum mode mode)
{
	struct server *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->mode = mode;
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = listen_loopback(&s->port);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void url_of(const struct server *s, const char *path, char *out, size_t cap)
{
	snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
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
	struct server *s = server_start(M_OK);
	struct tb_http *h = client(NULL);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/status", url, sizeof(url));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 1);
	assert_string_equal((char *)r.body.data, "{\"ok\":true}");
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void keep_alive_reuses_connection(void **state)
{
	struct server *s = server_start(M_OK);
	struct tb_http *h = client(NULL);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/", url, sizeof(url));
	tb_http_response_init(&r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tb_http_post_json(h, url, "{}", 2, 0, &r, &err), 0);
		assert_int_equal(r.status, 200);
	}
	assert_int_equal(atomic_load(&s->requests), 3);
	assert_int_equal(atomic_load(&s->accepted), 1);
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void post_json_sends_body_and_type(void **state)
{
	static const char rpc[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}";
	struct server *s = server_start(M_ECHO);
	struct tb_http *h = client(NULL);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/", url, sizeof(url));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_post_json(h, url, rpc, strlen(rpc), 1, &r, &err), 0);
	assert_string_equal((char *)r.body.data, rpc);
	pthread_mutex_lock(&s->mu);
	assert_string_equal(s->ctype, "application/json");
	assert_string_equal(s->body, rpc);
	pthread_mutex_unlock(&s->mu);
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void body_limit(void **state)
{
	struct tb_http_options o = {.max_response = 1000};
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	for (int chunked = 0; chunked <= 1; chunked++) {
		struct server *s = server_start(M_BODY);
		struct tb_http *h = client(&o);
		s->chunked = chunked;
		url_of(s, "/big", url, sizeof(url));
		tb_http_response_init(&r);
		s->body_size = 1000; /* exactly at the limit: accepted */
		assert_int_equal(tb_http_get(h, url, &r, &err), 0);
		assert_int_equal(r.body.len, 1000);
		s->body_size = 1001;
		assert_int_equal(tb_http_get(h, url, &r, &err), TB_ELIMIT);
		assert_non_null(strstr(err.msg, url));
		assert_non_null(strstr(err.msg, "limit of 1000 bytes"));
		assert_int_equal(r.attempts, 1); /* a limit is not worth retrying */
		assert_true(r.body.len <= 1000);
		tb_http_response_fini(&r);
		tb_http_free(h);
		server_stop(s);
	}
}

static void stall_times_out(void **state)
{
	struct tb_http_options o = {.timeout_ms = 300, .max_attempts = 2, .backoff_base_ms = 10};
	struct server *s = server_start(M_STALL);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/", url, sizeof(url));
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
	server_stop(s);
}

static void retries_idempotent_until_success(void **state)
{
	char *logtext = NULL;
	size_t loglen = 0;
	FILE *lf = open_memstream(&logtext, &loglen);
	struct tb_log log;
	tb_log_init(&log, lf, "http", TB_LOG_INFO, TB_LOG_JSON);
	struct tb_http_options o = {.backoff_base_ms = 20, .backoff_max_ms = 40, .log = &log};
	struct server *s = server_start(M_FLAKY);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/", url, sizeof(url));
	tb_http_response_init(&r);
	long t0 = now_ms();
	assert_int_equal(tb_http_get(h, url, &r, &err), 0);
	/* two delays: 10..20 ms then 20..40 ms (equal jitter) */
	assert_true(now_ms() - t0 >= 30);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(atomic_load(&s->requests), 3);
	fflush(lf);
	assert_non_null(strstr(logtext, "retrying"));
	assert_non_null(strstr(logtext, "\"attempt\":2"));
	fclose(lf);
	free(logtext);
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void non_idempotent_not_retried(void **state)
{
	struct tb_http_options o = {.backoff_base_ms = 10};
	struct server *s = server_start(M_FLAKY);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/", url, sizeof(url));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_post_json(h, url, "{}", 2, 0, &r, &err), TB_EIO);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.attempts, 1);
	assert_string_equal((char *)r.body.data, "busy");
	assert_non_null(strstr(err.msg, "HTTP 503"));
	assert_int_equal(atomic_load(&s->requests), 1);
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void client_error_status_not_retried(void **state)
{
	struct tb_http_options o = {.backoff_base_ms = 10};
	struct server *s = server_start(M_404);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[128];
	/* credentials and query must not leak into the message */
	snprintf(url, sizeof(url), "http://user:pa55word@127.0.0.1:%d/v1?apikey=S3CRET", s->port);
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), TB_EIO);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.attempts, 1);
	assert_null(strstr(err.msg, "pa55word"));
	assert_null(strstr(err.msg, "S3CRET"));
	char shown[64];
	snprintf(shown, sizeof(shown), "GET http://127.0.0.1:%d/v1: peer answered HTTP 404", s->port);
	assert_non_null(strstr(err.msg, shown));
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void closed_connection_is_unavailable(void **state)
{
	struct tb_http_options o = {.backoff_base_ms = 10};
	struct server *s = server_start(M_CLOSE);
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	url_of(s, "/", url, sizeof(url));
	tb_http_response_init(&r);
	assert_int_equal(tb_http_get(h, url, &r, &err), TB_EUNAVAIL);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(atomic_load(&s->accepted), 3);
	assert_non_null(strstr(err.msg, "could not reach"));
	tb_http_response_fini(&r);
	tb_http_free(h);
	server_stop(s);
}

static void nothing_listening_is_unavailable(void **state)
{
	struct tb_http_options o = {.max_attempts = 1};
	struct tb_http *h = client(&o);
	struct tb_http_response r;
	struct tb_error err;
	char url[64];
	int port, fd = listen_loopback(&port);
	close(fd); /* bound but never listened on, now free: connections are refused */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
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
