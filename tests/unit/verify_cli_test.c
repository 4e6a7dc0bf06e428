/* `tradebridge verify` as an operator runs it: the execution-apis eth_getProof answer
 * is VALID against its stateRoot (given as hex, or through the block-54 header whose
 * hash is recomputed), INVALID once one byte of a proof node changes or the root is
 * another one, INVALID for a block whose hash does not hold; any other input goes to
 * the loaded adapter that recognises it (named when none or two do, -a chooses, -o
 * options go through its table); usage errors exit 2. Expected roots come from the
 * vector set's expected.json. With -c the configuration's adapter_path finds the
 * modules, as run finds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "runcli.h"


#define OUT_LIMIT ((size_t)1 << 20)
#define STATE_ROOT "0x6da8f636cdc85dbe8c1b5299e5db22f462c041febaf3b78cac1040152ee30b3b"

static char vec[4096];

#define RUN(r, ...) TB_RUN((r), "verify", __VA_ARGS__)

static const char *const adapters[] = {"cadena", "ethereum", "tradetrust"};

/* The three in-tree adapter modules of this build on the adapter path. */
static void set_adapter_path(void)
{
	const char *b = getenv("TB_BUILDDIR") ? getenv("TB_BUILDDIR") : ".";
	char path[4096];
	size_t n = 0;
	for (size_t i = 0; i < 3; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%s%s/adapters/%s/.libs", i ? ":" : "",
		                      b, adapters[i]);
	setenv("TRADEBRIDGE_ADAPTER_PATH", path, 1);
}
#define OUT(r) TB_OUT(r)
#define ERR(r) TB_ERR(r)

/* The "<< " answer line of an execution-apis .io file, written to a temp file. */
static void answer_file(const char *io, char path[64], long flip_at)
{
	char full[8192];
	snprintf(full, sizeof(full), "%s/ethereum-execution-apis/tests/%s", vec, io);
	FILE *f = fopen(full, "r");
	assert_non_null(f);
	static char line[1 << 20];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "<< ", 3) == 0) {
			found = 1;
			break;
		}
	fclose(f);
	assert_true(found);
	if (flip_at >= 0) {
		/* flip one hex digit inside accountProof's first node (one byte changes) */
		char *p = strstr(line, "\"accountProof\":[\"0x");
		assert_non_null(p);
		p += 19 + flip_at;
		*p = *p == '0' ? '1' : '0';
	}
	strcpy(path, "/tmp/tb_verify_in_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, line + 3, strlen(line + 3)), (ssize_t)strlen(line + 3));
	close(fd);
}

static void getproof_valid(void **s)
{
	(void)s;
	struct tb_run r;
	char p[64], blk[64];
	answer_file("eth_getProof/get-account-proof-with-storage.io", p, -1);
	RUN(&r, "--state-root", STATE_ROOT, p);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(OUT(&r), "VALID evm-getproof"));
	assert_non_null(strstr(OUT(&r), "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df exists"));
	tb_run_fini(&r);
	/* the same root, taken from block 54's header (get-latest) */
	answer_file("eth_getBlockByNumber/get-latest.io", blk, -1);
	RUN(&r, "--json", "--block", blk, p);
	assert_int_equal(r.status, 0);
	struct tb_json *j = NULL;
	struct tb_error e;
	assert_int_equal(tb_json_parse(OUT(&r), strlen(OUT(&r)), NULL, &j, &e), 0);
	assert_string_equal(tb_json_string(tb_json_get(j, "verdict")), "VALID");
	assert_string_equal(tb_json_string(tb_json_get(tb_json_get(j, "detail"), "stateRoot")),
	                    STATE_ROOT);
	tb_json_free(j);
	tb_run_fini(&r);
	unlink(p);
	unlink(blk);
}

