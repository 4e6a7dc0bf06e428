/* Relay benchmark, run by hand (make contrib/bench/relay_bench):
 *   contrib/bench/relay_bench [DIR] [RECORDS] [RATE]
 * 1. throughput: RECORDS records through verify, translate, policy, the durable
 *    store and a signed receipt each, with an in-process source and sink;
 * 2. added latency p50/p99 at a fixed RATE (records/s) for 3 s, from the moment
 *    a record is available at the source to its delivery at the sink;
 * 3. the limits beside them, measured in the same run on the same disk: one
 *    fsync per record (4 KiB write + fdatasync) and libsecp256k1 signatures/s.
 * Invariant: prints figures only; no assertion, never part of make check. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "relay.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct src {
	long total, batch;
	double start, rate; /* rate > 0: record i is available at start + i/rate */
};

static int src_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
                    struct tb_error *err)
{
	struct src *s = state;
	long at = from->value[0] ? atol(from->value) : 0, end = at + s->batch;
	if (end > s->total)
		end = s->total;
	if (s->rate > 0) {
		long avail = (long)((now_s() - s->start) * s->rate) + 1;
		if (end > avail)
			end = avail > at ? avail : at;
	}
	(void)err;
	for (long i = at; i < end; i++) {
		char loc[64], doc[160];
		struct tb_json *j = NULL;
		snprintf(loc, sizeof loc, "0xbench:%ld", i);
		snprintf(doc, sizeof doc, "{\"n\":%ld,\"status\":\"certified\",\"holder\":\"PE-%06ld\","
		         "\"issuer\":\"PE/SUNAT\"}", i, i);
		if (tb_json_parse(doc, strlen(doc), NULL, &j, NULL) ||
		    tb_batch_push(out, loc, "aeo.event", j))
			return TB_ENOMEM;
	}
	snprintf(out->next.value, sizeof out->next.value, "%ld", end);
	return 0;
}

static int src_verify(void *state, const struct tb_native *rec, struct tb_proof *out,
                      struct tb_error *err)
{
	(void)state, (void)rec, (void)err;
	out->verdict = TB_VALID;
	strcpy(out->kind, "bench");
	return 0;
}

struct sink {
	struct src *src;
	double *lat;
	long n, cap;
};

static int sink_submit(void *state, const struct tb_outgoing *rec, struct tb_txref *out,
                       struct tb_status *st, struct tb_error *err)
{
	struct sink *k = state;
	const char *idem = rec->idempotency_key;
	(void)err, (void)st;
	if (k->lat && k->n < k->cap) {
		long i = (long)tb_json_get(tb_json_get(rec->doc, "data"), "n")->u.number.value;
		k->lat[k->n++] = now_s() - (k->src->start + (double)i / k->src->rate);
	}
	snprintf(out->ref, sizeof out->ref, "0x%.60s", idem);
	return 0;
}

static int sink_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                        struct tb_error *err)
{
	(void)state, (void)ref, (void)err;
	out->state = TB_CONFIRMED;
	return 0;
}

static const struct tb_adapter_ops src_ops = {.abi = TB_ADAPTER_ABI, .name = "bench-source",
                                              .poll = src_poll, .verify = src_verify};
static const struct tb_adapter_ops sink_ops = {.abi = TB_ADAPTER_ABI, .name = "bench-sink",
                                               .submit = sink_submit, .confirm = sink_confirm};

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

static struct tb_relay *make_relay(const char *path, struct src *s, struct sink *k)
{
	struct tb_error err;
	struct tb_relay_config cfg = {.store_path = path, .claim_max = 256,
	                              .outbox_high_water = 100000};
	memset(cfg.key, 0x42, 32);
	struct tb_relay *r;
	unlink(path);
	if (tb_relay_new(&r, &cfg, &err) || tb_relay_add_network(r, "src", &src_ops, s, &err) ||
	    tb_relay_add_network(r, "dst", &sink_ops, k, &err) ||
	    tb_relay_add_route(r, "src", "dst", &err)) {
		fprintf(stderr, "relay_bench: %s\n", err.msg);
		exit(1);
	}
	struct tb_relay_hooks h = {.policy = allow_all};
	tb_relay_set_hooks(r, &h);
	return r;
}

