/* JSON: RFC 8785 vectors (tests/vectors/rfc8785), escaping, Unicode, limits at and
 * past each bound, error positions, and a differential run against node's own
 * JSON.parse/JSON.stringify (and a JCS built on JavaScript's UTF-16 sort). Expected
 * values come from the RFC, from JavaScript, or from the JSON grammar itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"

/* ---- helpers ---------------------------------------------------------------- */

static struct tb_json *parse_ok(const char *text)
{
	struct tb_json *j = NULL;
	struct tb_error err = {0};
	int rc = tb_json_parse(text, strlen(text), NULL, &j, &err);
	if (rc != 0)
		print_message("unexpected parse error for %s: %s\n", text, err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(j);
	return j;
}

/* Parse must fail with code, and the message must contain want. */
static void parse_fails(const char *text, size_t len, const struct tb_json_limits *lim, int code,
                        const char *want)
{
	struct tb_json *j = (struct tb_json *)1;
	struct tb_error err = {0};
	int rc = tb_json_parse(text, len, lim, &j, &err);
	if (rc != code || strstr(err.msg, want) == NULL)
		print_message("input %.60s: rc %d, message \"%s\", wanted %d and \"%s\"\n", text, rc,
		              err.msg, code, want);
	assert_int_equal(rc, code);
	assert_null(j);
	assert_non_null(strstr(err.msg, want));
}

static char *write_with(int (*fn)(const struct tb_json *, struct tb_buf *, struct tb_error *),
                        const struct tb_json *j)
{
	struct tb_buf b;
	struct tb_error err = {0};
	tb_buf_init(&b, 0);
	int rc = fn(j, &b, &err);
	if (rc != 0)
		print_message("write failed: %s\n", err.msg);
	assert_int_equal(rc, 0);
	return (char *)tb_buf_steal(&b, NULL);
}

/* text -> parse -> writer; compares with want. */
static void roundtrip(int (*fn)(const struct tb_json *, struct tb_buf *, struct tb_error *),
                      const char *text, const char *want)
{
	struct tb_json *j = parse_ok(text);
	char *got = write_with(fn, j);
	assert_string_equal(got, want);
	free(got);
	tb_json_free(j);
}

static void read_vector(const char *name, struct tb_buf *b)
{
	const char *dir = getenv("TB_VECTORS");
	char path[4096];
	snprintf(path, sizeof path, "%s/rfc8785/%s", dir ? dir : "tests/vectors", name);
	struct tb_error err;
	tb_buf_init(b, 0);
	int rc = tb_buf_read_file(b, path, &err);
	if (rc != 0)
		print_message("%s\n", err.msg);
	assert_int_equal(rc, 0);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- RFC 8785 --------------------------------------------------------------- */

static void rfc8785_sample(void **state)
{
	struct tb_buf in, want;
	read_vector("sample-input.json", &in);
	read_vector("sample-output.json", &want);
	struct tb_json *j = parse_ok((const char *)in.data);
	char *got = write_with(tb_json_write_canonical, j);
	assert_int_equal(strlen(got), want.len);
	assert_memory_equal(got, want.data, want.len);
	free(got);
	tb_json_free(j);
	tb_buf_fini(&in);
	tb_buf_fini(&want);
}

static void rfc8785_sorting(void **state)
{
	struct tb_buf in, order;
	read_vector("sorting-input.json", &in);
	read_vector("sorting-order.txt", &order);
	struct tb_json *j = parse_ok((const char *)in.data);
	char *got = write_with(tb_json_write_canonical, j);
	/* each value must appear after the previous one */
	const char *at = got;
	char *save = NULL;
	int seen = 0;
	for (char *line = strtok_r((char *)order.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), seen++) {
		char quoted[128];
		snprintf(quoted, sizeof quoted, ":\"%s\"", line);
		const char *p = strstr(at, quoted);
		if (p == NULL)
			print_message("%s not found in order in %s\n", quoted, got);
		assert_non_null(p);
		at = p + strlen(quoted);
	}
	assert_int_equal(seen, 7);
	free(got);
	tb_json_free(j);
	tb_buf_fini(&in);
	tb_buf_fini(&order);
}

static double from_bits(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

static void rfc8785_numbers(void **state)
{
	struct tb_buf csv;
	read_vector("numbers.csv", &csv);
	char *save = NULL;
	int rows = 0, refused = 0;
	for (char *line = strtok_r((char *)csv.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), rows++) {
		char *comma = strchr(line, ',');
		assert_non_null(comma);
		*comma = '\0';
		double v = from_bits(strtoull(line, NULL, 16));
		const char *want = comma + 1;
		char got[32];
		struct tb_json *n = tb_json_new_number(v);
		struct tb_buf b;
		struct tb_error err;
		tb_buf_init(&b, 0);
		int rc = tb_json_write_canonical(n, &b, &err);
		if (*want == '\0') {
			assert_int_not_equal(tb_json_format_number(v, got, sizeof got), 0);
			assert_int_equal(rc, TB_EINVAL);
			assert_non_null(strstr(err.msg, "NaN or Infinity"));
			assert_int_equal(b.len, 0);
			refused++;
		} else {
			assert_int_equal(tb_json_format_number(v, got, sizeof got), 0);
			assert_string_equal(got, want);
			assert_int_equal(rc, 0);
			assert_string_equal((char *)b.data, want);
		}
		tb_buf_fini(&b);
		tb_json_free(n);
	}
	assert_int_equal(rows, 26);
	assert_int_equal(refused, 2);
	tb_buf_fini(&csv);
}

/* ECMAScript Number::toString facts (ECMA-262 7.1.12.1): layout switches. */
static void number_layout(void **state)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1.5e-7, "1.5e-7"},
		{1e-6, "0.000001"}, {1e-7, "1e-7"}, {123.456, "123.456"}, {-0.0, "0"},
		{100, "100"}, {0.1, "0.1"}, {-1.5, "-1.5"}, {1.0 / 3, "0.3333333333333333"},
		{5e-324, "5e-324"}, {123e20, "1.23e+22"}, {0.000001234, "0.000001234"},
		{2.0, "2"}, {9007199254740993.0, "9007199254740992"}, {1e300, "1e+300"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char got[32];
		assert_int_equal(tb_json_format_number(cases[i].v, got, sizeof got), 0);
		assert_string_equal(got, cases[i].s);
	}
	char small[8];
	assert_int_equal(tb_json_format_number(1, small, sizeof small), TB_EINVAL);
	assert_int_equal(tb_json_format_number(NAN, small, 32), TB_EINVAL);
}

/* ---- strings ---------------------------------------------------------------- */

static void string_escapes(void **state)
{
	/* JSON.stringify: short escapes, \u00xx lowercase, "/" and DEL raw */
	roundtrip(tb_json_write_stringify, "\"q\\\"b\\\\s\\/\"", "\"q\\\"b\\\\s/\"");
	roundtrip(tb_json_write_stringify, "\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"");
	roundtrip(tb_json_write_stringify, "\"\\u0000\\u0001\\u001F\\u000b\\u007f\"",
	          "\"\\u0000\\u0001\\u001f\\u000b\x7f\"");
	roundtrip(tb_json_write_canonical, "\"\\u001E\\u2028\"", "\"\\u001e\xe2\x80\xa8\"");
	/* every control character, against the escape table of ECMA-262 QuoteJSONString */
	struct tb_buf b;
	tb_buf_init(&b, 0);
	for (int c = 0; c < 0x20; c++) {
		char s[1] = {(char)c};
		tb_buf_reset(&b);
		assert_int_equal(tb_json_write_string(&b, s, 1), 0);
		const char *shorts = "\b\f\n\r\t", *letters = "bfnrt";
		const char *p = c ? strchr(shorts, c) : NULL;
		char want[16];
		if (p)
			snprintf(want, sizeof want, "\"\\%c\"", letters[p - shorts]);
		else
			snprintf(want, sizeof want, "\"\\u%04x\"", c);
		assert_string_equal((char *)b.data, want);
	}
	tb_buf_fini(&b);
}

static void unicode_escapes_decode(void **state)
{
	struct tb_json *j = parse_ok("[\"\\u00e9\", \"\\ud83d\\ude00\", \"a\\u0000b\", \"\\u20AC\"]");
	assert_string_equal(tb_json_string(tb_json_at(j, 0)), "\xc3\xa9");
	assert_string_equal(tb_json_string(tb_json_at(j, 1)), "\xf0\x9f\x98\x80");
	assert_int_equal(tb_json_at(j, 2)->u.string.len, 3);
	assert_memory_equal(tb_json_string(tb_json_at(j, 2)), "a\0b", 3);
	assert_string_equal(tb_json_string(tb_json_at(j, 3)), "\xe2\x82\xac");
	char *s = write_with(tb_json_write_stringify, j);
	assert_string_equal(s, "[\"\xc3\xa9\",\"\xf0\x9f\x98\x80\",\"a\\u0000b\",\"\xe2\x82\xac\"]");
	free(s);
	tb_json_free(j);
}

/* yajl would turn these into '?', CESU bytes or a wrong character; we refuse. */
static void lone_surrogates_refused(void **state)
{
	const char *cases[] = {"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\uDBFFx\"",
	                       "{\"\\udfff\": 1}", "[\"ok\", \"\\ud83d\"]", "\"\\ude00\\ud83d\""};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		parse_fails(cases[i], strlen(cases[i]), NULL, TB_EINVAL, "lone UTF-16 surrogate");
	parse_fails("[\"ok\", \"\\ud83d\"]", strlen("[\"ok\", \"\\ud83d\"]"), NULL, TB_EINVAL, "line 1, column 9: \\ud83d");
}

static void invalid_utf8_refused(void **state)
{
	const char *cases[] = {
		"\"\xc0\x80\"",         /* overlong NUL */
		"\"\xed\xa0\x80\"",     /* encoded surrogate */
		"\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
		"\"\xf5\x80\x80\x80\"", "\"\xe2\x82\"", "\"\x80\"", "\"\xff\"",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* yajl catches some itself and places them one byte later */
		parse_fails(cases[i], strlen(cases[i]), NULL, TB_EINVAL, "line 1, column ");
		parse_fails(cases[i], strlen(cases[i]), NULL, TB_EINVAL, "UTF");
	}
	/* the same from a builder: writers refuse rather than emit it */
	struct tb_json *s = tb_json_new_string("\xed\xa0\x80", 3);
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 0);
	tb_buf_puts(&b, "keep");
	assert_int_equal(tb_json_write_canonical(s, &b, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "UTF-8"));
	assert_string_equal((char *)b.data, "keep");
	assert_int_equal(tb_json_write_string(&b, "\xff", 1), TB_EINVAL);
	assert_string_equal((char *)b.data, "keep");
	tb_buf_fini(&b);
	tb_json_free(s);
}

/* UTF-16 order puts U+1F600 (D83D DE00) before U+E000..U+FFFF; UTF-8 byte order
 * would not. */
static void non_bmp_sort_order(void **state)
{
	roundtrip(tb_json_write_canonical, "{\"\\ufb33\":1,\"\\ud83d\\ude00\":2,\"\\ue000\":3,\"\\ud7ff\":4}",
	          "{\"\xed\x9f\xbf\":4,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":3,\"\xef\xac\xb3\":1}");
	roundtrip(tb_json_write_canonical, "{\"b\":1,\"a\":2,\"\":3,\"aa\":4,\"A\":5}",
	          "{\"\":3,\"A\":5,\"a\":2,\"aa\":4,\"b\":1}");
	/* nested objects are sorted too; arrays keep their order */
	roundtrip(tb_json_write_canonical, "[{\"z\":[3,1],\"y\":{\"d\":1,\"c\":2}}]",
	          "[{\"y\":{\"c\":2,\"d\":1},\"z\":[3,1]}]");
}

/* ---- limits ----------------------------------------------------------------- */

static char *nested(size_t depth)
{
	char *s = malloc(2 * depth + 1);
	assert_non_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

static void limit_depth(void **state)
{
	struct tb_json_limits lim = {.max_depth = 3};
	struct tb_json *j;
	struct tb_error err;
	char *ok = nested(3), *deep = nested(4);
	assert_int_equal(tb_json_parse(ok, 6, &lim, &j, &err), 0);
	tb_json_free(j);
	parse_fails(deep, 8, &lim, TB_ELIMIT, "line 1, column 4: nesting deeper than the limit of 3");
	parse_fails("{\"a\":{\"b\":{\"c\":{}}}}", strlen("{\"a\":{\"b\":{\"c\":{}}}}"), &lim, TB_ELIMIT, "column 16: nesting");
	free(ok);
	free(deep);
	/* the default is 64 */
	ok = nested(64);
	deep = nested(65);
	assert_int_equal(tb_json_parse(ok, 128, NULL, &j, &err), 0);
	tb_json_free(j);
	parse_fails(deep, 130, NULL, TB_ELIMIT, "limit of 64 levels");
	free(ok);
	free(deep);
}

static void limit_bytes(void **state)
{
	struct tb_json_limits lim = {.max_bytes = 10};
	struct tb_json *j;
	struct tb_error err;
	assert_int_equal(tb_json_parse("[1, 2, 34]", 10, &lim, &j, &err), 0);
	tb_json_free(j);
	parse_fails("[1, 2, 345]", strlen("[1, 2, 345]"), &lim, TB_ELIMIT, "line 1, column 11: input of 11 bytes is "
	            "larger than the limit of 10 bytes");
	/* the default is 16 MiB */
	size_t max = (size_t)16 << 20;
	char *big = repeat(' ', max + 1);
	big[0] = '1';
	assert_int_equal(tb_json_parse(big, max, NULL, &j, &err), 0);
	assert_int_equal(j->type, TB_JSON_NUMBER);
	tb_json_free(j);
	parse_fails(big, max + 1, NULL, TB_ELIMIT, "limit of 16777216 bytes");
	free(big);
}

static char *quoted(const char *body, const char *pre, const char *post)
{
	size_t n = strlen(pre) + strlen(body) + strlen(post) + 3;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%s\"%s\"%s", pre, body, post);
	return s;
}

static void limit_string(void **state)
{
	struct tb_json_limits lim = {.max_string = 4};
	struct tb_json *j;
	struct tb_error err;
	/* the bound is on bytes after unescaping: \u00e9 is 2 bytes, \ud83d\ude00 is 4 */
	const char *fit[] = {"\"abcd\"", "\"\\u00e9\\u00e9\"", "\"\\ud83d\\ude00\"", "{\"abcd\":1}", "12.4"};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(tb_json_parse(fit[i], strlen(fit[i]), &lim, &j, &err), 0);
		tb_json_free(j);
	}
	parse_fails("\"abcde\"", strlen("\"abcde\""), &lim, TB_ELIMIT, "line 1, column 1: string of 5 bytes is longer "
	            "than the limit of 4 bytes");
	parse_fails("\"\\u00e9\\u00e9a\"", strlen("\"\\u00e9\\u00e9a\""), &lim, TB_ELIMIT, "string of 5 bytes");
	parse_fails("{\"a\":1,\n \"abcde\":1}", strlen("{\"a\":1,\n \"abcde\":1}"), &lim, TB_ELIMIT, "line 2, column 2: string of 5");
	parse_fails("12.45", strlen("12.45"), &lim, TB_ELIMIT, "number of 5 digits");
	/* the default is 1 MiB */
	size_t max = (size_t)1 << 20;
	char *body = repeat('x', max);
	char *s = quoted(body, "[", "]");
	assert_int_equal(tb_json_parse(s, strlen(s), NULL, &j, &err), 0);
	assert_int_equal(tb_json_at(j, 0)->u.string.len, max);
	tb_json_free(j);
	free(s);
	body[0] = '\0';
	free(body);
	body = repeat('x', max + 1);
	s = quoted(body, "[", "]");
	parse_fails(s, strlen(s), NULL, TB_ELIMIT, "limit of 1048576 bytes");
	free(s);
	free(body);
}

