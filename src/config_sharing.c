/* The sharing sections of the configuration file, read for the configuration path
 * (config.c) and for the commands that only need them (backfill): "relay",
 * "routes", "policies", "mras", with the mappings and the dictionary they name.
 * Each section is an options table loaded by the generic loader, so errors name
 * file, line and member. Invariant: a policy path or allow_missing element that
 * names nothing in the dictionary is refused here, never silently kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/dict.h"
#include "model/mapping.h"
#include "sharing.h"

#define O(f) offsetof(struct tb_relay_opts, f)
const struct tb_option tb_relay_options[] = {
	{TB_OPT_STRING, "store", NULL, 0, O(store), "the relay's SQLite store (created if missing)",
	 0, 0},
	{TB_OPT_STRING, "key_file", NULL, 0, O(key_file),
	 "the relay's signing key (tradebridge keygen; mode 0600)", 0, 0},
	{TB_OPT_STRING, "admin", "\"127.0.0.1:9464\"", 0, O(admin),
	 "admin API listen address (loopback; token from $TRADEBRIDGE_ADMIN_TOKEN)", 0, 0},
	{TB_OPT_BOOL, "allow_remote", "false", 0, O(allow_remote),
	 "let the admin API listen on a non-loopback address", 0, 0},
	{TB_OPT_STRING, "pub", NULL, 0, O(pub), "receipts PUB socket URL (ipc://, tls+tcp://)", 0, 0},
	{TB_OPT_STRING, "rep", NULL, 0, O(rep), "receipts replay REP socket URL", 0, 0},
	{TB_OPT_BOOL, "allow_plaintext", "false", 0, O(allow_plaintext),
	 "let the receipts bus use plain tcp:// beyond loopback (logged at start)", 0, 0},
	{TB_OPT_STRING, "tls_cert", NULL, 0, O(tls_cert), "certificate+key PEM for tls+tcp://", 0, 0},
	{TB_OPT_STRING, "tls_ca", NULL, 0, O(tls_ca), "pinned peer certificates PEM", 0, 0},
	{TB_OPT_STRING, "wco_dir", NULL, 0, O(wco_dir),
	 "WCO dictionary directory (default $TRADEBRIDGE_WCO_DIR or installed)", 0, 0},
	{TB_OPT_SECRET, "hash_salt", NULL, 0, O(hash_salt),
	 "salt of hashed fields and pseudonymising mappings (set $TRADEBRIDGE_RELAY_HASH_SALT)", 0,
	 0},
	{TB_OPT_DURATION, "idle", "500", 0, O(idle_ms), "sleep when a step had nothing to do", 1,
	 60000},
	{TB_OPT_INT, "max_attempts", "8", 0, O(max_attempts),
	 "delivery attempts before a row becomes a dead letter", 1, 1000},
	{TB_OPT_DURATION, "backoff_base", "1000", 0, O(backoff_base_ms),
	 "first retry delay (doubles, with jitter)", 1, 3600000},
	{TB_OPT_DURATION, "backoff_max", "300000", 0, O(backoff_max_ms), "longest retry delay", 1,
	 86400000},
	{TB_OPT_INT, "outbox_high_water", "10000", 0, O(outbox_high_water),
	 "ingest pauses while this many rows wait for delivery", 1, 10000000},
	{TB_OPT_INT, "claim_max", "64", 0, O(claim_max), "outbox rows per delivery round", 1, 1024},
	{TB_OPT_DURATION, "log_every", "60000", 0, O(log_every_ms),
	 "a fault that repeats (source down, store full) is logged again after this", 100,
	 86400000},
	{TB_OPT_BOOL, "reorg_auto_resume", "false", 0, O(reorg_auto_resume),
	 "after a re-org deeper than a source's confirmations, resume from the common ancestor "
	 "at once (false: wait for tradebridge cursor reset)", 0, 0},
	TB_OPT_END,
};
#undef O

#define R(f) offsetof(struct tb_route_conf, f)
static const struct tb_option route_options[] = {
	{TB_OPT_STRING, "from", NULL, TB_OPT_REQUIRED, R(from), "source network", 0, 0},
	{TB_OPT_STRING, "to", NULL, TB_OPT_REQUIRED, R(to), "destination network", 0, 0},
	{TB_OPT_STRLIST, "types", "[]", 0, R(types), "native document types taken (empty: all)", 0,
	 0},
	{TB_OPT_STRING, "mapping", NULL, 0, R(mapping_path),
	 "mapping file native -> canonical (none: the native record is wrapped as is)", 0, 0},
	{TB_OPT_STRING, "reverse", NULL, 0, R(reverse_path),
	 "reversible mapping: the destination gets canonical data mapped back to native", 0, 0},
	{TB_OPT_STRLIST, "allow_missing", "[]", 0, R(allow_missing),
	 "required dictionary elements the source cannot carry (their absence is not invalid)", 0,
	 0},
	TB_OPT_END,
};
#undef R

#define P(f) offsetof(struct tb_partner, f)
static const struct tb_option partner_options[] = {
	{TB_OPT_STRING, "country", NULL, 0, P(country),
	 "ISO 3166 code of the partner administration (for MRAs)", 0, 0},
	{TB_OPT_STRLIST, "types", "[]", 0, P(types), "record types it may receive", 0, 0},
	{TB_OPT_STRLIST, "drop", "[]", 0, P(drop),
	 "data fields removed (A.B.C from the root class; [] every repeat, [N] one; no index "
	 "through a repeat means every repeat)", 0, 0},
	{TB_OPT_STRLIST, "hash", "[]", 0, P(hash),
	 "data fields replaced by sha256(salt, 0, value) (paths as for drop)", 0, 0},
	TB_OPT_END,
};
#undef P

static int has(const struct tb_strlist *l, const char *s)
{
	for (size_t i = 0; s && i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return 1;
	return 0;
}

static int load_routes(struct tb_sharing *s, const struct tb_json *routes, struct tb_error *err)
{
	if (!routes || routes->type == TB_JSON_NULL)
		return 0;
	if (routes->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: routes: expected an array of {\"from\", "
		                    "\"to\", \"types\", \"mapping\"}", s->file, routes->line);
	if (tb_json_len(routes) > TB_SHARING_MAX_ROUTES)
		return tb_error_set(err, TB_ELIMIT, "%s: routes: more than %d", s->file,
		                    TB_SHARING_MAX_ROUTES);
	for (size_t i = 0; i < tb_json_len(routes); i++) {
		char scope[32];
		snprintf(scope, sizeof scope, "routes[%zu]", i);
		struct tb_opt_source src = {.file = s->file, .scope = scope};
		int rc = tb_options_load(route_options, tb_json_at(routes, i), &src, NULL,
		                         &s->routes[i], err);
		if (rc)
			return rc;
		s->n_routes++;
	}
	return 0;
}

/* Parse one partner's drop or hash list; errors name the member and the item. */
static int parse_paths(const struct tb_sharing *s, const char *scope, const char *what,
                       const struct tb_strlist *l, struct tb_datapath **out, unsigned line,
                       struct tb_error *err)
{
	*out = l->len ? calloc(l->len, sizeof **out) : NULL;
	if (l->len && !*out)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	for (size_t i = 0; i < l->len; i++) {
		int rc = tb_datapath_parse(l->items[i], &(*out)[i], err);
		if (rc == TB_EINVAL)
			err->code = rc = TB_ECONFIG;
		if (rc) {
			tb_error_prefix(err, "%s:%u: %s.%s[%zu]", s->file, line, scope, what, i);
			return rc;
		}
	}
	return 0;
}

