/* Test-only fault points: a point named in $TRADEBRIDGE_TEST_FAULT ends the process
 * with SIGKILL (what the chaos run relies on to hit the journal/send window); any
 * other name, a prefix of a listed name, or no variable at all changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fault.h"

/* Run the point in a child with the variable set to list (NULL: unset). */
static int child_status(const char *list, const char *point)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (list)
			setenv(TB_FAULT_ENV, list, 1);
		else
			unsetenv(TB_FAULT_ENV);
		tb_fault_point(point);
		_exit(7);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int killed(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static void listed_point_kills(void **state)
{
	(void)state;
	assert_true(killed(child_status("evm.before-send", "evm.before-send")));
	assert_true(killed(child_status("a,evm.nonce-spent,b", "evm.nonce-spent")));
}

static void other_points_do_nothing(void **state)
{
	(void)state;
	int st = child_status(NULL, "evm.before-send");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	st = child_status("evm.before", "evm.before-send");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	st = child_status("evm.before-send-x,", "evm.before-send");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	st = child_status("", "evm.before-send");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listed_point_kills),
		cmocka_unit_test(other_points_do_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
