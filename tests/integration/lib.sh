# SPDX-License-Identifier: MIT
# tests/integration/lib.sh: shared helpers for the integration tests.
# Sourced by each test; every process started here is stopped on exit.
# Traffic goes only to 127.0.0.0/8.

set -u
# A test that sets T_NETNS=1 before sourcing this file runs again in a
# network namespace of its own (unshare -n; skipped where that is not
# allowed), with its loopback up.
if [ -n "${T_NETNS:-}" ] && [ -z "${CODNS_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "SKIP: $(basename "$0"): no network namespaces here (unshare -n)"
		exit 77
	fi
	CODNS_IN_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
fi
[ -z "${T_NETNS:-}" ] || ip link set lo up || exit 99
: "${BUILDDIR:=$(pwd)}"
: "${srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
CODNSD=${CODNSD:-$BUILDDIR/codnsd/codnsd}
CODNSCTL=${CODNSCTL:-$BUILDDIR/codnsctl/codnsctl}
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
LOOKUP_PY="$srcdir/tests/integration/lookup.py"
HOSTILE=$srcdir/tests/integration/hostile.py
# The system's python, for what runs as another user: a per-user one
# (pyenv) is not nobody's to run.
PYN=/usr/bin/python3
[ -x "$PYN" ] || PYN=python3
export PYTHONPATH="$srcdir/tests/integration${PYTHONPATH:+:$PYTHONPATH}"

T_PASS=0
T_FAIL=0
T_SKIP=0
T_PIDS=""
T_DIR=$(mktemp -d /tmp/codns-test.XXXXXX)

t_cleanup() {
	local p
	for p in $T_PIDS; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ "${KEEP_TEST_DIR:-}" = "" ]; then rm -rf "$T_DIR"; fi
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# ok DESCRIPTION COMMAND...: run COMMAND, count and print the result.
ok() {
	local desc=$1
	shift
	if "$@"; then
		T_PASS=$((T_PASS + 1))
		echo "PASS: $desc"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "FAIL: $desc"
	fi
}

# skip DESCRIPTION: a check that cannot run here, counted as skipped.
skip() {
	T_SKIP=$((T_SKIP + 1))
	echo "SKIP: $1"
}

# finish: the summary line and the exit status of the test.
finish() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}

# free_port [ADDR]: a port free for both TCP and UDP on ADDR.
free_port() {
	python3 "$LOOKUP_PY" --free-port "${1:-127.0.0.1}"
}

# wait_tcp ADDR PORT: until something accepts there (at most 5 s).
wait_tcp() {
	python3 - "$1" "$2" "${3:-5}" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[3])
while time.time() < end:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# numbered_hosts NAME PREFIX COUNT BASE: host records PREFIX1 to
# PREFIX<COUNT>.test.example at 192.0.2.(BASE + i), added to the zone of
# dnsmasq NAME ($T_DIR/NAME.zone).
numbered_hosts() {
	local i
	for i in $(seq 1 "$3"); do
		echo "host-record=$2$i.test.example,192.0.2.$(($4 + i))"
	done >>"$T_DIR/$1.zone"
}

# wait_dns ADDR PORT QNAME: until a DNS server there answers a query for
# QNAME (50 tries, 0.1 s apart).
wait_dns() {
	for _ in $(seq 50); do
		dig +time=1 +tries=1 @"$1" -p "$2" "$3" >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	return 1
}

# start_dnsmasq NAME ADDR PORT: a real DNS server serving the records in
# $T_DIR/NAME.zone (dnsmasq lines: host-record=, cname=, ptr-record=...),
# authoritative for test.example and the test reverse zones. Sets
# DNSMASQ_PID_<NAME>; queries are logged to $T_DIR/NAME.log.
start_dnsmasq() {
	local name=$1 addr=$2 port=$3 pid
	{
		echo "no-resolv"
		echo "no-hosts"
		echo "port=$port"
		echo "listen-address=$addr"
		echo "bind-interfaces"
		echo "local-ttl=300"
		echo "log-queries"
		echo "log-facility=$T_DIR/$name.log"
		echo "local=/test.example/"
		echo "local=/2.0.192.in-addr.arpa/"
		echo "local=/8.b.d.0.1.0.0.2.ip6.arpa/"
		cat "$T_DIR/$name.zone"
	} >"$T_DIR/$name.conf"
	"$DNSMASQ" --keep-in-foreground -C "$T_DIR/$name.conf" --pid-file= \
		>"$T_DIR/$name.out" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	eval "DNSMASQ_PID_$name=$pid"
	wait_dns "$addr" "$port" ping.test.example && return 0
	echo "dnsmasq $name did not start" >&2
	cat "$T_DIR/$name.out" >&2
	return 1
}

