/* The cadena adapter against two real ganache chains (two administrations'
 * networks), with the registry compiled by solc from tests/peers and deployed on
 * both: certify/suspend/cancel on A are ingested with VALID proofs and mirrored to B
 * idempotently; a change inside the confirmation depth that is reverted
 * (evm_snapshot/evm_revert) never yields a record; events from another contract, by
 * an unauthorised signer, with a wrong claimed field, or whose receipts were altered
 * in transit are INVALID with the reason; a stopped node gives UNKNOWN and an
 * unchanged cursor; a re-org deeper than the confirmations, under a running relay,
 * is logged, retracted and resumed after tradebridge cursor reset. Everything talks
 * to 127.0.0.1; every node is killed in teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "adapter.h"
#include "evm/abi.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "ganache.h"
#include "lib/hex.h"
#include "model/mapping.h"
#include "builtmod.h"
#include "fakepeer.h"
#include "modules.h"
#include "peers.h"
#include "relay.h"
#include "runcli.h"
#include "tmpdir.h"

#define CONF 2 /* confirmations the ingesting network asks for */

struct world {
	struct tb_ganache a, b;
	char *bytecode;
	char reg_a[43], reg_b[43], forger[43];
	struct tb_modules mods;
	const struct tb_adapter_ops *ops, *eth;
	struct tb_cursor cursor; /* A's ingest cursor, carried between tests */
	const struct tb_host *host; /* given to the next open_net (the relay's journal) */
};

/* ---- chain helpers ---- */

static struct tb_json *rpc(struct tb_ganache *g, const char *method, const char *params)
{
	struct tb_json *r = NULL;
	struct tb_error e = {0};
	if (tb_ganache_call(g, method, params, &r, &e) != 0)
		fail_msg("%s: %s", method, e.msg);
	return r;
}

/* eth_sendTransaction from an unlocked account; returns the receipt. */
static struct tb_json *send_tx(struct tb_ganache *g, const char *from, const char *to,
                               const char *data)
{
	size_t n = strlen(data) + 256;
	char *p = malloc(n);
	snprintf(p, n, "[{\"from\":\"%s\",%s%s%s\"data\":\"%s\",\"gas\":\"0x4c4b40\"}]", from,
	         to ? "\"to\":\"" : "", to ? to : "", to ? "\"," : "", data);
	struct tb_json *h = rpc(g, "eth_sendTransaction", p);
	snprintf(p, n, "[\"%s\"]", tb_json_string(h));
	tb_json_free(h);
	struct tb_json *r = rpc(g, "eth_getTransactionReceipt", p);
	free(p);
	assert_non_null(r);
	assert_string_equal(tb_json_string(tb_json_get(r, "status")), "0x1");
	return r;
}

static char *calldata(const char *sig, const struct tb_abi_value *v, size_t n)
{
	struct tb_buf b;
	struct tb_error e = {0};
	tb_buf_init(&b, 0);
	assert_int_equal(tb_abi_encode_call(sig, v, n, &b, &e), 0);
	char *h = malloc(2 * b.len + 3);
	h[0] = '0', h[1] = 'x';
	tb_hex_encode(b.data, b.len, h + 2);
	tb_buf_fini(&b);
	return h;
}

static void addr_of(const char *s, uint8_t a[20])
{
	size_t n;
	assert_int_equal(tb_hex_decode(s, strlen(s), a, 20, &n, NULL), 0);
}

/* Certificate ids are bytes32 text, as Solidity stores short strings. */
static void id_of(int k, uint8_t id[32])
{
	char s[33];
	memset(id, 0, 32);
	snprintf(s, sizeof(s), "PE/AEO/2026/%06d", k);
	memcpy(id, s, strlen(s));
}

/* One registry call by `from` on chain g; returns the receipt. */
static struct tb_json *registry(struct tb_ganache *g, const char *reg, const char *from,
                                const char *sig, const struct tb_abi_value *v, size_t n)
{
	char *d = calldata(sig, v, n);
	struct tb_json *r = send_tx(g, from, reg, d);
	free(d);
	return r;
}

static void change(struct tb_ganache *g, const char *reg, const char *from, int k,
                   const char *what, uint64_t version)
{
	uint8_t id[32], hash[32], holder[20];
	id_of(k, id);
	memset(hash, (int)version, 32);
	addr_of("0x00000000000000000000000000000000000a3e01", holder);
	struct tb_json *r;
	if (strcmp(what, "certify") == 0) {
		struct tb_abi_value v[5] = {tb_abi_bytes32(id), tb_abi_address(holder),
		                            tb_abi_uint64(1700000000 + version), tb_abi_bytes32(hash),
		                            tb_abi_uint64(version)};
		r = registry(g, reg, from, "certify(bytes32,address,uint64,bytes32,uint64)", v, 5);
	} else {
		char sig[64];
		snprintf(sig, sizeof(sig), "%s(bytes32,uint64,bytes32,uint64)", what);
		struct tb_abi_value v[4] = {tb_abi_bytes32(id), tb_abi_uint64(1700000000 + version),
		                            tb_abi_bytes32(hash), tb_abi_uint64(version)};
		r = registry(g, reg, from, sig, v, 4);
	}
	assert_int_equal(tb_json_len(tb_json_get(r, "logs")), 1);
	tb_json_free(r);
}

/* solc --standard-json, EVM version pinned to what ganache 7.9 runs (shanghai). */
static char *compile_registry(void)
{
	const char *src = getenv("TB_SRCDIR");
	char path[4096], in[] = "/tmp/tb_solc_in_XXXXXX", cmd[8192];
	struct tb_buf sol, req;
	struct tb_error e = {0};
	snprintf(path, sizeof(path), "%s/contrib/contracts/AEORegistry.sol", src ? src : ".");
	tb_buf_init(&sol, 1 << 20);
	tb_buf_init(&req, 1 << 21);
	assert_int_equal(tb_buf_read_file(&sol, path, &e), 0);
	tb_buf_puts(&req, "{\"language\":\"Solidity\",\"sources\":{\"AEORegistry.sol\":{\"content\":");
	tb_json_write_string(&req, (const char *)sol.data, sol.len);
	tb_buf_puts(&req, "}},\"settings\":{\"evmVersion\":\"shanghai\",\"optimizer\":{\"enabled\":"
	                  "true,\"runs\":200},\"outputSelection\":{\"*\":{\"*\":[\"evm.bytecode."
	                  "object\"]}}}}");
	int fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, req.data, req.len), (ssize_t)req.len);
	close(fd);
	char solc[4096];
	tb_peers_path(".bin/solcjs", solc, sizeof solc);
	snprintf(cmd, sizeof(cmd), "'%s' --standard-json < %s", solc, in);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct tb_buf out;
	tb_buf_init(&out, 16 << 20);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(tb_buf_append(&out, chunk, n), 0);
	assert_int_equal(pclose(p), 0);
	unlink(in);
	/* solcjs may print a warning line before the JSON */
	const char *j = memchr(out.data, '{', out.len);
	assert_non_null(j);
	struct tb_json *res = NULL;
	if (tb_json_parse(j, out.len - (size_t)(j - (const char *)out.data), NULL, &res, &e) != 0)
		fail_msg("solc output: %s", e.msg);
	const char *obj = tb_json_string(tb_json_get(tb_json_get(tb_json_get(tb_json_get(tb_json_get(
		tb_json_get(res, "contracts"), "AEORegistry.sol"), "AEORegistry"), "evm"), "bytecode"),
		"object"));
	if (obj == NULL)
		fail_msg("solc did not compile the registry: %.500s", j);
	char *code = malloc(strlen(obj) + 3);
	sprintf(code, "0x%s", obj);
	tb_json_free(res);
	tb_buf_fini(&out);
	tb_buf_fini(&sol);
	tb_buf_fini(&req);
	return code;
}

