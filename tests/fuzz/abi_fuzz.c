/* Fuzz the ABI decoder: the first byte picks a type list, the rest is the encoding.
 * Oracle: no crash, no read outside the input (ASan), and whatever decodes encodes
 * back to a prefix-equal head (static words are kept exactly). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evm/abi.h"

static const char *const sigs[] = {
	"f(bytes32,address,address,uint8,uint64,bytes32,uint64)",
	"f(string,bool)",
	"f(bytes,uint256,bytes)",
	"f(address,address,uint8,uint64,bytes32,uint64)",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct tb_abi_type t[TB_ABI_MAX_ARGS];
	struct tb_abi_value v[TB_ABI_MAX_ARGS];
	size_t n;
	if (tb_abi_parse_signature(sigs[data[0] % 4], t, TB_ABI_MAX_ARGS, &n, NULL) != 0)
		abort();
	if (tb_abi_decode(data + 1, size - 1, t, n, v, NULL) != 0)
		return 0;
	struct tb_buf b;
	tb_buf_init(&b, 0);
	if (tb_abi_encode(v, n, &b, NULL) != 0)
		abort();
	for (size_t i = 0; i < n; i++) /* static heads survive the round trip */
		if (v[i].type.kind != TB_ABI_STRING && v[i].type.kind != TB_ABI_BYTES &&
		    memcmp(b.data + 32 * i, data + 1 + 32 * i, 32) != 0)
			abort();
	tb_buf_fini(&b);
	return 0;
}
