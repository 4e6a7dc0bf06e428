/* See peers.h. One place decides, so a tree without its own node_modules (the
 * unpacked tarball that make distcheck tests) can borrow another's. */
#include <stdio.h>
#include <stdlib.h>

#include "peers.h"

const char *tb_peers_dir(void)
{
	const char *p = getenv("TB_PEERS");
	return p && *p ? p : "tests/peers";
}

void tb_peers_path(const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/node_modules/%s", tb_peers_dir(), rel);
}
