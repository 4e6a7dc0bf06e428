/* Routes, sharing policy and the relay's translate/policy/outgoing hooks (see sharing.h).
 * Each section is an options table loaded by the generic loader, so errors name
 * file, line and member. Invariant: every path that is not an explicit allow in
 * the configuration ends in "not sent" — unknown partner, type, missing MRA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "lib/hex.h"
#include "model/dict.h"
#include "model/mapping.h"
#include "model/record.h"
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

const struct tb_partner *tb_sharing_partner(const struct tb_sharing *s, const char *network)
{
	for (size_t i = 0; i < s->n_partners; i++)
		if (strcmp(s->partners[i].network, network) == 0)
			return &s->partners[i];
	return NULL;
}

static int json_has(const struct tb_json *arr, const char *s)
{
	for (size_t i = 0; s && i < tb_json_len(arr); i++) {
		const char *v = tb_json_string(tb_json_at(arr, i));
		if (v && strcmp(v, s) == 0)
			return 1;
	}
	return 0;
}

struct tb_json *tb_sharing_mra_issuers(const struct tb_sharing *s, const struct tb_partner *p)
{
	struct tb_json *a = tb_json_new_array();
	for (size_t i = 0; a && p->country && i < tb_json_len(s->mras); i++) {
		const struct tb_json_member *m = &s->mras->u.object.members[i];
		if (json_has(m->value, p->country) &&
		    tb_json_array_push(a, tb_json_new_string(m->key, strlen(m->key)))) {
			tb_json_free(a);
			return NULL;
		}
	}
	return a;
}

/* --- translate ------------------------------------------------------------------- */

static const struct tb_route_conf *route_for(const struct tb_sharing *s, const char *from,
                                             const char *doctype)
{
	for (size_t i = 0; i < s->n_routes; i++)
		if (strcmp(s->routes[i].from, from) == 0 &&
		    (!s->routes[i].types.len || has(&s->routes[i].types, doctype)))
			return &s->routes[i];
	return NULL;
}

static int set_str(struct tb_json *o, const char *k, const char *v)
{
	struct tb_json *j = tb_json_new_string(v, strlen(v));
	return j ? tb_json_object_set(o, k, strlen(k), j) : TB_ENOMEM;
}

static const char *verdict_name(enum tb_verdict v)
{
	return v == TB_VALID ? "VALID" : v == TB_INVALID ? "INVALID" : "UNKNOWN";
}

/* Where the record came from, in its envelope (the mapping set "kind"). */
static int set_source(struct tb_json *rec, const char *network, const struct tb_native *in,
                      const struct tb_proof *p)
{
	struct tb_json *src = tb_json_get(rec, "source");
	if (!src) {
		src = tb_json_new_object();
		if (!src || tb_json_object_set(rec, "source", 6, src))
			return TB_ENOMEM;
	}
	int rc = set_str(src, "network", network);
	rc = rc ? rc : set_str(src, "locator", in->locator);
	rc = rc ? rc : set_str(src, "doctype", in->doctype);
	rc = rc ? rc : set_str(src, "verdict", verdict_name(p->verdict));
	rc = rc ? rc : set_str(src, "proof", p->kind);
	return rc;
}

/* Version n+1 of the key, superseding the latest stored version. */
static int set_version(struct tb_sharing *s, struct tb_json *rec, struct tb_error *err)
{
	const char *key = tb_json_string(tb_json_get(rec, "key"));
	if (!s->store || !key)
		return 0;
	struct tb_store_record *h = calloc(TB_SHARING_MAX_HISTORY, sizeof *h);
	size_t n = 0;
	int rc = h ? s->store->ops->record_history(s->store->state, key, h, TB_SHARING_MAX_HISTORY,
	                                           &n, err)
	           : tb_error_set(err, TB_ENOMEM, "out of memory");
	if (rc == 0 && n == TB_SHARING_MAX_HISTORY)
		rc = tb_error_set(err, TB_ELIMIT, "translate: key %s already has %d versions, the most "
		                  "the relay keeps for one key: this one is kept INVALID, not delivered",
		                  key, TB_SHARING_MAX_HISTORY);
	size_t last = n;
	for (size_t i = 0; rc == 0 && i < n; i++) /* the newest valid version is superseded */
		if (strcmp(h[i].verdict, "VALID") == 0)
			last = i;
	if (rc == 0 && last < n) {
		const char *id = h[last].record_id;
		id = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
		rc = tb_json_object_set(rec, "version", 7, tb_json_new_number((double)h[last].version + 1));
		rc = rc ? rc : set_str(rec, "supersedes", id);
	}
	for (size_t i = 0; h && i < n; i++)
		tb_store_record_fini(&h[i]);
	free(h);
	return rc;
}

