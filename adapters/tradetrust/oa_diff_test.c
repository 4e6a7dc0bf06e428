/* Differential test: adapters/tradetrust/oa_corpus.js (v2) and oa3_corpus.js (v3,
 * built from the library's own 3.0 salt/digest/Merkle code) make several hundred
 * random documents each with @tradetrust-tt/tradetrust (single and batch-wrapped,
 * obfuscated, tampered in data, salts, targetHash, proof, merkleRoot or the
 * obfuscated list) and record the library's own verdict; tradebridge's integrity
 * verdict must equal it on every one. node and tests/peers/node_modules must be
 * installed: no skipping. */
#define _GNU_SOURCE /* getline, popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oa.h"
#include "lib/json.h"
#include "peers.h"

#define CORPUS_SIZE 600
#define MAX_LINE ((size_t)4 << 20)

struct corpus {
	const char *script; /* under adapters/tradetrust/ */
	int (*integrity)(const struct tb_json *doc, struct tb_oa_result *res, struct tb_error *err);
};

static const struct corpus v2 = {"oa_corpus.js", tb_oa_v2_integrity};
static const struct corpus v3 = {"oa3_corpus.js", tb_oa_v3_integrity};

struct tally {
	size_t total, agree, valid, invalid, error, error_as_malformed;
};

static void check_line(const struct corpus *c, const char *line, size_t len, struct tally *t)
{
	struct tb_json *rec = NULL;
	struct tb_error err;
	if (tb_json_parse(line, len, NULL, &rec, &err) != 0)
		fail_msg("corpus line %zu: %s", t->total + 1, err.msg);
	const char *lib = tb_json_string(tb_json_get(rec, "lib"));
	const char *kind = tb_json_string(tb_json_get(rec, "kind"));
	assert_non_null(lib);
	int rc = c->integrity(tb_json_get(rec, "doc"), NULL, &err);
	int lib_valid = strcmp(lib, "VALID") == 0;
	t->total++;
	t->valid += lib_valid;
	t->invalid += strcmp(lib, "INVALID") == 0;
	if (strcmp(lib, "ERROR") == 0) {
		t->error++;
		t->error_as_malformed += rc == TB_EINVAL;
	}
	if ((rc == 0) == lib_valid)
		t->agree++;
	else
		print_error("disagree on document %zu (%s): library %s, tradebridge %s\n",
		            t->total - 1, kind, lib, rc == 0 ? "VALID" : err.msg);
	tb_json_free(rec);
}

static void library_agrees(void **state)
{
	const struct corpus *c = *state;
	const char *src = getenv("TB_SRCDIR");
	char cmd[8192];
	if (!src)
		fail_msg("TB_SRCDIR is not set");
	char lib[1024];
	tb_peers_path("@tradetrust-tt/tradetrust", lib, sizeof lib);
	snprintf(cmd, sizeof cmd,
	         "test -d '%s' || "
	         "{ echo '%s missing: run npm ci --prefix tests/peers' >&2; "
	         "exit 1; }; timeout 300 node '%s/adapters/tradetrust/%s' %d",
	         lib, lib, src, c->script, CORPUS_SIZE);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct tally t = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, p)) > 0) {
		if ((size_t)n > MAX_LINE)
			fail_msg("corpus line %zu is longer than %zu bytes", t.total + 1, MAX_LINE);
		check_line(c, line, (size_t)n, &t);
	}
	free(line);
	int status = pclose(p);
	print_message("differential (%s): %zu documents (library: %zu VALID, %zu INVALID, %zu ERROR), "
	              "%zu agree; library errors seen as malformed: %zu\n",
	              c->script, t.total, t.valid, t.invalid, t.error, t.agree,
	              t.error_as_malformed);
	assert_int_equal(status, 0);
	assert_int_equal(t.total, CORPUS_SIZE);
	assert_true(t.valid > 50 && t.invalid > 50); /* the corpus really has both */
	assert_int_equal(t.agree, t.total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(library_agrees, (void *)&v2),
		cmocka_unit_test_prestate(library_agrees, (void *)&v3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
