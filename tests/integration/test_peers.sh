#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_peers.sh: a four-node codnsd cluster on loopback,
# each node with its own dnsmasq: no peer traffic while healthy, peers
# rescue a node whose nameserver is stopped, the delay falls to 0 and
# climbs back, a killed peer is excluded, and bad, unlisted, unsigned,
# wrongly signed and replayed datagrams are dropped and counted.
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port 127.0.0.11)
LPORT=$(free_port 127.0.0.11)
PPORT=$(free_port 127.0.0.11)
NODES="a b c d"
ip_of() { case $1 in a) echo 127.0.0.11 ;; b) echo 127.0.0.12 ;;
	c) echo 127.0.0.13 ;; d) echo 127.0.0.14 ;; e) echo 127.0.0.21 ;;
	f) echo 127.0.0.22 ;; g) echo 127.0.0.23 ;; esac; }

# Every name under test.example resolves, so each lookup can use a fresh
# name and miss the caches.
for n in $NODES e f; do
	echo "address=/test.example/192.0.2.77" >"$T_DIR/ns$n.zone"
	start_dnsmasq "ns$n" "$(ip_of $n)" "$NSPORT" || exit 1
done
for n in $NODES; do echo "$(ip_of $n):$PPORT"; done >"$T_DIR/peers"

write_conf() { # NODE PEERSFILE [EXTRA]
	local ip
	ip=$(ip_of "$1")
	eval "LISTEN_$1=$ip:$LPORT"
	cat >"$T_DIR/$1.codnsd.conf" <<EOF
listen $ip:$LPORT
upstream $ip:$NSPORT
upstream-timeout 1s
lookup-timeout 3s
peer-listen $ip:$PPORT
peers-file $2
heartbeat-discovery 200ms
heartbeat-steady 1s
control-socket $T_DIR/$1.sock
${3:-}
EOF
}
for n in $NODES; do
	write_conf "$n" "$T_DIR/peers"
	start_codnsd "$n" || exit 1
done

neighbours_of() { jget "$1" peers "sum(p['state'] == 'neighbour' for p in j['peers'])"; }
three_neighbours() { [ "$(neighbours_of a)" = 3 ]; }
ok "node a finds its three neighbours by heartbeat" wait_for 10 three_neighbours

# lookups NODE PREFIX COUNT: sequential fresh lookups; prints sources.
lookups() {
	python3 - "$(eval echo \$LISTEN_$1)" "$2" "$3" <<'PY'
import sys, lookup
addr, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = lookup.connect(addr)
for i in range(count):
    s.sendall(lookup.request(i + 1, "%s%d.test.example" % (prefix, i), 4))
    r = lookup.response(s)
    print(r["status"], r["source"], r["peer"] or "-", r["latency_us"])
PY
}
count_of() { grep -c "$1" "$2"; }

# 1. Healthy: every lookup local, no peer query once the delay settles.
lookups a healthy 40 >"$T_DIR/healthy.out"
ok "healthy: 40 lookups found locally" \
	test "$(count_of "^found local" "$T_DIR/healthy.out")" -eq 40
ok "healthy: no peer queries sent" test "$(counter a peer_queries_sent)" -eq 0
ok "healthy: peers' nameservers saw none of a's names" \
	test "$(cat "$T_DIR"/ns[bcd].log | grep -c 'healthy')" -eq 0
# hedged: twice the local p99, so on loopback well under the 200 ms cap
hedged() {
	jget a status "'yes' if j['initial_delay_reason'] == 'healthy' and \
		10 <= j['initial_delay_ms'] < 200 else j"
}
ok "healthy: delay is the hedge (10 to 199 ms), reason healthy" \
	test "$(hedged)" = yes

# 2. a's nameserver stopped: peers answer, the delay falls to 0.
kill -STOP "$DNSMASQ_PID_nsa"
lookups a outage 40 >"$T_DIR/outage.out"
ok "outage: all 40 lookups answered" \
	test "$(count_of "^found" "$T_DIR/outage.out")" -eq 40
ok "outage: answered by peers" \
	test "$(count_of "^found peer" "$T_DIR/outage.out")" -eq 40
ok "outage: delay fell to 0, peers winning" test \
	"$(jget a status "j['initial_delay_ms'], j['initial_delay_reason']")" = \
	"0 peers-winning"
