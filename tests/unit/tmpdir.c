/* See tmpdir.h. nftw walks depth-first (FTW_DEPTH) so each folder is empty by
 * the time it is removed, and never follows links out of the tree (FTW_PHYS). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

int tb_tmpdir_make(char *dir, size_t size, const char *prefix)
{
	int n = snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tb_tmpdir_remove(const char *dir)
{
	if (dir == NULL || strncmp(dir, "/tmp/", 5) != 0)
		return -1; /* only ever what tb_tmpdir_make made */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
