#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_stub.sh: the DNS stub listener (dns-listen) with
# dig against a real dnsmasq: the same answers as asking dnsmasq directly
# over UDP and TCP, with and without EDNS, TC and the retry over TCP,
# header bits and question case, what it refuses, malformed queries
# dropped or answered FORMERR while it keeps serving, a peer rescue with
# the nameserver stopped, and serve-stale.
. "$(dirname "$0")/lib.sh"

CMP="python3 $srcdir/tests/integration/dnscmp.py"
NS=127.0.0.71
NSPORT=$(free_port $NS)
LPORT=$(free_port $NS)
DPORT=$(free_port $NS)
PPORT=$(free_port $NS)

{
	echo "host-record=www.test.example,192.0.2.10,2001:db8::10"
	echo "host-record=other.test.example,192.0.2.11"
	echo "cname=alias.test.example,www.test.example"
	echo "cname=alias2.test.example,alias.test.example"
	echo "cname=dangling.test.example,gone.test.example"
	echo "cname=dangling2.test.example,alias3.test.example"
	echo "cname=alias3.test.example,other.test.example"
	echo "ptr-record=10.2.0.192.in-addr.arpa,www.test.example"
	echo "ptr-record=0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa,v6.test.example"
	echo "mx-host=test.example,mail.test.example,10"
	echo "mx-host=test.example,mail2.test.example,20"
	echo "mx-host=coal.test.example,mail.test.example,5"
	echo "host-record=short.test.example,192.0.2.12,100"
	echo "host-record=dotshare.test.example,192.0.2.13"
	echo "cname=long.test.example,short.test.example,200"
	echo 'txt-record=txt.test.example,"hello world","second string"'
	echo "srv-host=_ldap._tcp.test.example,ldap.test.example,389,0,100"
	for i in $(seq 101 130); do
		echo "host-record=big.test.example,192.0.2.$i"
	done
	for i in 0 1 2 3 4 5 6 7; do
		printf 'txt-record=bigtxt.test.example,"%s"\n' \
			"$(printf "t$i%.0s" $(seq 100))"
	done
	echo "address=/fresh.test.example/192.0.2.77"
} >"$T_DIR/ns.zone"
start_dnsmasq ns $NS "$NSPORT" || exit 1

LISTEN_a=$NS:$LPORT
# No search list (an empty search line: not even the host name's domain).
printf 'search \n' >"$T_DIR/a.resolv.conf"
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
upstream $NS:$NSPORT
resolv-conf $T_DIR/a.resolv.conf
dns-listen $NS:$DPORT
peers-file $T_DIR/none
control-socket $T_DIR/a.sock
EOF
start_codnsd a || exit 1

# ask SERVER PORT OUT DIG-ARGS...: dig's answer, authority and header.
ask() {
	local server=$1 port=$2 out=$3
	shift 3
	dig +noall +comments +answer +authority +time=3 +tries=1 \
		@"$server" -p "$port" "$@" >"$out" 2>&1
}
# same_as_dnsmasq DIG-ARGS...: codnsd's stub and dnsmasq agree.
n=0
same_as_dnsmasq() {
	n=$((n + 1))
	ask $NS "$DPORT" "$T_DIR/c$n" "$@" &&
		ask $NS "$NSPORT" "$T_DIR/d$n" "$@" &&
		$CMP same "$T_DIR/c$n" "$T_DIR/d$n" ||
		{ cat "$T_DIR/c$n" "$T_DIR/d$n"; return 1; }
}

