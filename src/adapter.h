/* THE contract between the relay and every adapter. An adapter is a loadable
 * module that exports exactly one symbol, `tradebridge_adapter`, a const struct
 * tb_adapter_ops. The relay never reaches into an adapter; an adapter includes only
 * this header and src/lib, src/crypto headers. Adapters decode their wire format
 * into a native JSON tree and back: mapping to canonical form is data, not C.
 * Bump TB_ADAPTER_ABI on any change that breaks a built module. */
#ifndef TB_ADAPTER_H
#define TB_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/options.h"
#include "lib/error.h"
#include "lib/json.h"

#define TB_ADAPTER_ABI 2
#define TB_ADAPTER_SYMBOL "tradebridge_adapter"

struct tb_txref;

/* Events the host counts and logs for the operator (tradebridge_<name>_total). */
enum tb_host_event {
	TB_EVENT_NONCE_GAP, /* a spent nonce the node does not know: filled, never skipped */
};

/* What the relay lends a network at open: a small durable key-value space of the
 * network's own inside the relay's store. Writes are staged and become durable
 * together at kv_commit; inside submit, in the same transaction that notes the
 * outbox row as in flight under ref (from then on it is confirmed, never
 * resubmitted). Staged writes not committed when the call returns are dropped. */
struct tb_host {
	void *ctx;
	/* out gets the value (reset first); 1 = no such key. */
	int (*kv_get)(void *ctx, const char *key, struct tb_buf *out, struct tb_error *err);
	/* Stage key = val (val NULL: delete key). Keys < 128 bytes, values < 1 MiB. */
	int (*kv_put)(void *ctx, const char *key, const void *val, size_t len,
	              struct tb_error *err);
	/* Make the staged writes durable in one transaction; ref (may be NULL) as above. */
	int (*kv_commit)(void *ctx, const struct tb_txref *ref, struct tb_error *err);
	/* Count ev for this network and log msg at warning level. */
	void (*event)(void *ctx, enum tb_host_event ev, const char *msg);
};

/* One configured instance of an adapter ("pe-cadena" of adapter "cadena"). */
struct tb_network {
	const char *name;    /* the network's name in the configuration */
	const char *adapter; /* the adapter's name */
	const void *conf;    /* the adapter's options struct, filled from its options table */
	const struct tb_host *host; /* NULL outside `tradebridge run` (check-config, verify) */
};

/* Where ingest resumes: opaque text the adapter writes and reads back (a block
 * number, a Fabric height, an EDI message id). Empty = from the configured start. */
struct tb_cursor {
	char value[256];
};

enum tb_verdict {
	TB_VALID = 0,
	TB_INVALID = 1,
	TB_UNKNOWN = 3, /* could not check: retried later, never treated as invalid */
};

/* One record as the source has it, decoded into JSON. */
struct tb_native {
	char locator[256];   /* where it is at the source: "0x…tx:logIndex" */
	char doctype[64];    /* the adapter's name for what it is ("aeo.event") */
	struct tb_json *doc; /* owned by the batch */
};

struct tb_batch {
	struct tb_native *items;
	size_t len, cap;
	struct tb_cursor next; /* the cursor to store once every item is safely kept */
	int64_t behind;        /* units (blocks, messages) ready at the source past the cursor
	                        * polled from, this batch included; -1 (as the relay sets it) =
	                        * unknown. Shown as the source-lag metric. */
};

struct tb_proof {
	enum tb_verdict verdict;
	char kind[32];        /* "evm-receipt", "oa-v2", "fabric-endorsement", ... */
	char reason[512];     /* why, for INVALID and UNKNOWN; a summary for VALID */
	struct tb_json *detail; /* what was checked, for the record; may be NULL */
};

struct tb_txref {
	char ref[256]; /* the destination's reference: a tx hash, an EDI control number */
};

enum tb_delivery {
	TB_PENDING,
	TB_CONFIRMED,
	TB_FAILED,
	TB_SUPERSEDED, /* the destination holds a later version (reason names it): not sent */
};

struct tb_status {
	enum tb_delivery state;
	unsigned confirmations;
	char reason[256];
};

struct tb_adapter_ops {
	unsigned abi;            /* TB_ADAPTER_ABI */
	const char *name;        /* "ethereum", "cadena", "fabric", "tradetrust", "edi", "relay" */
	const char *summary;     /* one line */
	const struct tb_option *options; /* ends with TB_OPT_END */
	size_t conf_size;        /* size of the struct the options fill */
	int (*open)(const struct tb_network *net, void **state, struct tb_error *err);
	/* TB_EREORG: the source no longer has the history `from` points into (the message
	 * names what changed); the relay then looks for the newest stored cursor that poll
	 * still accepts. */
	int (*poll)(void *state, const struct tb_cursor *from, struct tb_batch *out,
	            struct tb_error *err);
	int (*verify)(void *state, const struct tb_native *rec, struct tb_proof *out,
	              struct tb_error *err);
	int (*submit)(void *state, const struct tb_native *rec, const char *idempotency_key,
	              struct tb_txref *out, struct tb_error *err);
	int (*confirm)(void *state, const struct tb_txref *ref, struct tb_status *out,
	               struct tb_error *err);
	void (*close)(void *state);
};

/* Helpers an adapter may call (they live in the tradebridge binary). */
int tb_batch_push(struct tb_batch *b, const char *locator, const char *doctype,
                  struct tb_json *doc);
void tb_batch_fini(struct tb_batch *b);
void tb_proof_fini(struct tb_proof *p);

#endif
