/* Adapter modules: search path, dlopen, and the checks a module must pass before
 * the relay calls into it (ABI, name, option table fits the declared struct).
 * Invariants: a module file, and the folder it sits in, that someone other than
 * root or this process's user could write is never dlopen'd (loading runs its
 * constructors with the relay's key in reach); a module that fails any check is
 * dlclose'd at once and never appears in the loaded list; the reason, naming its
 * file, goes to m->problems. */
#include "modules.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

#define TB_MODULES_MAX_ENTRIES 4096 /* directory entries looked at per directory */
#define TB_ADAPTER_NAME_MAX 32

void tb_modules_init(struct tb_modules *m)
{
	memset(m, 0, sizeof *m);
}

void tb_modules_fini(struct tb_modules *m)
{
	for (size_t i = 0; i < m->len; i++) {
		dlclose(m->items[i].handle);
		free(m->items[i].path);
	}
	for (size_t i = 0; i < m->ndirs; i++)
		free(m->dirs[i]);
	for (size_t i = 0; i < m->nproblems; i++)
		free(m->problems[i]);
	for (size_t i = 0; i < m->nnotes; i++)
		free(m->notes[i]);
	memset(m, 0, sizeof *m);
}

__attribute__((format(printf, 3, 4))) static void remember(char **list, size_t *n,
                                                           const char *fmt, ...)
{
	char msg[TB_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (*n < TB_MODULES_MAX_NOTES && (list[*n] = strdup(msg)))
		(*n)++;
}

static int add_dir(struct tb_modules *m, const char *dir, size_t len, const char *origin,
                   struct tb_error *err)
{
	if (len == 0)
		return 0; /* "a::b" or a trailing colon: nothing to search */
	if (m->ndirs == TB_MODULES_MAX_DIRS)
		return tb_error_set(err, TB_ELIMIT,
		                    "adapter path: more than %d directories (from the %s)",
		                    TB_MODULES_MAX_DIRS, origin);
	if (!(m->dirs[m->ndirs] = strndup(dir, len)))
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	m->dir_origin[m->ndirs++] = origin;
	return 0;
}

int tb_modules_set_path(struct tb_modules *m, const char *env, const struct tb_strlist *conf,
                        const char *builtin, struct tb_error *err)
{
	int rc = 0;
	for (const char *p = env; !rc && p && *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		rc = add_dir(m, p, len, "environment", err);
		p = colon ? colon + 1 : p + len;
	}
	for (size_t i = 0; !rc && conf && i < conf->len; i++)
		rc = add_dir(m, conf->items[i], strlen(conf->items[i]), "configuration", err);
	if (!rc && builtin)
		rc = add_dir(m, builtin, strlen(builtin), "built-in", err);
	return rc;
}

const struct tb_module *tb_modules_find(const struct tb_modules *m, const char *name)
{
	for (size_t i = 0; i < m->len; i++)
		if (strcmp(m->items[i].ops->name, name) == 0)
			return &m->items[i];
	return NULL;
}

static int valid_name(const char *s)
{
	size_t n = 0;
	if (!s || !(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-' ||
		      s[n] == '_'))
			return 0;
	return n <= TB_ADAPTER_NAME_MAX;
}

/* The checks that make calling into the module safe; err names path. */
static int check_ops(const char *path, const struct tb_adapter_ops *ops, struct tb_error *err)
{
	if (ops->abi != TB_ADAPTER_ABI)
		return tb_error_set(err, TB_EINVAL,
		                    "%s: built for adapter ABI %u, this tradebridge speaks ABI %d: "
		                    "rebuild the adapter against this version's tradebridge-adapter.pc",
		                    path, ops->abi, TB_ADAPTER_ABI);
	if (!valid_name(ops->name))
		return tb_error_set(err, TB_EINVAL,
		                    "%s: adapter name is missing or not 1-%d characters of a-z, 0-9, "
		                    "'-' and '_' starting with a letter",
		                    path, TB_ADAPTER_NAME_MAX);
	if (!ops->open || !ops->close)
		return tb_error_set(err, TB_EINVAL, "%s: adapter %s has no open or close function",
		                    path, ops->name);
	for (const struct tb_option *o = ops->options; o && o->name; o++) {
		size_t sz = tb_option_size(o->type);
		if (!sz || o->offset > ops->conf_size || sz > ops->conf_size - o->offset)
			return tb_error_set(err, TB_EINVAL,
			                    "%s: adapter %s: option %s does not fit its %zu-byte "
			                    "configuration struct",
			                    path, ops->name, o->name, ops->conf_size);
	}
	return 0;
}

/* Who may replace target (the module or its folder, as st describes it): 0, or
 * an error naming the module's path and what to chmod. */
static int check_owner(const char *path, const char *what, const char *target,
                       const struct stat *st, struct tb_error *err)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return tb_error_set(err, TB_ECONFIG, "%s: %s is writable by %s (mode %04o): refused "
		                    "before loading; run chmod go-w %s (a checkout built under a "
		                    "group-writable umask needs it on its .libs folders too)",
		                    path, what, (st->st_mode & S_IWOTH) ? "others" : "its group",
		                    (unsigned)(st->st_mode & 07777), target);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return tb_error_set(err, TB_ECONFIG, "%s: %s is owned by uid %u, neither root nor this "
		                    "process (uid %u): refused before loading", path, what,
		                    (unsigned)st->st_uid, (unsigned)geteuid());
	return 0;
}

