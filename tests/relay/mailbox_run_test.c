/* The real process between a mailbox and a destination (tests/modules/mailbox):
 * `tradebridge run` with the fault point relay.before-ack dies after the batch and
 * its cursor are committed and before the mailbox is acknowledged, so every
 * message is still in the spool; run again without it, the mailbox offers the
 * same messages, the relay stores each once, delivers each once, and only then
 * are they acknowledged (moved out of the spool). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runcli.h"
#include "tmpdir.h"

#define MESSAGES 3
static char dir[64];

static void write_file(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* tradebridge run in dir (fault: TRADEBRIDGE_TEST_FAULT or NULL); stderr appended
 * to dir/err.log. No admin token: the admin API stays off. */
static pid_t start(const char *fault)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char cmd[2048];
		setpgid(0, 0);
		unsetenv("TRADEBRIDGE_ADMIN_TOKEN");
		snprintf(cmd, sizeof cmd, "cd %s && TRADEBRIDGE_ADAPTER_PATH=%s/tests/modules/mailbox/.libs "
		         "%s%s exec %s/tradebridge run -c relay.json --store relay.db --key relay.key "
		         "--idle 20 2>>err.log", dir, getenv("TB_BUILDDIR"),
		         fault ? "TRADEBRIDGE_TEST_FAULT=" : "", fault ? fault : "",
		         getenv("TB_BUILDDIR"));
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int files_in(const char *sub)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, sub);
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".json") != NULL;
	if (d)
		closedir(d);
	return n;
}

static long long scalar(const char *sql)
{
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	snprintf(p, sizeof p, "%s/relay.db", dir);
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int log_has(const char *text)
{
	char p[256];
	struct tb_buf b;
	snprintf(p, sizeof p, "%s/err.log", dir);
	tb_buf_init(&b, 1 << 20);
	int found = tb_buf_read_file(&b, p, NULL) == 0 && b.data && strstr((char *)b.data, text);
	tb_buf_fini(&b);
	return found;
}

static void killed_before_ack_reoffered_and_stored_once(void **state)
{
	(void)state;
	char conf[1024], p[256];
	snprintf(conf, sizeof conf,
	         "{\"networks\": {\"mb-in\": {\"adapter\": \"testmailbox\", \"spool\": \"%s/in\"},\n"
	         "  \"mb-out\": {\"adapter\": \"testmailbox\", \"spool\": \"%s/out\"}},\n"
	         " \"routes\": [{\"from\": \"mb-in\", \"to\": \"mb-out\"}],\n"
	         " \"policies\": {\"mb-out\": {\"country\": \"CL\", \"types\": [\"mailbox.message\"]}}}\n",
	         dir, dir);
	write_file("relay.json", conf);
	write_file("relay.key", "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n");
	snprintf(p, sizeof p, "%s/in", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/out", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	for (int i = 1; i <= MESSAGES; i++) {
		char name[64], body[128];
		snprintf(name, sizeof name, "in/m%03d.json", i);
		snprintf(body, sizeof body, "{\"declaration\": \"D-%d\", \"office\": \"CL-SCL\"}", i);
		write_file(name, body);
	}

	/* 1: killed after the commit, before the ack */
	assert_int_equal(tb_wait_exit(start("relay.before-ack"), 30), 128 + SIGKILL);
	assert_true(log_has("test fault point relay.before-ack reached"));
	assert_int_equal(scalar("SELECT COUNT(*) FROM records WHERE network='mb-in'"), MESSAGES);
	assert_int_equal(scalar("SELECT COUNT(*) FROM cursors WHERE network='mb-in'"
	                        " AND value='m003.json'"), 1);
	assert_int_equal(files_in("in"), MESSAGES); /* never acknowledged */
	assert_int_equal(files_in("in/acked"), 0);

	/* 2: without the fault: offered again, stored once, delivered, then acknowledged */
	pid_t pid = start(NULL);
	for (int i = 0; i < 400 && !(files_in("in") == 0 && files_in("out/delivered") == MESSAGES);
	     i++)
		usleep(50000);
	kill(pid, SIGTERM);
	assert_int_equal(tb_wait_exit(pid, 30), 0);
	assert_int_equal(files_in("in"), 0);
	assert_int_equal(files_in("in/acked"), MESSAGES);
	assert_int_equal(files_in("out/delivered"), MESSAGES);
	assert_int_equal(scalar("SELECT COUNT(*) FROM records WHERE network='mb-in'"), MESSAGES);
	assert_int_equal(scalar("SELECT COUNT(DISTINCT locator) FROM records WHERE"
	                        " network='mb-in'"), MESSAGES);
	assert_int_equal(scalar("SELECT COUNT(*) FROM outbox WHERE state='delivered'"), MESSAGES);
	assert_int_equal(scalar("SELECT COUNT(*) FROM receipts"), MESSAGES);
}

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-mailbox");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(killed_before_ack_reoffered_and_stored_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
