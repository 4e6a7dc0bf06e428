/* The tradetrust adapter's verify op as the relay and `tradebridge verify` call it:
 * offline (integrity alone decides INVALID, anything unchecked is UNKNOWN), issuer
 * identity against dnsmasq serving the right address, a wrong address, a wrong
 * chain id and no record, a stopped resolver (UNKNOWN), and DNS-DID. Expected
 * verdicts come from expected.json and the OA/dnsprove record formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "adapter.h"
#include "dnsmasq_peer.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "tt_ctx.h"
#include "tt_test.h"
#include "vectors.h"

extern const struct tb_adapter_ops tradebridge_adapter;

struct tb_json *tt_load(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "openattestation/%s", rel);
	return tb_vec_json(path);
}

enum tb_verdict tt_run(struct tb_json *doc, const char *opts, struct tb_proof *proof)
{
	const struct tb_adapter_ops *ops = &tradebridge_adapter;
	struct tt_conf conf;
	struct tb_json *o = NULL;
	struct tb_error err;
	struct tb_opt_source src = {.file = "test", .scope = "tradetrust"};
	void *state = NULL;
	memset(&conf, 0, sizeof conf);
	memset(proof, 0, sizeof *proof);
	if (tb_json_parse(opts, strlen(opts), NULL, &o, &err) ||
	    tb_options_load(ops->options, o, &src, NULL, &conf, &err) ||
	    ops->open(&(struct tb_network){.name = "t", .adapter = "tradetrust", .conf = &conf}, &state, &err))
		fail_msg("options %s: %s", opts, err.msg);
	struct tb_native n = {.doc = doc};
	if (ops->verify(state, &n, proof, &err) != 0)
		fail_msg("verify: %s", err.msg);
	ops->close(state);
	tb_options_fini(ops->options, &conf);
	tb_json_free(o);
	assert_true(strcmp(proof->kind, "oa-v2") == 0 || strcmp(proof->kind, "oa-v3") == 0);
	return proof->verdict;
}

const char *tt_fragment(const struct tb_proof *p, const char *name)
{
	const struct tb_json *fr = tb_json_get(p->detail, "fragments");
	for (size_t i = 0; i < tb_json_len(fr); i++)
		if (strcmp(tb_json_string(tb_json_get(tb_json_at(fr, i), "name")), name) == 0)
			return tb_json_string(tb_json_get(tb_json_at(fr, i), "status"));
	return "ABSENT";
}

static int all_dns_txt_contracts(const struct tb_json *doc)
{
	const struct tb_json *iss = tb_json_get(tb_json_get(doc, "data"), "issuers");
	for (size_t i = 0; i < tb_json_len(iss); i++) {
		const char *ty = tt_issuer_field(tb_json_at(iss, i), "identityProof", "type");
		if (!ty || strcmp(ty, "DNS-TXT") != 0)
			return 0;
	}
	return tb_json_len(iss) > 0;
}

/* No rpc, no dns: the integrity fragment is expected.json's verdict; a failed one
 * makes the document INVALID, an intact store-issued one is UNKNOWN. */
static void offline_vectors(void **state)
{
	(void)state;
	struct tb_json *exp = tt_load("expected.json");
	const struct tb_json *files = tb_json_get(exp, "files");
	size_t n = 0, unknown = 0;
	for (size_t i = 0; i < tb_json_len(files); i++) {
		const struct tb_json_member *m = &files->u.object.members[i];
		const char *integ = tb_json_string(tb_json_get(m->value, "integrity"));
		const char *ver = tb_json_string(tb_json_get(m->value, "oa_version"));
		if (!integ || strcmp(ver, "v2") != 0)
			continue;
		struct tb_json *doc = tt_load(m->key);
		struct tb_proof p;
		enum tb_verdict v = tt_run(doc, "{}", &p);
		if (strcmp(tt_fragment(&p, "OpenAttestationHash"), integ) != 0)
			fail_msg("%s: integrity %s, expected %s", m->key,
			         tt_fragment(&p, "OpenAttestationHash"), integ);
		if (strcmp(integ, "INVALID") == 0 && v != TB_INVALID)
			fail_msg("%s: verdict %d, expected INVALID", m->key, v);
		if (strcmp(integ, "VALID") == 0 && all_dns_txt_contracts(doc)) {
			if (v != TB_UNKNOWN)
				fail_msg("%s: verdict %d (%s), expected UNKNOWN offline", m->key, v, p.reason);
			unknown++;
		}
		n++;
		tb_proof_fini(&p);
		tb_json_free(doc);
	}
	assert_int_equal(n, 35);
	print_message("offline: %zu v2 documents, %zu intact DNS-TXT ones UNKNOWN\n", n, unknown);
	assert_int_equal(unknown, 9);
	tb_json_free(exp);
}

