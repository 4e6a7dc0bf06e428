/* The WCO dictionary, code lists and record-type schemas, loaded from data
 * (mappings/wco/), and validation of a canonical record's data against them.
 * Invariant: the C code knows no element, code or WCO ID; everything it checks
 * comes from the loaded files, and every violation names the JSON path, the
 * element (with its WCO ID when the dictionary has one) and what was expected. */
#ifndef TB_MODEL_DICT_H
#define TB_MODEL_DICT_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"

struct tb_dict;

/* The kind of rule a violation broke; names are stable (validate --json). */
enum tb_violation_kind {
	TB_VIOL_REQUIRED,    /* a required element is missing */
	TB_VIOL_FORMAT,      /* value does not match the element's format (an..35, n..16,3, ...) */
	TB_VIOL_CODELIST,    /* value is not in the element's code list */
	TB_VIOL_UNKNOWN,     /* element not in the dictionary for this record type */
	TB_VIOL_TYPE,        /* wrong JSON type (object, array, string expected) */
	TB_VIOL_CARDINALITY, /* more repeats than the element allows */
	TB_VIOL_ENVELOPE,    /* the record envelope (schema, type, key, version, ...) is wrong */
};

struct tb_violation {
	enum tb_violation_kind kind;
	char *path;     /* JSON path in the record, e.g. $.data.Declaration.FunctionCode */
	char *element;  /* dictionary path, e.g. Declaration.FunctionCode, or NULL */
	char *wco;      /* WCO ID from the dictionary, or NULL */
	char *expected; /* "format an..35", "code list iso3166-1-alpha2", "present", ... */
};

#define TB_VIOLATIONS_MAX 1000

struct tb_violations {
	struct tb_violation *items;
	size_t len, cap;
	int truncated; /* more than TB_VIOLATIONS_MAX were found */
};

/* Load dictionary.json, dictionary-*.json, codelists/ and types/ under dir. */
int tb_dict_load(const char *dir, struct tb_dict **out, struct tb_error *err);
void tb_dict_free(struct tb_dict *d);
/* The directory to load by default: $TRADEBRIDGE_WCO_DIR, else the installed one
 * (borrowed). */
const char *tb_dict_default_dir(void);

/* Nonzero when type names a record type with a schema in the dictionary. */
int tb_dict_has_type(const struct tb_dict *d, const char *type);
/* The root class of a record type with a schema (e.g. "Declaration"), or NULL
 * (borrowed from the dictionary). */
const char *tb_dict_type_root(const struct tb_dict *d, const char *type);
/* Nonzero when path (dotted, no indices) is a dictionary element; *max gets its
 * maximum occurrences (1: single, -1: unbounded). */
int tb_dict_element(const struct tb_dict *d, const char *path, long *max);
/* Nonzero when code is in the named code list (0 also when the list is unknown). */
int tb_dict_code_known(const struct tb_dict *d, const char *list, const char *code);

/* Check data (the record's "data" member) for record type; append violations,
 * with paths under path_prefix (e.g. "$.data"). Returns 0 or TB_ENOMEM. */
int tb_dict_validate_data(const struct tb_dict *d, const char *type, const struct tb_json *data,
                          const char *path_prefix, struct tb_violations *v);

/* Append one violation (copies the strings; NULL allowed for element/wco). */
int tb_violations_add(struct tb_violations *v, enum tb_violation_kind kind, const char *path,
                      const char *element, const char *wco, const char *expected);
void tb_violations_fini(struct tb_violations *v);
/* Stable name of a kind: "required", "format", "codelist", "unknown", "type", ... */
const char *tb_violation_kind_name(enum tb_violation_kind k);

/* Check a value's text against a WCO format (a2, an..35, n..16,3, iso8601, date). */
int tb_dict_format_ok(const char *format, const char *value, size_t len);

#endif
