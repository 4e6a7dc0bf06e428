/* JSON trees in memory: builders, look-ups, clone and free. Invariant: object keys
 * stay unique (object_set replaces an existing member in place, keeping its
 * position), and every node owns its children, so freeing the root frees all.
 * An object of 8 members or more keeps a hash index of its keys (SipHash-1-3
 * with a random key, so chosen names cannot collide on purpose; the key is kept in
 * the object, so a tree built by a module's copy of this code is found by the
 * binary's): look-up and insertion stay O(1) however many distinct names a peer sends. */
#include "lib/json.h"
#include "lib/json_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define INDEX_MIN 8 /* below this a linear scan is as fast */

static struct tb_json *node_new(enum tb_json_type t)
{
	struct tb_json *j = calloc(1, sizeof *j);
	if (j != NULL)
		j->type = t;
	return j;
}

static void free_children(struct tb_json *j)
{
	switch (j->type) {
	case TB_JSON_NUMBER:
		free(j->u.number.text);
		break;
	case TB_JSON_STRING:
		free(j->u.string.ptr);
		break;
	case TB_JSON_ARRAY:
		for (size_t i = 0; i < j->u.array.len; i++)
			tb_json_free(j->u.array.items[i]);
		free(j->u.array.items);
		break;
	case TB_JSON_OBJECT:
		for (size_t i = 0; i < j->u.object.len; i++) {
			free(j->u.object.members[i].key);
			tb_json_free(j->u.object.members[i].value);
		}
		free(j->u.object.members);
		free(j->u.object.index);
		break;
	default:
		break;
	}
}

void tb_json_free(struct tb_json *j)
{
	if (j == NULL)
		return;
	free_children(j);
	free(j);
}

char *tb_json_memdup0(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p == NULL)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

struct tb_json *tb_json_new_null(void)
{
	return node_new(TB_JSON_NULL);
}

struct tb_json *tb_json_new_bool(int b)
{
	struct tb_json *j = node_new(TB_JSON_BOOL);
	if (j != NULL)
		j->u.boolean = b != 0;
	return j;
}

static const char *nonfinite_text(double v)
{
	if (v != v)
		return "NaN";
	return v > 0 ? "Infinity" : "-Infinity";
}