# HRW: each name goes to the same peer every time, and the names spread
# over more than one peer. With one peer per lookup (and local stopped) the
# peer that answers is the first in HRW order, whatever the load.
hrw_same() {
	local i rc=0
	cp "$T_DIR/a.codnsd.conf" "$T_DIR/a.saved"
	echo "peers-per-lookup 1" >>"$T_DIR/a.codnsd.conf"
	ctl a reload >/dev/null || rc=1
	lookups a hrw 16 | cut -d' ' -f3 >"$T_DIR/hrw1.out"
	for i in $(seq 0 15); do ctl a flush "hrw$i.test.example" >/dev/null; done
	lookups a hrw 16 | cut -d' ' -f3 >"$T_DIR/hrw2.out"
	cp "$T_DIR/a.saved" "$T_DIR/a.codnsd.conf"
	ctl a reload >/dev/null || rc=1
	[ "$rc" -eq 0 ] && [ "$(grep -c "^127" "$T_DIR/hrw1.out")" -eq 16 ] &&
		cmp -s "$T_DIR/hrw1.out" "$T_DIR/hrw2.out" &&
		[ "$(sort -u "$T_DIR/hrw1.out" | wc -l)" -gt 1 ] || {
		echo "  peers per name, twice:" >&2
		paste "$T_DIR/hrw1.out" "$T_DIR/hrw2.out" | sed 's/^/    /' >&2
		return 1
	}
}
ok "outage: 16 names, each to the same peer twice, over several peers (HRW)" \
	hrw_same
ok "outage: peers won queries are counted" \
	test "$(counter a peer_queries_won)" -ge 40
ok "outage: codnsctl lookup names the peer that answered" eval \
	"ctl a lookup -4 shown.test.example | grep -qE 'source   peer 127\\.0\\.0\\.1[234]:$PPORT'"

# 3. Back: local answers again and the delay climbs back to 200 ms.
kill -CONT "$DNSMASQ_PID_nsa"
lookups a back 80 >"$T_DIR/back.out"
ok "recovery: all lookups answered" \
	test "$(count_of "^found" "$T_DIR/back.out")" -eq 80
ok "recovery: the last 32 answered locally" \
	test "$(tail -n 32 "$T_DIR/back.out" | grep -c "^found local")" -eq 32
ok "recovery: delay back to the hedge, healthy" test "$(hedged)" = yes

# 4. Kill peer b: it is excluded, lookups still succeed through c and d.
kill -KILL "$CODNSD_PID_b"
b_down() { jget a peers "[p['state'] for p in j['peers'] if p['address'].startswith('$(ip_of b):')][0]" | grep -qx down; }
ok "killed peer is marked down" wait_for 5 b_down
kill -STOP "$DNSMASQ_PID_nsa"
lookups a afterkill 20 >"$T_DIR/afterkill.out"
kill -CONT "$DNSMASQ_PID_nsa"
ok "after the kill: 20 lookups answered by peers" \
	test "$(count_of "^found peer" "$T_DIR/afterkill.out")" -eq 20
ok "after the kill: none from the dead peer" \
	test "$(grep -c " $(ip_of b):" "$T_DIR/afterkill.out")" -eq 0

# The peers file is re-read when it changes: drop d, then put it back.
grep -v "$(ip_of d):" "$T_DIR/peers" >"$T_DIR/peers.new"
mv "$T_DIR/peers.new" "$T_DIR/peers"
listed() { jget a peers "len(j['peers'])"; }
two_listed() { [ "$(listed)" = 2 ]; }
ok "a changed peers file is picked up without a signal" wait_for 6 two_listed
for n in $NODES; do echo "$(ip_of $n):$PPORT"; done >"$T_DIR/peers"
kill -HUP "$CODNSD_PID_a"
three_listed() { [ "$(listed)" = 3 ]; }
ok "SIGHUP re-reads the peers file" wait_for 3 three_listed

# Idle nameserver health is probed, so heartbeats report real health:
# after a heartbeat-steady (1 s here) of silence.
q0=$(jget a status "j['upstreams']['queries']")
probed() { [ "$(jget a status "j['upstreams']['queries']")" -gt "$q0" ]; }
ok "an idle node probes its nameserver" wait_for 4 probed

