/* ISSUER_IDENTITY by DNS, as dnsprove parses and tt-verify matches: a TXT record
 * "openatts net=ethereum netId=<chainId> addr=<address>" at the issuer's location
 * names its document store / token registry (DNS-TXT), or "openatts a=dns-did;
 * p=<did key>; v=1.0" names its DID key (DNS-DID). Queries go only to the resolver
 * the configuration names. Invariant: a resolver failure is ERROR, never INVALID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/dnstxt.h"
#include "tt_chain.h"
#include "tt_ctx.h"
#include "tt_identity.h"

#define MAX_PAIRS 8

struct oa_record {
	char buf[512];
	const char *type;
	const char *key[MAX_PAIRS], *val[MAX_PAIRS];
	size_t n;
};

/* dnsprove: drop surrounding quotes, keep "openatts..." records, split on spaces,
 * first token is the type, then key=value with a trailing ";" trimmed. */
static int parse_record(const char *txt, struct oa_record *r)
{
	size_t len = strlen(txt);
	memset(r, 0, sizeof *r);
	if (len && txt[0] == '"') {
		txt++;
		len = len >= 2 ? len - 2 : 0;
	}
	if (len >= sizeof r->buf || strncmp(txt, "openatts", 8) != 0)
		return -1;
	memcpy(r->buf, txt, len);
	char *save = NULL, *tok = strtok_r(r->buf, " ", &save);
	r->type = tok;
	while ((tok = strtok_r(NULL, " ", &save)) && r->n < MAX_PAIRS) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = 0;
		size_t vl = strlen(eq + 1);
		if (vl && eq[vl] == ';')
			eq[vl] = 0;
		r->key[r->n] = tok;
		r->val[r->n++] = eq + 1;
	}
	return 0;
}

static const char *rec_get(const struct oa_record *r, const char *k)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->key[i], k) == 0)
			return r->val[i];
	return NULL;
}

/* TXT records at location: 0, or <0 with why (resolver trouble). */
static int lookup(struct tt_ctx *c, const char *location, struct tb_dnstxt *out, char *why,
                  size_t n)
{
	struct tb_error err = {0};
	if (!c->conf->dns)
		return snprintf(why, n, "no dns resolver configured: %.100s was not looked up",
		                location), TB_EUNAVAIL;
	int rc = tb_dnstxt_query(c->conf->dns, location, c->conf->timeout, out, &err);
	if (rc)
		snprintf(why, n, "%.200s", err.msg);
	return rc;
}

static int txt_matches(const struct tt_ctx *c, const struct tb_dnstxt *d, const char *addr)
{
	char chain[24];
	snprintf(chain, sizeof chain, "%llu", (unsigned long long)c->chain_id);
	for (size_t i = 0; i < d->count; i++) {
		struct oa_record r;
		if (parse_record(d->txt[i], &r) != 0)
			continue;
		const char *a = rec_get(&r, "addr"), *id = rec_get(&r, "netId"),
			   *net = rec_get(&r, "net");
		if (a && id && net && strcmp(r.type, "openatts") == 0 && strcmp(net, "ethereum") == 0 &&
		    strcmp(id, chain) == 0 && strcasecmp(a, addr) == 0)
			return 1;
	}
	return 0;
}

static const char *issuer_contract(const struct tb_json *iss)
{
	const char *a = tt_issuer_field(iss, "documentStore", NULL);
	a = a ? a : tt_issuer_field(iss, "tokenRegistry", NULL);
	return a ? a : tt_issuer_field(iss, "certificateStore", NULL);
}

static int dns_txt_applies(const struct tt_ctx *c)
{
	for (size_t i = 0; i < tb_json_len(c->issuers); i++) {
		const struct tb_json *iss = tb_json_at(c->issuers, i);
		const char *ty = tt_issuer_field(iss, "identityProof", "type");
		if (issuer_contract(iss) && ty && strcmp(ty, "DNS-TXT") == 0)
			return 1;
	}
	return 0;
}

