/* Running the built tradebridge binary from a test: argv as given, stdin from a
 * file or /dev/null, stdout and stderr captured whole (bounded). Invariant: a
 * binary that cannot start or dies by a signal fails the calling test; it is never
 * mistaken for an exit status. */
#ifndef TB_TEST_RUNCLI_H
#define TB_TEST_RUNCLI_H

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

#define TB_RUN(r, ...) tb_run_cli((r), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define TB_OUT(r) ((const char *)(r)->out.data)
#define TB_ERR(r) ((const char *)(r)->err.data)

#endif
