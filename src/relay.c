/* The relay loop. One thread drives it (tb_relay_step); other threads (admin
 * API) only read the counters, under the mutex. Invariants: a batch's records,
 * outbox rows and cursor commit together or not at all; a destination gets the
 * same idempotency key on every attempt; INVALID records (a failed proof, or a
 * translate hook's TB_EINVAL or TB_ELIMIT) are kept with their reasons, never
 * routed; one row's trouble (even its network gone) never abandons the rest of a
 * round; ack follows a committed batch, never precedes it; a rejection ends its
 * row with a receipt and is never retried. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "crypto/hash.h"
#include "lib/fault.h"
#include "lib/hex.h"
#include "lib/json_internal.h" /* tb_json_utf8_next: a destination's text made receipt-safe */
#include "lib/log.h"
#include "relay.h"

/* A fault that repeats (a source down, a full disk) is logged when it starts or
 * changes kind, then at most once per log_every_ms with how often it came back
 * meanwhile; its end is logged too. Only the loop thread touches one. */
struct fault {
	int code;            /* 0: not failing */
	int64_t since_ms, logged_ms;
	uint64_t count, unlogged;
};

#define HOST_MAX_STAGED 64
#define HOST_MAX_KEY 128
#define HOST_MAX_VALUE (1 << 20)
#define AGES_EVERY_MS 1000

struct net {
	char name[64];
	const struct tb_adapter_ops *ops;
	void *state;
	uint64_t ingested, verified, invalid, unknown, delivered, dead, failed, superseded,
		ingest_errors, rejected, replies;
	int64_t lag;               /* units ready at the source past the cursor; -1 = unknown */
	struct fault ingest_fault, deliver_fault, confirm_fault;
	struct tb_cursor reorg_at; /* the dropped cursor a re-org was handled for */
};

struct staged {
	char key[HOST_MAX_KEY];
	uint8_t *val; /* NULL: delete */
	size_t len;
};

/* The host a network's adapter gets at open (adapter.h struct tb_host). */
struct hostctx {
	struct tb_host host;
	struct tb_relay *r;
	char network[64];
	struct staged staged[HOST_MAX_STAGED];
	size_t n_staged;
	uint64_t nonce_gaps; /* under r->mu */
};

struct route {
	int from, to;
};

static const int64_t latency_bounds[TB_RELAY_LATENCY_BUCKETS - 1] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

struct tb_relay {
	struct tb_store store;
	uint8_t key[32];
	struct tb_retry_policy retry;
	int64_t lease_ms, high_water, confirm_ms;
	size_t claim_max;
	struct net nets[TB_RELAY_MAX_NETWORKS];
	size_t n_nets;
	struct route routes[TB_RELAY_MAX_ROUTES];
	size_t n_routes;
	struct tb_relay_hooks hooks;
	tb_relay_receipt_fn on_receipt;
	void *on_receipt_ctx;
	const struct tb_log *log;
	struct tb_log own_log;
	int64_t log_every_ms;
	int reorg_auto;
	int store_rc;       /* the first store failure of the current ingest or round */
	struct fault store_fault, round_fault;
	struct hostctx *hosts[TB_RELAY_MAX_NETWORKS];
	size_t n_hosts;
	int64_t cur_row;      /* the outbox row being submitted (for kv_commit), or 0 */
	const char *cur_dest; /* its destination */
	int64_t ages_ms;      /* when ages was last read */
	pthread_mutex_t mu; /* guards what follows */
	int store_down;
	uint64_t store_errors;
	struct tb_store_pending ages[TB_RELAY_MAX_NETWORKS];
	size_t n_ages;
	int64_t pending, dead_total, receipts;
	uint64_t latency[TB_RELAY_LATENCY_BUCKETS];
	double latency_sum_s;
	uint64_t latency_count;
};

int64_t tb_relay_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void defaults(struct tb_relay *r, const struct tb_relay_config *cfg)
{
	r->retry = cfg->retry;
	if (r->retry.max_attempts <= 0)
		r->retry.max_attempts = 8;
	if (r->retry.base_ms <= 0)
		r->retry.base_ms = 1000;
	if (r->retry.max_ms <= 0)
		r->retry.max_ms = 300000;
	r->lease_ms = cfg->lease_ms > 0 ? cfg->lease_ms : 30000;
	r->confirm_ms = cfg->confirm_ms > 0 ? cfg->confirm_ms : 1000;
	r->claim_max = cfg->claim_max > 0 ? cfg->claim_max : 64;
	if (r->claim_max > 1024)
		r->claim_max = 1024;
	r->high_water = cfg->outbox_high_water > 0 ? cfg->outbox_high_water : 10000;
	r->log_every_ms = cfg->log_every_ms > 0 ? cfg->log_every_ms : 60000;
	r->reorg_auto = cfg->reorg_auto;
	r->log = cfg->log;
	if (!r->log) {
		tb_log_init(&r->own_log, stderr, "relay", TB_LOG_INFO, TB_LOG_AUTO);
		r->log = &r->own_log;
	}
}

int tb_relay_new(struct tb_relay **out, const struct tb_relay_config *cfg, struct tb_error *err)
{
	struct tb_relay *r = calloc(1, sizeof *r);
	if (!r)
		return tb_error_set(err, TB_ENOMEM, "relay: out of memory");
	defaults(r, cfg);
	memcpy(r->key, cfg->key, 32);
	pthread_mutex_init(&r->mu, NULL);
	int rc = tb_store_open(&r->store, cfg->store_path, 0, err);
	struct tb_store_stats s;
	if (rc == 0)
		rc = r->store.ops->stats(r->store.state, &s, err);
	if (rc != 0) {
		tb_relay_free(r);
		return rc;
	}
	r->pending = s.pending;
	r->dead_total = s.dead;
	r->receipts = s.receipts;
	*out = r;
	return 0;
}

