/* Transaction encodings per EIP-155, EIP-2718, EIP-2930 and EIP-1559. Invariant: the
 * same field list feeds the signing payload and the signed encoding, so what is
 * signed is exactly what is sent; decoding accepts only canonical RLP and low-s. */
#include <stdlib.h>
#include <string.h>

#include "evm/ethtx.h"
#include "crypto/hash.h"
#include "evm/rlp.h"
#include "crypto/secp256k1.h"
#include "lib/hex.h"

void tb_ethtx_init(struct tb_ethtx *tx)
{
	memset(tx, 0, sizeof(*tx));
}

void tb_ethtx_fini(struct tb_ethtx *tx)
{
	free(tx->data);
	free(tx->access_list);
	tb_ethtx_init(tx);
}

static int set_bytes(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n, size_t max,
                     const char *what, struct tb_error *err)
{
	if (n > max)
		return tb_error_set(err, TB_ELIMIT, "tx: %s of %zu bytes, at most %zu", what, n, max);
	uint8_t *c = malloc(n ? n : 1);
	if (c == NULL)
		return tb_error_set(err, TB_ENOMEM, "tx: out of memory");
	if (n)
		memcpy(c, p, n);
	free(*dst);
	*dst = c;
	*dlen = n;
	return 0;
}

int tb_ethtx_set_data(struct tb_ethtx *tx, const uint8_t *p, size_t n, struct tb_error *err)
{
	return set_bytes(&tx->data, &tx->data_len, p, n, TB_ETHTX_MAX_DATA, "data", err);
}

/* ---- encoding ---- */

static int put_u256(struct tb_buf *b, const uint8_t v[32])
{
	return tb_rlp_put_uint_be(b, v, 32);
}

/* The fields both payloads share, in the order of tx->type. */
static int put_fields(struct tb_buf *b, const struct tb_ethtx *tx)
{
	int rc = 0;
	if (tx->type != 0)
		rc |= tb_rlp_put_uint(b, tx->chain_id);
	rc |= tb_rlp_put_uint(b, tx->nonce);
	if (tx->type == 2) {
		rc |= put_u256(b, tx->max_priority);
		rc |= put_u256(b, tx->max_fee);
	} else {
		rc |= put_u256(b, tx->gas_price);
	}
	rc |= tb_rlp_put_uint(b, tx->gas);
	rc |= tb_rlp_put_bytes(b, tx->to, tx->has_to ? 20 : 0);
	rc |= put_u256(b, tx->value);
	rc |= tb_rlp_put_bytes(b, tx->data, tx->data_len);
	if (tx->type != 0) {
		if (tx->access_list)
			rc |= tb_rlp_put_raw(b, tx->access_list, tx->access_list_len);
		else
			rc |= tb_rlp_put_raw(b, "\xc0", 1);
	}
	return rc ? TB_ELIMIT : 0;
}

static int check_type(const struct tb_ethtx *tx, struct tb_error *err)
{
	if (tx->type > 2)
		return tb_error_set(err, TB_ENOTSUP, "tx: type %u is not supported (0, 1, 2)", tx->type);
	if (tx->chain_id > (UINT64_MAX - 36) / 2)
		return tb_error_set(err, TB_EINVAL, "tx: chain id %llu is too large",
		                    (unsigned long long)tx->chain_id);
	return 0;
}

/* payload = type || rlp([fields...]) or rlp([fields..., chainId, 0, 0]) for EIP-155. */
static int signing_payload(const struct tb_ethtx *tx, struct tb_buf *b, struct tb_error *err)
{
	int rc = check_type(tx, err);
	if (rc < 0)
		return rc;
	size_t mark;
	if (tx->type != 0)
		rc |= tb_buf_putc(b, (int)tx->type);
	tb_rlp_list_begin(b, &mark);
	rc |= put_fields(b, tx);
	if (tx->type == 0 && tx->chain_id != 0) {
		rc |= tb_rlp_put_uint(b, tx->chain_id);
		rc |= tb_rlp_put_uint(b, 0);
		rc |= tb_rlp_put_uint(b, 0);
	}
	rc |= tb_rlp_list_end(b, mark);
	return rc ? tb_error_set(err, TB_ELIMIT, "tx: encoding too large") : 0;
}

int tb_ethtx_signing_hash(const struct tb_ethtx *tx, uint8_t hash[32], struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, 4 << 20);
	int rc = signing_payload(tx, &b, err);
	if (rc == 0)
		tb_keccak256(b.data, b.len, hash);
	tb_buf_fini(&b);
	return rc;
}

