/* tradebridge translate and validate as an operator runs them: exit status 0
 * valid / 1 invalid / 2 usage, every violation on its own line naming path, rule,
 * element and WCO ID, --json for machines, the id validate prints equal to the
 * sha256 canon prints, and translate's refusals naming mapping, rule and path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "runcli.h"


static char src[4096], sample[8192];

#define RUN(r, ...) TB_RUN((r), __VA_ARGS__)
#define OUT(r) TB_OUT(r)
#define ERR(r) TB_ERR(r)

static int setup(void **state)
{
	const char *b = getenv("TB_BUILDDIR"), *s = getenv("TB_SRCDIR"), *v = getenv("TB_VECTORS");
	if (!b || !s || !v)
		return -1;
	snprintf(src, sizeof src, "%s", s);
	snprintf(sample, sizeof sample, "%s/wco-dm-hmrc/samples/TT_EX039a/TT_EX039a.xml", v);
	char wco[8192];
	snprintf(wco, sizeof wco, "%s/mappings/wco", s);
	setenv("TRADEBRIDGE_WCO_DIR", wco, 1);
	unsetenv("TRADEBRIDGE_HASH_SALT");
	return 0;
}

static const char *map(const char *name)
{
	static char p[2][8192];
	static int k;
	k ^= 1;
	snprintf(p[k], sizeof p[k], "%s/%s", src, name);
	return p[k];
}

/* Write text to a new temporary file; returns its (static) name. */
static const char *temp_with(const char *text, size_t len)
{
	static char p[64];
	strcpy(p, "/tmp/tb_mcli_in_XXXXXX");
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return p;
}

static void translate_then_validate(void **state)
{
	struct tb_run r, v, c;
	RUN(&r, "translate", "-m", map("mappings/hmrc-dec.json"), sample);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(OUT(&r), "\"type\": \"declaration\""));
	const char *rec = temp_with(OUT(&r), r.out.len);
	char recpath[64];
	strcpy(recpath, rec);
	RUN(&v, "validate", recpath);
	assert_int_equal(v.status, 0);
	RUN(&c, "canon", recpath);
	assert_int_equal(c.status, 0);
	/* the id validate prints is the sha256 canon prints */
	const char *sha = strstr(OUT(&c), "sha256: ");
	assert_non_null(sha);
	char want[200];
	snprintf(want, sizeof want, "valid: id %.64s\n", sha + 8);
	assert_non_null(strstr(OUT(&v), want));
	tb_run_fini(&c);
	tb_run_fini(&v);
	RUN(&v, "validate", "--json", recpath);
	assert_int_equal(v.status, 0);
	assert_non_null(strstr(OUT(&v), "{\"valid\":true,\"id\":\""));
	tb_run_fini(&v);
	unlink(recpath);
	tb_run_fini(&r);
}

static void invalid_record_named(void **state)
{
	const char *bad = "{\"schema\":\"tradebridge/1\",\"type\":\"declaration\",\"key\":\"k\",\"version\":1,"
	                  "\"data\":{\"Declaration\":{\"FunctionCode\":\"9\",\"FunctionalReferenceID\":"
	                  "\"L\",\"TypeCode\":\"IMA\",\"Declarant\":{\"Address\":{\"CountryCode\":\"QQ\"}},"
	                  "\"GoodsItemQuantity\":\"x\"}}}";
	char p[64];
	strcpy(p, temp_with(bad, strlen(bad)));
	struct tb_run r;
	RUN(&r, "validate", p);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(OUT(&r), "$.data.Declaration.Declarant.Address.CountryCode: codelist: "
	                                "Declaration.Declarant.Address.CountryCode (WCO 242): expected a "
	                                "code from code list iso3166-1-alpha2\n"));
	assert_non_null(strstr(OUT(&r), "$.data.Declaration.GoodsItemQuantity: format: "
	                                "Declaration.GoodsItemQuantity (WCO 228): expected format n..5\n"));
	assert_non_null(strstr(OUT(&r), "invalid: 2 violations"));
	tb_run_fini(&r);
	RUN(&r, "validate", "--json", p);
	assert_int_equal(r.status, 1);
	struct tb_json *j;
	struct tb_error err = {0};
	assert_int_equal(tb_json_parse(OUT(&r), r.out.len, NULL, &j, &err), 0);
	assert_int_equal(tb_json_get(j, "valid")->u.boolean, 0);
	const struct tb_json *v0 = tb_json_at(tb_json_get(j, "violations"), 0);
	assert_string_equal(tb_json_string(tb_json_get(v0, "rule")), "codelist");
	assert_string_equal(tb_json_string(tb_json_get(v0, "wco")), "242");
	assert_string_equal(tb_json_string(tb_json_get(v0, "path")),
	                    "$.data.Declaration.Declarant.Address.CountryCode");
	tb_json_free(j);
	tb_run_fini(&r);
	unlink(p);
	strcpy(p, temp_with("{not json", 9));
	RUN(&r, "validate", p);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(OUT(&r), "not JSON"));
	tb_run_fini(&r);
	unlink(p);
}

