#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/pkg/test_deb.sh: build the Debian packages from a copy of the
# source tree (dpkg-source -b, then dpkg-buildpackage -us -uc -b, without
# the package's own test run), run lintian on them (no errors, nothing
# about the licence or the maintainer's address), check what each
# package holds and depends on (dpkg-deb -c, -I), and run the
# libnss-codns maintainer scripts against a scratch root (DPKG_ROOT), as
# an unprivileged user, never against the machine's /etc.
. "$(dirname "$0")/../integration/lib.sh"

if [ -n "${CODNS_SKIP_PKG_TESTS:-}" ]; then
	echo "SKIP: CODNS_SKIP_PKG_TESTS is set (debian/rules sets it)"
	exit 77
fi
if [ ! -f "$srcdir/debian/control" ]; then
	# The release tarball carries no debian/ directory.
	echo "SKIP: no debian/ in $srcdir"
	exit 77
fi
for tool in dpkg-buildpackage dh lintian git; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool is missing (sh scripts/setup-deps.sh)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
# Make variables of a surrounding "make check" must not reach the build.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
upstream=${version%-*}
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
multiarch=$(dpkg-architecture -q DEB_HOST_MULTIARCH)

# --- build -----------------------------------------------------------------
# Tracked files only, as they are in the work tree (uncommitted changes
# count; a new file counts once "git add"ed): a build directory or an
# in-tree build in $srcdir must not leak into the package.
tree="$T_DIR/codns-$upstream"
mkdir "$tree"
(cd "$srcdir" && git ls-files -z) | (cd "$srcdir" &&
	xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] || continue
	cp -P --parents -- "$f" "$0"; done' "$tree")
# The source package first, from the clean tree: lintian checks
# debian/copyright (DEP-5) only there.
(cd "$T_DIR" && tar -czf "codns_$upstream.orig.tar.gz" \
	--exclude="codns-$upstream/debian" "codns-$upstream" &&
	dpkg-source -b "codns-$upstream") >"$T_DIR/source.log" 2>&1
source_rc=$?
[ "$source_rc" -eq 0 ] || tail -n 20 "$T_DIR/source.log"
ok "dpkg-source -b" test "$source_rc" -eq 0
start=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" \
	dpkg-buildpackage -us -uc -b) >"$T_DIR/build.log" 2>&1
build_rc=$?
echo "# dpkg-buildpackage took $(($(date +%s) - start)) s"
if [ "$build_rc" -ne 0 ]; then
	tail -n 60 "$T_DIR/build.log"
fi
ok "dpkg-buildpackage -us -uc -b" test "$build_rc" -eq 0
[ "$build_rc" -eq 0 ] || { finish; exit; }
ok "no file installed but left out of every package (dh_missing)" \
	eval '! grep -A20 "dh_missing: warning" "$T_DIR/build.log"'

deb() { echo "$T_DIR/${1}_${version}_$arch.deb"; }
for p in codnsd libnss-codns libcodns0 libcodns-dev; do
	ok "$p was built" test -f "$(deb "$p")"
done

# --- lintian -----------------------------------------------------------------
# Informational and pedantic tags too, for the licence and the contacts.
start=$(date +%s)
lintian --info --display-info --pedantic \
	"$T_DIR/codns_${version}_$arch.changes" "$T_DIR/codns_$version.dsc" \
	>"$T_DIR/lintian.out" 2>&1
lintian_rc=$?
echo "# lintian took $(($(date +%s) - start)) s; its findings:"
grep -E '^[EWIP]:' "$T_DIR/lintian.out"
# lintian exits 1 on errors, 2 when it could not check.
ok "lintian: no errors" eval \
	'[ "$lintian_rc" -eq 0 ] && ! grep -q "^E:" "$T_DIR/lintian.out"'
# The licence (MIT) is stated in debian/copyright, machine-readable: no
# tag of any level about it (copyright-*, *-dep5-*, *license*).
ok "lintian: nothing about debian/copyright or the licence" eval \
	'! grep -E "^[EWIP]: [^:]+: [^ ]*(copyright|dep5|licen[cs]e)" \
	"$T_DIR/lintian.out"'
# A real contact, not a placeholder domain.
ok "lintian: nothing about the maintainer's address" eval \
	'! grep -E "^[EWIP]: [^:]+: (bogus-mail-host|malformed-contact|no-phrase|mail-address-loops-or-bounces)" \
	"$T_DIR/lintian.out"'