/* ---- syntax errors and positions -------------------------------------------- */

static void error_positions(void **state)
{
	parse_fails("[1,,2]", strlen("[1,,2]"), NULL, TB_EINVAL, "line 1, column 4: parse error");
	parse_fails("{\"a\" 1}", strlen("{\"a\" 1}"), NULL, TB_EINVAL, "line 1, column 6: parse error: object key and "
	            "value must be separated by a colon");
	parse_fails("{\n  \"a\": 1,\n  \"b\": tru\n}", strlen("{\n  \"a\": 1,\n  \"b\": tru\n}"), NULL, TB_EINVAL, "line 3, column");
	parse_fails("[1,2", strlen("[1,2"), NULL, TB_EINVAL, "line 1, column 5: parse error: premature EOF");
	parse_fails("{}\n x", strlen("{}\n x"), NULL, TB_EINVAL, "line 2, column 2: parse error: trailing garbage");
	/* columns count characters: é is one */
	parse_fails("[\"\xc3\xa9\", x]", strlen("[\"\xc3\xa9\", x]"), NULL, TB_EINVAL, "line 1, column 7:");
	parse_fails("", strlen(""), NULL, TB_EINVAL, "line 1, column 1: parse error: premature EOF");
	parse_fails("  \n ", strlen("  \n "), NULL, TB_EINVAL, "line 2, column 2: parse error: premature EOF");
	parse_fails("[01]", strlen("[01]"), NULL, TB_EINVAL, "line 1, column 3:");
	parse_fails("[1e400]", strlen("[1e400]"), NULL, TB_EINVAL, "line 1, column 2: number 1e400 is too large");
	parse_fails("-1E+999", strlen("-1E+999"), NULL, TB_EINVAL, "number -1E+999 is too large");
	parse_fails("[\"a\tb\"]", strlen("[\"a\tb\"]"), NULL, TB_EINVAL, "line 1, column");
}

