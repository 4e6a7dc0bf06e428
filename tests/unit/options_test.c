/* Options as data: what an operator sees when loading a module's options —
 * defaults, every type, unknown names with a suggestion, bounds, file:line in
 * every error, environment overrides, and secrets that never show up in any
 * message or description. Expected values come from the table written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/options.h"

struct conf {
	char *endpoint;
	char *greeting;
	char *token;
	long long port;
	int loud;
	long long interval;
	struct tb_strlist peers;
	struct tb_json *extra;
	char *note;
};

static const struct tb_option table[] = {
	{TB_OPT_STRING, "endpoint", NULL, TB_OPT_REQUIRED, offsetof(struct conf, endpoint),
	 "where the peer listens", 0, 0},
	{TB_OPT_STRING, "greeting", "\"hello\"", 0, offsetof(struct conf, greeting), "a text", 0,
	 0},
	{TB_OPT_SECRET, "token", "\"default-secret-xyzzy\"", 0, offsetof(struct conf, token),
	 "bearer token", 0, 0},
	{TB_OPT_INT, "port", "8545", 0, offsetof(struct conf, port), "TCP port", 1, 65535},
	{TB_OPT_BOOL, "loud", "false", 0, offsetof(struct conf, loud), "shout", 0, 0},
	{TB_OPT_DURATION, "interval", "\"30s\"", 0, offsetof(struct conf, interval), "poll period",
	 100, 3600000},
	{TB_OPT_STRLIST, "peers", "[]", 0, offsetof(struct conf, peers), "peer names", 0, 0},
	{TB_OPT_JSON, "extra", "null", 0, offsetof(struct conf, extra), "anything", 0, 0},
	{TB_OPT_STRING, "note", NULL, 0, offsetof(struct conf, note), "optional, no default", 0, 0},
	TB_OPT_END,
};

static const struct tb_opt_source src = {"relay.json", "networks.pe-echo", "TBTEST_PE_ECHO_"};

/* Parse text (with comments) and load it; the tree is freed before returning. */
static int load(const char *text, struct conf *c, struct tb_error *err)
{
	struct tb_json *j = NULL;
	struct tb_json_limits lim = {.allow_comments = 1};
	struct tb_error perr;
	if (tb_json_parse(text, strlen(text), &lim, &j, &perr) != 0)
		fail_msg("test input does not parse: %s", perr.msg);
	memset(c, 0xA5, sizeof *c); /* the loader must not trust what is there */
	static const char *const ignore[] = {"adapter", NULL};
	int rc = tb_options_load(table, j, &src, ignore, c, err);
	tb_json_free(j);
	return rc;
}

static void defaults_apply(void **state)
{
	struct conf c;
	struct tb_error err;
	assert_int_equal(load("{\"adapter\": \"x\", \"endpoint\": \"127.0.0.1\"}", &c, &err), 0);
	assert_string_equal(c.endpoint, "127.0.0.1");
	assert_string_equal(c.greeting, "hello");
	assert_string_equal(c.token, "default-secret-xyzzy");
	assert_int_equal(c.port, 8545);
	assert_int_equal(c.loud, 0);
	assert_int_equal(c.interval, 30000);
	assert_int_equal(c.peers.len, 0);
	assert_non_null(c.extra);
	assert_int_equal(c.extra->type, TB_JSON_NULL);
	assert_null(c.note); /* optional without a default: left unset, not an error */
	tb_options_fini(table, &c);
	assert_null(c.endpoint);
	assert_null(c.token);
}

