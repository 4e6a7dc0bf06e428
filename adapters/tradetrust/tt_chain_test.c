/* DOCUMENT_STATUS against contracts deployed on ganache from the npm packages'
 * artifacts (adapters/tradetrust/oa_chain.js), with identity served by dnsmasq:
 * a document store document is INVALID before issue, VALID after, INVALID once
 * revoked; a transferable record is INVALID before mint, VALID after with its
 * owner (title escrow), beneficiary and holder, and follows a holder transfer
 * without being re-issued; a stopped node makes the verdict UNKNOWN. */
#define _GNU_SOURCE /* popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsmasq_peer.h"
#include "ganache.h"
#include "lib/buf.h"
#include "tt_test.h"

#define CHAIN 1337

struct chain {
	struct tb_ganache g;
	struct dnsmasq_peer dns;
	struct tb_json *setup;
	char opts[256];
};

static struct tb_json *node_step(struct chain *c, const char *args)
{
	const char *src = getenv("TB_SRCDIR");
	char cmd[1024];
	struct tb_buf out;
	struct tb_error err;
	struct tb_json *j = NULL;
	snprintf(cmd, sizeof cmd, "timeout 120 node '%s/adapters/tradetrust/oa_chain.js' %s %s",
	         src, c->g.url, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	tb_buf_init(&out, 16 << 20);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		assert_int_equal(tb_buf_append(&out, chunk, n), 0);
	if (pclose(p) != 0 || tb_json_parse((char *)out.data, out.len, NULL, &j, &err) != 0)
		fail_msg("oa_chain.js %s failed", args);
	tb_buf_fini(&out);
	return j;
}

static const char *setup_str(struct chain *c, const char *k)
{
	return tb_json_string(tb_json_get(c->setup, k));
}

static int chain_setup(void **state)
{
	struct chain *c = calloc(1, sizeof *c);
	struct tb_error err = {0};
	char r1[160], r2[160];
	*state = c;
	if (!getenv("TB_SRCDIR") || tb_ganache_start(&c->g, CHAIN, &err) != 0) {
		fprintf(stderr, "ganache: %s\n", err.msg);
		return -1;
	}
	c->setup = node_step(c, "setup");
	snprintf(r1, sizeof r1, "issuer.tradebridge.test,openatts net=ethereum netId=%d addr=%s",
	         CHAIN, setup_str(c, "documentStore"));
	snprintf(r2, sizeof r2, "carrier.tradebridge.test,openatts net=ethereum netId=%d addr=%s",
	         CHAIN, setup_str(c, "tokenRegistry"));
	const char *txt[] = {"ready.tradebridge.test,ok", r1, r2, NULL};
	if (dnsmasq_peer_start(&c->dns, txt) != 0)
		return -1;
	snprintf(c->opts, sizeof c->opts, "{\"rpc\": \"%s\", \"dns\": \"%s\", \"timeout\": \"5s\"}",
	         c->g.url, c->dns.server);
	return 0;
}

static int chain_teardown(void **state)
{
	struct chain *c = *state;
	tb_ganache_stop(&c->g);
	dnsmasq_peer_stop(&c->dns);
	tb_json_free(c->setup);
	free(c);
	return 0;
}

static const char *root_of(struct tb_json *doc)
{
	return tb_json_string(tb_json_get(tb_json_get(doc, "signature"), "merkleRoot"));
}

static enum tb_verdict check(struct chain *c, struct tb_json *doc, const char *frag,
                             const char *want, struct tb_proof *p)
{
	enum tb_verdict v = tt_run(doc, c->opts, p);
	if (strcmp(tt_fragment(p, frag), want) != 0)
		fail_msg("%s is %s, expected %s (%s)", frag, tt_fragment(p, frag), want, p->reason);
	return v;
}

static void document_store_lifecycle(void **state)
{
	struct chain *c = *state;
	struct tb_json *doc = tb_json_get(c->setup, "storeDocument"), *r;
	const char *f = "OpenAttestationEthereumDocumentStoreStatus";
	char args[256];
	struct tb_proof p;
	assert_int_equal(check(c, doc, f, "INVALID", &p), TB_INVALID);
	assert_non_null(strstr(p.reason, "DOCUMENT_NOT_ISSUED"));
	tb_proof_fini(&p);
	snprintf(args, sizeof args, "issue %s 0x%s", setup_str(c, "documentStore"), root_of(doc));
	tb_json_free(node_step(c, args));
	assert_int_equal(check(c, doc, f, "VALID", &p), TB_VALID);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDnsTxtIdentityProof"), "VALID");
	tb_proof_fini(&p);
	snprintf(args, sizeof args, "revoke %s 0x%s", setup_str(c, "documentStore"), root_of(doc));
	r = node_step(c, args);
	tb_json_free(r);
	assert_int_equal(check(c, doc, f, "INVALID", &p), TB_INVALID);
	assert_non_null(strstr(p.reason, "DOCUMENT_REVOKED"));
	tb_proof_fini(&p);
}

static const char *party(const struct tb_proof *p, const char *k)
{
	const struct tb_json *fr = tb_json_get(p->detail, "fragments");
	for (size_t i = 0; i < tb_json_len(fr); i++) {
		const struct tb_json *f = tb_json_at(fr, i);
		if (strcmp(tb_json_string(tb_json_get(f, "name")),
		           "OpenAttestationEthereumTokenRegistryStatus") == 0)
			return tb_json_string(tb_json_get(tb_json_get(f, "data"), k));
	}
	return NULL;
}

static void token_registry_lifecycle(void **state)
{
	struct chain *c = *state;
	struct tb_json *doc = tb_json_get(c->setup, "tokenDocument");
	const char *f = "OpenAttestationEthereumTokenRegistryStatus";
	char args[256], owner[64];
	struct tb_proof p;
	assert_int_equal(check(c, doc, f, "INVALID", &p), TB_INVALID);
	assert_non_null(strstr(p.reason, "DOCUMENT_NOT_MINTED"));
	tb_proof_fini(&p);
	snprintf(args, sizeof args, "mint %s 0x%s", setup_str(c, "tokenRegistry"), root_of(doc));
	struct tb_json *minted = node_step(c, args);
	assert_int_equal(check(c, doc, f, "VALID", &p), TB_VALID);
	assert_string_equal(party(&p, "owner"), tb_json_string(tb_json_get(minted, "owner")));
	assert_true(strcasecmp(party(&p, "holder"), tb_ganache_addresses[1]) == 0);
	assert_true(strcasecmp(party(&p, "beneficiary"), tb_ganache_addresses[1]) == 0);
	snprintf(owner, sizeof owner, "%s", party(&p, "owner"));
	tb_proof_fini(&p);
	tb_json_free(minted);
	snprintf(args, sizeof args, "holder %s 0x%s 2", setup_str(c, "tokenRegistry"), root_of(doc));
	tb_json_free(node_step(c, args));
	assert_int_equal(check(c, doc, f, "VALID", &p), TB_VALID);
	assert_true(strcasecmp(party(&p, "holder"), tb_ganache_addresses[2]) == 0);
	assert_true(strcasecmp(party(&p, "beneficiary"), tb_ganache_addresses[1]) == 0);
	assert_string_equal(party(&p, "owner"), owner); /* same escrow: transferred, not re-issued */
	tb_proof_fini(&p);
	/* the node goes away: the status cannot be checked, which is UNKNOWN */
	tb_ganache_stop(&c->g);
	assert_int_equal(check(c, doc, f, "ERROR", &p), TB_UNKNOWN);
	tb_proof_fini(&p);
}

const struct CMUnitTest tt_chain_tests[] = {
	cmocka_unit_test(document_store_lifecycle),
	cmocka_unit_test(token_registry_lifecycle),
};

int tt_chain_run(void)
{
	return cmocka_run_group_tests_name("tradetrust on ganache", tt_chain_tests, chain_setup,
	                                   chain_teardown);
}