/* One issuer: 0 VALID, 1 INVALID, 2 ERROR; why says what was found. */
static int dns_txt_issuer(struct tt_ctx *c, const struct tb_json *iss, char *why, size_t n)
{
	const char *ty = tt_issuer_field(iss, "identityProof", "type");
	const char *loc = tt_issuer_field(iss, "identityProof", "location");
	const char *addr = issuer_contract(iss);
	if (!ty || strcmp(ty, "DNS-TXT") != 0)
		return snprintf(why, n, "INVALID_ISSUERS: issuer is not using DNS-TXT identityProof "
		                "type"), 1;
	if (!loc || !addr)
		return snprintf(why, n, "INVALID_ISSUERS: %s not found in identity proof",
		                loc ? "smart contract address" : "location"), 2;
	struct tb_dnstxt d;
	if (lookup(c, loc, &d, why, n) != 0)
		return 2;
	int ok = txt_matches(c, &d, addr);
	tb_dnstxt_fini(&d);
	if (!ok)
		return snprintf(why, n, "MATCHING_RECORD_NOT_FOUND: no DNS-TXT record at %.100s for "
		                "%.42s on chain %llu", loc, addr, (unsigned long long)c->chain_id), 1;
	return snprintf(why, n, "%.100s names %.42s", loc, addr), 0;
}

static int ensure_chain(struct tt_ctx *c, char *why, size_t n)
{
	struct tb_error err = {0};
	if (!c->rpc || c->chain_known)
		return 0;
	if (tt_chain_id(c, &err) != 0)
		return snprintf(why, n, "chain id not known: %.200s", err.msg), -1;
	return 0;
}

void tt_check_dns_txt(struct tt_ctx *c)
{
	const char *n = "OpenAttestationDnsTxtIdentityProof", *t = "ISSUER_IDENTITY";
	char why[384] = "", first[384] = "";
	int worst = 0;
	if (!dns_txt_applies(c)) {
		tt_frag(c, n, t, TT_SKIPPED, "no issuer with a document store or token registry "
		                             "uses DNS-TXT");
		return;
	}
	if (ensure_chain(c, why, sizeof why) != 0) {
		tt_frag(c, n, t, TT_ERROR, "%s", why);
		return;
	}
	for (size_t i = 0; i < tb_json_len(c->issuers); i++) {
		int r = dns_txt_issuer(c, tb_json_at(c->issuers, i), why, sizeof why);
		if (r > worst || !first[0])
			snprintf(first, sizeof first, "%s", why);
		worst = r > worst ? r : worst;
	}
	tt_frag(c, n, t, worst == 0 ? TT_VALID : worst == 1 ? TT_INVALID : TT_ERROR, "%s", first);
}

void tt_check_dns_did(struct tt_ctx *c)
{
	const char *n = "OpenAttestationDnsDidIdentityProof", *t = "ISSUER_IDENTITY";
	size_t applies = 0;
	for (size_t i = 0; i < tb_json_len(c->issuers); i++) {
		const struct tb_json *iss = tb_json_at(c->issuers, i);
		const char *ty = tt_issuer_field(iss, "identityProof", "type");
		if (!ty || strcmp(ty, "DNS-DID") != 0)
			continue;
		applies++;
		const char *loc = tt_issuer_field(iss, "identityProof", "location");
		const char *key = tt_issuer_field(iss, "identityProof", "key");
		char why[384];
		struct tb_dnstxt d;
		if (!loc || !key) {
			tt_frag(c, n, t, TT_INVALID, "DNS-DID issuer without location or key");
			return;
		}
		if (lookup(c, loc, &d, why, sizeof why) != 0) {
			tt_frag(c, n, t, TT_ERROR, "%s", why);
			return;
		}
		int ok = 0;
		for (size_t k = 0; k < d.count && !ok; k++) {
			struct oa_record r;
			const char *a, *p, *v;
			ok = parse_record(d.txt[k], &r) == 0 && (a = rec_get(&r, "a")) &&
			     (p = rec_get(&r, "p")) && (v = rec_get(&r, "v")) &&
			     strcmp(a, "dns-did") == 0 && strcmp(v, "1.0") == 0 && strcasecmp(p, key) == 0;
		}
		tb_dnstxt_fini(&d);
		if (!ok) {
			tt_frag(c, n, t, TT_INVALID, "INVALID_IDENTITY: no DNS-DID record at %.100s for "
			                             "%.100s", loc, key);
			return;
		}
	}
	if (!applies)
		tt_frag(c, n, t, TT_SKIPPED, "no issuer uses DNS-DID");
	else
		tt_frag(c, n, t, TT_VALID, "every DNS-DID key is published in DNS");
}
