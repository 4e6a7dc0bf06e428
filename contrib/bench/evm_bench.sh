#!/bin/sh
# Receipt proofs per second, tradebridge vs ethers, on the same blocks in one run;
# prints both figures and their ratio. Run from a configured build tree:
#   make contrib/bench/evm_bench && sh contrib/bench/evm_bench.sh [SECONDS]
set -eu
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${TB_BUILDDIR:-$(pwd)}
secs=${1:-3}
vec="$srcdir/tests/vectors/ethereum-execution-apis/tests"
c=$("$builddir/contrib/bench/evm_bench" "$vec" "$secs")
js=$(NODE_PATH="$srcdir/tests/peers/node_modules" node "$srcdir/contrib/bench/evm_bench.js" "$vec" "$secs")
echo "$c"
echo "$js"
node -e 'const a=JSON.parse(process.argv[1]),b=JSON.parse(process.argv[2]);
console.log("ratio tradebridge/" + b.impl.replace(" ","-") + ": " + (a.receipts_per_second/b.receipts_per_second).toFixed(2) + "x")' "$c" "$js"
