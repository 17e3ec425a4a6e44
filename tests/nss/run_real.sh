#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/run_real.sh: real programs resolve through nss_codns and codnsd.
#
# Runs itself again inside new mount and network namespaces (unshare -mn),
# where only a private loopback exists: nothing can reach the machine's own
# nameserver or the internet, and fixed ports are free. There it bind-mounts
# its own nsswitch.conf ("hosts: files codns [!UNAVAIL=return] dns"),
# hosts and resolv.conf over /etc, and starts
#   dnsmasq A on 127.0.0.1:5300  the zone codnsd resolves through,
#   dnsmasq B on 127.0.0.1:53    the zone the "dns" fallback sees, with
#                                different addresses, so each answer shows
#                                which path gave it,
#   codnsd on its default lookup socket ($runstatedir, on a private tmpfs
#                                here) and 127.0.0.1:7053.
# Then getent, Python and libc_calls must give zone A's answers; a name only
# in zone B must stay unknown (codns is authoritative when it answers); with
# codnsd hung or killed they must give zone B's (fall-through on UNAVAIL).
# With codnsd hung, one process pays the timeout once, not per call. With
# codnsd down, an impostor run by nobody on 127.0.0.1:7053 or on a socket
# the trust rule refuses must not answer (nss_codns.8).
# Needs root (or user namespaces), dnsmasq, getent and the built codnsd.
set -u

ns_name=run_real
. "$(dirname "$0")/ns_lib.sh"
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

ns_require "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" \
    "$bin/libc_calls" "$bin/stress" -- getent
ns_enter "$@"
ns_begin nss-real
ns_loopback v6
# The namespace's /etc: only codns and the loopback nameserver B.
ns_etc $'hosts: files codns [!UNAVAIL=return] dns\n' \
    $'127.0.0.1 localhost\n::1 localhost\n' \
    $'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'
# codnsd's default socket directory, private to this namespace.
rsd=${CODNS_RUNSTATEDIR:-/run}
ns_rundir "$rsd"
zones=(--local=/codns.test/ --local=/2.0.192.in-addr.arpa/
    --local=/8.b.d.0.1.0.0.2.ip6.arpa/)
ns_dnsmasq 5300 dnsmasq-a "${zones[@]}" \
    --host-record=web.codns.test,192.0.2.51,2001:db8::51 \
    --cname=www.codns.test,web.codns.test \
    --host-record=v4.codns.test,192.0.2.52 \
    --host-record=v6.codns.test,2001:db8::53 || exit 99
ns_dnsmasq 53 dnsmasq-b "${zones[@]}" \
    --host-record=web.codns.test,192.0.2.151,2001:db8::151 \
    --host-record=onlydns.codns.test,192.0.2.152 || exit 99

# No lookup-socket line: the default one, which the module uses.
ns_conf "upstream 127.0.0.1:5300"

ns_codnsd || exit 99

export LD_LIBRARY_PATH="$module_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset CODNS_LOOKUP_ADDRESS CODNS_TIMEOUT_MS

# --- through codnsd: zone A ------------------------------------------------
out=$(getent hosts web.codns.test)
check "getent hosts web" has "$out" '^(192\.0\.2\.51|2001:db8::51) +web\.codns\.test$'
out=$(getent ahosts web.codns.test)
check "getent ahosts web has both families" \
    eval 'has "$out" "^192\.0\.2\.51 +STREAM" &&
    has "$out" "^2001:db8::51 +STREAM" && has "$out" " web\.codns\.test$"'
check "getent ahosts web not from dns" hasnt "$out" '151'
out=$(getent ahostsv4 web.codns.test)
check "getent ahostsv4 web" eval 'has "$out" "^192\.0\.2\.51 " &&
    hasnt "$out" ":"'
out=$(getent ahostsv6 v6.codns.test)
check "getent ahostsv6 v6" eval 'has "$out" "^2001:db8::53 " &&
    hasnt "$out" "192\."'
out=$(getent ahostsv4 v6.codns.test)
check "getent ahostsv4 of an IPv6-only name fails" test -z "$out"
out=$(getent hosts www.codns.test)
check "getent hosts www: canonical name and alias" \
    has "$out" ' web\.codns\.test +www\.codns\.test$'
out=$(getent hosts 192.0.2.51)
check "getent hosts 192.0.2.51" has "$out" '^192\.0\.2\.51 +web\.codns\.test$'
out=$(getent hosts 2001:db8::51)
check "getent hosts 2001:db8::51" has "$out" '^2001:db8::51 +web\.codns\.test$'
getent hosts nx.codns.test >/dev/null
check "getent hosts of an unknown name: exit 2" test $? -eq 2
getent hosts onlydns.codns.test >/dev/null
check "NOTFOUND from codns stops before dns" test $? -eq 2

