/* Buffers: appends respect the limit exactly and leave the buffer unchanged when
 * they fail; file reads stop at the limit with an error naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"

static void append_up_to_limit(void **state)
{
	struct tb_buf b;
	tb_buf_init(&b, 8);
	assert_int_equal(tb_buf_append(&b, "12345678", 8), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal((char *)b.data, "12345678");
	assert_int_equal(tb_buf_putc(&b, 'x'), TB_ELIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal((char *)b.data, "12345678");
	tb_buf_fini(&b);
}

static void printf_grows(void **state)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(tb_buf_printf(&b, "%d,", i), 0);
	assert_int_equal(strncmp((char *)b.data, "0,1,2,", 6), 0);
	assert_int_equal(b.data[b.len], 0);
	size_t n;
	uint8_t *p = tb_buf_steal(&b, &n);
	assert_non_null(p);
	assert_int_equal(strlen((char *)p), n);
	assert_null(b.data);
	free(p);
}

static void read_file_over_limit(void **state)
{
	char path[] = "/tmp/tb_buf_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 9);
	assert_int_equal(tb_buf_read_file(&b, path, &err), TB_ELIMIT);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "limit of 9 bytes"));
	tb_buf_fini(&b);
	tb_buf_init(&b, 10);
	assert_int_equal(tb_buf_read_file(&b, path, &err), 0);
	assert_int_equal(b.len, 10);
	tb_buf_fini(&b);
	unlink(path);
}

static void missing_file_named(void **state)
{
	struct tb_buf b;
	struct tb_error err;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_buf_read_file(&b, "/nonexistent/x.json", &err), TB_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/x.json: cannot open"));
	tb_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_up_to_limit),
		cmocka_unit_test(printf_grows),
		cmocka_unit_test(read_file_over_limit),
		cmocka_unit_test(missing_file_named),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