static void getproof_invalid(void **s)
{
	(void)s;
	struct tb_run r;
	char p[64];
	/* one byte of the first proof node changed: offsets inside the node's header,
	 * inside a child reference and near its end */
	const long at[] = {3, 40, 1000};
	for (size_t i = 0; i < 3; i++) {
		answer_file("eth_getProof/get-account-proof-with-storage.io", p, at[i]);
		RUN(&r, "--state-root", STATE_ROOT, p);
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(OUT(&r), "INVALID evm-getproof"));
		assert_non_null(strstr(OUT(&r), "reason: "));
		tb_run_fini(&r);
		unlink(p);
	}
	/* untouched proof, another root (the block-1 receipts root from expected.json) */
	answer_file("eth_getProof/get-account-proof-with-storage.io", p, -1);
	RUN(&r, "--state-root", "0x68e78088e89f476d25495c7802dbed8a5735ef869ea2aae927ed4e62966e1a4f",
	    p);
	assert_int_equal(r.status, 1);
	tb_run_fini(&r);
	unlink(p);
}

static void tampered_block(void **s)
{
	(void)s;
	struct tb_run r;
	char p[64], blk[64];
	answer_file("eth_getProof/get-account-proof-with-storage.io", p, -1);
	answer_file("eth_getBlockByNumber/get-latest.io", blk, -1);
	/* change the block's gasUsed: its hash no longer holds */
	struct tb_buf b;
	struct tb_error e;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_buf_read_file(&b, blk, &e), 0);
	char *g = strstr((char *)b.data, "\"gasUsed\":\"0x");
	assert_non_null(g);
	g[13] = g[13] == '1' ? '2' : '1';
	FILE *f = fopen(blk, "w");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	tb_buf_fini(&b);
	RUN(&r, "--block", blk, p);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(OUT(&r), "reason: block "));
	tb_run_fini(&r);
	unlink(p);
	unlink(blk);
}

static void dispatch_and_usage(void **s)
{
	(void)s;
	struct tb_run r;
	char p[64];
	answer_file("eth_getProof/get-account-proof-with-storage.io", p, -1);
	RUN(&r, p); /* no root */
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "--state-root HEX or --block"));
	tb_run_fini(&r);
	RUN(&r, "--state-root", "0x12", p);
	assert_int_equal(r.status, 2);
	tb_run_fini(&r);
	unlink(p);
	/* an OpenAttestation v2 document without the tradetrust module on the path */
	strcpy(p, "/tmp/tb_verify_oa_XXXXXX");
	int fd = mkstemp(p);
	const char oa[] = "{\"version\":\"https://schema.openattestation.com/2.0/schema.json\","
	                  "\"data\":{},\"signature\":{\"type\":\"SHA3MerkleProof\"}}";
	assert_int_equal(write(fd, oa, sizeof(oa) - 1), (ssize_t)sizeof(oa) - 1);
	close(fd);
	setenv("TRADEBRIDGE_ADAPTER_PATH", "/nonexistent", 1);
	RUN(&r, "--rpc", "http://127.0.0.1:1", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "no loaded adapter recognises"));
	assert_non_null(strstr(ERR(&r), "TRADEBRIDGE_ADAPTER_PATH"));
	tb_run_fini(&r);
	/* the same document with -c: the configuration's adapter_path finds the module,
	 * as run would, and the document is checked (the RPC is down: not VALID) */
	char conf[64] = "/tmp/tb_verify_conf_XXXXXX", text[4352];
	int cfd = mkstemp(conf);
	int n = snprintf(text, sizeof text, "{\"adapter_path\": [\"%s/adapters/tradetrust/.libs\"], "
	                 "\"networks\": {}}", getenv("TB_BUILDDIR"));
	assert_int_equal(write(cfd, text, (size_t)n), n);
	close(cfd);
	RUN(&r, "-c", conf, "--rpc", "http://127.0.0.1:1", p);
	assert_true(r.status == 1 || r.status == 3);
	assert_null(strstr(ERR(&r), "was not found"));
	assert_true(strncmp(OUT(&r), "INVALID ", 8) == 0 || strncmp(OUT(&r), "UNKNOWN ", 8) == 0);
	tb_run_fini(&r);
	/* -o NAME=VALUE goes through the adapter's own option table */
	RUN(&r, "-c", conf, "-o", "dns=no-port", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "dns \"no-port\" is not HOST:PORT"));
	tb_run_fini(&r);
	RUN(&r, "-c", conf, "-o", "dsn=127.0.0.1:53", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "tradetrust.dsn: unknown option; did you mean \"dns\"?"));
	tb_run_fini(&r);
	RUN(&r, "-c", conf, "-o", "dns", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "-o takes NAME=VALUE"));
	tb_run_fini(&r);
	unlink(conf);
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	unlink(p);
	/* anything else */
	strcpy(p, "/tmp/tb_verify_x_XXXXXX");
	fd = mkstemp(p);
	assert_int_equal(write(fd, "{\"a\":1}", 7), 7);
	close(fd);
	set_adapter_path();
	RUN(&r, p);
	assert_int_equal(r.status, 2);
	char want[256];
	snprintf(want, sizeof(want), "no loaded adapter recognises %s (tried: ", p);
	assert_non_null(strstr(ERR(&r), want));
	for (size_t i = 0; i < 3; i++)
		assert_non_null(strstr(ERR(&r), adapters[i]));
	tb_run_fini(&r);
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	unlink(p);
}