out=$(python3 - <<'EOF'
import socket
ai = socket.getaddrinfo("www.codns.test", 80, 0, socket.SOCK_STREAM, 0,
                        socket.AI_CANONNAME)
print("canon", ai[0][3])
for a in sorted(set(x[4][0] for x in ai)):
    print("addr", a)
print("v4", socket.gethostbyname("v4.codns.test"))
n, al, ad = socket.gethostbyaddr("192.0.2.51")
print("ptr4", n, ad)
n, al, ad = socket.gethostbyaddr("2001:db8::51")
print("ptr6", n, ad)
try:
    socket.getaddrinfo("nx.codns.test", 80)
except socket.gaierror as e:
    print("nx", e.errno == socket.EAI_NONAME)
EOF
)
check "python getaddrinfo canonical name" has "$out" '^canon web\.codns\.test$'
check "python getaddrinfo addresses" eval 'has "$out" "^addr 192\.0\.2\.51$" &&
    has "$out" "^addr 2001:db8::51$" && test $(echo "$out" | grep -c ^addr) = 2'
check "python gethostbyname" has "$out" '^v4 192\.0\.2\.52$'
check "python gethostbyaddr v4" has "$out" "^ptr4 web\.codns\.test \['192\.0\.2\.51'\]$"
check "python gethostbyaddr v6" has "$out" "^ptr6 web\.codns\.test \['2001:db8::51'\]$"
check "python getaddrinfo unknown: EAI_NONAME" has "$out" '^nx True$'

out=$("$bin/libc_calls" www.codns.test)
check "libc getaddrinfo" has "$out" \
    '^getaddrinfo: web\.codns\.test addrs=(192\.0\.2\.51,2001:db8::51|2001:db8::51,192\.0\.2\.51)$'
check "libc getaddrinfo AF_INET" has "$out" \
    '^getaddrinfo4: web\.codns\.test addrs=192\.0\.2\.51$'
check "libc getaddrinfo AF_INET6" has "$out" \
    '^getaddrinfo6: web\.codns\.test addrs=2001:db8::51$'
check "libc gethostbyname" has "$out" \
    '^gethostbyname: web\.codns\.test aliases=www\.codns\.test addrs=192\.0\.2\.51$'
check "libc gethostbyname2 AF_INET6" has "$out" \
    '^gethostbyname2: web\.codns\.test aliases=www\.codns\.test addrs=2001:db8::51$'
check "libc gethostbyname_r" has "$out" \
    '^gethostbyname_r: web\.codns\.test aliases=www\.codns\.test addrs=192\.0\.2\.51$'
out=$("$bin/libc_calls" -x 192.0.2.51)
check "libc gethostbyaddr v4" has "$out" \
    '^gethostbyaddr: web\.codns\.test aliases= addrs=192\.0\.2\.51$'
check "libc getnameinfo v4" has "$out" '^getnameinfo: web\.codns\.test$'
out=$("$bin/libc_calls" -x 2001:db8::51)
check "libc gethostbyaddr v6" has "$out" \
    '^gethostbyaddr: web\.codns\.test aliases= addrs=2001:db8::51$'
out=$("$bin/libc_calls" v4.codns.test)
check "libc gethostbyname2 AF_INET6 of an IPv4-only name fails" \
    has "$out" '^gethostbyname2: error 4$'

# 8 threads x 2000 getaddrinfo() through nsswitch, under valgrind if any.
calls=${CODNS_STRESS_CALLS:-2000}
if command -v valgrind >/dev/null; then
	vg="valgrind -q --error-exitcode=1 --errors-for-leak-kinds=definite --leak-check=full"
else
	vg=
fi
check "stress: 8 threads x $calls getaddrinfo" \
    $vg "$bin/stress" -t 8 -n "$calls" -g web.codns.test 192.0.2.51 2001:db8::51

# --- codnsd hung: after the answer timeout, the dns module answers ---------
kill -STOP "$codnsd_pid"
out=$(CODNS_TIMEOUT_MS=300 getent ahosts web.codns.test)
check "codnsd stopped: getent falls through to dns" \
    eval 'has "$out" "^192\.0\.2\.151 " && hasnt "$out" "\.51 "'
