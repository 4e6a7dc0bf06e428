/* Digests: SHA-256 through OpenSSL, keccak-256 (Ethereum's pre-standard SHA-3
 * padding, 0x01) through OpenSSL where it has it, else the bundled keccak.c. */
#ifndef TB_HASH_H
#define TB_HASH_H

#include <stddef.h>
#include <stdint.h>

void tb_sha256(const void *data, size_t len, uint8_t out[32]);
void tb_keccak256(const void *data, size_t len, uint8_t out[32]);

/* Incremental keccak-256, for hashing data that arrives in pieces. */
struct tb_keccak {
	uint64_t st[25];
	size_t pos;
};
void tb_keccak256_init(struct tb_keccak *k);
void tb_keccak256_update(struct tb_keccak *k, const void *data, size_t len);
void tb_keccak256_final(struct tb_keccak *k, uint8_t out[32]);

#endif