static uint64_t legacy_v(const struct tb_ethtx *tx)
{
	return tx->chain_id ? tx->chain_id * 2 + 35 + tx->y_parity : 27 + tx->y_parity;
}

int tb_ethtx_encode(const struct tb_ethtx *tx, struct tb_buf *out, struct tb_error *err)
{
	int rc = check_type(tx, err);
	if (rc < 0)
		return rc;
	if (!tx->signed_)
		return tb_error_set(err, TB_EINVAL, "tx: not signed");
	size_t mark;
	if (tx->type != 0)
		rc |= tb_buf_putc(out, (int)tx->type);
	tb_rlp_list_begin(out, &mark);
	rc |= put_fields(out, tx);
	rc |= tb_rlp_put_uint(out, tx->type == 0 ? legacy_v(tx) : tx->y_parity);
	rc |= put_u256(out, tx->r);
	rc |= put_u256(out, tx->s);
	rc |= tb_rlp_list_end(out, mark);
	return rc ? tb_error_set(err, TB_ELIMIT, "tx: encoding too large") : 0;
}

int tb_ethtx_hash(const struct tb_ethtx *tx, uint8_t hash[32], struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, 4 << 20);
	int rc = tb_ethtx_encode(tx, &b, err);
	if (rc == 0)
		tb_keccak256(b.data, b.len, hash);
	tb_buf_fini(&b);
	return rc;
}

int tb_ethtx_sign(struct tb_ethtx *tx, const uint8_t key[32], struct tb_error *err)
{
	uint8_t h[32], sig[65];
	int rc = tb_ethtx_signing_hash(tx, h, err);
	if (rc == 0)
		rc = tb_secp_sign(key, h, sig, err);
	if (rc < 0)
		return rc;
	memcpy(tx->r, sig, 32);
	memcpy(tx->s, sig + 32, 32);
	tx->y_parity = sig[64] & 1;
	tx->signed_ = 1;
	return 0;
}

int tb_ethtx_sender(const struct tb_ethtx *tx, uint8_t addr[20], struct tb_error *err)
{
	uint8_t h[32], sig[65];
	if (!tx->signed_)
		return tb_error_set(err, TB_EINVAL, "tx: not signed");
	int rc = tb_ethtx_signing_hash(tx, h, err);
	if (rc < 0)
		return rc;
	memcpy(sig, tx->r, 32);
	memcpy(sig + 32, tx->s, 32);
	sig[64] = (uint8_t)tx->y_parity;
	rc = tb_secp_recover_address(h, sig, addr, err);
	if (rc < 0) {
		tb_error_prefix(err, "tx: signer");
		return rc == TB_EINVAL ? TB_EVERIFY : rc;
	}
	return 0;
}

/* ---- decoding ---- */

static int rlp_u256(const struct tb_rlp_item *it, uint8_t out[32], const char *what,
                    struct tb_error *err)
{
	if (it->is_list || it->len > 32 || (it->len > 0 && it->payload[0] == 0))
		return tb_error_set(err, TB_EINVAL, "tx: %s is not a canonical 256-bit number", what);
	memset(out, 0, 32);
	memcpy(out + 32 - it->len, it->payload, it->len);
	return 0;
}

static int rlp_u64(const struct tb_rlp_item *it, uint64_t *v, const char *what,
                   struct tb_error *err)
{
	int rc = tb_rlp_uint64(it, v, err);
	if (rc < 0)
		tb_error_prefix(err, "tx: %s", what);
	return rc;
}

/* Set v from a legacy v value: chain id and parity. */
static int legacy_from_v(struct tb_ethtx *tx, uint64_t v, struct tb_error *err)
{
	if (v == 27 || v == 28) {
		tx->chain_id = 0;
		tx->y_parity = (unsigned)(v - 27);
	} else if (v >= 37) {
		tx->chain_id = (v - 35) / 2;
		tx->y_parity = (unsigned)((v - 35) % 2);
	} else {
		return tb_error_set(err, TB_EINVAL, "tx: v %llu is neither 27/28 nor EIP-155",
		                    (unsigned long long)v);
	}
	return 0;
}

