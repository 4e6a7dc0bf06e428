/* tradebridge check-config: read the configuration, load each network's adapter
 * and check its options against the adapter's own table, then print what was
 * resolved. Adapters are not opened: nothing is contacted. Invariant: a SECRET is
 * shown only as [set] or [unset], never its value. */
#include <ctype.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "modules.h"

#define TB_NETWORKS_MAX 256
#define TB_NETWORK_NAME_MAX 64

static const char usage[] =
	"usage: tradebridge check-config [-c FILE]\n"
	"  Read the configuration (JSON with comments), load the adapter of every network\n"
	"  and check the network's options against the adapter's option table; print the\n"
	"  networks, adapters and options it resolved. Secrets show as [set] or [unset].\n"
	"  -c, --config FILE  the configuration; default $TRADEBRIDGE_CONFIG, else\n"
	"                     ./tradebridge.json\n"
	"  Options may come from the environment: TRADEBRIDGE_<NETWORK>_<OPTION>.\n"
	"  Exit status 0 when the configuration is usable, 2 when it is not.\n";

/* The top level of a configuration file. */
struct top {
	struct tb_strlist adapter_path;
	struct tb_json *networks;
	struct tb_json *routes;
	struct tb_json *policies;
};

static const struct tb_option top_options[] = {
	{TB_OPT_STRLIST, "adapter_path", "[]", 0, offsetof(struct top, adapter_path),
	 "directories searched for adapter modules, after $TRADEBRIDGE_ADAPTER_PATH", 0, 0},
	{TB_OPT_JSON, "networks", NULL, TB_OPT_REQUIRED, offsetof(struct top, networks),
	 "object: network name -> {\"adapter\": NAME, options...}", 0, 0},
	{TB_OPT_JSON, "routes", "null", 0, offsetof(struct top, routes),
	 "which document types go from which networks to which", 0, 0},
	{TB_OPT_JSON, "policies", "null", 0, offsetof(struct top, policies),
	 "per-partner sharing policies", 0, 0},
	TB_OPT_END,
};

static int print_value(const struct tb_option *o, const void *conf)
{
	const void *p = (const char *)conf + o->offset;
	struct tb_buf b;
	struct tb_error err;
	int rc = 0;
	tb_buf_init(&b, 0);
	switch (o->type) {
	case TB_OPT_SECRET: rc = tb_buf_puts(&b, *(char *const *)p ? "[set]" : "[unset]"); break;
	case TB_OPT_STRING: {
		const char *s = *(char *const *)p;
		rc = s ? tb_json_write_string(&b, s, strlen(s)) : tb_buf_puts(&b, "(none)");
		break;
	}
	case TB_OPT_INT: rc = tb_buf_printf(&b, "%lld", *(const long long *)p); break;
	case TB_OPT_DURATION: rc = tb_buf_printf(&b, "%lld ms", *(const long long *)p); break;
	case TB_OPT_BOOL: rc = tb_buf_puts(&b, *(const int *)p ? "true" : "false"); break;
	case TB_OPT_STRLIST: {
		const struct tb_strlist *l = p;
		rc = tb_buf_putc(&b, '[');
		for (size_t i = 0; !rc && i < l->len; i++) {
			rc = i ? tb_buf_putc(&b, ',') : 0;
			rc = rc ? rc : tb_json_write_string(&b, l->items[i], strlen(l->items[i]));
		}
		rc = rc ? rc : tb_buf_putc(&b, ']');
		break;
	}
	case TB_OPT_JSON: {
		const struct tb_json *j = *(struct tb_json *const *)p;
		rc = j ? tb_json_write_stringify(j, &b, &err) : tb_buf_puts(&b, "(none)");
		break;
	}
	}
	if (!rc)
		printf("    %-20s %s\n", o->name, (const char *)b.data);
	tb_buf_fini(&b);
	return rc;
}

