/* secp256k1: known answers from outside this project (web3.js docs for a key, its
 * address and a personal-sign signature; the EIP-55 examples; OpenAttestation DID
 * signatures with the signers recorded in expected.json), malformed signatures
 * rejected with the bad part named, and signing from several threads at once. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>

#include "crypto/secp256k1.h"
#include "lib/buf.h"
#include "lib/hex.h"

/* https://docs.web3js.org/api/web3-eth-accounts/function/sign (and privateKeyToAccount) */
#define WEB3_KEY "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
#define WEB3_ADDR "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
#define WEB3_MSG_HASH "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655"
#define WEB3_SIG                                                             \
	"b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd" \
	"6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a029" \
	"1c"
#define CURVE_N "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;
	struct tb_error err;
	if (tb_hex_decode(s, strlen(s), out, n, &got, &err) != 0)
		fail_msg("bad hex in test: %s", err.msg);
	assert_int_equal(got, n);
}

static void known_key_address(void **state)
{
	uint8_t key[32], pub[65], addr[20];
	char text[43];
	struct tb_error err;
	unhex(WEB3_KEY, key, 32);
	assert_int_equal(tb_secp_pubkey(key, pub, &err), 0);
	assert_int_equal(pub[0], 0x04);
	tb_eth_address(pub, addr);
	tb_eth_address_checksum(addr, text);
	assert_string_equal(text, WEB3_ADDR);
}

static void web3_personal_sign(void **state)
{
	uint8_t key[32], hash[32], want_hash[32], sig[65], want[65], addr[20];
	char text[43];
	struct tb_error err;
	unhex(WEB3_KEY, key, 32);
	unhex(WEB3_MSG_HASH, want_hash, 32);
	unhex(WEB3_SIG, want, 65);
	tb_eip191_hash("Some data", 9, hash);
	assert_memory_equal(hash, want_hash, 32);
	assert_int_equal(tb_secp_sign(key, hash, sig, &err), 0);
	/* RFC 6979 is deterministic: same r and s as web3.js; v is 0/1 where web3 says 27/28 */
	assert_memory_equal(sig, want, 64);
	assert_int_equal(sig[64], want[64] - 27);
	/* recovery accepts both v conventions */
	assert_int_equal(tb_secp_recover_address(hash, want, addr, &err), 0);
	tb_eth_address_checksum(addr, text);
	assert_string_equal(text, WEB3_ADDR);
	assert_int_equal(tb_secp_recover_address(hash, sig, addr, &err), 0);
	tb_eth_address_checksum(addr, text);
	assert_string_equal(text, WEB3_ADDR);
}

static void eip55_examples(void **state)
{
	/* https://eips.ethereum.org/EIPS/eip-55 test cases */
	static const char *const cases[] = {
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t addr[20];
		char text[43];
		unhex(cases[i], addr, 20);
		tb_eth_address_checksum(addr, text);
		assert_string_equal(text, cases[i]);
	}
}

