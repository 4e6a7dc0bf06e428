/* Fuzz policy paths the way a configuration reaches them: the first line of the
 * input is a path (parsed, checked by tb_datapath_parse), the rest a record's
 * data (JSON) it is applied to, first as a hash-like replace, then as a drop,
 * then swept. Invariant checked: never a crash or a leak; after the sweep no
 * hole is left and a path without [N] names nothing more to drop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/datapath.h"

static int replace(void *ctx, const struct tb_json *v, struct tb_json **repl,
                   struct tb_error *err)
{
	(void)ctx, (void)v, (void)err;
	*repl = tb_json_new_string("x", 1);
	return *repl ? 0 : TB_ENOMEM;
}

static int drop(void *ctx, const struct tb_json *v, struct tb_json **repl, struct tb_error *err)
{
	(void)ctx, (void)v, (void)err;
	*repl = NULL;
	return 0;
}

static int no_holes(const struct tb_json *j)
{
	if (!j)
		return 0;
	for (size_t i = 0; j->type == TB_JSON_ARRAY && i < j->u.array.len; i++)
		if (!no_holes(j->u.array.items[i]))
			return 0;
	for (size_t i = 0; j->type == TB_JSON_OBJECT && i < j->u.object.len; i++)
		if (!no_holes(j->u.object.members[i].value))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	if (!nl || size > 1 << 16)
		return 0;
	char *path = strndup((const char *)data, (size_t)(nl - (const char *)data));
	struct tb_datapath p;
	struct tb_error err;
	struct tb_json *doc = NULL;
	size_t hits = 0;
	if (path && tb_datapath_parse(path, &p, &err) == 0) {
		const char *rest = nl + 1;
		size_t n = size - (size_t)(rest - (const char *)data);
		if (tb_json_parse(rest, n, NULL, &doc, &err) == 0) {
			tb_datapath_apply(&p, doc, replace, NULL, NULL, &err);
			tb_datapath_apply(&p, doc, drop, NULL, NULL, &err);
			tb_datapath_sweep(doc);
			if (!no_holes(doc))
				abort();
			int indexed = 0; /* after a sweep, [N] names the next repeat */
			for (size_t i = 0; i < p.n; i++)
				indexed |= p.index[i] >= 0;
			tb_datapath_apply(&p, doc, drop, NULL, &hits, &err);
			if (hits && !indexed)
				abort(); /* everything the path named was dropped */
			tb_json_free(doc);
		}
		tb_datapath_fini(&p);
	}
	free(path);
	return 0;
}
