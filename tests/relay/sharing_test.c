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

static const char *wco_dir(void)
{
	static char dir[4096];
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	snprintf(dir, sizeof dir, "%s/mappings/wco", src);
	return dir;
}

static const char config[] =
	"{\"relay\": {\"wco_dir\": \"%s\"},"
	" \"routes\": [{\"from\": \"pe\", \"to\": \"cl\", \"types\": [\"cadena.aeo.status\"]},"
	"              {\"from\": \"pe\", \"to\": \"kr\", \"types\": [\"cadena.aeo.status\"]},"
	"              {\"from\": \"pe\", \"to\": \"us\", \"types\": [\"cadena.aeo.status\"]}],"
	" \"policies\": {\"cl\": {\"country\": \"CL\", \"types\": [\"aeo.status\"],"
	"                      \"drop\": [\"AEOCertificate.Holder.Address\", %s],"
	"                      \"hash\": [\"AEOCertificate.Holder.ID\"]},"
	"              \"kr\": {\"country\": \"KR\", \"types\": [\"aeo.status\"]},"
	"              \"us\": {\"country\": \"US\", \"types\": [\"declaration\"]}},"
	" \"mras\": {\"PE\": [\"CL\", \"CO\"]}}";

static struct tb_json *config_doc(const char *extra_drop)
{
	char text[16384];
	snprintf(text, sizeof text, config, wco_dir(), extra_drop);
	return parse(text);
}

/* contrib/demo/aeo-status.json's shape, issued by PE. */
static const char record[] =
	"{\"schema\": \"tradebridge/1\", \"type\": \"aeo.status\", \"key\": \"K\", \"version\": 1,"
	" \"source\": {\"network\": \"pe\", \"doctype\": \"cadena.aeo.status\"},"
	" \"data\": {\"AEOCertificate\": {\"ID\": \"PE-AEO-1\", \"StatusCode\": \"active\","
	"   \"IssuingAuthority\": {\"CountryCode\": \"PE\"},"
	"   \"Holder\": {\"Name\": \"Exportadora Andina S.A.C.\", \"ID\": \"PE20100047218\","
	"   \"Address\": {\"CityName\": \"Lima\"}},"
	"   \"CategoryCode\": [\"AEOF\", \"AEOS\"]}, \"mraPartners\": %s}}";

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
	struct tb_json *doc = config_doc("\"AEOCertificate.CategoryCode[1]\"");
	setenv("TRADEBRIDGE_RELAY_HASH_SALT", "pepper", 1);
	if (tb_sharing_load(&s, doc, "test.json", 1, &e) != 0)
		fail_msg("%s", e.msg);
	/* KR has no MRA with PE: nothing, unless the record itself lists KR */
	assert_null(offer(&s, "kr", "[]"));
	struct tb_json *kr = offer(&s, "kr", "[\"KR\"]");
	assert_non_null(kr);
	tb_json_free(kr);
	/* US takes declarations only; ZZ has no policy; nothing routed pe -> zz */
	assert_null(offer(&s, "us", "[\"US\"]"));
	assert_null(offer(&s, "zz", "[\"ZZ\"]"));
	/* CL: MRA from the configuration; address and the second category gone, id hashed */
	struct tb_json *cl = offer(&s, "cl", "[]");
	assert_non_null(cl);
	const struct tb_json *c = tb_json_get(tb_json_get(cl, "data"), "AEOCertificate");
	const struct tb_json *h = tb_json_get(c, "Holder");
	assert_null(tb_json_get(h, "Address"));
	assert_int_equal(tb_json_len(tb_json_get(c, "CategoryCode")), 1);
	assert_string_equal(tb_json_string(tb_json_at(tb_json_get(c, "CategoryCode"), 0)), "AEOF");
	assert_string_equal(tb_json_string(tb_json_get(h, "Name")), "Exportadora Andina S.A.C.");
	/* printf 'pepper\0PE20100047218' | sha256sum */
	assert_string_equal(tb_json_string(tb_json_get(h, "ID")),
	                    "sha256:b258f5766cf39fe3adefd7e4303d96190aa9577a8d36a278401bf0dcef9528c7");
	tb_json_free(cl);
	tb_sharing_fini(&s);
	/* hashing without a salt is a configuration error */
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
	assert_int_equal(tb_sharing_load(&s, doc, "test.json", 1, &e), TB_ECONFIG);
	assert_non_null(strstr(e.msg, "policies.cl.hash"));
	tb_json_free(doc);
}

