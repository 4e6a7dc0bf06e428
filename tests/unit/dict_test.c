/* Validation against the WCO dictionary: one test per kind of violation, each
 * asserting the JSON path, the element and its WCO ID (from the HMRC CDS schema
 * annotations) and what was expected; WCO formats at their boundaries; the
 * dictionary files refused with a message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (tb_dict_load(p, &dict, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	tb_dict_free(dict);
	return 0;
}

/* Validate a record whose data is `data` (JSON text) for type. */
static void run(const char *type, const char *data, struct tb_violations *v)
{
	char text[1 << 16];
	struct tb_json *r;
	struct tb_error err = {0};
	snprintf(text, sizeof text, "{\"schema\":\"tradebridge/1\",\"type\":\"%s\",\"key\":\"k\","
	                            "\"version\":1,\"data\":%s}", type, data);
	if (tb_json_parse(text, strlen(text), NULL, &r, &err))
		fail_msg("%s", err.msg);
	memset(v, 0, sizeof *v);
	assert_int_equal(tb_record_validate(dict, r, v), 0);
	tb_json_free(r);
}

static void expect_only(const char *type, const char *data, enum tb_violation_kind kind,
                        const char *path, const char *element, const char *wco,
                        const char *expected_part)
{
	struct tb_violations v;
	run(type, data, &v);
	for (size_t i = 0; i < v.len; i++)
		fprintf(stderr, "  %s %s %s\n", v.items[i].path, tb_violation_kind_name(v.items[i].kind),
		        v.items[i].expected);
	assert_int_equal(v.len, 1);
	assert_int_equal(v.items[0].kind, kind);
	assert_string_equal(v.items[0].path, path);
	if (element)
		assert_string_equal(v.items[0].element, element);
	if (wco)
		assert_string_equal(v.items[0].wco, wco);
	else
		assert_null(v.items[0].wco);
	if (!strstr(v.items[0].expected, expected_part))
		fail_msg("\"%s\" lacks \"%s\"", v.items[0].expected, expected_part);
	tb_violations_fini(&v);
}

#define DEC(inner) "{\"Declaration\":{\"FunctionCode\":\"9\",\"FunctionalReferenceID\":\"LRN1\"," \
	               "\"TypeCode\":\"IMA\"" inner "}}"

static void a_valid_declaration_passes(void **state)
{
	struct tb_violations v;
	run("declaration", DEC(",\"InvoiceAmount\":{\"value\":\"1200.50\",\"currencyID\":\"GBP\"},"
	                      "\"GoodsShipment\":{\"GovernmentAgencyGoodsItem\":[{\"SequenceNumeric\":\"1\","
	                      "\"Origin\":[{\"CountryCode\":\"US\"}]}]}"), &v);
	assert_int_equal(v.len, 0);
	tb_violations_fini(&v);
}

static void required_is_named(void **state)
{
	/* FunctionCode: WCO 017, minOccurs 1 in WCO_DEC_2_DMS.xsd */
	expect_only("declaration", "{\"Declaration\":{\"FunctionalReferenceID\":\"L\",\"TypeCode\":\"IMA\"}}",
	            TB_VIOL_REQUIRED, "$.data.Declaration.FunctionCode", "Declaration.FunctionCode", "017",
	            "present");
	/* inside a repeat: the goods item number is required in every item */
	expect_only("declaration", DEC(",\"GoodsShipment\":{\"GovernmentAgencyGoodsItem\":[{\"SequenceNumeric\":\"1\"},{}]}"),
	            TB_VIOL_REQUIRED, "$.data.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[1].SequenceNumeric",
	            NULL, NULL, "present");
	expect_only("aeo.status", "{}", TB_VIOL_REQUIRED, "$.data.AEOCertificate", "AEOCertificate", NULL,
	            "root of aeo.status");
}

static void format_is_named(void **state)
{
	/* TotalPackageQuantity is n..8 (WCO 146) */
	expect_only("declaration", DEC(",\"TotalPackageQuantity\":\"123456789\""), TB_VIOL_FORMAT,
	            "$.data.Declaration.TotalPackageQuantity", NULL, "146", "format n..8");
	/* amounts: n..16,3, so four decimals are too many (WCO 109) */
	expect_only("declaration", DEC(",\"InvoiceAmount\":{\"value\":\"1.2345\",\"currencyID\":\"GBP\"}"),
	            TB_VIOL_FORMAT, "$.data.Declaration.InvoiceAmount.value", NULL, "109", "n..16,3");
	expect_only("declaration", DEC(",\"AcceptanceDateTime\":\"2020-02-30T10:00:00\""), TB_VIOL_FORMAT,
	            "$.data.Declaration.AcceptanceDateTime", NULL, "023", "iso8601");
}

