#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_hostile.sh: what one hostile local user costs everyone else.
#
# A benchmark, not a test: it measures and prints, it never judges. Run it
# as root from a build directory (it needs unshare -n -m and setpriv):
#
#   cd build && bash ../scripts/bench_hostile.sh
#
# Inside private network and mount namespaces (a fresh loopback, a tmpfs on
# /run, its own nsswitch.conf "hosts: codns"), it starts dnsmasq on
# 127.0.0.1:5300 and codnsd on its default lookup socket and 127.0.0.1:7053,
# then prints:
#   1. slowloris: user nobody opens BENCH_CONNS (1100) connections to the
#      transport nss_codns uses, dribbling a byte every 0.3 s and reopening
#      what the daemon closes, for 14 s. Printed: the lookup connections the
#      daemon holds after 6 s (nearly all nobody's), and how many of 100
#      lookups by root through nss_codns (getaddrinfo, one process per 10)
#      were answered meanwhile ("lost" = the rest).
#   2. hung daemon: codnsd SIGSTOPped, 5 getaddrinfo() calls in one process
#      with the module's default timeout: how many waited, and the mean
#      time per call.
# BUILDDIR (the current directory) picks the build, so an older build can
# be measured the same way; a codnsd without lookup-socket is measured
# over TCP, the transport its module used.

set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILDDIR:=$(pwd)}"
export srcdir BUILDDIR
CONNS=${BENCH_CONNS:-1100}

if [ "${1:-}" != "--inside" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench_hostile.sh: needs root (unshare -n -m)" >&2
		exit 1
	fi
	make -C "$BUILDDIR" -s codnsd/codnsd codnsctl/codnsctl libnss_codns.la ||
		exit 1
	# An older build may not know the helper: compile it on the side.
	make -C "$BUILDDIR" -s tests/nss/hung_calls 2>/dev/null ||
		cc -O2 -o "$BUILDDIR/tests/nss/hung_calls" \
			"$srcdir/tests/nss/hung_calls.c" || exit 1
	exec unshare -n -m -- "$0" --inside
fi

. "$srcdir/tests/integration/lib.sh"
ip link set lo up || exit 1
ip addr add 192.0.2.200/32 dev lo || exit 1
mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
printf 'hosts: codns\n' >"$T_DIR/nsswitch.conf"
mount --bind "$T_DIR/nsswitch.conf" /etc/nsswitch.conf || exit 1
chmod 0755 "$T_DIR"

echo "host-record=web.codns.test,192.0.2.51" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 5300 || exit 1
LISTEN_a=127.0.0.1:7053
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
upstream 127.0.0.1:5300
control-socket $T_DIR/a.sock
peers-file $T_DIR/no-peers
EOF
if "$CODNSD" -t -c "$T_DIR/a.codnsd.conf" >/dev/null 2>&1 &&
	printf 'lookup-socket none\n' >"$T_DIR/probe.conf" &&
	"$CODNSD" -t -c "$T_DIR/probe.conf" >/dev/null 2>&1; then
	TARGET=/run/codnsd/lookup.sock
	echo "lookup-socket $TARGET" >>"$T_DIR/a.codnsd.conf"
else
	TARGET=$LISTEN_a
fi
# Not start_codnsd: it would add a lookup-socket line an old build rejects.
"$CODNSD" -d -c "$T_DIR/a.codnsd.conf" >"$T_DIR/a.codnsd.log" 2>&1 &
CODNSD_PID_a=$!
T_PIDS="$T_PIDS $CODNSD_PID_a"
wait_tcp 127.0.0.1 7053 || exit 1
export LD_LIBRARY_PATH=$BUILDDIR/.libs
unset CODNS_LOOKUP_ADDRESS CODNS_LOOKUP_SOCKET CODNS_TIMEOUT_MS CODNS_HUNG_MS
getent ahostsv4 web.codns.test >/dev/null || {
	echo "nss_codns does not answer" >&2
	exit 1
}

echo "codns bench_hostile: build $BUILDDIR, nss_codns transport $TARGET"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PYN" \
	"$srcdir/tests/integration/hostile.py" redribble "$TARGET" "$CONNS" 14 \
	>"$T_DIR/hostile.out" 2>&1 &
HPID=$!
T_PIDS="$T_PIDS $HPID"
sleep 6
held=$(ctl a --json status | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["clients"]["lookup"])')
ok=0
for _ in $(seq 10); do
	n=$(CODNS_TIMEOUT_MS=2000 timeout 60 "$PYN" -c '
import socket
ok = 0
for _ in range(10):
    try:
        socket.getaddrinfo("web.codns.test", 80, socket.AF_INET)
        ok += 1
    except socket.gaierror:
        pass
print(ok)')
	ok=$((ok + ${n:-0}))
done
wait "$HPID"
echo "slowloris by nobody, $CONNS connections: daemon holds $held" \
	"lookup connections; root's lookups answered $ok of 100, lost" \
	"$((100 - ok)) ($(tail -n 1 "$T_DIR/hostile.out"))"

kill -STOP "$CODNSD_PID_a"
out=$("$BUILDDIR/tests/nss/hung_calls" 5 web.codns.test)
kill -CONT "$CODNSD_PID_a"
echo "hung daemon (SIGSTOP), 5 calls in one process, default timeout: $out"
