#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/pkg/test_unit_run.sh: codnsd started the way the packaged units
# (debian/codnsd.service, with the sockets of debian/codnsd.socket passed
# as systemd passes them) start it, with the packaged conffile
# (debian/codnsd.conf): its ExecStart, its user (DynamicUser: a uid with no
# name, no groups, only the unit's capabilities, set by setpriv), its
# RuntimeDirectory made as systemd makes it, its UMask, and the file system
# as ProtectSystem=strict and PrivateTmp leave it (everything read-only but
# the unit's own directories). It must start, answer a lookup on the
# default lookup socket, and keep its cache file across a restart in a
# place the sandbox lets it write. Runs in its own mount and network
# namespaces: /etc, /run and the nameserver it sees are the test's.
if [ "${UNIT_RUN_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null ||
		! command -v setpriv >/dev/null ||
		! unshare -mn true 2>/dev/null; then
		echo "SKIP: needs root, unshare (mount and network) and setpriv"
		exit 77
	fi
	UNIT_RUN_INNER=1 exec unshare -mn --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../integration/lib.sh"

UNIT=$srcdir/debian/codnsd.service
CONFFILE=$srcdir/debian/codnsd.conf
if [ ! -f "$UNIT" ]; then
	# The release tarball carries no debian/ directory (make distcheck).
	echo "SKIP: no debian/codnsd.service in $srcdir"
	exit 77
fi
# unit KEY: the values of KEY= in the unit, space-separated.
unit() { sed -n "s/^$1=//p" "$UNIT" | tr '\n' ' ' | sed 's/ $//'; }

ip link set lo up
chmod 755 "$T_DIR"

# The node's nameserver, as /etc/resolv.conf names it: port 53 of this
# namespace's loopback.
echo "host-record=www.test.example,192.0.2.7" >"$T_DIR/ns.zone"
echo "host-record=warm.test.example,192.0.2.8" >>"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 53 || exit 1

# /etc as the package leaves it: the conffile at its place.
mkdir -p "$T_DIR/etc/codns"
cp "$CONFFILE" "$T_DIR/etc/codns/codnsd.conf"
echo "nameserver 127.0.0.1" >"$T_DIR/etc/resolv.conf"
chmod -R a+rX "$T_DIR/etc"
mount -t overlay overlay -o "lowerdir=$T_DIR/etc:/etc" /etc
# A /run of this namespace only (the machine's codnsd, if any, is not
# touched) and /var/cache, /var/lib for the unit's other directories.
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=755 tmpfs /var/cache
mount -t tmpfs -o mode=755 tmpfs /var/lib
# The unit's PrivateTmp hides /tmp, where a build tree may be (CI's clone
# can be there): the service runs a copy of codnsd kept in this /run.
mkdir -p /run/codns-test-bin
cp "$CODNSD" /run/codns-test-bin/codnsd
CODNSD=/run/codns-test-bin/codnsd

# DynamicUser=yes: a uid from systemd's dynamic range that has no name.
DUID=
for u in $(seq 61184 61284); do
	getent passwd "$u" >/dev/null || getent group "$u" >/dev/null ||
		{ DUID=$u; break; }
done
[ -n "$DUID" ] || { echo "no free dynamic uid" >&2; exit 1; }
ok "the unit runs codnsd as a dynamic user" test "$(unit DynamicUser)" = yes

# The directories systemd makes for the unit, owned by its user.
WRITABLE=""
mkdirs() {
	local base=$1 mode=$2 d
	for d in $3; do
		mkdir -p "$base/$d"
		chown "$DUID:$DUID" "$base/$d"
		chmod "$mode" "$base/$d"
		WRITABLE="$WRITABLE $base/$d"
	done
}
mkdirs /run "$(unit RuntimeDirectoryMode | sed 's/^$/0755/')" \
	"$(unit RuntimeDirectory)"
mkdirs /var/cache 0755 "$(unit CacheDirectory)"
mkdirs /var/lib 0755 "$(unit StateDirectory)"
ENV="RUNTIME_DIRECTORY=/run/$(unit RuntimeDirectory | cut -d' ' -f1)"
[ -n "$(unit CacheDirectory)" ] &&
	ENV="$ENV CACHE_DIRECTORY=/var/cache/$(unit CacheDirectory | cut -d' ' -f1)"
[ -n "$(unit StateDirectory)" ] &&
	ENV="$ENV STATE_DIRECTORY=/var/lib/$(unit StateDirectory | cut -d' ' -f1)"

# Type=notify: systemd's notify socket, as in /run/systemd/notify.
if [ "$(unit Type)" = notify ]; then
	mkdir -p /run/systemd
	python3 "$srcdir/tests/integration/notify_recv.py" /run/systemd/notify \
		127.0.0.1:7053 120 "$T_DIR/notify.stop" >"$T_DIR/notify.out" &
	T_PIDS="$T_PIDS $!"
	for _ in $(seq 100); do
		grep -q BOUND "$T_DIR/notify.out" 2>/dev/null && break
		sleep 0.05
	done
	chmod 777 /run/systemd/notify # as systemd makes it
	ENV="$ENV NOTIFY_SOCKET=/run/systemd/notify"
fi
[ -n "$(unit WatchdogSec)" ] && ENV="$ENV WATCHDOG_USEC=$(($(unit WatchdogSec | tr -d s) * 1000000))"

EXEC=$(unit ExecStart)
ok "ExecStart runs /usr/sbin/codnsd ($EXEC)" \
	test "${EXEC%% *}" = /usr/sbin/codnsd
EXEC="$CODNSD ${EXEC#* }"
[ "${EXEC#* }" = "$EXEC" ] && EXEC=$CODNSD
CAPS=$(unit AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_//g')

# The sockets of codnsd.socket, held by "systemd" (sd_launch.py) across
# the service's runs.
SOCKET_UNIT=$srcdir/debian/codnsd.socket
SPECS=""
for l in $(sed -n 's/^ListenStream=//p' "$SOCKET_UNIT"); do
	case $l in /*) SPECS="$SPECS unix:$l" ;; *) SPECS="$SPECS tcp:$l" ;; esac
done
for l in $(sed -n 's/^ListenDatagram=//p' "$SOCKET_UNIT"); do
	SPECS="$SPECS udp:$l"
done
mkdir "$T_DIR/sd"

# The service's start, in a mount namespace of its own where
# ProtectSystem=strict and PrivateTmp apply, with the sockets passed.
# shellcheck disable=SC2016
SERVICE='
	awk "{print \$5}" /proc/self/mountinfo | sort -u |
	while read -r mp; do
		case $mp in /proc*|/sys*|/dev*) continue ;; esac
		mount -o remount,bind,ro "$mp" 2>/dev/null
	done
	for d in $WRITABLE; do
		mount --bind "$d" "$d" && mount -o remount,bind,rw "$d" || exit 1
	done
	mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /var/tmp || exit 1
	umask "$UMASK"
	exec setpriv --reuid="$DUID" --regid="$DUID" --clear-groups \
		--no-new-privs --bounding-set="-all,+$CAPS" \
		--inh-caps="-all,+$CAPS" --ambient-caps="-all,+$CAPS" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $ENV \
		LISTEN_FDS="$LISTEN_FDS" LISTEN_PID="$LISTEN_PID" \
		LISTEN_FDNAMES="$LISTEN_FDNAMES" $EXEC'
readies() { grep -cx "READY=1" "$T_DIR/notify.out" 2>/dev/null; }
# wait_ready N: until READY=1 has come N times (10 s).
wait_ready() {
	for _ in $(seq 200); do
		[ "$(readies)" -ge "$1" ] && return 0
		sleep 0.05
	done
	cat "$T_DIR/codnsd.log" >&2
	return 1
}
PID=
start() {
	# shellcheck disable=SC2086
	python3 "$srcdir/tests/integration/sd_launch.py" "$T_DIR/sd" $SPECS \
		-- /usr/bin/unshare -m --propagation private /bin/bash -c \
		"$SERVICE" >"$T_DIR/sd.out" 2>>"$T_DIR/codnsd.log" &
	T_PIDS="$T_PIDS $!"
	wait_ready 1 && PID=$(cat "$T_DIR/sd/pid")
}
# restart: systemctl restart, the sockets staying with systemd.
restart() {
	kill -TERM "$PID"
	for _ in $(seq 200); do
		grep -q "^exit" "$T_DIR/sd.out" && break
		sleep 0.05
	done
	touch "$T_DIR/sd/go"
	wait_ready 2 && PID=$(cat "$T_DIR/sd/pid")
}
export WRITABLE DUID CAPS ENV EXEC SERVICE
export UMASK=$(unit UMask | sed 's/^$/0022/')

# look NAME: the lookup-protocol answer through the default lookup socket.
look() {
	python3 "$LOOKUP_PY" /run/codnsd/lookup.sock "$1" 4
}
found() {
	local out
	out=$(look "$1")
	echo "$out"
	case $out in *"'status': 'found'"*"'$2'"*) ;; *) return 1 ;; esac
}
source_of() { look "$1" | sed -n "s/.*'source': '\([a-z]*\)'.*/\1/p"; }
uid_of() { awk '$1 == "Uid:" {print $3}' "/proc/$1/status"; }

ok "codnsd starts as the unit starts it" start
# The daemon itself, below unshare and setpriv.
DPID=$(pgrep -P "$PID" -x codnsd || echo "$PID")
ok "it runs as the dynamic uid $DUID" test "$(uid_of "$DPID")" = "$DUID"
if [ "$(unit Type)" = notify ]; then
	ready() {
		for _ in $(seq 100); do
			grep -qx "LISTENING yes" "$T_DIR/notify.out" && return 0
			sleep 0.05
		done
		cat "$T_DIR/notify.out"
		return 1
	}
	ok "Type=notify: READY=1 reached systemd's socket, once listening" ready
fi
ok "a lookup through /run/codnsd/lookup.sock is answered" \
	found www.test.example 192.0.2.7
ok "a second lookup of a name is a cache hit" eval \
	'found warm.test.example 192.0.2.8 >/dev/null &&
	[ "$(source_of warm.test.example)" = cache ]'
ok "codnsctl status through /run/codnsd/control.sock" \
	"$CODNSCTL" -s /run/codnsd/control.sock status
ok "it took the sockets of codnsd.socket" \
	grep -q "socket activation: $(echo $SPECS | wc -w) sockets" \
	"$T_DIR/codnsd.log"
ok "restart (systemd keeps the sockets)" restart
ok "SIGTERM: it exited 0" grep -qx "exit 0" "$T_DIR/sd.out"
ok "after the restart: the first lookup of a warm name is a cache hit" \
	test "$(source_of warm.test.example)" = cache
ok "the cache file was written where the sandbox lets it write" \
	grep -q "cache: [1-9][0-9]* entries written to /run/codnsd/" \
	"$T_DIR/codnsd.log"
ok "codnsd.socket's socket files are still there" \
	test -S /run/codnsd/lookup.sock -a -S /run/codnsd/control.sock
touch "$T_DIR/sd/quit"
kill -TERM "$PID"
grep -q "cannot\|fatal" "$T_DIR/codnsd.log" && cat "$T_DIR/codnsd.log"
finish