/* Expected offline verdict of a wrapped v3 vector: DID-signed with revocation NONE
 * needs no network (VALID); wrapped-but-unsigned DID is INVALID; anything that needs
 * a chain or DNS answer is UNKNOWN. */
static enum tb_verdict v3_offline_expectation(const char *rel)
{
	static const char *const valid[] = {"oa-verify/v3/did-signed.json"};
	static const char *const invalid[] = {"oa-verify/v3/did-wrapped.json",
	                                      "oa-verify/v3/dnsdid-wrapped.json",
	                                      "open-attestation/v3/did-wrapped.json",
	                                      "oa-verify/v3/did-revocation-store-signed-no-location.json"};
	for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
		if (strcmp(rel, valid[i]) == 0)
			return TB_VALID;
	for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
		if (strcmp(rel, invalid[i]) == 0)
			return TB_INVALID;
	return TB_UNKNOWN;
}

static void offline_v3_vectors(void **state)
{
	(void)state;
	struct tb_json *exp = tt_load("expected.json");
	const struct tb_json *files = tb_json_get(exp, "files");
	size_t n = 0, signed_ok = 0;
	for (size_t i = 0; i < tb_json_len(files); i++) {
		const struct tb_json_member *m = &files->u.object.members[i];
		const char *integ = tb_json_string(tb_json_get(m->value, "integrity"));
		const char *ver = tb_json_string(tb_json_get(m->value, "oa_version"));
		if (!integ || strcmp(ver, "v3") != 0)
			continue;
		struct tb_json *doc = tt_load(m->key);
		struct tb_proof p;
		enum tb_verdict v = tt_run(doc, "{}", &p), want = v3_offline_expectation(m->key);
		assert_string_equal(p.kind, "oa-v3");
		if (strcmp(tt_fragment(&p, "OpenAttestationHash"), integ) != 0)
			fail_msg("%s: integrity %s, expected %s", m->key,
			         tt_fragment(&p, "OpenAttestationHash"), integ);
		if (v != want)
			fail_msg("%s: verdict %d (%s), expected %d", m->key, v, p.reason, want);
		/* every signed vector's signature recovers to its DID (expected.json) */
		if (tb_json_get(m->value, "did_signatures")) {
			const char *st = tt_fragment(&p, "OpenAttestationDidSignedDocumentStatus");
			if (strcmp(st, "VALID") == 0 || strstr(p.reason, "revocation"))
				signed_ok++;
			else
				fail_msg("%s: DID signed status %s (%s)", m->key, st, p.reason);
		}
		n++;
		tb_proof_fini(&p);
		tb_json_free(doc);
	}
	assert_int_equal(n, 23);
	assert_int_equal(signed_ok, 10);
	tb_json_free(exp);
}

/* v3 changes: content (integrity), the signature (WRONG_SIGNATURE), the key. */
static void v3_tampered(void **state)
{
	(void)state;
	struct tb_json *doc = tt_load("oa-verify/v3/did-signed.json");
	struct tb_json *proof = tb_json_get(doc, "proof");
	struct tb_proof p;
	/* the signature is outside the hashed content: integrity holds, status fails */
	tb_json_object_set(proof, "signature", 9, tb_json_new_string(
		"0x4a054aaf881da5130a3b19160a7f0ce1afef1fe093c83be438c8c40b0a04ace5142f3d48a23c8ce7"
		"c32fabe04fc69e6fd4c94cf3ceb4adb4f3da5fa937208d4e1b", 132));
	assert_int_equal(tt_run(doc, "{}", &p), TB_INVALID);
	assert_string_equal(tt_fragment(&p, "OpenAttestationHash"), "VALID");
	assert_non_null(strstr(p.reason, "WRONG_SIGNATURE"));
	tb_proof_fini(&p);
	/* a key of another DID */
	tb_json_object_set(proof, "key", 3, tb_json_new_string(
		"did:ethr:0x0000000000000000000000000000000000000001#controller", 61));
	assert_int_equal(tt_run(doc, "{}", &p), TB_INVALID);
	assert_non_null(strstr(p.reason, "KEY_NOT_IN_DID"));
	tb_proof_fini(&p);
	/* the content */
	tb_json_object_set(doc, "name", 4, tb_json_new_string("Forged Licence", 14));
	assert_int_equal(tt_run(doc, "{}", &p), TB_INVALID);
	assert_string_equal(tt_fragment(&p, "OpenAttestationHash"), "INVALID");
	tb_proof_fini(&p);
	tb_json_free(doc);
}

