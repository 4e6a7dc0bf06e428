/* RLP: encodings from the yellow paper's examples ("dog", the cat/dog list, the
 * set-theoretic three) and the strict decoder's refusals, each naming its offset.
 * The ethereum/tests vectors (RLPTests) run in rlp_vectors below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rlp.h"
#include "lib/hex.h"

static void assert_buf_hex(const struct tb_buf *b, const char *hex)
{
	char out[512];
	assert_true(b->len * 2 < sizeof out);
	tb_hex_encode(b->data, b->len, out);
	assert_string_equal(out, hex);
}

static void encode_strings_and_ints(void **state)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_rlp_put_bytes(&b, "dog", 3), 0);
	assert_buf_hex(&b, "83646f67");
	tb_buf_reset(&b);
	assert_int_equal(tb_rlp_put_bytes(&b, "", 0), 0);
	assert_int_equal(tb_rlp_put_uint(&b, 0), 0);
	assert_int_equal(tb_rlp_put_uint(&b, 15), 0);
	assert_int_equal(tb_rlp_put_uint(&b, 1024), 0);
	assert_int_equal(tb_rlp_put_uint_be(&b, (const uint8_t *)"\0\0\x80", 3), 0);
	assert_buf_hex(&b, "80800f820400" "8180");
	tb_buf_fini(&b);
}

static void encode_lists(void **state)
{
	struct tb_buf b;
	size_t m0, m1, m2, m3;
	tb_buf_init(&b, 0);
	tb_rlp_list_begin(&b, &m0);
	assert_int_equal(tb_rlp_put_bytes(&b, "cat", 3), 0);
	assert_int_equal(tb_rlp_put_bytes(&b, "dog", 3), 0);
	assert_int_equal(tb_rlp_list_end(&b, m0), 0);
	assert_buf_hex(&b, "c88363617483646f67");
	/* [ [], [[]], [ [], [[]] ] ] */
	tb_buf_reset(&b);
	tb_rlp_list_begin(&b, &m0);
	tb_rlp_list_begin(&b, &m1);
	assert_int_equal(tb_rlp_list_end(&b, m1), 0);
	tb_rlp_list_begin(&b, &m1);
	tb_rlp_list_begin(&b, &m2);
	assert_int_equal(tb_rlp_list_end(&b, m2), 0);
	assert_int_equal(tb_rlp_list_end(&b, m1), 0);
	tb_rlp_list_begin(&b, &m1);
	tb_rlp_list_begin(&b, &m2);
	assert_int_equal(tb_rlp_list_end(&b, m2), 0);
	tb_rlp_list_begin(&b, &m2);
	tb_rlp_list_begin(&b, &m3);
	assert_int_equal(tb_rlp_list_end(&b, m3), 0);
	assert_int_equal(tb_rlp_list_end(&b, m2), 0);
	assert_int_equal(tb_rlp_list_end(&b, m1), 0);
	assert_int_equal(tb_rlp_list_end(&b, m0), 0);
	assert_buf_hex(&b, "c7c0c1c0c3c0c1c0");
	tb_buf_fini(&b);
}

static void encode_long_list_header(void **state)
{
	struct tb_buf b;
	size_t m;
	uint8_t x[60] = {0};
	tb_buf_init(&b, 0);
	tb_rlp_list_begin(&b, &m);
	assert_int_equal(tb_rlp_put_bytes(&b, x, 60), 0); /* b83c + 60 bytes = 62 */
	assert_int_equal(tb_rlp_list_end(&b, m), 0);
	assert_int_equal(b.len, 64);
	assert_int_equal(b.data[0], 0xf8);
	assert_int_equal(b.data[1], 62);
	assert_int_equal(b.data[2], 0xb8);
	assert_int_equal(b.data[3], 60);
	tb_buf_fini(&b);
}

static void encode_respects_buffer_limit(void **state)
{
	struct tb_buf b;
	size_t m;
	tb_buf_init(&b, 4);
	assert_int_equal(tb_rlp_put_bytes(&b, "dog", 3), 0); /* exactly 4 bytes */
	assert_int_equal(tb_rlp_put_bytes(&b, "", 0), TB_ELIMIT);
	assert_int_equal(b.len, 4);
	tb_buf_reset(&b);
	tb_rlp_list_begin(&b, &m);
	assert_int_equal(tb_rlp_put_bytes(&b, "dog", 3), 0);
	assert_int_equal(tb_rlp_list_end(&b, m), TB_ELIMIT); /* header would make 5 */
	tb_buf_fini(&b);
}

