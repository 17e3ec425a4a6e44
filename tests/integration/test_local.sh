#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_local.sh: codnsd's local path against a real
# dnsmasq on loopback: forward, reverse, negatives, cache, coalescing,
# a stopped upstream, bad frames, SIGHUP under load, shutdown.
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port)
LPORT=$(free_port)
LISTEN_a=127.0.0.1:$LPORT

cat >"$T_DIR/ns.zone" <<EOF
host-record=ping.test.example,192.0.2.1
host-record=www.test.example,192.0.2.10,2001:db8::10
host-record=v4.test.example,192.0.2.11
host-record=v6.test.example,2001:db8::11
host-record=cached.test.example,192.0.2.12
host-record=coalesce.test.example,192.0.2.13
host-record=slow.test.example,192.0.2.14
cname=alias.test.example,www.test.example
cname=alias2.test.example,alias.test.example
txt-record=nodata.test.example,"no address here"
EOF
numbered_hosts ns load 20 100
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
upstream 127.0.0.1:$NSPORT
upstream-timeout 5s
lookup-timeout 2s
control-socket $T_DIR/a.sock
peers-file $T_DIR/no-peers
pidfile $T_DIR/a.pid
EOF
start_codnsd a || exit 1

# lookup_has ARGS... -- PATTERN...: codnsctl lookup output has every line.
lookup_has() {
	local args=() out p
	while [ "$1" != "--" ]; do
		args+=("$1")
		shift
	done
	shift
	out=$(ctl a lookup "${args[@]}" 2>&1)
	for p in "$@"; do
		if ! grep -qE -- "$p" <<<"$out"; then
			echo "  missing /$p/ in:" >&2
			sed 's/^/    /' <<<"$out" >&2
			return 1
		fi
	done
}

# exit_is N ARGS...: codnsctl lookup ARGS exits with N.
exit_is() {
	local want=$1 rc=0
	shift
	ctl a lookup "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || { echo "  exit $rc, wanted $want" >&2; return 1; }
}

ok "forward A" lookup_has -4 www.test.example -- "address  192.0.2.10$" \
	"source   local"
ok "forward A has no AAAA" eval "! ctl a lookup -4 www.test.example | grep -q 2001:db8"
ok "forward AAAA" lookup_has -6 www.test.example -- "address  2001:db8::10$"
ok "forward both families" lookup_has v4.test.example -- "192.0.2.11" \
	"name     v4.test.example"
ok "unspec gets A and AAAA" lookup_has www.test.example -- \
	"address  192.0.2.10$" "address  2001:db8::10$"
ok "A of an AAAA-only name is no data" lookup_has -4 v6.test.example -- "no data"
ok "CNAME chain: canonical name and aliases" lookup_has -4 alias2.test.example \
	-- "name     www.test.example" "alias    alias2.test.example" \
	"alias    alias.test.example" "address  192.0.2.10"
ok "reverse IPv4" lookup_has -x 192.0.2.10 -- "name     www.test.example" \
	"address  192.0.2.10"
ok "reverse IPv6" lookup_has -x 2001:db8::10 -- "name     www.test.example"
ok "NXDOMAIN is not found, exit 1" lookup_has nx.test.example -- "not found"
ok "NXDOMAIN exit status 1" exit_is 1 nx.test.example
ok "NODATA is no data, exit 1" lookup_has -4 nodata.test.example -- "no data"
ok "NODATA exit status 1" exit_is 1 -6 nodata.test.example
ok "found exit status 0" exit_is 0 www.test.example
ok "reverse of an unknown address is not found" exit_is 1 -x 192.0.2.250
ok "invalid name is an error, exit 2" exit_is 2 "bad..name"

# Cache: two lookups, one upstream query; the second comes from the cache.
ok "first lookup is local" lookup_has -4 cached.test.example -- "source   local" \
	"ttl      300s"
ok "second lookup is a cache hit" lookup_has -4 cached.test.example -- \
	"source   cache"
ok "upstream saw one query for two lookups" \
	test "$(queries ns cached.test.example A)" -eq 1
ok "negative answers are cached" eval "ctl a lookup -4 nx.test.example | grep -q 'source   local' && ctl a lookup -4 nx.test.example | grep -q 'source   cache'"

# Coalescing: hold the upstream so 20 identical lookups overlap.
kill -STOP "$DNSMASQ_PID_ns"
python3 - "$LISTEN_a" >"$T_DIR/coalesce.out" <<'PY' &
import sys, threading, lookup
res = []
def one():
    s = lookup.connect(sys.argv[1])
    s.sendall(lookup.request(1, "coalesce.test.example", 4))
    res.append(lookup.response(s)["status"])
ts = [threading.Thread(target=one) for _ in range(20)]
[t.start() for t in ts]
[t.join() for t in ts]
print(" ".join(res))
PY
COALESCE_PID=$!
sleep 0.4
kill -CONT "$DNSMASQ_PID_ns"
wait "$COALESCE_PID"
ok "20 concurrent identical lookups all found" \
	test "$(grep -o found "$T_DIR/coalesce.out" | wc -l)" -eq 20
ok "coalesced into one upstream query" \
	test "$(queries ns coalesce.test.example A)" -eq 1

# A stopped upstream: try-again by lookup-timeout, others still served.
timeouts() {
	ctl a --json stats | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["counters"]["lookups_timeout"])'
}
TIMEOUTS0=$(timeouts)
kill -STOP "$DNSMASQ_PID_ns"
ctl a lookup -4 slow.test.example >"$T_DIR/slow.out" 2>&1 &
SLOW_PID=$!
sleep 0.3
ok "cached name served while upstream is stopped" lookup_has -4 \
	cached.test.example -- "source   cache"
