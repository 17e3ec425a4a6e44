#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_peersdns.sh: peers from a DNS name (peers-dns).
# Real dnsmasq instances serve peers.test (A records from a hosts file they
# re-read on SIGHUP, TTL 5 s) and an SRV set; three codnsd nodes on
# 127.0.0.11-13 share one peer port. Checked: the list follows records
# added and removed on the first refresh after the change, at the TTL;
# peers that stay keep their state; a node finds itself in the answer and
# leaves itself out; a timeout, SERVFAIL (craftns.py) and NXDOMAIN each
# keep the last list and say so; SRV targets at their ports; 4000 records
# over TCP, and a union over 4096 cut and counted; a node whose nameserver
# is stopped keeps its list and is rescued by its peers meanwhile.
. "$(dirname "$0")/lib.sh"

T=$T_DIR
PPORT=$(free_port 127.0.0.1)
NSA=$(free_port 127.0.0.1)
NSB=$(free_port 127.0.0.1)
CRAFT="$srcdir/tests/integration/craftns.py"

hosts() { # ADDR...: peers.test is these addresses
	: >"$T/peers.hosts"
	chmod 0644 "$T/peers.hosts"
	for a in "$@"; do echo "$a peers.test" >>"$T/peers.hosts"; done
}

# ns NAME PORT: a dnsmasq for the registry and the lookups, TTL 5 s.
ns() {
	local name=$1 port=$2 pid
	cat >"$T/$name.conf" <<EOF
no-resolv
no-hosts
port=$port
listen-address=127.0.0.1
bind-interfaces
local-ttl=5
local=/test/
addn-hosts=$T/peers.hosts
addn-hosts=$T/big.hosts
address=/look.test/192.0.2.9
srv-host=_codns._udp.svc.test,n1.svc.test,$PPORT
srv-host=_codns._udp.svc.test,n2.svc.test,$((PPORT + 1))
host-record=n1.svc.test,127.0.0.21
host-record=n2.svc.test,127.0.0.22
EOF
	"$DNSMASQ" --keep-in-foreground -C "$T/$name.conf" --pid-file= \
		>"$T/$name.out" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	eval "NSPID_$name=$pid"
	wait_dns 127.0.0.1 "$port" x.look.test && return 0
	echo "dnsmasq $name did not start" >&2
	return 1
}

# node NAME ADDR NSPORT [EXTRA-LINES]
node() {
	local name=$1 addr=$2 nsport=$3 lport
	lport=$(free_port 127.0.0.1)
	eval "LISTEN_$name=127.0.0.1:$lport"
	cat >"$T/$name.codnsd.conf" <<EOF
listen 127.0.0.1:$lport
upstream 127.0.0.1:$nsport
upstream-timeout 400ms
lookup-timeout 3s
initial-delay-max 20ms
peer-listen $addr:$PPORT
peers-file $T/none
peers-dns peers.test
heartbeat-discovery 200ms
heartbeat-steady 1s
control-socket $T/$name.sock
${4:-}
EOF
	start_codnsd "$name"
}