static void node_positions(void **state)
{
	struct tb_json *j = parse_ok("{\n  \"a\": [1, \"x\", null],\n\t\"\xc3\xa9\": -2.5e1 }");
	assert_int_equal(j->line, 1);
	assert_int_equal(j->col, 1);
	struct tb_json *a = tb_json_get(j, "a");
	assert_int_equal(a->line, 2);
	assert_int_equal(a->col, 8);
	assert_int_equal(tb_json_at(a, 0)->col, 9);
	assert_int_equal(tb_json_at(a, 1)->col, 12);
	assert_int_equal(tb_json_at(a, 2)->col, 17);
	struct tb_json *e = tb_json_get(j, "\xc3\xa9");
	assert_int_equal(e->line, 3);
	assert_int_equal(e->col, 7);
	assert_string_equal(e->u.number.text, "-2.5e1");
	assert_true(e->u.number.value == -25.0);
	tb_json_free(j);
	j = parse_ok("  42");
	assert_int_equal(j->col, 3);
	assert_true(j->u.number.value == 42);
	tb_json_free(j);
}

static void duplicate_keys(void **state)
{
	parse_fails("{\n\"a\":1,\n\"b\":2,\n\"a\":3}", strlen("{\n\"a\":1,\n\"b\":2,\n\"a\":3}"), NULL, TB_EINVAL,
	            "line 4, column 1: duplicate key \"a\" in object (first at line 2, column 1)");
	/* the same name written differently is still the same name */
	parse_fails("{\"a\":1, \"\\u0061\":2}", strlen("{\"a\":1, \"\\u0061\":2}"), NULL, TB_EINVAL, "column 9: duplicate key \"a\"");
	parse_fails("[{\"x\":{}, \"y\":{\"k\":1,\"k\":1}}]", strlen("[{\"x\":{}, \"y\":{\"k\":1,\"k\":1}}]"), NULL, TB_EINVAL, "duplicate key \"k\"");
	/* keys differing only after a NUL are different */
	struct tb_json *j = parse_ok("{\"a\":1, \"a\\u0000\":2, \"A\":3}");
	assert_int_equal(tb_json_len(j), 3);
	tb_json_free(j);
}

