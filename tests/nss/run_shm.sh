#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/run_shm.sh: real programs take cache hits from codnsd's shared
# answer table, without a connection to the daemon.
#
# Runs itself again inside new mount and network namespaces (unshare -mn)
# with its own nsswitch.conf ("hosts: files codns [!UNAVAIL=return] dns"),
# hosts and resolv.conf, and starts
#   dnsmasq A on 127.0.0.1:5300  the zone codnsd resolves through,
#   dnsmasq B on 127.0.0.1:53    the "dns" fallback, other addresses,
#   codnsd                       its lookup socket in $tmp/run, where it
#                                publishes answers.shm; the module finds
#                                both through CODNS_LOOKUP_SOCKET.
# Connections are counted with codnsd's clients_accepted counter: a lookup
# served from the table leaves it unchanged. Checks: a second lookup
# (getent, Python; forward, reverse, negative) makes no connection; flush
# by name and flush all, TTL expiry, shared-cache no, and a reload with a
# new cache-size (remap in a running process) send lookups back to the
# socket; 8 threads resolve while the cache is flushed over and over; the
# module reports its table hits; after codnsd stops, "dns" answers.
set -u

ns_name=run_shm
. "$(dirname "$0")/ns_lib.sh"

ns_require "$codnsd" "$codnsctl" "$dnsmasq" \
    "$module_dir/libnss_codns.so.2" "$bin/stress" -- getent python3
ns_enter "$@"
ns_begin nss-shm
chmod 755 "$tmp"
ns_loopback v6
ns_etc $'hosts: files codns [!UNAVAIL=return] dns\n' \
    $'127.0.0.1 localhost\n::1 localhost\n' \
    $'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'
zones=(--local=/codns.test/ --local=/2.0.192.in-addr.arpa/)

ns_flip_zone "${zones[@]}" || exit 99
ns_dnsmasq 53 dnsmasq-b "${zones[@]}" \
    --host-record=web.codns.test,192.0.2.151,2001:db8::151 || exit 99

write_conf() { ns_run_conf "$1"; }
write_conf ""
ns_codnsd || exit 99
ns_module "$tmp/run/lookup.sock" CODNS_TIMEOUT_MS CODNS_SHM_PATH

conns() {
	counter clients_accepted
}

check "codnsd published its table" test -f "$tmp/run/answers.shm"

# --- getent: the second lookup makes no connection ---------------------------
c0=$(conns)
out=$(getent ahosts web.codns.test)
c1=$(conns)
check "getent ahosts web: zone A" has "$out" '^192\.0\.2\.51 '
check "first getent connects to codnsd" test "$c1" -gt "$c0"
out=$(getent ahosts web.codns.test)
c2=$(conns)
check "second getent ahosts: same answer" has "$out" '^192\.0\.2\.51 '
check "second getent ahosts: no connection ($c1 -> $c2)" test "$c2" -eq "$c1"

getent hosts 192.0.2.51 >/dev/null
c1=$(conns)
out=$(getent hosts 192.0.2.51)
c2=$(conns)
check "reverse from the table" has "$out" '^192\.0\.2\.51 +web\.codns\.test$'
check "reverse: no connection ($c1 -> $c2)" test "$c2" -eq "$c1"

getent hosts nx.codns.test >/dev/null
c1=$(conns)
getent hosts nx.codns.test >/dev/null
rc=$?
c2=$(conns)
check "negative answer from the table: exit 2" test "$rc" -eq 2
check "negative: no connection ($c1 -> $c2)" test "$c2" -eq "$c1"

# --- Python: getaddrinfo, gethostbyname, gethostbyaddr ------------------------
py() {
	python3 - <<'EOF'
import socket
ai = socket.getaddrinfo("web.codns.test", 80, 0, socket.SOCK_STREAM)
print("addrs", " ".join(sorted(set(x[4][0] for x in ai))))
print("v4", socket.gethostbyname("v4.codns.test"))
print("ptr", socket.gethostbyaddr("192.0.2.51")[0])
EOF
}
out1=$(py)
c1=$(conns)
out2=$(py)
c2=$(conns)
check "python: answers" has "$out2" '^addrs 192\.0\.2\.51 2001:db8::51$'
check "python: same answers twice" test "$out1" = "$out2"
check "python second run: no connection ($c1 -> $c2)" test "$c2" -eq "$c1"

# --- the module reports its table hits on its next connection ---------------
h0=$(counter lookups_shared)
python3 - <<'EOF'
import socket
for _ in range(3):
    socket.getaddrinfo("web.codns.test", 80)  # hits
try:
    socket.getaddrinfo("other.codns.test", 80)  # a miss: connects, reports
except socket.gaierror:
    pass