jq_py() { # NAME COMMAND PYEXPR: evaluate PYEXPR on j, the JSON reply
	ctl "$1" --json "$2" | python3 -c "import json,sys
j=json.load(sys.stdin)
def dns(j):
    for k, v in j.items():
        if k == 'peers_dns': return v
        if isinstance(v, dict):
            r = dns(v)
            if r is not None: return r
print($3)"
}
peer_list() { # NAME: the peer addresses, sorted, comma-separated
	jq_py "$1" peers "','.join(sorted(p['address'] for p in j['peers']))"
}
src_of() { # NAME: the distinct sources of its peers
	jq_py "$1" peers "','.join(sorted({p['source'] for p in j['peers']}))"
}
dns_field() { # NAME FIELD: that field of its first peers-dns name
	jq_py "$1" status "dns(j)[0]['$2']"
}
# wait_list NAME WANT: poll (at most 20 s) until the list is WANT.
wait_list() {
	local end=$((SECONDS + 20)) got
	while [ $SECONDS -le $end ]; do
		got=$(peer_list "$1" 2>/dev/null)
		[ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	echo "$1: peers '$got', want '$2'" >&2
	return 1
}
# wait_failures NAME N: until its peers-dns failures reach N (20 s).
wait_failures() {
	local end=$((SECONDS + 20))
	while [ $SECONDS -le $end ]; do
		[ "$(dns_field "$1" failures 2>/dev/null)" -ge "$2" ] 2>/dev/null &&
			return 0
		sleep 0.2
	done
	return 1
}
is() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'" >&2; return 1; }; }
# reloaded PORT NAME ADDR: dnsmasq on PORT answers ADDR for NAME.
reloaded() {
	local end=$((SECONDS + 10))
	while [ $SECONDS -le $end ]; do
		dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" A |
			grep -qx "$3" && return 0
		sleep 0.1
	done
	return 1
}

P=":$PPORT"
# dnsmasq reads its hosts files as nobody, also when it re-reads them.
chmod 0755 "$T"
hosts 127.0.0.11 127.0.0.12 127.0.0.13
: >"$T/big.hosts"
ns a "$NSA" || exit 1
ns b "$NSB" || exit 1
node a 127.0.0.11 "$NSA" || exit 1
node b 127.0.0.12 "$NSB" || exit 1
node c 127.0.0.13 "$NSB" || exit 1

ok "a's peers come from peers.test, without itself" \
	wait_list a "127.0.0.12$P,127.0.0.13$P"
ok "c's peers too" wait_list c "127.0.0.11$P,127.0.0.12$P"
ok "codnsctl peers says where they came from" \
	is "$(src_of a)" "dns peers.test"
# The name gives 3 addresses; the peer list leaves this node out.
ok "status: the name's addresses and no error" \
	is "$(jq_py a status "(dns(j)[0]['peers'], dns(j)[0]['last_error'])")" \
	"(3, None)"
ok "the next refresh is at the TTL (5 s)" \
	python3 -c "import sys; sys.exit(not 0 < $(dns_field a next_refresh_in_s) <= 5)"
ok "metrics carry the name" \
	sh -c "'$CODNSCTL' -c '$T/a.codnsd.conf' metrics | grep -q '^codns_peers_dns_peers{name=\"peers.test\"} 3$'"

# Wait for a neighbour, then add a record: the list follows on the first
# refresh after dnsmasq re-read it, and the neighbour keeps its state.
wait_state() { # NAME PEER STATE (20 s)
	local end=$((SECONDS + 20))
	while [ $SECONDS -le $end ]; do
		[ "$(jq_py "$1" peers "[p['state'] for p in j['peers'] if p['address'] == '$2'][0]" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.2
	done
	return 1
}
ok "a takes b as a neighbour" wait_state a "127.0.0.12$P" neighbour
sent_before=$(jq_py a peers "[p['sent'] for p in j['peers'] if p['address'] == '127.0.0.12$P'][0]")
hosts 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14
kill -HUP "$NSPID_a" "$NSPID_b"
reloaded "$NSA" peers.test 127.0.0.14 || echo "dnsmasq did not re-read" >&2
r0=$(dns_field a refreshes)
t0=$SECONDS
ok "a record added: a follows" \
	wait_list a "127.0.0.12$P,127.0.0.13$P,127.0.0.14$P"
echo "# followed in about $((SECONDS - t0)) s (TTL 5 s)"
ok "... on the first refresh after the change" \
	is "$(dns_field a refreshes)" "$((r0 + 1))"
ok "b stayed a neighbour through the change" \
	wait_state a "127.0.0.12$P" neighbour
ok "b's counters were kept" \
	python3 -c "import sys; sys.exit(not $(jq_py a peers "[p['sent'] for p in j['peers'] if p['address'] == '127.0.0.12$P'][0]") >= $sent_before)"

hosts 127.0.0.11 127.0.0.12 127.0.0.14
kill -HUP "$NSPID_a" "$NSPID_b"
ok "a record removed: a follows" \
	wait_list a "127.0.0.12$P,127.0.0.14$P"

# NXDOMAIN: the name is gone from the registry. The list stays.
hosts
kill -HUP "$NSPID_a" "$NSPID_b"
f0=$(dns_field a failures)
ok "NXDOMAIN counts as a failed refresh" wait_failures a $((f0 + 1))
ok "NXDOMAIN keeps the last list" \
	is "$(peer_list a)" "127.0.0.12$P,127.0.0.14$P"
ok "status says why" is "$(dns_field a last_error)" "NXDOMAIN"

# A timeout: b's nameserver stopped. b's nameserver still answers
# NXDOMAIN, so b's list cannot change before the stop: it is b_list.
hosts 127.0.0.11 127.0.0.12 127.0.0.13
kill -HUP "$NSPID_a"
b_list=$(peer_list b)
kill -STOP "$NSPID_b"
f0=$(dns_field b failures)
ok "a timeout counts as a failed refresh" wait_failures b $((f0 + 1))
ok "a timeout keeps b's list" is "$(peer_list b)" "$b_list"
ok "status says why" \
	is "$(dns_field b last_error)" "no answer (timeout, SERVFAIL or REFUSED)"
# SERVFAIL: b's nameserver replaced by one that answers SERVFAIL.
kill -KILL "$NSPID_b"
python3 "$CRAFT" 127.0.0.1 "$NSB" "$T/craft.log" 60 &
CRAFT_PID=$!
T_PIDS="$T_PIDS $CRAFT_PID"
f0=$(dns_field b failures)
ok "SERVFAIL counts as a failed refresh" wait_failures b $((f0 + 2))
ok "SERVFAIL was asked" grep -q "^peers.test" "$T/craft.log"
ok "SERVFAIL keeps b's list" is "$(peer_list b)" "$b_list"
ok "b's list was not empty" test -n "$b_list"

# The fault run: a's nameserver stopped while its list is due for
# refresh. a keeps its list and its lookups are answered by peers (c
# asks a nameserver that works; it is a neighbour of a).
stop_pid "$CRAFT_PID"
ns b2 "$NSB" || exit 1
ok "a's list back with c" wait_list a "127.0.0.12$P,127.0.0.13$P"
wait_state a "127.0.0.13$P" neighbour
kill -STOP "$NSPID_a"
f0=$(dns_field a failures)
good=0
for i in $(seq 10); do
	ctl a lookup "rescue$i.look.test" 2>/dev/null | grep -q '192.0.2.9' &&
		good=$((good + 1))
done
ok "a's 10 lookups answered by peers while its nameserver is stopped" \
	is "$good" 10
ok "a's refresh fails meanwhile" wait_failures a $((f0 + 1))
ok "and keeps a's list" is "$(peer_list a)" "127.0.0.12$P,127.0.0.13$P"
kill -CONT "$NSPID_a"

# SIGHUP re-resolves at once.
r0=$(dns_field c refreshes)
kill -HUP "$CODNSD_PID_c"
end=$((SECONDS + 10))
while [ $SECONDS -le $end ] && [ "$(dns_field c refreshes)" -le "$r0" ]; do
	sleep 0.2
done
ok "SIGHUP re-resolves the name" \
	python3 -c "import sys; sys.exit(not $(dns_field c refreshes) > $r0)"

# SRV: the targets at their own ports (the second target's port is not
# peer-listen's), from the additional section.
node d 127.0.0.15 "$NSB" "peers-dns _codns._udp.svc.test" || exit 1
ok "SRV targets at their ports" \
	wait_list d "127.0.0.11$P,127.0.0.12$P,127.0.0.13$P,127.0.0.21$P,127.0.0.22:$((PPORT + 1))"
ok "two names, two sources" \
	is "$(src_of d)" "dns _codns._udp.svc.test,dns peers.test"

# 4000 records over TCP (64 KB: more than UDP carries), then a union
# over 4096: cut at 4096 and counted.
python3 -c "
for i in range(4000): print('127.1.%d.%d big.test' % (i // 250, i % 250 + 1))
for i in range(200): print('127.2.0.%d more.test' % (i + 1))" >"$T/big.hosts"
kill -HUP "$NSPID_b2"
reloaded "$NSB" more.test 127.2.0.1 || echo "dnsmasq did not re-read" >&2
node e 127.0.0.16 "$NSB" "peers-dns big.test
peers-dns more.test" || exit 1
count_e() { jq_py e peers "len(j['peers'])"; }
end=$((SECONDS + 30))
while [ $SECONDS -le $end ] && [ "$(count_e)" -lt 4096 ]; do sleep 0.5; done
ok "4000 records from one answer over TCP, capped at 4096 in all" \
	is "$(count_e)" 4096
ok "big.test gave 4000 peers" \
	is "$(jq_py e status "[s['peers'] for s in dns(j) if s['name'] == 'big.test'][0]")" 4000
ok "the rest of peers.test and more.test was cut and counted" \
	sh -c "'$CODNSCTL' -c '$T/e.codnsd.conf' metrics | grep -Eq '^codns_peers_dns_cut_union_total ([1-9][0-9]*)$'"
ok "e still answers lookups" \
	sh -c "'$CODNSCTL' -c '$T/e.codnsd.conf' lookup ok.look.test | grep -q 192.0.2.9"
finish
