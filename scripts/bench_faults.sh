#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_faults.sh: the CoDNS evaluation on this machine: lookups
# through glibc while the local nameserver fails, glibc's dns module alone
# against codns without and with peers, side by side, with pictures.
# lib.sh is sourced at run time and sets DNSMASQ_PID_* and CODNSD_PID_*:
# shellcheck disable=SC1091,SC2154
#
# A benchmark, not a test: it measures and prints, it never judges.
#
#   bash scripts/bench_faults.sh [BUILDDIR]     (as root; default ./build)
#
# Everything runs in new network and mount namespaces (unshare -mn): the
# only interface is a private loopback, so no query can leave the machine,
# and /etc/nsswitch.conf, /etc/resolv.conf and /etc/hosts are bind-mounted
# copies. Four nodes on 127.0.0.1-4, each a codnsd with its own dnsmasq
# (on port 5300) behind a small UDP proxy on port 53. Node a (127.0.0.1)
# is measured; its proxy drops FAULT_DROP % of the queries, the others
# drop none (so every path has the same hop).
#
# An open-loop client starts one getaddrinfo(AF_INET) of a fresh name
# every 1/FAULT_RATE s, each in its own thread, and times it. The same
# client, names and failure schedule run three times:
#   dns            hosts: dns, resolv.conf "nameserver 127.0.0.1" and
#                  glibc's defaults (timeout 5 s, 2 attempts): the baseline
#   codns          hosts: codns, node a without a peers file
#   codns+peers    hosts: codns, node a with the 4-node peers file
# The schedule (bench_faults.py schedule) has the paper's three kinds of
# failure, injected with SIGSTOP/SIGCONT of node a's dnsmasq: periodic 2 s
# stops every 15 s, sporadic 0.3-1 s stops, and one 20 s outage; all
# durations are multiplied by FAULT_SCALE.
#
# "Lookups with a peer query" counts names that reached a peer's
# nameserver (every name is fresh, so a peer that was asked had to resolve
# it); "in healthy stretches" only counts lookups started while the
# nameserver had been running for 5 s or more.
#
# Environment: FAULT_RATE (10 lookups/s, at most 100), FAULT_SCALE (1.0,
# 0.2 to 3: 115 s of load per run at 1.0), FAULT_DROP (1 %), FAULT_SEED
# (4242), FAULT_OUT (directory for the table, data and PNGs; default
# ./bench-faults), FAULT_MAXCONC (2000 lookups in flight at most).
# PNGs need gnuplot (installed with apt-get when missing).
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
export srcdir
BUILDDIR=$(cd "${1:-$srcdir/build}" && pwd) || exit 1
export BUILDDIR
RATE=${FAULT_RATE:-10}
SCALE=${FAULT_SCALE:-1.0}
DROP=${FAULT_DROP:-1}
SEED=${FAULT_SEED:-4242}
OUT=${FAULT_OUT:-$(pwd)/bench-faults}
MAXCONC=${FAULT_MAXCONC:-2000}
awk -v r="$RATE" -v s="$SCALE" 'BEGIN { exit !(r > 0 && r <= 100 &&
	s >= 0.2 && s <= 3) }' || {
	echo "bench_faults.sh: FAULT_RATE must be in (0, 100]," \
		"FAULT_SCALE in [0.2, 3]" >&2
	exit 1
}

if [ -z "${CODNS_FAULTS_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench_faults.sh: run as root" >&2; exit 1; }
	make -C "$BUILDDIR" -s codnsd/codnsd codnsctl/codnsctl libnss_codns.la \
		>/dev/null || exit 1
	if ! command -v gnuplot >/dev/null; then
		echo "bench_faults.sh: installing gnuplot" >&2
		DEBIAN_FRONTEND=noninteractive apt-get \
			-o DPkg::Lock::Timeout=600 install -y -q \
			--no-install-recommends gnuplot-nox >/dev/null 2>&1 ||
			echo "bench_faults.sh: no gnuplot, no pictures" >&2
	fi
	mkdir -p "$OUT" || exit 1
	OUT=$(cd "$OUT" && pwd)
	export OUT
	CODNS_FAULTS_IN_NS=1 exec unshare -mn "$BASH" "$0" "$BUILDDIR"
