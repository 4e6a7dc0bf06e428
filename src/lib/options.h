/* Options as data (the Fluent Bit config_map idea): a module declares a table of
 * struct tb_option; one loader here applies defaults, type-checks, rejects unknown
 * names, takes secrets from the environment and writes values at each option's
 * offset in the module's own struct. Every error names file, line and option.
 * Invariant: a SECRET value is never printed, by describe or by any error. */
#ifndef TB_OPTIONS_H
#define TB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/json.h"

enum tb_opt_type {
	TB_OPT_STRING,   /* char *            (malloc'd, freed by tb_options_fini) */
	TB_OPT_SECRET,   /* char *            same, but never printed */
	TB_OPT_INT,      /* long long         JSON integer */
	TB_OPT_BOOL,     /* int               true/false */
	TB_OPT_DURATION, /* long long, in ms  "250ms", "30s", "5m", "1h" or a number of ms */
	TB_OPT_STRLIST,  /* struct tb_strlist array of strings */
	TB_OPT_JSON,     /* struct tb_json *  any JSON value, cloned */
};

#define TB_OPT_REQUIRED 0x1 /* no default: the configuration must give it */

struct tb_option {
	enum tb_opt_type type;
	const char *name;
	const char *def; /* default written as JSON text ("8545", "\"latest\"", "[]"), or NULL */
	unsigned flags;
	size_t offset;   /* where the value goes in the module's struct */
	const char *desc; /* one line, for --describe and docs */
	long long min, max; /* bounds for INT and DURATION when min < max */
};
#define TB_OPT_END { 0, NULL, NULL, 0, 0, NULL, 0, 0 }

struct tb_strlist {
	char **items;
	size_t len;
};

/* Where the options come from, for messages: "relay.json:12: networks.pe-cadena.rpc: ..." */
struct tb_opt_source {
	const char *file;  /* file name as the user wrote it */
	const char *scope; /* "networks.pe-cadena" */
	const char *env_prefix; /* "TRADEBRIDGE_PE_CADENA_": env NAME overrides option "name" */
};

/* Fill dest from obj (a JSON object, may be NULL for all-defaults). Keys listed in
 * ignore (NULL-terminated, may be NULL) are skipped, e.g. "adapter". */
int tb_options_load(const struct tb_option *table, const struct tb_json *obj,
                    const struct tb_opt_source *src, const char *const *ignore, void *dest,
                    struct tb_error *err);
/* The bytes an option of this type fills in the options struct; 0: no such type. */
size_t tb_option_size(enum tb_opt_type type);
/* Release what tb_options_load allocated in dest. */
void tb_options_fini(const struct tb_option *table, void *dest);
/* Human-readable table: name, type, default, required, description. */
int tb_options_describe(const struct tb_option *table, struct tb_buf *out);
/* The same as a JSON array, for --json. */
struct tb_json *tb_options_describe_json(const struct tb_option *table);
const char *tb_opt_type_name(enum tb_opt_type t);

/* Read a configuration file: JSON with comments, bounded; errors name file:line:col. */
int tb_config_read(const char *path, struct tb_json **out, struct tb_error *err);

#endif
