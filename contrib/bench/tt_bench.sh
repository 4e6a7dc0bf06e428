#!/bin/sh
# Integrity fragment throughput, tradebridge vs @tradetrust-tt/tradetrust
# verifySignature, on one generated corpus in one run; prints both and the ratio.
# Usage: contrib/bench/tt_bench.sh [BUILDDIR] [DOCS] [SECONDS]   (from the source tree,
# after `make`; needs node and `npm ci --prefix tests/peers`).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src}" && pwd)
docs=${2:-500}
secs=${3:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
TB_SRCDIR=$src node "$src/adapters/tradetrust/oa_corpus.js" "$docs" > "$tmp/corpus.ndjson"
# OpenAttestation lives beside its adapter; the rest comes from libtradebridge.
${CC:-cc} -O2 -std=gnu11 -I"$src/src" -I"$src/adapters/tradetrust" -I"$build" \
	"$src/contrib/bench/tt_bench.c" "$src/adapters/tradetrust/oa.c" \
	-L"$build/.libs" -Wl,-rpath,"$build/.libs" -ltradebridge -o "$tmp/tt_bench"
c=$("$tmp/tt_bench" "$tmp/corpus.ndjson" "$secs")
j=$(TB_SRCDIR=$src node "$src/contrib/bench/tt_bench.js" "$tmp/corpus.ndjson" "$secs")
echo "corpus: $docs documents from adapters/tradetrust/oa_corpus.js"
echo "$c"
echo "$j"
a=$(echo "$c" | awk '{print $2}')
b=$(echo "$j" | awk '{print $2}')
echo "ratio tradebridge/library: $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}')"
