#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_deadns.sh: a dead first nameserver and a name that needs
# the search walk (issue 25 item 1), codns against glibc's dns module.
#
# In its own mount and network namespaces, resolv.conf names a nameserver
# that takes queries and never answers (a SIGSTOPped dnsmasq on 127.0.0.2)
# before a live one (dnsmasq on 127.0.0.1), with "search sub.test test" and
# ndots:2: "v4only.test" is asked as v4only.test.sub.test, v4only.test.test
# and then itself, and glibc pays the dead server's timeout for each
# candidate. codns must find what glibc finds, asking the live nameserver
# as many queries, under "hosts: codns" with the shared table and with
# "shared-cache no", for timeout:1 and timeout:2. The latencies are
# printed as figures, never asserted.
set -u

ns_name=test_deadns
. "$(dirname "$0")/ns_lib.sh"

ns_require "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" -- python3
ns_enter "$@"
ns_begin nss-deadns
ns_loopback
ns_etc $'hosts: files dns\n' $'127.0.0.1 localhost\n' ''

zone=(--local=/#/)
for m in shared noshared; do
	for t in 1 2; do
		for p in gai ghbn; do
			for side in dns codns; do
				zone+=(--host-record="$side-$m-$t-$p.test,192.0.2.11")
			done
		done
	done
done
ns_dnsmasq 53 live "${zone[@]}" || exit 99
"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=53 \
    --listen-address=127.0.0.2 --bind-interfaces --user=root --pid-file= \
    --local=/#/ >"$tmp/dead.log" 2>&1 &
dead_pid=$!
pids="$pids $dead_pid"
wait_tcp 127.0.0.2 53 || exit 99
kill -STOP "$dead_pid"

ns_module "$tmp/lookup.sock" CODNS_TIMEOUT_MS LOCALDOMAIN RES_OPTIONS \
    HOSTALIASES

# probe KIND NAME: one lookup in a fresh process; prints "RESULT SECONDS".
probe() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
kind, name = sys.argv[1], sys.argv[2]
eai = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}
t = time.monotonic()
try:
    if kind == "gai":
        r = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
        res = ",".join(sorted(set(x[4][0] for x in r)))
    else:
        res = socket.gethostbyname(name)
except socket.gaierror as e:
    res = "error " + eai.get(e.errno, str(e.errno))
except socket.herror as e:
    res = "herror %d" % e.errno
print("%s %.2f" % (res, time.monotonic() - t))
PY
}

codnsd_pid=
for m in shared noshared; do
	for t in 1 2; do
		printf '%s\n' 'nameserver 127.0.0.2' 'nameserver 127.0.0.1' \
		    'search sub.test test' "options ndots:2 attempts:1 timeout:$t" \
		    >"$tmp/resolv.conf"
		if [ -n "$codnsd_pid" ]; then
			kill -TERM "$codnsd_pid"
			wait "$codnsd_pid" 2>/dev/null
		fi
		if [ $m = shared ]; then
			ns_conf "lookup-socket $tmp/lookup.sock"
		else
			ns_conf "lookup-socket $tmp/lookup.sock" "shared-cache no"
		fi
		ns_codnsd || exit 99
		for p in gai ghbn; do
			printf 'hosts: files dns\n' >"$tmp/nsswitch.conf"
			d=$(probe $p "dns-$m-$t-$p.test")
			printf 'hosts: files codns\n' >"$tmp/nsswitch.conf"
			c=$(probe $p "codns-$m-$t-$p.test")
			echo "figure: $m timeout:$t $p: dns ${d##* } s, codns ${c##* } s"
			check "$m timeout:$t $p: codns finds what dns finds (dns: $d; codns: $c)" \
			    test "${d% *}" = "${c% *}" -a "${d% *}" = 192.0.2.11
			qd=$(grep -c "query\[.*\] dns-$m-$t-$p\.test" "$tmp/live.log")
			qc=$(grep -c "query\[.*\] codns-$m-$t-$p\.test" "$tmp/live.log")
			check "$m timeout:$t $p: as many queries at the live nameserver ($qd, $qc)" \
			    test "$qd" = "$qc"
		done
	done
done
ns_finish "$tmp/codnsd.log"
