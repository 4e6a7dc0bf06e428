/* The ethereum adapter's verify path on the execution-apis vectors: a stand-in node
 * on 127.0.0.1 answers only with the recorded answers for block 54 (its header with
 * full transactions, its receipts), so the header hash, the transactions root (four
 * legacy transactions), the receipts root and the signer are all checked against
 * data produced by a real client. A log in the wrong transaction, an altered receipt
 * and a foreign emitter are INVALID; a missing node is UNKNOWN. The same node backs
 * `tradebridge verify --rpc --tx --log` end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapter.h"
#include "lib/buf.h"
#include "builtmod.h"
#include "modules.h"

extern char **environ;

#define TX_TEN_LOGS "0x492784ac4d441388c6f8415f41e1441f007ab20dc960a2e5edd80012d657d986"
#define TX_ONE_LOG "0x42bbb5422de0069316bbe68f4cb8fc31ac577b1dd0fee07ee3584fe9822fd0cb"

struct node {
	int lfd, port;
	pthread_t th;
	atomic_int stop, tamper;
	struct tb_json *block, *receipts; /* from the vectors */
	const char *head;                 /* what eth_blockNumber says */
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

/* The result for one request, or NULL for "null". */
static struct tb_json *result_for(struct node *n, const char *method, const struct tb_json *params)
{
	const char *p0 = tb_json_string(tb_json_at(params, 0));
	if (strcmp(method, "eth_blockNumber") == 0)
		return tb_json_new_string(n->head, strlen(n->head));
	if (strcmp(method, "eth_getBlockByHash") == 0 || strcmp(method, "eth_getBlockByNumber") == 0) {
		const char *h = tb_json_string(tb_json_get(n->block, "hash"));
		if (p0 && (strcmp(p0, h) == 0 || strcmp(p0, "0x36") == 0))
			return tb_json_clone(n->block);
		return NULL;
	}
	if (strcmp(method, "eth_getBlockReceipts") == 0) {
		struct tb_json *r = tb_json_clone(n->receipts);
		if (atomic_load(&n->tamper)) { /* one byte of a log's data, as if altered in transit */
			struct tb_json *l = tb_json_at(tb_json_get(tb_json_at(r, 3), "logs"), 0);
			struct tb_json *d = tb_json_get(l, "data");
			d->u.string.ptr[d->u.string.len - 1] ^= 1;
		}
		return r;
	}
	if (strcmp(method, "eth_getTransactionReceipt") == 0)
		for (size_t i = 0; p0 && i < tb_json_len(n->receipts); i++) {
			struct tb_json *r = tb_json_at(n->receipts, i);
			if (strcmp(tb_json_string(tb_json_get(r, "transactionHash")), p0) == 0)
				return tb_json_clone(r);
		}
	return NULL;
}

static void respond(struct node *n, const struct tb_json *req, struct tb_buf *out)
{
	const char *m = tb_json_string(tb_json_get(req, "method"));
	struct tb_json *res = m ? result_for(n, m, tb_json_get(req, "params")) : NULL;
	struct tb_json *o = tb_json_new_object();
	tb_json_object_set(o, "jsonrpc", 7, tb_json_new_string("2.0", 3));
	tb_json_object_set(o, "id", 2, tb_json_clone(tb_json_get(req, "id")));
	tb_json_object_set(o, "result", 6, res ? res : tb_json_new_null());
	tb_json_write_stringify(o, out, NULL);
	tb_json_free(o);
}

static void serve_one(struct node *n, int fd)
{
	static __thread char buf[1 << 16];
	size_t len = 0;
	char *end = NULL;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	for (int i = 0; i < 500 && !atomic_load(&n->stop); i++) {
		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (r <= 0)
			return;
		len += (size_t)r;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
		const char *cl = strstr(buf, "Content-Length:");
		if (end && cl && len >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 15))
			break;
	}
	struct tb_json *req = NULL;
	struct tb_buf out;
	tb_buf_init(&out, 0);
	if (!end || tb_json_parse(end + 4, strlen(end + 4), NULL, &req, NULL) != 0)
		return;
	if (req->type == TB_JSON_ARRAY) {
		tb_buf_putc(&out, '[');
		for (size_t i = 0; i < tb_json_len(req); i++) {
			if (i)
				tb_buf_putc(&out, ',');
			respond(n, tb_json_at(req, i), &out);
		}
		tb_buf_putc(&out, ']');
	} else {
		respond(n, req, &out);
	}
	tb_json_free(req);
	char head[256];
	int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                  "Content-Length: %zu\r\nConnection: close\r\n\r\n", out.len);
	send(fd, head, (size_t)hn, MSG_NOSIGNAL);
	send(fd, out.data, out.len, MSG_NOSIGNAL);
	tb_buf_fini(&out);
}

static void *node_main(void *arg)
{
	struct node *n = arg;
	struct pollfd p = {.fd = n->lfd, .events = POLLIN};
	for (int i = 0; i < 3000 && !atomic_load(&n->stop); i++) { /* at most 60 s */
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept(n->lfd, NULL, NULL);
		if (fd >= 0) {
			serve_one(n, fd);
			close(fd);
		}
	}
	return NULL;
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
	struct node *n = &w->node;
	struct tb_error e = {0};
	*state = w;
	n->block = answer_of("eth_getBlockByNumber/get-latest.io");
	n->receipts = answer_of("eth_getBlockReceipts/get-block-receipts-latest.io");
	n->head = "0x42"; /* twelve blocks above 54 */
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	n->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(n->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(n->lfd, 16))
		return -1;
	getsockname(n->lfd, (struct sockaddr *)&sa, &sl);
	n->port = ntohs(sa.sin_port);
	snprintf(w->url, sizeof(w->url), "http://127.0.0.1:%d/", n->port);
	pthread_create(&n->th, NULL, node_main, n);
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
	atomic_store(&w->node.stop, 1);
	pthread_join(w->node.th, NULL);
	close(w->node.lfd);
	tb_json_free(w->node.block);
	tb_json_free(w->node.receipts);
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
	atomic_store(&w->node.tamper, 1);
	assert_int_equal(check(w, o, TX_ONE_LOG, 10, reason), TB_INVALID);
	assert_non_null(strstr(reason, "receipts root mismatch"));
	atomic_store(&w->node.tamper, 0);
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