static void deploy(struct tb_ganache *g, const char *code, char out[43])
{
	struct tb_json *r = send_tx(g, tb_ganache_addresses[0], NULL, code);
	snprintf(out, 43, "%s", tb_json_string(tb_json_get(r, "contractAddress")));
	tb_json_free(r);
	assert_int_equal(strlen(out), 42);
}

static void add_admin(struct tb_ganache *g, const char *reg, int account, const char *country)
{
	uint8_t a[20];
	addr_of(tb_ganache_addresses[account], a);
	struct tb_abi_value v[2] = {tb_abi_address(a), tb_abi_string(country, strlen(country))};
	tb_json_free(registry(g, reg, tb_ganache_addresses[0], "addAdministration(address,string)",
	                      v, 2));
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct tb_error e = {0};
	*state = w;
	if (tb_ganache_start(&w->a, 1337, &e) != 0 || tb_ganache_start(&w->b, 1338, &e) != 0) {
		fprintf(stderr, "cadena_test: %s\n", e.msg);
		return -1;
	}
	w->bytecode = compile_registry();
	deploy(&w->a, w->bytecode, w->reg_a);
	deploy(&w->b, w->bytecode, w->reg_b);
	deploy(&w->a, w->bytecode, w->forger);
	add_admin(&w->a, w->reg_a, 1, "PE");
	add_admin(&w->a, w->forger, 0, "PE");
	uint8_t relayer[20];
	addr_of(tb_ganache_addresses[2], relayer);
	struct tb_abi_value v = tb_abi_address(relayer);
	tb_json_free(registry(&w->b, w->reg_b, tb_ganache_addresses[0], "addRelayer(address)", &v, 1));
	tb_modules_init(&w->mods);
	if ((w->ops = tb_test_load_built(&w->mods, "cadena", &e)) == NULL ||
	    (w->eth = tb_test_load_built(&w->mods, "ethereum", &e)) == NULL) {
		fprintf(stderr, "cadena_test: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	tb_ganache_stop(&w->a);
	tb_ganache_stop(&w->b);
	tb_modules_fini(&w->mods);
	free(w->bytecode);
	free(w);
	return 0;
}

/* ---- the adapter ---- */

/* A native document as the route's reverse mapping would hand it to submit. */
static struct tb_outgoing native_write(const struct tb_json *doc, const char *key)
{
	return (struct tb_outgoing){.record_id = "sha256:test", .record_type = "aeo.status",
	                            .form = TB_FORM_NATIVE, .doc = doc, .idempotency_key = key};
}

struct net {
	const struct tb_adapter_ops *ops;
	void *conf, *state;
	struct tb_network n;
};

/* What the adapters log, as the relay would give them a logger: kept in a
 * temporary file so a test can read what an operator would see. */
static struct tb_log net_log;
static FILE *net_log_file;

/* Everything logged since the last call, NUL-terminated (static). */
static const char *logged(void)
{
	static char text[16384];
	static long read_at;
	fflush(net_log_file);
	fseek(net_log_file, 0, SEEK_END);
	long end = ftell(net_log_file);
	size_t want = (size_t)(end - read_at) < sizeof(text) - 1 ? (size_t)(end - read_at)
	                                                           : sizeof(text) - 1;
	fseek(net_log_file, read_at, SEEK_SET);
	size_t n = fread(text, 1, want, net_log_file);
	text[n] = 0;
	read_at = end;
	fseek(net_log_file, 0, SEEK_END); /* the logger writes on at the end */
	return text;
}

static int open_net(struct world *w, struct net *nt, const char *json, struct tb_error *e)
{
	if (net_log_file == NULL) {
		net_log_file = tmpfile();
		assert_non_null(net_log_file);
		tb_log_init(&net_log, net_log_file, "cl-cadena", TB_LOG_INFO, TB_LOG_TEXT);
	}
	struct tb_json *o = NULL;
	memset(nt, 0, sizeof(*nt));
	nt->ops = w->ops;
	assert_int_equal(tb_json_parse(json, strlen(json), NULL, &o, e), 0);
	nt->conf = calloc(1, w->ops->conf_size);
	struct tb_opt_source src = {.file = "cadena_test", .scope = "networks.test"};
	int rc = tb_options_load(w->ops->options, o, &src, NULL, nt->conf, e);
	tb_json_free(o);
	assert_int_equal(rc, 0);
	nt->n = (struct tb_network){.name = "pe-cadena", .adapter = "cadena", .conf = nt->conf,
	                            .host = w->host, .log = &net_log};
	return w->ops->open(&nt->n, &nt->state, e);
}

static void close_net(struct net *nt)
{
	if (nt->state)
		nt->ops->close(nt->state);
	tb_options_fini(nt->ops->options, nt->conf);
	free(nt->conf);
}

static void open_a(struct world *w, struct net *nt, const char *url, const char *issuer)
{
	char j[1024];
	struct tb_error e = {0};
	snprintf(j, sizeof(j), "{\"rpc\":\"%s\",\"registry\":\"%s\",\"confirmations\":%d,"
	         "\"country\":\"PE\",\"issuers\":[\"%s\"]}", url, w->reg_a, CONF, issuer);
	if (open_net(w, nt, j, &e) != 0)
		fail_msg("open: %s", e.msg);
}

/* Poll until the cursor stops moving (bounded); the records land in all. */
static void poll_all(struct net *nt, struct tb_cursor *cur, struct tb_batch *all)
{
	for (int i = 0; i < 50; i++) {
		struct tb_batch b = {0};
		struct tb_error e = {0};
		if (nt->ops->poll(nt->state, cur, &b, &e) != 0)
			fail_msg("poll: %s", e.msg);
		for (size_t k = 0; k < b.len; k++) {
			tb_batch_push(all, b.items[k].locator, b.items[k].doctype, b.items[k].doc);
			b.items[k].doc = NULL;
		}
		int same = strcmp(b.next.value, cur->value) == 0;
		*cur = b.next;
		tb_batch_fini(&b);
		if (same)
			return;
	}
	fail_msg("the cursor kept moving");
}

static size_t count_cert(const struct tb_batch *b, int k)
{
	uint8_t id[32];
	char h[67] = "0x";
	id_of(k, id);
	tb_hex_encode(id, 32, h + 2);
	size_t n = 0;
	for (size_t i = 0; i < b->len; i++)
		n += strcmp(tb_json_string(tb_json_get(b->items[i].doc, "certId")), h) == 0;
	return n;
}

static enum tb_verdict verify(struct net *nt, struct tb_json *doc, char *reason, size_t cap)
{
	struct tb_native rec = {.doc = doc};
	struct tb_proof p = {0};
	struct tb_error e = {0};
	snprintf(rec.locator, sizeof(rec.locator), "test");
	assert_int_equal(nt->ops->verify(nt->state, &rec, &p, &e), 0);
	snprintf(reason, cap, "%s", p.reason);
	tb_proof_fini(&p);
	return p.verdict;
}

/* ---- tests ---- */

static void two_chains(void **state)
{
	struct world *w = *state;
	const char *pe = tb_ganache_addresses[1];
	change(&w->a, w->reg_a, pe, 1, "certify", 1);
	change(&w->a, w->reg_a, pe, 1, "suspend", 2);
	change(&w->a, w->reg_a, pe, 1, "cancel", 3);
	struct tb_error e = {0};
	assert_int_equal(tb_ganache_mine(&w->a, CONF, &e), 0);

	struct net a, b;
	struct tb_batch got = {0};
	open_a(w, &a, w->a.url, pe);
	poll_all(&a, &w->cursor, &got);
	assert_int_equal(count_cert(&got, 1), 3);
	static const char *const want[3] = {"certified", "suspended", "cancelled"};
	char reason[512];
	for (size_t i = 0; i < 3; i++) {
		struct tb_json *d = got.items[i].doc;
		assert_string_equal(tb_json_string(tb_json_get(d, "status")), want[i]);
		assert_int_equal((int)tb_json_get(d, "version")->u.number.value, (int)i + 1);
		assert_string_equal(tb_json_string(tb_json_get(d, "admin")), pe);
		enum tb_verdict v = verify(&a, d, reason, sizeof(reason));
		if (v != TB_VALID)
			fail_msg("record %zu: %s", i, reason);
		/* ganache sent these as EIP-1559 transactions: the VALID verdict above rebuilt
		 * their typed (EIP-2718) receipts and transactions exactly */
		char p[128];
		snprintf(p, sizeof(p), "[\"%s\"]", tb_json_string(tb_json_get(d, "transactionHash")));
		struct tb_json *tx = rpc(&w->a, "eth_getTransactionByHash", p);
		assert_string_equal(tb_json_string(tb_json_get(tx, "type")), "0x2");
		tb_json_free(tx);
	}

	/* the events map to canonical aeo.status through mappings/cadena-aeo.json */
	static const char *const canon[3] = {"certified", "suspended", "revoked"};
	char mpath[4096];
	struct tb_mapping *map = NULL;
	snprintf(mpath, sizeof(mpath), "%s/mappings/cadena-aeo.json",
	         getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".");
	if (tb_mapping_load(mpath, &map, &e) != 0)
		fail_msg("%s", e.msg);
	for (size_t i = 0; i < 3; i++) {
		struct tb_json *rec = NULL;
		struct tb_mapping_ctx ctx = {0};
		if (tb_mapping_to_record(map, &ctx, got.items[i].doc, &rec, &e) != 0)
			fail_msg("mapping record %zu: %s", i, e.msg);
		struct tb_json *c = tb_json_get(tb_json_get(rec, "data"), "AEOCertificate");
		assert_string_equal(tb_json_string(tb_json_get(c, "ID")), "PE/AEO/2026/000001");
		assert_string_equal(tb_json_string(tb_json_get(c, "StatusCode")), canon[i]);
		assert_string_equal(tb_json_string(tb_json_get(tb_json_get(c, "IssuingAuthority"),
		                                               "CountryCode")), "PE");
		assert_string_equal(tb_json_string(tb_json_get(rec, "key")),
		                    "AEO/PE/PE/AEO/2026/000001");
		tb_json_free(rec);
	}
	tb_mapping_free(map);

	/* write them to chain B through the relayer's key */
	char j[1024];
	snprintf(j, sizeof(j), "{\"rpc\":\"%s\",\"registry\":\"%s\",\"confirmations\":0,"
	         "\"key\":\"%s\"}", w->b.url, w->reg_b, tb_ganache_keys[2]);
	if (open_net(w, &b, j, &e) != 0)
		fail_msg("open B: %s", e.msg);
	for (size_t i = 0; i < 3; i++) {
		struct tb_outgoing rec = native_write(got.items[i].doc, "k");
		struct tb_txref ref;
		struct tb_status st = {0};
		if (b.ops->submit(b.state, &rec, &ref, &st, &e) != 0)
			fail_msg("submit %zu: %s", i, e.msg);
		assert_int_equal(strncmp(ref.ref, "0x", 2), 0);
		assert_int_equal(b.ops->confirm(b.state, &ref, &st, &e), 0);
		assert_int_equal(st.state, TB_CONFIRMED);
		/* our EIP-1559 signature: ganache recovered the relayer as the sender */
		char p[128];
		snprintf(p, sizeof(p), "[\"%.66s\"]", ref.ref);
		struct tb_json *tx = rpc(&w->b, "eth_getTransactionByHash", p);
		assert_string_equal(tb_json_string(tb_json_get(tx, "type")), "0x2");
		assert_string_equal(tb_json_string(tb_json_get(tx, "from")), tb_ganache_addresses[2]);
		assert_string_equal(tb_json_string(tb_json_get(tx, "hash")), ref.ref);
		tb_json_free(tx);
	}
	/* B now holds version 3, cancelled, on behalf of PE's administration */
	uint8_t id[32];
	id_of(1, id);
	struct tb_abi_value arg = tb_abi_bytes32(id);
	char *cd = calldata("certs(bytes32)", &arg, 1), p[1024];
	snprintf(p, sizeof(p), "[{\"to\":\"%s\",\"data\":\"%s\"},\"latest\"]", w->reg_b, cd);
	free(cd);
	struct tb_json *r = rpc(&w->b, "eth_call", p);
	const char *hex = tb_json_string(r);
	assert_int_equal(strlen(hex), 2 + 6 * 64);
	assert_int_equal(strncmp(hex + 2 + 24, pe + 2, 40), 0); /* admin: PE's account */
	assert_int_equal(hex[2 + 3 * 64 - 1], '3');              /* status: cancelled */
	assert_int_equal(hex[2 + 6 * 64 - 1], '3');              /* version 3 */
	tb_json_free(r);
	/* the same records again change nothing: no transaction is even sent; version 3
	 * is there, and 1 and 2 are superseded by it, never "confirmed" */
	uint64_t before, after;
	assert_int_equal(tb_ganache_block_number(&w->b, &before, &e), 0);
	for (size_t i = 0; i < 3; i++) {
		struct tb_outgoing rec = native_write(got.items[i].doc, "k");
		struct tb_txref ref;
		struct tb_status st = {0};
		assert_int_equal(b.ops->submit(b.state, &rec, &ref, &st, &e), 0);
		assert_int_equal(b.ops->confirm(b.state, &ref, &st, &e), 0);
		if (i == 2) {
			assert_int_equal(strncmp(ref.ref, "present:", 8), 0);
			assert_int_equal(st.state, TB_CONFIRMED);
			continue;
		}
		/* names the certificate, the version that superseded it and its record hash */
		const char *named = "superseded-by:0x50452f41454f2f323032362f303030303031"
		                   "0000000000000000000000000000:3:0x"
		                   "0303030303030303030303030303030303030303030303030303030303030303";
		assert_string_equal(ref.ref, named);
		assert_int_equal(st.state, TB_SUPERSEDED);
		assert_non_null(strstr(st.reason, ":3:"));
	}
	assert_int_equal(tb_ganache_block_number(&w->b, &after, &e), 0);
	assert_int_equal(after, before);
	/* and the contract itself ignores a repeat of the same version */
	uint8_t admin[20], holder[20], hash[32];
	addr_of(pe, admin);
	addr_of("0x00000000000000000000000000000000000a3e01", holder);
	memset(hash, 3, 32);
	struct tb_abi_value m[7] = {tb_abi_bytes32(id), tb_abi_address(admin), tb_abi_address(holder),
	                            tb_abi_uint64(3), tb_abi_uint64(1700000003), tb_abi_bytes32(hash),
	                            tb_abi_uint64(3)};
	r = registry(&w->b, w->reg_b, tb_ganache_addresses[2],
	             "mirror(bytes32,address,address,uint8,uint64,bytes32,uint64)", m, 7);
	assert_int_equal(tb_json_len(tb_json_get(r, "logs")), 0);
	tb_json_free(r);
	close_net(&b);
	close_net(&a);
	tb_batch_fini(&got);
}

/* ---- through a relay and its store ---- */

/* A relay whose store (in dir) journals the writes of network "cl-cadena". */
struct relay_b {
	char dir[64], path[128];
	struct tb_relay *r;
	struct net b;
	int die_after_journal;
	struct tb_mapping *rev; /* mappings/cadena-aeo.json, the route's reverse mapping */
	char offered[65];       /* hex SHA-256 of the body offer() stored last */
};

/* The relay's outgoing hook as a route with "reverse": "mappings/cadena-aeo.json"
 * has it (sharing.c finds the route; here there is only the one). */
static int reverse_cadena(void *ctx, const char *destination, const struct tb_json *rec,
                          struct tb_json **native, struct tb_error *err)
{
	(void)destination;
	return tb_mapping_reverse_record(ctx, NULL, rec, native, err);
}

/* A host that dies (kill -9 style, no cleanup) right after the journal of a
 * submission commits and before anything is sent. */
static const struct tb_host *real_host;
static struct tb_host dying_host;

static int commit_then_die(void *ctx, const struct tb_txref *ref, struct tb_error *err)
{
	int rc = real_host->kv_commit(ctx, ref, err);
	if (rc == 0 && ref)
		_exit(9);
	return rc;
}

/* Open the relay and "cl-cadena" (adapter ops, writing with key keyi to B). */
static void relay_open(struct world *w, struct relay_b *rb, const struct tb_adapter_ops *ops,
                       int keyi)
{
	struct tb_error e = {0};
	struct tb_relay_config cfg = {.retry = {.max_attempts = 1000, .base_ms = 1, .max_ms = 1}};
	if (!rb->dir[0])
		assert_int_equal(tb_tmpdir_make(rb->dir, sizeof(rb->dir), "tb-cadena-relay"), 0);
	snprintf(rb->path, sizeof(rb->path), "%s/relay.db", rb->dir);
	cfg.store_path = rb->path;
	memset(cfg.key, 7, 32);
	if (tb_relay_new(&rb->r, &cfg, &e) != 0)
		fail_msg("relay: %s", e.msg);
	char mpath[4096];
	snprintf(mpath, sizeof(mpath), "%s/mappings/cadena-aeo.json",
	         getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".");
	if (rb->rev == NULL && tb_mapping_load(mpath, &rb->rev, &e) != 0)
		fail_msg("mapping: %s", e.msg);
	struct tb_relay_hooks hooks = {.ctx = rb->rev, .outgoing = reverse_cadena};
	tb_relay_set_hooks(rb->r, &hooks);
	char j[1024], reg[80] = "";
	if (ops == w->ops) /* cadena writes to its registry; ethereum to what each call names */
		snprintf(reg, sizeof(reg), "\"registry\":\"%s\",", w->reg_b);
	snprintf(j, sizeof(j), "{\"rpc\":\"%s\",%s\"confirmations\":0,\"timeout\":\"3s\","
	         "\"key\":\"%s\"}", w->b.url, reg, tb_ganache_keys[keyi]);
	const struct tb_adapter_ops *saved = w->ops;
	w->ops = ops;
	w->host = tb_relay_host(rb->r, "cl-cadena");
	if (rb->die_after_journal) {
		real_host = w->host;
		dying_host = *real_host;
		dying_host.kv_commit = commit_then_die;
		w->host = &dying_host;
	}
	int rc = open_net(w, &rb->b, j, &e);
	w->ops = saved;
	w->host = NULL;
	if (rc != 0 || tb_relay_add_network(rb->r, "cl-cadena", ops, rb->b.state, &e) != 0)
		fail_msg("open: %s", e.msg);
}

/* "Stop the relay": the adapter and the relay close, the store stays. */
static void relay_close(struct relay_b *rb)
{
	close_net(&rb->b);
	tb_relay_free(rb->r);
	rb->r = NULL;
	tb_mapping_free(rb->rev);
	rb->rev = NULL;
}

/* A canonical aeo.status record of certificate k (ID id), stored with an outbox row
 * for B. */
static void offer_id(struct relay_b *rb, int k, const char *id, const char *status, int version)
{
	struct tb_store *st = tb_relay_store(rb->r);
	struct tb_store_record rec;
	struct tb_error e = {0};
	char body[1024], hx[65];
	uint8_t h[32];
	int created = 0;
	snprintf(body, sizeof(body), "{\"data\":{\"AEOCertificate\":{\"EffectiveDateTime\":"
	         "\"2026-01-0%dT00:00:00Z\",\"ID\":\"%s\",\"StatusCode\":\"%s\"}},"
	         "\"key\":\"AEO/PE/%d\",\"schema\":\"tradebridge/1\",\"type\":\"aeo.status\","
	         "\"version\":%d}", version, id, status, k, version);
	memset(&rec, 0, sizeof(rec));
	tb_sha256((const uint8_t *)body, strlen(body), h);
	tb_hex_encode(h, 32, hx);
	snprintf(rec.record_id, sizeof(rec.record_id), "sha256:%s", hx);
	snprintf(rb->offered, sizeof(rb->offered), "%s", hx);
	snprintf(rec.key, sizeof(rec.key), "AEO/PE/%d", k);
	snprintf(rec.network, sizeof(rec.network), "pe-cadena");
	snprintf(rec.locator, sizeof(rec.locator), "0xtest:%d:%d", k, version);
	snprintf(rec.verdict, sizeof(rec.verdict), "VALID");
	rec.body = body;
	assert_int_equal(st->ops->record_put(st->state, &rec, &created, &e), 0);
	assert_int_equal(st->ops->outbox_add(st->state, rec.id, "cl-cadena", body,
	                                     tb_relay_now_ms(), &e), 0);
}

static void offer(struct relay_b *rb, int k, const char *status, int version)
{
	char id[64];
	snprintf(id, sizeof(id), "PE/AEO/2026/%06d", k);
	offer_id(rb, k, id, status, version);
}

/* Delivery rounds until nothing is pending (bounded: 100 rounds, 5 s of waits). */
static void drain(struct relay_b *rb)
{
	struct tb_store *st = tb_relay_store(rb->r);
	struct tb_store_stats stats;
	struct tb_error e = {0};
	for (int i = 0; i < 100; i++) {
		size_t done = 0;
		if (tb_relay_deliver(rb->r, tb_relay_now_ms(), &done, &e) != 0)
			fail_msg("deliver: %s", e.msg);
		assert_int_equal(st->ops->stats(st->state, &stats, &e), 0);
		if (stats.pending == 0)
			return;
		if (done == 0)
			usleep(50000);
	}
	fail_msg("rows still pending after 100 rounds");
}

/* The version of certificate k registry B holds (0: none). */
static uint64_t held_version(struct world *w, int k)
{
	uint8_t id[32];
	uint64_t v = 0;
	id_of(k, id);
	struct tb_abi_value arg = tb_abi_bytes32(id);
	char *cd = calldata("certs(bytes32)", &arg, 1), p[1024];
	snprintf(p, sizeof(p), "[{\"to\":\"%s\",\"data\":\"%s\"},\"latest\"]", w->reg_b, cd);
	free(cd);
	struct tb_json *r = rpc(&w->b, "eth_call", p);
	const char *hex = tb_json_string(r);
	assert_int_equal(strlen(hex), 2 + 6 * 64);
	v = strtoull(hex + 2 + 5 * 64 + 48, NULL, 16);
	tb_json_free(r);
	return v;
}

/* Word i (0..5: admin, holder, status, effective, recordHash, version) of what
 * registry B holds for certificate k, as 64 hex digits into out. */
static void held_word(struct world *w, int k, int i, char out[65])
{
	uint8_t id[32];
	id_of(k, id);
	struct tb_abi_value arg = tb_abi_bytes32(id);
	char *cd = calldata("certs(bytes32)", &arg, 1), p[1024];
	snprintf(p, sizeof(p), "[{\"to\":\"%s\",\"data\":\"%s\"},\"latest\"]", w->reg_b, cd);
	free(cd);
	struct tb_json *r = rpc(&w->b, "eth_call", p);
	const char *hex = tb_json_string(r);
	assert_int_equal(strlen(hex), 2 + 6 * 64);
	snprintf(out, 65, "%.64s", hex + 2 + i * 64);
	tb_json_free(r);
}

struct receipts {
	struct tb_receipt r[16];
	size_t n;
};

static int keep_receipt(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct receipts *c = ctx;
	(void)json;
	if (c->n < 16)
		c->r[c->n++] = *r;
	return 0;
}

static void receipts_of(struct relay_b *rb, struct receipts *c)
{
	struct tb_store *st = tb_relay_store(rb->r);
	struct tb_error e = {0};
	c->n = 0;
	assert_int_equal(st->ops->receipt_range(st->state, 1, 16, keep_receipt, c, &e), 0);
}

static uint64_t tx_count_of(struct world *w, const char *addr)
{
	char p[128];
	uint64_t n = 0;
	struct tb_error e = {0};
	snprintf(p, sizeof(p), "[\"%s\",\"latest\"]", addr);
	struct tb_json *r = rpc(&w->b, "eth_getTransactionCount", p);
	assert_int_equal(tb_jsonrpc_quantity(r, &n, &e), 0);
	tb_json_free(r);
	return n;
}

/* A record the reverse mapping cannot turn into the registry's form (an ID longer
 * than a bytes32) is a dead letter at the first attempt, with the mapping's words,
 * and nothing is sent: retrying cannot make it fit. */
static void unmappable_is_final(void **state)
{
	struct world *w = *state;
	struct relay_b rb = {0};
	struct tb_error e = {0};
	struct tb_store_stats stats;
	struct tb_outbox_row rows[4];
	size_t n = 0;
	uint64_t b0, b1;
	relay_open(w, &rb, w->ops, 2);
	assert_int_equal(tb_ganache_block_number(&w->b, &b0, &e), 0);
	offer_id(&rb, 31, "PE/AEO/2026/THIS-ID-IS-LONGER-THAN-32", "certified", 1);
	drain(&rb);
	struct tb_store *st = tb_relay_store(rb.r);
	assert_int_equal(st->ops->stats(st->state, &stats, &e), 0);
	assert_int_equal(stats.dead, 1);
	assert_int_equal(stats.delivered, 0);
	assert_int_equal(st->ops->dead_list(st->state, rows, 4, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].attempts, 1);
	assert_non_null(strstr(rows[0].reason, "does not fit a bytes32"));
	assert_non_null(strstr(rows[0].reason, "cadena-aeo.json"));
	for (size_t i = 0; i < n; i++)
		tb_outbox_row_fini(&rows[i]);
	assert_int_equal(tb_ganache_block_number(&w->b, &b1, &e), 0);
	assert_int_equal(b1, b0);
	relay_close(&rb);
	tb_tmpdir_remove(rb.dir);
}

/* Writes journalled in the relay's store: the same idempotency key sends the same
 * signed bytes again and the node's "already known"/"nonce too low" for that hash is
 * success, with no second transaction; a new key takes the next nonce. */
static void journal_exactly_once(void **state)
{
	struct world *w = *state;
	struct tb_error e = {0};
	struct relay_b rb = {0};
	relay_open(w, &rb, w->eth, 1);
	struct net *n = &rb.b;
	struct tb_json *doc = NULL;
	const char *call = "{\"to\":\"0x00000000000000000000000000000000000a3e01\",\"data\":\"0x\"}";
	assert_int_equal(tb_json_parse(call, strlen(call), NULL, &doc, &e), 0);
	struct tb_outgoing rec = native_write(doc, "route-1/record-1");
	struct tb_txref r1, r2, r3;
	uint64_t b0, b1;
	struct tb_status st = {0};
	if (n->ops->submit(n->state, &rec, &r1, &st, &e) != 0)
		fail_msg("submit: %s", e.msg);
	for (int i = 0; i < 100 && st.state != TB_CONFIRMED; i++) { /* mined: bounded wait */
		assert_int_equal(n->ops->confirm(n->state, &r1, &st, &e), 0);
		if (st.state != TB_CONFIRMED)
			usleep(50000);
	}
	assert_int_equal(st.state, TB_CONFIRMED);
	assert_int_equal(tb_ganache_block_number(&w->b, &b0, &e), 0);
	/* the retry after (say) a crash, from a relay started afresh on the same store:
	 * same key, same bytes, nothing new on chain */
	relay_close(&rb);
	relay_open(w, &rb, w->eth, 1);
	memset(&st, 0, sizeof st);
	if (n->ops->submit(n->state, &rec, &r2, &st, &e) != 0)
		fail_msg("resubmit: %s", e.msg);
	assert_string_equal(r1.ref, r2.ref);
	/* nothing was sent again (ganache 7.9.2 would even re-execute mined bytes) */
	usleep(200000);
	assert_int_equal(tb_ganache_block_number(&w->b, &b1, &e), 0);
	assert_int_equal(b1, b0);
	/* another key: another transaction, the next nonce */
	rec.idempotency_key = "route-1/record-2";
	memset(&st, 0, sizeof st);
	assert_int_equal(n->ops->submit(n->state, &rec, &r3, &st, &e), 0);
	assert_string_not_equal(r1.ref, r3.ref);
	char p[128];
	snprintf(p, sizeof(p), "[\"%.66s\"]", r1.ref);
	struct tb_json *t1 = rpc(&w->b, "eth_getTransactionByHash", p);
	snprintf(p, sizeof(p), "[\"%.66s\"]", r3.ref);
	struct tb_json *t3 = rpc(&w->b, "eth_getTransactionByHash", p);
	uint64_t n1, n3;
	assert_int_equal(tb_jsonrpc_quantity(tb_json_get(t1, "nonce"), &n1, &e), 0);
	assert_int_equal(tb_jsonrpc_quantity(tb_json_get(t3, "nonce"), &n3, &e), 0);
	assert_int_equal(n3, n1 + 1);
	tb_json_free(t1);
	tb_json_free(t3);
	tb_json_free(doc);
	relay_close(&rb);
	tb_tmpdir_remove(rb.dir);
}

/* Change the journalled next nonce of the store at path by delta (as a crash
 * between "nonce spent" and "bytes sent" in an older relay left it). */
static void bump_nonce(const char *path, int delta)
{
	sqlite3 *db = NULL;
	char *msg = NULL, sql[256];
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE kv SET value = CAST(CAST(value AS INTEGER) + %d AS TEXT)"
	         " WHERE network = 'cl-cadena' AND key LIKE 'nonce/%%'", delta);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

/* The reproduction: stop the relay, add one to the journalled nonce, make
 * one change at the source: it is delivered (the spent nonce the node never saw is
 * filled with a no-op, never skipped), and the gap is counted. */
static void nonce_gap_is_filled(void **state)
{
	struct world *w = *state;
	struct relay_b rb = {0};
	struct tb_error e = {0};
	relay_open(w, &rb, w->ops, 2);
	offer(&rb, 20, "certified", 1);
	drain(&rb);
	assert_int_equal(held_version(w, 20), 1);
	relay_close(&rb);
	uint64_t sent = tx_count_of(w, tb_ganache_addresses[2]);
	bump_nonce(rb.path, 1);
	relay_open(w, &rb, w->ops, 2);
	offer(&rb, 20, "suspended", 2);
	drain(&rb);
	assert_int_equal(held_version(w, 20), 2);
	/* the hole (a no-op) and the suspension: two transactions, no nonce left out */
	assert_int_equal(tx_count_of(w, tb_ganache_addresses[2]), sent + 2);
	struct receipts c;
	receipts_of(&rb, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.r[1].status, "confirmed");
	struct tb_buf m;
	tb_buf_init(&m, 0);
	assert_int_equal(tb_relay_metrics_text(rb.r, &m, &e), 0);
	assert_non_null(strstr((char *)m.data, "tradebridge_nonce_gaps_total{network=\"cl-cadena\"} 1\n"));
	tb_buf_fini(&m);
	relay_close(&rb);
	tb_tmpdir_remove(rb.dir);
}

/* A kill between the journal's commit and the send: nothing reached the node; the
 * relay started again sends those very bytes (the row was in flight under their
 * hash) and the registry gets the record once. */
static void crash_between_journal_and_send(void **state)
{
	struct world *w = *state;
	struct relay_b rb = {0};
	assert_int_equal(tb_tmpdir_make(rb.dir, sizeof(rb.dir), "tb-cadena-crash"), 0);
	uint64_t sent = tx_count_of(w, tb_ganache_addresses[2]);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rb.die_after_journal = 1;
		relay_open(w, &rb, w->ops, 2);
		offer(&rb, 22, "certified", 1);
		size_t done;
		struct tb_error e;
		tb_relay_deliver(rb.r, tb_relay_now_ms(), &done, &e);
		_exit(0); /* not reached when the journal committed */
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 9);
	assert_int_equal(tx_count_of(w, tb_ganache_addresses[2]), sent);
	assert_int_equal(held_version(w, 22), 0);
	relay_open(w, &rb, w->ops, 2);
	struct tb_store *st = tb_relay_store(rb.r);
	struct tb_outbox_row row;
	struct tb_error e = {0};
	assert_int_equal(st->ops->outbox_get(st->state, 1, &row, &e), 0);
	char journalled[256];
	snprintf(journalled, sizeof(journalled), "%s", row.txref);
	tb_outbox_row_fini(&row);
	assert_int_equal(strncmp(journalled, "0x", 2), 0); /* in flight under the journalled hash */
	drain(&rb);
	assert_int_equal(held_version(w, 22), 1);
	assert_int_equal(tx_count_of(w, tb_ganache_addresses[2]), sent + 1);
	struct receipts c;
	receipts_of(&rb, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.r[0].status, "confirmed");
	assert_string_equal(c.r[0].txref, journalled);
	relay_close(&rb);
	tb_tmpdir_remove(rb.dir);
}

/* Another writer put version 3 on B first: versions 1 and 2 get receipts saying
 * "superseded" (naming version 3), in order, with nothing sent; version 4 is
 * delivered and "confirmed". */
static void superseded_versions_say_so(void **state)
{
	struct world *w = *state;
	struct relay_b rb = {0};
	struct tb_error e = {0};
	uint8_t id[32], admin[20], holder[20] = {0}, hash[32];
	id_of(21, id);
	addr_of(tb_ganache_addresses[2], admin);
	memset(hash, 0x33, 32);
	struct tb_abi_value m[7] = {tb_abi_bytes32(id), tb_abi_address(admin), tb_abi_address(holder),
	                            tb_abi_uint64(2), tb_abi_uint64(1767225600), tb_abi_bytes32(hash),
	                            tb_abi_uint64(3)};
	tb_json_free(registry(&w->b, w->reg_b, tb_ganache_addresses[2],
	                      "mirror(bytes32,address,address,uint8,uint64,bytes32,uint64)", m, 7));
	assert_int_equal(held_version(w, 21), 3);
	relay_open(w, &rb, w->ops, 2);
	offer(&rb, 21, "certified", 1);
	offer(&rb, 21, "suspended", 2);
	uint64_t b0, b1;
	assert_int_equal(tb_ganache_block_number(&w->b, &b0, &e), 0);
	drain(&rb);
	assert_int_equal(tb_ganache_block_number(&w->b, &b1, &e), 0);
	assert_int_equal(b1, b0);
	/* the operator sees why nothing was sent, on a line naming the network */
	const char *said = logged();
	assert_non_null(strstr(said, "registry holds a later version; nothing sent"));
	assert_non_null(strstr(said, "cl-cadena"));
	assert_non_null(strstr(said, "held=3"));
	offer(&rb, 21, "certified", 4);
	drain(&rb);
	assert_int_equal(held_version(w, 21), 4);
	/* what the reverse mapping and the adapter wrote, field by field: recordHash is
	 * the SHA-256 of the record as delivered (offer's body, RFC 8785 already), the
	 * administration the relay's own account (key 2), no holder account, status 1
	 * (certified), 2026-01-04T00:00:00Z = 1767225600 + 3 days */
	char word[65], want[65];
	held_word(w, 21, 4, word);
	assert_string_equal(word, rb.offered);
	held_word(w, 21, 0, word);
	snprintf(want, sizeof(want), "000000000000000000000000%s", tb_ganache_addresses[2] + 2);
	assert_int_equal(strcasecmp(word, want), 0);
	held_word(w, 21, 1, word);
	assert_string_equal(word, "0000000000000000000000000000000000000000000000000000000000000000");
	held_word(w, 21, 2, word);
	assert_string_equal(word, "0000000000000000000000000000000000000000000000000000000000000001");
	held_word(w, 21, 3, word);
	snprintf(want, sizeof(want), "%064llx", 1767225600ULL + 3 * 86400);
	assert_string_equal(word, want);
	struct receipts c;
	receipts_of(&rb, &c);
	assert_int_equal(c.n, 3);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(c.r[i].status, "superseded");
		assert_non_null(strstr(c.r[i].txref, ":3:0x3333"));
		char loc[32];
		snprintf(loc, sizeof(loc), "0xtest:21:%zu", i + 1);
		assert_string_equal(c.r[i].source_locator, loc);
	}
	assert_string_equal(c.r[2].status, "confirmed");
	assert_int_equal(strncmp(c.r[2].txref, "0x", 2), 0);
	uint8_t pub[65], addr[20], key[32];
	size_t bad;
	memset(key, 7, 32);
	tb_secp_pubkey(key, pub, NULL);
	tb_eth_address(pub, addr);
	assert_int_equal(tb_receipt_verify_chain(c.r, c.n, addr, NULL, &bad, &e), 0);
	relay_close(&rb);
	tb_tmpdir_remove(rb.dir);
}

