/* Bundled keccak-256 (Ethereum's keccak: rate 136 bytes, padding 0x01..0x80),
 * used when OpenSSL lacks "KECCAK-256" (before 3.2). The sponge state lives in
 * the caller's struct tb_keccak so hashing needs no allocation; invariant:
 * k->pos < 136 between calls (a full block is always permuted at once). */
#include <string.h>

#include "crypto/hash.h"

#define KECCAK_RATE 136

static const uint64_t round_consts[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
static const unsigned rho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                 27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned pi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static uint64_t rol64(uint64_t x, unsigned s)
{
	return (x << s) | (x >> (64 - s));
}

static void keccak_f1600(uint64_t st[25])
{
	for (int r = 0; r < 24; r++) {
		uint64_t bc[5];
		for (int i = 0; i < 5; i++)
			bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
		for (int i = 0; i < 5; i++) {
			uint64_t t = bc[(i + 4) % 5] ^ rol64(bc[(i + 1) % 5], 1);
			for (int j = 0; j < 25; j += 5)
				st[j + i] ^= t;
		}
		uint64_t t = st[1];
		for (int i = 0; i < 24; i++) {
			unsigned j = pi[i];
			uint64_t tmp = st[j];
			st[j] = rol64(t, rho[i]);
			t = tmp;
		}
		for (int j = 0; j < 25; j += 5) {
			for (int i = 0; i < 5; i++)
				bc[i] = st[j + i];
			for (int i = 0; i < 5; i++)
				st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
		}
		st[0] ^= round_consts[r];
	}
}

/* XOR one byte into the state at byte position pos (little-endian lanes). */
static void xor_byte(uint64_t st[25], size_t pos, uint8_t b)
{
	st[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

void tb_keccak256_init(struct tb_keccak *k)
{
	memset(k, 0, sizeof *k);
}

void tb_keccak256_update(struct tb_keccak *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		xor_byte(k->st, k->pos, p[i]);
		if (++k->pos == KECCAK_RATE) {
			keccak_f1600(k->st);
			k->pos = 0;
		}
	}
}

void tb_keccak256_final(struct tb_keccak *k, uint8_t out[32])
{
	xor_byte(k->st, k->pos, 0x01);
	xor_byte(k->st, KECCAK_RATE - 1, 0x80);
	keccak_f1600(k->st);
	for (size_t i = 0; i < 32; i++)
		out[i] = (uint8_t)(k->st[i / 8] >> (8 * (i % 8)));
	memset(k, 0, sizeof *k);
}
