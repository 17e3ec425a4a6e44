#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/demo.sh: build codns and run a demo cluster on loopback: three
# codnsd nodes (127.0.0.1-3), each with its own dnsmasq, normal lookups,
# then an outage of node 1's nameserver that its peers cover. Everything
# stops at the end (or on Ctrl-C). DEMO_STAY=1 keeps the cluster up until
# Ctrl-C.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/setup-deps.sh >/tmp/codns-setup.log 2>&1 || {
	cat /tmp/codns-setup.log
	exit 1
}
sh scripts/build.sh >/tmp/codns-build.log 2>&1 || {
	tail -n 40 /tmp/codns-build.log
	exit 1
}
BUILDDIR=$top/build
srcdir=$top
. "$top/tests/integration/lib.sh"

NSPORT=$(free_port 127.0.0.1)
LPORT=$(free_port 127.0.0.1)
PPORT=$(free_port 127.0.0.1)
for i in 1 2 3; do
	echo "address=/demo.test.example/192.0.2.$i" >"$T_DIR/ns$i.zone"
	echo "host-record=www.test.example,192.0.2.80,2001:db8::80" \
		>>"$T_DIR/ns$i.zone"
	start_dnsmasq "ns$i" "127.0.0.$i" "$NSPORT" || exit 1
	echo "127.0.0.$i:$PPORT" >>"$T_DIR/peers"
done
for i in 1 2 3; do
	eval "LISTEN_n$i=127.0.0.$i:$LPORT"
	cat >"$T_DIR/n$i.codnsd.conf" <<CONF
listen 127.0.0.$i:$LPORT
upstream 127.0.0.$i:$NSPORT
peer-listen 127.0.0.$i:$PPORT
peers-file $T_DIR/peers
heartbeat-discovery 200ms
control-socket $T_DIR/n$i.sock
CONF
	start_codnsd "n$i" || exit 1
done
sleep 1.5
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "node 1: codnsctl peers"
ctl n1 peers
say "node 1: codnsctl lookup www.test.example (local), then again (cache)"
ctl n1 lookup www.test.example
ctl n1 lookup www.test.example
say "node 1's nameserver stops (SIGSTOP): its peers answer"
kill -STOP "$DNSMASQ_PID_ns1"
for i in 1 2 3 4 5 6; do
	ctl n1 lookup -4 "host$i.demo.test.example" | grep -E "source|latency"
done
say "node 1: codnsctl status during the outage"
ctl n1 status
kill -CONT "$DNSMASQ_PID_ns1"
say "node 1's nameserver is back"
ctl n1 lookup -4 back.demo.test.example | grep -E "source|latency"
say "node 1: codnsctl stats"
ctl n1 stats
if [ "${DEMO_STAY:-}" = 1 ]; then
	say "cluster running; lookups: $BUILDDIR/codnsctl/codnsctl -c $T_DIR/n1.codnsd.conf lookup NAME; Ctrl-C stops"
	while sleep 3600; do :; done
fi
say "demo done; stopping the cluster"
