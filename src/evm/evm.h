/* The EVM core shared by the ethereum and cadena adapters (compiled into each
 * module; never exported). Ingest takes logs only at `confirmations` depth, from a
 * cursor "NUMBER:BLOCKHASH" that is re-checked against the chain before use; verify
 * rebuilds the header hash, the transactions and receipts tries, the signer and the
 * emitter. Invariant: a node that cannot be reached yields UNKNOWN (or TB_EUNAVAIL
 * from poll, cursor unchanged), never INVALID and never a record. */
#ifndef TB_EVM_H
#define TB_EVM_H

#include <stdint.h>

#include "adapter.h"
#include "lib/jsonrpc.h"

#define EVM_MAX_RANGE 10000   /* blocks in one eth_getLogs */
#define EVM_MAX_LIST 64       /* contracts, topics, issuers */
#define EVM_MAX_LOGS 10000    /* logs taken in one poll */
#define EVM_MAX_BLOCK_TXS 20000

struct evm_conf {
	char *rpc;
	struct tb_strlist rpc_fallback;
	struct tb_strlist contracts; /* emitters whose logs are taken */
	struct tb_strlist topics;    /* topic-0 values; empty = any */
	struct tb_strlist issuers;   /* authorised transaction signers; empty = any */
	long long confirmations;
	long long max_range;
	long long start_block;
	long long timeout;           /* per request, ms */
	char *key;                   /* hex secret key for writes (SECRET) */
	long long chain_id;          /* 0 = ask the node */
	long long gas;
	char *state_dir;             /* retired journal, read once (the store keeps it now) */
};

/* The options every EVM adapter shares, spliced into each module's table. */
#define EVM_OPTIONS(type)                                                                        \
	{TB_OPT_STRING, "rpc", NULL, TB_OPT_REQUIRED, offsetof(type, evm.rpc),                      \
	 "JSON-RPC endpoint URL", 0, 0},                                                             \
	{TB_OPT_STRLIST, "rpc_fallback", "[]", 0, offsetof(type, evm.rpc_fallback),                 \
	 "more endpoints, tried in order when the previous one does not answer", 0, 0},              \
	{TB_OPT_STRLIST, "contracts", "[]", 0, offsetof(type, evm.contracts),                       \
	 "addresses whose logs are ingested; a log from any other emitter is INVALID", 0, 0},       \
	{TB_OPT_STRLIST, "topics", "[]", 0, offsetof(type, evm.topics),                             \
	 "topic-0 hashes to ingest (empty: all)", 0, 0},                                             \
	{TB_OPT_STRLIST, "issuers", "[]", 0, offsetof(type, evm.issuers),                           \
	 "authorised transaction signers (empty: any signer)", 0, 0},                               \
	{TB_OPT_INT, "confirmations", "12", 0, offsetof(type, evm.confirmations),                   \
	 "blocks on top of a log's block before it is taken", 0, 100000},                           \
	{TB_OPT_INT, "max_range", "1000", 0, offsetof(type, evm.max_range),                         \
	 "blocks per eth_getLogs request", 1, EVM_MAX_RANGE},                                        \
	{TB_OPT_INT, "start_block", "0", 0, offsetof(type, evm.start_block),                        \
	 "first block when there is no cursor", 0, 1LL << 53},                                       \
	{TB_OPT_DURATION, "timeout", "\"10s\"", 0, offsetof(type, evm.timeout),                     \
	 "per JSON-RPC request", 100, 600000},                                                       \
	{TB_OPT_SECRET, "key", NULL, 0, offsetof(type, evm.key),                                    \
	 "hex secp256k1 key that signs writes (set it from the environment)", 0, 0},                 \
	{TB_OPT_INT, "chain_id", "0", 0, offsetof(type, evm.chain_id),                              \
	 "EIP-155 chain id for writes (0: ask the node, and check it)", 0, 1LL << 53},               \
	{TB_OPT_INT, "gas", "500000", 0, offsetof(type, evm.gas), "gas limit of writes", 21000,     \
	 30000000},                                                                                  \
	{TB_OPT_STRING, "state_dir", NULL, 0, offsetof(type, evm.state_dir),                        \
	 "retired: an older relay's write journal, whose next nonce is read once into the store",   \
	 0, 0}

struct evm {
	const struct evm_conf *conf;
	const char *network;
	struct tb_jsonrpc *rpc;
	uint8_t contracts[EVM_MAX_LIST][20];
	size_t ncontracts;
	uint8_t issuers[EVM_MAX_LIST][20];
	size_t nissuers;
	int has_key;
	uint8_t key[32];
	uint8_t from[20];
	const struct tb_host *host; /* the write journal; NULL: writes are not journalled */
	int reconciled;             /* the journal's nonces were checked against the node */
};

int evm_open(struct evm *ev, const char *network, const struct evm_conf *conf,
             struct tb_error *err);
void evm_close(struct evm *ev);

/* Append the confirmed logs after cursor `from` to out (doc = the log object). */
int evm_poll(struct evm *ev, const struct tb_cursor *from, struct tb_batch *out,
             struct tb_error *err);
/* Verify the log rec->doc names (transactionHash, logIndex) live; fills out. On
 * VALID, *log (may be NULL) gets a clone of the verified log object. */
int evm_verify(struct evm *ev, const struct tb_native *rec, struct tb_proof *out,
               struct tb_json **log, struct tb_error *err);
/* 1 if doc names a log evm_verify can check: a 32-byte 0x transactionHash and a
 * logIndex (number or quantity). For recognise. */
int evm_names_log(const struct tb_json *doc);
/* Send a call to `to` signed with the configured key; ref gets the tx hash. With a
 * host, the signed bytes (per idempotency key), the nonce advance and the outbox row
 * in flight commit together before sending; a retry with the same key resends the
 * same bytes (unless the node already knows their hash, then nothing is sent), and
 * journalled nonces the node does not know are filled first, never skipped. "already
 * known" / "nonce too low" are success only when the node knows this very hash. */
int evm_send(struct evm *ev, const uint8_t to[20], const uint8_t *data, size_t len,
             const char *key, struct tb_txref *ref, struct tb_error *err);
/* eth_call to `to`; *result is the returned bytes (free()). */
int evm_call(struct evm *ev, const uint8_t to[20], const uint8_t *data, size_t len,
             uint8_t **result, size_t *rlen, struct tb_error *err);
int evm_confirm(struct evm *ev, const struct tb_txref *ref, struct tb_status *out,
                struct tb_error *err);

/* Helpers: "0x" + hex of p into a malloc'd string; parse 0x + 2n hex digits. */
int evm_hex_fixed(const char *s, uint8_t *out, size_t n);

#endif
