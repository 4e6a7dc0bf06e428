/* Outside text made safe to show on a terminal or in a log line: C0 controls
 * (terminal escape sequences start with ESC), DEL, C1 controls (U+0080..U+009F,
 * which some terminals obey as CSI/OSC), backslash and bytes that are not UTF-8
 * become visible escapes (\n \r \t \\ \xNN \u00NN); valid UTF-8 text stays as it
 * is, so names like "Zürich" remain readable. Invariant: the output never holds a
 * control character, and the escaping is unambiguous (a backslash is always doubled). */
#ifndef TB_PRINTABLE_H
#define TB_PRINTABLE_H

#include <stddef.h>
#include <stdio.h>

#include "lib/buf.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes, shortest form, no
 * surrogates), or 0 if it is not one. */
size_t tb_utf8_len(const unsigned char *p, size_t n);
/* Append the escaped form of len bytes of s. */
int tb_printable_append(struct tb_buf *out, const char *s, size_t len);
/* Write the escaped form of the NUL-terminated s to f. */
void tb_printable_fputs(const char *s, FILE *f);
/* The escaped form of len bytes of s in out (cap bytes, NUL-terminated); cut at a
 * whole escape with "..." when it does not fit. Returns out. */
const char *tb_printable_n(char *out, size_t cap, const char *s, size_t len);
/* Write JSON text (as our writers produce it) to f with the controls JSON leaves
 * raw inside strings (DEL, C1) written as \u escapes: the same JSON value, safe
 * on a terminal. */
void tb_printable_json_fputs(const char *json, FILE *f);
/* JSON output of a command: escaped as above when f is a terminal, written byte
 * for byte otherwise (a pipe or file gets the exact form, e.g. RFC 8785 to hash). */
void tb_printable_json_out(const char *json, FILE *f);

#endif