fi

# lib.sh's trap stops (SIGCONT, then SIGTERM) every process recorded in
# T_PIDS and removes $T_DIR on any exit.
. "$srcdir/tests/integration/lib.sh"
PY=$srcdir/scripts/bench_faults.py
PROXY_PY=$srcdir/scripts/bench_peers.py

ip link set lo up || exit 1
# Refuse to run anywhere but a private loopback: one interface, lo.
if [ "$(ip -o link show | wc -l)" != 1 ]; then
	echo "bench_faults.sh: not alone in a new network namespace" >&2
	exit 1
fi
mount -t tmpfs tmpfs /run || exit 1
printf '127.0.0.1 localhost\n' >"$T_DIR/hosts"
printf 'nameserver 127.0.0.1\n' >"$T_DIR/resolv.conf"
: >"$T_DIR/nsswitch.conf"
for f in nsswitch.conf hosts resolv.conf; do
	mount --bind "$T_DIR/$f" "/etc/$f" || exit 1
done
export LD_LIBRARY_PATH=$BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

ip_of() { case $1 in a) echo 127.0.0.1 ;; b) echo 127.0.0.2 ;;
	c) echo 127.0.0.3 ;; d) echo 127.0.0.4 ;; esac; }
NSPORT=5300
LPORT=7053
PPORT=7054
for n in a b c d; do
	echo "address=/test.example/192.0.2.77" >"$T_DIR/ns$n.zone"
	start_dnsmasq "ns$n" "$(ip_of "$n")" "$NSPORT" || exit 1
	echo "$(ip_of "$n"):$PPORT"
done >"$T_DIR/peers"

# start_proxy NODE DROP: NODE's UDP proxy on :53 in front of its dnsmasq,
# bounded in time; sets PROXY_PID.
start_proxy() {
	local ip i
	ip=$(ip_of "$1")
	python3 "$PROXY_PY" proxy "$ip" 53 "$ip" "$NSPORT" "$2" "$SEED" \
		"$(awk -v s="$SCALE" 'BEGIN { print int(3 * 160 * s + 300) }')" &
	PROXY_PID=$!
	T_PIDS="$T_PIDS $PROXY_PID"
	for i in $(seq 20); do
		dig +time=1 +tries=1 @"$ip" -p 53 "ping$i-$RANDOM.test.example" \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "proxy for $1 did not start" >&2
	return 1
}
write_conf() { # NODE PEERSFILE
	local ip
	ip=$(ip_of "$1")
	eval "LISTEN_$1=$ip:$LPORT"
	cat >"$T_DIR/$1.codnsd.conf" <<EOF
listen $ip:$LPORT
upstream $ip:53
peer-listen $ip:$PPORT
peers-file $2
control-socket $T_DIR/$1.sock
EOF
	# Node a serves this namespace's NSS module on the default lookup
	# socket; the others keep theirs out of the way.
	if printf 'lookup-socket %s\n' "$T_DIR/x.sock" >"$T_DIR/probe.conf" &&
		"$CODNSD" -t -c "$T_DIR/probe.conf" >/dev/null 2>&1; then
		[ "$1" = a ] ||
			echo "lookup-socket $T_DIR/$1.lookup.sock" \
				>>"$T_DIR/$1.codnsd.conf"
	fi
}
for n in b c d; do
	start_proxy "$n" 0 || exit 1
	write_conf "$n" "$T_DIR/peers"
	start_codnsd "$n" || exit 1
