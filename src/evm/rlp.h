/* RLP (Ethereum's Recursive Length Prefix): a strict decoder that only accepts
 * the one canonical encoding of every value, and an encoder onto struct tb_buf.
 * Invariant: a decoded item is a borrowed view into the caller's bytes, which
 * must outlive it; once tb_rlp_decode succeeded every nested item is canonical. */
#ifndef TB_RLP_H
#define TB_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"

#define TB_RLP_MAX_DEPTH 64 /* nesting of lists the decoder accepts */

struct tb_rlp_item {
	int is_list;
	const uint8_t *payload; /* string bytes, or the concatenated encodings of a list's items */
	size_t len;             /* payload length */
	const uint8_t *raw;     /* the whole encoding, header included */
	size_t raw_len;
	size_t offset; /* where raw starts, counted from the start of the decoded input */
};

/* Decode exactly one item spanning all len bytes; nested items are checked too.
 * Errors say "rlp: offset N: what". */
int tb_rlp_decode(const uint8_t *data, size_t len, struct tb_rlp_item *item, struct tb_error *err);
/* Decode the first item of data (for concatenated items); *used gets its size. */
int tb_rlp_decode_first(const uint8_t *data, size_t len, struct tb_rlp_item *item, size_t *used,
                        struct tb_error *err);
/* Number of items in a decoded list (0 for a string). */
size_t tb_rlp_count(const struct tb_rlp_item *list);
/* The i-th item of a decoded list; TB_ENOTFOUND past the end, TB_EINVAL on a string. */
int tb_rlp_at(const struct tb_rlp_item *list, size_t i, struct tb_rlp_item *out,
              struct tb_error *err);
/* A string item read as a canonical unsigned integer of at most 8 bytes. */
int tb_rlp_uint64(const struct tb_rlp_item *item, uint64_t *v, struct tb_error *err);

/* Encoder. Each returns 0, TB_ENOMEM or TB_ELIMIT (the buffer's cap). */
int tb_rlp_put_bytes(struct tb_buf *b, const void *p, size_t n);
/* An unsigned integer: minimal big-endian, zero is the empty string. */
int tb_rlp_put_uint(struct tb_buf *b, uint64_t v);
/* A big-endian unsigned integer of any size, leading zero bytes dropped. */
int tb_rlp_put_uint_be(struct tb_buf *b, const uint8_t *p, size_t n);
/* Already-encoded RLP, appended unchanged. */
int tb_rlp_put_raw(struct tb_buf *b, const void *p, size_t n);
/* Start a list; *mark remembers where. Items appended after it belong to it. */
void tb_rlp_list_begin(struct tb_buf *b, size_t *mark);
/* Close the list started at mark by inserting its header. */
int tb_rlp_list_end(struct tb_buf *b, size_t mark);

#endif
