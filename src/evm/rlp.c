/* Strict RLP. Canonical means: a single byte < 0x80 is never wrapped, lengths
 * below 56 use the short form, long lengths have no leading zero, and an item
 * never claims more bytes than it has. Every check reports the offset of the
 * offending header so a bad proof node or receipt can be located in its input. */
#include <string.h>

#include "evm/rlp.h"

/* Parse one header at data[0..len); base is data's offset in the whole input. */
static int parse_header(const uint8_t *data, size_t len, size_t base, struct tb_rlp_item *it,
                        struct tb_error *err)
{
	if (len == 0)
		return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: input ends where an item should start",
		                    base);
	uint8_t b = data[0];
	size_t hdr = 1, plen;
	it->offset = base;
	it->is_list = b >= 0xc0;
	if (b < 0x80) {
		hdr = 0;
		plen = 1;
	} else if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
		plen = b - (it->is_list ? 0xc0 : 0x80);
	} else {
		size_t ll = b - (it->is_list ? 0xf7 : 0xb7);
		if (ll > len - 1)
			return tb_error_set(err, TB_EINVAL,
			                    "rlp: offset %zu: length of length %zu runs past the input",
			                    base, ll);
		if (data[1] == 0)
			return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: long length has a leading zero",
			                    base);
		if (ll > sizeof(size_t))
			return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: length of %zu bytes overflows",
			                    base, ll);
		plen = 0;
		for (size_t i = 0; i < ll; i++)
			plen = plen << 8 | data[1 + i];
		if (plen < 56)
			return tb_error_set(err, TB_EINVAL,
			                    "rlp: offset %zu: length %zu must use the short form", base, plen);
		hdr = 1 + ll;
	}
	if (plen > len - hdr)
		return tb_error_set(err, TB_EINVAL,
		                    "rlp: offset %zu: item of %zu bytes runs past the input (%zu left)",
		                    base, plen, len - hdr);
	if (!it->is_list && hdr == 1 && plen == 1 && data[1] < 0x80)
		return tb_error_set(err, TB_EINVAL,
		                    "rlp: offset %zu: single byte 0x%02x must not be wrapped", base, data[1]);
	it->payload = data + hdr;
	it->len = plen;
	it->raw = data;
	it->raw_len = hdr + plen;
	return 0;
}

static int check_nested(const struct tb_rlp_item *list, unsigned depth, struct tb_error *err)
{
	if (!list->is_list)
		return 0;
	if (depth >= TB_RLP_MAX_DEPTH)
		return tb_error_set(err, TB_ELIMIT, "rlp: offset %zu: lists nested deeper than %d",
		                    list->offset, TB_RLP_MAX_DEPTH);
	size_t pos = 0, base = list->offset + (list->raw_len - list->len);
	while (pos < list->len) {
		struct tb_rlp_item child;
		int rc = parse_header(list->payload + pos, list->len - pos, base + pos, &child, err);
		if (rc < 0)
			return rc;
		rc = check_nested(&child, depth + 1, err);
		if (rc < 0)
			return rc;
		pos += child.raw_len;
	}
	return 0;
}

int tb_rlp_decode_first(const uint8_t *data, size_t len, struct tb_rlp_item *item, size_t *used,
                        struct tb_error *err)
{
	int rc = parse_header(data, len, 0, item, err);
	if (rc == 0)
		rc = check_nested(item, 0, err);
	if (rc < 0) {
		memset(item, 0, sizeof *item);
		return rc;
	}
	*used = item->raw_len;
	return 0;
}

int tb_rlp_decode(const uint8_t *data, size_t len, struct tb_rlp_item *item, struct tb_error *err)
{
	size_t used;
	int rc = tb_rlp_decode_first(data, len, item, &used, err);
	if (rc == 0 && used != len) {
		memset(item, 0, sizeof *item);
		return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: %zu trailing bytes after the item",
		                    used, len - used);
	}
	return rc;
}

