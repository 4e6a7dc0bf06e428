/* tradebridge run: the relay in the foreground. Loads the adapters, opens every
 * configured network, and steps the loop until SIGTERM/SIGINT (the current step
 * finishes: nothing is cut mid-transaction); SIGHUP re-reads the configuration
 * and reopens the networks, keeping the running ones if the new file is unusable.
 * Invariants: start-up refuses a key file others can read before anything opens;
 * the exit status is 0 only for a stop asked by a signal. */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "bus.h"
#include "commands.h"
#include "config.h"
#include "keyfile.h"
#include "lib/num.h"
#include "lib/log.h"
#include "modules.h"
#include "relay.h"
#include "sharing.h"

static const char usage[] =
	"usage: tradebridge run [-c FILE] [--store FILE] [--key FILE] [options]\n"
	"  Run the relay in the foreground; SIGTERM/SIGINT finish the current step and exit,\n"
	"  SIGHUP re-reads the configuration (networks, routes, policies, mras).\n"
	"  -c, --config FILE   \"relay\" (store, key_file, admin, pub, rep, limits), \"networks\",\n"
	"                      \"routes\", \"policies\" and \"mras\" (docs/operations.md); default deny\n"
	"  The options below override the configuration's \"relay\" section:\n"
	"  --store FILE        the relay's SQLite store (created if missing)\n"
	"  --key FILE          the relay's signing key (tradebridge keygen; mode 0600)\n"
	"  --admin HOST:PORT   admin API (default 127.0.0.1:9464; needs $TRADEBRIDGE_ADMIN_TOKEN)\n"
	"  --pub URL --rep URL receipts bus (e.g. ipc:///run/tradebridge/receipts.pub)\n"
	"  --tls-cert PEM --tls-ca PEM   certificate+key and pinned peers for tls+tcp:// URLs\n"
	"  --idle MS           sleep when there was nothing to do (default 500)\n"
	"  --dry-run           check the configuration as check-config does, open the store\n"
	"                      and every network, then close them and exit 0 (nothing polled)\n";

struct run_opts {
	const char *config;
	struct tb_config_flags flags; /* what the command line says over the "relay" section */
	int idle_ms, idle_flag, dry_run;
	struct tb_log *log; /* the relay's faults, stalls and re-orgs */
};

/* Everything that a SIGHUP rebuilds. */
struct session {
	struct tb_config conf; /* networks, modules, sharing (the hooks' context) */
	struct tb_relay *relay;
	struct tb_log log; /* the relay loop's */
};

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
}

static void session_close(struct session *s)
{
	tb_config_close(&s->conf); /* adapters before the relay that lent them a host */
	tb_relay_free(s->relay);
	tb_config_fini(&s->conf);
	memset(s, 0, sizeof *s);
}

static const struct tb_host *host_of(void *relay, const char *name)
{
	return tb_relay_host(relay, name);
}

