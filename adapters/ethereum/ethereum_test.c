/* The ethereum adapter's verify path on the execution-apis vectors: a stand-in node
 * on 127.0.0.1 answers only with the recorded answers for block 54 (its header with
 * full transactions, its receipts), so the header hash, the transactions root (four
 * legacy transactions), the receipts root and the signer are all checked against
 * data produced by a real client. A log in the wrong transaction, an altered receipt
 * and a foreign emitter are INVALID; a missing node is UNKNOWN. The node is the
 * scripted fake peer (tests/unit/fakepeer.h). The same node backs
 * `tradebridge verify --rpc --tx --log` end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapter.h"
#include "lib/buf.h"
#include "builtmod.h"
#include "fakepeer.h"
#include "modules.h"

extern char **environ;

#define TX_TEN_LOGS "0x492784ac4d441388c6f8415f41e1441f007ab20dc960a2e5edd80012d657d986"
#define TX_ONE_LOG "0x42bbb5422de0069316bbe68f4cb8fc31ac577b1dd0fee07ee3584fe9822fd0cb"

#define MAX_RECEIPTS 16

/* The stand-in node's answers as JSON text, for the fake peer's rules. */
struct node {
	struct tb_fakepeer *peer;
	char hash[80]; /* block 54's */
	char *block, *receipts, *tampered;
	char *receipt[MAX_RECEIPTS], *tx[MAX_RECEIPTS];
	size_t nreceipts;
};

static struct tb_json *answer_of(const char *io)
{
	const char *v = getenv("TB_VECTORS");
	char path[4096];
	snprintf(path, sizeof(path), "%s/ethereum-execution-apis/tests/%s", v ? v : "tests/vectors",
	         io);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char line[1 << 20];
	struct tb_json *j = NULL;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "<< ", 3) == 0) {
			struct tb_error e;
			assert_int_equal(tb_json_parse(line + 3, strlen(line + 3), NULL, &j, &e), 0);
			break;
		}
	fclose(f);
	assert_non_null(j);
	struct tb_json *r = tb_json_clone(tb_json_get(j, "result"));
	tb_json_free(j);
	return r;
}

static char *text_of(const struct tb_json *j)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_json_write_stringify(j, &b, NULL), 0);
	tb_buf_putc(&b, 0);
	return (char *)tb_buf_steal(&b, NULL);
}

static void node_load(struct node *n)
{
	struct tb_json *block = answer_of("eth_getBlockByNumber/get-latest.io");
	struct tb_json *rcpts = answer_of("eth_getBlockReceipts/get-block-receipts-latest.io");
	snprintf(n->hash, sizeof(n->hash), "%s", tb_json_string(tb_json_get(block, "hash")));
	n->block = text_of(block);
	tb_json_free(block);
	n->receipts = text_of(rcpts);
	assert_true(tb_json_len(rcpts) <= MAX_RECEIPTS);
	for (size_t i = 0; i < tb_json_len(rcpts); i++) {
		struct tb_json *r = tb_json_at(rcpts, i);
		n->receipt[i] = text_of(r);
		n->tx[i] = strdup(tb_json_string(tb_json_get(r, "transactionHash")));
	}
	n->nreceipts = tb_json_len(rcpts);
	/* one byte of a log's data, as if altered in transit */
	struct tb_json *l = tb_json_at(tb_json_get(tb_json_at(rcpts, 3), "logs"), 0);
	struct tb_json *d = tb_json_get(l, "data");
	d->u.string.ptr[d->u.string.len - 1] ^= 1;
	n->tampered = text_of(rcpts);
	tb_json_free(rcpts);
}

/* The node's script: head 0x42 (twelve blocks above 54), block 54 by hash or by
 * number, its receipts (altered when tamper), a receipt by transaction hash, and
 * null for anything else. */
