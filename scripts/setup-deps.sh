#!/bin/sh
# scripts/setup-deps.sh: install what codns needs to build, test and run
# on Debian 12 (run as root; idempotent).
set -e
pkgs="build-essential autoconf automake libtool pkg-config \
libc-ares-dev libev-dev libcmocka-dev libsodium-dev \
dnsmasq-base dnsutils valgrind python3 iproute2 util-linux groff-base \
dnsperf unbound"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing
fi
