/* The admin HTTP endpoint on nng's HTTP server: /healthz and /readyz (open, they
 * reveal nothing), and behind "Authorization: Bearer TOKEN": /metrics
 * (Prometheus text), /receipts/seq/N, /receipts/record/ID, /records/ID, /dead-letters.
 * Invariants: it binds loopback unless allow_remote is set; it only reads, through
 * its own store connection; a request without the exact token gets 401. */
#ifndef TB_API_H
#define TB_API_H

#include "lib/buf.h"
#include "lib/error.h"

#define TB_API_TOKEN_MIN 16

struct tb_api_config {
	const char *listen;     /* "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (127.0.0.1); PORT 0 =
	                           any; checked by tb_addr_admin */
	const char *token;      /* the bearer token, at least TB_API_TOKEN_MIN characters */
	int allow_remote;       /* 1 = a non-loopback HOST is allowed */
	const char *store_path; /* the relay's store, opened read-only */
	void *ctx;              /* passed to the callbacks */
	/* NULL when the relay is ready, else a short reason without detail (the
	 * endpoint is open); the callback NULL = always ready. */
	const char *(*not_ready)(void *ctx);
	int (*metrics)(void *ctx, struct tb_buf *out, struct tb_error *err); /* may be NULL */
};

struct tb_api;

int tb_api_start(struct tb_api **out, const struct tb_api_config *cfg, struct tb_error *err);
/* The TCP port it listens on (useful with PORT 0). */
int tb_api_port(const struct tb_api *a);
void tb_api_stop(struct tb_api *a);

#endif