/* A cadena record names a log (ethereum can check it) and is a StatusChanged record
 * (cadena can): both recognise it, so verify names both and -a chooses; -o goes
 * through the chosen adapter's own option table. */
static void recognise_choose_and_options(void **s)
{
	(void)s;
	struct tb_run r;
	char p[64];
	strcpy(p, "/tmp/tb_verify_cd_XXXXXX");
	int fd = mkstemp(p);
	const char rec[] = "{\"transactionHash\":\"0x1111111111111111111111111111111111111111111111"
	                   "111111111111111111\",\"logIndex\":1,\"certId\":\"0x00\","
	                   "\"status\":\"certified\"}";
	assert_int_equal(write(fd, rec, sizeof(rec) - 1), (ssize_t)sizeof(rec) - 1);
	close(fd);
	set_adapter_path();
	RUN(&r, p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "is recognised by "));
	assert_non_null(strstr(ERR(&r), "ethereum (evm.log)"));
	assert_non_null(strstr(ERR(&r), "cadena (cadena.aeo.status)"));
	assert_non_null(strstr(ERR(&r), "choose one with -a NAME"));
	tb_run_fini(&r);
	/* chosen, with an option ethereum does not have: named with the known ones */
	RUN(&r, "-a", "ethereum", "-o", "rpc=http://127.0.0.1:1", "-o", "dns=x", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "ethereum.dns: unknown option"));
	tb_run_fini(&r);
	/* a value of the wrong type for the option's type */
	RUN(&r, "-a", "ethereum", "-o", "rpc=http://127.0.0.1:1", "-o", "confirmations=many", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "ethereum.confirmations"));
	tb_run_fini(&r);
	RUN(&r, "-a", "ethereum", "-o", "norpc", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "-o takes NAME=VALUE"));
	tb_run_fini(&r);
	/* configured and run: nothing answers at port 1, so UNKNOWN, never INVALID */
	RUN(&r, "--json", "-a", "ethereum", "-o", "rpc=http://127.0.0.1:1", "-o", "confirmations=0",
	    p);
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(OUT(&r), "\"verdict\": \"UNKNOWN\""));
	tb_run_fini(&r);
	RUN(&r, "-a", "tradetrust", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "adapter tradetrust does not recognise"));
	tb_run_fini(&r);
	RUN(&r, "-a", "fabric", p);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(ERR(&r), "adapter fabric is not loaded"));
	tb_run_fini(&r);
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	unlink(p);
}

int main(void)
{
	const char *v = getenv("TB_VECTORS");
	snprintf(vec, sizeof(vec), "%s", v ? v : "tests/vectors");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(getproof_valid),
		cmocka_unit_test(getproof_invalid),
		cmocka_unit_test(tampered_block),
		cmocka_unit_test(dispatch_and_usage),
		cmocka_unit_test(recognise_choose_and_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
