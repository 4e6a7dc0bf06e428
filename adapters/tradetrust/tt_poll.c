/* Ingest from a document store: poll reads DocumentIssued / DocumentRevoked logs
 * (eth_getLogs, bounded block ranges, only blocks with the configured
 * confirmations) and hands each one on as a native event; verify of such an event
 * re-reads isIssued / isRevoked for its hash, so an event is VALID only while the
 * chain still says so. Invariant: the cursor (next block, decimal) never passes a
 * block whose logs were not all pushed into the batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evm/abi.h"
#include "crypto/secp256k1.h"
#include "lib/hex.h"
#include "tt_ctx.h"
#include "tt_poll.h"

#define TT_MAX_LOGS 10000

static const char *const event_sig[2] = {"DocumentIssued(bytes32)", "DocumentRevoked(bytes32)"};

static int hex_topic(const char *sig, char out[67])
{
	uint8_t t[32];
	tb_abi_topic(sig, t);
	out[0] = '0';
	out[1] = 'x';
	tb_hex_encode(t, 32, out + 2);
	return 0;
}

static int quantity(struct tb_jsonrpc *rpc, const char *method, uint64_t *v, struct tb_error *err)
{
	struct tb_json *r = NULL;
	int rc = tb_jsonrpc_call(rpc, method, NULL, &r, NULL, err);
	if (rc == 0)
		rc = tb_jsonrpc_quantity(r, v, err);
	tb_json_free(r);
	return rc == TB_EIO ? TB_EUNAVAIL : rc;
}

/* One log as a native event; TB_EINVAL when the node sent something malformed. */
static int push_log(const struct tb_json *log, struct tb_batch *out, struct tb_error *err)
{
	const struct tb_json *topics = tb_json_get(log, "topics");
	const char *t0 = tb_json_string(tb_json_at(topics, 0));
	const char *doc = tb_json_string(tb_json_at(topics, 1));
	const char *tx = tb_json_string(tb_json_get(log, "transactionHash"));
	const char *addr = tb_json_string(tb_json_get(log, "address"));
	uint64_t block, idx;
	char want[67], locator[96];
	int which = -1;
	for (int i = 0; i < 2; i++)
		if (t0 && hex_topic(event_sig[i], want) == 0 && strcasecmp(t0, want) == 0)
			which = i;
	if (which < 0 || !doc || strlen(doc) != 66 || !tx || strlen(tx) != 66 || !addr ||
	    tb_jsonrpc_quantity(tb_json_get(log, "blockNumber"), &block, err) ||
	    tb_jsonrpc_quantity(tb_json_get(log, "logIndex"), &idx, err))
		return tb_error_set(err, TB_EINVAL, "tradetrust: eth_getLogs returned a log that is "
		                    "not a DocumentIssued/DocumentRevoked event");
	struct tb_json *o = tb_json_new_object();
	const char *ev = which == 0 ? "DocumentIssued" : "DocumentRevoked";
	tb_json_object_set(o, "event", 5, tb_json_new_string(ev, strlen(ev)));
	tb_json_object_set(o, "documentStore", 13, tb_json_new_string(addr, strlen(addr)));
	tb_json_object_set(o, "document", 8, tb_json_new_string(doc, 66));
	tb_json_object_set(o, "blockNumber", 11, tb_json_new_number((double)block));
	tb_json_object_set(o, "transactionHash", 15, tb_json_new_string(tx, 66));
	tb_json_object_set(o, "logIndex", 8, tb_json_new_number((double)idx));
	snprintf(locator, sizeof locator, "%s:%llu", tx, (unsigned long long)idx);
	return tb_batch_push(out, locator, "oa.document-store.event", o);
}

static int get_logs(struct tb_jsonrpc *rpc, const struct tt_conf *conf, uint64_t from,
                    uint64_t to, struct tb_batch *out, struct tb_error *err)
{
	char t0[67], t1[67], params[512];
	hex_topic(event_sig[0], t0);
	hex_topic(event_sig[1], t1);
	snprintf(params, sizeof params,
	         "[{\"fromBlock\":\"0x%llx\",\"toBlock\":\"0x%llx\",\"address\":\"%s\","
	         "\"topics\":[[\"%s\",\"%s\"]]}]",
	         (unsigned long long)from, (unsigned long long)to, conf->document_store, t0, t1);
	struct tb_json *logs = NULL;
	int rc = tb_jsonrpc_call(rpc, "eth_getLogs", params, &logs, NULL, err);
	if (rc)
		return rc == TB_EIO ? TB_EUNAVAIL : rc;
	if (!logs || logs->type != TB_JSON_ARRAY || tb_json_len(logs) > TT_MAX_LOGS)
		rc = tb_error_set(err, TB_EINVAL, "tradetrust: eth_getLogs answered %s",
		                  logs && logs->type == TB_JSON_ARRAY ? "too many logs" : "no list");
	for (size_t i = 0; rc == 0 && i < tb_json_len(logs); i++)
		rc = push_log(tb_json_at(logs, i), out, err);
	tb_json_free(logs);
	return rc;
}

int tt_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
            struct tb_error *err)
{
	const struct tt_conf *conf = state;
	uint8_t a[20];
	if (!conf->rpc || tt_address(conf->document_store, a) != 0)
		return tb_error_set(err, TB_ECONFIG, "tradetrust: poll needs \"rpc\" and a "
		                    "\"document_store\" address (0x + 40 hex digits)");
	char *end;
	uint64_t start = from && from->value[0] ? strtoull(from->value, &end, 10)
	                                        : (uint64_t)conf->start_block;
	if (from && from->value[0] && *end)
		return tb_error_set(err, TB_EINVAL, "tradetrust: cursor \"%.32s\" is not a block "
		                    "number", from->value);
	struct tb_jsonrpc *rpc = NULL;
	struct tb_http_options ho = {.timeout_ms = conf->timeout, .max_attempts = 1};
	const char *urls[] = {conf->rpc};
	uint64_t head;
	int rc = tb_jsonrpc_new(&rpc, urls, 1, &ho, err);
	rc = rc ? rc : quantity(rpc, "eth_blockNumber", &head, err);
	snprintf(out->next.value, sizeof out->next.value, "%llu", (unsigned long long)start);
	if (rc == 0 && head >= (uint64_t)conf->confirmations &&
	    start <= head - (uint64_t)conf->confirmations) {
		uint64_t safe = head - (uint64_t)conf->confirmations;
		uint64_t last = start + (uint64_t)conf->max_blocks - 1;
		last = last < safe ? last : safe;
		rc = get_logs(rpc, conf, start, last, out, err);
		if (rc == 0)
			snprintf(out->next.value, sizeof out->next.value, "%llu",
			         (unsigned long long)last + 1);
	}
	if (rpc)
		tb_jsonrpc_free(rpc);
	return rc;
}