static int decode_hex(const char *hex, struct tb_rlp_item *it, uint8_t *buf, size_t cap,
                      struct tb_error *err)
{
	size_t n;
	struct tb_error e2;
	assert_int_equal(tb_hex_decode(hex, strlen(hex), buf, cap, &n, &e2), 0);
	return tb_rlp_decode(buf, n, it, err);
}

static void decode_list_items(void **state)
{
	uint8_t buf[64];
	struct tb_rlp_item it, c;
	struct tb_error err;
	uint64_t v;
	assert_int_equal(decode_hex("c88363617483646f67", &it, buf, sizeof buf, &err), 0);
	assert_true(it.is_list);
	assert_int_equal(tb_rlp_count(&it), 2);
	assert_int_equal(tb_rlp_at(&it, 1, &c, &err), 0);
	assert_false(c.is_list);
	assert_int_equal(c.len, 3);
	assert_memory_equal(c.payload, "dog", 3);
	assert_int_equal(c.offset, 5);
	assert_int_equal(tb_rlp_at(&it, 2, &c, &err), TB_ENOTFOUND);
	assert_int_equal(decode_hex("820400", &it, buf, sizeof buf, &err), 0);
	assert_int_equal(tb_rlp_uint64(&it, &v, &err), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(decode_hex("820004", &it, buf, sizeof buf, &err), 0);
	assert_int_equal(tb_rlp_uint64(&it, &v, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "leading zero"));
	assert_int_equal(decode_hex("89010203040506070809", &it, buf, sizeof buf, &err), 0);
	assert_int_equal(tb_rlp_uint64(&it, &v, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "64 bits"));
}

static void decode_refusals_name_offset(void **state)
{
	static const char *cases[][2] = {
		{"", "offset 0: input ends"},
		{"8100", "offset 0: single byte 0x00 must not be wrapped"},
		{"c3830101", "offset 1: item of 3 bytes runs past"},
		{"b800", "offset 0: long length has a leading zero"},
		{"b80100", "offset 0: length 1 must use the short form"},
		{"8301", "offset 0: item of 3 bytes runs past"},
		{"0102", "offset 1: 1 trailing bytes"},
		{"c2c28100", "offset 1: item of 2 bytes runs past"},
		{"c3c28100", "offset 2: single byte 0x00 must not be wrapped"},
		{"b901", "offset 0: length of length 2 runs past"},
		{"bf0102030405060708", "offset 0: item of 72623859790382856 bytes"},
		{"bfffffffffffffffff00", "offset 0: item of"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t buf[64];
		struct tb_rlp_item it;
		struct tb_error err;
		int rc = decode_hex(cases[i][0], &it, buf, sizeof buf, &err);
		if (rc != TB_EINVAL)
			fail_msg("case %s: rc %d", cases[i][0], rc);
		if (strstr(err.msg, cases[i][1]) == NULL)
			fail_msg("case %s: got \"%s\", want \"%s\"", cases[i][0], err.msg, cases[i][1]);
	}
}

static void decode_depth_limit(void **state)
{
	/* TB_RLP_MAX_DEPTH nested lists decode; one more is refused. */
	for (size_t n = TB_RLP_MAX_DEPTH; n <= TB_RLP_MAX_DEPTH + 1; n++) {
		struct tb_buf b;
		struct tb_rlp_item it;
		struct tb_error err;
		size_t marks[TB_RLP_MAX_DEPTH + 1];
		tb_buf_init(&b, 0);
		for (size_t i = 0; i < n; i++)
			tb_rlp_list_begin(&b, &marks[i]);
		for (size_t i = n; i-- > 0;)
			assert_int_equal(tb_rlp_list_end(&b, marks[i]), 0);
		int rc = tb_rlp_decode(b.data, b.len, &it, &err);
		assert_int_equal(rc, n == TB_RLP_MAX_DEPTH ? 0 : TB_ELIMIT);
		tb_buf_fini(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_strings_and_ints),
		cmocka_unit_test(encode_lists),
		cmocka_unit_test(encode_long_list_header),
		cmocka_unit_test(encode_respects_buffer_limit),
		cmocka_unit_test(decode_list_items),
		cmocka_unit_test(decode_refusals_name_offset),
		cmocka_unit_test(decode_depth_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
