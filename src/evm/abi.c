/* Solidity ABI codec for the flat argument lists the adapters need (no arrays or
 * tuples). Invariant: decoding checks every offset and length against the input
 * before reading, and every static word against its type's width. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evm/abi.h"
#include "crypto/hash.h"

void tb_abi_topic(const char *signature, uint8_t out[32])
{
	tb_keccak256(signature, strlen(signature), out);
}

void tb_abi_selector(const char *signature, uint8_t out[4])
{
	uint8_t h[32];
	tb_abi_topic(signature, h);
	memcpy(out, h, 4);
}

static int parse_type(const char *s, size_t len, struct tb_abi_type *t)
{
	char buf[16];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (strcmp(buf, "address") == 0)
		*t = (struct tb_abi_type){TB_ABI_ADDRESS, 20};
	else if (strcmp(buf, "bool") == 0)
		*t = (struct tb_abi_type){TB_ABI_BOOL, 1};
	else if (strcmp(buf, "string") == 0)
		*t = (struct tb_abi_type){TB_ABI_STRING, 0};
	else if (strcmp(buf, "bytes") == 0)
		*t = (struct tb_abi_type){TB_ABI_BYTES, 0};
	else if (strcmp(buf, "uint") == 0)
		*t = (struct tb_abi_type){TB_ABI_UINT, 32};
	else {
		int uint = strncmp(buf, "uint", 4) == 0, fixed = strncmp(buf, "bytes", 5) == 0;
		const char *num = buf + (uint ? 4 : 5);
		if ((!uint && !fixed) || num[0] < '1' || num[0] > '9' || strlen(num) > 3)
			return -1;
		char *end;
		long v = strtol(num, &end, 10);
		if (*end)
			return -1;
		if (uint && (v % 8 != 0 || v < 8 || v > 256))
			return -1;
		if (fixed && (v < 1 || v > 32))
			return -1;
		*t = uint ? (struct tb_abi_type){TB_ABI_UINT, (unsigned)v / 8}
		          : (struct tb_abi_type){TB_ABI_FIXED_BYTES, (unsigned)v};
	}
	return 0;
}

int tb_abi_parse_signature(const char *sig, struct tb_abi_type *types, size_t max, size_t *n,
                           struct tb_error *err)
{
	*n = 0;
	size_t len = strnlen(sig, TB_ABI_MAX_SIGNATURE + 1);
	const char *open = memchr(sig, '(', len);
	if (len > TB_ABI_MAX_SIGNATURE || open == NULL || open == sig || sig[len - 1] != ')')
		return tb_error_set(err, TB_EINVAL, "abi: \"%.64s\" is not name(type,...)", sig);
	const char *p = open + 1, *end = sig + len - 1;
	if (p == end)
		return 0;
	while (p <= end) {
		const char *q = p;
		while (q < end && *q != ',')
			q++;
		if (*n >= max)
			return tb_error_set(err, TB_ELIMIT, "abi: %.64s: more than %zu arguments", sig, max);
		if (parse_type(p, (size_t)(q - p), &types[*n]) < 0)
			return tb_error_set(err, TB_ENOTSUP, "abi: %.64s: argument %zu: type \"%.*s\" is not "
			                    "supported (uintN, address, bool, bytesN, string, bytes)",
			                    sig, *n, (int)(q - p), p);
		(*n)++;
		p = q + 1;
	}
	return 0;
}

struct tb_abi_value tb_abi_uint64(uint64_t v)
{
	struct tb_abi_value x = {.type = {TB_ABI_UINT, 32}};
	for (int i = 0; i < 8; i++)
		x.word[31 - i] = (uint8_t)(v >> (8 * i));
	return x;
}

struct tb_abi_value tb_abi_uint_be(const uint8_t be[32])
{
	struct tb_abi_value x = {.type = {TB_ABI_UINT, 32}};
	memcpy(x.word, be, 32);
	return x;
}

struct tb_abi_value tb_abi_address(const uint8_t addr[20])
{
	struct tb_abi_value x = {.type = {TB_ABI_ADDRESS, 20}};
	memcpy(x.word + 12, addr, 20);
	return x;
}

struct tb_abi_value tb_abi_bytes32(const uint8_t b[32])
{
	struct tb_abi_value x = {.type = {TB_ABI_FIXED_BYTES, 32}};
	memcpy(x.word, b, 32);
	return x;
}

struct tb_abi_value tb_abi_bool(int b)
{
	struct tb_abi_value x = {.type = {TB_ABI_BOOL, 1}};
	x.word[31] = b ? 1 : 0;
	return x;
}

struct tb_abi_value tb_abi_string(const char *s, size_t len)
{
	return (struct tb_abi_value){.type = {TB_ABI_STRING, 0}, .data = (const uint8_t *)s,
	                             .len = len};
}

struct tb_abi_value tb_abi_bytes(const uint8_t *p, size_t len)
{
	return (struct tb_abi_value){.type = {TB_ABI_BYTES, 0}, .data = p, .len = len};
}

static int is_dynamic(const struct tb_abi_type *t)
{
	return t->kind == TB_ABI_STRING || t->kind == TB_ABI_BYTES;
}

static void put_word_u64(uint8_t w[32], uint64_t v)
{
	memset(w, 0, 32);
	for (int i = 0; i < 8; i++)
		w[31 - i] = (uint8_t)(v >> (8 * i));
}

/* Does word fit type t? Returns a reason or NULL. */
static const char *word_misfit(const struct tb_abi_type *t, const uint8_t w[32])
{
	size_t lo = 0, hi = 32; /* bytes outside [lo, hi) must be zero */
	switch (t->kind) {
	case TB_ABI_UINT: lo = 32 - t->size; break;
	case TB_ABI_ADDRESS: lo = 12; break;
	case TB_ABI_BOOL:
		lo = 31;
		if (w[31] > 1)
			return "bool is neither 0 nor 1";
		break;
	case TB_ABI_FIXED_BYTES: hi = t->size; break;
	default: return NULL;
	}
	for (size_t i = 0; i < 32; i++)
		if ((i < lo || i >= hi) && w[i] != 0)
			return "value does not fit its type (non-zero padding)";
	return NULL;
}

