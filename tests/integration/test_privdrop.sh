#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_privdrop.sh: codnsd with `user nobody` binds a
# privileged port as root, then runs as nobody (real, effective and saved
# ids, no supplementary groups, no capabilities), still serves lookups,
# reloads, and removes its control socket at exit (the run directory it
# made belongs to nobody).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "SKIP: needs root and a user nobody"
	exit 77
fi
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
# nobody must be able to reach the run directory inside T_DIR.
chmod 755 "$T_DIR"
NSPORT=$(free_port 127.0.0.1)
# A free port under 1024: only root can bind it, so serving there shows the
# bind came before the drop.
LPORT=$(python3 -c '
import socket
for port in range(900, 1000):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
')
echo "address=/test.example/192.0.2.44" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1
LISTEN_a=127.0.0.1:$LPORT
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen 127.0.0.1:$LPORT
upstream 127.0.0.1:$NSPORT
control-socket $T_DIR/run/control.sock
user nobody
EOF
chmod 644 "$T_DIR/a.codnsd.conf"
start_codnsd a || exit 1
PID=$CODNSD_PID_a

# ids_are FIELD VALUE: every id on the /proc status line FIELD is VALUE.
ids_are() {
	awk -v f="$1:" -v v="$2" '$1 == f {
		for (i = 2; i <= NF; i++) if ($i != v) bad = 1; found = 1 }
		END { exit !(found && !bad) }' "/proc/$PID/status"
}
status_line() { grep "^$1:" "/proc/$PID/status"; }
is() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'" >&2; return 1; }; }

ok "bound 127.0.0.1:$LPORT (a privileged port)" \
	sh -c "ss -tln | grep -q '127.0.0.1:$LPORT '"
ok "real, effective, saved and fs uid are nobody" ids_are Uid "$NOBODY"
ok "real, effective, saved and fs gid are nobody's group" \
	ids_are Gid "$NOGROUP"
ok "no supplementary group but nobody's own" \
	is "$(status_line Groups | awk '{$1 = ""; print $0}' | xargs)" "$NOGROUP"
ok "no effective capability" is "$(status_line CapEff | awk '{print $2}')" \
	0000000000000000
ok "no permitted capability (root cannot come back)" \
	is "$(status_line CapPrm | awk '{print $2}')" 0000000000000000
ok "the log says so" grep -q "running as nobody" "$T_DIR/a.codnsd.log"
lookup_ok() { ctl a lookup "$1" | grep -q 192.0.2.44; }
ok "it serves lookups" lookup_ok one.test.example
ok "the run directory belongs to nobody" \
	is "$(stat -c %u "$T_DIR/run")" "$NOBODY"
ok "a reload as nobody works" ctl a reload
ok "it serves lookups after the reload" lookup_ok two.test.example
ok "it stops cleanly" stop_pid "$PID"
ok "and removed its control socket" test ! -e "$T_DIR/run/control.sock"
finish
