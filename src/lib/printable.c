/* Escaping outside text for terminals: one function decides, byte by byte, what
 * is shown as is and what as an escape; every printer (CLI output, errors, log
 * lines) goes through it. Invariant: the escape for a byte never depends on
 * what was printed before it, so a cut line is still safe. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/printable.h"

size_t tb_utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t min, cp;
	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The escape for the sequence at p into esc (NUL-terminated), or "" to copy the
 * *used bytes as they are. */
static void escape_at(const unsigned char *p, size_t n, char esc[8], size_t *used)
{
	size_t u = tb_utf8_len(p, n);
	esc[0] = 0;
	*used = u ? u : 1;
	if (u == 0)
		snprintf(esc, 8, "\\x%02x", p[0]);
	else if (u == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		snprintf(esc, 8, "\\u%04x", p[1]); /* C1 control */
	else if (p[0] == '\n')
		memcpy(esc, "\\n", 3);
	else if (p[0] == '\r')
		memcpy(esc, "\\r", 3);
	else if (p[0] == '\t')
		memcpy(esc, "\\t", 3);
	else if (p[0] == '\\')
		memcpy(esc, "\\\\", 3);
	else if (p[0] < 0x20 || p[0] == 0x7f)
		snprintf(esc, 8, "\\x%02x", p[0]);
}

int tb_printable_append(struct tb_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;
	for (size_t i = 0, used; rc == 0 && i < len; i += used) {
		char esc[8];
		escape_at(p + i, len - i, esc, &used);
		rc = esc[0] ? tb_buf_puts(out, esc) : tb_buf_append(out, p + i, used);
	}
	return rc;
}

void tb_printable_fputs(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0, used; i < len; i += used) {
		char esc[8];
		escape_at(p + i, len - i, esc, &used);
		if (esc[0])
			fputs(esc, f);
		else
			fwrite(p + i, 1, used, f);
	}
}

/* Bytes of the escaped form of s. */
static size_t escaped_len(const unsigned char *p, size_t len)
{
	size_t total = 0;
	for (size_t i = 0, used; i < len; i += used) {
		char esc[8];
		escape_at(p + i, len - i, esc, &used);
		total += esc[0] ? strlen(esc) : used;
	}
	return total;
}

const char *tb_printable_n(char *out, size_t cap, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	if (cap < 4) {
		if (cap)
			out[0] = 0;
		return out;
	}
	/* when it is cut, keep room for "..." and the NUL */
	size_t room = escaped_len(p, len) < cap ? cap - 1 : cap - 4, o = 0, i = 0, used;
	for (; i < len; i += used) {
		char esc[8];
		escape_at(p + i, len - i, esc, &used);
		size_t k = esc[0] ? strlen(esc) : used;
		if (o + k > room)
			break;
		memcpy(out + o, esc[0] ? (const void *)esc : (const void *)(p + i), k);
		o += k;
	}
	memcpy(out + o, i < len ? "..." : "", i < len ? 4 : 1);
	return out;
}

void tb_printable_json_fputs(const char *json, FILE *f)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t len = strlen(json);
	for (size_t i = 0, u; i < len; i += u) {
		u = tb_utf8_len(p + i, len - i);
		if (u == 0) {
			fputs("\\ufffd", f), u = 1; /* our writers never produce this */
		} else if (p[i] == 0x7f || (p[i] < 0x20 && !strchr("\t\n\r", p[i]))) {
			fprintf(f, "\\u%04x", p[i]);
		} else if (u == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			fprintf(f, "\\u%04x", p[i + 1]);
		} else {
			fwrite(p + i, 1, u, f);
		}
	}
}

void tb_printable_json_out(const char *json, FILE *f)
{
	if (isatty(fileno(f)))
		tb_printable_json_fputs(json, f);
	else
		fputs(json, f);
}
