/* Policy paths into a record's data (see datapath.h): parsing, applying a drop or
 * replace to every value a path names, and checking a path against the dictionary.
 * Invariant: a segment without an index that meets an array goes into every
 * element; nothing a path names is skipped because it sits inside a repeat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/datapath.h"

void tb_datapath_fini(struct tb_datapath *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->seg[i]);
	memset(p, 0, sizeof *p);
}

/* "Name", "Name[]" or "Name[N]" of length l at s into segment p->n. */
static int parse_segment(const char *s, size_t l, struct tb_datapath *p, const char **why)
{
	const char *br = memchr(s, '[', l);
	size_t nl = br ? (size_t)(br - s) : l;
	*why = "an empty segment";
	if (nl == 0)
		return TB_EINVAL;
	*why = "a ']' or '[' inside a name";
	if (memchr(s, ']', nl) || (br && s[l - 1] != ']'))
		return TB_EINVAL;
	long idx = TB_DATAPATH_EVERY;
	if (br) {
		const char *d = br + 1, *end = s + l - 1;
		*why = "an index that is not [] or [N] with N a number from 0";
		if (end - d > 6)
			return TB_EINVAL;
		for (const char *c = d; c < end; c++)
			if (*c < '0' || *c > '9')
				return TB_EINVAL;
		if (end > d)
			idx = strtol(d, NULL, 10);
		if (idx > TB_DATAPATH_MAX_INDEX)
			return TB_EINVAL;
	}
	p->seg[p->n] = strndup(s, nl);
	*why = "out of memory";
	if (!p->seg[p->n])
		return TB_ENOMEM;
	p->index[p->n] = idx;
	p->brackets[p->n] = br != NULL;
	p->n++;
	return 0;
}

int tb_datapath_parse(const char *text, struct tb_datapath *p, struct tb_error *err)
{
	memset(p, 0, sizeof *p);
	const char *s = text, *why = "an empty path";
	int rc = *s ? 0 : TB_EINVAL;
	while (rc == 0 && *s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		why = "more than 32 segments";
		rc = p->n == TB_DATAPATH_MAX_SEGMENTS ? TB_EINVAL : parse_segment(s, l, p, &why);
		s += l + (dot != NULL);
		if (rc == 0 && dot && !*s) {
			why = "an empty last segment";
			rc = TB_EINVAL;
		}
	}
	if (rc) {
		tb_datapath_fini(p);
		return tb_error_set(err, rc, "path \"%.200s\": %s (expected A.B.C, where a segment "
		                    "may end in [] for every repeat or [N] for repeat N)", text, why);
	}
	return 0;
}

struct walk {
	const struct tb_datapath *p;
	tb_datapath_fn fn;
	void *ctx;
	size_t hits;
	struct tb_error *err;
};

/* fn on *slot; a value to remove leaves a hole (NULL) that tb_datapath_sweep
 * closes, so the indices the next paths name still mean what they did. */
static int act(struct walk *w, struct tb_json **slot)
{
	struct tb_json *repl = NULL;
	if (!*slot)
		return 0; /* already removed by an earlier path */
	int rc = w->fn(w->ctx, *slot, &repl, w->err);
	if (rc)
		return rc;
	w->hits++;
	tb_json_free(*slot);
	*slot = repl;
	return 0;
}

static int act_element(struct walk *w, struct tb_json *arr, size_t k)
{
	return act(w, &arr->u.array.items[k]);
}

static int act_member(struct walk *w, struct tb_json *obj, size_t m)
{
	return act(w, &obj->u.object.members[m].value);
}

/* The last segment names member m of obj (or some of its repeats). */
static int act_last(struct walk *w, size_t i, struct tb_json *obj, size_t m)
{
	struct tb_json *v = obj->u.object.members[m].value;
	long idx = w->p->index[i];
	if (!v)
		return 0;
	if (!w->p->brackets[i] || (v->type != TB_JSON_ARRAY && idx <= 0))
		return act_member(w, obj, m); /* the whole value, or a lone repeat */
	if (v->type != TB_JSON_ARRAY)
		return 0;
	if (idx != TB_DATAPATH_EVERY)
		return (size_t)idx < v->u.array.len ? act_element(w, v, (size_t)idx) : 0;
	int rc = 0;
	for (size_t k = v->u.array.len; rc == 0 && k-- > 0;)
		rc = act_element(w, v, k);
	return rc;
}

static int walk_object(struct walk *w, size_t i, struct tb_json *obj);

/* v is the value of segment i: go on with segment i + 1 in it, or in its repeats. */
static int descend(struct walk *w, size_t i, struct tb_json *v)
{
	long idx = w->p->index[i];
	if (!v)
		return 0;
	if (v->type != TB_JSON_ARRAY)
		return idx <= 0 ? walk_object(w, i + 1, v) : 0; /* a lone repeat is item 0 */
	if (idx != TB_DATAPATH_EVERY)
		return (size_t)idx < v->u.array.len ? walk_object(w, i + 1, v->u.array.items[idx]) : 0;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < v->u.array.len; k++)
		rc = walk_object(w, i + 1, v->u.array.items[k]);
	return rc;
}