/* A policy path that names nothing the partner can receive would drop nothing while
 * check-config says it drops it: each is a configuration error naming the path. */
static void policy_path_matching_nothing_is_refused(void **state)
{
	(void)state;
	static const struct {
		const char *drop, *msg;
	} cases[] = {
		{"\"no.such\"", "policies.cl.drop[1]: \"no.such\" matches nothing in the record types "
		                "this partner receives: aeo.status records start at AEOCertificate"},
		{"\"AEOCertificate.Holder.Adress\"", "AEOCertificate.Holder.Adress is not an element "
		                                     "of aeo.status in the dictionary"},
		{"\"AEOCertificate.Holder[1].Name\"", "AEOCertificate.Holder occurs at most 1 time, so "
		                                      "[1] names nothing"},
		{"\"AEOCertificate..ID\"", "policies.cl.drop[1]: path \"AEOCertificate..ID\": an empty "
		                           "segment"},
		{"\"AEOCertificate.ID[x]\"", "an index that is not [] or [N]"},
		{"\"AEOCertificate.ID[\"", "a ']' or '[' inside a name"},
		{"\"Declaration.ID\"", "aeo.status records start at AEOCertificate"},
	};
	setenv("TRADEBRIDGE_RELAY_HASH_SALT", "pepper", 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tb_sharing s;
		struct tb_error e;
		struct tb_json *doc = config_doc(cases[i].drop);
		assert_int_equal(tb_sharing_load(&s, doc, "test.json", 1, &e), TB_ECONFIG);
		if (!strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, e.msg, cases[i].msg);
		tb_json_free(doc);
	}
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
}

/* --- the reproduction and the property: nothing dropped or hashed reaches
 * the partner in clear, inside repeats or not --------------------------------------- */

/* What partner "p" receives of rec under a policy {types, drop, hash}, as bytes. */
static char *deliver(const char *types, const char *drop, const char *hash, const char *rec_text)
{
	char *text = malloc(1 << 16);
	snprintf(text, 1 << 16, "{\"relay\": {\"wco_dir\": \"%s\"}, \"routes\": [{\"from\": \"src\","
	         " \"to\": \"p\"}], \"policies\": {\"p\": {\"country\": \"CL\", \"types\": %s,"
	         " \"drop\": %s, \"hash\": %s}}}", wco_dir(), types, drop, hash);
	struct tb_json *doc = parse(text), *rec = parse(rec_text), *out = NULL;
	struct tb_sharing s;
	struct tb_error e;
	if (tb_sharing_load(&s, doc, "test.json", 1, &e) != 0)
		fail_msg("policy %s / %s: %s", drop, hash, e.msg);
	if (tb_sharing_policy(&s, "p", rec, &out, &e) != 0)
		fail_msg("policy: %s", e.msg);
	assert_non_null(out);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_canonical(out, &b, &e), 0);
	char *bytes = strdup((const char *)b.data);
	tb_buf_fini(&b);
	tb_json_free(out);
	tb_json_free(rec);
	tb_json_free(doc);
	tb_sharing_fini(&s);
	free(text);
	return bytes;
}

static const char declaration[] =
	"{\"schema\": \"tradebridge/1\", \"type\": \"declaration\", \"key\": \"LRN-1\", \"version\": 1,"
	" \"source\": {\"network\": \"src\", \"doctype\": \"dms\"},"
	" \"data\": {\"Declaration\": {\"FunctionCode\": \"9\", \"TypeCode\": \"IMZ\","
	"  \"GoodsShipment\": {\"GovernmentAgencyGoodsItem\": ["
	"   {\"SequenceNumeric\": \"1\", \"Commodity\": {\"Description\": \"Secret widgets A\"}},"
	"   {\"SequenceNumeric\": \"2\", \"Commodity\": {\"Description\": \"Secret widgets B\"}},"
	"   {\"SequenceNumeric\": \"3\", \"Commodity\": {\"Description\": \"Secret widgets C\"}}]}}}}";

