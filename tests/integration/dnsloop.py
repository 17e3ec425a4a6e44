#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/dnsloop.py: steady DNS queries over UDP for restart
# tests. Sends a query for NAME (type A) to HOST:PORT every GAP_MS, with
# up to 50 outstanding, for SECONDS (or until the file STOP appears), then
# waits up to 5 s for the last answers. Prints "sent N answered M lost L
# servfail S". A query is lost when no answer came within 5 s.
import os
import random
import select
import socket
import struct
import sys
import time

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seconds, gap = float(sys.argv[4]), float(sys.argv[5]) / 1000
stop = sys.argv[6] if len(sys.argv) > 6 else None
qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
pending = {}
sent = answered = servfail = 0
now = time.monotonic()
end, nxt = now + seconds, now
ids = random.sample(range(65536), 65536)


def drain(timeout):
    global answered, servfail
    r, _, _ = select.select([s], [], [], timeout)
    while r:
        try:
            msg = s.recv(4096)
        except OSError:
            return
        qid, flags = struct.unpack("!HH", msg[:4])
        if qid in pending:
            del pending[qid]
            answered += 1
            servfail += (flags & 0xF) != 0
        r, _, _ = select.select([s], [], [], 0)


while time.monotonic() < end and not (stop and os.path.exists(stop)):
    now = time.monotonic()
    if now >= nxt and len(pending) < 50 and sent < len(ids):
        qid = ids[sent]
        s.send(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname +
               struct.pack("!HH", 1, 1))
        pending[qid] = now
        sent += 1
        nxt += gap
    drain(max(0.0, min(nxt - time.monotonic(), 0.01)))
    for qid in [q for q, t in pending.items() if now - t > 5]:
        del pending[qid]
last = time.monotonic() + 5
while pending and time.monotonic() < last:
    drain(0.05)
print("sent %d answered %d lost %d servfail %d" %
      (sent, answered, sent - answered, servfail))
