/* The one configuration path (see config.h): the file's top level, the adapter
 * modules, each network's options, the sharing sections, the checks between them
 * (routes' ends can poll and submit, policies name networks) and the relay
 * settings. Each message names the file, the member and what to change; a key's
 * text is never in one. Invariant: the checks run in one order, so a file with
 * several problems gets the same first message from every command. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "addr.h"
#include "api.h"
#include "config.h"
#include "keyfile.h"

/* The top level of a configuration file. */
struct top {
	struct tb_strlist adapter_path;
	struct tb_json *networks, *routes, *policies, *relay, *mras;
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
	{TB_OPT_JSON, "relay", "null", 0, offsetof(struct top, relay),
	 "the relay: store, key file, admin API, receipts bus, limits (tradebridge run)", 0, 0},
	{TB_OPT_JSON, "mras", "null", 0, offsetof(struct top, mras),
	 "issuer country -> partner countries with a mutual recognition arrangement", 0, 0},
	TB_OPT_END,
};

void tb_network_env_prefix(const char *name, char *out, size_t size)
{
	snprintf(out, size, "TRADEBRIDGE_%s_", name);
	for (char *p = out; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
}

/* Unknown top-level members are refused; only adapter_path is kept. */
static int read_top(struct tb_config *c, struct tb_error *err)
{
	struct top t;
	struct tb_opt_source src = {.file = c->file};
	if (!c->file) /* verify without -c: the environment's and the built-in path only */
		return 0;
	int rc = tb_config_read(c->file, &c->doc, err);
	rc = rc ? rc : tb_options_load(top_options, c->doc, &src, NULL, &t, err);
	if (rc)
		return rc;
	c->adapter_path = t.adapter_path;
	t.adapter_path = (struct tb_strlist){0};
	tb_options_fini(top_options, &t);
	c->networks = tb_json_get(c->doc, "networks");
	return 0;
}

/* A module that could not be loaded may be the one a network needs: refuse, with
 * the file it names, rather than fail later with "no adapter". */
static int load_modules(struct tb_config *c, struct tb_error *err)
{
	c->mods = malloc(sizeof *c->mods);
	if (!c->mods)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	tb_modules_init(c->mods);
	int rc = tb_modules_open(c->mods, &c->adapter_path, err);
	if (rc == 0 && c->mods->nproblems)
		rc = tb_error_set(err, TB_ECONFIG, "adapter module refused: %s", c->mods->problems[0]);
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

/* Load opts against mod's table into n (scope and env_prefix name it). */
static int net_load(struct tb_config_net *n, const char *name, const struct tb_module *mod,
                    const struct tb_json *opts, const char *file, const char *scope,
                    const char *env_prefix, struct tb_error *err)
{
	static const char *const ignore[] = {"adapter", NULL};
	static const struct tb_option none[] = {TB_OPT_END};
	const struct tb_adapter_ops *ops = mod->ops;
	memset(n, 0, sizeof *n);
	snprintf(n->name, sizeof n->name, "%s", name);
	n->mod = mod;
	n->conf = calloc(1, ops->conf_size ? ops->conf_size : 1);
	if (!n->conf)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	struct tb_opt_source src = {.file = file, .scope = scope, .env_prefix = env_prefix};
	return tb_options_load(ops->options ? ops->options : none, opts, &src, ignore, n->conf,
	                       err);
}

static int load_network(struct tb_config *c, const struct tb_json_member *m, struct tb_error *err)
{
	const struct tb_json *v = m->value, *ad = tb_json_get(v, "adapter");
	if (!valid_network_name(m->key, m->key_len))
		return tb_error_set(err, TB_ECONFIG, "%s:%u: networks: \"%.64s\" is not a usable "
		                    "network name: 1-%d characters of A-Z, a-z, 0-9, '-', '_', '.'",
		                    c->file, v->line, m->key, TB_NETWORK_NAME_MAX);
	if (v->type != TB_JSON_OBJECT || !ad || ad->type != TB_JSON_STRING)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: networks.%s: expected an object with "
		                    "\"adapter\": NAME (see tradebridge adapters)", c->file, v->line,
		                    m->key);
	const struct tb_module *mod = tb_modules_find(c->mods, ad->u.string.ptr);
	if (!mod)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: networks.%s.adapter: no adapter named "
		                    "\"%.64s\" on the adapter path (see tradebridge adapters)", c->file,
		                    ad->line, m->key, ad->u.string.ptr);
	char scope[TB_NETWORK_NAME_MAX + 16], prefix[TB_NETWORK_NAME_MAX + 32];
	snprintf(scope, sizeof scope, "networks.%s", m->key);
	/* secrets (keys, tokens) come from TRADEBRIDGE_<NETWORK>_<OPTION> */
	tb_network_env_prefix(m->key, prefix, sizeof prefix);
	c->n_nets++; /* counted before loading: tb_config_fini frees a half-loaded one */
	return net_load(&c->nets[c->n_nets - 1], m->key, mod, v, c->file, scope, prefix, err);
}

