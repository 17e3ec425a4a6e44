#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_transport.sh: the lookup socket and the control
# socket against hostile local users (issue 8): lookups over the UNIX
# socket, answers owed before a bad frame, frame deadlines, per-user caps
# with a reserve (by uid, on TCP too), the control socket's
# caps, and top refused to users outside control-group. Hostile clients run
# as nobody, daemon and bin through setpriv; they only talk to this test's
# codnsd.
. "$(dirname "$0")/lib.sh"

need_root_setpriv

NSPORT=$(free_port)
LPORT=$(free_port)
LISTEN_a=127.0.0.1:$LPORT
open_run_dir
LSOCK=$RUN/lookup.sock
CSOCK=$RUN/control.sock

cat >"$T_DIR/ns.zone" <<EOF
host-record=www.test.example,192.0.2.10
EOF
numbered_hosts ns owed 10 20
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
lookup-socket $LSOCK
control-socket $CSOCK
upstream 127.0.0.1:$NSPORT
lookup-timeout 2s
max-clients 64
max-clients-per-user 16
peers-file $T_DIR/no-peers
EOF
start_codnsd a || exit 1

# --- the lookup socket ----------------------------------------------------
ok "lookup socket exists, mode 0666" eval \
	'[ -S "$LSOCK" ] && [ "$(stat -c %a "$LSOCK")" = 666 ]'
ok "codnsctl lookup goes through the lookup socket" eval \
	'ctl a lookup -4 www.test.example | grep -q "address  192.0.2.10"'
ok "codnsctl lookup -a HOST:PORT uses TCP" eval \
	'ctl a lookup -a "$LISTEN_a" -4 www.test.example | grep -q 192.0.2.10'
ok "nobody can look up through the socket" \
	eval '[ "$(as_answered nobody "$LSOCK" 1)" = 1 ]'
mkdir -m 0777 "$T_DIR/open"
ln -s "$LSOCK" "$T_DIR/open/l.sock"
ok "the same socket reached through a directory others may write: refused" \
	eval '! ctl a lookup -a "$T_DIR/open/l.sock" www.test.example \
	    2>"$T_DIR/open.err" && grep -q "not trusted" "$T_DIR/open.err"'

# --- defect 3: an answer owed is sent before the close --------------------
owed() {
	"$PYN" - "$1" "$2" <<'PY'
import sys, lookup
s = lookup.connect(sys.argv[1])
# A valid request and a bad frame (length 0) in one write.
s.sendall(lookup.request(7, sys.argv[2], 4) + b"\x00\x00")
r = lookup.response(s)
try:
    lookup.response(s)
    print("no close")
except EOFError:
    print("ok" if r["id"] == 7 and r["status"] == "found" else "bad %r" % r)
PY
}
ok "UNIX: valid request + bad frame: answer (not cached), then close" \
	eval '[ "$(owed "$LSOCK" owed1.test.example)" = ok ]'
ok "UNIX: valid request + bad frame: answer (cached), then close" \
	eval '[ "$(owed "$LSOCK" owed1.test.example)" = ok ]'
ok "TCP: valid request + bad frame: answer, then close" \
	eval '[ "$(owed "$LISTEN_a" owed2.test.example)" = ok ]'

# --- defect 2: a frame has a deadline that dribbling does not extend ------
SLOW0=$(counter a clients_slow_closed)
out=$("$PYN" "$HOSTILE" dribble "$LSOCK" 1 6)
ok "a frame dribbled a byte at a time is cut off ($out)" \
	grep -q "closed=1" <<<"$out"
ok "and counted as slow" eval '[ "$(counter a clients_slow_closed)" -gt "$SLOW0" ]'

# --- defect 2: per-uid caps and the reserve on the lookup socket ----------
# Four hostile uids each try 24 silent connections: 16 each at most, and
# the last 64/16 = 4 slots stay for root and uids holding (almost) none.
# Silent connections are closed by the daemon after 10 s idle; the
# hostiles hold theirs for 9.5 s.
silent_as() { hostile_as "$1" "$1" silent "$LSOCK" 24 9.5; } # USER
silent_as nobody
NOB=$(as_answered nobody "$LSOCK" 3)
ok "the capped uid itself gets nothing more ($NOB of 3)" [ "$NOB" -eq 0 ]
for u in daemon bin games; do
	silent_as "$u"
