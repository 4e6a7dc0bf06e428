/* Fuzz the DNS TXT answer parser: the first two input bytes are the query id the
 * answer must echo (so the fuzzer reaches past the header), the question is
 * "a.test". Oracles: only documented codes come back; on success every record is
 * within the message's size and the count within TB_DNSTXT_MAX_RECORDS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dnstxt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_dnstxt r;
	struct tb_error err;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	int rc = tb_dnstxt_parse(data, size, id, "a.test", &r, &err);
	if (rc != 0 && rc != TB_EINVAL && rc != TB_EUNAVAIL && rc != TB_ELIMIT && rc != TB_ENOMEM)
		abort();
	if (rc == 0) {
		if (r.count > TB_DNSTXT_MAX_RECORDS)
			abort();
		for (size_t i = 0; i < r.count; i++)
			if (r.len[i] > size)
				abort();
		tb_dnstxt_fini(&r);
	}
	return 0;
}
