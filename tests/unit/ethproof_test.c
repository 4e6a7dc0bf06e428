/* Ethereum proofs on the ethereum/execution-apis fixtures: eth_getProof account
 * and storage proofs against the block-54 stateRoot, header hashes of every
 * fork era, and receipts roots (pre-Byzantium, legacy, raw). Expected values
 * come from the set's expected.json; tampered inputs must fail naming the node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evm/ethproof.h"
#include "crypto/hash.h"
#include "evm/mpt.h"
#include "evm/rlp.h"
#include "lib/hex.h"
#include "lib/json.h"
#include "vectors.h"

#define SET "ethereum-execution-apis"
/* The response object of a .io file of this set. */
static struct tb_json *load_io(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, SET "/%s", rel);
	return tb_vec_io_response(path);
}

static struct tb_json *expected(void)
{
	return tb_vec_json(SET "/expected.json");
}

static const char *exp_str(const struct tb_json *exp, const char *file, const char *key)
{
	const struct tb_json *f = tb_json_get(tb_json_get(exp, "files"), file);
	const char *s = tb_json_string(tb_json_get(f, key));
	if (s == NULL)
		fail_msg("expected.json: %s has no %s", file, key);
	return s;
}

static void hex32(const char *s, uint8_t out[32])
{
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_hex_decode(s, strlen(s), out, 32, &n, &err), 0);
	assert_int_equal(n, 32);
}

static void assert_hex32(const uint8_t b[32], const char *want)
{
	char got[67] = "0x";
	tb_hex_encode(b, 32, got + 2);
	assert_string_equal(got, want);
}

/* A quantity string from expected.json as 32 bytes ("0x" = 0). */
static void qty32(const char *s, uint8_t out[32])
{
	char pad[65];
	size_t len = strlen(s) - 2, n;
	struct tb_error err;
	memset(pad, '0', 64);
	memcpy(pad + 64 - len, s + 2, len);
	assert_int_equal(tb_hex_decode(pad, 64, out, 32, &n, &err), 0);
}

static const char *proof_files[] = {
	"tests/eth_getProof/get-account-proof-latest.io",
	"tests/eth_getProof/get-account-proof-blockhash.io",
	"tests/eth_getProof/get-account-proof-default-block.io",
	"tests/eth_getProof/get-account-proof-with-storage.io",
};

static void getproof_vectors(void **state)
{
	struct tb_json *exp = expected();
	for (size_t i = 0; i < 4; i++) {
		const char *f = proof_files[i];
		struct tb_json *io = load_io(f);
		uint8_t root[32], want[32];
		struct tb_eth_account a;
		struct tb_eth_slot slots[4];
		size_t ns;
		struct tb_error err;
		hex32(exp_str(exp, f, "stateRoot"), root);
		int rc = tb_ethproof_verify_getproof(tb_json_get(io, "result"), root, &a, slots, 4, &ns,
		                                     &err);
		if (rc != 0)
			fail_msg("%s: %s", f, err.msg);
		const struct tb_json *ea = tb_json_get(tb_json_get(tb_json_get(exp, "files"), f), "account");
		assert_true(a.exists);
		qty32(tb_json_string(tb_json_get(ea, "balance")), want);
		assert_memory_equal(a.balance, want, 32);
		qty32(tb_json_string(tb_json_get(ea, "nonce")), want);
		assert_int_equal(a.nonce, want[31]);
		assert_hex32(a.storage_root, tb_json_string(tb_json_get(ea, "storageRoot")));
		assert_hex32(a.code_hash, tb_json_string(tb_json_get(ea, "codeHash")));
		const struct tb_json *es = tb_json_get(tb_json_get(tb_json_get(exp, "files"), f), "storage");
		assert_int_equal(ns, tb_json_len(es));
		for (size_t s = 0; s < ns; s++) {
			qty32(tb_json_string(tb_json_get(tb_json_at(es, s), "provenValue")), want);
			assert_memory_equal(slots[s].value, want, 32);
			qty32(tb_json_string(tb_json_get(tb_json_at(es, s), "key")), want);
			assert_memory_equal(slots[s].key, want, 32);
		}
		tb_json_free(io);
	}
	tb_json_free(exp);
}

