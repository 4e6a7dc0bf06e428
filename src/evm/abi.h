/* Solidity ABI: head/tail encoding and strict decoding of the static types uintN,
 * address, bool, bytesN and the dynamic types string and bytes (no arrays or tuples);
 * function selectors and event topics by keccak-256. Invariant: a decoder never
 * reads outside its input, and a word that does not fit its type (high bits set in a
 * uintN or address, a bool not 0/1, bytesN with trailing bytes) is refused, not cut. */
#ifndef TB_ABI_H
#define TB_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"

#define TB_ABI_MAX_ARGS 32          /* values in one encoding */
#define TB_ABI_MAX_DYNAMIC (1 << 20) /* bytes in one string or bytes value */
#define TB_ABI_MAX_SIGNATURE 256    /* bytes in "name(type,...)" */

enum tb_abi_kind {
	TB_ABI_UINT,    /* uintN, N = 8..256 in steps of 8 (size = N/8) */
	TB_ABI_ADDRESS,
	TB_ABI_BOOL,
	TB_ABI_FIXED_BYTES, /* bytesN, size = N (1..32) */
	TB_ABI_STRING,
	TB_ABI_BYTES,
};

struct tb_abi_type {
	enum tb_abi_kind kind;
	unsigned size; /* bytes, for UINT and FIXED_BYTES */
};

/* One value. Static types live in word (uint/bool big-endian right-aligned; address
 * in the low 20 bytes; bytesN left-aligned); string/bytes point at data (borrowed:
 * into the caller's memory when encoding, into the decoded input when decoding). */
struct tb_abi_value {
	struct tb_abi_type type;
	uint8_t word[32];
	const uint8_t *data;
	size_t len;
};

/* keccak256(signature)[0..4], e.g. "transfer(address,uint256)" -> a9059cbb. */
void tb_abi_selector(const char *signature, uint8_t out[4]);
/* keccak256(signature): topic 0 of a non-anonymous event. */
void tb_abi_topic(const char *signature, uint8_t out[32]);
/* Parse "name(t1,t2,...)" into types (room for max); *n gets the count. */
int tb_abi_parse_signature(const char *signature, struct tb_abi_type *types, size_t max,
                           size_t *n, struct tb_error *err);

/* Value constructors. */
struct tb_abi_value tb_abi_uint64(uint64_t v);
struct tb_abi_value tb_abi_uint_be(const uint8_t be[32]);
struct tb_abi_value tb_abi_address(const uint8_t addr[20]);
struct tb_abi_value tb_abi_bytes32(const uint8_t b[32]);
struct tb_abi_value tb_abi_bool(int b);
struct tb_abi_value tb_abi_string(const char *s, size_t len);
struct tb_abi_value tb_abi_bytes(const uint8_t *p, size_t len);

/* Append the head/tail encoding of v[0..n) to out. */
int tb_abi_encode(const struct tb_abi_value *v, size_t n, struct tb_buf *out,
                  struct tb_error *err);
/* selector(signature) || encode(v): calldata; the values must match the signature. */
int tb_abi_encode_call(const char *signature, const struct tb_abi_value *v, size_t n,
                       struct tb_buf *out, struct tb_error *err);
/* Decode data as types[0..n) into out[0..n). Errors name the argument and offset. */
int tb_abi_decode(const uint8_t *data, size_t len, const struct tb_abi_type *types, size_t n,
                  struct tb_abi_value *out, struct tb_error *err);
/* A decoded uint word as uint64_t; TB_ELIMIT if it does not fit. */
int tb_abi_word_u64(const uint8_t word[32], uint64_t *v, struct tb_error *err);

#endif
