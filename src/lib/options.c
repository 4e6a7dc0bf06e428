/* Options as data: one loader for every module's option table (see options.h).
 * A value is taken from, in order, the table's default, the configuration
 * object, then the environment; each later source replaces the earlier one.
 * On any error the caller's struct is released again, so nobody sees half a
 * configuration. Invariant: no message built here contains a SECRET's value. */
#include "lib/file.h"
#include "lib/options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TB_CONFIG_MAX_BYTES ((size_t)1 << 20) /* a configuration file */
#define TB_OPT_LIST_MAX 1024                   /* items in one STRLIST */
#define TB_OPT_ENV_MAX 256                     /* length of an env var name */

enum origin { FROM_DEFAULT, FROM_FILE, FROM_ENV };

/* Where one value came from, for messages. */
struct where {
	const struct tb_opt_source *src;
	const struct tb_option *opt;
	enum origin origin;
	const struct tb_json *node; /* FROM_FILE: the value, for its line */
	const char *env;            /* FROM_ENV: the variable's name */
};

const char *tb_opt_type_name(enum tb_opt_type t)
{
	switch (t) {
	case TB_OPT_STRING: return "string";
	case TB_OPT_SECRET: return "secret";
	case TB_OPT_INT: return "int";
	case TB_OPT_BOOL: return "bool";
	case TB_OPT_DURATION: return "duration";
	case TB_OPT_STRLIST: return "string list";
	case TB_OPT_JSON: return "json";
	}
	return "unknown";
}

static const char *scope_of(const struct tb_opt_source *src)
{
	return src && src->scope && *src->scope ? src->scope : NULL;
}

static const char *file_of(const struct tb_opt_source *src)
{
	return src && src->file && *src->file ? src->file : "(configuration)";
}

/* "file:line: scope.name: what" (or "environment NAME: ..." / "default of ..."). */
__attribute__((format(printf, 3, 4))) static int fail(const struct where *w,
                                                       struct tb_error *err, const char *fmt, ...)
{
	char what[TB_ERROR_MAX], loc[TB_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (w->origin == FROM_ENV)
		snprintf(loc, sizeof loc, "environment %s", w->env);
	else if (w->origin == FROM_DEFAULT)
		snprintf(loc, sizeof loc, "built-in default");
	else if (w->node && w->node->line)
		snprintf(loc, sizeof loc, "%s:%u", file_of(w->src), w->node->line);
	else
		snprintf(loc, sizeof loc, "%s", file_of(w->src));
	const char *scope = scope_of(w->src);
	return tb_error_set(err, TB_ECONFIG, "%s: %s%s%s: %s", loc, scope ? scope : "",
	                    scope ? "." : "", w->opt->name, what);
}

static void *slot(const struct tb_option *o, void *dest)
{
	return (char *)dest + o->offset;
}

static void free_value(const struct tb_option *o, void *dest)
{
	void *p = slot(o, dest);
	switch (o->type) {
	case TB_OPT_STRING:
	case TB_OPT_SECRET: {
		char **s = p;
		if (*s && o->type == TB_OPT_SECRET)
			memset(*s, 0, strlen(*s));
		free(*s);
		*s = NULL;
		break;
	}
	case TB_OPT_STRLIST: {
		struct tb_strlist *l = p;
		for (size_t i = 0; i < l->len; i++)
			free(l->items[i]);
		free(l->items);
		l->items = NULL;
		l->len = 0;
		break;
	}
	case TB_OPT_JSON: {
		struct tb_json **j = p;
		tb_json_free(*j);
		*j = NULL;
		break;
	}
	case TB_OPT_INT:
	case TB_OPT_DURATION: *(long long *)p = 0; break;
	case TB_OPT_BOOL: *(int *)p = 0; break;
	}
}

size_t tb_option_size(enum tb_opt_type type)
{
	switch (type) {
	case TB_OPT_STRING:
	case TB_OPT_SECRET: return sizeof(char *);
	case TB_OPT_INT:
	case TB_OPT_DURATION: return sizeof(long long);
	case TB_OPT_BOOL: return sizeof(int);
	case TB_OPT_STRLIST: return sizeof(struct tb_strlist);
	case TB_OPT_JSON: return sizeof(struct tb_json *);
	}
	return 0;
}

static void clear_slot(const struct tb_option *o, void *dest)
{
	memset(slot(o, dest), 0, tb_option_size(o->type));
}

void tb_options_fini(const struct tb_option *table, void *dest)
{
	if (!table || !dest)
		return;
	for (const struct tb_option *o = table; o->name; o++)
		free_value(o, dest);
}

static const char *got(const struct tb_json *v)
{
	return tb_json_type_name(v->type);
}

static int check_bounds(const struct where *w, long long v, struct tb_error *err)
{
	const struct tb_option *o = w->opt;
	if (o->min < o->max && (v < o->min || v > o->max))
		return fail(w, err, "%lld is out of range: expected %lld to %lld%s", v, o->min,
		            o->max, o->type == TB_OPT_DURATION ? " ms" : "");
	return 0;
}

/* An integral JSON number, exactly, as written in the source. */
static int json_integer(const struct where *w, const struct tb_json *v, long long *out,
                        struct tb_error *err)
{
	if (v->type != TB_JSON_NUMBER)
		return fail(w, err, "expected an integer, got %s", got(v));
	const char *t = v->u.number.text;
	if (t && !strpbrk(t, ".eE")) {
		char *end;
		errno = 0;
		long long n = strtoll(t, &end, 10);
		if (errno == ERANGE || *end)
			return fail(w, err, "integer %s does not fit in 64 bits", t);
		*out = n;
		return 0;
	}
	double d = v->u.number.value;
	if (!isfinite(d) || d != floor(d) || d < -9.2e18 || d > 9.2e18)
		return fail(w, err, "expected an integer, got %s", t ? t : "a fraction");
	*out = (long long)d;
	return 0;
}

/* "250ms", "30s", "5m", "1h": a non-negative count and a unit, in milliseconds. */
static int parse_duration(const struct where *w, const char *s, long long *out,
                          struct tb_error *err)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = s;
	long long n = 0;
	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (LLONG_MAX - 9) / 10)
			return fail(w, err, "duration is too large");
		n = n * 10 + (*p - '0');
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (n > LLONG_MAX / units[i].ms)
				return fail(w, err, "duration is too large");
			*out = n * units[i].ms;
			return 0;
		}
	}