int tb_abi_encode(const struct tb_abi_value *v, size_t n, struct tb_buf *out,
                  struct tb_error *err)
{
	if (n > TB_ABI_MAX_ARGS)
		return tb_error_set(err, TB_ELIMIT, "abi: %zu values, at most %d", n, TB_ABI_MAX_ARGS);
	size_t tail = 32 * n;
	for (size_t i = 0; i < n; i++) {
		uint8_t w[32];
		if (is_dynamic(&v[i].type)) {
			if (v[i].len > TB_ABI_MAX_DYNAMIC)
				return tb_error_set(err, TB_ELIMIT, "abi: value %zu: %zu bytes, at most %d", i,
				                    v[i].len, TB_ABI_MAX_DYNAMIC);
			put_word_u64(w, tail);
			tail += 32 + (v[i].len + 31) / 32 * 32;
		} else {
			const char *why = word_misfit(&v[i].type, v[i].word);
			if (why)
				return tb_error_set(err, TB_EINVAL, "abi: value %zu: %s", i, why);
			memcpy(w, v[i].word, 32);
		}
		if (tb_buf_append(out, w, 32) < 0)
			return tb_error_set(err, TB_ELIMIT, "abi: output buffer full");
	}
	static const uint8_t zeros[32];
	for (size_t i = 0; i < n; i++) {
		if (!is_dynamic(&v[i].type))
			continue;
		uint8_t w[32];
		put_word_u64(w, v[i].len);
		size_t pad = (32 - v[i].len % 32) % 32;
		if (tb_buf_append(out, w, 32) < 0 ||
		    (v[i].len && tb_buf_append(out, v[i].data, v[i].len) < 0) ||
		    tb_buf_append(out, zeros, pad) < 0)
			return tb_error_set(err, TB_ELIMIT, "abi: output buffer full");
	}
	return 0;
}

