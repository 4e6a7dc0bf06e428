/* tradebridge verify: one entry for every proof-carrying input. It looks at what it
 * was given and dispatches: an eth_getProof result (checked here against a stateRoot
 * or a block header), a log locator (--tx/--log, checked live by the ethereum module)
 * or an OpenAttestation document (the tradetrust module). Invariant: the exit status
 * is the verdict (0 VALID, 1 INVALID, 3 UNKNOWN) and 2 only for usage; a check that
 * could not be made is UNKNOWN, never INVALID. */
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "commands.h"
#include "lib/num.h"
#include "lib/printable.h"
#include "evm/ethproof.h"
#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/json.h"
#include "config.h"

#define VERIFY_MAX_INPUT ((size_t)64 << 20)
#define VERIFY_MAX_OPTS 32

static const char verify_usage[] =
	"usage: tradebridge verify [-c CONFIG] [--json] [OPTIONS] [FILE]\n"
	"  Verify a proof-carrying input and print VALID, INVALID or UNKNOWN with the reasons.\n"
	"  FILE (or stdin) is one of:\n"
	"    an eth_getProof result (or the JSON-RPC answer holding it), checked against\n"
	"      --state-root HEX     the 32-byte state root, or\n"
	"      --block BLOCK.json   an eth_getBlockBy* result whose hash is recomputed first;\n"
	"    an OpenAttestation document (v2 SHA3MerkleProof or v3 proof), checked by the\n"
	"      tradetrust adapter with --rpc URL and --dns HOST:PORT.\n"
	"  Without FILE, a log is checked live on chain by the ethereum adapter:\n"
	"      --rpc URL --tx HASH --log INDEX\n"
	"  -c, --config FILE  load the adapter modules as run does, with the file's\n"
	"    adapter_path (without -c: $TRADEBRIDGE_ADAPTER_PATH and the built-in folder).\n"
	"  -o, --option NAME=VALUE  an option of the adapter that checks the input, checked\n"
	"    against its table (tradebridge adapters --describe NAME); --rpc and --dns are\n"
	"    -o rpc= and -o dns=. VALUE is JSON when it parses as JSON, else a string.\n"
	"  --json prints the proof (verdict, kind, reason, detail) as JSON.\n"
	"  Exit status: 0 VALID, 1 INVALID, 2 usage, 3 UNKNOWN (could not check).\n";

struct verify_args {
	int json;
	const char *state_root, *block, *rpc, *tx, *log, *dns, *file;
	const char *config; /* -c: its adapter_path is searched for the modules */
	const char *opt[VERIFY_MAX_OPTS]; /* -o NAME=VALUE, for the adapter's option table */
	size_t n_opt;
};

static const char *verdict_name(enum tb_verdict v)
{
	return v == TB_VALID ? "VALID" : v == TB_INVALID ? "INVALID" : "UNKNOWN";
}

/* reason is truncated on purpose: its head says what failed. */
static void set_reason(struct tb_proof *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct tb_proof *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
}

static int verdict_exit(enum tb_verdict v)
{
	return v == TB_VALID ? TB_EXIT_OK : v == TB_INVALID ? TB_EXIT_INVALID : TB_EXIT_UNKNOWN;
}

static int print_proof(const struct tb_proof *p, int json)
{
	struct tb_buf out;
	struct tb_error e = {0};
	tb_buf_init(&out, 0);
	if (json) {
		struct tb_json *o = tb_json_new_object();
		const char *v = verdict_name(p->verdict);
		tb_json_object_set(o, "verdict", 7, tb_json_new_string(v, strlen(v)));
		tb_json_object_set(o, "kind", 4, tb_json_new_string(p->kind, strlen(p->kind)));
		tb_json_object_set(o, "reason", 6, tb_json_new_string(p->reason, strlen(p->reason)));
		tb_json_object_set(o, "detail", 6,
		                   p->detail ? tb_json_clone(p->detail) : tb_json_new_null());
		tb_json_write_pretty(o, &out, &e);
		tb_json_free(o);
		tb_printable_json_out(out.len ? (char *)out.data : "{}", stdout);
		fputc('\n', stdout);
	} else {
		printf("%s ", verdict_name(p->verdict));
		tb_printable_fputs(p->kind, stdout);
		if (p->reason[0])
			fputs("\nreason: ", stdout), tb_printable_fputs(p->reason, stdout);
		if (p->detail && tb_json_write_pretty(p->detail, &out, &e) == 0 && out.len)
			fputs("\ndetail: ", stdout), tb_printable_json_fputs((char *)out.data, stdout);
		fputc('\n', stdout);
	}
	tb_buf_fini(&out);
	return verdict_exit(p->verdict);
}

