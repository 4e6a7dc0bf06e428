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
	"  --idle MS           sleep when there was nothing to do (default 500)\n";

struct run_opts {
	const char *config, *store, *key, *admin, *pub, *rep, *tls_cert, *tls_ca;
	int idle_ms;
	struct tb_log *log;        /* the relay's faults, stalls and re-orgs */
	struct tb_relay_opts conf; /* the configuration's relay section, for what flags leave */
};

struct opened {
	struct tb_network net;
	struct tb_log log; /* the relay's, its lines named after the network */
	char name[64];
	const struct tb_adapter_ops *ops;
	void *conf;
	void *state;
};

/* Everything that a SIGHUP rebuilds. */
struct session {
	struct tb_json *doc;
	struct tb_modules *mods;
	struct opened nets[TB_RELAY_MAX_NETWORKS];
	size_t n;
	struct tb_relay *relay;
	struct tb_sharing sharing; /* routes, policies, mappings: the hooks' context */
	struct tb_log log;         /* the relay loop's */
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
	tb_sharing_fini(&s->sharing);
	for (size_t i = 0; i < s->n; i++) { /* adapters before the relay that lent them a host */
		if (s->nets[i].ops->close && s->nets[i].state)
			s->nets[i].ops->close(s->nets[i].state);
		tb_options_fini(s->nets[i].ops->options, s->nets[i].conf);
		free(s->nets[i].conf);
	}
	tb_relay_free(s->relay);
	if (s->mods) {
		tb_modules_fini(s->mods);
		free(s->mods);
	}
	tb_json_free(s->doc);
	memset(s, 0, sizeof *s);
}

static int open_network(struct session *s, const char *file, const struct tb_json_member *m,
                        const struct tb_host *host, struct tb_error *err)
{
	const char *ad = tb_json_string(tb_json_get(m->value, "adapter"));
	const struct tb_module *mod = ad ? tb_modules_find(s->mods, ad) : NULL;
	if (!mod)
		return tb_error_set(err, TB_ECONFIG, "%s: networks.%s: no adapter \"%s\" on the adapter "
		                    "path (see tradebridge adapters)", file, m->key, ad ? ad : "");
	if (s->n == TB_RELAY_MAX_NETWORKS || strlen(m->key) >= sizeof s->nets[0].name)
		return tb_error_set(err, TB_ELIMIT, "%s: networks.%s: too many networks or name too long",
		                    file, m->key);
	struct opened *o = &s->nets[s->n];
	static const char *const ignore[] = {"adapter", NULL};
	static const struct tb_option none[] = {TB_OPT_END};
	char scope[96], prefix[96];
	snprintf(o->name, sizeof o->name, "%s", m->key);
	snprintf(scope, sizeof scope, "networks.%s", m->key);
	/* secrets (keys, tokens) come from TRADEBRIDGE_<NETWORK>_<OPTION>, as check-config says */
	tb_network_env_prefix(m->key, prefix, sizeof prefix);
	o->ops = mod->ops;
	o->conf = calloc(1, mod->ops->conf_size ? mod->ops->conf_size : 1);
	if (!o->conf)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	s->n++;
	struct tb_opt_source src = {.file = file, .scope = scope, .env_prefix = prefix};
	int rc = tb_options_load(mod->ops->options ? mod->ops->options : none, m->value, &src, ignore,
	                         o->conf, err);
	tb_log_child(&o->log, &s->log, o->name);
	o->net = (struct tb_network){.name = o->name, .adapter = mod->ops->name, .conf = o->conf,
	                             .host = host, .log = &o->log};
	rc = rc ? rc : (o->ops->open ? o->ops->open(&o->net, &o->state, err) : 0);
	if (rc)
		tb_error_prefix(err, "network %s", o->name);
	return rc;
}

