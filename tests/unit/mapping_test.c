/* The mapping engine as an adapter developer meets it: every HMRC CDS sample
 * (WCO DM 3.6) translates into a record that validates and carries the
 * FunctionCode, TypeCode, references and goods-item count that the vectors'
 * expected.json lists; namespaced and namespace-less twins give the same record;
 * broken samples are rejected naming path and rule; generated records round-trip
 * through a reversible mapping unchanged; each transform gives independently
 * known values; bad mapping files are refused naming file and rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/xml.h"
#include "model/dict.h"
#include "model/mapping.h"
#include "model/record.h"

static char srcdir[2048], vectors[2048];
static struct tb_dict *dict;

static char *path_of(const char *base, const char *rel)
{
	static char p[8192];
	snprintf(p, sizeof p, "%s/%s", base, rel);
	return p;
}

static void read_all(const char *path, struct tb_buf *b)
{
	struct tb_error err = {0};
	tb_buf_init(b, 16 << 20);
	if (tb_buf_read_file(b, path, &err))
		fail_msg("%s", err.msg);
}

static struct tb_json *read_json(const char *path)
{
	struct tb_buf b;
	struct tb_json *j;
	struct tb_error err = {0};
	read_all(path, &b);
	if (tb_json_parse((const char *)b.data, b.len, NULL, &j, &err))
		fail_msg("%s: %s", path, err.msg);
	tb_buf_fini(&b);
	return j;
}

static struct tb_mapping *load_mapping(const char *rel)
{
	struct tb_mapping *m;
	struct tb_error err = {0};
	if (tb_mapping_load(path_of(srcdir, rel), &m, &err))
		fail_msg("%s", err.msg);
	return m;
}

static int setup(void **state)
{
	const char *s = getenv("TB_SRCDIR"), *v = getenv("TB_VECTORS");
	struct tb_error err = {0};
	if (!s || !v)
		return -1;
	snprintf(srcdir, sizeof srcdir, "%s", s);
	snprintf(vectors, sizeof vectors, "%s", v);
	if (tb_dict_load(path_of(srcdir, "mappings/wco"), &dict, &err)) {
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

/* XML text -> record through m; NULL with err filled on failure. */
static struct tb_json *translate_xml(const struct tb_mapping *m, const char *xml, size_t len,
                                     struct tb_error *err)
{
	struct tb_json *native = NULL, *rec = NULL;
	if (tb_xml_to_json(xml, len, NULL, &native, err) == 0)
		tb_mapping_to_record(m, NULL, native, &rec, err);
	tb_json_free(native);
	return rec;
}

static const char *get_str(const struct tb_json *j, const char *a, const char *b, const char *c)
{
	const struct tb_json *x = tb_json_get(tb_json_get(tb_json_get(j, "data"), a), b);
	return tb_json_string(c ? tb_json_get(x, c) : x);
}

static size_t count_violations(const struct tb_json *rec, struct tb_violations *v)
{
	assert_int_equal(tb_record_validate(dict, rec, v), 0);
	for (size_t i = 0; i < v->len; i++)
		fprintf(stderr, "  violation %s %s %s\n", v->items[i].path,
		        tb_violation_kind_name(v->items[i].kind), v->items[i].expected);
	return v->len;
}

