/* Test-only fault points (see fault.h): SIGKILL at a named place when the test
 * environment asks for it. Invariant: without $TRADEBRIDGE_TEST_FAULT nothing here
 * changes what the program does; no state is kept between calls. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault.h"

#ifndef TB_NO_TEST_FAULTS
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len + (end != NULL);
	}
	return 0;
}

void tb_fault_point(const char *name)
{
	const char *list = getenv(TB_FAULT_ENV);
	if (list == NULL || name == NULL || !listed(list, name))
		return;
	fprintf(stderr, "tradebridge: test fault point %s reached (%s): SIGKILL\n", name,
	        TB_FAULT_ENV);
	fflush(stderr);
	raise(SIGKILL);
}
#endif
