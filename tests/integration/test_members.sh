#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_members.sh: membership at default heartbeat
# settings (issue 15) on a nine-node loopback cluster: a node started
# 10 s after the others is adopted as a neighbour within 3 s; an idle node
# whose nameserver refuses ". NS" (and any name it does not serve) is not
# reported failing; with a node's nameserver and all its neighbours
# stopped, every lookup started 2 s later is answered by live peers;
# codnsctl shows nameserver sets.
. "$(dirname "$0")/lib.sh"

LPORT=$(free_port 127.0.0.51)
PPORT=$(free_port 127.0.0.51)
NSPORT=$(free_port 127.0.0.50)
# a: 127.0.0.51 on nameserver nsa (127.0.0.50); b..h: .52-.58 share nsb
# (.60); l, the late node: .59 on nsl (.61).
NODES="a b c d e f g h"
ip_of() { case $1 in a) echo 127.0.0.51 ;; b) echo 127.0.0.52 ;;
	c) echo 127.0.0.53 ;; d) echo 127.0.0.54 ;; e) echo 127.0.0.55 ;;
	f) echo 127.0.0.56 ;; g) echo 127.0.0.57 ;; h) echo 127.0.0.58 ;;
	l) echo 127.0.0.59 ;; esac; }
ns_of() { case $1 in a) echo 127.0.0.50 ;; l) echo 127.0.0.61 ;;
	*) echo 127.0.0.60 ;; esac; }

for ns in nsa:127.0.0.50 nsb:127.0.0.60 nsl:127.0.0.61; do
	echo "address=/test.example/192.0.2.77" >"$T_DIR/${ns%%:*}.zone"
	start_dnsmasq "${ns%%:*}" "${ns#*:}" "$NSPORT" || exit 1
done
for n in $NODES l; do echo "$(ip_of $n):$PPORT"; done >"$T_DIR/peers"

# Default heartbeat settings; three neighbours, so the eight early nodes
# reach a full set and the steady pace before the late one starts.
for n in $NODES l; do
	eval "LISTEN_$n=$(ip_of $n):$LPORT"
	cat >"$T_DIR/$n.codnsd.conf" <<EOF
listen $(ip_of $n):$LPORT
upstream $(ns_of $n):$NSPORT
peer-listen $(ip_of $n):$PPORT
peers-file $T_DIR/peers
neighbors 3
control-socket $T_DIR/$n.sock
EOF
done

