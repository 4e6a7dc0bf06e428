/* The XML decoder as an adapter sees it: the documented tree shape (attributes,
 * text, repeats), namespace-agnostic names (the HMRC namespaced and
 * namespace-less twins decode to the same tree), no DTD or entity ever loaded
 * (an XXE attempt is refused and nothing of the file appears), and the size and
 * depth limits exact at the boundary; many distinct names or attributes cost
 * linear time, not quadratic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/xml.h"

static void canonical(const struct tb_json *j, struct tb_buf *b)
{
	struct tb_error err = {0};
	tb_buf_init(b, 0);
	assert_int_equal(tb_json_write_canonical(j, b, &err), 0);
}

static void expect_tree(const char *xml, const char *want)
{
	struct tb_json *j;
	struct tb_error err = {0};
	struct tb_buf b;
	if (tb_xml_to_json(xml, strlen(xml), NULL, &j, &err))
		fail_msg("%s", err.msg);
	canonical(j, &b);
	assert_string_equal((char *)b.data, want);
	tb_buf_fini(&b);
	tb_json_free(j);
}

static void shape_is_as_documented(void **state)
{
	expect_tree("<a>  x  </a>", "{\"a\":\"x\"}");
	expect_tree("<a/>", "{\"a\":\"\"}");
	expect_tree("<a><b>1</b><b>2</b><c/></a>", "{\"a\":{\"b\":[\"1\",\"2\"],\"c\":\"\"}}");
	expect_tree("<Amount currencyID=\"GBP\">600</Amount>",
	            "{\"Amount\":{\"#text\":\"600\",\"@currencyID\":\"GBP\"}}");
	expect_tree("<a>t<!-- c --><b>1</b><?pi x?>u</a>", "{\"a\":{\"#text\":\"tu\",\"b\":\"1\"}}");
	expect_tree("<a><![CDATA[<x>&]]></a>", "{\"a\":\"<x>&\"}");
	expect_tree("<a>&lt;&amp;&#65;</a>", "{\"a\":\"<&A\"}");
	/* prefixes and xmlns declarations vanish; attribute prefixes too */
	expect_tree("<p:a xmlns:p=\"urn:x\" xmlns=\"urn:y\" xmlns:q=\"urn:q\" q:k=\"v\"><p:b>1</p:b><b>2</b></p:a>",
	            "{\"a\":{\"@k\":\"v\",\"b\":[\"1\",\"2\"]}}");
}

static void hmrc_twins_decode_identically(void **state)
{
	const char *v = getenv("TB_VECTORS");
	static const char *const pairs[][2] = {
		{"01_DMSRCV(1).xml", "1. DMSRCV_Function Code 02.xml"},
		{"02_DMSRCV(2).xml", "2. DMSRCV(2)_Function Code 02.xml"},
		{"03_DMSACC.xml", "3. DMSACC_Function Code 01.xml"},
		{"04_DMSRES.xml", "4. DMSRES_Function Code 07.xml"},
		{"05_DMSCLE.xml", "5. DMSCLE_Function Code 09.xml"},
	};
	assert_non_null(v);
	for (size_t i = 0; i < 5; i++) {
		struct tb_buf out[2];
		for (int k = 0; k < 2; k++) {
			char p[4096];
			struct tb_buf in;
			struct tb_json *j;
			struct tb_error err = {0};
			snprintf(p, sizeof p, "%s/wco-dm-hmrc/samples/TT_EX039a/Example_Notifications/%s", v,
			         pairs[i][k]);
			tb_buf_init(&in, 1 << 20);
			assert_int_equal(tb_buf_read_file(&in, p, &err), 0);
			if (tb_xml_to_json((const char *)in.data, in.len, NULL, &j, &err))
				fail_msg("%s: %s", p, err.msg);
			canonical(j, &out[k]);
			tb_json_free(j);
			tb_buf_fini(&in);
		}
		assert_string_equal((char *)out[0].data, (char *)out[1].data);
		assert_non_null(strstr((char *)out[0].data, "\"FunctionCode\":\""));
		tb_buf_fini(&out[0]);
		tb_buf_fini(&out[1]);
	}
}

static void no_dtd_no_entities(void **state)
{
	static const char *const bad[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
		"<!DOCTYPE a SYSTEM \"http://127.0.0.1:1/x.dtd\"><a/>",
		"<!DOCTYPE a [<!ENTITY l \"lol\"><!ENTITY l2 \"&l;&l;&l;&l;&l;&l;&l;&l;\">]><a>&l2;</a>",
	};
	for (size_t i = 0; i < 3; i++) {
		struct tb_json *j = (struct tb_json *)1;
		struct tb_error err = {0};
		assert_int_equal(tb_xml_to_json(bad[i], strlen(bad[i]), NULL, &j, &err), TB_EINVAL);
		assert_null(j);
		assert_non_null(strstr(err.msg, "xml: "));
		assert_null(strstr(err.msg, "root:"));
	}
}

