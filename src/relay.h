/* The relay object: networks (opened adapters), routes, the store and the key,
 * and one step of the loop ingest -> verify -> translate -> policy -> outbox ->
 * deliver -> confirm -> receipt. Invariant: a source cursor is written in the
 * same transaction as the records and outbox rows of the batch it ends, so it
 * never moves past a record that is not safely stored; UNKNOWN stops the batch;
 * a source's ack comes only after that commit. A destination's REJECTED is final
 * (receipt "rejected", never retried); its reply is a record of its network,
 * linked to the one it answers, kept in the round's transaction and routed. */
#ifndef TB_RELAY_H
#define TB_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/log.h"
#include "receipt.h"
#include "store/store.h"

#define TB_RELAY_MAX_NETWORKS 32
#define TB_RELAY_MAX_ROUTES 64
#define TB_RELAY_LATENCY_BUCKETS 12

/* Where the lead wires the mapping engine and the sharing policy. */
struct tb_relay_hooks {
	void *ctx;
	/* native -> canonical record. NULL: the record is {"type","key","source","data"}
	 * built from the native record as is. TB_EINVAL or TB_ELIMIT: the record is kept
	 * INVALID with err's message as its reason (and *out, if set, as its body), never
	 * routed; the batch goes on. */
	int (*translate)(void *ctx, const char *network, const struct tb_native *in,
	                 const struct tb_proof *proof, struct tb_json **out, struct tb_error *err);
	/* What destination may receive of rec: *out = the (filtered) copy to send, or
	 * NULL = not sent. A NULL hook denies everything (default deny). */
	int (*policy)(void *ctx, const char *destination, const struct tb_json *rec,
	              struct tb_json **out, struct tb_error *err);
	/* The destination's native form of rec (what policy let through), just before
	 * submit: *native set = submitted as TB_FORM_NATIVE; NULL (or a NULL hook) = the
	 * canonical record is. A failure is final for the row (TB_EINVAL). */
	int (*outgoing)(void *ctx, const char *destination, const struct tb_json *rec,
	                struct tb_json **native, struct tb_error *err);
};

struct tb_relay_config {
	const char *store_path;
	uint8_t key[32];              /* the relay's signing key (copied, wiped on free) */
	struct tb_retry_policy retry; /* zero = 8 attempts, 1 s base, 5 min cap */
	int64_t lease_ms;             /* zero = 30 s */
	int64_t confirm_ms;           /* a pending confirmation is asked again after; 0 = 1 s */
	size_t claim_max;             /* outbox rows per delivery round; zero = 64 */
	int64_t outbox_high_water;    /* ingest pauses while this many rows are pending; 0 = 10000 */
	struct tb_log *log;           /* faults, stalls and re-orgs; NULL = stderr (borrowed) */
	int64_t log_every_ms;         /* a fault that repeats is logged again after; 0 = 60 s */
	int reorg_auto;               /* 1: after a deep re-org, resume from the common ancestor
	                               * at once; 0: wait for tradebridge cursor reset */
};

/* Called after each receipt is committed (for the bus); json is the stored text. */
typedef void (*tb_relay_receipt_fn)(void *ctx, const struct tb_receipt *r, const char *json);

struct tb_relay_counts {
	uint64_t ingested, verified, invalid, unknown, delivered, failed, dead, rejected, replies;
};

struct tb_relay;

int tb_relay_new(struct tb_relay **out, const struct tb_relay_config *cfg, struct tb_error *err);
void tb_relay_free(struct tb_relay *r);
/* Add a network whose adapter state the caller opened (and closes after free). */
int tb_relay_add_network(struct tb_relay *r, const char *name, const struct tb_adapter_ops *ops,
                         void *state, struct tb_error *err);
/* Records ingested on from are offered (through the policy) to to. */
int tb_relay_add_route(struct tb_relay *r, const char *from, const char *to, struct tb_error *err);
void tb_relay_set_hooks(struct tb_relay *r, const struct tb_relay_hooks *h);
/* Where the loop logs what an operator must see (borrowed; NULL: nowhere). */
void tb_relay_set_log(struct tb_relay *r, const struct tb_log *log);
/* The host (journal, events) to give the adapter of network at open; owned by r,
 * valid until tb_relay_free. NULL when out of memory or networks. */
const struct tb_host *tb_relay_host(struct tb_relay *r, const char *network);
void tb_relay_on_receipt(struct tb_relay *r, tb_relay_receipt_fn fn, void *ctx);

/* Poll one batch from network and keep it; *taken = records stored (0 when the
 * outbox is over its high-water mark or an item was UNKNOWN). */
int tb_relay_ingest(struct tb_relay *r, const char *network, size_t *taken, struct tb_error *err);
/* One delivery round of the rows due at now_ms; *delivered = receipts written. */
int tb_relay_deliver(struct tb_relay *r, int64_t now_ms, size_t *delivered,
                     struct tb_error *err);
/* Ingest from every network that is a route's source, then deliver; returns the
 * first error after doing all it could (UNKNOWN verdicts are not errors). */
int tb_relay_step(struct tb_relay *r, size_t *work, struct tb_error *err);
/* Step until *stop is set (or a step fails: returned), sleeping idle_ms when idle. */
int tb_relay_run(struct tb_relay *r, volatile sig_atomic_t *stop, int idle_ms,
                 struct tb_error *err);

/* Re-drive dead letters (id 0 = all) so they are delivered again; *count = rows. */
int tb_relay_redrive(struct tb_relay *r, int64_t id, int *count, struct tb_error *err);
/* The store the relay writes (borrowed). */
struct tb_store *tb_relay_store(struct tb_relay *r);
void tb_relay_counts(struct tb_relay *r, struct tb_relay_counts *out);
/* Prometheus text exposition of the counters, the store's depths and latency. */
int tb_relay_metrics_text(struct tb_relay *r, struct tb_buf *out, struct tb_error *err);
/* NULL while the relay can do its work; otherwise a short reason (static text, no
 * detail: /readyz is open). Safe from any thread. */
const char *tb_relay_not_ready(struct tb_relay *r);
int64_t tb_relay_now_ms(void);

#endif
