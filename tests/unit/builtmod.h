/* Loading an adapter module straight from the build tree, for the adapters' own
 * tests: $TB_BUILDDIR/adapters/NAME/.libs/NAME.so, checked like any module. */
#ifndef TB_TEST_BUILTMOD_H
#define TB_TEST_BUILTMOD_H

#include "modules.h"

/* Load module NAME into m and return its ops (borrowed from m), or NULL with err set. */
const struct tb_adapter_ops *tb_test_load_built(struct tb_modules *m, const char *name,
                                                struct tb_error *err);

#endif
