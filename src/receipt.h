/* Relay receipts: one per delivered (record, destination), hash-chained and
 * signed. The signed bytes are the RFC 8785 form of the receipt without its
 * "signature" member, hashed with EIP-191 (personal_sign), so any party can check
 * them with ecrecover; docs/receipts.md is the normative description.
 * Invariant: a receipt's hash covers its signature, and prev names that hash of
 * the receipt before it, so dropping, reordering or editing one breaks the chain. */
#ifndef TB_RECEIPT_H
#define TB_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"

#define TB_RECEIPT_SCHEMA "tradebridge-receipt/1"
#define TB_RECEIPT_MAX_BYTES 8192 /* a receipt larger than this is refused */
#define TB_RECEIPT_SEQ_MAX 9007199254740991ULL /* 2^53-1: exact in every JSON reader */

struct tb_receipt {
	uint64_t seq;             /* 1, 2, 3, ... with no gap */
	uint8_t prev[32];         /* hash of receipt seq-1; all zero for seq 1 */
	char record[80];          /* record id: "sha256:<64 hex>" or as the relay names it */
	char source_network[64];
	char source_locator[256];
	char verdict[16];         /* VALID (only VALID records are delivered) */
	char destination[64];
	char txref[256];          /* the destination's transaction reference */
	char status[32];          /* "confirmed", "superseded", "rejected", ... */
	char reason[256];         /* why (a rejection's reason); "" = no "reason" member, so
	                           * receipts without one keep the bytes they always had */
	char time[32];            /* RFC 3339 UTC, "2026-11-22T10:00:00Z" */
	uint8_t sig[65];          /* r || s || v, v in {27, 28} */
};

/* Append the canonical bytes that are signed (no "signature" member). */
int tb_receipt_signing_bytes(const struct tb_receipt *r, struct tb_buf *out,
                             struct tb_error *err);
/* Sign r in place with key (fills r->sig). */
int tb_receipt_sign(struct tb_receipt *r, const uint8_t key[32], struct tb_error *err);
/* Append the canonical JSON of the signed receipt. */
int tb_receipt_write(const struct tb_receipt *r, struct tb_buf *out, struct tb_error *err);
/* keccak256 of tb_receipt_write's bytes: what the next receipt's prev holds. */
int tb_receipt_hash(const struct tb_receipt *r, uint8_t out[32], struct tb_error *err);
/* Parse a signed receipt from untrusted JSON text; refuses unknown or missing
 * members, wrong types and anything over the limits. */
int tb_receipt_parse(const char *text, size_t len, struct tb_receipt *r, struct tb_error *err);
/* The address that signed r (ecrecover of the EIP-191 hash). */
int tb_receipt_signer(const struct tb_receipt *r, uint8_t addr[20], struct tb_error *err);

/* Checks a run of receipts in order: signatures by signer, seq continuous from
 * rs[0].seq, prev chained (and all zero when rs[0].seq is 1; prev_hash, if not
 * NULL, is what rs[0].prev must equal). On the first failure returns TB_EVERIFY,
 * sets *bad to its index and err to "receipt seq N: why". */
int tb_receipt_verify_chain(const struct tb_receipt *rs, size_t n, const uint8_t signer[20],
                            const uint8_t *prev_hash, size_t *bad, struct tb_error *err);

/* The current UTC time in RFC 3339 seconds form (out: 32 bytes). */
void tb_receipt_now(char out[32]);

#endif
