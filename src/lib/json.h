/* JSON trees on yajl. Parsing is bounded (depth, total size, string length) and
 * every error names line and column. Invariants: object keys are unique (a
 * duplicate is a parse error, as I-JSON requires); every node parsed from text
 * carries the 1-based line and column where it starts; strings are valid UTF-8 and
 * may hold NUL bytes, so always use the stored length. */
#ifndef TB_JSON_H
#define TB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"

enum tb_json_type {
	TB_JSON_NULL,
	TB_JSON_BOOL,
	TB_JSON_NUMBER,
	TB_JSON_STRING,
	TB_JSON_ARRAY,
	TB_JSON_OBJECT,
};

struct tb_json;

struct tb_json_member {
	char *key; /* UTF-8, NUL-terminated, may hold NUL: use key_len */
	size_t key_len;
	struct tb_json *value;
};

struct tb_json {
	enum tb_json_type type;
	unsigned line, col; /* where the value starts in its source; 0 when built in memory */
	union {
		int boolean;
		struct {
			double value;
			char *text; /* the number as written in the source, or as generated */
		} number;
		struct {
			char *ptr; /* NUL-terminated */
			size_t len;
		} string;
		struct {
			struct tb_json **items;
			size_t len, cap;
		} array;
		struct {
			struct tb_json_member *members; /* in source (insertion) order */
			size_t len, cap;
			size_t *index; /* hash of keys to position + 1 (0 empty), from 8 members */
			size_t index_cap;
			uint64_t index_key[2]; /* the hash key the index was built with: a tree
			                          built by another copy of this code (a module's)
			                          is still found by this one */
		} object;
	} u;
};

struct tb_json_limits {
	size_t max_bytes;  /* input size; 0 = 16 MiB */
	size_t max_depth;  /* nesting of arrays/objects; 0 = 64 */
	size_t max_string; /* bytes of one string or key after unescaping; 0 = 1 MiB */
	int allow_comments; /* accept C and C++ comments (configuration files) */
};

/* Parse len bytes of text. On error *out is NULL and err says
 * "line L, column C: what was wrong". lim may be NULL for the defaults. */
int tb_json_parse(const char *text, size_t len, const struct tb_json_limits *lim,
                  struct tb_json **out, struct tb_error *err);
void tb_json_free(struct tb_json *j);

/* Look-ups return borrowed pointers into the tree, or NULL. */
struct tb_json *tb_json_get(const struct tb_json *obj, const char *key);
struct tb_json *tb_json_at(const struct tb_json *arr, size_t i);
/* The string's bytes if j is a string, else NULL (borrowed). */
const char *tb_json_string(const struct tb_json *j);
/* Members or items count for objects and arrays, 0 for anything else. */
size_t tb_json_len(const struct tb_json *j);
const char *tb_json_type_name(enum tb_json_type t);

/* Builders: each returns NULL on allocation failure. */
struct tb_json *tb_json_new_null(void);
struct tb_json *tb_json_new_bool(int b);
struct tb_json *tb_json_new_number(double v);
struct tb_json *tb_json_new_string(const char *s, size_t len);
struct tb_json *tb_json_new_array(void);
struct tb_json *tb_json_new_object(void);
struct tb_json *tb_json_clone(const struct tb_json *j);
/* Take ownership of v (freed on failure too). Setting an existing key replaces it. */
int tb_json_array_push(struct tb_json *arr, struct tb_json *v);
int tb_json_object_set(struct tb_json *obj, const char *key, size_t key_len, struct tb_json *v);
/* Remove key; returns 0 or TB_ENOTFOUND. */
int tb_json_object_remove(struct tb_json *obj, const char *key);

/* Writers append to out.
 * canonical: RFC 8785 (JCS): members sorted by UTF-16 code units, ECMAScript
 *            number form, minimal string escapes. Fails on non-finite numbers.
 * stringify: byte-identical to JavaScript's JSON.stringify(value): insertion
 *            order, ECMAScript numbers, "/" not escaped, raw UTF-8, \u00xx lowercase.
 * pretty:    indented for people (insertion order), same escaping as stringify. */
int tb_json_write_canonical(const struct tb_json *j, struct tb_buf *out, struct tb_error *err);
int tb_json_write_stringify(const struct tb_json *j, struct tb_buf *out, struct tb_error *err);
int tb_json_write_pretty(const struct tb_json *j, struct tb_buf *out, struct tb_error *err);
/* ECMAScript Number::toString of a finite double into buf (>= 32 bytes). */
int tb_json_format_number(double v, char *buf, size_t size);
/* Append s as a JSON string literal with JSON.stringify's escaping. */
int tb_json_write_string(struct tb_buf *out, const char *s, size_t len);

#endif
