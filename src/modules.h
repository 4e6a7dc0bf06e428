/* Finding and loading adapter modules (*.so exporting `tradebridge_adapter`).
 * The search path is, first match wins, like PATH: TRADEBRIDGE_ADAPTER_PATH
 * (colon-separated, left to right), then the configuration's "adapter_path", then
 * the compiled-in TB_ADAPTERDIR. A file name in an earlier directory shadows the
 * same file name later. Invariant: at most one loaded module per adapter name —
 * two different files declaring one name are refused, never silently picked. */
#ifndef TB_MODULES_H
#define TB_MODULES_H

#include <stddef.h>

#include "adapter.h"
#include "lib/options.h"
#include "lib/error.h"

#define TB_MODULES_MAX_DIRS 64
#define TB_MODULES_MAX 256      /* modules loaded at once */
#define TB_MODULES_MAX_NOTES 64 /* problems and notes kept for the report */

struct tb_module {
	char *path;                       /* the file as found on the search path */
	void *handle;                     /* from dlopen */
	const struct tb_adapter_ops *ops; /* borrowed from the module */
	size_t dir;                       /* index of its directory in the search path */
};

struct tb_modules {
	char *dirs[TB_MODULES_MAX_DIRS]; /* the search path, in order */
	const char *dir_origin[TB_MODULES_MAX_DIRS]; /* "environment", "configuration", "built-in" */
	size_t ndirs;
	struct tb_module items[TB_MODULES_MAX];
	size_t len;
	char *problems[TB_MODULES_MAX_NOTES]; /* modules refused, each naming the file */
	size_t nproblems;
	char *notes[TB_MODULES_MAX_NOTES]; /* missing directories, shadowed files */
	size_t nnotes;
};

void tb_modules_init(struct tb_modules *m);
/* Unload every module; the ops pointers handed out become invalid. */
void tb_modules_fini(struct tb_modules *m);
/* Build the search path from env (TRADEBRIDGE_ADAPTER_PATH's value, may be NULL),
 * the configuration's list (may be NULL) and the built-in directory (may be NULL). */
int tb_modules_set_path(struct tb_modules *m, const char *env, const struct tb_strlist *conf,
                        const char *builtin, struct tb_error *err);
/* Load every *.so on the search path. Modules that cannot be used are recorded in
 * m->problems and skipped; only running out of memory or limits fails the call. */
int tb_modules_scan(struct tb_modules *m, struct tb_error *err);
/* The usual path (TRADEBRIDGE_ADAPTER_PATH, conf, TB_ADAPTERDIR), then scan it. */
int tb_modules_open(struct tb_modules *m, const struct tb_strlist *conf, struct tb_error *err);
/* Load one file; err names the file and what is wrong with it. */
int tb_modules_load(struct tb_modules *m, const char *path, size_t dir, struct tb_error *err);
/* The module providing adapter name, or NULL (borrowed). */
const struct tb_module *tb_modules_find(const struct tb_modules *m, const char *name);

#endif
