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

#include "addr.h"
#include "api.h"
#include "crypto/hash.h"
#include "lib/hex.h"
#include "lib/num.h"
#include "store/store.h"

#define API_BODY_MAX ((size_t)4 << 20)
#define API_DEAD_MAX 256
#define API_PATH_MAX 512 /* a longer request path is refused with 414 */

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

/* A record's id is the SHA-256 of its stored body: one that no longer matches was
 * altered in the store and is not served as if it were what the relay saw. */
static int record_intact(const struct tb_store_record *r, struct tb_error *err)
{
	uint8_t h[32];
	char id[80] = "sha256:";
	tb_sha256((const uint8_t *)r->body, strlen(r->body), h);
	tb_hex_encode(h, 32, id + 7);
	if (strcmp(id, r->record_id) == 0)
		return 0;
	return tb_error_set(err, TB_EVERIFY, "record %s: the stored body no longer hashes to its id "
	                    "(it hashes to %s): the store was altered; not served", r->record_id, id);
}

/* A destination's reply names the record it answers ("answers": its id). */
static int answers_json(struct tb_api *a, const struct tb_store_record *r, struct tb_buf *b)
{
	struct tb_store_record q;
	struct tb_error err;
	if (r->answers <= 0)
		return 0;
	if (a->store.ops->record_get(a->store.state, r->answers, &q, &err) != 0)
		return TB_EIO;
	int rc = tb_buf_puts(b, ",\"answers\":");
	rc = rc ? rc : tb_json_write_string(b, q.record_id, strlen(q.record_id));
	tb_store_record_fini(&q);
	return rc;
}

/* A stored record with its verdict, reason and body (the canonical JSON). */
static int record_json(struct tb_api *a, const char *id, struct tb_buf *b, struct tb_error *err)
{
	struct tb_store_record r;
	int rc = a->store.ops->record_by_id(a->store.state, id, &r, err);
	if (rc)
		return rc == TB_ENOTFOUND ? 404 : 500;
	if (record_intact(&r, err) != 0) {
		tb_store_record_fini(&r);
		return 500;
	}
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
	rc = rc ? rc : answers_json(a, &r, b);
	rc = rc ? rc : tb_buf_puts(b, ",\"record\":");
	rc = rc ? rc : tb_buf_puts(b, r.body);
	rc = rc ? rc : tb_buf_puts(b, "}\n");
	tb_store_record_fini(&r);
	return rc ? 500 : 0;
}

struct one_seq {
	struct tb_buf *b;
	uint64_t seq;
	int found;
};

static int add_if_seq(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct one_seq *o = ctx;
	if (r->seq != o->seq)
		return 0; /* the range starts at seq: anything else means seq is not stored */
	o->found = 1;
	return tb_buf_puts(o->b, json);
}

/* GET /receipts/seq/N: 400 unless N is a seq (1..2^53-1), 404 unless it is stored. */
static int receipt_by_seq(struct tb_api *a, const char *n, struct tb_buf *b, struct tb_error *err)
{
	struct one_seq o = {b, 0, 0};
	if (tb_num_u64(n, 1, TB_RECEIPT_SEQ_MAX, "receipt seq", &o.seq, err) != 0)
		return 400;
	if (tb_buf_putc(b, '[') ||
	    a->store.ops->receipt_range(a->store.state, o.seq, 1, add_if_seq, &o, err) ||
	    tb_buf_puts(b, "]\n"))
		return 500;
	return o.found ? 0 : 404;
}

/* Fill body for an authorised GET of path; returns the HTTP status (err says why
 * for a 400 or a 500). */
static int route(struct tb_api *a, const char *path, struct tb_buf *b, const char **type,
                 struct tb_error *err)
{
	int rc;
	*type = "application/json";
	if (strcmp(path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4";
		if (!a->cfg.metrics)
			return 200;
		return a->cfg.metrics(a->cfg.ctx, b, err) ? 500 : 200;
	}
	pthread_mutex_lock(&a->mu);
	if (strncmp(path, "/receipts/seq/", 14) == 0) {
		rc = receipt_by_seq(a, path + 14, b, err);
	} else if (strncmp(path, "/receipts/record/", 17) == 0) {
		rc = 0;
		if (tb_buf_putc(b, '[') || a->store.ops->receipt_by_record(a->store.state, path + 17,
		                                                          add_receipt, b, err) ||
		    tb_buf_puts(b, "]\n"))
			rc = 500;
		if (rc == 0 && b->len <= 3)
			rc = 404;
	} else if (strncmp(path, "/records/", 9) == 0) {
		rc = record_json(a, path + 9, b, err);
	} else if (strcmp(path, "/dead-letters") == 0) {
		rc = dead_letters(a, b, err) ? 500 : 0;
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
	char path[API_PATH_MAX];
	const char *uri = nng_http_req_get_uri(req);
	if (strlen(uri) >= sizeof path) {
		static const char msg[] = "{\"error\":\"request path longer than 511 bytes\"}\n";
		reply(aio, 414, "application/json", msg, sizeof msg - 1);
		return;
	}
	snprintf(path, sizeof path, "%s", uri);
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
	struct tb_error err = {0};
	const char *type;
	tb_buf_init(&b, API_BODY_MAX);
	int status = route(a, path, &b, &type, &err);
	if (status != 200) {
		const char *why = status == 404 ? "not found" : err.msg[0] ? err.msg
		                  : status == 400 ? "bad request" : "internal error";
		tb_buf_reset(&b);
		tb_buf_puts(&b, "{\"error\":");
		tb_json_write_string(&b, why, strlen(why));
		tb_buf_puts(&b, "}\n");
		type = "application/json";
	}
	reply(aio, status, type, b.data, b.len);
	tb_buf_fini(&b);
}

/* a->url was parsed and checked once (tb_addr_admin): it is what is bound. */
static int start_server(struct tb_api *a, struct tb_error *err)
{
	nng_http_handler *h;
	int rv = nng_http_server_hold(&a->srv, a->url);
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
	return rv ? tb_error_set(err, TB_EIO, "admin API: %s: %s", a->url->u_rawurl,
	                         nng_strerror(rv)) : 0;
}

int tb_api_start(struct tb_api **out, const struct tb_api_config *cfg, struct tb_error *err)
{
	nng_url *url = NULL;
	if (!cfg->token || strlen(cfg->token) < TB_API_TOKEN_MIN)
		return tb_error_set(err, TB_ECONFIG, "admin API: the bearer token must have at least %d "
		                    "characters", TB_API_TOKEN_MIN);
	if (!cfg->store_path)
		return tb_error_set(err, TB_ECONFIG, "admin API: the store's path is not set");
	int rc = tb_addr_admin(cfg->listen ? cfg->listen : "127.0.0.1:9464", cfg->allow_remote, &url,
	                       err);
	if (rc)
		return rc;
	struct tb_api *a = calloc(1, sizeof *a);
	if (!a || !(a->token = strdup(cfg->token))) {
		free(a);
		nng_url_free(url);
		return tb_error_set(err, TB_ENOMEM, "admin API: out of memory");
	}
	a->url = url;
	a->cfg = *cfg;
	a->cfg.token = NULL;
	pthread_mutex_init(&a->mu, NULL);
	rc = tb_store_open(&a->store, cfg->store_path, 1, err);
	rc = rc ? rc : start_server(a, err);
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
