/* Listen addresses as data: every line of tests/relay/listen-addresses.txt goes
 * through what the relay really calls (tb_api_start for the admin API,
 * tb_bus_open for the receipts bus), which must bind the accepted loopback ones
 * and refuse the others with the expected message. The bypass this guards:
 * "[::1]@0.0.0.0:29464" passed a loopback check that read the text up to ']'
 * while nng bound 0.0.0.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "api.h"
#include "bus.h"
#include "store/store.h"
#include "tmpdir.h"

#define TOKEN "0123456789abcdef0123"

static char dir[256];

static void substitute(const char *in, char *out, size_t cap)
{
	const char *p = strstr(in, "%DIR%");
	if (p)
		snprintf(out, cap, "%.*s%s%s", (int)(p - in), in, dir, p + 5);
	else
		snprintf(out, cap, "%s", in);
}

/* One case: 0 when the relay's answer is the expected one. */
static int run_case(const char *kind, const char *addr, const char *expected, char *got,
                    size_t cap)
{
	struct tb_error err = {0};
	char store[512];
	int rc = -1;
	snprintf(store, sizeof store, "%s/relay.db", dir);
	if (strcmp(kind, "admin") == 0) {
		struct tb_api *api = NULL;
		struct tb_api_config ac = {.listen = addr, .token = TOKEN, .store_path = store};
		rc = tb_api_start(&api, &ac, &err);
		if (rc == 0)
			tb_api_stop(api);
	} else if (strcmp(kind, "bus") == 0) {
		struct tb_bus *b = NULL;
		struct tb_bus_config bc = {.pub_url = addr};
		rc = tb_bus_open(&b, &bc, &err);
		if (rc == 0)
			tb_bus_close(b);
	} else if (strcmp(kind, "admin-remote") == 0) { /* checked, not bound beyond loopback */
		rc = tb_addr_admin(addr, 1, NULL, &err);
	} else if (strcmp(kind, "bus-plain") == 0) {
		rc = tb_addr_bus("relay.pub", addr, 1, NULL, &err);
	} else {
		fail_msg("listen-addresses.txt: unknown kind \"%s\"", kind);
	}
	snprintf(got, cap, "%s", rc ? err.msg : "ok");
	if (strcmp(expected, "ok") == 0)
		return rc;
	return rc == 0 || !strstr(err.msg, expected);
}

static void every_listed_address(void **state)
{
	(void)state;
	char path[4096], line[1024], addr[1024], got[TB_ERROR_MAX];
	const char *src = getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	snprintf(path, sizeof path, "%s/tests/relay/listen-addresses.txt", src);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	struct tb_store st;
	struct tb_error err;
	snprintf(addr, sizeof addr, "%s/relay.db", dir);
	assert_int_equal(tb_store_open(&st, addr, 0, &err), 0); /* the admin API reads it */
	tb_store_close(&st);
	size_t n = 0, bad = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *kind = strtok(line, "\t"), *a = strtok(NULL, "\t"), *exp = strtok(NULL, "\t");
		if (!kind || !a || !exp)
			fail_msg("listen-addresses.txt: expected KIND<TAB>ADDRESS<TAB>EXPECTED: %s", line);
		substitute(a, addr, sizeof addr);
		n++;
		if (run_case(kind, addr, exp, got, sizeof got)) {
			print_error("%s %s: expected \"%s\", got \"%s\"\n", kind, addr, exp, got);
			bad++;
		}
	}
	fclose(f);
	assert_true(n > 40);
	assert_int_equal(bad, 0);
}

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-addr");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_listed_address, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
