/* tradebridge run: refuses a key file others can read before opening anything;
 * with a valid key it serves /healthz and token-guarded /metrics, answers replay
 * on REP, reloads on SIGHUP and exits 0 on SIGTERM within a bounded wait; a
 * route from an adapter that cannot be a source, or a store it cannot write, is
 * refused at start-up with exit status 2; SIGHUP with a configuration that does
 * not open keeps the running one; the store it creates (and its WAL) is 0600
 * whatever the umask, and a store others can read is reported at start; a replay
 * client that pipelines requests without reading its replies neither keeps an
 * honest client from being served nor holds up SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "fake_adapters.h"
#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/http.h"
#include "relay.h"
#include "runcli.h"
#include "tmpdir.h"

#define TOKEN "run-test-admin-token-0123456789"
static char dir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[160];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

/* Start tradebridge run in dir with extra args; stderr goes to dir/err.log. */
static pid_t start(const char *config, const char *extra)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char cmd[2048];
		setpgid(0, 0);
		snprintf(cmd, sizeof cmd, "cd %s && TRADEBRIDGE_ADAPTER_PATH=%s/adapters/testecho/.libs "
		         "TRADEBRIDGE_ADMIN_TOKEN=%s exec timeout 60 %s/tradebridge run -c %s "
		         "--store relay.db --key relay.key --idle 50 %s 2>err.log",
		         dir, getenv("TB_BUILDDIR"), TOKEN, getenv("TB_BUILDDIR"), config, extra);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int log_has(const char *text)
{
	char p[160];
	snprintf(p, sizeof p, "%s/err.log", dir);
	return tb_file_has(p, text);
}

/* Wait (bounded, scaled by TB_TEST_SLOW) for the relay to log text. */
static int wait_log(const char *text, int seconds)
{
	char p[160];
	snprintf(p, sizeof p, "%s/err.log", dir);
	return tb_wait_file_has(p, text, seconds);
}

