/* Fuzz the JSON-RPC answer reader: any body, read as a single answer (id 1) and as a
 * batch of three (ids 1..3). Oracle: it never crashes or leaks, and on success every
 * call holds exactly one of a result or a fault. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_jsonrpc_call calls[3] = {{.method = "a"}, {.method = "b"}, {.method = "c"}};
	for (size_t n = 0; n <= 3; n += 3) {
		size_t count = n ? n : 1;
		if (tb_jsonrpc_parse_answer((const char *)data, size, calls, n, 1, NULL) == 0)
			for (size_t i = 0; i < count; i++)
				if ((calls[i].result != NULL) == (calls[i].faulted != 0))
					abort();
		tb_jsonrpc_calls_fini(calls, count);
	}
	return 0;
}
