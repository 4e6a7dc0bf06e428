/* Receipt encoding, signing and chain checks. The JSON is built as a tree and
 * written by the project's one RFC 8785 writer, so the signed bytes are exactly
 * what another JCS implementation produces from the same receipt.
 * Invariant: parsing accepts exactly the members docs/receipts.md lists. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "lib/hex.h"
#include "receipt.h"

static int set_str(struct tb_json *obj, const char *key, const char *val)
{
	struct tb_json *v = tb_json_new_string(val, strlen(val));
	if (!v)
		return TB_ENOMEM;
	return tb_json_object_set(obj, key, strlen(key), v);
}

static int set_hex(struct tb_json *obj, const char *key, const uint8_t *b, size_t n)
{
	char hex[2 + 2 * 65 + 1] = "0x";
	tb_hex_encode(b, n, hex + 2);
	return set_str(obj, key, hex);
}

static struct tb_json *pair_obj(const char *k1, const char *v1, const char *k2, const char *v2,
                                const char *k3, const char *v3)
{
	struct tb_json *o = tb_json_new_object();
	if (!o)
		return NULL;
	if (set_str(o, k1, v1) || set_str(o, k2, v2) || set_str(o, k3, v3)) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static struct tb_json *to_tree(const struct tb_receipt *r, int with_sig)
{
	struct tb_json *o = tb_json_new_object();
	struct tb_json *src = pair_obj("network", r->source_network, "locator", r->source_locator,
	                               "verdict", r->verdict);
	struct tb_json *dst = pair_obj("network", r->destination, "txref", r->txref, "status",
	                               r->status);
	struct tb_json *seq = tb_json_new_number((double)r->seq);
	int rc = (!o || !src || !dst || !seq) ? TB_ENOMEM : 0;
	if (rc == 0 && r->reason[0]) /* absent when empty: older receipts' bytes stay as they were */
		rc = set_str(dst, "reason", r->reason);
	if (rc == 0) {
		rc = tb_json_object_set(o, "seq", 3, seq);
		seq = NULL;
	}
	if (rc == 0) {
		rc = tb_json_object_set(o, "source", 6, src);
		src = NULL;
	}
	if (rc == 0) {
		rc = tb_json_object_set(o, "destination", 11, dst);
		dst = NULL;
	}
	if (rc == 0)
		rc = set_str(o, "schema", TB_RECEIPT_SCHEMA) || set_hex(o, "prev", r->prev, 32) ||
		     set_str(o, "record", r->record) || set_str(o, "time", r->time) ||
		     (with_sig && set_hex(o, "signature", r->sig, 65));
	tb_json_free(seq);
	tb_json_free(src);
	tb_json_free(dst);
	if (rc != 0) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static int write_tree(const struct tb_receipt *r, int with_sig, struct tb_buf *out,
                      struct tb_error *err)
{
	if (r->seq == 0 || r->seq > TB_RECEIPT_SEQ_MAX)
		return tb_error_set(err, TB_EINVAL, "receipt: seq %" PRIu64 " out of range 1..2^53-1",
		                    r->seq);
	struct tb_json *t = to_tree(r, with_sig);
	if (!t)
		return tb_error_set(err, TB_ENOMEM, "receipt: out of memory");
	int rc = tb_json_write_canonical(t, out, err);
	tb_json_free(t);
	return rc;
}

int tb_receipt_signing_bytes(const struct tb_receipt *r, struct tb_buf *out,
                             struct tb_error *err)
{
	return write_tree(r, 0, out, err);
}

int tb_receipt_write(const struct tb_receipt *r, struct tb_buf *out, struct tb_error *err)
{
	return write_tree(r, 1, out, err);
}

static int eip191_of(const struct tb_receipt *r, uint8_t h[32], struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, TB_RECEIPT_MAX_BYTES);
	int rc = tb_receipt_signing_bytes(r, &b, err);
	if (rc == 0)
		tb_eip191_hash(b.data, b.len, h);
	tb_buf_fini(&b);
	return rc;
}

int tb_receipt_sign(struct tb_receipt *r, const uint8_t key[32], struct tb_error *err)
{
	uint8_t h[32];
	int rc = eip191_of(r, h, err);
	if (rc == 0)
		rc = tb_secp_sign(key, h, r->sig, err);
	if (rc == 0 && r->sig[64] < 27)
		r->sig[64] += 27; /* the form personal_sign and ethers produce */
	return rc;
}

