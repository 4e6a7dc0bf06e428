/* Paths into a canonical record's data, as a sharing policy names them:
 * "A.B.C", where a segment may end in "[]" (every repeat) or "[N]" (repeat N,
 * from 0). A segment without brackets that meets an array applies to every
 * element, so "Item.Commodity" and "Item[].Commodity" are the same path.
 * Invariant: applying a path reaches every value the path names, in every
 * repeat; a path is checked against the dictionary before it is ever applied. */
#ifndef TB_MODEL_DATAPATH_H
#define TB_MODEL_DATAPATH_H

#include <stddef.h>

#include "lib/error.h"
#include "lib/json.h"
#include "model/dict.h"

#define TB_DATAPATH_MAX_SEGMENTS 32
#define TB_DATAPATH_MAX_INDEX 100000
#define TB_DATAPATH_EVERY (-1) /* no brackets, or "[]" */

struct tb_datapath {
	char *seg[TB_DATAPATH_MAX_SEGMENTS];
	long index[TB_DATAPATH_MAX_SEGMENTS];   /* TB_DATAPATH_EVERY or N */
	int brackets[TB_DATAPATH_MAX_SEGMENTS]; /* 1 when "[]" or "[N]" was written */
	size_t n;
};

/* Parse text; on error err names the path and what is wrong in it. */
int tb_datapath_parse(const char *text, struct tb_datapath *p, struct tb_error *err);
void tb_datapath_fini(struct tb_datapath *p);

/* Called for each value the path names: set *repl to a new value that replaces
 * it, or leave it NULL to remove the value (member or array element). */
typedef int (*tb_datapath_fn)(void *ctx, const struct tb_json *value, struct tb_json **repl,
                              struct tb_error *err);
/* Apply fn to every value p names under data; *hits (may be NULL) counts them.
 * A removed value leaves a hole (a NULL member value or array item) so that the
 * indices of the next paths keep their meaning: call tb_datapath_sweep on data
 * after the last path, before anything else reads it. */
int tb_datapath_apply(const struct tb_datapath *p, struct tb_json *data, tb_datapath_fn fn,
                      void *ctx, size_t *hits, struct tb_error *err);
/* Close the holes apply left under j (objects through tb_json_object_remove).
 * 0, or TB_ENOMEM (a hole then becomes null: none is ever left). */
int tb_datapath_sweep(struct tb_json *j);

/* 1 when p can name a value in a record of type (its root class, dictionary
 * elements, an index only on an element that repeats); else 0 with the reason in
 * why. -1 when the type has no schema in the dictionary. */
int tb_datapath_check(const struct tb_datapath *p, const struct tb_dict *d, const char *type,
                      char *why, size_t cap);

/* p as it applies to type: "[]" after every repeating element the path goes
 * through without an index (it applies to every repeat); "" when it does not apply. */
int tb_datapath_describe(const struct tb_datapath *p, const struct tb_dict *d, const char *type,
                         char *out, size_t cap);

#endif
