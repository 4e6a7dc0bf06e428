/* Fuzz the strict number reader and the printable escaper, both fed outside text:
 * a number is accepted only if printing it back gives the same text; escaped text
 * never holds a control byte (C0, DEL, C1) and a bounded escape never overruns. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"
#include "lib/printable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_number(const char *s, size_t n)
{
	uint64_t v = 0;
	struct tb_error err;
	err.msg[0] = 0;
	if (tb_num_u64n(s, n, 0, UINT64_MAX, "fuzz", &v, &err) != 0) {
		if (err.msg[0] == 0)
			abort();
		return;
	}
	char back[32];
	int len = snprintf(back, sizeof back, "%" PRIu64, v);
	if ((size_t)len != n || memcmp(back, s, n) != 0)
		abort();
}

static void check_clean(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	check_number(s, size);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	if (tb_printable_append(&b, s, size) != 0)
		abort();
	check_clean(b.data, b.len);
	tb_buf_fini(&b);
	char small[40];
	memset(small, 'x', sizeof small);
	tb_printable_n(small, 32, s, size);
	if (memchr(small, 0, 32) == NULL || small[32] != 'x')
		abort();
	check_clean((const unsigned char *)small, strlen(small));
	return 0;
}
