#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_cachefile.sh: the cache survives a restart and a
# replacement (codnsd -R) with no configuration: the first lookup of a
# warm name after it is a cache hit, with the TTL counting on from where
# it was (absolute expiry), and an answer whose TTL ran out while codnsd
# was down is not served; nor are answers from other nameservers. The
# file is consumed when read, so a crash
# (kill -9) brings no old copy back; "cache-file none" writes none; a
# damaged file is refused and the daemon starts cold.
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port)
{
	echo "host-record=warm.test.example,192.0.2.1"
	echo "host-record=short.test.example,192.0.2.2,1"
	echo "host-record=other.test.example,192.0.2.3"
} >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

LISTEN_a=127.0.0.1:$(free_port)
mkdir "$T_DIR/run"
conf() {
	cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
upstream 127.0.0.1:$NSPORT
lookup-socket $T_DIR/run/lookup.sock
control-socket $T_DIR/run/control.sock
$1
EOF
}
DUMP=$T_DIR/run/cache.dump
look() { python3 "$LOOKUP_PY" "$T_DIR/run/lookup.sock" "$1" 4; }
field() { look "$1" | sed -n "s/.*'$2': '*\([a-z0-9]*\)'*,.*/\1/p"; }
restart() {
	stop_pid "$CODNSD_PID_a"
	start_codnsd a
}

conf ""
start_codnsd a || exit 1
look warm.test.example >/dev/null
look short.test.example >/dev/null
ok "before: a second lookup is a cache hit" \
	test "$(field warm.test.example source)" = cache
TTL0=$(field warm.test.example ttl)
stop_pid "$CODNSD_PID_a"
ok "SIGTERM writes the cache file beside the sockets, mode 0600" \
	eval '[ "$(stat -c %a "$DUMP")" = 600 ]'
ok "the log says how many entries and how long" \
	grep -q "cache: 2 entries written to $DUMP in" "$T_DIR/a.codnsd.log"
# short.test.example's 1 s TTL runs out while codnsd is down.
sleep 1.5
start_codnsd a || exit 1
ok "after a restart: the first lookup of a warm name is a cache hit" \
	test "$(field warm.test.example source)" = cache
ok "the file is consumed when read" test ! -e "$DUMP"
ok "the TTL went on counting down (absolute expiry, not reset)" \
	test "$(field warm.test.example ttl)" -lt "$TTL0"
ok "an answer that expired while codnsd was down is not served" \
	test "$(field short.test.example source)" = local

# Replacement: the old codnsd writes the file before it hands over.
look other.test.example >/dev/null
OLD=$CODNSD_PID_a
"$CODNSD" -d -R -c "$T_DIR/a.codnsd.conf" >"$T_DIR/r.log" 2>&1 &
NEW=$!
T_PIDS="$T_PIDS $NEW"
wait "$OLD"
ok "after codnsd -R: the new codnsd read the old one's cache" \
	grep -q "cache: [0-9]* entries read from $DUMP" "$T_DIR/r.log"
ok "after codnsd -R: the first lookup of a warm name is a cache hit" \
	test "$(field other.test.example source)" = cache
CODNSD_PID_a=$NEW

# A crash writes nothing, and the file read at start is gone: cold.
kill -KILL "$NEW"
wait "$NEW" 2>/dev/null
start_codnsd a || exit 1
ok "after kill -9: no old copy comes back (a cold miss)" \
	test "$(field warm.test.example source)" = local

# cache-file none: no file.
conf "cache-file none"
restart
rm -f "$DUMP" # the one the daemon before wrote
look warm.test.example >/dev/null
stop_pid "$CODNSD_PID_a"
ok "cache-file none: nothing written" test ! -e "$DUMP"

# A damaged file: refused, removed, the daemon starts cold.
conf ""
printf 'CODNSCF1\0\0\0\0\0\0\0\0garbage' >"$DUMP"
start_codnsd a || exit 1
ok "a damaged file: logged, removed, the daemon serves" eval '
	grep -q "truncated or not a cache file" "$T_DIR/a.codnsd.log" &&
	[ ! -e "$DUMP" ] && [ "$(field warm.test.example source)" = local ]'
# Other nameservers: the answers of the old ones are not taken.
conf "upstream 127.0.0.2:$NSPORT"
restart
look warm.test.example >/dev/null
stop_pid "$CODNSD_PID_a"
conf ""
start_codnsd a || exit 1
ok "another upstream set: the cache file is not used" eval '
	grep -q "written for another resolver" \
		"$T_DIR/a.codnsd.log" &&
	[ "$(field warm.test.example source)" = local ]'
# cache-file PATH: written there.
conf "cache-file $T_DIR/elsewhere.cache"
restart
stop_pid "$CODNSD_PID_a"
ok "cache-file PATH: written there" test -s "$T_DIR/elsewhere.cache"
finish