for transport in +notcp +tcp; do
	for edns in +edns +noedns; do
		how="$transport $edns"
		ok "A ($how)" same_as_dnsmasq $transport $edns www.test.example A
		ok "AAAA ($how)" same_as_dnsmasq $transport $edns www.test.example AAAA
		ok "CNAME chain to A ($how)" same_as_dnsmasq $transport $edns alias2.test.example A
		ok "PTR IPv4 ($how)" same_as_dnsmasq $transport $edns -x 192.0.2.10
		ok "PTR IPv6 ($how)" same_as_dnsmasq $transport $edns -x 2001:db8::1
		ok "MX ($how)" same_as_dnsmasq $transport $edns test.example MX
		ok "TXT ($how)" same_as_dnsmasq $transport $edns txt.test.example TXT
		ok "SRV ($how)" same_as_dnsmasq $transport $edns _ldap._tcp.test.example SRV
		ok "NXDOMAIN A ($how)" same_as_dnsmasq $transport $edns nx.test.example A
		ok "NXDOMAIN MX ($how)" same_as_dnsmasq $transport $edns nx.test.example MX
		ok "NODATA AAAA ($how)" same_as_dnsmasq $transport $edns other.test.example AAAA
		ok "NODATA MX ($how)" same_as_dnsmasq $transport $edns www.test.example MX
		ok "CNAME to nothing, A ($how)" same_as_dnsmasq $transport $edns dangling.test.example A
		ok "CNAME chain to NODATA, AAAA ($how)" same_as_dnsmasq $transport $edns dangling2.test.example AAAA
	done
done
# Twice: the second answers come from the caches.
ok "A again, from the cache" same_as_dnsmasq www.test.example A
ok "MX again, from the cache" same_as_dnsmasq test.example MX

# Negative answers with the SOA (RFC 2308): dnsmasq in authoritative mode
# (the resolving dnsmasq above sends none for its local names) sends the
# zone's SOA with NXDOMAIN and NODATA; the stub keeps it in the authority
# section, from the nameserver and from the cache, with a TTL no longer
# than the SOA's.
AUTH=127.0.0.75
{
	echo "no-resolv"
	echo "no-hosts"
	echo "port=$NSPORT"
	echo "listen-address=$AUTH"
	echo "bind-dynamic"
	echo "auth-server=ns.test.example,$AUTH"
	echo "auth-zone=test.example"
	echo "auth-ttl=600"
	echo "auth-soa=1,hostmaster.test.example,1200,120,604800"
	echo "log-queries"
	echo "log-facility=$T_DIR/auth.log"
	grep -E '^(host-record|cname|mx-host)=' "$T_DIR/ns.zone"
} >"$T_DIR/auth.conf"
"$DNSMASQ" --keep-in-foreground -C "$T_DIR/auth.conf" --pid-file= \
	>"$T_DIR/auth.out" 2>&1 &
DNSMASQ_PID_auth=$!
T_PIDS="$T_PIDS $DNSMASQ_PID_auth"
wait_dns "$AUTH" "$NSPORT" www.test.example
LISTEN_n=$AUTH:$LPORT
echo "search test.example" >"$T_DIR/n.resolv.conf"
cat >"$T_DIR/n.codnsd.conf" <<EOF
listen $LISTEN_n
upstream $AUTH:$NSPORT
resolv-conf $T_DIR/n.resolv.conf
dns-listen $AUTH:$DPORT
negative-ttl 1h
peers-file $T_DIR/none
control-socket $T_DIR/n.sock
EOF
start_codnsd n || exit 1
# same_as_auth TRANSPORT DIG-ARGS...: codnsd's stub on node n and dnsmasq
# agree, and the answer has the SOA. dnsmasq is asked over UDP: its
# authoritative mode closes TCP connections from loopback.
same_as_auth() {
	local transport=$1
	shift
	n=$((n + 1))
	ask $AUTH "$DPORT" "$T_DIR/c$n" "$transport" "$@" &&
		ask $AUTH "$NSPORT" "$T_DIR/d$n" "$@" &&
		$CMP same "$T_DIR/c$n" "$T_DIR/d$n" &&
		grep -q "SOA.*hostmaster" "$T_DIR/c$n" ||
		{ cat "$T_DIR/c$n" "$T_DIR/d$n"; return 1; }
}
for transport in +notcp +tcp; do
	ok "NXDOMAIN A: the SOA in the authority section ($transport)" \
		same_as_auth $transport nx.test.example A
	ok "NXDOMAIN AAAA: the SOA ($transport)" same_as_auth $transport nx.test.example AAAA
	ok "NODATA AAAA: the SOA ($transport)" same_as_auth $transport other.test.example AAAA
	ok "NODATA MX (forwarded): the SOA ($transport)" \
		same_as_auth $transport www.test.example MX
