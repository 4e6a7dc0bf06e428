/* secp256k1 through libsecp256k1: Ethereum-style recoverable signatures.
 * A signature is 65 bytes r(32) || s(32) || v(1) with v in {0,1}; inputs with
 * v in {27,28} are accepted too. Secret keys are never logged or copied out. */
#ifndef TB_SECP256K1_H
#define TB_SECP256K1_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Sign a 32-byte hash (RFC 6979 nonce, low-s). */
int tb_secp_sign(const uint8_t seckey[32], const uint8_t hash[32], uint8_t sig[65],
                 struct tb_error *err);
/* Recover the uncompressed public key (65 bytes, 0x04 || X || Y). */
int tb_secp_recover(const uint8_t hash[32], const uint8_t sig[65], uint8_t pub[65],
                    struct tb_error *err);
/* ecrecover: the 20-byte Ethereum address that signed hash. */
int tb_secp_recover_address(const uint8_t hash[32], const uint8_t sig[65], uint8_t addr[20],
                            struct tb_error *err);
int tb_secp_pubkey(const uint8_t seckey[32], uint8_t pub[65], struct tb_error *err);
/* Ethereum address = last 20 bytes of keccak256(X || Y). */
void tb_eth_address(const uint8_t pub[65], uint8_t addr[20]);
/* EIP-55 mixed-case checksum form "0x..." of an address (out: 43 bytes). */
void tb_eth_address_checksum(const uint8_t addr[20], char out[43]);
/* EIP-191 personal message hash: keccak256("\x19Ethereum Signed Message:\n" || len || msg). */
void tb_eip191_hash(const void *msg, size_t len, uint8_t out[32]);
/* Fresh random secret key from the OS generator. */
int tb_secp_keygen(uint8_t seckey[32], struct tb_error *err);

#endif
