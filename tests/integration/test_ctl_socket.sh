#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_ctl_socket.sh: the control socket's life cycle: a
# second daemon is refused, a stale socket replaced, shutdown removes it.
. "$(dirname "$0")/ctl_lib.sh"

# --- socket life cycle ----------------------------------------------------------

second_refused() {
	local p2 rc=0
	p2=$(free_port)
	sed "s/^listen .*/listen 127.0.0.1:$p2/" "$T_DIR/a.codnsd.conf" \
		>"$T_DIR/b.codnsd.conf"
	timeout 10 "$CODNSD" -d -c "$T_DIR/b.codnsd.conf" \
		>"$T_DIR/b.codnsd.log" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
		grep -q "another codnsd is serving" "$T_DIR/b.codnsd.log" &&
		ctl a status >/dev/null
}
ok "a second daemon on the same socket is refused" second_refused

stale_removed() {
	kill -KILL "$CODNSD_PID_a"
	wait "$CODNSD_PID_a" 2>/dev/null
	[ -S "$SOCK" ] || return 1
	start_codnsd a && ctl a status >/dev/null
}
ok "a stale socket left by a killed daemon is replaced" stale_removed
ok "clean shutdown removes the socket" eval \
	'stop_pid "$CODNSD_PID_a" && ! [ -e "$SOCK" ]'

finish
