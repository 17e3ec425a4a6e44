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
BUILDDIR=$(cd "${1:-.}" && pwd)
runs=${BENCH_RUNS:-3}
ns_name=bench_hung
. "$(dirname "$0")/../tests/nss/ns_lib.sh"

ns_require "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" -- getent
ns_enter "$@"
ns_begin bench-hung
chmod 755 "$tmp"
ns_loopback
mount -t tmpfs -o mode=755 tmpfs "$(readlink -f /var/run)" || exit 1
mkdir -p /run/nscd
ns_etc $'hosts: files codns [!UNAVAIL=return] dns\n' $'127.0.0.1 localhost\n' \
    $'nameserver 127.0.0.1\n'
export LD_LIBRARY_PATH=$module_dir
unset CODNS_LOOKUP_SOCKET CODNS_LOOKUP_ADDRESS CODNS_SHM_PATH CODNS_TIMEOUT_MS
for port in 5300 53; do
	ns_dnsmasq $port dnsmasq$port --local=/codns.test/ \
	    --address=/codns.test/192.0.2.9 --local-ttl=300 || exit 1
done

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
	local mode=$1
	shift
	ns_conf "upstream 127.0.0.1:5300" "$@"
	ns_codnsd || exit 1
	for i in $(seq 1 "$runs"); do
		getent ahosts "cached$i.codns.test" >/dev/null
	done
	sleep 1
	echo "--- $mode: seconds per new process (one per run)"
	kill -STOP "$codnsd_pid"
	row "at-stop, unseen name" "atstop-$mode-"
	sleep 4
	row "stale, unseen name" "stale-$mode-"
	row "stale, name in the table" "cached"
	kill -CONT "$codnsd_pid"
	kill -TERM "$codnsd_pid"
	wait "$codnsd_pid" 2>/dev/null
	[ -n "${BENCH_VERBOSE:-}" ] && cat "$tmp/codnsd.log"
}

for mode in ${BENCH_MODES:-module nscd}; do
	case $mode in
	module) one_mode module ;;
	nscd) one_mode nscd "nscd-socket /run/nscd/socket" ;;
	esac
done
