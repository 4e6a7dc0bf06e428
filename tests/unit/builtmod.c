/* See builtmod.h. Where libtool puts an uninstalled module is fixed by the build
 * (adapters/NAME/.libs/NAME.so), so only the build directory varies. */
#include <stdio.h>
#include <stdlib.h>

#include "builtmod.h"

const struct tb_adapter_ops *tb_test_load_built(struct tb_modules *m, const char *name,
                                                struct tb_error *err)
{
	const char *bd = getenv("TB_BUILDDIR");
	char so[4096];
	snprintf(so, sizeof so, "%s/adapters/%s/.libs/%s.so", bd ? bd : ".", name, name);
	if (tb_modules_load(m, so, 0, err) != 0)
		return NULL;
	const struct tb_module *mod = tb_modules_find(m, name);
	if (mod == NULL) {
		tb_error_set(err, TB_ENOTFOUND, "%s loaded but declares no adapter named %s", so, name);
		return NULL;
	}
	return mod->ops;
}
