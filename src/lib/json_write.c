/* Trees to text: RFC 8785 canonical form (hashed and signed, so every byte
 * matters), JavaScript JSON.stringify's exact output, and an indented form for
 * people. Invariants: a writer that fails leaves the output buffer as it found
 * it; canonical output never depends on insertion order; strings that are not
 * well-formed UTF-8 are refused, never passed through or repaired. */
#include "lib/json.h"
#include "lib/json_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Recursion bound for trees built in memory (parsed ones are bounded already). */
#define WRITE_MAX_DEPTH 4096

enum style { CANONICAL, STRINGIFY, PRETTY };

struct writer {
	struct tb_buf *out;
	struct tb_error *err;
	enum style style;
};

static int put_escape(struct tb_buf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = {'\\', 0};
	switch (c) {
	case '"': e[1] = '"'; break;
	case '\\': e[1] = '\\'; break;
	case '\b': e[1] = 'b'; break;
	case '\f': e[1] = 'f'; break;
	case '\n': e[1] = 'n'; break;
	case '\r': e[1] = 'r'; break;
	case '\t': e[1] = 't'; break;
	default:
		memcpy(e + 1, "u00", 3);
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		return tb_buf_append(out, e, 6);
	}
	return tb_buf_append(out, e, 2);
}

static int put_string(struct tb_buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	int rc = tb_buf_putc(out, '"');
	size_t run = 0, i = 0;
	while (rc == 0 && i < len) {
		uint32_t cp;
		if (u[i] >= 0x80) {
			size_t n = tb_json_utf8_next(u + i, len - i, &cp);
			if (n == 0)
				return TB_EINVAL;
			i += n;
			continue;
		}
		if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
			i++;
			continue;
		}
		rc = tb_buf_append(out, s + run, i - run);
		if (rc == 0)
			rc = put_escape(out, u[i]);
		run = ++i;
	}
	if (rc == 0)
		rc = tb_buf_append(out, s + run, i - run);
	return rc ? rc : tb_buf_putc(out, '"');
}

static void rewind_to(struct tb_buf *out, size_t mark)
{
	out->len = mark;
	if (out->data)
		out->data[mark] = '\0';
}

int tb_json_write_string(struct tb_buf *out, const char *s, size_t len)
{
	size_t mark = out->len;
	int rc = put_string(out, s, len);
	if (rc)
		rewind_to(out, mark);
	return rc;
}

/* The first UTF-16 code unit of cp: what decides RFC 8785 order between two
 * different characters (supplementary ones sort as surrogates, below U+E000). */
