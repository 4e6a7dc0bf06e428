/* Fuzzes the mapping engine: the input is split at the first NUL into a mapping
 * file and a native JSON record. Whatever loads must run forward (and, when
 * reversible, back) without crashing; a refusal must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "model/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const struct tb_mapping *m, const struct tb_json *native)
{
	struct tb_mapping_ctx ctx = {"salt", 4};
	struct tb_json *rec = NULL, *back = NULL;
	struct tb_error err = {0};
	if (tb_mapping_to_record(m, &ctx, native, &rec, &err) != 0) {
		if (rec != NULL || err.msg[0] == 0)
			abort();
		return;
	}
	if (tb_mapping_reversible(m) &&
	    tb_mapping_reverse(m, &ctx, tb_json_get(rec, "data"), &back, &err) != 0 && err.msg[0] == 0)
		abort();
	tb_json_free(back);
	tb_json_free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t mlen = nul ? (size_t)(nul - data) : size;
	struct tb_mapping *m = NULL;
	struct tb_error err = {0};
	if (tb_mapping_parse((const char *)data, mlen, "fuzz.json", &m, &err) != 0) {
		if (m != NULL || err.msg[0] == 0)
			abort();
		return 0;
	}
	struct tb_json_limits lim = {.max_bytes = 1 << 16, .max_depth = 32, .max_string = 4096};
	struct tb_json *native = NULL;
	const char *rest = nul ? (const char *)nul + 1 : "{}";
	size_t rlen = nul ? size - mlen - 1 : 2;
	if (tb_json_parse(rest, rlen, &lim, &native, &err) == 0) {
		run(m, native);
		tb_json_free(native);
	}
	tb_mapping_free(m);
	return 0;
}
