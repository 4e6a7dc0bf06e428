/* JSON text to tree, on yajl's callback parser. yajl only checks the grammar: we
 * decode every string ourselves from its raw token, because yajl turns lone
 * UTF-16 surrogates into '?' or into invalid UTF-8 and lets overlong and
 * surrogate UTF-8 through. Invariant: the position cursor only moves forward
 * (token starts arrive in order), so locating every node costs one pass. */
#include "lib/json.h"
#include "lib/json_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define DEFAULT_MAX_BYTES ((size_t)16 << 20)
#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_STRING ((size_t)1 << 20)

struct keypos {
	unsigned line, col;
};

struct frame {
	struct tb_json *node;
	char *key; /* an object's key waiting for its value; owned */
	size_t key_len;
	struct keypos *keys; /* where each member's key starts, for duplicate reports */
	size_t keys_cap;
	struct keypos pending;
};

struct cursor {
	size_t off;
	unsigned line, col;
};

struct parser {
	const char *text;
	size_t len;
	struct tb_json_limits lim;
	yajl_handle h;
	int finishing; /* inside yajl_complete_parse: only a final number can end here */
	int failed;    /* a callback refused the input and filled err */
	struct cursor cur;
	struct frame *stack;
	size_t depth, cap;
	struct tb_json *root;
	struct tb_error *err;
};

static struct keypos position(struct parser *p, size_t off)
{
	if (off < p->cur.off)
		p->cur = (struct cursor){0, 1, 1};
	if (off > p->len)
		off = p->len;
	for (; p->cur.off < off; p->cur.off++) {
		unsigned char c = (unsigned char)p->text[p->cur.off];
		if (c == '\n') {
			p->cur.line++;
			p->cur.col = 1;
		} else if ((c & 0xC0) != 0x80) { /* columns count characters, not bytes */
			p->cur.col++;
		}
	}
	return (struct keypos){p->cur.line, p->cur.col};
}

