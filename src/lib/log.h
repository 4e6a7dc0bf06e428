/* Structured logging: a struct tb_log is passed as context (never a global) and
 * writes one line per event, human text on a terminal and JSON lines otherwise.
 * Invariant: a field marked secret, or whose key names key material (contains
 * "secret", "passw", "private", "seckey", "mnemonic", "bearer", "apikey" or
 * "api_key", any case), is never printed: "[redacted]" is written instead. */
#ifndef TB_LOG_H
#define TB_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "lib/error.h"

enum tb_log_level { TB_LOG_ERROR, TB_LOG_WARN, TB_LOG_INFO, TB_LOG_DEBUG };
enum tb_log_format { TB_LOG_AUTO, TB_LOG_TEXT, TB_LOG_JSON };

#define TB_LOG_COMPONENT_MAX 32
/* One log line never exceeds this; longer values are cut with "...[truncated]". */
#define TB_LOG_LINE_MAX 8192

struct tb_log {
	FILE *out;
	enum tb_log_level level; /* events above this level are dropped */
	int json;                /* resolved from TB_LOG_AUTO at init */
	char component[TB_LOG_COMPONENT_MAX];
};

enum tb_log_field_kind { TB_LOG_F_STR, TB_LOG_F_INT, TB_LOG_F_SECRET };

struct tb_log_field {
	const char *key;
	enum tb_log_field_kind kind;
	const char *str; /* TB_LOG_F_STR (NULL prints as null); never read for secrets */
	long long num;   /* TB_LOG_F_INT */
};

#define TB_LF_STR(k, v) ((struct tb_log_field){.key = (k), .kind = TB_LOG_F_STR, .str = (v)})
#define TB_LF_INT(k, v) ((struct tb_log_field){.key = (k), .kind = TB_LOG_F_INT, .num = (v)})
/* The value is accepted only so call sites read naturally; it is never printed. */
#define TB_LF_SECRET(k, v) \
	((struct tb_log_field){.key = (k), .kind = TB_LOG_F_SECRET, .str = ((void)(v), NULL)})
/* Expands to "array, count" for tb_log_emit's last two parameters. */
#define TB_LOG_FIELDS(...)                                  \
	(const struct tb_log_field[]){__VA_ARGS__},         \
		sizeof((const struct tb_log_field[]){__VA_ARGS__}) / sizeof(struct tb_log_field)

/* Set up log on caller memory; out NULL = stderr; component is cut to 31 bytes. */
void tb_log_init(struct tb_log *log, FILE *out, const char *component, enum tb_log_level level,
                 enum tb_log_format format);
/* A logger for a sub-component sharing parent's output, level and format. */
void tb_log_child(struct tb_log *child, const struct tb_log *parent, const char *component);
/* Whether an event at level would be written (log NULL: never). */
int tb_log_enabled(const struct tb_log *log, enum tb_log_level level);
/* Write one event with n fields; log NULL is a no-op. */
void tb_log_emit(const struct tb_log *log, enum tb_log_level level, const char *msg,
                 const struct tb_log_field *fields, size_t n);
/* "error", "warn", "info", "debug". */
const char *tb_log_level_name(enum tb_log_level level);
/* Parse a level name (as printed by tb_log_level_name, any case). */
int tb_log_level_parse(const char *s, enum tb_log_level *out, struct tb_error *err);

#define tb_log_error(log, msg) tb_log_emit((log), TB_LOG_ERROR, (msg), NULL, 0)
#define tb_log_warn(log, msg) tb_log_emit((log), TB_LOG_WARN, (msg), NULL, 0)
#define tb_log_info(log, msg) tb_log_emit((log), TB_LOG_INFO, (msg), NULL, 0)
#define tb_log_debug(log, msg) tb_log_emit((log), TB_LOG_DEBUG, (msg), NULL, 0)

#endif
