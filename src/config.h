/* Configuration checks that `run` and `check-config` share, so that both give
 * the same verdict and the same message for the same file. Invariant: everything
 * run would refuse before it opens a network, a store or a socket is refused
 * here, by this one function, and nothing here contacts a peer. */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stddef.h>

#include "lib/error.h"
#include "lib/json.h"
#include "modules.h"
#include "sharing.h"

#define TB_NETWORK_NAME_MAX 64

/* What to check: the configuration as loaded, and the relay settings as they
 * will be used (run's flags win over the "relay" section). */
struct tb_preflight {
	const char *file;
	const struct tb_json *networks;   /* the "networks" object */
	const struct tb_sharing *sharing; /* routes, policies, relay section (loaded) */
	const struct tb_modules *mods;    /* the adapters found */
	const char *store, *key_file, *admin, *pub, *rep, *tls_cert, *tls_ca;
	int allow_remote, allow_plaintext;
};

/* "pe-cadena" -> "TRADEBRIDGE_PE_CADENA_": where a network's secrets come from. */
void tb_network_env_prefix(const char *name, char *out, size_t size);

/* 0, or TB_ECONFIG with the first problem: network names that share an
 * environment prefix, routes between unknown networks or adapters that cannot be
 * a source or a destination, the store's folder, the key file, the admin and bus
 * addresses, the admin token. A NULL store or key_file is not checked (run asks
 * for them first). */
int tb_config_preflight(const struct tb_preflight *p, struct tb_error *err);

#endif
