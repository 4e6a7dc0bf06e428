/* EVM ingest, proof and writes over JSON-RPC. Verification trusts nothing a node
 * says: the header is re-hashed, the transactions trie rebuilt from the block's
 * transactions (so the transaction at the index is the one named), the receipts
 * trie rebuilt from the receipts (so the log is the one the block commits to), the
 * signer recovered, the emitter compared. Invariant: only a failed check is
 * INVALID; anything that could not be asked or is not yet final is UNKNOWN. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evm/ethproof.h"
#include "evm/ethtx.h"
#include "crypto/hash.h"
#include "evm/mpt.h"
#include "evm/rlp.h"
#include "crypto/secp256k1.h"
#include "evm/evm.h"
#include "lib/fault.h"
#include "lib/hex.h"

int evm_hex_fixed(const char *s, uint8_t *out, size_t n)
{
	size_t got;
	if (s == NULL || strlen(s) != 2 + 2 * n || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	return tb_hex_decode(s, 2 + 2 * n, out, n, &got, NULL) == 0 ? 0 : -1;
}

static void hex0x(const uint8_t *p, size_t n, char *out)
{
	out[0] = '0', out[1] = 'x';
	tb_hex_encode(p, n, out + 2);
}

static int load_addrs(const struct tb_strlist *l, uint8_t (*dst)[20], size_t *n,
                      const char *what, struct tb_error *err)
{
	*n = 0;
	if (l->len > EVM_MAX_LIST)
		return tb_error_set(err, TB_ECONFIG, "%s: %zu entries, at most %d", what, l->len,
		                    EVM_MAX_LIST);
	for (size_t i = 0; i < l->len; i++) {
		if (evm_hex_fixed(l->items[i], dst[i], 20) < 0)
			return tb_error_set(err, TB_ECONFIG, "%s[%zu]: \"%.60s\" is not a 0x address", what,
			                    i, l->items[i]);
		(*n)++;
	}
	return 0;
}

int evm_open(struct evm *ev, const char *network, const struct evm_conf *c, struct tb_error *err)
{
	memset(ev, 0, sizeof(*ev));
	ev->conf = c;
	ev->network = network ? network : "evm";
	int rc = load_addrs(&c->contracts, ev->contracts, &ev->ncontracts, "contracts", err);
	if (rc == 0)
		rc = load_addrs(&c->issuers, ev->issuers, &ev->nissuers, "issuers", err);
	for (size_t i = 0; rc == 0 && i < c->topics.len; i++) {
		uint8_t t[32];
		if (i >= EVM_MAX_LIST || evm_hex_fixed(c->topics.items[i], t, 32) < 0)
			rc = tb_error_set(err, TB_ECONFIG, "topics[%zu] is not a 0x 32-byte hash", i);
	}
	if (rc == 0 && c->key) {
		size_t kn = 0; /* with or without 0x, exactly 32 bytes */
		rc = tb_hex_decode(c->key, strlen(c->key), ev->key, 32, &kn, NULL) == 0 && kn == 32
		         ? 0
		         : tb_error_set(err, TB_ECONFIG, "key is not 32 bytes of hex");
		uint8_t pub[65];
		if (rc == 0 && (rc = tb_secp_pubkey(ev->key, pub, err)) == 0) {
			tb_eth_address(pub, ev->from);
			ev->has_key = 1;
		}
	}
	const char *urls[TB_JSONRPC_MAX_ENDPOINTS];
	size_t n = 0;
	urls[n++] = c->rpc;
	for (size_t i = 0; i < c->rpc_fallback.len && n < TB_JSONRPC_MAX_ENDPOINTS; i++)
		urls[n++] = c->rpc_fallback.items[i];
	struct tb_http_options ho = {.timeout_ms = c->timeout ? (long)c->timeout : 10000,
	                             .connect_timeout_ms = 3000, .max_attempts = 1};
	if (rc == 0)
		rc = tb_jsonrpc_new(&ev->rpc, urls, n, &ho, err);
	if (rc < 0) {
		tb_error_prefix(err, "%s", ev->network);
		memset(ev->key, 0, sizeof(ev->key));
	}
	return rc;
}

void evm_close(struct evm *ev)
{
	tb_jsonrpc_free(ev->rpc);
	memset(ev, 0, sizeof(*ev));
}

/* ---- small JSON-RPC helpers ---- */

static int call(struct evm *ev, const char *method, const char *params, struct tb_json **r,
                struct tb_error *err)
{
	int rc = tb_jsonrpc_call(ev->rpc, method, params, r, NULL, err);
	if (rc < 0)
		tb_error_prefix(err, "%s", ev->network);
	return rc;
}

static int call_u64(struct evm *ev, const char *method, const char *params, uint64_t *v,
                    struct tb_error *err)
{
	struct tb_json *r = NULL;
	int rc = call(ev, method, params, &r, err);
	if (rc == 0 && (rc = tb_jsonrpc_quantity(r, v, err)) < 0)
		tb_error_prefix(err, "%s: %s", ev->network, method);
	tb_json_free(r);
	return rc;
}

static int u64_of(const struct tb_json *j, const char *key, uint64_t *v)
{
	const struct tb_json *f = tb_json_get(j, key);
	if (f && f->type == TB_JSON_NUMBER && f->u.number.value >= 0 && f->u.number.value < 9e15) {
		*v = (uint64_t)f->u.number.value;
		return 0;
	}
	return tb_jsonrpc_quantity(f, v, NULL);
}

/* ---- poll ---- */

static int parse_cursor(const struct tb_cursor *c, uint64_t *num, uint8_t hash[32])
{
	const char *colon = strchr(c->value, ':');
	char *end;
	if (colon == NULL)
		return -1;
	*num = strtoull(c->value, &end, 10);
	if (end != colon || evm_hex_fixed(colon + 1, hash, 32) < 0)
		return -1;
	return 0;
}

