/* Helpers adapters call back into (declared in adapter.h). They live in the
 * tradebridge binary, which is linked -export-dynamic so that a dlopen'd module
 * resolves them. Invariant: a batch owns every document pushed into it, also
 * when the push fails, so an adapter never has to free on the error path. */
#include "adapter.h"

#include <stdlib.h>
#include <string.h>

#define TB_BATCH_MAX 100000 /* records in one poll: an adapter pages beyond this */

static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
}

int tb_batch_push(struct tb_batch *b, const char *locator, const char *doctype,
                  struct tb_json *doc)
{
	if (!b || !locator || strlen(locator) >= sizeof b->items[0].locator ||
	    (doctype && strlen(doctype) >= sizeof b->items[0].doctype)) {
		tb_json_free(doc);
		return TB_EINVAL;
	}
	if (b->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		if (b->len >= TB_BATCH_MAX) {
			tb_json_free(doc);
			return TB_ELIMIT;
		}
		struct tb_native *items = realloc(b->items, cap * sizeof *items);
		if (!items) {
			tb_json_free(doc);
			return TB_ENOMEM;
		}
		b->items = items;
		b->cap = cap;
	}
	struct tb_native *n = &b->items[b->len++];
	copy_text(n->locator, sizeof n->locator, locator);
	copy_text(n->doctype, sizeof n->doctype, doctype);
	n->doc = doc;
	return 0;
}

void tb_batch_fini(struct tb_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->len; i++)
		tb_json_free(b->items[i].doc);
	free(b->items);
	b->items = NULL;
	b->len = b->cap = 0;
}

void tb_proof_fini(struct tb_proof *p)
{
	if (!p)
		return;
	tb_json_free(p->detail);
	p->detail = NULL;
}
