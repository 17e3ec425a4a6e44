#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_filewatch.sh: codnsd follows resolv.conf, the
# peers file and the hosts file (nscd) through inotify (libev's ev_stat,
# codnsd/filewatch.c), not by polling their stat: the kernel lists a
# watch on each (/proc/PID/fdinfo), on the target of a symbolic link
# too; and it sees what inotify alone would miss: a link pointed
# elsewhere, a file rewritten through its link, and a second rewrite of
# the same size within the same second (libev compares whole seconds).
. "$(dirname "$0")/lib.sh"

LPORT=$(free_port 127.0.0.1)
PPORT=$(free_port 127.0.0.1)
LISTEN_a=127.0.0.1:$LPORT
printf 'nameserver 127.0.0.2\n' >"$T_DIR/rc.one"
printf 'nameserver 127.0.0.5\n' >"$T_DIR/rc.two"
ln -s "$T_DIR/rc.one" "$T_DIR/resolv.conf"
echo "127.0.0.2:$PPORT" >"$T_DIR/peers"
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
resolv-conf $T_DIR/resolv.conf
peer-listen 127.0.0.1:$PPORT
peers-file $T_DIR/peers
control-socket $T_DIR/a.sock
nscd-socket $T_DIR/nscd.sock
EOF
start_codnsd a || exit 1

# watched: the inode numbers (hex) of the daemon's inotify watches.
watched() {
	cat /proc/"$CODNSD_PID_a"/fdinfo/* 2>/dev/null |
		sed -n 's/^inotify wd:[0-9a-f]* ino:\([0-9a-f]*\) .*/\1/p' |
		sort -u
}
# is_watched PATH: the inode of PATH itself (not following a link).
is_watched() {
	watched | grep -qx "$(printf '%x' "$(stat -c %i "$1")")"
}
# wait_status PATTERN: until codnsctl status matches (at most 10 s).
wait_status() {
	local i
	for i in $(seq 1 100); do
		ctl a status 2>/dev/null | grep -q "$1" && return 0
		sleep 0.1
	done
	ctl a status | grep -i nameserver
	return 1
}

watched | sed 's/^/# watched inode /'
ok "resolv.conf (a link) is watched through inotify" \
	is_watched "$T_DIR/resolv.conf"
ok "... and so is the file it points to" is_watched "$T_DIR/rc.one"
ok "the peers file is watched through inotify" is_watched "$T_DIR/peers"
ok "the hosts file (nscd-socket) is watched through inotify" \
	is_watched /etc/hosts
ok "resolv.conf read at start" wait_status '127\.0\.0\.2:53'

# Through the link: the target rewritten in place.
printf 'nameserver 127.0.0.3\n' >"$T_DIR/rc.one"
ok "the link's target rewritten: followed" wait_status '127\.0\.0\.3:53'
# Twice within one second, the same size: libev sees the first only.
# Each write starts right after a second begins, so both fall within it.
python3 - "$T_DIR/rc.one" <<'PY'
import sys, time
time.sleep(1.05 - time.time() % 1)
for ns in ("127.0.0.6", "127.0.0.4"):
    with open(sys.argv[1], "w") as f:
        f.write("nameserver %s\n" % ns)
    time.sleep(0.2)
PY
ok "rewritten twice in one second: the second one wins" \
	wait_status '127\.0\.0\.4:53'
# The link pointed elsewhere (a new link renamed over it).
ln -s "$T_DIR/rc.two" "$T_DIR/resolv.conf.new"
mv -T "$T_DIR/resolv.conf.new" "$T_DIR/resolv.conf"
ok "the link pointed elsewhere: followed" wait_status '127\.0\.0\.5:53'
ok "... and its new target is watched" is_watched "$T_DIR/rc.two"
printf 'nameserver 127.0.0.7\n' >"$T_DIR/rc.two"
ok "... and followed" wait_status '127\.0\.0\.7:53'

# The peers file replaced by rename.
printf '127.0.0.2:%s\n127.0.0.3:%s\n' "$PPORT" "$PPORT" >"$T_DIR/peers.new"
mv "$T_DIR/peers.new" "$T_DIR/peers"
for _ in $(seq 1 100); do
	grep -q "peers file changed: 2 peers" "$T_DIR/a.codnsd.log" && break
	sleep 0.1
done
ok "the peers file replaced: followed" \
	grep -q "peers file changed: 2 peers" "$T_DIR/a.codnsd.log"
ok "... and the new file is watched" is_watched "$T_DIR/peers"
ok "codnsd still running" kill -0 "$CODNSD_PID_a"
finish