static void comments(void **state)
{
	const char *text = "// settings\n{\"a\": /* one */ 1}\n/* end */";
	parse_fails(text, strlen(text), NULL, TB_EINVAL, "line 1, column");
	parse_fails(text, strlen(text), NULL, TB_EINVAL, "comments are not enabled");
	struct tb_json_limits lim = {.allow_comments = 1};
	struct tb_json *j;
	struct tb_error err;
	assert_int_equal(tb_json_parse(text, strlen(text), &lim, &j, &err), 0);
	assert_int_equal(tb_json_get(j, "a")->line, 2);
	assert_int_equal(tb_json_get(j, "a")->col, 17);
	tb_json_free(j);
}

/* ---- tree API --------------------------------------------------------------- */

static void builders(void **state)
{
	struct tb_json *o = tb_json_new_object();
	assert_int_equal(tb_json_object_set(o, "b", 1, tb_json_new_number(1)), 0);
	assert_int_equal(tb_json_object_set(o, "a", 1, tb_json_new_string("x\0y", 3)), 0);
	struct tb_json *arr = tb_json_new_array();
	assert_int_equal(tb_json_array_push(arr, tb_json_new_null()), 0);
	assert_int_equal(tb_json_array_push(arr, tb_json_new_bool(1)), 0);
	assert_int_equal(tb_json_array_push(arr, tb_json_new_bool(0)), 0);
	assert_int_equal(tb_json_object_set(o, "c", 1, arr), 0);
	/* replacing keeps the member's place */
	assert_int_equal(tb_json_object_set(o, "b", 1, tb_json_new_number(2.5)), 0);
	assert_int_equal(tb_json_len(o), 3);
	char *s = write_with(tb_json_write_stringify, o);
	assert_string_equal(s, "{\"b\":2.5,\"a\":\"x\\u0000y\",\"c\":[null,true,false]}");
	free(s);
	s = write_with(tb_json_write_canonical, o);
	assert_string_equal(s, "{\"a\":\"x\\u0000y\",\"b\":2.5,\"c\":[null,true,false]}");
	free(s);
	struct tb_json *c = tb_json_clone(o);
	assert_int_equal(tb_json_object_remove(o, "a"), 0);
	assert_int_equal(tb_json_object_remove(o, "a"), TB_ENOTFOUND);
	assert_null(tb_json_get(o, "a"));
	assert_int_equal(tb_json_len(o), 2);
	assert_int_equal(tb_json_len(c), 3);
	assert_int_equal(tb_json_at(tb_json_get(c, "c"), 1)->u.boolean, 1);
	assert_null(tb_json_at(tb_json_get(c, "c"), 3));
	assert_null(tb_json_at(c, 0));
	assert_null(tb_json_string(tb_json_get(c, "b")));
	assert_int_equal(tb_json_get(c, "a")->u.string.len, 3);
	assert_string_equal(tb_json_get(c, "b")->u.number.text, "2.5");
	assert_int_equal(tb_json_len(tb_json_get(c, "b")), 0);
	/* wrong containers refuse and still take ownership (nothing leaks) */
	assert_int_equal(tb_json_array_push(o, tb_json_new_null()), TB_EINVAL);
	assert_int_equal(tb_json_object_set(arr, "k", 1, tb_json_new_null()), TB_EINVAL);
	assert_int_equal(tb_json_array_push(arr, NULL), TB_EINVAL);
	tb_json_free(o);
	tb_json_free(c);
	tb_json_free(NULL);
	assert_string_equal(tb_json_type_name(TB_JSON_NULL), "null");
	assert_string_equal(tb_json_type_name(TB_JSON_BOOL), "boolean");
	assert_string_equal(tb_json_type_name(TB_JSON_NUMBER), "number");
	assert_string_equal(tb_json_type_name(TB_JSON_STRING), "string");
	assert_string_equal(tb_json_type_name(TB_JSON_ARRAY), "array");
	assert_string_equal(tb_json_type_name(TB_JSON_OBJECT), "object");
}

