/* Growable buffers. Growth doubles; a request that would pass the buffer's limit
 * fails with TB_ELIMIT before any allocation, which is how every reader of outside
 * input stays bounded. */
#include "lib/buf.h"
#include "lib/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t buf_limit(const struct tb_buf *b)
{
	return b->limit ? b->limit : TB_BUF_DEFAULT_LIMIT;
}

void tb_buf_init(struct tb_buf *b, size_t limit)
{
	memset(b, 0, sizeof *b);
	b->limit = limit;
}

void tb_buf_fini(struct tb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void tb_buf_reset(struct tb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

int tb_buf_reserve(struct tb_buf *b, size_t extra)
{
	if (extra > buf_limit(b) - b->len)
		return TB_ELIMIT;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->data, cap);
	if (p == NULL)
		return TB_ENOMEM;
	if (b->data == NULL)
		p[0] = 0;
	b->data = p;
	b->cap = cap;
	return 0;
}

int tb_buf_append(struct tb_buf *b, const void *p, size_t n)
{
	int rc = tb_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int tb_buf_putc(struct tb_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;
	return tb_buf_append(b, &ch, 1);
}

int tb_buf_puts(struct tb_buf *b, const char *s)
{
	return tb_buf_append(b, s, strlen(s));
}

int tb_buf_printf(struct tb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return TB_EINVAL;
	int rc = tb_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

uint8_t *tb_buf_steal(struct tb_buf *b, size_t *len)
{
	if (b->data == NULL && tb_buf_reserve(b, 0) != 0)
		return NULL;
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int tb_buf_read_file(struct tb_buf *b, const char *path, struct tb_error *err)
{
	int use_stdin = path == NULL || strcmp(path, "-") == 0;
	const char *name = use_stdin ? "standard input" : path;
	FILE *f = use_stdin ? stdin : fopen(path, "rb");
	if (f == NULL)
		return tb_error_set(err, TB_EIO, "%s: cannot open: %s", name, strerror(errno));
	int rc = 0;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		rc = tb_buf_append(b, chunk, n);
		if (rc == TB_ELIMIT) {
			tb_error_set(err, rc, "%s: larger than the limit of %zu bytes", name, buf_limit(b));
			break;
		}
		if (rc) {
			tb_error_set(err, rc, "%s: out of memory", name);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = tb_error_set(err, TB_EIO, "%s: read error: %s", name, strerror(errno));
	if (rc == 0 && b->data == NULL)
		rc = tb_buf_reserve(b, 0);
	if (!use_stdin)
		fclose(f);
	return rc;
}
