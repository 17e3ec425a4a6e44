#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_restart.sh: what a restart, a replacement, a crash and a
# reload cost the clients of codnsd, unbound and dnsmasq, in one run.
#
# A benchmark, not a test: it prints figures and asserts nothing.
# usage: scripts/bench_restart.sh [BUILDDIR]   (default: ./build)
# Environment: BENCH_RATES (default "2000 20000" queries/s; empty: only
# the large-cache run), BENCH_SECONDS
# (length of each run, default 6; the event comes at 2.5 s), BENCH_NAMES
# (default 1000 warm names), BENCH_BIG (entries of the large-cache run,
# default 1000000; 0 skips it), BENCH_ONLY (a list of servers).
#
# Everything runs in new mount and network namespaces (unshare -mn): a
# private loopback, /run on a tmpfs, bind-mounted resolv.conf and
# nsswitch.conf. The node's nameserver is a dnsmasq on 127.0.0.1:53
# serving BENCH_NAMES names (TTL 300 s) and logging its queries, so that
# every cache miss of the resolver under test is counted there. Under
# test, on port 53 of their own address:
#   codnsd    127.0.0.2, its DNS stub; its sockets held by a stand-in for
#             systemd's socket activation (tests/integration/sd_launch.py)
#   codnsd-plain  the same started without socket activation
#   unbound   127.0.0.3 (so-reuseport, so-rcvbuf 4m as codnsd's stub,
#             forwarding to the nameserver)
#   dnsmasq   127.0.0.4 (forwarding to the nameserver)
# For each server, event and rate, dnsperf sends BENCH_NAMES names at a
# fixed rate for BENCH_SECONDS s and the event comes 2.5 s in:
#   restart   SIGTERM, wait for the exit, start again (codnsd: the
#             sockets stay with "systemd", as with systemctl restart)
#   replace   codnsd -R; unbound: a second unbound on the same port
#             (SO_REUSEPORT), then SIGTERM to the first; dnsmasq: none
#   kill9     SIGKILL, start again 100 ms later
#   reload    SIGHUP
#   none      no event: what the machine loses at that rate anyway
# Columns: lost (dnsperf's lost queries, no answer in 2 s) and servfail;
# gap (the longest time in which under a tenth of the rate was answered,
# from dnsperf -S 0.01, to 10 ms);
# hit% before (the second before the event) and after (the first second
# after the server answers again), from the nameserver's query log:
# 100 * (1 - misses / queries sent in that second); and the NSS path: a
# getaddrinfo() loop (1000 calls/s) through the server during the run
# (codnsd: hosts: codns [!UNAVAIL=return] dns, resolv.conf naming the
# node's nameserver; the others: hosts: dns, resolv.conf naming them),
# its failures and p99 latency.
# The large-cache run fills codnsd's cache with BENCH_BIG entries and
# prints the time to write and read its cache file (restart) and to hand
# it over (codnsd -R), from codnsd's own log lines.
set -u

top=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
codnsd=$top/codnsd/codnsd
module_dir=$top/.libs
rates=${BENCH_RATES-2000 20000}
secs=${BENCH_SECONDS:-6}
nnames=${BENCH_NAMES:-1000}
big=${BENCH_BIG:-1000000}
only=${BENCH_ONLY:-codnsd codnsd-plain unbound dnsmasq}

if [ -z "${CODNS_BENCH_IN_NS:-}" ]; then
	for p in "$codnsd" "$module_dir/libnss_codns.so.2" /usr/sbin/dnsmasq \
		/usr/sbin/unbound; do
		[ -e "$p" ] || { echo "bench_restart: $p missing" >&2; exit 1; }
	done
	command -v dnsperf >/dev/null ||
		{ echo "bench_restart: dnsperf missing" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "bench_restart: needs root" >&2; exit 1; }
	CODNS_BENCH_IN_NS=1 exec unshare -mn "$BASH" "$0" "$top"
fi