/* Usage errors (missing files, no mapping, --reverse on a one-way mapping):
 * tests/cli-cases/translate-*.case and validate-*.case. */
static void translate_native_canonical(void **state)
{
	struct tb_run r;
	RUN(&r, "translate", "-m", map("mappings/hmrc-dec.json"), "--native", "--canonical", sample);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(OUT(&r), "{\"MetaData\":{"));
	assert_non_null(strstr(OUT(&r), "\"StatisticalValueAmount\":{\"#text\":\"600\",\"@currencyID\":\"GBP\"}"));
	tb_run_fini(&r);
}

static void translate_refusals_named(void **state)
{
	struct tb_run r;
	/* the notification mapping on a declaration: the rule and path are named */
	RUN(&r, "translate", "-m", map("mappings/hmrc-res.json"), sample);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(ERR(&r), "mapping hmrc-res.json: rule 1 (to Response.FunctionCode): at $: "
	                                "required MetaData.Response.FunctionCode is missing"));
	tb_run_fini(&r);
	/* a reversible mapping, forward then back */
	const char *native = "{\"certificate\":{\"number\":\"C-1\",\"status\":\"RI\",\"since\":\"0\"},"
	                     "\"authority\":{\"country\":\"PE\"},\"holder\":{\"name\":\"H\",\"taxId\":\"PE1\"}}";
	char p[64], q[64];
	strcpy(p, temp_with(native, strlen(native)));
	tb_run_cli(&r, p, (const char *const[]){"translate", "--canonical", "-m",
	                                   map("tests/model/aeo-roundtrip.json"), NULL});
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(OUT(&r), "\"StatusCode\":\"reinstated\""));
	assert_non_null(strstr(OUT(&r), "\"EffectiveDateTime\":\"1970-01-01T00:00:00Z\""));
	assert_non_null(strstr(OUT(&r), "\"key\":\"AEO/PE/C-1\""));
	strcpy(q, temp_with(OUT(&r), r.out.len));
	tb_run_fini(&r);
	RUN(&r, "translate", "--reverse", "--canonical", "-m", map("tests/model/aeo-roundtrip.json"), q);
	assert_int_equal(r.status, 0);
	assert_string_equal(OUT(&r), "{\"authority\":{\"country\":\"PE\"},\"certificate\":{\"number\":\"C-1\","
	                             "\"since\":\"0\",\"status\":\"RI\"},\"holder\":{\"name\":\"H\","
	                             "\"taxId\":\"PE1\"}}\n");
	tb_run_fini(&r);
	/* an invalid result is not printed: exit 1, the violation on stderr */
	const char *bad = "{\"certificate\":{\"number\":\"C-1\",\"status\":\"A\",\"since\":\"0\"},"
	                  "\"authority\":{\"country\":\"ZZ\"},\"holder\":{\"name\":\"H\",\"taxId\":\"PE1\"}}";
	unlink(p);
	strcpy(p, temp_with(bad, strlen(bad)));
	RUN(&r, "translate", "-m", map("tests/model/aeo-roundtrip.json"), p);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.out.len, 0);
	assert_non_null(strstr(ERR(&r), "invalid record: $.data.AEOCertificate.IssuingAuthority.CountryCode: "
	                                "codelist"));
	tb_run_fini(&r);
	unlink(p);
	unlink(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(translate_then_validate),
		cmocka_unit_test(invalid_record_named),
		cmocka_unit_test(translate_native_canonical),
		cmocka_unit_test(translate_refusals_named),
	};
	return cmocka_run_group_tests_name("model_cli", tests, setup, NULL);
}
