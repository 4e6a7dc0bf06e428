/* Fuzz the parser of receipts from peer relays: any input either fails with a
 * message or parses into a receipt whose canonical form parses back to the same
 * receipt (so what we store and re-verify is what we were given, in JCS form);
 * signer recovery on a parsed receipt never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_receipt r, back;
	struct tb_error err;
	err.msg[0] = 0;
	if (tb_receipt_parse((const char *)data, size, &r, &err) != 0) {
		if (err.msg[0] == 0)
			abort();
		return 0;
	}
	struct tb_buf b;
	tb_buf_init(&b, 4 * TB_RECEIPT_MAX_BYTES);
	if (tb_receipt_write(&r, &b, &err) != 0)
		abort();
	if (tb_receipt_parse((const char *)b.data, b.len, &back, &err) != 0 ||
	    memcmp(&r, &back, sizeof r) != 0)
		abort();
	uint8_t addr[20], h[32];
	(void)tb_receipt_signer(&r, addr, &err);
	if (tb_receipt_hash(&r, h, &err) != 0)
		abort();
	tb_buf_fini(&b);
	return 0;
}