static int load_networks(struct tb_config *c, struct tb_error *err)
{
	const struct tb_json *nets = c->networks;
	if (nets->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: networks: expected an object of network "
		                    "name -> {\"adapter\": NAME, ...}, got %s", c->file, nets->line,
		                    tb_json_type_name(nets->type));
	size_t n = tb_json_len(nets);
	if (n > TB_CONFIG_MAX_NETWORKS)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: networks: %zu networks is more than the "
		                    "limit of %d", c->file, nets->line, n, TB_CONFIG_MAX_NETWORKS);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = load_network(c, &nets->u.object.members[i], err);
	return rc;
}

/* Two networks whose names mangle alike would read each other's secrets. */
static int check_names(const struct tb_config *c, struct tb_error *err)
{
	for (size_t i = 0; i < c->n_nets; i++)
		for (size_t k = 0; k < i; k++) {
			const char *a = c->nets[k].name, *b = c->nets[i].name;
			char pa[TB_NETWORK_NAME_MAX + 32], pb[TB_NETWORK_NAME_MAX + 32];
			tb_network_env_prefix(a, pa, sizeof pa);
			tb_network_env_prefix(b, pb, sizeof pb);
			if (strcmp(pa, pb) == 0)
				return tb_error_set(err, TB_ECONFIG, "%s: networks \"%s\" and \"%s\" would both "
				                    "read their secrets from %s*: rename one", c->file, a, b,
				                    pa);
		}
	return 0;
}

const struct tb_config_net *tb_config_net(const struct tb_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->n_nets; i++)
		if (strcmp(c->nets[i].name, name) == 0)
			return &c->nets[i];
	return NULL;
}

/* A route's source must poll and verify, its destination submit and confirm. */
static int check_routes(const struct tb_config *c, struct tb_error *err)
{
	const struct tb_sharing *sh = &c->sharing;
	for (size_t i = 0; i < sh->n_routes; i++) {
		const struct tb_route_conf *r = &sh->routes[i];
		const struct tb_config_net *f = tb_config_net(c, r->from), *t = tb_config_net(c, r->to);
		if (!f || !t)
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu]: no network named \"%s\" in "
			                    "networks", c->file, i, !f ? r->from : r->to);
		const struct tb_adapter_ops *fo = f->mod->ops, *to = t->mod->ops;
		if (!fo->poll || !fo->verify)
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu]: %s's adapter %s cannot be a "
			                    "source (no poll/verify)", c->file, i, r->from, fo->name);
		if (!to->submit || !to->confirm)
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu]: %s's adapter %s cannot be a "
			                    "destination (no submit/confirm)", c->file, i, r->to, to->name);
	}
	return 0;
}

static int check_policies(const struct tb_config *c, struct tb_error *err)
{
	for (size_t i = 0; i < c->sharing.n_partners; i++)
		if (!tb_config_net(c, c->sharing.partners[i].network))
			return tb_error_set(err, TB_ECONFIG, "%s: policies.%s: no network of that name in "
			                    "networks", c->file, c->sharing.partners[i].network);
	return 0;
}

/* The store is created if missing, with its -wal and -shm files beside it: its
 * folder must exist and be writable, and an existing store must be a file. */
static int check_store(const char *store, struct tb_error *err)
{
	char dir[4096];
	struct stat st;
	struct statvfs vfs;
	const char *slash = strrchr(store, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - store) + (slash == store) : 1,
	         slash ? store : ".");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return tb_error_set(err, TB_ECONFIG, "relay.store %s: folder %s %s", store, dir,
		                    errno == ENOENT || !S_ISDIR(st.st_mode) ? "does not exist"
		                                                            : strerror(errno));
	int ro = access(dir, W_OK) != 0 || (st.st_uid == geteuid() && !(st.st_mode & S_IWUSR)) ||
	         (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY));
	if (ro)
		return tb_error_set(err, TB_ECONFIG, "relay.store %s: folder %s is not writable (the "
		                    "store and its -wal and -shm files are created there)", store, dir);
	if (stat(store, &st) == 0 && !S_ISREG(st.st_mode))
		return tb_error_set(err, TB_ECONFIG, "relay.store %s: not a regular file", store);
	if (stat(store, &st) == 0 && (access(store, W_OK) != 0 ||
	                              (st.st_uid == geteuid() && !(st.st_mode & S_IWUSR))))
		return tb_error_set(err, TB_ECONFIG, "relay.store %s: not writable", store);
	return 0;
}

