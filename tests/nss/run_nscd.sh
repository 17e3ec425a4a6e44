#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/run_nscd.sh: glibc programs take codnsd's answers from the
# nscd-format hosts table it hands out on glibc's nscd socket, with no
# request to the daemon.
#
# glibc asks nscd, on /var/run/nscd/socket only, before it reads
# nsswitch.conf. This script runs itself again inside new mount and network
# namespaces (unshare -mn), mounts a tmpfs over the run directory there (the
# machine's /run is never touched) and gives codnsd that socket
# (nscd-socket), with its own nsswitch.conf ("hosts: files codns
# [!UNAVAIL=return] dns"), hosts and resolv.conf, and starts
#   dnsmasq A on 127.0.0.1:5300  the zone codnsd resolves through,
#   dnsmasq B on 127.0.0.1:53    the "dns" fallback, other addresses,
#   codnsd                       nscd socket, lookup and control sockets.
# Lookups on the nscd socket are counted with codnsd's counters
# (nscd_requests less nscd_tables_handed: each new process asks for the
# table once): a lookup served from the table leaves the count unchanged.
# Checks: a second lookup (getent ahosts/hosts, Python getaddrinfo,
# AF_INET-only getaddrinfo, gethostbyname, gethostbyaddr; forward,
# reverse, GETAI's "no such name") makes no request and gives the same
# answer; no-data and other negative gethostby* answers are left to NSS
# every time (nscd_left_to_nss), with equal answers; flush by name and
# flush all, TTL expiry (the zone's, cache-max-ttl, negative-ttl) send
# lookups back to the socket; /etc/hosts wins over the zone and an edit of
# it takes effect; passwd and group still answer (codnsd refuses them,
# glibc falls back to files); 8 threads resolve while the table is flushed
# and its entries expire every second, every answer whole; with strace,
# the second lookup of a process makes no connect() to the socket; a
# temporary failure is not published and stays try-again; a reload with a
# new cache-size makes a running process map the new table; after codnsd
# stops, "dns" answers, also in a process that had the table mapped.
set -u

ns_name=run_nscd
. "$(dirname "$0")/ns_lib.sh"

ns_require "$codnsd" "$codnsctl" "$dnsmasq" \
    "$module_dir/libnss_codns.so.2" "$bin/stress" -- getent python3
ns_enter "$@"
ns_begin nss-nscd
chmod 755 "$tmp"
ns_loopback v6

# glibc's socket path is fixed: a private tmpfs over the run directory of
# this mount namespace (/var/run is usually a link to /run). ns_etc's
# hiding of nscd's directory has nothing to hide on the new tmpfs.
run_dir=$(readlink -f /var/run)
mount -t tmpfs -o mode=755 tmpfs "$run_dir" || exit 99
nscd_socket=/var/run/nscd/socket

ns_etc $'hosts: files codns [!UNAVAIL=return] dns\n' \
    $'127.0.0.1 localhost\n::1 localhost\n192.0.2.99 both.codns.test\n' \
    $'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'
zones=(--local=/codns.test/ --local=/2.0.192.in-addr.arpa/
    --local=/8.b.d.0.1.0.0.2.ip6.arpa/)

ns_flip_zone "${zones[@]}" \
    --host-record=once.codns.test,192.0.2.54 \
    --host-record=ttl1.codns.test,192.0.2.55,2001:db8::55,1 \
    --host-record=both.codns.test,192.0.2.53 || exit 99
ns_dnsmasq 53 dnsmasq-b "${zones[@]}" \
    --host-record=web.codns.test,192.0.2.151,2001:db8::151 || exit 99

write_conf() { ns_run_conf "nscd-socket $nscd_socket" "$1"; }
write_conf ""
ns_codnsd || exit 99
for _ in $(seq 1 100); do
	[ -S "$nscd_socket" ] && break
	sleep 0.05
done

ns_module "$tmp/run/lookup.sock" CODNS_TIMEOUT_MS CODNS_SHM_PATH

