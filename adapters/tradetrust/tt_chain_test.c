/* DOCUMENT_STATUS against contracts deployed on ganache from the npm packages'
 * artifacts (adapters/tradetrust/oa_chain.js), with identity served by dnsmasq:
 * a document store document is INVALID before issue, VALID after, INVALID once
 * revoked; a transferable record is INVALID before mint, VALID after with its
 * owner (title escrow), beneficiary and holder, and follows a holder transfer
 * without being re-issued; a v3 credential follows the same store lifecycle; a
 * stopped node makes the verdict UNKNOWN. */
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
#include "tt_ctx.h"
#include "tt_test.h"

extern const struct tb_adapter_ops tradebridge_adapter;

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

/* The same lifecycle for a v3 credential: openAttestationMetadata.proof names the
 * store, identityProof.identifier the DNS-TXT location, proof.merkleRoot is issued. */
static void document_store_lifecycle_v3(void **state)
{
	struct chain *c = *state;
	struct tb_json *doc = tb_json_get(c->setup, "storeDocumentV3");
	const char *f = "OpenAttestationEthereumDocumentStoreStatus";
	const char *root = tb_json_string(tb_json_get(tb_json_get(doc, "proof"), "merkleRoot"));
	char args[256];
	struct tb_proof p;
	assert_non_null(root);
	assert_int_equal(check(c, doc, f, "INVALID", &p), TB_INVALID);
	assert_string_equal(p.kind, "oa-v3");
	assert_non_null(strstr(p.reason, "DOCUMENT_NOT_ISSUED"));
	tb_proof_fini(&p);
	snprintf(args, sizeof args, "issue %s 0x%s", setup_str(c, "documentStore"), root);
	tb_json_free(node_step(c, args));
	assert_int_equal(check(c, doc, f, "VALID", &p), TB_VALID);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDnsTxtIdentityProof"), "VALID");
	tb_proof_fini(&p);
	snprintf(args, sizeof args, "revoke %s 0x%s", setup_str(c, "documentStore"), root);
	tb_json_free(node_step(c, args));
	assert_int_equal(check(c, doc, f, "INVALID", &p), TB_INVALID);
	assert_non_null(strstr(p.reason, "DOCUMENT_REVOKED"));
	tb_proof_fini(&p);
}

/* Run the adapter's poll with the chain's options plus extra (JSON members). */
static int poll_once(struct chain *c, const char *extra, const char *cursor, struct tb_batch *b)
{
	const struct tb_adapter_ops *ops = &tradebridge_adapter;
	char text[512];
	struct tt_conf conf;
	struct tb_json *o = NULL;
	struct tb_error err;
	struct tb_opt_source src = {.file = "test", .scope = "tradetrust"};
	struct tb_cursor from;
	memset(&conf, 0, sizeof conf);
	memset(b, 0, sizeof *b);
	snprintf(from.value, sizeof from.value, "%s", cursor);
	snprintf(text, sizeof text, "{\"rpc\": \"%s\", \"document_store\": \"%s\", %s}", c->g.url,
	         setup_str(c, "documentStore"), extra);
	if (tb_json_parse(text, strlen(text), NULL, &o, &err) ||
	    tb_options_load(ops->options, o, &src, NULL, &conf, &err))
		fail_msg("%s: %s", text, err.msg);
	int rc = ops->poll(&conf, &from, b, &err);
	tb_options_fini(ops->options, &conf);
	tb_json_free(o);
	return rc;
}

/* After issue and revoke: two events in order, the cursor moves past them, a
 * second poll finds nothing, and each event verifies against the store. */
static void poll_document_store_events(void **state)
{
	struct chain *c = *state;
	struct tb_batch b;
	const char *root = root_of(tb_json_get(c->setup, "storeDocument"));
	char hash[67] = "0x", cursor[256];
	snprintf(hash + 2, sizeof hash - 2, "%s", root);
	assert_int_equal(poll_once(c, "\"confirmations\": 10000", "", &b), 0);
	assert_int_equal(b.len, 0); /* nothing is that deep yet */
	assert_string_equal(b.next.value, "0");
	tb_batch_fini(&b);
	assert_int_equal(poll_once(c, "\"confirmations\": 0", "", &b), 0);
	assert_int_equal(b.len, 2);
	assert_string_equal(tb_json_string(tb_json_get(b.items[0].doc, "event")), "DocumentIssued");
	assert_string_equal(tb_json_string(tb_json_get(b.items[1].doc, "event")), "DocumentRevoked");
	assert_string_equal(tb_json_string(tb_json_get(b.items[0].doc, "document")), hash);
	assert_string_equal(b.items[0].doctype, "oa.document-store.event");
	for (size_t i = 0; i < 2; i++) {
		struct tb_proof p;
		const struct tb_adapter_ops *ops = &tradebridge_adapter;
		struct tt_conf conf = {.rpc = c->g.url, .timeout = 5000, .chain_id = 1};
		struct tb_error err;
		memset(&p, 0, sizeof p);
		assert_int_equal(ops->verify(&conf, &b.items[i], &p, &err), 0);
		assert_int_equal(p.verdict, TB_VALID);
		assert_string_equal(p.kind, "oa-store-event");
		tb_proof_fini(&p);
	}
	snprintf(cursor, sizeof cursor, "%s", b.next.value);
	tb_batch_fini(&b);
	assert_int_equal(poll_once(c, "\"confirmations\": 0", cursor, &b), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.next.value, cursor);
	tb_batch_fini(&b);
	assert_int_equal(poll_once(c, "\"confirmations\": 0", "12x", &b), TB_EINVAL);
	tb_batch_fini(&b);
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
	cmocka_unit_test(poll_document_store_events),
	cmocka_unit_test(document_store_lifecycle_v3),
	cmocka_unit_test(token_registry_lifecycle),
};

int tt_chain_run(void)
{
	return cmocka_run_group_tests_name("tradetrust on ganache", tt_chain_tests, chain_setup,
	                                   chain_teardown);
}
