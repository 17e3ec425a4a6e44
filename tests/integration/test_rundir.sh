#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_rundir.sh: codnsd creates the missing parents of
# its socket directories (a plain ./configure puts them under
# /usr/local/var/run, which does not exist), root-owned and mode 0755, but
# never below a directory others can write (without the sticky bit), and
# says so in one line. The minimal config (listen, upstream,
# control-socket) starts with the built-in lookup socket, in a mount
# namespace of its own where the run-state directory is missing.
if [ -z "${CODNS_IN_MNTNS:-}" ]; then
	if ! unshare -m --propagation private true 2>/dev/null; then
		echo "test_rundir: SKIP: needs unshare -m"
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
	CODNS_IN_MNTNS=1 exec unshare -m --propagation private \
		"$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port 127.0.0.1)
LPORT=$(free_port 127.0.0.1)
LISTEN_a=127.0.0.1:$LPORT

# conf NAME LINES...: a config with listen and upstream, then LINES.
conf() {
	local name=$1
	shift
	{
		echo "listen 127.0.0.1:$LPORT"
		echo "upstream 127.0.0.1:$NSPORT"
		printf '%s\n' "$@"
	} >"$T_DIR/$name.codnsd.conf"
}

# runs NAME: codnsd NAME starts, answers codnsctl status, stops cleanly.
runs() {
	start_codnsd "$1" || return 1
	ctl "$1" status >/dev/null || return 1
	eval "stop_pid \$CODNSD_PID_$1"
}

# refused NAME PATTERN: codnsd NAME exits 1 at once, logging PATTERN.
refused() {
	local rc=0
	timeout 10 "$CODNSD" -d -c "$T_DIR/$1.codnsd.conf" \
		>"$T_DIR/$1.codnsd.log" 2>&1 || rc=$?
	cat "$T_DIR/$1.codnsd.log"
	[ "$rc" -eq 1 ] && grep -q -- "$2" "$T_DIR/$1.codnsd.log"
}

# owned_0755 DIR...: each a directory of root (our euid), mode 0755.
owned_0755() {
	local d
	for d in "$@"; do
		[ "$(stat -c '%F %u %a' "$d")" = "directory $(id -u) 755" ] ||
			{ echo "# $d: $(stat -c '%F %u %a' "$d")"; return 1; }
	done
}

# --- the parents of both sockets, four levels deep -------------------------
run=$T_DIR/usr/local/var/run/codnsd
conf a "control-socket $run/control.sock" "lookup-socket $run/lookup.sock"
old_umask=$(umask)
umask 077
ok "sockets in $run: missing parents are created" runs a
umask "$old_umask"
ok "the parents are root-owned, mode 0755 (whatever the umask)" \
	owned_0755 "$T_DIR/usr" "$T_DIR/usr/local" "$T_DIR/usr/local/var" \
	"$T_DIR/usr/local/var/run" "$run"

# --- through a symbolic link that only root could have made -----------------
mkdir -m 0755 "$T_DIR/real"
ln -s "$T_DIR/real" "$T_DIR/link"
conf a "control-socket $T_DIR/link/x/codnsd/control.sock" \
	"lookup-socket $T_DIR/link/x/codnsd/lookup.sock"
ok "through a root-owned symlink: created where it points" runs a
ok "... in the link's target" owned_0755 "$T_DIR/real/x"

# --- never below a directory others can write ---------------------------------
mkdir -m 0777 "$T_DIR/open"
chmod 0777 "$T_DIR/open"
conf b "control-socket $T_DIR/b.control.sock" \
	"lookup-socket $T_DIR/open/a/codnsd/lookup.sock"
ok "below a directory writable by others: refused, naming it" \
	refused b "$T_DIR/open is writable by others"
ok "... in one line" test "$(grep -c 'writable by others' \
	"$T_DIR/b.codnsd.log")" -eq 1
ok "... and nothing was created there" test ! -e "$T_DIR/open/a"
mkdir -m 0755 "$T_DIR/theirs"
chown 65534:65534 "$T_DIR/theirs"
conf c "control-socket $T_DIR/theirs/a/codnsd/control.sock"
ok "below a directory of another user: refused" \
	refused c "$T_DIR/theirs is owned by uid 65534"
ln -s "$T_DIR/open" "$T_DIR/openlink"
conf d "control-socket $T_DIR/openlink/a/codnsd/control.sock"
ok "through a symlink to a directory others can write: refused" \
	refused d "$T_DIR/open is writable by others"

# --- the minimal config: listen, upstream, control-socket -------------------
# The built-in lookup socket is $runstatedir/codnsd/lookup.sock. In this
# mount namespace a fresh tmpfs hides the deepest existing directory above
# it, so that the test neither touches the machine's run-state directory
# nor depends on it.
rsd=${CODNS_RUNSTATEDIR:-}
top=$rsd
while [ -n "$top" ] && [ ! -d "$top" ]; do
	top=$(dirname "$top")
done
case "$BUILDDIR/ $srcdir/ $T_DIR/" in
*"$top/"*) top= ;;
esac
if [ -z "$rsd" ] || [ -z "$top" ] || [ "$top" = / ] ||
	! mount -t tmpfs -o mode=0755 codns-rundir "$top"; then
	skip "minimal config: no run-state directory that can be hidden here"
else
	conf m "control-socket $T_DIR/m.control.sock"
	sed -i '/^lookup-socket/d' "$T_DIR/m.codnsd.conf"
	# start_codnsd adds a lookup-socket line to a config without one.
	"$CODNSD" -d -c "$T_DIR/m.codnsd.conf" >"$T_DIR/m.codnsd.log" 2>&1 &
	T_PIDS="$T_PIDS $!"
	mpid=$!
	if wait_tcp 127.0.0.1 "$LPORT" && [ -S "$rsd/codnsd/lookup.sock" ]
	then
		ok "minimal config starts, lookup socket in $rsd/codnsd" true
	else
		cat "$T_DIR/m.codnsd.log"
		ok "minimal config starts, lookup socket in $rsd/codnsd" false
	fi
	ok "... and stops cleanly" stop_pid "$mpid"
	umount "$top"
fi

finish
