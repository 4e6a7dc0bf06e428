/* Strict numbers and printable text, as tables: every way strtoull or atoi would
 * misread a number ("-1" as 2^64-1, "1abc" as 1, 2^63 as negative once bound to
 * SQLite) is refused; outside text with terminal escapes, C1 controls, DEL and
 * broken UTF-8 comes out with no control byte left, and UTF-8 text unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"
#include "lib/printable.h"

static void numbers_table(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t min, max;
		int rc;
		uint64_t want;
	} t[] = {
		{"1", 1, 10, 0, 1},
		{"10", 1, 10, 0, 10},
		{"0", 0, 10, 0, 0},
		{"9007199254740991", 1, 9007199254740991ULL, 0, 9007199254740991ULL},
		{"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
		{"0", 1, 10, TB_ELIMIT, 0},
		{"11", 1, 10, TB_ELIMIT, 0},
		{"9007199254740992", 1, 9007199254740991ULL, TB_ELIMIT, 0},
		{"9223372036854775808", 1, 9007199254740991ULL, TB_ELIMIT, 0},
		{"18446744073709551616", 0, UINT64_MAX, TB_ELIMIT, 0},
		{"99999999999999999999", 0, UINT64_MAX, TB_ELIMIT, 0},
		{"", 0, 10, TB_EINVAL, 0},
		{"-1", 0, 10, TB_EINVAL, 0},
		{"+1", 0, 10, TB_EINVAL, 0},
		{" 1", 0, 10, TB_EINVAL, 0},
		{"1 ", 0, 10, TB_EINVAL, 0},
		{"abc", 0, 10, TB_EINVAL, 0},
		{"1abc", 0, 10, TB_EINVAL, 0},
		{"01", 0, 10, TB_EINVAL, 0},
		{"0x10", 0, 100, TB_EINVAL, 0},
		{"1e3", 0, 10000, TB_EINVAL, 0},
		{"1.0", 0, 10, TB_EINVAL, 0},
		{"000000000000000000001", 0, 10, TB_EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint64_t v = 12345;
		struct tb_error err;
		int rc = tb_num_u64(t[i].in, t[i].min, t[i].max, "--from", &v, &err);
		if (rc != t[i].rc)
			fail_msg("\"%s\": rc %d, want %d", t[i].in, rc, t[i].rc);
		if (rc == 0)
			assert_true(v == t[i].want);
		else {
			assert_true(v == 12345); /* untouched */
			assert_non_null(strstr(err.msg, "--from: \""));
		}
	}
	/* a length-bounded word, as in a request line */
	uint64_t v;
	assert_int_equal(tb_num_u64n("25 6", 2, 1, 256, "MAX", &v, NULL), 0);
	assert_true(v == 25);
	int iv;
	struct tb_error err;
	assert_int_equal(tb_num_int("2147483648", 0, 2147483647, "--timeout", &iv, &err), TB_ELIMIT);
	assert_int_equal(tb_num_int("-5", -10, 10, "--timeout", &iv, &err), TB_EINVAL);
}

static void printable_table(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} t[] = {
		{"0xabc:1", "0xabc:1"},
		{"Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\xa2", "Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\xa2"},
		{"\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J"},
		{"a\nb\tc\rd", "a\\nb\\tc\\rd"},
		{"del\x7f", "del\\x7f"},
		{"csi\xc2\x9b" "31m", "csi\\u009b31m"},
		{"nel\xc2\x85", "nel\\u0085"},
		{"nbsp\xc2\xa0", "nbsp\xc2\xa0"},
		{"raw\x9b", "raw\\x9b"},
		{"over\xc0\xaf", "over\\xc0\\xaf"},
		{"surrogate\xed\xa0\x80", "surrogate\\xed\\xa0\\x80"},
		{"cut\xe6\x9d", "cut\\xe6\\x9d"},
		{"back\\x1b", "back\\\\x1b"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char out[128];
		tb_printable_n(out, sizeof out, t[i].in, strlen(t[i].in));
		if (strcmp(out, t[i].want) != 0)
			fail_msg("case %zu: got \"%s\"", i, out);
		struct tb_buf b;
		tb_buf_init(&b, 1024);
		assert_int_equal(tb_printable_append(&b, t[i].in, strlen(t[i].in)), 0);
		assert_int_equal(b.len, strlen(t[i].want));
		assert_memory_equal(b.data, t[i].want, b.len);
		tb_buf_fini(&b);
		FILE *f = tmpfile();
		tb_printable_fputs(t[i].in, f);
		rewind(f);
		size_t n = fread(out, 1, sizeof out - 1, f);
		out[n] = 0;
		fclose(f);
		assert_string_equal(out, t[i].want);
	}
}

static void printable_cut_never_splits(void **state)
{
	(void)state;
	char out[10];
	/* "\x1b" is four characters: a cut never leaves half an escape */
	tb_printable_n(out, sizeof out, "\x1b\x1b\x1b\x1b", 4);
	assert_string_equal(out, "\\x1b...");
	tb_printable_n(out, sizeof out, "abcdefghi", 9);
	assert_string_equal(out, "abcdefghi");
	tb_printable_n(out, sizeof out, "abcdefghij", 10);
	assert_string_equal(out, "abcdef...");
	/* every byte value alone: no control byte survives */
	for (int c = 1; c < 256; c++) {
		char in[2] = {(char)c, 0}, o[16];
		tb_printable_n(o, sizeof o, in, 1);
		for (const unsigned char *p = (const unsigned char *)o; *p; p++)
			assert_true(*p >= 0x20 && *p != 0x7f && *p < 0x80);
	}
}

static void printable_json_keeps_value(void **state)
{
	(void)state;
	char out[128];
	FILE *f = tmpfile();
	tb_printable_json_fputs("{\"a\":\"x\x7f\xc2\x9b\xc3\xbc\"}\n", f);
	rewind(f);
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = 0;
	fclose(f);
	assert_string_equal(out, "{\"a\":\"x\\u007f\\u009b\xc3\xbc\"}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_table),
		cmocka_unit_test(printable_table),
		cmocka_unit_test(printable_cut_never_splits),
		cmocka_unit_test(printable_json_keeps_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
