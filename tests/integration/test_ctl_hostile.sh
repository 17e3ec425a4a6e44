#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_ctl_hostile.sh: garbage, oversized, half-sent,
# silent and excess control clients; the daemon counts them and serves on.
. "$(dirname "$0")/ctl_lib.sh"

# --- hostile clients ----------------------------------------------------------

BAD0=$(ctl a --json stats | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["counters"]["control_bad_requests"])')
hostile() {
	python3 - "$SOCK" "$LISTEN_a" <<'PY'
import socket, sys, time, lookup
path, listen = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s
def reply(s):
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    except ConnectionResetError:
        return out
def fail(msg):
    print("  " + msg, file=sys.stderr)
    sys.exit(1)
def lookup_served():
    try:
        c = lookup.connect(listen)
        c.settimeout(5)
        c.sendall(lookup.request(1, "www.test.example", 4))
        r = lookup.response(c)
        c.close()
        return r["status"] == "found"
    except OSError:
        return False
def status_served():
    try:
        s = conn()
        s.settimeout(5)
        s.sendall(b"status\n")
        return reply(s).startswith(b"ok\n")
    except OSError:
        return False
def lookup_works():
    if not lookup_served():
        fail("a lookup failed meanwhile")
def status_works():
    if not status_served():
        fail("status failed meanwhile")
bad = 0
# Garbage bytes, an empty line, a line cut by shutdown.
for req, want in ((b"\x00\x01\xffgarbage\n", b"error bad request\n"),
                  (b"\n", b"error empty request\n"),
                  (b"\r\n", b"error empty request\n"),
                  (b"json\n", b"error empty request\n"),
                  (b"status extra\n", b"error status takes no arguments\n"),
                  (b"frobnicate\n", b"error unknown command frobnicate\n")):
    s = conn()
    s.sendall(req)
    got = reply(s)
    if got != want:
        fail("%r got %r, wanted %r" % (req, got, want))
    bad += want in (b"error bad request\n", b"error empty request\n")
s = conn()
s.sendall(b"status")
s.shutdown(socket.SHUT_WR)
if reply(s) != b"error incomplete request\n":
    fail("a half line then EOF was not refused")
bad += 1
# Oversized: far more than the line limit, never a newline.
s = conn()
try:
    s.sendall(b"a" * 65536)
except (BrokenPipeError, ConnectionResetError):
    pass
got = reply(s)
if got not in (b"", b"error request too long\n"):
    fail("oversized request got %r" % got)
bad += 1
# Silent and half-sent clients, and one that never reads its reply, up
# to the client cap; the loop must keep serving everyone else.
held = []
for i in range(20):
    s = conn()
    s.sendall(b"stat")
    held.append(s)
slow = conn()
slow.sendall(b"json top 256\n")
served = sum(lookup_served() + status_served() for _ in range(5))
if served != 10:
    fail("%d of 10 requests served while clients hung" % served)
# Over the cap (64): refused at once, the others unharmed.
extra = [conn() for _ in range(80)]
refused = 0
time.sleep(0.5)
for s in extra:
    s.setblocking(False)
    try:
        if s.recv(100) == b"error too many clients\n":
            refused += 1
    except BlockingIOError:
        pass
if refused < 80 - (64 - len(held)):
    fail("only %d connections over the cap were refused" % refused)
for s in extra:
    s.close()
lookup_works()
# The half-sent ones are closed by the daemon's read timeout (5 s).
for s in held:
    got = reply(s)
    if got not in (b"", b"error timeout\n"):
        fail("half-sent request got %r" % got)
bad += len(held)
slow.close()
status_works()
lookup_works()
print(bad)
PY
}
ok "garbage, oversized, half-sent and excess clients; lookups go on" \
	eval 'BADN=$(hostile)'
bad_counted() {
	local now
	now=$(ctl a --json stats | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["counters"]["control_bad_requests"])')
	[ "$now" -eq $((BAD0 + BADN)) ] || {
		echo "  control_bad_requests $BAD0 -> $now, wanted +$BADN" >&2
		return 1
	}
}
ok "bad requests are counted" bad_counted

finish
