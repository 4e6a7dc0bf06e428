/* DOCUMENT_STATUS on chain, as tt-verify asks it: a document store is probed for
 * the batchable interface (0xdcfd0745) and then asked isIssued/isRevoked in the
 * matching variant; a token registry is asked ownerOf(merkleRoot), and a minted
 * record is reported with its title escrow's beneficiary and holder, read only.
 * Invariant: a revert or an empty answer is the contract's "no" (INVALID); a node
 * that cannot be asked is ERROR (UNKNOWN). */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evm/abi.h"
#include "oa.h"
#include "crypto/secp256k1.h"
#include "lib/buf.h"
#include "lib/hex.h"
#include "tt_chain.h"
#include "tt_ctx.h"

#define BATCHABLE_IFACE 0xdcfd0745u
#define MAX_STORES TT_MAX_ISSUERS

enum { CALL_OK = 0, CALL_REVERTED = 1, CALL_NO = -100 /* the contract said no */ };

/* eth_call to `to`; CALL_OK with ret filled, CALL_REVERTED with why, or <0. */
static int eth_call(struct tt_ctx *c, const uint8_t to[20], const struct tb_buf *data,
                    struct tb_buf *ret, char *why, size_t n, struct tb_error *err)
{
	struct tb_buf params;
	char addr[41];
	tb_buf_init(&params, 0);
	tb_hex_encode(to, 20, addr);
	int rc = tb_buf_printf(&params, "[{\"to\":\"0x%s\",\"data\":\"0x", addr);
	for (size_t i = 0; rc == 0 && i < data->len; i++)
		rc = tb_buf_printf(&params, "%02x", data->data[i]);
	if (rc == 0)
		rc = tb_buf_puts(&params, "\"},\"latest\"]");
	struct tb_json *res = NULL;
	struct tb_jsonrpc_fault fault = {0};
	if (rc == 0)
		rc = tb_jsonrpc_call(c->rpc, "eth_call", (const char *)params.data, &res, &fault, err);
	tb_buf_fini(&params);
	if (rc == TB_EIO && (fault.code == 3 || strcasestr(fault.message, "revert"))) {
		snprintf(why, n, "%s", fault.message);
		return CALL_REVERTED;
	}
	if (rc)
		return rc == TB_EIO ? TB_EUNAVAIL : rc;
	const char *hex = tb_json_string(res);
	uint8_t *bytes = NULL;
	size_t len = 0;
	rc = hex ? tb_hex_decode_alloc(hex, strlen(hex), &bytes, &len, err)
	         : tb_error_set(err, TB_EINVAL, "eth_call answered a non-string result");
	if (rc == 0) {
		tb_buf_reset(ret);
		rc = len ? tb_buf_append(ret, bytes, len) : 0;
	}
	free(bytes);
	tb_json_free(res);
	return rc;
}

/* A call returning one bool: 1 or 0; CALL_NO when it reverted or there is no
 * contract (why says which); another negative code when the node cannot be asked. */
static int call_bool(struct tt_ctx *c, const uint8_t to[20], const struct tb_buf *data,
                     char *why, size_t n, struct tb_error *err)
{
	struct tb_buf ret;
	tb_buf_init(&ret, 1 << 16);
	int rc = eth_call(c, to, data, &ret, why, n, err);
	if (rc == CALL_OK && ret.len == 0) {
		snprintf(why, n, "contract is not found");
		rc = CALL_REVERTED;
	}
	if (rc == CALL_OK) {
		struct tb_abi_type t = {TB_ABI_BOOL, 0};
		struct tb_abi_value v;
		rc = tb_abi_decode(ret.data, ret.len, &t, 1, &v, err);
		rc = rc ? rc : v.word[31];
	} else if (rc == CALL_REVERTED) {
		rc = CALL_NO; /* reverted: the caller reads why */
	}
	tb_buf_fini(&ret);
	return rc;
}

static int encode1(const char *sig, struct tb_abi_value v, struct tb_buf *out)
{
	tb_buf_reset(out);
	return tb_abi_encode_call(sig, &v, 1, out, NULL);
}

