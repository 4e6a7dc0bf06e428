/* Ethereum proof checks over JSON-RPC answers. JSON values are read strictly:
 * fixed-size fields (hashes, addresses, bloom) must have exactly their size, and
 * quantities are hex of at most 32 bytes. Invariant: a result is only reported
 * as verified after it was rebuilt from bytes the root or hash commits to. */
#include <stdlib.h>
#include <string.h>

#include "evm/ethproof.h"
#include "crypto/hash.h"
#include "evm/mpt.h"
#include "evm/rlp.h"
#include "lib/hex.h"

/* ---- JSON field readers ---- */

static const struct tb_json *need(const struct tb_json *obj, const char *key,
                                  enum tb_json_type type, struct tb_error *err)
{
	const struct tb_json *v = tb_json_get(obj, key);
	if (v == NULL || v->type != type) {
		tb_error_set(err, TB_EINVAL, "field \"%s\" is %s, expected %s", key,
		             v ? tb_json_type_name(v->type) : "missing", tb_json_type_name(type));
		return NULL;
	}
	return v;
}

/* A hex string of exactly n bytes. */
static int hex_exact(const struct tb_json *v, const char *what, uint8_t *out, size_t n,
                     struct tb_error *err)
{
	size_t got;
	const char *s = tb_json_string(v);
	if (s == NULL)
		return tb_error_set(err, TB_EINVAL, "%s is not a string", what);
	size_t len = v->u.string.len;
	if (len < 2 || s[0] != '0' || s[1] != 'x' || len != 2 + 2 * n)
		return tb_error_set(err, TB_EINVAL, "%s must be 0x and %zu hex digits", what, 2 * n);
	int rc = tb_hex_decode(s, len, out, n, &got, err);
	if (rc < 0)
		tb_error_prefix(err, "%s", what);
	return rc;
}

static int field_exact(const struct tb_json *obj, const char *key, uint8_t *out, size_t n,
                       struct tb_error *err)
{
	const struct tb_json *v = need(obj, key, TB_JSON_STRING, err);
	return v ? hex_exact(v, key, out, n, err) : TB_EINVAL;
}

/* A hex quantity ("0x0", "0x1f", ...) as 32 bytes big-endian, left-padded. */
static int quantity(const struct tb_json *v, const char *what, uint8_t out[32],
                    struct tb_error *err)
{
	const char *s = tb_json_string(v);
	if (s == NULL || v->u.string.len < 2 || s[0] != '0' || s[1] != 'x')
		return tb_error_set(err, TB_EINVAL, "%s must be a 0x-prefixed hex quantity", what);
	size_t len = v->u.string.len - 2;
	s += 2;
	while (len > 0 && s[0] == '0') {
		s++;
		len--;
	}
	if (len > 64)
		return tb_error_set(err, TB_EINVAL, "%s exceeds 256 bits", what);
	char pad[65];
	size_t off = 64 - len, got;
	memset(pad, '0', off);
	memcpy(pad + off, s, len);
	int rc = tb_hex_decode(pad, 64, out, 32, &got, err);
	if (rc < 0)
		tb_error_prefix(err, "%s", what);
	return rc;
}

static int field_quantity(const struct tb_json *obj, const char *key, uint8_t out[32],
                          struct tb_error *err)
{
	const struct tb_json *v = need(obj, key, TB_JSON_STRING, err);
	return v ? quantity(v, key, out, err) : TB_EINVAL;
}

/* Variable-length hex data, appended to out as an RLP string. */
static int put_data(struct tb_buf *out, const struct tb_json *obj, const char *key,
                    struct tb_error *err)
{
	const struct tb_json *v = need(obj, key, TB_JSON_STRING, err);
	if (v == NULL)
		return TB_EINVAL;
	uint8_t *p;
	size_t n;
	int rc = tb_hex_decode_alloc(v->u.string.ptr, v->u.string.len, &p, &n, err);
	if (rc < 0) {
		tb_error_prefix(err, "%s", key);
		return rc;
	}
	rc = tb_rlp_put_bytes(out, p, n);
	free(p);
	return rc < 0 ? tb_error_set(err, rc, "%s: encoding failed", key) : 0;
}

