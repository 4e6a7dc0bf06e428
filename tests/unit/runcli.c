/* See runcli.h. Output goes through temporary files rather than pipes so a
 * chatty child can never block on a full pipe while the test waits for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/error.h"
#include "runcli.h"

#define RUN_OUTPUT_LIMIT ((size_t)4 << 20)
#define RUN_MAX_ARGS 64

extern char **environ;

const char *tb_run_binary(void)
{
	static char bin[4096];
	const char *b = getenv("TB_BUILDDIR");
	if (b == NULL)
		fail_msg("TB_BUILDDIR is not set: run the tests through make check");
	snprintf(bin, sizeof bin, "%s/tradebridge", b);
	return bin;
}

static void read_back(const char *path, struct tb_buf *b)
{
	struct tb_error e;
	tb_buf_init(b, RUN_OUTPUT_LIMIT);
	if (tb_buf_read_file(b, path, &e) != 0)
		fail_msg("%s", e.msg);
	unlink(path);
}

void tb_run_cli(struct tb_run *r, const char *in, const char *const *args)
{
	char outp[] = "/tmp/tb_run_out_XXXXXX", errp[] = "/tmp/tb_run_err_XXXXXX";
	int fo = mkstemp(outp), fe = mkstemp(errp);
	if (fo < 0 || fe < 0)
		fail_msg("cannot create temporary files for the binary's output");
	char *argv[RUN_MAX_ARGS + 2];
	size_t n = 0;
	argv[n++] = (char *)tb_run_binary();
	for (size_t i = 0; args[i]; i++) {
		if (n > RUN_MAX_ARGS)
			fail_msg("tb_run_cli: more than %d arguments", RUN_MAX_ARGS);
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fo, 1);
	posix_spawn_file_actions_adddup2(&fa, fe, 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		fail_msg("cannot start %s", argv[0]);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		fail_msg("%s %s did not exit normally (signal %d)", argv[0], args[0] ? args[0] : "",
		         WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	r->status = WEXITSTATUS(st);
	close(fo);
	close(fe);
	read_back(outp, &r->out);
	read_back(errp, &r->err);
}

void tb_run_fini(struct tb_run *r)
{
	tb_buf_fini(&r->out);
	tb_buf_fini(&r->err);
}

long tb_test_slow(void)
{
	const char *s = getenv("TB_TEST_SLOW");
	long f = s ? strtol(s, NULL, 10) : 1;
	return f >= 1 && f <= 100 ? f : 1;
}

int tb_file_has(const char *path, const char *text)
{
	struct tb_buf b;
	tb_buf_init(&b, RUN_OUTPUT_LIMIT);
	int found = tb_buf_read_file(&b, path, NULL) == 0 && tb_buf_putc(&b, 0) == 0 &&
	            strstr((const char *)b.data, text) != NULL;
	tb_buf_fini(&b);
	return found;
}

int tb_wait_file_has(const char *path, const char *text, int seconds)
{
	for (long i = 0; i < seconds * 20L * tb_test_slow(); i++) {
		if (tb_file_has(path, text))
			return 1;
		usleep(50000);
	}
	return 0;
}

int tb_wait_exit(pid_t pid, int seconds)
{
	int status;
	for (int i = 0; i < seconds * 20; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(50000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}