ok "the maintainer is not at example.org/com/net" eval \
	'! grep -Eqi "^(Maintainer|Uploaders):.*@example\.(org|com|net)" \
	"$srcdir/debian/control"'
ok "debian/copyright: MIT for every file (Files: *)" eval \
	'grep -q "^Files: \*" "$srcdir/debian/copyright" &&
	grep -q "^License: MIT$" "$srcdir/debian/copyright"'

# --- contents ----------------------------------------------------------------
# has PKG PATH...: each path is in the package (dpkg-deb -c).
has() {
	local p=$1 f
	shift
	dpkg-deb -c "$(deb "$p")" | awk '{print $6}' | sed 's,^\.,,' \
		>"$T_DIR/$p.files"
	for f; do
		grep -qx -- "$f" "$T_DIR/$p.files" || {
			echo "$p lacks $f"
			return 1
		}
	done
}
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
ml=/usr/lib/$multiarch

ok "codnsd: daemon, codnsctl, units, config, example, man pages" has codnsd \
	/usr/sbin/codnsd /usr/bin/codnsctl /lib/systemd/system/codnsd.service \
	/lib/systemd/system/codnsd.socket \
	/etc/codns/codnsd.conf \
	/usr/share/doc/codnsd/examples/codnsd.conf.example \
	/usr/share/doc/codnsd/examples/peers.example \
	/usr/share/man/man8/codnsd.8.gz /usr/share/man/man8/codnsctl.8.gz \
	/usr/share/man/man5/codnsd.conf.5.gz \
	/usr/share/man/man7/codns-protocol.7.gz
ok "codnsd: the config is a conffile" eval \
	'dpkg-deb -I "$(deb codnsd)" conffiles | grep -qx /etc/codns/codnsd.conf'
unit_exec=$(dpkg-deb --fsys-tarfile "$(deb codnsd)" |
	tar -xOf - ./lib/systemd/system/codnsd.service |
	sed -n 's/^ExecStart=\([^ ]*\).*/\1/p')
ok "codnsd: the unit starts a program of the package ($unit_exec)" \
	grep -qx -- "$unit_exec" "$T_DIR/codnsd.files"
ok "codnsd: Depends from shlibs (libc6, libc-ares, libev, libsodium)" eval '
	d=$(field codnsd Depends); echo "$d" |
	grep -q "libc6 (>= " && echo "$d" | grep -q "libc-ares" &&
	echo "$d" | grep -q "libev" && echo "$d" | grep -q "libsodium"'
ok "codnsd: postinst enables the unit" eval '
	dpkg-deb -I "$(deb codnsd)" postinst >"$T_DIR/codnsd.postinst" &&
	grep -q "deb-systemd-helper.*enable.*codnsd.service" \
		"$T_DIR/codnsd.postinst"'
# One way of dropping privileges: the unit's (DynamicUser=yes), so the
# shipped config names no user (tests/pkg/test_unit_run.sh starts it so).
ok "codnsd: the unit drops privileges, the shipped config names no user" \
	eval 'dpkg-deb --fsys-tarfile "$(deb codnsd)" |
	tar -xOf - ./lib/systemd/system/codnsd.service |
	grep -qx DynamicUser=yes &&
	! dpkg-deb --fsys-tarfile "$(deb codnsd)" |
	tar -xOf - ./etc/codns/codnsd.conf | grep -q "^user"'
mkdir "$T_DIR/codnsd.x"
dpkg-deb -x "$(deb codnsd)" "$T_DIR/codnsd.x"
ok "codnsd -t accepts the shipped config" \
	"$T_DIR/codnsd.x/usr/sbin/codnsd" -t \
	-c "$T_DIR/codnsd.x/etc/codns/codnsd.conf"

ok "libnss-codns: the module in the multiarch directory, man page" \
	has libnss-codns "$ml/libnss_codns.so.2" \
	/usr/share/man/man8/nss_codns.8.gz
ok "libnss-codns: nothing else under $ml" eval \
	'[ "$(grep -c "^$ml/." "$T_DIR/libnss-codns.files")" -eq 1 ]'
