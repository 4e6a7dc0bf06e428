/* tradebridge receipts list|show|verify|tail: read the receipt log from a store
 * file or a live relay (REP replay, PUB tail) and check it. Invariants: verify
 * streams in bounded pages, checks every signature against the given signer and
 * every link, and names the first bad receipt; tail with a signer prints nothing
 * it has not verified; everything printed from a receipt or an error goes through
 * the printable escaper. Exit 0 VALID/found, 1 INVALID or not found, 2 usage,
 * 3 when the log could not be read. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "commands.h"
#include "crypto/secp256k1.h"
#include "keyfile.h"
#include "lib/hex.h"
#include "lib/num.h"
#include "lib/printable.h"
#include "store/store.h"

#define PAGE 256
#define UNRECEIPTED_SHOWN 4

static const char usage[] =
	"usage: tradebridge receipts list|show|verify|tail [options]\n"
	"  list [--from N] [--limit N] [--json]   receipts in order\n"
	"  show SEQ|RECORD_ID [--json]             one receipt (or those of one record);\n"
	"                                          exit 1 when there is none\n"
	"  verify --signer ADDRESS|-k KEYFILE      signatures and continuity; names the first\n"
	"         [--from N]                       bad receipt (exit 1), 0 when all verify;\n"
	"                                          with -s also that every delivered row has\n"
	"                                          its receipt\n"
	"  tail --pub URL [--count N] [--timeout MS] [--signer ADDRESS|-k KEYFILE]\n"
	"                                          follow live receipts, filling gaps by replay;\n"
	"                                          with a signer each is verified before it is\n"
	"                                          printed (INVALID and exit 1 on a bad one)\n"
	"  Where from: -s, --store FILE (the relay's SQLite store) or --rep URL (a relay's\n"
	"  replay socket, e.g. ipc:///run/tradebridge/receipts.rep).\n"
	"  For tls+tcp:// URLs: --tls-cert PEM (our certificate and key), --tls-ca PEM (the\n"
	"  relay certificates we accept), [--tls-server-name NAME] (the name the relay's\n"
	"  certificate must carry).\n";

struct opts {
	const char *store, *rep, *pub, *signer, *keyfile;
	struct tb_bus_tls tls;
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
		return tb_bus_sub_open(&s->sub, o->pub, o->rep, &o->tls, err);
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
		if (tb_receipt_write(r, &b, &err) == 0) {
			tb_printable_json_out((const char *)b.data, stdout);
			fputc('\n', stdout);
		}
		tb_buf_fini(&b);
		return;
	}
	const char *const field[] = {r->time,  r->record,      r->source_network, r->source_locator,
	                             r->verdict, r->destination, r->txref,          r->status};
	const char *const before[] = {"\t", "\t", "\t", " ", " ", "\t-> ", " ", " "};
	printf("%" PRIu64, r->seq);
	for (size_t i = 0; i < sizeof field / sizeof field[0]; i++) {
		fputs(before[i], stdout);
		tb_printable_fputs(field[i], stdout);
	}
	if (r->reason[0]) { /* why it ended so (a rejection's reason) */
		fputs("\t", stdout);
		tb_printable_fputs(r->reason, stdout);
	}
	fputc('\n', stdout);
}

static int cmd_list(struct source *s, const struct opts *o, struct tb_error *err)
{
	static struct page p;
	uint64_t from = o->from ? o->from : 1, left = o->limit ? o->limit : UINT64_MAX;
	while (left > 0) {
		int rc = src_page(s, from, left < PAGE ? (size_t)left : PAGE, &p, err);
		for (size_t i = 0; i < p.n; i++)
			print_one(&p.r[i], o->json); /* on an error: those before the bad one */
		if (rc || p.n == 0)
			return rc;
		from = p.r[p.n - 1].seq + 1;
		left -= p.n;
	}
	return 0;
}

struct shown {
	int json;
	size_t n;
};

static int show_record(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct shown *sh = ctx;
	(void)json;
	print_one(r, sh->json);
	sh->n++;
	return 0;
}

