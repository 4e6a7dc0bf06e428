#!/usr/bin/env bash
# quickstart.sh: set up a fresh Debian 12 machine, build tradebridge and run it.
#   contrib/quickstart.sh demo    install, build, run the demo
#   contrib/quickstart.sh check   install, build, run every test
#   contrib/quickstart.sh deps    install what the machine lacks, nothing else
# Environment: SANITIZE=1 builds with ASan/UBSan; BUILD_DIR (default build/)
# holds the out-of-tree build; JOBS sets make's parallelism.
# Idempotent and quiet on success; on failure it says which step failed and
# shows the end of that step's log.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cmd=${1:-}
build=${BUILD_DIR:-$here/build}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
logdir=$build/logs

apt_packages=(
	build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev
	libcurl4-openssl-dev libssl-dev libnng-dev libyajl-dev libsecp256k1-dev
	libsqlite3-dev sqlite3 libxml2-dev libcmocka-dev dnsmasq-base curl jq
	libxmlsec1-dev chromium
)

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

step() { # step NAME COMMAND...: run quietly, show the log on failure
	local name=$1; shift
	mkdir -p "$logdir"
	local log="$logdir/$name.log"
	if ! "$@" >"$log" 2>&1; then
		echo "quickstart: step '$name' failed; the end of $log:" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
}

need_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_deps() {
	local missing=()
	for p in "${apt_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "quickstart: installing ${missing[*]}"
		step apt-update need_root apt-get update -q
		step apt-install need_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
	if [ -f tests/peers/package-lock.json ] && ! command -v npm >/dev/null; then
		step apt-node need_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends nodejs npm
	fi
	# Test peers from npm, pinned by tests/peers/package-lock.json.
	if [ -f tests/peers/package-lock.json ]; then
		if [ ! -d tests/peers/node_modules ] ||
			[ tests/peers/package-lock.json -nt tests/peers/node_modules/.package-lock.json ]; then
			step npm-ci npm ci --prefix tests/peers --no-audit --no-fund
		fi
	fi
}

build() {
	if [ -f config.status ]; then
		echo "quickstart: the source tree holds an in-tree build; run 'make distclean' here first" >&2
		exit 1
	fi
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
		step autoreconf autoreconf -fi
	fi
	local flags=(--enable-werror)
	[ "${SANITIZE:-0}" = 1 ] && flags+=(--enable-sanitizers)
	mkdir -p "$build"
	local stamp="$build/.configured-with"
	if [ ! -f "$build/Makefile" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${flags[*]}" ] ||
		[ configure -nt "$build/Makefile" ]; then
		step configure sh -c "cd '$build' && '$here/configure' ${flags[*]}"
		echo "${flags[*]}" >"$stamp"
	fi
	step make make -C "$build" -j"$jobs"
}

run_check() {
	local rc=0
	make -C "$build" -j"$jobs" check >"$logdir/check.log" 2>&1 || rc=$?
	# cmocka's summary of every suite, then one closing line for the whole run.
	local pass=0 fail=0 n
	while IFS= read -r -d '' f; do
		grep -hE '^\[  (PASSED|FAILED)  \]|^\[==========\] .* run\.' "$f" | sed "s|^|$(basename "$f" .log): |" || true
		n=$(awk '/^\[  PASSED  \] [0-9]+/ { s += $4 } END { print s + 0 }' "$f")
		pass=$((pass + n))
		n=$(awk '/^\[  FAILED  \] [0-9]+/ { s += $4 } END { print s + 0 }' "$f")
		fail=$((fail + n))
	done < <(find "$build/tests" "$build/adapters" -name '*.log' -print0 2>/dev/null | sort -z)
	if [ $rc -ne 0 ]; then
		echo "quickstart: make check failed; failing suites:" >&2
		grep -E '^(FAIL|ERROR)' "$logdir/check.log" >&2 || true
		for f in $(grep -lE '^(FAIL|ERROR)' $(find "$build/tests" -name '*.trs') 2>/dev/null); do
			echo "--- ${f%.trs}.log" >&2
			tail -n 40 "${f%.trs}.log" >&2
		done
		[ "$fail" -gt 0 ] || fail=1
	fi
	echo "tests: $pass passed, $fail failed"
	return $rc
}

run_demo() { # the relay for real: two ganache chains, AEO status bridged (contrib/demo/run.sh)
	TB_BUILDDIR="$build" "$here/contrib/demo/run.sh"
}

case "$cmd" in
demo) install_deps; build; run_demo ;;
check) install_deps; build; run_check ;;
deps) install_deps ;;
*) usage ;;
esac