static void check_sample(const struct tb_mapping *dec, const struct tb_mapping *res,
                         const char *rel, const struct tb_json *exp, char id[65])
{
	struct tb_buf b;
	struct tb_error err = {0};
	char full[4096];
	snprintf(full, sizeof full, "wco-dm-hmrc/samples/%s", rel);
	read_all(path_of(vectors, full), &b);
	const char *kind = tb_json_string(tb_json_get(exp, "WCOTypeName"));
	int is_dec = strcmp(kind, "DEC") == 0;
	struct tb_json *rec = translate_xml(is_dec ? dec : res, (const char *)b.data, b.len, &err);
	if (!rec)
		fail_msg("%s: %s", rel, err.msg);
	struct tb_violations v = {0};
	if (count_violations(rec, &v))
		fail_msg("%s: %zu violations", rel, v.len);
	tb_violations_fini(&v);
	const char *root = is_dec ? "Declaration" : "Response";
	assert_string_equal(tb_json_string(tb_json_get(rec, "type")),
	                    is_dec ? "declaration" : "declaration.response");
	assert_string_equal(get_str(rec, root, "FunctionCode", NULL),
	                    tb_json_string(tb_json_get(exp, "FunctionCode")));
	assert_string_equal(get_str(rec, root, "FunctionalReferenceID", NULL),
	                    tb_json_string(tb_json_get(exp, "FunctionalReferenceID")));
	if (is_dec) {
		const char *tc = tb_json_string(tb_json_get(exp, "TypeCode"));
		assert_string_equal(get_str(rec, root, "TypeCode", NULL), tc);
		const struct tb_json *cnt = tb_json_get(exp, "GovernmentAgencyGoodsItem_count");
		const struct tb_json *items = tb_json_get(
			tb_json_get(tb_json_get(tb_json_get(rec, "data"), "Declaration"), "GoodsShipment"),
			"GovernmentAgencyGoodsItem");
		assert_int_equal(tb_json_len(items), cnt ? (size_t)cnt->u.number.value : 0);
		assert_string_equal(tb_json_string(tb_json_get(rec, "key")),
		                    tb_json_string(tb_json_get(exp, "FunctionalReferenceID")));
	} else {
		assert_string_equal(get_str(rec, root, "Declaration", "ID"),
		                    tb_json_string(tb_json_get(exp, "Declaration_ID")));
		assert_string_equal(get_str(rec, root, "Declaration", "FunctionalReferenceID"),
		                    tb_json_string(tb_json_get(exp, "Declaration_FunctionalReferenceID")));
	}
	struct tb_error e2 = {0};
	assert_int_equal(tb_record_id(rec, id, &e2), 0);
	tb_json_free(rec);
	tb_buf_fini(&b);
}

static void hmrc_samples_translate_and_validate(void **state)
{
	struct tb_mapping *dec = load_mapping("mappings/hmrc-dec.json");
	struct tb_mapping *res = load_mapping("mappings/hmrc-res.json");
	struct tb_json *exp = read_json(path_of(vectors, "wco-dm-hmrc/expected.json"));
	const struct tb_json *files = tb_json_get(exp, "files");
	size_t n_dec = 0, n_res = 0, n_twins = 0;
	assert_int_equal(tb_json_len(files), 31);
	for (size_t i = 0; i < files->u.object.len; i++) {
		const struct tb_json_member *f = &files->u.object.members[i];
		char id[65], twin_id[65];
		check_sample(dec, res, f->key, f->value, id);
		if (strcmp(tb_json_string(tb_json_get(f->value, "WCOTypeName")), "DEC") == 0)
			n_dec++;
		else
			n_res++;
		const char *twin = tb_json_string(tb_json_get(f->value, "same_content_as"));
		if (twin) {
			/* namespaced and namespace-less: the same record, so the same id */
			check_sample(dec, res, twin, tb_json_get(files, twin), twin_id);
			assert_string_equal(id, twin_id);
			n_twins++;
		}
	}
	assert_int_equal(n_dec, 6);
	assert_int_equal(n_res, 25);
	assert_int_equal(n_twins, 10); /* each twin names the other */
	tb_json_free(exp);
	tb_mapping_free(dec);
	tb_mapping_free(res);
}

/* TT_EX039a.xml with `from` replaced by `to` (once), translated and validated. */
static struct tb_json *broken_sample(const struct tb_mapping *dec, const char *from, const char *to,
                                     struct tb_error *err)
{
	struct tb_buf b, e;
	read_all(path_of(vectors, "wco-dm-hmrc/samples/TT_EX039a/TT_EX039a.xml"), &b);
	char *hit = strstr((char *)b.data, from);
	assert_non_null(hit);
	tb_buf_init(&e, 0);
	tb_buf_append(&e, b.data, (size_t)(hit - (char *)b.data));
	tb_buf_puts(&e, to);
	tb_buf_puts(&e, hit + strlen(from));
	struct tb_json *rec = translate_xml(dec, (const char *)e.data, e.len, err);
	tb_buf_fini(&b);
	tb_buf_fini(&e);
	return rec;
}

static void expect_one(const struct tb_json *rec, enum tb_violation_kind kind, const char *path,
                       const char *wco, const char *expected_part)
{
	struct tb_violations v = {0};
	assert_int_equal(count_violations(rec, &v), 1);
	assert_int_equal(v.items[0].kind, kind);
	assert_string_equal(v.items[0].path, path);
	if (wco)
		assert_string_equal(v.items[0].wco, wco);
	assert_non_null(strstr(v.items[0].expected, expected_part));
	tb_violations_fini(&v);
}

