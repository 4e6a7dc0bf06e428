/* Key files: a 0600 file written like keygen's is read; a file others can read,
 * a symlink, or text that is not a key is refused without echoing the text. A
 * FIFO or a directory given as the key, the configuration, a mapping or a TLS
 * file is refused at once, naming the path and what it is (never a hang). */
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
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "keyfile.h"
#include "lib/http.h"
#include "lib/options.h"
#include "model/mapping.h"
#include "tmpdir.h"

/* A well-known example key and its address (web3.js documentation). */
static const char key_hex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
static const char key_addr[] = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return tb_tmpdir_make(dir, sizeof dir, "tb-keyfile");
}

static int teardown(void **state)
{
	(void)state;
	return tb_tmpdir_remove(dir);
}

static void write_file(const char *name, const char *text, mode_t mode, char *path)
{
	sprintf(path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void reads_owner_only_key(void **state)
{
	(void)state;
	char path[128], hex[80], addr[43];
	uint8_t key[32], pub[65], a[20];
	struct tb_error err;
	snprintf(hex, sizeof hex, "%s\n", key_hex);
	write_file("k", hex, 0600, path);
	assert_int_equal(tb_keyfile_read(path, key, &err), 0);
	assert_int_equal(tb_secp_pubkey(key, pub, &err), 0);
	tb_eth_address(pub, a);
	tb_eth_address_checksum(a, addr);
	assert_string_equal(addr, key_addr);
}

static void refuses_group_or_world_readable(void **state)
{
	(void)state;
	char path[128];
	uint8_t key[32];
	struct tb_error err;
	static const mode_t modes[] = {0644, 0640, 0604, 0660};
	for (size_t i = 0; i < 4; i++) {
		write_file("open", key_hex, modes[i], path);
		assert_int_equal(tb_keyfile_read(path, key, &err), TB_ECONFIG);
		assert_non_null(strstr(err.msg, "chmod 600"));
		assert_null(strstr(err.msg, key_hex));
		for (int j = 0; j < 32; j++)
			assert_int_equal(key[j], 0);
	}
}

static void refuses_symlink_and_garbage_without_echo(void **state)
{
	(void)state;
	char path[128], link[160];
	uint8_t key[32];
	struct tb_error err;
	write_file("real", key_hex, 0600, path);
	snprintf(link, sizeof link, "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(tb_keyfile_read(link, key, &err), TB_ECONFIG);
	/* 63 digits: one short; the message must not quote it. */
	char shorter[64];
	memcpy(shorter, key_hex, 63);
	shorter[63] = 0;
	write_file("short", shorter, 0600, path);
	assert_int_equal(tb_keyfile_read(path, key, &err), TB_EINVAL);
	assert_null(strstr(err.msg, "4c0883a6"));
	/* all zero is not a valid secret key */
	write_file("zero", "0000000000000000000000000000000000000000000000000000000000000000",
	           0600, path);
	assert_int_equal(tb_keyfile_read(path, key, &err), TB_EINVAL);
	/* at the size limit */
	char big[300];
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = 0;
	write_file("big", big, 0600, path);
	assert_int_equal(tb_keyfile_read(path, key, &err), TB_ELIMIT);
	assert_int_equal(tb_keyfile_read("/nonexistent/key", key, &err), TB_EIO);
}

static void refuses_fifo_and_directory_without_blocking(void **state)
{
	(void)state;
	char fifo[128], msg[512];
	uint8_t key[32];
	struct tb_error err;
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(20); /* a read that blocks on the FIFO fails the test instead of hanging it */
	assert_int_equal(tb_keyfile_read(fifo, key, &err), TB_ECONFIG);
	snprintf(msg, sizeof msg, "key file %s: is a FIFO (named pipe), not a regular file", fifo);
	assert_string_equal(err.msg, msg);
	assert_int_equal(tb_keyfile_read(dir, key, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "is a directory"));

	struct tb_json *conf = NULL;
	assert_int_equal(tb_config_read(fifo, &conf, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "configuration"));
	assert_non_null(strstr(err.msg, "FIFO"));
	struct tb_mapping *m = NULL;
	assert_int_equal(tb_mapping_load(fifo, &m, &err), TB_ECONFIG);
	assert_non_null(strstr(err.msg, "FIFO"));
	struct tb_http *h = NULL;
	struct tb_http_options o = {.timeout_ms = 1000, .ca_file = fifo};
	assert_int_not_equal(tb_http_new(&h, &o, &err), 0);
	assert_non_null(strstr(err.msg, "FIFO"));
	alarm(0);
	unlink(fifo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_owner_only_key),
		cmocka_unit_test(refuses_group_or_world_readable),
		cmocka_unit_test(refuses_symlink_and_garbage_without_echo),
		cmocka_unit_test(refuses_fifo_and_directory_without_blocking),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
