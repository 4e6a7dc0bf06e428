/* Internals of the tradetrust adapter shared by its files (never installed): the
 * verification context and the fragment list, shaped like oa-verify's fragments.
 * Invariant: a check that could not be made (no RPC/DNS configured, peer down) is
 * an ERROR fragment and makes the verdict UNKNOWN; only a check that was made and
 * failed is INVALID. */
#ifndef TB_TT_H
#define TB_TT_H

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

/* DOCUMENT_STATUS on chain: document stores and token registries (tt_chain.c). */
void tt_check_document_store(struct tt_ctx *c);
void tt_check_token_registry(struct tt_ctx *c);
/* isRevoked on a DID revocation store at addr: 0 not revoked, 1 revoked, <0 error. */
int tt_store_revoked(struct tt_ctx *c, const uint8_t addr[20], char *why, size_t whylen);
/* eth_chainId into c->chain_id; TB_EUNAVAIL when the node cannot be asked. */
int tt_chain_id(struct tt_ctx *c, struct tb_error *err);

/* A bool view call (sig taking one bytes32) on store: 1, 0 (why), or <0. */
int tt_store_flag(struct tt_ctx *c, const uint8_t store[20], const char *sig,
                  const uint8_t h[32], char *why, size_t n);
/* Document store events (tt_poll.c). */
int tt_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
            struct tb_error *err);

/* ISSUER_IDENTITY over DNS (tt_identity.c). */
void tt_check_dns_txt(struct tt_ctx *c);
void tt_check_dns_did(struct tt_ctx *c);

#endif
