/* Strict decimal parsing: one loop over the digits with an overflow check before
 * every multiply, so "-1", "1e3", " 7", "0x10", "007" and 2^64 are all refused
 * rather than read the way strtoull would read them (wrapped, or half). */
#include <stdio.h>
#include <string.h>

#include "lib/num.h"
#include "lib/printable.h"

static int refuse(const char *s, size_t len, uint64_t min, uint64_t max, const char *what,
                  int code, struct tb_error *err)
{
	char shown[64];
	tb_printable_n(shown, sizeof shown, s, len);
	return tb_error_set(err, code, "%s: \"%s\" is not a whole number in %llu..%llu", what,
	                    shown, (unsigned long long)min, (unsigned long long)max);
}

int tb_num_u64n(const char *s, size_t len, uint64_t min, uint64_t max, const char *what,
                uint64_t *out, struct tb_error *err)
{
	uint64_t v = 0;
	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return refuse(s, len, min, max, what, TB_EINVAL, err);
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return refuse(s, len, min, max, what, TB_EINVAL, err);
		if (v > (UINT64_MAX - d) / 10)
			return refuse(s, len, min, max, what, TB_ELIMIT, err);
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return refuse(s, len, min, max, what, TB_ELIMIT, err);
	*out = v;
	return 0;
}

int tb_num_u64(const char *s, uint64_t min, uint64_t max, const char *what, uint64_t *out,
               struct tb_error *err)
{
	return tb_num_u64n(s ? s : "", s ? strlen(s) : 0, min, max, what, out, err);
}

int tb_num_int(const char *s, int min, int max, const char *what, int *out, struct tb_error *err)
{
	uint64_t v = 0;
	if (min < 0)
		min = 0; /* negative values are never accepted from outside text */
	int rc = tb_num_u64(s, (uint64_t)min, (uint64_t)max, what, &v, err);
	if (rc == 0)
		*out = (int)v;
	return rc;
}