static void nonfinite_numbers(void **state)
{
	struct tb_json *a = tb_json_new_array();
	tb_json_array_push(a, tb_json_new_number(NAN));
	tb_json_array_push(a, tb_json_new_number(-INFINITY));
	assert_string_equal(tb_json_at(a, 1)->u.number.text, "-Infinity");
	char *s = write_with(tb_json_write_stringify, a); /* as JSON.stringify */
	assert_string_equal(s, "[null,null]");
	free(s);
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_canonical(a, &b, &err), TB_EINVAL);
	assert_int_equal(b.len, 0);
	tb_buf_fini(&b);
	tb_json_free(a);
}

/* JavaScript lists array-index keys first, ascending; the rest in insertion order. */
static void stringify_key_order(void **state)
{
	roundtrip(tb_json_write_stringify,
	          "{\"b\":1,\"4294967295\":2,\"4294967294\":3,\"1\":4,\"01\":5,\"-1\":6,\"0\":7}",
	          "{\"0\":7,\"1\":4,\"4294967294\":3,\"b\":1,\"4294967295\":2,\"01\":5,\"-1\":6}");
	roundtrip(tb_json_write_pretty, "{\"b\":1,\"0\":2}", "{\n  \"b\": 1,\n  \"0\": 2\n}");
}

