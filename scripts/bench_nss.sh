#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_nss.sh: getaddrinfo() latency and rate of a cache hit: codns
# (shared table, socket, nscd protocol), files, dns, nscd.
#
# A benchmark, not a test: it prints figures and asserts nothing.
# usage: scripts/bench_nss.sh [BUILDDIR]   (default: the current directory)
# Environment: BENCH_N calls per run (default 20000).
#
# The records have a TTL of 300 s so that both caches keep them.
# Everything runs inside new mount and network namespaces (unshare -mn) with
# a private loopback, /run on a tmpfs and bind-mounted nsswitch.conf, hosts
# and resolv.conf, so nothing reaches the machine's nameserver or touches
# its /etc. One name, web.codns.test, is resolved N times by gai_bench
# (one thread, AF_UNSPEC, no flags) through:
#   codns-shm   hosts: codns     the module reads codnsd's shared answer
#                                table (/run/codnsd/answers.shm; one
#                                warm-up lookup fills it)
#   codns-sock  hosts: codns     the same with the table turned off in the
#                                module (CODNS_SHM_PATH=""): one loopback
#                                connection per call, codnsd's cache
#   codns-mod   the module's gethostbyname4_r called directly (dlopen), on
#               the shared table: its own share of the codns-shm cost,
#               without glibc's getaddrinfo and nsswitch (which stat
#               nsswitch.conf and resolv.conf on every call; nscd is asked
#               before either, so its row has neither)
#   floor       hosts: floor     tests/nss/nss_floor.c, a module that
#                                answers at once with no work at all:
#                                what glibc's getaddrinfo and nsswitch
#                                cost around any NSS module, the least
#                                an NSS module can cost per call
#   files  hosts: files          an /etc/hosts line
#   dns    hosts: dns            glibc's stub resolver -> dnsmasq on :53
#   nscd   hosts: dns            nscd's hosts cache (shared memory), warm
#   codns-nscd  hosts: files codns [!UNAVAIL=return] dns
#                                codnsd serving glibc's nscd protocol on
#                                /run/nscd/socket (nscd-socket), its
#                                nscd-format table warm; started after
#                                nscd has stopped, never beside it, with
#                                web.codns.test out of the hosts file so
#                                that the zone answers, as for nscd
# nscd is installed with apt-get when missing (before entering the
# namespaces). Needs root and a C compiler (for nss_floor.c). With strace
# installed, a last column gives the system calls per lookup (the
# difference of two traced runs of 1000 and 3000 calls, so start-up does
# not count).
set -u

top=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-20000}
codnsd=$top/codnsd/codnsd
bench=$top/tests/nss/gai_bench
module_dir=$top/.libs
dnsmasq=${DNSMASQ:-/usr/sbin/dnsmasq}

if [ -z "${CODNS_BENCH_IN_NS:-}" ]; then
	if [ ! -x "$bench" ]; then
		make -C "$top" tests/nss/gai_bench >/dev/null || exit 1
	fi
	for f in "$codnsd" "$module_dir/libnss_codns.so.2" "$dnsmasq"; do
		[ -e "$f" ] || { echo "bench_nss: $f missing" >&2; exit 1; }
	done
	if ! command -v nscd >/dev/null && [ ! -x /usr/sbin/nscd ]; then
		echo "bench_nss: installing nscd" >&2
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		    install -y -q --no-install-recommends nscd \
		    >/dev/null 2>&1 || echo "bench_nss: no nscd" >&2
		# The package starts its own nscd on the host: stop it.
		if command -v service >/dev/null; then
			service nscd stop >/dev/null 2>&1 || true
		fi
	fi
	CODNS_BENCH_IN_NS=1 exec unshare -mn "$BASH" "$0" "$top"
fi

tmp=$(mktemp -d /tmp/bench-nss.XXXXXX)
pids=

