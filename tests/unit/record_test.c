/* The canonical record envelope: the id is the SHA-256 of the RFC 8785 form
 * (checked against coreutils sha256sum of a hand-written canonical text), and the
 * history rules (version, supersedes, links) and envelope members are enforced
 * with the path named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "model/dict.h"
#include "model/record.h"

static struct tb_dict *dict;

static int setup(void **state)
{
	char p[4096];
	struct tb_error err = {0};
	const char *s = getenv("TB_SRCDIR");
	if (!s)
		return -1;
	snprintf(p, sizeof p, "%s/mappings/wco", s);
	return tb_dict_load(p, &dict, &err) ? -1 : 0;
}

static int teardown(void **state)
{
	tb_dict_free(dict);
	return 0;
}

static struct tb_json *parse(const char *t)
{
	struct tb_json *j;
	struct tb_error err = {0};
	if (tb_json_parse(t, strlen(t), NULL, &j, &err))
		fail_msg("%s", err.msg);
	return j;
}

static void id_is_sha256_of_jcs(void **state)
{
	/* members out of order and with white space: the id is over {"a":1,"b":"x"},
	 * whose sha256sum is ecf9e98e...e65667 */
	struct tb_json *j = parse("{ \"b\" : \"x\", \"a\" : 1.0 }");
	char id[65];
	struct tb_error err = {0};
	assert_int_equal(tb_record_id(j, id, &err), 0);
	assert_string_equal(id, "ecf9e98ec0641e23113ff3ce8bdc78d0ddd249886517fd4a7f68cc83d4e65667");
	tb_json_free(j);
}

#define AEO "{\"AEOCertificate\":{\"ID\":\"C1\",\"StatusCode\":\"certified\",\"EffectiveDateTime\":" \
	        "\"2026-01-01\",\"IssuingAuthority\":{\"CountryCode\":\"PE\"},\"Holder\":{\"Name\":\"H\"," \
	        "\"ID\":\"PE1\"}}}"
#define ID64 "0000000000000000000000000000000000000000000000000000000000000001"

static void expect(const char *record, size_t n, const char *path, enum tb_violation_kind kind,
                   const char *part)
{
	struct tb_json *j = parse(record);
	struct tb_violations v = {0};
	assert_int_equal(tb_record_validate(dict, j, &v), 0);
	if (v.len != n)
		fail_msg("%zu violations, first %s", v.len, v.len ? v.items[0].path : "-");
	if (n) {
		assert_string_equal(v.items[0].path, path);
		assert_int_equal(v.items[0].kind, kind);
		if (!strstr(v.items[0].expected, part))
			fail_msg("\"%s\" lacks \"%s\"", v.items[0].expected, part);
	}
	tb_violations_fini(&v);
	tb_json_free(j);
}

static void history_and_envelope(void **state)
{
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"PE/AEO/1\",\"version\":1,"
	       "\"links\":[{\"rel\":\"declaration\",\"id\":\"" ID64 "\"}],\"source\":{\"network\":\"pe\"},"
	       "\"mapping\":{\"id\":\"m\",\"version\":\"1\"},\"data\":" AEO "}",
	       0, NULL, 0, NULL);
	/* version 2 must name what it supersedes */
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":2,\"data\":" AEO "}",
	       1, "$.supersedes", TB_VIOL_REQUIRED, "version > 1");
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":2,"
	       "\"supersedes\":\"" ID64 "\",\"data\":" AEO "}", 0, NULL, 0, NULL);
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":2,"
	       "\"supersedes\":\"ABC\",\"data\":" AEO "}", 1, "$.supersedes", TB_VIOL_ENVELOPE, "record id");
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":1,"
	       "\"supersedes\":\"" ID64 "\",\"data\":" AEO "}", 1, "$.supersedes", TB_VIOL_ENVELOPE,
	       "absent for version 1");
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":1.5,"
	       "\"data\":" AEO "}", 1, "$.version", TB_VIOL_ENVELOPE, "integer");
	expect("{\"schema\":\"tradebridge/2\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":1,"
	       "\"data\":" AEO "}", 1, "$.schema", TB_VIOL_ENVELOPE, "tradebridge/1");
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"\",\"version\":1,"
	       "\"data\":" AEO "}", 1, "$.key", TB_VIOL_ENVELOPE, "non-empty");
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":1,"
	       "\"links\":[{\"rel\":\"x\"}],\"data\":" AEO "}", 1, "$.links[0]", TB_VIOL_ENVELOPE, "rel");
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"k\",\"version\":1,"
	       "\"id\":\"x\",\"data\":" AEO "}", 1, "$.id", TB_VIOL_ENVELOPE, "only schema");
	expect("{\"schema\":\"tradebridge/1\",\"key\":\"k\",\"version\":1,\"data\":" AEO "}", 1, "$.type",
	       TB_VIOL_REQUIRED, "record type");
}

static void key_at_its_limit(void **state)
{
	char key[300], rec[2048];
	memset(key, 'k', sizeof key);
	key[TB_RECORD_KEY_MAX] = 0;
	snprintf(rec, sizeof rec, "{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"%s\","
	                          "\"version\":1,\"data\":" AEO "}", key);
	expect(rec, 0, NULL, 0, NULL);
	key[TB_RECORD_KEY_MAX] = 'k';
	key[TB_RECORD_KEY_MAX + 1] = 0;
	snprintf(rec, sizeof rec, "{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"%s\","
	                          "\"version\":1,\"data\":" AEO "}", key);
	expect(rec, 1, "$.key", TB_VIOL_ENVELOPE, "at most 255");
	/* a NUL would cut the key short in the store, into another record's key */
	expect("{\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"key\":\"a\\u0000b\","
	       "\"version\":1,\"data\":" AEO "}", 1, "$.key", TB_VIOL_ENVELOPE, "without NUL");
}

static void new_record_has_the_envelope(void **state)
{
	struct tb_json *data = parse(AEO);
	struct tb_json *r = tb_record_new("aeo.status", "PE/1", "m", "1.0", "test", data);
	assert_non_null(r);
	struct tb_violations v = {0};
	assert_int_equal(tb_record_validate(dict, r, &v), 0);
	assert_int_equal(v.len, 0);
	assert_true(tb_json_get(r, "version")->u.number.value == 1);
	assert_null(tb_json_get(r, "supersedes"));
	tb_json_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_is_sha256_of_jcs),
		cmocka_unit_test(history_and_envelope),
		cmocka_unit_test(key_at_its_limit),
		cmocka_unit_test(new_record_has_the_envelope),
	};
	return cmocka_run_group_tests_name("record", tests, setup, teardown);
}
