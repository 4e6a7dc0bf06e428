/* Adapter modules: the test modules built beside this test are found on a path,
 * called through their ops table (tb_batch_push resolves into this program, as
 * it does into the tradebridge binary), and bad modules — another ABI, a second
 * file claiming a taken name, a file or folder others could write, a file
 * owned by another user — are refused with a message naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "modules.h"
#include "tmpdir.h"

static char echo_dir[4096], bad_dir[4096], dup_dir[4096];

static int setup(void **state)
{
	const char *b = getenv("TB_BUILDDIR");
	if (!b)
		b = ".";
	snprintf(echo_dir, sizeof echo_dir, "%s/adapters/testecho/.libs", b);
	snprintf(bad_dir, sizeof bad_dir, "%s/tests/modules/badabi/.libs", b);
	snprintf(dup_dir, sizeof dup_dir, "%s/tests/modules/dupecho/.libs", b);
	struct tb_modules *m = malloc(sizeof *m);
	tb_modules_init(m);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	tb_modules_fini(*state);
	free(*state);
	return 0;
}

static void found_on_env_path(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	char env[8300];
	snprintf(env, sizeof env, "/nonexistent/tb-adapters:%s", echo_dir);
	assert_int_equal(tb_modules_set_path(m, env, NULL, NULL, &err), 0);
	assert_int_equal(m->ndirs, 2);
	assert_int_equal(tb_modules_scan(m, &err), 0);
	assert_int_equal(m->nproblems, 0);
	assert_int_equal(m->len, 1);
	const struct tb_module *mod = tb_modules_find(m, "testecho");
	assert_non_null(mod);
	assert_non_null(strstr(mod->path, "/adapters/testecho/.libs/testecho.so"));
	assert_null(tb_modules_find(m, "ethereum"));
	/* The missing directory is a note, not a failure. */
	assert_int_equal(m->nnotes, 1);
	assert_non_null(strstr(m->notes[0], "/nonexistent/tb-adapters"));
	assert_non_null(strstr(m->notes[0], "environment"));
}

struct echo_conf {
	char *endpoint, *greeting, *token;
	long long port;
	int loud;
	long long interval;
	struct tb_strlist peers;
	struct tb_json *extra;
};

static void call_through_ops(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	assert_int_equal(tb_modules_set_path(m, echo_dir, NULL, NULL, &err), 0);
	assert_int_equal(tb_modules_scan(m, &err), 0);
	const struct tb_adapter_ops *ops = tb_modules_find(m, "testecho")->ops;
	assert_int_equal(ops->conf_size, sizeof(struct echo_conf));
	struct tb_json *obj = NULL;
	const char *text = "{\"endpoint\": \"127.0.0.1\", \"greeting\": \"ola\"}";
	assert_int_equal(tb_json_parse(text, strlen(text), NULL, &obj, &err), 0);
	struct echo_conf conf;
	struct tb_opt_source src = {"t.json", "networks.e", NULL};
	assert_int_equal(tb_options_load(ops->options, obj, &src, NULL, &conf, &err), 0);
	struct tb_network net = {.name = "e", .adapter = "testecho", .conf = &conf};
	void *st = NULL;
	assert_int_equal(ops->open(&net, &st, &err), 0);
	struct tb_batch batch = {0};
	struct tb_cursor from = {""};
	assert_int_equal(ops->poll(st, &from, &batch, &err), 0);
	assert_int_equal(batch.len, 1);
	assert_string_equal(batch.items[0].locator, "echo:1");
	assert_string_equal(tb_json_string(tb_json_get(batch.items[0].doc, "greeting")), "ola");
	assert_string_equal(batch.next.value, "1");
	ops->close(st);
	tb_batch_fini(&batch);
	tb_options_fini(ops->options, &conf);
	tb_json_free(obj);
}

static void abi_mismatch_refused(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	char path[4200];
	snprintf(path, sizeof path, "%s/badabi.so", bad_dir);
	assert_int_equal(tb_modules_load(m, path, 0, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, path));
	char want[128];
	snprintf(want, sizeof want, "built for adapter ABI %d, this tradebridge speaks ABI %d",
	         TB_ADAPTER_ABI + 98, TB_ADAPTER_ABI);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(m->len, 0);
	/* Scanning its directory records the same problem and loads nothing. */
	assert_int_equal(tb_modules_set_path(m, bad_dir, NULL, NULL, &err), 0);
	assert_int_equal(tb_modules_scan(m, &err), 0);
	assert_int_equal(m->len, 0);
	assert_int_equal(m->nproblems, 1);
	assert_non_null(strstr(m->problems[0], "badabi.so"));
}