/* Each case changes the with-storage answer and expects an error saying where. */
static int tampered(void (*change)(struct tb_json *result), const uint8_t root[32],
                    struct tb_error *err)
{
	struct tb_json *io = load_io(proof_files[3]);
	struct tb_json *res = tb_json_get(io, "result");
	change(res);
	int rc = tb_ethproof_verify_getproof(res, root, NULL, NULL, 0, NULL, err);
	tb_json_free(io);
	return rc;
}

static void flip_hex(struct tb_json *s, size_t at)
{
	assert_true(s->u.string.len > at);
	char *c = &s->u.string.ptr[at];
	*c = *c == '0' ? '1' : '0';
}

static void flip_account_node1(struct tb_json *r)
{
	flip_hex(tb_json_at(tb_json_get(r, "accountProof"), 1), 40);
}
static void flip_storage_node2(struct tb_json *r)
{
	struct tb_json *sp = tb_json_at(tb_json_get(r, "storageProof"), 0);
	flip_hex(tb_json_at(tb_json_get(sp, "proof"), 2), 10);
}
static void truncate_account_proof(struct tb_json *r)
{
	struct tb_json *p = tb_json_get(r, "accountProof");
	tb_json_free(p->u.array.items[--p->u.array.len]);
}
static void claim_other_balance(struct tb_json *r)
{
	assert_int_equal(tb_json_object_set(r, "balance", 7, tb_json_new_string("0x77", 4)), 0);
}
static void claim_other_slot_value(struct tb_json *r)
{
	struct tb_json *sp = tb_json_at(tb_json_get(r, "storageProof"), 0);
	assert_int_equal(tb_json_object_set(sp, "value", 5, tb_json_new_string("0x39", 4)), 0);
}
static void keep(struct tb_json *r)
{
}

static void getproof_tampered(void **state)
{
	struct tb_json *exp = expected();
	uint8_t root[32], other[32];
	struct tb_error err;
	hex32(exp_str(exp, proof_files[3], "stateRoot"), root);
	hex32(exp_str(exp, "tests/eth_getBlockByHash/get-block-by-hash.io", "stateRoot"), other);
	tb_json_free(exp);

	assert_int_equal(tampered(flip_account_node1, root, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "node 1: hash mismatch: expected 0x"));
	assert_non_null(strstr(err.msg, "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df"));
	assert_int_equal(tampered(flip_storage_node2, root, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "storage proof 0"));
	assert_non_null(strstr(err.msg, "node 2: hash mismatch"));
	assert_int_equal(tampered(truncate_account_proof, root, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "proof ends after 2 nodes but the path needs node 2"));
	assert_int_equal(tampered(keep, other, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "node 0: hash mismatch: expected "
	                                "0xabde8ecaf1aee4710c1edbd19f01f0c9ee3495acd83818822cf13704f5c9e7dd"));
	assert_int_equal(tampered(claim_other_balance, root, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "balance claimed 0x"));
	assert_int_equal(tampered(claim_other_slot_value, root, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "value claimed 0x"));
}

/* An address with no account: one whose hashed key shares the first byte with
 * 0x7dcd...'s reaches the same leaf, which then proves it absent; the
 * empty-account claims (zero balance, empty roots) are what nodes answer. */
