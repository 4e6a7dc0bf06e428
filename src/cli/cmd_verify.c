/* tradebridge verify: one entry for every proof-carrying input. An eth_getProof
 * result is checked here, against a stateRoot or a block header (src/crypto, no
 * network); anything else is offered to every loaded adapter's recognise, and the
 * one that takes it checks it, configured by -o NAME=VALUE through its own options
 * table. The modules are loaded through the configuration path, as run loads them
 * (-c: with the file's adapter_path). This file names no adapter but for the
 * deprecated log-locator flags.
 * Invariant: the exit status is the verdict (0 VALID, 1 INVALID, 3 UNKNOWN) and 2
 * only for usage; a check that could not be made is UNKNOWN, never INVALID. */
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
#include "modules.h"

#define VERIFY_MAX_INPUT ((size_t)64 << 20)

static const char verify_usage[] =
	"usage: tradebridge verify [-c CONFIG] [--json] [-a ADAPTER] [-o NAME=VALUE]... [FILE]\n"
	"  Verify a proof-carrying input and print VALID, INVALID or UNKNOWN with the reasons.\n"
	"  FILE (or stdin) is offered to every loaded adapter; the one that recognises it\n"
	"  checks it:\n"
	"    -c CONFIG      load the modules as run does, with the file's adapter_path\n"
	"                   (without -c: $TRADEBRIDGE_ADAPTER_PATH and the installed folder)\n"
	"    -o NAME=VALUE  an option of that adapter (tradebridge adapters --describe NAME),\n"
	"                   e.g. -o rpc=URL, -o dns=HOST:PORT; a list is comma-separated\n"
	"    -a ADAPTER     which adapter, when more than one recognises FILE\n"
	"  An eth_getProof result (or the JSON-RPC answer holding it) is checked here against\n"
	"      --state-root HEX     the 32-byte state root, or\n"
	"      --block BLOCK.json   an eth_getBlockBy* result whose hash is recomputed first.\n"
	"  Deprecated, for one release: --rpc URL (-o rpc=URL), --dns HOST:PORT\n"
	"  (-o dns=HOST:PORT), and --tx HASH --log INDEX without FILE (a file holding\n"
	"  {\"transactionHash\": HASH, \"logIndex\": INDEX}, checked by the ethereum adapter).\n"
	"  --json prints the proof (verdict, kind, reason, detail) as JSON.\n"
	"  Exit status: 0 VALID, 1 INVALID, 2 usage, 3 UNKNOWN (could not check).\n";

#define VERIFY_MAX_OPTS 32