static int decode_items(struct tb_ethtx *tx, const struct tb_rlp_item *list,
                        struct tb_error *err)
{
	static const char *const names[] = {"chainId", "nonce", "gasPrice", "maxPriorityFee",
	                                    "maxFee", "gas", "to", "value", "data", "accessList"};
	/* the index into names[] of each position, per type */
	static const int order[3][12] = {
		{1, 2, 5, 6, 7, 8, -1},
		{0, 1, 2, 5, 6, 7, 8, 9, -1},
		{0, 1, 3, 4, 5, 6, 7, 8, 9, -1},
	};
	const int *ord = order[tx->type];
	size_t nf = 0;
	while (ord[nf] >= 0)
		nf++;
	if (tb_rlp_count(list) != nf + 3)
		return tb_error_set(err, TB_EINVAL, "tx: type %u has %zu fields, expected %zu", tx->type,
		                    tb_rlp_count(list), nf + 3);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < nf + 3; i++) {
		struct tb_rlp_item it;
		rc = tb_rlp_at(list, i, &it, err);
		if (rc < 0)
			break;
		int f = i < nf ? ord[i] : -1;
		const char *w = f >= 0 ? names[f] : i == nf ? "v" : i == nf + 1 ? "r" : "s";
		uint64_t v;
		switch (f) {
		case 0: rc = rlp_u64(&it, &tx->chain_id, w, err); break;
		case 1: rc = rlp_u64(&it, &tx->nonce, w, err); break;
		case 2: rc = rlp_u256(&it, tx->gas_price, w, err); break;
		case 3: rc = rlp_u256(&it, tx->max_priority, w, err); break;
		case 4: rc = rlp_u256(&it, tx->max_fee, w, err); break;
		case 5: rc = rlp_u64(&it, &tx->gas, w, err); break;
		case 6:
			if (it.is_list || (it.len != 0 && it.len != 20))
				rc = tb_error_set(err, TB_EINVAL, "tx: to is neither empty nor 20 bytes");
			tx->has_to = it.len == 20;
			if (rc == 0 && it.len == 20)
				memcpy(tx->to, it.payload, 20);
			break;
		case 7: rc = rlp_u256(&it, tx->value, w, err); break;
		case 8:
			rc = it.is_list ? tb_error_set(err, TB_EINVAL, "tx: data is a list")
			                : tb_ethtx_set_data(tx, it.payload, it.len, err);
			break;
		case 9:
			rc = !it.is_list ? tb_error_set(err, TB_EINVAL, "tx: accessList is not a list")
			                 : set_bytes(&tx->access_list, &tx->access_list_len, it.raw,
			                             it.raw_len, TB_ETHTX_MAX_ACCESS_LIST, w, err);
			break;
		default:
			if (i == nf) {
				rc = rlp_u64(&it, &v, w, err);
				if (rc == 0 && tx->type == 0)
					rc = legacy_from_v(tx, v, err);
				else if (rc == 0 && v > 1)
					rc = tb_error_set(err, TB_EINVAL, "tx: yParity %llu is not 0 or 1",
					                  (unsigned long long)v);
				else if (rc == 0)
					tx->y_parity = (unsigned)v;
			} else {
				rc = rlp_u256(&it, i == nf + 1 ? tx->r : tx->s, w, err);
			}
		}
	}
	tx->signed_ = rc == 0;
	return rc;
}

int tb_ethtx_decode(const uint8_t *raw, size_t len, struct tb_ethtx *tx, struct tb_error *err)
{
	tb_ethtx_fini(tx);
	if (len == 0)
		return tb_error_set(err, TB_EINVAL, "tx: empty");
	if (raw[0] < 0x80) {
		if (raw[0] == 0) /* EIP-2718: a legacy transaction is never type-prefixed */
			return tb_error_set(err, TB_EINVAL, "tx: type byte 0x00 (legacy transactions "
			                    "carry no type byte)");
		if (raw[0] > 2)
			return tb_error_set(err, TB_ENOTSUP, "tx: type 0x%02x is not supported", raw[0]);
		tx->type = raw[0];
		raw++, len--;
	}
	struct tb_rlp_item list;
	int rc = tb_rlp_decode(raw, len, &list, err);
	if (rc == 0 && !list.is_list)
		rc = tb_error_set(err, TB_EINVAL, "tx: not an RLP list");
	if (rc == 0)
		rc = decode_items(tx, &list, err);
	if (rc < 0)
		tb_ethtx_fini(tx);
	return rc;
}

/* ---- JSON ---- */

