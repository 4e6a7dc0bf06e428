/* The sharing policy and the relay's translate/policy/outgoing hooks (see sharing.h);
 * the configuration's sections they work from are read in config_sharing.c.
 * Invariant: every path that is not an explicit allow in the configuration ends in
 * "not sent" — unknown partner, type, missing MRA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "lib/hex.h"
#include "model/dict.h"
#include "model/mapping.h"
#include "model/record.h"
#include "sharing.h"

static int has(const struct tb_strlist *l, const char *s)
{
	for (size_t i = 0; s && i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return 1;
	return 0;
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
