/* The adapter conformance checks (src/conform.c): a well-formed ops table passes
 * with no message; each way a module author can get it wrong is reported on a line
 * naming the module file, the adapter and what is wrong (the option's name where
 * there is one), and every problem is reported, not only the first. The tables are
 * written here; the expected messages are the ones an author must be able to act on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "conform.h"

struct conf {
	char *rpc;
	long long depth;
};

static int fake_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	return 0;
}

static void fake_close(void *state)
{
}

static int fake_submit(void *state, const struct tb_outgoing *rec, struct tb_txref *out,
                       struct tb_status *st, struct tb_error *err)
{
	return 0;
}

static int fake_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                        struct tb_error *err)
{
	return 0;
}

static const struct tb_option good_options[] = {
	{TB_OPT_STRING, "rpc", NULL, TB_OPT_REQUIRED, offsetof(struct conf, rpc), "node URL", 0,
	 0},
	{TB_OPT_INT, "depth", "12", 0, offsetof(struct conf, depth), "blocks on top", 0, 100},
	TB_OPT_END,
};

static struct tb_adapter_ops good(void)
{
	return (struct tb_adapter_ops){
		.abi = TB_ADAPTER_ABI,
		.name = "sink",
		.summary = "writes records somewhere",
		.options = good_options,
		.conf_size = sizeof(struct conf),
		.open = fake_open,
		.submit = fake_submit,
		.confirm = fake_confirm,
		.close = fake_close,
	};
}

/* Run the checks; out holds the report (NUL-terminated, "" when empty). */
static int run(const struct tb_adapter_ops *ops, struct tb_buf *out)
{
	tb_buf_init(out, 0);
	int n = tb_conform_check("/x/sink.so", ops, out);
	assert_int_equal(tb_buf_putc(out, '\0'), 0);
	return n;
}

static void well_formed_passes(void **s)
{
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	assert_int_equal(run(&ops, &out), 0);
	assert_string_equal((const char *)out.data, "");
	tb_buf_fini(&out);
}

static void confirm_without_submit(void **s)
{
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.submit = NULL;
	assert_int_equal(run(&ops, &out), 2); /* nothing to do, and confirm alone */
	assert_non_null(strstr((const char *)out.data,
	                       "/x/sink.so: adapter sink: neither poll nor submit"));
	assert_non_null(strstr((const char *)out.data, "confirm without submit"));
	tb_buf_fini(&out);
}

static void submit_without_confirm(void **s)
{
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.confirm = NULL;
	assert_int_equal(run(&ops, &out), 1);
	assert_non_null(strstr((const char *)out.data,
	                       "/x/sink.so: adapter sink: submit without confirm"));
	tb_buf_fini(&out);
}

static void fake_ack(void *state, const struct tb_cursor *done)
{
}

static int fake_recognise(const struct tb_json *doc, char *doctype, size_t size)
{
	return 0;
}

/* The optional ops of contract v2 only beside what they belong to: a sink that
 * acknowledges polls it never makes, or claims documents it cannot verify. */
static void ack_and_recognise_need_their_ops(void **s)
{
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.ack = fake_ack;
	ops.recognise = fake_recognise;
	assert_int_equal(run(&ops, &out), 2);
	assert_non_null(strstr((const char *)out.data,
	                       "/x/sink.so: adapter sink: ack without poll"));
	assert_non_null(strstr((const char *)out.data,
	                       "/x/sink.so: adapter sink: recognise without verify"));
	tb_buf_fini(&out);
}

static void every_problem_is_reported(void **s)
{
	static const struct tb_option bad[] = {
		{TB_OPT_STRING, "Rpc", NULL, 0, 0, "node URL", 0, 0},
		{TB_OPT_INT, "depth", "twelve", 0, 8, "", 0, 0},
		{TB_OPT_INT, "depth", "1", TB_OPT_REQUIRED, 4096, "too far", 0, 0},
		TB_OPT_END,
	};
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.options = bad;
	ops.summary = "two\nlines";
	ops.close = NULL;
	int n = run(&ops, &out);
	const char *t = (const char *)out.data;
	assert_non_null(strstr(t, "summary missing or not one line"));
	assert_non_null(strstr(t, "open and close are both required"));
	assert_non_null(strstr(t, "option \"Rpc\": name is not"));
	assert_non_null(strstr(t, "option depth: description missing"));
	assert_non_null(strstr(t, "option depth: default is not JSON text"));
	assert_non_null(strstr(t, "option depth: does not fit the configuration struct"));
	assert_non_null(strstr(t, "option depth: required and also given a default"));
	assert_non_null(strstr(t, "option depth: declared twice"));
	assert_int_equal(n, 8);
	tb_buf_fini(&out);
}

static void table_without_end(void **s)
{
	static struct tb_option endless[TB_CONFORM_MAX_OPTIONS + 1];
	static char names[TB_CONFORM_MAX_OPTIONS][8];
	for (int i = 0; i < TB_CONFORM_MAX_OPTIONS; i++) {
		snprintf(names[i], sizeof names[i], "o%d", i);
		endless[i] = (struct tb_option){TB_OPT_BOOL, names[i], NULL, 0, 0, "a flag", 0, 0};
	}
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.options = endless;
	assert_true(run(&ops, &out) >= 1);
	assert_non_null(strstr((const char *)out.data, "no TB_OPT_END within its first 256"));
	tb_buf_fini(&out);
}

static void end_entry_with_fields(void **s)
{
	static const struct tb_option half[] = {
		{TB_OPT_BOOL, "loud", "false", 0, 0, "shout", 0, 0},
		{TB_OPT_BOOL, NULL, NULL, 0, 0, "left over", 0, 0},
	};
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.options = half;
	assert_int_equal(run(&ops, &out), 1);
	assert_non_null(strstr((const char *)out.data, "does not end with TB_OPT_END"));
	tb_buf_fini(&out);
}

static void options_need_a_struct(void **s)
{
	struct tb_adapter_ops ops = good();
	struct tb_buf out;
	ops.conf_size = 0;
	int n = run(&ops, &out);
	assert_non_null(strstr((const char *)out.data, "declares options but conf_size is 0"));
	assert_non_null(strstr((const char *)out.data, "option rpc: does not fit"));
	assert_int_equal(n, 3); /* both options outside a zero-size struct, and conf_size */
	tb_buf_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed_passes),     cmocka_unit_test(confirm_without_submit),
		cmocka_unit_test(submit_without_confirm),
		cmocka_unit_test(ack_and_recognise_need_their_ops), cmocka_unit_test(every_problem_is_reported),
		cmocka_unit_test(table_without_end),      cmocka_unit_test(end_entry_with_fields),
		cmocka_unit_test(options_need_a_struct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
