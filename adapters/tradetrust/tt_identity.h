/* ISSUER_IDENTITY over DNS (tt_identity.c): DNS-TXT and DNS-DID. Used by
 * tradetrust.c; it uses tt_ctx.h and tt_chain.h (the chain id a record must name). */
#ifndef TB_TT_IDENTITY_H
#define TB_TT_IDENTITY_H

#include "tt_ctx.h"

void tt_check_dns_txt(struct tt_ctx *c);
void tt_check_dns_did(struct tt_ctx *c);

#endif
