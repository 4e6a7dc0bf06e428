/* Document store events as a source (tt_poll.c): DocumentIssued / DocumentRevoked
 * logs, confirmed, into a batch. Used by tradetrust.c (its ops table); it uses only
 * tt_ctx.h. */
#ifndef TB_TT_POLL_H
#define TB_TT_POLL_H

#include "adapter.h"

int tt_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
            struct tb_error *err);

#endif