static int valid_network_name(const char *s, size_t len)
{
	if (len == 0 || len > TB_NETWORK_NAME_MAX || strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return 0;
	return 1;
}

/* "pe-cadena" -> "TRADEBRIDGE_PE_CADENA_". */
static void network_env_prefix(const char *name, char *out, size_t size)
{
	snprintf(out, size, "TRADEBRIDGE_%s_", name);
	for (char *p = out; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
}

static int check_network(const char *file, const struct tb_json_member *net,
                         const struct tb_modules *m)
{
	const struct tb_json *v = net->value;
	const struct tb_json *ad = tb_json_get(v, "adapter");
	if (!valid_network_name(net->key, net->key_len)) {
		fprintf(stderr, "tradebridge check-config: %s:%u: networks: \"%.64s\" is not a usable "
		        "network name: 1-%d characters of A-Z, a-z, 0-9, '-', '_', '.'\n",
		        file, v->line, net->key, TB_NETWORK_NAME_MAX);
		return -1;
	}
	if (v->type != TB_JSON_OBJECT || !ad || ad->type != TB_JSON_STRING) {
		fprintf(stderr, "tradebridge check-config: %s:%u: networks.%s: expected an object "
		        "with \"adapter\": NAME (see tradebridge adapters)\n", file, v->line, net->key);
		return -1;
	}
	const struct tb_module *mod = tb_modules_find(m, ad->u.string.ptr);
	if (!mod) {
		fprintf(stderr, "tradebridge check-config: %s:%u: networks.%s.adapter: no adapter "
		        "named \"%.64s\" on the adapter path (see tradebridge adapters)\n",
		        file, ad->line, net->key, ad->u.string.ptr);
		return -1;
	}
	char scope[TB_NETWORK_NAME_MAX + 16], prefix[TB_NETWORK_NAME_MAX + 16];
	snprintf(scope, sizeof scope, "networks.%s", net->key);
	network_env_prefix(net->key, prefix, sizeof prefix);
	struct tb_opt_source src = {.file = file, .scope = scope, .env_prefix = prefix};
	static const char *const ignore[] = {"adapter", NULL};
	static const struct tb_option none[] = {TB_OPT_END};
	const struct tb_option *table = mod->ops->options ? mod->ops->options : none;
	void *conf = calloc(1, mod->ops->conf_size ? mod->ops->conf_size : 1);
	struct tb_error err;
	int rc = conf ? tb_options_load(table, v, &src, ignore, conf, &err) : -1;
	if (rc) {
		fprintf(stderr, "tradebridge check-config: %s\n", conf ? err.msg : "out of memory");
	} else {
		printf("network %s: adapter %s (%s)\n", net->key, mod->ops->name, mod->path);
		for (const struct tb_option *o = table; !rc && o->name; o++)
			rc = print_value(o, conf);
	}
	tb_options_fini(table, conf);
	free(conf);
	return rc;
}

static int check_networks(const char *file, const struct top *t, const struct tb_modules *m)
{
	const struct tb_json *nets = t->networks;
	if (nets->type != TB_JSON_OBJECT) {
		fprintf(stderr, "tradebridge check-config: %s:%u: networks: expected an object of "
		        "network name -> {\"adapter\": NAME, ...}, got %s\n", file, nets->line,
		        tb_json_type_name(nets->type));
		return -1;
	}
	size_t n = tb_json_len(nets), bad = 0;
	if (n > TB_NETWORKS_MAX) {
		fprintf(stderr, "tradebridge check-config: %s:%u: networks: %zu networks is more than "
		        "the limit of %d\n", file, nets->line, n, TB_NETWORKS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		bad += check_network(file, &nets->u.object.members[i], m) != 0;
	if (bad)
		return -1;
	printf("networks: %zu checked\n", n);
	return 0;
}

static void print_path(const struct tb_modules *m)
{
	printf("adapter path:\n");
	for (size_t i = 0; i < m->ndirs; i++)
		printf("  %s (%s)\n", m->dirs[i], m->dir_origin[i]);
	for (size_t i = 0; i < m->nnotes; i++)
		fprintf(stderr, "tradebridge check-config: note: %s\n", m->notes[i]);
	for (size_t i = 0; i < m->nproblems; i++)
		fprintf(stderr, "tradebridge check-config: refused: %s\n", m->problems[i]);
}

static int check(const char *file)
{
	struct tb_json *doc = NULL;
	struct top t;
	struct tb_error err;
	struct tb_opt_source src = {.file = file, .scope = NULL, .env_prefix = NULL};
	if (tb_config_read(file, &doc, &err) ||
	    tb_options_load(top_options, doc, &src, NULL, &t, &err)) {
		fprintf(stderr, "tradebridge check-config: %s\n", err.msg);
		tb_json_free(doc);
		return TB_EXIT_USAGE;
	}
	struct tb_modules *m = malloc(sizeof *m);
	int rc = -1;
	printf("configuration: %s\n", file);
	if (m) {
		tb_modules_init(m);
		if (tb_modules_open(m, &t.adapter_path, &err) == 0) {
			print_path(m);
			rc = check_networks(file, &t, m);
			rc = rc ? rc : (m->nproblems ? -1 : 0);
		} else {
			fprintf(stderr, "tradebridge check-config: %s\n", err.msg);
		}
		tb_modules_fini(m);
		free(m);
	}
	if (rc == 0)
		printf("routes, policies: %s: not checked yet, they come with the relay\n",
		       t.routes->type != TB_JSON_NULL || t.policies->type != TB_JSON_NULL ? "present"
		                                                                         : "none");
	tb_options_fini(top_options, &t);
	tb_json_free(doc);
	return rc ? TB_EXIT_USAGE : TB_EXIT_OK;
}

int tb_cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const char *file = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
		if (c == 'c')
			file = optarg;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("check-config", argv);
	}
	if (optind < argc)
		return tb_cli_usage("check-config", "unexpected argument");
	return check(tb_cli_config_path(file));
}
