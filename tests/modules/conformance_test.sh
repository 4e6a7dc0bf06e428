#!/bin/sh
# make check: every adapter passes `tradebridge adapters --check`, in-tree and built
# out of tree. The out-of-tree half installs what an adapter author gets
# (libtradebridge, the headers, tradebridge-adapter.pc) into a temporary DESTDIR,
# builds each in-tree adapter's sources there with nothing but
#   cc -shared -fPIC SOURCES $(pkg-config --cflags --libs tradebridge-adapter)
# and loads the result with the built tradebridge. So a header an adapter includes
# but the install leaves out, or a Libs: line that does not link, fails here.
# TB_MODULES lists the in-tree modules' .la files; Makefile.am sets it.
set -u
builddir=${TB_BUILDDIR:?run through make check}
srcdir=${TB_SRCDIR:?run through make check}
tb="$builddir/tradebridge"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bad() {
	echo "FAIL: $*"
	fail=1
}

module_so() {
	dlname=$(sed -n "s/^dlname='\(.*\)'\$/\1/p" "$1")
	[ -n "$dlname" ] && echo "$(dirname "$1")/.libs/$dlname"
}

# 1. The in-tree modules.
for la in ${TB_MODULES:?TB_MODULES is not set}; do
	so=$(module_so "$builddir/$la")
	if "$tb" adapters --check "$so" >"$tmp/out" 2>&1; then
		grep -q "conforms" "$tmp/out" || bad "$so: --check passed without saying so"
	else
		bad "$so: $(cat "$tmp/out")"
	fi
done

# 2. The check can fail: a module built for another ABI is refused, naming the file.
badabi=$(module_so "$builddir/tests/modules/badabi/badabi.la")
if "$tb" adapters --check "$badabi" >"$tmp/out" 2>&1; then
	bad "$badabi: --check accepted a module built for another ABI"
else
	[ $? = 1 ] || bad "$badabi: --check exit status is not 1"
	grep -q "badabi.so: built for adapter ABI" "$tmp/out" ||
		bad "$badabi: the refusal does not name the file and the ABI: $(cat "$tmp/out")"
fi

# 3. Out of tree: install the adapter kit only (no module is relinked under the
# tests running beside this one), then build against it.
dest="$tmp/dest"
if ! make -s -C "$builddir" install-adapter-kit DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	bad "make install-adapter-kit DESTDIR=$dest failed"
	exit 1
fi
pc=$(find "$dest" -name tradebridge-adapter.pc | head -1)
[ -n "$pc" ] || { bad "tradebridge-adapter.pc was not installed"; exit 1; }
# pkg-config reads the installed .pc; the sysroot maps its prefix into DESTDIR.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_LIBDIR="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs tradebridge-adapter) ||
	{ bad "pkg-config cannot read $pc"; exit 1; }
case "$flags" in
*-ltradebridge*) ;;
*) bad "tradebridge-adapter.pc has no -ltradebridge in Libs: $flags" ;;
esac
mkdir -p "$tmp/mod"
chmod 755 "$tmp/mod"
built=0
for dir in "$srcdir"/adapters/*/; do
	name=$(basename "$dir")
	# The adapter's own sources: every .c in its folder but its tests.
	srcs=$(ls "$dir"*.c | grep -v '_test\.c$' | tr '\n' ' ')
	# shellcheck disable=SC2086 # word splitting of the flags and sources is meant
	if ! ${CC:-cc} -shared -fPIC -o "$tmp/mod/$name.so" $srcs $flags >"$tmp/cc.log" 2>&1; then
		bad "adapters/$name built out of tree: $(head -5 "$tmp/cc.log")"
		continue
	fi
	built=$((built + 1))
	# It needs the installed library; the loader finds it there, not in the build tree.
	ldd "$tmp/mod/$name.so" 2>/dev/null | grep -q 'libtradebridge\.so' ||
		bad "$name.so built out of tree does not link libtradebridge"
	if LD_LIBRARY_PATH="$(dirname "$pc")/..${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$tb" adapters --check "$tmp/mod/$name.so" >"$tmp/out" 2>&1; then
		echo "ok: adapters/$name built out of tree: $(cat "$tmp/out")"
	else
		bad "adapters/$name built out of tree: $(cat "$tmp/out")"
	fi
done
[ "$built" -ge 4 ] || bad "only $built adapters built out of tree"

# The out-of-tree testecho, found on the adapter path, describes itself.
TRADEBRIDGE_ADAPTER_PATH="$tmp/mod" "$tb" adapters --describe testecho >"$tmp/out" 2>&1 ||
	bad "adapters --describe testecho (out of tree): $(cat "$tmp/out")"
grep -q "^greeting " "$tmp/out" || bad "--describe testecho does not list its greeting option"
exit $fail