static int j_hex_fixed(const struct tb_json *j, const char *key, uint8_t *out, size_t n,
                       int optional, struct tb_error *err)
{
	const struct tb_json *v = tb_json_get(j, key);
	const char *s = tb_json_string(v);
	size_t got;
	if (v == NULL || v->type == TB_JSON_NULL)
		return optional ? 1 : tb_error_set(err, TB_EINVAL, "tx: field \"%s\" is missing", key);
	if (s == NULL || v->u.string.len != 2 + 2 * n || strncmp(s, "0x", 2) != 0 ||
	    tb_hex_decode(s, v->u.string.len, out, n, &got, NULL) < 0)
		return tb_error_set(err, TB_EINVAL, "tx: field \"%s\" is not 0x and %zu hex digits", key,
		                    2 * n);
	return 0;
}

/* A quantity into 32 bytes; missing -> 1 when optional. */
static int j_u256(const struct tb_json *j, const char *key, uint8_t out[32], int optional,
                  struct tb_error *err)
{
	const struct tb_json *v = tb_json_get(j, key);
	const char *s = tb_json_string(v);
	memset(out, 0, 32);
	if (v == NULL || v->type == TB_JSON_NULL)
		return optional ? 1 : tb_error_set(err, TB_EINVAL, "tx: field \"%s\" is missing", key);
	size_t len = s ? v->u.string.len : 0;
	if (s == NULL || len < 3 || strncmp(s, "0x", 2) != 0)
		return tb_error_set(err, TB_EINVAL, "tx: field \"%s\" is not a hex quantity", key);
	s += 2, len -= 2;
	while (len > 1 && *s == '0')
		s++, len--;
	if (len > 64)
		return tb_error_set(err, TB_EINVAL, "tx: field \"%s\" exceeds 256 bits", key);
	char pad[65];
	memset(pad, '0', 64 - len);
	memcpy(pad + 64 - len, s, len);
	size_t got;
	if (tb_hex_decode(pad, 64, out, 32, &got, NULL) < 0)
		return tb_error_set(err, TB_EINVAL, "tx: field \"%s\" has a bad hex digit", key);
	return 0;
}

static int j_u64(const struct tb_json *j, const char *key, uint64_t *v, int optional,
                 struct tb_error *err)
{
	uint8_t w[32];
	int rc = j_u256(j, key, w, optional, err);
	*v = 0;
	if (rc != 0)
		return rc;
	for (int i = 0; i < 24; i++)
		if (w[i])
			return tb_error_set(err, TB_EINVAL, "tx: field \"%s\" exceeds 64 bits", key);
	for (int i = 24; i < 32; i++)
		*v = (*v << 8) | w[i];
	return 0;
}

/* accessList: [{address, storageKeys: [..]}] -> rlp([[address, [key...]]...]) */
static int j_access_list(const struct tb_json *j, struct tb_ethtx *tx, struct tb_error *err)
{
	const struct tb_json *al = tb_json_get(j, "accessList");
	if (al == NULL || al->type == TB_JSON_NULL)
		return 0;
	if (al->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "tx: accessList is not an array");
	struct tb_buf b;
	size_t outer, inner, keys;
	int rc = 0;
	tb_buf_init(&b, TB_ETHTX_MAX_ACCESS_LIST);
	tb_rlp_list_begin(&b, &outer);
	for (size_t i = 0; rc == 0 && i < tb_json_len(al); i++) {
		const struct tb_json *e = tb_json_at(al, i), *ks = tb_json_get(e, "storageKeys");
		uint8_t addr[20], key[32];
		rc = j_hex_fixed(e, "address", addr, 20, 0, err);
		if (rc == 0 && (ks == NULL || ks->type != TB_JSON_ARRAY))
			rc = tb_error_set(err, TB_EINVAL, "tx: accessList[%zu].storageKeys is not an array",
			                  i);
		if (rc < 0)
			break;
		tb_rlp_list_begin(&b, &inner);
		rc |= tb_rlp_put_bytes(&b, addr, 20);
		tb_rlp_list_begin(&b, &keys);
		for (size_t k = 0; rc == 0 && k < tb_json_len(ks); k++) {
			const char *ksv = tb_json_string(tb_json_at(ks, k));
			size_t got;
			rc = ksv && strlen(ksv) == 66 && tb_hex_decode(ksv, 66, key, 32, &got, NULL) == 0
			         ? tb_rlp_put_bytes(&b, key, 32)
			         : tb_error_set(err, TB_EINVAL, "tx: accessList[%zu].storageKeys[%zu] is "
			                        "not 32 bytes of hex", i, k);
		}
		rc |= tb_rlp_list_end(&b, keys) | tb_rlp_list_end(&b, inner);
	}
	if (rc == 0)
		rc = tb_rlp_list_end(&b, outer);
	if (rc == 0)
		rc = set_bytes(&tx->access_list, &tx->access_list_len, b.data, b.len,
		               TB_ETHTX_MAX_ACCESS_LIST, "accessList", err);
	else if (rc > 0 || rc == TB_ELIMIT)
		rc = tb_error_set(err, TB_ELIMIT, "tx: accessList too large");
	tb_buf_fini(&b);
	return rc;
}