static int block_hash_at(struct evm *ev, uint64_t n, uint8_t hash[32], struct tb_error *err)
{
	char p[64];
	struct tb_json *b = NULL;
	snprintf(p, sizeof(p), "[\"0x%" PRIx64 "\",false]", n);
	int rc = call(ev, "eth_getBlockByNumber", p, &b, err);
	if (rc == 0 && (b == NULL || b->type != TB_JSON_OBJECT ||
	                evm_hex_fixed(tb_json_string(tb_json_get(b, "hash")), hash, 32) < 0))
		rc = tb_error_set(err, TB_EUNAVAIL, "%s: block %" PRIu64 " has no hash (yet)",
		                  ev->network, n);
	tb_json_free(b);
	return rc;
}

static int logs_filter(struct evm *ev, uint64_t from, uint64_t to, struct tb_buf *p)
{
	const struct evm_conf *c = ev->conf;
	int rc = tb_buf_printf(p, "[{\"fromBlock\":\"0x%" PRIx64 "\",\"toBlock\":\"0x%" PRIx64 "\"",
	                       from, to);
	if (c->contracts.len) {
		rc |= tb_buf_puts(p, ",\"address\":[");
		for (size_t i = 0; i < c->contracts.len; i++)
			rc |= tb_buf_printf(p, "%s\"%s\"", i ? "," : "", c->contracts.items[i]);
		rc |= tb_buf_puts(p, "]");
	}
	if (c->topics.len) {
		rc |= tb_buf_puts(p, ",\"topics\":[[");
		for (size_t i = 0; i < c->topics.len; i++)
			rc |= tb_buf_printf(p, "%s\"%s\"", i ? "," : "", c->topics.items[i]);
		rc |= tb_buf_puts(p, "]]");
	}
	return rc | tb_buf_puts(p, "}]");
}

/* Take the logs of one eth_getLogs answer; every one must sit in the block the chain
 * has at that height now (hashes[] for from..to). */
static int take_logs(struct evm *ev, const struct tb_json *logs, uint64_t from, uint64_t to,
                     struct tb_batch *out, struct tb_error *err)
{
	if (logs == NULL || logs->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EUNAVAIL, "%s: eth_getLogs answered no array", ev->network);
	if (tb_json_len(logs) > EVM_MAX_LOGS)
		return tb_error_set(err, TB_ELIMIT, "%s: %zu logs in blocks %" PRIu64 "..%" PRIu64
		                    ", at most %d; lower max_range", ev->network, tb_json_len(logs),
		                    from, to, EVM_MAX_LOGS);
	for (size_t i = 0; i < tb_json_len(logs); i++) {
		const struct tb_json *l = tb_json_at(logs, i), *rm = tb_json_get(l, "removed");
		uint64_t bn, li;
		const char *tx = tb_json_string(tb_json_get(l, "transactionHash"));
		if (rm && rm->type == TB_JSON_BOOL && rm->u.boolean)
			continue; /* a node's own re-org notice: never taken */
		if (u64_of(l, "blockNumber", &bn) < 0 || bn < from || bn > to || tx == NULL ||
		    strlen(tx) != 66 || u64_of(l, "logIndex", &li) < 0)
			return tb_error_set(err, TB_EUNAVAIL, "%s: eth_getLogs item %zu is malformed or "
			                    "outside %" PRIu64 "..%" PRIu64, ev->network, i, from, to);
		char loc[128];
		snprintf(loc, sizeof(loc), "%s:%" PRIu64, tx, li);
		struct tb_json *doc = tb_json_clone(l);
		if (doc == NULL || tb_batch_push(out, loc, "evm.log", doc) < 0)
			return tb_error_set(err, TB_ENOMEM, "%s: out of memory", ev->network);
	}
	return 0;
}

int evm_poll(struct evm *ev, const struct tb_cursor *from, struct tb_batch *out,
             struct tb_error *err)
{
	uint64_t last = 0, head, next;
	uint8_t saved[32], now[32];
	int have = from && from->value[0];
	if (have && parse_cursor(from, &last, saved) < 0)
		return tb_error_set(err, TB_EINVAL, "%s: cursor \"%.80s\" is not NUMBER:0xHASH",
		                    ev->network, from->value);
	out->next = have ? *from : (struct tb_cursor){{0}};
	int rc = call_u64(ev, "eth_blockNumber", NULL, &head, err);
	if (rc < 0)
		return rc;
	if (have) {
		if ((rc = block_hash_at(ev, last, now, err)) < 0)
			return rc;
		if (memcmp(now, saved, 32) != 0) {
			char a[67], b[67];
			hex0x(saved, 32, a), hex0x(now, 32, b);
			return tb_error_set(err, TB_EREORG, "%s: re-org deeper than %lld confirmations: "
			                    "block %" PRIu64 " was %s, is now %s; not advancing",
			                    ev->network, ev->conf->confirmations, last, a, b);
		}
	}
	next = have ? last + 1 : (uint64_t)ev->conf->start_block;
	uint64_t conf = (uint64_t)ev->conf->confirmations;
	out->behind = head >= conf && next <= head - conf ? (int64_t)(head - conf - next + 1) : 0;
	if (head < conf || next > head - conf)
		return 0; /* nothing final yet */
	uint64_t to = head - conf;
	if (to - next >= (uint64_t)ev->conf->max_range)
		to = next + (uint64_t)ev->conf->max_range - 1;
	struct tb_buf p;
	struct tb_json *logs = NULL;
	tb_buf_init(&p, 1 << 16);
	if (logs_filter(ev, next, to, &p) != 0)
		rc = tb_error_set(err, TB_ELIMIT, "%s: log filter too large", ev->network);
	if (rc == 0)
		rc = call(ev, "eth_getLogs", (const char *)p.data, &logs, err);
	tb_buf_fini(&p);
	size_t before = out->len;
	if (rc == 0)
		rc = take_logs(ev, logs, next, to, out, err);
	tb_json_free(logs);
	/* the hash of `to` is what the next poll checks the chain against */
	if (rc == 0 && (rc = block_hash_at(ev, to, now, err)) == 0) {
		char h[67];
		hex0x(now, 32, h);
		snprintf(out->next.value, sizeof(out->next.value), "%" PRIu64 ":%s", to, h);
	}
	if (rc < 0) { /* nothing half-taken */
		while (out->len > before)
			tb_json_free(out->items[--out->len].doc);
		out->next = have ? *from : (struct tb_cursor){{0}};
	}
	return rc;
}

