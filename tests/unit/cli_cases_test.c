/* Command-line cases as files (tests/cli-cases/NAME.case), walked by one runner:
 * each file holds the argv, optional environment, stdin and input files, the exit
 * status and the text the user must see. Adding a case is adding a file. Format
 * (one directive a line; '#' lines are comments):
 *   args: WORD...        the arguments after "tradebridge"; "a b" is one word
 *                        (none at all: an empty args: line)
 *   env: NAME=VALUE      set for this case only
 *   exit: N              the exit status
 *   stderr: TEXT         must appear in stderr (any number of these)
 *   stdout: TEXT         must appear in stdout (any number of these)
 *   no-stdout            stdout must be empty
 *   --- stdin            the rest, up to the next "---" line, is stdin
 *   --- file NAME        likewise, written to %DIR%/NAME (0600)
 * %DIR% is a private folder made for the case, %BUILD% the build tree, %SRC% the
 * source tree, %VECTORS% tests/vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "runcli.h"
#include "tmpdir.h"

#define CASE_MAX_BYTES (1 << 16)
#define CASE_MAX_ARGS 32
#define CASE_MAX_CHECKS 16
#define CASE_MAX_ENV 8

struct cli_case {
	const char *name;
	char dir[256];
	char *args[CASE_MAX_ARGS + 1];
	char *env[CASE_MAX_ENV];
	const char *stderr_has[CASE_MAX_CHECKS], *stdout_has[CASE_MAX_CHECKS];
	size_t nargs, nenv, nerr, nout;
	int exit, no_stdout, have_args, have_exit, have_stdin;
};

/* text with %DIR%, %BUILD%, %SRC% and %VECTORS% replaced (caller frees). */
static char *expand(const struct cli_case *c, const char *text, size_t len)
{
	struct tb_buf b;
	const char *end = text + len;
	tb_buf_init(&b, 0);
	for (const char *p = text; p < end;) {
		const char *d = memchr(p, '%', (size_t)(end - p));
		if (!d) {
			tb_buf_append(&b, p, (size_t)(end - p));
			break;
		}
		tb_buf_append(&b, p, (size_t)(d - p));
		const char *names[][2] = {{"%DIR%", c->dir},
					  {"%BUILD%", getenv("TB_BUILDDIR")},
					  {"%SRC%", getenv("TB_SRCDIR")},
					  {"%VECTORS%", getenv("TB_VECTORS")}};
		size_t k = 0, n = 0;
		for (; k < 4; k++)
			if ((size_t)(end - d) >= (n = strlen(names[k][0])) &&
			    strncmp(d, names[k][0], n) == 0)
				break;
		if (k < 4 && !names[k][1])
			fail_msg("%s: %s is not set: run the tests through make check", c->name,
				 names[k][0]);
		if (k < 4)
			tb_buf_puts(&b, names[k][1]), p = d + n;
		else
			tb_buf_putc(&b, '%'), p = d + 1;
	}
	tb_buf_putc(&b, 0);
	return (char *)tb_buf_steal(&b, NULL);
}

/* Split "a \"b c\" d" into words (expanded, malloc'd) after c->args. */
static void split_args(struct cli_case *c, const char *line)
{
	for (const char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		int quoted = *p == '"';
		const char *s = p + quoted, *e = quoted ? strchr(s, '"') : strpbrk(s, " \t");
		if (quoted && !e)
			fail_msg("%s: args: a quote is not closed", c->name);
		if (!e)
			e = s + strlen(s);
		if (c->nargs >= CASE_MAX_ARGS)
			fail_msg("%s: args: more than %d words", c->name, CASE_MAX_ARGS);
		c->args[c->nargs++] = expand(c, s, (size_t)(e - s));
		p = e + (quoted || *e ? 1 : 0);
	}
}

/* Write the body of a "--- file NAME" or "--- stdin" section. */
static void put_section(struct cli_case *c, const char *name, const char *body, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", c->dir, name);
	char *text = expand(c, body, len);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail_msg("%s: cannot write %s", c->name, path);
	free(text);
}

/* One directive line (NUL-terminated, without its newline). */
static void directive(struct cli_case *c, char *l)
{
	if (strncmp(l, "args:", 5) == 0)
		split_args(c, l + 5), c->have_args = 1;
	else if (strncmp(l, "env:", 4) == 0 && c->nenv < CASE_MAX_ENV)
		c->env[c->nenv++] = expand(c, l + 5, strlen(l + 5));
	else if (strncmp(l, "exit:", 5) == 0)
		c->exit = atoi(l + 5), c->have_exit = 1;
	else if (strncmp(l, "stderr:", 7) == 0 && c->nerr < CASE_MAX_CHECKS)
		c->stderr_has[c->nerr++] = l + 7 + strspn(l + 7, " ");
	else if (strncmp(l, "stdout:", 7) == 0 && c->nout < CASE_MAX_CHECKS)
		c->stdout_has[c->nout++] = l + 7 + strspn(l + 7, " ");
	else if (strcmp(l, "no-stdout") == 0)
		c->no_stdout = 1;
	else if (l[0] != '#' && l[0] != 0)
		fail_msg("%s: cannot read the line \"%s\"", c->name, l);
}