static int put_exact(struct tb_buf *out, const struct tb_json *obj, const char *key, size_t n,
                     struct tb_error *err)
{
	uint8_t b[256];
	int rc = field_exact(obj, key, b, n, err);
	if (rc == 0 && (rc = tb_rlp_put_bytes(out, b, n)) < 0)
		tb_error_set(err, rc, "%s: encoding failed", key);
	return rc;
}

static int put_quantity(struct tb_buf *out, const struct tb_json *obj, const char *key,
                        struct tb_error *err)
{
	uint8_t q[32];
	int rc = field_quantity(obj, key, q, err);
	if (rc == 0 && (rc = tb_rlp_put_uint_be(out, q, 32)) < 0)
		tb_error_set(err, rc, "%s: encoding failed", key);
	return rc;
}

static void hexs(const uint8_t *b, size_t n, char *out)
{
	out[0] = '0';
	out[1] = 'x';
	tb_hex_encode(b, n, out + 2);
}

/* ---- block headers ---- */

enum kind { K_HASH, K_ADDR, K_BLOOM, K_QTY, K_DATA, K_NONCE };

struct header_field {
	const char *name;
	enum kind kind;
	int optional; /* added by a fork: present from that fork on, in this order */
};

static const struct header_field header_fields[] = {
	{"parentHash", K_HASH, 0},     {"sha3Uncles", K_HASH, 0},
	{"miner", K_ADDR, 0},          {"stateRoot", K_HASH, 0},
	{"transactionsRoot", K_HASH, 0}, {"receiptsRoot", K_HASH, 0},
	{"logsBloom", K_BLOOM, 0},     {"difficulty", K_QTY, 0},
	{"number", K_QTY, 0},          {"gasLimit", K_QTY, 0},
	{"gasUsed", K_QTY, 0},         {"timestamp", K_QTY, 0},
	{"extraData", K_DATA, 0},      {"mixHash", K_HASH, 0},
	{"nonce", K_NONCE, 0},         {"baseFeePerGas", K_QTY, 1},          /* London */
	{"withdrawalsRoot", K_HASH, 1}, /* Shanghai */
	{"blobGasUsed", K_QTY, 1},     {"excessBlobGas", K_QTY, 1},          /* Cancun */
	{"parentBeaconBlockRoot", K_HASH, 1}, {"requestsHash", K_HASH, 1},   /* Prague */
};

static int put_field(struct tb_buf *out, const struct tb_json *obj, const char *name,
                     enum kind kind, struct tb_error *err)
{
	switch (kind) {
	case K_HASH:
		return put_exact(out, obj, name, 32, err);
	case K_ADDR:
		return put_exact(out, obj, name, 20, err);
	case K_BLOOM:
		return put_exact(out, obj, name, 256, err);
	case K_NONCE:
		return put_exact(out, obj, name, 8, err);
	case K_QTY:
		return put_quantity(out, obj, name, err);
	case K_DATA:
		return put_data(out, obj, name, err);
	}
	return tb_error_set(err, TB_EINVAL, "%s: unknown field kind", name);
}

static int header_rlp(const struct tb_json *block, struct tb_buf *out, struct tb_error *err)
{
	size_t mark;
	const char *missing = NULL;
	if (block == NULL || block->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "block: expected an object");
	tb_rlp_list_begin(out, &mark);
	for (size_t i = 0; i < sizeof header_fields / sizeof header_fields[0]; i++) {
		const struct header_field *f = &header_fields[i];
		const struct tb_json *v = tb_json_get(block, f->name);
		if (f->optional && (v == NULL || v->type == TB_JSON_NULL)) {
			missing = missing ? missing : f->name;
			continue;
		}
		if (missing)
			return tb_error_set(err, TB_EINVAL,
			                    "block: header field \"%s\" present without the earlier \"%s\"",
			                    f->name, missing);
		int rc = put_field(out, block, f->name, f->kind, err);
		if (rc < 0) {
			tb_error_prefix(err, "block header");
			return rc;
		}
	}
	int rc = tb_rlp_list_end(out, mark);
	return rc < 0 ? tb_error_set(err, rc, "block header: encoding failed") : 0;
}