static int add_routes(struct session *s, struct tb_error *err)
{
	const struct tb_sharing *sh = &s->conf.sharing;
	for (size_t i = 0; i < sh->n_routes; i++) {
		const struct tb_route_conf *r = &sh->routes[i];
		int seen = 0; /* several routes A -> B (one per doctype) are one relay route */
		for (size_t k = 0; k < i; k++)
			seen |= strcmp(sh->routes[k].from, r->from) == 0 &&
			        strcmp(sh->routes[k].to, r->to) == 0;
		int rc = seen ? 0 : tb_relay_add_route(s->relay, r->from, r->to, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The configuration through the path check-config takes, then the store (each
 * network's adapter journals its writes there), then the networks. */
static int session_open(struct session *s, const struct run_opts *o, struct tb_error *err)
{
	uint8_t key[32] = {0};
	memset(s, 0, sizeof *s);
	tb_log_init(&s->log, stderr, "relay", TB_LOG_INFO, TB_LOG_TEXT);
	int rc = tb_config_load(&s->conf, o->config, &o->flags, TB_CONFIG_ALL, err);
	if (rc == 0 && (!s->conf.store || !s->conf.key_file))
		rc = tb_error_set(err, TB_ECONFIG, "a store and a key file are required (relay.store "
		                  "and relay.key_file in the configuration, or --store and --key)");
	rc = rc ? rc : tb_keyfile_read(s->conf.key_file, key, err);
	const struct tb_relay_opts *ro = &s->conf.sharing.relay;
	struct tb_relay_config cfg = {
		.store_path = s->conf.store,
		.retry = {.max_attempts = (int)ro->max_attempts, .base_ms = ro->backoff_base_ms,
		          .max_ms = ro->backoff_max_ms},
		.claim_max = (size_t)ro->claim_max, .outbox_high_water = ro->outbox_high_water,
		.log = o->log, .log_every_ms = ro->log_every_ms, .reorg_auto = ro->reorg_auto_resume};
	memcpy(cfg.key, key, 32);
	rc = rc ? rc : tb_relay_new(&s->relay, &cfg, err);
	s->conf.log = &s->log; /* each network logs as a child of the relay's logger */
	rc = rc ? rc : tb_config_open(&s->conf, host_of, s->relay, err);
	if (rc == 0)
		tb_relay_set_log(s->relay, &s->log);
	for (size_t i = 0; rc == 0 && i < s->conf.n_nets; i++)
		rc = tb_relay_add_network(s->relay, s->conf.nets[i].name, s->conf.nets[i].mod->ops,
		                          s->conf.nets[i].state, err);
	rc = rc ? rc : add_routes(s, err);
	explicit_bzero(&cfg, sizeof cfg);
	explicit_bzero(key, sizeof key);
	if (rc) {
		session_close(s);
		return rc;
	}
	s->conf.sharing.store = tb_relay_store(s->relay);
	struct tb_relay_hooks h = {.ctx = &s->conf.sharing, .translate = tb_sharing_translate,
	                           .policy = tb_sharing_policy,
	                           .outgoing = tb_sharing_outgoing};
	tb_relay_set_hooks(s->relay, &h);
	return 0;
}

struct services {
	struct tb_bus *bus;
	struct tb_api *api;
};

static void publish(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct tb_error err;
	(void)r;
	if (tb_bus_publish(ctx, json, &err))
		tb_error_prefix(&err, "receipt not published"), tb_cli_error("run", err.msg);
}

static int metrics(void *ctx, struct tb_buf *out, struct tb_error *err)
{
	struct session *s = ctx;
	return tb_relay_metrics_text(s->relay, out, err);
}

static const char *not_ready(void *ctx)
{
	struct session *s = ctx;
	return tb_relay_not_ready(s->relay);
}

static int api_start(struct services *sv, struct session *s, struct tb_error *err)
{
	const char *token = getenv("TRADEBRIDGE_ADMIN_TOKEN");
	if (!token) {
		fprintf(stderr, "tradebridge run: admin API off ($TRADEBRIDGE_ADMIN_TOKEN not set)\n");
		return 0;
	}
	struct tb_api_config ac = {.listen = s->conf.admin, .token = token,
	                           .store_path = s->conf.store, .ctx = s, .metrics = metrics,
	                           .not_ready = not_ready,
	                           .allow_remote = s->conf.sharing.relay.allow_remote};
	int rc = tb_api_start(&sv->api, &ac, err);
	if (rc == 0)
		fprintf(stderr, "tradebridge run: admin API on port %d\n", tb_api_port(sv->api));
	return rc;
}

/* The bus is opened once, with the settings run started with; SIGHUP keeps it. */
static int services_start(struct services *sv, struct session *s, struct tb_error *err)
{
	const struct tb_config *c = &s->conf;
	int plaintext = c->sharing.relay.allow_plaintext, rc = 0;
	memset(sv, 0, sizeof *sv);
	if (c->pub) {
		struct tb_bus_config bc = {.pub_url = c->pub, .rep_url = c->rep, .store_path = c->store,
		                           .tls = {.cert_key_file = c->tls_cert, .ca_file = c->tls_ca},
		                           .allow_plaintext = plaintext};
		rc = tb_bus_open(&sv->bus, &bc, err);
		if (rc == 0 && plaintext)
			fprintf(stderr, "tradebridge run: warning: relay.allow_plaintext is set: a tcp:// "
			        "bus beyond loopback sends receipts unencrypted and to anyone who "
			        "connects\n");
	}
	return rc ? rc : api_start(sv, s, err);
}

/* Open the new configuration beside the running one (a second store connection,
 * a second set of adapters: nothing runs meanwhile, the loop is this thread) and
 * switch only once all of it opened; an unusable file leaves the running one as it
 * was. Sessions live on the heap: adapters keep pointers into theirs. */
static void reload(struct session **cur, const struct run_opts *o, struct services *sv)
{
	struct tb_error err;
	reload_flag = 0;
	struct session *s = calloc(1, sizeof *s);
	if (!s || session_open(s, o, &err) != 0) {
		fprintf(stderr, "tradebridge run: SIGHUP: %s: %s; the running configuration stays\n",
		        o->config, s ? err.msg : "out of memory");
		free(s);
		return;
	}
	tb_api_stop(sv->api); /* it reads the old relay's counters */
	sv->api = NULL;
	session_close(*cur);
	free(*cur);
	*cur = s;
	if (sv->bus)
		tb_relay_on_receipt(s->relay, publish, sv->bus);
	if (api_start(sv, s, &err) != 0)
		tb_error_prefix(&err, "SIGHUP: admin API stays off"), tb_cli_error("run", err.msg);
	fprintf(stderr, "tradebridge run: configuration reloaded from %s\n", o->config);
}

static int idle_ms(const struct run_opts *o, const struct session *s)
{
	return o->idle_flag ? o->idle_ms : (int)s->conf.sharing.relay.idle_ms;
}

static int run(const struct run_opts *o)
{
	struct tb_error err;
	struct services sv = {0};
	struct tb_log log;
	struct run_opts ro = *o;
	tb_log_init(&log, stderr, "relay", TB_LOG_INFO, TB_LOG_TEXT);
	ro.log = &log;
	o = &ro;
	struct session *s = calloc(1, sizeof *s);
	int status = TB_EXIT_USAGE;
	if (!s) {
		fprintf(stderr, "tradebridge run: out of memory\n");
		goto out;
	}
	if (session_open(s, o, &err) != 0) {
		tb_cli_error("run", err.msg);
		free(s);
		s = NULL;
		goto out;
	}
	if (o->dry_run) {
		fprintf(stderr, "tradebridge run: dry run: %s opened %zu networks and %zu routes "
		        "(store %s); stopping before the first step\n", o->config, s->conf.n_nets,
		        s->conf.sharing.n_routes, s->conf.store);
		status = TB_EXIT_OK;
		goto out;
	}
	if (services_start(&sv, s, &err) != 0) {
		tb_cli_error("run", err.msg);
		goto out;
	}
	if (sv.bus)
		tb_relay_on_receipt(s->relay, publish, sv.bus);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	char exposed[512];
	if (tb_store_exposed(s->conf.store, exposed, sizeof exposed))
		fprintf(stderr, "tradebridge run: warning: %s\n", exposed);
	fprintf(stderr, "tradebridge run: relay running with %zu networks (store %s)\n",
	        s->conf.n_nets, s->conf.store);
	status = TB_EXIT_OK;
	while (!stop_flag) {
		size_t work = 0;
		if (reload_flag) {
			reload(&s, o, &sv);
			continue;
		}
		/* A failed step is retried; the relay logged it (rate-limited) where it happened. */
		tb_relay_step(s->relay, &work, &err);
		if (work == 0 && !stop_flag && !reload_flag) {
			int ms = idle_ms(o, s);
			struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "tradebridge run: stopped\n");
out:
	tb_api_stop(sv.api);
	tb_bus_close(sv.bus);
	if (s)
		session_close(s);
	free(s);
	return status;
}

int tb_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"store", required_argument, NULL, 's'},
		{"key", required_argument, NULL, 'k'},    {"admin", required_argument, NULL, 'a'},
		{"pub", required_argument, NULL, 'p'},    {"rep", required_argument, NULL, 'r'},
		{"tls-cert", required_argument, NULL, 'T'}, {"tls-ca", required_argument, NULL, 'C'},
		{"idle", required_argument, NULL, 'i'},   {"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	struct run_opts o = {.idle_ms = 500};
	struct tb_config_flags *f = &o.flags;
	const char *config = NULL;
	struct tb_error nerr;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': f->store = optarg; break;
		case 'k': f->key_file = optarg; break;
		case 'a': f->admin = optarg; break;
		case 'p': f->pub = optarg; break;
		case 'r': f->rep = optarg; break;
		case 'T': f->tls_cert = optarg; break;
		case 'C': f->tls_ca = optarg; break;
		case 'n': o.dry_run = 1; break;
		case 'i':
			if (tb_num_int(optarg, 1, 3600000, "--idle", &o.idle_ms, &nerr) != 0) {
				tb_cli_error("run", nerr.msg);
				return TB_EXIT_USAGE;
			}
			o.idle_flag = 1;
			break;
		case 'h': return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		default: return tb_cli_bad_option("run", argv);
		}
	}
	if (optind < argc)
		return tb_cli_usage("run", "unexpected argument");
	if (f->rep && !f->pub)
		return tb_cli_usage("run", "--rep needs --pub");
	o.config = tb_cli_config_path(config);
	return run(&o);
}
