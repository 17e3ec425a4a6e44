#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_listeners.sh: what every stream listener promises
# (issue 20, items 2 to 4): each its own pool, a per-client cap (a uid,
# also on loopback TCP whatever 127.x.y.z it connects from; a source
# address elsewhere), and a deadline for a whole frame that trickling
# bytes does not extend: the lookup socket, the TCP lookup listener, the
# DNS stub's TCP side and the nscd socket. And the stub's TCP side sends
# the answers it owes before it closes for a bad frame. Hostile clients
# run as nobody through setpriv and talk only to this test's codnsd.
. "$(dirname "$0")/lib.sh"

need_root_setpriv

NSPORT=$(free_port)
LPORT=$(free_port)
DPORT=$(free_port)
LISTEN_a=127.0.0.1:$LPORT
open_run_dir
LSOCK=$RUN/lookup.sock

echo "host-record=www.test.example,192.0.2.10" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
lookup-socket $LSOCK
control-socket $RUN/control.sock
nscd-socket $RUN/nscd.sock
dns-listen 127.0.0.1:$DPORT
upstream 127.0.0.1:$NSPORT
lookup-timeout 2s
max-clients 64
max-clients-per-user 16
peers-file $T_DIR/no-peers
EOF
start_codnsd a || exit 1

# dns_tcp N [EXTRA]: N TCP queries for www A, one connection each, EXTRA
# (hex) sent after the query in the same write; prints how many got an
# answer holding 192.0.2.10. With EXTRA it reads until the daemon closes.
DNS_PY='
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
extra = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b""
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in "www.test.example".split("."))
q += b"\0" + struct.pack(">HH", 1, 1)
ok = 0
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.sendall(struct.pack(">H", len(q)) + q + extra)
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
            whole = len(got) >= 2 and len(got) >= 2 + struct.unpack(">H", got[:2])[0]
            if whole and not extra:
                break
        if bytes([192, 0, 2, 10]) in got:
            ok += 1
        s.close()
    except OSError:
        pass
print(ok)
'
dns_tcp() {
	"$PYN" -c "$DNS_PY" "$DPORT" "$@"
}

# held NAME: how many connections hostile NAME still had at its end.
held() {
	for _ in $(seq 150); do
		grep -q "^open=" "$T_DIR/h.$1" && break
		sleep 0.1
	done
	sed -n "s/^open=\([0-9]*\).*/\1/p" "$T_DIR/h.$1"
}

# --- item 2: one user from many loopback addresses -------------------------
# nobody opens 70 silent TCP connections, each from its own 127.0.X.Y:
# the TCP pool caps it by uid (16), and the UNIX socket has its own pool.
hostile_as nobody tcp silent "$LISTEN_a" 70 6 rotate
n=$(answered "$LSOCK" 5)
ok "UNIX socket: root served while TCP is hammered ($n of 5)" [ "$n" -eq 5 ]
n=$(as_answered nobody "$LSOCK" 3)
ok "UNIX socket: nobody itself served there too ($n of 3)" [ "$n" -eq 3 ]
n=$(as_answered daemon "$LISTEN_a" 5 127.0.0.1)
ok "TCP: another uid served from 127.0.0.1 ($n of 5)" [ "$n" -eq 5 ]
n=$(as_answered nobody "$LISTEN_a" 3 127.9.9.9)
ok "TCP: nobody from a fresh address gets nothing more ($n of 3)" \
	[ "$n" -eq 0 ]
n=$(held tcp)
ok "TCP: nobody kept at most 16 of 70 from 70 addresses ($n)" \
	[ "${n:-99}" -le 16 ]

# A frame trickled over TCP is cut off as on the socket.
out=$("$PYN" "$HOSTILE" dribble "$LISTEN_a" 1 6)
ok "TCP lookup: a frame dribbled a byte at a time is cut off ($out)" \
	grep -q "closed=1" <<<"$out"

# --- item 3: the DNS stub's TCP side -----------------------------------------
hostile_as nobody stub silent "127.0.0.1:$DPORT" 24 5
n=$(as daemon "$PYN" -c "$DNS_PY" "$DPORT" 3)
ok "stub TCP: another uid served while nobody holds its cap ($n of 3)" \
	[ "$n" -eq 3 ]
n=$(dns_tcp 3)
ok "stub TCP: root served ($n of 3)" [ "$n" -eq 3 ]
n=$(held stub)
ok "stub TCP: nobody kept at most 16 of 24 ($n)" [ "${n:-99}" -le 16 ]
SLOW0=$(counter a dns_tcp_slow_closed)
out=$("$PYN" "$HOSTILE" dribble "127.0.0.1:$DPORT" 1 6)
ok "stub TCP: a query dribbled a byte at a time is cut off ($out)" \
	grep -q "closed=1" <<<"$out"
ok "stub TCP: counted as slow" \
	eval '[ "$(counter a dns_tcp_slow_closed)" -gt "${SLOW0:-0}" ]'

# --- item 3: the nscd socket -------------------------------------------------
out=$("$PYN" "$HOSTILE" nscd "$RUN/nscd.sock" 1 6)
ok "nscd: a request trickled a byte at a time is cut off ($out)" \
	grep -q "closed=1" <<<"$out"

# --- item 4: the stub sends what it owes before closing ---------------------
n=$(dns_tcp 1 0000)
ok "stub TCP: query + zero-length frame: the answer, then close ($n)" \
	[ "$n" -eq 1 ]
n=$(dns_tcp 1 0000)
ok "stub TCP: the same for a cache hit ($n)" [ "$n" -eq 1 ]
n=$(dns_tcp 1 ffff)
ok "stub TCP: query + oversized frame: the answer, then close ($n)" \
	[ "$n" -eq 1 ]

ok "SIGTERM exits 0" stop_pid "$CODNSD_PID_a"
finish
