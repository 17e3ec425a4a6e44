# SPDX-License-Identifier: MIT
# scripts/bench_lib.sh: what the loopback benchmarks share (sourced).
#
# bench_begin NAME: $top, $CODNSD (unless set), $dir (a new directory
# /tmp/codns-bench-NAME.XXXXXX) and $pids, with a trap that stops every
# pid in $pids (TERM, then KILL) and removes $dir (unless $KEEP is set).
bench_begin() {
	top=$(cd "$(dirname "$0")/.." && pwd)
	CODNSD=${CODNSD:-$top/build/codnsd/codnsd}
	dir=$(mktemp -d "/tmp/codns-bench-$1.XXXXXX")
	pids=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
}

# unbound_server PORT: the server: stanza every benchmark's unbound starts
# with (foreground, one thread, loopback clients, files in $dir); the
# caller appends its own lines.
unbound_server() {
	cat <<CONF
server:
	interface: 127.0.0.1@$1
	port: $1
	do-daemonize: no
	use-syslog: no
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: ""
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
CONF
}
