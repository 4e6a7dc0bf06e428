/* Fuzz the log line writer: whatever bytes the message, keys and values hold, a JSON
 * line must parse (checked with yajl), hold exactly one newline at its end, stay
 * within TB_LOG_LINE_MAX, and a value marked secret must never appear. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "S3cr3t-never-printed"

/* Split the input at 0 bytes into NUL-terminated strings (at most 32 pieces). */
static size_t split(char *copy, size_t size, char **parts, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < max; i++) {
		if (i == size || copy[i] == 0) {
			copy[i] = 0;
			parts[n++] = copy + start;
			start = i + 1;
		}
	}
	return n;
}

static void check_line(const char *text, size_t len, int json, int secret_in_input)
{
	if (len == 0 || len > TB_LOG_LINE_MAX || text[len - 1] != '\n' ||
	    memchr(text, '\n', len) != text + len - 1)
		abort();
	/* the fuzzer may put the marker text into a plain field itself */
	if (!secret_in_input && strstr(text, SECRET))
		abort();
	if (json) {
		char ebuf[128];
		yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
		if (!v || !YAJL_IS_OBJECT(v))
			abort();
		yajl_tree_free(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *parts[32];
	struct tb_log_field f[16];
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	size_t n = split(copy, size, parts, 32), nf = 0;
	for (size_t i = 1; i + 1 < n && nf < 15; i += 2)
		f[nf++] = TB_LF_STR(parts[i], parts[i + 1]);
	f[nf++] = TB_LF_SECRET(n > 1 ? parts[1] : "k", SECRET);
	for (int json = 0; json <= 1; json++) {
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);
		struct tb_log log;
		if (!out)
			break;
		tb_log_init(&log, out, parts[0], TB_LOG_DEBUG, json ? TB_LOG_JSON : TB_LOG_TEXT);
		tb_log_emit(&log, TB_LOG_INFO, parts[0], f, nf);
		fclose(out);
		check_line(text, len, json, memmem(data, size, SECRET, strlen(SECRET)) != NULL);
		free(text);
	}
	free(copy);
	return 0;
}