done
HELD=$(jget a status "j['clients']['lookup']")
ok "one uid holds at most 16, the reserve stays free ($HELD held)" \
	eval '[ "$HELD" -le 60 ] && [ "$HELD" -ge 48 ]'
ROOT=$(answered "$LSOCK" 10)
ok "root's lookups answered meanwhile ($ROOT of 10)" [ "$ROOT" -eq 10 ]
SYS=$(as_answered sys "$LSOCK" 10)
ok "a uid holding nothing is served meanwhile ($SYS of 10)" [ "$SYS" -eq 10 ]
wait_hostiles() {
	local u
	for u in "$@"; do
		for _ in $(seq 100); do
			grep -q "^open=" "$T_DIR/h.$u" && break
			sleep 0.1
		done
	done
}
MAIL=$(as_answered mail "$LSOCK" 10)
ok "and another ($MAIL of 10)" [ "$MAIL" -eq 10 ]
wait_hostiles nobody daemon bin games
ok "nobody kept at most 16 of 24 ($(tail -n 1 "$T_DIR/h.nobody"))" eval \
	'[ "$(sed -n "s/^open=\([0-9]*\).*/\1/p" "$T_DIR/h.nobody")" -le 16 ]'

# TCP on loopback: the cap is per uid (the owner of the connecting socket,
# from inet_diag), whatever source address it picks (issue 20).
hostile_as nobody tcp silent "$LISTEN_a" 24 4 127.0.0.2
OTHER=$(as_answered daemon "$LISTEN_a" 10 127.0.0.2)
ok "TCP: another uid from the same address is served ($OTHER of 10)" \
	[ "$OTHER" -eq 10 ]
ROOT=$(answered "$LISTEN_a" 10 127.0.0.1)
ok "TCP: root is served ($ROOT of 10)" [ "$ROOT" -eq 10 ]
SAME=$(as_answered nobody "$LISTEN_a" 3 127.0.0.3)
ok "TCP: the capped uid gets nothing more from another address ($SAME of 3)" \
	[ "$SAME" -eq 0 ]
wait_hostiles tcp
ok "TCP: nobody kept at most 16 of 24 ($(tail -n 1 "$T_DIR/h.tcp"))" eval \
	'[ "$(sed -n "s/^open=\([0-9]*\).*/\1/p" "$T_DIR/h.tcp")" -le 16 ]'

# --- defect 2: the control socket ------------------------------------------
hostile_as nobody ctl halfline "$CSOCK" 64 4
ok "64 half lines from nobody: root's status still answered" \
	eval 'ctl a status | grep -q "^uptime"'
ok "another uid's status answered too" \
	as daemon "$CODNSCTL" -s "$CSOCK" status
wait_hostiles ctl
ok "nobody held at most 8 control slots ($(tail -n 1 "$T_DIR/h.ctl"))" eval \
	'[ "$(sed -n "s/^open=\([0-9]*\).*/\1/p" "$T_DIR/h.ctl")" -le 8 ]'

# --- defect 7: top needs root, the daemon's uid or control-group ----------
ok "status and stats are open to nobody" eval \
	'as nobody "$CODNSCTL" -s "$CSOCK" status >/dev/null &&
	 as nobody "$CODNSCTL" -s "$CSOCK" stats >/dev/null'
top_refused() {
	local rc=0
	as nobody "$CODNSCTL" -s "$CSOCK" top >"$T_DIR/top.out" \
		2>"$T_DIR/top.err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "permission denied" "$T_DIR/top.err" &&
		! grep -q test.example "$T_DIR/top.out"
}
ok "top refused to nobody" top_refused
ok "top allowed to root" eval 'ctl a top | grep -q www.test.example'
echo "control-group nogroup" >>"$T_DIR/a.codnsd.conf"
ctl a reload >/dev/null
ok "top allowed to nobody with control-group nogroup" eval \
	'as nobody "$CODNSCTL" -s "$CSOCK" top | grep -q www.test.example'
ok "top still refused to daemon (not in nogroup)" eval \
	'! as daemon "$CODNSCTL" -s "$CSOCK" top >/dev/null 2>&1'

ok "SIGTERM exits 0" stop_pid "$CODNSD_PID_a"
ok "the lookup socket is removed" test ! -e "$LSOCK"
finish
