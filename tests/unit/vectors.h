/* How tests reach tests/vectors/: every path is relative to $TB_VECTORS, and a
 * missing or malformed vector fails the calling test with the file named, so a
 * broken copy can never pass as "nothing to check". */
#ifndef TB_TEST_VECTORS_H
#define TB_TEST_VECTORS_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/json.h"

/* Absolute path of a vector file into out. */
void tb_vec_path(const char *rel, char *out, size_t size);
/* The file's bytes into out (initialised here; tb_buf_fini it). */
void tb_vec_read(const char *rel, struct tb_buf *out);
/* The file parsed as JSON (tb_json_free it). */
struct tb_json *tb_vec_json(const char *rel);
/* JSON text parsed, failing the test with what on error. */
struct tb_json *tb_vec_parse(const char *what, const char *text, size_t len);
/* The response object of an execution-apis .io file: its "<< " line. */
struct tb_json *tb_vec_io_response(const char *rel);

#endif