static void reorg_never_yields(void **state)
{
	struct world *w = *state;
	struct tb_error e = {0};
	struct net a;
	struct tb_batch got = {0};
	char snap[32];
	open_a(w, &a, w->a.url, tb_ganache_addresses[1]);
	poll_all(&a, &w->cursor, &got); /* catch up */
	tb_batch_fini(&got);
	memset(&got, 0, sizeof(got));
	assert_int_equal(tb_ganache_snapshot(&w->a, snap, &e), 0);
	change(&w->a, w->reg_a, tb_ganache_addresses[1], 2, "certify", 1);
	assert_int_equal(tb_ganache_mine(&w->a, CONF - 1, &e), 0); /* inside the depth */
	poll_all(&a, &w->cursor, &got);
	assert_int_equal(count_cert(&got, 2), 0);
	assert_int_equal(tb_ganache_revert(&w->a, snap, &e), 0);
	assert_int_equal(tb_ganache_mine(&w->a, CONF + 3, &e), 0);
	poll_all(&a, &w->cursor, &got);
	assert_int_equal(count_cert(&got, 2), 0);
	assert_int_equal(got.len, 0);
	close_net(&a);
	tb_batch_fini(&got);
}

/* A locator document for the first log of a receipt. */
static struct tb_json *locator_of(struct tb_json *receipt)
{
	struct tb_json *d = tb_json_new_object();
	const struct tb_json *l = tb_json_at(tb_json_get(receipt, "logs"), 0);
	tb_json_object_set(d, "transactionHash", 15,
	                   tb_json_clone(tb_json_get(receipt, "transactionHash")));
	tb_json_object_set(d, "logIndex", 8, tb_json_clone(tb_json_get(l, "logIndex")));
	return d;
}

