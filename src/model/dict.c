/* WCO dictionary, code lists and record-type schemas as loaded data, and the
 * validation walk over a record's data. Invariant: elements are found by their
 * dictionary path (array indices removed) through a sorted index, so validation
 * costs O(n log m) and never depends on file order. */
#include <config.h>

#include <dirent.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "model/dict.h"

#ifndef TB_WCODIR
#define TB_WCODIR "/usr/local/share/tradebridge/wco"
#endif

#define DICT_MAX_FILE ((size_t)32 << 20)
#define DICT_MAX_FILES 256

struct elem {
	const char *path, *wco, *kind, *format, *codelist;
	long min, max;
	int required; /* from a record type's "required" list */
	size_t *children, nchildren;
};

struct codelist {
	const char *name;
	const char **codes; /* sorted */
	size_t len;
};

struct rtype {
	const char *name, *root;
};

struct tb_dict {
	struct tb_json **docs; /* every loaded file; the strings above point into them */
	size_t ndocs;
	struct elem *elems; /* sorted by path */
	size_t nelems;
	struct codelist *lists;
	size_t nlists;
	struct rtype *types;
	size_t ntypes;
};

/* $TRADEBRIDGE_WCO_DIR, else the installed dictionary, else (a binary run from
 * its build tree, not installed) the source tree's mappings/wco. */
const char *tb_dict_default_dir(void)
{
	const char *e = getenv("TRADEBRIDGE_WCO_DIR");
	if (e && *e)
		return e;
#ifdef TB_SRC_WCODIR
	struct stat st;
	if (stat(TB_WCODIR, &st) != 0 && stat(TB_SRC_WCODIR, &st) == 0)
		return TB_SRC_WCODIR;
#endif
	return TB_WCODIR;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmpelem(const void *a, const void *b)
{
	return strcmp(((const struct elem *)a)->path, ((const struct elem *)b)->path);
}

static struct elem *find_elem(const struct tb_dict *d, const char *path)
{
	struct elem key = {.path = path};
	return bsearch(&key, d->elems, d->nelems, sizeof key, cmpelem);
}

static const char *str_member(const struct tb_json *o, const char *k)
{
	return tb_json_string(tb_json_get(o, k));
}

static long num_member(const struct tb_json *o, const char *k, long dflt)
{
	const struct tb_json *n = tb_json_get(o, k);
	if (!n || n->type != TB_JSON_NUMBER || !(n->u.number.value >= -1 && n->u.number.value <= 1e9))
		return dflt;
	return (long)n->u.number.value;
}

static int load_file(struct tb_dict *d, const char *path, struct tb_json **out,
                     struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, DICT_MAX_FILE);
	int rc = tb_file_read(&b, path, "dictionary file", err);
	if (!rc && (rc = tb_json_parse(b.data ? (const char *)b.data : "", b.len, NULL, out, err)))
		tb_error_prefix(err, "%s", path);
	tb_buf_fini(&b);
	if (rc)
		return rc;
	struct tb_json **nd = realloc(d->docs, (d->ndocs + 1) * sizeof *nd);
	if (!nd) {
		tb_json_free(*out);
		return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	}
	d->docs = nd;
	d->docs[d->ndocs++] = *out;
	return 0;
}

static int add_elements(struct tb_dict *d, const struct tb_json *doc, const char *file,
                        struct tb_error *err)
{
	const struct tb_json *arr = tb_json_get(doc, "elements");
	size_t n = tb_json_len(arr);
	if (!arr || arr->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "%s: no \"elements\" array", file);
	struct elem *ne = realloc(d->elems, (d->nelems + n) * sizeof *ne);
	if (!ne)
		return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	d->elems = ne;
	for (size_t i = 0; i < n; i++) {
		const struct tb_json *e = tb_json_at(arr, i);
		struct elem *x = &d->elems[d->nelems];
		memset(x, 0, sizeof *x);
		x->path = str_member(e, "path");
		x->kind = str_member(e, "kind");
		if (!x->path || !x->kind)
			return tb_error_set(err, TB_EINVAL, "%s: element %zu: needs \"path\" and \"kind\"",
			                    file, i);
		x->wco = str_member(e, "wco");
		x->format = str_member(e, "format");
		x->codelist = str_member(e, "codelist");
		x->min = num_member(e, "min", 0);
		x->max = num_member(e, "max", 1);
		d->nelems++;
	}
	return 0;
}

