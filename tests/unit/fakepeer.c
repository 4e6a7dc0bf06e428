/* See fakepeer.h. One thread polls the listening socket and up to FP_CONNS
 * connections, so a client holding an idle keep-alive connection never blocks
 * another; every request is read whole (bounded) before a rule is chosen. */
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

#include "fakepeer.h"
#include "lib/http.h"
#include "lib/json.h"
#include "runcli.h"

#define FP_CONNS 16
#define FP_REQ_MAX ((size_t)1 << 20)
#define FP_POLL_MS 20
#define TB_FAKE_LIFETIME_MS 60000L

struct fp_conn {
	int fd;
	int stalled;
	size_t len;
	char *buf; /* FP_REQ_MAX + 1 */
};

struct fp_log {
	char *head, *body, *rpcs; /* rpcs: "\n"-separated JSON-RPC methods */
};

struct tb_fakepeer {
	int lfd, port;
	pthread_t th;
	long lifetime_ms;
	atomic_int stop, accepted, requests;
	pthread_mutex_t mu; /* guards the script and the log */
	struct tb_fake_rule rules[TB_FAKE_MAX_RULES];
	int used[TB_FAKE_MAX_RULES];
	size_t nrules;
	struct fp_log log[TB_FAKE_LOG];
	int logged; /* total ever logged; the slot is logged % TB_FAKE_LOG */
	struct fp_conn conns[FP_CONNS];
	struct tb_http *up; /* for TB_FAKE_FORWARD, made on first use */
	char url[512];
};