/* v3 DNS-TXT (identityProof.identifier + proof.value) and DNS-DID (proof.key). */
static void v3_dns_identity(void **state)
{
	(void)state;
	struct dnsmasq_peer peer;
	const char *txt[] = {"ready.tradebridge.test,ok",
	                     "example.openattestation.com,openatts net=ethereum netId=11155111 "
	                     "addr=0xe943C95f456DA8e17c6d1a915eCF1a6ef0a182a8",
	                     "demo-tradetrust.openattestation.com,openatts a=dns-did; "
	                     "p=did:ethr:0x1245e5B64D785b25057f7438F715f4aA5D965733#controller; v=1.0;",
	                     NULL};
	struct tb_proof p;
	char opts[256];
	assert_int_equal(dnsmasq_peer_start(&peer, txt), 0);
	snprintf(opts, sizeof opts, "{\"dns\": \"%s\", \"timeout\": \"1s\", \"chain_id\": 11155111}",
	         peer.server);
	struct tb_json *store = tt_load("oa-verify/v3/documentStore-issued.json");
	struct tb_json *did = tt_load("oa-verify/v3/dnsdid-signed.json");
	tt_run(store, opts, &p);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDnsTxtIdentityProof"), "VALID");
	assert_int_equal(p.verdict, TB_UNKNOWN); /* issuance needs an rpc */
	tb_proof_fini(&p);
	tt_run(did, opts, &p);
	dnsmasq_peer_stop(&peer);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDnsDidIdentityProof"), "VALID");
	assert_string_equal(tt_fragment(&p, "OpenAttestationDidSignedDocumentStatus"), "VALID");
	assert_int_equal(p.verdict, TB_VALID);
	tb_proof_fini(&p);
	tb_json_free(store);
	tb_json_free(did);
}

/* A DID issuer whose proof does not recover to its key (oa-verify WRONG_SIGNATURE). */
static void did_wrong_signature(void **state)
{
	(void)state;
	struct tb_json *doc = tt_load("oa-verify/v2/documentDidWrongSignature.json");
	struct tb_proof p;
	assert_int_equal(tt_run(doc, "{}", &p), TB_INVALID);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDidSignedDocumentStatus"), "INVALID");
	assert_non_null(strstr(p.reason, "WRONG_SIGNATURE"));
	tb_proof_fini(&p);
	tb_json_free(doc);
	doc = tt_load("oa-verify/v2/documentDidMissingProof.json");
	assert_int_equal(tt_run(doc, "{}", &p), TB_INVALID);
	assert_non_null(strstr(p.reason, "DOCUMENT_NOT_SIGNED"));
	tb_proof_fini(&p);
	tb_json_free(doc);
}

/* The issuer of documentSepoliaValidWithDocumentStore (Sepolia, chain 11155111). */
#define LOC "example.openattestation.com"
#define STORE "0xe943C95f456DA8e17c6d1a915eCF1a6ef0a182a8"
#define SEPOLIA "{\"chain_id\": 11155111, \"timeout\": \"1s\", \"dns\": \"%s\"}"

static const char *dns_txt_case(const char *record, struct tb_proof *p, enum tb_verdict *v)
{
	struct dnsmasq_peer peer;
	const char *txt[] = {"ready.tradebridge.test,ok", record, NULL};
	char opts[256];
	if (dnsmasq_peer_start(&peer, txt) != 0)
		fail_msg("dnsmasq did not start");
	snprintf(opts, sizeof opts, SEPOLIA, peer.server);
	struct tb_json *doc = tt_load("oa-verify/v2/documentSepoliaValidWithDocumentStore.json");
	*v = tt_run(doc, opts, p);
	dnsmasq_peer_stop(&peer);
	tb_json_free(doc);
	return tt_fragment(p, "OpenAttestationDnsTxtIdentityProof");
}