EOF
h1=$(counter lookups_shared)
check "table hits reported to codnsd ($h0 -> $h1)" test "$h1" -ge $((h0 + 3))

# --- flush by name and flush all -------------------------------------------
getent ahosts web.codns.test >/dev/null
c1=$(conns)
ctl flush web.codns.test >/dev/null
c2=$(conns) # codnsctl's own connection is on the control socket
out=$(getent ahosts web.codns.test)
c3=$(conns)
check "after flush NAME: answered" has "$out" '^192\.0\.2\.51 '
check "after flush NAME: codnsd asked ($c2 -> $c3)" test "$c3" -gt "$c2"
py >/dev/null
ctl flush >/dev/null
c1=$(conns)
py >/dev/null
c2=$(conns)
check "after flush: python asks codnsd ($c1 -> $c2)" test "$c2" -gt "$c1"

# --- TTL expiry: answers live 1 s (cache-max-ttl) ------------------------------
write_conf "cache-max-ttl 1s"
ctl reload >/dev/null
ctl flush >/dev/null
getent ahosts web.codns.test >/dev/null
sleep 1.5
c1=$(conns)
out=$(getent ahosts web.codns.test)
c2=$(conns)
check "after the TTL: answered" has "$out" '^192\.0\.2\.51 '
check "after the TTL: codnsd asked ($c1 -> $c2)" test "$c2" -gt "$c1"
write_conf ""
ctl reload >/dev/null

# --- 8 threads resolve while the table is flushed and refilled ----------------
ns_flusher 0.02
check "stress: 8 threads x 2000 getaddrinfo while flushing" \
    "$bin/stress" -t 8 -n 2000 -g web.codns.test 192.0.2.51 2001:db8::51
wait "$flusher"

# --- 8 Python threads resolve while the answer changes under them ----------
# dnsmasq flips flip.codns.test between set A (2 addresses) and set B (3),
# codnsd is flushed and re-resolves, republishing the entry each time: every
# answer a thread gets must be exactly A or exactly B, never a mix.
# flip_step: the name flushed and looked up again after each flip.
flip_step() {
	ctl flush flip.codns.test >/dev/null 2>&1
	getent ahosts flip.codns.test >/dev/null
	sleep 0.05
}
ns_flip flip_step
out=$ns_flip_out
echo "$out" | tail -n 1
check "8 threads while the answer flips: only whole answers" \
    has "$out" '^seen A=[1-9][0-9]* B=[1-9][0-9]* bad=0 err=0$'

# --- a reload with a new cache-size: a running process remaps -------------------
ns_look_across "$tmp/py-remap.out" go ab cd
ino0=$(stat -c %i "$tmp/run/answers.shm")
write_conf "cache-size 5000"
ctl reload >/dev/null
ino1=$(stat -c %i "$tmp/run/answers.shm")
check "reload with a new cache-size: a new table ($ino0 -> $ino1)" \
    test "$ino0" != "$ino1"
# The new table starts with the cache's answers; flushed, it misses. A
# process still reading the old table would not see the flush.
ctl flush web.codns.test >/dev/null
c1=$(conns)
: >"$tmp/go"
wait "$look_pid"
c2=$(conns)
out=$(cat "$tmp/py-remap.out")
check "remapped process: answers after the reload" \
    has "$out" "^d \['192\.0\.2\.51', '2001:db8::51'\]$"
# c: a miss in the new table (one connection); d: a hit in it.
check "remapped process: one connection for two lookups ($c1 -> $c2)" \
    test "$c2" -eq $((c1 + 1))

# --- shared-cache no: the table goes, lookups use the socket -----------------
write_conf "shared-cache no"
ctl reload >/dev/null
check "shared-cache no: the table is removed" test ! -e "$tmp/run/answers.shm"
getent ahosts web.codns.test >/dev/null
c1=$(conns)
getent ahosts web.codns.test >/dev/null
c2=$(conns)
check "shared-cache no: every lookup connects ($c1 -> $c2)" \
    test "$c2" -gt "$c1"
write_conf ""
ctl reload >/dev/null
check "shared-cache yes again: the table is back" \
    test -f "$tmp/run/answers.shm"

# --- codnsd stops: the table is withdrawn, "dns" answers ----------------------
getent ahosts web.codns.test >/dev/null
kill -TERM "$codnsd_pid"
wait "$codnsd_pid" 2>/dev/null
out=$(getent ahosts web.codns.test)
check "codnsd stopped: answers come from dns, not the old table" \
    has "$out" '^192\.0\.2\.151 '
check "codnsd stopped: the table file is gone" \
    test ! -e "$tmp/run/answers.shm"

ns_finish "$tmp"/*.log "$tmp"/*.out
