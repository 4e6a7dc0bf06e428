/* A ganache node for tests: started from $TB_SRCDIR/tests/peers/node_modules/.bin/ganache
 * on 127.0.0.1 (free port, fixed mnemonic and chain id), waited for with a bounded
 * loop, driven over JSON-RPC (snapshot, revert, mine) and stopped. Shared by the EVM
 * and TradeTrust tests. Invariant: the node never outlives the test — it runs in its
 * own process group, dies with its parent (PR_SET_PDEATHSIG), and tb_ganache_stop
 * (safe to call twice, and on a node that never started) kills the whole group. */
#ifndef TB_TEST_GANACHE_H
#define TB_TEST_GANACHE_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/json.h"
#include "lib/jsonrpc.h"

/* The well-known test mnemonic; its first accounts and keys (BIP-44 m/44'/60'/0'/0/i). */
#define TB_GANACHE_MNEMONIC "test test test test test test test test test test test junk"
#define TB_GANACHE_ACCOUNTS 10
#define TB_GANACHE_START_MS 60000 /* readiness wait */

struct tb_ganache {
	pid_t pid;        /* 0 when not running */
	int port;
	unsigned chain_id;
	char url[64];     /* http://127.0.0.1:PORT */
	struct tb_jsonrpc *rpc;
};

/* Secret key and address of account i (0..2) of TB_GANACHE_MNEMONIC. */
extern const char *const tb_ganache_keys[3];
extern const char *const tb_ganache_addresses[3];

/* Start a node; TB_ENOTFOUND (loudly) when ganache is not installed under
 * $TB_SRCDIR/tests/peers, TB_EUNAVAIL if it did not answer in TB_GANACHE_START_MS. */
int tb_ganache_start(struct tb_ganache *g, unsigned chain_id, struct tb_error *err);
/* Kill the node's process group (TERM, then KILL after a bounded wait) and reap it. */
void tb_ganache_stop(struct tb_ganache *g);
/* One JSON-RPC call to the node; *result is the caller's to free (may be NULL). */
int tb_ganache_call(struct tb_ganache *g, const char *method, const char *params,
                    struct tb_json **result, struct tb_error *err);
/* evm_snapshot: id is written as "0x..." (room for 32 bytes). */
int tb_ganache_snapshot(struct tb_ganache *g, char id[32], struct tb_error *err);
int tb_ganache_revert(struct tb_ganache *g, const char *id, struct tb_error *err);
/* Mine n empty blocks (evm_mine). */
int tb_ganache_mine(struct tb_ganache *g, unsigned n, struct tb_error *err);
/* eth_blockNumber. */
int tb_ganache_block_number(struct tb_ganache *g, uint64_t *n, struct tb_error *err);

#endif