static void forged_events(void **state)
{
	struct world *w = *state;
	struct tb_error e = {0};
	struct net a;
	char reason[512];
	uint8_t id[32], hash[32], holder[20];
	id_of(3, id);
	memset(hash, 7, 32);
	addr_of("0x00000000000000000000000000000000000a3e01", holder);
	struct tb_abi_value v[5] = {tb_abi_bytes32(id), tb_abi_address(holder),
	                            tb_abi_uint64(1700000000), tb_abi_bytes32(hash),
	                            tb_abi_uint64(1)};
	const char *sig = "certify(bytes32,address,uint64,bytes32,uint64)";
	/* (a) the same event from a look-alike contract */
	struct tb_json *fr = registry(&w->a, w->forger, tb_ganache_addresses[0], sig, v, 5);
	/* (b) on the real registry, by an administration that is not the authorised issuer */
	add_admin(&w->a, w->reg_a, 0, "XX");
	id_of(4, id);
	v[0] = tb_abi_bytes32(id);
	struct tb_json *ur = registry(&w->a, w->reg_a, tb_ganache_addresses[0], sig, v, 5);
	/* (c) a genuine event whose record claims another holder */
	id_of(5, id);
	v[0] = tb_abi_bytes32(id);
	struct tb_json *gr = registry(&w->a, w->reg_a, tb_ganache_addresses[1], sig, v, 5);
	assert_int_equal(tb_ganache_mine(&w->a, CONF, &e), 0);

	open_a(w, &a, w->a.url, tb_ganache_addresses[1]);
	struct tb_json *d = locator_of(fr);
	assert_int_equal(verify(&a, d, reason, sizeof(reason)), TB_INVALID);
	assert_non_null(strstr(reason, "not a configured contract"));
	tb_json_free(d);
	d = locator_of(ur);
	assert_int_equal(verify(&a, d, reason, sizeof(reason)), TB_INVALID);
	assert_non_null(strstr(reason, "not an authorised issuer"));
	tb_json_free(d);
	d = locator_of(gr);
	assert_int_equal(verify(&a, d, reason, sizeof(reason)), TB_VALID);
	tb_json_object_set(d, "holder", 6, tb_json_new_string(tb_ganache_addresses[2], 42));
	assert_int_equal(verify(&a, d, reason, sizeof(reason)), TB_INVALID);
	assert_non_null(strstr(reason, "\"holder\" differs"));
	tb_json_free(d);
	close_net(&a);
	tb_json_free(fr);
	tb_json_free(ur);
	tb_json_free(gr);
}

