/* A fake HTTP/1.1 and JSON-RPC peer for the tests, scripted by a table of rules:
 * one thread on 127.0.0.1, an ephemeral port, keep-alive, every wait and buffer
 * bounded, and a log of what it received. Invariant: the peer never answers a
 * request no rule matched with anything a client could take for success (plain
 * HTTP gets 404, a JSON-RPC call gets error -32601 naming the method). */
#ifndef TB_TEST_FAKEPEER_H
#define TB_TEST_FAKEPEER_H

#include <stddef.h>

#include "lib/buf.h"

#define TB_FAKE_MAX_RULES 32
#define TB_FAKE_LOG 64 /* requests kept for assertions; older ones are dropped */

enum tb_fake_action {
	TB_FAKE_ANSWER,	 /* status + body / result / error / fill */
	TB_FAKE_ECHO,	 /* the request's body back, status 200 */
	TB_FAKE_CLOSE,	 /* close the connection without a byte */
	TB_FAKE_STALL,	 /* never answer; hold the connection until the client leaves */
	TB_FAKE_FORWARD, /* POST the body to upstream, answer with what it said (after edit) */
};

/* One rule. The first rule whose match fields all hold answers; strings are
 * borrowed and must outlive the script. */
struct tb_fake_rule {
	const char *path;   /* request path, exactly ("/v1"); NULL: any */
	const char *rpc;    /* JSON-RPC method; NULL: any request */
	const char *param0; /* the call's first param must be this string; NULL: any */
	int times;	    /* match only this many requests, then step aside; 0: always */

	enum tb_fake_action action;
	int status;	      /* 0: 200 */
	const char *headers;  /* extra header lines, each ending "\r\n" */
	const char *body;     /* raw body; "%ID%" becomes the (first) request id */
	const char *result;   /* JSON text, answered as a JSON-RPC result with the call's id */
	const char *error;    /* JSON text of a JSON-RPC error object, likewise */
	size_t fill;	      /* a body of this many 'a' bytes */
	int chunked;	      /* send the body chunked, without Content-Length */
	int delay_ms;	      /* wait this long before answering */
	int close;	      /* "Connection: close" and close after the answer */
	const char *upstream; /* TB_FAKE_FORWARD */
	/* TB_FAKE_FORWARD: may change the upstream's answer (NUL-terminated) to req */
	void (*edit)(void *ctx, const char *req, struct tb_buf *resp);
	void *ctx;
};

struct tb_fakepeer;

/* Start on 127.0.0.1 with the rules (copied; their strings borrowed); fails the test
 * on error. The thread ends by itself after TB_FAKE_LIFETIME_MS (scaled by
 * $TB_TEST_SLOW) even if nobody stops it. */
struct tb_fakepeer *tb_fakepeer_start(const struct tb_fake_rule *rules, size_t n);
/* Replace the script (and its "times" counters) between requests. */
void tb_fakepeer_script(struct tb_fakepeer *fp, const struct tb_fake_rule *rules, size_t n);
void tb_fakepeer_stop(struct tb_fakepeer *fp);

int tb_fakepeer_port(const struct tb_fakepeer *fp);
/* "http://127.0.0.1:PORT" + path (borrowed, valid until the next call). */
const char *tb_fakepeer_url(struct tb_fakepeer *fp, const char *path);
/* Connections accepted and requests read so far. */
int tb_fakepeer_accepted(struct tb_fakepeer *fp);
int tb_fakepeer_requests(struct tb_fakepeer *fp);

/* The log: request i (negative counts from the newest, -1 is the last). Each copy
 * is malloc'd (free it); NULL when that request is no longer or not yet kept. */
char *tb_fakepeer_body(struct tb_fakepeer *fp, int i);
/* Header name of request i into out ("" when absent). */
void tb_fakepeer_header(struct tb_fakepeer *fp, int i, const char *name, char *out, size_t cap);
/* How many logged requests called the JSON-RPC method (in a batch or alone). */
int tb_fakepeer_calls(struct tb_fakepeer *fp, const char *rpc);

/* A loopback port nothing listens on (bound, then closed). */
int tb_fakepeer_dead_port(void);

#endif
