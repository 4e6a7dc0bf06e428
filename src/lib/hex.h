/* Hex and base64 codecs for outside input: decoders reject anything malformed
 * (odd length, bad digit, bad padding) with the offending position named. */
#ifndef TB_HEX_H
#define TB_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* The value of one hex digit (either case), or -1. */
int tb_hex_digit(int c);
/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void tb_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decode hex text (optional 0x/0X prefix, either case) into out of size cap;
 * *n gets the byte count. Errors name the offset of the bad character. */
int tb_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n,
                  struct tb_error *err);
/* Decode into a malloc'd buffer (free() it). */
int tb_hex_decode_alloc(const char *s, size_t len, uint8_t **out, size_t *n, struct tb_error *err);
/* Standard base64 (RFC 4648 section 4) with padding. out needs 4*((n+2)/3)+1 bytes. */
void tb_base64_encode(const uint8_t *in, size_t n, char *out);
/* Decode standard base64 (padding required, no whitespace) into out of size cap. */
int tb_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n,
                     struct tb_error *err);

#endif
