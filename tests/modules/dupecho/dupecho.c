/* A second module that calls itself "testecho": loaded after the real one, the
 * loader must refuse it and name both files. */
#include "adapter.h"

static int dup_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	return 0;
}

static void dup_close(void *state)
{
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI,
	.name = "testecho",
	.summary = "an impostor",
	.open = dup_open,
	.close = dup_close,
};