size_t tb_rlp_count(const struct tb_rlp_item *list)
{
	size_t n = 0, pos = 0;
	if (!list->is_list)
		return 0;
	while (pos < list->len) {
		struct tb_rlp_item c;
		if (parse_header(list->payload + pos, list->len - pos, 0, &c, NULL) < 0)
			break;
		pos += c.raw_len;
		n++;
	}
	return n;
}

int tb_rlp_at(const struct tb_rlp_item *list, size_t i, struct tb_rlp_item *out,
              struct tb_error *err)
{
	if (!list->is_list)
		return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: expected a list, found a string",
		                    list->offset);
	size_t pos = 0, base = list->offset + (list->raw_len - list->len);
	for (size_t k = 0; pos < list->len; k++) {
		int rc = parse_header(list->payload + pos, list->len - pos, base + pos, out, err);
		if (rc < 0)
			return rc;
		if (k == i)
			return 0;
		pos += out->raw_len;
	}
	return tb_error_set(err, TB_ENOTFOUND, "rlp: offset %zu: list has no item %zu",
	                    list->offset, i);
}

int tb_rlp_uint64(const struct tb_rlp_item *item, uint64_t *v, struct tb_error *err)
{
	*v = 0;
	if (item->is_list)
		return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: expected an integer, found a list",
		                    item->offset);
	if (item->len > 8)
		return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: integer of %zu bytes exceeds 64 bits",
		                    item->offset, item->len);
	if (item->len > 0 && item->payload[0] == 0)
		return tb_error_set(err, TB_EINVAL, "rlp: offset %zu: integer has a leading zero byte",
		                    item->offset);
	for (size_t i = 0; i < item->len; i++)
		*v = *v << 8 | item->payload[i];
	return 0;
}

/* Header for a payload of n bytes; off is 0x80 for strings, 0xc0 for lists. */
static size_t make_header(uint8_t hdr[9], size_t n, uint8_t off)
{
	if (n < 56) {
		hdr[0] = (uint8_t)(off + n);
		return 1;
	}
	size_t ll = 0;
	for (size_t t = n; t; t >>= 8)
		ll++;
	hdr[0] = (uint8_t)(off + 55 + ll);
	for (size_t i = 0; i < ll; i++)
		hdr[ll - i] = (uint8_t)(n >> (8 * i));
	return 1 + ll;
}

int tb_rlp_put_bytes(struct tb_buf *b, const void *p, size_t n)
{
	const uint8_t *s = p;
	if (n == 1 && s[0] < 0x80)
		return tb_buf_append(b, s, 1);
	uint8_t hdr[9];
	size_t hl = make_header(hdr, n, 0x80);
	int rc = tb_buf_reserve(b, hl + n);
	if (rc < 0)
		return rc;
	tb_buf_append(b, hdr, hl);
	return tb_buf_append(b, s, n);
}

int tb_rlp_put_uint_be(struct tb_buf *b, const uint8_t *p, size_t n)
{
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	return tb_rlp_put_bytes(b, p, n);
}

int tb_rlp_put_uint(struct tb_buf *b, uint64_t v)
{
	uint8_t be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	return tb_rlp_put_uint_be(b, be, 8);
}

int tb_rlp_put_raw(struct tb_buf *b, const void *p, size_t n)
{
	return tb_buf_append(b, p, n);
}

void tb_rlp_list_begin(struct tb_buf *b, size_t *mark)
{
	*mark = b->len;
}

int tb_rlp_list_end(struct tb_buf *b, size_t mark)
{
	uint8_t hdr[9];
	size_t n = b->len - mark;
	size_t hl = make_header(hdr, n, 0xc0);
	int rc = tb_buf_reserve(b, hl);
	if (rc < 0)
		return rc;
	if (n)
		memmove(b->data + mark + hl, b->data + mark, n);
	memcpy(b->data + mark, hdr, hl);
	b->len += hl;
	b->data[b->len] = 0;
	return 0;
}