bad:
	if (w->opt->type == TB_OPT_SECRET)
		return fail(w, err, "expected a duration");
	return fail(w, err, "\"%.40s\" is not a duration: expected a number of ms or "
	                    "a count with a unit, like \"250ms\", \"30s\", \"5m\", \"1h\"", s);
}

static int dup_string(const struct where *w, const struct tb_json *v, char **out,
                      struct tb_error *err)
{
	if (v->type != TB_JSON_STRING)
		return fail(w, err, "expected a string, got %s", got(v));
	if (strlen(v->u.string.ptr) != v->u.string.len)
		return fail(w, err, "the string holds a NUL byte");
	*out = strdup(v->u.string.ptr);
	return *out ? 0 : tb_error_set(err, TB_ENOMEM, "out of memory");
}

static int set_strlist(const struct where *w, const struct tb_json *v, struct tb_strlist *l,
                       struct tb_error *err)
{
	if (v->type != TB_JSON_ARRAY)
		return fail(w, err, "expected an array of strings, got %s", got(v));
	size_t n = tb_json_len(v);
	if (n > TB_OPT_LIST_MAX)
		return fail(w, err, "%zu items is more than the limit of %d", n, TB_OPT_LIST_MAX);
	l->items = calloc(n ? n : 1, sizeof *l->items);
	if (!l->items)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct tb_json *it = tb_json_at(v, i);
		struct where wi = *w;
		if (wi.origin == FROM_FILE)
			wi.node = it;
		int rc = dup_string(&wi, it, &l->items[i], err);
		if (rc) {
			tb_error_prefix(err, "item %zu", i);
			return rc;
		}
		l->len++;
	}
	return 0;
}

