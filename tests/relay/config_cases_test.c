/* Configuration cases as files (tests/relay/config-cases/NAME.json, first line
 * "// expect: MESSAGE"), each run through both `tradebridge check-config` and
 * `tradebridge run`: both must refuse it (exit 2) with the same message, and run
 * before it opens anything (no store is created). %DIR% is a private folder that
 * holds good.key (0600), open.key (0644) and ro/ (0555). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "tmpdir.h"

static char dir[256];
static const char key_hex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n";

static void put(const char *name, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* text with every %DIR% replaced (caller frees). */
static char *substitute(const char *text)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	for (const char *p = text; *p;) {
		const char *d = strstr(p, "%DIR%");
		size_t n = d ? (size_t)(d - p) : strlen(p);
		assert_int_equal(tb_buf_append(&b, p, n), 0);
		if (d)
			assert_int_equal(tb_buf_puts(&b, dir), 0);
		p += n + (d ? 5 : 0);
	}
	char *s = strdup(b.data ? (const char *)b.data : "");
	tb_buf_fini(&b);
	return s;
}

/* Run "tradebridge CMD -c case.json" (bounded by timeout); stderr into *err. */
static int run_cmd(const char *cmd, char *err, size_t cap)
{
	char sh[2048], log[512];
	snprintf(log, sizeof log, "%s/%s.err", dir, cmd);
	snprintf(sh, sizeof sh, "cd %s && TRADEBRIDGE_ADAPTER_PATH=%s/adapters/testecho/.libs "
	         "TRADEBRIDGE_WCO_DIR=%s/mappings/wco exec timeout 30 %s/tradebridge %s -c case.json "
	         ">/dev/null 2>%s", dir, getenv("TB_BUILDDIR"), getenv("TB_SRCDIR"),
	         getenv("TB_BUILDDIR"), cmd, log);
	int st = system(sh);
	FILE *f = fopen(log, "r");
	size_t n = f ? fread(err, 1, cap - 1, f) : 0;
	err[n] = 0;
	if (f)
		fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int one_case(const char *path, const char *name)
{
	struct tb_buf b;
	struct tb_error e;
	tb_buf_init(&b, 1 << 16);
	assert_int_equal(tb_buf_read_file(&b, path, &e), 0);
	char *text = substitute((const char *)b.data);
	tb_buf_fini(&b);
	if (strncmp(text, "// expect: ", 11) != 0)
		fail_msg("%s: the first line must be \"// expect: MESSAGE\"", name);
	char *want = strndup(text + 11, strcspn(text + 11, "\n"));
	put("case.json", text, 0600);
	char db[512], got_check[4096], got_run[4096];
	snprintf(db, sizeof db, "%s/relay.db", dir);
	unlink(db);
	int sc = run_cmd("check-config", got_check, sizeof got_check);
	int sr = run_cmd("run", got_run, sizeof got_run);
	int bad = 0;
	if (sc != 2 || !strstr(got_check, want)) {
		print_error("%s: check-config exit %d, expected 2 and \"%s\"; stderr: %s\n", name, sc,
		            want, got_check);
		bad = 1;
	}
	if (sr != 2 || !strstr(got_run, want)) {
		print_error("%s: run exit %d, expected 2 and \"%s\"; stderr: %s\n", name, sr, want,
		            got_run);
		bad = 1;
	}
	if (access(db, F_OK) == 0) {
		print_error("%s: run created the store before refusing\n", name);
		bad = 1;
	}
	free(want);
	free(text);
	return bad;
}

static void every_case_refused_alike(void **state)
{
	(void)state;
	char cases[4096], path[8192];
	snprintf(cases, sizeof cases, "%s/tests/relay/config-cases", getenv("TB_SRCDIR"));
	DIR *d = opendir(cases);
	assert_non_null(d);
	struct dirent *de;
	size_t n = 0, bad = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", cases, de->d_name);
		bad += one_case(path, de->d_name);
		n++;
	}
	closedir(d);
	assert_true(n >= 10);
	assert_int_equal(bad, 0);
}

static int setup(void **state)
{
	(void)state;
	if (tb_tmpdir_make(dir, sizeof dir, "tb-config-cases"))
		return -1;
	put("good.key", key_hex, 0600);
	put("open.key", key_hex, 0644);
	char ro[512];
	snprintf(ro, sizeof ro, "%s/ro", dir);
	return mkdir(ro, 0555);
}

static int teardown(void **state)
{
	(void)state;
	char ro[512];
	snprintf(ro, sizeof ro, "%s/ro", dir);
	chmod(ro, 0755);
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_case_refused_alike, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
