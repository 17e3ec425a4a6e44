#!/bin/bash
# tests/nss/test_availability.sh: codns alone answers what glibc's dns module
# alone answers while the nameserver stalls.
#
# In its own mount and network namespaces (as run_real.sh), with the
# default resolv.conf options (timeout 5 s, 2 attempts) and one dnsmasq on
# 127.0.0.1:53, the nameserver is SIGSTOPped for 4 s while lookups of fresh
# names start, first under "hosts: dns", then under "hosts: codns" (codnsd
# without upstream lines, no peers). glibc waits out the stop and answers;
# so must the module and codnsd: their waits follow resolv.conf too.
# Outcomes are counted; nothing here asserts a duration.
set -u

top=${abs_top_builddir:-${BUILDDIR:-$(pwd)}}
module_dir=$top/.libs
codnsd=$top/codnsd/codnsd
dnsmasq=${DNSMASQ:-/usr/sbin/dnsmasq}
stop_s=${CODNS_STOP_S:-4}
nlookups=3

if [ -z "${CODNS_IN_NS:-}" ]; then
	for f in "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2"; do
		if [ ! -e "$f" ]; then
			echo "test_availability: SKIP: $f missing"
			exit 77
		fi
	done
	if ! command -v getent >/dev/null || ! unshare -mn true 2>/dev/null; then
		echo "test_availability: SKIP: needs getent and unshare -mn"
		exit 77
	fi
	CODNS_IN_NS=1 exec unshare -mn "$BASH" "$0" "$@"
fi

pass=0
fail=0
pids=
tmp=$(mktemp -d /tmp/nss-avail.XXXXXX)

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

check() {
	local desc=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "PASS: $desc"
	else
		fail=$((fail + 1))
		echo "FAIL: $desc"
	fi
}

wait_tcp() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

ip link set lo up || exit 99
# getent ahostsv4 asks with AI_ADDRCONFIG, which ignores loopback addresses.
ip addr add 192.0.2.200/32 dev lo || exit 99
printf '127.0.0.1 localhost\n' >"$tmp/hosts"
printf 'hosts: dns\n' >"$tmp/nsswitch.conf"
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.conf"
for f in nsswitch.conf hosts resolv.conf; do
	mount --bind "$tmp/$f" "/etc/$f" || exit 99
done
if [ -d /var/run/nscd ]; then
	mkdir "$tmp/nscd" && mount --bind "$tmp/nscd" /var/run/nscd
fi

zone=()
for side in dns codns; do
	for i in $(seq 1 $nlookups); do
		zone+=(--host-record="$side$i.test,192.0.2.$i")
	done
done
"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=53 \
    --listen-address=127.0.0.1 --bind-interfaces --user=root --pid-file= \
    --local=/#/ "${zone[@]}" >"$tmp/dnsmasq.log" 2>&1 &
dnsmasq_pid=$!
pids="$pids $dnsmasq_pid"
wait_tcp 127.0.0.1 53 || exit 99

cat >"$tmp/codnsd.conf" <<EOF
listen 127.0.0.1:7053
control-socket $tmp/control.sock
peers-file $tmp/no-peers
EOF
"$codnsd" -f -c "$tmp/codnsd.conf" >"$tmp/codnsd.log" 2>&1 &
pids="$pids $!"
wait_tcp 127.0.0.1 7053 || exit 99

export LD_LIBRARY_PATH="$module_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CODNS_LOOKUP_ADDRESS=127.0.0.1:7053
unset CODNS_TIMEOUT_MS RES_OPTIONS LOCALDOMAIN

# stalled SIDE: stop the nameserver, start the lookups of SIDE's names,
# continue it after stop_s seconds; prints how many lookups answered.
stalled() {
	local side=$1 i p lpids= n=0
	printf 'hosts: %s\n' "$side" >"$tmp/nsswitch.conf"
	kill -STOP "$dnsmasq_pid"
	for i in $(seq 1 $nlookups); do
		getent ahostsv4 "$side$i.test" >"$tmp/$side$i.out" 2>&1 &
		lpids="$lpids $!"
	done
	sleep "$stop_s"
	kill -CONT "$dnsmasq_pid"
	for p in $lpids; do
		wait "$p"
	done
	for i in $(seq 1 $nlookups); do
		grep -q "^192\.0\.2\.$i " "$tmp/$side$i.out" && n=$((n + 1))
	done
	echo "$n"
}

dns=$(stalled dns)
echo "hosts: dns   answered $dns of $nlookups"
check "glibc's dns module waits out a ${stop_s} s stop" test "$dns" -eq $nlookups
codns=$(stalled codns)
echo "hosts: codns answered $codns of $nlookups"
check "codns answers every lookup glibc answered" test "$codns" -ge "$dns"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
