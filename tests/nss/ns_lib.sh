# SPDX-License-Identifier: MIT
# tests/nss/ns_lib.sh: what the NSS scripts that run in their own mount and
# network namespaces share (run_real.sh, run_shm.sh, test_differential.sh,
# test_availability.sh). Sourced by bash; the script sets ns_name (its name
# in messages) first, then typically:
#
#   ns_require FILE... [-- COMMAND...]  skip (exit 77) unless every file
#                          and command is there and unshare -mn works
#   ns_enter "$@"          run the script again in new mount and network
#                          namespaces (no-op once inside)
#   ns_begin PREFIX        counters, $tmp, the trap that stops every pid in
#                          $pids (SIGCONT first, for a stopped one)
#   ns_loopback [v6]       lo up, with 192.0.2.200 (and 2001:db8::200)
#   ns_etc NSSWITCH HOSTS RESOLV  those three files' text, bind-mounted over
#                          /etc (they stay in $tmp, to rewrite); nscd hidden
#   ns_dnsmasq PORT NAME ARG...   a dnsmasq on 127.0.0.1:PORT, pid in ns_pid
#   ns_rundir DIR          a private tmpfs on DIR (mode 0755), even where
#                          DIR does not exist (make distcheck's prefix)
#   ns_conf LINE...        $tmp/codnsd.conf: listen 127.0.0.1:7053, control
#                          socket and (missing) peers file in $tmp, LINEs
#   ns_codnsd              codnsd -c $tmp/codnsd.conf, pid in codnsd_pid,
#                          once 127.0.0.1:7053 answers and it logged
#                          "ready on" (privileges dropped)
#   check, has, hasnt, wait_tcp
#   $ns_src                tests/nss in the source tree (flip_check.py,
#                          look_across.py)
#   ns_look_across OUT MARKER BEFORE AFTER
#                          one process looking web.codns.test up across an
#                          event (look_across.py), pid in look_pid
#   ctl ARG..., counter NAME
#                          codnsctl -c $tmp/codnsd.conf; one stats counter
#   ns_flip STEP           flip_check.py's 8 threads while flip.codns.test
#                          flips 30 times (STEP I after each flip); the
#                          checker's output in ns_flip_out
#   ns_finish FILE...      the summary; the tails of FILEs on failure; the
#                          exit status (last command of the script)

top=${abs_top_builddir:-${BUILDDIR:-$(pwd)}}
# This directory in the source tree: the Python helpers the scripts share.
ns_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module_dir=$top/.libs
codnsd=$top/codnsd/codnsd
codnsctl=$top/codnsctl/codnsctl
bin=$top/tests/nss
dnsmasq=${DNSMASQ:-/usr/sbin/dnsmasq}

ns_require() {
	local f cmds=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		if [ ! -e "$1" ]; then
			echo "$ns_name: SKIP: $1 missing"
			exit 77
		fi
		shift
	done
	[ $# -gt 0 ] && shift
	for f in "$@"; do
		cmds="$cmds$f, "
		if ! command -v "$f" >/dev/null; then
			echo "$ns_name: SKIP: needs $f"
			exit 77
		fi
	done
	if ! unshare -mn true 2>/dev/null; then
		echo "$ns_name: SKIP: needs ${cmds}unshare -mn"
		exit 77
	fi
}

ns_enter() {
	[ -n "${CODNS_IN_NS:-}" ] && return 0
	CODNS_IN_NS=1 exec unshare -mn "$BASH" "$0" "$@"
}

ns_cleanup() {
	local p
	for p in $pids; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}

ns_begin() {
	pass=0
	fail=0
	pids=
	tmp=$(mktemp -d "/tmp/$1.XXXXXX")
	trap ns_cleanup EXIT
	trap 'exit 1' INT TERM
}

check() {
	local desc=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "PASS: $desc"
	else
		fail=$((fail + 1))
		echo "FAIL: $desc"
	fi
}

# has TEXT PATTERN: TEXT contains a line matching the extended regex.
has() {
	printf '%s\n' "$1" | grep -Eq -- "$2"
}

hasnt() {
	! has "$@"
}

wait_tcp() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "$ns_name: nothing listens on $1:$2" >&2
	return 1
}