/* The module file and its folder may only be changed by root or by us. */
static int check_trusted(const char *path, struct tb_error *err)
{
	int fd;
	struct tb_error ferr;
	if (tb_file_open_regular(path, "adapter module", 0, &fd, &ferr) != 0)
		return tb_error_set(err, TB_EINVAL, "%s: cannot load: %s", path, ferr.msg);
	struct stat st;
	int rc = fstat(fd, &st) == 0 ? check_owner(path, "the module file", path, &st, err)
	                             : tb_error_set(err, TB_EIO, "%s: %s", path, strerror(errno));
	close(fd);
	char folder[4096];
	const char *slash = strrchr(path, '/');
	snprintf(folder, sizeof folder, "%.*s", slash ? (int)(slash - path) : 1,
	         slash ? (slash == path ? "/" : path) : ".");
	if (rc == 0 && stat(folder, &st) != 0)
		rc = tb_error_set(err, TB_EIO, "%s: folder %s: %s", path, folder, strerror(errno));
	if (rc == 0)
		rc = check_owner(path, "the folder it is in", folder, &st, err);
	return rc;
}

int tb_modules_load(struct tb_modules *m, const char *path, size_t dir, struct tb_error *err)
{
	if (m->len == TB_MODULES_MAX)
		return tb_error_set(err, TB_ELIMIT, "%s: more than %d adapter modules", path,
		                    TB_MODULES_MAX);
	int trc = check_trusted(path, err);
	if (trc)
		return trc;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		return tb_error_set(err, TB_EINVAL, "%s: cannot load: %s", path,
		                    why ? why : "unknown dlopen error");
	}
	const struct tb_adapter_ops *ops = dlsym(h, TB_ADAPTER_SYMBOL);
	int rc;
	if (!ops)
		rc = tb_error_set(err, TB_EINVAL, "%s: not an adapter: it does not export %s", path,
		                  TB_ADAPTER_SYMBOL);
	else
		rc = check_ops(path, ops, err);
	const struct tb_module *prev = rc ? NULL : tb_modules_find(m, ops->name);
	if (prev)
		rc = tb_error_set(err, TB_EINVAL,
		                  "%s: adapter \"%s\" is already provided by %s: remove one of "
		                  "the two files or take its directory off the adapter path",
		                  path, ops->name, prev->path);
	char *copy = rc ? NULL : strdup(path);
	if (!rc && !copy)
		rc = tb_error_set(err, TB_ENOMEM, "out of memory");
	if (rc) {
		dlclose(h);
		return rc;
	}
	m->items[m->len++] = (struct tb_module){.path = copy, .handle = h, .ops = ops, .dir = dir};
	return 0;
}

static int is_module_name(const char *n)
{
	size_t len = strlen(n);
	return len > 3 && n[0] != '.' && strcmp(n + len - 3, ".so") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file name already taken by an earlier directory, or NULL. */
static const struct tb_module *shadowing(const struct tb_modules *m, const char *file)
{
	for (size_t i = 0; i < m->len; i++) {
		const char *base = strrchr(m->items[i].path, '/');
		if (strcmp(base ? base + 1 : m->items[i].path, file) == 0)
			return &m->items[i];
	}
	return NULL;
}

static void load_entry(struct tb_modules *m, size_t dir, const char *file)
{
	char path[4096];
	struct tb_error err;
	const struct tb_module *first = shadowing(m, file);
	if (snprintf(path, sizeof path, "%s/%s", m->dirs[dir], file) >= (int)sizeof path) {
		remember(m->problems, &m->nproblems, "%s/%s: path too long", m->dirs[dir], file);
		return;
	}
	if (first && strcmp(first->path, path) == 0)
		return; /* the same directory listed twice */
	if (first) {
		remember(m->notes, &m->nnotes, "%s: shadowed by %s (earlier on the adapter path)",
		         path, first->path);
		return;
	}
	if (tb_modules_load(m, path, dir, &err))
		remember(m->problems, &m->nproblems, "%s", err.msg);
}

static int scan_dir(struct tb_modules *m, size_t dir, struct tb_error *err)
{
	DIR *d = opendir(m->dirs[dir]);
	if (!d) {
		if (strcmp(m->dir_origin[dir], "built-in") != 0 || errno != ENOENT)
			remember(m->notes, &m->nnotes, "%s: adapter directory (from the %s) cannot be "
			         "read: %s", m->dirs[dir], m->dir_origin[dir], strerror(errno));
		return 0;
	}
	char *names[TB_MODULES_MAX];
	size_t n = 0, seen = 0;
	struct dirent *e;
	while ((e = readdir(d)) && seen++ < TB_MODULES_MAX_ENTRIES) {
		if (!is_module_name(e->d_name))
			continue;
		if (n == TB_MODULES_MAX || !(names[n] = strdup(e->d_name))) {
			closedir(d);
			for (size_t i = 0; i < n; i++)
				free(names[i]);
			return tb_error_set(err, n == TB_MODULES_MAX ? TB_ELIMIT : TB_ENOMEM,
			                    "%s: more than %d adapter modules or out of memory",
			                    m->dirs[dir], TB_MODULES_MAX);
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof names[0], by_name); /* the same order on every machine */
	for (size_t i = 0; i < n; i++) {
		load_entry(m, dir, names[i]);
		free(names[i]);
	}
	return 0;
}

int tb_modules_scan(struct tb_modules *m, struct tb_error *err)
{
	for (size_t i = 0; i < m->ndirs; i++) {
		int rc = scan_dir(m, i, err);
		if (rc)
			return rc;
	}
	return 0;
}

int tb_modules_open(struct tb_modules *m, const struct tb_strlist *conf, struct tb_error *err)
{
	int rc = tb_modules_set_path(m, getenv("TRADEBRIDGE_ADAPTER_PATH"), conf, TB_ADAPTERDIR,
	                             err);
	return rc ? rc : tb_modules_scan(m, err);
}