static void duplicate_name_refused(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	char env[8400];
	snprintf(env, sizeof env, "%s:%s", echo_dir, dup_dir);
	assert_int_equal(tb_modules_set_path(m, env, NULL, NULL, &err), 0);
	assert_int_equal(tb_modules_scan(m, &err), 0);
	assert_int_equal(m->len, 1);
	assert_non_null(strstr(tb_modules_find(m, "testecho")->path, "testecho.so"));
	assert_int_equal(m->nproblems, 1);
	assert_non_null(strstr(m->problems[0], "dupecho.so: adapter \"testecho\" is already "
	                                       "provided by "));
	assert_non_null(strstr(m->problems[0], "testecho/.libs/testecho.so"));
}

static void same_dir_twice_and_order(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	struct tb_strlist conf = {(char *[]){echo_dir}, 1};
	assert_int_equal(tb_modules_set_path(m, echo_dir, &conf, "/nonexistent/builtin", &err), 0);
	assert_int_equal(m->ndirs, 3);
	assert_string_equal(m->dir_origin[0], "environment");
	assert_string_equal(m->dir_origin[1], "configuration");
	assert_string_equal(m->dir_origin[2], "built-in");
	assert_int_equal(tb_modules_scan(m, &err), 0);
	assert_int_equal(m->len, 1);
	assert_int_equal(m->nproblems, 0);
	assert_int_equal(m->nnotes, 0); /* a missing built-in directory is normal */
}

static void path_parsing_and_limit(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	assert_int_equal(tb_modules_set_path(m, "a::b:", NULL, NULL, &err), 0);
	assert_int_equal(m->ndirs, 2);
	assert_string_equal(m->dirs[0], "a");
	assert_string_equal(m->dirs[1], "b");
	tb_modules_fini(m);
	tb_modules_init(m);
	char env[3 * TB_MODULES_MAX_DIRS + 8] = "";
	for (int i = 0; i < TB_MODULES_MAX_DIRS; i++)
		strcat(env, i ? ":d" : "d");
	assert_int_equal(tb_modules_set_path(m, env, NULL, NULL, &err), 0);
	assert_int_equal(m->ndirs, TB_MODULES_MAX_DIRS);
	tb_modules_fini(m);
	tb_modules_init(m);
	strcat(env, ":e");
	assert_int_equal(tb_modules_set_path(m, env, NULL, NULL, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "more than 64 directories"));
}

static void not_a_module(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	assert_int_equal(tb_modules_load(m, "/nonexistent/x.so", 0, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "/nonexistent/x.so: cannot load"));
}

static void copy_file(const char *from, const char *to)
{
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_buf_read_file(&b, from, &err), 0);
	FILE *f = fopen(to, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	tb_buf_fini(&b);
}

/* A module that someone else could have replaced is refused before dlopen, with
 * the reason and what to chmod; put right, the same file loads. */
static void untrusted_module_refused(void **state)
{
	struct tb_modules *m = *state;
	struct tb_error err;
	char dir[64], so[128], from[4200];
	assert_int_equal(tb_tmpdir_make(dir, sizeof dir, "tb-mod"), 0);
	snprintf(so, sizeof so, "%s/testecho.so", dir);
	snprintf(from, sizeof from, "%s/testecho.so", echo_dir);
	copy_file(from, so);

	assert_int_equal(chmod(so, 0666), 0);
	assert_int_equal(tb_modules_load(m, so, 0, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "the module file is writable by others (mode 0666)"));
	assert_non_null(strstr(err.msg, "chmod go-w"));
	assert_int_equal(chmod(so, 0664), 0);
	assert_int_equal(tb_modules_load(m, so, 0, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "writable by its group"));

	assert_int_equal(chmod(so, 0644), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(tb_modules_load(m, so, 0, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "the folder it is in is writable by others"));
	assert_int_equal(chmod(dir, 0755), 0);

	if (geteuid() == 0) { /* only root can give the file away */
		assert_int_equal(chown(so, 4321, 4321), 0);
		assert_int_equal(tb_modules_load(m, so, 0, &err), TB_ECONFIG);
		assert_non_null(strstr(err.msg, "owned by uid 4321"));
		assert_int_equal(chown(so, 0, 0), 0);
	}
	assert_int_equal(m->len, 0);
	assert_int_equal(tb_modules_load(m, so, 0, &err), 0);
	assert_non_null(tb_modules_find(m, "testecho"));
	tb_modules_fini(m);
	tb_modules_init(m);
	assert_int_equal(tb_tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(found_on_env_path, setup, teardown),
		cmocka_unit_test_setup_teardown(call_through_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(abi_mismatch_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_name_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(same_dir_twice_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(path_parsing_and_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(not_a_module, setup, teardown),
		cmocka_unit_test_setup_teardown(untrusted_module_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
