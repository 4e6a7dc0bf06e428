/* tradebridge receipts: list/show/verify on a store written by the relay,
 * verify over a live REP socket, tail filling a gap by replay; verify names the
 * first tampered receipt, the first gap and delivered rows whose receipts are gone
 * (exit 1), and refuses a key file that others can read (exit 2). tail against a
 * publisher of our own: forged receipts stop it, escapes never reach the terminal.
 * Numbers (CLI values, REP requests) are read strictly: tables of both. */
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

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/req.h>

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

/* A store at path holding total receipts, written by the relay (one step). */
static void make_store_at(const char *path, long total)
{
	struct tb_error err;
	struct tb_relay_config cfg = {.store_path = path, .claim_max = (size_t)total};
	size_t n;
	assert_int_equal(tb_hex_decode(key_hex, 64, cfg.key, 32, &n, NULL), 0);
	struct tb_relay *r;
	static struct fake_sink sink;
	memset(&sink, 0, sizeof sink);
	struct fake_source src = {.total = total, .batch = total, .unknown_at = -1};
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

static void make_store(void)
{
	make_store_at(store, 6);
}

static void sql_at(const char *path, const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void sql(const char *q)
{
	sql_at(store, q);
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
		         "--from 1 --count 6 --signer %s >%s 2>&1", getenv("TB_BUILDDIR"), pub, rep, key_addr,
		         outfile);
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


/* Start `tradebridge ARGS >outfile 2>&1` in the background (bounded by timeout 90:
 * generous, for sanitizer builds on a loaded machine). */
static pid_t spawn(const char *args, const char *outfile)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "exec timeout 90 %s/tradebridge %s >%s 2>&1",
		         getenv("TB_BUILDDIR"), args, outfile);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Call send(ctx) every 100 ms until pid exits (at most 95 s); its exit status. */
static int feed_until_exit(pid_t pid, void (*send)(void *), void *ctx)
{
	int status = -1, done = 0;
	for (int i = 0; i < 950 && !done; i++) {
		send(ctx);
		usleep(100000);
		done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void slurp(const char *file, char *out, size_t cap)
{
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	fclose(f);
}

static void body_of(const char *path, int seq, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT body FROM receipts WHERE seq=?", -1, &q, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int(q, 1, seq);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* A publisher of our own: three receipts, the second with terminal escapes in its
 * locator (validly signed: the relay passes on what the source said), the third
 * forged (signed by another key). */
struct forger {
	nng_socket pub;
	char json[3][TB_RECEIPT_MAX_BYTES];
	int send[3]; /* which of them to publish, in order */
};

static void forge(struct forger *f)
{
	static const char *const loc[] = {
		"0xfeed:0", "\x1b]0;pwned\x07\x1b[2J\x1b[31mZ\xc3\xbcrich\xc2\x9b" "31m\x7f", "0xfeed:2"};
	uint8_t key[32], other[32], prev[32] = {0};
	size_t n;
	struct tb_error err;
	assert_int_equal(tb_hex_decode(key_hex, 64, key, 32, &n, NULL), 0);
	memset(other, 7, 32);
	for (int i = 0; i < 3; i++) {
		struct tb_receipt r = {.seq = (uint64_t)i + 1};
		memcpy(r.prev, prev, 32);
		snprintf(r.record, sizeof r.record, "sha256:%064d", i + 1);
		snprintf(r.source_network, sizeof r.source_network, "src");
		snprintf(r.source_locator, sizeof r.source_locator, "%s", loc[i]);
		snprintf(r.verdict, sizeof r.verdict, "VALID");
		snprintf(r.destination, sizeof r.destination, "dst");
		snprintf(r.txref, sizeof r.txref, "0xt%d", i + 1);
		snprintf(r.status, sizeof r.status, "confirmed");
		snprintf(r.time, sizeof r.time, "2026-12-02T10:00:0%dZ", i);
		assert_int_equal(tb_receipt_sign(&r, i == 2 ? other : key, &err), 0);
		assert_int_equal(tb_receipt_hash(&r, prev, &err), 0);
		struct tb_buf b;
		tb_buf_init(&b, TB_RECEIPT_MAX_BYTES);
		assert_int_equal(tb_receipt_write(&r, &b, &err), 0);
		snprintf(f->json[i], sizeof f->json[i], "%s", (char *)b.data);
		tb_buf_fini(&b);
	}
}

static void forger_send(void *ctx)
{
	struct forger *f = ctx;
	for (int i = 0; i < 3; i++)
		if (f->send[i])
			assert_int_equal(nng_send(f->pub, f->json[i], strlen(f->json[i]), 0), 0);
}

static void no_control_bytes(const char *out)
{
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		assert_false(*p < 0x20 && *p != '\n' && *p != '\t');
		assert_false(*p == 0x7f);
		assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0);
	}
}

static void tail_verifies_and_escapes(void **state)
{
	(void)state;
	static struct forger f;
	char pub[160], args[512], outfile[160], out[16384];
	forge(&f);
	snprintf(pub, sizeof pub, "ipc://%s/forger", dir);
	assert_int_equal(nng_pub0_open(&f.pub), 0);
	assert_int_equal(nng_listen(f.pub, pub, NULL, 0), 0);
	snprintf(outfile, sizeof outfile, "%s/forged.out", dir);
	/* receipt 1 and the forged 3: whichever arrives first, 3 is never printed */
	f.send[0] = f.send[2] = 1;
	snprintf(args, sizeof args, "receipts tail --pub %s --count 3 --timeout 60000 --signer %s",
	         pub, key_addr);
	int rc = feed_until_exit(spawn(args, outfile), forger_send, &f);
	slurp(outfile, out, sizeof out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "INVALID: receipt seq 3: signed by"));
	assert_null(strstr(out, "0xt3")); /* the forged one is never printed as data */
	no_control_bytes(out);

	/* receipt 2 is shown, its escapes visible and harmless, its UTF-8 readable */
	f.send[0] = f.send[2] = 0;
	f.send[1] = 1;
	snprintf(args, sizeof args, "receipts tail --pub %s --count 1 --timeout 60000 --signer %s",
	         pub, key_addr);
	rc = feed_until_exit(spawn(args, outfile), forger_send, &f);
	slurp(outfile, out, sizeof out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "2\t2026-12-02T10:00:01Z\t"));
	assert_non_null(strstr(out, "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mZ\xc3\xbcrich\\u009b31m\\x7f"));
	no_control_bytes(out);

	/* --json into a file keeps the exact RFC 8785 bytes (hashable), C0 escaped by JSON */
	snprintf(args, sizeof args, "receipts tail --pub %s --count 1 --timeout 60000 --signer %s "
	         "--json", pub, key_addr);
	rc = feed_until_exit(spawn(args, outfile), forger_send, &f);
	slurp(outfile, out, sizeof out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, f.json[1]));
	assert_null(strchr(out, 0x1b));
	nng_close(f.pub);
}