int tb_ethproof_header_hash(const struct tb_json *block, uint8_t hash[32], struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, 1 << 20);
	int rc = header_rlp(block, &b, err);
	if (rc == 0)
		tb_keccak256(b.data, b.len, hash);
	tb_buf_fini(&b);
	return rc;
}

int tb_ethproof_check_header(const struct tb_json *block, struct tb_error *err)
{
	uint8_t claimed[32], got[32];
	int rc = tb_ethproof_header_hash(block, got, err);
	if (rc == 0)
		rc = field_exact(block, "hash", claimed, 32, err);
	if (rc < 0 || memcmp(claimed, got, 32) == 0)
		return rc;
	char c[67], g[67];
	hexs(claimed, 32, c);
	hexs(got, 32, g);
	return tb_error_set(err, TB_EVERIFY, "block hash mismatch: claimed %s, header hashes to %s",
	                    c, g);
}

/* ---- receipts ---- */

static int put_log(struct tb_buf *out, const struct tb_json *log, struct tb_error *err)
{
	size_t mark, tmark;
	const struct tb_json *topics = need(log, "topics", TB_JSON_ARRAY, err);
	if (topics == NULL)
		return TB_EINVAL;
	tb_rlp_list_begin(out, &mark);
	int rc = put_exact(out, log, "address", 20, err);
	tb_rlp_list_begin(out, &tmark);
	for (size_t i = 0; rc == 0 && i < tb_json_len(topics); i++) {
		uint8_t t[32];
		rc = hex_exact(tb_json_at(topics, i), "topic", t, 32, err);
		if (rc == 0 && (rc = tb_rlp_put_bytes(out, t, 32)) < 0)
			tb_error_set(err, rc, "topic: encoding failed");
	}
	if (rc == 0 && (rc = tb_rlp_list_end(out, tmark)) < 0)
		tb_error_set(err, rc, "topics: encoding failed");
	if (rc == 0)
		rc = put_data(out, log, "data", err);
	if (rc == 0 && (rc = tb_rlp_list_end(out, mark)) < 0)
		tb_error_set(err, rc, "log: encoding failed");
	return rc;
}

/* Post-state root (pre-Byzantium) when "root" is given, else the status. */
static int put_outcome(struct tb_buf *out, const struct tb_json *r, struct tb_error *err)
{
	const struct tb_json *root = tb_json_get(r, "root");
	if (root != NULL && root->type != TB_JSON_NULL)
		return put_exact(out, r, "root", 32, err);
	return put_quantity(out, r, "status", err);
}

/* The receipt type: 0 for legacy (absent or "0x0"), else an EIP-2718 type. */
static int receipt_type(const struct tb_json *r, unsigned *type, struct tb_error *err)
{
	uint8_t q[32];
	const struct tb_json *t = tb_json_get(r, "type");
	*type = 0;
	if (t == NULL)
		return 0;
	int rc = quantity(t, "type", q, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < 31; i++)
		if (q[i])
			return tb_error_set(err, TB_EINVAL, "type is not a transaction type");
	if (q[31] > 0x7f)
		return tb_error_set(err, TB_EINVAL, "type 0x%x is outside 0x00..0x7f (EIP-2718)",
		                    q[31]);
	*type = q[31];
	return 0;
}

