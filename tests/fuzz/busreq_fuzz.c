/* Fuzzes the REP side's request handling (tb_bus_answer) against a real, empty
 * in-memory store: any bytes, the empty message included, get either "ok\n" and
 * receipt lines or one "error: ...\n" line; never a crash, a hang or a reply
 * without its trailing newline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tb_store *store(void)
{
	static struct tb_store st;
	static int open;
	struct tb_error err;
	if (!open && tb_store_open(&st, ":memory:", 0, &err) != 0)
		abort();
	open = 1;
	return &st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_buf out;
	tb_buf_init(&out, TB_BUS_MSG_MAX);
	/* an nng message of length 0 has no body pointer: pass NULL as nng would */
	tb_bus_answer(store(), size ? (const char *)data : NULL, size, &out);
	const char *r = (const char *)out.data;
	if (!r || out.len == 0 || r[out.len - 1] != '\n')
		abort();
	if (strncmp(r, "ok\n", 3) != 0 && strncmp(r, "error: ", 7) != 0)
		abort();
	tb_buf_fini(&out);
	return 0;
}
