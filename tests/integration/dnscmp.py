#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/dnscmp.py: compare dig outputs section by section, and
# send hand-made (also malformed) DNS messages for test_stub.sh.
"""Usage:
  dnscmp.py same A.dig B.dig      rcode and answer/authority sets equal
                                  (name, type, data; each record's TTL in
                                  A at most the same record's in B)
  dnscmp.py field A.dig WHAT      print status, flags, ttl (first answer),
                                  answer (sorted rdata), names, udp, opt
  dnscmp.py udp HOST PORT KIND    send a crafted datagram; print the rcode
                                  of the reply or "none"
  dnscmp.py tcpbig HOST PORT      send a 64 KiB frame; print "closed" or
                                  "open"
  dnscmp.py burst HOST PORT N     N queries from each of 4 sockets sent at
                                  once, then read; print how many came back
                                  to the socket and id that asked
"""
import socket
import struct
import sys


def parse(path):
    out = {"status": None, "flags": set(), "sections": {}, "udp": None,
           "opt": False}
    sec = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "status:" in line:
                out["status"] = line.split("status:")[1].split(",")[0].strip()
            elif line.startswith(";; flags:"):
                out["flags"] = set(line.split(":")[1].split(";")[0].split())
            elif line.startswith("; EDNS:"):
                out["opt"] = True
                out["udp"] = line.split("udp:")[1].strip()
            elif line.startswith(";; ") and line.endswith("SECTION:"):
                sec = line[3:-len(" SECTION:")]
                out["sections"].setdefault(sec, [])
            elif line and not line.startswith(";") and sec in (
                    "ANSWER", "AUTHORITY"):
                w = line.split()
                if len(w) >= 5:
                    out["sections"][sec].append(
                        (w[0].lower(), int(w[1]), w[3], " ".join(w[4:])))
    return out


def same(a, b):
    pa, pb = parse(a), parse(b)
    ok = True
    if pa["status"] != pb["status"]:
        print("status %s != %s" % (pa["status"], pb["status"]))
        ok = False
    for sec in ("ANSWER", "AUTHORITY"):
        ra = pa["sections"].get(sec, [])
        rb = pb["sections"].get(sec, [])
        ka = sorted((n, t, d.lower()) for n, _, t, d in ra)
        kb = sorted((n, t, d.lower()) for n, _, t, d in rb)
        if ka != kb:
            print("%s differs:\n  %s\n  %s" % (sec, ka, kb))
            ok = False
        # Each record's TTL at most the same record's there: the stub
        # may send one smaller TTL for a whole answer, never a longer one.
        tb = {}
        for n, t, ty, d in rb:
            tb[(n, ty, d.lower())] = t
        for n, t, ty, d in ra:
            k = (n, ty, d.lower())
            if k in tb and t > tb[k]:
                print("%s TTL of %s %s %d above %d" % (sec, n, ty, t, tb[k]))
                ok = False
    return ok


def field(path, what):
    p = parse(path)
    ans = p["sections"].get("ANSWER", [])
    if what == "status":
        return p["status"]
    if what == "flags":
        return " ".join(sorted(p["flags"]))
    if what == "ttl":
        return str(ans[0][1]) if ans else "none"
    if what == "answer":
        return " ".join(sorted(x[3] for x in ans))
    if what == "names":
        # names as printed, case kept: read the raw lines again
        names = []
        with open(path) as f:
            sec = None
            for line in f:
                if line.startswith(";; ") and "SECTION:" in line:
                    sec = line
                elif sec and "ANSWER" in sec and line.strip() and \
                        not line.startswith(";"):
                    names.append(line.split()[0])
        return " ".join(names)
    if what == "udp":
        return p["udp"] or "none"
    if what == "opt":
        return "yes" if p["opt"] else "no"
    raise SystemExit("unknown field " + what)


def name(text):
    b = b""
    for label in text.strip(".").split("."):
        b += struct.pack("B", len(label)) + label.encode()
    return b + b"\0"


def crafted(kind):
    q = name("www.test.example") + struct.pack(">HH", 1, 1)
    if kind == "short":
        return b"\x12\x34\x01\x00\x00"
    if kind == "response":
        return struct.pack(">HHHHHH", 0x1234, 0x8100, 1, 0, 0, 0) + q
    if kind == "qdcount2":
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 2, 0, 0, 0) + q + q
    if kind == "qdcount0":
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 0, 0, 0, 0)
    if kind == "badcount":  # says one additional record, has none
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 1) + q
    if kind == "loop":  # the name points at itself
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
            b"\xc0\x0c" + struct.pack(">HH", 1, 1)
    if kind == "loop2":  # a label, then a pointer back to that label
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
            b"\x01a\xc0\x0c" + struct.pack(">HH", 1, 1)
    if kind == "forward":  # a pointer past the end
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
            b"\xc0\xff" + struct.pack(">HH", 1, 1)
    if kind == "truncname":
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
            b"\x3fabc"
    if kind == "huge":  # a query padded past the longest one taken (4096)
        return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + q + \
            b"\0" * 5000
    if kind == "notify":  # opcode 4
        return struct.pack(">HHHHHH", 0x1234, 0x2000, 1, 0, 0, 0) + q
    raise SystemExit("unknown kind " + kind)


def udp(host, port, kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(crafted(kind), (host, int(port)))
    try:
        r = s.recv(65535)
    except socket.timeout:
        return "none"
    if len(r) < 12:
        return "short"
    idv, flags = struct.unpack(">HH", r[:4])
    if idv != 0x1234:
        return "badid"
    return ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
            "REFUSED"][flags & 0xf] if (flags & 0xf) < 6 else str(flags & 0xf)


def burst(host, port, n):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
    q = name("www.test.example") + struct.pack(">HH", 1, 1)
    for k, s in enumerate(socks):
        for i in range(n):
            s.sendto(struct.pack(">HHHHHH", k * 1000 + i, 0x0100, 1, 0, 0, 0)
                     + q, (host, int(port)))
    good = 0
    for k, s in enumerate(socks):
        seen = set()
        s.settimeout(2.0)
        for _ in range(n):
            try:
                r = s.recv(65535)
            except socket.timeout:
                break
            idv = struct.unpack(">H", r[:2])[0]
            if k * 1000 <= idv < k * 1000 + n and idv not in seen:
                seen.add(idv)
                good += 1
        s.close()
    return good


def tcpbig(host, port):
    s = socket.create_connection((host, int(port)), 2)
    s.settimeout(3.0)
    try:
        s.sendall(struct.pack(">H", 65535) + b"\0" * 65535)
    except OSError:
        return "closed"
    try:
        return "closed" if s.recv(65535) == b"" else "open"
    except (socket.timeout, OSError) as e:
        return "closed" if not isinstance(e, socket.timeout) else "open"


def main():
    a = sys.argv[1:]
    if a and a[0] == "same" and len(a) == 3:
        sys.exit(0 if same(a[1], a[2]) else 1)
    if a and a[0] == "field" and len(a) == 3:
        print(field(a[1], a[2]))
        return
    if a and a[0] == "udp" and len(a) == 4:
        print(udp(a[1], a[2], a[3]))
        return
    if a and a[0] == "burst" and len(a) == 4:
        print(burst(a[1], a[2], int(a[3])))
        sys.exit(0)
    if a and a[0] == "tcpbig" and len(a) == 3:
        print(tcpbig(a[1], a[2]))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