static void hmrc_broken_fields_rejected(void **state)
{
	struct tb_mapping *dec = load_mapping("mappings/hmrc-dec.json");
	struct tb_error err = {0};
	/* unknown country code (QQ is not assigned in ISO 3166-1) */
	struct tb_json *rec = broken_sample(dec, "<CountryCode>JP</CountryCode>\n\t\t\t\t\t<Line>",
	                                    "<CountryCode>QQ</CountryCode>\n\t\t\t\t\t<Line>", &err);
	assert_non_null(rec);
	expect_one(rec, TB_VIOL_CODELIST, "$.data.Declaration.GoodsShipment.Consignee.Address.CountryCode",
	           "242", "iso3166-1-alpha2");
	tb_json_free(rec);
	/* over-long identifier: LRN is an..35 (WCO D026) */
	rec = broken_sample(dec, "78462848820232108", "784628488202321087846284882023210899", &err);
	assert_non_null(rec);
	expect_one(rec, TB_VIOL_FORMAT, "$.data.Declaration.FunctionalReferenceID", "D026", "an..35");
	tb_json_free(rec);
	/* missing required element: TypeCode is required for a declaration */
	rec = broken_sample(dec, "<TypeCode>EXD</TypeCode>", "", &err);
	assert_non_null(rec);
	expect_one(rec, TB_VIOL_REQUIRED, "$.data.Declaration.TypeCode", "D013", "present");
	tb_json_free(rec);
	/* missing element the mapping requires: the mapping error names file, rule, path */
	rec = broken_sample(dec, "<FunctionCode>9</FunctionCode>", "", &err);
	assert_null(rec);
	assert_non_null(strstr(err.msg, "mapping hmrc-dec.json: rule 1 (to Declaration.FunctionCode)"));
	assert_non_null(strstr(err.msg, "MetaData.Declaration.FunctionCode is missing"));
	/* a repeat inside a repeat is named with its indexes */
	rec = broken_sample(dec, "<SequenceNumeric>1</SequenceNumeric>\n\t\t\t\t\t\t<ID>12345</ID>",
	                    "<ID>12345</ID>", &err);
	assert_null(rec);
	if (!strstr(err.msg, "rule 108.3.1 (to SequenceNumeric)"))
		fail_msg("%s", err.msg);
	assert_non_null(strstr(err.msg, "at $.MetaData.Declaration.GoodsShipment.Consignment."
	                                "TransportEquipment.Seal"));
	tb_mapping_free(dec);
}

/* ---- round trip ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void rand_word(uint64_t *s, char *out, size_t min, size_t max, const char *alphabet)
{
	size_t n = min + rng_next(s) % (max - min + 1), k = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rng_next(s) % k];
	out[n] = 0;
}

static void set(struct tb_json *o, const char *k, const char *v)
{
	assert_int_equal(tb_json_object_set(o, k, strlen(k), tb_json_new_string(v, strlen(v))), 0);
}

static struct tb_json *obj_in(struct tb_json *o, const char *k)
{
	struct tb_json *c = tb_json_new_object();
	assert_int_equal(tb_json_object_set(o, k, strlen(k), c), 0);
	return c;
}

/* A random native AEO record in the shape tests/model/aeo-roundtrip.json reads. */
static struct tb_json *gen_native(uint64_t *s)
{
	static const char *const st[] = {"A", "S", "R", "RI", "E"};
	static const char *const cc[] = {"PE", "MX", "CO", "CL", "JP", "KR", "SG", "US"};
	static const char *const scope[] = {"AEOC", "AEOS", "AEOF"};
	static const char up[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", word[] = "abcdefghij XYZ";
	char buf[128];
	struct tb_json *n = tb_json_new_object(), *c = obj_in(n, "certificate");
	rand_word(s, buf, 1, 35, up);
	set(c, "number", buf);
	set(c, "status", st[rng_next(s) % 5]);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)(rng_next(s) % 4102444800ULL));
	set(c, "since", buf);
	if (rng_next(s) % 2) {
		snprintf(buf, sizeof buf, "%04d%02d%02d", 2000 + (int)(rng_next(s) % 99),
		         1 + (int)(rng_next(s) % 12), 1 + (int)(rng_next(s) % 28));
		set(c, "until", buf);
	}
	size_t ns = rng_next(s) % 4;
	buf[0] = 0;
	for (size_t i = 0; i < ns; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "," : "",
		         scope[rng_next(s) % 3]);
	if (ns)
		set(n, "scope", buf);
	struct tb_json *a = obj_in(n, "authority");
	set(a, "country", cc[rng_next(s) % 8]);
	if (rng_next(s) % 2) {
		rand_word(s, buf, 1, 70, word);
		buf[0] = 'N'; /* no leading blank, so the name reads as a name */
		set(a, "name", buf);
	}
	struct tb_json *h = obj_in(n, "holder");
	rand_word(s, buf, 1, 70, word);
	set(h, "name", buf);
	rand_word(s, buf, 1, 17, up);
	set(h, "taxId", buf);
	if (rng_next(s) % 2) {
		rand_word(s, buf, 1, 30, up);
		set(h, "street", buf);
		rand_word(s, buf, 1, 10, up);
		set(h, "building", buf);
		rand_word(s, buf, 1, 35, up);
		set(h, "city", buf);
		set(h, "country", cc[rng_next(s) % 8]);
	}
	size_t nm = rng_next(s) % 4;
	if (nm) {
		struct tb_json *arr = tb_json_new_array();
		assert_int_equal(tb_json_object_set(n, "mra", 3, arr), 0);
		for (size_t i = 0; i < nm; i++) {
			struct tb_json *p = tb_json_new_object();
			set(p, "country", cc[rng_next(s) % 8]);
			if (rng_next(s) % 2) {
				rand_word(s, buf, 1, 17, up);
				set(p, "partnerId", buf);
			}
			assert_int_equal(tb_json_array_push(arr, p), 0);
		}
	}
	return n;
}

