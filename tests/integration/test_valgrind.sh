#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_valgrind.sh: codnsd under valgrind --leak-check=full
# through the local-path integration test, then shut down by SIGTERM in
# the middle of a race: client lookups waiting, its own local queries out,
# peer queries out to a node that is itself resolving them for the peer.
# Fails on any valgrind error or leak.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export CODNSD_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"

# 1. The local path (test_local.sh), its counts added to ours.
bash "$here/test_local.sh" >"$T_DIR/local.out" 2>&1
sed -e 's/^\([0-9]* passed, \)/test_local.sh: \1/' "$T_DIR/local.out"
read -r p f s < <(sed -n \
	's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
	"$T_DIR/local.out" | tail -n 1)
T_PASS=$((T_PASS + ${p:-0}))
T_FAIL=$((T_FAIL + ${f:-1}))
T_SKIP=$((T_SKIP + ${s:-0}))

# 2. Two nodes whose nameservers are both stopped: a asks b, b resolves
# for a and waits too. SIGTERM both with all of that outstanding.
# Under valgrind, on a machine busy with the rest of the suite, heartbeat
# round trips can pass the 90 ms default of neighbor-rtt-max, and b would
# stay "far" (CI saw it once): the limit is 10 s here.
IP_a=127.0.0.31
IP_b=127.0.0.32
NSPORT=$(free_port "$IP_a")
PPORT=$(free_port "$IP_a")
LPORT=$(free_port "$IP_a")
for n in a b; do
	eval "ip=\$IP_$n"
	echo "address=/test.example/192.0.2.77" >"$T_DIR/ns$n.zone"
	start_dnsmasq "ns$n" "$ip" "$NSPORT" || exit 1
done
printf '%s:%s\n' "$IP_a" "$PPORT" "$IP_b" "$PPORT" >"$T_DIR/peers"
for n in a b; do
	eval "ip=\$IP_$n"
	eval "LISTEN_$n=$ip:$LPORT"
	printf '%s\n' "listen $ip:$LPORT" "upstream $ip:$NSPORT" \
		"upstream-timeout 30s" "lookup-timeout 30s" \
		"peer-listen $ip:$PPORT" "peers-file $T_DIR/peers" \
		"heartbeat-discovery 200ms" "control-socket $T_DIR/$n.sock" \
		"neighbor-rtt-max 10s" >"$T_DIR/$n.codnsd.conf"
	start_codnsd "$n" || exit 1
done
# wait_until TRIES COMMAND...: poll every 0.2 s, at most TRIES times.
wait_until() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}
b_neighbour() {
	[ "$(jget a peers "[p['state'] for p in j['peers']][0]")" = neighbour ]
}
ok "race: b becomes a's neighbour" wait_until 150 b_neighbour
b_neighbour || ctl a peers 2>&1 | sed 's/^/# a peers: /'
kill -STOP "$DNSMASQ_PID_nsa" "$DNSMASQ_PID_nsb"
python3 - "$LISTEN_a" >"$T_DIR/race.out" 2>&1 <<'PY' &
import sys, lookup
s = lookup.connect(sys.argv[1])
s.settimeout(60)
for i in range(8):
    s.sendall(lookup.request(i + 1, "race%d.test.example" % i, 4))
for i in range(8):
    print(lookup.response(s)["status"])
PY
RACE_PID=$!
sent() { [ "$(jget a stats "j['counters']['peer_queries_sent']")" -ge 8 ]; }
ok "race: a sent its peer queries" wait_until 150 sent
ok "race: b has answered none of them" test \
	"$(jget b stats "j['counters']['peer_queries_served']")" -eq 0
ok "race: a's lookups are all in flight" \
	test "$(jget a status "j['inflight']")" -eq 8
ok "race: b's lookups for a are in flight" \
	test "$(jget b status "j['inflight']")" -eq 8
ok "race: SIGTERM with peer queries out, a exits 0" stop_pid "$CODNSD_PID_a"
ok "race: SIGTERM while serving a peer, b exits 0" stop_pid "$CODNSD_PID_b"
wait "$RACE_PID"
# SIGTERM drains, then answers "unavailable" (NSS falls through to dns),
# never try-again (codnsd(8), SIGNALS).
ok "race: the waiting client heard unavailable 8 times" \
	test "$(grep -c unavail "$T_DIR/race.out")" -eq 8
for n in a b; do
	ok "race: valgrind on $n: no errors" \
		grep -q "ERROR SUMMARY: 0 errors" "$T_DIR/$n.codnsd.log"
	ok "race: valgrind on $n: no leaks" eval \
		"! grep -qE '(definitely|indirectly) lost: [1-9]' '$T_DIR/$n.codnsd.log'"
done
finish
