/* OpenAttestation v2 and v3 integrity as @tradetrust-tt/tradetrust 6.10.3 computes it.
 * Every rule here was matched against the library by experiment (see
 * adapters/tradetrust/README.md): flatley recurses only into NON-EMPTY objects and
 * arrays, so an empty nested container is a leaf and an empty top level gives none;
 * lodash sortBy orders strings by UTF-16 code units; Node decodes hex leniently;
 * v3 hashes only salts whose lodash-get value is truthy (see the v3 section).
 * Invariant: a rule that differs from the library is a bug, never a "fix". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "oa.h"
#include "crypto/secp256k1.h"
#include "lib/buf.h"
#include "lib/hex.h"

#define OA_MAX_DEPTH 128

struct oa_entry {
	const char *s; /* a hash as a JS string; NULL = it is hex below */
	size_t len;
	char hex[65];
};

struct oa_flat {
	struct oa_entry *v;
	size_t len, cap;
	struct tb_buf path;
	struct tb_buf leaf; /* scratch for each leaf's JSON text */
	struct tb_error *err;
};

static int flat_push(struct oa_flat *f, struct oa_entry **out)
{
	if (f->len >= TB_OA_MAX_LEAVES)
		return tb_error_set(f->err, TB_ELIMIT, "oa: more than %d leaves in one document",
		                    TB_OA_MAX_LEAVES);
	if (f->len == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct oa_entry *v = realloc(f->v, cap * sizeof *v);
		if (!v)
			return tb_error_set(f->err, TB_ENOMEM, "oa: out of memory for leaves");
		f->v = v;
		f->cap = cap;
	}
	*out = &f->v[f->len++];
	memset(*out, 0, sizeof **out);
	return 0;
}

int tb_oa_leaf_hash(const char *path, size_t path_len, const struct tb_json *value,
                    uint8_t out[32], struct tb_error *err)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	int rc = tb_buf_putc(&b, '{');
	if (rc == 0)
		rc = tb_json_write_string(&b, path, path_len);
	if (rc == 0)
		rc = tb_buf_putc(&b, ':');
	if (rc == 0)
		rc = tb_json_write_stringify(value, &b, err);
	else
		tb_error_set(err, rc, "oa: cannot write the leaf for a %zu-byte path", path_len);
	if (rc == 0)
		rc = tb_buf_putc(&b, '}');
	if (rc == 0)
		tb_keccak256(b.data, b.len, out);
	tb_buf_fini(&b);
	return rc;
}

static int is_container(const struct tb_json *j)
{
	return j->type == TB_JSON_OBJECT || j->type == TB_JSON_ARRAY;
}

static int flat_leaf(struct oa_flat *f, const struct tb_json *value)
{
	struct oa_entry *e;
	uint8_t h[32];
	int rc = tb_oa_leaf_hash((const char *)f->path.data, f->path.len, value, h, f->err);
	if (rc == 0)
		rc = flat_push(f, &e);
	if (rc)
		return rc;
	tb_hex_encode(h, 32, e->hex);
	e->s = NULL; /* the text is e->hex: the array may still move */
	e->len = 64;
	return 0;
}

static int flat_step(struct oa_flat *f, const struct tb_json *node, size_t depth);

/* One member or item: the "." check runs on every key (flatley calls the coercion
 * for each), then recurse into non-empty containers and hash everything else. */
static int flat_member(struct oa_flat *f, const char *key, size_t key_len,
                       const struct tb_json *value, size_t depth)
{
	if (memchr(key, '.', key_len))
		return tb_error_set(f->err, TB_EINVAL,
		                    "oa: key \"%.*s\" under \"%.*s\": key names must not have . in them",
		                    (int)(key_len > 64 ? 64 : key_len), key,
		                    (int)(f->path.len > 128 ? 128 : f->path.len),
		                    f->path.data ? (const char *)f->path.data : "");
	size_t mark = f->path.len;
	int rc = 0;
	if (mark)
		rc = tb_buf_putc(&f->path, '.');
	if (rc == 0)
		rc = tb_buf_append(&f->path, key, key_len);
	if (rc)
		return tb_error_set(f->err, TB_ELIMIT, "oa: a flattened path is longer than %d bytes",
		                    TB_OA_MAX_PATH);
	if (is_container(value) && tb_json_len(value) > 0)
		rc = flat_step(f, value, depth + 1);
	else
		rc = flat_leaf(f, value);
	f->path.len = mark;
	if (f->path.data)
		f->path.data[mark] = 0;
	return rc;
}