static void codelist_is_named(void **state)
{
	expect_only("declaration", DEC(",\"InvoiceAmount\":{\"value\":\"1\",\"currencyID\":\"XXY\"}"),
	            TB_VIOL_CODELIST, "$.data.Declaration.InvoiceAmount.currencyID", NULL, "109", "iso4217");
	expect_only("declaration", DEC(",\"BorderTransportMeans\":{\"RegistrationNationalityCode\":\"UK\"}"),
	            TB_VIOL_CODELIST, "$.data.Declaration.BorderTransportMeans.RegistrationNationalityCode",
	            NULL, "T014", "iso3166-1-alpha2");
	expect_only("aeo.status",
	            "{\"AEOCertificate\":{\"ID\":\"C1\",\"StatusCode\":\"active\",\"EffectiveDateTime\":"
	            "\"2026-01-01\",\"IssuingAuthority\":{\"CountryCode\":\"PE\"},\"Holder\":{\"Name\":\"H\","
	            "\"ID\":\"PE1\"}}}",
	            TB_VIOL_CODELIST, "$.data.AEOCertificate.StatusCode", NULL, NULL, "aeo-status");
}

static void unknown_is_named(void **state)
{
	expect_only("declaration", DEC(",\"Colour\":\"red\""), TB_VIOL_UNKNOWN,
	            "$.data.Declaration.Colour", NULL, NULL, "an element of class Declaration");
	expect_only("declaration", "{\"Declaration\":{\"FunctionCode\":\"9\",\"FunctionalReferenceID\":\"L\","
	            "\"TypeCode\":\"IMA\"},\"Extra\":{}}",
	            TB_VIOL_UNKNOWN, "$.data.Extra", NULL, NULL, "only the root class Declaration");
	expect_only("nonsense.type", "{}", TB_VIOL_ENVELOPE, "$.data", NULL, NULL, "record type");
}

static void type_is_named(void **state)
{
	/* a repeatable class given as an object, not an array */
	expect_only("declaration", DEC(",\"AuthorisationHolder\":{\"ID\":\"GB1\"}"), TB_VIOL_TYPE,
	            "$.data.Declaration.AuthorisationHolder", NULL, NULL, "an array");
	expect_only("declaration", DEC(",\"Declarant\":\"GB1\""), TB_VIOL_TYPE,
	            "$.data.Declaration.Declarant", NULL, NULL, "an object");
	expect_only("declaration", DEC(",\"ID\":42"), TB_VIOL_TYPE, "$.data.Declaration.ID", NULL, "D014",
	            "a string");
}

static void cardinality_is_named(void **state)
{
	/* at most 999 goods items (maxOccurs 999 in WCO_DEC_2_DMS.xsd) */
	static char data[64 << 10];
	size_t o = (size_t)snprintf(data, sizeof data,
	                            "{\"Declaration\":{\"FunctionCode\":\"9\",\"FunctionalReferenceID\":"
	                            "\"L\",\"TypeCode\":\"IMA\",\"GoodsShipment\":{"
	                            "\"GovernmentAgencyGoodsItem\":[");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(data + o, sizeof data - o, "%s{\"SequenceNumeric\":\"%d\"}", i ? "," : "",
		                      i + 1);
	snprintf(data + o, sizeof data - o, "]}}}");
	expect_only("declaration", data, TB_VIOL_CARDINALITY,
	            "$.data.Declaration.GoodsShipment.GovernmentAgencyGoodsItem", NULL, NULL, "at most 999");
}

