/* nng PUB/REP for receipts. The REP side runs on its own thread with its own
 * read-only store connection, a receive timeout and a send timeout: a peer that
 * does not read its replies is disconnected instead of stalling everyone, and
 * closing shuts the socket before it joins the thread, so it never waits for a
 * peer. Invariant: a request is parsed with fixed bounds and a bad one (empty
 * too) gets an "error ..." reply, never a crash or a hang. */
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bus.h"
#include "lib/file.h"
#include "lib/num.h"
#include "lib/printable.h"
#include "store/store.h"

struct tb_bus {
	nng_socket pub, rep;
	int has_pub, has_rep;
	struct tb_store store;
	pthread_t thread;
	int thread_started;
	atomic_int stop;
};

struct tb_bus_sub {
	nng_socket sub, req;
	int has_sub, has_req;
};

static int nng_fail(struct tb_error *err, int rv, const char *what, const char *url)
{
	int code = (rv == NNG_ETIMEDOUT || rv == NNG_ECONNREFUSED || rv == NNG_ECLOSED)
	                   ? TB_EUNAVAIL : TB_EIO;
	return tb_error_set(err, code, "bus: %s %s: %s", what, url ? url : "", nng_strerror(rv));
}

static int is_tls(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0;
}

static int tls_config(const struct tb_bus_tls *t, int server, nng_tls_config **out,
                      const char *url, struct tb_error *err)
{
	if (!t || !t->ca_file || !t->cert_key_file)
		return tb_error_set(err, TB_ECONFIG, "bus %s: TLS needs a certificate-and-key file and "
		                    "a CA file holding the pinned peers", url);
	/* nng would open them blocking: a FIFO here must not hang the relay */
	int rc = tb_file_check_regular(t->cert_key_file, "bus TLS certificate-and-key file", 0, err);
	rc = rc ? rc : tb_file_check_regular(t->ca_file, "bus TLS CA file", 0, err);
	if (rc)
		return rc;
	nng_tls_config *c;
	int rv = nng_tls_config_alloc(&c, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT);
	if (rv == 0)
		rv = nng_tls_config_cert_key_file(c, t->cert_key_file, NULL);
	if (rv == 0)
		rv = nng_tls_config_ca_file(c, t->ca_file);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0 && !server && t->server_name)
		rv = nng_tls_config_server_name(c, t->server_name);
	if (rv != 0) {
		if (rv != NNG_ENOMEM)
			nng_tls_config_free(c);
		return nng_fail(err, rv, "TLS configuration for", url);
	}
	*out = c;
	return 0;
}

static int listen_on(nng_socket s, const char *url, const struct tb_bus_tls *t,
                     struct tb_error *err)
{
	nng_listener l;
	int rv = nng_listener_create(&l, s, url);
	if (rv)
		return nng_fail(err, rv, "cannot listen on", url);
	if (is_tls(url)) {
		nng_tls_config *c;
		int rc = tls_config(t, 1, &c, url, err);
		if (rc)
			return rc;
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, c);
		nng_tls_config_free(c); /* the listener holds its own reference */
	}
	rv = rv ? rv : nng_listener_start(l, 0);
	return rv ? nng_fail(err, rv, "cannot listen on", url) : 0;
}

static int dial_to(nng_socket s, const char *url, const struct tb_bus_tls *t,
                   struct tb_error *err)
{
	nng_dialer d;
	int rv = nng_dialer_create(&d, s, url);
	if (rv)
		return nng_fail(err, rv, "cannot dial", url);
	if (is_tls(url)) {
		nng_tls_config *c;
		int rc = tls_config(t, 0, &c, url, err);
		if (rc)
			return rc;
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c);
		nng_tls_config_free(c);
	}
	/* Non-blocking: the dialer keeps retrying in the background until the peer is up. */
	rv = rv ? rv : nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	return rv ? nng_fail(err, rv, "cannot dial", url) : 0;
}

/* --- replay server ----------------------------------------------------------- */

struct reply {
	struct tb_buf *out;
};

static int add_line(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct reply *rp = ctx;
	(void)r;
	return tb_buf_puts(rp->out, json) || tb_buf_putc(rp->out, '\n') ? 1 : 0;
}

/* "replay FROM MAX", exactly: single spaces, both numbers strict decimals >= 1. */
static int parse_request(const char *req, size_t len, uint64_t *from, uint64_t *max,
                         struct tb_error *err)
{
	const char *sp = len > 7 ? memchr(req + 7, ' ', len - 7) : NULL;
	if (len < 7 || memcmp(req, "replay ", 7) != 0 || !sp)
		return tb_error_set(err, TB_EINVAL, "expected \"replay FROM MAX\"");
	int rc = tb_num_u64n(req + 7, (size_t)(sp - req) - 7, 1, TB_RECEIPT_SEQ_MAX, "FROM", from,
	                     err);
	return rc ? rc : tb_num_u64n(sp + 1, len - (size_t)(sp + 1 - req), 1, UINT64_MAX, "MAX",
	                             max, err);
}