/* issue 11 item 1: dropping the commodity sent every description in clear. */
static void drop_inside_repeats(void **state)
{
	(void)state;
	static const char *const every[] = {
		"Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Commodity",
		"Declaration.GoodsShipment.GovernmentAgencyGoodsItem[].Commodity",
		"Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Commodity[0]",
		"Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Commodity.Description",
	};
	char drop[512];
	for (size_t i = 0; i < sizeof every / sizeof every[0]; i++) {
		snprintf(drop, sizeof drop, "[\"%s\"]", every[i]);
		char *got = deliver("[\"declaration\"]", drop, "[]", declaration);
		if (strstr(got, "Secret widgets"))
			fail_msg("drop %s: delivered %s", every[i], got);
		assert_non_null(strstr(got, "\"SequenceNumeric\":\"3\""));
		free(got);
	}
	/* [N] names one repeat only */
	char *got = deliver("[\"declaration\"]",
	                    "[\"Declaration.GoodsShipment.GovernmentAgencyGoodsItem[0].Commodity\"]",
	                    "[]", declaration);
	assert_null(strstr(got, "Secret widgets A"));
	assert_non_null(strstr(got, "Secret widgets B"));
	assert_non_null(strstr(got, "Secret widgets C"));
	free(got);
	/* hashed inside repeats: every description replaced, none in clear */
	setenv("TRADEBRIDGE_RELAY_HASH_SALT", "pepper", 1);
	got = deliver("[\"declaration\"]", "[]",
	              "[\"Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Commodity.Description\"]",
	              declaration);
	assert_null(strstr(got, "Secret widgets"));
	assert_non_null(strstr(got, "\"Description\":\"sha256:"));
	free(got);
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
}

/* The dictionary as the generator sees it: element paths and their max. */
struct gen {
	char **path;
	long *max;
	size_t n;
	char *types[16], *roots[16];
	size_t ntypes;
	unsigned seq;
	/* leaves of the record being built: their value and concrete path */
	char *leaf_val[4096], *leaf_path[4096];
	size_t nleaves;
};

static struct tb_json *read_json(const char *dir, const char *name)
{
	char path[4096];
	struct tb_buf b;
	struct tb_error e;
	struct tb_json *j = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	tb_buf_init(&b, 1 << 24);
	if (tb_buf_read_file(&b, path, &e) || tb_json_parse((const char *)b.data, b.len, NULL, &j, &e))
		fail_msg("%s: %s", path, e.msg);
	tb_buf_fini(&b);
	return j;
}

static void gen_load(struct gen *g)
{
	static const char *const dicts[] = {"dictionary.json", "dictionary-tradebridge.json"};
	static const char *const types[] = {"aeo.status", "customs.status", "declaration",
	                                    "declaration.response", "origin.certificate",
	                                    "transport.document"};
	memset(g, 0, sizeof *g);
	for (size_t f = 0; f < 2; f++) {
		struct tb_json *d = read_json(wco_dir(), dicts[f]);
		const struct tb_json *el = tb_json_get(d, "elements");
		for (size_t i = 0; i < tb_json_len(el); i++) {
			const struct tb_json *e = tb_json_at(el, i), *mx = tb_json_get(e, "max");
			g->path = realloc(g->path, (g->n + 1) * sizeof *g->path);
			g->max = realloc(g->max, (g->n + 1) * sizeof *g->max);
			g->path[g->n] = strdup(tb_json_string(tb_json_get(e, "path")));
			g->max[g->n] = mx ? (long)mx->u.number.value : 1;
			g->n++;
		}
		tb_json_free(d);
	}
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		char name[128];
		snprintf(name, sizeof name, "types/%s.json", types[t]);
		struct tb_json *d = read_json(wco_dir(), name);
		g->types[g->ntypes] = strdup(types[t]);
		g->roots[g->ntypes++] = strdup(tb_json_string(tb_json_get(d, "root")));
		tb_json_free(d);
	}
}

static void gen_free(struct gen *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->path[i]);
	for (size_t i = 0; i < g->ntypes; i++) {
		free(g->types[i]);
		free(g->roots[i]);
	}
	free(g->path);
	free(g->max);
}

static int is_child(const char *parent, const char *path)
{
	size_t n = strlen(parent);
	return strncmp(path, parent, n) == 0 && path[n] == '.' && !strchr(path + n + 1, '.');
}