static void dns_txt_identity(void **state)
{
	(void)state;
	struct tb_proof p;
	enum tb_verdict v;
	/* right address: identity VALID; status still unchecked without rpc: UNKNOWN */
	assert_string_equal(dns_txt_case(LOC ",openatts net=ethereum netId=11155111 addr=" STORE,
	                                 &p, &v), "VALID");
	assert_int_equal(v, TB_UNKNOWN);
	tb_proof_fini(&p);
	/* the address in lower case is the same address */
	assert_string_equal(dns_txt_case(LOC ",openatts net=ethereum netId=11155111 "
	                                 "addr=0xe943c95f456da8e17c6d1a915ecf1a6ef0a182a8", &p, &v),
	                    "VALID");
	tb_proof_fini(&p);
	static const char wrong_addr[] = LOC ",openatts net=ethereum netId=11155111 "
	                                 "addr=0x0000000000000000000000000000000000000001";
	static const char wrong_chain[] = LOC ",openatts net=ethereum netId=1 addr=" STORE;
	static const char elsewhere[] = "other.openattestation.com,openatts net=ethereum "
	                                "netId=11155111 addr=" STORE; /* none at LOC */
	const char *bad[] = {wrong_addr, wrong_chain, elsewhere};
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(dns_txt_case(bad[i], &p, &v), "INVALID");
		assert_int_equal(v, TB_INVALID);
		assert_non_null(strstr(p.reason, "MATCHING_RECORD_NOT_FOUND"));
		tb_proof_fini(&p);
	}
}

static void stopped_resolver_is_unknown(void **state)
{
	(void)state;
	struct dnsmasq_peer peer;
	const char *txt[] = {"ready.tradebridge.test,ok", NULL};
	struct tb_proof p;
	char opts[256];
	assert_int_equal(dnsmasq_peer_start(&peer, txt), 0);
	snprintf(opts, sizeof opts, SEPOLIA, peer.server);
	dnsmasq_peer_stop(&peer);
	struct tb_json *doc = tt_load("oa-verify/v2/documentSepoliaValidWithDocumentStore.json");
	assert_int_equal(tt_run(doc, opts, &p), TB_UNKNOWN);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDnsTxtIdentityProof"), "ERROR");
	tb_proof_fini(&p);
	tb_json_free(doc);
}

/* DNS-DID: the key must be published as "openatts a=dns-did; p=KEY; v=1.0;". */
static void dns_did_identity(void **state)
{
	(void)state;
	struct dnsmasq_peer peer;
	const char *txt[] = {"ready.tradebridge.test,ok",
	                     "demo-tradetrust.openattestation.com,openatts a=dns-did; "
	                     "p=did:ethr:0x1245e5B64D785b25057f7438F715f4aA5D965733#controller; v=1.0;",
	                     NULL};
	struct tb_proof p;
	char opts[256];
	assert_int_equal(dnsmasq_peer_start(&peer, txt), 0);
	snprintf(opts, sizeof opts, "{\"dns\": \"%s\", \"timeout\": \"1s\"}", peer.server);
	struct tb_json *doc = tt_load("oa-verify/v2/documentDnsDidSigned.json");
	tt_run(doc, opts, &p);
	dnsmasq_peer_stop(&peer);
	assert_string_equal(tt_fragment(&p, "OpenAttestationDnsDidIdentityProof"), "VALID");
	/* the signature is fine, but its revocation store needs an rpc: UNKNOWN */
	assert_string_equal(tt_fragment(&p, "OpenAttestationDidSignedDocumentStatus"), "ERROR");
	assert_int_equal(p.verdict, TB_UNKNOWN);
	tb_proof_fini(&p);
	tb_json_free(doc);
}

/* `tradebridge verify DOC` through the installed-style module: exit 1 INVALID for a
 * tampered document, 3 UNKNOWN for an intact one with no network configured. */
static int cli_verify(const char *rel)
{
	const char *b = getenv("TB_BUILDDIR"), *v = getenv("TB_VECTORS");
	char cmd[2048];
	if (!b || !v)
		fail_msg("TB_BUILDDIR and TB_VECTORS must be set");
	snprintf(cmd, sizeof cmd, "TRADEBRIDGE_ADAPTER_PATH='%s/adapters/tradetrust/.libs' "
	         "'%s/tradebridge' verify '%s/openattestation/%s' >/dev/null 2>&1", b, b, v, rel);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cli_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(cli_verify("oa-verify/v2/tamperedDocument.json"), 1);
	assert_int_equal(cli_verify("oa-verify/v2/documentSepoliaValidWithDocumentStore.json"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offline_vectors),
		cmocka_unit_test(offline_v3_vectors),
		cmocka_unit_test(v3_tampered),
		cmocka_unit_test(v3_dns_identity),
		cmocka_unit_test(did_wrong_signature),
		cmocka_unit_test(dns_txt_identity),
		cmocka_unit_test(stopped_resolver_is_unknown),
		cmocka_unit_test(dns_did_identity),
		cmocka_unit_test(cli_exit_codes),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	failed += tt_mapping_run();
	return failed + tt_chain_run();
}
