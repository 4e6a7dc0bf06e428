/* evm_bench: receipt proofs verified per second by tradebridge's own code on the
 * execution-apis blocks (1: pre-Byzantium receipts, 54: status receipts with logs):
 * per block, rebuild the receipts trie and compare it with the header's
 * receiptsRoot, and recover every transaction's signer (EIP-155/legacy signing hash
 * + ecrecover) and compare it with the reported sender. evm_bench.js does the same
 * with ethers; evm_bench.sh runs both and prints the ratio. Run by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evm/ethproof.h"
#include "evm/ethtx.h"
#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/json.h"

static struct tb_json *answer(const char *dir, const char *io)
{
	char path[4096];
	struct tb_buf b;
	struct tb_error e = {0};
	snprintf(path, sizeof(path), "%s/%s", dir, io);
	tb_buf_init(&b, 1 << 24);
	if (tb_buf_read_file(&b, path, &e) < 0) {
		fprintf(stderr, "evm_bench: %s\n", e.msg);
		exit(2);
	}
	char *l = strstr((char *)b.data, "\n<< ");
	struct tb_json *j = NULL;
	if (l == NULL || tb_json_parse(l + 4, strlen(l + 4), NULL, &j, &e) < 0) {
		fprintf(stderr, "evm_bench: %s: %s\n", path, e.msg);
		exit(2);
	}
	struct tb_json *r = tb_json_clone(tb_json_get(j, "result"));
	tb_json_free(j);
	tb_buf_fini(&b);
	return r;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One block's proof work; returns the receipts checked, or -1. */
static int check_block(const struct tb_json *block, const struct tb_json *receipts)
{
	struct tb_error e = {0};
	if (tb_ethproof_check_receipts(block, receipts, &e) < 0) {
		fprintf(stderr, "evm_bench: %s\n", e.msg);
		return -1;
	}
	const struct tb_json *txs = tb_json_get(block, "transactions");
	for (size_t i = 0; i < tb_json_len(txs); i++) {
		struct tb_ethtx tx;
		uint8_t a[20];
		char h[43] = "0x";
		tb_ethtx_init(&tx);
		if (tb_ethtx_from_json(tb_json_at(txs, i), &tx, &e) < 0 ||
		    tb_ethtx_sender(&tx, a, &e) < 0) {
			fprintf(stderr, "evm_bench: tx %zu: %s\n", i, e.msg);
			return -1;
		}
		tb_ethtx_fini(&tx);
		tb_hex_encode(a, 20, h + 2);
		if (strcmp(h, tb_json_string(tb_json_get(tb_json_at(txs, i), "from"))) != 0) {
			fprintf(stderr, "evm_bench: tx %zu: signer %s differs\n", i, h);
			return -1;
		}
	}
	return (int)tb_json_len(receipts);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/vectors/ethereum-execution-apis/tests";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	struct tb_json *blocks[2] = {answer(dir, "eth_getBlockByHash/get-block-by-hash.io"),
	                             answer(dir, "eth_getBlockByNumber/get-latest.io")};
	struct tb_json *rcpts[2] = {answer(dir, "eth_getBlockReceipts/get-block-receipts-by-hash.io"),
	                            answer(dir, "eth_getBlockReceipts/get-block-receipts-latest.io")};
	long receipts = 0, rounds = 0;
	double t0 = now(), t;
	do {
		for (int b = 0; b < 2; b++) {
			int n = check_block(blocks[b], rcpts[b]);
			if (n < 0)
				return 1;
			receipts += n;
		}
		rounds++;
	} while ((t = now() - t0) < secs);
	printf("{\"impl\":\"tradebridge\",\"rounds\":%ld,\"receipts\":%ld,\"seconds\":%.3f,"
	       "\"receipts_per_second\":%.1f}\n", rounds, receipts, t, receipts / t);
	for (int b = 0; b < 2; b++) {
		tb_json_free(blocks[b]);
		tb_json_free(rcpts[b]);
	}
	return 0;
}
