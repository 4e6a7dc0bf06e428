/* The helpers every file of the tradetrust adapter uses (tt_ctx.h): fragments,
 * issuer fields, addresses. Moved out of tradetrust.c so that no two files of the
 * adapter depend on each other: this one depends on none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/hex.h"
#include "oa.h"
#include "tt_ctx.h"

struct tt_fragment *tt_frag(struct tt_ctx *c, const char *name, const char *type,
                            enum tt_status st, const char *fmt, ...)
{
	size_t i = c->nfrags < TT_MAX_FRAGMENTS ? c->nfrags++ : TT_MAX_FRAGMENTS - 1;
	struct tt_fragment *f = &c->frags[i];
	tb_json_free(f->data);
	f->name = name;
	f->type = type;
	f->status = st;
	f->data = NULL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof f->reason, fmt, ap);
	va_end(ap);
	return f;
}

const char *tt_issuer_field(const struct tb_json *issuer, const char *a, const char *b)
{
	const struct tb_json *v = tb_json_get(issuer, a);
	if (b)
		v = tb_json_get(v, b);
	return tb_oa_unsalt(tb_json_string(v));
}

int tt_address(const char *s, uint8_t out[20])
{
	size_t n;
	if (!s || strlen(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	return tb_hex_decode(s, 42, out, 20, &n, NULL) == 0 && n == 20 ? 0 : -1;
}