static void assert_same_json(const struct tb_json *a, const struct tb_json *b)
{
	struct tb_buf x, y;
	struct tb_error err = {0};
	tb_buf_init(&x, 0);
	tb_buf_init(&y, 0);
	assert_int_equal(tb_json_write_canonical(a, &x, &err), 0);
	assert_int_equal(tb_json_write_canonical(b, &y, &err), 0);
	if (x.len != y.len || memcmp(x.data, y.data, x.len))
		fail_msg("differ:\n%s\n%s", (char *)x.data, (char *)y.data);
	tb_buf_fini(&x);
	tb_buf_fini(&y);
}

static void generated_records_round_trip(void **state)
{
	struct tb_mapping *m = load_mapping("tests/model/aeo-roundtrip.json");
	struct tb_error err = {0};
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	assert_true(tb_mapping_reversible(m));
	for (int i = 0; i < 500; i++) {
		struct tb_json *native = gen_native(&seed), *rec, *back, *data2;
		if (tb_mapping_to_record(m, NULL, native, &rec, &err))
			fail_msg("record %d: %s", i, err.msg);
		struct tb_violations v = {0};
		if (count_violations(rec, &v))
			fail_msg("record %d: invalid", i);
		tb_violations_fini(&v);
		/* native -> canonical -> native */
		if (tb_mapping_reverse(m, NULL, tb_json_get(rec, "data"), &back, &err))
			fail_msg("record %d: %s", i, err.msg);
		assert_same_json(native, back);
		/* canonical -> native -> canonical */
		assert_int_equal(tb_mapping_apply(m, NULL, back, &data2, &err), 0);
		assert_same_json(tb_json_get(rec, "data"), data2);
		tb_json_free(native);
		tb_json_free(rec);
		tb_json_free(back);
		tb_json_free(data2);
	}
	tb_mapping_free(m);
}

/* ---- transforms with known values ------------------------------------------- */

static struct tb_json *apply_text(const char *mapping, const char *native, const char *salt,
                                  struct tb_error *err)
{
	struct tb_mapping *m;
	struct tb_json *in, *out = NULL;
	if (tb_mapping_parse(mapping, strlen(mapping), "t.json", &m, err))
		return NULL;
	assert_int_equal(tb_json_parse(native, strlen(native), NULL, &in, err), 0);
	struct tb_mapping_ctx ctx = {salt, salt ? strlen(salt) : 0};
	tb_mapping_apply(m, &ctx, in, &out, err);
	tb_json_free(in);
	tb_mapping_free(m);
	return out;
}

#define HEAD "{\"id\":\"t\",\"version\":\"1\",\"source\":\"s\",\"record_type\":\"aeo.status\"," \
	     "\"key\":[\"K\"],\"rules\":["

static void want_value(const char *rules, const char *native, const char *want)
{
	char m[2048];
	struct tb_error err = {0};
	snprintf(m, sizeof m, HEAD "%s]}", rules);
	struct tb_json *out = apply_text(m, native, "pepper", &err);
	if (!out)
		fail_msg("%s", err.msg);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_canonical(tb_json_get(out, "V"), &b, &err), 0);
	assert_string_equal((char *)b.data, want);
	tb_buf_fini(&b);
	tb_json_free(out);
}