static int allowed_missing(const struct tb_route_conf *r, const struct tb_violation *v)
{
	return v->kind == TB_VIOL_REQUIRED && v->element && has(&r->allow_missing, v->element);
}

/* 0, or TB_EINVAL with every violation the route does not allow in err. */
static int check_record(const struct tb_sharing *s, const struct tb_route_conf *r,
                        const struct tb_json *rec, struct tb_error *err)
{
	struct tb_violations v = {0};
	if (tb_record_validate(s->dict, rec, &v))
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	struct tb_buf b;
	tb_buf_init(&b, TB_ERROR_MAX - 64);
	size_t bad = 0;
	for (size_t i = 0; i < v.len; i++) {
		if (allowed_missing(r, &v.items[i]))
			continue;
		if (bad++ < 8)
			tb_buf_printf(&b, "%s%s: %s: expected %s", bad > 1 ? "; " : "", v.items[i].path,
			              tb_violation_kind_name(v.items[i].kind), v.items[i].expected);
	}
	int rc = bad ? tb_error_set(err, TB_EINVAL, "translation by %s is invalid (%zu "
	                            "violation%s): %s", r->mapping_path, bad, bad > 1 ? "s" : "",
	                            b.len ? (const char *)b.data : "")
	             : 0;
	tb_buf_fini(&b);
	tb_violations_fini(&v);
	return rc;
}

int tb_sharing_translate(void *ctx, const char *network, const struct tb_native *in,
                         const struct tb_proof *proof, struct tb_json **out, struct tb_error *err)
{
	struct tb_sharing *s = ctx;
	const struct tb_route_conf *r = route_for(s, network, in->doctype);
	struct tb_mapping_ctx mc = {s->relay.hash_salt,
	                            s->relay.hash_salt ? strlen(s->relay.hash_salt) : 0};
	struct tb_json *rec = NULL;
	int rc;
	*out = NULL;
	if (r && r->map) {
		rc = tb_mapping_to_record(r->map, &mc, in->doc, &rec, err);
	} else { /* no mapping: the native record travels wrapped as it is */
		rec = tb_json_new_object();
		struct tb_json *data = in->doc ? tb_json_clone(in->doc) : tb_json_new_null();
		rc = rec && data ? 0 : TB_ENOMEM;
		rc = rc ? rc : set_str(rec, "schema", TB_RECORD_SCHEMA);
		rc = rc ? rc : set_str(rec, "type", in->doctype);
		rc = rc ? rc : set_str(rec, "key", in->locator);
		rc = rc ? rc : tb_json_object_set(rec, "data", 4, data);
		if (rc)
			rc = tb_error_set(err, TB_ENOMEM, "translate: out of memory");
	}
	if (rc == TB_EINVAL && !rec)
		tb_error_prefix(err, "translation");
	rc = rc ? rc : set_source(rec, network, in, proof);
	rc = rc ? rc : set_version(s, rec, err);
	if (rc == 0 && r && r->map)
		rc = check_record(s, r, rec, err);
	*out = rec; /* also when invalid: the relay keeps it with the reasons */
	return rc;
}

/* --- policy ---------------------------------------------------------------------- */

static struct tb_json *salted(const char *salt, const char *v, size_t n)
{
	struct tb_buf b;
	uint8_t d[32];
	char out[72] = "sha256:";
	tb_buf_init(&b, 0);
	if (tb_buf_puts(&b, salt) || tb_buf_putc(&b, 0) || tb_buf_append(&b, v, n)) {
		tb_buf_fini(&b);
		return NULL;
	}
	tb_sha256(b.data, b.len, d);
	explicit_bzero(b.data, b.len);
	tb_buf_fini(&b);
	tb_hex_encode(d, 32, out + 7);
	return tb_json_new_string(out, strlen(out));
}

static int drop_value(void *ctx, const struct tb_json *v, struct tb_json **repl,
                      struct tb_error *err)
{
	(void)ctx, (void)v, (void)err;
	*repl = NULL;
	return 0;
}

/* A string is hashed as its text; anything else as its RFC 8785 form. */
static int hash_value(void *ctx, const struct tb_json *v, struct tb_json **repl,
                      struct tb_error *err)
{
	const struct tb_sharing *s = ctx;
	struct tb_buf text;
	tb_buf_init(&text, 0);
	int rc = v->type == TB_JSON_STRING ? tb_buf_append(&text, v->u.string.ptr, v->u.string.len)
	                                   : tb_json_write_canonical(v, &text, err);
	*repl = rc ? NULL : salted(s->relay.hash_salt, (const char *)text.data, text.len);
	if (text.data)
		explicit_bzero(text.data, text.len);
	tb_buf_fini(&text);
	return *repl ? 0 : tb_error_set(err, TB_ENOMEM, "policy: out of memory");
}

