/* The sharing policy and the translate hook as a partner sees them: default deny
 * (no policy, type not listed, no MRA), the MRA from the configuration or from the
 * record, dropped and salted-hash fields, and a CADENA event translated through
 * mappings/cadena-aeo.json into a valid aeo.status — invalid without the route's
 * allow_missing, which the relay then keeps and never routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/record.h"
#include "sharing.h"

static struct tb_json *parse(const char *text)
{
	struct tb_json *j = NULL;
	struct tb_error e;
	if (tb_json_parse(text, strlen(text), NULL, &j, &e) != 0)
		fail_msg("test JSON: %s", e.msg);
	return j;
}

static const char config[] =
	"{\"routes\": [{\"from\": \"pe\", \"to\": \"cl\", \"types\": [\"cadena.aeo.status\"]},"
	"              {\"from\": \"pe\", \"to\": \"kr\", \"types\": [\"cadena.aeo.status\"]},"
	"              {\"from\": \"pe\", \"to\": \"us\", \"types\": [\"cadena.aeo.status\"]}],"
	" \"policies\": {\"cl\": {\"country\": \"CL\", \"types\": [\"aeo.status\"],"
	"                      \"drop\": [\"holder.address\", \"notes\", \"no.such\"],"
	"                      \"hash\": [\"holder.id\"]},"
	"              \"kr\": {\"country\": \"KR\", \"types\": [\"aeo.status\"]},"
	"              \"us\": {\"country\": \"US\", \"types\": [\"declaration\"]}},"
	" \"mras\": {\"PE\": [\"CL\", \"CO\"]}}";

/* contrib/demo/aeo-status.json's shape, issued by PE. */
static const char record[] =
	"{\"schema\": \"tradebridge/1\", \"type\": \"aeo.status\", \"key\": \"K\", \"version\": 1,"
	" \"source\": {\"network\": \"pe\", \"doctype\": \"cadena.aeo.status\"},"
	" \"data\": {\"issuer\": \"PE\", \"holder\": {\"name\": \"Exportadora Andina S.A.C.\","
	"   \"id\": \"PE20100047218\", \"address\": {\"city\": \"Lima\"}},"
	"   \"notes\": \"internal\", \"mraPartners\": %s}}";

static struct tb_json *offer(struct tb_sharing *s, const char *dest, const char *partners)
{
	char text[1024];
	snprintf(text, sizeof text, record, partners);
	struct tb_json *rec = parse(text), *out = NULL;
	struct tb_error e;
	assert_int_equal(tb_sharing_policy(s, dest, rec, &out, &e), 0);
	tb_json_free(rec);
	return out;
}

static void policy_default_deny_and_fields(void **state)
{
	(void)state;
	struct tb_sharing s;
	struct tb_error e;
	struct tb_json *doc = parse(config);
	setenv("TRADEBRIDGE_RELAY_HASH_SALT", "pepper", 1);
	assert_int_equal(tb_sharing_load(&s, doc, "test.json", 0, &e), 0);
	/* KR has no MRA with PE: nothing, unless the record itself lists KR */
	assert_null(offer(&s, "kr", "[]"));
	struct tb_json *kr = offer(&s, "kr", "[\"KR\"]");
	assert_non_null(kr);
	tb_json_free(kr);
	/* US takes declarations only; ZZ has no policy; nothing routed pe -> zz */
	assert_null(offer(&s, "us", "[\"US\"]"));
	assert_null(offer(&s, "zz", "[\"ZZ\"]"));
	/* CL: MRA from the configuration; address and notes gone, id hashed with the salt */
	struct tb_json *cl = offer(&s, "cl", "[]");
	assert_non_null(cl);
	const struct tb_json *h = tb_json_get(tb_json_get(cl, "data"), "holder");
	assert_null(tb_json_get(h, "address"));
	assert_null(tb_json_get(tb_json_get(cl, "data"), "notes"));
	assert_string_equal(tb_json_string(tb_json_get(h, "name")), "Exportadora Andina S.A.C.");
	/* printf 'pepper\0PE20100047218' | sha256sum */
	assert_string_equal(tb_json_string(tb_json_get(h, "id")),
	                    "sha256:b258f5766cf39fe3adefd7e4303d96190aa9577a8d36a278401bf0dcef9528c7");
	tb_json_free(cl);
	tb_sharing_fini(&s);
	/* hashing without a salt is a configuration error */
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
	assert_int_equal(tb_sharing_load(&s, doc, "test.json", 0, &e), TB_ECONFIG);
	assert_non_null(strstr(e.msg, "policies.cl.hash"));
	tb_json_free(doc);
}

static const char native[] =
	"{\"certId\": \"0x50452d41454f2d303030313233000000000000000000000000000000000000\","
	" \"certRef\": \"PE-AEO-000123\", \"country\": \"PE\", \"status\": \"cancelled\","
	" \"effective\": 1767225600, \"version\": 3}";

