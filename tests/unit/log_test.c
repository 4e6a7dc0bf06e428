/* Logging: JSON lines parse (checked with yajl, not our own code) and carry the
 * fields; secrets never reach the output in either format; levels filter; a line
 * stays one valid line whatever bytes a value holds, and never exceeds its bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/log.h"

struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void cap_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static void cap_close(struct capture *c)
{
	fclose(c->f);
	free(c->text);
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static yajl_val parse_line(const char *line)
{
	char ebuf[256];
	yajl_val v = yajl_tree_parse(line, ebuf, sizeof(ebuf));
	if (!v)
		fail_msg("not JSON: %s (%s)", line, ebuf);
	assert_true(YAJL_IS_OBJECT(v));
	return v;
}

static const char *get_str(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static void json_line_has_fields(void **state)
{
	struct capture c;
	struct tb_log log;
	cap_open(&c);
	/* a memory stream is not a terminal, so AUTO must pick JSON */
	tb_log_init(&log, c.f, "http", TB_LOG_INFO, TB_LOG_AUTO);
	tb_log_emit(&log, TB_LOG_WARN, "retrying request",
	            TB_LOG_FIELDS(TB_LF_STR("url", "http://127.0.0.1:8545/"),
	                          TB_LF_INT("attempt", 2), TB_LF_STR("reason", NULL)));
	fflush(c.f);
	assert_int_equal(count_lines(c.text, c.len), 1);
	yajl_val v = parse_line(c.text);
	assert_string_equal(get_str(v, "level"), "warn");
	assert_string_equal(get_str(v, "component"), "http");
	assert_string_equal(get_str(v, "msg"), "retrying request");
	assert_string_equal(get_str(v, "url"), "http://127.0.0.1:8545/");
	const char *ts = get_str(v, "ts");
	assert_non_null(ts);
	/* 2024-05-01T12:00:00.000Z */
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[23], 'Z');
	const char *ap[] = {"attempt", NULL};
	yajl_val a = yajl_tree_get(v, ap, yajl_t_number);
	assert_non_null(a);
	assert_int_equal(YAJL_GET_INTEGER(a), 2);
	const char *rp[] = {"reason", NULL};
	assert_true(YAJL_IS_NULL(yajl_tree_get(v, rp, yajl_t_any)));
	yajl_tree_free(v);
	cap_close(&c);
}