# getent ahosts* ask with AI_ADDRCONFIG, which ignores loopback addresses:
# the namespace gets one address of each family (documentation ranges).
ns_loopback() {
	ip link set lo up || exit 99
	ip addr add 192.0.2.200/32 dev lo || exit 99
	if [ "${1:-}" = v6 ]; then
		ip addr add 2001:db8::200/128 dev lo nodad || exit 99
	fi
}

ns_etc() {
	local f
	printf '%s' "$1" >"$tmp/nsswitch.conf"
	printf '%s' "$2" >"$tmp/hosts"
	printf '%s' "$3" >"$tmp/resolv.conf"
	for f in nsswitch.conf hosts resolv.conf; do
		mount --bind "$tmp/$f" "/etc/$f" || exit 99
	done
	# No nscd may answer in the module's place.
	if [ -d /var/run/nscd ]; then
		mkdir "$tmp/nscd" && mount --bind "$tmp/nscd" /var/run/nscd
	fi
}

# A missing DIR (the run-state directory under make distcheck's prefix, or
# a plain ./configure's /usr/local/var/run) is made on a tmpfs over its
# deepest existing parent, so that nothing of it outlives the namespace;
# unless that parent holds the build tree, the sources or $tmp, which the
# tmpfs would hide: then DIR is created for real.
ns_rundir() {
	local up=$1 p
	while [ ! -d "$up" ]; do
		up=$(dirname "$up")
	done
	if [ "$up" != "$1" ]; then
		for p in "$top" "$ns_src" "$tmp"; do
			case "$p/" in "${up%/}/"*) up= ;; esac
		done
		if [ -n "$up" ]; then
			mount -t tmpfs -o mode=0755 tmpfs "$up" || exit 99
		fi
		mkdir -p "$1" || exit 99
	fi
	mount -t tmpfs -o mode=0755 tmpfs "$1" || exit 99
}

ns_dnsmasq() {
	local port=$1 name=$2
	shift 2
	"$dnsmasq" --no-daemon --no-resolv --no-hosts --port="$port" \
	    --listen-address=127.0.0.1 --bind-interfaces --user=root \
	    --pid-file= --log-queries --log-facility=- "$@" \
	    >"$tmp/$name.log" 2>&1 &
	ns_pid=$!
	pids="$pids $ns_pid"
	wait_tcp 127.0.0.1 "$port"
}

ns_conf() {
	local line
	{
		echo "listen 127.0.0.1:7053"
		echo "control-socket $tmp/control.sock"
		echo "peers-file $tmp/no-peers"
		for line in "$@"; do
			echo "$line"
		done
	} >"$tmp/codnsd.conf"
}

# ns_run_conf LINES...: $tmp/codnsd.conf for a daemon with its lookup and
# control sockets in $tmp/run (0755, made here), resolving through
# dnsmasq A on 127.0.0.1:5300, then LINES.
ns_run_conf() {
	local line
	mkdir -p -m 755 "$tmp/run"
	{
		echo "listen 127.0.0.1:7053"
		echo "lookup-socket $tmp/run/lookup.sock"
		echo "upstream 127.0.0.1:5300"
		echo "control-socket $tmp/run/control.sock"
		echo "peers-file $tmp/no-peers"
		for line in "$@"; do
			echo "$line"
		done
	} >"$tmp/codnsd.conf"
}

# ns_module SOCKET [VAR...]: the module from the build for the programs
# run from here on, finding codnsd (and its shared table) only through the
# lookup socket SOCKET; the variables VAR are unset too.
ns_module() {
	export LD_LIBRARY_PATH="$module_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export CODNS_LOOKUP_SOCKET=$1
	shift
	unset CODNS_LOOKUP_ADDRESS "$@"
}

# ns_flip_zone ARGS...: dnsmasq A on 127.0.0.1:5300 (pid in dnsmasq_a_pid),
# serving web.codns.test, v4.codns.test, flip.codns.test from
# $tmp/flip.hosts (which ns_flip changes during the test) and ARGS.
ns_flip_zone() {
	printf '192.0.2.61 flip.codns.test\n2001:db8::61 flip.codns.test\n' \
	    >"$tmp/flip.hosts"
	ns_dnsmasq 5300 dnsmasq-a --local-ttl=300 \
	    --addn-hosts="$tmp/flip.hosts" \
	    --host-record=web.codns.test,192.0.2.51,2001:db8::51 \
	    --host-record=v4.codns.test,192.0.2.52 "$@" || return 1
	dnsmasq_a_pid=$ns_pid
}