static int flat_step(struct oa_flat *f, const struct tb_json *node, size_t depth)
{
	if (depth > OA_MAX_DEPTH)
		return tb_error_set(f->err, TB_ELIMIT, "oa: data nested deeper than %d levels",
		                    OA_MAX_DEPTH);
	int rc = 0;
	if (node->type == TB_JSON_OBJECT) {
		for (size_t i = 0; rc == 0 && i < node->u.object.len; i++) {
			const struct tb_json_member *m = &node->u.object.members[i];
			rc = flat_member(f, m->key, m->key_len, m->value, depth);
		}
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < node->u.array.len; i++) {
		char idx[24];
		int n = snprintf(idx, sizeof idx, "%zu", i);
		rc = flat_member(f, idx, (size_t)n, node->u.array.items[i], depth);
	}
	return rc;
}

/* Next UTF-16 code unit of a UTF-8 string; *pend carries a low surrogate. */
static unsigned utf16_next(const unsigned char *s, size_t len, size_t *i, unsigned *pend)
{
	if (*pend) {
		unsigned u = *pend;
		*pend = 0;
		return u;
	}
	unsigned c = s[*i], cp;
	size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (*i + n > len)
		n = len - *i;
	cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
	for (size_t k = 1; k < n; k++)
		cp = (cp << 6) | (s[*i + k] & 0x3F);
	*i += n;
	if (cp < 0x10000)
		return cp;
	cp -= 0x10000;
	*pend = 0xDC00 + (cp & 0x3FF);
	return 0xD800 + (cp >> 10);
}

static const char *entry_text(const struct oa_entry *e)
{
	return e->s ? e->s : e->hex;
}

/* JS `<` on strings: UTF-16 code unit order. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct oa_entry *a = pa, *b = pb;
	const unsigned char *x = (const unsigned char *)entry_text(a);
	const unsigned char *y = (const unsigned char *)entry_text(b);
	size_t i = 0, j = 0;
	unsigned pa_ = 0, pb_ = 0;
	while ((i < a->len || pa_) && (j < b->len || pb_)) {
		unsigned u = utf16_next(x, a->len, &i, &pa_);
		unsigned v = utf16_next(y, b->len, &j, &pb_);
		if (u != v)
			return u < v ? -1 : 1;
	}
	int a_left = i < a->len || pa_, b_left = j < b->len || pb_;
	return a_left - b_left;
}

/* Add a list of obfuscated hashes (named name in messages) to the leaves; v2 and
 * v3 differ only in where the list lives and whether it may be absent. */
static int push_obfuscated(struct oa_flat *f, const struct tb_json *list, const char *name,
                           struct tb_oa_result *res)
{
	for (size_t i = 0; i < list->u.array.len; i++) {
		const struct tb_json *h = list->u.array.items[i];
		struct oa_entry *e;
		if (h->type != TB_JSON_STRING)
			return tb_error_set(f->err, TB_EVERIFY, "oa: %s[%zu] is a %s, not a hash", name,
			                    i, tb_json_type_name(h->type));
		int rc = flat_push(f, &e);
		if (rc)
			return rc;
		e->s = h->u.string.ptr;
		e->len = h->u.string.len;
	}
	res->obfuscated = list->u.array.len;
	return 0;
}

static int add_obfuscated(struct oa_flat *f, const struct tb_json *doc, struct tb_oa_result *res)
{
	const struct tb_json *priv = tb_json_get(doc, "privacy");
	const struct tb_json *list = priv && priv->type == TB_JSON_OBJECT
	                                     ? tb_json_get(priv, "obfuscatedData") : NULL;
	if (!list)
		return 0;
	if (list->type != TB_JSON_ARRAY)
		return tb_error_set(f->err, TB_EINVAL, "oa: privacy.obfuscatedData is a %s, not an array",
		                    tb_json_type_name(list->type));
	return push_obfuscated(f, list, "privacy.obfuscatedData", res);
}

static int hash_sorted(struct oa_flat *f, uint8_t out[32])
{
	if (f->len > 1) /* f->v is NULL with no entries, and qsort must not see NULL */
		qsort(f->v, f->len, sizeof *f->v, entry_cmp);
	tb_buf_reset(&f->leaf);
	int rc = tb_buf_putc(&f->leaf, '[');
	for (size_t i = 0; rc == 0 && i < f->len; i++) {
		if (i)
			rc = tb_buf_putc(&f->leaf, ',');
		if (rc == 0)
			rc = tb_json_write_string(&f->leaf, entry_text(&f->v[i]), f->v[i].len);
	}
	if (rc == 0)
		rc = tb_buf_putc(&f->leaf, ']');
	if (rc)
		return tb_error_set(f->err, rc, "oa: cannot serialise the sorted hashes: %s",
		                    tb_strerror(rc));
	tb_keccak256(f->leaf.data, f->leaf.len, out);
	return 0;
}

