/* tradebridge dead-letters: an operator sees each dead outbox row with its reason,
 * and a re-drive puts exactly the named row back in the outbox, where the relay's
 * next claim finds it with the same idempotency key. Reasons (a destination's
 * words) are listed escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "runcli.h"
#include "store/store.h"
#include "tmpdir.h"

static char dir[64], store[128];

/* A store with two dead rows (to "cl" and "kr") for one record; returns their ids. */
static void two_dead_rows(int64_t ids[2])
{
	struct tb_store st;
	struct tb_error err;
	struct tb_store_record r = {0};
	int created;
	assert_int_equal(tb_store_open(&st, store, 0, &err), 0);
	strcpy(r.record_id, "sha256:aa00000000000000000000000000000000000000000000000000000000000000");
	strcpy(r.key, "PE/AEO/2026/000123");
	strcpy(r.network, "pe-cadena");
	strcpy(r.locator, "0xabc:0");
	strcpy(r.verdict, "VALID");
	r.body = "{\"a\":1}";
	assert_int_equal(st.ops->record_put(st.state, &r, &created, &err), 0);
	const char *dest[2] = {"cl-cadena", "kr-cadena"};
	struct tb_retry_policy p = {.max_attempts = 3, .base_ms = 100, .max_ms = 1000};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(st.ops->outbox_add(st.state, r.id, dest[i], "{}", 1000, &err), 0);
		struct tb_outbox_row row;
		size_t n;
		assert_int_equal(st.ops->outbox_claim(st.state, 1000, 50, &row, 1, &n, &err), 0);
		assert_int_equal(n, 1);
		ids[i] = row.id;
		tb_outbox_row_fini(&row);
		assert_int_equal(st.ops->outbox_fail(st.state, ids[i], 1100, "rejected: registry paused",
		                                     &p, 0, 1, &err), 0);
	}
	tb_store_close(&st);
}

static void list_then_redrive_one(void **state)
{
	(void)state;
	int64_t ids[2];
	two_dead_rows(ids);
	struct tb_run r;
	TB_RUN(&r, "dead-letters", "list", "-s", store);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "-> cl-cadena"));
	assert_non_null(strstr(TB_OUT(&r), "-> kr-cadena"));
	assert_non_null(strstr(TB_OUT(&r), "rejected: registry paused"));
	tb_run_fini(&r);

	TB_RUN(&r, "dead-letters", "list", "-s", store, "--json");
	assert_int_equal(r.status, 0);
	struct tb_json *j;
	struct tb_error err;
	assert_int_equal(tb_json_parse(TB_OUT(&r), r.out.len, NULL, &j, &err), 0);
	assert_int_equal(tb_json_len(j), 2);
	assert_string_equal(tb_json_string(tb_json_get(tb_json_at(j, 0), "destination")), "cl-cadena");
	tb_json_free(j);
	tb_run_fini(&r);

	char id[32];
	snprintf(id, sizeof id, "%" PRId64, ids[0]);
	TB_RUN(&r, "dead-letters", "redrive", "-s", store, "--id", id);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "re-driven: 1 row back in the outbox"));
	tb_run_fini(&r);

	/* only the named row left the dead letters, and the relay can claim it again */
	struct tb_store st;
	struct tb_outbox_row rows[2];
	size_t n;
	assert_int_equal(tb_store_open(&st, store, 0, &err), 0);
	assert_int_equal(st.ops->dead_list(st.state, rows, 2, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].destination, "kr-cadena");
	tb_outbox_row_fini(&rows[0]);
	assert_int_equal(st.ops->outbox_claim(st.state, INT64_MAX / 2, 50, rows, 2, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].id, ids[0]);
	assert_int_equal(rows[0].attempts, 0);
	tb_outbox_row_fini(&rows[0]);
	tb_store_close(&st);

	TB_RUN(&r, "dead-letters", "redrive", "-s", store, "--all");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "re-driven: 1 row back"));
	tb_run_fini(&r);
	TB_RUN(&r, "dead-letters", "list", "-s", store);
	assert_string_equal(TB_OUT(&r), "no dead letters\n");
	tb_run_fini(&r);
}