int tb_ethproof_receipt_encode(const struct tb_json *r, struct tb_buf *out, struct tb_error *err)
{
	unsigned type;
	size_t mark;
	if (r == NULL || r->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "receipt: expected an object");
	int rc = receipt_type(r, &type, err);
	const struct tb_json *logs = rc == 0 ? need(r, "logs", TB_JSON_ARRAY, err) : NULL;
	if (logs == NULL) {
		tb_error_prefix(err, "receipt");
		return rc < 0 ? rc : TB_EINVAL;
	}
	if (type != 0 && (rc = tb_buf_putc(out, (int)type)) < 0)
		return tb_error_set(err, rc, "receipt: encoding failed");
	tb_rlp_list_begin(out, &mark);
	rc = put_outcome(out, r, err);
	if (rc == 0)
		rc = put_quantity(out, r, "cumulativeGasUsed", err);
	if (rc == 0)
		rc = put_exact(out, r, "logsBloom", 256, err);
	size_t lmark;
	tb_rlp_list_begin(out, &lmark);
	for (size_t i = 0; rc == 0 && i < tb_json_len(logs); i++) {
		rc = put_log(out, tb_json_at(logs, i), err);
		if (rc < 0)
			tb_error_prefix(err, "log %zu", i);
	}
	if (rc == 0 && ((rc = tb_rlp_list_end(out, lmark)) < 0 || (rc = tb_rlp_list_end(out, mark)) < 0))
		tb_error_set(err, rc, "encoding failed");
	if (rc < 0)
		tb_error_prefix(err, "receipt");
	return rc;
}