void tb_relay_free(struct tb_relay *r)
{
	if (!r)
		return;
	tb_store_close(&r->store);
	for (size_t i = 0; i < r->n_hosts; i++) {
		for (size_t k = 0; k < r->hosts[i]->n_staged; k++)
			free(r->hosts[i]->staged[k].val);
		free(r->hosts[i]);
	}
	explicit_bzero(r->key, sizeof r->key);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static int find_net(const struct tb_relay *r, const char *name)
{
	for (size_t i = 0; i < r->n_nets; i++)
		if (strcmp(r->nets[i].name, name) == 0)
			return (int)i;
	return -1;
}

int tb_relay_add_network(struct tb_relay *r, const char *name, const struct tb_adapter_ops *ops,
                         void *state, struct tb_error *err)
{
	if (r->n_nets == TB_RELAY_MAX_NETWORKS)
		return tb_error_set(err, TB_ELIMIT, "relay: more than %d networks",
		                    TB_RELAY_MAX_NETWORKS);
	if (strlen(name) >= sizeof r->nets[0].name || find_net(r, name) >= 0)
		return tb_error_set(err, TB_ECONFIG, "relay: network \"%s\": name too long or "
		                    "already used", name);
	struct net *n = &r->nets[r->n_nets++];
	memset(n, 0, sizeof *n);
	n->lag = -1;
	strcpy(n->name, name);
	n->ops = ops;
	n->state = state;
	return 0;
}

int tb_relay_add_route(struct tb_relay *r, const char *from, const char *to, struct tb_error *err)
{
	int f = find_net(r, from), t = find_net(r, to);
	if (f < 0 || t < 0)
		return tb_error_set(err, TB_ECONFIG, "relay: route %s -> %s: unknown network \"%s\"",
		                    from, to, f < 0 ? from : to);
	if (f == t)
		return tb_error_set(err, TB_ECONFIG, "relay: route %s -> %s goes nowhere", from, to);
	if (r->n_routes == TB_RELAY_MAX_ROUTES)
		return tb_error_set(err, TB_ELIMIT, "relay: more than %d routes", TB_RELAY_MAX_ROUTES);
	r->routes[r->n_routes++] = (struct route){f, t};
	return 0;
}

void tb_relay_set_log(struct tb_relay *r, const struct tb_log *log)
{
	r->log = log;
}

void tb_relay_set_hooks(struct tb_relay *r, const struct tb_relay_hooks *h)
{
	r->hooks = *h;
}

void tb_relay_on_receipt(struct tb_relay *r, tb_relay_receipt_fn fn, void *ctx)
{
	r->on_receipt = fn;
	r->on_receipt_ctx = ctx;
}

struct tb_store *tb_relay_store(struct tb_relay *r)
{
	return &r->store;
}

/* --- faults ------------------------------------------------------------------ */

static void fault_note(struct tb_relay *r, struct fault *f, enum tb_log_level level,
                       const char *event, const char *network, const struct tb_error *e)
{
	int64_t now = tb_relay_now_ms();
	f->count++;
	if (f->code == e->code && now - f->logged_ms < r->log_every_ms) {
		f->unlogged++;
		return;
	}
	if (f->code == 0)
		f->since_ms = now;
	tb_log_emit(r->log, level, event, TB_LOG_FIELDS(TB_LF_STR("network", network),
	            TB_LF_STR("cause", e->msg), TB_LF_STR("kind", tb_strerror(e->code)),
	            TB_LF_INT("failing_for_ms", now - f->since_ms),
	            TB_LF_INT("repeated_since_last_line", (long long)f->unlogged)));
	f->code = e->code;
	f->logged_ms = now;
	f->unlogged = 0;
}

static void fault_clear(struct tb_relay *r, struct fault *f, const char *event,
                        const char *network)
{
	if (f->code == 0)
		return;
	tb_log_emit(r->log, TB_LOG_INFO, event, TB_LOG_FIELDS(TB_LF_STR("network", network),
	            TB_LF_INT("failures", (long long)f->count),
	            TB_LF_INT("failed_for_ms", tb_relay_now_ms() - f->since_ms)));
	memset(f, 0, sizeof *f);
}

/* Remember the first store failure of this ingest or round (returns rc). */
static int sto(struct tb_relay *r, int rc)
{
	if (rc && !r->store_rc)
		r->store_rc = rc;
	return rc;
}

/* After an ingest or a delivery round: a store failure marks the relay not ready
 * until a later write commits (a step that wrote nothing proves nothing). */
static void store_health(struct tb_relay *r, int rc, int wrote, const char *network,
                         const struct tb_error *e)
{
	int failed = rc != 0 && rc == r->store_rc && rc != TB_EUNAVAIL;
	int healed = rc == 0 && wrote;
	pthread_mutex_lock(&r->mu);
	r->store_down = failed ? 1 : healed ? 0 : r->store_down;
	r->store_errors += failed;
	pthread_mutex_unlock(&r->mu);
	if (failed)
		fault_note(r, &r->store_fault, TB_LOG_ERROR, "store cannot be written; retrying",
		           network, e);
	else if (healed)
		fault_clear(r, &r->store_fault, "store writable again", network);
}

const char *tb_relay_not_ready(struct tb_relay *r)
{
	pthread_mutex_lock(&r->mu);
	int down = r->store_down;
	pthread_mutex_unlock(&r->mu);
	return down ? "the store cannot be written (see the log and /metrics)" : NULL;
}

/* --- the host lent to adapters: a key-value space in the store, events ----------- */

static void staged_clear(struct hostctx *h)
{
	for (size_t i = 0; i < h->n_staged; i++)
		free(h->staged[i].val);
	h->n_staged = 0;
}

static int host_kv_get(void *ctx, const char *key, struct tb_buf *out, struct tb_error *err)
{
	struct hostctx *h = ctx;
	for (size_t i = h->n_staged; i-- > 0;) { /* a staged write is read back */
		if (strcmp(h->staged[i].key, key) != 0)
			continue;
		tb_buf_reset(out);
		if (!h->staged[i].val)
			return 1;
		int rc = tb_buf_append(out, h->staged[i].val, h->staged[i].len);
		return rc ? tb_error_set(err, rc, "%s: kv %s: value too large", h->network, key) : 0;
	}
	return h->r->store.ops->kv_get(h->r->store.state, h->network, key, out, err);
}

static int host_kv_put(void *ctx, const char *key, const void *val, size_t len,
                       struct tb_error *err)
{
	struct hostctx *h = ctx;
	if (strlen(key) >= HOST_MAX_KEY || len >= HOST_MAX_VALUE)
		return tb_error_set(err, TB_ELIMIT, "%s: kv key %.40s...: key of %zu bytes or value of "
		                    "%zu bytes over the limit", h->network, key, strlen(key), len);
	if (h->n_staged == HOST_MAX_STAGED)
		return tb_error_set(err, TB_ELIMIT, "%s: more than %d kv writes before a commit",
		                    h->network, HOST_MAX_STAGED);
	struct staged *st = &h->staged[h->n_staged];
	st->val = NULL;
	if (val && !(st->val = malloc(len ? len : 1)))
		return tb_error_set(err, TB_ENOMEM, "%s: out of memory", h->network);
	if (val && len)
		memcpy(st->val, val, len);
	st->len = len;
	snprintf(st->key, sizeof st->key, "%s", key);
	h->n_staged++;
	return 0;
}

/* One transaction: the staged writes and, inside submit, the row noted in flight. */
static int host_kv_commit(void *ctx, const struct tb_txref *ref, struct tb_error *err)
{
	struct hostctx *h = ctx;
	struct tb_relay *r = h->r;
	const struct tb_store_ops *ops = r->store.ops;
	int rc = ops->begin(r->store.state, err);
	for (size_t i = 0; rc == 0 && i < h->n_staged; i++)
		rc = ops->kv_put(r->store.state, h->network, h->staged[i].key, h->staged[i].val,
		                 h->staged[i].len, err);
	if (rc == 0 && ref && r->cur_row && r->cur_dest && strcmp(r->cur_dest, h->network) == 0)
		rc = ops->outbox_submitted(r->store.state, r->cur_row, ref->ref,
		                           tb_relay_now_ms() + r->confirm_ms, err);
	rc = rc ? rc : ops->commit(r->store.state, err);
	if (rc) {
		ops->rollback(r->store.state);
		tb_error_prefix(err, "%s: journal", h->network);
	}
	staged_clear(h);
	return rc;
}

static void host_event(void *ctx, enum tb_host_event ev, const char *msg)
{
	struct hostctx *h = ctx;
	pthread_mutex_lock(&h->r->mu);
	h->nonce_gaps += ev == TB_EVENT_NONCE_GAP;
	pthread_mutex_unlock(&h->r->mu);
	tb_log_emit(h->r->log, TB_LOG_WARN, msg, TB_LOG_FIELDS(TB_LF_STR("network", h->network)));
}

const struct tb_host *tb_relay_host(struct tb_relay *r, const char *network)
{
	for (size_t i = 0; i < r->n_hosts; i++)
		if (strcmp(r->hosts[i]->network, network) == 0)
			return &r->hosts[i]->host;
	struct hostctx *h = r->n_hosts < TB_RELAY_MAX_NETWORKS && strlen(network) < 64
	                            ? calloc(1, sizeof *h) : NULL;
	if (!h)
		return NULL;
	h->r = r;
	snprintf(h->network, sizeof h->network, "%s", network);
	h->host = (struct tb_host){.ctx = h, .kv_get = host_kv_get, .kv_put = host_kv_put,
	                           .kv_commit = host_kv_commit, .event = host_event};
	r->hosts[r->n_hosts++] = h;
	return &h->host;
}

/* Writes an adapter staged but did not commit are dropped when its call returns. */
static void host_drop_staged(struct tb_relay *r, const char *network)
{
	for (size_t i = 0; i < r->n_hosts; i++)
		if (strcmp(r->hosts[i]->network, network) == 0)
			staged_clear(r->hosts[i]);
}

/* --- ingest ------------------------------------------------------------------ */

static const char *verdict_name(enum tb_verdict v)
{
	return v == TB_VALID ? "VALID" : v == TB_INVALID ? "INVALID" : "UNKNOWN";
}

static int set_string(struct tb_json *o, const char *k, const char *v)
{
	struct tb_json *s = tb_json_new_string(v, strlen(v));
	return s ? tb_json_object_set(o, k, strlen(k), s) : TB_ENOMEM;
}

/* Without a mapping hook the record wraps the native document unchanged. */
static int default_translate(const char *network, const struct tb_native *in,
                             const struct tb_proof *p, struct tb_json **out)
{
	struct tb_json *o = tb_json_new_object(), *src = tb_json_new_object();
	struct tb_json *data = in->doc ? tb_json_clone(in->doc) : tb_json_new_null();
	int rc = (o && src && data) ? 0 : TB_ENOMEM;
	rc = rc ? rc : set_string(o, "schema", "tradebridge/1");
	rc = rc ? rc : set_string(o, "type", in->doctype);
	rc = rc ? rc : set_string(o, "key", in->locator);
	rc = rc ? rc : set_string(src, "network", network);
	rc = rc ? rc : set_string(src, "locator", in->locator);
	rc = rc ? rc : set_string(src, "verdict", verdict_name(p->verdict));
	rc = rc ? rc : set_string(src, "proof", p->kind);
	if (rc == 0) {
		rc = tb_json_object_set(o, "source", 6, src);
		src = NULL;
	}
	if (rc == 0) {
		rc = tb_json_object_set(o, "data", 4, data);
		data = NULL;
	}
	tb_json_free(src);
	tb_json_free(data);
	if (rc != 0) {
		tb_json_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int canonical_text(const struct tb_json *j, struct tb_buf *b, struct tb_error *err)
{
	tb_buf_reset(b);
	int rc = tb_json_write_canonical(j, b, err);
	if (rc == 0 && b->len == 0)
		rc = tb_buf_puts(b, "");
	return rc;
}

static void fill_record(struct tb_store_record *rec, const struct net *n,
                        const struct tb_native *in, const struct tb_proof *p,
                        const struct tb_json *canon, const struct tb_buf *body, int64_t answers)
{
	uint8_t h[32];
	char hex[65];
	memset(rec, 0, sizeof *rec);
	tb_sha256(body->data, body->len, h);
	tb_hex_encode(h, 32, hex);
	snprintf(rec->record_id, sizeof rec->record_id, "sha256:%s", hex);
	const char *key = canon ? tb_json_string(tb_json_get(canon, "key")) : NULL;
	snprintf(rec->key, sizeof rec->key, "%s", key ? key : in->locator);
	snprintf(rec->network, sizeof rec->network, "%s", n->name);
	snprintf(rec->locator, sizeof rec->locator, "%s", in->locator);
	snprintf(rec->verdict, sizeof rec->verdict, "%s", verdict_name(p->verdict));
	snprintf(rec->reason, sizeof rec->reason, "%s", p->reason);
	rec->body = (const char *)body->data;
	rec->answers = answers;
}

/* Offer a stored VALID record to every route from this network. */
static int route_record(struct tb_relay *r, int from, int64_t rec_id, const struct tb_json *canon,
                        struct tb_buf *payload, int64_t now, int64_t *added, struct tb_error *err)
{
	for (size_t i = 0; i < r->n_routes; i++) {
		if (r->routes[i].from != from || !r->hooks.policy)
			continue;
		const char *dest = r->nets[r->routes[i].to].name;
		struct tb_json *out = NULL;
		int rc = r->hooks.policy(r->hooks.ctx, dest, canon, &out, err);
		if (rc == 0 && out)
			rc = canonical_text(out, payload, err);
		if (rc == 0 && out) {
			rc = sto(r, r->store.ops->outbox_add(r->store.state, rec_id, dest,
			                                     (const char *)payload->data, now, err));
			(*added)++;
		}
		tb_json_free(out);
		if (rc)
			return rc;
	}
	return 0;
}

struct ingest_tally {
	int committed;   /* the batch was written (the store took a write) */
	int64_t seen_ms; /* when poll answered: the record was available at the source */
	size_t taken;
	uint64_t valid, invalid;
	int64_t added;
};

/* Translate, store and route one record (answers: the record a reply answers, or 0). */
static int keep_item(struct tb_relay *r, int ni, const struct tb_native *in,
                     const struct tb_proof *p, int64_t answers, struct ingest_tally *t,
                     struct tb_error *err)
{
	struct net *n = &r->nets[ni];
	struct tb_json *canon = NULL;
	struct tb_buf body, payload;
	tb_buf_init(&body, 0);
	tb_buf_init(&payload, 0);
	int rc = 0;
	struct tb_proof q = *p; /* the verdict as kept: a translation can make it INVALID */
	if (p->verdict == TB_VALID)
		rc = r->hooks.translate ? r->hooks.translate(r->hooks.ctx, n->name, in, p, &canon, err)
		                        : default_translate(n->name, in, p, &canon);
	else if (in->doc)
		canon = tb_json_clone(in->doc); /* INVALID: kept as seen, with the reason */
	/* Proven but untranslatable, or past a per-record bound (versions of one key): a
	 * property of this record, so it is kept with why and never routed, and the batch
	 * and cursor go on; only faults that may clear (store, peers) hold the batch. */
	if (rc == TB_EINVAL || rc == TB_ELIMIT) {
		q.verdict = TB_INVALID;
		snprintf(q.reason, sizeof q.reason, "%s", err->msg);
		if (!canon && in->doc)
			canon = tb_json_clone(in->doc);
		rc = 0;
	}
	p = &q;
	if (rc == 0 && !canon)
		canon = tb_json_new_null();
	rc = rc ? rc : canonical_text(canon, &body, err);
	struct tb_store_record rec;
	int created = 0;
	if (rc == 0) {
		fill_record(&rec, n, in, p, canon, &body, answers);
		rc = sto(r, r->store.ops->record_put(r->store.state, &rec, &created, err));
	}
	if (rc == 0 && p->verdict == TB_VALID)
		rc = route_record(r, ni, rec.id, canon, &payload, t->seen_ms, &t->added, err);
	if (rc == 0) {
		t->taken++;
		t->valid += p->verdict == TB_VALID;
		t->invalid += p->verdict == TB_INVALID;
	}
	tb_json_free(canon);
	tb_buf_fini(&body);
	tb_buf_fini(&payload);
	return rc;
}

/* Verify and keep every item; TB_EUNAVAIL when one is UNKNOWN (retry the batch). An
 * item whose place at the source is already stored (and not retracted) is not taken
 * twice: a cursor moved back by an operator re-reads history without duplicates. */
static int keep_batch(struct tb_relay *r, int ni, const struct tb_batch *b,
                      struct ingest_tally *t, struct tb_error *err)
{
	struct net *n = &r->nets[ni];
	for (size_t i = 0; i < b->len; i++) {
		struct tb_proof p;
		int taken = 0;
		int rc = sto(r, r->store.ops->record_taken(r->store.state, n->name, b->items[i].locator,
		                                           &taken, err));
		if (rc || taken) {
			if (rc)
				return rc;
			continue;
		}
		memset(&p, 0, sizeof p);
		rc = n->ops->verify(n->state, &b->items[i], &p, err);
		if (rc == 0 && p.verdict == TB_UNKNOWN)
			rc = tb_error_set(err, TB_EUNAVAIL, "%s: %s: verification UNKNOWN: %s", n->name,
			                  b->items[i].locator, p.reason);
		else if (rc == TB_EUNAVAIL)
			tb_error_prefix(err, "%s: %s", n->name, b->items[i].locator);
		if (rc == 0)
			rc = keep_item(r, ni, &b->items[i], &p, 0, t, err);
		tb_proof_fini(&p);
		if (rc)
			return rc;
	}
	return 0;
}

static int below_high_water(struct tb_relay *r)
{
	pthread_mutex_lock(&r->mu);
	int ok = r->pending < r->high_water;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

/* Keep batch b polled from cur in one transaction with the cursor it ends at. */
static int commit_batch(struct tb_relay *r, int ni, const struct tb_cursor *cur,
                        const struct tb_batch *b, struct ingest_tally *t, struct tb_error *err)
{
	struct net *n = &r->nets[ni];
	int rc = sto(r, r->store.ops->begin(r->store.state, err));
	if (rc)
		return rc;
	rc = keep_batch(r, ni, b, t, err);
	if (rc == 0) {
		rc = tb_store_cursor_advance(&r->store, n->name, cur, &b->next, err);
		if (rc != TB_EUNAVAIL) /* TB_EUNAVAIL: moved by cursor reset, not a store fault */
			sto(r, rc);
	}
	rc = rc ? rc : sto(r, r->store.ops->commit(r->store.state, err));
	if (rc)
		r->store.ops->rollback(r->store.state);
	t->committed = rc == 0;
	return rc;
}

static int on_reorg(struct tb_relay *r, int ni, const struct tb_cursor *cur,
                    struct ingest_tally *t, struct tb_error *err);

static int poll_and_keep(struct tb_relay *r, int ni, struct ingest_tally *t, struct tb_error *err)
{
	struct net *n = &r->nets[ni];
	struct tb_cursor cur;
	struct tb_batch b;
	memset(&b, 0, sizeof b);
	b.behind = -1;
	int rc = sto(r, r->store.ops->cursor_get(r->store.state, n->name, &cur, err));
	rc = rc ? rc : n->ops->poll(n->state, &cur, &b, err);
	t->seen_ms = tb_relay_now_ms();
	if (rc == TB_EREORG) {
		tb_batch_fini(&b);
		return on_reorg(r, ni, &cur, t, err);
	}
	if (rc == 0)
		memset(&n->reorg_at, 0, sizeof n->reorg_at);
	if (rc == 0) {
		pthread_mutex_lock(&r->mu);
		n->lag = b.behind;
		pthread_mutex_unlock(&r->mu);
	}
	if (rc == 0 && (b.len > 0 || strcmp(b.next.value, cur.value) != 0)) {
		rc = commit_batch(r, ni, &cur, &b, t, err);
		/* Only now may a mailbox forget the batch: a crash before this line re-offers
		 * it, and keep_batch takes each record once. */
		if (rc == 0 && n->ops->ack) {
			tb_fault_point("relay.before-ack");
			n->ops->ack(n->state, &b.next);
		}
	}
	tb_batch_fini(&b);
	return rc;
}

/* Every failure is logged (rate-limited per network and kind); store failures once
 * for the relay, and they make it not ready until a write succeeds again. */
static void ingest_outcome(struct tb_relay *r, struct net *n, int rc, int wrote,
                           const struct tb_error *err)
{
	store_health(r, rc, wrote, n->name, err);
	if (rc == 0)
		fault_clear(r, &n->ingest_fault, "ingest resumed", n->name);
	else if (rc == TB_EREORG)
		fault_note(r, &n->ingest_fault, TB_LOG_ERROR, "ingest stopped by a re-org", n->name,
		           err);
	else if (rc != r->store_rc || rc == TB_EUNAVAIL)
		fault_note(r, &n->ingest_fault, rc == TB_EUNAVAIL ? TB_LOG_WARN : TB_LOG_ERROR,
		           "ingest stalled; retrying", n->name, err);
}

int tb_relay_ingest(struct tb_relay *r, const char *network, size_t *taken, struct tb_error *err)
{
	int ni = find_net(r, network);
	*taken = 0;
	if (ni < 0)
		return tb_error_set(err, TB_ENOTFOUND, "relay: no network \"%s\"", network);
	if (!below_high_water(r))
		return 0; /* backpressure: let delivery catch up */
	struct net *n = &r->nets[ni];
	struct ingest_tally t = {0};
	r->store_rc = 0;
	int rc = poll_and_keep(r, ni, &t, err);
	ingest_outcome(r, n, rc, t.committed, err);
	pthread_mutex_lock(&r->mu);
	if (rc == 0) {
		n->ingested += t.taken;
		n->verified += t.valid;
		n->invalid += t.invalid;
		r->pending += t.added;
		*taken = t.taken;
	} else {
		n->ingest_errors++;
		n->unknown += rc == TB_EUNAVAIL;
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* --- delivery ------------------------------------------------------------------ */

static uint32_t jitter(void)
{
	uint32_t j = 0;
	if (getrandom(&j, sizeof j, GRND_NONBLOCK) != sizeof j)
		j = (uint32_t)tb_relay_now_ms() * 2654435761u;
	return j;
}

static void observe_latency(struct tb_relay *r, int64_t ms)
{
	size_t b = 0;
	while (b < TB_RELAY_LATENCY_BUCKETS - 1 && ms > latency_bounds[b])
		b++;
	r->latency[b]++;
	r->latency_sum_s += (double)ms / 1000.0;
	r->latency_count++;
}

/* What one attempt came to; the store is written for the whole round at once. */
struct outcome {
	enum { OUT_CONFIRMED, OUT_SUPERSEDED, OUT_PENDING, OUT_FAILED, OUT_REJECTED } kind;
	int permanent;
	int code;                  /* OUT_FAILED: the TB_E* kind of failure (for the log) */
	char txref[256];           /* OUT_PENDING: what to confirm next time */
	struct net *dst;           /* NULL: the row's network is no longer configured */
	int64_t done_ms;           /* when the destination confirmed */
	char why[TB_ERROR_MAX];
	struct tb_receipt receipt; /* with a receipt: filled but for seq, prev, sig */
	struct tb_json *reply;     /* the destination's answer, kept as a record (owned) */
	char reply_type[64];
	int reply_kept;            /* stored this round (not seen before) */
};

/* Text from a destination made fit for a signed receipt: whole UTF-8 characters
 * only (a bad byte becomes '?'), cut at a character boundary to fit cap. */
static void clean_text(char *dst, size_t cap, const char *src)
{
	const unsigned char *u = (const unsigned char *)src;
	size_t len = strlen(src), o = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = tb_json_utf8_next(u + i, len - i, &cp);
		size_t k = n ? n : 1;
		if (o + k >= cap)
			break;
		memcpy(dst + o, n ? src + i : "?", k);
		o += k;
		i += k;
	}
	dst[o] = 0;
}

static int fill_receipt(struct tb_relay *r, const struct tb_outbox_row *row, const char *txref,
                        const char *status, struct tb_receipt *out, struct tb_error *err)
{
	struct tb_store_record rec;
	memset(out, 0, sizeof *out);
	int rc = sto(r, r->store.ops->record_get(r->store.state, row->record, &rec, err));
	if (rc)
		return rc;
	snprintf(out->record, sizeof out->record, "%s", rec.record_id);
	snprintf(out->source_network, sizeof out->source_network, "%s", rec.network);
	snprintf(out->source_locator, sizeof out->source_locator, "%s", rec.locator);
	snprintf(out->verdict, sizeof out->verdict, "%s", rec.verdict);
	snprintf(out->destination, sizeof out->destination, "%s", row->destination);
	snprintf(out->txref, sizeof out->txref, "%s", txref);
	snprintf(out->status, sizeof out->status, "%s", status);
	tb_receipt_now(out->time);
	tb_store_record_fini(&rec);
	return 0;
}

static void set_failed(struct outcome *o, int rc, const char *why)
{
	o->kind = OUT_FAILED;
	o->code = rc ? rc : TB_EINVAL;
	o->permanent = rc == TB_EINVAL || rc == TB_EVERIFY;
	snprintf(o->why, sizeof o->why, "%s", why);
}

/* Submit (unless in flight) and confirm one row; store writes are the adapter's
 * journal only. Returns the adapter's error code (0: the status is in st). */
static int submit_confirm(struct tb_relay *r, const struct tb_outbox_row *row, struct outcome *o,
                          struct tb_txref *ref, struct tb_status *st, struct tb_error *aerr)
{
	struct net *d = o->dst;
	int rc = 0;
	if (row->txref[0]) {
		snprintf(ref->ref, sizeof ref->ref, "%s", row->txref); /* in flight: only confirm */
	} else {
		struct tb_json *doc = NULL, *native = NULL;
		struct tb_store_record rec;
		memset(&rec, 0, sizeof rec);
		rc = tb_json_parse(row->payload, strlen(row->payload), NULL, &doc, aerr);
		rc = rc ? rc : sto(r, r->store.ops->record_get(r->store.state, row->record, &rec, aerr));
		if (rc == 0 && r->hooks.outgoing) /* the route's reverse mapping, if it has one */
			rc = r->hooks.outgoing(r->hooks.ctx, d->name, doc, &native, aerr);
		if (rc == 0) {
			const char *type = tb_json_string(tb_json_get(doc, "type"));
			struct tb_outgoing out = {.record_id = rec.record_id,
			                          .record_type = type ? type : "",
			                          .form = native ? TB_FORM_NATIVE : TB_FORM_CANONICAL,
			                          .doc = native ? native : doc,
			                          .idempotency_key = row->idem_key};
			r->cur_row = row->id;
			r->cur_dest = d->name;
			st->state = TB_PENDING;
			rc = d->ops->submit(d->state, &out, ref, st, aerr);
			r->cur_row = 0;
			r->cur_dest = NULL;
		}
		tb_store_record_fini(&rec);
		tb_json_free(native);
		tb_json_free(doc);
		if (rc) /* a failed submit is logged with the round's faults (publish_round) */
			return rc;
		if (st->state != TB_PENDING) /* the destination answered at once */
			return 0;
	}
	rc = d->ops->confirm(d->state, ref, st, aerr);
	if (rc == 0)
		fault_clear(r, &d->confirm_fault, "confirmations resumed", d->name);
	if (rc == TB_EUNAVAIL) {
		fault_note(r, &d->confirm_fault, TB_LOG_WARN,
		           "destination unavailable; rows stay pending and are retried", d->name, aerr);
		/* sent: ask again later rather than submit a second time */
		memset(st, 0, sizeof *st);
		st->state = TB_PENDING;
		rc = 0;
	}
	return rc;
}

/* One row's outcome; never fails the round: what went wrong goes into o. */
static void attempt(struct tb_relay *r, const struct tb_outbox_row *row, struct outcome *o)
{
	int di = find_net(r, row->destination);
	if (di < 0) {
		o->dst = NULL;
		o->kind = OUT_FAILED;
		o->permanent = 1;
		snprintf(o->why, sizeof o->why, "network \"%s\" is no longer configured (removed "
		         "while this row was pending); re-drive it once the network is back",
		         row->destination);
		return;
	}
	o->dst = &r->nets[di];
	struct tb_txref ref;
	struct tb_status st;
	struct tb_error aerr = {0};
	memset(&ref, 0, sizeof ref);
	memset(&st, 0, sizeof st);
	int rc = submit_confirm(r, row, o, &ref, &st, &aerr);
	host_drop_staged(r, o->dst->name);
	o->done_ms = tb_relay_now_ms();
	if (rc != 0) {
		set_failed(o, rc, aerr.msg);
	} else if (st.state == TB_PENDING) {
		o->kind = OUT_PENDING; /* confirmed again later, not resubmitted */
		snprintf(o->txref, sizeof o->txref, "%s", ref.ref);
	} else if (st.state == TB_FAILED) {
		set_failed(o, 0, st.reason[0] ? st.reason : "failed at the destination");
	} else if (st.state == TB_REJECTED) {
		/* final: a decision of the destination, not a fault to retry or re-drive */
		o->kind = OUT_REJECTED;
		rc = fill_receipt(r, row, ref.ref[0] ? ref.ref : row->idem_key, "rejected",
		                  &o->receipt, &aerr);
		clean_text(o->receipt.reason, sizeof o->receipt.reason,
		           st.reason[0] ? st.reason : "rejected by the destination (no reason given)");
		if (rc)
			set_failed(o, 0, aerr.msg);
	} else {
		int sup = st.state == TB_SUPERSEDED;
		o->kind = sup ? OUT_SUPERSEDED : OUT_CONFIRMED;
		rc = fill_receipt(r, row, ref.ref, sup ? "superseded" : "confirmed", &o->receipt, &aerr);
		if (rc)
			set_failed(o, 0, aerr.msg);
	}
	if (st.reply && rc == 0) { /* kept with the round (keep_reply) */
		o->reply = st.reply;
		snprintf(o->reply_type, sizeof o->reply_type, "%s", st.reply_type);
	} else {
		tb_json_free(st.reply);
	}
}

static int has_receipt(const struct outcome *o)
{
	return o->kind == OUT_CONFIRMED || o->kind == OUT_SUPERSEDED || o->kind == OUT_REJECTED;
}

#define REPLY_REASON "the destination's own answer over its channel; trusted, not " \
	"independently verified"

/* The destination's answer as a record of the destination's network, linked to the
 * record it answers, translated and routed like an ingested one. Its locator names
 * the delivery and the answer's content, so the same answer seen again (confirm
 * asked once more after a crash) is stored once. */
static int keep_reply(struct tb_relay *r, const struct tb_outbox_row *row,
                      const struct outcome *o, struct ingest_tally *t, struct tb_error *err)
{
	struct tb_buf text;
	uint8_t h[32];
	char hex[65];
	struct tb_native in;
	int taken = 0;
	tb_buf_init(&text, 0);
	int rc = canonical_text(o->reply, &text, err);
	if (rc) {
		tb_buf_fini(&text);
		return rc;
	}
	tb_sha256(text.data, text.len, h);
	tb_buf_fini(&text);
	tb_hex_encode(h, 8, hex);
	memset(&in, 0, sizeof in);
	snprintf(in.locator, sizeof in.locator, "reply:%s:%s", row->idem_key, hex);
	snprintf(in.doctype, sizeof in.doctype, "%s", o->reply_type[0] ? o->reply_type : "reply");
	in.doc = o->reply;
	int di = (int)(o->dst - r->nets);
	rc = sto(r, r->store.ops->record_taken(r->store.state, o->dst->name, in.locator, &taken,
	                                       err));
	if (rc || taken)
		return rc;
	struct tb_proof p = {.verdict = TB_VALID, .kind = "destination-reply"};
	snprintf(p.reason, sizeof p.reason, "%s", REPLY_REASON);
	t->seen_ms = o->done_ms;
	return keep_item(r, di, &in, &p, row->record, t, err);
}

/* Receipts of one kind of ending (rejected or not) for the round, in order. */
static int append_kind(struct tb_relay *r, const struct tb_outbox_row *rows, struct outcome *outs,
                       size_t n, int rejected, int64_t *ids, struct tb_receipt *rs,
                       struct tb_error *err)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (has_receipt(&outs[i]) && (outs[i].kind == OUT_REJECTED) == rejected) {
			ids[k] = rows[i].id;
			rs[k++] = outs[i].receipt;
		}
	}
	int rc = rejected ? tb_store_append_rejections(&r->store, ids, rs, k, r->key, err)
	                  : tb_store_append_receipts(&r->store, ids, rs, k, r->key, err);
	for (size_t i = 0, j = 0; rc == 0 && i < n; i++)
		if (has_receipt(&outs[i]) && (outs[i].kind == OUT_REJECTED) == rejected)
			outs[i].receipt = rs[j++]; /* with seq, prev and signature */
	return rc;
}

/* One transaction for the round: failures with their backoff, receipts appended,
 * the destinations' replies kept and routed (t counts them). */
static int record_round(struct tb_relay *r, const struct tb_outbox_row *rows,
                        struct outcome *outs, size_t n, int64_t now, struct ingest_tally *t,
                        struct tb_error *err)
{
	int64_t *ids = calloc(n ? n : 1, sizeof *ids);
	struct tb_receipt *rs = calloc(n ? n : 1, sizeof *rs);
	int rc = (ids && rs) ? r->store.ops->begin(r->store.state, err)
	                     : tb_error_set(err, TB_ENOMEM, "relay: out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (outs[i].kind == OUT_FAILED)
			rc = r->store.ops->outbox_fail(r->store.state, rows[i].id, now, outs[i].why,
			                               &r->retry, jitter(), outs[i].permanent, err);
		else if (outs[i].kind == OUT_PENDING)
			rc = r->store.ops->outbox_submitted(r->store.state, rows[i].id, outs[i].txref,
			                                    now + r->confirm_ms, err);
		size_t before = t->taken;
		if (rc == 0 && outs[i].reply && outs[i].dst)
			rc = keep_reply(r, &rows[i], &outs[i], t, err);
		outs[i].reply_kept = t->taken > before;
	}
	rc = rc ? rc : append_kind(r, rows, outs, n, 0, ids, rs, err);
	rc = rc ? rc : append_kind(r, rows, outs, n, 1, ids, rs, err);
	rc = rc ? rc : r->store.ops->commit(r->store.state, err);
	if (rc) {
		r->store.ops->rollback(r->store.state);
		memset(t, 0, sizeof *t);
	}
	free(ids);
	free(rs);
	return rc;
}

static void count_outcome(struct tb_relay *r, const struct tb_outbox_row *row,
                          const struct outcome *o)
{
	struct net *d = o->dst;
	if (o->kind == OUT_REJECTED) {
		d->rejected++;
		r->pending--;
		r->receipts++;
	} else if (has_receipt(o)) {
		if (o->kind == OUT_CONFIRMED)
			d->delivered++;
		else
			d->superseded++;
		r->pending--;
		r->receipts++;
		observe_latency(r, o->done_ms - row->created_ms);
	} else if (o->kind == OUT_FAILED) {
		if (d)
			d->failed++;
		if (o->permanent || row->attempts + 1 >= r->retry.max_attempts) {
			if (d)
				d->dead++;
			r->dead_total++;
			r->pending--;
		}
	}
}

/* A rejection is final and names a decision someone must read: one line each. */
static void log_rejection(struct tb_relay *r, const struct tb_outbox_row *row,
                          const struct outcome *o)
{
	tb_log_emit(r->log, TB_LOG_WARN, "the destination rejected a record for good (receipt "
	            "status rejected; not retried)", TB_LOG_FIELDS(TB_LF_STR("network", o->dst->name),
	            TB_LF_STR("record", o->receipt.record), TB_LF_STR("txref", o->receipt.txref),
	            TB_LF_INT("receipt", (long long)o->receipt.seq),
	            TB_LF_STR("reason", o->receipt.reason), TB_LF_INT("outbox_row", row->id)));
}

static void publish_round(struct tb_relay *r, const struct tb_outbox_row *rows,
                          const struct outcome *outs, size_t n, const struct ingest_tally *t)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		count_outcome(r, &rows[i], &outs[i]);
		if (outs[i].reply_kept)
			outs[i].dst->replies++;
	}
	r->pending += t->added;
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < n; i++)
		if (outs[i].kind == OUT_REJECTED)
			log_rejection(r, &rows[i], &outs[i]);
	for (size_t i = 0; i < n; i++) { /* every failed attempt is logged, rate-limited */
		struct tb_error e = {.code = outs[i].code};
		snprintf(e.msg, sizeof e.msg, "%s", outs[i].why);
		int dead = outs[i].permanent || rows[i].attempts + 1 >= r->retry.max_attempts;
		if (outs[i].kind == OUT_FAILED && outs[i].dst)
			fault_note(r, &outs[i].dst->deliver_fault, TB_LOG_WARN,
			           dead ? "delivery failed; the row is a dead letter (tradebridge "
			                  "dead-letters list)"
			                : "delivery failing; retrying with backoff",
			           outs[i].dst->name, &e);
		else if (has_receipt(&outs[i]))
			fault_clear(r, &outs[i].dst->deliver_fault, "delivery resumed", outs[i].dst->name);
	}
	for (size_t i = 0; r->on_receipt && i < n; i++) {
		if (!has_receipt(&outs[i]))
			continue;
		struct tb_buf json;
		struct tb_error err;
		tb_buf_init(&json, TB_RECEIPT_MAX_BYTES);
		if (tb_receipt_write(&outs[i].receipt, &json, &err) == 0)
			r->on_receipt(r->on_receipt_ctx, &outs[i].receipt, (const char *)json.data);
		tb_buf_fini(&json);
	}
}