/* ---- a tampering proxy in front of chain A ---- */

/* Receipts fetched for the trie rebuild: change one hex digit of a log's data. */
static void tamper_receipts(void *ctx, const char *req, struct tb_buf *resp)
{
	char *logs = (req[0] == '[' || strstr(req, "eth_getBlockReceipts"))
	                 ? strstr((char *)resp->data, "\"logs\":[{") : NULL;
	char *data = logs ? strstr(logs, "\"data\":\"0x") : NULL;
	if (data && strlen(data) > 30) {
		data[30] = data[30] == '0' ? '1' : '0';
		atomic_store((atomic_int *)ctx, 1);
	}
}

static void tampered_receipt(void **state)
{
	struct world *w = *state;
	struct tb_error e = {0};
	atomic_int tampered = 0;
	const struct tb_fake_rule proxy = {.action = TB_FAKE_FORWARD, .upstream = w->a.url,
	                                   .edit = tamper_receipts, .ctx = &tampered, .close = 1};
	struct tb_fakepeer *px = tb_fakepeer_start(&proxy, 1);

	change(&w->a, w->reg_a, tb_ganache_addresses[1], 6, "certify", 1);
	assert_int_equal(tb_ganache_mine(&w->a, CONF, &e), 0);
	struct net a, direct;
	struct tb_batch got = {0};
	char url[64], reason[512];
	snprintf(url, sizeof(url), "%s", tb_fakepeer_url(px, "/"));
	open_a(w, &direct, w->a.url, tb_ganache_addresses[1]);
	poll_all(&direct, &w->cursor, &got);
	assert_int_equal(count_cert(&got, 6), 1);
	assert_int_equal(verify(&direct, got.items[got.len - 1].doc, reason, sizeof(reason)),
	                 TB_VALID);
	open_a(w, &a, url, tb_ganache_addresses[1]);
	assert_int_equal(verify(&a, got.items[got.len - 1].doc, reason, sizeof(reason)), TB_INVALID);
	assert_true(atomic_load(&tampered));
	assert_non_null(strstr(reason, "receipts root mismatch"));
	tb_fakepeer_stop(px);
	close_net(&a);
	close_net(&direct);
	tb_batch_fini(&got);
}

