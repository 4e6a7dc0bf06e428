/* Digests. SHA-256 is OpenSSL's. keccak-256: the incremental API always runs
 * the bundled sponge in keccak.c, because struct tb_keccak keeps the state in
 * caller memory and OpenSSL's EVP contexts are heap-only; the one-shot uses
 * OpenSSL's "KECCAK-256" when configure found it (3.2+), else the bundled code.
 * Invariant: both paths give identical digests (hash_test checks them). */
#include <string.h>

#include <openssl/evp.h>

#include <config.h>
#include "crypto/hash.h"

/* These cannot report errors; OpenSSL only fails here when out of memory, and
 * an all-zero digest then matches no real root, so proofs fail closed. */
void tb_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		memset(out, 0, 32);
}

#ifdef TB_OPENSSL_KECCAK
void tb_keccak256(const void *data, size_t len, uint8_t out[32])
{
	EVP_MD *md = EVP_MD_fetch(NULL, "KECCAK-256", NULL);
	unsigned int n = 0;
	int ok = md != NULL && EVP_Digest(data, len, out, &n, md, NULL) == 1 && n == 32;
	EVP_MD_free(md);
	if (!ok) {
		struct tb_keccak k;
		tb_keccak256_init(&k);
		tb_keccak256_update(&k, data, len);
		tb_keccak256_final(&k, out);
	}
}
#else
void tb_keccak256(const void *data, size_t len, uint8_t out[32])
{
	struct tb_keccak k;
	tb_keccak256_init(&k);
	tb_keccak256_update(&k, data, len);
	tb_keccak256_final(&k, out);
}
#endif