/* Refresh the per-destination pending ages the metrics show (read by the loop's
 * thread, which alone uses the store, at most once a second). */
static void refresh_ages(struct tb_relay *r, int64_t now)
{
	struct tb_store_pending ages[TB_RELAY_MAX_NETWORKS];
	size_t n = 0;
	struct tb_error e;
	if (r->ages_ms && now - r->ages_ms < AGES_EVERY_MS)
		return;
	if (r->store.ops->pending_ages(r->store.state, ages, TB_RELAY_MAX_NETWORKS, &n, &e) != 0)
		return;
	r->ages_ms = now;
	pthread_mutex_lock(&r->mu);
	memcpy(r->ages, ages, n * sizeof ages[0]);
	r->n_ages = n;
	pthread_mutex_unlock(&r->mu);
}

int tb_relay_deliver(struct tb_relay *r, int64_t now_ms, size_t *delivered, struct tb_error *err)
{
	struct tb_outbox_row *rows = calloc(r->claim_max, sizeof *rows);
	struct outcome *outs = calloc(r->claim_max, sizeof *outs);
	size_t n = 0;
	*delivered = 0;
	r->store_rc = 0;
	int rc = (rows && outs) ? sto(r, r->store.ops->outbox_claim(r->store.state, now_ms,
	                                                            r->lease_ms, rows, r->claim_max,
	                                                            &n, err))
	                        : tb_error_set(err, TB_ENOMEM, "relay: out of memory");
	struct ingest_tally replies = {0};
	for (size_t i = 0; rc == 0 && i < n; i++)
		attempt(r, &rows[i], &outs[i]);
	rc = rc ? rc : sto(r, record_round(r, rows, outs, n, now_ms, &replies, err));
	store_health(r, rc, n > 0, "-", err);
	if (rc && rc != r->store_rc)
		fault_note(r, &r->round_fault, TB_LOG_ERROR, "delivery round failed; retrying", "-",
		           err);
	else if (rc == 0)
		fault_clear(r, &r->round_fault, "delivery rounds resumed", "-");
	if (rc == 0) {
		publish_round(r, rows, outs, n, &replies);
		for (size_t i = 0; i < n; i++)
			*delivered += has_receipt(&outs[i]);
		refresh_ages(r, tb_relay_now_ms());
	}
	for (size_t i = 0; i < n; i++) {
		tb_outbox_row_fini(&rows[i]);
		tb_json_free(outs[i].reply);
	}
	free(rows);
	free(outs);
	return rc;
}