/* ---- verify ---- */

struct check {
	struct evm *ev;
	struct tb_proof *p;
	const char *tx;
	uint64_t log_index;
	struct tb_json *receipt, *block, *receipts, *detail;
	uint64_t number, tx_index;
	uint8_t signer[20];
};

static int verdict(struct check *k, enum tb_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int verdict(struct check *k, enum tb_verdict v, const char *fmt, ...)
{
	va_list ap;
	k->p->verdict = v;
	va_start(ap, fmt);
	vsnprintf(k->p->reason, sizeof(k->p->reason), fmt, ap);
	va_end(ap);
	return 1; /* stop: a verdict is reached */
}

/* An RPC failure is UNKNOWN with the reason; memory trouble too, but returned. */
static int unknown(struct check *k, int rc, const struct tb_error *e)
{
	verdict(k, TB_UNKNOWN, "%s: %s", k->ev->network, e->msg);
	return rc == TB_ENOMEM ? rc : 1;
}

static void detail_str(struct check *k, const char *key, const char *v)
{
	tb_json_object_set(k->detail, key, strlen(key), tb_json_new_string(v, strlen(v)));
}

static void detail_num(struct check *k, const char *key, uint64_t v)
{
	tb_json_object_set(k->detail, key, strlen(key), tb_json_new_number((double)v));
}

static int step_receipt_and_block(struct check *k)
{
	struct tb_error e = {0};
	char p[160];
	snprintf(p, sizeof(p), "[\"%s\"]", k->tx);
	int rc = call(k->ev, "eth_getTransactionReceipt", p, &k->receipt, &e);
	if (rc < 0)
		return unknown(k, rc, &e);
	const char *bh = tb_json_string(tb_json_get(k->receipt, "blockHash"));
	if (k->receipt == NULL || k->receipt->type != TB_JSON_OBJECT || bh == NULL || strlen(bh) != 66)
		return verdict(k, TB_UNKNOWN, "transaction %s has no receipt (not mined, or no longer "
		               "on the chain); retry later", k->tx);
	if (u64_of(k->receipt, "transactionIndex", &k->tx_index) < 0)
		return verdict(k, TB_UNKNOWN, "receipt of %s has no transactionIndex", k->tx);
	snprintf(p, sizeof(p), "[\"%s\",true]", bh);
	if ((rc = call(k->ev, "eth_getBlockByHash", p, &k->block, &e)) < 0)
		return unknown(k, rc, &e);
	if (k->block == NULL || k->block->type != TB_JSON_OBJECT)
		return verdict(k, TB_UNKNOWN, "block %s is not known to the node", bh);
	if ((rc = tb_ethproof_check_header(k->block, &e)) < 0)
		return verdict(k, TB_INVALID, "block %s: %s", bh, e.msg);
	detail_str(k, "blockHash", bh);
	if (u64_of(k->block, "number", &k->number) < 0)
		return verdict(k, TB_INVALID, "block %s has no number", bh);
	detail_num(k, "blockNumber", k->number);
	return 0;
}

static int step_final(struct check *k)
{
	struct tb_error e = {0};
	uint64_t head;
	uint8_t canon[32], mine[32];
	int rc = call_u64(k->ev, "eth_blockNumber", NULL, &head, &e);
	if (rc < 0)
		return unknown(k, rc, &e);
	uint64_t depth = head >= k->number ? head - k->number : 0;
	if (depth < (uint64_t)k->ev->conf->confirmations)
		return verdict(k, TB_UNKNOWN, "block %" PRIu64 " has %" PRIu64 " confirmations, %lld "
		               "needed; retry later", k->number, depth, k->ev->conf->confirmations);
	detail_num(k, "confirmations", depth);
	if ((rc = block_hash_at(k->ev, k->number, canon, &e)) < 0)
		return unknown(k, rc, &e);
	evm_hex_fixed(tb_json_string(tb_json_get(k->block, "hash")), mine, 32);
	if (memcmp(canon, mine, 32) != 0)
		return verdict(k, TB_INVALID, "block %" PRIu64 " of the log is no longer on the "
		               "canonical chain (re-org)", k->number);
	return 0;
}

/* Root of the trie rlp(i) -> enc[i] (the transactions and receipts tries). */
static int index_root(const struct tb_buf *enc, const size_t *ends, size_t n, uint8_t root[32],
                      struct tb_error *err)
{
	struct tb_mpt_pair *pairs = calloc(n ? n : 1, sizeof(*pairs));
	uint8_t(*keys)[9] = calloc(n ? n : 1, sizeof(*keys));
	int rc = pairs && keys ? 0 : tb_error_set(err, TB_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct tb_buf kb;
		tb_buf_init(&kb, 9);
		tb_rlp_put_uint(&kb, i);
		memcpy(keys[i], kb.data, kb.len);
		pairs[i].key = keys[i];
		pairs[i].key_len = kb.len;
		tb_buf_fini(&kb);
		size_t start = i ? ends[i - 1] : 0;
		pairs[i].value = enc->data + start;
		pairs[i].value_len = ends[i] - start;
	}
	if (rc == 0)
		rc = tb_mpt_root(pairs, n, 0, root, err);
	free(pairs);
	free(keys);
	return rc;
}

/* Rebuild the transactions trie: the tx at tx_index is the one named, and its
 * signer is recovered from its own signature. */
static int step_transactions(struct check *k)
{
	const struct tb_json *txs = tb_json_get(k->block, "transactions");
	size_t n = tb_json_len(txs);
	struct tb_error e = {0};
	if (txs == NULL || txs->type != TB_JSON_ARRAY || n > EVM_MAX_BLOCK_TXS || k->tx_index >= n)
		return verdict(k, TB_INVALID, "block %" PRIu64 " has %zu transactions; index %" PRIu64
		               " named by the receipt is not among them", k->number, n, k->tx_index);
	struct tb_buf enc;
	size_t *ends = calloc(n ? n : 1, sizeof(size_t));
	tb_buf_init(&enc, 0);
	int rc = ends ? 0 : TB_ENOMEM, stop = 0;
	for (size_t i = 0; rc == 0 && !stop && i < n; i++) {
		struct tb_ethtx tx;
		uint8_t h[32], named[32];
		tb_ethtx_init(&tx);
		rc = tb_ethtx_from_json(tb_json_at(txs, i), &tx, &e);
		if (rc == 0)
			rc = tb_ethtx_encode(&tx, &enc, &e);
		if (rc == 0) {
			ends[i] = enc.len;
			tb_keccak256(enc.data + (i ? ends[i - 1] : 0), ends[i] - (i ? ends[i - 1] : 0), h);
			if (i == k->tx_index) {
				if (evm_hex_fixed(k->tx, named, 32) < 0 || memcmp(h, named, 32) != 0)
					stop = verdict(k, TB_INVALID, "transaction %" PRIu64 " of block %" PRIu64
					               " is not %s", k->tx_index, k->number, k->tx);
				else if ((rc = tb_ethtx_sender(&tx, k->signer, &e)) < 0)
					stop = verdict(k, TB_INVALID, "transaction %s: %s", k->tx, e.msg);
			}
		}
		tb_ethtx_fini(&tx);
	}
	uint8_t root[32], want[32];
	if (rc == 0 && !stop)
		rc = index_root(&enc, ends, n, root, &e);
	tb_buf_fini(&enc);
	free(ends);
	if (stop)
		return 1;
	if (rc < 0)
		return verdict(k, rc == TB_ENOMEM ? TB_UNKNOWN : TB_INVALID, "block %" PRIu64
		               " transactions: %s", k->number, e.msg);
	if (evm_hex_fixed(tb_json_string(tb_json_get(k->block, "transactionsRoot")), want, 32) < 0 ||
	    memcmp(root, want, 32) != 0) {
		char a[67];
		hex0x(root, 32, a);
		return verdict(k, TB_INVALID, "block %" PRIu64 ": transactions root mismatch: header %s, "
		               "rebuilt %s", k->number,
		               tb_json_string(tb_json_get(k->block, "transactionsRoot")), a);
	}
	return 0;
}

/* All receipts of the block: eth_getBlockReceipts, else one batch of per-tx calls. */
static int fetch_receipts(struct check *k, struct tb_error *e)
{
	char p[160];
	const char *bh = tb_json_string(tb_json_get(k->block, "hash"));
	struct tb_jsonrpc_fault f;
	snprintf(p, sizeof(p), "[\"%s\"]", bh);
	int rc = tb_jsonrpc_call(k->ev->rpc, "eth_getBlockReceipts", p, &k->receipts, &f, e);
	if (rc == 0 && k->receipts && k->receipts->type == TB_JSON_ARRAY)
		return 0;
	tb_json_free(k->receipts);
	k->receipts = NULL;
	if (rc == TB_EUNAVAIL)
		return rc;
	const struct tb_json *txs = tb_json_get(k->block, "transactions");
	size_t n = tb_json_len(txs);
	struct tb_jsonrpc_call *calls = calloc(n ? n : 1, sizeof(*calls));
	char(*params)[80] = calloc(n ? n : 1, sizeof(*params));
	if (!calls || !params)
		rc = tb_error_set(e, TB_ENOMEM, "out of memory");
	else
		rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *h = tb_json_string(tb_json_get(tb_json_at(txs, i), "hash"));
		snprintf(params[i], sizeof(params[i]), "[\"%.66s\"]", h ? h : "");
		calls[i] = (struct tb_jsonrpc_call){.method = "eth_getTransactionReceipt",
		                                    .params = params[i]};
	}
	if (rc == 0)
		rc = tb_jsonrpc_batch(k->ev->rpc, calls, n, e);
	if (rc == 0 && (k->receipts = tb_json_new_array()) == NULL)
		rc = TB_ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (calls[i].faulted || calls[i].result == NULL)
			rc = tb_error_set(e, TB_EUNAVAIL, "receipt %zu: %s", i, calls[i].fault.message);
		else if ((rc = tb_json_array_push(k->receipts, calls[i].result)) == 0)
			calls[i].result = NULL;
	}
	if (calls)
		tb_jsonrpc_calls_fini(calls, n);
	free(calls);
	free(params);
	return rc;
}

