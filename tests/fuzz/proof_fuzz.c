/* Fuzz the trie proof walker: the input is split into proof nodes (each a
 * 2-byte big-endian length, then that many bytes) and verified for a fixed
 * account against the block-54 stateRoot of the execution-apis test chain, and
 * again against keccak(first node) so mutations reach the node parser. It must
 * never crash, and a found value must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "evm/mpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t state_root[32] = {
	0x6d, 0xa8, 0xf6, 0x36, 0xcd, 0xc8, 0x5d, 0xbe, 0x8c, 0x1b, 0x52, 0x99, 0xe5, 0xdb, 0x22, 0xf4,
	0x62, 0xc0, 0x41, 0xfe, 0xba, 0xf3, 0xb7, 0x8c, 0xac, 0x10, 0x40, 0x15, 0x2e, 0xe3, 0x0b, 0x3b,
};
static const uint8_t address[20] = {0x7d, 0xcd, 0x17, 0x43, 0x37, 0x42, 0xf4, 0xc0, 0xca, 0x53,
                                    0x12, 0x2a, 0xb5, 0x41, 0xd0, 0xba, 0x67, 0xfc, 0x27, 0xdf};

static void check(const uint8_t root[32], const uint8_t key[32], const struct tb_mpt_node *nodes,
                  size_t n, const uint8_t *data, size_t size)
{
	struct tb_error err;
	int found;
	const uint8_t *v;
	size_t vl;
	int rc = tb_mpt_verify(root, key, 32, nodes, n, &found, &v, &vl, &err);
	if (rc == 0 && found && (v < data || v + vl > data + size))
		abort();
	if (rc != 0 && err.msg[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_mpt_node nodes[TB_MPT_MAX_PROOF_NODES + 1];
	size_t n = 0, pos = 0;
	while (pos + 2 <= size && n < TB_MPT_MAX_PROOF_NODES + 1) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		nodes[n++] = (struct tb_mpt_node){data + pos, len};
		pos += len;
	}
	uint8_t key[32], root[32];
	tb_keccak256(address, sizeof address, key);
	check(state_root, key, nodes, n, data, size);
	if (n > 0) {
		tb_keccak256(nodes[0].data, nodes[0].len, root);
		check(root, key, nodes, n, data, size);
	}
	return 0;
}
