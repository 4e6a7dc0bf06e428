/* From a TradeTrust document to a canonical record: sample data is wrapped by the
 * reference library (oa_wrap.js), verified (integrity), unsalted back to exactly the
 * sample, mapped by mappings/tradetrust-{coo,ebl}.json and validated against the WCO
 * dictionary. Unsalting follows the library's "<uuid v4>:<type>:<value>" format. */
#define _GNU_SOURCE /* popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oa.h"
#include "lib/buf.h"
#include "model/dict.h"
#include "model/mapping.h"
#include "tt_test.h"

static struct tb_json *read_json(const char *cmd_or_path, int is_cmd)
{
	struct tb_buf b;
	struct tb_error err;
	struct tb_json *j = NULL;
	tb_buf_init(&b, 16 << 20);
	if (is_cmd) {
		FILE *p = popen(cmd_or_path, "r");
		char chunk[4096];
		size_t n;
		assert_non_null(p);
		while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
			assert_int_equal(tb_buf_append(&b, chunk, n), 0);
		if (pclose(p) != 0)
			fail_msg("%s failed", cmd_or_path);
	} else if (tb_buf_read_file(&b, cmd_or_path, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	if (tb_json_parse((char *)b.data, b.len, NULL, &j, &err) != 0)
		fail_msg("%s: %s", cmd_or_path, err.msg);
	tb_buf_fini(&b);
	return j;
}

static int same_json(const struct tb_json *a, const struct tb_json *b)
{
	struct tb_buf x, y;
	tb_buf_init(&x, 0);
	tb_buf_init(&y, 0);
	tb_json_write_canonical(a, &x, NULL);
	tb_json_write_canonical(b, &y, NULL);
	int same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
	tb_buf_fini(&x);
	tb_buf_fini(&y);
	return same;
}

static void sample_to_record(const char *sample, const char *mapping, const char *type,
                             const char *root, const char *id_field, const char *id)
{
	const char *src = getenv("TB_SRCDIR");
	char path[1024], cmd[2048];
	struct tb_error err;
	snprintf(path, sizeof path, "%s/adapters/tradetrust/samples/%s", src, sample);
	snprintf(cmd, sizeof cmd, "timeout 60 node '%s/adapters/tradetrust/oa_wrap.js' '%s'", src,
	         path);
	struct tb_json *raw = read_json(path, 0), *doc = read_json(cmd, 1), *native = NULL;
	assert_int_equal(tb_oa_v2_integrity(doc, NULL, &err), 0);
	assert_int_equal(tb_oa_v2_unsalt(tb_json_get(doc, "data"), &native, &err), 0);
	assert_true(same_json(native, raw));
	struct tb_mapping *m = NULL;
	struct tb_json *data = NULL;
	struct tb_dict *dict = NULL;
	struct tb_violations v;
	memset(&v, 0, sizeof v);
	snprintf(path, sizeof path, "%s/mappings/%s", src, mapping);
	if (tb_mapping_load(path, &m, &err) != 0 || tb_mapping_apply(m, NULL, native, &data, &err))
		fail_msg("%s: %s", mapping, err.msg);
	snprintf(path, sizeof path, "%s/mappings/wco", src);
	assert_int_equal(tb_dict_load(path, &dict, &err), 0);
	assert_int_equal(tb_dict_validate_data(dict, type, data, "$.data", &v), 0);
	assert_int_equal(v.len, 0);
	const struct tb_json *r = tb_json_get(data, root);
	assert_string_equal(tb_json_string(tb_json_get(r, id_field)), id);
	tb_violations_fini(&v);
	tb_dict_free(dict);
	tb_json_free(data);
	tb_mapping_free(m);
	tb_json_free(native);
	tb_json_free(doc);
	tb_json_free(raw);
}

static void coo_mapping(void **state)
{
	(void)state;
	sample_to_record("coo-data.json", "tradetrust-coo.json", "origin.certificate",
	                 "OriginCertificate", "ID", "PE-COO-2026-000123");
}

static void ebl_mapping(void **state)
{
	(void)state;
	sample_to_record("ebl-data.json", "tradetrust-ebl.json", "transport.document",
	                 "TransportDocument", "ID", "PECLL2026112001");
}

/* Typed values as the library writes them ("ee7f3323-...:number:5"). */
static void unsalt_types(void **state)
{
	(void)state;
	const char *text = "{\"n\":\"ee7f3323-1634-4dea-8c12-f0bb83aff874:number:5\","
	                   "\"b\":\"ee7f3323-1634-4dea-8c12-f0bb83aff874:boolean:true\","
	                   "\"z\":\"ee7f3323-1634-4dea-8c12-f0bb83aff874:null:null\","
	                   "\"u\":\"ee7f3323-1634-4dea-8c12-f0bb83aff874:undefined:undefined\","
	                   "\"s\":\"ee7f3323-1634-4dea-8c12-f0bb83aff874:string:a:b\","
	                   "\"v3\":\"ee7f3323-1634-3dea-8c12-f0bb83aff874:string:kept\"}";
	const char *want = "{\"n\":5,\"b\":true,\"z\":null,\"s\":\"a:b\","
	                   "\"v3\":\"ee7f3323-1634-3dea-8c12-f0bb83aff874:string:kept\"}";
	struct tb_json *in = NULL, *w = NULL, *out = NULL;
	struct tb_error err;
	assert_int_equal(tb_json_parse(text, strlen(text), NULL, &in, &err), 0);
	assert_int_equal(tb_json_parse(want, strlen(want), NULL, &w, &err), 0);
	assert_int_equal(tb_oa_v2_unsalt(in, &out, &err), 0);
	assert_true(same_json(out, w));
	tb_json_free(in);
	tb_json_free(w);
	tb_json_free(out);
}

const struct CMUnitTest tt_mapping_tests[] = {
	cmocka_unit_test(coo_mapping),
	cmocka_unit_test(ebl_mapping),
	cmocka_unit_test(unsalt_types),
};

int tt_mapping_run(void)
{
	return cmocka_run_group_tests_name("tradetrust mappings", tt_mapping_tests, NULL, NULL);
}
