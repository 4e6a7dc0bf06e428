/* Temporary folders for tests: created private under /tmp, removed whole at the
 * end without a shell (no "rm -rf" through system(), so no quoting can go wrong). */
#ifndef TB_TEST_TMPDIR_H
#define TB_TEST_TMPDIR_H

#include <stddef.h>

/* mkdtemp("/tmp/PREFIX-XXXXXX") into dir; 0 or -1 (for cmocka setups). */
int tb_tmpdir_make(char *dir, size_t size, const char *prefix);
/* Remove dir and everything below it; 0 or -1 (for cmocka teardowns). */
int tb_tmpdir_remove(const char *dir);

#endif