int tb_oa_v2_digest(const struct tb_json *doc, uint8_t out[32], struct tb_oa_result *res,
                    struct tb_error *err)
{
	struct tb_oa_result scratch;
	if (!res)
		res = &scratch;
	memset(res, 0, sizeof *res);
	if (!doc || doc->type != TB_JSON_OBJECT)
		return tb_error_set(err, TB_EINVAL, "oa: the document is not a JSON object");
	const struct tb_json *data = tb_json_get(doc, "data");
	if (!data || data->type == TB_JSON_NULL)
		return tb_error_set(err, TB_EINVAL, "oa: the document has no data");
	if (data->type == TB_JSON_STRING)
		return tb_error_set(err, TB_EINVAL, "oa: data is a string, not an object");
	struct oa_flat f = {.err = err};
	tb_buf_init(&f.path, TB_OA_MAX_PATH);
	tb_buf_init(&f.leaf, 0);
	int rc = add_obfuscated(&f, doc, res);
	size_t obf = f.len;
	if (rc == 0 && is_container(data))
		rc = flat_step(&f, data, 1);
	if (rc == 0) {
		res->leaves = f.len - obf;
		rc = hash_sorted(&f, out);
	}
	free(f.v);
	tb_buf_fini(&f.path);
	tb_buf_fini(&f.leaf);
	return rc;
}

size_t tb_oa_hex_lenient(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i + 1 < len && n < cap; i += 2) {
		int hi = tb_hex_digit(s[i]), lo = tb_hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			break;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

void tb_oa_combine(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                   uint8_t out[32])
{
	/* Buffer.compare: bytewise, and a proper prefix sorts first. */
	size_t m = alen < blen ? alen : blen;
	int c = memcmp(a, b, m);
	if (c == 0)
		c = alen < blen ? -1 : alen > blen;
	struct tb_keccak k;
	tb_keccak256_init(&k);
	if (c <= 0) {
		tb_keccak256_update(&k, a, alen);
		tb_keccak256_update(&k, b, blen);
	} else {
		tb_keccak256_update(&k, b, blen);
		tb_keccak256_update(&k, a, alen);
	}
	tb_keccak256_final(&k, out);
}

/* Fold the hex steps of a proof list (named name in messages) into h, reading hex
 * as Node's Buffer.from does; shared by v2 and v3. */
static int fold_steps(const struct tb_json *steps, const char *name, uint8_t h[32],
                      struct tb_error *err)
{
	if (steps->u.array.len > TB_OA_MAX_PROOF)
		return tb_error_set(err, TB_ELIMIT, "oa: %s has %zu steps, more than %d", name,
		                    steps->u.array.len, TB_OA_MAX_PROOF);
	for (size_t i = 0; i < steps->u.array.len; i++) {
		const struct tb_json *p = steps->u.array.items[i];
		if (p->type != TB_JSON_STRING)
			return tb_error_set(err, TB_EINVAL, "oa: %s[%zu] is a %s, not hex", name, i,
			                    tb_json_type_name(p->type));
		size_t cap = p->u.string.len / 2;
		uint8_t *step = malloc(cap ? cap : 1);
		if (!step)
			return tb_error_set(err, TB_ENOMEM, "oa: out of memory for %s[%zu]", name, i);
		size_t n = tb_oa_hex_lenient(p->u.string.ptr, p->u.string.len, step, cap);
		tb_oa_combine(h, 32, step, n, h);
		free(step);
	}
	return 0;
}

/* Fold signature.proof over the 32-byte targetHash. */
static int fold_proof(const struct tb_json *sig, uint8_t h[32], struct tb_error *err)
{
	const struct tb_json *proof = tb_json_get(sig, "proof");
	if (!proof || proof->type == TB_JSON_NULL)
		return 0;
	if (proof->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "oa: signature.proof is a %s, not an array",
		                    tb_json_type_name(proof->type));
	return fold_steps(proof, "signature.proof", h, err);
}

/* Does the folded root equal the claimed one (a string, named name in messages)? */
static int root_matches(const struct tb_json *root, const char *name, struct tb_oa_result *res,
                        struct tb_error *err)
{
	uint8_t want[33];
	size_t n = tb_oa_hex_lenient(root->u.string.ptr, root->u.string.len, want, sizeof want);
	res->root_ok = n == 32 && memcmp(want, res->root, 32) == 0;
	if (res->root_ok)
		return 0;
	char got[65];
	tb_hex_encode(res->root, 32, got);
	return tb_error_set(err, TB_EVERIFY, "oa: the Merkle proof leads to %s, not to %s %.80s",
	                    got, name, root->u.string.ptr);
}

static int check_root(const struct tb_json *sig, struct tb_oa_result *res, struct tb_error *err)
{
	const struct tb_json *root = tb_json_get(sig, "merkleRoot");
	if (!root || root->type != TB_JSON_STRING)
		return tb_error_set(err, TB_EINVAL, "oa: signature.merkleRoot is %s, not hex",
		                    root ? tb_json_type_name(root->type) : "missing");
	return root_matches(root, "signature.merkleRoot", res, err);
}

int tb_oa_v2_integrity(const struct tb_json *doc, struct tb_oa_result *res,
                       struct tb_error *err)
{
	struct tb_oa_result scratch;
	if (!res)
		res = &scratch;
	memset(res, 0, sizeof *res);
	const struct tb_json *sig = doc && doc->type == TB_JSON_OBJECT
	                                    ? tb_json_get(doc, "signature") : NULL;
	int falsy = !sig || sig->type == TB_JSON_NULL ||
	            (sig->type == TB_JSON_BOOL && !sig->u.boolean) ||
	            (sig->type == TB_JSON_STRING && sig->u.string.len == 0) ||
	            (sig->type == TB_JSON_NUMBER && (sig->u.number.value == 0 ||
	                                             sig->u.number.value != sig->u.number.value));
	if (falsy)
		return tb_error_set(err, TB_EVERIFY, "oa: the document is not wrapped (no signature)");
	int rc = tb_oa_v2_digest(doc, res->target, res, err);
	if (rc)
		return rc;
	char hex[65];
	tb_hex_encode(res->target, 32, hex);
	const struct tb_json *th = sig->type == TB_JSON_OBJECT ? tb_json_get(sig, "targetHash") : NULL;
	res->target_ok = th && th->type == TB_JSON_STRING && th->u.string.len == 64 &&
	                 memcmp(th->u.string.ptr, hex, 64) == 0;
	if (!res->target_ok)
		return tb_error_set(err, TB_EVERIFY,
		                    "oa: the document's content hashes to %s, not to signature.targetHash %.80s",
		                    hex, th && th->type == TB_JSON_STRING ? th->u.string.ptr : "(none)");
	memcpy(res->root, res->target, 32);
	rc = fold_proof(sig, res->root, err);
	return rc ? rc : check_root(sig, res, err);
}

const char *tb_oa_unsalt(const char *s)
{
	const char *a = s ? strchr(s, ':') : NULL;
	const char *b = a ? strchr(a + 1, ':') : NULL;
	return b ? b + 1 : NULL;
}

int tb_oa_did_signer(const uint8_t root[32], const char *sig_hex, uint8_t addr[20],
                     struct tb_error *err)
{
	uint8_t sig[65], hash[32];
	size_t n;
	if (!sig_hex)
		return tb_error_set(err, TB_EINVAL, "oa: the proof has no signature");
	int rc = tb_hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, err);
	if (rc == 0 && n != 65)
		rc = tb_error_set(err, TB_EINVAL, "oa: a signature is 65 bytes, this one is %zu", n);
	if (rc)
		return rc;
	tb_eip191_hash(root, 32, hash);
	return tb_secp_recover_address(hash, sig, addr, err);
}