tmp=$(mktemp -d /tmp/bench-restart.XXXXXX)
pids=
cleanup() {
	local p
	for p in $pids $(cat "$tmp"/*.pid 2>/dev/null); do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.3
	for p in $pids $(cat "$tmp"/*.pid 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip link set lo up
mount -t tmpfs tmpfs /run
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.conf"
printf 'hosts: dns\n' >"$tmp/nsswitch.conf"
for f in nsswitch.conf resolv.conf; do
	mount --bind "$tmp/$f" "/etc/$f"
done
export LD_LIBRARY_PATH=$module_dir

# --- helpers ----------------------------------------------------------------
# answers ADDR: the server at ADDR:53 answers (at most 10 s).
answers() {
	local i
	for i in $(seq 100); do
		dig +short +tries=1 +time=1 @"$1" n0.bench.test A 2>/dev/null |
			grep -q . && return 0
		sleep 0.1
	done
	return 1
}
misses() { grep -c 'query\[A\] n' "$tmp/ns.log"; }
ms() { date +%s%3N; }

# The node's nameserver.
for i in $(seq 0 $((nnames - 1))); do
	echo "host-record=n$i.bench.test,192.0.2.$((i % 250 + 1))"
	echo "n$i.bench.test A" >>"$tmp/names"
done >"$tmp/zone.conf"
/usr/sbin/dnsmasq --no-daemon --no-resolv --no-hosts --port=53 \
	--listen-address=127.0.0.1 --bind-interfaces --user=root --pid-file= \
	--local=/bench.test/ --local-ttl=300 --log-queries \
	--log-facility="$tmp/ns.log" --conf-file="$tmp/zone.conf" \
	--address=/big.test/192.0.2.250 >/dev/null 2>&1 &
pids="$pids $!"
answers 127.0.0.1 || { echo "bench_restart: no nameserver" >&2; exit 1; }

# The getaddrinfo loop: "calls N fail N (kinds) p99 MS max MS".
cat >"$tmp/gai.py" <<'PY'
import socket, sys, time
names = [l.split()[0] for l in open(sys.argv[1])]
end = time.monotonic() + float(sys.argv[2])
lat, fails, i = [], {}, 0
nxt = time.monotonic()
while time.monotonic() < end:
    t = time.monotonic()
    try:
        socket.getaddrinfo(names[i % len(names)], None, socket.AF_INET,
                           socket.SOCK_STREAM)
    except socket.gaierror as e:
        k = {socket.EAI_AGAIN: "EAI_AGAIN", socket.EAI_NONAME: "EAI_NONAME",
             socket.EAI_FAIL: "EAI_FAIL"}.get(e.errno, str(e.errno))
        fails[k] = fails.get(k, 0) + 1
    lat.append(time.monotonic() - t)
    i += 1
    nxt += 0.001
    time.sleep(max(0.0, nxt - time.monotonic()))
lat.sort()
p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
kinds = ",".join("%s:%d" % kv for kv in sorted(fails.items())) or "-"
print("calls %d fail %d %s p99 %.2f max %.1f" %
      (len(lat), sum(fails.values()), kinds, p99, lat[-1] * 1000 if lat else 0))
PY
# The gap meter: reads dnsperf's output with -S 0.01 (answers per second
# in each 10 ms), prints the summary, the longest run of 10 ms intervals
# with under a tenth of the rate answered, and the SERVFAIL count.
cat >"$tmp/gap.py" <<'PY'
import re, sys
rate = float(sys.argv[1])
run = best = 0
sf = 0
for line in sys.stdin:
    m = re.match(r"^[0-9.]+: ([0-9.]+)$", line.strip())
    if m:
        run = run + 1 if float(m.group(1)) < rate / 10 else 0
        best = max(best, run)
    elif "Queries" in line:
        sys.stdout.write(line)
    elif "Response codes" in line:
        m = re.search(r"SERVFAIL ([0-9]+)", line)
        sf = int(m.group(1)) if m else 0
print("gap %d servfail %d" % (best * 10, sf))
PY

# --- the servers -------------------------------------------------------------
cat >"$tmp/codnsd.conf" <<EOF
dns-listen 127.0.0.2:53
upstream 127.0.0.1:53
peers-file $tmp/no-peers
EOF
cat >"$tmp/codnsd-plain.conf" <<EOF
dns-listen 127.0.0.5:53
upstream 127.0.0.1:53
peers-file $tmp/no-peers
listen 127.0.0.1:7054
lookup-socket /run/codnsd-plain/lookup.sock
control-socket /run/codnsd-plain/control.sock
EOF
unbound_conf() {
	cat <<EOF
server:
	interface: 127.0.0.3
	port: 53
	so-reuseport: yes
	num-threads: 1
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	use-syslog: no
	logfile: "$tmp/unbound.log"
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	qname-minimisation: no
	# The same UDP buffer as codnsd's DNS stub (4 MB).
	so-rcvbuf: 4m
	# test. is one of unbound's default local zones (RFC 6761).
	local-zone: "test." nodefault
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@53
EOF
}
unbound_conf >"$tmp/unbound.conf"

# start SERVER: start it (fresh); its pid in $tmp/SERVER.pid.
start() {
	case $1 in
	codnsd)
		mkdir -p "$tmp/sd" /run/codnsd
		rm -f "$tmp/sd/"*
		python3 "$src/tests/integration/sd_launch.py" "$tmp/sd" \
			udp:127.0.0.2:53 tcp:127.0.0.2:53 \
			unix:/run/codnsd/lookup.sock \
			unix:/run/codnsd/control.sock -- \
			"$codnsd" -f -c "$tmp/codnsd.conf" \
			>"$tmp/sd.out" 2>>"$tmp/codnsd.log" &
		echo $! >"$tmp/sdlaunch.pid"
		for _ in $(seq 100); do [ -f "$tmp/sd/pid" ] && break; sleep 0.05; done
		cp "$tmp/sd/pid" "$tmp/codnsd.pid"
		answers 127.0.0.2 ;;
	codnsd-plain)
		"$codnsd" -f -c "$tmp/codnsd-plain.conf" \
			2>>"$tmp/codnsd-plain.log" &
		echo $! >"$tmp/codnsd-plain.pid"
		answers 127.0.0.5 ;;
	unbound)
		/usr/sbin/unbound -d -c "$tmp/unbound.conf" \
			>>"$tmp/unbound.out" 2>&1 &
		echo $! >"$tmp/unbound.pid"
		answers 127.0.0.3 ;;
	dnsmasq)
		/usr/sbin/dnsmasq --no-daemon --no-resolv --no-hosts --port=53 \
			--listen-address=127.0.0.4 --bind-interfaces --user=root \
			--pid-file= --server=127.0.0.1#53 --cache-size=10000 \
			>>"$tmp/dnsmasq.out" 2>&1 &
		echo $! >"$tmp/dnsmasq.pid"
		answers 127.0.0.4 ;;
	esac
}
addr_of() {
	case $1 in codnsd) echo 127.0.0.2 ;; codnsd-plain) echo 127.0.0.5 ;;
	unbound) echo 127.0.0.3 ;; dnsmasq) echo 127.0.0.4 ;; esac
}
# waitgone PID: until PID has exited (10 s).
waitgone() {
	for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	return 1
}
stop() {
	local p
	p=$(cat "$tmp/$1.pid" 2>/dev/null)
	[ "$1" = codnsd ] && touch "$tmp/sd/quit"
	[ -n "$p" ] && kill -TERM "$p" 2>/dev/null && waitgone "$p"
	if [ "$1" = codnsd ]; then
		waitgone "$(cat "$tmp/sdlaunch.pid")"
		rm -f /run/codnsd/*
	fi
	rm -f "$tmp/$1.pid" /run/codnsd-plain/cache.dump
}

# event SERVER KIND: one event; 1 when the server has no such event.
event() {
	local s=$1 p old
	p=$(cat "$tmp/$s.pid")
	case $s:$2 in
	codnsd:restart | codnsd:kill9)
		old=$(grep -c ^exit "$tmp/sd.out")
		if [ "$2" = kill9 ]; then kill -KILL "$p"; else kill -TERM "$p"; fi
		for _ in $(seq 200); do
			[ "$(grep -c ^exit "$tmp/sd.out")" -gt "$old" ] && break
			sleep 0.01
		done
		[ "$2" = kill9 ] && sleep 0.1
		touch "$tmp/sd/go"
		for _ in $(seq 200); do
			[ "$(cat "$tmp/sd/pid")" != "$p" ] && break
			sleep 0.01
		done
		cp "$tmp/sd/pid" "$tmp/codnsd.pid" ;;
	codnsd*:replace)
		"$codnsd" -f -R -c "$tmp/$s.conf" 2>>"$tmp/$s.log" &
		echo $! >"$tmp/$s.pid"
		waitgone "$p" ;;
	*:restart | *:kill9)
		if [ "$2" = kill9 ]; then kill -KILL "$p"; else kill -TERM "$p"; fi
		waitgone "$p"
		wait "$p" 2>/dev/null # reaped here, quietly
		[ "$2" = kill9 ] && sleep 0.1
		start "$s" >/dev/null ;;
	unbound:replace)
		/usr/sbin/unbound -d -c "$tmp/unbound.conf" \
			>>"$tmp/unbound.out" 2>&1 &
		echo $! >"$tmp/unbound.pid"
		for _ in $(seq 200); do
			[ "$(grep -c "start of service" "$tmp/unbound.log")" -ge \
				"$(($(grep -c "start of service" \
				"$tmp/unbound.log.before") + 1))" ] && break
			sleep 0.02
		done
		kill -TERM "$p"
		waitgone "$p" ;;
	*:reload) kill -HUP "$p" ;;
	*:none) ;;
	*) return 1 ;;
	esac
	return 0
}

# run SERVER KIND RATE: one row of the table.
run() {
	local s=$1 kind=$2 rate=$3 a perf gai m0 m1 m2 m3 before after
	a=$(addr_of "$s")
	case $s:$kind in dnsmasq:replace) printf '%-13s %-8s %6s %s\n' \
		"$s" "$kind" "$rate" "(no such event)"; return ;; esac
	if ! start "$s"; then
		echo "$s did not start" >&2
		tail -n 5 "$tmp/$s".* >&2
		stop "$s"
		return
	fi
	: >"$tmp/unbound.log"
	# The NSS path of this server.
	if [ "${s%-plain}" = codnsd ]; then
		printf 'hosts: codns [!UNAVAIL=return] dns\n' >"$tmp/nsswitch.conf"
		printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.conf"
		if [ "$s" = codnsd ]; then
			export CODNS_LOOKUP_SOCKET=/run/codnsd/lookup.sock
		else
			export CODNS_LOOKUP_SOCKET=/run/codnsd-plain/lookup.sock
		fi
	else
		printf 'hosts: dns\n' >"$tmp/nsswitch.conf"
		printf 'nameserver %s\n' "$a" >"$tmp/resolv.conf"
	fi
	# Warm: every name once.
	dnsperf -s "$a" -p 53 -d "$tmp/names" -n 1 -Q 5000 >/dev/null 2>&1
	python3 "$tmp/gai.py" "$tmp/names" "$secs" >"$tmp/gai.out" 2>&1 &
	gai=$!
	dnsperf -s "$a" -p 53 -d "$tmp/names" -Q "$rate" -S 0.01 \
		-l "$secs" -t 2 -q 10000 -c 4 2>/dev/null | tee "$tmp/perf.raw" |
		python3 "$tmp/gap.py" "$rate" >"$tmp/perf.out" &
	perf=$!
	sleep 1.5
	m0=$(misses)
	sleep 1
	m1=$(misses)
	cp "$tmp/unbound.log" "$tmp/unbound.log.before"
	event "$s" "$kind"
	answers "$a" >/dev/null
	m2=$(misses)
	sleep 1
	m3=$(misses)
	wait "$perf"
	wait "$gai"
	before=$(awk -v m="$((m1 - m0))" -v r="$rate" \
		'BEGIN { x = 100 * (1 - m / r); printf "%.1f", x < 0 ? 0 : x }')
	after=$(awk -v m="$((m3 - m2))" -v r="$rate" \
		'BEGIN { x = 100 * (1 - m / r); printf "%.1f", x < 0 ? 0 : x }')
	printf '%-13s %-8s %6s %6s %6s %8s %7s %7s  %s\n' "$s" "$kind" "$rate" \
		"$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' "$tmp/perf.out")" \
		"$(sed -n 's/.*servfail \([0-9]*\)/\1/p' "$tmp/perf.out")" \
		"$(sed -n 's/^gap \([0-9.]*\).*/\1/p' "$tmp/perf.out")" \
		"$before" "$after" "$(cat "$tmp/gai.out")"
	stop "$s"
}

echo "# bench_restart $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
	"$nnames names, ${secs} s per run, event at 2.5 s"
printf '%-13s %-8s %6s %6s %6s %8s %7s %7s  %s\n' server event q/s lost \
	srvfl gap_ms hit%bef hit%aft "NSS: getaddrinfo loop during the run"
for rate in $rates; do
	for s in $only; do
		for kind in ${BENCH_KINDS:-none restart replace kill9 reload}; do
			case $s:$kind in codnsd-plain:replace | codnsd-plain:reload | \
				codnsd-plain:none)
				continue ;; esac
			run "$s" "$kind" "$rate"
		done
	done