static void pretty(void **state)
{
	roundtrip(tb_json_write_pretty, "{\"a\":[1,{\"b\":null}],\"c\":{},\"d\":[],\"e\":\"\\u0001\"}",
	          "{\n"
	          "  \"a\": [\n"
	          "    1,\n"
	          "    {\n"
	          "      \"b\": null\n"
	          "    }\n"
	          "  ],\n"
	          "  \"c\": {},\n"
	          "  \"d\": [],\n"
	          "  \"e\": \"\\u0001\"\n"
	          "}");
	roundtrip(tb_json_write_pretty, "3.0", "3");
}

static void writer_limits(void **state)
{
	struct tb_json *j = parse_ok("[\"0123456789\"]");
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 14);
	assert_int_equal(tb_json_write_stringify(j, &b, &err), 0);
	tb_buf_fini(&b);
	tb_buf_init(&b, 13);
	assert_int_equal(tb_json_write_stringify(j, &b, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "buffer limit"));
	assert_int_equal(b.len, 0);
	tb_buf_fini(&b);
	tb_json_free(j);
	/* trees built in memory deeper than the writers recurse are refused */
	struct tb_json *root = tb_json_new_array(), *cur = root;
	for (int i = 0; i < 4096; i++) {
		struct tb_json *next = tb_json_new_array();
		tb_json_array_push(cur, next);
		cur = next;
	}
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_canonical(root, &b, &err), 0);
	tb_json_array_push(cur, tb_json_new_array());
	assert_int_equal(tb_json_write_canonical(root, &b, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "nesting deeper than 4096"));
	tb_buf_fini(&b);
	tb_json_free(root);
}

