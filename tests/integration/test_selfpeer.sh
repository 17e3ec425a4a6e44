#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_selfpeer.sh: with the default peer-listen
# (0.0.0.0:7053) and a peers file that lists the node's own addresses, as
# one peers file for the whole cluster does, the node recognises itself by
# the nonce in its own heartbeat, never makes itself a neighbour and sends
# itself no peer query. Runs in a private network namespace, so port 7053
# of 0.0.0.0 is free and its loopback is all there is.
T_NETNS=1
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port 127.0.0.1)
LPORT=$(free_port 127.0.0.1)
echo "address=/test.example/192.0.2.9" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1
# The node's own addresses, as the cluster-wide file would list them,
# plus one that is no node at all (nothing listens on its port).
printf '127.0.0.1\n127.0.0.2:7053\n127.0.0.1:%s\n' "$(free_port 127.0.0.1)" \
	>"$T_DIR/peers"
LISTEN_a=127.0.0.1:$LPORT
# No peer-listen line: the default 0.0.0.0:7053.
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen 127.0.0.1:$LPORT
upstream 127.0.0.1:$NSPORT
upstream-timeout 300ms
lookup-timeout 2s
initial-delay-max 10ms
peers-file $T_DIR/peers
heartbeat-discovery 200ms
heartbeat-steady 1s
control-socket $T_DIR/a.sock
EOF
start_codnsd a || exit 1
LOG=$T_DIR/a.codnsd.log

is() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'" >&2; return 1; }; }

ok "codnsd listens for peers on 0.0.0.0:7053" \
	sh -c "ss -uln | grep -q '0.0.0.0:7053'"
ok "127.0.0.1:7053 is recognised as this node" \
	wait_log 5 "peer 127.0.0.1:7053 is this node itself"
ok "127.0.0.2:7053 is recognised as this node" \
	wait_log 5 "peer 127.0.0.2:7053 is this node itself"
sleep 2 # several discovery rounds
ok "no listed peer is this node's own address" \
	is "$(jget a peers "','.join(p['address'] for p in j['peers'] if p['address'].endswith(':7053'))")" ""
ok "no neighbour at all" \
	is "$(jget a peers "sum(p['state'] == 'neighbour' for p in j['peers'])")" 0

# With its nameserver stopped, a lookup escalates to peers at once; there
# is no one real to ask, and above all not itself.
kill -STOP "$DNSMASQ_PID_ns"
for i in 1 2 3; do ctl a lookup "down$i.test.example" >/dev/null 2>&1; done
kill -CONT "$DNSMASQ_PID_ns"
ok "0 peer queries sent (none to itself)" \
	is "$(jget a stats "j['counters']['peer_queries_sent']")" 0
ok "0 peer queries served (none from itself)" \
	is "$(jget a stats "j['counters']['peer_queries_served']")" 0

# A reload keeps it out.
kill -HUP "$CODNSD_PID_a"
ok "the reload succeeds" wait_log 5 "configuration reloaded"
sleep 1
ok "after the reload it is still left out" \
	is "$(jget a peers "','.join(p['address'] for p in j['peers'] if p['address'].endswith(':7053'))")" ""
resolves() { ctl a lookup "$1" | grep -q 192.0.2.9; }
ok "a lookup works" resolves up.test.example
finish