/* "replay FROM MAX" -> "ok\n" + one receipt JSON per line. */
void tb_bus_answer(struct tb_store *st, const char *req, size_t len, struct tb_buf *out)
{
	uint64_t from = 0, max = 0;
	struct tb_error err;
	if (parse_request(req, len, &from, &max, &err) != 0) {
		tb_buf_puts(out, "error: ");
		tb_printable_append(out, err.msg, strlen(err.msg));
		tb_buf_puts(out, "\n");
		return;
	}
	if (max > TB_BUS_REPLAY_MAX)
		max = TB_BUS_REPLAY_MAX;
	tb_buf_puts(out, "ok\n");
	struct reply rp = {out};
	if (st->ops->receipt_range(st->state, from, (size_t)max, add_line, &rp, &err) < 0) {
		tb_buf_reset(out);
		tb_buf_printf(out, "error: %s\n", err.msg);
	}
}

/* Send one reply; a peer that has not taken its earlier replies within the send
 * timeout is disconnected, so one stalled reader cannot hold the thread. */
static void reply(struct tb_bus *b, nng_pipe peer, const struct tb_buf *out)
{
	nng_msg *m;
	if (nng_msg_alloc(&m, 0) != 0)
		return;
	if (out->len && nng_msg_append(m, out->data, out->len) != 0) {
		nng_msg_free(m);
		return;
	}
	int rv = nng_sendmsg(b->rep, m, 0);
	if (rv == 0)
		return;
	nng_msg_free(m);
	if (rv == NNG_ETIMEDOUT)
		nng_pipe_close(peer);
}

static void *rep_loop(void *arg)
{
	struct tb_bus *b = arg;
	while (!atomic_load(&b->stop)) {
		nng_msg *msg = NULL;
		int rv = nng_recvmsg(b->rep, &msg, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0)
			break;
		struct tb_buf out;
		tb_buf_init(&out, TB_BUS_MSG_MAX);
		tb_bus_answer(&b->store, nng_msg_body(msg), nng_msg_len(msg), &out);
		nng_pipe peer = nng_msg_get_pipe(msg);
		nng_msg_free(msg);
		reply(b, peer, &out);
		tb_buf_fini(&out);
	}
	return NULL;
}

static int open_rep(struct tb_bus *b, const struct tb_bus_config *cfg, struct tb_error *err)
{
	if (!cfg->store_path)
		return tb_error_set(err, TB_ECONFIG, "bus: replay on %s needs the store's path",
		                    cfg->rep_url);
	int rc = tb_store_open(&b->store, cfg->store_path, 1, err);
	if (rc)
		return rc;
	int rv = nng_rep0_open(&b->rep);
	if (rv)
		return nng_fail(err, rv, "cannot open REP for", cfg->rep_url);
	b->has_rep = 1;
	nng_socket_set_ms(b->rep, NNG_OPT_RECVTIMEO, 100);
	nng_socket_set_ms(b->rep, NNG_OPT_SENDTIMEO, TB_BUS_SEND_TIMEOUT_MS);
	nng_socket_set_size(b->rep, NNG_OPT_RECVMAXSZ, 256);
	rc = listen_on(b->rep, cfg->rep_url, &cfg->tls, err);
	if (rc)
		return rc;
	if (pthread_create(&b->thread, NULL, rep_loop, b) != 0)
		return tb_error_set(err, TB_EIO, "bus: cannot start the replay thread");
	b->thread_started = 1;
	return 0;
}

int tb_bus_open(struct tb_bus **out, const struct tb_bus_config *cfg, struct tb_error *err)
{
	int rc = tb_addr_bus("relay.pub", cfg->pub_url, cfg->allow_plaintext, NULL, err);
	rc = rc || !cfg->rep_url ? rc : tb_addr_bus("relay.rep", cfg->rep_url, cfg->allow_plaintext,
	                                            NULL, err);
	if (rc)
		return rc;
	struct tb_bus *b = calloc(1, sizeof *b);
	if (!b)
		return tb_error_set(err, TB_ENOMEM, "bus: out of memory");
	int rv = nng_pub0_open(&b->pub);
	if (rv)
		rc = nng_fail(err, rv, "cannot open PUB for", cfg->pub_url);
	b->has_pub = rv == 0;
	rc = rc ? rc : listen_on(b->pub, cfg->pub_url, &cfg->tls, err);
	if (rc == 0 && cfg->rep_url)
		rc = open_rep(b, cfg, err);
	if (rc) {
		tb_bus_close(b);
		return rc;
	}
	*out = b;
	return 0;
}

