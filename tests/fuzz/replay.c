/* Runs a libFuzzer harness without libFuzzer: feeds it every file named on the
 * command line (directories are walked one level). With no arguments it replays
 * $TB_SRCDIR/tests/fuzz/corpus/NAME for a program called NAME_fuzz, which is how
 * make check runs every harness and every saved input on every build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return 1;
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	uint8_t chunk[65536];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n > cap) {
			cap = (len + n) * 2;
			uint8_t *p = realloc(buf, cap);
			if (p == NULL) {
				free(buf);
				fclose(f);
				return 1;
			}
			buf = p;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	/* An exact-size copy so ASan sees any read past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return 1;
	}
	if (len)
		memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static void default_corpus(const char *argv0, char *out, size_t size)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (strncmp(base, "lt-", 3) == 0)
		base += 3;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, "_fuzz") == 0)
		n -= 5;
	const char *src = getenv("TB_SRCDIR");
	snprintf(out, size, "%s/tests/fuzz/corpus/%.*s", src ? src : ".", (int)n, base);
}

int main(int argc, char **argv)
{
	int fails = 0, count = 0;
	char corpus[4096];
	char *def[2] = {argv[0], corpus};
	if (argc == 1) {
		default_corpus(argv[0], corpus, sizeof corpus);
		argv = def;
		argc = 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: not found\n", argv[i]);
			fails++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			fails += run_file(argv[i]);
			count++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			fails += run_file(path);
			count++;
		}
		if (d)
			closedir(d);
	}
	printf("%d passed, %d failed\n", count - fails, fails);
	return fails ? 1 : 0;
}