static int check_bus(const struct tb_config *c, struct tb_error *err)
{
	if (c->rep && !c->pub)
		return tb_error_set(err, TB_ECONFIG, "relay.rep needs relay.pub (replay serves the "
		                    "receipts the PUB socket announces)");
	const char *urls[2] = {c->pub, c->rep}, *names[2] = {"relay.pub", "relay.rep"};
	for (int i = 0; i < 2; i++) {
		if (!urls[i])
			continue;
		int rc = tb_addr_bus(names[i], urls[i], c->sharing.relay.allow_plaintext, NULL, err);
		if (rc)
			return rc;
		if (strncmp(urls[i], "tls+", 4) == 0 && (!c->tls_cert || !c->tls_ca))
			return tb_error_set(err, TB_ECONFIG, "%s %s: tls+tcp:// needs relay.tls_cert (our "
			                    "certificate and key) and relay.tls_ca (the pinned peers)",
			                    names[i], urls[i]);
	}
	return 0;
}

/* Flags win over the relay section. A missing store or key file is not checked
 * here: run asks for them, check-config notes their absence. */
static int check_relay(struct tb_config *c, const struct tb_config_flags *f, struct tb_error *err)
{
	static const struct tb_config_flags none;
	const struct tb_relay_opts *ro = &c->sharing.relay;
	f = f ? f : &none;
	c->store = f->store ? f->store : ro->store;
	c->key_file = f->key_file ? f->key_file : ro->key_file;
	c->admin = f->admin ? f->admin : ro->admin;
	c->pub = f->pub ? f->pub : ro->pub;
	c->rep = f->rep ? f->rep : ro->rep;
	c->tls_cert = f->tls_cert ? f->tls_cert : ro->tls_cert;
	c->tls_ca = f->tls_ca ? f->tls_ca : ro->tls_ca;
	uint8_t key[32];
	int rc = c->store ? check_store(c->store, err) : 0;
	if (rc == 0 && c->key_file) {
		rc = tb_keyfile_read(c->key_file, key, err);
		explicit_bzero(key, sizeof key);
	}
	rc = rc ? rc : tb_addr_admin(c->admin ? c->admin : "127.0.0.1:9464", ro->allow_remote, NULL,
	                             err);
	const char *token = getenv("TRADEBRIDGE_ADMIN_TOKEN");
	if (rc == 0 && token && strlen(token) < TB_API_TOKEN_MIN)
		rc = tb_error_set(err, TB_ECONFIG, "$TRADEBRIDGE_ADMIN_TOKEN: the admin API's bearer "
		                  "token must have at least %d characters", TB_API_TOKEN_MIN);
	return rc ? rc : check_bus(c, err);
}

static int net_open(struct tb_config_net *n, const struct tb_log *parent, const struct tb_host *host,
                    struct tb_error *err);

/* What an adapter checks only when it opens (an address's form, a key's length) is
 * checked here too, without a host: run refuses it before it creates the store,
 * check-config with the same message. Opening contacts no peer. */
static int trial_open(struct tb_config *c, struct tb_error *err)
{
	for (size_t i = 0; i < c->n_nets; i++) {
		struct tb_config_net *n = &c->nets[i];
		int rc = net_open(n, c->log, NULL, err);
		if (rc) {
			tb_error_prefix(err, "network %s", n->name);
			return rc;
		}
		if (n->state && n->mod->ops->close)
			n->mod->ops->close(n->state);
		n->state = NULL;
	}
	return 0;
}

int tb_config_load(struct tb_config *c, const char *file, const struct tb_config_flags *flags,
                   enum tb_config_stage stage, struct tb_error *err)
{
	memset(c, 0, sizeof *c);
	c->file = file;
	int rc = read_top(c, err);
	rc = rc ? rc : load_modules(c, err);
	if (rc || stage == TB_CONFIG_MODULES || !file)
		goto out;
	rc = load_networks(c, err);
	rc = rc ? rc : check_names(c, err);
	rc = rc ? rc : tb_sharing_load(&c->sharing, c->doc, file, 1, err);
	c->sharing_loaded = rc == 0;
	rc = rc ? rc : check_routes(c, err);
	rc = rc ? rc : check_policies(c, err);
	rc = rc ? rc : check_relay(c, flags, err);
	rc = rc ? rc : trial_open(c, err);
out:
	/* every refusal of a file is a configuration error: one exit status for all */
	if (rc == TB_EINVAL || rc == TB_EIO || rc == TB_ENOTFOUND || rc == TB_ELIMIT)
		err->code = rc = TB_ECONFIG;
	return rc;
}

