/* tradebridge translate: native record (JSON, or XML through the generic decoder)
 * to canonical record through a mapping file, or back with --reverse. Invariant:
 * a forward translation is validated against the WCO dictionary before it is
 * printed (unless --no-validate), so what comes out is a record validate accepts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/xml.h"
#include "model/dict.h"
#include "model/mapping.h"
#include "model/record.h"

#define TB_TRANSLATE_MAX_INPUT ((size_t)16 << 20)

static const char usage[] =
	"usage: tradebridge translate -m MAPPING [--reverse | --native] [--canonical]\n"
	"                             [--no-validate] [--dict DIR] [FILE]\n"
	"  Translate the native record in FILE (or standard input) into a canonical record\n"
	"  through the mapping file MAPPING (docs/mapping.md). The mapping's \"format\" says\n"
	"  whether the input is JSON or XML. The record is validated against the WCO\n"
	"  dictionary before it is printed.\n"
	"  --reverse      canonical record -> native JSON tree (reversible mappings only)\n"
	"  --native       print the native tree the input decodes to, before any rule runs\n"
	"  --canonical    print the RFC 8785 form (one line) instead of indented JSON\n"
	"  --no-validate  skip the dictionary check\n"
	"  --dict DIR     dictionary directory (default $TRADEBRIDGE_WCO_DIR or installed)\n"
	"  Pseudonymising rules take their salt from $TRADEBRIDGE_HASH_SALT.\n"
	"  Exit status: 0 translated, 1 the input does not fit the mapping or the record\n"
	"  is invalid, 2 usage, mapping or dictionary error.\n";

struct opts {
	const char *mapping, *dict, *file;
	int reverse, canonical, no_validate, native;
};

static int decode(const struct tb_mapping *m, const struct tb_buf *in, int reverse,
                  struct tb_json **out, struct tb_error *err)
{
	const char *text = in->data ? (const char *)in->data : "";
	if (!reverse && strcmp(tb_mapping_format(m), "xml") == 0)
		return tb_xml_to_json(text, in->len, NULL, out, err);
	return tb_json_parse(text, in->len, NULL, out, err);
}

static int print_tree(const struct tb_json *j, int canonical)
{
	struct tb_buf o;
	struct tb_error err = {0};
	tb_buf_init(&o, 0);
	int rc = canonical ? tb_json_write_canonical(j, &o, &err) : tb_json_write_pretty(j, &o, &err);
	rc = rc ? rc : tb_buf_putc(&o, '\n');
	if (!rc)
		fwrite(o.data, 1, o.len, stdout);
	else
		tb_cli_error("translate", err.msg[0] ? err.msg : "output too large");
	tb_buf_fini(&o);
	return rc ? TB_EXIT_USAGE : TB_EXIT_OK;
}

/* Validate record; print each violation on stderr. Returns the exit status. */
static int check(const struct opts *o, const struct tb_json *record)
{
	struct tb_dict *d = NULL;
	struct tb_error err = {0};
	if (tb_dict_load(o->dict ? o->dict : tb_dict_default_dir(), &d, &err)) {
		tb_cli_error("translate", err.msg);
		return TB_EXIT_USAGE;
	}
	struct tb_violations v = {0};
	int status = tb_record_validate(d, record, &v) ? TB_EXIT_USAGE : TB_EXIT_OK;
	for (size_t i = 0; i < v.len; i++) {
		char line[1024];
		snprintf(line, sizeof line, "invalid record: %s: %s: %s%s%s%s: expected %s",
		         v.items[i].path, tb_violation_kind_name(v.items[i].kind),
		         v.items[i].element ? v.items[i].element : "", v.items[i].wco ? " (WCO " : "",
		         v.items[i].wco ? v.items[i].wco : "", v.items[i].wco ? ")" : "",
		         v.items[i].expected);
		tb_cli_error("translate", line);
	}
	if (status == TB_EXIT_OK && v.len)
		status = TB_EXIT_INVALID;
	tb_violations_fini(&v);
	tb_dict_free(d);
	return status;
}

static int run(const struct opts *o, const struct tb_mapping *m, const struct tb_json *in,
               struct tb_error *err)
{
	const char *salt = getenv("TRADEBRIDGE_HASH_SALT");
	struct tb_mapping_ctx ctx = {salt && *salt ? salt : NULL, salt ? strlen(salt) : 0};
	struct tb_json *out = NULL;
	int status;
	if (o->reverse) {
		const char *type = tb_json_string(tb_json_get(in, "type"));
		if (!type || strcmp(type, tb_mapping_record_type(m)) != 0) {
			char line[512];
			snprintf(line, sizeof line, "the input is not a \"%s\" record (type %s)",
			         tb_mapping_record_type(m), type ? type : "missing");
			tb_cli_error("translate", line);
			return TB_EXIT_INVALID;
		}
		if (tb_mapping_reverse_record(m, &ctx, in, &out, err)) /* as the relay does */
			return TB_EXIT_INVALID;
		status = TB_EXIT_OK;
	} else {
		if (tb_mapping_to_record(m, &ctx, in, &out, err))
			return err->code == TB_ECONFIG || err->code == TB_ENOMEM ? TB_EXIT_USAGE
			                                                         : TB_EXIT_INVALID;
		status = o->no_validate ? TB_EXIT_OK : check(o, out);
	}
	if (status == TB_EXIT_OK)
		status = print_tree(out, o->canonical);
	tb_json_free(out);
	return status;
}

static int translate(const struct opts *o)
{
	struct tb_mapping *m = NULL;
	struct tb_json *in = NULL;
	struct tb_error err = {0};
	struct tb_buf buf;
	int status = TB_EXIT_USAGE;
	tb_buf_init(&buf, TB_TRANSLATE_MAX_INPUT);
	if (tb_mapping_load(o->mapping, &m, &err) || tb_buf_read_file(&buf, o->file, &err)) {
		/* mapping or file problem: usage/configuration */
	} else if (o->reverse && !tb_mapping_reversible(m)) {
		tb_error_set(&err, TB_EINVAL, "mapping %s is not declared reversible", o->mapping);
	} else if (decode(m, &buf, o->reverse, &in, &err)) {
		tb_error_prefix(&err, "%s", strcmp(o->file, "-") ? o->file : "(standard input)");
		status = TB_EXIT_INVALID;
	} else if (o->native) {
		status = print_tree(in, o->canonical);
	} else {
		status = run(o, m, in, &err);
	}
	if (status != TB_EXIT_OK && err.msg[0])
		tb_cli_error("translate", err.msg);
	tb_json_free(in);
	tb_mapping_free(m);
	tb_buf_fini(&buf);
	return status;
}

int tb_cmd_translate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"mapping", required_argument, NULL, 'm'}, {"reverse", no_argument, NULL, 'r'},
		{"canonical", no_argument, NULL, 'c'},     {"no-validate", no_argument, NULL, 'n'},
		{"dict", required_argument, NULL, 'd'},    {"help", no_argument, NULL, 'h'},
		{"native", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0}};
	struct opts o = {0};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hm:d:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mapping = optarg; break;
		case 'r': o.reverse = 1; break;
		case 'c': o.canonical = 1; break;
		case 'n': o.no_validate = 1; break;
		case 'd': o.dict = optarg; break;
		case 'N': o.native = 1; break;
		case 'h': return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		default: return tb_cli_bad_option("translate", argv);
		}
	}
	if (!o.mapping)
		return tb_cli_usage("translate", "-m MAPPING is required");
	if (argc - optind > 1)
		return tb_cli_usage("translate", "give at most one FILE");
	o.file = optind < argc ? argv[optind] : "-";
	return translate(&o);
}
