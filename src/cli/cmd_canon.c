/* tradebridge canon: the RFC 8785 (JCS) form of a JSON text and the SHA-256 and
 * keccak-256 of exactly those bytes — the record id every party must agree on.
 * Invariant: the digests are over the bytes printed on the first line, nothing
 * more (no newline). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/json.h"

#define TB_CANON_MAX_INPUT ((size_t)16 << 20)

static const char usage[] =
	"usage: tradebridge canon [--json] [FILE]\n"
	"  Read JSON from FILE (or standard input when FILE is missing or \"-\") and print\n"
	"  its RFC 8785 canonical form on the first line, then \"sha256: HEX\" and\n"
	"  \"keccak256: HEX\" of exactly those bytes.\n"
	"  --json   print one object {\"canonical\": TEXT, \"sha256\": HEX, \"keccak256\": HEX}\n"
	"  Input is at most 16 MiB; duplicate keys and non-finite numbers are errors (exit 2).\n";

static int print_result(const struct tb_buf *canon, int json)
{
	uint8_t sha[32], kec[32];
	char sha_hex[65], kec_hex[65];
	const uint8_t *p = canon->data ? canon->data : (const uint8_t *)"";
	tb_sha256(p, canon->len, sha);
	tb_keccak256(p, canon->len, kec);
	tb_hex_encode(sha, 32, sha_hex);
	tb_hex_encode(kec, 32, kec_hex);
	if (!json) {
		fwrite(p, 1, canon->len, stdout);
		printf("\nsha256: %s\nkeccak256: %s\n", sha_hex, kec_hex);
		return TB_EXIT_OK;
	}
	struct tb_buf out;
	tb_buf_init(&out, 0);
	int rc = tb_buf_puts(&out, "{\"canonical\":");
	rc = rc ? rc : tb_json_write_string(&out, (const char *)p, canon->len);
	rc = rc ? rc : tb_buf_printf(&out, ",\"sha256\":\"%s\",\"keccak256\":\"%s\"}\n", sha_hex,
	                             kec_hex);
	if (!rc)
		fwrite(out.data, 1, out.len, stdout);
	else
		fprintf(stderr, "tradebridge canon: output too large\n");
	tb_buf_fini(&out);
	return rc ? TB_EXIT_USAGE : TB_EXIT_OK;
}

static int canon_file(const char *file, int json)
{
	const char *name = strcmp(file, "-") == 0 ? "(standard input)" : file;
	struct tb_buf in, canon;
	struct tb_json *doc = NULL;
	struct tb_error err = {0};
	int status = TB_EXIT_USAGE;
	tb_buf_init(&in, TB_CANON_MAX_INPUT);
	tb_buf_init(&canon, 0);
	if (tb_buf_read_file(&in, file, &err) == 0) {
		if (tb_json_parse(in.data ? (const char *)in.data : "", in.len, NULL, &doc, &err) ||
		    tb_json_write_canonical(doc, &canon, &err))
			tb_error_prefix(&err, "%s", name);
		else
			status = print_result(&canon, json);
	}
	if (status == TB_EXIT_USAGE && err.msg[0])
		tb_cli_error("canon", err.msg);
	tb_json_free(doc);
	tb_buf_fini(&in);
	tb_buf_fini(&canon);
	return status;
}

int tb_cmd_canon(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("canon", argv);
	}
	if (argc - optind > 1)
		return tb_cli_usage("canon", "give at most one FILE");
	return canon_file(optind < argc ? argv[optind] : "-", json);
}
