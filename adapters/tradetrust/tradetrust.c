/* tradetrust: verifies OpenAttestation v2 and v3 documents as oa-verify / tt-verify do,
 * fragment by fragment (integrity, status on chain or by DID signature, issuer
 * identity by DNS), and sums them up as VALID / INVALID / UNKNOWN. Integrity is the
 * pure code in oa.c beside it. Like every adapter, the only global symbol is
 * `tradebridge_adapter`; an RPC or DNS failure is UNKNOWN, never INVALID. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oa.h"
#include "crypto/secp256k1.h"
#include "lib/hex.h"
#include "tt_chain.h"
#include "tt_ctx.h"
#include "tt_identity.h"
#include "tt_poll.h"

#define OA_V2_SCHEMA "https://schema.openattestation.com/2.0/schema.json"
#define OA_V3_SCHEMA "https://schema.openattestation.com/3.0/schema.json"

static const struct tb_option tt_options[] = {
	{TB_OPT_STRING, "rpc", NULL, 0, offsetof(struct tt_conf, rpc),
	 "Ethereum JSON-RPC URL for document store / token registry status; none = UNKNOWN status",
	 0, 0},
	{TB_OPT_STRING, "dns", NULL, 0, offsetof(struct tt_conf, dns),
	 "DNS resolver HOST:PORT for DNS-TXT / DNS-DID identity; none = UNKNOWN identity", 0, 0},
	{TB_OPT_INT, "chain_id", "1", 0, offsetof(struct tt_conf, chain_id),
	 "netId a DNS-TXT record must name when no rpc is set (with rpc: eth_chainId)", 1,
	 (1LL << 53)},
	{TB_OPT_DURATION, "timeout", "\"5s\"", 0, offsetof(struct tt_conf, timeout),
	 "limit for each RPC call and each DNS query", 100, 600000},
	{TB_OPT_STRING, "document_store", NULL, 0, offsetof(struct tt_conf, document_store),
	 "poll: document store whose DocumentIssued/DocumentRevoked events are ingested", 0, 0},
	{TB_OPT_INT, "confirmations", "12", 0, offsetof(struct tt_conf, confirmations),
	 "poll: blocks that must be on top of a log's block", 0, 10000},
	{TB_OPT_INT, "start_block", "0", 0, offsetof(struct tt_conf, start_block),
	 "poll: first block when there is no cursor yet", 0, (1LL << 53)},
	{TB_OPT_INT, "max_blocks", "5000", 0, offsetof(struct tt_conf, max_blocks),
	 "poll: blocks asked for in one eth_getLogs", 1, 100000},
	TB_OPT_END,
};

static int tt_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	const struct tt_conf *conf = net->conf;
	if (conf->dns && !strchr(conf->dns, ':'))
		return tb_error_set(err, TB_ECONFIG, "%s: dns \"%s\" is not HOST:PORT", net->name,
		                    conf->dns);
	*state = (void *)conf;
	return 0;
}

static void tt_close(void *state)
{
	(void)state;
}

static void check_integrity(struct tt_ctx *c)
{
	struct tb_oa_result res;
	struct tb_error err = {0};
	int rc = c->v3 ? tb_oa_v3_integrity(c->doc, &res, &err) : tb_oa_v2_integrity(c->doc, &res, &err);
	const char *n = "OpenAttestationHash", *t = "DOCUMENT_INTEGRITY";
	if (rc == 0) {
		struct tt_fragment *f = tt_frag(c, n, t, TT_VALID, "targetHash and Merkle proof match");
		memcpy(c->target, res.target, 32);
		memcpy(c->root, res.root, 32);
		f->data = tb_json_new_object();
		char hex[67] = "0x";
		tb_hex_encode(res.root, 32, hex + 2);
		tb_json_object_set(f->data, "merkleRoot", 10, tb_json_new_string(hex, 66));
		return;
	}
	tt_frag(c, n, t, rc == TB_EVERIFY ? TT_INVALID : TT_ERROR, "%s", err.msg);
}

static int did_address(const char *key, uint8_t addr[20])
{
	/* did:ethr:0xADDR#controller or did:ethr:NETWORK:0xADDR#controller */
	const char *p = key && strncmp(key, "did:ethr:", 9) == 0 ? strrchr(key, ':') : NULL;
	char a[43];
	if (!p || strlen(p + 1) < 42)
		return -1;
	memcpy(a, p + 1, 42);
	a[42] = 0;
	return tt_address(a, addr);
}

