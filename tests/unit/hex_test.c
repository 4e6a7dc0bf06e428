/* Hex and base64: known encodings (RFC 4648 section 10 for base64) round-trip,
 * and every malformed input is refused with the offset of the bad character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"

static void hex_encode_lowercase(void **state)
{
	const uint8_t in[] = {0x00, 0x7f, 0xab, 0xff};
	char out[9];
	tb_hex_encode(in, 4, out);
	assert_string_equal(out, "007fabff");
	tb_hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void hex_decode_prefix_and_case(void **state)
{
	uint8_t out[4];
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_hex_decode("0xDeadBEEF", 10, out, sizeof out, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_int_equal(tb_hex_decode("0X00", 4, out, sizeof out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(tb_hex_decode("0x", 2, out, sizeof out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tb_hex_decode("", 0, out, sizeof out, &n, &err), 0);
	assert_int_equal(n, 0);
}

static void hex_decode_errors(void **state)
{
	uint8_t out[4];
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_hex_decode("0x123", 5, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "odd"));
	assert_int_equal(tb_hex_decode("0x12g4", 6, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "offset 4"));
	assert_int_equal(tb_hex_decode("1 ", 2, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "offset 1"));
	/* Exactly at the capacity works; one byte over is a limit error. */
	assert_int_equal(tb_hex_decode("01020304", 8, out, 4, &n, &err), 0);
	assert_int_equal(tb_hex_decode("0102030405", 10, out, 4, &n, &err), TB_ELIMIT);
	assert_int_equal(n, 0);
}

static void hex_decode_alloc(void **state)
{
	uint8_t *p;
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_hex_decode_alloc("0x0102", 6, &p, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "\x01\x02", 2);
	free(p);
	assert_int_equal(tb_hex_decode_alloc("0xzz", 4, &p, &n, &err), TB_EINVAL);
	assert_null(p);
}

static const char *rfc4648[][2] = {
	{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},     {"foo", "Zm9v"},
	{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void base64_rfc4648(void **state)
{
	for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
		char enc[16];
		uint8_t dec[8];
		size_t n;
		struct tb_error err;
		const char *plain = rfc4648[i][0], *b64 = rfc4648[i][1];
		tb_base64_encode((const uint8_t *)plain, strlen(plain), enc);
		assert_string_equal(enc, b64);
		assert_int_equal(tb_base64_decode(b64, strlen(b64), dec, sizeof dec, &n, &err), 0);
		assert_int_equal(n, strlen(plain));
		assert_memory_equal(dec, plain, n);
	}
}

static void base64_errors(void **state)
{
	uint8_t out[8];
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_base64_decode("Zm9", 3, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "multiple of 4"));
	assert_int_equal(tb_base64_decode("Zm!v", 4, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "offset 2"));
	assert_int_equal(tb_base64_decode("Z===", 4, out, sizeof out, &n, &err), TB_EINVAL);
	assert_int_equal(tb_base64_decode("Zg=a", 4, out, sizeof out, &n, &err), TB_EINVAL);
	assert_int_equal(tb_base64_decode("Zg==Zg==", 8, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "offset 2"));
	/* "Zh==" carries a stray bit in the padding: not canonical. */
	assert_int_equal(tb_base64_decode("Zh==", 4, out, sizeof out, &n, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "padding"));
	assert_int_equal(tb_base64_decode("Zm9vYmFy", 8, out, 6, &n, &err), 0);
	assert_int_equal(tb_base64_decode("Zm9vYmFy", 8, out, 5, &n, &err), TB_ELIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_encode_lowercase), cmocka_unit_test(hex_decode_prefix_and_case),
		cmocka_unit_test(hex_decode_errors),    cmocka_unit_test(hex_decode_alloc),
		cmocka_unit_test(base64_rfc4648),       cmocka_unit_test(base64_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