static int net_open(struct tb_config_net *n, const struct tb_log *parent, const struct tb_host *host,
                    struct tb_error *err)
{
	const struct tb_adapter_ops *ops = n->mod->ops;
	if (parent)
		tb_log_child(&n->log, parent, n->name);
	else
		tb_log_init(&n->log, stderr, n->name, TB_LOG_WARN, TB_LOG_TEXT);
	n->net = (struct tb_network){.name = n->name, .adapter = ops->name, .conf = n->conf,
	                             .host = host, .log = &n->log};
	int rc = ops->open ? ops->open(&n->net, &n->state, err) : 0;
	if (rc)
		n->state = NULL;
	return rc;
}

int tb_config_open(struct tb_config *c, tb_config_host_fn host_of, void *ctx,
                   struct tb_error *err)
{
	for (size_t i = 0; i < c->n_nets; i++) {
		struct tb_config_net *n = &c->nets[i];
		const struct tb_host *host = host_of ? host_of(ctx, n->name) : NULL;
		int rc = host_of && !host ? tb_error_set(err, TB_ELIMIT, "%s: networks.%s: the relay "
		                                         "has no room for it", c->file, n->name)
		                          : net_open(n, c->log, host, err);
		if (rc) {
			tb_error_prefix(err, "network %s", n->name);
			return rc;
		}
	}
	return 0;
}

void tb_config_net_close(struct tb_config_net *n)
{
	if (!n->mod)
		return;
	if (n->state && n->mod->ops->close)
		n->mod->ops->close(n->state);
	n->state = NULL;
	if (n->conf) {
		static const struct tb_option none[] = {TB_OPT_END};
		tb_options_fini(n->mod->ops->options ? n->mod->ops->options : none, n->conf);
		free(n->conf);
	}
	n->conf = NULL;
}

void tb_config_close(struct tb_config *c)
{
	for (size_t i = 0; i < c->n_nets; i++)
		if (c->nets[i].state && c->nets[i].mod->ops->close)
			c->nets[i].mod->ops->close(c->nets[i].state);
	for (size_t i = 0; i < c->n_nets; i++)
		c->nets[i].state = NULL;
}

void tb_config_fini(struct tb_config *c)
{
	for (size_t i = 0; i < c->n_nets; i++)
		tb_config_net_close(&c->nets[i]);
	if (c->sharing_loaded)
		tb_sharing_fini(&c->sharing);
	if (c->mods) {
		tb_modules_fini(c->mods);
		free(c->mods);
	}
	static const struct tb_option list[] = {
		{TB_OPT_STRLIST, "adapter_path", NULL, 0, 0, NULL, 0, 0}, TB_OPT_END};
	tb_options_fini(list, &c->adapter_path);
	tb_json_free(c->doc);
	memset(c, 0, sizeof *c);
}

int tb_config_adapter_open(const struct tb_config *c, const char *name, const struct tb_json *opts,
                           const char *scope, struct tb_config_net *out, struct tb_error *err)
{
	memset(out, 0, sizeof *out);
	const struct tb_module *mod = tb_modules_find(c->mods, name);
	if (!mod)
		return tb_error_set(err, TB_ENOTFOUND, "the %s adapter module was not found on the "
		                    "adapter path (set TRADEBRIDGE_ADAPTER_PATH or the configuration's "
		                    "adapter_path, or install it)", name);
	int rc = net_load(out, name, mod, opts, "command line", scope, NULL, err);
	rc = rc ? rc : net_open(out, c->log, NULL, err);
	if (rc)
		tb_config_net_close(out);
	return rc;
}

int tb_config_store_open(const char *flag, const char *file, const struct tb_relay_opts *relay,
                         int read_only, struct tb_store *st, struct tb_error *err)
{
	if (flag)
		return tb_store_open(st, flag, read_only, err);
	struct tb_json *doc = NULL;
	struct tb_relay_opts ro;
	struct tb_opt_source src = {.file = file, .scope = "relay",
	                            .env_prefix = "TRADEBRIDGE_RELAY_"};
	int rc = 0;
	memset(&ro, 0, sizeof ro);
	if (!relay) {
		rc = tb_config_read(file, &doc, err);
		rc = rc ? rc : tb_options_load(tb_relay_options, tb_json_get(doc, "relay"), &src, NULL,
		                               &ro, err);
		relay = &ro;
	}
	if (rc == 0 && !relay->store)
		rc = tb_error_set(err, TB_ECONFIG, "no store: relay.store in %s, or -s FILE", file);
	rc = rc ? rc : tb_store_open(st, relay->store, read_only, err);
	tb_options_fini(tb_relay_options, &ro);
	tb_json_free(doc);
	return rc;
}