/* Trie of key rlp(i) -> enc[i]; enc holds n encodings back to back, ends[i] after each. */
static int index_trie_root(const struct tb_buf *enc, const size_t *ends, size_t n,
                           uint8_t root[32], struct tb_error *err)
{
	struct tb_mpt_pair *pairs = calloc(n ? n : 1, sizeof *pairs);
	uint8_t(*keys)[9] = calloc(n ? n : 1, sizeof *keys);
	int rc = 0;
	if (pairs == NULL || keys == NULL) {
		rc = tb_error_set(err, TB_ENOMEM, "receipts: out of memory for %zu receipts", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct tb_buf k;
		tb_buf_init(&k, 0);
		rc = tb_rlp_put_uint(&k, i);
		if (rc < 0) {
			tb_buf_fini(&k);
			rc = tb_error_set(err, rc, "receipts: out of memory");
			goto out;
		}
		memcpy(keys[i], k.data, k.len);
		size_t start = i ? ends[i - 1] : 0;
		pairs[i] = (struct tb_mpt_pair){keys[i], k.len, enc->data + start, ends[i] - start};
		tb_buf_fini(&k);
	}
	rc = tb_mpt_root(pairs, n, 0, root, err);
out:
	free(pairs);
	free(keys);
	return rc;
}

static int check_index(const struct tb_json *r, size_t i, struct tb_error *err)
{
	uint8_t q[32], want[32] = {0};
	const struct tb_json *t = tb_json_get(r, "transactionIndex");
	if (t == NULL)
		return 0;
	int rc = quantity(t, "transactionIndex", q, err);
	for (size_t k = 0; k < sizeof i; k++)
		want[31 - k] = (uint8_t)(i >> (8 * k));
	if (rc == 0 && memcmp(q, want, 32) != 0)
		rc = tb_error_set(err, TB_EINVAL, "transactionIndex %s is not its position %zu",
		                  tb_json_string(t), i);
	return rc;
}

/* Shared by both receipt forms: encode item i of arr onto enc. */
typedef int (*encode_fn)(const struct tb_json *item, size_t i, struct tb_buf *enc,
                         struct tb_error *err);

static int build_root(const struct tb_json *arr, encode_fn fn, uint8_t root[32],
                      struct tb_error *err)
{
	if (arr == NULL || arr->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "receipts: expected an array");
	size_t n = tb_json_len(arr);
	if (n > TB_ETHPROOF_MAX_RECEIPTS)
		return tb_error_set(err, TB_ELIMIT, "receipts: %zu receipts exceed the limit of %d", n,
		                    TB_ETHPROOF_MAX_RECEIPTS);
	size_t *ends = malloc((n ? n : 1) * sizeof *ends);
	struct tb_buf enc;
	tb_buf_init(&enc, 0);
	int rc = ends ? 0 : tb_error_set(err, TB_ENOMEM, "receipts: out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = fn(tb_json_at(arr, i), i, &enc, err);
		if (rc < 0)
			tb_error_prefix(err, "receipt %zu", i);
		else
			ends[i] = enc.len;
	}
	if (rc == 0)
		rc = index_trie_root(&enc, ends, n, root, err);
	free(ends);
	tb_buf_fini(&enc);
	return rc;
}

static int encode_json_receipt(const struct tb_json *r, size_t i, struct tb_buf *enc,
                               struct tb_error *err)
{
	int rc = tb_ethproof_receipt_encode(r, enc, err);
	return rc < 0 ? rc : check_index(r, i, err);
}

static int encode_raw_receipt(const struct tb_json *r, size_t i, struct tb_buf *enc,
                              struct tb_error *err)
{
	uint8_t *p;
	size_t n;
	const char *s = tb_json_string(r);
	if (s == NULL)
		return tb_error_set(err, TB_EINVAL, "expected a hex string");
	int rc = tb_hex_decode_alloc(s, r->u.string.len, &p, &n, err);
	if (rc < 0)
		return rc;
	if (n == 0)
		rc = tb_error_set(err, TB_EINVAL, "empty receipt encoding");
	else if ((rc = tb_buf_append(enc, p, n)) < 0)
		tb_error_set(err, rc, "out of memory");
	free(p);
	return rc;
}

int tb_ethproof_receipts_root(const struct tb_json *receipts, uint8_t root[32],
                              struct tb_error *err)
{
	return build_root(receipts, encode_json_receipt, root, err);
}

int tb_ethproof_raw_receipts_root(const struct tb_json *raw, uint8_t root[32],
                                  struct tb_error *err)
{
	return build_root(raw, encode_raw_receipt, root, err);
}

int tb_ethproof_check_receipts(const struct tb_json *block, const struct tb_json *receipts,
                               struct tb_error *err)
{
	uint8_t claimed[32], got[32];
	int rc = tb_ethproof_receipts_root(receipts, got, err);
	if (rc == 0)
		rc = field_exact(block, "receiptsRoot", claimed, 32, err);
	if (rc < 0 || memcmp(claimed, got, 32) == 0)
		return rc;
	char c[67], g[67];
	hexs(claimed, 32, c);
	hexs(got, 32, g);
	return tb_error_set(err, TB_EVERIFY, "receipts root mismatch: header %s, rebuilt %s", c, g);
}

/* ---- eth_getProof ---- */

/* Decode a JSON array of hex proof nodes; nodes[i].data are malloc'd. */
static int load_proof(const struct tb_json *arr, struct tb_mpt_node *nodes, size_t *n,
                      struct tb_error *err)
{
	*n = 0;
	if (arr == NULL || arr->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "proof: expected an array of hex nodes");
	if (tb_json_len(arr) > TB_MPT_MAX_PROOF_NODES)
		return tb_error_set(err, TB_ELIMIT, "proof: %zu nodes exceed the limit of %d",
		                    tb_json_len(arr), TB_MPT_MAX_PROOF_NODES);
	for (size_t i = 0; i < tb_json_len(arr); i++) {
		const struct tb_json *v = tb_json_at(arr, i);
		uint8_t *p;
		if (v->type != TB_JSON_STRING)
			return tb_error_set(err, TB_EINVAL, "proof node %zu: expected a hex string", i);
		int rc = tb_hex_decode_alloc(v->u.string.ptr, v->u.string.len, &p, &nodes[i].len, err);
		if (rc < 0) {
			tb_error_prefix(err, "proof node %zu", i);
			return rc;
		}
		nodes[i].data = p;
		*n = i + 1;
	}
	return 0;
}

static void free_proof(struct tb_mpt_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)nodes[i].data);
}