/* split inside each over 1 MB of commas would build a million strings per item:
 * the run stops at twice its input's size, naming the rule, instead of taking
 * gigabytes. */
static void output_bounded_by_input(void **state)
{
	(void)state;
	struct tb_buf native;
	tb_buf_init(&native, 0);
	assert_int_equal(tb_buf_puts(&native, "{\"xs\":[{\"s\":\""), 0);
	for (int i = 0; i < 1000000; i++)
		assert_int_equal(tb_buf_putc(&native, ','), 0);
	assert_int_equal(tb_buf_puts(&native, "\"}]}"), 0);
	char m[512];
	snprintf(m, sizeof m, HEAD "{\"each\":\"xs\",\"to\":\"V\",\"rules\":[{\"from\":\"s\","
	         "\"to\":\"p\",\"split\":\",\"}]}]}");
	struct tb_error err = {0};
	struct tb_json *out = apply_text(m, (const char *)native.data, NULL, &err);
	assert_null(out);
	assert_int_equal(err.code, TB_ELIMIT);
	assert_non_null(strstr(err.msg, "rule 1.1 (to p)"));
	assert_non_null(strstr(err.msg, "multiplies its input"));
	tb_buf_fini(&native);
	/* the same rule on an ordinary value still works */
	want_value("{\"each\":\"xs\",\"to\":\"V\",\"rules\":[{\"from\":\"s\",\"to\":\"p\","
	           "\"split\":\",\"}]}", "{\"xs\":[{\"s\":\"a,b\"}]}", "[{\"p\":[\"a\",\"b\"]}]");
}

/* A key value with a NUL byte would be cut short in the store into another
 * record's key ("a\0x" and "a\0y" both "a"): refused, naming the key path. */
static void key_with_nul_refused(void **state)
{
	(void)state;
	static const char m[] = "{\"id\":\"t\",\"version\":\"1\",\"source\":\"s\","
	                        "\"record_type\":\"aeo.status\",\"key\":[\"K\"],"
	                        "\"rules\":[{\"from\":\"k\",\"to\":\"K\"}]}";
	static const char native[] = "{\"k\":\"a\\u0000x\"}";
	struct tb_mapping *map;
	struct tb_json *in, *rec = NULL;
	struct tb_error err;
	assert_int_equal(tb_mapping_parse(m, strlen(m), "t.json", &map, &err), 0);
	assert_int_equal(tb_json_parse(native, strlen(native), NULL, &in, &err), 0);
	assert_int_equal(tb_mapping_to_record(map, NULL, in, &rec, &err), TB_EINVAL);
	assert_null(rec);
	assert_non_null(strstr(err.msg, "key: K holds a NUL byte"));
	tb_json_free(in);
	tb_mapping_free(map);
}