static void expect_bad_sig(const uint8_t sig[65], int code, const char *needle)
{
	uint8_t hash[32], pub[65], addr[20];
	struct tb_error err;
	unhex(WEB3_MSG_HASH, hash, 32);
	assert_int_equal(tb_secp_recover(hash, sig, pub, &err), code);
	if (!strstr(err.msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	assert_int_equal(tb_secp_recover_address(hash, sig, addr, &err), code);
}

static void malformed_signatures(void **state)
{
	uint8_t good[65], sig[65], n[32];
	unhex(WEB3_SIG, good, 65);
	unhex(CURVE_N, n, 32);
	static const uint8_t bad_v[] = {2, 26, 29, 37, 0xff};
	for (size_t i = 0; i < sizeof(bad_v); i++) {
		memcpy(sig, good, 65);
		sig[64] = bad_v[i];
		expect_bad_sig(sig, TB_EINVAL, "signature v is");
	}
	memcpy(sig, good, 65);
	memset(sig, 0, 32);
	expect_bad_sig(sig, TB_EINVAL, "signature r is zero");
	memcpy(sig, good, 65);
	memset(sig + 32, 0, 32);
	expect_bad_sig(sig, TB_EINVAL, "signature s is zero");
	memcpy(sig, good, 65);
	memcpy(sig, n, 32);
	expect_bad_sig(sig, TB_EINVAL, "signature r is not below the curve order");
	memcpy(sig, good, 65);
	memcpy(sig + 32, n, 32);
	expect_bad_sig(sig, TB_EINVAL, "signature s is not below the curve order");
	memcpy(sig, good, 65);
	memset(sig + 32, 0xff, 32);
	expect_bad_sig(sig, TB_EINVAL, "signature s is not below the curve order");
	/* r = 5 is in range but no curve point has x = 5: nothing recovers */
	memcpy(sig, good, 65);
	memset(sig, 0, 32);
	sig[31] = 5;
	expect_bad_sig(sig, TB_EVERIFY, "no public key recovers");
}

static void bad_secret_keys(void **state)
{
	uint8_t key[32], hash[32] = {1}, sig[65], pub[65];
	struct tb_error err;
	memset(key, 0, 32);
	assert_int_equal(tb_secp_sign(key, hash, sig, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "secret key is zero or not below the curve order"));
	assert_int_equal(tb_secp_pubkey(key, pub, &err), TB_EINVAL);
	unhex(CURVE_N, key, 32);
	assert_int_equal(tb_secp_sign(key, hash, sig, &err), TB_EINVAL);
	key[31] -= 1; /* n - 1 is the largest valid key */
	assert_int_equal(tb_secp_sign(key, hash, sig, &err), 0);
	/* the message never shows the key */
	unhex(CURVE_N, key, 32);
	tb_secp_sign(key, hash, sig, &err);
	assert_null(strcasestr(err.msg, "ffffffff"));
}

static void keygen_round_trip(void **state)
{
	uint8_t k1[32], k2[32], pub[65], rec[65], hash[32], sig[65];
	struct tb_error err;
	assert_int_equal(tb_secp_keygen(k1, &err), 0);
	assert_int_equal(tb_secp_keygen(k2, &err), 0);
	assert_memory_not_equal(k1, k2, 32);
	assert_int_equal(tb_secp_pubkey(k1, pub, &err), 0);
	tb_eip191_hash("round trip", 10, hash);
	assert_int_equal(tb_secp_sign(k1, hash, sig, &err), 0);
	assert_true(sig[64] <= 1);
	assert_int_equal(tb_secp_recover(hash, sig, rec, &err), 0);
	assert_memory_equal(pub, rec, 65);
	/* a different hash recovers a different key */
	hash[0] ^= 1;
	assert_int_equal(tb_secp_recover(hash, sig, rec, &err), 0);
	assert_memory_not_equal(pub, rec, 65);
}

static void *sign_many(void *arg)
{
	uint8_t key[32], hash[32], sig[65], want[65];
	struct tb_error err;
	unhex(WEB3_KEY, key, 32);
	unhex(WEB3_MSG_HASH, hash, 32);
	unhex(WEB3_SIG, want, 65);
	for (int i = 0; i < 50; i++) {
		if (tb_secp_sign(key, hash, sig, &err) != 0 || memcmp(sig, want, 64) != 0)
			return arg; /* non-NULL = failure */
	}
	return NULL;
}

static void threads_share_the_context(void **state)
{
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, sign_many, th), 0);
	for (int i = 0; i < 4; i++) {
		void *res = th;
		pthread_join(th[i], &res);
		assert_null(res);
	}
}

/* --- OpenAttestation DID signatures ------------------------------------------ */

static yajl_val load_json(const char *rel)
{
	char path[1024], ebuf[256];
	struct tb_buf b;
	struct tb_error err;
	const char *dir = getenv("TB_VECTORS");
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/openattestation/%s", dir, rel);
	tb_buf_init(&b, 4 << 20);
	if (tb_buf_read_file(&b, path, &err) != 0)
		fail_msg("%s", err.msg);
	yajl_val v = yajl_tree_parse((const char *)b.data, ebuf, sizeof(ebuf));
	if (!v)
		fail_msg("%s: %s", path, ebuf);
	tb_buf_fini(&b);
	return v;
}

