/* The checks run and check-config share (see config.h). Each check names the
 * member and what to change; the key's text is never in a message.
 * Invariant: a configuration that passes here fails in run only for what needs
 * a peer (an unreachable RPC, a port already taken). */
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

void tb_network_env_prefix(const char *name, char *out, size_t size)
{
	snprintf(out, size, "TRADEBRIDGE_%s_", name);
	for (char *p = out; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
}

/* Two networks whose names mangle alike would read each other's secrets. */
static int check_names(const struct tb_preflight *p, struct tb_error *err)
{
	size_t n = tb_json_len(p->networks);
	for (size_t i = 0; p->networks && p->networks->type == TB_JSON_OBJECT && i < n; i++)
		for (size_t k = 0; k < i; k++) {
			const char *a = p->networks->u.object.members[k].key;
			const char *b = p->networks->u.object.members[i].key;
			char pa[TB_NETWORK_NAME_MAX + 32], pb[TB_NETWORK_NAME_MAX + 32];
			tb_network_env_prefix(a, pa, sizeof pa);
			tb_network_env_prefix(b, pb, sizeof pb);
			if (strcmp(pa, pb) == 0)
				return tb_error_set(err, TB_ECONFIG, "%s: networks \"%s\" and \"%s\" would both "
				                    "read their secrets from %s*: rename one", p->file, a, b,
				                    pa);
		}
	return 0;
}

static const struct tb_adapter_ops *ops_of(const struct tb_preflight *p, const char *net)
{
	const struct tb_json *n = tb_json_get(p->networks, net);
	const char *ad = tb_json_string(tb_json_get(n, "adapter"));
	const struct tb_module *m = ad ? tb_modules_find(p->mods, ad) : NULL;
	return m ? m->ops : NULL;
}

static int check_routes(const struct tb_preflight *p, struct tb_error *err)
{
	for (size_t i = 0; i < p->sharing->n_routes; i++) {
		const struct tb_route_conf *r = &p->sharing->routes[i];
		const char *missing = !tb_json_get(p->networks, r->from) ? r->from
		                      : !tb_json_get(p->networks, r->to) ? r->to : NULL;
		if (missing)
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu]: no network named \"%s\" in "
			                    "networks", p->file, i, missing);
		const struct tb_adapter_ops *f = ops_of(p, r->from), *t = ops_of(p, r->to);
		if (f && (!f->poll || !f->verify))
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu]: %s's adapter %s cannot be a "
			                    "source (no poll/verify)", p->file, i, r->from, f->name);
		if (t && (!t->submit || !t->confirm))
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu]: %s's adapter %s cannot be a "
			                    "destination (no submit/confirm)", p->file, i, r->to, t->name);
	}
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

static int check_bus(const struct tb_preflight *p, struct tb_error *err)
{
	if (p->rep && !p->pub)
		return tb_error_set(err, TB_ECONFIG, "relay.rep needs relay.pub (replay serves the "
		                    "receipts the PUB socket announces)");
	const char *urls[2] = {p->pub, p->rep}, *names[2] = {"relay.pub", "relay.rep"};
	for (int i = 0; i < 2; i++) {
		if (!urls[i])
			continue;
		int rc = tb_addr_bus(names[i], urls[i], p->allow_plaintext, NULL, err);
		if (rc)
			return rc;
		if (strncmp(urls[i], "tls+", 4) == 0 && (!p->tls_cert || !p->tls_ca))
			return tb_error_set(err, TB_ECONFIG, "%s %s: tls+tcp:// needs relay.tls_cert (our "
			                    "certificate and key) and relay.tls_ca (the pinned peers)",
			                    names[i], urls[i]);
	}
	return 0;
}

int tb_config_preflight(const struct tb_preflight *p, struct tb_error *err)
{
	uint8_t key[32];
	int rc = check_names(p, err);
	rc = rc ? rc : check_routes(p, err);
	rc = rc || !p->store ? rc : check_store(p->store, err);
	if (rc == 0 && p->key_file) {
		rc = tb_keyfile_read(p->key_file, key, err);
		explicit_bzero(key, sizeof key);
	}
	rc = rc ? rc : tb_addr_admin(p->admin ? p->admin : "127.0.0.1:9464", p->allow_remote, NULL,
	                             err);
	const char *token = getenv("TRADEBRIDGE_ADMIN_TOKEN");
	if (rc == 0 && token && strlen(token) < TB_API_TOKEN_MIN)
		rc = tb_error_set(err, TB_ECONFIG, "$TRADEBRIDGE_ADMIN_TOKEN: the admin API's bearer "
		                  "token must have at least %d characters", TB_API_TOKEN_MIN);
	rc = rc ? rc : check_bus(p, err);
	if (rc == TB_EINVAL || rc == TB_EIO || rc == TB_ENOTFOUND)
		err->code = rc = TB_ECONFIG;
	return rc;
}