struct live {
	struct tb_bus *bus;
	char json[TB_RECEIPT_MAX_BYTES];
};

static void live_send(void *ctx)
{
	struct live *l = ctx;
	struct tb_error err;
	assert_int_equal(tb_bus_publish(l->bus, l->json, &err), 0);
}

/* 600 receipts: the live one is seq 600, and 1..599 come by replay in pages of at
 * most 256, each verified; a receipt altered in the relay's store stops tail. */
static void tail_fills_long_gaps_by_pages(void **state)
{
	(void)state;
	static struct live l;
	char big[160], pub[160], rep[160], args[512], outfile[160];
	static char out[600 * 400];
	struct tb_error err;
	snprintf(big, sizeof big, "%s/big.db", dir);
	make_store_at(big, 600);
	snprintf(rep, sizeof rep, "ipc://%s/bigrep", dir);
	snprintf(pub, sizeof pub, "ipc://%s/bigpub", dir);
	struct tb_bus_config bc = {.pub_url = pub, .rep_url = rep, .store_path = big};
	assert_int_equal(tb_bus_open(&l.bus, &bc, &err), 0);
	body_of(big, 600, l.json, sizeof l.json);
	snprintf(outfile, sizeof outfile, "%s/big.out", dir);
	snprintf(args, sizeof args, "receipts tail --pub %s --rep %s --from 1 --count 600 "
	         "--timeout 60000 --signer %s", pub, rep, key_addr);
	int rc = feed_until_exit(spawn(args, outfile), live_send, &l);
	slurp(outfile, out, sizeof out);
	assert_int_equal(rc, 0);
	char *line = out;
	for (int want = 1; want <= 600; want++) {
		assert_non_null(line);
		assert_int_equal(atoi(line), want);
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	assert_true(line == NULL || *line == 0);

	sql_at(big, "UPDATE receipts SET body=replace(body, '\"txref\":\"0xtx-', '\"txref\":\"0xTX-')"
	            " WHERE seq=300");
	rc = feed_until_exit(spawn(args, outfile), live_send, &l);
	slurp(outfile, out, sizeof out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "\n299\t"));
	assert_null(strstr(out, "\n300\t"));
	assert_non_null(strstr(out, "INVALID: receipt seq 300: signed by"));
	tb_bus_close(l.bus);
}