SLOW_RC=0
wait "$SLOW_PID" || SLOW_RC=$?
kill -CONT "$DNSMASQ_PID_ns"
ok "stopped upstream gives try again" grep -q "try again" "$T_DIR/slow.out"
ok "try again exits 2" test "$SLOW_RC" -eq 2
# upstream-timeout is 5 s and lookup-timeout 2 s: the daemon counts which
# one ended the lookup.
ok "try again comes from lookup-timeout, counted once" \
	test "$(timeouts)" -eq $((TIMEOUTS0 + 1))
ok "after SIGCONT the name resolves" lookup_has -4 slow.test.example -- \
	"192.0.2.14"

# Garbage and truncated frames: the connection is dropped, daemon serves.
python3 - "$LISTEN_a" >"$T_DIR/garbage.out" 2>&1 <<'PY'
import socket, struct, sys, lookup
host, port = sys.argv[1].rsplit(":", 1)
def closed_after(data):
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(data)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
ok = []
ok.append(closed_after(b"\x00\x05hello"))                  # bad version
ok.append(closed_after(b"\xff\xff" + b"x" * 100))           # too long
ok.append(closed_after(b"\x00\x00"))                        # zero length
ok.append(closed_after(struct.pack("!HBBIBBB", 9, 1, 1, 1, 0, 9, 1) + b"a"))
body = struct.pack("!BBIBBB", 1, 1, 5, 0, 4, 20) + b"www.test.example"
ok.append(closed_after(struct.pack("!H", len(body)) + body))  # short name
# A half-sent frame leaves the daemon serving others.
half = socket.create_connection((host, int(port)), timeout=5)
half.sendall(lookup.request(1, "www.test.example", 4)[:7])
s = lookup.connect(sys.argv[1])
s.sendall(lookup.request(2, "www.test.example", 4))
ok.append(lookup.response(s)["status"] == "found")
print(" ".join("ok" if x else "bad" for x in ok))
PY
ok "garbage and truncated frames drop the connection, others served" \
	grep -qx "ok ok ok ok ok ok" "$T_DIR/garbage.out"

# Pipelining: many requests on one connection, answered by id.
python3 - "$LISTEN_a" >"$T_DIR/pipe.out" <<'PY'
import sys, lookup
s = lookup.connect(sys.argv[1])
names = ["www.test.example", "v4.test.example", "nx.test.example"] * 10
s.sendall(b"".join(lookup.request(i + 1, n, 4) for i, n in enumerate(names)))
got = {}
for _ in names:
    r = lookup.response(s)
    got[r["id"]] = r["status"]
want = {i + 1: ("notfound" if n.startswith("nx") else "found")
        for i, n in enumerate(names)}
print("ok" if got == want else "bad %r" % got)
PY
ok "30 pipelined requests answered by id" grep -qx ok "$T_DIR/pipe.out"

# SIGHUP under load: no lookup fails.
NAMES=$(seq -s, -f "load%g.test.example" 1 20)
python3 "$srcdir/tests/integration/load.py" "$LISTEN_a" 4000 8 "$NAMES" 8 \
	>"$T_DIR/load.out" &
LOAD_PID=$!
for _ in 1 2 3 4 5; do
	sleep 0.1
	kill -HUP "$CODNSD_PID_a"
done
wait "$LOAD_PID"
ok "SIGHUP under load: 4000 answered, all found ($(cat "$T_DIR/load.out"))" \
	grep -qx "answered=4000 found=4000 other=0 errors=0" "$T_DIR/load.out"
ok "daemon logged the reloads" grep -q "configuration reloaded" \
	"$T_DIR/a.codnsd.log"

# A reload with a broken config keeps the old one.
cp "$T_DIR/a.codnsd.conf" "$T_DIR/a.good"
echo "no-such-key 1" >>"$T_DIR/a.codnsd.conf"
BADLINE=$(wc -l <"$T_DIR/a.codnsd.conf")
kill -HUP "$CODNSD_PID_a"
sleep 0.3
ok "broken config on SIGHUP is reported with file:line" \
	grep -q "a.codnsd.conf:$BADLINE:" "$T_DIR/a.codnsd.log"
cp "$T_DIR/a.good" "$T_DIR/a.codnsd.conf"
ok "still serving after a failed reload" lookup_has -4 www.test.example -- \
	"192.0.2.10"

# -t checks a config.
ok "codnsd -t accepts a good config" "$CODNSD" -t -c "$T_DIR/a.codnsd.conf"
printf 'listen 127.0.0.1:1\nupstream-timeout 5 parsecs\n' >"$T_DIR/bad.conf"
ok "codnsd -t rejects a bad config with file:line" eval \
	"! '$CODNSD' -t -c '$T_DIR/bad.conf' 2>'$T_DIR/t.err' && grep -q 'bad.conf:2:' '$T_DIR/t.err'"

# Clean shutdown on SIGTERM: exit 0, pidfile removed.
ok "pidfile written" test -s "$T_DIR/a.pid"
ok "SIGTERM exits 0" stop_pid "$CODNSD_PID_a"
ok "pidfile removed" test ! -e "$T_DIR/a.pid"
if [ -n "${CODNSD_WRAPPER:-}" ]; then
	ok "valgrind: no errors" grep -q "ERROR SUMMARY: 0 errors" \
		"$T_DIR/a.codnsd.log"
	ok "valgrind: no leaks" eval "! grep -qE '(definitely|indirectly) lost: [1-9]' '$T_DIR/a.codnsd.log'"
fi
finish
