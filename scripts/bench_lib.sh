# SPDX-License-Identifier: MIT
# scripts/bench_lib.sh: what the loopback benchmarks share (sourced).
#
# bench_begin NAME: $top, $CODNSD (unless set), $dir (a new directory
# /tmp/codns-bench-NAME.XXXXXX) and $pids, with a trap that stops every
# pid in $pids (TERM, then KILL) and removes $dir (unless $KEEP is set).
bench_begin() {
	bench_name=bench_$1
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

# bench_need TOOL...: exit unless every TOOL is on PATH or in /usr/sbin.
bench_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || {
			echo "$bench_name: $t is missing (scripts/setup-deps.sh)" >&2
			exit 1
		}
	done
}

# port: a free TCP port on 127.0.0.1.
port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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

# unbound_forwarder PORT ZONE UPSTREAM [LINE...]: the whole configuration
# of a caching unbound on PORT that forwards ZONE to 127.0.0.1@UPSTREAM
# and logs to $dir/unbound.log; each LINE joins its server: clause.
unbound_forwarder() {
	local port=$1 zone=$2 up=$3 l
	shift 3
	unbound_server "$port"
	for l in "$@"; do printf '\t%s\n' "$l"; done
	cat <<CONF
	do-not-query-localhost: no
	msg-cache-size: 16m
	rrset-cache-size: 32m
	logfile: "$dir/unbound.log"
remote-control:
	control-enable: no
forward-zone:
	name: "$zone"
	forward-addr: 127.0.0.1@$up
CONF
}