done
ok "negative TTL from the SOA, not negative-ttl (RFC 2308 section 5)" \
	test "$(awk '$4 == "SOA" { print $2 }' "$T_DIR/c$((n - 1))")" -le 600

# "name" (an NSS lookup) and "name." (a stub query, always absolute) are
# one cache entry when the resolver has no search list (node a), and two
# when a relative name may end on a search domain (node n): there the
# NSS lookup walks the search list, and finds the stub's response kept
# for the name it tries first (ndots:1), so it asks nobody: a cache hit.
# source_is NODE NAME SOURCE: codnsctl lookup -4 NAME says SOURCE.
source_is() {
	local out
	out=$(ctl "$1" lookup -4 "$2" 2>&1)
	grep -q "source   $3" <<<"$out" || { echo "$out"; return 1; }
}
ask $NS "$DPORT" "$T_DIR/dot1" dotshare.test.example A
ok "no search list: the stub's answer serves the NSS lookup from the cache" \
	source_is a dotshare.test.example cache
ask $AUTH "$DPORT" "$T_DIR/dot2" www.test.example A
kept_q() {
	ctl n --json stats | python3 -c \
		"import json,sys; print(json.load(sys.stdin)['counters']['questions_answered_kept'])"
}
kept0=$(kept_q)
ok "a search list: kept apart, the NSS lookup's walk answers from the kept response" \
	source_is n www.test.example cache
ok "... its walk ran: a question answered as kept ($kept0 before)" \
	test "$(kept_q)" -gt "${kept0:-0}"

# Records of different TTLs (CNAME 200 s, A 100 s): the lookup path keeps
# one TTL per answer and sends the smallest for every record.
ok "CNAME 200 s to A 100 s: no record longer than dnsmasq's" \
	same_as_dnsmasq long.test.example A
ok "... both records with the smallest TTL" \
	test "$(awk '$4 == "CNAME" || $4 == "A" { print $2 }' "$T_DIR/c$n" | sort -u)" = 100

# Identical forwarded questions while one is in flight: one query to the
# nameserver, every client answered with its own id and question case.
kill -STOP "$DNSMASQ_PID_ns"
coal_pids=
for i in 1 2 3 4 5; do
	name=coal.test.example
	[ $i = 3 ] && name=CoAl.TeSt.ExAmPlE
	ask $NS "$DPORT" "$T_DIR/coal$i" +time=5 $name MX &
	coal_pids="$coal_pids $!"
done
sleep 1
kill -CONT "$DNSMASQ_PID_ns"
wait $coal_pids
coal_all() {
	for i in 1 2 3 4 5; do
		[ "$($CMP field "$T_DIR/coal$i" answer)" = "5 mail.test.example." ] ||
			{ cat "$T_DIR/coal$i"; return 1; }
	done
}
ok "five identical MX queries in flight: all answered" coal_all
ok "... each with its own question case" \
	test "$($CMP field "$T_DIR/coal3" names)" = "CoAl.TeSt.ExAmPlE."
ok "... the nameserver asked once" \
	test "$(grep -ci 'query\[MX\] coal.test.example from' "$T_DIR/ns.log")" = 1
ok "... four counted as coalesced" \
	test "$(ctl a --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['dns_forwarded_coalesced'])")" = 4

