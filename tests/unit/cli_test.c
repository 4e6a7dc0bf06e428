/* The tradebridge binary end to end, as an operator runs it: exit codes, help,
 * canon against RFC 8785's sample (sha256 checked with the coreutils sha256sum
 * tool, keccak256 against OpenAttestation's leaf vectors), adapters and
 * check-config with the test module, and keygen's file mode and refusals.
 * Finds the binary through TB_BUILDDIR and vectors through TB_VECTORS. */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"

extern char **environ;

#define OUT_LIMIT ((size_t)1 << 20)

struct run {
	int status;
	struct tb_buf out, err;
};

static char bin[4096], vectors[4096], echo_dir[4096];

static void read_back(const char *path, struct tb_buf *b)
{
	struct tb_error e;
	tb_buf_init(b, OUT_LIMIT);
	assert_int_equal(tb_buf_read_file(b, path, &e), 0);
	unlink(path);
}

/* Run the binary with args; stdin from in_file (or /dev/null); stdout to tty_fd
 * when >= 0. Bounded: output files are read back with a 1 MiB limit. */
static void run_io(struct run *r, const char *in_file, int tty_fd, const char *const *args)
{
	char outp[] = "/tmp/tb_cli_out_XXXXXX", errp[] = "/tmp/tb_cli_err_XXXXXX";
	int fo = mkstemp(outp), fe = mkstemp(errp);
	assert_true(fo >= 0 && fe >= 0);
	char *argv[32];
	size_t n = 0;
	argv[n++] = bin;
	for (; args[n - 1] && n < 31; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in_file ? in_file : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, tty_fd >= 0 ? tty_fd : fo, 1);
	posix_spawn_file_actions_adddup2(&fa, fe, 2);
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	r->status = WEXITSTATUS(st);
	close(fo);
	close(fe);
	read_back(outp, &r->out);
	read_back(errp, &r->err);
}

#define RUN(r, ...) run_io((r), NULL, -1, (const char *const[]){__VA_ARGS__, NULL})

static const char *out(const struct run *r)
{
	return r->out.len ? (const char *)r->out.data : ""; /* empty: data may lack its NUL */
}

static const char *errs(const struct run *r)
{
	return r->err.len ? (const char *)r->err.data : "";
}

