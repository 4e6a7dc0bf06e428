/* DNS TXT client against a real resolver (dnsmasq on a loopback port): records come
 * back as dnsmasq was told, multi-string records are joined, an unknown name is
 * NXDOMAIN, an answer too big for UDP is fetched again over TCP, a stopped resolver
 * is "unavailable" within the timeout; plus hand-made malformed answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dnsmasq_peer.h"
#include "lib/dnstxt.h"

static char big[5][220];

static int setup(void **state)
{
	static struct dnsmasq_peer peer;
	static char arg[5][1200];
	const char *txt[16];
	size_t n = 0;
	txt[n++] = "ready.tradebridge.test,ok";
	txt[n++] = "one.tradebridge.test,openatts net=ethereum netId=1337 "
	           "addr=0x1234567890abcdef1234567890abcdef12345678";
	txt[n++] = "multi.tradebridge.test,part one ,part two";
	for (int i = 0; i < 5; i++) {
		memset(big[i], 'a' + i, 200);
		big[i][200] = 0;
		snprintf(arg[i], sizeof arg[i], "big.tradebridge.test,%s", big[i]);
		txt[n++] = arg[i];
	}
	txt[n] = NULL;
	if (dnsmasq_peer_start(&peer, txt) != 0)
		return -1;
	*state = &peer;
	return 0;
}

static int teardown(void **state)
{
	dnsmasq_peer_stop(*state);
	return 0;
}

static void one_record(void **state)
{
	struct dnsmasq_peer *p = *state;
	struct tb_dnstxt r;
	struct tb_error err;
	assert_int_equal(tb_dnstxt_query(p->server, "ONE.tradebridge.test.", 2000, &r, &err), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.txt[0], "openatts net=ethereum netId=1337 "
	                              "addr=0x1234567890abcdef1234567890abcdef12345678");
	tb_dnstxt_fini(&r);
}

static void strings_joined(void **state)
{
	struct dnsmasq_peer *p = *state;
	struct tb_dnstxt r;
	struct tb_error err;
	assert_int_equal(tb_dnstxt_query(p->server, "multi.tradebridge.test", 2000, &r, &err), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.txt[0], "part one part two");
	tb_dnstxt_fini(&r);
}

static void unknown_name(void **state)
{
	struct dnsmasq_peer *p = *state;
	struct tb_dnstxt r;
	struct tb_error err;
	assert_int_equal(tb_dnstxt_query(p->server, "none.tradebridge.test", 2000, &r, &err), 0);
	assert_int_equal(r.count, 0);
	assert_true(r.nxdomain);
}

static void tcp_fallback(void **state)
{
	struct dnsmasq_peer *p = *state;
	struct tb_dnstxt r;
	struct tb_error err;
	if (tb_dnstxt_query(p->server, "big.tradebridge.test", 3000, &r, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.count, 5); /* 5 x 201 bytes cannot fit a 512-byte UDP answer */
	int seen = 0;
	for (size_t i = 0; i < r.count; i++)
		for (int k = 0; k < 5; k++)
			seen |= strcmp(r.txt[i], big[k]) == 0 ? 1 << k : 0;
	assert_int_equal(seen, 0x1f);
	tb_dnstxt_fini(&r);
}

static void stopped_resolver(void **state)
{
	struct dnsmasq_peer q;
	struct tb_dnstxt r;
	struct tb_error err;
	const char *txt[] = {"ready.tradebridge.test,ok", NULL};
	(void)state;
	assert_int_equal(dnsmasq_peer_start(&q, txt), 0);
	dnsmasq_peer_stop(&q);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(tb_dnstxt_query(q.server, "one.tradebridge.test", 500, &r, &err),
	                 TB_EUNAVAIL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 3); /* bounded by the timeout, not hanging */
}

static void bad_config(void **state)
{
	struct tb_dnstxt r;
	struct tb_error err;
	(void)state;
	assert_int_equal(tb_dnstxt_query("127.0.0.1", "a.test", 100, &r, &err), TB_ECONFIG);
	assert_int_equal(tb_dnstxt_query("127.0.0.1:53", "bad..name", 100, &r, &err), TB_EINVAL);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(tb_dnstxt_query("127.0.0.1:53", longname, 100, &r, &err), TB_EINVAL);
}

/* A response to "a.test" TXT (id 0x1234) with one answer whose owner is rr. */
static size_t answer(uint8_t *m, const uint8_t *rr, size_t rrlen)
{
	const uint8_t head[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	                        1, 'a', 4, 't', 'e', 's', 't', 0, 0, 16, 0, 1};
	memcpy(m, head, sizeof head);
	memcpy(m + sizeof head, rr, rrlen);
	return sizeof head + rrlen;
}

static void malformed_answers(void **state)
{
	uint8_t m[128];
	struct tb_dnstxt r;
	struct tb_error err;
	(void)state;
	const uint8_t good[] = {0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 3, 'x', 'y', 'z'};
	size_t n = answer(m, good, sizeof good);
	assert_int_equal(tb_dnstxt_parse(m, n, 0x1234, "a.test", &r, &err), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.txt[0], "xyz");
	tb_dnstxt_fini(&r);
	assert_int_equal(tb_dnstxt_parse(m, n, 0x4321, "a.test", &r, &err), TB_EINVAL);
	assert_int_equal(tb_dnstxt_parse(m, n, 0x1234, "b.test", &r, &err), TB_EINVAL);
	assert_int_equal(tb_dnstxt_parse(m, n - 1, 0x1234, "a.test", &r, &err), TB_EINVAL);
	const uint8_t loop[] = {0xC0, 24, 0, 16, 0, 1, 0, 0, 0, 60, 0, 1, 0};
	n = answer(m, loop, sizeof loop);
	assert_int_equal(tb_dnstxt_parse(m, n, 0x1234, "a.test", &r, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "backwards"));
	const uint8_t overrun[] = {0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 9, 'x', 'y', 'z'};
	n = answer(m, overrun, sizeof overrun);
	assert_int_equal(tb_dnstxt_parse(m, n, 0x1234, "a.test", &r, &err), TB_EINVAL);
	n = answer(m, good, sizeof good);
	m[3] = 0x82; /* SERVFAIL: could not check, not "no record" */
	assert_int_equal(tb_dnstxt_parse(m, n, 0x1234, "a.test", &r, &err), TB_EUNAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_record),     cmocka_unit_test(strings_joined),
		cmocka_unit_test(unknown_name),   cmocka_unit_test(tcp_fallback),
		cmocka_unit_test(stopped_resolver), cmocka_unit_test(bad_config),
		cmocka_unit_test(malformed_answers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