/* --- deep re-org -------------------------------------------------------------- */

#define REORG_WALK 256 /* stored cursors tried, newest first, for the common ancestor */
#define RETRACT_CHUNK 64

/* The newest stored cursor the source still has: the first one its poll accepts. */
static int find_ancestor(struct tb_relay *r, struct net *n, struct tb_cursor_mark *anc,
                         int *found, struct tb_error *err)
{
	struct tb_cursor_mark *h = calloc(REORG_WALK, sizeof *h);
	size_t k = 0;
	*found = 0;
	int rc = h ? sto(r, r->store.ops->cursor_history(r->store.state, n->name, h, REORG_WALK, &k,
	                                                 err))
	           : tb_error_set(err, TB_ENOMEM, "relay: out of memory");
	for (size_t i = 0; rc == 0 && !*found && i < k; i++) {
		struct tb_batch b;
		memset(&b, 0, sizeof b);
		int prc = n->ops->poll(n->state, &h[i].cursor, &b, err);
		tb_batch_fini(&b);
		if (prc == 0) {
			*anc = h[i];
			*found = 1;
		} else if (prc != TB_EREORG) {
			rc = prc; /* cannot tell now: tried again next step */
		}
	}
	free(h);
	return rc;
}

/* Blocks (or messages) between two cursors that start with their position; -1 if not. */
static long long cursor_distance(const char *later, const char *earlier)
{
	char *e1, *e2;
	long long a = strtoll(later, &e1, 10), b = strtoll(earlier, &e2, 10);
	return e1 == later || e2 == earlier ? -1 : a - b;
}

