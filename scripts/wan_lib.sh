# SPDX-License-Identifier: MIT
# scripts/wan_lib.sh: the emulated WAN testbed shared by scripts/bench_wan.sh
# and tests/integration/test_wan.sh (issue 21). Sourced, never run.
# shellcheck shell=bash
#
# One network namespace per node and per site nameserver, each with a TUN
# device "wan0" whose other end is scripts/wan_router (user space: kernel
# netem is not available), which delays every packet by its site pair's
# one-way delay (half the measured RTT of tests/data/wan_rtt.csv) plus
# jitter. Addresses are 198.18.SITE.N (RFC 2544's benchmarking range), only
# inside these namespaces. Every process is recorded in $WAN_DIR and
# stopped by wan_down, which the caller's EXIT trap must run.
#
# Set before wan_plan: WAN_TOP (source tree), WAN_BUILD (build tree),
# WAN_DIR (an empty directory), WAN_SITES ("City:N,City:N,..."); optional
# WAN_MATRIX, WAN_JITTER (permille), WAN_LOSS_PPM, WAN_CONF_EXTRA (a file
# of codnsd.conf lines for every node), WAN_NEIGHBORS, WAN_RTT_MAX (ms,
# both as in that file), WAN_START_BURST ("SECONDS:EXTRA_US": while the
# nodes start, every packet waits up to EXTRA_US more, as on a congested
# start).

: "${WAN_MATRIX:=$WAN_TOP/tests/data/wan_rtt.csv}"
: "${WAN_JITTER:=20}"
: "${WAN_LOSS_PPM:=0}"
: "${WAN_NEIGHBORS:=10}"
: "${WAN_RTT_MAX:=90}"
WAN_TAG="cw$$"
WAN_PY="$WAN_TOP/scripts/wan.py"
WAN_ROUTER_PID=""

# wan_can_run: 0 when this process may create network namespaces and TUN
# devices (root, ip, /dev/net/tun); prints why not otherwise.
wan_can_run() {
	if [ "$(id -u)" != 0 ]; then
		echo "not root: cannot create network namespaces"
		return 1
	fi
	if ! command -v ip >/dev/null || ! [ -c /dev/net/tun ]; then
		echo "no ip(8) or /dev/net/tun"
		return 1
	fi
	if ! ip netns add "$WAN_TAG-probe" 2>/dev/null; then
		echo "ip netns add fails here"
		return 1
	fi
	ip netns del "$WAN_TAG-probe"
}

# wan_plan: addresses, router configuration, peers file, every config.
wan_plan() {
	python3 "$WAN_PY" plan "$WAN_DIR" --matrix "$WAN_MATRIX" \
		--sites "$WAN_SITES" --tag "$WAN_TAG" --jitter "$WAN_JITTER" \
		--loss-ppm "$WAN_LOSS_PPM" --neighbors "$WAN_NEIGHBORS" \
		--rtt-max "$WAN_RTT_MAX" ${WAN_CONF_EXTRA:+--conf-extra "$WAN_CONF_EXTRA"} \
		${WAN_START_BURST:+--start-burst "$WAN_START_BURST"}
}

# wan_up: namespaces, the router, addresses and one dnsmasq per site.
wan_up() {
	local kind name site si addr ns i
	while read -r kind name site si addr ns; do
		ip netns add "$ns" || return 1
		echo "$ns" >>"$WAN_DIR/netns.list"
		ip -n "$ns" link set lo up
	done <"$WAN_DIR/plan.tsv"
	"$WAN_BUILD/scripts/wan_router" "$WAN_DIR/router.conf" \
		>"$WAN_DIR/router.out" 2>&1 &
	WAN_ROUTER_PID=$!
	echo "$WAN_ROUTER_PID" >"$WAN_DIR/router.pid"
	for i in $(seq 100); do
		grep -q ready "$WAN_DIR/router.out" 2>/dev/null && break
		kill -0 "$WAN_ROUTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q ready "$WAN_DIR/router.out"; then
		echo "wan_router did not start:" >&2
		cat "$WAN_DIR/router.out" >&2
		return 1
	fi
	while read -r kind name site si addr ns; do
		ip -n "$ns" addr add "$addr/32" dev wan0 &&
			ip -n "$ns" link set wan0 up &&
			ip -n "$ns" route add 198.18.0.0/15 dev wan0 || return 1
		[ "$kind" = ns ] || continue
		ip netns exec "$ns" /usr/sbin/dnsmasq --keep-in-foreground \
			-C "$WAN_DIR/$name.dnsmasq.conf" --pid-file= \
			>"$WAN_DIR/$name.log" 2>&1 &
		echo $! >"$WAN_DIR/$name.pid"
		echo $! >>"$WAN_DIR/pids"
	done <"$WAN_DIR/plan.tsv"
	wan_wait_dns
}