static uint32_t utf16_lead(uint32_t cp)
{
	return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

static int cmp_utf16(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0, j = 0;
	while (i < alen && j < blen) {
		uint32_t ca, cb;
		size_t na = tb_json_utf8_next(x + i, alen - i, &ca);
		size_t nb = tb_json_utf8_next(y + j, blen - j, &cb);
		if (na == 0 || nb == 0) /* never: keys are checked before sorting */
			return x[i] < y[j] ? -1 : x[i] > y[j];
		if (ca != cb) {
			uint32_t la = utf16_lead(ca), lb = utf16_lead(cb);
			if (la != lb)
				return la < lb ? -1 : 1;
			return ca < cb ? -1 : 1; /* same lead surrogate: trail order is cp order */
		}
		i += na;
		j += nb;
	}
	return (i < alen) - (j < blen);
}

static int cmp_canonical(const void *a, const void *b)
{
	const struct tb_json_member *x = *(const struct tb_json_member *const *)a;
	const struct tb_json_member *y = *(const struct tb_json_member *const *)b;
	return cmp_utf16(x->key, x->key_len, y->key, y->key_len);
}

/* JavaScript lists array-index keys ("0".."4294967294") first, ascending. */
static int is_array_index(const char *k, size_t len)
{
	if (len == 0 || len > 10 || (len > 1 && k[0] == '0'))
		return 0;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (k[i] < '0' || k[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(k[i] - '0');
	}
	return v <= 4294967294u;
}

static int cmp_index(const void *a, const void *b)
{
	const struct tb_json_member *x = *(const struct tb_json_member *const *)a;
	const struct tb_json_member *y = *(const struct tb_json_member *const *)b;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

static void stringify_order(const struct tb_json_member **v, const struct tb_json *j)
{
	size_t n = j->u.object.len, k = 0;
	for (size_t i = 0; i < n; i++)
		if (is_array_index(j->u.object.members[i].key, j->u.object.members[i].key_len))
			v[k++] = &j->u.object.members[i];
	qsort(v, k, sizeof *v, cmp_index);
	for (size_t i = 0; i < n; i++)
		if (!is_array_index(j->u.object.members[i].key, j->u.object.members[i].key_len))
			v[k++] = &j->u.object.members[i];
}

/* Members in the order this style writes them; NULL on allocation failure. */
static const struct tb_json_member **member_order(const struct tb_json *j, enum style s)
{
	size_t n = j->u.object.len;
	const struct tb_json_member **v = malloc((n ? n : 1) * sizeof *v);
	if (v == NULL)
		return NULL;
	if (s == STRINGIFY) {
		stringify_order(v, j);
		return v;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &j->u.object.members[i];
	if (s == CANONICAL)
		qsort(v, n, sizeof *v, cmp_canonical);
	return v;
}

static int buf_failure(struct writer *w, int rc)
{
	if (rc == TB_ELIMIT)
		return tb_error_set(w->err, rc, "json: output would pass the buffer limit");
	return tb_error_set(w->err, rc, "json: out of memory while writing");
}

static int put_where(struct writer *w, const struct tb_json *j, int code, const char *what)
{
	if (j->line)
		return tb_error_set(w->err, code, "json: %s (value from line %u, column %u)", what,
		                    j->line, j->col);
	return tb_error_set(w->err, code, "json: %s", what);
}

static int write_number(struct writer *w, const struct tb_json *j)
{
	char text[40];
	if (tb_json_format_number(j->u.number.value, text, sizeof text) != 0) {
		if (w->style == CANONICAL)
			return put_where(w, j, TB_EINVAL, "canonical JSON (RFC 8785) cannot hold "
			                 "NaN or Infinity");
		strcpy(text, "null"); /* what JSON.stringify writes for them */
	}
	int rc = tb_buf_puts(w->out, text);
	return rc ? buf_failure(w, rc) : 0;
}

static int write_str(struct writer *w, const struct tb_json *j, const char *s, size_t len)
{
	int rc = put_string(w->out, s, len);
	if (rc == TB_EINVAL)
		return put_where(w, j, rc, "string is not well-formed UTF-8");
	return rc ? buf_failure(w, rc) : 0;
}

static int write_value(struct writer *w, const struct tb_json *j, size_t depth);

static int newline(struct writer *w, size_t depth)
{
	if (w->style != PRETTY)
		return 0;
	int rc = tb_buf_putc(w->out, '\n');
	for (size_t i = 0; rc == 0 && i < depth; i++)
		rc = tb_buf_append(w->out, "  ", 2);
	return rc ? buf_failure(w, rc) : 0;
}

static int put_char(struct writer *w, char c)
{
	int rc = tb_buf_putc(w->out, c);
	return rc ? buf_failure(w, rc) : 0;
}

static int write_array(struct writer *w, const struct tb_json *j, size_t depth)
{
	size_t n = j->u.array.len;
	int rc = put_char(w, '[');
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			rc = put_char(w, ',');
		if (rc == 0)
			rc = newline(w, depth + 1);
		if (rc == 0)
			rc = write_value(w, j->u.array.items[i], depth + 1);
	}
	if (rc == 0 && n > 0)
		rc = newline(w, depth);
	return rc ? rc : put_char(w, ']');
}

static int write_member(struct writer *w, const struct tb_json_member *m, size_t depth)
{
	int rc = write_str(w, m->value, m->key, m->key_len);
	if (rc == 0)
		rc = put_char(w, ':');
	if (rc == 0 && w->style == PRETTY)
		rc = put_char(w, ' ');
	return rc ? rc : write_value(w, m->value, depth);
}

static int valid_utf8(const char *s, size_t len)
{
	uint32_t cp;
	for (size_t i = 0, n; i < len; i += n)
		if ((n = tb_json_utf8_next((const unsigned char *)s + i, len - i, &cp)) == 0)
			return 0;
	return 1;
}

static int write_object(struct writer *w, const struct tb_json *j, size_t depth)
{
	size_t n = j->u.object.len;
	for (size_t i = 0; w->style == CANONICAL && i < n; i++) /* sorting needs code points */
		if (!valid_utf8(j->u.object.members[i].key, j->u.object.members[i].key_len))
			return put_where(w, j, TB_EINVAL, "object key is not well-formed UTF-8");
	const struct tb_json_member **v = member_order(j, w->style);
	if (v == NULL)
		return buf_failure(w, TB_ENOMEM);
	int rc = put_char(w, '{');
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			rc = put_char(w, ',');
		if (rc == 0)
			rc = newline(w, depth + 1);
		if (rc == 0)
			rc = write_member(w, v[i], depth + 1);
	}
	free(v);
	if (rc == 0 && n > 0)
		rc = newline(w, depth);
	return rc ? rc : put_char(w, '}');
}

static int write_value(struct writer *w, const struct tb_json *j, size_t depth)
{
	if (j == NULL)
		return tb_error_set(w->err, TB_EINVAL, "json: no value to write");
	if (depth > WRITE_MAX_DEPTH)
		return put_where(w, j, TB_ELIMIT, "nesting deeper than 4096 levels");
	int rc = 0;
	switch (j->type) {
	case TB_JSON_NULL: rc = tb_buf_puts(w->out, "null"); break;
	case TB_JSON_BOOL: rc = tb_buf_puts(w->out, j->u.boolean ? "true" : "false"); break;
	case TB_JSON_NUMBER: return write_number(w, j);
	case TB_JSON_STRING: return write_str(w, j, j->u.string.ptr, j->u.string.len);
	case TB_JSON_ARRAY: return write_array(w, j, depth);
	case TB_JSON_OBJECT: return write_object(w, j, depth);
	}
	return rc ? buf_failure(w, rc) : 0;
}

static int write_tree(const struct tb_json *j, struct tb_buf *out, struct tb_error *err,
                      enum style s)
{
	struct writer w = {out, err, s};
	size_t mark = out->len;
	int rc = write_value(&w, j, 0);
	if (rc)
		rewind_to(out, mark);
	return rc;
}

int tb_json_write_canonical(const struct tb_json *j, struct tb_buf *out, struct tb_error *err)
{
	return write_tree(j, out, err, CANONICAL);
}

int tb_json_write_stringify(const struct tb_json *j, struct tb_buf *out, struct tb_error *err)
{
	return write_tree(j, out, err, STRINGIFY);
}

int tb_json_write_pretty(const struct tb_json *j, struct tb_buf *out, struct tb_error *err)
{
	return write_tree(j, out, err, PRETTY);
}
