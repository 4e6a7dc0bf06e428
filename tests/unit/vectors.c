/* Test access to external vectors (see vectors.h). Limits are generous but
 * bounded: the largest vector file is a few MiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

#define VECTOR_LIMIT ((size_t)32 << 20)

void tb_vec_path(const char *rel, char *out, size_t size)
{
	const char *dir = getenv("TB_VECTORS");
	if (dir == NULL)
		fail_msg("TB_VECTORS is not set: run the tests through make check");
	snprintf(out, size, "%s/%s", dir, rel);
}

void tb_vec_read(const char *rel, struct tb_buf *out)
{
	char path[4096];
	struct tb_error err;
	tb_vec_path(rel, path, sizeof path);
	tb_buf_init(out, VECTOR_LIMIT);
	if (tb_buf_read_file(out, path, &err) != 0)
		fail_msg("%s", err.msg);
}

struct tb_json *tb_vec_parse(const char *what, const char *text, size_t len)
{
	struct tb_json *j;
	struct tb_error err;
	struct tb_json_limits lim = {.max_bytes = VECTOR_LIMIT};
	if (tb_json_parse(text, len, &lim, &j, &err) != 0)
		fail_msg("%s: %s", what, err.msg);
	return j;
}

struct tb_json *tb_vec_json(const char *rel)
{
	struct tb_buf b;
	tb_vec_read(rel, &b);
	struct tb_json *j = tb_vec_parse(rel, (const char *)b.data, b.len);
	tb_buf_fini(&b);
	return j;
}

struct tb_json *tb_vec_io_response(const char *rel)
{
	struct tb_buf b;
	tb_vec_read(rel, &b);
	const char *p = (const char *)b.data, *line = NULL;
	while (p && *p) {
		if (strncmp(p, "<< ", 3) == 0) {
			line = p + 3;
			break;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (line == NULL)
		fail_msg("%s: no response line (\"<< \")", rel);
	const char *end = strchr(line, '\n');
	struct tb_json *j = tb_vec_parse(rel, line, end ? (size_t)(end - line) : strlen(line));
	tb_buf_fini(&b);
	return j;
}