static void free_paths(struct tb_datapath *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		tb_datapath_fini(&p[i]);
	free(p);
}

static int load_partners(struct tb_sharing *s, const struct tb_json *pol, struct tb_error *err)
{
	if (!pol || pol->type == TB_JSON_NULL)
		return 0;
	if (pol->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: policies: expected an object of partner "
		                    "network -> {\"types\", \"country\", \"drop\", \"hash\"}", s->file,
		                    pol->line);
	if (tb_json_len(pol) > TB_SHARING_MAX_PARTNERS)
		return tb_error_set(err, TB_ELIMIT, "%s: policies: more than %d partners", s->file,
		                    TB_SHARING_MAX_PARTNERS);
	for (size_t i = 0; i < tb_json_len(pol); i++) {
		const struct tb_json_member *m = &pol->u.object.members[i];
		char scope[96];
		snprintf(scope, sizeof scope, "policies.%.80s", m->key);
		struct tb_opt_source src = {.file = s->file, .scope = scope};
		struct tb_partner *p = &s->partners[i];
		int rc = tb_options_load(partner_options, m->value, &src, NULL, p, err);
		if (rc)
			return rc;
		s->n_partners++;
		p->network = strdup(m->key);
		if (!p->network)
			return tb_error_set(err, TB_ENOMEM, "out of memory");
		rc = parse_paths(s, scope, "drop", &p->drop, &p->drop_paths, m->value->line, err);
		rc = rc ? rc : parse_paths(s, scope, "hash", &p->hash, &p->hash_paths, m->value->line,
		                           err);
		if (rc)
			return rc;
		if (p->hash.len && !s->relay.hash_salt)
			return tb_error_set(err, TB_ECONFIG, "%s:%u: %s.hash: hashed fields need a salt: "
			                    "set $TRADEBRIDGE_RELAY_HASH_SALT", s->file, m->value->line,
			                    scope);
		if (has(&p->types, "aeo.status") && !p->country)
			return tb_error_set(err, TB_ECONFIG, "%s:%u: %s: aeo.status needs the partner's "
			                    "\"country\" (MRAs are between administrations)", s->file,
			                    m->value->line, scope);
	}
	return 0;
}