/* validator's isUUID(s, 4) on the first 36 bytes, followed by ':'. */
static int uuid_v4_prefix(const char *s, size_t len)
{
	if (len < 37 || s[36] != ':')
		return 0;
	for (size_t i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash != (s[i] == '-') || (!dash && tb_hex_digit(s[i]) < 0))
			return 0;
	}
	return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
}

/* typedStringToPrimitive of the text after the salt; *drop for "undefined". */
static struct tb_json *typed_value(const char *s, size_t len, int *drop)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
		len--;
	const char *colon = memchr(s, ':', len);
	size_t tl = colon ? (size_t)(colon - s) : len;
	const char *v = colon ? colon + 1 : s + len;
	size_t vl = (size_t)(s + len - v);
	*drop = 0;
	if (tl == 6 && memcmp(s, "string", 6) == 0)
		return tb_json_new_string(v, vl);
	if (tl == 7 && memcmp(s, "boolean", 7) == 0)
		return tb_json_new_bool(vl == 4 && memcmp(v, "true", 4) == 0);
	if (tl == 4 && memcmp(s, "null", 4) == 0)
		return tb_json_new_null();
	if (tl == 9 && memcmp(s, "undefined", 9) == 0) {
		*drop = 1;
		return NULL;
	}
	if (tl == 6 && memcmp(s, "number", 6) == 0 && vl < 64) {
		char buf[64], *end;
		memcpy(buf, v, vl);
		buf[vl] = 0;
		double d = strtod(buf, &end);
		return *end == 0 && vl > 0 ? tb_json_new_number(d) : tb_json_new_null(); /* NaN */
	}
	return tb_json_new_string(s, len); /* the library throws here; keep the text */
}

