#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_peers.sh: lookup latency and availability of one codnsd
# node whose local nameserver fails briefly and often, without peers and
# with three cooperating peers, side by side in one run.
# lib.sh is sourced at run time; it sets LISTEN_*, DNSMASQ_PID_* and
# CODNSD_PID_* by eval:
# shellcheck disable=SC1091,SC2154
#
# A benchmark, not a test: it measures and prints, it never judges.
# Run it from a build directory (no root needed):
#
#   cd /tmp/build && /path/to/src/scripts/bench_peers.sh
#
# The failure model follows the CoDNS paper: local nameservers fail often
# but briefly (overload, cron jobs, packet loss), and a resolver waiting on
# its own retry timer turns that into lookups of seconds. Node a's dnsmasq
# is SIGSTOPped for BENCH_STOP_MS every BENCH_PERIOD_MS, and a small UDP
# proxy between codnsd and it drops BENCH_DROP % of the queries (so the
# c-ares retry after upstream-timeout shows); b, c and d get a proxy that
# drops nothing, so that no path has an extra hop the others lack. Both
# configurations see the same schedule (relative to the start of their
# load) and the same drop sequence (same seed).
#
# Four nodes on 127.0.0.51-54, each with its own dnsmasq answering every
# name under test.example, so each lookup uses a fresh name and misses
# every cache. codnsd runs with the defaults a user gets (upstream-timeout
# 2s, lookup-timeout 5s, initial-delay-max 200ms), except
# heartbeat-discovery 200ms so that neighbours settle fast. The load is
# BENCH_RATE fresh-name lookups per second for BENCH_SECONDS, open loop,
# latency measured by the client (wall time from request to answer).
#
# "Lookups with a peer query" counts the names of node a that reached a
# peer's nameserver log (every name is fresh, so a peer asked had to
# resolve it); "peer queries sent / lookup" is the daemon's own
# peer_queries_sent counter over its lookup count.
#
# Environment: BENCH_RATE (20, at most 100), BENCH_SECONDS (40, at most
# 60), BENCH_STOP_MS (1500), BENCH_PERIOD_MS (5000), BENCH_FIRST_MS (1000:
# first stop after the load starts), BENCH_DROP (5 percent; 0: no proxy),
# BUILDDIR (the current directory).

set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
export srcdir
: "${BUILDDIR:=$(pwd)}"
export BUILDDIR
RATE=${BENCH_RATE:-20}
SECS=${BENCH_SECONDS:-40}
STOP_MS=${BENCH_STOP_MS:-1500}
PERIOD_MS=${BENCH_PERIOD_MS:-5000}
FIRST_MS=${BENCH_FIRST_MS:-1000}
DROP=${BENCH_DROP:-5}
[ "$RATE" -gt 100 ] && RATE=100
[ "$SECS" -gt 60 ] && SECS=60
if [ "$STOP_MS" -ge "$PERIOD_MS" ]; then
	echo "bench_peers.sh: BENCH_STOP_MS must be below BENCH_PERIOD_MS" >&2
	exit 1
fi

if [ ! -x "$BUILDDIR/codnsd/codnsd" ] || [ ! -x "$BUILDDIR/codnsctl/codnsctl" ]
then
	make -C "$BUILDDIR" -s codnsd/codnsd codnsctl/codnsctl || exit 1
fi

# lib.sh's trap stops (SIGCONT, then SIGTERM) every process recorded in
# T_PIDS and removes $T_DIR on any exit.
. "$srcdir/tests/integration/lib.sh"
PY=$srcdir/scripts/bench_peers.py

ip_of() { case $1 in a) echo 127.0.0.51 ;; b) echo 127.0.0.52 ;;
	c) echo 127.0.0.53 ;; d) echo 127.0.0.54 ;; esac; }
NSPORT=$(free_port 127.0.0.51)
LPORT=$(free_port 127.0.0.51)
PPORT=$(free_port 127.0.0.51)
XPORT=$(free_port 127.0.0.51)
for n in a b c d; do
	echo "address=/test.example/192.0.2.77" >"$T_DIR/ns$n.zone"
	start_dnsmasq "ns$n" "$(ip_of "$n")" "$NSPORT" || exit 1
	echo "$(ip_of "$n"):$PPORT"
done >"$T_DIR/peers"

