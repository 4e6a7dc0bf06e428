/* Errors: every fallible function returns 0 or a negative TB_E* code and fills a
 * struct tb_error with a sentence an operator can act on. The message always names
 * what was wrong and where; callers add context with tb_error_prefix(). */
#ifndef TB_ERROR_H
#define TB_ERROR_H

#include <stddef.h>

enum {
	TB_OK = 0,
	TB_EINVAL = -1,   /* bad input: malformed, out of range, fails a rule */
	TB_ENOMEM = -2,   /* allocation failed */
	TB_EIO = -3,      /* a file or socket operation failed */
	TB_ELIMIT = -4,   /* a configured bound (size, depth, count) was passed */
	TB_ENOTFOUND = -5,/* asked-for item does not exist */
	TB_EUNAVAIL = -6, /* a peer could not be reached: try later, never "invalid" */
	TB_ENOTSUP = -7,  /* not supported (yet) */
	TB_EVERIFY = -8,  /* a proof was checked and is wrong */
	TB_ECONFIG = -9,  /* configuration error */
	TB_EREORG = -10,  /* the source no longer has the history the cursor points into */
};

#define TB_ERROR_MAX 512

struct tb_error {
	int code;
	char msg[TB_ERROR_MAX];
};

/* Set err (may be NULL) to code and a printf-style message; returns code. */
int tb_error_set(struct tb_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put "context: " in front of the current message. */
void tb_error_prefix(struct tb_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tb_error_clear(struct tb_error *err);
/* A short name for a TB_E* code ("invalid input", "unavailable", ...). */
const char *tb_strerror(int code);

#endif
