/* Fuzzes the JSON parser and writers. Whatever parses must write canonically,
 * and canonical form must be a fixed point: parse(canonical) writes the same
 * bytes again, as do the stringify and pretty forms. A mismatch abort()s so the
 * fuzzer keeps the input; a refusal of bad input is fine and expected. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void canonical_of(const char *text, size_t len, struct tb_buf *out)
{
	struct tb_json_limits lim = {.max_bytes = 1 << 20, .max_depth = 16, .max_string = 4096};
	struct tb_json *j;
	struct tb_error err;
	if (tb_json_parse(text, len, &lim, &j, &err) != 0)
		abort(); /* our own output must always parse */
	if (tb_json_write_canonical(j, out, &err) != 0)
		abort();
	tb_json_free(j);
}

static void check_fixed_point(const struct tb_buf *canon, const struct tb_buf *other)
{
	struct tb_buf again;
	tb_buf_init(&again, 0);
	canonical_of((const char *)other->data, other->len, &again);
	if (again.len != canon->len || memcmp(again.data, canon->data, canon->len) != 0)
		abort();
	tb_buf_fini(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_json_limits lim = {.max_bytes = 65536, .max_depth = 16, .max_string = 4096,
	                             .allow_comments = size > 0 && data[0] == '/'};
	struct tb_json *j;
	struct tb_error err;
	if (tb_json_parse((const char *)data, size, &lim, &j, &err) != 0) {
		if (strncmp(err.msg, "line ", 5) != 0)
			abort(); /* every parse error names where */
		return 0;
	}
	struct tb_buf canon, str, pretty;
	tb_buf_init(&canon, 0);
	tb_buf_init(&str, 0);
	tb_buf_init(&pretty, 0);
	if (tb_json_write_canonical(j, &canon, &err) != 0 ||
	    tb_json_write_stringify(j, &str, &err) != 0 ||
	    tb_json_write_pretty(j, &pretty, &err) != 0)
		abort();
	check_fixed_point(&canon, &canon);
	check_fixed_point(&canon, &str);
	check_fixed_point(&canon, &pretty);
	tb_json_free(j);
	tb_buf_fini(&canon);
	tb_buf_fini(&str);
	tb_buf_fini(&pretty);
	return 0;
}
