/* Integrity-fragment throughput of tradebridge (tb_oa_v2_integrity) over an NDJSON
 * corpus from adapters/tradetrust/oa_corpus.js: documents are parsed once, then
 * verified in rounds for at least the given seconds. Prints "tradebridge DOCS/s".
 * Run by contrib/bench/tt_bench.sh, never by make check. */
#define _GNU_SOURCE /* getline */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oa.h"
#include "lib/json.h"

#define MAX_DOCS 100000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	static struct tb_json *docs[MAX_DOCS], *recs[MAX_DOCS];
	size_t n = 0, cap = 0, valid = 0;
	char *line = NULL;
	struct tb_error err;
	if (!f) {
		fprintf(stderr, "usage: tt_bench CORPUS.ndjson [SECONDS]\n");
		return 2;
	}
	while (n < MAX_DOCS && getline(&line, &cap, f) > 0) {
		if (tb_json_parse(line, strlen(line), NULL, &recs[n], &err) != 0) {
			fprintf(stderr, "corpus line %zu: %s\n", n + 1, err.msg);
			return 1;
		}
		docs[n] = tb_json_get(recs[n], "doc");
		n++;
	}
	free(line);
	fclose(f);
	size_t done = 0;
	double t0 = now(), t;
	do {
		for (size_t i = 0; i < n; i++)
			valid += tb_oa_v2_integrity(docs[i], NULL, &err) == 0;
		done += n;
	} while ((t = now() - t0) < secs);
	printf("tradebridge %.1f docs/s (%zu verifications in %.2f s, %zu VALID)\n", done / t, done,
	       t, valid);
	for (size_t i = 0; i < n; i++)
		tb_json_free(recs[i]);
	return 0;
}
