/* Ethereum transactions: the signing hash of legacy (EIP-155 and pre-155), EIP-2930
 * (type 1) and EIP-1559 (type 2) transactions, signing with a secp256k1 key, the
 * signed encoding and its hash, decoding, and recovery of the signer. Invariant: the
 * sender is only ever the address recovered from the signature over the signing
 * hash rebuilt from the fields; a "from" a node reports is never believed. */
#ifndef TB_ETHTX_H
#define TB_ETHTX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"

#define TB_ETHTX_MAX_DATA (1 << 20)        /* bytes of calldata */
#define TB_ETHTX_MAX_ACCESS_LIST (1 << 20) /* bytes of the access list's RLP */

struct tb_ethtx {
	unsigned type;     /* 0 legacy, 1 EIP-2930, 2 EIP-1559 */
	uint64_t chain_id; /* legacy: 0 = pre-EIP-155 (v 27/28) */
	uint64_t nonce, gas;
	uint8_t gas_price[32];    /* legacy and type 1, big-endian */
	uint8_t max_priority[32]; /* type 2 */
	uint8_t max_fee[32];      /* type 2 */
	int has_to;               /* 0 = contract creation */
	uint8_t to[20];
	uint8_t value[32];
	uint8_t *data; /* owned (tb_ethtx_fini) */
	size_t data_len;
	uint8_t *access_list; /* owned: the RLP list, as signed; NULL = empty list */
	size_t access_list_len;
	int signed_;   /* r, s, y_parity are set */
	uint8_t r[32], s[32];
	unsigned y_parity; /* 0 or 1 */
};

void tb_ethtx_init(struct tb_ethtx *tx);
void tb_ethtx_fini(struct tb_ethtx *tx);
/* Set the calldata (copied). */
int tb_ethtx_set_data(struct tb_ethtx *tx, const uint8_t *p, size_t n, struct tb_error *err);

/* From an eth_getTransactionBy* object (type, nonce, gas, fees, to, value, input,
 * accessList, chainId, v/yParity, r, s). Errors name the field. */
int tb_ethtx_from_json(const struct tb_json *j, struct tb_ethtx *tx, struct tb_error *err);
/* From a signed raw encoding (legacy RLP, or type byte || RLP). */
int tb_ethtx_decode(const uint8_t *raw, size_t len, struct tb_ethtx *tx, struct tb_error *err);

/* keccak256 of the payload the signer signs. */
int tb_ethtx_signing_hash(const struct tb_ethtx *tx, uint8_t hash[32], struct tb_error *err);
/* Sign with key (fills r, s, y_parity). */
int tb_ethtx_sign(struct tb_ethtx *tx, const uint8_t key[32], struct tb_error *err);
/* The signed encoding, appended to out (what eth_sendRawTransaction takes). */
int tb_ethtx_encode(const struct tb_ethtx *tx, struct tb_buf *out, struct tb_error *err);
/* keccak256 of the signed encoding: the transaction hash. */
int tb_ethtx_hash(const struct tb_ethtx *tx, uint8_t hash[32], struct tb_error *err);
/* The address that signed tx (ecrecover over the signing hash). */
int tb_ethtx_sender(const struct tb_ethtx *tx, uint8_t addr[20], struct tb_error *err);

#endif