# 30 A records need 526 bytes: TC over plain UDP, whole over TCP.
ask $NS "$DPORT" "$T_DIR/tc" +noedns +ignore big.test.example A
ok "30 A records without EDNS: TC set" grep -q "flags:.* tc" "$T_DIR/tc"
ok "... and dig's retry over TCP gets them all" same_as_dnsmasq +noedns big.test.example A
ask $NS "$DPORT" "$T_DIR/tc2" +ignore big.test.example A
ok "30 A records fit 1232 bytes of EDNS: no TC" \
	test "$(grep -c 'flags:.* tc' "$T_DIR/tc2")" = 0
ask $NS "$DPORT" "$T_DIR/tc3" +ignore bigtxt.test.example TXT
ok "1.7 KB of TXT over EDNS UDP: TC set" grep -q "flags:.* tc" "$T_DIR/tc3"
ok "... and over TCP the same as dnsmasq's" same_as_dnsmasq bigtxt.test.example TXT
ok "a 4096-byte EDNS size still gets at most 1232 bytes" \
	sh -c "dig +bufsize=4096 +ignore @$NS -p $DPORT bigtxt.test.example TXT | grep -q 'flags:.* tc'"

# Header, question and EDNS details.
ask $NS "$DPORT" "$T_DIR/case" WwW.TeSt.ExAmPlE A
ok "question case kept in the answer" \
	test "$($CMP field "$T_DIR/case" names)" = "WwW.TeSt.ExAmPlE."
ok "flags: qr rd ra, not aa" test "$($CMP field "$T_DIR/case" flags)" = "qr ra rd"
ask $NS "$DPORT" "$T_DIR/nord" +nord www.test.example A
ok "RD not set: not set in the response" test "$($CMP field "$T_DIR/nord" flags)" = "qr ra"
ok "EDNS query: OPT with 1232" test "$($CMP field "$T_DIR/case" udp)" = 1232
ask $NS "$DPORT" "$T_DIR/noedns" +noedns www.test.example A
ok "no EDNS in the query: no OPT in the response" \
	test "$($CMP field "$T_DIR/noedns" opt)" = no
ask $NS "$DPORT" "$T_DIR/badvers" +edns=1 +noednsneg www.test.example A
ok "EDNS version 1: BADVERS" test "$($CMP field "$T_DIR/badvers" status)" = BADVERS
ask $NS "$DPORT" "$T_DIR/ch" -c CH version.bind TXT
ok "class CH: REFUSED" test "$($CMP field "$T_DIR/ch" status)" = REFUSED
ask $NS "$DPORT" "$T_DIR/axfr" +tcp test.example AXFR
ok "AXFR: REFUSED" grep -q "status: REFUSED" "$T_DIR/axfr"
ok "opcode NOTIFY: NOTIMP" test "$($CMP udp $NS "$DPORT" notify)" = NOTIMP

# Malformed queries: dropped or FORMERR, counted; the listener goes on.
ok "5-byte datagram: dropped" test "$($CMP udp $NS "$DPORT" short)" = none
ok "a response sent as a query: dropped" test "$($CMP udp $NS "$DPORT" response)" = none
ok "two questions: FORMERR" test "$($CMP udp $NS "$DPORT" qdcount2)" = FORMERR
ok "no question: FORMERR" test "$($CMP udp $NS "$DPORT" qdcount0)" = FORMERR
ok "ARCOUNT past the end: FORMERR" test "$($CMP udp $NS "$DPORT" badcount)" = FORMERR
ok "name pointing at itself: FORMERR" test "$($CMP udp $NS "$DPORT" loop)" = FORMERR
ok "pointer loop through a label: FORMERR" test "$($CMP udp $NS "$DPORT" loop2)" = FORMERR
ok "pointer past the end: FORMERR" test "$($CMP udp $NS "$DPORT" forward)" = FORMERR
ok "name cut short: FORMERR" test "$($CMP udp $NS "$DPORT" truncname)" = FORMERR
ok "a 5 KB datagram (over 4096): dropped" test "$($CMP udp $NS "$DPORT" huge)" = none
ok "64 KiB TCP frame: connection closed" test "$($CMP tcpbig $NS "$DPORT")" = closed
ok "still serving UDP after all that" same_as_dnsmasq www.test.example A
# Answers read and sent in batches (recvmmsg/sendmmsg): each goes back to
# the socket and id that asked.
ok "200 queries from 4 sockets at once: 200 answers, each to its asker" \
	test "$($CMP burst $NS "$DPORT" 50)" = 200
