/* Receipts over nng: a subscriber receives each receipt the relay writes; after
 * a forced gap (receipts not published) it notices the jump in seq and fills the
 * gap through REP replay, ending with a chain that verifies; the REP side
 * answers a malformed request with an error and keeps serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "crypto/secp256k1.h"
#include "fake_adapters.h"
#include "relay.h"
#include "tmpdir.h"

static char dir[64];

struct pubctx {
	struct tb_bus *bus;
	int mute; /* receipts written while muted are not published: the forced gap */
};

static void publish(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct pubctx *p = ctx;
	struct tb_error err;
	(void)r;
	if (!p->mute)
		assert_int_equal(tb_bus_publish(p->bus, json, &err), 0);
}

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

static void deliver_n(struct tb_relay *r, struct fake_source *src, long n)
{
	struct tb_error err;
	size_t work;
	src->total += n;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(tb_relay_step(r, &work, &err), 0);
		if (work == 0)
			return;
	}
	fail_msg("relay not idle");
}

/* Receive until want receipts are held, filling gaps by replay. */
static void receive_all(struct tb_bus_sub *sub, struct tb_receipt *got, uint64_t *next,
                        uint64_t want, int *replays)
{
	struct tb_error err;
	for (int tries = 0; *next <= want && tries < 50; tries++) {
		struct tb_receipt r;
		int rc = tb_bus_sub_recv(sub, &r, 200, &err);
		if (rc == TB_EUNAVAIL)
			continue;
		assert_int_equal(rc, 0);
		if (r.seq < *next)
			continue; /* already have it */
		if (r.seq > *next) {
			size_t n;
			struct tb_receipt fill[16];
			assert_int_equal(tb_bus_replay(sub, *next, fill, r.seq - *next, &n, 2000, &err), 0);
			assert_int_equal(n, r.seq - *next);
			for (size_t i = 0; i < n; i++)
				got[(*next)++ - 1] = fill[i];
			(*replays)++;
		}
		got[(*next)++ - 1] = r;
	}
}

static void subscriber_gets_every_receipt_and_fills_gap(void **state)
{
	(void)state;
	char store[128], pub[160], rep[160];
	snprintf(store, sizeof store, "%s/relay.db", dir);
	snprintf(pub, sizeof pub, "ipc://%s/pub", dir);
	snprintf(rep, sizeof rep, "ipc://%s/rep", dir);
	struct tb_error err;
	struct tb_relay_config cfg = {.store_path = store};
	memset(cfg.key, 5, 32);
	struct tb_relay *r;
	static struct fake_sink sink;
	struct fake_source src = {.total = 0, .batch = 4, .unknown_at = -1};
	assert_int_equal(tb_relay_new(&r, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "src", &fake_source_ops, &src, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "dst", &fake_sink_ops, &sink, &err), 0);
	assert_int_equal(tb_relay_add_route(r, "src", "dst", &err), 0);
	struct tb_relay_hooks h = {.policy = allow_all};
	tb_relay_set_hooks(r, &h);

	struct tb_bus_config bc = {.pub_url = pub, .rep_url = rep, .store_path = store};
	struct pubctx pc = {0};
	assert_int_equal(tb_bus_open(&pc.bus, &bc, &err), 0);
	tb_relay_on_receipt(r, publish, &pc);
	struct tb_bus_sub *sub;
	assert_int_equal(tb_bus_sub_open(&sub, pub, rep, NULL, &err), 0);
	usleep(300000); /* the subscription reaches the publisher (PUB drops until then) */

	struct tb_receipt got[16];
	uint64_t next = 1;
	int replays = 0;
	deliver_n(r, &src, 5);
	receive_all(sub, got, &next, 5, &replays);
	assert_int_equal(next, 6);
	assert_int_equal(replays, 0); /* all five arrived by PUB */

	pc.mute = 1;
	deliver_n(r, &src, 3); /* 6, 7, 8 never published */
	pc.mute = 0;
	deliver_n(r, &src, 2); /* 9, 10 */
	receive_all(sub, got, &next, 10, &replays);
	assert_int_equal(next, 11);
	assert_int_equal(replays, 1);

	uint8_t pk[65], addr[20];
	size_t bad;
	assert_int_equal(tb_secp_pubkey(cfg.key, pk, &err), 0);
	tb_eth_address(pk, addr);
	assert_int_equal(tb_receipt_verify_chain(got, 10, addr, NULL, &bad, &err), 0);

	/* replay past the end is empty, not an error */
	size_t n = 99;
	assert_int_equal(tb_bus_replay(sub, 11, got, 4, &n, 2000, &err), 0);
	assert_int_equal(n, 0);

	/* a malformed request gets an error reply and the server goes on */
	nng_socket req;
	assert_int_equal(nng_req0_open(&req), 0);
	assert_int_equal(nng_dial(req, rep, NULL, 0), 0);
	nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 2000);
	static const char *const bad_reqs[] = {"replay", "replay 0 5", "replay 1 x", "hello",
	                                       "replay 1 5 extra"};
	for (size_t i = 0; i < 5; i++) {
		char *msg;
		size_t len;
		assert_int_equal(nng_send(req, (void *)bad_reqs[i], strlen(bad_reqs[i]), 0), 0);
		assert_int_equal(nng_recv(req, &msg, &len, NNG_FLAG_ALLOC), 0);
		assert_true(len > 6 && memcmp(msg, "error:", 6) == 0);
		nng_free(msg, len);
	}
	nng_close(req);
	assert_int_equal(tb_bus_replay(sub, 1, got, 3, &n, 2000, &err), 0);
	assert_int_equal(n, 3);

	tb_bus_sub_close(sub);
	tb_bus_close(pc.bus);
	tb_relay_free(r);
}

static void replay_needs_store_and_tls_needs_pins(void **state)
{
	(void)state;
	struct tb_error err;
	struct tb_bus *b;
	char pub[160], rep[160];
	snprintf(pub, sizeof pub, "ipc://%s/pub2", dir);
	snprintf(rep, sizeof rep, "ipc://%s/rep2", dir);
	struct tb_bus_config bc = {.pub_url = pub, .rep_url = rep};
	assert_int_equal(tb_bus_open(&b, &bc, &err), TB_ECONFIG);
	struct tb_bus_config tc = {.pub_url = "tls+tcp://127.0.0.1:0"};
	assert_int_equal(tb_bus_open(&b, &tc, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "pinned"));
}

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-bus");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subscriber_gets_every_receipt_and_fills_gap),
		cmocka_unit_test(replay_needs_store_and_tls_needs_pins),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