# reqs: the lookups asked on the nscd socket, not counting the requests
# for the table (GETFDHST), which every new process makes once.
reqs() {
	ctl stats | awk '$1 == "nscd_requests" { r = $2 }
	    $1 == "nscd_tables_handed" { t = $2 }
	    END { if (r != "" && t != "") print r - t }'
}

check "codnsd listens on $nscd_socket" test -S "$nscd_socket"
check "the nscd socket is mode 0666" \
    test "$(stat -c %a "$nscd_socket" 2>/dev/null)" = 666
check "the nscd directory is mode 0755" \
    test "$(stat -c %a "$(dirname "$nscd_socket")" 2>/dev/null)" = 755
check "stats has the nscd counters" has "$(reqs)" '^[0-9]+$'
a0=$(counter clients_accepted)

# run_twice COMMAND...: runs COMMAND twice; out1/out2 and rc1/rc2 hold its
# outputs and exit statuses, r0/r1/r2 the request counter before, between
# and after.
run_twice() {
	r0=$(reqs)
	out1=$("$@" 2>&1)
	rc1=$?
	r1=$(reqs)
	out2=$("$@" 2>&1)
	rc2=$?
	r2=$(reqs)
}

# twice WHAT COMMAND...: run_twice; the first run asks the nscd socket,
# the second is served from the table, with the same answer.
twice() {
	local what=$1
	shift
	run_twice "$@"
	check "$what: the first lookup asks the nscd socket ($r0 -> $r1)" \
	    test "$r1" -gt "$r0"
	check "$what: the second one does not ($r1 -> $r2)" test "$r2" -eq "$r1"
	check "$what: the same answer twice" same
}

same() {
	[ "$out1" = "$out2" ] && [ "$rc1" = "$rc2" ]
}

# --- getent: forward, reverse, negative ---------------------------------------
twice "getent ahosts web" getent ahosts web.codns.test
check "getent ahosts web: the zone's addresses" \
    has "$out2" '^192\.0\.2\.51 +STREAM'
check "getent ahosts web: IPv6 too" has "$out2" '^2001:db8::51 +STREAM'
check "getent ahosts web: not the fallback's" hasnt "$out2" '151'

twice "getent hosts web (v6 first)" getent hosts web.codns.test
check "getent hosts web: the IPv6 address" \
    has "$out2" '^2001:db8::51 +web\.codns\.test$'

twice "reverse 192.0.2.51" getent hosts 192.0.2.51
check "reverse 192.0.2.51: the zone's name" \
    has "$out2" '^192\.0\.2\.51 +web\.codns\.test$'
twice "reverse 2001:db8::51" getent hosts 2001:db8::51
check "reverse 2001:db8::51: the zone's name" \
    has "$out2" '^2001:db8::51 +web\.codns\.test$'

# GETAI's "no such name" is published.
twice "getent ahosts nx" getent ahosts nx2.codns.test
check "getent ahosts nx: exit 2" test "$rc2" -eq 2

a1=$(counter clients_accepted)
check "the module was never asked so far ($a0 -> $a1)" test "$a1" -eq "$a0"

# to_nss WHAT COMMAND...: COMMAND twice; codnsd leaves the lookup to NSS
# (closes unanswered) both times, so each run asks the socket and NSS
# answers (nss_codns, over its socket or from its own shared table); the
# answers are equal. out1/out2, rc1/rc2 as run_twice.
to_nss() {
	local what=$1 n0 n2
	shift
	n0=$(counter nscd_left_to_nss)
	run_twice "$@"
	n2=$(counter nscd_left_to_nss)
	check "$what: asked on the nscd socket each time ($r0 -> $r1 -> $r2)" \
	    test "$r1" -gt "$r0" -a "$r2" -gt "$r1"
	check "$what: left to NSS, not published ($n0 -> $n2)" \
	    test "$n2" -ge $((n0 + 2))
	check "$what: the same answer twice" same
}