/* Walk a JSON proof for key (hashed here) from root. */
static int walk(const struct tb_json *proof, const uint8_t root[32], const uint8_t *key,
                size_t key_len, int *found, uint8_t *value, size_t cap, size_t *value_len,
                struct tb_error *err)
{
	struct tb_mpt_node nodes[TB_MPT_MAX_PROOF_NODES];
	size_t n;
	uint8_t h[32];
	const uint8_t *v;
	tb_keccak256(key, key_len, h);
	int rc = load_proof(proof, nodes, &n, err);
	if (rc == 0)
		rc = tb_mpt_verify(root, h, 32, nodes, n, found, &v, value_len, err);
	if (rc == 0 && *found && *value_len > cap)
		rc = tb_error_set(err, TB_EVERIFY, "proven value of %zu bytes exceeds %zu", *value_len,
		                  cap);
	if (rc == 0 && *found)
		memcpy(value, v, *value_len);
	free_proof(nodes, n);
	return rc;
}

/* A canonical RLP integer of at most 32 bytes, left-padded into out. */
static int rlp_uint256(const struct tb_rlp_item *it, const char *what, uint8_t out[32],
                       struct tb_error *err)
{
	memset(out, 0, 32);
	if (it->is_list || it->len > 32 || (it->len > 0 && it->payload[0] == 0))
		return tb_error_set(err, TB_EVERIFY, "proven %s is not a canonical 256-bit integer",
		                    what);
	memcpy(out + 32 - it->len, it->payload, it->len);
	return 0;
}

static int rlp_hash(const struct tb_rlp_item *it, const char *what, uint8_t out[32],
                    struct tb_error *err)
{
	if (it->is_list || it->len != 32)
		return tb_error_set(err, TB_EVERIFY, "proven %s is not 32 bytes", what);
	memcpy(out, it->payload, 32);
	return 0;
}

/* rlp([nonce, balance, storageRoot, codeHash]) into acct. */
static int decode_account(const uint8_t *v, size_t n, struct tb_eth_account *a,
                          struct tb_error *err)
{
	struct tb_rlp_item list, f[4];
	uint8_t nonce[32];
	int rc = tb_rlp_decode(v, n, &list, err);
	if (rc == 0 && (!list.is_list || tb_rlp_count(&list) != 4))
		rc = tb_error_set(err, TB_EVERIFY, "proven account is not a list of 4 fields");
	for (size_t i = 0; rc == 0 && i < 4; i++)
		rc = tb_rlp_at(&list, i, &f[i], err);
	if (rc == 0)
		rc = rlp_uint256(&f[0], "nonce", nonce, err);
	if (rc == 0)
		rc = rlp_uint256(&f[1], "balance", a->balance, err);
	if (rc == 0)
		rc = rlp_hash(&f[2], "storageRoot", a->storage_root, err);
	if (rc == 0)
		rc = rlp_hash(&f[3], "codeHash", a->code_hash, err);
	for (size_t i = 0; rc == 0 && i < 24; i++)
		if (nonce[i])
			rc = tb_error_set(err, TB_EVERIFY, "proven nonce exceeds 64 bits");
	a->nonce = 0;
	for (size_t i = 24; rc == 0 && i < 32; i++)
		a->nonce = a->nonce << 8 | nonce[i];
	a->exists = rc == 0;
	return rc;
}

/* The claimed JSON field must equal the proven 32 bytes. */
static int same(const struct tb_json *obj, const char *key, int is_qty, const uint8_t proven[32],
                struct tb_error *err)
{
	uint8_t c[32];
	int rc = is_qty ? field_quantity(obj, key, c, err) : field_exact(obj, key, c, 32, err);
	if (rc < 0 || memcmp(c, proven, 32) == 0)
		return rc;
	char cs[67], ps[67];
	hexs(c, 32, cs);
	hexs(proven, 32, ps);
	return tb_error_set(err, TB_EVERIFY, "%s claimed %s but the proof gives %s", key, cs, ps);
}