static int translate(const char *allow, struct tb_json **out, struct tb_error *e)
{
	char text[10000], path[4096], wco[4096];
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	snprintf(path, sizeof path, "%s/mappings/cadena-aeo.json", src);
	snprintf(wco, sizeof wco, "%s/mappings/wco", src);
	snprintf(text, sizeof text, "{\"relay\": {\"wco_dir\": \"%s\"}, \"routes\": [{\"from\": "
	         "\"pe\", \"to\": \"cl\", \"mapping\": \"%s\", \"allow_missing\": %s}]}", wco, path,
	         allow);
	struct tb_json *doc = parse(text);
	struct tb_sharing s;
	assert_int_equal(tb_sharing_load(&s, doc, "test.json", 1, e), 0);
	struct tb_native in = {.locator = "0xab:0", .doctype = "cadena.aeo.status"};
	struct tb_proof p = {.verdict = TB_VALID, .kind = "evm-receipt"};
	in.doc = parse(native);
	int rc = tb_sharing_translate(&s, "pe", &in, &p, out, e);
	tb_json_free(in.doc);
	tb_sharing_fini(&s);
	tb_json_free(doc);
	return rc;
}

static void translate_validates(void **state)
{
	(void)state;
	struct tb_json *rec = NULL;
	struct tb_error e;
	/* the chain does not carry the holder: invalid unless the route allows it */
	assert_int_equal(translate("[]", &rec, &e), TB_EINVAL);
	assert_non_null(strstr(e.msg, "AEOCertificate.Holder"));
	tb_json_free(rec);
	rec = NULL;
	assert_int_equal(translate("[\"AEOCertificate.Holder\"]", &rec, &e), 0);
	const struct tb_json *c = tb_json_get(tb_json_get(rec, "data"), "AEOCertificate");
	assert_string_equal(tb_json_string(tb_json_get(c, "StatusCode")), "revoked");
	assert_string_equal(tb_json_string(tb_json_get(c, "ID")), "PE-AEO-000123");
	/* 1767225600 is 2026-01-01T00:00:00Z */
	assert_string_equal(tb_json_string(tb_json_get(c, "EffectiveDateTime")),
	                    "2026-01-01T00:00:00Z");
	const struct tb_json *src = tb_json_get(rec, "source");
	assert_string_equal(tb_json_string(tb_json_get(src, "network")), "pe");
	assert_string_equal(tb_json_string(tb_json_get(src, "doctype")), "cadena.aeo.status");
	assert_string_equal(tb_json_string(tb_json_get(src, "verdict")), "VALID");
	assert_string_equal(tb_json_string(tb_json_get(rec, "key")), "AEO/PE/PE-AEO-000123");
	tb_json_free(rec);
}

/* A reversible mapping: the partner gets its native form back, minus what is dropped;
 * the MRA partner comes from the record's own MutualRecognitionPartner. */
static void reverse_mapped_delivery(void **state)
{
	(void)state;
	char text[16384], map[4096], wco[4096];
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	snprintf(map, sizeof map, "%s/tests/model/aeo-roundtrip.json", src);
	snprintf(wco, sizeof wco, "%s/mappings/wco", src);
	snprintf(text, sizeof text, "{\"relay\": {\"wco_dir\": \"%s\"}, \"routes\": [{\"from\": "
	         "\"mx\", \"to\": \"co\", \"mapping\": \"%s\", \"reverse\": \"%s\"}],"
	         " \"policies\": {\"co\": {\"country\": \"CO\", \"types\": [\"aeo.status\"],"
	         " \"drop\": [\"AEOCertificate.Holder.Address\"]}}}", wco, map, map);
	struct tb_json *doc = parse(text), *rec = NULL, *out = NULL;
	struct tb_sharing s;
	struct tb_error e;
	assert_int_equal(tb_sharing_load(&s, doc, "test.json", 1, &e), 0);
	struct tb_native in = {.locator = "row-7", .doctype = "registry"};
	struct tb_proof p = {.verdict = TB_VALID, .kind = "test"};
	in.doc = parse("{\"certificate\": {\"number\": \"MX-AEO-1\", \"status\": \"S\","
	               " \"since\": 1700000000}, \"authority\": {\"country\": \"MX\"},"
	               " \"holder\": {\"name\": \"Exportadora SA\", \"taxId\": \"MXA010101AAA\","
	               " \"city\": \"Monterrey\"}, \"mra\": [{\"country\": \"CO\"}]}");
	if (tb_sharing_translate(&s, "mx", &in, &p, &rec, &e) != 0)
		fail_msg("translate: %s", e.msg);
	assert_int_equal(tb_sharing_policy(&s, "co", rec, &out, &e), 0);
	assert_non_null(out);
	assert_string_equal(tb_json_string(tb_json_get(tb_json_get(out, "certificate"), "number")),
	                    "MX-AEO-1");
	assert_string_equal(tb_json_string(tb_json_get(tb_json_get(out, "certificate"), "status")),
	                    "S");
	assert_string_equal(tb_json_string(tb_json_get(tb_json_get(out, "holder"), "name")),
	                    "Exportadora SA");
	assert_null(tb_json_get(tb_json_get(out, "holder"), "city"));
	assert_null(tb_json_get(out, "schema")); /* native, not the canonical envelope */
	tb_json_free(out);
	tb_json_free(rec);
	tb_json_free(in.doc);
	tb_sharing_fini(&s);
	tb_json_free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_default_deny_and_fields),
		cmocka_unit_test(translate_validates),
		cmocka_unit_test(reverse_mapped_delivery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
