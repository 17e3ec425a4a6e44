#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_unit.sh: scripts/codnsd.service has the sandboxing
# options that fit codnsd, and systemd-analyze (which works without a
# running systemd) finds the unit valid and rates its exposure low.
. "$(dirname "$0")/lib.sh"

UNIT=$srcdir/scripts/codnsd.service
# has KEY=VALUE: the unit sets it (exactly this line).
has() { grep -qx "$1" "$UNIT" || { echo "missing: $1" >&2; return 1; }; }
for opt in DynamicUser=yes RuntimeDirectory=codnsd ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes \
	CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
	SystemCallFilter=@system-service "SystemCallFilter=~@privileged @resources" \
	SystemCallArchitectures=native MemoryDenyWriteExecute=yes \
	RestrictNamespaces=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
	ProtectControlGroups=yes RestrictSUIDSGID=yes LockPersonality=yes; do
	ok "the unit sets $opt" has "$opt"
done
ok "the unit does not run codnsd as root" \
	sh -c "! grep -qE '^User=root' '$UNIT'"

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: no systemd-analyze (package systemd)"
	finish
	exit
fi
# The unit as installed names /usr/sbin/codnsd and man pages that may not
# be there; verify a copy that runs the built daemon instead.
mkdir -p "$T_DIR/unit"
sed -e "s|^ExecStart=/usr/sbin/codnsd|ExecStart=$BUILDDIR/codnsd/codnsd|" \
	-e '/^Documentation=/d' "$UNIT" >"$T_DIR/unit/codnsd.service"
sed -e '/^Documentation=/d' "$srcdir/scripts/codnsd.socket" \
	>"$T_DIR/unit/codnsd.socket"
verify() {
	local out
	out=$(systemd-analyze verify "$T_DIR/unit/$1" 2>&1)
	echo "$out"
	[ -z "$out" ]
}
ok "systemd-analyze verify: no complaint" verify codnsd.service
ok "systemd-analyze verify codnsd.socket: no complaint" verify codnsd.socket
# The socket unit holds the sockets of the packaged configuration, which
# codnsd matches by address (codnsd(8), RESTARTS).
ok "codnsd.socket: the default lookup and control sockets and listener" \
	eval 'grep -qx "ListenStream=/run/codnsd/lookup.sock" "$T_DIR/unit/codnsd.socket" &&
	grep -qx "ListenStream=/run/codnsd/control.sock" "$T_DIR/unit/codnsd.socket" &&
	grep -qx "ListenStream=127.0.0.1:7053" "$T_DIR/unit/codnsd.socket"'
ok "the service is Type=notify and keeps its run directory" \
	eval 'grep -qx Type=notify "$UNIT" &&
	grep -qx RuntimeDirectoryPreserve=yes "$UNIT"'
# Exposure from 0 (locked down) to 10 (unprotected); under 2.0 is what
# systemd calls OK.
exposure() {
	systemd-analyze security --offline=yes \
		"$T_DIR/unit/codnsd.service" 2>&1 |
		sed -n 's/.*Overall exposure level for codnsd.service: \([0-9.]*\).*/\1/p'
}
score=$(exposure)
echo "exposure: ${score:-none}"
ok "systemd-analyze security: exposure under 2.0" \
	python3 -c "import sys; sys.exit(not (0 <= float('${score:-99}') < 2.0))"
finish
