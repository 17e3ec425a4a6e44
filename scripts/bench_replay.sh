#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_replay.sh: replay real-looking node traffic (issue 23)
# through codnsd's DNS stub, codnsd's NSS path, unbound (prefetch: yes)
# and a caching dnsmasq, in one run, and compare what each costs.
#
# The names are the 2000 first of the Majestic Million
# (tests/data/majestic_top2000.csv, CC BY 3.0), each with an A record and
# some with AAAA, MX and TXT, TTLs from 5 s to a day; the lookups follow a
# Zipf law by rank, mix types (A, AAAA, MX, TXT, NXDOMAIN) and make a
# quarter of them as a Kubernetes pod does (ndots:5, three search
# domains). An unbound serving that zone from local-data (the "origin",
# with log-queries) stands for the node's nameserver; each server gets a
# fresh cache and a fresh origin, and the same workload at a fixed rate
# (scripts/bench_replay.py). Printed per server: upstream queries per 1000
# lookups, hit ratio, p50/p99 latency per lookup (a pod's lookup is its
# whole search walk), CPU seconds per 100 000 queries (utime + stime of
# the server from /proc/PID/stat); then, like for like (the NSS path
# has no call for MX and TXT, and its queries are its lookups), upstream
# queries per 1000 of the lookups every server made and CPU per lookup.
# The origin's queries per second go to doc/bench-replay.png (gnuplot).
# A benchmark: it asserts nothing.
#
# Usage: scripts/bench_replay.sh [RATE] [SECONDS] [SEED]
# Environment: CODNSD_CONF, lines added to codnsd's configuration (e.g.
# "negative-ttl 1h"); PHASES, the servers to run (default
# "codnsd-stub codnsd-nss unbound dnsmasq").
# (defaults 200 lookups/s, 40 s per server: about 4 minutes in all; run as
# root from the top of the tree after scripts/build.sh: the NSS phase
# bind-mounts nsswitch.conf in a private mount namespace).
set -u
rate=${1:-200}
secs=${2:-40}
seed=${3:-23}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top/build}
CODNSD=${CODNSD:-$build/codnsd/codnsd}
CODNSCTL=${CODNSCTL:-$build/codnsctl/codnsctl}
py=$top/scripts/bench_replay.py
. "$top/scripts/bench_lib.sh"
bench_begin replay

bench_need unbound dnsmasq gnuplot python3 unshare
[ -x "$CODNSD" ] && [ -e "$build/.libs/libnss_codns.so.2" ] ||
	{ echo "bench_replay: build first (scripts/build.sh)" >&2; exit 1; }
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' \
		"/proc/$1/stat"
}
wait_udp() {
	for _ in $(seq 50); do
		dig +time=1 +tries=1 @127.0.0.1 -p "$1" google.com >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	echo "bench_replay: nothing answers on port $1" >&2
	return 1
}

python3 "$py" zone "$dir" "$top/tests/data/majestic_top2000.csv" "$rate" \
	"$secs" "$seed" || exit 1
printf 'nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
	>"$dir/pod.resolv.conf"
printf 'hosts: codns\n' >"$dir/nsswitch.conf"

# origin NAME: a fresh origin on $OP, logging to $dir/origin-NAME.log.
origin() {
	OP=$(port)
	{ unbound_server "$OP"; cat <<EOF
	log-queries: yes
	logfile: "$dir/origin-$1.log"
	include: "$dir/origin.zone.conf"
remote-control:
	control-enable: no
EOF
	} >"$dir/origin-$1.conf"
	unbound -d -c "$dir/origin-$1.conf" 2>>"$dir/origin-$1.err" &
	origin_pid=$!
	pids="$pids $origin_pid"
	wait_udp "$OP" || exit 1
}

codnsd_start() {
	LP=$(port)
	CP=$(port)
	cat >"$dir/codnsd.conf" <<EOF
listen 127.0.0.1:$LP
dns-listen 127.0.0.1:$CP
upstream 127.0.0.1:$OP
resolv-conf $dir/pod.resolv.conf
lookup-socket $dir/lookup.sock
control-socket $dir/ctl.sock
peers-file $dir/none
cache-size 20000
cache-file none
${CODNSD_CONF:-}
EOF
	"$CODNSD" -f -c "$dir/codnsd.conf" 2>"$dir/codnsd-$1.log" &
	server_pid=$!
	pids="$pids $server_pid"
	wait_udp "$CP" || exit 1
	"$CODNSCTL" -c "$dir/codnsd.conf" flush >/dev/null
}