static void malformed_named_with_line(void **state)
{
	struct tb_json *j;
	struct tb_error err = {0};
	const char *x = "<a>\n<b>\n</a>";
	assert_int_equal(tb_xml_to_json(x, strlen(x), NULL, &j, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "xml: line 3:"));
	assert_int_equal(tb_xml_to_json("", 0, NULL, &j, &err), TB_EINVAL);
	assert_int_equal(tb_xml_to_json("just text", 9, NULL, &j, &err), TB_EINVAL);
}

static void limits_exact(void **state)
{
	struct tb_xml_limits lim = {.max_bytes = 11, .max_depth = 3};
	struct tb_json *j;
	struct tb_error err = {0};
	assert_int_equal(tb_xml_to_json("<a>12345</a>", 12, &lim, &j, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "exceeds the limit of 11"));
	assert_int_equal(tb_xml_to_json("<a>1234</a>", 11, &lim, &j, &err), 0);
	tb_json_free(j);
	lim.max_bytes = 0;
	const char *d3 = "<a><b><c>1</c></b></a>", *d4 = "<a><b><c><d/></c></b></a>";
	assert_int_equal(tb_xml_to_json(d3, strlen(d3), &lim, &j, &err), 0);
	tb_json_free(j);
	assert_int_equal(tb_xml_to_json(d4, strlen(d4), &lim, &j, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "element <d> nested deeper than 3"));
	/* the default depth (64): 64 levels decode, 65 do not */
	struct tb_buf b;
	tb_buf_init(&b, 0);
	for (int k = 64; k <= 65; k++) {
		tb_buf_reset(&b);
		for (int i = 0; i < k; i++)
			tb_buf_puts(&b, "<e>");
		for (int i = 0; i < k; i++)
			tb_buf_puts(&b, "</e>");
		int rc = tb_xml_to_json((const char *)b.data, b.len, NULL, &j, &err);
		assert_int_equal(rc, k == 64 ? 0 : TB_ELIMIT);
		if (!rc)
			tb_json_free(j);
	}
	tb_buf_fini(&b);
}

static double cpu_seconds(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/* 200 000 distinct element names (1.9 MB) and 20 000 distinct attributes: each
 * member is found by hash, not by scanning the members before it. The old scan
 * took 81 s of CPU on the first; the bound is generous for sanitizer builds. */
static void many_distinct_names_stay_linear(void **state)
{
	(void)state;
	struct tb_buf x;
	tb_buf_init(&x, 0);
	assert_int_equal(tb_buf_puts(&x, "<r>"), 0);
	for (int i = 0; i < 200000; i++)
		assert_int_equal(tb_buf_printf(&x, "<a%d/>", i), 0);
	assert_int_equal(tb_buf_puts(&x, "</r>"), 0);
	struct tb_json *j = NULL;
	struct tb_error err;
	double t0 = cpu_seconds();
	assert_int_equal(tb_xml_to_json((const char *)x.data, x.len, NULL, &j, &err), 0);
	double spent = cpu_seconds() - t0;
	const struct tb_json *r = tb_json_get(j, "r");
	assert_int_equal(tb_json_len(r), 200000);
	assert_non_null(tb_json_get(r, "a199999"));
	assert_string_equal(tb_json_string(tb_json_get(r, "a123456")), "");
	tb_json_free(j);
	print_message("200000 distinct elements (%zu bytes): %.2f s CPU\n", x.len, spent);
	assert_true(spent < 10.0);

	tb_buf_reset(&x);
	assert_int_equal(tb_buf_puts(&x, "<r"), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(tb_buf_printf(&x, " b%d=\"%d\"", i, i), 0);
	assert_int_equal(tb_buf_puts(&x, "><c/></r>"), 0);
	t0 = cpu_seconds();
	assert_int_equal(tb_xml_to_json((const char *)x.data, x.len, NULL, &j, &err), 0);
	spent = cpu_seconds() - t0;
	r = tb_json_get(j, "r");
	assert_int_equal(tb_json_len(r), 20001);
	assert_string_equal(tb_json_string(tb_json_get(r, "@b19999")), "19999");
	tb_json_free(j);
	tb_buf_fini(&x);
	print_message("20000 distinct attributes: %.2f s CPU\n", spent);
	assert_true(spent < 10.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shape_is_as_documented),
		cmocka_unit_test(hmrc_twins_decode_identically),
		cmocka_unit_test(no_dtd_no_entities),
		cmocka_unit_test(malformed_named_with_line),
		cmocka_unit_test(limits_exact),
		cmocka_unit_test(many_distinct_names_stay_linear),
	};
	return cmocka_run_group_tests_name("xml", tests, NULL, NULL);
}