/* Entries may say "same_as": another path, to take its WCO ID, format and code list
 * (used by hand-written record types that reuse a WCO DM element). */
static int resolve_same_as(struct tb_dict *d, struct tb_error *err)
{
	for (size_t k = 0; k < d->ndocs; k++) {
		const struct tb_json *arr = tb_json_get(d->docs[k], "elements");
		for (size_t i = 0; i < tb_json_len(arr); i++) {
			const struct tb_json *e = tb_json_at(arr, i);
			const char *same = str_member(e, "same_as");
			if (!same)
				continue;
			struct elem *to = find_elem(d, str_member(e, "path"));
			const struct elem *from = find_elem(d, same);
			if (!from)
				return tb_error_set(err, TB_EINVAL,
				                    "dictionary: %s: same_as \"%s\" is not an element",
				                    to->path, same);
			to->wco = to->wco ? to->wco : from->wco;
			to->format = to->format ? to->format : from->format;
			to->codelist = to->codelist ? to->codelist : from->codelist;
		}
	}
	return 0;
}

static int link_children(struct tb_dict *d, struct tb_error *err)
{
	qsort(d->elems, d->nelems, sizeof *d->elems, cmpelem);
	for (size_t i = 0; i < d->nelems; i++) {
		struct elem *e = &d->elems[i];
		if (i && strcmp(e->path, d->elems[i - 1].path) == 0)
			return tb_error_set(err, TB_EINVAL, "dictionary: element %s defined twice", e->path);
		const char *dot = strrchr(e->path, '.');
		if (!dot)
			continue;
		char parent[512];
		if ((size_t)(dot - e->path) >= sizeof parent)
			return tb_error_set(err, TB_ELIMIT, "dictionary: path too long: %.60s...", e->path);
		memcpy(parent, e->path, (size_t)(dot - e->path));
		parent[dot - e->path] = 0;
		struct elem *p = find_elem(d, parent);
		if (!p)
			return tb_error_set(err, TB_EINVAL, "dictionary: %s has no parent element %s",
			                    e->path, parent);
		size_t *nc = realloc(p->children, (p->nchildren + 1) * sizeof *nc);
		if (!nc)
			return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
		p->children = nc;
		p->children[p->nchildren++] = i;
	}
	return 0;
}

static int add_codelist(struct tb_dict *d, const struct tb_json *doc, const char *file,
                        struct tb_error *err)
{
	const char *name = str_member(doc, "name");
	const struct tb_json *codes = tb_json_get(doc, "codes");
	if (!name || !codes || codes->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "%s: a code list needs \"name\" and a \"codes\" object",
		                    file);
	struct codelist *nl = realloc(d->lists, (d->nlists + 1) * sizeof *nl);
	if (!nl)
		return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	d->lists = nl;
	struct codelist *l = &d->lists[d->nlists++];
	l->name = name;
	l->len = codes->u.object.len;
	l->codes = calloc(l->len ? l->len : 1, sizeof *l->codes);
	if (!l->codes)
		return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	for (size_t i = 0; i < l->len; i++)
		l->codes[i] = codes->u.object.members[i].key;
	qsort(l->codes, l->len, sizeof *l->codes, cmpstr);
	return 0;
}

static int add_type(struct tb_dict *d, const struct tb_json *doc, const char *file,
                    struct tb_error *err)
{
	const char *name = str_member(doc, "type"), *root = str_member(doc, "root");
	if (!name || !root)
		return tb_error_set(err, TB_EINVAL, "%s: a record type needs \"type\" and \"root\"", file);
	struct rtype *nt = realloc(d->types, (d->ntypes + 1) * sizeof *nt);
	if (!nt)
		return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	d->types = nt;
	d->types[d->ntypes].name = name;
	d->types[d->ntypes++].root = root;
	return 0;
}