# Five calls in one process: the first waits out the timeout, the others
# are answered UNAVAIL at once from the module's memory of a hung daemon;
# with that memory off (CODNS_HUNG_MS=0) each call waits.
out=$(CODNS_TIMEOUT_MS=300 "$bin/hung_calls" 5 web.codns.test)
echo "hung daemon, memory on:  $out"
check "codnsd stopped: 5 calls in one process, one waits" \
    has "$out" '^waited=1 fast=4 '
out=$(CODNS_HUNG_MS=0 CODNS_TIMEOUT_MS=300 "$bin/hung_calls" 5 web.codns.test)
echo "hung daemon, memory off: $out"
check "codnsd stopped, no memory: all 5 calls wait" has "$out" '^waited=5 '
kill -CONT "$codnsd_pid"
out=$(getent ahostsv4 web.codns.test)
check "codnsd continued: answers again" has "$out" '^192\.0\.2\.51 '

# --- codnsd gone: refused at once, the dns module answers -------------------
kill -TERM "$codnsd_pid"
wait "$codnsd_pid" 2>/dev/null
out=$(getent ahosts web.codns.test)
check "codnsd killed: getent ahosts from dns" \
    eval 'has "$out" "^192\.0\.2\.151 " && has "$out" "^2001:db8::151 "'
out=$(getent hosts onlydns.codns.test)
check "codnsd killed: a dns-only name resolves" has "$out" '^192\.0\.2\.152 '
out=$("$bin/libc_calls" -x 192.0.2.151)
check "codnsd killed: gethostbyaddr from dns" has "$out" \
    '^gethostbyaddr: web\.codns\.test aliases= addrs=192\.0\.2\.151$'

# --- impostors while codnsd is down (nss_codns.8, the trust rule) ---------
py=$srcdir/tests/integration
# The system's python: a per-user one (pyenv) is not nobody's to run.
pyn=/usr/bin/python3
[ -x "$pyn" ] || pyn=python3
start_impostor() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$pyn" "$py/impostor.py" "$1" 192.0.2.66 60 >"$tmp/imp.out" 2>&1 &
	pids="$pids $!"
	imp_pid=$!
	for _ in $(seq 1 100); do
		grep -q ready "$tmp/imp.out" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$tmp/imp.out" >&2
	return 1
}
stop_impostor() {
	kill "$imp_pid" 2>/dev/null
	wait "$imp_pid" 2>/dev/null
}
from_dns() {
	has "$1" '^192\.0\.2\.151 ' && hasnt "$1" '192\.0\.2\.66'
}

start_impostor 127.0.0.1:7053 || exit 99
out=$(getent ahostsv4 web.codns.test)
check "nobody on 127.0.0.1:7053: getent gets nothing from the impostor" \
    from_dns "$out"
out=$(CODNS_LOOKUP_ADDRESS=127.0.0.1:7053 getent ahostsv4 web.codns.test)
check "(control: the impostor answers when TCP is asked for)" \
    has "$out" '^192\.0\.2\.66 '
stop_impostor

mkdir -m 0777 "$rsd/open"
start_impostor "$rsd/open/lookup.sock" || exit 99
out=$(CODNS_LOOKUP_SOCKET=$rsd/open/lookup.sock getent ahostsv4 web.codns.test)
check "a socket in a directory writable by others is refused" \
    from_dns "$out"
stop_impostor

mkdir -m 0755 "$rsd/nobody" "$rsd/root"
chown nobody "$rsd/nobody"
start_impostor "$rsd/nobody/lookup.sock" || exit 99
# The rule is the one documented: root's, the caller's own or the
# daemon user's directory. nobody's directory, closed to others, is still
# nobody's to fill: root refuses it (issue 20), nobody trusts it.
out=$(CODNS_LOOKUP_SOCKET=$rsd/nobody/lookup.sock getent ahostsv4 web.codns.test)
check "nobody's socket in nobody's own directory is refused for root" \
    from_dns "$out"
out=$(CODNS_LOOKUP_SOCKET=$rsd/nobody/lookup.sock \
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
    getent ahostsv4 web.codns.test)
check "(control: nobody trusts nobody's socket in its own directory)" \
    has "$out" '^192\.0\.2\.66 '
mv "$rsd/nobody/lookup.sock" "$rsd/root/lookup.sock"
out=$(CODNS_LOOKUP_SOCKET=$rsd/root/lookup.sock getent ahostsv4 web.codns.test)
check "nobody's socket in root's directory is refused" from_dns "$out"
stop_impostor

ns_finish "$tmp"/*.log