cleanup() {
	local p
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_tcp() {
	local i
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench_nss: nothing listens on $1:$2" >&2
	return 1
}

# The floor module, next to nothing else in its directory.
mkdir "$tmp/floor"
${CC:-cc} -O2 -shared -fPIC -o "$tmp/floor/libnss_floor.so.2" \
    "$src/tests/nss/nss_floor.c" || echo "bench_nss: no floor module" >&2

ip link set lo up
ip addr add 192.0.2.200/32 dev lo
mount -t tmpfs tmpfs /run
mkdir /run/nscd
printf '127.0.0.1 localhost\n192.0.2.51 web.codns.test\n' >"$tmp/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
    >"$tmp/resolv.conf"
: >"$tmp/nsswitch.conf"
for f in nsswitch.conf hosts resolv.conf; do
	mount --bind "$tmp/$f" "/etc/$f"
done

# The zone: dnsmasq on :53 for the dns module, on :5300 for codnsd.
for port in 53 5300; do
	"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=$port \
	    --listen-address=127.0.0.1 --bind-interfaces --user=root \
	    --pid-file= --log-queries --log-facility=- --local=/codns.test/ \
	    --local-ttl=300 \
	    --host-record=web.codns.test,192.0.2.51 \
	    >"$tmp/dnsmasq-$port.log" 2>&1 &
	pids="$pids $!"
	wait_tcp 127.0.0.1 $port || exit 1
done

# The default run directory (/run/codnsd, on the private tmpfs): the
# module finds the shared table where it looks by default.
# start_codnsd [LINE]: codnsd with the configuration plus LINE; fails
# when it does not answer.
start_codnsd() {
	cat >"$tmp/codnsd.conf" <<EOF
listen 127.0.0.1:7053
upstream 127.0.0.1:5300
peers-file $tmp/no-peers
${1:-}
EOF
	"$codnsd" -f -c "$tmp/codnsd.conf" >>"$tmp/codnsd.log" 2>&1 &
	codnsd_pid=$!
	pids="$pids $codnsd_pid"
	wait_tcp 127.0.0.1 7053
}

# stop PID: stop a process this script started, and wait for its end.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
start_codnsd || exit 1

declare -A p50 p99 rate sys

# run LABEL NSSWITCH-HOSTS-LINE
run() {
	local out
	printf 'hosts: %s\n' "$2" >"$tmp/nsswitch.conf"
	if ! out=$(LD_LIBRARY_PATH=$module_dir:$tmp/floor "$bench" -n "$n" \
	    -w 100 ${3:+-m "$3"} web.codns.test); then
		echo "bench_nss: $1: lookups failed: $out" >&2
	fi
	syscalls "$1" ${3:+-m "$3"}
	p50[$1]=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$out")
	p99[$1]=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "${BENCH_VERBOSE:-}" ] && echo "$1: $out" >&2
	rate[$1]=$(sed -n 's/.*per_s=\([0-9.]*\).*/\1/p' <<<"$out")
}

# syscalls LABEL [-m MODULE]: system calls per lookup, from two traced
# runs whose only difference is 2000 lookups.
syscalls() {
	local label=$1 c1 c3 k
	shift
	command -v strace >/dev/null || return 0
	for k in 1000 3000; do
		LD_LIBRARY_PATH=$module_dir:$tmp/floor strace -f -c \
		    -o "$tmp/strace.$k" "$bench" -n $k -w 0 "$@" \
		    web.codns.test >/dev/null 2>&1
	done
	c1=$(awk '$NF == "total" { print $(NF-2) }' "$tmp/strace.1000")
	c3=$(awk '$NF == "total" { print $(NF-2) }' "$tmp/strace.3000")
	[ -n "$c1" ] && [ -n "$c3" ] &&
	    sys[$label]=$(awk -v a="$c1" -v b="$c3" \
	    'BEGIN { printf "%.2f", (b - a) / 2000 }')
}

# queries PORT: how many queries the dnsmasq on PORT has seen.
queries() {
	grep -c 'query\[' "$tmp/dnsmasq-$1.log"
}

q0=$(queries 5300)
run codns-shm 'codns'
run codns-mod 'codns' "$module_dir/libnss_codns.so.2"
CODNS_SHM_PATH= run codns-sock 'codns'
q1=$(queries 5300)
run floor 'floor'
run files 'files'
run dns 'dns'

nscd=$(command -v nscd || echo /usr/sbin/nscd)
if [ -x "$nscd" ]; then
	cat >"$tmp/nscd.conf" <<EOF
	enable-cache		hosts		yes
	positive-time-to-live	hosts		3600
	negative-time-to-live	hosts		20
	shared			hosts		yes
	persistent		hosts		no
	enable-cache		passwd		no
	enable-cache		group		no
	enable-cache		services	no
	enable-cache		netgroup	no
