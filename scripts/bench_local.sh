#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_local.sh: cache-hit lookup rate and latency of codnsd's
# UNIX lookup socket and TCP listener against a glibc getaddrinfo() loop on
# a local dnsmasq; prints the UNIX/TCP cost ratio per lookup.
#
# A benchmark, not a test: it measures and prints, it never judges.
# Run it as root from a build directory (it needs unshare -n -m):
#
#   cd /tmp/build && /path/to/src/scripts/bench_local.sh
#
# Everything runs in a private network and mount namespace: a fresh
# loopback, where dnsmasq serves a small zone on 127.0.0.1:53 (and forwards
# nothing), codnsd uses it as its upstream, and /etc/resolv.conf and
# /etc/nsswitch.conf are bind-mounted over with "nameserver 127.0.0.1" and
# "hosts: dns" so that glibc's getaddrinfo() asks the same dnsmasq. No
# packet leaves the namespace.
#
# Environment: BENCH_ROUNDS (5), BENCH_COUNT (20000 lookups per round and
# mode), BENCH_DEPTH (32), BENCH_CAP (60 s for all measuring together),
# BUILDDIR (the current directory).

set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
export srcdir
: "${BUILDDIR:=$(pwd)}"
export BUILDDIR
ROUNDS=${BENCH_ROUNDS:-5}
COUNT=${BENCH_COUNT:-20000}
DEPTH=${BENCH_DEPTH:-32}
CAP=${BENCH_CAP:-60}

if [ "${1:-}" != "--inside" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench_local.sh: needs root (unshare -n -m)" >&2
		exit 1
	fi
	make -C "$BUILDDIR" -s codnsd/codnsd scripts/codns_bench || exit 1
	exec unshare -n -m -- "$0" --inside
fi

# From here on: inside the namespaces. lib.sh's trap stops every process
# it started (dnsmasq, codnsd) and removes $T_DIR on any exit.
. "$srcdir/tests/integration/lib.sh"
BENCH=$BUILDDIR/scripts/codns_bench

ip link set lo up || exit 1
# Private resolver config for getaddrinfo(); the mount namespace keeps it
# away from the rest of the machine. An nscd socket would bypass it.
echo "nameserver 127.0.0.1" >"$T_DIR/resolv.conf"
echo "hosts: dns" >"$T_DIR/nsswitch.conf"
mount --bind "$T_DIR/resolv.conf" /etc/resolv.conf || exit 1
mount --bind "$T_DIR/nsswitch.conf" /etc/nsswitch.conf || exit 1
if [ -d /var/run/nscd ]; then
	mount -t tmpfs none /var/run/nscd || exit 1
fi

NAMES=""
for i in $(seq 1 16); do
	NAMES="$NAMES b$i.bench.example"
	echo "host-record=b$i.bench.example,192.0.2.$i"
done >"$T_DIR/ns.zone"

# Not lib.sh's start_dnsmasq: that one logs every query to a file, which
# would slow the baseline down. Same server, same zone, no query log.
{
	echo "no-resolv"
	echo "no-hosts"
	echo "port=53"
	echo "listen-address=127.0.0.1"
	echo "bind-interfaces"
	echo "local-ttl=3600"
	echo "local=/bench.example/"
	cat "$T_DIR/ns.zone"
} >"$T_DIR/ns.conf"
"$DNSMASQ" --keep-in-foreground -C "$T_DIR/ns.conf" --pid-file= \
	>"$T_DIR/ns.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_dns 127.0.0.1 53 b1.bench.example

LISTEN_a=127.0.0.1:$(free_port)
SOCK_a=$T_DIR/a.lookup.sock
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
lookup-socket $SOCK_a
upstream 127.0.0.1:53
control-socket $T_DIR/a.sock
peers-file $T_DIR/no-peers
cache-size 1000
EOF
start_codnsd a || exit 1

# Warm the cache: every name once, so every measured codnsd lookup is a
# cache hit (codns_bench counts answers that were not, as notcache).
# shellcheck disable=SC2086
"$BENCH" conn -a "$LISTEN_a" -n 16 $NAMES >/dev/null || exit 1
# shellcheck disable=SC2086
"$BENCH" gai -n 16 $NAMES >"$T_DIR/gai.warm" || exit 1
if ! grep -q " fails=0 " "$T_DIR/gai.warm"; then
	echo "getaddrinfo does not reach the local dnsmasq:" >&2
	cat "$T_DIR/gai.warm" >&2
	exit 1
fi

DEADLINE=$(($(date +%s) + CAP))
# run MODE ARGS...: one round of one mode, appended to $T_DIR/MODE.out.
run() {
	local mode=$1 left
	shift
	left=$((DEADLINE - $(date +%s)))
	[ "$left" -gt 0 ] || return 0
	# shellcheck disable=SC2086
	timeout $((left + 5)) "$BENCH" "$mode" -n "$COUNT" -T "$left" "$@" \
		$NAMES >>"$T_DIR/$mode.out"
}
# run_as NAME MODE ARGS...: like run, into $T_DIR/NAME.out.
run_as() {
	local name=$1 mode=$2 left
	shift 2
	left=$((DEADLINE - $(date +%s)))
	[ "$left" -gt 0 ] || return 0
	# shellcheck disable=SC2086
	timeout $((left + 5)) "$BENCH" "$mode" -n "$COUNT" -T "$left" "$@" \
		$NAMES >>"$T_DIR/$name.out"
}
for r in $(seq 1 "$ROUNDS"); do
	run conn -a "$LISTEN_a"
	run_as uconn conn -a "$SOCK_a"
	run pipe -a "$LISTEN_a" -D "$DEPTH"
	run_as upipe pipe -a "$SOCK_a" -D "$DEPTH"
	run gai
done

# median MODE FIELD: the median of FIELD over the rounds of MODE.
median() {
	sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$T_DIR/$1.out" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print 0; exit }
			if (NR % 2) print v[(NR + 1) / 2];
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# total MODE FIELD: FIELD summed over the rounds of MODE.
total() {
	sed -n "s/.*\(^\| \)$2=\([0-9]*\).*/\2/p" "$T_DIR/$1.out" |
		awk '{ s += $1 } END { print s + 0 }'
}

ref_rate=$(median pipe per_s)
ref_p50=$(median pipe p50_us)
ref_p99=$(median pipe p99_us)
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b;
		else printf "-" }'
}

