/* Transactions against outside facts: EIP-155's worked example (signing hash, signed
 * encoding, signer), and EIP-2930/EIP-1559 transactions signed by ethers 6.17 (from
 * tests/peers; raw, unsignedHash, hash and from recorded below) which must decode,
 * hash, re-encode byte for byte and recover the same signer; malformed inputs fail
 * with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "evm/ethtx.h"
#include "lib/hex.h"

static const char key46[] = "4646464646464646464646464646464646464646464646464646464646464646";
static const char signer46[] = "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f";

static void unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	struct tb_error e;
	assert_int_equal(tb_hex_decode(s, strlen(s), out, cap, n, &e), 0);
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char *h = malloc(2 * n + 1);
	tb_hex_encode(p, n, h);
	assert_string_equal(h, want);
	free(h);
}

static void eip155_example(void **s)
{
	(void)s;
	struct tb_ethtx tx;
	struct tb_error e = {0};
	uint8_t key[32], h[32], addr[20];
	size_t n;
	tb_ethtx_init(&tx);
	tx.chain_id = 1;
	tx.nonce = 9;
	tx.gas = 21000;
	unhex("04a817c800", tx.gas_price + 27, 5, &n);
	tx.has_to = 1;
	memset(tx.to, 0x35, 20);
	unhex("0de0b6b3a7640000", tx.value + 24, 8, &n);
	assert_int_equal(tb_ethtx_signing_hash(&tx, h, &e), 0);
	assert_hex(h, 32, "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
	unhex(key46, key, 32, &n);
	assert_int_equal(tb_ethtx_sign(&tx, key, &e), 0);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_ethtx_encode(&tx, &b, &e), 0);
	assert_hex(b.data, b.len,
	           "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764"
	           "00008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067"
	           "cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
	/* decode it back: chain id from v = 37, same signer */
	struct tb_ethtx back;
	tb_ethtx_init(&back);
	assert_int_equal(tb_ethtx_decode(b.data, b.len, &back, &e), 0);
	assert_int_equal(back.chain_id, 1);
	assert_int_equal(tb_ethtx_sender(&back, addr, &e), 0);
	assert_hex(addr, 20, signer46);
	tb_ethtx_fini(&back);
	tb_buf_fini(&b);
	tb_ethtx_fini(&tx);
}

struct typed_vec {
	const char *raw, *unsigned_hash, *hash;
	unsigned type;
};

static const struct typed_vec typed[] = {
	{"02f8af82053907843b9aca008506fc23ac0083015f9094353535353535353535353535353535353535353582"
	 "303986a9059cbb0000f838f7941111111111111111111111111111111111111111e1a00000000000000000000"
	 "00000000000000000000000000000000000000000000380a0a3f8a0a4b833e374b3d411508d061806aeb326ba"
	 "c80f46d61deb6df2ebfba1cfa0274b4055c30184d413dff0e94bdc1e75a2884233721304af194066239d9aaa"
	 "cd",
	 "071f7a7b632a321a69511a26cd32b6bdf71c02ed025fdbec4068072c3ee7e8e4",
	 "e3629bb26e3d9c74df1a58e6a147e7bd2c5f38be951ae58c2e886c1b5361cc70", 2},
	{"01f85405808504a817c8008252088080826000c001a0eba7fc839c4fdf315bb793101e14e70f221773521363"
	 "bbb55cc37d90f2510372a063ac5628a4aaf8c1557321666bf957dfcaba70d6b9c14d6293fbf5557f34b91b",
	 "b42888d2395502d65a558f8337c7cf95234d5236e2710bb6c084901d86a6c5b3",
	 "570d844da956c0f6660ae505660b553e8add9e401fb84a937cb83c33a1a47969", 1},
};

static void typed_from_ethers(void **s)
{
	(void)s;
	for (size_t i = 0; i < 2; i++) {
		uint8_t raw[512], h[32], addr[20];
		size_t n;
		struct tb_error e = {0};
		struct tb_ethtx tx;
		tb_ethtx_init(&tx);
		unhex(typed[i].raw, raw, sizeof(raw), &n);
		assert_int_equal(tb_ethtx_decode(raw, n, &tx, &e), 0);
		assert_int_equal(tx.type, typed[i].type);
		assert_int_equal(tb_ethtx_signing_hash(&tx, h, &e), 0);
		assert_hex(h, 32, typed[i].unsigned_hash);
		assert_int_equal(tb_ethtx_hash(&tx, h, &e), 0);
		assert_hex(h, 32, typed[i].hash);
		assert_int_equal(tb_ethtx_sender(&tx, addr, &e), 0);
		assert_hex(addr, 20, signer46);
		struct tb_buf b;
		tb_buf_init(&b, 0);
		assert_int_equal(tb_ethtx_encode(&tx, &b, &e), 0);
		assert_hex(b.data, b.len, typed[i].raw);
		/* re-signing with the same key gives the same bytes (RFC 6979) */
		uint8_t key[32];
		unhex(key46, key, 32, &n);
		assert_int_equal(tb_ethtx_sign(&tx, key, &e), 0);
		tb_buf_reset(&b);
		assert_int_equal(tb_ethtx_encode(&tx, &b, &e), 0);
		assert_hex(b.data, b.len, typed[i].raw);
		/* one changed field: another signer */
		tx.nonce++;
		assert_int_equal(tb_ethtx_sender(&tx, addr, &e), 0);
		char hx[41];
		tb_hex_encode(addr, 20, hx);
		assert_string_not_equal(hx, signer46);
		tb_buf_fini(&b);
		tb_ethtx_fini(&tx);
	}
}