static void transforms_give_known_values(void **state)
{
	/* EDIFACT 304 with an hour offset, as in the HMRC notifications */
	want_value("{\"from\":\"d\",\"to\":\"V\",\"date\":\"edifact-304\"}",
	             "{\"d\":\"20230526203214+01\"}", "\"2023-05-26T20:32:14+01:00\"");
	want_value("{\"from\":\"d\",\"to\":\"V\",\"date\":\"edifact-102\"}", "{\"d\":\"20281231\"}",
	             "\"2028-12-31\"");
	want_value("{\"from\":\"d\",\"to\":\"V\",\"date\":\"edifact-203\"}", "{\"d\":\"202812312359\"}",
	             "\"2028-12-31T23:59:00Z\"");
	want_value("{\"from\":\"d\",\"to\":\"V\",\"date\":\"edifact-204\"}",
	             "{\"d\":\"20281231235958\"}", "\"2028-12-31T23:59:58Z\"");
	/* 1700000000 s after the epoch: 2023-11-14T22:13:20Z (date -u -d @1700000000) */
	want_value("{\"from\":\"d\",\"to\":\"V\",\"date\":\"epoch\"}", "{\"d\":1700000000}",
	             "\"2023-11-14T22:13:20Z\"");
	want_value("{\"from\":\"d\",\"to\":\"V\",\"date\":[\"edifact\",\"unix-date\"]}",
	             "{\"d\":\"Wed Nov 13 00:00:00 UTC 2019\"}", "\"2019-11-13T00:00:00Z\"");
	/* decimal scaling is exact: grams to kilograms, cents to units */
	want_value("{\"from\":\"g\",\"to\":\"V\",\"scale\":-3}", "{\"g\":\"1250\"}", "\"1.25\"");
	want_value("{\"from\":\"g\",\"to\":\"V\",\"scale\":-2}", "{\"g\":\"5\"}", "\"0.05\"");
	want_value("{\"from\":\"g\",\"to\":\"V\",\"scale\":2}", "{\"g\":\"0.125\"}", "\"12.5\"");
	want_value("{\"from\":\"g\",\"to\":\"V\",\"scale\":-2,\"as\":\"number\"}", "{\"g\":\"1999\"}",
	             "19.99");
	want_value("{\"from\":\"x\",\"to\":\"V\",\"table\":{\"1\":\"certified\"}}", "{\"x\":\"1\"}",
	             "\"certified\"");
	want_value("{\"from\":\"x\",\"to\":\"V\",\"table\":{\"1\":\"a\"},\"table_passthrough\":true}",
	             "{\"x\":\"9\"}", "\"9\"");
	want_value("{\"concat\":[\"a\",\"b\",\"c\"],\"separator\":\" \",\"to\":\"V\"}",
	             "{\"a\":\"1\",\"c\":\"3\"}", "\"1 3\"");
	want_value("{\"from\":\"s\",\"to\":\"V\",\"split\":\";\"}", "{\"s\":\"a;;b\"}",
	             "[\"a\",\"\",\"b\"]");
	want_value("{\"const\":\"PE\",\"to\":\"V\"}", "{}", "\"PE\"");
	want_value("{\"from\":\"x\",\"to\":\"V\",\"default\":\"none\"}", "{}", "\"none\"");
	want_value("{\"from\":\"x\",\"to\":\"V\",\"when\":{\"path\":\"k\",\"equals\":\"y\"}},"
	             "{\"from\":\"z\",\"to\":\"V\",\"when\":{\"path\":\"k\",\"in\":[\"n\",\"m\"]}}",
	             "{\"k\":\"m\",\"x\":\"1\",\"z\":\"2\"}", "\"2\"");
	want_value("{\"from\":\"a.b[1].c\",\"to\":\"V\"}", "{\"a\":{\"b\":[{\"c\":1},{\"c\":2}]}}",
	             "\"2\"");
	want_value("{\"from\":\"a.#text\",\"to\":\"V\"}", "{\"a\":\"plain\"}", "\"plain\"");
	/* salted hash: sha256("pepper" || 0x00 || value), checked with sha256sum */
	want_value("{\"from\":\"id\",\"to\":\"V\",\"hash\":true}", "{\"id\":\"GB123456789000\"}",
	             "\"sha256:04c48f7d74d4e0e822496480ae862e0b3803313da4660a79f4cfc83fd6483177\"");
	want_value("{\"each\":\"xs\",\"to\":\"V\",\"rules\":[{\"from\":\".\",\"to\":\"n\"}]}",
	             "{\"xs\":[\"a\",\"b\"]}", "[{\"n\":\"a\"},{\"n\":\"b\"}]");
}

static void expect_run_error(const char *rules, const char *native, const char *salt,
                             const char *part)
{
	char m[2048];
	struct tb_error err = {0};
	snprintf(m, sizeof m, HEAD "%s]}", rules);
	struct tb_json *out = apply_text(m, native, salt, &err);
	assert_null(out);
	if (!strstr(err.msg, part))
		fail_msg("\"%s\" lacks \"%s\"", err.msg, part);
}