int tb_abi_encode_call(const char *signature, const struct tb_abi_value *v, size_t n,
                       struct tb_buf *out, struct tb_error *err)
{
	struct tb_abi_type types[TB_ABI_MAX_ARGS];
	size_t nt;
	int rc = tb_abi_parse_signature(signature, types, TB_ABI_MAX_ARGS, &nt, err);
	if (rc < 0)
		return rc;
	if (nt != n)
		return tb_error_set(err, TB_EINVAL, "abi: %s takes %zu arguments, %zu given", signature,
		                    nt, n);
	for (size_t i = 0; i < n; i++)
		if (types[i].kind != v[i].type.kind)
			return tb_error_set(err, TB_EINVAL, "abi: %s: argument %zu has the wrong type",
			                    signature, i);
	uint8_t sel[4];
	tb_abi_selector(signature, sel);
	if (tb_buf_append(out, sel, 4) < 0)
		return tb_error_set(err, TB_ELIMIT, "abi: output buffer full");
	struct tb_abi_value tmp[TB_ABI_MAX_ARGS];
	for (size_t i = 0; i < n; i++) {
		tmp[i] = v[i];
		tmp[i].type = types[i]; /* check the width the signature says */
	}
	return tb_abi_encode(tmp, n, out, err);
}

int tb_abi_word_u64(const uint8_t w[32], uint64_t *v, struct tb_error *err)
{
	*v = 0;
	for (int i = 0; i < 24; i++)
		if (w[i])
			return tb_error_set(err, TB_ELIMIT, "abi: number does not fit in 64 bits");
	for (int i = 24; i < 32; i++)
		*v = (*v << 8) | w[i];
	return 0;
}

static int decode_dynamic(const uint8_t *data, size_t len, size_t i, const uint8_t head[32],
                          struct tb_abi_value *out, struct tb_error *err)
{
	uint64_t off, n;
	if (tb_abi_word_u64(head, &off, NULL) < 0 || off > len || len - off < 32)
		return tb_error_set(err, TB_EINVAL, "abi: argument %zu: offset points outside the %zu-byte "
		                    "input", i, len);
	if (tb_abi_word_u64(data + off, &n, NULL) < 0 || n > TB_ABI_MAX_DYNAMIC)
		return tb_error_set(err, TB_ELIMIT, "abi: argument %zu: length over %d bytes", i,
		                    TB_ABI_MAX_DYNAMIC);
	if (n > len - off - 32)
		return tb_error_set(err, TB_EINVAL, "abi: argument %zu at offset %llu: %llu bytes claimed, "
		                    "%zu present", i, (unsigned long long)off, (unsigned long long)n,
		                    (size_t)(len - off - 32));
	out->data = data + off + 32;
	out->len = (size_t)n;
	return 0;
}

int tb_abi_decode(const uint8_t *data, size_t len, const struct tb_abi_type *types, size_t n,
                  struct tb_abi_value *out, struct tb_error *err)
{
	if (n > TB_ABI_MAX_ARGS)
		return tb_error_set(err, TB_ELIMIT, "abi: %zu types, at most %d", n, TB_ABI_MAX_ARGS);
	if (len / 32 < n)
		return tb_error_set(err, TB_EINVAL, "abi: %zu bytes cannot hold %zu arguments", len, n);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *head = data + 32 * i;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].type = types[i];
		if (is_dynamic(&types[i])) {
			int rc = decode_dynamic(data, len, i, head, &out[i], err);
			if (rc < 0)
				return rc;
			continue;
		}
		const char *why = word_misfit(&types[i], head);
		if (why)
			return tb_error_set(err, TB_EINVAL, "abi: argument %zu at offset %zu: %s", i, 32 * i,
			                    why);
		memcpy(out[i].word, head, 32);
	}
	return 0;
}