static int walk_object(struct walk *w, size_t i, struct tb_json *obj)
{
	if (!obj) /* a hole left by an earlier path */
		return 0;
	if (!obj || obj->type != TB_JSON_OBJECT)
		return 0;
	size_t sl = strlen(w->p->seg[i]);
	for (size_t m = 0; m < obj->u.object.len; m++) {
		const struct tb_json_member *mb = &obj->u.object.members[m];
		if (mb->key_len != sl || memcmp(mb->key, w->p->seg[i], sl) != 0)
			continue;
		if (i + 1 == w->p->n)
			return act_last(w, i, obj, m);
		return descend(w, i, obj->u.object.members[m].value);
	}
	return 0;
}

int tb_datapath_apply(const struct tb_datapath *p, struct tb_json *data, tb_datapath_fn fn,
                      void *ctx, size_t *hits, struct tb_error *err)
{
	struct walk w = {p, fn, ctx, 0, err};
	int rc = p->n ? walk_object(&w, 0, data) : 0;
	if (hits)
		*hits = w.hits;
	return rc;
}

int tb_datapath_sweep(struct tb_json *j)
{
	size_t k = 0;
	int rc = 0;
	if (!j)
		return 0;
	if (j->type == TB_JSON_ARRAY) {
		for (size_t i = 0; i < j->u.array.len; i++)
			if (j->u.array.items[i]) {
				rc = rc ? rc : tb_datapath_sweep(j->u.array.items[i]);
				j->u.array.items[k++] = j->u.array.items[i];
			}
		j->u.array.len = k;
		return rc;
	}
	/* objects through their own API, which keeps any key index it holds right */
	for (size_t i = j->type == TB_JSON_OBJECT ? j->u.object.len : 0; i-- > 0;) {
		struct tb_json_member *m = &j->u.object.members[i];
		if (m->value) {
			rc = rc ? rc : tb_datapath_sweep(m->value);
			continue;
		}
		char *key = strdup(m->key); /* holes only at keys without a NUL (walk_object) */
		if (!key || tb_json_object_remove(j, key) != 0) {
			m->value = tb_json_new_null(); /* never leave a hole behind */
			rc = TB_ENOMEM;
		}
		free(key);
	}
	return rc;
}

int tb_datapath_check(const struct tb_datapath *p, const struct tb_dict *d, const char *type,
                      char *why, size_t cap)
{
	const char *root = tb_dict_type_root(d, type);
	if (!root)
		return -1;
	if (p->n == 0 || strcmp(p->seg[0], root) != 0) {
		snprintf(why, cap, "%s records start at %s", type, root);
		return 0;
	}
	char elem[1024] = "";
	size_t len = 0;
	for (size_t i = 0; i < p->n; i++) {
		long max = 1;
		int w = snprintf(elem + len, sizeof elem - len, "%s%s", i ? "." : "", p->seg[i]);
		len += w > 0 ? (size_t)w : 0;
		if (len >= sizeof elem || !tb_dict_element(d, elem, &max)) {
			snprintf(why, cap, "%.200s is not an element of %s in the dictionary", elem, type);
			return 0;
		}
		if (p->index[i] > 0 && (max == 1 || (max > 1 && p->index[i] >= max))) {
			snprintf(why, cap, "%.200s occurs at most %ld time%s, so [%ld] names nothing", elem,
			         max, max == 1 ? "" : "s", p->index[i]);
			return 0;
		}
	}
	return 1;
}

int tb_datapath_describe(const struct tb_datapath *p, const struct tb_dict *d, const char *type,
                         char *out, size_t cap)
{
	char why[256], elem[1024] = "";
	size_t len = 0, olen = 0;
	out[0] = 0;
	if (tb_datapath_check(p, d, type, why, sizeof why) != 1)
		return 0;
	for (size_t i = 0; i < p->n; i++) {
		long max = 1;
		int w = snprintf(elem + len, sizeof elem - len, "%s%s", i ? "." : "", p->seg[i]);
		len += w > 0 ? (size_t)w : 0;
		tb_dict_element(d, elem, &max);
		char ix[24] = "";
		if (p->index[i] >= 0)
			snprintf(ix, sizeof ix, "[%ld]", p->index[i]);
		else if ((max != 1 && i + 1 < p->n) || p->brackets[i])
			snprintf(ix, sizeof ix, "[]");
		w = snprintf(out + olen, cap - olen, "%s%s%s", i ? "." : "", p->seg[i], ix);
		olen += w > 0 ? (size_t)w : 0;
		if (olen >= cap)
			return TB_ELIMIT;
	}
	return 0;
}