/* The proof entry signed with key, or NULL. v3 has one: proof itself (proof.key). */
static const struct tb_json *find_proof(const struct tt_ctx *c, const char *key)
{
	const struct tb_json *proofs = tb_json_get(c->doc, "proof");
	if (c->v3) {
		const char *k = tb_json_string(tb_json_get(proofs, "key"));
		const char *ty = tb_json_string(tb_json_get(proofs, "type"));
		int signed_ = k && tb_json_string(tb_json_get(proofs, "signature")) && ty &&
		              strcmp(ty, "OpenAttestationMerkleProofSignature2018") == 0;
		return signed_ && strcasecmp(k, key) == 0 ? proofs : NULL;
	}
	for (size_t i = 0; i < tb_json_len(proofs) && proofs->type == TB_JSON_ARRAY; i++) {
		const struct tb_json *p = tb_json_at(proofs, i);
		const char *vm = tb_json_string(tb_json_get(p, "verificationMethod"));
		const char *ty = tb_json_string(tb_json_get(p, "type"));
		if (vm && ty && strcasecmp(vm, key) == 0 &&
		    strcmp(ty, "OpenAttestationSignature2018") == 0)
			return p;
	}
	return NULL;
}

/* One DID issuer: signature by its key over the merkleRoot, then its revocation.
 * 0 valid, 1 invalid, 2 could not check; why says which. */
static int did_issuer(struct tt_ctx *c, const struct tb_json *issuer, char *why, size_t n)
{
	const char *key = tt_issuer_field(issuer, "identityProof", "key");
	uint8_t want[20], got[20];
	struct tb_error err;
	if (!key && c->v3)
		return snprintf(why, n, "DOCUMENT_NOT_SIGNED: wrapped but not signed (no proof.key)"), 1;
	if (!key || did_address(key, want) != 0)
		return snprintf(why, n, "issuer key %.80s is not a did:ethr address", key ? key : "(none)"), 1;
	const struct tb_json *p = find_proof(c, key);
	if (!p)
		return snprintf(why, n, "DOCUMENT_NOT_SIGNED: no proof signed by %.100s", key), 1;
	size_t dl = c->v3_did ? strlen(c->v3_did) : 0;
	if (c->v3 && (!dl || strncasecmp(key, c->v3_did, dl) != 0 || key[dl] != '#'))
		return snprintf(why, n, "KEY_NOT_IN_DID: proof.key %.100s is not a key of %.100s", key,
		                c->v3_did ? c->v3_did : "(no DID)"), 1;
	if (tb_oa_did_signer(c->root, tb_json_string(tb_json_get(p, "signature")), got, &err) != 0)
		return snprintf(why, n, "WRONG_SIGNATURE: %.200s", err.msg), 1;
	if (memcmp(got, want, 20) != 0)
		return snprintf(why, n, "WRONG_SIGNATURE: the merkleRoot was not signed by %.100s", key), 1;
	const char *rt = tt_issuer_field(issuer, "revocation", "type");
	if (!rt || strcmp(rt, "NONE") == 0)
		return 0;
	if (strcmp(rt, "REVOCATION_STORE") == 0) {
		uint8_t store[20];
		if (tt_address(tt_issuer_field(issuer, "revocation", "location"), store) != 0)
			return snprintf(why, n, "revocation store address is malformed"), 1;
		int r = tt_store_revoked(c, store, why, n);
		return r == 0 ? 0 : r == 1 ? 1 : 2;
	}
	return snprintf(why, n, "revocation type %.40s is not supported (yet)", rt), 2;
}

static int is_did(const char *t)
{
	return t && (strcmp(t, "DID") == 0 || strcmp(t, "DNS-DID") == 0);
}