static int unsalt_into(const struct tb_json *in, struct tb_json **out, int *drop, size_t depth,
                       struct tb_error *err)
{
	*drop = 0;
	if (depth > OA_MAX_DEPTH)
		return tb_error_set(err, TB_ELIMIT, "oa: data nested deeper than %d levels", OA_MAX_DEPTH);
	if (in->type == TB_JSON_STRING && uuid_v4_prefix(in->u.string.ptr, in->u.string.len)) {
		*out = typed_value(in->u.string.ptr + 37, in->u.string.len - 37, drop);
	} else if (in->type == TB_JSON_OBJECT) {
		*out = tb_json_new_object();
		for (size_t i = 0; *out && i < in->u.object.len; i++) {
			const struct tb_json_member *m = &in->u.object.members[i];
			struct tb_json *v = NULL;
			int d, rc = unsalt_into(m->value, &v, &d, depth + 1, err);
			if (rc == 0 && !d && tb_json_object_set(*out, m->key, m->key_len, v) != 0)
				rc = TB_ENOMEM;
			if (rc) {
				tb_json_free(*out);
				*out = NULL;
				return rc == TB_ENOMEM ? tb_error_set(err, rc, "oa: out of memory") : rc;
			}
		}
	} else if (in->type == TB_JSON_ARRAY) {
		*out = tb_json_new_array();
		for (size_t i = 0; *out && i < in->u.array.len; i++) {
			struct tb_json *v = NULL;
			int d, rc = unsalt_into(in->u.array.items[i], &v, &d, depth + 1, err);
			if (rc == 0 && tb_json_array_push(*out, d ? tb_json_new_null() : v) != 0)
				rc = TB_ENOMEM;
			if (rc) {
				tb_json_free(*out);
				*out = NULL;
				return rc == TB_ENOMEM ? tb_error_set(err, rc, "oa: out of memory") : rc;
			}
		}
	} else {
		*out = tb_json_clone(in);
	}
	if (!*out && !*drop)
		return tb_error_set(err, TB_ENOMEM, "oa: out of memory unsalting data");
	return 0;
}

int tb_oa_v2_unsalt(const struct tb_json *data, struct tb_json **out, struct tb_error *err)
{
	int drop;
	*out = NULL;
	if (!data)
		return tb_error_set(err, TB_EINVAL, "oa: no data to unsalt");
	int rc = unsalt_into(data, out, &drop, 1, err);
	if (rc == 0 && drop)
		*out = tb_json_new_null();
	return rc;
}

/* ---- OpenAttestation v3 (3.0/verify.js, salt.js, digest.js) ----------------------- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

/* js-base64 decode() under Node: "-_" read as "+/", every other non-alphabet byte
 * (padding included) dropped, then atob, which throws when 1 digit is left over. */
static int b64_forgiving(const char *s, size_t len, struct tb_buf *out, struct tb_error *err)
{
	uint32_t acc = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		if (++n % 4 == 0) {
			uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
			if (tb_buf_append(out, b, 3))
				return tb_error_set(err, TB_ELIMIT, "oa: proof.salts decodes to more than %zu bytes",
				                    TB_OA_MAX_SALTS_TEXT);
		}
	}
	if (n % 4 == 1)
		return tb_error_set(err, TB_EINVAL, "oa: proof.salts is not base64 (%zu digits)", n);
	uint8_t b[2] = {(uint8_t)(acc >> (n % 4 == 2 ? 4 : 10)), (uint8_t)(acc >> 2)};
	if (n % 4 && tb_buf_append(out, b, n % 4 - 1))
		return tb_error_set(err, TB_ELIMIT, "oa: proof.salts is too long");
	return 0;
}

/* JavaScript string length: UTF-16 code units of a UTF-8 string. */
static size_t utf16_len(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		n += (c & 0xC0) != 0x80;
		n += c >= 0xF0;
	}
	return n;
}

