/* Merkle-Patricia trie. Roots are built from a sorted, de-duplicated copy of
 * the pairs (the root of a trie depends only on its final content, so ordered
 * insert/delete histories reduce to a set). Node references follow Ethereum:
 * an encoded child shorter than 32 bytes is embedded, otherwise its keccak256;
 * the root is always hashed. Proof walks never read past a node's bytes. */
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "evm/mpt.h"
#include "evm/rlp.h"
#include "lib/hex.h"

const uint8_t tb_mpt_empty_root[32] = {
	0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
	0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

struct entry {
	const uint8_t *nib; /* key as nibbles */
	size_t nlen;
	const uint8_t *val;
	size_t vlen;
	size_t order; /* input position: the last write of a key wins */
};

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
	int c = memcmp(a->nib, b->nib, n);
	if (c)
		return c;
	if (a->nlen != b->nlen)
		return a->nlen < b->nlen ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}

/* Hex-prefix encoding of nibbles (yellow paper appendix C). */
static int put_hp(struct tb_buf *b, const uint8_t *nib, size_t n, int leaf)
{
	uint8_t tmp[TB_MPT_MAX_KEY + 1];
	size_t o = 0, i = 0;
	uint8_t flag = (uint8_t)((leaf ? 2 : 0) + (n & 1));
	if (n & 1)
		tmp[o++] = (uint8_t)(flag << 4 | nib[i++]);
	else
		tmp[o++] = (uint8_t)(flag << 4);
	for (; i < n; i += 2)
		tmp[o++] = (uint8_t)(nib[i] << 4 | nib[i + 1]);
	return tb_rlp_put_bytes(b, tmp, o);
}

static int encode_node(const struct entry *e, size_t n, size_t depth, struct tb_buf *node);

/* Append the reference to the node for e[0..n): embedded if short, else its hash. */
static int put_ref(struct tb_buf *parent, const struct entry *e, size_t n, size_t depth)
{
	struct tb_buf node;
	tb_buf_init(&node, 0);
	int rc = encode_node(e, n, depth, &node);
	if (rc == 0 && node.len < 32) {
		rc = tb_rlp_put_raw(parent, node.data, node.len);
	} else if (rc == 0) {
		uint8_t h[32];
		tb_keccak256(node.data, node.len, h);
		rc = tb_rlp_put_bytes(parent, h, 32);
	}
	tb_buf_fini(&node);
	return rc;
}

static int encode_branch(const struct entry *e, size_t n, size_t depth, struct tb_buf *node)
{
	size_t mark, i = 0;
	int rc = 0;
	const struct entry *here = NULL;
	tb_rlp_list_begin(node, &mark);
	if (e[0].nlen == depth) /* sorted: a key ending here comes first */
		here = &e[i++];
	for (uint8_t nib = 0; nib < 16 && rc == 0; nib++) {
		size_t j = i;
		while (j < n && e[j].nib[depth] == nib)
			j++;
		rc = j > i ? put_ref(node, e + i, j - i, depth + 1) : tb_rlp_put_bytes(node, NULL, 0);
		i = j;
	}
	if (rc == 0)
		rc = here ? tb_rlp_put_bytes(node, here->val, here->vlen) : tb_rlp_put_bytes(node, NULL, 0);
	return rc ? rc : tb_rlp_list_end(node, mark);
}

static int encode_node(const struct entry *e, size_t n, size_t depth, struct tb_buf *node)
{
	size_t mark;
	int rc;
	if (n == 1) {
		tb_rlp_list_begin(node, &mark);
		rc = put_hp(node, e[0].nib + depth, e[0].nlen - depth, 1);
		if (rc == 0)
			rc = tb_rlp_put_bytes(node, e[0].val, e[0].vlen);
		return rc ? rc : tb_rlp_list_end(node, mark);
	}
	/* Sorted and distinct: the common prefix of all is that of the first and last. */
	const struct entry *a = &e[0], *z = &e[n - 1];
	size_t p = 0;
	while (depth + p < a->nlen && depth + p < z->nlen && a->nib[depth + p] == z->nib[depth + p])
		p++;
	if (p == 0)
		return encode_branch(e, n, depth, node);
	tb_rlp_list_begin(node, &mark);
	rc = put_hp(node, a->nib + depth, p, 0);
	if (rc == 0)
		rc = put_ref(node, e, n, depth + p);
	return rc ? rc : tb_rlp_list_end(node, mark);
}

