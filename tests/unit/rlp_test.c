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

#include "crypto/hash.h"
#include "evm/rlp.h"
#include "lib/hex.h"
#include "lib/json.h"
#include "vectors.h"

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


/* ---- ethereum/tests RLPTests ---- */

static struct tb_json *load_vectors(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "ethereum-tests/RLPTests/%s", rel);
	return tb_vec_json(path);
}

/* "#<decimal>" as minimal big-endian bytes into out (cap 64); returns length. */
static size_t decimal_be(const char *d, uint8_t *out)
{
	uint8_t acc[64] = {0};
	for (; *d; d++) {
		unsigned carry = (unsigned)(*d - '0');
		for (size_t i = 64; i-- > 0;) {
			unsigned v = acc[i] * 10u + carry;
			acc[i] = (uint8_t)v;
			carry = v >> 8;
		}
		assert_int_equal(carry, 0);
	}
	size_t z = 0;
	while (z < 64 && acc[z] == 0)
		z++;
	memcpy(out, acc + z, 64 - z);
	return 64 - z;
}

/* The bytes an "in" scalar stands for (see ethereum-tests/SOURCES.md). */
static size_t scalar_bytes(const struct tb_json *in, uint8_t *out, size_t cap)
{
	if (in->type == TB_JSON_STRING && in->u.string.ptr[0] == '#')
		return decimal_be(in->u.string.ptr + 1, out);
	if (in->type == TB_JSON_STRING) {
		assert_true(in->u.string.len <= cap);
		memcpy(out, in->u.string.ptr, in->u.string.len);
		return in->u.string.len;
	}
	assert_int_equal(in->type, TB_JSON_NUMBER);
	unsigned long long v = strtoull(in->u.number.text, NULL, 10);
	size_t n = 0;
	uint8_t be[8];
	for (; v; v >>= 8)
		be[7 - n++] = (uint8_t)v;
	memcpy(out, be + 8 - n, n);
	return n;
}

static void encode_in(const struct tb_json *in, struct tb_buf *b)
{
	static uint8_t tmp[2048];
	if (in->type == TB_JSON_ARRAY) {
		size_t mark;
		tb_rlp_list_begin(b, &mark);
		for (size_t i = 0; i < tb_json_len(in); i++)
			encode_in(tb_json_at(in, i), b);
		assert_int_equal(tb_rlp_list_end(b, mark), 0);
		return;
	}
	size_t n = scalar_bytes(in, tmp, sizeof tmp);
	assert_int_equal(tb_rlp_put_bytes(b, tmp, n), 0);
}

/* The decoded item must be exactly "in". */
static void assert_decoded(const struct tb_rlp_item *it, const struct tb_json *in)
{
	static uint8_t tmp[2048];
	if (in->type == TB_JSON_ARRAY) {
		assert_true(it->is_list);
		assert_int_equal(tb_rlp_count(it), tb_json_len(in));
		for (size_t i = 0; i < tb_json_len(in); i++) {
			struct tb_rlp_item c;
			assert_int_equal(tb_rlp_at(it, i, &c, NULL), 0);
			assert_decoded(&c, tb_json_at(in, i));
		}
		return;
	}
	size_t n = scalar_bytes(in, tmp, sizeof tmp);
	assert_false(it->is_list);
	assert_int_equal(it->len, n);
	assert_memory_equal(it->payload, tmp, n);
}

static void rlp_vectors_valid(void **state)
{
	struct tb_json *j = load_vectors("rlptest.json");
	size_t count = 0;
	for (size_t i = 0; i < tb_json_len(j); i++) {
		const char *name = j->u.object.members[i].key;
		const struct tb_json *c = j->u.object.members[i].value;
		const char *out = tb_json_string(tb_json_get(c, "out"));
		struct tb_buf b, hex;
		struct tb_rlp_item it;
		struct tb_error err;
		tb_buf_init(&b, 0);
		tb_buf_init(&hex, 0);
		encode_in(tb_json_get(c, "in"), &b);
		assert_int_equal(tb_buf_reserve(&hex, 2 * b.len + 3), 0);
		tb_buf_puts(&hex, "0x");
		tb_hex_encode(b.data, b.len, (char *)hex.data + 2);
		if (strcmp((char *)hex.data, out) != 0)
			fail_msg("%s: encoded %s, want %s", name, (char *)hex.data, out);
		if (tb_rlp_decode(b.data, b.len, &it, &err) != 0)
			fail_msg("%s: %s", name, err.msg);
		assert_decoded(&it, tb_json_get(c, "in"));
		tb_buf_fini(&b);
		tb_buf_fini(&hex);
		count++;
	}
	assert_int_equal(count, 28);
	tb_json_free(j);
}

