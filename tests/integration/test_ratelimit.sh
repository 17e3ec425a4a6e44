#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_ratelimit.sh: a public stub is not an open
# amplifier (issue 20, item 9). One source floods it over UDP with TXT
# questions whose answer is 1.1 KB, with ANY, and with random names: the
# response rate limit per prefix (ratelimit, on by default for a public
# dns-listen) drops most answers and slips some with TC, a real client
# gets its answer over TCP after a TC, random names stop reaching the
# nameserver, loopback sources are never limited, and ANY gets one HINFO
# (RFC 8482) without asking the nameserver.
#
# A public address needs a network of its own: this runs in a namespace
# (unshare -n) whose loopback carries 192.0.2.1 (the stub) and
# 198.51.100.7 (the flooding source).
T_NETNS=1
. "$(dirname "$0")/lib.sh"

ip addr add 192.0.2.1/32 dev lo || exit 99
ip addr add 198.51.100.7/32 dev lo || exit 99
AMP="python3 $srcdir/tests/integration/amplify.py"

NSPORT=$(free_port)
LPORT=$(free_port)
DPORT=$(free_port)
LISTEN_a=127.0.0.1:$LPORT
s250=$(printf 'x%.0s' $(seq 250))
{
	echo "host-record=www.test.example,192.0.2.10"
	# Two records of 500 bytes (dnsmasq's lines are short).
	echo "txt-record=big.test.example,\"$s250\",\"$s250\""
	echo "txt-record=big.test.example,\"$s250\",\"$s250\""
} >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
control-socket $T_DIR/control.sock
dns-listen 192.0.2.1:$DPORT public
dns-listen 127.0.0.1:$DPORT
upstream 127.0.0.1:$NSPORT
lookup-timeout 2s
peers-file $T_DIR/no-peers
EOF
start_codnsd a || exit 1

field() {
	sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"
}

# The answer is whole and large when nobody is limited.
out=$(dig +time=2 +tries=1 +bufsize=4096 -b 198.51.100.7 @192.0.2.1 \
	-p "$DPORT" TXT big.test.example)
ok "a public stub answers the 1 KB TXT" grep -q "MSG SIZE  rcvd: 1[0-9][0-9][0-9]" \
	<<<"$out"

# --- the flood ---------------------------------------------------------------
out=$($AMP 192.0.2.1 "$DPORT" 198.51.100.7 2000 TXT big.test.example \
	tcp-retry)
echo "flood from one source: $out"
answers=$(field answers "$out")
tc=$(field tc "$out")
full=$((${answers:-2000} - ${tc:-0}))
# At 100 a second after a burst of 100, half of the flood would take the
# sender 9.5 s: far more than a flood of 2000 datagrams lasts.
ok "at most half of 2000 get a whole answer ($full)" [ "$full" -le 1000 ]
ok "some dropped answers slip with TC ($tc)" [ "${tc:-0}" -gt 0 ]
ok "counted as rate limited" eval '[ "$(counter a dns_ratelimited)" -gt 0 ]'
ok "and as slipped" eval '[ "$(counter a dns_ratelimit_slipped)" -gt 0 ]'
ok "a real client, told TC, gets the answer over TCP" \
	grep -q "retry=ok" <<<"$out"

# Random names from one prefix: most never reach the nameserver.
before=$(grep -c "query\[TXT\] r" "$T_DIR/ns.log")
out=$($AMP 192.0.2.1 "$DPORT" 198.51.100.7 1000 TXT random:test.example)
after=$(grep -c "query\[TXT\] r" "$T_DIR/ns.log")
echo "random names: $out, $((after - before)) reached dnsmasq"
ok "of 1000 random names, few reach the nameserver ($((after - before)))" \
	[ "$((after - before))" -le 250 ]

# A loopback source is this host's own: never limited.
out=$($AMP 127.0.0.1 "$DPORT" 127.0.0.1 300 TXT big.test.example stepwise)
ok "loopback sources are not limited ($out)" eval \
	'[ "$(field answers "$out")" -eq 300 ] && [ "$(field tc "$out")" -eq 0 ]'

# --- ANY: RFC 8482 -------------------------------------------------------------
out=$(dig +time=2 +tries=1 -b 127.0.0.1 @127.0.0.1 -p "$DPORT" ANY \
	www.test.example 2>&1)
ok "ANY: one HINFO \"RFC8482\"" eval \
	'grep -q "IN[[:space:]]*HINFO[[:space:]]*\"RFC8482\" \"\"" <<<"$out" &&
	 grep -q "ANSWER: 1," <<<"$out"'
ok "ANY: the nameserver was not asked" \
	eval '! grep -q "query\[ANY\]" "$T_DIR/ns.log"'
out=$(dig +tcp +time=2 +tries=1 @127.0.0.1 -p "$DPORT" ANY big.test.example)
ok "ANY over TCP: the same" grep -q 'HINFO.*"RFC8482"' <<<"$out"

# --- ratelimit 0 turns it off ------------------------------------------------
echo "ratelimit 0" >>"$T_DIR/a.codnsd.conf"
ctl a reload >/dev/null
out=$($AMP 192.0.2.1 "$DPORT" 198.51.100.7 300 TXT big.test.example \
	stepwise)
ok "ratelimit 0: every answer goes out ($out)" eval \
	'[ "$(field answers "$out")" -eq 300 ] && [ "$(field tc "$out")" -eq 0 ]'

ok "SIGTERM exits 0" stop_pid "$CODNSD_PID_a"
finish