static void node_down(void **state)
{
	struct world *w = *state;
	struct tb_error e = {0};
	struct net a;
	struct tb_batch got = {0};
	char reason[512];
	change(&w->a, w->reg_a, tb_ganache_addresses[1], 7, "certify", 1);
	assert_int_equal(tb_ganache_mine(&w->a, CONF, &e), 0);
	open_a(w, &a, w->a.url, tb_ganache_addresses[1]);
	poll_all(&a, &w->cursor, &got);
	assert_int_equal(count_cert(&got, 7), 1);
	struct tb_json *doc = got.items[got.len - 1].doc;
	assert_int_equal(verify(&a, doc, reason, sizeof(reason)), TB_VALID);
	tb_ganache_stop(&w->a);
	assert_int_equal(verify(&a, doc, reason, sizeof(reason)), TB_UNKNOWN);
	assert_non_null(strstr(reason, "no endpoint answered"));
	struct tb_batch b = {0};
	struct tb_cursor before = w->cursor;
	assert_int_equal(a.ops->poll(a.state, &w->cursor, &b, &e), TB_EUNAVAIL);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.next.value, before.value);
	tb_batch_fini(&b);
	close_net(&a);
	tb_batch_fini(&got);
}

/* ---- the relay over a deep re-org ---- */

