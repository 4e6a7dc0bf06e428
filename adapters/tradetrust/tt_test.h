/* Shared by the tradetrust adapter's test files: load a vector, run the adapter's
 * verify op with options given as JSON text, read one fragment's status. */
#ifndef TB_TT_TEST_H
#define TB_TT_TEST_H

#include "adapter.h"
#include "lib/json.h"

struct tb_json *tt_load(const char *rel);
enum tb_verdict tt_run(struct tb_json *doc, const char *opts, struct tb_proof *proof);
const char *tt_fragment(const struct tb_proof *p, const char *name);

/* The on-chain tests (tt_chain_test.c): their own group, ganache + dnsmasq. */
int tt_chain_run(void);
/* Wrapped sample -> unsalted data -> mappings/tradetrust-*.json (tt_mapping_test.c). */
int tt_mapping_run(void);
#endif
