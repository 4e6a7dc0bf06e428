/* Fuzz signature recovery with arbitrary 97-byte inputs (hash || r || s || v): it must
 * either fail with a message or recover a key, and a recovered key must verify the
 * same signature again when v is normalised to 0/1 (recovery is deterministic). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secp256k1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hash[32], sig[65], pub[65], pub2[65], addr[20];
	struct tb_error err;
	if (size < 97)
		return 0;
	memcpy(hash, data, 32);
	memcpy(sig, data + 32, 65);
	int rc = tb_secp_recover(hash, sig, pub, &err);
	if (rc != 0) {
		if (err.msg[0] == 0 || (rc != TB_EINVAL && rc != TB_EVERIFY))
			abort();
		return 0;
	}
	if (pub[0] != 4)
		abort();
	if (sig[64] >= 27)
		sig[64] -= 27;
	if (tb_secp_recover(hash, sig, pub2, &err) != 0 || memcmp(pub, pub2, 65) != 0)
		abort();
	if (tb_secp_recover_address(hash, sig, addr, &err) != 0)
		abort();
	return 0;
}
