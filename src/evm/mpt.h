/* Ethereum Merkle-Patricia trie: compute the root of a key/value set, and check
 * an inclusion or exclusion proof (the RLP nodes on the path, root first).
 * Invariant: a proof is accepted only if every node hashes to the reference its
 * parent holds, so a returned value is exactly what the root commits to. */
#ifndef TB_MPT_H
#define TB_MPT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define TB_MPT_MAX_KEY 256         /* bytes in a key */
#define TB_MPT_MAX_PAIRS 1000000   /* pairs in one root computation */
#define TB_MPT_MAX_PROOF_NODES 128 /* nodes in one proof */

/* keccak256(rlp("")): the root of the empty trie. */
extern const uint8_t tb_mpt_empty_root[32];

struct tb_mpt_pair {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value; /* an empty value means "absent", as in Ethereum */
	size_t value_len;
};

struct tb_mpt_node {
	const uint8_t *data; /* one RLP-encoded trie node */
	size_t len;
};

/* Root of the trie holding pairs (later duplicates of a key win). secure: the
 * trie key is keccak256(key), as in the state and storage tries. */
int tb_mpt_root(const struct tb_mpt_pair *pairs, size_t n, int secure, uint8_t root[32],
                struct tb_error *err);

/* Walk proof from root for key (already hashed if the trie is secure). On
 * success *found is 1 and the value (borrowed) points into proof, or
 * *found is 0 when the proof shows the key is absent. Errors (TB_EVERIFY,
 * TB_EINVAL) name the node index and, for a hash mismatch, both hashes. */
int tb_mpt_verify(const uint8_t root[32], const uint8_t *key, size_t key_len,
                  const struct tb_mpt_node *proof, size_t n, int *found, const uint8_t **value,
                  size_t *value_len, struct tb_error *err);

#endif
