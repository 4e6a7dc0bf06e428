/* The one mapping engine: a mapping file (JSON, docs/mapping.md) turns a native
 * JSON tree into a canonical record's data and, when it declares itself
 * reversible, canonical data back into a native tree. Invariants: no field is
 * mapped in C (adapters only decode their wire format); every error names the
 * mapping file, the rule and the record path; the hashing salt never comes from
 * the mapping file. */
#ifndef TB_MODEL_MAPPING_H
#define TB_MODEL_MAPPING_H

#include <stddef.h>

#include "lib/error.h"
#include "lib/json.h"

struct tb_mapping;

/* What the caller supplies at run time: the pseudonymisation salt (from the
 * configuration or $TRADEBRIDGE_HASH_SALT), never part of the mapping file. */
struct tb_mapping_ctx {
	const char *salt;
	size_t salt_len;
};

#define TB_MAPPING_MAX_RULES 4096
#define TB_MAPPING_MAX_DEPTH 16 /* nesting of "each" */

/* Parse a mapping; name is used in every error (normally the file name). */
int tb_mapping_parse(const char *text, size_t len, const char *name, struct tb_mapping **out,
                     struct tb_error *err);
/* Read and parse a mapping file. */
int tb_mapping_load(const char *path, struct tb_mapping **out, struct tb_error *err);
void tb_mapping_free(struct tb_mapping *m);

/* Accessors (borrowed strings). format is "json" or "xml". */
const char *tb_mapping_id(const struct tb_mapping *m);
const char *tb_mapping_version(const struct tb_mapping *m);
const char *tb_mapping_record_type(const struct tb_mapping *m);
const char *tb_mapping_format(const struct tb_mapping *m);
int tb_mapping_reversible(const struct tb_mapping *m);

/* native -> canonical data ({"<Root>": ...}) into *out. */
int tb_mapping_apply(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                     const struct tb_json *native, struct tb_json **out, struct tb_error *err);
/* native -> a whole canonical record (version 1): data plus envelope with the key
 * the mapping declares, its id and version, and source kind. */
int tb_mapping_to_record(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                         const struct tb_json *native, struct tb_json **out,
                         struct tb_error *err);
/* canonical data -> native tree; only for reversible mappings. */
int tb_mapping_reverse(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                       const struct tb_json *data, struct tb_json **out, struct tb_error *err);

/* A whole canonical record -> native tree: tb_mapping_reverse on its data, then the
 * envelope values the mapping's "envelope" member names (version, key, type, and
 * digest = "0x" + SHA-256 of the record's RFC 8785 form) written at their native
 * paths. What the relay hands a destination's submit as TB_FORM_NATIVE. */
int tb_mapping_reverse_record(const struct tb_mapping *m, const struct tb_mapping_ctx *ctx,
                              const struct tb_json *rec, struct tb_json **out,
                              struct tb_error *err);

#endif
