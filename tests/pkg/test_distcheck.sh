#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/pkg/test_distcheck.sh: the release tarball.
#
# "make distcheck" from a scratch configure of $srcdir: the tarball must
# configure, build every program (the test helpers too) out of tree from a
# read-only source, install, uninstall and clean up. Its own "make check"
# runs the subset "make print-distcheck-tests" names (Makefile.am says
# why): the unit tests and fuzz replays, and every test that reads the
# configured install paths, which differ there (prefix _inst: the
# run-state directory does not exist). This test checks that the subset
# leaves none of those out, and that its tests passed rather than skipped.
# The rest run in the suite around this test on the same files; running
# them twice would double the suite's time. A plain "make distcheck"
# (whole suite) passes too; the README says how long it takes.
# Then the tarball is held against git: every tracked file but debian/ and
# .gitignore is in it, and nothing else but what autoreconf makes. And
# EXTRA_DIST names files, not directories, since a directory carries along
# whatever an in-tree build left in it (tests/nss/fakesrv.o once broke
# distcheck that way).
. "$(dirname "$0")/../integration/lib.sh"

if [ -n "${CODNS_SKIP_PKG_TESTS:-}" ]; then
	echo "SKIP: CODNS_SKIP_PKG_TESTS is set (debian/rules sets it)"
	exit 77
fi
srcdir=$(cd "$srcdir" && pwd -P)
if [ "$(git -C "$srcdir" rev-parse --show-toplevel 2>/dev/null)" != \
	"$srcdir" ]; then
	# An unpacked tarball (distcheck itself, a package build) has nothing
	# to hold the tarball against, even when it lies inside some other
	# git work tree (as in a distcheck from a clone).
	echo "SKIP: $srcdir is not the top of a git work tree"
	exit 77
fi
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

# run_real.sh runs an impostor as nobody from the unpacked sources.
chmod 0755 "$T_DIR"
b="$T_DIR/build"
mkdir "$b"
cd "$b" || exit 1
"$srcdir/configure" >configure.log 2>&1
rc=$?
[ "$rc" -eq 0 ] || tail -n 20 configure.log
ok "configure" test "$rc" -eq 0

# --- EXTRA_DIST: files, not directories ---------------------------------------
printf 'print-distfiles:\n\t@printf "%%s\\n" $(DISTFILES)\n' >print.mk
make -s -f Makefile -f print.mk print-distfiles |
	sed -e "s|^$srcdir/||" -e 's|^\./||' | sort -u >distfiles
dirs=$(while read -r f; do
	[ -d "$srcdir/$f" ] && echo "$f"
done <distfiles | tr '\n' ' ')
echo "# directories in DISTFILES: $dirs"
ok "EXTRA_DIST names files, not directories (but tests/fuzz/corpus)" \
	test "$dirs" = "tests/fuzz/corpus "

# --- the subset: no test of the configured paths left out ---------------------
make -s print-tests | tr ' ' '\n' | sed '/^$/d' | sort -u >all-tests
make -s print-distcheck-tests | tr ' ' '\n' | sed '/^$/d' | sort -u \
	>dc-tests
paths=$(while read -r t; do
	[ -f "$srcdir/$t" ] && [ "$t" != tests/pkg/test_distcheck.sh ] &&
		grep -q 'CODNS_RUNSTATEDIR' "$srcdir/$t" &&
		echo "$t"
done <all-tests | tr '\n' ' ')
echo "# tests reading the configured paths: $paths"
left=$(for t in $paths; do grep -qx "$t" dc-tests || echo "$t"; done)
[ -z "$left" ] || echo "# add to distcheck_tests in Makefile.am:" $left
ok "the distcheck subset has every test of the configured paths" \
	test -n "$paths" -a -z "$left"
ok "the distcheck subset has every unit test" eval \
	'! grep "^tests/unit/" all-tests | grep -qvxF -f dc-tests'
ok "the distcheck subset is part of the suite" eval \
	'! grep -qvxF -f all-tests dc-tests'

# --- make distcheck -----------------------------------------------------------
start=$(date +%s)
make -j2 distcheck TESTS="$(tr '\n' ' ' <dc-tests)" >distcheck.log 2>&1
rc=$?
echo "# make distcheck with $(wc -l <dc-tests) tests took" \
	"$(($(date +%s) - start)) s"
if [ "$rc" -ne 0 ]; then
	grep -E -B3 -A3 'Error|error:|ERROR|^FAIL' distcheck.log | head -n 60
	# The logs of the tests that failed, kept by distcheck on failure.
	find . -path '*/_build/*' -name '*.log' ! -name test-suite.log \
		-exec grep -l -E '^(FAIL|ERROR)' {} + 2>/dev/null |
		while read -r l; do
			echo "--- $l"
			tail -n 20 "$l"
		done
fi
ok "make distcheck" test "$rc" -eq 0
# Run as root with namespaces, as the suite is: a skip would hide a failure.
for t in $paths; do
	ok "$t passed inside make distcheck" grep -qx "PASS: $t" distcheck.log
done

# --- the tarball against git ------------------------------------------------
tarball=$(ls codns-*.tar.gz 2>/dev/null | head -n 1)
ok "a tarball" test -n "$tarball"
if [ -n "$tarball" ]; then
	tar -tzf "$tarball" | sed -e 's|^[^/]*/||' -e '/\/$/d' -e '/^$/d' |
		sort -u >in-tarball
	git -C "$srcdir" ls-files | grep -v -E '^(debian/|\.gitignore$)' |
		sort -u >tracked
	missing=$(comm -23 tracked in-tarball)
	[ -z "$missing" ] || echo "# add these to EXTRA_DIST in Makefile.am:" \
		$missing
	ok "every tracked file is in the tarball" test -z "$missing"
	# What autoreconf and configure's helpers add, and nothing built.
	extra=$(comm -13 tracked in-tarball | grep -v -E \
		'^(configure|aclocal\.m4|config\.h\.in|(.*/)?Makefile\.in|build-aux/[^/]+|m4/[^/]+\.m4)$')
	[ -z "$extra" ] || echo "# not tracked, yet in the tarball:" $extra
	ok "nothing else is in the tarball (no objects, programs, logs)" \
		test -z "$extra"
	ok "no debian/ in the tarball" eval '! grep -q "^debian/" in-tarball'
fi

finish
