#!/usr/bin/env bash
# The demo (contrib/quickstart.sh demo) and, with --check, the end-to-end test of
# make check: two ganache chains with an AEO registry each, a relay bridging AEO
# status from the first (Peru) to the second (Chile, which has an MRA with Peru;
# a Korean registry without one is a partner that must receive nothing).
# Invariant: everything it starts (ganache, relay) is stopped on exit, success or not.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${TB_BUILDDIR:-${BUILD_DIR:-$here/build}}
mode=demo
[ "${1:-}" = --check ] && mode=check
tb=$build/tradebridge
nm=${TB_PEERS:-$here/tests/peers}/node_modules
export TB_NODE_MODULES=$nm
work=$(mktemp -d "${TMPDIR:-/tmp}/tb-demo.XXXXXX")
declare -A pids=()

say() { [ "$mode" = demo ] && printf '%s\n' "$*" || true; }
fail() {
	echo "demo: $*" >&2
	[ -s "$work/relay.log" ] && { echo "--- relay log (last lines):" >&2; tail -n 15 "$work/relay.log" >&2; }
	exit 1
}
stop() { # stop NAME: its whole process group, TERM then KILL, bounded
	local p=${pids[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM -- "-$p" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	unset "pids[$1]"
}
cleanup() {
	for n in "${!pids[@]}"; do stop "$n"; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$tb" ] || fail "no tradebridge binary at $tb (build first: contrib/quickstart.sh check)"
[ -x "$nm/.bin/ganache" ] || fail "ganache is not installed: npm ci --prefix tests/peers"
command -v curl >/dev/null || fail "curl is needed"
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

ganache() { # ganache NAME PORT CHAIN_ID: state in $work/NAME.db survives a restart
	mkdir -p "$work/$1.db"
	setsid "$nm/.bin/ganache" --server.host 127.0.0.1 --server.port "$2" --chain.chainId "$3" \
		--wallet.mnemonic "test test test test test test test test test test test junk" \
		--database.dbPath "$work/$1.db" --logging.quiet true \
		--chain.vmErrorsOnRPCResponse true >"$work/$1.log" 2>&1 &
	pids[$1]=$!
	local deadline=$((SECONDS + 60))
	while [ $SECONDS -lt $deadline ]; do
		curl -s -m 1 -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' \
			"http://127.0.0.1:$2" 2>/dev/null | grep -q result && return 0
		kill -0 "${pids[$1]}" 2>/dev/null || fail "ganache $1 exited: $(tail -n 3 "$work/$1.log")"
		sleep 0.1
	done
	fail "ganache $1 did not answer on port $2 within 60 s"
}
chain() { node "$here/contrib/demo/chain.js" "$@" || fail "chain.js $*"; }
cert() { chain "$1" cert "$2" "$3"; }
wait_cert() { # wait_cert URL REG CERT VERSION: until the registry holds that version (90 s)
	local deadline=$((SECONDS + 90))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(cert "$1" "$2" "$3" | jq -r .version)" = "$4" ] && return 0
		if [ -n "${pids[relay]:-}" ] && ! kill -0 "${pids[relay]}" 2>/dev/null; then
			fail "the relay exited: $(tail -n 5 "$work/relay.log")"
		fi
		sleep 0.2
	done
	fail "version $4 of $3 did not reach $2 within 90 s"
}

pa=$(free_port); pb=$(free_port); padmin=$(free_port)
A=http://127.0.0.1:$pa; B=http://127.0.0.1:$pb
say "== starting two ganache chains: A (Peru, $A) and B (Chile and Korea, $B)"
ganache chain-a "$pa" 1337
ganache chain-b "$pb" 1338
say "== deploying the AEO registry on both (solc 0.8.37)"
regA=$(chain "$A" deploy); regB=$(chain "$B" deploy); regK=$(chain "$B" deploy)
chain "$A" admin "$regA" 1 PE
chain "$B" relayer "$regB" 2
chain "$B" relayer "$regK" 3
say "   registry A $regA (PE administration $(chain "$A" address 1))"
say "   registry B $regB (Chile), $regK (Korea)"

"$tb" keygen -o "$work/relay.key" >"$work/signer" 2>&1 || fail "keygen: $(cat "$work/signer")"
cat >"$work/relay.json" <<JSON
// Written by contrib/demo/run.sh; see contrib/configs/two-chains.json for the commented form.
{
  "relay": {"store": "$work/relay.db", "key_file": "$work/relay.key", "idle": "100ms",
            "admin": "127.0.0.1:$padmin", "backoff_base": "200ms", "backoff_max": "1s",
            "max_attempts": 1000, "wco_dir": "$here/mappings/wco"},
  "networks": {
    "pe-cadena": {"adapter": "cadena", "rpc": "$A", "registry": "$regA", "country": "PE",
                  "confirmations": 0, "timeout": "2s"},
    "cl-cadena": {"adapter": "cadena", "rpc": "$B", "registry": "$regB", "country": "CL",
                  "confirmations": 0, "timeout": "2s"},
    "kr-cadena": {"adapter": "cadena", "rpc": "$B", "registry": "$regK", "country": "KR",
                  "confirmations": 0, "timeout": "2s"}
  },
  "routes": [
    {"from": "pe-cadena", "to": "cl-cadena", "types": ["cadena.aeo.status"],
     "mapping": "$here/mappings/cadena-aeo.json", "reverse": "$here/mappings/cadena-aeo.json",
     "allow_missing": ["AEOCertificate.Holder"]},
    {"from": "pe-cadena", "to": "kr-cadena", "types": ["cadena.aeo.status"],
     "mapping": "$here/mappings/cadena-aeo.json", "reverse": "$here/mappings/cadena-aeo.json",
     "allow_missing": ["AEOCertificate.Holder"]}
  ],
  "policies": {
    "cl-cadena": {"country": "CL", "types": ["aeo.status"],
                  "drop": ["AEOCertificate.IssuingAuthority"]},
    "kr-cadena": {"country": "KR", "types": ["aeo.status"]}
  },
  "mras": {"PE": ["CL", "CO", "MX"]}
}
JSON
export TRADEBRIDGE_ADAPTER_PATH=$build/adapters/cadena/.libs
export TRADEBRIDGE_CL_CADENA_KEY=$(chain "$B" key 2) TRADEBRIDGE_KR_CADENA_KEY=$(chain "$B" key 3)
export TRADEBRIDGE_ADMIN_TOKEN=demo-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
"$tb" check-config -c "$work/relay.json" >"$work/check.txt" 2>&1 || fail "check-config: $(cat "$work/check.txt")"
say "== what each partner will receive (tradebridge check-config)"
[ "$mode" = demo ] && sed -n '/^partner/,$p' "$work/check.txt"

setsid "$tb" run -c "$work/relay.json" >"$work/relay.log" 2>&1 &
pids[relay]=$!
say "== relay running (pid ${pids[relay]}); admin API on 127.0.0.1:$padmin"

ref=PE-AEO-000123
t0=1767225600
say "== on chain A: certify $ref"
chain "$A" change "$regA" 1 certify "$ref" 1 "$t0" >/dev/null
wait_cert "$B" "$regB" "$ref" 1
say "   arrived on B: $(cert "$B" "$regB" "$ref")"

if [ "$mode" = check ]; then # outage: B stops, A moves on, B returns on the same port and state
	stop chain-b
	chain "$A" change "$regA" 1 suspend "$ref" 2 $((t0 + 86400)) >/dev/null
	sleep 3
	ganache chain-b "$pb" 1338
else
	say "== on chain A: suspend $ref"
	chain "$A" change "$regA" 1 suspend "$ref" 2 $((t0 + 86400)) >/dev/null
fi
wait_cert "$B" "$regB" "$ref" 2
say "   arrived on B: $(cert "$B" "$regB" "$ref")"
say "== on chain A: cancel $ref"
chain "$A" change "$regA" 1 cancel "$ref" 3 $((t0 + 172800)) >/dev/null
wait_cert "$B" "$regB" "$ref" 3
say "   arrived on B: $(cert "$B" "$regB" "$ref")"

# What left for Chile: the record's hash on B is that of the stored record minus the dropped field.
last=$("$tb" receipts list --json -s "$work/relay.db" 2>/dev/null | jq -s -r 'flatten | map(select(.destination.network=="cl-cadena")) | last | .record')
curl -sf -H "authorization: Bearer $TRADEBRIDGE_ADMIN_TOKEN" "http://127.0.0.1:$padmin/records/$last" \
	| jq '.record' >"$work/stored.json" || fail "admin API: no record $last"
jq -c 'del(.data.AEOCertificate.IssuingAuthority)' "$work/stored.json" >"$work/sent.json"
curl -sf -H "authorization: Bearer $TRADEBRIDGE_ADMIN_TOKEN" "http://127.0.0.1:$padmin/metrics" \
	>"$work/metrics.txt" || fail "admin API: no metrics"
stop relay
sent=0x$("$tb" canon "$work/sent.json" | sed -n 's/^sha256: //p')
full=0x$("$tb" canon "$work/stored.json" | sed -n 's/^sha256: //p')
onb=$(cert "$B" "$regB" "$ref" | jq -r .recordHash)

say "== receipts (tradebridge receipts list)"
[ "$mode" = demo ] && "$tb" receipts list -s "$work/relay.db"
say "== receipt chain verification (signer $(sed -n 's/.*\(0x[0-9a-fA-F]\{40\}\).*/\1/p' "$work/signer" | head -1))"
"$tb" receipts verify -k "$work/relay.key" -s "$work/relay.db" >"$work/verify.txt" 2>&1 \
	|| fail "receipts verify: $(cat "$work/verify.txt")"
say "   $(cat "$work/verify.txt")"
say "== Korea (no MRA with Peru) received: $(chain "$B" events "$regK" | wc -l) records"
if [ "$onb" = "$sent" ] && [ "$onb" != "$full" ]; then
	say "== Chile's copy left without IssuingAuthority (dropped by policy): its hash on B,"
	say "   $onb, is that of the stored record minus that field"
else
	fail "the hash on B ($onb) is not that of the record without the dropped field ($sent)"
fi

if [ "$mode" = check ]; then
	n=$(chain "$B" events "$regB" | wc -l)
	[ "$n" = 3 ] || fail "chain B has $n StatusChanged events for 3 changes (lost or duplicated)"
	[ "$(cert "$B" "$regB" "$ref" | jq -r .status)" = cancelled ] || fail "B does not show cancelled"
	[ "$(chain "$B" events "$regK" | wc -l)" = 0 ] || fail "the non-MRA partner received an AEO record"
	k=$("$tb" receipts list --json -s "$work/relay.db" | jq -s 'flatten | map(select(.destination.network=="kr-cadena")) | length')
	[ "$k" = 0 ] || fail "$k receipts for the non-MRA partner"
	c=$("$tb" receipts list --json -s "$work/relay.db" | jq -s 'flatten | map(select(.destination.network=="cl-cadena")) | length')
	[ "$c" = 3 ] || fail "$c receipts for cl-cadena, expected 3"
	f=$(sed -n 's/^tradebridge_delivery_failures_total{network="cl-cadena"} //p' "$work/metrics.txt")
	[ "${f:-0}" -gt 0 ] || fail "no failed delivery to cl-cadena: the outage was not exercised"
	[ "$onb" = "$sent" ] || fail "B holds $onb, not the hash of the record without the dropped field ($sent)"
	[ "$onb" != "$full" ] || fail "the dropped field left the relay"
	grep -q IssuingAuthority "$work/stored.json" || fail "the stored record lost IssuingAuthority"
	echo "chain e2e: 3 AEO changes bridged A -> B through an outage of B ($f failed attempts, then drained), 3 receipts verify, non-MRA partner got 0, dropped field never sent"
fi