/* A parsed request. */
struct fp_req {
	char method[16], path[256];
	const char *head, *body;
	size_t head_len, body_len;
	struct tb_json *json; /* NULL when the body is not JSON */
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

static size_t header_in(const char *head, size_t hlen, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *end = head + hlen;
	out[0] = 0;
	for (const char *p = memchr(head, '\n', hlen); p && p + 1 < end;
	     p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		const char *l = p + 1;
		if ((size_t)(end - l) > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1, *e = v;
			while (v < end && *v == ' ')
				v++;
			for (e = v; e < end && *e != '\r' && *e != '\n'; e++)
				;
			size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return n;
		}
	}
	return 0;
}

/* ---- choosing a rule ---- */

static const struct tb_json *call_of(const struct fp_req *q, size_t i)
{
	if (!q->json)
		return NULL;
	return q->json->type == TB_JSON_ARRAY ? tb_json_at(q->json, i) : (i ? NULL : q->json);
}

static int rule_matches(const struct tb_fake_rule *r, const struct fp_req *q,
			const struct tb_json *call)
{
	if (r->path && strcmp(r->path, q->path) != 0)
		return 0;
	const char *m = tb_json_string(tb_json_get(call, "method"));
	if (r->rpc && (!m || strcmp(r->rpc, m) != 0))
		return 0;
	const char *p0 = tb_json_string(tb_json_at(tb_json_get(call, "params"), 0));
	if (r->param0 && (!p0 || strcmp(r->param0, p0) != 0))
		return 0;
	return 1;
}

/* The rule for this call (copied out under the lock); 0 found, -1 none. */
static int pick(struct tb_fakepeer *fp, const struct fp_req *q, const struct tb_json *call,
		struct tb_fake_rule *out)
{
	int found = -1;
	pthread_mutex_lock(&fp->mu);
	for (size_t i = 0; i < fp->nrules && found < 0; i++) {
		const struct tb_fake_rule *r = &fp->rules[i];
		if ((r->times && fp->used[i] >= r->times) || !rule_matches(r, q, call))
			continue;
		fp->used[i]++;
		*out = *r;
		found = 0;
	}
	pthread_mutex_unlock(&fp->mu);
	return found;
}

/* ---- answering ---- */

static const char *reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static int respond(int fd, const struct tb_fake_rule *r, const char *body, size_t n)
{
	struct tb_buf h;
	int status = r->status ? r->status : 200, rc;
	tb_buf_init(&h, 0);
	tb_buf_printf(&h, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s%s", status,
		      reason_of(status), r->headers ? r->headers : "",
		      r->close ? "Connection: close\r\n" : "");
	if (r->chunked)
		tb_buf_puts(&h, "Transfer-Encoding: chunked\r\n\r\n");
	else
		tb_buf_printf(&h, "Content-Length: %zu\r\n\r\n", n);
	rc = send_all(fd, (const char *)h.data, h.len);
	tb_buf_fini(&h);
	if (rc != 0 || !r->chunked)
		return rc ? rc : send_all(fd, body, n);
	for (size_t off = 0; off < n; off += 100) {
		char sz[32];
		size_t k = n - off < 100 ? n - off : 100;
		snprintf(sz, sizeof(sz), "%zx\r\n", k);
		if (send_all(fd, sz, strlen(sz)) || send_all(fd, body + off, k) ||
		    send_all(fd, "\r\n", 2))
			return -1;
	}
	return send_all(fd, "0\r\n\r\n", 5);
}

static void id_text(const struct tb_json *call, struct tb_buf *out)
{
	const struct tb_json *id = tb_json_get(call, "id");
	if (!id || tb_json_write_stringify(id, out, NULL) != 0)
		tb_buf_puts(out, "null");
}

/* One JSON-RPC answer object for call by rule r (NULL: no rule matched). */
static void rpc_answer(const struct tb_fake_rule *r, const struct tb_json *call, struct tb_buf *out)
{
	tb_buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	id_text(call, out);
	if (r && r->result) {
		tb_buf_printf(out, ",\"result\":%s}", r->result);
	} else if (r && r->error) {
		tb_buf_printf(out, ",\"error\":%s}", r->error);
	} else {
		const char *m = tb_json_string(tb_json_get(call, "method"));
		tb_buf_puts(out,
			    ",\"error\":{\"code\":-32601,\"message\":\"fakepeer: no rule for ");
		tb_json_write_string(out, m ? m : "?", m ? strlen(m) : 1);
		tb_buf_puts(out, "\"}}");
	}
}

/* The body for a rule that answers: raw (with %ID%), filled, or JSON-RPC. */
static void body_of(struct tb_fakepeer *fp, const struct tb_fake_rule *r, const struct fp_req *q,
		    struct tb_buf *out)
{
	if (r->body) {
		struct tb_buf id;
		tb_buf_init(&id, 0);
		id_text(call_of(q, 0), &id);
		tb_buf_putc(&id, 0);
		for (const char *a = r->body, *m; *a; a = m + 4) {
			if (!(m = strstr(a, "%ID%"))) {
				tb_buf_puts(out, a);
				break;
			}
			tb_buf_append(out, a, (size_t)(m - a));
			tb_buf_puts(out, (const char *)id.data);
		}
		tb_buf_fini(&id);
	} else if (r->result || r->error) {
		if (q->json && q->json->type == TB_JSON_ARRAY) {
			tb_buf_putc(out, '[');
			for (size_t i = 0; i < tb_json_len(q->json); i++) {
				struct tb_fake_rule ri;
				const struct tb_json *c = tb_json_at(q->json, i);
				if (i)
					tb_buf_putc(out, ',');
				int ok = i == 0 ? 0 : pick(fp, q, c, &ri);
				rpc_answer(i == 0 ? r : ok == 0 ? &ri : NULL, c, out);
			}
			tb_buf_putc(out, ']');
		} else {
			rpc_answer(r, q->json, out);
		}
	} else {
		for (size_t i = 0; i < r->fill; i++)
			tb_buf_putc(out, 'a');
	}
}

static int forward(struct tb_fakepeer *fp, const struct tb_fake_rule *r, const struct fp_req *q,
		   int fd)
{
	struct tb_http_options ho = {.max_attempts = 1};
	struct tb_http_response resp;
	int rc = -1;
	if (!fp->up && tb_http_new(&fp->up, &ho, NULL) != 0)
		return -1;
	tb_http_response_init(&resp);
	struct tb_buf body;
	tb_buf_init(&body, 0);
	tb_buf_append(&body, q->body, q->body_len);
	tb_buf_putc(&body, 0);
	if (tb_http_post_json(fp->up, r->upstream, q->body, q->body_len, 1, &resp, NULL) == 0) {
		if (r->edit) { /* the answer as a C string for the edit */
			tb_buf_putc(&resp.body, 0);
			resp.body.len--;
			r->edit(r->ctx, (const char *)body.data, &resp.body);
		}
		struct tb_fake_rule plain = {.close = r->close};
		rc = respond(fd, &plain, (const char *)resp.body.data, resp.body.len);
	}
	tb_buf_fini(&body);
	tb_http_response_fini(&resp);
	return rc;
}

static void pause_ms(struct tb_fakepeer *fp, int ms)
{
	for (long end = now_ms() + ms; now_ms() < end && !atomic_load(&fp->stop);)
		usleep(5000);
}

static void log_request(struct tb_fakepeer *fp, const struct fp_req *q)
{
	struct fp_log *l;
	struct tb_buf rpcs;
	tb_buf_init(&rpcs, 0);
	for (size_t i = 0; call_of(q, i); i++) {
		const char *m = tb_json_string(tb_json_get(call_of(q, i), "method"));
		tb_buf_printf(&rpcs, "\n%s", m ? m : "");
	}
	tb_buf_putc(&rpcs, '\n');
	pthread_mutex_lock(&fp->mu);
	l = &fp->log[fp->logged % TB_FAKE_LOG];
	free(l->head);
	free(l->body);
	free(l->rpcs);
	l->head = strndup(q->head, q->head_len);
	l->body = strndup(q->body, q->body_len);
	l->rpcs = (char *)tb_buf_steal(&rpcs, NULL);
	fp->logged++;
	pthread_mutex_unlock(&fp->mu);
	tb_buf_fini(&rpcs);
	atomic_fetch_add(&fp->requests, 1);
}

/* Answer one request; -1 closes the connection, 1 stalls it. */
static int handle(struct tb_fakepeer *fp, struct fp_req *q, int fd)
{
	struct tb_fake_rule r;
	int rc = 0;
	if (q->body_len)
		tb_json_parse(q->body, q->body_len, NULL, &q->json, NULL);
	log_request(fp, q);
	if (pick(fp, q, call_of(q, 0), &r) != 0) {
		struct tb_fake_rule none = {.status = q->json ? 200 : 404};
		struct tb_buf b;
		tb_buf_init(&b, 0);
		if (q->json)
			rpc_answer(NULL, call_of(q, 0), &b);
		else
			tb_buf_printf(&b, "fakepeer: no rule for %s %s", q->method, q->path);
		rc = respond(fd, &none, (const char *)b.data, b.len);
		tb_buf_fini(&b);
		return rc;
	}
	if (r.delay_ms)
		pause_ms(fp, r.delay_ms);
	switch (r.action) {
	case TB_FAKE_CLOSE: return -1;
	case TB_FAKE_STALL: return 1;
	case TB_FAKE_ECHO: rc = respond(fd, &r, q->body, q->body_len); break;
	case TB_FAKE_FORWARD: rc = forward(fp, &r, q, fd); break;
	case TB_FAKE_ANSWER: {
		struct tb_buf b;
		tb_buf_init(&b, 0);
		body_of(fp, &r, q, &b);
		rc = respond(fd, &r, b.len ? (const char *)b.data : "", b.len);
		tb_buf_fini(&b);
		break;
	}
	}
	return rc != 0 || r.close ? -1 : 0;
}

/* ---- the connection loop ---- */

/* Bytes of the first whole request in c->buf, 0 if not whole yet, -1 if bad. */
static long whole_request(struct fp_conn *c, struct fp_req *q)
{
	char *end = c->len ? strstr(c->buf, "\r\n\r\n") : NULL, cl[32];
	if (!end)
		return c->len >= FP_REQ_MAX ? -1 : 0;
	memset(q, 0, sizeof(*q));
	q->head = c->buf;
	q->head_len = (size_t)(end + 2 - c->buf);
	header_in(q->head, q->head_len, "Content-Length", cl, sizeof(cl));
	q->body = end + 4;
	q->body_len = (size_t)strtoul(cl, NULL, 10);
	size_t total = q->head_len + 2 + q->body_len;
	if (total > FP_REQ_MAX)
		return -1;
	if (c->len < total)
		return 0;
	if (sscanf(c->buf, "%15s %255s", q->method, q->path) != 2)
		return -1;
	return (long)total;
}

static void conn_close(struct fp_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->stalled = 0;
}

static void conn_read(struct tb_fakepeer *fp, struct fp_conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, FP_REQ_MAX - c->len, 0);
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->stalled) /* a stalled connection swallows what it gets */
		return;
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	struct fp_req q;
	long used;
	while (c->fd >= 0 && !c->stalled && (used = whole_request(c, &q)) != 0) {
		if (used < 0) {
			conn_close(c);
			return;
		}
		char saved = c->buf[used];
		c->buf[used] = 0; /* the body as a C string for the rule's edit */
		int rc = handle(fp, &q, c->fd);
		c->buf[used] = saved;
		tb_json_free(q.json);
		memmove(c->buf, c->buf + used, c->len - (size_t)used + 1);
		c->len -= (size_t)used;
		if (rc < 0)
			conn_close(c);
		else if (rc > 0)
			c->stalled = 1;
	}
}