# wan_wait_dns: every site nameserver answers, from a node of its site.
wan_wait_dns() {
	local kind name site si addr ns i nsaddr
	while read -r kind name site si addr ns; do
		[ "$kind" = node ] || continue
		nsaddr=${addr%.*}.250
		for i in $(seq 50); do
			ip netns exec "$ns" dig +time=1 +tries=1 @"$nsaddr" \
				"ns.$(echo "$site" | tr '[:upper:]' '[:lower:]').wan.test" \
				>/dev/null 2>&1 && break
			sleep 0.1
		done
	done <"$WAN_DIR/plan.tsv"
}

# wan_ping_check: prints emulated against target RTTs; 1 when a pair is
# unreachable or faster than its target.
wan_ping_check() {
	python3 "$WAN_PY" ping "$WAN_DIR" --count "${1:-5}"
}

# wan_start_nodes: every codnsd at once (a fleet-wide simultaneous start),
# then waits (at most 10 s each) for their control sockets.
wan_start_nodes() {
	local kind name site si addr ns i
	[ -z "${WAN_START_BURST:-}" ] || kill -USR1 "$(cat "$WAN_DIR/router.pid")"
	python3 -c 'import time; print(time.monotonic())' >"$WAN_DIR/start.time"
	while read -r kind name site si addr ns; do
		[ "$kind" = node ] || continue
		ip netns exec "$ns" "$WAN_BUILD/codnsd/codnsd" -f \
			-c "$WAN_DIR/$name.conf" >"$WAN_DIR/$name.log" 2>&1 &
		echo $! >"$WAN_DIR/$name.pid"
		echo $! >>"$WAN_DIR/pids"
	done <"$WAN_DIR/plan.tsv"
	while read -r kind name site si addr ns; do
		[ "$kind" = node ] || continue
		for i in $(seq 100); do
			[ -S "$WAN_DIR/$name.ctl.sock" ] && break
			sleep 0.1
		done
		[ -S "$WAN_DIR/$name.ctl.sock" ] || {
			echo "codnsd $name did not start:" >&2
			cat "$WAN_DIR/$name.log" >&2
			return 1
		}
	done <"$WAN_DIR/plan.tsv"
}

# wan_down: stops every process wan_lib started (by pid) and deletes its
# namespaces. Safe to call twice.
wan_down() {
	local p ns i
	[ -n "${WAN_DIR:-}" ] && [ -d "$WAN_DIR" ] || return 0
	if [ -f "$WAN_DIR/pids" ]; then
		for p in $(cat "$WAN_DIR/pids"); do
			kill -CONT "$p" 2>/dev/null
			kill -TERM "$p" 2>/dev/null
		done
		for p in $(cat "$WAN_DIR/pids"); do
			for i in $(seq 30); do
				kill -0 "$p" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$p" 2>/dev/null
		done
		rm -f "$WAN_DIR/pids"
	fi
	if [ -f "$WAN_DIR/router.pid" ]; then
		p=$(cat "$WAN_DIR/router.pid")
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		rm -f "$WAN_DIR/router.pid"
	fi
	if [ -f "$WAN_DIR/netns.list" ]; then
		while read -r ns; do
			ip netns del "$ns" 2>/dev/null
		done <"$WAN_DIR/netns.list"
		rm -f "$WAN_DIR/netns.list"
	fi
}