static const char *str_at(yajl_val v, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

/* The did:ethr address inside "did:ethr:0xABC...#controller". */
static int did_address(const char *method, char out[43])
{
	const char *p = strstr(method, "did:ethr:0x");
	if (!p || strlen(p + 9) < 42)
		return -1;
	memcpy(out, p + 9, 42);
	out[42] = 0;
	return 0;
}

/* Signer of one OA signature: EIP-191 over the 32 raw merkleRoot bytes. */
static void oa_signer(const char *root_hex, const char *sig_hex, char out[43])
{
	uint8_t root[32], hash[32], sig[65], addr[20];
	struct tb_error err;
	unhex(root_hex, root, 32);
	unhex(sig_hex, sig, 65);
	tb_eip191_hash(root, 32, hash);
	if (tb_secp_recover_address(hash, sig, addr, &err) != 0)
		fail_msg("%s", err.msg);
	tb_eth_address_checksum(addr, out);
}

static void check_oa_file(const char *rel, yajl_val expected_sigs)
{
	yajl_val doc = load_json(rel);
	const char *root, *sig, *method;
	const char *p0[] = {"proof", NULL};
	yajl_val proof = yajl_tree_get(doc, p0, yajl_t_any);
	assert_non_null(proof);
	yajl_val want = YAJL_GET_ARRAY(expected_sigs)->values[0];
	if (YAJL_IS_ARRAY(proof)) { /* v2: signature.merkleRoot, proof[0].signature */
		yajl_val p = YAJL_GET_ARRAY(proof)->values[0];
		root = str_at(doc, "signature", "merkleRoot");
		sig = str_at(p, "signature", NULL);
		method = str_at(p, "verificationMethod", NULL);
	} else { /* v3: proof.merkleRoot, proof.signature, proof.key */
		root = str_at(doc, "proof", "merkleRoot");
		sig = str_at(doc, "proof", "signature");
		method = str_at(doc, "proof", "key");
	}
	assert_non_null(root);
	assert_non_null(sig);
	assert_non_null(method);
	char got[43], did[43];
	oa_signer(root, sig, got);
	if (strcmp(got, str_at(want, "recovered_address", NULL)) != 0)
		fail_msg("%s: recovered %s, expected %s", rel, got,
		         str_at(want, "recovered_address", NULL));
	assert_int_equal(did_address(method, did), 0);
	const char *mp[] = {"recovers_to_did_address", NULL};
	int want_match = YAJL_IS_TRUE(yajl_tree_get(want, mp, yajl_t_any));
	assert_int_equal(strcmp(got, did) == 0, want_match);
	yajl_tree_free(doc);
}

static void openattestation_did_signatures(void **state)
{
	yajl_val exp = load_json("expected.json");
	const char *fp[] = {"files", NULL};
	yajl_val files = yajl_tree_get(exp, fp, yajl_t_object);
	size_t checked = 0, mismatches = 0;
	assert_non_null(files);
	for (size_t i = 0; i < YAJL_GET_OBJECT(files)->len; i++) {
		const char *sp[] = {"did_signatures", NULL};
		yajl_val entry = YAJL_GET_OBJECT(files)->values[i];
		yajl_val sigs = yajl_tree_get(entry, sp, yajl_t_array);
		if (!sigs)
			continue;
		const char *rp[] = {"recovers_to_did_address", NULL};
		mismatches += !YAJL_IS_TRUE(
			yajl_tree_get(YAJL_GET_ARRAY(sigs)->values[0], rp, yajl_t_any));
		check_oa_file(YAJL_GET_OBJECT(files)->keys[i], sigs);
		checked++;
	}
	/* 26 signed documents, 4 of them signed by someone other than their DID */
	assert_int_equal(checked, 26);
	assert_int_equal(mismatches, 4);
	yajl_tree_free(exp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_key_address),
		cmocka_unit_test(web3_personal_sign),
		cmocka_unit_test(eip55_examples),
		cmocka_unit_test(malformed_signatures),
		cmocka_unit_test(bad_secret_keys),
		cmocka_unit_test(keygen_round_trip),
		cmocka_unit_test(threads_share_the_context),
		cmocka_unit_test(openattestation_did_signatures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