/* A random value of element k at concrete path at (leaves get unique tokens). */
static void gen_value(struct gen *g, size_t k, const char *at, int depth, struct tb_buf *out)
{
	size_t kids = 0;
	for (size_t i = 0; i < g->n; i++)
		kids += is_child(g->path[k], g->path[i]);
	if (!kids || depth > 6 || g->nleaves + 64 > 4096) {
		char tok[32];
		snprintf(tok, sizeof tok, "Tk%06uQ", g->seq++);
		tb_buf_printf(out, "\"%s\"", tok);
		g->leaf_val[g->nleaves] = strdup(tok);
		g->leaf_path[g->nleaves++] = strdup(at);
		return;
	}
	tb_buf_putc(out, '{');
	int first = 1;
	for (size_t i = 0; i < g->n; i++) {
		if (!is_child(g->path[k], g->path[i]) || rand() % 3 == 0)
			continue;
		const char *name = strrchr(g->path[i], '.') + 1;
		tb_buf_printf(out, "%s\"%s\":", first ? "" : ",", name);
		first = 0;
		char sub[1024];
		if (g->max[i] == 1) {
			snprintf(sub, sizeof sub, "%s.%s", at, name);
			gen_value(g, i, sub, depth + 1, out);
			continue;
		}
		int reps = 1 + rand() % 3;
		tb_buf_putc(out, '[');
		for (int r = 0; r < reps; r++) {
			snprintf(sub, sizeof sub, "%s.%s[%d]", at, name, r);
			tb_buf_puts(out, r ? "," : "");
			gen_value(g, i, sub, depth + 1, out);
		}
		tb_buf_putc(out, ']');
	}
	tb_buf_putc(out, '}');
}

/* A random policy path under root: every element on the way, a random index form. */
static void gen_policy_path(const struct gen *g, const char *root, char *out, size_t cap)
{
	size_t cand[2048], nc = 0;
	for (size_t i = 0; i < g->n && nc < 2048; i++)
		if (strncmp(g->path[i], root, strlen(root)) == 0 && g->path[i][strlen(root)] == '.')
			cand[nc++] = i;
	const char *p = g->path[cand[rand() % nc]];
	char prefix[1024];
	size_t len = 0;
	out[0] = 0;
	for (const char *s = p; *s;) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		snprintf(prefix, sizeof prefix, "%.*s", (int)(s - p + l), p);
		long max = 1;
		for (size_t i = 0; i < g->n; i++)
			if (strcmp(g->path[i], prefix) == 0)
				max = g->max[i];
		const char *ix = "";
		char nb[8];
		int r = rand() % 4;
		if (r == 1)
			ix = "[]";
		else if (r == 2 && (max < 0 || max > 2)) {
			snprintf(nb, sizeof nb, "[%d]", rand() % 3);
			ix = nb;
		} else if (r == 3)
			ix = "[0]";
		len += (size_t)snprintf(out + len, cap - len, "%s%.*s%s", len ? "." : "", (int)l, s, ix);
		s += l + (dot != NULL);
	}
}

/* The oracle, written apart from the code under test: does a policy path cover the
 * leaf at concrete path c (same names; an index matches "every" or the same N; a
 * single element is its own repeat 0)? */
static int covers(const char *pol, const char *c)
{
	while (*pol) {
		size_t pl = strcspn(pol, ".["), cl = strcspn(c, ".[");
		if (pl != cl || strncmp(pol, c, pl) != 0)
			return 0;
		pol += pl, c += cl;
		long pi = -1, ci = 0;
		if (*pol == '[') {
			pi = pol[1] == ']' ? -1 : strtol(pol + 1, NULL, 10);
			pol = strchr(pol, ']') + 1;
		}
		if (*c == '[') {
			ci = strtol(c + 1, NULL, 10);
			c = strchr(c, ']') + 1;
		}
		if (pi >= 0 && pi != ci)
			return 0;
		pol += *pol == '.';
		if (*pol && *c != '.')
			return 0;
		c += *c == '.';
	}
	return 1;
}

static void strlist_add(struct tb_buf *b, const char *s)
{
	tb_buf_printf(b, "%s\"%s\"", b->len > 1 ? "," : "", s);
}