static void conn_accept(struct tb_fakepeer *fp)
{
	int fd = accept(fp->lfd, NULL, NULL);
	struct timeval tv = {.tv_sec = 5};
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < FP_CONNS; i++)
		if (fp->conns[i].fd < 0) {
			fp->conns[i].fd = fd;
			atomic_fetch_add(&fp->accepted, 1);
			return;
		}
	close(fd); /* full: the client sees the connection drop */
}

static void *peer_main(void *arg)
{
	struct tb_fakepeer *fp = arg;
	long deadline = now_ms() + fp->lifetime_ms;
	while (!atomic_load(&fp->stop) && now_ms() < deadline) {
		struct pollfd p[FP_CONNS + 1];
		int map[FP_CONNS + 1], n = 1;
		p[0] = (struct pollfd){.fd = fp->lfd, .events = POLLIN};
		for (int i = 0; i < FP_CONNS; i++)
			if (fp->conns[i].fd >= 0) {
				p[n] = (struct pollfd){.fd = fp->conns[i].fd, .events = POLLIN};
				map[n++] = i;
			}
		if (poll(p, (nfds_t)n, FP_POLL_MS) <= 0)
			continue;
		for (int k = 1; k < n; k++)
			if (p[k].revents)
				conn_read(fp, &fp->conns[map[k]]);
		if (p[0].revents & POLLIN)
			conn_accept(fp);
	}
	for (int i = 0; i < FP_CONNS; i++)
		if (fp->conns[i].fd >= 0)
			conn_close(&fp->conns[i]);
	return NULL;
}

