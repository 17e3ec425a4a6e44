#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_stub.sh: dnsperf against codnsd's DNS stub listener,
# unbound and a caching dnsmasq, all on loopback and all answering from
# their caches (one warm-up pass first), in one run. Prints queries per
# second and latency percentiles side by side, with ratios to unbound.
# A benchmark, not a test: it asserts nothing.
#
# Usage: scripts/bench_stub.sh [SECONDS] [NAMES] [CLIENTS]
# (run from the top of the tree after scripts/build.sh; needs dnsperf,
# unbound, dnsmasq). Each server gets one thread/process; on a shared
# machine the figures move with everybody else's load, so say so.
set -u
secs=${1:-10}
nnames=${2:-1000}
clients=${3:-4}
. "$(dirname "$0")/bench_lib.sh"
bench_begin stub

bench_need dnsperf unbound dnsmasq
ZP=$(port); CP=$(port); UP=$(port); MP=$(port); LP=$(port)

# run_dnsmasq NAME PORT LINE...: a dnsmasq on 127.0.0.1:PORT that reads
# neither resolv.conf nor the hosts file, configured by $dir/NAME.main
# (the LINEs).
run_dnsmasq() {
	{
		printf '%s\n' no-resolv no-hosts "port=$2" \
			listen-address=127.0.0.1 bind-interfaces
		printf '%s\n' "${@:3}"
	} >"$dir/$1.main"
	/usr/sbin/dnsmasq -k -C "$dir/$1.main" --pid-file= &
	pids="$pids $!"
}

# The zone: NAMES host names, served by a dnsmasq that every cache asks.
for i in $(seq "$nnames"); do
	echo "host-record=h$i.bench.example,10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
	echo "h$i.bench.example A" >>"$dir/queries"
done >"$dir/zone.conf"
run_dnsmasq zone "$ZP" local-ttl=3600 local=/bench.example/ \
	"conf-file=$dir/zone.conf"

cat >"$dir/codnsd.conf" <<EOF
listen 127.0.0.1:$LP
dns-listen 127.0.0.1:$CP
upstream 127.0.0.1:$ZP
peers-file $dir/none
control-socket $dir/ctl.sock
cache-size $((nnames * 2))
EOF
"$CODNSD" -f -c "$dir/codnsd.conf" 2>"$dir/codnsd.log" &
pids="$pids $!"

unbound_forwarder "$UP" bench.example "$ZP" \
	'domain-insecure: "bench.example"' >"$dir/unbound.conf"
unbound -d -c "$dir/unbound.conf" &
pids="$pids $!"

run_dnsmasq cache "$MP" "cache-size=$((nnames * 2))" "server=127.0.0.1#$ZP"
sleep 1

# run NAME PORT: warm the cache, then measure; "qps p50 p90 p99" (ms).
run() {
	dnsperf -s 127.0.0.1 -p "$2" -d "$dir/queries" -n 1 -c 1 >/dev/null 2>&1
	dnsperf -s 127.0.0.1 -p "$2" -d "$dir/queries" -l "$secs" \
		-c "$clients" -q 200 -v 2>/dev/null | python3 -c '
import sys
lat = []
qps = "0"
lost = "0"
for line in sys.stdin:
    w = line.split()
    if line.startswith(">") and len(w) >= 5:
        try:
            lat.append(float(w[-1]) * 1000)
        except ValueError:
            pass
    elif "Queries per second:" in line:
        qps = w[-1]
    elif "Queries lost:" in line:
        lost = w[2]
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0
print("%s %.3f %.3f %.3f %s" % (qps, pct(0.5), pct(0.9), pct(0.99), lost))
'
}
read -r cq c50 c90 c99 cl <<<"$(run codnsd "$CP")"
read -r uq u50 u90 u99 ul <<<"$(run unbound "$UP")"
read -r mq m50 m90 m99 ml <<<"$(run dnsmasq "$MP")"

echo "bench_stub: ${secs}s per server, $nnames names, $clients dnsperf clients, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %12s %10s %10s %10s %8s %12s\n' server qps p50_ms p90_ms p99_ms lost qps/unbound
for s in codnsd unbound dnsmasq; do
	case $s in
	codnsd) set -- "$cq" "$c50" "$c90" "$c99" "$cl" ;;
	unbound) set -- "$uq" "$u50" "$u90" "$u99" "$ul" ;;
	dnsmasq) set -- "$mq" "$m50" "$m90" "$m99" "$ml" ;;
	esac
	printf '%-10s %12s %10s %10s %10s %8s %12s\n' $s "$1" "$2" "$3" "$4" "$5" \
		"$(python3 -c "print('%.2f' % ($1 / $uq if $uq else 0))")"
done