static void from_json(void **s)
{
	(void)s;
	/* the type-2 vector as a node reports it (eth_getTransactionByHash shape) */
	const char *j = "{\"type\":\"0x2\",\"chainId\":\"0x539\",\"nonce\":\"0x7\","
	                "\"maxPriorityFeePerGas\":\"0x3b9aca00\",\"maxFeePerGas\":\"0x6fc23ac00\","
	                "\"gas\":\"0x15f90\",\"to\":\"0x3535353535353535353535353535353535353535\","
	                "\"value\":\"0x3039\",\"input\":\"0xa9059cbb0000\",\"accessList\":[{\"address\":"
	                "\"0x1111111111111111111111111111111111111111\",\"storageKeys\":[\"0x000000000000"
	                "0000000000000000000000000000000000000000000000000003\"]}],\"v\":\"0x0\","
	                "\"yParity\":\"0x0\",\"r\":\"0xa3f8a0a4b833e374b3d411508d061806aeb326bac80f46d61d"
	                "eb6df2ebfba1cf\",\"s\":\"0x274b4055c30184d413dff0e94bdc1e75a2884233721304af19406"
	                "6239d9aaacd\",\"from\":\"0x0000000000000000000000000000000000000000\"}";
	struct tb_json *t = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_json_parse(j, strlen(j), NULL, &t, &e), 0);
	struct tb_ethtx tx;
	uint8_t h[32], addr[20];
	tb_ethtx_init(&tx);
	assert_int_equal(tb_ethtx_from_json(t, &tx, &e), 0);
	assert_int_equal(tb_ethtx_hash(&tx, h, &e), 0);
	assert_hex(h, 32, typed[0].hash);
	/* the reported "from" is ignored: the signature decides */
	assert_int_equal(tb_ethtx_sender(&tx, addr, &e), 0);
	assert_hex(addr, 20, signer46);
	tb_ethtx_fini(&tx);
	/* a missing r is named */
	assert_int_equal(tb_json_object_remove(t, "r"), 0);
	assert_int_equal(tb_ethtx_from_json(t, &tx, &e), TB_EINVAL);
	assert_non_null(strstr(e.msg, "\"r\""));
	tb_json_free(t);
}

static void refusals(void **s)
{
	(void)s;
	uint8_t raw[512];
	size_t n;
	struct tb_error e = {0};
	struct tb_ethtx tx;
	tb_ethtx_init(&tx);
	unhex(typed[1].raw, raw, sizeof(raw), &n);
	/* truncated */
	assert_int_equal(tb_ethtx_decode(raw, n - 1, &tx, &e), TB_EINVAL);
	/* unknown type */
	raw[0] = 0x03;
	assert_int_equal(tb_ethtx_decode(raw, n, &tx, &e), TB_ENOTSUP);
	/* as type 2 the field count is wrong */
	raw[0] = 0x02;
	assert_int_equal(tb_ethtx_decode(raw, n, &tx, &e), TB_EINVAL);
	assert_non_null(strstr(e.msg, "fields"));
	assert_int_equal(tb_ethtx_decode(raw, 0, &tx, &e), TB_EINVAL);
	/* a legacy transaction behind a 0x00 type byte (found by ethtx_fuzz) */
	uint8_t pre[200] = {0};
	unhex("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764"
	      "00008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067"
	      "cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83", pre + 1,
	      sizeof(pre) - 1, &n);
	assert_int_equal(tb_ethtx_decode(pre + 1, n, &tx, &e), 0);
	assert_int_equal(tb_ethtx_decode(pre, n + 1, &tx, &e), TB_EINVAL);
	/* calldata over the bound */
	uint8_t *big = calloc(1, TB_ETHTX_MAX_DATA + 1);
	assert_int_equal(tb_ethtx_set_data(&tx, big, TB_ETHTX_MAX_DATA + 1, &e), TB_ELIMIT);
	assert_int_equal(tb_ethtx_set_data(&tx, big, TB_ETHTX_MAX_DATA, &e), 0);
	free(big);
	tb_ethtx_fini(&tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eip155_example),
		cmocka_unit_test(typed_from_ethers),
		cmocka_unit_test(from_json),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