unbound_start() {
	UP=$(port)
	unbound_forwarder "$UP" . "$OP" "prefetch: yes" >"$dir/unbound.conf"
	unbound -d -c "$dir/unbound.conf" &
	server_pid=$!
	pids="$pids $server_pid"
	wait_udp "$UP" || exit 1
}

dnsmasq_start() {
	MP=$(port)
	/usr/sbin/dnsmasq -k --no-resolv --no-hosts --port="$MP" \
		--listen-address=127.0.0.1 --bind-interfaces --cache-size=10000 \
		--server="127.0.0.1#$OP" --pid-file= 2>"$dir/dnsmasq.log" &
	server_pid=$!
	pids="$pids $server_pid"
	wait_udp "$MP" || exit 1
}

stop() {
	kill "$server_pid" "$origin_pid" 2>/dev/null
	wait "$server_pid" "$origin_pid" 2>/dev/null
	pids=
}

# phase NAME START SENDER: a fresh origin and server, the workload
# through SENDER, the server's CPU time and the origin's log.
echo "[" >"$dir/phases.json"
sep=
phase() {
	local name=$1 start=$2 send=$3 c0 c1 t0 misses=null
	origin "$name"
	"$start" "$name"
	# The start-up checks' queries are not part of the run.
	sleep 0.2
	: >"$dir/origin-$name.log"
	c0=$(cpu_s "$server_pid")
	t0=$(date +%s.%N)
	echo "bench_replay: $name" >&2
	"$send" "$dir/result-$name.json"
	c1=$(cpu_s "$server_pid")
	# NSS lookups answered from the shared table never reach codnsd: its
	# misses are the lookups the local nameserver (or a peer) answered.
	if [ "$send" = send_nss ]; then
		misses=$("$CODNSCTL" -c "$dir/codnsd.conf" --json stats |
			python3 -c 'import json,sys; s=json.load(sys.stdin)["by_source"]; print(s["local"] + s["peer"] + s["stale"])')
	fi
	stop
	printf '%s{"name": "%s", "t0": %s, "cpu_s": %s, "misses": %s, "result": "%s", "origin_log": "%s"}\n' \
		"$sep" "$name" "$t0" "$(python3 -c "print($c1 - $c0)")" "$misses" \
		"$dir/result-$name.json" "$dir/origin-$name.log" >>"$dir/phases.json"
	sep=,
}

send_stub() { python3 "$py" dns "$CP" "$dir" "$1"; }
send_unbound() { python3 "$py" dns "$UP" "$dir" "$1"; }
send_dnsmasq() { python3 "$py" dns "$MP" "$dir" "$1"; }
# getaddrinfo() through the built nss_codns, nsswitch.conf bind-mounted in
# a mount namespace of its own (as tests/nss does).
send_nss() {
	unshare -m bash -c '
		mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf || exit 1
		export LD_LIBRARY_PATH=$2 CODNS_LOOKUP_SOCKET=$1/lookup.sock
		exec python3 "$3" nss "$1" "$4"' sh "$dir" "$build/.libs" "$py" "$1"
}

for p in ${PHASES:-codnsd-stub codnsd-nss unbound dnsmasq}; do
	case $p in
	codnsd-stub) phase codnsd-stub codnsd_start send_stub ;;
	codnsd-nss) phase codnsd-nss codnsd_start send_nss ;;
	unbound) phase unbound unbound_start send_unbound ;;
	dnsmasq) phase dnsmasq dnsmasq_start send_dnsmasq ;;
	esac
done
echo "]" >>"$dir/phases.json"

echo "bench_replay: $rate lookups/s for ${secs}s per server, seed $seed," \
	"$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$py" report "$dir" | tee "$dir/report.txt"
mkdir -p "$top/doc"
plot= col=2
for p in ${PHASES:-codnsd-stub codnsd-nss unbound dnsmasq}; do
	[ "$p" = unbound ] && p="unbound (prefetch)"
	plot="$plot${plot:+, }\"$dir/series.dat\" using 1:$col with lines lw 2 title \"$p\""
	col=$((col + 1))
done
gnuplot <<EOF
set terminal png size 900,480
set output "$top/doc/bench-replay.png"
set title "Queries at the nameserver, per second (replay: $rate lookups/s, seed $seed)"
set xlabel "seconds since the start of the replay"
set ylabel "upstream queries per second"
set key top right
set grid
plot $plot
EOF
echo "bench_replay: picture in doc/bench-replay.png"
