/* Configuration cases as files (tests/relay/config-cases/NAME.json), each run
 * through both `tradebridge check-config` and `tradebridge run`. A file whose first
 * line is "// expect: MESSAGE" must be refused by both (exit 2) with the same
 * message line, and by run before it opens anything (no store is created). A file
 * whose first line is "// accept" must be accepted by both: check-config exits 0
 * with no error, `run --dry-run` exits 0 having opened the store and every network.
 * %DIR% is a private folder that holds good.key (0600), open.key (0644) and ro/
 * (0555); %BUILDDIR% is the build tree (its adapters/NAME/.libs hold the modules;
 * only testecho's is on $TRADEBRIDGE_ADAPTER_PATH). */
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

/* text with every %NAME% replaced by value (caller frees). */
static char *substitute(const char *text, const char *name, const char *value)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	for (const char *p = text; *p;) {
		const char *d = strstr(p, name);
		size_t n = d ? (size_t)(d - p) : strlen(p);
		assert_int_equal(tb_buf_append(&b, p, n), 0);
		if (d)
			assert_int_equal(tb_buf_puts(&b, value), 0);
		p += n + (d ? strlen(name) : 0);
	}
	char *s = strdup(b.data ? (const char *)b.data : "");
	tb_buf_fini(&b);
	return s;
}

/* The line of out that holds want, without its "tradebridge CMD: " head, into
 * line; 0 when there is none. */
static int message_line(const char *out, const char *want, char *line, size_t cap)
{
	const char *at = strstr(out, want);
	if (!at)
		return 0;
	const char *start = at;
	while (start > out && start[-1] != '\n')
		start--;
	const char *head = strstr(start, ": "); /* "tradebridge run: " */
	if (head && head < at)
		start = head + 2;
	snprintf(line, cap, "%.*s", (int)strcspn(start, "\n"), start);
	return 1;
}

/* Run "tradebridge CMD -c case.json" (bounded by timeout); stderr into *err. */
static int run_cmd(const char *cmd, char *err, size_t cap)
{
	char sh[2048], log[512];
	snprintf(log, sizeof log, "%s/%.*s.err", dir, (int)strcspn(cmd, " "), cmd);
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

/* Both refuse, with the same message line, and run creates nothing. */
static int refused(const char *name, const char *want, const char *db)
{
	char got_check[8192], got_run[8192], lc[1024], lr[1024];
	int sc = run_cmd("check-config", got_check, sizeof got_check);
	int sr = run_cmd("run", got_run, sizeof got_run);
	int bad = 0;
	if (sc != 2 || !message_line(got_check, want, lc, sizeof lc)) {
		print_error("%s: check-config exit %d, expected 2 and \"%s\"; stderr: %s\n", name, sc,
		            want, got_check);
		bad = 1;
	}
	if (sr != 2 || !message_line(got_run, want, lr, sizeof lr)) {
		print_error("%s: run exit %d, expected 2 and \"%s\"; stderr: %s\n", name, sr, want,
		            got_run);
		bad = 1;
	}
	if (!bad && strcmp(lc, lr) != 0) {
		print_error("%s: the messages differ:\n  check-config: %s\n  run:          %s\n", name,
		            lc, lr);
		bad = 1;
	}
	if (access(db, F_OK) == 0) {
		print_error("%s: run created the store before refusing\n", name);
		bad = 1;
	}
	return bad;
}

/* Both accept: check-config says nothing but notes, run opens everything. */
static int accepted(const char *name, const char *db)
{
	char got_check[8192], got_run[8192];
	int sc = run_cmd("check-config", got_check, sizeof got_check);
	int sr = run_cmd("run --dry-run", got_run, sizeof got_run);
	int bad = 0;
	for (const char *p = got_check; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
		if (strncmp(p, "tradebridge check-config: note: ", 32) != 0 && *p != '\n') {
			bad = 1;
			break;
		}
	if (sc != 0 || bad) {
		print_error("%s: check-config exit %d, expected 0 and only notes; stderr: %s\n", name,
		            sc, got_check);
		bad = 1;
	}
	if (sr != 0 || !strstr(got_run, "tradebridge run: dry run: ")) {
		print_error("%s: run --dry-run exit %d, expected 0 and \"dry run\"; stderr: %s\n",
		            name, sr, got_run);
		bad = 1;
	}
	if (sr == 0 && access(db, F_OK) != 0) {
		print_error("%s: run --dry-run did not open the store\n", name);
		bad = 1;
	}
	return bad;
}

static int one_case(const char *path, const char *name)
{
	struct tb_buf b;
	struct tb_error e;
	tb_buf_init(&b, 1 << 16);
	assert_int_equal(tb_buf_read_file(&b, path, &e), 0);
	char *t1 = substitute((const char *)b.data, "%DIR%", dir);
	char *text = substitute(t1, "%BUILDDIR%", getenv("TB_BUILDDIR"));
	free(t1);
	tb_buf_fini(&b);
	int accept = strncmp(text, "// accept\n", 10) == 0;
	if (!accept && strncmp(text, "// expect: ", 11) != 0)
		fail_msg("%s: the first line must be \"// expect: MESSAGE\" or \"// accept\"", name);
	char *want = accept ? NULL : strndup(text + 11, strcspn(text + 11, "\n"));
	put("case.json", text, 0600);
	char db[512];
	snprintf(db, sizeof db, "%s/relay.db", dir);
	unlink(db);
	int bad = accept ? accepted(name, db) : refused(name, want, db);
	unlink(db);
	free(want);
	free(text);
	return bad;
}

static void every_case_alike_in_check_config_and_run(void **state)
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
	assert_true(n >= 20);
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
		cmocka_unit_test_setup_teardown(every_case_alike_in_check_config_and_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
