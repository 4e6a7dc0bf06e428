/* The conformance checks every adapter module must pass, in-tree or built out of
 * tree against the installed tradebridge-adapter.pc (`tradebridge adapters --check`).
 * They read the ops table only; nothing is opened. Invariant: every problem found
 * is reported (one line each, naming the module file and what to fix), never only
 * the first, so one run lists all a module author has to do. */
#ifndef TB_CONFORM_H
#define TB_CONFORM_H

#include <stddef.h>

#include "adapter.h"
#include "lib/buf.h"

#define TB_CONFORM_MAX_OPTIONS 256 /* an option table longer than this has lost its end */
#define TB_CONFORM_MAX_CONF ((size_t)1 << 20)

/* Check ops (loaded from path, which is used in the messages). Appends one line per
 * problem to out and returns how many there were (0: conforms), or a negative TB_E*
 * code when out could not grow. */
int tb_conform_check(const char *path, const struct tb_adapter_ops *ops, struct tb_buf *out);

#endif
