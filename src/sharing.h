/* Routes and the sharing policy from the configuration, and the relay hooks
 * built on them: translate (native -> canonical through the route's mapping,
 * versioned against the store, validated against the WCO dictionary), policy
 * (per partner: types, MRA for aeo.status, dropped and hashed fields) and
 * outgoing (the route's reverse mapping, just before submit). Invariant: default
 * deny — a partner, type or MRA not in the configuration receives nothing; an
 * invalid translation is never routed. */
#ifndef TB_SHARING_H
#define TB_SHARING_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"
#include "lib/options.h"
#include "adapter.h"
#include "model/datapath.h"
#include "store/store.h"

#define TB_SHARING_MAX_ROUTES 64
#define TB_SHARING_MAX_PARTNERS 64
#define TB_SHARING_MAX_HISTORY 512 /* versions of one key looked at for the next one */

/* The "relay" section of the configuration (options table in sharing.c). */
struct tb_relay_opts {
	char *store, *key_file, *admin, *pub, *rep, *tls_cert, *tls_ca, *wco_dir;
	char *hash_salt; /* SECRET: $TRADEBRIDGE_RELAY_HASH_SALT */
	long long idle_ms, max_attempts, backoff_base_ms, backoff_max_ms, outbox_high_water,
		claim_max, log_every_ms;
	int reorg_auto_resume;
	int allow_remote;    /* the admin API may listen beyond loopback */
	int allow_plaintext; /* the receipts bus may use tcp:// beyond loopback (logged) */
};

struct tb_route_conf {
	char *from, *to;
	struct tb_strlist types;         /* native doctypes taken (empty: all) */
	char *mapping_path, *reverse_path; /* may be NULL */
	struct tb_mapping *map, *rev;
	struct tb_strlist allow_missing; /* dictionary elements the source cannot carry */
};

struct tb_partner {
	char *network, *country;
	struct tb_strlist types, drop, hash;
	struct tb_datapath *drop_paths, *hash_paths; /* drop and hash, parsed (owned) */
};

struct tb_sharing {
	const char *file;
	struct tb_relay_opts relay;
	struct tb_route_conf routes[TB_SHARING_MAX_ROUTES];
	size_t n_routes;
	struct tb_partner partners[TB_SHARING_MAX_PARTNERS];
	size_t n_partners;
	struct tb_json *mras; /* {"PE": ["CL", ...]}: issuer -> partners with an MRA (owned) */
	struct tb_dict *dict;
	struct tb_store *store; /* borrowed, set once the relay is open; NULL: version 1 */
};

/* --- reading the sections: config_sharing.c, part of the configuration path --- */

/* The relay section's options table (for describe and check-config). */
extern const struct tb_option tb_relay_options[];

/* Parse relay, routes, policies and mras of doc; with load_maps, load mappings and
 * the dictionary too. Every error names the file and member. */
int tb_sharing_load(struct tb_sharing *s, const struct tb_json *doc, const char *file,
                    int load_maps, struct tb_error *err);
void tb_sharing_fini(struct tb_sharing *s);

/* --- the policy and the hooks: sharing.c --- */

/* The partner policy for a network, or NULL (borrowed). */
const struct tb_partner *tb_sharing_partner(const struct tb_sharing *s, const char *network);
/* The issuers whose aeo.status the partner may receive (an MRA lists its country);
 * as a JSON array of strings (caller frees). */
struct tb_json *tb_sharing_mra_issuers(const struct tb_sharing *s, const struct tb_partner *p);

/* Relay hooks (ctx = struct tb_sharing *). */
int tb_sharing_translate(void *ctx, const char *network, const struct tb_native *in,
                         const struct tb_proof *proof, struct tb_json **out, struct tb_error *err);
int tb_sharing_policy(void *ctx, const char *destination, const struct tb_json *rec,
                      struct tb_json **out, struct tb_error *err);
/* The destination's native form of rec (as policy let it through) when its route
 * names a reverse mapping: *native (caller frees), handed to submit as
 * TB_FORM_NATIVE; *native NULL: no reverse mapping, submit gets the canonical record. */
int tb_sharing_outgoing(void *ctx, const char *destination, const struct tb_json *rec,
                        struct tb_json **native, struct tb_error *err);

#endif