struct sink {
	long submits;
};

static int sink_submit(void *state, const struct tb_outgoing *rec, struct tb_txref *out,
                       struct tb_status *st, struct tb_error *err)
{
	struct sink *k = state;
	const char *idem = rec->idempotency_key;
	(void)err, (void)st;
	k->submits++;
	snprintf(out->ref, sizeof(out->ref), "sink:%s", idem);
	return 0;
}

static int sink_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                        struct tb_error *err)
{
	(void)state, (void)ref, (void)err;
	out->state = TB_CONFIRMED;
	return 0;
}

static const struct tb_adapter_ops sink_ops = {
	.abi = TB_ADAPTER_ABI, .name = "sink", .submit = sink_submit, .confirm = sink_confirm,
};

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

/* Step the relay until a step does nothing (bounded); returns the last step's code. */
static int settle(struct tb_relay *r)
{
	struct tb_error e;
	int rc = 0;
	for (int i = 0; i < 100; i++) {
		size_t work = 0;
		rc = tb_relay_step(r, &work, &e);
		if (work == 0)
			break;
	}
	return rc;
}

struct retractions {
	int n;
	char locator[256];
};

static int count_retracted(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct retractions *k = ctx;
	(void)json;
	if (strcmp(r->status, "retracted-at-source") == 0) {
		k->n++;
		snprintf(k->locator, sizeof(k->locator), "%s", r->source_locator);
	}
	return 0;
}

