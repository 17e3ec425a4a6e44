#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_amplify.sh: how much a public DNS stub amplifies. One
# source floods codnsd's stub over UDP with COUNT questions (a 1.1 KB TXT
# answer, ANY, random names) and the bytes it gets back are divided by the
# bytes it sent; printed with the response rate limit off (ratelimit 0,
# what codnsd did before it had one) and at its default for a public
# dns-listen. A benchmark, not a test: it asserts nothing.
#
# Usage: scripts/bench_amplify.sh [COUNT]   (default 5000; run as root
# from the top of the tree after scripts/build.sh). Everything runs in a
# network namespace of its own (unshare -n): the stub on 192.0.2.1, the
# flooding source 198.51.100.7, dnsmasq on 127.0.0.1. CODNSD_BEFORE=PATH
# measures another codnsd binary (an older build) as the "before" column.
set -u
if [ -z "${CODNS_IN_NETNS:-}" ]; then
	CODNS_IN_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
fi
count=${1:-5000}
. "$(dirname "$0")/bench_lib.sh"
bench_begin amp
BEFORE=${CODNSD_BEFORE:-$CODNSD}
AMP="python3 $top/tests/integration/amplify.py"

ip link set lo up
ip addr add 192.0.2.1/32 dev lo
ip addr add 198.51.100.7/32 dev lo

s250=$(printf 'x%.0s' $(seq 250))
cat >"$dir/ns.conf" <<EOF
no-resolv
no-hosts
port=5300
listen-address=127.0.0.1
bind-interfaces
log-queries
log-facility=$dir/ns.log
local=/bench.example/
host-record=www.bench.example,192.0.2.10
txt-record=big.bench.example,"$s250","$s250"
txt-record=big.bench.example,"$s250","$s250"
EOF
/usr/sbin/dnsmasq -k -C "$dir/ns.conf" --pid-file= &
pids="$pids $!"

# run BINARY RATELIMIT LABEL: a codnsd with a public stub; prints one line per
# flood.
run() {
	local bin=$1 rl=$2 pid up0 up1
	{
		echo "listen 127.0.0.1:7153"
		echo "lookup-socket $dir/lookup.sock"
		echo "control-socket $dir/control.sock"
		echo "dns-listen 192.0.2.1:53 public"
		echo "upstream 127.0.0.1:5300"
		echo "peers-file $dir/no-peers"
		[ "$rl" = default ] || echo "ratelimit $rl"
	} >"$dir/codnsd.conf"
	"$bin" -f -c "$dir/codnsd.conf" 2>"$dir/codnsd.log" &
	pid=$!
	for _ in $(seq 50); do
		dig +time=1 +tries=1 @192.0.2.1 www.bench.example >/dev/null 2>&1 &&
			break
		sleep 0.1
	done
	# Warm the cache with one answer, as an attacker would.
	dig +time=1 +tries=1 +bufsize=4096 @192.0.2.1 TXT big.bench.example \
		>/dev/null 2>&1
	sleep 1.1 # a full bucket, as a fresh source has
	printf '%-22s %-9s ' "TXT 1.1 KB" "$3"
	$AMP 192.0.2.1 53 198.51.100.7 "$count" TXT big.bench.example gap=2
	sleep 1.1
	printf '%-22s %-9s ' "ANY" "$3"
	$AMP 192.0.2.1 53 198.51.100.7 "$count" ANY big.bench.example gap=2
	sleep 1.1
	up0=$(grep -c "query\[TXT\] r" "$dir/ns.log")
	printf '%-22s %-9s ' "random names (TXT)" "$3"
	$AMP 192.0.2.1 53 198.51.100.7 "$count" TXT random:bench.example gap=2
	up1=$(grep -c "query\[TXT\] r" "$dir/ns.log")
	printf '%-22s %-9s %d of %d random names reached the nameserver\n' \
		"" "$3" "$((up1 - up0))" "$count"
	kill "$pid"
	wait "$pid" 2>/dev/null
}

echo "one source, $count queries each, as fast as it can send; factor ="
echo "bytes received / bytes sent ($(date -u +%Y-%m-%d), $(nproc) CPUs, shared)"
# An older binary knows no ratelimit key: its defaults are "before".
rl_before=0
[ -n "${CODNSD_BEFORE:-}" ] && rl_before=default
run "$BEFORE" "$rl_before" before
run "$CODNSD" default after
echo "(before: ratelimit 0; after: the default for a public stub,"
echo " ratelimit 100 per /24 or /56, ratelimit-slip 2)"
