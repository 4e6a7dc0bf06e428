/* Merkle-Patricia trie: roots from ethereum/tests (TrieTests, every file, via
 * the JSON vectors) and proofs from real eth_getProof answers, with tampered,
 * truncated and mis-rooted proofs refused with the node named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "evm/mpt.h"
#include "lib/hex.h"
#include "lib/json.h"
#include "vectors.h"

static void assert_root(const uint8_t root[32], const char *hex)
{
	char got[65];
	tb_hex_encode(root, 32, got);
	assert_string_equal(got, hex + 2);
}

#define PAIR(k, v) {(const uint8_t *)(k), sizeof(k) - 1, (const uint8_t *)(v), sizeof(v) - 1}

/* ethereum/tests TrieTests/trieanyorder.json "puppy", in two insertion orders. */
static void root_puppy_any_order(void **state)
{
	const struct tb_mpt_pair a[] = {PAIR("do", "verb"), PAIR("horse", "stallion"),
	                                PAIR("doge", "coin"), PAIR("dog", "puppy")};
	const struct tb_mpt_pair b[] = {PAIR("dog", "puppy"), PAIR("doge", "coin"),
	                                PAIR("horse", "stallion"), PAIR("do", "verb")};
	uint8_t root[32];
	struct tb_error err;
	const char *want = "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84";
	assert_int_equal(tb_mpt_root(a, 4, 0, root, &err), 0);
	assert_root(root, want);
	assert_int_equal(tb_mpt_root(b, 4, 0, root, &err), 0);
	assert_root(root, want);
}