struct verify_args {
	int json;
	const char *state_root, *block, *rpc, *tx, *log, *dns, *file, *adapter;
	const char *config; /* -c: its adapter_path is searched for the modules */
	const char *opts[VERIFY_MAX_OPTS]; /* "name=value", as given to -o */
	size_t nopts;
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

/* Adapter `name` from the configuration path, configured from opts and opened
 * without a host, runs verify on native; the verdict is printed. */
static int verify_with_module(const struct tb_config *c, const char *name,
                              const struct tb_json *opts, const struct tb_native *native,
                              const struct verify_args *a)
{
	struct tb_config_net n;
	struct tb_error e = {0};
	struct tb_proof proof = {.verdict = TB_UNKNOWN};
	int status = TB_EXIT_USAGE;
	int rc = tb_config_adapter_open(c, name, opts, name, &n, &e);
	if (rc == 0) {
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
	return status;
}

/* One -o value as the option's type wants it in JSON: a number for INT, true/false
 * for BOOL, a comma-separated list for STRLIST, JSON text for JSON; else (and when
 * it does not parse: the loader then names the option) a string. NULL: no memory. */
static struct tb_json *opt_value(const struct tb_option *o, const char *v)
{
	struct tb_json *j = NULL;
	if (o && (o->type == TB_OPT_INT || o->type == TB_OPT_BOOL || o->type == TB_OPT_JSON)) {
		if (tb_json_parse(v, strlen(v), NULL, &j, NULL) == 0)
			return j;
	}
	if (o && o->type == TB_OPT_STRLIST) {
		j = tb_json_new_array();
		for (const char *p = v; j && *v;) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			tb_json_array_push(j, tb_json_new_string(p, n));
			if (!c)
				break;
			p = c + 1;
		}
		return j;
	}
	return tb_json_new_string(v, strlen(v));
}

/* -o NAME=VALUE pairs (and the deprecated --rpc, --dns) as the options object of
 * ops; a name the adapter does not have is left for tb_options_load to refuse. */
static int build_opts(const struct tb_adapter_ops *ops, const struct verify_args *a,
                      struct tb_json **out)
{
	struct tb_json *o = tb_json_new_object();
	const char *alias[2][2] = {{"rpc", a->rpc}, {"dns", a->dns}};
	for (size_t i = 0; o && i < a->nopts + 2; i++) {
		char name[128];
		const char *val;
		if (i < a->nopts) {
			const char *eq = strchr(a->opts[i], '=');
			if (eq == NULL || eq == a->opts[i] || (size_t)(eq - a->opts[i]) >= sizeof(name)) {
				tb_json_free(o);
				return tb_cli_usage("verify", "-o takes NAME=VALUE (an option of the adapter)");
			}
			snprintf(name, sizeof(name), "%.*s", (int)(eq - a->opts[i]), a->opts[i]);
			val = eq + 1;
		} else if ((val = alias[i - a->nopts][1]) != NULL) {
			snprintf(name, sizeof(name), "%s", alias[i - a->nopts][0]);
		} else {
			continue;
		}
		const struct tb_option *opt = ops->options;
		while (opt && opt->name && strcmp(opt->name, name) != 0)
			opt++;
		struct tb_json *v = opt_value(opt && opt->name ? opt : NULL, val);
		if (v == NULL || tb_json_object_set(o, name, strlen(name), v)) { /* a later -o wins */
			tb_json_free(o);
			o = NULL;
		}
	}
	*out = o;
	if (o == NULL)
		tb_cli_error("verify", "out of memory");
	return o ? -1 : TB_EXIT_USAGE;
}

/* The loaded adapter that checks doc: -a's choice, or the only one that recognises
 * it. NULL after a usage error naming what was tried (or who competes). */
static const struct tb_module *choose(const struct tb_modules *m, const struct tb_json *doc,
                                      const struct verify_args *a, char *doctype, size_t size)
{
	const struct tb_module *hit = NULL;
	size_t hits = 0;
	const char *what = a->file ? a->file : a->tx ? "the log locator" : "stdin";
	char tried[512] = "", both[256] = "", dt[64];
	size_t nt = 0, nh = 0;
	for (size_t i = 0; i < m->len; i++) {
		const struct tb_adapter_ops *ops = m->items[i].ops;
		nt += (size_t)snprintf(tried + nt, nt < sizeof(tried) ? sizeof(tried) - nt : 0, "%s%s",
		                       i ? ", " : "", ops->name);
		nt = nt < sizeof(tried) ? nt : sizeof(tried) - 1;
		if (!ops->recognise || !ops->recognise(doc, dt, sizeof(dt)))
			continue;
		if (a->adapter && strcmp(a->adapter, ops->name) != 0)
			continue;
		nh += (size_t)snprintf(both + nh, nh < sizeof(both) ? sizeof(both) - nh : 0,
		                       "%s%s (%s)", nh ? " and " : "", ops->name, dt);
		nh = nh < sizeof(both) ? nh : sizeof(both) - 1;
		if (hits++ == 0) {
			snprintf(doctype, size, "%s", dt);
			hit = &m->items[i];
		}
	}
	char msg[1024];
	if (hits > 1) {
		snprintf(msg, sizeof(msg), "%s is recognised by %s; choose one with -a NAME", what, both);
		return tb_cli_usage("verify", msg), NULL;
	}
	if (hit == NULL && a->adapter && tb_modules_find(m, a->adapter) == NULL) {
		snprintf(msg, sizeof(msg), "adapter %s is not loaded (tried: %s; set "
		         "TRADEBRIDGE_ADAPTER_PATH)", a->adapter, nt ? tried : "none");
		return tb_cli_usage("verify", msg), NULL;
	}
	if (hit == NULL && a->adapter) {
		snprintf(msg, sizeof(msg), "adapter %s does not recognise %s", a->adapter, what);
		return tb_cli_usage("verify", msg), NULL;
	}
	if (hit == NULL) {
		snprintf(msg, sizeof(msg), "no loaded adapter recognises %s (tried: %s)%s", what,
		         nt ? tried : "none",
		         nt ? "" : "; set TRADEBRIDGE_ADAPTER_PATH to where the modules are");
		return tb_cli_usage("verify", msg), NULL;
	}
	return hit;
}

/* doc to the adapter that recognises it, configured from -o. */
static int verify_by_adapter(const struct verify_args *a, struct tb_json *doc)
{
	struct tb_config *c = calloc(1, sizeof *c); /* finished even when never loaded */
	struct tb_error e = {0};
	struct tb_native n = {0};
	struct tb_json *opts = NULL;
	int status = TB_EXIT_USAGE;
	if (c == NULL) {
		tb_cli_error("verify", "out of memory");
		return TB_EXIT_USAGE;
	}
	if (tb_config_load(c, a->config, NULL, TB_CONFIG_MODULES, &e) != 0) {
		tb_cli_error("verify", e.msg);
		goto out;
	}
	const struct tb_module *mod = choose(c->mods, doc, a, n.doctype, sizeof(n.doctype));
	if (mod == NULL || build_opts(mod->ops, a, &opts) >= 0)
		goto out;
	snprintf(n.locator, sizeof(n.locator), "%s", a->file ? a->file : "stdin");
	n.doc = doc;
	status = verify_with_module(c, mod->ops->name, opts, &n, a);
out:
	tb_json_free(opts);
	tb_config_fini(c);
	free(c);
	return status;
}

static int set_str(struct tb_json *o, const char *k, const char *v)
{
	return v ? tb_json_object_set(o, k, strlen(k), tb_json_new_string(v, strlen(v))) : 0;
}

/* The deprecated --tx/--log: the log locator as the document ethereum recognises. */
static int verify_log(struct verify_args *a)
{
	uint64_t idx = 0;
	if (tb_num_u64(a->log, 0, 1000000, "--log", &idx, NULL) != 0 || strlen(a->tx) != 66)
		return tb_cli_usage("verify", "a log locator is --tx 0xHASH(32 bytes) --log INDEX");
	struct tb_json *doc = tb_json_new_object();
	if (doc == NULL || set_str(doc, "transactionHash", a->tx) ||
	    tb_json_object_set(doc, "logIndex", 8, tb_json_new_number((double)idx))) {
		tb_json_free(doc);
		tb_cli_error("verify", "out of memory");
		return TB_EXIT_USAGE;
	}
	if (a->adapter == NULL)
		a->adapter = "ethereum";
	int st = verify_by_adapter(a, doc);
	tb_json_free(doc);
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
		{"adapter", required_argument, NULL, 'a'}, {"option", required_argument, NULL, 'o'},
		{"config", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0; /* tb_cli_bad_option says it once, in our words */
	while ((c = getopt_long(argc, argv, "+ha:o:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': a->json = 1; break;
		case 's': a->state_root = optarg; break;
		case 'b': a->block = optarg; break;
		case 'r': a->rpc = optarg; break;
		case 't': a->tx = optarg; break;
		case 'l': a->log = optarg; break;
		case 'd': a->dns = optarg; break;
		case 'a': a->adapter = optarg; break;
		case 'c': a->config = optarg; break;
		case 'o':
			if (a->nopts == VERIFY_MAX_OPTS)
				return tb_cli_usage("verify", "at most 32 -o options");
			a->opts[a->nopts++] = optarg;
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
	if (in->type == TB_JSON_OBJECT && tb_json_get(in, "accountProof") && !a.adapter)
		st = verify_getproof(&a, in);
	else
		st = verify_by_adapter(&a, in);
	tb_json_free(in);
	return st;
}