/* Fill e[] with nibble keys (hashed if secure) into nib; returns the count kept. */
static size_t load_entries(const struct tb_mpt_pair *pairs, size_t n, int secure,
                           struct entry *e, uint8_t *nib)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t h[32];
		const uint8_t *key = pairs[i].key;
		size_t kl = pairs[i].key_len;
		if (secure) {
			tb_keccak256(key, kl, h);
			key = h;
			kl = 32;
		}
		for (size_t j = 0; j < kl; j++) {
			nib[2 * j] = key[j] >> 4;
			nib[2 * j + 1] = key[j] & 15;
		}
		e[k] = (struct entry){nib, 2 * kl, pairs[i].value, pairs[i].value_len, i};
		nib += 2 * kl;
		k++;
	}
	return k;
}

/* Keep the last write of each key, then drop empty values (deletions). */
static size_t dedupe(struct entry *e, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int last = i + 1 == n || e[i].nlen != e[i + 1].nlen ||
		           memcmp(e[i].nib, e[i + 1].nib, e[i].nlen) != 0;
		if (last && e[i].vlen > 0)
			e[o++] = e[i];
	}
	return o;
}

int tb_mpt_root(const struct tb_mpt_pair *pairs, size_t n, int secure, uint8_t root[32],
                struct tb_error *err)
{
	if (n > TB_MPT_MAX_PAIRS)
		return tb_error_set(err, TB_ELIMIT, "mpt: %zu pairs exceed the limit of %d", n,
		                    TB_MPT_MAX_PAIRS);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (pairs[i].key_len > TB_MPT_MAX_KEY)
			return tb_error_set(err, TB_ELIMIT, "mpt: pair %zu: key of %zu bytes exceeds %d", i,
			                    pairs[i].key_len, TB_MPT_MAX_KEY);
		total += 2 * (secure ? 32 : pairs[i].key_len);
	}
	struct entry *e = malloc((n ? n : 1) * sizeof *e);
	uint8_t *nib = malloc(total ? total : 1);
	int rc = 0;
	if (e == NULL || nib == NULL) {
		rc = tb_error_set(err, TB_ENOMEM, "mpt: out of memory for %zu pairs", n);
		goto out;
	}
	size_t k = load_entries(pairs, n, secure, e, nib);
	qsort(e, k, sizeof *e, entry_cmp);
	k = dedupe(e, k);
	if (k == 0) {
		memcpy(root, tb_mpt_empty_root, 32);
		goto out;
	}
	struct tb_buf node;
	tb_buf_init(&node, 0);
	rc = encode_node(e, k, 0, &node);
	if (rc == 0)
		tb_keccak256(node.data, node.len, root);
	else
		tb_error_set(err, rc, "mpt: encoding the trie failed: %s", tb_strerror(rc));
	tb_buf_fini(&node);
out:
	free(e);
	free(nib);
	return rc;
}

/* ---- proof verification ---- */

struct walk {
	uint8_t key[2 * TB_MPT_MAX_KEY]; /* nibbles */
	size_t klen, pos;                /* pos: nibbles consumed so far */
	size_t node;                     /* index of the proof node being read */
	int found;
	const uint8_t *value;
	size_t value_len;
};

/* What the current node tells us to do next. */
enum step { STEP_DONE, STEP_HASH, STEP_INLINE };

static void hex32(const uint8_t *h, char out[65])
{
	tb_hex_encode(h, 32, out);
}

