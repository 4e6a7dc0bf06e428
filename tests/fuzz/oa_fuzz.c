/* Fuzz OpenAttestation document parsing and verification: any bytes either fail
 * to parse as JSON or go through the v2 and v3 integrity checks and the tradetrust
 * adapter's offline verify (issuers, DID signatures; no rpc, no dns) and the
 * unsalting the mappings read. Oracles:
 * the integrity result is one of the documented codes and is the same twice; a
 * VALID document's targetHash is the recomputed one; the adapter never returns
 * VALID without a VALID integrity fragment, and never fails outright. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "oa.h"
#include "lib/hex.h"
#include "tt_ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const struct tb_adapter_ops tradebridge_adapter;

static void check_adapter(struct tb_json *doc, int integrity_rc)
{
	struct tt_conf conf = {.chain_id = 1, .timeout = 100};
	struct tb_native n = {.doc = doc};
	struct tb_proof p;
	struct tb_error err;
	memset(&p, 0, sizeof p);
	if (tradebridge_adapter.verify(&conf, &n, &p, &err) != 0)
		abort();
	if (p.verdict == TB_VALID && integrity_rc != 0)
		abort();
	tb_proof_fini(&p);
}

/* One integrity function run twice: same answer, a documented code, and a VALID
 * document's targetHash (at sig.targetHash) is the recomputed one. */
static int check_integrity(const struct tb_json *doc, const char *sig_name,
                           int (*fn)(const struct tb_json *, struct tb_oa_result *,
                                     struct tb_error *))
{
	struct tb_oa_result a, b;
	struct tb_error err;
	int rc = fn(doc, &a, &err);
	int rc2 = fn(doc, &b, &err);
	if (rc != rc2 || memcmp(&a, &b, sizeof a) != 0)
		abort();
	if (rc != 0 && rc != TB_EVERIFY && rc != TB_EINVAL && rc != TB_ELIMIT && rc != TB_ENOMEM)
		abort();
	if (rc == 0) {
		char hex[65];
		tb_hex_encode(a.target, 32, hex);
		const char *th = tb_json_string(tb_json_get(tb_json_get(doc, sig_name), "targetHash"));
		if (!th || strcmp(th, hex) != 0 || !a.target_ok || !a.root_ok)
			abort();
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_json *doc = NULL;
	struct tb_error err;
	struct tb_json_limits lim = {.max_bytes = 1 << 20, .max_depth = 48};
	if (tb_json_parse((const char *)data, size, &lim, &doc, &err) != 0)
		return 0;
	int rc = check_integrity(doc, "signature", tb_oa_v2_integrity);
	int rc3 = check_integrity(doc, "proof", tb_oa_v3_integrity);
	const char *ver = tb_json_string(tb_json_get(doc, "version"));
	if (ver && strcmp(ver, "https://schema.openattestation.com/3.0/schema.json") == 0)
		rc = rc3; /* the adapter judges a v3 document by v3 integrity */
	check_adapter(doc, rc);
	struct tb_json *plain = NULL;
	if (tb_oa_v2_unsalt(tb_json_get(doc, "data"), &plain, &err) == 0 && !plain)
		abort(); /* success always yields a tree */
	tb_json_free(plain);
	tb_json_free(doc);
	return 0;
}