static void done(struct run *r)
{
	tb_buf_fini(&r->out);
	tb_buf_fini(&r->err);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/tb_cli_in_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int setup(void **state)
{
	const char *b = getenv("TB_BUILDDIR"), *v = getenv("TB_VECTORS");
	snprintf(bin, sizeof bin, "%s/tradebridge", b ? b : ".");
	snprintf(vectors, sizeof vectors, "%s", v ? v : "tests/vectors");
	snprintf(echo_dir, sizeof echo_dir, "%s/adapters/testecho/.libs", b ? b : ".");
	unsetenv("TRADEBRIDGE_CONFIG");
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	return 0;
}

static void version(void **state)
{
	struct run r;
	RUN(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(out(&r), "tradebridge ", 12), 0);
	done(&r);
	/* usage errors and every command's --help: tests/cli-cases/ */
}

/* The first line of a run's output, as a malloc'd string. */
static char *first_line(const struct run *r)
{
	const char *s = out(r), *nl = strchr(s, '\n');
	assert_non_null(nl);
	return strndup(s, (size_t)(nl - s));
}

static void canon_rfc8785_sample(void **state)
{
	char in[4200], want_path[4200], cmd[8600], sha[65] = "";
	snprintf(in, sizeof in, "%s/cli/rfc8785-sample-input.json", vectors);
	snprintf(want_path, sizeof want_path, "%s/cli/rfc8785-sample-output.json", vectors);
	struct tb_buf want;
	struct tb_error e;
	tb_buf_init(&want, OUT_LIMIT);
	assert_int_equal(tb_buf_read_file(&want, want_path, &e), 0);
	struct run r;
	RUN(&r, "canon", in);
	assert_int_equal(r.status, 0);
	char *line = first_line(&r);
	assert_string_equal(line, (const char *)want.data);
	/* The digest of exactly those bytes, by an independent tool. */
	snprintf(cmd, sizeof cmd, "sha256sum '%s'", want_path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", sha), 1);
	assert_int_equal(pclose(p), 0);
	char want_sha[80];
	snprintf(want_sha, sizeof want_sha, "\nsha256: %s\nkeccak256: ", sha);
	assert_non_null(strstr(out(&r), want_sha));
	assert_int_equal(count_lines(out(&r)), 3);
	free(line);
	done(&r);
	/* The same through standard input. */
	run_io(&r, in, -1, (const char *const[]){"canon", NULL});
	assert_int_equal(r.status, 0);
	line = first_line(&r);
	assert_string_equal(line, (const char *)want.data);
	assert_non_null(strstr(out(&r), want_sha));
	free(line);
	done(&r);
	tb_buf_fini(&want);
}

/* OpenAttestation's leaves are keccak256(JSON.stringify({k: v})); for one-key
 * objects that text is the canonical form, so canon must print their digests. */
static void canon_keccak_openattestation(void **state)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/openattestation/digest-vectors.json", vectors);
	struct tb_buf text;
	struct tb_error e;
	struct tb_json *list = NULL;
	tb_buf_init(&text, OUT_LIMIT);
	assert_int_equal(tb_buf_read_file(&text, path, &e), 0);
	assert_int_equal(tb_json_parse((const char *)text.data, text.len, NULL, &list, &e), 0);
	size_t checked = 0;
	for (size_t i = 0; i < tb_json_len(list); i++) {
		const struct tb_json *v = tb_json_at(list, i);
		const char *kind = tb_json_string(tb_json_get(v, "kind"));
		const char *pre = tb_json_string(tb_json_get(v, "preimage"));
		const char *hash = tb_json_string(tb_json_get(v, "expected"));
		if (!kind || strcmp(kind, "leaf") != 0 || !pre || !hash)
			continue;
		char *f = write_temp(pre);
		struct run r;
		RUN(&r, "canon", f);
		assert_int_equal(r.status, 0);
		char *line = first_line(&r);
		assert_string_equal(line, pre);
		char want[100];
		snprintf(want, sizeof want, "\nkeccak256: %s\n", hash);
		assert_non_null(strstr(out(&r), want));
		free(line);
		done(&r);
		unlink(f);
		free(f);
		checked++;
	}
	assert_true(checked >= 11);
	tb_json_free(list);
	tb_buf_fini(&text);
}

static void canon_json_and_errors(void **state)
{
	char *f = write_temp("{\"b\": [1.0, \"x\"],\n \"a\": true}");
	struct run r;
	RUN(&r, "canon", "--json", f);
	assert_int_equal(r.status, 0);
	assert_int_equal(count_lines(out(&r)), 1);
	struct tb_json *j = NULL;
	struct tb_error e;
	assert_int_equal(tb_json_parse(out(&r), r.out.len, NULL, &j, &e), 0);
	assert_string_equal(tb_json_string(tb_json_get(j, "canonical")), "{\"a\":true,\"b\":[1,\"x\"]}");
	assert_int_equal(strlen(tb_json_string(tb_json_get(j, "sha256"))), 64);
	assert_int_equal(strlen(tb_json_string(tb_json_get(j, "keccak256"))), 64);
	tb_json_free(j);
	done(&r);
	unlink(f);
	free(f);
	/* refusals (duplicate key, missing file): tests/cli-cases/canon-*.case */
}

static void adapters_list_and_describe(void **state)
{
	struct run r;
	setenv("TRADEBRIDGE_ADAPTER_PATH", echo_dir, 1);
	RUN(&r, "adapters");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(out(&r), "testecho"));
	assert_non_null(strstr(out(&r), "testecho.so"));
	done(&r);
	RUN(&r, "adapters", "--describe", "testecho");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(out(&r), "endpoint"));
	assert_non_null(strstr(out(&r), "int 1..65535"));
	assert_non_null(strstr(out(&r), "where the echo peer listens"));
	done(&r);
	RUN(&r, "adapters", "--describe", "testecho", "--json");
	assert_int_equal(r.status, 0);
	struct tb_json *j = NULL;
	struct tb_error e;
	assert_int_equal(tb_json_parse(out(&r), r.out.len, NULL, &j, &e), 0);
	assert_string_equal(tb_json_string(tb_json_get(j, "name")), "testecho");
	assert_int_equal(tb_json_len(tb_json_get(j, "options")), 8);
	tb_json_free(j);
	done(&r);
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
}

static const char config_text[] =
	"{\n"
	"  // a relay with one network\n"
	"  \"networks\": {\n"
	"    \"pe-echo\": {\n"
	"      \"adapter\": \"testecho\",\n"
	"      \"endpoint\": \"http://127.0.0.1:1\",\n"
	"      \"interval\": \"5s\"\n"
	"    }\n"
	"  }\n"
	"}\n";