static int load_mras(struct tb_sharing *s, const struct tb_json *mras, struct tb_error *err)
{
	if (!mras || mras->type == TB_JSON_NULL)
		return 0;
	int ok = mras->type == TB_JSON_OBJECT;
	for (size_t i = 0; ok && i < tb_json_len(mras); i++) {
		const struct tb_json *l = mras->u.object.members[i].value;
		ok = l->type == TB_JSON_ARRAY;
		for (size_t k = 0; ok && k < tb_json_len(l); k++)
			ok = tb_json_string(tb_json_at(l, k)) != NULL;
	}
	if (!ok)
		return tb_error_set(err, TB_ECONFIG, "%s:%u: mras: expected {ISSUER: [PARTNER COUNTRY, "
		                    "...]}, e.g. {\"PE\": [\"CL\", \"CO\"]}", s->file, mras->line);
	s->mras = tb_json_clone(mras);
	return s->mras ? 0 : tb_error_set(err, TB_ENOMEM, "out of memory");
}

/* Every route from one network takes a doctype through one mapping. */
static int check_routes(struct tb_sharing *s, struct tb_error *err)
{
	for (size_t i = 0; i < s->n_routes; i++)
		for (size_t k = 0; k < i; k++) {
			const struct tb_route_conf *a = &s->routes[i], *b = &s->routes[k];
			const char *ma = a->mapping_path ? a->mapping_path : "";
			const char *mb = b->mapping_path ? b->mapping_path : "";
			int overlap = !a->types.len || !b->types.len;
			for (size_t t = 0; !overlap && t < a->types.len; t++)
				overlap = has(&b->types, a->types.items[t]);
			if (strcmp(a->from, b->from) == 0 && overlap && strcmp(ma, mb) != 0)
				return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu] and routes[%zu] take the "
				                    "same document type from %s through different mappings; "
				                    "a record has one canonical form", s->file, k, i, a->from);
		}
	return 0;
}

/* A path must name an element of at least one record type the partner takes:
 * otherwise it would drop or hash nothing while the configuration says it does. */
static int check_path(const struct tb_sharing *s, const struct tb_partner *p, const char *what,
                      size_t k, const struct tb_datapath *dp, struct tb_error *err)
{
	char why[512] = "", one[256];
	size_t schemas = 0;
	for (size_t t = 0; t < p->types.len; t++) {
		int ok = tb_datapath_check(dp, s->dict, p->types.items[t], one, sizeof one);
		if (ok == 1)
			return 0;
		schemas += ok == 0;
		if (ok == 0)
			snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s", why[0] ? "; " : "",
			         one);
	}
	const char *path = (what[0] == 'd' ? p->drop : p->hash).items[k];
	if (!p->types.len)
		snprintf(why, sizeof why, "the partner takes no record type (policies.%s.types)",
		         p->network);
	else if (!schemas)
		snprintf(why, sizeof why, "none of its types has a schema in the dictionary's types/ "
		         "(records wrapped without a mapping have none), so it cannot be checked");
	return tb_error_set(err, TB_ECONFIG, "%s: policies.%s.%s[%zu]: \"%s\" matches nothing in "
	                    "the record types this partner receives: %s", s->file, p->network, what,
	                    k, path, why);
}

