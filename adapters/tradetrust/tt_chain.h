/* What the tradetrust adapter asks the chain (tt_chain.c): DOCUMENT_STATUS of
 * document stores and token registries, DID revocation stores, the chain id.
 * Used by tradetrust.c and tt_identity.c; it uses only tt_ctx.h. */
#ifndef TB_TT_CHAIN_H
#define TB_TT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "tt_ctx.h"

/* DOCUMENT_STATUS on chain: document stores and token registries. */
void tt_check_document_store(struct tt_ctx *c);
void tt_check_token_registry(struct tt_ctx *c);
/* isRevoked on a DID revocation store at addr: 0 not revoked, 1 revoked, <0 error. */
int tt_store_revoked(struct tt_ctx *c, const uint8_t addr[20], char *why, size_t whylen);
/* eth_chainId into c->chain_id; TB_EUNAVAIL when the node cannot be asked. */
int tt_chain_id(struct tt_ctx *c, struct tb_error *err);

/* A bool view call (sig taking one bytes32) on store: 1, 0 (why), or <0. */
int tt_store_flag(struct tt_ctx *c, const uint8_t store[20], const char *sig,
                  const uint8_t h[32], char *why, size_t n);

#endif