static void node_script(struct node *n, int tamper)
{
	struct tb_fake_rule r[TB_FAKE_MAX_RULES] = {
		{.rpc = "eth_blockNumber", .result = "\"0x42\""},
		{.rpc = "eth_getBlockByHash", .param0 = n->hash, .result = n->block},
		{.rpc = "eth_getBlockByHash", .param0 = "0x36", .result = n->block},
		{.rpc = "eth_getBlockByNumber", .param0 = n->hash, .result = n->block},
		{.rpc = "eth_getBlockByNumber", .param0 = "0x36", .result = n->block},
		{.rpc = "eth_getBlockReceipts", .result = tamper ? n->tampered : n->receipts},
	};
	size_t k = 6;
	for (size_t i = 0; i < n->nreceipts; i++)
		r[k++] = (struct tb_fake_rule){.rpc = "eth_getTransactionReceipt", .param0 = n->tx[i],
		                               .result = n->receipt[i]};
	r[k++] = (struct tb_fake_rule){.result = "null"};
	tb_fakepeer_script(n->peer, r, k);
}

static void node_free(struct node *n)
{
	tb_fakepeer_stop(n->peer);
	free(n->block);
	free(n->receipts);
	free(n->tampered);
	for (size_t i = 0; i < n->nreceipts; i++) {
		free(n->receipt[i]);
		free(n->tx[i]);
	}
}