ns_codnsd() {
	local ready i
	ready=$(grep -c ' ready on ' "$tmp/codnsd.log" 2>/dev/null)
	"$codnsd" -f -c "$tmp/codnsd.conf" >>"$tmp/codnsd.log" 2>&1 &
	codnsd_pid=$!
	pids="$pids $codnsd_pid"
	wait_tcp 127.0.0.1 7053 || return 1
	# Listening is not ready: the privileges are dropped after every
	# socket is bound, then "ready on" is logged (at most 5 s more).
	for i in $(seq 1 100); do
		[ "$(grep -c ' ready on ' "$tmp/codnsd.log")" -gt "${ready:-0}" ] &&
		    return 0
		kill -0 "$codnsd_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "$ns_name: codnsd did not log that it is ready" >&2
	return 1
}

# ns_look_across OUT MARKER BEFORE AFTER: look_across.py resolving
# web.codns.test in the background (pid in look_pid, lines in OUT); returns
# once its BEFORE lookups are done (at most 10 s). The caller causes the
# event, creates $tmp/MARKER and waits for look_pid.
ns_look_across() {
	local last=${3: -1}
	python3 -u "$ns_src/look_across.py" "$tmp" "$2" web.codns.test "$3" \
	    "$4" >"$1" 2>&1 &
	look_pid=$!
	pids="$pids $look_pid"
	for _ in $(seq 1 200); do
		grep -q "^$last " "$1" 2>/dev/null && break
		sleep 0.05
	done
}

ctl() {
	"$codnsctl" -c "$tmp/codnsd.conf" "$@"
}

# ns_flusher PAUSE: codnsd's cache flushed 40 times, PAUSE seconds apart,
# in the background (pid in flusher).
ns_flusher() {
	(
		for _ in $(seq 1 40); do
			ctl flush >/dev/null 2>&1
			sleep "$1"
		done
	) &
	flusher=$!
	pids="$pids $flusher"
}

# counter NAME: a counter of codnsctl stats.
counter() {
	ctl stats | awk -v k="$1" '$1 == k { print $2 }'
}

# ns_flip STEP: dnsmasq A ($dnsmasq_a_pid, --addn-hosts=$tmp/flip.hosts)
# flips flip.codns.test 30 times between set A (2 addresses) and set B
# (3), and the command STEP runs with the flip's number after each; all
# the while flip_check.py's 8 threads resolve the name. The flips start
# once the threads run (at most 10 s): a slow start cannot miss them. The
# checker's output is in ns_flip_out.
ns_flip() {
	local step=$1 flipper i
	(
		for i in $(seq 1 200); do
			[ -e "$tmp/flip.started" ] && break
			sleep 0.05
		done
		for i in $(seq 1 30); do
			if [ $((i % 2)) -eq 1 ]; then
				printf '%s flip.codns.test\n' 192.0.2.62 \
				    2001:db8::62 192.0.2.63 >"$tmp/flip.hosts.new"
			else
				printf '%s flip.codns.test\n' 192.0.2.61 \
				    2001:db8::61 >"$tmp/flip.hosts.new"
			fi
			mv "$tmp/flip.hosts.new" "$tmp/flip.hosts"
			kill -HUP "$dnsmasq_a_pid"
			sleep 0.05
			"$step" "$i"
		done
	) &
	flipper=$!
	pids="$pids $flipper"
	ns_flip_out=$(python3 "$ns_src/flip_check.py" "$flipper" \
	    "$tmp/flip.started")
	wait "$flipper"
}

ns_finish() {
	local f
	echo "$pass passed, $fail failed"
	if [ "$fail" -ne 0 ]; then
		for f in "$@"; do
			[ -f "$f" ] || continue
			echo "--- $f"
			tail -n 20 "$f"
		done
	fi
	[ "$fail" -eq 0 ]
}