write_conf() { # NODE PEERSFILE UPSTREAMPORT
	local ip
	ip=$(ip_of "$1")
	eval "LISTEN_$1=$ip:$LPORT"
	cat >"$T_DIR/$1.codnsd.conf" <<EOF
listen $ip:$LPORT
upstream $ip:$3
peer-listen $ip:$PPORT
peers-file $2
heartbeat-discovery 200ms
control-socket $T_DIR/$1.sock
EOF
}
# start_proxy NODE DROP SECONDS: NODE's UDP proxy on XPORT in front of
# its dnsmasq, bounded in time; sets PROXY_PID.
start_proxy() {
	local ip i
	ip=$(ip_of "$1")
	python3 "$PY" proxy "$ip" "$XPORT" "$ip" "$NSPORT" "$2" 4242 "$3" &
	PROXY_PID=$!
	T_PIDS="$T_PIDS $PROXY_PID"
	for i in $(seq 20); do
		dig +time=1 +tries=1 @"$ip" -p "$XPORT" \
			"ping$i-$RANDOM.test.example" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "proxy for $1 did not start" >&2
	return 1
}

# With a lossy proxy in front of a's nameserver, every node gets one (that
# drops nothing), so that the local path is not the only one with the
# extra hop: otherwise peers would win races on loopback by that alone.
UPPORT=$NSPORT
[ "$DROP" != 0 ] && UPPORT=$XPORT
# The peers b, c and d run through both configurations; in the first one
# a has no peers file, so it neither asks them nor answers heartbeats.
for n in b c d; do
	if [ "$DROP" != 0 ]; then
		start_proxy "$n" 0 $((2 * SECS + 80)) || exit 1
	fi
	write_conf "$n" "$T_DIR/peers" "$UPPORT"
	start_codnsd "$n" || exit 1
done

neighbours_a() {
	[ "$(jget a peers "sum(p['state'] == 'neighbour' for p in j['peers'])")" = 3 ]
}

# run_config TAG PEERSFILE: one configuration of node a, measured.
run_config() {
	local tag=$1 dir=$T_DIR/$1 proxy="" i
	mkdir -p "$dir"
	# A fresh proxy each time: the same seed, the same drop sequence.
	if [ "$DROP" != 0 ]; then
		start_proxy a "$DROP" $((SECS + 40)) || exit 1
		proxy=$PROXY_PID
	fi
	write_conf a "$2" "$UPPORT"
	start_codnsd a || exit 1
	if [ "$2" = "$T_DIR/peers" ]; then
		for i in $(seq 50); do neighbours_a && break; sleep 0.2; done
		neighbours_a || echo "warning: a has not found 3 neighbours" >&2
	fi
	# Warm up with the nameserver running (STOP_MS 0): 40 lookups, so
	# that the adaptive delay has its history (200 ms once 32 were local).
	python3 "$PY" load "$LISTEN_a" 40 1 "$tag-warm" "$DNSMASQ_PID_nsa" 0 \
		"$PERIOD_MS" 0 "$dir/warm.out" || exit 1
	ctl a --json stats >"$dir/stats.before" || exit 1
	echo "$tag-" >"$dir/prefix"
	python3 "$PY" load "$LISTEN_a" "$RATE" "$SECS" "$tag-" \
		"$DNSMASQ_PID_nsa" "$STOP_MS" "$PERIOD_MS" "$FIRST_MS" \
		"$dir/lookups.out" || exit 1
	kill -CONT "$DNSMASQ_PID_nsa"
	sleep 0.5 # let the peers' dnsmasq finish their logs
	ctl a --json stats >"$dir/stats.after" || exit 1
	jget a status "'%s ms (%s)' % (j.get('initial_delay_ms'), \
		j.get('initial_delay_reason'))" >"$dir/delay"
	for n in b c d; do cp "$T_DIR/ns$n.log" "$dir/peerns$n.log"; done
	stop_pid "$CODNSD_PID_a"
	forget "$CODNSD_PID_a"
	if [ -n "$proxy" ]; then
		kill -TERM "$proxy"
		wait "$proxy" 2>/dev/null
		forget "$proxy"
	fi
}

run_config np "$T_DIR/no-peers"
run_config wp "$T_DIR/peers"

echo "codns bench_peers: node a ($(ip_of a)), its dnsmasq SIGSTOPped" \
	"$STOP_MS ms every $PERIOD_MS ms, $DROP % of its queries dropped;"
echo "$RATE fresh-name lookups/s for $SECS s per configuration; latency" \
	"measured by the client; codnsd defaults, heartbeat-discovery 200ms"
python3 "$PY" table "$T_DIR/np" "$T_DIR/wp"
echo "initial delay of a at the end, with peers: $(cat "$T_DIR/wp/delay")"