# No AAAA: GETHOSTBYNAMEv6's "no data" goes to NSS (and the process skips
# nscd for its next lookups: GETHOSTBYNAME's A comes from NSS too).
to_nss "getent hosts v4 (no data for v6)" getent hosts v4.codns.test
check "getent hosts v4: the A record" \
    has "$out2" '^192\.0\.2\.52 +v4\.codns\.test$'
to_nss "getent hosts nx" getent hosts nx.codns.test
check "getent hosts nx: exit 2" test "$rc2" -eq 2
to_nss "reverse, no name" getent hosts 192.0.2.77
check "reverse, no name: exit 2" test "$rc2" -eq 2

# --- Python: getaddrinfo (both, AF_INET), gethostbyname, gethostbyaddr --------
py() {
	python3 - <<'EOF'
import socket
ai = socket.getaddrinfo("web.codns.test", 80, 0, socket.SOCK_STREAM)
print("addrs", " ".join(sorted(set(x[4][0] for x in ai))))
print("v4", socket.gethostbyname("v4.codns.test"))
print("ex", socket.gethostbyname_ex("web.codns.test"))
print("ptr", socket.gethostbyaddr("192.0.2.51")[0])
try:
    socket.getaddrinfo("nx3.codns.test", 80)
    print("nx found")
except socket.gaierror as e:
    print("nx", e.errno == socket.EAI_NONAME)
EOF
}
twice "python" py
check "python: answers" has "$out2" '^addrs 192\.0\.2\.51 2001:db8::51$'
check "python: gethostbyname" has "$out2" '^v4 192\.0\.2\.52$'
check "python: gethostbyname_ex" \
    has "$out2" "^ex \('web\.codns\.test', \[\], \['192\.0\.2\.51'\]\)$"
check "python: gethostbyaddr" has "$out2" '^ptr web\.codns\.test$'
check "python: negative, EAI_NONAME" has "$out2" '^nx True$'

# Within one process, the raw request counter (the table included) does
# not move on the second lookup.
out=$(python3 - "$codnsctl" "$tmp/codnsd.conf" <<'EOF'
import socket, subprocess, sys
def raw():
    out = subprocess.run([sys.argv[1], "-c", sys.argv[2], "stats"],
                         capture_output=True, text=True).stdout
    return int([l.split()[1] for l in out.splitlines()
                if l.split()[:1] == ["nscd_requests"]][0])
r0 = raw()
socket.getaddrinfo("once.codns.test", 80)
r1 = raw()
socket.getaddrinfo("once.codns.test", 80)
r2 = raw()
print("first", r1 - r0, "second", r2 - r1)
EOF
)
check "one process: the first lookup makes requests ($out)" \
    has "$out" '^first [1-9]'
check "one process: the second makes none ($out)" has "$out" ' second 0$'

# AF_INET alone: glibc asks with GETHOSTBYNAME, not GETAI.
py4() {
	python3 -c 'import socket
print(sorted(set(x[4][0] for x in socket.getaddrinfo("web.codns.test", 80,
      socket.AF_INET, socket.SOCK_STREAM))))'
}
ctl flush >/dev/null
twice "AF_INET getaddrinfo" py4
check "AF_INET getaddrinfo: the A record only" \
    test "$out2" = "['192.0.2.51']"

# --- strace: the second lookup in one process makes no connect() ------------
if command -v strace >/dev/null; then
	ctl flush >/dev/null
	strace -f -e trace=connect,write -o "$tmp/strace.out" python3 -c '
import os, socket
socket.getaddrinfo("web.codns.test", 80)
os.write(1, b"MARK\n")
socket.getaddrinfo("web.codns.test", 80)' >/dev/null 2>&1
	before=$(sed '/MARK/q' "$tmp/strace.out" | grep -c 'nscd/socket')
	after=$(sed '1,/MARK/d' "$tmp/strace.out" | grep -c 'nscd/socket')
	check "strace: the first lookup connects to the nscd socket ($before)" \
	    test "$before" -ge 1
	# (getaddrinfo's address sorting connects UDP sockets: not counted)
	check "strace: the second lookup does not connect to it ($after)" \
	    test "$after" -eq 0