int tb_receipt_hash(const struct tb_receipt *r, uint8_t out[32], struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, TB_RECEIPT_MAX_BYTES);
	int rc = tb_receipt_write(r, &b, err);
	if (rc == 0)
		tb_keccak256(b.data, b.len, out);
	tb_buf_fini(&b);
	return rc;
}

int tb_receipt_signer(const struct tb_receipt *r, uint8_t addr[20], struct tb_error *err)
{
	uint8_t h[32];
	int rc = eip191_of(r, h, err);
	if (rc == 0)
		rc = tb_secp_recover_address(h, r->sig, addr, err);
	return rc;
}

/* --- parsing untrusted receipts --------------------------------------------- */

static int get_str(const struct tb_json *o, const char *key, char *dst, size_t cap,
                   struct tb_error *err)
{
	const struct tb_json *v = tb_json_get(o, key);
	if (!v || v->type != TB_JSON_STRING)
		return tb_error_set(err, TB_EINVAL, "receipt: member \"%s\" missing or not a string",
		                    key);
	if (v->u.string.len >= cap || memchr(v->u.string.ptr, 0, v->u.string.len))
		return tb_error_set(err, TB_EINVAL, "receipt: member \"%s\" longer than %zu bytes "
		                    "or holds a NUL", key, cap - 1);
	memcpy(dst, v->u.string.ptr, v->u.string.len + 1);
	return 0;
}

static int get_hex(const struct tb_json *o, const char *key, uint8_t *dst, size_t n,
                   struct tb_error *err)
{
	char text[2 + 2 * 65 + 1];
	int rc = get_str(o, key, text, sizeof text, err);
	if (rc)
		return rc;
	size_t got = 0;
	if (strncmp(text, "0x", 2) != 0 || strlen(text) != 2 + 2 * n ||
	    tb_hex_decode(text + 2, 2 * n, dst, n, &got, NULL) != 0 || got != n)
		return tb_error_set(err, TB_EINVAL, "receipt: member \"%s\" must be 0x and %zu hex "
		                    "digits", key, 2 * n);
	return 0;
}

/* Every member of o must be one of the names in allowed (NULL-terminated). */
static int only_members(const struct tb_json *o, const char *where, const char *const *allowed,
                        struct tb_error *err)
{
	if (!o || o->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "receipt: %s is not an object", where);
	for (size_t i = 0; i < o->u.object.len; i++) {
		const char *k = o->u.object.members[i].key;
		size_t j = 0;
		while (allowed[j] && strcmp(allowed[j], k) != 0)
			j++;
		if (!allowed[j] || strlen(k) != o->u.object.members[i].key_len)
			return tb_error_set(err, TB_EINVAL, "receipt: %s: unexpected member \"%s\"",
			                    where, k);
	}
	return 0;
}

static int get_seq(const struct tb_json *o, uint64_t *seq, struct tb_error *err)
{
	const struct tb_json *v = tb_json_get(o, "seq");
	if (!v || v->type != TB_JSON_NUMBER)
		return tb_error_set(err, TB_EINVAL, "receipt: member \"seq\" missing or not a number");
	double d = v->u.number.value;
	if (!(d >= 1 && d <= (double)TB_RECEIPT_SEQ_MAX) || d != (double)(uint64_t)d)
		return tb_error_set(err, TB_EINVAL, "receipt: \"seq\" must be an integer in "
		                    "1..2^53-1");
	*seq = (uint64_t)d;
	return 0;
}

