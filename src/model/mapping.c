/* The mapping engine: compiles a mapping file's rules once (paths split, transforms
 * checked) and runs them over native or canonical trees. Invariants: a rule that
 * cannot be reversed exactly (hash, condition) is refused at load time in a mapping
 * that declares "reversible"; every run-time error reads
 * "mapping FILE: rule N (to PATH): at RECORD-PATH: what was wrong"; a run never
 * builds more than twice its input's size (plus MAP_OUTPUT_SLACK), counted as
 * each value is made, so no rule (split inside each, a large const repeated) can
 * multiply a record into gigabytes. */
#define _GNU_SOURCE /* memmem, timegm */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/hex.h"
#include "model/mapping.h"
#include "model/record.h"

#define MAP_MAX_FILE ((size_t)4 << 20)
#define MAP_MAX_SEGMENTS 32
#define MAP_MAX_CONCAT 16
#define MAP_NODE_COST 16 /* bytes a value costs beyond its text */
#define MAP_OUTPUT_SLACK ((size_t)64 << 10)

enum date_fmt { DATE_NONE, DATE_102, DATE_203, DATE_204, DATE_304, DATE_EDIFACT, DATE_ISO,
	            DATE_EPOCH, DATE_UNIX };
#define MAP_MAX_DATES 4
enum when_kind { WHEN_NONE, WHEN_EXISTS, WHEN_ABSENT, WHEN_EQUALS, WHEN_IN };

struct path {
	char *seg[MAP_MAX_SEGMENTS];
	long index[MAP_MAX_SEGMENTS]; /* "Name[2]" picks one repeat; -1 when not given */
	size_t n;
	const char *text;
};

struct rule {
	size_t number; /* 1-based position in its rules array */
	const struct rule *parent;
	const char *to_text;
	struct path from, to;
	int has_from;
	struct path concat[MAP_MAX_CONCAT];
	size_t nconcat;
	const char *sep;       /* concat / split separator */
	const char *split_sep; /* native string -> canonical array */
	const struct tb_json *cnst, *dflt, *table;
	int required, hash, as_number, table_pass;
	enum date_fmt date; /* the first of dates[]: the one reverse writes */
	enum date_fmt dates[MAP_MAX_DATES];
	size_t ndates;
	int scale, has_scale;
	int bytes32; /* "encoding": "bytes32": native 0x bytes32 text, canonical the text */
	enum when_kind when;
	struct path when_path;
	const struct tb_json *when_value;
	struct rule *sub; /* "each": the item rules */
	size_t nsub;
	int each;
};

struct tb_mapping {
	char *name;
	struct tb_json *doc;
	const char *id, *version, *record_type, *format, *source, *key_sep;
	const struct tb_json *key;
	const struct tb_json *envelope; /* {"version": native path, ...}: written on reverse */
	int reversible;
	int empty_is_absent; /* "" in the native tree counts as missing (XML <X/>) */
	struct rule *rules;
	size_t nrules;
};

struct run {
	const struct tb_mapping *m;
	const struct tb_mapping_ctx *ctx;
	struct tb_error *err;
	struct tb_buf at; /* record path of the current item */
	size_t budget;    /* bytes of output this run may still build */
	size_t limit;     /* the whole budget, for the message */
};

/* ---- paths ------------------------------------------------------------------ */

static void path_fini(struct path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->seg[i]);
	p->n = 0;
}

/* "A.B.C" into segments; "." alone (or "") is the current item itself. */
static int path_parse_segments(const char *s, struct path *p)
{
	p->n = 0;
	p->text = s;
	if (!*s || strcmp(s, ".") == 0)
		return 0;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || p->n == MAP_MAX_SEGMENTS)
			return TB_EINVAL;
		if (!(p->seg[p->n] = strndup(s, l)))
			return TB_ENOMEM;
		p->index[p->n] = -1;
		char *br = strchr(p->seg[p->n], '[');
		p->n++;
		if (br) {
			char *end;
			long i = strtol(br + 1, &end, 10);
			if (br == p->seg[p->n - 1] || i < 0 || i > 100000 || end == br + 1 ||
			    strcmp(end, "]") != 0)
				return TB_EINVAL;
			*br = 0;
			p->index[p->n - 1] = i;
		}
		s += l + (dot != NULL);
		if (dot && !*s)
			return TB_EINVAL;
	}
	return 0;
}

/* Parse s into p; on failure p holds nothing (no segment is left allocated). */
static int path_parse(const char *s, struct path *p)
{
	int rc = path_parse_segments(s, p);
	if (rc)
		path_fini(p);
	return rc;
}

/* Follow p from j; a string answers "#text" itself (an XML element without
 * attributes), so rules may always say Amount.#text. Borrowed or NULL. */
static const struct tb_json *path_get(const struct tb_json *j, const struct path *p)
{
	for (size_t i = 0; j && i < p->n; i++) {
		if (j->type == TB_JSON_STRING && strcmp(p->seg[i], "#text") == 0 && i + 1 == p->n)
			return j;
		j = j->type == TB_JSON_OBJECT ? tb_json_get(j, p->seg[i]) : NULL;
		if (j && p->index[i] >= 0) {
			/* a lone element is its own item 0 (XML does not mark repeats) */
			if (j->type == TB_JSON_ARRAY)
				j = (size_t)p->index[i] < j->u.array.len ? j->u.array.items[p->index[i]] : NULL;
			else if (p->index[i] > 0)
				j = NULL;
		}
	}
	return j;
}

/* Set value v at p under root (objects created on the way); takes v. */
static int path_set(struct tb_json *root, const struct path *p, struct tb_json *v)
{
	struct tb_json *j = root;
	if (p->n == 0) {
		tb_json_free(v);
		return TB_EINVAL;
	}
	for (size_t i = 0; i + 1 < p->n; i++) {
		struct tb_json *next = tb_json_get(j, p->seg[i]);
		if (!next) {
			next = tb_json_new_object();
			if (!next || tb_json_object_set(j, p->seg[i], strlen(p->seg[i]), next)) {
				tb_json_free(v);
				return TB_ENOMEM;
			}
		} else if (next->type != TB_JSON_OBJECT) {
			tb_json_free(v);
			return TB_EINVAL;
		}
		j = next;
	}
	const char *last = p->seg[p->n - 1];
	return tb_json_object_set(j, last, strlen(last), v);
}

/* ---- errors ----------------------------------------------------------------- */