/* Replace the option's value in dest with v, converted and checked. */
static int set_value(const struct where *w, const struct tb_json *v, void *dest,
                     struct tb_error *err)
{
	const struct tb_option *o = w->opt;
	void *p = slot(o, dest);
	long long n = 0;
	int rc = 0;
	free_value(o, dest);
	switch (o->type) {
	case TB_OPT_STRING:
	case TB_OPT_SECRET: return dup_string(w, v, p, err);
	case TB_OPT_BOOL:
		if (v->type != TB_JSON_BOOL)
			return fail(w, err, "expected true or false, got %s", got(v));
		*(int *)p = v->u.boolean;
		return 0;
	case TB_OPT_INT:
		if ((rc = json_integer(w, v, &n, err)) || (rc = check_bounds(w, n, err)))
			return rc;
		*(long long *)p = n;
		return 0;
	case TB_OPT_DURATION:
		if (v->type == TB_JSON_STRING)
			rc = parse_duration(w, v->u.string.ptr, &n, err);
		else if (v->type == TB_JSON_NUMBER)
			rc = json_integer(w, v, &n, err);
		else
			return fail(w, err, "expected a duration (\"30s\") or a number of ms, got %s",
			            got(v));
		if (!rc && n < 0)
			rc = fail(w, err, "a duration cannot be negative");
		if (rc || (rc = check_bounds(w, n, err)))
			return rc;
		*(long long *)p = n;
		return 0;
	case TB_OPT_STRLIST: return set_strlist(w, v, p, err);
	case TB_OPT_JSON:
		*(struct tb_json **)p = tb_json_clone(v);
		return *(struct tb_json **)p ? 0 : tb_error_set(err, TB_ENOMEM, "out of memory");
	}
	return fail(w, err, "the option's type is unknown to this build");
}