static void every_type_from_config(void **state)
{
	struct conf c;
	struct tb_error err;
	const char *text = "{\n"
	                   "  // comments are allowed in configuration files\n"
	                   "  \"endpoint\": \"http://127.0.0.1:8545\",\n"
	                   "  \"greeting\": \"hola\",\n"
	                   "  \"token\": \"abc\",\n"
	                   "  \"port\": 65535,\n"
	                   "  \"loud\": true,\n"
	                   "  \"interval\": \"5m\",\n"
	                   "  \"peers\": [\"ar-edi\", \"cl-fabric\"],\n"
	                   "  \"extra\": {\"k\": [1, 2]}\n"
	                   "}";
	assert_int_equal(load(text, &c, &err), 0);
	assert_string_equal(c.endpoint, "http://127.0.0.1:8545");
	assert_string_equal(c.greeting, "hola");
	assert_string_equal(c.token, "abc");
	assert_int_equal(c.port, 65535);
	assert_int_equal(c.loud, 1);
	assert_int_equal(c.interval, 300000);
	assert_int_equal(c.peers.len, 2);
	assert_string_equal(c.peers.items[0], "ar-edi");
	assert_string_equal(c.peers.items[1], "cl-fabric");
	assert_int_equal(c.extra->type, TB_JSON_OBJECT);
	assert_int_equal(tb_json_len(tb_json_get(c.extra, "k")), 2);
	tb_options_fini(table, &c);
}

static void durations(void **state)
{
	static const struct {
		const char *text;
		long long ms;
	} ok[] = {{"\"250ms\"", 250}, {"\"30s\"", 30000}, {"\"5m\"", 300000},
	          {"\"1h\"", 3600000}, {"1500", 1500}, {"100", 100}};
	char text[128];
	struct conf c;
	struct tb_error err;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "{\"endpoint\": \"e\", \"interval\": %s}", ok[i].text);
		assert_int_equal(load(text, &c, &err), 0);
		assert_int_equal(c.interval, ok[i].ms);
		tb_options_fini(table, &c);
	}
	static const char *const bad[] = {"\"30\"", "\"30 s\"", "\"s\"", "\"2d\"", "99",
	                                  "\"2h\"", "-5", "1.5", "true"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{\"endpoint\": \"e\",\n\"interval\": %s}", bad[i]);
		assert_int_equal(load(text, &c, &err), TB_ECONFIG);
		assert_non_null(strstr(err.msg, "relay.json:2: networks.pe-echo.interval: "));
	}
}

static void unknown_option_suggests(void **state)
{
	struct conf c;
	struct tb_error err;
	assert_int_equal(load("{\"endpoint\": \"e\",\n\n  \"prot\": 80}", &c, &err), TB_ECONFIG);
	assert_string_equal(err.msg, "relay.json:3: networks.pe-echo.prot: unknown option; did you "
	                             "mean \"port\"?");
	/* Nothing close: the known names are listed instead. */
	assert_int_equal(load("{\"endpoint\": \"e\", \"zzzzzzzzzz\": 1}", &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "unknown option (known options: endpoint, greeting"));
}

static void bounds(void **state)
{
	struct conf c;
	struct tb_error err;
	assert_int_equal(load("{\"endpoint\": \"e\", \"port\": 1}", &c, &err), 0);
	assert_int_equal(c.port, 1);
	tb_options_fini(table, &c);
	assert_int_equal(load("{\"endpoint\": \"e\",\n\"port\": 65536}", &c, &err), TB_ECONFIG);
	assert_string_equal(err.msg, "relay.json:2: networks.pe-echo.port: 65536 is out of range: "
	                             "expected 1 to 65535");
	assert_int_equal(load("{\"endpoint\": \"e\", \"port\": 0}", &c, &err), TB_ECONFIG);
	assert_int_equal(load("{\"endpoint\": \"e\", \"port\": 99999999999999999999}", &c, &err),
	                 TB_ECONFIG);
	assert_non_null(strstr(err.msg, "does not fit in 64 bits"));
	assert_int_equal(load("{\"endpoint\": \"e\", \"port\": 80.5}", &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "expected an integer"));
}

