/* Fuzzes the XML decoder: any input either decodes into a tree that writes as
 * canonical JSON, or is refused with an error; never a crash, a leak or an
 * entity fetch. Limits are small so deep or large inputs hit the bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_xml_limits lim = {.max_bytes = 1 << 16, .max_depth = 32};
	struct tb_json *j = NULL;
	struct tb_error err = {0};
	if (tb_xml_to_json((const char *)data, size, &lim, &j, &err) == 0) {
		struct tb_buf b;
		tb_buf_init(&b, 0);
		if (j == NULL || tb_json_write_canonical(j, &b, &err) != 0)
			abort(); /* a decoded tree must always serialise */
		tb_buf_fini(&b);
	} else if (j != NULL || err.msg[0] == 0) {
		abort(); /* a refusal leaves no tree and says why */
	}
	tb_json_free(j);
	return 0;
}
