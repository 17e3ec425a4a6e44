#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_hung.sh: what a hung codnsd (SIGSTOP) costs every new
# process that resolves a name, with and without nscd-socket.
#
# A benchmark, not a test: it prints figures and asserts nothing.
# usage: scripts/bench_hung.sh [BUILDDIR]   (default: the current directory)
# Environment: BENCH_RUNS processes per row (default 3); BENCH_MODES
# (default "module nscd").
#
# Inside new mount and network namespaces (unshare -mn), with /run on a
# tmpfs and bind-mounted nsswitch.conf ("hosts: files codns
# [!UNAVAIL=return] dns"), hosts and resolv.conf (glibc's defaults:
# timeout 5 s, 2 attempts, one nameserver), it starts dnsmasq A on
# 127.0.0.1:5300 (codnsd's upstream) and B on 127.0.0.1:53 (the "dns"
# fallback) and codnsd with its default sockets and shared table, then
# stops codnsd with SIGSTOP and times fresh `getent ahosts` processes:
#   at-stop   started right after the SIGSTOP (the heartbeat still fresh),
#             a name codnsd never saw;
#   stale     started 4 s later (the heartbeat stale), an unseen name and
#             a name in the table.
# Then the same with nscd-socket /run/nscd/socket (glibc's nscd client
# asks codnsd first, with its own fixed 5 s waits).
set -u
top=${1:-$(pwd)}
top=$(cd "$top" && pwd)
runs=${BENCH_RUNS:-3}
codnsd=$top/codnsd/codnsd
dnsmasq=${DNSMASQ:-/usr/sbin/dnsmasq}

if [ -z "${CODNS_IN_NS:-}" ]; then
	CODNS_IN_NS=1 exec unshare -mn "$BASH" "$0" "$top"
fi
tmp=$(mktemp -d /tmp/bench-hung.XXXXXX)
pids=
cleanup() {
	local p
	for p in $pids; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip link set lo up
ip addr add 192.0.2.200/32 dev lo
mount -t tmpfs -o mode=755 tmpfs "$(readlink -f /var/run)" || exit 1
printf 'hosts: files codns [!UNAVAIL=return] dns\n' >"$tmp/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$tmp/hosts"
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.conf"
for f in nsswitch.conf hosts resolv.conf; do
	mount --bind "$tmp/$f" "/etc/$f" || exit 1
done
mkdir -p /run/nscd
export LD_LIBRARY_PATH="$top/.libs"
unset CODNS_LOOKUP_SOCKET CODNS_LOOKUP_ADDRESS CODNS_SHM_PATH CODNS_TIMEOUT_MS

for port in 5300 53; do
	"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=$port \
	    --listen-address=127.0.0.1 --bind-interfaces --user=root \
	    --pid-file= --local=/codns.test/ --address=/codns.test/192.0.2.9 \
	    --local-ttl=300 \
	    >"$tmp/dnsmasq$port.log" 2>&1 &
	pids="$pids $!"
done
sleep 0.5

# seconds NAME: the wall time of one fresh getent process.
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	getent ahosts "$1" >/dev/null
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}

row() {
	local label=$1 name=$2 i all=
	for i in $(seq 1 "$runs"); do
		all="$all $(seconds "$name$i.codns.test")"
	done
	printf '%-28s %s\n' "$label" "$all"
}

one_mode() {
	local mode=$1 extra=$2 pid
	printf 'listen none\nupstream 127.0.0.1:5300\npeers-file %s/none\n%s\n' \
	    "$tmp" "$extra" >"$tmp/codnsd.conf"
	"$codnsd" -f -c "$tmp/codnsd.conf" >"$tmp/codnsd-$mode.log" 2>&1 &
	sleep 0.1
	pid=$!
	pids="$pids $pid"
	for _ in $(seq 1 100); do
		grep -q ' ready on ' "$tmp/codnsd-$mode.log" && break
		sleep 0.05
	done
	for i in $(seq 1 "$runs"); do
		getent ahosts "cached$i.codns.test" >/dev/null
	done
	sleep 1
	echo "--- $mode: seconds per new process (one per run)"
	kill -STOP "$pid"
	row "at-stop, unseen name" "atstop-$mode-"
	sleep 4
	row "stale, unseen name" "stale-$mode-"
	row "stale, name in the table" "cached"
	kill -CONT "$pid"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	[ -n "${BENCH_VERBOSE:-}" ] && cat "$tmp/codnsd-$mode.log"
}

for mode in ${BENCH_MODES:-module nscd}; do
	case $mode in
	module) one_mode module "" ;;
	nscd) one_mode nscd "nscd-socket /run/nscd/socket" ;;
	esac
done
