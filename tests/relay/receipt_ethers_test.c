/* Receipts against an independent implementation: ethers 6.17's verifyMessage
 * over the canonical bytes of each unsigned receipt must recover the relay's
 * address (the web3.js documentation's example key), and its hashMessage must
 * equal our EIP-191 hash, and JavaScript's own RFC 8785 form of the receipt must be
 * our bytes (a rejection's optional "reason" included); a changed byte must
 * recover someone else. Needs node
 * and tests/peers/node_modules (npm ci --prefix tests/peers): fails if missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "lib/hex.h"
#include "receipt.h"
#include "peers.h"

static const char key_hex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
static const char key_addr[] = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
#define N 7 /* the last one is a rejection: its destination carries a "reason" */

static void line_for(const struct tb_receipt *r, FILE *f, uint8_t h[32], int flip)
{
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_receipt_signing_bytes(r, &b, &err), 0);
	tb_eip191_hash(b.data, b.len, h);
	if (flip)
		b.data[b.len / 2] ^= 1;
	char *hex = malloc(2 * b.len + 1), sig[131];
	tb_hex_encode(b.data, b.len, hex);
	tb_hex_encode(r->sig, 65, sig);
	fprintf(f, "%s 0x%s\n", hex, sig);
	free(hex);
	tb_buf_fini(&b);
}

static void ethers_recovers_relay_address(void **state)
{
	(void)state;
	const char *src = getenv("TB_SRCDIR");
	char mod[512], script[512], in[] = "/tmp/tb-ethers-in-XXXXXX", out[64];
	assert_non_null(src);
	tb_peers_path("ethers/package.json", mod, sizeof mod);
	if (access(mod, R_OK) != 0)
		fail_msg("%s missing: run npm ci --prefix tests/peers --no-audit --no-fund", mod);
	snprintf(script, sizeof script, "%s/tests/relay/ethers_verify.js", src);
	int fd = mkstemp(in);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	uint8_t key[32], hashes[N + 1][32];
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_hex_decode(key_hex, 64, key, 32, &n, NULL), 0);
	static const char *const locators[N] = {"0xabc:0", "tx \"quoted\" \\ back", "Perú/Aduanas ✓",
	                                        "ctl\x01\x1f", "emoji \xf0\x9f\x98\x80", "",
	                                        "0xabc:1"};
	struct tb_receipt r;
	for (int i = 0; i < N; i++) {
		memset(&r, 0, sizeof r);
		r.seq = (uint64_t)i + 1 + (i == N - 2 ? 9007199254740000ULL : 0);
		memset(r.prev, i, 32);
		snprintf(r.record, sizeof r.record, "sha256:%064d", i);
		strcpy(r.source_network, "pe-cadena");
		snprintf(r.source_locator, sizeof r.source_locator, "%s", locators[i]);
		strcpy(r.verdict, "VALID");
		strcpy(r.destination, "cl-registry");
		strcpy(r.txref, "0x1234");
		strcpy(r.status, i == N - 1 ? "rejected" : "confirmed");
		if (i == N - 1) /* sorts after "network" and before "status"; non-ASCII, quoted */
			strcpy(r.reason, "CUSRES: partida 3 \"9999.99\" no está en el arancel ✗");
		strcpy(r.time, "2026-11-22T10:00:00Z");
		assert_int_equal(tb_receipt_sign(&r, key, &err), 0);
		line_for(&r, f, hashes[i], 0);
	}
	line_for(&r, f, hashes[N], 1); /* last one, one bit changed */
	fclose(f);
	snprintf(out, sizeof out, "%s.out", in);
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "timeout 60 node %s < %s > %s", script, in, out);
	assert_int_equal(system(cmd), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	char line[256];
	for (int i = 0; i <= N; i++) {
		assert_non_null(fgets(line, sizeof line, f));
		char want_hash[67] = "0x";
		tb_hex_encode(hashes[i], 32, want_hash + 2);
		if (i < N) {
			assert_memory_equal(line, key_addr, 42);
			assert_memory_equal(line + 43, want_hash, 66);
			assert_memory_equal(line + 110, "jcs-ok", 6);
		} else {
			assert_memory_not_equal(line, key_addr, 42);
		}
	}
	fclose(f);
	unlink(in);
	unlink(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ethers_recovers_relay_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