static int is_listed(const uint8_t (*list)[20], size_t n, const uint8_t a[20])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(list[i], a, 20) == 0)
			return 1;
	return 0;
}

static int step_receipts_and_log(struct check *k, struct tb_json **log_out)
{
	struct tb_error e = {0};
	int rc = fetch_receipts(k, &e);
	if (rc < 0)
		return unknown(k, rc, &e);
	if ((rc = tb_ethproof_check_receipts(k->block, k->receipts, &e)) < 0)
		return verdict(k, rc == TB_ENOMEM ? TB_UNKNOWN : TB_INVALID, "block %" PRIu64 ": %s",
		               k->number, e.msg);
	detail_str(k, "receiptsRoot", tb_json_string(tb_json_get(k->block, "receiptsRoot")));
	/* the block-wide log index is the count of logs in the receipts before ours */
	uint64_t before = 0;
	for (uint64_t i = 0; i < k->tx_index; i++)
		before += tb_json_len(tb_json_get(tb_json_at(k->receipts, i), "logs"));
	const struct tb_json *r = tb_json_at(k->receipts, k->tx_index);
	const struct tb_json *logs = tb_json_get(r, "logs");
	if (k->log_index < before || k->log_index - before >= tb_json_len(logs))
		return verdict(k, TB_INVALID, "log %" PRIu64 " is not in transaction %s (its logs are "
		               "%" PRIu64 "..%" PRIu64 ")", k->log_index, k->tx, before,
		               before + tb_json_len(logs));
	const char *st = tb_json_string(tb_json_get(r, "status"));
	if (st && strcmp(st, "0x1") != 0)
		return verdict(k, TB_INVALID, "transaction %s failed (status %s)", k->tx, st);
	const struct tb_json *log = tb_json_at(logs, (size_t)(k->log_index - before));
	const char *em = tb_json_string(tb_json_get(log, "address"));
	uint8_t emitter[20];
	char sg[43];
	if (evm_hex_fixed(em, emitter, 20) < 0)
		return verdict(k, TB_INVALID, "log %" PRIu64 " has no emitter address", k->log_index);
	hex0x(k->signer, 20, sg);
	detail_str(k, "emitter", em);
	detail_str(k, "signer", sg);
	if (k->ev->ncontracts && !is_listed(k->ev->contracts, k->ev->ncontracts, emitter))
		return verdict(k, TB_INVALID, "log %" PRIu64 " was emitted by %s, which is not a "
		               "configured contract", k->log_index, em);
	if (k->ev->nissuers && !is_listed(k->ev->issuers, k->ev->nissuers, k->signer))
		return verdict(k, TB_INVALID, "transaction %s was signed by %s, which is not an "
		               "authorised issuer", k->tx, sg);
	if (log_out && (*log_out = tb_json_clone(log)) == NULL)
		return TB_ENOMEM;
	return verdict(k, TB_VALID, "log %" PRIu64 " of transaction %s: header hash, transactions "
	               "and receipts roots rebuilt, signer %s, emitter %s, %" PRIu64 " deep",
	               k->log_index, k->tx, sg, em, k->number);
}

