/* ganache started and stopped by tests. Invariant: every path out of
 * tb_ganache_start that does not return 0 has already killed and reaped the child,
 * and the child dies with the test process even if the test crashes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ganache.h"
#include "peers.h"

const char *const tb_ganache_keys[3] = {
	"ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
	"59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
	"5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
};
const char *const tb_ganache_addresses[3] = {
	"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
	"0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
	"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A port that was free a moment ago (the kernel's pick for port 0). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void child_exec(const char *bin, int port, unsigned chain_id)
{
	char p[16], cid[16];
	snprintf(p, sizeof(p), "%d", port);
	snprintf(cid, sizeof(cid), "%u", chain_id);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (!getenv("TB_GANACHE_VERBOSE"))
			dup2(null, 2);
	}
	execl(bin, bin, "--server.host", "127.0.0.1", "--server.port", p, "--chain.chainId", cid,
	      "--wallet.mnemonic", TB_GANACHE_MNEMONIC, "--logging.quiet", "true",
	      "--chain.vmErrorsOnRPCResponse", "true", (char *)NULL);
	_exit(127);
}

int tb_ganache_start(struct tb_ganache *g, unsigned chain_id, struct tb_error *err)
{
	memset(g, 0, sizeof(*g));
	char bin[4096];
	tb_peers_path(".bin/ganache", bin, sizeof bin);
	if (access(bin, X_OK) != 0)
		return tb_error_set(err, TB_ENOTFOUND, "ganache: %s is missing; run `npm ci --prefix "
		                    "tests/peers --no-audit --no-fund` (quickstart does)", bin);
	g->port = free_port();
	g->chain_id = chain_id;
	if (g->port <= 0)
		return tb_error_set(err, TB_EIO, "ganache: no free loopback port");
	snprintf(g->url, sizeof(g->url), "http://127.0.0.1:%d", g->port);
	const char *urls[1] = {g->url};
	struct tb_http_options ho = {.max_attempts = 1, .connect_timeout_ms = 1000,
	                             .timeout_ms = 20000};
	int rc = tb_jsonrpc_new(&g->rpc, urls, 1, &ho, err);
	if (rc < 0)
		return rc;
	pid_t pid = fork();
	if (pid < 0) {
		tb_ganache_stop(g);
		return tb_error_set(err, TB_EIO, "ganache: fork: %s", strerror(errno));
	}
	if (pid == 0)
		child_exec(bin, g->port, chain_id);
	setpgid(pid, pid); /* both sides, so the group exists before we might kill it */
	g->pid = pid;
	for (long deadline = now_ms() + TB_GANACHE_START_MS; now_ms() < deadline;) {
		struct tb_json *r = NULL;
		if (tb_jsonrpc_call(g->rpc, "eth_chainId", NULL, &r, NULL, NULL) == 0) {
			tb_json_free(r);
			return 0;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			g->pid = 0;
			tb_ganache_stop(g);
			return tb_error_set(err, TB_EUNAVAIL, "ganache: exited before answering on port "
			                    "%d (TB_GANACHE_VERBOSE=1 shows why)", urls[0] ? g->port : 0);
		}
		sleep_ms(100);
	}
	tb_ganache_stop(g);
	return tb_error_set(err, TB_EUNAVAIL, "ganache: no answer within %d ms", TB_GANACHE_START_MS);
}

void tb_ganache_stop(struct tb_ganache *g)
{
	if (g == NULL) /* a group teardown after a setup that never started it */
		return;
	if (g->pid > 0) {
		kill(-g->pid, SIGTERM);
		long deadline = now_ms() + 5000;
		while (waitpid(g->pid, NULL, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				kill(-g->pid, SIGKILL);
				waitpid(g->pid, NULL, 0);
				break;
			}
			sleep_ms(20);
		}
		kill(-g->pid, SIGKILL); /* anything left in the group */
		g->pid = 0;
	}
	tb_jsonrpc_free(g->rpc);
	g->rpc = NULL;
}

int tb_ganache_call(struct tb_ganache *g, const char *method, const char *params,
                    struct tb_json **result, struct tb_error *err)
{
	struct tb_json *r = NULL;
	if (g->rpc == NULL)
		return tb_error_set(err, TB_EUNAVAIL, "ganache: not running");
	int rc = tb_jsonrpc_call(g->rpc, method, params, &r, NULL, err);
	if (result)
		*result = r;
	else
		tb_json_free(r);
	return rc;
}

int tb_ganache_snapshot(struct tb_ganache *g, char id[32], struct tb_error *err)
{
	struct tb_json *r = NULL;
	int rc = tb_ganache_call(g, "evm_snapshot", NULL, &r, err);
	if (rc == 0) {
		const char *s = tb_json_string(r);
		if (s == NULL || strlen(s) >= 32)
			rc = tb_error_set(err, TB_EINVAL, "ganache: evm_snapshot answered no id");
		else
			strcpy(id, s);
	}
	tb_json_free(r);
	return rc;
}

int tb_ganache_revert(struct tb_ganache *g, const char *id, struct tb_error *err)
{
	char params[64];
	struct tb_json *r = NULL;
	snprintf(params, sizeof(params), "[\"%.31s\"]", id);
	int rc = tb_ganache_call(g, "evm_revert", params, &r, err);
	if (rc == 0 && (r == NULL || r->type != TB_JSON_BOOL || !r->u.boolean))
		rc = tb_error_set(err, TB_EINVAL, "ganache: evm_revert %s refused", id);
	tb_json_free(r);
	return rc;
}

int tb_ganache_mine(struct tb_ganache *g, unsigned n, struct tb_error *err)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = tb_ganache_call(g, "evm_mine", NULL, NULL, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tb_ganache_block_number(struct tb_ganache *g, uint64_t *n, struct tb_error *err)
{
	struct tb_json *r = NULL;
	int rc = tb_ganache_call(g, "eth_blockNumber", NULL, &r, err);
	if (rc == 0)
		rc = tb_jsonrpc_quantity(r, n, err);
	tb_json_free(r);
	return rc;
}
