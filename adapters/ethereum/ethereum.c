/* ethereum: the generic EVM adapter. Ingests the logs of configured contracts and
 * topics at `confirmations` depth, verifies each one live (header hash, transactions
 * and receipts tries, signer, emitter), and writes raw calls ({"to","data"}) signed
 * with the network's key. Like every adapter, its only global symbol is
 * `tradebridge_adapter`; the EVM core (evm.c) is compiled in, not exported. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "evm/evm.h"
#include "lib/hex.h"

struct eth_conf {
	struct evm_conf evm;
};

static const struct tb_option eth_options[] = {
	EVM_OPTIONS(struct eth_conf),
	TB_OPT_END,
};

static int eth_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	struct evm *ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return tb_error_set(err, TB_ENOMEM, "ethereum: out of memory");
	const struct eth_conf *c = net->conf;
	int rc = evm_open(ev, net->name, &c->evm, err);
	if (rc < 0) {
		free(ev);
		return rc;
	}
	ev->host = net->host;
	*state = ev;
	return 0;
}

static int eth_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
                    struct tb_error *err)
{
	return evm_poll(state, from, out, err);
}

static int eth_verify(void *state, const struct tb_native *rec, struct tb_proof *out,
                      struct tb_error *err)
{
	return evm_verify(state, rec, out, NULL, err);
}

/* rec->doc: {"to": "0x<20 bytes>", "data": "0x..."} */
static int eth_submit(void *state, const struct tb_outgoing *rec, struct tb_txref *out,
                      struct tb_status *st, struct tb_error *err)
{
	struct evm *ev = state;
	uint8_t to[20], *data = NULL;
	size_t n = 0;
	(void)st; /* confirmed later, by receipt */
	if (rec->form != TB_FORM_NATIVE)
		return tb_error_set(err, TB_EINVAL, "%s: the ethereum adapter writes native "
		                    "{\"to\", \"data\"} documents, not canonical %s records: give "
		                    "the route a reverse mapping", ev->network, rec->record_type);
	const char *d = tb_json_string(tb_json_get(rec->doc, "data"));
	if (evm_hex_fixed(tb_json_string(tb_json_get(rec->doc, "to")), to, 20) < 0 || d == NULL ||
	    tb_hex_decode_alloc(d, strlen(d), &data, &n, err) < 0)
		return tb_error_set(err, TB_EINVAL, "%s: a write is {\"to\": address, \"data\": hex}",
		                    ev->network);
	int rc = evm_send(ev, to, data, n, rec->idempotency_key, out, err);
	free(data);
	return rc;
}

static int eth_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                       struct tb_error *err)
{
	return evm_confirm(state, ref, out, err);
}

static void eth_close(void *state)
{
	if (state) {
		evm_close(state);
		free(state);
	}
}

/* A log locator: {"transactionHash", "logIndex"}, as `tradebridge verify FILE`
 * is given one (or as poll's evm.log records carry them). */
static int eth_recognise(const struct tb_json *doc, char *doctype, size_t size)
{
	if (!evm_names_log(doc))
		return 0;
	snprintf(doctype, size, "evm.log");
	return 1;
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI,
	.name = "ethereum",
	.summary = "EVM chains over JSON-RPC: confirmed logs with receipt proofs, signed writes",
	.options = eth_options,
	.conf_size = sizeof(struct eth_conf),
	.open = eth_open,
	.poll = eth_poll,
	.verify = eth_verify,
	.submit = eth_submit,
	.confirm = eth_confirm,
	.close = eth_close,
	.recognise = eth_recognise,
};