/* decodeSalt(): JSON.parse of the base64 text; every salt.value is 64 characters. */
static int v3_salts(const struct tb_json *proof, struct tb_json **out, struct tb_error *err)
{
	const struct tb_json *s = tb_json_get(proof, "salts");
	*out = NULL;
	if (!s || s->type != TB_JSON_STRING)
		return tb_error_set(err, TB_EINVAL, "oa: proof.salts is %s, not a base64 string",
		                    s ? tb_json_type_name(s->type) : "missing");
	struct tb_buf text;
	tb_buf_init(&text, TB_OA_MAX_SALTS_TEXT);
	int rc = b64_forgiving(s->u.string.ptr, s->u.string.len, &text, err);
	size_t skip = text.len >= 3 && memcmp(text.data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* TextDecoder */
	struct tb_json_limits lim = {.max_bytes = TB_OA_MAX_SALTS_TEXT, .max_depth = 64};
	struct tb_error perr;
	if (rc == 0 && tb_json_parse(text.len ? (const char *)text.data + skip : "", text.len - skip,
	                             &lim, out, &perr) != 0)
		rc = tb_error_set(err, TB_EINVAL, "oa: proof.salts is not JSON: %s", perr.msg);
	tb_buf_fini(&text);
	if (rc)
		return rc;
	if ((*out)->type != TB_JSON_ARRAY)
		rc = tb_error_set(err, TB_EINVAL, "oa: proof.salts is a %s, not a list",
		                  tb_json_type_name((*out)->type));
	for (size_t i = 0; rc == 0 && i < tb_json_len(*out); i++) {
		const struct tb_json *v = tb_json_get(tb_json_at(*out, i), "value");
		if (!v || v->type != TB_JSON_STRING || utf16_len(v->u.string.ptr, v->u.string.len) != 64)
			rc = tb_error_set(err, TB_EINVAL, "oa: proof.salts[%zu]: salt must be 32 bytes", i);
	}
	if (rc) {
		tb_json_free(*out);
		*out = NULL;
	}
	return rc;
}

/* salt(): keys must not hold ".", "[" or "]"; counts the primitive leaves (an empty
 * object or array gives none). "proof" at the top is not part of the document. */
static int v3_count(const struct tb_json *j, size_t depth, size_t *n, struct tb_error *err)
{
	if (depth > OA_MAX_DEPTH)
		return tb_error_set(err, TB_ELIMIT, "oa: document nested deeper than %d levels",
		                    OA_MAX_DEPTH);
	if (j->type == TB_JSON_ARRAY) {
		for (size_t i = 0; i < j->u.array.len; i++) {
			int rc = v3_count(j->u.array.items[i], depth + 1, n, err);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (j->type != TB_JSON_OBJECT) {
		if (++*n > TB_OA_MAX_LEAVES)
			return tb_error_set(err, TB_ELIMIT, "oa: more than %d leaves in one document",
			                    TB_OA_MAX_LEAVES);
		return 0;
	}
	for (size_t i = 0; i < j->u.object.len; i++) {
		const struct tb_json_member *m = &j->u.object.members[i];
		if (depth == 1 && m->key_len == 5 && memcmp(m->key, "proof", 5) == 0)
			continue;
		if (memchr(m->key, '.', m->key_len) || memchr(m->key, '[', m->key_len) ||
		    memchr(m->key, ']', m->key_len))
			return tb_error_set(err, TB_EINVAL,
			                    "oa: key \"%.*s\": key names must not have '.', '[' or ']' in them",
			                    (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
		int rc = v3_count(m->value, depth + 1, n, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* One step of lodash get(): own member `key` of an object, item of an array (or its
 * length). NULL = undefined. Prototype properties are not modelled (never VALID). */
static const struct tb_json *v3_step(const struct tb_json *j, const char *key, size_t len,
                                     struct tb_json *scratch)
{
	if (j->type == TB_JSON_OBJECT) {
		for (size_t i = 0; i < j->u.object.len; i++)
			if (j->u.object.members[i].key_len == len &&
			    memcmp(j->u.object.members[i].key, key, len) == 0)
				return j->u.object.members[i].value;
		return NULL;
	}
	if (j->type != TB_JSON_ARRAY)
		return NULL;
	if (len == 6 && memcmp(key, "length", 6) == 0) {
		scratch->type = TB_JSON_NUMBER;
		scratch->u.number.value = (double)j->u.array.len;
		return scratch;
	}
	size_t idx = 0;
	if (len == 0 || len > 9 || (len > 1 && key[0] == '0'))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (key[i] < '0' || key[i] > '9')
			return NULL;
		idx = idx * 10 + (size_t)(key[i] - '0');
	}
	return idx < j->u.array.len ? j->u.array.items[idx] : NULL;
}

/* lodash get(documentWithoutProof, path) for the paths traverseAndFlatten writes:
 * "a.b[0].c" (an empty segment is an empty key, as stringToPath gives it). Quoted
 * brackets and other exotic paths resolve to nothing. */
static const struct tb_json *v3_get(const struct tb_json *doc, const char *p, size_t len,
                                    struct tb_json *scratch)
{
	const struct tb_json *j = doc;
	size_t i = 0;
	if (!memchr(p, '.', len) && !memchr(p, '[', len) && !memchr(p, ']', len))
		return len == 5 && memcmp(p, "proof", 5) == 0 ? NULL : v3_step(doc, p, len, scratch);
	for (int first = 1; j && i <= len; first = 0) {
		size_t end = i;
		if (i < len && p[i] == '[') {
			const char *close = memchr(p + i, ']', len - i);
			if (!close || p[i + 1] == '"' || p[i + 1] == '\'')
				return NULL;
			end = (size_t)(close - p);
			j = v3_step(j, p + i + 1, end - i - 1, scratch);
			i = end + 1;
		} else {
			while (end < len && p[end] != '.' && p[end] != '[' && p[end] != ']')
				end++;
			if (end < len && p[end] == ']')
				return NULL;
			if (first && end - i == 5 && memcmp(p + i, "proof", 5) == 0)
				return NULL;
			j = v3_step(j, p + i, end - i, scratch);
			i = end;
		}
		if (i == len)
			return j;
		if (p[i] == '.')
			i++;
		else if (p[i] != '[')
			return NULL;
	}
	return j;
}

static int js_truthy(const struct tb_json *v)
{
	switch (v->type) {
	case TB_JSON_NULL:
		return 0;
	case TB_JSON_BOOL:
		return v->u.boolean;
	case TB_JSON_NUMBER:
		return v->u.number.value != 0 && v->u.number.value == v->u.number.value;
	case TB_JSON_STRING:
		return v->u.string.len > 0;
	default:
		return 1;
	}
}

/* JavaScript String(value) (template literal): arrays join with ",", null is "". */
static int js_string(const struct tb_json *v, struct tb_buf *b, size_t depth)
{
	char num[40];
	if (depth > OA_MAX_DEPTH)
		return TB_ELIMIT;
	switch (v->type) {
	case TB_JSON_NULL:
		return depth ? 0 : tb_buf_puts(b, "null");
	case TB_JSON_BOOL:
		return tb_buf_puts(b, v->u.boolean ? "true" : "false");
	case TB_JSON_STRING:
		return tb_buf_append(b, v->u.string.ptr, v->u.string.len);
	case TB_JSON_OBJECT:
		return tb_buf_puts(b, "[object Object]");
	case TB_JSON_NUMBER:
		if (v->u.number.value - v->u.number.value != 0) /* Infinity (NaN is falsy) */
			return tb_buf_puts(b, v->u.number.value > 0 ? "Infinity" : "-Infinity");
		if (tb_json_format_number(v->u.number.value, num, sizeof num) != 0)
			return TB_EINVAL;
		return tb_buf_puts(b, num);
	case TB_JSON_ARRAY:
		for (size_t i = 0; i < v->u.array.len; i++) {
			int rc = i ? tb_buf_putc(b, ',') : 0;
			rc = rc ? rc : js_string(v->u.array.items[i], b, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	return 0;
}

/* keccak256(JSON.stringify({[path]: `${salt}:${value}`})) as 64 hex digits. */
static int v3_leaf(const struct tb_json *salt, const struct tb_json *value, struct oa_flat *f)
{
	const struct tb_json *path = tb_json_get(salt, "path");
	const struct tb_json *sv = tb_json_get(salt, "value");
	struct oa_entry *e;
	struct tb_buf *b = &f->path, *t = &f->leaf; /* b: the "salt:value" text */
	tb_buf_reset(b);
	tb_buf_reset(t);
	int rc = tb_buf_append(b, sv->u.string.ptr, sv->u.string.len);
	rc = rc ? rc : tb_buf_putc(b, ':');
	rc = rc ? rc : js_string(value, b, 0);
	rc = rc ? rc : tb_buf_putc(t, '{');
	rc = rc ? rc : tb_json_write_string(t, path->u.string.ptr, path->u.string.len);
	rc = rc ? rc : tb_buf_putc(t, ':');
	rc = rc ? rc : tb_json_write_string(t, (const char *)b->data, b->len);
	rc = rc ? rc : tb_buf_putc(t, '}');
	if (rc)
		return tb_error_set(f->err, rc, "oa: the leaf for salt path %.80s is too large",
		                    path->u.string.ptr);
	rc = flat_push(f, &e);
	if (rc)
		return rc;
	uint8_t h[32];
	tb_keccak256(t->data, t->len, h);
	tb_hex_encode(h, 32, e->hex);
	e->len = 64;
	return 0;
}

static int v3_obfuscated(struct oa_flat *f, const struct tb_json *proof, struct tb_oa_result *res)
{
	const struct tb_json *priv = tb_json_get(proof, "privacy");
	const struct tb_json *list = priv ? tb_json_get(priv, "obfuscated") : NULL;
	if (!list || list->type != TB_JSON_ARRAY)
		return tb_error_set(f->err, TB_EINVAL, "oa: proof.privacy.obfuscated is %s, not a list",
		                    list ? tb_json_type_name(list->type) : "missing");
	return push_obfuscated(f, list, "proof.privacy.obfuscated", res);
}

/* digestCredential() after the salt count check; salts is the decoded list. */
static int v3_digest_salts(const struct tb_json *doc, const struct tb_json *salts, uint8_t out[32],
                           struct tb_oa_result *res, struct tb_error *err)
{
	struct oa_flat f = {.err = err};
	tb_buf_init(&f.path, 0);
	tb_buf_init(&f.leaf, 0);
	int rc = v3_obfuscated(&f, tb_json_get(doc, "proof"), res);
	for (size_t i = 0; rc == 0 && i < tb_json_len(salts); i++) {
		const struct tb_json *s = tb_json_at(salts, i), *v;
		const struct tb_json *path = tb_json_get(s, "path");
		struct tb_json scratch;
		memset(&scratch, 0, sizeof scratch);
		if (!path || path->type != TB_JSON_STRING)
			continue; /* lodash get() of a non-string path: not modelled, never VALID */
		v = v3_get(doc, path->u.string.ptr, path->u.string.len, &scratch);
		if (v && js_truthy(v)) {
			rc = v3_leaf(s, v, &f);
			res->leaves += rc == 0;
		}
	}
	if (rc == 0)
		rc = hash_sorted(&f, out);
	free(f.v);
	tb_buf_fini(&f.path);
	tb_buf_fini(&f.leaf);
	return rc;
}

static int v3_prepare(const struct tb_json *doc, struct tb_json **salts, struct tb_error *err)
{
	const struct tb_json *proof = doc && doc->type == TB_JSON_OBJECT ? tb_json_get(doc, "proof")
	                                                                 : NULL;
	*salts = NULL;
	if (!proof || !js_truthy(proof))
		return tb_error_set(err, TB_EVERIFY, "oa: the document is not wrapped (no proof)");
	int rc = v3_salts(proof, salts, err);
	size_t visible = 0;
	rc = rc ? rc : v3_count(doc, 1, &visible, err);
	if (rc == 0 && visible != tb_json_len(*salts))
		rc = tb_error_set(err, TB_EVERIFY,
		                  "oa: the document has %zu values but proof.salts covers %zu: values "
		                  "were added or removed", visible, tb_json_len(*salts));
	if (rc) {
		tb_json_free(*salts);
		*salts = NULL;
	}
	return rc;
}

int tb_oa_v3_digest(const struct tb_json *doc, uint8_t out[32], struct tb_oa_result *res,
                    struct tb_error *err)
{
	struct tb_oa_result scratch;
	struct tb_json *salts;
	if (!res)
		res = &scratch;
	memset(res, 0, sizeof *res);
	int rc = v3_prepare(doc, &salts, err);
	if (rc == 0)
		rc = v3_digest_salts(doc, salts, out, res, err);
	tb_json_free(salts);
	return rc;
}

/* checkProof(proof.proofs, proof.merkleRoot, targetHash) with Node's hex reading. */
static int v3_fold(const struct tb_json *proof, struct tb_oa_result *res, struct tb_error *err)
{
	const struct tb_json *steps = tb_json_get(proof, "proofs");
	const struct tb_json *root = tb_json_get(proof, "merkleRoot");
	if (!steps || steps->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "oa: proof.proofs is %s, not a list",
		                    steps ? tb_json_type_name(steps->type) : "missing");
	if (!root || root->type != TB_JSON_STRING)
		return tb_error_set(err, TB_EINVAL, "oa: proof.merkleRoot is %s, not hex",
		                    root ? tb_json_type_name(root->type) : "missing");
	memcpy(res->root, res->target, 32);
	int rc = fold_steps(steps, "proof.proofs", res->root, err);
	return rc ? rc : root_matches(root, "proof.merkleRoot", res, err);
}

int tb_oa_v3_integrity(const struct tb_json *doc, struct tb_oa_result *res,
                       struct tb_error *err)
{
	struct tb_oa_result scratch;
	if (!res)
		res = &scratch;
	int rc = tb_oa_v3_digest(doc, res->target, res, err);
	if (rc)
		return rc;
	const struct tb_json *proof = tb_json_get(doc, "proof");
	const struct tb_json *th = tb_json_get(proof, "targetHash");
	char hex[65];
	tb_hex_encode(res->target, 32, hex);
	res->target_ok = th && th->type == TB_JSON_STRING && th->u.string.len == 64 &&
	                 memcmp(th->u.string.ptr, hex, 64) == 0;
	if (!res->target_ok)
		return tb_error_set(err, TB_EVERIFY,
		                    "oa: the document's content hashes to %s, not to proof.targetHash %.80s",
		                    hex, th && th->type == TB_JSON_STRING ? th->u.string.ptr : "(none)");
	return v3_fold(proof, res, err);
}