static int rule_error(struct run *r, const struct rule *ru, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int rule_error(struct run *r, const struct rule *ru, int code, const char *fmt, ...)
{
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	char num[64] = "";
	size_t o = 0;
	/* "rule 4.2" for the second rule inside the fourth rule's "each" */
	const struct rule *chain[TB_MAPPING_MAX_DEPTH + 1];
	size_t depth = 0;
	for (const struct rule *x = ru; x && depth <= TB_MAPPING_MAX_DEPTH; x = x->parent)
		chain[depth++] = x;
	while (depth-- && o < sizeof num)
		o += (size_t)snprintf(num + o, sizeof num - o, "%s%zu", o ? "." : "", chain[depth]->number);
	return tb_error_set(r->err, code, "mapping %s: rule %s (to %s): at %s: %s", r->m->name, num,
	                    ru->to_text ? ru->to_text : "?",
	                    r->at.data ? (const char *)r->at.data : "$", what);
}

/* ---- leaf values -------------------------------------------------------------- */

/* The text of a native leaf (borrowed into j or into buf), or NULL. */
static const char *leaf_text(const struct tb_json *j, size_t *len)
{
	if (j && j->type == TB_JSON_OBJECT)
		j = tb_json_get(j, "#text");
	if (!j)
		return NULL;
	switch (j->type) {
	case TB_JSON_STRING:
		*len = j->u.string.len;
		return j->u.string.ptr;
	case TB_JSON_NUMBER:
		*len = strlen(j->u.number.text);
		return j->u.number.text;
	case TB_JSON_BOOL:
		*len = j->u.boolean ? 4 : 5;
		return j->u.boolean ? "true" : "false";
	default:
		return NULL;
	}
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* EDIFACT 102/203/204/304 text to ISO 8601 (out >= 32 bytes). */
static int edifact_to_iso(enum date_fmt f, const char *s, size_t n, char *out)
{
	size_t want = f == DATE_102 ? 8 : f == DATE_203 ? 12 : 14;
	if (n < want || !all_digits(s, want))
		return -1;
	if (f == DATE_102)
		return n == 8 ? (sprintf(out, "%.4s-%.2s-%.2s", s, s + 4, s + 6), 0) : -1;
	char zone[8] = "Z";
	const char *z = s + want;
	size_t zl = n - want;
	if (f != DATE_304 && zl)
		return -1;
	if (f == DATE_304) {
		if (zl == 1 && *z == 'Z')
			;
		else if ((zl == 3 || zl == 5) && (*z == '+' || *z == '-') && all_digits(z + 1, zl - 1))
			snprintf(zone, sizeof zone, "%c%.2s:%.2s", *z, z + 1, zl == 5 ? z + 3 : "00");
		else
			return -1;
	}
	sprintf(out, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%s", s, s + 4, s + 6, s + 8, s + 10,
	        f == DATE_203 ? "00" : s + 12, zone);
	return 0;
}

static int iso_basic_ok(const char *s, size_t n)
{
	return (n == 10 || n >= 20) && s[4] == '-' && s[7] == '-' && all_digits(s, 4);
}

/* ISO 8601 (as validated by the dictionary) back to EDIFACT f. */
static int iso_to_edifact(enum date_fmt f, const char *s, size_t n, char *out)
{
	if (!iso_basic_ok(s, n))
		return -1;
	if (f == DATE_102)
		return n == 10 ? (sprintf(out, "%.4s%.2s%.2s", s, s + 5, s + 8), 0) : -1;
	if (n < 20)
		return -1;
	const char *z = s + 19;
	size_t zl = n - 19;
	if (f == DATE_203 || f == DATE_204) {
		if (zl != 1 || *z != 'Z' || (f == DATE_203 && memcmp(s + 17, "00", 2)))
			return -1;
		sprintf(out, "%.4s%.2s%.2s%.2s%.2s%s", s, s + 5, s + 8, s + 11, s + 14,
		        f == DATE_203 ? "" : (char[3]){s[17], s[18], 0});
		return 0;
	}
	char zone[8];
	if (zl == 1 && *z == 'Z')
		strcpy(zone, "Z");
	else if (zl == 6 && z[3] == ':')
		snprintf(zone, sizeof zone, "%c%.2s%s%.2s", *z, z + 1, "", memcmp(z + 4, "00", 2) ? z + 4 : "");
	else
		return -1;
	sprintf(out, "%.4s%.2s%.2s%.2s%.2s%.2s%s", s, s + 5, s + 8, s + 11, s + 14, s + 17, zone);
	return 0;
}

/* "Wed Nov 13 00:00:00 UTC 2019": date(1) / Java Date.toString() in UTC, which
 * some HMRC DMS notifications carry instead of an EDIFACT DateTimeString. */
static int unix_date_to_iso(const char *s, size_t n, char *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], zone[8], line[64];
	int d, h, mi, se, y;
	if (n >= sizeof line)
		return -1;
	memcpy(line, s, n);
	line[n] = 0;
	if (sscanf(line, "%*3s %3s %2d %2d:%2d:%2d %7s %4d", mon, &d, &h, &mi, &se, zone, &y) != 7 ||
	    strcmp(zone, "UTC") != 0 || strlen(mon) != 3)
		return -1;
	const char *m = strstr(months, mon);
	if (!m || (m - months) % 3 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1000)
		return -1;
	sprintf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)(m - months) / 3 + 1, d, h, mi, se);
	return 0;
}