/* A SEQ is all digits (and must then be a valid seq); anything else is a record id. */
static int cmd_show(struct source *s, const struct opts *o, const char *what,
                    struct tb_error *err)
{
	static struct page p;
	uint64_t seq;
	if (what[strspn(what, "0123456789")] == 0) {
		struct tb_error nerr;
		if (tb_num_u64(what, 1, TB_RECEIPT_SEQ_MAX, "receipt seq", &seq, &nerr) != 0)
			return tb_error_set(err, TB_ECONFIG, "%s", nerr.msg);
		int rc = src_page(s, seq, 1, &p, err);
		if (rc == 0 && (p.n == 0 || p.r[0].seq != seq))
			return tb_error_set(err, TB_ENOTFOUND, "no receipt with seq %" PRIu64, seq);
		if (rc == 0)
			print_one(&p.r[0], o->json);
		return rc;
	}
	if (!s->is_store)
		return tb_error_set(err, TB_ECONFIG, "show by record id needs --store");
	struct shown sh = {o->json, 0};
	int rc = s->st.ops->receipt_by_record(s->st.state, what, show_record, &sh, err);
	if (rc == 0 && sh.n == 0)
		return tb_error_set(err, TB_ENOTFOUND, "no receipt for record %s", what);
	return rc;
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

/* A log cut short (or emptied) still chains; what shows it is an outbox row the
 * relay marked delivered whose receipt is gone. TB_EVERIFY names the first. */
static int cross_check_outbox(struct source *s, struct tb_error *err)
{
	struct tb_outbox_row rows[UNRECEIPTED_SHOWN];
	size_t n = 0;
	int64_t total = 0;
	int rc = s->st.ops->outbox_unreceipted(s->st.state, rows, UNRECEIPTED_SHOWN, &n, &total, err);
	if (rc || n == 0)
		return rc;
	struct tb_store_record rec = {0};
	struct tb_error rerr;
	if (s->st.ops->record_get(s->st.state, rows[0].record, &rec, &rerr) != 0)
		snprintf(rec.record_id, sizeof rec.record_id, "(record row %" PRId64 " missing too)",
		         rows[0].record);
	tb_store_record_fini(&rec);
	rc = tb_error_set(err, TB_EVERIFY, "outbox row %" PRId64 " (record %s, to %s) is %s "
	                  "but has no receipt; %" PRId64 " delivered row%s without a receipt in all: "
	                  "receipts were removed from the log", rows[0].id, rec.record_id,
	                  rows[0].destination, tb_outbox_state_name(rows[0].state), total,
	                  total == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		tb_outbox_row_fini(&rows[i]);
	return rc;
}

static int verify_result(int rc, const struct tb_error *err)
{
	if (rc == TB_EVERIFY) {
		fputs("INVALID: ", stdout);
		tb_printable_fputs(err->msg, stdout);
		fputc('\n', stdout);
		return TB_EXIT_INVALID;
	}
	tb_cli_error("receipts verify", err->msg);
	return TB_EXIT_UNKNOWN;
}

/* Checks one page against the receipt expected next and the hash carried over. */
static int verify_page(const struct page *p, uint64_t want, const uint8_t addr[20],
                       uint8_t prev[32], int have_prev, struct tb_error *err)
{
	if (p->r[0].seq != want)
		return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": expected seq %" PRIu64
		                    " (gap: receipts missing)", p->r[0].seq, want);
	int rc = tb_receipt_verify_chain(p->r, p->n, addr, have_prev ? prev : NULL, NULL, err);
	return rc ? rc : tb_receipt_hash(&p->r[p->n - 1], prev, err);
}

/* Returns TB_EXIT_*: verifies page after page, carrying the last hash across. */
static int cmd_verify(struct source *s, const struct opts *o, const uint8_t addr[20])
{
	static struct page p;
	struct tb_error err;
	uint8_t prev[32];
	uint64_t want = o->from ? o->from : 1, total = 0;
	for (;;) {
		int rc = src_page(s, want, PAGE, &p, &err);
		if (rc == 0 && p.n == 0)
			break;
		rc = rc ? rc : verify_page(&p, want, addr, prev, total > 0, &err);
		if (rc)
			return verify_result(rc, &err);
		total += p.n;
		want = p.r[p.n - 1].seq + 1;
	}
	int rc = s->is_store ? cross_check_outbox(s, &err) : 0;
	if (rc)
		return verify_result(rc, &err);
	char a[43];
	tb_eth_address_checksum(addr, a);
	printf("VALID: %" PRIu64 " receipts from seq %" PRIu64 ", signed by %s, chained without a gap%s\n",
	       total, o->from ? o->from : 1, a,
	       s->is_store ? ", every delivered row has its receipt" : "");
	return TB_EXIT_OK;
}

/* tail's state: what it expects next and, when verifying, the hash it chains to. */
struct tailer {
	struct source *s;
	const struct opts *o;
	const uint8_t *signer; /* NULL: receipts are printed unverified */
	uint8_t prev[32];
	int have_prev;
	uint64_t next, seen;
};

static int tail_done(const struct tailer *t)
{
	return t->o->count && t->seen >= t->o->count;
}

/* Verify r against the chain so far (when there is a signer), then print it. */
static int tail_emit(struct tailer *t, const struct tb_receipt *r, struct tb_error *err)
{
	if (t->signer) {
		if (t->next && r->seq != t->next)
			return tb_error_set(err, TB_EVERIFY, "receipt seq %" PRIu64 ": expected seq %"
			                    PRIu64 " (gap: replay did not fill it)", r->seq, t->next);
		int rc = tb_receipt_verify_chain(r, 1, t->signer, t->have_prev ? t->prev : NULL, NULL,
		                                 err);
		rc = rc ? rc : tb_receipt_hash(r, t->prev, err);
		if (rc)
			return rc;
		t->have_prev = 1;
	}
	print_one(r, t->o->json);
	fflush(stdout);
	t->seen++;
	t->next = r->seq + 1;
	return 0;
}

/* Fill t->next .. upto-1 from REP, page after page. */
static int tail_fill(struct tailer *t, uint64_t upto, struct tb_error *err)
{
	static struct page fill;
	while (t->next < upto && !tail_done(t)) {
		uint64_t want = upto - t->next;
		int rc = src_page(t->s, t->next, want < PAGE ? (size_t)want : PAGE, &fill, err);
		if (rc || fill.n == 0)
			return rc; /* nothing more: emitting the live one names the gap */
		for (size_t i = 0; i < fill.n && !tail_done(t); i++)
			if ((rc = tail_emit(t, &fill.r[i], err)) != 0)
				return rc;
	}
	return 0;
}

static int tail_one(struct tailer *t, const struct tb_receipt *r, struct tb_error *err)
{
	if (t->next && r->seq > t->next && t->o->rep) {
		int rc = tail_fill(t, r->seq, err);
		if (rc || tail_done(t))
			return rc;
	} else if (t->next && r->seq > t->next) {
		fprintf(stderr, "tradebridge receipts tail: receipts %" PRIu64 "..%" PRIu64 " were "
		        "missed (give --rep URL to fill gaps); the chain is checked again from %" PRIu64
		        "\n", t->next, r->seq - 1, r->seq);
		t->have_prev = 0;
		t->next = 0;
	}
	if (t->next && r->seq < t->next)
		return 0; /* already printed */
	return tail_emit(t, r, err);
}

static int cmd_tail(struct source *s, const struct opts *o, const uint8_t *signer,
                    struct tb_error *err)
{
	struct tailer t = {.s = s, .o = o, .signer = signer, .next = o->from};
	int idle = 0, limit = o->timeout_ms > 0 ? o->timeout_ms / 200 + 1 : -1;
	if (!signer)
		fprintf(stderr, "tradebridge receipts tail: not verifying signatures (give --signer "
		        "ADDRESS or -k KEYFILE)\n");
	while (!tail_done(&t) && (limit < 0 || idle < limit)) {
		struct tb_receipt r;
		int rc = tb_bus_sub_recv(s->sub, &r, 200, err);
		if (rc == TB_EUNAVAIL) {
			idle++;
			continue;
		}
		idle = 0;
		if (rc == TB_EINVAL && signer)
			rc = TB_EVERIFY; /* a message on the relay's PUB that is not a receipt */
		rc = rc ? rc : tail_one(&t, &r, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* A numeric option's value, strictly; 0 or TB_ECONFIG with the message printed. */
static int num_opt(const char *name, const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	struct tb_error err;
	if (tb_num_u64(val, min, max, name, out, &err) == 0)
		return 0;
	tb_cli_error("receipts", err.msg);
	return TB_ECONFIG;
}

static int parse_one(int c, struct opts *o)
{
	uint64_t ms = 0;
	int rc = 0;
	switch (c) {
	case 's': o->store = optarg; break;
	case 'r': o->rep = optarg; break;
	case 'p': o->pub = optarg; break;
	case 'S': o->signer = optarg; break;
	case 'k': o->keyfile = optarg; break;
	case 'T': o->tls.cert_key_file = optarg; break;
	case 'C': o->tls.ca_file = optarg; break;
	case 'N': o->tls.server_name = optarg; break;
	case 'f': rc = num_opt("--from", optarg, 1, TB_RECEIPT_SEQ_MAX, &o->from); break;
	case 'l': rc = num_opt("--limit", optarg, 1, TB_RECEIPT_SEQ_MAX, &o->limit); break;
	case 'n': rc = num_opt("--count", optarg, 1, TB_RECEIPT_SEQ_MAX, &o->count); break;
	case 't':
		rc = num_opt("--timeout", optarg, 1, INT_MAX, &ms);
		o->timeout_ms = (int)ms;
		break;
	case 'j': o->json = 1; break;
	case 'h': fputs(usage, stdout); return 1;
	default: return -1;
	}
	return rc ? -2 : 0;
}

/* 0, 1 after --help, -1 for an unknown option, -2 for a bad value (already said). */
static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'}, {"rep", required_argument, NULL, 'r'},
		{"pub", required_argument, NULL, 'p'},   {"signer", required_argument, NULL, 'S'},
		{"key", required_argument, NULL, 'k'},   {"from", required_argument, NULL, 'f'},
		{"limit", required_argument, NULL, 'l'}, {"count", required_argument, NULL, 'n'},
		{"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
		{"tls-cert", required_argument, NULL, 'T'}, {"tls-ca", required_argument, NULL, 'C'},
		{"tls-server-name", required_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	int c, rc = 0;
	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "s:k:h", longopts, NULL)) != -1)
		rc = parse_one(c, o);
	return rc;
}

static int check_args(int argc, char **argv, const struct opts *o, const char *sub)
{
	if (!sub || (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "verify") &&
	             strcmp(sub, "tail")))
		return tb_cli_usage("receipts", "expected list, show, verify or tail");
	if (strcmp(sub, "show") == 0 ? optind + 2 != argc : optind + 1 != argc)
		return tb_cli_usage("receipts", strcmp(sub, "show") == 0 ? "show takes one SEQ or "
		                    "RECORD_ID" : "unexpected argument after the subcommand");
	if (strcmp(sub, "tail") == 0 && (!o->pub || o->store))
		return tb_cli_usage("receipts", "tail needs --pub URL (and --rep URL to fill gaps)");
	return 0;
}

static int run_sub(struct source *s, const struct opts *o, const char *sub, const char *arg,
                   const uint8_t *addr, struct tb_error *err)
{
	if (strcmp(sub, "list") == 0)
		return cmd_list(s, o, err);
	if (strcmp(sub, "show") == 0)
		return cmd_show(s, o, arg, err);
	return cmd_tail(s, o, addr, err);
}

static int exit_status(const char *sub, int rc, const struct tb_error *err)
{
	char cmd[32];
	if (rc == TB_EVERIFY) {
		fputs("INVALID: ", stdout);
		tb_printable_fputs(err->msg, stdout);
		fputc('\n', stdout);
		return TB_EXIT_INVALID;
	}
	snprintf(cmd, sizeof cmd, "receipts %s", sub);
	tb_cli_error(cmd, err->msg);
	return rc == TB_ENOTFOUND ? TB_EXIT_INVALID : rc == TB_ECONFIG ? TB_EXIT_USAGE
	                                                               : TB_EXIT_UNKNOWN;
}

int tb_cmd_receipts(int argc, char **argv)
{
	struct opts o;
	struct source s;
	struct tb_error err;
	int p = parse(argc, argv, &o);
	if (p != 0)
		return p > 0 ? TB_EXIT_OK : p == -2 ? TB_EXIT_USAGE : tb_cli_bad_option("receipts", argv);
	const char *sub = optind < argc ? argv[optind] : NULL;
	int bad = check_args(argc, argv, &o, sub);
	if (bad)
		return bad;
	uint8_t addr[20];
	int want_signer = strcmp(sub, "verify") == 0 || (o.signer || o.keyfile);
	if (want_signer && signer_of(&o, addr, &err) != 0) {
		tb_cli_error("receipts", err.msg);
		return TB_EXIT_USAGE;
	}
	if (src_open(&s, &o, &err) != 0) {
		tb_cli_error("receipts", err.msg);
		return err.code == TB_ECONFIG ? TB_EXIT_USAGE : TB_EXIT_UNKNOWN;
	}
	int status = TB_EXIT_OK;
	if (strcmp(sub, "verify") == 0) {
		status = cmd_verify(&s, &o, addr);
	} else {
		int rc = run_sub(&s, &o, sub, argv[optind + 1], want_signer ? addr : NULL, &err);
		status = rc ? exit_status(sub, rc, &err) : TB_EXIT_OK;
	}
	src_close(&s);
	return status;
}