static void getproof_absent_account(void **state)
{
	struct tb_json *exp = expected();
	struct tb_json *io = load_io(proof_files[0]);
	struct tb_json *res = tb_json_get(io, "result");
	uint8_t root[32], target[20], addr[20] = {0}, want[32], key[32];
	size_t n;
	struct tb_error err;
	struct tb_eth_account a;
	hex32(exp_str(exp, proof_files[0], "stateRoot"), root);
	assert_int_equal(tb_hex_decode(tb_json_string(tb_json_get(res, "address")), 42, target, 20,
	                               &n, &err), 0);
	tb_keccak256(target, 20, want);
	for (unsigned i = 0; i < 65536; i++) {
		addr[18] = (uint8_t)(i >> 8);
		addr[19] = (uint8_t)i;
		tb_keccak256(addr, 20, key);
		if (key[0] == want[0] && memcmp(addr, target, 20) != 0)
			break;
	}
	assert_int_equal(key[0], want[0]);
	char hex[43] = "0x";
	tb_hex_encode(addr, 20, hex + 2);
	assert_int_equal(tb_json_object_set(res, "address", 7, tb_json_new_string(hex, 42)), 0);
	assert_int_equal(tb_json_object_set(res, "balance", 7, tb_json_new_string("0x0", 3)), 0);
	assert_int_equal(tb_json_object_set(res, "nonce", 5, tb_json_new_string("0x0", 3)), 0);
	assert_int_equal(tb_json_object_set(res, "storageHash", 11, tb_json_new_string(
		"0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421", 66)), 0);
	/* The account's real code hash is not the empty code's: refused. */
	assert_int_equal(tb_ethproof_verify_getproof(res, root, &a, NULL, 0, NULL, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "codeHash claimed 0xa3216dd3"));
	assert_int_equal(tb_json_object_set(res, "codeHash", 8, tb_json_new_string(
		"0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", 66)), 0);
	if (tb_ethproof_verify_getproof(res, root, &a, NULL, 0, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_false(a.exists);
	tb_json_free(io);
	tb_json_free(exp);
}

/* The caller's slot array bounds the storage proofs accepted, exactly. */
static void getproof_slot_limit(void **state)
{
	struct tb_json *exp = expected();
	struct tb_json *io = load_io(proof_files[3]);
	uint8_t root[32];
	struct tb_eth_slot slot;
	size_t n;
	struct tb_error err;
	hex32(exp_str(exp, proof_files[3], "stateRoot"), root);
	assert_int_equal(tb_ethproof_verify_getproof(tb_json_get(io, "result"), root, NULL, &slot, 1,
	                                             &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tb_ethproof_verify_getproof(tb_json_get(io, "result"), root, NULL, &slot, 0,
	                                             &n, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "1 storage proofs exceed the limit of 0"));
	tb_json_free(io);
	tb_json_free(exp);
}

static const char *block_files[] = {
	"tests/eth_getBlockByNumber/get-genesis.io",
	"tests/eth_getBlockByNumber/get-block-london-fork.io",
	"tests/eth_getBlockByNumber/get-block-merge-fork.io",
	"tests/eth_getBlockByNumber/get-block-shanghai-fork.io",
	"tests/eth_getBlockByNumber/get-block-cancun-fork.io",
	"tests/eth_getBlockByNumber/get-block-prague-fork.io",
	"tests/eth_getBlockByNumber/get-latest.io",
	"tests/eth_getBlockByNumber/get-safe.io",
	"tests/eth_getBlockByNumber/get-finalized.io",
	"tests/eth_getBlockByHash/get-block-by-hash.io",
};

static void header_hashes(void **state)
{
	struct tb_json *exp = expected();
	for (size_t i = 0; i < sizeof block_files / sizeof block_files[0]; i++) {
		struct tb_json *io = load_io(block_files[i]);
		uint8_t h[32];
		struct tb_error err;
		const struct tb_json *block = tb_json_get(io, "result");
		if (tb_ethproof_header_hash(block, h, &err) != 0)
			fail_msg("%s: %s", block_files[i], err.msg);
		assert_hex32(h, exp_str(exp, block_files[i], "hash"));
		assert_int_equal(tb_ethproof_check_header(block, &err), 0);
		tb_json_free(io);
	}
	tb_json_free(exp);
}

static void header_tampered(void **state)
{
	struct tb_json *io = load_io("tests/eth_getBlockByNumber/get-latest.io");
	struct tb_json *block = tb_json_get(io, "result");
	struct tb_error err;
	assert_int_equal(tb_json_object_set(block, "gasUsed", 7, tb_json_new_string("0x1", 3)), 0);
	assert_int_equal(tb_ethproof_check_header(block, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "block hash mismatch: claimed "
	                                "0xd226371d0b1551adb03fb52b71f08e3e11247fe9b1af994768af8cdaa8e7dcd7"));
	/* A later fork field without an earlier one is not a valid header. */
	assert_int_equal(tb_json_object_remove(block, "baseFeePerGas"), 0);
	assert_int_equal(tb_ethproof_check_header(block, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "\"withdrawalsRoot\" present without the earlier \"baseFeePerGas\""));
	assert_int_equal(tb_json_object_remove(block, "stateRoot"), 0);
	assert_int_equal(tb_ethproof_check_header(block, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "stateRoot"));
	tb_json_free(io);
}

static const char *receipt_files[] = {
	"tests/eth_getBlockReceipts/get-block-receipts-n.io",
	"tests/eth_getBlockReceipts/get-block-receipts-by-hash.io",
	"tests/eth_getBlockReceipts/get-block-receipts-latest.io",
	"tests/eth_getBlockReceipts/get-block-receipts-0.io",
	"tests/eth_getBlockReceipts/get-block-receipts-earliest.io",
};

static void receipts_roots(void **state)
{
	struct tb_json *exp = expected();
	for (size_t i = 0; i < sizeof receipt_files / sizeof receipt_files[0]; i++) {
		struct tb_json *io = load_io(receipt_files[i]);
		uint8_t root[32];
		struct tb_error err;
		if (tb_ethproof_receipts_root(tb_json_get(io, "result"), root, &err) != 0)
			fail_msg("%s: %s", receipt_files[i], err.msg);
		assert_hex32(root, exp_str(exp, receipt_files[i], "receiptsRoot"));
		tb_json_free(io);
	}
	tb_json_free(exp);
}

/* The receipts checked against the headers they belong to, then one changed. */
static void receipts_against_headers(void **state)
{
	const char *pairs[][2] = {
		{"tests/eth_getBlockByHash/get-block-by-hash.io", receipt_files[0]},
		{"tests/eth_getBlockByNumber/get-latest.io", receipt_files[2]},
		{"tests/eth_getBlockByNumber/get-genesis.io", receipt_files[3]},
	};
	for (size_t i = 0; i < 3; i++) {
		struct tb_json *b = load_io(pairs[i][0]), *r = load_io(pairs[i][1]);
		struct tb_error err;
		struct tb_json *block = tb_json_get(b, "result"), *list = tb_json_get(r, "result");
		assert_int_equal(tb_ethproof_check_header(block, &err), 0);
		if (tb_ethproof_check_receipts(block, list, &err) != 0)
			fail_msg("%s: %s", pairs[i][1], err.msg);
		if (tb_json_len(list) > 0) {
			struct tb_json *r0 = tb_json_at(list, tb_json_len(list) - 1);
			assert_int_equal(tb_json_object_set(r0, "cumulativeGasUsed", 17,
			                                    tb_json_new_string("0x1", 3)), 0);
			assert_int_equal(tb_ethproof_check_receipts(block, list, &err), TB_EVERIFY);
			assert_non_null(strstr(err.msg, "receipts root mismatch: header 0x"));
		}
		tb_json_free(b);
		tb_json_free(r);
	}
}

static void receipts_raw_and_single(void **state)
{
	struct tb_json *exp = expected();
	struct tb_json *raw = load_io("tests/debug_getRawReceipts/get-block-n.io");
	struct tb_json *one = load_io("tests/eth_getTransactionReceipt/get-legacy-receipt.io");
	uint8_t root[32];
	struct tb_error err;
	struct tb_buf b;
	assert_int_equal(tb_ethproof_raw_receipts_root(tb_json_get(raw, "result"), root, &err), 0);
	assert_hex32(root, tb_json_string(tb_json_get(tb_json_get(exp, "chain"), "block3_receiptsRoot")));
	tb_buf_init(&b, 0);
	assert_int_equal(tb_ethproof_receipt_encode(tb_json_get(one, "result"), &b, &err), 0);
	const char *want = exp_str(exp, "tests/eth_getTransactionReceipt/get-legacy-receipt.io",
	                           "receiptEncoding");
	char *got = malloc(2 * b.len + 3);
	got[0] = '0';
	got[1] = 'x';
	tb_hex_encode(b.data, b.len, got + 2);
	assert_string_equal(got, want);
	free(got);
	tb_buf_fini(&b);
	tb_json_free(raw);
	tb_json_free(one);
	tb_json_free(exp);
}

/* Typed receipts (EIP-2718, types 1-4): the type byte, then a 4-item list
 * whose status, gas and log count are the JSON's. No receipts root in the set
 * covers these blocks, so this checks the shape, not a root. */
static void receipts_typed(void **state)
{
	const char *files[][2] = {
		{"tests/eth_getTransactionReceipt/get-access-list.io", "\x01"},
		{"tests/eth_getTransactionReceipt/get-dynamic-fee.io", "\x02"},
		{"tests/eth_getTransactionReceipt/get-blob-tx.io", "\x03"},
		{"tests/eth_getTransactionReceipt/get-setcode-tx.io", "\x04"},
	};
	for (size_t i = 0; i < 4; i++) {
		struct tb_json *io = load_io(files[i][0]);
		const struct tb_json *r = tb_json_get(io, "result");
		struct tb_buf b;
		struct tb_error err;
		struct tb_rlp_item list, it;
		uint64_t v;
		tb_buf_init(&b, 0);
		assert_int_equal(tb_ethproof_receipt_encode(r, &b, &err), 0);
		assert_int_equal(b.data[0], (uint8_t)files[i][1][0]);
		assert_int_equal(tb_rlp_decode(b.data + 1, b.len - 1, &list, &err), 0);
		assert_int_equal(tb_rlp_count(&list), 4);
		assert_int_equal(tb_rlp_at(&list, 0, &it, &err), 0);
		assert_int_equal(tb_rlp_uint64(&it, &v, &err), 0);
		assert_int_equal(v, strtoull(tb_json_string(tb_json_get(r, "status")), NULL, 16));
		assert_int_equal(tb_rlp_at(&list, 1, &it, &err), 0);
		assert_int_equal(tb_rlp_uint64(&it, &v, &err), 0);
		assert_int_equal(v, strtoull(tb_json_string(tb_json_get(r, "cumulativeGasUsed")), NULL, 16));
		assert_int_equal(tb_rlp_at(&list, 3, &it, &err), 0);
		assert_int_equal(tb_rlp_count(&it), tb_json_len(tb_json_get(r, "logs")));
		tb_buf_fini(&b);
		tb_json_free(io);
	}
}

static void null_results(void **state)
{
	const char *files[] = {
		"tests/eth_getBlockReceipts/get-block-receipts-empty.io",
		"tests/eth_getBlockReceipts/get-block-receipts-future.io",
		"tests/eth_getBlockReceipts/get-block-receipts-not-found.io",
		"tests/eth_getBlockByNumber/get-block-notfound.io",
	};
	for (size_t i = 0; i < 4; i++) {
		struct tb_json *io = load_io(files[i]);
		uint8_t h[32];
		struct tb_error err;
		const struct tb_json *res = tb_json_get(io, "result");
		assert_non_null(res);
		assert_int_equal(res->type, TB_JSON_NULL);
		assert_int_equal(tb_ethproof_receipts_root(res, h, &err), TB_EINVAL);
		assert_int_equal(tb_ethproof_header_hash(res, h, &err), TB_EINVAL);
		tb_json_free(io);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(getproof_vectors),        cmocka_unit_test(getproof_tampered),
		cmocka_unit_test(getproof_absent_account), cmocka_unit_test(header_hashes),
		cmocka_unit_test(header_tampered),         cmocka_unit_test(receipts_roots),
		cmocka_unit_test(receipts_against_headers), cmocka_unit_test(receipts_raw_and_single),
		cmocka_unit_test(receipts_typed),          cmocka_unit_test(null_results),
		cmocka_unit_test(getproof_slot_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