static void secrets_never_printed(void **state)
{
	static const char seckey[] =
		"4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
	for (int fmt = TB_LOG_TEXT; fmt <= TB_LOG_JSON; fmt++) {
		struct capture c;
		struct tb_log log;
		cap_open(&c);
		tb_log_init(&log, c.f, "keys", TB_LOG_DEBUG, (enum tb_log_format)fmt);
		tb_log_emit(&log, TB_LOG_INFO, "loaded relay key",
		            TB_LOG_FIELDS(TB_LF_SECRET("key", seckey),
		                          /* marked plain by mistake: the key name still hides it */
		                          TB_LF_STR("private_key", seckey),
		                          TB_LF_STR("RPC_PASSWORD", "hunter2"),
		                          TB_LF_STR("address", "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")));
		fflush(c.f);
		assert_null(strstr(c.text, seckey));
		assert_null(strstr(c.text, "4c0883a6"));
		assert_null(strstr(c.text, "hunter2"));
		assert_non_null(strstr(c.text, "[redacted]"));
		assert_non_null(strstr(c.text, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"));
		if (fmt == TB_LOG_JSON) {
			yajl_val v = parse_line(c.text);
			assert_string_equal(get_str(v, "key"), "[redacted]");
			assert_string_equal(get_str(v, "private_key"), "[redacted]");
			assert_string_equal(get_str(v, "RPC_PASSWORD"), "[redacted]");
			yajl_tree_free(v);
		}
		cap_close(&c);
	}
}

static void level_filtering(void **state)
{
	struct capture c;
	struct tb_log log;
	cap_open(&c);
	tb_log_init(&log, c.f, "relay", TB_LOG_WARN, TB_LOG_JSON);
	tb_log_debug(&log, "debug-line");
	tb_log_info(&log, "info-line");
	tb_log_warn(&log, "warn-line");
	tb_log_error(&log, "error-line");
	fflush(c.f);
	assert_int_equal(count_lines(c.text, c.len), 2);
	assert_null(strstr(c.text, "debug-line"));
	assert_null(strstr(c.text, "info-line"));
	assert_non_null(strstr(c.text, "warn-line"));
	assert_non_null(strstr(c.text, "error-line"));
	assert_false(tb_log_enabled(&log, TB_LOG_INFO));
	assert_true(tb_log_enabled(&log, TB_LOG_ERROR));
	/* a NULL logger is allowed and writes nothing */
	assert_false(tb_log_enabled(NULL, TB_LOG_ERROR));
	tb_log_error(NULL, "nowhere");
	cap_close(&c);
}

static void child_keeps_output_and_level(void **state)
{
	struct capture c;
	struct tb_log log, child;
	cap_open(&c);
	tb_log_init(&log, c.f, "relay", TB_LOG_INFO, TB_LOG_JSON);
	tb_log_child(&child, &log, "adapter/pe-cadena");
	tb_log_debug(&child, "hidden");
	tb_log_info(&child, "polled");
	fflush(c.f);
	assert_int_equal(count_lines(c.text, c.len), 1);
	yajl_val v = parse_line(c.text);
	assert_string_equal(get_str(v, "component"), "adapter/pe-cadena");
	yajl_tree_free(v);
	cap_close(&c);
}

static void hostile_bytes_stay_one_valid_line(void **state)
{
	struct capture c;
	struct tb_log log;
	cap_open(&c);
	tb_log_init(&log, c.f, "edi", TB_LOG_INFO, TB_LOG_JSON);
	tb_log_emit(&log, TB_LOG_INFO, "line1\nline2",
	            TB_LOG_FIELDS(TB_LF_STR("v", "a\"b\\c\n\x01\xff\xc3\xa9z")));
	fflush(c.f);
	assert_int_equal(count_lines(c.text, c.len), 1);
	yajl_val v = parse_line(c.text);
	assert_string_equal(get_str(v, "msg"), "line1\nline2");
	/* the invalid byte 0xff becomes U+FFFD, valid UTF-8 (é) passes through */
	assert_string_equal(get_str(v, "v"), "a\"b\\c\n\x01\xef\xbf\xbd\xc3\xa9z");
	yajl_tree_free(v);
	cap_close(&c);
}

static void text_format(void **state)
{
	struct capture c;
	struct tb_log log;
	cap_open(&c);
	tb_log_init(&log, c.f, "http", TB_LOG_INFO, TB_LOG_TEXT);
	tb_log_emit(&log, TB_LOG_INFO, "sent",
	            TB_LOG_FIELDS(TB_LF_STR("url", "http://x/"), TB_LF_STR("note", "two words"),
	                          TB_LF_INT("status", 200)));
	fflush(c.f);
	assert_int_equal(count_lines(c.text, c.len), 1);
	assert_non_null(strstr(c.text, " INFO  http: sent url=http://x/ note=\"two words\" status=200\n"));
	cap_close(&c);
}

static void line_is_bounded(void **state)
{
	struct capture c;
	struct tb_log log;
	char *big = malloc(5000);
	assert_non_null(big);
	memset(big, 'x', 4999);
	big[4999] = 0;
	cap_open(&c);
	tb_log_init(&log, c.f, "t", TB_LOG_INFO, TB_LOG_JSON);
	struct tb_log_field f[40];
	for (int i = 0; i < 40; i++)
		f[i] = TB_LF_STR("k", big);
	tb_log_emit(&log, TB_LOG_INFO, "many", f, 40);
	fflush(c.f);
	assert_true(c.len <= TB_LOG_LINE_MAX);
	assert_int_equal(count_lines(c.text, c.len), 1);
	/* each value is cut to 1024 bytes with a marker, and dropped fields are flagged */
	assert_non_null(strstr(c.text, "...[truncated]\""));
	yajl_val v = parse_line(c.text);
	const char *tp[] = {"truncated", NULL};
	assert_true(YAJL_IS_TRUE(yajl_tree_get(v, tp, yajl_t_any)));
	yajl_tree_free(v);
	cap_close(&c);
	free(big);
}

static void level_names_parse(void **state)
{
	enum tb_log_level l;
	struct tb_error err;
	assert_int_equal(tb_log_level_parse("DEBUG", &l, &err), 0);
	assert_int_equal(l, TB_LOG_DEBUG);
	assert_int_equal(tb_log_level_parse("warn", &l, &err), 0);
	assert_int_equal(l, TB_LOG_WARN);
	assert_int_equal(tb_log_level_parse("verbose", &l, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "\"verbose\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_line_has_fields),
		cmocka_unit_test(secrets_never_printed),
		cmocka_unit_test(level_filtering),
		cmocka_unit_test(child_keeps_output_and_level),
		cmocka_unit_test(hostile_bytes_stay_one_valid_line),
		cmocka_unit_test(text_format),
		cmocka_unit_test(line_is_bounded),
		cmocka_unit_test(level_names_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