static long http_get(int port, const char *path, const char *token)
{
	struct tb_http *h;
	struct tb_error err;
	struct tb_http_options o = {.timeout_ms = 2000, .max_attempts = 1};
	char url[128], auth[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
	const char *headers[] = {auth, NULL};
	struct tb_http_request req = {.url = url, .idempotent = 1, .headers = token ? headers : NULL};
	struct tb_http_response resp;
	assert_int_equal(tb_http_new(&h, &o, &err), 0);
	tb_http_response_init(&resp);
	tb_http_send(h, &req, &resp, &err);
	long st = resp.status;
	tb_http_response_fini(&resp);
	tb_http_free(h);
	return st;
}

static const char config[] =
	"// two echo networks, no routes: the relay idles\n"
	"{\"networks\": {\"pe-echo\": {\"adapter\": \"testecho\", \"endpoint\": \"http://127.0.0.1:1\"}},\n"
	" \"routes\": [], \"policies\": {}}\n";

static const char key_hex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n";

static void refuses_readable_key(void **state)
{
	(void)state;
	write_file("relay.json", config, 0600);
	write_file("relay.key", key_hex, 0644);
	assert_int_equal(tb_wait_exit(start("relay.json", ""), 30), 2);
	assert_true(log_has("chmod 600"));
	assert_false(log_has("4c0883a6"));
	char p[160];
	snprintf(p, sizeof p, "%s/relay.db", dir);
	assert_int_not_equal(access(p, F_OK), 0); /* nothing was opened */
}

static void serves_reloads_and_stops(void **state)
{
	(void)state;
	write_file("relay.json", config, 0600);
	write_file("relay.key", key_hex, 0600);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	int port = 20000 + rand() % 30000;
	char extra[512], pub[128], rep[128];
	snprintf(pub, sizeof pub, "ipc://%s/pub", dir);
	snprintf(rep, sizeof rep, "ipc://%s/rep", dir);
	snprintf(extra, sizeof extra, "--admin 127.0.0.1:%d --pub %s --rep %s", port, pub, rep);
	pid_t pid = start("relay.json", extra);
	int up = 0;
	for (int i = 0; i < 100 && !up; i++) {
		up = http_get(port, "/healthz", NULL) == 200;
		if (!up)
			usleep(100000);
	}
	assert_true(up);
	assert_int_equal(http_get(port, "/metrics", NULL), 401);
	assert_int_equal(http_get(port, "/metrics", TOKEN), 200);
	struct tb_bus_sub *sub;
	struct tb_error err;
	struct tb_receipt rs[2];
	size_t n = 9;
	assert_int_equal(tb_bus_sub_open(&sub, NULL, rep, NULL, &err), 0);
	assert_int_equal(tb_bus_replay(sub, 1, rs, 2, &n, 3000, &err), 0);
	assert_int_equal(n, 0);
	tb_bus_sub_close(sub);

	kill(pid, SIGHUP);
	assert_true(wait_log("configuration reloaded", 5));
	up = 0;
	for (int i = 0; i < 50 && !up; i++) {
		up = http_get(port, "/metrics", TOKEN) == 200;
		if (!up)
			usleep(100000);
	}
	assert_true(up);
	kill(pid, SIGTERM);
	assert_int_equal(tb_wait_exit(pid, 10), 0);
	assert_true(log_has("stopped"));
	char p[160];
	struct stat st;
	snprintf(p, sizeof p, "%s/relay.db", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* created by run under umask 022 */
	assert_false(log_has("group or others can read"));
}

static void warns_about_readable_store(void **state)
{
	(void)state;
	char p[160], extra[128];
	snprintf(p, sizeof p, "%s/relay.db", dir);
	write_file("relay.json", config, 0600);
	write_file("relay.key", key_hex, 0600);
	assert_int_equal(chmod(p, 0644), 0);
	snprintf(extra, sizeof extra, "--admin 127.0.0.1:%d", 20000 + rand() % 30000);
	pid_t pid = start("relay.json", extra);
	int running = wait_log("relay running", 30);
	kill(pid, SIGTERM);
	assert_int_equal(tb_wait_exit(pid, 30), 0);
	assert_true(running);
	assert_true(log_has("relay.db has mode 0644: group or others can read"));
	assert_true(log_has("chmod 600"));
}


/* A SIGHUP with a configuration that does not open keeps the running one. */
static void broken_reload_keeps_running(void **state)
{
	(void)state;
	write_file("relay.json", config, 0600);
	write_file("relay.key", key_hex, 0600);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	int port = 20000 + rand() % 30000;
	char extra[128];
	snprintf(extra, sizeof extra, "--admin 127.0.0.1:%d", port);
	write_file("err.log", "", 0600); /* no line of an earlier run */
	pid_t pid = start("relay.json", extra);
	assert_true(wait_log("relay running", 20));
	write_file("relay.json", "{\"networks\": {\"pe-echo\": {\"adapter\": \"no-such-adapter\"}}}",
	           0600);
	kill(pid, SIGHUP);
	assert_true(wait_log("the running configuration stays", 20));
	assert_true(log_has("no adapter named \"no-such-adapter\" on the adapter path"));
	assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* still running */
	assert_int_equal(http_get(port, "/metrics", TOKEN), 200);
	assert_int_equal(http_get(port, "/readyz", NULL), 200);
	kill(pid, SIGTERM);
	assert_int_equal(tb_wait_exit(pid, 10), 0);
}

/* A store file the relay cannot write stops it at start, with the reason. */
static void unwritable_store_is_a_startup_error(void **state)
{
	(void)state;
	char p[160];
	write_file("relay.json", config, 0600);
	write_file("relay.key", key_hex, 0600);
	snprintf(p, sizeof p, "%s/relay.db", dir);
	write_file("err.log", "", 0600);
	pid_t pid = start("relay.json", "");
	assert_true(wait_log("relay running", 20));
	kill(pid, SIGTERM);
	assert_int_equal(tb_wait_exit(pid, 10), 0);
	assert_int_equal(chmod(p, 0444), 0);
	int fd = open(p, O_RDONLY);
	int flags = 0, immutable = 0;
	if (geteuid() == 0) { /* root writes a 0444 file: make it immutable instead */
		assert_true(fd >= 0);
		assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &flags), 0);
		flags |= FS_IMMUTABLE_FL;
		immutable = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
		if (!immutable)
			skip(); /* no CAP_LINUX_IMMUTABLE here: nothing a test can make unwritable */
	}
	write_file("err.log", "", 0600);
	int status = tb_wait_exit(start("relay.json", ""), 30);
	if (immutable) {
		flags &= ~FS_IMMUTABLE_FL;
		assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	}
	close(fd);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(status, 2);
	assert_true(log_has("relay.db: not writable")); /* the check check-config runs too */
	assert_false(log_has("relay running"));
}

static void refuses_route_from_non_source(void **state)
{
	(void)state;
	write_file("bad.json", "{\"networks\": {\"a\": {\"adapter\": \"testecho\", \"endpoint\": \"x\"},"
	           " \"b\": {\"adapter\": \"testecho\", \"endpoint\": \"y\"}},"
	           " \"routes\": [{\"from\": \"a\", \"to\": \"b\"}]}", 0600);
	write_file("relay.key", key_hex, 0600);
	assert_int_equal(tb_wait_exit(start("bad.json", ""), 30), 2);
	assert_true(log_has("cannot be a source"));
}

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

