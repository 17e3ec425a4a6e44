#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/setup-deps.sh: install what codns needs to build, test, package
# and run on Debian 12 (run as root; idempotent). One package per line,
# in alphabetical order, so that additions merge cleanly.
set -e
pkgs="
autoconf
automake
build-essential
debhelper
dnsmasq-base
dnsperf
dnsutils
dpkg-dev
git
gnuplot-nox
groff-base
iproute2
iputils-ping
libc-ares-dev
libcmocka-dev
libev-dev
libsodium-dev
libtool
lintian
pkg-config
python3
python3-yaml
systemd
unbound
util-linux
valgrind
"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
		$missing
fi
