/* Reading the relay key. Invariant: the file's type and mode are checked on the
 * open descriptor (no race with a chmod between stat and read; a FIFO is refused
 * before any read could block), and every buffer that held key material is wiped
 * before return; errors name the file, never its text. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secp256k1.h"
#include "keyfile.h"
#include "lib/file.h"
#include "lib/hex.h"

#define KEYFILE_MAX 256 /* 64 hex digits, an optional 0x and whitespace fit easily */

static int check_mode(int fd, const char *path, struct tb_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return tb_error_set(err, TB_EIO, "key file %s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return tb_error_set(err, TB_ECONFIG,
		                    "key file %s: mode %04o lets group or others read it: "
		                    "run chmod 600 %s (and consider the key exposed)",
		                    path, (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != geteuid())
		return tb_error_set(err, TB_ECONFIG, "key file %s: owned by uid %u, not by this "
		                    "process (uid %u)", path, (unsigned)st.st_uid, (unsigned)geteuid());
	return 0;
}

static int read_all(int fd, char *buf, size_t cap, size_t *len, const char *path,
                    struct tb_error *err)
{
	*len = 0;
	for (;;) {
		if (*len == cap)
			return tb_error_set(err, TB_ELIMIT, "key file %s: longer than %zu bytes: "
			                    "not a key written by tradebridge keygen", path, cap - 1);
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tb_error_set(err, TB_EIO, "key file %s: %s", path, strerror(errno));
		if (n == 0)
			return 0;
		*len += (size_t)n;
	}
}

static int decode_key(char *text, size_t len, uint8_t key[32], const char *path,
                      struct tb_error *err)
{
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	size_t start = 0;
	while (start < len && isspace((unsigned char)text[start]))
		start++;
	size_t n = 0;
	struct tb_error herr;
	/* The decoder's own message could quote the text: replace it with ours. */
	if (tb_hex_decode(text + start, len - start, key, 32, &n, &herr) != 0 || n != 32)
		return tb_error_set(err, TB_EINVAL, "key file %s: expected 64 hex digits "
		                    "(a secp256k1 secret key as written by tradebridge keygen)", path);
	uint8_t pub[65];
	if (tb_secp_pubkey(key, pub, &herr) != 0)
		return tb_error_set(err, TB_EINVAL, "key file %s: not a valid secp256k1 secret key",
		                    path);
	return 0;
}

int tb_keyfile_read(const char *path, uint8_t key[32], struct tb_error *err)
{
	char text[KEYFILE_MAX];
	size_t len = 0;
	int fd;
	int rc = tb_file_open_regular(path, "key file", TB_FILE_NOFOLLOW, &fd, err);
	if (rc)
		return rc;
	rc = check_mode(fd, path, err);
	if (rc == 0)
		rc = read_all(fd, text, sizeof text, &len, path, err);
	close(fd);
	if (rc == 0)
		rc = decode_key(text, len, key, path, err);
	explicit_bzero(text, sizeof text);
	if (rc != 0)
		explicit_bzero(key, 32);
	return rc;
}
