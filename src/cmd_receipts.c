/* tradebridge receipts list|show|verify|tail: read the receipt log from a store
 * file or a live relay (REP replay, PUB tail) and check it. Invariant: verify
 * streams in bounded pages, checks every signature against the given signer and
 * every link, and names the first bad receipt; exit 0 VALID, 1 INVALID,
 * 3 when the log could not be read, 2 usage. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "commands.h"
#include "crypto/secp256k1.h"
#include "keyfile.h"
#include "lib/hex.h"
#include "store/store.h"

#define PAGE 256

static const char usage[] =
	"usage: tradebridge receipts list|show|verify|tail [options]\n"
	"  list [--from N] [--limit N] [--json]   receipts in order\n"
	"  show SEQ|RECORD_ID [--json]             one receipt (or those of one record)\n"
	"  verify --signer ADDRESS|-k KEYFILE      signatures and continuity; names the first\n"
	"         [--from N]                       bad receipt (exit 1), 0 when all verify\n"
	"  tail --pub URL [--count N] [--timeout MS] [--signer ADDRESS]\n"
	"                                          follow live receipts, filling gaps by replay\n"
	"  Where from: -s, --store FILE (the relay's SQLite store) or --rep URL (a relay's\n"
	"  replay socket, e.g. ipc:///run/tradebridge/receipts.rep).\n";

struct opts {
	const char *store, *rep, *pub, *signer, *keyfile;
	uint64_t from, limit, count;
	int json, timeout_ms;
};

struct source {
	struct tb_store st;
	struct tb_bus_sub *sub;
	int is_store;
};

struct page {
	struct tb_receipt r[PAGE];
	size_t n;
};

static int page_add(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct page *p = ctx;
	(void)json;
	if (p->n == PAGE)
		return 1;
	p->r[p->n++] = *r;
	return 0;
}

static int src_open(struct source *s, const struct opts *o, struct tb_error *err)
{
	memset(s, 0, sizeof *s);
	if (o->store) {
		s->is_store = 1;
		return tb_store_open(&s->st, o->store, 1, err);
	}
	if (o->rep || o->pub)
		return tb_bus_sub_open(&s->sub, o->pub, o->rep, NULL, err);
	return tb_error_set(err, TB_ECONFIG, "say where the receipts are: --store FILE or --rep URL");
}

static void src_close(struct source *s)
{
	if (s->is_store)
		tb_store_close(&s->st);
	tb_bus_sub_close(s->sub);
}

static int src_page(struct source *s, uint64_t from, size_t max, struct page *p,
                    struct tb_error *err)
{
	p->n = 0;
	if (max > PAGE)
		max = PAGE;
	if (s->is_store) {
		int rc = s->st.ops->receipt_range(s->st.state, from, max, page_add, p, err);
		return rc < 0 ? rc : 0;
	}
	return tb_bus_replay(s->sub, from, p->r, max, &p->n, 5000, err);
}

static void print_one(const struct tb_receipt *r, int json)
{
	if (json) {
		struct tb_buf b;
		struct tb_error err;
		tb_buf_init(&b, TB_RECEIPT_MAX_BYTES);
		if (tb_receipt_write(r, &b, &err) == 0)
			printf("%s\n", (char *)b.data);
		tb_buf_fini(&b);
		return;
	}
	printf("%" PRIu64 "\t%s\t%s\t%s %s %s\t-> %s %s %s\n", r->seq, r->time, r->record,
	       r->source_network, r->source_locator, r->verdict, r->destination, r->txref, r->status);
}

static int cmd_list(struct source *s, const struct opts *o, struct tb_error *err)
{
	static struct page p;
	uint64_t from = o->from ? o->from : 1, left = o->limit ? o->limit : UINT64_MAX;
	while (left > 0) {
		int rc = src_page(s, from, left < PAGE ? (size_t)left : PAGE, &p, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < p.n; i++)
			print_one(&p.r[i], o->json);
		if (p.n == 0)
			return 0;
		from = p.r[p.n - 1].seq + 1;
		left -= p.n;
	}
	return 0;
}

static int show_record(void *ctx, const struct tb_receipt *r, const char *json)
{
	(void)json;
	print_one(r, *(int *)ctx);
	return 0;
}

static int cmd_show(struct source *s, const struct opts *o, const char *what,
                    struct tb_error *err)
{
	static struct page p;
	char *end;
	unsigned long long seq = strtoull(what, &end, 10);
	if (*end == 0 && seq > 0) {
		int rc = src_page(s, seq, 1, &p, err);
		if (rc == 0 && (p.n == 0 || p.r[0].seq != seq))
			return tb_error_set(err, TB_ENOTFOUND, "no receipt with seq %llu", seq);
		if (rc == 0)
			print_one(&p.r[0], o->json);
		return rc;
	}
	if (!s->is_store)
		return tb_error_set(err, TB_ENOTSUP, "show by record id needs --store");
	int json = o->json;
	return s->st.ops->receipt_by_record(s->st.state, what, show_record, &json, err);
}

static int signer_of(const struct opts *o, uint8_t addr[20], struct tb_error *err)
{
	if (o->keyfile) {
		uint8_t key[32], pub[65];
		int rc = tb_keyfile_read(o->keyfile, key, err);
		rc = rc ? rc : tb_secp_pubkey(key, pub, err);
		explicit_bzero(key, sizeof key);
		if (rc == 0)
			tb_eth_address(pub, addr);
		return rc;
	}
	size_t n = 0;
	if (!o->signer || strncmp(o->signer, "0x", 2) != 0 || strlen(o->signer) != 42 ||
	    tb_hex_decode(o->signer + 2, 40, addr, 20, &n, NULL) != 0)
		return tb_error_set(err, TB_ECONFIG, "give the relay's address as --signer 0x<40 hex> "
		                    "or its key file as -k FILE");
	return 0;
}

/* Returns TB_EXIT_*: verifies page after page, carrying the last hash across. */
static int cmd_verify(struct source *s, const struct opts *o, const uint8_t addr[20])
{
	static struct page p;
	struct tb_error err;
	uint8_t prev[32];
	uint64_t want = o->from ? o->from : 1, total = 0;
	int have_prev = 0;
	for (;;) {
		if (src_page(s, want, PAGE, &p, &err) != 0) {
			fprintf(stderr, "tradebridge receipts verify: %s\n", err.msg);
			return TB_EXIT_UNKNOWN;
		}
		if (p.n == 0)
			break;
		size_t bad = 0;
		int rc = p.r[0].seq != want
		             ? tb_error_set(&err, TB_EVERIFY, "receipt seq %" PRIu64 ": expected seq %"
		                            PRIu64 " (gap: receipts missing)", p.r[0].seq, want)
		             : tb_receipt_verify_chain(p.r, p.n, addr, have_prev ? prev : NULL, &bad, &err);
		if (rc == 0)
			rc = tb_receipt_hash(&p.r[p.n - 1], prev, &err);
		if (rc) {
			printf("INVALID: %s\n", err.msg);
			return TB_EXIT_INVALID;
		}
		have_prev = 1;
		total += p.n;
		want = p.r[p.n - 1].seq + 1;
	}
	char a[43];
	tb_eth_address_checksum(addr, a);
	printf("VALID: %" PRIu64 " receipts from seq %" PRIu64 ", signed by %s, chained without a gap\n",
	       total, o->from ? o->from : 1, a);
	return TB_EXIT_OK;
}