state_at() { # NODE PEER
	jget "$1" peers "[p['state'] for p in j['peers'] if p['address'] == '$(ip_of $2):$PPORT'][0]"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# poll_by DEADLINE_MS COMMAND...: poll every 0.1 s until the deadline
# (now_ms clock); fails if COMMAND never succeeded by then.
poll_by() {
	local end=$1
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
# poll_until SECONDS COMMAND...: the same, SECONDS from now.
poll_until() {
	local s=$1
	shift
	poll_by $(( $(now_ms) + s * 1000 )) "$@"
}

START=$(now_ms)
for n in $NODES; do start_codnsd "$n" || exit 1; done
full_set() { [ "$(jget a status "j['membership']['neighbours']")" = 3 ]; }
ok "node a finds three neighbours" poll_until 10 full_set
steady() { [ "$(jget a status "j['membership']['mode']")" = steady ]; }
ok "node a is in steady mode with the late node still absent" poll_until 5 steady
ok "the absent node is not a candidate" eval \
	'state_at a l | grep -Eqx "probing|down"'

# 1. Nameserver sets are shown: a's differs from everyone else's.
a_sets=$(jget a peers "sorted(set((p['ns_set_id'], p['ns_set_shared']) for p in j['peers'] if p['state'] == 'neighbour'))")
b_set=$(jget b status "[('%s' % j['membership']['ns_set_id'], False)]")
ok "peers: a's neighbours show b's nameserver set, not shared with a" \
	eval '[ -n "$b_set" ] && [ "$a_sets" = "$b_set" ]'
ok "peers text has an NS-SET column" eval \
	'ctl a peers | head -1 | grep -q "NS-SET"'
ok "status: a's neighbours do not all share its nameservers" \
	test "$(jget a status "j['membership']['all_neighbours_share_ns_set']")" = False
ok "status text names the neighbour set" eval \
	'ctl a status | grep -Eq "^neighbours +3 \(steady\), 0 on our nameserver set"'

# 2. An idle node whose nameserver refuses ". NS" is healthy.
ok "precondition: nsa refuses . NS" eval \
	"dig +time=1 +tries=1 @127.0.0.50 -p $NSPORT . NS | grep -q 'status: REFUSED'"
probed() { [ "$(jget a status "j['upstreams']['queries']")" -ge 2 ]; }
ok "the idle node has probed its nameserver" poll_until 10 probed
ok "idle node with a refusing nameserver: 0 % failing, 0 failed" test \
	"$(jget a status "j['upstreams']['fail_permille'], j['upstreams']['failures']")" = "0 0"
ok "its peers see it at 0 %" test \
	"$(jget b peers "[p['ns_fail_permille'] for p in j['peers'] if p['address'] == '$(ip_of a):$PPORT'][0]")" = 0

# 3. The late node, 10 s after the others, is a's neighbour within 3 s
# (a is steady, so only adoption on its heartbeat can be that fast).
while [ $(( $(now_ms) - START )) -lt 10000 ]; do sleep 0.1; done
LATE=$(now_ms)
start_codnsd l || exit 1
late_nbr() { [ "$(state_at a l)" = neighbour ]; }
ok "a node started 10 s late is a neighbour within 3 s" \
	poll_by $((LATE + 3000)) late_nbr
late_full() { [ "$(jget l status "j['membership']['neighbours']")" = 3 ]; }
ok "the late node has three neighbours within 3 s" \
	poll_by $((LATE + 3000)) late_full

# 4. a's nameserver and all its neighbours stop: lookups started 2 s
# later are all answered, by live peers.
nbrs=$(jget a peers "' '.join(p['address'].split(':')[0] for p in j['peers'] if p['state'] == 'neighbour')")
ok "a has three neighbours to stop" test "$(echo $nbrs | wc -w)" = 3
for ip in $nbrs; do
	for n in $NODES l; do
		[ "$(ip_of $n)" = "$ip" ] && eval "kill -STOP \$CODNSD_PID_$n"
	done
done
eval "kill -STOP \$DNSMASQ_PID_nsa"
python3 - "$LISTEN_a" >"$T_DIR/outage.out" <<'PY'
import sys, threading, time, lookup
addr = sys.argv[1]
t0 = time.time()
res = []
lock = threading.Lock()
def one(i):
    start = time.time() - t0
    try:
        s = lookup.connect(addr)
        s.settimeout(10)
        s.sendall(lookup.request(i, "out%d.test.example" % i, 4))
        r = lookup.response(s)
        st, src = r["status"], r["source"]
    except Exception as e:
        st, src = "error", str(e)
    with lock:
        res.append((start, st, src))
threads = []
for i in range(40):  # one every 0.2 s for 8 s
    th = threading.Thread(target=one, args=(i,))
    th.start()
    threads.append(th)
    time.sleep(0.2)
for th in threads:
    th.join(15)
for start, st, src in sorted(res):
    print("%.2f %s %s" % (start, st, src))
PY
late=$(awk '$1 >= 2.0' "$T_DIR/outage.out")
ok "lookups started 2 s into the outage: at least 25" \
	test "$(echo "$late" | grep -c .)" -ge 25
ok "lookups started 2 s into the outage: 0 failed, all from peers" \
	test "$(echo "$late" | grep -vc ' found peer$')" -eq 0
dead_down() {
	local ip
	for ip in $nbrs; do
		jget a peers "[p['state'] for p in j['peers'] if p['address'] == '$ip:$PPORT'][0]" |
			grep -qx down || return 1
	done
}
ok "the stopped neighbours are down" poll_until 3 dead_down
ok "their in-flight or missed queries were counted" test \
	"$(jget a peers "sum(p['failed'] for p in j['peers'] if p['state'] == 'down')")" -ge 1
[ "$T_FAIL" -eq 0 ] || cat "$T_DIR/outage.out"
finish
