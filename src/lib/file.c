/* Regular files only, opened without blocking: see file.h. Invariant: O_NONBLOCK
 * is on while the type is unknown (opening a FIFO for reading would otherwise
 * wait for a writer forever) and off again before anything is read. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

const char *tb_file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

int tb_file_open_regular(const char *path, const char *what, int flags, int *fd,
                         struct tb_error *err)
{
	int oflags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	if (flags & TB_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	*fd = open(path, oflags);
	if (*fd < 0 && errno == ELOOP && (flags & TB_FILE_NOFOLLOW))
		return tb_error_set(err, TB_ECONFIG, "%s %s: is a symbolic link: give the real path",
		                    what, path);
	if (*fd < 0)
		return tb_error_set(err, TB_EIO, "%s %s: cannot open: %s", what, path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(*fd, &st) != 0)
		rc = tb_error_set(err, TB_EIO, "%s %s: %s", what, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = tb_error_set(err, TB_ECONFIG, "%s %s: is %s, not a regular file", what, path,
		                  tb_file_kind(st.st_mode));
	else if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) != 0)
		rc = tb_error_set(err, TB_EIO, "%s %s: %s", what, path, strerror(errno));
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

int tb_file_check_regular(const char *path, const char *what, int flags, struct tb_error *err)
{
	int fd;
	int rc = tb_file_open_regular(path, what, flags, &fd, err);
	if (rc == 0)
		close(fd);
	return rc;
}

int tb_file_read(struct tb_buf *b, const char *path, const char *what, struct tb_error *err)
{
	int fd;
	int rc = tb_file_open_regular(path, what, 0, &fd, err);
	if (rc)
		return rc;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tb_error_set(err, TB_EIO, "%s %s: read error: %s", what, path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		rc = tb_buf_append(b, chunk, (size_t)n);
		if (rc) {
			tb_error_set(err, rc, rc == TB_ELIMIT ? "%s %s: larger than the limit of %zu bytes"
			                                      : "%s %s: out of memory (%zu bytes)",
			             what, path, b->limit ? b->limit : TB_BUF_DEFAULT_LIMIT);
			break;
		}
	}
	close(fd);
	if (rc == 0 && b->data == NULL)
		rc = tb_buf_reserve(b, 0);
	return rc;
}