# 5. Bad datagrams to a: unlisted sender, garbage and a forged answer from
# the dead peer's address. Dropped and counted; clients never see them.
unl0=$(counter a peer_unlisted_datagrams)
bad0=$(counter a peer_bad_datagrams)
unx0=$(counter a peer_unexpected_answers)
python3 - "$(ip_of a)" "$PPORT" "$(ip_of b)" <<'PY'
import socket, struct, sys
a, port, b = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hb = struct.pack("!HBBBIQIHQ", 0xC0D5, 1, 1, 0, 1, 0, 0, 0, 0)
ans = struct.pack("!HBBBQ", 0xC0D5, 1, 4, 0, 12345) + \
    struct.pack("!BBIIBBBB", 0, 3, 300, 0, 0, 0, 0, 1) + bytes([4, 6, 6, 6, 6])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.99", 0))
u.sendto(hb, (a, port))
u.sendto(ans, (a, port))
f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
f.bind((b, port))
f.sendto(b"\xc0\xd5garbage", (a, port))
f.sendto(ans, (a, port))
PY
sleep 0.3
ok "unlisted sender: dropped and counted" \
	test "$(counter a peer_unlisted_datagrams)" -ge $((unl0 + 2))
ok "garbage from a listed address: counted as bad" \
	test "$(counter a peer_bad_datagrams)" -ge $((bad0 + 1))
ok "forged answer for no outstanding id: counted as unexpected" \
	test "$(counter a peer_unexpected_answers)" -ge $((unx0 + 1))
ok "the forged address never reached a client" \
	eval "! grep -q 6.6.6.6 '$T_DIR'/*.out"

# 6. A keyed pair (e, f): unsigned, wrongly signed, stale and replayed
# datagrams are dropped and counted; a well-signed heartbeat is acked.
KEY=$(python3 -c "import os; print(os.urandom(32).hex())")
(umask 077 && echo "$KEY" >"$T_DIR/key")
for n in e f g; do echo "$(ip_of $n):$PPORT"; done >"$T_DIR/peers.keyed"
for n in e f; do
	write_conf "$n" "$T_DIR/peers.keyed" "peer-key-file $T_DIR/key"
	start_codnsd "$n" || exit 1
done
f_neighbour() { jget e peers "[p['state'] for p in j['peers'] if p['address'].startswith('$(ip_of f):')][0]" | grep -qx neighbour; }
ok "keyed peers find each other" wait_for 10 f_neighbour
python3 - "$(ip_of e)" "$PPORT" "$(ip_of g)" "$KEY" >"$T_DIR/keyed.out" <<'PY'
import hmac, hashlib, socket, struct, sys, time
e, port, g, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((g, port))
s.settimeout(0.5)
def beat(seq, flags=1):
    return struct.pack("!HBBBIQIHQ", 0xC0D5, 1, 1, flags, seq, 1, 0, 0, 0)
def sign(body, k, ts):
    m = body + struct.pack("!Q", ts)
    return m + hmac.new(k, m, hashlib.sha256).digest()
def acked(d):
    # e heartbeats g too (it is listed, and a short neighbour set keeps
    # the discovery pace): only an ack answers this datagram.
    s.sendto(d, (e, port))
    end = time.time() + 0.5
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            r = s.recv(2000)
        except socket.timeout:
            return False
        if len(r) > 3 and r[3] == 2:
            return True
    return False
now = int(time.time() * 1000)
good = sign(beat(1), key, now)
res = [
    acked(beat(2, 0)),                               # unsigned
    acked(sign(beat(3), b"x" * 32, now)),            # wrong key
    acked(sign(beat(4), key, now - 3600 * 1000)),    # stale
    acked(good),                                     # good
    acked(good),                                     # replayed
]
print(" ".join("acked" if x else "dropped" for x in res))
PY
ok "keyed: only the good signed heartbeat is acked" \
	grep -qx "dropped dropped dropped acked dropped" "$T_DIR/keyed.out"
ok "keyed: unsigned and wrong-key datagrams counted" \
	test "$(counter e peer_bad_auth)" -ge 2
ok "keyed: stale and replayed datagrams counted" \
	test "$(counter e peer_stale_or_replayed)" -ge 2
kill -STOP "$DNSMASQ_PID_nse"
lookups e keyed 5 >"$T_DIR/keyedq.out"
kill -CONT "$DNSMASQ_PID_nse"
ok "keyed: signed peer queries rescue a stopped nameserver" \
	test "$(count_of "^found peer $(ip_of f):" "$T_DIR/keyedq.out")" -eq 5

# 7. Shutdown of every node is clean.
for n in a c d e f; do
	eval "pid=\$CODNSD_PID_$n"
	ok "node $n exits 0 on SIGTERM" stop_pid "$pid"
done
finish
