/* A module built for a future adapter ABI: the loader must refuse it, naming
 * the file and both ABI numbers, and never call into it. */
#include "adapter.h"

static int bad_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	return 0;
}

static void bad_close(void *state)
{
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI + 98,
	.name = "badabi",
	.summary = "built for another ABI",
	.open = bad_open,
	.close = bad_close,
};