static void bad_values_and_mappings_named(void **state)
{
	expect_run_error("{\"from\":\"d\",\"to\":\"V\",\"date\":\"edifact-102\"}", "{\"d\":\"2028-12-31\"}",
	                 NULL, "mapping t.json: rule 1 (to V): at $: \"2028-12-31\" is not a valid EDIFACT date");
	expect_run_error("{\"from\":\"x\",\"to\":\"V\",\"table\":{\"1\":\"a\"}}", "{\"x\":\"2\"}", NULL,
	                 "value \"2\" is not in the rule's table");
	expect_run_error("{\"from\":\"x\",\"to\":\"V\",\"hash\":true}", "{\"x\":\"2\"}", NULL,
	                 "needs a salt");
	expect_run_error("{\"from\":\"x\",\"to\":\"V\",\"scale\":2}", "{\"x\":\"1e5\"}", NULL,
	                 "not a decimal number");
	expect_run_error("{\"from\":\"x\",\"to\":\"V\"}", "{\"x\":{\"y\":1}}", NULL,
	                 "x is a object, not a value");
	expect_run_error("{\"each\":\"xs\",\"to\":\"V\",\"rules\":[{\"from\":\"n\",\"to\":\"n\",\"required\":true}]}",
	                 "{\"xs\":[{\"n\":\"1\"},{}]}", NULL, "rule 1.1 (to n): at $.xs[1]: required n is missing");
	/* load-time refusals name the file and the rule */
	expect_run_error("{\"from\":\"x\",\"to\":\"V\",\"frm\":1}", "{}", NULL,
	                 "mapping t.json: rule 1 (to V, line 1): unknown member \"frm\"");
	expect_run_error("{\"from\":\"x\",\"to\":\"V\",\"date\":\"yyyy\"}", "{}", NULL, "\"date\" must be");
	expect_run_error("{\"from\":\"x\",\"to\":\"V[0]\"}", "{}", NULL, "\"to\" must be a canonical path");
	expect_run_error("{\"to\":\"V\"}", "{}", NULL, "needs \"from\", \"concat\", \"each\" or \"const\"");
	expect_run_error("{\"concat\":[\"a\",\"b\"],\"to\":\"V\"}", "{}", NULL, "needs a non-empty \"separator\"");
	struct tb_mapping *m;
	struct tb_error err = {0};
	const char *rev = "{\"id\":\"t\",\"version\":\"1\",\"source\":\"s\",\"record_type\":\"x\","
	                  "\"key\":[\"K\"],\"reversible\":true,\"rules\":[{\"from\":\"a\",\"to\":\"b\"},"
	                  "{\"from\":\"x\",\"to\":\"V\",\"hash\":true}]}";
	assert_int_equal(tb_mapping_parse(rev, strlen(rev), "r.json", &m, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "mapping r.json: rule 2 (to V, line 1): a hash cannot be reversed"));
	const char *nokey = "{\"id\":\"t\",\"version\":\"1\",\"source\":\"s\",\"record_type\":\"x\","
	                    "\"rules\":[{\"from\":\"a\",\"to\":\"b\"}]}";
	assert_int_equal(tb_mapping_parse(nokey, strlen(nokey), "k.json", &m, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "mapping k.json: \"key\" must list"));
}

static void reverse_writes_native_formats(void **state)
{
	const char *map = "{\"id\":\"t\",\"version\":\"1\",\"source\":\"s\",\"record_type\":\"x\","
	                  "\"key\":[\"K\"],\"reversible\":true,\"rules\":["
	                  "{\"from\":\"d\",\"to\":\"D\",\"date\":\"edifact-304\"},"
	                  "{\"from\":\"e\",\"to\":\"E\",\"date\":\"epoch\"},"
	                  "{\"from\":\"g\",\"to\":\"G\",\"scale\":-3},"
	                  "{\"from\":\"x\",\"to\":\"X\",\"table\":{\"1\":\"one\"}}]}";
	const char *canon = "{\"D\":\"2023-05-26T20:32:14+01:00\",\"E\":\"2023-11-14T22:13:20Z\","
	                    "\"G\":\"1.25\",\"X\":\"one\"}";
	struct tb_mapping *m;
	struct tb_json *in, *out;
	struct tb_error err = {0};
	struct tb_buf b;
	assert_int_equal(tb_mapping_parse(map, strlen(map), "t.json", &m, &err), 0);
	assert_int_equal(tb_json_parse(canon, strlen(canon), NULL, &in, &err), 0);
	assert_int_equal(tb_mapping_reverse(m, NULL, in, &out, &err), 0);
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_canonical(out, &b, &err), 0);
	assert_string_equal((char *)b.data,
	                    "{\"d\":\"20230526203214+01\",\"e\":\"1700000000\",\"g\":\"1250\",\"x\":\"1\"}");
	tb_buf_fini(&b);
	tb_json_free(in);
	tb_json_free(out);
	tb_mapping_free(m);
}

/* mappings/cadena-aeo.json reversed: what a CADENA registry's mirror() takes. The
 * expected values were computed outside tradebridge (Python: hashlib.sha256 of the
 * record text below, which is already RFC 8785; bytes(ID).ljust(32, b"\0").hex();
 * calendar.timegm((2026, 1, 4, 0, 0, 0))) and the status from the contract's enum
 * (3 = cancelled, the code list's revoked). */