/* isIssued/isRevoked(bytes32 root, bytes32 target, bytes32[] proof). */
static int encode_batch(const char *sig, struct tt_ctx *c, struct tb_buf *out)
{
	uint8_t sel[4], word[32] = {0};
	size_t steps = tb_json_len(c->proof);
	tb_abi_selector(sig, sel);
	tb_buf_reset(out);
	int rc = tb_buf_append(out, sel, 4);
	rc = rc ? rc : tb_buf_append(out, c->root, 32);
	rc = rc ? rc : tb_buf_append(out, c->target, 32);
	word[31] = 0x60;
	rc = rc ? rc : tb_buf_append(out, word, 32);
	word[30] = (uint8_t)(steps >> 8);
	word[31] = (uint8_t)steps;
	rc = rc ? rc : tb_buf_append(out, word, 32);
	for (size_t i = 0; rc == 0 && i < steps; i++) {
		const char *h = tb_json_string(tb_json_at(c->proof, i));
		uint8_t s[32];
		if (!h || tb_oa_hex_lenient(h, strlen(h), s, 32) != 32 || strlen(h) != 64)
			return TB_EINVAL; /* ethers refuses such an argument: "Invalid call arguments" */
		rc = tb_buf_append(out, s, 32);
	}
	return rc;
}

static int batchable(struct tt_ctx *c, const uint8_t store[20])
{
	struct tb_buf d;
	struct tb_abi_value v = {.type = {TB_ABI_FIXED_BYTES, 4},
	                         .word = {0xdc, 0xfd, 0x07, 0x45}};
	char why[128];
	tb_buf_init(&d, 0);
	int rc = encode1("supportsInterface(bytes4)", v, &d);
	rc = rc ? 0 : call_bool(c, store, &d, why, sizeof why, NULL);
	tb_buf_fini(&d);
	return rc == 1; /* any failure: not batchable, as tt-verify's catch does */
}

/* The hashes a non-batchable store may have revoked: targetHash, each fold, root. */
static size_t intermediate(struct tt_ctx *c, uint8_t (*h)[32], size_t max)
{
	size_t n = 0;
	memcpy(h[n++], c->target, 32);
	for (size_t i = 0; i < tb_json_len(c->proof) && n < max; i++, n++) {
		const char *s = tb_json_string(tb_json_at(c->proof, i));
		uint8_t step[32];
		size_t l = s ? tb_oa_hex_lenient(s, strlen(s), step, 32) : 0;
		tb_oa_combine(h[n - 1], 32, step, l, h[n]);
	}
	return n;
}

/* 1 issued and not revoked, 0 not (why), <0 could not ask (why). */
static int store_status(struct tt_ctx *c, const uint8_t store[20], char *why, size_t n)
{
	struct tb_buf d;
	struct tb_error err = {0};
	char w[200] = "";
	tb_buf_init(&d, 0);
	int batch = batchable(c, store);
	int rc = batch ? encode_batch("isIssued(bytes32,bytes32,bytes32[])", c, &d)
	               : encode1("isIssued(bytes32)", tb_abi_bytes32(c->root), &d);
	if (rc == 0)
		rc = call_bool(c, store, &d, w, sizeof w, &err);
	else if (rc == TB_EINVAL)
		rc = (snprintf(w, sizeof w, "invalid call arguments"), CALL_NO);
	if (rc == CALL_NO || rc == 0) {
		snprintf(why, n, "DOCUMENT_NOT_ISSUED%s%s", w[0] ? ": " : "", w);
		rc = 0;
	} else if (rc == 1 && batch) {
		encode_batch("isRevoked(bytes32,bytes32,bytes32[])", c, &d);
		int r = call_bool(c, store, &d, w, sizeof w, &err);
		/* tt-verify reports a failing revocation call as revoked */
		rc = r == 0 ? 1 : r == 1 || r == CALL_NO ? 0 : r;
		if (rc == 0)
			snprintf(why, n, "DOCUMENT_REVOKED");
	} else if (rc == 1) {
		int r = tt_store_revoked(c, store, why, n);
		rc = r == 0 ? 1 : r == 1 ? 0 : TB_EUNAVAIL;
	}
	if (rc < 0 && err.msg[0])
		snprintf(why, n, "%.200s", err.msg);
	tb_buf_fini(&d);
	return rc;
}