static int epoch_to_iso(const char *s, size_t n, char *out)
{
	if (n == 0 || n > 12 || !all_digits(s, n))
		return -1;
	time_t t = (time_t)strtoll(s, NULL, 10);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -1;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

static int iso_to_epoch(const char *s, size_t n, char *out)
{
	if (n != 20 || s[19] != 'Z' || !iso_basic_ok(s, n))
		return -1;
	struct tm tm = {0};
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	           &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	sprintf(out, "%lld", (long long)timegm(&tm));
	return 0;
}

static enum date_fmt edifact_code(const char *code)
{
	if (!code)
		return DATE_NONE;
	return strcmp(code, "102") == 0   ? DATE_102
	       : strcmp(code, "203") == 0 ? DATE_203
	       : strcmp(code, "204") == 0 ? DATE_204
	       : strcmp(code, "304") == 0 ? DATE_304
	                                  : DATE_NONE;
}

/* Native date (j: string, or {"@formatCode", "#text"} for DATE_EDIFACT) to ISO. */
static int date_one(enum date_fmt f, const struct tb_json *j, const char *s, size_t n, char *out)
{
	if (f == DATE_EDIFACT) {
		f = edifact_code(tb_json_string(tb_json_get(j, "@formatCode")));
		if (f == DATE_NONE)
			f = n == 8 ? DATE_102 : n == 12 ? DATE_203 : n == 14 ? DATE_204 : DATE_304;
	}
	if (f == DATE_ISO) {
		if (n >= 32 || !iso_basic_ok(s, n))
			return -1;
		memcpy(out, s, n);
		out[n] = 0;
		return 0;
	}
	if (f == DATE_UNIX)
		return unix_date_to_iso(s, n, out);
	return f == DATE_EPOCH ? epoch_to_iso(s, n, out) : edifact_to_iso(f, s, n, out);
}

/* The first of the rule's date formats that reads the value. */
static int date_forward(const struct rule *ru, const struct tb_json *j, const char *s, size_t n,
                        char *out)
{
	for (size_t i = 0; i < ru->ndates; i++)
		if (date_one(ru->dates[i], j, s, n, out) == 0)
			return 0;
	return -1;
}

/* Decimal text shifted by 10^scale, exactly (no floating point), normalised. */
static int decimal_shift(const char *s, size_t n, int scale, struct tb_buf *out)
{
	char digs[128];
	size_t nd = 0, point = 0;
	int neg = n && *s == '-', seen_point = 0;
	for (size_t i = neg; i < n; i++) {
		if (s[i] == '.' && !seen_point) {
			seen_point = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || nd >= 64)
			return -1;
		digs[nd++] = s[i];
		if (!seen_point)
			point++;
	}
	if (nd == 0 || nd == (size_t)neg)
		return -1;
	long p = (long)point + scale;
	if (p < -64 || p > 128)
		return -1;
	struct tb_buf t;
	tb_buf_init(&t, 512);
	if (p <= 0) {
		tb_buf_puts(&t, "0.");
		for (long i = 0; i < -p; i++)
			tb_buf_putc(&t, '0');
		tb_buf_append(&t, digs, nd);
	} else {
		for (long i = 0; i < p; i++)
			tb_buf_putc(&t, (size_t)i < nd ? digs[i] : '0');
		if ((size_t)p < nd) {
			tb_buf_putc(&t, '.');
			tb_buf_append(&t, digs + p, nd - (size_t)p);
		}
	}
	/* normalise: no leading zeros before the point, no trailing fraction zeros */
	char *b = (char *)t.data, *dot = strchr(b, '.');
	if (dot) {
		char *e = b + t.len;
		while (e > dot + 1 && e[-1] == '0')
			*--e = 0;
		if (e == dot + 1)
			*dot = 0;
	}
	while (b[0] == '0' && b[1] && b[1] != '.')
		b++;
	int rc = 0;
	if (neg && strcmp(b, "0") != 0)
		rc = tb_buf_putc(out, '-');
	rc = rc ? rc : tb_buf_puts(out, b);
	tb_buf_fini(&t);
	return rc ? -1 : 0;
}

static const char *table_lookup(const struct tb_json *table, const char *s, int reverse)
{
	for (size_t i = 0; i < table->u.object.len; i++) {
		const struct tb_json_member *m = &table->u.object.members[i];
		const char *v = tb_json_string(m->value);
		if (!reverse && strcmp(m->key, s) == 0)
			return v;
		if (reverse && v && strcmp(v, s) == 0)
			return m->key;
	}
	return NULL;
}

static struct tb_json *hashed(const struct run *r, const char *s, size_t n)
{
	struct tb_buf b;
	uint8_t d[32];
	char hex[65];
	tb_buf_init(&b, 0);
	if (tb_buf_append(&b, r->ctx->salt, r->ctx->salt_len) || tb_buf_putc(&b, 0) ||
	    tb_buf_append(&b, s, n)) {
		tb_buf_fini(&b);
		return NULL;
	}
	tb_sha256(b.data, b.len, d);
	tb_buf_fini(&b);
	tb_hex_encode(d, 32, hex);
	char out[80];
	snprintf(out, sizeof out, "sha256:%s", hex);
	return tb_json_new_string(out, strlen(out));
}

/* Solidity's bytes32 text: "0x" + 64 hex digits, 1 to 32 printable ASCII bytes then
 * zero bytes. out gets the text (33 bytes); -1 if s is not that. */
static int bytes32_to_text(const char *s, size_t n, char out[33])
{
	uint8_t b[32];
	size_t k = 0, got = 0;
	if (n != 66 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
	    tb_hex_decode(s + 2, 64, b, 32, &got, NULL) != 0 || got != 32)
		return -1;
	while (k < 32 && b[k] >= 0x20 && b[k] < 0x7f)
		k++;
	for (size_t i = k; i < 32; i++)
		if (b[i] != 0)
			return -1;
	memcpy(out, b, k);
	out[k] = 0;
	return k ? 0 : -1;
}

/* The reverse: text of 1 to 32 printable ASCII bytes -> "0x" + 64 hex digits (67 bytes). */
static int text_to_bytes32(const char *s, size_t n, char out[67])
{
	uint8_t b[32] = {0};
	if (n == 0 || n > 32)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return -1;
	memcpy(b, s, n);
	out[0] = '0', out[1] = 'x';
	tb_hex_encode(b, 32, out + 2);
	return 0;
}

/* A canonical leaf from native text: bytes32, table, date, scale, hash, number. */
static int leaf_forward(struct run *r, const struct rule *ru, const struct tb_json *j,
                        const char *s, size_t n, struct tb_json **out)
{
	char buf[64], text[33];
	struct tb_buf tmp;
	tb_buf_init(&tmp, 4096);
	int rc = 0;
	if (ru->bytes32) {
		if (bytes32_to_text(s, n, text))
			rc = rule_error(r, ru, TB_EINVAL, "\"%.70s\" is not a bytes32 holding text (0x and "
			                "64 hex digits: printable ASCII, then zero bytes)", s);
		else
			s = text, n = strlen(text);
	}
	if (!rc && ru->table) {
		const char *v = table_lookup(ru->table, s, 0);
		if (!v && !ru->table_pass)
			rc = rule_error(r, ru, TB_EINVAL, "value \"%.60s\" is not in the rule's table", s);
		else if (v)
			s = v, n = strlen(v);
	}
	if (!rc && ru->date) {
		if (date_forward(ru, j, s, n, buf))
			rc = rule_error(r, ru, TB_EINVAL, "\"%.60s\" is not a valid %s date", s,
			                ru->date == DATE_EPOCH ? "epoch" : ru->date == DATE_ISO ? "ISO 8601"
			                                                                        : "EDIFACT");
		else
			s = buf, n = strlen(buf);
	}
	if (!rc && ru->has_scale) {
		if (decimal_shift(s, n, ru->scale, &tmp))
			rc = rule_error(r, ru, TB_EINVAL, "\"%.60s\" is not a decimal number", s);
		else
			s = (const char *)tmp.data, n = tmp.len;
	}
	if (!rc && ru->hash && !r->ctx->salt)
		rc = rule_error(r, ru, TB_ECONFIG, "pseudonymisation needs a salt (configuration or "
		                                   "$TRADEBRIDGE_HASH_SALT); none was given");
	if (!rc) {
		if (ru->hash)
			*out = hashed(r, s, n);
		else if (ru->as_number) {
			char *end;
			double v = strtod(s, &end);
			*out = end == s + n && n ? tb_json_new_number(v) : NULL;
			if (!*out)
				rc = rule_error(r, ru, TB_EINVAL, "\"%.60s\" is not a number", s);
		} else
			*out = tb_json_new_string(s, n);
		if (!rc && !*out)
			rc = rule_error(r, ru, TB_ENOMEM, "out of memory");
	}
	tb_buf_fini(&tmp);
	return rc;
}

/* ---- forward ----------------------------------------------------------------- */

static int run_rules(struct run *r, const struct rule *rules, size_t n, const struct tb_json *in,
                     struct tb_json *out, int reverse);

/* What a tree costs against the output budget: its text plus MAP_NODE_COST a value. */
static size_t json_cost(const struct tb_json *j)
{
	size_t c = MAP_NODE_COST;
	if (!j)
		return 0;
	if (j->type == TB_JSON_STRING)
		c += j->u.string.len;
	else if (j->type == TB_JSON_NUMBER)
		c += strlen(j->u.number.text);
	for (size_t i = 0; j->type == TB_JSON_ARRAY && i < j->u.array.len; i++)
		c += json_cost(j->u.array.items[i]);
	for (size_t i = 0; j->type == TB_JSON_OBJECT && i < j->u.object.len; i++)
		c += j->u.object.members[i].key_len + json_cost(j->u.object.members[i].value);
	return c;
}

static int charge(struct run *r, const struct rule *ru, size_t cost)
{
	if (cost <= r->budget) {
		r->budget -= cost;
		return 0;
	}
	return rule_error(r, ru, TB_ELIMIT, "the output would pass %zu bytes (twice the input's "
	                  "size and %zu more): the rule multiplies its input", r->limit,
	                  MAP_OUTPUT_SLACK);
}


static int when_holds(const struct rule *ru, const struct tb_json *in)
{
	const struct tb_json *v = path_get(in, &ru->when_path);
	size_t n;
	const char *s = leaf_text(v, &n);
	switch (ru->when) {
	case WHEN_EXISTS:
		return v != NULL;
	case WHEN_ABSENT:
		return v == NULL;
	case WHEN_EQUALS:
		return s && strcmp(s, tb_json_string(ru->when_value)) == 0;
	case WHEN_IN:
		for (size_t i = 0; s && i < tb_json_len(ru->when_value); i++)
			if (strcmp(s, tb_json_string(tb_json_at(ru->when_value, i))) == 0)
				return 1;
		return 0;
	default:
		return 1;
	}
}

static size_t at_push(struct run *r, const struct path *p, long index)
{
	size_t old = r->at.len;
	for (size_t i = 0; i < p->n; i++)
		tb_buf_printf(&r->at, ".%s", p->seg[i]);
	if (index >= 0)
		tb_buf_printf(&r->at, "[%ld]", index);
	return old;
}

static void at_pop(struct run *r, size_t old)
{
	r->at.len = old;
	if (r->at.data)
		r->at.data[old] = 0;
}

/* Items of an "each" source: an array's items, or one non-array value. */
static size_t items_of(const struct tb_json *v)
{
	return !v ? 0 : v->type == TB_JSON_ARRAY ? v->u.array.len : 1;
}

static const struct tb_json *item_at(const struct tb_json *v, size_t i)
{
	return v->type == TB_JSON_ARRAY ? v->u.array.items[i] : v;
}

static int run_each(struct run *r, const struct rule *ru, const struct tb_json *in,
                    struct tb_json *out, int reverse)
{
	const struct path *src = reverse ? &ru->to : &ru->from, *dst = reverse ? &ru->from : &ru->to;
	const struct tb_json *v = path_get(in, src);
	size_t n = items_of(v);
	if (n == 0 && ru->required)
		return rule_error(r, ru, TB_EINVAL, "required %s is missing", src->text);
	if (n == 0)
		return 0;
	struct tb_json *arr = path_get(out, dst) ? (struct tb_json *)path_get(out, dst) : NULL;
	if (!arr) {
		if (path_set(out, dst, tb_json_new_array()))
			return rule_error(r, ru, TB_EINVAL, "cannot create array %s", dst->text);
		arr = (struct tb_json *)path_get(out, dst);
	}
	if (arr->type != TB_JSON_ARRAY)
		return rule_error(r, ru, TB_EINVAL, "%s already holds a non-array", dst->text);
	for (size_t i = 0; i < n; i++) {
		int rc = charge(r, ru, MAP_NODE_COST);
		if (rc)
			return rc;
		size_t old = at_push(r, src, v->type == TB_JSON_ARRAY ? (long)i : -1);
		struct tb_json *item = tb_json_new_object();
		rc = item ? run_rules(r, ru->sub, ru->nsub, item_at(v, i), item, reverse)
		          : rule_error(r, ru, TB_ENOMEM, "out of memory");
		at_pop(r, old);
		if (rc) {
			tb_json_free(item);
			return rc;
		}
		if (item->u.object.len == 0)
			tb_json_free(item);
		else if (tb_json_array_push(arr, item))
			return rule_error(r, ru, TB_ENOMEM, "out of memory");
	}
	return 0;
}

/* Write v (already charged) at p; takes v. */
static int put_charged(struct run *r, const struct rule *ru, struct tb_json *out,
                       const struct path *p, struct tb_json *v)
{
	if (!v)
		return rule_error(r, ru, TB_ENOMEM, "out of memory");
	if (path_set(out, p, v))
		return rule_error(r, ru, TB_EINVAL, "cannot write %s: a segment on the way is not an object",
		                  p->text);
	return 0;
}

static int put(struct run *r, const struct rule *ru, struct tb_json *out, const struct path *p,
               struct tb_json *v)
{
	int rc = v ? charge(r, ru, json_cost(v) + p->n * MAP_NODE_COST) : 0;
	if (rc) {
		tb_json_free(v);
		return rc;
	}
	return put_charged(r, ru, out, p, v);
}

static int concat_forward(struct run *r, const struct rule *ru, const struct tb_json *in,
                          struct tb_json *out)
{
	struct tb_buf b;
	tb_buf_init(&b, 1 << 20);
	int any = 0, rc = 0;
	for (size_t i = 0; i < ru->nconcat && !rc; i++) {
		size_t n;
		const char *s = leaf_text(path_get(in, &ru->concat[i]), &n);
		if (!s || (n == 0 && r->m->empty_is_absent))
			continue;
		if ((any && tb_buf_puts(&b, ru->sep)) || tb_buf_append(&b, s, n))
			rc = rule_error(r, ru, TB_ELIMIT, "concatenation longer than 1 MiB");
		any = 1;
	}
	if (!rc && any)
		rc = put(r, ru, out, &ru->to, tb_json_new_string(b.data ? (char *)b.data : "", b.len));
	else if (!rc && ru->required)
		rc = rule_error(r, ru, TB_EINVAL, "none of the concatenated values is present");
	tb_buf_fini(&b);
	return rc;
}

static int split_forward(struct run *r, const struct rule *ru, const char *s, size_t n,
                         struct tb_json *out)
{
	struct tb_json *arr = tb_json_new_array();
	size_t sl = strlen(ru->split_sep);
	const char *end = s + n;
	int rc = 0;
	while (arr) {
		const char *hit = sl ? memmem(s, (size_t)(end - s), ru->split_sep, sl) : NULL;
		const char *stop = hit ? hit : end;
		/* charged item by item: the array never grows past the budget */
		if ((rc = charge(r, ru, MAP_NODE_COST + (size_t)(stop - s)))) {
			tb_json_free(arr);
			return rc;
		}
		if (tb_json_array_push(arr, tb_json_new_string(s, (size_t)(stop - s))))
			arr = NULL;
		if (!hit)
			break;
		s = hit + sl;
	}
	return put_charged(r, ru, out, &ru->to, arr);
}

static int rule_forward(struct run *r, const struct rule *ru, const struct tb_json *in,
                        struct tb_json *out)
{
	if (ru->when && !when_holds(ru, in))
		return 0;
	if (ru->each)
		return run_each(r, ru, in, out, 0);
	if (ru->nconcat)
		return concat_forward(r, ru, in, out);
	const struct tb_json *v = ru->has_from ? path_get(in, &ru->from) : NULL;
	size_t n = 0;
	const char *s = leaf_text(v, &n);
	if (s && n == 0 && r->m->empty_is_absent)
		v = NULL, s = NULL;
	if (v && !s)
		return rule_error(r, ru, TB_EINVAL, "%s is a %s, not a value", ru->from.text,
		                  tb_json_type_name(v->type));
	if (!s && ru->cnst)
		return put(r, ru, out, &ru->to, tb_json_clone(ru->cnst));
	if (!s && ru->dflt)
		return put(r, ru, out, &ru->to, tb_json_clone(ru->dflt));
	if (!s && ru->required)
		return rule_error(r, ru, TB_EINVAL, "required %s is missing", ru->from.text);
	if (!s)
		return 0;
	if (ru->split_sep)
		return split_forward(r, ru, s, n, out);
	struct tb_json *leaf = NULL;
	int rc = leaf_forward(r, ru, v, s, n, &leaf);
	return rc ? rc : put(r, ru, out, &ru->to, leaf);
}

/* ---- reverse ------------------------------------------------------------------ */

static int leaf_reverse(struct run *r, const struct rule *ru, const char *s, size_t n,
                        struct tb_json **out)
{
	char buf[64];
	struct tb_buf tmp;
	tb_buf_init(&tmp, 4096);
	int rc = 0;
	if (ru->has_scale) {
		if (decimal_shift(s, n, -ru->scale, &tmp))
			rc = rule_error(r, ru, TB_EINVAL, "\"%.60s\" is not a decimal number", s);
		else
			s = (const char *)tmp.data, n = tmp.len;
	}
	if (!rc && ru->date) {
		enum date_fmt f = ru->date == DATE_EDIFACT ? DATE_304 : ru->date;
		int bad = f == DATE_UNIX  ? -1
		          : f == DATE_ISO ? (n >= 32 || !iso_basic_ok(s, n) ? -1 : (memcpy(buf, s, n), buf[n] = 0, 0))
		          : f == DATE_EPOCH ? iso_to_epoch(s, n, buf)
		                            : iso_to_edifact(f, s, n, buf);
		if (bad)
			rc = rule_error(r, ru, TB_EINVAL, "\"%.60s\" cannot be written in the rule's date format", s);
		else
			s = buf, n = strlen(buf);
	}
	if (!rc && ru->table) {
		const char *v = table_lookup(ru->table, s, 1);
		if (!v && !ru->table_pass)
			rc = rule_error(r, ru, TB_EINVAL, "value \"%.60s\" is not in the rule's table", s);
		else if (v)
			s = v, n = strlen(v);
	}
	char word[67];
	if (!rc && ru->bytes32) {
		if (text_to_bytes32(s, n, word))
			rc = rule_error(r, ru, TB_EINVAL, "\"%.60s\" does not fit a bytes32 as text (1 to 32 "
			                "printable ASCII characters)", s);
		else
			s = word, n = 66;
	}
	if (!rc) {
		*out = tb_json_new_string(s, n);
		if (*out && ru->date == DATE_EDIFACT) {
			struct tb_json *o = tb_json_new_object();
			if (o && !tb_json_object_set(o, "@formatCode", 11, tb_json_new_string("304", 3)) &&
			    !tb_json_object_set(o, "#text", 5, *out))
				*out = o;
			else
				tb_json_free(o), *out = NULL;
		}
		if (!*out)
			rc = rule_error(r, ru, TB_ENOMEM, "out of memory");
	}
	tb_buf_fini(&tmp);
	return rc;
}

static int concat_reverse(struct run *r, const struct rule *ru, const char *s, size_t n,
                          struct tb_json *out)
{
	size_t sl = strlen(ru->sep);
	const char *end = s + n;
	for (size_t i = 0; i < ru->nconcat; i++) {
		const char *hit = i + 1 < ru->nconcat ? memmem(s, (size_t)(end - s), ru->sep, sl) : NULL;
		const char *stop = hit ? hit : end;
		int rc = put(r, ru, out, &ru->concat[i], tb_json_new_string(s, (size_t)(stop - s)));
		if (rc || !hit)
			return rc;
		s = hit + sl;
	}
	return 0;
}

static int split_reverse(struct run *r, const struct rule *ru, const struct tb_json *v,
                         struct tb_json *out)
{
	struct tb_buf b;
	tb_buf_init(&b, 1 << 20);
	int rc = 0;
	for (size_t i = 0; i < v->u.array.len && !rc; i++) {
		size_t n;
		const char *s = leaf_text(v->u.array.items[i], &n);
		if (!s || (i && tb_buf_puts(&b, ru->split_sep)) || tb_buf_append(&b, s, n))
			rc = rule_error(r, ru, TB_EINVAL, "item %zu of %s is not a value (or too long)", i,
			                ru->to.text);
	}
	if (!rc)
		rc = put(r, ru, out, &ru->from, tb_json_new_string(b.data ? (char *)b.data : "", b.len));
	tb_buf_fini(&b);
	return rc;
}

static int rule_reverse(struct run *r, const struct rule *ru, const struct tb_json *in,
                        struct tb_json *out)
{
	if (ru->each)
		return run_each(r, ru, in, out, 1);
	if (!ru->has_from && !ru->nconcat)
		return 0; /* a constant has no native side */
	const struct tb_json *v = path_get(in, &ru->to);
	if (!v)
		return 0;
	if (ru->split_sep) {
		if (v->type != TB_JSON_ARRAY)
			return rule_error(r, ru, TB_EINVAL, "%s should be an array", ru->to.text);
		return split_reverse(r, ru, v, out);
	}
	size_t n;
	const char *s = leaf_text(v, &n);
	if (!s)
		return rule_error(r, ru, TB_EINVAL, "%s is a %s, not a value", ru->to.text,
		                  tb_json_type_name(v->type));
	if (ru->nconcat)
		return concat_reverse(r, ru, s, n, out);
	struct tb_json *leaf = NULL;
	int rc = leaf_reverse(r, ru, s, n, &leaf);
	return rc ? rc : put(r, ru, out, &ru->from, leaf);
}

static int run_rules(struct run *r, const struct rule *rules, size_t n, const struct tb_json *in,
                     struct tb_json *out, int reverse)
{
	for (size_t i = 0; i < n; i++) {
		int rc = reverse ? rule_reverse(r, &rules[i], in, out) : rule_forward(r, &rules[i], in, out);
		if (rc)
			return rc;
	}
	return 0;
}

static int run_top(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                   const struct tb_json *in, struct tb_json **out, struct tb_error *err, int reverse)
{
	static const struct tb_mapping_ctx none = {NULL, 0};
	size_t in_cost = json_cost(in);
	size_t limit = in_cost > (SIZE_MAX - MAP_OUTPUT_SLACK) / 2 ? SIZE_MAX
	                                                           : 2 * in_cost + MAP_OUTPUT_SLACK;
	struct run r = {m, ctx ? ctx : &none, err, {0}, limit, limit};
	*out = NULL;
	if (reverse && !m->reversible)
		return tb_error_set(err, TB_EINVAL, "mapping %s: not declared reversible", m->name);
	struct tb_json *o = tb_json_new_object();
	if (!o)
		return tb_error_set(err, TB_ENOMEM, "mapping %s: out of memory", m->name);
	tb_buf_init(&r.at, 1 << 16);
	tb_buf_putc(&r.at, '$');
	int rc = run_rules(&r, m->rules, m->nrules, in, o, reverse);
	tb_buf_fini(&r.at);
	if (rc)
		tb_json_free(o);
	else
		*out = o;
	return rc;
}

int tb_mapping_apply(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                     const struct tb_json *native, struct tb_json **out, struct tb_error *err)
{
	return run_top(m, ctx, native, out, err, 0);
}

int tb_mapping_reverse(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                       const struct tb_json *data, struct tb_json **out, struct tb_error *err)
{
	return run_top(m, ctx, data, out, err, 1);
}

/* One envelope value of rec as the reverse mapping's "envelope" names it: the
 * record's version, key or type as they are, or digest: "0x" + SHA-256 of the
 * record's RFC 8785 form, the record exactly as delivered (a destination that
 * anchors a record on chain stores this, so a holder of the record can check it).
 * NULL with err set if rec lacks it. */
static struct tb_json *envelope_value(const struct tb_mapping *m, const char *name,
                                      const struct tb_json *rec, struct tb_error *err)
{
	if (strcmp(name, "digest") != 0) {
		const struct tb_json *v = tb_json_get(rec, name);
		struct tb_json *c = v ? tb_json_clone(v) : NULL;
		if (!c)
			tb_error_set(err, v ? TB_ENOMEM : TB_EINVAL, "mapping %s: envelope \"%s\": the "
			             "record has no \"%s\"", m->name, name, name);
		return c;
	}
	struct tb_buf b;
	uint8_t h[32];
	char hex[67] = "0x";
	tb_buf_init(&b, 0);
	if (tb_json_write_canonical(rec, &b, err) < 0) {
		tb_buf_fini(&b);
		tb_error_prefix(err, "mapping %s: envelope \"digest\"", m->name);
		return NULL;
	}
	tb_sha256(b.data, b.len, h);
	tb_buf_fini(&b);
	tb_hex_encode(h, 32, hex + 2);
	struct tb_json *v = tb_json_new_string(hex, 66);
	if (!v)
		tb_error_set(err, TB_ENOMEM, "mapping %s: out of memory", m->name);
	return v;
}

int tb_mapping_reverse_record(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                              const struct tb_json *rec, struct tb_json **out,
                              struct tb_error *err)
{
	int rc = run_top(m, ctx, tb_json_get(rec, "data"), out, err, 1);
	const struct tb_json *env = m->envelope;
	for (size_t i = 0; rc == 0 && env && i < env->u.object.len; i++) {
		const struct tb_json_member *e = &env->u.object.members[i];
		struct path p = {0};
		struct tb_json *v = envelope_value(m, e->key, rec, err);
		rc = v ? 0 : err && err->code ? err->code : TB_EINVAL;
		if (rc == 0 && path_parse(tb_json_string(e->value), &p) == 0)
			rc = path_set(*out, &p, v) ? tb_error_set(err, TB_EINVAL, "mapping %s: envelope "
			                                           "\"%s\": cannot write %s", m->name,
			                                           e->key, tb_json_string(e->value))
			                           : 0;
		else if (rc == 0)
			tb_json_free(v); /* checked at load: cannot happen */
		path_fini(&p);
	}
	if (rc) {
		tb_json_free(*out);
		*out = NULL;
	}
	return rc;
}

/* The record key: the mapping's "key" items (canonical paths or {"const": s})
 * joined with key_separator. */
static int make_key(const struct tb_mapping *m, const struct tb_json *data, struct tb_buf *key,
                    struct tb_error *err)
{
	for (size_t i = 0; i < tb_json_len(m->key); i++) {
		const struct tb_json *item = tb_json_at(m->key, i);
		const char *s = tb_json_string(tb_json_get(item, "const"));
		size_t n = s ? strlen(s) : 0;
		if (!s) {
			struct path p;
			if (path_parse(tb_json_string(item), &p))
				return tb_error_set(err, TB_EINVAL, "mapping %s: key item %zu is not a canonical path",
				                    m->name, i + 1);
			s = leaf_text(path_get(data, &p), &n);
			path_fini(&p);
			if (!s)
				return tb_error_set(err, TB_EINVAL,
				                    "mapping %s: key: %s is missing in the canonical data",
				                    m->name, tb_json_string(item));
		}
		if (memchr(s, 0, n))
			return tb_error_set(err, TB_EINVAL, "mapping %s: key: %s holds a NUL byte, which "
			                    "would cut the key short and make it collide with another",
			                    m->name, tb_json_string(item) ? tb_json_string(item) : "const");
		if ((i && tb_buf_puts(key, m->key_sep)) || tb_buf_append(key, s, n))
			return tb_error_set(err, TB_ELIMIT, "mapping %s: key longer than %d bytes", m->name,
			                    TB_RECORD_KEY_MAX);
	}
	return 0;
}

int tb_mapping_to_record(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                         const struct tb_json *native, struct tb_json **out, struct tb_error *err)
{
	struct tb_json *data;
	struct tb_buf key;
	*out = NULL;
	int rc = tb_mapping_apply(m, ctx, native, &data, err);
	if (rc)
		return rc;
	tb_buf_init(&key, TB_RECORD_KEY_MAX);
	rc = make_key(m, data, &key, err);
	if (!rc && !(*out = tb_record_new(m->record_type, key.data ? (char *)key.data : "", m->id,
	                                  m->version, m->source, data)))
		rc = tb_error_set(err, TB_ENOMEM, "mapping %s: out of memory", m->name);
	else if (rc)
		tb_json_free(data);
	tb_buf_fini(&key);
	return rc;
}

/* ---- loading ---------------------------------------------------------------- */

struct load {
	struct tb_mapping *m;
	struct tb_error *err;
	size_t count;
};

static int load_error(struct load *l, const struct tb_json *rule, size_t number, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

static int load_error(struct load *l, const struct tb_json *rule, size_t number, const char *fmt,
                      ...)
{
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const char *to = tb_json_string(tb_json_get(rule, "to"));
	return tb_error_set(l->err, TB_EINVAL, "mapping %s: rule %zu (to %s, line %u): %s", l->m->name,
	                    number, to ? to : "?", rule ? rule->line : 0, what);
}

static enum date_fmt date_named(const char *s)
{
	static const struct {
		const char *name;
		enum date_fmt f;
	} names[] = {{"edifact-102", DATE_102}, {"edifact-203", DATE_203}, {"edifact-204", DATE_204},
	             {"edifact-304", DATE_304}, {"edifact", DATE_EDIFACT}, {"iso8601", DATE_ISO},
	             {"epoch", DATE_EPOCH},     {"unix-date", DATE_UNIX}};
	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].f;
	return DATE_NONE;
}

static int load_rules(struct load *l, const struct tb_json *arr, const struct rule *parent,
                      size_t depth, struct rule **out, size_t *nout);

static int check_members(struct load *l, const struct tb_json *j, size_t number)
{
	static const char *const known[] = {"from",  "to",    "const", "default", "required",
	                                    "when",  "date",  "table", "table_passthrough",
	                                    "scale", "concat", "separator", "split", "hash",
	                                    "as",    "each",  "rules", "comment", "encoding"};
	for (size_t i = 0; i < j->u.object.len; i++) {
		size_t k = 0;
		while (k < sizeof known / sizeof known[0] && strcmp(known[k], j->u.object.members[i].key))
			k++;
		if (k == sizeof known / sizeof known[0])
			return load_error(l, j, number, "unknown member \"%s\"", j->u.object.members[i].key);
	}
	return 0;
}

static int load_when(struct load *l, const struct tb_json *j, size_t number, struct rule *ru)
{
	const struct tb_json *w = tb_json_get(j, "when");
	const char *p = tb_json_string(tb_json_get(w, "path"));
	if (!w || w->type != TB_JSON_OBJECT || !p || path_parse(p, &ru->when_path))
		return load_error(l, j, number, "%s", "\"when\" needs {\"path\": native path, and one of "
		                                      "\"exists\", \"absent\", \"equals\", \"in\"}");
	if (tb_json_get(w, "exists"))
		ru->when = WHEN_EXISTS;
	else if (tb_json_get(w, "absent"))
		ru->when = WHEN_ABSENT;
	else if (tb_json_string(ru->when_value = tb_json_get(w, "equals")))
		ru->when = WHEN_EQUALS;
	else if ((ru->when_value = tb_json_get(w, "in")) && ru->when_value->type == TB_JSON_ARRAY) {
		ru->when = WHEN_IN;
		for (size_t i = 0; i < tb_json_len(ru->when_value); i++)
			if (!tb_json_string(tb_json_at(ru->when_value, i)))
				return load_error(l, j, number, "%s", "\"when\".\"in\" must list strings");
	} else
		return load_error(l, j, number, "%s", "\"when\" needs \"exists\", \"absent\", \"equals\" "
		                                      "(string) or \"in\" (array of strings)");
	return 0;
}

static int load_concat(struct load *l, const struct tb_json *j, size_t number, struct rule *ru)
{
	const struct tb_json *c = tb_json_get(j, "concat");
	ru->sep = tb_json_string(tb_json_get(j, "separator"));
	if (!c || c->type != TB_JSON_ARRAY || c->u.array.len < 2 || c->u.array.len > MAP_MAX_CONCAT)
		return load_error(l, j, number, "%s", "\"concat\" needs 2 to 16 native paths");
	if (!ru->sep || !*ru->sep)
		return load_error(l, j, number, "%s", "\"concat\" needs a non-empty \"separator\"");
	for (size_t i = 0; i < c->u.array.len; i++) {
		const char *p = tb_json_string(c->u.array.items[i]);
		if (!p || path_parse(p, &ru->concat[ru->nconcat]) || ru->concat[ru->nconcat].n == 0)
			return load_error(l, j, number, "%s", "\"concat\" items must be native paths");
		ru->nconcat++;
	}
	return 0;
}

static int load_transforms(struct load *l, const struct tb_json *j, size_t number, struct rule *ru)
{
	const struct tb_json *x;
	const char *as = tb_json_string(tb_json_get(j, "as"));
	if ((x = tb_json_get(j, "date"))) {
		size_t nd = x->type == TB_JSON_ARRAY ? x->u.array.len : 1;
		for (size_t i = 0; i < nd && nd <= MAP_MAX_DATES; i++) {
			const struct tb_json *f = x->type == TB_JSON_ARRAY ? x->u.array.items[i] : x;
			if (!(ru->dates[ru->ndates++] = date_named(tb_json_string(f))))
				nd = 0;
		}
		if (nd == 0 || nd > MAP_MAX_DATES)
			return load_error(l, j, number, "%s", "\"date\" must be one (or a list of up to 4) of "
			                  "edifact-102, edifact-203, edifact-204, edifact-304, edifact, "
			                  "iso8601, epoch, unix-date");
		ru->date = ru->dates[0];
		if (l->m->reversible && ru->date == DATE_UNIX)
			return load_error(l, j, number, "%s", "unix-date cannot be written back; the mapping "
			                                      "declares \"reversible\"");
	}
	if ((x = tb_json_get(j, "table")) && x->type != TB_JSON_OBJECT)
		return load_error(l, j, number, "%s", "\"table\" must be an object {native: canonical}");
	for (size_t i = 0; x && i < x->u.object.len; i++)
		if (!tb_json_string(x->u.object.members[i].value))
			return load_error(l, j, number, "\"table\" value for \"%s\" must be a string",
			                  x->u.object.members[i].key);
	ru->table = x;
	ru->table_pass = (x = tb_json_get(j, "table_passthrough")) && x->type == TB_JSON_BOOL && x->u.boolean;
	if ((x = tb_json_get(j, "scale"))) {
		/* range first: casting an out-of-range double to int is undefined */
		if (x->type != TB_JSON_NUMBER || !(x->u.number.value >= -18 && x->u.number.value <= 18) ||
		    x->u.number.value != (int)x->u.number.value)
			return load_error(l, j, number, "%s", "\"scale\" must be an integer from -18 to 18");
		ru->has_scale = 1;
		ru->scale = (int)x->u.number.value;
	}
	if ((x = tb_json_get(j, "encoding"))) {
		if (!tb_json_string(x) || strcmp(tb_json_string(x), "bytes32") != 0)
			return load_error(l, j, number, "%s", "\"encoding\" must be \"bytes32\" (Solidity "
			                                      "bytes32 text)");
		ru->bytes32 = 1;
	}
	if ((x = tb_json_get(j, "split")) && !(ru->split_sep = tb_json_string(x)))
		return load_error(l, j, number, "%s", "\"split\" must be the separator string");
	if (ru->split_sep && !*ru->split_sep)
		return load_error(l, j, number, "%s", "\"split\" separator must not be empty");
	ru->hash = (x = tb_json_get(j, "hash")) && x->type == TB_JSON_BOOL && x->u.boolean;
	ru->required = (x = tb_json_get(j, "required")) && x->type == TB_JSON_BOOL && x->u.boolean;
	if (as && strcmp(as, "number") != 0 && strcmp(as, "string") != 0)
		return load_error(l, j, number, "%s", "\"as\" must be \"number\" or \"string\"");
	ru->as_number = as && strcmp(as, "number") == 0;
	ru->cnst = tb_json_get(j, "const");
	ru->dflt = tb_json_get(j, "default");
	return 0;
}

static int check_reversible(struct load *l, const struct tb_json *j, size_t number,
                            const struct rule *ru)
{
	if (ru->hash)
		return load_error(l, j, number, "%s", "a hash cannot be reversed; the mapping declares "
		                                      "\"reversible\"");
	if (ru->when)
		return load_error(l, j, number, "%s", "a condition cannot be reversed; the mapping declares "
		                                      "\"reversible\"");
	if (ru->as_number)
		return load_error(l, j, number, "%s", "\"as\": \"number\" does not keep the native text; "
		                                      "the mapping declares \"reversible\"");
	return 0;
}

static int load_rule(struct load *l, const struct tb_json *j, size_t number, size_t depth,
                     struct rule *ru)
{
	const char *to = tb_json_string(tb_json_get(j, "to"));
	const char *from = tb_json_string(tb_json_get(j, "from"));
	const char *each = tb_json_string(tb_json_get(j, "each"));
	if (j->type != TB_JSON_OBJECT)
		return load_error(l, NULL, number, "%s", "a rule must be an object");
	int rc = check_members(l, j, number);
	if (rc)
		return rc;
	if (!to || path_parse(to, &ru->to) || ru->to.n == 0 || strchr(to, '['))
		return load_error(l, j, number, "%s", "\"to\" must be a canonical path (A.B.C, no [n])");
	ru->to_text = to;
	if (each) {
		ru->each = 1;
		ru->has_from = 1;
		if (path_parse(each, &ru->from))
			return load_error(l, j, number, "%s", "\"each\" must be a native path");
		if (depth >= TB_MAPPING_MAX_DEPTH)
			return load_error(l, j, number, "%s", "\"each\" nested too deeply");
		const struct tb_json *req = tb_json_get(j, "required");
		ru->required = req && req->type == TB_JSON_BOOL && req->u.boolean;
		return load_rules(l, tb_json_get(j, "rules"), ru, depth + 1, &ru->sub, &ru->nsub);
	}
	if (from && path_parse(from, &ru->from))
		return load_error(l, j, number, "%s", "\"from\" must be a native path (A.B.C)");
	ru->has_from = from != NULL;
	if ((rc = load_transforms(l, j, number, ru)))
		return rc;
	if (tb_json_get(j, "concat") && (rc = load_concat(l, j, number, ru)))
		return rc;
	if (tb_json_get(j, "when") && (rc = load_when(l, j, number, ru)))
		return rc;
	if (!ru->has_from && !ru->nconcat && !ru->cnst)
		return load_error(l, j, number, "%s", "needs \"from\", \"concat\", \"each\" or \"const\"");
	return l->m->reversible ? check_reversible(l, j, number, ru) : 0;
}

static int load_rules(struct load *l, const struct tb_json *arr, const struct rule *parent,
                      size_t depth, struct rule **out, size_t *nout)
{
	size_t n = tb_json_len(arr);
	if (!arr || arr->type != TB_JSON_ARRAY || n == 0)
		return tb_error_set(l->err, TB_EINVAL, "mapping %s: %s needs a non-empty \"rules\" array",
		                    l->m->name, parent ? parent->to_text : "the mapping");
	if ((l->count += n) > TB_MAPPING_MAX_RULES)
		return tb_error_set(l->err, TB_ELIMIT, "mapping %s: more than %d rules", l->m->name,
		                    TB_MAPPING_MAX_RULES);
	if (!(*out = calloc(n, sizeof **out)))
		return tb_error_set(l->err, TB_ENOMEM, "mapping %s: out of memory", l->m->name);
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		(*out)[i].number = i + 1;
		(*out)[i].parent = parent;
		int rc = load_rule(l, tb_json_at(arr, i), i + 1, depth, &(*out)[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void rules_free(struct rule *rules, size_t n)
{
	for (size_t i = 0; rules && i < n; i++) {
		path_fini(&rules[i].from);
		path_fini(&rules[i].to);
		path_fini(&rules[i].when_path);
		for (size_t k = 0; k < rules[i].nconcat; k++)
			path_fini(&rules[i].concat[k]);
		rules_free(rules[i].sub, rules[i].nsub);
	}
	free(rules);
}

void tb_mapping_free(struct tb_mapping *m)
{
	if (!m)
		return;
	rules_free(m->rules, m->nrules);
	tb_json_free(m->doc);
	free(m->name);
	free(m);
}

static int load_header(struct tb_mapping *m, struct tb_error *err)
{
	const struct tb_json *d = m->doc, *rev = tb_json_get(d, "reversible");
	m->id = tb_json_string(tb_json_get(d, "id"));
	m->version = tb_json_string(tb_json_get(d, "version"));
	m->record_type = tb_json_string(tb_json_get(d, "record_type"));
	m->source = tb_json_string(tb_json_get(d, "source"));
	m->format = tb_json_string(tb_json_get(d, "format"));
	m->key = tb_json_get(d, "key");
	m->key_sep = tb_json_string(tb_json_get(d, "key_separator"));
	m->key_sep = m->key_sep ? m->key_sep : "/";
	m->format = m->format ? m->format : "json";
	m->reversible = rev && rev->type == TB_JSON_BOOL && rev->u.boolean;
	rev = tb_json_get(d, "empty_is_absent");
	m->empty_is_absent = rev && rev->type == TB_JSON_BOOL && rev->u.boolean;
	if (!m->id || !m->version || !m->record_type || !m->source)
		return tb_error_set(err, TB_EINVAL, "mapping %s: needs string members \"id\", \"version\", "
		                    "\"source\" and \"record_type\"", m->name);
	if (strcmp(m->format, "json") != 0 && strcmp(m->format, "xml") != 0)
		return tb_error_set(err, TB_EINVAL, "mapping %s: \"format\" must be \"json\" or \"xml\"",
		                    m->name);
	m->envelope = tb_json_get(d, "envelope");
	if (m->envelope && m->envelope->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "mapping %s: \"envelope\" must be an object "
		                    "{\"version\"|\"key\"|\"type\"|\"digest\": native path}", m->name);
	for (size_t i = 0; m->envelope && i < m->envelope->u.object.len; i++) {
		const struct tb_json_member *e = &m->envelope->u.object.members[i];
		const char *to = tb_json_string(e->value);
		struct path p = {0};
		int bad = strcmp(e->key, "version") && strcmp(e->key, "key") && strcmp(e->key, "type") &&
		          strcmp(e->key, "digest");
		if (bad || !to || path_parse(to, &p) || p.n == 0 || strchr(to, '[')) {
			path_fini(&p);
			return tb_error_set(err, TB_EINVAL, "mapping %s: envelope \"%s\": %s", m->name,
			                    e->key, bad ? "not one of version, key, type, digest"
			                                : "the value must be a native path (A.B, no [n])");
		}
		path_fini(&p);
	}
	if (!m->key || m->key->type != TB_JSON_ARRAY || m->key->u.array.len == 0)
		return tb_error_set(err, TB_EINVAL, "mapping %s: \"key\" must list canonical paths "
		                    "(or {\"const\": text}) that form the record key", m->name);
	for (size_t i = 0; i < m->key->u.array.len; i++) {
		const struct tb_json *k = m->key->u.array.items[i];
		if (!tb_json_string(k) && !tb_json_string(tb_json_get(k, "const")))
			return tb_error_set(err, TB_EINVAL, "mapping %s: key item %zu must be a path or "
			                    "{\"const\": text}", m->name, i + 1);
	}
	return 0;
}

int tb_mapping_parse(const char *text, size_t len, const char *name, struct tb_mapping **out,
                     struct tb_error *err)
{
	struct tb_mapping *m = calloc(1, sizeof *m);
	*out = NULL;
	if (!m || !(m->name = strdup(name ? name : "(mapping)"))) {
		free(m);
		return tb_error_set(err, TB_ENOMEM, "mapping: out of memory");
	}
	struct tb_json_limits lim = {MAP_MAX_FILE, 0, 0, 0};
	int rc = tb_json_parse(text, len, &lim, &m->doc, err);
	if (rc)
		tb_error_prefix(err, "mapping %s", m->name);
	else if (m->doc->type != TB_JSON_OBJECT)
		rc = tb_error_set(err, TB_EINVAL, "mapping %s: must be a JSON object", m->name);
	rc = rc ? rc : load_header(m, err);
	if (!rc) {
		struct load l = {m, err, 0};
		rc = load_rules(&l, tb_json_get(m->doc, "rules"), NULL, 0, &m->rules, &m->nrules);
	}
	if (rc) {
		tb_mapping_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int tb_mapping_load(const char *path, struct tb_mapping **out, struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, MAP_MAX_FILE);
	const char *base = strrchr(path, '/');
	int rc = tb_file_read(&b, path, "mapping", err);
	if (!rc)
		rc = tb_mapping_parse(b.data ? (const char *)b.data : "", b.len, base ? base + 1 : path, out,
		                      err);
	tb_buf_fini(&b);
	return rc;
}

const char *tb_mapping_id(const struct tb_mapping *m) { return m->id; }
const char *tb_mapping_version(const struct tb_mapping *m) { return m->version; }
const char *tb_mapping_record_type(const struct tb_mapping *m) { return m->record_type; }
const char *tb_mapping_format(const struct tb_mapping *m) { return m->format; }
int tb_mapping_reversible(const struct tb_mapping *m) { return m->reversible; }
