#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_upstream.sh: what codnsd makes of its nameservers'
# answers: failed forwarded queries lower their health (issue 20 item 10).
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

finish