static int cmd_tail(struct source *s, const struct opts *o, struct tb_error *err)
{
	static struct page fill;
	uint64_t next = o->from, seen = 0;
	int idle = 0, limit = o->timeout_ms > 0 ? o->timeout_ms / 200 + 1 : -1;
	while ((!o->count || seen < o->count) && (limit < 0 || idle < limit)) {
		struct tb_receipt r;
		int rc = tb_bus_sub_recv(s->sub, &r, 200, err);
		if (rc == TB_EUNAVAIL) {
			idle++;
			continue;
		}
		if (rc)
			return rc;
		idle = 0;
		if (next && r.seq > next && o->rep) {
			rc = src_page(s, next, (size_t)(r.seq - next), &fill, err);
			for (size_t i = 0; rc == 0 && i < fill.n; i++, seen++)
				print_one(&fill.r[i], o->json);
			if (rc)
				return rc;
		}
		if (next && r.seq < next)
			continue;
		print_one(&r, o->json);
		fflush(stdout);
		seen++;
		next = r.seq + 1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'}, {"rep", required_argument, NULL, 'r'},
		{"pub", required_argument, NULL, 'p'},   {"signer", required_argument, NULL, 'S'},
		{"key", required_argument, NULL, 'k'},   {"from", required_argument, NULL, 'f'},
		{"limit", required_argument, NULL, 'l'}, {"count", required_argument, NULL, 'n'},
		{"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	int c;
	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->store = optarg; break;
		case 'r': o->rep = optarg; break;
		case 'p': o->pub = optarg; break;
		case 'S': o->signer = optarg; break;
		case 'k': o->keyfile = optarg; break;
		case 'f': o->from = strtoull(optarg, NULL, 10); break;
		case 'l': o->limit = strtoull(optarg, NULL, 10); break;
		case 'n': o->count = strtoull(optarg, NULL, 10); break;
		case 't': o->timeout_ms = atoi(optarg); break;
		case 'j': o->json = 1; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return -1;
		}
	}
	return 0;
}