static void cadena_reverse_gives_registry_fields(void **state)
{
	(void)state;
	static const char rec_text[] =
		"{\"data\":{\"AEOCertificate\":{\"EffectiveDateTime\":\"2026-01-04T00:00:00Z\","
		"\"ID\":\"PE/AEO/2026/000021\",\"IssuingAuthority\":{\"CountryCode\":\"PE\"},"
		"\"StatusCode\":\"revoked\"}},\"key\":\"AEO/PE/PE/AEO/2026/000021\","
		"\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\",\"version\":4}";
	static const char want[] =
		"{\"certId\":\"0x50452f41454f2f323032362f3030303032310000000000000000000000000000\","
		"\"country\":\"PE\",\"effective\":\"1767484800\",\"recordHash\":"
		"\"0xce54aee6cc7e0aef46cb56935e614a1e631e3fb03cf794025bcd600d88a5ae79\","
		"\"status\":\"cancelled\",\"version\":4}";
	struct tb_mapping *m = load_mapping("mappings/cadena-aeo.json");
	struct tb_json *rec, *out = NULL, *back = NULL;
	struct tb_error err = {0};
	struct tb_buf b;
	assert_int_equal(tb_json_parse(rec_text, strlen(rec_text), NULL, &rec, &err), 0);
	if (tb_mapping_reverse_record(m, NULL, rec, &out, &err) != 0)
		fail_msg("%s", err.msg);
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_canonical(out, &b, &err), 0);
	assert_string_equal((char *)b.data, want);
	tb_buf_fini(&b);
	/* and forward again: the event's bytes32 reads as the certificate's ID */
	assert_int_equal(tb_mapping_apply(m, NULL, out, &back, &err), 0);
	const struct tb_json *cert = tb_json_get(back, "AEOCertificate");
	assert_non_null(cert);
	assert_string_equal(tb_json_string(tb_json_get(cert, "ID")), "PE/AEO/2026/000021");
	assert_string_equal(tb_json_string(tb_json_get(cert, "StatusCode")), "revoked");
	tb_json_free(back);
	tb_json_free(out);
	tb_json_free(rec);
	/* 32 characters fit a bytes32; 33 are refused, named */
	static const char *const ids[] = {"PE/AEO/2026/0000000000000000021X",
	                                  "PE/AEO/2026/0000000000000000021XY"};
	for (int i = 0; i < 2; i++) {
		char text[512];
		snprintf(text, sizeof text, "{\"data\":{\"AEOCertificate\":{\"ID\":\"%s\"}},"
		         "\"version\":1}", ids[i]);
		assert_int_equal(tb_json_parse(text, strlen(text), NULL, &rec, &err), 0);
		int rc = tb_mapping_reverse_record(m, NULL, rec, &out, &err);
		tb_json_free(rec);
		tb_json_free(out);
		if (i == 0) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, TB_EINVAL);
		assert_null(out);
		assert_non_null(strstr(err.msg, "cadena-aeo.json: rule 1 (to AEOCertificate.ID)"));
		assert_non_null(strstr(err.msg, "does not fit a bytes32"));
	}
	/* a bytes32 that is not text does not read as an ID */
	const char *bin = "{\"certId\":"
	                  "\"0x00ff000000000000000000000000000000000000000000000000000000000000\","
	                  "\"status\":\"certified\",\"effective\":1,\"country\":\"PE\"}";
	assert_int_equal(tb_json_parse(bin, strlen(bin), NULL, &rec, &err), 0);
	assert_int_equal(tb_mapping_apply(m, NULL, rec, &back, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "is not a bytes32 holding text"));
	tb_json_free(rec);
	tb_mapping_free(m);
	/* envelope names only what a record's envelope has */
	const char *bad = "{\"id\":\"t\",\"version\":\"1\",\"source\":\"s\",\"record_type\":\"x\","
	                  "\"key\":[\"K\"],\"reversible\":true,\"envelope\":{\"hash\":\"h\"},"
	                  "\"rules\":[{\"from\":\"k\",\"to\":\"K\"}]}";
	assert_int_equal(tb_mapping_parse(bad, strlen(bad), "t.json", &m, &err), TB_EINVAL);
	assert_string_equal(err.msg, "mapping t.json: envelope \"hash\": not one of version, key, "
	                             "type, digest");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmrc_samples_translate_and_validate),
		cmocka_unit_test(hmrc_broken_fields_rejected),
		cmocka_unit_test(generated_records_round_trip),
		cmocka_unit_test(output_bounded_by_input),
		cmocka_unit_test(key_with_nul_refused),
		cmocka_unit_test(transforms_give_known_values),
		cmocka_unit_test(bad_values_and_mappings_named),
		cmocka_unit_test(reverse_writes_native_formats),
		cmocka_unit_test(cadena_reverse_gives_registry_fields),
	};
	return cmocka_run_group_tests_name("mapping", tests, setup, teardown);
}
