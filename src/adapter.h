/* THE contract between the relay and every adapter (contract v2). An adapter is a
 * loadable module that exports exactly one symbol, `tradebridge_adapter`, a const
 * struct tb_adapter_ops, and links libtradebridge (src/lib, src/crypto, src/evm).
 * The relay never reaches into an adapter. Adapters decode their wire format into a
 * native JSON tree and back: mapping to and from canonical form is data, not C.
 * Bump TB_ADAPTER_ABI on any change that breaks a built module. */
#ifndef TB_ADAPTER_H
#define TB_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/options.h"
#include "lib/error.h"
#include "lib/json.h"
#include "lib/log.h"

#define TB_ADAPTER_ABI 3
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
	const struct tb_log *log;   /* always set: lines carry the network's name; adapters
	                             * log only through it (tb_log_emit), never to stdio */
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

/* What submit is given: one record routed to this network, saying what it is. */
enum tb_form {
	TB_FORM_CANONICAL, /* a tradebridge/1 record: schema, type, key, version, source, data */
	TB_FORM_NATIVE,    /* the adapter's own document, made by the route's reverse mapping */
};

struct tb_outgoing {
	const char *record_id;       /* "sha256:<hex>" of the record as the relay keeps it */
	const char *record_type;     /* canonical type ("aeo.status", "wco.declaration") */
	enum tb_form form;
	const struct tb_json *doc;   /* borrowed for the call */
	const char *idempotency_key; /* the same on every attempt of this delivery */
};

enum tb_delivery {
	TB_PENDING,
	TB_CONFIRMED,
	TB_FAILED,     /* may clear: retried with backoff up to the retry policy */
	TB_SUPERSEDED, /* the destination holds a later version (reason names it): not sent */
	TB_REJECTED,   /* final: the destination refused it (reason says why); never retried */
};

struct tb_status {
	enum tb_delivery state;
	unsigned confirmations;
	char reason[256];
	/* The destination's answer (a CUSRES, a CONTRL, a validation result), optional
	 * with any state: kept as a record of its own from this network, of doctype
	 * reply_type, linked to the record it answers and routed like any other. The
	 * relay takes ownership. */
	struct tb_json *reply;
	char reply_type[64];
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
	/* Optional: the batch polled up to `done` and that cursor are durable in the
	 * store (a mailbox acknowledges its messages here). A crash before ack re-offers
	 * the batch; the relay stores it once. */
	void (*ack)(void *state, const struct tb_cursor *done);
	int (*verify)(void *state, const struct tb_native *rec, struct tb_proof *out,
	              struct tb_error *err);
	/* st arrives TB_PENDING: leave it to have confirm asked about ref later, or answer
	 * at once (CONFIRMED, REJECTED with reason and maybe reply). A TB_E* return is a
	 * fault: TB_EINVAL is final, others are retried. */
	int (*submit)(void *state, const struct tb_outgoing *rec, struct tb_txref *ref,
	              struct tb_status *st, struct tb_error *err);
	int (*confirm)(void *state, const struct tb_txref *ref, struct tb_status *out,
	               struct tb_error *err);
	void (*close)(void *state);
	/* Optional, without a network: 1 if this adapter can check doc (as `tradebridge
	 * verify FILE` is given it), its doctype written to doctype; 0 if not. */
	int (*recognise)(const struct tb_json *doc, char *doctype, size_t size);
};

/* Helpers an adapter may call (they live in the tradebridge binary). */
int tb_batch_push(struct tb_batch *b, const char *locator, const char *doctype,
                  struct tb_json *doc);
void tb_batch_fini(struct tb_batch *b);
void tb_proof_fini(struct tb_proof *p);

#endif