/* Decode a hex-prefix path into nib; *leaf gets the node kind. */
static int read_hp(const struct tb_rlp_item *path, uint8_t *nib, size_t *n, int *leaf,
                   size_t node, struct tb_error *err)
{
	if (path->is_list || path->len == 0 || path->len > TB_MPT_MAX_KEY + 1)
		return tb_error_set(err, TB_EINVAL, "mpt: node %zu: path is not a hex-prefix string",
		                    node);
	uint8_t flag = path->payload[0] >> 4;
	if (flag > 3 || (!(flag & 1) && (path->payload[0] & 15)))
		return tb_error_set(err, TB_EINVAL, "mpt: node %zu: bad hex-prefix flag byte 0x%02x",
		                    node, path->payload[0]);
	*leaf = flag >> 1;
	*n = 0;
	if (flag & 1)
		nib[(*n)++] = path->payload[0] & 15;
	for (size_t i = 1; i < path->len; i++) {
		nib[(*n)++] = path->payload[i] >> 4;
		nib[(*n)++] = path->payload[i] & 15;
	}
	return 0;
}

/* Follow a child reference: empty = absent, 32-byte string = hash, list = embedded. */
static int follow(struct walk *w, const struct tb_rlp_item *child, uint8_t want[32],
                  struct tb_rlp_item *inl, enum step *next, struct tb_error *err)
{
	if (!child->is_list && child->len == 0) {
		*next = STEP_DONE;
		return 0;
	}
	if (!child->is_list && child->len == 32) {
		memcpy(want, child->payload, 32);
		*next = STEP_HASH;
		return 0;
	}
	if (child->is_list && child->raw_len < 32) {
		*inl = *child;
		*next = STEP_INLINE;
		return 0;
	}
	return tb_error_set(err, TB_EINVAL,
	                    "mpt: node %zu: child reference of %zu bytes is neither a hash nor an "
	                    "embedded node", w->node, child->raw_len);
}

static int take_value(struct walk *w, const struct tb_rlp_item *v, struct tb_error *err)
{
	if (v->is_list)
		return tb_error_set(err, TB_EINVAL, "mpt: node %zu: value is a list, not a string",
		                    w->node);
	w->found = v->len > 0;
	w->value = v->len ? v->payload : NULL;
	w->value_len = v->len;
	return 0;
}

static int step_branch(struct walk *w, const struct tb_rlp_item *node, uint8_t want[32],
                       struct tb_rlp_item *inl, enum step *next, struct tb_error *err)
{
	struct tb_rlp_item it;
	size_t slot = w->pos == w->klen ? 16 : w->key[w->pos];
	int rc = tb_rlp_at(node, slot, &it, err);
	if (rc < 0)
		return rc;
	if (slot == 16) {
		*next = STEP_DONE;
		return take_value(w, &it, err);
	}
	w->pos++;
	return follow(w, &it, want, inl, next, err);
}

static int step_short(struct walk *w, const struct tb_rlp_item *node, uint8_t want[32],
                      struct tb_rlp_item *inl, enum step *next, struct tb_error *err)
{
	struct tb_rlp_item path, child;
	uint8_t nib[2 * TB_MPT_MAX_KEY + 2];
	size_t n = 0;
	int leaf = 0;
	int rc = tb_rlp_at(node, 0, &path, err);
	if (rc == 0)
		rc = tb_rlp_at(node, 1, &child, err);
	if (rc == 0)
		rc = read_hp(&path, nib, &n, &leaf, w->node, err);
	if (rc < 0)
		return rc;
	size_t rest = w->klen - w->pos;
	*next = STEP_DONE;
	if (leaf) {
		if (n == rest && memcmp(nib, w->key + w->pos, n) == 0)
			return take_value(w, &child, err);
		return 0; /* a different key lives here: ours is absent */
	}
	if (n == 0)
		return tb_error_set(err, TB_EINVAL, "mpt: node %zu: extension with an empty path",
		                    w->node);
	if (n > rest || memcmp(nib, w->key + w->pos, n) != 0)
		return 0;
	w->pos += n;
	rc = follow(w, &child, want, inl, next, err);
	if (rc == 0 && *next == STEP_DONE)
		return tb_error_set(err, TB_EINVAL, "mpt: node %zu: extension points to nothing",
		                    w->node);
	return rc;
}