/* Levenshtein distance, bounded to short names; larger means "not close". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return SIZE_MAX;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (tolower((unsigned char)a[i - 1]) !=
			                     tolower((unsigned char)b[j - 1]));
			size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[lb];
}

static const struct tb_option *closest(const struct tb_option *table, const char *key)
{
	const struct tb_option *best = NULL;
	size_t bestd = SIZE_MAX, len = strlen(key);
	for (const struct tb_option *o = table; o->name; o++) {
		size_t d = distance(key, o->name);
		if (d < bestd) {
			bestd = d;
			best = o;
		}
	}
	size_t allowed = len / 3 > 2 ? len / 3 : 2;
	return bestd <= allowed ? best : NULL;
}

static const struct tb_option *find_option(const struct tb_option *table, const char *key)
{
	for (const struct tb_option *o = table; o->name; o++)
		if (strcmp(o->name, key) == 0)
			return o;
	return NULL;
}

static int ignored(const char *const *ignore, const char *key)
{
	for (; ignore && *ignore; ignore++)
		if (strcmp(*ignore, key) == 0)
			return 1;
	return 0;
}

static int unknown_key(const struct tb_option *table, const struct tb_opt_source *src,
                       const struct tb_json_member *m, struct tb_error *err)
{
	struct tb_option fake = {.name = m->key};
	struct where w = {.src = src, .opt = &fake, .origin = FROM_FILE, .node = m->value};
	const struct tb_option *near = closest(table, m->key);
	if (near)
		return fail(&w, err, "unknown option; did you mean \"%s\"?", near->name);
	char known[256] = "";
	size_t used = 0;
	for (const struct tb_option *o = table; o->name && used < sizeof known; o++)
		used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
		                         used ? ", " : "", o->name);
	return fail(&w, err, "unknown option (known options: %s)", used ? known : "none");
}

static int check_keys(const struct tb_option *table, const struct tb_json *obj,
                      const struct tb_opt_source *src, const char *const *ignore,
                      struct tb_error *err)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const struct tb_json_member *m = &obj->u.object.members[i];
		if (strlen(m->key) != m->key_len || ignored(ignore, m->key))
			continue;
		if (!find_option(table, m->key))
			return unknown_key(table, src, m, err);
	}
	return 0;
}

/* "TRADEBRIDGE_PE_CADENA_" + "rpc-token" -> "TRADEBRIDGE_PE_CADENA_RPC_TOKEN". */
static void env_name(const char *prefix, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s%s", prefix, name);
	for (char *p = out + strlen(prefix); *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
}

static int from_env(const struct where *w, const char *text, void *dest, struct tb_error *err)
{
	struct tb_json *v = NULL;
	enum tb_opt_type t = w->opt->type;
	if (t == TB_OPT_STRING || t == TB_OPT_SECRET ||
	    (t == TB_OPT_DURATION && !isdigit((unsigned char)text[strlen(text) ? strlen(text) - 1 : 0])))
		v = tb_json_new_string(text, strlen(text));
	else {
		struct tb_error perr;
		if (tb_json_parse(text, strlen(text), NULL, &v, &perr))
			return fail(w, err, "expected a %s written as JSON (%s)",
			            tb_opt_type_name(t), perr.msg);
	}
	if (!v)
		return tb_error_set(err, TB_ENOMEM, "out of memory");
	int rc = set_value(w, v, dest, err);
	tb_json_free(v);
	return rc;
}

static int from_default(const struct where *w, void *dest, struct tb_error *err)
{
	struct tb_json *v = NULL;
	struct tb_error perr;
	if (tb_json_parse(w->opt->def, strlen(w->opt->def), NULL, &v, &perr))
		return fail(w, err, "the module's default is not valid JSON (%s)", perr.msg);
	int rc = set_value(w, v, dest, err);
	tb_json_free(v);
	return rc;
}

static int load_one(const struct tb_option *o, const struct tb_json *obj,
                    const struct tb_opt_source *src, void *dest, struct tb_error *err)
{
	struct where w = {.src = src, .opt = o, .origin = FROM_DEFAULT};
	int have = 0, rc;
	if (o->def && !(o->flags & TB_OPT_REQUIRED)) {
		if ((rc = from_default(&w, dest, err)))
			return rc;
		have = 1;
	}
	const struct tb_json *v = obj ? tb_json_get(obj, o->name) : NULL;
	if (v) {
		w.origin = FROM_FILE;
		w.node = v;
		if ((rc = set_value(&w, v, dest, err)))
			return rc;
		have = 1;
	}
	char env[TB_OPT_ENV_MAX];
	const char *prefix = src ? src->env_prefix : NULL;
	const char *text = NULL;
	if (prefix) {
		env_name(prefix, o->name, env, sizeof env);
		text = getenv(env);
	}
	if (text) {
		w.origin = FROM_ENV;
		w.env = env;
		if ((rc = from_env(&w, text, dest, err)))
			return rc;
		have = 1;
	}
	if (!have && (o->flags & TB_OPT_REQUIRED)) {
		w.origin = FROM_FILE;
		w.node = obj;
		return fail(&w, err, "required option is missing: expected a %s (%s)%s%s",
		            tb_opt_type_name(o->type), o->desc ? o->desc : "no description",
		            prefix ? "; or set " : "", prefix ? env : "");
	}
	return 0;
}

int tb_options_load(const struct tb_option *table, const struct tb_json *obj,
                    const struct tb_opt_source *src, const char *const *ignore, void *dest,
                    struct tb_error *err)
{
	if (obj && obj->type != TB_JSON_OBJECT) {
		const char *scope = scope_of(src);
		if (obj->line)
			return tb_error_set(err, TB_ECONFIG, "%s:%u: %s: expected an object, got %s",
			                    file_of(src), obj->line, scope ? scope : "options", got(obj));
		return tb_error_set(err, TB_ECONFIG, "%s: %s: expected an object, got %s",
		                    file_of(src), scope ? scope : "options", got(obj));
	}
	for (const struct tb_option *o = table; o->name; o++)
		clear_slot(o, dest); /* dest may be uninitialised: never free what is there */
	int rc = obj ? check_keys(table, obj, src, ignore, err) : 0;
	for (const struct tb_option *o = table; !rc && o->name; o++)
		rc = load_one(o, obj, src, dest, err);
	if (rc)
		tb_options_fini(table, dest);
	return rc;
}

/* The default as shown to people: JSON text, never a secret's. */
static const char *default_text(const struct tb_option *o)
{
	if (o->flags & TB_OPT_REQUIRED)
		return "-";
	if (!o->def)
		return "(none)";
	return o->type == TB_OPT_SECRET ? "(hidden)" : o->def;
}

static void type_text(const struct tb_option *o, char *out, size_t size)
{
	if (o->min < o->max)
		snprintf(out, size, "%s %lld..%lld%s", tb_opt_type_name(o->type), o->min, o->max,
		         o->type == TB_OPT_DURATION ? "ms" : "");
	else
		snprintf(out, size, "%s", tb_opt_type_name(o->type));
}

int tb_options_describe(const struct tb_option *table, struct tb_buf *out)
{
	int wn = 4, wt = 4, wd = 7;
	char type[96];
	for (const struct tb_option *o = table; o->name; o++) {
		type_text(o, type, sizeof type);
		int ln = (int)strlen(o->name), lt = (int)strlen(type);
		int ld = (int)strlen(default_text(o));
		wn = ln > wn ? ln : wn;
		wt = lt > wt ? lt : wt;
		wd = ld > wd ? (ld > 40 ? 40 : ld) : wd;
	}
	int rc = tb_buf_printf(out, "%-*s  %-*s  %-*s  %-8s  %s\n", wn, "NAME", wt, "TYPE", wd,
	                       "DEFAULT", "REQUIRED", "DESCRIPTION");
	for (const struct tb_option *o = table; !rc && o->name; o++) {
		type_text(o, type, sizeof type);
		rc = tb_buf_printf(out, "%-*s  %-*s  %-*.40s  %-8s  %s\n", wn, o->name, wt, type, wd,
		                   default_text(o), (o->flags & TB_OPT_REQUIRED) ? "yes" : "no",
		                   o->desc ? o->desc : "");
	}
	return rc;
}

static int set_field(struct tb_json *obj, const char *key, struct tb_json *v)
{
	return v ? tb_json_object_set(obj, key, strlen(key), v) : TB_ENOMEM;
}

static struct tb_json *describe_one(const struct tb_option *o)
{
	struct tb_json *d = tb_json_new_object(), *def = NULL;
	if (!d)
		return NULL;
	struct tb_error err;
	int rc = set_field(d, "name", tb_json_new_string(o->name, strlen(o->name)));
	const char *tn = tb_opt_type_name(o->type);
	rc = rc ? rc : set_field(d, "type", tb_json_new_string(tn, strlen(tn)));
	if (o->def && o->type != TB_OPT_SECRET && !(o->flags & TB_OPT_REQUIRED) &&
	    tb_json_parse(o->def, strlen(o->def), NULL, &def, &err) == 0)
		rc = rc ? (tb_json_free(def), rc) : set_field(d, "default", def);
	else
		rc = rc ? rc : set_field(d, "default", tb_json_new_null());
	rc = rc ? rc : set_field(d, "required", tb_json_new_bool(!!(o->flags & TB_OPT_REQUIRED)));
	if (o->min < o->max) {
		rc = rc ? rc : set_field(d, "min", tb_json_new_number((double)o->min));
		rc = rc ? rc : set_field(d, "max", tb_json_new_number((double)o->max));
	}
	const char *desc = o->desc ? o->desc : "";
	rc = rc ? rc : set_field(d, "description", tb_json_new_string(desc, strlen(desc)));
	if (rc) {
		tb_json_free(d);
		return NULL;
	}
	return d;
}

struct tb_json *tb_options_describe_json(const struct tb_option *table)
{
	struct tb_json *arr = tb_json_new_array();
	for (const struct tb_option *o = table; arr && o->name; o++) {
		struct tb_json *d = describe_one(o);
		if (!d || tb_json_array_push(arr, d)) {
			tb_json_free(arr);
			return NULL;
		}
	}
	return arr;
}

int tb_config_read(const char *path, struct tb_json **out, struct tb_error *err)
{
	struct tb_buf b;
	struct tb_json_limits lim = {.max_bytes = TB_CONFIG_MAX_BYTES, .allow_comments = 1};
	*out = NULL;
	tb_buf_init(&b, TB_CONFIG_MAX_BYTES);
	int rc = tb_file_read(&b, path, "configuration", err);
	if (rc == 0) {
		rc = tb_json_parse(b.data ? (const char *)b.data : "", b.len, &lim, out, err);
		if (rc)
			tb_error_prefix(err, "%s", path);
	}
	tb_buf_fini(&b);
	return rc;
}