static void formats_at_their_boundaries(void **state)
{
	char s36[40];
	memset(s36, 'x', 36);
	assert_true(tb_dict_format_ok("an..35", s36, 35));
	assert_false(tb_dict_format_ok("an..35", s36, 36));
	assert_false(tb_dict_format_ok("an..35", "", 0));
	/* characters, not bytes: 35 two-byte letters fit an..35 */
	char u[80];
	for (int i = 0; i < 35; i++)
		memcpy(u + 2 * i, "\xc3\xa9", 2);
	assert_true(tb_dict_format_ok("an..35", u, 70));
	assert_false(tb_dict_format_ok("an..35", "a\nb", 3));
	assert_true(tb_dict_format_ok("a2", "GB", 2));
	assert_false(tb_dict_format_ok("a2", "G1", 2));
	assert_false(tb_dict_format_ok("a2", "GBR", 3));
	assert_true(tb_dict_format_ok("n1", "4", 1));
	assert_false(tb_dict_format_ok("n1", "42", 2));
	assert_true(tb_dict_format_ok("n..16,3", "1234567890123.456", 17));
	assert_false(tb_dict_format_ok("n..16,3", "12345678901234.567", 18));
	assert_false(tb_dict_format_ok("n..16,3", "-1", 2));
	assert_false(tb_dict_format_ok("n..16,3", "1.", 2));
	assert_false(tb_dict_format_ok("n..2", "1e1", 3));
	assert_true(tb_dict_format_ok("iso8601", "2023-05-26T20:32:14+01:00", 25));
	assert_true(tb_dict_format_ok("iso8601", "2023-05-26T20:32:14.125Z", 24));
	assert_true(tb_dict_format_ok("iso8601", "2023-05-26", 10));
	assert_false(tb_dict_format_ok("iso8601", "2023-05-26T20:32Z", 17));
	assert_false(tb_dict_format_ok("iso8601", "2023-13-01", 10));
	assert_false(tb_dict_format_ok("iso8601", "2023-02-29", 10));
	assert_true(tb_dict_format_ok("iso8601", "2024-02-29", 10));
	assert_false(tb_dict_format_ok("iso8601", "1900-02-29", 10));
	assert_false(tb_dict_format_ok("iso8601", "2023-04-31", 10));
	assert_false(tb_dict_format_ok("iso8601", "20230526", 8));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void broken_dictionary_refused(void **state)
{
	char dir[] = "/tmp/tb_dict_XXXXXX", p[4096];
	struct tb_dict *d;
	struct tb_error err = {0};
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/codelists", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/types", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/dictionary.json", dir);
	write_file(p, "{\"elements\":[{\"path\":\"A.B\",\"kind\":\"leaf\"}]}");
	assert_int_equal(tb_dict_load(dir, &d, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "A.B has no parent element A"));
	write_file(p, "{\"elements\":[{\"path\":\"A\",\"kind\":\"class\"},{\"path\":\"A\",\"kind\":\"class\"}]}");
	assert_int_equal(tb_dict_load(dir, &d, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "element A defined twice"));
	write_file(p, "{\"elements\":[{\"path\":\"A\",\"kind\":\"class\"},{\"path\":\"A.B\",\"kind\":\"leaf\","
	              "\"same_as\":\"Z\"}]}");
	assert_int_equal(tb_dict_load(dir, &d, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "same_as \"Z\" is not an element"));
	write_file(p, "{\"elements\":[{\"path\":\"A\",\"kind\":\"class\"}]}");
	snprintf(p, sizeof p, "%s/types/t.json", dir);
	write_file(p, "{\"type\":\"t\",\"root\":\"A\",\"required\":[\"A.Q\"]}");
	assert_int_equal(tb_dict_load(dir, &d, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "record type t: required \"A.Q\" is not a dictionary element"));
	unlink(p);
	snprintf(p, sizeof p, "%s/dictionary.json", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/codelists", dir);
	rmdir(p);
	snprintf(p, sizeof p, "%s/types", dir);
	rmdir(p);
	rmdir(dir);
	assert_int_equal(tb_dict_load("/nonexistent/wco", &d, &err), TB_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/wco"));
}

static void violations_are_bounded(void **state)
{
	struct tb_violations v = {0};
	for (int i = 0; i < TB_VIOLATIONS_MAX + 5; i++)
		assert_int_equal(tb_violations_add(&v, TB_VIOL_FORMAT, "$", NULL, NULL, "x"), 0);
	assert_int_equal(v.len, TB_VIOLATIONS_MAX);
	assert_true(v.truncated);
	tb_violations_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_valid_declaration_passes),
		cmocka_unit_test(required_is_named),
		cmocka_unit_test(format_is_named),
		cmocka_unit_test(codelist_is_named),
		cmocka_unit_test(unknown_is_named),
		cmocka_unit_test(type_is_named),
		cmocka_unit_test(cardinality_is_named),
		cmocka_unit_test(formats_at_their_boundaries),
		cmocka_unit_test(broken_dictionary_refused),
		cmocka_unit_test(violations_are_bounded),
	};
	return cmocka_run_group_tests_name("dict", tests, setup, teardown);
}
