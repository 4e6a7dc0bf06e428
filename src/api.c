/* Admin API handlers. nng runs them on its own threads, so the store
 * connection is used under a mutex and every response body is bounded
 * (API_BODY_MAX). The token is compared in constant time and never logged. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "store/store.h"

#define API_BODY_MAX ((size_t)4 << 20)
#define API_DEAD_MAX 256

struct tb_api {
	nng_http_server *srv;
	nng_url *url;
	struct tb_api_config cfg;
	char *token;
	struct tb_store store;
	pthread_mutex_t mu;
	int port;
};

static int token_ok(const struct tb_api *a, const char *auth)
{
	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return 0;
	const char *got = auth + 7;
	size_t n = strlen(a->token), m = strlen(got);
	unsigned char diff = (unsigned char)(n != m);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a->token[i] ^ (i < m ? got[i] : 0));
	return diff == 0;
}

static int add_receipt(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct tb_buf *b = ctx;
	(void)r;
	int rc = tb_buf_puts(b, b->len > 1 ? "," : "");
	return rc ? rc : tb_buf_puts(b, json);
}

static int dead_letters(struct tb_api *a, struct tb_buf *b, struct tb_error *err)
{
	struct tb_outbox_row *rows = calloc(API_DEAD_MAX, sizeof *rows);
	size_t n = 0;
	if (!rows)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	int rc = a->store.ops->dead_list(a->store.state, rows, API_DEAD_MAX, &n, err);
	rc = rc ? rc : tb_buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = tb_buf_printf(b, "%s{\"id\":%" PRId64 ",\"record\":%" PRId64 ",\"destination\":",
			                   i ? "," : "", rows[i].id, rows[i].record);
		rc = rc ? rc : tb_json_write_string(b, rows[i].destination, strlen(rows[i].destination));
		rc = rc ? rc : tb_buf_printf(b, ",\"attempts\":%d,\"reason\":", rows[i].attempts);
		rc = rc ? rc : tb_json_write_string(b, rows[i].reason, strlen(rows[i].reason));
		rc = rc ? rc : tb_buf_putc(b, '}');
		tb_outbox_row_fini(&rows[i]);
	}
	free(rows);
	return rc ? rc : tb_buf_puts(b, "]\n");
}

/* A stored record with its verdict, reason and body (the canonical JSON). */
static int record_json(struct tb_api *a, const char *id, struct tb_buf *b)
{
	struct tb_store_record r;
	struct tb_error err;
	int rc = a->store.ops->record_by_id(a->store.state, id, &r, &err);
	if (rc)
		return rc == TB_ENOTFOUND ? 404 : 500;
	rc = tb_buf_puts(b, "{\"id\":");
	rc = rc ? rc : tb_json_write_string(b, r.record_id, strlen(r.record_id));
	rc = rc ? rc : tb_buf_puts(b, ",\"key\":");
	rc = rc ? rc : tb_json_write_string(b, r.key, strlen(r.key));
	rc = rc ? rc : tb_buf_printf(b, ",\"version\":%" PRId64 ",\"network\":", r.version);
	rc = rc ? rc : tb_json_write_string(b, r.network, strlen(r.network));
	rc = rc ? rc : tb_buf_puts(b, ",\"locator\":");
	rc = rc ? rc : tb_json_write_string(b, r.locator, strlen(r.locator));
	rc = rc ? rc : tb_buf_printf(b, ",\"verdict\":\"%s\",\"reason\":", r.verdict);
	rc = rc ? rc : tb_json_write_string(b, r.reason, strlen(r.reason));
	rc = rc ? rc : tb_buf_puts(b, ",\"record\":");
	rc = rc ? rc : tb_buf_puts(b, r.body);
	rc = rc ? rc : tb_buf_puts(b, "}\n");
	tb_store_record_fini(&r);
	return rc ? 500 : 0;
}