/* Numbers on the command line are read strictly; "not found" is exit 1, a
 * malformed value exit 2 (docs/tradebridge.1). */
static void cli_numbers_table(void **state)
{
	(void)state;
	char st[160], out[16384], args[512];
	snprintf(st, sizeof st, "%s/numbers.db", dir);
	make_store_at(st, 3);
	static const struct {
		const char *args;
		int status;
		const char *says;
	} t[] = {
		{"receipts show 2", 0, "2\t"},
		{"receipts show 9", 1, "no receipt with seq 9"},
		{"receipts show 0", 2, "receipt seq: \"0\" is not a whole number in 1..9007199254740991"},
		{"receipts show 9007199254740992", 2, "is not a whole number"},
		{"receipts show 18446744073709551617", 2, "is not a whole number"},
		{"receipts show 02", 2, "is not a whole number"},
		{"receipts show sha256:00", 1, "no receipt for record sha256:00"},
		{"receipts show 1abc", 1, "no receipt for record 1abc"},
		{"receipts list --limit abc", 2, "--limit: \"abc\" is not a whole number"},
		{"receipts list --limit 0", 2, "--limit: \"0\""},
		{"receipts list --limit 2x", 2, "--limit: \"2x\""},
		{"receipts list --from -1", 2, "--from: \"-1\" is not a whole number"},
		{"receipts list --from 0", 2, "--from: \"0\""},
		{"receipts list --from 18446744073709551615", 2, "--from:"},
		{"receipts list --limit 2", 0, "2\t"},
		{"receipts list --from 3", 0, "3\t"},
		{"receipts tail --pub ipc:///nonexistent --count -5", 2, "--count: \"-5\""},
		{"receipts tail --pub ipc:///nonexistent --timeout 1e3", 2, "--timeout: \"1e3\""},
		{"receipts list extra", 2, "unexpected argument"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(args, sizeof args, "%s -s %s", t[i].args, st);
		if (strncmp(t[i].args, "receipts tail", 13) == 0)
			snprintf(args, sizeof args, "%s", t[i].args);
		int status = tb(out, sizeof out, args);
		if (status != t[i].status || !strstr(out, t[i].says))
			fail_msg("%s: exit %d (want %d): %s", t[i].args, status, t[i].status, out);
	}
	/* list --limit 2 prints exactly two */
	snprintf(args, sizeof args, "receipts list --limit 2 -s %s", st);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_null(strstr(out, "\n3\t"));
}

/* The replay socket reads "replay FROM MAX" strictly: a table of requests. */
static void rep_requests_table(void **state)
{
	(void)state;
	char st[160], rep[160];
	struct tb_error err;
	snprintf(st, sizeof st, "%s/rep.db", dir);
	make_store_at(st, 3);
	snprintf(rep, sizeof rep, "ipc://%s/reqtable", dir);
	struct tb_bus *b;
	struct tb_bus_config bc = {.pub_url = NULL, .rep_url = rep, .store_path = st};
	char pub[160];
	snprintf(pub, sizeof pub, "ipc://%s/reqtable-pub", dir);
	bc.pub_url = pub;
	assert_int_equal(tb_bus_open(&b, &bc, &err), 0);
	nng_socket req;
	assert_int_equal(nng_req0_open(&req), 0);
	nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 5000);
	assert_int_equal(nng_dial(req, rep, NULL, 0), 0);
	static const struct {
		const char *req;
		int lines; /* receipts in an ok reply; -1: an error reply */
		uint64_t first;
	} t[] = {
		{"replay 1 2", 2, 1},
		{"replay 2 9999", 2, 2},
		{"replay 4 1", 0, 0},
		{"replay -1 2", -1, 0},
		{"replay 0 1", -1, 0},
		{"replay 1 0", -1, 0},
		{"replay 1 -2", -1, 0},
		{"replay 9223372036854775808 1", -1, 0},
		{"replay 18446744073709551617 1", -1, 0},
		{"replay 1 2x", -1, 0},
		{"replay  1 2", -1, 0},
		{"replay 1  2", -1, 0},
		{"replay 01 2", -1, 0},
		{"replay 1 2 ", -1, 0},
		{"replay 1", -1, 0},
		{"replay", -1, 0},
		{"REPLAY 1 2", -1, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *msg = NULL;
		size_t len = 0;
		assert_int_equal(nng_send(req, (void *)t[i].req, strlen(t[i].req), 0), 0);
		assert_int_equal(nng_recv(req, &msg, &len, NNG_FLAG_ALLOC), 0);
		int lines = -1;
		uint64_t first = 0;
		if (len >= 3 && memcmp(msg, "ok\n", 3) == 0) {
			lines = 0;
			for (size_t k = 3; k < len; k++)
				lines += msg[k] == '\n';
			char *seq = len > 3 ? strstr(msg, "\"seq\":") : NULL;
			first = seq ? strtoull(seq + 6, NULL, 10) : 0;
		}
		if (lines != t[i].lines || first != t[i].first)
			fail_msg("\"%s\": %d receipts from %llu, want %d from %llu: %.*s", t[i].req, lines,
			         (unsigned long long)first, t[i].lines, (unsigned long long)t[i].first,
			         (int)len, msg);
		if (lines < 0)
			assert_true(len > 7 && memcmp(msg, "error: ", 7) == 0);
		nng_free(msg, len);
	}
	nng_close(req);
	tb_bus_close(b);
}

/* A log cut short, or emptied, still chains: verify finds the delivered rows
 * whose receipts are gone and names the first. */
static void verify_finds_truncation(void **state)
{
	(void)state;
	char st[160], out[16384], args[512];
	snprintf(st, sizeof st, "%s/trunc.db", dir);
	make_store_at(st, 6);
	snprintf(args, sizeof args, "receipts verify --signer %s -s %s", key_addr, st);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "VALID: 6 receipts"));
	assert_non_null(strstr(out, "every delivered row has its receipt"));
	char rid[128];
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(st, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT record_id FROM receipts WHERE seq=5", -1, &q,
	                                    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(rid, sizeof rid, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);

	sql_at(st, "DELETE FROM receipts WHERE seq>=5");
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "INVALID: outbox row "));
	assert_non_null(strstr(out, rid));
	assert_non_null(strstr(out, "to dst) is delivered but has no receipt; 2 delivered rows"));
	sql_at(st, "DELETE FROM receipts");
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "6 delivered rows without a receipt"));
}

