/* Ethereum-style secp256k1 signatures through libsecp256k1. One context is built
 * and randomized (blinding against side channels) once per process under
 * pthread_once and is read-only afterwards, so every function here is thread-safe.
 * Invariants: r and s are checked to lie in [1, n-1] and v in {0,1,27,28} before
 * libsecp256k1 sees them; secret keys and nonces are wiped from our stack copies. */
#include <errno.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "lib/hex.h"

/* The group order n, big-endian. */
static const uint8_t curve_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static secp256k1_context *ctx;    /* written once inside ctx_once, read-only after */
static const char *ctx_failure; /* why ctx is NULL, set inside ctx_once */

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

static int os_random(void *out, size_t n)
{
	uint8_t *p = out;
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void ctx_init(void)
{
	uint8_t seed[32];
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!c) {
		ctx_failure = "cannot create the libsecp256k1 context (out of memory)";
		return;
	}
	if (os_random(seed, sizeof(seed)) != 0 || !secp256k1_context_randomize(c, seed)) {
		wipe(seed, sizeof(seed));
		secp256k1_context_destroy(c);
		ctx_failure = "cannot seed the libsecp256k1 context from the OS random generator";
		return;
	}
	wipe(seed, sizeof(seed));
	ctx = c;
}

/* A copy of this file linked into an adapter module is unloaded with dlclose:
 * release the context then (and at exit), or it is lost with the module's statics. */
__attribute__((destructor)) static void ctx_fini(void)
{
	if (ctx)
		secp256k1_context_destroy(ctx);
	ctx = NULL;
}

static const secp256k1_context *get_ctx(struct tb_error *err)
{
	pthread_once(&ctx_once, ctx_init);
	if (!ctx)
		tb_error_set(err, TB_ENOMEM, "secp256k1: %s", ctx_failure);
	return ctx;
}

static int is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* 1 if the 32-byte big-endian scalar is in [1, n-1]. */
static int scalar_in_range(const uint8_t s[32])
{
	return !is_zero(s, 32) && memcmp(s, curve_n, 32) < 0;
}

static int check_seckey(const secp256k1_context *c, const uint8_t seckey[32], struct tb_error *err)
{
	if (!secp256k1_ec_seckey_verify(c, seckey))
		return tb_error_set(err, TB_EINVAL,
		                    "secp256k1: secret key is zero or not below the curve order");
	return 0;
}

int tb_secp_sign(const uint8_t seckey[32], const uint8_t hash[32], uint8_t sig[65],
                 struct tb_error *err)
{
	const secp256k1_context *c = get_ctx(err);
	secp256k1_ecdsa_recoverable_signature rs;
	int recid = 0, rc;
	if (!c)
		return TB_ENOMEM;
	if ((rc = check_seckey(c, seckey, err)) != 0)
		return rc;
	/* NULL nonce function = RFC 6979; libsecp256k1 always produces low s */
	if (!secp256k1_ecdsa_sign_recoverable(c, &rs, hash, seckey, NULL, NULL))
		return tb_error_set(err, TB_EINVAL, "secp256k1: signing failed");
	secp256k1_ecdsa_recoverable_signature_serialize_compact(c, sig, &recid, &rs);
	wipe(&rs, sizeof(rs));
	if (recid > 1) /* r overflowed n: probability about 2^-127, not representable in v */
		return tb_error_set(err, TB_EINVAL, "secp256k1: signature has recovery id %d", recid);
	sig[64] = (uint8_t)recid;
	return 0;
}

/* Check r, s and v, naming the bad part; *recid gets v as 0 or 1. */
static int check_sig(const uint8_t sig[65], int *recid, struct tb_error *err)
{
	uint8_t v = sig[64];
	if (v == 27 || v == 28)
		v -= 27;
	if (v > 1)
		return tb_error_set(err, TB_EINVAL,
		                    "secp256k1: signature v is %u, expected 0, 1, 27 or 28", sig[64]);
	if (!scalar_in_range(sig))
		return tb_error_set(err, TB_EINVAL,
		                    "secp256k1: signature r is %s, must be in [1, n-1]",
		                    is_zero(sig, 32) ? "zero" : "not below the curve order n");
	if (!scalar_in_range(sig + 32))
		return tb_error_set(err, TB_EINVAL,
		                    "secp256k1: signature s is %s, must be in [1, n-1]",
		                    is_zero(sig + 32, 32) ? "zero" : "not below the curve order n");
	*recid = v;
	return 0;
}