/* Parse text (modified in place) into c, writing its sections into c->dir. */
static void parse_case(struct cli_case *c, char *text)
{
	char *p = text;
	while (*p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (strncmp(p, "--- ", 4) == 0) {
			char *name = p + 4, *body = nl ? nl + 1 : p + strlen(p);
			char *next = strstr(body, "\n---");
			size_t len = next ? (size_t)(next - body) + 1 : strlen(body);
			if (strcmp(name, "stdin") == 0)
				c->have_stdin = 1, name = "stdin";
			else if (strncmp(name, "file ", 5) == 0)
				name += 5;
			else
				fail_msg("%s: unknown section \"--- %s\"", c->name, name);
			put_section(c, name, body, len);
			p = next ? next + 1 : body + len;
			continue;
		}
		directive(c, p);
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (!c->have_args || !c->have_exit)
		fail_msg("%s: a case needs args: and exit:", c->name);
}

/* Expected texts may name %DIR%; compare after expanding. 1 = it is there. */
static int has(const struct cli_case *c, const char *hay, const char *want)
{
	char *w = expand(c, want, strlen(want));
	int found = strstr(hay, w) != NULL;
	free(w);
	return found;
}

static int run_case(const char *path, const char *name)
{
	struct cli_case c = {.name = name};
	struct tb_buf b;
	struct tb_error e;
	int bad = 0;
	tb_buf_init(&b, CASE_MAX_BYTES);
	if (tb_buf_read_file(&b, path, &e) != 0)
		fail_msg("%s", e.msg);
	tb_buf_putc(&b, 0);
	if (tb_tmpdir_make(c.dir, sizeof c.dir, "tb-cli-case") != 0)
		fail_msg("%s: cannot make a folder", name);
	parse_case(&c, (char *)b.data);
	for (size_t i = 0; i < c.nenv; i++) { /* NAME=VALUE split in place */
		char *eq = strchr(c.env[i], '=');
		if (!eq)
			fail_msg("%s: env: expected NAME=VALUE", name);
		*eq = 0;
		setenv(c.env[i], eq + 1, 1);
	}
	char in[512];
	snprintf(in, sizeof in, "%s/stdin", c.dir);
	struct tb_run r;
	tb_run_cli(&r, c.have_stdin ? in : NULL, (const char *const *)c.args);
	const char *err = r.err.len ? TB_ERR(&r) : "", *out = r.out.len ? TB_OUT(&r) : "";
	if (r.status != c.exit)
		bad = 1, print_error("%s: exit %d, expected %d\n", name, r.status, c.exit);
	for (size_t i = 0; i < c.nerr; i++)
		if (!has(&c, err, c.stderr_has[i]))
			bad = 1, print_error("%s: stderr lacks \"%s\"\n", name, c.stderr_has[i]);
	for (size_t i = 0; i < c.nout; i++)
		if (!has(&c, out, c.stdout_has[i]))
			bad = 1, print_error("%s: stdout lacks \"%s\"\n", name, c.stdout_has[i]);
	if (c.no_stdout && r.out.len)
		bad = 1, print_error("%s: stdout should be empty\n", name);
	if (bad)
		print_error("%s: stderr was: %s\n", name, err);
	for (size_t i = 0; i < c.nenv; i++) {
		unsetenv(c.env[i]);
		free(c.env[i]);
	}
	for (size_t i = 0; i < c.nargs; i++)
		free(c.args[i]);
	tb_run_fini(&r);
	tb_buf_fini(&b);
	tb_tmpdir_remove(c.dir);
	return bad;
}

static void every_case(void **state)
{
	(void)state;
	char cases[4096], path[8192];
	snprintf(cases, sizeof cases, "%s/tests/cli-cases", getenv("TB_SRCDIR"));
	DIR *d = opendir(cases);
	if (!d)
		fail_msg("cannot open %s", cases);
	struct dirent *de;
	size_t n = 0, bad = 0;
	unsetenv("TRADEBRIDGE_CONFIG");
	unsetenv("TRADEBRIDGE_ADAPTER_PATH");
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".case") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", cases, de->d_name);
		bad += (size_t)run_case(path, de->d_name);
		n++;
	}
	closedir(d);
	print_message("%zu cases, %zu failed\n", n, bad);
	assert_true(n >= 20);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
