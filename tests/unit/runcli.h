/* Running the built tradebridge binary from a test: argv as given, stdin from a
 * file or /dev/null, stdout and stderr captured whole (bounded). Invariant: a
 * binary that cannot start or dies by a signal fails the calling test; it is never
 * mistaken for an exit status. */
#ifndef TB_TEST_RUNCLI_H
#define TB_TEST_RUNCLI_H

#include <sys/types.h>

#include "lib/buf.h"

struct tb_run {
	int status;          /* the exit status */
	struct tb_buf out, err; /* NUL-terminated */
};

/* $TB_BUILDDIR/tradebridge (borrowed; fails the test if TB_BUILDDIR is unset). */
const char *tb_run_binary(void);
/* Run the binary with args (NULL-terminated), stdin from in (NULL: /dev/null). */
void tb_run_cli(struct tb_run *r, const char *in, const char *const *args);
void tb_run_fini(struct tb_run *r);

/* $TB_TEST_SLOW (1..100, default 1): how much longer a loaded machine may take;
 * every wait in the tests that is about speed, not about a limit, scales by it. */
long tb_test_slow(void);
/* Wait until the file at path holds text: polled every 50 ms for at most seconds
 * (times tb_test_slow). 1 found, 0 not in time. For a child's log lines. */
int tb_wait_file_has(const char *path, const char *text, int seconds);
/* Wait for child pid (a process group leader) for at most seconds: its exit status,
 * 128+signal when killed; -1 (and the group killed) when it did not end in time. */
int tb_wait_exit(pid_t pid, int seconds);
/* The file at path holds text now (read whole, up to 4 MiB). */
int tb_file_has(const char *path, const char *text);

#define TB_RUN(r, ...) tb_run_cli((r), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define TB_OUT(r) ((const char *)(r)->out.data)
#define TB_ERR(r) ((const char *)(r)->err.data)

#endif