/* OpenAttestationDidSignedDocumentStatus (+ identity for plain DID issuers). */
static void check_did_signed(struct tt_ctx *c)
{
	const char *n = "OpenAttestationDidSignedDocumentStatus", *t = "DOCUMENT_STATUS";
	size_t dids = 0, plain = 0;
	int worst = 0;
	char why[300] = "", first[300] = "";
	for (size_t i = 0; i < tb_json_len(c->issuers); i++) {
		const struct tb_json *iss = tb_json_at(c->issuers, i);
		const char *ty = tt_issuer_field(iss, "identityProof", "type");
		if (!is_did(ty))
			continue;
		dids++;
		plain += strcmp(ty, "DID") == 0;
		int r = did_issuer(c, iss, why, sizeof why);
		if (r > worst || (r && !first[0])) {
			if (r == 1 || worst != 1)
				snprintf(first, sizeof first, "%s", why);
			worst = r > worst ? r : worst;
		}
	}
	if (!dids) {
		tt_frag(c, n, t, TT_SKIPPED, "no issuer uses a DID or DNS-DID identity");
		return;
	}
	enum tt_status st = worst == 0 ? TT_VALID : worst == 1 ? TT_INVALID : TT_ERROR;
	tt_frag(c, n, t, st, "%s", worst ? first : "signed by every DID issuer, not revoked");
	if (plain)
		tt_frag(c, "OpenAttestationDidIdentityProof", "ISSUER_IDENTITY", st, "%s",
		        worst ? first : "the DID key signed the document");
}

static const char *status_name(enum tt_status s)
{
	static const char *const names[] = {"VALID", "INVALID", "SKIPPED", "ERROR"};
	return names[s];
}

static struct tb_json *fragments_json(struct tt_ctx *c)
{
	struct tb_json *d = tb_json_new_object(), *arr = tb_json_new_array();
	tb_json_object_set(d, "version", 7, tb_json_new_string(c->v3 ? "3.0" : "2.0", 3));
	for (size_t i = 0; i < c->nfrags; i++) {
		struct tt_fragment *f = &c->frags[i];
		struct tb_json *o = tb_json_new_object();
		const char *st = status_name(f->status);
		tb_json_object_set(o, "name", 4, tb_json_new_string(f->name, strlen(f->name)));
		tb_json_object_set(o, "type", 4, tb_json_new_string(f->type, strlen(f->type)));
		tb_json_object_set(o, "status", 6, tb_json_new_string(st, strlen(st)));
		tb_json_object_set(o, "reason", 6, tb_json_new_string(f->reason, strlen(f->reason)));
		if (f->data)
			tb_json_object_set(o, "data", 4, f->data);
		f->data = NULL;
		tb_json_array_push(arr, o);
	}
	tb_json_object_set(d, "fragments", 9, arr);
	return d;
}

/* oa-verify's isValid per type, with ERROR meaning "could not check". */
static enum tb_verdict sum_up(struct tt_ctx *c, char *reason, size_t n)
{
	static const char *const types[] = {"DOCUMENT_INTEGRITY", "DOCUMENT_STATUS",
	                                    "ISSUER_IDENTITY"};
	const struct tt_fragment *err = NULL;
	for (size_t i = 0; i < c->nfrags; i++)
		if (c->frags[i].status == TT_INVALID) {
			snprintf(reason, n, "%s: %s", c->frags[i].name, c->frags[i].reason);
			return TB_INVALID;
		} else if (c->frags[i].status == TT_ERROR && !err) {
			err = &c->frags[i];
		}
	if (err) {
		snprintf(reason, n, "could not check %s: %s", err->name, err->reason);
		return TB_UNKNOWN;
	}
	for (size_t t = 0; t < 3; t++) {
		int valid = 0;
		for (size_t i = 0; i < c->nfrags; i++)
			valid |= strcmp(c->frags[i].type, types[t]) == 0 && c->frags[i].status == TT_VALID;
		if (!valid) {
			snprintf(reason, n, "no %s check applies to this document", types[t]);
			return TB_INVALID;
		}
	}
	snprintf(reason, n, "integrity, status and issuer identity verified");
	return TB_VALID;
}

static void skip_rest(struct tt_ctx *c, const char *why)
{
	tt_frag(c, "OpenAttestationEthereumDocumentStoreStatus", "DOCUMENT_STATUS", TT_SKIPPED,
	        "%s", why);
	tt_frag(c, "OpenAttestationDnsTxtIdentityProof", "ISSUER_IDENTITY", TT_SKIPPED, "%s", why);
}

/* Put v3 text where the v2 checks read their (salted) issuer fields. */
static void put_field(struct tb_json *o, const char *k, const char *v)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	if (v && tb_buf_puts(&b, "v3:string:") == 0 && tb_buf_puts(&b, v) == 0)
		tb_json_object_set(o, k, strlen(k), tb_json_new_string((const char *)b.data, b.len));
	tb_buf_fini(&b);
}

