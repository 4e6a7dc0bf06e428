/* The adapter conformance checks (see conform.h). The loader (modules.c) already
 * refuses a module whose ABI, name, open/close or option offsets are wrong; these
 * checks go further, over what a module author controls and the relay relies on:
 * the option table is well formed and ends, the capabilities are consistent
 * (confirm exactly when submit; ack only with poll; recognise only with verify), and
 * --describe renders the table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conform.h"
#include "lib/error.h"
#include "lib/json.h"
#include "lib/options.h"

#define OPT_NAME_MAX 64

struct report {
	const char *path;
	const char *adapter;
	struct tb_buf *out;
	int problems;
	int rc; /* the first failure to grow out */
};

static void problem(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct report *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	r->problems++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (!r->rc)
		r->rc = tb_buf_printf(r->out, "%s: adapter %s: %s\n", r->path, r->adapter, line);
}

static int valid_opt_name(const char *s)
{
	size_t n = 0;
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n <= OPT_NAME_MAX;
}

static void check_one_option(struct report *r, const struct tb_adapter_ops *ops,
                             const struct tb_option *o)
{
	struct tb_error err;
	struct tb_json *def = NULL;
	size_t sz = tb_option_size(o->type);
	if (!valid_opt_name(o->name))
		problem(r, "option \"%s\": name is not 1-64 characters of a-z, 0-9 and '_' "
		           "starting with a letter", o->name);
	if (!sz)
		problem(r, "option %s: unknown type", o->name);
	else if (o->offset > ops->conf_size || sz > ops->conf_size - o->offset)
		problem(r, "option %s: does not fit the configuration struct (conf_size)",
		        o->name);
	if (!o->desc || !o->desc[0] || strchr(o->desc, '\n'))
		problem(r, "option %s: description missing or not one line", o->name);
	if (o->flags & ~(unsigned)TB_OPT_REQUIRED)
		problem(r, "option %s: unknown flags", o->name);
	if ((o->flags & TB_OPT_REQUIRED) && o->def)
		problem(r, "option %s: required and also given a default", o->name);
	if (o->def && tb_json_parse(o->def, strlen(o->def), NULL, &def, &err) != 0)
		problem(r, "option %s: default is not JSON text: %s", o->name, err.msg);
	tb_json_free(def);
}

/* Walk the table to its TB_OPT_END (bounded); the count, or -1 if no end was found. */
static long check_options(struct report *r, const struct tb_adapter_ops *ops)
{
	const struct tb_option *t = ops->options;
	long n;
	if (!t)
		return 0;
	for (n = 0; n < TB_CONFORM_MAX_OPTIONS && t[n].name; n++) {
		check_one_option(r, ops, &t[n]);
		for (long k = 0; k < n; k++)
			if (strcmp(t[k].name, t[n].name) == 0)
				problem(r, "option %s: declared twice", t[n].name);
	}
	if (n == TB_CONFORM_MAX_OPTIONS) {
		problem(r, "option table has no TB_OPT_END within its first 256 entries");
		return -1;
	}
	if (t[n].desc || t[n].def || t[n].offset || t[n].flags)
		problem(r, "option table does not end with TB_OPT_END (the last entry has no "
		           "name but other fields set)");
	return n;
}

/* What `tradebridge adapters --describe` prints must render, naming every option. */
static void check_describe(struct report *r, const struct tb_option *table, long n)
{
	static const struct tb_option none[] = {TB_OPT_END};
	const struct tb_option *t = table ? table : none;
	struct tb_buf text;
	tb_buf_init(&text, 0);
	if (tb_options_describe(t, &text) != 0 || !text.data) {
		problem(r, "--describe does not render the option table");
	} else {
		for (long i = 0; i < n; i++)
			if (!strstr((const char *)text.data, t[i].name))
				problem(r, "--describe does not show option %s", t[i].name);
	}
	tb_buf_fini(&text);
	struct tb_json *j = tb_options_describe_json(t);
	if (!j || tb_json_len(j) != (size_t)n)
		problem(r, "--describe --json does not render one entry per option");
	tb_json_free(j);
}

int tb_conform_check(const char *path, const struct tb_adapter_ops *ops, struct tb_buf *out)
{
	struct report r = {.path = path, .adapter = ops->name ? ops->name : "(unnamed)", .out = out};
	if (ops->abi != TB_ADAPTER_ABI)
		problem(&r, "built for another adapter ABI than this tradebridge's");
	if (!ops->name || !ops->name[0])
		problem(&r, "no name");
	if (!ops->summary || !ops->summary[0] || strchr(ops->summary, '\n'))
		problem(&r, "summary missing or not one line");
	if (!ops->open || !ops->close)
		problem(&r, "open and close are both required");
	if (!ops->poll && !ops->submit)
		problem(&r, "neither poll nor submit: the adapter can do nothing");
	if (!ops->submit != !ops->confirm)
		problem(&r, "%s without %s: confirm is required exactly when submit is given",
		        ops->submit ? "submit" : "confirm", ops->submit ? "confirm" : "submit");
	if (ops->ack && !ops->poll)
		problem(&r, "ack without poll: ack acknowledges what poll offered");
	if (ops->recognise && !ops->verify)
		problem(&r, "recognise without verify: tradebridge verify would choose an adapter "
		        "that cannot check the document");
	if (ops->conf_size > TB_CONFORM_MAX_CONF)
		problem(&r, "conf_size is over 1 MiB");
	long n = check_options(&r, ops);
	if (n > 0 && ops->conf_size == 0)
		problem(&r, "declares options but conf_size is 0");
	if (n >= 0)
		check_describe(&r, ops->options, n);
	return r.rc ? r.rc : r.problems;
}