static void mistakes_are_named(void **state)
{
	(void)state;
	struct tb_run r;
	TB_RUN(&r, "dead-letters", "redrive", "-s", store, "--id", "999999");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(TB_ERR(&r), "no dead letter with id 999999"));
	tb_run_fini(&r);
	/* usage mistakes without a store: tests/cli-cases/dead-letters-*.case */
}


/* A destination's error text is outside data: listed with its terminal escapes
 * made visible, never sent to the terminal; a malformed --id is named. */
static void reasons_are_escaped(void **state)
{
	(void)state;
	char path[160];
	struct tb_store st;
	struct tb_error err;
	struct tb_store_record rec = {0};
	int created;
	snprintf(path, sizeof path, "%s/escapes.db", dir);
	assert_int_equal(tb_store_open(&st, path, 0, &err), 0);
	strcpy(rec.record_id, "sha256:bb00000000000000000000000000000000000000000000000000000000000000");
	strcpy(rec.key, "PE/AEO/2026/000124");
	strcpy(rec.network, "pe-cadena");
	strcpy(rec.locator, "0xabc:1");
	strcpy(rec.verdict, "VALID");
	rec.body = "{\"a\":2}";
	assert_int_equal(st.ops->record_put(st.state, &rec, &created, &err), 0);
	assert_int_equal(st.ops->outbox_add(st.state, rec.id, "cl-cadena", "{}", 1000, &err), 0);
	struct tb_outbox_row row;
	size_t n;
	assert_int_equal(st.ops->outbox_claim(st.state, 1000, 50, &row, 1, &n, &err), 0);
	tb_outbox_row_fini(&row);
	struct tb_retry_policy p = {.max_attempts = 1, .base_ms = 100, .max_ms = 1000};
	assert_int_equal(st.ops->outbox_fail(st.state, row.id, 1100, "node: \x1b]0;owned\x07\x1b[2J"
	                                     "\xc2\x9b" "1m", &p, 0, 1, &err), 0);
	tb_store_close(&st);
	struct tb_run r;
	TB_RUN(&r, "dead-letters", "list", "-s", path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "node: \\x1b]0;owned\\x07\\x1b[2J\\u009b1m"));
	assert_null(strchr(TB_OUT(&r), 0x1b));
	assert_null(strstr(TB_OUT(&r), "\xc2\x9b"));
	tb_run_fini(&r);
	TB_RUN(&r, "dead-letters", "redrive", "-s", path, "--id", "-1");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(TB_ERR(&r), "--id: \"-1\" is not a whole number"));
	tb_run_fini(&r);
}

/* -c CONFIG takes the store from relay.store, as run does; without one it says so. */
static void store_from_the_configuration(void **state)
{
	(void)state;
	char conf[160], text[512];
	snprintf(conf, sizeof conf, "%s/relay.json", dir);
	snprintf(text, sizeof text, "{\"relay\": {\"store\": \"%s/escapes.db\"}, \"networks\": {}}",
	         dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	struct tb_run r;
	TB_RUN(&r, "dead-letters", "list", "-c", conf);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(TB_OUT(&r), "-> cl-cadena"));
	tb_run_fini(&r);
	f = fopen(conf, "w");
	assert_non_null(f);
	assert_true(fputs("{\"networks\": {}}", f) >= 0);
	assert_int_equal(fclose(f), 0);
	TB_RUN(&r, "dead-letters", "list", "-c", conf);
	assert_int_equal(r.status, 2);
	snprintf(text, sizeof text, "no store: relay.store in %s, or -s FILE", conf);
	assert_non_null(strstr(TB_ERR(&r), text));
	tb_run_fini(&r);
}

static int setup(void **state)
{
	(void)state;
	if (tb_tmpdir_make(dir, sizeof dir, "tb-dead") != 0)
		return -1;
	snprintf(store, sizeof store, "%s/relay.db", dir);
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
		cmocka_unit_test(list_then_redrive_one),
		cmocka_unit_test(mistakes_are_named),
		cmocka_unit_test(reasons_are_escaped),
		cmocka_unit_test(store_from_the_configuration),
	};
	return cmocka_run_group_tests_name("dead_letters_cli", tests, setup, teardown);
}