int evm_names_log(const struct tb_json *doc)
{
	uint8_t tx[32];
	uint64_t idx;
	return doc && doc->type == TB_JSON_OBJECT &&
	       evm_hex_fixed(tb_json_string(tb_json_get(doc, "transactionHash")), tx, 32) == 0 &&
	       u64_of(doc, "logIndex", &idx) == 0;
}

int evm_verify(struct evm *ev, const struct tb_native *rec, struct tb_proof *out,
               struct tb_json **log, struct tb_error *err)
{
	struct check k = {.ev = ev, .p = out};
	memset(out, 0, sizeof(*out));
	snprintf(out->kind, sizeof(out->kind), "evm-receipt");
	if (log)
		*log = NULL;
	k.tx = tb_json_string(tb_json_get(rec->doc, "transactionHash"));
	if (k.tx == NULL || strlen(k.tx) != 66 || u64_of(rec->doc, "logIndex", &k.log_index) < 0) {
		out->verdict = TB_INVALID;
		snprintf(out->reason, sizeof(out->reason), "record %.100s names no transactionHash "
		         "and logIndex", rec->locator);
		return 0;
	}
	if ((k.detail = tb_json_new_object()) == NULL)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	detail_str(&k, "transactionHash", k.tx);
	detail_num(&k, "logIndex", k.log_index);
	int rc = step_receipt_and_block(&k);
	if (rc == 0)
		rc = step_final(&k);
	if (rc == 0)
		rc = step_transactions(&k);
	if (rc == 0)
		rc = step_receipts_and_log(&k, log);
	tb_json_free(k.receipt);
	tb_json_free(k.block);
	tb_json_free(k.receipts);
	out->detail = k.detail;
	if (rc < 0)
		return tb_error_set(err, rc, "%s: out of memory", ev->network);
	return 0;
}

/* ---- writes ---- */

int evm_call(struct evm *ev, const uint8_t to[20], const uint8_t *data, size_t len,
             uint8_t **result, size_t *rlen, struct tb_error *err)
{
	struct tb_buf p;
	char a[43];
	struct tb_json *r = NULL;
	*result = NULL;
	hex0x(to, 20, a);
	tb_buf_init(&p, 0);
	char *h = malloc(2 * len + 1);
	if (h == NULL)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	tb_hex_encode(data, len, h);
	int rc = tb_buf_printf(&p, "[{\"to\":\"%s\",\"data\":\"0x%s\"},\"latest\"]", a, h);
	free(h);
	if (rc == 0)
		rc = call(ev, "eth_call", (const char *)p.data, &r, err);
	tb_buf_fini(&p);
	const char *s = tb_json_string(r);
	if (rc == 0 && (s == NULL || tb_hex_decode_alloc(s, strlen(s), result, rlen, err) < 0))
		rc = tb_error_set(err, TB_EUNAVAIL, "%s: eth_call answered no hex", ev->network);
	tb_json_free(r);
	return rc;
}

/* Fill the fee fields: EIP-1559 when the chain has a base fee, else legacy. */
static int set_fees(struct evm *ev, struct tb_ethtx *tx, struct tb_error *err)
{
	struct tb_json *b = NULL;
	uint64_t base, price;
	int rc = call(ev, "eth_getBlockByNumber", "[\"latest\",false]", &b, err);
	if (rc == 0 && u64_of(b, "baseFeePerGas", &base) == 0 && base < (1ULL << 60)) {
		uint64_t tip = 1000000000ULL, max = 2 * base + tip;
		tx->type = 2;
		for (int i = 0; i < 8; i++) {
			tx->max_priority[31 - i] = (uint8_t)(tip >> (8 * i));
			tx->max_fee[31 - i] = (uint8_t)(max >> (8 * i));
		}
	} else if (rc == 0 && (rc = call_u64(ev, "eth_gasPrice", NULL, &price, err)) == 0) {
		tx->type = 0;
		for (int i = 0; i < 8; i++)
			tx->gas_price[31 - i] = (uint8_t)(price >> (8 * i));
	}
	tb_json_free(b);
	return rc;
}

