#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_nscd_live.sh: glibc stops reading codnsd's nscd-format
# table soon after codnsd is killed (issue 22), instead of trusting it for
# the 5 minutes its client allows a mapping whose timestamp stopped.
#
# Runs itself again inside new mount and network namespaces (unshare -mn),
# mounts a tmpfs over the run directory there (glibc's socket path is
# fixed) and gives codnsd nscd's socket, with "hosts: files dns", and
# starts
#   dnsmasq A on 127.0.0.1:5300  the zone codnsd resolves through (.51,
#                                TTL 300 s),
#   dnsmasq B on 127.0.0.1:53    the "dns" fallback (.151).
# One Python process resolves web.codns.test through glibc's nscd client
# (the mapped table), then codnsd is killed with SIGKILL, and the same
# process resolves again every 0.5 s, at most 60 times: it must get dns's
# answer, well before the answer's TTL; the number of tries is printed.
set -u

ns_name=test_nscd_live
. "$(dirname "$0")/ns_lib.sh"

ns_require "$codnsd" "$codnsctl" "$dnsmasq" -- python3
ns_enter "$@"
ns_begin nss-nscdlive
chmod 755 "$tmp"
ns_loopback
run_dir=$(readlink -f /var/run)
mount -t tmpfs -o mode=755 tmpfs "$run_dir" || exit 99
nscd_socket=/var/run/nscd/socket
ns_etc $'hosts: files dns\n' $'127.0.0.1 localhost\n' \
    $'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'
zones=(--local=/codns.test/)
ns_dnsmasq 5300 dnsmasq-a "${zones[@]}" --local-ttl=300 \
    --host-record=web.codns.test,192.0.2.51 || exit 99
ns_dnsmasq 53 dnsmasq-b "${zones[@]}" \
    --host-record=web.codns.test,192.0.2.151 || exit 99
mkdir -m 755 "$tmp/run"
ns_conf "lookup-socket $tmp/run/lookup.sock" "upstream 127.0.0.1:5300" \
    "nscd-socket $nscd_socket"
ns_codnsd || exit 99
for _ in $(seq 1 100); do
	[ -S "$nscd_socket" ] && break
	sleep 0.05
done

python3 -u - "$tmp/killed" >"$tmp/py.out" 2>&1 <<'EOF' &
import os, socket, sys, time

def ask():
    try:
        return sorted(set(a[4][0] for a in socket.getaddrinfo(
            "web.codns.test", None, socket.AF_INET)))
    except socket.gaierror as e:
        return ["error %s" % e]

print("before", *ask())
print("before", *ask())  # the second from the mapped table
for _ in range(400):
    if os.path.exists(sys.argv[1]):
        break
    time.sleep(0.05)
for i in range(60):
    r = ask()
    if "192.0.2.151" in r:
        print("after", i + 1, *r)
        break
    time.sleep(0.5)
else:
    print("after never", *r)
EOF
py=$!
pids="$pids $py"
for _ in $(seq 1 200); do
	[ "$(grep -c '^before' "$tmp/py.out")" -ge 2 ] && break
	sleep 0.05
done
h0=$(counter nscd_tables_handed)
kill -KILL "$codnsd_pid"
wait "$codnsd_pid" 2>/dev/null
: >"$tmp/killed"
wait "$py"
out=$(cat "$tmp/py.out")
echo "$out"
check "before: codnsd's answer through nscd" has "$out" '^before 192\.0\.2\.51$'
check "the process mapped codnsd's table ($h0 handed)" test "${h0:-0}" -ge 1
check "after SIGKILL: dns answers in the same process" \
    has "$out" '^after [0-9]+ 192\.0\.2\.151$'

ns_finish "$tmp/codnsd.log"