struct retracted_set {
	struct tb_retraction res;
	struct tb_receipt *rs; /* retraction receipts written, for the bus */
	size_t n;
};

/* One chunk: mark, retire, and write a retraction receipt per delivered row. */
static int retract_chunk(struct tb_relay *r, struct net *n, int64_t after, const char *reason,
                         struct retracted_set *out, size_t *k, struct tb_error *err)
{
	struct tb_outbox_row rows[RETRACT_CHUNK];
	int64_t ids[RETRACT_CHUNK];
	struct tb_retraction part = {0};
	struct tb_receipt *more = realloc(out->rs, (out->n + RETRACT_CHUNK) * sizeof *more);
	if (!more)
		return tb_error_set(err, TB_ENOMEM, "relay: out of memory");
	out->rs = more;
	*k = 0;
	int rc = sto(r, r->store.ops->retract(r->store.state, n->name, after, reason,
	                                      tb_relay_now_ms(), &part, rows, RETRACT_CHUNK, k, err));
	out->res.records += part.records;
	out->res.dead += part.dead;
	struct tb_receipt *rs = out->rs + out->n;
	for (size_t i = 0; rc == 0 && i < *k; i++) {
		ids[i] = rows[i].id;
		rc = fill_receipt(r, &rows[i], rows[i].txref, "retracted-at-source", &rs[i], err);
	}
	rc = rc ? rc : sto(r, tb_store_append_status(&r->store, ids, rs, *k, r->key, err));
	for (size_t i = 0; i < *k; i++)
		tb_outbox_row_fini(&rows[i]);
	if (rc == 0)
		out->n += *k;
	return rc;
}

