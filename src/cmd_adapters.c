/* tradebridge adapters: which adapter modules the search path yields, and each
 * one's options, printed from the module's own option table (never by hand).
 * Invariant: modules that were refused are always reported (stderr, exit 2), so
 * a broken install is never mistaken for a missing adapter. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "modules.h"

static const char usage[] =
	"usage: tradebridge adapters [--describe NAME] [--json]\n"
	"  List the adapter modules found on the adapter path: each directory in\n"
	"  $TRADEBRIDGE_ADAPTER_PATH (colon-separated), then the built-in directory\n"
	"  " TB_ADAPTERDIR ". The first file of a name wins.\n"
	"  --describe NAME  print adapter NAME's options: name, type, default, required,\n"
	"                   description\n"
	"  --json           the same as JSON\n";

static void report(const struct tb_modules *m)
{
	for (size_t i = 0; i < m->nnotes; i++)
		fprintf(stderr, "tradebridge adapters: note: %s\n", m->notes[i]);
	for (size_t i = 0; i < m->nproblems; i++)
		fprintf(stderr, "tradebridge adapters: refused: %s\n", m->problems[i]);
}

static int put_json(struct tb_json *j)
{
	struct tb_buf out;
	struct tb_error err;
	tb_buf_init(&out, 0);
	int rc = j ? tb_json_write_stringify(j, &out, &err) : TB_ENOMEM;
	if (!rc)
		printf("%s\n", (const char *)out.data);
	else
		fprintf(stderr, "tradebridge adapters: cannot write JSON: %s\n",
		        j ? err.msg : "out of memory");
	tb_buf_fini(&out);
	tb_json_free(j);
	return rc;
}

static struct tb_json *module_json(const struct tb_module *mod, int with_options)
{
	struct tb_json *o = tb_json_new_object();
	const char *sum = mod->ops->summary ? mod->ops->summary : "";
	static const struct tb_option none[] = {TB_OPT_END};
	if (!o)
		return NULL;
	struct tb_json *v[4] = {
		tb_json_new_string(mod->ops->name, strlen(mod->ops->name)),
		tb_json_new_string(mod->path, strlen(mod->path)),
		tb_json_new_string(sum, strlen(sum)),
		with_options ? tb_options_describe_json(mod->ops->options ? mod->ops->options : none)
		             : NULL,
	};
	static const char *const keys[4] = {"name", "file", "summary", "options"};
	int rc = 0;
	for (int i = 0; i < 4; i++) {
		if (i == 3 && !with_options)
			break;
		rc = rc ? (tb_json_free(v[i]), rc)
		        : v[i] ? tb_json_object_set(o, keys[i], strlen(keys[i]), v[i]) : TB_ENOMEM;
	}
	if (rc) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static int list(const struct tb_modules *m, int json)
{
	if (json) {
		struct tb_json *arr = tb_json_new_array();
		for (size_t i = 0; arr && i < m->len; i++) {
			if (tb_json_array_push(arr, module_json(&m->items[i], 0))) {
				tb_json_free(arr);
				arr = NULL;
			}
		}
		return put_json(arr) ? TB_EXIT_USAGE : TB_EXIT_OK;
	}
	if (m->len == 0)
		printf("no adapters found (searched %zu director%s); set TRADEBRIDGE_ADAPTER_PATH "
		       "to the folders that hold them (in a build tree: adapters/*/.libs)\n",
		       m->ndirs, m->ndirs == 1 ? "y" : "ies");
	for (size_t i = 0; i < m->len; i++)
		printf("%-12s %s\n%-12s %s\n", m->items[i].ops->name,
		       m->items[i].ops->summary ? m->items[i].ops->summary : "", "", m->items[i].path);
	return TB_EXIT_OK;
}

static int describe(const struct tb_modules *m, const char *name, int json)
{
	const struct tb_module *mod = tb_modules_find(m, name);
	static const struct tb_option none[] = {TB_OPT_END};
	if (!mod) {
		fprintf(stderr, "tradebridge adapters: no adapter named \"%s\" on the adapter path "
		                "(see tradebridge adapters)\n", name);
		return TB_EXIT_USAGE;
	}
	if (json)
		return put_json(module_json(mod, 1)) ? TB_EXIT_USAGE : TB_EXIT_OK;
	struct tb_buf out;
	tb_buf_init(&out, 0);
	int rc = tb_options_describe(mod->ops->options ? mod->ops->options : none, &out);
	if (!rc)
		printf("%s: %s\nfile: %s\n\n%s\nEvery option can also be set from the environment as "
		       "TRADEBRIDGE_<NETWORK>_<OPTION>\n(upper case, other characters as '_'); use "
		       "that for secrets.\n",
		       mod->ops->name, mod->ops->summary ? mod->ops->summary : "", mod->path,
		       (const char *)out.data);
	tb_buf_fini(&out);
	return rc ? TB_EXIT_USAGE : TB_EXIT_OK;
}

int tb_cmd_adapters(int argc, char **argv)
{
	static const struct option longopts[] = {{"describe", required_argument, NULL, 'd'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const char *name = NULL;
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hd:", longopts, NULL)) != -1) {
		if (c == 'd')
			name = optarg;
		else if (c == 'j')
			json = 1;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("adapters", argv);
	}
	if (optind < argc)
		return tb_cli_usage("adapters", "unexpected argument");
	struct tb_modules *m = malloc(sizeof *m);
	struct tb_error err;
	if (!m)
		return TB_EXIT_USAGE;
	tb_modules_init(m);
	int status = TB_EXIT_USAGE;
	if (tb_modules_open(m, NULL, &err))
		fprintf(stderr, "tradebridge adapters: %s\n", err.msg);
	else
		status = name ? describe(m, name, json) : list(m, json);
	report(m);
	if (m->nproblems && status == TB_EXIT_OK)
		status = TB_EXIT_USAGE;
	tb_modules_fini(m);
	free(m);
	return status;
}
