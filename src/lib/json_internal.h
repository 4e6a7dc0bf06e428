/* Helpers shared by the JSON tree, parser and writers; not a public contract.
 * Invariant: tb_json_utf8_next accepts exactly the well-formed UTF-8 of Unicode
 * (no overlongs, no surrogates, nothing above U+10FFFF), which yajl does not check. */
#ifndef TB_JSON_INTERNAL_H
#define TB_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

/* Decode one scalar value at s[0..len); returns its byte length (1-4) and sets
 * *cp, or 0 if the bytes there are not well-formed UTF-8. */
size_t tb_json_utf8_next(const unsigned char *s, size_t len, uint32_t *cp);
/* A NUL-terminated copy of len bytes, or NULL. */
char *tb_json_memdup0(const char *s, size_t len);
/* Make room for one more element of elem bytes in *items; 0 or TB_ENOMEM. */
int tb_json_grow(void **items, size_t *cap, size_t len, size_t elem);
/* Append a member without checking for duplicates; takes key and v even on failure. */
int tb_json_object_append(struct tb_json *obj, char *key, size_t key_len, struct tb_json *v);
/* Convert JSON number text (already valid by the grammar) to a double without
 * depending on the C locale; 0, or TB_EINVAL if it overflows to infinity. */
int tb_json_number_value(const char *text, size_t len, double *out);

#endif
