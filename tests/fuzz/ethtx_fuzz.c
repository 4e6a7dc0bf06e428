/* Fuzz the transaction decoder. Oracle: no crash or leak; a transaction that decodes
 * re-encodes to exactly the input bytes (the decoder accepts only canonical
 * encodings), and signer recovery returns or fails cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evm/ethtx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_ethtx tx;
	tb_ethtx_init(&tx);
	if (tb_ethtx_decode(data, size, &tx, NULL) == 0) {
		struct tb_buf b;
		uint8_t a[20];
		tb_buf_init(&b, 0);
		if (tb_ethtx_encode(&tx, &b, NULL) == 0 && (b.len != size || memcmp(b.data, data, size)))
			abort();
		tb_buf_fini(&b);
		(void)tb_ethtx_sender(&tx, a, NULL);
	}
	tb_ethtx_fini(&tx);
	return 0;
}
