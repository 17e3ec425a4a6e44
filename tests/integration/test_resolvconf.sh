#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_resolvconf.sh: codnsd without "upstream" lines
# follows resolv.conf as it changes, by itself and on SIGHUP, and no lookup
# in flight is lost across the switch.
#
# resolv.conf nameservers are always port 53, so this runs in a network
# namespace of its own (unshare -n) where 127.0.0.2-4:53 are free:
#   127.0.0.3  dnsmasq "dead", SIGSTOPped: it never answers
#   127.0.0.2  dnsmasq "live", serves a zone
#   127.0.0.4  dnsmasq "next", the same names with other addresses
# codnsd reads the test's resolv.conf through "resolv-conf PATH".
T_NETNS=1
. "$(dirname "$0")/lib.sh"

echo "host-record=web.test.example,192.0.2.10" >"$T_DIR/dead.zone"
echo "host-record=web.test.example,192.0.2.20" >"$T_DIR/live.zone"
echo "host-record=web.test.example,192.0.2.40" >"$T_DIR/next.zone"
numbered_hosts live n 20 100
numbered_hosts next n 20 100
start_dnsmasq dead 127.0.0.3 53 || exit 99
start_dnsmasq live 127.0.0.2 53 || exit 99
start_dnsmasq next 127.0.0.4 53 || exit 99
kill -STOP "$DNSMASQ_PID_dead"

rc=$T_DIR/resolv.conf
# timeout 1 s, 2 attempts: lookups on the dead nameserver stay in flight
# for a while (the default deadline follows them: 2 s) and then fail.
printf 'nameserver 127.0.0.3\noptions timeout:1 attempts:2\n' >"$rc"

LISTEN_a=127.0.0.1:$(free_port)
cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
resolv-conf $rc
control-socket $T_DIR/a.sock
peers-file $T_DIR/no-peers
negative-ttl 0s
EOF
start_codnsd a || exit 99

status() {
	python3 "$LOOKUP_PY" "$LISTEN_a" "$1" 4 |
	    python3 -c 'import ast,sys; r=ast.literal_eval(sys.stdin.read());
print(r["status"], ",".join(r["addrs"]))'
}

out=$(status web.test.example)
ok "dead nameserver: try again ($out)" test "$out" = "tryagain "
ok "status shows the dead nameserver" eval \
    'ctl a status | grep -q "127\.0\.0\.3:53"'

# Lookups all the way through the switch, every outcome counted: a lookup
# is lost if no answer comes back on its connection.
python3 - "$LISTEN_a" "$T_DIR/stop" "$T_DIR/ready" >"$T_DIR/load.out" 2>&1 \
    <<'PY' &
import os, sys, threading, time
import lookup
addr, stop, ready = sys.argv[1], sys.argv[2], sys.argv[3]
res = {"found": 0, "tryagain": 0, "other": 0, "lost": 0}
lock = threading.Lock()
def worker(k):
    # Each worker goes on until it saw the new nameservers answer: codnsd
    # may follow the switch before a worker's first lookup, stuck on the
    # dead nameserver, has failed.
    s = lookup.connect(addr)
    found = False
    for i in range(2000):
        if found and os.path.exists(stop):
            break
        name = "n%d.test.example" % (1 + (i + k) % 20)
        try:
            s.sendall(lookup.request(i + 1, name, 4))
            if i == 0:
                open(ready, "w").close()
            st = lookup.response(s)["status"]
        except (OSError, EOFError):
            st = "lost"
            s = lookup.connect(addr)
        found = found or st == "found"
        with lock:
            res[st if st in res else "other"] += 1
        time.sleep(0.05)
ts = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("found=%(found)d tryagain=%(tryagain)d other=%(other)d lost=%(lost)d"
      % res)
PY
load_pid=$!
T_PIDS="$T_PIDS $load_pid"
# Python starts slowly on a busy machine: switch once lookups are going.
for _ in $(seq 1 300); do
	[ -e "$T_DIR/ready" ] && break
	sleep 0.1
done
sleep 0.3

# await_web WANT: until web.test.example's lookup says WANT (at most 100
# tries); the last answer in $out.
await_web() {
	out=
	for _ in $(seq 1 100); do
		out=$(status web.test.example)
		[ "$out" = "$1" ] && break
		sleep 0.1
	done
}

# 1. resolv.conf is replaced (a new file renamed over it, as resolvconf and
# DHCP clients do): no SIGHUP, codnsd notices (inotify, filewatch.c).
printf 'nameserver 127.0.0.2\noptions timeout:1 attempts:2\n' >"$rc.new"
mv "$rc.new" "$rc"
await_web "found 192.0.2.20"
ok "resolv.conf changed: answers from the new nameserver ($out)" \
    test "$out" = "found 192.0.2.20"
ok "status shows the new nameserver" eval \
    'ctl a status | grep -q "127\.0\.0\.2:53"'

# 2. Rewritten in place, then SIGHUP: the next lookup already uses it, and
# web.test.example, cached from the live nameserver (TTL 300), is not
# answered from the cache: other nameservers, other answers.
printf 'nameserver 127.0.0.4\noptions timeout:1 attempts:2\n' >"$rc"
kill -HUP "$CODNSD_PID_a"
await_web "found 192.0.2.40"
ok "SIGHUP after a second change: the next nameserver ($out)" \
    test "$out" = "found 192.0.2.40"
sleep 1
touch "$T_DIR/stop"
wait "$load_pid"
load=$(cat "$T_DIR/load.out")
echo "load: $load"
ok "lookups across both switches: none lost" \
    eval 'echo "$load" | grep -q " lost=0$"'
ok "lookups across both switches: some failed on the dead nameserver" \
    eval 'echo "$load" | grep -Eq "tryagain=[1-9]"'
ok "lookups across both switches: some found after the switch" \
    eval 'echo "$load" | grep -Eq "found=[1-9]"'
ok "lookups across both switches: no other outcome" \
    eval 'echo "$load" | grep -q " other=0 "'
ok "the change was logged" grep -q "resolv.conf changed" \
    "$T_DIR/a.codnsd.log"
ok "codnsd still running" kill -0 "$CODNSD_PID_a"
finish