__attribute__((format(printf, 4, 5)))
static int fail_at(struct parser *p, struct keypos at, int code, const char *fmt, ...)
{
	char msg[TB_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tb_error_set(p->err, code, "line %u, column %u: %s", at.line, at.col, msg);
	p->failed = code;
	return 0; /* tells yajl to stop */
}

#define FAIL(p, off, code, ...) fail_at((p), position((p), (off)), (code), __VA_ARGS__)

/* A short, printable rendering of a key for messages; cut at a character boundary. */
static void excerpt(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 12 >= size && (c & 0xC0) != 0x80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7F)
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Offset just past the token yajl has just handed us. */
static size_t token_end(const struct parser *p)
{
	return p->finishing ? p->len : yajl_get_bytes_consumed(p->h);
}

static int add_node(struct parser *p, struct tb_json *j, size_t start)
{
	if (j == NULL)
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	struct keypos at = position(p, start);
	j->line = at.line;
	j->col = at.col;
	if (p->depth == 0) {
		p->root = j;
		return 1;
	}
	struct frame *f = &p->stack[p->depth - 1];
	int rc;
	if (f->node->type == TB_JSON_ARRAY) {
		rc = tb_json_array_push(f->node, j);
	} else {
		rc = tb_json_object_append(f->node, f->key, f->key_len, j);
		f->key = NULL;
	}
	if (rc != 0)
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	return 1;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0'
		      : c >= 'a' && c <= 'f' ? c - 'a' + 10
		      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* \uXXXX at t[i] (with its low half when it is a high surrogate): the code point
 * and the escape's length, or 0 when it is not valid Unicode. */
static size_t unicode_escape(const char *t, size_t i, size_t end, uint32_t *cp)
{
	int hi = i + 6 <= end ? hex4(t + i + 2) : -1;
	if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return 0;
	if (hi < 0xD800 || hi > 0xDBFF) {
		*cp = (uint32_t)hi;
		return 6;
	}
	int lo = i + 12 <= end && t[i + 6] == '\\' && t[i + 7] == 'u' ? hex4(t + i + 8) : -1;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return 0;
	*cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
	return 12;
}

static size_t simple_escape(char c, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *f = c ? strchr(from, c) : NULL;
	if (f == NULL)
		return 0;
	*o = to[f - from];
	return 1;
}

/* One escape at t[i]; appends to o at *n and returns its source length, or 0. */
static size_t unescape(struct parser *p, size_t i, size_t end, char *o, size_t *n)
{
	const char *t = p->text;
	if (i + 1 < end && t[i + 1] != 'u') {
		if (!simple_escape(t[i + 1], o + *n))
			return FAIL(p, i, TB_EINVAL, "invalid escape \\%c in string", t[i + 1]);
		(*n)++;
		return 2;
	}
	uint32_t cp;
	size_t used = unicode_escape(t, i, end, &cp);
	if (used == 0)
		return FAIL(p, i, TB_EINVAL,
		            "\\u%.4s is a lone UTF-16 surrogate (or a bad \\u escape): not valid "
		            "Unicode, refused rather than changed", i + 6 <= end ? t + i + 2 : "????");
	*n += put_utf8(o + *n, cp);
	return used;
}

/* Decode the string token whose closing quote is at close; start gets its opening
 * quote. The output is never longer than the raw token. */
static int decode_string(struct parser *p, size_t start, size_t close, char **out, size_t *len)
{
	const char *t = p->text;
	char *o = malloc(close - start);
	if (o == NULL)
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	size_t n = 0, i = start + 1;
	while (i < close) {
		unsigned char c = (unsigned char)t[i];
		size_t used;
		uint32_t cp;
		if (c == '\\') {
			used = unescape(p, i, close, o, &n);
		} else if (c < 0x20) {
			used = FAIL(p, i, TB_EINVAL, "control character 0x%02x in string must be escaped", c);
		} else if ((used = tb_json_utf8_next((const unsigned char *)t + i, close - i, &cp)) != 0) {
			memcpy(o + n, t + i, used);
			n += used;
		} else {
			used = FAIL(p, i, TB_EINVAL, "invalid UTF-8 (byte 0x%02x) in string", c);
		}
		if (used == 0) {
			free(o);
			return 0;
		}
		i += used;
	}
	if (n > p->lim.max_string) {
		free(o);
		return FAIL(p, start, TB_ELIMIT, "string of %zu bytes is longer than the limit of %zu bytes",
		            n, p->lim.max_string);
	}
	o[n] = '\0';
	*out = o;
	*len = n;
	return 1;
}

/* The opening quote of the string whose closing quote is at close: the first
 * quote going back that is not escaped (not after an odd run of backslashes). */
static size_t string_start(const char *t, size_t close)
{
	size_t i = close;
	while (i-- > 0) {
		if (t[i] != '"')
			continue;
		size_t bs = 0;
		while (bs < i && t[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return i;
	}
	return 0;
}

static int on_string(void *ctx, const unsigned char *s, size_t l)
{
	struct parser *p = ctx;
	size_t close = token_end(p) - 1, start = string_start(p->text, close);
	char *str;
	size_t len;
	if (!decode_string(p, start, close, &str, &len))
		return 0;
	struct tb_json *j = calloc(1, sizeof *j);
	if (j == NULL) {
		free(str);
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	}
	j->type = TB_JSON_STRING;
	j->u.string.ptr = str;
	j->u.string.len = len;
	return add_node(p, j, start);
}

static int on_key(void *ctx, const unsigned char *s, size_t l)
{
	struct parser *p = ctx;
	struct frame *f = &p->stack[p->depth - 1];
	size_t close = token_end(p) - 1, start = string_start(p->text, close);
	f->pending = position(p, start);
	size_t idx = f->node->u.object.len;
	if (tb_json_grow((void **)&f->keys, &f->keys_cap, idx, sizeof *f->keys) != 0)
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	f->keys[idx] = f->pending;
	return decode_string(p, start, close, &f->key, &f->key_len);
}

static int on_null(void *ctx)
{
	struct parser *p = ctx;
	return add_node(p, tb_json_new_null(), token_end(p) - 4);
}

static int on_bool(void *ctx, int b)
{
	struct parser *p = ctx;
	return add_node(p, tb_json_new_bool(b), token_end(p) - (b ? 4 : 5));
}

static int on_number(void *ctx, const char *s, size_t l)
{
	struct parser *p = ctx;
	size_t start = token_end(p) - l;
	if (l > p->lim.max_string)
		return FAIL(p, start, TB_ELIMIT, "number of %zu digits is longer than the limit of %zu bytes",
		            l, p->lim.max_string);
	double v;
	int rc = tb_json_number_value(s, l, &v);
	if (rc == TB_EINVAL)
		return FAIL(p, start, TB_EINVAL, "number %.*s%s is too large for a double "
		            "(largest is 1.7976931348623157e+308)", l > 40 ? 40 : (int)l, s,
		            l > 40 ? "..." : "");
	struct tb_json *j = rc == 0 ? calloc(1, sizeof *j) : NULL;
	char *text = j ? tb_json_memdup0(s, l) : NULL;
	if (text == NULL) {
		free(j);
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	}
	j->type = TB_JSON_NUMBER;
	j->u.number.value = v;
	j->u.number.text = text;
	return add_node(p, j, start);
}

static int open_container(struct parser *p, struct tb_json *j)
{
	size_t start = token_end(p) - 1;
	if (j == NULL)
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	if (p->depth >= p->lim.max_depth) {
		tb_json_free(j);
		return FAIL(p, start, TB_ELIMIT, "nesting deeper than the limit of %zu levels",
		            p->lim.max_depth);
	}
	if (tb_json_grow((void **)&p->stack, &p->cap, p->depth, sizeof *p->stack) != 0) {
		tb_json_free(j);
		return FAIL(p, start, TB_ENOMEM, "out of memory");
	}
	if (!add_node(p, j, start))
		return 0;
	p->stack[p->depth++] = (struct frame){.node = j};
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, tb_json_new_object());
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, tb_json_new_array());
}

static int cmp_members(const void *a, const void *b)
{
	const struct tb_json_member *x = *(const struct tb_json_member *const *)a;
	const struct tb_json_member *y = *(const struct tb_json_member *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	if (c == 0 && x->key_len != y->key_len)
		c = x->key_len < y->key_len ? -1 : 1;
	if (c == 0) /* members sit in one array: address order is source order */
		c = x < y ? -1 : x > y;
	return c;
}

/* I-JSON forbids duplicate names; sorting finds them in n log n. Reports the
 * earliest second occurrence, with where the key first appeared. */
static int check_duplicates(struct parser *p, struct frame *f)
{
	size_t n = f->node->u.object.len;
	struct tb_json_member *base = f->node->u.object.members;
	if (n < 2)
		return 1;
	const struct tb_json_member **v = malloc(n * sizeof *v);
	if (v == NULL)
		return FAIL(p, token_end(p) - 1, TB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = &base[i];
	qsort(v, n, sizeof *v, cmp_members);
	size_t first = n, again = n;
	for (size_t i = 1; i < n; i++) {
		if (v[i]->key_len == v[i - 1]->key_len &&
		    memcmp(v[i]->key, v[i - 1]->key, v[i]->key_len) == 0 &&
		    (size_t)(v[i] - base) < again) {
			again = (size_t)(v[i] - base);
			first = (size_t)(v[i - 1] - base);
		}
	}
	free(v);
	if (again == n)
		return 1;
	char name[96];
	excerpt(base[again].key, base[again].key_len, name, sizeof name);
	return fail_at(p, f->keys[again], TB_EINVAL,
	               "duplicate key \"%s\" in object (first at line %u, column %u)", name,
	               f->keys[first].line, f->keys[first].col);
}

static void frame_fini(struct frame *f)
{
	free(f->key);
	free(f->keys);
	f->key = NULL;
	f->keys = NULL;
}

static int on_end_map(void *ctx)
{
	struct parser *p = ctx;
	struct frame *f = &p->stack[p->depth - 1];
	if (!check_duplicates(p, f))
		return 0;
	frame_fini(f);
	p->depth--;
	return 1;
}

static int on_end_array(void *ctx)
{
	struct parser *p = ctx;
	frame_fini(&p->stack[p->depth - 1]);
	p->depth--;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

/* yajl's own message ("parse error: ...", "lexical error: ..."), placed at the
 * last byte it looked at, or at the end of input when the text stopped short. */
static int yajl_failure(struct parser *p)
{
	size_t off = p->finishing ? p->len : yajl_get_bytes_consumed(p->h);
	if (!p->finishing && off > 0)
		off--;
	unsigned char *m = yajl_get_error(p->h, 0, (const unsigned char *)p->text, p->len);
	char msg[256];
	snprintf(msg, sizeof msg, "%s", m ? (const char *)m : "malformed JSON");
	if (m)
		yajl_free_error(p->h, m);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	FAIL(p, off, TB_EINVAL, "%s", msg);
	return TB_EINVAL;
}

static void set_limits(struct tb_json_limits *l, const struct tb_json_limits *in)
{
	if (in)
		*l = *in;
	else
		memset(l, 0, sizeof *l);
	if (l->max_bytes == 0)
		l->max_bytes = DEFAULT_MAX_BYTES;
	if (l->max_depth == 0)
		l->max_depth = DEFAULT_MAX_DEPTH;
	if (l->max_string == 0)
		l->max_string = DEFAULT_MAX_STRING;
}

static int run(struct parser *p)
{
	if (p->len > p->lim.max_bytes) {
		FAIL(p, p->lim.max_bytes, TB_ELIMIT, "input of %zu bytes is larger than the limit of %zu bytes",
		     p->len, p->lim.max_bytes);
		return TB_ELIMIT;
	}
	p->h = yajl_alloc(&callbacks, NULL, p);
	if (p->h == NULL)
		return tb_error_set(p->err, TB_ENOMEM, "line 1, column 1: out of memory");
	yajl_config(p->h, yajl_allow_comments, p->lim.allow_comments ? 1 : 0);
	yajl_status st = yajl_parse(p->h, (const unsigned char *)p->text, p->len);
	if (st == yajl_status_ok) {
		p->finishing = 1;
		st = yajl_complete_parse(p->h);
	}
	if (p->failed)
		return p->failed;
	if (st != yajl_status_ok)
		return yajl_failure(p);
	return 0;
}

int tb_json_parse(const char *text, size_t len, const struct tb_json_limits *lim,
                  struct tb_json **out, struct tb_error *err)
{
	*out = NULL;
	if (text == NULL && len > 0)
		return tb_error_set(err, TB_EINVAL, "line 1, column 1: no text given");
	struct parser p = {.text = text ? text : "", .len = len, .err = err, .cur = {0, 1, 1}};
	set_limits(&p.lim, lim);
	int rc = run(&p);
	if (p.h)
		yajl_free(p.h);
	for (size_t i = 0; i < p.depth; i++)
		frame_fini(&p.stack[i]);
	free(p.stack);
	if (rc != 0) {
		tb_json_free(p.root);
		return rc;
	}
	*out = p.root;
	return 0;
}