/* openAttestationMetadata as the one v2 issuer the shared checks understand:
 * proof.method DOCUMENT_STORE / TOKEN_REGISTRY + proof.value name the contract, DID
 * has proof.key (checked against proof.value or identityProof.identifier) and
 * proof.revocation; identityProof.identifier is the DNS location. */
static const struct tb_json *v3_issuers(struct tt_ctx *c)
{
	const struct tb_json *meta = tb_json_get(c->doc, "openAttestationMetadata");
	const struct tb_json *pm = tb_json_get(meta, "proof"), *id = tb_json_get(meta, "identityProof");
	const char *method = tb_json_string(tb_json_get(pm, "method"));
	const char *value = tb_json_string(tb_json_get(pm, "value"));
	const char *idty = tb_json_string(tb_json_get(id, "type"));
	const char *ident = tb_json_string(tb_json_get(id, "identifier"));
	const struct tb_json *rev = tb_json_get(pm, "revocation");
	if (!method || !value || !idty)
		return NULL;
	struct tb_json *iss = tb_json_new_object(), *ip = tb_json_new_object();
	c->v3_issuers = tb_json_new_array();
	if (!iss || !ip || !c->v3_issuers || tb_json_array_push(c->v3_issuers, iss) != 0) {
		tb_json_free(iss);
		tb_json_free(ip);
		return NULL;
	}
	if (strcmp(method, "DOCUMENT_STORE") == 0)
		put_field(iss, "documentStore", value);
	else if (strcmp(method, "TOKEN_REGISTRY") == 0)
		put_field(iss, "tokenRegistry", value);
	put_field(ip, "type", idty);
	put_field(ip, "location", ident);
	put_field(ip, "key", tb_json_string(tb_json_get(tb_json_get(c->doc, "proof"), "key")));
	tb_json_object_set(iss, "identityProof", 13, ip);
	if (is_did(idty)) {
		struct tb_json *r = tb_json_new_object();
		const char *rt = tb_json_string(tb_json_get(rev, "type"));
		put_field(r, "type", rt ? rt : "MISSING"); /* oa-verify: MISSING_REVOCATION */
		put_field(r, "location", tb_json_string(tb_json_get(rev, "location")));
		tb_json_object_set(iss, "revocation", 10, r);
		/* oa-verify: the DID of the signed status is proof.value; a DID identity's is
		 * identityProof.identifier (the same DID in every upstream document) */
		c->v3_did = strcmp(method, "DID") != 0 && strcmp(idty, "DID") == 0 ? ident : value;
	}
	return c->v3_issuers;
}

static void run_checks(struct tt_ctx *c)
{
	check_integrity(c);
	if (c->frags[0].status != TT_VALID)
		return skip_rest(c, "document integrity failed: nothing else is checked");
	c->issuers = c->v3 ? v3_issuers(c) : tb_json_get(tb_json_get(c->doc, "data"), "issuers");
	if (!c->issuers || c->issuers->type != TB_JSON_ARRAY || tb_json_len(c->issuers) == 0 ||
	    tb_json_len(c->issuers) > TT_MAX_ISSUERS) {
		if (c->v3)
			tt_frag(c, "OpenAttestationIssuers", "DOCUMENT_STATUS", TT_INVALID,
			        "openAttestationMetadata needs proof.method, proof.value and "
			        "identityProof.type strings");
		else
			tt_frag(c, "OpenAttestationIssuers", "DOCUMENT_STATUS", TT_INVALID,
			        "data.issuers must be a list of 1 to %d issuers", TT_MAX_ISSUERS);
		return;
	}
	c->proof = c->v3 ? tb_json_get(tb_json_get(c->doc, "proof"), "proofs")
	                 : tb_json_get(tb_json_get(c->doc, "signature"), "proof");
	tt_check_document_store(c);
	tt_check_token_registry(c);
	check_did_signed(c);
	tt_check_dns_txt(c);
	tt_check_dns_did(c);
}