/* In one transaction: everything taken after the ancestor is marked, and with
 * automatic resumption the cursor goes back to it. */
static int retract_after(struct tb_relay *r, struct net *n, const struct tb_cursor_mark *anc,
                         const char *reason, struct retracted_set *out, struct tb_error *err)
{
	int rc = sto(r, r->store.ops->begin(r->store.state, err));
	size_t k = RETRACT_CHUNK;
	while (rc == 0 && k == RETRACT_CHUNK)
		rc = retract_chunk(r, n, anc->last_record, reason, out, &k, err);
	if (rc == 0 && r->reorg_auto)
		rc = sto(r, r->store.ops->cursor_set(r->store.state, n->name, &anc->cursor, err));
	rc = rc ? rc : sto(r, r->store.ops->commit(r->store.state, err));
	if (rc) {
		r->store.ops->rollback(r->store.state);
		out->n = 0;
		memset(&out->res, 0, sizeof out->res);
	}
	return rc;
}

static void reorg_log(struct tb_relay *r, struct net *n, const struct tb_cursor *dropped,
                      const struct tb_cursor_mark *anc, const struct retracted_set *rs,
                      const char *cause, const char *next)
{
	tb_log_emit(r->log, TB_LOG_ERROR, "re-org deeper than the confirmation depth",
	            TB_LOG_FIELDS(TB_LF_STR("network", n->name), TB_LF_STR("cause", cause),
	            TB_LF_STR("dropped_cursor", dropped->value),
	            TB_LF_STR("common_ancestor", anc ? anc->cursor.value : "not found"),
	            TB_LF_INT("depth", anc ? cursor_distance(dropped->value, anc->cursor.value) : -1),
	            TB_LF_INT("records_retracted", rs->res.records),
	            TB_LF_INT("retraction_receipts", (long long)rs->n),
	            TB_LF_INT("pending_retired", rs->res.dead), TB_LF_STR("next", next)));
}

