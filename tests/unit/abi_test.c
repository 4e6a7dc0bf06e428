/* ABI codec against values fixed by the Solidity ABI specification and well-known
 * selectors/topics (ERC-20's transfer and Transfer), plus the decoder's refusals:
 * offsets out of bounds, lengths past the input or the limit, words too wide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "evm/abi.h"
#include "lib/hex.h"

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	tb_hex_encode(p, n, out);
}

static void test_selectors(void **s)
{
	(void)s;
	uint8_t sel[4], topic[32];
	char hex[65];
	tb_abi_selector("transfer(address,uint256)", sel);
	hex_of(sel, 4, hex);
	assert_string_equal(hex, "a9059cbb");
	tb_abi_topic("Transfer(address,address,uint256)", topic);
	hex_of(topic, 32, hex);
	assert_string_equal(hex, "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
	/* Solidity ABI spec, "Examples": baz(uint32,bool) */
	tb_abi_selector("baz(uint32,bool)", sel);
	hex_of(sel, 4, hex);
	assert_string_equal(hex, "cdcd77c0");
}

/* Spec example: baz(69, true). */
static void test_encode_static(void **s)
{
	(void)s;
	struct tb_buf b;
	struct tb_error e = {0};
	tb_buf_init(&b, 0);
	struct tb_abi_value v[2] = {tb_abi_uint64(69), tb_abi_bool(1)};
	assert_int_equal(tb_abi_encode_call("baz(uint32,bool)", v, 2, &b, &e), 0);
	char hex[2 * 68 + 1];
	assert_int_equal(b.len, 68);
	hex_of(b.data, b.len, hex);
	assert_string_equal(hex, "cdcd77c0"
	                         "0000000000000000000000000000000000000000000000000000000000000045"
	                         "0000000000000000000000000000000000000000000000000000000000000001");
	/* 2^32 does not fit a uint32. */
	tb_buf_reset(&b);
	v[0] = tb_abi_uint64(1ull << 32);
	assert_int_equal(tb_abi_encode_call("baz(uint32,bool)", v, 2, &b, &e), TB_EINVAL);
	tb_buf_fini(&b);
}

/* The spec's sam example, with its bytes "dave" and bool true parts (head offsets
 * recomputed for two arguments by the spec's rules). */
static const char dave_true[] =
	"0000000000000000000000000000000000000000000000000000000000000040"
	"0000000000000000000000000000000000000000000000000000000000000001"
	"0000000000000000000000000000000000000000000000000000000000000004"
	"6461766500000000000000000000000000000000000000000000000000000000";

static void test_dynamic_roundtrip(void **s)
{
	(void)s;
	struct tb_buf b;
	struct tb_error e = {0};
	tb_buf_init(&b, 0);
	struct tb_abi_value v[2] = {tb_abi_bytes((const uint8_t *)"dave", 4), tb_abi_bool(1)};
	assert_int_equal(tb_abi_encode(v, 2, &b, &e), 0);
	char hex[sizeof(dave_true)];
	assert_int_equal(b.len * 2 + 1, sizeof(dave_true));
	hex_of(b.data, b.len, hex);
	assert_string_equal(hex, dave_true);

	struct tb_abi_type t[2];
	size_t n;
	assert_int_equal(tb_abi_parse_signature("sam(bytes,bool)", t, 2, &n, &e), 0);
	assert_int_equal(n, 2);
	struct tb_abi_value out[2];
	assert_int_equal(tb_abi_decode(b.data, b.len, t, 2, out, &e), 0);
	assert_int_equal(out[0].len, 4);
	assert_memory_equal(out[0].data, "dave", 4);
	assert_int_equal(out[1].word[31], 1);
	tb_buf_fini(&b);
}

static void test_decode_refusals(void **s)
{
	(void)s;
	uint8_t in[128];
	size_t n;
	struct tb_error e = {0};
	struct tb_abi_type t[2] = {{TB_ABI_STRING, 0}, {TB_ABI_BOOL, 1}};
	struct tb_abi_value out[2];
	assert_int_equal(tb_hex_decode(dave_true, strlen(dave_true), in, sizeof(in), &n, &e), 0);
	/* offset past the end */
	uint8_t bad[128];
	memcpy(bad, in, n);
	bad[31] = 0x80;
	assert_int_equal(tb_abi_decode(bad, n, t, 2, out, &e), TB_EINVAL);
	assert_non_null(strstr(e.msg, "argument 0"));
	/* length claims more than present */
	memcpy(bad, in, n);
	bad[95] = 0x21;
	assert_int_equal(tb_abi_decode(bad, n, t, 2, out, &e), TB_EINVAL);
	/* length over the limit */
	memcpy(bad, in, n);
	bad[93] = 0x20; /* 0x200004 > 1 MiB */
	assert_int_equal(tb_abi_decode(bad, n, t, 2, out, &e), TB_ELIMIT);
	/* a bool of 2 */
	memcpy(bad, in, n);
	bad[63] = 2;
	assert_int_equal(tb_abi_decode(bad, n, t, 2, out, &e), TB_EINVAL);
	/* an address with high bytes set */
	struct tb_abi_type a = {TB_ABI_ADDRESS, 20};
	memset(bad, 0, 32);
	bad[11] = 1;
	assert_int_equal(tb_abi_decode(bad, 32, &a, 1, out, &e), TB_EINVAL);
	bad[11] = 0;
	assert_int_equal(tb_abi_decode(bad, 32, &a, 1, out, &e), 0);
	/* too short for the head */
	assert_int_equal(tb_abi_decode(in, 63, t, 2, out, &e), TB_EINVAL);
}

static void test_signature_limits(void **s)
{
	(void)s;
	struct tb_abi_type t[TB_ABI_MAX_ARGS];
	size_t n;
	struct tb_error e = {0};
	assert_int_equal(tb_abi_parse_signature("f()", t, TB_ABI_MAX_ARGS, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tb_abi_parse_signature("f(uint7)", t, TB_ABI_MAX_ARGS, &n, &e), TB_ENOTSUP);
	assert_int_equal(tb_abi_parse_signature("f(bytes33)", t, TB_ABI_MAX_ARGS, &n, &e),
	                 TB_ENOTSUP);
	assert_int_equal(tb_abi_parse_signature("f(uint256[])", t, TB_ABI_MAX_ARGS, &n, &e),
	                 TB_ENOTSUP);
	assert_int_equal(tb_abi_parse_signature("f(uint8,bytes32,address)", t, 2, &n, &e),
	                 TB_ELIMIT);
	assert_int_equal(tb_abi_parse_signature("f(uint8,bytes32,address)", t, 3, &n, &e), 0);
	assert_int_equal(t[0].size, 1);
	assert_int_equal(t[1].kind, TB_ABI_FIXED_BYTES);
	assert_int_equal(tb_abi_parse_signature("nope", t, 3, &n, &e), TB_EINVAL);
	/* TB_ABI_MAX_ARGS + 1 values are refused by the encoder. */
	struct tb_abi_value v[TB_ABI_MAX_ARGS + 1];
	for (size_t i = 0; i <= TB_ABI_MAX_ARGS; i++)
		v[i] = tb_abi_bool(0);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_abi_encode(v, TB_ABI_MAX_ARGS + 1, &b, &e), TB_ELIMIT);
	assert_int_equal(tb_abi_encode(v, TB_ABI_MAX_ARGS, &b, &e), 0);
	assert_int_equal(b.len, 32 * TB_ABI_MAX_ARGS);
	tb_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_encode_static),
		cmocka_unit_test(test_dynamic_roundtrip),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_signature_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