static void property_no_clear_text_leaves(void **state)
{
	(void)state;
	struct gen g;
	gen_load(&g);
	srand(11);
	setenv("TRADEBRIDGE_RELAY_HASH_SALT", "pepper", 1);
	size_t removed = 0, kept = 0;
	for (int iter = 0; iter < 150; iter++) {
		size_t t = (size_t)rand() % g.ntypes;
		size_t root = 0;
		for (size_t i = 0; i < g.n; i++)
			root = strcmp(g.path[i], g.roots[t]) == 0 ? i : root;
		struct tb_buf rec, drop, hash;
		tb_buf_init(&rec, 0);
		tb_buf_init(&drop, 0);
		tb_buf_init(&hash, 0);
		tb_buf_printf(&rec, "{\"schema\": \"tradebridge/1\", \"type\": \"%s\", \"key\": \"K\","
		              " \"version\": 1, \"source\": {\"network\": \"src\", \"doctype\": \"d\"},"
		              " \"data\": {\"%s\":", g.types[t], g.roots[t]);
		gen_value(&g, root, g.roots[t], 0, &rec);
		tb_buf_puts(&rec, ", \"issuer\": \"XX\", \"mraPartners\": [\"CL\"]}}"); /* aeo.status: MRA */
		tb_buf_putc(&drop, '[');
		tb_buf_putc(&hash, '[');
		char pols[8][1024];
		int npol = 1 + rand() % 4;
		for (int k = 0; k < npol; k++) {
			gen_policy_path(&g, g.roots[t], pols[k], sizeof pols[k]);
			strlist_add(rand() % 2 ? &drop : &hash, pols[k]);
		}
		tb_buf_putc(&drop, ']');
		tb_buf_putc(&hash, ']');
		char types[256];
		snprintf(types, sizeof types, "[\"%s\", \"%s\"]", g.types[t],
		         g.types[(t + 1) % g.ntypes]);
		char *got = deliver(types, (const char *)drop.data, (const char *)hash.data,
		                    (const char *)rec.data);
		for (size_t i = 0; i < g.nleaves; i++) {
			int cov = 0;
			for (int k = 0; k < npol; k++)
				cov |= covers(pols[k], g.leaf_path[i]);
			int seen = strstr(got, g.leaf_val[i]) != NULL;
			if (cov && seen)
				fail_msg("iteration %d: %s (at %s) reached the partner in clear under drop %s "
				         "hash %s", iter, g.leaf_val[i], g.leaf_path[i], (const char *)drop.data,
				         (const char *)hash.data);
			if (!cov && !seen)
				fail_msg("iteration %d: %s (at %s) was lost though no path names it: drop %s "
				         "hash %s", iter, g.leaf_val[i], g.leaf_path[i], (const char *)drop.data,
				         (const char *)hash.data);
			removed += cov;
			kept += !cov;
			free(g.leaf_val[i]);
			free(g.leaf_path[i]);
		}
		g.nleaves = 0;
		free(got);
		tb_buf_fini(&rec);
		tb_buf_fini(&drop);
		tb_buf_fini(&hash);
	}
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
	print_message("property: %zu leaf values covered by a policy path, %zu kept\n", removed, kept);
	assert_true(removed > 100 && kept > 100); /* the generator reached both sides */
	gen_free(&g);
}

static const char native[] =
	"{\"certId\": \"0x50452d41454f2d30303031323300000000000000000000000000000000000000\","
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

static int translate_load(const char *allow, struct tb_error *e)
{
	char text[10000], path[4096];
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	snprintf(path, sizeof path, "%s/mappings/cadena-aeo.json", src);
	snprintf(text, sizeof text, "{\"relay\": {\"wco_dir\": \"%s\"}, \"routes\": [{\"from\": "
	         "\"pe\", \"to\": \"cl\", \"mapping\": \"%s\", \"allow_missing\": %s}]}", wco_dir(),
	         path, allow);
	struct tb_json *doc = parse(text);
	struct tb_sharing s;
	int rc = tb_sharing_load(&s, doc, "test.json", 1, e);
	if (rc == 0)
		tb_sharing_fini(&s);
	tb_json_free(doc);
	return rc;
}

/* A route without "reverse": the destination is handed the canonical record (no
 * native form is made); with one, the envelope's version and the digest of the
 * record as delivered land in the native tree. */