static int known_fault(const struct tb_jsonrpc_fault *f)
{
	return strstr(f->message, "already known") || strstr(f->message, "nonce too low") ||
	       strstr(f->message, "known transaction") || strstr(f->message, "already imported");
}

/* ---- the write journal, in the relay's store (the host's key-value space) ----
 * Keys: "nonce/<from>" the next nonce; "at/<from>/<n>" the hash signed with nonce n;
 * "tx/<hash>" its signed bytes; "sent/<idempotency key>" the hash sent for it. The
 * nonce advance, the signed bytes and the outbox row's "in flight" note commit in one
 * transaction before anything is sent, so a crash leaves either nothing or bytes
 * that are sent again. A spent nonce the node does not know is filled (the bytes
 * journalled for it, else a no-op transfer to ourselves), never skipped. */

static int kv_get_text(struct evm *ev, const char *key, char *out, size_t cap,
                       struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, cap - 1);
	int rc = ev->host->kv_get(ev->host->ctx, key, &b, err);
	if (rc == 0) {
		memcpy(out, b.data, b.len);
		out[b.len] = 0;
	}
	tb_buf_fini(&b);
	return rc;
}

static int kv_put_text(struct evm *ev, const char *key, const char *v, struct tb_error *err)
{
	return ev->host->kv_put(ev->host->ctx, key, v, v ? strlen(v) : 0, err);
}

/* The journalled nonce (0 when none); 1 if there is none. */
static int kv_nonce(struct evm *ev, uint64_t *n, struct tb_error *err)
{
	char k[64], v[32];
	hex0x(ev->from, 20, k + 6);
	memcpy(k, "nonce/", 6);
	*n = 0;
	int rc = kv_get_text(ev, k, v, sizeof(v), err);
	if (rc == 0)
		*n = strtoull(v, NULL, 10);
	return rc;
}

/* Bytes journalled under hash (raw, reset first); 1 if none. */
static int kv_tx(struct evm *ev, const char *hash, struct tb_buf *raw, struct tb_error *err)
{
	char k[80];
	snprintf(k, sizeof(k), "tx/%.66s", hash);
	return ev->host->kv_get(ev->host->ctx, k, raw, err);
}

/* Stage what a signed transaction makes true: nonce n is spent (next = n+1 unless
 * the journal is ahead), these bytes are its, and (key) they answer that key. */
static int stage_tx(struct evm *ev, uint64_t n, const struct tb_buf *raw, const char *hash,
                    const char *key, struct tb_error *err)
{
	char from[43], k[200], v[32];
	uint64_t next = 0;
	hex0x(ev->from, 20, from);
	int rc = kv_nonce(ev, &next, err);
	rc = rc == 1 ? 0 : rc;
	if (rc == 0 && next < n + 1) {
		snprintf(k, sizeof(k), "nonce/%s", from);
		snprintf(v, sizeof(v), "%" PRIu64, n + 1);
		rc = kv_put_text(ev, k, v, err);
	}
	snprintf(k, sizeof(k), "at/%s/%" PRIu64, from, n);
	rc = rc ? rc : kv_put_text(ev, k, hash, err);
	snprintf(k, sizeof(k), "tx/%s", hash);
	rc = rc ? rc : ev->host->kv_put(ev->host->ctx, k, raw->data, raw->len, err);
	if (rc == 0 && key) {
		snprintf(k, sizeof(k), "sent/%.120s", key);
		rc = kv_put_text(ev, k, hash, err);
	}
	return rc;
}

static int tx_count(struct evm *ev, const char *block, uint64_t *n, struct tb_error *err)
{
	char from[43], p[128];
	hex0x(ev->from, 20, from);
	snprintf(p, sizeof(p), "[\"%s\",\"%s\"]", from, block);
	return call_u64(ev, "eth_getTransactionCount", p, n, err);
}

/* Build and sign a call with nonce n; raw gets the signed encoding. to NULL: a
 * no-op transfer of 0 to ourselves (what fills a nonce nothing else can). */
static int build_signed(struct evm *ev, const uint8_t to[20], const uint8_t *data, size_t len,
                        uint64_t n, struct tb_buf *raw, struct tb_error *err)
{
	struct tb_ethtx tx;
	uint64_t chain;
	tb_ethtx_init(&tx);
	int rc = call_u64(ev, "eth_chainId", NULL, &chain, err);
	if (rc == 0 && ev->conf->chain_id && (uint64_t)ev->conf->chain_id != chain)
		rc = tb_error_set(err, TB_ECONFIG, "%s: node is on chain %" PRIu64 ", configured %lld",
		                  ev->network, chain, ev->conf->chain_id);
	if (rc == 0)
		rc = set_fees(ev, &tx, err);
	tx.nonce = n;
	tx.chain_id = chain;
	tx.gas = to ? (uint64_t)ev->conf->gas : 21000;
	tx.has_to = 1;
	memcpy(tx.to, to ? to : ev->from, 20);
	if (rc == 0 && to)
		rc = tb_ethtx_set_data(&tx, data, len, err);
	if (rc == 0)
		rc = tb_ethtx_sign(&tx, ev->key, err);
	if (rc == 0)
		rc = tb_ethtx_encode(&tx, raw, err);
	tb_ethtx_fini(&tx);
	return rc;
}