static void publish_retractions(struct tb_relay *r, const struct retracted_set *rs)
{
	pthread_mutex_lock(&r->mu);
	r->pending -= rs->res.dead;
	r->dead_total += rs->res.dead;
	r->receipts += (int64_t)rs->n;
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; r->on_receipt && i < rs->n; i++) {
		struct tb_buf json;
		struct tb_error e;
		tb_buf_init(&json, TB_RECEIPT_MAX_BYTES);
		if (tb_receipt_write(&rs->rs[i], &json, &e) == 0)
			r->on_receipt(r->on_receipt_ctx, &rs->rs[i], (const char *)json.data);
		tb_buf_fini(&json);
	}
}

/* The source no longer has the block the cursor ends at: find the newest stored
 * cursor it still has, retract what was taken after it (receipts for what was
 * delivered, dead letters for what was pending), log it all, and either resume
 * from there (reorg_auto) or hold ingest until an operator moves the cursor. */
static int on_reorg(struct tb_relay *r, int ni, const struct tb_cursor *cur,
                    struct ingest_tally *t, struct tb_error *err)
{
	struct net *n = &r->nets[ni];
	if (strcmp(n->reorg_at.value, cur->value) == 0)
		return TB_EREORG; /* handled already: err still says why; the stall is logged */
	struct tb_error cause = *err;
	struct tb_cursor_mark anc;
	struct retracted_set rs = {{0}, NULL, 0};
	int found = 0;
	char next[384], reason[TB_ERROR_MAX];
	int rc = find_ancestor(r, n, &anc, &found, err);
	if (rc == 0 && found) {
		snprintf(reason, sizeof reason, "re-org: %.480s", cause.msg);
		rc = retract_after(r, n, &anc, reason, &rs, err);
		t->committed = rc == 0;
	}
	if (rc) {
		free(rs.rs);
		return rc; /* the walk or the store failed: all of it again next step */
	}
	long long at = cursor_distance(anc.cursor.value, "0");
	if (!found)
		snprintf(next, sizeof next, "no stored cursor of the last %d is on the source now: "
		         "choose where to resume, then tradebridge cursor reset %s --to BLOCK",
		         REORG_WALK, n->name);
	else if (r->reorg_auto)
		snprintf(next, sizeof next, "resuming from the common ancestor (reorg_resume auto)");
	else if (at >= 0)
		snprintf(next, sizeof next, "ingest holds: tradebridge cursor reset %s --to %lld",
		         n->name, at);
	else
		snprintf(next, sizeof next, "ingest holds: tradebridge cursor reset %s --to '%.200s'",
		         n->name, anc.cursor.value);
	reorg_log(r, n, cur, found ? &anc : NULL, &rs, cause.msg, next);
	publish_retractions(r, &rs);
	free(rs.rs);
	n->reorg_at = *cur;
	if (found && r->reorg_auto)
		return 0;
	return tb_error_set(err, TB_EREORG, "%s; %s", cause.msg, next);
}

int tb_relay_step(struct tb_relay *r, size_t *work, struct tb_error *err)
{
	struct tb_error first;
	int first_rc = 0;
	*work = 0;
	/* One network's trouble never stops the others or delivery: it is logged (rate-
	 * limited) where it happens; the first one that is not a retry is returned. */
	for (size_t i = 0; i < r->n_nets; i++) {
		int source = 0;
		for (size_t k = 0; k < r->n_routes; k++)
			source |= r->routes[k].from == (int)i;
		if (!source || !r->nets[i].ops->poll)
			continue; /* a destination whose replies are routed need not be polled */
		size_t taken = 0;
		int rc = tb_relay_ingest(r, r->nets[i].name, &taken, err);
		if (rc && rc != TB_EUNAVAIL && !first_rc) {
			first_rc = rc;
			first = *err;
		}
		*work += taken;
	}
	size_t done = 0;
	int rc = tb_relay_deliver(r, tb_relay_now_ms(), &done, err);
	*work += done;
	if (rc == 0 && first_rc) {
		*err = first;
		rc = first_rc;
	}
	return rc;
}