int tb_secp_recover(const uint8_t hash[32], const uint8_t sig[65], uint8_t pub[65],
                    struct tb_error *err)
{
	const secp256k1_context *c = get_ctx(err);
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	size_t len = 65;
	int recid = 0, rc;
	if (!c)
		return TB_ENOMEM;
	if ((rc = check_sig(sig, &recid, err)) != 0)
		return rc;
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, sig, recid))
		return tb_error_set(err, TB_EINVAL, "secp256k1: signature r or s is out of range");
	if (!secp256k1_ecdsa_recover(c, &pk, &rs, hash))
		return tb_error_set(err, TB_EVERIFY,
		                    "secp256k1: no public key recovers from this signature and hash");
	secp256k1_ec_pubkey_serialize(c, pub, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
	return 0;
}

int tb_secp_recover_address(const uint8_t hash[32], const uint8_t sig[65], uint8_t addr[20],
                            struct tb_error *err)
{
	uint8_t pub[65];
	int rc = tb_secp_recover(hash, sig, pub, err);
	if (rc == 0)
		tb_eth_address(pub, addr);
	return rc;
}

int tb_secp_pubkey(const uint8_t seckey[32], uint8_t pub[65], struct tb_error *err)
{
	const secp256k1_context *c = get_ctx(err);
	secp256k1_pubkey pk;
	size_t len = 65;
	int rc;
	if (!c)
		return TB_ENOMEM;
	if ((rc = check_seckey(c, seckey, err)) != 0)
		return rc;
	if (!secp256k1_ec_pubkey_create(c, &pk, seckey))
		return tb_error_set(err, TB_EINVAL, "secp256k1: cannot derive the public key");
	secp256k1_ec_pubkey_serialize(c, pub, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
	return 0;
}

void tb_eth_address(const uint8_t pub[65], uint8_t addr[20])
{
	uint8_t h[32];
	tb_keccak256(pub + 1, 64, h);
	memcpy(addr, h + 12, 20);
}

void tb_eth_address_checksum(const uint8_t addr[20], char out[43])
{
	char low[41];
	uint8_t h[32];
	tb_hex_encode(addr, 20, low);
	/* EIP-55: hash the lowercase hex text; nibble i >= 8 uppercases letter i */
	tb_keccak256(low, 40, h);
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < 40; i++) {
		int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
		char ch = low[i];
		out[2 + i] = (ch >= 'a' && ch <= 'f' && nib >= 8) ? (char)(ch - 'a' + 'A') : ch;
	}
	out[42] = 0;
}

void tb_eip191_hash(const void *msg, size_t len, uint8_t out[32])
{
	static const char prefix[] = "\x19" "Ethereum Signed Message:\n";
	char num[24];
	int n = snprintf(num, sizeof(num), "%zu", len);
	struct tb_keccak k;
	tb_keccak256_init(&k);
	tb_keccak256_update(&k, prefix, sizeof(prefix) - 1);
	tb_keccak256_update(&k, num, (size_t)n);
	tb_keccak256_update(&k, msg, len);
	tb_keccak256_final(&k, out);
}

int tb_secp_keygen(uint8_t seckey[32], struct tb_error *err)
{
	const secp256k1_context *c = get_ctx(err);
	if (!c)
		return TB_ENOMEM;
	/* a uniform 256-bit value is out of range with probability ~2^-128 */
	for (int i = 0; i < 8; i++) {
		if (os_random(seckey, 32) != 0) {
			wipe(seckey, 32);
			return tb_error_set(err, TB_EIO, "secp256k1: the OS random generator failed: %s",
			                    strerror(errno));
		}
		if (secp256k1_ec_seckey_verify(c, seckey))
			return 0;
	}
	wipe(seckey, 32);
	return tb_error_set(err, TB_EIO, "secp256k1: the OS random generator gave no valid key");
}
