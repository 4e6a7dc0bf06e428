/* Opening the files a configuration names (key, configuration, mappings, the
 * dictionary, TLS certificates and CAs). Invariant: a path that is not a regular
 * file is refused from what fstat says on a descriptor opened without blocking,
 * so a FIFO or a device can never hang the process, and the error names the path
 * and what it is. */
#ifndef TB_LIB_FILE_H
#define TB_LIB_FILE_H

#include <sys/types.h>

#include "lib/buf.h"
#include "lib/error.h"

#define TB_FILE_NOFOLLOW 1 /* refuse a symbolic link too (secrets) */

/* "a FIFO (named pipe)", "a directory", ... for a st_mode. */
const char *tb_file_kind(mode_t mode);
/* Open path read-only; 0 and *fd (blocking again, close-on-exec), or TB_ECONFIG
 * naming what (e.g. "key file") and path when it is not a regular file, or TB_EIO. */
int tb_file_open_regular(const char *path, const char *what, int flags, int *fd,
                         struct tb_error *err);
/* The same check for a file another library (nng, libcurl) will open. */
int tb_file_check_regular(const char *path, const char *what, int flags, struct tb_error *err);
/* Read a regular file whole into b (bounded by b's limit). */
int tb_file_read(struct tb_buf *b, const char *path, const char *what, struct tb_error *err);

#endif