done
start_proxy a "$DROP" || exit 1
# Before the lookup socket existed the module spoke TCP; the variable is
# ignored by a module that finds its socket.
export CODNS_LOOKUP_ADDRESS=127.0.0.1:$LPORT

neighbours_a() {
	[ "$(jget a peers "sum(p['state'] == 'neighbour' for p in j['peers'])" \
		2>/dev/null)" = 3 ]
}

LOAD_S=$(python3 "$PY" schedule "$SCALE" "$SEED" "$T_DIR/windows") || exit 1
cp "$T_DIR/windows" "$OUT/windows"

# run_config TAG NSS PEERSFILE: one configuration, measured.
run_config() {
	local tag=$1 dir=$OUT/$1 i
	rm -rf "$dir"
	mkdir -p "$dir"
	printf 'hosts: %s\n' "$2" >"$T_DIR/nsswitch.conf"
	if [ -n "$3" ]; then
		write_conf a "$3"
		start_codnsd a || exit 1
		if [ "$3" = "$T_DIR/peers" ]; then
			for i in $(seq 50); do neighbours_a && break; sleep 0.2; done
			neighbours_a || echo "warning: a has < 3 neighbours" >&2
		fi
	fi
	# Warm up with the nameserver running: 64 lookups, so that the
	# adaptive delay has its history (CoDNS's 32-lookup window).
	python3 "$PY" run 20 3.2 "$tag-warm-" "$DNSMASQ_PID_nsa" \
		/dev/null "$MAXCONC" "$dir/warm.out" || exit 1
	for n in b c d; do : >"$T_DIR/ns$n.log"; done
	echo "$tag: $RATE lookups/s for $LOAD_S s ..." >&2
	python3 "$PY" run "$RATE" "$LOAD_S" "$tag-" "$DNSMASQ_PID_nsa" \
		"$T_DIR/windows" "$MAXCONC" "$dir/lookups.out" || exit 1
	kill -CONT "$DNSMASQ_PID_nsa"
	sleep 0.5 # let the peers' dnsmasq finish their logs
	for n in b c d; do cp "$T_DIR/ns$n.log" "$dir/peerns$n.log"; done
	if [ -n "$3" ]; then
		ctl a --json status >"$dir/status.json"
		ctl a stats >"$dir/stats.txt"
		stop_pid "$CODNSD_PID_a"
		forget "$CODNSD_PID_a"
	fi
}

run_config dns 'dns' ''
run_config codns 'codns' "$T_DIR/no-peers"
run_config codns+peers 'codns' "$T_DIR/peers"

{
	echo "codns bench_faults, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m)," \
		"$(nproc) cores, $(awk '/model name/ { sub(/.*: /, ""); print;
		exit }' /proc/cpuinfo)"
	echo "node a's dnsmasq SIGSTOPped on the schedule below, $DROP % of" \
		"its queries dropped; $RATE fresh-name getaddrinfo() lookups/s," \
		"open loop, for $LOAD_S s per run"
	echo "schedule: $(awk '!/^#/ { n[$3]++; s[$3] += $2 - $1 }
		END { for (k in n) printf "%s %d stops (%.1f s), ", k, n[k], s[k] }' \
		"$T_DIR/windows")"
	echo
	python3 "$PY" table "$OUT" "$T_DIR/windows" dns codns codns+peers
	echo
	echo "initial delay of a at the end: $(python3 -c "import json,sys
j = json.load(open(sys.argv[1]))
print('%s ms (%s)' % (j.get('initial_delay_ms'), j.get('initial_delay_reason')))" \
		"$OUT/codns+peers/status.json" 2>/dev/null)"
} | tee "$OUT/table.txt"
if command -v gnuplot >/dev/null; then
	python3 "$PY" plot "$OUT" "$OUT/faults" "$T_DIR/windows" \
		dns codns codns+peers &&
		gnuplot "$OUT/plot.gp" &&
		echo "pictures: $OUT/faults-timeline.png $OUT/faults-cdf.png"
fi
