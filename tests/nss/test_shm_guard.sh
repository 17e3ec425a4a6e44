#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_shm_guard.sh: the shared answer table never harms the
# processes that read it: a full run directory, a hung or killed codnsd, a
# resolv.conf changed under a dead codnsd, other users, an untrusted
# directory (issue 20 items 1, 3, 7, 12; issue 25 item 4).
#
# Runs itself again inside new mount and network namespaces (unshare -mn)
# with its own nsswitch.conf ("hosts: files codns [!UNAVAIL=return] dns"),
# hosts and resolv.conf, and starts
#   dnsmasq A on 127.0.0.1:5300  the zone codnsd resolves through (.5x),
#   dnsmasq B on 127.0.0.1:53    the "dns" fallback (.15x),
#   dnsmasq C on 127.0.0.3:53    the nameserver resolv.conf switches to
#                                (.25x),
#   codnsd                       its sockets and answers.shm in a run
#                                directory, a tmpfs of its own when the
#                                check needs one.
# Checks:
# - full run directory: codnsd keeps running whether the tmpfs was full
#   before it started or fills after, and every getent answers (through the
#   socket, codnsd's answer), none killed by SIGBUS;
# - other users: as nobody, the table lists no name looked up, while a
#   lookup of a known name is still a hit in the table;
# - a trusted-looking directory owned by nobody (CODNS_LOOKUP_SOCKET) is
#   refused for root;
# - a hung codnsd (SIGSTOP): once its heartbeat is stale a new process
#   does not connect (strace), and one already waiting gives up early;
# - codnsd killed, resolv.conf switched: the next process gets the new
#   nameserver's address, not the dead daemon's table's.
set -u

ns_name=test_shm_guard
. "$(dirname "$0")/ns_lib.sh"

ns_require "$codnsd" "$codnsctl" "$dnsmasq" \
    "$module_dir/libnss_codns.so.2" -- getent python3 strace setpriv
ns_enter "$@"
ns_begin nss-guard
chmod 755 "$tmp"
ns_loopback
ip addr add 127.0.0.3/8 dev lo 2>/dev/null
ns_etc $'hosts: files codns [!UNAVAIL=return] dns\n' \
    $'127.0.0.1 localhost\n' \
    $'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'
zones=(--local=/codns.test/ --local=/2.0.192.in-addr.arpa/)
records_a=()
for i in $(seq 1 8); do
	records_a+=(--host-record="n$i.codns.test,192.0.2.$((60 + i))")
done
ns_dnsmasq 5300 dnsmasq-a "${zones[@]}" --local-ttl=300 "${records_a[@]}" \
    --host-record=web.codns.test,192.0.2.51 \
    --host-record=secret.codns.test,192.0.2.52 \
    --host-record=stop.codns.test,192.0.2.53 || exit 99
ns_dnsmasq 53 dnsmasq-b "${zones[@]}" \
    --host-record=web.codns.test,192.0.2.151 \
    --host-record=stop.codns.test,192.0.2.153 || exit 99
"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=53 \
    --listen-address=127.0.0.3 --bind-interfaces --user=root --pid-file= \
    --log-facility=- "${zones[@]}" --host-record=web.codns.test,192.0.2.251 \
    >"$tmp/dnsmasq-c.log" 2>&1 &
pids="$pids $!"
wait_tcp 127.0.0.3 53 || exit 99

export LD_LIBRARY_PATH="$module_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset CODNS_LOOKUP_ADDRESS CODNS_TIMEOUT_MS CODNS_SHM_PATH CODNS_HUNG_MS

# start_in DIR [LINE...]: codnsd with its sockets and table in DIR.
start_in() {
	local dir=$1
	shift
	ns_conf "lookup-socket $dir/lookup.sock" "upstream 127.0.0.1:5300" "$@"
	export CODNS_LOOKUP_SOCKET=$dir/lookup.sock
	ns_codnsd
}

stop_codnsd() {
	kill -CONT "$codnsd_pid" 2>/dev/null
	kill -TERM "$codnsd_pid" 2>/dev/null
	wait "$codnsd_pid" 2>/dev/null
}

fill() {
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
	sync
}

# lookups TAG: n1..n8 twice each; statuses and answers in $tmp/TAG.
lookups() {
	local i
	: >"$tmp/$1"
	for i in $(seq 1 8) $(seq 1 8); do
		out=$(getent ahosts "n$i.codns.test")
		echo "n$i rc=$? $(echo "$out" | head -n 1)" >>"$tmp/$1"
	done
}

