/* Growable byte buffers with a hard cap. Invariant: data is always NUL-terminated
 * (data[len] == 0) once anything was appended, so text can be used as a C string;
 * no append ever grows past cap_limit (0 = TB_BUF_DEFAULT_LIMIT). */
#ifndef TB_BUF_H
#define TB_BUF_H

#include <stddef.h>
#include <stdint.h>

#define TB_BUF_DEFAULT_LIMIT ((size_t)256 << 20)

struct tb_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit; /* bytes the buffer may hold at most; 0 = TB_BUF_DEFAULT_LIMIT */
};

void tb_buf_init(struct tb_buf *b, size_t limit);
void tb_buf_fini(struct tb_buf *b);
void tb_buf_reset(struct tb_buf *b);
/* Each returns 0, TB_ENOMEM or TB_ELIMIT; on failure the buffer is unchanged. */
int tb_buf_reserve(struct tb_buf *b, size_t extra);
int tb_buf_append(struct tb_buf *b, const void *p, size_t n);
int tb_buf_putc(struct tb_buf *b, int c);
int tb_buf_puts(struct tb_buf *b, const char *s);
int tb_buf_printf(struct tb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (free() them); the buffer is left empty. */
uint8_t *tb_buf_steal(struct tb_buf *b, size_t *len);
/* Read a whole file ("-" or NULL = stdin) into b, refusing more than b's limit. */
struct tb_error;
int tb_buf_read_file(struct tb_buf *b, const char *path, struct tb_error *err);

#endif