static void outgoing_only_with_reverse(void **state)
{
	(void)state;
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	const char *rec_text = "{\"schema\": \"tradebridge/1\", \"type\": \"aeo.status\", "
	                       "\"key\": \"k\", \"version\": 2, \"source\": {\"network\": \"pe\", "
	                       "\"doctype\": \"cadena.aeo.status\"}, \"data\": {\"AEOCertificate\": "
	                       "{\"ID\": \"PE-1\", \"StatusCode\": \"certified\"}}}";
	for (int with = 0; with < 2; with++) {
		char text[16384], path[2048];
		snprintf(path, sizeof path, "%s/mappings/cadena-aeo.json", src);
		snprintf(text, sizeof text, "{\"relay\": {\"wco_dir\": \"%s\"}, \"routes\": [{\"from\": "
		         "\"pe\", \"to\": \"cl\", \"mapping\": \"%s\"%s%s%s, \"allow_missing\": "
		         "[\"AEOCertificate.Holder\"]}]}", wco_dir(), path, with ? ", \"reverse\": \"" : "",
		         with ? path : "", with ? "\"" : "");
		struct tb_json *doc = parse(text), *rec = parse(rec_text), *out = NULL;
		struct tb_sharing s;
		struct tb_error e;
		assert_int_equal(tb_sharing_load(&s, doc, "test.json", 1, &e), 0);
		assert_int_equal(tb_sharing_outgoing(&s, "cl", rec, &out, &e), 0);
		if (!with) {
			assert_null(out);
		} else {
			assert_non_null(out);
			assert_string_equal(tb_json_string(tb_json_get(out, "status")), "certified");
			assert_int_equal((int)tb_json_get(out, "version")->u.number.value, 2);
			const char *h = tb_json_string(tb_json_get(out, "recordHash"));
			assert_non_null(h);
			assert_int_equal(strlen(h), 66);
		}
		/* another destination has no route: canonical */
		struct tb_json *none = NULL;
		assert_int_equal(tb_sharing_outgoing(&s, "kr", rec, &none, &e), 0);
		assert_null(none);
		tb_json_free(out);
		tb_json_free(rec);
		tb_sharing_fini(&s);
		tb_json_free(doc);
	}
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
	/* a misspelt element would tolerate nothing: refused at load */
	assert_int_equal(translate_load("[\"AEOCertificate.Holdr\"]", &e), TB_ECONFIG);
	assert_non_null(strstr(e.msg, "routes[0].allow_missing[0]: \"AEOCertificate.Holdr\" is not "
	                              "an element of the dictionary"));
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
	/* the outbox keeps the canonical record; the native form is made just before submit */
	assert_string_equal(tb_json_string(tb_json_get(out, "schema")), "tradebridge/1");
	struct tb_json *mine = NULL;
	assert_int_equal(tb_sharing_outgoing(&s, "co", out, &mine, &e), 0);
	tb_json_free(out);
	out = mine;
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

/* docs/operations.md names the relay section's options in its "- `relay`:" item:
 * every name there is an option (allow_remote was documented and refused), and
 * every option is named there. */
static void docs_and_relay_options_agree(void **state)
{
	(void)state;
	char path[4096];
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	snprintf(path, sizeof path, "%s/docs/operations.md", src);
	struct tb_buf b;
	struct tb_error e;
	tb_buf_init(&b, 1 << 20);
	assert_int_equal(tb_buf_read_file(&b, path, &e), 0);
	const char *item = strstr((const char *)b.data, "- `relay`:");
	assert_non_null(item);
	const char *end = strstr(item, "Any of them");
	assert_non_null(end);
	size_t named = 0;
	for (const char *p = strchr(item + 10, '`'); p && p < end; p = strchr(p, '`')) {
		const char *q = strchr(p + 1, '`');
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
		p = q + 1;
		if (strspn(name, "abcdefghijklmnopqrstuvwxyz_") != strlen(name))
			continue; /* $VARIABLES, URLs */
		int found = 0;
		for (const struct tb_option *o = tb_relay_options; o->name; o++)
			found |= strcmp(o->name, name) == 0;
		if (!found)
			fail_msg("docs/operations.md names relay option `%s`, which does not exist", name);
		named++;
	}
	for (const struct tb_option *o = tb_relay_options; o->name; o++) {
		char quoted[80];
		snprintf(quoted, sizeof quoted, "`%s`", o->name);
		const char *at = strstr(item, quoted);
		if (!at || at > end)
			fail_msg("relay option %s is not described in docs/operations.md", o->name);
	}
	assert_true(named >= 15);
	tb_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_default_deny_and_fields),
		cmocka_unit_test(policy_path_matching_nothing_is_refused),
		cmocka_unit_test(drop_inside_repeats),
		cmocka_unit_test(property_no_clear_text_leaves),
		cmocka_unit_test(translate_validates),
		cmocka_unit_test(reverse_mapped_delivery),
		cmocka_unit_test(outgoing_only_with_reverse),
		cmocka_unit_test(docs_and_relay_options_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