# queries NAME QNAME [TYPE]: how many queries dnsmasq NAME has logged.
queries() {
	local log=$T_DIR/$1.log
	[ -f "$log" ] || { echo 0; return; }
	if [ $# -ge 3 ]; then
		grep -c "query\[$3\] $2 from" "$log"
	else
		grep -c "query\[[A-Z]*\] $2 from" "$log"
	fi
}

# start_codnsd NAME: codnsd -d -c $T_DIR/NAME.codnsd.conf, logging to
# $T_DIR/NAME.codnsd.log; waits for LISTEN_<NAME> (addr:port) to accept.
# Sets CODNSD_PID_<NAME>. CODNSD_WRAPPER (e.g. valgrind) runs it. A config
# without lookup-socket gets $T_DIR/NAME.lookup.sock, so that no test
# touches the machine's default socket or another test's daemon.
start_codnsd() {
	local name=$1 listen pid
	eval "listen=\$LISTEN_$name"
	grep -q '^lookup-socket ' "$T_DIR/$name.codnsd.conf" ||
		echo "lookup-socket $T_DIR/$name.lookup.sock" \
			>>"$T_DIR/$name.codnsd.conf"
	${CODNSD_WRAPPER:-} "$CODNSD" -d -c "$T_DIR/$name.codnsd.conf" \
		>"$T_DIR/$name.codnsd.log" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	eval "CODNSD_PID_$name=$pid"
	# Under a wrapper (valgrind) a start on a loaded machine (make
	# distcheck) takes longer: wait up to 30 s instead of 5.
	if ! wait_tcp "${listen%:*}" "${listen##*:}" \
		"$([ -n "${CODNSD_WRAPPER:-}" ] && echo 30 || echo 5)"; then
		echo "codnsd $name did not start" >&2
		cat "$T_DIR/$name.codnsd.log" >&2
		return 1
	fi
}

# stop_pid PID: TERM it and wait (at most 10 s); its exit status. One
# still running then is killed (and its status is KILL's): "wait" alone
# would hang the suite on a process that never exits (LeakSanitizer's
# exit-time scan was once seen spinning for minutes in the ASan pass).
stop_pid() {
	local rc=0
	kill -CONT "$1" 2>/dev/null
	kill -TERM "$1" 2>/dev/null || return 1
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "# pid $1 did not exit within 10 s of SIGTERM: killed" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" || rc=$?
	return $rc
}

# ctl NAME ARGS...: codnsctl against daemon NAME.
ctl() {
	local name=$1
	shift
	"$CODNSCTL" -c "$T_DIR/$name.codnsd.conf" "$@"
}

# jget NAME COMMAND PYEXPR: PYEXPR evaluated on daemon NAME's reply to
# `codnsctl --json COMMAND`, parsed as j.
jget() {
	ctl "$1" --json "$2" |
		python3 -c "import json,sys; j=json.load(sys.stdin); print($3)"
}

# counter NAME KEY: daemon NAME's counter KEY (codnsctl stats).
counter() { jget "$1" stats "j['counters']['$2']"; }

# wait_for SECONDS COMMAND...: poll every 0.2 s until COMMAND succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le "$end" ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# wait_log SECONDS PATTERN: until $LOG (a daemon's log) holds PATTERN.
wait_log() {
	wait_for "$1" grep -q "$2" "$LOG"
}

# forget PID: drop a process that was stopped on purpose from the
# cleanup list.
forget() { T_PIDS=$(echo "$T_PIDS" | tr ' ' '\n' | grep -vx "$1" | xargs); }

# need_root_setpriv: skip the whole test (exit 77) unless it runs as root
# with setpriv, to act as other users.
need_root_setpriv() {
	if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
		echo "SKIP: needs root and setpriv"
		exit 77
	fi
}

# open_run_dir: RUN=$T_DIR/run, where the daemon's sockets can be reached
# by other users (it and $T_DIR are 0755).
open_run_dir() {
	chmod 0755 "$T_DIR"
	RUN=$T_DIR/run
	mkdir -m 0755 "$RUN"
}

# as USER CMD...: run CMD as USER (its own group, no others).
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}

# answered WHERE N [SOURCE]: N lookups of www, one connection each, from
# this uid; prints how many were answered "found". as_answered USER ...
# runs it as USER.
answered() {
	"$PYN" "$LOOKUP_PY" --answered "$@"
}
as_answered() {
	local u=$1
	shift
	as "$u" "$PYN" "$LOOKUP_PY" --answered "$@"
}

# start_bg OUT PATTERN CMD...: CMD in the background (pid in BG_PID,
# stopped at exit), its output in OUT; returns once OUT holds PATTERN (at
# most 10 s).
start_bg() {
	local out=$1 pattern=$2
	shift 2
	"$@" >"$out" &
	BG_PID=$!
	T_PIDS="$T_PIDS $BG_PID"
	wait_for 10 grep -q "$pattern" "$out"
}

# hostile_as USER NAME ARGS...: hostile.py ARGS as USER in the background,
# output in $T_DIR/h.NAME; returns once it is ready.
hostile_as() {
	local u=$1 name=$2
	shift 2
	start_bg "$T_DIR/h.$name" ready as "$u" "$PYN" "$HOSTILE" "$@"
}
