/* Canonical record envelope: id computation and envelope checks. Invariant: the
 * id covers every member of the record exactly as RFC 8785 serialises it, so
 * adding or reordering nothing changes it and changing anything does. */
#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/hex.h"
#include "model/record.h"

int tb_record_id(const struct tb_json *record, char hex[65], struct tb_error *err)
{
	struct tb_buf b;
	uint8_t sha[32];
	tb_buf_init(&b, 0);
	int rc = tb_json_write_canonical(record, &b, err);
	if (!rc) {
		tb_sha256(b.data ? b.data : (const uint8_t *)"", b.len, sha);
		tb_hex_encode(sha, 32, hex);
	}
	tb_buf_fini(&b);
	return rc;
}

static int is_record_id(const struct tb_json *j)
{
	const char *s = tb_json_string(j);
	if (!s || j->u.string.len != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int env(struct tb_violations *v, const char *path, const char *expected)
{
	return tb_violations_add(v, TB_VIOL_ENVELOPE, path, NULL, NULL, expected);
}

static int check_links(const struct tb_json *links, struct tb_violations *v)
{
	int rc = 0;
	if (links->type != TB_JSON_ARRAY)
		return env(v, "$.links", "an array of {\"rel\", \"id\"}");
	for (size_t i = 0; i < links->u.array.len && !rc; i++) {
		const struct tb_json *l = links->u.array.items[i];
		char path[64];
		snprintf(path, sizeof path, "$.links[%zu]", i);
		if (l->type != TB_JSON_OBJECT || !tb_json_string(tb_json_get(l, "rel")) ||
		    !is_record_id(tb_json_get(l, "id")))
			rc = env(v, path, "{\"rel\": string, \"id\": record id (64 lower-case hex)}");
	}
	return rc;
}

static int check_version(const struct tb_json *r, struct tb_violations *v)
{
	const struct tb_json *ver = tb_json_get(r, "version");
	const struct tb_json *sup = tb_json_get(r, "supersedes");
	double n = ver && ver->type == TB_JSON_NUMBER ? ver->u.number.value : 0;
	if (!ver)
		return tb_violations_add(v, TB_VIOL_REQUIRED, "$.version", NULL, NULL,
		                         "present (integer >= 1)");
	if (n < 1 || n > 9007199254740991.0 || n != (double)(long long)n)
		return env(v, "$.version", "an integer >= 1");
	if (n > 1 && !sup)
		return tb_violations_add(v, TB_VIOL_REQUIRED, "$.supersedes", NULL, NULL,
		                         "present when version > 1 (id of the previous version)");
	if (n == 1 && sup)
		return env(v, "$.supersedes", "absent for version 1 (nothing to supersede)");
	if (sup && !is_record_id(sup))
		return env(v, "$.supersedes", "a record id (64 lower-case hex)");
	return 0;
}

static int check_members(const struct tb_json *r, struct tb_violations *v)
{
	static const char *const known[] = {"schema", "type",   "key",     "version", "supersedes",
	                                    "links",  "source", "mapping", "data"};
	int rc = 0;
	for (size_t i = 0; i < r->u.object.len && !rc; i++) {
		size_t k = 0;
		while (k < sizeof known / sizeof known[0] && strcmp(known[k], r->u.object.members[i].key))
			k++;
		if (k < sizeof known / sizeof known[0])
			continue;
		char path[300];
		snprintf(path, sizeof path, "$.%.280s", r->u.object.members[i].key);
		rc = env(v, path, "only schema, type, key, version, supersedes, links, source, mapping, data");
	}
	return rc;
}

static int check_mapping(const struct tb_json *m, struct tb_violations *v)
{
	if (m->type != TB_JSON_OBJECT || !tb_json_string(tb_json_get(m, "id")) ||
	    !tb_json_string(tb_json_get(m, "version")))
		return env(v, "$.mapping", "{\"id\": string, \"version\": string}");
	return 0;
}

int tb_record_validate(const struct tb_dict *d, const struct tb_json *r, struct tb_violations *v)
{
	if (!r || r->type != TB_JSON_OBJECT)
		return env(v, "$", "a record object");
	const char *schema = tb_json_string(tb_json_get(r, "schema"));
	const char *type = tb_json_string(tb_json_get(r, "type"));
	const struct tb_json *key = tb_json_get(r, "key");
	int rc = check_members(r, v);
	if (!rc && (!schema || strcmp(schema, TB_RECORD_SCHEMA) != 0))
		rc = env(v, "$.schema", "\"" TB_RECORD_SCHEMA "\"");
	if (!rc && !type)
		rc = tb_violations_add(v, TB_VIOL_REQUIRED, "$.type", NULL, NULL, "present (record type)");
	if (!rc && (!tb_json_string(key) || key->u.string.len == 0 ||
	            key->u.string.len > TB_RECORD_KEY_MAX ||
	            memchr(key->u.string.ptr, 0, key->u.string.len)))
		rc = env(v, "$.key", "a non-empty string of at most 255 bytes without NUL (the business "
		         "key)");
	rc = rc ? rc : check_version(r, v);
	if (!rc && tb_json_get(r, "links"))
		rc = check_links(tb_json_get(r, "links"), v);
	if (!rc && tb_json_get(r, "mapping"))
		rc = check_mapping(tb_json_get(r, "mapping"), v);
	if (!rc && tb_json_get(r, "source") && tb_json_get(r, "source")->type != TB_JSON_OBJECT)
		rc = env(v, "$.source", "an object (network, locator, observed, proof)");
	if (!rc && type)
		rc = tb_dict_validate_data(d, type, tb_json_get(r, "data"), "$.data", v);
	return rc;
}

static int set_str(struct tb_json *o, const char *k, const char *s)
{
	return tb_json_object_set(o, k, strlen(k), tb_json_new_string(s, strlen(s)));
}

struct tb_json *tb_record_new(const char *type, const char *key, const char *mapping_id,
                              const char *mapping_version, const char *source_kind,
                              struct tb_json *data)
{
	struct tb_json *r = tb_json_new_object(), *m = tb_json_new_object(),
	               *s = tb_json_new_object();
	int rc = !r || !m || !s;
	rc = rc || set_str(r, "schema", TB_RECORD_SCHEMA) || set_str(r, "type", type) ||
	     set_str(r, "key", key) ||
	     tb_json_object_set(r, "version", 7, tb_json_new_number(1));
	rc = rc || set_str(s, "kind", source_kind);
	rc = rc || set_str(m, "id", mapping_id) || set_str(m, "version", mapping_version);
	if (!rc) {
		rc = tb_json_object_set(r, "source", 6, s);
		s = NULL;
	}
	if (!rc) {
		rc = tb_json_object_set(r, "mapping", 7, m);
		m = NULL;
	}
	if (!rc) {
		rc = tb_json_object_set(r, "data", 4, data);
		data = NULL;
	}
	if (rc) {
		tb_json_free(r);
		r = NULL;
	}
	tb_json_free(m);
	tb_json_free(s);
	tb_json_free(data);
	return r;
}