else
	echo "SKIP: strace not installed: no connect() count"
fi

# --- passwd and group: refused by codnsd, answered by files ---------------
out=$(getent passwd root)
check "getent passwd root: files answers" has "$out" '^root:x?:0:0:'
out=$(getent group root)
check "getent group root: files answers" has "$out" '^root:x?:0:'
out=$(python3 -c 'import pwd; print(pwd.getpwuid(0).pw_name)')
check "python getpwuid(0)" test "$out" = root
check "codnsd survived the refused requests" kill -0 "$codnsd_pid"
out=$(getent ahosts web.codns.test)
check "hosts still answered after the refused requests" \
    has "$out" '^192\.0\.2\.51 '

# --- flush by name and flush all -------------------------------------------
getent ahosts web.codns.test >/dev/null
ctl flush web.codns.test >/dev/null
r1=$(reqs)
out=$(getent ahosts web.codns.test)
r2=$(reqs)
check "after flush NAME: answered" has "$out" '^192\.0\.2\.51 '
check "after flush NAME: the nscd socket asked ($r1 -> $r2)" \
    test "$r2" -gt "$r1"
py >/dev/null
ctl flush >/dev/null
r1=$(reqs)
out=$(py)
r2=$(reqs)
check "after flush: answered" has "$out" '^addrs 192\.0\.2\.51 2001:db8::51$'
check "after flush: python asks the nscd socket ($r1 -> $r2)" \
    test "$r2" -gt "$r1"

# --- /etc/hosts wins over the zone; an edit takes effect ----------------------
out=$(getent ahosts both.codns.test)
check "/etc/hosts wins: its address" has "$out" '^192\.0\.2\.99 '
check "/etc/hosts wins: not the zone's" hasnt "$out" '192\.0\.2\.53'
out=$(getent hosts both.codns.test)
check "/etc/hosts wins for getent hosts too" \
    has "$out" '^192\.0\.2\.99 +both\.codns\.test$'

# until_answer N PATTERN COMMAND...: COMMAND until its output matches
# PATTERN, at most N times, 0.2 s apart.
until_answer() {
	local n=$1 pat=$2 i
	shift 2
	for i in $(seq 1 "$n"); do
		has "$("$@" 2>&1)" "$pat" && return 0
		sleep 0.2
	done
	return 1
}
# Rewritten in place: the bind mount over /etc/hosts follows the inode.
printf '127.0.0.1 localhost\n::1 localhost\n192.0.2.98 both.codns.test\n' \
    >"$tmp/hosts"
check "/etc/hosts edited: the new address within 10 s" \
    until_answer 50 '^192\.0\.2\.98 ' getent ahosts both.codns.test
out=$(getent ahosts both.codns.test)
check "/etc/hosts edited: the old address is gone" hasnt "$out" '192\.0\.2\.99'
printf '127.0.0.1 localhost\n::1 localhost\n' >"$tmp/hosts"
check "/etc/hosts line removed: the zone answers within 10 s" \
    until_answer 50 '^192\.0\.2\.53 ' getent ahosts both.codns.test

# --- TTL expiry: the zone's TTL, cache-max-ttl, negative-ttl -----------------
# asked_again N COMMAND...: COMMAND once, then every 0.25 s, at most N
# times, until it asks the nscd socket again; its last output in out.
asked_again() {
	local n=$1 i r1
	shift
	"$@" >/dev/null 2>&1
	r1=$(reqs)
	for i in $(seq 1 "$n"); do
		sleep 0.25
		out=$("$@" 2>&1)
		[ "$(reqs)" -gt "$r1" ] && return 0
	done
	return 1
}
check "a 1 s record (zone TTL) is asked for again within 10 s" \
    asked_again 40 getent ahosts ttl1.codns.test