static int step_node(struct walk *w, const uint8_t *data, size_t len, uint8_t want[32],
                     struct tb_rlp_item *inl, enum step *next, struct tb_error *err)
{
	struct tb_rlp_item node;
	int rc = tb_rlp_decode(data, len, &node, err);
	if (rc < 0) {
		tb_error_prefix(err, "mpt: node %zu", w->node);
		return rc;
	}
	if (!node.is_list && node.len == 0 && w->node == 0 && w->pos == 0) {
		*next = STEP_DONE; /* the empty trie: nothing is in it */
		return 0;
	}
	size_t items = tb_rlp_count(&node);
	if (node.is_list && items == 17)
		return step_branch(w, &node, want, inl, next, err);
	if (node.is_list && items == 2)
		return step_short(w, &node, want, inl, next, err);
	return tb_error_set(err, TB_EINVAL,
	                    "mpt: node %zu: %s of %zu items is neither a branch (17) nor a "
	                    "leaf/extension (2)", w->node, node.is_list ? "list" : "string", items);
}

static int check_hashed(const struct tb_mpt_node *proof, size_t n, size_t i, const uint8_t want[32],
                        struct tb_error *err)
{
	char we[65], go[65];
	uint8_t got[32];
	if (i >= n) {
		hex32(want, we);
		return tb_error_set(err, TB_EVERIFY,
		                    "mpt: proof ends after %zu nodes but the path needs node %zu "
		                    "(hash 0x%s)", n, i, we);
	}
	tb_keccak256(proof[i].data, proof[i].len, got);
	if (memcmp(got, want, 32) == 0)
		return 0;
	hex32(want, we);
	hex32(got, go);
	return tb_error_set(err, TB_EVERIFY, "mpt: node %zu: hash mismatch: expected 0x%s, got 0x%s",
	                    i, we, go);
}

int tb_mpt_verify(const uint8_t root[32], const uint8_t *key, size_t key_len,
                  const struct tb_mpt_node *proof, size_t n, int *found, const uint8_t **value,
                  size_t *value_len, struct tb_error *err)
{
	*found = 0;
	*value = NULL;
	*value_len = 0;
	if (key_len > TB_MPT_MAX_KEY)
		return tb_error_set(err, TB_ELIMIT, "mpt: key of %zu bytes exceeds %d", key_len,
		                    TB_MPT_MAX_KEY);
	if (n > TB_MPT_MAX_PROOF_NODES)
		return tb_error_set(err, TB_ELIMIT, "mpt: proof of %zu nodes exceeds %d", n,
		                    TB_MPT_MAX_PROOF_NODES);
	struct walk w = {.klen = 2 * key_len};
	for (size_t i = 0; i < key_len; i++) {
		w.key[2 * i] = key[i] >> 4;
		w.key[2 * i + 1] = key[i] & 15;
	}
	uint8_t want[32];
	memcpy(want, root, 32);
	if (n == 0 && memcmp(root, tb_mpt_empty_root, 32) == 0)
		return 0; /* nothing to walk: the empty trie holds no key */
	struct tb_rlp_item inl;
	enum step next = STEP_HASH;
	size_t used = 0;
	while (next != STEP_DONE) {
		int rc;
		if (next == STEP_HASH) {
			rc = check_hashed(proof, n, used, want, err);
			if (rc < 0)
				return rc;
			w.node = used++;
			rc = step_node(&w, proof[w.node].data, proof[w.node].len, want, &inl, &next, err);
		} else {
			struct tb_rlp_item here = inl;
			rc = step_node(&w, here.raw, here.raw_len, want, &inl, &next, err);
		}
		if (rc < 0)
			return rc;
	}
	if (used != n)
		return tb_error_set(err, TB_EVERIFY,
		                    "mpt: proof has %zu nodes but the path ends at node %zu", n,
		                    used - 1);
	*found = w.found;
	*value = w.value;
	*value_len = w.value_len;
	return 0;
}