/* Fill body for an authorised GET of path; returns the HTTP status. */
static int route(struct tb_api *a, const char *path, struct tb_buf *b, const char **type)
{
	struct tb_error err;
	int rc;
	*type = "application/json";
	if (strcmp(path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4";
		if (!a->cfg.metrics)
			return 200;
		return a->cfg.metrics(a->cfg.ctx, b, &err) ? 500 : 200;
	}
	pthread_mutex_lock(&a->mu);
	if (strncmp(path, "/receipts/seq/", 14) == 0) {
		char *end;
		unsigned long long seq = strtoull(path + 14, &end, 10);
		rc = (*end || seq == 0) ? 400 : 0;
		if (rc == 0 && (tb_buf_putc(b, '[') || a->store.ops->receipt_range(
		                    a->store.state, seq, 1, add_receipt, b, &err) || tb_buf_puts(b, "]\n")))
			rc = 500;
		if (rc == 0 && b->len <= 3)
			rc = 404;
	} else if (strncmp(path, "/receipts/record/", 17) == 0) {
		rc = 0;
		if (tb_buf_putc(b, '[') || a->store.ops->receipt_by_record(a->store.state, path + 17,
		                                                          add_receipt, b, &err) ||
		    tb_buf_puts(b, "]\n"))
			rc = 500;
		if (rc == 0 && b->len <= 3)
			rc = 404;
	} else if (strncmp(path, "/records/", 9) == 0) {
		rc = record_json(a, path + 9, b);
	} else if (strcmp(path, "/dead-letters") == 0) {
		rc = dead_letters(a, b, &err) ? 500 : 0;
	} else {
		rc = 404;
	}
	pthread_mutex_unlock(&a->mu);
	return rc ? rc : 200;
}

static void reply(nng_aio *aio, int status, const char *type, const void *body, size_t len)
{
	nng_http_res *res;
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, (uint16_t)status);
	nng_http_res_set_header(res, "Content-Type", type);
	nng_http_res_set_header(res, "Cache-Control", "no-store");
	if (status == 401)
		nng_http_res_set_header(res, "WWW-Authenticate", "Bearer realm=\"tradebridge\"");
	if (len)
		nng_http_res_copy_data(res, body, len);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void handle(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct tb_api *a = nng_http_handler_get_data(h);
	char path[512];
	snprintf(path, sizeof path, "%s", nng_http_req_get_uri(req));
	path[strcspn(path, "?")] = 0;
	if (strcmp(path, "/healthz") == 0) {
		reply(aio, 200, "text/plain", "ok\n", 3);
		return;
	}
	if (strcmp(path, "/readyz") == 0) {
		const char *why = a->cfg.not_ready ? a->cfg.not_ready(a->cfg.ctx) : NULL;
		char text[256];
		int n = snprintf(text, sizeof text, why ? "not ready: %s\n" : "ready\n", why);
		reply(aio, why ? 503 : 200, "text/plain", text,
		      n < (int)sizeof text ? (size_t)n : sizeof text - 1);
		return;
	}
	if (!token_ok(a, nng_http_req_get_header(req, "Authorization"))) {
		static const char msg[] = "{\"error\":\"missing or wrong bearer token\"}\n";
		reply(aio, 401, "application/json", msg, sizeof msg - 1);
		return;
	}
	struct tb_buf b;
	const char *type;
	tb_buf_init(&b, API_BODY_MAX);
	int status = route(a, path, &b, &type);
	if (status != 200) {
		tb_buf_reset(&b);
		tb_buf_printf(&b, "{\"error\":\"%s\"}\n", status == 404 ? "not found"
		              : status == 400 ? "bad request" : "internal error");
		type = "application/json";
	}
	reply(aio, status, type, b.data, b.len);
	tb_buf_fini(&b);
}

/* Split "HOST:PORT" / "[V6]:PORT" / "PORT" and check HOST is loopback. */
static int parse_listen(const char *listen, int allow_remote, char *host, size_t hcap, int *port,
                        struct tb_error *err)
{
	const char *colon = strrchr(listen, ':');
	const char *ps = colon ? colon + 1 : listen;
	size_t hl = colon ? (size_t)(colon - listen) : 0;
	char *end;
	long p = strtol(ps, &end, 10);
	if (*ps == 0 || *end || p < 0 || p > 65535 || hl >= hcap)
		return tb_error_set(err, TB_ECONFIG, "admin API: listen \"%s\": expected HOST:PORT",
		                    listen);
	snprintf(host, hcap, "%.*s", (int)hl, listen);
	if (!host[0])
		snprintf(host, hcap, "127.0.0.1");
	char bare[64];
	snprintf(bare, sizeof bare, "%s", host[0] == '[' ? host + 1 : host);
	bare[strcspn(bare, "]")] = 0;
	struct in_addr v4;
	struct in6_addr v6;
	int loop = (inet_pton(AF_INET, bare, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
	           (inet_pton(AF_INET6, bare, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
	if (!loop && !allow_remote)
		return tb_error_set(err, TB_ECONFIG, "admin API: %s is not a loopback address; set "
		                    "allow_remote to expose the admin API beyond this host", host);
	*port = (int)p;
	return 0;
}

static int start_server(struct tb_api *a, const char *host, int port, struct tb_error *err)
{
	char url[160];
	snprintf(url, sizeof url, "http://%s:%d", host, port);
	nng_http_handler *h;
	int rv = nng_url_parse(&a->url, url);
	rv = rv ? rv : nng_http_server_hold(&a->srv, a->url);
	rv = rv ? rv : nng_http_handler_alloc(&h, "/", handle);
	if (rv == 0) {
		nng_http_handler_set_tree(h);
		nng_http_handler_set_data(h, a, NULL);
		rv = nng_http_server_add_handler(a->srv, h);
		if (rv)
			nng_http_handler_free(h);
	}
	rv = rv ? rv : nng_http_server_start(a->srv);
	nng_sockaddr sa;
	if (rv == 0 && nng_http_server_get_addr(a->srv, &sa) == 0)
		a->port = ntohs(sa.s_family == NNG_AF_INET6 ? sa.s_in6.sa_port : sa.s_in.sa_port);
	return rv ? tb_error_set(err, TB_EIO, "admin API: %s: %s", url, nng_strerror(rv)) : 0;
}

int tb_api_start(struct tb_api **out, const struct tb_api_config *cfg, struct tb_error *err)
{
	char host[64];
	int port = 0;
	if (!cfg->token || strlen(cfg->token) < TB_API_TOKEN_MIN)
		return tb_error_set(err, TB_ECONFIG, "admin API: the bearer token must have at least %d "
		                    "characters", TB_API_TOKEN_MIN);
	if (!cfg->store_path)
		return tb_error_set(err, TB_ECONFIG, "admin API: the store's path is not set");
	int rc = parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:9464", cfg->allow_remote, host,
	                      sizeof host, &port, err);
	if (rc)
		return rc;
	struct tb_api *a = calloc(1, sizeof *a);
	if (!a || !(a->token = strdup(cfg->token))) {
		free(a);
		return tb_error_set(err, TB_ENOMEM, "admin API: out of memory");
	}
	a->cfg = *cfg;
	a->cfg.token = NULL;
	pthread_mutex_init(&a->mu, NULL);
	rc = tb_store_open(&a->store, cfg->store_path, 1, err);
	rc = rc ? rc : start_server(a, host, port, err);
	if (rc) {
		tb_api_stop(a);
		return rc;
	}
	*out = a;
	return 0;
}

int tb_api_port(const struct tb_api *a)
{
	return a->port;
}

void tb_api_stop(struct tb_api *a)
{
	if (!a)
		return;
	if (a->srv) {
		nng_http_server_stop(a->srv);
		nng_http_server_release(a->srv);
	}
	if (a->url)
		nng_url_free(a->url);
	tb_store_close(&a->store);
	pthread_mutex_destroy(&a->mu);
	if (a->token)
		explicit_bzero(a->token, strlen(a->token));
	free(a->token);
	free(a);
}