static void wrong_type_names_file_line(void **state)
{
	struct conf c;
	struct tb_error err;
	assert_int_equal(load("{\n\"endpoint\": \"e\",\n\"port\": \"8545\"\n}", &c, &err),
	                 TB_ECONFIG);
	assert_string_equal(err.msg,
	                    "relay.json:3: networks.pe-echo.port: expected an integer, got string");
	assert_int_equal(load("{\"endpoint\": \"e\",\n\"loud\": 1}", &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "relay.json:2: networks.pe-echo.loud: expected true or "
	                                "false"));
	assert_int_equal(load("{\"endpoint\": \"e\",\n\"peers\": [\"a\",\n 7]}", &c, &err),
	                 TB_ECONFIG);
	assert_non_null(strstr(err.msg, "relay.json:3:"));
	assert_non_null(strstr(err.msg, "expected a string"));
	/* Not an object at all. */
	struct tb_json *j = NULL;
	assert_int_equal(tb_json_parse("[1]", 3, NULL, &j, &err), 0);
	assert_int_equal(tb_options_load(table, j, &src, NULL, &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "relay.json:1: networks.pe-echo: expected an object"));
	tb_json_free(j);
}

static void required_missing(void **state)
{
	struct conf c;
	struct tb_error err;
	assert_int_equal(load("{\"port\": 80}", &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "relay.json:1: networks.pe-echo.endpoint: required option "
	                                "is missing"));
	assert_non_null(strstr(err.msg, "TBTEST_PE_ECHO_ENDPOINT"));
}

static void environment_overrides(void **state)
{
	struct conf c;
	struct tb_error err;
	setenv("TBTEST_PE_ECHO_TOKEN", "from-env-secret", 1);
	setenv("TBTEST_PE_ECHO_PORT", "9000", 1);
	setenv("TBTEST_PE_ECHO_INTERVAL", "250ms", 1);
	setenv("TBTEST_PE_ECHO_ENDPOINT", "http://[::1]:1", 1);
	assert_int_equal(load("{\"token\": \"from-file\", \"port\": 80}", &c, &err), 0);
	assert_string_equal(c.token, "from-env-secret");
	assert_int_equal(c.port, 9000);
	assert_int_equal(c.interval, 250);
	assert_string_equal(c.endpoint, "http://[::1]:1");
	tb_options_fini(table, &c);
	setenv("TBTEST_PE_ECHO_PORT", "seventy", 1);
	assert_int_equal(load("{}", &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "environment TBTEST_PE_ECHO_PORT: networks.pe-echo.port:"));
	setenv("TBTEST_PE_ECHO_PORT", "0", 1);
	assert_int_equal(load("{}", &c, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "environment TBTEST_PE_ECHO_PORT: "));
	assert_non_null(strstr(err.msg, "out of range"));
	unsetenv("TBTEST_PE_ECHO_TOKEN");
	unsetenv("TBTEST_PE_ECHO_PORT");
	unsetenv("TBTEST_PE_ECHO_INTERVAL");
	unsetenv("TBTEST_PE_ECHO_ENDPOINT");
}

static void secrets_never_printed(void **state)
{
	struct conf c;
	struct tb_error err;
	struct tb_buf out;
	tb_buf_init(&out, 0);
	assert_int_equal(tb_options_describe(table, &out), 0);
	assert_non_null(strstr((char *)out.data, "token"));
	assert_non_null(strstr((char *)out.data, "(hidden)"));
	assert_null(strstr((char *)out.data, "default-secret-xyzzy"));
	tb_buf_fini(&out);
	struct tb_json *d = tb_options_describe_json(table);
	assert_non_null(d);
	tb_buf_init(&out, 0);
	assert_int_equal(tb_json_write_stringify(d, &out, &err), 0);
	assert_null(strstr((char *)out.data, "default-secret-xyzzy"));
	assert_non_null(strstr((char *)out.data, "\"name\":\"port\""));
	tb_buf_fini(&out);
	tb_json_free(d);
	/* A secret of the wrong type: the message says so without the value. */
	assert_int_equal(load("{\"endpoint\": \"e\", \"token\": 31415926535}", &c, &err),
	                 TB_ECONFIG);
	assert_non_null(strstr(err.msg, "networks.pe-echo.token: expected a string"));
	assert_null(strstr(err.msg, "31415926535"));
	/* A secret with a NUL byte is refused, also without the value. */
	assert_int_equal(load("{\"endpoint\": \"e\", \"token\": \"sw\\u0000rdfish\"}", &c, &err),
	                 TB_ECONFIG);
	assert_null(strstr(err.msg, "rdfish"));
}