static void check_config_resolves(void **state)
{
	char *f = write_temp(config_text);
	struct run r;
	setenv("TRADEBRIDGE_ADAPTER_PATH", echo_dir, 1);
	setenv("TRADEBRIDGE_PE_ECHO_TOKEN", "s3cr3t-t0ken-value", 1);
	RUN(&r, "check-config", "-c", f);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(out(&r), "network pe-echo: adapter testecho"));
	assert_non_null(strstr(out(&r), "5000 ms"));
	assert_non_null(strstr(out(&r), "[set]"));
	assert_non_null(strstr(out(&r), "routes: 0, partners: 0"));
	assert_null(strstr(out(&r), "s3cr3t-t0ken-value"));
	assert_null(strstr(errs(&r), "s3cr3t-t0ken-value"));
	done(&r);
	unsetenv("TRADEBRIDGE_PE_ECHO_TOKEN");
	/* Through $TRADEBRIDGE_CONFIG, the token now unset. */
	setenv("TRADEBRIDGE_CONFIG", f, 1);
	RUN(&r, "check-config");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(out(&r), "[unset]"));
	done(&r);
	unsetenv("TRADEBRIDGE_CONFIG");
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	unlink(f);
	free(f);
}

/* check-config refusals: tests/cli-cases/check-config-*.case */

/* Two cadena networks (a source and destinations: check-config refuses routes
 * that run would), one routed with a policy (drop, hash, MRA) and one without. */
#define REG "\"registry\": \"0x5FbDB2315678afecb367f032d93F642f64180aa3\""
static const char sharing_text[] =
	"{\"networks\": {\"pe\": {\"adapter\": \"cadena\", \"rpc\": \"http://127.0.0.1:1\", " REG "},\n"
	"              \"cl\": {\"adapter\": \"cadena\", \"rpc\": \"http://127.0.0.1:1\", " REG "},\n"
	"              \"kr\": {\"adapter\": \"cadena\", \"rpc\": \"http://127.0.0.1:1\", " REG "}},\n"
	" \"routes\": [{\"from\": \"pe\", \"to\": \"cl\", \"types\": [\"echo\"]},\n"
	"            {\"from\": \"pe\", \"to\": \"kr\"}],\n"
	" \"policies\": {\"cl\": {\"country\": \"CL\", \"types\": [\"aeo.status\", \"echo\",\n"
	"                     \"declaration\"], \"drop\": [\"AEOCertificate.Holder.Address\",\n"
	"                     \"Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Commodity\"],\n"
	"                     \"hash\": [\"AEOCertificate.Holder.ID\"]}},\n"
	" \"mras\": {\"PE\": [\"CL\"], \"MX\": [\"CO\"]}}\n";