ok "libnss-codns: Multi-Arch: same" test "$(field libnss-codns Multi-Arch)" = same
ok "libnss-codns: Depends from shlibs" eval \
	'field libnss-codns Depends | grep -q "libc6 (>= "'

ok "libcodns0: the library and its soname link" has libcodns0 \
	"$ml/libcodns.so.0" "$ml/libcodns.so.0.0.0"
ok "libcodns0: a symbols file with the API" eval '
	dpkg-deb -I "$(deb libcodns0)" symbols >"$T_DIR/symbols" &&
	grep -q "^libcodns.so.0 libcodns0 " "$T_DIR/symbols" &&
	grep -q "^ codns_lookup@CODNS_0 " "$T_DIR/symbols"'
ok "libcodns0: shlibs" eval \
	'dpkg-deb -I "$(deb libcodns0)" shlibs | grep -q "^libcodns 0 libcodns0"'
ok "libcodns0: Depends from shlibs" eval \
	'field libcodns0 Depends | grep -q "libc6 (>= "'
ok "libcodns-dev: header, link library, pkg-config file" has libcodns-dev \
	/usr/include/codns.h "$ml/libcodns.so" "$ml/pkgconfig/libcodns.pc"
ok "libcodns-dev: Depends on this libcodns0" eval \
	'field libcodns-dev Depends | grep -qF "libcodns0 (= $version)"'
ok "no libtool archive in any package" eval \
	'! cat "$T_DIR"/*.files | grep -q "\.la$"'

# --- libnss-codns maintainer scripts on a scratch root -------------------------
# As nobody when run as root, so that a script reaching past DPKG_ROOT fails
# instead of changing this machine.
nss="$T_DIR/nss.ctl"
dpkg-deb -e "$(deb libnss-codns)" "$nss"
root="$T_DIR/root"
mkdir -p "$root/etc"
chmod 711 "$T_DIR"
fixtures="$srcdir/tests/pkg/nsswitch"
reset_root() {
	rm -rf "$root/var"
	cp "$fixtures/$1" "$root/etc/nsswitch.conf"
	[ "$(id -u)" -ne 0 ] || chown -R nobody "$root"
}
unpriv=
[ "$(id -u)" -ne 0 ] ||
	unpriv="setpriv --reuid=nobody --regid=nogroup --clear-groups"
# script NAME ARGS...: run a maintainer script the way dpkg would.
script() {
	local s=$1
	shift
	$unpriv env DPKG_ROOT="$root" DPKG_MAINTSCRIPT_PACKAGE=libnss-codns \
		DPKG_MAINTSCRIPT_NAME="$s" \
		${instcount:+DPKG_MAINTSCRIPT_PACKAGE_INSTCOUNT=$instcount} \
		sh "$nss/$s" "$@"
}
now() { cmp -s "$fixtures/$1" "$root/etc/nsswitch.conf"; }
instcount=

reset_root debian-default.conf
ok "install: preinst install, postinst configure add the entry" eval '
	script preinst install && script postinst configure &&
	now debian-default.conf.added'
ok "install: no marker left behind" test ! -e "$root/var/lib/libnss-codns"
ok "upgrade: the hosts: line is left as it is" eval '
	script preinst upgrade "$version" &&
	script postinst configure "$version" && now debian-default.conf.added'
instcount=1
ok "remove of one of two architectures: the entry stays" eval '
	script postrm remove && now debian-default.conf.added'
instcount=0
ok "remove: the original file, byte for byte" eval '
	script postrm remove && now debian-default.conf'
ok "purge after remove: nothing more changes" eval '
	script postrm purge && now debian-default.conf'

reset_root odd.conf
ok "odd file: install, remove, purge give it back byte for byte" eval '
	script preinst install && script postinst configure &&
	now odd.conf.added && script postrm remove && now odd.conf &&
	script postrm purge && now odd.conf'

reset_root resolve.conf
script preinst install && script postinst configure
sed -i 's/codns \[!UNAVAIL=return\] //' "$root/etc/nsswitch.conf"
ok "an admin took the entry out: an upgrade does not put it back" eval '
	script preinst upgrade "$version" &&
	script postinst configure "$version" && now resolve.conf'
ok "reinstall after remove (not purge) adds it again" eval '
	script postrm remove && script preinst install "$version" &&
	script postinst configure "$version" && now resolve.conf.added'

finish
