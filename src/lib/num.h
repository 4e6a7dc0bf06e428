/* Strict decimal numbers from outside text (command-line values, URL paths,
 * request words): ASCII digits only, no sign, no space, no leading zero, within
 * the caller's range. Invariant: anything else is refused with a message naming
 * what was expected; nothing is ever wrapped, clamped or half-read. */
#ifndef TB_NUM_H
#define TB_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Parse len bytes of s as a whole number in min..max into *out. On failure
 * returns TB_EINVAL (not a number) or TB_ELIMIT (out of range) with err saying
 * "WHAT: \"TEXT\" is not a whole number in MIN..MAX"; the text is quoted escaped. */
int tb_num_u64n(const char *s, size_t len, uint64_t min, uint64_t max, const char *what,
                uint64_t *out, struct tb_error *err);
/* The same for a NUL-terminated string. */
int tb_num_u64(const char *s, uint64_t min, uint64_t max, const char *what, uint64_t *out,
               struct tb_error *err);
/* The same into an int (max must fit an int). */
int tb_num_int(const char *s, int min, int max, const char *what, int *out, struct tb_error *err);

#endif