static int mark_required(struct tb_dict *d, struct tb_error *err)
{
	for (size_t k = 0; k < d->ndocs; k++) {
		const struct tb_json *req = tb_json_get(d->docs[k], "required");
		if (!req || !tb_json_get(d->docs[k], "root"))
			continue;
		for (size_t i = 0; i < tb_json_len(req); i++) {
			const char *p = tb_json_string(tb_json_at(req, i));
			struct elem *e = p ? find_elem(d, p) : NULL;
			if (!e)
				return tb_error_set(err, TB_EINVAL,
				                    "record type %s: required \"%s\" is not a dictionary element",
				                    str_member(d->docs[k], "type"), p ? p : "(not a string)");
			e->required = 1;
		}
	}
	return 0;
}

typedef int (*file_fn)(struct tb_dict *, const struct tb_json *, const char *, struct tb_error *);

/* Load every *.json in dir (sorted names, so errors are reproducible). */
static int load_dir(struct tb_dict *d, const char *dir, const char *prefix, file_fn fn,
                    struct tb_error *err)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return tb_error_set(err, TB_EIO, "dictionary: cannot open directory %s", dir);
	char *names[DICT_MAX_FILES];
	size_t n = 0;
	int rc = 0;
	for (struct dirent *de; (de = readdir(dp)) != NULL && !rc;) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 5, ".json") != 0 ||
		    strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (n == DICT_MAX_FILES)
			rc = tb_error_set(err, TB_ELIMIT, "dictionary: more than %d files in %s",
			                  DICT_MAX_FILES, dir);
		else if (!(names[n++] = strdup(de->d_name)))
			rc = tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	}
	closedir(dp);
	if (!rc)
		qsort(names, n, sizeof *names, cmpstr);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct tb_json *doc;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (!rc && !(rc = load_file(d, path, &doc, err)))
			rc = fn(d, doc, path, err);
		free(names[i]);
	}
	return rc;
}

int tb_dict_load(const char *dir, struct tb_dict **out, struct tb_error *err)
{
	struct tb_dict *d = calloc(1, sizeof *d);
	char sub[4096];
	*out = NULL;
	if (!d)
		return tb_error_set(err, TB_ENOMEM, "dictionary: out of memory");
	int rc = load_dir(d, dir, "dictionary", add_elements, err);
	snprintf(sub, sizeof sub, "%s/codelists", dir);
	rc = rc ? rc : load_dir(d, sub, "", add_codelist, err);
	snprintf(sub, sizeof sub, "%s/types", dir);
	rc = rc ? rc : load_dir(d, sub, "", add_type, err);
	rc = rc ? rc : link_children(d, err);
	rc = rc ? rc : resolve_same_as(d, err);
	rc = rc ? rc : mark_required(d, err);
	if (!rc && d->nelems == 0)
		rc = tb_error_set(err, TB_EINVAL, "dictionary: %s holds no elements", dir);
	if (rc) {
		tb_dict_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void tb_dict_free(struct tb_dict *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nelems; i++)
		free(d->elems[i].children);
	for (size_t i = 0; i < d->nlists; i++)
		free(d->lists[i].codes);
	for (size_t i = 0; i < d->ndocs; i++)
		tb_json_free(d->docs[i]);
	free(d->elems);
	free(d->lists);
	free(d->types);
	free(d->docs);
	free(d);
}

static const struct rtype *find_type(const struct tb_dict *d, const char *type)
{
	for (size_t i = 0; type && i < d->ntypes; i++)
		if (strcmp(d->types[i].name, type) == 0)
			return &d->types[i];
	return NULL;
}

int tb_dict_has_type(const struct tb_dict *d, const char *type)
{
	return find_type(d, type) != NULL;
}

const char *tb_dict_type_root(const struct tb_dict *d, const char *type)
{
	const struct rtype *t = find_type(d, type);
	return t ? t->root : NULL;
}

int tb_dict_element(const struct tb_dict *d, const char *path, long *max)
{
	const struct elem *e = find_elem(d, path);
	if (e && max)
		*max = e->max;
	return e != NULL;
}

int tb_dict_code_known(const struct tb_dict *d, const char *list, const char *code)
{
	for (size_t i = 0; i < d->nlists; i++)
		if (strcmp(d->lists[i].name, list) == 0)
			return bsearch(&code, d->lists[i].codes, d->lists[i].len, sizeof code, cmpstr) != NULL;
	return 0;
}

/* ---- formats --------------------------------------------------------------- */

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

static int numeric_ok(const char *v, size_t len, long maxd, long frac, int fixed)
{
	const char *dot = memchr(v, '.', len);
	size_t ip = dot ? (size_t)(dot - v) : len, fp = dot ? len - ip - 1 : 0;
	if (!digits(v, ip) || (dot && !digits(dot + 1, fp)) || (long)fp > frac)
		return 0;
	return fixed ? (long)(ip + fp) == maxd : (long)(ip + fp) <= maxd;
}

static int alpha_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z')))
			return 0;
	return 1;
}

