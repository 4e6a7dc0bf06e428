/* HTTP client on libcurl: one client object holds one easy handle, so requests to the
 * same peer reuse the connection. Invariants: TLS is verified unless the caller set
 * insecure (and that is logged); no response body grows past max_response; only
 * requests marked idempotent are ever sent twice. A client is used by one thread at a
 * time; use one client per thread. */
#ifndef TB_HTTP_H
#define TB_HTTP_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/log.h"

#define TB_HTTP_MAX_ATTEMPTS 10

struct tb_http; /* opaque: one libcurl easy handle and the options */

struct tb_http_options {
	long connect_timeout_ms; /* per attempt; 0 = 10000 */
	long timeout_ms;         /* whole attempt, connect included; 0 = 30000 */
	size_t max_response;     /* body bytes; 0 = 16 MiB */
	const char *ca_file;     /* PEM bundle to trust instead of the system store */
	int insecure;            /* 1 = skip TLS verification (logged at warn level) */
	unsigned max_attempts;   /* idempotent requests; 0 = 3, at most TB_HTTP_MAX_ATTEMPTS */
	long backoff_base_ms;    /* first retry delay; 0 = 200, doubles per retry */
	long backoff_max_ms;     /* cap on one delay; 0 = 5000 */
	const char *user_agent;  /* NULL = "tradebridge/VERSION" */
	struct tb_log *log;      /* may be NULL; borrowed, must outlive the client */
};

struct tb_http_request {
	const char *method;       /* "GET" or "POST"; NULL = GET, or POST when body is set */
	const char *url;          /* http:// or https:// only */
	const void *body;         /* POST body, may be NULL */
	size_t body_len;
	const char *content_type; /* NULL = "application/json" */
	int idempotent;           /* 1 = may be retried after a failure */
	long timeout_ms;          /* overrides the client's when > 0 */
	long connect_timeout_ms;  /* overrides the client's when > 0 */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, may be NULL */
};

struct tb_http_response {
	long status;       /* last HTTP status seen, 0 if no answer */
	struct tb_buf body;
	unsigned attempts; /* how many times the request was sent */
};

/* Create a client; fails with TB_ECONFIG on bad options, TB_ENOMEM otherwise. */
int tb_http_new(struct tb_http **out, const struct tb_http_options *opt, struct tb_error *err);
void tb_http_free(struct tb_http *h);

void tb_http_response_init(struct tb_http_response *r);
void tb_http_response_fini(struct tb_http_response *r);

/* Send req. Returns 0 on a 2xx answer; TB_EUNAVAIL when no HTTP answer came
 * (refused, unresolvable, timed out, connection closed); TB_EIO when the peer
 * answered with a non-2xx status (resp->status and resp->body hold it);
 * TB_ELIMIT when the body passed max_response; TB_EINVAL for a bad request. */
int tb_http_send(struct tb_http *h, const struct tb_http_request *req,
                 struct tb_http_response *resp, struct tb_error *err);
/* GET url (idempotent, so retried). */
int tb_http_get(struct tb_http *h, const char *url, struct tb_http_response *resp,
                struct tb_error *err);
/* POST a JSON body; retried only when idempotent is 1 (e.g. a read-only JSON-RPC call). */
int tb_http_post_json(struct tb_http *h, const char *url, const char *json, size_t len,
                      int idempotent, struct tb_http_response *resp, struct tb_error *err);

#endif
