#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_drain.sh: SIGTERM drains. Lookups in flight when
# it comes are still answered if their source answers within the drain;
# those that cannot be answered get "unavailable" (NSS goes on to dns),
# never "try again" (EAI_AGAIN, which [!UNAVAIL=return] makes final).
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port)
{
	echo "host-record=one.test.example,192.0.2.1"
	echo "host-record=two.test.example,192.0.2.2"
	echo "host-record=three.test.example,192.0.2.3"
} >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1
NS=$DNSMASQ_PID_ns

# inflight NAME...: send one lookup per NAME on one connection to daemon
# a, say "sent", then print each answer's status (or "eof").
inflight() {
	python3 - "$T_DIR/a.lookup.sock" "$@" <<'PY'
import sys
from lookup import connect, request, response
s = connect(sys.argv[1])
s.settimeout(20)
for i, name in enumerate(sys.argv[2:]):
    s.sendall(request(i + 1, name, 4))
print("sent", flush=True)
for _ in sys.argv[2:]:
    try:
        print(response(s)["status"])
    except (EOFError, OSError):
        print("eof")
PY
}

# run_case OUT NAME...: start daemon a, a client with three lookups of
# NAME... in flight while the nameserver is stopped, then SIGTERM a; the
# client's output in OUT. After the TERM, the hook "$AFTER_TERM" runs.
# Each case asks its own names: the cache survives a restart.
run_case() {
	local out=$1 cpid
	shift
	LISTEN_a=127.0.0.1:$(free_port)
	cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
upstream 127.0.0.1:$NSPORT
control-socket $T_DIR/a.control.sock
upstream-timeout 10s
lookup-timeout 20s
# Each case starts cold: no cache from the case before.
cache-file none
EOF
	start_codnsd a || return 1
	kill -STOP "$NS"
	inflight "$@" >"$out" 2>&1 &
	cpid=$!
	for _ in $(seq 100); do
		grep -q sent "$out" && break
		sleep 0.05
	done
	# The lookups are in flight once codnsd counts them.
	for _ in $(seq 100); do
		ctl a status | grep -q "^lookups .*, 3 in flight" && break
		sleep 0.05
	done
	kill -TERM "$CODNSD_PID_a"
	$AFTER_TERM
	wait "$cpid"
	stop_pid "$CODNSD_PID_a"
	kill -CONT "$NS"
	cat "$out"
}

# Case 1: the nameserver answers 0.2 s after the TERM, within the drain.
AFTER_TERM="eval sleep 0.2; kill -CONT $NS"
run_case "$T_DIR/case1.out" one.test.example two.test.example \
	three.test.example
ok "in flight at SIGTERM, answered within the drain: all three found" \
	test "$(grep -c '^found$' "$T_DIR/case1.out")" = 3

# Case 2: the nameserver stays silent: the drain ends, unavailable.
AFTER_TERM=true
run_case "$T_DIR/case2.out" four.test.example five.test.example \
	six.test.example
ok "not answerable before the drain ends: all three unavailable" \
	test "$(grep -c '^unavail$' "$T_DIR/case2.out")" = 3
ok "never try-again" eval '! grep -q tryagain "$T_DIR"/case*.out'
ok "the daemon said it was draining" \
	grep -q "shutting down: 3 lookups in flight" "$T_DIR/a.codnsd.log"
finish
