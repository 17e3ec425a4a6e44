#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_handover.sh: listening sockets outlive codnsd.
# 1. Socket activation (sd_launch.py plays systemd: binds, passes the
#    sockets as fds 3.. with LISTEN_FDS, keeps them between runs): codnsd
#    serves on them, leaves systemd's socket file in place, and a DNS
#    query and a lookup sent while no codnsd runs are answered by the
#    next one.
# 2. codnsd -R: the new codnsd takes the sockets of the running one over
#    the control socket; a steady stream of DNS queries loses none, the
#    old one exits 0 once the new one is ready, the pidfile names the new
#    one. A new one that dies before it is ready leaves the old serving.
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port)
{
	echo "host-record=www.test.example,192.0.2.1"
	echo "host-record=warm.test.example,192.0.2.2"
	echo "host-record=queued.test.example,192.0.2.3"
	echo "host-record=late.test.example,192.0.2.4"
} >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

# answer PORT NAME: the A record the DNS stub on PORT gives for NAME.
answer() {
	dig +short +tries=1 +time=10 @127.0.0.1 -p "$1" "$2" A
}
look() { python3 "$LOOKUP_PY" "$1" "$2" 4; }

# --- 1. socket activation ---------------------------------------------------
mkdir "$T_DIR/sa"
LPORT=$(free_port)
DPORT=$(free_port)
cat >"$T_DIR/sa.conf" <<EOF
listen 127.0.0.1:$LPORT
dns-listen 127.0.0.1:$DPORT
upstream 127.0.0.1:$NSPORT
lookup-socket $T_DIR/sa/lookup.sock
control-socket $T_DIR/sa/control.sock
EOF
python3 "$srcdir/tests/integration/sd_launch.py" "$T_DIR/sa" \
	"tcp:127.0.0.1:$LPORT" "unix:$T_DIR/sa/lookup.sock" \
	"udp:127.0.0.1:$DPORT" "tcp:127.0.0.1:$DPORT" -- \
	"$CODNSD" -d -c "$T_DIR/sa.conf" >"$T_DIR/sa.out" 2>"$T_DIR/sa.log" &
T_PIDS="$T_PIDS $!"
wait_tcp 127.0.0.1 "$LPORT"
for _ in $(seq 100); do
	[ -f "$T_DIR/sa/pid" ] && answer "$DPORT" www.test.example | grep -q . &&
		break
	sleep 0.1
done
SA1=$(cat "$T_DIR/sa/pid")
ok "activated: codnsd took the 4 sockets" \
	grep -q "socket activation: 4 sockets" "$T_DIR/sa.log"
ok "activated: the DNS stub answers on the inherited UDP socket" \
	test "$(answer "$DPORT" www.test.example)" = 192.0.2.1
ok "activated: the lookup socket answers" \
	eval 'look "$T_DIR/sa/lookup.sock" www.test.example | grep -q "found"'
ok "activated: codnsd bound no listener itself (ss shows the same sockets)" \
	eval '! grep -q "matches no listener" "$T_DIR/sa.log"'
kill -TERM "$SA1"
for _ in $(seq 100); do
	grep -q "^exit" "$T_DIR/sa.out" && break
	sleep 0.05
done
ok "activated: SIGTERM, exit 0" grep -qx "exit 0" "$T_DIR/sa.out"
ok "activated: systemd's socket file is left in place" \
	test -S "$T_DIR/sa/lookup.sock"
# No codnsd runs now: a datagram and a lookup wait in the sockets.
answer "$DPORT" queued.test.example >"$T_DIR/queued.dns" &
QD=$!
look "$T_DIR/sa/lookup.sock" late.test.example >"$T_DIR/queued.look" 2>&1 &
QL=$!
sleep 0.5
touch "$T_DIR/sa/go"
wait "$QD"
wait "$QL"
ok "activated: a DNS query sent while codnsd was down is answered" \
	test "$(cat "$T_DIR/queued.dns")" = 192.0.2.3
ok "activated: a lookup sent while codnsd was down is answered" \
	grep -q "'status': 'found'.*192.0.2.4" "$T_DIR/queued.look"
