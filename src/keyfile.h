/* The relay's signing key on disk: 64 hex digits (what `tradebridge keygen`
 * writes). Invariant: a key file that group or others may read, or that is not a
 * regular file owned by us, is refused; the key's bytes never reach a message. */
#ifndef TB_KEYFILE_H
#define TB_KEYFILE_H

#include <stdint.h>

#include "lib/error.h"

/* Read a secp256k1 secret key from path into key (wiped on failure). */
int tb_keyfile_read(const char *path, uint8_t key[32], struct tb_error *err);

#endif