/* ---- differential against node ---------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned pick(struct rng *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

static uint32_t random_cp(struct rng *r)
{
	switch (pick(r, 8)) {
	case 0: return pick(r, 0x20);
	case 1: return "\"\\/'<>&\x7f"[pick(r, 8)];
	case 2: return 0x80 + pick(r, 0x780);
	case 3: return 0x800 + pick(r, 0xD000);
	case 4: return 0xE000 + pick(r, 0x2000);
	case 5: return 0x10000 + pick(r, 0x100000);
	case 6: return (uint32_t[]){0x2028, 0x2029, 0xFEFF, 0xFFFF, 0xFFFD, 0x10FFFF}[pick(r, 6)];
	default: return 0x20 + pick(r, 0x5F);
	}
}

static void put_cp(struct tb_buf *b, struct rng *r, uint32_t cp)
{
	char u[5] = {0};
	int must = cp < 0x20 || cp == '"' || cp == '\\';
	if (!must && pick(r, 3) != 0) {
		if (cp < 0x80) {
			u[0] = (char)cp;
		} else if (cp < 0x800) {
			u[0] = (char)(0xC0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			u[0] = (char)(0xE0 | cp >> 12);
			u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
			u[2] = (char)(0x80 | (cp & 0x3F));
		} else {
			u[0] = (char)(0xF0 | cp >> 18);
			u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
			u[3] = (char)(0x80 | (cp & 0x3F));
		}
		tb_buf_puts(b, u);
	} else if (cp >= 0x10000) {
		cp -= 0x10000;
		tb_buf_printf(b, pick(r, 2) ? "\\u%04x\\u%04x" : "\\u%04X\\u%04X", 0xD800 + (cp >> 10),
		              0xDC00 + (cp & 0x3FF));
	} else if (cp == '\n' && pick(r, 2)) {
		tb_buf_puts(b, "\\n");
	} else if (cp == '"' || cp == '\\' || cp == '/') {
		tb_buf_printf(b, pick(r, 2) ? "\\%c" : "\\u%04x", (int)cp);
	} else {
		tb_buf_printf(b, "\\u%04x", cp);
	}
}

static void random_string(struct tb_buf *b, struct rng *r)
{
	tb_buf_putc(b, '"');
	for (unsigned n = pick(r, 12); n > 0; n--)
		put_cp(b, r, random_cp(r));
	tb_buf_putc(b, '"');
}

static void random_number(struct tb_buf *b, struct rng *r)
{
	double d;
	switch (pick(r, 6)) {
	case 0:
		tb_buf_printf(b, "%d", (int)pick(r, 2000) - 1000);
		break;
	case 1: {
		uint64_t u = next(r);
		memcpy(&d, &u, sizeof d);
		if (!isfinite(d))
			d = 1.5;
		tb_buf_printf(b, "%.17g", d);
		break;
	}
	case 2:
		tb_buf_printf(b, "%s%u.%u%s%d", pick(r, 2) ? "-" : "", pick(r, 1000), pick(r, 100000),
		              pick(r, 2) ? "e" : "E", (int)pick(r, 60) - 30);
		break;
	case 3:
		tb_buf_printf(b, "%.*g", 1 + (int)pick(r, 17), ldexp(1.0, (int)pick(r, 2000) - 1000));
		break;
	case 4:
		tb_buf_printf(b, "%s", (const char *[]){"-0", "0.0", "1e21", "1e-7", "123456789012345678901234",
		              "0.000001", "5e-324", "1.7976931348623157e308", "2e-3"}[pick(r, 9)]);
		break;
	default:
		tb_buf_printf(b, "%.15g", (double)(next(r) >> pick(r, 64)) / 1000.0);
		break;
	}
}

static void random_value(struct tb_buf *b, struct rng *r, int depth);

static void random_object(struct tb_buf *b, struct rng *r, int depth)
{
	static const char *keys[] = {"0", "1", "10", "2", "01", "-1", "4294967294", "4294967295", "a",
	                             "b", "\\u00e9", "\\ud83d\\ude00", "\\ufb33", "\\u0000", "\\r", "Z"};
	unsigned used = 0;
	tb_buf_putc(b, '{');
	for (unsigned n = pick(r, 6), i = 0; i < n; i++) {
		unsigned k = pick(r, 16);
		if (used & (1u << k))
			continue;
		tb_buf_printf(b, "%s\"%s\":", used ? "," : "", keys[k]);
		used |= 1u << k;
		random_value(b, r, depth + 1);
	}
	tb_buf_putc(b, '}');
}

static void random_value(struct tb_buf *b, struct rng *r, int depth)
{
	unsigned k = pick(r, depth > 3 ? 4 : 7);
	if (k == 0)
		tb_buf_puts(b, (const char *[]){"null", "true", "false"}[pick(r, 3)]);
	else if (k == 1)
		random_number(b, r);
	else if (k <= 3)
		random_string(b, r);
	else if (k <= 5)
		random_object(b, r, depth);
	else {
		tb_buf_puts(b, pick(r, 2) ? "[ " : "[");
		for (unsigned n = pick(r, 5), i = 0; i < n; i++) {
			if (i)
				tb_buf_puts(b, pick(r, 2) ? ", " : ",");
			random_value(b, r, depth + 1);
		}
		tb_buf_putc(b, ']');
	}
}

static const char node_script[] =
	"const fs=require('fs');"
	"const jcs=v=>Array.isArray(v)?'['+v.map(jcs).join(',')+']':"
	"v!==null&&typeof v==='object'?'{'+Object.keys(v).sort().map(k=>JSON.stringify(k)+':'+jcs(v[k]))"
	".join(',')+'}':JSON.stringify(v);"
	"const out=[];"
	"for(const l of fs.readFileSync(process.argv[1],'utf8').split('\\n')){if(!l)continue;"
	"const v=JSON.parse(l);out.push(JSON.stringify(v),jcs(v));}"
	"fs.writeFileSync(process.argv[2],out.join('\\n')+'\\n');";

static const char *find_node(void)
{
	const char *env = getenv("NODE");
	if (env && access(env, X_OK) == 0)
		return env;
	if (access("/usr/bin/node", X_OK) == 0)
		return "/usr/bin/node";
	if (access("/usr/local/bin/node", X_OK) == 0)
		return "/usr/local/bin/node";
	return NULL;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	int ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* One line per generated value: random values, then every power of two (where
 * shortest-digit printing is most often wrong), as one-element arrays. */