static void describe_table(void **state)
{
	struct tb_buf out;
	tb_buf_init(&out, 0);
	assert_int_equal(tb_options_describe(table, &out), 0);
	const char *t = (const char *)out.data;
	assert_non_null(strstr(t, "NAME"));
	assert_non_null(strstr(t, "REQUIRED"));
	assert_non_null(strstr(t, "int 1..65535"));
	assert_non_null(strstr(t, "\"30s\""));
	assert_non_null(strstr(t, "where the peer listens"));
	tb_buf_fini(&out);
}

static void strlist_limit(void **state)
{
	struct tb_buf text;
	struct conf c;
	struct tb_error err;
	for (int n = 1024; n <= 1025; n++) {
		tb_buf_init(&text, 0);
		tb_buf_puts(&text, "{\"endpoint\": \"e\", \"peers\": [");
		for (int i = 0; i < n; i++)
			tb_buf_printf(&text, "%s\"p%d\"", i ? "," : "", i);
		tb_buf_puts(&text, "]}");
		int rc = load((const char *)text.data, &c, &err);
		if (n == 1024) {
			assert_int_equal(rc, 0);
			assert_int_equal(c.peers.len, 1024);
			assert_string_equal(c.peers.items[1023], "p1023");
			tb_options_fini(table, &c);
		} else {
			assert_int_equal(rc, TB_ECONFIG);
			assert_non_null(strstr(err.msg, "1025 items is more than the limit of 1024"));
		}
		tb_buf_fini(&text);
	}
}

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/tb_options_test_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void config_read(void **state)
{
	struct tb_json *j = NULL;
	struct tb_error err;
	const char *good = "/* relay */ {\"networks\": {} // none yet\n}";
	char *p = write_temp(good, strlen(good));
	assert_int_equal(tb_config_read(p, &j, &err), 0);
	assert_int_equal(j->type, TB_JSON_OBJECT);
	tb_json_free(j);
	unlink(p);
	free(p);
	const char *bad = "{\n  \"networks\": {,}\n}";
	p = write_temp(bad, strlen(bad));
	assert_int_equal(tb_config_read(p, &j, &err) < 0, 1);
	assert_null(j);
	assert_non_null(strstr(err.msg, p));
	assert_non_null(strstr(err.msg, "line 2"));
	unlink(p);
	free(p);
	assert_int_equal(tb_config_read("/nonexistent/tb.json", &j, &err), TB_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/tb.json"));
}

static void config_read_limit(void **state)
{
	size_t n = ((size_t)1 << 20) + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	char *p = write_temp(big, n);
	struct tb_json *j = NULL;
	struct tb_error err;
	assert_int_equal(tb_config_read(p, &j, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, p));
	unlink(p);
	free(p);
	memset(big, ' ', n); /* one byte less: exactly at the limit */
	big[0] = '{';
	big[n - 2] = '}';
	p = write_temp(big, n - 1);
	assert_int_equal(tb_config_read(p, &j, &err), 0);
	tb_json_free(j);
	unlink(p);
	free(p);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_apply),
		cmocka_unit_test(every_type_from_config),
		cmocka_unit_test(durations),
		cmocka_unit_test(unknown_option_suggests),
		cmocka_unit_test(bounds),
		cmocka_unit_test(wrong_type_names_file_line),
		cmocka_unit_test(required_missing),
		cmocka_unit_test(environment_overrides),
		cmocka_unit_test(secrets_never_printed),
		cmocka_unit_test(describe_table),
		cmocka_unit_test(strlist_limit),
		cmocka_unit_test(config_read),
		cmocka_unit_test(config_read_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