/* Turn an op's failure into a verdict: only a checked-and-wrong proof is INVALID. */
static void proof_from_error(struct tb_proof *p, int rc, const struct tb_error *e)
{
	p->verdict = rc == TB_EVERIFY ? TB_INVALID : TB_UNKNOWN;
	set_reason(p, "%s", e->msg[0] ? e->msg : tb_strerror(rc));
}

/* opts with every -o NAME=VALUE set over it (a VALUE that is JSON is taken as
 * such, anything else as a string): the adapter's option table checks them. */
static struct tb_json *with_o(const struct verify_args *a, const struct tb_json *opts,
                              struct tb_error *err)
{
	struct tb_json *o = opts ? tb_json_clone(opts) : tb_json_new_object();
	for (size_t i = 0; o && i < a->n_opt; i++) {
		const char *eq = strchr(a->opt[i], '=');
		if (!eq || eq == a->opt[i]) {
			tb_error_set(err, TB_ECONFIG, "-o %s: expected NAME=VALUE (an option of the "
			             "adapter: tradebridge adapters --describe NAME)", a->opt[i]);
			tb_json_free(o);
			return NULL;
		}
		struct tb_json *v = NULL;
		struct tb_error ignored;
		if (tb_json_parse(eq + 1, strlen(eq + 1), NULL, &v, &ignored) != 0)
			v = tb_json_new_string(eq + 1, strlen(eq + 1));
		if (tb_json_object_set(o, a->opt[i], (size_t)(eq - a->opt[i]), v) != 0) {
			tb_error_set(err, TB_ENOMEM, "out of memory");
			tb_json_free(o);
			return NULL;
		}
	}
	if (!o)
		tb_error_set(err, TB_ENOMEM, "out of memory");
	return o;
}

/* Adapter `name` from the configuration path (its adapter_path with -c), configured
 * from opts and opened without a host, runs verify on native. */
static int verify_with_module(const char *name, const struct tb_json *opts,
                              const struct tb_native *native, const struct verify_args *a)
{
	struct tb_config *c = calloc(1, sizeof *c); /* finished even when never loaded */
	struct tb_config_net n;
	struct tb_error e = {0};
	struct tb_proof proof = {.verdict = TB_UNKNOWN};
	int status = TB_EXIT_USAGE;
	if (c == NULL)
		return TB_EXIT_USAGE;
	struct tb_json *all = with_o(a, opts, &e);
	int rc = all ? tb_config_load(c, a->config, NULL, TB_CONFIG_MODULES, &e) : TB_ECONFIG;
	if (rc == 0 && (rc = tb_config_adapter_open(c, name, all, name, &n, &e)) == 0) {
		rc = n.mod->ops->verify ? n.mod->ops->verify(n.state, native, &proof, &e)
		                        : tb_error_set(&e, TB_ENOTSUP, "the module has no verify "
		                                                       "operation");
		tb_config_net_close(&n);
		if (rc == TB_ENOTSUP)
			tb_error_prefix(&e, "%s", name);
	}
	if (rc == TB_ECONFIG || rc == TB_ENOTSUP || rc == TB_ENOTFOUND || rc == TB_ENOMEM) {
		tb_cli_error("verify", e.msg);
	} else {
		if (rc < 0)
			proof_from_error(&proof, rc, &e);
		status = print_proof(&proof, a->json);
	}
	tb_proof_fini(&proof);
	tb_json_free(all);
	tb_config_fini(c);
	free(c);
	return status;
}

static int set_str(struct tb_json *o, const char *k, const char *v)
{
	return v ? tb_json_object_set(o, k, strlen(k), tb_json_new_string(v, strlen(v))) : 0;
}

