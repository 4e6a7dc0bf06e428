/* Receipts over tls+tcp:// with pinned peers: each side's CA file holds only
 * the certificate it accepts. A pinned subscriber receives receipts and replays;
 * one with a certificate the relay does not pin receives nothing; the receipts
 * CLI does the same with its --tls-* flags. Certificates
 * are made at test time with the openssl command (ECDSA P-256, self-signed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "crypto/secp256k1.h"
#include "fake_relay.h"
#include "relay.h"
#include "tmpdir.h"

static char dir[64];

static void make_cert(const char *name)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	         "-keyout %s.key -out %s.crt -days 2 -subj /CN=%s "
	         "-addext subjectAltName=DNS:%s >/dev/null 2>&1 && cat %s.crt %s.key > %s.pem",
	         dir, name, name, name, name, name, name, name);
	assert_int_equal(system(cmd), 0);
}

/* The three parties' files: the relay's and the hub's certificate+key (.pem) and
 * certificate (.crt), and a stranger's .pem that nobody pins. */
struct certs {
	char relay_pem[128], relay_crt[128], hub_pem[128], hub_crt[128], str_pem[128];
};

static void make_certs(struct certs *c)
{
	make_cert("relay");
	make_cert("hub");
	make_cert("stranger");
	snprintf(c->relay_pem, sizeof c->relay_pem, "%s/relay.pem", dir);
	snprintf(c->relay_crt, sizeof c->relay_crt, "%s/relay.crt", dir);
	snprintf(c->hub_pem, sizeof c->hub_pem, "%s/hub.pem", dir);
	snprintf(c->hub_crt, sizeof c->hub_crt, "%s/hub.crt", dir);
	snprintf(c->str_pem, sizeof c->str_pem, "%s/stranger.pem", dir);
}

/* The relay's bus over the store, on tls+tcp:// at a free port pair (pub, rep:
 * 64 bytes each), with its certificate and only the hub pinned. */
static struct tb_bus *open_tls_bus(const char *store, const struct certs *c, char *pub, char *rep)
{
	struct tb_error err;
	struct tb_bus *bus = NULL;
	struct tb_bus_config bc = {.pub_url = pub, .rep_url = rep, .store_path = store,
	                           .tls = {.cert_key_file = c->relay_pem, .ca_file = c->hub_crt}};
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int tries = 0; tries < 20 && !bus; tries++) {
		int port = 20000 + rand() % 30000;
		snprintf(pub, 64, "tls+tcp://127.0.0.1:%d", port);
		snprintf(rep, 64, "tls+tcp://127.0.0.1:%d", port + 1);
		if (tb_bus_open(&bus, &bc, &err) != 0)
			bus = NULL;
	}
	assert_non_null(bus);
	return bus;
}

static void publish(void *ctx, const struct tb_receipt *r, const char *json)
{
	struct tb_error err;
	(void)r;
	assert_int_equal(tb_bus_publish(ctx, json, &err), 0);
}

static void pinned_peer_receives_unpinned_does_not(void **state)
{
	(void)state;
	struct certs c;
	struct tb_error err;
	struct fake_relay *f;
	struct tb_relay_config cfg = {0};
	struct fake_source none = {.total = 0, .batch = 8, .unknown_at = -1};
	make_certs(&c);
	assert_int_equal(fake_relay_open(&f, dir, cfg, none, 0), 0);
	char pub[64], rep[64];
	struct tb_bus *bus = open_tls_bus(f->store, &c, pub, rep);
	tb_relay_on_receipt(f->relay, publish, bus);

	struct tb_bus_tls hub = {.cert_key_file = c.hub_pem, .ca_file = c.relay_crt,
	                         .server_name = "relay"};
	struct tb_bus_tls stranger = {.cert_key_file = c.str_pem, .ca_file = c.relay_crt,
	                              .server_name = "relay"};
	struct tb_bus_sub *good, *bad;
	assert_int_equal(tb_bus_sub_open(&good, pub, rep, &hub, &err), 0);
	assert_int_equal(tb_bus_sub_open(&bad, pub, NULL, &stranger, &err), 0);
	usleep(800000); /* handshakes */

	f->src.total = 3;
	size_t work;
	assert_int_equal(tb_relay_step(f->relay, &work, &err), 0);
	struct tb_receipt got;
	for (uint64_t want = 1; want <= 3; want++) {
		assert_int_equal(tb_bus_sub_recv(good, &got, 3000, &err), 0);
		assert_int_equal(got.seq, want);
	}
	struct tb_receipt rs[4];
	size_t n;
	assert_int_equal(tb_bus_replay(good, 2, rs, 4, &n, 3000, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tb_bus_sub_recv(bad, &got, 1000, &err), TB_EUNAVAIL);

	tb_bus_sub_close(good);
	tb_bus_sub_close(bad);
	tb_bus_close(bus);
	fake_relay_close(f);
}


/* Run the binary with args; out gets stdout+stderr; returns the exit status. */
static int tb(char *out, size_t cap, const char *args)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "timeout 30 %s/tradebridge %s 2>&1", getenv("TB_BUILDDIR"), args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The receipts CLI reaches a tls+tcp:// bus with the relay's own flag names:
 * --tls-cert (our certificate and key) and --tls-ca (the pinned relay). Without
 * them it says what is missing; with a certificate the relay does not pin it
 * gets nothing. */
static void receipts_cli_over_tls(void **state)
{
	(void)state;
	struct certs c;
	struct tb_error err;
	struct fake_relay *f;
	struct tb_relay_config cfg = {0};
	struct fake_source three = {.total = 3, .batch = 8, .unknown_at = -1};
	char signer[43], store[256];
	make_certs(&c);
	assert_int_equal(fake_relay_open(&f, dir, cfg, three, 0), 0);
	tb_eth_address_checksum(f->addr, signer);
	snprintf(store, sizeof store, "%s", f->store);
	size_t work;
	assert_int_equal(tb_relay_step(f->relay, &work, &err), 0);
	fake_relay_close(f);
	char pub[64], rep[64];
	struct tb_bus *bus = open_tls_bus(store, &c, pub, rep);

	char out[16384], args[1024];
	snprintf(args, sizeof args, "receipts verify --signer %s --rep %s --tls-cert %s --tls-ca %s "
	         "--tls-server-name relay", signer, rep, c.hub_pem, c.relay_crt);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "VALID: 3 receipts"));
	snprintf(args, sizeof args, "receipts list --from 2 --rep %s --tls-cert %s --tls-ca %s",
	         rep, c.hub_pem, c.relay_crt);
	assert_int_equal(tb(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "2\t"));
	assert_non_null(strstr(out, "3\t"));
	/* no certificate flags: the missing piece is named */
	snprintf(args, sizeof args, "receipts list --rep %s", rep);
	assert_int_equal(tb(out, sizeof out, args), 2);
	assert_non_null(strstr(out, "TLS needs a certificate-and-key file and a CA file"));
	/* a certificate the relay does not pin: no receipts, exit 3 */
	snprintf(args, sizeof args, "receipts list --rep %s --tls-cert %s --tls-ca %s", rep, c.str_pem,
	         c.relay_crt);
	assert_int_equal(tb(out, sizeof out, args), 3);
	assert_null(strstr(out, "\"seq\""));
	assert_null(strstr(out, "1\t"));
	tb_bus_close(bus);
}

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-bustls");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pinned_peer_receives_unpinned_does_not),
		cmocka_unit_test(receipts_cli_over_tls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
