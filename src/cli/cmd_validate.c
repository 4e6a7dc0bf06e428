/* tradebridge validate: check a canonical record's envelope and data against the
 * WCO dictionary, code lists and record-type schemas in mappings/wco/. Invariant:
 * every violation is reported (up to TB_VIOLATIONS_MAX) with its JSON path, the
 * element and its WCO ID, and what was expected; exit 1 if any, 0 if none. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "lib/printable.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "model/dict.h"
#include "model/record.h"

#define TB_VALIDATE_MAX_INPUT ((size_t)16 << 20)

static const char usage[] =
	"usage: tradebridge validate [--json] [--dict DIR] [FILE]\n"
	"  Check the canonical record in FILE (or standard input) against the WCO\n"
	"  dictionary: envelope, required elements, formats (an..35, n..16,3, ...) and\n"
	"  code lists. Prints every violation as PATH: RULE: ELEMENT (WCO ID): expected ...\n"
	"  --json      one object {\"valid\", \"id\", \"violations\": [{path, rule, element,\n"
	"              wco, expected}], \"truncated\"}\n"
	"  --dict DIR  dictionary directory (default $TRADEBRIDGE_WCO_DIR or the installed one)\n"
	"  Exit status: 0 valid, 1 invalid (or not JSON), 2 usage or dictionary error.\n";

static int put_opt_string(struct tb_buf *o, const char *k, const char *v)
{
	int rc = tb_buf_printf(o, ",\"%s\":", k);
	return rc ? rc : v ? tb_json_write_string(o, v, strlen(v)) : tb_buf_puts(o, "null");
}

static int print_json(const struct tb_violations *v, const char *id)
{
	struct tb_buf o;
	tb_buf_init(&o, 0);
	int rc = tb_buf_printf(&o, "{\"valid\":%s", v->len ? "false" : "true");
	rc = rc ? rc : put_opt_string(&o, "id", id);
	rc = rc ? rc : tb_buf_puts(&o, ",\"violations\":[");
	for (size_t i = 0; i < v->len && !rc; i++) {
		const struct tb_violation *x = &v->items[i];
		rc = tb_buf_printf(&o, "%s{\"path\":", i ? "," : "");
		rc = rc ? rc : tb_json_write_string(&o, x->path, strlen(x->path));
		rc = rc ? rc : put_opt_string(&o, "rule", tb_violation_kind_name(x->kind));
		rc = rc ? rc : put_opt_string(&o, "element", x->element);
		rc = rc ? rc : put_opt_string(&o, "wco", x->wco);
		rc = rc ? rc : put_opt_string(&o, "expected", x->expected);
		rc = rc ? rc : tb_buf_putc(&o, '}');
	}
	rc = rc ? rc : tb_buf_printf(&o, "],\"truncated\":%s}\n", v->truncated ? "true" : "false");
	if (!rc)
		fwrite(o.data, 1, o.len, stdout);
	tb_buf_fini(&o);
	return rc;
}

static void print_text(const struct tb_violations *v, const char *id, const char *name)
{
	for (size_t i = 0; i < v->len; i++) {
		const struct tb_violation *x = &v->items[i];
		tb_printable_fputs(x->path, stdout);
		printf(": %s", tb_violation_kind_name(x->kind));
		if (x->element)
			fputs(": ", stdout), tb_printable_fputs(x->element, stdout);
		if (x->wco)
			printf(" (WCO %s)", x->wco);
		printf(": expected %s\n", x->expected);
	}
	if (v->truncated)
		printf("(more than %d violations; the rest are not shown)\n", TB_VIOLATIONS_MAX);
	if (v->len)
		printf("%s: invalid: %zu violation%s\n", name, v->len, v->len == 1 ? "" : "s");
	else
		printf("%s: valid: id %s\n", name, id);
}

static int validate_doc(const struct tb_dict *d, const struct tb_json *doc, const char *name,
                        int json)
{
	struct tb_violations v = {0};
	char id[65] = "";
	struct tb_error err = {0};
	if (tb_record_validate(d, doc, &v) || tb_record_id(doc, id, &err)) {
		fprintf(stderr, "tradebridge validate: %s: out of memory\n", name);
		tb_violations_fini(&v);
		return TB_EXIT_USAGE;
	}
	if (json)
		print_json(&v, v.len ? NULL : id);
	else
		print_text(&v, id, name);
	int status = v.len ? TB_EXIT_INVALID : TB_EXIT_OK;
	tb_violations_fini(&v);
	return status;
}

static int validate_file(const char *file, const char *dict_dir, int json)
{
	const char *name = strcmp(file, "-") == 0 ? "(standard input)" : file;
	struct tb_buf in;
	struct tb_dict *d = NULL;
	struct tb_json *doc = NULL;
	struct tb_error err = {0};
	int status = TB_EXIT_USAGE;
	tb_buf_init(&in, TB_VALIDATE_MAX_INPUT);
	if (tb_dict_load(dict_dir, &d, &err) || tb_buf_read_file(&in, file, &err)) {
		tb_cli_error("validate", err.msg);
	} else if (tb_json_parse(in.data ? (const char *)in.data : "", in.len, NULL, &doc, &err)) {
		if (json)
			printf("{\"valid\":false,\"id\":null,\"violations\":[{\"path\":\"$\",\"rule\":"
			       "\"syntax\",\"element\":null,\"wco\":null,\"expected\":\"JSON\"}],"
			       "\"truncated\":false}\n");
		else
			tb_error_prefix(&err, "%s: not JSON", name), tb_printable_fputs(err.msg, stdout),
				fputc('\n', stdout);
		status = TB_EXIT_INVALID;
	} else {
		status = validate_doc(d, doc, name, json);
	}
	tb_json_free(doc);
	tb_dict_free(d);
	tb_buf_fini(&in);
	return status;
}

int tb_cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
	                                         {"dict", required_argument, NULL, 'd'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	int json = 0, c;
	const char *dict = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hd:", longopts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'd')
			dict = optarg;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("validate", argv);
	}
	if (argc - optind > 1)
		return tb_cli_usage("validate", "give at most one FILE");
	return validate_file(optind < argc ? argv[optind] : "-", dict ? dict : tb_dict_default_dir(),
	                     json);
}