int tt_store_revoked(struct tt_ctx *c, const uint8_t addr[20], char *why, size_t n)
{
	uint8_t h[TB_OA_MAX_PROOF + 1][32];
	struct tb_buf d;
	struct tb_error err;
	if (!c->rpc)
		return snprintf(why, n, "no rpc configured: revocation not checked"), -1;
	size_t k = intermediate(c, h, TB_OA_MAX_PROOF + 1);
	int rc = 0;
	tb_buf_init(&d, 0);
	for (size_t i = 0; i < k && rc == 0; i++) {
		encode1("isRevoked(bytes32)", tb_abi_bytes32(h[i]), &d);
		char w[128] = "";
		int r = call_bool(c, addr, &d, w, sizeof w, &err);
		if (r == 1)
			rc = (snprintf(why, n, "DOCUMENT_REVOKED"), 1);
		else if (r == CALL_NO) /* tt-verify reports a failing revocation call as revoked */
			rc = (snprintf(why, n, "DOCUMENT_REVOKED: %s", w), 1);
		else if (r < 0)
			rc = (snprintf(why, n, "%s", err.msg), -1);
	}
	tb_buf_fini(&d);
	return rc;
}

static size_t issuer_addrs(struct tt_ctx *c, const char *f1, const char *f2, uint8_t (*a)[20],
                           const char **bad)
{
	size_t n = 0;
	*bad = NULL;
	for (size_t i = 0; i < tb_json_len(c->issuers) && n < MAX_STORES; i++) {
		const struct tb_json *iss = tb_json_at(c->issuers, i);
		const char *s = tt_issuer_field(iss, f1, NULL);
		if (!s && f2)
			s = tt_issuer_field(iss, f2, NULL);
		if (s && tt_address(s, a[n]) == 0)
			n++;
		else if (s)
			*bad = s;
	}
	return n;
}

void tt_check_document_store(struct tt_ctx *c)
{
	const char *n = "OpenAttestationEthereumDocumentStoreStatus", *t = "DOCUMENT_STATUS";
	uint8_t a[MAX_STORES][20];
	const char *bad;
	size_t k = issuer_addrs(c, "documentStore", "certificateStore", a, &bad);
	if (bad) {
		tt_frag(c, n, t, TT_INVALID, "Invalid document store address %.60s", bad);
		return;
	}
	if (!k) {
		tt_frag(c, n, t, TT_SKIPPED, "no issuer names a document store");
		return;
	}
	if (!c->rpc) {
		tt_frag(c, n, t, TT_ERROR, "no rpc configured: issuance on the document store "
		                           "was not checked");
		return;
	}
	for (size_t i = 0; i < k; i++) {
		char why[300] = "", addr[43];
		tb_eth_address_checksum(a[i], addr);
		int rc = store_status(c, a[i], why, sizeof why);
		if (rc < 0) {
			tt_frag(c, n, t, TT_ERROR, "document store %s: %s", addr, why);
			return;
		}
		if (rc == 0) {
			tt_frag(c, n, t, TT_INVALID, "%s under document store %s", why, addr);
			return;
		}
	}
	tt_frag(c, n, t, TT_VALID, "issued and not revoked on %zu document store(s)", k);
}

/* An address-returning view call on `to`; 0 with out, CALL_NO, or <0. */
static int call_address(struct tt_ctx *c, const uint8_t to[20], const char *sig,
                        const struct tb_abi_value *arg, uint8_t out[20], char *why, size_t n,
                        struct tb_error *err)
{
	struct tb_buf d, ret;
	tb_buf_init(&d, 0);
	tb_buf_init(&ret, 1 << 16);
	int rc = tb_abi_encode_call(sig, arg, arg ? 1 : 0, &d, err);
	rc = rc ? rc : eth_call(c, to, &d, &ret, why, n, err);
	if (rc == CALL_OK && ret.len == 0)
		rc = (snprintf(why, n, "contract is not found"), CALL_REVERTED);
	if (rc == CALL_OK) {
		struct tb_abi_type t = {TB_ABI_ADDRESS, 0};
		struct tb_abi_value v;
		rc = tb_abi_decode(ret.data, ret.len, &t, 1, &v, err);
		if (rc == 0)
			memcpy(out, v.word + 12, 20);
	}
	tb_buf_fini(&d);
	tb_buf_fini(&ret);
	return rc == CALL_REVERTED ? CALL_NO : rc;
}

