#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_notify.sh: Type=notify. With NOTIFY_SOCKET set,
# codnsd sends READY=1 once it listens, RELOADING=1 then READY=1 around a
# SIGHUP reload, STOPPING=1 at SIGTERM, STATUS= lines, and WATCHDOG=1 every
# half of WATCHDOG_USEC; to a path or to an abstract socket. A small
# receiver plays systemd (notify_recv.py).
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port)
echo "host-record=www.test.example,192.0.2.1" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

# run SOCKET: daemon a with NOTIFY_SOCKET=SOCKET and a 0.2 s watchdog;
# the receiver's lines in $T_DIR/notify.out.
run() {
	local sock=$1 rpid pid
	LISTEN_a=127.0.0.1:$(free_port)
	cat >"$T_DIR/a.codnsd.conf" <<CONF
listen $LISTEN_a
upstream 127.0.0.1:$NSPORT
control-socket $T_DIR/a.control.sock
lookup-socket $T_DIR/a.lookup.sock
CONF
	rm -f "$T_DIR/stop"
	start_bg "$T_DIR/notify.out" BOUND python3 \
		"$srcdir/tests/integration/notify_recv.py" "$sock" \
		"$LISTEN_a" 60 "$T_DIR/stop"
	rpid=$BG_PID
	NOTIFY_SOCKET=$sock WATCHDOG_USEC=200000 "$CODNSD" -d \
		-c "$T_DIR/a.codnsd.conf" >"$T_DIR/a.log" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	wait_printed "READY=1" 1
	wait_printed "WATCHDOG=1" 3
	kill -HUP "$pid"
	wait_printed "READY=1" 2
	STOP_RC=0
	stop_pid "$pid" || STOP_RC=$?
	wait_printed "STOPPING=1" 1
	touch "$T_DIR/stop"
	wait "$rpid"
}
# wait_printed LINE N: until the receiver has printed LINE N times (10 s).
wait_printed() {
	for _ in $(seq 200); do
		[ "$(grep -cx "$1" "$T_DIR/notify.out")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# order A B C...: the first A comes before the first B after it, etc.
order() {
	awk -v seq="$*" 'BEGIN { n = split(seq, want, " "); i = 1 }
		i <= n && $0 == want[i] { i++ } END { exit i <= n }' \
		"$T_DIR/notify.out"
}

for sock in "$T_DIR/notify.sock" "@codns-test-notify-$$"; do
	run "$sock"
	cat "$T_DIR/notify.out"
	ok "$sock: READY=1, and the listener accepted at that moment" \
		grep -qx "LISTENING yes" "$T_DIR/notify.out"
	ok "$sock: MAINPID and a STATUS line with the listener" \
		eval 'grep -q "^MAINPID=[0-9]" "$T_DIR/notify.out" &&
		grep -q "^STATUS=serving on $LISTEN_a" "$T_DIR/notify.out"'
	ok "$sock: WATCHDOG=1 pings (WATCHDOG_USEC)" \
		test "$(grep -cx WATCHDOG=1 "$T_DIR/notify.out")" -ge 3
	ok "$sock: READY, RELOADING, READY, STOPPING in that order" \
		order READY=1 RELOADING=1 READY=1 STOPPING=1
	ok "$sock: RELOADING=1 carries MONOTONIC_USEC" \
		grep -q "^MONOTONIC_USEC=[0-9]" "$T_DIR/notify.out"
	ok "$sock: a STATUS line while stopping" \
		grep -q "^STATUS=draining" "$T_DIR/notify.out"
	ok "$sock: exit status 0" test "$STOP_RC" = 0
done
finish
