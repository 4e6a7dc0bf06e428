/* Fuzz the strict RLP decoder: any input either fails with a message, or
 * decodes, and then re-encoding the decoded tree must give back exactly the
 * input (the decoder accepts only canonical encodings). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evm/rlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int reencode(const struct tb_rlp_item *it, struct tb_buf *out)
{
	if (!it->is_list)
		return tb_rlp_put_bytes(out, it->payload, it->len);
	size_t mark, n = tb_rlp_count(it);
	tb_rlp_list_begin(out, &mark);
	for (size_t i = 0; i < n; i++) {
		struct tb_rlp_item c;
		if (tb_rlp_at(it, i, &c, NULL) != 0 || reencode(&c, out) != 0)
			return -1;
	}
	return tb_rlp_list_end(out, mark);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_rlp_item it;
	struct tb_error err;
	if (tb_rlp_decode(data, size, &it, &err) != 0) {
		if (err.msg[0] == '\0')
			abort(); /* every refusal must say why */
		return 0;
	}
	struct tb_buf out;
	tb_buf_init(&out, 0);
	if (reencode(&it, &out) != 0 || out.len != size || memcmp(out.data, data, size) != 0)
		abort();
	tb_buf_fini(&out);
	uint64_t v;
	(void)tb_rlp_uint64(&it, &v, NULL);
	return 0;
}