int tb_relay_run(struct tb_relay *r, volatile sig_atomic_t *stop, int idle_ms,
                 struct tb_error *err)
{
	while (!*stop) {
		size_t work = 0;
		int rc = tb_relay_step(r, &work, err);
		if (rc)
			return rc;
		if (work == 0 && !*stop) {
			struct timespec ts = {idle_ms / 1000, (long)(idle_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

int tb_relay_redrive(struct tb_relay *r, int64_t id, int *count, struct tb_error *err)
{
	int rc = r->store.ops->dead_redrive(r->store.state, id, tb_relay_now_ms(), count, err);
	if (rc == 0) {
		pthread_mutex_lock(&r->mu);
		r->pending += *count;
		r->dead_total -= *count;
		pthread_mutex_unlock(&r->mu);
	}
	return rc;
}

void tb_relay_counts(struct tb_relay *r, struct tb_relay_counts *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->n_nets; i++) {
		out->ingested += r->nets[i].ingested;
		out->verified += r->nets[i].verified;
		out->invalid += r->nets[i].invalid;
		out->unknown += r->nets[i].unknown;
		out->delivered += r->nets[i].delivered;
		out->failed += r->nets[i].failed;
		out->dead += r->nets[i].dead;
		out->rejected += r->nets[i].rejected;
		out->replies += r->nets[i].replies;
	}
	pthread_mutex_unlock(&r->mu);
}

static int per_network(struct tb_relay *r, struct tb_buf *o, const char *name, const char *help,
                       size_t offset)
{
	int rc = tb_buf_printf(o, "# HELP tradebridge_%s_total %s\n# TYPE tradebridge_%s_total "
	                          "counter\n", name, help, name);
	for (size_t i = 0; rc == 0 && i < r->n_nets; i++) {
		const uint64_t *v = (const uint64_t *)((const char *)&r->nets[i] + offset);
		rc = tb_buf_printf(o, "tradebridge_%s_total{network=\"%s\"} %" PRIu64 "\n", name,
		                   r->nets[i].name, *v);
	}
	return rc;
}

/* What waits at the source, next to tradebridge_outbox_depth (what waits here). */
static int lag_text(struct tb_relay *r, struct tb_buf *o)
{
	int rc = tb_buf_puts(o, "# HELP tradebridge_source_lag Blocks or messages ready at the "
	                        "source past the stored cursor, at the last poll.\n"
	                        "# TYPE tradebridge_source_lag gauge\n");
	for (size_t i = 0; rc == 0 && i < r->n_nets; i++)
		if (r->nets[i].lag >= 0)
			rc = tb_buf_printf(o, "tradebridge_source_lag{network=\"%s\"} %" PRId64 "\n",
			                   r->nets[i].name, r->nets[i].lag);
	return rc;
}

static int latency_text(struct tb_relay *r, struct tb_buf *o)
{
	int rc = tb_buf_puts(o, "# HELP tradebridge_delivery_latency_seconds From the poll that "
	                        "found the record at its source to the destination's confirmation "
	                        "(receipt).\n# TYPE tradebridge_delivery_latency_seconds "
	                        "histogram\n");
	uint64_t cum = 0;
	for (size_t b = 0; rc == 0 && b < TB_RELAY_LATENCY_BUCKETS; b++) {
		cum += r->latency[b];
		if (b < TB_RELAY_LATENCY_BUCKETS - 1)
			rc = tb_buf_printf(o, "tradebridge_delivery_latency_seconds_bucket{le=\"%g\"} %"
			                   PRIu64 "\n", (double)latency_bounds[b] / 1000.0, cum);
		else
			rc = tb_buf_printf(o, "tradebridge_delivery_latency_seconds_bucket{le=\"+Inf\"} %"
			                   PRIu64 "\n", cum);
	}
	if (rc == 0)
		rc = tb_buf_printf(o, "tradebridge_delivery_latency_seconds_sum %.6f\n"
		                      "tradebridge_delivery_latency_seconds_count %" PRIu64 "\n",
		                   r->latency_sum_s, r->latency_count);
	return rc;
}

static int host_text(struct tb_relay *r, struct tb_buf *o)
{
	int rc = tb_buf_puts(o, "# HELP tradebridge_nonce_gaps_total Spent write nonces the node "
	                        "did not know, found and filled.\n# TYPE tradebridge_nonce_gaps_total "
	                        "counter\n");
	for (size_t i = 0; rc == 0 && i < r->n_hosts; i++)
		rc = tb_buf_printf(o, "tradebridge_nonce_gaps_total{network=\"%s\"} %" PRIu64 "\n",
		                   r->hosts[i]->network, r->hosts[i]->nonce_gaps);
	return rc;
}

static int ages_text(struct tb_relay *r, struct tb_buf *o)
{
	int64_t now = tb_relay_now_ms();
	int rc = tb_buf_puts(o, "# HELP tradebridge_outbox_oldest_pending_seconds Age of the oldest "
	                        "row waiting for a destination (0: none).\n# TYPE "
	                        "tradebridge_outbox_oldest_pending_seconds gauge\n");
	for (size_t i = 0; rc == 0 && i < r->n_nets; i++) {
		double age = 0;
		for (size_t k = 0; k < r->n_ages; k++)
			if (strcmp(r->ages[k].destination, r->nets[i].name) == 0 && now > r->ages[k].oldest_ms)
				age = (double)(now - r->ages[k].oldest_ms) / 1000.0;
		rc = tb_buf_printf(o, "tradebridge_outbox_oldest_pending_seconds{destination=\"%s\"} "
		                   "%.3f\n", r->nets[i].name, age);
	}
	return rc;
}

int tb_relay_metrics_text(struct tb_relay *r, struct tb_buf *o, struct tb_error *err)
{
	pthread_mutex_lock(&r->mu);
	int rc = per_network(r, o, "records_ingested", "Records taken from a source network.",
	                     offsetof(struct net, ingested));
	rc = rc ? rc : per_network(r, o, "records_verified", "Records whose proof was VALID.",
	                           offsetof(struct net, verified));
	rc = rc ? rc : per_network(r, o, "records_invalid", "Records whose proof was INVALID.",
	                           offsetof(struct net, invalid));
	rc = rc ? rc : per_network(r, o, "verify_unknown", "Batches held back: verification UNKNOWN.",
	                           offsetof(struct net, unknown));
	rc = rc ? rc : per_network(r, o, "records_delivered", "Deliveries confirmed, per destination.",
	                           offsetof(struct net, delivered));
	rc = rc ? rc : per_network(r, o, "delivery_failures", "Failed delivery attempts.",
	                           offsetof(struct net, failed));
	rc = rc ? rc : per_network(r, o, "records_dead", "Outbox rows moved to dead letters.",
	                           offsetof(struct net, dead));
	rc = rc ? rc : tb_buf_printf(o, "# HELP tradebridge_outbox_depth Rows waiting for delivery.\n"
	                                "# TYPE tradebridge_outbox_depth gauge\n"
	                                "tradebridge_outbox_depth %" PRId64 "\n"
	                                "# HELP tradebridge_dead_letters Rows in the dead-letter state.\n"
	                                "# TYPE tradebridge_dead_letters gauge\n"
	                                "tradebridge_dead_letters %" PRId64 "\n"
	                                "# HELP tradebridge_receipts Receipts in the log.\n"
	                                "# TYPE tradebridge_receipts gauge\n"
	                                "tradebridge_receipts %" PRId64 "\n",
	                             r->pending, r->dead_total, r->receipts);
	rc = rc ? rc : per_network(r, o, "ingest_errors", "Ingest attempts that failed (all kinds, "
	                           "each also logged, rate-limited).", offsetof(struct net, ingest_errors));
	rc = rc ? rc : lag_text(r, o);
	rc = rc ? rc : tb_buf_printf(o, "# HELP tradebridge_store_ok 1 while the store takes writes, "
	                                "0 after a failed write until one succeeds.\n"
	                                "# TYPE tradebridge_store_ok gauge\ntradebridge_store_ok %d\n"
	                                "# HELP tradebridge_store_errors_total Failed store writes.\n"
	                                "# TYPE tradebridge_store_errors_total counter\n"
	                                "tradebridge_store_errors_total %" PRIu64 "\n",
	                             !r->store_down, r->store_errors);
	rc = rc ? rc : latency_text(r, o);
	rc = rc ? rc : per_network(r, o, "records_superseded", "Rows not sent: the destination held "
	                           "a later version (receipt status superseded).",
	                           offsetof(struct net, superseded));
	rc = rc ? rc : per_network(r, o, "records_rejected", "Rows the destination refused for good "
	                           "(receipt status rejected; never retried).",
	                           offsetof(struct net, rejected));
	rc = rc ? rc : per_network(r, o, "replies", "Answers a destination gave, kept as records of "
	                           "its network (linked to the record they answer).",
	                           offsetof(struct net, replies));
	rc = rc ? rc : host_text(r, o);
	rc = rc ? rc : ages_text(r, o);
	pthread_mutex_unlock(&r->mu);
	return rc ? tb_error_set(err, rc, "metrics: output too large") : 0;
}