void tb_bus_close(struct tb_bus *b)
{
	if (!b)
		return;
	atomic_store(&b->stop, 1);
	/* closing first ends a receive or a send the thread is blocked in */
	if (b->has_rep)
		nng_close(b->rep);
	if (b->thread_started)
		pthread_join(b->thread, NULL);
	if (b->has_pub)
		nng_close(b->pub);
	tb_store_close(&b->store);
	free(b);
}

int tb_bus_publish(struct tb_bus *b, const char *json, struct tb_error *err)
{
	int rv = nng_send(b->pub, (void *)json, strlen(json), 0);
	return rv ? nng_fail(err, rv, "publish on", "PUB") : 0;
}

/* --- subscriber -------------------------------------------------------------- */

int tb_bus_sub_open(struct tb_bus_sub **out, const char *pub_url, const char *rep_url,
                    const struct tb_bus_tls *tls, struct tb_error *err)
{
	struct tb_bus_sub *s = calloc(1, sizeof *s);
	if (!s)
		return tb_error_set(err, TB_ENOMEM, "bus: out of memory");
	int rc = 0, rv;
	if (pub_url) {
		rv = nng_sub0_open(&s->sub);
		s->has_sub = rv == 0;
		if (rv == 0)
			rv = nng_socket_set(s->sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
		if (rv == 0)
			nng_socket_set_size(s->sub, NNG_OPT_RECVMAXSZ, TB_RECEIPT_MAX_BYTES);
		rc = rv ? nng_fail(err, rv, "cannot subscribe to", pub_url)
		        : dial_to(s->sub, pub_url, tls, err);
	}
	if (rc == 0 && rep_url) {
		rv = nng_req0_open(&s->req);
		s->has_req = rv == 0;
		if (rv == 0)
			nng_socket_set_size(s->req, NNG_OPT_RECVMAXSZ, TB_BUS_MSG_MAX);
		rc = rv ? nng_fail(err, rv, "cannot open REQ for", rep_url)
		        : dial_to(s->req, rep_url, tls, err);
	}
	if (rc) {
		tb_bus_sub_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void tb_bus_sub_close(struct tb_bus_sub *s)
{
	if (!s)
		return;
	if (s->has_sub)
		nng_close(s->sub);
	if (s->has_req)
		nng_close(s->req);
	free(s);
}

int tb_bus_sub_recv(struct tb_bus_sub *s, struct tb_receipt *r, int timeout_ms,
                    struct tb_error *err)
{
	if (!s->has_sub)
		return tb_error_set(err, TB_EINVAL, "bus: not subscribed");
	char *msg = NULL;
	size_t len = 0;
	nng_socket_set_ms(s->sub, NNG_OPT_RECVTIMEO, timeout_ms);
	int rv = nng_recv(s->sub, &msg, &len, NNG_FLAG_ALLOC);
	if (rv)
		return nng_fail(err, rv, "receive from", "PUB");
	int rc = tb_receipt_parse(msg, len, r, err);
	nng_free(msg, len);
	return rc;
}

static int parse_reply(char *text, size_t len, struct tb_receipt *rs, size_t max, size_t *n,
                       struct tb_error *err)
{
	if (len < 3 || memcmp(text, "ok\n", 3) != 0)
		return tb_error_set(err, TB_EIO, "bus: replay refused: %.*s", (int)(len > 200 ? 200 : len),
		                    text);
	size_t pos = 3;
	while (pos < len) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (*n == max)
			return tb_error_set(err, TB_ELIMIT, "bus: replay sent more than %zu receipts", max);
		int rc = tb_receipt_parse(text + pos, end - pos, &rs[*n], err);
		if (rc) {
			tb_error_prefix(err, "bus: replay line %zu", *n + 1);
			return rc;
		}
		(*n)++;
		pos = end + 1;
	}
	return 0;
}

int tb_bus_replay(struct tb_bus_sub *s, uint64_t from, struct tb_receipt *rs, size_t max,
                  size_t *n, int timeout_ms, struct tb_error *err)
{
	*n = 0;
	if (!s->has_req)
		return tb_error_set(err, TB_EINVAL, "bus: no replay address configured");
	char req[64];
	int len = snprintf(req, sizeof req, "replay %" PRIu64 " %zu", from,
	                   max < TB_BUS_REPLAY_MAX ? max : (size_t)TB_BUS_REPLAY_MAX);
	nng_socket_set_ms(s->req, NNG_OPT_SENDTIMEO, timeout_ms);
	nng_socket_set_ms(s->req, NNG_OPT_RECVTIMEO, timeout_ms);
	int rv = nng_send(s->req, req, (size_t)len, 0);
	char *msg = NULL;
	size_t mlen = 0;
	rv = rv ? rv : nng_recv(s->req, &msg, &mlen, NNG_FLAG_ALLOC);
	if (rv)
		return nng_fail(err, rv, "replay request", "REP");
	int rc = parse_reply(msg, mlen, rs, max, n, err);
	nng_free(msg, mlen);
	return rc;
}