/* trieanyorder.json "singleItem" and "dogs"; an empty set is the empty root. */
static void root_single_and_dogs(void **state)
{
	const struct tb_mpt_pair one[] = {
		PAIR("A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")};
	const struct tb_mpt_pair dogs[] = {PAIR("doe", "reindeer"), PAIR("dog", "puppy"),
	                                   PAIR("dogglesworth", "cat")};
	uint8_t root[32];
	struct tb_error err;
	assert_int_equal(tb_mpt_root(one, 1, 0, root, &err), 0);
	assert_root(root, "0xd23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab");
	assert_int_equal(tb_mpt_root(dogs, 3, 0, root, &err), 0);
	assert_root(root, "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
	assert_int_equal(tb_mpt_root(NULL, 0, 0, root, &err), 0);
	assert_root(root, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
}

/* Deleting is writing an empty value; the last write of a key wins. */
static void root_last_write_wins(void **state)
{
	const struct tb_mpt_pair ops[] = {PAIR("do", "verb"), PAIR("horse", "x"),
	                                  PAIR("doge", "coin"), PAIR("ether", "wookiedoo"),
	                                  PAIR("dog", "puppy"), PAIR("horse", "stallion"),
	                                  PAIR("ether", "")};
	uint8_t root[32];
	struct tb_error err;
	assert_int_equal(tb_mpt_root(ops, 7, 0, root, &err), 0);
	assert_root(root, "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");
}

static void root_key_limit(void **state)
{
	uint8_t key[TB_MPT_MAX_KEY + 1] = {0};
	struct tb_mpt_pair p = {key, TB_MPT_MAX_KEY, (const uint8_t *)"v", 1};
	uint8_t root[32];
	struct tb_error err;
	assert_int_equal(tb_mpt_root(&p, 1, 0, root, &err), 0);
	p.key_len++;
	assert_int_equal(tb_mpt_root(&p, 1, 0, root, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "pair 0"));
}

static void verify_empty_trie(void **state)
{
	struct tb_error err;
	int found = 1;
	const uint8_t *v;
	size_t vl;
	struct tb_mpt_node empty = {(const uint8_t *)"\x80", 1};
	assert_int_equal(tb_mpt_verify(tb_mpt_empty_root, (const uint8_t *)"k", 1, NULL, 0, &found,
	                               &v, &vl, &err), 0);
	assert_false(found);
	assert_int_equal(tb_mpt_verify(tb_mpt_empty_root, (const uint8_t *)"k", 1, &empty, 1, &found,
	                               &v, &vl, &err), 0);
	assert_false(found);
	uint8_t other[32] = {1};
	assert_int_equal(tb_mpt_verify(other, (const uint8_t *)"k", 1, &empty, 1, &found, &v, &vl,
	                               &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "node 0: hash mismatch: expected 0x0100"));
	assert_int_equal(tb_mpt_verify(other, (const uint8_t *)"k", 1, NULL, 0, &found, &v, &vl,
	                               &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "proof ends after 0 nodes"));
}

static void verify_limits(void **state)
{
	static struct tb_mpt_node nodes[TB_MPT_MAX_PROOF_NODES + 1];
	uint8_t key[TB_MPT_MAX_KEY + 1] = {0};
	struct tb_error err;
	int found;
	const uint8_t *v;
	size_t vl;
	for (size_t i = 0; i <= TB_MPT_MAX_PROOF_NODES; i++)
		nodes[i] = (struct tb_mpt_node){(const uint8_t *)"\x80", 1};
	/* At the limit the walk runs (and finds the extra nodes); past it, refused. */
	assert_int_equal(tb_mpt_verify(tb_mpt_empty_root, key, 32, nodes, TB_MPT_MAX_PROOF_NODES,
	                               &found, &v, &vl, &err), TB_EVERIFY);
	assert_non_null(strstr(err.msg, "path ends at node 0"));
	assert_int_equal(tb_mpt_verify(tb_mpt_empty_root, key, 32, nodes,
	                               TB_MPT_MAX_PROOF_NODES + 1, &found, &v, &vl, &err), TB_ELIMIT);
	assert_int_equal(tb_mpt_verify(tb_mpt_empty_root, key, TB_MPT_MAX_KEY, nodes, 1, &found, &v,
	                               &vl, &err), 0);
	assert_int_equal(tb_mpt_verify(tb_mpt_empty_root, key, TB_MPT_MAX_KEY + 1, nodes, 1, &found,
	                               &v, &vl, &err), TB_ELIMIT);
}

/* ---- ethereum/tests TrieTests ---- */

static struct tb_json *load_trie_vectors(const char *name)
{
	char rel[512];
	snprintf(rel, sizeof rel, "ethereum-tests/TrieTests/%s", name);
	return tb_vec_json(rel);
}

/* "0x..." is hex, anything else its UTF-8 bytes, null is the empty value
 * (a deletion). Returned bytes are malloc'd. */
static uint8_t *vector_bytes(const char *s, size_t len, size_t *n)
{
	uint8_t *p;
	struct tb_error err;
	if (s == NULL) {
		*n = 0;
		return malloc(1);
	}
	if (len >= 2 && s[0] == '0' && s[1] == 'x') {
		assert_int_equal(tb_hex_decode_alloc(s, len, &p, n, &err), 0);
		return p;
	}
	p = malloc(len ? len : 1);
	memcpy(p, s, len);
	*n = len;
	return p;
}

static void run_trie_file(const char *name, int secure, size_t want_cases)
{
	struct tb_json *j = load_trie_vectors(name);
	assert_int_equal(tb_json_len(j), want_cases);
	for (size_t c = 0; c < tb_json_len(j); c++) {
		const char *cname = j->u.object.members[c].key;
		const struct tb_json *tc = j->u.object.members[c].value;
		const struct tb_json *in = tb_json_get(tc, "in");
		size_t n = tb_json_len(in);
		struct tb_mpt_pair *pairs = calloc(n ? n : 1, sizeof *pairs);
		for (size_t i = 0; i < n; i++) {
			const char *k, *v;
			size_t kl, vl;
			const struct tb_json *val;
			if (in->type == TB_JSON_ARRAY) {
				const struct tb_json *op = tb_json_at(in, i);
				k = tb_json_string(tb_json_at(op, 0));
				kl = tb_json_at(op, 0)->u.string.len;
				val = tb_json_at(op, 1);
			} else {
				k = in->u.object.members[i].key;
				kl = in->u.object.members[i].key_len;
				val = in->u.object.members[i].value;
			}
			v = tb_json_string(val);
			vl = v ? val->u.string.len : 0;
			pairs[i].key = vector_bytes(k, kl, &pairs[i].key_len);
			pairs[i].value = vector_bytes(v, vl, &pairs[i].value_len);
		}
		uint8_t root[32];
		struct tb_error err;
		char got[67] = "0x";
		if (tb_mpt_root(pairs, n, secure, root, &err) != 0)
			fail_msg("%s/%s: %s", name, cname, err.msg);
		tb_hex_encode(root, 32, got + 2);
		const char *want = tb_json_string(tb_json_get(tc, "root"));
		if (strcmp(got, want) != 0)
			fail_msg("%s/%s: root %s, want %s", name, cname, got, want);
		for (size_t i = 0; i < n; i++) {
			free((void *)pairs[i].key);
			free((void *)pairs[i].value);
		}
		free(pairs);
	}
	tb_json_free(j);
}

static void trie_vectors(void **state)
{
	run_trie_file("trietest.json", 0, 5);
	run_trie_file("trietest_secureTrie.json", 1, 3);
	run_trie_file("trieanyorder.json", 0, 7);
	run_trie_file("trieanyorder_secureTrie.json", 1, 7);
	run_trie_file("hex_encoded_securetrie_test.json", 1, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(root_puppy_any_order), cmocka_unit_test(root_single_and_dogs),
		cmocka_unit_test(root_last_write_wins), cmocka_unit_test(root_key_limit),
		cmocka_unit_test(verify_empty_trie),
		cmocka_unit_test(trie_vectors),
		cmocka_unit_test(verify_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