static int verify_log(const struct verify_args *a)
{
	uint64_t idx = 0;
	if (!a->rpc || tb_num_u64(a->log, 0, 1000000, "--log", &idx, NULL) != 0 ||
	    strlen(a->tx) != 66)
		return tb_cli_usage("verify", "a log locator is --rpc URL --tx 0xHASH(32 bytes) "
		                              "--log INDEX");
	struct tb_native n = {0};
	snprintf(n.locator, sizeof(n.locator), "%s:%" PRIu64, a->tx, idx);
	snprintf(n.doctype, sizeof(n.doctype), "evm.log");
	struct tb_json *opts = tb_json_new_object();
	n.doc = tb_json_new_object();
	set_str(opts, "rpc", a->rpc);
	set_str(n.doc, "transactionHash", a->tx);
	tb_json_object_set(n.doc, "logIndex", 8, tb_json_new_number((double)idx));
	int st = verify_with_module("ethereum", opts, &n, a);
	tb_json_free(opts);
	tb_json_free(n.doc);
	return st;
}

static int is_oa_document(const struct tb_json *d)
{
	const struct tb_json *sig = tb_json_get(d, "signature");
	const char *t = tb_json_string(tb_json_get(sig, "type"));
	if (t && strcmp(t, "SHA3MerkleProof") == 0)
		return 1;
	const struct tb_json *p = tb_json_get(d, "proof");
	return p != NULL && (p->type == TB_JSON_OBJECT || p->type == TB_JSON_ARRAY);
}

static int verify_oa(const struct verify_args *a, struct tb_json *doc)
{
	struct tb_native n = {0};
	snprintf(n.locator, sizeof(n.locator), "%s", a->file ? a->file : "stdin");
	snprintf(n.doctype, sizeof(n.doctype), "oa.document");
	n.doc = doc;
	struct tb_json *opts = tb_json_new_object();
	set_str(opts, "rpc", a->rpc);
	set_str(opts, "dns", a->dns);
	int st = verify_with_module("tradetrust", opts, &n, a);
	tb_json_free(opts);
	return st;
}

/* A file's JSON; a JSON-RPC answer {"jsonrpc","result"} is unwrapped to its result. */
static int read_json(const char *path, struct tb_json **out)
{
	struct tb_buf b;
	struct tb_error e = {0};
	struct tb_json_limits lim = {.max_bytes = VERIFY_MAX_INPUT};
	tb_buf_init(&b, VERIFY_MAX_INPUT);
	int rc = tb_buf_read_file(&b, path, &e);
	if (rc == 0)
		rc = tb_json_parse(b.len ? (const char *)b.data : "", b.len, &lim, out, &e);
	tb_buf_fini(&b);
	if (rc < 0) {
		tb_error_prefix(&e, "%s", path ? path : "stdin"), tb_cli_error("verify", e.msg);
		return rc;
	}
	struct tb_json *res = tb_json_get(*out, "result");
	if (tb_json_get(*out, "jsonrpc") && res && res->type == TB_JSON_OBJECT) {
		struct tb_json *inner = tb_json_clone(res);
		tb_json_free(*out);
		*out = inner;
	}
	return *out ? 0 : TB_ENOMEM;
}

/* The state root to check against: --state-root, or a block whose hash holds. */
static int state_root_of(const struct verify_args *a, uint8_t root[32], struct tb_proof *p)
{
	struct tb_error e = {0};
	size_t n;
	if (a->state_root) {
		if (tb_hex_decode(a->state_root, strlen(a->state_root), root, 32, &n, &e) < 0 || n != 32)
			return tb_cli_usage("verify", "--state-root takes 32 bytes of hex");
		return 0;
	}
	struct tb_json *blk = NULL;
	if (read_json(a->block, &blk) < 0)
		return TB_EXIT_USAGE;
	const char *sr = tb_json_string(tb_json_get(blk, "stateRoot"));
	int rc = tb_ethproof_check_header(blk, &e);
	if (rc == 0 && (!sr || tb_hex_decode(sr, strlen(sr), root, 32, &n, &e) < 0 || n != 32))
		rc = tb_error_set(&e, TB_EINVAL, "block has no 32-byte stateRoot");
	tb_json_free(blk);
	if (rc < 0) {
		p->verdict = TB_INVALID;
		set_reason(p, "block %s: %s", a->block, e.msg);
		return -1;
	}
	return 0;
}

