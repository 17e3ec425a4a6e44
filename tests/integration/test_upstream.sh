#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_upstream.sh: what codnsd makes of its nameservers'
# answers: failed forwarded queries lower their health (issue 20 item
# 10); a malformed answer gets SERVFAIL and is not cached (item 5); PTR
# answers are read as glibc's dns module reads them, from a crafted server
# and from unbound serving hostile names (item 6).
. "$(dirname "$0")/lib.sh"

NS=127.0.0.72
DEAD_PORT=$(free_port $NS) # nothing listens there: refused at once
LPORT=$(free_port $NS)
DPORT=$(free_port $NS)

# --- forwarded queries that fail count against the nameserver -----------
LISTEN_dead=$NS:$LPORT
printf 'search \n' >"$T_DIR/dead.resolv.conf"
cat >"$T_DIR/dead.codnsd.conf" <<CONF
listen $LISTEN_dead
upstream $NS:$DEAD_PORT
upstream-timeout 300ms
resolv-conf $T_DIR/dead.resolv.conf
dns-listen $NS:$DPORT
peers-file $T_DIR/none
control-socket $T_DIR/dead.sock
CONF
start_codnsd dead || exit 1

for i in 1 2 3 4 5; do
	dig +time=3 +tries=1 @$NS -p "$DPORT" "mx$i.test.example" MX \
		>/dev/null 2>&1
	dig +time=3 +tries=1 @$NS -p "$DPORT" "txt$i.test.example" TXT \
		>/dev/null 2>&1
done
# failures_at_least NAME N: the status counts N failed queries or more.
failures_at_least() {
	ctl "$1" --json status >"$T_DIR/$1.status.json" || return 1
	python3 - "$T_DIR/$1.status.json" "$2" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["upstreams"]
print("queries", u["queries"], "failures", u["failures"],
      "fail_permille", u["fail_permille"])
sys.exit(0 if u["failures"] >= int(sys.argv[2]) and
         u["fail_permille"] > 0 else 1)
PY
}
ok "ten failed MX/TXT forwarded queries lower the health" \
	failures_at_least dead 10

# --- crafted answers -------------------------------------------------------
CRAFT=127.0.0.73
CPORT=$(free_port $CRAFT)
python3 "$srcdir/tests/integration/craftns.py" $CRAFT "$CPORT" \
	"$T_DIR/craft.log" 120 &
T_PIDS="$T_PIDS $!"
UB=127.0.0.74
UPORT=$(free_port $UB)
cat >"$T_DIR/unbound.conf" <<CONF
server:
	interface: $UB@$UPORT
	port: $UPORT
	do-daemonize: no
	use-syslog: no
	logfile: "$T_DIR/unbound.log"
	username: ""
	chroot: ""
	directory: "$T_DIR"
	pidfile: ""
	do-ip6: no
CONF
cat "$srcdir/tests/integration/hostile_ptr.unbound" >>"$T_DIR/unbound.conf"
printf 'remote-control:\n\tcontrol-enable: no\n' >>"$T_DIR/unbound.conf"
/usr/sbin/unbound -d -c "$T_DIR/unbound.conf" >"$T_DIR/unbound.out" 2>&1 &
T_PIDS="$T_PIDS $!"
for _ in $(seq 50); do
	dig +time=1 +tries=1 @$UB -p "$UPORT" -x 192.0.2.8 2>/dev/null |
		grep -q 'good\.test' && break
	sleep 0.1
done

for n in craft ub; do
	eval "LISTEN_$n=$NS:$(free_port $NS)"
	eval "listen=\$LISTEN_$n"
	if [ $n = craft ]; then up=$CRAFT:$CPORT; else up=$UB:$UPORT; fi
	cat >"$T_DIR/$n.codnsd.conf" <<CONF
listen $listen
upstream $up
upstream-timeout 1s
resolv-conf $T_DIR/dead.resolv.conf
dns-listen $NS:$(free_port $NS)
peers-file $T_DIR/none
control-socket $T_DIR/$n.sock
CONF
	start_codnsd $n || exit 1
done
CSTUB=$(sed -n 's/^dns-listen //p' "$T_DIR/craft.codnsd.conf")

# stub_rcode NAME TYPE: the rcode the stub answers.
stub_rcode() {
	dig +time=3 +tries=1 @"${CSTUB%:*}" -p "${CSTUB##*:}" "$1" "$2" |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
# asked NAME: how many times craftns was asked NAME.
asked() {
	grep -c "^$1 " "$T_DIR/craft.log"
}
# servfail_uncached NAME TYPE: SERVFAIL twice, both asked upstream.
servfail_uncached() {
	local a b before
	before=$(asked "$1")
	a=$(stub_rcode "$1" "$2")
	b=$(stub_rcode "$1" "$2")
	echo "  rcodes $a $b, asked $before then $(asked "$1")"
	[ "$a" = SERVFAIL ] && [ "$b" = SERVFAIL ] &&
		[ "$(asked "$1")" -eq $((before + 2)) ]
}
ok "control: a good forwarded answer" eval '[ "$(stub_rcode good.x.test TXT)" = NOERROR ]'
ok "CNAME behind a bad pointer: SERVFAIL, not cached" \
	servfail_uncached badcname.x.test CNAME
ok "MX behind a bad pointer: SERVFAIL, not cached" \
	servfail_uncached badmx.x.test MX

# ptr_is NAME ADDRESS WANT: codnsctl lookup -x gives WANT as the name, or
# no name at all when WANT is "-".
ptr_is() {
	local out
	out=$(ctl "$1" lookup -x "$2" 2>&1)
	if [ "$3" = - ]; then
		! grep -qE '^ *name ' <<<"$out" &&
			! grep -qiE 'evil|good|other|rf\.test|b\.test' <<<"$out"
	else
		grep -qE "^ *name +$3\$" <<<"$out"
	fi || { sed 's/^/    /' <<<"$out" >&2; return 1; }
}
ok "control: a plain PTR" ptr_is craft 192.0.2.5 good.test
ok "a PTR owned by another name is not the answer" ptr_is craft 192.0.2.1 -
ok "a PTR name behind a bad pointer is refused" ptr_is craft 192.0.2.2 -
ok "a PTR name running past its record is refused" ptr_is craft 192.0.2.3 -
ok "the PTR of the name asked, after another's" ptr_is craft 192.0.2.4 mine.test
ok "a PTR name with a leading dash is refused" ptr_is craft 192.0.2.6 -
ok "unbound: control" ptr_is ub 192.0.2.8 good.test
ok "unbound: shell metacharacters refused" ptr_is ub 192.0.2.7 -
ok "unbound: a dot inside a label refused" ptr_is ub 192.0.2.9 -
ok "unbound: a NUL inside a label refused" ptr_is ub 192.0.2.10 -
ok "unbound: a leading dash refused" ptr_is ub 192.0.2.11 -
ok "unbound: an underscore passes, as in glibc" ptr_is ub 192.0.2.12 under_score.test

finish
