/* The configuration path as run uses it: flags win over the "relay" section (a
 * store folder the file names wrongly is not an error when --store says better),
 * every network is opened with the host the relay lends it by name, and a
 * module-only load (verify) reads adapter_path and nothing else of the file.
 * The case files in config-cases/ cover the verdicts and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/config.h" /* not the build tree's config.h */
#include "tmpdir.h"

static char dir[256], path[512];

static void write_config(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void flags_win_over_the_relay_section(void **state)
{
	(void)state;
	char text[1024], store[600];
	snprintf(text, sizeof text, "{\"relay\": {\"store\": \"%s/nosuch/relay.db\"}, "
	         "\"networks\": {\"pe-echo\": {\"adapter\": \"testecho\", \"endpoint\": \"x\"}}}",
	         dir);
	write_config(text);
	struct tb_config c;
	struct tb_error err;
	assert_int_equal(tb_config_load(&c, path, NULL, TB_CONFIG_ALL, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "/nosuch does not exist"));
	tb_config_fini(&c);
	snprintf(store, sizeof store, "%s/relay.db", dir);
	struct tb_config_flags f = {.store = store};
	assert_int_equal(tb_config_load(&c, path, &f, TB_CONFIG_ALL, &err), 0);
	assert_string_equal(c.store, store);
	assert_int_equal(c.n_nets, 1);
	assert_string_equal(c.nets[0].name, "pe-echo");
	tb_config_fini(&c);
}

struct lent {
	struct tb_host hosts[2];
	const char *asked[2];
	size_t n;
};

static const struct tb_host *lend(void *ctx, const char *name)
{
	struct lent *l = ctx;
	if (l->n == 2)
		return NULL;
	l->asked[l->n] = name;
	return &l->hosts[l->n++];
}

static void each_network_gets_its_host(void **state)
{
	(void)state;
	write_config("{\"networks\": {\"a\": {\"adapter\": \"testecho\", \"endpoint\": \"x\"},"
	             " \"b\": {\"adapter\": \"testecho\", \"endpoint\": \"y\"}}}");
	struct tb_config c;
	struct tb_error err;
	struct lent l = {.n = 0};
	assert_int_equal(tb_config_load(&c, path, NULL, TB_CONFIG_ALL, &err), 0);
	assert_int_equal(tb_config_open(&c, lend, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.asked[0], "a");
	assert_string_equal(l.asked[1], "b");
	assert_ptr_equal(c.nets[0].net.host, &l.hosts[0]);
	assert_ptr_equal(c.nets[1].net.host, &l.hosts[1]);
	assert_non_null(c.nets[1].state);
	tb_config_close(&c);
	assert_null(c.nets[0].state);
	/* a relay with no room left: the network it could not place is named */
	l.n = 1;
	assert_int_equal(tb_config_open(&c, lend, &l, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, "network b: "));
	tb_config_close(&c);
	tb_config_fini(&c);
}

/* verify loads only the modules: networks it cannot use are not its concern. */
static void modules_only_reads_adapter_path(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof text, "{\"adapter_path\": [\"%s/adapters/tradetrust/.libs\"], "
	         "\"networks\": {\"x\": {\"adapter\": \"no-such-adapter\"}}}",
	         getenv("TB_BUILDDIR"));
	write_config(text);
	struct tb_config c;
	struct tb_error err;
	int rc = tb_config_load(&c, path, NULL, TB_CONFIG_MODULES, &err);
	if (rc)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(tb_modules_find(c.mods, "tradetrust"));
	assert_non_null(tb_modules_find(c.mods, "testecho"));
	assert_int_equal(c.n_nets, 0);
	struct tb_config_net n;
	assert_int_equal(tb_config_adapter_open(&c, "tradetrust", NULL, "tradetrust", &n, &err), 0);
	assert_null(n.net.host);
	tb_config_net_close(&n);
	assert_int_equal(tb_config_adapter_open(&c, "cadena", NULL, "cadena", &n, &err),
	                 TB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "the cadena adapter module was not found"));
	tb_config_fini(&c);
	/* the whole file still refuses the network */
	assert_int_equal(tb_config_load(&c, path, NULL, TB_CONFIG_ALL, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "networks.x.adapter: no adapter named \"no-such-adapter\""));
	tb_config_fini(&c);
}

static int setup(void **state)
{
	(void)state;
	char echo[4096];
	if (tb_tmpdir_make(dir, sizeof dir, "tb-config"))
		return -1;
	snprintf(path, sizeof path, "%s/relay.json", dir);
	snprintf(echo, sizeof echo, "%s/adapters/testecho/.libs", getenv("TB_BUILDDIR"));
	return setenv("TRADEBRIDGE_ADAPTER_PATH", echo, 1);
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_win_over_the_relay_section),
		cmocka_unit_test(each_network_gets_its_host),
		cmocka_unit_test(modules_only_reads_adapter_path),
	};
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
