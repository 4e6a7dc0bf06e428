/* tradebridge check-config: the configuration through the path run takes
 * (config.c: the file, the adapter modules, each network's options checked against
 * its adapter's table and opened without a host, routes and their mappings,
 * policies, MRAs, the relay section), then print what was resolved and, per
 * partner, what it will receive. Opening contacts no peer; nothing is created.
 * Invariant: a SECRET is shown only as [set] or [unset], never its value. */
#include <ctype.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "modules.h"
#include "sharing.h"

static const char usage[] =
	"usage: tradebridge check-config [-c FILE] [--json]\n"
	"  Read the configuration (JSON with comments), load the adapter of every network\n"
	"  and check the network's options against the adapter's option table; check the\n"
	"  relay section, routes (loading their mappings), policies and MRAs; print the\n"
	"  networks, adapters and options it resolved and, per partner network, what it\n"
	"  will receive: record types, MRA issuers for aeo.status, dropped and hashed\n"
	"  fields (default deny). Secrets show as [set] or [unset]. It takes the path\n"
	"  run takes up to its first step (adapter_path, the limit of networks, each\n"
	"  network opened without contacting its peer, routes' ends can poll and submit,\n"
	"  key file, store folder, addresses): the same verdict, the same messages.\n"
	"  -c, --config FILE  the configuration; default $TRADEBRIDGE_CONFIG, else\n"
	"                     ./tradebridge.json\n"
	"  --json             the partners' view as one JSON object on standard output\n"
	"  Options may come from the environment: TRADEBRIDGE_<NETWORK>_<OPTION>, and\n"
	"  TRADEBRIDGE_RELAY_<OPTION> for the relay section (hash_salt).\n"
	"  Exit status 0 when the configuration is usable, 2 when it is not.\n";

static int print_value(const struct tb_option *o, const void *conf, int quiet)
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
	if (!rc && !quiet)
		printf("    %-20s %s\n", o->name, (const char *)b.data);
	tb_buf_fini(&b);
	return rc;
}

/* Each network as loaded: its adapter, where it was found, its options' values. */
static int print_networks(const struct tb_config *c)
{
	static const struct tb_option none[] = {TB_OPT_END};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->n_nets; i++) {
		const struct tb_config_net *n = &c->nets[i];
		const struct tb_option *table = n->mod->ops->options ? n->mod->ops->options : none;
		printf("network %s: adapter %s (%s)\n", n->name, n->mod->ops->name, n->mod->path);
		for (const struct tb_option *o = table; rc == 0 && o->name; o++)
			rc = print_value(o, n->conf, 0);
	}
	if (rc == 0)
		printf("networks: %zu checked\n", c->n_nets);
	return rc;
}

static void print_path(const struct tb_modules *m, int quiet)
{
	if (!quiet)
		printf("adapter path:\n");
	for (size_t i = 0; !quiet && i < m->ndirs; i++)
		printf("  %s (%s)\n", m->dirs[i], m->dir_origin[i]);
	for (size_t i = 0; i < m->nnotes; i++)
		fprintf(stderr, "tradebridge check-config: note: %s\n", m->notes[i]);
	for (size_t i = 0; i < m->nproblems; i++)
		fprintf(stderr, "tradebridge check-config: refused: %s\n", m->problems[i]);
}

/* --- what each partner receives -------------------------------------------------- */

static int strlist_json(struct tb_json *o, const char *k, const struct tb_strlist *l)
{
	struct tb_json *a = tb_json_new_array();
	for (size_t i = 0; a && i < l->len; i++)
		if (tb_json_array_push(a, tb_json_new_string(l->items[i], strlen(l->items[i]))))
			return TB_ENOMEM;
	return a ? tb_json_object_set(o, k, strlen(k), a) : TB_ENOMEM;
}

static int str_json(struct tb_json *o, const char *k, const char *v)
{
	struct tb_json *j = v ? tb_json_new_string(v, strlen(v)) : tb_json_new_null();
	return j ? tb_json_object_set(o, k, strlen(k), j) : TB_ENOMEM;
}

/* A drop or hash path as it will apply: {"path", "applies": with "[]" on every
 * repeat it goes through, "types": the partner's types it names a field of}. */