ok "still serving TCP after all that" same_as_dnsmasq +tcp test.example MX
ok "codnsd is still running" kill -0 "$CODNSD_PID_a"

# Counters: by transport, type and rcode; dropped and bad frames.
jstat() { jget "$1" stats "$2"; } # NODE PYEXPR
# stat_true NODE PYEXPR: the expression holds on the stats; shows them if not.
stat_true() {
	[ "$(jstat "$1" "$2")" = True ] || { jstat "$1" "j['dns'], j['counters']"; return 1; }
}
ok "stats: UDP and TCP queries counted" \
	stat_true a "j['dns']['by_transport']['udp'] > 40 and j['dns']['by_transport']['tcp'] > 20"
ok "stats: MX and SRV counted by type" \
	test "$(jstat a "j['dns']['by_type']['MX'] >= 8 and j['dns']['by_type']['SRV'] >= 4")" = True
ok "stats: FORMERR, NXDOMAIN, REFUSED, NOTIMP counted" \
	test "$(jstat a "all(j['dns']['by_rcode'][k] > 0 for k in ('FORMERR', 'NXDOMAIN', 'REFUSED', 'NOTIMP'))")" = True
ok "stats: dropped datagrams and the bad frame counted" \
	test "$(jstat a "(j['counters']['dns_dropped'], j['counters']['dns_tcp_bad_frame'])")" = "(3, 1)"
ok "stats: truncated answers counted" \
	test "$(jstat a "j['counters']['dns_truncated'] >= 2")" = True
ok "metrics: the stub's series are there" \
	sh -c "'$CODNSCTL' -c '$T_DIR/a.codnsd.conf' metrics | grep -q 'codns_dns_queries_by_transport_total{transport=\"udp\"}'"

# Serve-stale: TTLs of 2 s, then the nameserver stopped. Node s has no
# peers, so only stale data can answer.
LISTEN_s=127.0.0.72:$LPORT
cat >"$T_DIR/s.codnsd.conf" <<EOF
listen $LISTEN_s
upstream $NS:$NSPORT
dns-listen 127.0.0.72:$DPORT
upstream-timeout 500ms
lookup-timeout 1500ms
stale-answer-timeout 0
cache-max-ttl 2s
serve-stale 1h
peers-file $T_DIR/none
control-socket $T_DIR/s.sock
EOF
start_codnsd s || exit 1
ask 127.0.0.72 "$DPORT" "$T_DIR/s1" www.test.example A
ask 127.0.0.72 "$DPORT" "$T_DIR/s2" test.example MX
ok "serve-stale node: fresh answers first" \
	test "$($CMP field "$T_DIR/s1" ttl) $($CMP field "$T_DIR/s2" ttl)" = "2 2"
kill -STOP "$DNSMASQ_PID_ns"
sleep 3
ask 127.0.0.72 "$DPORT" "$T_DIR/s3" www.test.example A
ok "nameserver stopped, TTL passed: stale A answer with TTL 30" \
	test "$($CMP field "$T_DIR/s3" status) $($CMP field "$T_DIR/s3" ttl) $($CMP field "$T_DIR/s3" answer)" = "NOERROR 30 192.0.2.10"
ask 127.0.0.72 "$DPORT" "$T_DIR/s4" test.example MX
ok "... and a stale MX answer with TTL 30" \
	test "$($CMP field "$T_DIR/s4" ttl) $($CMP field "$T_DIR/s4" answer)" = "30 10 mail.test.example. 20 mail2.test.example."