/* A change delivered, then dropped by a re-org deeper than the confirmations (the
 * chain reverted under it and a longer one mined): the relay logs both hashes, the
 * common ancestor and the depth, writes a retracted-at-source receipt, holds ingest
 * until tradebridge cursor reset, and then takes the new chain's changes. */
static void deep_reorg_through_the_relay(void **state)
{
	struct world *w = *state;
	struct tb_error e = {0};
	struct net a;
	struct sink sink = {0};
	struct tb_relay *r;
	char dir[64], store[96], snap[32], *logbuf = NULL;
	size_t loglen = 0;
	assert_int_equal(tb_tmpdir_make(dir, sizeof(dir), "tb-reorg"), 0);
	snprintf(store, sizeof(store), "%s/relay.db", dir);
	FILE *logf = open_memstream(&logbuf, &loglen);
	struct tb_log log;
	tb_log_init(&log, logf, "relay", TB_LOG_INFO, TB_LOG_TEXT);
	struct tb_relay_config cfg = {.store_path = store, .log = &log};
	memset(cfg.key, 9, 32);
	open_a(w, &a, w->a.url, tb_ganache_addresses[1]);
	assert_int_equal(tb_relay_new(&r, &cfg, &e), 0);
	assert_int_equal(tb_relay_add_network(r, "pe-cadena", w->ops, a.state, &e), 0);
	assert_int_equal(tb_relay_add_network(r, "cl", &sink_ops, &sink, &e), 0);
	assert_int_equal(tb_relay_add_route(r, "pe-cadena", "cl", &e), 0);
	struct tb_relay_hooks h = {.policy = allow_all};
	tb_relay_set_hooks(r, &h);
	assert_int_equal(tb_ganache_mine(&w->a, CONF, &e), 0);
	assert_int_equal(settle(r), 0); /* whatever earlier tests left on A */
	long before = sink.submits;
	assert_int_equal(tb_ganache_snapshot(&w->a, snap, &e), 0);
	change(&w->a, w->reg_a, tb_ganache_addresses[1], 40, "certify", 1);
	assert_int_equal(tb_ganache_mine(&w->a, CONF + 2, &e), 0); /* final, taken, delivered */
	assert_int_equal(settle(r), 0);
	assert_int_equal(sink.submits, before + 1);
	/* the chain loses that history and grows a longer one without it */
	assert_int_equal(tb_ganache_revert(&w->a, snap, &e), 0);
	assert_int_equal(tb_ganache_mine(&w->a, CONF + 8, &e), 0);
	assert_int_equal(settle(r), TB_EREORG);
	fflush(logf);
	assert_non_null(strstr(logbuf, "re-org deeper than the confirmation depth"));
	assert_non_null(strstr(logbuf, "re-org deeper than 2 confirmations: block "));
	assert_non_null(strstr(logbuf, ", is now 0x"));
	assert_non_null(strstr(logbuf, "records_retracted=1 retraction_receipts=1"));
	const char *anc = strstr(logbuf, "common_ancestor=");
	const char *depth = strstr(logbuf, "depth=");
	assert_non_null(anc);
	assert_non_null(depth);
	assert_true(atoi(depth + 6) >= CONF + 1);
	char block[32];
	snprintf(block, sizeof(block), "%lld", atoll(anc + 16));
	struct retractions k = {0};
	struct tb_store *st = tb_relay_store(r);
	assert_int_equal(st->ops->receipt_range(st->state, 1, 1000, count_retracted, &k, &e), 0);
	assert_int_equal(k.n, 1);
	/* held: nothing new is taken until the operator moves the cursor */
	change(&w->a, w->reg_a, tb_ganache_addresses[1], 41, "certify", 1);
	assert_int_equal(tb_ganache_mine(&w->a, CONF + 1, &e), 0);
	assert_int_equal(settle(r), TB_EREORG);
	assert_int_equal(sink.submits, before + 1);
	struct tb_run run;
	TB_RUN(&run, "cursor", "reset", "-s", store, "pe-cadena", "--to", block);
	if (run.status != 0)
		fail_msg("cursor reset: %s", TB_ERR(&run));
	tb_run_fini(&run);
	assert_int_equal(settle(r), 0);
	assert_int_equal(sink.submits, before + 2); /* the new chain's certificate 41 */
	tb_relay_free(r);
	close_net(&a);
	fclose(logf);
	free(logbuf);
	tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_chains),
		cmocka_unit_test(journal_exactly_once),
		cmocka_unit_test(nonce_gap_is_filled),
		cmocka_unit_test(crash_between_journal_and_send),
		cmocka_unit_test(superseded_versions_say_so),
		cmocka_unit_test(unmappable_is_final),
		cmocka_unit_test(reorg_never_yields),
		cmocka_unit_test(forged_events),
		cmocka_unit_test(tampered_receipt),
		cmocka_unit_test(deep_reorg_through_the_relay),
		cmocka_unit_test(node_down),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