static struct tb_json *path_json(const struct tb_sharing *sh, const struct tb_partner *p,
                                 const char *text, const struct tb_datapath *dp)
{
	struct tb_json *o = tb_json_new_object(), *types = tb_json_new_array();
	char applies[1024] = "", one[1024];
	int rc = o && types ? str_json(o, "path", text) : TB_ENOMEM;
	for (size_t t = 0; rc == 0 && sh->dict && t < p->types.len; t++) {
		if (tb_datapath_describe(dp, sh->dict, p->types.items[t], one, sizeof one) || !one[0])
			continue;
		snprintf(applies, sizeof applies, "%s", one);
		rc = tb_json_array_push(types, tb_json_new_string(p->types.items[t],
		                                                  strlen(p->types.items[t])));
	}
	rc = rc ? rc : str_json(o, "applies", applies[0] ? applies : text);
	rc = rc ? rc : tb_json_object_set(o, "types", 5, types);
	if (rc) {
		tb_json_free(types);
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static int paths_json(struct tb_json *o, const char *k, const struct tb_sharing *sh,
                      const struct tb_partner *p, const struct tb_strlist *l,
                      const struct tb_datapath *dp)
{
	struct tb_json *a = tb_json_new_array();
	for (size_t i = 0; a && i < l->len; i++)
		if (tb_json_array_push(a, path_json(sh, p, l->items[i], &dp[i])))
			return TB_ENOMEM;
	return a ? tb_json_object_set(o, k, strlen(k), a) : TB_ENOMEM;
}

/* One partner (a route's destination or a policy's network) as JSON. */
static struct tb_json *partner_json(const struct tb_sharing *sh, const char *name)
{
	const struct tb_partner *p = tb_sharing_partner(sh, name);
	struct tb_json *o = tb_json_new_object(), *routes = tb_json_new_array();
	int rc = o && routes ? 0 : TB_ENOMEM;
	for (size_t i = 0; !rc && i < sh->n_routes; i++) {
		const struct tb_route_conf *r = &sh->routes[i];
		struct tb_json *ro = strcmp(r->to, name) == 0 ? tb_json_new_object() : NULL;
		if (!ro)
			continue;
		rc = str_json(ro, "from", r->from);
		rc = rc ? rc : strlist_json(ro, "types", &r->types);
		rc = rc ? rc : str_json(ro, "mapping", r->mapping_path);
		rc = rc ? rc : str_json(ro, "reverse", r->reverse_path);
		rc = rc ? rc : tb_json_array_push(routes, ro);
	}
	rc = rc ? rc : tb_json_object_set(o, "routes", 6, routes);
	routes = NULL;
	rc = rc ? rc : tb_json_object_set(o, "policy", 6, tb_json_new_bool(p != NULL));
	if (!rc && p) {
		struct tb_json *mra = tb_sharing_mra_issuers(sh, p);
		rc = str_json(o, "country", p->country);
		rc = rc ? rc : strlist_json(o, "types", &p->types);
		rc = rc ? rc : mra ? tb_json_object_set(o, "aeo_status_issuers", 18, mra) : TB_ENOMEM;
		rc = rc ? rc : paths_json(o, "drop", sh, p, &p->drop, p->drop_paths);
		rc = rc ? rc : paths_json(o, "hash", sh, p, &p->hash, p->hash_paths);
	}
	tb_json_free(routes);
	if (rc) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static void print_list(const char *label, const struct tb_json *a, const char *none)
{
	printf("  %-9s", label);
	for (size_t i = 0; i < tb_json_len(a); i++)
		printf("%s%s", i ? ", " : " ", tb_json_string(tb_json_at(a, i)));
	printf("%s\n", tb_json_len(a) ? "" : none);
}

/* Each path as it applies: "[]" marks every repeat it reaches. */
static void print_paths(const char *label, const struct tb_json *a)
{
	if (!tb_json_len(a))
		printf("  %-9s nothing\n", label);
	for (size_t i = 0; i < tb_json_len(a); i++) {
		const struct tb_json *x = tb_json_at(a, i), *types = tb_json_get(x, "types");
		printf("  %-9s %s in", i ? "" : label, tb_json_string(tb_json_get(x, "applies")));
		for (size_t k = 0; k < tb_json_len(types); k++)
			printf("%s%s", k ? ", " : " ", tb_json_string(tb_json_at(types, k)));
		printf(" records\n");
	}
}

static void print_partner(const char *name, const struct tb_json *p)
{
	const struct tb_json *routes = tb_json_get(p, "routes");
	const char *country = tb_json_string(tb_json_get(p, "country"));
	printf("partner %s%s%s%s:\n", name, country ? " (" : "", country ? country : "",
	       country ? ")" : "");
	for (size_t i = 0; i < tb_json_len(routes); i++) {
		const struct tb_json *r = tb_json_at(routes, i);
		const char *m = tb_json_string(tb_json_get(r, "mapping"));
		const char *rev = tb_json_string(tb_json_get(r, "reverse"));
		printf("  route     from %s", tb_json_string(tb_json_get(r, "from")));
		print_list(" types", tb_json_get(r, "types"), " (all)");
		printf("            mapping %s%s%s\n", m ? m : "(none: native record wrapped)",
		       rev ? ", delivered reverse-mapped by " : "", rev ? rev : "");
	}
	if (!tb_json_len(routes))
		printf("  route     none: nothing is routed to it\n");
	if (!tb_json_get(p, "policy")->u.boolean) {
		printf("  receives  nothing (no policy: default deny)\n");
		return;
	}
	print_list("types", tb_json_get(p, "types"), " none (default deny)");
	const struct tb_json *types = tb_json_get(p, "types");
	for (size_t i = 0; i < tb_json_len(types); i++)
		if (strcmp(tb_json_string(tb_json_at(types, i)), "aeo.status") == 0)
			print_list("aeo.status only from issuers with an MRA:",
			           tb_json_get(p, "aeo_status_issuers"),
			           " none: no aeo.status (unless a record lists the partner in data.mraPartners)");
	print_paths("drops", tb_json_get(p, "drop"));
	print_paths("hashes", tb_json_get(p, "hash"));
}

/* The partners' view: every route's destination and every policy's network. */
static int partners_view(const struct tb_sharing *sh, struct tb_json *view)
{
	for (size_t i = 0; i < sh->n_routes; i++) {
		const char *n = sh->routes[i].to;
		if (!tb_json_get(view, n) && tb_json_object_set(view, n, strlen(n), partner_json(sh, n)))
			return -1;
	}
	for (size_t i = 0; i < sh->n_partners; i++) {
		const char *n = sh->partners[i].network;
		if (!tb_json_get(view, n) && tb_json_object_set(view, n, strlen(n), partner_json(sh, n)))
			return -1;
	}
	return 0;
}

static int report(const struct tb_config *c, int json)
{
	const struct tb_sharing *sh = &c->sharing;
	struct tb_error err;
	if (!c->store || !c->key_file)
		fprintf(stderr, "tradebridge check-config: note: relay.%s is not set: run needs it "
		        "(or its flag)\n", !c->store ? "store" : "key_file");
	int rc = json ? 0 : print_networks(c);
	struct tb_json *view = tb_json_new_object();
	rc = rc || !view ? -1 : partners_view(sh, view);
	if (rc == 0 && json) {
		struct tb_json *o = tb_json_new_object();
		struct tb_buf b;
		tb_buf_init(&b, 0);
		rc = o && !str_json(o, "configuration", c->file) &&
		     !tb_json_object_set(o, "partners", 8, view) ? 0 : -1;
		view = NULL;
		rc = rc ? rc : tb_json_write_pretty(o, &b, &err);
		if (rc == 0)
			printf("%s\n", (const char *)b.data);
		tb_buf_fini(&b);
		tb_json_free(o);
	} else if (rc == 0) {
		printf("relay:\n");
		for (const struct tb_option *o = tb_relay_options; rc == 0 && o->name; o++)
			rc = print_value(o, &sh->relay, 0);
		printf("routes: %zu, partners: %zu\n", sh->n_routes, tb_json_len(view));
		for (size_t i = 0; i < tb_json_len(view); i++)
			print_partner(view->u.object.members[i].key, view->u.object.members[i].value);
		for (size_t i = 0; i < c->n_nets; i++)
			if (!tb_json_get(view, c->nets[i].name))
				printf("network %s receives nothing (no route, no policy)\n", c->nets[i].name);
	}
	tb_json_free(view);
	return rc;
}

/* The path run takes (tb_config_load), without opening anything. */
static int check(const char *file, int json)
{
	struct tb_config c;
	struct tb_error err;
	if (!json)
		printf("configuration: %s\n", file);
	int rc = tb_config_load(&c, file, NULL, TB_CONFIG_ALL, &err);
	if (c.mods)
		print_path(c.mods, json);
	if (rc)
		tb_cli_error("check-config", err.msg); /* as run prints it */
	rc = rc ? rc : report(&c, json);
	tb_config_fini(&c);
	return rc ? TB_EXIT_USAGE : TB_EXIT_OK;
}
int tb_cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const char *file = NULL;
	int c, json = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
		if (c == 'c')
			file = optarg;
		else if (c == 'j')
			json = 1;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("check-config", argv);
	}
	if (optind < argc)
		return tb_cli_usage("check-config", "unexpected argument");
	return check(tb_cli_config_path(file), json);
}
