/* Structured logging. Each event is built whole in a fixed line buffer and written
 * with one fwrite, so concurrent writers never interleave inside a line. Invariant:
 * output is always one valid line (valid JSON in JSON mode, even for invalid UTF-8
 * or control bytes in values) and a secret value is never read, let alone written. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/printable.h"

/* Longest value copied into a line; the rest is replaced by the marker. */
#define VALUE_MAX 1024
#define TRUNC_MARK "...[truncated]"
#define REDACTED "[redacted]"
/* Room kept free at the end of a line for the closing bytes. */
#define LINE_TAIL 32

struct line {
	char buf[TB_LOG_LINE_MAX];
	size_t len;
	int full; /* a field did not fit: later fields are dropped */
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *tb_log_level_name(enum tb_log_level level)
{
	if ((unsigned)level > TB_LOG_DEBUG)
		return "unknown";
	return level_names[level];
}

int tb_log_level_parse(const char *s, enum tb_log_level *out, struct tb_error *err)
{
	for (unsigned i = 0; i <= TB_LOG_DEBUG; i++) {
		if (s && strcasecmp(s, level_names[i]) == 0) {
			*out = (enum tb_log_level)i;
			return 0;
		}
	}
	return tb_error_set(err, TB_EINVAL,
	                    "log: level \"%.40s\" is not one of error, warn, info, debug",
	                    s ? s : "(null)");
}

void tb_log_init(struct tb_log *log, FILE *out, const char *component, enum tb_log_level level,
                 enum tb_log_format format)
{
	memset(log, 0, sizeof(*log));
	log->out = out ? out : stderr;
	log->level = level;
	if (format == TB_LOG_AUTO)
		log->json = !isatty(fileno(log->out));
	else
		log->json = format == TB_LOG_JSON;
	snprintf(log->component, sizeof(log->component), "%s", component ? component : "");
}

void tb_log_child(struct tb_log *child, const struct tb_log *parent, const char *component)
{
	*child = *parent;
	snprintf(child->component, sizeof(child->component), "%s", component ? component : "");
}

int tb_log_enabled(const struct tb_log *log, enum tb_log_level level)
{
	return log != NULL && level <= log->level;
}

static int key_is_secret(const char *key)
{
	static const char *const marks[] = {"secret", "passw",  "private", "seckey",
	                                    "mnemonic", "bearer", "apikey", "api_key"};
	char low[64];
	size_t i;
	for (i = 0; i < sizeof(low) - 1 && key[i]; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	low[i] = 0;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(low, marks[i]))
			return 1;
	return 0;
}

static int room(const struct line *l, size_t n)
{
	return !l->full && l->len + n + LINE_TAIL <= sizeof(l->buf);
}

static void put(struct line *l, const char *s, size_t n)
{
	if (!room(l, n)) {
		l->full = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Always succeeds: the tail reserve holds the closing bytes. */
static void put_tail(struct line *l, const char *s)
{
	size_t n = strlen(s);
	if (l->len + n > sizeof(l->buf))
		n = sizeof(l->buf) - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Escape one byte sequence for JSON (quoted=1) or for text. */
static void put_escaped_char(struct line *l, const unsigned char *p, size_t *i, size_t n, int json)
{
	char tmp[8];
	unsigned char c = p[*i];
	size_t u = tb_utf8_len(p + *i, n - *i);
	if (c == '"' || c == '\\') {
		tmp[0] = '\\', tmp[1] = (char)c;
		put(l, tmp, 2);
	} else if (c == '\n') {
		put(l, "\\n", 2);
	} else if (c == '\t') {
		put(l, "\\t", 2);
	} else if (c < 0x20 || c == 0x7f) {
		snprintf(tmp, sizeof(tmp), json ? "\\u%04x" : "\\x%02x", c);
		puts_(l, tmp);
	} else if (u == 2 && c == 0xc2 && p[*i + 1] < 0xa0) {
		/* a C1 control (U+0080..U+009F): terminals may obey it as CSI or OSC */
		snprintf(tmp, sizeof(tmp), "\\u%04x", p[*i + 1]);
		puts_(l, tmp);
		(*i)++;
	} else if (u == 0) {
		/* invalid UTF-8: keep the line valid, show the byte in text mode */
		snprintf(tmp, sizeof(tmp), json ? "\\ufffd" : "\\x%02x", c);
		puts_(l, tmp);
	} else {
		put(l, (const char *)p + *i, u);
		*i += u - 1;
	}
	(*i)++;
}

/* Operator prose in text mode: control bytes escaped, never quoted. */
static void put_prose(struct line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n && !l->full;)
		put_escaped_char(l, p, &i, n, 0);
}

static int text_needs_quotes(const char *s)
{
	if (*s == 0)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' || *s == '\\')
			return 1;
	return 0;
}

static void put_value(struct line *l, const char *s, int json)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), cut = n > VALUE_MAX ? VALUE_MAX : n;
	int quote = json || text_needs_quotes(s);
	if (quote)
		put(l, "\"", 1);
	for (size_t i = 0; i < cut && !l->full;)
		put_escaped_char(l, p, &i, cut, json);
	if (cut < n)
		puts_(l, TRUNC_MARK);
	if (quote)
		put(l, "\"", 1);
}

static void put_timestamp(struct line *l, int json)
{
	struct timespec ts;
	struct tm tm;
	char tmp[48];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tmp + n, sizeof(tmp) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	if (json) {
		puts_(l, "{\"ts\":\"");
		puts_(l, tmp);
		puts_(l, "\"");
	} else {
		puts_(l, tmp);
	}
}

static void put_header(struct line *l, const struct tb_log *log, enum tb_log_level level,
                       const char *msg, int json)
{
	char lv[8];
	put_timestamp(l, json);
	if (json) {
		puts_(l, ",\"level\":\"");
		puts_(l, tb_log_level_name(level));
		puts_(l, "\",\"component\":");
		put_value(l, log->component, 1);
		puts_(l, ",\"msg\":");
		put_value(l, msg ? msg : "", 1);
		return;
	}
	snprintf(lv, sizeof(lv), " %-5s ", tb_log_level_name(level));
	for (char *c = lv; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	puts_(l, lv);
	if (log->component[0]) {
		put_prose(l, log->component);
		puts_(l, ": ");
	}
	put_prose(l, msg ? msg : "");
}

static void put_field(struct line *l, const struct tb_log_field *f, int json)
{
	char num[32];
	const char *key = f->key ? f->key : "field";
	size_t mark = l->len;
	puts_(l, json ? "," : " ");
	put_value(l, key, json);
	puts_(l, json ? ":" : "=");
	if (f->kind == TB_LOG_F_SECRET || key_is_secret(key)) {
		put_value(l, REDACTED, json);
	} else if (f->kind == TB_LOG_F_INT) {
		snprintf(num, sizeof(num), "%lld", f->num);
		puts_(l, num);
	} else if (f->str == NULL) {
		puts_(l, "null");
	} else {
		put_value(l, f->str, json);
	}
	if (l->full)
		l->len = mark; /* drop the partial field, never half a value */
}

void tb_log_emit(const struct tb_log *log, enum tb_log_level level, const char *msg,
                 const struct tb_log_field *fields, size_t n)
{
	struct line l;
	if (!tb_log_enabled(log, level))
		return;
	l.len = 0;
	l.full = 0;
	put_header(&l, log, level, msg, log->json);
	for (size_t i = 0; i < n && !l.full; i++)
		put_field(&l, &fields[i], log->json);
	if (l.full)
		put_tail(&l, log->json ? ",\"truncated\":true" : " " TRUNC_MARK);
	put_tail(&l, log->json ? "}\n" : "\n");
	fwrite(l.buf, 1, l.len, log->out);
	fflush(log->out);
}