static int add_routes(struct session *s, const char *file, struct tb_error *err)
{
	const struct tb_json *routes = tb_json_get(s->doc, "routes");
	for (size_t i = 0; i < tb_json_len(routes) && routes->type == TB_JSON_ARRAY; i++) {
		const struct tb_json *r = tb_json_at(routes, i);
		const char *from = tb_json_string(tb_json_get(r, "from"));
		const char *to = tb_json_string(tb_json_get(r, "to"));
		if (!from || !to)
			return tb_error_set(err, TB_ECONFIG, "%s:%u: routes[%zu]: expected {\"from\": NETWORK, "
			                    "\"to\": NETWORK}", file, r->line, i);
		int f = -1, t = -1;
		for (size_t k = 0; k < s->n; k++) {
			f = strcmp(s->nets[k].name, from) == 0 ? (int)k : f;
			t = strcmp(s->nets[k].name, to) == 0 ? (int)k : t;
		}
		if (f >= 0 && (!s->nets[f].ops->poll || !s->nets[f].ops->verify))
			return tb_error_set(err, TB_ECONFIG, "routes[%zu]: %s's adapter cannot be a source "
			                    "(no poll/verify)", i, from);
		if (t >= 0 && (!s->nets[t].ops->submit || !s->nets[t].ops->confirm))
			return tb_error_set(err, TB_ECONFIG, "routes[%zu]: %s's adapter cannot be a "
			                    "destination (no submit/confirm)", i, to);
		int seen = 0; /* several routes A -> B (one per doctype) are one relay route */
		for (size_t k = 0; k < i; k++) {
			const struct tb_json *q = tb_json_at(routes, k);
			const char *qf = tb_json_string(tb_json_get(q, "from"));
			const char *qt = tb_json_string(tb_json_get(q, "to"));
			seen |= qf && qt && strcmp(qf, from) == 0 && strcmp(qt, to) == 0;
		}
		int rc = seen ? 0 : tb_relay_add_route(s->relay, from, to, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int session_open(struct session *s, const struct run_opts *o, const uint8_t key[32],
                        struct tb_error *err)
{
	memset(s, 0, sizeof *s);
	tb_log_init(&s->log, stderr, "relay", TB_LOG_INFO, TB_LOG_TEXT);
	int rc = tb_config_read(o->config, &s->doc, err);
	const struct tb_json *nets = tb_json_get(s->doc, "networks");
	if (rc == 0 && (!nets || nets->type != TB_JSON_OBJECT))
		rc = tb_error_set(err, TB_ECONFIG, "%s: \"networks\" must be an object", o->config);
	rc = rc ? rc : tb_sharing_load(&s->sharing, s->doc, o->config, 1, err);
	const struct tb_relay_opts *ro = &s->sharing.relay;
	struct tb_relay_config cfg = {
		.store_path = o->store,
		.retry = {.max_attempts = (int)ro->max_attempts, .base_ms = ro->backoff_base_ms,
		          .max_ms = ro->backoff_max_ms},
		.claim_max = (size_t)ro->claim_max, .outbox_high_water = ro->outbox_high_water,
		.log = o->log, .log_every_ms = ro->log_every_ms, .reorg_auto = ro->reorg_auto_resume};
	memcpy(cfg.key, key, 32);
	s->mods = rc ? NULL : malloc(sizeof *s->mods);
	if (rc == 0 && !s->mods)
		rc = tb_error_set(err, TB_ENOMEM, "out of memory");
	if (rc == 0) {
		tb_modules_init(s->mods);
		rc = tb_modules_open(s->mods, NULL, err);
	}
	struct tb_preflight pf = {.file = o->config, .networks = nets, .sharing = &s->sharing,
	                          .mods = s->mods, .store = o->store, .key_file = o->key,
	                          .admin = o->admin, .pub = o->pub, .rep = o->rep,
	                          .tls_cert = o->tls_cert, .tls_ca = o->tls_ca,
	                          .allow_remote = o->conf.allow_remote,
	                          .allow_plaintext = o->conf.allow_plaintext};
	rc = rc ? rc : tb_config_preflight(&pf, err); /* the checks check-config runs */
	/* the store first: each network's adapter journals its writes there */
	rc = rc ? rc : tb_relay_new(&s->relay, &cfg, err);
	for (size_t i = 0; rc == 0 && i < tb_json_len(nets); i++) {
		const char *name = nets->u.object.members[i].key;
		const struct tb_host *host = tb_relay_host(s->relay, name);
		rc = host ? open_network(s, o->config, &nets->u.object.members[i], host, err)
		          : tb_error_set(err, TB_ELIMIT, "%s: networks.%s: too many networks or name "
		                         "too long", o->config, name);
	}
	if (rc == 0)
		tb_relay_set_log(s->relay, &s->log);
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		rc = tb_relay_add_network(s->relay, s->nets[i].name, s->nets[i].ops, s->nets[i].state,
		                          err);
	rc = rc ? rc : add_routes(s, o->config, err);
	explicit_bzero(&cfg, sizeof cfg);
	if (rc) {
		session_close(s);
		return rc;
	}
	s->sharing.store = tb_relay_store(s->relay);
	struct tb_relay_hooks h = {.ctx = &s->sharing, .translate = tb_sharing_translate,
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

static int api_start(struct services *sv, struct session *s, const struct run_opts *o,
                     struct tb_error *err)
{
	const char *token = getenv("TRADEBRIDGE_ADMIN_TOKEN");
	if (!token) {
		fprintf(stderr, "tradebridge run: admin API off ($TRADEBRIDGE_ADMIN_TOKEN not set)\n");
		return 0;
	}
	struct tb_api_config ac = {.listen = o->admin, .token = token, .store_path = o->store,
	                           .ctx = s, .metrics = metrics, .not_ready = not_ready,
	                           .allow_remote = o->conf.allow_remote};
	int rc = tb_api_start(&sv->api, &ac, err);
	if (rc == 0)
		fprintf(stderr, "tradebridge run: admin API on port %d\n", tb_api_port(sv->api));
	return rc;
}

static int services_start(struct services *sv, struct session *s, const struct run_opts *o,
                          struct tb_error *err)
{
	memset(sv, 0, sizeof *sv);
	int rc = 0;
	if (o->pub) {
		struct tb_bus_config bc = {.pub_url = o->pub, .rep_url = o->rep, .store_path = o->store,
		                           .tls = {.cert_key_file = o->tls_cert, .ca_file = o->tls_ca},
		                           .allow_plaintext = o->conf.allow_plaintext};
		rc = tb_bus_open(&sv->bus, &bc, err);
		if (rc == 0 && o->conf.allow_plaintext)
			fprintf(stderr, "tradebridge run: warning: relay.allow_plaintext is set: a tcp:// "
			        "bus beyond loopback sends receipts unencrypted and to anyone who "
			        "connects\n");
	}
	return rc ? rc : api_start(sv, s, o, err);
}

/* Open the new configuration beside the running one (a second store connection,
 * a second set of adapters: nothing runs meanwhile, the loop is this thread) and
 * switch only once all of it opened; an unusable file leaves the running one as it
 * was. Sessions live on the heap: adapters keep pointers into theirs. */
static void reload(struct session **cur, const struct run_opts *o, const uint8_t key[32],
                   struct services *sv)
{
	struct tb_error err;
	reload_flag = 0;
	struct session *s = calloc(1, sizeof *s);
	if (!s || session_open(s, o, key, &err) != 0) {
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
	if (api_start(sv, s, o, &err) != 0)
		tb_error_prefix(&err, "SIGHUP: admin API stays off"), tb_cli_error("run", err.msg);
	fprintf(stderr, "tradebridge run: configuration reloaded from %s\n", o->config);
}

static int run(const struct run_opts *o)
{
	uint8_t key[32];
	struct tb_error err;
	struct services sv = {0};
	if (tb_keyfile_read(o->key, key, &err) != 0) {
		tb_cli_error("run", err.msg);
		return TB_EXIT_USAGE;
	}
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
	if (session_open(s, o, key, &err) != 0 || services_start(&sv, s, o, &err) != 0) {
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
	if (tb_store_exposed(o->store, exposed, sizeof exposed))
		fprintf(stderr, "tradebridge run: warning: %s\n", exposed);
	fprintf(stderr, "tradebridge run: relay running with %zu networks (store %s)\n", s->n, o->store);
	status = TB_EXIT_OK;
	while (!stop_flag) {
		size_t work = 0;
		if (reload_flag) {
			reload(&s, o, key, &sv);
			continue;
		}
		/* A failed step is retried; the relay logged it (rate-limited) where it happened. */
		tb_relay_step(s->relay, &work, &err);
		if (work == 0 && !stop_flag && !reload_flag) {
			struct timespec ts = {o->idle_ms / 1000, (long)(o->idle_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "tradebridge run: stopped\n");
out:
	tb_api_stop(sv.api);
	tb_bus_close(sv.bus);
	if (s && (s->relay || s->doc))
		session_close(s);
	free(s);
	explicit_bzero(key, sizeof key);
	return status;
}

/* Flags win; what they leave comes from the configuration's "relay" section. */
static int resolve(struct run_opts *o, int idle_flag)
{
	struct tb_json *doc = NULL;
	struct tb_error err;
	struct tb_opt_source src = {.file = o->config, .scope = "relay",
	                            .env_prefix = "TRADEBRIDGE_RELAY_"};
	if (tb_config_read(o->config, &doc, &err) != 0 ||
	    tb_options_load(tb_relay_options, tb_json_get(doc, "relay"), &src, NULL, &o->conf,
	                    &err) != 0) {
		tb_json_free(doc);
		tb_cli_error("run", err.msg);
		return -1;
	}
	tb_json_free(doc);
	const struct tb_relay_opts *c = &o->conf;
	o->store = o->store ? o->store : c->store;
	o->key = o->key ? o->key : c->key_file;
	o->admin = o->admin ? o->admin : c->admin;
	o->pub = o->pub ? o->pub : c->pub;
	o->rep = o->rep ? o->rep : c->rep;
	o->tls_cert = o->tls_cert ? o->tls_cert : c->tls_cert;
	o->tls_ca = o->tls_ca ? o->tls_ca : c->tls_ca;
	o->idle_ms = idle_flag ? o->idle_ms : (int)c->idle_ms;
	return 0;
}

int tb_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"store", required_argument, NULL, 's'},
		{"key", required_argument, NULL, 'k'},    {"admin", required_argument, NULL, 'a'},
		{"pub", required_argument, NULL, 'p'},    {"rep", required_argument, NULL, 'r'},
		{"tls-cert", required_argument, NULL, 'T'}, {"tls-ca", required_argument, NULL, 'C'},
		{"idle", required_argument, NULL, 'i'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct run_opts o = {.idle_ms = 500};
	const char *config = NULL;
	struct tb_error nerr;
	int c, idle_flag = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': o.store = optarg; break;
		case 'k': o.key = optarg; break;
		case 'a': o.admin = optarg; break;
		case 'p': o.pub = optarg; break;
		case 'r': o.rep = optarg; break;
		case 'T': o.tls_cert = optarg; break;
		case 'C': o.tls_ca = optarg; break;
		case 'i':
			if (tb_num_int(optarg, 1, 3600000, "--idle", &o.idle_ms, &nerr) != 0) {
				tb_cli_error("run", nerr.msg);
				return TB_EXIT_USAGE;
			}
			idle_flag = 1;
			break;
		case 'h': return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		default: return tb_cli_bad_option("run", argv);
		}
	}
	if (optind < argc)
		return tb_cli_usage("run", "unexpected argument");
	o.config = tb_cli_config_path(config);
	if (resolve(&o, idle_flag) != 0)
		return TB_EXIT_USAGE;
	int status;
	if (!o.store || !o.key)
		status = tb_cli_usage("run", "a store and a key file are required (relay.store and "
		                      "relay.key_file in the configuration, or --store and --key)");
	else if (o.rep && !o.pub)
		status = tb_cli_usage("run", "--rep needs --pub");
	else
		status = run(&o);
	tb_options_fini(tb_relay_options, &o.conf);
	return status;
}