static void check_config_partners(void **state)
{
	char *f = write_temp(sharing_text), cadena[4200];
	struct run r;
	snprintf(cadena, sizeof cadena, "%s/adapters/cadena/.libs", getenv("TB_BUILDDIR"));
	setenv("TRADEBRIDGE_ADAPTER_PATH", cadena, 1);
	/* hashed fields without a salt: refused, naming where */
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
	RUN(&r, "check-config", "-c", f);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(errs(&r), "policies.cl.hash: hashed fields need a salt"));
	done(&r);
	setenv("TRADEBRIDGE_RELAY_HASH_SALT", "salt-value-never-printed", 1);
	RUN(&r, "check-config", "-c", f);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(out(&r), "partner cl (CL):"));
	assert_non_null(strstr(out(&r), "aeo.status only from issuers with an MRA: PE\n"));
	/* what is really dropped: a path through a repeat applies to every repeat */
	assert_non_null(strstr(out(&r), "drops     AEOCertificate.Holder.Address in aeo.status "
	                                 "records\n"));
	assert_non_null(strstr(out(&r), "          Declaration.GoodsShipment.GovernmentAgencyGoodsItem[]"
	                                 ".Commodity in declaration records\n"));
	assert_non_null(strstr(out(&r), "hashes    AEOCertificate.Holder.ID in aeo.status records"));
	assert_non_null(strstr(out(&r), "partner kr:"));
	assert_non_null(strstr(out(&r), "receives  nothing (no policy: default deny)"));
	assert_non_null(strstr(out(&r), "network pe receives nothing"));
	assert_null(strstr(out(&r), "salt-value-never-printed"));
	done(&r);
	RUN(&r, "check-config", "-c", f, "--json");
	assert_int_equal(r.status, 0);
	struct tb_json *j = NULL;
	struct tb_error e;
	assert_int_equal(tb_json_parse(out(&r), r.out.len, NULL, &j, &e), 0);
	const struct tb_json *cl = tb_json_get(tb_json_get(j, "partners"), "cl");
	assert_string_equal(tb_json_string(tb_json_at(tb_json_get(cl, "aeo_status_issuers"), 0)),
	                    "PE");
	assert_int_equal(tb_json_len(tb_json_get(cl, "aeo_status_issuers")), 1);
	const struct tb_json *d1 = tb_json_at(tb_json_get(cl, "drop"), 1);
	assert_string_equal(tb_json_string(tb_json_get(d1, "path")),
	                    "Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Commodity");
	assert_string_equal(tb_json_string(tb_json_get(d1, "applies")),
	                    "Declaration.GoodsShipment.GovernmentAgencyGoodsItem[].Commodity");
	assert_string_equal(tb_json_string(tb_json_at(tb_json_get(d1, "types"), 0)), "declaration");
	const struct tb_json *kr = tb_json_get(tb_json_get(j, "partners"), "kr");
	assert_false(tb_json_get(kr, "policy")->u.boolean);
	assert_null(tb_json_get(tb_json_get(j, "partners"), "pe"));
	tb_json_free(j);
	done(&r);
	unlink(f);
	free(f);
	/* a route to a network that is not configured */
	setenv("TRADEBRIDGE_ADAPTER_PATH", echo_dir, 1);
	f = write_temp("{\"networks\": {\"pe\": {\"adapter\": \"testecho\", \"endpoint\": \"e\"}},\n"
	               " \"routes\": [{\"from\": \"pe\", \"to\": \"cl\"}]}\n");
	RUN(&r, "check-config", "-c", f);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(errs(&r), "routes[0]: no network named \"cl\""));
	done(&r);
	unlink(f);
	free(f);
	/* aeo.status for a partner without a country cannot be decided: refused */
	f = write_temp("{\"networks\": {\"pe\": {\"adapter\": \"testecho\", \"endpoint\": \"e\"}},\n"
	               " \"policies\": {\"pe\": {\"types\": [\"aeo.status\"]}}}\n");
	RUN(&r, "check-config", "-c", f);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(errs(&r), "aeo.status needs the partner's \"country\""));
	done(&r);
	unlink(f);
	free(f);
	unsetenv("TRADEBRIDGE_RELAY_HASH_SALT");
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static void keygen_file(void **state)
{
	char dir[] = "/tmp/tb_keygen_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char key[64];
	snprintf(key, sizeof key, "%s/relay.key", dir);
	struct run r;
	RUN(&r, "keygen", "-o", key);
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(out(&r), "address: 0x", 11), 0);
	assert_int_equal(r.out.len, 11 + 40 + 1);
	assert_true(is_hex(out(&r) + 11, 40));
	done(&r);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);
	struct tb_buf k1;
	struct tb_error e;
	tb_buf_init(&k1, 1024);
	assert_int_equal(tb_buf_read_file(&k1, key, &e), 0);
	assert_true(is_hex((const char *)k1.data, 64));
	assert_int_equal(k1.data[64], '\n');
	/* A second run refuses to overwrite and leaves the key as it was. */
	RUN(&r, "keygen", "-o", key);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(errs(&r), "already exists: refusing to overwrite"));
	done(&r);
	struct tb_buf k2;
	tb_buf_init(&k2, 1024);
	assert_int_equal(tb_buf_read_file(&k2, key, &e), 0);
	assert_memory_equal(k1.data, k2.data, 65);
	tb_buf_fini(&k1);
	tb_buf_fini(&k2);
	unlink(key);
	rmdir(dir);
}

static void keygen_stdout_and_terminal(void **state)
{
	struct run r;
	RUN(&r, "keygen"); /* stdout is a file: allowed */
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 65);
	assert_true(is_hex(out(&r), 64));
	assert_non_null(strstr(errs(&r), "address: 0x"));
	done(&r);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		if (master >= 0)
			close(master);
		skip();
	}
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	run_io(&r, NULL, slave, (const char *const[]){"keygen", NULL});
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(errs(&r), "refusing to print a secret key to a terminal"));
	done(&r);
	close(slave);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version),
		cmocka_unit_test(canon_rfc8785_sample),
		cmocka_unit_test(canon_keccak_openattestation),
		cmocka_unit_test(canon_json_and_errors),
		cmocka_unit_test(adapters_list_and_describe),
		cmocka_unit_test(check_config_resolves),
		cmocka_unit_test(check_config_partners),
		cmocka_unit_test(keygen_file),
		cmocka_unit_test(keygen_stdout_and_terminal),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
