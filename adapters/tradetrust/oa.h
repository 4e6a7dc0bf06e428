/* OpenAttestation v2 and v3 document integrity, reproducing @tradetrust-tt/tradetrust
 * 6.10.3 verifySignature() bit for bit (established by the differential tests).
 * v2: flatley paths, an empty NESTED object/array is a leaf, keys holding "." are an
 * error, obfuscated hashes are merged and sorted as JS strings, and hex is read
 * the way Node's Buffer.from(s, "hex") reads it (stops at the first bad pair).
 * Invariant: only a document the library accepts may come out VALID. */
#ifndef TB_OA_H
#define TB_OA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/json.h"

#define TB_OA_MAX_LEAVES 100000 /* visible + obfuscated leaves of one document */
#define TB_OA_MAX_PROOF 256     /* Merkle proof steps (a batch of 2^256 is not real) */
#define TB_OA_MAX_PATH 65536    /* bytes of one flattened path */

struct tb_oa_result {
	uint8_t target[32];  /* the targetHash recomputed from the document */
	uint8_t root[32];    /* the proof folded over the document's targetHash */
	int target_ok;       /* signature.targetHash equals the recomputed one */
	int root_ok;         /* the fold equals signature.merkleRoot */
	size_t leaves;       /* visible leaves hashed */
	size_t obfuscated;   /* entries of privacy.obfuscatedData */
};

/* keccak-256 of JSON.stringify({[path]: value}), one v2 leaf. */
int tb_oa_leaf_hash(const char *path, size_t path_len, const struct tb_json *value,
                    uint8_t out[32], struct tb_error *err);
/* The v2 targetHash of doc (privacy.obfuscatedData + flattened data). TB_EINVAL
 * where the reference library throws (e.g. a key holding "."). */
int tb_oa_v2_digest(const struct tb_json *doc, uint8_t out[32], struct tb_oa_result *res,
                    struct tb_error *err);
/* Whole integrity check. 0 = VALID; TB_EVERIFY = the document was altered (err says
 * which hash); TB_EINVAL = malformed where the library throws or cannot apply. */
int tb_oa_v2_integrity(const struct tb_json *doc, struct tb_oa_result *res,
                       struct tb_error *err);
/* Node's Buffer.from(s, "hex"): decode pairs until the first non-hex pair; an odd
 * last digit is dropped. Returns the byte count (at most cap). */
size_t tb_oa_hex_lenient(const char *s, size_t len, uint8_t *out, size_t cap);
/* Sorted-pair fold: h = keccak256(min(h,p) || max(h,p)) over Buffer.compare order. */
void tb_oa_combine(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                   uint8_t out[32]);
/* The value part of a salted v2 string "<salt>:<type>:<value>" (borrowed), or
 * NULL if s is not salted that way. */
const char *tb_oa_unsalt(const char *s);
/* The document's data as the library's unsaltData() gives it (a new tree in *out):
 * "<uuid v4>:<type>:<value>" strings become typed values (number, boolean, null;
 * "undefined" members are dropped), anything else is copied unchanged. This is
 * the native tree the tradetrust-* mappings read. */
int tb_oa_v2_unsalt(const struct tb_json *data, struct tb_json **out, struct tb_error *err);
/* Address that signed an OpenAttestationSignature2018 proof: EIP-191 personal-sign
 * over the 32 raw merkleRoot bytes; sig_hex is "0x" + 130 hex digits. */
int tb_oa_did_signer(const uint8_t root[32], const char *sig_hex, uint8_t addr[20],
                     struct tb_error *err);

/* OpenAttestation v3 (3.0/verify.js of the same library): the count of visible
 * leaves must equal the count of base64-JSON proof.salts; each salt whose
 * lodash-get path holds a TRUTHY value gives keccak256(JSON.stringify({[path]:
 * `${salt}:${String(value)}`})); with proof.privacy.obfuscated sorted as JS strings
 * and hashed as JSON.stringify(array) = proof.targetHash; proof.proofs folded to
 * proof.merkleRoot. Same return codes as the v2 functions. */
#define TB_OA_MAX_SALTS_TEXT ((size_t)16 << 20) /* bytes of decoded proof.salts */
int tb_oa_v3_digest(const struct tb_json *doc, uint8_t out[32], struct tb_oa_result *res,
                    struct tb_error *err);
int tb_oa_v3_integrity(const struct tb_json *doc, struct tb_oa_result *res,
                       struct tb_error *err);

#endif
