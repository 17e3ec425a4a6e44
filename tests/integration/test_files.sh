#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_files.sh: files that never end, block or are huge
# (a peers file that is a symlink to /dev/zero, a FIFO, 50 MB, a FIFO key
# file) are refused with a clear error while lookups go on, and
# `codnsd -t -c /dev/zero` returns 1 at once; a FIFO resolv.conf does not
# block the start.
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port 127.0.0.1)
LPORT=$(free_port 127.0.0.1)
PPORT=$(free_port 127.0.0.1)
echo "address=/test.example/192.0.2.7" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

# -t on files that never end or block: bounded by timeout(1) only so a
# regression fails instead of hanging the suite.
check_refused() { # FILE WHAT
	local out rc=0
	out=$(timeout 10 "$CODNSD" -t -c "$1" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "$2"
}
ok "codnsd -t -c /dev/zero returns 1: not a regular file" \
	check_refused /dev/zero "/dev/zero: not a regular file"
mkfifo "$T_DIR/fifo.conf"
ok "codnsd -t -c FIFO returns 1 without blocking" \
	check_refused "$T_DIR/fifo.conf" "not a regular file (a FIFO)"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$T_DIR/big.conf"
ok "codnsd -t -c on a 2 MB config: larger than 1048576 bytes" \
	check_refused "$T_DIR/big.conf" "larger than 1048576 bytes"
echo "peers-file /dev/zero" >"$T_DIR/zpeers.conf"
ok "codnsd -t with peers-file /dev/zero returns 1" \
	check_refused "$T_DIR/zpeers.conf" "/dev/zero: not a regular file"

echo "127.0.0.2:$PPORT" >"$T_DIR/peers.good"
ln -s "$T_DIR/peers.good" "$T_DIR/peers"
LISTEN_a=127.0.0.1:$LPORT
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen 127.0.0.1:$LPORT
upstream 127.0.0.1:$NSPORT
peer-listen 127.0.0.1:$PPORT
peers-file $T_DIR/peers
control-socket $T_DIR/a.sock
EOF
start_codnsd a || exit 1
LOG=$T_DIR/a.codnsd.log

lookup_ok() { # NAME: a fresh name answered by the local nameserver
	ctl a lookup "$1" | grep -q 192.0.2.7
}
alive() { kill -0 "$CODNSD_PID_a"; }

ok "a lookup works at the start" lookup_ok start.test.example

# The watcher (every 2 s) sees the symlink change; no SIGHUP needed.
ln -sfn /dev/zero "$T_DIR/peers"
ok "a peers file turned into /dev/zero is refused by the watcher" \
	wait_log 10 "peers file not reloaded: .*/peers: not a regular file (a character device)"
ok "lookups go on after /dev/zero" lookup_ok zero.test.example
ok "the control socket still answers" \
	ctl a status >/dev/null

rm -f "$T_DIR/peers"
mkfifo "$T_DIR/peers"
kill -HUP "$CODNSD_PID_a"
ok "a FIFO peers file is refused at SIGHUP without blocking" \
	wait_log 10 "/peers: not a regular file (a FIFO)"
ok "lookups go on after the FIFO" lookup_ok fifo.test.example

rm -f "$T_DIR/peers"
# 50 MB of comments: the byte cap refuses it before it is read.
head -c $((50 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$T_DIR/peers"
ok "a 50 MB peers file is refused by the watcher" \
	wait_log 10 "peers file not reloaded: .*larger than 4194304 bytes"
ok "lookups go on after the 50 MB file" lookup_ok big.test.example
rm -f "$T_DIR/peers"

# A key file that is a FIFO: refused at SIGHUP, the daemon keeps going.
ln -s "$T_DIR/peers.good" "$T_DIR/peers"
mkfifo "$T_DIR/key"
echo "peer-key-file $T_DIR/key" >>"$T_DIR/a.codnsd.conf"
kill -HUP "$CODNSD_PID_a"
ok "a FIFO key file is refused at SIGHUP without blocking" \
	wait_log 10 "/key: not a regular file"
ok "lookups go on after the FIFO key file" lookup_ok key.test.example

# resolv.conf, which codnsd reads itself: a FIFO must not block the start.
mkfifo "$T_DIR/resolv.fifo"
LPORT_b=$(free_port 127.0.0.1)
LISTEN_b=127.0.0.1:$LPORT_b
cat >"$T_DIR/b.codnsd.conf" <<EOF
listen 127.0.0.1:$LPORT_b
upstream 127.0.0.1:$NSPORT
resolv-conf $T_DIR/resolv.fifo
peers-file $T_DIR/no-peers
control-socket $T_DIR/b.sock
EOF
ok "a FIFO resolv.conf does not block the start" start_codnsd b
b_answers() { ctl b lookup rc.test.example | grep -q 192.0.2.7; }
ok "and that daemon answers" b_answers

ok "the daemon is still running" alive
ok "SIGTERM still stops it" stop_pid "$CODNSD_PID_a"
finish