struct tb_json *tb_json_new_number(double v)
{
	char text[40];
	if (tb_json_format_number(v, text, sizeof text) != 0)
		strcpy(text, nonfinite_text(v)); /* as JavaScript's String(v) */
	struct tb_json *j = node_new(TB_JSON_NUMBER);
	if (j == NULL)
		return NULL;
	j->u.number.value = v;
	j->u.number.text = tb_json_memdup0(text, strlen(text));
	if (j->u.number.text == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

struct tb_json *tb_json_new_string(const char *s, size_t len)
{
	struct tb_json *j = node_new(TB_JSON_STRING);
	if (j == NULL)
		return NULL;
	j->u.string.ptr = tb_json_memdup0(s, len);
	if (j->u.string.ptr == NULL) {
		free(j);
		return NULL;
	}
	j->u.string.len = len;
	return j;
}

struct tb_json *tb_json_new_array(void)
{
	return node_new(TB_JSON_ARRAY);
}

struct tb_json *tb_json_new_object(void)
{
	return node_new(TB_JSON_OBJECT);
}

/* Grows *items (of elem bytes each) so one more fits; 0 or TB_ENOMEM. */
int tb_json_grow(void **items, size_t *cap, size_t len, size_t elem)
{
	if (len < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 4;
	if (ncap > SIZE_MAX / elem)
		return TB_ENOMEM;
	void *p = realloc(*items, ncap * elem);
	if (p == NULL)
		return TB_ENOMEM;
	*items = p;
	*cap = ncap;
	return 0;
}

int tb_json_array_push(struct tb_json *arr, struct tb_json *v)
{
	if (arr == NULL || arr->type != TB_JSON_ARRAY || v == NULL) {
		tb_json_free(v);
		return TB_EINVAL;
	}
	if (tb_json_grow((void **)&arr->u.array.items, &arr->u.array.cap, arr->u.array.len,
	                 sizeof *arr->u.array.items) != 0) {
		tb_json_free(v);
		return TB_ENOMEM;
	}
	arr->u.array.items[arr->u.array.len++] = v;
	return 0;
}

/* ---- key index ---------------------------------------------------------------- */

static uint64_t sip_key[2];
static pthread_once_t sip_once = PTHREAD_ONCE_INIT;

static void sip_init(void)
{
	if (getrandom(sip_key, sizeof sip_key, 0) != (ssize_t)sizeof sip_key) {
		/* no entropy: still a hash, only predictable */
		sip_key[0] = (uint64_t)(uintptr_t)&sip_key ^ 0x736f6d6570736575ull;
		sip_key[1] = (uint64_t)(uintptr_t)&sip_init ^ 0x646f72616e646f6dull;
	}
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32);                          \
		v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                                             \
		v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                                             \
		v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32);                          \
	} while (0)

/* SipHash-1-3 of s under k (the object's index key). */
static uint64_t key_hash(const uint64_t k[2], const char *s, size_t len)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
	const unsigned char *p = (const unsigned char *)s;
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m;
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static void index_put(const uint64_t k[2], size_t *index, size_t cap,
                      const struct tb_json_member *m, size_t pos)
{
	size_t i = (size_t)key_hash(k, m->key, m->key_len) & (cap - 1);
	while (index[i] != 0)
		i = (i + 1) & (cap - 1);
	index[i] = pos + 1;
}

/* (Re)build the index for the current members, at most half full; 0 or TB_ENOMEM. */
static int index_build(struct tb_json *obj, size_t want)
{
	size_t cap = 16;
	while (cap < 2 * want)
		cap *= 2;
	size_t *index = calloc(cap, sizeof *index);
	if (index == NULL)
		return TB_ENOMEM;
	if (obj->u.object.index == NULL) { /* a new index takes this process's key */
		pthread_once(&sip_once, sip_init);
		memcpy(obj->u.object.index_key, sip_key, sizeof sip_key);
	}
	for (size_t i = 0; i < obj->u.object.len; i++)
		index_put(obj->u.object.index_key, index, cap, &obj->u.object.members[i], i);
	free(obj->u.object.index);
	obj->u.object.index = index;
	obj->u.object.index_cap = cap;
	return 0;
}

/* Record the member just appended at position len - 1. */
static int index_add(struct tb_json *obj)
{
	size_t len = obj->u.object.len;
	if (len < INDEX_MIN)
		return 0;
	if (obj->u.object.index == NULL || 2 * len > obj->u.object.index_cap)
		return index_build(obj, 2 * len);
	index_put(obj->u.object.index_key, obj->u.object.index, obj->u.object.index_cap,
	          &obj->u.object.members[len - 1], len - 1);
	return 0;
}

static struct tb_json_member *index_find(const struct tb_json *obj, const char *key,
                                         size_t key_len)
{
	size_t cap = obj->u.object.index_cap;
	for (size_t i = (size_t)key_hash(obj->u.object.index_key, key, key_len) & (cap - 1);
	     obj->u.object.index[i] != 0;
	     i = (i + 1) & (cap - 1)) {
		struct tb_json_member *m = &obj->u.object.members[obj->u.object.index[i] - 1];
		if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
			return m;
	}
	return NULL;
}

static struct tb_json_member *find_member(const struct tb_json *obj, const char *key,
                                          size_t key_len)
{
	if (obj == NULL || obj->type != TB_JSON_OBJECT)
		return NULL;
	if (obj->u.object.index != NULL)
		return index_find(obj, key, key_len);
	for (size_t i = 0; i < obj->u.object.len; i++) {
		struct tb_json_member *m = &obj->u.object.members[i];
		if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
			return m;
	}
	return NULL;
}

/* Appends without looking for an existing key: the parser checks duplicates
 * itself so that it can report where both occurrences are. Takes key and v. */
int tb_json_object_append(struct tb_json *obj, char *key, size_t key_len, struct tb_json *v)
{
	if (tb_json_grow((void **)&obj->u.object.members, &obj->u.object.cap, obj->u.object.len,
	                 sizeof *obj->u.object.members) != 0) {
		free(key);
		tb_json_free(v);
		return TB_ENOMEM;
	}
	struct tb_json_member *m = &obj->u.object.members[obj->u.object.len++];
	m->key = key;
	m->key_len = key_len;
	m->value = v;
	if (index_add(obj) != 0) {
		/* leave the object as it was: a member the index does not know would hide */
		obj->u.object.len--;
		free(key);
		tb_json_free(v);
		return TB_ENOMEM;
	}
	return 0;
}

int tb_json_object_set(struct tb_json *obj, const char *key, size_t key_len, struct tb_json *v)
{
	if (obj == NULL || obj->type != TB_JSON_OBJECT || key == NULL || v == NULL) {
		tb_json_free(v);
		return TB_EINVAL;
	}
	struct tb_json_member *m = find_member(obj, key, key_len);
	if (m != NULL) {
		tb_json_free(m->value);
		m->value = v;
		return 0;
	}
	char *k = tb_json_memdup0(key, key_len);
	if (k == NULL) {
		tb_json_free(v);
		return TB_ENOMEM;
	}
	return tb_json_object_append(obj, k, key_len, v);
}

int tb_json_object_remove(struct tb_json *obj, const char *key)
{
	struct tb_json_member *m = key ? find_member(obj, key, strlen(key)) : NULL;
	if (m == NULL)
		return TB_ENOTFOUND;
	free(m->key);
	tb_json_free(m->value);
	size_t i = (size_t)(m - obj->u.object.members);
	memmove(m, m + 1, (obj->u.object.len - i - 1) * sizeof *m);
	obj->u.object.len--;
	/* positions moved: rebuild (removal is linear anyway), or fall back to scanning */
	if (obj->u.object.index != NULL && index_build(obj, obj->u.object.len) != 0) {
		free(obj->u.object.index);
		obj->u.object.index = NULL;
	}
	return 0;
}

struct tb_json *tb_json_get(const struct tb_json *obj, const char *key)
{
	struct tb_json_member *m = key ? find_member(obj, key, strlen(key)) : NULL;
	return m ? m->value : NULL;
}

struct tb_json *tb_json_at(const struct tb_json *arr, size_t i)
{
	if (arr == NULL || arr->type != TB_JSON_ARRAY || i >= arr->u.array.len)
		return NULL;
	return arr->u.array.items[i];
}

const char *tb_json_string(const struct tb_json *j)
{
	return j != NULL && j->type == TB_JSON_STRING ? j->u.string.ptr : NULL;
}

size_t tb_json_len(const struct tb_json *j)
{
	if (j == NULL)
		return 0;
	if (j->type == TB_JSON_ARRAY)
		return j->u.array.len;
	if (j->type == TB_JSON_OBJECT)
		return j->u.object.len;
	return 0;
}

const char *tb_json_type_name(enum tb_json_type t)
{
	switch (t) {
	case TB_JSON_NULL: return "null";
	case TB_JSON_BOOL: return "boolean";
	case TB_JSON_NUMBER: return "number";
	case TB_JSON_STRING: return "string";
	case TB_JSON_ARRAY: return "array";
	case TB_JSON_OBJECT: return "object";
	}
	return "unknown";
}

static struct tb_json *clone_scalar(const struct tb_json *j)
{
	struct tb_json *c = node_new(j->type);
	if (c == NULL)
		return NULL;
	c->u = j->u; /* scalars only: an object's index is never shared */
	if (j->type == TB_JSON_NUMBER) {
		c->u.number.text = tb_json_memdup0(j->u.number.text, strlen(j->u.number.text));
		if (c->u.number.text == NULL)
			goto fail;
	} else if (j->type == TB_JSON_STRING) {
		c->u.string.ptr = tb_json_memdup0(j->u.string.ptr, j->u.string.len);
		if (c->u.string.ptr == NULL)
			goto fail;
	}
	return c;
fail:
	free(c);
	return NULL;
}

static struct tb_json *clone_container(const struct tb_json *j)
{
	struct tb_json *c = node_new(j->type);
	if (c == NULL)
		return NULL;
	if (j->type == TB_JSON_ARRAY) {
		for (size_t i = 0; i < j->u.array.len; i++)
			if (tb_json_array_push(c, tb_json_clone(j->u.array.items[i])) != 0)
				goto fail;
		return c;
	}
	for (size_t i = 0; i < j->u.object.len; i++) {
		const struct tb_json_member *m = &j->u.object.members[i];
		struct tb_json *v = tb_json_clone(m->value);
		char *k = v ? tb_json_memdup0(m->key, m->key_len) : NULL;
		if (k == NULL) {
			tb_json_free(v);
			goto fail;
		}
		if (tb_json_object_append(c, k, m->key_len, v) != 0)
			goto fail;
	}
	return c;
fail:
	tb_json_free(c);
	return NULL;
}

struct tb_json *tb_json_clone(const struct tb_json *j)
{
	if (j == NULL)
		return NULL;
	struct tb_json *c = (j->type == TB_JSON_ARRAY || j->type == TB_JSON_OBJECT)
		? clone_container(j) : clone_scalar(j);
	if (c != NULL) {
		c->line = j->line;
		c->col = j->col;
	}
	return c;
}

size_t tb_json_utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	if (len == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
	if (n == 0 || c > 0xF4 || len < n)
		return 0;
	uint32_t v = c & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0; /* overlong, beyond Unicode, or a surrogate */
	*cp = v;
	return n;
}
