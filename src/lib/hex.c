/* Hex and base64 codecs. Decoders never write past cap and never accept a
 * malformed input partially: on error the output is unspecified and *n is 0,
 * and the message names the offset (in the caller's text) of the first bad byte. */
#include <stdlib.h>

#include "lib/hex.h"

static const char hex_digits[] = "0123456789abcdef";

void tb_hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int tb_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t hex_prefix(const char *s, size_t len)
{
	return (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
}

int tb_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n,
                  struct tb_error *err)
{
	size_t p = hex_prefix(s, len);
	*n = 0;
	if ((len - p) % 2 != 0)
		return tb_error_set(err, TB_EINVAL, "hex: odd number of digits (%zu)", len - p);
	if ((len - p) / 2 > cap)
		return tb_error_set(err, TB_ELIMIT, "hex: %zu bytes do not fit in %zu", (len - p) / 2,
		                    cap);
	for (size_t i = p; i < len; i += 2) {
		int hi = tb_hex_digit(s[i]), lo = tb_hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0) {
			size_t at = hi < 0 ? i : i + 1;
			return tb_error_set(err, TB_EINVAL, "hex: offset %zu: '%c' is not a hex digit", at,
			                    (s[at] >= 0x20 && s[at] < 0x7f) ? s[at] : '?');
		}
		out[(i - p) / 2] = (uint8_t)(hi << 4 | lo);
	}
	*n = (len - p) / 2;
	return 0;
}

int tb_hex_decode_alloc(const char *s, size_t len, uint8_t **out, size_t *n, struct tb_error *err)
{
	size_t cap = (len - hex_prefix(s, len)) / 2;
	uint8_t *p = malloc(cap ? cap : 1);
	*out = NULL;
	*n = 0;
	if (p == NULL)
		return tb_error_set(err, TB_ENOMEM, "hex: out of memory for %zu bytes", cap);
	int rc = tb_hex_decode(s, len, p, cap, n, err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void tb_base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* One 4-character group; pads is how many '=' it may end with (0 unless last). */
static int b64_group(const char *s, size_t at, int last, uint32_t *v, int *pads,
                     struct tb_error *err)
{
	*v = 0;
	*pads = 0;
	for (int k = 0; k < 4; k++) {
		char c = s[at + k];
		if (c == '=' && last && k >= 2 && (k == 3 || s[at + 3] == '=')) {
			(*pads)++;
			*v <<= 6;
			continue;
		}
		int d = b64_value(c);
		if (d < 0 || *pads > 0)
			return tb_error_set(err, TB_EINVAL, "base64: offset %zu: unexpected '%c'", at + k,
			                    (c >= 0x20 && c < 0x7f) ? c : '?');
		*v = *v << 6 | (uint32_t)d;
	}
	return 0;
}

int tb_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n,
                     struct tb_error *err)
{
	*n = 0;
	if (len % 4 != 0)
		return tb_error_set(err, TB_EINVAL, "base64: length %zu is not a multiple of 4", len);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v;
		int pads;
		int rc = b64_group(s, i, i + 4 == len, &v, &pads, err);
		if (rc < 0)
			return rc;
		/* Canonical form: the bits dropped by padding must be zero. */
		if ((pads == 1 && (v & 0xff)) || (pads == 2 && (v & 0xffff)))
			return tb_error_set(err, TB_EINVAL, "base64: offset %zu: non-zero padding bits",
			                    i + 3 - (size_t)pads);
		size_t k = 3 - (size_t)pads;
		if (o + k > cap)
			return tb_error_set(err, TB_ELIMIT, "base64: output exceeds %zu bytes", cap);
		uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
		for (size_t j = 0; j < k; j++)
			out[o++] = b[j];
	}
	*n = o;
	return 0;
}