static int text_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return 1;
}

/* YYYY-MM-DD, checked field by field. */
static int date_ok(const char *v)
{
	if (!(digits(v, 4) && v[4] == '-' && digits(v + 5, 2) && v[7] == '-' && digits(v + 8, 2)))
		return 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = atoi(v), m = (v[5] - '0') * 10 + v[6] - '0', dd = (v[8] - '0') * 10 + v[9] - '0';
	if (m < 1 || m > 12 || dd < 1 || dd > mdays[m - 1])
		return 0;
	return m != 2 || dd < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* ISO 8601 date, or date-time with seconds (optional fraction) and Z or ±hh:mm. */
static int iso8601_ok(const char *v, size_t len)
{
	if (len < 10 || !date_ok(v))
		return 0;
	if (len == 10)
		return 1;
	const char *t = v + 10;
	if (len < 20 || *t != 'T' || !digits(t + 1, 2) || t[3] != ':' || !digits(t + 4, 2) ||
	    t[6] != ':' || !digits(t + 7, 2))
		return 0;
	const char *z = t + 9, *end = v + len;
	if (*z == '.') {
		const char *f = ++z;
		while (z < end && *z >= '0' && *z <= '9')
			z++;
		if (z == f)
			return 0;
	}
	if (end - z == 1)
		return *z == 'Z';
	return end - z == 6 && (*z == '+' || *z == '-') && digits(z + 1, 2) && z[3] == ':' &&
	       digits(z + 4, 2);
}

int tb_dict_format_ok(const char *format, const char *v, size_t len)
{
	if (!format)
		return text_ok(v, len);
	if (strcmp(format, "iso8601") == 0)
		return iso8601_ok(v, len);
	if (strcmp(format, "date") == 0)
		return len == 10 && date_ok(v);
	const char *p = format;
	int alpha = 0, num = 0;
	if (strncmp(p, "an", 2) == 0)
		p += 2;
	else if (*p == 'a')
		alpha = 1, p++;
	else if (*p == 'n')
		num = 1, p++;
	else
		return 0;
	int fixed = strncmp(p, "..", 2) != 0;
	if (!fixed)
		p += 2;
	char *end;
	long maxd = strtol(p, &end, 10), frac = 0;
	if (*end == ',')
		frac = strtol(end + 1, NULL, 10);
	if (num)
		return numeric_ok(v, len, maxd, frac, fixed);
	size_t chars = utf8_chars(v, len);
	if (fixed ? (long)chars != maxd : (chars < 1 || (long)chars > maxd))
		return 0;
	return alpha ? alpha_ok(v, len) : text_ok(v, len);
}

/* ---- validation walk -------------------------------------------------------- */

int tb_violations_add(struct tb_violations *v, enum tb_violation_kind kind, const char *path,
                      const char *element, const char *wco, const char *expected)
{
	if (v->len >= TB_VIOLATIONS_MAX) {
		v->truncated = 1;
		return 0;
	}
	if (v->len == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 16;
		struct tb_violation *ni = realloc(v->items, nc * sizeof *ni);
		if (!ni)
			return TB_ENOMEM;
		v->items = ni;
		v->cap = nc;
	}
	struct tb_violation *x = &v->items[v->len];
	x->kind = kind;
	x->path = strdup(path);
	x->element = element ? strdup(element) : NULL;
	x->wco = wco ? strdup(wco) : NULL;
	x->expected = strdup(expected);
	if (!x->path || !x->expected || (element && !x->element) || (wco && !x->wco)) {
		free(x->path), free(x->element), free(x->wco), free(x->expected);
		return TB_ENOMEM;
	}
	v->len++;
	return 0;
}

void tb_violations_fini(struct tb_violations *v)
{
	for (size_t i = 0; i < v->len; i++) {
		free(v->items[i].path);
		free(v->items[i].element);
		free(v->items[i].wco);
		free(v->items[i].expected);
	}
	free(v->items);
	memset(v, 0, sizeof *v);
}

const char *tb_violation_kind_name(enum tb_violation_kind k)
{
	static const char *const names[] = {"required", "format",      "codelist", "unknown",
	                                    "type",     "cardinality", "envelope"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

struct walk {
	const struct tb_dict *d;
	struct tb_violations *v;
	struct tb_buf path; /* JSON path of the current node */
	int rc;
};

static void viol(struct walk *w, enum tb_violation_kind k, const struct elem *e, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static void viol(struct walk *w, enum tb_violation_kind k, const struct elem *e, const char *fmt,
                 ...)
{
	char exp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(exp, sizeof exp, fmt, ap);
	va_end(ap);
	if (!w->rc)
		w->rc = tb_violations_add(w->v, k, (const char *)w->path.data, e ? e->path : NULL,
		                          e ? e->wco : NULL, exp);
}

/* Append ".key" or "[i]" to the path; returns the old length to restore. */
static size_t push_key(struct walk *w, const char *key)
{
	size_t old = w->path.len;
	if (tb_buf_putc(&w->path, '.') || tb_buf_puts(&w->path, key))
		w->rc = TB_ENOMEM;
	return old;
}

static size_t push_index(struct walk *w, size_t i)
{
	size_t old = w->path.len;
	if (tb_buf_printf(&w->path, "[%zu]", i))
		w->rc = TB_ENOMEM;
	return old;
}

static void pop(struct walk *w, size_t old)
{
	w->path.len = old;
	if (w->path.data)
		w->path.data[old] = 0;
}

static void check_text(struct walk *w, const struct elem *e, const struct tb_json *n,
                       const char *format, const char *codelist)
{
	const char *s;
	size_t len;
	if (n->type == TB_JSON_STRING) {
		s = n->u.string.ptr;
		len = n->u.string.len;
	} else if (n->type == TB_JSON_NUMBER && format && format[0] == 'n') {
		s = n->u.number.text;
		len = strlen(s);
	} else {
		viol(w, TB_VIOL_TYPE, e, "a string%s", format && format[0] == 'n' ? " or number" : "");
		return;
	}
	if (!tb_dict_format_ok(format, s, len))
		viol(w, TB_VIOL_FORMAT, e, "format %s", format ? format : "text without control characters");
	else if (codelist && !tb_dict_code_known(w->d, codelist, s))
		viol(w, TB_VIOL_CODELIST, e, "a code from code list %s", codelist);
}

/* Amounts and measures: {"value": n, "currencyID"|"unitCode": code}. */
static void check_quantity(struct walk *w, const struct elem *e, const struct tb_json *n)
{
	int amount = strcmp(e->kind, "amount") == 0;
	const char *attr = amount ? "currencyID" : "unitCode";
	if (n->type != TB_JSON_OBJECT) {
		viol(w, TB_VIOL_TYPE, e, "an object {\"value\", \"%s\"}", attr);
		return;
	}
	for (size_t i = 0; i < n->u.object.len; i++) {
		const struct tb_json_member *m = &n->u.object.members[i];
		size_t old = push_key(w, m->key);
		if (strcmp(m->key, "value") == 0)
			check_text(w, e, m->value, e->format, NULL);
		else if (strcmp(m->key, attr) == 0)
			check_text(w, e, m->value, amount ? "a3" : "an..5", amount ? "iso4217" : NULL);
		else
			viol(w, TB_VIOL_UNKNOWN, e, "only \"value\" and \"%s\"", attr);
		pop(w, old);
	}
	if (!tb_json_get(n, "value"))
		viol(w, TB_VIOL_REQUIRED, e, "member \"value\" present");
}

static void check_node(struct walk *w, const struct elem *e, const struct tb_json *n);

static void check_class(struct walk *w, const struct elem *e, const struct tb_json *n)
{
	if (n->type != TB_JSON_OBJECT) {
		viol(w, TB_VIOL_TYPE, e, "an object (class %s)", e->path);
		return;
	}
	char child[1024];
	for (size_t i = 0; i < n->u.object.len && !w->rc; i++) {
		const struct tb_json_member *m = &n->u.object.members[i];
		size_t old = push_key(w, m->key);
		snprintf(child, sizeof child, "%s.%s", e->path, m->key);
		const struct elem *c = strchr(m->key, '.') ? NULL : find_elem(w->d, child);
		if (c)
			check_node(w, c, m->value);
		else
			viol(w, TB_VIOL_UNKNOWN, NULL, "an element of class %s", e->path);
		pop(w, old);
	}
	for (size_t i = 0; i < e->nchildren && !w->rc; i++) {
		const struct elem *c = &w->d->elems[e->children[i]];
		const char *name = strrchr(c->path, '.') + 1;
		if ((c->min >= 1 || c->required) && !tb_json_get(n, name)) {
			size_t old = push_key(w, name);
			viol(w, TB_VIOL_REQUIRED, c, "present (required in %s)", e->path);
			pop(w, old);
		}
	}
}

static void check_single(struct walk *w, const struct elem *e, const struct tb_json *n)
{
	if (strcmp(e->kind, "class") == 0)
		check_class(w, e, n);
	else if (strcmp(e->kind, "amount") == 0 || strcmp(e->kind, "measure") == 0)
		check_quantity(w, e, n);
	else
		check_text(w, e, n, e->format, e->codelist);
}

static void check_node(struct walk *w, const struct elem *e, const struct tb_json *n)
{
	if (e->max == 1) {
		check_single(w, e, n);
		return;
	}
	if (n->type != TB_JSON_ARRAY) {
		viol(w, TB_VIOL_TYPE, e, "an array (%s repeats)", e->path);
		return;
	}
	if (e->max > 1 && n->u.array.len > (size_t)e->max) {
		char lim[32];
		snprintf(lim, sizeof lim, "%ld", e->max);
		viol(w, TB_VIOL_CARDINALITY, e, "at most %s repeats", lim);
	}
	if (n->u.array.len == 0 && (e->min >= 1 || e->required))
		viol(w, TB_VIOL_REQUIRED, e, "at least one %s", e->path);
	for (size_t i = 0; i < n->u.array.len && !w->rc; i++) {
		size_t old = push_index(w, i);
		check_single(w, e, n->u.array.items[i]);
		pop(w, old);
	}
}

int tb_dict_validate_data(const struct tb_dict *d, const char *type, const struct tb_json *data,
                          const char *path_prefix, struct tb_violations *v)
{
	struct walk w = {d, v, {0}, 0};
	const struct rtype *t = find_type(d, type);
	tb_buf_init(&w.path, 1 << 16);
	if (tb_buf_puts(&w.path, path_prefix)) {
		tb_buf_fini(&w.path);
		return TB_ENOMEM;
	}
	const struct elem *root = t ? find_elem(d, t->root) : NULL;
	if (!t)
		viol(&w, TB_VIOL_ENVELOPE, NULL, "a record type with a schema (got \"%s\")", type);
	else if (!root)
		viol(&w, TB_VIOL_ENVELOPE, NULL, "root element %s in the dictionary", t->root);
	else if (!data || data->type != TB_JSON_OBJECT)
		viol(&w, TB_VIOL_TYPE, NULL, "an object {\"%s\": ...}", t->root);
	else {
		for (size_t i = 0; i < data->u.object.len && !w.rc; i++) {
			const struct tb_json_member *m = &data->u.object.members[i];
			if (strcmp(m->key, t->root) == 0)
				continue;
			size_t old = push_key(&w, m->key);
			viol(&w, TB_VIOL_UNKNOWN, NULL, "only the root class %s", t->root);
			pop(&w, old);
		}
		const struct tb_json *r = tb_json_get(data, t->root);
		size_t old = push_key(&w, t->root);
		if (r)
			check_node(&w, root, r);
		else
			viol(&w, TB_VIOL_REQUIRED, root, "present (root of %s)", type);
		pop(&w, old);
	}
	tb_buf_fini(&w.path);
	return w.rc;
}
