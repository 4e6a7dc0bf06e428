/* tradebridge receipts: list/show/verify on a store written by the relay,
 * verify over a live REP socket, tail filling a gap by replay; verify names the first tampered receipt and the
 * first gap (exit 1), and refuses a key file that others can read (exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "crypto/secp256k1.h"
#include "fake_adapters.h"
#include "lib/hex.h"
#include "relay.h"
#include "tmpdir.h"

static char dir[64], store[128], addr_text[43];
static const char key_hex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
static const char key_addr[] = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

static int allow_all(void *ctx, const char *dest, const struct tb_json *rec, struct tb_json **out,
                     struct tb_error *err)
{
	(void)ctx, (void)dest, (void)err;
	*out = tb_json_clone(rec);
	return *out ? 0 : TB_ENOMEM;
}

/* Run the binary with args; out gets stdout+stderr; returns the exit status. */
static int tb(char *out, size_t cap, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "timeout 30 %s/tradebridge %s 2>&1", getenv("TB_BUILDDIR"), args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void make_store(void)
{
	struct tb_error err;
	struct tb_relay_config cfg = {.store_path = store};
	size_t n;
	assert_int_equal(tb_hex_decode(key_hex, 64, cfg.key, 32, &n, NULL), 0);
	struct tb_relay *r;
	static struct fake_sink sink;
	struct fake_source src = {.total = 6, .batch = 10, .unknown_at = -1};
	assert_int_equal(tb_relay_new(&r, &cfg, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "src", &fake_source_ops, &src, &err), 0);
	assert_int_equal(tb_relay_add_network(r, "dst", &fake_sink_ops, &sink, &err), 0);
	assert_int_equal(tb_relay_add_route(r, "src", "dst", &err), 0);
	struct tb_relay_hooks h = {.policy = allow_all};
	tb_relay_set_hooks(r, &h);
	size_t work;
	assert_int_equal(tb_relay_step(r, &work, &err), 0);
	tb_relay_free(r);
}

static void sql(const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(store, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void list_show_verify_store(void **state)
{
	(void)state;
	char out[16384], args[512];
	make_store();
	snprintf(args, sizeof args, "receipts list -s %s", store);
	assert_int_equal(tb(out, sizeof out, args), 0);
	int lines = 0;
	for (char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 6);
	snprintf(args, sizeof args, "receipts show 2 --json -s %s", store);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "\"seq\":2,"));
	snprintf(args, sizeof args, "receipts show 99 -s %s", store);
	assert_int_equal(tb(out, sizeof out, args), 1);
	snprintf(args, sizeof args, "receipts verify --signer %s -s %s", key_addr, store);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "VALID: 6 receipts"));
	assert_non_null(strstr(out, key_addr));
	/* another signer: the first receipt is named */
	snprintf(args, sizeof args, "receipts verify --signer 0x%040d -s %s", 1, store);
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "receipt seq 1:"));
	/* the key file: owner-only is accepted, 0644 refused */
	char key[160];
	snprintf(key, sizeof key, "%s/relay.key", dir);
	int fd = open(key, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, key_hex, 64), 64);
	close(fd);
	assert_int_equal(chmod(key, 0600), 0);
	snprintf(args, sizeof args, "receipts verify -k %s -s %s", key, store);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(tb(out, sizeof out, args), 2);
	assert_non_null(strstr(out, "chmod 600"));
	assert_null(strstr(out, key_hex));

	/* tampered: receipt 3's txref edited in the store */
	sql("UPDATE receipts SET body=replace(body, '\"txref\":\"0xtx-', '\"txref\":\"0xTX-')"
	    " WHERE seq=3");
	snprintf(args, sizeof args, "receipts verify --signer %s -s %s", key_addr, store);
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "INVALID: receipt seq 3:"));
	/* a gap: receipt 2 removed (the tampered 3 is after it) */
	sql("DELETE FROM receipts WHERE seq=2");
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "receipt seq 3: expected seq 2"));
	assert_int_equal(tb(out, sizeof out, "receipts frob"), 2);
	assert_int_equal(tb(out, sizeof out, "receipts list"), 2);
}

static void verify_over_rep(void **state)
{
	(void)state;
	char out[16384], args[512], rep[160], pub[160], st2[160];
	struct tb_error err;
	snprintf(st2, sizeof st2, "%s", store);
	snprintf(store, sizeof store, "%s/live.db", dir);
	make_store();
	snprintf(rep, sizeof rep, "ipc://%s/rep", dir);
	snprintf(pub, sizeof pub, "ipc://%s/pub", dir);
	struct tb_bus *b;
	struct tb_bus_config bc = {.pub_url = pub, .rep_url = rep, .store_path = store};
	assert_int_equal(tb_bus_open(&b, &bc, &err), 0);
	snprintf(args, sizeof args, "receipts verify --signer %s --rep %s", key_addr, rep);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "VALID: 6 receipts"));
	snprintf(args, sizeof args, "receipts list --from 5 --rep %s", rep);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "5\t"));
	assert_non_null(strstr(out, "6\t"));

	/* tail: the live receipt 6 arrives first; 1..5 are filled by replay */
	char json[TB_RECEIPT_MAX_BYTES], outfile[160];
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(store, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT body FROM receipts WHERE seq=6", -1, &q, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(json, sizeof json, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	snprintf(outfile, sizeof outfile, "%s/tail.out", dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "exec timeout 20 %s/tradebridge receipts tail --pub %s --rep %s "
		         "--from 1 --count 6 >%s 2>&1", getenv("TB_BUILDDIR"), pub, rep, outfile);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int status = -1, done = 0;
	for (int i = 0; i < 100 && !done; i++) {
		assert_int_equal(tb_bus_publish(b, json, &err), 0);
		usleep(100000);
		done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	assert_true(done && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	FILE *f = fopen(outfile, "r");
	assert_non_null(f);
	char line[1024];
	for (int want = 1; want <= 6; want++) {
		assert_non_null(fgets(line, sizeof line, f));
		assert_int_equal(atoi(line), want);
	}
	assert_null(fgets(line, sizeof line, f));
	fclose(f);
	tb_bus_close(b);
	(void)st2;
}

static int setup(void **state)
{
	(void)state;
	if (tb_tmpdir_make(dir, sizeof dir, "tb-rcli") != 0)
		return -1;
	snprintf(store, sizeof store, "%s/relay.db", dir);
	(void)addr_text;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_show_verify_store),
		cmocka_unit_test(verify_over_rep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