/* Readers refuse a store from a newer tradebridge; a receipt whose stored body no
 * longer parses, or sits under another seq, is INVALID naming that seq. */
static void readers_refuse_damage(void **state)
{
	(void)state;
	char st[160], out[16384], args[512];
	snprintf(st, sizeof st, "%s/damage.db", dir);
	make_store_at(st, 4);
	sql_at(st, "UPDATE receipts SET body=substr(body, 1, 40) WHERE seq=3");
	snprintf(args, sizeof args, "receipts verify --signer %s -s %s", key_addr, st);
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "INVALID: receipt seq 3: the stored receipt no longer parses"));
	snprintf(args, sizeof args, "receipts list -s %s", st);
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "2\t"));
	assert_non_null(strstr(out, "INVALID: receipt seq 3:"));

	/* a valid receipt body moved under another seq */
	char two[TB_RECEIPT_MAX_BYTES], q[TB_RECEIPT_MAX_BYTES + 128];
	body_of(st, 2, two, sizeof two);
	snprintf(q, sizeof q, "UPDATE receipts SET body='%s' WHERE seq=3", two);
	sql_at(st, q);
	snprintf(args, sizeof args, "receipts verify --signer %s -s %s", key_addr, st);
	assert_int_equal(tb(out, sizeof out, args), 1);
	assert_non_null(strstr(out, "INVALID: receipt seq 3: the stored receipt says seq 2"));

	sql_at(st, "PRAGMA user_version = 99");
	static const char *const readers[] = {"receipts list -s", "receipts show 1 -s",
	                                      "receipts verify --signer 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 -s",
	                                      "dead-letters list -s"};
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		snprintf(args, sizeof args, "%s %s", readers[i], st);
		int status = tb(out, sizeof out, args);
		if (status == 0 || !strstr(out, "schema version 99 is newer than this tradebridge"))
			fail_msg("%s: exit %d: %s", readers[i], status, out);
	}
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
		cmocka_unit_test(tail_verifies_and_escapes),
		cmocka_unit_test(tail_fills_long_gaps_by_pages),
		cmocka_unit_test(cli_numbers_table),
		cmocka_unit_test(rep_requests_table),
		cmocka_unit_test(verify_finds_truncation),
		cmocka_unit_test(readers_refuse_damage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