static void rlp_vectors_invalid(void **state)
{
	struct tb_json *j = load_vectors("invalidRLPTest.json");
	size_t count = 0;
	for (size_t i = 0; i < tb_json_len(j); i++) {
		const char *name = j->u.object.members[i].key;
		const struct tb_json *out = tb_json_get(j->u.object.members[i].value, "out");
		uint8_t *p;
		size_t n;
		struct tb_rlp_item it;
		struct tb_error err;
		assert_int_equal(tb_hex_decode_alloc(out->u.string.ptr, out->u.string.len, &p, &n, &err), 0);
		if (tb_rlp_decode(p, n, &it, &err) == 0)
			fail_msg("%s: accepted %s", name, out->u.string.ptr);
		if (strstr(err.msg, "rlp: offset ") == NULL)
			fail_msg("%s: message without an offset: %s", name, err.msg);
		free(p);
		count++;
	}
	assert_int_equal(count, 26);
	tb_json_free(j);
}

static void rlp_vectors_random(void **state)
{
	struct tb_json *j = load_vectors("RandomRLPTests/example.json");
	const struct tb_json *out = tb_json_get(tb_json_get(j, "listsoflists2"), "out");
	uint8_t *p;
	size_t n;
	struct tb_rlp_item it;
	struct tb_error err;
	assert_int_equal(tb_hex_decode_alloc(out->u.string.ptr, out->u.string.len, &p, &n, &err), 0);
	assert_int_equal(tb_rlp_decode(p, n, &it, &err), 0);
	assert_int_equal(tb_rlp_count(&it), 3);
	free(p);
	tb_json_free(j);
}

/* tests/chain.rlp: 54 blocks back to back; each decodes strictly, and the
 * headers of blocks 1 and 54 hash to the block hashes in expected.json. */
static void chain_blocks(void **state)
{
	char path[1024];
	struct tb_buf b;
	struct tb_error err;
	/* ethereum-execution-apis/expected.json: chain.block1_hash, block3_hash, head_hash */
	const char *want[55] = {NULL};
	want[1] = "80e911b62f552f563a2544dfef5eb39ec8863d9082c998ca6b657f76e19de38e";
	want[3] = "b8a651cb280e169015aef5235a141cb2d905058d1ff9bba788b7ad2c729c9837";
	want[54] = "d226371d0b1551adb03fb52b71f08e3e11247fe9b1af994768af8cdaa8e7dcd7";
	snprintf(path, sizeof path, "%s/ethereum-execution-apis/tests/chain.rlp", getenv("TB_VECTORS"));
	tb_buf_init(&b, 1 << 22);
	assert_int_equal(tb_buf_read_file(&b, path, &err), 0);
	size_t pos = 0, blocks = 0;
	while (pos < b.len) {
		struct tb_rlp_item block, header;
		size_t used;
		if (tb_rlp_decode_first(b.data + pos, b.len - pos, &block, &used, &err) != 0)
			fail_msg("block %zu: %s", blocks + 1, err.msg);
		blocks++;
		assert_true(block.is_list);
		assert_int_equal(tb_rlp_at(&block, 0, &header, &err), 0);
		assert_true(header.is_list);
		uint64_t number;
		struct tb_rlp_item num;
		assert_int_equal(tb_rlp_at(&header, 8, &num, &err), 0);
		assert_int_equal(tb_rlp_uint64(&num, &number, &err), 0);
		assert_int_equal(number, blocks);
		if (blocks < 55 && want[blocks]) {
			uint8_t h[32];
			char hex[65];
			tb_keccak256(header.raw, header.raw_len, h);
			tb_hex_encode(h, 32, hex);
			assert_string_equal(hex, want[blocks]);
		}
		pos += used;
	}
	assert_int_equal(blocks, 54);
	tb_buf_fini(&b);
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
		cmocka_unit_test(rlp_vectors_valid),
		cmocka_unit_test(rlp_vectors_invalid),
		cmocka_unit_test(rlp_vectors_random),
		cmocka_unit_test(chain_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
