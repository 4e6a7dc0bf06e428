/* The relay fixture the relay tests share (loop, ingest, reply, bus TLS): a relay with the
 * fake source "src" routed to the fake sink "dst", a fresh store per fixture,
 * key 0x0707..07, a policy that allows everything, and (if asked) its log kept in
 * memory for log_count. Invariant: every fixture has a store of its own. */
#ifndef TB_TEST_FAKE_RELAY_H
#define TB_TEST_FAKE_RELAY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secp256k1.h"
#include "fake_adapters.h"
#include "relay.h"

struct fake_relay {
	struct tb_relay *relay;
	struct fake_source src;
	struct fake_sink sink;
	uint8_t addr[20]; /* the relay key's address, which signs receipts */
	char store[256];
	char *logbuf; /* capture_log: the log text so far */
	size_t loglen;
	FILE *logf;
	struct tb_log log;
};

static inline int fake_allow_all(void *ctx, const char *dest, const struct tb_json *rec,
				 struct tb_json **out, struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

/* Open a fixture under dir; cfg gives retry, lease and log interval (store, key
 * and log are set here). 0, or -1 with the reason on stderr (for cmocka setups). */
static inline int fake_relay_open(struct fake_relay **out, const char *dir,
				  struct tb_relay_config cfg, struct fake_source src,
				  int capture_log)
{
	static int seq;
	struct fake_relay *f = calloc(1, sizeof *f);
	struct tb_error err;
	uint8_t pub[65];
	if (!f)
		return -1;
	if (capture_log) {
		f->logf = open_memstream(&f->logbuf, &f->loglen);
		tb_log_init(&f->log, f->logf, "relay", TB_LOG_INFO, TB_LOG_TEXT);
		cfg.log = &f->log;
	}
	snprintf(f->store, sizeof f->store, "%s/r%d.db", dir, seq++);
	cfg.store_path = f->store;
	memset(cfg.key, 7, 32);
	tb_secp_pubkey(cfg.key, pub, NULL);
	tb_eth_address(pub, f->addr);
	f->src = src;
	if (tb_relay_new(&f->relay, &cfg, &err) ||
	    tb_relay_add_network(f->relay, "src", &fake_source_ops, &f->src, &err) ||
	    tb_relay_add_network(f->relay, "dst", &fake_sink_ops, &f->sink, &err) ||
	    tb_relay_add_route(f->relay, "src", "dst", &err)) {
		fprintf(stderr, "fake_relay_open: %s\n", err.msg);
		return -1;
	}
	struct tb_relay_hooks h = {.policy = fake_allow_all};
	tb_relay_set_hooks(f->relay, &h);
	*out = f;
	return 0;
}

static inline void fake_relay_close(struct fake_relay *f)
{
	tb_relay_free(f->relay);
	if (f->logf)
		fclose(f->logf);
	free(f->logbuf);
	free(f);
}

/* Whether the relay's metrics text holds line (cmocka tests: the text must render). */
static inline int fake_relay_metric_has(struct fake_relay *f, const char *line)
{
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 1 << 20);
	assert_int_equal(tb_relay_metrics_text(f->relay, &b, &err), 0);
	int found = strstr((const char *)b.data, line) != NULL;
	tb_buf_fini(&b);
	return found;
}

/* How many times text occurs in the captured log so far. */
static inline int fake_relay_log_count(struct fake_relay *f, const char *text)
{
	int n = 0;
	fflush(f->logf);
	for (const char *p = f->logbuf; p && (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	return n;
}

#endif