/* ---- the public side ---- */

static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fail_msg("fakepeer: socket failed");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		fail_msg("fakepeer: cannot bind 127.0.0.1");
	*port = ntohs(a.sin_port);
	return fd;
}

int tb_fakepeer_dead_port(void)
{
	int port, fd = listen_loopback(&port);
	close(fd);
	return port;
}

struct tb_fakepeer *tb_fakepeer_start(const struct tb_fake_rule *rules, size_t n)
{
	struct tb_fakepeer *fp = calloc(1, sizeof(*fp));
	if (!fp)
		fail_msg("fakepeer: out of memory");
	pthread_mutex_init(&fp->mu, NULL);
	fp->lifetime_ms = TB_FAKE_LIFETIME_MS * tb_test_slow();
	for (int i = 0; i < FP_CONNS; i++) {
		fp->conns[i].fd = -1;
		if (!(fp->conns[i].buf = malloc(FP_REQ_MAX + 1)))
			fail_msg("fakepeer: out of memory");
	}
	tb_fakepeer_script(fp, rules, n);
	fp->lfd = listen_loopback(&fp->port);
	if (listen(fp->lfd, 16) != 0 || pthread_create(&fp->th, NULL, peer_main, fp) != 0)
		fail_msg("fakepeer: cannot listen on 127.0.0.1:%d", fp->port);
	return fp;
}