static void hash_of(const struct tb_buf *raw, char out[67])
{
	uint8_t h[32];
	tb_keccak256(raw->data, raw->len, h);
	hex0x(h, 32, out);
}

/* Send raw; a node that already has these bytes (or mined them) is success. */
static int broadcast(struct evm *ev, const struct tb_buf *raw, struct tb_txref *ref,
                     struct tb_error *err)
{
	hash_of(raw, ref->ref);
	struct tb_buf params;
	tb_buf_init(&params, 0);
	char *hx = malloc(2 * raw->len + 1);
	if (hx == NULL)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	tb_hex_encode(raw->data, raw->len, hx);
	tb_buf_printf(&params, "[\"0x%s\"]", hx);
	free(hx);
	struct tb_json *r = NULL;
	struct tb_jsonrpc_fault f;
	int rc = tb_jsonrpc_call(ev->rpc, "eth_sendRawTransaction", (const char *)params.data, &r,
	                         &f, err);
	tb_json_free(r);
	tb_buf_fini(&params);
	if (rc == TB_EIO && known_fault(&f)) {
		/* ours only if the chain (or pool) knows this very hash */
		char p[128];
		snprintf(p, sizeof(p), "[\"%.66s\"]", ref->ref);
		struct tb_error e2 = {0};
		rc = call(ev, "eth_getTransactionByHash", p, &r, &e2);
		if (rc == 0 && (r == NULL || r->type != TB_JSON_OBJECT))
			rc = tb_error_set(err, TB_EIO, "%s: node says \"%s\" but does not know %s: the "
			                  "nonce went to another transaction", ev->network, f.message,
			                  ref->ref);
		else if (rc < 0)
			*err = e2;
		tb_json_free(r);
	}
	return rc;
}

/* 1 if the node knows the transaction named hash (mined or pending). */
static int known_hash(struct evm *ev, const char *hash)
{
	char p[128];
	struct tb_json *r = NULL;
	snprintf(p, sizeof(p), "[\"%.66s\"]", hash);
	int known = call(ev, "eth_getTransactionByHash", p, &r, NULL) == 0 && r != NULL &&
	            r->type == TB_JSON_OBJECT;
	tb_json_free(r);
	return known;
}

/* Fill nonce n: resend what was journalled for it, else sign, journal and send a no-op. */
static int fill_nonce(struct evm *ev, uint64_t n, struct tb_error *err)
{
	char k[128], hash[80] = "", from[43];
	struct tb_buf raw;
	struct tb_txref ref;
	hex0x(ev->from, 20, from);
	snprintf(k, sizeof(k), "at/%s/%" PRIu64, from, n);
	tb_buf_init(&raw, 4 << 20);
	int rc = kv_get_text(ev, k, hash, sizeof(hash), err);
	rc = rc == 0 ? kv_tx(ev, hash, &raw, err) : rc;
	if (rc == 1) {
		tb_buf_reset(&raw);
		rc = build_signed(ev, NULL, NULL, 0, n, &raw, err);
		hash_of(&raw, hash);
		rc = rc ? rc : stage_tx(ev, n, &raw, hash, NULL, err);
		rc = rc ? rc : ev->host->kv_commit(ev->host->ctx, NULL, err);
	}
	rc = rc ? rc : broadcast(ev, &raw, &ref, err);
	tb_buf_fini(&raw);
	return rc;
}

/* An older relay kept the next nonce in state_dir: take it once, then rename it. */
static int migrate_state_dir(struct evm *ev, uint64_t *kept, char *path, size_t cap)
{
	char from[43];
	uint8_t h[32];
	char hx[65], text[200];
	*kept = 0;
	if (!ev->conf->state_dir)
		return 0;
	hex0x(ev->from, 20, from);
	snprintf(text, sizeof(text), "%s\n%s", ev->network, from);
	tb_sha256((const uint8_t *)text, strlen(text), h);
	tb_hex_encode(h, 16, hx);
	snprintf(path, cap, "%s/nonce-%s", ev->conf->state_dir, hx);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	unsigned long long v = 0;
	int ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	*kept = ok ? (uint64_t)v : 0;
	return ok;
}

#define EVM_MAX_NONCE_GAP 64

/* At start and on a stuck confirmation: nonces the journal has spent but the node
 * does not count (pending) are filled, lowest first. */
static int reconcile(struct evm *ev, struct tb_error *err)
{
	uint64_t pending, next = 0, old = 0;
	char path[4200] = "";
	int rc = tx_count(ev, "pending", &pending, err);
	rc = rc ? rc : kv_nonce(ev, &next, err);
	rc = rc == 1 ? 0 : rc;
	int migrated = rc == 0 && migrate_state_dir(ev, &old, path, sizeof(path));
	if (rc == 0 && migrated && old > next) {
		char k[64], v[32];
		snprintf(k, sizeof(k), "nonce/");
		hex0x(ev->from, 20, k + 6);
		snprintf(v, sizeof(v), "%" PRIu64, old);
		next = old;
		rc = kv_put_text(ev, k, v, err);
		rc = rc ? rc : ev->host->kv_commit(ev->host->ctx, NULL, err);
	}
	if (rc == 0 && migrated) {
		char done[4300];
		snprintf(done, sizeof(done), "%s.migrated", path);
		rename(path, done); /* read once: the store holds the nonce from now on */
	}
	if (rc || next <= pending)
		return rc;
	if (next - pending > EVM_MAX_NONCE_GAP)
		return tb_error_set(err, TB_EIO, "%s: the journal's next nonce is %" PRIu64 " but the "
		                    "node counts %" PRIu64 ": more than %d to fill; is the key used by "
		                    "another sender, or is this the wrong chain?", ev->network, next,
		                    pending, EVM_MAX_NONCE_GAP);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: nonces %" PRIu64 "..%" PRIu64 " were spent by this relay "
	         "but the node knows none of them: filling them (journalled bytes, else a no-op)",
	         ev->network, pending, next - 1);
	ev->host->event(ev->host->ctx, TB_EVENT_NONCE_GAP, msg);
	for (uint64_t n = pending; rc == 0 && n < next; n++)
		rc = fill_nonce(ev, n, err);
	return rc;
}