EOF
	# nscd resolves through the dns module; the client asks nscd first.
	printf 'hosts: dns\n' >"$tmp/nsswitch.conf"
	"$nscd" -F -f "$tmp/nscd.conf" >"$tmp/nscd.log" 2>&1 &
	nscd_pid=$!
	pids="$pids $nscd_pid"
	for _ in $(seq 1 100); do
		[ -S /run/nscd/socket ] && break
		sleep 0.05
	done
	d0=$(queries 53)
	run nscd 'dns'
	d1=$(queries 53)
	# Only one server on glibc's socket: nscd goes before codnsd takes it.
	stop "$nscd_pid"
fi
rm -f /run/nscd/socket

# codns-nscd: codnsd again, now also on glibc's nscd socket. The name
# leaves the hosts file, which codnsd reads before its cache, so that
# codnsd answers from the zone as nscd did.
stop "$codnsd_pid"
printf '127.0.0.1 localhost\n' >"$tmp/hosts"
if start_codnsd 'nscd-socket /run/nscd/socket'; then
	for _ in $(seq 1 100); do
		[ -S /run/nscd/socket ] && break
		sleep 0.05
	done
fi
if [ -S /run/nscd/socket ]; then
	q2=$(queries 5300)
	run codns-nscd 'files codns [!UNAVAIL=return] dns'
	q3=$(queries 5300)
else
	echo "bench_nss: codnsd does not serve /run/nscd/socket" >&2
fi

# Per-call cost: the mean (1e6 / lookups per second) and the median, with
# their ratios to nscd's and to dns's ("-" when that row is missing).
printf '\ngetaddrinfo("web.codns.test", AF_UNSPEC), cache hit, %s calls each, one thread\n' "$n"
printf '%-10s %8s %8s %8s %10s %9s %9s %9s %9s %9s\n' source mean_us \
    p50_us p99_us lookups/s mean/nscd mean/dns p50/nscd p50/dns sys/call
for k in codns-shm codns-mod codns-sock codns-nscd floor files dns \
    nscd; do
	[ -n "${p50[$k]:-}" ] || continue
	awk -v k=$k -v a="${p50[$k]}" -v b="${p99[$k]}" -v c="${rate[$k]}" \
	    -v N="${rate[nscd]:-}" -v D="${rate[dns]:-}" \
	    -v PN="${p50[nscd]:-}" -v PD="${p50[dns]:-}" -v S="${sys[$k]:--}" \
	    'function r(x, y) { return y == "" || y == 0 ? "-" : sprintf("%.2f", x / y) }
	    BEGIN { printf "%-10s %8.2f %8.2f %8.2f %10.0f %9s %9s %9s %9s %9s\n",
	    k, 1e6 / c, a, b, c, r(N, c), r(D, c), r(a, PN), r(a, PD), S }'
done
if [ -n "${p50[floor]:-}" ] && [ -n "${p50[codns-shm]:-}" ]; then
	awk -v s="${p50[codns-shm]}" -v f="${p50[floor]}" 'BEGIN {
	    printf "codns-shm above the NSS floor (p50): %.2f us; the floor" \
	    " is %.0f%% of codns-shm\n", s - f, (f > 0 ? 100 * f / s : 0) }'
fi
echo "queries codnsd sent upstream during its run: $((q1 - q0))" \
    "(0: every lookup was a cache hit)"
if [ -n "${d1:-}" ]; then
	echo "queries nscd sent to dns during its run: $((d1 - d0))"
fi
if [ -n "${q3:-}" ]; then
	echo "queries codnsd (nscd protocol) sent upstream during its run:" \
	    "$((q3 - q2))"
fi
if [ -n "${p50[codns-nscd]:-}" ] && [ -n "${p50[nscd]:-}" ]; then
	awk -v c="${p50[codns-nscd]}" -v n="${p50[nscd]}" \
	    -v rc="${rate[codns-nscd]}" -v rn="${rate[nscd]}" 'BEGIN {
	    printf "codns-nscd / nscd: p50 %s, mean %s\n",
	    (n > 0 ? sprintf("%.2f", c / n) : "-"),
	    (rc > 0 ? sprintf("%.2f", rn / rc) : "-") }'
fi
