/* Fuzz the options loader the way a configuration file reaches it: text parsed
 * as JSON with comments, then loaded against a table with one option of every
 * type and bounds. Invariant checked: never a crash, a leak or an error message
 * holding the secret option's value; on success every value is within bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/options.h"

struct conf {
	char *s, *secret;
	long long i, d;
	int b;
	struct tb_strlist l;
	struct tb_json *j;
};

static const struct tb_option table[] = {
	{TB_OPT_STRING, "s", "\"x\"", 0, offsetof(struct conf, s), "string", 0, 0},
	{TB_OPT_SECRET, "secret", NULL, 0, offsetof(struct conf, secret), "secret", 0, 0},
	{TB_OPT_INT, "i", "5", 0, offsetof(struct conf, i), "int", -10, 1000},
	{TB_OPT_DURATION, "d", "\"1s\"", 0, offsetof(struct conf, d), "duration", 0, 86400000},
	{TB_OPT_BOOL, "b", "true", 0, offsetof(struct conf, b), "bool", 0, 0},
	{TB_OPT_STRLIST, "l", "[]", 0, offsetof(struct conf, l), "list", 0, 0},
	{TB_OPT_JSON, "j", "null", 0, offsetof(struct conf, j), "json", 0, 0},
	TB_OPT_END,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_json_limits lim = {.max_bytes = 1 << 16, .allow_comments = 1};
	struct tb_json *doc = NULL;
	struct tb_error err;
	if (tb_json_parse((const char *)data, size, &lim, &doc, &err))
		return 0;
	struct tb_opt_source src = {"fuzz.json", "networks.f", NULL};
	struct conf c;
	const struct tb_json *sv = doc->type == TB_JSON_OBJECT ? tb_json_get(doc, "secret") : NULL;
	if (tb_options_load(table, doc, &src, NULL, &c, &err) == 0) {
		if (c.i < -10 || c.i > 1000 || c.d < 0 || c.d > 86400000 || !c.s)
			abort();
		tb_options_fini(table, &c);
	} else if (sv && sv->type == TB_JSON_STRING && sv->u.string.len >= 8 &&
	           strstr(err.msg, "networks.f.secret:") && strstr(err.msg, sv->u.string.ptr)) {
		abort(); /* a secret leaked into a message */
	}
	tb_json_free(doc);
	return 0;
}