static int filter(const struct tb_sharing *s, const struct tb_partner *p, struct tb_json *data,
                  struct tb_error *err)
{
	int rc = 0; /* hashes first: a hashed parent must not hold a dropped child's hole */
	for (size_t i = 0; rc == 0 && i < p->hash.len; i++)
		rc = tb_datapath_apply(&p->hash_paths[i], data, hash_value, (void *)s, NULL, err);
	for (size_t i = 0; rc == 0 && i < p->drop.len; i++)
		rc = tb_datapath_apply(&p->drop_paths[i], data, drop_value, NULL, NULL, err);
	int sw = tb_datapath_sweep(data); /* only now: [N] meant the record as it came */
	return rc ? rc : sw ? tb_error_set(err, sw, "policy: out of memory") : 0;
}

/* aeo.status: only to an administration with an MRA with the issuer: configured,
 * or listed by the record itself (canonical AEOCertificate.MutualRecognitionPartner
 * CountryCode, or data.mraPartners in a record wrapped without a mapping). */
static int mra_ok(const struct tb_sharing *s, const struct tb_partner *p, const struct tb_json *rec)
{
	const struct tb_json *data = tb_json_get(rec, "data");
	const char *issuer = tb_json_string(tb_json_get(tb_json_get(
		tb_json_get(data, "AEOCertificate"), "IssuingAuthority"), "CountryCode"));
	if (!issuer)
		issuer = tb_json_string(tb_json_get(data, "issuer"));
	if (!p->country || !issuer)
		return 0;
	if (json_has(tb_json_get(s->mras, issuer), p->country) ||
	    json_has(tb_json_get(data, "mraPartners"), p->country))
		return 1;
	const struct tb_json *mrp = tb_json_get(tb_json_get(data, "AEOCertificate"),
	                                        "MutualRecognitionPartner");
	for (size_t i = 0; i < tb_json_len(mrp); i++) {
		const char *cc = tb_json_string(tb_json_get(tb_json_at(mrp, i), "CountryCode"));
		if (cc && strcmp(cc, p->country) == 0)
			return 1;
	}
	return 0;
}

static const struct tb_route_conf *route_to(const struct tb_sharing *s, const char *from,
                                            const char *to, const char *doctype)
{
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct tb_route_conf *r = &s->routes[i];
		if (strcmp(r->from, from) == 0 && strcmp(r->to, to) == 0 &&
		    (!r->types.len || has(&r->types, doctype)))
			return r;
	}
	return NULL;
}

int tb_sharing_policy(void *ctx, const char *destination, const struct tb_json *rec,
                      struct tb_json **out, struct tb_error *err)
{
	const struct tb_sharing *s = ctx;
	const struct tb_json *src = tb_json_get(rec, "source");
	const char *type = tb_json_string(tb_json_get(rec, "type"));
	const char *from = tb_json_string(tb_json_get(src, "network"));
	const char *doctype = tb_json_string(tb_json_get(src, "doctype"));
	const struct tb_partner *p = tb_sharing_partner(s, destination);
	const struct tb_route_conf *r = from && doctype ? route_to(s, from, destination, doctype)
	                                                : NULL;
	*out = NULL;
	if (!p || !r || !type || !has(&p->types, type))
		return 0;
	if (strcmp(type, "aeo.status") == 0 && !mra_ok(s, p, rec))
		return 0;
	struct tb_json *copy = tb_json_clone(rec);
	if (!copy)
		return tb_error_set(err, TB_ENOMEM, "policy: out of memory");
	int rc = filter(s, p, tb_json_get(copy, "data"), err);
	if (rc) {
		tb_json_free(copy);
		return rc;
	}
	*out = copy;
	return 0;
}

/* --- outgoing -------------------------------------------------------------------- */

int tb_sharing_outgoing(void *ctx, const char *destination, const struct tb_json *rec,
                        struct tb_json **native, struct tb_error *err)
{
	const struct tb_sharing *s = ctx;
	const struct tb_json *src = tb_json_get(rec, "source");
	const char *from = tb_json_string(tb_json_get(src, "network"));
	const char *doctype = tb_json_string(tb_json_get(src, "doctype"));
	const struct tb_route_conf *r = from && doctype ? route_to(s, from, destination, doctype)
	                                                : NULL;
	*native = NULL;
	if (!r || !r->rev)
		return 0; /* the destination takes the canonical record */
	struct tb_mapping_ctx mc = {s->relay.hash_salt,
	                            s->relay.hash_salt ? strlen(s->relay.hash_salt) : 0};
	int rc = tb_mapping_reverse_record(r->rev, &mc, rec, native, err);
	if (rc)
		tb_error_prefix(err, "reverse mapping %s for %s", r->reverse_path, destination);
	return rc;
}
