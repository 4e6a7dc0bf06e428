/* The one configuration path: `run`, `check-config` and `verify` read the file,
 * load the adapter modules (honouring "adapter_path"), check networks, routes,
 * policies, MRAs and the relay section, and open networks through this module, so
 * they give the same verdict and the same message for the same file.
 * Invariant: a file tb_config_load accepts fails later in run only for what needs
 * a peer (an unreachable RPC, a port already taken); nothing here contacts one. */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stddef.h>

#include "lib/error.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/options.h"
#include "modules.h"
#include "relay.h"
#include "sharing.h"
#include "store/store.h"

#define TB_NETWORK_NAME_MAX 63 /* the relay keeps a name in 64 bytes */
/* One limit for every command: the relay holds this many networks. */
#define TB_CONFIG_MAX_NETWORKS TB_RELAY_MAX_NETWORKS

/* What the command line says over the "relay" section (NULL: the file's value). */
struct tb_config_flags {
	const char *store, *key_file, *admin, *pub, *rep, *tls_cert, *tls_ca;
};

/* How far tb_config_load goes. */
enum tb_config_stage {
	TB_CONFIG_MODULES, /* the file's top level and the adapter modules (verify) */
	TB_CONFIG_ALL,     /* everything run checks before it opens anything */
};

/* One configured network: its adapter, its options loaded, and once opened its state. */
struct tb_config_net {
	char name[TB_NETWORK_NAME_MAX + 1];
	const struct tb_module *mod; /* borrowed from the config's modules */
	void *conf;                  /* the adapter's options struct (owned) */
	void *state;                 /* from ops->open; NULL until opened */
	struct tb_network net;       /* what open was given; points into this struct */
	struct tb_log log;           /* the network's logger: its lines carry the name */
};

struct tb_config {
	const char *file;
	struct tb_json *doc;
	struct tb_strlist adapter_path;   /* the file's, searched after $TRADEBRIDGE_ADAPTER_PATH */
	const struct tb_json *networks;   /* borrowed from doc */
	struct tb_modules *mods;          /* kept after a failed load, for notes and problems */
	struct tb_config_net nets[TB_CONFIG_MAX_NETWORKS];
	size_t n_nets;
	struct tb_sharing sharing;        /* relay section, routes, policies, MRAs */
	int sharing_loaded;
	const struct tb_log *log;         /* parent of the networks' loggers; NULL: stderr, warnings */
	/* the relay settings as used: flags first, then the "relay" section (borrowed) */
	const char *store, *key_file, *admin, *pub, *rep, *tls_cert, *tls_ca;
};

/* "pe-cadena" -> "TRADEBRIDGE_PE_CADENA_": where a network's secrets come from. */
void tb_network_env_prefix(const char *name, char *out, size_t size);

/* Read file up to stage (a NULL file: the modules only). 0, or TB_ECONFIG
 * (TB_ENOMEM) with the first problem, naming file, line and member. flags may be
 * NULL. Call tb_config_fini after a failure too: c->mods keeps the adapter path's
 * notes and problems. */
int tb_config_load(struct tb_config *c, const char *file, const struct tb_config_flags *flags,
                   enum tb_config_stage stage, struct tb_error *err);
/* Open every network; host_of gives each its host (NULL host_of: no host). On
 * failure the networks opened so far stay open for tb_config_close. */
typedef const struct tb_host *(*tb_config_host_fn)(void *ctx, const char *network);
int tb_config_open(struct tb_config *c, tb_config_host_fn host_of, void *ctx,
                   struct tb_error *err);
/* Close the networks (before the relay that lent them a host is freed). */
void tb_config_close(struct tb_config *c);
/* Close, unload the modules, free everything; c is zeroed. */
void tb_config_fini(struct tb_config *c);

/* The loaded network called name, or NULL (borrowed). */
const struct tb_config_net *tb_config_net(const struct tb_config *c, const char *name);

/* One adapter outside the file's networks (verify): load opts (a JSON object, may be
 * NULL) against adapter name's option table, scope naming it in messages, and open
 * it without a host. Close with tb_config_net_close. */
int tb_config_adapter_open(const struct tb_config *c, const char *name, const struct tb_json *opts,
                           const char *scope, struct tb_config_net *out, struct tb_error *err);
void tb_config_net_close(struct tb_config_net *n);

/* The store the commands that read or repair it use: the flag, else relay.store
 * of relay (NULL: of file's "relay" section, read here). read_only as tb_store_open. */
int tb_config_store_open(const char *flag, const char *file, const struct tb_relay_opts *relay,
                         int read_only, struct tb_store *st, struct tb_error *err);

#endif