static int check_partner_paths(const struct tb_sharing *s, const struct tb_partner *p,
                               struct tb_error *err)
{
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < p->drop.len; k++)
		rc = check_path(s, p, "drop", k, &p->drop_paths[k], err);
	for (size_t k = 0; rc == 0 && k < p->hash.len; k++)
		rc = check_path(s, p, "hash", k, &p->hash_paths[k], err);
	return rc;
}

/* allow_missing names dictionary elements: a misspelt one would tolerate nothing. */
static int check_allow_missing(const struct tb_sharing *s, size_t i, struct tb_error *err)
{
	const struct tb_strlist *l = &s->routes[i].allow_missing;
	for (size_t k = 0; k < l->len; k++)
		if (!tb_dict_element(s->dict, l->items[k], NULL))
			return tb_error_set(err, TB_ECONFIG, "%s: routes[%zu].allow_missing[%zu]: \"%s\" is "
			                    "not an element of the dictionary (A.B.C from a record type's "
			                    "root, e.g. AEOCertificate.Holder)", s->file, i, k, l->items[k]);
	return 0;
}

static int load_maps(struct tb_sharing *s, struct tb_error *err)
{
	for (size_t i = 0; i < s->n_routes; i++) {
		struct tb_route_conf *r = &s->routes[i];
		int rc = r->mapping_path ? tb_mapping_load(r->mapping_path, &r->map, err) : 0;
		rc = rc ? rc : r->reverse_path ? tb_mapping_load(r->reverse_path, &r->rev, err) : 0;
		if (rc == 0 && r->rev && !tb_mapping_reversible(r->rev))
			rc = tb_error_set(err, TB_ECONFIG, "routes[%zu].reverse: mapping %s is not "
			                  "reversible", i, r->reverse_path);
		if (rc) {
			tb_error_prefix(err, "%s: routes[%zu]", s->file, i);
			return rc;
		}
	}
	int needed = 0; /* to validate translations, or to check policy paths */
	for (size_t i = 0; i < s->n_routes; i++)
		needed |= s->routes[i].map != NULL;
	for (size_t i = 0; i < s->n_partners; i++)
		needed |= s->partners[i].drop.len || s->partners[i].hash.len;
	if (!needed) /* records wrapped as they are, no field policy: nothing to check */
		return 0;
	const char *dir = s->relay.wco_dir ? s->relay.wco_dir : tb_dict_default_dir();
	int rc = tb_dict_load(dir, &s->dict, err);
	for (size_t i = 0; rc == 0 && i < s->n_partners; i++)
		rc = check_partner_paths(s, &s->partners[i], err);
	for (size_t i = 0; rc == 0 && i < s->n_routes; i++)
		rc = check_allow_missing(s, i, err);
	return rc;
}

int tb_sharing_load(struct tb_sharing *s, const struct tb_json *doc, const char *file,
                    int maps, struct tb_error *err)
{
	memset(s, 0, sizeof *s);
	s->file = file;
	struct tb_opt_source src = {.file = file, .scope = "relay",
	                            .env_prefix = "TRADEBRIDGE_RELAY_"};
	int rc = tb_options_load(tb_relay_options, tb_json_get(doc, "relay"), &src, NULL, &s->relay,
	                         err);
	rc = rc ? rc : load_routes(s, tb_json_get(doc, "routes"), err);
	rc = rc ? rc : check_routes(s, err);
	rc = rc ? rc : load_partners(s, tb_json_get(doc, "policies"), err);
	rc = rc ? rc : load_mras(s, tb_json_get(doc, "mras"), err);
	rc = rc ? rc : maps ? load_maps(s, err) : 0;
	if (rc)
		tb_sharing_fini(s);
	return rc;
}

void tb_sharing_fini(struct tb_sharing *s)
{
	tb_options_fini(tb_relay_options, &s->relay);
	for (size_t i = 0; i < s->n_routes; i++) {
		tb_mapping_free(s->routes[i].map);
		tb_mapping_free(s->routes[i].rev);
		tb_options_fini(route_options, &s->routes[i]);
	}
	for (size_t i = 0; i < s->n_partners; i++) {
		free(s->partners[i].network);
		free_paths(s->partners[i].drop_paths, s->partners[i].drop.len);
		free_paths(s->partners[i].hash_paths, s->partners[i].hash.len);
		tb_options_fini(partner_options, &s->partners[i]);
	}
	tb_json_free(s->mras);
	tb_dict_free(s->dict);
	memset(s, 0, sizeof *s);
}