int tb_cmd_receipts(int argc, char **argv)
{
	struct opts o;
	struct source s;
	struct tb_error err;
	int p = parse(argc, argv, &o);
	if (p > 0)
		return TB_EXIT_OK;
	if (p < 0)
		return tb_cli_bad_option("receipts", argv);
	const char *sub = optind < argc ? argv[optind] : NULL;
	if (!sub || (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "verify") &&
	             strcmp(sub, "tail")))
		return tb_cli_usage("receipts", "expected list, show, verify or tail");
	if (strcmp(sub, "show") == 0 && optind + 2 != argc)
		return tb_cli_usage("receipts", "show takes one SEQ or RECORD_ID");
	if (strcmp(sub, "tail") == 0 && (!o.pub || o.store))
		return tb_cli_usage("receipts", "tail needs --pub URL (and --rep URL to fill gaps)");
	uint8_t addr[20];
	if (strcmp(sub, "verify") == 0 && signer_of(&o, addr, &err) != 0) {
		fprintf(stderr, "tradebridge receipts: %s\n", err.msg);
		return TB_EXIT_USAGE;
	}
	if (src_open(&s, &o, &err) != 0) {
		fprintf(stderr, "tradebridge receipts: %s\n", err.msg);
		return err.code == TB_ECONFIG ? TB_EXIT_USAGE : TB_EXIT_UNKNOWN;
	}
	int rc, status = TB_EXIT_OK;
	if (strcmp(sub, "verify") == 0) {
		status = cmd_verify(&s, &o, addr);
		rc = 0;
	} else if (strcmp(sub, "list") == 0) {
		rc = cmd_list(&s, &o, &err);
	} else if (strcmp(sub, "show") == 0) {
		rc = cmd_show(&s, &o, argv[optind + 1], &err);
	} else {
		rc = cmd_tail(&s, &o, &err);
	}
	src_close(&s);
	if (rc) {
		fprintf(stderr, "tradebridge receipts %s: %s\n", sub, err.msg);
		status = rc == TB_ENOTFOUND ? TB_EXIT_INVALID : TB_EXIT_UNKNOWN;
	}
	return status;
}
