/* The canonical record: envelope {schema, type, key, version, supersedes, links,
 * source, mapping, data} around WCO-aligned data. Invariant: a record's id is the
 * SHA-256 of its RFC 8785 (JCS) form, so every party computes the same id from
 * the same content; versions of one key form a history (version n > 1 names the
 * id of the version it supersedes) and nothing is overwritten. */
#ifndef TB_MODEL_RECORD_H
#define TB_MODEL_RECORD_H

#include "lib/error.h"
#include "lib/json.h"
#include "model/dict.h"

#define TB_RECORD_SCHEMA "tradebridge/1"
#define TB_RECORD_KEY_MAX 255 /* fits the store's key[256] with its NUL: never truncated */

/* Lower-case hex SHA-256 of the record's RFC 8785 form into hex[65]. */
int tb_record_id(const struct tb_json *record, char hex[65], struct tb_error *err);

/* Check the envelope and, through the dictionary, the data; append every violation
 * to v. Returns 0 (inspect v->len) or TB_ENOMEM. */
int tb_record_validate(const struct tb_dict *d, const struct tb_json *record,
                       struct tb_violations *v);

/* A new record envelope (version 1) around data (ownership taken, freed on error). */
struct tb_json *tb_record_new(const char *type, const char *key, const char *mapping_id,
                              const char *mapping_version, const char *source_kind,
                              struct tb_json *data);

#endif