static int from_tree(const struct tb_json *t, struct tb_receipt *r, struct tb_error *err)
{
	static const char *const top[] = {"schema", "seq", "prev", "record", "source",
	                                  "destination", "time", "signature", NULL};
	static const char *const src[] = {"network", "locator", "verdict", NULL};
	static const char *const dst[] = {"network", "txref", "status", "reason", NULL};
	char schema[32];
	const struct tb_json *s = tb_json_get(t, "source"), *d = tb_json_get(t, "destination");
	int rc = only_members(t, "receipt", top, err);
	rc = rc ? rc : only_members(s, "\"source\"", src, err);
	rc = rc ? rc : only_members(d, "\"destination\"", dst, err);
	rc = rc ? rc : get_str(t, "schema", schema, sizeof schema, err);
	if (rc == 0 && strcmp(schema, TB_RECEIPT_SCHEMA) != 0)
		return tb_error_set(err, TB_EINVAL, "receipt: schema \"%s\" is not %s", schema,
		                    TB_RECEIPT_SCHEMA);
	rc = rc ? rc : get_seq(t, &r->seq, err);
	rc = rc ? rc : get_hex(t, "prev", r->prev, 32, err);
	rc = rc ? rc : get_str(t, "record", r->record, sizeof r->record, err);
	rc = rc ? rc : get_str(t, "time", r->time, sizeof r->time, err);
	rc = rc ? rc : get_hex(t, "signature", r->sig, 65, err);
	rc = rc ? rc : get_str(s, "network", r->source_network, sizeof r->source_network, err);
	rc = rc ? rc : get_str(s, "locator", r->source_locator, sizeof r->source_locator, err);
	rc = rc ? rc : get_str(s, "verdict", r->verdict, sizeof r->verdict, err);
	rc = rc ? rc : get_str(d, "network", r->destination, sizeof r->destination, err);
	rc = rc ? rc : get_str(d, "txref", r->txref, sizeof r->txref, err);
	rc = rc ? rc : get_str(d, "status", r->status, sizeof r->status, err);
	if (rc == 0 && tb_json_get(d, "reason")) {
		rc = get_str(d, "reason", r->reason, sizeof r->reason, err);
		if (rc == 0 && !r->reason[0]) /* written only when non-empty: "" is not canonical */
			rc = tb_error_set(err, TB_EINVAL, "receipt: member \"reason\" is present but "
			                  "empty (it is left out when there is none)");
	}
	return rc;
}

int tb_receipt_parse(const char *text, size_t len, struct tb_receipt *r, struct tb_error *err)
{
	struct tb_json_limits lim = {.max_bytes = TB_RECEIPT_MAX_BYTES, .max_depth = 4,
	                             .max_string = 512};
	struct tb_json *t = NULL;
	memset(r, 0, sizeof *r);
	int rc = tb_json_parse(text, len, &lim, &t, err);
	if (rc != 0) {
		tb_error_prefix(err, "receipt");
		return rc;
	}
	rc = from_tree(t, r, err);
	tb_json_free(t);
	return rc;
}

/* --- chains ------------------------------------------------------------------- */

static int check_one(const struct tb_receipt *r, uint64_t want_seq, const uint8_t want_prev[32],
                     const uint8_t signer[20], struct tb_error *err)
{
	if (r->seq != want_seq)
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": expected seq %" PRIu64
		                    " (%s)", r->seq, want_seq,
		                    r->seq > want_seq ? "gap: receipts missing" : "out of order or repeated");
	if (memcmp(r->prev, want_prev, 32) != 0) {
		char want[65];
		tb_hex_encode(want_prev, 32, want);
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": prev does not match "
		                    "the hash of the receipt before it (expected 0x%s)", r->seq, want);
	}
	uint8_t addr[20];
	struct tb_error serr;
	if (tb_receipt_signer(r, addr, &serr) != 0)
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": signature unusable: %s",
		                    r->seq, serr.msg);
	if (memcmp(addr, signer, 20) != 0) {
		char got[43];
		tb_eth_address_checksum(addr, got);
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": signed by %s, not by "
		                    "the relay's key (content altered or wrong key)", r->seq, got);
	}
	return 0;
}

int tb_receipt_verify_chain(const struct tb_receipt *rs, size_t n, const uint8_t signer[20],
                            const uint8_t *prev_hash, size_t *bad, struct tb_error *err)
{
	uint8_t prev[32] = {0};
	if (prev_hash)
		memcpy(prev, prev_hash, 32);
	else if (n > 0 && rs[0].seq != 1)
		memcpy(prev, rs[0].prev, 32); /* a window: its first link is taken as given */
	uint64_t want = n > 0 ? rs[0].seq : 1;
	for (size_t i = 0; i < n; i++, want++) {
		struct tb_error e;
		int rc = check_one(&rs[i], want, prev, signer, &e);
		if (rc == 0)
			rc = tb_receipt_hash(&rs[i], prev, &e);
		if (rc != 0) {
			if (bad)
				*bad = i;
			if (rc == TB_EVERIFY)
				return tb_error_set(err, rc, "%s", e.msg);
			return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": %s", rs[i].seq,
			                    e.msg);
		}
	}
	return 0;
}

void tb_receipt_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
