/* XML to native JSON tree, on libxml2, for adapters whose wire format is XML.
 * Invariants: no network and no external entity or DTD is ever loaded (a DOCTYPE
 * is refused outright); input size and element depth are bounded; names are local
 * names (namespace prefixes and xmlns attributes dropped), so a namespaced document
 * and its namespace-less twin give the same tree. Shape (docs/mapping.md):
 *   the document is {"Root": V}; an element with neither attributes nor child
 *   elements is its trimmed text (a string, "" when empty); otherwise an object with
 *   "@attr" members, one member per child local name (an array, in document order,
 *   when the name repeats) and "#text" for non-blank text. Comments and PIs are
 *   dropped. */
#ifndef TB_XML_H
#define TB_XML_H

#include <stddef.h>

#include "lib/error.h"
#include "lib/json.h"

struct tb_xml_limits {
	size_t max_bytes; /* input size; 0 = 16 MiB */
	size_t max_depth; /* element nesting; 0 = 64 */
};

/* Decode len bytes of XML into a new tree (*out, free with tb_json_free). */
int tb_xml_to_json(const char *text, size_t len, const struct tb_xml_limits *lim,
                   struct tb_json **out, struct tb_error *err);

#endif
