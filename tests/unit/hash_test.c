/* Digests against independently published answers: SHA-256 from FIPS 180-2
 * appendix B, keccak-256 of "" and "abc" (Ethereum's well-known values, "" also
 * in ethereum-execution-apis/SOURCES.md), and keccak of the raw block headers in
 * the execution-apis vectors, which must equal the block hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/hex.h"

static void assert_digest(const uint8_t d[32], const char *hex)
{
	char got[65];
	tb_hex_encode(d, 32, got);
	assert_string_equal(got, hex);
}

static void sha256_fips180(void **state)
{
	uint8_t d[32];
	tb_sha256("abc", 3, d);
	assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	tb_sha256("", 0, d);
	assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	tb_sha256(m, strlen(m), d);
	assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void keccak_known(void **state)
{
	uint8_t d[32];
	tb_keccak256("", 0, d);
	assert_digest(d, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	tb_keccak256("abc", 3, d);
	assert_digest(d, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
	/* The empty trie root is keccak256(rlp("")) = keccak256(0x80). */
	tb_keccak256("\x80", 1, d);
	assert_digest(d, "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
}

/* The raw header from a debug_getRawHeader .io file (its "result" hex). */
static uint8_t *raw_header(const char *name, size_t *n)
{
	char path[1024];
	struct tb_buf b;
	struct tb_error err;
	snprintf(path, sizeof path, "%s/ethereum-execution-apis/tests/debug_getRawHeader/%s",
	         getenv("TB_VECTORS"), name);
	tb_buf_init(&b, 1 << 20);
	assert_int_equal(tb_buf_read_file(&b, path, &err), 0);
	char *r = strstr((char *)b.data, "\"result\":\"0x");
	assert_non_null(r);
	r += strlen("\"result\":\"");
	char *end = strchr(r, '"');
	assert_non_null(end);
	uint8_t *out;
	assert_int_equal(tb_hex_decode_alloc(r, (size_t)(end - r), &out, n, &err), 0);
	tb_buf_fini(&b);
	return out;
}

static void keccak_block_headers(void **state)
{
	const char *cases[][2] = {
		{"get-block-n.io", "b8a651cb280e169015aef5235a141cb2d905058d1ff9bba788b7ad2c729c9837"},
		{"get-genesis.io", "44fd89d504659cd58f48f4796b77a7e7012cf296a2409afa2f6c3cb99b5b3d99"},
	};
	for (size_t c = 0; c < 2; c++) {
		size_t n;
		uint8_t *h = raw_header(cases[c][0], &n);
		uint8_t d[32];
		assert_true(n > 2 * 136); /* spans several sponge blocks */
		tb_keccak256(h, n, d);
		assert_digest(d, cases[c][1]);
		/* Fed in every split (1..n bytes per piece) the incremental API agrees. */
		for (size_t step = 1; step <= n; step += (step < 140 ? 1 : 97)) {
			struct tb_keccak k;
			tb_keccak256_init(&k);
			for (size_t o = 0; o < n; o += step)
				tb_keccak256_update(&k, h + o, o + step <= n ? step : n - o);
			tb_keccak256_final(&k, d);
			assert_digest(d, cases[c][1]);
		}
		free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_fips180),
		cmocka_unit_test(keccak_known),
		cmocka_unit_test(keccak_block_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