/* A polled DocumentIssued / DocumentRevoked event: does the chain still say so? */
static void verify_event(struct tt_ctx *c, const struct tb_json *ev, struct tb_proof *out)
{
	const char *name = tb_json_string(tb_json_get(ev, "event"));
	const char *doc = tb_json_string(tb_json_get(ev, "document"));
	uint8_t store[20], h[32];
	size_t n;
	char why[300] = "";
	int issued = name && strcmp(name, "DocumentIssued") == 0;
	snprintf(out->kind, sizeof out->kind, "oa-store-event");
	if ((!issued && (!name || strcmp(name, "DocumentRevoked") != 0)) || !doc ||
	    tt_address(tb_json_string(tb_json_get(ev, "documentStore")), store) != 0 ||
	    tb_hex_decode(doc, strlen(doc), h, 32, &n, NULL) != 0 || n != 32) {
		tt_frag(c, "OpenAttestationDocumentStoreEvent", "DOCUMENT_STATUS", TT_INVALID,
		        "not a document store event");
		return;
	}
	int rc = c->rpc ? tt_store_flag(c, store, issued ? "isIssued(bytes32)" : "isRevoked(bytes32)",
	                                h, why, sizeof why)
	                : (snprintf(why, sizeof why, "no rpc configured"), -1);
	tt_frag(c, "OpenAttestationDocumentStoreEvent", "DOCUMENT_STATUS",
	        rc == 1 ? TT_VALID : rc == 0 ? TT_INVALID : TT_ERROR, "%s %s: %s", name, doc,
	        rc == 1 ? "the document store confirms it" : rc == 0 ? "the document store denies it" : why);
}

static int tt_verify(void *state, const struct tb_native *rec, struct tb_proof *out,
                     struct tb_error *err)
{
	struct tt_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return tb_error_set(err, TB_ENOMEM, "tradetrust: out of memory");
	c->conf = state;
	c->doc = rec->doc;
	c->chain_id = (uint64_t)c->conf->chain_id;
	snprintf(out->kind, sizeof out->kind, "oa-v2");
	const char *ver = tb_json_string(tb_json_get(rec->doc, "version"));
	int event = strcmp(rec->doctype, "oa.document-store.event") == 0;
	c->v3 = !event && ver && strcmp(ver, OA_V3_SCHEMA) == 0;
	if (c->v3)
		snprintf(out->kind, sizeof out->kind, "oa-v3");
	{
		int rc = 0;
		if (c->conf->rpc) {
			struct tb_http_options ho = {.timeout_ms = c->conf->timeout,
			                             .connect_timeout_ms = c->conf->timeout,
			                             .max_attempts = 1};
			const char *urls[] = {c->conf->rpc};
			rc = tb_jsonrpc_new(&c->rpc, urls, 1, &ho, err);
		}
		if (rc) {
			free(c);
			return rc;
		}
		if (event)
			verify_event(c, rec->doc, out);
		else
			run_checks(c);
	}
	out->verdict = event ? (c->frags[0].status == TT_VALID     ? TB_VALID
	                        : c->frags[0].status == TT_INVALID ? TB_INVALID
	                                                           : TB_UNKNOWN)
	                     : sum_up(c, out->reason, sizeof out->reason);
	if (event)
		snprintf(out->reason, sizeof out->reason, "%s", c->frags[0].reason);
	out->detail = fragments_json(c);
	if (c->rpc)
		tb_jsonrpc_free(c->rpc);
	for (size_t i = 0; i < c->nfrags; i++)
		tb_json_free(c->frags[i].data);
	tb_json_free(c->v3_issuers);
	free(c);
	return 0;
}

/* An OpenAttestation document: v2 carries signature.type SHA3MerkleProof, v3 a
 * proof object (or array of proofs). Anything else is not ours to check. */
static int tt_recognise(const struct tb_json *doc, char *doctype, size_t size)
{
	const struct tb_json *sig = tb_json_get(doc, "signature");
	const char *t = tb_json_string(tb_json_get(sig, "type"));
	const struct tb_json *p = tb_json_get(doc, "proof");
	if (doc == NULL || doc->type != TB_JSON_OBJECT)
		return 0;
	if (!(t && strcmp(t, "SHA3MerkleProof") == 0) &&
	    !(p != NULL && (p->type == TB_JSON_OBJECT || p->type == TB_JSON_ARRAY)))
		return 0;
	snprintf(doctype, size, "oa.document");
	return 1;
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI,
	.name = "tradetrust",
	.summary = "TradeTrust / OpenAttestation v2 and v3 documents: integrity, status, issuer identity",
	.options = tt_options,
	.conf_size = sizeof(struct tt_conf),
	.open = tt_open,
	.poll = tt_poll,
	.verify = tt_verify,
	.close = tt_close,
	.recognise = tt_recognise,
};
