/* XML to native JSON tree (see xml.h for the shape). The parse never touches the
 * network or the file system: XML_PARSE_NONET, no XML_PARSE_NOENT/DTDLOAD, and any
 * DOCTYPE is refused, so neither external nor internal entities are expanded. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/xml.h"

#define XML_DEFAULT_MAX_BYTES ((size_t)16 << 20)
#define XML_DEFAULT_MAX_DEPTH 64

struct conv {
	size_t max_depth;
	struct tb_error *err;
};

static int is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* A new JSON string of s without leading and trailing XML white space. */
static struct tb_json *trimmed(const char *s)
{
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	while (n && strchr(" \t\r\n", *s)) {
		s++;
		n--;
	}
	return tb_json_new_string(s, n);
}

static int add_member(struct tb_json *obj, const char *name, struct tb_json *v)
{
	/* convert() never returns an array, so an array member is a repeat list */
	struct tb_json *have = tb_json_get(obj, name);
	if (!have)
		return tb_json_object_set(obj, name, strlen(name), v);
	if (have->type == TB_JSON_ARRAY)
		return tb_json_array_push(have, v);
	struct tb_json *arr = tb_json_new_array();
	struct tb_json *first = tb_json_clone(have);
	if (!arr || !first || tb_json_array_push(arr, first)) {
		tb_json_free(arr);
		tb_json_free(v);
		return TB_ENOMEM;
	}
	if (tb_json_array_push(arr, v)) {
		tb_json_free(arr);
		return TB_ENOMEM;
	}
	return tb_json_object_set(obj, name, strlen(name), arr);
}

static int has_structure(const xmlNode *n)
{
	if (n->properties)
		return 1;
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

static struct tb_json *convert(const xmlNode *n, size_t depth, struct conv *cv);

static int fill_object(struct tb_json *obj, const xmlNode *n, size_t depth, struct conv *cv)
{
	struct tb_buf text;
	int rc = 0;
	tb_buf_init(&text, 0);
	for (const xmlAttr *a = n->properties; a && !rc; a = a->next) {
		xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
		struct tb_buf key;
		tb_buf_init(&key, 4096);
		rc = tb_buf_putc(&key, '@');
		rc = rc ? rc : tb_buf_puts(&key, (const char *)a->name);
		rc = rc ? rc
		        : tb_json_object_set(obj, (const char *)key.data, key.len,
		                             tb_json_new_string(v ? (char *)v : "",
		                                                v ? strlen((char *)v) : 0));
		tb_buf_fini(&key);
		xmlFree(v);
	}
	for (const xmlNode *c = n->children; c && !rc; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			struct tb_json *v = convert(c, depth + 1, cv);
			rc = v ? add_member(obj, (const char *)c->name, v) : cv->err->code;
		} else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			rc = tb_buf_puts(&text, (const char *)c->content);
		}
	}
	if (!rc && text.len && !is_blank((const char *)text.data))
		rc = tb_json_object_set(obj, "#text", 5, trimmed((const char *)text.data));
	tb_buf_fini(&text);
	if (rc && !cv->err->code)
		tb_error_set(cv->err, rc, "xml: line %d: out of memory or size limit", n->line);
	return rc;
}

static struct tb_json *convert(const xmlNode *n, size_t depth, struct conv *cv)
{
	if (depth > cv->max_depth) {
		tb_error_set(cv->err, TB_ELIMIT, "xml: line %d: element <%s> nested deeper than %zu",
		             n->line, (const char *)n->name, cv->max_depth);
		return NULL;
	}
	if (!has_structure(n)) {
		xmlChar *s = xmlNodeGetContent(n);
		struct tb_json *v = trimmed(s ? (const char *)s : "");
		xmlFree(s);
		if (!v)
			tb_error_set(cv->err, TB_ENOMEM, "xml: out of memory");
		return v;
	}
	struct tb_json *obj = tb_json_new_object();
	if (!obj) {
		tb_error_set(cv->err, TB_ENOMEM, "xml: out of memory");
		return NULL;
	}
	if (fill_object(obj, n, depth, cv)) {
		tb_json_free(obj);
		return NULL;
	}
	return obj;
}

int tb_xml_to_json(const char *text, size_t len, const struct tb_xml_limits *lim,
                   struct tb_json **out, struct tb_error *err)
{
	struct tb_error local = {0};
	struct conv cv = {lim && lim->max_depth ? lim->max_depth : XML_DEFAULT_MAX_DEPTH,
	                  err ? err : &local};
	size_t max = lim && lim->max_bytes ? lim->max_bytes : XML_DEFAULT_MAX_BYTES;
	*out = NULL;
	if (len > max || len > (size_t)INT32_MAX)
		return tb_error_set(err, TB_ELIMIT, "xml: input of %zu bytes exceeds the limit of %zu",
		                    len, max);
	/* refuse a DOCTYPE before libxml2 sees it, so no entity is ever parsed; the
	 * check after parsing catches encodings this byte scan cannot read */
	if (memmem(text, len, "<!DOCTYPE", 9))
		return tb_error_set(err, TB_EINVAL, "xml: a DOCTYPE is not accepted (no DTDs or entities)");
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return tb_error_set(err, TB_ENOMEM, "xml: out of memory");
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL,
	                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	int rc = 0;
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		rc = tb_error_set(err, TB_EINVAL, "xml: line %d: %s", e ? e->line : 0,
		                  e && e->message ? e->message : "not well-formed\n");
		size_t n = strlen(cv.err->msg);
		if (n && cv.err->msg[n - 1] == '\n')
			cv.err->msg[n - 1] = 0;
	} else if (doc->intSubset || doc->extSubset) {
		rc = tb_error_set(err, TB_EINVAL, "xml: a DOCTYPE is not accepted (no DTDs or entities)");
	} else {
		xmlNode *root = xmlDocGetRootElement(doc);
		struct tb_json *v = root ? convert(root, 1, &cv) : NULL;
		struct tb_json *top = v ? tb_json_new_object() : NULL;
		if (!root)
			rc = tb_error_set(err, TB_EINVAL, "xml: no root element");
		else if (!v)
			rc = cv.err->code ? cv.err->code : TB_ENOMEM;
		else if (!top || tb_json_object_set(top, (const char *)root->name,
		                                    strlen((const char *)root->name), v)) {
			tb_json_free(top);
			rc = tb_error_set(err, TB_ENOMEM, "xml: out of memory");
		} else {
			*out = top;
		}
	}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}