static void throughput(const char *dir, long records)
{
	char path[512];
	snprintf(path, sizeof path, "%s/bench-throughput.db", dir);
	struct src s = {.total = records, .batch = 256};
	struct sink k = {.src = &s};
	struct tb_relay *r = make_relay(path, &s, &k);
	struct tb_error err;
	struct tb_relay_counts c;
	double t0 = now_s();
	for (;;) {
		size_t work;
		if (tb_relay_step(r, &work, &err)) {
			fprintf(stderr, "relay_bench: %s\n", err.msg);
			exit(1);
		}
		if (work == 0)
			break;
	}
	double dt = now_s() - t0;
	tb_relay_counts(r, &c);
	printf("throughput:  %llu records delivered with signed receipts in %.2f s = %.0f records/s\n",
	       (unsigned long long)c.delivered, dt, (double)c.delivered / dt);
	tb_relay_free(r);
	unlink(path);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void latency(const char *dir, double rate)
{
	char path[512];
	snprintf(path, sizeof path, "%s/bench-latency.db", dir);
	long total = (long)(rate * 3);
	struct src s = {.total = total, .batch = 256, .rate = rate};
	struct sink k = {.src = &s, .lat = calloc((size_t)total, sizeof(double)), .cap = total};
	struct tb_relay *r = make_relay(path, &s, &k);
	struct tb_error err;
	s.start = now_s();
	while (k.n < total && now_s() - s.start < 30) {
		size_t work;
		if (tb_relay_step(r, &work, &err)) {
			fprintf(stderr, "relay_bench: %s\n", err.msg);
			exit(1);
		}
		if (work == 0)
			usleep(200);
	}
	qsort(k.lat, (size_t)k.n, sizeof(double), cmp);
	printf("latency:     at %.0f records/s for 3 s (%ld delivered): p50 %.2f ms, p99 %.2f ms\n",
	       rate, k.n, k.n ? k.lat[k.n / 2] * 1e3 : 0, k.n ? k.lat[(k.n * 99) / 100] * 1e3 : 0);
	free(k.lat);
	tb_relay_free(r);
	unlink(path);
}

static void fsync_cost(const char *dir)
{
	char path[512], block[4096];
	snprintf(path, sizeof path, "%s/bench-fsync.tmp", dir);
	memset(block, 'x', sizeof block);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		return;
	}
	int n = 300;
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fdatasync(fd) != 0)
			break;
	double dt = now_s() - t0;
	close(fd);
	unlink(path);
	printf("limit:       one fsync per record (4 KiB + fdatasync): %.1f us each = %.0f records/s\n",
	       dt / n * 1e6, n / dt);
}

static void sign_rate(void)
{
	uint8_t key[32], h[32], sig[65];
	struct tb_error err;
	memset(key, 0x42, 32);
	int n = 3000;
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		tb_keccak256(&i, sizeof i, h);
		if (tb_secp_sign(key, h, sig, &err))
			break;
	}
	double dt = now_s() - t0;
	printf("limit:       libsecp256k1 signatures: %.0f /s (%.1f us each)\n", n / dt, dt / n * 1e6);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	long records = argc > 2 ? atol(argv[2]) : 20000;
	double rate = argc > 3 ? atof(argv[3]) : 500;
	struct statfs fs;
	if (statfs(dir, &fs) == 0)
		printf("store dir:   %s (filesystem type 0x%lx%s)\n", dir, (unsigned long)fs.f_type,
		       fs.f_type == 0x01021994 ? ", tmpfs: fsync is free here, use a disk" : "");
	throughput(dir, records);
	latency(dir, rate);
	fsync_cost(dir);
	sign_rate();
	return 0;
}