touch "$T_DIR/sa/quit"
kill -TERM "$(cat "$T_DIR/sa/pid")"

# --- 2. codnsd -R -------------------------------------------------------------
LISTEN_b=127.0.0.1:$(free_port)
BPORT=$(free_port)
cat >"$T_DIR/b.codnsd.conf" <<EOF
listen $LISTEN_b
dns-listen 127.0.0.1:$BPORT
upstream 127.0.0.1:$NSPORT
lookup-socket $T_DIR/b/lookup.sock
control-socket $T_DIR/b/control.sock
pidfile $T_DIR/b.pid
EOF
start_codnsd b || exit 1
OLD=$CODNSD_PID_b
look "$T_DIR/b/lookup.sock" warm.test.example >/dev/null
# 2 s of queries every 2 ms; the replacement comes 0.5 s in.
python3 "$srcdir/tests/integration/dnsloop.py" 127.0.0.1 "$BPORT" \
	www.test.example 2 2 >"$T_DIR/loop.out" &
LOOP=$!
sleep 0.5
"$CODNSD" -d -R -c "$T_DIR/b.codnsd.conf" >"$T_DIR/b2.log" 2>&1 &
NEW=$!
T_PIDS="$T_PIDS $NEW"
OLD_RC=0
wait "$OLD" || OLD_RC=$?
wait "$LOOP"
cat "$T_DIR/loop.out"
ok "-R: the old codnsd handed its sockets over and exited 0" \
	eval 'grep -q "handed 5 listening sockets over" "$T_DIR/b.codnsd.log" &&
	[ "$OLD_RC" = 0 ]'
ok "-R: the new codnsd runs and the pidfile names it" \
	eval 'kill -0 "$NEW" && [ "$(cat "$T_DIR/b.pid")" = "$NEW" ]'
ok "-R: no DNS query lost across the replacement" \
	eval 'grep -q "lost 0 servfail 0" "$T_DIR/loop.out" &&
	! grep -q "^sent 0 " "$T_DIR/loop.out"'
ok "-R: the lookup socket file is kept and answers" \
	eval 'look "$T_DIR/b/lookup.sock" www.test.example | grep -q found'
ok "-R: the control socket is the new codnsd's" \
	eval 'ctl b status | grep -q "pid $NEW"'
ok "-R: the old codnsd bound nothing anew (no address in use)" \
	eval '! grep -qi "in use" "$T_DIR/b2.log"'
# A new codnsd that dies before it is ready (it cannot bind a listener
# it was not given): the old one goes on serving everything.
cp "$T_DIR/b.codnsd.conf" "$T_DIR/bad.conf"
echo "dns-listen 192.0.2.1:$BPORT public" >>"$T_DIR/bad.conf"
BAD_RC=0
"$CODNSD" -d -R -c "$T_DIR/bad.conf" >"$T_DIR/bad.log" 2>&1 || BAD_RC=$?
for _ in $(seq 100); do
	grep -q "went away" "$T_DIR/b2.log" && break
	sleep 0.05
done
ok "-R that fails before it is ready: it exits 1" test "$BAD_RC" = 1
ok "... the old codnsd says so and goes on serving" eval '
	grep -q "the new codnsd went away before it was ready" "$T_DIR/b2.log" &&
	kill -0 "$NEW" &&
	[ "$(answer "$BPORT" www.test.example)" = 192.0.2.1 ] &&
	look "$T_DIR/b/lookup.sock" www.test.example | grep -q found'
stop_pid "$NEW"
ok "... and at its stop removes its socket files again" \
	test ! -e "$T_DIR/b/lookup.sock"
ok "-R with no codnsd running: starts anew" eval '
	"$CODNSD" -d -R -c "$T_DIR/b.codnsd.conf" >"$T_DIR/b3.log" 2>&1 &
	p=$!; T_PIDS="$T_PIDS $p"
	wait_tcp 127.0.0.1 "${LISTEN_b##*:}" &&
	grep -q "starting anew" "$T_DIR/b3.log" && stop_pid $p'
finish