ask 127.0.0.72 "$DPORT" "$T_DIR/s5" other.test.example A
ok "... a name never seen: SERVFAIL" test "$($CMP field "$T_DIR/s5" status)" = SERVFAIL
ok "stale answers counted" \
	test "$(jstat s "(j['by_source']['stale'], j['counters']['dns_forwarded_stale'])")" = "(1, 1)"
kill -CONT "$DNSMASQ_PID_ns"
refreshed() {
	ask 127.0.0.72 "$DPORT" "$T_DIR/s6" www.test.example A &&
		[ "$($CMP field "$T_DIR/s6" ttl)" -le 2 ] 2>/dev/null
}
ok "nameserver back: fresh answers again" wait_for 10 refreshed
ask 127.0.0.72 "$DPORT" "$T_DIR/s7" test.example MX
ok "... for forwarded types too" test "$($CMP field "$T_DIR/s7" ttl)" -le 2

# Stale-answer-timeout: with the nameserver stopped and an expired entry,
# the stale answer comes before lookup-timeout, and the lookup goes on.
sed -i 's/^stale-answer-timeout 0$/stale-answer-timeout 300ms/; s/^lookup-timeout 1500ms$/lookup-timeout 4s/; s/^upstream-timeout 500ms$/upstream-timeout 2s/' \
	"$T_DIR/s.codnsd.conf"
kill -HUP "$CODNSD_PID_s"
sleep 3
kill -STOP "$DNSMASQ_PID_ns"
ask 127.0.0.72 "$DPORT" "$T_DIR/s8" www.test.example A
ok "stale-answer-timeout: stale answer while the lookup is still on" \
	test "$($CMP field "$T_DIR/s8" ttl)" = 30
ok "... counted once more as stale" test "$(jstat s "j['by_source']['stale']")" = 2
kill -CONT "$DNSMASQ_PID_ns"

# A peer rescue through the stub: node p's nameserver is stopped, node q
# answers. Each node has its own dnsmasq.
echo "address=/test.example/192.0.2.77" >"$T_DIR/nsq.zone"
start_dnsmasq nsq 127.0.0.74 "$NSPORT" || exit 1
cp "$T_DIR/ns.zone" "$T_DIR/nsp.zone"
start_dnsmasq nsp 127.0.0.73 "$NSPORT" || exit 1
printf '127.0.0.73:%s\n127.0.0.74:%s\n' "$PPORT" "$PPORT" >"$T_DIR/peers"
for node in p q; do
	ip=127.0.0.73
	[ $node = q ] && ip=127.0.0.74
	eval "LISTEN_$node=$ip:$LPORT"
	cat >"$T_DIR/$node.codnsd.conf" <<EOF
listen $ip:$LPORT
upstream $ip:$NSPORT
dns-listen $ip:$DPORT
upstream-timeout 2s
lookup-timeout 3s
peer-listen $ip:$PPORT
peers-file $T_DIR/peers
heartbeat-discovery 200ms
heartbeat-steady 1s
control-socket $T_DIR/$node.sock
EOF
	start_codnsd $node || exit 1
done
has_neighbour() {
	test "$(ctl p --json peers | python3 -c "import json,sys; print(sum(x['state'] == 'neighbour' for x in json.load(sys.stdin)['peers']))")" -ge 1
}
ok "node p finds its neighbour" wait_for 10 has_neighbour
kill -STOP "$DNSMASQ_PID_nsp"
ask 127.0.0.73 "$DPORT" "$T_DIR/p1" +time=5 rescued.fresh.test.example A
kill -CONT "$DNSMASQ_PID_nsp"
ok "nameserver stopped: the peer's answer through the stub" \
	test "$($CMP field "$T_DIR/p1" status) $($CMP field "$T_DIR/p1" answer)" = "NOERROR 192.0.2.77"
ok "... counted as a peer answer" test "$(jstat p "j['by_source']['peer']")" -ge 1

finish