done

# --- the large cache ---------------------------------------------------------
[ "$big" -gt 0 ] || exit 0
cat >"$tmp/big.conf" <<EOF
dns-listen 127.0.0.6:53
upstream 127.0.0.1:53
peers-file $tmp/no-peers
listen 127.0.0.1:7055
cache-size $big
lookup-socket /run/big/lookup.sock
control-socket /run/big/control.sock
EOF
awk -v n="$big" 'BEGIN { for (i = 0; i < n; i++) printf "b%d.big.test A\n", i }' \
	>"$tmp/bignames"
# ctl_up: the big codnsd answers on its control socket (at most 30 s).
ctl_up() {
	for _ in $(seq 300); do
		"$top/codnsctl/codnsctl" -s /run/big/control.sock status \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
"$codnsd" -f -c "$tmp/big.conf" 2>"$tmp/big.log" &
echo $! >"$tmp/big.pid"
ctl_up
# The nameserver's log would slow it down for a million misses.
echo "# large cache: filling $big entries"
dnsperf -s 127.0.0.6 -p 53 -d "$tmp/bignames" -n 1 -q 500 -c 4 \
	>"$tmp/bigfill.out" 2>&1
"$top/codnsctl/codnsctl" -s /run/big/control.sock status | grep '^cache'
p=$(cat "$tmp/big.pid")
t0=$(ms)
kill -TERM "$p"
waitgone "$p"
echo "restart: the stop took $(($(ms) - t0)) ms"
t0=$(ms)
"$codnsd" -f -c "$tmp/big.conf" 2>>"$tmp/big.log" &
echo $! >"$tmp/big.pid"
ctl_up
echo "restart: the start took $(($(ms) - t0)) ms to answer on its control socket"
grep "cache: .* entries" "$tmp/big.log"
p=$(cat "$tmp/big.pid")
: >"$tmp/big.log"
t0=$(ms)
"$codnsd" -f -R -c "$tmp/big.conf" 2>>"$tmp/big.log" &
echo $! >"$tmp/big.pid"
waitgone "$p"
echo "replace (-R): the old codnsd gone $(($(ms) - t0)) ms after -R started"
grep "cache: .* entries" "$tmp/big.log"
"$top/codnsctl/codnsctl" -s /run/big/control.sock status | grep '^cache'
