/* testecho: a tiny adapter built only for the tests (never installed). It
 * declares one option of every type so the options loader, --describe and
 * check-config can be tested against a real module, and its poll calls
 * tb_batch_push, which proves the binary exports the adapter helpers.
 * Like every adapter, its only global symbol is `tradebridge_adapter`. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

struct echo_conf {
	char *endpoint;
	char *greeting;
	char *token;
	long long port;
	int loud;
	long long interval;
	struct tb_strlist peers;
	struct tb_json *extra;
};

static const struct tb_option echo_options[] = {
	{TB_OPT_STRING, "endpoint", NULL, TB_OPT_REQUIRED, offsetof(struct echo_conf, endpoint),
	 "where the echo peer listens", 0, 0},
	{TB_OPT_STRING, "greeting", "\"hello\"", 0, offsetof(struct echo_conf, greeting),
	 "text each polled record carries", 0, 0},
	{TB_OPT_SECRET, "token", NULL, 0, offsetof(struct echo_conf, token),
	 "bearer token for the peer; set it from the environment", 0, 0},
	{TB_OPT_INT, "port", "8545", 0, offsetof(struct echo_conf, port), "TCP port of the peer",
	 1, 65535},
	{TB_OPT_BOOL, "loud", "false", 0, offsetof(struct echo_conf, loud),
	 "upper-case the greeting", 0, 0},
	{TB_OPT_DURATION, "interval", "\"30s\"", 0, offsetof(struct echo_conf, interval),
	 "how often to poll", 100, 3600000},
	{TB_OPT_STRLIST, "peers", "[]", 0, offsetof(struct echo_conf, peers),
	 "names of peer networks", 0, 0},
	{TB_OPT_JSON, "extra", "null", 0, offsetof(struct echo_conf, extra),
	 "anything; copied into each record", 0, 0},
	TB_OPT_END,
};

static int echo_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	*state = (void *)net->conf;
	return 0;
}

static int echo_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
                     struct tb_error *err)
{
	const struct echo_conf *c = state;
	struct tb_json *doc = tb_json_new_object();
	const char *g = c->greeting ? c->greeting : "";
	if (!doc || tb_json_object_set(doc, "greeting", 8, tb_json_new_string(g, strlen(g)))) {
		tb_json_free(doc);
		return tb_error_set(err, TB_ENOMEM, "testecho: out of memory");
	}
	int rc = tb_batch_push(out, "echo:1", "echo.greeting", doc);
	if (rc == 0)
		strcpy(out->next.value, "1");
	return rc;
}

static void echo_close(void *state)
{
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI,
	.name = "testecho",
	.summary = "test adapter: echoes its greeting (built for the test suite only)",
	.options = echo_options,
	.conf_size = sizeof(struct echo_conf),
	.open = echo_open,
	.poll = echo_poll,
	.close = echo_close,
};