echo "codns bench_local: cache hits, IPv4, $(echo $NAMES | wc -w) names," \
	"$(grep -c . "$T_DIR/pipe.out") rounds of up to $COUNT lookups," \
	"medians over rounds"
echo "(x N = ratio to codnsd pipelined; $(nproc) CPUs, $(uname -r))"
printf "%-34s %10s %7s %9s %7s %9s %7s %8s %6s\n" "mode" "lookups/s" "x" \
	"p50 us" "x" "p99 us" "x" "lookups" "fails"
row() {
	local mode=$1 label=$2 rate p50 p99
	rate=$(median "$mode" per_s)
	p50=$(median "$mode" p50_us)
	p99=$(median "$mode" p99_us)
	printf "%-34s %10.0f %7s %9.1f %7s %9.1f %7s %8s %6s\n" "$label" \
		"$rate" "$(ratio "$rate" "$ref_rate")" \
		"$p50" "$(ratio "$p50" "$ref_p50")" \
		"$p99" "$(ratio "$p99" "$ref_p99")" \
		"$(total "$mode" n)" "$(total "$mode" fails)"
}
row conn "codnsd TCP, new connection each"
row uconn "codnsd UNIX, new connection each"
row pipe "codnsd TCP, pipelined depth $DEPTH"
row upipe "codnsd UNIX, pipelined depth $DEPTH"
row gai "glibc getaddrinfo -> dnsmasq"
# One lookup on a new connection is what the NSS module does per call.
echo "per lookup on a new connection (what nss_codns pays):" \
	"TCP p50 $(median conn p50_us) us, UNIX p50 $(median uconn p50_us) us," \
	"UNIX/TCP = $(ratio "$(median uconn p50_us)" "$(median conn p50_us)");" \
	"rate UNIX/TCP = $(ratio "$(median uconn per_s)" "$(median conn per_s)")"
nc=$(($(total conn notcache) + $(total pipe notcache) + $(total uconn notcache) +
	$(total upipe notcache)))
echo "codnsd answers not from the cache: $nc"