static int verify_getproof(const struct verify_args *a, const struct tb_json *res)
{
	struct tb_proof p = {.verdict = TB_VALID};
	uint8_t root[32];
	snprintf(p.kind, sizeof(p.kind), "evm-getproof");
	if (!a->state_root && !a->block)
		return tb_cli_usage("verify", "an eth_getProof result needs --state-root HEX or "
		                              "--block BLOCK.json");
	int rc = state_root_of(a, root, &p);
	if (rc > 0)
		return rc;
	if (rc == 0) {
		struct tb_eth_account acct;
		struct tb_eth_slot slots[16];
		size_t ns = 0;
		struct tb_error e = {0};
		rc = tb_ethproof_verify_getproof(res, root, &acct, slots, 16, &ns, &e);
		char hex[67] = "0x";
		tb_hex_encode(root, 32, hex + 2);
		if (rc < 0) {
			/* A malformed or wrong proof is INVALID; only a limit is "could not check". */
			p.verdict = rc == TB_ELIMIT || rc == TB_ENOMEM ? TB_UNKNOWN : TB_INVALID;
			set_reason(&p, "%s", e.msg);
		} else {
			const char *addr = tb_json_string(tb_json_get(res, "address"));
			set_reason(&p, "account %s %s and %zu storage slot(s) proven "
			         "against state root %s", addr ? addr : "?",
			         acct.exists ? "exists" : "is proven absent", ns, hex);
		}
		p.detail = tb_json_new_object();
		set_str(p.detail, "stateRoot", hex);
		set_str(p.detail, "address", tb_json_string(tb_json_get(res, "address")));
	}
	int st = print_proof(&p, a->json);
	tb_proof_fini(&p);
	return st;
}

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},        {"state-root", required_argument, NULL, 's'},
		{"block", required_argument, NULL, 'b'}, {"rpc", required_argument, NULL, 'r'},
		{"tx", required_argument, NULL, 't'},    {"log", required_argument, NULL, 'l'},
		{"dns", required_argument, NULL, 'd'},   {"help", no_argument, NULL, 'h'},
		{"config", required_argument, NULL, 'c'}, {"option", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+hc:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': a->json = 1; break;
		case 's': a->state_root = optarg; break;
		case 'b': a->block = optarg; break;
		case 'r': a->rpc = optarg; break;
		case 't': a->tx = optarg; break;
		case 'l': a->log = optarg; break;
		case 'd': a->dns = optarg; break;
		case 'c': a->config = optarg; break;
		case 'o':
			if (a->n_opt == VERIFY_MAX_OPTS)
				return tb_cli_usage("verify", "too many -o options");
			a->opt[a->n_opt++] = optarg;
			break;
		case 'h': fputs(verify_usage, stdout); return TB_EXIT_OK;
		default: return tb_cli_bad_option("verify", argv);
		}
	}
	if (argc - optind > 1)
		return tb_cli_usage("verify", "at most one FILE");
	a->file = optind < argc ? argv[optind] : NULL;
	if (a->state_root && a->block)
		return tb_cli_usage("verify", "give --state-root or --block, not both");
	if ((a->tx != NULL) != (a->log != NULL))
		return tb_cli_usage("verify", "--tx and --log go together");
	if (a->tx && a->file)
		return tb_cli_usage("verify", "a log locator (--tx/--log) takes no FILE");
	return -1;
}

int tb_cmd_verify(int argc, char **argv)
{
	struct verify_args a = {0};
	int st = parse_args(argc, argv, &a);
	if (st >= 0)
		return st;
	if (a.tx)
		return verify_log(&a);
	struct tb_json *in = NULL;
	if (read_json(a.file, &in) < 0)
		return TB_EXIT_USAGE;
	if (in->type == TB_JSON_OBJECT && tb_json_get(in, "accountProof"))
		st = verify_getproof(&a, in);
	else if (in->type == TB_JSON_OBJECT && is_oa_document(in))
		st = verify_oa(&a, in);
	else
		st = tb_cli_usage("verify", "the input is neither an eth_getProof result nor an "
		                            "OpenAttestation document");
	tb_json_free(in);
	return st;
}