void tb_fakepeer_script(struct tb_fakepeer *fp, const struct tb_fake_rule *rules, size_t n)
{
	if (n > TB_FAKE_MAX_RULES)
		fail_msg("fakepeer: %zu rules, at most %d", n, TB_FAKE_MAX_RULES);
	pthread_mutex_lock(&fp->mu);
	if (n)
		memcpy(fp->rules, rules, n * sizeof(*rules));
	memset(fp->used, 0, sizeof(fp->used));
	fp->nrules = n;
	pthread_mutex_unlock(&fp->mu);
}

void tb_fakepeer_stop(struct tb_fakepeer *fp)
{
	atomic_store(&fp->stop, 1);
	pthread_join(fp->th, NULL);
	close(fp->lfd);
	for (int i = 0; i < FP_CONNS; i++)
		free(fp->conns[i].buf);
	for (int i = 0; i < TB_FAKE_LOG; i++) {
		free(fp->log[i].head);
		free(fp->log[i].body);
		free(fp->log[i].rpcs);
	}
	tb_http_free(fp->up);
	pthread_mutex_destroy(&fp->mu);
	free(fp);
}

int tb_fakepeer_port(const struct tb_fakepeer *fp)
{
	return fp->port;
}

const char *tb_fakepeer_url(struct tb_fakepeer *fp, const char *path)
{
	snprintf(fp->url, sizeof(fp->url), "http://127.0.0.1:%d%s", fp->port, path ? path : "/");
	return fp->url;
}

int tb_fakepeer_accepted(struct tb_fakepeer *fp)
{
	return atomic_load(&fp->accepted);
}

int tb_fakepeer_requests(struct tb_fakepeer *fp)
{
	return atomic_load(&fp->requests);
}

/* The log slot of request i, or NULL; call with the lock held. */
static const struct fp_log *slot(struct tb_fakepeer *fp, int i)
{
	if (i < 0)
		i += fp->logged;
	if (i < 0 || i >= fp->logged || i < fp->logged - TB_FAKE_LOG)
		return NULL;
	return &fp->log[i % TB_FAKE_LOG];
}

char *tb_fakepeer_body(struct tb_fakepeer *fp, int i)
{
	pthread_mutex_lock(&fp->mu);
	const struct fp_log *l = slot(fp, i);
	char *b = l ? strdup(l->body) : NULL;
	pthread_mutex_unlock(&fp->mu);
	return b;
}

void tb_fakepeer_header(struct tb_fakepeer *fp, int i, const char *name, char *out, size_t cap)
{
	pthread_mutex_lock(&fp->mu);
	const struct fp_log *l = slot(fp, i);
	if (l)
		header_in(l->head, strlen(l->head), name, out, cap);
	else
		out[0] = 0;
	pthread_mutex_unlock(&fp->mu);
}

int tb_fakepeer_calls(struct tb_fakepeer *fp, const char *rpc)
{
	char pat[128];
	int n = 0;
	snprintf(pat, sizeof(pat), "\n%s\n", rpc);
	pthread_mutex_lock(&fp->mu);
	for (int i = 0; i < TB_FAKE_LOG && i < fp->logged; i++)
		for (const char *p = fp->log[i].rpcs; (p = strstr(p, pat)); p++)
			n++;
	pthread_mutex_unlock(&fp->mu);
	return n;
}