static void put_addr(struct tb_json *o, const char *k, const uint8_t a[20])
{
	char s[43];
	tb_eth_address_checksum(a, s);
	tb_json_object_set(o, k, strlen(k), tb_json_new_string(s, 42));
}

/* The title escrow's beneficiary and holder, for the record only (never written). */
static void escrow_parties(struct tt_ctx *c, const uint8_t escrow[20], struct tb_json *data)
{
	static const char *const fns[] = {"beneficiary()", "holder()"};
	static const char *const keys[] = {"beneficiary", "holder"};
	for (size_t i = 0; i < 2; i++) {
		uint8_t a[20];
		char why[64];
		if (call_address(c, escrow, fns[i], NULL, a, why, sizeof why, NULL) == 0)
			put_addr(data, keys[i], a);
	}
}

void tt_check_token_registry(struct tt_ctx *c)
{
	const char *n = "OpenAttestationEthereumTokenRegistryStatus", *t = "DOCUMENT_STATUS";
	uint8_t a[MAX_STORES][20], owner[20], zero[20] = {0};
	const char *bad;
	size_t k = issuer_addrs(c, "tokenRegistry", NULL, a, &bad);
	if (bad || k > 1) {
		tt_frag(c, n, t, TT_INVALID, bad ? "Invalid token registry address %.60s"
		                                 : "a transferable record has exactly one issuer%s", bad ? bad : "");
		return;
	}
	if (!k) {
		tt_frag(c, n, t, TT_SKIPPED, "no issuer names a token registry");
		return;
	}
	if (!c->rpc) {
		tt_frag(c, n, t, TT_ERROR, "no rpc configured: the token registry was not asked");
		return;
	}
	char why[256] = "", reg[43];
	struct tb_error err = {0};
	tb_eth_address_checksum(a[0], reg);
	struct tb_abi_value id = tb_abi_uint_be(c->root);
	int rc = call_address(c, a[0], "ownerOf(uint256)", &id, owner, why, sizeof why, &err);
	if (rc < 0 && rc != CALL_NO) {
		tt_frag(c, n, t, TT_ERROR, "token registry %s: %s", reg, err.msg);
	} else if (rc == CALL_NO || memcmp(owner, zero, 20) == 0) {
		tt_frag(c, n, t, TT_INVALID, "DOCUMENT_NOT_MINTED under token registry %s%s%s", reg,
		        why[0] ? ": " : "", why);
	} else {
		struct tt_fragment *f = tt_frag(c, n, t, TT_VALID, "minted on token registry %s", reg);
		f->data = tb_json_new_object();
		put_addr(f->data, "tokenRegistry", a[0]);
		put_addr(f->data, "owner", owner);
		escrow_parties(c, owner, f->data);
	}
}

int tt_chain_id(struct tt_ctx *c, struct tb_error *err)
{
	struct tb_json *res = NULL;
	int rc = tb_jsonrpc_call(c->rpc, "eth_chainId", NULL, &res, NULL, err);
	if (rc == 0)
		rc = tb_jsonrpc_quantity(res, &c->chain_id, err);
	tb_json_free(res);
	c->chain_known = rc == 0;
	return rc == TB_EIO ? TB_EUNAVAIL : rc;
}

int tt_store_flag(struct tt_ctx *c, const uint8_t store[20], const char *sig,
                  const uint8_t h[32], char *why, size_t n)
{
	struct tb_buf d;
	struct tb_error err = {0};
	tb_buf_init(&d, 0);
	int rc = encode1(sig, tb_abi_bytes32(h), &d);
	rc = rc ? rc : call_bool(c, store, &d, why, n, &err);
	if (rc == CALL_NO)
		rc = 0;
	else if (rc < 0)
		snprintf(why, n, "%.200s", err.msg);
	tb_buf_fini(&d);
	return rc;
}