/* Bytes already signed for key (from the store, or once from an older state_dir). */
static int journalled(struct evm *ev, const char *key, struct tb_buf *raw, struct tb_error *err)
{
	char k[200], hash[80];
	snprintf(k, sizeof(k), "sent/%.120s", key);
	int rc = kv_get_text(ev, k, hash, sizeof(hash), err);
	return rc == 0 ? kv_tx(ev, hash, raw, err) : rc;
}

/* A fresh transaction: the next nonce, journalled with the row in flight, then sent. */
static int send_fresh(struct evm *ev, const uint8_t to[20], const uint8_t *data, size_t len,
                      const char *key, struct tb_buf *raw, struct tb_txref *ref,
                      struct tb_error *err)
{
	uint64_t n = 0, kept = 0;
	int rc = tx_count(ev, "pending", &n, err);
	if (rc == 0 && ev->host) {
		rc = kv_nonce(ev, &kept, err);
		rc = rc == 1 ? 0 : rc;
		n = kept > n ? kept : n;
	}
	rc = rc ? rc : build_signed(ev, to, data, len, n, raw, err);
	hash_of(raw, ref->ref);
	if (rc == 0 && ev->host) {
		rc = stage_tx(ev, n, raw, ref->ref, key, err);
		rc = rc ? rc : ev->host->kv_commit(ev->host->ctx, ref, err);
	}
	if (rc == 0) { /* test-only: die with the nonce spent and the bytes journalled, unsent */
		tb_fault_point("evm.nonce-spent");
		tb_fault_point("evm.before-send");
	}
	return rc ? rc : broadcast(ev, raw, ref, err);
}

int evm_send(struct evm *ev, const uint8_t to[20], const uint8_t *data, size_t len,
             const char *key, struct tb_txref *ref, struct tb_error *err)
{
	if (!ev->has_key)
		return tb_error_set(err, TB_ECONFIG, "%s: no key configured for writes", ev->network);
	struct tb_buf raw;
	int rc = 0, again = 0;
	tb_buf_init(&raw, 4 << 20);
	if (ev->host && !ev->reconciled && (rc = reconcile(ev, err)) == 0)
		ev->reconciled = 1;
	if (rc == 0 && ev->host && key) {
		rc = journalled(ev, key, &raw, err);
		again = rc == 0;
		rc = rc == 1 ? 0 : rc;
	}
	if (rc == 0 && again) {
		hash_of(&raw, ref->ref);
		if (!known_hash(ev, ref->ref)) /* known: sending again could only do harm */
			rc = broadcast(ev, &raw, ref, err);
	} else if (rc == 0) {
		rc = send_fresh(ev, to, data, len, key, &raw, ref, err);
	}
	if (rc < 0 && again && strstr(err->msg, "went to another transaction")) {
		char k[200]; /* never mined and never will be: the next try signs afresh */
		snprintf(k, sizeof(k), "sent/%.120s", key);
		struct tb_error e2;
		if (kv_put_text(ev, k, NULL, &e2) == 0)
			ev->host->kv_commit(ev->host->ctx, NULL, &e2);
	}
	tb_buf_fini(&raw);
	if (rc < 0)
		tb_error_prefix(err, "%s: write", ev->network);
	return rc;
}

/* Not mined: if the node lost our bytes, send them again; then fill any gap below. */
static int unstick(struct evm *ev, const struct tb_txref *ref, struct tb_status *out,
                   struct tb_error *err)
{
	struct tb_buf raw;
	struct tb_txref again;
	tb_buf_init(&raw, 4 << 20);
	int rc = 0;
	if (!known_hash(ev, ref->ref) && (rc = kv_tx(ev, ref->ref, &raw, err)) == 0) {
		rc = broadcast(ev, &raw, &again, err);
		if (rc == TB_EIO && strstr(err->msg, "went to another transaction")) {
			out->state = TB_FAILED; /* never mined: the relay submits it afresh */
			snprintf(out->reason, sizeof(out->reason), "%.255s", err->msg);
			rc = 0;
		}
	}
	rc = rc == 1 ? 0 : rc;
	tb_buf_fini(&raw);
	return rc ? rc : reconcile(ev, err);
}

int evm_confirm(struct evm *ev, const struct tb_txref *ref, struct tb_status *out,
                struct tb_error *err)
{
	char p[128];
	struct tb_json *r = NULL;
	uint64_t head, n;
	memset(out, 0, sizeof(*out));
	snprintf(p, sizeof(p), "[\"%.66s\"]", ref->ref);
	int rc = call(ev, "eth_getTransactionReceipt", p, &r, err);
	if (rc == 0 && (r == NULL || r->type != TB_JSON_OBJECT)) {
		out->state = TB_PENDING;
		snprintf(out->reason, sizeof(out->reason), "not mined yet");
		if (ev->host)
			rc = unstick(ev, ref, out, err);
	} else if (rc == 0 && (rc = call_u64(ev, "eth_blockNumber", NULL, &head, err)) == 0 &&
	           u64_of(r, "blockNumber", &n) == 0) {
		const char *st = tb_json_string(tb_json_get(r, "status"));
		out->confirmations = head >= n ? (unsigned)(head - n) : 0;
		if (st && strcmp(st, "0x1") != 0) {
			out->state = TB_FAILED;
			snprintf(out->reason, sizeof(out->reason), "reverted in block %" PRIu64, n);
		} else {
			out->state = out->confirmations >= ev->conf->confirmations ? TB_CONFIRMED
			                                                           : TB_PENDING;
		}
	}
	tb_json_free(r);
	return rc;
}
