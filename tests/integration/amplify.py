#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/amplify.py: one source floods a DNS server over UDP
# and measures what comes back, as an amplification attack would.
# usage: amplify.py SERVER PORT SOURCE COUNT QTYPE NAME|random:PARENT
#        [gap=MS] [stepwise] [tcp-retry]
#   Sends COUNT queries for NAME (or random names under NAME's parent
#   with "random:PARENT") of QTYPE (TXT, A, ANY, ...) with EDNS 4096 from
#   SOURCE as fast as it can, reading answers meanwhile, then waits 1 s.
#   With gap=MS, a pause of MS ms (reading answers) after every 32
#   queries: a steady flood rather than one burst that overflows the
#   server's socket buffer.
#   With "stepwise", each query waits for its answer (1 s, 3 tries, as a
#   resolver does) before the next goes: answers counts the questions
#   answered, whatever a busy socket buffer dropped on the way.
#   Prints "sent=N in=BYTES answers=N tc=N out=BYTES factor=F" (factor:
#   bytes received / bytes sent). With "tcp-retry", then asks NAME once
#   over UDP until an answer with TC comes (at most 200 tries) and that
#   question over TCP from SOURCE, and prints "retry=ok" when TCP gave a
#   whole answer with records.
# Bounded: at most COUNT + 200 datagrams, and a few seconds of waiting.
import os
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
         "TXT": 16, "AAAA": 28, "SRV": 33, "ANY": 255}


def query(qid, name, qtype):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    # OPT: payload size 4096
    q += b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)
    return q


def name_of(spec, i):
    if spec.startswith("random:"):
        return "r%s-%d.%s" % (os.urandom(4).hex(), i, spec[7:])
    return spec


def drain(u, stats, wait):
    while True:
        r, _, _ = select.select([u], [], [], wait)
        if not r:
            return
        try:
            m = u.recv(65535)
        except BlockingIOError:
            return
        stats["answers"] += 1
        stats["out"] += len(m)
        if len(m) >= 4 and m[2] & 0x02:
            stats["tc"] += 1
        wait = 0


def stepwise(u, server, port, count, qtype, spec):
    stats = {"answers": 0, "out": 0, "tc": 0}
    sent = nbytes = 0
    for i in range(count):
        qid = i & 0xffff
        q = query(qid, name_of(spec, i), qtype)
        for _ in range(3):
            u.sendto(q, (server, port))
            sent += 1
            nbytes += len(q)
            if wait_id(u, qid, stats):
                stats["answers"] += 1
                break
    print("sent=%d in=%d answers=%d tc=%d out=%d factor=%.2f" % (
        sent, nbytes, stats["answers"], stats["tc"], stats["out"],
        stats["out"] / nbytes if nbytes else 0), flush=True)


def wait_id(u, qid, stats):
    """Read answers for 1 s at most until the one with qid comes."""
    end = time.time() + 1.0
    while time.time() < end:
        if not select.select([u], [], [], max(0, end - time.time()))[0]:
            return False
        try:
            m = u.recv(65535)
        except BlockingIOError:
            continue
        stats["out"] += len(m)
        if len(m) >= 4 and struct.unpack(">H", m[:2])[0] == qid:
            if m[2] & 0x02:
                stats["tc"] += 1
            return True
    return False


def tcp_retry(server, port, source, name, qtype):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((source, 0))
    u.settimeout(0.2)
    for i in range(200):
        u.sendto(query(i, name, qtype), (server, port))
        try:
            m = u.recv(65535)
        except socket.timeout:
            continue
        if m[2] & 0x02:
            break
    else:
        return "no-tc"
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.settimeout(5)
    t.bind((source, 0))
    t.connect((server, port))
    q = query(7, name, qtype)
    t.sendall(struct.pack(">H", len(q)) + q)
    got = b""
    while len(got) < 2 or len(got) < 2 + struct.unpack(">H", got[:2])[0]:
        b = t.recv(65535)
        if not b:
            break
        got += b
    ancount = struct.unpack(">H", got[8:10])[0] if len(got) >= 10 else 0
    return "ok" if ancount > 0 and not got[4] & 0x02 else "bad"


def main():
    server, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, qtype, spec = int(sys.argv[4]), TYPES[sys.argv[5]], sys.argv[6]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for every answer, so that none is lost here (root may force it).
    try:
        u.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
    except OSError:
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    u.bind((source, 0))
    u.setblocking(False)
    flags = sys.argv[7:]
    gap = 0
    for f in flags:
        if f.startswith("gap="):
            gap = float(f[4:]) / 1000
    stats = {"answers": 0, "out": 0, "tc": 0}
    sent = nbytes = 0
    if "stepwise" in flags:
        stepwise(u, server, port, count, qtype, spec)
        return
    for i in range(count):
        q = query(i & 0xffff, name_of(spec, i), qtype)
        try:
            u.sendto(q, (server, port))
        except BlockingIOError:
            drain(u, stats, 0.01)
            continue
        sent += 1
        nbytes += len(q)
        if gap and i % 32 == 31:
            end = time.time() + gap
            while time.time() < end:
                drain(u, stats, max(0, end - time.time()))
        elif i % 16 == 15:
            drain(u, stats, 0)
    drain(u, stats, 1.0)
    print("sent=%d in=%d answers=%d tc=%d out=%d factor=%.2f" % (
        sent, nbytes, stats["answers"], stats["tc"], stats["out"],
        stats["out"] / nbytes if nbytes else 0), flush=True)
    if "tcp-retry" in flags:
        print("retry=%s" % tcp_retry(server, port, source, spec, qtype))


if __name__ == "__main__":
    main()
