/* Error messages: fixed-size, truncated rather than allocated, so reporting an
 * error can never fail or allocate while the program is already in trouble. */
#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int tb_error_set(struct tb_error *err, int code, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

void tb_error_prefix(struct tb_error *err, const char *fmt, ...)
{
	if (err == NULL)
		return;
	char head[TB_ERROR_MAX], old[TB_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* Truncation is wanted here: a long message keeps its head. */
	size_t h = strnlen(head, sizeof head - 3), o = strnlen(old, sizeof old);
	memcpy(err->msg, head, h);
	memcpy(err->msg + h, ": ", 2);
	size_t room = sizeof err->msg - h - 3;
	if (o > room)
		o = room;
	memcpy(err->msg + h + 2, old, o);
	err->msg[h + 2 + o] = '\0';
}

void tb_error_clear(struct tb_error *err)
{
	if (err != NULL) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *tb_strerror(int code)
{
	switch (code) {
	case TB_OK: return "ok";
	case TB_EINVAL: return "invalid input";
	case TB_ENOMEM: return "out of memory";
	case TB_EIO: return "input/output error";
	case TB_ELIMIT: return "limit exceeded";
	case TB_ENOTFOUND: return "not found";
	case TB_EUNAVAIL: return "unavailable";
	case TB_ENOTSUP: return "not supported";
	case TB_EVERIFY: return "verification failed";
	case TB_ECONFIG: return "configuration error";
	case TB_EREORG: return "source history rewritten";
	default: return "unknown error";
	}
}
