/* The ganache test peer itself: it starts on loopback with the chain id asked for,
 * its accounts are the mnemonic's well-known ones (and our secp256k1 derives the same
 * addresses from the keys), snapshot/revert move the head back, and after stop the
 * node is gone: the process no longer exists and calls are TB_EUNAVAIL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secp256k1.h"
#include "ganache.h"
#include "lib/hex.h"

static int setup(void **state)
{
	static struct tb_ganache g; /* one per test binary; cmocka passes it by pointer */
	struct tb_error e = {0};
	if (tb_ganache_start(&g, 31337, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = &g;
	return 0;
}

static int teardown(void **state)
{
	tb_ganache_stop(*state);
	return 0;
}

static void test_identity(void **state)
{
	struct tb_ganache *g = *state;
	struct tb_error e = {0};
	struct tb_json *r = NULL;
	assert_int_equal(tb_ganache_call(g, "eth_chainId", NULL, &r, &e), 0);
	assert_string_equal(tb_json_string(r), "0x7a69");
	tb_json_free(r);
	assert_int_equal(tb_ganache_call(g, "eth_accounts", NULL, &r, &e), 0);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(tb_json_string(tb_json_at(r, (size_t)i)), tb_ganache_addresses[i]);
		uint8_t key[32], pub[65], addr[20];
		size_t n;
		char hex[41];
		assert_int_equal(tb_hex_decode(tb_ganache_keys[i], 64, key, 32, &n, &e), 0);
		assert_int_equal(tb_secp_pubkey(key, pub, &e), 0);
		tb_eth_address(pub, addr);
		tb_hex_encode(addr, 20, hex);
		assert_string_equal(hex, tb_ganache_addresses[i] + 2);
	}
	tb_json_free(r);
}

static void test_snapshot_revert(void **state)
{
	struct tb_ganache *g = *state;
	struct tb_error e = {0};
	uint64_t before, mid, after;
	char id[32];
	assert_int_equal(tb_ganache_block_number(g, &before, &e), 0);
	assert_int_equal(tb_ganache_snapshot(g, id, &e), 0);
	assert_int_equal(tb_ganache_mine(g, 3, &e), 0);
	assert_int_equal(tb_ganache_block_number(g, &mid, &e), 0);
	assert_int_equal(mid, before + 3);
	assert_int_equal(tb_ganache_revert(g, id, &e), 0);
	assert_int_equal(tb_ganache_block_number(g, &after, &e), 0);
	assert_int_equal(after, before);
	/* a snapshot id is used once */
	assert_int_not_equal(tb_ganache_revert(g, id, &e), 0);
}

static void test_stop(void **state)
{
	struct tb_ganache *g = *state;
	struct tb_ganache copy = *g;
	struct tb_error e = {0};
	pid_t pid = g->pid;
	tb_ganache_stop(g);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(tb_ganache_call(g, "eth_chainId", NULL, NULL, &e), TB_EUNAVAIL);
	/* and nothing answers on its port any more */
	const char *urls[1] = {copy.url};
	struct tb_http_options ho = {.max_attempts = 1, .connect_timeout_ms = 500};
	struct tb_jsonrpc *c = NULL;
	struct tb_json *r = NULL;
	assert_int_equal(tb_jsonrpc_new(&c, urls, 1, &ho, &e), 0);
	assert_int_equal(tb_jsonrpc_call(c, "eth_chainId", NULL, &r, NULL, &e), TB_EUNAVAIL);
	tb_jsonrpc_free(c);
	tb_ganache_stop(g); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_snapshot_revert),
		cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
