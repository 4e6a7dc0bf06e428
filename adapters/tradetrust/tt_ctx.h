/* Internals of the tradetrust adapter every one of its files uses (never installed):
 * the verification context and the fragment list, shaped like oa-verify's fragments,
 * and the helpers over them (tt_ctx.c). It depends on no other tt_ file, so the
 * files that use each other do so through one header per direction: tt_chain.h,
 * tt_identity.h, tt_poll.h.
 * Invariant: a check that could not be made (no RPC/DNS configured, peer down) is
 * an ERROR fragment and makes the verdict UNKNOWN; only a check that was made and
 * failed is INVALID. */
#ifndef TB_TT_CTX_H
#define TB_TT_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "lib/json.h"
#include "lib/jsonrpc.h"

#define TT_MAX_FRAGMENTS 16
#define TT_MAX_ISSUERS 32

enum tt_status { TT_VALID, TT_INVALID, TT_SKIPPED, TT_ERROR };

struct tt_conf {
	char *rpc;          /* JSON-RPC URL, or NULL */
	char *dns;          /* HOST:PORT resolver, or NULL */
	long long chain_id; /* netId DNS-TXT records must name when there is no RPC to ask */
	long long timeout;  /* ms, for RPC and DNS each */
	char *document_store;    /* poll: the store whose events are ingested */
	long long confirmations; /* poll: blocks on top before a log is taken */
	long long start_block;   /* poll: where an empty cursor starts */
	long long max_blocks;    /* poll: blocks asked per eth_getLogs */
};

struct tt_fragment {
	const char *name; /* "OpenAttestationHash", ... */
	const char *type; /* DOCUMENT_INTEGRITY, DOCUMENT_STATUS, ISSUER_IDENTITY */
	enum tt_status status;
	char reason[384];
	struct tb_json *data; /* what was found (owner, holder, records); may be NULL */
};

struct tt_ctx {
	const struct tt_conf *conf;
	struct tb_jsonrpc *rpc; /* NULL without --rpc */
	const struct tb_json *doc, *issuers;
	uint8_t root[32], target[32];
	const struct tb_json *proof; /* signature.proof (array) or NULL */
	uint64_t chain_id;           /* from eth_chainId, or the configured one */
	int v3;                      /* an OpenAttestation v3 document */
	const char *v3_did;          /* v3: the DID proof.key must belong to (borrowed) */
	struct tb_json *v3_issuers;  /* v3: openAttestationMetadata as a v2 issuer list (owned) */
	int chain_known;
	struct tt_fragment frags[TT_MAX_FRAGMENTS];
	size_t nfrags;
};

/* Add a fragment; returns it (the last slot is reused when full). */
struct tt_fragment *tt_frag(struct tt_ctx *c, const char *name, const char *type,
                            enum tt_status st, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Unsalted string field issuers[i].a(.b) (borrowed), or NULL. */
const char *tt_issuer_field(const struct tb_json *issuer, const char *a, const char *b);
/* Strict "0x" + 40 hex digits. */
int tt_address(const char *s, uint8_t out[20]);

#endif
