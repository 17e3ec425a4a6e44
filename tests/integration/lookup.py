#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/lookup.py: a raw lookup-protocol client for tests
# (pipelining, garbage frames) that codnsctl cannot send, and the probes
# that the test and benchmark scripts share (free ports, control socket).
import json
import socket
import struct
import sys

FAM = {"unspec": 0, "4": 4, "6": 6}
STATUS = ["found", "notfound", "nodata", "tryagain", "unavail"]
SOURCE = ["none", "cache", "local", "peer"]


def request(rid, name=None, family=0, addr=None):
    if addr is not None:
        fam = 4 if len(addr) == 4 else 6
        body = struct.pack("!BBIBB", 1, 1, rid, 1, fam) + addr
    else:
        n = name.encode()
        body = struct.pack("!BBIBBB", 1, 1, rid, 0, family, len(n)) + n
    return struct.pack("!H", len(body)) + body


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("connection closed")
        out += chunk
    return out


def _str8(p, off):
    n = p[off]
    return p[off + 1:off + 1 + n].decode(), off + 1 + n


def response(s):
    (n,) = struct.unpack("!H", recv_exact(s, 2))
    p = recv_exact(s, n)
    _, _, rid, status, source, ttl, lat = struct.unpack("!BBIBBII", p[:16])
    peer, off = _str8(p, 16)
    cname, off = _str8(p, off)
    aliases = []
    count = p[off]
    off += 1
    for _ in range(count):
        a, off = _str8(p, off)
        aliases.append(a)
    addrs = []
    count = p[off]
    off += 1
    for _ in range(count):
        fam = p[off]
        ln = 4 if fam == 4 else 16
        af = socket.AF_INET if fam == 4 else socket.AF_INET6
        addrs.append(socket.inet_ntop(af, p[off + 1:off + 1 + ln]))
        off += 1 + ln
    return {"id": rid, "status": STATUS[status], "source": SOURCE[source],
            "ttl": ttl, "latency_us": lat, "peer": peer, "cname": cname,
            "aliases": aliases, "addrs": addrs}


def answer(rid, addrs, ttl=300, status=0):
    """A found response for rid with the given IPv4 addresses."""
    body = struct.pack("!BBIBBII", 1, 2, rid, status, 2, ttl, 1000)
    body += b"\x00\x00\x00"  # no peer, no canonical name, no aliases
    body += bytes([len(addrs)])
    for a in addrs:
        body += b"\x04" + socket.inet_aton(a)
    return struct.pack("!H", len(body)) + body


def connect(addr):
    """A lookup socket path (starting with /) or HOST:PORT."""
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(addr)
        return s
    host, port = addr.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def answered(where, n, src=None):
    """N lookups of www.test.example, one connection each (from source
    address src on TCP when given): how many were answered "found"."""
    ok = 0
    for i in range(n):
        try:
            if src:
                host, port = where.rsplit(":", 1)
                s = socket.socket()
                s.settimeout(5)
                s.bind((src, 0))
                s.connect((host, int(port)))
            else:
                s = connect(where)
            s.sendall(request(i + 1, "www.test.example", 4))
            if response(s)["status"] == "found":
                ok += 1
            s.close()
        except (OSError, EOFError):
            pass
    return ok


def free_port(addr):
    """A port free for both TCP and UDP on addr."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((addr, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((addr, port))
        except OSError:
            t.close()
            continue
        t.close()
        u.close()
        return port
    raise SystemExit("no free port")


def control(sock, cmd, timeout=10):
    """codnsctl --json CMD over the control socket sock: the parsed reply.
    Raises OSError if the socket fails, RuntimeError unless it says ok."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        s.sendall(("json %s\n" % cmd).encode())
        out = b""
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            out += d
    finally:
        s.close()
    head, _, body = out.partition(b"\n")
    if head != b"ok":
        raise RuntimeError(out[:200])
    return json.loads(body)


if __name__ == "__main__" and sys.argv[1] == "--free-port":
    print(free_port(sys.argv[2]))
elif __name__ == "__main__" and sys.argv[1] == "--answered":
    print(answered(sys.argv[2], int(sys.argv[3]),
                   sys.argv[4] if len(sys.argv) > 4 else None))
elif __name__ == "__main__":
    s = connect(sys.argv[1])
    fam = FAM[sys.argv[3] if len(sys.argv) > 3 else "unspec"]
    s.sendall(request(7, sys.argv[2], fam))
    print(response(s))