static int check_account_claims(const struct tb_json *res, const struct tb_eth_account *a,
                                struct tb_error *err)
{
	uint8_t nonce[32] = {0};
	for (size_t i = 0; i < 8; i++)
		nonce[31 - i] = (uint8_t)(a->nonce >> (8 * i));
	int rc = same(res, "nonce", 1, nonce, err);
	if (rc == 0)
		rc = same(res, "balance", 1, a->balance, err);
	if (rc == 0)
		rc = same(res, "storageHash", 0, a->storage_root, err);
	if (rc == 0)
		rc = same(res, "codeHash", 0, a->code_hash, err);
	return rc;
}

static int verify_account(const struct tb_json *res, const uint8_t state_root[32],
                          struct tb_eth_account *a, struct tb_error *err)
{
	uint8_t addr[20], value[256];
	size_t vlen;
	int found;
	memset(a, 0, sizeof *a);
	int rc = field_exact(res, "address", addr, 20, err);
	if (rc == 0)
		rc = walk(tb_json_get(res, "accountProof"), state_root, addr, 20, &found, value,
		          sizeof value, &vlen, err);
	if (rc == 0 && found)
		rc = decode_account(value, vlen, a, err);
	if (rc == 0 && !found) { /* what nodes report for an account that does not exist */
		memcpy(a->storage_root, tb_mpt_empty_root, 32);
		tb_keccak256("", 0, a->code_hash);
	}
	if (rc == 0)
		rc = check_account_claims(res, a, err);
	if (rc < 0) {
		char as[43];
		hexs(addr, 20, as);
		tb_error_prefix(err, "eth_getProof: account %s", as);
	}
	return rc;
}

static int verify_slot(const struct tb_json *sp, const uint8_t storage_root[32],
                       struct tb_eth_slot *slot, struct tb_error *err)
{
	uint8_t value[64];
	size_t vlen;
	int found;
	struct tb_rlp_item it;
	memset(slot, 0, sizeof *slot);
	int rc = field_quantity(sp, "key", slot->key, err);
	if (rc == 0)
		rc = walk(tb_json_get(sp, "proof"), storage_root, slot->key, 32, &found, value,
		          sizeof value, &vlen, err);
	if (rc == 0 && found && (rc = tb_rlp_decode(value, vlen, &it, err)) == 0)
		rc = rlp_uint256(&it, "storage value", slot->value, err);
	if (rc == 0 && found && !memcmp(slot->value, (uint8_t[32]){0}, 32))
		rc = tb_error_set(err, TB_EVERIFY, "the trie stores a zero value, which it never should");
	if (rc == 0)
		rc = same(sp, "value", 1, slot->value, err);
	return rc;
}

int tb_ethproof_verify_getproof(const struct tb_json *result, const uint8_t state_root[32],
                                struct tb_eth_account *acct, struct tb_eth_slot *slots,
                                size_t max_slots, size_t *n_slots, struct tb_error *err)
{
	struct tb_eth_account a;
	if (n_slots)
		*n_slots = 0;
	if (result == NULL || result->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "eth_getProof: result is not an object");
	int rc = verify_account(result, state_root, &a, err);
	if (rc < 0)
		return rc;
	if (acct)
		*acct = a;
	const struct tb_json *sps = tb_json_get(result, "storageProof");
	if (sps == NULL)
		return 0;
	if (sps->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "eth_getProof: storageProof is not an array");
	size_t n = tb_json_len(sps);
	if (n > TB_ETHPROOF_MAX_SLOTS || (slots && n > max_slots))
		return tb_error_set(err, TB_ELIMIT, "eth_getProof: %zu storage proofs exceed the limit of %zu",
		                    n, slots && max_slots < TB_ETHPROOF_MAX_SLOTS ? max_slots : (size_t)TB_ETHPROOF_MAX_SLOTS);
	for (size_t i = 0; i < n; i++) {
		struct tb_eth_slot s;
		rc = verify_slot(tb_json_at(sps, i), a.storage_root, &s, err);
		if (rc < 0) {
			tb_error_prefix(err, "eth_getProof: storage proof %zu", i);
			return rc;
		}
		if (slots)
			slots[i] = s;
	}
	if (n_slots)
		*n_slots = n;
	return 0;
}
