#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_reload.sh: a reload applies whole or not at all.
# A SIGHUP whose peers file or key file is bad leaves the running config,
# the upstreams, the cache capacity and the key untouched, and a keyed
# pair of peers stays up (heartbeats still acked, no bad-auth).
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port 127.0.0.31)
LPORT=$(free_port 127.0.0.31)
PPORT=$(free_port 127.0.0.31)
ip_of() { case $1 in a) echo 127.0.0.31 ;; b) echo 127.0.0.32 ;; esac; }
for n in a b; do
	echo "address=/test.example/192.0.2.${n/a/31}" | sed 's/\.b$/.32/' \
		>"$T_DIR/ns$n.zone"
	start_dnsmasq "ns$n" "$(ip_of $n)" "$NSPORT" || exit 1
done
for n in a b; do echo "$(ip_of $n):$PPORT"; done >"$T_DIR/peers"
# A 64-hex-digit key, mode 0600.
KEY=$(printf '%064x' 12345)
(umask 077 && echo "$KEY" >"$T_DIR/key")

write_conf() { # NODE [EXTRA LINES]
	local ip
	ip=$(ip_of "$1")
	eval "LISTEN_$1=$ip:$LPORT"
	cat >"$T_DIR/$1.codnsd.conf" <<EOF
listen $ip:$LPORT
upstream ${UPSTREAM:-$ip:$NSPORT}
peer-listen $ip:$PPORT
peers-file ${PEERS:-$T_DIR/peers}
peer-key-file $T_DIR/key
heartbeat-discovery 200ms
heartbeat-steady 1s
control-socket $T_DIR/$1.sock
lookup-socket $T_DIR/$1.lookup.sock
${2:-}
EOF
}
for n in a b; do
	write_conf "$n"
	start_codnsd "$n" || exit 1
done

capacity() { jget "$1" status "j['cache']['capacity']"; }
upstreams() { jget "$1" status "','.join(j['upstreams']['servers'])"; }
neighbour() { [ "$(jget "$1" peers "sum(p['state'] == 'neighbour' for p in j['peers'])")" = 1 ]; }
is() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'" >&2; return 1; }; }
# hup_and_wait NODE PATTERN: SIGHUP, then wait for PATTERN in the log
# (counted from the lines before the signal).
hup_and_wait() {
	local log=$T_DIR/$1.codnsd.log before pid
	before=$(wc -l <"$log")
	eval "pid=\$CODNSD_PID_$1"
	kill -HUP "$pid"
	wait_for 5 sh -c "tail -n +$((before + 1)) '$log' | grep -q '$2'"
}
# acks_go_on NODE: heartbeats are still acked over 3 s of steady beats.
acks_go_on() {
	local n0
	n0=$(counter "$1" heartbeats_acked)
	sleep 3
	[ "$(counter "$1" heartbeats_acked)" -gt "$n0" ]
}

ok "a and b become neighbours with the key" wait_for 10 neighbour a
ok "b sees a as a neighbour" wait_for 10 neighbour b
ok "cache capacity starts at 10000" is "$(capacity a)" 10000
UP0=$(upstreams a)

# 1. A bad peers file, with a smaller cache and another upstream in the
# same config: nothing of it may apply.
echo "this is not an address" >"$T_DIR/peers.bad"
PEERS=$T_DIR/peers.bad UPSTREAM=127.0.0.31:1 write_conf a "cache-size 5"
ok "SIGHUP with a bad peers file fails" \
	hup_and_wait a "keeping the old configuration"
ok "the cache capacity is still 10000" is "$(capacity a)" 10000
ok "the upstreams are unchanged" is "$(upstreams a)" "$UP0"
answered_locally() { # NAME
	local out
	out=$(ctl a lookup "$1")
	echo "$out"
	echo "$out" | grep -q 192.0.2.31 && echo "$out" | grep -q local
}
ok "a lookup is still answered by the old upstream" \
	answered_locally one.test.example

# 2. A malformed key file: the live key must not be overwritten.
write_conf a "cache-size 5"
# 64 characters whose last two are not hex: a loader that writes the key
# as it parses has overwritten most of it by the time it sees them.
printf '%062xzz\n' 999 >"$T_DIR/key"
ok "SIGHUP with a malformed key file fails" \
	hup_and_wait a "keeping the old configuration"
ok "the cache capacity is still 10000 after the bad key" \
	is "$(capacity a)" 10000
ok "a's heartbeats are still acked by b" acks_go_on a
ok "b's heartbeats are still acked by a" acks_go_on b
ok "no bad-auth datagram at a" is "$(counter a peer_bad_auth)" 0
ok "no bad-auth datagram at b" is "$(counter b peer_bad_auth)" 0
ok "a and b are still neighbours" neighbour a

# 3. With the key fixed, the same config applies whole.
(umask 077 && echo "$KEY" >"$T_DIR/key")
ok "SIGHUP with good files succeeds" \
	hup_and_wait a "configuration reloaded"
ok "now the cache capacity is 5" is "$(capacity a)" 5
ok "peers stay up after the good reload" acks_go_on a
finish
