/* tradebridge adapters: which adapter modules the search path yields, and each
 * one's options, printed from the module's own option table (never by hand).
 * Invariant: modules that were refused are always reported (stderr, exit 2), so
 * a broken install is never mistaken for a missing adapter. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "conform.h"
#include "modules.h"

static const char usage[] =
	"usage: tradebridge adapters [--describe NAME] [--json]\n"
	"       tradebridge adapters --check MODULE.so...\n"
	"  List the adapter modules found on the adapter path: each directory in\n"
	"  $TRADEBRIDGE_ADAPTER_PATH (colon-separated), then the built-in directory\n"
	"  " TB_ADAPTERDIR ". The first file of a name wins.\n"
	"  --describe NAME  print adapter NAME's options: name, type, default, required,\n"
	"                   description\n"
	"  --json           the same as JSON\n"
	"  --check          load each MODULE.so given and run the conformance checks every\n"
	"                   adapter must pass; exit status 1 if one does not\n";

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

/* Load path alone and run the conformance checks: TB_EXIT_OK or TB_EXIT_INVALID. */
static int check_one(const char *path)
{
	struct tb_modules *m = malloc(sizeof *m);
	struct tb_error err;
	char rel[4096];
	if (!m)
		return TB_EXIT_USAGE;
	tb_modules_init(m);
	/* dlopen searches the library path for a bare file name; the user meant this one. */
	snprintf(rel, sizeof rel, "%s%s", strchr(path, '/') ? "" : "./", path);
	int status = TB_EXIT_INVALID;
	if (tb_modules_load(m, rel, 0, &err)) {
		fprintf(stderr, "tradebridge adapters: refused: %s\n", err.msg);
	} else {
		struct tb_buf out;
		tb_buf_init(&out, 0);
		int n = tb_conform_check(rel, m->items[0].ops, &out);
		if (n < 0)
			status = TB_EXIT_USAGE;
		else if (n > 0)
			fprintf(stderr, "%s", (const char *)out.data);
		else
			status = TB_EXIT_OK;
		if (n == 0)
			printf("%s: adapter %s conforms\n", rel, m->items[0].ops->name);
		tb_buf_fini(&out);
	}
	tb_modules_fini(m);
	free(m);
	return status;
}

static int check_all(int argc, char **argv)
{
	int status = TB_EXIT_OK;
	if (optind == argc)
		return tb_cli_usage("adapters", "--check needs one or more module files");
	for (int i = optind; i < argc; i++) {
		int s = check_one(argv[i]);
		status = s > status ? s : status;
	}
	return status;
}

int tb_cmd_adapters(int argc, char **argv)
{
	static const struct option longopts[] = {{"describe", required_argument, NULL, 'd'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         {"check", no_argument, NULL, 'c'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const char *name = NULL;
	int json = 0, check = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hd:", longopts, NULL)) != -1) {
		if (c == 'd')
			name = optarg;
		else if (c == 'j')
			json = 1;
		else if (c == 'c')
			check = 1;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("adapters", argv);
	}
	if (check)
		return name || json ? tb_cli_usage("adapters", "--check takes only module files")
		                    : check_all(argc, argv);
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
