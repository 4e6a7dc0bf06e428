#!/bin/sh
# make check: every built adapter module is one door and no private core. It
# exports exactly one dynamic symbol, tradebridge_adapter; it carries no relay,
# store, bus, API or configuration code; and it defines none of the functions
# libtradebridge exports (they come from the one shared copy, so a JSON tree a
# module builds is freed by the same code that allocated it).
# TB_MODULES lists the modules' .la files (relative to TB_BUILDDIR); Makefile.am sets it.
set -u
builddir=${TB_BUILDDIR:-.}
nm=${NM_PROG:-nm}
fail=0
checked=0

bad() {
	echo "FAIL: $*"
	fail=1
}

# The .so a libtool .la names (dlname), beside it in .libs/.
module_so() {
	dlname=$(sed -n "s/^dlname='\(.*\)'\$/\1/p" "$1")
	[ -n "$dlname" ] && echo "$(dirname "$1")/.libs/$dlname"
}

core_so=$(module_so "$builddir/libtradebridge.la")
if [ -z "$core_so" ] || [ ! -f "$core_so" ]; then
	echo "FAIL: $builddir/libtradebridge.la: no shared libtradebridge built"
	exit 1
fi
core_syms=$(mktemp)
trap 'rm -f "$core_syms"' EXIT
"$nm" -D --defined-only "$core_so" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort -u >"$core_syms"
[ -s "$core_syms" ] || bad "$core_so exports nothing"

for la in ${TB_MODULES:?TB_MODULES is not set: run through make check}; do
	so=$(module_so "$builddir/$la")
	if [ -z "$so" ] || [ ! -f "$so" ]; then
		bad "$la: built module not found (no dlname or no .libs file)"
		continue
	fi
	checked=$((checked + 1))
	before=$fail
	fail=0
	exported=$("$nm" -D --defined-only "$so" | awk '{ print $NF }' | grep -v '^_init$\|^_fini$' |
		sort -u | tr '\n' ' ')
	[ "$exported" = "tradebridge_adapter " ] ||
		bad "$so: exports [$exported], expected only [tradebridge_adapter]"
	# Relay-side code by its prefixes, defined or needed: a module must not reach it.
	relay=$("$nm" "$so" | awk '{ print $NF }' |
		grep -E '^(tb_relay_|tb_store_|tb_bus_|tb_api_|tb_receipt_|tb_sharing_|tb_modules_|tb_keyfile_|tb_addr_|tb_outbox_|tb_mapping_|tb_dict_|tb_record_|tb_datapath_|sqlite3_|nng_)' |
		sort -u | head -5 | tr '\n' ' ')
	[ -z "$relay" ] || bad "$so: holds relay-side code: $relay..."
	# A private copy of the core: a function libtradebridge exports, defined here.
	copy=$("$nm" --defined-only "$so" | awk '{ print $NF }' | sort -u | comm -12 - "$core_syms" |
		head -5 | tr '\n' ' ')
	[ -z "$copy" ] || bad "$so: carries its own copy of libtradebridge: $copy..."
	[ $fail = 0 ] && echo "ok: $so"
	[ $before = 0 ] || fail=1
done

[ "$checked" -gt 0 ] || bad "no module checked"
exit $fail
