#!/bin/sh
# Every benchmark in one run, each beside the peer a user would otherwise use:
#   contrib/bench/run.sh [BUILDDIR] [SECONDS]
# BUILDDIR is a configured, built tree (default build/, as quickstart makes it);
# the npm peers must be installed (contrib/quickstart.sh deps). Figures depend on
# the machine and its load: compare ratios taken in the same run, not absolutes.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
secs=${2:-3}
make -s -C "$build" contrib/bench/model_bench contrib/bench/evm_bench contrib/bench/relay_bench
store=$(mktemp -d "${TMPDIR:-/var/tmp}/tb-bench.XXXXXX")
trap 'rm -rf "$store"' EXIT INT TERM

echo "== canonical model: records translated and validated per second per core"
"$build/contrib/bench/model_bench" "$src" "$secs"
echo "== EVM receipt proofs (receipts-trie rebuild + ecrecover): tradebridge vs ethers"
TB_BUILDDIR=$build sh "$src/contrib/bench/evm_bench.sh" "$secs"
echo "== OpenAttestation integrity: tradebridge vs @tradetrust-tt/tradetrust verifySignature"
sh "$src/contrib/bench/tt_bench.sh" "$build" 500 "$secs"
echo "== relay: verify, store, signed receipts; limits of this machine beside them"
"$build/contrib/bench/relay_bench" "$store" 20000 500