check "after the zone's TTL: answered" has "$out" '^192\.0\.2\.55 '

write_conf $'cache-max-ttl 1s\nnegative-ttl 1s'
ctl reload >/dev/null
ctl flush >/dev/null
check "a 300 s record under cache-max-ttl 1s is asked for again within 10 s" \
    asked_again 40 getent ahosts web.codns.test
check "after cache-max-ttl: answered" has "$out" '^192\.0\.2\.51 '
check "a negative answer under negative-ttl 1s is asked for again within 10 s" \
    asked_again 40 getent ahosts nxttl.codns.test

# --- 8 threads resolve while the table is flushed, entries live 1 s --------
# ttl1's entry expires every second by the zone's TTL, and is flushed.
ns_flusher 0.05
r1=$(reqs)
check "stress: 8 threads x 2000 getaddrinfo while flushing" \
    "$bin/stress" -t 8 -n 2000 -g ttl1.codns.test 192.0.2.55 2001:db8::55
wait "$flusher"
r2=$(reqs)
check "stress: the table refilled over and over ($r1 -> $r2)" \
    test "$r2" -gt $((r1 + 1))

# --- 8 Python threads resolve while the answer changes under them ----------
# dnsmasq flips flip.codns.test between set A (2 addresses) and set B (3),
# codnsd is flushed (or its 1 s entries expire) and re-resolves: every
# answer a thread gets must be exactly A or exactly B, never a mix.
# flip_step I: after flip I, a flush two times in three (the third time,
# the entry expires: cache-max-ttl is still 1s here).
flip_step() {
	[ $(($1 % 3)) -ne 0 ] && ctl flush >/dev/null 2>&1
	sleep 0.1
}
ns_flip flip_step
out=$ns_flip_out
echo "$out" | sort | uniq -c | sort -rn | head -n 5
check "8 threads while the answer flips: only whole answers" \
    has "$out" '^seen A=[1-9][0-9]* B=[1-9][0-9]* bad=0 err=0$'
check "codnsd survived the threads" kill -0 "$codnsd_pid"
write_conf ""
ctl reload >/dev/null

# --- a temporary failure is not published ----------------------------------
# The zone's nameserver stops: the lookup fails (or the fallback answers);
# once it is back, the name is answered, not a remembered failure.
ctl flush >/dev/null
f0=$(counter nscd_failed)
kill -STOP "$dnsmasq_a_pid"
SECONDS=0
out=$(timeout 30 getent ahosts web.codns.test)
echo "getaddrinfo, nameserver stopped: ${SECONDS}s: $out"
# GETHOSTBYNAME and GETHOSTBYADDR failures are left to NSS, which says
# TRY_AGAIN (h_errno), and EAI_AGAIN to getaddrinfo for IPv4 alone.
SECONDS=0
out2=$(timeout 30 python3 - <<'EOF'
import ctypes, socket
libc = ctypes.CDLL("libc.so.6")
libc.gethostbyname.restype = ctypes.c_void_p
libc.gethostbyname.argtypes = [ctypes.c_char_p]
libc.__h_errno_location.restype = ctypes.POINTER(ctypes.c_int)
p = libc.gethostbyname(b"v4.codns.test")
print("byname", "found" if p else "null", libc.__h_errno_location()[0])
try:
    print("byaddr", socket.gethostbyaddr("192.0.2.52"))
except socket.herror as e:
    print("byaddr herror", e.errno)
try:
    socket.getaddrinfo("v4.codns.test", 80, socket.AF_INET)
except socket.gaierror as e:
    print("getaddrinfo AF_INET:", e)
EOF
)
echo "nameserver stopped: ${SECONDS}s: $out2"
kill -CONT "$dnsmasq_a_pid"
f1=$(counter nscd_failed)
check "nameserver stopped: no answer from the zone" hasnt "$out" '192\.0\.2\.51'
check "nameserver stopped: codnsd counted failed lookups ($f0 -> $f1)" \
    test "$f1" -gt "$f0"
