/* Where the npm test peers are: $TB_PEERS (make check sets it; configure's
 * TB_PEERS, by default the source tree's tests/peers), holding node_modules. */
#ifndef TB_TEST_PEERS_H
#define TB_TEST_PEERS_H

#include <stddef.h>

/* The peers folder (borrowed; "tests/peers" when nothing says otherwise). */
const char *tb_peers_dir(void);
/* tb_peers_dir()/node_modules/REL into out. */
void tb_peers_path(const char *rel, char *out, size_t size);

#endif