/* A store holding n receipts signed with key_hex, so replies are large. */
static void make_store(long n)
{
	char path[160];
	snprintf(path, sizeof path, "%s/relay.db", dir);
	struct tb_error err;
	struct tb_relay_config cfg = {.store_path = path};
	size_t len;
	assert_int_equal(tb_hex_decode(key_hex, 64, cfg.key, 32, &len, NULL), 0);
	struct tb_relay *r;
	static struct fake_sink sink;
	struct fake_source src = {.total = n, .batch = 100, .unknown_at = -1};
	assert_int_equal(tb_relay_new(&r, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "src", &fake_source_ops, &src, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "dst", &fake_sink_ops, &sink, &err), 0);
	assert_int_equal(tb_relay_add_route(r, "src", "dst", &err), 0);
	struct tb_relay_hooks h = {.policy = allow_all};
	tb_relay_set_hooks(r, &h);
	size_t work = 1;
	for (int i = 0; i < 100 && work; i++)
		assert_int_equal(tb_relay_step(r, &work, &err), 0);
	tb_relay_free(r);
}

/* A raw REQ socket, in a process of its own (this program run with --attack),
 * that sends replay requests as fast as the REP side takes them and never reads a
 * reply: the peer every server must survive. It stays connected, sending more
 * whenever it can, until killed. */
static void attack(const char *rep)
{
	nng_socket s;
	if (nng_req0_open_raw(&s) != 0 || nng_dial(s, rep, NULL, 0) != 0)
		_exit(1);
	for (uint32_t id = 1; id < 1000000; id++) {
		nng_msg *m;
		if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append_u32(m, 0x80000000u | id) != 0 ||
		    nng_msg_append(m, "replay 1 256", 12) != 0)
			_exit(1);
		if (nng_sendmsg(s, m, NNG_FLAG_NONBLOCK) != 0) {
			nng_msg_free(m);
			usleep(10000);
		}
	}
	pause();
	_exit(0);
}

static pid_t start_attacker(const char *rep)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "run_test", "--attack", rep, (char *)NULL);
		_exit(127); /* nng may not be used again after a fork: start afresh */
	}
	return pid;
}

static void stalled_replay_client_is_cut_off(void **state)
{
	(void)state;
	write_file("relay.json", config, 0600);
	write_file("relay.key", key_hex, 0600);
	make_store(600);
	char extra[512], pub[128], rep[128];
	snprintf(pub, sizeof pub, "ipc://%s/pub", dir);
	snprintf(rep, sizeof rep, "ipc://%s/rep", dir);
	int port = 20000 + rand() % 30000;
	snprintf(extra, sizeof extra, "--admin 127.0.0.1:%d --pub %s --rep %s", port, pub, rep);
	pid_t pid = start("relay.json", extra);

	struct tb_bus_sub *honest;
	struct tb_error err;
	static struct tb_receipt rs[TB_BUS_REPLAY_MAX];
	size_t n = 0;
	assert_int_equal(tb_bus_sub_open(&honest, NULL, rep, NULL, &err), 0);
	int up = 0;
	for (int i = 0; i < 50 && !up; i++)
		up = tb_bus_replay(honest, 1, rs, 2, &n, 500, &err) == 0;
	assert_true(up);

	pid_t attacker = start_attacker(rep);
	sleep(2); /* its replies back up: without a send timeout the REP thread is stuck now */

	/* the honest client is still answered, in full, while the attack goes on */
	int served = 0;
	for (int i = 0; i < 3 && !served; i++)
		served = tb_bus_replay(honest, 1, rs, TB_BUS_REPLAY_MAX, &n, 3000, &err) == 0;
	tb_bus_sub_close(honest);
	kill(pid, SIGTERM);
	int rc = tb_wait_exit(pid, 10); /* generous: the aim is a couple of seconds */
	kill(attacker, SIGKILL);
	waitpid(attacker, NULL, 0);
	assert_true(served);
	assert_int_equal(n, TB_BUS_REPLAY_MAX);
	assert_int_equal(rc, 0);
}

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-run");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--attack") == 0)
		attack(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_readable_key),
		cmocka_unit_test(serves_reloads_and_stops),
		cmocka_unit_test(refuses_route_from_non_source),
		cmocka_unit_test(warns_about_readable_store),
		cmocka_unit_test(stalled_replay_client_is_cut_off),
		cmocka_unit_test(broken_reload_keeps_running),
		cmocka_unit_test(unwritable_store_is_a_startup_error),
	};
	umask(022); /* what most systems give: new files would be 0644 */
	return cmocka_run_group_tests(tests, setup, teardown);
}