static void generate(struct tb_buf *in)
{
	struct rng r = {0x9E3779B97F4A7C15u};
	for (int i = 0; i < 600; i++) {
		random_value(in, &r, 0);
		tb_buf_putc(in, '\n');
	}
	for (int e = -1074; e <= 1023; e++)
		tb_buf_printf(in, "[%.17g,%.17g]\n", ldexp(1.0, e), nextafter(ldexp(1.0, e), 0));
}

static void compare_line(const char *text, const char *want_str, const char *want_jcs)
{
	struct tb_json *j = NULL;
	struct tb_error err = {0};
	if (tb_json_parse(text, strlen(text), NULL, &j, &err) != 0)
		print_message("node parsed what we refused: %s\n  %s\n", text, err.msg);
	assert_non_null(j);
	char *s = write_with(tb_json_write_stringify, j);
	char *c = write_with(tb_json_write_canonical, j);
	if (strcmp(s, want_str) != 0 || strcmp(c, want_jcs) != 0)
		print_message("input:  %s\nnode:   %s\nours:   %s\nnode jcs: %s\nour jcs:  %s\n", text,
		              want_str, s, want_jcs, c);
	assert_string_equal(s, want_str);
	assert_string_equal(c, want_jcs);
	free(s);
	free(c);
	tb_json_free(j);
}

static void differential_node(void **state)
{
	const char *node = find_node();
	if (node == NULL) {
		print_message("node (JavaScript) not found in $NODE, /usr/bin or /usr/local/bin: "
		              "differential test against JSON.stringify skipped\n");
		skip();
	}
	char in_path[] = "/tmp/tb_json_diff_in_XXXXXX", out_path[] = "/tmp/tb_json_diff_out_XXXXXX";
	int fd = mkstemp(in_path);
	assert_true(fd >= 0);
	close(fd);
	fd = mkstemp(out_path);
	assert_true(fd >= 0);
	close(fd);
	struct tb_buf in, out;
	tb_buf_init(&in, 0);
	generate(&in);
	assert_int_equal(write_file(in_path, in.data, in.len), 0);
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "'%s' -e \"%s\" '%s' '%s'", node, node_script, in_path, out_path);
	int rc = system(cmd);
	assert_int_equal(rc, 0);
	tb_buf_init(&out, 0);
	struct tb_error err;
	assert_int_equal(tb_buf_read_file(&out, out_path, &err), 0);
	char *save_in = NULL, *save_out = NULL;
	int lines = 0;
	for (char *t = strtok_r((char *)in.data, "\n", &save_in); t;
	     t = strtok_r(NULL, "\n", &save_in), lines++) {
		char *s = strtok_r(lines ? NULL : (char *)out.data, "\n", &save_out);
		char *c = strtok_r(NULL, "\n", &save_out);
		assert_non_null(c);
		compare_line(t, s, c);
	}
	assert_int_equal(lines, 600 + 2098);
	unlink(in_path);
	unlink(out_path);
	tb_buf_fini(&in);
	tb_buf_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc8785_sample),
		cmocka_unit_test(rfc8785_sorting),
		cmocka_unit_test(rfc8785_numbers),
		cmocka_unit_test(number_layout),
		cmocka_unit_test(string_escapes),
		cmocka_unit_test(unicode_escapes_decode),
		cmocka_unit_test(lone_surrogates_refused),
		cmocka_unit_test(invalid_utf8_refused),
		cmocka_unit_test(non_bmp_sort_order),
		cmocka_unit_test(limit_depth),
		cmocka_unit_test(limit_bytes),
		cmocka_unit_test(limit_string),
		cmocka_unit_test(error_positions),
		cmocka_unit_test(node_positions),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(comments),
		cmocka_unit_test(builders),
		cmocka_unit_test(nonfinite_numbers),
		cmocka_unit_test(stringify_key_order),
		cmocka_unit_test(pretty),
		cmocka_unit_test(writer_limits),
		cmocka_unit_test(differential_node),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