struct world {
	struct node node;
	struct tb_modules mods;
	const struct tb_adapter_ops *ops;
	char url[64];
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct tb_error e = {0};
	*state = w;
	node_load(&w->node);
	w->node.peer = tb_fakepeer_start(NULL, 0);
	node_script(&w->node, 0);
	snprintf(w->url, sizeof(w->url), "%s", tb_fakepeer_url(w->node.peer, "/"));
	tb_modules_init(&w->mods);
	if ((w->ops = tb_test_load_built(&w->mods, "ethereum", &e)) == NULL) {
		fprintf(stderr, "ethereum_test: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	node_free(&w->node);
	tb_modules_fini(&w->mods);
	free(w);
	return 0;
}

/* Verify (tx, logIndex) with options json; returns the verdict and the reason. */
static enum tb_verdict check(struct world *w, const char *opts, const char *tx, int log,
                             char *reason)
{
	struct tb_json *o = NULL;
	struct tb_error e = {0};
	assert_int_equal(tb_json_parse(opts, strlen(opts), NULL, &o, &e), 0);
	void *conf = calloc(1, w->ops->conf_size), *st = NULL;
	assert_int_equal(tb_options_load(w->ops->options, o, NULL, NULL, conf, &e), 0);
	tb_json_free(o);
	struct tb_network net = {.name = "vectors", .adapter = "ethereum", .conf = conf};
	assert_int_equal(w->ops->open(&net, &st, &e), 0);
	struct tb_native rec = {.locator = "v"};
	rec.doc = tb_json_new_object();
	tb_json_object_set(rec.doc, "transactionHash", 15, tb_json_new_string(tx, strlen(tx)));
	tb_json_object_set(rec.doc, "logIndex", 8, tb_json_new_number(log));
	struct tb_proof p = {0};
	assert_int_equal(w->ops->verify(st, &rec, &p, &e), 0);
	snprintf(reason, 512, "%s", p.reason);
	enum tb_verdict v = p.verdict;
	tb_proof_fini(&p);
	tb_json_free(rec.doc);
	w->ops->close(st);
	tb_options_fini(w->ops->options, conf);
	free(conf);
	return v;
}

static void vectors_valid(void **state)
{
	struct world *w = *state;
	char o[256], reason[512];
	snprintf(o, sizeof(o), "{\"rpc\":\"%s\"}", w->url);
	for (int i = 0; i < 10; i++)
		if (check(w, o, TX_TEN_LOGS, i, reason) != TB_VALID)
			fail_msg("log %d: %s", i, reason);
	assert_int_equal(check(w, o, TX_ONE_LOG, 10, reason), TB_VALID);
	assert_non_null(strstr(reason, "transactions and receipts roots rebuilt"));
	/* not final enough for 13 confirmations: UNKNOWN, retried later */
	snprintf(o, sizeof(o), "{\"rpc\":\"%s\",\"confirmations\":13}", w->url);
	assert_int_equal(check(w, o, TX_ONE_LOG, 10, reason), TB_UNKNOWN);
	assert_non_null(strstr(reason, "12 confirmations, 13 needed"));
}

static void vectors_invalid(void **state)
{
	struct world *w = *state;
	char o[256], reason[512];
	snprintf(o, sizeof(o), "{\"rpc\":\"%s\"}", w->url);
	/* log 10 belongs to the fourth transaction, not the second */
	assert_int_equal(check(w, o, TX_TEN_LOGS, 10, reason), TB_INVALID);
	assert_non_null(strstr(reason, "is not in transaction"));
	/* an altered receipt */
	node_script(&w->node, 1);
	assert_int_equal(check(w, o, TX_ONE_LOG, 10, reason), TB_INVALID);
	assert_non_null(strstr(reason, "receipts root mismatch"));
	node_script(&w->node, 0);
	/* a configured contract that is not the emitter */
	snprintf(o, sizeof(o), "{\"rpc\":\"%s\",\"contracts\":[\"0x%040d\"]}", w->url, 1);
	assert_int_equal(check(w, o, TX_ONE_LOG, 10, reason), TB_INVALID);
	assert_non_null(strstr(reason, "not a configured contract"));
	/* a configured issuer that did not sign */
	snprintf(o, sizeof(o), "{\"rpc\":\"%s\",\"issuers\":[\"0x%040d\"]}", w->url, 1);
	assert_int_equal(check(w, o, TX_ONE_LOG, 10, reason), TB_INVALID);
	assert_non_null(strstr(reason, "not an authorised issuer"));
	/* nobody listening */
	assert_int_equal(check(w, "{\"rpc\":\"http://127.0.0.1:1/\"}", TX_ONE_LOG, 10, reason),
	                 TB_UNKNOWN);
}

/* Options the core refuses when the network opens, naming the option. */
static void bad_options(void **state)
{
	struct world *w = *state;
	const char *bad[][2] = {
		{"{\"rpc\":\"http://127.0.0.1:1/\",\"key\":\"0x12\"}", "key"},
		{"{\"rpc\":\"http://127.0.0.1:1/\",\"contracts\":[\"0x12\"]}", "contracts[0]"},
		{"{\"rpc\":\"http://127.0.0.1:1/\",\"topics\":[\"0x12\"]}", "topics[0]"},
		{"{\"rpc\":\"ftp://127.0.0.1:1/\"}", "http://"},
	};
	for (size_t i = 0; i < 4; i++) {
		struct tb_json *o = NULL;
		struct tb_error e = {0};
		assert_int_equal(tb_json_parse(bad[i][0], strlen(bad[i][0]), NULL, &o, &e), 0);
		void *conf = calloc(1, w->ops->conf_size), *st = NULL;
		assert_int_equal(tb_options_load(w->ops->options, o, NULL, NULL, conf, &e), 0);
		struct tb_network net = {.name = "bad", .adapter = "ethereum", .conf = conf};
		assert_int_equal(w->ops->open(&net, &st, &e), TB_ECONFIG);
		assert_non_null(strstr(e.msg, bad[i][1]));
		tb_json_free(o);
		tb_options_fini(w->ops->options, conf);
		free(conf);
	}
}

static int run_verify(const char *url, const char *tx, const char *log)
{
	char bin[4096], path[4096];
	const char *bd = getenv("TB_BUILDDIR");
	snprintf(bin, sizeof(bin), "%s/tradebridge", bd ? bd : ".");
	snprintf(path, sizeof(path), "%s/adapters/ethereum/.libs", bd ? bd : ".");
	setenv("TRADEBRIDGE_ADAPTER_PATH", path, 1);
	char *argv[] = {bin, "verify", "--rpc", (char *)url, "--tx", (char *)tx, "--log",
	                (char *)log, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int st;
	assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cli_log_locator(void **state)
{
	struct world *w = *state;
	assert_int_equal(run_verify(w->url, TX_ONE_LOG, "10"), 0);
	assert_int_equal(run_verify(w->url, TX_TEN_LOGS, "10"), 1);
	assert_int_equal(run_verify("http://127.0.0.1:1/", TX_ONE_LOG, "10"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors_valid),
		cmocka_unit_test(vectors_invalid),
		cmocka_unit_test(cli_log_locator),
		cmocka_unit_test(bad_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
