#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/integration/nscd_client.py: glibc's nscd client protocol, by hand.

usage: nscd_client.py SOCKET COMMAND [ARGS]
  ai NAME | name NAME | name6 NAME | addr ADDR   one request; prints the
      response ("found 1 addrs 192.0.2.10,... canon NAME" and so on), or
      "closed" when the connection ends unanswered
  table                     GETFDHST: prints the header fields
  find TYPE KEY             GETFDHST, then looks KEY up in the table the
                            way glibc does; prints the record or "none"
  raw HEX                   sends bytes; prints "closed" or the reply's hex
  hold N SECONDS            opens N connections that send nothing, waits,
                            prints how many the daemon closed
  hold-as N SECONDS UID...  as root: N silent connections with each UID
                            in turn as the effective uid (what
                            SO_PEERCRED reports), prints "ready", waits
"""
import array
import ipaddress
import mmap
import os
import socket
import struct
import sys
import time

TYPES = {"name": 4, "name6": 5, "addr": 6, "addr6": 7, "fd": 13, "ai": 14}
HEAD = struct.Struct("=iiiiQ4I6i7Q")  # 120 bytes, nscd-client.h


def connect(path):
    # codnsd keeps the socket's accept queue short (a hung codnsd must not
    # hold many new processes): a full queue refuses at once, so a burst
    # of connections retries for at most 2 s, as a patient client would.
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    raise BlockingIOError("accept queue full for 2 s")


def request(path, rtype, key):
    s = connect(path)
    s.sendall(struct.pack("=iii", 2, rtype, len(key)) + key)
    return s


def read_all(s):
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        out += d
    return out


def key_of(kind, arg):
    if kind in ("addr", "addr6"):
        return ipaddress.ip_address(arg).packed
    return arg.encode() + b"\0"


def parse_ai(b):
    if len(b) < 24:
        return "closed" if not b else "short %d" % len(b)
    ver, found, naddrs, alen, clen, err = struct.unpack_from("=6i", b)
    if found != 1:
        return "found %d error %d" % (found, err)
    p = 24
    addrs = b[p:p + alen]
    fams = b[p + alen:p + alen + naddrs]
    canon = b[p + alen + naddrs:p + alen + naddrs + clen]
    out, o = [], 0
    for f in fams:
        n = 4 if f == socket.AF_INET else 16
        out.append(str(ipaddress.ip_address(addrs[o:o + n])))
        o += n
    if len(b) != 24 + alen + naddrs + clen or not canon.endswith(b"\0"):
        return "bad length"
    return "found 1 addrs %s canon %s" % (",".join(out),
                                          canon[:-1].decode())


def parse_hst(b):
    if len(b) < 32:
        return "closed" if not b else "short %d" % len(b)
    ver, found, nlen, nal, atype, alen, nad, err = struct.unpack_from(
        "=8i", b)
    if found != 1:
        return "found %d error %d" % (found, err)
    p = 32
    name = b[p:p + nlen]
    p += nlen
    lens = struct.unpack_from("=%di" % nal, b, p)
    p += 4 * nal
    addrs = []
    for _ in range(nad):
        addrs.append(str(ipaddress.ip_address(b[p:p + alen])))
        p += alen
    aliases = []
    for n in lens:
        aliases.append(b[p:p + n - 1].decode())
        p += n
    if p != len(b):
        return "bad length"
    return "found 1 name %s aliases %s addrs %s" % (
        name[:-1].decode(), ",".join(aliases) or "-", ",".join(addrs))


def get_table(path):
    s = request(path, 13, b"hosts\0")
    fds = array.array("i")
    msg, anc, _, _ = s.recvmsg(64, socket.CMSG_LEN(4))
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:4])
    s.close()
    if len(fds) != 1 or len(msg) != 14 or msg[:6] != b"hosts\0":
        raise SystemExit("no table: %r" % msg)
    size = struct.unpack_from("=Q", msg, 6)[0]
    st = os.fstat(fds[0])
    m = mmap.mmap(fds[0], st.st_size, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fds[0])
    return m, size, st.st_size


def sdbm(key):
    h = 0
    for c in key:
        h = (c + 65599 * h) & 0xffffffff
    return h


def find(m, rtype, key):
    h = HEAD.unpack_from(m, 0)
    module, data_size = h[9], h[10]
    arr = (module * 4 + 15) // 16 * 16
    data = 120 + arr
    work = struct.unpack_from("=I", m, 120 + 4 * (sdbm(key) % module))[0]
    for _ in range(100000):
        if work == 0xffffffff or work + 28 > data_size:
            return None
        t, first, klen, koff, owner, nxt, pkt = struct.unpack_from(
            "=BBxxiIiII", m, data + work)
        if (t == rtype and klen == len(key)
                and m[data + koff:data + koff + klen] == key):
            alloc, rec, timeout, nf, nrel, usable, _, ttl = \
                struct.unpack_from("=iiQBBBBI", m, data + pkt)
            if usable:
                return (m[data + pkt + 24:data + pkt + 24 + rec], timeout,
                        ttl, nf)
        work = nxt
    return None


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    if cmd in ("ai", "name", "name6", "addr", "addr6"):
        s = request(path, TYPES[cmd], key_of(cmd, sys.argv[3]))
        b = read_all(s)
        print(parse_ai(b) if cmd == "ai" else parse_hst(b))
    elif cmd == "table":
        m, size, st = get_table(path)
        h = HEAD.unpack_from(m, 0)
        print("version %d header %d gc %d running %d timestamp %d "
              "module %d data %d entries %d mapsize %d filesize %d now %d"
              % (h[0], h[1], h[2], h[3], h[4], h[9], h[10], h[12],
                 size, st, int(time.time())))
    elif cmd == "find":
        m, _, _ = get_table(path)
        kind = sys.argv[3]
        r = find(m, TYPES[kind], key_of(kind, sys.argv[4]))
        if r is None:
            print("none")
        else:
            rec, timeout, ttl, nf = r
            body = parse_ai(rec) if kind == "ai" else parse_hst(rec)
            print("%s timeout_in %d ttl %d" % (body,
                                              timeout - int(time.time()),
                                              ttl))
    elif cmd == "raw":
        s = connect(path)
        s.sendall(bytes.fromhex(sys.argv[3]))
        s.shutdown(socket.SHUT_WR)
        b = read_all(s)
        print(b.hex() if b else "closed")
    elif cmd == "hold":
        n, secs = int(sys.argv[3]), float(sys.argv[4])
        socks = []
        for _ in range(n):
            try:
                socks.append(connect(path))
            except OSError:
                pass
        time.sleep(secs)
        closed = 0
        for s in socks:
            s.setblocking(False)
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        print("held %d closed %d" % (len(socks), closed))
    elif cmd == "hold-as":
        n, secs = int(sys.argv[3]), float(sys.argv[4])
        socks = []
        for uid in sys.argv[5:]:
            os.seteuid(int(uid))
            try:
                for _ in range(n):
                    socks.append(connect(path))
            finally:
                os.seteuid(0)
        print("ready", flush=True)
        time.sleep(secs)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