static int j_signature(const struct tb_json *j, struct tb_ethtx *tx, struct tb_error *err)
{
	uint64_t v = 0;
	int rc = j_u256(j, "r", tx->r, 0, err);
	if (rc == 0)
		rc = j_u256(j, "s", tx->s, 0, err);
	if (rc == 0)
		rc = j_u64(j, tx->type ? "yParity" : "v", &v, tx->type != 0, err);
	if (rc == 1) /* typed without yParity: older nodes send v = parity */
		rc = j_u64(j, "v", &v, 0, err);
	if (rc < 0)
		return rc;
	if (tx->type == 0) {
		uint64_t cid = tx->chain_id;
		rc = legacy_from_v(tx, v, err);
		if (rc == 0 && cid && tx->chain_id && cid != tx->chain_id)
			rc = tb_error_set(err, TB_EVERIFY, "tx: v says chain %llu, chainId says %llu",
			                  (unsigned long long)tx->chain_id, (unsigned long long)cid);
	} else if (v > 1) {
		rc = tb_error_set(err, TB_EINVAL, "tx: yParity %llu is not 0 or 1",
		                  (unsigned long long)v);
	} else {
		tx->y_parity = (unsigned)v;
	}
	tx->signed_ = rc == 0;
	return rc;
}

static int j_input(const struct tb_json *j, struct tb_ethtx *tx, struct tb_error *err)
{
	const struct tb_json *v = tb_json_get(j, "input");
	if (v == NULL)
		v = tb_json_get(j, "data");
	const char *s = tb_json_string(v);
	if (s == NULL || v->u.string.len < 2 || strncmp(s, "0x", 2) != 0)
		return tb_error_set(err, TB_EINVAL, "tx: field \"input\" is not 0x-prefixed hex");
	if ((v->u.string.len - 2) / 2 > TB_ETHTX_MAX_DATA)
		return tb_error_set(err, TB_ELIMIT, "tx: input over %d bytes", TB_ETHTX_MAX_DATA);
	uint8_t *p = NULL;
	size_t n;
	int rc = tb_hex_decode_alloc(s, v->u.string.len, &p, &n, err);
	if (rc == 0)
		rc = tb_ethtx_set_data(tx, p, n, err);
	free(p);
	return rc;
}

int tb_ethtx_from_json(const struct tb_json *j, struct tb_ethtx *tx, struct tb_error *err)
{
	uint64_t type = 0;
	tb_ethtx_fini(tx);
	if (j == NULL || j->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "tx: not a JSON object");
	int rc = j_u64(j, "type", &type, 1, err);
	if (rc < 0)
		return rc;
	if (type > 2)
		return tb_error_set(err, TB_ENOTSUP, "tx: type %llu is not supported (0, 1, 2)",
		                    (unsigned long long)type);
	tx->type = (unsigned)type;
	rc = j_u64(j, "chainId", &tx->chain_id, tx->type == 0, err);
	if (rc >= 0)
		rc = j_u64(j, "nonce", &tx->nonce, 0, err);
	if (rc >= 0)
		rc = j_u64(j, "gas", &tx->gas, 0, err);
	if (rc >= 0 && tx->type == 2) {
		rc = j_u256(j, "maxPriorityFeePerGas", tx->max_priority, 0, err);
		if (rc >= 0)
			rc = j_u256(j, "maxFeePerGas", tx->max_fee, 0, err);
	} else if (rc >= 0) {
		rc = j_u256(j, "gasPrice", tx->gas_price, 0, err);
	}
	if (rc >= 0)
		rc = j_hex_fixed(j, "to", tx->to, 20, 1, err);
	tx->has_to = rc == 0;
	if (rc >= 0)
		rc = j_u256(j, "value", tx->value, 0, err);
	if (rc >= 0)
		rc = j_input(j, tx, err);
	if (rc >= 0 && tx->type != 0)
		rc = j_access_list(j, tx, err);
	if (rc >= 0)
		rc = j_signature(j, tx, err);
	if (rc < 0)
		tb_ethtx_fini(tx);
	return rc < 0 ? rc : 0;
}