check "gethostbyname, nameserver stopped: TRY_AGAIN" \
    has "$out2" '^byname null 2$'
check "gethostbyaddr, nameserver stopped: TRY_AGAIN" \
    has "$out2" '^byaddr herror 2$'
check "AF_INET getaddrinfo, nameserver stopped: EAI_AGAIN" \
    has "$out2" '^getaddrinfo AF_INET: \[Errno -3\]'
out=$(getent ahosts web.codns.test)
check "nameserver back: the zone answers (no failure was published)" \
    has "$out" '^192\.0\.2\.51 '

# --- a reload with a new cache-size: a running process maps the new table ---
ns_look_across "$tmp/py-remap.out" reloaded a bc
m0=$(counter nscd_tables_handed)
write_conf "cache-size 5000"
ctl reload >/dev/null
r1=$(reqs)
: >"$tmp/reloaded"
wait "$look_pid"
m1=$(counter nscd_tables_handed)
r2=$(reqs)
out=$(cat "$tmp/py-remap.out")
check "reload with a new cache-size: the process asked for the new table" \
    test "$m1" -eq $((m0 + 1))
check "reload: the process answers from the new table" \
    has "$out" "^c \['192\.0\.2\.51', '2001:db8::51'\]$"
# b: a miss if the new table starts empty; c: a hit in it.
check "reload: at most one lookup asked for two ($r1 -> $r2)" \
    test "$r2" -le $((r1 + 1))
write_conf ""
ctl reload >/dev/null

# --- codnsd stops: the table is dead, "dns" answers ----------------------
# One process keeps the table mapped across the stop.
getent ahosts web.codns.test >/dev/null
ns_look_across "$tmp/py-stop.out" stopped a b
kill -TERM "$codnsd_pid"
wait "$codnsd_pid" 2>/dev/null
: >"$tmp/stopped"
wait "$look_pid"
out=$(getent ahosts web.codns.test)
check "codnsd stopped: a new process gets dns's answer" \
    has "$out" '^192\.0\.2\.151 '
check "codnsd stopped: not the old table's" hasnt "$out" '192\.0\.2\.51 '
out=$(cat "$tmp/py-stop.out")
check "running process: the table's answer before the stop" \
    has "$out" "^a \['192\.0\.2\.51', '2001:db8::51'\]$"
check "running process: dns's answer after the stop" \
    has "$out" "^b \['192\.0\.2\.151', '2001:db8::151'\]$"
out=$(getent passwd root)
check "codnsd stopped: passwd still answers" has "$out" '^root:'

# --- codnsd never asks itself ----------------------------------------------
# Its own passwd and group lookups (dropping to "user" at start, the
# control-group check of a "top" from another user) would go to the nscd
# socket, which only its own loop answers: a 5 s stall each, then the
# request is accepted and counted in nscd_self_requests. codnsd sets them
# to nsswitch.conf's sources (__nss_configure_lookup), so none is made.
write_conf $'user nobody\ncontrol-group root'
ns_codnsd || exit 99
for _ in $(seq 1 100); do
	[ -S "$nscd_socket" ] && break
	sleep 0.05
done
check "user nobody: codnsd dropped privileges" \
    test "$(stat -c %u "/proc/$codnsd_pid")" != 0
out=$(setpriv --reuid=1 --regid=1 --clear-groups \
    "$codnsctl" -s "$tmp/run/control.sock" top 2>&1)
check "top from uid 1: refused after the control-group lookup ($out)" \
    hasnt "$out" '^top names'
n=$(counter nscd_self_requests)
check "codnsd's own passwd and group lookups never reached its socket ($n)" \
    test "$n" = 0
out=$(getent ahosts web.codns.test)
check "and it answers through the nscd socket" has "$out" '^192\.0\.2\.51 '

ns_finish "$tmp"/*.log "$tmp"/*.out
