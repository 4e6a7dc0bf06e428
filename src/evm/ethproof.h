/* Ethereum proofs on JSON-RPC answers: eth_getProof account and storage proofs
 * against a stateRoot, block header hashes, and receipts-trie roots.
 * Invariant: nothing a node claims is trusted; every returned value is one the
 * given root (or hash) commits to, and any disagreement is TB_EVERIFY naming the
 * field, both values and, for proof nodes, the node index. */
#ifndef TB_ETHPROOF_H
#define TB_ETHPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"

#define TB_ETHPROOF_MAX_RECEIPTS 100000 /* receipts in one block */
#define TB_ETHPROOF_MAX_SLOTS 1024      /* storage proofs in one eth_getProof answer */

struct tb_eth_account {
	int exists;          /* 0: the state trie proves there is no account at the address */
	uint64_t nonce;
	uint8_t balance[32]; /* big-endian, left-padded */
	uint8_t storage_root[32];
	uint8_t code_hash[32];
};

struct tb_eth_slot {
	uint8_t key[32];   /* the slot, left-padded */
	uint8_t value[32]; /* proven value, big-endian, left-padded; zero when absent */
};

/* Verify an eth_getProof "result" object against state_root: the account
 * proof, the account fields it claims, and every storage proof. acct and slots
 * (room for max_slots, count in *n_slots) may be NULL. */
int tb_ethproof_verify_getproof(const struct tb_json *result, const uint8_t state_root[32],
                                struct tb_eth_account *acct, struct tb_eth_slot *slots,
                                size_t max_slots, size_t *n_slots, struct tb_error *err);

/* keccak256(rlp(header)) of an eth_getBlockBy* result; fork fields are encoded
 * when present (baseFeePerGas ... requestsHash, in protocol order). */
int tb_ethproof_header_hash(const struct tb_json *block, uint8_t hash[32], struct tb_error *err);
/* The header hash recomputed and compared with the block's "hash". */
int tb_ethproof_check_header(const struct tb_json *block, struct tb_error *err);

/* The consensus encoding of one JSON receipt (legacy, pre-Byzantium "root", or
 * EIP-2718 typed: type byte || rlp), appended to out. */
int tb_ethproof_receipt_encode(const struct tb_json *receipt, struct tb_buf *out,
                               struct tb_error *err);
/* Root of the receipts trie (key rlp(index)) of an eth_getBlockReceipts array. */
int tb_ethproof_receipts_root(const struct tb_json *receipts, uint8_t root[32],
                              struct tb_error *err);
/* Same for debug_getRawReceipts: an array of hex-encoded receipt encodings. */
int tb_ethproof_raw_receipts_root(const struct tb_json *raw, uint8_t root[32],
                                  struct tb_error *err);
/* Rebuild the receipts root and compare it with the block's "receiptsRoot". */
int tb_ethproof_check_receipts(const struct tb_json *block, const struct tb_json *receipts,
                               struct tb_error *err);

#endif