# --- 1. full run directory --------------------------------------------------
mkdir -m 755 "$tmp/full"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$tmp/full" || exit 99
fill "$tmp/full"
start_in "$tmp/full" "cache-size 10000"
check "full before start: codnsd starts" kill -0 "$codnsd_pid"
lookups full1
check "full before start: codnsd still runs" kill -0 "$codnsd_pid"
check "full before start: 16 of 16 getent answered by codnsd" \
    test "$(grep -cE 'rc=0 192\.0\.2\.6[1-8] ' "$tmp/full1")" -eq 16
check "full before start: no table used" test ! -s "$tmp/full/answers.shm"
stop_codnsd
umount "$tmp/full"

mount -t tmpfs -o size=8m,mode=755 tmpfs "$tmp/full" || exit 99
start_in "$tmp/full" "cache-size 10000"
fill "$tmp/full"
lookups full2
check "filled after start: codnsd still runs" kill -0 "$codnsd_pid"
check "filled after start: 16 of 16 getent answered by codnsd" \
    test "$(grep -cE 'rc=0 192\.0\.2\.6[1-8] ' "$tmp/full2")" -eq 16
stop_codnsd
umount "$tmp/full"

# The rest runs on a run directory with room.
mkdir -m 755 "$tmp/run"
start_in "$tmp/run" || { cat "$tmp/codnsd.log"; exit 99; }

conns() {
	counter clients_accepted
}

# --- 7. other users cannot list the names in the table ----------------------
getent ahosts secret.codns.test >/dev/null
getent hosts 192.0.2.52 >/dev/null
getent hosts nx-secret.codns.test >/dev/null
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
# The system's python: a per-user one (pyenv) is not nobody's to run.
pyn=/usr/bin/python3
[ -x "$pyn" ] || pyn=python3
# The lister: every run of 4 or more name characters in the file, and the
# names spelt as DNS labels too.
out=$(as_nobody "$pyn" - "$tmp/run/answers.shm" 2>&1 <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
print("read", len(data))
for m in re.finditer(rb"[-A-Za-z0-9.\x01-\x3f]{4,}", data):
    s = m.group().decode("latin-1")
    if "secret" in s.lower() or "codns" in s.lower():
        print("found", s)
EOF
)
check "nobody reads the table" has "$out" '^read [1-9][0-9]*$'
check "nobody finds no name in it" hasnt "$out" '^found'
c1=$(conns)
out=$(as_nobody getent ahosts secret.codns.test)
c2=$(conns)
check "nobody looks a known name up: the answer" \
    has "$out" '^192\.0\.2\.52 '
check "nobody looks a known name up: a hit in the table ($c1 -> $c2)" \
    test "$c1" -eq "$c2"

# --- 3. a hung codnsd ---------------------------------------------------------
getent ahosts web.codns.test >/dev/null
kill -STOP "$codnsd_pid"
# A process already waiting for the daemon when it hangs: with a 5 min
# wait allowed, it gives up once the heartbeat is stale and "dns" answers
# (bounded by timeout(1) so that the test ends either way).
out=$(CODNS_TIMEOUT_MS=300000 timeout 60 getent ahosts stop.codns.test)
rc=$?
check "hung while waiting: dns answers (rc $rc)" has "$out" '^192\.0\.2\.153 '
# Now stale: a new process does not even connect.
out=$(strace -f -e trace=connect -o "$tmp/strace.hung" \
    getent ahosts web.codns.test 2>&1)
check "hung: a new process is answered by dns, not the table" \
    has "$out" '^192\.0\.2\.151 '
check "hung: a new process does not connect to codnsd" \
    hasnt "$(cat "$tmp/strace.hung")" 'lookup\.sock'
kill -CONT "$codnsd_pid"
for _ in $(seq 1 100); do
	getent ahosts web.codns.test | grep -q '^192\.0\.2\.51 ' && break
	sleep 0.1
done
check "resumed: codnsd answers again" \
    has "$(getent ahosts web.codns.test)" '^192\.0\.2\.51 '

# --- 5. codnsd killed, then resolv.conf switched --------------------------------
getent ahosts web.codns.test >/dev/null
c1=$(conns)
out=$(getent ahosts web.codns.test)
c2=$(conns)
check "before the kill: a hit in the table ($c1 -> $c2)" test "$c1" -eq "$c2"
kill -KILL "$codnsd_pid"
wait "$codnsd_pid" 2>/dev/null
# In place: the bind mount over /etc/resolv.conf follows the inode.
printf 'nameserver 127.0.0.3\noptions timeout:1 attempts:1\n' \
    >"$tmp/resolv.conf"
out=$(getent ahosts web.codns.test)
check "killed, resolv.conf switched: the new nameserver's answer" \
    has "$out" '^192\.0\.2\.251 '
check "killed, resolv.conf switched: not the dead table's" \
    hasnt "$out" '^192\.0\.2\.51 '

ns_finish "$tmp/codnsd.log"
